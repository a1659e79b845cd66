#include <simdjson.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "costroute/internal/status_macros.h"
#include "costroute/io.h"
#include "io/file_util.h"
#include "io/json_util.h"

namespace costroute {

using internal::to_absl;

struct JsonlReader::Impl {
  std::string path;
  std::ifstream file;
  std::istream* in = nullptr;
  std::string line;
  size_t line_number = 0;
  simdjson::dom::parser parser;
  simdjson::ondemand::parser raw_parser;  // a top-level number's text, as written
  simdjson::dom::element record;
  bool has_record = false;  // the last next() returned true

  absl::Status located(absl::StatusCode code, std::string_view message) const {
    return absl::Status(code, to_absl(absl::StrCat(path, ":", line_number, ": ",
                                                   to_absl(message))));
  }

  absl::StatusOr<simdjson::dom::element> field(std::string_view name) const {
    simdjson::dom::element value;
    if (!has_record) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": no current record (call next() until it returns true)"));
    }
    if (!internal::find_path(record, name, value)) {
      // A step of the path that is there but no object ("meta": "x") is
      // the problem, not the field beyond it.
      for (size_t dot = name.find('.'); dot != std::string_view::npos; dot = name.find('.', dot + 1)) {
        simdjson::dom::element step;
        if (!internal::find_path(record, name.substr(0, dot), step)) break;
        if (!step.is_object()) {
          return located(absl::StatusCode::kInvalidArgument,
                         absl::StrCat("field \"", to_absl(name.substr(0, dot)), "\": expected an object (for \"",
                                      to_absl(name), "\"), got ", internal::type_name(step.type())));
        }
      }
      return located(absl::StatusCode::kNotFound,
                     absl::StrCat("missing field \"", to_absl(name), "\""));
    }
    return value;
  }

  absl::Status wrong_type(std::string_view name, std::string_view expected,
                          simdjson::dom::element value) const {
    return located(absl::StatusCode::kInvalidArgument,
                   absl::StrCat("field \"", to_absl(name), "\": expected ",
                                to_absl(expected), ", got ",
                                internal::type_name(value.type())));
  }
};

JsonlReader::JsonlReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JsonlReader::JsonlReader(JsonlReader&&) noexcept = default;
JsonlReader& JsonlReader::operator=(JsonlReader&&) noexcept = default;
JsonlReader::~JsonlReader() = default;

absl::StatusOr<JsonlReader> JsonlReader::open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path == "-" ? "<stdin>" : path;
  if (path == "-") {
    impl->in = &std::cin;
  } else {
    if (absl::Status readable = internal::check_readable(path); !readable.ok()) return readable;
    impl->file.open(path, std::ios::binary);
    if (!impl->file) {
      return absl::NotFoundError(
          absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
    }
    impl->in = &impl->file;
  }
  return JsonlReader(std::move(impl));
}

namespace {

enum class LineRead { kLine, kEnd, kTooLong, kReadError };

// std::getline that stops at kMaxLineBytes: an input without line breaks
// (/dev/zero, a multi-gigabyte JSON array) would otherwise be read whole
// into memory. The stream buffer throws on a read error (libstdc++'s
// filebuf), which std::getline would have caught and turned into badbit.
LineRead read_line(std::istream& in, std::string& line) {
  line.clear();
  std::streambuf& buffer = *in.rdbuf();
  try {
    for (int c = buffer.sbumpc();; c = buffer.sbumpc()) {
      if (c == std::char_traits<char>::eof()) return line.empty() ? LineRead::kEnd : LineRead::kLine;
      if (c == '\n') return LineRead::kLine;
      if (line.size() == kMaxLineBytes) return LineRead::kTooLong;
      line.push_back(static_cast<char>(c));
    }
  } catch (const std::ios_base::failure&) {
    return LineRead::kReadError;
  }
}

// The text of the top-level field `key` of the JSON object in `line` (valid
// JSON, with simdjson's padding within its capacity), as written, or "" if
// it is not found. Keys compare unescaped ("i\u0064" is "id"), as the
// parsed tree's lookup does.
std::string raw_number_text(simdjson::ondemand::parser& parser, const std::string& line, std::string_view key) {
  simdjson::ondemand::document document;
  simdjson::ondemand::object object;
  if (parser.iterate(line.data(), line.size(), line.capacity()).get(document) != simdjson::SUCCESS ||
      document.get_object().get(object) != simdjson::SUCCESS) {
    return "";
  }
  for (auto field : object) {
    std::string_view name;
    if (field.error() != simdjson::SUCCESS || field.unescaped_key().get(name) != simdjson::SUCCESS) return "";
    if (name != key) continue;
    std::string_view text = field.value().raw_json_token();
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n')) {
      text.remove_suffix(1);
    }
    return std::string(text);
  }
  return "";
}

}  // namespace

