// costroute/policy.h: small policies that each decide or abstain, composed
// into a tree.
//
// A Policy looks at one Request (query, context, signals, catalog) and
// either decides, naming a model and a short reason, or abstains and lets
// the next one speak. The building blocks:
//
//   Rule                 a condition and a target ("premium users get the
//                        strongest model")
//   FirstOf              children in order; the first that decides wins
//   ClassifierThreshold  p(small model is sufficient) >= t: the cheap model
//   TierTable            complexity and token count to a tier
//   Blend                a weighted sum of signals, cut into tiers
//   StickySession        a follow-up stays on its session's model
//   ShiftTier            moves a decision up or down tiers (off-peak hours)
//   WithinBudget         keeps the estimated cost within the user's budget
//   Fixed                always decides (the default at the end)
//
// A policy that needs the learned classifier's p(small model is sufficient)
// calls request.p_small_ok(): the request is scored on the first call, so
// that one decided before any policy asks is never scored.
//
// Policies are immutable and thread-safe; a composite owns its children.
// decide() never allocates, except into the trace in explain mode.
// docs/config.md gives each one's config syntax.
//
// **Example**:
//
//   std::vector<costroute::PolicyPtr> chain;
//   costroute::Condition premium;
//   premium.user_tiers = {"premium"};
//   chain.push_back(std::make_unique<costroute::Rule>(
//       "premium_tier", premium, costroute::Target::strongest()));
//   chain.push_back(std::make_unique<costroute::ClassifierThreshold>(
//       "classifier", 0.75, costroute::Target::cheapest()));
//   chain.push_back(std::make_unique<costroute::Fixed>("default", costroute::Target::at_tier(1)));
//   costroute::PolicyPtr root =
//       std::make_unique<costroute::FirstOf>("policies", std::move(chain));
#ifndef COSTROUTE_POLICY_H_
#define COSTROUTE_POLICY_H_

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "costroute/catalog.h"
#include "costroute/context.h"
#include "costroute/internal/status_macros.h"
#include "costroute/signals.h"

namespace costroute {

// Scores a request with a learned classifier, for Request::p_small_ok().
// The Router gives each request one that applies its model.
class Scorer {
 public:
  virtual ~Scorer() = default;
  // p(small model is sufficient), in [0, 1]; NaN without a model.
  virtual double p_small_ok() const = 0;
};

// Everything a policy may look at for one request.
struct Request {
  std::string_view query;
  const Context& context;
  const Signals& signals;
  const Catalog& catalog;
  int64_t expected_output_tokens = 0;  // for cost estimates
  int utc_offset_minutes = 0;          // the router's time zone
  // The hour of day, once known: set by the first hour() call, or by a
  // caller that knows it. -1: not yet known.
  mutable int hour_of_day = -1;
  // The classifier that p_small_ok() asks; null: no model.
  const Scorer* scorer = nullptr;
  // The classifier's p(small model is sufficient), once known: set by the
  // first p_small_ok() call, or by a caller that knows it.
  mutable std::optional<double> known_p_small_ok = std::nullopt;

  // Hour of day, 0-23, in the router's time zone, of Context::request_time_ms
  // or else of the system clock. Computed on first use, so that a request no
  // policy asks about the time costs no clock read.
  int hour() const {
    if (hour_of_day < 0) {
      const int64_t ms = context.request_time_ms
                             ? *context.request_time_ms
                             : std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
      // Floored, so that times before 1970 get their hour too.
      const int64_t minutes_per_day = 24 * 60;
      int64_t minutes = ms / 60000 - (ms % 60000 < 0 ? 1 : 0) + utc_offset_minutes;
      minutes = (minutes % minutes_per_day + minutes_per_day) % minutes_per_day;
      hour_of_day = static_cast<int>(minutes / 60);
    }
    return hour_of_day;
  }

  // The classifier's p(small model is sufficient), NaN without a model.
  // Scored on first use, so that a request that a rule decides before any
  // policy asks costs no scoring (about 40% of route()'s work).
  double p_small_ok() const {
    if (!known_p_small_ok) {
      known_p_small_ok = scorer ? scorer->p_small_ok() : std::numeric_limits<double>::quiet_NaN();
    }
    return *known_p_small_ok;
  }

