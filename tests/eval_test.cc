#include "costroute/eval.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "catch.h"
#include "eval/random.h"
#include "eval/ranking.h"

namespace {

// Four prompts, worked out by hand in the comments below.
std::vector<costroute::Outcome> four() {
  return {{.p_small_ok = 0.9, .quality_small = 1, .quality_large = 1, .cost_small = 0.1, .cost_large = 1},
          {.p_small_ok = 0.8, .quality_small = 0, .quality_large = 1, .cost_small = 0.1, .cost_large = 1},
          {.p_small_ok = 0.8, .quality_small = 1, .quality_large = 0, .cost_small = 0.1, .cost_large = 1},
          {.p_small_ok = 0.2, .quality_small = 0, .quality_large = 1, .cost_small = 0.1, .cost_large = 1}};
}

}  // namespace

TEST_CASE("the router's curve sweeps thresholds over distinct scores, tied prompts moving together") {
  const auto data = four();
  const costroute::Evaluation e = costroute::evaluate(data);
  CHECK(e.n == 4);
  CHECK(e.quality_small == 0.5);
  CHECK(e.quality_large == 0.75);
  REQUIRE(e.router.curve.size() == 4);  // all strong, then p >= 0.9, 0.8, 0.2
  CHECK(e.router.curve[0].strong_share == 1.0);
  CHECK(e.router.curve[1].threshold == 0.9);
  CHECK(e.router.curve[2].threshold == 0.8);
  CHECK(e.router.curve[2].strong_share == 0.25);
  CHECK(e.router.curve[2].cost == Approx(1.3));
  CHECK(e.router.curve[2].quality == Approx(0.75));
  CHECK(e.router.curve[3].pgr == Approx(0.0));
}

TEST_CASE("savings, APGR, CPT and AUC match a hand-computed case, ties included") {
  const costroute::Evaluation e = costroute::evaluate(four(), {.max_quality_drop = 0.03});
  // Quality may fall to 0.7275; the cheapest point that keeps it costs 1.3 of 4.
  CHECK(e.router.savings_at_max_drop == Approx(1 - 1.3 / 4));
  CHECK(e.router.quality_drop == Approx(0.0));
  CHECK(e.router.strong_share == 0.25);
  REQUIRE(e.router.threshold.has_value());
  CHECK(*e.router.threshold == 0.8);
  // PGR 1, 1, 1, 0 at shares 1, .75, .25, 0: 0.25 + 0.5 + 0.125.
  CHECK(e.router.apgr == Approx(0.875));
  CHECK(e.router.cpt50 == 0.25);
  CHECK(e.router.cpt80 == 0.25);
  // Positives score 0.9 and 0.8, negatives 0.8 and 0.2: 3 wins and a tie of 4.
  CHECK(e.router.auc == Approx(0.875));
}

TEST_CASE("the random mixture is the straight line between always-strong and always-small") {
  const costroute::Evaluation e = costroute::evaluate(four(), {.max_quality_drop = 0.03});
  // Strong share >= 1 - 0.03 * 0.75 / 0.25 = 0.91; cost 0.4 + 0.91 * 3.6.
  CHECK(e.random.strong_share == Approx(0.91));
  CHECK(e.random.savings_at_max_drop == Approx(1 - (0.4 + 0.91 * 3.6) / 4));
  CHECK(e.random.apgr == 0.5);
  CHECK(e.random.cpt50 == 0.5);
  CHECK(e.random.cpt80 == 0.8);
  CHECK(e.random.auc == 0.5);
  CHECK(!e.random.threshold.has_value());
}

TEST_CASE("the oracle moves the prompts the small model answers best first") {
  const costroute::Evaluation e = costroute::evaluate(four(), {.max_quality_drop = 0.03});
  // Order: prompt 2 (small better), 0 (equal), then 1 and 3 (small worse).
  REQUIRE(e.oracle.curve.size() == 5);
  CHECK(e.oracle.curve[1].quality == Approx(1.0));
  CHECK(e.oracle.curve[2].quality == Approx(1.0));
  CHECK(e.oracle.curve[3].quality == Approx(0.75));
  CHECK(e.oracle.savings_at_max_drop == Approx(1 - 1.3 / 4));
  // PGR 1, 2, 2, 1, 0 at shares 1, .75, .5, .25, 0.
  CHECK(e.oracle.apgr == Approx(0.375 + 0.5 + 0.375 + 0.125));
  CHECK(e.oracle.cpt50 == 0.25);
  CHECK(e.oracle.auc == 1.0);
}

TEST_CASE("with costs that differ by prompt, the oracle moves the least loss per unit saved first") {
  // Prompt 0 loses 1 of quality but saves 100; prompt 1 loses 0.1 and saves
  // 0.1; prompts 2 and 3 lose and save nothing. At a 25% drop (mean quality
  // 0.75 of 1) the oracle moves 2, 3 and then 0, and spends 3 of 103.
  const std::vector<costroute::Outcome> data = {
      {.p_small_ok = 0.9, .quality_small = 0, .quality_large = 1, .cost_small = 0, .cost_large = 100},
      {.p_small_ok = 0.1, .quality_small = 0.9, .quality_large = 1, .cost_small = 0.9, .cost_large = 1},
      {.p_small_ok = 0.5, .quality_small = 1, .quality_large = 1, .cost_small = 1, .cost_large = 1},
      {.p_small_ok = 0.5, .quality_small = 1, .quality_large = 1, .cost_small = 1, .cost_large = 1}};
  const costroute::Evaluation e = costroute::evaluate(data, {.max_quality_drop = 0.25});
  REQUIRE(e.oracle.curve.size() == 5);
  CHECK(e.oracle.curve[3].cost == Approx(3.0));
  CHECK(e.oracle.curve[3].quality == Approx(0.75));
  CHECK(e.oracle.savings_at_max_drop == Approx(100.0 / 103.0));
  CHECK(e.oracle.savings_at_max_drop >= e.router.savings_at_max_drop);
}

TEST_CASE("when strong calls are the cheaper ones, random stays at always-strong") {
  std::vector<costroute::Outcome> data = four();
  for (costroute::Outcome& o : data) o.cost_small = 2.0;
  const costroute::Evaluation e = costroute::evaluate(data, {.max_quality_drop = 0.5});
  CHECK(e.random.strong_share == 1.0);
  CHECK(e.random.savings_at_max_drop == 0.0);
  CHECK(e.random.quality_drop == 0.0);
}

TEST_CASE("a threshold that sends nothing to the small model sits just above the highest score") {
  std::vector<costroute::Outcome> data = {
      {.p_small_ok = 0.9, .quality_small = 0, .quality_large = 1, .cost_small = 0.1, .cost_large = 1},
      {.p_small_ok = 0.1, .quality_small = 1, .quality_large = 1, .cost_small = 0.1, .cost_large = 1}};
  const costroute::Evaluation e = costroute::evaluate(data, {.max_quality_drop = 0.03});
  CHECK(e.router.savings_at_max_drop == 0.0);
  REQUIRE(e.router.threshold.has_value());
  CHECK(*e.router.threshold > 0.9);
  CHECK(*e.router.threshold < 0.9 + 1e-15);
  CHECK(costroute::point_at_threshold(data, *e.router.threshold).strong_share == 1.0);
}

TEST_CASE("point_at_threshold routes p >= threshold to the small model") {
  const auto p = costroute::point_at_threshold(four(), 0.8);
  CHECK(p.strong_share == 0.25);
  CHECK(p.cost == Approx(1.3));
  CHECK(p.quality == Approx(0.75));
  CHECK(p.pgr == Approx(1.0));
}

TEST_CASE("degenerate data: nothing to evaluate, or no quality gap") {
  CHECK(costroute::evaluate({}).n == 0);
  std::vector<costroute::Outcome> same = {{.p_small_ok = 0.3, .quality_small = 1, .quality_large = 1},
                                          {.p_small_ok = 0.7, .quality_small = 1, .quality_large = 1}};
  const costroute::Evaluation e = costroute::evaluate(same);
  CHECK(std::isnan(e.router.apgr));
  CHECK(std::isnan(e.random.apgr));
  CHECK(e.router.auc == 0.5);  // one class only
  CHECK(e.router.savings_at_max_drop == Approx(1.0));  // costs 0 vs 1 each
}

TEST_CASE("when the small model is the better one on average, PGR, APGR and CPT are undefined") {
  // Mean quality: small 0.75, strong 0.5. PGR's denominator would be
  // negative, and the oracle's APGR came out below zero.
  const std::vector<costroute::Outcome> data = {
      {.p_small_ok = 0.9, .quality_small = 1, .quality_large = 0, .cost_small = 0.1, .cost_large = 1},
      {.p_small_ok = 0.7, .quality_small = 1, .quality_large = 1, .cost_small = 0.1, .cost_large = 1},
      {.p_small_ok = 0.4, .quality_small = 0, .quality_large = 1, .cost_small = 0.1, .cost_large = 1},
      {.p_small_ok = 0.2, .quality_small = 1, .quality_large = 0, .cost_small = 0.1, .cost_large = 1}};
  const costroute::Evaluation e = costroute::evaluate(data);
  for (const costroute::RoutingMetrics* m : {&e.router, &e.random, &e.oracle}) {
    CHECK(std::isnan(m->apgr));
    CHECK(std::isnan(m->cpt50));
    CHECK(std::isnan(m->cpt80));
    for (const costroute::CurvePoint& p : m->curve) CHECK(std::isnan(p.pgr));
    // Always-small is within any drop and the cheapest: the savings stay.
    CHECK(m->savings_at_max_drop == Approx(0.9));
    CHECK(m->quality_drop == Approx(-0.5));
  }
  CHECK(e.router.auc == Approx(2.0 / 3.0));  // the AUC does not depend on the gap
  CHECK(std::isnan(costroute::point_at_threshold(data, 0.5).pgr));
}

TEST_CASE("an evaluation of no examples still draws, and mismatched folds are refused") {
  const std::string svg = costroute::cost_quality_svg(costroute::evaluate({}), "nothing");
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("</svg>") != std::string::npos);
  std::vector<double> scores(30, 0.5);
  const std::vector<int> short_fold(10, 0);
  CHECK_FALSE(costroute::within_fold_quantiles(scores, short_fold, 1));
  CHECK(scores == std::vector<double>(30, 0.5));
  // Folds outside [1, n], or an entry outside [0, folds): refused before any work.
  std::vector<int> fold(30);
  for (int i = 0; i < 30; ++i) fold[static_cast<size_t>(i)] = i % 2;
  for (int folds : {0, -1, 31, INT_MAX}) CHECK_FALSE(costroute::within_fold_quantiles(scores, fold, folds));
  fold[7] = 2;
  CHECK_FALSE(costroute::within_fold_quantiles(scores, fold, 2));
  fold[7] = -1;
  CHECK_FALSE(costroute::within_fold_quantiles(scores, fold, 2));
  CHECK(scores == std::vector<double>(30, 0.5));
  fold[7] = 1;
  CHECK(costroute::within_fold_quantiles(scores, fold, 2));
}

