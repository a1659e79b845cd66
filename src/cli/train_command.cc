// costroute train: fit a router model on labelled JSONL (one file, or
// several separated by commas).
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/training_flags.h"
#include "costroute/internal/status_macros.h"
#include "costroute/io.h"
#include "costroute/train.h"
#include "io/json_writer.h"

namespace costroute::cli {

absl::Status train_command(const Args& args) {
  std::vector<std::string_view> value_flags = {"data", "out", "label", "weight-field"};
  value_flags.insert(value_flags.end(), kTrainValueFlags.begin(), kTrainValueFlags.end());
  const std::vector<std::string_view> switches(kTrainSwitches.begin(), kTrainSwitches.end());
  COSTROUTE_ASSIGN_OR_RETURN(Flags flags, Flags::parse(args, value_flags, switches));
  COSTROUTE_ASSIGN_OR_RETURN(std::string data_path, flags.required("data"));
  COSTROUTE_ASSIGN_OR_RETURN(std::string out_path, flags.required("out"));
  COSTROUTE_ASSIGN_OR_RETURN(TrainOptions options, train_options(flags));
  COSTROUTE_ASSIGN_OR_RETURN(ReadOptions read, read_options(flags, /*need_outcomes=*/false));
  COSTROUTE_ASSIGN_OR_RETURN(std::vector<LabelledRecord> records, read_labelled(flags.list("data"), read));
  std::vector<size_t> all(records.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  const TrainingSet data = training_set(records, all);
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
