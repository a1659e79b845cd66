// Private: the subcommands of `costroute`. Each takes the arguments after
// its name and returns an absl::Status; main() prints a failure as one line
// on stderr and exits with 1.
#ifndef COSTROUTE_SRC_CLI_COMMANDS_H_
#define COSTROUTE_SRC_CLI_COMMANDS_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/flags.h"
#include "costroute/eval.h"
#include "costroute/io.h"
#include "costroute/router.h"
#include "io/message_text.h"

namespace costroute::cli {

using Args = std::vector<std::string>;

absl::Status train_command(const Args& args);
absl::Status score_command(const Args& args);
absl::Status bench_command(const Args& args);
absl::Status tokenize_command(const Args& args);
absl::Status signals_command(const Args& args);
absl::Status route_command(const Args& args);
absl::Status eval_command(const Args& args);
absl::Status calibrate_command(const Args& args);

// Checks the file flag `output` names, if given, before any work:
// InvalidArgument for an empty name ("--plot=") or if it is one that a flag of `inputs` names (the same file
// by any name or link), which writing would destroy ("--out a.jsonl is
// also the --data file; not overwriting it"), else the error of
// internal::check_writable() if it cannot be written.
[[nodiscard]] absl::Status check_output(const Flags& flags, std::string_view output,
                                        std::initializer_list<std::string_view> inputs);

// InvalidArgument naming the first of `names` that was given: flags that do
// nothing in the mode the command runs in ("--plot does not apply with
// --config: it evaluates a whole router"), rather than being ignored.
[[nodiscard]] absl::Status refuse_flags(const Flags& flags, const std::vector<std::string_view>& names,
                                        std::string_view why);

// When a --model was given and none of the `routed` requests was scored
// with it (no policy of the config asked for the classifier's score:
// policies ask as they go, so only the run can tell), a warning on stderr
// ("costroute route: warning: --model was not used: ..."), so that nobody
// believes the model routed them.
void warn_if_model_unused(std::string_view command, bool model_given, size_t routed, bool scored);

// `text` as a message or a table shows it, on one short line
// (io/message_text.h).
using internal::one_line;

// The "id" of the current record as JSON (a string or number, re-encoded),
// or its line number when it has none. Other id types are an error.
[[nodiscard]] absl::StatusOr<std::string> record_id(const JsonlReader& in);

// An Evaluation as one JSON object (the eval --json contract) or a table,
// with the router's APGR bootstrap beside it.
std::string evaluation_json(const Evaluation& e, const ApgrBootstrap& b);
std::string evaluation_table(const Evaluation& e, const ApgrBootstrap& b);

// When the strong model is not better on average in `e` (its mean quality
// is not above the small one's, so PGR, APGR and CPT are undefined), "the
// small model is at least as good as the strong one on average (mean
// quality S against L): sending every prompt to it loses no quality and
// saves X% of always-strong's cost"; else "". eval and calibrate say it
// instead of judging the router against random, which then means nothing.
std::string small_model_suffices(const Evaluation& e);

// "threshold: p_small_ok >= T goes to the small model", T written exactly
// (the shortest decimal that reads back as T, since a rounded threshold can
// move a prompt to the other model); when `strong_share` is 1, says that
// nothing goes to the small model.
std::string threshold_line(double threshold, double strong_share);

// A request's context, owning the strings the Context views.
struct OwnedContext {
  std::string user_id, session_id, user_tier, task_type, domain, requested_model, trace_id,
      session_model;
  std::vector<std::string> turns;
  std::vector<std::string_view> turn_views;
  std::vector<std::pair<std::string, std::string>> tags;
  std::vector<Tag> tag_views;
  Context context;
};

// Reads a request's context fields (user_tier, modality, tags, ...;
// docs/cli.md, "route") from the current record into `out`. A context
// feature of `model` (may be null) that no Context field or tag supplies
// is read from the record's field at that path ("meta.subset") as a tag.
[[nodiscard]] absl::Status read_context(const JsonlReader& in, bool explain, const Model* model,
                                        OwnedContext& out);

// Writes `text` to standard output in large blocks.
class Output {
 public:
  ~Output() { flush(); }
  std::string& buffer() { return buffer_; }
  void maybe_flush() {
    if (buffer_.size() >= (1 << 16)) flush();
  }
  void flush();

 private:
  std::string buffer_;
};

}  // namespace costroute::cli

#endif  // COSTROUTE_SRC_CLI_COMMANDS_H_
