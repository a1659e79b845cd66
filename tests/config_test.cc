#include <cmath>
#include <filesystem>
#include <memory>
#include <string>

#include "catch.h"
#include "costroute/io.h"
#include "test_util.h"

namespace {

std::string config_with(const std::string& models, const std::string& policies,
                        const std::string& extra = "") {
  return R"({"format": "costroute.config/1", "models": )" + models + R"(, "policies": )" + policies +
         extra + "}";
}

const std::string kModels = R"([
  {"name": "small", "tier": 0, "usd_per_mtok_in": 0.2, "usd_per_mtok_out": 0.6, "capabilities": ["text"]},
  {"name": "big", "tier": 1, "usd_per_mtok_in": 10, "usd_per_mtok_out": 30, "capabilities": ["text", "vision"]}])";

// The default model, for configs whose policies need a classifier's score.
std::shared_ptr<const costroute::Model> default_model() {
  static const auto model = std::make_shared<const costroute::Model>(
      costroute::load_model(COSTROUTE_SOURCE_DIR "/models/default.model.json").value());
  return model;
}

std::string error_of(const std::string& json) {
  auto router = costroute::parse_router(json, "c.json");
  REQUIRE(!router.ok());
  CHECK(router.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(router.status().message());
}

}  // namespace

TEST_CASE("a config with every policy type loads") {
  const std::string policies = R"([
    {"type": "sticky_session", "policy": {"type": "within_budget", "policy": {"type": "shift_tier",
      "when": {"hours": [22, 6], "user_tier": ["free"]}, "by": -1, "policy": {"type": "first_of", "policies": [
        {"type": "rule", "name": "vision", "when": {"has_image": true}, "route_to": "capable:vision"},
        {"type": "rule", "name": "all_fields", "when": {"task_type": ["code"], "domain": ["legal"],
          "script": ["latin"], "has_question": true, "has_code": true, "has_audio": false, "follow_up": false,
          "requested_model": false, "min_tokens": 1, "max_tokens": 9, "min_reasoning_hits": 0,
          "min_complexity": 0.1, "max_complexity": 0.9, "tags": {"feature": "x"}}, "route_to": "model:big"},
        {"type": "classifier", "threshold": 0.7, "cheap": "cheapest", "strong": "strongest"},
        {"type": "blend", "weights": {"complexity": 1.0, "reasoning": 0.5}, "thresholds": [0.5],
         "route_to": ["tier:0", "tier:1"]},
        {"type": "tier_table", "rows": [{"max_complexity": 0.3, "max_tokens": 100, "route_to": "tier:0"},
                                        {"route_to": "strongest"}]},
        {"type": "fixed", "route_to": "requested"}]}}}}])";
  auto router = costroute::parse_router(config_with(kModels, policies), "config", ".", default_model());
  REQUIRE(router.ok());
  CHECK((*router)->catalog().size() == 2);
  // The classifier, with a cheap and a strong target, decides every request.
  const auto d = (*router)->route("hello world, this is a plain request");
  CHECK(d.policy == "classifier");
  CHECK(d.model->name == (d.p_small_ok >= 0.7 ? "small" : "big"));
}

