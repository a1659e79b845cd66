// Internal: the vocabulary's lookup table, from an n-gram of tokens to its
// column. Installed, not API; may change without notice.
//
// Scoring looks up every unigram and bigram of a query, so this is the
// hottest code in the library. An n-gram is never built as a string: its
// key is a hash combined from its tokens' hashes, which picks the slot.
// Each 16-byte slot holds the term's first 8 bytes and its length, so a
// term of up to 8 bytes (most words) is confirmed by two compares inside
// the slot, without touching the stored terms; longer ones are then
// compared with the stored term piece by piece. Open addressing with
// linear probing at a load factor of at most a quarter (a half for large
// vocabularies).
//
// Tokens (TokenBuffer) and stored terms are both followed by at least 8
// readable bytes, so hashing and comparing load 8 bytes at a time and mask
// the tail instead of calling memcpy or memcmp for a few bytes.
#ifndef COSTROUTE_INTERNAL_TERM_TABLE_H_
#define COSTROUTE_INTERNAL_TERM_TABLE_H_

#include <algorithm>
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

// The first n (<= 8) bytes at p as the low bytes of a word, the rest zero.
// With `padded`, p[0..8) is readable and one load does it.
inline uint64_t load_tail(const char* p, size_t n, bool padded) {
  if (padded && kLittleEndian) {
    const uint64_t mask = n >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * n)) - 1;
    return load64(p) & mask;
  }
  uint64_t w = 0;
  if (n > 8) n = 8;
  if (kLittleEndian) {
    std::memcpy(&w, p, n);
  } else {
    for (size_t k = 0; k < n; ++k) w |= uint64_t{static_cast<unsigned char>(p[k])} << (8 * k);
  }
  return w;
}

// Spreads the entropy of a word that has just been multiplied (whose high
// bits are well mixed) into its low bits, which index the slot table.
inline uint64_t finish_hash(uint64_t h) {
  h ^= h >> 32;
  h *= 0xD6E8FEB86659FD93ULL;
  h ^= h >> 29;
  return h;
}

// Hash of one token's bytes; `head` receives its first 8 bytes as
// load_tail() reads them, which the table compares before anything else.
// `padded`: 8 bytes past the end are readable.
inline uint64_t hash_token(std::string_view token, bool padded, uint64_t& head) {
  const char* p = token.data();
  const size_t n = token.size();
  head = load_tail(p, n, padded);
  uint64_t h = (0x9E3779B97F4A7C15ULL ^ (n * 0xff51afd7ed558ccdULL) ^ head) * 0x9FB21C651E98DF25ULL;
  for (size_t at = 8; at < n; at += 8) {
    h ^= h >> 29;
    h = (h ^ load_tail(p + at, n - at, padded)) * 0x9FB21C651E98DF25ULL;
  }
  return finish_hash(h);
}

inline uint64_t hash_token(std::string_view token, bool padded = false) {
  uint64_t head;
  return hash_token(token, padded, head);
}

