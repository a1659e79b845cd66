// Router configs: costroute.config/1. docs/config.md is the reference.
//
// The loader reads the whole file and reports every problem it finds, each
// with its JSON path ("policies[2].threshold: expected a number in [0, 1]"),
// joined into one message, so a user fixes a config in one pass.
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <initializer_list>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "costroute/internal/status_macros.h"
#include "costroute/io.h"
#include "io/file_util.h"
#include "io/json_util.h"
#include "io/json_writer.h"
#include "io/message_text.h"

namespace costroute {
namespace {

using internal::to_absl;
using simdjson::dom::element;

// Collects problems with their paths while the config is read.
class ConfigReader {
 public:
  // Each problem on one line, however long the key or value it echoes.
  void error(std::string_view path, std::string_view message) {
    errors_.push_back(internal::one_line(
        path.empty() ? std::string(message) : absl::StrCat(to_absl(path), ": ", to_absl(message)), kMaxProblemBytes));
  }
  // The problems, "; "-separated: the first kMaxProblems, then how many more.
  std::string report() const {
    const size_t shown = std::min(errors_.size(), kMaxProblems);
    std::string out = absl::StrJoin(errors_.begin(), errors_.begin() + static_cast<std::ptrdiff_t>(shown), "; ");
    if (errors_.size() > shown) absl::StrAppend(&out, "; and ", errors_.size() - shown, " more problems");
    return out;
  }
  const std::vector<std::string>& errors() const { return errors_; }

  // The members of an object; reports unknown keys. False if not an object.
  bool object(element value, std::string_view path, std::initializer_list<std::string_view> known,
              simdjson::dom::object& out) {
    if (value.get_object().get(out) != simdjson::SUCCESS) {
      error(path, absl::StrCat("expected an object, got ", internal::type_name(value.type())));
      return false;
    }
    for (simdjson::dom::key_value_pair entry : out) {
      bool ok = false;
      for (std::string_view k : known) ok = ok || entry.key == k;
      if (!ok) {
        std::string expected;
        for (std::string_view k : known) absl::StrAppend(&expected, expected.empty() ? "" : ", ", to_absl(k));
        error(join(path, entry.key), absl::StrCat("unknown field (expected one of: ", expected, ")"));
      }
    }
    return true;
  }

  // A key of the input is shown as at most 60 bytes of it.
  static std::string join(std::string_view path, std::string_view key) {
    const std::string shown = internal::one_line(key, 60);
    return path.empty() ? shown : absl::StrCat(to_absl(path), ".", shown);
  }
  static std::string index(std::string_view path, size_t i) {
    return absl::StrCat(to_absl(path), "[", i, "]");
  }

  bool get_string(element v, std::string_view path, std::string& out) {
    std::string_view s;
    if (v.get_string().get(s) != simdjson::SUCCESS) {
      error(path, absl::StrCat("expected a string, got ", internal::type_name(v.type())));
      return false;
    }
    out = std::string(s);
    return true;
  }
  // A name that decisions, tables and metrics print: no control characters.
  bool get_name(element v, std::string_view path, std::string& out) {
    if (!get_string(v, path, out)) return false;
    if (std::any_of(out.begin(), out.end(), internal::is_control)) {
      error(path, "expected a name without control characters (line breaks, tabs, NUL)");
      out.clear();
      return false;
    }
    return true;
  }
  bool get_bool(element v, std::string_view path, bool& out) {
    if (v.get_bool().get(out) != simdjson::SUCCESS) {
      error(path, absl::StrCat("expected true or false, got ", internal::type_name(v.type())));
      return false;
    }
    return true;
  }
  bool get_number(element v, std::string_view path, double lo, double hi, double& out) {
    if (v.get_double().get(out) != simdjson::SUCCESS || !(out >= lo && out <= hi)) {
      error(path, absl::StrCat("expected a number in [", lo, ", ", hi, "]"));
      return false;
    }
    out += 0.0;  // -0 as 0: no cost or reason prints "-0"
    return true;
  }
  // A whole number; 4096.0 is one too, as JSON writers may print it.
  bool get_int(element v, std::string_view path, int64_t lo, int64_t hi, int64_t& out) {
    bool whole = v.get_int64().get(out) == simdjson::SUCCESS;
    double d = 0.0;
    if (!whole && v.get_double().get(d) == simdjson::SUCCESS && d == std::floor(d) && std::fabs(d) <= 9e15) {
      out = static_cast<int64_t>(d);
      whole = true;
    }
    if (!whole || out < lo || out > hi) {
      error(path, absl::StrCat("expected a whole number in [", lo, ", ", hi, "]"));
      return false;
    }
    return true;
  }
  bool get_strings(element v, std::string_view path, std::vector<std::string>& out) {
    simdjson::dom::array array;
    if (v.get_array().get(array) != simdjson::SUCCESS) {
      error(path, "expected an array of strings");
      return false;
    }
    size_t i = 0;
    for (element item : array) {
      std::string s;
      if (get_string(item, index(path, i++), s)) out.push_back(std::move(s));
    }
    return true;
  }

