// Logistic regression with scikit-learn's objective, solved to its optimum.
#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <functional>
#include <numeric>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "costroute/internal/status_macros.h"
#include "costroute/internal/unicode.h"
#include "costroute/train.h"
#include "costroute/version.h"
#include "io/json_writer.h"
#include "model/lbfgs.h"

namespace costroute {
namespace {

// The least C times the total example weight that a fit accepts (see fit()).
constexpr double kMinDataWeight = 1e-12;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

bool quality_gaps_differ(std::span<const double> gaps) {
  return std::adjacent_find(gaps.begin(), gaps.end(), std::not_equal_to<>()) != gaps.end();
}

namespace {

// The total weight (1 each without weights) of the examples whose gap is
// at most 0 ([0]) and above 0 ([1]).
std::array<double, 2> win_class_weights(std::span<const double> gaps, std::span<const double> weights) {
  std::array<double, 2> total = {0.0, 0.0};
  for (size_t i = 0; i < gaps.size(); ++i) total[gaps[i] > 0.0 ? 1 : 0] += weights.empty() ? 1.0 : weights[i];
  return total;
}

}  // namespace

bool wins_and_non_wins(std::span<const double> gaps, std::span<const double> weights) {
  const std::array<double, 2> total = win_class_weights(gaps, weights);
  return total[0] > 0.0 && total[1] > 0.0;
}

absl::Status validate_training_set(const TrainingSet& data, const TrainOptions& options) {
  const size_t n = data.queries.size();
  if (n == 0) return absl::InvalidArgumentError("queries: no training examples");
  if (options.target != TrainTarget::kLabel && options.target != TrainTarget::kQualityGap &&
      options.target != TrainTarget::kCheapQuality && options.target != TrainTarget::kLabelAndWin) {
    return absl::InvalidArgumentError(
        absl::StrCat("target: not a TrainTarget (", static_cast<int>(options.target), ")"));
  }
  if (data.labels.size() != n) {
    return absl::InvalidArgumentError(absl::StrCat(
        "labels: expected ", n, " values (one per query), got ", data.labels.size()));
  }
  if (!data.weights.empty() && data.weights.size() != n) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weights: expected ", n, " values (one per query) or none, got ",
        data.weights.size()));
  }
  if (!data.source.empty() && data.source.size() != n) {
    return absl::InvalidArgumentError(absl::StrCat(
        "source: expected ", n, " values (one per query) or none, got ", data.source.size()));
  }
  for (size_t i = 0; i < data.source.size(); ++i) {
    if (data.source[i] > kMaxSources) {
      return absl::InvalidArgumentError(
          absl::StrCat("source[", i, "]: expected at most ", kMaxSources, ", got ", data.source[i]));
    }
  }
  // Both labels among the data's own examples (TrainingSet::source 0):
  // extra sets teach beside the data, not instead of it.
  size_t positives = 0, own = 0;
  for (size_t i = 0; i < n; ++i) {
    if (data.labels[i] != 0 && data.labels[i] != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("labels[", i, "]: expected 0 or 1, got ", data.labels[i]));
    }
    if (!data.source.empty() && data.source[i] != 0) continue;
    positives += data.labels[i];
    ++own;
  }
  if (positives == 0 || positives == own) {
    return absl::InvalidArgumentError(absl::StrCat(
        "labels: every example", data.source.empty() ? "" : " of the data (source 0)", " has label ",
        positives == 0 ? 0 : 1, "; training needs examples of both 0 and 1"));
  }
  double class_total[2] = {0.0, 0.0};
  for (size_t i = 0; i < data.weights.size(); ++i) {
    if (!(data.weights[i] >= 0.0 && data.weights[i] <= kMaxExampleWeight)) {
      return absl::InvalidArgumentError(
          absl::StrCat("weights[", i, "]: expected a number in [0, 1e12], got ", data.weights[i]));
    }
    class_total[data.labels[i]] += data.weights[i];
  }
  for (int label : {0, 1}) {
    // Each weight is at most kMaxExampleWeight: the sums stay finite.
    if (!data.weights.empty() && !(class_total[label] > 0.0)) {
      return absl::InvalidArgumentError(absl::StrCat("weights: the examples of label ", label,
                                                     " all have weight 0; training needs weight on both labels"));
    }
  }
  // The soft targets: each optional, one finite value per query, and the
  // target's values must differ (equal values are one soft label for all).
  struct SoftTarget {
    const char* field;
    const std::vector<double>& values;
    TrainTarget target;
    const char* learning;
  };
  for (const SoftTarget& t : {SoftTarget{"quality_gap", data.quality_gap, TrainTarget::kQualityGap, "the quality gap"},
                              SoftTarget{"cheap_quality", data.cheap_quality, TrainTarget::kCheapQuality,
                                         "the cheaper models' quality"}}) {
    if (!t.values.empty() && t.values.size() != n) {
      return absl::InvalidArgumentError(absl::StrCat(t.field, ": expected ", n, " values (one per query) or none, got ",
                                                     t.values.size()));
    }
    for (size_t i = 0; i < t.values.size(); ++i) {
      if (!std::isfinite(t.values[i])) {
        return absl::InvalidArgumentError(absl::StrCat(t.field, "[", i, "]: not a finite number"));
      }
    }
    if (options.target != t.target) continue;
    if (t.values.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(t.field, ": learning ", t.learning, " needs one value per query (", n, "), got none"));
    }
    if (!quality_gaps_differ(t.values)) {
      return absl::InvalidArgumentError(absl::StrCat(t.field, ": every value is ", t.values.front(), "; learning ",
                                                     t.learning, " needs values that differ between queries"));
    }
  }
  // The win head learns whether the gap is above 0: both kinds must be
  // there, with weight.
  if (options.target == TrainTarget::kLabelAndWin) {
    if (data.quality_gap.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "quality_gap: learning the label and the small model's wins needs one value per query (", n, "), got none"));
    }
    const std::array<double, 2> win_total = win_class_weights(data.quality_gap, data.weights);
    for (int win : {0, 1}) {
      if (!(win_total[win] > 0.0)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "quality_gap: no example", data.weights.empty() ? "" : " of weight above 0", " where the small model did ",
            win == 1 ? "better than the strong one (a gap above 0)" : "no better (a gap of 0 or less)",
            "; learning the small model's wins needs both"));
      }
    }
  }
  for (const auto& [key, value] : options.provenance) {
    for (const char* written : {"trainer", "n_examples", "C", "win_C_factor", "class_weight", "target", "solver",
                                "context_fields"}) {
      if (key == written) {
        return absl::InvalidArgumentError(absl::StrCat("provenance: \"", key, "\" is written by the trainer"));
      }
    }
  }
  if (options.context_fields.size() > kMaxContextFeatures) {
    return absl::InvalidArgumentError(absl::StrCat("context_fields: more than ", kMaxContextFeatures));
  }
  for (size_t f = 0; f < options.context_fields.size(); ++f) {
    if (absl::Status s = check_context_field(options.context_fields[f]); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("context_fields[", f, "]: ", s.message()));
    }
  }
  if (!options.context_fields.empty()) {
    if (data.context.size() != n) {
      return absl::InvalidArgumentError(absl::StrCat(
          "context: expected ", n, " rows (one per query) for the context fields, got ", data.context.size()));
    }
    for (size_t i = 0; i < n; ++i) {
      if (data.context[i].size() != options.context_fields.size()) {
        return absl::InvalidArgumentError(absl::StrCat("context[", i, "]: expected ",
                                                       options.context_fields.size(), " values, got ",
                                                       data.context[i].size()));
      }
      for (size_t f = 0; f < data.context[i].size(); ++f) {
        if (!internal::valid_utf8(data.context[i][f])) {  // a model file could not hold it
          return absl::InvalidArgumentError(absl::StrCat("context[", i, "][", f, "] (", options.context_fields[f],
                                                         "): not valid UTF-8"));
        }
      }
    }
  }
  if (!(options.C > 0.0) || !std::isfinite(options.C)) {
    return absl::InvalidArgumentError(
        absl::StrCat("C: expected a positive number, got ", options.C));
  }
  if (!(options.win_C_factor > 0.0) || !std::isfinite(options.C * options.win_C_factor)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "win_C_factor: expected a positive number that keeps C times it finite, got ", options.win_C_factor));
  }
  if (options.max_iterations < 1) {
    return absl::InvalidArgumentError("max_iterations: expected at least 1");
  }
  if (!(options.tolerance >= 0.0) || !std::isfinite(options.tolerance)) {
    return absl::InvalidArgumentError(
        absl::StrCat("tolerance: expected a number >= 0, got ", options.tolerance));
  }
  return absl::OkStatus();
}

