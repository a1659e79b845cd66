// costroute signals: what the router sees in each query (task type, domain,
// script, tokens, reasoning hits, code, complexity), one JSON line per
// input record; for debugging decisions and measuring detection.
#include "cli/commands.h"
#include "cli/flags.h"
#include "costroute/internal/status_macros.h"
#include "costroute/signals.h"
#include "io/json_writer.h"

namespace costroute::cli {

absl::Status signals_command(const Args& args) {
  COSTROUTE_ASSIGN_OR_RETURN(Flags flags, Flags::parse(args, {"data"}, {}));
  COSTROUTE_ASSIGN_OR_RETURN(std::string data_path, flags.required("data"));
  COSTROUTE_ASSIGN_OR_RETURN(JsonlReader in, JsonlReader::open(data_path));
  const SignalExtractor extractor;
  TextScratch scratch;
  Output out;
  internal::JsonWriter w;
  while (true) {
    COSTROUTE_ASSIGN_OR_RETURN(bool more, in.next());
    if (!more) break;
    COSTROUTE_ASSIGN_OR_RETURN(std::string id, record_id(in));
    COSTROUTE_ASSIGN_OR_RETURN(std::string_view query, in.string_field("query"));
    SignalExtractor::prepare(query, scratch);
    const Signals s = extractor.extract(query, Context{}, scratch);
    w.clear();
    w.begin_object()
        .key("id").raw(id)
        .key("task_type").value(name_of(s.task_type))
        .key("domain").value(name_of(s.domain))
        .key("script").value(name_of(s.script))
        .key("tokens").value(s.tokens)
        .key("words").value(s.words)
        .key("reasoning_hits").value(s.reasoning_hits)
        .key("has_question").value(s.has_question)
        .key("has_code").value(s.has_code)
        .key("complexity").value(s.complexity)
        .end_object();
    out.buffer() += w.str();
    out.buffer() += '\n';
    out.maybe_flush();
  }
  return absl::OkStatus();
}

}  // namespace costroute::cli
