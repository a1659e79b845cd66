// The router's order of examples, shared by evaluate() (the threshold
// sweep) and the bootstraps of tune and bootstrap_apgr(), which sweep many
// resamples over one ranking instead of sorting each; and the rank
// correlation by which tune compares settings that learn a graded target.
// Not installed.
#ifndef COSTROUTE_SRC_EVAL_RANKING_H_
#define COSTROUTE_SRC_EVAL_RANKING_H_

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <vector>

#include "costroute/eval.h"

namespace costroute::internal {

// A score as the router ranks it: NaN lowest, tied with -inf (it goes to
// the strong model).
inline double rank_key(double p) { return std::isnan(p) ? -std::numeric_limits<double>::infinity() : p; }

// Examples by p_small_ok, highest first; equal p keep their input order,
// and NaN ranks lowest, tied with -inf (it goes to the strong model).
// Examples with equal p move to the small model together: run k is
// order[ends[k-1], ends[k]), with threshold thresholds[k] (-inf for NaN).
struct Ranking {
  std::vector<size_t> order;
  std::vector<size_t> ends;
  std::vector<double> thresholds;
};

inline Ranking rank_by_p(std::span<const Outcome> outcomes) {
  Ranking r;
  auto p_of = [&](size_t i) { return rank_key(outcomes[i].p_small_ok); };
  r.order.resize(outcomes.size());
  std::iota(r.order.begin(), r.order.end(), size_t{0});
  std::stable_sort(r.order.begin(), r.order.end(), [&](size_t a, size_t b) { return p_of(a) > p_of(b); });
  for (size_t i = 0; i < r.order.size();) {
    size_t j = i;
    while (j < r.order.size() && p_of(r.order[j]) == p_of(r.order[i])) ++j;
    r.ends.push_back(j);
    r.thresholds.push_back(p_of(r.order[i]));
    i = j;
  }
  return r;
}

// The router's savings at a maximum drop, and its APGR, on one bootstrap
// resample.
struct ResampledMetrics {
  double savings = 0.0;
  double apgr = 0.0;  // 0 when APGR is undefined
  bool gap = false;   // the strong model's mean quality is above the small one's: APGR is defined
};

// The router's metrics on a bootstrap resample that holds example i
// counts[i] times: what evaluate() finds on that resample, up to rounding
// (the sums run in another order), from one sweep over the full set's
// ranking instead of copying and sorting every resample. `ranking` is
// rank_by_p(outcomes), `counts` has one entry per outcome, and `curve` is a
// buffer. Examples not drawn never reach the sums (not even as 0 * inf).
inline ResampledMetrics resampled_metrics(std::span<const Outcome> outcomes, const Ranking& ranking,
                                          std::span<const uint32_t> counts, double max_drop,
                                          std::vector<CurvePoint>& curve) {
  double cost = 0.0, quality_sum = 0.0;
  size_t n = 0;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    if (counts[i] == 0) continue;
    cost += counts[i] * outcomes[i].cost_large;
    quality_sum += counts[i] * outcomes[i].quality_large;
    n += counts[i];
  }
  if (n == 0) return {};
  const double cost_large = cost, quality_large = quality_sum / static_cast<double>(n);
  size_t strong = n;
  curve.clear();
  curve.push_back({std::numeric_limits<double>::infinity(), 1.0, cost, quality_large, 0.0});
  size_t at = 0;
  for (size_t k = 0; k < ranking.ends.size(); ++k) {
    for (; at < ranking.ends[k]; ++at) {
      const uint32_t c = counts[ranking.order[at]];
      if (c == 0) continue;
      const Outcome& o = outcomes[ranking.order[at]];
      cost += c * (o.cost_small - o.cost_large);
      quality_sum += c * (o.quality_small - o.quality_large);
      strong -= c;
    }
    curve.push_back({ranking.thresholds[k], static_cast<double>(strong) / static_cast<double>(n), cost,
                     quality_sum / static_cast<double>(n), 0.0});
  }
  ResampledMetrics m;
  if (cost_large > 0.0) {  // as evaluate(): no cost, no savings
    m.savings = 1.0 - cheapest_within_drop(curve, quality_large, max_drop).cost / cost_large;
  }
  // APGR: trapezoids of PGR = (quality - q_small) / (q_large - q_small)
  // over the strong share; the last point is always-small.
  const double quality_small = curve.back().quality;
  if (quality_large > quality_small) {
    m.gap = true;
    double area = 0.0;
    for (size_t k = 0; k + 1 < curve.size(); ++k) {
      area += (curve[k].strong_share - curve[k + 1].strong_share) *
              ((curve[k].quality + curve[k + 1].quality) / 2 - quality_small);
    }
    m.apgr = area / (quality_large - quality_small);
  }
  return m;
}

// Each value's rank from 0 (the least) to n - 1, tied values at their mean
// rank; NaN ranks lowest, tied with -inf, as rank_key orders scores.
inline std::vector<double> mid_ranks(std::span<const double> values) {
  auto key = [&](size_t i) { return rank_key(values[i]); };
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key(a) < key(b); });
  std::vector<double> ranks(values.size());
  for (size_t lo = 0; lo < order.size();) {
    size_t hi = lo + 1;
    while (hi < order.size() && key(order[hi]) == key(order[lo])) ++hi;
    for (size_t k = lo; k < hi; ++k) ranks[order[k]] = static_cast<double>(lo + hi - 1) / 2.0;
    lo = hi;
  }
  return ranks;
}

// The correlation of x with y (Pearson's) over the examples, example i
// counted counts[i] times (once each when `counts` is empty); 0 where x or
// y does not vary over the examples counted. Given the mid_ranks of two
// sets of values and no counts, it is Spearman's rank correlation (ties at
// their mean rank, as scipy.stats.spearmanr). With a bootstrap resample's
// counts it keeps the full set's ranks, which is cheaper than ranking each
// resample again and close to it for a bootstrap's error.
inline double correlation(std::span<const double> x, std::span<const double> y, std::span<const uint32_t> counts) {
  auto count = [&](size_t i) { return counts.empty() ? 1.0 : static_cast<double>(counts[i]); };
  double n = 0.0, sum_x = 0.0, sum_y = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    n += count(i);
    sum_x += count(i) * x[i];
    sum_y += count(i) * y[i];
  }
  if (n == 0.0) return 0.0;
  const double mean_x = sum_x / n, mean_y = sum_y / n;
  double xy = 0.0, xx = 0.0, yy = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double dx = x[i] - mean_x, dy = y[i] - mean_y;
    xy += count(i) * dx * dy;
    xx += count(i) * dx * dx;
    yy += count(i) * dy * dy;
  }
  return xx > 0.0 && yy > 0.0 ? xy / std::sqrt(xx * yy) : 0.0;
}

}  // namespace costroute::internal

#endif  // COSTROUTE_SRC_EVAL_RANKING_H_
