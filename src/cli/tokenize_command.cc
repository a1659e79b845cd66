// costroute tokenize: the tokens scikit-learn's default analyzer would see,
// one {"id", "tokens"} line per input record; for checking parity and
// debugging a vocabulary.
#include "cli/commands.h"
#include "cli/flags.h"
#include "costroute/internal/status_macros.h"
#include "costroute/text.h"
#include "io/json_writer.h"

namespace costroute::cli {

absl::Status tokenize_command(const Args& args) {
  COSTROUTE_ASSIGN_OR_RETURN(Flags flags, Flags::parse(args, {"data"}, {"no-lowercase"}));
  COSTROUTE_ASSIGN_OR_RETURN(std::string data_path, flags.required("data"));
  COSTROUTE_ASSIGN_OR_RETURN(JsonlReader in, JsonlReader::open(data_path));
  const bool lowercase = !flags.has("no-lowercase");
  TokenBuffer tokens;
  Output out;
  while (true) {
    COSTROUTE_ASSIGN_OR_RETURN(bool more, in.next());
    if (!more) break;
    COSTROUTE_ASSIGN_OR_RETURN(std::string id, record_id(in));
    COSTROUTE_ASSIGN_OR_RETURN(std::string_view query, in.string_field("query"));
    tokenize(query, lowercase, tokens);
    std::string& line = out.buffer();
    line += "{\"id\":";
    line += id;
    line += ",\"tokens\":[";
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0) line.push_back(',');
      internal::append_json_string(line, tokens[i]);
    }
    line += "]}\n";
    out.maybe_flush();
  }
  return absl::OkStatus();
}

}  // namespace costroute::cli
