// Internal: the shape of a query's text (symbols, digits, question marks,
// code fences, answer options, scripts) measured in one pass. Installed,
// not API; may change without notice.
#ifndef COSTROUTE_INTERNAL_TEXT_SHAPE_H_
#define COSTROUTE_INTERNAL_TEXT_SHAPE_H_

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "costroute/internal/unicode.h"

namespace costroute::internal {

// Script indices, in the order of costroute::Script.
enum ScriptIndex : int {
  kScriptLatin, kScriptCyrillic, kScriptGreek, kScriptArabic, kScriptHebrew,
  kScriptDevanagari, kScriptHan, kScriptKana, kScriptHangul, kScriptThai, kScriptOther,
  kScriptIndexCount
};

struct TextShape {
  uint32_t ascii_bytes = 0;
  uint32_t other_code_points = 0;  // code points outside ASCII
  uint32_t question_marks = 0;     // '?' and U+FF1F
  uint32_t code_fences = 0;        // "```"
  uint32_t code_symbols = 0;       // { } ; < > and "=" next to no space are typical of code
  uint32_t digits = 0;
  uint32_t math_operators = 0;     // + * / ^ = %
  uint32_t answer_options = 0;     // lines opening "A." / "B)" ... (multiple choice)
  std::array<uint32_t, kScriptIndexCount> letters{};  // letters per script

  // About 4 bytes of ASCII per token and one token per other code point.
  int64_t estimated_tokens() const {
    return (static_cast<int64_t>(ascii_bytes) + 3) / 4 + other_code_points;
  }

  int dominant_script() const {
    int best = kScriptLatin;
    for (int i = 1; i < kScriptIndexCount; ++i) {
      if (letters[i] > letters[best]) best = i;
    }
    // Japanese mixes kana and Han; any real share of kana says Japanese.
    if ((best == kScriptHan || best == kScriptKana) && letters[kScriptKana] * 5 >= letters[kScriptHan] &&
        letters[kScriptKana] > 0) {
      best = kScriptKana;
    }
    return best;
  }
};

inline int script_of(int32_t cp) {
  if (cp < 0x0250 || (cp >= 0x1E00 && cp <= 0x1EFF)) return kScriptLatin;
  if ((cp >= 0x0370 && cp <= 0x03FF) || (cp >= 0x1F00 && cp <= 0x1FFF)) return kScriptGreek;
  if (cp >= 0x0400 && cp <= 0x052F) return kScriptCyrillic;
  if (cp >= 0x0590 && cp <= 0x05FF) return kScriptHebrew;
  if ((cp >= 0x0600 && cp <= 0x06FF) || (cp >= 0x0750 && cp <= 0x077F) ||
      (cp >= 0xFB50 && cp <= 0xFDFF) || (cp >= 0xFE70 && cp <= 0xFEFF)) {
    return kScriptArabic;
  }
  if (cp >= 0x0900 && cp <= 0x097F) return kScriptDevanagari;
  if (cp >= 0x0E00 && cp <= 0x0E7F) return kScriptThai;
  if ((cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x31F0 && cp <= 0x31FF) ||
      (cp >= 0xFF66 && cp <= 0xFF9F)) {
    return kScriptKana;
  }
  if ((cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
      (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x2FFFF)) {
    return kScriptHan;
  }
  if ((cp >= 0xAC00 && cp <= 0xD7AF) || (cp >= 0x1100 && cp <= 0x11FF) ||
      (cp >= 0x3130 && cp <= 0x318F)) {
    return kScriptHangul;
  }
  return kScriptOther;
}

// Position of the first byte >= 0x80 at or after `from`, or n.
inline size_t next_non_ascii(const unsigned char* s, size_t n, size_t from) {
#if defined(__SSE2__)
  for (; n - from >= 16; from += 16) {
    const int high = _mm_movemask_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + from)));
    if (high != 0) return from + static_cast<size_t>(std::countr_zero(static_cast<uint32_t>(high)));
  }
#endif
  while (from < n && s[from] < 0x80) ++from;
  return from;
}

