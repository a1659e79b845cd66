#include "costroute/router.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "catch.h"
#include "costroute/io.h"
#include "test_util.h"

namespace {

std::shared_ptr<const costroute::Router> default_router() {
  static const auto router = [] {
    auto r = costroute::load_router(COSTROUTE_SOURCE_DIR "/models/default.config.json");
    REQUIRE(r.ok());
    return *r;
  }();
  return router;
}

std::string model_for(std::string_view query, const costroute::Context& context = {}) {
  return default_router()->route(query, context).model->name;
}

std::string policy_for(std::string_view query, const costroute::Context& context = {}) {
  return std::string(default_router()->route(query, context).policy);
}

// Every prompt of three public sets (shared/data/routing): long ones, code,
// other scripts, and every policy path the default config takes.
std::vector<std::string> real_prompts() {
  std::vector<std::string> queries;
  for (const char* set : {"routellm_gsm8k", "routellm_mt_bench", "arena_bench_v1"}) {
    absl::StatusOr<costroute::JsonlReader> in =
        costroute::JsonlReader::open(costroute::testing::shared_dir() + "/data/routing/" + set + ".jsonl");
    REQUIRE(in.ok());
    while (true) {
      absl::StatusOr<bool> more = in->next();
      REQUIRE(more.ok());
      if (!*more) break;
      absl::StatusOr<std::string_view> query = in->string_field("query");
      REQUIRE(query.ok());
      queries.emplace_back(*query);
    }
  }
  REQUIRE(queries.size() == 1319 + 80 + 293);
  return queries;
}

constexpr const char* kCheap = "mixtral-8x7b-instruct";
constexpr const char* kMid = "gpt-3.5-turbo-1106";
constexpr const char* kStrong = "gpt-4-1106-preview";

}  // namespace

TEST_CASE("premium users always get the strongest model") {
  CHECK(model_for("What is the capital of France?", {.user_tier = "premium"}) == kStrong);
  CHECK(model_for("hi", {.user_tier = "enterprise"}) == kStrong);
  CHECK(policy_for("hi", {.user_tier = "premium"}) == "premium_tier");
}

TEST_CASE("an explicit model request is honoured when the catalog has the model") {
  CHECK(model_for("hi", {.requested_model = kMid}) == kMid);
  CHECK(policy_for("hi", {.requested_model = kMid}) == "explicit_request");
  CHECK(policy_for("hi", {.requested_model = "claude-9"}) != "explicit_request");
}

TEST_CASE("in the default config a follow-up stays on its session model, but not against a request or a budget") {
  const std::vector<std::string_view> earlier = {"Write a poem about the sea"};
  const costroute::Context follow_up{.earlier_turns = earlier, .session_model = kStrong};
  CHECK(policy_for("now make it shorter", follow_up) == "session");
  costroute::Context requested = follow_up;
  requested.requested_model = kMid;
  CHECK(model_for("now make it shorter", requested) == kMid);
  costroute::Context budget = follow_up;
  budget.remaining_budget_usd = 0.001;
  const costroute::Decision d = default_router()->route("now make it shorter", budget);
  CHECK(d.estimated_cost_usd <= 0.001);
  CHECK(d.reason.view().ends_with("budget:over_budget"));
}

TEST_CASE("fallbacks stay within the request's budget") {
  costroute::Context context;
  const costroute::Decision free_hand = default_router()->route("What is the capital of Australia?", context);
  context.remaining_budget_usd = 0.001;
  const costroute::Decision bounded = default_router()->route("What is the capital of Australia?", context);
  CHECK(bounded.model->name == kCheap);
  for (const costroute::ModelInfo* m : bounded.fallbacks()) CHECK(m->tier < 2);  // gpt-4 costs about $0.009 here
  CHECK(bounded.fallbacks().size() == 1);
  CHECK(free_hand.fallbacks().size() == 2);  // gpt-3.5, then gpt-4
}

TEST_CASE("image input goes to a vision-capable model") {
  const auto d = default_router()->route("What is in this photo?", {.images = 1});
  CHECK(d.model->name == "gpt-4-vision-preview");
  CHECK(d.policy == "image_input");
}