absl::StatusOr<bool> JsonlReader::next() {
  Impl& s = *impl_;
  s.has_record = false;
  for (LineRead read = read_line(*s.in, s.line); read != LineRead::kEnd; read = read_line(*s.in, s.line)) {
    if (read == LineRead::kReadError) {
      return absl::UnavailableError(absl::StrCat(s.path, ": read error after line ", s.line_number));
    }
    ++s.line_number;
    if (read == LineRead::kTooLong) {
      return s.located(absl::StatusCode::kInvalidArgument, "longer than 64 MiB: not one JSON record per line?");
    }
    if (s.line_number == 1 && internal::without_bom(s.line).size() != s.line.size()) s.line.erase(0, 3);
    if (s.line.find_first_not_of(" \t\r") == std::string::npos) continue;
    s.line.reserve(s.line.size() + simdjson::SIMDJSON_PADDING);
    simdjson::error_code error = s.parser.parse(s.line.data(), s.line.size(), false).get(s.record);
    // Broken text, as bytes that are not UTF-8 or escaped as lone
    // surrogates, reads as U+FFFD: the router answers any query.
    // (A line may have both: the bytes are checked first.) The line as
    // read is kept while it is repaired, so that an error still left is
    // placed at its column in the file: each bad byte grows to three.
    std::string as_read;
    for (int fixes = 0; fixes < 2 && (error == simdjson::UTF8_ERROR || error == simdjson::STRING_ERROR); ++fixes) {
      if (fixes == 0) as_read = s.line;
      const bool repaired = error == simdjson::UTF8_ERROR ? internal::replace_invalid_utf8(s.line)
                                                          : internal::replace_lone_surrogates(s.line);
      if (!repaired) break;
      s.line.reserve(s.line.size() + simdjson::SIMDJSON_PADDING);
      error = s.parser.parse(s.line.data(), s.line.size(), false).get(s.record);
    }
    if (error != simdjson::SUCCESS) {
      if (internal::without_bom(s.line).size() != s.line.size()) {
        // Past the file's first bytes, a byte order mark is most often
        // where a second file was appended to the first.
        return s.located(absl::StatusCode::kInvalidArgument,
                         "column 1: a byte order mark (U+FEFF) where a record should start; only the file's first "
                         "bytes may be one (were two files joined?)");
      }
      if (const absl::string_view opening = absl::StripAsciiWhitespace(s.line); opening == "{" || opening == "[") {
        return s.located(absl::StatusCode::kInvalidArgument,
                         "column 1: a JSON document spread over lines (a model or config file?); JSON Lines needs "
                         "one record per line");
      }
      // A repair leaves the syntax as it was, so the place is found in
      // the line as read, the reason in the repaired line's parse.
      std::string reason = internal::describe_parse_error(error, as_read.empty() ? s.line : as_read);
      // "1:COLUMN: ..." locates within the text parsed, here one line.
      if (reason.rfind("1:", 0) == 0) reason.replace(0, 2, "column ");
      return s.located(absl::StatusCode::kInvalidArgument, reason);
    }
    if (s.record.type() != simdjson::dom::element_type::OBJECT) {
      return s.located(absl::StatusCode::kInvalidArgument,
                       absl::StrCat("expected a JSON object, got ",
                                    internal::type_name(s.record.type())));
    }
    if (const std::string twice = internal::duplicate_key(s.record); !twice.empty()) {
      return s.located(absl::StatusCode::kInvalidArgument, absl::StrCat("duplicate field \"", twice, "\""));
    }
    s.has_record = true;
    return true;
  }
  return false;
}

size_t JsonlReader::line_number() const { return impl_->line_number; }
const std::string& JsonlReader::path() const { return impl_->path; }

absl::StatusOr<std::string_view> JsonlReader::string_field(
    std::string_view path) const {
  COSTROUTE_ASSIGN_OR_RETURN(simdjson::dom::element value, impl_->field(path));
  std::string_view s;
  if (value.get_string().get(s) != simdjson::SUCCESS) {
    return impl_->wrong_type(path, "a string", value);
  }
  return s;
}

