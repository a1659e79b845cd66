// Model files: costroute.model/1. docs/model-format.md is the reference.
#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>

#include "absl/strings/str_cat.h"
#include "costroute/internal/status_macros.h"
#include "costroute/io.h"
#include "io/file_util.h"
#include "io/json_util.h"
#include "io/json_writer.h"

namespace costroute {
namespace {

using internal::to_absl;
using simdjson::dom::element;

absl::Status invalid(std::string_view field, std::string_view message) {
  if (field.empty()) return absl::InvalidArgumentError(to_absl(message));
  return absl::InvalidArgumentError(
      absl::StrCat(to_absl(field), ": ", to_absl(message)));
}

absl::Status wrong_type(std::string_view field, std::string_view expected,
                        element value) {
  return invalid(field, absl::StrCat("expected ", to_absl(expected), ", got ",
                                     internal::type_name(value.type())));
}

// Reads the fields of one JSON object by name, rejecting unknown ones.
class Fields {
 public:
  static absl::StatusOr<Fields> of(element value, std::string_view path,
                                   std::initializer_list<std::string_view> known) {
    simdjson::dom::object object;
    if (value.get_object().get(object) != simdjson::SUCCESS) {
      return wrong_type(path, "an object", value);
    }
    for (simdjson::dom::key_value_pair entry : object) {
      bool is_known = false;
      for (std::string_view k : known) is_known = is_known || entry.key == k;
      if (!is_known) {
        return invalid(path.empty() ? std::string(entry.key)
                                    : absl::StrCat(to_absl(path), ".",
                                                   to_absl(entry.key)),
                       "unknown field");
      }
    }
    return Fields(object, path);
  }

  std::string path_of(std::string_view name) const {
    return path_.empty() ? std::string(name)
                         : absl::StrCat(to_absl(path_), ".", to_absl(name));
  }

  bool has(std::string_view name) const {
    element value;
    return object_.at_key(name).get(value) == simdjson::SUCCESS;
  }

  absl::StatusOr<element> get(std::string_view name) const {
    element value;
    if (object_.at_key(name).get(value) != simdjson::SUCCESS) {
      return invalid(path_of(name), "missing");
    }
    return value;
  }

  absl::StatusOr<bool> boolean(std::string_view name, bool fallback) const {
    if (!has(name)) return fallback;
    COSTROUTE_ASSIGN_OR_RETURN(element value, get(name));
    bool b;
    if (value.get_bool().get(b) != simdjson::SUCCESS) {
      return wrong_type(path_of(name), "true or false", value);
    }
    return b;
  }

  absl::StatusOr<double> number(std::string_view name) const {
    COSTROUTE_ASSIGN_OR_RETURN(element value, get(name));
    double d;
    if (value.get_double().get(d) != simdjson::SUCCESS) {
      return wrong_type(path_of(name), "a number", value);
    }
    return d;
  }

  absl::StatusOr<std::string_view> string(std::string_view name) const {
    COSTROUTE_ASSIGN_OR_RETURN(element value, get(name));
    std::string_view s;
    if (value.get_string().get(s) != simdjson::SUCCESS) {
      return wrong_type(path_of(name), "a string", value);
    }
    return s;
  }

