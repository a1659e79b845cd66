#include "cli/training_flags.h"

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <unordered_set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "costroute/internal/status_macros.h"
#include "costroute/io.h"
#include "costroute/signals.h"
#include "io/file_util.h"

namespace costroute::cli {
namespace {

// "5" is a number of documents, "0.5" a fraction, as in scikit-learn.
absl::StatusOr<DocumentFrequency> document_frequency(const Flags& flags, std::string_view name,
                                                     DocumentFrequency fallback) {
  const auto text = flags.get(name);
  if (!text) return fallback;
  if (text->find_first_of(".eE") == std::string::npos) {
    COSTROUTE_ASSIGN_OR_RETURN(int64_t count, flags.integer(name, 0, 0, INT32_MAX));
    return DocumentFrequency::documents(static_cast<int>(count));
  }
  COSTROUTE_ASSIGN_OR_RETURN(double share, flags.number(name, 0.0));
  if (share < 0.0 || share > 1.0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", internal::to_absl(name), ": a fraction must be in [0, 1]"));
  }
  return DocumentFrequency::fraction(share);
}

}  // namespace

absl::StatusOr<TrainOptions> train_options(const Flags& flags) {
  TrainOptions o;
  VectorizerOptions& v = o.vectorizer;
  if (flags.get("max-features") == "none") {
    v.max_features = 0;
  } else {
    COSTROUTE_ASSIGN_OR_RETURN(int64_t mf, flags.integer("max-features", 5000, 1, INT32_MAX));
    v.max_features = static_cast<int>(mf);
  }
  if (auto analyzer = flags.get("analyzer")) {
    if (!parse_analyzer(*analyzer, v.analyzer)) {
      return absl::InvalidArgumentError("--analyzer: expected word, char or char_wb");
    }
  }
  COSTROUTE_ASSIGN_OR_RETURN(auto ngram, flags.pair("ngram", {1, 2}));
  if (ngram.first < 1 || ngram.second < ngram.first || ngram.second > kMaxNgram) {
    return absl::InvalidArgumentError(absl::StrCat("--ngram: expected MIN,MAX with 1 <= MIN <= MAX <= ", kMaxNgram));
  }
  v.ngram_min = ngram.first;
  v.ngram_max = ngram.second;
  COSTROUTE_ASSIGN_OR_RETURN(v.min_df, document_frequency(flags, "min-df", v.min_df));
  COSTROUTE_ASSIGN_OR_RETURN(v.max_df, document_frequency(flags, "max-df", v.max_df));
  v.sublinear_tf = flags.has("sublinear-tf");
  v.binary = flags.has("binary");
  COSTROUTE_ASSIGN_OR_RETURN(o.C, flags.number("C", 1.0));
  if (!(o.C > 0.0 && o.C <= 1e12)) {  // beyond, the solver starts at a gradient it cannot scale
    return absl::InvalidArgumentError(absl::StrCat("--C: expected a number in (0, 1e12], got ", o.C));
  }
  COSTROUTE_ASSIGN_OR_RETURN(int64_t max_iter, flags.integer("max-iter", o.max_iterations, 1, 1000000));
  o.max_iterations = static_cast<int>(max_iter);
  COSTROUTE_ASSIGN_OR_RETURN(o.tolerance, flags.number("tol", o.tolerance));
  if (!(o.tolerance >= 0.0 && o.tolerance < 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat("--tol: expected a number in [0, 1), got ", o.tolerance));
  }
  COSTROUTE_ASSIGN_OR_RETURN(int64_t threads, flags.integer("threads", 0, 1, 256));
  o.threads = static_cast<int>(threads);
  COSTROUTE_ASSIGN_OR_RETURN(o.context_fields, flags.list("context-fields"));
  for (const std::string& field : o.context_fields) {
    if (absl::Status s = check_context_field(field); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--context-fields: ", s.message()));
    }
  }
  if (auto cw = flags.get("class-weight")) {
    if (*cw != "balanced" && *cw != "none") {
      return absl::InvalidArgumentError("--class-weight: expected balanced or none");
    }
    o.balanced_class_weight = *cw == "balanced";
  }
  if (auto learn = flags.get("learn")) {
    std::string name = *learn;
    std::replace(name.begin(), name.end(), '-', '_');
    if (learn->find('_') != std::string::npos || !parse_target(name, o.target)) {
      return absl::InvalidArgumentError("--learn: expected label, quality-gap, cheap-quality or label-and-win");
    }
  }
  if (flags.has("win-c-factor")) {
    if (o.target != TrainTarget::kLabelAndWin) {
      return absl::InvalidArgumentError("--win-c-factor: only with --learn label-and-win, which has a win head");
    }
    COSTROUTE_ASSIGN_OR_RETURN(o.win_C_factor, flags.number("win-c-factor", 1.0));
    if (!(o.win_C_factor > 0.0 && o.C * o.win_C_factor <= 1e12)) {  // as --C
      return absl::InvalidArgumentError(absl::StrCat(
          "--win-c-factor: expected a number above 0 that keeps C times it at most 1e12, got ", o.win_C_factor));
    }
  }
  return o;
}

absl::StatusOr<std::vector<std::pair<std::string, double>>> quality_map(const JsonlReader& in) {
  COSTROUTE_ASSIGN_OR_RETURN(auto quality, in.number_map_field("quality"));
  for (const auto& [model, q] : quality) {
    if (!(std::fabs(q) <= kMaxQuality)) {
      return in.error(absl::StrCat("field \"quality\": the score of ", one_line(model, 40), " is beyond 1e12 in size"));
    }
    if (q != 0.0 && std::fabs(q) < kMinQuality) {
      return in.error(absl::StrCat("field \"quality\": the score of ", one_line(model, 40),
                                   " is below 1e-300 in size but not 0, too small to average: rescale the scores"));
    }
  }
  return quality;
}

absl::StatusOr<ReadOptions> read_options(std::string_view command, const Flags& flags, bool need_outcomes,
                                         const TrainOptions& training) {
  ReadOptions r;
  r.command = absl::StrCat("costroute ", internal::to_absl(command));
  r.label_field = flags.get("label");
  r.context_fields = training.context_fields;
  r.context_fields_from_flag = !r.context_fields.empty();
  r.weight_field = flags.get("weight-field");
  r.need_outcomes = need_outcomes;
  r.need_quality = training.target != TrainTarget::kLabel;
  r.one_scale = r.need_outcomes || r.need_quality;
  for (auto [flag, into] : {std::pair{"cost-small", &r.cost_small}, std::pair{"cost-large", &r.cost_large}}) {
    if (!flags.has(flag)) continue;
    COSTROUTE_ASSIGN_OR_RETURN(double c, flags.number(flag, 0.0));
    if (!(c >= 0.0 && c <= kMaxCost)) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag, ": expected a cost in [0, 1e12], got ", c));
    }
    *into = c;
  }
  // An outcome as a feature would score every record by its own result:
  // perfect in evaluation, and missing when a request is routed.
  for (const std::string& field : r.context_fields) {
    const bool label = field == "label_small_ok" || field == "label" || field == r.label_field.value_or("");
    if (label || field == "quality" || absl::StartsWith(field, "quality.")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--context-fields: \"", field, "\" is ", label ? "a label" : "the models' quality",
          ", known only after the models answer; a context field must be known when the request is routed"));
    }
    if (field == r.weight_field.value_or("")) {
      return absl::InvalidArgumentError(
          absl::StrCat("--context-fields: \"", field, "\" is the --weight-field; a field is a weight or a feature"));
    }
  }
  return r;
}

