// The seeded generator behind cross-validation folds and bootstrap
// resamples (SplitMix64): the same numbers on every platform and standard
// library, so that a seed reproduces a run anywhere. Not installed.
#ifndef COSTROUTE_SRC_EVAL_RANDOM_H_
#define COSTROUTE_SRC_EVAL_RANDOM_H_

#include <cstdint>

namespace costroute::internal {

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace costroute::internal

#endif  // COSTROUTE_SRC_EVAL_RANDOM_H_
