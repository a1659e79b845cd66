// Helpers shared by the subcommands.
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "costroute/internal/status_macros.h"
#include "costroute/signals.h"
#include "io/file_util.h"

namespace costroute::cli {

void warn_if_model_unused(std::string_view command, bool model_given, size_t routed, bool scored) {
  if (!model_given || routed == 0 || scored) return;
  std::fprintf(stderr,
               "costroute %.*s: warning: --model was not used: no policy of the config asked for the classifier's "
               "score on these %zu requests\n",
               static_cast<int>(command.size()), command.data(), routed);
}

absl::Status refuse_flags(const Flags& flags, const std::vector<std::string_view>& names,
                          std::string_view why) {
  for (std::string_view name : names) {
    if (flags.has(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", internal::to_absl(name), " does not apply ", internal::to_absl(why)));
    }
  }
  return absl::OkStatus();
}

absl::Status check_output(const Flags& flags, std::string_view output,
                          std::initializer_list<std::string_view> inputs) {
  const std::optional<std::string> written = flags.get(output);
  if (!written) return absl::OkStatus();
  // Only a file can be overwritten: a terminal or socket that is both
  // standard input and output (--data -) is not.
  struct stat st {};
  const bool file = ::stat(written->c_str(), &st) == 0 && S_ISREG(st.st_mode);
  for (std::string_view input : inputs) {
    if (*written == "-") break;  // check_writable's error: "-" is no file to write
    COSTROUTE_ASSIGN_OR_RETURN(const std::vector<std::string> paths, flags.list(input));
    for (const std::string& path : paths) {
      if (file && internal::same_file(*written, path)) {
        return absl::InvalidArgumentError(absl::StrCat("--", internal::to_absl(output), " ", *written,
                                                       " is also the --", internal::to_absl(input),
                                                       " file; not overwriting it"));
      }
    }
  }
  return internal::check_writable(*written);
}

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

absl::Status read_context(const JsonlReader& in, bool explain, const Model* model, OwnedContext& out) {
  out = OwnedContext{};
  Context& c = out.context;
  auto text = [&](std::string_view field, std::string& into, std::string_view& view) -> absl::Status {
    if (!in.has_field(field)) return absl::OkStatus();
    COSTROUTE_ASSIGN_OR_RETURN(std::string_view s, in.string_field(field));
    into = std::string(s);
    view = into;
    return absl::OkStatus();
  };
  COSTROUTE_RETURN_IF_ERROR(text("user_id", out.user_id, c.user_id));
  COSTROUTE_RETURN_IF_ERROR(text("session_id", out.session_id, c.session_id));
  COSTROUTE_RETURN_IF_ERROR(text("user_tier", out.user_tier, c.user_tier));
  COSTROUTE_RETURN_IF_ERROR(text("task_type", out.task_type, c.task_type));
  COSTROUTE_RETURN_IF_ERROR(text("domain", out.domain, c.domain));
  // The router ignores a hint it does not know (detection decides); in a
  // data file it is a mistake to report ("CODE" for "code").
  auto one_of = [](const auto& names) {
    std::string list;
    for (std::string_view name : names) absl::StrAppend(&list, list.empty() ? "" : ", ", internal::to_absl(name));
    return list;
  };
  TaskType task;
  if (!c.task_type.empty() && !parse_task_type(c.task_type, task)) {
    return in.error(absl::StrCat("field \"task_type\": expected one of ", one_of(kTaskTypeNames)));
  }
  Domain domain;
  if (!c.domain.empty() && !parse_domain(c.domain, domain)) {
    return in.error(absl::StrCat("field \"domain\": expected one of ", one_of(kDomainNames)));
  }
  COSTROUTE_RETURN_IF_ERROR(text("requested_model", out.requested_model, c.requested_model));
  COSTROUTE_RETURN_IF_ERROR(text("trace_id", out.trace_id, c.trace_id));
  COSTROUTE_RETURN_IF_ERROR(text("session_model", out.session_model, c.session_model));
  if (in.has_field("modality")) {
    COSTROUTE_ASSIGN_OR_RETURN(std::string_view modality, in.string_field("modality"));
    if (modality == "image") {
      c.images = 1;
    } else if (modality == "audio") {
      c.audio_clips = 1;
    } else if (modality != "text") {
      return in.error("field \"modality\": expected \"text\", \"image\" or \"audio\"");
    }
  }
  auto count = [&](std::string_view field, int& into) -> absl::Status {
    if (!in.has_field(field)) return absl::OkStatus();
    COSTROUTE_ASSIGN_OR_RETURN(double n, in.number_field(field));
    if (!(n >= 0 && n <= 1e6) || n != static_cast<int>(n)) {
      return in.error(absl::StrCat("field \"", internal::to_absl(field), "\": expected a whole number in [0, 1000000]"));
    }
    into = static_cast<int>(n);
    return absl::OkStatus();
  };
  COSTROUTE_RETURN_IF_ERROR(count("images", c.images));
  COSTROUTE_RETURN_IF_ERROR(count("audio_clips", c.audio_clips));
  if (in.has_field("remaining_budget_usd")) {
    COSTROUTE_ASSIGN_OR_RETURN(double budget, in.number_field("remaining_budget_usd"));
    c.remaining_budget_usd = budget;
  }
  if (in.has_field("expected_output_tokens")) {
    int tokens = 0;
    COSTROUTE_RETURN_IF_ERROR(count("expected_output_tokens", tokens));
    c.expected_output_tokens = tokens;
  }
  if (in.has_field("request_time_ms")) {
    COSTROUTE_ASSIGN_OR_RETURN(double ms, in.number_field("request_time_ms"));
    if (!(std::fabs(ms) <= 1e15) || ms != std::floor(ms)) {  // about 31,000 years either side of 1970
      return in.error("field \"request_time_ms\": expected whole milliseconds since 1970 within +-1e15");
    }
    c.request_time_ms = static_cast<int64_t>(ms);
  }
  if (in.has_field("earlier_turns")) {
    COSTROUTE_ASSIGN_OR_RETURN(out.turns, in.string_array_field("earlier_turns"));
    for (const std::string& t : out.turns) out.turn_views.push_back(t);
    c.earlier_turns = out.turn_views;
  }
  if (in.has_field("tags")) {
    COSTROUTE_ASSIGN_OR_RETURN(auto tags, in.string_map_field("tags"));
    out.tags = std::move(tags);
  }
  // The model's context features that the request leaves empty (no Context
  // field or tag of that name) come from the record's field at that path,
  // as `score` and `eval --model` read them.
  if (model != nullptr) {
    for (const ContextFeature& feature : model->context_features()) {
      const std::string& field = feature.field;
      const bool given = std::any_of(out.tags.begin(), out.tags.end(), [&](const auto& t) { return t.first == field; }) ||
                         !Router::context_value(c, field).empty();
      if (is_signal_feature(field) || given || !in.has_field(field)) continue;
      COSTROUTE_ASSIGN_OR_RETURN(std::string value, in.category_field(field));
      out.tags.emplace_back(field, std::move(value));
    }
  }
  for (const auto& [k, v] : out.tags) out.tag_views.push_back(Tag{k, v});
  c.tags = out.tag_views;
  c.explain = explain;
  return absl::OkStatus();
}

}  // namespace costroute::cli
