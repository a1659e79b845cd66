#include "costroute/policy.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "catch.h"

namespace {

using costroute::Condition;
using costroute::Target;

costroute::Catalog catalog() {
  auto c = costroute::Catalog::create({
      {.name = "small", .tier = 0, .usd_per_mtok_in = 0.2, .usd_per_mtok_out = 0.6},
      {.name = "mid", .tier = 1, .usd_per_mtok_in = 1, .usd_per_mtok_out = 2,
       .capabilities = costroute::kText | costroute::kCode},
      {.name = "big", .tier = 2, .usd_per_mtok_in = 10, .usd_per_mtok_out = 30,
       .capabilities = costroute::kText | costroute::kCode | costroute::kVision},
  });
  REQUIRE(c.ok());
  return *std::move(c);
}

// Decides one request with `policy`; returns the model's name or "" if it
// abstained.
struct Harness {
  costroute::Catalog cat = catalog();
  costroute::Signals signals;
  costroute::Context context;
  int hour = 12;
  double p_small_ok = std::numeric_limits<double>::quiet_NaN();  // NaN: no model
  costroute::Verdict verdict;
  costroute::Trace trace;

  std::string decide(const costroute::Policy& policy) {
    const costroute::Request request{"query", context, signals, cat, 100, 0, hour, nullptr, p_small_ok};
    verdict = {};
    trace.clear();
    if (!policy.decide(request, verdict, &trace)) return "";
    return cat[verdict.model].name;
  }
  std::string reason() const { return std::string(verdict.reason.view()); }
};

costroute::Rule rule(Condition c, Target t) { return costroute::Rule("r", std::move(c), std::move(t)); }

}  // namespace

TEST_CASE("a rule decides for its target only when every condition holds") {
  Harness h;
  Condition c;
  c.user_tiers = {"premium", "enterprise"};
  c.task_types = Condition::bit(costroute::TaskType::kCode);
  const auto r = rule(c, Target::strongest());
  h.context.user_tier = "premium";
  h.signals.task_type = costroute::TaskType::kCode;
  CHECK(h.decide(r) == "big");
  CHECK(h.reason() == "rule:r");
  CHECK(h.verdict.policy == "r");
  h.signals.task_type = costroute::TaskType::kChat;
  CHECK(h.decide(r).empty());
  CHECK(h.trace.back().outcome == "abstained: condition not met");
  h.signals.task_type = costroute::TaskType::kCode;
  h.context.user_tier = "free";
  CHECK(h.decide(r).empty());
}

TEST_CASE("each condition field is checked") {
  Harness h;
  auto check = [&](Condition c, auto set_true, auto set_false) {
    const auto r = rule(std::move(c), Target::cheapest());
    set_true();
    CHECK(h.decide(r) == "small");
    set_false();
    CHECK(h.decide(r).empty());
  };
  Condition c;
  c.domains = Condition::bit(costroute::Domain::kLegal);
  check(c, [&] { h.signals.domain = costroute::Domain::kLegal; }, [&] { h.signals.domain = costroute::Domain::kGeneral; });
  c = {};
  c.scripts = Condition::bit(costroute::Script::kCyrillic);
  check(c, [&] { h.signals.script = costroute::Script::kCyrillic; }, [&] { h.signals.script = costroute::Script::kLatin; });
  c = {};
  c.has_question = false;
  check(c, [&] { h.signals.has_question = false; }, [&] { h.signals.has_question = true; });
  c = {};
  c.has_code = true;
  check(c, [&] { h.signals.has_code = true; }, [&] { h.signals.has_code = false; });
  c = {};
  c.has_image = true;
  check(c, [&] { h.context.images = 1; }, [&] { h.context.images = 0; });
  c = {};
  c.has_audio = true;
  check(c, [&] { h.context.audio_clips = 1; }, [&] { h.context.audio_clips = 0; });
  c = {};
  c.follow_up = true;
  check(c, [&] { h.signals.is_follow_up = true; }, [&] { h.signals.is_follow_up = false; });
  c = {};
  c.requested_model = true;
  check(c, [&] { h.context.requested_model = "x"; }, [&] { h.context.requested_model = {}; });
  c = {};
  c.min_tokens = 10;
  c.max_tokens = 20;
  check(c, [&] { h.signals.tokens = 10; }, [&] { h.signals.tokens = 21; });
  check(c, [&] { h.signals.tokens = 20; }, [&] { h.signals.tokens = 9; });
  c = {};
  c.min_reasoning_hits = 2;
  check(c, [&] { h.signals.reasoning_hits = 2; }, [&] { h.signals.reasoning_hits = 1; });
  c = {};
  c.min_complexity = 0.3;
  c.max_complexity = 0.6;
  check(c, [&] { h.signals.complexity = 0.3; }, [&] { h.signals.complexity = 0.61; });
  c = {};
  c.tags = {{"feature", "autocomplete"}};
  const costroute::Tag tags[] = {{"feature", "autocomplete"}};
  const costroute::Tag other[] = {{"feature", "chat"}};
  check(c, [&] { h.context.tags = tags; }, [&] { h.context.tags = other; });
}