  double cost_usd(ModelIndex m) const {
    return catalog[m].cost_usd(signals.tokens, expected_output_tokens);
  }
};

// A short reason such as "rule:premium_tier" or "classifier:p=0.82>=0.75",
// kept inline so that deciding never allocates. Text past the capacity is
// cut, at a UTF-8 character's start, and nothing is appended after a cut
// (a reason ends where it was cut, not in a later fragment). 159 bytes hold
// a policy and a model name of 40 characters each with a budget's suffix
// and the router's filter suffix.
class Reason {
 public:
  static constexpr size_t kCapacity = 159;

  Reason& append(std::string_view text) {
    if (cut_) return *this;
    size_t n = text.size();
    if (n > kCapacity - size_) {
      n = kCapacity - size_;
      while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;  // not inside a character
      cut_ = true;
    }
    std::copy_n(text.data(), n, buffer_.data() + size_);
    size_ += static_cast<uint8_t>(n);
    return *this;
  }
  // Appends `value` with two decimals ("0.82"); from 1e9 on in scientific
  // notation ("1.50e+12").
  Reason& append(double value) {
    // Scores and thresholds are small: print them without std::to_chars,
    // which costs more than the rest of deciding, with the same digits.
    if (value > -1e9 && value < 1e9) {
      // value * 100 rounded to the nearest integer, ties to even, as the
      // exact decimal value would be: a product that lands on a half may
      // have been rounded there, and fma recovers the exact side.
      const double product = value * 100.0;
      double rounded = std::nearbyint(product);
      if (product - std::floor(product) == 0.5) {
        const double error = std::fma(value, 100.0, -product);  // product + error == value * 100
        if (error != 0.0) rounded = std::floor(product) + (error > 0.0 ? 1.0 : 0.0);
      }
      const int64_t hundredths = static_cast<int64_t>(rounded);
      uint64_t magnitude = static_cast<uint64_t>(hundredths < 0 ? -hundredths : hundredths);
      // Right to left into one buffer, appended at once.
      char digits[16];
      char* const end = digits + sizeof(digits);
      char* begin = end;
      for (int k = 0; k < 2; ++k, magnitude /= 10) *--begin = static_cast<char>('0' + magnitude % 10);
      *--begin = '.';
      begin = digits_before(begin, magnitude);
      if (hundredths < 0 || (hundredths == 0 && std::signbit(value))) *--begin = '-';
      return append(std::string_view(begin, static_cast<size_t>(end - begin)));
    }
    // Fixed notation of a value this large could need 300 digits.
    char digits[32];
    const auto result = std::to_chars(digits, digits + sizeof(digits), value,
                                      std::chars_format::scientific, 2);
    return append(std::string_view(digits, static_cast<size_t>(result.ptr - digits)));
  }
  // Appends `value` in the fewest digits that read back as it ("0.8279254921").
  Reason& append_exact(double value) {
    char digits[32];
    const auto result = std::to_chars(digits, digits + sizeof(digits), value);
    return append(std::string_view(digits, static_cast<size_t>(result.ptr - digits)));
  }
  Reason& append(int64_t value) {
    char digits[24];
    char* const end = digits + sizeof(digits);
    char* begin =
        digits_before(end, value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value));
    if (value < 0) *--begin = '-';
    return append(std::string_view(begin, static_cast<size_t>(end - begin)));
  }
  Reason& append(int value) { return append(static_cast<int64_t>(value)); }
  void clear() {
    size_ = 0;
    cut_ = false;
  }
  std::string_view view() const { return std::string_view(buffer_.data(), size_); }
  bool empty() const { return size_ == 0; }

 private:
  // Writes the decimal digits of `magnitude` to end the text at `end`,
  // right to left; returns where they begin.
  static char* digits_before(char* end, uint64_t magnitude) {
    do {
      *--end = static_cast<char>('0' + magnitude % 10);
      magnitude /= 10;
    } while (magnitude != 0);
    return end;
  }

  std::array<char, kCapacity> buffer_{};
  uint8_t size_ = 0;
  bool cut_ = false;
};

// A policy's answer: a model of the catalog, which policy chose it, and why.
struct Verdict {
  ModelIndex model = kNoModel;
  std::string_view policy = {};  // the deciding policy's name, owned by the policy
  Reason reason = {};
};

// One policy asked, in explain mode.
struct TraceStep {
  std::string policy = {};
  std::string outcome = {};  // "abstained: ..." or "decided: MODEL (reason)"
};
using Trace = std::vector<TraceStep>;

// Where a policy sends a request.
struct Target {
  enum class Kind : uint8_t { kStrongest, kCheapest, kTier, kModel, kRequested, kCapable };
  Kind kind = Kind::kStrongest;
  int tier = 0;           // kTier; the lowest tier for kCapable
  std::string model = {};  // kModel
  uint32_t needs = 0;     // kCapable: capabilities required