TEST_CASE("medical and legal requests get the strongest model") {
  CHECK(policy_for("My patient has acute kidney injury; adjust the antibiotic dose?") == "high_stakes_domain");
  CHECK(model_for("Is the landlord liable under the lease contract if the tenant sues in court?") == kStrong);
}

TEST_CASE("classification, sentiment, extraction and translation go to the cheapest model") {
  for (const char* query : {"Classify this email as spam or not spam: cheap pills",
                            "What is the sentiment of: 'I hated the ending'",
                            "Extract the phone numbers from: call 555-0100 or 555-0199",
                            "Translate 'where is the station' into Spanish"}) {
    CHECK(model_for(query) == kCheap);
    CHECK(policy_for(query) == "simple_task");
  }
}

TEST_CASE("short queries without a question go to the cheapest model") {
  CHECK(policy_for("thanks a lot") == "short_no_question");
  CHECK(model_for("ok") == kCheap);
}

TEST_CASE("reasoning keywords send a request to the strongest model") {
  CHECK(policy_for("Why do prices rise? Explain and compare two theories.") == "reasoning");
  CHECK(model_for("Analyze and justify the tradeoffs of both designs") == kStrong);
}

TEST_CASE("code generation goes to a code-capable model of tier 1 or above") {
  const auto d = default_router()->route("Write a Python function that merges two sorted lists");
  CHECK(d.policy == "code_generation");
  CHECK(d.model->name == kMid);
  CHECK((d.model->capabilities & costroute::kCode) != 0);
}

TEST_CASE("decisions carry fallbacks up the tiers, a reason and a cost estimate") {
  const auto d = default_router()->route("hi");
  CHECK(d.model->name == kCheap);
  REQUIRE(d.fallbacks().size() == 2);
  CHECK(d.fallbacks()[0]->name == kMid);
  CHECK(d.fallbacks()[1]->name == kStrong);
  CHECK(d.reason.view() == "rule:short_no_question");
  CHECK(d.estimated_cost_usd == Approx((1 * 0.6 + 300 * 0.6) / 1e6));
  const auto top = default_router()->route("hi", {.user_tier = "premium"});
  CHECK(top.fallbacks().empty());
  const auto vision = default_router()->route("look", {.images = 1});
  CHECK(vision.fallbacks().empty());  // nothing above tier 2
}

TEST_CASE("a request no model can take goes to its model with the unmet needs flagged") {
  const auto d = default_router()->route("transcribe this", {.audio_clips = 1});
  CHECK(d.unmet_needs == costroute::kAudio);
  CHECK(d.reason.view().find("filter:no_capable_model") != std::string_view::npos);
}

TEST_CASE("a request with a capability no model has still goes to a model with the ones it offers") {
  // Vision but no audio in the catalog: an image with an audio clip goes to
  // the vision model, not to the policy's text-only choice.
  auto catalog = costroute::Catalog::create({
      {.name = "text", .tier = 0},
      {.name = "eyes", .tier = 1, .capabilities = costroute::kText | costroute::kVision},
  });
  REQUIRE(catalog.ok());
  auto router = costroute::Router::create(*std::move(catalog),
                                          std::make_unique<costroute::Fixed>("f", costroute::Target::cheapest()));
  REQUIRE(router.ok());
  const auto d = (*router)->route("what is in this picture and this clip?", {.images = 1, .audio_clips = 1});
  CHECK(d.model->name == "eyes");
  CHECK(d.unmet_needs == costroute::kAudio);
  CHECK(d.reason.view() == "f:cheapest;filter:no_capable_model");
}