 private:
  static constexpr size_t kMaxProblems = 20;
  static constexpr size_t kMaxProblemBytes = 300;
  std::vector<std::string> errors_;
};

std::vector<ModelInfo> read_models(ConfigReader& r, element value) {
  std::vector<ModelInfo> models;
  simdjson::dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS || array.size() == 0) {
    r.error("models", "expected a non-empty array of models");
    return models;
  }
  size_t i = 0;
  for (element item : array) {
    const std::string path = ConfigReader::index("models", i++);
    simdjson::dom::object o;
    if (!r.object(item, path,
                  {"name", "tier", "usd_per_mtok_in", "usd_per_mtok_out", "capabilities",
                   "context_window", "provider"},
                  o)) {
      continue;
    }
    ModelInfo m;
    element v;
    if (o.at_key("name").get(v) == simdjson::SUCCESS) {
      r.get_name(v, ConfigReader::join(path, "name"), m.name);
    } else {
      r.error(ConfigReader::join(path, "name"), "missing");
    }
    int64_t tier = 0;
    if (o.at_key("tier").get(v) == simdjson::SUCCESS) {
      r.get_int(v, ConfigReader::join(path, "tier"), 0, Catalog::kMaxTier, tier);
    } else {
      r.error(ConfigReader::join(path, "tier"), "missing");
    }
    m.tier = static_cast<int>(tier);
    for (auto [key, field] : {std::pair{"usd_per_mtok_in", &m.usd_per_mtok_in},
                              std::pair{"usd_per_mtok_out", &m.usd_per_mtok_out}}) {
      if (o.at_key(key).get(v) == simdjson::SUCCESS) {
        r.get_number(v, ConfigReader::join(path, key), 0.0, 1e6, *field);
      } else {
        r.error(ConfigReader::join(path, key), "missing");
      }
    }
    if (o.at_key("capabilities").get(v) == simdjson::SUCCESS) {
      std::vector<std::string> names;
      const std::string caps_path = ConfigReader::join(path, "capabilities");
      if (r.get_strings(v, caps_path, names)) {
        m.capabilities = 0;
        for (size_t k = 0; k < names.size(); ++k) {
          const uint32_t bit = capability_from_name(names[k]);
          if (bit == 0) {
            r.error(ConfigReader::index(caps_path, k),
                    absl::StrCat("unknown capability \"", names[k],
                                 "\" (expected text, vision, audio, code, long_context, tools)"));
          } else if ((m.capabilities & bit) != 0) {
            r.error(ConfigReader::index(caps_path, k), absl::StrCat("\"", names[k], "\" is listed twice"));
          }
          m.capabilities |= bit;
        }
      }
    }
    if (o.at_key("context_window").get(v) == simdjson::SUCCESS) {
      r.get_int(v, ConfigReader::join(path, "context_window"), 0, INT64_MAX, m.context_window);
    }
    if (o.at_key("provider").get(v) == simdjson::SUCCESS) {
      r.get_string(v, ConfigReader::join(path, "provider"), m.provider);
    }
    models.push_back(std::move(m));
  }
  return models;
}

// A tier in a target: digits only, as whole numbers are on the command
// line (no sign, no spaces); false if not, or beyond int.
bool parse_tier(std::string_view text, int& tier) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), tier);
  return error == std::errc() && end == text.data() + text.size();
}

// Builds the policy tree; needs the catalog to check targets.
class PolicyReader {
 public:
  PolicyReader(ConfigReader& r, const Catalog& catalog) : r_(r), catalog_(catalog) {}

  std::optional<Target> target(element v, const std::string& path) {
    std::string text;
    if (!r_.get_string(v, path, text)) return std::nullopt;
    if (text == "strongest") return Target::strongest();
    if (text == "cheapest") return Target::cheapest();
    if (text == "requested") return Target::requested();
    auto rest = [&](std::string_view prefix) -> std::optional<std::string> {
      if (text.compare(0, prefix.size(), prefix) == 0) return text.substr(prefix.size());
      return std::nullopt;
    };
    if (auto n = rest("tier:")) {
      int tier;
      if (!parse_tier(*n, tier) || tier > catalog_.max_tier()) {
        r_.error(path, absl::StrCat("\"", text, "\": expected tier:N with N in [0, ",
                                    catalog_.max_tier(), "], the catalog's tiers"));
        return std::nullopt;
      }
      return Target::at_tier(tier);
    }
    if (auto name = rest("model:")) {
      if (catalog_.find(*name) == kNoModel) {
        r_.error(path, absl::StrCat("\"", text, "\": no model named \"", *name, "\" in models"));
        return std::nullopt;
      }
      return Target::named(*name);
    }
    if (auto caps = rest("capable:")) {
      int min_tier = 0;
      std::string names = *caps;
      if (const size_t at = names.find('@'); at != std::string::npos) {
        if (!parse_tier(std::string_view(names).substr(at + 1), min_tier)) {
          r_.error(path, absl::StrCat("\"", text, "\": expected capable:CAP[,CAP]@TIER"));
          return std::nullopt;
        }
        names.resize(at);
      }
      uint32_t needs = 0;
      for (absl::string_view part : absl::StrSplit(names, ',')) {
        const std::string_view name(part.data(), part.size());
        const uint32_t bit = capability_from_name(name);
        if (bit == 0) {
          r_.error(path, absl::StrCat("\"", text, "\": unknown capability \"", to_absl(name), "\""));
          return std::nullopt;
        }
        if ((needs & bit) != 0) {
          r_.error(path, absl::StrCat("\"", text, "\": capability \"", to_absl(name), "\" given twice"));
          return std::nullopt;
        }
        needs |= bit;
      }
      if (catalog_.cheapest_capable(min_tier, needs, 0) == kNoModel) {
        r_.error(path, absl::StrCat("\"", text, "\": no model at tier >= ", min_tier, " has ",
                                    capability_names(needs)));
        return std::nullopt;
      }
      return Target::capable(needs, min_tier);
    }
    r_.error(path, absl::StrCat("\"", text, "\": expected strongest, cheapest, requested, tier:N, "
                                            "model:NAME or capable:CAP[@TIER]"));
    return std::nullopt;
  }

