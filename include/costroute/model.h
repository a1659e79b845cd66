// costroute/model.h: the learned router, p(small model is sufficient).
//
// A Model is a TF-IDF Vectorizer followed by logistic regression: the same
// pipeline as scikit-learn's TfidfVectorizer + LogisticRegression, with the
// same scores bit for bit (shared/DESIGN.md, "scikit-learn import"). Models
// come from a file (costroute/io.h: load_model), from training
// (costroute/train.h: train), or from scikit-learn through
// tools/export_sklearn.py. A model trained with
// TrainTarget::kLabelAndWin has a second logistic regression over the
// same row (WinHead), and its score blends the two.
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

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "costroute/internal/numeric.h"
#include "costroute/internal/unicode.h"
#include "costroute/text.h"

namespace costroute {

// Where a model came from, kept in its file: free-form key/value pairs such
// as {"trainer", "costroute 0.1.0"}, {"data", "train.jsonl"},
// {"n_examples", "10000"}, {"C", "1"}. Keys are unique and kept in order.
using Provenance = std::vector<std::pair<std::string, std::string>>;

// Most context features a model may have: the router reads their values
// into a fixed array, so that routing never allocates.
inline constexpr size_t kMaxContextFeatures = 16;

// A categorical fact the host knows about a request, learned beside the
// text: the product feature that sent it, the MMLU subject, the user's
// tier. One-hot encoded: each value seen in training has a weight; a value
// never seen, or no value, adds nothing.
struct ContextFeature {
  // The field's name: a dotted JSON path in data files ("meta.subset"); at
  // routing time a Context field ("user_tier", "task_type", "domain",
  // "user_id", "session_id") or else the Context tag of that name. A
  // "signal.*" name is a signal computed from the query (signal_feature()).
  std::string field = {};
  std::vector<std::string> values = {};  // sorted, unique
  std::vector<double> coef = {};         // one per value
  // In a model with a WinHead, that head's weights, one per value; else
  // empty.
  std::vector<double> win_coef = {};

  // The position of `value` in `values`, or values.size() for an unknown
  // or empty one.
  size_t index(std::string_view value) const {
    if (value.empty()) return values.size();
    const auto it = std::lower_bound(values.begin(), values.end(), value,
                                     [](const std::string& a, std::string_view b) { return a < b; });
    return it != values.end() && *it == value ? static_cast<size_t>(it - values.begin()) : values.size();
  }

  // The weight of `value`, or 0 for an unknown or empty one.
  double weight(std::string_view value) const {
    const size_t i = index(value);
    return i < coef.size() ? coef[i] : 0.0;
  }
};

// The second logistic regression of a model trained with
// TrainTarget::kLabelAndWin: over the same TF-IDF row and context values
// as the first, it estimates p(the small model does strictly better than
// the strong one), and the model's score becomes
//
//   p_small_ok = (p_label + weight * p_win) / (1 + weight)
//
// (train.h says why). Its context weights are ContextFeature::win_coef.
struct WinHead {
  double weight = 0.0;             // positive and finite
  std::vector<double> coef = {};   // one per vocabulary term
  double intercept = 0.0;
};

// The "signal.*" fields a ContextFeature may name: signals computed from
// the query, whose values signal_feature() (signals.h) gives.
inline constexpr std::array<std::string_view, 7> kSignalFeatures = {
    "signal.task_type", "signal.domain", "signal.script", "signal.length",
    "signal.reasoning", "signal.code",   "signal.question"};

inline bool is_signal_feature(std::string_view field) { return field.rfind("signal.", 0) == 0; }

// OK if `field` can name a ContextFeature: not empty, no empty part in a
// dotted path ("meta..subset"), and a "signal.*" name one of
// kSignalFeatures. Else InvalidArgument saying what is wrong with it.
inline absl::Status check_context_field(std::string_view field) {
  if (field.empty()) return absl::InvalidArgumentError("empty field name");
  if (field.front() == '.' || field.back() == '.' || field.find("..") != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("\"", std::string(field), "\": a dotted path with an empty part"));
  }
  if (is_signal_feature(field) &&
      std::find(kSignalFeatures.begin(), kSignalFeatures.end(), field) == kSignalFeatures.end()) {
    std::string known;
    for (std::string_view name : kSignalFeatures) known.append(known.empty() ? "" : ", ").append(name);
    return absl::InvalidArgumentError(absl::StrCat("unknown signal feature \"", std::string(field), "\" (known: ", known, ")"));
  }
  return absl::OkStatus();
}

