// costroute/train.h: training the learned router from labelled queries.
//
// train() fits the same pipeline as scikit-learn's
// TfidfVectorizer(max_features=5000, ngram_range=(1, 2)) +
// LogisticRegression(C=1.0): the vocabulary by scikit-learn's rules, and
// L2-regularised logistic regression with the same objective,
//
//   minimize  C * sum_i s_i * log(1 + exp(-y_i * (w . x_i + b))) + |w|^2 / 2
//
// (intercept b not penalised; s_i the example and class weights), solved by
// L-BFGS to its exact optimum rather than scikit-learn's early stop.
//
// Compiled (costroute::costroute); Eigen stays private.
//
// **Example**:
//
//   costroute::TrainingSet data;
//   data.queries = {"what is 2+2", "prove the Riemann hypothesis", ...};
//   data.labels = {1, 0, ...};  // 1: the small model was good enough
//   absl::StatusOr<costroute::TrainResult> result = costroute::train(data);
//   if (!result.ok()) return result.status();
//   absl::Status saved = costroute::save_model(result->model, "router.json");
#ifndef COSTROUTE_TRAIN_H_
#define COSTROUTE_TRAIN_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "costroute/model.h"
#include "costroute/text.h"

namespace costroute {

// The largest example weight train() takes: weights are relative to the
// regularisation (as scikit-learn's sample_weight), and far larger ones
// leave the solver no step it can take in double precision.
inline constexpr double kMaxExampleWeight = 1e12;

// The largest TrainingSet::source: sets of extra examples are few.
inline constexpr uint32_t kMaxSources = 1024;

// Labelled queries. Owned values; build it, then pass it to train().
struct TrainingSet {
  std::vector<std::string> queries = {};
  // One per query: 1 if the small model was good enough, else 0. What the
  // model learns, unless TrainOptions::target says otherwise; cross
  // validation splits folds by it either way.
  std::vector<int> labels = {};
  // Empty, or one weight in [0, kMaxExampleWeight] per query (for instance how
  // much quality is at stake on it). Multiplies the class weights.
  std::vector<double> weights = {};
  // Empty, or per query the values of TrainOptions::context_fields, in that
  // order ("" for a missing value).
  std::vector<std::vector<std::string>> context = {};
  // Empty, or per query the small model's quality minus the strong model's
  // (any scale, the same for every query), which TrainTarget::kQualityGap
  // learns, and whose sign TrainTarget::kLabelAndWin's win head learns.
  std::vector<double> quality_gap = {};
  // Empty, or per query the mean quality of the models other than the
  // strong one that scored it (the small model's alone when only the two
  // were scored; any scale, the same for every query), which
  // TrainTarget::kCheapQuality learns.
  std::vector<double> cheap_quality = {};
  // Empty, or per query the set it came from: 0 for the data's own
  // examples, k for the k-th set of extra examples (with_extra() numbers
  // them). Training gives each set k >= 1 an offset of its own beside the
  // intercept (a column of its own, penalised as a coefficient), so that
  // sets with other base rates do not pull the text's weights, and the
  // model keeps the intercept of set 0: it scores as the data's examples.
  std::vector<uint32_t> source = {};
};

// Examples from other prompt sets, scored on the same small and strong
// models, that training learns from beside the data at a lower weight:
// public benchmark outcomes beside a few hundred prompts of one's own
// traffic. Cross validation adds them to every training part and never
// scores them, so the measure stays on the data's own prompts; an extra
// example that repeats a prompt of the data would be trained on where that
// prompt is measured, so leave such examples out (the command line does).
//
// Each set keeps its own quality scale (0/1 correctness beside a judge's
// 1-10): with_extra() maps it onto the data's. On Arena (293 prompts,
// the same two models) the other three sets at weight 0.1 raised the
// cross-validated APGR from 0.529 to 0.541 with the seed recipe, higher at
// each of ten seeds; on GSM8K (1,319 prompts) they did worse
// (docs/experiments.md): measure both ways before shipping.
struct ExtraExamples {
  std::vector<TrainingSet> sets = {};
  // Each extra example weighs this times its own weight (1 without
  // weights) against the data's; in (0, 1e12].
  double weight = 0.1;
};

// The largest ExtraExamples::weight, as for an example weight.
inline constexpr double kMaxExtraWeight = kMaxExampleWeight;

// `data` followed by the examples of every set of `extra`, at
// extra.weight times their weights (the data's examples weigh 1 each
// unless weighted), each set with a TrainingSet::source of its own.
// Each set's qualities are mapped linearly onto the data's scale, so that
// training scales them all alike: its cheap_quality from its least and
// largest value onto the data's (a set with a single value onto the
// middle of the data's range), its quality_gap by the ratio of the
// largest |gap| (a set without a gap unchanged). Context rows keep their
// columns: a set has as many per query as `data`
// (TrainOptions::context_fields, in that order).
//
// InvalidArgument, naming the set ("extra.sets[1].labels: expected 80
// values (one per query), got 79"): a set whose shape does not match its
// queries, context rows of another width than the data's, qualities in
// the data but not in a set (a soft target could not be learned from
// it), a value that is not finite, or a weight outside (0, 1e12]. No
// sets: `data` unchanged.
[[nodiscard]] absl::StatusOr<TrainingSet> with_extra(const TrainingSet& data, const ExtraExamples& extra);

// What the logistic regression learns to predict.
enum class TrainTarget {
  // The label: whether the small model was good enough (its quality at
  // least the strong model's). Prompts where both models do equally well,
  // or equally badly, count as wins of the small model.
  kLabel,
  // The quality gap, as a soft label in [0, 1]: (1 + gap / G) / 2, with G
  // the largest |gap| in the training data; the model's p_small_ok then
  // estimates it, and ranks prompts by the quality expected from the small
  // model against the strong one's. With 0/1 qualities: 1 where only the
  // small model is right, 0 where only the strong one is, 1/2 where both
  // are right or both wrong. On GSM8K and MT-Bench it routes better than
  // the label, on MMLU worse (docs/evaluation.md). Its scores are on
  // another scale than a label model's: calibrate the threshold anew.
  kQualityGap,
  // How well the cheaper models do, as a soft label in [0, 1]: (q - lo) /
  // (hi - lo), with q the query's TrainingSet::cheap_quality and lo and hi
  // its least and largest values in the training data. It measures how
  // hard a prompt is rather than which model wins it: on graded scores
  // (a judge's 1-10) the difference of two noisy scores is noisier than
  // their level, and the mean of several cheaper models' scores is
  // steadier than one. On Arena (five models, judged 1-10) it ranks the
  // prompts better (APGR) than the label or the gap; on 0/1 scores (MMLU,
  // GSM8K) worse, as it ignores whether the strong model fails too
  // (docs/evaluation.md).
  // Its scores are on another scale than a label model's: calibrate the
  // threshold anew.
  kCheapQuality,
  // Two logistic regressions over the same features (a model with a
  // WinHead): the label, and whether the small model did strictly better
  // than the strong one (TrainingSet::quality_gap > 0; with 0/1 qualities,
  // only the small model right). The score is
  // (p_label + kWinHeadWeight * p_win) / (1 + kWinHeadWeight).
  //
  // What routing should rank by is the quality expected from the small
  // model against the strong one's: p(win) - p(loss), which is p_label +
  // p_win - 1. The label alone counts a tie as a win; one soft label for
  // the gap (kQualityGap) has one weight vector for three outcomes, and on
  // MMLU it ranks worse than the label. Two heads learn the two outcomes
  // apart. Wins are rare (742 of 14,042 MMLU prompts, 95 of 1,319 GSM8K
  // ones), so the win head's estimate is noisy and gets half the weight
  // of p(win) - p(loss): on MMLU and GSM8K that saved more than the full
  // weight (docs/experiments.md). On graded scores (a judge's 1-10) it did
  // not beat the label. Its scores are on another scale than a label
  // model's: calibrate the threshold anew.
  kLabelAndWin,
};

// The weight of the win head against the label head's 1
// (TrainTarget::kLabelAndWin).
inline constexpr double kWinHeadWeight = 0.5;

// The target's name in a model's provenance: "label", "quality_gap",
// "cheap_quality" or "label_and_win" (on the command line, with "-" for
// "_").
inline std::string_view name_of(TrainTarget t) {
  switch (t) {
    case TrainTarget::kLabel:
      return "label";
    case TrainTarget::kQualityGap:
      return "quality_gap";
    case TrainTarget::kCheapQuality:
      return "cheap_quality";
    case TrainTarget::kLabelAndWin:
      return "label_and_win";
  }
  return "unknown";
}
inline bool parse_target(std::string_view name, TrainTarget& out) {
  for (TrainTarget t : {TrainTarget::kLabel, TrainTarget::kQualityGap, TrainTarget::kCheapQuality,
                        TrainTarget::kLabelAndWin}) {
    if (name_of(t) == name) return out = t, true;
  }
  return false;
}

struct TrainOptions {
  VectorizerOptions vectorizer = {};
  // Inverse regularisation strength, as scikit-learn's C.
  double C = 1.0;
  // The win head's C as a multiple of C (TrainTarget::kLabelAndWin; no
  // effect on the other targets, but checked, as C is, for all). Wins are
  // rare, and a penalty that suits the label holds the win head's weights
  // close to 0: on MMLU a factor of 3 gave a higher APGR than 1 at each of
  // six seeds (the same savings at a 3% drop), on GSM8K with character
  // n-grams a lower one (docs/experiments.md), so tune() tries both.
  double win_C_factor = 1.0;
  // Weight each class by n / (2 * n_class), as class_weight="balanced".
  // With a soft label y (kQualityGap, kCheapQuality), an example counts y
  // times in class 1 and 1 - y times in class 0.
  bool balanced_class_weight = false;
  // What to learn. tune() chooses it itself and ignores this one.
  TrainTarget target = TrainTarget::kLabel;
  int max_iterations = 2000;
  // Stop when every gradient component is within this fraction of the
  // largest component at the start.
  double tolerance = 1e-9;
  // Categorical fields learned beside the text (ContextFeature), one-hot
  // encoded from the values seen in TrainingSet::context; at most
  // kMaxContextFeatures, with values in UTF-8.
  std::vector<std::string> context_fields = {};
  // Threads for the solver (and, in cross_validated_scores, for the folds
  // side by side); 0: one per core. The result does not depend on the
  // number of threads.
  int threads = 0;
  // Extra provenance recorded in the model (the data's name, ...); not the
  // keys the trainer writes itself: trainer, n_examples, C, win_C_factor,
  // class_weight, target, solver, context_fields.
  Provenance provenance = {};
};

// What the solver did, for logs and for the caller's checks. With two
// heads (TrainTarget::kLabelAndWin) the counts and the objective are the
// two fits' sums, and the relative gradient the larger.
struct TrainReport {
  size_t n_examples = 0;
  size_t n_features = 0;
  int iterations = 0;
  int evaluations = 0;  // of the objective and its gradient
  bool converged = false;
  // Not converged because a fit reached TrainOptions::max_iterations (more
  // may help), rather than because it found no step that lowers the loss
  // in double precision (a larger tolerance is needed).
  bool at_iteration_limit = false;
  double objective = 0.0;
  // Largest gradient component at the end, relative to the start.
  double relative_gradient = 0.0;
  double seconds_vectorizer = 0.0;
  double seconds_solver = 0.0;
};

struct TrainResult {
  Model model;
  TrainReport report;
};

// Fits the vocabulary and idf (scikit-learn's TfidfVectorizer.fit), with
// `options.max_features` keeping the terms of highest total count (ties go
// to the term that sorts first). InvalidArgument if no term remains.
[[nodiscard]] absl::StatusOr<Vectorizer> fit_vectorizer(
    std::span<const std::string> documents, const VectorizerOptions& options);

// Fits the logistic regression on the rows `vectorizer` gives `data`.
[[nodiscard]] absl::StatusOr<TrainResult> fit_classifier(
    Vectorizer vectorizer, const TrainingSet& data, const TrainOptions& options);

// fit_vectorizer, then fit_classifier. InvalidArgument for inconsistent
// input ("labels: expected 100 values, got 99"), a single class, a negative
// weight, C <= 0, a soft target (TrainTarget::kQualityGap, kCheapQuality)
// without its value per query, or with the same value for all, or
// kLabelAndWin without a quality gap above 0 and one at most 0. A solver
// that stops before convergence is not an error: check report.converged
// (with two heads, both converged).
[[nodiscard]] absl::StatusOr<TrainResult> train(const TrainingSet& data,
                                                const TrainOptions& options = {});

// Whether `gaps` (TrainingSet::quality_gap, or ::cheap_quality) holds two
// values that differ: what TrainTarget::kQualityGap (kCheapQuality) needs
// to learn something.
[[nodiscard]] bool quality_gaps_differ(std::span<const double> gaps);

// Whether `gaps` (TrainingSet::quality_gap) holds an example of weight
// above 0 with a gap above 0 (a win of the small model) and one with a gap
// of 0 or less: what TrainTarget::kLabelAndWin's win head needs to learn
// something. `weights` is empty (each example weighs 1) or one per gap.
[[nodiscard]] bool wins_and_non_wins(std::span<const double> gaps, std::span<const double> weights);

// The checks train() makes of its input, without training. When a fold
// fails to train, cross validation runs them on the whole set, so that a
// problem of the data (one class only) is reported as such, not as a fold's.
[[nodiscard]] absl::Status validate_training_set(const TrainingSet& data, const TrainOptions& options = {});

// TrainOptions::threads as a count: `threads` if positive, else one per
// core (at least 1).
[[nodiscard]] int resolved_threads(int threads);

}  // namespace costroute

#endif  // COSTROUTE_TRAIN_H_
