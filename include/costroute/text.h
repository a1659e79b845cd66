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
#include "costroute/internal/numeric.h"
#include "costroute/internal/term_table.h"
#include "costroute/internal/unicode.h"

namespace costroute {

// The tokens of one text, stored back to back without separators. Reuse one
// buffer per thread: once it has grown to the longest text seen, tokenizing
// allocates nothing.
class TokenBuffer {
 public:
  void clear() {
    bytes_.clear();
    ends_.clear();
  }
  size_t size() const { return ends_.size(); }
  bool empty() const { return ends_.empty(); }
  std::string_view operator[](size_t i) const {
    const size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(bytes_).substr(begin, ends_[i] - begin);
  }
  std::vector<std::string> to_vector() const {
    std::vector<std::string> out;
    out.reserve(size());
    for (size_t i = 0; i < size(); ++i) out.emplace_back((*this)[i]);
    return out;
  }

 private:
  friend void tokenize(std::string_view, bool, TokenBuffer&);
  std::string bytes_;
  std::vector<size_t> ends_;
};

// Replaces the contents of `out` with the tokens of `text`: maximal runs of
// at least two word characters (Unicode letters, numbers and '_'), after
// Python's str.lower() when `lowercase` is set. Linear in the length of
// `text`; never fails.
inline void tokenize(std::string_view text, bool lowercase, TokenBuffer& out) {
  using internal::kAscii;
  out.clear();
  std::string& bytes = out.bytes_;
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t run_start = 0;   // where the current run of word characters began
  size_t run_chars = 0;   // its length in code points
  bool prev_cased = false;  // last code point that is not case-ignorable was cased

  auto close_run = [&] {
    if (run_chars >= 2) {
      out.ends_.push_back(bytes.size());
    } else {
      bytes.resize(run_start);
    }
    run_chars = 0;
    run_start = bytes.size();
  };

  size_t i = 0;
  while (i < n) {
    const unsigned char b = s[i];
    if (b < 0x80) {
      const internal::AsciiInfo info = kAscii[b];
      if (info.flags & internal::kAsciiWord) {
        bytes.push_back(lowercase ? info.lower : static_cast<char>(b));
        ++run_chars;
      } else if (run_chars > 0) {
        close_run();
      }
      if (!(info.flags & internal::kAsciiCaseIgnorable)) {
        prev_cased = info.flags & internal::kAsciiCased;
      }
      ++i;
      continue;
    }
    const int32_t cp = internal::decode_utf8(s, n, i);
    if (cp == internal::kInvalidUtf8) {
      close_run();
      prev_cased = false;
      continue;
    }
    int32_t lower = cp;
    if (lowercase) {
      if (cp == 0x130) {
        // LATIN CAPITAL LETTER I WITH DOT ABOVE lowers to "i" + U+0307; the
        // combining dot is not a word character and ends the run.
        bytes.push_back('i');
        ++run_chars;
        close_run();
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
      internal::append_utf8(bytes, lower);
      ++run_chars;
    } else {
      close_run();
    }
    if (!internal::is_case_ignorable(cp)) prev_cased = internal::is_cased(cp);
  }
  close_run();
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

// The settings of scikit-learn's TfidfVectorizer that costroute supports
// (analyzer "word", the default token pattern, no stop words, float64).
// Defaults are costroute's training defaults, which differ from
// scikit-learn's in ngram_max (2, not 1) and max_features (5000, not None).
struct VectorizerOptions {
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

// Longest n-gram a Vectorizer accepts.
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
struct TextScratch {
  TokenBuffer tokens;
  std::vector<uint64_t> token_hashes;
  std::vector<int32_t> hits;
  SparseRow row;
};

// A fitted TF-IDF vectorizer: vocabulary (term i is column i), idf weights
// and options. Immutable after creation and safe to share between threads.
class Vectorizer {
 public:
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
    if (options.ngram_min < 1 || options.ngram_max < options.ngram_min ||
        options.ngram_max > kMaxNgram) {
      return absl::InvalidArgumentError(
          absl::StrCat("ngram_range: expected 1 <= min <= max <= ", kMaxNgram,
                       ", got [", options.ngram_min, ", ", options.ngram_max,
                       "]"));
    }
    if (vocabulary.size() > static_cast<size_t>(INT32_MAX)) {
      return absl::InvalidArgumentError("vocabulary: too many terms");
    }
    const size_t expected_idf = options.use_idf ? vocabulary.size() : 0;
    if (idf.size() != expected_idf) {
      return absl::InvalidArgumentError(
          absl::StrCat("idf: expected ", expected_idf, " values, got ",
                       idf.size()));
    }
    for (size_t i = 0; i < idf.size(); ++i) {
      if (!std::isfinite(idf[i])) {
        return absl::InvalidArgumentError(
            absl::StrCat("idf[", i, "]: not a finite number"));
      }
    }
    if (!sublinear_tf_log.empty() && !options.sublinear_tf) {
      return absl::InvalidArgumentError(
          "sublinear_tf_log: present although sublinear_tf is false");
    }
    for (size_t i = 0; i < sublinear_tf_log.size(); ++i) {
      if (!std::isfinite(sublinear_tf_log[i])) {
        return absl::InvalidArgumentError(
            absl::StrCat("sublinear_tf_log[", i, "]: not a finite number"));
      }
    }
    Vectorizer v;
    v.options_ = options;
    v.sublinear_tf_log_ = std::move(sublinear_tf_log);
    v.vocabulary_ = std::move(vocabulary);
    v.idf_ = std::move(idf);
    v.table_ = internal::TermTable(v.vocabulary_);
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
    return v;
  }

  const VectorizerOptions& options() const { return options_; }
  size_t num_features() const { return vocabulary_.size(); }
  const std::vector<std::string>& vocabulary() const { return vocabulary_; }
  const std::vector<double>& idf() const { return idf_; }
  const std::vector<double>& sublinear_tf_log() const { return sublinear_tf_log_; }

  // Column of `term` (an n-gram: tokens joined by single spaces), or -1.
  int32_t find_term(std::string_view term) const {
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
    return table_.find(h, parts, 0, parts.size());
  }

  // The TF-IDF row of `text`, stored in `scratch.row` (in scikit-learn's
  // summation order, see SparseRow) and valid until the next call with the
  // same scratch. Never fails; an empty text or one
  // without known terms gives an empty row. Thread-safe with one scratch per
  // thread.
  const SparseRow& transform(std::string_view text, TextScratch& scratch) const {
    tokenize(text, options_.lowercase, scratch.tokens);
    count_terms(scratch);
    weight_row(scratch.row);
    return scratch.row;
  }

  // Term counts only (scikit-learn's CountVectorizer.transform), columns in
  // descending order.
  const SparseRow& count(std::string_view text, TextScratch& scratch) const {
    tokenize(text, options_.lowercase, scratch.tokens);
    count_terms(scratch);
    return scratch.row;
  }

  // Approximate bytes held, for memory reports.
  size_t memory_bytes() const {
    size_t bytes = table_.memory_bytes() + idf_.capacity() * sizeof(double);
    for (const std::string& t : vocabulary_) bytes += sizeof(t) + t.capacity();
    return bytes;
  }

 private:
  Vectorizer() = default;

  // Looks up every n-gram of scratch.tokens and leaves the distinct columns
  // with their counts in scratch.row, columns descending.
  void count_terms(TextScratch& scratch) const {
    const TokenBuffer& tokens = scratch.tokens;
    std::vector<uint64_t>& hashes = scratch.token_hashes;
    std::vector<int32_t>& hits = scratch.hits;
    hashes.clear();
    hits.clear();
    for (size_t i = 0; i < tokens.size(); ++i) {
      hashes.push_back(internal::hash_token(tokens[i]));
    }
    const size_t n_min = static_cast<size_t>(options_.ngram_min);
    const size_t n_max = static_cast<size_t>(options_.ngram_max);
    for (size_t first = 0; first < tokens.size(); ++first) {
      uint64_t h = hashes[first];
      const size_t longest = std::min(n_max, tokens.size() - first);
      for (size_t n = 1; n <= longest; ++n) {
        if (n > 1) h = internal::combine_hash(h, hashes[first + n - 1]);
        if (n < n_min) continue;
        const int32_t column = table_.find(h, tokens, first, n);
        if (column != internal::TermTable::kNotFound) hits.push_back(column);
      }
    }
    std::sort(hits.begin(), hits.end(), std::greater<int32_t>());
    SparseRow& row = scratch.row;
    row.clear();
    for (size_t k = 0; k < hits.size();) {
      size_t end = k + 1;
      while (end < hits.size() && hits[end] == hits[k]) ++end;
      row.columns.push_back(hits[k]);
      row.values.push_back(static_cast<double>(end - k));
      k = end;
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

  VectorizerOptions options_;
  std::vector<std::string> vocabulary_;
  std::vector<double> idf_;
  std::vector<double> sublinear_tf_log_;
  internal::TermTable table_;
};

}  // namespace costroute

#endif  // COSTROUTE_TEXT_H_
