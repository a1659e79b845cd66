// calibrate(): the threshold to deploy for a target, and an out-of-bag
// bootstrap of how surely it beats the random mixture.
#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "costroute/eval.h"
#include "costroute/internal/status_macros.h"
#include "eval/random.h"

namespace costroute {
namespace {

// The router's curve point that best meets the target: the cheapest within
// the drop, or the best quality within the share or cost budget.
const CurvePoint& choose(const Evaluation& e, const CalibrationTarget& target) {
  const std::vector<CurvePoint>& curve = e.router.curve;
  if (target.kind == CalibrationTarget::Kind::kMaxQualityDrop) {
    return cheapest_within_drop(curve, e.quality_large, target.value);  // as eval's savings_at_max_drop
  }
  // A share of strong calls or a cost: the same rule on a different measure.
  const bool by_share = target.kind == CalibrationTarget::Kind::kStrongShare;
  const double budget = by_share ? target.value : target.value * e.cost_large;
  auto spent = [by_share](const CurvePoint& p) { return by_share ? p.strong_share : p.cost; };
  const CurvePoint* best = &curve.front();  // always strong
  auto within = [&](const CurvePoint& p) { return spent(p) <= budget + 1e-12; };
  for (const CurvePoint& p : curve) {
    if (!within(p)) continue;
    // Within budget: the best quality, and the least spent among equals.
    if (!within(*best) || p.quality > best->quality || (p.quality == best->quality && spent(p) < spent(*best))) {
      best = &p;
    }
  }
  return *best;
}

// The share of strong calls at which the random mixture reaches `quality`
// (mean qualities: qs always small, ql always strong).
double random_share(double quality, double qs, double ql) {
  return ql > qs ? std::clamp((quality - qs) / (ql - qs), 0.0, 1.0) : 0.0;
}

// How much less than the random mixture at the same quality the router's
// point `p` costs, as a share of always-strong's cost `cl` (cs: always
// small's). The random cost is written from `cl` down, so that share 1
// costs exactly `cl`.
double advantage_over_random(const CurvePoint& p, double qs, double ql, double cs, double cl) {
  if (!(cl > 0)) return 0.0;
  const double random_cost = cl - (1.0 - random_share(p.quality, qs, ql)) * (cl - cs);
  return (random_cost - p.cost) / cl;
}

// An advantage this small is rounding, not a router that beats random.
constexpr double kAdvantageTolerance = 1e-9;

}  // namespace

absl::StatusOr<Calibration> calibrate(std::span<const Outcome> outcomes, const CalibrateOptions& options) {
  const CalibrationTarget& target = options.target;
  if (!(target.value >= 0.0 && target.value <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("target.value: expected a number in [0, 1] (the drop, the share or the cost), got ",
                     target.value));
  }
  if (options.resamples < kMinCalibrationResamples) {
    return absl::InvalidArgumentError(
        absl::StrCat("resamples: expected at least ", kMinCalibrationResamples, ", got ", options.resamples));
  }
  if (outcomes.empty()) return absl::InvalidArgumentError("no outcomes to calibrate on");
  // The threshold deployed is a p_small_ok, and every number below is a
  // sum or a mean: a score outside [0, 1] or a value that is not finite
  // would make the threshold or the intervals meaningless.
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const Outcome& o = outcomes[i];
    if (!(o.p_small_ok >= 0.0 && o.p_small_ok <= 1.0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("outcomes[", i, "].p_small_ok: expected a number in [0, 1], got ", o.p_small_ok));
    }
    for (const auto& [field, value] : {std::pair{"quality_small", o.quality_small}, std::pair{"quality_large", o.quality_large},
                                       std::pair{"cost_small", o.cost_small}, std::pair{"cost_large", o.cost_large}}) {
      if (!std::isfinite(value)) {
        return absl::InvalidArgumentError(absl::StrCat("outcomes[", i, "].", field, ": not a finite number"));
      }
    }
  }

  const size_t n = outcomes.size();
  COSTROUTE_RETURN_IF_ERROR(internal::check_groups(options.groups, n));