TEST_CASE("a reason keeps the router's suffix with long policy and model names") {
  auto catalog = costroute::Catalog::create({
      {.name = "a-forty-character-model-name-for-testing", .tier = 0, .usd_per_mtok_in = 1,
       .usd_per_mtok_out = 1, .context_window = 10},
      {.name = "big", .tier = 1, .usd_per_mtok_in = 2, .usd_per_mtok_out = 2, .context_window = 12},
  });
  REQUIRE(catalog.ok());
  // No model can take the query, so the budget's choice goes through the
  // filter, which adds the longest suffix.
  auto router = costroute::Router::create(
      *std::move(catalog),
      std::make_unique<costroute::WithinBudget>(
          "a_forty_character_budget_policy_name_xyz",
          std::make_unique<costroute::Fixed>("a_forty_character_fixed_policy_name_xyz1", costroute::Target::cheapest())));
  REQUIRE(router.ok());
  const auto d = (*router)->route("a query longer than ten tokens, so that the small window cannot take it at all",
                                  {.remaining_budget_usd = 0.0});
  CHECK(d.model->name == "big");
  CHECK(d.reason.view() ==
        "a_forty_character_fixed_policy_name_xyz1:cheapest;a_forty_character_budget_policy_name_xyz:over_budget;"
        "filter:no_capable_model");
}

TEST_CASE("a request longer than a model's context window goes to a model that can take it") {
  std::string long_query = "Classify this text as sports, politics or other: ";
  while (long_query.size() < 200000) long_query += "lorem ipsum dolor sit amet ";
  const auto d = default_router()->route(long_query);
  CHECK(d.signals.tokens > 32768);
  CHECK(d.model->context_window >= d.signals.tokens);
  CHECK(d.reason.view().find("filter:capability_or_context") != std::string_view::npos);
}

TEST_CASE("a request longer than every context window goes to the longest one, flagged long_context") {
  std::string long_query;
  while (long_query.size() < 800000) long_query += "lorem ipsum dolor sit amet ";  // about 200k tokens
  const auto d = default_router()->route(long_query);
  CHECK(d.signals.tokens > 128000);
  CHECK(d.unmet_needs == costroute::kLongContext);
  CHECK(d.model->context_window == 128000);  // the longest window of a text model
  CHECK(d.model->name == kStrong);
  CHECK(d.reason.view().find("filter:no_capable_model") != std::string_view::npos);
  // The trace names the window, not a capability the strong model has.
  const auto explained = default_router()->route(long_query, {.explain = true});
  REQUIRE(!explained.trace.empty());
  CHECK(explained.trace.back().policy == "router");
  CHECK(explained.trace.back().outcome.find(absl::StrCat("the query (", d.signals.tokens,
                                                         " tokens) is longer than every window")) != std::string::npos);
  CHECK(explained.trace.back().outcome.find("no model has") == std::string::npos);
}

TEST_CASE("the classifier decides when no rule does, and the tier table after it") {
  const auto d = default_router()->route("Who wrote the novel Moby Dick?");
  CHECK(d.policy == "classifier");
  CHECK(d.p_small_ok >= 0.75);
  CHECK(d.model->name == kCheap);
}

TEST_CASE("the classifier scores a request only when a policy asks for it, or with always_score") {
  const auto lazy = default_router();
  const costroute::Model& model = *lazy->model();
  const auto premium = lazy->route("Who wrote the novel Moby Dick?", {.user_tier = "premium"});
  CHECK(premium.policy == "premium_tier");
  CHECK(std::isnan(premium.p_small_ok));
  const auto asked = lazy->route("Who wrote the novel Moby Dick?");
  CHECK(asked.policy == "classifier");
  CHECK(asked.p_small_ok == model.p_small_ok("Who wrote the novel Moby Dick?"));

  // The same config with options.always_score: every request is scored, to
  // the bit what the model scores alone, and every decision is the same.
  std::string config = costroute::testing::read_file(COSTROUTE_SOURCE_DIR "/models/default.config.json");
  const std::string options = "\"options\": {";
  REQUIRE(config.find(options) != std::string::npos);
  config.replace(config.find(options), options.size(), options + "\"always_score\": true, ");
  auto always = costroute::parse_router(config, "always.json", COSTROUTE_SOURCE_DIR "/models");
  REQUIRE(always.ok());
  REQUIRE((*always)->options().always_score);
  CHECK((*always)->route("Who wrote the novel Moby Dick?", {.user_tier = "premium"}).p_small_ok ==
        model.p_small_ok("Who wrote the novel Moby Dick?"));
  size_t unscored = 0;
  for (const std::string& q : real_prompts()) {
    const costroute::Decision a = lazy->route(q);
    const costroute::Decision b = (*always)->route(q);
    REQUIRE(b.p_small_ok == model.p_small_ok(q));
    REQUIRE(a.model->name == b.model->name);
    REQUIRE(a.reason.view() == b.reason.view());
    if (std::isnan(a.p_small_ok)) {
      ++unscored;
    } else {
      REQUIRE(a.p_small_ok == b.p_small_ok);
    }
  }
  CHECK(unscored > 50);  // rules decided these before the classifier was asked
}

