// The router's order of examples: the threshold sweep and the AUC of
// evaluate() walk it. Not installed.
#ifndef COSTROUTE_SRC_EVAL_RANKING_H_
#define COSTROUTE_SRC_EVAL_RANKING_H_

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <span>
#include <vector>

#include "costroute/eval.h"

namespace costroute::internal {

// Examples by p_small_ok, highest first; equal p keep their input order,
// and NaN ranks lowest (it goes to the strong model). Examples with equal p
// move to the small model together: run k is order[ends[k-1], ends[k]),
// with threshold thresholds[k] (-inf for NaN).
struct Ranking {
  std::vector<size_t> order;
  std::vector<size_t> ends;
  std::vector<double> thresholds;
};

inline Ranking rank_by_p(std::span<const Outcome> outcomes) {
  Ranking r;
  auto p_of = [&](size_t i) {
    const double p = outcomes[i].p_small_ok;
    return std::isnan(p) ? -std::numeric_limits<double>::infinity() : p;
  };
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

}  // namespace costroute::internal

#endif  // COSTROUTE_SRC_EVAL_RANKING_H_
