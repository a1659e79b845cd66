#include "io/json_util.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cmath>
#include <cstdlib>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "costroute/internal/status_macros.h"
#include "costroute/internal/unicode.h"

namespace costroute::internal {
namespace {

using internal::to_absl;

// Where a text stops being one JSON value (RFC 8259), and why.
struct SyntaxError {
  enum class Kind {
    kNone,           // the text is one valid value
    kBadText,        // a byte that cannot continue the value, or the end of a truncated one
    kNonFinite,      // NaN, Infinity or -Infinity, which Python's json module writes
    kBigInteger,     // valid JSON, but an integer beyond 64 bits, which simdjson refuses
    kTextAfterValue  // a complete value, then more than white space ("{...} x")
  };
  Kind kind = Kind::kNone;
  size_t offset = 0;
  std::string_view token;  // kNonFinite and kBigInteger: the literal
};

// Only for messages: it runs after a failed parse. A number too large for
// a double counts as an error at its start.
SyntaxError find_syntax_error(std::string_view t) {
  size_t i = 0;
  std::string_view big_integer;  // set by number() for a kBigInteger
  auto skip_space = [&] {
    while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) ++i;
  };
  auto digits = [&] {
    const size_t start = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    return i > start;
  };
  // Each scanner starts at its token and returns false with i at the error.
  auto string = [&] {
    for (++i; i < t.size(); ++i) {
      const auto c = static_cast<unsigned char>(t[i]);
      if (c == '"') {
        ++i;
        return true;
      }
      if (c < 0x20) return false;
      if (c != '\\') continue;
      if (++i >= t.size()) return false;
      if (t[i] == 'u') {
        for (int k = 0; k < 4; ++k) {
          if (++i >= t.size() || !std::isxdigit(static_cast<unsigned char>(t[i]))) return false;
        }
      } else if (std::string_view("\"\\/bfnrt").find(t[i]) == std::string_view::npos) {
        return false;
      }
    }
    return false;
  };
  auto number = [&] {
    const size_t start = i;
    if (t[i] == '-') ++i;
    if (i < t.size() && t[i] == '0') {
      ++i;
    } else if (!digits()) {
      return false;
    }
    const size_t integer_end = i;
    if (i < t.size() && t[i] == '.' && (++i, !digits())) return false;
    if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
      ++i;
      if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
      if (!digits()) return false;
    }
    if (i == integer_end) {  // an integer: simdjson reads it as int64 or uint64
      const char* first = t.data() + start;
      const char* last = t.data() + i;
      int64_t as_signed = 0;
      uint64_t as_unsigned = 0;
      const std::errc fits =
          t[start] == '-' ? std::from_chars(first, last, as_signed).ec : std::from_chars(first, last, as_unsigned).ec;
      if (fits == std::errc::result_out_of_range) {
        big_integer = t.substr(start, i - start);
        i = start;
        return false;
      }
    }
    if (!std::isfinite(std::strtod(std::string(t.substr(start, i - start)).c_str(), nullptr))) {
      i = start;
      return false;
    }
    return true;
  };
  using Kind = SyntaxError::Kind;
  auto bad = [&] { return SyntaxError{Kind::kBadText, i, {}}; };
  std::vector<char> open;  // the '{' and '[' not yet closed
  enum class Want { kValue, kKey, kAfterValue } want = Want::kValue;
  while (true) {
    skip_space();
    if (want == Want::kAfterValue) {
      if (open.empty()) return i == t.size() ? SyntaxError{} : SyntaxError{Kind::kTextAfterValue, i, {}};
      if (i == t.size()) return bad();
      if (t[i] == ',') {
        ++i;
        want = open.back() == '{' ? Want::kKey : Want::kValue;
      } else if (t[i] == (open.back() == '{' ? '}' : ']')) {
        ++i;
        open.pop_back();
      } else {
        return bad();
      }
      continue;
    }
    if (i == t.size()) return bad();
    if (want == Want::kKey) {
      if (t[i] != '"' || !string()) return bad();
      skip_space();
      if (i == t.size() || t[i] != ':') return bad();
      ++i;
      want = Want::kValue;
      continue;
    }
    const char c = t[i];
    if (c == '{' || c == '[') {
      open.push_back(c);
      ++i;
      skip_space();
      if (i < t.size() && t[i] == (c == '{' ? '}' : ']')) {
        ++i;
        open.pop_back();
        want = Want::kAfterValue;
      } else {
        want = c == '{' ? Want::kKey : Want::kValue;
      }
      continue;
    }
    for (std::string_view literal : {"NaN", "Infinity", "-Infinity"}) {
      if (t.substr(i, literal.size()) == literal) return SyntaxError{Kind::kNonFinite, i, literal};
    }
    bool ok = false;
    if (c == '"') {
      ok = string();
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      ok = number();
    } else {
      for (std::string_view literal : {"true", "false", "null"}) {
        if (t.substr(i, literal.size()) == literal) {
          i += literal.size();
          ok = true;
        }
      }
    }
    if (!big_integer.empty()) return SyntaxError{Kind::kBigInteger, i, big_integer};
    if (!ok) return bad();
    want = Want::kAfterValue;
  }
}

