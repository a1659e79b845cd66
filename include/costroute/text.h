// costroute/text.h: from query text to the features the router scores.
//
// tokenize() splits text into words exactly as scikit-learn's default word
// analyzer does (Python's str.lower(), then the regex (?u)\b\w\w+\b), and
// Vectorizer turns a query into its TF-IDF row with the same numbers, bit
// for bit, as TfidfVectorizer.transform(). The rules are in
// shared/DESIGN.md, "scikit-learn import".
//
// Header-only; needs Abseil and utf8proc.
//
// **Example**:
//
//   costroute::TokenBuffer tokens;
//   costroute::tokenize("Don't panic: İstanbul, 3.14!", /*lowercase=*/true,
//                       tokens);
//   // tokens: "don", "panic", "stanbul", "14"
//
//   costroute::TextScratch scratch;  // one per thread, reused
//   const costroute::SparseRow& row = vectorizer.transform(query, scratch);
//
// Any bytes are accepted: a byte that is not part of well-formed UTF-8
// separates tokens, like punctuation, and is never part of one.
#ifndef COSTROUTE_TEXT_H_
#define COSTROUTE_TEXT_H_

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "costroute/internal/ascii_block.h"
#include "costroute/internal/char_ngrams.h"
#include "costroute/internal/numeric.h"
#include "costroute/internal/term_table.h"
#include "costroute/internal/unicode.h"

namespace costroute {

// The tokens of one text: byte ranges of a lowercased copy of it. Reuse one
// buffer per thread: once it has grown to the longest text seen, tokenizing
// allocates nothing.
class TokenBuffer {
 public:
  // Readable bytes after every token, so that hashing and comparing can load
  // 8 bytes at a time.
  static constexpr size_t kPadding = 8;

  void clear() { count_ = 0; }
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  std::string_view operator[](size_t i) const {
    return std::string_view(bytes_.data() + spans_[i].begin,
                            spans_[i].end - spans_[i].begin);
  }
  std::vector<std::string> to_vector() const {
    std::vector<std::string> out;
    out.reserve(size());
    for (size_t i = 0; i < size(); ++i) out.emplace_back((*this)[i]);
    return out;
  }