  Calibration c;
  const double drop = target.kind == CalibrationTarget::Kind::kMaxQualityDrop ? target.value : 0.03;
  c.evaluation = evaluate(outcomes, {.max_quality_drop = drop});
  const Evaluation& e = c.evaluation;
  c.chosen = choose(e, target);
  if (target.kind == CalibrationTarget::Kind::kMaxCost && c.chosen.cost > target.value * e.cost_large + 1e-12) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "a maximum cost of %g of always-strong's is less than any threshold costs: sending everything to the small "
        "model costs %.6g of always-strong's",
        target.value, e.cost_large > 0 ? e.cost_small / e.cost_large : 0.0));
  }
  // +inf: nothing to the small model; deploy a threshold just above the top score.
  const std::vector<CurvePoint>& curve = e.router.curve;
  c.threshold = c.chosen.threshold == std::numeric_limits<double>::infinity()
                    ? std::nextafter(curve.size() > 1 ? curve[1].threshold : 1.0, 2.0)
                    : c.chosen.threshold;
  c.savings = e.cost_large > 0 ? 1.0 - c.chosen.cost / e.cost_large : 0.0;
  c.quality_drop = e.quality_large != 0 ? (e.quality_large - c.chosen.quality) / std::fabs(e.quality_large) : 0.0;
  c.random_strong_share = random_share(c.chosen.quality, e.quality_small, e.quality_large);
  c.advantage_over_random =
      advantage_over_random(c.chosen, e.quality_small, e.quality_large, e.cost_small, e.cost_large);

  // Out of bag: choose on the resample, measure on the prompts it left out.
  // Each draw is a prompt, bringing all its outcomes (the bootstrap of
  // eval's APGR draws the same way).
  const std::vector<size_t> prompts = internal::first_outcomes(options.groups, n);
  std::vector<uint32_t> counts(n);
  std::vector<double> savings, drops, advantages;
  uint64_t state = options.seed ^ 0xC0575A17E5ULL;
  std::vector<Outcome> in_bag, out_of_bag;
  size_t wins = 0;
  for (int b = 0; b < options.resamples; ++b) {
    internal::draw_resample(state, prompts, options.groups, counts);
    in_bag.clear();
    out_of_bag.clear();
    for (size_t i = 0; i < n; ++i) {
      if (counts[i] == 0) out_of_bag.push_back(outcomes[i]);
      in_bag.insert(in_bag.end(), counts[i], outcomes[i]);
    }
    if (out_of_bag.empty()) continue;
    const Evaluation inside = evaluate(in_bag, {.max_quality_drop = drop});
    const CurvePoint& pick = choose(inside, target);
    const double t = pick.threshold;  // +inf: nothing to the small model
    double qs = 0, ql = 0, cs = 0, cl = 0;
    for (const Outcome& o : out_of_bag) qs += o.quality_small, ql += o.quality_large, cs += o.cost_small, cl += o.cost_large;
    const double n = static_cast<double>(out_of_bag.size());
    qs /= n, ql /= n;
    const CurvePoint p = point_at_threshold(out_of_bag, t);
    savings.push_back(cl > 0 ? 1.0 - p.cost / cl : 0.0);
    drops.push_back(ql != 0 ? (ql - p.quality) / std::fabs(ql) : 0.0);
    const double advantage = advantage_over_random(p, qs, ql, cs, cl);
    advantages.push_back(advantage);
    // Only a real advantage counts: rounding alone must not make a win.
    if (advantage > kAdvantageTolerance) ++wins;
  }
  if (advantages.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("too few prompts to bootstrap (", prompts.size(),
                                                   "): no resample drawn left a prompt out to measure on"));
  }
  c.resamples = static_cast<int>(advantages.size());
  c.better_than_random_share = static_cast<double>(wins) / static_cast<double>(advantages.size());
  c.reliable = c.better_than_random_share >= kReliableShare;
  c.savings_ci = internal::percentile_interval(std::move(savings));
  c.quality_drop_ci = internal::percentile_interval(std::move(drops));
  c.advantage_ci = internal::percentile_interval(std::move(advantages));
  return c;
}

}  // namespace costroute