  static Target strongest() { return {Kind::kStrongest}; }
  static Target cheapest() { return {Kind::kCheapest}; }
  static Target at_tier(int t) { return {Kind::kTier, t}; }
  static Target named(std::string name) { return {Kind::kModel, 0, std::move(name)}; }
  static Target requested() { return {Kind::kRequested}; }
  // The cheapest model at tier >= min_tier that has `needs`.
  static Target capable(uint32_t needs, int min_tier = 0) {
    return {Kind::kCapable, min_tier, {}, needs};
  }

  // The model this target names for `request`, or kNoModel (an unknown
  // requested model, no capable model).
  ModelIndex resolve(const Request& request) const {
    const Catalog& c = request.catalog;
    switch (kind) {
      case Kind::kStrongest: return c.strongest();
      case Kind::kCheapest: return c.cheapest();
      case Kind::kTier: return c.first_of_tier(tier);
      case Kind::kModel: return c.find(model);
      case Kind::kRequested:
        return request.context.requested_model.empty() ? kNoModel
                                                       : c.find(request.context.requested_model);
      case Kind::kCapable:
        return c.cheapest_capable(tier, needs | request.signals.needs, request.signals.tokens);
    }
    return kNoModel;
  }

  // Whether `catalog` has what this target names: the model, the tier, a
  // model with the capabilities. InvalidArgument "model:nope: no model of
  // that name in the catalog", else OK.
  absl::Status check(const Catalog& catalog) const {
    const bool ok = kind == Kind::kModel     ? catalog.find(model) != kNoModel
                    : kind == Kind::kTier    ? tier >= 0 && tier <= catalog.max_tier()
                    : kind == Kind::kCapable ? tier >= 0 && catalog.cheapest_capable(tier, needs, 0) != kNoModel
                                             : true;
    if (ok) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(
        describe(), kind == Kind::kModel  ? ": no model of that name in the catalog"
                    : kind == Kind::kTier ? absl::StrCat(": the catalog's tiers are 0 to ", catalog.max_tier())
                                          : ": no model of the catalog at that tier or above has it"));
  }

  // As written in a config: "strongest", "tier:1", "model:NAME",
  // "capable:code@1", ...
  std::string describe() const {
    switch (kind) {
      case Kind::kStrongest: return "strongest";
      case Kind::kCheapest: return "cheapest";
      case Kind::kTier: return absl::StrCat("tier:", tier);
      case Kind::kModel: return absl::StrCat("model:", model);
      case Kind::kRequested: return "requested";
      case Kind::kCapable:
        return absl::StrCat("capable:", capability_names(needs), tier > 0 ? absl::StrCat("@", tier) : "");
    }
    return "";
  }
};

// What a Rule requires of a request. Every field set must hold; an empty
// list or unset optional accepts anything.
struct Condition {
  std::vector<std::string> user_tiers = {};  // Context::user_tier is one of these
  uint32_t task_types = 0;  // bit (1 << TaskType): the task is one of these
  uint32_t domains = 0;     // bit (1 << Domain)
  uint32_t scripts = 0;     // bit (1 << Script)
  std::optional<bool> has_question = {};
  std::optional<bool> has_code = {};
  std::optional<bool> has_image = {};
  std::optional<bool> has_audio = {};
  std::optional<bool> follow_up = {};
  std::optional<bool> requested_model = {};  // the context names a model
  std::optional<int64_t> min_tokens = {};
  std::optional<int64_t> max_tokens = {};
  std::optional<int> min_reasoning_hits = {};
  std::optional<double> min_complexity = {};
  std::optional<double> max_complexity = {};
  // Hours of the day [from, to) in the router's time zone; wraps midnight
  // when from > to (22 to 6 is the night).
  std::optional<std::pair<int, int>> hours = {};
  std::vector<std::pair<std::string, std::string>> tags = {};  // Context::tag(key) == value

