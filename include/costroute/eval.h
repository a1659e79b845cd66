// costroute/eval.h: how much a router saves, and at what quality, on
// labelled outcomes.
//
// The data are per-prompt outcomes of a cheap ("small") and a strong
// ("large") model: each prompt's quality under both (a 0/1 correctness or a
// judge's score) and cost under both, with the router's p(small is
// sufficient). A threshold t sends a prompt to the small model when
// p >= t; sweeping t traces the router's cost-quality curve, from
// always-strong to always-small. Beside it, two references give every
// number its floor and ceiling: the random mixture (sending a random share
// to the strong model, a straight line) and the oracle (which knows every
// outcome: it moves prompts to the small model in order of quality lost per
// unit of cost saved, those that lose nothing first). With the same cost
// on every prompt that order is the cheapest way to each quality; when
// costs differ by prompt it is a knapsack's greedy order, which can miss a
// cheaper mix, so at one drop a router can then save more than the oracle.
//
// Metrics (RouteLLM's, Ong et al. 2024, "RouteLLM: Learning to Route LLMs
// with Preference Data"):
//   savings at a maximum quality drop d: 1 - cost / cost(always strong), for
//     the cheapest point whose mean quality Q is >= Q_large - d * |Q_large|
//     (Q_large: always strong's; for Q_large > 0 that is (1 - d) * Q_large);
//   PGR (performance gap recovered) at a point: (Q - Q_small) / (Q_large -
//     Q_small), the share of the strong model's lead a router keeps;
//     defined only when Q_large > Q_small (as APGR and CPT): when the small
//     model is at least as good on average, always-small loses nothing;
//   APGR: the area under PGR against the share of strong calls (trapezoids
//     over the curve's points, from share 0 to 1); random scores 0.5;
//   CPT(x): the least share of strong calls at which PGR >= x, read at the
//     router's own points (thresholds it can deploy), not interpolated
//     between them as APGR's trapezoids are; random's line reaches PGR x
//     at share x;
//   AUC: ROC AUC of p(small ok) against "small was at least as good".
//
// calibrate() chooses the threshold to deploy for a target and measures
// how surely it beats random. cross_validated_scores() and tune() train
// models: `costroute eval --cv` and `costroute train --tune` are built on
// them.
//
// Compiled (costroute::costroute).
//
// **Example**:
//
//   std::vector<costroute::Outcome> data = ...;  // p, qualities and costs
//   costroute::Evaluation e = costroute::evaluate(data, {.max_quality_drop = 0.03});
//   // e.router.savings_at_max_drop, e.random..., e.oracle...
#ifndef COSTROUTE_EVAL_H_
#define COSTROUTE_EVAL_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "costroute/train.h"

namespace costroute {

// One prompt's outcome under both models, and the router's score for it.
struct Outcome {
  double p_small_ok = 0.0;
  double quality_small = 0.0;
  double quality_large = 0.0;
  double cost_small = 0.0;
  double cost_large = 1.0;

