// costroute/router.h: the router a host calls for every request.
//
// A Router holds a catalog of models, a policy tree and optionally the
// learned classifier. route(query, context) computes the request's signals
// once, asks the policy tree, makes sure the chosen model can take the
// request (capabilities, context window), and returns a Decision: the
// model, the fallbacks after it (the next tiers up that can take the
// request, within its budget if it has one), which policy decided and why,
// and the estimated cost.
//
// The classifier scores a request only when a policy asks for its
// p(small model is sufficient): a request that a rule decides first (a
// premium user, a medical question) skips the scoring, about 40% of the
// work. RouterOptions::always_score scores every request, for hosts that log
// the score of each one.
//
// Routers are immutable and thread-safe: share one as
// std::shared_ptr<const Router> and call route() from any number of
// threads. To change the configuration while serving, publish a new Router
// through a RouterHandle; readers never see a half-built router.
//
// Header-only (costroute::core); load a router from a JSON config with
// costroute/io.h: load_router().
//
// **Example**:
//
//   absl::StatusOr<std::shared_ptr<const costroute::Router>> router =
//       costroute::load_router("models/default.config.json");
//   if (!router.ok()) return router.status();
//   costroute::Decision d = (*router)->route("What is 2+2?", {.user_tier = "free"});
//   backend.call(d.model->name, ...);  // the host makes the call
#ifndef COSTROUTE_ROUTER_H_
#define COSTROUTE_ROUTER_H_

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "costroute/catalog.h"
#include "costroute/context.h"
#include "costroute/model.h"
#include "costroute/policy.h"
#include "costroute/signals.h"

namespace costroute {

struct RouterOptions {
  // Answer length assumed for cost estimates when the context gives none.
  int64_t default_output_tokens = 256;
  // The router's time zone for hour-of-day conditions, as an offset from UTC.
  int utc_offset_minutes = 0;
  ComplexityWeights complexity;
  // Estimates input tokens; the byte heuristic of SignalExtractor if null.
  std::shared_ptr<const TokenCounter> token_counter = {};
  // Score every request with the classifier, even those that a policy
  // decides without asking for the score (Decision::p_small_ok is then
  // always set when the router has a model).
  bool always_score = false;
};

// Most fallbacks a Decision lists.
inline constexpr int kMaxFallbacks = 8;

// Where to send one request. Pointers and views point into the Router that
// made the decision: valid while that Router lives.
struct Decision {
  const ModelInfo* model = nullptr;  // never null from Router::route
  int tier = 0;
  std::string_view policy = {};  // the policy that decided ("premium_tier", ...)
  Reason reason = {};  // "rule:premium_tier", "classifier:p=0.82>=0.75", ...
  double estimated_cost_usd = 0.0;
  std::string_view arm = {};  // experiment arm; empty (experiments are not built yet)
  // What the request needs that no model in the catalog offers: capability
  // bits no model has, and kLongContext when the query is longer than the
  // context window of every model with the rest (it then goes to the one
  // with the longest window; the host must shorten it). Otherwise the
  // request goes to the model chosen, which cannot fully take it.
  uint32_t unmet_needs = 0;
  Signals signals = {};
  // The classifier's p(small model is sufficient) if the request was scored:
  // a policy asked for it, or RouterOptions::always_score. NaN otherwise, and
  // without a model.
  double p_small_ok = std::numeric_limits<double>::quiet_NaN();
  Trace trace = {};  // with Context::explain: every policy asked, in order, then the router's own steps

  std::span<const ModelInfo* const> fallbacks() const {
    return std::span<const ModelInfo* const>(fallback_models.data(), fallback_count);
  }