TEST_CASE("hour windows include their start, exclude their end, and wrap midnight") {
  Harness h;
  Condition night;
  night.hours = std::make_pair(22, 6);
  const auto r = rule(night, Target::cheapest());
  for (int hour : {22, 23, 0, 5}) {
    h.hour = hour;
    CHECK(h.decide(r) == "small");
  }
  for (int hour : {6, 12, 21}) {
    h.hour = hour;
    CHECK(h.decide(r).empty());
  }
  Condition day;
  day.hours = std::make_pair(9, 17);
  const auto d = rule(day, Target::cheapest());
  h.hour = 9;
  CHECK(h.decide(d) == "small");
  h.hour = 17;
  CHECK(h.decide(d).empty());
}

TEST_CASE("targets resolve to catalog models; requested and capable targets may find none") {
  Harness h;
  CHECK(h.decide(rule({}, Target::cheapest())) == "small");
  CHECK(h.decide(rule({}, Target::at_tier(1))) == "mid");
  CHECK(h.decide(rule({}, Target::named("mid"))) == "mid");
  CHECK(h.decide(rule({}, Target::capable(costroute::kCode))) == "mid");
  CHECK(h.decide(rule({}, Target::capable(costroute::kCode, 2))) == "big");
  CHECK(h.decide(rule({}, Target::capable(costroute::kAudio))).empty());
  CHECK(h.decide(rule({}, Target::requested())).empty());
  h.context.requested_model = "mid";
  CHECK(h.decide(rule({}, Target::requested())) == "mid");
  h.context.requested_model = "unknown-model";
  CHECK(h.decide(rule({}, Target::requested())).empty());
}

TEST_CASE("first_of asks children in order and the first decision wins; the trace records abstentions") {
  Harness h;
  Condition never;
  never.min_tokens = 1000000;
  std::vector<costroute::PolicyPtr> children;
  children.push_back(std::make_unique<costroute::Rule>("never", never, Target::strongest()));
  children.push_back(std::make_unique<costroute::Rule>("second", Condition{}, Target::at_tier(1)));
  children.push_back(std::make_unique<costroute::Rule>("third", Condition{}, Target::cheapest()));
  const costroute::FirstOf chain("chain", std::move(children));
  CHECK(h.decide(chain) == "mid");
  REQUIRE(h.trace.size() == 2);
  CHECK(h.trace[0].policy == "never");
  CHECK(h.trace[0].outcome == "abstained: condition not met");
  CHECK(h.trace[1].policy == "second");
  CHECK(h.trace[1].outcome == "decided: mid (rule:second)");
  const costroute::FirstOf empty("empty", {});
  CHECK(h.decide(empty).empty());
}

TEST_CASE("the classifier sends p >= threshold to the cheap model and abstains below or without a model") {
  Harness h;
  const costroute::ClassifierThreshold c("classifier", 0.75, Target::cheapest());
  h.p_small_ok = 0.75;
  CHECK(h.decide(c) == "small");
  CHECK(h.reason() == "classifier:p=0.75>=0.75");
  h.p_small_ok = 0.7499;
  CHECK(h.decide(c).empty());
  h.p_small_ok = std::numeric_limits<double>::quiet_NaN();
  CHECK(h.decide(c).empty());
  CHECK(h.trace.back().outcome == "abstained: no classifier model loaded");
  const costroute::ClassifierThreshold both("classifier", 0.75, Target::cheapest(), Target::strongest());
  h.p_small_ok = 0.2;
  CHECK(h.decide(both) == "big");
  CHECK(h.reason() == "classifier:p=0.20<0.75");
  // A score just below a threshold of more digits rounds to the same two
  // decimals: both are then written in full, so the reason never reads
  // "p=0.83<0.83".
  const costroute::ClassifierThreshold calibrated("classifier", 0.8279254921, Target::cheapest(), Target::strongest());
  h.p_small_ok = 0.8265;
  CHECK(h.decide(calibrated) == "big");
  CHECK(h.reason() == "classifier:p=0.8265<0.8279254921");
  h.p_small_ok = 0.8301;
  CHECK(h.decide(calibrated) == "small");
  CHECK(h.reason() == "classifier:p=0.83>=0.83");
  h.p_small_ok = 0.8201;
  CHECK(h.decide(calibrated) == "big");
  CHECK(h.reason() == "classifier:p=0.82<0.83");
}

