#include "costroute/train.h"

#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catch.h"

namespace {

costroute::TrainingSet small_set() {
  costroute::TrainingSet data;
  data.queries = {"what is the capital of france", "translate hello to french",
                  "prove that the sum of two odd numbers is even",
                  "explain step by step why the sky is blue",
                  "what is two plus two", "classify this review as positive",
                  "derive the closed form of the recurrence and prove it",
                  "compare and explain the tradeoffs of both designs",
                  "what time is it", "is this spam"};
  data.labels = {1, 1, 0, 0, 1, 1, 0, 0, 1, 1};
  return data;
}

// Largest component of the gradient of C * sum s_i * logloss + |w|^2 / 2,
// computed here independently of the library's solver; the log loss of
// `targets` (soft labels) if given, else of the labels.
double max_gradient(const costroute::Model& model, const costroute::TrainingSet& data,
                    double C, const std::vector<double>& sample_weight, std::vector<double> targets = {}) {
  if (targets.empty()) targets.assign(data.labels.begin(), data.labels.end());
  std::vector<double> g(model.coef());  // the |w|^2 / 2 term
  double g_intercept = 0.0;
  costroute::TextScratch scratch;
  for (size_t i = 0; i < data.queries.size(); ++i) {
    const costroute::SparseRow& row = model.vectorizer().transform(data.queries[i], scratch);
    const double p = costroute::Model::probability(model.decision_function(row));
    const double r = C * sample_weight[i] * (p - targets[i]);
    for (size_t k = 0; k < row.size(); ++k) g[row.columns[k]] += r * row.values[k];
    g_intercept += r;
  }
  double largest = std::fabs(g_intercept);
  for (double x : g) largest = std::max(largest, std::fabs(x));
  return largest;
}

}  // namespace

TEST_CASE("the vocabulary is sorted by code point and idf is ln((1+n)/(1+df))+1") {
  costroute::VectorizerOptions options;
  options.ngram_max = 1;
  const std::vector<std::string> docs = {"zz bb", "bb \u00e9\u00e9", "bb aa aa"};
  auto v = costroute::fit_vectorizer(docs, options);
  REQUIRE(v.ok());
  CHECK(v->vocabulary() == std::vector<std::string>{"aa", "bb", "zz", "\u00e9\u00e9"});
  CHECK(v->idf()[0] == std::log(4.0 / 2.0) + 1.0);
  CHECK(v->idf()[1] == std::log(4.0 / 4.0) + 1.0);
  options.smooth_idf = false;
  auto unsmoothed = costroute::fit_vectorizer(docs, options);
  CHECK(unsmoothed->idf()[0] == std::log(3.0 / 1.0) + 1.0);
}

TEST_CASE("max_features keeps the most frequent terms; ties go to the term that sorts first") {
  costroute::VectorizerOptions options;
  options.ngram_max = 1;
  options.max_features = 2;
  // Totals: cc 3, aa 2, bb 2, dd 1.
  auto v = costroute::fit_vectorizer(std::vector<std::string>{"cc cc aa bb", "cc aa bb dd"}, options);
  REQUIRE(v.ok());
  CHECK(v->vocabulary() == std::vector<std::string>{"aa", "cc"});
}

TEST_CASE("min_df and max_df filter by document frequency, as counts or fractions") {
  costroute::VectorizerOptions options;
  options.ngram_max = 1;
  options.max_features = 0;
  const std::vector<std::string> docs = {"aa bb cc", "aa bb", "aa", "aa dd"};
  options.min_df = costroute::DocumentFrequency::documents(2);
  CHECK(costroute::fit_vectorizer(docs, options)->vocabulary() ==
        std::vector<std::string>{"aa", "bb"});
  options.min_df = costroute::DocumentFrequency::documents(1);
  options.max_df = costroute::DocumentFrequency::fraction(0.5);
  CHECK(costroute::fit_vectorizer(docs, options)->vocabulary() ==
        std::vector<std::string>{"bb", "cc", "dd"});
  options.max_df = costroute::DocumentFrequency::documents(0);
  CHECK(costroute::fit_vectorizer(docs, options).status().message() ==
        "max_df corresponds to fewer documents than min_df: at most 0 against at least 1 of 4 documents");
}

TEST_CASE("settings out of their ranges are refused before any work") {
  const std::vector<std::string> docs = {"hello world", "other words"};
  costroute::VectorizerOptions options;
  options.max_features = -1;
  CHECK(costroute::fit_vectorizer(docs, options).status().message() ==
        "max_features: expected 0 (no limit) or a positive number, got -1");
  options = {};
  options.min_df = costroute::DocumentFrequency::fraction(NAN);
  CHECK(costroute::fit_vectorizer(docs, options).status().message() == "min_df: expected a fraction in [0, 1]");
  options.min_df = costroute::DocumentFrequency::fraction(2.0);
  CHECK(costroute::fit_vectorizer(docs, options).status().message() == "min_df: expected a fraction in [0, 1]");
  options = {};
  options.max_df = costroute::DocumentFrequency::fraction(-1.0);
  CHECK(costroute::fit_vectorizer(docs, options).status().message() == "max_df: expected a fraction in [0, 1]");
  costroute::TrainingSet data;
  data.queries = docs;
  data.labels = {0, 1};
  costroute::TrainOptions train_options;
  train_options.target = static_cast<costroute::TrainTarget>(5);
  CHECK(costroute::train(data, train_options).status().message() == "target: not a TrainTarget (5)");
}