TEST_CASE("config problems stay readable: names without control characters, long keys cut, at most 20 problems") {
  CHECK(error_of(config_with(R"([{"name": "sm\nall", "tier": 0, "usd_per_mtok_in": 1, "usd_per_mtok_out": 1}])",
                             R"([{"type": "fixed", "name": "a\u001b[31m", "route_to": "cheapest"}])")) ==
        "c.json: models[0].name: expected a name without control characters (line breaks, tabs, NUL)");
  CHECK(error_of(config_with(kModels, R"([{"type": "fixed", "name": "a\u0000b", "route_to": "cheapest"}])")) ==
        "c.json: policies[0].name: expected a name without control characters (line breaks, tabs, NUL)");
  CHECK(error_of(config_with(R"([{"name": "a", "tier": 0, "usd_per_mtok_in": 1, "usd_per_mtok_out": 1,
                                  "capabilities": ["text", "code", "text"]}])", "[]")) ==
        "c.json: models[0].capabilities[2]: \"text\" is listed twice");
  // A key of the input shows as at most 60 bytes, on one line.
  const std::string key = "x\\n" + std::string(200, 'k');  // JSON for "x", a line break, then 200 k's
  const std::string long_key = error_of(config_with(kModels, R"([{"type": "fixed", "route_to": "cheapest"}])",
                                                    ", \"" + key + "\": 1"));
  CHECK(long_key.find('\n') == std::string::npos);
  CHECK(long_key.starts_with("c.json: x " + std::string(58, 'k') + "...: unknown field"));
  // Thousands of problems: the first 20, then how many more.
  std::string many = "[";
  for (int i = 0; i < 50; ++i) many += std::string(i ? "," : "") + R"({"name": "m", "tier": -1})";
  many += "]";
  const std::string capped = error_of(config_with(many, "[]"));
  CHECK(capped.ends_with("; and 130 more problems"));
  size_t shown = 0;
  for (size_t at = capped.find("; "); at != std::string::npos; at = capped.find("; ", at + 1)) ++shown;
  CHECK(shown == 20);  // 20 separators: 20 problems and the count of the rest
}

TEST_CASE("a classifier without a file name is refused as such") {
  CHECK(error_of(config_with(kModels, R"([{"type": "fixed", "route_to": "cheapest"}])",
                             R"(, "classifier": {"model": ""})")) == "c.json: classifier.model: an empty file name");
}

TEST_CASE("config errors are all reported at once, each with its JSON path") {
  const std::string bad_models = R"([
    {"name": "small", "tier": -1, "usd_per_mtok_in": 0.2, "usd_per_mtok_out": 0.6},
    {"tier": 1, "usd_per_mtok_in": "ten", "usd_per_mtok_out": 30, "capabilities": ["text", "telepathy"]}])";
  CHECK(error_of(config_with(bad_models, "[]")) ==
        "c.json: models[0].tier: expected a whole number in [0, 1000]; models[1].name: missing; "
        "models[1].usd_per_mtok_in: expected a number in [0, 1e+06]; models[1].capabilities[1]: "
        "unknown capability \"telepathy\" (expected text, vision, audio, code, long_context, tools)");
  const std::string bad_policies = R"([
    {"type": "rule", "when": {"user_tier": ["premium"]}, "route_to": "model:nope"},
    {"type": "classifier", "threshold": 1.5, "cheap": "cheapest"},
    {"type": "rule", "when": {"task_type": ["juggling"], "colour": "red"}, "route_to": "tier:7"},
    {"type": "telepathy"},
    {"type": "rule", "when": {}, "route_to": "capable:audio"},
    {"type": "blend", "weights": {"complexity": 1}, "thresholds": [0.5, 0.4], "route_to": ["cheapest"]},
    {"type": "rule", "when": {"hours": [5, 5], "min_complexity": 0.8, "max_complexity": 0.2}, "route_to": "cheapest"},
    {"type": "rule", "when": {"user_tier": [], "domain": []}, "route_to": "cheapest"}])";
  const std::string message = error_of(config_with(kModels, bad_policies));
  CHECK(message.find("policies[0].route_to: \"model:nope\": no model named \"nope\" in models") != std::string::npos);
  CHECK(message.find("policies[1].threshold: expected a number in [0, 1]") != std::string::npos);
  CHECK(message.find("policies[2].when.colour: unknown field") != std::string::npos);
  CHECK(message.find("policies[2].when.task_type[0]: unknown task_type \"juggling\"") != std::string::npos);
  CHECK(message.find("policies[2].route_to: \"tier:7\": expected tier:N with N in [0, 1]") != std::string::npos);
  CHECK(message.find("policies[3].type: unknown policy type \"telepathy\"") != std::string::npos);
  CHECK(message.find("policies[4].route_to: \"capable:audio\": no model at tier >= 0 has audio") != std::string::npos);
  CHECK(message.find("policies[5].thresholds[1]: thresholds must be ascending") != std::string::npos);
  CHECK(message.find("policies[6].when.hours: an empty window (from equals to)") != std::string::npos);
  CHECK(message.find("policies[6].when.min_complexity: greater than max_complexity") != std::string::npos);
  CHECK(message.find("policies[7].when.user_tier: an empty list: the rule could never hold") != std::string::npos);
  CHECK(message.find("policies[7].when.domain: an empty list") != std::string::npos);
  CHECK(message.rfind("c.json: ", 0) == 0);
  CHECK(message.find('\n') == std::string::npos);
}