 private:
  friend void tokenize(std::string_view, bool, TokenBuffer&);
  struct Span {
    size_t begin;
    size_t end;
  };
  std::vector<char> bytes_;  // the lowercased text, then padding
  std::vector<Span> spans_;  // the first count_ are the tokens; only grows
  size_t count_ = 0;
};

// Replaces the contents of `out` with the tokens of `text`: maximal runs of
// at least two word characters (Unicode letters, numbers and '_'), after
// Python's str.lower() when `lowercase` is set. Linear in the length of
// `text`; never fails.
//
// Blocks of 16 ASCII bytes are classified at once (internal/ascii_block.h);
// the rest goes a code point at a time through utf8proc.
inline void tokenize(std::string_view text, bool lowercase, TokenBuffer& out) {
  using internal::kAscii;
  using internal::kBlock;
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  out.count_ = 0;
  // Lowercasing grows UTF-8 by at most half (U+023A, 2 bytes, lowers to
  // U+2C65, 3 bytes); twice the input is always enough, plus room for a
  // whole block's store and the padding.
  const size_t needed = 2 * n + kBlock + TokenBuffer::kPadding;
  if (out.bytes_.size() < needed) out.bytes_.resize(needed);
  char* const bytes = out.bytes_.data();
  // A token has at least two code points and tokens are apart, so there
  // are at most (n + 1) / 3 of them; one more slot lets a span be written
  // before it is known to be a token.
  const size_t max_spans = (n + 1) / 3 + 2;
  if (out.spans_.size() < max_spans) out.spans_.resize(max_spans);
  TokenBuffer::Span* const spans = out.spans_.data();
  size_t count = 0;
  size_t used = 0;          // bytes written to `bytes`
  size_t run_start = 0;     // where the current run of word characters began
  size_t run_chars = 0;     // its length in code points; 0: not in a run
  bool prev_cased = false;  // last code point that is not case-ignorable was cased

  auto close_run = [&](size_t end) {
    spans[count] = TokenBuffer::Span{run_start, end};
    count += run_chars >= 2;
    run_chars = 0;
  };
  auto extend_run = [&](size_t begin, size_t chars) {
    if (run_chars == 0) run_start = begin;
    run_chars += chars;
  };

  size_t i = 0;
  while (i < n) {
    if (n - i >= static_cast<size_t>(kBlock)) {
      const internal::AsciiBlock block = internal::classify_block(s + i, bytes + used, lowercase);
      if (block.non_ascii == 0) {
        // Runs start where a word byte follows a non-word byte and end
        // where a non-word byte follows a word byte; pair them in order.
        constexpr uint32_t kAll = (1u << kBlock) - 1;
        const uint32_t before = (block.word << 1) | (run_chars > 0 ? 1u : 0u);
        uint32_t starts = block.word & ~before & kAll;
        uint32_t ends = ~block.word & before & kAll;
        if (run_chars > 0) {
          if (ends == 0) {
            run_chars += kBlock;
          } else {
            const uint32_t end = static_cast<uint32_t>(std::countr_zero(ends));
            ends &= ends - 1;
            run_chars += end;
            close_run(used + end);
          }
        }
        for (; starts != 0; starts &= starts - 1) {
          const uint32_t start = static_cast<uint32_t>(std::countr_zero(starts));
          if (ends == 0) {  // the run goes on into the next block
            run_start = used + start;
            run_chars = kBlock - start;
            break;
          }
          const uint32_t end = static_cast<uint32_t>(std::countr_zero(ends));
          ends &= ends - 1;
          spans[count] = TokenBuffer::Span{used + start, used + end};
          count += end - start >= 2;
        }
        if (block.significant != 0) {
          const int last = 31 - std::countl_zero(block.significant);
          prev_cased = (block.cased >> last) & 1u;
        }
        used += kBlock;
        i += kBlock;
        continue;
      }
    }
    // One code point at a time, up to the end of the next block boundary.
    const size_t stop = std::min(n, i + kBlock);
    while (i < stop) {
      const unsigned char b = s[i];
      if (b < 0x80) {
        const internal::AsciiInfo info = kAscii[b];
        if (info.flags & internal::kAsciiWord) {
          bytes[used] = lowercase ? info.lower : static_cast<char>(b);
          extend_run(used, 1);
          ++used;
        } else if (run_chars > 0) {
          close_run(used);
        }
        if (!(info.flags & internal::kAsciiCaseIgnorable)) {
          prev_cased = info.flags & internal::kAsciiCased;
        }
        ++i;
        continue;
      }
      const int32_t cp = internal::decode_utf8(s, n, i);
      if (cp == internal::kInvalidUtf8) {
        close_run(used);
        prev_cased = false;
        continue;
      }
      int32_t lower = cp;
      if (lowercase) {
        if (cp == 0x130) {
          // LATIN CAPITAL LETTER I WITH DOT ABOVE lowers to "i" + U+0307; the
          // combining dot is not a word character and ends the run.
          bytes[used] = 'i';
          extend_run(used, 1);
          ++used;
          close_run(used);
          prev_cased = true;
          continue;
        }
        if (cp == 0x3A3) {
          lower = internal::is_final_sigma(prev_cased, s, n, i) ? 0x3C2 : 0x3C3;
        } else {
          lower = utf8proc_tolower(cp);
        }
      }
      if (internal::is_word_char(lower)) {
        const size_t length = internal::write_utf8(bytes + used, lower);
        extend_run(used, 1);
        used += length;
      } else {
        close_run(used);
      }
      if (!internal::is_case_ignorable(cp)) prev_cased = internal::is_cased(cp);
    }
  }
  close_run(used);
  out.count_ = count;
}

// A document-frequency bound as scikit-learn's min_df and max_df take it:
// an absolute number of documents, or a fraction of them.
struct DocumentFrequency {
  double value = 1.0;
  bool is_fraction = false;

  static DocumentFrequency documents(int count) {
    return DocumentFrequency{static_cast<double>(count), false};
  }
  static DocumentFrequency fraction(double share) {
    return DocumentFrequency{share, true};
  }
  // The bound as a number of documents out of `n_documents`.
  double in_documents(size_t n_documents) const {
    return is_fraction ? value * static_cast<double>(n_documents) : value;
  }
  bool operator==(const DocumentFrequency&) const = default;
};

enum class Norm { kNone, kL1, kL2 };

// What the terms are: word n-grams (scikit-learn's analyzer "word", with
// its default token pattern), or character n-grams across the text
// ("char") or within words padded by spaces ("char_wb").
enum class Analyzer { kWord, kChar, kCharWb };

inline std::string_view name_of(Analyzer a) {
  return a == Analyzer::kWord ? "word" : a == Analyzer::kChar ? "char" : "char_wb";
}
inline bool parse_analyzer(std::string_view name, Analyzer& out) {
  for (Analyzer a : {Analyzer::kWord, Analyzer::kChar, Analyzer::kCharWb}) {
    if (name_of(a) == name) return out = a, true;
  }
  return false;
}

// The settings of scikit-learn's TfidfVectorizer that costroute supports
// (analyzers "word" with the default token pattern, "char" and "char_wb";
// no stop words, no accent stripping, float64).
// Defaults are costroute's training defaults, which differ from
// scikit-learn's in ngram_max (2, not 1) and max_features (5000, not None).
struct VectorizerOptions {
  Analyzer analyzer = Analyzer::kWord;
  bool lowercase = true;
  int ngram_min = 1;
  int ngram_max = 2;
  bool binary = false;
  Norm norm = Norm::kL2;
  bool use_idf = true;
  bool smooth_idf = true;
  bool sublinear_tf = false;
  // Training only: which terms enter the vocabulary.
  DocumentFrequency min_df = DocumentFrequency::documents(1);
  DocumentFrequency max_df = DocumentFrequency::fraction(1.0);
  int max_features = 5000;  // 0: no limit