TEST_CASE("a follow-up stays on the session's model") {
  const std::string_view turns[] = {"Write a long product description for hiking boots."};
  const auto d = default_router()->route("now make it shorter", {.earlier_turns = turns, .session_model = kStrong});
  CHECK(d.model->name == kStrong);
  CHECK(d.policy == "session");
}

TEST_CASE("explain mode records every policy asked, in order") {
  const auto d = default_router()->route("Who wrote the novel Moby Dick?", {.explain = true});
  REQUIRE(d.trace.size() >= 9);
  CHECK(d.trace[0].policy == "explicit_request");
  CHECK(d.trace[0].outcome == "abstained: condition not met");
  // The classifier decides; the wrappers around it say they kept its decision.
  const size_t n = d.trace.size();
  CHECK(d.trace[n - 3].policy == "classifier");
  CHECK(d.trace[n - 3].outcome.rfind("decided: mixtral-8x7b-instruct (classifier:p=", 0) == 0);
  CHECK(d.trace[n - 2].policy == "session");
  CHECK(d.trace[n - 2].outcome == "kept: not a follow-up in a session");
  CHECK(d.trace[n - 1].policy == "budget");
  CHECK(d.trace[n - 1].outcome == "kept: no budget");
  CHECK(default_router()->route("hi").trace.empty());
  // The router's own steps: the capability filter, and what no model has.
  const costroute::Decision audio = default_router()->route("transcribe this", {.audio_clips = 1, .explain = true});
  REQUIRE(!audio.trace.empty());
  CHECK(audio.trace.back().policy == "router");
  CHECK(audio.trace.back().outcome == "filter: no model has audio; mixtral-8x7b-instruct serves the rest");
  const costroute::Decision image =
      default_router()->route("describe", {.images = 1, .requested_model = "mixtral-8x7b-instruct", .explain = true});
  CHECK(image.trace.back().outcome ==
        "filter: gpt-4-vision-preview instead of mixtral-8x7b-instruct, which cannot take the request");
}

TEST_CASE("any bytes are routed, invalid UTF-8 and empty queries included") {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (const std::string& q : {bytes, std::string(), std::string("\xff\xfe"), std::string(1 << 20, 'a')}) {
    const auto d = default_router()->route(q);
    CHECK(d.model != nullptr);
  }
}

TEST_CASE("a router without a classifier model routes with rules and tables alone") {
  auto router = costroute::load_router(COSTROUTE_SOURCE_DIR "/models/default.config.json");
  REQUIRE(router.ok());
  auto catalog = costroute::Catalog::create((*router)->catalog().models());
  std::vector<costroute::PolicyPtr> chain;
  chain.push_back(std::make_unique<costroute::ClassifierThreshold>("classifier", 0.5, costroute::Target::cheapest()));
  chain.push_back(std::make_unique<costroute::Fixed>("default", costroute::Target::at_tier(1)));
  auto bare = costroute::Router::create(*std::move(catalog),
                                        std::make_unique<costroute::FirstOf>("policies", std::move(chain)));
  REQUIRE(bare.ok());
  const auto d = (*bare)->route("Who wrote Moby Dick?");
  CHECK(std::isnan(d.p_small_ok));
  CHECK(d.model->name == kMid);
  CHECK(d.policy == "default");
}

namespace {

// A host's policy that claims to decide but names no model of the catalog.
// It records its decision as the built-in policies do.
class Careless final : public costroute::Policy {
 public:
  explicit Careless(costroute::ModelIndex model = 99) : Policy("careless"), model_(model) {}
  bool decide(const costroute::Request& request, costroute::Verdict& verdict,
              costroute::Trace* trace) const override {
    verdict.model = model_;
    return decided(request, verdict, trace);
  }