TEST_CASE("documents without any token give a clear error") {
  auto v = costroute::fit_vectorizer(std::vector<std::string>{"a", "!", ""}, {});
  CHECK(v.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(v.status().message() == "empty vocabulary: no document has a word of two or more letters or digits");
  // N-grams longer than every document are named as the reason.
  const std::vector<std::string> short_docs = {"hello", "world"};
  costroute::VectorizerOptions bigrams;
  bigrams.ngram_min = 2;
  bigrams.ngram_max = 2;
  CHECK(costroute::fit_vectorizer(short_docs, bigrams).status().message() ==
        "empty vocabulary: no document has 2 words of two or more letters or digits (ngram_range starts at 2)");
  costroute::VectorizerOptions chars;
  chars.analyzer = costroute::Analyzer::kChar;
  chars.ngram_min = 8;
  chars.ngram_max = 8;
  CHECK(costroute::fit_vectorizer(short_docs, chars).status().message() ==
        "empty vocabulary: no document has 8 characters (ngram_range starts at 8)");
  // char_wb keeps a word shorter than n whole, as scikit-learn does.
  chars.analyzer = costroute::Analyzer::kCharWb;
  CHECK(costroute::fit_vectorizer(short_docs, chars).ok());
  CHECK(costroute::fit_vectorizer(std::vector<std::string>{"", " \t"}, chars).status().message() ==
        "empty vocabulary: every document is empty or whitespace");
}

TEST_CASE("training reaches the optimum of the regularised objective") {
  const costroute::TrainingSet data = small_set();
  for (double C : {0.1, 1.0, 100.0}) {
    costroute::TrainOptions options;
    options.C = C;
    options.tolerance = 1e-10;
    auto result = costroute::train(data, options);
    REQUIRE(result.ok());
    CHECK(result->report.converged);
    const std::vector<double> ones(data.queries.size(), 1.0);
    CHECK(max_gradient(result->model, data, C, ones) < 1e-8);
  }
}

TEST_CASE("a tiny C still fits the unpenalised intercept: the log odds of the labels") {
  // The whole gradient is then tiny at the start; the solver must not call
  // the start (all zeros, p = 0.5) converged.
  const costroute::TrainingSet data = small_set();  // 6 ones, 4 zeros
  for (double C : {1e-12, 1e-6}) {
    costroute::TrainOptions options;
    options.C = C;
    auto result = costroute::train(data, options);
    REQUIRE(result.ok());
    CHECK(result->report.converged);
    CHECK(result->report.iterations > 0);
    CHECK(result->model.intercept() == Approx(std::log(6.0 / 4.0)).margin(1e-6));
  }
}

TEST_CASE("an example of weight 2 counts as that example twice") {
  const costroute::TrainingSet base = small_set();
  auto vectorizer = costroute::fit_vectorizer(base.queries, {});
  REQUIRE(vectorizer.ok());
  costroute::TrainingSet weighted = base;
  weighted.weights.assign(base.queries.size(), 1.0);
  weighted.weights[2] = 2.0;
  costroute::TrainingSet duplicated = base;
  duplicated.queries.push_back(base.queries[2]);
  duplicated.labels.push_back(base.labels[2]);
  auto a = costroute::fit_classifier(*vectorizer, weighted, {});
  auto b = costroute::fit_classifier(*vectorizer, duplicated, {});
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  for (size_t j = 0; j < a->model.coef().size(); ++j) {
    CHECK(a->model.coef()[j] == Approx(b->model.coef()[j]).margin(1e-9));
  }
  CHECK(a->model.intercept() == Approx(b->model.intercept()).margin(1e-9));
}

TEST_CASE("balanced class weights are n / (2 * n_class)") {
  costroute::TrainingSet data = small_set();  // 6 ones, 4 zeros
  costroute::TrainOptions options;
  options.balanced_class_weight = true;
  auto result = costroute::train(data, options);
  REQUIRE(result.ok());
  std::vector<double> weights;
  for (int y : data.labels) weights.push_back(y == 1 ? 10.0 / 12.0 : 10.0 / 8.0);
  CHECK(max_gradient(result->model, data, 1.0, weights) < 1e-8);
}

TEST_CASE("learning the quality gap learns (1 + gap / largest |gap|) / 2 as a soft label") {
  costroute::TrainingSet data = small_set();
  // Gaps on a 1-10 scale: the largest |gap| is 4.
  data.quality_gap = {0, 2, -4, -1, 4, 0, -3, -2, 1, 3};
  costroute::TrainOptions options;
  options.target = costroute::TrainTarget::kQualityGap;
  options.tolerance = 1e-10;
  auto result = costroute::train(data, options);
  REQUIRE(result.ok());
  std::vector<double> soft;
  for (double gap : data.quality_gap) soft.push_back(0.5 + gap / 8.0);
  const std::vector<double> ones(data.queries.size(), 1.0);
  CHECK(max_gradient(result->model, data, 1.0, ones, soft) < 1e-8);
  CHECK(max_gradient(result->model, data, 1.0, ones) > 1e-3);  // not the labels' optimum

  // The same as each example twice, as class 1 with weight y and class 0
  // with weight 1 - y; with balanced classes, times n / (2 * the sum of y)
  // and n / (2 * the sum of 1 - y).
  auto vectorizer = costroute::fit_vectorizer(data.queries, {});
  REQUIRE(vectorizer.ok());
  double sum = 0.0;
  for (double y : soft) sum += y;
  const double n = static_cast<double>(soft.size());
  for (bool balanced : {false, true}) {
    const double w1 = balanced ? n / (2.0 * sum) : 1.0, w0 = balanced ? n / (2.0 * (n - sum)) : 1.0;
    costroute::TrainingSet twice;
    for (size_t i = 0; i < data.queries.size(); ++i) {
      for (int label : {1, 0}) {
        twice.queries.push_back(data.queries[i]);
        twice.labels.push_back(label);
        twice.weights.push_back(label == 1 ? soft[i] * w1 : (1.0 - soft[i]) * w0);
      }
    }
    options.balanced_class_weight = balanced;
    costroute::TrainOptions plain;
    plain.tolerance = 1e-10;
    auto a = costroute::fit_classifier(*vectorizer, data, options);
    auto b = costroute::fit_classifier(*vectorizer, twice, plain);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    INFO("balanced " << balanced);
    for (size_t j = 0; j < a->model.coef().size(); ++j) {
      CHECK(a->model.coef()[j] == Approx(b->model.coef()[j]).margin(1e-7));
    }
    CHECK(a->model.intercept() == Approx(b->model.intercept()).margin(1e-7));
  }
}

TEST_CASE("learning the cheaper models' quality learns (q - lo) / (hi - lo) as a soft label") {
  costroute::TrainingSet data = small_set();
  // Mean scores on a 1-10 scale, from 2 to 10.
  data.cheap_quality = {10, 6, 2, 4, 9, 8, 3, 5, 7, 2};
  costroute::TrainOptions options;
  options.target = costroute::TrainTarget::kCheapQuality;
  options.tolerance = 1e-10;
  std::vector<double> soft;
  for (double q : data.cheap_quality) soft.push_back((q - 2.0) / 8.0);
  const std::vector<double> ones(data.queries.size(), 1.0);
  for (bool with_gap : {false, true}) {
    // The gap, when given too, is not what this target learns.
    if (with_gap) data.quality_gap = {0, 2, -4, -1, 4, 0, -3, -2, 1, 3};
    auto result = costroute::train(data, options);
    REQUIRE(result.ok());
    CHECK(max_gradient(result->model, data, 1.0, ones, soft) < 1e-8);
    CHECK(max_gradient(result->model, data, 1.0, ones) > 1e-3);  // not the labels' optimum
    bool recorded = false;
    for (const auto& [key, value] : result->model.provenance()) recorded = recorded || (key == "target" && value == "cheap_quality");
    CHECK(recorded);
  }
  // Only the order and spacing of the scores count: shifted and scaled,
  // they give the same soft labels, mirrored for a negative scale.
  for (double& q : data.cheap_quality) q = 100.0 - 3.0 * q;
  for (double& y : soft) y = 1.0 - y;
  auto mirrored = costroute::train(data, options);
  REQUIRE(mirrored.ok());
  CHECK(max_gradient(mirrored->model, data, 1.0, ones, soft) < 1e-8);
  // At the ends of the doubles: a range that overflows (values of both
  // signs near the largest), and one that is a single subnormal step.
  // Either way the soft labels are 1 for the largest value, 0 for the rest.
  std::vector<double> one_high(data.queries.size(), 0.0);
  one_high[0] = 1.0;
  for (const auto& [low, high] : {std::pair{-std::numeric_limits<double>::max(), std::numeric_limits<double>::max()},
                                  std::pair{0.0, std::numeric_limits<double>::denorm_min()}}) {
    INFO("from " << low << " to " << high);
    data.cheap_quality.assign(data.queries.size(), low);
    data.cheap_quality[0] = high;
    auto extreme = costroute::train(data, options);
    REQUIRE(extreme.ok());
    CHECK(extreme->report.converged);
    CHECK(max_gradient(extreme->model, data, 1.0, ones, one_high) < 1e-8);
  }
}

TEST_CASE("the soft targets are ignored unless they are the target") {
  costroute::TrainingSet data = small_set();
  costroute::TrainOptions options;
  options.balanced_class_weight = true;
  auto a = costroute::train(data, options);
  data.quality_gap = {0, 0, -1, -1, 1, 0, -1, -1, 0, 0};  // ignored: the target is the label
  data.cheap_quality = {1, 1, 0, 0, 1, 1, 0, 0.5, 1, 0};
  auto b = costroute::train(data, options);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->model.coef() == b->model.coef());
  CHECK(a->model.intercept() == b->model.intercept());
}