 private:
  Fields(simdjson::dom::object object, std::string_view path)
      : object_(object), path_(path) {}
  simdjson::dom::object object_;
  std::string path_;
};

absl::StatusOr<std::vector<double>> number_array(const Fields& fields,
                                                 std::string_view name) {
  COSTROUTE_ASSIGN_OR_RETURN(element value, fields.get(name));
  simdjson::dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS) {
    return wrong_type(fields.path_of(name), "an array of numbers", value);
  }
  std::vector<double> out;
  out.reserve(array.size());
  for (element item : array) {
    double d;
    if (item.get_double().get(d) != simdjson::SUCCESS) {
      return wrong_type(absl::StrCat(fields.path_of(name), "[", out.size(), "]"),
                        "a number", item);
    }
    out.push_back(d);
  }
  return out;
}

absl::StatusOr<DocumentFrequency> document_frequency(const Fields& fields,
                                                     std::string_view name,
                                                     DocumentFrequency fallback) {
  if (!fields.has(name)) return fallback;
  COSTROUTE_ASSIGN_OR_RETURN(element value, fields.get(name));
  int64_t count;
  if (value.get_int64().get(count) == simdjson::SUCCESS) {
    if (count < 0 || count > INT32_MAX) {
      return invalid(fields.path_of(name), "a count of documents must be in [0, 2147483647]");
    }
    return DocumentFrequency::documents(static_cast<int>(count));
  }
  double share;
  if (value.get_double().get(share) == simdjson::SUCCESS) {
    if (!(share >= 0.0 && share <= 1.0)) {
      return invalid(fields.path_of(name),
                     "a fraction must be in [0, 1]; write a whole number for "
                     "a count of documents");
    }
    return DocumentFrequency::fraction(share);
  }
  return wrong_type(fields.path_of(name), "a number", value);
}

absl::StatusOr<VectorizerOptions> parse_vectorizer(element value) {
  COSTROUTE_ASSIGN_OR_RETURN(
      Fields f, Fields::of(value, "vectorizer",
                           {"analyzer", "lowercase", "ngram_range", "binary", "norm",
                            "use_idf", "smooth_idf", "sublinear_tf", "min_df",
                            "max_df", "max_features"}));
  VectorizerOptions o;
  if (f.has("analyzer")) {
    COSTROUTE_ASSIGN_OR_RETURN(element analyzer, f.get("analyzer"));
    std::string_view name;
    if (analyzer.get_string().get(name) != simdjson::SUCCESS || !parse_analyzer(name, o.analyzer)) {
      return invalid("vectorizer.analyzer", "expected \"word\", \"char\" or \"char_wb\"");
    }
  }
  COSTROUTE_ASSIGN_OR_RETURN(o.lowercase, f.boolean("lowercase", true));
  COSTROUTE_ASSIGN_OR_RETURN(o.binary, f.boolean("binary", false));
  COSTROUTE_ASSIGN_OR_RETURN(o.use_idf, f.boolean("use_idf", true));
  COSTROUTE_ASSIGN_OR_RETURN(o.smooth_idf, f.boolean("smooth_idf", true));
  COSTROUTE_ASSIGN_OR_RETURN(o.sublinear_tf, f.boolean("sublinear_tf", false));
  {
    COSTROUTE_ASSIGN_OR_RETURN(element range, f.get("ngram_range"));
    simdjson::dom::array array;
    int64_t lo = 0, hi = 0;
    if (range.get_array().get(array) != simdjson::SUCCESS || array.size() != 2 ||
        array.at(0).get_int64().get(lo) != simdjson::SUCCESS ||
        array.at(1).get_int64().get(hi) != simdjson::SUCCESS ||
        lo < 1 || hi < lo || hi > kMaxNgram) {
      return invalid("vectorizer.ngram_range",
                     absl::StrCat("expected [min, max] with 1 <= min <= max <= ",
                                  kMaxNgram));
    }
    o.ngram_min = static_cast<int>(lo);
    o.ngram_max = static_cast<int>(hi);
  }
  if (f.has("norm")) {
    COSTROUTE_ASSIGN_OR_RETURN(element norm, f.get("norm"));
    std::string_view name;
    if (norm.is_null()) {
      o.norm = Norm::kNone;
    } else if (norm.get_string().get(name) == simdjson::SUCCESS &&
               (name == "l2" || name == "l1")) {
      o.norm = name == "l2" ? Norm::kL2 : Norm::kL1;
    } else {
      return invalid("vectorizer.norm", "expected \"l2\", \"l1\" or null");
    }
  }
  COSTROUTE_ASSIGN_OR_RETURN(o.min_df, document_frequency(f, "min_df", o.min_df));
  COSTROUTE_ASSIGN_OR_RETURN(o.max_df, document_frequency(f, "max_df", o.max_df));
  o.max_features = 0;
  if (f.has("max_features")) {
    COSTROUTE_ASSIGN_OR_RETURN(element mf, f.get("max_features"));
    int64_t n;
    if (!mf.is_null()) {
      if (mf.get_int64().get(n) != simdjson::SUCCESS || n < 1 || n > INT32_MAX) {
        return invalid("vectorizer.max_features",
                       "expected a positive whole number or null");
      }
      o.max_features = static_cast<int>(n);
    }
  }
  return o;
}

absl::StatusOr<Model> parse_root(element root) {
  // The format before the fields: a file of another kind (a router config
  // given as a model) is named as such, not by its first unknown field.
  std::string_view format;
  if (root.at_key("format").get_string().get(format) == simdjson::SUCCESS && format != kModelFormat) {
    return invalid("format", format == kConfigFormat
                                 ? absl::StrCat("\"", to_absl(format), "\" is a router config, not a model file")
                                 : absl::StrCat("unknown model format \"", to_absl(format),
                                                "\"; this build reads ", to_absl(kModelFormat)));
  }
  COSTROUTE_ASSIGN_OR_RETURN(
      Fields f, Fields::of(root, "",
                           {"format", "vectorizer", "vocabulary", "idf", "sublinear_tf_log",
                            "coef", "intercept", "context_features", "win_head", "provenance"}));
  COSTROUTE_RETURN_IF_ERROR(f.string("format").status());  // present, and a string
  COSTROUTE_ASSIGN_OR_RETURN(element vectorizer_json, f.get("vectorizer"));
  COSTROUTE_ASSIGN_OR_RETURN(VectorizerOptions options,
                             parse_vectorizer(vectorizer_json));

  COSTROUTE_ASSIGN_OR_RETURN(element vocabulary_json, f.get("vocabulary"));
  simdjson::dom::array terms;
  if (vocabulary_json.get_array().get(terms) != simdjson::SUCCESS) {
    return wrong_type("vocabulary", "an array of strings", vocabulary_json);
  }
  std::vector<std::string> vocabulary;
  vocabulary.reserve(terms.size());
  for (element term : terms) {
    std::string_view s;
    if (term.get_string().get(s) != simdjson::SUCCESS) {
      return wrong_type(absl::StrCat("vocabulary[", vocabulary.size(), "]"),
                        "a string", term);
    }
    vocabulary.emplace_back(s);
  }
  std::vector<double> idf;
  if (options.use_idf) {
    COSTROUTE_ASSIGN_OR_RETURN(idf, number_array(f, "idf"));
  } else if (f.has("idf")) {
    return invalid("idf", "present although vectorizer.use_idf is false");
  }
  std::vector<double> sublinear_tf_log;
  if (f.has("sublinear_tf_log")) {
    COSTROUTE_ASSIGN_OR_RETURN(sublinear_tf_log, number_array(f, "sublinear_tf_log"));
  }
  COSTROUTE_ASSIGN_OR_RETURN(std::vector<double> coef, number_array(f, "coef"));
  COSTROUTE_ASSIGN_OR_RETURN(double intercept, f.number("intercept"));

  Provenance provenance;
  if (f.has("provenance")) {
    COSTROUTE_ASSIGN_OR_RETURN(element p, f.get("provenance"));
    simdjson::dom::object object;
    if (p.get_object().get(object) != simdjson::SUCCESS) {
      return wrong_type("provenance", "an object of strings", p);
    }
    for (simdjson::dom::key_value_pair entry : object) {
      std::string_view s;
      if (entry.value.get_string().get(s) == simdjson::SUCCESS) {
        provenance.emplace_back(std::string(entry.key), std::string(s));
      } else {
        provenance.emplace_back(std::string(entry.key),
                                simdjson::minify(entry.value));
      }
    }
  }

  const bool has_win_head = f.has("win_head");
  std::vector<ContextFeature> context_features;
  if (f.has("context_features")) {
    COSTROUTE_ASSIGN_OR_RETURN(element list, f.get("context_features"));
    simdjson::dom::array array;
    if (list.get_array().get(array) != simdjson::SUCCESS) {
      return wrong_type("context_features", "an array", list);
    }
    for (element item : array) {
      const std::string path = absl::StrCat("context_features[", context_features.size(), "]");
      COSTROUTE_ASSIGN_OR_RETURN(Fields cf, Fields::of(item, path, {"field", "values", "coef", "win_coef"}));
      ContextFeature feature;
      COSTROUTE_ASSIGN_OR_RETURN(std::string_view field, cf.string("field"));
      feature.field = std::string(field);
      COSTROUTE_ASSIGN_OR_RETURN(element values, cf.get("values"));
      simdjson::dom::array value_array;
      if (values.get_array().get(value_array) != simdjson::SUCCESS) {
        return wrong_type(cf.path_of("values"), "an array of strings", values);
      }
      for (element v : value_array) {
        std::string_view text;
        if (v.get_string().get(text) != simdjson::SUCCESS) {
          return wrong_type(absl::StrCat(cf.path_of("values"), "[", feature.values.size(), "]"), "a string", v);
        }
        feature.values.emplace_back(text);
      }
      COSTROUTE_ASSIGN_OR_RETURN(feature.coef, number_array(cf, "coef"));
      // A win head has a weight per value; a model without one has none.
      if (has_win_head) {
        COSTROUTE_ASSIGN_OR_RETURN(feature.win_coef, number_array(cf, "win_coef"));
      } else if (cf.has("win_coef")) {
        return invalid(cf.path_of("win_coef"), "present although the model has no win_head");
      }
      context_features.push_back(std::move(feature));
    }
  }

  std::optional<WinHead> win_head;
  if (has_win_head) {
    COSTROUTE_ASSIGN_OR_RETURN(element head, f.get("win_head"));
    COSTROUTE_ASSIGN_OR_RETURN(Fields wf, Fields::of(head, "win_head", {"weight", "intercept", "coef"}));
    win_head.emplace();
    COSTROUTE_ASSIGN_OR_RETURN(win_head->weight, wf.number("weight"));
    COSTROUTE_ASSIGN_OR_RETURN(win_head->intercept, wf.number("intercept"));
    COSTROUTE_ASSIGN_OR_RETURN(win_head->coef, number_array(wf, "coef"));
  }

  COSTROUTE_ASSIGN_OR_RETURN(
      Vectorizer vectorizer,
      Vectorizer::create(options, std::move(vocabulary), std::move(idf),
                         std::move(sublinear_tf_log)));
  return Model::create(std::move(vectorizer), std::move(coef), intercept,
                       std::move(provenance), std::move(context_features), std::move(win_head));
}

// A fraction is written with a decimal point so that it reads back as a
// fraction (scikit-learn: 1 is one document, 1.0 is all of them).
void write_document_frequency(internal::JsonWriter& w, DocumentFrequency df) {
  if (!df.is_fraction) {
    w.value(static_cast<int64_t>(df.value));
    return;
  }
  std::string number = internal::json_number(df.value);
  if (number.find_first_of(".e") == std::string::npos) number += ".0";
  w.raw(number);
}

}  // namespace

