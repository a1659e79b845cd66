// Cost-quality curves and RouteLLM's metrics; include/costroute/eval.h has
// the definitions.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "costroute/eval.h"
#include "costroute/internal/status_macros.h"
#include "eval/random.h"
#include "eval/ranking.h"

namespace costroute {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

struct Totals {
  size_t n = 0;
  double quality_small = 0.0;  // sums
  double quality_large = 0.0;
  double cost_small = 0.0;
  double cost_large = 0.0;
};

Totals totals_of(std::span<const Outcome> outcomes) {
  Totals t;
  t.n = outcomes.size();
  for (const Outcome& o : outcomes) {
    t.quality_small += o.quality_small;
    t.quality_large += o.quality_large;
    t.cost_small += o.cost_small;
    t.cost_large += o.cost_large;
  }
  return t;
}

// NaN unless the strong model is the better one on average: PGR measures
// how much of its lead a router recovers.
double pgr(double quality, double q_small, double q_large) {
  if (!(q_large > q_small)) return std::numeric_limits<double>::quiet_NaN();
  return (quality - q_small) / (q_large - q_small);
}

// Walks prompts from the strong to the small model in `order`; a point is
// recorded after each group (ends[k] is one past the group's last index).
std::vector<CurvePoint> sweep(std::span<const Outcome> outcomes, const std::vector<size_t>& order,
                              const std::vector<size_t>& ends, const std::vector<double>& thresholds,
                              const Totals& t) {
  std::vector<CurvePoint> curve;
  const double n = static_cast<double>(t.n);
  double cost = t.cost_large;
  double quality_sum = t.quality_large;
  curve.push_back({kInfinity, 1.0, cost, quality_sum / n, 0.0});
  size_t i = 0;
  for (size_t g = 0; g < ends.size(); ++g) {
    for (; i < ends[g]; ++i) {
      const Outcome& o = outcomes[order[i]];
      cost += o.cost_small - o.cost_large;
      quality_sum += o.quality_small - o.quality_large;
    }
    curve.push_back({thresholds[g], static_cast<double>(t.n - ends[g]) / n, cost, quality_sum / n, 0.0});
  }
  const double qs = t.quality_small / n, ql = t.quality_large / n;
  for (CurvePoint& p : curve) p.pgr = pgr(p.quality, qs, ql);
  return curve;
}

// Savings, APGR and CPT of a curve whose points run from all-strong to
// all-small.
void fill_metrics(const Totals& t, double max_drop, RoutingMetrics& m) {
  const double ql = t.quality_large / static_cast<double>(t.n);
  const CurvePoint* best = &cheapest_within_drop(m.curve, ql, max_drop);
  m.savings_at_max_drop = t.cost_large > 0 ? 1.0 - best->cost / t.cost_large : 0.0;
  m.quality_drop = ql != 0.0 ? (ql - best->quality) / std::fabs(ql) : 0.0;
  m.strong_share = best->strong_share;
  if (!std::isnan(best->threshold)) {
    // "Nothing to the small model" as a usable threshold: just above the
    // highest score.
    m.threshold = best->threshold != kInfinity || m.curve.size() < 2
                      ? best->threshold
                      : std::nextafter(m.curve[1].threshold, kInfinity);
  }
  // Area under PGR against the strong share, from 0 to 1.
  m.apgr = 0.0;
  for (size_t k = 0; k + 1 < m.curve.size(); ++k) {
    const CurvePoint& a = m.curve[k];
    const CurvePoint& b = m.curve[k + 1];
    m.apgr += (a.strong_share - b.strong_share) * (a.pgr + b.pgr) / 2.0;
  }
  auto cpt = [&](double x) {
    double least = 1.0;
    bool defined = false;
    for (const CurvePoint& p : m.curve) {
      if (std::isnan(p.pgr)) continue;
      defined = true;
      if (p.pgr >= x - 1e-12) least = std::min(least, p.strong_share);
    }
    return defined ? least : std::numeric_limits<double>::quiet_NaN();
  };
  m.cpt50 = cpt(0.5);
  m.cpt80 = cpt(0.8);
}

// roc_auc() over the ranking evaluate() has already made.
double auc_of(std::span<const Outcome> outcomes, const internal::Ranking& ranking) {
  // Runs of equal p from the lowest up (NaN lowest), so that the ascending
  // rank of a run [begin, end) of the ranking is n - end + 1 .. n - begin.
  const size_t n = outcomes.size();
  double rank_sum = 0.0;  // ranks (1-based, ties averaged) of the positives
  size_t positives = 0;
  for (size_t run = ranking.ends.size(); run-- > 0;) {
    const size_t begin = run == 0 ? 0 : ranking.ends[run - 1];
    const size_t end = ranking.ends[run];
    const double average_rank = (static_cast<double>(n - end + 1) + static_cast<double>(n - begin)) / 2.0;
    for (size_t k = begin; k < end; ++k) {
      if (outcomes[ranking.order[k]].small_ok()) {
        rank_sum += average_rank;
        ++positives;
      }
    }
  }
  const size_t negatives = outcomes.size() - positives;
  if (positives == 0 || negatives == 0) return 0.5;
  const double p = static_cast<double>(positives);
  return (rank_sum - p * (p + 1.0) / 2.0) / (p * static_cast<double>(negatives));
}

// The order in which the oracle moves prompts to the small model. Each
// prompt loses `loss` = q_large - q_small of quality and saves `saving` =
// c_large - c_small of cost by moving; the order is, by group:
//   0. no loss and no extra cost: most quality gained first, then most saved;
//   1. a loss for a saving: least loss per unit saved first (the greedy
//      order of a knapsack: with equal costs, least loss first, and the
//      cheapest way to each quality; when costs differ by prompt a cheaper
//      mix can exist between two of its points);
//   2. a gain in quality for an extra cost: most gain per unit of cost first;
//   3. a loss and no saving: least loss first, then most saved.
// Ties keep the input order.
std::vector<size_t> oracle_order(std::span<const Outcome> outcomes) {
  struct Key {
    int group;
    double first, second;
  };
  std::vector<Key> keys(outcomes.size());
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const double loss = outcomes[i].quality_large - outcomes[i].quality_small;
    const double saving = outcomes[i].cost_large - outcomes[i].cost_small;
    if (loss <= 0 && saving >= 0) {
      keys[i] = {0, loss, -saving};
    } else if (saving > 0) {
      keys[i] = {1, loss / saving, -saving};
    } else if (loss < 0) {
      keys[i] = {2, -(loss / saving), loss};
    } else {
      keys[i] = {3, loss, -saving};
    }
  }
  std::vector<size_t> order(outcomes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const Key& x = keys[a];
    const Key& y = keys[b];
    if (x.group != y.group) return x.group < y.group;
    if (x.first != y.first) return x.first < y.first;
    return x.second < y.second;
  });
  return order;
}

}  // namespace