 private:
  costroute::ModelIndex model_;
};

costroute::Catalog two_models() {
  auto c = costroute::Catalog::create({{.name = "s", .tier = 0, .usd_per_mtok_in = 1, .usd_per_mtok_out = 1},
                                       {.name = "l", .tier = 1, .usd_per_mtok_in = 10, .usd_per_mtok_out = 10}});
  REQUIRE(c.ok());
  return *std::move(c);
}

}  // namespace

namespace {

// A host's policy that asks another router (a shadow) and then abstains.
class AsksShadow final : public costroute::Policy {
 public:
  explicit AsksShadow(std::shared_ptr<const costroute::Router> shadow) : Policy("shadow"), shadow_(std::move(shadow)) {}
  bool decide(const costroute::Request&, costroute::Verdict&, costroute::Trace*) const override {
    (void)shadow_->route("Prove step by step that the square root of two is irrational, then explain why it matters.");
    return false;
  }

 private:
  std::shared_ptr<const costroute::Router> shadow_;
};

}  // namespace

TEST_CASE("a budget is kept for the model that can take the request, not the one the filter replaces") {
  // Only m and l see images; m, a tier below l, costs more than l.
  auto catalog = costroute::Catalog::create(
      {{.name = "s", .tier = 0, .usd_per_mtok_in = 1, .usd_per_mtok_out = 1},
       {.name = "m", .tier = 1, .usd_per_mtok_in = 20, .usd_per_mtok_out = 20,
        .capabilities = costroute::kText | costroute::kVision},
       {.name = "l", .tier = 2, .usd_per_mtok_in = 5, .usd_per_mtok_out = 5,
        .capabilities = costroute::kText | costroute::kVision}});
  REQUIRE(catalog.ok());
  auto router = costroute::Router::create(
      *std::move(catalog), std::make_unique<costroute::WithinBudget>(
                               "w", std::make_unique<costroute::Fixed>("f", costroute::Target::cheapest())));
  REQUIRE(router.ok());
  costroute::Context context{.images = 1};
  const costroute::Decision unlimited = (*router)->route("what is in this picture", context);
  CHECK(unlimited.model->name == "m");  // s cannot see it: the nearest model that can
  context.remaining_budget_usd = (unlimited.estimated_cost_usd) / 2;  // m's estimate is 4 times l's
  const costroute::Decision kept = (*router)->route("what is in this picture", context);
  CHECK(kept.model->name == "l");
  CHECK(kept.estimated_cost_usd <= *context.remaining_budget_usd);
  CHECK(kept.reason.view().find("w:over_budget") != std::string_view::npos);
}

TEST_CASE("a policy may route with another router from inside route()") {
  auto model = costroute::load_model(COSTROUTE_SOURCE_DIR "/models/default.model.json");
  REQUIRE(model.ok());
  auto shared = std::make_shared<const costroute::Model>(*std::move(model));
  std::vector<costroute::PolicyPtr> chain;
  chain.push_back(std::make_unique<AsksShadow>(default_router()));
  chain.push_back(std::make_unique<costroute::ClassifierThreshold>("classifier", 0.5, costroute::Target::cheapest()));
  auto outer = costroute::Router::create(two_models(), std::make_unique<costroute::FirstOf>("chain", std::move(chain)),
                                         shared);
  REQUIRE(outer.ok());
  const std::string_view query = "What is the capital of Australia?";
  const costroute::Decision d = (*outer)->route(query);
  CHECK(d.p_small_ok == shared->p_small_ok(query));
}