namespace {

// What read_labelled() notices across records, for the checks at the end.
struct ReadTally {
  std::string first_with_quality, first_without_quality;  // "FILE:LINE", or "" if none
  bool cost_small_filled = false, cost_large_filled = false;  // by --cost-small, --cost-large
  size_t label_disagrees = 0;  // records whose label is not quality[small] >= quality[large]
  std::string first_disagreement;
  std::string scale, scale_at;  // the first meta.quality_scale, and its "FILE:LINE"
  size_t small_dearer = 0;  // records whose small model costs more than the strong one
  std::string first_small_dearer;
};

// The checks of read_labelled() that need every record (its comment in
// training_flags.h lists them).
absl::Status check_outcomes(const std::vector<LabelledRecord>& records, const std::vector<std::string>& paths,
                            const ReadOptions& options, const ReadTally& tally) {
  if (!tally.first_with_quality.empty() && !tally.first_without_quality.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        tally.first_without_quality, ": no \"quality\" map, while ", tally.first_with_quality,
        " has one: the label (0 or 1) would be measured beside the scores; give every record a quality map, or none"));
  }
  for (auto [flag, field, given, filled] :
       {std::tuple{"--cost-small", "cost_small", options.cost_small.has_value(), tally.cost_small_filled},
        std::tuple{"--cost-large", "cost_large", options.cost_large.has_value(), tally.cost_large_filled}}) {
    if (given && !filled) {
      return absl::InvalidArgumentError(absl::StrCat(flag, ": every record has its ", field,
                                                     ", so the flag would change nothing (it fills in missing costs)"));
    }
  }
  double cost_small = 0.0, cost_large = 0.0, quality_small = 0.0, quality_large = 0.0;
  for (const LabelledRecord& r : records) {
    cost_small += r.cost_small;
    cost_large += r.cost_large;
    quality_small += r.quality_small;
    quality_large += r.quality_large;
  }
  // Problems of the files together, named as --data lists them.
  const std::string files = absl::StrJoin(paths, ",");
  if (!(cost_small < cost_large)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: costs: the small model costs %g in all, the strong one %g: with the small model no cheaper there is "
        "nothing to save (check cost_small and cost_large)",
        files, cost_small, cost_large));
  }
  if (quality_large > quality_small && !(quality_large > 0.0)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: quality: the strong model's mean quality is %g: the allowed drop is a share of it, which needs a "
        "mean above 0 (shift the scores so that they are positive)",
        files, quality_large / static_cast<double>(records.size())));
  }
  if (tally.small_dearer > 0) {
    std::fprintf(stderr,
                 "%s: warning: in %zu of %zu records (the first at %s) cost_small is above cost_large: the small "
                 "model costs more there, so sending it those prompts costs more, not less\n",
                 options.command.c_str(), tally.small_dearer, records.size(), tally.first_small_dearer.c_str());
  }
  if (tally.label_disagrees > 0) {
    std::fprintf(stderr,
                 "%s: warning: in %zu of %zu records (the first at %s) the label disagrees with the quality map "
                 "(quality[meta.small] >= quality[meta.large]): training learns the label, evaluation measures "
                 "the qualities\n",
                 options.command.c_str(), tally.label_disagrees, records.size(), tally.first_disagreement.c_str());
  }
  return absl::OkStatus();
}

}  // namespace

