// costroute/model.h: the learned router, p(small model is sufficient).
//
// A Model is a TF-IDF Vectorizer followed by logistic regression: the same
// pipeline as scikit-learn's TfidfVectorizer + LogisticRegression, with the
// same scores bit for bit (shared/DESIGN.md, "scikit-learn import"). Models
// come from a file (costroute/io.h: load_model), from training
// (costroute/train.h: train), or from scikit-learn through
// tools/export_sklearn.py.
//
// Header-only; scoring needs Abseil and utf8proc, not Eigen.
//
// **Example**:
//
//   absl::StatusOr<costroute::Model> model = costroute::load_model("m.json");
//   if (!model.ok()) return model.status();
//   double p = model->p_small_ok("What is the capital of France?");
//   // p close to 1: the cheap model is very likely good enough.
//
// Models are immutable and thread-safe; share one as
// std::shared_ptr<const Model>.
#ifndef COSTROUTE_MODEL_H_
#define COSTROUTE_MODEL_H_

#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "costroute/internal/numeric.h"
#include "costroute/text.h"

namespace costroute {

// Where a model came from, kept in its file: free-form key/value pairs such
// as {"trainer", "costroute 0.1.0"}, {"data", "train.jsonl"},
// {"n_examples", "10000"}, {"C", "1"}. Keys are unique and kept in order.
using Provenance = std::vector<std::pair<std::string, std::string>>;

class Model {
 public:
  // Validates and builds a model. `coef` has one weight per vocabulary
  // column. Errors (InvalidArgument) name the field: "coef: expected 5000
  // values, got 12", "coef[3]: not a finite number", "intercept: not a
  // finite number".
  [[nodiscard]] static absl::StatusOr<Model> create(
      Vectorizer vectorizer, std::vector<double> coef, double intercept,
      Provenance provenance = {}) {
    if (coef.size() != vectorizer.num_features()) {
      return absl::InvalidArgumentError(
          absl::StrCat("coef: expected ", vectorizer.num_features(),
                       " values (one per vocabulary term), got ", coef.size()));
    }
    for (size_t i = 0; i < coef.size(); ++i) {
      if (!std::isfinite(coef[i])) {
        return absl::InvalidArgumentError(
            absl::StrCat("coef[", i, "]: not a finite number"));
      }
    }
    if (!std::isfinite(intercept)) {
      return absl::InvalidArgumentError("intercept: not a finite number");
    }
    return Model(std::move(vectorizer), std::move(coef), intercept,
                 std::move(provenance));
  }

  // p(the small model is sufficient) for `query`, in [0, 1]. Never fails:
  // any bytes are scored, and a query without a known term scores
  // 1 / (1 + exp(-intercept)). Thread-safe with one scratch per thread; no
  // heap allocation once the scratch has grown.
  double p_small_ok(std::string_view query, TextScratch& scratch) const {
    return probability(decision_function(vectorizer_.transform(query, scratch)));
  }

  // As above, with a scratch owned by the calling thread.
  double p_small_ok(std::string_view query) const {
    thread_local TextScratch scratch;
    return p_small_ok(query, scratch);
  }

  // The logit z = w . x + b of a TF-IDF row, summed in scikit-learn's order:
  // from 0.0 over the row as stored, intercept last.
  double decision_function(const SparseRow& row) const {
    double dot = 0.0;
    for (size_t k = 0; k < row.size(); ++k) {
      dot += internal::fp_barrier(row.values[k] * coef_[row.columns[k]]);
    }
    return dot + intercept_;
  }

  // The logistic function as scipy.special.expit computes it.
  static double probability(double z) { return 1.0 / (1.0 + std::exp(-z)); }

  const Vectorizer& vectorizer() const { return vectorizer_; }
  const std::vector<double>& coef() const { return coef_; }
  double intercept() const { return intercept_; }
  const Provenance& provenance() const { return provenance_; }

  // Approximate bytes held, for memory reports.
  size_t memory_bytes() const {
    return vectorizer_.memory_bytes() + coef_.capacity() * sizeof(double);
  }

 private:
  Model(Vectorizer vectorizer, std::vector<double> coef, double intercept,
        Provenance provenance)
      : vectorizer_(std::move(vectorizer)),
        coef_(std::move(coef)),
        intercept_(intercept),
        provenance_(std::move(provenance)) {}

  Vectorizer vectorizer_;
  std::vector<double> coef_;
  double intercept_;
  Provenance provenance_;
};

}  // namespace costroute

#endif  // COSTROUTE_MODEL_H_
