// costroute route: one decision per request, with any router config.
//
// Reads JSONL requests ({"id", "query", "user_id", "user_tier", "task_type",
// "modality", "requested_model", ...}, docs/cli.md) and prints one JSON line
// per request: {"id", "model", "tier", "policy", "reason", "fallbacks",
// "estimated_cost_usd", "arm", ...}. With --format table, a readable table
// and the estimated cost against always using the strongest model.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "costroute/internal/status_macros.h"
#include "io/json_writer.h"

namespace costroute::cli {
absl::Status route_command(const Args& args) {
  COSTROUTE_ASSIGN_OR_RETURN(
      Flags flags, Flags::parse(args, {"config", "data", "model", "format"}, {"explain"}));
  COSTROUTE_ASSIGN_OR_RETURN(std::string config_path, flags.required("config"));
  const std::string data_path = flags.get("data").value_or("-");
  const std::string format = flags.get("format").value_or("jsonl");
  if (format != "jsonl" && format != "table") {
    return absl::InvalidArgumentError("--format: expected jsonl or table");
  }
  if (format == "table") {
    COSTROUTE_RETURN_IF_ERROR(refuse_flags(flags, {"explain"}, "with --format table, which has no room for traces"));
  }
  std::shared_ptr<const Model> model;
  if (auto model_path = flags.get("model")) {
    COSTROUTE_ASSIGN_OR_RETURN(Model m, load_model(*model_path));
    model = std::make_shared<const Model>(std::move(m));
  }
  COSTROUTE_ASSIGN_OR_RETURN(std::shared_ptr<const Router> router, load_router(config_path, model));
  COSTROUTE_ASSIGN_OR_RETURN(JsonlReader in, JsonlReader::open(data_path));
  const bool table = format == "table";
  const bool explain = flags.has("explain");
  const Catalog& catalog = router->catalog();
  const ModelInfo& strongest = catalog[catalog.strongest()];
  bool baseline_moved = false;  // some request always-strongest would send elsewhere

  Output out;
  OwnedContext owned;
  internal::JsonWriter w;
  double total = 0.0, baseline = 0.0;
  size_t n = 0;
  bool scored = false;  // whether any request was scored by the classifier
  std::vector<size_t> per_tier(static_cast<size_t>(router->catalog().max_tier()) + 1, 0);
  if (table) {
    out.buffer() += absl::StrFormat("%-5s %-24s %-4s %-48s %10s  %s\n", "id", "model", "tier",
                                    "reason", "est. USD", "query");
  }
  while (true) {
    COSTROUTE_ASSIGN_OR_RETURN(bool more, in.next());
    if (!more) break;
    COSTROUTE_ASSIGN_OR_RETURN(std::string id, record_id(in));
    COSTROUTE_ASSIGN_OR_RETURN(std::string_view query, in.string_field("query"));
    COSTROUTE_RETURN_IF_ERROR(read_context(in, explain, router->model(), owned));
    const Decision d = router->route(query, owned.context);
    const int64_t out_tokens =
        owned.context.expected_output_tokens.value_or(router->options().default_output_tokens);
    total += d.estimated_cost_usd;
    // Always-strongest is priced as it would be served too: by the nearest
    // model that can take the request (vision for an image) when the
    // strongest cannot.
    const ModelIndex near = catalog.capable_near(catalog.strongest(), d.signals.needs, d.signals.tokens);
    const ModelInfo& baseline_model = near == kNoModel ? strongest : catalog[near];
    baseline_moved = baseline_moved || &baseline_model != &strongest;
    baseline += baseline_model.cost_usd(d.signals.tokens, out_tokens);
    ++per_tier[static_cast<size_t>(d.tier)];
    ++n;
    scored = scored || !std::isnan(d.p_small_ok);
    if (table) {
      const std::string bare_id = id.size() >= 2 && id.front() == '"' ? id.substr(1, id.size() - 2) : id;
      out.buffer() += absl::StrFormat("%-5s %-24s %-4d %-48s %10.6f  %s\n", bare_id, d.model->name,
                                      d.tier, internal::to_absl(d.reason.view()), d.estimated_cost_usd,
                                      one_line(query, 60));
      out.maybe_flush();
      continue;
    }
    w.clear();
    w.begin_object().key("id").raw(id).key("model").value(d.model->name).key("tier").value(d.tier)
        .key("policy").value(d.policy).key("reason").value(d.reason.view());
    w.key("fallbacks").begin_array();
    for (const ModelInfo* f : d.fallbacks()) w.value(f->name);
    w.end_array();
    w.key("estimated_cost_usd").value(d.estimated_cost_usd);
    w.key("arm");
    if (d.arm.empty()) {
      w.null();
    } else {
      w.value(d.arm);
    }
    const Signals& s = d.signals;
    w.key("signals").begin_object()
        .key("tokens").value(s.tokens).key("task_type").value(name_of(s.task_type))
        .key("domain").value(name_of(s.domain)).key("script").value(name_of(s.script))
        .key("complexity").value(s.complexity).key("reasoning_hits").value(s.reasoning_hits)
        .key("has_code").value(s.has_code).key("follow_up").value(s.is_follow_up)
        .key("p_small_ok");
    if (std::isnan(d.p_small_ok)) {
      w.null();
    } else {
      w.value(d.p_small_ok);
    }
    w.end_object();
    if (d.unmet_needs != 0) w.key("unmet_needs").value(capability_names(d.unmet_needs));
    if (explain) {
      w.key("trace").begin_array();
      for (const TraceStep& step : d.trace) {
        w.begin_object().key("policy").value(step.policy).key("outcome").value(step.outcome).end_object();
      }
      w.end_array();
    }
    w.end_object();
    out.buffer() += w.str();
    out.buffer() += '\n';
    out.maybe_flush();
  }
  if (table && n > 0) {
    // The catalog's tiers only (tiers 0, 5 and 9 are three, not ten).
    std::string tiers;
    for (size_t t = 0; t < per_tier.size(); ++t) {
      if (catalog[catalog.first_of_tier(static_cast<int>(t))].tier != static_cast<int>(t)) continue;
      absl::StrAppend(&tiers, tiers.empty() ? "" : ", ", "tier ", t, ": ", per_tier[t]);
    }
    out.buffer() += absl::StrFormat(
        "\n%d %s (%s)\nestimated cost: $%.6f routed vs $%.6f always %s: %.1f%% saved\n"
        "(estimates from token counts and list prices; they say nothing of answer quality)\n",
        n, n == 1 ? "request" : "requests", tiers, total, baseline,
        baseline_moved ? absl::StrCat(strongest.name, " (or the nearest model that can take the request)") : strongest.name,
        baseline > 0 ? 100.0 * (1.0 - total / baseline) : 0.0);
  } else if (table) {
    out.buffer() += "\n0 requests\n";
  }
  warn_if_model_unused("route", model != nullptr, n, scored);
  return absl::OkStatus();
}

}  // namespace costroute::cli