void warn_context_field_unseen(std::string_view command, std::string_view field) {
  std::fprintf(stderr,
               "%.*s: warning: no record has the model's context field \"%.*s\": every score comes from the text "
               "alone, as for a value never seen in training\n",
               static_cast<int>(command.size()), command.data(), static_cast<int>(field.size()), field.data());
}

absl::StatusOr<std::vector<LabelledRecord>> read_labelled(const std::vector<std::string>& paths,
                                                          const ReadOptions& options) {
  std::vector<LabelledRecord> records;
  if (paths.empty()) return absl::InvalidArgumentError("--data: no file named");
  // Flags::list() refuses a path given twice; one file under two names
  // ("a.jsonl,./a.jsonl", a link, "-" redirected from it) would count its
  // records twice too, and put copies of a test fold's records in training.
  for (size_t i = 0; i < paths.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (internal::same_file(paths[i], paths[j])) {
        return absl::InvalidArgumentError(
            absl::StrCat("--data: ", paths[j], " and ", paths[i], " are the same file"));
      }
    }
  }
  ReadTally tally;
  for (const std::string& path : paths) {
    COSTROUTE_ASSIGN_OR_RETURN(JsonlReader in, JsonlReader::open(path));
    const size_t before = records.size();
    while (true) {
      COSTROUTE_ASSIGN_OR_RETURN(bool more, in.next());
      if (!more) break;
      LabelledRecord r;
      COSTROUTE_ASSIGN_OR_RETURN(std::string_view query, in.string_field("query"));
      r.query = std::string(query);
      const bool has_quality = in.has_field("quality");
      r.has_quality = has_quality;
      std::string& first = has_quality ? tally.first_with_quality : tally.first_without_quality;
      if (first.empty()) first = absl::StrCat(path, ":", in.line_number());
      if (!has_quality && options.need_quality) {
        return in.error("missing field \"quality\" (--learn quality-gap, cheap-quality and label-and-win learn from the models' scores)");
      }
      if (has_quality) {
        COSTROUTE_ASSIGN_OR_RETURN(std::string_view small, in.string_field("meta.small"));
        COSTROUTE_ASSIGN_OR_RETURN(std::string_view large, in.string_field("meta.large"));
        if (small == large) {
          return in.error(absl::StrCat("meta.small and meta.large both name ", one_line(small, 40),
                                       ": routing needs two models"));
        }
        // Scores on two scales (0/1 correctness, a judge's 1-10) would be
        // averaged as one, where they are measured or learned (a label of
        // 0 or 1 means the same on any scale); --extra-data maps each set
        // onto the data's, so each extra file is read, and checked, alone.
        if (options.one_scale && in.has_field("meta.quality_scale")) {
          COSTROUTE_ASSIGN_OR_RETURN(const std::string scale, in.json_field("meta.quality_scale"));
          if (tally.scale_at.empty()) {
            tally.scale = scale;
            tally.scale_at = absl::StrCat(path, ":", in.line_number());
          } else if (scale != tally.scale) {
            return in.error(absl::StrCat("meta.quality_scale is ", one_line(scale, 60), ", but ", tally.scale_at,
                                         " has ", one_line(tally.scale, 60),
                                         ": scores on two scales cannot be measured as one (evaluate each set "
                                         "apart, or give the other set as --extra-data)"));
          }
        }
        COSTROUTE_ASSIGN_OR_RETURN(auto quality, quality_map(in));
        bool found_small = false, found_large = false;
        double others = 0.0;
        size_t count = 0;
        for (const auto& [model, q] : quality) {
          if (model == small) r.quality_small = q, found_small = true;
          if (model == large) r.quality_large = q, found_large = true;
          if (model != large) others += q, ++count;
        }
        // Each score is within 1e12 (quality_map): the sum stays finite.
        // The small model is one of the others, once it is found below.
        r.quality_cheap = others / static_cast<double>(std::max<size_t>(count, 1));
        if (!found_small || !found_large) {
          return in.error(absl::StrCat("field \"quality\": no score for ",
                                       one_line(found_small ? large : small, 40),
                                       " (named by meta.", found_small ? "large" : "small", ")"));
        }
      }
      // The label's field; with none, the label is the qualities' verdict.
      std::optional<std::string> label_field = options.label_field;
      if (!label_field && in.has_field("label_small_ok")) label_field = "label_small_ok";
      if (!label_field && in.has_field("label")) label_field = "label";
      if (label_field) {
        COSTROUTE_ASSIGN_OR_RETURN(r.label, in.label_field(*label_field));
      } else if (has_quality) {
        r.label = r.quality_small >= r.quality_large ? 1 : 0;
      } else {
        return in.error("missing field \"label_small_ok\" (or \"label\", or a \"quality\" map)");
      }
      // --label names a label of the user's own making, which may differ on purpose.
      if (has_quality && !options.label_field && r.label != (r.quality_small >= r.quality_large ? 1 : 0)) {
        if (tally.label_disagrees++ == 0) tally.first_disagreement = absl::StrCat(path, ":", in.line_number());
      }
      if (!has_quality) {
        r.quality_small = r.label;
        r.quality_large = 1.0;
      }
      if (options.weight_field) {
        COSTROUTE_ASSIGN_OR_RETURN(r.weight, in.number_field(*options.weight_field));
        if (!(r.weight >= 0.0 && r.weight <= kMaxExampleWeight)) {
          return in.error(absl::StrCat("field \"", *options.weight_field, "\": expected a weight in [0, 1e12]"));
        }
      }
      if (options.need_outcomes) {
        for (auto [field, flag, into, fallback, filled] :
             {std::tuple{"cost_small", "--cost-small", &r.cost_small, options.cost_small, &tally.cost_small_filled},
              std::tuple{"cost_large", "--cost-large", &r.cost_large, options.cost_large, &tally.cost_large_filled}}) {
          if (in.has_field(field)) {
            COSTROUTE_ASSIGN_OR_RETURN(*into, in.number_field(field));
            if (!(*into >= 0.0 && *into <= kMaxCost)) {
              return in.error(absl::StrCat("field \"", field, "\": expected a cost in [0, 1e12]"));
            }
          } else if (fallback) {
            *into = *fallback;
            *filled = true;
          } else {
            return in.error(absl::StrCat("missing field \"", field, "\" (or pass ", flag, ")"));
          }
        }
      }
      if (options.need_outcomes && r.cost_small > r.cost_large && tally.small_dearer++ == 0) {
        tally.first_small_dearer = absl::StrCat(path, ":", in.line_number());
      }
      COSTROUTE_ASSIGN_OR_RETURN(r.context, context_values(in, r.query, options.context_fields));
      records.push_back(std::move(r));
    }
    if (records.size() == before) return absl::InvalidArgumentError(absl::StrCat(path, ": no records"));
  }
  for (size_t f = 0; f < options.context_fields.size(); ++f) {
    const bool seen = std::any_of(records.begin(), records.end(), [f](const LabelledRecord& r) { return !r.context[f].empty(); });
    if (seen) continue;
    if (options.context_fields_from_flag) {
      return absl::InvalidArgumentError(absl::StrCat("--context-fields: no record of the --data has the field \"",
                                                     options.context_fields[f], "\""));
    }
    if (options.extra_data) {
      std::string files;
      for (const std::string& path : paths) absl::StrAppend(&files, files.empty() ? "" : ",", path);
      std::fprintf(stderr,
                   "%s: warning: no record of the --extra-data file %s has the context field \"%s\": its examples "
                   "are learned without it\n",
                   options.command.c_str(), files.c_str(), options.context_fields[f].c_str());
    } else {
      warn_context_field_unseen(options.command, options.context_fields[f]);
    }
  }
  if (options.need_outcomes) COSTROUTE_RETURN_IF_ERROR(check_outcomes(records, paths, options, tally));
  return records;
}