TEST_CASE("a NaN quality or drop lets no point qualify: always-strong's savings, not always-small's") {
  costroute::EvalOptions nan_drop;
  nan_drop.max_quality_drop = NAN;
  const costroute::Evaluation e = costroute::evaluate(four(), nan_drop);
  CHECK(e.router.savings_at_max_drop == 0.0);
  CHECK(e.oracle.savings_at_max_drop == 0.0);
  std::vector<costroute::Outcome> data = four();
  data[1].quality_large = NAN;
  CHECK(costroute::evaluate(data).router.savings_at_max_drop == 0.0);
}

TEST_CASE("the SVG picture has labelled axes, the three curves and the operating point") {
  const costroute::Evaluation e = costroute::evaluate(four());
  const std::string svg = costroute::cost_quality_svg(e, "four <prompts>");
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("four &lt;prompts&gt;") != std::string::npos);
  CHECK(svg.find("cost, relative to always using the strong model") != std::string::npos);
  CHECK(svg.find("mean quality") != std::string::npos);
  CHECK(svg.find("router (saves 67.5%)") != std::string::npos);
  CHECK(svg.find("random (saves") != std::string::npos);
  CHECK(svg.find("oracle (saves") != std::string::npos);
  CHECK(svg.find("<circle") != std::string::npos);
  CHECK(svg.find("</svg>") != std::string::npos);
  CHECK(svg.find("3% quality band") != std::string::npos);
}

TEST_CASE("the SVG title holds only characters XML allows, and the band says its drop exactly") {
  const costroute::Evaluation e = costroute::evaluate(four(), {.max_quality_drop = 0.025});
  // U+FFFE and U+FFFF are UTF-8 but not XML characters; a tab is a control.
  const std::string svg = costroute::cost_quality_svg(e, "a\xEF\xBF\xBE b\xEF\xBF\xBF c\td");
  CHECK(svg.find("a\xEF\xBF\xBD b\xEF\xBF\xBD c d") != std::string::npos);
  CHECK(svg.find("\xEF\xBF\xBE") == std::string::npos);
  CHECK(svg.find("\xEF\xBF\xBF") == std::string::npos);
  CHECK(svg.find("2.5% quality band") != std::string::npos);
}

TEST_CASE("the SVG band of allowed drop stays inside the plot, even for a drop of 100%") {
  const costroute::Evaluation e = costroute::evaluate(four(), {.max_quality_drop = 1.0});
  const std::string svg = costroute::cost_quality_svg(e, "four");
  // The rect's y and height, found by its fill; the plot's frame is the rect with stroke #333.
  auto rect_of = [&](const std::string& marker) {
    const size_t at = svg.rfind("<rect", svg.find(marker));
    REQUIRE(at != std::string::npos);
    double x = 0, y = 0, w = 0, h = 0;
    REQUIRE(std::sscanf(svg.c_str() + at, "<rect x=\"%lf\" y=\"%lf\" width=\"%lf\" height=\"%lf\"", &x, &y, &w, &h) == 4);
    return std::pair{y, y + h};
  };
  const auto band = rect_of("fill-opacity=\"0.12\"");
  const auto frame = rect_of("stroke=\"#333\"");
  CHECK(band.first >= frame.first);
  CHECK(band.second <= frame.second + 1e-9);
  CHECK(band.second > band.first);
}

TEST_CASE("the operating point is the cheapest within the drop, the better quality on a cost tie") {
  // Always-strong quality 1.0; a 3% drop allows 0.97.
  const std::vector<costroute::CurvePoint> curve = {{.threshold = 0.9, .strong_share = 1.0, .cost = 10, .quality = 1.0},
                                                    {.threshold = 0.7, .strong_share = 0.6, .cost = 6, .quality = 0.97},
                                                    {.threshold = 0.6, .strong_share = 0.6, .cost = 6, .quality = 0.99},
                                                    {.threshold = 0.5, .strong_share = 0.2, .cost = 2, .quality = 0.96}};
  CHECK(costroute::cheapest_within_drop(curve, 1.0, 0.03).threshold == 0.6);
  CHECK(costroute::cheapest_within_drop(curve, 1.0, 0.04).threshold == 0.5);
  CHECK(costroute::cheapest_within_drop(curve, 1.0, 0.0).threshold == 0.9);
}

TEST_CASE("tier evaluation refuses indices and sizes that do not fit") {
  const std::vector<std::string> models = {"cheap", "strong"};
  const std::vector<double> four = {1, 1, 0, 1};
  const std::vector<size_t> fine = {0, 1}, beyond = {0, 2};
  CHECK(costroute::evaluate_tiers(models, 1, four, four, fine).ok());
  CHECK(costroute::evaluate_tiers(models, 2, four, four, fine).status().message() == "strongest: not one of the models");
  CHECK(costroute::evaluate_tiers(models, 1, four, four, beyond).status().message() == "chosen[1]: not one of the models");
  CHECK(costroute::evaluate_tiers(models, 1, std::span(four).first(3), four, fine).status().message() ==
        "quality and cost: expected 4 values (2 prompts times 2 models)");
  CHECK(costroute::evaluate_tiers(models, 1, {}, {}, {}).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("cross validation and tuning refuse a training set of the wrong shape") {
  costroute::TrainingSet data;
  for (int i = 0; i < 10; ++i) {
    data.queries.push_back(absl::StrCat("q", i));  // not "q" + std::to_string(i): GCC 12 -O3 warns (-Wrestrict, a false positive)
    data.labels.push_back(i % 2);
  }
  costroute::TrainOptions options;
  options.context_fields = {"meta.subset"};  // but no context rows
  CHECK(costroute::cross_validated_scores(data, options, 2, 1).status().message() ==
        "context: expected 10 rows (one per query) for the context fields, got 0");
  CHECK(costroute::assign_folds(std::vector<int>{0, 1, 0, 1}, 0, 1) == std::vector<int>(4, 0));
}

TEST_CASE("folds hold their share of each label, and the seed decides the split") {
  // 50 examples, 7 of label 1: every one of 5 folds gets 10 examples and 1
  // or 2 of the label-1 ones, whatever the seed.
  std::vector<int> labels(50, 0);
  for (int i : {3, 4, 17, 18, 19, 30, 49}) labels[static_cast<size_t>(i)] = 1;
  for (uint64_t seed : {1, 2, 3, 4, 5, 6, 7, 8}) {
    const std::vector<int> fold = costroute::assign_folds(labels, 5, seed);
    std::vector<int> size(5), ones(5);
    for (size_t i = 0; i < labels.size(); ++i) {
      REQUIRE(fold[i] >= 0);
      REQUIRE(fold[i] < 5);
      ++size[static_cast<size_t>(fold[i])];
      ones[static_cast<size_t>(fold[i])] += labels[i];
    }
    for (int f = 0; f < 5; ++f) {
      CHECK(size[static_cast<size_t>(f)] == 10);
      CHECK(ones[static_cast<size_t>(f)] >= 1);
      CHECK(ones[static_cast<size_t>(f)] <= 2);
    }
    CHECK(costroute::assign_folds(labels, 5, seed) == fold);  // deterministic
  }
  CHECK(costroute::assign_folds(labels, 5, 1) != costroute::assign_folds(labels, 5, 2));

  // Two examples of label 1 in 40, two folds: each training part keeps one,
  // so cross validation trains on every seed.
  costroute::TrainingSet data;
  for (int i = 0; i < 40; ++i) {
    data.queries.push_back(absl::StrCat("query ", i % 7, " word", i));
    data.labels.push_back(i == 5 || i == 33 ? 1 : 0);
  }
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    CHECK(costroute::cross_validated_scores(data, costroute::TrainOptions{}, 2, seed).ok());
  }
}

TEST_CASE("a repeated query stays in one fold, and the folds deal out distinct queries by label") {
  // 60 examples over 45 distinct queries: 15 repeat an earlier one.
  std::vector<int> labels(60);
  std::vector<std::string> queries(60);
  for (size_t i = 0; i < 60; ++i) {
    queries[i] = absl::StrCat("question ", i < 45 ? i : (i * 7) % 45);
    labels[i] = static_cast<int>(i % 4 == 0);
  }
  for (size_t i = 45; i < 60; ++i) labels[i] = labels[(i * 7) % 45];  // a repeat, its label
  const std::vector<size_t> groups = costroute::prompt_groups(queries);
  for (size_t i = 0; i < 60; ++i) CHECK(groups[i] == (i < 45 ? i : (i * 7) % 45));
  CHECK(costroute::distinct_prompts(queries) == 45);
  CHECK(costroute::distinct_prompts({}) == 0);
  for (uint64_t seed : {1, 2, 3, 4}) {
    const std::vector<int> fold = costroute::assign_folds(labels, 5, seed, queries);
    REQUIRE(fold.size() == 60);
    std::vector<int> firsts(5), ones(5);
    for (size_t i = 0; i < 60; ++i) {
      if (i >= 45) {
        CHECK(fold[i] == fold[(i * 7) % 45]);
        continue;
      }
      ++firsts[static_cast<size_t>(fold[i])];
      ones[static_cast<size_t>(fold[i])] += labels[i];
    }
    for (int f = 0; f < 5; ++f) {  // 45 distinct queries, 12 of label 1
      CHECK(firsts[static_cast<size_t>(f)] == 9);
      CHECK(ones[static_cast<size_t>(f)] >= 2);
      CHECK(ones[static_cast<size_t>(f)] <= 3);
    }
    CHECK(costroute::assign_folds(labels, 5, seed, queries) == fold);  // deterministic
  }
  // Without repeats, the same folds as without queries.
  std::vector<std::string> distinct(60);
  for (size_t i = 0; i < 60; ++i) distinct[i] = absl::StrCat("q", i);
  CHECK(costroute::assign_folds(labels, 5, 9, distinct) == costroute::assign_folds(labels, 5, 9));

  // Cross validation never scores a query with a model trained on its
  // twin: a twin's score equals the first's.
  costroute::TrainingSet data;
  for (size_t i = 0; i < 60; ++i) {
    data.queries.push_back(queries[i]);
    data.labels.push_back(labels[i]);
  }
  const absl::StatusOr<costroute::FoldScores> cv = costroute::cross_validated_scores(data, {}, 5, 2);
  REQUIRE(cv.ok());
  CHECK(cv->fold == costroute::assign_folds(data.labels, 5, 2, data.queries));
  for (size_t i = 45; i < 60; ++i) CHECK(cv->scores[i] == cv->scores[(i * 7) % 45]);

  // Label 1 on two queries, three copies each: they are dealt to two
  // folds, so every training part keeps the label, at every seed.
  costroute::TrainingSet few;
  for (int i = 0; i < 40; ++i) {
    const bool one = i < 6;
    few.queries.push_back(one ? absl::StrCat("hard one ", i % 2) : absl::StrCat("easy ", i));
    few.labels.push_back(one ? 1 : 0);
  }
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    CHECK(costroute::cross_validated_scores(few, {}, 5, seed).ok());
  }
  // No more folds than distinct queries.
  costroute::TrainingSet four;
  for (int i = 0; i < 12; ++i) {
    four.queries.push_back(absl::StrCat("prompt ", i % 4));
    four.labels.push_back(i % 2);
  }
  CHECK(costroute::cross_validated_scores(four, {}, 5, 1).status().message() ==
        "folds: 5 folds, but only 4 distinct queries among 12 examples (a repeated query stays in one fold)");
}

