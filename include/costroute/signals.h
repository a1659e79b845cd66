// costroute/signals.h: the facts about one request that policies decide on.
//
// Signals are computed once per request and shared by every policy: a token
// estimate, reasoning-keyword hits, the task type, the domain, code, the
// script the query is written in, what capabilities it needs, whether it
// is a follow-up in a conversation, and a complexity score in [0, 1]. The
// learned classifier's p(small model is sufficient) is scored apart, only
// when a policy asks for it (Request::p_small_ok()).
//
// Detection is by keyword cues and the shape of the text (code fences,
// symbols, digits, question marks, answer options), not by a model: it
// costs a few hundred nanoseconds. docs/signals.md explains the cues and
// weights (internal/signal_cues.h lists all of them) and reports how well
// task type and domain are detected on real prompts.
//
// Header-only. SignalExtractor is immutable and thread-safe.
//
// **Example**:
//
//   costroute::SignalExtractor extractor;
//   costroute::TextScratch scratch;
//   const std::string_view query = "Translate 'good night' into French";
//   costroute::SignalExtractor::prepare(query, scratch);
//   costroute::Signals s = extractor.extract(query, {}, scratch);
//   // s.task_type == costroute::TaskType::kTranslation
#ifndef COSTROUTE_SIGNALS_H_
#define COSTROUTE_SIGNALS_H_

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "costroute/catalog.h"
#include "costroute/context.h"
#include "costroute/internal/signal_cues.h"
#include "costroute/internal/term_table.h"
#include "costroute/internal/text_shape.h"
#include "costroute/text.h"