TrainingSet training_set(const std::vector<LabelledRecord>& records) {
  TrainingSet data;
  bool weighted = false, gaps = !records.empty();
  for (const LabelledRecord& r : records) {
    weighted = weighted || r.weight != 1.0;
    gaps = gaps && r.has_quality;
  }
  for (size_t i = 0; i < records.size(); ++i) {
    data.queries.push_back(records[i].query);
    data.labels.push_back(records[i].label);
    if (weighted) data.weights.push_back(records[i].weight);
    if (gaps) {
      data.quality_gap.push_back(records[i].quality_small - records[i].quality_large);
      data.cheap_quality.push_back(records[i].quality_cheap);
    }
    if (!records[i].context.empty()) data.context.push_back(records[i].context);
  }
  return data;
}

absl::StatusOr<std::vector<std::string>> context_values(const JsonlReader& in, std::string_view query,
                                                        const std::vector<std::string>& fields) {
  std::vector<std::string> values;
  std::optional<Signals> signals;
  for (const std::string& field : fields) {
    if (is_signal_feature(field)) {
      if (!signals) {
        static const SignalExtractor extractor;
        TextScratch scratch;
        SignalExtractor::prepare(query, scratch);
        signals = extractor.extract(query, Context{}, scratch);
      }
      const std::string_view value = signal_feature(*signals, field);
      if (value.empty()) return in.error(absl::StrCat("unknown signal feature \"", field, "\""));
      values.emplace_back(value);
      continue;
    }
    if (!in.has_field(field)) {
      values.emplace_back();
      continue;
    }
    COSTROUTE_ASSIGN_OR_RETURN(std::string value, in.category_field(field));
    values.push_back(std::move(value));
  }
  return values;
}