  Condition condition(element v, const std::string& path) {
    Condition c;
    simdjson::dom::object o;
    if (!r_.object(v, path,
                   {"user_tier", "task_type", "domain", "script", "has_question", "has_code",
                    "has_image", "has_audio", "follow_up", "requested_model", "min_tokens",
                    "max_tokens", "min_reasoning_hits", "min_complexity", "max_complexity", "hours",
                    "tags"},
                   o)) {
      return c;
    }
    for (simdjson::dom::key_value_pair e : o) {
      const std::string p = ConfigReader::join(path, e.key);
      const std::string_view k = e.key;
      if (k == "user_tier") {
        if (r_.get_strings(e.value, p, c.user_tiers) && c.user_tiers.empty()) {
          r_.error(p, "an empty list: the rule could never hold");
        }
      } else if (k == "task_type" || k == "domain" || k == "script") {
        std::vector<std::string> names;
        if (!r_.get_strings(e.value, p, names)) continue;
        if (names.empty()) {
          r_.error(p, "an empty list: the rule could never hold");
          continue;
        }
        uint32_t& mask = k == "task_type" ? c.task_types : k == "domain" ? c.domains : c.scripts;
        for (size_t i = 0; i < names.size(); ++i) {
          TaskType t;
          Domain d;
          Script s;
          bool ok = false;
          if (k == "task_type" && (ok = parse_task_type(names[i], t))) mask |= Condition::bit(t);
          if (k == "domain" && (ok = parse_domain(names[i], d))) mask |= Condition::bit(d);
          if (k == "script" && (ok = parse_script(names[i], s))) mask |= Condition::bit(s);
          if (!ok) r_.error(ConfigReader::index(p, i), absl::StrCat("unknown ", to_absl(k), " \"", names[i], "\""));
        }
      } else if (k == "has_question" || k == "has_code" || k == "has_image" || k == "has_audio" ||
                 k == "follow_up" || k == "requested_model") {
        bool b;
        if (!r_.get_bool(e.value, p, b)) continue;
        (k == "has_question" ? c.has_question : k == "has_code" ? c.has_code
         : k == "has_image"  ? c.has_image    : k == "has_audio" ? c.has_audio
         : k == "follow_up"  ? c.follow_up    : c.requested_model) = b;
      } else if (k == "min_tokens" || k == "max_tokens") {
        int64_t n;
        if (r_.get_int(e.value, p, 0, INT64_MAX, n)) (k == "min_tokens" ? c.min_tokens : c.max_tokens) = n;
      } else if (k == "min_reasoning_hits") {
        int64_t n;
        if (r_.get_int(e.value, p, 0, 1000, n)) c.min_reasoning_hits = static_cast<int>(n);
      } else if (k == "min_complexity" || k == "max_complexity") {
        double x;
        if (r_.get_number(e.value, p, 0.0, 1.0, x)) (k == "min_complexity" ? c.min_complexity : c.max_complexity) = x;
      } else if (k == "hours") {
        simdjson::dom::array a;
        int64_t from = 0, to = 0;
        if (e.value.get_array().get(a) != simdjson::SUCCESS || a.size() != 2 ||
            a.at(0).get_int64().get(from) != simdjson::SUCCESS ||
            a.at(1).get_int64().get(to) != simdjson::SUCCESS || from < 0 || from > 23 || to < 0 ||
            to > 24) {
          r_.error(p, "expected [from, to] hours of the day, 0-23 and 0-24");
          continue;
        }
        if (from == to) {
          r_.error(p, "an empty window (from equals to): the rule could never hold; [0, 24] is all day");
          continue;
        }
        c.hours = std::make_pair(static_cast<int>(from), static_cast<int>(to));
      } else if (k == "tags") {
        simdjson::dom::object tags;
        if (e.value.get_object().get(tags) != simdjson::SUCCESS) {
          r_.error(p, "expected an object of strings");
          continue;
        }
        for (simdjson::dom::key_value_pair t : tags) {
          std::string value;
          if (r_.get_string(t.value, ConfigReader::join(p, t.key), value)) {
            c.tags.emplace_back(std::string(t.key), std::move(value));
          }
        }
      }
    }
    // A range no request can fall in is a mistake, not a rule.
    if (c.min_tokens && c.max_tokens && *c.min_tokens > *c.max_tokens) {
      r_.error(ConfigReader::join(path, "min_tokens"), "greater than max_tokens: the rule could never hold");
    }
    if (c.min_complexity && c.max_complexity && *c.min_complexity > *c.max_complexity) {
      r_.error(ConfigReader::join(path, "min_complexity"), "greater than max_complexity: the rule could never hold");
    }
    return c;
  }