namespace {

// The rows of the training set, exactly as scoring computes them, in CSR.
struct Rows {
  std::vector<size_t> starts;  // row i is entries [starts[i], starts[i + 1])
  std::vector<int32_t> columns;
  std::vector<double> values;
};

// The values of each context field seen in training, sorted.
std::vector<ContextFeature> context_vocabulary(const TrainingSet& data, const TrainOptions& options) {
  std::vector<ContextFeature> features(options.context_fields.size());
  for (size_t f = 0; f < features.size(); ++f) {
    features[f].field = options.context_fields[f];
    for (const auto& values : data.context) {
      if (!values[f].empty()) features[f].values.push_back(values[f]);
    }
    std::sort(features[f].values.begin(), features[f].values.end());
    features[f].values.erase(std::unique(features[f].values.begin(), features[f].values.end()),
                             features[f].values.end());
  }
  return features;
}

// The number of extra sets (TrainingSet::source above 0): the largest source.
size_t extra_sources(const TrainingSet& data) {
  return data.source.empty() ? 0 : *std::max_element(data.source.begin(), data.source.end());
}

// Text columns, then one column per (context field, value), value 1, then
// one per extra set (TrainingSet::source k >= 1 in column k - 1), value 1.
Rows vectorize(const Vectorizer& vectorizer, const TrainingSet& data,
               const std::vector<ContextFeature>& context) {
  Rows rows;
  rows.starts.reserve(data.queries.size() + 1);
  rows.starts.push_back(0);
  TextScratch scratch;
  for (size_t i = 0; i < data.queries.size(); ++i) {
    const SparseRow& row = vectorizer.transform(data.queries[i], scratch);
    rows.columns.insert(rows.columns.end(), row.columns.begin(), row.columns.end());
    rows.values.insert(rows.values.end(), row.values.begin(), row.values.end());
    int32_t offset = static_cast<int32_t>(vectorizer.num_features());
    for (size_t f = 0; f < context.size(); ++f) {
      const std::vector<std::string>& values = context[f].values;
      const auto it = std::lower_bound(values.begin(), values.end(), data.context[i][f]);
      if (!data.context[i][f].empty() && it != values.end() && *it == data.context[i][f]) {
        rows.columns.push_back(offset + static_cast<int32_t>(it - values.begin()));
        rows.values.push_back(1.0);
      }
      offset += static_cast<int32_t>(values.size());
    }
    if (!data.source.empty() && data.source[i] > 0) {
      rows.columns.push_back(offset + static_cast<int32_t>(data.source[i] - 1));
      rows.values.push_back(1.0);
    }
    rows.starts.push_back(rows.columns.size());
  }
  return rows;
}

// The objective C * sum_i s_i * logloss_i + |w|^2 / 2 and its gradient, in
// one pass over the rows per evaluation. Rows are split into a fixed number
// of chunks whose partial sums are added in chunk order, so the result is
// the same bit for bit whatever the number of threads.
class Objective {
 public:
  static constexpr size_t kChunks = 16;

