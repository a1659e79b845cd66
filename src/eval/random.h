// Seeded randomness for cross-validation folds and bootstrap resamples:
// SplitMix64 gives the same numbers on every platform and standard
// library, so that a seed reproduces a run anywhere. Not installed.
#ifndef COSTROUTE_SRC_EVAL_RANDOM_H_
#define COSTROUTE_SRC_EVAL_RANDOM_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "costroute/eval.h"

namespace costroute::internal {

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Draws a bootstrap resample of counts.size() examples with replacement:
// counts[i] becomes how often example i was drawn.
inline void draw_resample(uint64_t& state, std::span<uint32_t> counts) {
  const size_t n = counts.size();
  std::fill(counts.begin(), counts.end(), 0u);
  for (size_t i = 0; i < n; ++i) ++counts[static_cast<size_t>(splitmix64(state) % n)];
}

// The central 95% of bootstrap values (costroute::Interval). `values` must
// not be empty.
inline Interval percentile_interval(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  auto at = [&](double q) { return values[static_cast<size_t>(q * static_cast<double>(values.size() - 1) + 0.5)]; };
  return {at(0.025), at(0.975)};
}

}  // namespace costroute::internal

#endif  // COSTROUTE_SRC_EVAL_RANDOM_H_
