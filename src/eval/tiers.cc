// Evaluating a router config over several models (include/costroute/eval.h).
#include <cmath>

#include "absl/strings/str_cat.h"
#include "costroute/eval.h"

namespace costroute {

absl::StatusOr<TierEvaluation> evaluate_tiers(const std::vector<std::string>& models, size_t strongest,
                                              std::span<const double> quality, std::span<const double> cost,
                                              std::span<const size_t> chosen) {
  TierEvaluation e;
  const size_t m = models.size();
  e.models = models;
  e.strongest = strongest;
  e.n = chosen.size();
  if (e.n == 0 || m == 0) return absl::InvalidArgumentError("no prompts or no models to evaluate");
  if (quality.size() != e.n * m || cost.size() != e.n * m) {
    return absl::InvalidArgumentError(absl::StrCat("quality and cost: expected ", e.n * m, " values (",
                                                   e.n, " prompts times ", m, " models)"));
  }
  if (strongest >= m) return absl::InvalidArgumentError("strongest: not one of the models");
  for (size_t i = 0; i < e.n; ++i) {
    if (chosen[i] >= m) return absl::InvalidArgumentError(absl::StrCat("chosen[", i, "]: not one of the models"));
  }
  auto tally = [&](const std::string& name, auto pick) {
    TierStrategy s{name, 0.0, 0.0, 0.0, 0.0, std::vector<double>(m, 0.0)};
    for (size_t i = 0; i < e.n; ++i) {
      const size_t j = pick(i);
      s.quality += quality[i * m + j];
      s.cost += cost[i * m + j];
      s.model_share[j] += 1.0;
    }
    s.quality /= static_cast<double>(e.n);
    for (double& share : s.model_share) share /= static_cast<double>(e.n);
    return s;
  };
  for (size_t j = 0; j < m; ++j) e.always.push_back(tally("always " + models[j], [j](size_t) { return j; }));
  e.router = tally("router", [&](size_t i) { return chosen[i]; });
  e.oracle = tally("oracle", [&](size_t i) {
    size_t best = 0;
    for (size_t j = 1; j < m; ++j) {
      const double q = quality[i * m + j], qb = quality[i * m + best];
      if (q > qb || (q == qb && cost[i * m + j] < cost[i * m + best])) best = j;
    }
    return best;
  });
  const TierStrategy& reference = e.always[strongest];
  for (TierStrategy* s : {&e.router, &e.oracle}) {
    s->savings = reference.cost > 0 ? 1.0 - s->cost / reference.cost : 0.0;
    s->quality_drop = reference.quality != 0 ? (reference.quality - s->quality) / std::fabs(reference.quality) : 0.0;
  }
  for (TierStrategy& s : e.always) {
    s.savings = reference.cost > 0 ? 1.0 - s.cost / reference.cost : 0.0;
    s.quality_drop = reference.quality != 0 ? (reference.quality - s.quality) / std::fabs(reference.quality) : 0.0;
  }
  return e;
}

}  // namespace costroute
