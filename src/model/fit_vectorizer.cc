// The vocabulary and idf, by scikit-learn's rules (CountVectorizer.fit and
// TfidfTransformer.fit, scikit-learn 1.2).
#include <algorithm>
#include <cmath>
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
};

}  // namespace

absl::StatusOr<Vectorizer> fit_vectorizer(std::span<const std::string> documents,
                                          const VectorizerOptions& options) {
  if (options.ngram_min < 1 || options.ngram_max < options.ngram_min ||
      options.ngram_max > kMaxNgram) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ngram_range: expected 1 <= min <= max <= ", kMaxNgram));
  }
  if (documents.size() > static_cast<size_t>(INT32_MAX)) {
    return absl::InvalidArgumentError("too many documents");
  }
  absl::flat_hash_map<std::string, TermCounts> counts;
  TokenBuffer tokens;
  std::string ngram;
  for (size_t doc = 0; doc < documents.size(); ++doc) {
    tokenize(documents[doc], options.lowercase, tokens);
    for (size_t first = 0; first < tokens.size(); ++first) {
      ngram.clear();
      const size_t longest =
          std::min<size_t>(options.ngram_max, tokens.size() - first);
      for (size_t n = 1; n <= longest; ++n) {
        if (n > 1) ngram.push_back(' ');
        ngram.append(tokens[first + n - 1]);
        if (n < static_cast<size_t>(options.ngram_min)) continue;
        auto it = counts.find(internal::to_absl(ngram));
        if (it == counts.end()) it = counts.emplace(ngram, TermCounts{}).first;
        TermCounts& c = it->second;
        ++c.total;
        if (c.last_document != static_cast<int32_t>(doc)) {
          c.last_document = static_cast<int32_t>(doc);
          ++c.documents;
        }
      }
    }
  }
  if (counts.empty()) {
    return absl::InvalidArgumentError(
        "empty vocabulary: no document has a word of two or more letters or "
        "digits");
  }

  // Terms in code-point (= UTF-8 byte) order, as scikit-learn numbers them.
  std::vector<std::pair<std::string, TermCounts>> terms(counts.begin(), counts.end());
  counts.clear();
  std::sort(terms.begin(), terms.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });

  const size_t n = documents.size();
  const double high = options.max_df.in_documents(n);
  const double low = options.min_df.in_documents(n);
  if (high < low) {
    return absl::InvalidArgumentError(
        "max_df corresponds to fewer documents than min_df");
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
