// costroute calibrate: choose the classifier's threshold for a target,
// measure it honestly (calibrate() in costroute/eval.h), and write it into
// a config.
//
// Scores come from cross validation (each prompt scored by a model that did
// not see it) or from --model on held-out data. When the router does not
// beat the random mixture in at least 95% of the bootstrap's resamples,
// calibrate says so, claims no savings and refuses to write the config
// (--force overrides).
#include <cmath>
#include <cstdio>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/training_flags.h"
#include "costroute/eval.h"
#include "costroute/internal/status_macros.h"
#include "io/file_util.h"
#include "io/json_writer.h"

namespace costroute::cli {
namespace {

// Fewer distinct prompts than this get a warning that calibrate's
// numbers mean little.
constexpr size_t kFewPrompts = 30;

// A percentage printed with one decimal: a difference of two ways of
// summing the same costs, within rounding of 0, as 0 rather than "-0.0".
double shown(double percent) { return std::fabs(percent) < 0.05 ? 0.0 : percent; }

// How `model` was trained, as far as its file says: its vectorizer and
// context fields, and the C, class weights, target and win head's C factor
// that costroute's trainer records in the provenance (else those of
// `otherwise`, the label for the target and 1 for the factor).
TrainOptions trained_as(const Model& model, const TrainOptions& otherwise) {
  TrainOptions o = otherwise;
  o.vectorizer = model.vectorizer().options();
  o.context_fields.clear();
  for (const ContextFeature& f : model.context_features()) o.context_fields.push_back(f.field);
  // A model that does not say (imported from scikit-learn, or older) learned
  // the label; an older one with a win head fitted it with C.
  o.target = TrainTarget::kLabel;
  o.win_C_factor = 1.0;
  for (const auto& [key, value] : model.provenance()) {
    double c = 0;
    if (key == "C" && absl::SimpleAtod(value, &c)) o.C = c;
    if (key == "win_C_factor" && absl::SimpleAtod(value, &c)) o.win_C_factor = c;
    if (key == "class_weight") o.balanced_class_weight = value == "balanced";
    if (key == "target") (void)parse_target(value, o.target);
  }
  return o;
}

// " extra_data=FILES extra_weight=W" for training with extra examples,
// else "" (no FILES).
std::string describe_extra(const std::string& files, const std::string& weight) {
  return files.empty() ? "" : absl::StrCat(" extra_data=", files, " extra_weight=", weight);
}

// describe_extra() of the extra examples `model` was trained with, from
// the provenance that train writes.
std::string extra_trained_as(const Model& model) {
  std::string files, weight;
  for (const auto& [key, value] : model.provenance()) {
    if (key == "extra_data") files = value;
    if (key == "extra_weight") weight = value;
  }
  return describe_extra(files, weight);
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

  CalibrationTarget target = CalibrateOptions{}.target;  // a 3% drop
  int targets = 0;
  for (auto [flag, kind] : {std::pair{"max-quality-drop", CalibrationTarget::Kind::kMaxQualityDrop},
                            std::pair{"strong-share", CalibrationTarget::Kind::kStrongShare},
                            std::pair{"max-cost", CalibrationTarget::Kind::kMaxCost}}) {
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
  COSTROUTE_RETURN_IF_ERROR(check_output(flags, "out", {"data", "extra-data", "model"}));
  // The config is read, edited and loaded once before the long work, so
  // that one the written copy could not be (no classifier policy to edit,
  // a field the router does not know, a duplicate key) is reported first,
  // naming the input, whatever the data then says.
  std::string config_text;
  ConfigEdits edits;
  if (auto config_path = flags.get("config")) {
    COSTROUTE_ASSIGN_OR_RETURN(config_text, internal::read_file(*config_path));
    const std::string out_path = *flags.get("out");
    // Paths in the written config are relative to its directory: through
    // a link, the linked file's (write_file replaces that); for a stream
    // (/dev/stdout), where the shell sends it, most likely the working
    // directory.
    const std::string out_dir = internal::descriptor_named(out_path) >= 0 ? "." : config_directory(out_path);
    edits = {.threshold = 0.5,
             .policy_name = flags.get("policy").value_or(""),
             .from_dir = config_directory(*config_path),
             .to_dir = out_dir.empty() ? "." : out_dir,
             .model_path = flags.get("model").value_or("")};
    absl::StatusOr<std::string> tried = edit_config(config_text, edits);
    if (!tried.ok()) return internal::prefixed(*config_path, tried.status());
    // Loaded as the router will load the copy; its messages name the
    // input, since the edit changes only the threshold and the
    // classifier's model and path.
    if (absl::StatusOr<std::shared_ptr<const Router>> loads = parse_router(*tried, *config_path, edits.to_dir);
        !loads.ok()) {
      return loads.status();
    }
    // Never over the model the input config names, which the written
    // config names too unless --model replaces it (check_output guards
    // that one): that would lose the model.
    absl::StatusOr<std::string> named = classifier_path(config_text, edits.from_dir);
    if (!named.ok()) return internal::prefixed(*config_path, named.status());
    if (!named->empty() && internal::same_file(out_path, *named)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--out ", out_path, " is the classifier model the config names; not overwriting it"));
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
  COSTROUTE_ASSIGN_OR_RETURN(ExtraRecords extra, read_extra(flags, read, records));

  std::vector<double> scores(records.size());
  if (model) {
    COSTROUTE_ASSIGN_OR_RETURN(scores, model_scores(*model, records));
  } else {
    COSTROUTE_RETURN_IF_ERROR(check_folds(folds, records, flags.has("cv")));
    absl::StatusOr<FoldScores> cv =
        cross_validated_scores(training_set(records), cv_options, static_cast<int>(folds), static_cast<uint64_t>(seed),
                               extra_examples(extra, cv_options.context_fields, cv_options.context_fields));
    if (!cv.ok()) return internal::prefixed(data_path, cv.status());
    warn_unconverged("costroute calibrate", cv->unconverged, cv->models);
    scores = std::move(cv->scores);  // pooled raw: the threshold is a p_small_ok to deploy
  }
  const std::vector<Outcome> data = outcomes(records, scores);
  absl::StatusOr<Calibration> calibrated =
      calibrate(data, {.target = target,
                       .resamples = static_cast<int>(resamples),
                       .seed = static_cast<uint64_t>(seed),
                       .groups = prompt_groups(queries_of(records))});
  if (!calibrated.ok()) return internal::prefixed(data_path, calibrated.status());
  const Calibration& c = *calibrated;
  const Evaluation& e = c.evaluation;
  // Then no router beats always-small, and more data or a better model
  // would not change that.
  const std::string suffices = small_model_suffices(e);
  const std::string advice =
      suffices.empty() ? "collect more labelled data or improve the model" : "send every prompt to the small model";

  std::string written;
  if (auto config_path = flags.get("config")) {
    if (c.threshold > 1.0 && (c.reliable || flags.has("force"))) {
      return absl::InvalidArgumentError(
          "no threshold to write: the target keeps every prompt on the strong model, but some prompts score "
          "p_small_ok = 1, which every threshold in [0, 1] sends to the small model");
    }
    if (!c.reliable && !flags.has("force")) {
      written = "not written: the router is not reliably better than random";
    } else {
      const std::string out_path = *flags.get("out");
      edits.threshold = c.threshold;
      absl::StatusOr<std::string> updated = edit_config(config_text, edits);
      if (!updated.ok()) {
        return internal::prefixed(*config_path, updated.status());
      }
      // Write only a config the router loads (checked above with another
      // threshold; this is the one written).
      absl::StatusOr<std::shared_ptr<const Router>> loads = parse_router(*updated, out_path, edits.to_dir);
      if (!loads.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("not writing a config that would not load: ",
                                                       loads.status().message()));
      }
      // A threshold chosen on models trained one way means little for a
      // model trained another way: their scores are on different scales.
      const Model* deployed = (*loads)->model();
      if (!flags.has("model") && deployed != nullptr) {
        const std::string cv_extra = describe_extra(extra.sets.empty() ? std::string() : *flags.get("extra-data"),
                                                    internal::json_number(extra.weight));
        const std::string cv_as = describe(cv_options) + cv_extra,
                          deployed_as = describe(trained_as(*deployed, cv_options)) + extra_trained_as(*deployed);
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
        .key("threshold").value(c.threshold)
        .key("savings").value(c.savings)
        .key("savings_ci").begin_array().value(c.savings_ci.low).value(c.savings_ci.high).end_array()
        .key("quality_drop").value(c.quality_drop)
        .key("quality_drop_ci").begin_array().value(c.quality_drop_ci.low).value(c.quality_drop_ci.high).end_array()
        .key("strong_share").value(c.chosen.strong_share)
        .key("advantage_over_random").value(c.advantage_over_random)
        .key("advantage_over_random_ci").begin_array().value(c.advantage_ci.low).value(c.advantage_ci.high).end_array()
        .key("better_than_random_share").value(c.better_than_random_share)
        .key("reliable").value(c.reliable)
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
                threshold_line(c.threshold, c.chosen.strong_share).c_str());
    if (!suffices.empty()) std::printf("note: %s; no router is needed\n", suffices.c_str());
    if (c.reliable) {
      std::printf(
          "savings %.1f%% (95%% CI %.1f%% to %.1f%%), quality drop %.2f%% (95%% CI %.2f%% to %.2f%%), "
          "strong calls %.1f%%\n",
          100 * c.savings, 100 * c.savings_ci.low, 100 * c.savings_ci.high, 100 * c.quality_drop,
          100 * c.quality_drop_ci.low, 100 * c.quality_drop_ci.high, 100 * c.chosen.strong_share);
    } else {
      std::printf(
          "NO SAVINGS ATTRIBUTABLE TO THE ROUTER: it costs %.1f%% less than always-strong here, but a random "
          "%.1f%% of prompts sent to the strong model reaches the same quality for %.1f%% less, and the "
          "difference is within chance\n",
          100 * c.savings, 100 * c.random_strong_share, shown(100 * (c.savings - c.advantage_over_random)));
    }
    std::printf(
        "better than random at the same quality in %.1f%% of %d bootstrap resamples "
        "(cost advantage %.1f to %.1f points of the always-strong cost)\n",
        100 * c.better_than_random_share, c.resamples, shown(100 * c.advantage_ci.low), shown(100 * c.advantage_ci.high));
    if (flags.has("config") && (c.reliable || flags.has("force"))) {
      std::printf("config: %s%s\n", written.c_str(),
                  c.reliable ? "" : " (written because of --force, although the router is not reliably better than random)");
    }
  }
  if (!c.reliable && flags.has("config") && !flags.has("force")) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "the router is NOT reliably better than a random share to the strong model (better in only "
        "%.1f%% of resamples; 95%% needed): %s was not written; %s (--force writes it anyway)",
        100 * c.better_than_random_share, *flags.get("out"), advice));
  }
  // With a handful of prompts a bootstrap interval can even leave out its
  // own estimate; the verdict still holds (such data is never reliably
  // better than random), but the numbers mean little.
  if (const size_t prompts = distinct_prompts(queries_of(records)); prompts < kFewPrompts) {
    std::fprintf(stderr,
                 "costroute calibrate: warning: only %zu distinct prompts: the intervals and the verdict rest on too "
                 "few to mean much (a threshold worth deploying needs hundreds)\n",
                 prompts);
  }
  if (!c.reliable) {
    std::fprintf(stderr,
                 "costroute calibrate: warning: the router is NOT reliably better than sending a random share "
                 "to the strong model (better in only %.1f%% of resamples; 95%% needed). Do not deploy this "
                 "threshold: %s.\n",
                 100 * c.better_than_random_share, advice.c_str());
  }
  return absl::OkStatus();
}

}  // namespace costroute::cli