TEST_CASE("a request is scored once, when the first policy asks, and never if none does") {
  struct CountingScorer final : costroute::Scorer {
    mutable int calls = 0;
    double p_small_ok() const override { return ++calls, 0.3; }
  };
  const costroute::Catalog cat = catalog();
  const costroute::Signals signals;
  const costroute::Context context;
  auto decide = [&](const costroute::Policy& policy, const CountingScorer& scorer) {
    const costroute::Request request{"query", context, signals, cat, 100, 0, 12, &scorer};
    costroute::Verdict verdict;
    REQUIRE(policy.decide(request, verdict, nullptr));
    return cat[verdict.model].name;
  };
  using S = costroute::Blend::Signal;
  Condition never;
  never.min_tokens = 1000000;
  std::vector<costroute::PolicyPtr> asks;
  asks.push_back(std::make_unique<costroute::Rule>("never", never, Target::strongest()));
  asks.push_back(std::make_unique<costroute::ClassifierThreshold>("classifier", 0.75, Target::cheapest()));
  asks.push_back(std::make_unique<costroute::Blend>("blend", std::vector<costroute::Blend::Weight>{{S::kPLarge, 1.0}},
                                                    std::vector<double>{0.5},
                                                    std::vector<Target>{Target::at_tier(0), Target::at_tier(1)}));
  const CountingScorer twice_asked;
  CHECK(decide(costroute::FirstOf("chain", std::move(asks)), twice_asked) == "mid");  // p_large 0.7
  CHECK(twice_asked.calls == 1);
  std::vector<costroute::PolicyPtr> rule_first;
  rule_first.push_back(std::make_unique<costroute::Rule>("always", Condition{}, Target::strongest()));
  rule_first.push_back(std::make_unique<costroute::ClassifierThreshold>("classifier", 0.75, Target::cheapest()));
  const CountingScorer never_asked;
  CHECK(decide(costroute::FirstOf("chain", std::move(rule_first)), never_asked) == "big");
  CHECK(never_asked.calls == 0);
}

TEST_CASE("the tier table takes the first row whose limits hold, boundaries included") {
  Harness h;
  const costroute::TierTable table(
      "tier_table", {{.max_complexity = 0.3, .max_tokens = 500, .target = Target::at_tier(0)},
                     {.max_complexity = 0.7, .target = Target::at_tier(1)},
                     {.target = Target::at_tier(2)}});
  h.signals.complexity = 0.3;
  h.signals.tokens = 500;
  CHECK(h.decide(table) == "small");
  h.signals.tokens = 501;
  CHECK(h.decide(table) == "mid");
  h.signals.tokens = 10;
  h.signals.complexity = 0.31;
  CHECK(h.decide(table) == "mid");
  h.signals.complexity = 0.7;
  CHECK(h.decide(table) == "mid");
  h.signals.complexity = 0.71;
  CHECK(h.decide(table) == "big");
  CHECK(h.reason() == "tier_table:row=2,complexity=0.71,tokens=10");
}

TEST_CASE("a blend weighs signals and cuts the score into bands") {
  Harness h;
  using S = costroute::Blend::Signal;
  const costroute::Blend blend("blend", {{S::kComplexity, 0.5}, {S::kPLarge, 0.5}}, {0.3, 0.6},
                               {Target::at_tier(0), Target::at_tier(1), Target::at_tier(2)});
  h.signals.complexity = 0.2;
  h.p_small_ok = 0.9;  // score 0.5*0.2 + 0.5*0.1 = 0.15
  CHECK(h.decide(blend) == "small");
  h.signals.complexity = 0.5;
  h.p_small_ok = 0.5;  // 0.5
  CHECK(h.decide(blend) == "mid");
  h.signals.complexity = 0.9;
  h.p_small_ok = 0.1;  // 0.9
  CHECK(h.decide(blend) == "big");
  h.p_small_ok = std::numeric_limits<double>::quiet_NaN();
  CHECK(h.decide(blend).empty());
}

