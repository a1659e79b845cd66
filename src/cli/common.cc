// Helpers shared by the subcommands.
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "costroute/internal/status_macros.h"

namespace costroute::cli {

absl::StatusOr<std::string> record_id(const JsonlReader& in) {
  if (!in.has_field("id")) return absl::StrCat(in.line_number());
  COSTROUTE_ASSIGN_OR_RETURN(std::string id, in.json_field("id"));
  if (id.empty() || id[0] == '{' || id[0] == '[' || id == "null" ||
      id == "true" || id == "false") {
    return in.error("field \"id\": expected a string or a number");
  }
  return id;
}

void Output::flush() {
  std::fwrite(buffer_.data(), 1, buffer_.size(), stdout);
  std::fflush(stdout);
  buffer_.clear();
}

}  // namespace costroute::cli
