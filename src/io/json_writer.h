// Private: a small JSON writer for model files and command output.
#ifndef COSTROUTE_SRC_IO_JSON_WRITER_H_
#define COSTROUTE_SRC_IO_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace costroute::internal {

// Appends `s` to `out` as a JSON string literal. Control characters are
// escaped; bytes that are not well-formed UTF-8 become U+FFFD, so the
// output is always valid JSON.
void append_json_string(std::string& out, std::string_view s);

// Appends the shortest decimal that reads back as exactly `v`; non-finite
// values (which JSON cannot hold) are written as null.
void append_json_number(std::string& out, double v);

// The same digits as a string, for messages and labels that must not round
// a number ("C=1.0000001", a threshold to deploy).
inline std::string json_number(double v) {
  std::string text;
  append_json_number(text, v);
  return text;
}

// Builds compact JSON: commas and colons are placed by the writer. Misuse
// (a value where a key belongs) is a programming error, not checked.
class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(double v);
  JsonWriter& value(int64_t v);
  JsonWriter& value(int v) { return value(static_cast<int64_t>(v)); }
  JsonWriter& value(size_t v) { return value(static_cast<int64_t>(v)); }
  JsonWriter& value(bool v);
  JsonWriter& null();
  // Inserts already-encoded JSON as one value.
  JsonWriter& raw(std::string_view json);
  // Starts a new line before the next key, element or closing brace (for
  // readable files).
  JsonWriter& newline();

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }
  void clear() {
    out_.clear();
    first_.clear();
    after_key_ = false;
    newline_ = false;
  }

 private:
  void separate();
  std::string out_;
  std::vector<bool> first_;  // per open container: nothing written yet
  bool after_key_ = false;
  bool newline_ = false;
};

}  // namespace costroute::internal

#endif  // COSTROUTE_SRC_IO_JSON_WRITER_H_