  // InvalidArgument for a condition no request could meet or that means
  // nothing: hours outside [0, 23] and [0, 24] or an empty window, token
  // or complexity ranges that are empty, reversed or outside their scales.
  absl::Status check() const {
    if (hours && !(hours->first >= 0 && hours->first <= 23 && hours->second >= 0 && hours->second <= 24 &&
                   hours->first != hours->second)) {
      return absl::InvalidArgumentError("hours: expected [from, to] with from in 0-23, to in 0-24, from != to");
    }
    if ((min_tokens && *min_tokens < 0) || (max_tokens && *max_tokens < 0) ||
        (min_tokens && max_tokens && *min_tokens > *max_tokens)) {
      return absl::InvalidArgumentError("min_tokens, max_tokens: expected 0 <= min_tokens <= max_tokens");
    }
    if (min_reasoning_hits && *min_reasoning_hits < 0) {
      return absl::InvalidArgumentError("min_reasoning_hits: expected a number >= 0");
    }
    for (const std::optional<double>& c : {min_complexity, max_complexity}) {
      if (c && !(*c >= 0.0 && *c <= 1.0)) return absl::InvalidArgumentError("complexity: expected numbers in [0, 1]");
    }
    if (min_complexity && max_complexity && *min_complexity > *max_complexity) {
      return absl::InvalidArgumentError("min_complexity: greater than max_complexity");
    }
    return absl::OkStatus();
  }

  static uint32_t bit(TaskType t) { return 1u << static_cast<int>(t); }
  static uint32_t bit(Domain d) { return 1u << static_cast<int>(d); }
  static uint32_t bit(Script s) { return 1u << static_cast<int>(s); }

  bool matches(const Request& r) const {
    const Signals& s = r.signals;
    const Context& c = r.context;
    if (!user_tiers.empty() &&
        std::find(user_tiers.begin(), user_tiers.end(), c.user_tier) == user_tiers.end()) {
      return false;
    }
    if (task_types != 0 && !(task_types & bit(s.task_type))) return false;
    if (domains != 0 && !(domains & bit(s.domain))) return false;
    if (scripts != 0 && !(scripts & bit(s.script))) return false;
    if (has_question && *has_question != s.has_question) return false;
    if (has_code && *has_code != s.has_code) return false;
    if (has_image && *has_image != (c.images > 0)) return false;
    if (has_audio && *has_audio != (c.audio_clips > 0)) return false;
    if (follow_up && *follow_up != s.is_follow_up) return false;
    if (requested_model && *requested_model == c.requested_model.empty()) return false;
    if (min_tokens && s.tokens < *min_tokens) return false;
    if (max_tokens && s.tokens > *max_tokens) return false;
    if (min_reasoning_hits && s.reasoning_hits < *min_reasoning_hits) return false;
    if (min_complexity && s.complexity < *min_complexity) return false;
    if (max_complexity && s.complexity > *max_complexity) return false;
    if (hours) {
      const auto [from, to] = *hours;
      const int hour = r.hour();
      const bool inside = from <= to ? (hour >= from && hour < to) : (hour >= from || hour < to);
      if (!inside) return false;
    }
    for (const auto& [key, value] : tags) {
      if (c.tag(key) != value) return false;
    }
    return true;
  }
};

class Policy {
 public:
  virtual ~Policy() = default;

  // Decides (returns true and fills `verdict`) or abstains (returns false).
  // With a trace (explain mode), appends what it said.
  virtual bool decide(const Request& request, Verdict& verdict, Trace* trace) const = 0;

  // OK if this policy (with its children) can decide over `catalog`, the
  // router's; else InvalidArgument naming it ("policy \"b\": 2 thresholds
  // need 3 targets, got 2", "policy \"f\": model:x: no model of that name
  // in the catalog"). Router::create refuses a tree that fails, so that
  // route() never meets one. A host's own policy overrides this when it
  // has settings to check (Target::check and Condition::check help).
  virtual absl::Status check([[maybe_unused]] const Catalog& catalog) const { return absl::OkStatus(); }

  const std::string& name() const { return name_; }

  // Asks `policy`; true if it decided for a model of the catalog. A host's
  // policy that says it decided without naming one counts as abstaining:
  // the router and the built-in policies that wrap another ask this way,
  // and so should a host's policy that wraps another.
  static bool ask(const Policy& policy, const Request& request, Verdict& verdict, Trace* trace) {
    return policy.decide(request, verdict, trace) && in_catalog(request, verdict);
  }

 protected:
  explicit Policy(std::string name) : name_(std::move(name)) {}