TEST_CASE("training rejects inconsistent input, naming the field") {
  costroute::TrainingSet data = small_set();
  data.labels.pop_back();
  CHECK(costroute::train(data).status().message() ==
        "labels: expected 10 values (one per query), got 9");
  data = small_set();
  data.labels.assign(10, 1);
  CHECK(costroute::train(data).status().message() ==
        "labels: every example has label 1; training needs examples of both 0 and 1");
  data = small_set();
  data.labels[3] = 2;
  CHECK(costroute::train(data).status().message() == "labels[3]: expected 0 or 1, got 2");
  data = small_set();
  data.weights.assign(10, 1.0);
  data.weights[4] = -1.0;
  CHECK(costroute::train(data).status().message() ==
        "weights[4]: expected a number in [0, 1e12], got -1");
  data.weights[4] = 1e13;
  CHECK(costroute::train(data).status().message() == "weights[4]: expected a number in [0, 1e12], got 1e+13");
  // Weights too small to outweigh the penalty: the solver would stop at an
  // intercept of 0 and call it converged (the first gradient underflows).
  data.weights.assign(10, 5e-324);
  CHECK(costroute::train(data).status().message() ==
        "weights: C times the total example weight is 4.94066e-323, below 1e-12: the examples would weigh nothing "
        "against the penalty; raise C or scale the weights up");
  data.weights.assign(10, 1e-12);  // C times the total: 1e-11
  CHECK(costroute::train(data).ok());
  costroute::TrainOptions options;
  options.C = 1e-14;
  CHECK(costroute::train(small_set(), options).status().message() ==
        "C: C times the number of examples is 1e-13, below 1e-12: the examples would weigh nothing against the "
        "penalty; raise C");
  options.C = 0.0;
  CHECK(costroute::train(small_set(), options).status().message() ==
        "C: expected a positive number, got 0");
  CHECK(costroute::train(costroute::TrainingSet{}).status().message() ==
        "queries: no training examples");
  options = {};
  options.target = costroute::TrainTarget::kQualityGap;
  CHECK(costroute::train(small_set(), options).status().message() ==
        "quality_gap: learning the quality gap needs one value per query (10), got none");
  data = small_set();
  CHECK_FALSE(costroute::quality_gaps_differ(data.quality_gap));
  data.quality_gap.assign(10, -1.0);
  CHECK_FALSE(costroute::quality_gaps_differ(data.quality_gap));
  CHECK(costroute::train(data, options).status().message() ==
        "quality_gap: every value is -1; learning the quality gap needs values that differ between queries");
  data.quality_gap[9] = 0.0;
  CHECK(costroute::quality_gaps_differ(data.quality_gap));
  data.quality_gap[9] = -1.0;
  data.quality_gap.pop_back();
  CHECK(costroute::train(data).status().message() ==
        "quality_gap: expected 10 values (one per query) or none, got 9");
  data.quality_gap.push_back(std::nan(""));
  CHECK(costroute::train(data).status().message() == "quality_gap[9]: not a finite number");
  options = {};
  options.target = costroute::TrainTarget::kCheapQuality;
  data = small_set();
  CHECK(costroute::train(data, options).status().message() ==
        "cheap_quality: learning the cheaper models' quality needs one value per query (10), got none");
  data.cheap_quality.assign(10, 7.0);
  CHECK(costroute::train(data, options).status().message() ==
        "cheap_quality: every value is 7; learning the cheaper models' quality needs values that differ between "
        "queries");
  data.cheap_quality[2] = std::numeric_limits<double>::infinity();
  CHECK(costroute::train(data).status().message() == "cheap_quality[2]: not a finite number");
  data.cheap_quality.resize(3);
  CHECK(costroute::train(data).status().message() == "cheap_quality: expected 10 values (one per query) or none, got 3");
  options = {};
  options.provenance = {{"data", "x.jsonl"}, {"C", "3"}};
  CHECK(costroute::train(small_set(), options).status().message() == "provenance: \"C\" is written by the trainer");
  // Every key a trained model's provenance holds (context fields
  // included) is refused from the caller, so that none is written twice.
  options = {};
  options.context_fields = {"meta.subset"};
  data = small_set();
  data.context.assign(10, {"maths"});
  auto trained = costroute::train(data, options);
  REQUIRE(trained.ok());
  CHECK(trained->model.provenance().size() == 7);
  for (const auto& [key, value] : trained->model.provenance()) {
    costroute::TrainOptions with = options;
    with.provenance = {{key, "x"}};
    CHECK(costroute::train(data, with).status().message() == "provenance: \"" + key + "\" is written by the trainer");
  }
  options = {};
  for (int f = 0; f < 17; ++f) options.context_fields.push_back("meta.f" + std::to_string(f));
  CHECK(costroute::train(small_set(), options).status().message() == "context_fields: more than 16");
  options = {};
  options.context_fields = {"meta.subset"};
  data = small_set();
  data.context.assign(10, {"maths"});
  data.context[6] = {"\xe9t\xe9"};
  CHECK(costroute::train(data, options).status().message() == "context[6][0] (meta.subset): not valid UTF-8");
  options = {};
  options.context_fields = {"meta.subset", "signal.bogus"};
  CHECK(costroute::train(small_set(), options).status().message() ==
        "context_fields[1]: unknown signal feature \"signal.bogus\" (known: signal.task_type, signal.domain, "
        "signal.script, signal.length, signal.reasoning, signal.code, signal.question)");
}