// Hash of an n-gram: the previous tokens' hash combined with the next token's.
inline uint64_t combine_hash(uint64_t ngram, uint64_t next_token) {
  return finish_hash((ngram ^ 0x632BE59BD9B4E019ULL) * 0x9E3779B97F4A7C15ULL + next_token);
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

// The first 8 bytes of the n-gram tokens[first, first + n) joined by single
// spaces, as load_tail() would read them from the joined string, and its
// length in bytes.
template <typename Tokens>
COSTROUTE_ALWAYS_INLINE uint64_t ngram_head(const Tokens& tokens, size_t first, size_t n,
                                            bool padded, size_t& length) {
  const std::string_view token = tokens[first];
  length = token.size();
  uint64_t head = load_tail(token.data(), token.size(), padded);
  for (size_t k = 1; k < n; ++k) {
    const std::string_view next = tokens[first + k];
    if (length < 8) head |= uint64_t{' '} << (8 * length);
    ++length;
    if (length < 8) head |= load_tail(next.data(), std::min<size_t>(next.size(), 8 - length), padded) << (8 * length);
    length += next.size();
  }
  return head;
}

class TermTable {
 public:
  static constexpr int32_t kNotFound = -1;

  // Which terms the bitmap filter covers: only n-grams (the vocabulary,
  // whose unigram lookups mostly hit) or every term (small cue tables, whose
  // lookups mostly miss).
  enum class Filter { kNgrams, kAllTerms };
  // What a term is: word n-grams (tokens joined by single spaces, looked up
  // by find() and find_token()), or plain strings such as character
  // n-grams, spaces included (looked up by find_token() with the whole
  // string as the token).
  enum class Keys { kWordNgrams, kStrings };

  TermTable() = default;

  // Builds the table over `terms`; term i maps to column i. An n-gram term
  // is its tokens joined by single spaces. Duplicate terms are the caller's
  // to reject; here the first one wins.
  explicit TermTable(std::span<const std::string> terms, Filter filter = Filter::kNgrams,
                     Keys keys = Keys::kWordNgrams) {
    offsets_.reserve(terms.size() + 1);
    offsets_.push_back(0);
    size_t total = 0;
    for (const std::string& t : terms) total += t.size();
    arena_.reserve(total + kPadding);
    for (const std::string& t : terms) {
      arena_ += t;
      offsets_.push_back(static_cast<uint32_t>(arena_.size()));
    }
    arena_.append(kPadding, '\0');
    // A sparse table ends most lookups at the first slot, and a probe that
    // goes on costs a mispredicted branch: a load factor of at most 1/4
    // measured 6% faster route() than 1/2 with the default model. Tables
    // of more than 16k terms stay at 1/2, to bound the memory.
    const size_t spread = terms.size() <= (size_t{1} << 14) ? 4 : 2;
    size_t capacity = 16;
    while (capacity < spread * terms.size()) capacity *= 2;
    mask_ = capacity - 1;
    slots_.assign(capacity, Slot{});
    ngram_filter_.assign(kFilterBits / 64, 0);
    for (size_t column = 0; column < terms.size(); ++column) {
      const uint64_t hash = keys == Keys::kStrings ? hash_token(terms[column]) : term_hash(terms[column]);
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
    size_t length = 0;
    const uint64_t head = ngram_head(tokens, first, n, padded, length);
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.head == head && slot.length == length &&
          (length <= 8 || matches(slot.column, tokens, first, n, padded))) {
        return slot.column;
      }
      if (slot.column == kNotFound) return kNotFound;
    }
  }

  // Column of one token, padded (TokenBuffer), given its hash and head
  // from hash_token(), or kNotFound.
  COSTROUTE_ALWAYS_INLINE int32_t find_token(uint64_t hash, uint64_t head,
                                             std::string_view token) const {
    if (slots_.empty()) return kNotFound;
    const size_t length = token.size();
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.head == head && slot.length == length &&
          (length <= 8 ||
           equal_padded(arena_.data() + offsets_[slot.column] + 8, token.data() + 8, length - 8))) {
        return slot.column;
      }
      if (slot.column == kNotFound) return kNotFound;
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

  // Bits 16..31 of the hash: independent of the slot index (low bits).
  static uint64_t filter_bit(uint64_t hash) { return (hash >> 16) & (kFilterBits - 1); }

  // An empty slot has length 0 and column kNotFound; no n-gram of a query
  // is empty, so an empty slot never matches.
  struct Slot {
    uint64_t head = 0;    // the term's first 8 bytes, zero-padded (load_tail)
    uint32_t length = 0;  // the term's length in bytes
    int32_t column = kNotFound;
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
    const std::string_view t = term(column);
    size_t i = hash & mask_;
    while (slots_[i].column != kNotFound) {
      if (term(slots_[i].column) == t) return;
      i = (i + 1) & mask_;
    }
    slots_[i] = Slot{load_tail(t.data(), t.size(), /*padded=*/true), static_cast<uint32_t>(t.size()), column};
  }

  // The stored term of `column` equals the n-gram, whose length in bytes is
  // known to be the term's.
  template <typename Tokens>
  COSTROUTE_ALWAYS_INLINE bool matches(int32_t column, const Tokens& tokens, size_t first, size_t n,
                                       bool padded) const {
    const char* stored = arena_.data() + offsets_[column];
    for (size_t k = 0; k < n; ++k) {
      const std::string_view token = tokens[first + k];
      if (k > 0) {
        if (*stored != ' ') return false;
        ++stored;
      }
      const bool equal = padded ? equal_padded(stored, token.data(), token.size())
                                : std::memcmp(stored, token.data(), token.size()) == 0;
      if (!equal) return false;
      stored += token.size();
    }
    return true;
  }

  std::string arena_;              // terms back to back, then kPadding zero bytes
  std::vector<uint32_t> offsets_;  // term i is arena_[offsets_[i], offsets_[i+1])
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  std::vector<uint64_t> ngram_filter_;
};

