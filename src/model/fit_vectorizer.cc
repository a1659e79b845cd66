// The vocabulary and idf, by scikit-learn's rules (CountVectorizer.fit and
// TfidfTransformer.fit, scikit-learn 1.2).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "costroute/internal/status_macros.h"
#include "costroute/train.h"

namespace costroute {
namespace {

struct TermCounts {
  int64_t total = 0;       // occurrences in all documents
  int32_t documents = 0;   // documents containing the term
  int32_t last_document = -1;

  void add(int32_t document) {
    ++total;
    if (last_document != document) {
      last_document = document;
      ++documents;
    }
  }
};

// Counts every n-gram of every document. Tokens are interned to ids once,
// so a bigram is counted under a 64-bit key instead of a string built for
// it; longer n-grams use their ids' bytes as the key. Character n-grams
// are counted under their text.
class NgramCounter {
 public:
  explicit NgramCounter(const VectorizerOptions& options) : options_(options) {}

  void add_document(std::string_view text, int32_t document) {
    if (options_.analyzer != Analyzer::kWord) {
      const bool word_bounded = options_.analyzer == Analyzer::kCharWb;
      internal::prepare_char_text(text, options_.lowercase, word_bounded, chars_);
      internal::for_each_char_ngram(chars_, word_bounded, static_cast<size_t>(options_.ngram_min),
                                    static_cast<size_t>(options_.ngram_max), [&](std::string_view gram) {
                                      auto it = strings_.find(internal::to_absl(gram));
                                      if (it == strings_.end()) it = strings_.try_emplace(std::string(gram)).first;
                                      it->second.add(document);
                                    });
      return;
    }
    tokenize(text, options_.lowercase, tokens_);
    ids_.clear();
    for (size_t i = 0; i < tokens_.size(); ++i) {
      auto [it, inserted] = token_ids_.try_emplace(internal::to_absl(tokens_[i]),
                                                  static_cast<int32_t>(token_names_.size()));
      if (inserted) {
        token_names_.emplace_back(tokens_[i]);
        unigrams_.emplace_back();
      }
      ids_.push_back(it->second);
    }
    const size_t n_min = static_cast<size_t>(options_.ngram_min);
    const size_t n_max = static_cast<size_t>(options_.ngram_max);
    for (size_t first = 0; first < ids_.size(); ++first) {
      const size_t longest = std::min(n_max, ids_.size() - first);
      for (size_t n = std::max<size_t>(n_min, 1); n <= longest; ++n) {
        if (n == 1) {
          unigrams_[ids_[first]].add(document);
        } else if (n == 2) {
          const uint64_t key = (uint64_t{static_cast<uint32_t>(ids_[first])} << 32) |
                               static_cast<uint32_t>(ids_[first + 1]);
          bigrams_[key].add(document);
        } else {
          longer_[std::string(reinterpret_cast<const char*>(&ids_[first]), n * sizeof(int32_t))]
              .add(document);
        }
      }
    }
  }

  bool empty() const {
    for (const TermCounts& c : unigrams_) {
      if (c.total > 0) return false;
    }
    return bigrams_.empty() && longer_.empty() && strings_.empty();
  }

  // Every counted n-gram as text (tokens joined by spaces) with its counts.
  std::vector<std::pair<std::string, TermCounts>> terms() const {
    std::vector<std::pair<std::string, TermCounts>> out;
    for (size_t id = 0; id < unigrams_.size(); ++id) {
      if (unigrams_[id].total > 0) out.emplace_back(token_names_[id], unigrams_[id]);
    }
    for (const auto& [key, counts] : bigrams_) {
      out.emplace_back(absl::StrCat(token_names_[key >> 32], " ",
                                    token_names_[key & 0xFFFFFFFF]),
                       counts);
    }
    for (const auto& [key, counts] : longer_) {
      std::string text;
      for (size_t k = 0; k < key.size(); k += sizeof(int32_t)) {
        int32_t id;
        std::memcpy(&id, key.data() + k, sizeof(id));
        if (k > 0) text.push_back(' ');
        text += token_names_[id];
      }
      out.emplace_back(std::move(text), counts);
    }
    for (const auto& [text, counts] : strings_) out.emplace_back(text, counts);
    return out;
  }