  // One policy node; null after reporting its problems.
  PolicyPtr policy(element v, const std::string& path) {
    simdjson::dom::object o;
    if (v.get_object().get(o) != simdjson::SUCCESS) {
      r_.error(path, "expected a policy object with a \"type\"");
      return nullptr;
    }
    std::string type;
    element field;
    if (o.at_key("type").get(field) != simdjson::SUCCESS) {
      r_.error(ConfigReader::join(path, "type"), "missing");
      return nullptr;
    }
    if (!r_.get_string(field, ConfigReader::join(path, "type"), type)) return nullptr;
    std::string name = type;
    if (o.at_key("name").get(field) == simdjson::SUCCESS &&
        r_.get_name(field, ConfigReader::join(path, "name"), name) && name.empty()) {
      r_.error(ConfigReader::join(path, "name"), "empty");  // decisions name the policy
    }
    auto need = [&](std::string_view key) -> std::optional<element> {
      element e;
      if (o.at_key(key).get(e) == simdjson::SUCCESS) return e;
      r_.error(ConfigReader::join(path, key), "missing");
      return std::nullopt;
    };
    auto inner = [&]() -> PolicyPtr {
      auto e = need("policy");
      return e ? policy(*e, ConfigReader::join(path, "policy")) : nullptr;
    };

    if (type == "rule") {
      r_.object(v, path, {"type", "name", "when", "route_to"}, o);
      auto when = need("when");
      auto to = need("route_to");
      if (!when || !to) return nullptr;
      Condition c = condition(*when, ConfigReader::join(path, "when"));
      auto t = target(*to, ConfigReader::join(path, "route_to"));
      if (!t) return nullptr;
      return std::make_unique<Rule>(name, std::move(c), std::move(*t));
    }
    if (type == "first_of") {
      r_.object(v, path, {"type", "name", "policies"}, o);
      auto list = need("policies");
      if (!list) return nullptr;
      auto children = policies(*list, ConfigReader::join(path, "policies"));
      return children.empty() ? nullptr : std::make_unique<FirstOf>(name, std::move(children));
    }
    if (type == "classifier") {
      if (scored_by_.empty()) scored_by_ = path;
      r_.object(v, path, {"type", "name", "threshold", "cheap", "strong"}, o);
      auto threshold = need("threshold");
      auto cheap = need("cheap");
      double t = 0;
      if (!threshold || !cheap) return nullptr;
      const bool t_ok = r_.get_number(*threshold, ConfigReader::join(path, "threshold"), 0.0, 1.0, t);
      auto cheap_target = target(*cheap, ConfigReader::join(path, "cheap"));
      std::optional<Target> strong;
      element s;
      if (o.at_key("strong").get(s) == simdjson::SUCCESS) {
        strong = target(s, ConfigReader::join(path, "strong"));
        if (!strong) return nullptr;
      }
      if (!t_ok || !cheap_target) return nullptr;
      return std::make_unique<ClassifierThreshold>(name, t, std::move(*cheap_target), std::move(strong));
    }
    if (type == "tier_table") {
      r_.object(v, path, {"type", "name", "rows"}, o);
      auto rows_json = need("rows");
      simdjson::dom::array rows_array;
      if (!rows_json) return nullptr;
      if (rows_json->get_array().get(rows_array) != simdjson::SUCCESS || rows_array.size() == 0) {
        r_.error(ConfigReader::join(path, "rows"), "expected a non-empty array of rows");
        return nullptr;
      }
      std::vector<TierTable::Row> rows;
      size_t i = 0;
      bool ok = true;
      for (element row_json : rows_array) {
        const std::string rp = ConfigReader::index(ConfigReader::join(path, "rows"), i++);
        simdjson::dom::object ro;
        if (!r_.object(row_json, rp, {"max_complexity", "max_tokens", "route_to"}, ro)) {
          ok = false;
          continue;
        }
        TierTable::Row row;
        element e;
        if (ro.at_key("max_complexity").get(e) == simdjson::SUCCESS) {
          ok &= r_.get_number(e, ConfigReader::join(rp, "max_complexity"), 0.0, 1.0, row.max_complexity);
        }
        if (ro.at_key("max_tokens").get(e) == simdjson::SUCCESS) {
          ok &= r_.get_int(e, ConfigReader::join(rp, "max_tokens"), 0, INT64_MAX, row.max_tokens);
        }
        if (ro.at_key("route_to").get(e) != simdjson::SUCCESS) {
          r_.error(ConfigReader::join(rp, "route_to"), "missing");
          ok = false;
          continue;
        }
        auto t = target(e, ConfigReader::join(rp, "route_to"));
        if (!t) {
          ok = false;
          continue;
        }
        row.target = std::move(*t);
        rows.push_back(std::move(row));
      }
      return ok ? std::make_unique<TierTable>(name, std::move(rows)) : nullptr;
    }
    if (type == "blend") {
      r_.object(v, path, {"type", "name", "weights", "thresholds", "route_to"}, o);
      auto weights_json = need("weights");
      auto thresholds_json = need("thresholds");
      auto targets_json = need("route_to");
      if (!weights_json || !thresholds_json || !targets_json) return nullptr;
      bool ok = true;
      std::vector<Blend::Weight> weights;
      simdjson::dom::object wo;
      if (weights_json->get_object().get(wo) != simdjson::SUCCESS) {
        r_.error(ConfigReader::join(path, "weights"), "expected an object of signal: weight");
        return nullptr;
      }
      for (simdjson::dom::key_value_pair e : wo) {
        const std::string wp = ConfigReader::join(ConfigReader::join(path, "weights"), e.key);
        Blend::Weight w{};
        double x = 0;
        if (!Blend::parse_signal(e.key, w.signal)) {
          r_.error(wp, "unknown signal (expected complexity, p_large, reasoning, length, code, "
                       "domain_risk, task_difficulty)");
          ok = false;
        } else if (r_.get_number(e.value, wp, -100.0, 100.0, x)) {
          w.weight = x;
          weights.push_back(w);
          if (w.signal == Blend::Signal::kPLarge && scored_by_.empty()) scored_by_ = wp;
        } else {
          ok = false;
        }
      }
      if (ok && weights.empty()) {
        r_.error(ConfigReader::join(path, "weights"), "empty: the score would be 0 for every request");
        ok = false;
      }
      std::vector<double> thresholds;
      simdjson::dom::array ta;
      const std::string tp = ConfigReader::join(path, "thresholds");
      if (thresholds_json->get_array().get(ta) != simdjson::SUCCESS) {
        r_.error(tp, "expected an array of ascending numbers");
        return nullptr;
      }
      size_t i = 0;
      for (element e : ta) {
        double x = 0;
        const std::string ip = ConfigReader::index(tp, i++);
        if (!r_.get_number(e, ip, -1e6, 1e6, x)) {
          ok = false;
        } else if (!thresholds.empty() && x <= thresholds.back()) {
          r_.error(ip, "thresholds must be ascending");
          ok = false;
        }
        thresholds.push_back(x);
      }
      std::vector<Target> targets;
      simdjson::dom::array tg;
      const std::string gp = ConfigReader::join(path, "route_to");
      if (targets_json->get_array().get(tg) != simdjson::SUCCESS) {
        r_.error(gp, "expected an array of targets, one more than thresholds");
        return nullptr;
      }
      i = 0;
      for (element e : tg) {
        auto t = target(e, ConfigReader::index(gp, i++));
        if (t) targets.push_back(std::move(*t));
        else ok = false;
      }
      if (ok && targets.size() != thresholds.size() + 1) {
        r_.error(gp, absl::StrCat("expected ", thresholds.size() + 1, " targets (one more than thresholds), got ",
                                  targets.size()));
        ok = false;
      }
      return ok ? std::make_unique<Blend>(name, std::move(weights), std::move(thresholds), std::move(targets))
                : nullptr;
    }
    if (type == "sticky_session") {
      r_.object(v, path, {"type", "name", "policy"}, o);
      PolicyPtr p = inner();
      return p ? std::make_unique<StickySession>(name, std::move(p)) : nullptr;
    }
    if (type == "within_budget") {
      r_.object(v, path, {"type", "name", "policy"}, o);
      PolicyPtr p = inner();
      return p ? std::make_unique<WithinBudget>(name, std::move(p)) : nullptr;
    }
    if (type == "shift_tier") {
      r_.object(v, path, {"type", "name", "when", "by", "policy"}, o);
      auto when = need("when");
      auto by = need("by");
      PolicyPtr p = inner();
      if (!when || !by) return nullptr;
      Condition c = condition(*when, ConfigReader::join(path, "when"));
      int64_t shift = 0;
      if (!r_.get_int(*by, ConfigReader::join(path, "by"), -100, 100, shift) || !p) return nullptr;
      return std::make_unique<ShiftTier>(name, std::move(c), static_cast<int>(shift), std::move(p));
    }
    if (type == "fixed") {
      r_.object(v, path, {"type", "name", "route_to"}, o);
      auto to = need("route_to");
      if (!to) return nullptr;
      auto t = target(*to, ConfigReader::join(path, "route_to"));
      return t ? std::make_unique<Fixed>(name, std::move(*t)) : nullptr;
    }
    r_.error(ConfigReader::join(path, "type"),
             absl::StrCat("unknown policy type \"", type,
                          "\" (expected rule, first_of, classifier, tier_table, blend, "
                          "sticky_session, within_budget, shift_tier, fixed)"));
    return nullptr;
  }