TEST_CASE("a follow-up stays on its session's model unless the inner policy wants a stronger tier") {
  Harness h;
  auto sticky = [](Target inner) {
    return costroute::StickySession("session", std::make_unique<costroute::Fixed>("inner", inner));
  };
  h.context.session_model = "mid";
  h.signals.is_follow_up = true;
  CHECK(h.decide(sticky(Target::cheapest())) == "mid");
  CHECK(h.reason() == "session:follow_up_stays");
  CHECK(h.decide(sticky(Target::strongest())) == "big");
  CHECK(h.reason() == "inner:strongest;session:upgraded");
  h.signals.is_follow_up = false;
  CHECK(h.decide(sticky(Target::cheapest())) == "small");
  h.signals.is_follow_up = true;
  h.context.session_model = "gone-model";
  CHECK(h.decide(sticky(Target::cheapest())) == "small");
}

TEST_CASE("shift_tier moves a decision when its condition holds, clamped to the catalog") {
  Harness h;
  Condition night;
  night.hours = std::make_pair(0, 6);
  const costroute::ShiftTier down("off_peak", night, -1,
                                  std::make_unique<costroute::Fixed>("inner", Target::strongest()));
  h.hour = 3;
  CHECK(h.decide(down) == "mid");
  CHECK(h.reason() == "inner:strongest;off_peak:-1");
  h.hour = 12;
  CHECK(h.decide(down) == "big");
  const costroute::ShiftTier way_down("x", {}, -5, std::make_unique<costroute::Fixed>("inner", Target::strongest()));
  CHECK(h.decide(way_down) == "small");
  // At the edge the decision stands, the model named included.
  const costroute::ShiftTier up("up", {}, 1, std::make_unique<costroute::Fixed>("inner", Target::named("big")));
  CHECK(h.decide(up) == "big");
  CHECK(h.reason() == "inner:model:big");
}

TEST_CASE("shift_tier steps over the catalog's tiers, gaps and all") {
  Harness h;
  auto gapped = costroute::Catalog::create({{.name = "a", .tier = 0}, {.name = "b", .tier = 5}, {.name = "c", .tier = 9}});
  REQUIRE(gapped.ok());
  h.cat = *std::move(gapped);
  const costroute::ShiftTier down("down", {}, -1, std::make_unique<costroute::Fixed>("inner", Target::strongest()));
  CHECK(h.decide(down) == "b");
  const costroute::ShiftTier up("up", {}, 1, std::make_unique<costroute::Fixed>("inner", Target::cheapest()));
  CHECK(h.decide(up) == "b");
  CHECK(h.cat.tier_steps_from(9, -2) == 0);
  CHECK(h.cat.tier_steps_from(0, 7) == 9);
}

TEST_CASE("within_budget keeps the estimate under the remaining budget") {
  Harness h;
  h.signals.tokens = 1000;  // 100 output tokens: big 0.013, mid 0.0012, small 0.00026 USD
  const costroute::WithinBudget budget("budget",
                                       std::make_unique<costroute::Fixed>("inner", Target::strongest()));
  CHECK(h.decide(budget) == "big");
  h.context.remaining_budget_usd = 0.005;
  CHECK(h.decide(budget) == "mid");
  CHECK(h.reason() == "inner:strongest;budget:over_budget");
  h.context.remaining_budget_usd = 0.0;
  CHECK(h.decide(budget) == "small");
}

TEST_CASE("within_budget takes the lowest estimate when no model at or below the decision fits") {
  // Prices need not rise with the tier: here the weakest model costs most,
  // and within tier 1 the model listed first by in + out price has the
  // higher estimate for a long prompt.
  auto c = costroute::Catalog::create({
      {.name = "dear", .tier = 0, .usd_per_mtok_in = 5, .usd_per_mtok_out = 5},
      {.name = "in_heavy", .tier = 1, .usd_per_mtok_in = 2, .usd_per_mtok_out = 0.1},
      {.name = "out_heavy", .tier = 1, .usd_per_mtok_in = 0.1, .usd_per_mtok_out = 3},
  });
  REQUIRE(c.ok());
  Harness h;
  h.cat = *std::move(c);
  h.signals.tokens = 1000;  // 100 output tokens: dear 0.0055, in_heavy 0.00201, out_heavy 0.0004 USD
  const costroute::WithinBudget cheapest("budget",
                                         std::make_unique<costroute::Fixed>("inner", Target::cheapest()));
  h.context.remaining_budget_usd = 0.001;
  CHECK(h.decide(cheapest) == "out_heavy");
  CHECK(h.reason() == "inner:cheapest;budget:over_budget");
  h.context.remaining_budget_usd = 0.0001;  // nothing fits: the lowest estimate
  CHECK(h.decide(cheapest) == "out_heavy");
  const costroute::WithinBudget named("budget",
                                      std::make_unique<costroute::Fixed>("inner", Target::named("in_heavy")));
  h.context.remaining_budget_usd = 0.003;
  CHECK(h.decide(named) == "in_heavy");
  h.context.remaining_budget_usd = 0.001;  // neither in_heavy nor anything below it fits
  CHECK(h.decide(named) == "out_heavy");
}

