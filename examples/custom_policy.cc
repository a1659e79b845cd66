// A router built in code, without a config file, with a policy of the
// host's own: here, requests tagged as coming from the "autocomplete"
// feature must answer fast and always go to the cheapest model.
//
// Uses only the header-only core (costroute::core).
#include <costroute/policy.h>
#include <costroute/router.h>

#include <cstdio>
#include <memory>
#include <vector>

namespace {

class AutocompleteIsCheap final : public costroute::Policy {
 public:
  AutocompleteIsCheap() : Policy("autocomplete") {}

  bool decide(const costroute::Request& request, costroute::Verdict& verdict,
              costroute::Trace* trace) const override {
    if (request.context.tag("feature") != "autocomplete") return abstained("not autocomplete", trace);
    verdict.model = request.catalog.cheapest();
    verdict.reason.clear();
    verdict.reason.append("autocomplete:latency_first");
    return decided(request, verdict, trace);
  }
};

}  // namespace

int main() {
  auto catalog = costroute::Catalog::create({
      {.name = "haiku", .tier = 0, .usd_per_mtok_in = 0.25, .usd_per_mtok_out = 1.25},
      {.name = "sonnet", .tier = 1, .usd_per_mtok_in = 3, .usd_per_mtok_out = 15},
      {.name = "opus", .tier = 2, .usd_per_mtok_in = 15, .usd_per_mtok_out = 75},
  });
  if (!catalog.ok()) return 1;

  std::vector<costroute::PolicyPtr> chain;
  chain.push_back(std::make_unique<AutocompleteIsCheap>());
  costroute::Condition premium;
  premium.user_tiers = {"premium"};
  chain.push_back(std::make_unique<costroute::Rule>("premium_tier", premium, costroute::Target::strongest()));
  // The haiku / sonnet / opus table: complexity and length pick the tier.
  chain.push_back(std::make_unique<costroute::TierTable>(
      "tier_table", std::vector<costroute::TierTable::Row>{
                        {.max_complexity = 0.3, .max_tokens = 1000, .target = costroute::Target::at_tier(0)},
                        {.max_complexity = 0.6, .target = costroute::Target::at_tier(1)},
                        {.target = costroute::Target::at_tier(2)}}));
  auto router = costroute::Router::create(
      *std::move(catalog), std::make_unique<costroute::FirstOf>("policies", std::move(chain)));
  if (!router.ok()) return 1;

  const costroute::Tag autocomplete[] = {{"feature", "autocomplete"}};
  struct Example {
    const char* query;
    costroute::Context context;
  } examples[] = {
      {"def fibonacci(n):", {.tags = autocomplete}},
      {"What is a haiku?", {}},
      {"Explain why the proof works, step by step, and compare it with the classical one.", {}},
      {"What is a haiku?", {.user_tier = "premium"}},
  };
  for (const Example& e : examples) {
    const costroute::Decision d = (*router)->route(e.query, e.context);
    std::printf("%-7s %-28.*s %s\n", d.model->name.c_str(), static_cast<int>(d.reason.view().size()),
                d.reason.view().data(), e.query);
  }
  const costroute::Decision first = (*router)->route(examples[0].query, examples[0].context);
  return first.model->name == "haiku" ? 0 : 1;
}