inline TextShape measure_shape(std::string_view text) {
  TextShape t;
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  // The counts are 32-bit: a text past 4 GiB is measured on its first
  // 4 GiB, which already estimate about a billion tokens, beyond any
  // context window.
  const size_t n = std::min<size_t>(text.size(), UINT32_MAX);
  size_t i = 0;
  uint32_t high_bytes = 0;  // bytes >= 0x80
  int backticks = 0;        // nonzero if any '`'
  // A line opening "A." or "B)" ... "H)": an answer option.
  auto opens_answer_option = [&](size_t newline) -> uint32_t {
    return newline + 2 < n && s[newline + 1] >= 'A' && s[newline + 1] <= 'H' &&
           (s[newline + 2] == '.' || s[newline + 2] == ')');
  };
#if defined(__SSE2__)
  // Per-lane counters: a compare yields -1 per match, and subtracting it
  // counts; lanes are summed every 255 blocks, before a byte can overflow.
  auto eq = [](__m128i v, char c) { return _mm_cmpeq_epi8(v, _mm_set1_epi8(c)); };
  auto lane_sum = [](__m128i counts) {
    const __m128i sums = _mm_sad_epu8(counts, _mm_setzero_si128());
    return static_cast<uint32_t>(_mm_cvtsi128_si32(sums) + _mm_extract_epi16(sums, 4));
  };
  // The last partial block is copied into a zeroed one, which no counter
  // counts a zero byte of, so that the whole text goes through the SIMD path.
  alignas(16) unsigned char tail[16] = {};
  const size_t full = n - n % 16;
  if (full < n) std::memcpy(tail, s + full, n - full);
  while (i < n) {
    __m128i high = _mm_setzero_si128(), digits = high, questions = high, code = high, math = high,
            latin = high;
    for (int block = 0; block < 255 && i < n; ++block, i += 16) {
      const __m128i v = i < full ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i))
                                 : _mm_load_si128(reinterpret_cast<const __m128i*>(tail));
      for (uint32_t lines = static_cast<uint32_t>(_mm_movemask_epi8(eq(v, '\n'))); lines != 0; lines &= lines - 1) {
        t.answer_options += opens_answer_option(i + static_cast<size_t>(std::countr_zero(lines)));
      }
      backticks |= _mm_movemask_epi8(eq(v, '`'));
      high = _mm_sub_epi8(high, _mm_cmplt_epi8(v, _mm_setzero_si128()));
      const __m128i shifted = _mm_sub_epi8(v, _mm_set1_epi8(static_cast<char>('0' + 128)));
      digits = _mm_sub_epi8(digits, _mm_cmplt_epi8(shifted, _mm_set1_epi8(static_cast<char>(-128 + 10))));
      // (v | 0x20) in 'a'..'z': an ASCII letter; no byte >= 0x80 passes.
      const __m128i folded = _mm_sub_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)),
                                          _mm_set1_epi8(static_cast<char>('a' + 128)));
      latin = _mm_sub_epi8(latin, _mm_cmplt_epi8(folded, _mm_set1_epi8(static_cast<char>(-128 + 26))));
      questions = _mm_sub_epi8(questions, eq(v, '?'));
      code = _mm_sub_epi8(code, _mm_or_si128(_mm_or_si128(_mm_or_si128(eq(v, '{'), eq(v, '}')), eq(v, ';')),
                                             _mm_or_si128(eq(v, '<'), eq(v, '>'))));
      math = _mm_sub_epi8(math, _mm_or_si128(_mm_or_si128(_mm_or_si128(eq(v, '+'), eq(v, '*')),
                                                          _mm_or_si128(eq(v, '/'), eq(v, '^'))),
                                             _mm_or_si128(eq(v, '='), eq(v, '%'))));
    }
    high_bytes += lane_sum(high);
    t.digits += lane_sum(digits);
    t.letters[kScriptLatin] += lane_sum(latin);
    t.question_marks += lane_sum(questions);
    t.code_symbols += lane_sum(code);
    t.math_operators += lane_sum(math);
  }
  i = n;
#endif
  for (; i < n; ++i) {
    const unsigned char b = s[i];
    if (b >= 0x80) {
      ++high_bytes;
      continue;
    }
    if (b == '\n') t.answer_options += opens_answer_option(i);
    if (b == '`') backticks = 1;
    if (b >= '0' && b <= '9') ++t.digits;
    if ((b | 0x20) >= 'a' && (b | 0x20) <= 'z') ++t.letters[kScriptLatin];
    switch (b) {
      case '?': ++t.question_marks; break;
      case '{': case '}': case ';': case '<': case '>': ++t.code_symbols; break;
      case '+': case '*': case '/': case '^': case '=': case '%': ++t.math_operators; break;
      default: break;
    }
  }
  t.ascii_bytes = static_cast<uint32_t>(n) - high_bytes;
  const bool any_other = high_bytes > 0;
  // Code points outside ASCII, only when there are some, skipping the
  // ASCII between them (often a few curly quotes in English text).
  if (any_other) {
    for (size_t k = next_non_ascii(s, n, 0); k < n; k = next_non_ascii(s, n, k)) {
      const int32_t cp = decode_utf8(s, n, k);
      ++t.other_code_points;
      if (cp == kInvalidUtf8) continue;
      if (cp == 0xFF1F) ++t.question_marks;  // fullwidth question mark
      if (cp == 0xD7 || cp == 0xF7 || cp == 0x221A || cp == 0x2212) ++t.math_operators;  // × ÷ √ −
      if (is_letter(cp)) ++t.letters[script_of(cp)];
    }
  }
  // Code fences, only where backticks appear.
  if (backticks != 0) {
    for (size_t at = text.find("```"); at != std::string_view::npos; at = text.find("```", at + 3)) {
      ++t.code_fences;
    }
  }
  return t;
}

}  // namespace costroute::internal

#endif  // COSTROUTE_INTERNAL_TEXT_SHAPE_H_