  std::vector<PolicyPtr> policies(element v, const std::string& path) {
    std::vector<PolicyPtr> out;
    simdjson::dom::array array;
    if (v.get_array().get(array) != simdjson::SUCCESS || array.size() == 0) {
      r_.error(path, "expected a non-empty array of policies");
      return out;
    }
    size_t i = 0;
    for (element item : array) {
      PolicyPtr p = policy(item, ConfigReader::index(path, i++));
      if (p) out.push_back(std::move(p));
    }
    return out;
  }

  // The path of the first policy that needs the classifier's score (a
  // classifier policy, a blend weight on p_large), or "" if none does.
  const std::string& scored_by() const { return scored_by_; }

 private:
  ConfigReader& r_;
  const Catalog& catalog_;
  std::string scored_by_;
};

RouterOptions read_options(ConfigReader& r, element value) {
  RouterOptions options;
  simdjson::dom::object o;
  if (!r.object(value, "options",
                {"default_output_tokens", "utc_offset_minutes", "complexity_weights", "always_score"}, o)) {
    return options;
  }
  element v;
  if (o.at_key("default_output_tokens").get(v) == simdjson::SUCCESS) {
    r.get_int(v, "options.default_output_tokens", 0, 10'000'000, options.default_output_tokens);
  }
  if (o.at_key("utc_offset_minutes").get(v) == simdjson::SUCCESS) {
    int64_t minutes = 0;
    if (r.get_int(v, "options.utc_offset_minutes", -24 * 60, 24 * 60, minutes)) {
      options.utc_offset_minutes = static_cast<int>(minutes);
    }
  }
  if (o.at_key("always_score").get(v) == simdjson::SUCCESS) {
    r.get_bool(v, "options.always_score", options.always_score);
  }
  if (o.at_key("complexity_weights").get(v) == simdjson::SUCCESS) {
    simdjson::dom::object w;
    if (r.object(v, "options.complexity_weights", {"length", "reasoning", "task", "domain", "code"}, w)) {
      ComplexityWeights& c = options.complexity;
      for (auto [key, field] : {std::pair{"length", &c.length}, std::pair{"reasoning", &c.reasoning},
                                std::pair{"task", &c.task}, std::pair{"domain", &c.domain},
                                std::pair{"code", &c.code}}) {
        element x;
        if (w.at_key(key).get(x) == simdjson::SUCCESS) {
          r.get_number(x, absl::StrCat("options.complexity_weights.", key), 0.0, 1.0, *field);
        }
      }
    }
  }
  return options;
}


}  // namespace

