// Private: simdjson helpers shared by the readers. simdjson appears only in
// src/, never in public headers.
#ifndef COSTROUTE_SRC_IO_JSON_UTIL_H_
#define COSTROUTE_SRC_IO_JSON_UTIL_H_

#include <simdjson.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace costroute::internal {

// A readable reason for a failed parse of `text`, such as "not valid JSON:
// unbalanced braces or brackets (truncated?)" or, for the literals Python
// writes for non-finite floats, "3:17: NaN is not a JSON number".
std::string describe_parse_error(simdjson::error_code error,
                                 std::string_view text);

// Replaces each \uD800 to \uDFFF escape of `json` that is not half of a
// surrogate pair with \uFFFD, the replacement character; true if it
// replaced any. Such lone surrogates are valid JSON syntax that no UTF-8
// string can hold, and Python's json.dumps writes them for text decoded
// with errors="surrogateescape"; simdjson refuses them.
bool replace_lone_surrogates(std::string& json);

// Replaces each byte of `text` that does not belong to well-formed UTF-8
// with U+FFFD, the replacement character; true if it replaced any.
bool replace_invalid_utf8(std::string& text);

// `text` without a leading UTF-8 byte order mark (which some editors write
// and JSON parsers refuse).
std::string_view without_bom(std::string_view text);

// Parses a whole file's JSON `text` (a byte order mark skipped) into `root`,
// which lives in `parser`. InvalidArgument prefixed with `source`:
// "m.json:4:17: NaN is not ..." for a located problem, "m.json: not valid
// JSON: ..." otherwise, or "m.json: duplicate field \"intercept\"".
absl::Status parse_document(simdjson::dom::parser& parser, std::string_view text, std::string_view source,
                            simdjson::dom::element& root);

// The dotted path of the first key that appears twice in one object of
// `root` ("label_small_ok", "meta.subset", "policies[2].name"), or "" if
// there is none. Parsers disagree on which of two equal keys wins, so the
// readers refuse them.
std::string duplicate_key(simdjson::dom::element root);

// "string", "number", "object", ... for messages.
const char* type_name(simdjson::dom::element_type type);

// Follows a dotted path ("meta.subset") from `root`. Returns false if some
// step is missing or not an object.
bool find_path(simdjson::dom::element root, std::string_view path,
               simdjson::dom::element& out);

}  // namespace costroute::internal

#endif  // COSTROUTE_SRC_IO_JSON_UTIL_H_