// The vocabulary's bigrams keyed by the columns of their two words, for
// vocabularies whose bigrams' words are all unigram terms (see Vectorizer).
// Once a query's tokens have been looked up as unigrams, a bigram lookup is
// one multiply and one 64-bit compare, instead of rebuilding the bigram's
// head and comparing its bytes with the stored term (most bigrams are longer
// than the 8 bytes a TermTable slot holds). An 8 KB bitmap filter turns
// most pairs that are no term away from the L1 cache, as in TermTable.
class ColumnPairTable {
 public:
  static constexpr int32_t kNotFound = -1;

  struct Entry {
    uint32_t first;   // column of the first word
    uint32_t second;  // column of the second word
    int32_t column;   // column of the bigram
  };

  ColumnPairTable() = default;

  explicit ColumnPairTable(std::span<const Entry> entries) {
    if (entries.empty()) return;
    size_t capacity = 16;
    shift_ = 60;
    while (capacity < 4 * entries.size()) {
      capacity *= 2;
      --shift_;
    }
    mask_ = capacity - 1;
    slots_.assign(capacity, Slot{});
    filter_.assign(kFilterBits / 64, 0);
    for (const Entry& e : entries) {
      const uint64_t k = key(e.first, e.second);
      const uint64_t h = hash(k);
      size_t i = slot_index(h);
      while (slots_[i].column != kNotFound && slots_[i].key != k) i = (i + 1) & mask_;
      if (slots_[i].column == kNotFound) slots_[i] = Slot{k, e.column};
      const uint64_t bit = filter_bit(h);
      filter_[bit >> 6] |= uint64_t{1} << (bit & 63);
    }
  }

  bool empty() const { return slots_.empty(); }

  static uint64_t key(uint32_t first, uint32_t second) { return uint64_t{first} << 32 | second; }

  static uint64_t hash(uint64_t key) {
    const uint64_t h = key * 0x9E3779B97F4A7C15ULL;
    return h ^ (h >> 29);
  }

  // False if no bigram of the table has this hash.
  bool may_contain(uint64_t hash) const {
    const uint64_t bit = filter_bit(hash);
    return (filter_[bit >> 6] >> (bit & 63)) & 1;
  }

  // Column of the bigram with this key (and its hash), or kNotFound.
  COSTROUTE_ALWAYS_INLINE int32_t find(uint64_t key, uint64_t hash) const {
    for (size_t i = slot_index(hash);; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.key == key) return slot.column;
      if (slot.column == kNotFound) return kNotFound;
    }
  }

  size_t memory_bytes() const {
    return slots_.capacity() * sizeof(Slot) + filter_.capacity() * sizeof(uint64_t);
  }

 private:
  static constexpr size_t kFilterBits = size_t{1} << 16;

  // An empty slot's key has both halves at UINT32_MAX, which no column is.
  struct Slot {
    uint64_t key = ~uint64_t{0};
    int32_t column = kNotFound;
  };

  // The slot index from the hash's top bits, the filter bit from bits
  // 16..31 (mixed by the shift in hash()).
  size_t slot_index(uint64_t hash) const { return static_cast<size_t>(hash >> shift_) & mask_; }
  static uint64_t filter_bit(uint64_t hash) { return (hash >> 16) & (kFilterBits - 1); }

  std::vector<Slot> slots_;
  std::vector<uint64_t> filter_;
  size_t mask_ = 0;
  int shift_ = 60;
};

}  // namespace costroute::internal

#endif  // COSTROUTE_INTERNAL_TERM_TABLE_H_