absl::StatusOr<std::optional<Model>> model_from_flags(const Flags& flags, ReadOptions& read) {
  const auto path = flags.get("model");
  if (!path) return std::optional<Model>();
  COSTROUTE_ASSIGN_OR_RETURN(Model model, load_model(*path));
  read.context_fields.clear();
  read.context_fields_from_flag = false;
  for (const ContextFeature& c : model.context_features()) read.context_fields.push_back(c.field);
  return std::optional<Model>(std::move(model));
}

absl::StatusOr<std::vector<double>> model_scores(const Model& model, const std::vector<LabelledRecord>& records) {
  std::vector<double> scores(records.size());
  TextScratch scratch;
  for (size_t i = 0; i < records.size(); ++i) {
    scores[i] = model.p_small_ok(records[i].query, views(records[i].context), scratch);
  }
  return scores;
}

std::vector<LabelledRecord> with_context_fields(std::vector<LabelledRecord> records,
                                               const std::vector<std::string>& fields,
                                               const std::vector<std::string>& chosen) {
  std::vector<size_t> keep;
  for (const std::string& field : chosen) {
    keep.push_back(static_cast<size_t>(std::find(fields.begin(), fields.end(), field) - fields.begin()));
  }
  for (LabelledRecord& r : records) {
    std::vector<std::string> values;
    for (size_t k : keep) values.push_back(r.context[k]);
    r.context = std::move(values);
  }
  return records;
}

