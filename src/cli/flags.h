// Private: the command line flags of one `costroute` subcommand.
#ifndef COSTROUTE_SRC_CLI_FLAGS_H_
#define COSTROUTE_SRC_CLI_FLAGS_H_

#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace costroute::cli {

// Flags are "--name value", "--name=value" or, for switches, "--name". A
// value that starts with "--" must be given as "--name=--value", so that a
// forgotten value ("--out --binary") is an error, not a file named --binary.
// No flag takes an empty value ("--out ''"): that is an error too.
// Errors name the flag: "--C: expected a number, got \"abc\"".
// A whole string as a finite decimal number: no hexadecimal ("0x10"), no
// "inf" or "nan", nothing before or after it.
bool parse_decimal(std::string_view text, double& out);

class Flags {
 public:
  [[nodiscard]] static absl::StatusOr<Flags> parse(
      const std::vector<std::string>& args, std::span<const std::string_view> value_flags,
      std::span<const std::string_view> switches);
  [[nodiscard]] static absl::StatusOr<Flags> parse(
      const std::vector<std::string>& args, std::initializer_list<std::string_view> value_flags,
      std::initializer_list<std::string_view> switches) {
    return parse(args, std::span<const std::string_view>(value_flags.begin(), value_flags.size()),
                 std::span<const std::string_view>(switches.begin(), switches.size()));
  }

  bool has(std::string_view name) const;
  std::optional<std::string> get(std::string_view name) const;
  [[nodiscard]] absl::StatusOr<std::string> required(std::string_view name) const;
  [[nodiscard]] absl::StatusOr<int64_t> integer(std::string_view name, int64_t fallback,
                                                int64_t min, int64_t max) const;
  [[nodiscard]] absl::StatusOr<double> number(std::string_view name, double fallback) const;
  // "1,2" -> {1, 2}.
  [[nodiscard]] absl::StatusOr<std::pair<int, int>> pair(std::string_view name,
                                                         std::pair<int, int> fallback) const;
  // "a,b.c" -> {"a", "b.c"}; absent: none (parse() refuses an empty
  // value). InvalidArgument for an empty entry ("a,,b", "a,") or one given
  // twice.
  [[nodiscard]] absl::StatusOr<std::vector<std::string>> list(std::string_view name) const;

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace costroute::cli

#endif  // COSTROUTE_SRC_CLI_FLAGS_H_