TEST_CASE("reasons print numbers of any size") {
  costroute::Reason r;
  r.append(0.825).append(" ").append(1e9).append(" ").append(-1.5e300).append(" ").append(HUGE_VAL);
  CHECK(r.view() == "0.82 1.00e+09 -1.50e+300 inf");
}

TEST_CASE("reasons are cut at their capacity rather than allocating") {
  costroute::Reason r;
  for (int i = 0; i < 50; ++i) r.append("abcdef");
  CHECK(r.view().size() == costroute::Reason::kCapacity);
  // A cut inside a character backs off to its start, and nothing follows a cut.
  costroute::Reason wide;
  for (int i = 0; i < 60; ++i) wide.append("\xE4\xB8\xAD");  // U+4E2D, 3 bytes; 53 of them fit in 159
  wide.append("x");
  CHECK(wide.view().size() == 159);
  costroute::Reason odd;
  odd.append("a");
  for (int i = 0; i < 60; ++i) odd.append("\xE4\xB8\xAD");  // 1 + 52 * 3 = 157: the 53rd does not fit
  odd.append("x");
  CHECK(odd.view().size() == 157);
  CHECK(odd.view().back() == '\xAD');
  odd.clear();
  odd.append("x");
  CHECK(odd.view() == "x");
}

TEST_CASE("Request::hour reads the request time in the router's time zone, before 1970 too") {
  const costroute::Catalog cat = catalog();
  const costroute::Signals signals;
  costroute::Context context;
  auto hour = [&](int64_t ms, int offset_minutes) {
    context.request_time_ms = ms;
    const costroute::Request request{"q", context, signals, cat, 0, offset_minutes};
    return request.hour();
  };
  constexpr int64_t kHour = 3600 * 1000;
  CHECK(hour(0, 0) == 0);
  CHECK(hour(13 * kHour + 59 * 60 * 1000, 0) == 13);
  CHECK(hour(0, 90) == 1);
  CHECK(hour(0, -30) == 23);
  CHECK(hour(-1, 0) == 23);
  CHECK(hour(-25 * kHour, 0) == 23);
  CHECK(hour(1'700'000'000'000, 330) == 3);  // 2023-11-14 22:13 UTC is 03:43 in UTC+5:30
}

TEST_CASE("Reason prints numbers as std::to_chars does, halves included") {
  std::vector<double> values = {0.0, -0.0, 0.5, 0.75, 0.82, 1.0, 0.005, 0.015, 0.125, 0.135, 2.675,
                                12.345, -3.14159, -0.001, 99.995, 1e8 + 0.125, -1e8 - 0.005, 123456789.0};
  uint64_t state = 12345;
  for (int i = 0; i < 20000; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const double unit = static_cast<double>(state >> 11) / static_cast<double>(uint64_t{1} << 53);
    values.push_back(i % 2 ? unit : (unit - 0.5) * 2000.0);
    values.push_back(std::round(unit * 2000.0) / 200.0 + 0.005);  // near halves of a hundredth
  }
  for (double v : values) {
    char expected[64];
    const auto result = std::to_chars(expected, expected + sizeof(expected), v, std::chars_format::fixed, 2);
    costroute::Reason reason;
    reason.append(v);
    INFO(v);
    REQUIRE(reason.view() == std::string_view(expected, static_cast<size_t>(result.ptr - expected)));
  }
  costroute::Reason ints;
  ints.append(int64_t{0}).append(",").append(int64_t{-42}).append(",").append(INT64_MIN);
  CHECK(ints.view() == "0,-42,-9223372036854775808");
}