absl::StatusOr<TuneObjective> tune_objective(const Flags& flags) {
  const std::string by = flags.get("tune-by").value_or("auto");
  if (by == "auto") return TuneObjective::kAuto;
  if (by == "apgr") return TuneObjective::kApgr;
  if (by == "savings") return TuneObjective::kSavings;
  return absl::InvalidArgumentError("--tune-by: expected auto, apgr or savings");
}

absl::StatusOr<double> max_quality_drop(const Flags& flags) {
  COSTROUTE_ASSIGN_OR_RETURN(double drop, flags.number("max-quality-drop", 0.03));
  if (drop < 0.0 || drop > 1.0) return absl::InvalidArgumentError("--max-quality-drop: expected a number in [0, 1]");
  return drop;
}

std::vector<std::string> queries_of(const std::vector<LabelledRecord>& records) {
  std::vector<std::string> queries(records.size());
  for (size_t i = 0; i < records.size(); ++i) queries[i] = records[i].query;
  return queries;
}

absl::Status check_folds(int64_t folds, const std::vector<LabelledRecord>& records, bool given) {
  const std::string flag = absl::StrCat("--cv ", folds, given ? "" : " (the default)");
  if (static_cast<uint64_t>(folds) > records.size()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": more folds than records (", records.size(), ")"));
  }
  const size_t prompts = distinct_prompts(queries_of(records));
  if (static_cast<uint64_t>(folds) > prompts) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": more folds than distinct prompts (", prompts,
                                                   " among ", records.size(),
                                                   " records; a repeated prompt stays in one fold)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ExtraRecords> read_extra(const Flags& flags, const ReadOptions& read,
                                        const std::vector<LabelledRecord>& records) {
  ExtraRecords extra;
  if (!flags.has("extra-data")) {
    if (flags.has("extra-weight")) {
      return absl::InvalidArgumentError("--extra-weight weighs the examples of --extra-data: give that too");
    }
    return extra;
  }
  COSTROUTE_ASSIGN_OR_RETURN(extra.weight, flags.number("extra-weight", extra.weight));
  if (!(extra.weight > 0.0 && extra.weight <= kMaxExtraWeight)) {
    return absl::InvalidArgumentError("--extra-weight: expected a number in (0, 1e12]");
  }
  COSTROUTE_ASSIGN_OR_RETURN(std::vector<std::string> paths, flags.list("extra-data"));
  COSTROUTE_ASSIGN_OR_RETURN(std::vector<std::string> data_paths, flags.list("data"));
  // Their records need no costs, and may lack a context field the data has.
  ReadOptions extra_read = read;
  extra_read.need_outcomes = false;
  extra_read.need_quality = false;
  extra_read.context_fields_from_flag = false;
  extra_read.extra_data = true;
  extra_read.cost_small.reset();
  extra_read.cost_large.reset();
  const bool qualities = !records.empty() && std::all_of(records.begin(), records.end(),
                                                         [](const LabelledRecord& r) { return r.has_quality; });
  // A prompt of the data in an extra set would be trained on in the fold
  // that measures it (a copy of the data under another name made Arena's
  // seed recipe look 4 times better).
  std::unordered_set<std::string_view> data_queries;
  for (const LabelledRecord& r : records) data_queries.insert(r.query);
  for (size_t k = 0; k < paths.size(); ++k) {
    const std::string& path = paths[k];
    // The same file under another name too (./a.jsonl, a link).
    for (const std::string& data_path : data_paths) {
      if (internal::same_file(path, data_path)) {
        return absl::InvalidArgumentError(absl::StrCat("--extra-data: ", path, " is also the --data file ", data_path,
                                                       "; its prompts would be trained on and measured"));
      }
    }
    for (size_t j = 0; j < k; ++j) {
      if (internal::same_file(path, paths[j])) {
        return absl::InvalidArgumentError(
            absl::StrCat("--extra-data: ", path, " and ", paths[j], " are the same file; give it once"));
      }
    }
    COSTROUTE_ASSIGN_OR_RETURN(std::vector<LabelledRecord> set, read_labelled({path}, extra_read));
    // Records are numbered as in the file; repeats of the data's prompts,
    // left out below, are not checked.
    auto repeat = [&](const LabelledRecord& r) { return data_queries.contains(r.query); };
    for (size_t i = 0; i < set.size(); ++i) {
      if (repeat(set[i])) continue;
      if (set[i].weight * extra.weight > kMaxExampleWeight) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": record ", i + 1, ": its weight ", set[i].weight,
                                                       " times --extra-weight ", extra.weight, " is above 1e12"));
      }
    }
    if (qualities) {
      for (size_t i = 0; i < set.size(); ++i) {
        if (set[i].has_quality || repeat(set[i])) continue;
        return absl::InvalidArgumentError(absl::StrCat(
            path, ": record ", i + 1, " has no \"quality\" map, which every record of --data has (a target learned "
            "from the qualities needs them in every example)"));
      }
    }
    const size_t read_count = set.size();
    std::erase_if(set, repeat);
    if (set.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--extra-data: every record of ", path, " repeats a prompt of --data: nothing to add"));
    }
    if (set.size() < read_count) {
      std::fprintf(stderr, "%s: note: %zu of the %zu records of %s repeat a prompt of --data and are left out\n",
                   read.command.c_str(), read_count - set.size(), read_count, path.c_str());
    }
    extra.sets.push_back(std::move(set));
  }
  return extra;
}

