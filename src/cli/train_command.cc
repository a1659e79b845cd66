// costroute train: fit a router model on labelled JSONL (one file, or
// several separated by commas).
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "costroute/internal/status_macros.h"
#include "costroute/io.h"
#include "costroute/train.h"
#include "io/json_writer.h"

namespace costroute::cli {
namespace {

// "5" is a number of documents, "0.5" a fraction, as in scikit-learn.
absl::StatusOr<DocumentFrequency> document_frequency(const Flags& flags,
                                                     std::string_view name,
                                                     DocumentFrequency fallback) {
  const auto text = flags.get(name);
  if (!text) return fallback;
  if (text->find_first_of(".eE") == std::string::npos) {
    COSTROUTE_ASSIGN_OR_RETURN(int64_t count, flags.integer(name, 0, 0, INT32_MAX));
    return DocumentFrequency::documents(static_cast<int>(count));
  }
  COSTROUTE_ASSIGN_OR_RETURN(double share, flags.number(name, 0.0));
  if (share < 0.0 || share > 1.0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", internal::to_absl(name), ": a fraction must be in [0, 1]"));
  }
  return DocumentFrequency::fraction(share);
}

absl::StatusOr<TrainOptions> train_options(const Flags& flags) {
  TrainOptions o;
  VectorizerOptions& v = o.vectorizer;
  if (flags.get("max-features") == "none") {
    v.max_features = 0;
  } else {
    COSTROUTE_ASSIGN_OR_RETURN(int64_t mf, flags.integer("max-features", 5000, 1, INT32_MAX));
    v.max_features = static_cast<int>(mf);
  }
  COSTROUTE_ASSIGN_OR_RETURN(auto ngram, flags.pair("ngram", {1, 2}));
  v.ngram_min = ngram.first;
  v.ngram_max = ngram.second;
  COSTROUTE_ASSIGN_OR_RETURN(v.min_df, document_frequency(flags, "min-df", v.min_df));
  COSTROUTE_ASSIGN_OR_RETURN(v.max_df, document_frequency(flags, "max-df", v.max_df));
  v.sublinear_tf = flags.has("sublinear-tf");
  v.binary = flags.has("binary");
  COSTROUTE_ASSIGN_OR_RETURN(o.C, flags.number("C", 1.0));
  COSTROUTE_ASSIGN_OR_RETURN(int64_t max_iter, flags.integer("max-iter", o.max_iterations, 1, 1000000));
  o.max_iterations = static_cast<int>(max_iter);
  COSTROUTE_ASSIGN_OR_RETURN(o.tolerance, flags.number("tol", o.tolerance));
  if (auto cw = flags.get("class-weight")) {
    if (*cw != "balanced" && *cw != "none") {
      return absl::InvalidArgumentError("--class-weight: expected balanced or none");
    }
    o.balanced_class_weight = *cw == "balanced";
  }
  return o;
}

// Appends query, label and optional weight of every record of `path`.
absl::Status read_training_set(const std::string& path,
                               const std::optional<std::string>& label,
                               const std::optional<std::string>& weight,
                               TrainingSet& data) {
  COSTROUTE_ASSIGN_OR_RETURN(JsonlReader in, JsonlReader::open(path));
  const size_t before = data.queries.size();
  while (true) {
    COSTROUTE_ASSIGN_OR_RETURN(bool more, in.next());
    if (!more) break;
    COSTROUTE_ASSIGN_OR_RETURN(std::string_view query, in.string_field("query"));
    std::string label_field = label.value_or("label_small_ok");
    if (!label && !in.has_field(label_field) && in.has_field("label")) label_field = "label";
    COSTROUTE_ASSIGN_OR_RETURN(int y, in.label_field(label_field));
    data.queries.emplace_back(query);
    data.labels.push_back(y);
    if (weight) {
      COSTROUTE_ASSIGN_OR_RETURN(double w, in.number_field(*weight));
      if (!(w >= 0.0)) {
        return in.error(absl::StrCat("field \"", *weight, "\": expected a weight >= 0"));
      }
      data.weights.push_back(w);
    }
  }
  if (data.queries.size() == before) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no records"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status train_command(const Args& args) {
  COSTROUTE_ASSIGN_OR_RETURN(
      Flags flags,
      Flags::parse(args,
                   {"data", "out", "max-features", "ngram", "C", "label",
                    "weight-field", "class-weight", "min-df", "max-df", "max-iter", "tol"},
                   {"sublinear-tf", "binary"}));
  COSTROUTE_ASSIGN_OR_RETURN(std::string data_path, flags.required("data"));
  COSTROUTE_ASSIGN_OR_RETURN(std::string out_path, flags.required("out"));
  COSTROUTE_ASSIGN_OR_RETURN(TrainOptions options, train_options(flags));
  TrainingSet data;
  for (const std::string& path : flags.list("data")) {
    COSTROUTE_RETURN_IF_ERROR(
        read_training_set(path, flags.get("label"), flags.get("weight-field"), data));
  }
  options.provenance.emplace_back("data", data_path);
  COSTROUTE_ASSIGN_OR_RETURN(TrainResult result, train(data, options));
  COSTROUTE_RETURN_IF_ERROR(save_model(result.model, out_path));

  const TrainReport& r = result.report;
  if (!r.converged) {
    std::fprintf(stderr,
                 "costroute train: warning: the solver stopped after %d iterations "
                 "before converging (relative gradient %.3g); raise --max-iter\n",
                 r.iterations, r.relative_gradient);
  }
  internal::JsonWriter w;
  w.begin_object()
      .key("out").value(out_path)
      .key("n_examples").value(r.n_examples)
      .key("n_features").value(r.n_features)
      .key("iterations").value(r.iterations)
      .key("evaluations").value(r.evaluations)
      .key("converged").value(r.converged)
      .key("relative_gradient").value(r.relative_gradient)
      .key("seconds_vectorizer").value(r.seconds_vectorizer)
      .key("seconds_solver").value(r.seconds_solver)
      .end_object();
  std::printf("%s\n", w.str().c_str());
  return absl::OkStatus();
}

}  // namespace costroute::cli
