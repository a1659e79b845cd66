#include "costroute/io.h"
#include "costroute/signals.h"

#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <regex>
#include <string>

#include "catch.h"
#include "io/file_util.h"
#include "test_util.h"

namespace {

using costroute::testing::TempDir;
using costroute::testing::write_file;

// A valid model file whose parts the error tests replace one at a time.
std::string model_json(const std::string& format = "costroute.model/1",
                       const std::string& vocabulary = R"(["ab","ab cd","cd"])",
                       const std::string& idf = "[1.5,2.25,1.0000000000000002]",
                       const std::string& coef = "[0.1,-0.2,3e-05]",
                       const std::string& extra = "") {
  return R"({"format":")" + format + R"(",
"vectorizer":{"lowercase":true,"ngram_range":[1,2],"binary":false,"norm":"l2","use_idf":true,"smooth_idf":true,"sublinear_tf":false,"min_df":1,"max_df":1.0,"max_features":5000},
"provenance":{"trainer":"test"},
"intercept":-0.5,
"vocabulary":)" + vocabulary + R"(,
"idf":)" + idf + R"(,
"coef":)" + coef + extra + "}\n";
}

std::string error_of(const std::string& json) {
  auto model = costroute::parse_model(json, "m.json");
  REQUIRE(!model.ok());
  CHECK(model.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(model.status().message());
}

}  // namespace

TEST_CASE("a model file loads with every field") {
  auto model = costroute::parse_model(model_json());
  REQUIRE(model.ok());
  CHECK(model->vectorizer().vocabulary() == std::vector<std::string>{"ab", "ab cd", "cd"});
  CHECK(model->vectorizer().idf()[2] == 1.0000000000000002);
  CHECK(model->coef()[2] == 3e-05);
  CHECK(model->intercept() == -0.5);
  CHECK(model->vectorizer().options().max_df == costroute::DocumentFrequency::fraction(1.0));
  CHECK(model->vectorizer().options().min_df == costroute::DocumentFrequency::documents(1));
  CHECK(model->provenance() == costroute::Provenance{{"trainer", "test"}});
}

TEST_CASE("saving and loading a model keeps every number bit for bit") {
  auto v = costroute::Vectorizer::create({}, {"ab", "\u00e9t\u00e9", "x\"y"},
                                         {1.0 / 3.0, 2.0 / 7.0, 1e-300});
  REQUIRE(v.ok());
  auto model = costroute::Model::create(*v, {0.1, -std::nextafter(0.2, 1.0), 5e-324}, 1.0 / 9.0,
                                        {{"note", "line\nbreak \"quoted\""}});
  REQUIRE(model.ok());
  const TempDir dir("io_roundtrip");
  const std::string path = dir.file("m.json");
  REQUIRE(costroute::save_model(*model, path).ok());
  auto loaded = costroute::load_model(path);
  REQUIRE(loaded.ok());
  CHECK(loaded->vectorizer().vocabulary() == model->vectorizer().vocabulary());
  CHECK(loaded->vectorizer().idf() == model->vectorizer().idf());
  CHECK(loaded->coef() == model->coef());
  CHECK(loaded->intercept() == model->intercept());
  CHECK(loaded->provenance() == model->provenance());
  CHECK(loaded->vectorizer().options() == model->vectorizer().options());
  CHECK(costroute::model_to_json(*loaded) == costroute::model_to_json(*model));
}

TEST_CASE("a character n-gram model keeps its analyzer through a save and load") {
  costroute::VectorizerOptions o;
  o.analyzer = costroute::Analyzer::kCharWb;
  o.ngram_min = 1;
  o.ngram_max = 3;
  auto v = costroute::Vectorizer::create(o, {" a", "ab", "b "}, {1.0, 2.0, 3.0});
  REQUIRE(v.ok());
  auto model = costroute::Model::create(*v, {0.5, -0.25, 1.0}, 0.1, {});
  REQUIRE(model.ok());
  const TempDir dir("io_char");
  const std::string path = dir.file("m.json");
  REQUIRE(costroute::save_model(*model, path).ok());
  auto loaded = costroute::load_model(path);
  REQUIRE(loaded.ok());
  CHECK(loaded->vectorizer().options() == o);
  CHECK(loaded->p_small_ok("Ab b") == model->p_small_ok("Ab b"));
  CHECK(costroute::model_to_json(*loaded).find(R"("analyzer":"char_wb")") != std::string::npos);
}

