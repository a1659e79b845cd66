// costroute eval: the cost-quality curve of a router on labelled outcomes,
// with the random mixture and the oracle beside it (include/costroute/eval.h
// defines every metric).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/training_flags.h"
#include "costroute/eval.h"
#include "costroute/internal/status_macros.h"
#include "io/file_util.h"
#include "io/json_writer.h"

namespace costroute::cli {
namespace {

void write_metrics(internal::JsonWriter& w, const RoutingMetrics& m) {
  w.key("savings_at_max_drop").value(m.savings_at_max_drop);
  w.key("quality_drop").value(m.quality_drop);
  w.key("strong_share").value(m.strong_share);
  w.key("apgr").value(m.apgr);
  w.key("cpt50").value(m.cpt50);
  w.key("cpt80").value(m.cpt80);
  w.key("auc").value(m.auc);
  w.key("threshold");
  if (m.threshold) {
    w.value(*m.threshold);
  } else {
    w.null();
  }
}

std::string percent(double x) { return std::isnan(x) ? "-" : absl::StrFormat("%.1f%%", 100 * x); }
std::string fixed3(double x) { return std::isnan(x) ? "-" : absl::StrFormat("%.3f", x); }

// "against random, over the whole curve: APGR A (95% CI L to H, ...),
// above random in P% of resamples: reliably better than random on this
// data", or NOT reliably (below kReliableShare); not judged when the strong
// model is not better on average. calibrate judges its chosen operating
// point instead, so the two can disagree near the edge.
std::string against_random_line(const Evaluation& e, const ApgrBootstrap& b) {
  if (const std::string suffices = small_model_suffices(e); !suffices.empty()) {
    return absl::StrCat("against random: not judged: ", suffices,
                        "; PGR, APGR and CPT measure how much of the strong model's lead a router keeps, and are "
                        "undefined here");
  }
  if (b.resamples == 0) return "against random: no bootstrap resample has the strong model better on average";
  return absl::StrFormat(
      "against random, over the whole curve: APGR %.3f (95%% CI %.3f to %.3f, %d bootstrap resamples; random "
      "0.500), above random in %.1f%% of resamples: %s",
      e.router.apgr, b.low, b.high, b.resamples, 100 * b.above_random,
      b.above_random >= kReliableShare ? "reliably better than random on this data"
                                       : "NOT reliably better than random on this data");
}

}  // namespace

std::string evaluation_json(const Evaluation& e, const ApgrBootstrap& b) {
  internal::JsonWriter w;
  w.begin_object();
  w.key("n").value(e.n);
  w.key("max_quality_drop").value(e.max_quality_drop);
  w.key("quality_small").value(e.quality_small);
  w.key("quality_large").value(e.quality_large);
  write_metrics(w, e.router);
  w.key("apgr_ci").begin_array().value(b.low).value(b.high).end_array();
  w.key("apgr_above_random").value(b.above_random);
  w.key("bootstrap").value(b.resamples);
  w.key("random").begin_object();
  write_metrics(w, e.random);
  w.end_object();
  w.key("oracle").begin_object();
  write_metrics(w, e.oracle);
  w.end_object();
  w.end_object();
  return w.take();
}

std::string evaluation_table(const Evaluation& e, const ApgrBootstrap& b) {
  std::string out = absl::StrFormat(
      "%d prompts; mean quality: small %.4g, strong %.4g; allowed drop %.1f%%\n\n", e.n, e.quality_small,
      e.quality_large, 100 * e.max_quality_drop);
  absl::StrAppend(&out, absl::StrFormat("%-8s %10s %8s %8s %8s %8s %8s %10s\n", "", "savings", "drop",
                                        "strong", "APGR", "CPT50", "CPT80", "AUC"));
  for (const auto& [name, m] : {std::pair{"router", &e.router}, std::pair{"random", &e.random},
                                std::pair{"oracle", &e.oracle}}) {
    absl::StrAppend(&out, absl::StrFormat("%-8s %10s %8s %8s %8s %8s %8s %10.3f\n", name,
                                          percent(m->savings_at_max_drop), percent(m->quality_drop),
                                          percent(m->strong_share), fixed3(m->apgr), percent(m->cpt50),
                                          percent(m->cpt80), m->auc));
  }
  if (e.router.threshold) {
    absl::StrAppend(&out, "\n", threshold_line(*e.router.threshold, e.router.strong_share), "\n");
  }
  absl::StrAppend(&out, "\n", against_random_line(e, b), "\n");
  return out;
}

std::string small_model_suffices(const Evaluation& e) {
  if (e.n == 0 || e.quality_large > e.quality_small) return "";
  const double savings = e.cost_large > 0 ? 1.0 - e.cost_small / e.cost_large : 0.0;
  return absl::StrFormat(
      "the small model is at least as good as the strong one on average (mean quality %.4g against %.4g): sending "
      "every prompt to it loses no quality and saves %.1f%% of always-strong's cost",
      e.quality_small, e.quality_large, 100 * savings);
}

std::string threshold_line(double threshold, double strong_share) {
  const std::string number = internal::json_number(threshold);
  if (strong_share >= 1.0) {
    return absl::StrCat("threshold: p_small_ok >= ", number,
                        " (above every score: nothing goes to the small model)");
  }
  return absl::StrCat("threshold: p_small_ok >= ", number, " goes to the small model");
}

namespace {

// eval --config: a router config over data that scores every catalog model.
absl::Status eval_config(const Flags& flags, const std::string& config_path, const std::string& data_path) {
  std::shared_ptr<const Model> model;
  if (auto model_path = flags.get("model")) {
    COSTROUTE_ASSIGN_OR_RETURN(Model loaded, load_model(*model_path));
    model = std::make_shared<const Model>(std::move(loaded));
  }
  COSTROUTE_ASSIGN_OR_RETURN(std::shared_ptr<const Router> router, load_router(config_path, model));
  const Catalog& catalog = router->catalog();
  const size_t m = catalog.size();
  std::vector<std::string> names;
  for (const ModelInfo& info : catalog.models()) names.push_back(info.name);
  // Per-request costs of each model (the data's convention), else the
  // config's price estimate for the request.
  std::vector<std::optional<double>> fixed_cost(m);
  COSTROUTE_ASSIGN_OR_RETURN(std::vector<std::string> cost_entries, flags.list("costs"));
  for (const std::string& entry : cost_entries) {
    const size_t eq = entry.find('=');
    double value = 0;
    const ModelIndex j = eq == std::string::npos ? kNoModel : catalog.find(entry.substr(0, eq));
    if (j == kNoModel || !parse_decimal(std::string_view(entry).substr(eq + 1), value) ||
        !(value >= 0.0 && value <= kMaxCost)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--costs: expected NAME=COST for models of the config, got \"", entry, "\""));
    }
    if (fixed_cost[static_cast<size_t>(j)]) {
      return absl::InvalidArgumentError(absl::StrCat("--costs: ", names[static_cast<size_t>(j)], " given twice"));
    }
    fixed_cost[static_cast<size_t>(j)] = value;
  }
  // One unit for every model: the data's costs for all, or the config's prices for all.
  if (flags.has("costs")) {
    std::vector<std::string> missing;
    for (size_t j = 0; j < m; ++j) {
      if (!fixed_cost[j]) missing.push_back(names[j]);
    }
    if (!missing.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--costs: give every model of the config a cost (missing: ",
                                                     absl::StrJoin(missing, ", "), ")"));
    }
  }
  COSTROUTE_ASSIGN_OR_RETURN(JsonlReader in, JsonlReader::open(data_path));
  std::vector<double> quality, cost;
  std::vector<size_t> chosen;
  OwnedContext owned;
  const bool skip_incomplete = flags.has("skip-incomplete");
  size_t skipped = 0;
  bool scored = false;  // whether the classifier scored any request
  while (true) {
    COSTROUTE_ASSIGN_OR_RETURN(bool more, in.next());
    if (!more) break;
    COSTROUTE_ASSIGN_OR_RETURN(std::string_view query, in.string_field("query"));
    COSTROUTE_RETURN_IF_ERROR(read_context(in, false, router->model(), owned));
    COSTROUTE_ASSIGN_OR_RETURN(auto scores, quality_map(in));
    std::vector<double> row(m);
    bool complete = true;
    for (size_t j = 0; j < m && complete; ++j) {
      const auto it = std::find_if(scores.begin(), scores.end(), [&](const auto& s) { return s.first == names[j]; });
      if (it == scores.end()) {
        if (!skip_incomplete) {
          return in.error(absl::StrCat("field \"quality\": no score for ", names[j],
                                       " (a model of the config; --skip-incomplete skips such prompts)"));
        }
        complete = false;
      } else {
        row[j] = it->second;
      }
    }
    if (!complete) {
      ++skipped;
      continue;
    }
    const Decision d = router->route(query, owned.context);
    scored = scored || !std::isnan(d.p_small_ok);
    const int64_t out_tokens = owned.context.expected_output_tokens.value_or(router->options().default_output_tokens);
    for (size_t j = 0; j < m; ++j) {
      quality.push_back(row[j]);
      cost.push_back(fixed_cost[j].value_or(catalog[static_cast<ModelIndex>(j)].cost_usd(d.signals.tokens, out_tokens)));
    }
    chosen.push_back(static_cast<size_t>(d.model - &catalog[0]));
  }
  warn_if_model_unused("eval", model != nullptr, chosen.size(), scored);
  if (chosen.empty()) {
    return absl::InvalidArgumentError(
        skipped == 0 ? absl::StrCat(data_path, ": no records")
                     : absl::StrCat(data_path, ": all ", skipped,
                                    " records skipped: none scores every model of the config in \"quality\""));
  }
  COSTROUTE_ASSIGN_OR_RETURN(const TierEvaluation e, evaluate_tiers(names, static_cast<size_t>(catalog.strongest()),
                                                                   quality, cost, chosen));
  // Savings are a share of always-strongest's cost: none to share when it is 0.
  if (!(e.always[e.strongest].cost > 0.0)) {
    return absl::InvalidArgumentError(absl::StrCat("always ", names[e.strongest],
                                                   " costs nothing on this data: savings against it are undefined "
                                                   "(check its price, or --costs)"));
  }
  std::string text;
  if (flags.has("json")) {
    internal::JsonWriter w;
    auto strategy = [&](const TierStrategy& s) {
      w.begin_object().key("name").value(s.name).key("quality").value(s.quality).key("cost").value(s.cost)
          .key("savings").value(s.savings).key("quality_drop").value(s.quality_drop).key("model_share").begin_object();
      for (size_t j = 0; j < m; ++j) w.key(names[j]).value(s.model_share[j]);
      w.end_object().end_object();
    };
    w.begin_object().key("n").value(e.n).key("skipped").value(skipped).key("strongest").value(names[e.strongest]).key("router");
    strategy(e.router);
    w.key("oracle");
    strategy(e.oracle);
    w.key("always").begin_array();
    for (const TierStrategy& s : e.always) strategy(s);
    w.end_array().end_object();
    text = w.take() + "\n";
  } else {
    text = absl::StrFormat("%d prompts (%d skipped: no score for some model), %d models; savings and drop against "
                           "always %s\n\n", e.n, skipped, m, names[e.strongest]);
    absl::StrAppend(&text, absl::StrFormat("%-36s %10s %10s %9s %8s\n", "strategy", "quality", "cost", "savings", "drop"));
    auto row = [&](const TierStrategy& s) {
      absl::StrAppend(&text, absl::StrFormat("%-36s %10.4g %10.4g %8.1f%% %7.1f%%\n", s.name, s.quality, s.cost,
                                             100 * s.savings, 100 * s.quality_drop));
    };
    row(e.router);
    row(e.oracle);
    for (const TierStrategy& s : e.always) row(s);
    absl::StrAppend(&text, "\nrouter's models:");
    for (size_t j = 0; j < m; ++j) absl::StrAppend(&text, absl::StrFormat(" %s %.1f%%", names[j], 100 * e.router.model_share[j]));
    text += "\n";
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
  return absl::OkStatus();
}

}  // namespace

