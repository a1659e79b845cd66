// costroute score: one {"id", "p_small_ok"} line per input record, in order.
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/training_flags.h"
#include "costroute/internal/status_macros.h"
#include "io/json_writer.h"

namespace costroute::cli {

absl::Status score_command(const Args& args) {
  COSTROUTE_ASSIGN_OR_RETURN(Flags flags, Flags::parse(args, {"model", "data"}, {}));
  COSTROUTE_ASSIGN_OR_RETURN(std::string model_path, flags.required("model"));
  COSTROUTE_ASSIGN_OR_RETURN(std::string data_path, flags.required("data"));
  COSTROUTE_ASSIGN_OR_RETURN(Model model, load_model(model_path));
  COSTROUTE_ASSIGN_OR_RETURN(JsonlReader in, JsonlReader::open(data_path));
  // The model's context fields, read from each record ("meta.subset").
  std::vector<std::string> fields;
  for (const ContextFeature& c : model.context_features()) fields.push_back(c.field);
  std::vector<bool> seen(fields.size(), false);  // whether any record had the field
  bool any = false;
  TextScratch scratch;
  Output out;
  while (true) {
    COSTROUTE_ASSIGN_OR_RETURN(bool more, in.next());
    if (!more) break;
    COSTROUTE_ASSIGN_OR_RETURN(std::string id, record_id(in));
    COSTROUTE_ASSIGN_OR_RETURN(std::string_view query, in.string_field("query"));
    COSTROUTE_ASSIGN_OR_RETURN(std::vector<std::string> context, context_values(in, query, fields));
    any = true;
    for (size_t f = 0; f < fields.size(); ++f) seen[f] = seen[f] || !context[f].empty();
    const double p = model.p_small_ok(query, views(context), scratch);
    std::string& line = out.buffer();
    line += "{\"id\":";
    line += id;
    line += ",\"p_small_ok\":";
    internal::append_json_number(line, p);
    line += "}\n";
    out.maybe_flush();
  }
  for (size_t f = 0; f < fields.size(); ++f) {
    if (any && !seen[f]) warn_context_field_unseen("costroute score", fields[f]);
  }
  return absl::OkStatus();
}

}  // namespace costroute::cli