TEST_CASE("bad model files get one clear error naming the field") {
  CHECK(error_of(model_json("costroute.model/9")) ==
        "m.json: format: unknown model format \"costroute.model/9\"; this build reads "
        "costroute.model/1");
  // A count of documents beyond an int is refused, not wrapped around.
  for (const std::string count : {"4294967297", "2147483648", "-1"}) {
    std::string json = model_json();
    json.replace(json.find(R"("min_df":1)"), 10, R"("min_df":)" + count);
    CHECK(error_of(json) == "m.json: vectorizer.min_df: a count of documents must be in [0, 2147483647]");
  }
  // A router config given as the model: one error naming it, not its first unknown field.
  CHECK(error_of(R"({"format": "costroute.config/1", "models": [], "policies": []})") ==
        "m.json: format: \"costroute.config/1\" is a router config, not a model file");
  CHECK(error_of(R"({"format": 1, "vocabulary": []})").find("m.json: format: expected a string") == 0);
  CHECK(error_of(model_json("costroute.model/1", R"(["ab","cd"])")) ==
        "m.json: idf: expected 2 values, got 3");
  CHECK(error_of(model_json("costroute.model/1", R"(["ab","ab cd","cd"])",
                            "[1.5,2.25,1.0]", "[0.1,-0.2]")) ==
        "m.json: coef: expected 3 values (one per vocabulary term), got 2");
  CHECK(error_of(model_json("costroute.model/1", R"(["ab","cd","ab"])")) ==
        "m.json: vocabulary[2]: duplicate term \"ab\" (also at vocabulary[0])");
  CHECK(error_of(model_json("costroute.model/1", R"(["ab","cd",3])")) ==
        "m.json: vocabulary[2]: expected a string, got number");
  CHECK(error_of(model_json("costroute.model/1", R"(["ab","ab cd","cd"])",
                            "[1.5,\"x\",1.0]")) ==
        "m.json: idf[1]: expected a number, got string");
  CHECK(error_of(model_json("costroute.model/1", R"(["ab","ab cd","cd"])",
                            "[1.5,NaN,1.0]")) ==
        "m.json:6:12: NaN is not a JSON number (non-finite values are not allowed)");
  // A truncated file is located at its end, as LINE:COLUMN.
  const std::string truncated = error_of(model_json().substr(0, 200));
  CHECK(std::regex_match(truncated, std::regex(R"(m\.json:[0-9]+:[0-9]+: not valid JSON: .*)")));
  CHECK(error_of(model_json("costroute.model/1", R"(["ab","ab cd","cd"])",
                            "[1,1,1]", "[0,0,0]", R"(,"colour":"red")")) ==
        "m.json: colour: unknown field");
  CHECK(error_of("[1,2]") == "m.json: expected an object, got array");
  CHECK(error_of("{} x") == "m.json:1:4: not valid JSON: more text after the end of the JSON value");
  // Bytes that are not UTF-8 are the problem, not the text after the value.
  CHECK(error_of("{\"a\":\"\xff\"} x") == "m.json:1:7: not valid JSON: invalid UTF-8");
  CHECK(error_of("{\n\"a\":\n\"b\xc3\"}") == "m.json:3:3: not valid JSON: invalid UTF-8");
  CHECK(error_of(std::string(2000, '[') + std::string(2000, ']')) ==
        "m.json: objects and arrays nested more than 1024 deep, more than this reader takes");
  CHECK(error_of("") == "m.json: empty input, expected JSON");
  std::string no_intercept = model_json();
  no_intercept.replace(no_intercept.find("\"intercept\":-0.5,"), 17, "");
  CHECK(error_of(no_intercept) == "m.json: intercept: missing");
  std::string bad_analyzer = model_json();
  bad_analyzer.replace(bad_analyzer.find("\"lowercase\""), 0, R"("analyzer":"chars",)");
  CHECK(error_of(bad_analyzer) == R"(m.json: vectorizer.analyzer: expected "word", "char" or "char_wb")");
  std::string bad_range = model_json();
  bad_range.replace(bad_range.find("[1,2]"), 5, "[2,1]");
  CHECK(error_of(bad_range).find("m.json: vectorizer.ngram_range: expected [min, max]") == 0);
}

