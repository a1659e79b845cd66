// Internal: UTF-8 decoding and the Unicode rules of Python's str.lower() and
// the regex class \w, which scikit-learn's default analyzer relies on.
// Installed, not API; may change without notice.
//
// Character data comes from utf8proc. Two small tables below carry what
// utf8proc does not expose: characters that are cased although their
// general category is not Lu/Ll/Lt (Unicode's Other_Lowercase and
// Other_Uppercase), and the punctuation that Unicode counts as
// case-ignorable by its word-break class. Both were read off Python 3.11's
// unicodedata (Unicode 14.0); tests/parity/ checks every code point against
// Python.
#ifndef COSTROUTE_INTERNAL_UNICODE_H_
#define COSTROUTE_INTERNAL_UNICODE_H_

#include <utf8proc.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace costroute::internal {

// Returned by decode_utf8 for a byte that does not start a well-formed
// sequence (overlong forms, surrogates and values above U+10FFFF included).
inline constexpr int32_t kInvalidUtf8 = -1;

// Decodes the code point that starts at s[i] and advances i past it. A
// malformed sequence yields kInvalidUtf8 and advances i by one byte, so
// every input byte is consumed exactly once.
inline int32_t decode_utf8(const unsigned char* s, size_t n, size_t& i) {
  const unsigned char b0 = s[i];
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int len = 0;
  int32_t cp = 0;
  int32_t min = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    ++i;
    return kInvalidUtf8;
  }
  if (n - i < static_cast<size_t>(len)) {
    ++i;
    return kInvalidUtf8;
  }
  for (int k = 1; k < len; ++k) {
    const unsigned char b = s[i + k];
    if ((b & 0xC0) != 0x80) {
      ++i;
      return kInvalidUtf8;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return kInvalidUtf8;
  }
  i += len;
  return cp;
}

// True if every byte of `text` belongs to a well-formed UTF-8 sequence.
inline bool valid_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  for (size_t i = 0; i < text.size();) {
    if (decode_utf8(s, text.size(), i) == kInvalidUtf8) return false;
  }
  return true;
}

// Writes the UTF-8 encoding of a valid code point at `out` (room for 4
// bytes) and returns the number of bytes written.
inline size_t write_utf8(char* out, int32_t cp) {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

// Unicode letters: categories Lu, Ll, Lt, Lm and Lo.
inline bool is_letter(int32_t cp) {
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return true;
    default:
      return false;
  }
}

// Python's \w: letters (L*), numbers (N*) and U+005F LOW LINE.
inline bool is_word_char(int32_t cp) {
  if (cp == 0x5F || is_letter(cp)) return true;
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

struct CodePointRange {
  int32_t first;
  int32_t last;
};

// Cased code points outside Lu/Ll/Lt (Python 3.11, Unicode 14.0).
inline constexpr std::array<CodePointRange, 27> kOtherCased = {{
    {0xAA, 0xAA},       {0xBA, 0xBA},       {0x2B0, 0x2B8},
    {0x2C0, 0x2C1},     {0x2E0, 0x2E4},     {0x345, 0x345},
    {0x37A, 0x37A},     {0x1D2C, 0x1D6A},   {0x1D78, 0x1D78},
    {0x1D9B, 0x1DBF},   {0x2071, 0x2071},   {0x207F, 0x207F},
    {0x2090, 0x209C},   {0x2160, 0x217F},   {0x24B6, 0x24E9},
    {0x2C7C, 0x2C7D},   {0xA69C, 0xA69D},   {0xA770, 0xA770},
    {0xA7F8, 0xA7F9},   {0xAB5C, 0xAB5F},   {0x10780, 0x10780},
    {0x10783, 0x10785}, {0x10787, 0x107B0}, {0x107B2, 0x107BA},
    {0x1F130, 0x1F149}, {0x1F150, 0x1F169}, {0x1F170, 0x1F189},
}};

// Case-ignorable code points outside Mn/Me/Cf/Lm/Sk: word-break classes
// MidLetter, MidNumLet and Single_Quote.
inline constexpr std::array<int32_t, 17> kCaseIgnorablePunctuation = {
    0x27,   0x2E,   0x3A,   0xB7,   0x387,  0x55F,  0x5F4,  0x2018, 0x2019,
    0x2024, 0x2027, 0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A};

inline bool is_cased(int32_t cp) {
  const auto category = utf8proc_category(cp);
  if (category == UTF8PROC_CATEGORY_LU || category == UTF8PROC_CATEGORY_LL ||
      category == UTF8PROC_CATEGORY_LT) {
    return true;
  }
  for (const CodePointRange& r : kOtherCased) {
    if (cp < r.first) return false;
    if (cp <= r.last) return true;
  }
  return false;
}

inline bool is_case_ignorable(int32_t cp) {
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_SK:
      return true;
    default:
      break;
  }
  for (int32_t p : kCaseIgnorablePunctuation) {
    if (cp == p) return true;
  }
  return false;
}

// Per-byte facts for ASCII, the common case.
inline constexpr uint8_t kAsciiWord = 1;
inline constexpr uint8_t kAsciiCased = 2;
inline constexpr uint8_t kAsciiCaseIgnorable = 4;

struct AsciiInfo {
  char lower;
  uint8_t flags;
};

constexpr std::array<AsciiInfo, 128> make_ascii_table() {
  std::array<AsciiInfo, 128> table{};
  for (int c = 0; c < 128; ++c) {
    const bool upper = c >= 'A' && c <= 'Z';
    const bool lower = c >= 'a' && c <= 'z';
    const bool digit = c >= '0' && c <= '9';
    uint8_t flags = 0;
    if (upper || lower || digit || c == '_') flags |= kAsciiWord;
    if (upper || lower) flags |= kAsciiCased;
    if (c == '\'' || c == '.' || c == ':' || c == '^' || c == '`') {
      flags |= kAsciiCaseIgnorable;  // ^ and ` are Sk
    }
    table[c] = AsciiInfo{static_cast<char>(upper ? c + 32 : c), flags};
  }
  return table;
}

inline constexpr std::array<AsciiInfo, 128> kAscii = make_ascii_table();

// Python's rule for U+03A3 inside str.lower(): it becomes final sigma
// U+03C2 when preceded by a cased letter and not followed by one (skipping
// case-ignorable code points both ways). `preceded_by_cased` is the caller's
// running look-behind; `after` is the byte offset just past the sigma.
inline bool is_final_sigma(bool preceded_by_cased, const unsigned char* s,
                           size_t n, size_t after) {
  if (!preceded_by_cased) return false;
  size_t i = after;
  while (i < n) {
    const unsigned char b = s[i];
    if (b < 0x80) {
      const uint8_t flags = kAscii[b].flags;
      if (flags & kAsciiCaseIgnorable) {
        ++i;
        continue;
      }
      return !(flags & kAsciiCased);
    }
    const int32_t cp = decode_utf8(s, n, i);
    if (cp == kInvalidUtf8) return true;
    if (!is_case_ignorable(cp)) return !is_cased(cp);
  }
  return true;
}

}  // namespace costroute::internal

#endif  // COSTROUTE_INTERNAL_UNICODE_H_
