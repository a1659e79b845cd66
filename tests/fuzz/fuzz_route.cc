// Any bytes as a request to the bundled default router: the query and every
// string field of the context, split at 0x1f bytes, with flags in the first
// byte. Every request gets a model of the catalog; nothing crashes.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <vector>

#include "costroute/io.h"
#include "costroute/router.h"

namespace {

const costroute::Router& router() {
  static const std::shared_ptr<const costroute::Router> r = [] {
    auto loaded = costroute::load_router(COSTROUTE_MODELS_DIR "/default.config.json");
    if (!loaded.ok()) std::abort();
    return *std::move(loaded);
  }();
  return *r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  std::vector<std::string_view> parts;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t start = 0;
  while (parts.size() < 8) {
    const size_t end = rest.find('\x1f', start);
    parts.push_back(rest.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  parts.resize(8);
  const costroute::Tag tags[] = {{"feature", parts[6]}};
  const std::string_view turns[] = {parts[7], parts[0]};
  costroute::Context c{.user_tier = parts[1], .task_type = parts[2], .domain = parts[3],
                       .images = flags & 1, .audio_clips = (flags >> 1) & 1, .requested_model = parts[4],
                       .tags = tags, .session_model = parts[5], .explain = (flags & 4) != 0};
  if (flags & 8) c.remaining_budget_usd = (flags & 16) ? 0.0 : 1e-9;
  if (flags & 32) c.request_time_ms = (flags & 64) ? -1 : int64_t{1} << 62;
  if (flags & 128) c.earlier_turns = turns;
  const costroute::Decision d = router().route(parts[0], c);
  if (d.model == nullptr || router().catalog().find(d.model->name) == costroute::kNoModel) std::abort();
  if (!(d.estimated_cost_usd >= 0.0) || !std::isfinite(d.estimated_cost_usd)) std::abort();
  if (!std::isnan(d.p_small_ok) && !(d.p_small_ok >= 0.0 && d.p_small_ok <= 1.0)) std::abort();
  return 0;
}