TEST_CASE("check() names a policy tree that could not decide") {
  using costroute::Blend;
  using costroute::PolicyPtr;
  auto fixed = [] { return std::make_unique<costroute::Fixed>("f", Target::cheapest()); };
  const costroute::Catalog cat = catalog();
  auto message = [&cat](const costroute::Policy& p) { return std::string(p.check(cat).message()); };
  CHECK(fixed()->check(cat).ok());

  const Blend short_of_targets("b", {{Blend::Signal::kComplexity, 1.0}}, {0.5}, {Target::cheapest()});
  CHECK(message(short_of_targets) == "policy \"b\": 1 thresholds need 2 targets, got 1");
  const Blend unordered("b", {}, {0.5, 0.2}, {Target::cheapest(), Target::cheapest(), Target::cheapest()});
  CHECK(message(unordered) == "policy \"b\": thresholds: expected finite numbers in ascending order");
  const Blend nan_weight("b", {{Blend::Signal::kCode, NAN}}, {}, {Target::cheapest()});
  CHECK(message(nan_weight) == "policy \"b\": weights: expected finite numbers");

  CHECK(message(costroute::ClassifierThreshold("c", NAN, Target::cheapest())) ==
        "policy \"c\": threshold: expected a number in [0, 1]");
  CHECK(message(costroute::TierTable("t", {{.max_complexity = NAN}})) == "policy \"t\": rows[0].max_complexity: NaN");
  CHECK(message(costroute::ShiftTier("s", {}, 5000, fixed())) ==
        "policy \"s\": by: expected a whole number in [-1000, 1000]");
  CHECK(message(costroute::WithinBudget("w", nullptr)) == "policy \"w\": its inner policy is null");
  CHECK(message(costroute::StickySession("k", nullptr)) == "policy \"k\": its inner policy is null");

  // Children are checked too, at any depth.
  std::vector<PolicyPtr> children;
  children.push_back(fixed());
  children.push_back(nullptr);
  CHECK(message(costroute::FirstOf("chain", std::move(children))) == "policy \"chain\": child 1 is null");
  std::vector<PolicyPtr> nested;
  nested.push_back(std::make_unique<costroute::WithinBudget>(
      "w", std::make_unique<costroute::ClassifierThreshold>("deep", 2.0, Target::cheapest())));
  CHECK(message(costroute::FirstOf("chain", std::move(nested))) ==
        "policy \"deep\": threshold: expected a number in [0, 1]");

  // Targets are checked against the catalog, conditions for requests they could match.
  CHECK(message(costroute::Fixed("f", Target::named("nope"))) ==
        "policy \"f\": model:nope: no model of that name in the catalog");
  CHECK(message(costroute::Fixed("f", Target::at_tier(3))) == "policy \"f\": tier:3: the catalog's tiers are 0 to 2");
  CHECK(message(costroute::Fixed("f", Target::capable(costroute::kAudio))) ==
        "policy \"f\": capable:audio: no model of the catalog at that tier or above has it");
  CHECK(message(costroute::ClassifierThreshold("c", 0.5, Target::cheapest(), Target::named("gone"))) ==
        "policy \"c\": model:gone: no model of that name in the catalog");
  CHECK(message(costroute::TierTable("t", {{.target = Target::at_tier(-1)}})) ==
        "policy \"t\": tier:-1: the catalog's tiers are 0 to 2");
  CHECK(message(costroute::Blend("b", {}, {}, {Target::named("x")})) ==
        "policy \"b\": model:x: no model of that name in the catalog");
  CHECK(message(costroute::Rule("r", {.hours = std::pair{-3, 99}}, Target::cheapest())) ==
        "policy \"r\": hours: expected [from, to] with from in 0-23, to in 0-24, from != to");
  CHECK(message(costroute::Rule("r", {.min_tokens = 10, .max_tokens = 5}, Target::cheapest())) ==
        "policy \"r\": min_tokens, max_tokens: expected 0 <= min_tokens <= max_tokens");
  CHECK(message(costroute::Rule("r", {.min_complexity = NAN}, Target::cheapest())) ==
        "policy \"r\": complexity: expected numbers in [0, 1]");
  CHECK(message(costroute::ShiftTier("s", {.min_complexity = 0.9, .max_complexity = 0.1}, 1, fixed())) ==
        "policy \"s\": min_complexity: greater than max_complexity");
  CHECK(costroute::Rule("r", {.hours = std::pair{22, 6}}, Target::named("mid")).check(cat).ok());
}

TEST_CASE("a budget that is not a number is no budget") {
  Harness h;
  h.context.remaining_budget_usd = NAN;
  CHECK(h.decide(costroute::WithinBudget("w", std::make_unique<costroute::Fixed>("f", Target::strongest()))) == "big");
}