  bool operator==(const VectorizerOptions&) const = default;
};

// Longest n-gram a Vectorizer accepts (words or characters).
inline constexpr int kMaxNgram = 8;

// One TF-IDF row: parallel arrays of columns and values, in the order in
// which scikit-learn sums them, which parity requires: descending columns
// when idf weighting is on (the default), ascending when it is off.
struct SparseRow {
  std::vector<int32_t> columns;
  std::vector<double> values;

  size_t size() const { return columns.size(); }
  void clear() {
    columns.clear();
    values.clear();
  }
};

// Buffers reused by Vectorizer::transform. Not thread-safe: give each thread
// its own. After the longest query has been seen once, transform() makes no
// heap allocation.
//
// The per-token arrays only grow: they hold at least tokens.size()
// entries, and the first tokens.size() are the query's (resizing them down
// and up again would zero-fill them on every query).
struct TextScratch {
  TokenBuffer tokens;
  std::vector<uint64_t> token_hashes;
  std::vector<uint64_t> token_heads;  // first 8 bytes of each token
  // Per token: its column (or the sink), and may it be part of a known
  // n-gram (see Vectorizer).
  std::vector<uint32_t> token_columns;
  std::vector<uint8_t> token_in_ngram;
  // The n-grams of a query worth looking up: first tokens and hashes.
  std::vector<size_t> candidates;
  std::vector<uint64_t> candidate_hashes;
  // Count per column and a two-level bitmap of the columns a query hit, so
  // that its row comes out in column order without sorting. All zero
  // between calls; sized for the largest vectorizer used with this scratch,
  // plus one column for the words that are not terms.
  std::vector<uint32_t> column_counts;
  std::vector<uint64_t> column_bits;
  std::vector<uint64_t> column_summary;
  internal::CharText chars;  // the text as character n-grams are cut from it
  SparseRow row;

  // Makes room for `n` entries in a per-token array.
  template <typename T>
  static void grow_to(std::vector<T>& array, size_t n) {
    if (array.size() < n) array.resize(n);
  }
};

// Tokenizes `text` into scratch.tokens (see tokenize()) and fills
// scratch.token_hashes and token_heads with each token's hash_token(): the
// input of a Vectorizer's term lookups and of SignalExtractor. With `table`,
// the slot where each token's lookup will start begins loading.
inline void tokenize_and_hash(std::string_view text, bool lowercase, TextScratch& scratch,
                              const internal::TermTable* table = nullptr) {
  tokenize(text, lowercase, scratch.tokens);
  const size_t n_tokens = scratch.tokens.size();
  TextScratch::grow_to(scratch.token_hashes, n_tokens);
  TextScratch::grow_to(scratch.token_heads, n_tokens);
  auto hash_all = [&](auto&& then) {
    for (size_t i = 0; i < n_tokens; ++i) {
      scratch.token_hashes[i] = internal::hash_token(scratch.tokens[i], /*padded=*/true, scratch.token_heads[i]);
      then(scratch.token_hashes[i]);
    }
  };
  if (table) {
    hash_all([table](uint64_t hash) { table->prefetch(hash); });
  } else {
    hash_all([](uint64_t) {});
  }
}

// A fitted TF-IDF vectorizer: vocabulary (term i is column i), idf weights
// and options. Immutable after creation and safe to share between threads.
class Vectorizer {
 public:
  // The largest idf (and, in Model, coefficient) magnitude a model may
  // hold: far beyond any trained value, and small enough that no sum over
  // a query can overflow.
  static constexpr double kMaxWeight = 1e100;

