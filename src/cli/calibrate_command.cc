// costroute calibrate: choose the classifier's threshold for a target,
// measure it honestly, and write it into a config.
//
// Scores come from cross validation (each prompt scored by a model that did
// not see it) or from --model on held-out data. The threshold is chosen on
// those scores for the target: a maximum quality drop, a share of strong
// calls, or a cost budget. An out-of-bag bootstrap (choose a threshold on a
// resample, measure it on the prompts left out) gives confidence intervals
// for the savings and the drop, and how often the router beats the random
// mixture at the same quality. When it does not in at least 95% of
// resamples, calibrate says so, claims no savings and refuses to write the
// config (--force overrides).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/training_flags.h"
#include "costroute/eval.h"
#include "costroute/internal/status_macros.h"
#include "eval/random.h"
#include "io/file_util.h"
#include "io/json_writer.h"

namespace costroute::cli {
namespace {

struct Target {
  enum class Kind { kMaxDrop, kStrongShare, kMaxCost } kind = Kind::kMaxDrop;
  double value = 0.03;
};

// The router's curve point that best meets the target: the cheapest within
// the drop, or the best quality within the share or cost budget.
const CurvePoint& choose(const Evaluation& e, const Target& target) {
  const std::vector<CurvePoint>& curve = e.router.curve;
  if (target.kind == Target::Kind::kMaxDrop) {
    return cheapest_within_drop(curve, e.quality_large, target.value);  // as eval's savings_at_max_drop
  }
  // A share of strong calls or a cost: the same rule on a different measure.
  const bool by_share = target.kind == Target::Kind::kStrongShare;
  const double budget = by_share ? target.value : target.value * e.cost_large;
  auto spent = [by_share](const CurvePoint& p) { return by_share ? p.strong_share : p.cost; };
  const CurvePoint* best = &curve.front();  // always strong
  auto within = [&](const CurvePoint& p) { return spent(p) <= budget + 1e-12; };
  for (const CurvePoint& p : curve) {
    if (!within(p)) continue;
    // Within budget: the best quality, and the least spent among equals.
    if (!within(*best) || p.quality > best->quality || (p.quality == best->quality && spent(p) < spent(*best))) {
      best = &p;
    }
  }
  return *best;
}

// The share of strong calls at which the random mixture reaches `quality`
// (mean qualities: qs always small, ql always strong).
double random_share(double quality, double qs, double ql) {
  return ql > qs ? std::clamp((quality - qs) / (ql - qs), 0.0, 1.0) : 0.0;
}

// How much less than the random mixture at the same quality the router's
// point `p` costs, as a share of always-strong's cost `cl` (cs: always
// small's). The random cost is written from `cl` down, so that share 1
// costs exactly `cl`.
double advantage_over_random(const CurvePoint& p, double qs, double ql, double cs, double cl) {
  if (!(cl > 0)) return 0.0;
  const double random_cost = cl - (1.0 - random_share(p.quality, qs, ql)) * (cl - cs);
  return (random_cost - p.cost) / cl;
}

// An advantage this small is rounding, not a router that beats random.
constexpr double kAdvantageTolerance = 1e-9;

// How `model` was trained, as far as its file says: its vectorizer and
// context fields, and the C, class weights and target that costroute's
// trainer records in the provenance (else those of `otherwise`, and the
// label for the target).
TrainOptions trained_as(const Model& model, const TrainOptions& otherwise) {
  TrainOptions o = otherwise;
  o.vectorizer = model.vectorizer().options();
  o.context_fields.clear();
  for (const ContextFeature& f : model.context_features()) o.context_fields.push_back(f.field);
  // A model that does not say (imported from scikit-learn, or older) learned the label.
  o.target = TrainTarget::kLabel;
  for (const auto& [key, value] : model.provenance()) {
    double c = 0;
    if (key == "C" && absl::SimpleAtod(value, &c)) o.C = c;
    if (key == "class_weight") o.balanced_class_weight = value == "balanced";
    if (key == "target") (void)parse_target(value, o.target);
  }
  return o;
}

}  // namespace

absl::Status calibrate_command(const Args& args) {
  std::vector<std::string_view> value_flags = {
      "data", "model", "cv", "seed", "max-quality-drop", "strong-share", "max-cost", "bootstrap",
      "config", "out", "policy", "label", "weight-field", "cost-small", "cost-large"};
  value_flags.insert(value_flags.end(), kTrainValueFlags.begin(), kTrainValueFlags.end());
  std::vector<std::string_view> switches = {"json", "force"};
  switches.insert(switches.end(), kTrainSwitches.begin(), kTrainSwitches.end());
  COSTROUTE_ASSIGN_OR_RETURN(Flags flags, Flags::parse(args, value_flags, switches));
  COSTROUTE_ASSIGN_OR_RETURN(std::string data_path, flags.required("data"));

  Target target;
  int targets = 0;
  for (auto [flag, kind] : {std::pair{"max-quality-drop", Target::Kind::kMaxDrop},
                            std::pair{"strong-share", Target::Kind::kStrongShare},
                            std::pair{"max-cost", Target::Kind::kMaxCost}}) {
    if (!flags.has(flag)) continue;
    ++targets;
    target.kind = kind;
    COSTROUTE_ASSIGN_OR_RETURN(target.value, flags.number(flag, 0.0));
    if (target.value < 0.0 || target.value > 1.0) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag, ": expected a number in [0, 1]"));
    }
  }
  if (targets > 1) {
    return absl::InvalidArgumentError("give one target: --max-quality-drop, --strong-share or --max-cost");
  }
  if (flags.has("config") != flags.has("out")) {
    return absl::InvalidArgumentError("--config and --out go together: the threshold is written into a copy");
  }
  if (flags.has("model")) {
    // --seed still seeds the bootstrap.
    COSTROUTE_RETURN_IF_ERROR(refuse_flags(flags, training_flags_and({"cv", "weight-field"}),
                                           "with --model, whose scores are used as they are"));
  }
  if (!flags.has("config")) COSTROUTE_RETURN_IF_ERROR(refuse_flags(flags, {"policy", "force"}, "without --config"));
  // --out may be --config itself: the config is then updated in place.
  COSTROUTE_RETURN_IF_ERROR(check_output(flags, "out", {"data", "model"}));
  // The config is read and edited once before the long work, so that one
  // without the classifier policy to edit is reported first.
  std::string config_text;
  ConfigEdits edits;
  if (auto config_path = flags.get("config")) {
    COSTROUTE_ASSIGN_OR_RETURN(config_text, internal::read_file(*config_path));
    namespace fs = std::filesystem;
    const std::string out_dir = fs::path(*flags.get("out")).parent_path().string();
    edits = {.threshold = 0.5,
             .policy_name = flags.get("policy").value_or(""),
             .from_dir = fs::path(*config_path).parent_path().string(),
             .to_dir = out_dir.empty() ? "." : out_dir,
             .model_path = flags.get("model").value_or("")};
    if (absl::StatusOr<std::string> tried = edit_config(config_text, edits); !tried.ok()) {
      return internal::prefixed(*config_path, tried.status());
    }
  }
  COSTROUTE_ASSIGN_OR_RETURN(int64_t folds, flags.integer("cv", 5, 2, 1000000));
  COSTROUTE_ASSIGN_OR_RETURN(int64_t seed, flags.integer("seed", 1, 0, INT64_MAX));
  COSTROUTE_ASSIGN_OR_RETURN(int64_t resamples, flags.integer("bootstrap", 1000, 10, 1000000));
  TrainOptions cv_options;  // how cross validation trains, without --model
  if (!flags.has("model")) {
    COSTROUTE_ASSIGN_OR_RETURN(cv_options, train_options(flags));
  }
  COSTROUTE_ASSIGN_OR_RETURN(ReadOptions read, read_options("calibrate", flags, /*need_outcomes=*/true, cv_options));
  COSTROUTE_ASSIGN_OR_RETURN(std::optional<Model> model, model_from_flags(flags, read));
  COSTROUTE_ASSIGN_OR_RETURN(std::vector<std::string> data_paths, flags.list("data"));
  COSTROUTE_ASSIGN_OR_RETURN(std::vector<LabelledRecord> records, read_labelled(data_paths, read));

  std::vector<double> scores(records.size());
  if (model) {
    COSTROUTE_ASSIGN_OR_RETURN(scores, model_scores(*model, records));
  } else {
    COSTROUTE_RETURN_IF_ERROR(check_folds(folds, records.size(), flags.has("cv")));
    absl::StatusOr<FoldScores> cv =
        cross_validated_scores(training_set(records), cv_options, static_cast<int>(folds), static_cast<uint64_t>(seed));
    if (!cv.ok()) return internal::prefixed(data_path, cv.status());
    warn_unconverged("costroute calibrate", cv->unconverged, cv->models);
    scores = std::move(cv->scores);  // pooled raw: the threshold is a p_small_ok to deploy
  }
  const std::vector<Outcome> data = outcomes(records, scores);
  const double drop_for_eval = target.kind == Target::Kind::kMaxDrop ? target.value : 0.03;
  const Evaluation e = evaluate(data, {.max_quality_drop = drop_for_eval});
  const CurvePoint& chosen = choose(e, target);
  if (target.kind == Target::Kind::kMaxCost && chosen.cost > target.value * e.cost_large + 1e-12) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--max-cost %g: no threshold costs that little here; sending everything to the small model costs %.6g "
        "of always-strong",
        target.value, e.cost_large > 0 ? e.cost_small / e.cost_large : 0.0));
  }
  // +inf: nothing to the small model; deploy a threshold just above the top score.
  const double threshold = chosen.threshold == std::numeric_limits<double>::infinity()
                               ? std::nextafter(e.router.curve.size() > 1 ? e.router.curve[1].threshold : 1.0, 2.0)
                               : chosen.threshold;

  // Bootstrap, out of bag: choose a threshold on each resample as above,
  // then measure it on the prompts the resample left out. Choosing and
  // measuring on the same prompts would flatter the router (on a small set
  // it finds a lucky threshold even in noise); this measures the procedure.
  std::vector<double> savings, drops, advantages;
  uint64_t state = static_cast<uint64_t>(seed) ^ 0xC0575A17E5ULL;
  std::vector<Outcome> in_bag, out_of_bag;
  std::vector<char> drawn(data.size());
  size_t wins = 0;
  for (int64_t b = 0; b < resamples; ++b) {
    in_bag.clear();
    out_of_bag.clear();
    std::fill(drawn.begin(), drawn.end(), 0);
    for (size_t k = 0; k < data.size(); ++k) {
      const size_t i = internal::splitmix64(state) % data.size();
      in_bag.push_back(data[i]);
      drawn[i] = 1;
    }
    for (size_t i = 0; i < data.size(); ++i) {
      if (!drawn[i]) out_of_bag.push_back(data[i]);
    }
    if (out_of_bag.empty()) continue;
    const Evaluation inside = evaluate(in_bag, {.max_quality_drop = drop_for_eval});
    const CurvePoint& pick = choose(inside, target);
    const double t = pick.threshold == std::numeric_limits<double>::infinity() ? 2.0 : pick.threshold;
    double qs = 0, ql = 0, cs = 0, cl = 0;
    for (const Outcome& o : out_of_bag) qs += o.quality_small, ql += o.quality_large, cs += o.cost_small, cl += o.cost_large;
    const double n = static_cast<double>(out_of_bag.size());
    qs /= n, ql /= n;
    const CurvePoint p = point_at_threshold(out_of_bag, t);
    savings.push_back(cl > 0 ? 1.0 - p.cost / cl : 0.0);
    drops.push_back(ql != 0 ? (ql - p.quality) / std::fabs(ql) : 0.0);
    const double advantage = advantage_over_random(p, qs, ql, cs, cl);
    advantages.push_back(advantage);
    // Only a real advantage counts: rounding alone must not make a win.
    if (advantage > kAdvantageTolerance) ++wins;
  }
  if (advantages.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        data_path, ": too few records to bootstrap (", data.size(), "): no resample left a record out to measure on"));
  }
  const double win_rate = static_cast<double>(wins) / static_cast<double>(advantages.size());
  const bool reliable = win_rate >= kReliableShare;
  const internal::Interval savings_ci = internal::percentile_interval(savings),
                         drop_ci = internal::percentile_interval(drops),
                         advantage_ci = internal::percentile_interval(advantages);
  const double point_savings = e.cost_large > 0 ? 1.0 - chosen.cost / e.cost_large : 0.0;
  const double point_drop = e.quality_large != 0 ? (e.quality_large - chosen.quality) / std::fabs(e.quality_large) : 0.0;
  const double point_share = random_share(chosen.quality, e.quality_small, e.quality_large);
  const double point_advantage = advantage_over_random(chosen, e.quality_small, e.quality_large, e.cost_small, e.cost_large);
  // Then no router beats always-small, and more data or a better model
  // would not change that.
  const std::string suffices = small_model_suffices(e);
  const std::string advice =
      suffices.empty() ? "collect more labelled data or improve the model" : "send every prompt to the small model";

  std::string written;
  if (auto config_path = flags.get("config")) {
    if (threshold > 1.0 && (reliable || flags.has("force"))) {
      return absl::InvalidArgumentError(
          "no threshold to write: the target keeps every prompt on the strong model, but some prompts score "
          "p_small_ok = 1, which every threshold in [0, 1] sends to the small model");
    }
    if (!reliable && !flags.has("force")) {
      written = "not written: the router is not reliably better than random";
    } else {
      const std::string out_path = *flags.get("out");
      edits.threshold = threshold;
      absl::StatusOr<std::string> updated = edit_config(config_text, edits);
      if (!updated.ok()) {
        return internal::prefixed(*config_path, updated.status());
      }
      // Never over the model the input config names, which the written
      // config names too unless --model replaces it (check_output
      // guards that one): that would lose the model.
      COSTROUTE_ASSIGN_OR_RETURN(const std::string named, classifier_path(config_text, edits.from_dir));
      if (!named.empty() && internal::same_file(out_path, named)) {
        return absl::InvalidArgumentError(
            absl::StrCat("--out ", out_path, " is the classifier model the config names; not overwriting it"));
      }
      // Write only a config the router loads.
      absl::StatusOr<std::shared_ptr<const Router>> loads = parse_router(*updated, out_path, edits.to_dir);
      if (!loads.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("not writing a config that would not load: ",
                                                       loads.status().message()));
      }
      // A threshold chosen on models trained one way means little for a
      // model trained another way: their scores are on different scales.
      const Model* deployed = (*loads)->model();
      if (!flags.has("model") && deployed != nullptr) {
        const std::string cv_as = describe(cv_options), deployed_as = describe(trained_as(*deployed, cv_options));
        if (cv_as != deployed_as) {
          std::fprintf(stderr,
                       "costroute calibrate: warning: the threshold was chosen on models trained as \"%s\", but the "
                       "config's classifier was trained as \"%s\"; its scores may sit on another scale: pass "
                       "calibrate the flags it was trained with, or calibrate it with --model on held-out data\n",
                       cv_as.c_str(), deployed_as.c_str());
        }
      }
      COSTROUTE_RETURN_IF_ERROR(internal::write_file(out_path, *updated));
      written = out_path;
    }
  }

  if (flags.has("json")) {
    internal::JsonWriter w;
    w.begin_object()
        .key("n").value(e.n)
        .key("scores").value(flags.has("model") ? "model" : "cross_validation")
        .key("threshold").value(threshold)
        .key("savings").value(point_savings)
        .key("savings_ci").begin_array().value(savings_ci.low).value(savings_ci.high).end_array()
        .key("quality_drop").value(point_drop)
        .key("quality_drop_ci").begin_array().value(drop_ci.low).value(drop_ci.high).end_array()
        .key("strong_share").value(chosen.strong_share)
        .key("advantage_over_random").value(point_advantage)
        .key("advantage_over_random_ci").begin_array().value(advantage_ci.low).value(advantage_ci.high).end_array()
        .key("better_than_random_share").value(win_rate)
        .key("reliable").value(reliable)
        .key("random_savings_at_max_drop").value(e.random.savings_at_max_drop)
        .key("small_model_suffices").value(!suffices.empty())
        .key("written");
    if (written.empty()) {
      w.null();
    } else {
      w.value(written);
    }
    w.end_object();
    std::printf("%s\n", w.str().c_str());
  } else {
    const std::string source = flags.has("model") ? "the model" : absl::StrCat(folds, "-fold cross validation");
    std::printf("%zu prompts, scores from %s\n%s\n", e.n, source.c_str(),
                threshold_line(threshold, chosen.strong_share).c_str());
    if (!suffices.empty()) std::printf("note: %s; no router is needed\n", suffices.c_str());
    if (reliable) {
      std::printf(
          "savings %.1f%% (95%% CI %.1f%% to %.1f%%), quality drop %.2f%% (95%% CI %.2f%% to %.2f%%), "
          "strong calls %.1f%%\n",
          100 * point_savings, 100 * savings_ci.low, 100 * savings_ci.high, 100 * point_drop, 100 * drop_ci.low,
          100 * drop_ci.high, 100 * chosen.strong_share);
    } else {
      std::printf(
          "NO SAVINGS ATTRIBUTABLE TO THE ROUTER: it costs %.1f%% less than always-strong here, but a random "
          "%.1f%% of prompts sent to the strong model reaches the same quality for %.1f%% less, and the "
          "difference is within chance\n",
          100 * point_savings, 100 * point_share, 100 * (point_savings - point_advantage));
    }
    std::printf(
        "better than random at the same quality in %.1f%% of %zu bootstrap resamples "
        "(cost advantage %.1f to %.1f points of the always-strong cost)\n",
        100 * win_rate, advantages.size(), 100 * advantage_ci.low, 100 * advantage_ci.high);
    if (flags.has("config") && (reliable || flags.has("force"))) {
      std::printf("config: %s%s\n", written.c_str(),
                  reliable ? "" : " (written because of --force, although the router is not reliably better than random)");
    }
  }
  if (!reliable && flags.has("config") && !flags.has("force")) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "the router is NOT reliably better than a random share to the strong model (better in only "
        "%.1f%% of resamples; 95%% needed): %s was not written; %s (--force writes it anyway)",
        100 * win_rate, *flags.get("out"), advice));
  }
  if (!reliable) {
    std::fprintf(stderr,
                 "costroute calibrate: warning: the router is NOT reliably better than sending a random share "
                 "to the strong model (better in only %.1f%% of resamples; 95%% needed). Do not deploy this "
                 "threshold: %s.\n",
                 100 * win_rate, advice.c_str());
  }
  return absl::OkStatus();
}

}  // namespace costroute::cli