double roc_auc(std::span<const Outcome> outcomes) { return auc_of(outcomes, internal::rank_by_p(outcomes)); }

absl::StatusOr<ApgrBootstrap> bootstrap_apgr(std::span<const Outcome> outcomes, int resamples, uint64_t seed,
                                             std::span<const size_t> groups) {
  COSTROUTE_RETURN_IF_ERROR(internal::check_groups(groups, outcomes.size()));
  ApgrBootstrap result;
  if (outcomes.empty()) return result;
  const internal::Ranking ranking = internal::rank_by_p(outcomes);
  const std::vector<size_t> prompts = internal::first_outcomes(groups, outcomes.size());
  std::vector<uint32_t> counts(outcomes.size());
  std::vector<CurvePoint> curve;
  std::vector<double> apgr;
  size_t above = 0;
  uint64_t state = seed ^ 0xA96B007ULL;
  for (int r = 0; r < resamples; ++r) {
    internal::draw_resample(state, prompts, groups, counts);
    // The drop only sets the savings, which are not used here.
    const internal::ResampledMetrics m = internal::resampled_metrics(outcomes, ranking, counts, 0.0, curve);
    if (!m.gap) continue;
    apgr.push_back(m.apgr);
    // A router that ties every prompt lies on random's line: rounding
    // alone must not put it above.
    if (m.apgr > 0.5 + 1e-9) ++above;
  }
  if (apgr.empty()) return result;
  const Interval interval = internal::percentile_interval(apgr);
  result.resamples = static_cast<int>(apgr.size());
  result.low = interval.low;
  result.high = interval.high;
  result.above_random = static_cast<double>(above) / static_cast<double>(apgr.size());
  return result;
}