TEST_CASE("a missing model file is NotFound with the path") {
  auto model = costroute::load_model("/nonexistent/m.json");
  CHECK(model.status().code() == absl::StatusCode::kNotFound);
  CHECK(model.status().message() ==
        "/nonexistent/m.json: cannot open: No such file or directory");
}

TEST_CASE("JsonlReader reads records, skips blank lines and reports bad lines with their number") {
  const TempDir dir("jsonl");
  const std::string path = dir.file("in.jsonl");
  write_file(path,
             "{\"query\":\"hi\",\"id\":7,\"meta\":{\"subset\":\"law\"},\"label\":true}\n"
             "\n"
             "   \n"
             "{\"query\":\"second\",\"quality\":{\"a\":1,\"b\":0.5},\"label\":2}\n"
             "{\"query\": 12}\n"
             "{not json}\n"
             "[1,2]\n"
             "{\"query\": \"x\", \"cost\": NaN}");  // no line break at the end
  auto in = costroute::JsonlReader::open(path);
  REQUIRE(in.ok());
  REQUIRE(*in->next());
  CHECK(in->line_number() == 1);
  CHECK(*in->string_field("query") == "hi");
  CHECK(*in->json_field("id") == "7");
  CHECK(*in->category_field("meta.subset") == "law");
  CHECK(*in->label_field("label") == 1);
  CHECK(in->string_field("meta.nothing").status().code() == absl::StatusCode::kNotFound);
  CHECK(in->string_field("meta.nothing").status().message() ==
        path + ":1: missing field \"meta.nothing\"");
  // A step of the path that is no object is named, not the field beyond it.
  CHECK(in->string_field("query.small").status().message() ==
        path + ":1: field \"query\": expected an object (for \"query.small\"), got string");
  CHECK(in->string_field("meta.subset.x").status().message() ==
        path + ":1: field \"meta.subset\": expected an object (for \"meta.subset.x\"), got string");
  CHECK_FALSE(in->has_field("query.small"));

  REQUIRE(*in->next());
  CHECK(in->line_number() == 4);
  auto quality = in->number_map_field("quality");
  REQUIRE(quality.ok());
  CHECK(quality->size() == 2);
  CHECK((*quality)[1].second == 0.5);
  CHECK(in->label_field("label").status().message() ==
        path + ":4: field \"label\": expected 0 or 1, got 2");

  REQUIRE(*in->next());
  CHECK(in->string_field("query").status().message() ==
        path + ":5: field \"query\": expected a string, got number");

  auto bad = in->next();
  REQUIRE(!bad.ok());
  CHECK(bad.status().message() == path + ":6: column 2: not valid JSON: unbalanced braces or brackets, or a missing "
                                          "comma or colon (truncated?)");
  auto array = in->next();
  CHECK(array.status().message() == path + ":7: expected a JSON object, got array");
  CHECK(in->next().status().message() ==
        path + ":8: column 24: NaN is not a JSON number (non-finite values are not allowed)");
  // No fields after a bad line: not the last good record's, not half of the bad one's.
  CHECK(in->string_field("query").status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_FALSE(in->has_field("query"));
  CHECK(*in->next() == false);
}

TEST_CASE("JsonlReader reads integers up to 64 bits and names one beyond, valid JSON though it is") {
  const TempDir dir("bigint");
  const std::string path = dir.file("in.jsonl");
  write_file(path,
             "{\"query\": \"a\", \"n\": 18446744073709551615, \"m\": -9223372036854775808}\n"
             "{\"query\": \"b\", \"n\": 18446744073709551616}\n"
             "{\"query\": \"c\", \"x\": {\"m\": -9223372036854775809}}\n"
             "{\"query\": \"d\", \"n\": 1e400}\n"
             "{\"query\": \"e\", \"n\": 100000000000000000000.0}\n");
  auto in = costroute::JsonlReader::open(path);
  REQUIRE(in.ok());
  REQUIRE(*in->next());
  CHECK(*in->string_field("query") == "a");
  const std::string hint =
      " does not fit in 64 bits, which this reader needs (quote it as a string, or write it with a decimal point or "
      "an exponent to read it as a double)";
  CHECK(in->next().status().message() == path + ":2: column 21: the integer 18446744073709551616" + hint);
  CHECK(in->next().status().message() == path + ":3: column 27: the integer -9223372036854775809" + hint);
  // Out of a double's range: not valid JSON for this reader, placed as before.
  CHECK(in->next().status().message().find(path + ":4: column 21: ") == 0);
  // With a decimal point it is a double.
  REQUIRE(*in->next());
  CHECK(*in->string_field("query") == "e");
}

TEST_CASE("JsonlReader reads bytes that are not UTF-8 and lone surrogate escapes as U+FFFD") {
  // What Python's json.dumps writes for text decoded with errors="surrogateescape".
  const TempDir dir("surrogates");
  const std::string path = dir.file("in.jsonl");
  write_file(path,
             "{\"query\": \"caf\\udce9 au lait\"}\n"           // lone low surrogate
             "{\"query\": \"\\ud83d\\ude00 \\ud83d\"}\n"     // a pair, then a lone high one at the end
             "{\"query\": \"\\\\ud800 \\ud800\\u0041\"}\n"  // an escaped backslash, then a high one before A
             "{\"query\": \"caf\xe9 \\udce9\"}\n"              // a byte that is not UTF-8, and a lone surrogate
             "{\"query\": \"\\u00e9\", \"bad\": \"\\x\"}\n"  // another bad escape: still refused
             "{\"query\": \"\xe9\xe9\", \"n\": }\n"            // two bad bytes, then a missing value
             "{\"query\": \"\\udce9\xe9\", \"n\": }\n");      // both repairs, then a missing value
  auto in = costroute::JsonlReader::open(path);
  REQUIRE(in.ok());
  REQUIRE(*in->next());
  CHECK(*in->string_field("query") == "caf\uFFFD au lait");
  REQUIRE(*in->next());
  CHECK(*in->string_field("query") == "\U0001F600 \uFFFD");
  REQUIRE(*in->next());
  CHECK(*in->string_field("query") == "\\ud800 \uFFFDA");
  REQUIRE(*in->next());
  CHECK(*in->string_field("query") == "caf\uFFFD \uFFFD");
  CHECK(in->next().status().message().find(path + ":5: column 30: not valid JSON: a string with a bad escape") == 0);
  // The column counts the bytes as written, not the three of each U+FFFD put in their place.
  CHECK(in->next().status().message().find(path + ":6: column 22: not valid JSON") == 0);
  CHECK(in->next().status().message().find(path + ":7: column 27: not valid JSON") == 0);
}

TEST_CASE("JsonlReader echoes a number as written, and re-encodes anything else compactly") {
  const TempDir dir("json_field");
  const std::string path = dir.file("in.jsonl");
  write_file(path,
             "{\"id\": 1E2, \"query\": \"x\"}\n"
             "{\"query\": \"x\", \"id\":-0.0 }\n"    // last, before white space and the brace
             "{\"query\": \"caf\xe9\", \"id\": 1.10}\n"  // a byte that is not UTF-8 rewrites the line
             "{\"id\": \"a\\u0062\", \"meta\": {\"n\": 2e0, \"o\": [1 , true]}}\n"
             "{\"query\": \"x\", \"i\\u0064\": 2E1}\n");  // the key escaped
  auto in = costroute::JsonlReader::open(path);
  REQUIRE(in.ok());
  REQUIRE(*in->next());
  CHECK(*in->json_field("id") == "1E2");
  REQUIRE(*in->next());
  CHECK(*in->json_field("id") == "-0.0");
  REQUIRE(*in->next());
  CHECK(*in->json_field("id") == "1.10");
  REQUIRE(*in->next());
  CHECK(*in->json_field("id") == "\"ab\"");
  CHECK(*in->json_field("meta.n") == "2.0");  // nested: re-encoded
  CHECK(*in->json_field("meta") == "{\"n\":2.0,\"o\":[1,true]}");
  REQUIRE(*in->next());
  CHECK(*in->json_field("id") == "2E1");
}

TEST_CASE("JsonlReader has no fields before its first record") {
  const TempDir dir("jsonl_first");
  const std::string path = dir.file("in.jsonl");
  write_file(path, "{\"query\":\"hi\"}\n");
  auto in = costroute::JsonlReader::open(path);
  REQUIRE(in.ok());
  CHECK(in->string_field("query").status().message() ==
        path + ": no current record (call next() until it returns true)");
  REQUIRE(*in->next());
  CHECK(*in->string_field("query") == "hi");
}

TEST_CASE("a directory is not a model file") {
  const TempDir temp("model_dir");
  const std::string& dir = temp.path();
  CHECK(costroute::load_model(dir).status().message() == dir + ": cannot open: Is a directory");
  CHECK(costroute::JsonlReader::open(dir).status().message() == dir + ": cannot open: Is a directory");
}

TEST_CASE("JsonlReader reports a missing file") {
  auto in = costroute::JsonlReader::open("/nonexistent/in.jsonl");
  CHECK(in.status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("JsonlReader reports a read error instead of ending early or throwing") {
  // Reading /proc/self/mem from offset 0 fails with EIO on Linux; the file
  // stream's buffer throws on that.
  auto in = costroute::JsonlReader::open("/proc/self/mem");
  REQUIRE(in.ok());
  const absl::StatusOr<bool> more = in->next();
  CHECK(more.status().code() == absl::StatusCode::kUnavailable);
  CHECK(more.status().message() == "/proc/self/mem: read error after line 0");
}

TEST_CASE("context features survive a save and load, and bad ones are refused with their path") {
  auto v = costroute::Vectorizer::create({}, {"ab"}, {1.0});
  REQUIRE(v.ok());
  auto model = costroute::Model::create(*v, {0.5}, 0.1, {},
                                        {{.field = "meta.subset", .values = {"law", "math"}, .coef = {-1.0 / 3, 2.5}}});
  REQUIRE(model.ok());
  auto loaded = costroute::parse_model(costroute::model_to_json(*model));
  REQUIRE(loaded.ok());
  REQUIRE(loaded->context_features().size() == 1);
  CHECK(loaded->context_features()[0].field == "meta.subset");
  CHECK(loaded->context_features()[0].values == std::vector<std::string>{"law", "math"});
  CHECK(loaded->context_features()[0].coef == std::vector<double>{-1.0 / 3, 2.5});
  std::string json = costroute::model_to_json(*model);
  json.replace(json.find("\"law\",\"math\""), 12, "\"math\",\"law\"");
  CHECK(error_of(json) == "m.json: context_features[0].values: not sorted and unique at [1]");
  json = costroute::model_to_json(*model);
  json.replace(json.find("2.5]"), 4, "\"x\"]");
  CHECK(error_of(json) == "m.json: context_features[0].coef[1]: expected a number, got string");
  for (const auto& [field, problem] : std::vector<std::pair<std::string, std::string>>{
           {"", "empty field name"},
           {"meta..subset", "\"meta..subset\": a dotted path with an empty part"},
           {".subset", "\".subset\": a dotted path with an empty part"},
           {"signal.bogus", "unknown signal feature \"signal.bogus\" (known: signal.task_type, signal.domain, "
                            "signal.script, signal.length, signal.reasoning, signal.code, signal.question)"}}) {
    json = costroute::model_to_json(*model);
    json.replace(json.find("\"meta.subset\""), 13, "\"" + field + "\"");
    CHECK(error_of(json) == "m.json: context_features[0].field: " + problem);
  }
  auto twice = costroute::Model::create(*v, {0.5}, 0.1, {},
                                        {{.field = "meta.subset", .values = {"law"}, .coef = {1.0}},
                                         {.field = "meta.subset", .values = {"math"}, .coef = {1.0}}});
  CHECK(twice.status().message() == "context_features[1].field: meta.subset given twice (also context_features[0])");
}

TEST_CASE("a win head survives a save and load, and a bad one is refused with its path") {
  auto v = costroute::Vectorizer::create({}, {"ab", "cd"}, {1.0, 2.0});
  REQUIRE(v.ok());
  auto model = costroute::Model::create(
      *v, {0.5, -0.25}, 0.1, {},
      {{.field = "meta.subset", .values = {"law", "math"}, .coef = {-1.0 / 3, 2.5}, .win_coef = {0.1, -1.0 / 7}}},
      costroute::WinHead{.weight = 0.5, .coef = {1.0 / 3, -2.0}, .intercept = -1.5});
  REQUIRE(model.ok());
  const std::string json = costroute::model_to_json(*model);
  auto loaded = costroute::parse_model(json);
  REQUIRE(loaded.ok());
  REQUIRE(loaded->win_head().has_value());
  CHECK(loaded->win_head()->weight == 0.5);
  CHECK(loaded->win_head()->coef == std::vector<double>{1.0 / 3, -2.0});
  CHECK(loaded->win_head()->intercept == -1.5);
  CHECK(loaded->context_features()[0].win_coef == std::vector<double>{0.1, -1.0 / 7});
  CHECK(costroute::model_to_json(*loaded) == json);
  const std::string_view math[] = {"math"};
  costroute::TextScratch scratch;
  CHECK(loaded->p_small_ok("ab cd ab", math, scratch) == model->p_small_ok("ab cd ab", math, scratch));

  auto replaced = [&](const std::string& what, const std::string& with) {
    std::string changed = json;
    REQUIRE(changed.find(what) != std::string::npos);
    changed.replace(changed.find(what), what.size(), with);
    return error_of(changed);
  };
  CHECK(replaced("\"weight\":0.5", "\"weight\":-1") ==
        "m.json: win_head.weight: expected a positive finite number, got -1");
  CHECK(replaced("\"weight\":0.5,", "") == "m.json: win_head.weight: missing");
  CHECK(replaced("\"weight\":0.5", "\"weight\":0.5,\"bias\":1") == "m.json: win_head.bias: unknown field");
  CHECK(replaced("-2]", "-2,3]") == "m.json: win_head.coef: expected 2 values (one per vocabulary term), got 3");
  CHECK(replaced(",\"win_coef\":[0.1,-0.14285714285714285]", "") == "m.json: context_features[0].win_coef: missing");
  CHECK(replaced("[0.1,-0.14285714285714285]", "[0.1]") ==
        "m.json: context_features[0].win_coef: expected 2 values (one per value), got 1");
  // Without its win head, the context's win weights have nothing to belong to, even none.
  std::string headless = json.substr(0, json.find(",\n\"win_head\"")) + "\n}\n";
  CHECK(error_of(headless) == "m.json: context_features[0].win_coef: present although the model has no win_head");
  headless.replace(headless.find("[0.1,-0.14285714285714285]"), 26, "[]");
  CHECK(error_of(headless) == "m.json: context_features[0].win_coef: present although the model has no win_head");
}

TEST_CASE("every signal a context feature may name has a value") {
  const costroute::Signals signals;
  for (std::string_view field : costroute::kSignalFeatures) {
    CHECK(costroute::check_context_field(field).ok());
    CHECK_FALSE(costroute::signal_feature(signals, field).empty());
  }
  CHECK(costroute::signal_feature(signals, "signal.bogus").empty());
  CHECK(costroute::check_context_field("user_tier").ok());
  CHECK(costroute::check_context_field("meta.subset").ok());
}

TEST_CASE("a descriptor's name is written through the descriptor, and no other path is taken for one") {
  CHECK(costroute::internal::descriptor_named("/dev/stdout") == 1);
  CHECK(costroute::internal::descriptor_named("/dev/stderr") == 2);
  CHECK(costroute::internal::descriptor_named("/dev/stdin") == 0);
  CHECK(costroute::internal::descriptor_named("/dev/fd/0") == 0);
  CHECK(costroute::internal::descriptor_named("/dev/fd/7") == 7);
  CHECK(costroute::internal::descriptor_named("/proc/self/fd/12") == 12);
  for (const char* other : {"/dev/stdin2", "/dev/fd/", "/dev/fd/1x", "/dev/fd/-1", "/dev/fd/01", "/dev/fd/1234567890", "/dev/null",
                            "/proc/1/fd/1", "dev/stdout", "/tmp/dev/fd/3", "out.svg"}) {
    INFO(other);
    CHECK(costroute::internal::descriptor_named(other) == -1);
  }
  // A file opened for writing gets the text at its offset, after what was
  // written before; the file is the same one, not replaced.
  const TempDir dir("descriptor");
  const std::string path = dir.file("out.txt");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, "table\n", 6) == 6);
  const std::string name = "/dev/fd/" + std::to_string(fd);
  CHECK(costroute::internal::check_writable(name).ok());
  CHECK(costroute::internal::write_file(name, "picture\n").ok());
  ::close(fd);
  CHECK(costroute::internal::read_file(path).value() == "table\npicture\n");
  // A closed descriptor, or one open only for reading, cannot be written.
  CHECK(costroute::internal::write_file(name, "x").message() == name + ": cannot write: Bad file descriptor");
  const int reading = ::open(path.c_str(), O_RDONLY);
  REQUIRE(reading >= 0);
  const std::string read_only = "/dev/fd/" + std::to_string(reading);
  CHECK(costroute::internal::check_writable(read_only).message() == read_only + ": cannot write: open only for reading");
  ::close(reading);
  CHECK(costroute::internal::read_file(path).value() == "table\npicture\n");
}