TEST_CASE("Router::create refuses what route() could not run, and route() distrusts a host policy's verdict") {
  auto fixed = [] { return std::make_unique<costroute::Fixed>("f", costroute::Target::cheapest()); };
  std::vector<costroute::PolicyPtr> chain;
  chain.push_back(nullptr);
  CHECK(costroute::Router::create(two_models(), std::make_unique<costroute::FirstOf>("chain", std::move(chain)))
            .status().message() == "policy \"chain\": child 0 is null");
  costroute::RouterOptions nan_weight;
  nan_weight.complexity.length = NAN;
  CHECK(costroute::Router::create(two_models(), fixed(), nullptr, nan_weight).status().message() ==
        "complexity: every weight must be in [0, 1]");
  costroute::RouterOptions far_east;
  far_east.utc_offset_minutes = INT_MAX;
  CHECK(costroute::Router::create(two_models(), fixed(), nullptr, far_east).status().message() ==
        "utc_offset_minutes: expected a whole number in [-1440, 1440]");
  CHECK(costroute::Router::create(two_models(), std::make_unique<costroute::Fixed>("f", costroute::Target::named("x")))
            .status().message() == "policy \"f\": model:x: no model of that name in the catalog");
  costroute::Catalog catalog = two_models();
  REQUIRE(costroute::Router::create(std::move(catalog), fixed()).ok());
  CHECK(costroute::Router::create(std::move(catalog), fixed()).status().message() == "catalog: empty");

  auto careless = costroute::Router::create(two_models(), std::make_unique<Careless>());
  REQUIRE(careless.ok());
  const costroute::Decision d = (*careless)->route("hello", {.explain = true});
  CHECK(d.model->name == "l");
  CHECK(d.reason.view() == "router:no_policy_decided");
  // Inside the built-in policies that wrap another, such a verdict is an
  // abstention too, never an index into the catalog.
  for (costroute::ModelIndex lie : {costroute::ModelIndex{99}, costroute::ModelIndex{-1}}) {
    std::vector<costroute::PolicyPtr> wrappers;
    wrappers.push_back(std::make_unique<costroute::WithinBudget>("w", std::make_unique<Careless>(lie)));
    wrappers.push_back(std::make_unique<costroute::ShiftTier>("t", costroute::Condition{}, 1, std::make_unique<Careless>(lie)));
    wrappers.push_back(std::make_unique<costroute::StickySession>("k", std::make_unique<Careless>(lie)));
    for (costroute::PolicyPtr& wrapper : wrappers) {
      auto wrapped = costroute::Router::create(two_models(), std::move(wrapper));
      REQUIRE(wrapped.ok());
      const costroute::Decision w = (*wrapped)->route(
          "and shorter?", {.remaining_budget_usd = 0.0, .session_model = "nope", .explain = true});
      CHECK(w.model->name == "l");
      CHECK(w.reason.view() == "router:no_policy_decided");
      // The wrapper's own entry says it abstained, as every policy asked has one.
      REQUIRE(w.trace.size() >= 2);
      const costroute::TraceStep& wrapper_said = w.trace[w.trace.size() - 2];
      CHECK(wrapper_said.policy != "careless");
      CHECK(wrapper_said.outcome.rfind("abstained: its policy abstained", 0) == 0);
    }
    // In a chain, the next child is asked.
    std::vector<costroute::PolicyPtr> chain_of_two;
    chain_of_two.push_back(std::make_unique<Careless>(lie));
    chain_of_two.push_back(std::make_unique<costroute::Fixed>("f", costroute::Target::cheapest()));
    auto chained = costroute::Router::create(two_models(), std::make_unique<costroute::FirstOf>("chain", std::move(chain_of_two)));
    REQUIRE(chained.ok());
    const costroute::Decision c = (*chained)->route("hello");
    CHECK(c.model->name == "s");
    CHECK(c.policy == "f");
  }

  // A negative answer length costs nothing rather than less than nothing.
  auto router = costroute::Router::create(two_models(), fixed());
  REQUIRE(router.ok());
  costroute::Context context;
  context.expected_output_tokens = -1'000'000;
  CHECK((*router)->route("hello", context).estimated_cost_usd >= 0.0);

  // A null router is not published.
  costroute::RouterHandle handle(*router);
  CHECK_FALSE(handle.swap(nullptr));
  CHECK(handle.version() == 0);
  CHECK(handle.get() == *router);
}