absl::StatusOr<Model> parse_model(std::string_view json, std::string_view source) {
  simdjson::dom::parser parser;
  element root;
  COSTROUTE_RETURN_IF_ERROR(internal::parse_document(parser, json, source, root));
  absl::StatusOr<Model> model = parse_root(root);
  if (!model.ok()) {
    return internal::prefixed(source, model.status());
  }
  return model;
}

absl::StatusOr<Model> load_model(const std::string& path) {
  absl::StatusOr<std::string> text = internal::read_file(path);
  if (!text.ok()) return text.status();
  return parse_model(*text, path);
}

std::string model_to_json(const Model& model) {
  const Vectorizer& v = model.vectorizer();
  const VectorizerOptions& o = v.options();
  internal::JsonWriter w;
  w.begin_object();
  w.newline().key("format").value(kModelFormat);
  w.newline().key("vectorizer").begin_object();
  if (o.analyzer != Analyzer::kWord) w.key("analyzer").value(name_of(o.analyzer));
  w.key("lowercase").value(o.lowercase);
  w.key("ngram_range").begin_array().value(o.ngram_min).value(o.ngram_max).end_array();
  w.key("binary").value(o.binary);
  w.key("norm");
  if (o.norm == Norm::kNone) {
    w.null();
  } else {
    w.value(o.norm == Norm::kL2 ? "l2" : "l1");
  }
  w.key("use_idf").value(o.use_idf);
  w.key("smooth_idf").value(o.smooth_idf);
  w.key("sublinear_tf").value(o.sublinear_tf);
  w.key("min_df");
  write_document_frequency(w, o.min_df);
  w.key("max_df");
  write_document_frequency(w, o.max_df);
  w.key("max_features");
  if (o.max_features > 0) {
    w.value(o.max_features);
  } else {
    w.null();
  }
  w.end_object();
  w.newline().key("provenance").begin_object();
  for (const auto& [key, value] : model.provenance()) w.key(key).value(value);
  w.end_object();
  w.newline().key("intercept").value(model.intercept());
  if (!model.context_features().empty()) {
    w.newline().key("context_features").begin_array();
    for (const ContextFeature& c : model.context_features()) {
      w.begin_object().key("field").value(c.field).key("values").begin_array();
      for (const std::string& v : c.values) w.value(v);
      w.end_array().key("coef").begin_array();
      for (double x : c.coef) w.value(x);
      w.end_array();
      if (model.win_head()) {
        w.key("win_coef").begin_array();
        for (double x : c.win_coef) w.value(x);
        w.end_array();
      }
      w.end_object();
    }
    w.end_array();
  }
  w.newline().key("vocabulary").begin_array();
  for (const std::string& term : v.vocabulary()) w.value(term);
  w.end_array();
  if (o.use_idf) {
    w.newline().key("idf").begin_array();
    for (double x : v.idf()) w.value(x);
    w.end_array();
  }
  if (!v.sublinear_tf_log().empty()) {
    w.newline().key("sublinear_tf_log").begin_array();
    for (double x : v.sublinear_tf_log()) w.value(x);
    w.end_array();
  }
  w.newline().key("coef").begin_array();
  for (double x : model.coef()) w.value(x);
  w.end_array();
  if (const std::optional<WinHead>& head = model.win_head()) {
    w.newline().key("win_head").begin_object();
    w.key("weight").value(head->weight).key("intercept").value(head->intercept);
    w.newline().key("coef").begin_array();
    for (double x : head->coef) w.value(x);
    w.end_array().end_object();
  }
  w.newline().end_object();
  std::string out = w.take();
  out.push_back('\n');
  return out;
}

absl::Status save_model(const Model& model, const std::string& path) {
  const std::string json = model_to_json(model);
  // A file that load_model() would refuse is not written.
  if (json.size() > internal::kMaxFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": not written: the model takes ", json.size() >> 20, " MiB, more than the ", internal::kMaxFileBytes >> 20,
        " MiB a model file may hold; keep fewer features (max_features)"));
  }
  return internal::write_file(path, json);
}

}  // namespace costroute