absl::StatusOr<std::shared_ptr<const Router>> parse_router(std::string_view json, std::string_view source,
                                                           std::string_view base_dir,
                                                           std::shared_ptr<const Model> model) {
  simdjson::dom::parser parser;
  element root;
  COSTROUTE_RETURN_IF_ERROR(internal::parse_document(parser, json, source, root));
  // A file of another format (a model given as the config) gets that one
  // error, not one for each of its fields.
  std::string_view format;
  if (root.at_key("format").get_string().get(format) == simdjson::SUCCESS && format != kConfigFormat) {
    return absl::InvalidArgumentError(
        format == kModelFormat
            ? absl::StrCat(to_absl(source), ": format: \"", to_absl(format), "\" is a model file, not a router config")
            : absl::StrCat(to_absl(source), ": format: unknown config format \"", to_absl(format),
                           "\"; this build reads ", to_absl(kConfigFormat)));
  }
  ConfigReader r;
  simdjson::dom::object top;
  if (!r.object(root, "", {"format", "models", "classifier", "options", "policies"}, top)) {
    return absl::InvalidArgumentError(absl::StrCat(to_absl(source), ": ", r.errors().front()));
  }
  element v;
  if (top.at_key("format").get(v) != simdjson::SUCCESS) {
    r.error("format", absl::StrCat("missing; write \"format\": \"", to_absl(kConfigFormat), "\""));
  } else {
    std::string text;
    r.get_string(v, "format", text);  // a string is kConfigFormat by now
  }
  std::vector<ModelInfo> models;
  const size_t errors_before_models = r.errors().size();
  if (top.at_key("models").get(v) == simdjson::SUCCESS) {
    models = read_models(r, v);
  } else {
    r.error("models", "missing");
  }
  const bool models_read = r.errors().size() == errors_before_models;
  RouterOptions options;
  if (top.at_key("options").get(v) == simdjson::SUCCESS) options = read_options(r, v);

  // The policies name models, so they are checked against a catalog: only
  // once the models have no problems (other sections' problems do not
  // hide theirs).
  std::optional<Catalog> catalog;
  if (models_read) {
    absl::StatusOr<Catalog> c = Catalog::create(std::move(models));
    if (c.ok()) {
      catalog = *std::move(c);
    } else {
      r.error("", internal::to_std(c.status().message()));
    }
  }
  PolicyPtr root_policy;
  std::string scored_by;
  if (top.at_key("policies").get(v) != simdjson::SUCCESS) {
    r.error("policies", "missing");
  } else if (catalog) {
    PolicyReader reader(r, *catalog);
    std::vector<PolicyPtr> list = reader.policies(v, "policies");
    if (!list.empty()) root_policy = std::make_unique<FirstOf>("policies", std::move(list));
    scored_by = reader.scored_by();
  }
  // Without a model, such a policy would abstain on every request.
  if (!scored_by.empty() && !model && top.at_key("classifier").get(v) != simdjson::SUCCESS) {
    r.error(scored_by, "needs the classifier's score, but the config has no \"classifier\" (and no model was "
                       "given to load it with)");
  }

  // Checked with a `model` too, which only replaces the file's model.
  if (top.at_key("classifier").get(v) == simdjson::SUCCESS) {
    simdjson::dom::object c;
    if (r.object(v, "classifier", {"model"}, c)) {
      element file;
      std::string path;
      if (c.at_key("model").get(file) != simdjson::SUCCESS) {
        r.error("classifier.model", "missing");
      } else if (r.get_string(file, "classifier.model", path) && path.empty()) {
        r.error("classifier.model", "an empty file name");
      } else if (path.find('\0') != std::string::npos) {
        r.error("classifier.model", "a file name with a NUL byte");  // the OS would read a shorter name
      } else if (!path.empty() && !model) {
        const std::filesystem::path full = std::filesystem::path(base_dir) / path;
        absl::StatusOr<Model> loaded = load_model(full.string());
        if (loaded.ok()) {
          model = std::make_shared<const Model>(*std::move(loaded));
        } else {
          r.error("classifier.model", internal::to_std(loaded.status().message()));
        }
      }
    }
  }
  if (!r.errors().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(to_absl(source), ": ", r.report()));
  }
  absl::StatusOr<std::shared_ptr<const Router>> router =
      Router::create(*std::move(catalog), std::move(root_policy), std::move(model), std::move(options));
  if (!router.ok()) return internal::prefixed(source, router.status());
  return router;
}