  std::array<const ModelInfo*, kMaxFallbacks> fallback_models{};
  size_t fallback_count = 0;
};

// Buffers reused by route(); one per thread, and one per nesting level if
// a policy routes from inside route(). No heap allocation once they have
// grown to the longest query routed and to the longest query the
// classifier scored (a query a rule decides is not scored).
struct RouteScratch {
  TextScratch text;
};

class Router {
 public:
  // Builds a router. `policy` is the root of the policy tree; `model` is
  // the learned classifier, optional (ClassifierThreshold abstains without
  // it). InvalidArgument for an empty catalog (one moved from), a missing
  // policy or one that fails its check() against the catalog (a null
  // child, a threshold out of range, a target naming no model of the
  // catalog, a condition no request could meet, ...), a negative option, a
  // UTC offset outside +-1440 minutes, or a complexity weight outside [0, 1].
  [[nodiscard]] static absl::StatusOr<std::shared_ptr<const Router>> create(
      Catalog catalog, PolicyPtr policy, std::shared_ptr<const Model> model = nullptr,
      RouterOptions options = {}) {
    if (catalog.size() == 0) return absl::InvalidArgumentError("catalog: empty");
    if (!policy) return absl::InvalidArgumentError("policy: the router needs a policy tree");
    if (absl::Status checked = policy->check(catalog); !checked.ok()) return checked;
    const ComplexityWeights& w = options.complexity;
    for (double weight : {w.length, w.reasoning, w.task, w.domain, w.code}) {
      if (!(weight >= 0.0 && weight <= 1.0)) {
        return absl::InvalidArgumentError("complexity: every weight must be in [0, 1]");
      }
    }
    if (options.default_output_tokens < 0) {
      return absl::InvalidArgumentError("default_output_tokens: must be >= 0");
    }
    if (options.utc_offset_minutes < -1440 || options.utc_offset_minutes > 1440) {
      return absl::InvalidArgumentError("utc_offset_minutes: expected a whole number in [-1440, 1440]");
    }
    return std::shared_ptr<const Router>(
        new Router(std::move(catalog), std::move(policy), std::move(model), std::move(options)));
  }

  // Routes one request. Never fails: any bytes, invalid UTF-8 included, get
  // a decision. Thread-safe; uses a scratch owned by the calling thread. A
  // host policy may route with another router from inside this call (a
  // shadow or tenant router): the nested call gets a scratch of its own,
  // allocated for it, so the outer request's text is not overwritten.
  Decision route(std::string_view query, const Context& context = {}) const {
    thread_local RouteScratch scratch;
    thread_local bool in_use = false;
    if (in_use) {
      RouteScratch nested;
      return route(query, context, nested);
    }
    struct Release {
      bool& flag;
      ~Release() { flag = false; }
    } release{in_use};
    in_use = true;
    return route(query, context, scratch);
  }

