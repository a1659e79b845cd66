// Any bytes as a router config: a router or one error naming the source,
// never a crash. A router that loads routes every request to a model of its
// catalog, and calibrate's edit of the threshold never crashes either.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "costroute/io.h"
#include "costroute/router.h"

namespace {

std::shared_ptr<const costroute::Model> model() {
  static const std::shared_ptr<const costroute::Model> m = [] {
    auto v = costroute::Vectorizer::create({}, {"bug", "capital", "prove", "theorem"}, {1.0, 2.0, 3.0, 1.5});
    auto made = costroute::Model::create(*std::move(v), {-1.0, 2.0, -2.0, -1.5}, 0.1);
    return std::make_shared<const costroute::Model>(*std::move(made));
  }();
  return m;
}

void route_samples(const costroute::Router& router) {
  const costroute::Tag tags[] = {{"feature", "search"}};
  const std::string_view turns[] = {"write a function", "\xff\xfe"};
  const costroute::Context contexts[] = {
      {},
      {.user_tier = "premium", .task_type = "code", .domain = "medical", .images = 2,
       .requested_model = "gpt-4", .request_time_ms = 0, .remaining_budget_usd = 0.0,
       .expected_output_tokens = 100000, .tags = tags, .explain = true},
      {.session_id = "s", .remaining_budget_usd = -1.0, .earlier_turns = turns, .session_model = "m",
       .explain = true},
  };
  const std::string_view queries[] = {"", "what is the capital of France?",
                                      "prove the theorem step by step, then fix the bug in this code: for(;;){}",
                                      "\xc3\x28 invalid"};
  for (const costroute::Context& c : contexts) {
    for (std::string_view q : queries) {
      const costroute::Decision d = router.route(q, c);
      if (d.model == nullptr) std::abort();
      if (router.catalog().find(d.model->name) == costroute::kNoModel) std::abort();
      if (!(d.estimated_cost_usd >= 0.0) || !std::isfinite(d.estimated_cost_usd)) std::abort();
      for (const costroute::ModelInfo* f : d.fallbacks()) {
        if (f == nullptr) std::abort();
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  auto router = costroute::parse_router(json, "fuzz.json", ".", model());
  if (router.ok()) {
    route_samples(**router);
  } else if (router.status().message().find("fuzz.json") != 0) {
    std::abort();
  }
  auto edited = costroute::edit_config(json, {.threshold = 0.5});
  if (edited.ok()) (void)costroute::parse_router(*edited, "edited", ".", model());
  (void)costroute::classifier_path(json, "/tmp");
  return 0;
}
