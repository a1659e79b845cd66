// Logistic regression with scikit-learn's objective, solved to its optimum.
#include <Eigen/Core>
#include <Eigen/SparseCore>
#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "costroute/internal/status_macros.h"
#include "costroute/train.h"
#include "costroute/version.h"
#include "model/lbfgs.h"

namespace costroute {
namespace {

using RowMatrix = Eigen::SparseMatrix<double, Eigen::RowMajor, int>;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

absl::Status validate(const TrainingSet& data, const TrainOptions& options) {
  const size_t n = data.queries.size();
  if (n == 0) return absl::InvalidArgumentError("queries: no training examples");
  if (data.labels.size() != n) {
    return absl::InvalidArgumentError(absl::StrCat(
        "labels: expected ", n, " values (one per query), got ", data.labels.size()));
  }
  if (!data.weights.empty() && data.weights.size() != n) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weights: expected ", n, " values (one per query) or none, got ",
        data.weights.size()));
  }
  size_t positives = 0;
  for (size_t i = 0; i < n; ++i) {
    if (data.labels[i] != 0 && data.labels[i] != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("labels[", i, "]: expected 0 or 1, got ", data.labels[i]));
    }
    positives += data.labels[i];
  }
  if (positives == 0 || positives == n) {
    return absl::InvalidArgumentError(absl::StrCat(
        "labels: every example has label ", positives == 0 ? 0 : 1,
        "; training needs examples of both 0 and 1"));
  }
  for (size_t i = 0; i < data.weights.size(); ++i) {
    if (!(data.weights[i] >= 0.0) || !std::isfinite(data.weights[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "weights[", i, "]: expected a finite number >= 0, got ", data.weights[i]));
    }
  }
  if (!(options.C > 0.0) || !std::isfinite(options.C)) {
    return absl::InvalidArgumentError(
        absl::StrCat("C: expected a positive number, got ", options.C));
  }
  if (options.max_iterations < 1) {
    return absl::InvalidArgumentError("max_iterations: expected at least 1");
  }
  return absl::OkStatus();
}

// log(1 + exp(z)) without overflow.
double softplus(double z) {
  return z > 0.0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
}

double sigmoid(double z) {
  if (z >= 0.0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

}  // namespace

absl::StatusOr<TrainResult> fit_classifier(Vectorizer vectorizer,
                                           const TrainingSet& data,
                                           const TrainOptions& options) {
  COSTROUTE_RETURN_IF_ERROR(validate(data, options));
  const auto start = std::chrono::steady_clock::now();
  const size_t n = data.queries.size();
  const Eigen::Index d = static_cast<Eigen::Index>(vectorizer.num_features());

  // The rows exactly as scoring computes them.
  RowMatrix X(static_cast<Eigen::Index>(n), d);
  {
    std::vector<Eigen::Triplet<double, int>> entries;
    TextScratch scratch;
    for (size_t i = 0; i < n; ++i) {
      const SparseRow& row = vectorizer.transform(data.queries[i], scratch);
      for (size_t k = 0; k < row.size(); ++k) {
        entries.emplace_back(static_cast<int>(i), row.columns[k], row.values[k]);
      }
    }
    X.setFromTriplets(entries.begin(), entries.end());
  }

  Eigen::VectorXd y(n), s(n);
  double class_weight[2] = {1.0, 1.0};
  if (options.balanced_class_weight) {
    size_t count[2] = {0, 0};
    for (int label : data.labels) ++count[label];
    for (int c = 0; c < 2; ++c) {
      class_weight[c] = static_cast<double>(n) / (2.0 * static_cast<double>(count[c]));
    }
  }
  for (size_t i = 0; i < n; ++i) {
    y[i] = data.labels[i];
    s[i] = class_weight[data.labels[i]] * (data.weights.empty() ? 1.0 : data.weights[i]);
  }
  const double seconds_vectorizer = seconds_since(start);

  // Parameters: w (d values), then the intercept b.
  const double C = options.C;
  Eigen::VectorXd z(n), r(n);
  internal::Objective objective = [&](const Eigen::VectorXd& params,
                                      Eigen::VectorXd& gradient) {
    const auto w = params.head(d);
    const double b = params[d];
    z.noalias() = X * w;
    double loss = 0.0;
    for (size_t i = 0; i < n; ++i) {
      const double zi = z[i] + b;
      loss += s[i] * (softplus(zi) - y[i] * zi);
      r[i] = s[i] * (sigmoid(zi) - y[i]);
    }
    gradient.resize(d + 1);
    gradient.head(d).noalias() = X.transpose() * r;
    gradient.head(d) *= C;
    gradient.head(d) += w;
    gradient[d] = C * r.sum();
    return C * loss + 0.5 * w.squaredNorm();
  };

  const auto solve_start = std::chrono::steady_clock::now();
  Eigen::VectorXd params = Eigen::VectorXd::Zero(d + 1);
  internal::LbfgsOptions lbfgs;
  lbfgs.max_iterations = options.max_iterations;
  lbfgs.tolerance = options.tolerance;
  const internal::LbfgsResult solved = internal::minimize_lbfgs(objective, params, lbfgs);

  TrainReport report;
  report.n_examples = n;
  report.n_features = static_cast<size_t>(d);
  report.iterations = solved.iterations;
  report.converged = solved.converged;
  report.objective = solved.value;
  report.relative_gradient = solved.relative_gradient;
  report.seconds_vectorizer = seconds_vectorizer;
  report.seconds_solver = seconds_since(solve_start);

  Provenance provenance = {
      {"trainer", "costroute " COSTROUTE_VERSION_STRING},
      {"n_examples", absl::StrCat(n)},
      {"C", absl::StrCat(C)},
      {"class_weight", options.balanced_class_weight ? "balanced" : "none"},
      {"solver", absl::StrCat("lbfgs, ", solved.iterations, " iterations, ",
                              solved.converged ? "converged" : "NOT converged")},
  };
  for (const auto& entry : options.provenance) provenance.push_back(entry);

  std::vector<double> coef(params.data(), params.data() + d);
  COSTROUTE_ASSIGN_OR_RETURN(
      Model model, Model::create(std::move(vectorizer), std::move(coef), params[d],
                                 std::move(provenance)));
  return TrainResult{std::move(model), report};
}

absl::StatusOr<TrainResult> train(const TrainingSet& data, const TrainOptions& options) {
  COSTROUTE_RETURN_IF_ERROR(validate(data, options));
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