  // Marks this policy as the one that decided, and records the decision in
  // explain mode.
  bool decided(const Request& request, Verdict& verdict, Trace* trace) const {
    verdict.policy = name_;
    if (trace) {
      const std::string_view model =
          in_catalog(request, verdict) ? std::string_view(request.catalog[verdict.model].name) : "no model of the catalog";
      trace->push_back({name_, absl::StrCat("decided: ", internal::to_absl(model), " (",
                                            internal::to_absl(verdict.reason.view()), ")")});
    }
    return true;
  }
  static bool in_catalog(const Request& request, const Verdict& verdict) {
    return verdict.model >= 0 && static_cast<size_t>(verdict.model) < request.catalog.size();
  }
  // InvalidArgument "NAME: what", for check().
  absl::Status invalid(std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("policy \"", name_, "\": ", internal::to_absl(what)));
  }
  // check() of an inner policy: present and valid.
  absl::Status check_inner(const std::unique_ptr<const Policy>& inner, const Catalog& catalog) const {
    return inner ? inner->check(catalog) : invalid("its inner policy is null");
  }
  // A Target's or a Condition's check, as this policy's: "policy \"NAME\": ...".
  absl::Status invalid_if(const absl::Status& status) const {
    return status.ok() ? status : invalid(internal::to_std(status.message()));
  }
  // A wrapper that lets its inner decision stand, in explain mode says why
  // ("kept: within budget"), so the trace shows every policy asked.
  bool kept(std::string_view why, Trace* trace) const {
    if (trace) trace->push_back({name_, absl::StrCat("kept: ", internal::to_absl(why))});
    return true;
  }
  bool abstained(std::string_view why, Trace* trace) const {
    if (trace) trace->push_back({name_, absl::StrCat("abstained: ", internal::to_absl(why))});
    return false;
  }
  // As above, for a reason that costs work to write: `why()` runs only in
  // explain mode, so that routing stays free of heap allocation.
  template <typename Why>
    requires std::invocable<Why>
  bool abstained(Why why, Trace* trace) const {
    return trace ? abstained(std::string_view(why()), trace) : false;
  }

 private:
  std::string name_;
};

using PolicyPtr = std::unique_ptr<const Policy>;

// A condition and a target: decides for "target" when the condition holds.
class Rule final : public Policy {
 public:
  Rule(std::string name, Condition when, Target target)
      : Policy(std::move(name)), when_(std::move(when)), target_(std::move(target)) {}

  bool decide(const Request& request, Verdict& verdict, Trace* trace) const override {
    if (!when_.matches(request)) return abstained("condition not met", trace);
    const ModelIndex m = target_.resolve(request);
    if (m == kNoModel) return abstained([&] { return absl::StrCat("no model for ", target_.describe()); }, trace);
    verdict.model = m;
    verdict.reason.clear();
    verdict.reason.append("rule:").append(name());
    return decided(request, verdict, trace);
  }

  absl::Status check(const Catalog& catalog) const override {
    if (absl::Status s = invalid_if(when_.check()); !s.ok()) return s;
    return invalid_if(target_.check(catalog));
  }

  const Condition& condition() const { return when_; }
  const Target& target() const { return target_; }

 private:
  Condition when_;
  Target target_;
};

// Asks its children in order; the first that decides wins.
class FirstOf final : public Policy {
 public:
  FirstOf(std::string name, std::vector<PolicyPtr> children)
      : Policy(std::move(name)), children_(std::move(children)) {}

  bool decide(const Request& request, Verdict& verdict, Trace* trace) const override {
    for (const PolicyPtr& child : children_) {
      if (ask(*child, request, verdict, trace)) return true;
    }
    return false;
  }