TEST_CASE("context fields are learned one-hot beside the text; unseen and missing values add nothing") {
  costroute::TrainingSet data;
  for (int i = 0; i < 40; ++i) {
    const bool law = i % 2 == 0;
    data.queries.push_back(i % 4 < 2 ? "what does this mean" : "tell me about this");
    data.labels.push_back(law ? 0 : 1);
    data.context.push_back({law ? "law" : "math"});
  }
  costroute::TrainOptions options;
  options.vectorizer.ngram_max = 1;
  options.context_fields = {"meta.subset"};
  auto result = costroute::train(data, options);
  REQUIRE(result.ok());
  const auto& features = result->model.context_features();
  REQUIRE(features.size() == 1);
  CHECK(features[0].field == "meta.subset");
  CHECK(features[0].values == std::vector<std::string>{"law", "math"});
  CHECK(features[0].coef[0] < 0.0);
  CHECK(features[0].coef[1] > 0.0);
  costroute::TextScratch scratch;
  const std::string_view math[] = {"math"}, law[] = {"law"}, unseen[] = {"poetry"};
  const double p_math = result->model.p_small_ok("what does this mean", math, scratch);
  const double p_law = result->model.p_small_ok("what does this mean", law, scratch);
  const double p_unseen = result->model.p_small_ok("what does this mean", unseen, scratch);
  const double p_none = result->model.p_small_ok("what does this mean", scratch);
  CHECK(p_math > 0.8);
  CHECK(p_law < 0.2);
  CHECK(p_unseen == p_none);
  data.context.pop_back();
  CHECK(costroute::train(data, options).status().message() ==
        "context: expected 40 rows (one per query) for the context fields, got 39");
}