TEST_CASE("routing makes no heap allocation once warm") {
  const auto router = default_router();
  costroute::RouteScratch scratch;
  const std::vector<std::string> queries = {
      "Who wrote the novel Moby Dick?", "Classify this: win a free phone now",
      "Write a Python function that merges two sorted lists",
      "Why do prices rise? Explain and compare two theories.", "hi",
      // Below the classifier's threshold: it abstains, and the tier table decides.
      "The language {ww | w in (0 + 1)*} is\nA. not accepted by any Turing machine\nB. accepted by some "
      "Turing machine, but by no pushdown automaton\nC. accepted by some pushdown automaton, but not "
      "context-free\nD. context-free, but not regular\nAnswer:"};
  for (const auto& q : queries) router->route(q, {}, scratch);
  {
    costroute::Context explain;
    explain.explain = true;
    const costroute::Decision d = router->route(queries.back(), explain, scratch);
    bool classifier_abstained = false;
    for (const costroute::TraceStep& step : d.trace) {
      classifier_abstained = classifier_abstained || (step.policy == "classifier" && step.outcome.rfind("abstained: p=", 0) == 0);
    }
    CHECK(classifier_abstained);
  }
  costroute::testing::AllocationCounter counter;
  size_t tiers = 0;
  for (int i = 0; i < 20; ++i) {
    for (const auto& q : queries) tiers += static_cast<size_t>(router->route(q, {.user_tier = "free"}, scratch).tier);
  }
  CHECK(counter.count() == 0);
  CHECK(tiers > 0);
}

TEST_CASE("routing real prompts makes no heap allocation once warm") {
  const std::vector<std::string> queries = real_prompts();
  const auto router = default_router();
  costroute::RouteScratch scratch;
  for (const auto& q : queries) router->route(q, {}, scratch);
  std::vector<std::string_view> policies;
  policies.reserve(64);  // before counting
  costroute::testing::AllocationCounter counter;
  for (const auto& q : queries) {
    const std::string_view policy = router->route(q, {}, scratch).policy;
    if (policies.size() < 64 && std::find(policies.begin(), policies.end(), policy) == policies.end()) {
      policies.push_back(policy);
    }
  }
  CHECK(counter.count() == 0);
  CHECK(policies.size() >= 4);  // several paths taken, not one
}

