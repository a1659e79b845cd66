// costroute/catalog.h: the models a router can choose from, with their
// prices, tiers and capabilities.
//
// Tiers order models by strength: tier 0 is the cheapest, the highest tier
// the strongest; any number of tiers (haiku / sonnet / opus style) and any
// number of models per tier. Within a tier, models are ordered by price.
//
// Header-only; immutable after creation and safe to share between threads.
//
// **Example**:
//
//   auto catalog = costroute::Catalog::create({
//       {.name = "small", .tier = 0, .usd_per_mtok_in = 0.2, .usd_per_mtok_out = 0.6},
//       {.name = "large", .tier = 1, .usd_per_mtok_in = 3, .usd_per_mtok_out = 15,
//        .capabilities = costroute::kText | costroute::kVision},
//   });
//   costroute::ModelIndex vision = catalog->cheapest_capable(0, costroute::kVision, 0);
//   // (*catalog)[vision].name == "large"
#ifndef COSTROUTE_CATALOG_H_
#define COSTROUTE_CATALOG_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace costroute {

// What a model can take. A request's needs must be a subset of its model's.
enum Capability : uint32_t {
  kText = 1u << 0,
  kVision = 1u << 1,  // image input
  kAudio = 1u << 2,   // audio input
  kCode = 1u << 3,    // recommended for code generation
  kLongContext = 1u << 4,
  kTools = 1u << 5,   // function calling
};

// "text", "vision", "audio", "code", "long_context", "tools"; the bit for a
// name, or 0 if unknown.
inline uint32_t capability_from_name(std::string_view name) {
  if (name == "text") return kText;
  if (name == "vision") return kVision;
  if (name == "audio") return kAudio;
  if (name == "code") return kCode;
  if (name == "long_context") return kLongContext;
  if (name == "tools") return kTools;
  return 0;
}

// Comma-separated names of the capabilities in `mask`, for messages.
inline std::string capability_names(uint32_t mask) {
  static constexpr std::pair<uint32_t, const char*> kNames[] = {
      {kText, "text"}, {kVision, "vision"}, {kAudio, "audio"},
      {kCode, "code"}, {kLongContext, "long_context"}, {kTools, "tools"}};
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if (mask & bit) absl::StrAppend(&out, out.empty() ? "" : ",", name);
  }
  return out;
}

// One model the router may choose.
struct ModelInfo {
  std::string name = {};  // what the host passes to its backend
  int tier = 0;      // 0 = cheapest
  double usd_per_mtok_in = 0.0;   // USD per million input tokens
  double usd_per_mtok_out = 0.0;  // USD per million output tokens
  uint32_t capabilities = kText;  // Capability bits
  int64_t context_window = 0;     // tokens; 0: unlimited
  std::string provider = {};      // optional provider or deployment name

  bool can_take(uint32_t needs, int64_t tokens) const {
    return (capabilities & needs) == needs &&
           (context_window == 0 || tokens <= context_window);
  }

  // Estimated USD for a request of `tokens_in` and `tokens_out` tokens.
  double cost_usd(int64_t tokens_in, int64_t tokens_out) const {
    return (static_cast<double>(tokens_in) * usd_per_mtok_in +
            static_cast<double>(tokens_out) * usd_per_mtok_out) * 1e-6;
  }
};

// Index of a model in its Catalog.
using ModelIndex = int;
inline constexpr ModelIndex kNoModel = -1;

class Catalog {
 public:
  // Most tiers a catalog may have (tiers 0 to kMaxTier).
  static constexpr int kMaxTier = 1000;

  // Validates and orders the models (by tier, then price in + out, then
  // name). InvalidArgument, naming the model: no models, an empty or
  // duplicate name, a tier outside [0, kMaxTier], a negative price or
  // context window, capabilities without kText.
  [[nodiscard]] static absl::StatusOr<Catalog> create(std::vector<ModelInfo> models) {
    if (models.empty()) return absl::InvalidArgumentError("models: the catalog is empty");
    std::unordered_set<std::string_view> names;  // linear in the models, whatever a file holds
    for (size_t i = 0; i < models.size(); ++i) {
      const ModelInfo& m = models[i];
      const std::string where = absl::StrCat("models[", i, "]");
      if (m.name.empty()) return absl::InvalidArgumentError(where + ".name: empty");
      if (m.tier < 0 || m.tier > kMaxTier) {
        return absl::InvalidArgumentError(absl::StrCat(where, ".tier: must be in [0, ", kMaxTier, "]"));
      }
      if (!(m.usd_per_mtok_in >= 0.0) || !std::isfinite(m.usd_per_mtok_in) ||
          !(m.usd_per_mtok_out >= 0.0) || !std::isfinite(m.usd_per_mtok_out)) {
        return absl::InvalidArgumentError(where + ": prices must be finite and >= 0");
      }
      if (m.context_window < 0) {
        return absl::InvalidArgumentError(where + ".context_window: must be >= 0");
      }
      // Every request needs text (its query): a model without it could
      // never be chosen, so a list that leaves it out is a mistake.
      if ((m.capabilities & kText) == 0) {
        return absl::InvalidArgumentError(
            where + ".capabilities: must include \"text\" (every request has a text query)");
      }
      if (!names.insert(m.name).second) {
        return absl::InvalidArgumentError(absl::StrCat(where, ".name: duplicate model \"", m.name, "\""));
      }
    }
    std::stable_sort(models.begin(), models.end(), [](const ModelInfo& a, const ModelInfo& b) {
      if (a.tier != b.tier) return a.tier < b.tier;
      const double pa = a.usd_per_mtok_in + a.usd_per_mtok_out;
      const double pb = b.usd_per_mtok_in + b.usd_per_mtok_out;
      if (pa != pb) return pa < pb;
      return a.name < b.name;
    });
    Catalog c;
    c.models_ = std::move(models);
    return c;
  }