TEST_CASE("cross validation trains its folds side by side, with the same scores and errors on any number of threads",
          "[concurrency]") {
  costroute::TrainingSet data;
  for (int i = 0; i < 120; ++i) {
    const int label = i % 3 == 0 ? 1 : 0;
    data.queries.push_back(absl::StrCat(label == 1 ? "explain why " : "what is ", "topic", i % 11, " word", i));
    data.labels.push_back(label);
    data.context.push_back({i % 4 == 0 ? "a" : "b"});
  }
  costroute::TrainOptions options;
  options.context_fields = {"kind"};
  options.threads = 1;
  const absl::StatusOr<costroute::FoldScores> one = costroute::cross_validated_scores(data, options, 5, 3);
  REQUIRE(one.ok());
  for (int threads : {2, 3, 5, 8, 0}) {
    options.threads = threads;
    const absl::StatusOr<costroute::FoldScores> many = costroute::cross_validated_scores(data, options, 5, 3);
    REQUIRE(many.ok());
    CHECK(many->fold == one->fold);
    CHECK(many->scores == one->scores);  // bit for bit
    CHECK(many->models == 5);
    CHECK(many->unconverged == 0);
  }
  // A solver stopped at one iteration is counted, whatever the threads.
  options.max_iterations = 1;
  for (int threads : {1, 2}) {
    options.threads = threads;
    const absl::StatusOr<costroute::FoldScores> stopped = costroute::cross_validated_scores(data, options, 5, 3);
    REQUIRE(stopped.ok());
    CHECK(stopped->models == 5);
    CHECK(stopped->unconverged == 5);
  }

  // Two folds that cannot be trained, for different reasons: the error is
  // the lower-numbered fold's, however the folds were scheduled. One
  // example of label 1 leaves its fold's training part with one class; one
  // example with a quality gap leaves its fold's with a single gap.
  costroute::TrainingSet broken;
  for (int i = 0; i < 40; ++i) {
    broken.queries.push_back(absl::StrCat("query ", i % 7, " word", i));
    broken.labels.push_back(i == 6 ? 1 : 0);
    broken.quality_gap.push_back(0.0);
  }
  const std::vector<int> fold = costroute::assign_folds(broken.labels, 4, 1);
  size_t gap_example = 0;
  while (fold[gap_example] == fold[6]) ++gap_example;
  broken.quality_gap[gap_example] = 1.0;
  const int first = std::min(fold[6], fold[gap_example]) + 1;
  costroute::TrainOptions gap_options;
  gap_options.target = costroute::TrainTarget::kQualityGap;
  gap_options.threads = 1;
  const absl::Status serial = costroute::cross_validated_scores(broken, gap_options, 4, 1).status();
  CHECK(std::string(serial.message()).starts_with(absl::StrCat("fold ", first, " of 4: ")));
  for (int threads : {2, 4}) {
    gap_options.threads = threads;
    CHECK(costroute::cross_validated_scores(broken, gap_options, 4, 1).status() == serial);
  }
}

TEST_CASE("tier evaluation totals quality and cost per strategy, with a quality-first oracle") {
  // Two prompts, three models (cheap, mid, strong).
  const std::vector<std::string> models = {"cheap", "mid", "strong"};
  const std::vector<double> quality = {1, 1, 1,   // prompt 0: everyone right
                                       0, 1, 1};  // prompt 1: cheap wrong
  const std::vector<double> cost = {1, 2, 10, 1, 2, 10};
  const std::vector<size_t> chosen = {0, 2};
  auto evaluated = costroute::evaluate_tiers(models, 2, quality, cost, chosen);
  REQUIRE(evaluated.ok());
  const costroute::TierEvaluation& e = *evaluated;
  CHECK(e.n == 2);
  CHECK(e.router.quality == 1.0);
  CHECK(e.router.cost == 11.0);
  CHECK(e.router.savings == Approx(1 - 11.0 / 20));
  CHECK(e.router.model_share == std::vector<double>{0.5, 0.0, 0.5});
  CHECK(e.oracle.cost == 3.0);  // cheap, then mid
  CHECK(e.oracle.quality == 1.0);
  CHECK(e.always[0].quality == 0.5);
  CHECK(e.always[0].quality_drop == Approx(0.5));
  CHECK(e.always[2].savings == 0.0);
}

namespace {

// `n` queries of eight words drawn from a small lexicon, with a context
// value "a" or "b" per query; `label_of(i, kind)` says whether the small
// model was good enough (quality 1 against the strong model's 1, else 0).
struct TuneData {
  costroute::TrainingSet set;
  std::vector<costroute::Outcome> outcomes;
};

// The next number of a xorshift64 generator.
uint64_t xorshift64(uint64_t& state) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

// Whether the search tried learning `target`.
bool tried(const costroute::TuneResult& r, costroute::TrainTarget target) {
  return std::any_of(r.trials.begin(), r.trials.end(),
                     [target](const costroute::TuneTrial& t) { return t.options.target == target; });
}

template <typename LabelOf>
TuneData tune_data(size_t n, uint64_t seed, LabelOf label_of) {
  const std::vector<std::string> lexicon = {"alpha", "bravo",  "charlie", "delta", "echo",   "foxtrot",
                                            "golf",  "hotel",  "india",   "juliet", "kilo",  "lima",
                                            "mike",  "oscar",  "papa",    "quebec", "romeo", "sierra"};
  uint64_t state = seed;
  auto next = [&state] { return xorshift64(state); };
  TuneData d;
  for (size_t i = 0; i < n; ++i) {
    std::string query;
    for (int w = 0; w < 8; ++w) query += lexicon[next() % lexicon.size()] + " ";
    const std::string kind = next() % 2 == 0 ? "a" : "b";
    const int label = label_of(next(), kind) ? 1 : 0;
    d.set.queries.push_back(query);
    d.set.labels.push_back(label);
    d.set.context.push_back({kind});
    d.outcomes.push_back({.p_small_ok = 0, .quality_small = static_cast<double>(label), .quality_large = 1,
                          .cost_small = 0.1, .cost_large = 1});
  }
  return d;
}

// Gives prompt `i` of `d` judged scores: the small and strong models'
// qualities, the label and quality gap they imply, and the cheaper models'
// quality. Prompts before `i` must have theirs.
void set_scores(TuneData& d, size_t i, double small, double large, double cheap) {
  d.set.labels[i] = small >= large ? 1 : 0;
  d.set.quality_gap.push_back(small - large);
  d.set.cheap_quality.push_back(cheap);
  d.outcomes[i].quality_small = small;
  d.outcomes[i].quality_large = large;
}

}  // namespace

TEST_CASE("tune keeps a context field that predicts the outcome") {
  // The small model is good enough on every "a" prompt and 20% of "b".
  const TuneData d = tune_data(300, 7, [](uint64_t r, const std::string& kind) {
    return kind == "a" || r % 10 < 2u;
  });
  for (auto objective : {costroute::TuneObjective::kApgr, costroute::TuneObjective::kSavings}) {
    const costroute::TuneOptions options{.context_fields = {"kind"}, .passes = 1, .objective = objective};
    const absl::StatusOr<costroute::TuneResult> tuned = costroute::tune(d.set, d.outcomes, {}, options);
    REQUIRE(tuned.ok());
    CHECK(tuned->best.context_fields == std::vector<std::string>{"kind"});
    CHECK(tuned->trials.size() > 5);
  }
}

TEST_CASE("tune learns the quality gap or the wins when they rank the prompts better than the label") {
  // Three kinds of prompt: on "w" only the small model is right (mostly),
  // on "x" both are, on "y" (half the prompts) only the strong one. The label calls "w" and
  // "x" alike, and "x" the safer; the gap, and the label beside the wins,
  // put "w" first, where sending a prompt to the small model gains
  // quality.
  TuneData d = tune_data(300, 5, [](uint64_t, const std::string&) { return true; });
  for (size_t i = 0; i < d.outcomes.size(); ++i) {
    const uint64_t r = i * 2654435761u % 100;
    const std::string kind = i % 4 == 0 ? "w" : i % 4 == 1 ? "x" : "y";
    const bool flip = r < 10;  // one in ten goes the other way
    double small = 1, large = 1;
    if (kind == "w") small = flip ? 0 : 1, large = flip ? 1 : 0;
    if (kind == "y") small = flip ? 1 : 0, large = flip ? 0 : 1;
    d.set.context[i] = {kind};
    d.set.labels[i] = small >= large ? 1 : 0;
    d.outcomes[i].quality_small = small;
    d.outcomes[i].quality_large = large;
  }
  const costroute::TuneOptions options{.context_fields = {"kind"}, .passes = 1};
  // Without gaps in the training set, the target is not searched.
  const absl::StatusOr<costroute::TuneResult> without = costroute::tune(d.set, d.outcomes, {}, options);
  REQUIRE(without.ok());
  CHECK_FALSE(tried(*without, costroute::TrainTarget::kQualityGap));
  CHECK_FALSE(tried(*without, costroute::TrainTarget::kLabelAndWin));
  for (const costroute::Outcome& o : d.outcomes) d.set.quality_gap.push_back(o.quality_small - o.quality_large);
  const absl::StatusOr<costroute::TuneResult> tuned = costroute::tune(d.set, d.outcomes, {}, options);
  REQUIRE(tuned.ok());
  CHECK(tried(*tuned, costroute::TrainTarget::kQualityGap));
  CHECK(tried(*tuned, costroute::TrainTarget::kLabelAndWin));
  CHECK(tuned->best.target != costroute::TrainTarget::kLabel);
  CHECK(tuned->best.context_fields == std::vector<std::string>{"kind"});
  const std::string chosen = costroute::describe(tuned->best);
  CHECK((chosen.find(" target=quality-gap") != std::string::npos ||
         chosen.find(" target=label-and-win") != std::string::npos));
  // Each of the two alone beats the label by far: the wins are the signal.
  double label_apgr = 0.0, gap_apgr = 0.0, win_apgr = 0.0;
  for (const costroute::TuneTrial& t : tuned->trials) {
    if (t.options.context_fields != std::vector<std::string>{"kind"}) continue;
    if (t.options.target == costroute::TrainTarget::kLabel) label_apgr = std::max(label_apgr, t.apgr);
    if (t.options.target == costroute::TrainTarget::kQualityGap) gap_apgr = std::max(gap_apgr, t.apgr);
    if (t.options.target == costroute::TrainTarget::kLabelAndWin) win_apgr = std::max(win_apgr, t.apgr);
  }
  CHECK(gap_apgr > label_apgr + 0.05);
  CHECK(win_apgr > label_apgr + 0.05);
  // The label and the wins are tried with the win head's C equal to C and
  // at 3 times C.
  bool tried_factor[2] = {false, false};
  for (const costroute::TuneTrial& t : tuned->trials) {
    if (t.options.target != costroute::TrainTarget::kLabelAndWin) continue;
    const std::string described = costroute::describe(t.options);
    if (t.options.win_C_factor == 1.0) {
      tried_factor[0] = true;
      CHECK(described.find(" win_C_factor=") == std::string::npos);
    }
    if (t.options.win_C_factor == 3.0) {
      tried_factor[1] = true;
      CHECK(described.find(" target=label-and-win win_C_factor=3") != std::string::npos);
    }
  }
  CHECK(tried_factor[0]);
  CHECK(tried_factor[1]);

  // Where the small model never does better, there are no wins to learn
  // and the target is not tried; nor with one win, which the training
  // part of the fold that tests it lacks.
  for (double& gap : d.set.quality_gap) gap = std::min(gap, 0.0);
  const absl::StatusOr<costroute::TuneResult> no_wins = costroute::tune(d.set, d.outcomes, {}, options);
  REQUIRE(no_wins.ok());
  CHECK_FALSE(tried(*no_wins, costroute::TrainTarget::kLabelAndWin));
  d.set.quality_gap[0] = 1.0;
  const absl::StatusOr<costroute::TuneResult> one_win = costroute::tune(d.set, d.outcomes, {}, options);
  REQUIRE(one_win.ok());
  CHECK_FALSE(tried(*one_win, costroute::TrainTarget::kLabelAndWin));
  // With a win in every fold's training part, it is.
  d.set.quality_gap[1] = d.set.quality_gap[2] = 1.0;
  const absl::StatusOr<costroute::TuneResult> three_wins = costroute::tune(d.set, d.outcomes, {}, options);
  REQUIRE(three_wins.ok());
  CHECK(tried(*three_wins, costroute::TrainTarget::kLabelAndWin));
}