absl::Status eval_command(const Args& args) {
  std::vector<std::string_view> value_flags = {"model", "config", "costs", "data", "max-quality-drop", "plot",
                                               "title", "cv", "seed", "label", "weight-field", "cost-small",
                                               "cost-large", "tune-by", "bootstrap"};
  value_flags.insert(value_flags.end(), kTrainValueFlags.begin(), kTrainValueFlags.end());
  std::vector<std::string_view> switches = {"json", "tune", "skip-incomplete"};
  switches.insert(switches.end(), kTrainSwitches.begin(), kTrainSwitches.end());
  COSTROUTE_ASSIGN_OR_RETURN(Flags flags, Flags::parse(args, value_flags, switches));
  COSTROUTE_ASSIGN_OR_RETURN(std::string data_path, flags.required("data"));
  COSTROUTE_RETURN_IF_ERROR(check_output(flags, "plot", {"data", "extra-data", "model", "config"}));
  if (auto config = flags.get("config")) {
    if (flags.has("cv")) {
      return absl::InvalidArgumentError("--config evaluates a whole router: drop --cv");
    }
    COSTROUTE_RETURN_IF_ERROR(refuse_flags(
        flags, training_flags_and({"plot", "title", "max-quality-drop", "cost-small", "cost-large", "label",
                                   "weight-field", "seed", "tune", "tune-by", "bootstrap"}),
        "with --config, which evaluates a whole router over the data's quality maps"));
    return eval_config(flags, *config, data_path);
  }
  COSTROUTE_RETURN_IF_ERROR(refuse_flags(flags, {"costs", "skip-incomplete"}, "without --config"));
  if (flags.has("model")) {
    COSTROUTE_RETURN_IF_ERROR(refuse_flags(flags, training_flags_and({"tune", "tune-by", "weight-field"}),
                                           "with --model, whose scores are used as they are"));
  }
  if (!flags.has("tune")) COSTROUTE_RETURN_IF_ERROR(refuse_flags(flags, {"tune-by"}, "without --tune"));
  if (flags.has("tune")) COSTROUTE_RETURN_IF_ERROR(refuse_flags(flags, {"learn", "win-c-factor"}, kTuneChoosesTarget));
  if (flags.has("title") && !flags.has("plot")) {
    return absl::InvalidArgumentError("--title names the picture: it goes with --plot FILE.svg");
  }
  COSTROUTE_ASSIGN_OR_RETURN(double max_drop, max_quality_drop(flags));
  int64_t folds = 0;
  if (flags.has("cv")) {
    COSTROUTE_ASSIGN_OR_RETURN(folds, flags.integer("cv", 5, 2, 1000000));
  }
  COSTROUTE_ASSIGN_OR_RETURN(int64_t seed, flags.integer("seed", 1, 0, INT64_MAX));
  COSTROUTE_ASSIGN_OR_RETURN(int64_t resamples, flags.integer("bootstrap", 1000, 10, 1000000));
  if (folds == 0 && !flags.has("model")) {
    return absl::InvalidArgumentError("missing --model (or --cv K to train and score by cross validation)");
  }
  if (flags.has("tune") && folds == 0) {
    return absl::InvalidArgumentError("--tune needs --cv K: tuning is measured by nested cross validation");
  }
  if (folds > 0 && flags.has("model")) {
    return absl::InvalidArgumentError("--model and --cv exclude each other: --cv trains its own models");
  }
  TrainOptions options;  // how cross validation trains, with --cv
  if (folds > 0) {
    COSTROUTE_ASSIGN_OR_RETURN(options, train_options(flags));
  }
  COSTROUTE_ASSIGN_OR_RETURN(ReadOptions read, read_options("eval", flags, /*need_outcomes=*/true, options));
  COSTROUTE_ASSIGN_OR_RETURN(std::optional<Model> model, model_from_flags(flags, read));
  COSTROUTE_ASSIGN_OR_RETURN(std::vector<std::string> data_paths, flags.list("data"));
  COSTROUTE_ASSIGN_OR_RETURN(std::vector<LabelledRecord> records, read_labelled(data_paths, read));
  COSTROUTE_ASSIGN_OR_RETURN(ExtraRecords extra, read_extra(flags, read, records));

  std::vector<double> scores(records.size());
  bool ranked = folds > 0;  // scores are within-fold quantiles
  if (folds > 0) {
    COSTROUTE_RETURN_IF_ERROR(check_folds(folds, records, true));
    absl::StatusOr<FoldScores> cv;
    if (flags.has("tune")) {
      // Nested: each outer fold tunes on its own training part only.
      COSTROUTE_ASSIGN_OR_RETURN(TuneObjective objective, tune_objective(flags));
      const TuneOptions tune_options{.max_quality_drop = max_drop, .folds = 5, .seed = static_cast<uint64_t>(seed) + 1,
                                     .context_fields = options.context_fields, .objective = objective};
      cv = tuned_scores(records, options, tune_options, static_cast<int>(folds), static_cast<uint64_t>(seed), extra);
    } else {
      cv = cross_validated_scores(training_set(records), options, static_cast<int>(folds), static_cast<uint64_t>(seed),
                                  extra_examples(extra, options.context_fields, options.context_fields));
    }
    if (!cv.ok()) return internal::prefixed(data_path, cv.status());
    warn_unconverged("costroute eval", cv->unconverged, cv->models);
    scores = std::move(cv->scores);
    if (!within_fold_quantiles(scores, cv->fold, static_cast<int>(folds))) {
      std::fprintf(stderr, "costroute eval: folds of fewer than %zu records: pooling raw scores, not ranks\n",
                   kMinRankedFold);
      ranked = false;
    }
  } else {
    COSTROUTE_ASSIGN_OR_RETURN(scores, model_scores(*model, records));
  }
  const std::vector<Outcome> scored = outcomes(records, scores);
  Evaluation e = evaluate(scored, {.max_quality_drop = max_drop});
  if (ranked) e.router.threshold.reset();  // a quantile of K models' scores, not a p_small_ok to deploy

  if (auto plot = flags.get("plot")) {
    COSTROUTE_RETURN_IF_ERROR(internal::write_file(*plot, cost_quality_svg(e, flags.get("title").value_or(data_path))));
  }
  // Without the strong model's lead the router has no APGR to test.
  // A repeated prompt's copies are drawn together.
  ApgrBootstrap b;
  if (!std::isnan(e.router.apgr)) {
    COSTROUTE_ASSIGN_OR_RETURN(b, bootstrap_apgr(scored, static_cast<int>(resamples), static_cast<uint64_t>(seed),
                                                 prompt_groups(queries_of(records))));
  }
  std::string text = flags.has("json") ? evaluation_json(e, b) + "\n" : evaluation_table(e, b);
  if (ranked && !flags.has("json")) {
    absl::StrAppend(&text, "\ncross validation: each fold's scores ranked within the fold, so that one cut sends the "
                           "same share of every fold to the small model; `costroute calibrate` picks a threshold "
                           "to deploy\n");
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
  return absl::OkStatus();
}

}  // namespace costroute::cli
