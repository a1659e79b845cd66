// Internal: the vocabulary's lookup table, from an n-gram of tokens to its
// column. Installed, not API; may change without notice.
//
// Scoring looks up every unigram and bigram of a query, so this is the
// hottest code in the library. An n-gram is never built as a string: its
// key is a hash combined from its tokens' hashes, and a candidate is
// confirmed by comparing the stored term with the tokens piece by piece.
// Slots are 8 bytes (32-bit hash tag, column), open addressing with linear
// probing at a load factor of at most one half.
//
// Tokens (TokenBuffer) and stored terms are both followed by at least 8
// readable bytes, so hashing and comparing load 8 bytes at a time and mask
// the tail instead of calling memcpy or memcmp for a few bytes.
#ifndef COSTROUTE_INTERNAL_TERM_TABLE_H_
#define COSTROUTE_INTERNAL_TERM_TABLE_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#if defined(__GNUC__)
#define COSTROUTE_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define COSTROUTE_ALWAYS_INLINE inline
#endif

namespace costroute::internal {

inline constexpr bool kLittleEndian = std::endian::native == std::endian::little;

inline uint64_t load64(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

// The first n (< 8) bytes at p as the low bytes of a word, the rest zero.
// With `padded`, p[0..8) is readable and one load does it.
inline uint64_t load_tail(const char* p, size_t n, bool padded) {
  if (padded && kLittleEndian) return load64(p) & ((uint64_t{1} << (8 * n)) - 1);
  uint64_t w = 0;
  std::memcpy(&w, p, n);
  return w;
}

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Hash of one token's bytes. `padded`: 8 bytes past the end are readable.
inline uint64_t hash_token(std::string_view token, bool padded = false) {
  const char* p = token.data();
  size_t n = token.size();
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * 0xff51afd7ed558ccdULL);
  while (n >= 8) {
    h = (h ^ load64(p)) * 0x9FB21C651E98DF25ULL;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) h = (h ^ load_tail(p, n, padded)) * 0x9FB21C651E98DF25ULL;
  return mix64(h);
}

// Hash of an n-gram: the previous tokens' hash combined with the next token's.
inline uint64_t combine_hash(uint64_t ngram, uint64_t next_token) {
  return mix64(ngram * 0x9E3779B97F4A7C15ULL + next_token + 0x632BE59BD9B4E019ULL);
}

// a[0, n) == b[0, n), both padded by 8 readable bytes.
inline bool equal_padded(const char* a, const char* b, size_t n) {
  if (!kLittleEndian) return std::memcmp(a, b, n) == 0;
  while (n >= 8) {
    if (load64(a) != load64(b)) return false;
    a += 8;
    b += 8;
    n -= 8;
  }
  return n == 0 || load_tail(a, n, true) == load_tail(b, n, true);
}

class TermTable {
 public:
  static constexpr int32_t kNotFound = -1;

  TermTable() = default;

  // Builds the table over `terms`; term i maps to column i. An n-gram term
  // is its tokens joined by single spaces. Duplicate terms are the caller's
  // to reject; here the first one wins.
  // Which terms the bitmap filter covers: only n-grams (the vocabulary,
  // whose unigram lookups mostly hit) or every term (small cue tables, whose
  // lookups mostly miss).
  enum class Filter { kNgrams, kAllTerms };

  explicit TermTable(std::span<const std::string> terms, Filter filter = Filter::kNgrams) {
    offsets_.reserve(terms.size() + 1);
    offsets_.push_back(0);
    size_t total = 0;
    for (const std::string& t : terms) total += t.size();
    arena_.reserve(total + kPadding);
    for (const std::string& t : terms) {
      arena_ += t;
      offsets_.push_back(arena_.size());
    }
    arena_.append(kPadding, '\0');
    size_t capacity = 16;
    while (capacity < 2 * terms.size()) capacity *= 2;
    mask_ = capacity - 1;
    slots_.assign(capacity, Slot{0, kNotFound});
    ngram_filter_.assign(kFilterBits / 64, 0);
    for (size_t column = 0; column < terms.size(); ++column) {
      const uint64_t hash = term_hash(terms[column]);
      insert(hash, static_cast<int32_t>(column));
      if (filter == Filter::kAllTerms || terms[column].find(' ') != std::string::npos) {
        const uint64_t bit = filter_bit(hash);
        ngram_filter_[bit >> 6] |= uint64_t{1} << (bit & 63);
      }
    }
  }