TEST_CASE("on graded outcomes tune keeps the cheaper models' quality where it ranks the prompts better") {
  // Forty kinds of prompt, each of its own difficulty; a judge grades each
  // answer 1-10 with much noise. Per prompt the small model's grade
  // against the strong one's is mostly noise, while the mean grade of the
  // small model and seven more models measures the kind's difficulty well.
  TuneData d = tune_data(400, 11, [](uint64_t, const std::string&) { return true; });
  uint64_t state = 99;
  auto uniform = [&state] { return static_cast<double>(xorshift64(state) >> 11) / 9007199254740992.0; };  // in [0, 1)
  auto grade = [&uniform](double mean) { return std::clamp(std::round(mean + 6.0 * (uniform() - 0.5)), 1.0, 10.0); };
  std::vector<double> difficulty(40);
  for (double& x : difficulty) x = uniform();
  for (size_t i = 0; i < d.outcomes.size(); ++i) {
    const size_t kind = i % difficulty.size();
    const double small = grade(10.0 - 8.0 * difficulty[kind]), large = grade(9.0 - 2.0 * difficulty[kind]);
    double others = small;
    for (int m = 0; m < 7; ++m) others += grade(10.0 - 8.0 * difficulty[kind]);
    d.set.context[i] = {absl::StrCat("k", kind)};
    set_scores(d, i, small, large, others / 8.0);
  }
  const costroute::TuneOptions options{.context_fields = {"kind"}, .passes = 1};
  const absl::StatusOr<costroute::TuneResult> tuned = costroute::tune(d.set, d.outcomes, {}, options);
  REQUIRE(tuned.ok());
  CHECK(tried(*tuned, costroute::TrainTarget::kLabel));
  CHECK(tried(*tuned, costroute::TrainTarget::kQualityGap));
  CHECK(tuned->best.target == costroute::TrainTarget::kCheapQuality);
  CHECK(costroute::describe(tuned->best).find(" target=cheap-quality") != std::string::npos);
  // Without the values, or with the same value for all, it is not tried.
  d.set.cheap_quality.clear();
  const absl::StatusOr<costroute::TuneResult> without = costroute::tune(d.set, d.outcomes, {}, options);
  REQUIRE(without.ok());
  CHECK_FALSE(tried(*without, costroute::TrainTarget::kCheapQuality));
  d.set.cheap_quality.assign(d.set.queries.size(), 5.0);
  const absl::StatusOr<costroute::TuneResult> constant = costroute::tune(d.set, d.outcomes, {}, options);
  REQUIRE(constant.ok());
  CHECK_FALSE(tried(*constant, costroute::TrainTarget::kCheapQuality));
}

TEST_CASE("on graded outcomes tune starts from the cheaper models' quality, and leaves it for a clearly better target") {
  // A marker word says whether the small model is good enough (one prompt
  // in ten the other way); the judge's grades of the cheaper models are
  // noise. The search must start from their quality, as on graded data it
  // does, and move to a target that ranks by the marker.
  TuneData d = tune_data(300, 3, [](uint64_t, const std::string&) { return true; });
  uint64_t state = 17;
  for (size_t i = 0; i < d.outcomes.size(); ++i) {
    const bool easy = i % 2 == 0, flip = xorshift64(state) % 10 == 0;
    d.set.queries[i] += easy ? "yankee" : "zulu";
    set_scores(d, i, easy != flip ? 9 : 3, 9, static_cast<double>(1 + xorshift64(state) % 10));
  }
  const absl::StatusOr<costroute::TuneResult> tuned = costroute::tune(d.set, d.outcomes, {}, {.passes = 1});
  REQUIRE(tuned.ok());
  CHECK(tuned->trials.front().options.target == costroute::TrainTarget::kCheapQuality);
  CHECK(tuned->best.target != costroute::TrainTarget::kCheapQuality);
}

TEST_CASE("on graded outcomes a change of target must beat the noise") {
  // Judge scores drawn at random: no target ranks the prompts better than
  // another but by chance, and the search must keep the one it starts from.
  TuneData d = tune_data(300, 3, [](uint64_t, const std::string&) { return true; });
  uint64_t state = 5;
  for (size_t i = 0; i < d.outcomes.size(); ++i) {
    const double small = static_cast<double>(1 + xorshift64(state) % 10);
    const double large = static_cast<double>(3 + xorshift64(state) % 8);
    set_scores(d, i, small, large, small);
  }
  const absl::StatusOr<costroute::TuneResult> tuned = costroute::tune(d.set, d.outcomes, {}, {.passes = 1});
  REQUIRE(tuned.ok());
  CHECK(tuned->best.target == costroute::TrainTarget::kCheapQuality);
  // Not for want of a rival: another target scored a higher APGR, saving no
  // less, than the cheaper models' quality with the same other settings, which
  // without the margin would have replaced it.
  bool tempted = false;
  for (const costroute::TuneTrial& rival : tuned->trials) {
    if (rival.options.target == costroute::TrainTarget::kCheapQuality) continue;
    costroute::TrainOptions same = rival.options;
    same.target = costroute::TrainTarget::kCheapQuality;
    for (const costroute::TuneTrial& t : tuned->trials) {
      tempted = tempted || (costroute::describe(t.options) == costroute::describe(same) && rival.apgr > t.apgr &&
                            rival.savings >= t.savings);
    }
  }
  CHECK(tempted);
}

TEST_CASE("rank correlation: Spearman's, with ties at their mean rank and counts as repeats") {
  using costroute::internal::correlation;
  using costroute::internal::mid_ranks;
  CHECK(mid_ranks(std::vector<double>{3, 1, 2, 2}) == std::vector<double>{3, 0, 1.5, 1.5});
  CHECK(mid_ranks(std::vector<double>{}).empty());
  // NaN ranks lowest, tied with -inf, as the router orders scores.
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(mid_ranks(std::vector<double>{std::nan(""), 1, -inf}) == std::vector<double>{0.5, 2, 0.5});
  // x ranks 0..4; y = 5, 6, 7, 8, 7 ranks 0, 1, 2.5, 4, 2.5. By hand: the
  // deviations from the mean rank 2 are (-2, -1, 0, 1, 2) and (-2, -1,
  // 0.5, 2, 0.5), their products sum to 8, their squares to 10 and 9.5.
  const std::vector<double> x = mid_ranks(std::vector<double>{1, 2, 3, 4, 5});
  const std::vector<double> y = mid_ranks(std::vector<double>{5, 6, 7, 8, 7});
  CHECK(correlation(x, y, {}) == Approx(8 / std::sqrt(95.0)).epsilon(1e-15));
  CHECK(correlation(x, x, {}) == Approx(1.0));
  const std::vector<double> reversed = mid_ranks(std::vector<double>{9, 7, 5, 3, 1});
  CHECK(correlation(x, reversed, {}) == Approx(-1.0));
  // Nothing varies: 0, not NaN.
  CHECK(correlation(x, std::vector<double>{2, 2, 2, 2, 2}, {}) == 0.0);
  CHECK(correlation(std::vector<double>{}, std::vector<double>{}, {}) == 0.0);
  // Counts weigh each example as that many copies of it, 0 leaving it out.
  const std::vector<uint32_t> counts = {2, 0, 1, 3, 1};
  std::vector<double> x_copies, y_copies;
  for (size_t i = 0; i < x.size(); ++i) {
    for (uint32_t c = 0; c < counts[i]; ++c) {
      x_copies.push_back(x[i]);
      y_copies.push_back(y[i]);
    }
  }
  CHECK(correlation(x, y, counts) == Approx(correlation(x_copies, y_copies, {})).epsilon(1e-12));
  CHECK(correlation(x, y, counts) != Approx(correlation(x, y, {})));
}

namespace {

// Spearman's rank correlation, written out: each value's rank is the
// number of values below it plus half the others equal to it.
double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  auto ranks = [](const std::vector<double>& v) {
    std::vector<double> r(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      double below = 0, equal = 0;
      for (double w : v) below += w < v[i], equal += w == v[i];
      r[i] = below + (equal - 1) / 2;
    }
    return r;
  };
  const std::vector<double> ra = ranks(a), rb = ranks(b);
  const double n = static_cast<double>(a.size()), mean = (n - 1) / 2;
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += (ra[i] - mean) * (rb[i] - mean);
    aa += (ra[i] - mean) * (ra[i] - mean);
    bb += (rb[i] - mean) * (rb[i] - mean);
  }
  return ab / std::sqrt(aa * bb);
}

// Judge grades at random: the small model 1-10, the strong one 3-10, three
// more cheaper models 1-10; no setting ranks the prompts better than
// another but by chance.
TuneData random_grades(uint64_t seed) {
  TuneData d = tune_data(300, seed, [](uint64_t, const std::string&) { return true; });
  d.set.context.clear();
  uint64_t state = seed * 7 + 1;
  for (size_t i = 0; i < d.outcomes.size(); ++i) {
    const double small = static_cast<double>(1 + xorshift64(state) % 10);
    const double large = static_cast<double>(3 + xorshift64(state) % 8);
    double others = 0;
    for (int m = 0; m < 3; ++m) others += static_cast<double>(1 + xorshift64(state) % 10);
    set_scores(d, i, small, large, (small + others) / 4);
  }
  return d;
}