TEST_CASE("problems of options or format do not hide the policies' problems") {
  const std::string bad_policy = R"([{"type": "classifier", "threshold": 1.5, "cheap": "cheapest"}])";
  const std::string message = error_of(config_with(kModels, bad_policy, R"(, "options": {"default_output_tokens": -1})"));
  CHECK(message.find("options.default_output_tokens:") != std::string::npos);
  CHECK(message.find("policies[0].threshold: expected a number in [0, 1]") != std::string::npos);
  std::string bad_format = config_with(kModels, bad_policy);
  bad_format.replace(bad_format.find("\"costroute.config/1\""), 20, "1");
  const std::string format_message = error_of(bad_format);
  CHECK(format_message.find("format:") != std::string::npos);
  CHECK(format_message.find("policies[0].threshold:") != std::string::npos);
}

TEST_CASE("whole numbers may be written with a zero fraction") {
  const std::string models = R"([
    {"name": "small", "tier": 0.0, "usd_per_mtok_in": 0.2, "usd_per_mtok_out": 0.6, "context_window": 4096.0},
    {"name": "big", "tier": 1, "usd_per_mtok_in": 10, "usd_per_mtok_out": 30}])";
  auto router = costroute::parse_router(config_with(models, R"([{"type": "fixed", "route_to": "cheapest"}])"));
  REQUIRE(router.ok());
  CHECK((*router)->catalog()[0].context_window == 4096);
  CHECK(error_of(config_with(R"([{"name": "a", "tier": 0.5, "usd_per_mtok_in": 1, "usd_per_mtok_out": 1}])",
                             R"([{"type": "fixed", "route_to": "cheapest"}])")) ==
        "c.json: models[0].tier: expected a whole number in [0, 1000]");
}

TEST_CASE("options are read with their defaults, and wrong ones named by path") {
  const std::string fixed = R"([{"type": "fixed", "route_to": "cheapest"}])";
  auto plain = costroute::parse_router(config_with(kModels, fixed));
  REQUIRE(plain.ok());
  CHECK((*plain)->options().default_output_tokens == 256);
  CHECK(!(*plain)->options().always_score);
  auto set = costroute::parse_router(config_with(
      kModels, fixed, R"(, "options": {"default_output_tokens": 50, "utc_offset_minutes": -300, "always_score": true})"));
  REQUIRE(set.ok());
  CHECK((*set)->options().default_output_tokens == 50);
  CHECK((*set)->options().utc_offset_minutes == -300);
  CHECK((*set)->options().always_score);
  const std::string message =
      error_of(config_with(kModels, fixed, R"(, "options": {"always_score": 1, "colour": "red"})"));
  CHECK(message.find("options.always_score: expected true or false, got number") != std::string::npos);
  CHECK(message.find("options.colour: unknown field") != std::string::npos);
}

