// costroute train: fit a router model on labelled JSONL (one file, or
// several separated by commas).
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/training_flags.h"
#include "costroute/internal/status_macros.h"
#include "costroute/io.h"
#include "costroute/eval.h"
#include "costroute/train.h"
#include "io/json_writer.h"

namespace costroute::cli {

absl::Status train_command(const Args& args) {
  std::vector<std::string_view> value_flags = {"data", "out", "label", "weight-field", "max-quality-drop", "cv",
                                               "cost-small", "cost-large", "tune-by"};
  value_flags.insert(value_flags.end(), kTrainValueFlags.begin(), kTrainValueFlags.end());
  std::vector<std::string_view> switches(kTrainSwitches.begin(), kTrainSwitches.end());
  switches.push_back("tune");
  COSTROUTE_ASSIGN_OR_RETURN(Flags flags, Flags::parse(args, value_flags, switches));
  COSTROUTE_ASSIGN_OR_RETURN(std::string data_path, flags.required("data"));
  COSTROUTE_ASSIGN_OR_RETURN(std::string out_path, flags.required("out"));
  COSTROUTE_RETURN_IF_ERROR(check_output(flags, "out", {"data", "extra-data"}));
  if (!flags.has("tune")) {
    COSTROUTE_RETURN_IF_ERROR(
        refuse_flags(flags, {"cv", "max-quality-drop", "cost-small", "cost-large", "tune-by"}, "without --tune"));
  } else {
    COSTROUTE_RETURN_IF_ERROR(refuse_flags(flags, {"learn", "win-c-factor"}, kTuneChoosesTarget));
  }
  COSTROUTE_ASSIGN_OR_RETURN(TrainOptions options, train_options(flags));
  // Tuning measures savings, so it needs each prompt's qualities and costs.
  COSTROUTE_ASSIGN_OR_RETURN(ReadOptions read, read_options("train", flags, /*need_outcomes=*/flags.has("tune"), options));
  COSTROUTE_ASSIGN_OR_RETURN(std::vector<std::string> data_paths, flags.list("data"));
  COSTROUTE_ASSIGN_OR_RETURN(std::vector<LabelledRecord> records, read_labelled(data_paths, read));
  COSTROUTE_ASSIGN_OR_RETURN(ExtraRecords extra, read_extra(flags, read, records));
  TrainingSet data = training_set(records);
  std::vector<std::string> fields = options.context_fields;  // the values read, whichever --tune keeps
  options.provenance.emplace_back("data", data_path);
  if (!extra.sets.empty()) {
    options.provenance.emplace_back("extra_data", std::string(*flags.get("extra-data")));
    options.provenance.emplace_back("extra_weight", internal::json_number(extra.weight));
  }
  if (flags.has("tune")) {
    COSTROUTE_ASSIGN_OR_RETURN(double max_drop, max_quality_drop(flags));
    // As eval's and calibrate's --cv; check_folds() bounds it by the prompts.
    COSTROUTE_ASSIGN_OR_RETURN(int64_t folds, flags.integer("cv", 5, 2, 1000000));
    COSTROUTE_RETURN_IF_ERROR(check_folds(folds, records, flags.has("cv")));
    COSTROUTE_ASSIGN_OR_RETURN(TuneObjective objective, tune_objective(flags));
    const TuneOptions tune_options{.max_quality_drop = max_drop, .folds = static_cast<int>(folds),
                                   .context_fields = options.context_fields, .objective = objective};
    absl::StatusOr<TuneResult> searched =
        tune(data, outcomes(records, std::vector<double>(records.size())), options, tune_options,
             extra_examples(extra, fields, fields));
    if (!searched.ok()) return internal::prefixed(data_path, searched.status());
    const TuneResult& tuned = *searched;
    // The rank correlation where the search compared by it.
    auto print_trial = [max_drop, &tuned](std::string_view verb, const TuneTrial& t) {
      const std::string apgr = std::isnan(t.apgr) ? "undefined" : absl::StrFormat("%.3f", t.apgr);
      const std::string rank = !tuned.by_rank_correlation || std::isnan(t.rank_correlation)
                                   ? ""
                                   : absl::StrFormat(", rank correlation %.4f", t.rank_correlation);
      std::fprintf(stderr, "costroute train --tune: %s%s: savings %.2f%% at %.1f%% drop, APGR %s%s\n",
                   std::string(verb).c_str(), describe(t.options).c_str(), 100 * t.savings, 100 * max_drop,
                   apgr.c_str(), rank.c_str());
    };
    for (const TuneTrial& t : tuned.trials) print_trial("", t);
    // Then the winner, which is not always the last tried.
    const std::string chosen = describe(tuned.best);
    for (const TuneTrial& t : tuned.trials) {
      if (describe(t.options) == chosen) {
        print_trial("chose ", t);
        break;
      }
    }
    const auto [models, unconverged] = unconverged_in(tuned, tune_options.folds);
    warn_unconverged("costroute train --tune", unconverged, models);
    if (std::isnan(tuned.trials.front().apgr)) {
      std::fprintf(stderr,
                   "costroute train --tune: warning: in %s the strong model is not better on average than the small "
                   "one, so no setting can beat another and the search kept its starting settings; sending every "
                   "prompt to the small model loses no quality\n",
                   data_path.c_str());
    }
    const Provenance provenance = options.provenance;
    data = training_set(with_context_fields(records, options.context_fields, tuned.best.context_fields));
    options = tuned.best;
    options.provenance = provenance;
    const std::string by =
        objective == TuneObjective::kSavings ? absl::StrCat("by savings at ", 100 * max_drop, "% drop")
        : tuned.by_rank_correlation ? "by rank correlation with the cheaper models' quality, targets by APGR"
                                    : "by APGR";
    options.provenance.emplace_back("tuned", absl::StrCat(describe(options), " (", folds, "-fold CV, ", by, ")"));
  }
  absl::StatusOr<TrainingSet> joined = with_extra(data, extra_examples(extra, fields, options.context_fields));
  if (!joined.ok()) return internal::prefixed(data_path, joined.status());
  absl::StatusOr<TrainResult> trained = train(*joined, options);
  // The data's problem ("labels: every example has label 1"), named by its file.
  if (!trained.ok()) return internal::prefixed(data_path, trained.status());
  TrainResult& result = *trained;
  COSTROUTE_RETURN_IF_ERROR(save_model(result.model, out_path));

  const TrainReport& r = result.report;
  if (!r.converged) {
    // At the iteration limit, more iterations may help; before it, the
    // solver found no step that lowers the loss in double precision, and
    // a --tol that small cannot be reached.
    std::fprintf(stderr,
                 "costroute train: warning: the solver stopped after %d iterations%s before converging (relative "
                 "gradient %.3g, --tol %.3g); %s\n",
                 r.iterations, result.model.win_head() ? " of its two heads" : "", r.relative_gradient,
                 options.tolerance,
                 r.at_iteration_limit ? "raise --max-iter"
                                      : "it can make no further progress in double precision: raise --tol");
  }
  internal::JsonWriter w;
  w.begin_object()
      .key("out").value(out_path)
      .key("n_examples").value(r.n_examples)
      .key("n_features").value(r.n_features)
      .key("iterations").value(r.iterations)
      .key("evaluations").value(r.evaluations)
      .key("converged").value(r.converged)
      .key("relative_gradient").value(r.relative_gradient)
      .key("seconds_vectorizer").value(r.seconds_vectorizer)
      .key("seconds_solver").value(r.seconds_solver)
      .end_object();
  std::printf("%s\n", w.str().c_str());
  return absl::OkStatus();
}

}  // namespace costroute::cli