  Objective(const Rows& rows, std::vector<double> y, std::vector<double> s, double C,
            size_t d, int threads)
      : rows_(rows), y_(std::move(y)), s_(std::move(s)), C_(C), d_(d),
        threads_(std::max(1, threads)), partial_(kChunks) {
    for (Partial& p : partial_) p.gradient = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(d));
  }

  double operator()(const Eigen::VectorXd& params, Eigen::VectorXd& gradient) {
    const int threads = std::min<int>(threads_, kChunks);
    std::vector<std::thread> workers;
    for (int t = 1; t < threads; ++t) {
      try {
        workers.emplace_back([&, t] { run_chunks(params, t, threads); });
      } catch (const std::system_error&) {
        // No more threads (a process limit): this one takes their chunks;
        // the sums are per chunk, so the result is the same.
        for (int u = t; u < threads; ++u) run_chunks(params, u, threads);
        break;
      }
    }
    run_chunks(params, 0, threads);
    for (std::thread& w : workers) w.join();

    const auto w = params.head(static_cast<Eigen::Index>(d_));
    gradient.resize(static_cast<Eigen::Index>(d_ + 1));
    gradient.head(static_cast<Eigen::Index>(d_)).setZero();
    double loss = 0.0, intercept_gradient = 0.0;
    for (const Partial& p : partial_) {
      gradient.head(static_cast<Eigen::Index>(d_)) += p.gradient;
      loss += p.loss;
      intercept_gradient += p.intercept_gradient;
    }
    gradient.head(static_cast<Eigen::Index>(d_)) *= C_;
    gradient.head(static_cast<Eigen::Index>(d_)) += w;
    gradient[static_cast<Eigen::Index>(d_)] = C_ * intercept_gradient;
    return C_ * loss + 0.5 * w.squaredNorm();
  }