TEST_CASE("config files with the wrong format, missing parts or broken JSON are refused") {
  CHECK(error_of(R"({"format": "costroute.config/9", "models": [], "policies": []})") ==
        "c.json: format: unknown config format \"costroute.config/9\"; this build reads costroute.config/1");
  // A model file given as the config: one error, not one per field of the model.
  CHECK(error_of(R"({"format": "costroute.model/1", "vectorizer": {}, "coef": [], "intercept": 0})") ==
        "c.json: format: \"costroute.model/1\" is a model file, not a router config");
  CHECK(error_of(R"({"format": 1, "models": [], "policies": []})").find("c.json: format: expected a string") == 0);
  CHECK(error_of(R"({"models": [{"name": "a", "tier": 0, "usd_per_mtok_in": 1, "usd_per_mtok_out": 1}],
                     "policies": [{"type": "fixed", "route_to": "cheapest"}]})") ==
        "c.json: format: missing; write \"format\": \"costroute.config/1\"");
  CHECK(error_of(R"({"format": "costroute.config/1"})") == "c.json: models: missing; policies: missing");
  CHECK(error_of(R"({"format": "costroute.config/1", "models": )") ==
        "c.json:1:44: not valid JSON: unbalanced braces or brackets, or a missing comma or colon (truncated?)");
  // Syntax errors are located, line and column.
  CHECK(error_of("{\"format\": \"costroute.config/1\",\n \"models\": [1 2]}") ==
        "c.json:2:15: not valid JSON: unbalanced braces or brackets, or a missing comma or colon (truncated?)");
  CHECK(error_of(R"({"a": 012})") == "c.json:1:8: not valid JSON: malformed or out-of-range number");
  CHECK(error_of(R"({"a": 1e999})") == "c.json:1:7: not valid JSON: malformed or out-of-range number");
  CHECK(error_of(R"({"a": tru})") == "c.json:1:7: not valid JSON: a misspelt true, false or null, or text without quotes");
  CHECK(error_of(R"({"a": {"b": 1,}})") ==
        "c.json:1:15: not valid JSON: unbalanced braces or brackets, or a missing comma or colon (truncated?)");
  CHECK(error_of("[]") == "c.json: expected an object, got array");
}