TEST_CASE("learning the label and the wins fits two heads, each the model of its own labels") {
  costroute::TrainingSet data = small_set();
  // 0/1 qualities: a gap of 1 where only the small model is right, -1
  // where only the strong one is, 0 for a tie (the label counts ties as 1).
  data.quality_gap = {1, 0, -1, -1, 0, 1, -1, -1, 0, 1};
  data.context.assign(10, {"a"});
  for (size_t i = 0; i < 10; i += 3) data.context[i] = {"b"};
  costroute::TrainOptions options;
  options.target = costroute::TrainTarget::kLabelAndWin;
  options.context_fields = {"meta.subset"};
  options.balanced_class_weight = true;
  auto vectorizer = costroute::fit_vectorizer(data.queries, {});
  REQUIRE(vectorizer.ok());
  auto both = costroute::fit_classifier(*vectorizer, data, options);
  REQUIRE(both.ok());
  CHECK(both->report.converged);
  REQUIRE(both->model.win_head().has_value());
  const costroute::WinHead& win = *both->model.win_head();
  CHECK(win.weight == costroute::kWinHeadWeight);

  // The first head is the label's model, the second the model of "the small
  // model did better", each fitted alone with the same settings: the same
  // solver on the same numbers, so the same weights bit for bit.
  costroute::TrainOptions alone = options;
  alone.target = costroute::TrainTarget::kLabel;
  auto label = costroute::fit_classifier(*vectorizer, data, alone);
  costroute::TrainingSet wins = data;
  for (size_t i = 0; i < 10; ++i) wins.labels[i] = data.quality_gap[i] > 0 ? 1 : 0;
  auto better = costroute::fit_classifier(*vectorizer, wins, alone);
  REQUIRE(label.ok());
  REQUIRE(better.ok());
  CHECK(both->model.coef() == label->model.coef());
  CHECK(both->model.intercept() == label->model.intercept());
  CHECK(both->model.context_features()[0].coef == label->model.context_features()[0].coef);
  CHECK(win.coef == better->model.coef());
  CHECK(win.intercept == better->model.intercept());
  CHECK(both->model.context_features()[0].win_coef == better->model.context_features()[0].coef);
  CHECK(both->report.iterations == label->report.iterations + better->report.iterations);

  // The score blends the two probabilities, context included.
  costroute::TextScratch scratch;
  for (const char* query : {"what is two plus two", "prove it", "zzz"}) {
    for (std::string_view subset : {"a", "b", "never seen"}) {
      const std::string_view context[] = {subset};
      const double p_label = label->model.p_small_ok(query, context, scratch);
      const double p_win = better->model.p_small_ok(query, context, scratch);
      INFO(query << " / " << subset);
      CHECK(both->model.p_small_ok(query, context, scratch) == (p_label + 0.5 * p_win) / 1.5);
    }
  }
  bool has_solver = false, has_factor = false;
  for (const auto& [key, value] : both->model.provenance()) {
    if (key == "target") CHECK(value == "label_and_win");
    if (key == "win_C_factor") has_factor = value == "1";
    if (key == "solver") {
      has_solver = true;
      CHECK(value.find("converged; win head ") != std::string::npos);
    }
  }
  CHECK(has_solver);
  CHECK(has_factor);
  for (const auto& entry : label->model.provenance()) CHECK(entry.first != "win_C_factor");

  // With win_C_factor the win head is fitted with C times it, the label's
  // head as before.
  options.win_C_factor = 3;
  auto scaled = costroute::fit_classifier(*vectorizer, data, options);
  alone.C = 3;
  auto better3 = costroute::fit_classifier(*vectorizer, wins, alone);
  REQUIRE(scaled.ok());
  REQUIRE(better3.ok());
  CHECK(scaled->model.coef() == label->model.coef());
  CHECK(scaled->model.win_head()->coef == better3->model.coef());
  CHECK(scaled->model.win_head()->intercept == better3->model.intercept());
  CHECK(scaled->model.win_head()->coef != win.coef);
  bool has_factor3 = false;
  for (const auto& [key, value] : scaled->model.provenance()) {
    if (key == "win_C_factor") has_factor3 = value == "3";
  }
  CHECK(has_factor3);
  for (double bad : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    options.win_C_factor = bad;
    INFO(bad);
    CHECK(std::string(costroute::fit_classifier(*vectorizer, data, options).status().message()).starts_with(
        "win_C_factor: expected a positive number that keeps C times it finite, got "));
  }
  options.win_C_factor = 1e-20;
  CHECK(std::string(costroute::fit_classifier(*vectorizer, data, options).status().message()).starts_with(
      "C: C times win_C_factor times the number of examples for the win head is "));
  costroute::TrainingSet weighted = data;
  weighted.weights.assign(10, 1.0);
  const std::string too_light(costroute::fit_classifier(*vectorizer, weighted, options).status().message());
  CHECK(too_light.starts_with("weights: C times win_C_factor times the total example weight for the win head is "));
  CHECK(too_light.ends_with("; raise C or win_C_factor or scale the weights up"));
  options.win_C_factor = 1;
  options.provenance = {{"win_C_factor", "2"}};
  CHECK(costroute::fit_classifier(*vectorizer, data, options).status().message() ==
        "provenance: \"win_C_factor\" is written by the trainer");
}