namespace costroute {

enum class TaskType : uint8_t {
  kChat,
  kQuestion,  // a factual or knowledge question
  kClassification,
  kSentiment,
  kExtraction,
  kTranslation,
  kSummarization,
  kCode,
  kMath,
  kReasoning,
  kWriting,
};
inline constexpr int kTaskTypeCount = 11;

enum class Domain : uint8_t { kGeneral, kMedical, kLegal, kFinance, kScience, kTechnology };
inline constexpr int kDomainCount = 6;

// The script most of the query's letters are written in; kLatin for a query
// without letters.
enum class Script : uint8_t {
  kLatin, kCyrillic, kGreek, kArabic, kHebrew, kDevanagari, kHan, kKana, kHangul, kThai, kOther,
};
inline constexpr int kScriptCount = 11;

inline constexpr std::array<std::string_view, kTaskTypeCount> kTaskTypeNames = {
    "chat", "question", "classification", "sentiment", "extraction", "translation",
    "summarization", "code", "math", "reasoning", "writing"};
inline constexpr std::array<std::string_view, kDomainCount> kDomainNames = {
    "general", "medical", "legal", "finance", "science", "technology"};
inline constexpr std::array<std::string_view, kScriptCount> kScriptNames = {
    "latin", "cyrillic", "greek", "arabic", "hebrew", "devanagari", "han", "kana",
    "hangul", "thai", "other"};

inline std::string_view name_of(TaskType t) { return kTaskTypeNames[static_cast<int>(t)]; }
inline std::string_view name_of(Domain d) { return kDomainNames[static_cast<int>(d)]; }
inline std::string_view name_of(Script s) { return kScriptNames[static_cast<int>(s)]; }

// Parses a name from the lists above; false if unknown.
inline bool parse_task_type(std::string_view name, TaskType& out) {
  for (int i = 0; i < kTaskTypeCount; ++i) {
    if (kTaskTypeNames[i] == name) return out = static_cast<TaskType>(i), true;
  }
  return false;
}
inline bool parse_domain(std::string_view name, Domain& out) {
  for (int i = 0; i < kDomainCount; ++i) {
    if (kDomainNames[i] == name) return out = static_cast<Domain>(i), true;
  }
  return false;
}
inline bool parse_script(std::string_view name, Script& out) {
  for (int i = 0; i < kScriptCount; ++i) {
    if (kScriptNames[i] == name) return out = static_cast<Script>(i), true;
  }
  return false;
}

struct Signals {
  int64_t tokens = 0;      // estimated input tokens (TokenCounter)
  int words = 0;           // words of two or more letters or digits
  int reasoning_hits = 0;  // "why", "explain", "compare", "step by step", ...
  bool has_question = false;
  bool has_code = false;
  bool is_follow_up = false;  // a short continuation of a conversation
  TaskType task_type = TaskType::kChat;
  Domain domain = Domain::kGeneral;
  Script script = Script::kLatin;
  uint32_t needs = kText;   // Capability bits the request needs
  double complexity = 0.0;  // in [0, 1], see SignalExtractor
  // The classifier's p(small model is sufficient) is no signal here: it is
  // scored only when a policy asks (Request::p_small_ok()), and reported in
  // Decision::p_small_ok.
};

// A signal as a categorical value, so that a model can learn from it beside
// the text (ContextFeature fields named "signal.*"): "signal.task_type",
// "signal.domain", "signal.script", "signal.length" (estimated tokens:
// "<16", "<64", "<256", "<1024", ">=1024"), "signal.reasoning" ("0", "1",
// "2+"), "signal.code" and "signal.question" ("yes", "no"): the names of
// kSignalFeatures (model.h). Empty for any other name. The views are
// static: no allocation.
inline std::string_view signal_feature(const Signals& s, std::string_view field) {
  if (field == "signal.task_type") return name_of(s.task_type);
  if (field == "signal.domain") return name_of(s.domain);
  if (field == "signal.script") return name_of(s.script);
  if (field == "signal.length") {
    return s.tokens < 16 ? "<16" : s.tokens < 64 ? "<64" : s.tokens < 256 ? "<256" : s.tokens < 1024 ? "<1024" : ">=1024";
  }
  if (field == "signal.reasoning") return s.reasoning_hits == 0 ? "0" : s.reasoning_hits == 1 ? "1" : "2+";
  if (field == "signal.code") return s.has_code ? "yes" : "no";
  if (field == "signal.question") return s.has_question ? "yes" : "no";
  return {};
}

// Estimates the input tokens of a query for cost estimates and context
// windows. The default is a heuristic (about 4 bytes of ASCII per token,
// one token per other code point); hosts with their model's tokenizer at
// hand plug it in here. Implementations must be thread-safe; a count
// below zero is taken as zero.
class TokenCounter {
 public:
  virtual ~TokenCounter() = default;
  virtual int64_t count(std::string_view query) const = 0;
};

// The weights of the complexity score, a weighted sum of five parts each in
// [0, 1] (see SignalExtractor::complexity).
struct ComplexityWeights {
  double length = 0.30;
  double reasoning = 0.25;
  double task = 0.25;
  double domain = 0.10;
  double code = 0.10;
};

class SignalExtractor {
 public:
  explicit SignalExtractor(ComplexityWeights weights = {},
                           std::shared_ptr<const TokenCounter> counter = nullptr)
      : weights_(weights), counter_(std::move(counter)) {
    // Group the cues by phrase: the cues of table column c are
    // cues_[cue_start_[c], cue_start_[c + 1]).
    cues_.assign(internal::kCues.begin(), internal::kCues.end());
    std::stable_sort(cues_.begin(), cues_.end(), [](const internal::Cue& a, const internal::Cue& b) {
      return a.phrase < b.phrase;
    });
    std::vector<std::string> phrases;
    for (size_t i = 0; i < cues_.size(); ++i) {
      if (i == 0 || cues_[i].phrase != cues_[i - 1].phrase) {
        phrases.emplace_back(cues_[i].phrase);
        cue_start_.push_back(static_cast<uint32_t>(i));
      }
    }
    cue_start_.push_back(static_cast<uint32_t>(cues_.size()));
    cue_table_ = internal::TermTable(phrases, internal::TermTable::Filter::kAllTerms);
    // First words of two-word cues: only after one of them is a bigram worth
    // hashing.
    phrase_starts_.assign(kPhraseStartBits / 64, 0);
    for (const std::string& phrase : phrases) {
      const size_t space = phrase.find(' ');
      if (space == std::string::npos) continue;
      const uint64_t bit = internal::hash_token(std::string_view(phrase).substr(0, space)) & (kPhraseStartBits - 1);
      phrase_starts_[bit >> 6] |= uint64_t{1} << (bit & 63);
    }
  }

  const ComplexityWeights& weights() const { return weights_; }

