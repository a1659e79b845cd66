// Private: the flags that set up training, shared by train, eval --cv and
// calibrate, and the labelled data they read.
#ifndef COSTROUTE_SRC_CLI_TRAINING_FLAGS_H_
#define COSTROUTE_SRC_CLI_TRAINING_FLAGS_H_

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/flags.h"
#include "costroute/eval.h"
#include "costroute/io.h"
#include "costroute/train.h"

namespace costroute::cli {

// The largest cost a record or flag may give (per prompt, in any unit):
// sums of many stay far from overflow.
inline constexpr double kMaxCost = 1e12;

// The largest quality score magnitude a record may give (any scale), and
// the least but 0: below it, doubles lose the precision that means and
// relative drops need (scores of 5e-324 gave wrong savings).
inline constexpr double kMaxQuality = 1e12;
inline constexpr double kMinQuality = 1e-300;

// The record's "quality" map (model name to score), each score 0 or within
// kMinQuality to kMaxQuality in size; errors name the file, line and model.
[[nodiscard]] absl::StatusOr<std::vector<std::pair<std::string, double>>> quality_map(const JsonlReader& in);

// Flags with a value that train_options reads.
inline constexpr std::array<std::string_view, 15> kTrainValueFlags = {
    "analyzer", "max-features", "ngram", "C", "win-c-factor", "class-weight", "min-df", "max-df", "max-iter", "tol",
    "context-fields", "learn", "threads", "extra-data", "extra-weight"};
inline constexpr std::array<std::string_view, 2> kTrainSwitches = {"sublinear-tf", "binary"};

// Both, and then `more`: for refusing training settings where nothing is trained.
inline std::vector<std::string_view> training_flags_and(std::vector<std::string_view> more = {}) {
  more.insert(more.end(), kTrainValueFlags.begin(), kTrainValueFlags.end());
  more.insert(more.end(), kTrainSwitches.begin(), kTrainSwitches.end());
  return more;
}

// Why --learn and --win-c-factor are refused beside --tune: the search
// picks the target and the win head's C itself, starting from the target
// the data suits (costroute::tune).
inline constexpr std::string_view kTuneChoosesTarget = "with --tune, which chooses what to learn";

// Training settings from --analyzer, --max-features, --ngram, --C, ...
// (docs/cli.md).
[[nodiscard]] absl::StatusOr<TrainOptions> train_options(const Flags& flags);

// One labelled record: the query, whether the small model was good enough,
// and, for evaluation, both models' quality and cost.
struct LabelledRecord {
  std::string query;
  int label = 0;
  double weight = 1.0;
  double quality_small = 0.0;
  double quality_large = 0.0;
  double quality_cheap = 0.0;  // the mean quality of the models other than the strong one
  double cost_small = 0.0;
  double cost_large = 1.0;
  std::vector<std::string> context;  // values of ReadOptions::context_fields ("" if absent)
  bool has_quality = false;          // the qualities come from a "quality" map, not the label
};

struct ReadOptions {
  std::optional<std::string> label_field;   // else label_small_ok, label, or the qualities
  std::optional<std::string> weight_field;  // per-record weight
  bool need_outcomes = false;               // qualities and costs are required
  bool need_quality = false;                // a "quality" map is required (to learn from the scores)
  bool one_scale = false;                   // every record's meta.quality_scale the same (scores are used)
  std::optional<double> cost_small;         // when records have no cost_small
  std::optional<double> cost_large;         // when records have no cost_large
  std::vector<std::string> context_fields;  // dotted paths of categorical fields
  bool context_fields_from_flag = false;     // so a field no record has is a typo, an error
  bool extra_data = false;                   // the records are --extra-data's: warnings name the file
  std::string command = "costroute";         // names the command in warnings ("costroute eval")
};

// Reads labelled JSONL (shared/data/README.md's routing format, or just
// "query" and a 0/1 label). The label is --label's field, else
// label_small_ok, else label, else quality[meta.small] >= quality[meta.large].
// Qualities come from the "quality" map (keys named by meta.small and
// meta.large); without it the small model's quality is the label and the
// strong model's 1. Errors name file, line and field.
// With options.need_outcomes, the records must also give a measure that
// routing can move: InvalidArgument when some have a "quality" map and
// others not (the label's 0/1 beside graded scores), when the small
// model's total cost is not below the strong one's, when the strong
// model is better on average but its mean quality is not above 0 (a
// relative drop needs one), and when --cost-small or --cost-large fill
// no missing cost. Warnings on stderr, naming options.command: when the
// label disagrees with the quality map (the label is trained on, the
// qualities measured), and when no record has a context field that the
// model (not --context-fields) reads.
[[nodiscard]] absl::StatusOr<std::vector<LabelledRecord>> read_labelled(
    const std::vector<std::string>& paths, const ReadOptions& options);

// Reads the record options (--label, --weight-field, --cost-small,
// --cost-large) from flags; `training` (train_options(), or the defaults
// where nothing is trained) gives the context fields to read and whether
// qualities are needed.
[[nodiscard]] absl::StatusOr<ReadOptions> read_options(std::string_view command, const Flags& flags,
                                                       bool need_outcomes, const TrainOptions& training);

// The warning when no record of the data had one of the model's context
// fields: "costroute score: warning: no record has the model's context
// field ...", on stderr.
void warn_context_field_unseen(std::string_view command, std::string_view field);

// The records as training data (with their context values, if any, and
// their quality gaps if every record has a "quality" map).
TrainingSet training_set(const std::vector<LabelledRecord>& records);

std::vector<Outcome> outcomes(const std::vector<LabelledRecord>& records, const std::vector<double>& scores);

// The values of `fields` in the reader's current record ("" where absent);
// "signal.*" fields are computed from `query` (signal_feature()).
[[nodiscard]] absl::StatusOr<std::vector<std::string>> context_values(const JsonlReader& in, std::string_view query,
                                                                      const std::vector<std::string>& fields);

// The model --model names, if any, with its context fields set as the
// fields `read` reads from each record (in the model's order).
[[nodiscard]] absl::StatusOr<std::optional<Model>> model_from_flags(const Flags& flags, ReadOptions& read);

// Scores `records` with `model`; read them with the model's context fields
// (ReadOptions::context_fields) for it to see their values.
[[nodiscard]] absl::StatusOr<std::vector<double>> model_scores(const Model& model,
                                                               const std::vector<LabelledRecord>& records);

// The records with only the context values of `chosen` (a subset of
// `fields`, the fields their values were read for), in that order.
std::vector<LabelledRecord> with_context_fields(std::vector<LabelledRecord> records,
                                               const std::vector<std::string>& fields,
                                               const std::vector<std::string>& chosen);

// --max-quality-drop (default 0.03): a number in [0, 1].
[[nodiscard]] absl::StatusOr<double> max_quality_drop(const Flags& flags);

// --tune-by apgr|savings (default apgr): what --tune compares settings by.
[[nodiscard]] absl::StatusOr<TuneObjective> tune_objective(const Flags& flags);

// The records' queries, in order (for prompt_groups(), assign_folds()).
std::vector<std::string> queries_of(const std::vector<LabelledRecord>& records);

// InvalidArgument when there are more folds (at least 2, as --cv takes them)
// than records: "--cv 5 (the default): more folds than records (4)", or
// than distinct prompts, since a repeated one stays in one fold.
// `given`: whether --cv was on the command line.
[[nodiscard]] absl::Status check_folds(int64_t folds, const std::vector<LabelledRecord>& records, bool given);

// Extra examples (--extra-data FILE[,FILE...], --extra-weight W): the
// records of each file, one set per file (ExtraExamples).
struct ExtraRecords {
  std::vector<std::vector<LabelledRecord>> sets;
  double weight = ExtraExamples{}.weight;
};

// Reads --extra-data's files as `read` reads the data (the same label,
// weight and context fields; a context field they lack is empty), beside
// the data's `records`. InvalidArgument naming the flag or file:
// --extra-weight without --extra-data or outside (0, 1e12], a file also
// given to --data, and records without a "quality" map where every
// record of the data has one (a target learned from the qualities needs
// them in every example), or a file whose every record repeats a prompt
// of the data. Records that repeat one are left out, with a note on
// stderr: cross validation would train on prompts it measures. Nothing
// without --extra-data.
[[nodiscard]] absl::StatusOr<ExtraRecords> read_extra(const Flags& flags, const ReadOptions& read,
                                                      const std::vector<LabelledRecord>& records);

// The extra records as ExtraExamples, with only the context values of
// `chosen` (as with_context_fields()).
ExtraExamples extra_examples(const ExtraRecords& extra, const std::vector<std::string>& fields,
                             const std::vector<std::string>& chosen);

// Nested cross validation of --tune (`folds` as check_folds() accepts
// them): for each of `folds` outer folds, tunes
// on the other folds (inner cross validation), trains the best settings on
// them and scores the held-out fold; returns the scores with the folds.
// `extra` joins every training part, inner and outer. Progress goes to
// stderr.
[[nodiscard]] absl::StatusOr<FoldScores> tuned_scores(const std::vector<LabelledRecord>& records,
                                                      const TrainOptions& base, const TuneOptions& tune_options,
                                                      int folds, uint64_t seed, const ExtraRecords& extra);

// When some of the `models` trained for a cross validation or a search
// stopped before converging (FoldScores::unconverged), a warning on stderr:
// "costroute eval: warning: 5 of the 5 models trained stopped before
// converging: their scores are not the optimum's; raise --max-iter".
void warn_unconverged(std::string_view command, int unconverged, int models);

// The models of a search's trials, and how many stopped before converging.
std::pair<int, int> unconverged_in(const TuneResult& tuned, int folds);

// Views of `values`, for Model::p_small_ok.
std::vector<std::string_view> views(const std::vector<std::string>& values);

}  // namespace costroute::cli

#endif  // COSTROUTE_SRC_CLI_TRAINING_FLAGS_H_