 private:
  const VectorizerOptions& options_;
  TokenBuffer tokens_;
  std::vector<int32_t> ids_;
  absl::flat_hash_map<std::string, int32_t> token_ids_;
  std::vector<std::string> token_names_;
  std::vector<TermCounts> unigrams_;
  absl::flat_hash_map<uint64_t, TermCounts> bigrams_;
  absl::flat_hash_map<std::string, TermCounts> longer_;
  internal::CharText chars_;
  absl::flat_hash_map<std::string, TermCounts> strings_;  // character n-grams
};

}  // namespace

absl::StatusOr<Vectorizer> fit_vectorizer(std::span<const std::string> documents,
                                          const VectorizerOptions& options) {
  COSTROUTE_RETURN_IF_ERROR(Vectorizer::check_options(options));
  if (documents.size() > static_cast<size_t>(INT32_MAX)) {
    return absl::InvalidArgumentError("too many documents");
  }
  NgramCounter counter(options);
  for (size_t doc = 0; doc < documents.size(); ++doc) {
    counter.add_document(documents[doc], static_cast<int32_t>(doc));
  }
  if (counter.empty()) {
    // Why, in the terms of the settings: n-grams longer than any document's.
    const int n = options.ngram_min;
    const std::string range = absl::StrCat(" (ngram_range starts at ", n, ")");
    if (options.analyzer == Analyzer::kWord) {
      return absl::InvalidArgumentError(
          n == 1 ? "empty vocabulary: no document has a word of two or more letters or digits"
                 : absl::StrCat("empty vocabulary: no document has ", n, " words of two or more letters or digits",
                                range));
    }
    // char_wb keeps a word shorter than n whole (as scikit-learn does), so
    // only documents without a word leave it nothing.
    return absl::InvalidArgumentError(
        n == 1 || options.analyzer == Analyzer::kCharWb
            ? "empty vocabulary: every document is empty or whitespace"
            : absl::StrCat("empty vocabulary: no document has ", n, " characters", range));
  }

  // Terms in code-point (= UTF-8 byte) order, as scikit-learn numbers them.
  std::vector<std::pair<std::string, TermCounts>> terms = counter.terms();
  std::sort(terms.begin(), terms.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });

  const size_t n = documents.size();
  const double high = options.max_df.in_documents(n);
  const double low = options.min_df.in_documents(n);
  if (high < low) {
    // scikit-learn's error, with the numbers: a fraction's count depends on
    // the number of documents.
    return absl::InvalidArgumentError(absl::StrCat("max_df corresponds to fewer documents than min_df: at most ",
                                                   high, " against at least ", low, " of ", n, " documents"));
  }
  std::vector<size_t> kept;
  for (size_t i = 0; i < terms.size(); ++i) {
    const double df = terms[i].second.documents;
    if (df <= high && df >= low) kept.push_back(i);
  }
  if (options.max_features > 0 &&
      kept.size() > static_cast<size_t>(options.max_features)) {
    // Highest total counts; scikit-learn breaks ties with numpy's unstable
    // sort, which no one can reproduce, so ties go to the earlier term.
    std::stable_sort(kept.begin(), kept.end(), [&](size_t a, size_t b) {
      return terms[a].second.total > terms[b].second.total;
    });
    kept.resize(options.max_features);
    std::sort(kept.begin(), kept.end());
  }
  if (kept.empty()) {
    return absl::InvalidArgumentError(
        "no terms remain after min_df and max_df; lower min_df or raise max_df");
  }

  std::vector<std::string> vocabulary;
  std::vector<double> idf;
  vocabulary.reserve(kept.size());
  const int smooth = options.smooth_idf ? 1 : 0;
  for (size_t i : kept) {
    vocabulary.push_back(std::move(terms[i].first));
    if (options.use_idf) {
      const double samples = static_cast<double>(n + smooth);
      const double df = static_cast<double>(terms[i].second.documents + smooth);
      idf.push_back(std::log(samples / df) + 1.0);
    }
  }
  return Vectorizer::create(options, std::move(vocabulary), std::move(idf));
}

}  // namespace costroute