TEST_CASE("learning the wins needs a quality gap with wins and non-wins") {
  costroute::TrainOptions options;
  options.target = costroute::TrainTarget::kLabelAndWin;
  costroute::TrainingSet data = small_set();
  CHECK(costroute::train(data, options).status().message() ==
        "quality_gap: learning the label and the small model's wins needs one value per query (10), got none");
  data.quality_gap.assign(10, 0.0);
  CHECK(costroute::train(data, options).status().message() ==
        "quality_gap: no example where the small model did better than the strong one (a gap above 0); learning "
        "the small model's wins needs both");
  data.quality_gap.assign(10, 2.5);
  CHECK(costroute::train(data, options).status().message() ==
        "quality_gap: no example where the small model did no better (a gap of 0 or less); learning the small "
        "model's wins needs both");
  // Wins only with weight 0 count as none.
  data.quality_gap.assign(10, -1.0);
  data.quality_gap[0] = 1.0;
  data.weights.assign(10, 1.0);
  data.weights[0] = 0.0;
  CHECK(costroute::train(data, options).status().message() ==
        "quality_gap: no example of weight above 0 where the small model did better than the strong one (a gap "
        "above 0); learning the small model's wins needs both");
  data.weights[0] = 0.5;
  CHECK(costroute::train(data, options).ok());
  // The same rule, as tune() asks it of each fold's training part.
  CHECK(costroute::wins_and_non_wins(data.quality_gap, {}));
  CHECK(costroute::wins_and_non_wins(data.quality_gap, data.weights));
  data.weights[0] = 0.0;
  CHECK_FALSE(costroute::wins_and_non_wins(data.quality_gap, data.weights));
  CHECK_FALSE(costroute::wins_and_non_wins(std::vector<double>(3, 0.0), {}));
  CHECK_FALSE(costroute::wins_and_non_wins(std::vector<double>(3, 0.5), {}));
}

namespace {

// Another set of prompts for with_extra: a different base rate (7 of 8
// good enough) and its own scale of qualities (0/1 correctness).
costroute::TrainingSet other_set() {
  costroute::TrainingSet extra;
  extra.queries = {"what is the capital of italy", "translate goodbye to french", "what is three plus four",
                   "classify this email as spam", "is this review positive", "what day is it",
                   "prove that the square root of two is irrational", "explain why the moon has phases"};
  extra.labels = {1, 1, 1, 1, 1, 1, 0, 1};
  extra.cheap_quality = {1, 1, 1, 1, 0, 1, 0, 1};
  extra.quality_gap = {0, 1, 0, 0, -1, 0, -1, 0};
  return extra;
}

// The offset of `set` that makes the gradient of C * sum s_i * logloss +
// |w|^2 / 2 along it 0, given the model's logits: found by bisection, as
// that gradient rises with the offset.
double optimal_offset(const costroute::Model& model, const costroute::TrainingSet& data, uint32_t set, double C,
                      const std::vector<double>& weights) {
  costroute::TextScratch scratch;
  auto gradient = [&](double offset) {
    double g = offset;
    for (size_t i = 0; i < data.queries.size(); ++i) {
      if (data.source[i] != set) continue;
      const double z = model.decision_function(model.vectorizer().transform(data.queries[i], scratch)) + offset;
      g += C * weights[i] * (costroute::Model::probability(z) - data.labels[i]);
    }
    return g;
  };
  double lo = -100.0, hi = 100.0;
  for (int step = 0; step < 200; ++step) (gradient((lo + hi) / 2) > 0 ? hi : lo) = (lo + hi) / 2;
  return (lo + hi) / 2;
}

}  // namespace

