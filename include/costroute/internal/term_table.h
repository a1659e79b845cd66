// Internal: the vocabulary's lookup table, from an n-gram of tokens to its
// column. Installed, not API; may change without notice.
//
// Scoring looks up every unigram and bigram of a query, so this is the
// hottest code in the library. An n-gram is never built as a string: its
// key is a hash combined from its tokens' hashes, and a candidate is
// confirmed by comparing the stored term with the tokens piece by piece.
// Slots are 8 bytes (32-bit hash tag, column), open addressing with linear
// probing at a load factor of at most one half.
#ifndef COSTROUTE_INTERNAL_TERM_TABLE_H_
#define COSTROUTE_INTERNAL_TERM_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace costroute::internal {

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Hash of one token's bytes.
inline uint64_t hash_token(std::string_view token) {
  const char* p = token.data();
  size_t n = token.size();
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * 0xff51afd7ed558ccdULL);
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0x9FB21C651E98DF25ULL;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w) * 0x9FB21C651E98DF25ULL;
  }
  return mix64(h);
}

// Hash of an n-gram: the previous tokens' hash combined with the next token's.
inline uint64_t combine_hash(uint64_t ngram, uint64_t next_token) {
  return mix64(ngram * 0x9E3779B97F4A7C15ULL + next_token + 0x632BE59BD9B4E019ULL);
}

class TermTable {
 public:
  static constexpr int32_t kNotFound = -1;

  TermTable() = default;

  // Builds the table over `terms`; term i maps to column i. An n-gram term
  // is its tokens joined by single spaces. Duplicate terms are the caller's
  // to reject; here the first one wins.
  explicit TermTable(std::span<const std::string> terms) {
    offsets_.reserve(terms.size() + 1);
    offsets_.push_back(0);
    size_t total = 0;
    for (const std::string& t : terms) total += t.size();
    arena_.reserve(total);
    for (const std::string& t : terms) {
      arena_ += t;
      offsets_.push_back(arena_.size());
    }
    size_t capacity = 16;
    while (capacity < 2 * terms.size()) capacity *= 2;
    mask_ = capacity - 1;
    slots_.assign(capacity, Slot{0, kNotFound});
    for (size_t column = 0; column < terms.size(); ++column) {
      insert(term_hash(terms[column]), static_cast<int32_t>(column));
    }
  }

  // Column of the n-gram made of `tokens[first, first + n)`, whose combined
  // hash is `hash`, or kNotFound.
  template <typename Tokens>
  int32_t find(uint64_t hash, const Tokens& tokens, size_t first,
               size_t n) const {
    if (slots_.empty()) return kNotFound;
    const uint32_t tag = static_cast<uint32_t>(hash >> 32);
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.column == kNotFound) return kNotFound;
      if (slot.tag == tag && matches(slot.column, tokens, first, n)) {
        return slot.column;
      }
    }
  }

  size_t size() const { return offsets_.empty() ? 0 : offsets_.size() - 1; }

  std::string_view term(int32_t column) const {
    return std::string_view(arena_).substr(offsets_[column],
                                           offsets_[column + 1] - offsets_[column]);
  }

  // Bytes held by the table, for memory reports.
  size_t memory_bytes() const {
    return arena_.capacity() + offsets_.capacity() * sizeof(size_t) +
           slots_.capacity() * sizeof(Slot);
  }

 private:
  struct Slot {
    uint32_t tag;
    int32_t column;
  };

  static uint64_t term_hash(std::string_view term) {
    size_t space = term.find(' ');
    uint64_t h = hash_token(term.substr(0, space));
    while (space != std::string_view::npos) {
      const size_t start = space + 1;
      space = term.find(' ', start);
      h = combine_hash(h, hash_token(term.substr(start, space - start)));
    }
    return h;
  }

  void insert(uint64_t hash, int32_t column) {
    const uint32_t tag = static_cast<uint32_t>(hash >> 32);
    size_t i = hash & mask_;
    while (slots_[i].column != kNotFound) {
      if (slots_[i].tag == tag && term(slots_[i].column) == term(column)) return;
      i = (i + 1) & mask_;
    }
    slots_[i] = Slot{tag, column};
  }

  template <typename Tokens>
  bool matches(int32_t column, const Tokens& tokens, size_t first,
               size_t n) const {
    const std::string_view stored = term(column);
    size_t pos = 0;
    for (size_t k = 0; k < n; ++k) {
      const std::string_view token = tokens[first + k];
      if (k > 0) {
        if (pos >= stored.size() || stored[pos] != ' ') return false;
        ++pos;
      }
      if (stored.size() - pos < token.size() ||
          std::memcmp(stored.data() + pos, token.data(), token.size()) != 0) {
        return false;
      }
      pos += token.size();
    }
    return pos == stored.size();
  }

  std::string arena_;
  std::vector<size_t> offsets_;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

}  // namespace costroute::internal

#endif  // COSTROUTE_INTERNAL_TERM_TABLE_H_