absl::StatusOr<double> JsonlReader::number_field(std::string_view path) const {
  COSTROUTE_ASSIGN_OR_RETURN(simdjson::dom::element value, impl_->field(path));
  double d;
  if (value.get_double().get(d) != simdjson::SUCCESS) {
    return impl_->wrong_type(path, "a number", value);
  }
  return d;
}

absl::StatusOr<int> JsonlReader::label_field(std::string_view path) const {
  COSTROUTE_ASSIGN_OR_RETURN(simdjson::dom::element value, impl_->field(path));
  bool b;
  if (value.get_bool().get(b) == simdjson::SUCCESS) return b ? 1 : 0;
  double d;
  if (value.get_double().get(d) == simdjson::SUCCESS && (d == 0.0 || d == 1.0)) {
    return d == 1.0 ? 1 : 0;
  }
  std::string shown = simdjson::minify(value);
  if (shown.size() > 40) shown = shown.substr(0, 40) + "...";  // a message is one short line
  return impl_->located(
      absl::StatusCode::kInvalidArgument,
      absl::StrCat("field \"", to_absl(path), "\": expected 0 or 1, got ", shown));
}

absl::StatusOr<std::string> JsonlReader::category_field(
    std::string_view path) const {
  COSTROUTE_ASSIGN_OR_RETURN(simdjson::dom::element value, impl_->field(path));
  std::string_view s;
  if (value.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  if (value.is_number() || value.is_bool()) return simdjson::minify(value);
  return impl_->wrong_type(path, "a string, number or boolean", value);
}

absl::StatusOr<std::vector<std::pair<std::string, double>>>
JsonlReader::number_map_field(std::string_view path) const {
  COSTROUTE_ASSIGN_OR_RETURN(simdjson::dom::element value, impl_->field(path));
  simdjson::dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) {
    return impl_->wrong_type(path, "an object of numbers", value);
  }
  std::vector<std::pair<std::string, double>> out;
  for (simdjson::dom::key_value_pair entry : object) {
    double d;
    if (entry.value.get_double().get(d) != simdjson::SUCCESS) {
      return impl_->wrong_type(absl::StrCat(to_absl(path), ".", to_absl(entry.key)),
                               "a number", entry.value);
    }
    out.emplace_back(std::string(entry.key), d);
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> JsonlReader::string_array_field(
    std::string_view path) const {
  COSTROUTE_ASSIGN_OR_RETURN(simdjson::dom::element value, impl_->field(path));
  simdjson::dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS) {
    return impl_->wrong_type(path, "an array of strings", value);
  }
  std::vector<std::string> out;
  for (simdjson::dom::element item : array) {
    std::string_view s;
    if (item.get_string().get(s) != simdjson::SUCCESS) {
      return impl_->wrong_type(absl::StrCat(to_absl(path), "[", out.size(), "]"), "a string", item);
    }
    out.emplace_back(s);
  }
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> JsonlReader::string_map_field(
    std::string_view path) const {
  COSTROUTE_ASSIGN_OR_RETURN(simdjson::dom::element value, impl_->field(path));
  simdjson::dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) {
    return impl_->wrong_type(path, "an object of strings", value);
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (simdjson::dom::key_value_pair entry : object) {
    std::string_view s;
    if (entry.value.get_string().get(s) != simdjson::SUCCESS) {
      return impl_->wrong_type(absl::StrCat(to_absl(path), ".", to_absl(entry.key)), "a string",
                               entry.value);
    }
    out.emplace_back(std::string(entry.key), std::string(s));
  }
  return out;
}

absl::StatusOr<std::string> JsonlReader::json_field(std::string_view path) const {
  COSTROUTE_ASSIGN_OR_RETURN(simdjson::dom::element value, impl_->field(path));
  // The parsed tree keeps a number's value, not its text: 1E2 would come
  // back as 100.0 and no longer match the input. The line, checked whole
  // already, is walked again for the text of a top-level number.
  if (value.is_number() && path.find('.') == std::string_view::npos) {
    Impl& s = *impl_;
    std::string text = raw_number_text(s.raw_parser, s.line, path);
    // The parser's buffers grow to the line; a long one is not kept.
    if (s.line.size() > (size_t{1} << 20)) s.raw_parser = simdjson::ondemand::parser();
    if (!text.empty()) return text;
  }
  return simdjson::minify(value);
}

bool JsonlReader::has_field(std::string_view path) const {
  simdjson::dom::element value;
  return impl_->has_record && internal::find_path(impl_->record, path, value);
}

absl::Status JsonlReader::error(std::string_view message) const {
  return impl_->located(absl::StatusCode::kInvalidArgument, message);
}

}  // namespace costroute