TEST_CASE("with_extra joins the extra sets at their weight, each numbered, its qualities on the data's scale") {
  costroute::TrainingSet data = small_set();
  data.cheap_quality = {10, 6, 2, 4, 9, 8, 3, 5, 7, 2};  // from 2 to 10
  data.quality_gap = {0, 2, -4, -1, 4, 0, -3, -2, 1, 3};  // largest |gap| 4
  costroute::TrainingSet second;
  second.queries = {"summarise this paragraph", "write a haiku"};
  second.labels = {1, 0};
  second.weights = {2.0, 1.0};
  second.cheap_quality = {5, 5};  // a single value: the middle of the data's range
  second.quality_gap = {0, 0};    // no gap to scale: unchanged
  auto joined = costroute::with_extra(data, {.sets = {other_set(), second}, .weight = 0.25});
  REQUIRE(joined.ok());
  REQUIRE(joined->queries.size() == 20);
  CHECK(joined->queries[10] == other_set().queries[0]);
  CHECK(joined->queries[19] == "write a haiku");
  CHECK(std::vector<int>(joined->labels.begin() + 10, joined->labels.begin() + 18) == other_set().labels);
  const std::vector<uint32_t> source = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2};
  CHECK(joined->source == source);
  CHECK(joined->weights[0] == 1.0);
  CHECK(joined->weights[10] == 0.25);
  CHECK(joined->weights[18] == 0.5);  // its own weight 2, times 0.25
  CHECK(joined->cheap_quality[10] == 10.0);  // correct: the data's largest
  CHECK(joined->cheap_quality[14] == 2.0);   // wrong: the data's least
  CHECK(joined->cheap_quality[18] == 6.0);
  CHECK(joined->quality_gap[11] == 4.0);
  CHECK(joined->quality_gap[14] == -4.0);
  CHECK(joined->quality_gap[18] == 0.0);
  // No sets: the data as it is.
  auto alone = costroute::with_extra(data, {});
  REQUIRE(alone.ok());
  CHECK(alone->queries == data.queries);
  CHECK(alone->source.empty());
}

TEST_CASE("with_extra refuses sets that do not fit the data, naming the set and field") {
  const costroute::TrainingSet data = small_set();
  auto message = [&](const costroute::TrainingSet& data, const costroute::ExtraExamples& extra) {
    auto joined = costroute::with_extra(data, extra);
    return joined.ok() ? std::string("ok") : std::string(joined.status().message());
  };
  costroute::TrainingSet short_labels = other_set();
  short_labels.labels.pop_back();
  CHECK(message(data, {.sets = {other_set(), short_labels}}) ==
        "extra.sets[1].labels: expected 8 values (one per query), got 7");
  for (double weight : {0.0, -1.0, std::nan(""), 1e13}) {
    INFO(weight);
    CHECK(message(data, {.sets = {other_set()}, .weight = weight}).rfind("extra.weight: expected a number in (0, 1e12]", 0) == 0);
  }
  costroute::TrainingSet with_qualities = data;
  with_qualities.cheap_quality.assign(data.queries.size(), 1.0);
  with_qualities.cheap_quality[0] = 2.0;
  costroute::TrainingSet without = other_set();
  without.cheap_quality.clear();
  CHECK(message(with_qualities, {.sets = {without}}).rfind("extra.sets[0].cheap_quality: none, but the data has them", 0) == 0);
  costroute::TrainingSet not_finite = other_set();
  not_finite.quality_gap[3] = std::numeric_limits<double>::infinity();
  CHECK(message(data, {.sets = {not_finite}}) == "extra.sets[0].quality_gap[3]: not a finite number");
  costroute::TrainingSet negative = other_set();
  negative.weights.assign(8, 1.0);
  negative.weights[5] = -1.0;
  CHECK(message(data, {.sets = {negative}}) == "extra.sets[0].weights[5]: expected a number in [0, 1e12], got -1");
  costroute::TrainingSet numbered = other_set();
  numbered.source.assign(8, 3);
  CHECK(message(data, {.sets = {numbered}}) == "extra.sets[0].source: expected none (with_extra numbers the sets)");
  costroute::TrainingSet with_context = data;
  with_context.context.assign(data.queries.size(), {"a"});
  CHECK(message(with_context, {.sets = {other_set()}}) ==
        "extra.sets[0].context: expected 8 rows (one per query) of the data's 1 fields, got 0");
  costroute::TrainingSet wide = other_set();
  wide.context.assign(8, {"a", "b"});
  CHECK(message(with_context, {.sets = {wide}}) ==
        "extra.sets[0].context[0]: expected 1 values (the data's context fields), got 2");
}