  // As above, with the caller's scratch (one per thread).
  Decision route(std::string_view query, const Context& context, RouteScratch& scratch) const {
    Decision d;
    // Tokenize once: the signals read the lowercased tokens, and so does
    // the classifier's vectorizer when its tokens are the same.
    if (model_ && model_->vectorizer().leaves_word_tokens()) {
      model_->vectorizer().prepare_tokens(query, scratch.text);
    } else {
      SignalExtractor::prepare(query, scratch.text);
    }
    d.signals = extractor_.extract(query, context, scratch.text);

    const ClassifierScorer scorer(*this, query, context, d.signals, scratch.text);
    const Request request{query, context, d.signals, catalog_,
                          std::max<int64_t>(0, context.expected_output_tokens.value_or(options_.default_output_tokens)),
                          options_.utc_offset_minutes, -1, model_ ? &scorer : nullptr};
    if (options_.always_score) request.p_small_ok();
    Verdict verdict;
    if (!Policy::ask(*policy_, request, verdict, context.explain ? &d.trace : nullptr)) {
      // Nothing decided: quality first.
      verdict.model = catalog_.strongest();
      verdict.policy = "router";
      verdict.reason.clear();
      verdict.reason.append("router:no_policy_decided");
      if (context.explain) {
        d.trace.push_back({"router", absl::StrCat("decided: ", catalog_[verdict.model].name,
                                                  " (no policy decided: the strongest model)")});
      }
    }
    const ModelIndex decided_model = verdict.model;

    // Never send a request to a model that cannot take it.
    ModelIndex chosen = catalog_.capable_near(verdict.model, d.signals.needs, d.signals.tokens);
    bool window_too_short = false;  // kLongContext in unmet_needs for the window, not a capability
    if (chosen == kNoModel) {
      // No model can: flag what is missing, and serve what the catalog can.
      // Capabilities no model has are dropped from the needs; the request
      // goes to the nearest model with the rest. A query longer than the
      // window of every such model goes to the one with the longest window
      // (the host truncates). If no model combines the rest, the policy's
      // choice stands.
      uint32_t offered = 0;
      for (const ModelInfo& m : catalog_.models()) offered |= m.capabilities;
      d.unmet_needs = d.signals.needs & ~offered;
      const uint32_t servable = d.signals.needs & offered;
      // With every need offered, that is the search that just failed.
      if (d.unmet_needs != 0) chosen = catalog_.capable_near(verdict.model, servable, d.signals.tokens);
      if (chosen == kNoModel) {
        const ModelIndex widest = catalog_.widest_with(servable);
        if (widest != kNoModel) {
          window_too_short = (d.unmet_needs & kLongContext) == 0;
          d.unmet_needs |= kLongContext;
        }
        chosen = widest != kNoModel ? widest : verdict.model;
      }
      verdict.reason.append(";filter:no_capable_model");
    } else if (chosen != verdict.model) {
      verdict.reason.append(";filter:capability_or_context");
    }
    if (context.explain && (chosen != decided_model || d.unmet_needs != 0)) {
      const uint32_t missing = window_too_short ? d.unmet_needs & ~kLongContext : d.unmet_needs;
      std::string unmet = missing != 0 ? absl::StrCat("no model has ", capability_names(missing)) : "";
      if (window_too_short) {
        absl::StrAppend(&unmet, unmet.empty() ? "" : ", and ", "the query (", d.signals.tokens,
                        " tokens) is longer than every window");
      }
      std::string step;
      if (chosen == decided_model) {
        step = absl::StrCat("filter: ", unmet, "; ", catalog_[chosen].name, " serves the rest");
      } else {
        step = absl::StrCat("filter: ", catalog_[chosen].name, " instead of ", catalog_[decided_model].name,
                            ", which cannot take the request");
        if (!unmet.empty()) absl::StrAppend(&step, " (", unmet, ")");
      }
      d.trace.push_back({"router", std::move(step)});
    }
    if (request.known_p_small_ok) d.p_small_ok = *request.known_p_small_ok;
    const ModelInfo& model = catalog_[chosen];
    d.model = &model;
    d.tier = model.tier;
    d.policy = verdict.policy;
    d.reason = verdict.reason;
    d.estimated_cost_usd = request.cost_usd(chosen);

    // Fallbacks: the cheapest capable model of each tier above, within
    // Context::remaining_budget_usd when there is one (a host retries them
    // in order, so one over the budget would spend what routing saved).
    const std::optional<double>& budget = context.remaining_budget_usd;
    for (int tier = model.tier + 1; d.fallback_count < kMaxFallbacks;) {
      const ModelIndex next = catalog_.cheapest_capable(tier, d.signals.needs, d.signals.tokens);
      if (next == kNoModel) break;
      if (!budget || std::isnan(*budget) || request.cost_usd(next) <= *budget) {
        d.fallback_models[d.fallback_count++] = &catalog_[next];
      }
      tier = catalog_[next].tier + 1;
    }
    return d;
  }

  // Most context features a router's model may have.
  static constexpr size_t kMaxContextFeatures = costroute::kMaxContextFeatures;

  // A model's context feature from the request: the Context field of that
  // name ("user_tier", "task_type", "domain", "user_id", "session_id"), or
  // else the Context tag of that name ("meta.subset", "feature").
  static std::string_view context_value(const Context& context, std::string_view field) {
    if (field == "user_tier") return context.user_tier;
    if (field == "task_type") return context.task_type;
    if (field == "domain") return context.domain;
    if (field == "user_id") return context.user_id;
    if (field == "session_id") return context.session_id;
    return context.tag(field);
  }

  const Catalog& catalog() const { return catalog_; }
  const Policy& policy() const { return *policy_; }
  const Model* model() const { return model_.get(); }
  const RouterOptions& options() const { return options_; }