ExtraExamples extra_examples(const ExtraRecords& extra, const std::vector<std::string>& fields,
                             const std::vector<std::string>& chosen) {
  ExtraExamples out{.sets = {}, .weight = extra.weight};
  for (const std::vector<LabelledRecord>& set : extra.sets) {
    out.sets.push_back(training_set(with_context_fields(set, fields, chosen)));
  }
  return out;
}

absl::StatusOr<FoldScores> tuned_scores(const std::vector<LabelledRecord>& records, const TrainOptions& base,
                                        const TuneOptions& tune_options, int folds, uint64_t seed,
                                        const ExtraRecords& extra) {
  std::vector<int> labels(records.size());
  for (size_t i = 0; i < records.size(); ++i) labels[i] = records[i].label;
  FoldScores out{std::vector<double>(records.size()), assign_folds(labels, folds, seed, queries_of(records))};
  const std::vector<int>& fold = out.fold;
  for (int f = 0; f < folds; ++f) {
    std::vector<LabelledRecord> inside;
    for (size_t i = 0; i < records.size(); ++i) {
      if (fold[i] != f) inside.push_back(records[i]);
    }
    // Errors say which outer fold, since the inner folds are numbered too.
    const std::string where = absl::StrCat("outer fold ", f + 1, " of ", folds);
    absl::StatusOr<TuneResult> searched =
        tune(training_set(inside), outcomes(inside, std::vector<double>(inside.size())), base, tune_options,
             extra_examples(extra, base.context_fields, base.context_fields));
    if (!searched.ok()) {
      return internal::prefixed(absl::StrCat(where, ": tuning by ", tune_options.folds,
                                             "-fold cross validation inside its ", inside.size(), " training records"),
                                searched.status());
    }
    const TuneResult& tuned = *searched;
    std::fprintf(stderr, "costroute eval --tune: outer fold %d of %d: %s\n", f + 1, folds,
                 describe(tuned.best).c_str());
    const std::vector<LabelledRecord> trimmed =
        with_context_fields(inside, base.context_fields, tuned.best.context_fields);
    absl::StatusOr<TrainingSet> part = with_extra(
        training_set(trimmed), extra_examples(extra, base.context_fields, tuned.best.context_fields));
    if (!part.ok()) return internal::prefixed(where, part.status());
    absl::StatusOr<TrainResult> trained = train(*part, tuned.best);
    if (!trained.ok()) return internal::prefixed(where, trained.status());
    const auto [models, unconverged] = unconverged_in(tuned, tune_options.folds);
    out.models += models + 1;
    out.unconverged += unconverged + (trained->report.converged ? 0 : 1);
    TextScratch scratch;
    for (size_t i = 0; i < records.size(); ++i) {
      if (fold[i] != f) continue;
      const LabelledRecord one = with_context_fields({records[i]}, base.context_fields,
                                                     tuned.best.context_fields)[0];
      out.scores[i] = trained->model.p_small_ok(one.query, views(one.context), scratch);
    }
  }
  return out;
}

void warn_unconverged(std::string_view command, int unconverged, int models) {
  if (unconverged == 0) return;
  std::fprintf(stderr,
               "%.*s: warning: %d of the %d models trained stopped before converging: their scores are not the "
               "optimum's; raise --max-iter\n",
               static_cast<int>(command.size()), command.data(), unconverged, models);
}

std::pair<int, int> unconverged_in(const TuneResult& tuned, int folds) {
  int unconverged = 0;
  for (const TuneTrial& t : tuned.trials) unconverged += t.unconverged;
  return {static_cast<int>(tuned.trials.size()) * folds, unconverged};
}

std::vector<std::string_view> views(const std::vector<std::string>& values) {
  return std::vector<std::string_view>(values.begin(), values.end());
}

std::vector<Outcome> outcomes(const std::vector<LabelledRecord>& records, const std::vector<double>& scores) {
  std::vector<Outcome> out(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    out[i] = Outcome{scores[i], records[i].quality_small, records[i].quality_large, records[i].cost_small,
                     records[i].cost_large};
  }
  return out;
}

}  // namespace costroute::cli
