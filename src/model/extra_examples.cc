// Extra examples from other prompt sets, joined to a training set.
#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "costroute/train.h"

namespace costroute {
namespace {

// OK if `values` is empty or holds one finite value per query; else the
// error, naming `where` and `field`.
absl::Status check_values(const std::string& where, const char* field, const std::vector<double>& values, size_t n) {
  if (!values.empty() && values.size() != n) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, field, ": expected ", n, " values (one per query) or none, got ", values.size()));
  }
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      return absl::InvalidArgumentError(absl::StrCat(where, field, "[", i, "]: not a finite number"));
    }
  }
  return absl::OkStatus();
}

// The shape `set` must have to join `data`, and its values' ranges.
absl::Status check_set(const std::string& where, const TrainingSet& set, const TrainingSet& data, double weight) {
  const size_t n = set.queries.size();
  if (set.labels.size() != n) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, "labels: expected ", n, " values (one per query), got ", set.labels.size()));
  }
  if (absl::Status s = check_values(where, "weights", set.weights, n); !s.ok()) return s;
  for (size_t i = 0; i < set.weights.size(); ++i) {
    if (!(set.weights[i] >= 0.0 && set.weights[i] <= kMaxExampleWeight)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "weights[", i, "]: expected a number in [0, 1e12], got ", set.weights[i]));
    }
    if (set.weights[i] * weight > kMaxExampleWeight) {
      return absl::InvalidArgumentError(absl::StrCat(where, "weights[", i, "]: ", set.weights[i], " times extra.weight ",
                                                     weight, " is above 1e12"));
    }
  }
  if (!set.source.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, "source: expected none (with_extra numbers the sets)"));
  }
  if (absl::Status s = check_values(where, "quality_gap", set.quality_gap, n); !s.ok()) return s;
  if (absl::Status s = check_values(where, "cheap_quality", set.cheap_quality, n); !s.ok()) return s;
  for (const auto& [field, in_data, in_set] : {std::tuple{"quality_gap", data.quality_gap.empty(), set.quality_gap.empty()},
                                               std::tuple{"cheap_quality", data.cheap_quality.empty(), set.cheap_quality.empty()}}) {
    if (!in_data && in_set && n > 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, field, ": none, but the data has them (a target learned from them needs them in every example)"));
    }
  }
  const size_t width = data.context.empty() ? 0 : data.context.front().size();
  if (width > 0 && set.context.size() != n) {
    return absl::InvalidArgumentError(absl::StrCat(where, "context: expected ", n,
                                                   " rows (one per query) of the data's ", width, " fields, got ",
                                                   set.context.size()));
  }
  for (size_t i = 0; i < set.context.size(); ++i) {
    if (set.context[i].size() != width) {
      return absl::InvalidArgumentError(absl::StrCat(where, "context[", i, "]: expected ", width,
                                                     " values (the data's context fields), got ", set.context[i].size()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TrainingSet> with_extra(const TrainingSet& data, const ExtraExamples& extra) {
  if (extra.sets.empty()) return data;
  if (!(extra.weight > 0.0 && extra.weight <= kMaxExtraWeight)) {
    return absl::InvalidArgumentError(
        absl::StrCat("extra.weight: expected a number in (0, 1e12], got ", extra.weight));
  }
  const size_t n = data.queries.size();
  // The data's own shape, as far as joining relies on it.
  if (data.labels.size() != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("labels: expected ", n, " values (one per query), got ", data.labels.size()));
  }
  if (absl::Status s = check_values("", "weights", data.weights, n); !s.ok()) return s;
  if (absl::Status s = check_values("", "quality_gap", data.quality_gap, n); !s.ok()) return s;
  if (absl::Status s = check_values("", "cheap_quality", data.cheap_quality, n); !s.ok()) return s;
  if (!data.source.empty() && data.source.size() != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("source: expected ", n, " values (one per query) or none, got ", data.source.size()));
  }
  if (!data.context.empty() && data.context.size() != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("context: expected ", n, " rows (one per query) or none, got ", data.context.size()));
  }
  for (size_t k = 0; k < extra.sets.size(); ++k) {
    if (absl::Status s = check_set(absl::StrCat("extra.sets[", k, "]."), extra.sets[k], data, extra.weight); !s.ok()) return s;
  }

  // The data's scale: the range of its cheaper models' quality and its
  // largest |gap|.
  double lo = 0.0, hi = 0.0, largest_gap = 0.0;
  if (!data.cheap_quality.empty()) {
    const auto [min, max] = std::minmax_element(data.cheap_quality.begin(), data.cheap_quality.end());
    lo = *min;
    hi = *max;
  }
  for (double g : data.quality_gap) largest_gap = std::max(largest_gap, std::fabs(g));

  TrainingSet out = data;
  if (out.weights.empty()) out.weights.assign(n, 1.0);  // the extra examples weigh otherwise
  if (out.source.empty()) out.source.assign(n, 0);
  uint32_t source = n == 0 ? 0 : *std::max_element(out.source.begin(), out.source.end());
  for (const TrainingSet& set : extra.sets) {
    const size_t m = set.queries.size();
    out.source.insert(out.source.end(), m, ++source);
    out.queries.insert(out.queries.end(), set.queries.begin(), set.queries.end());
    out.labels.insert(out.labels.end(), set.labels.begin(), set.labels.end());
    for (size_t i = 0; i < m; ++i) out.weights.push_back(extra.weight * (set.weights.empty() ? 1.0 : set.weights[i]));
    if (!data.context.empty()) {
      // A set may leave out rows of no values.
      if (set.context.empty()) out.context.resize(out.context.size() + m);
      out.context.insert(out.context.end(), set.context.begin(), set.context.end());
    }
    if (!data.cheap_quality.empty()) {
      const auto [min, max] = std::minmax_element(set.cheap_quality.begin(), set.cheap_quality.end());
      for (double q : set.cheap_quality) {
        // Halved terms and a weighted mean: values up to the largest double do not overflow.
        const double share = *max > *min ? (q / 2 - *min / 2) / (*max / 2 - *min / 2) : 0.5;
        out.cheap_quality.push_back(lo * (1.0 - share) + hi * share);
      }
    }
    if (!data.quality_gap.empty()) {
      double set_largest = 0.0;
      for (double g : set.quality_gap) set_largest = std::max(set_largest, std::fabs(g));
      for (double g : set.quality_gap) {
        out.quality_gap.push_back(set_largest > 0.0 ? g / set_largest * largest_gap : g);
      }
    }
  }
  return out;
}

}  // namespace costroute