  size_t size() const { return models_.size(); }
  const ModelInfo& operator[](ModelIndex i) const { return models_[static_cast<size_t>(i)]; }
  const std::vector<ModelInfo>& models() const { return models_; }
  int max_tier() const { return models_.back().tier; }

  // Index of the model called `name`, or kNoModel.
  ModelIndex find(std::string_view name) const {
    for (size_t i = 0; i < models_.size(); ++i) {
      if (models_[i].name == name) return static_cast<ModelIndex>(i);
    }
    return kNoModel;
  }

  ModelIndex cheapest() const { return 0; }
  // The cheapest model of the highest tier.
  ModelIndex strongest() const { return first_of_tier(max_tier()); }

  // The cheapest model of the lowest tier >= `tier` (the strongest tier if
  // `tier` is above it).
  ModelIndex first_of_tier(int tier) const {
    for (size_t i = 0; i < models_.size(); ++i) {
      if (models_[i].tier >= tier) return static_cast<ModelIndex>(i);
    }
    ModelIndex last = static_cast<ModelIndex>(models_.size() - 1);
    while (last > 0 && models_[last - 1].tier == models_[last].tier) --last;
    return last;
  }

  // The tier `steps` of the catalog's tiers above `tier` (below it for
  // negative steps), stopping at the lowest and the highest: with tiers
  // {0, 5, 9}, one step down from 9 is 5.
  int tier_steps_from(int tier, int steps) const {
    int result = tier;
    for (size_t i = 0; i < models_.size() && steps > 0; ++i) {
      if (models_[i].tier > result) result = models_[i].tier, --steps;
    }
    for (size_t i = models_.size(); i-- > 0 && steps < 0;) {
      if (models_[i].tier < result) result = models_[i].tier, ++steps;
    }
    return result;
  }

  // The cheapest model at tier >= `min_tier` that can take the request;
  // kNoModel if none can.
  ModelIndex cheapest_capable(int min_tier, uint32_t needs, int64_t tokens) const {
    for (size_t i = 0; i < models_.size(); ++i) {
      if (models_[i].tier >= min_tier && models_[i].can_take(needs, tokens)) {
        return static_cast<ModelIndex>(i);
      }
    }
    return kNoModel;
  }

  // The model with the longest context window (0, unlimited, is longest)
  // among those with all of `capabilities`, the cheapest of equals;
  // kNoModel if none has them all.
  ModelIndex widest_with(uint32_t capabilities) const {
    ModelIndex best = kNoModel;
    auto longer = [](int64_t a, int64_t b) { return a != b && (a == 0 || (b != 0 && a > b)); };
    for (size_t i = 0; i < models_.size(); ++i) {
      if ((models_[i].capabilities & capabilities) != capabilities) continue;
      if (best == kNoModel || longer(models_[i].context_window, models_[best].context_window)) {
        best = static_cast<ModelIndex>(i);
      }
    }
    return best;
  }

  // `chosen` if it can take the request; else the cheapest capable model of
  // its tier or above; else the strongest capable model below it; else
  // kNoModel.
  ModelIndex capable_near(ModelIndex chosen, uint32_t needs, int64_t tokens) const {
    if (models_[chosen].can_take(needs, tokens)) return chosen;
    const ModelIndex up = cheapest_capable(models_[chosen].tier, needs, tokens);
    if (up != kNoModel) return up;
    for (ModelIndex i = chosen; i-- > 0;) {
      if (models_[i].can_take(needs, tokens)) return i;
    }
    return kNoModel;
  }

 private:
  Catalog() = default;
  std::vector<ModelInfo> models_;
};

}  // namespace costroute

#endif  // COSTROUTE_CATALOG_H_
