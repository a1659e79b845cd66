// Internal: classifies 16 ASCII bytes at once for the tokenizer. Installed,
// not API; may change without notice.
//
// Scalar tokenizing pays a branch misprediction at nearly every word
// boundary; classifying a block into bit masks and walking the masks costs
// about one per block instead. SSE2 (every x86-64) does the classifying;
// elsewhere a plain loop fills the same masks.
#ifndef COSTROUTE_INTERNAL_ASCII_BLOCK_H_
#define COSTROUTE_INTERNAL_ASCII_BLOCK_H_

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "costroute/internal/unicode.h"

namespace costroute::internal {

inline constexpr int kBlock = 16;

struct AsciiBlock {
  uint32_t non_ascii;    // bit i: byte i is >= 0x80 (nothing else is valid then)
  uint32_t word;         // bit i: [0-9A-Za-z_]
  uint32_t cased;        // bit i: [A-Za-z]
  uint32_t significant;  // bit i: not case-ignorable (for the final-sigma rule)
};

// Classifies in[0, 16) and, if `lowercase`, writes it lowercased to
// out[0, 16) (copied as is otherwise). Only meaningful when non_ascii == 0.
inline AsciiBlock classify_block(const unsigned char* in, char* out, bool lowercase) {
  AsciiBlock block;
#if defined(__SSE2__)
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in));
  // x in [lo, lo + n) as a signed compare after shifting lo to -128.
  auto in_range = [](__m128i x, char lo, char n) {
    const __m128i shifted = _mm_sub_epi8(x, _mm_set1_epi8(static_cast<char>(lo + 128)));
    return _mm_cmplt_epi8(shifted, _mm_set1_epi8(static_cast<char>(-128 + n)));
  };
  const __m128i upper = in_range(v, 'A', 26);
  const __m128i letter = in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 26);
  const __m128i digit = in_range(v, '0', 10);
  const __m128i word = _mm_or_si128(_mm_or_si128(letter, digit),
                                    _mm_cmpeq_epi8(v, _mm_set1_epi8('_')));
  const __m128i ignorable = _mm_or_si128(
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\'')), _mm_cmpeq_epi8(v, _mm_set1_epi8('.'))),
      _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(':')),
                                _mm_cmpeq_epi8(v, _mm_set1_epi8('^'))),
                   _mm_cmpeq_epi8(v, _mm_set1_epi8('`'))));
  const __m128i lowered =
      lowercase ? _mm_add_epi8(v, _mm_and_si128(upper, _mm_set1_epi8(0x20))) : v;
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), lowered);
  block.non_ascii = static_cast<uint32_t>(_mm_movemask_epi8(v));
  block.word = static_cast<uint32_t>(_mm_movemask_epi8(word));
  block.cased = static_cast<uint32_t>(_mm_movemask_epi8(letter));
  block.significant = static_cast<uint32_t>(_mm_movemask_epi8(ignorable)) ^ 0xFFFF;
#else
  block = AsciiBlock{0, 0, 0, 0};
  for (int i = 0; i < kBlock; ++i) {
    const unsigned char b = in[i];
    if (b >= 0x80) {
      block.non_ascii |= 1u << i;
      out[i] = static_cast<char>(b);
      continue;
    }
    const AsciiInfo info = kAscii[b];
    out[i] = lowercase ? info.lower : static_cast<char>(b);
    if (info.flags & kAsciiWord) block.word |= 1u << i;
    if (info.flags & kAsciiCased) block.cased |= 1u << i;
    if (!(info.flags & kAsciiCaseIgnorable)) block.significant |= 1u << i;
  }
#endif
  return block;
}

}  // namespace costroute::internal

#endif  // COSTROUTE_INTERNAL_ASCII_BLOCK_H_
