// costroute/io.h: model files, router configs and JSONL input.
//
// Model files are versioned JSON ("format": "costroute.model/1"): the
// vectorizer's settings, vocabulary and idf, the coefficients, intercept and
// where the model came from. Numbers are written with the fewest digits that
// read back as exactly the same double, and read with a correctly rounded
// parser, so a model survives any number of save/load round trips bit for
// bit. docs/model-format.md describes every field.
//
// JsonlReader streams JSON Lines: one record in memory at a time, whatever
// the size of the file.
//
// Compiled (costroute::costroute); simdjson stays private.
//
// **Example**:
//
//   COSTROUTE_ASSIGN_OR_RETURN(costroute::Model model,
//                              costroute::load_model("router.json"));
//   COSTROUTE_ASSIGN_OR_RETURN(costroute::JsonlReader in,
//                              costroute::JsonlReader::open("queries.jsonl"));
//   while (true) {
//     COSTROUTE_ASSIGN_OR_RETURN(bool more, in.next());
//     if (!more) break;
//     COSTROUTE_ASSIGN_OR_RETURN(std::string_view query,
//                                in.string_field("query"));
//     double p = model.p_small_ok(query);
//   }
#ifndef COSTROUTE_IO_H_
#define COSTROUTE_IO_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "costroute/model.h"
#include "costroute/router.h"

namespace costroute {

// The model file format this build reads and writes.
inline constexpr std::string_view kModelFormat = "costroute.model/1";

// Reads a model file. Errors name the file and the field:
//   NotFound          "m.json: cannot open: No such file or directory"
//   InvalidArgument   "m.json: not valid JSON: ... (truncated file?)"
//                     "m.json:4:17: NaN is not a JSON number"
//                     "m.json: format: unknown model format \"x\"; ..."
//                     "m.json: idf: expected 5000 values, got 4999"
//                     "m.json: vocabulary[12]: duplicate term \"ab\" ..."
[[nodiscard]] absl::StatusOr<Model> load_model(const std::string& path);

// As load_model, from JSON text; `source` names it in error messages.
[[nodiscard]] absl::StatusOr<Model> parse_model(std::string_view json,
                                                std::string_view source = "model");

// The model file's JSON text.
[[nodiscard]] std::string model_to_json(const Model& model);

// Writes a model file: to a temporary file beside `path`, then renamed over
// it, so a reader never sees half a model. /dev/stdout, /dev/fd/N and the
// like are written through this process's descriptor, after flushing C's
// stdout and stderr (not std::cout: flush it first if it is not synced
// with stdio); the regular file standard output or error goes to is
// refused. Errors: InvalidArgument for
// "-" or a directory, or for a model larger than load_model() reads (256
// MiB of JSON: millions of features), Unavailable with the OS error when
// the file cannot be written.
[[nodiscard]] absl::Status save_model(const Model& model,
                                      const std::string& path);

// The router config format this build reads.
inline constexpr std::string_view kConfigFormat = "costroute.config/1";

// Builds a Router from a config file: the model catalog, the policy tree
// and options (docs/config.md). The classifier file the config names
// ("classifier": {"model": "m.json"}) is read relative to the config's
// directory (config_directory()), unless `model` is given, which is used
// instead; the classifier section is still checked. Every problem
// is reported at once, each with its JSON path, in one InvalidArgument:
//   "c.json: models[0].tier: missing; options.utc_offset_minutes:
//    expected a whole number in [-1440, 1440]"
// The policies are checked against the catalog, so only once the models
// have no problems.
// NotFound if the file cannot be opened.
[[nodiscard]] absl::StatusOr<std::shared_ptr<const Router>> load_router(
    const std::string& config_path, std::shared_ptr<const Model> model = nullptr);

// The directory a config file's relative paths are resolved from: the one
// it is in, or, for a symbolic link, the one the file it links to is in
// (so that a linked deployment config finds the model beside it); "." for
// a bare file name.
[[nodiscard]] std::string config_directory(const std::string& config_path);

// As load_router, from JSON text; `source` names it in messages and
// `base_dir` resolves the classifier's path.
[[nodiscard]] absl::StatusOr<std::shared_ptr<const Router>> parse_router(
    std::string_view json, std::string_view source = "config", std::string_view base_dir = ".",
    std::shared_ptr<const Model> model = nullptr);

// Changes to a router config, for tools that tune one (costroute calibrate).
struct ConfigEdits {
  // The new threshold of a classifier policy: the one named policy_name, or
  // the first if that is empty.
  std::optional<double> threshold = {};
  std::string policy_name = {};
  // When the edited config is written to another directory: the two
  // directories, so that a relative "classifier": {"model": ...} path keeps
  // naming the same file.
  std::string from_dir = {};
  std::string to_dir = {};
  // If set, the classifier's model file becomes this one (a path as given
  // on a command line: absolute, or relative to the working directory),
  // written relative to to_dir; a config without a "classifier" gets one.
  std::string model_path = {};
};

// The classifier model file a config names ("classifier": {"model": ...}),
// joined to `base_dir` when relative; "" if it names none. InvalidArgument
// for text that is not JSON.
[[nodiscard]] absl::StatusOr<std::string> classifier_path(std::string_view config_json,
                                                          std::string_view base_dir = ".");

// The config text with `edits` applied, re-encoded readably (the input's
// layout and number spellings are not kept). NotFound if there is no such
// classifier policy; InvalidArgument for bad JSON or a threshold outside
// [0, 1]. The result is not validated as a router: load it to check.
[[nodiscard]] absl::StatusOr<std::string> edit_config(std::string_view config_json, const ConfigEdits& edits);

// Reads JSON Lines one record at a time. Blank lines are skipped; every other
// line must be one JSON object, of at most kMaxLineBytes. Errors carry
// "FILE:LINE:" so the user can find the record. Not thread-safe; move-only.
inline constexpr size_t kMaxLineBytes = size_t{64} << 20;

class JsonlReader {
 public:
  // Opens `path`, or standard input for "-". NotFound if it cannot be opened.
  [[nodiscard]] static absl::StatusOr<JsonlReader> open(const std::string& path);