CurvePoint point_at_threshold(std::span<const Outcome> outcomes, double threshold) {
  const Totals t = totals_of(outcomes);
  CurvePoint p{threshold, 0.0, 0.0, 0.0, 0.0};
  if (t.n == 0) return p;
  size_t strong = 0;
  double quality = 0.0;
  for (const Outcome& o : outcomes) {
    const bool small = o.p_small_ok >= threshold;
    p.cost += small ? o.cost_small : o.cost_large;
    quality += small ? o.quality_small : o.quality_large;
    strong += small ? 0 : 1;
  }
  const double n = static_cast<double>(t.n);
  p.quality = quality / n;
  p.strong_share = static_cast<double>(strong) / n;
  p.pgr = pgr(p.quality, t.quality_small / n, t.quality_large / n);
  return p;
}

const CurvePoint& cheapest_within_drop(std::span<const CurvePoint> curve, double quality_large, double max_drop) {
  const double target = quality_large - max_drop * std::fabs(quality_large);
  const CurvePoint* best = nullptr;
  for (const CurvePoint& p : curve) {
    if (!(p.quality >= target - 1e-12 * std::fabs(target))) continue;  // NaN never qualifies
    if (!best || p.cost < best->cost || (p.cost == best->cost && p.quality > best->quality)) best = &p;
  }
  // Only for a negative drop: nothing qualifies, not even always-strong.
  return best ? *best : curve.front();
}

Evaluation evaluate(std::span<const Outcome> outcomes, const EvalOptions& options) {
  Evaluation e;
  e.max_quality_drop = options.max_quality_drop;
  const Totals t = totals_of(outcomes);
  e.n = t.n;
  if (t.n == 0) return e;
  const double n = static_cast<double>(t.n);
  e.quality_small = t.quality_small / n;
  e.quality_large = t.quality_large / n;
  e.cost_small = t.cost_small;
  e.cost_large = t.cost_large;

  // The router: highest p first; prompts with equal p move together.
  const internal::Ranking ranking = internal::rank_by_p(outcomes);
  e.router.curve = sweep(outcomes, ranking.order, ranking.ends, ranking.thresholds, t);
  fill_metrics(t, options.max_quality_drop, e.router);
  e.router.auc = auc_of(outcomes, ranking);

  // The oracle: prompts move to the small model in order of quality lost
  // per unit of cost saved, one at a time (oracle_order()).
  const std::vector<size_t> order = oracle_order(outcomes);
  std::vector<size_t> ends;
  std::vector<double> thresholds;
  for (size_t i = 1; i <= t.n; ++i) {
    ends.push_back(i);
    thresholds.push_back(std::numeric_limits<double>::quiet_NaN());
  }
  e.oracle.curve = sweep(outcomes, order, ends, thresholds, t);
  fill_metrics(t, options.max_quality_drop, e.oracle);
  e.oracle.threshold.reset();
  bool both = false;
  for (const Outcome& o : outcomes) both = both || o.small_ok() != outcomes[0].small_ok();
  e.oracle.auc = both ? 1.0 : 0.5;

  // Random: the straight line between always-strong and always-small.
  const double qs = e.quality_small, ql = e.quality_large;
  e.random.curve = {{kInfinity, 1.0, t.cost_large, ql, pgr(ql, qs, ql)},
                    {std::numeric_limits<double>::quiet_NaN(), 0.0, t.cost_small, qs, pgr(qs, qs, ql)}};
  // The cheapest share of strong calls within the allowed drop: the least
  // one, unless strong calls are the cheaper ones (then always strong).
  double share = 0.0;
  if (t.cost_small >= t.cost_large) {
    share = 1.0;
  } else if (ql > qs) {
    share = std::clamp(1.0 - options.max_quality_drop * std::fabs(ql) / (ql - qs), 0.0, 1.0);
  }
  const double cost = t.cost_small + share * (t.cost_large - t.cost_small);
  const double quality = qs + share * (ql - qs);
  e.random.savings_at_max_drop = t.cost_large > 0 ? 1.0 - cost / t.cost_large : 0.0;
  e.random.quality_drop = ql != 0.0 ? (ql - quality) / std::fabs(ql) : 0.0;
  e.random.strong_share = share;
  const bool defined = ql > qs;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  e.random.apgr = defined ? 0.5 : nan;
  e.random.cpt50 = defined ? 0.5 : nan;
  e.random.cpt80 = defined ? 0.8 : nan;
  e.random.auc = 0.5;
  return e;
}

}  // namespace costroute