 private:
  struct Partial {
    Eigen::VectorXd gradient;
    double loss = 0.0;
    double intercept_gradient = 0.0;
  };

  void run_chunks(const Eigen::VectorXd& params, int first, int stride) {
    for (size_t c = static_cast<size_t>(first); c < kChunks; c += static_cast<size_t>(stride)) {
      run_chunk(params, c);
    }
  }

  void run_chunk(const Eigen::VectorXd& params, size_t chunk) {
    const size_t n = y_.size();
    const size_t begin = n * chunk / kChunks, end = n * (chunk + 1) / kChunks;
    Partial& p = partial_[chunk];
    p.gradient.setZero();
    p.loss = p.intercept_gradient = 0.0;
    const double* w = params.data();
    const double b = params[static_cast<Eigen::Index>(d_)];
    double* g = p.gradient.data();
    for (size_t i = begin; i < end; ++i) {
      const size_t row_begin = rows_.starts[i], row_end = rows_.starts[i + 1];
      double z = b;
      for (size_t k = row_begin; k < row_end; ++k) z += rows_.values[k] * w[rows_.columns[k]];
      // softplus(z) = log(1 + e^z) and sigmoid(z) from one exponential.
      const double e = std::exp(-std::fabs(z));
      const double softplus = std::max(z, 0.0) + std::log1p(e);
      const double sigmoid = z >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
      p.loss += s_[i] * (softplus - y_[i] * z);
      const double r = s_[i] * (sigmoid - y_[i]);
      p.intercept_gradient += r;
      for (size_t k = row_begin; k < row_end; ++k) g[rows_.columns[k]] += r * rows_.values[k];
    }
  }

  const Rows& rows_;
  const std::vector<double> y_, s_;
  const double C_;
  const size_t d_;
  const int threads_;
  std::vector<Partial> partial_;
};

}  // namespace