// The four recipes of tune, learning the cheaper models' quality, as
// describe() writes them.
std::vector<std::string> graded_recipes() {
  return {"C=1 analyzer=word ngram=1,2 max_features=5000 sublinear_tf=0 class_weight=none context=none "
          "target=cheap-quality",
          "C=1 analyzer=char_wb ngram=1,4 max_features=none sublinear_tf=0 class_weight=none context=none "
          "target=cheap-quality",
          "C=1 analyzer=char_wb ngram=1,4 max_features=none sublinear_tf=1 class_weight=balanced context=none "
          "target=cheap-quality",
          "C=1 analyzer=word ngram=1,2 max_features=20000 sublinear_tf=0 class_weight=none context=none "
          "target=cheap-quality binary=1"};
}

}  // namespace

TEST_CASE("on graded outcomes tune compares settings that learn the cheaper models' quality by rank correlation") {
  const TuneData d = random_grades(21);
  const costroute::TuneOptions options{.passes = 1};
  const absl::StatusOr<costroute::TuneResult> tuned = costroute::tune(d.set, d.outcomes, {}, options);
  REQUIRE(tuned.ok());
  CHECK(tuned->by_rank_correlation);
  // Each setting that learns that quality has its out-of-fold scores'
  // rank correlation with it, pooled as eval --cv pools them; the others
  // have none.
  int learned = 0;
  for (const costroute::TuneTrial& t : tuned->trials) {
    INFO(costroute::describe(t.options));
    if (t.options.target != costroute::TrainTarget::kCheapQuality) {
      CHECK(std::isnan(t.rank_correlation));
      continue;
    }
    ++learned;
    absl::StatusOr<costroute::FoldScores> cv = costroute::cross_validated_scores(d.set, t.options, 5, 1);
    REQUIRE(cv.ok());
    REQUIRE(costroute::within_fold_quantiles(cv->scores, cv->fold, 5));
    CHECK(t.rank_correlation == Approx(spearman(cv->scores, d.set.cheap_quality)).epsilon(1e-12));
  }
  CHECK(learned > 5);
  // Among the recipes, kept without a margin, the one with the highest
  // rank correlation; by APGR (asked for), the one with the highest APGR.
  const std::vector<std::string> recipes = graded_recipes();
  auto top_recipe = [&](const costroute::TuneResult& r, double costroute::TuneTrial::*measure) {
    const costroute::TuneTrial* top = nullptr;
    for (const costroute::TuneTrial& t : r.trials) {
      if (std::find(recipes.begin(), recipes.end(), costroute::describe(t.options)) == recipes.end()) continue;
      if (top == nullptr || t.*measure > (*top).*measure) top = &t;
    }
    REQUIRE(top != nullptr);
    return costroute::describe(top->options);
  };
  // On random grades a fine change seldom clears the margin, so the search
  // mostly ends on a recipe: there, the top one by its measure.
  int checked = 0, disagree = 0;
  auto is_recipe = [&](const costroute::TrainOptions& o) {
    return std::find(recipes.begin(), recipes.end(), costroute::describe(o)) != recipes.end();
  };
  for (uint64_t seed : {22, 23, 24, 25, 26, 27}) {
    const TuneData random = random_grades(seed);
    const absl::StatusOr<costroute::TuneResult> by_rank = costroute::tune(random.set, random.outcomes, {}, options);
    const absl::StatusOr<costroute::TuneResult> by_apgr = costroute::tune(
        random.set, random.outcomes, {}, {.passes = 1, .objective = costroute::TuneObjective::kApgr});
    REQUIRE(by_rank.ok());
    REQUIRE(by_apgr.ok());
    CHECK_FALSE(by_apgr->by_rank_correlation);
    const std::string rank_top = top_recipe(*by_rank, &costroute::TuneTrial::rank_correlation);
    const std::string apgr_top = top_recipe(*by_apgr, &costroute::TuneTrial::apgr);
    if (!is_recipe(by_rank->best) || !is_recipe(by_apgr->best)) continue;
    CHECK(costroute::describe(by_rank->best) == rank_top);
    CHECK(costroute::describe(by_apgr->best) == apgr_top);
    ++checked;
    disagree += rank_top != apgr_top;
  }
  CHECK(checked >= 4);
  // The two measures disagree on some data, or this test could not tell
  // them apart.
  CHECK(disagree > 0);
}

TEST_CASE("by rank correlation, a fine change on graded outcomes must still beat the noise") {
  // On random grades, the search by rank correlation stays on a recipe
  // with the margin, and without it chases the noise through the fine
  // settings.
  auto past_recipes = [](const costroute::TrainOptions& o) {
    const std::vector<std::string> recipes = graded_recipes();
    return std::find(recipes.begin(), recipes.end(), costroute::describe(o)) == recipes.end();
  };
  int moved_with = 0, moved_without = 0;
  for (uint64_t seed : {31, 32, 33, 34, 35, 36, 37, 38}) {
    const TuneData d = random_grades(seed);
    costroute::TuneOptions options{.passes = 1};
    const absl::StatusOr<costroute::TuneResult> careful = costroute::tune(d.set, d.outcomes, {}, options);
    options.margin = 0.0;
    const absl::StatusOr<costroute::TuneResult> chasing = costroute::tune(d.set, d.outcomes, {}, options);
    REQUIRE(careful.ok());
    REQUIRE(chasing.ok());
    CHECK(careful->by_rank_correlation);
    moved_with += past_recipes(careful->best);
    moved_without += past_recipes(chasing->best);
  }
  INFO("moved past the recipes with the margin " << moved_with << " of 8, without it " << moved_without);
  CHECK(moved_with <= 1);
  CHECK(moved_without >= 4);
}

TEST_CASE("on pass or fail outcomes tune starts from the label, whatever target it is given") {
  // The small model's 0/1 correctness is its quality: two values, so not graded.
  TuneData d = tune_data(200, 7, [](uint64_t r, const std::string& kind) { return kind == "a" || r % 10 < 2u; });
  for (const costroute::Outcome& o : d.outcomes) d.set.cheap_quality.push_back(o.quality_small);
  costroute::TrainOptions base;
  base.target = costroute::TrainTarget::kCheapQuality;
  const absl::StatusOr<costroute::TuneResult> tuned =
      costroute::tune(d.set, d.outcomes, base, {.context_fields = {"kind"}, .passes = 1});
  REQUIRE(tuned.ok());
  CHECK(tuned->trials.front().options.target == costroute::TrainTarget::kLabel);
  CHECK(tried(*tuned, costroute::TrainTarget::kCheapQuality));
  // Not graded, so the default compares as APGR does, trial for trial.
  CHECK_FALSE(tuned->by_rank_correlation);
  const absl::StatusOr<costroute::TuneResult> by_apgr = costroute::tune(
      d.set, d.outcomes, base,
      {.context_fields = {"kind"}, .passes = 1, .objective = costroute::TuneObjective::kApgr});
  REQUIRE(by_apgr.ok());
  REQUIRE(by_apgr->trials.size() == tuned->trials.size());
  for (size_t i = 0; i < tuned->trials.size(); ++i) {
    CHECK(costroute::describe(by_apgr->trials[i].options) == costroute::describe(tuned->trials[i].options));
    CHECK(by_apgr->trials[i].apgr == tuned->trials[i].apgr);
  }
  CHECK(costroute::describe(by_apgr->best) == costroute::describe(tuned->best));
  // One record scoring a second cheaper model does not make the data graded.
  d.set.cheap_quality[0] = 0.5;
  const absl::StatusOr<costroute::TuneResult> one =
      costroute::tune(d.set, d.outcomes, base, {.context_fields = {"kind"}, .passes = 1});
  REQUIRE(one.ok());
  CHECK(one->trials.front().options.target == costroute::TrainTarget::kLabel);
  // A third of them, where the two cheaper models disagree (1/2), does.
  for (size_t i = 0; i < d.set.cheap_quality.size(); i += 3) d.set.cheap_quality[i] = 0.5;
  const absl::StatusOr<costroute::TuneResult> three =
      costroute::tune(d.set, d.outcomes, base, {.context_fields = {"kind"}, .passes = 1});
  REQUIRE(three.ok());
  CHECK(three->trials.front().options.target == costroute::TrainTarget::kCheapQuality);
}

TEST_CASE("tune does not search the gap where a fold's training part has a single gap") {
  // The labels come from elsewhere (as --label does); the gap is 0 but on
  // one prompt, so the training part of the fold holding it has one value
  // only, and learning the gap there would fail.
  TuneData d = tune_data(100, 7, [](uint64_t r, const std::string& kind) { return kind == "a" || r % 10 < 2u; });
  d.set.quality_gap.assign(d.set.queries.size(), 0.0);
  d.set.quality_gap[0] = -1.0;
  CHECK(costroute::quality_gaps_differ(d.set.quality_gap));
  const absl::StatusOr<costroute::TuneResult> tuned =
      costroute::tune(d.set, d.outcomes, {}, {.context_fields = {"kind"}, .passes = 1});
  REQUIRE(tuned.ok());
  for (const costroute::TuneTrial& t : tuned->trials) CHECK(t.options.target == costroute::TrainTarget::kLabel);
}

TEST_CASE("tune refuses folds outside [2, n] before any work") {
  TuneData d = tune_data(40, 7, [](uint64_t r, const std::string& kind) { return kind == "a" || r % 10 < 2u; });
  for (int folds : {1, 41, 1000000, INT_MAX}) {
    const absl::StatusOr<costroute::TuneResult> tuned = costroute::tune(d.set, d.outcomes, {}, {.folds = folds});
    CHECK(tuned.status().message() == absl::StrCat("folds: expected between 2 and the number of examples (40), got ", folds));
  }
}

TEST_CASE("tune counts the models of each trial that stopped before converging") {
  TuneData d = tune_data(100, 7, [](uint64_t r, const std::string& kind) { return kind == "a" || r % 10 < 2u; });
  costroute::TrainOptions base;
  for (int max_iterations : {1, base.max_iterations}) {
    base.max_iterations = max_iterations;
    const absl::StatusOr<costroute::TuneResult> tuned =
        costroute::tune(d.set, d.outcomes, base, {.folds = 4, .context_fields = {"kind"}, .passes = 1});
    REQUIRE(tuned.ok());
    REQUIRE(!tuned->trials.empty());
    for (const costroute::TuneTrial& t : tuned->trials) CHECK(t.unconverged == (max_iterations == 1 ? 4 : 0));
  }
}

TEST_CASE("describe() names every setting that differs from the defaults") {
  costroute::TrainOptions o;
  {
    // Every digit of C counts, and a fraction's point: 0.9999999 is not 1.
    costroute::TrainOptions close = o;
    close.C = 1.0000001;
    close.vectorizer.max_df = costroute::DocumentFrequency::fraction(0.9999999);
    CHECK(costroute::describe(close).starts_with("C=1.0000001 "));
    CHECK(costroute::describe(close).ends_with(" max_df=0.9999999"));
  }
  const std::string plain = "C=1 analyzer=word ngram=1,2 max_features=5000 sublinear_tf=0 class_weight=none context=none";
  CHECK(costroute::describe(o) == plain);
  o.vectorizer.binary = true;
  o.vectorizer.min_df = costroute::DocumentFrequency::documents(2);
  o.vectorizer.max_df = costroute::DocumentFrequency::fraction(0.9);
  CHECK(costroute::describe(o) == plain + " binary=1 min_df=2 max_df=0.9");
  o = {};
  o.vectorizer.lowercase = false;
  o.vectorizer.norm = costroute::Norm::kNone;
  o.vectorizer.use_idf = false;
  o.vectorizer.smooth_idf = false;
  o.vectorizer.min_df = costroute::DocumentFrequency::fraction(1.0);
  CHECK(costroute::describe(o) == plain + " lowercase=0 norm=none use_idf=0 smooth_idf=0 min_df=1.0");
  o.target = costroute::TrainTarget::kQualityGap;
  CHECK(costroute::describe(o) == plain + " target=quality-gap lowercase=0 norm=none use_idf=0 smooth_idf=0 min_df=1.0");
}