  bool small_ok() const { return quality_small >= quality_large; }
};

// One point of a cost-quality curve.
struct CurvePoint {
  // Prompts with p >= threshold go to the small model; +inf: none do.
  double threshold = 0.0;
  double strong_share = 1.0;  // share of prompts sent to the strong model
  double cost = 0.0;          // total cost
  double quality = 0.0;       // mean quality
  double pgr = 0.0;           // performance gap recovered
};

// The metrics of one routing strategy.
struct RoutingMetrics {
  double savings_at_max_drop = 0.0;  // 1 - cost / cost(always strong)
  double quality_drop = 0.0;         // relative drop at that point
  double strong_share = 1.0;         // at that point
  // The router's threshold at that point (nullopt for random and oracle).
  std::optional<double> threshold;
  double apgr = 0.0;
  double cpt50 = 1.0;
  double cpt80 = 1.0;
  double auc = 0.5;
  std::vector<CurvePoint> curve;  // strong share from 1 down to 0
};

struct EvalOptions {
  // Largest relative quality drop allowed: (Q_large - Q) / |Q_large| <= this.
  double max_quality_drop = 0.03;
};

struct Evaluation {
  size_t n = 0;
  double quality_small = 0.0;  // mean, always small
  double quality_large = 0.0;  // mean, always strong
  double cost_small = 0.0;     // total, always small
  double cost_large = 0.0;     // total, always strong
  double max_quality_drop = 0.03;
  RoutingMetrics router;
  RoutingMetrics random;
  RoutingMetrics oracle;
};

// Evaluates a router's scores on `outcomes`. An empty input gives n = 0 and
// zero savings; unless the strong model's mean quality is above the small
// one's, PGR, APGR and CPT are NaN (savings and AUC are still measured).
// Qualities and costs are expected finite (the command line checks them):
// a NaN among them, or as max_quality_drop, lets no point of a curve
// qualify, so every strategy reports always-strong's savings, 0, rather
// than the most a NaN comparison would let through.
Evaluation evaluate(std::span<const Outcome> outcomes, const EvalOptions& options = {});

// The point of `curve` that keeps the mean quality within `max_drop` of
// `quality_large` (always-strong's mean quality) at the least cost, the
// better quality among equally cheap ones: the operating point behind
// savings_at_max_drop, and calibrate's choice for a maximum drop. `curve`
// must not be empty and starts with always-strong, which qualifies for
// any drop >= 0 and is returned when nothing does.
const CurvePoint& cheapest_within_drop(std::span<const CurvePoint> curve, double quality_large, double max_drop);

// The router's cost and quality at `threshold`: one point of its curve, a
// fixed operating point as a deployed router would run.
CurvePoint point_at_threshold(std::span<const Outcome> outcomes, double threshold);

// ROC AUC of p_small_ok for small_ok(); ties count one half, and NaN
// ranks lowest, tied with -inf (as the router sweep sends it to the strong
// model). 0.5 when only one class is present.
double roc_auc(std::span<const Outcome> outcomes);

// How surely a router's ranking beats the random mixture on this data:
// its APGR on bootstrap resamples of the prompts (drawn with replacement,
// seeded; a drawn prompt brings all its outcomes), the scores held fixed.
// Random's APGR is 0.5 on every resample. This is the data's sampling
// noise only, not that of training: with scores from cross validation,
// retraining would move the result more.
struct ApgrBootstrap {
  int resamples = 0;           // those on which APGR is defined
  double low = std::numeric_limits<double>::quiet_NaN();   // 2.5th percentile
  double high = std::numeric_limits<double>::quiet_NaN();  // 97.5th percentile
  // Share of those resamples on which APGR is above 0.5 (by more than
  // rounding); NaN when none.
  double above_random = std::numeric_limits<double>::quiet_NaN();
};

// Draws `resamples` bootstrap resamples of the prompts of `outcomes`.
// `groups` says which outcomes share a prompt, as CalibrateOptions::groups
// does (prompt_groups() of the queries); empty, each outcome is a prompt of
// its own. A resample on which the strong model is not better on average
// has no APGR and is left out, so the result can count fewer resamples
// (none for an empty input). An error only for malformed groups.
[[nodiscard]] absl::StatusOr<ApgrBootstrap> bootstrap_apgr(std::span<const Outcome> outcomes, int resamples,
                                                           uint64_t seed, std::span<const size_t> groups = {});

// ---- Calibration: the threshold to deploy -----------------------------------

// What a threshold is chosen for.
struct CalibrationTarget {
  enum class Kind {
    // The cheapest point whose relative quality drop is at most `value`
    // (the point behind savings_at_max_drop).
    kMaxQualityDrop,
    // The best quality with at most a share `value` of strong calls.
    kStrongShare,
    // The best quality at a total cost of at most `value` times
    // always-strong's.
    kMaxCost,
  };
  Kind kind = Kind::kMaxQualityDrop;
  // The drop, the share or the cost, in [0, 1]. No default: a value meant
  // for one kind would silently mean something else for another.
  double value = std::numeric_limits<double>::quiet_NaN();
};

// The fewest resamples calibrate() takes: with 10, "reliable" needs all ten.
inline constexpr int kMinCalibrationResamples = 10;

struct CalibrateOptions {
  // By default the cheapest point within a 3% quality drop.
  CalibrationTarget target = {.kind = CalibrationTarget::Kind::kMaxQualityDrop, .value = 0.03};
  int resamples = 1000;  // out-of-bag bootstrap resamples, at least kMinCalibrationResamples
  uint64_t seed = 1;     // of the bootstrap
  // Outcomes of one prompt: groups[i] is the index of the first outcome
  // with outcome i's prompt (so groups[i] <= i and groups[groups[i]] ==
  // groups[i]); empty, every outcome is a prompt of its own. The bootstrap
  // draws prompts, a drawn one bringing all its outcomes, so that no
  // threshold is measured on a copy of a prompt it was chosen on.
  std::vector<size_t> groups = {};
};

// The share of bootstrap resamples in which a router must beat the random
// mixture to be called reliably better than random (calibrate's
// Calibration::reliable, and `costroute eval`'s verdict on the APGR
// bootstrap).
inline constexpr double kReliableShare = 0.95;

// The central 95% of bootstrap values: their 2.5th and 97.5th percentiles
// (nearest rank).
struct Interval {
  double low = std::numeric_limits<double>::quiet_NaN();
  double high = std::numeric_limits<double>::quiet_NaN();
};

struct Calibration {
  // The scores' evaluation, at the target's drop (3% for a share or a cost).
  Evaluation evaluation;
  // The router's curve point that meets the target; among equally good
  // points, the one that spends least.
  CurvePoint chosen;
  // The threshold to deploy: chosen.threshold, or, when the target keeps
  // every prompt on the strong model, the next double above the top score
  // (above 1 when a prompt scores exactly 1).
  double threshold = 0.0;
  double savings = 0.0;       // at the chosen point, against always-strong
  double quality_drop = 0.0;  // relative, at the chosen point
  // The share of strong calls at which the random mixture reaches the
  // chosen point's quality, and how much less than that mixture the point
  // costs, as a share of always-strong's cost.
  double random_strong_share = 1.0;
  double advantage_over_random = 0.0;
  // An out-of-bag bootstrap measures the procedure, not the one point: on
  // each resample of the prompts (drawn with replacement, seeded) a
  // threshold is chosen for the target as above and measured on the
  // prompts that the resample left out. Choosing and measuring on the same
  // prompts would flatter the router: on a small set it finds a lucky
  // threshold even in noise.
  int resamples = 0;  // those that left a prompt out
  Interval savings_ci;
  Interval quality_drop_ci;
  Interval advantage_ci;
  // The share of resamples in which the threshold cost less than random at
  // the same quality, by more than rounding (1e-9 of always-strong's cost).
  double better_than_random_share = 0.0;
  bool reliable = false;  // better_than_random_share >= kReliableShare
};

// Chooses the threshold for options.target on the router's scores in
// `outcomes` (held-out or cross-validated), and measures it by the
// out-of-bag bootstrap. InvalidArgument, naming the field, for a target
// value outside [0, 1], fewer than kMinCalibrationResamples resamples, no
// outcomes, a score (p_small_ok) outside [0, 1] or NaN, a quality or cost
// that is not finite, a maximum cost below that of sending everything to
// the small model, or when no resample drawn leaves a prompt out to
// measure on (a handful of outcomes).
[[nodiscard]] absl::StatusOr<Calibration> calibrate(std::span<const Outcome> outcomes,
                                                    const CalibrateOptions& options = {});

// An SVG picture of the cost-quality curves: mean quality against cost
// relative to always-strong, with the router, random and oracle, the
// router's operating point and the band of allowed quality drop. `title`
// names the data.
std::string cost_quality_svg(const Evaluation& evaluation, const std::string& title);

// ---- Several models: evaluating a router config ----------------------------

// One strategy's totals over a multi-model data set.
struct TierStrategy {
  std::string name;
  double quality = 0.0;                // mean
  double cost = 0.0;                   // total
  double savings = 0.0;                // 1 - cost / cost(always strongest)
  double quality_drop = 0.0;           // relative to always strongest
  std::vector<double> model_share = {};  // share of prompts per model
};

struct TierEvaluation {
  size_t n = 0;
  std::vector<std::string> models;   // catalog order
  size_t strongest = 0;              // index of the reference model
  TierStrategy router;
  std::vector<TierStrategy> always;  // one per model: always that model
  // Knows every outcome: per prompt, the cheapest model with the best
  // quality any model reached on it.
  TierStrategy oracle;
};

// Evaluates routing decisions over m models: quality[i * m + j] and
// cost[i * m + j] are prompt i's quality and cost under model j, chosen[i]
// the model the router picked. `strongest` is the reference for savings.
// InvalidArgument when no prompt is given, the sizes disagree, or an index
// is not one of the m models.
[[nodiscard]] absl::StatusOr<TierEvaluation> evaluate_tiers(const std::vector<std::string>& models,
                                                            size_t strongest, std::span<const double> quality,
                                                            std::span<const double> cost,
                                                            std::span<const size_t> chosen);

// ---- Cross validation and tuning -------------------------------------------

// Deterministic stratified K-fold assignment: the fold of each example,
// from a seeded shuffle that is the same on every platform, dealt out so
// that every fold holds its share of each label to within one example (as
// scikit-learn's StratifiedKFold does for a classifier). A training part
// then lacks a label only when the whole set has fewer examples of it than
// there are folds. Fewer than 1 fold is taken as 1.
//
// With `queries` (one per label), an example whose query repeats an
// earlier one's goes to that one's fold, so that no prompt is both trained
// on and measured (MMLU repeats 105 of its questions): the distinct
// queries are dealt out as the examples are above, each with its first
// occurrence's label, and the shares hold for them. A training part then
// lacks a label only when fewer distinct queries than folds carry it.
// Without repeats the folds are those without `queries`.
std::vector<int> assign_folds(std::span<const int> labels, int folds, uint64_t seed,
                              std::span<const std::string> queries = {});

// Each query's first occurrence: groups[i] is the least j with queries[j]
// == queries[i]. The groups CalibrateOptions::groups takes, and those
// assign_folds() keeps in one fold; a query is distinct where groups[i] ==
// i.
std::vector<size_t> prompt_groups(std::span<const std::string> queries);

// The number of distinct queries: the most folds a split can have, since a
// repeated query stays in one fold.
size_t distinct_prompts(std::span<const std::string> queries);

// Out-of-fold scores, and the fold (assign_folds) each example was held out in.
struct FoldScores {
  std::vector<double> scores;
  std::vector<int> fold;
  // The models trained for the scores (one per fold; more in a nested
  // search), and how many of them stopped before their solver converged
  // (TrainReport::converged), whose scores are then not the optimum's.
  int models = 0;
  int unconverged = 0;
};

// Out-of-fold p(small ok): for each fold, trains with `options` on the other
// folds and scores it, so every example is scored by a model that did not
// see it. The folds train side by side on options.threads threads (0: one
// per core); the scores are the same on any number. Folds are
// assign_folds()'s with the data's queries. InvalidArgument for folds
// outside [2, n] or above the number of distinct queries, or a fold that
// cannot be trained (one class only),
// naming the lowest such fold. `extra` joins every fold's training part
// (with_extra(), its errors as that gives them) and is never scored.
[[nodiscard]] absl::StatusOr<FoldScores> cross_validated_scores(const TrainingSet& data, const TrainOptions& options,
                                                                int folds, uint64_t seed,
                                                                const ExtraExamples& extra = {});

// Replaces each out-of-fold score by its quantile within its fold, in
// (0, 1), ties sharing their mid-rank and NaN ranking lowest. The K models
// of a cross validation score on scales of their own (more so when each
// fold tunes its own C or class weights), so one threshold over pooled raw
// scores would cut each fold at a different share of its prompts; pooled
// quantiles put every fold at the same share, as a deployed router's
// calibrated threshold puts its one model. It reads the folds' score
// distributions, never their labels. Leaves `scores` unchanged and returns
// false when a fold has fewer than kMinRankedFold members (a quantile grid
// that coarse would throw the ranking away; leave-one-out has one member),
// when `fold` does not hold one entry per score, when `folds` is not in
// [1, number of scores], or when an entry of `fold` is not in [0, folds).
inline constexpr size_t kMinRankedFold = 10;
bool within_fold_quantiles(std::vector<double>& scores, std::span<const int> fold, int folds);

// What `tune` compares settings by.
enum class TuneObjective {
  // The default: kApgr, but on graded outcomes (see tune()) two settings
  // that both learn the cheaper models' quality (TrainTarget::kCheapQuality)
  // are compared by how well their out-of-fold scores rank the examples by
  // that quality: Spearman's rank correlation (TuneTrial::rank_correlation).
  // There APGR rests on the difference of two judges' grades per example,
  // and on Arena's 234-prompt training parts it chose among recipes on
  // noise; the fit to the learned target is the steadier measure: nested
  // --tune saved 15.5% there over ten seeds, against 14.8% by APGR
  // (docs/evaluation.md). Changes of target are compared by APGR.
  kAuto,
  // The area under PGR over the whole threshold sweep: a measure of the
  // whole ranking is far less noisy than one operating point, so real
  // gains clear TuneOptions::margin. Chosen by APGR, nested --tune saved
  // 44.5% on MMLU at a 3% drop (seed 1, 2026-11-28, a margin of two
  // standard errors), against 40.4% when chosen by the savings themselves
  // with the same margin (docs/experiments.md).
  kApgr,
  // The savings at TuneOptions::max_quality_drop.
  kSavings,
};

struct TuneOptions {
  double max_quality_drop = 0.03;
  int folds = 5;
  uint64_t seed = 1;
  // Context fields the search may add (each on or off); TrainingSet::context
  // holds their values in this order.
  std::vector<std::string> context_fields = {};
  int passes = 2;
  // A change of a fine setting (all but the choice among recipes, and of
  // the target on pass or fail outcomes, see tune()) is kept only if its
  // objective beats the current setting's by more than `margin` standard
  // errors of the difference,
  // estimated by `bootstrap` paired resamples of the prompts (with the
  // out-of-fold scores fixed: it leaves out the variation from training
  // and from the fold split, so it is smaller than the whole noise). Three:
  // a pass tries about fifteen changes, and with coin-flip labels
  // (tests/eval_test.cc) the search wandered off on most data sets at one
  // standard error of the savings, and on 3 of 8 at two standard errors of
  // APGR, whose bootstrap leaves out more of the noise; at three it stayed
  // on all 8. 0 keeps any change that scores higher.
  double margin = 3.0;
  int bootstrap = 200;
  TuneObjective objective = TuneObjective::kAuto;
};

struct TuneTrial {
  TrainOptions options;
  double savings = 0.0;  // cross-validated, at the maximum drop
  double apgr = 0.0;
  int unconverged = 0;  // of its TuneOptions::folds models (FoldScores::unconverged)
  // Spearman's rank correlation of the out-of-fold scores (pooled as
  // `costroute eval --cv` pools them) with TrainingSet::cheap_quality,
  // for settings that learn it; NaN for the others.
  double rank_correlation = std::numeric_limits<double>::quiet_NaN();
};

struct TuneResult {
  TrainOptions best;
  std::vector<TuneTrial> trials;  // in the order tried
  // Whether settings that learn the cheaper models' quality were compared
  // by their rank correlation (TuneObjective::kAuto on graded outcomes).
  bool by_rank_correlation = false;
};

// Searches training settings by cross validation inside `data` for the
// best options.objective (APGR, with the rank correlation between settings
// that learn a graded target (TuneObjective::kAuto), or the savings at
// options.max_quality_drop with APGR picking among candidates of equal
// savings), one setting at a time, starting from `base` (but for its
// target and context fields), for options.passes passes: context fields,
// C, one of four recipes (words; character n-grams within words;
// those with sublinear tf and balanced classes; words with binary tf and
// 20,000 features), the target (TrainTarget: the label, the soft
// targets whose values in `data` differ within the training part of every
// fold, and kLabelAndWin where every training part has examples of weight
// above 0 with a quality gap above 0 and at most 0, with
// TrainOptions::win_C_factor 1 or 3), n-gram range,
// vocabulary size,
// term frequency (counts, sublinear or binary), balanced class weights.
// The target starts as the label,
// or as kCheapQuality on graded outcomes (TrainingSet::cheap_quality
// learnable, and strictly between its least and largest values for at
// least a tenth of the examples). The best recipe is kept,
// and on pass or fail outcomes the best target if it is no worse by the
// other measure too (savings when comparing by APGR, and the reverse);
// any other change, a change of target on graded outcomes included, only
// when it is better beyond the noise (TuneOptions::margin) and, for a
// target, no worse by the other measure. When the strong model is not
// better on average in `outcomes`, APGR is undefined and the search stops
// at its start.
// `outcomes` gives each example's qualities and costs (its p_small_ok is
// ignored). `extra` joins every training part of the search's cross
// validation (cross_validated_scores); its sets hold a context row per
// query with the values of options.context_fields, as `data` does. What
// the search can learn is judged on `data` alone.
[[nodiscard]] absl::StatusOr<TuneResult> tune(const TrainingSet& data, std::span<const Outcome> outcomes,
                                              const TrainOptions& base, const TuneOptions& options,
                                              const ExtraExamples& extra = {});

// "C=1 analyzer=word ngram=1,2 max_features=5000 sublinear_tf=0 class_weight=none context=meta.subset",
// then the target if it is not the label ("target=quality-gap",
// "target=cheap-quality", "target=label-and-win", with " win_C_factor=3"
// where the win head's C is not C) and any
// other vectorizer setting that differs from its default ("binary=1
// min_df=2", "max_df=0.9"): two different settings never read the same.
std::string describe(const TrainOptions& options);

}  // namespace costroute

#endif  // COSTROUTE_EVAL_H_
