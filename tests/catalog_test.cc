#include "costroute/catalog.h"

#include "catch.h"

namespace {

costroute::Catalog three_tiers() {
  auto c = costroute::Catalog::create({
      {.name = "big", .tier = 2, .usd_per_mtok_in = 10, .usd_per_mtok_out = 30,
       .capabilities = costroute::kText | costroute::kCode, .context_window = 128000},
      {.name = "small", .tier = 0, .usd_per_mtok_in = 0.2, .usd_per_mtok_out = 0.6,
       .capabilities = costroute::kText, .context_window = 8000},
      {.name = "vision", .tier = 2, .usd_per_mtok_in = 12, .usd_per_mtok_out = 36,
       .capabilities = costroute::kText | costroute::kVision, .context_window = 128000},
      {.name = "mid", .tier = 1, .usd_per_mtok_in = 1, .usd_per_mtok_out = 2,
       .capabilities = costroute::kText | costroute::kCode, .context_window = 16000},
  });
  REQUIRE(c.ok());
  return *std::move(c);
}

}  // namespace

TEST_CASE("catalog orders models by tier, then price") {
  const costroute::Catalog c = three_tiers();
  CHECK(c[0].name == "small");
  CHECK(c[1].name == "mid");
  CHECK(c[2].name == "big");
  CHECK(c[3].name == "vision");
  CHECK(c.max_tier() == 2);
  CHECK(c.cheapest() == 0);
  CHECK(c.strongest() == 2);
  CHECK(c.find("mid") == 1);
  CHECK(c.find("nope") == costroute::kNoModel);
}

TEST_CASE("first_of_tier finds the cheapest model of a tier or the next one up") {
  const costroute::Catalog c = three_tiers();
  CHECK(c.first_of_tier(0) == 0);
  CHECK(c.first_of_tier(1) == 1);
  CHECK(c.first_of_tier(2) == 2);
  CHECK(c.first_of_tier(9) == 2);
}

TEST_CASE("capability and context-window filters never pick a model that cannot take the request") {
  const costroute::Catalog c = three_tiers();
  CHECK(c.cheapest_capable(0, costroute::kVision, 100) == 3);
  CHECK(c.cheapest_capable(0, costroute::kCode, 100) == 1);
  CHECK(c.cheapest_capable(0, costroute::kText, 10000) == 1);  // small's window is 8000
  CHECK(c.cheapest_capable(0, costroute::kAudio, 100) == costroute::kNoModel);
  CHECK(c.capable_near(0, costroute::kText, 100) == 0);        // already capable
  CHECK(c.capable_near(0, costroute::kVision, 100) == 3);      // up to a vision model
  CHECK(c.capable_near(3, costroute::kCode, 100) == 2);        // same tier: big has code
  CHECK(c.capable_near(0, costroute::kText, 200000) == costroute::kNoModel);  // no window that large
}

TEST_CASE("catalog creation rejects bad models, naming them") {
  CHECK(costroute::Catalog::create({}).status().message() == "models: the catalog is empty");
  CHECK(costroute::Catalog::create({{.name = "a"}, {.name = "a", .tier = 1}}).status().message() ==
        "models[1].name: duplicate model \"a\"");
  CHECK(costroute::Catalog::create({{.name = ""}}).status().message() == "models[0].name: empty");
  CHECK(costroute::Catalog::create({{.name = "a", .tier = -1}}).status().message() ==
        "models[0].tier: must be in [0, 1000]");
  CHECK(costroute::Catalog::create({{.name = "a", .tier = 1001}}).status().message() ==
        "models[0].tier: must be in [0, 1000]");
  CHECK(costroute::Catalog::create({{.name = "a", .usd_per_mtok_in = -1}}).status().message() ==
        "models[0]: prices must be finite and >= 0");
  CHECK(costroute::Catalog::create({{.name = "a"}, {.name = "eyes", .capabilities = costroute::kVision}})
            .status()
            .message() == "models[1].capabilities: must include \"text\" (every request has a text query)");
}

TEST_CASE("cost estimates use input and output prices per million tokens") {
  const costroute::Catalog c = three_tiers();
  CHECK(c[2].cost_usd(1000, 500) == Approx((1000 * 10.0 + 500 * 30.0) / 1e6));
}