  // What is wrong with an idf or coefficient `value`, for a message, or
  // null if nothing is.
  static const char* weight_problem(double value) {
    if (!std::isfinite(value)) return "not a finite number";
    if (std::fabs(value) > kMaxWeight) return "beyond 1e100 in size";
    return nullptr;
  }

  // The settings' own ranges, before any data: n-gram range within [1,
  // kMaxNgram], max_features >= 0 (0: no limit), min_df and max_df a
  // fraction in [0, 1] or a count in [0, 2^53]. InvalidArgument naming the
  // setting. create() and fit_vectorizer() check them first.
  [[nodiscard]] static absl::Status check_options(const VectorizerOptions& options) {
    if (options.ngram_min < 1 || options.ngram_max < options.ngram_min || options.ngram_max > kMaxNgram) {
      return absl::InvalidArgumentError(absl::StrCat("ngram_range: expected 1 <= min <= max <= ", kMaxNgram,
                                                     ", got [", options.ngram_min, ", ", options.ngram_max, "]"));
    }
    if (options.max_features < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("max_features: expected 0 (no limit) or a positive number, got ", options.max_features));
    }
    for (const auto& [name, df] : {std::pair{"min_df", options.min_df}, std::pair{"max_df", options.max_df}}) {
      if (!(df.value >= 0.0) || (df.is_fraction ? df.value > 1.0 : df.value > 9007199254740992.0)) {
        return absl::InvalidArgumentError(absl::StrCat(
            name, ": expected ", df.is_fraction ? "a fraction in [0, 1]" : "a count of documents in [0, 2^53]"));
      }
    }
    return absl::OkStatus();
  }