class Model {
 public:
  // Validates and builds a model. `coef` has one weight per vocabulary
  // column. Errors (InvalidArgument) name the field: "coef: expected 5000
  // values, got 12", "coef[3]: not a finite number", "intercept: not a
  // finite number", "context_features[0].values: not sorted and unique",
  // "provenance[0]: not valid UTF-8" (a model file is JSON, so its text
  // must be UTF-8 to survive a save and a load), "win_head.weight:
  // expected a positive finite number, got 0".
  [[nodiscard]] static absl::StatusOr<Model> create(
      Vectorizer vectorizer, std::vector<double> coef, double intercept,
      Provenance provenance = {}, std::vector<ContextFeature> context_features = {},
      std::optional<WinHead> win_head = std::nullopt) {
    if (absl::Status s = check_weights("", coef, intercept, vectorizer.num_features()); !s.ok()) return s;
    if (win_head) {
      if (!(win_head->weight > 0.0) || !std::isfinite(win_head->weight)) {
        return absl::InvalidArgumentError(
            absl::StrCat("win_head.weight: expected a positive finite number, got ", win_head->weight));
      }
      if (absl::Status s = check_weights("win_head.", win_head->coef, win_head->intercept, vectorizer.num_features());
          !s.ok()) {
        return s;
      }
    }
    std::unordered_set<std::string_view> keys;  // linear in the entries, whatever a file holds
    for (size_t i = 0; i < provenance.size(); ++i) {
      if (!internal::valid_utf8(provenance[i].first) || !internal::valid_utf8(provenance[i].second)) {
        return absl::InvalidArgumentError(absl::StrCat("provenance[", i, "]: not valid UTF-8"));
      }
      if (!keys.insert(provenance[i].first).second) {
        return absl::InvalidArgumentError(absl::StrCat("provenance: duplicate key \"", provenance[i].first, "\""));
      }
    }
    if (context_features.size() > kMaxContextFeatures) {
      return absl::InvalidArgumentError(absl::StrCat("context_features: more than ", kMaxContextFeatures));
    }
    for (size_t f = 0; f < context_features.size(); ++f) {
      const ContextFeature& c = context_features[f];
      const std::string where = absl::StrCat("context_features[", f, "]");
      if (absl::Status s = check_context_field(c.field); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ".field: ", s.message()));
      }
      for (size_t g = 0; g < f; ++g) {
        if (context_features[g].field == c.field) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ".field: ", c.field, " given twice (also context_features[", g, "])"));
        }
      }
      if (c.coef.size() != c.values.size()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ".coef: expected ", c.values.size(),
                                                       " values (one per value), got ", c.coef.size()));
      }
      for (size_t i = 0; i < c.values.size(); ++i) {
        // A model file is JSON: it holds text, not arbitrary bytes.
        if (!internal::valid_utf8(c.values[i])) {
          return absl::InvalidArgumentError(absl::StrCat(where, ".values[", i, "]: not valid UTF-8"));
        }
        if (i > 0 && !(c.values[i - 1] < c.values[i])) {
          return absl::InvalidArgumentError(absl::StrCat(where, ".values: not sorted and unique at [", i, "]"));
        }
        if (const char* problem = Vectorizer::weight_problem(c.coef[i])) {
          return absl::InvalidArgumentError(absl::StrCat(where, ".coef[", i, "]: ", problem));
        }
      }
      // With a win head, each value has a weight in it too; without, none.
      const size_t win_values = win_head ? c.values.size() : 0;
      if (c.win_coef.size() != win_values) {
        return absl::InvalidArgumentError(absl::StrCat(where, ".win_coef: expected ", win_values, " values (",
                                                       win_head ? "one per value" : "the model has no win_head",
                                                       "), got ", c.win_coef.size()));
      }
      for (size_t i = 0; i < c.win_coef.size(); ++i) {
        if (const char* problem = Vectorizer::weight_problem(c.win_coef[i])) {
          return absl::InvalidArgumentError(absl::StrCat(where, ".win_coef[", i, "]: ", problem));
        }
      }
    }
    return Model(std::move(vectorizer), std::move(coef), intercept,
                 std::move(provenance), std::move(context_features), std::move(win_head));
  }

  // p(the small model is sufficient) for `query`, in [0, 1]. Never fails:
  // any bytes are scored, and a query without a known term scores
  // 1 / (1 + exp(-intercept)) (with a WinHead, the blend of both
  // intercepts' probabilities). Thread-safe with one scratch per thread; no
  // heap allocation once the scratch has grown.
  double p_small_ok(std::string_view query, TextScratch& scratch) const {
    return p_small_ok(vectorizer_.transform(query, scratch));
  }

  // As above, with the values of the model's context features, in the order
  // of context_features() (missing or unknown values add nothing; extra
  // values are ignored).
  double p_small_ok(std::string_view query, std::span<const std::string_view> context,
                    TextScratch& scratch) const {
    return p_small_ok(vectorizer_.transform(query, scratch), context);
  }

  // As above, with a scratch owned by the calling thread.
  double p_small_ok(std::string_view query) const {
    thread_local TextScratch scratch;
    return p_small_ok(query, scratch);
  }

  // The score of a TF-IDF row of this model's vectorizer(), with the
  // context values as above: the probability of decision_function(), or
  // with a WinHead the two heads' blend (WinHead). NaN for a row that is
  // not of this vocabulary.
  double p_small_ok(const SparseRow& row, std::span<const std::string_view> context = {}) const {
    const double p_label = probability(decision_function(row, context));
    if (!win_head_) return p_label;
    const double p_win = probability(logit(row, context, /*win=*/true));
    return (p_label + win_head_->weight * p_win) / (1.0 + win_head_->weight);
  }

  // The logit z = w . x + b of a TF-IDF row, summed in scikit-learn's order:
  // from 0.0 over the row as stored, then the context features' weights in
  // their order, intercept last. The row is one of this model's
  // vectorizer(): a column outside its vocabulary (a row of another model,
  // or made by hand) gives NaN, not a read past the coefficients. With a
  // WinHead, this is the first head's logit only.
  double decision_function(const SparseRow& row,
                           std::span<const std::string_view> context = {}) const {
    return logit(row, context, /*win=*/false);
  }

  // The logistic function as scipy.special.expit computes it.
  static double probability(double z) { return 1.0 / (1.0 + std::exp(-z)); }

  const Vectorizer& vectorizer() const { return vectorizer_; }
  const std::vector<double>& coef() const { return coef_; }
  double intercept() const { return intercept_; }
  const Provenance& provenance() const { return provenance_; }
  const std::vector<ContextFeature>& context_features() const { return context_features_; }
  // The second head of a TrainTarget::kLabelAndWin model, else none.
  const std::optional<WinHead>& win_head() const { return win_head_; }

  // Approximate bytes held, for memory reports.
  size_t memory_bytes() const {
    return vectorizer_.memory_bytes() + coef_.capacity() * sizeof(double) +
           (win_head_ ? win_head_->coef.capacity() * sizeof(double) : 0);
  }

 private:
  Model(Vectorizer vectorizer, std::vector<double> coef, double intercept,
        Provenance provenance, std::vector<ContextFeature> context_features, std::optional<WinHead> win_head)
      : vectorizer_(std::move(vectorizer)),
        coef_(std::move(coef)),
        intercept_(intercept),
        provenance_(std::move(provenance)),
        context_features_(std::move(context_features)),
        win_head_(std::move(win_head)) {}

  // OK if `coef` has one finite weight per term and `intercept` is
  // finite; else the error, its field prefixed with `head` ("win_head.").
  static absl::Status check_weights(const char* head, const std::vector<double>& coef, double intercept,
                                    size_t terms) {
    if (coef.size() != terms) {
      return absl::InvalidArgumentError(
          absl::StrCat(head, "coef: expected ", terms, " values (one per vocabulary term), got ", coef.size()));
    }
    for (size_t i = 0; i < coef.size(); ++i) {
      if (const char* problem = Vectorizer::weight_problem(coef[i])) {
        return absl::InvalidArgumentError(absl::StrCat(head, "coef[", i, "]: ", problem));
      }
    }
    if (const char* problem = Vectorizer::weight_problem(intercept)) {
      return absl::InvalidArgumentError(absl::StrCat(head, "intercept: ", problem));
    }
    return absl::OkStatus();
  }

  // The first head's logit (decision_function()), or with `win` the win
  // head's.
  double logit(const SparseRow& row, std::span<const std::string_view> context, bool win) const {
    const std::vector<double>& coef = win ? win_head_->coef : coef_;
    if (row.values.size() != row.columns.size()) return std::numeric_limits<double>::quiet_NaN();
    double dot = 0.0;
    const size_t columns = coef.size();
    for (size_t k = 0; k < row.size(); ++k) {
      const auto column = static_cast<size_t>(static_cast<uint32_t>(row.columns[k]));  // negative: huge
      if (column >= columns) return std::numeric_limits<double>::quiet_NaN();
      dot += internal::fp_barrier(row.values[k] * coef[column]);
    }
    for (size_t f = 0; f < context_features_.size() && f < context.size(); ++f) {
      const ContextFeature& feature = context_features_[f];
      const size_t i = feature.index(context[f]);
      if (i < feature.values.size()) dot += win ? feature.win_coef[i] : feature.coef[i];
    }
    return dot + (win ? win_head_->intercept : intercept_);
  }

  Vectorizer vectorizer_;
  std::vector<double> coef_;
  double intercept_;
  Provenance provenance_;
  std::vector<ContextFeature> context_features_;
  std::optional<WinHead> win_head_;
};

}  // namespace costroute

#endif  // COSTROUTE_MODEL_H_
