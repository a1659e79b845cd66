#include "costroute/model.h"

#include <cmath>
#include <string>

#include "catch.h"
#include "costroute/internal/numeric.h"
#include "test_util.h"

namespace {

// Columns: 0 "cheap", 1 "hard", 2 "hard proof", 3 "proof".
costroute::Model small_model() {
  auto v = costroute::Vectorizer::create({}, {"cheap", "hard", "hard proof", "proof"},
                                         {1.0, 2.0, 3.0, 1.5});
  REQUIRE(v.ok());
  auto m = costroute::Model::create(*std::move(v), {2.0, -1.0, -3.0, -0.5}, 0.25,
                                    {{"trainer", "hand"}});
  REQUIRE(m.ok());
  return *std::move(m);
}

}  // namespace

TEST_CASE("p_small_ok is the logistic of the dot product plus intercept, summed in descending column order") {
  const costroute::Model model = small_model();
  // "hard proof": hard 1*2, "hard proof" 1*3, proof 1*1.5 -> columns 3, 2, 1.
  const double x3 = 1.5, x2 = 3.0, x1 = 2.0;
  const double norm = std::sqrt(x3 * x3 + x2 * x2 + x1 * x1);
  // Each product rounded before the sum, as the model does: clang fuses
  // a * b + c into an FMA by default (-ffp-contract=on), even when it folds
  // constants.
  using costroute::internal::fp_barrier;
  double dot = 0.0;
  dot += fp_barrier((x3 / norm) * -0.5);
  dot += fp_barrier((x2 / norm) * -3.0);
  dot += fp_barrier((x1 / norm) * -1.0);
  const double expected = 1.0 / (1.0 + std::exp(-(dot + 0.25)));
  CHECK(model.p_small_ok("Hard proof") == expected);
  CHECK(model.p_small_ok("hard PROOF!") == expected);
}

TEST_CASE("a query without known terms scores the intercept alone") {
  const costroute::Model model = small_model();
  const double intercept_only = 1.0 / (1.0 + std::exp(-0.25));
  CHECK(model.p_small_ok("") == intercept_only);
  CHECK(model.p_small_ok("zzz qqq") == intercept_only);
  CHECK(model.p_small_ok("\xff\xfe\xfd") == intercept_only);
}

TEST_CASE("decision_function gives NaN for a row that is not of this model's vocabulary") {
  const costroute::Model model = small_model();
  costroute::SparseRow row;
  row.columns = {3, 0};
  row.values = {0.5, 0.5};
  CHECK(model.decision_function(row) == 0.5 * -0.5 + 0.5 * 2.0 + 0.25);
  row.columns = {4, 0};  // one past the vocabulary
  CHECK(std::isnan(model.decision_function(row)));
  row.columns = {-1, 0};
  CHECK(std::isnan(model.decision_function(row)));
  row.columns = {3};  // fewer columns than values
  CHECK(std::isnan(model.decision_function(row)));
}

TEST_CASE("any bytes get a probability in [0, 1]") {
  const costroute::Model model = small_model();
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  const double p = model.p_small_ok(bytes + " cheap " + bytes);
  CHECK(p >= 0.0);
  CHECK(p <= 1.0);
  std::string big;
  while (big.size() < (1 << 20)) big += "cheap hard proof ";
  const double q = model.p_small_ok(big);
  CHECK((q >= 0.0 && q <= 1.0));
}

TEST_CASE("model creation rejects wrong lengths and non-finite numbers") {
  auto v = costroute::Vectorizer::create({}, {"ab", "cd"}, {1.0, 1.0});
  REQUIRE(v.ok());
  auto short_coef = costroute::Model::create(*v, {1.0}, 0.0);
  CHECK(short_coef.status().message() ==
        "coef: expected 2 values (one per vocabulary term), got 1");
  auto inf_coef = costroute::Model::create(*v, {1.0, INFINITY}, 0.0);
  CHECK(inf_coef.status().message() == "coef[1]: not a finite number");
  auto nan_intercept = costroute::Model::create(*v, {1.0, 1.0}, NAN);
  CHECK(nan_intercept.status().message() == "intercept: not a finite number");
  // Finite but so large that a query's sum would overflow to NaN.
  CHECK(costroute::Model::create(*v, {1.0, 1e200}, 0.0).status().message() == "coef[1]: beyond 1e100 in size");
  CHECK(costroute::Model::create(*v, {1.0, 1.0}, -1e200).status().message() == "intercept: beyond 1e100 in size");
  // save_model writes provenance as a JSON object, whose keys must differ.
  CHECK(costroute::Model::create(*v, {1.0, 1.0}, 0.0, {{"k", "1"}, {"k", "2"}}).status().message() ==
        "provenance: duplicate key \"k\"");
  // A model file is JSON text: bytes that are not UTF-8 would not survive
  // a save and a load.
  CHECK(costroute::Model::create(*v, {1.0, 1.0}, 0.0, {{"k", "\xff"}}).status().message() ==
        "provenance[0]: not valid UTF-8");
  const costroute::ContextFeature binary{.field = "meta.subset", .values = {"a", "a\xe9"}, .coef = {1.0, 2.0}};
  CHECK(costroute::Model::create(*v, {1.0, 1.0}, 0.0, {}, {binary}).status().message() ==
        "context_features[0].values[1]: not valid UTF-8");
}