int resolved_threads(int threads) {
  return threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

namespace {

// One logistic regression's solution: the weights of the text and context
// columns, then the intercept.
struct Solved {
  Eigen::VectorXd params;
  internal::LbfgsResult lbfgs;
};

// Fits a logistic regression on `rows` (`d` columns) to y, per example a
// 0/1 label or a soft label in [0, 1], with the class and example weights
// of `options` and `data`.
absl::StatusOr<Solved> solve(const Rows& rows, std::vector<double> y, size_t d, const TrainingSet& data,
                             const TrainOptions& options, bool win_head) {
  const size_t n = y.size();
  std::vector<double> s(n);
  // Balanced classes: an example is y of an example of class 1 and 1 - y
  // of one of class 0. Its loss y * w1 * softplus(-z) + (1 - y) * w0 *
  // softplus(z) is (a + b) times the loss of the soft label a / (a + b),
  // with a = y * w1 and b = (1 - y) * w0; for a 0/1 label, exactly the
  // class weight of scikit-learn's class_weight="balanced".
  double class_weight[2] = {1.0, 1.0};
  if (options.balanced_class_weight) {
    // The data's own classes (TrainingSet::source 0) set the balance, not
    // extra sets of other base rates, however many; all examples where the
    // data lacks a class (a win head's wins).
    auto balance = [&](bool own_only) {
      double count[2] = {0.0, 0.0}, examples = 0.0;
      for (size_t i = 0; i < n; ++i) {
        if (own_only && !data.source.empty() && data.source[i] != 0) continue;
        count[1] += y[i];
        count[0] += 1.0 - y[i];
        examples += 1.0;
      }
      if (!(count[0] > 0.0 && count[1] > 0.0)) return false;
      for (int c = 0; c < 2; ++c) class_weight[c] = examples / (2.0 * count[c]);
      return true;
    };
    if (!balance(/*own_only=*/true)) balance(/*own_only=*/false);
  }
  for (size_t i = 0; i < n; ++i) {
    const double a = y[i] * class_weight[1], b = (1.0 - y[i]) * class_weight[0];
    y[i] = a / (a + b);
    s[i] = (a + b) * (data.weights.empty() ? 1.0 : data.weights[i]);
  }
  // The intercept has no penalty: its curvature is about C times the total
  // weight, against at least 1 for every coefficient. Far below 1 the
  // solver cannot find it in double precision: measured on GSM8K and on 10
  // examples, it fits the log odds down to 1e-14 or 1e-15 and stalls
  // below; weights near 5e-324 make the first gradient exactly 0, a false
  // "converged" at an intercept of 0. The floor keeps a factor of 100.
  const double C = win_head ? options.C * options.win_C_factor : options.C;
  if (const double data_weight = C * std::accumulate(s.begin(), s.end(), 0.0);
      !(data_weight >= kMinDataWeight)) {
    // With balanced classes the win head's total weight differs from the
    // label's: its classes are the wins and the rest.
    const bool scaled = win_head && options.win_C_factor != 1.0;
    const char* c_name = scaled ? "C times win_C_factor" : "C";
    return absl::InvalidArgumentError(absl::StrCat(
        data.weights.empty() ? "C: " : "weights: ", c_name,
        data.weights.empty() ? " times the number of examples" : " times the total example weight",
        win_head && (scaled || !data.weights.empty()) ? " for the win head is " : " is ", data_weight,
        ", below 1e-12: the examples would weigh nothing against the penalty; raise ",
        scaled ? "C or win_C_factor" : "C", data.weights.empty() ? "" : " or scale the weights up"));
  }
  Objective objective(rows, std::move(y), std::move(s), C, d, resolved_threads(options.threads));
  Solved solved{Eigen::VectorXd::Zero(static_cast<Eigen::Index>(d + 1)), {}};
  internal::LbfgsOptions lbfgs;
  lbfgs.max_iterations = options.max_iterations;
  lbfgs.tolerance = options.tolerance;
  solved.lbfgs = internal::minimize_lbfgs(
      [&objective](const Eigen::VectorXd& x, Eigen::VectorXd& g) { return objective(x, g); }, solved.params, lbfgs);
  return solved;
}

std::string describe_solver(const internal::LbfgsResult& r) {
  return absl::StrCat(r.iterations, " iterations, ", r.converged ? "converged" : "NOT converged");
}

}  // namespace

absl::StatusOr<TrainResult> fit_classifier(Vectorizer vectorizer,
                                           const TrainingSet& data,
                                           const TrainOptions& options) {
  COSTROUTE_RETURN_IF_ERROR(validate_training_set(data, options));
  const auto start = std::chrono::steady_clock::now();
  const size_t n = data.queries.size();
  std::vector<ContextFeature> context = context_vocabulary(data, options);
  size_t d = vectorizer.num_features();
  for (const ContextFeature& c : context) d += c.values.size();
  d += extra_sources(data);  // their offsets, dropped from the model below
  const Rows rows = vectorize(vectorizer, data, context);

  // What each example teaches: y, the label or a soft label in [0, 1].
  std::vector<double> y(n);
  if (options.target == TrainTarget::kQualityGap) {
    double largest = 0.0;
    for (double g : data.quality_gap) largest = std::max(largest, std::fabs(g));
    for (size_t i = 0; i < n; ++i) y[i] = std::clamp(0.5 + 0.5 * (data.quality_gap[i] / largest), 0.0, 1.0);
  } else if (options.target == TrainTarget::kCheapQuality) {
    const auto [lo, hi] = std::minmax_element(data.cheap_quality.begin(), data.cheap_quality.end());
    // The values differ (validate_training_set), so the range is above 0,
    // if only a subnormal; it overflows only for values of both signs
    // beyond 1e308, which are then halved first.
    const double range = *hi - *lo;
    const bool overflows = !std::isfinite(range);
    for (size_t i = 0; i < n; ++i) {
      const double q = data.cheap_quality[i];
      y[i] = std::clamp(overflows ? (q / 2 - *lo / 2) / (*hi / 2 - *lo / 2) : (q - *lo) / range, 0.0, 1.0);
    }
  } else {
    for (size_t i = 0; i < n; ++i) y[i] = data.labels[i];
  }
  const double seconds_vectorizer = seconds_since(start);

  const auto solve_start = std::chrono::steady_clock::now();
  COSTROUTE_ASSIGN_OR_RETURN(const Solved solved, solve(rows, std::move(y), d, data, options, /*win_head=*/false));
  std::optional<Solved> win;
  if (options.target == TrainTarget::kLabelAndWin) {
    std::vector<double> wins(n);
    for (size_t i = 0; i < n; ++i) wins[i] = data.quality_gap[i] > 0.0 ? 1.0 : 0.0;
    COSTROUTE_ASSIGN_OR_RETURN(win, solve(rows, std::move(wins), d, data, options, /*win_head=*/true));
  }

  TrainReport report;
  report.n_examples = n;
  report.n_features = d;
  report.iterations = solved.lbfgs.iterations + (win ? win->lbfgs.iterations : 0);
  report.evaluations = solved.lbfgs.evaluations + (win ? win->lbfgs.evaluations : 0);
  report.converged = solved.lbfgs.converged && (!win || win->lbfgs.converged);
  auto at_limit = [&](const Solved& s) { return !s.lbfgs.converged && s.lbfgs.iterations >= options.max_iterations; };
  report.at_iteration_limit = at_limit(solved) || (win && at_limit(*win));
  report.objective = solved.lbfgs.value + (win ? win->lbfgs.value : 0.0);
  report.relative_gradient = std::max(solved.lbfgs.relative_gradient, win ? win->lbfgs.relative_gradient : 0.0);
  report.seconds_vectorizer = seconds_vectorizer;
  report.seconds_solver = seconds_since(solve_start);

  Provenance provenance = {
      {"trainer", "costroute " COSTROUTE_VERSION_STRING},
      {"n_examples", absl::StrCat(n)},
      {"C", internal::json_number(options.C)},  // exactly, so that calibrate reads back the C trained with
      {"class_weight", options.balanced_class_weight ? "balanced" : "none"},
      {"target", std::string(name_of(options.target))},
      {"solver", absl::StrCat("lbfgs, ", describe_solver(solved.lbfgs),
                              win ? absl::StrCat("; win head ", describe_solver(win->lbfgs)) : "")},
  };
  // Exactly, as C, so that calibrate can compare its flags with the model's.
  if (win) provenance.emplace_back("win_C_factor", internal::json_number(options.win_C_factor));
  for (const auto& entry : options.provenance) provenance.push_back(entry);

  const size_t text_columns = vectorizer.num_features();
  const double* p = solved.params.data();
  const double* q = win ? win->params.data() : nullptr;
  size_t offset = text_columns;
  for (ContextFeature& c : context) {
    c.coef.assign(p + offset, p + offset + c.values.size());
    if (q) c.win_coef.assign(q + offset, q + offset + c.values.size());
    offset += c.values.size();
  }
  if (!context.empty()) {
    std::string fields;
    for (const ContextFeature& c : context) absl::StrAppend(&fields, fields.empty() ? "" : ",", c.field);
    provenance.emplace_back("context_fields", fields);
  }
  std::optional<WinHead> win_head;
  if (q) win_head = WinHead{kWinHeadWeight, std::vector<double>(q, q + text_columns), q[d]};
  COSTROUTE_ASSIGN_OR_RETURN(
      Model model, Model::create(std::move(vectorizer), std::vector<double>(p, p + text_columns), p[d],
                                 std::move(provenance), std::move(context), std::move(win_head)));
  return TrainResult{std::move(model), report};
}

absl::StatusOr<TrainResult> train(const TrainingSet& data, const TrainOptions& options) {
  COSTROUTE_RETURN_IF_ERROR(validate_training_set(data, options));
  const auto start = std::chrono::steady_clock::now();
  COSTROUTE_ASSIGN_OR_RETURN(Vectorizer vectorizer,
                             fit_vectorizer(data.queries, options.vectorizer));
  const double seconds_vocabulary = seconds_since(start);
  COSTROUTE_ASSIGN_OR_RETURN(TrainResult result,
                             fit_classifier(std::move(vectorizer), data, options));
  result.report.seconds_vectorizer += seconds_vocabulary;
  return result;
}

}  // namespace costroute
