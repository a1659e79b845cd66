#include "cli/flags.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "costroute/internal/status_macros.h"

namespace costroute::cli {

using internal::to_absl;

absl::StatusOr<Flags> Flags::parse(const std::vector<std::string>& args,
                                   std::span<const std::string_view> value_flags,
                                   std::span<const std::string_view> switches) {
  Flags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument \"", arg, "\" (flags start with --)"));
    }
    const size_t equals = arg.find('=');
    const std::string name = arg.substr(2, equals == std::string::npos ? std::string::npos : equals - 2);
    bool takes_value = false, is_switch = false;
    for (std::string_view f : value_flags) takes_value = takes_value || f == name;
    for (std::string_view f : switches) is_switch = is_switch || f == name;
    if (!takes_value && !is_switch) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    if (flags.values_.count(name) > 0) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " given twice"));
    }
    if (is_switch) {
      if (equals != std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " takes no value"));
      }
      flags.values_[name] = "";
      continue;
    }
    if (equals != std::string::npos) {
      flags.values_[name] = arg.substr(equals + 1);
    } else if (i + 1 < args.size() && args[i + 1].compare(0, 2, "--") == 0) {
      // "--out --binary": the value was forgotten; taking the next flag
      // for it would write a file named "--binary".
      return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value, got the flag ", args[i + 1],
                                                     " (write --", name, "=", args[i + 1], " if that is the value)"));
    } else if (i + 1 < args.size()) {
      flags.values_[name] = args[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
    }
    // No flag takes an empty value; one given empty ("--context-fields
    // \"$UNSET\"") must not act as if it were left out.
    if (flags.values_[name].empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, ": empty value (leave the flag out for its default)"));
    }
  }
  return flags;
}

bool Flags::has(std::string_view name) const { return values_.find(name) != values_.end(); }

std::optional<std::string> Flags::get(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<std::string> Flags::required(std::string_view name) const {
  auto value = get(name);
  if (!value) {
    return absl::InvalidArgumentError(absl::StrCat("missing --", to_absl(name)));
  }
  return *value;
}

absl::StatusOr<int64_t> Flags::integer(std::string_view name, int64_t fallback,
                                       int64_t min, int64_t max) const {
  auto value = get(name);
  if (!value) return fallback;
  // Digits with an optional minus sign, nothing else: from_chars takes no
  // space or plus sign, and says when the number is out of int64's range.
  int64_t n = 0;
  const char* end = value->data() + value->size();
  const auto [stop, error] = std::from_chars(value->data(), end, n);
  if (error == std::errc::result_out_of_range && stop == end) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", to_absl(name), ": expected a value in [", min, ", ", max, "], got ", *value));
  }
  if (error != std::errc() || stop != end) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", to_absl(name), ": expected a whole number, got \"", *value, "\""));
  }
  if (n < min || n > max) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", to_absl(name), ": expected a value in [", min, ", ", max, "], got ", n));
  }
  return n;
}

bool parse_decimal(std::string_view text, double& out) {
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, out, std::chars_format::general);
  return !text.empty() && error == std::errc() && stop == end && std::isfinite(out);
}

absl::StatusOr<double> Flags::number(std::string_view name, double fallback) const {
  auto value = get(name);
  if (!value) return fallback;
  double d = 0.0;
  if (!parse_decimal(*value, d)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", to_absl(name), ": expected a number, got \"", *value, "\""));
  }
  return d + 0.0;  // -0 as 0: no output shows "-0"
}

absl::StatusOr<std::pair<int, int>> Flags::pair(std::string_view name,
                                                std::pair<int, int> fallback) const {
  auto value = get(name);
  if (!value) return fallback;
  std::vector<std::string> parts = absl::StrSplit(*value, ',');
  auto whole = [](const std::string& text, int& out) {
    const auto [stop, error] = std::from_chars(text.data(), text.data() + text.size(), out);
    return !text.empty() && error == std::errc() && stop == text.data() + text.size();
  };
  int a = 0, b = 0;
  if (parts.size() != 2 || !whole(parts[0], a) || !whole(parts[1], b)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", to_absl(name), ": expected two whole numbers such as 1,2, got \"",
        *value, "\""));
  }
  return std::make_pair(a, b);
}

absl::StatusOr<std::vector<std::string>> Flags::list(std::string_view name) const {
  auto value = get(name);
  if (!value) return std::vector<std::string>();
  std::vector<std::string> entries = absl::StrSplit(*value, ',');
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", to_absl(name), ": an empty entry in \"", *value, "\" (entries are separated by commas)"));
    }
    for (size_t j = 0; j < i; ++j) {
      if (entries[j] == entries[i]) {
        return absl::InvalidArgumentError(absl::StrCat("--", to_absl(name), ": ", entries[i], " given twice"));
      }
    }
  }
  return entries;
}

}  // namespace costroute::cli