// "LINE:COLUMN: " of a byte offset of `text`, both from 1, the column in bytes.
std::string location(std::string_view text, size_t offset) {
  const std::string_view before = text.substr(0, offset);
  const size_t line_start = before.rfind('\n') == std::string_view::npos ? 0 : before.rfind('\n') + 1;
  return absl::StrCat(std::count(before.begin(), before.end(), '\n') + 1, ":", offset - line_start + 1, ": ");
}

// What went wrong, without where.
std::string parse_error_reason(simdjson::error_code error, const SyntaxError& found) {
  if (found.kind == SyntaxError::Kind::kNonFinite) {
    return absl::StrCat(to_absl(found.token), " is not a JSON number (non-finite values are not allowed)");
  }
  if (found.kind == SyntaxError::Kind::kBigInteger) {
    return absl::StrCat("the integer ", to_absl(found.token.substr(0, 40)), found.token.size() > 40 ? "..." : "",
                        " does not fit in 64 bits, which this reader needs (quote it as a string, or write it with "
                        "a decimal point or an exponent to read it as a double)");
  }
  // Only where simdjson stopped on the structure: text after the value
  // must not hide bytes that are not UTF-8, or a document too large.
  if (found.kind == SyntaxError::Kind::kTextAfterValue && error == simdjson::TAPE_ERROR) {
    return "not valid JSON: more text after the end of the JSON value";
  }
  switch (error) {
    case simdjson::EMPTY:
      return "empty input, expected JSON";
    case simdjson::TAPE_ERROR:
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT:
      return "not valid JSON: unbalanced braces or brackets, or a missing "
             "comma or colon (truncated?)";
    case simdjson::UNCLOSED_STRING:
      return "not valid JSON: unclosed string (truncated?)";
    case simdjson::UTF8_ERROR:
      return "not valid JSON: invalid UTF-8";
    case simdjson::STRING_ERROR:
      return "not valid JSON: a string with a bad escape (such as \\x, or a lone surrogate \\ud800 outside JSONL "
             "data) or an unescaped control character";
    case simdjson::UNESCAPED_CHARS:
      return "not valid JSON: a control character (a tab, a line break, a NUL byte) inside a string, where it must "
             "be escaped (\\t, \\n, \\u0000); or text that is not UTF-8 (UTF-16?)";
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR:
      return "not valid JSON: a misspelt true, false or null, or text without quotes";
    case simdjson::NUMBER_ERROR:
      return "not valid JSON: malformed or out-of-range number";
    case simdjson::CAPACITY:
      return "not valid JSON: document too large";
    case simdjson::DEPTH_ERROR:
      return absl::StrCat("objects and arrays nested more than ", simdjson::DEFAULT_MAX_DEPTH,
                          " deep, more than this reader takes");
    default:
      return absl::StrCat("not valid JSON: ", simdjson::error_message(error));
  }
}

// The offset of the first byte of `text` that does not belong to
// well-formed UTF-8, or text.size().
size_t first_invalid_utf8(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  for (size_t at = 0, start = 0; at < text.size(); start = at) {
    if (decode_utf8(bytes, text.size(), at) == kInvalidUtf8) return start;
  }
  return text.size();
}

}  // namespace

std::string describe_parse_error(simdjson::error_code error,
                                 std::string_view text) {
  if (error == simdjson::EMPTY) return parse_error_reason(error, SyntaxError{});
  const SyntaxError found = find_syntax_error(text);
  // Syntax errors say where; a file that is not UTF-8 or too large has no
  // one place to point at.
  const bool placed = found.kind == SyntaxError::Kind::kNonFinite || found.kind == SyntaxError::Kind::kBigInteger ||
                      (found.kind != SyntaxError::Kind::kNone && error != simdjson::UTF8_ERROR &&
                       error != simdjson::CAPACITY);
  const std::string reason = parse_error_reason(error, found);
  if (!placed && error == simdjson::UTF8_ERROR) {
    // The first byte that is not UTF-8 is the place.
    if (const size_t at = first_invalid_utf8(text); at < text.size()) return location(text, at) + reason;
  }
  return placed ? location(text, found.offset) + reason : reason;
}