absl::StatusOr<std::shared_ptr<const Router>> load_router(const std::string& path,
                                                          std::shared_ptr<const Model> model) {
  absl::StatusOr<std::string> text = internal::read_file(path);
  if (!text.ok()) return text.status();
  return parse_router(*text, path, config_directory(path), std::move(model));
}

std::string config_directory(const std::string& config_path) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::path file = config_path;
  if (fs::is_symlink(fs::symlink_status(file, error))) {
    fs::path real = fs::canonical(file, error);
    if (!error) file = std::move(real);  // else as given: reading it reports the broken link
  }
  const std::string dir = file.parent_path().string();
  return dir.empty() ? "." : dir;
}

}  // namespace costroute

namespace costroute {
namespace {

// Re-encodes a parsed config readably: two-space indents, one member per
// line, arrays of numbers and strings on one line, applying ConfigEdits.
class ConfigPrinter {
 public:
  explicit ConfigPrinter(const ConfigEdits& edits) : edits_(edits) {}

  void print(element value, int depth) {
    switch (value.type()) {
      case simdjson::dom::element_type::OBJECT: {
        simdjson::dom::object object = value.get_object().value_unsafe();
        const bool target = is_target(object);
        out_ += "{";
        bool first = true;
        for (simdjson::dom::key_value_pair entry : object) {
          out_ += first ? "\n" : ",\n";
          first = false;
          out_.append(2 * (depth + 1), ' ');
          internal::append_json_string(out_, entry.key);
          out_ += ": ";
          if (target && entry.key == "threshold") {
            internal::append_json_number(out_, *edits_.threshold);
            replaced_ = true;
          } else if (depth == 1 && in_classifier_ && entry.key == "model" && !edits_.model_path.empty()) {
            internal::append_json_string(out_, new_model_path());
          } else if (depth == 1 && in_classifier_ && entry.key == "model" && !edits_.to_dir.empty() &&
                     entry.value.is_string()) {
            internal::append_json_string(out_, rebased(entry.value.get_string().value_unsafe()));
          } else if (depth == 0 && entry.key == "classifier") {
            in_classifier_ = true;
            has_classifier_ = true;
            print(entry.value, depth + 1);
            in_classifier_ = false;
          } else {
            print(entry.value, depth + 1);
          }
        }
        if (depth == 0 && !has_classifier_ && !edits_.model_path.empty()) {
          out_ += first ? "\n" : ",\n";
          first = false;
          out_ += "  \"classifier\": {\"model\": ";
          internal::append_json_string(out_, new_model_path());
          out_ += "}";
        }
        if (!first) {
          out_ += "\n";
          out_.append(2 * depth, ' ');
        }
        out_ += "}";
        break;
      }
      case simdjson::dom::element_type::ARRAY: {
        simdjson::dom::array array = value.get_array().value_unsafe();
        bool scalars = true;
        for (element item : array) scalars = scalars && !item.is_object() && !item.is_array();
        out_ += "[";
        bool first = true;
        for (element item : array) {
          if (scalars) {
            out_ += first ? "" : ", ";
          } else {
            out_ += first ? "\n" : ",\n";
            out_.append(2 * (depth + 1), ' ');
          }
          first = false;
          print(item, depth + 1);
        }
        if (!scalars && !first) {
          out_ += "\n";
          out_.append(2 * depth, ' ');
        }
        out_ += "]";
        break;
      }
      case simdjson::dom::element_type::STRING:
        internal::append_json_string(out_, value.get_string().value_unsafe());
        break;
      case simdjson::dom::element_type::INT64:
        out_ += std::to_string(value.get_int64().value_unsafe());
        break;
      case simdjson::dom::element_type::UINT64:
        out_ += std::to_string(value.get_uint64().value_unsafe());
        break;
      case simdjson::dom::element_type::DOUBLE:
        internal::append_json_number(out_, value.get_double().value_unsafe());
        break;
      case simdjson::dom::element_type::BOOL:
        out_ += value.get_bool().value_unsafe() ? "true" : "false";
        break;
      case simdjson::dom::element_type::NULL_VALUE:
        out_ += "null";
        break;
    }
  }