TEST_CASE("a router swapped in while threads route is picked up, and every decision comes from a whole router",
          "[concurrency]") {
  auto first = costroute::load_router(COSTROUTE_SOURCE_DIR "/models/default.config.json");
  REQUIRE(first.ok());
  const std::string config = costroute::testing::read_file(COSTROUTE_SOURCE_DIR "/models/default.config.json");
  // The second router sends everything to one model: "gpt-3.5-turbo-1106".
  const std::string everything_mid = R"({"format": "costroute.config/1", "models": [
      {"name": "only-mid", "tier": 0, "usd_per_mtok_in": 1, "usd_per_mtok_out": 2}],
      "policies": [{"type": "fixed", "route_to": "cheapest"}]})";
  auto second = costroute::parse_router(everything_mid);
  REQUIRE(second.ok());
  costroute::RouterHandle handle(*first);
  std::atomic<bool> stop{false};
  std::atomic<int> saw_second{0};
  std::atomic<int> inconsistent{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      costroute::RouterHandle::Reader reader(handle);
      while (!stop.load()) {
        const auto d = reader.route("Who wrote the novel Moby Dick?");
        const bool from_second = d.model->name == "only-mid";
        // A decision from the second router has its catalog and its policy.
        if (from_second && d.policy != "fixed") ++inconsistent;
        if (!from_second && d.model->name != kCheap) ++inconsistent;
        if (from_second) {
          ++saw_second;
          return;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  handle.swap(*second);
  for (int i = 0; i < 2000 && saw_second.load() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  stop = true;
  for (auto& t : threads) t.join();
  CHECK(saw_second.load() == 2);
  CHECK(inconsistent.load() == 0);
  CHECK(handle.version() == 1);
  CHECK(config.find("costroute.config/1") != std::string::npos);
}

// A two-model router whose classifier (threshold 0.5: small above, big
// below) is `model`.
std::shared_ptr<const costroute::Router> classifier_router(absl::StatusOr<costroute::Model> model) {
  REQUIRE(model.ok());
  auto catalog = costroute::Catalog::create({{.name = "small", .tier = 0}, {.name = "big", .tier = 1}});
  auto router = costroute::Router::create(
      *std::move(catalog),
      std::make_unique<costroute::ClassifierThreshold>("classifier", 0.5, costroute::Target::cheapest(),
                                                       costroute::Target::strongest()),
      std::make_shared<const costroute::Model>(*std::move(model)));
  REQUIRE(router.ok());
  return *router;
}

TEST_CASE("a model's context features are read from the matching Context field or tag") {
  auto vectorizer = costroute::Vectorizer::create({}, {"question"}, {1.0});
  REQUIRE(vectorizer.ok());
  const auto router = classifier_router(costroute::Model::create(
      *std::move(vectorizer), {0.0}, 0.0, {},
      {{.field = "meta.subset", .values = {"law", "math"}, .coef = {-3.0, 3.0}},
       {.field = "user_tier", .values = {"free"}, .coef = {0.5}}}));
  const costroute::Tag math[] = {{"meta.subset", "math"}};
  const costroute::Tag law[] = {{"meta.subset", "law"}};
  const costroute::Tag unseen[] = {{"meta.subset", "poetry"}};
  CHECK(router->route("a question", {.tags = math}).p_small_ok == Approx(1 / (1 + std::exp(-3.0))));
  CHECK(router->route("a question", {.tags = law}).model->name == "big");
  CHECK(router->route("a question", {.user_tier = "free", .tags = math}).p_small_ok ==
        Approx(1 / (1 + std::exp(-3.5))));
  CHECK(router->route("a question", {.tags = unseen}).p_small_ok == Approx(0.5));
  CHECK(router->route("a question").p_small_ok == Approx(0.5));
}

TEST_CASE("a model with a win head routes by the blend of its two heads, context included") {
  auto vectorizer = costroute::Vectorizer::create({}, {"question"}, {1.0});
  REQUIRE(vectorizer.ok());
  const auto router = classifier_router(costroute::Model::create(
      *std::move(vectorizer), {0.0}, 0.0, {},
      {{.field = "meta.subset", .values = {"law", "math"}, .coef = {-3.0, 3.0}, .win_coef = {-1.0, 1.0}}},
      costroute::WinHead{.weight = 0.5, .coef = {0.0}, .intercept = -2.0}));
  auto p = [](double z) { return 1 / (1 + std::exp(-z)); };
  const costroute::Tag math[] = {{"meta.subset", "math"}};
  const costroute::Tag law[] = {{"meta.subset", "law"}};
  CHECK(router->route("a question", {.tags = math}).p_small_ok == Approx((p(3.0) + 0.5 * p(-1.0)) / 1.5));
  CHECK(router->route("a question", {.tags = math}).model->name == "small");
  CHECK(router->route("a question", {.tags = law}).p_small_ok == Approx((p(-3.0) + 0.5 * p(-3.0)) / 1.5));
  CHECK(router->route("a question", {.tags = law}).model->name == "big");
  CHECK(router->route("a question").p_small_ok == Approx((0.5 + 0.5 * p(-2.0)) / 1.5));
}

TEST_CASE("a model's signal features are computed from the query when routing") {
  auto vectorizer = costroute::Vectorizer::create({}, {"zzz"}, {1.0});
  REQUIRE(vectorizer.ok());
  const auto router = classifier_router(costroute::Model::create(
      *std::move(vectorizer), {0.0}, 0.0, {},
      {{.field = "signal.task_type", .values = {"code", "translation"}, .coef = {-2.0, 2.0}}}));
  const auto translation = router->route("Translate 'good night' into German");
  CHECK(translation.p_small_ok == Approx(1 / (1 + std::exp(-2.0))));
  CHECK(translation.model->name == "small");
  const auto code = router->route("Write a Python function that reverses a string");
  CHECK(code.p_small_ok == Approx(1 / (1 + std::exp(2.0))));
  CHECK(code.model->name == "big");
  CHECK(costroute::signal_feature(code.signals, "signal.code") == "yes");
  CHECK(costroute::signal_feature(code.signals, "signal.length") == "<16");
  CHECK(costroute::signal_feature(code.signals, "signal.unknown").empty());
}
