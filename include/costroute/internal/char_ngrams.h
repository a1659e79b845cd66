// Internal: scikit-learn's character n-grams (analyzer "char" and
// "char_wb"). Installed, not API; may change without notice.
//
// scikit-learn lowercases with Python's str.lower(), then:
//   char     replaces each run of two or more whitespace characters by one
//            space, and takes every window of n code points of the text;
//   char_wb  splits the text on whitespace, pads each word with a space on
//            both sides, and takes every window of n code points of each
//            padded word; a padded word of at most n code points is taken
//            once, whole, for that n and every larger one is skipped.
// Whitespace is Python's (str.isspace(), the same set as the regex \s).
// Text that is not valid UTF-8 is read with U+FFFD for each bad byte, as
// Python's decode(errors="replace") would.
#ifndef COSTROUTE_INTERNAL_CHAR_NGRAMS_H_
#define COSTROUTE_INTERNAL_CHAR_NGRAMS_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "costroute/internal/unicode.h"

namespace costroute::internal {

// Python's str.isspace().
inline bool is_python_space(int32_t cp) {
  if (cp <= 0x20) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
  if (cp < 0x85) return false;
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// The text as the n-grams are cut from it: UTF-8 bytes, where each code
// point starts, and the segments windows may not cross (the padded words
// of char_wb; the whole text for char). Reused between calls.
struct CharText {
  std::vector<char> bytes;         // followed by 8 readable bytes
  std::vector<uint32_t> starts;    // byte offset of each code point, then the end
  std::vector<uint32_t> segments;  // code point index where each segment ends

  static constexpr size_t kPadding = 8;
};

// Fills `out` from `text` for the analyzer (word_bounded: char_wb).
inline void prepare_char_text(std::string_view text, bool lowercase, bool word_bounded, CharText& out) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  // Lowercasing grows UTF-8 by at most half, U+0130 becomes two code
  // points, and char_wb adds two spaces per word: 3n + 8 bytes suffice.
  out.bytes.resize(3 * n + 2 + CharText::kPadding);
  out.starts.clear();
  out.segments.clear();
  char* const bytes = out.bytes.data();
  size_t used = 0;
  auto put = [&](int32_t cp) {
    out.starts.push_back(static_cast<uint32_t>(used));
    used += write_utf8(bytes + used, cp);
  };
  bool prev_cased = false;
  bool in_word = false;     // char_wb: inside a word
  size_t spaces = 0;        // char: whitespace code points in the current run
  int32_t first_space = 0;  // char: the first of them
  auto end_space_run = [&]() {
    if (spaces == 1) put(first_space);
    if (spaces >= 2) put(' ');
    spaces = 0;
  };
  for (size_t i = 0; i < n;) {
    int32_t cp = decode_utf8(s, n, i);
    int32_t lower = cp;
    bool dotted_capital_i = false;
    if (cp == kInvalidUtf8) {
      cp = lower = 0xFFFD;
    } else if (lowercase) {
      if (cp == 0x130) {
        dotted_capital_i = true;  // lowers to "i" + U+0307
        lower = 'i';
      } else if (cp == 0x3A3) {
        lower = is_final_sigma(prev_cased, s, n, i) ? 0x3C2 : 0x3C3;
      } else {
        lower = utf8proc_tolower(cp);
      }
    }
    if (!is_case_ignorable(cp)) prev_cased = is_cased(cp);
    if (is_python_space(lower)) {
      if (word_bounded) {
        if (in_word) {
          put(' ');
          out.segments.push_back(static_cast<uint32_t>(out.starts.size()));
          in_word = false;
        }
      } else {
        if (spaces++ == 0) first_space = lower;
      }
      continue;
    }
    if (word_bounded) {
      if (!in_word) put(' ');
      in_word = true;
    } else {
      end_space_run();
    }
    put(lower);
    if (dotted_capital_i) put(0x307);
  }
  if (word_bounded) {
    if (in_word) {
      put(' ');
      out.segments.push_back(static_cast<uint32_t>(out.starts.size()));
    }
  } else {
    end_space_run();
    out.segments.push_back(static_cast<uint32_t>(out.starts.size()));
  }
  out.starts.push_back(static_cast<uint32_t>(used));
  for (size_t k = 0; k < CharText::kPadding; ++k) bytes[used + k] = '\0';
}

// Calls f(bytes) for every n-gram of `text` (prepared by prepare_char_text)
// with n in [n_min, n_max], as scikit-learn's analyzer lists them, though
// not in its order. The views are padded by 8 readable bytes.
template <typename F>
void for_each_char_ngram(const CharText& text, bool word_bounded, size_t n_min, size_t n_max, F&& f) {
  const char* const bytes = text.bytes.data();
  const uint32_t* const starts = text.starts.data();
  auto window = [&](size_t first, size_t n) {
    f(std::string_view(bytes + starts[first], starts[first + n] - starts[first]));
  };
  size_t begin = 0;
  for (const uint32_t end : text.segments) {
    const size_t length = end - begin;
    for (size_t n = n_min; n <= n_max; ++n) {
      if (word_bounded && length <= n) {
        window(begin, length);
        break;
      }
      if (n > length) break;
      for (size_t first = begin; first + n <= end; ++first) window(first, n);
    }
    begin = end;
  }
}

}  // namespace costroute::internal

#endif  // COSTROUTE_INTERNAL_CHAR_NGRAMS_H_