TEST_CASE("tune keeps its starting settings when the strong model is not better on average") {
  // The small model is good enough on every "a" prompt and half the "b";
  // on "a" the strong model then fails, so the small one is the better on
  // average: APGR is undefined, and every setting saves the same.
  TuneData d = tune_data(200, 7, [](uint64_t r, const std::string& kind) { return kind == "a" || r % 2 == 0; });
  for (size_t i = 0; i < d.outcomes.size(); ++i) {
    if (d.set.context[i][0] == "a") d.outcomes[i].quality_large = 0;
  }
  costroute::TrainOptions base;
  base.C = 3;
  base.context_fields = {"kind"};
  const costroute::TuneOptions options{.context_fields = {"kind"}, .passes = 1};
  const absl::StatusOr<costroute::TuneResult> tuned = costroute::tune(d.set, d.outcomes, base, options);
  REQUIRE(tuned.ok());
  CHECK(tuned->trials.size() == 1);
  CHECK(std::isnan(tuned->trials[0].apgr));
  CHECK(tuned->best.C == 3);
  CHECK(tuned->best.context_fields.empty());
}

TEST_CASE("tune moves past its recipes less often when a change must beat the noise") {
  // Labels are coin flips: every difference between settings is noise.
  // The search keeps the best of four recipes fixed in advance (no margin:
  // any of them is as good as random here); without the margin it also
  // chases the noise through the fine settings on most data sets; with the
  // default margin it stays on a recipe, whichever the objective.
  const std::vector<std::string> recipes = {
      "C=1 analyzer=word ngram=1,2 max_features=5000 sublinear_tf=0 class_weight=none context=none",
      "C=1 analyzer=char_wb ngram=1,4 max_features=none sublinear_tf=0 class_weight=none context=none",
      "C=1 analyzer=char_wb ngram=1,4 max_features=none sublinear_tf=1 class_weight=balanced context=none",
      "C=1 analyzer=word ngram=1,2 max_features=20000 sublinear_tf=0 class_weight=none context=none binary=1"};
  auto past_recipes = [&](const costroute::TrainOptions& o) {
    return std::find(recipes.begin(), recipes.end(), costroute::describe(o)) == recipes.end();
  };
  for (auto objective : {costroute::TuneObjective::kApgr, costroute::TuneObjective::kSavings}) {
    int moved_without = 0, moved_with = 0, recipe_moves = 0;
    for (uint64_t seed : {11, 12, 13, 14, 15, 16, 17, 18}) {
      TuneData d = tune_data(300, seed, [](uint64_t r, const std::string&) { return r % 2 == 0; });
      d.set.context.clear();
      const costroute::TrainOptions base;
      REQUIRE(costroute::describe(base) == recipes[0]);
      costroute::TuneOptions options{.passes = 1, .objective = objective};
      const absl::StatusOr<costroute::TuneResult> careful = costroute::tune(d.set, d.outcomes, base, options);
      options.margin = 0.0;
      const absl::StatusOr<costroute::TuneResult> chasing = costroute::tune(d.set, d.outcomes, base, options);
      REQUIRE(careful.ok());
      REQUIRE(chasing.ok());
      moved_with += past_recipes(careful->best);
      moved_without += past_recipes(chasing->best);
      // Of the recipes, the search keeps the one that scored best.
      auto score = [&](const costroute::TuneTrial& t) {
        return objective == costroute::TuneObjective::kApgr ? t.apgr : t.savings;
      };
      const costroute::TuneTrial* top = nullptr;
      for (const costroute::TuneTrial& t : careful->trials) {
        if (!past_recipes(t.options) && (top == nullptr || score(t) > score(*top))) top = &t;
      }
      REQUIRE(top != nullptr);
      if (!past_recipes(careful->best)) {
        for (const costroute::TuneTrial& t : careful->trials) {
          if (costroute::describe(t.options) == costroute::describe(careful->best)) CHECK(score(t) == score(*top));
        }
        recipe_moves += costroute::describe(careful->best) != recipes[0];
      }
    }
    INFO("objective " << static_cast<int>(objective) << ": moved past the recipes without the margin "
                      << moved_without << " of 8, with it " << moved_with << "; changed recipe " << recipe_moves);
    CHECK(recipe_moves >= 4);
    CHECK(moved_without >= 4);
    CHECK(moved_with <= 1);
  }
}

TEST_CASE("tune's recipes read the same whichever settings they replace") {
  // A start with every setting a recipe names off its defaults: binary
  // and sublinear tf, balanced classes, an odd vocabulary and trigrams.
  // Each recipe is tried as itself, none inherits from the start.
  const TuneData d = tune_data(200, 5, [](uint64_t r, const std::string&) { return r % 2 == 0; });
  costroute::TrainOptions base;
  base.vectorizer.ngram_max = 3;
  base.vectorizer.max_features = 777;
  base.vectorizer.sublinear_tf = true;
  base.vectorizer.binary = true;
  base.balanced_class_weight = true;
  const costroute::TuneOptions options{.passes = 1, .margin = 1e9};
  const absl::StatusOr<costroute::TuneResult> tuned = costroute::tune(d.set, d.outcomes, base, options);
  REQUIRE(tuned.ok());
  // With an unreachable margin no fine change is kept, so the C values are
  // tried from C = 1 and the recipes with it.
  for (const char* recipe :
       {"C=1 analyzer=word ngram=1,2 max_features=5000 sublinear_tf=0 class_weight=none context=none",
        "C=1 analyzer=char_wb ngram=1,4 max_features=none sublinear_tf=0 class_weight=none context=none",
        "C=1 analyzer=char_wb ngram=1,4 max_features=none sublinear_tf=1 class_weight=balanced context=none",
        "C=1 analyzer=word ngram=1,2 max_features=20000 sublinear_tf=0 class_weight=none context=none binary=1"}) {
    bool tried = false;
    for (const costroute::TuneTrial& t : tuned->trials) tried = tried || costroute::describe(t.options) == recipe;
    INFO(recipe);
    CHECK(tried);
  }
}

TEST_CASE("within-fold quantiles: mid-ranks for ties, NaN lowest, and no ranking of tiny folds") {
  // Two folds of ten: fold 0 holds 0..9 with a tie at 5, fold 1 holds NaN
  // and nine scores on another scale.
  std::vector<double> scores;
  std::vector<int> fold;
  for (int i = 0; i < 10; ++i) {
    scores.push_back(i == 6 ? 5.0 : i);
    fold.push_back(0);
  }
  for (int i = 0; i < 10; ++i) {
    scores.push_back(i == 0 ? std::nan("") : 100.0 + i);
    fold.push_back(1);
  }
  std::vector<double> ranked = scores;
  REQUIRE(costroute::within_fold_quantiles(ranked, fold, 2));
  CHECK(ranked[0] == Approx(0.05));  // lowest of ten: mid-rank 0.5 of 10
  CHECK(ranked[5] == Approx(0.6));   // tied with [6]: ranks 5 and 6, mid 6/10
  CHECK(ranked[6] == ranked[5]);
  CHECK(ranked[9] == Approx(0.95));
  CHECK(ranked[10] == Approx(0.05));  // NaN lowest in its fold
  CHECK(ranked[19] == Approx(0.95));  // the same quantile as fold 0's highest
  // A fold of fewer than kMinRankedFold: scores left as they are.
  std::vector<double> small(scores.begin(), scores.begin() + 19);
  const std::vector<double> before = small;
  const std::vector<int> small_fold(fold.begin(), fold.begin() + 19);
  CHECK_FALSE(costroute::within_fold_quantiles(small, small_fold, 2));
  CHECK(small[1] == before[1]);
}

TEST_CASE("a bootstrap resample swept over the full set's ranking has the savings and APGR evaluate() finds") {
  // Data sets of 400 with coarse scores (many ties) and some NaN, and of 8
  // with distinct scores (whole runs left out of a draw) where half the
  // prompts cost the same on both models (curve points of equal cost, for
  // the tie-break), and one whose strong model costs nothing; drops from 0
  // to 0.3.
  uint64_t state = 5;
  auto make = [&](int n, int score_levels, bool free_strong) {
    std::vector<costroute::Outcome> data;
    for (int i = 0; i < n; ++i) {
      const uint64_t r = costroute::internal::splitmix64(state);
      const double p = r % 13 == 0 ? std::nan("") : static_cast<double>(r % score_levels) / score_levels;
      data.push_back({.p_small_ok = p,
                      .quality_small = static_cast<double>((r >> 8) % 5) / 4.0,
                      .quality_large = static_cast<double>((r >> 16) % 3) / 2.0,
                      .cost_small = n < 20 ? ((r >> 24) % 2 == 0 ? 1.0 : 0.1)
                                           : 0.05 + static_cast<double>((r >> 24) % 7) / 100.0,
                      .cost_large = free_strong ? 0.0 : n < 20 ? 1.0 : 1.0 + static_cast<double>((r >> 32) % 9) / 10.0});
    }
    return data;
  };
  for (const std::vector<costroute::Outcome>& data : {make(400, 17, false), make(8, 1000, false), make(8, 1000, true)}) {
    const costroute::internal::Ranking ranking = costroute::internal::rank_by_p(data);
    std::vector<costroute::CurvePoint> curve;
    std::vector<uint32_t> counts(data.size());
    for (int draw = 0; draw < 50; ++draw) {
      std::fill(counts.begin(), counts.end(), 0u);
      std::vector<costroute::Outcome> resample;
      for (size_t i = 0; i < data.size(); ++i) {
        const size_t pick = costroute::internal::splitmix64(state) % data.size();
        ++counts[pick];
        resample.push_back(data[pick]);
      }
      for (double drop : {0.0, 0.03, 0.1, 0.3}) {
        const costroute::Evaluation expected = costroute::evaluate(resample, {.max_quality_drop = drop});
        const costroute::internal::ResampledMetrics swept =
            costroute::internal::resampled_metrics(data, ranking, counts, drop, curve);
        INFO("n " << data.size() << ", draw " << draw << ", drop " << drop);
        CHECK(std::fabs(swept.savings - expected.router.savings_at_max_drop) <= 1e-12);
        // evaluate() gives NaN unless the strong model is better on average.
        const double apgr = std::isnan(expected.router.apgr) ? 0.0 : expected.router.apgr;
        CHECK(std::fabs(swept.apgr - apgr) <= 1e-9);
      }
    }
  }
}