TEST_CASE("each extra set gets an offset of its own, which the model leaves out") {
  const costroute::TrainingSet data = small_set();  // 6 of 10 good enough
  auto joined = costroute::with_extra(data, {.sets = {other_set()}, .weight = 0.5});
  REQUIRE(joined.ok());
  costroute::TrainOptions options;
  options.tolerance = 1e-10;
  auto result = costroute::train(*joined, options);
  REQUIRE(result.ok());
  CHECK(result->report.converged);
  CHECK(result->model.coef().size() == result->model.vectorizer().num_features());
  // The optimum of the objective with the set's offset as one more
  // coefficient: with the offset that zeroes its own gradient, the
  // gradients of the text weights and the intercept are zero too.
  const double offset = optimal_offset(result->model, *joined, 1, 1.0, joined->weights);
  CHECK(std::fabs(offset) > 0.05);  // the set's other base rate
  costroute::TextScratch scratch;
  std::vector<double> g(result->model.coef());
  double g_intercept = 0.0;
  for (size_t i = 0; i < joined->queries.size(); ++i) {
    const costroute::SparseRow& row = result->model.vectorizer().transform(joined->queries[i], scratch);
    const double z = result->model.decision_function(row) + (joined->source[i] == 1 ? offset : 0.0);
    const double r = joined->weights[i] * (costroute::Model::probability(z) - joined->labels[i]);
    for (size_t k = 0; k < row.size(); ++k) g[row.columns[k]] += r * row.values[k];
    g_intercept += r;
  }
  double largest = std::fabs(g_intercept);
  for (double x : g) largest = std::max(largest, std::fabs(x));
  CHECK(largest < 1e-7);
  // Without its offset the set's base rate (7 of 8) pulls the data's
  // scores up: with it, they stay nearer the data's own rate.
  costroute::TrainingSet pooled = *joined;
  pooled.source.clear();
  auto naive = costroute::train(pooled, options);
  REQUIRE(naive.ok());
  double mean_offset = 0.0, mean_pooled = 0.0;
  for (const std::string& q : data.queries) {
    mean_offset += result->model.p_small_ok(q) / 10.0;
    mean_pooled += naive->model.p_small_ok(q) / 10.0;
  }
  INFO("mean p with the offset " << mean_offset << ", pooled " << mean_pooled);
  CHECK(std::fabs(mean_offset - 0.6) < std::fabs(mean_pooled - 0.6));
  // A source beyond kMaxSources, or one per query that is missing, is refused.
  costroute::TrainingSet bad = *joined;
  bad.source[12] = costroute::kMaxSources + 1;
  auto refused = costroute::train(bad, options);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message() == "source[12]: expected at most 1024, got 1025");
  bad.source.pop_back();
  refused = costroute::train(bad, options);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message() == "source: expected 18 values (one per query) or none, got 17");
}

TEST_CASE("with extra sets, balanced classes and the two labels are the data's own") {
  const costroute::TrainingSet data = small_set();  // 6 of 10 good enough
  auto joined = costroute::with_extra(data, {.sets = {other_set()}, .weight = 0.5});
  REQUIRE(joined.ok());
  costroute::TrainOptions balanced;
  balanced.balanced_class_weight = true;
  balanced.tolerance = 1e-10;
  auto a = costroute::train(*joined, balanced);
  REQUIRE(a.ok());
  // The same as weighting every example by the data's class weights, 10 /
  // (2 * 6) and 10 / (2 * 4), the extra set's 7 of 8 left out of the count.
  costroute::TrainingSet weighted = *joined;
  for (size_t i = 0; i < weighted.queries.size(); ++i) {
    weighted.weights[i] *= weighted.labels[i] == 1 ? 10.0 / 12.0 : 10.0 / 8.0;
  }
  costroute::TrainOptions plain;
  plain.tolerance = 1e-10;
  auto b = costroute::train(weighted, plain);
  REQUIRE(b.ok());
  for (size_t j = 0; j < a->model.coef().size(); ++j) {
    CHECK(a->model.coef()[j] == Approx(b->model.coef()[j]).margin(1e-8));
  }
  CHECK(a->model.intercept() == Approx(b->model.intercept()).margin(1e-8));
  // The data must hold both labels itself, whatever the extra sets hold.
  costroute::TrainingSet one_label = data;
  one_label.labels.assign(data.queries.size(), 1);
  auto joined_one = costroute::with_extra(one_label, {.sets = {other_set()}});
  REQUIRE(joined_one.ok());
  auto refused = costroute::train(*joined_one, plain);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message() ==
        "labels: every example of the data (source 0) has label 1; training needs examples of both 0 and 1");
  // An extra example's weight times the set's weight stays within the limit.
  costroute::TrainingSet heavy = other_set();
  heavy.weights.assign(8, 1.0);
  heavy.weights[2] = 1e12;
  auto too_heavy = costroute::with_extra(data, {.sets = {heavy}, .weight = 2.0});
  REQUIRE_FALSE(too_heavy.ok());
  CHECK(too_heavy.status().message() == "extra.sets[0].weights[2]: 1e+12 times extra.weight 2 is above 1e12");
}