  // Signals of `query`. `scratch.tokens`, `scratch.token_hashes` and
  // `scratch.token_heads` must hold the query's lowercased tokens, their
  // hashes and heads, as Vectorizer::transform
  // leaves them; without a model, call prepare() first. Never fails; no heap
  // allocation once the scratch has grown.
  Signals extract(std::string_view query, const Context& context,
                  const TextScratch& scratch) const {
    Signals s;
    const internal::TextShape shape = internal::measure_shape(query);
    // A host's counter that answers below zero counts as zero tokens.
    s.tokens = counter_ ? std::max<int64_t>(0, counter_->count(query)) : shape.estimated_tokens();
    s.words = static_cast<int>(scratch.tokens.size());
    s.has_question = shape.question_marks > 0;
    s.script = static_cast<Script>(shape.dominant_script());

    std::array<double, kTaskTypeCount> task{};
    std::array<double, kDomainCount> domain{};
    double follow_up = 0.0;
    const TokenBuffer& tokens = scratch.tokens;
    const std::vector<uint64_t>& hashes = scratch.token_hashes;
    const std::vector<uint64_t>& heads = scratch.token_heads;
    auto apply = [&](int32_t column, size_t position) {
      for (uint32_t c = cue_start_[column]; c < cue_start_[column + 1]; ++c) {
        const internal::Cue& cue = cues_[c];
        // Instructions usually open or close the query: "Translate ...",
        // "... Summarize the above."
        const double weight = cue.weight * (position < 3 || position + 3 >= tokens.size() ? 2.0 : 1.0);
        switch (cue.kind) {
          case internal::CueKind::kReasoning:
            ++s.reasoning_hits;
            task[static_cast<int>(TaskType::kReasoning)] += weight;
            break;
          case internal::CueKind::kTask:
            task[cue.target] += weight;
            break;
          case internal::CueKind::kDomain:
            domain[cue.target] += cue.weight;
            break;
          case internal::CueKind::kFollowUp:
            follow_up += position == 0 ? 2.0 : 1.0;
            break;
        }
      }
    };
    // Most tokens are no cue. Mark, 64 tokens at a time and without
    // branches, those whose hash passes the cue filter or that may open a
    // two-word cue; then look up only the marked ones, in token order.
    const size_t n_tokens = tokens.size();
    for (size_t base = 0; base < n_tokens; base += 64) {
      const size_t end = std::min(n_tokens, base + 64);
      uint64_t single = 0, opening = 0;
      for (size_t i = base; i < end; ++i) {
        single |= uint64_t{cue_table_.may_contain(hashes[i])} << (i - base);
        opening |= uint64_t{starts_phrase(hashes[i])} << (i - base);
      }
      if (end == n_tokens) opening &= ~(uint64_t{1} << (end - 1 - base));  // the last token opens nothing
      for (uint64_t marked = single | opening; marked != 0; marked &= marked - 1) {
        const int bit = std::countr_zero(marked);
        const size_t i = base + static_cast<size_t>(bit);
        if ((single >> bit) & 1) {
          const int32_t column = cue_table_.find_token(hashes[i], heads[i], tokens[i]);
          if (column != internal::TermTable::kNotFound) apply(column, i);
        }
        if ((opening >> bit) & 1) {
          const uint64_t h = internal::combine_hash(hashes[i], hashes[i + 1]);
          if (cue_table_.may_contain(h)) {
            const int32_t column = cue_table_.find(h, tokens, i, 2, /*padded=*/true);
            if (column != internal::TermTable::kNotFound) apply(column, i);
          }
        }
      }
    }
    add_shape_votes(shape, s.words, task);

    s.has_code = shape.code_fences > 0 || task[static_cast<int>(TaskType::kCode)] >= 3.0;
    s.task_type = pick_task(task, s.has_question);
    s.domain = pick_domain(domain);
    TaskType hinted_task;
    if (!context.task_type.empty() && parse_task_type(context.task_type, hinted_task)) {
      s.task_type = hinted_task;
    }
    Domain hinted_domain;
    if (!context.domain.empty() && parse_domain(context.domain, hinted_domain)) {
      s.domain = hinted_domain;
    }
    const bool in_conversation = !context.earlier_turns.empty() || !context.session_model.empty();
    s.is_follow_up = in_conversation && s.words <= 12 && (follow_up > 0.0 || s.words <= 3);
    if (context.images > 0) s.needs |= kVision;
    if (context.audio_clips > 0) s.needs |= kAudio;
    s.complexity = complexity(s);
    return s;
  }