  std::string& text() { return out_; }
  bool replaced() const { return replaced_; }
  const absl::Status& status() const { return status_; }

 private:
  bool is_target(simdjson::dom::object object) {
    if (!edits_.threshold) return false;
    std::string_view type, name;
    if (object.at_key("type").get(type) != simdjson::SUCCESS || type != "classifier") return false;
    if (object.at_key("name").get(name) != simdjson::SUCCESS) name = "classifier";
    if (!edits_.policy_name.empty() && name != edits_.policy_name) return false;
    if (replaced_) {  // a second one: the first is taken, unless a name was asked for
      if (!edits_.policy_name.empty() && status_.ok()) {
        status_ = absl::InvalidArgumentError(
            absl::StrCat("more than one classifier policy is named \"", edits_.policy_name, "\"; name each apart"));
      }
      return false;
    }
    return true;
  }

  std::string rebased(std::string_view path) {
    if (std::filesystem::path(path).is_absolute()) return std::string(path);
    return relative_to_out(std::filesystem::path(edits_.from_dir.empty() ? "." : edits_.from_dir) / path);
  }

  std::string new_model_path() { return relative_to_out(edits_.model_path); }

  // `file` (absolute, or relative to the working directory) relative to
  // to_dir; on a file system error (a path too long, no working
  // directory), `file` as given and the error kept for edit_config.
  std::string relative_to_out(const std::filesystem::path& file) {
    namespace fs = std::filesystem;
    std::error_code error;
    const fs::path to = fs::absolute(edits_.to_dir.empty() ? fs::path(".") : fs::path(edits_.to_dir), error);
    fs::path from;
    if (!error) from = fs::absolute(file, error);
    fs::path result;
    if (!error) result = fs::relative(from, to, error);
    if (error || result.empty()) {
      if (status_.ok()) {
        status_ = absl::InvalidArgumentError(absl::StrCat("classifier.model: cannot name ", file.string(),
                                                          " from ", to.string(), ": ", error.message()));
      }
      return file.generic_string();
    }
    return result.generic_string();
  }

  const ConfigEdits& edits_;
  absl::Status status_;  // the first problem met while printing
  bool replaced_ = false;
  bool in_classifier_ = false;
  bool has_classifier_ = false;
  std::string out_;
};

}  // namespace

absl::StatusOr<std::string> classifier_path(std::string_view config_json, std::string_view base_dir) {
  simdjson::dom::parser parser;
  element root;
  COSTROUTE_RETURN_IF_ERROR(internal::parse_document(parser, config_json, "config", root));
  element file;
  std::string_view path;
  if (!internal::find_path(root, "classifier.model", file) || file.get_string().get(path) != simdjson::SUCCESS ||
      path.empty()) {
    return std::string();
  }
  const std::filesystem::path named(path);
  return (named.is_absolute() ? named : std::filesystem::path(base_dir) / named).string();
}

absl::StatusOr<std::string> edit_config(std::string_view config_json, const ConfigEdits& edits) {
  if (edits.threshold && !(*edits.threshold >= 0.0 && *edits.threshold <= 1.0)) {
    return absl::InvalidArgumentError("threshold: expected a number in [0, 1]");
  }
  simdjson::dom::parser parser;
  element root;
  config_json = internal::without_bom(config_json);
  const simdjson::padded_string padded(config_json);
  if (const auto error = parser.parse(padded).get(root); error != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(internal::describe_parse_error(error, config_json));
  }
  // A classifier path goes into the root object or its "classifier" object.
  if (!edits.model_path.empty()) {
    element classifier;
    if (!root.is_object() ||
        (root.at_key("classifier").get(classifier) == simdjson::SUCCESS && !classifier.is_object())) {
      return absl::InvalidArgumentError(root.is_object() ? "classifier: expected an object, to set its model"
                                                         : "expected a JSON object, to set its classifier");
    }
  }
  ConfigPrinter printer(edits);
  printer.print(root, 0);
  if (!printer.status().ok()) return printer.status();
  if (edits.threshold && !printer.replaced()) {
    return absl::NotFoundError(
        edits.policy_name.empty()
            ? std::string("no classifier policy with a threshold in the config")
            : absl::StrCat("no classifier policy named \"", edits.policy_name, "\""));
  }
  printer.text() += "\n";
  return std::move(printer.text());
}

}  // namespace costroute