  // Validates and builds a vectorizer. Errors (InvalidArgument) name the
  // field: "ngram_range", "idf: expected 5000 values, got 4999",
  // "idf[7]: not a finite number", "vocabulary[12]: duplicate term \"ab\"".
  //
  // `sublinear_tf_log`, optional, holds ln(1), ln(2), ... as the program that
  // trained the model computed them: numpy's vectorised log can differ from
  // the C library's by one ulp, so a model exported from scikit-learn with
  // sublinear_tf carries numpy's values for exact parity. Counts beyond the
  // table use std::log.
  [[nodiscard]] static absl::StatusOr<Vectorizer> create(
      VectorizerOptions options, std::vector<std::string> vocabulary,
      std::vector<double> idf, std::vector<double> sublinear_tf_log = {}) {
    if (absl::Status checked = check_options(options); !checked.ok()) return checked;
    size_t vocabulary_bytes = 0;
    for (const std::string& term : vocabulary) vocabulary_bytes += term.size();
    if (vocabulary.size() > static_cast<size_t>(INT32_MAX) ||
        vocabulary_bytes > UINT32_MAX / 2) {
      return absl::InvalidArgumentError("vocabulary: too large");
    }
    const size_t expected_idf = options.use_idf ? vocabulary.size() : 0;
    if (idf.size() != expected_idf) {
      return absl::InvalidArgumentError(
          absl::StrCat("idf: expected ", expected_idf, " values, got ",
                       idf.size()));
    }
    for (size_t i = 0; i < idf.size(); ++i) {
      // Counts times idf, squared and summed, must not overflow.
      if (const char* problem = weight_problem(idf[i])) {
        return absl::InvalidArgumentError(absl::StrCat("idf[", i, "]: ", problem));
      }
      // ln(N / df) + 1 >= 1 with or without smoothing; zero or negative
      // would erase or flip the term.
      if (!(idf[i] > 0.0)) {
        return absl::InvalidArgumentError(absl::StrCat("idf[", i, "]: expected a positive number, got ", idf[i]));
      }
    }
    if (options.max_features > 0 && vocabulary.size() > static_cast<size_t>(options.max_features)) {
      return absl::InvalidArgumentError(absl::StrCat("vocabulary: ", vocabulary.size(),
                                                     " terms, more than max_features (", options.max_features, ")"));
    }
    for (size_t i = 0; i < vocabulary.size(); ++i) {
      const auto* bytes = reinterpret_cast<const unsigned char*>(vocabulary[i].data());
      int characters = 0, words = 1;
      for (size_t at = 0; at < vocabulary[i].size(); ++characters) {
        const int32_t c = internal::decode_utf8(bytes, vocabulary[i].size(), at);
        if (c == internal::kInvalidUtf8) {
          return absl::InvalidArgumentError(absl::StrCat("vocabulary[", i, "]: not valid UTF-8"));
        }
        words += c == ' ';
      }
      // A term the analyzer cannot produce would never match. Word n-grams
      // are tokens joined by single spaces; a character n-gram has at most
      // ngram_max characters (char_wb keeps a word shorter than ngram_min
      // whole, so it may have fewer than ngram_min).
      const bool by_words = options.analyzer == Analyzer::kWord;
      const int size = by_words ? words : characters;
      if (vocabulary[i].empty() || size > options.ngram_max ||
          (size < options.ngram_min && options.analyzer != Analyzer::kCharWb)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "vocabulary[", i, "]: \"", vocabulary[i], "\" is not a term of ", options.ngram_min, "-",
            options.ngram_max, by_words ? " words" : " characters", " (ngram_range)"));
      }
    }
    if (!sublinear_tf_log.empty() && !options.sublinear_tf) {
      return absl::InvalidArgumentError(
          "sublinear_tf_log: present although sublinear_tf is false");
    }
    for (size_t i = 0; i < sublinear_tf_log.size(); ++i) {
      // ln(i + 1), to within the ulps by which two log implementations differ.
      const double ln = std::log(static_cast<double>(i + 1));
      if (!(std::fabs(sublinear_tf_log[i] - ln) <= 1e-12 * std::max(1.0, ln))) {
        return absl::InvalidArgumentError(absl::StrCat("sublinear_tf_log[", i, "]: expected ln(", i + 1, ") = ", ln,
                                                       ", got ", sublinear_tf_log[i]));
      }
    }
    Vectorizer v;
    v.options_ = options;
    v.sublinear_tf_log_ = std::move(sublinear_tf_log);
    v.vocabulary_ = std::move(vocabulary);
    v.idf_ = std::move(idf);
    v.table_ = internal::TermTable(v.vocabulary_, internal::TermTable::Filter::kNgrams,
                                   options.analyzer == Analyzer::kWord ? internal::TermTable::Keys::kWordNgrams
                                                                       : internal::TermTable::Keys::kStrings);
    if (v.table_.size() != v.vocabulary_.size()) {
      return absl::InternalError("vocabulary: table size mismatch");
    }
    // The table keeps the first of two equal terms; find the second.
    for (size_t column = 0; column < v.vocabulary_.size(); ++column) {
      const int32_t found = v.find_term(v.vocabulary_[column]);
      if (found != static_cast<int32_t>(column)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "vocabulary[", column, "]: duplicate term \"",
            v.vocabulary_[column], "\" (also at vocabulary[", found, "])"));
      }
    }
    v.index_ngram_parts();
    return v;
  }

  const VectorizerOptions& options() const { return options_; }
  size_t num_features() const { return vocabulary_.size(); }
  const std::vector<std::string>& vocabulary() const { return vocabulary_; }
  const std::vector<double>& idf() const { return idf_; }
  const std::vector<double>& sublinear_tf_log() const { return sublinear_tf_log_; }

  // Column of `term` (a word n-gram: tokens joined by single spaces; or a
  // character n-gram), or -1.
  int32_t find_term(std::string_view term) const {
    if (options_.analyzer != Analyzer::kWord) {
      std::string padded(term);
      padded.append(internal::CharText::kPadding, '\0');
      const std::string_view view(padded.data(), term.size());
      uint64_t head;
      const uint64_t hash = internal::hash_token(view, /*padded=*/true, head);
      return table_.find_token(hash, head, view);
    }
    std::vector<std::string_view> parts;
    size_t start = 0;
    while (true) {
      const size_t space = term.find(' ', start);
      parts.push_back(term.substr(start, space - start));
      if (space == std::string_view::npos) break;
      start = space + 1;
    }
    uint64_t h = internal::hash_token(parts[0]);
    for (size_t k = 1; k < parts.size(); ++k) {
      h = internal::combine_hash(h, internal::hash_token(parts[k]));
    }
    return table_.find(h, parts, 0, parts.size(), /*padded=*/false);
  }

  // The TF-IDF row of `text`, stored in `scratch.row` (in scikit-learn's
  // summation order, see SparseRow) and valid until the next call with the
  // same scratch. Never fails; an empty text or one
  // without known terms gives an empty row. Thread-safe with one scratch per
  // thread.
  const SparseRow& transform(std::string_view text, TextScratch& scratch) const {
    count(text, scratch);
    weight_row(scratch.row);
    return scratch.row;
  }

  // Term counts only (scikit-learn's CountVectorizer.transform), columns in
  // descending order.
  const SparseRow& count(std::string_view text, TextScratch& scratch) const {
    if (options_.analyzer == Analyzer::kWord) {
      prepare_tokens(text, scratch);
      count_terms(scratch);
    } else {
      count_char_terms(text, scratch);
    }
    return scratch.row;
  }

  // After transform(), count() or prepare_tokens(), scratch.tokens holds the
  // text's lowercased word tokens and their hashes (which SignalExtractor
  // reads).
  bool leaves_word_tokens() const { return options_.analyzer == Analyzer::kWord && options_.lowercase; }

  // transform() in two steps, for a word vectorizer, so that a caller can
  // read the tokens before deciding whether it needs the row (the Router
  // scores only when a policy asks): prepare_tokens() tokenizes `text` into
  // scratch.tokens with their hashes and heads, and transform_prepared()
  // makes the row from them. transform() equals the two in a row.
  void prepare_tokens(std::string_view text, TextScratch& scratch) const {
    tokenize_and_hash(text, options_.lowercase, scratch, &table_);
  }
  const SparseRow& transform_prepared(TextScratch& scratch) const {
    count_terms(scratch);
    weight_row(scratch.row);
    return scratch.row;
  }

  // Approximate bytes held, for memory reports.
  size_t memory_bytes() const {
    size_t bytes = table_.memory_bytes() + pairs_.memory_bytes() + idf_.capacity() * sizeof(double);
    for (const std::string& t : vocabulary_) bytes += sizeof(t) + t.capacity();
    return bytes;
  }

 private:
  Vectorizer() = default;

  // Looks up every n-gram of scratch.tokens (hashed by prepare_tokens) and
  // leaves the distinct columns with their counts in scratch.row, columns
  // descending.
  //
  // Written to branch little on the query's words, whose hits and misses
  // a CPU cannot predict: a unigram that is not a term is counted in a
  // sink column one past the vocabulary, and the bigrams worth looking up
  // are first gathered into a list.
  void count_terms(TextScratch& scratch) const {
    const TokenBuffer& tokens = scratch.tokens;
    const size_t n_tokens = tokens.size();
    reserve_row(scratch.row, n_tokens);
    ColumnCounter counter = start_counting(scratch);

    const std::vector<uint64_t>& hashes = scratch.token_hashes;
    const std::vector<uint64_t>& heads = scratch.token_heads;
    std::vector<uint32_t>& columns = scratch.token_columns;
    std::vector<uint8_t>& in_ngram = scratch.token_in_ngram;
    TextScratch::grow_to(columns, n_tokens);
    TextScratch::grow_to(in_ngram, n_tokens);
    if (options_.ngram_min == 1) {
      for (size_t i = 0; i < n_tokens; ++i) {
        const int32_t found = table_.find_token(hashes[i], heads[i], tokens[i]);
        const size_t column = found == internal::TermTable::kNotFound ? counter.sink : static_cast<size_t>(found);
        counter.add(column);
        columns[i] = static_cast<uint32_t>(column);
        in_ngram[i] = prune_ngrams_ ? in_ngram_[column] : 1;
      }
    } else {
      std::fill_n(in_ngram.begin(), n_tokens, uint8_t{1});
    }
    const size_t n_max = static_cast<size_t>(options_.ngram_max);
    std::vector<size_t>& candidates = scratch.candidates;
    std::vector<uint64_t>& candidate_hashes = scratch.candidate_hashes;
    TextScratch::grow_to(candidates, n_tokens);
    TextScratch::grow_to(candidate_hashes, n_tokens);
    for (size_t n = std::max<size_t>(2, options_.ngram_min); n <= n_max && n <= n_tokens; ++n) {
      // Gather the n-grams whose tokens may all be parts of n-gram terms
      // and whose hash passes the filter, then look those up.
      size_t n_candidates = 0;
      if (n == 2) {
        for (size_t first = 0; first + 2 <= n_tokens; ++first) {
          candidates[n_candidates] = first;
          n_candidates += in_ngram[first] & in_ngram[first + 1];
        }
      } else {
        for (size_t first = 0; first + n <= n_tokens; ++first) {
          uint8_t possible = in_ngram[first];
          for (size_t k = 1; k < n; ++k) possible &= in_ngram[first + k];
          candidates[n_candidates] = first;
          n_candidates += possible;
        }
      }
      size_t n_kept = 0;
      if (n == 2 && !pairs_.empty()) {
        // Bigrams by their words' columns (see ColumnPairTable).
        for (size_t c = 0; c < n_candidates; ++c) {
          const size_t first = candidates[c];
          const uint64_t key = internal::ColumnPairTable::key(columns[first], columns[first + 1]);
          candidate_hashes[n_kept] = key;
          n_kept += pairs_.may_contain(internal::ColumnPairTable::hash(key));
        }
        for (size_t c = 0; c < n_kept; ++c) {
          const uint64_t key = candidate_hashes[c];
          const int32_t found = pairs_.find(key, internal::ColumnPairTable::hash(key));
          if (found != internal::ColumnPairTable::kNotFound) counter.add(static_cast<size_t>(found));
        }
        continue;
      }
      for (size_t c = 0; c < n_candidates; ++c) {
        const size_t first = candidates[c];
        uint64_t h = hashes[first];
        for (size_t k = 1; k < n; ++k) h = internal::combine_hash(h, hashes[first + k]);
        candidate_hashes[n_kept] = h;
        candidates[n_kept] = first;
        n_kept += table_.may_contain(h);
      }
      for (size_t c = 0; c < n_kept; ++c) {
        const int32_t found = table_.find(candidate_hashes[c], tokens, candidates[c], n,
                                          /*padded=*/true);
        if (found != internal::TermTable::kNotFound) counter.add(static_cast<size_t>(found));
      }
    }
    collect(counter, scratch.row);
  }

  // Character n-grams: every window of the prepared text is a lookup; the
  // windows that are not terms count in the sink.
  void count_char_terms(std::string_view text, TextScratch& scratch) const {
    const bool word_bounded = options_.analyzer == Analyzer::kCharWb;
    reserve_row(scratch.row, 3 * text.size() + 2);  // code points of the prepared text, at most (CharText)
    internal::prepare_char_text(text, options_.lowercase, word_bounded, scratch.chars);
    ColumnCounter counter = start_counting(scratch);
    internal::for_each_char_ngram(scratch.chars, word_bounded, static_cast<size_t>(options_.ngram_min),
                                  static_cast<size_t>(options_.ngram_max), [&](std::string_view gram) {
                                    uint64_t head;
                                    const uint64_t hash = internal::hash_token(gram, /*padded=*/true, head);
                                    const int32_t found = table_.find_token(hash, head, gram);
                                    counter.add(found == internal::TermTable::kNotFound ? counter.sink
                                                                                        : static_cast<size_t>(found));
                                  });
    collect(counter, scratch.row);
  }

  // Room in `row` for every term that `positions` token (or character)
  // positions can hold, so that a query never grows the row after a longer
  // one: the scratch's promise of no allocation once the longest query has
  // been seen, whatever its terms.
  void reserve_row(SparseRow& row, size_t positions) const {
    const size_t lengths = static_cast<size_t>(options_.ngram_max - options_.ngram_min + 1);
    const size_t most = std::min(positions * lengths, vocabulary_.size());
    if (row.columns.capacity() < most) {
      row.columns.reserve(most);
      row.values.reserve(most);
    }
  }

  // Counts per column in a TextScratch's arrays, with a two-level bitmap of
  // the columns hit so that the row comes out in column order without
  // sorting. Column vocabulary_.size() is the sink for text that is no term.
  struct ColumnCounter {
    uint32_t* counts;
    uint64_t* bits;
    uint64_t* summary;
    size_t sink;
    size_t distinct = 0;  // columns hit, the sink included

    void add(size_t column) {
      distinct += counts[column]++ == 0;
      const size_t word = column >> 6;
      bits[word] |= uint64_t{1} << (column & 63);
      summary[word >> 6] |= uint64_t{1} << (word & 63);
    }
  };

  ColumnCounter start_counting(TextScratch& scratch) const {
    const size_t sink = vocabulary_.size();
    const size_t words = (sink + 1 + 63) / 64;
    if (scratch.column_counts.size() < sink + 1) {
      scratch.column_counts.resize(sink + 1);
      scratch.column_bits.resize(words);
      scratch.column_summary.resize((words + 63) / 64);
    }
    return ColumnCounter{scratch.column_counts.data(), scratch.column_bits.data(),
                         scratch.column_summary.data(), sink};
  }

  // Leaves the counted columns and counts in `row`, columns descending, and
  // the arrays all zero again.
  void collect(ColumnCounter& counter, SparseRow& row) const {
    uint32_t* const counts = counter.counts;
    uint64_t* const bits = counter.bits;
    uint64_t* const summary = counter.summary;
    const size_t sink = counter.sink;
    const size_t words = (sink + 1 + 63) / 64;
    size_t distinct = counter.distinct;
    // Forget the sink, then collect columns from the highest down,
    // clearing as we go.
    distinct -= counts[sink] != 0;
    counts[sink] = 0;
    bits[sink >> 6] &= ~(uint64_t{1} << (sink & 63));
    row.columns.resize(distinct);
    row.values.resize(distinct);
    int32_t* const out_columns = row.columns.data();
    double* const out_values = row.values.data();
    size_t out = 0;
    // The words are read into locals and cleared at once: clearing bits in
    // memory one at a time would chain every column through a store and a
    // reload (the arrays may alias, so the compiler cannot keep them).
    for (size_t s = (words + 63) / 64; s-- > 0;) {
      uint64_t used = summary[s];
      summary[s] = 0;
      while (used != 0) {
        const int top_word = 63 - std::countl_zero(used);
        used ^= uint64_t{1} << top_word;
        const size_t word = s * 64 + static_cast<size_t>(top_word);
        uint64_t hit = bits[word];
        bits[word] = 0;
        while (hit != 0) {
          const int top_bit = 63 - std::countl_zero(hit);
          hit ^= uint64_t{1} << top_bit;
          const int32_t column = static_cast<int32_t>(word * 64 + static_cast<size_t>(top_bit));
          out_columns[out] = column;
          out_values[out] = static_cast<double>(counts[column]);
          ++out;
          counts[column] = 0;
        }
      }
    }
  }

  // Counts to TF-IDF weights, in scikit-learn's order of operations.
  void weight_row(SparseRow& row) const {
    std::vector<double>& x = row.values;
    if (options_.binary) std::fill(x.begin(), x.end(), 1.0);
    if (options_.sublinear_tf) {
      const size_t table = sublinear_tf_log_.size();
      for (double& v : x) {
        const size_t count = static_cast<size_t>(v);
        v = (count <= table ? sublinear_tf_log_[count - 1] : std::log(v)) + 1.0;
      }
    }
    if (options_.use_idf) {
      for (size_t k = 0; k < x.size(); ++k) x[k] = x[k] * idf_[row.columns[k]];
    } else {
      // scikit-learn's rows leave CountVectorizer in ascending column order;
      // only the product with the idf diagonal (scipy) reverses them.
      std::reverse(row.columns.begin(), row.columns.end());
      std::reverse(x.begin(), x.end());
    }
    normalize(x);
  }

  // No FMA contraction here: parity needs each product rounded on its own.
  void normalize(std::vector<double>& x) const {
    if (options_.norm == Norm::kNone) return;
    double sum = 0.0;
    if (options_.norm == Norm::kL2) {
      for (double v : x) sum += internal::fp_barrier(v * v);
      if (sum == 0.0) return;
      sum = std::sqrt(sum);
    } else {
      for (double v : x) sum += std::fabs(v);
      if (sum == 0.0) return;
    }
    for (double& v : x) v /= sum;
  }

  // Most n-gram lookups of a query miss. When every token of every n-gram
  // term is itself a unigram term (true of any vocabulary whose cut is by
  // count, ties and max_df aside), an n-gram containing a token that is not
  // such a part cannot be a term, and its lookup is skipped.
  void index_ngram_parts() {
    in_ngram_.assign(vocabulary_.size() + 1, 0);  // and 0 for the sink column
    prune_ngrams_ = options_.ngram_min == 1 && options_.analyzer == Analyzer::kWord;
    for (const std::string& term : vocabulary_) {
      size_t start = 0;
      if (term.find(' ') == std::string::npos) continue;
      while (prune_ngrams_) {
        const size_t space = term.find(' ', start);
        const int32_t part =
            find_term(std::string_view(term).substr(start, space - start));
        if (part < 0) {
          prune_ngrams_ = false;
        } else {
          in_ngram_[part] = 1;
        }
        if (space == std::string::npos) break;
        start = space + 1;
      }
    }
    if (!prune_ngrams_) {
      in_ngram_.clear();
      return;
    }
    std::vector<internal::ColumnPairTable::Entry> bigrams;
    for (size_t column = 0; column < vocabulary_.size(); ++column) {
      const std::string_view term = vocabulary_[column];
      const size_t space = term.find(' ');
      if (space == std::string_view::npos || term.find(' ', space + 1) != std::string_view::npos) continue;
      bigrams.push_back({static_cast<uint32_t>(find_term(term.substr(0, space))),
                         static_cast<uint32_t>(find_term(term.substr(space + 1))),
                         static_cast<int32_t>(column)});
    }
    pairs_ = internal::ColumnPairTable(bigrams);
  }

  VectorizerOptions options_;
  std::vector<std::string> vocabulary_;
  std::vector<double> idf_;
  std::vector<double> sublinear_tf_log_;
  internal::TermTable table_;
  std::vector<uint8_t> in_ngram_;  // per column and the sink: a part of some n-gram term
  bool prune_ngrams_ = false;
  internal::ColumnPairTable pairs_;  // the bigrams, when prune_ngrams_
};

}  // namespace costroute

#endif  // COSTROUTE_TEXT_H_
