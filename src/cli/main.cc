// The `costroute` command. docs/cli.md and shared/DESIGN.md ("Command line")
// describe every subcommand; their flags and output fields are a contract.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>

#include "cli/commands.h"
#include "costroute/internal/status_macros.h"
#include "costroute/version.h"
#include "io/json_util.h"

namespace {

// One entry per command: its name, what runs it, and its synopsis (the
// flags it accepts; docs/cli.md explains them).
struct Command {
  std::string_view name;
  absl::Status (*run)(const costroute::cli::Args&);
  std::string_view usage;
};

constexpr Command kCommands[] = {
    {"train", costroute::cli::train_command, R"(
  train     --data TRAIN.jsonl[,MORE.jsonl] --out MODEL.json [--max-features 5000|none]
            [--analyzer word|char|char_wb] [--ngram 1,2] [--C 1.0]
            [--label label_small_ok] [--weight-field FIELD] [--class-weight balanced|none]
            [--min-df N|F] [--max-df N|F] [--sublinear-tf] [--binary]
            [--max-iter 2000] [--tol 1e-9] [--context-fields PATH[,PATH...]] [--threads N]
            [--learn label|quality-gap|cheap-quality|label-and-win [--win-c-factor 1.0]]
            [--extra-data OTHER.jsonl[,MORE.jsonl] [--extra-weight 0.1]]
            [--tune [--cv 5] [--tune-by auto|apgr|savings] [--max-quality-drop 0.03]
                    [--cost-small C] [--cost-large C]]
)"},
    {"route", costroute::cli::route_command, R"(
  route     --config CONFIG.json [--data REQUESTS.jsonl] [--model MODEL.json]
            [--format jsonl|table] [--explain]
)"},
    {"score", costroute::cli::score_command, R"(
  score     --model MODEL.json --data IN.jsonl
)"},
    {"eval", costroute::cli::eval_command, R"(
  eval      (--model MODEL.json | --cv K [--tune [--tune-by auto|apgr|savings]]
                                [--weight-field FIELD] [training flags])
            --data TEST.jsonl [--seed 1] [--label FIELD] [--cost-small C] [--cost-large C]
            [--max-quality-drop 0.03] [--bootstrap 1000] [--json] [--plot FILE.svg [--title TEXT]]
  eval      --config CONFIG.json [--model MODEL.json] --data DATA.jsonl
            [--costs NAME=COST,...] [--skip-incomplete] [--json]
)"},
    {"calibrate", costroute::cli::calibrate_command, R"(
  calibrate --data DATA.jsonl [--model MODEL.json | --cv 5 [--weight-field FIELD] [training flags]]
            [--seed 1] [--label FIELD] [--cost-small C] [--cost-large C]
            [--max-quality-drop D | --strong-share S | --max-cost C] [--bootstrap 1000]
            [--config IN.json --out OUT.json [--policy NAME]] [--force] [--json]
)"},
    {"bench", costroute::cli::bench_command, R"(
  bench     (--model MODEL.json | --config CONFIG.json) --data IN.jsonl
            [--min-seconds 2] [--threads N]
)"},
    {"tokenize", costroute::cli::tokenize_command, R"(
  tokenize  --data IN.jsonl [--no-lowercase]
)"},
    {"signals", costroute::cli::signals_command, R"(
  signals   --data IN.jsonl
)"},
};

constexpr std::string_view kFooter = R"(
JSONL input: one JSON object per line with a "query" string; "-" reads
standard input. "training flags" are train's. docs/cli.md describes every
command, flag and output field.
)";

// The synopsis of one command, or of all.
std::string usage(const Command* only = nullptr) {
  std::string text = only ? "usage:\n" : "usage: costroute <command> [flags]\n\ncommands:\n";
  for (const Command& command : kCommands) {
    if (only == nullptr || only == &command) text.append(command.usage.substr(1));  // after the raw string's newline
  }
  text.append(kFooter);
  return text;
}

// 0 when everything written to stdout reached it, else 1 with a message:
// output cut short (a full disk, a closed stdout) is a failure, not a
// success with lines missing. `who`: the command.
int output_written(const char* who) {
  errno = 0;
  if (std::fflush(stdout) == 0 && !std::ferror(stdout)) return 0;
  std::fprintf(stderr, "costroute %s: cannot write standard output%s%s\n", who, errno != 0 ? ": " : "",
               errno != 0 ? std::strerror(errno) : "");
  return 1;
}

// The longest error message printed, in bytes; longer ones end in "...".
constexpr size_t kMaxMessageBytes = 2000;

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 ||
      std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "help") == 0) {
    if (argc < 2) {
      std::fputs(usage().c_str(), stderr);
      return 2;
    }
    std::fputs(usage().c_str(), stdout);
    return output_written(argv[1]);
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::printf("costroute %s\n", COSTROUTE_VERSION_STRING);
    return output_written(argv[1]);
  }
  const std::string_view name = argv[1];
  for (const Command& command : kCommands) {
    if (command.name != name) continue;
    costroute::cli::Args args(argv + 2, argv + argc);
    for (const std::string& arg : args) {
      if (arg == "--help" || arg == "-h") {
        std::fputs(usage(&command).c_str(), stdout);
        return output_written(argv[1]);
      }
    }
    const absl::Status status = command.run(args);
    if (!status.ok()) {
      // One line, whatever the input put into the message (a key with a
      // line break, a NUL, thousands of problems).
      // Well-formed UTF-8 too: a flag's value is echoed as given.
      std::string message(costroute::internal::to_std(status.message()));
      costroute::internal::replace_invalid_utf8(message);
      message = costroute::cli::one_line(message, kMaxMessageBytes);
      std::fprintf(stderr, "costroute %s: %s\n", argv[1], message.c_str());
      return 1;
    }
    return output_written(argv[1]);
  }
  std::string unknown = argv[1];
  costroute::internal::replace_invalid_utf8(unknown);
  unknown = costroute::cli::one_line(unknown, 80);
  std::fprintf(stderr, "costroute: unknown command \"%s\" (costroute --help lists the commands)\n", unknown.c_str());
  return 2;
}