TEST_CASE("NaN scores rank lowest in the curve and the AUC, and evaluate() finishes") {
  // A NaN score goes to the strong model; the AUC ranks it below every
  // number. (Grouping equal scores once looped forever on NaN.)
  const std::vector<costroute::Outcome> data = {
      {.p_small_ok = std::nan(""), .quality_small = 1, .quality_large = 1, .cost_small = 0.1, .cost_large = 1},
      {.p_small_ok = std::nan(""), .quality_small = 1, .quality_large = 1, .cost_small = 0.1, .cost_large = 1},
      {.p_small_ok = 0.5, .quality_small = 0, .quality_large = 1, .cost_small = 0.1, .cost_large = 1}};
  CHECK(costroute::roc_auc(data) == 0.0);
  const costroute::Evaluation e = costroute::evaluate(data);
  REQUIRE(e.router.curve.size() == 3);  // all strong, p >= 0.5, then the NaN pair
  CHECK(e.router.curve[1].strong_share == Approx(2.0 / 3.0));
  CHECK(e.router.curve[2].strong_share == 0.0);
}

TEST_CASE("bootstrap_apgr: how surely the router's APGR beats random's 0.5 on resamples of the data") {
  // 200 prompts, half where the small model loses; scores from the labels
  // (perfect), reversed, constant (every prompt tied: random's line) and
  // drawn at random (no signal).
  uint64_t state = 11;
  std::vector<costroute::Outcome> perfect, reversed, constant, noise;
  for (int i = 0; i < 200; ++i) {
    const bool small_ok = i % 2 == 0;
    const costroute::Outcome o{.p_small_ok = small_ok ? 0.9 : 0.1, .quality_small = small_ok ? 1.0 : 0.0,
                               .quality_large = 1, .cost_small = 0.1, .cost_large = 1};
    perfect.push_back(o);
    reversed.push_back(o);
    reversed.back().p_small_ok = 1 - o.p_small_ok;
    constant.push_back(o);
    constant.back().p_small_ok = 0.5;
    noise.push_back(o);
    noise.back().p_small_ok = static_cast<double>(costroute::internal::splitmix64(state) % 1000) / 1000;
  }
  const costroute::ApgrBootstrap good = costroute::bootstrap_apgr(perfect, 200, 1).value();
  CHECK(good.resamples == 200);
  CHECK(good.above_random == 1.0);
  CHECK(good.low > 0.5);
  CHECK(good.low <= costroute::evaluate(perfect).router.apgr);
  CHECK(good.high >= costroute::evaluate(perfect).router.apgr);

  const costroute::ApgrBootstrap bad = costroute::bootstrap_apgr(reversed, 200, 1).value();
  CHECK(bad.above_random == 0.0);
  CHECK(bad.high < 0.5);

  // Ties all the way lie on random's line: never above it, rounding aside.
  const costroute::ApgrBootstrap tied = costroute::bootstrap_apgr(constant, 200, 1).value();
  CHECK(tied.above_random == 0.0);
  CHECK(tied.low == Approx(0.5));
  CHECK(tied.high == Approx(0.5));

  const costroute::ApgrBootstrap coin = costroute::bootstrap_apgr(noise, 500, 1).value();
  INFO("noise: " << coin.low << " to " << coin.high << ", above " << coin.above_random);
  CHECK(coin.low < 0.5);
  CHECK(coin.high > 0.5);
  CHECK(coin.above_random > 0.05);
  CHECK(coin.above_random < 0.95);

  // One seed, one result; another seed, other resamples.
  const costroute::ApgrBootstrap again = costroute::bootstrap_apgr(noise, 500, 1).value();
  CHECK(again.low == coin.low);
  CHECK(again.high == coin.high);
  CHECK(again.above_random == coin.above_random);
  const costroute::ApgrBootstrap other = costroute::bootstrap_apgr(noise, 500, 2).value();
  CHECK((other.low != coin.low || other.high != coin.high || other.above_random != coin.above_random));
}

TEST_CASE("bootstrap_apgr leaves out resamples without a quality gap, and has nothing to say without data") {
  const costroute::ApgrBootstrap empty = costroute::bootstrap_apgr({}, 100, 1).value();
  CHECK(empty.resamples == 0);
  CHECK(std::isnan(empty.low));
  CHECK(std::isnan(empty.above_random));

  // Both models equally good everywhere: APGR is undefined on every resample.
  std::vector<costroute::Outcome> equal(10, {.p_small_ok = 0.5, .quality_small = 1, .quality_large = 1});
  CHECK(costroute::bootstrap_apgr(equal, 100, 1).value().resamples == 0);
  // The small model at least as good on every prompt, better on some: no
  // resample has the strong model better on average.
  std::vector<costroute::Outcome> small_better = equal;
  small_better[3].quality_large = 0;
  small_better[3].p_small_ok = 0.9;
  CHECK(costroute::bootstrap_apgr(small_better, 100, 1).value().resamples == 0);

  // Two prompts: a resample that draws the second twice has no gap (a
  // quarter of them). Of the rest, a third draw the first twice and lie on
  // random's line; two thirds draw both, ranked perfectly (APGR 0.75).
  const std::vector<costroute::Outcome> two = {
      {.p_small_ok = 0.2, .quality_small = 0, .quality_large = 1, .cost_small = 0.1, .cost_large = 1},
      {.p_small_ok = 0.8, .quality_small = 1, .quality_large = 1, .cost_small = 0.1, .cost_large = 1}};
  const costroute::ApgrBootstrap b = costroute::bootstrap_apgr(two, 400, 1).value();
  CHECK(b.resamples > 0);
  CHECK(b.resamples == Approx(300).margin(40));
  CHECK(b.above_random == Approx(2.0 / 3).margin(0.1));
  CHECK(b.high == Approx(0.75));
}

TEST_CASE("bootstrap_apgr draws prompts: a repeated prompt's copies come and go together") {
  // 100 prompts with a weak signal, each five times in a row.
  uint64_t state = 5;
  std::vector<costroute::Outcome> once, five;
  std::vector<size_t> groups;
  for (int i = 0; i < 100; ++i) {
    const bool small_ok = i % 2 == 0;
    const double p = (small_ok ? 0.1 : 0.0) + static_cast<double>(costroute::internal::splitmix64(state) % 1000) / 1000;
    once.push_back({.p_small_ok = p, .quality_small = small_ok ? 1.0 : 0.0, .quality_large = 1, .cost_small = 0.1,
                    .cost_large = 1});
    for (int copy = 0; copy < 5; ++copy) {
      five.push_back(once.back());
      groups.push_back(five.size() - 1 - copy);
    }
  }
  const costroute::ApgrBootstrap one = costroute::bootstrap_apgr(once, 300, 3).value();
  // Drawn as prompts, the copies add nothing: the same resamples as once.
  const costroute::ApgrBootstrap together = costroute::bootstrap_apgr(five, 300, 3, groups).value();
  CHECK(together.resamples == one.resamples);
  CHECK(together.low == Approx(one.low));
  CHECK(together.high == Approx(one.high));
  CHECK(together.above_random == one.above_random);
  // Drawn one by one, they pass for five times the data: a narrower interval.
  const costroute::ApgrBootstrap apart = costroute::bootstrap_apgr(five, 300, 3).value();
  INFO("prompts: " << together.low << " to " << together.high << "; copies: " << apart.low << " to " << apart.high);
  CHECK(apart.high - apart.low < 0.7 * (together.high - together.low));

  // Every outcome a prompt of its own is the same as no groups.
  std::vector<size_t> own(once.size());
  std::iota(own.begin(), own.end(), size_t{0});
  const costroute::ApgrBootstrap same = costroute::bootstrap_apgr(once, 300, 3, own).value();
  CHECK(same.low == one.low);
  CHECK(same.high == one.high);
  CHECK(same.above_random == one.above_random);

  // Malformed groups are refused, as calibrate refuses them.
  const std::vector<costroute::Outcome> two(2, once.front());
  CHECK(costroute::bootstrap_apgr(two, 10, 1, std::vector<size_t>{0}).status().message() ==
        "groups: expected 2 (one per outcome), got 1");
  CHECK(costroute::bootstrap_apgr(two, 10, 1, std::vector<size_t>{1, 1}).status().message() ==
        "groups[0]: expected the index of the group's first outcome, got 1");
}

TEST_CASE("draw_resample gives a prompt's copies its count, and draws as many times as there are prompts") {
  const std::vector<size_t> groups = {0, 0, 2, 2, 2, 5};
  const std::vector<size_t> prompts = costroute::internal::first_outcomes(groups, groups.size());
  CHECK(prompts == std::vector<size_t>{0, 2, 5});
  std::vector<uint32_t> counts(groups.size());
  uint64_t state = 1;
  for (int r = 0; r < 50; ++r) {
    costroute::internal::draw_resample(state, prompts, groups, counts);
    CHECK(counts[1] == counts[0]);
    CHECK(counts[3] == counts[2]);
    CHECK(counts[4] == counts[2]);
    CHECK(counts[0] + counts[2] + counts[5] == 3);
  }
}

TEST_CASE("calibrate chooses the point for each kind of target, worked out by hand") {
  using Kind = costroute::CalibrationTarget::Kind;
  const auto data = four();  // curve: shares 1, .75, .25, 0; costs 4, 3.1, 1.3, 0.4; quality .75, .75, .75, .5
  auto at = [&](Kind kind, double value) {
    auto c = costroute::calibrate(data, {.target = {.kind = kind, .value = value}, .resamples = 20});
    REQUIRE(c.ok());
    return *c;
  };
  const costroute::Calibration drop = at(Kind::kMaxQualityDrop, 0.03);
  CHECK(drop.threshold == 0.8);
  CHECK(drop.chosen.strong_share == 0.25);
  CHECK(drop.savings == Approx(1 - 1.3 / 4));
  CHECK(drop.quality_drop == Approx(0.0));
  // Random reaches quality 0.75 only at share 1, which costs 4.
  CHECK(drop.random_strong_share == 1.0);
  CHECK(drop.advantage_over_random == Approx((4 - 1.3) / 4));
  CHECK(drop.evaluation.max_quality_drop == 0.03);
  // At most half the prompts to the strong model: the best quality there
  // is 0.75, at share 0.25.
  CHECK(at(Kind::kStrongShare, 0.5).threshold == 0.8);
  // None: always small.
  const costroute::Calibration none = at(Kind::kStrongShare, 0.0);
  CHECK(none.threshold == 0.2);
  CHECK(none.quality_drop == Approx(1 - 0.5 / 0.75));
  CHECK(none.evaluation.max_quality_drop == 0.03);  // the drop of eval's table for share and cost targets
  // At most 0.2 of always-strong's cost (0.8): only always-small (0.4) fits.
  CHECK(at(Kind::kMaxCost, 0.2).threshold == 0.2);
  CHECK(at(Kind::kMaxCost, 0.5).threshold == 0.8);  // 1.3 <= 2
  auto too_cheap = costroute::calibrate(data, {.target = {.kind = Kind::kMaxCost, .value = 0.05}});
  CHECK(too_cheap.status().message() ==
        "a maximum cost of 0.05 of always-strong's is less than any threshold costs: sending everything to the small "
        "model costs 0.1 of always-strong's");
  // Every small answer worse: nothing goes to the small model, and the
  // threshold sits just above the top score.
  std::vector<costroute::Outcome> worse = data;
  for (costroute::Outcome& o : worse) o.quality_small = 0, o.quality_large = 1;
  auto strong = costroute::calibrate(worse, {.resamples = 20});
  REQUIRE(strong.ok());
  CHECK(strong->chosen.strong_share == 1.0);
  CHECK(strong->threshold == std::nextafter(0.9, 2.0));
  CHECK(strong->savings == 0.0);
}