  absl::Status check(const Catalog& catalog) const override {
    for (size_t i = 0; i < children_.size(); ++i) {
      if (!children_[i]) return invalid(absl::StrCat("child ", i, " is null"));
      if (absl::Status s = children_[i]->check(catalog); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  const std::vector<PolicyPtr>& children() const { return children_; }

 private:
  std::vector<PolicyPtr> children_;
};

// The learned classifier: p(small model is sufficient) >= threshold sends
// the request to `cheap`; below it, to `strong` if given, else abstains.
// Abstains without a model.
class ClassifierThreshold final : public Policy {
 public:
  ClassifierThreshold(std::string name, double threshold, Target cheap,
                      std::optional<Target> strong = std::nullopt)
      : Policy(std::move(name)), threshold_(threshold), cheap_(std::move(cheap)),
        strong_(std::move(strong)) {
    // The threshold's part of the reason, written once.
    above_.append(">=").append(threshold_);
    below_.append("<").append(threshold_);
  }

  bool decide(const Request& request, Verdict& verdict, Trace* trace) const override {
    const double p = request.p_small_ok();
    if (std::isnan(p)) return abstained("no classifier model loaded", trace);
    const bool small_ok = p >= threshold_;
    if (!small_ok && !strong_) {
      return abstained([&] { return absl::StrCat("p=", p, " < ", threshold_); }, trace);
    }
    const ModelIndex m = (small_ok ? cheap_ : *strong_).resolve(request);
    if (m == kNoModel) return abstained("target has no model", trace);
    verdict.model = m;
    verdict.reason.clear();
    verdict.reason.append(name()).append(":p=");
    // A score just below a threshold of more digits (one calibrate wrote)
    // may round to the same two decimals: "p=0.83<0.83" would contradict
    // itself, so both are written in full.
    if (!small_ok && std::nearbyint(p * 100.0) == std::nearbyint(threshold_ * 100.0)) {
      verdict.reason.append_exact(p).append("<").append_exact(threshold_);
    } else {
      verdict.reason.append(p).append((small_ok ? above_ : below_).view());
    }
    return decided(request, verdict, trace);
  }

  absl::Status check(const Catalog& catalog) const override {
    if (!(threshold_ >= 0.0 && threshold_ <= 1.0)) return invalid("threshold: expected a number in [0, 1]");
    if (absl::Status s = invalid_if(cheap_.check(catalog)); !s.ok()) return s;
    return strong_ ? invalid_if(strong_->check(catalog)) : absl::OkStatus();
  }

  double threshold() const { return threshold_; }

 private:
  double threshold_;
  Target cheap_;
  std::optional<Target> strong_;
  Reason above_, below_;  // ">=0.75", "<0.75"
};

// Complexity and token count to a tier: the first row whose limits the
// request is within decides ("haiku" for short simple requests, "sonnet"
// for middling ones, "opus" for the rest).
class TierTable final : public Policy {
 public:
  struct Row {
    double max_complexity = 1.0;
    int64_t max_tokens = INT64_MAX;
    Target target = {};
  };

  TierTable(std::string name, std::vector<Row> rows)
      : Policy(std::move(name)), rows_(std::move(rows)) {}

  bool decide(const Request& request, Verdict& verdict, Trace* trace) const override {
    const Signals& s = request.signals;
    for (size_t i = 0; i < rows_.size(); ++i) {
      const Row& row = rows_[i];
      if (s.complexity > row.max_complexity || s.tokens > row.max_tokens) continue;
      const ModelIndex m = row.target.resolve(request);
      if (m == kNoModel) continue;
      verdict.model = m;
      verdict.reason.clear();
      verdict.reason.append(name()).append(":row=").append(static_cast<int>(i))
          .append(",complexity=").append(s.complexity).append(",tokens=").append(s.tokens);
      return decided(request, verdict, trace);
    }
    return abstained("no row matched", trace);
  }

  absl::Status check(const Catalog& catalog) const override {
    for (size_t i = 0; i < rows_.size(); ++i) {
      if (std::isnan(rows_[i].max_complexity)) return invalid(absl::StrCat("rows[", i, "].max_complexity: NaN"));
      if (absl::Status s = invalid_if(rows_[i].target.check(catalog)); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  std::vector<Row> rows_;
};

// A weighted sum of signals, each in [0, 1], cut into bands: a score below
// thresholds[0] goes to targets[0], below thresholds[1] to targets[1], ...
// Signals: "complexity", "p_large" (1 - p_small_ok; needs a model),
// "reasoning" (hits / 3), "length" (as in complexity), "code", "domain_risk",
// "task_difficulty".
class Blend final : public Policy {
 public:
  enum class Signal : uint8_t { kComplexity, kPLarge, kReasoning, kLength, kCode, kDomainRisk, kTaskDifficulty };
  struct Weight {
    Signal signal;
    double weight;
  };

  static bool parse_signal(std::string_view name, Signal& out) {
    static constexpr std::pair<std::string_view, Signal> kNames[] = {
        {"complexity", Signal::kComplexity}, {"p_large", Signal::kPLarge},
        {"reasoning", Signal::kReasoning},   {"length", Signal::kLength},
        {"code", Signal::kCode},             {"domain_risk", Signal::kDomainRisk},
        {"task_difficulty", Signal::kTaskDifficulty}};
    for (const auto& [n, s] : kNames) {
      if (n == name) return out = s, true;
    }
    return false;
  }

  Blend(std::string name, std::vector<Weight> weights, std::vector<double> thresholds,
        std::vector<Target> targets)
      : Policy(std::move(name)), weights_(std::move(weights)),
        thresholds_(std::move(thresholds)), targets_(std::move(targets)) {}

  bool decide(const Request& request, Verdict& verdict, Trace* trace) const override {
    const Signals& s = request.signals;
    double score = 0.0;
    for (const Weight& w : weights_) {
      double value = 0.0;
      switch (w.signal) {
        case Signal::kComplexity: value = s.complexity; break;
        case Signal::kPLarge: {
          const double p = request.p_small_ok();
          if (std::isnan(p)) return abstained("p_large needs a classifier model", trace);
          value = 1.0 - p;
          break;
        }
        case Signal::kReasoning: value = std::min(1.0, s.reasoning_hits / 3.0); break;
        case Signal::kLength:
          value = std::min(1.0, std::log2(1.0 + static_cast<double>(s.tokens)) / std::log2(2001.0));
          break;
        case Signal::kCode: value = s.has_code ? 1.0 : 0.0; break;
        case Signal::kDomainRisk: value = SignalExtractor::kDomainRisk[static_cast<int>(s.domain)]; break;
        case Signal::kTaskDifficulty:
          value = SignalExtractor::kTaskDifficulty[static_cast<int>(s.task_type)];
          break;
      }
      score += w.weight * value;
    }
    size_t band = 0;
    while (band < thresholds_.size() && score >= thresholds_[band]) ++band;
    const ModelIndex m = targets_[band].resolve(request);
    if (m == kNoModel) return abstained("target has no model", trace);
    verdict.model = m;
    verdict.reason.clear();
    verdict.reason.append(name()).append(":score=").append(score).append(",band=").append(static_cast<int>(band));
    return decided(request, verdict, trace);
  }

  absl::Status check(const Catalog& catalog) const override {
    if (targets_.size() != thresholds_.size() + 1) {
      return invalid(absl::StrCat(thresholds_.size(), " thresholds need ", thresholds_.size() + 1,
                                  " targets, got ", targets_.size()));
    }
    for (size_t i = 0; i < thresholds_.size(); ++i) {
      if (!std::isfinite(thresholds_[i]) || (i > 0 && !(thresholds_[i] > thresholds_[i - 1]))) {
        return invalid("thresholds: expected finite numbers in ascending order");
      }
    }
    for (const Weight& w : weights_) {
      if (!std::isfinite(w.weight)) return invalid("weights: expected finite numbers");
    }
    for (const Target& t : targets_) {
      if (absl::Status s = invalid_if(t.check(catalog)); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  std::vector<Weight> weights_;
  std::vector<double> thresholds_;  // ascending; targets_.size() == thresholds_.size() + 1
  std::vector<Target> targets_;
};

// Conversations: a follow-up ("now fix the bug", "shorter please") stays on
// the model its session is using (Context::session_model), unless the
// inner policy sends it to a higher tier: a turn that clearly needs a
// stronger model gets one. Everything else is the inner policy's decision.
class StickySession final : public Policy {
 public:
  StickySession(std::string name, PolicyPtr inner)
      : Policy(std::move(name)), inner_(std::move(inner)) {}

  bool decide(const Request& request, Verdict& verdict, Trace* trace) const override {
    const bool decided_inside = ask(*inner_, request, verdict, trace);
    if (!request.signals.is_follow_up || request.context.session_model.empty()) {
      return decided_inside ? kept("not a follow-up in a session", trace)
                            : abstained("its policy abstained, and this is not a follow-up in a session", trace);
    }
    const ModelIndex current = request.catalog.find(request.context.session_model);
    if (current == kNoModel) {
      return decided_inside ? kept("the session's model is not in the catalog", trace)
                            : abstained("its policy abstained, and the session's model is not in the catalog", trace);
    }
    if (decided_inside && request.catalog[verdict.model].tier > request.catalog[current].tier) {
      verdict.reason.append(";").append(name()).append(":upgraded");
      return decided(request, verdict, trace);
    }
    verdict.model = current;
    verdict.reason.clear();
    verdict.reason.append(name()).append(":follow_up_stays");
    return decided(request, verdict, trace);
  }

  absl::Status check(const Catalog& catalog) const override { return check_inner(inner_, catalog); }

 private:
  PolicyPtr inner_;
};

// When the condition holds, moves the inner decision `by` of the catalog's
// tiers (negative: cheaper; with tiers {0, 5}, one step down from 5 is 0),
// to that tier's cheapest model, for instance one tier down for free users
// at night. At the lowest or highest tier the decision stands.
class ShiftTier final : public Policy {
 public:
  ShiftTier(std::string name, Condition when, int by, PolicyPtr inner)
      : Policy(std::move(name)), when_(std::move(when)), by_(by), inner_(std::move(inner)) {}

  bool decide(const Request& request, Verdict& verdict, Trace* trace) const override {
    if (!ask(*inner_, request, verdict, trace)) return abstained("its policy abstained: no tier to shift", trace);
    if (!when_.matches(request)) return kept("condition not met", trace);
    const Catalog& c = request.catalog;
    const int from = c[verdict.model].tier;
    const int tier = c.tier_steps_from(from, by_);
    if (tier == from) return kept("no tier beyond the decision's", trace);
    const ModelIndex shifted = c.first_of_tier(tier);
    verdict.model = shifted;
    verdict.reason.append(";").append(name()).append(":").append(by_);
    return decided(request, verdict, trace);
  }

  absl::Status check(const Catalog& catalog) const override {
    if (by_ < -Catalog::kMaxTier || by_ > Catalog::kMaxTier) {
      return invalid(absl::StrCat("by: expected a whole number in [", -Catalog::kMaxTier, ", ", Catalog::kMaxTier, "]"));
    }
    if (absl::Status s = invalid_if(when_.check()); !s.ok()) return s;
    return check_inner(inner_, catalog);
  }

 private:
  Condition when_;
  int by_;
  PolicyPtr inner_;
};

// Keeps the inner decision's estimated cost within
// Context::remaining_budget_usd: when it is over, takes the strongest model
// no stronger than the decision whose estimate fits; else (prices need not
// rise with the tier) the model with the lowest estimate, which fits if any
// does. Among the models that can take the request only, and priced as the
// router will serve it (Catalog::capable_near), so that its filter cannot
// undo the budget.
class WithinBudget final : public Policy {
 public:
  WithinBudget(std::string name, PolicyPtr inner)
      : Policy(std::move(name)), inner_(std::move(inner)) {}

  bool decide(const Request& request, Verdict& verdict, Trace* trace) const override {
    if (!ask(*inner_, request, verdict, trace)) {
      return abstained("its policy abstained: no decision to hold to the budget", trace);
    }
    const std::optional<double>& budget = request.context.remaining_budget_usd;
    if (!budget || std::isnan(*budget)) return kept("no budget", trace);
    // Priced as the router will serve it: a model that cannot take the
    // request (a capability, the context window) is replaced by the nearest
    // that can, so that one's estimate must fit, and only models that can
    // take it are candidates (all of them when none can).
    const Catalog& catalog = request.catalog;
    const uint32_t needs = request.signals.needs;
    const int64_t tokens = request.signals.tokens;
    const ModelIndex near = catalog.capable_near(verdict.model, needs, tokens);
    const ModelIndex served = near == kNoModel ? verdict.model : near;
    if (request.cost_usd(served) <= *budget) return kept("within budget", trace);
    auto candidate = [&](ModelIndex m) { return near == kNoModel || catalog[m].can_take(needs, tokens); };
    // The strongest candidate no stronger than the served model whose
    // estimate fits; else (prices need not rise with the tier) the
    // candidate with the lowest estimate, which fits if any does.
    ModelIndex fit = kNoModel;
    for (ModelIndex m = served; m >= 0 && fit == kNoModel; --m) {
      if (candidate(m) && request.cost_usd(m) <= *budget) fit = m;
    }
    if (fit == kNoModel) {
      for (ModelIndex m = 0; m < static_cast<ModelIndex>(catalog.size()); ++m) {
        if (candidate(m) && (fit == kNoModel || request.cost_usd(m) < request.cost_usd(fit))) fit = m;
      }
    }
    verdict.model = fit;
    verdict.reason.append(";").append(name()).append(":over_budget");
    return decided(request, verdict, trace);
  }

  absl::Status check(const Catalog& catalog) const override { return check_inner(inner_, catalog); }

 private:
  PolicyPtr inner_;
};

// Always decides for its target: the last word of a chain.
class Fixed final : public Policy {
 public:
  Fixed(std::string name, Target target)
      : Policy(std::move(name)), target_(std::move(target)), described_(target_.describe()) {}

  bool decide(const Request& request, Verdict& verdict, Trace* trace) const override {
    const ModelIndex m = target_.resolve(request);
    if (m == kNoModel) return abstained([&] { return absl::StrCat("no model for ", described_); }, trace);
    verdict.model = m;
    verdict.reason.clear();
    verdict.reason.append(name()).append(":").append(described_);
    return decided(request, verdict, trace);
  }

  absl::Status check(const Catalog& catalog) const override { return invalid_if(target_.check(catalog)); }

 private:
  Target target_;
  std::string described_;
};

}  // namespace costroute

#endif  // COSTROUTE_POLICY_H_