  // Tokenizes `query` into `scratch` for extract() when no model did.
  static void prepare(std::string_view query, TextScratch& scratch) {
    tokenize_and_hash(query, /*lowercase=*/true, scratch);
  }

  // The complexity score:
  //   length    log2(1 + tokens) / log2(1 + 2000), capped at 1
  //   reasoning reasoning_hits / 3, capped at 1
  //   task      a difficulty per task type (kTaskDifficulty below)
  //   domain    a risk per domain (kDomainRisk below)
  //   code      1 if the query holds or asks for code
  // weighted by ComplexityWeights and clamped to [0, 1].
  double complexity(const Signals& s) const {
    const double length =
        std::min(1.0, std::log2(1.0 + static_cast<double>(s.tokens)) / std::log2(2001.0));
    const double reasoning = std::min(1.0, s.reasoning_hits / 3.0);
    const double value = weights_.length * length + weights_.reasoning * reasoning +
                         weights_.task * kTaskDifficulty[static_cast<int>(s.task_type)] +
                         weights_.domain * kDomainRisk[static_cast<int>(s.domain)] +
                         weights_.code * (s.has_code ? 1.0 : 0.0);
    return std::clamp(value, 0.0, 1.0);
  }

  // Difficulty per task type, in TaskType order.
  static constexpr std::array<double, kTaskTypeCount> kTaskDifficulty = {
      0.2 /*chat*/,       0.3 /*question*/,      0.1 /*classification*/,
      0.1 /*sentiment*/,  0.2 /*extraction*/,    0.3 /*translation*/,
      0.4 /*summarization*/, 0.7 /*code*/,       0.7 /*math*/,
      0.8 /*reasoning*/,  0.5 /*writing*/};
  // Risk per domain, in Domain order.
  static constexpr std::array<double, kDomainCount> kDomainRisk = {
      0.2 /*general*/, 0.9 /*medical*/, 0.9 /*legal*/, 0.5 /*finance*/,
      0.5 /*science*/, 0.4 /*technology*/};

 private:
  static void add_shape_votes(const internal::TextShape& shape, int words,
                              std::array<double, kTaskTypeCount>& task) {
    auto vote = [&](TaskType t, double w) { task[static_cast<int>(t)] += w; };
    if (shape.code_fences > 0) vote(TaskType::kCode, 4.0);
    if (shape.code_symbols >= 6) vote(TaskType::kCode, 1.5);
    if (shape.answer_options >= 3) vote(TaskType::kQuestion, 3.0);
    if (shape.digits >= 2 && shape.math_operators >= 1) vote(TaskType::kMath, 1.0);
    if (shape.question_marks > 0 && words <= 40) vote(TaskType::kQuestion, 0.6);
  }

  static TaskType pick_task(const std::array<double, kTaskTypeCount>& task, bool has_question) {
    int best = -1;
    double best_score = 0.0;
    for (int t = 0; t < kTaskTypeCount; ++t) {
      if (task[t] > best_score) best = t, best_score = task[t];
    }
    if (best < 0) return has_question ? TaskType::kQuestion : TaskType::kChat;
    return static_cast<TaskType>(best);
  }

  static Domain pick_domain(const std::array<double, kDomainCount>& domain) {
    int best = 0;
    double best_score = 0.0;
    for (int d = 1; d < kDomainCount; ++d) {
      if (domain[d] > best_score) best = d, best_score = domain[d];
    }
    // One weak cue is not enough evidence to leave "general".
    return best_score >= 2.0 ? static_cast<Domain>(best) : Domain::kGeneral;
  }

  static constexpr uint64_t kPhraseStartBits = 4096;
  bool starts_phrase(uint64_t token_hash) const {
    const uint64_t bit = token_hash & (kPhraseStartBits - 1);
    return (phrase_starts_[bit >> 6] >> (bit & 63)) & 1;
  }

  ComplexityWeights weights_;
  std::shared_ptr<const TokenCounter> counter_;
  std::vector<uint64_t> phrase_starts_;
  std::vector<internal::Cue> cues_;
  std::vector<uint32_t> cue_start_;
  internal::TermTable cue_table_;
};

}  // namespace costroute

#endif  // COSTROUTE_SIGNALS_H_