  JsonlReader(JsonlReader&&) noexcept;
  JsonlReader& operator=(JsonlReader&&) noexcept;
  ~JsonlReader();

  // Moves to the next record. Returns false at the end of the input;
  // InvalidArgument "FILE:LINE: not valid JSON: ..." or "... expected a JSON
  // object" or "... duplicate field" for a bad line, Unavailable for a read
  // error. A leading UTF-8 byte order mark is skipped.
  [[nodiscard]] absl::StatusOr<bool> next();

  // 1-based line number of the current record.
  size_t line_number() const;
  const std::string& path() const;

  // Fields of the current record, by dotted path ("meta.subset"). Views stay
  // valid until the next call to next(). A missing field is NotFound, a
  // field of the wrong type InvalidArgument, both with file, line and field:
  //   "data.jsonl:7: field \"query\": expected a string, got number".
  // FailedPrecondition when there is no current record: before the first
  // next(), or after one that did not return true.
  [[nodiscard]] absl::StatusOr<std::string_view> string_field(
      std::string_view path) const;
  [[nodiscard]] absl::StatusOr<double> number_field(std::string_view path) const;
  // A 0/1 label: the numbers 0 and 1 (1.0 too) or false and true.
  [[nodiscard]] absl::StatusOr<int> label_field(std::string_view path) const;
  // A categorical value as text: a string as is, a number or boolean as its
  // JSON text. Objects, arrays and null are InvalidArgument.
  [[nodiscard]] absl::StatusOr<std::string> category_field(
      std::string_view path) const;
  // An object of numbers, such as {"model-a": 0.5, "model-b": 1}.
  [[nodiscard]] absl::StatusOr<std::vector<std::pair<std::string, double>>>
  number_map_field(std::string_view path) const;
  // An array of strings, such as ["first turn", "second turn"].
  [[nodiscard]] absl::StatusOr<std::vector<std::string>> string_array_field(
      std::string_view path) const;
  // An object of strings, such as {"feature": "autocomplete"}.
  [[nodiscard]] absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
  string_map_field(std::string_view path) const;
  // The field's JSON text, compact (for echoing an "id"). A top-level
  // number keeps its text as written (1E2 stays 1E2); anything else is
  // re-encoded without whitespace.
  [[nodiscard]] absl::StatusOr<std::string> json_field(std::string_view path) const;
  bool has_field(std::string_view path) const;

  // An InvalidArgument error located at the current record:
  // "FILE:LINE: <message>".
  absl::Status error(std::string_view message) const;

 private:
  struct Impl;
  explicit JsonlReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace costroute

#endif  // COSTROUTE_IO_H_