namespace {

// The value of the 4 hex digits at json[at], or -1.
int hex4(const std::string& json, size_t at) {
  if (at + 4 > json.size()) return -1;
  int value = 0;
  for (size_t i = at; i < at + 4; ++i) {
    const char c = json[i];
    const int digit = c >= '0' && c <= '9'   ? c - '0'
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                             : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

}  // namespace

bool replace_lone_surrogates(std::string& json) {
  bool replaced = false;
  // Backslashes appear only in escapes of two characters or more (\\ is
  // one escape), so walking escape by escape never starts mid-escape.
  for (size_t i = json.find('\\'); i != std::string::npos; i = json.find('\\', i)) {
    if (i + 1 >= json.size() || json[i + 1] != 'u') {
      i += 2;
      continue;
    }
    const int unit = hex4(json, i + 2);
    if (unit < 0xD800 || unit > 0xDFFF) {
      i += 2;
      continue;
    }
    const bool high = unit < 0xDC00;
    if (high && i + 7 < json.size() && json[i + 6] == '\\' && json[i + 7] == 'u') {
      const int next = hex4(json, i + 8);
      if (next >= 0xDC00 && next <= 0xDFFF) {  // a pair
        i += 12;
        continue;
      }
    }
    json.replace(i + 2, 4, "FFFD");
    replaced = true;
    i += 6;
  }
  return replaced;
}

bool replace_invalid_utf8(std::string& text) {
  // Well-formed text, the common case, is left without a copy.
  const size_t first = first_invalid_utf8(text);
  if (first == text.size()) return false;
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  std::string out(text, 0, first);
  for (size_t at = first, start = first; at < text.size(); start = at) {
    if (decode_utf8(bytes, text.size(), at) != kInvalidUtf8) {
      out.append(text, start, at - start);
    } else {
      out.append("\xEF\xBF\xBD");  // U+FFFD
    }
  }
  text.swap(out);
  return true;
}

std::string_view without_bom(std::string_view text) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  return text.substr(0, kBom.size()) == kBom ? text.substr(kBom.size()) : text;
}

absl::Status parse_document(simdjson::dom::parser& parser, std::string_view text, std::string_view source,
                            simdjson::dom::element& root) {
  text = without_bom(text);
  const simdjson::padded_string padded(text);
  if (const simdjson::error_code error = parser.parse(padded).get(root); error != simdjson::SUCCESS) {
    const std::string reason = describe_parse_error(error, text);
    const bool located = !reason.empty() && reason[0] >= '0' && reason[0] <= '9';
    return absl::InvalidArgumentError(absl::StrCat(to_absl(source), located ? ":" : ": ", reason));
  }
  if (const std::string twice = duplicate_key(root); !twice.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(to_absl(source), ": duplicate field \"", twice, "\""));
  }
  return absl::OkStatus();
}

std::string duplicate_key(simdjson::dom::element root) {
  std::vector<std::pair<std::string_view, simdjson::dom::element>> children;
  simdjson::dom::object object;
  simdjson::dom::array array;
  if (root.get_object().get(object) == simdjson::SUCCESS) {
    for (simdjson::dom::key_value_pair entry : object) {
      children.emplace_back(entry.key, entry.value);
    }
    std::vector<std::string_view> keys;
    for (const auto& child : children) keys.push_back(child.first);
    std::sort(keys.begin(), keys.end());
    const auto twice = std::adjacent_find(keys.begin(), keys.end());
    if (twice != keys.end()) return std::string(*twice);
    for (const auto& [key, value] : children) {
      std::string inner = duplicate_key(value);
      if (!inner.empty()) return absl::StrCat(to_absl(key), inner[0] == '[' ? "" : ".", inner);
    }
  } else if (root.get_array().get(array) == simdjson::SUCCESS) {
    size_t i = 0;
    for (simdjson::dom::element item : array) {
      if (item.is_object() || item.is_array()) {
        std::string inner = duplicate_key(item);
        if (!inner.empty()) return absl::StrCat("[", i, "]", inner[0] == '[' ? "" : ".", inner);
      }
      ++i;
    }
  }
  return "";
}

const char* type_name(simdjson::dom::element_type type) {
  switch (type) {
    case simdjson::dom::element_type::ARRAY: return "array";
    case simdjson::dom::element_type::OBJECT: return "object";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE: return "number";
    case simdjson::dom::element_type::STRING: return "string";
    case simdjson::dom::element_type::BOOL: return "boolean";
    case simdjson::dom::element_type::NULL_VALUE: return "null";
  }
  return "unknown";
}

bool find_path(simdjson::dom::element root, std::string_view path,
               simdjson::dom::element& out) {
  simdjson::dom::element current = root;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string_view step = path.substr(start, dot - start);
    simdjson::dom::object object;
    if (current.get_object().get(object) != simdjson::SUCCESS) return false;
    if (object.at_key(step).get(current) != simdjson::SUCCESS) return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  out = current;
  return true;
}

}  // namespace costroute::internal