  // False if no term covered by the filter (see Filter) has this hash. Most
  // n-grams of a query are not terms; this 8 KB bitmap answers for them
  // from the L1 cache, before the probe into the larger slot table.
  bool may_contain(uint64_t hash) const {
    if (ngram_filter_.empty()) return false;
    const uint64_t bit = filter_bit(hash);
    return (ngram_filter_[bit >> 6] >> (bit & 63)) & 1;
  }

  // Column of the n-gram made of `tokens[first, first + n)`, whose combined
  // hash is `hash`, or kNotFound. Tokens must be padded (TokenBuffer) when
  // `padded` is set.
  template <typename Tokens>
  COSTROUTE_ALWAYS_INLINE int32_t find(uint64_t hash, const Tokens& tokens, size_t first, size_t n,
               bool padded) const {
    if (slots_.empty()) return kNotFound;
    const uint32_t tag = static_cast<uint32_t>(hash >> 32);
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot slot = slots_[i];
      if (slot.column == kNotFound) return kNotFound;
      if (slot.tag == tag && matches(slot.column, tokens, first, n, padded)) {
        return slot.column;
      }
    }
  }

  // Starts loading the slot where a lookup of `hash` begins, so that a batch
  // of lookups waits for memory once rather than once each.
  void prefetch(uint64_t hash) const {
#if defined(__GNUC__)
    if (!slots_.empty()) __builtin_prefetch(&slots_[hash & mask_]);
#else
    (void)hash;
#endif
  }

  size_t size() const { return offsets_.empty() ? 0 : offsets_.size() - 1; }

  std::string_view term(int32_t column) const {
    return std::string_view(arena_.data() + offsets_[column],
                            offsets_[column + 1] - offsets_[column]);
  }

  // Bytes held by the table, for memory reports.
  size_t memory_bytes() const {
    return arena_.capacity() + offsets_.capacity() * sizeof(uint32_t) +
           slots_.capacity() * sizeof(Slot) + ngram_filter_.capacity() * sizeof(uint64_t);
  }

 private:
  static constexpr size_t kPadding = 8;
  static constexpr size_t kFilterBits = size_t{1} << 16;

  // Bits 16..31 of the hash: independent of the slot index (low bits) and
  // of the tag (high bits).
  static uint64_t filter_bit(uint64_t hash) { return (hash >> 16) & (kFilterBits - 1); }

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
  COSTROUTE_ALWAYS_INLINE bool matches(int32_t column, const Tokens& tokens, size_t first, size_t n,
               bool padded) const {
    const char* stored = arena_.data() + offsets_[column];
    const size_t stored_size = offsets_[column + 1] - offsets_[column];
    size_t pos = 0;
    for (size_t k = 0; k < n; ++k) {
      const std::string_view token = tokens[first + k];
      if (k > 0) {
        if (pos >= stored_size || stored[pos] != ' ') return false;
        ++pos;
      }
      if (stored_size - pos < token.size()) return false;
      const bool equal = padded ? equal_padded(stored + pos, token.data(), token.size())
                                : std::memcmp(stored + pos, token.data(), token.size()) == 0;
      if (!equal) return false;
      pos += token.size();
    }
    return pos == stored_size;
  }

  std::string arena_;              // terms back to back, then kPadding zero bytes
  std::vector<uint32_t> offsets_;  // term i is arena_[offsets_[i], offsets_[i+1])
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  std::vector<uint64_t> ngram_filter_;
};

}  // namespace costroute::internal

#endif  // COSTROUTE_INTERNAL_TERM_TABLE_H_