TEST_CASE("a config's classifier file is read beside it, and a missing one is an error") {
  auto ok = costroute::load_router(COSTROUTE_SOURCE_DIR "/models/default.config.json");
  REQUIRE(ok.ok());
  CHECK((*ok)->model() != nullptr);
  const std::string json = config_with(kModels, R"([{"type": "fixed", "route_to": "cheapest"}])",
                                       R"(, "classifier": {"model": "missing.json"})");
  const std::string message = error_of(json);
  CHECK(message == "c.json: classifier.model: ./missing.json: cannot open: No such file or directory");
  CHECK(costroute::load_router("/nonexistent/c.json").status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("edit_config replaces a classifier's threshold and keeps the config loadable") {
  const std::string json = config_with(kModels, R"([
      {"type": "classifier", "name": "first", "threshold": 0.5, "cheap": "cheapest"},
      {"type": "classifier", "name": "second", "threshold": 0.6, "cheap": "cheapest"},
      {"type": "fixed", "route_to": "strongest"}])");
  auto edited = costroute::edit_config(json, {.threshold = 0.8125, .policy_name = "second"});
  REQUIRE(edited.ok());
  CHECK(edited->find("\"threshold\": 0.5") != std::string::npos);
  CHECK(edited->find("\"threshold\": 0.8125") != std::string::npos);
  CHECK(edited->find("\"threshold\": 0.6") == std::string::npos);
  CHECK(costroute::parse_router(*edited, "config", ".", default_model()).ok());
  auto first = costroute::edit_config(json, {.threshold = 0.25});
  REQUIRE(first.ok());
  CHECK(first->find("\"threshold\": 0.25") != std::string::npos);
  CHECK(costroute::edit_config(json, {.threshold = 0.3, .policy_name = "third"}).status().message() ==
        "no classifier policy named \"third\"");
  CHECK(costroute::edit_config(json, {.threshold = 1.5}).status().code() == absl::StatusCode::kInvalidArgument);
  const std::string twins = config_with(kModels, R"([
      {"type": "classifier", "name": "c", "threshold": 0.5, "cheap": "cheapest"},
      {"type": "classifier", "name": "c", "threshold": 0.9, "cheap": "cheapest"},
      {"type": "fixed", "route_to": "strongest"}])");
  CHECK(costroute::edit_config(twins, {.threshold = 0.7, .policy_name = "c"}).status().message() ==
        "more than one classifier policy is named \"c\"; name each apart");
  CHECK(*costroute::classifier_path(R"({"classifier": {"model": "m.json"}})", "dir") == "dir/m.json");
  CHECK(*costroute::classifier_path(R"({"classifier": {"model": "/abs/m.json"}})", "dir") == "/abs/m.json");
  CHECK(costroute::classifier_path("{}", "dir")->empty());
  CHECK(costroute::classifier_path(R"({"classifier": {"model": ""}})", "dir")->empty());
  // A classifier path needs an object to go into.
  CHECK(costroute::edit_config("42", {.model_path = "m.json"}).status().message() ==
        "expected a JSON object, to set its classifier");
  CHECK(costroute::edit_config(R"({"classifier": 5})", {.model_path = "m.json"}).status().message() ==
        "classifier: expected an object, to set its model");
  // A path the file system cannot name is an error, not an exception.
  const std::string too_long = "/tmp/" + std::string(300, 'x');
  CHECK(costroute::edit_config(json, {.to_dir = too_long, .model_path = "m.json"}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("edit_config keeps a relative classifier path pointing at the same file from another directory") {
  const std::string json = config_with(kModels, R"([{"type": "fixed", "route_to": "cheapest"}])",
                                       R"(, "classifier": {"model": "m.json"})");
  auto edited = costroute::edit_config(json, {.from_dir = "/a/b", .to_dir = "/a/c/d"});
  REQUIRE(edited.ok());
  CHECK(edited->find("\"model\": \"../../b/m.json\"") != std::string::npos);
}

TEST_CASE("targets take their tiers as digits and a capability once, and a policy name is not empty") {
  const std::string message = error_of(config_with(kModels, R"([
    {"type": "fixed", "route_to": "tier:+1"},
    {"type": "fixed", "route_to": "tier: 1"},
    {"type": "fixed", "route_to": "capable:text,text"},
    {"type": "fixed", "route_to": "capable:text@+0"},
    {"type": "fixed", "name": "", "route_to": "cheapest"}])"));
  CHECK(message.find("policies[0].route_to: \"tier:+1\": expected tier:N with N in [0, 1]") != std::string::npos);
  CHECK(message.find("policies[1].route_to: \"tier: 1\": expected tier:N with N in [0, 1]") != std::string::npos);
  CHECK(message.find("policies[2].route_to: \"capable:text,text\": capability \"text\" given twice") !=
        std::string::npos);
  CHECK(message.find("policies[3].route_to: \"capable:text@+0\": expected capable:CAP[,CAP]@TIER") !=
        std::string::npos);
  CHECK(message.find("policies[4].name: empty") != std::string::npos);
  CHECK(costroute::parse_router(config_with(kModels, R"([{"type": "fixed", "route_to": "tier:01"}])")).ok());
}

TEST_CASE("a price of -0 is 0, so that no cost prints as -0") {
  const std::string models = R"([
    {"name": "free", "tier": 0, "usd_per_mtok_in": -0.0, "usd_per_mtok_out": -0.0},
    {"name": "big", "tier": 1, "usd_per_mtok_in": 10, "usd_per_mtok_out": 30}])";
  auto router = costroute::parse_router(config_with(models, R"([{"type": "fixed", "route_to": "cheapest"}])"));
  REQUIRE(router.ok());
  const costroute::ModelInfo& free = (*router)->catalog().models().front();
  CHECK_FALSE(std::signbit(free.usd_per_mtok_in));
  CHECK_FALSE(std::signbit(free.usd_per_mtok_out));
}

TEST_CASE("the classifier section is checked with a model given too, and a file name must not hold a NUL") {
  const std::string fixed = R"([{"type": "fixed", "route_to": "cheapest"}])";
  auto model = costroute::load_model(COSTROUTE_SOURCE_DIR "/models/default.model.json");
  REQUIRE(model.ok());
  const auto given = std::make_shared<const costroute::Model>(*std::move(model));
  auto with_model = [&](const std::string& classifier) {
    auto router = costroute::parse_router(config_with(kModels, fixed, classifier), "c.json", ".", given);
    return router.ok() ? std::string("ok") : std::string(router.status().message());
  };
  CHECK(with_model(R"(, "classifier": {"model": 5})") ==
        "c.json: classifier.model: expected a string, got number");
  CHECK(with_model(R"(, "classifier": {"model": "m.json", "extra": 1})").find("classifier.extra: unknown field") !=
        std::string::npos);
  // The file is not read: the given model replaces it.
  CHECK(with_model(R"(, "classifier": {"model": "missing.json"})") == "ok");
  CHECK(error_of(config_with(kModels, fixed, R"(, "classifier": {"model": "default.model.json\u0000x"})")) ==
        "c.json: classifier.model: a file name with a NUL byte");
}

TEST_CASE("a linked config reads its classifier beside the file it links to") {
  const costroute::testing::TempDir dir("linked_config");
  std::filesystem::create_directories(dir.file("release"));
  std::filesystem::create_directories(dir.file("etc"));
  std::filesystem::copy_file(COSTROUTE_SOURCE_DIR "/models/default.model.json", dir.file("release/m.json"));
  costroute::testing::write_file(
      dir.file("release/c.json"),
      config_with(kModels, R"([{"type": "fixed", "route_to": "cheapest"}])", R"(, "classifier": {"model": "m.json"})"));
  std::filesystem::create_symlink("../release/c.json", dir.file("etc/c.json"));
  CHECK(costroute::config_directory(dir.file("etc/c.json")) ==
        std::filesystem::canonical(dir.file("release")).string());
  CHECK(costroute::config_directory(dir.file("release/c.json")) == dir.file("release"));
  CHECK(costroute::config_directory("c.json") == ".");
  auto router = costroute::load_router(dir.file("etc/c.json"));
  INFO((router.ok() ? "" : std::string(router.status().message())));
  REQUIRE(router.ok());
  CHECK((*router)->model() != nullptr);
}

TEST_CASE("a policy that needs the classifier's score needs a classifier, and a blend needs a weight") {
  const std::string classifier = R"([{"type": "classifier", "threshold": 0.5, "cheap": "cheapest"},
                                     {"type": "fixed", "route_to": "strongest"}])";
  CHECK(error_of(config_with(kModels, classifier)) ==
        "c.json: policies[0]: needs the classifier's score, but the config has no \"classifier\" (and no model was "
        "given to load it with)");
  const std::string blend = R"([{"type": "blend", "weights": {"complexity": 0.5, "p_large": 0.5}, "thresholds": [0.5],
                                 "route_to": ["cheapest", "strongest"]}])";
  CHECK(error_of(config_with(kModels, blend)) ==
        "c.json: policies[0].weights.p_large: needs the classifier's score, but the config has no \"classifier\" "
        "(and no model was given to load it with)");
  CHECK(costroute::parse_router(config_with(kModels, classifier), "c.json", ".", default_model()).ok());
  CHECK(error_of(config_with(kModels, R"([{"type": "blend", "weights": {}, "thresholds": [0.5],
                                          "route_to": ["cheapest", "strongest"]}])")) ==
        "c.json: policies[0].weights: empty: the score would be 0 for every request");
}