TEST_CASE("scoring makes no heap allocation once warm") {
  const costroute::Model model = small_model();
  costroute::TextScratch scratch;
  const std::string query = "Is this a hard proof or a cheap one? hard proof.";
  model.p_small_ok(query, scratch);
  model.p_small_ok(query);  // warms the thread-local scratch too
  // And with a second head and context values.
  const costroute::ContextFeature subset{.field = "f", .values = {"x", "y"}, .coef = {1.0, -1.0}, .win_coef = {2.0, 0.5}};
  auto two = costroute::Model::create(model.vectorizer(), model.coef(), model.intercept(), {}, {subset},
                                      costroute::WinHead{.weight = 0.5, .coef = {1.0, 2.0, 3.0, 4.0}, .intercept = 1.0});
  REQUIRE(two.ok());
  const std::string_view y[] = {"y"};
  two->p_small_ok(query, y, scratch);
  costroute::testing::AllocationCounter counter;
  double sum = 0.0;
  for (int i = 0; i < 100; ++i) {
    sum += model.p_small_ok(query, scratch) + model.p_small_ok(query) + two->p_small_ok(query, y, scratch);
  }
  CHECK(counter.count() == 0);
  CHECK(sum > 0.0);
}

TEST_CASE("a model with a win head blends the two heads' probabilities") {
  auto v = costroute::Vectorizer::create({}, {"ab", "cd"}, {1.0, 1.0});
  REQUIRE(v.ok());
  const costroute::ContextFeature subset{
      .field = "meta.subset", .values = {"x", "y"}, .coef = {0.5, -0.5}, .win_coef = {-1.0, 2.0}};
  auto m = costroute::Model::create(*v, {1.0, -2.0}, 0.25, {}, {subset},
                                    costroute::WinHead{.weight = 0.5, .coef = {-1.0, 3.0}, .intercept = -2.0});
  REQUIRE(m.ok());
  costroute::TextScratch scratch;
  const double norm = std::sqrt(2.0);
  using costroute::Model;
  const std::string_view y[] = {"y"};
  // "ab cd" with "y": the first head's logit 1/norm*... from column 1 down.
  double z_label = 0.0, z_win = 0.0;
  z_label += costroute::internal::fp_barrier((1.0 / norm) * -2.0);
  z_label += costroute::internal::fp_barrier((1.0 / norm) * 1.0);
  z_win += costroute::internal::fp_barrier((1.0 / norm) * 3.0);
  z_win += costroute::internal::fp_barrier((1.0 / norm) * -1.0);
  const double expected =
      (Model::probability(z_label - 0.5 + 0.25) + 0.5 * Model::probability(z_win + 2.0 - 2.0)) / 1.5;
  CHECK(m->p_small_ok("ab cd", y, scratch) == expected);
  // decision_function is the first head's logit.
  CHECK(m->decision_function(m->vectorizer().transform("ab cd", scratch), y) == z_label - 0.5 + 0.25);
  // No known term, no context: the intercepts alone.
  CHECK(m->p_small_ok("zz") == (Model::probability(0.25) + 0.5 * Model::probability(-2.0)) / 1.5);
  costroute::SparseRow outside;
  outside.columns = {2};
  outside.values = {1.0};
  CHECK(std::isnan(m->p_small_ok(outside)));
}

TEST_CASE("model creation checks the win head and its context weights") {
  auto v = costroute::Vectorizer::create({}, {"ab", "cd"}, {1.0, 1.0});
  REQUIRE(v.ok());
  auto make = [&](costroute::WinHead head, std::vector<double> win_coef = {1.0}) -> std::string {
    const costroute::ContextFeature f{.field = "f", .values = {"x"}, .coef = {0.0}, .win_coef = std::move(win_coef)};
    return std::string(costroute::Model::create(*v, {1.0, 1.0}, 0.0, {}, {f}, std::move(head)).status().message());
  };
  CHECK(make({.weight = 0.0, .coef = {1.0, 1.0}}) == "win_head.weight: expected a positive finite number, got 0");
  CHECK(make({.weight = INFINITY, .coef = {1.0, 1.0}}) ==
        "win_head.weight: expected a positive finite number, got inf");
  CHECK(make({.weight = 1.0, .coef = {1.0}}) == "win_head.coef: expected 2 values (one per vocabulary term), got 1");
  CHECK(make({.weight = 1.0, .coef = {1.0, NAN}}) == "win_head.coef[1]: not a finite number");
  CHECK(make({.weight = 1.0, .coef = {1.0, 1.0}, .intercept = 1e200}) == "win_head.intercept: beyond 1e100 in size");
  CHECK(make({.weight = 1.0, .coef = {1.0, 1.0}}, {}) ==
        "context_features[0].win_coef: expected 1 values (one per value), got 0");
  CHECK(make({.weight = 1.0, .coef = {1.0, 1.0}}, {NAN}) == "context_features[0].win_coef[0]: not a finite number");
  // Without a win head, a context feature has no win weights.
  const costroute::ContextFeature stray{.field = "f", .values = {"x"}, .coef = {0.0}, .win_coef = {1.0}};
  CHECK(costroute::Model::create(*v, {1.0, 1.0}, 0.0, {}, {stray}).status().message() ==
        "context_features[0].win_coef: expected 0 values (the model has no win_head), got 1");
}