 private:
  // The router's model applied to the request being routed, when a policy
  // asks (Request::p_small_ok()). The model may learn from signals
  // ("signal.*" context features) and Context fields beside the text.
  class ClassifierScorer final : public Scorer {
   public:
    ClassifierScorer(const Router& router, std::string_view query, const Context& context,
                     const Signals& signals, TextScratch& scratch)
        : router_(router), query_(query), context_(context), signals_(signals), scratch_(scratch) {}

    double p_small_ok() const override {
      const Model& model = *router_.model_;
      // route() left the vectorizer's own tokens in the scratch when they
      // are the signals' tokens too.
      const SparseRow& row = model.vectorizer().leaves_word_tokens() ? model.vectorizer().transform_prepared(scratch_)
                                                                     : model.vectorizer().transform(query_, scratch_);
      std::array<std::string_view, kMaxContextFeatures> values;
      const auto& features = model.context_features();
      for (size_t f = 0; f < features.size(); ++f) {
        values[f] = is_signal_feature(features[f].field) ? signal_feature(signals_, features[f].field)
                                                         : context_value(context_, features[f].field);
      }
      return model.p_small_ok(row, std::span<const std::string_view>(values.data(), features.size()));
    }

   private:
    const Router& router_;
    std::string_view query_;
    const Context& context_;
    const Signals& signals_;
    TextScratch& scratch_;
  };

  Router(Catalog catalog, PolicyPtr policy, std::shared_ptr<const Model> model, RouterOptions options)
      : catalog_(std::move(catalog)), policy_(std::move(policy)), model_(std::move(model)),
        options_(std::move(options)), extractor_(options_.complexity, options_.token_counter) {}

  Catalog catalog_;
  PolicyPtr policy_;
  std::shared_ptr<const Model> model_;
  RouterOptions options_;
  SignalExtractor extractor_;
};

// Publishes a Router to many threads and lets the host swap in a new one
// (a new config or model) while they route. Thread-safe.
//
//   costroute::RouterHandle handle(*std::move(router));
//   // each serving thread:
//   costroute::RouterHandle::Reader reader(handle);
//   costroute::Decision d = reader.route(query, context);
//   // a control thread, any time:
//   handle.swap(*costroute::load_router("new.config.json"));
class RouterHandle {
 public:
  // `router` must not be null (Router::create and load_router never give
  // a null one).
  explicit RouterHandle(std::shared_ptr<const Router> router) : current_(std::move(router)) {}

  // Publishes `next`; routes already under way finish on the old router.
  // A null `next` changes nothing and returns false.
  bool swap(std::shared_ptr<const Router> next) {
    if (!next) return false;
    std::lock_guard<std::mutex> lock(mutex_);
    current_ = std::move(next);
    version_.fetch_add(1, std::memory_order_release);
    return true;
  }

  // The current router, kept alive while the caller holds it.
  std::shared_ptr<const Router> get() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return current_;
  }

  uint64_t version() const { return version_.load(std::memory_order_acquire); }

  // One thread's view of the handle. Routing through it costs one atomic
  // load and no reference counting; it picks up a swapped router on its
  // next call (a short lock, once per swap). Not thread-safe: one Reader
  // per thread; the handle must outlive it. A Decision stays valid until
  // the Reader's next call.
  class Reader {
   public:
    explicit Reader(const RouterHandle& handle)
        : handle_(&handle), version_(handle.version()), router_(handle.get()) {}

    const Router& router() {
      const uint64_t now = handle_->version();
      if (now != version_) {
        router_ = handle_->get();
        version_ = now;
      }
      return *router_;
    }

    Decision route(std::string_view query, const Context& context = {}) {
      return router().route(query, context, scratch_);
    }

   private:
    const RouterHandle* handle_;
    uint64_t version_;
    std::shared_ptr<const Router> router_;
    RouteScratch scratch_;
  };

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Router> current_;
  std::atomic<uint64_t> version_{0};
};

}  // namespace costroute

#endif  // COSTROUTE_ROUTER_H_
