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

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "costroute/eval.h"

namespace costroute::internal {

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Groups of outcomes that share a prompt, as CalibrateOptions::groups has
// them: groups[i] is the index of the first outcome with outcome i's
// prompt. Empty means every outcome is a prompt of its own. An error names
// the first entry that is not such an index.
inline absl::Status check_groups(std::span<const size_t> groups, size_t n) {
  if (groups.empty()) return absl::OkStatus();
  if (groups.size() != n) {
    return absl::InvalidArgumentError(absl::StrCat("groups: expected ", n, " (one per outcome), got ", groups.size()));
  }
  for (size_t i = 0; i < n; ++i) {
    const size_t g = groups[i];
    if (g > i || groups[g] != g) {
      return absl::InvalidArgumentError(
          absl::StrCat("groups[", i, "]: expected the index of the group's first outcome, got ", g));
    }
  }
  return absl::OkStatus();
}

// Each prompt's first outcome, in order: what a bootstrap draws. `groups`
// must have passed check_groups().
inline std::vector<size_t> first_outcomes(std::span<const size_t> groups, size_t n) {
  std::vector<size_t> prompts;
  for (size_t i = 0; i < n; ++i) {
    if (groups.empty() || groups[i] == i) prompts.push_back(i);
  }
  return prompts;
}

// Draws a bootstrap resample of the prompts, as many draws as there are,
// with replacement: counts[i] becomes how often outcome i's prompt was
// drawn, so that a prompt's copies come and go together. `prompts` is
// first_outcomes(groups, counts.size()). Without repeats (groups empty)
// this draws each outcome on its own.
inline void draw_resample(uint64_t& state, std::span<const size_t> prompts, std::span<const size_t> groups,
                          std::span<uint32_t> counts) {
  std::fill(counts.begin(), counts.end(), 0u);
  for (size_t k = 0; k < prompts.size(); ++k) ++counts[prompts[static_cast<size_t>(splitmix64(state) % prompts.size())]];
  // A copy takes its first outcome's count, which no copy overwrites.
  if (!groups.empty()) {
    for (size_t i = 0; i < counts.size(); ++i) counts[i] = counts[groups[i]];
  }
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