TEST_CASE("calibrate refuses options and data it cannot calibrate on") {
  const auto data = four();
  auto message = [&](const costroute::CalibrateOptions& o) { return std::string(costroute::calibrate(data, o).status().message()); };
  CHECK(message({.target = {.value = 1.5}}) ==
        "target.value: expected a number in [0, 1] (the drop, the share or the cost), got 1.5");
  // A target without a value has none: 3% meant as a drop is no share.
  CHECK(message({.target = {.kind = costroute::CalibrationTarget::Kind::kStrongShare}}) ==
        "target.value: expected a number in [0, 1] (the drop, the share or the cost), got nan");
  CHECK(message({.resamples = 9}) == "resamples: expected at least 10, got 9");
  CHECK(costroute::calibrate(data, {.resamples = 10}).ok());
  CHECK(costroute::calibrate({}).status().message() == "no outcomes to calibrate on");
  // One prompt: every resample draws it, and none is left to measure on.
  CHECK(costroute::calibrate(std::span(data).first(1)).status().message() ==
        "too few prompts to bootstrap (1): no resample drawn left a prompt out to measure on");
  // Groups name each outcome's first outcome of the same prompt.
  CHECK(message({.groups = {0, 1}}) == "groups: expected 4 (one per outcome), got 2");
  CHECK(message({.groups = {0, 2, 2, 3}}) == "groups[1]: expected the index of the group's first outcome, got 2");
  CHECK(message({.groups = {0, 0, 1, 3}}) == "groups[2]: expected the index of the group's first outcome, got 1");
  // Every outcome a prompt of its own: as without groups.
  const auto plain = costroute::calibrate(data, {.resamples = 50});
  const auto own = costroute::calibrate(data, {.resamples = 50, .groups = {0, 1, 2, 3}});
  REQUIRE((plain.ok() && own.ok()));
  CHECK(own->better_than_random_share == plain->better_than_random_share);
  CHECK(own->savings_ci.low == plain->savings_ci.low);
  CHECK(own->resamples == plain->resamples);
  // One prompt given four times is one prompt: nothing is ever left out.
  CHECK(costroute::calibrate(data, {.groups = {0, 0, 0, 0}}).status().message() ==
        "too few prompts to bootstrap (1): no resample drawn left a prompt out to measure on");
}

TEST_CASE("calibrate's out-of-bag bootstrap calls a router with signal reliable, and one without it not") {
  // 300 prompts, a third of which the small model answers as well; the
  // strong one is always right.
  std::vector<costroute::Outcome> signal, noise;
  uint64_t state = 7;
  for (int i = 0; i < 300; ++i) {
    const bool ok = i % 3 == 0;
    const double coin = static_cast<double>(costroute::internal::splitmix64(state) >> 11) * 0x1.0p-53;
    const costroute::Outcome o{.quality_small = ok ? 1.0 : 0.0, .quality_large = 1.0, .cost_small = 0.05,
                               .cost_large = 1.0};
    signal.push_back(o);
    signal.back().p_small_ok = ok ? 0.5 + coin / 2 : coin / 2;  // ranks every ok prompt first
    noise.push_back(o);
    noise.back().p_small_ok = coin;  // unrelated to the outcome
  }
  const costroute::CalibrateOptions options{.target = {.value = 0.03}, .resamples = 200, .seed = 3};
  auto good = costroute::calibrate(signal, options);
  REQUIRE(good.ok());
  CHECK(good->reliable);
  CHECK(good->better_than_random_share >= costroute::kReliableShare);
  CHECK(good->resamples == 200);
  // The hundred ok prompts, and 9 others: a 3% drop of 300 right answers.
  // Each saves 0.95.
  CHECK(good->savings == Approx(0.95 * 109 / 300));
  CHECK(good->savings_ci.low <= good->savings);
  CHECK(good->quality_drop_ci.low >= -1e-12);  // the strong model is never wrong: no resample gains quality
  auto bad = costroute::calibrate(noise, options);
  REQUIRE(bad.ok());
  CHECK_FALSE(bad->reliable);
  CHECK(bad->better_than_random_share < costroute::kReliableShare);
  // The seed decides the resamples: the same one repeats the result exactly.
  auto again = costroute::calibrate(noise, options);
  REQUIRE(again.ok());
  CHECK(again->better_than_random_share == bad->better_than_random_share);
  CHECK(again->savings_ci.low == bad->savings_ci.low);
  CHECK(again->advantage_ci.high == bad->advantage_ci.high);
  auto other = costroute::calibrate(noise, {.target = {.value = 0.03}, .resamples = 200, .seed = 4});
  REQUIRE(other.ok());
  CHECK((other->better_than_random_share != bad->better_than_random_share ||
         other->advantage_ci.low != bad->advantage_ci.low || other->advantage_ci.high != bad->advantage_ci.high));
}

TEST_CASE("calibrate refuses scores outside [0, 1] and values that are not finite, naming the field") {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  auto message = [](double p, double qs, double ql, double cs, double cl) {
    std::vector<costroute::Outcome> data = four();
    data[2] = {.p_small_ok = p, .quality_small = qs, .quality_large = ql, .cost_small = cs, .cost_large = cl};
    return std::string(costroute::calibrate(data).status().message());
  };
  // Scores above 1 would need a threshold above 1 to keep them on the
  // strong model, and a NaN score goes nowhere a threshold can say.
  CHECK(message(42, 1, 1, 0.1, 1) == "outcomes[2].p_small_ok: expected a number in [0, 1], got 42");
  CHECK(message(-0.5, 1, 1, 0.1, 1) == "outcomes[2].p_small_ok: expected a number in [0, 1], got -0.5");
  CHECK(message(nan, 1, 1, 0.1, 1) == "outcomes[2].p_small_ok: expected a number in [0, 1], got nan");
  CHECK(message(inf, 1, 1, 0.1, 1) == "outcomes[2].p_small_ok: expected a number in [0, 1], got inf");
  CHECK(message(0.5, nan, 1, 0.1, 1) == "outcomes[2].quality_small: not a finite number");
  CHECK(message(0.5, 1, -inf, 0.1, 1) == "outcomes[2].quality_large: not a finite number");
  CHECK(message(0.5, 1, 1, inf, 1) == "outcomes[2].cost_small: not a finite number");
  CHECK(message(0.5, 1, 1, 0.1, nan) == "outcomes[2].cost_large: not a finite number");
  // Scores of exactly 0 and 1 are fine: keeping every prompt on the strong
  // model then takes a threshold just above 1.
  std::vector<costroute::Outcome> edges = four();
  edges[0].p_small_ok = 1.0, edges[3].p_small_ok = 0.0;
  for (costroute::Outcome& o : edges) o.quality_small = 0;
  auto strong = costroute::calibrate(edges, {.resamples = 20});
  REQUIRE(strong.ok());
  CHECK(strong->chosen.strong_share == 1.0);
  CHECK(strong->threshold == std::nextafter(1.0, 2.0));
  CHECK(costroute::point_at_threshold(edges, strong->threshold).strong_share == 1.0);
}

TEST_CASE("cross validation trains every fold on its training part and the extra sets, and scores only the data") {
  const TuneData d = tune_data(60, 11, [](uint64_t r, const std::string& kind) { return kind == "a" || r % 4 == 0; });
  const TuneData other = tune_data(200, 12, [](uint64_t r, const std::string& kind) { return kind == "a" || r % 8 == 0; });
  costroute::TrainingSet data = d.set, extra_set = other.set;
  data.context.clear();
  extra_set.context.clear();
  const costroute::ExtraExamples extra{.sets = {extra_set}, .weight = 0.3};
  costroute::TrainOptions options;
  options.threads = 2;
  const absl::StatusOr<costroute::FoldScores> cv = costroute::cross_validated_scores(data, options, 5, 4, extra);
  REQUIRE(cv.ok());
  REQUIRE(cv->scores.size() == data.queries.size());
  const absl::StatusOr<costroute::FoldScores> alone = costroute::cross_validated_scores(data, options, 5, 4);
  REQUIRE(alone.ok());
  CHECK(cv->fold == alone->fold);  // the folds split the data alone
  CHECK(cv->scores != alone->scores);
  // Each fold's scores are those of a model trained by hand on the fold's
  // training part joined to the extra set.
  for (int f = 0; f < 5; ++f) {
    costroute::TrainingSet part;
    for (size_t i = 0; i < data.queries.size(); ++i) {
      if (cv->fold[i] == f) continue;
      part.queries.push_back(data.queries[i]);
      part.labels.push_back(data.labels[i]);
    }
    auto joined = costroute::with_extra(part, extra);
    REQUIRE(joined.ok());
    auto trained = costroute::train(*joined, options);
    REQUIRE(trained.ok());
    for (size_t i = 0; i < data.queries.size(); ++i) {
      if (cv->fold[i] == f) CHECK(cv->scores[i] == trained->model.p_small_ok(data.queries[i]));
    }
  }
  // A set that does not fit is refused before any fold, naming it.
  costroute::ExtraExamples broken = extra;
  broken.sets[0].labels.pop_back();
  CHECK(costroute::cross_validated_scores(data, options, 5, 4, broken).status().message() ==
        "extra.sets[0].labels: expected 200 values (one per query), got 199");
}

TEST_CASE("tune scores every setting with the extra sets in its training parts") {
  const TuneData d = tune_data(150, 21, [](uint64_t r, const std::string& kind) { return kind == "a" || r % 5 == 0; });
  const TuneData other = tune_data(300, 22, [](uint64_t r, const std::string& kind) { return kind == "a" || r % 5 == 0; });
  const costroute::TuneOptions options{.context_fields = {"kind"}, .passes = 1};
  const absl::StatusOr<costroute::TuneResult> alone = costroute::tune(d.set, d.outcomes, {}, options);
  const absl::StatusOr<costroute::TuneResult> joined =
      costroute::tune(d.set, d.outcomes, {}, options, {.sets = {other.set}, .weight = 0.5});
  REQUIRE(alone.ok());
  REQUIRE(joined.ok());
  // The first trial has the same settings both ways, and other scores.
  CHECK(costroute::describe(joined->trials[0].options) == costroute::describe(alone->trials[0].options));
  CHECK(joined->trials[0].apgr != alone->trials[0].apgr);
  CHECK(joined->best.context_fields == std::vector<std::string>{"kind"});
  // The extra set's context rows follow the candidate fields.
  costroute::TrainingSet narrow = other.set;
  narrow.context.clear();
  CHECK(costroute::tune(d.set, d.outcomes, {}, options, {.sets = {narrow}}).status().message() ==
        "extra.sets[0]: context: expected 300 rows (one per query) for the context fields, got 0");
}
