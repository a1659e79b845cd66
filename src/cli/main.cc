// The `costroute` command. docs/cli.md and shared/DESIGN.md ("Command line")
// describe every subcommand; their flags and output fields are a contract.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string_view>

#include "cli/commands.h"
#include "costroute/version.h"

namespace {

constexpr const char* kUsage = R"(usage: costroute <command> [flags]

commands:
  train     --data TRAIN.jsonl[,MORE.jsonl] --out MODEL.json [--max-features 5000]
            [--analyzer word|char|char_wb] [--ngram 1,2] [--C 1.0]
            [--label label_small_ok]
            [--weight-field FIELD] [--class-weight balanced]
            [--min-df N|F] [--max-df N|F] [--sublinear-tf] [--binary]
            [--max-iter 2000] [--tol 1e-9]
  route     --config CONFIG.json [--data REQUESTS.jsonl] [--model MODEL.json]
            [--format jsonl|table] [--explain]
  score     --model MODEL.json --data IN.jsonl
  eval      --model MODEL.json | --cv K [training flags] --data TEST.jsonl
            [--max-quality-drop 0.03] [--json] [--plot FILE.svg]
  eval      --config CONFIG.json [--model MODEL.json] --data DATA.jsonl
            [--costs NAME=COST,...] [--json]
  calibrate --data DATA.jsonl [--model MODEL.json | --cv 5 [training flags]]
            [--max-quality-drop D | --strong-share S | --max-cost C]
            [--config IN.json --out OUT.json] [--bootstrap 1000] [--json]
  bench     --model MODEL.json | --config CONFIG.json --data IN.jsonl
            [--min-seconds 2] [--threads N]
  tokenize  --data IN.jsonl [--no-lowercase]
  signals   --data IN.jsonl

JSONL input: one JSON object per line with a "query" string; "-" reads
standard input. Run `costroute <command> --help` for details.
)";

struct Command {
  std::string_view name;
  absl::Status (*run)(const costroute::cli::Args&);
};

constexpr Command kCommands[] = {
    {"train", costroute::cli::train_command},
    {"score", costroute::cli::score_command},
    {"bench", costroute::cli::bench_command},
    {"tokenize", costroute::cli::tokenize_command},
    {"signals", costroute::cli::signals_command},
    {"route", costroute::cli::route_command},
    {"eval", costroute::cli::eval_command},
    {"calibrate", costroute::cli::calibrate_command},
};

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 ||
      std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "help") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::printf("costroute %s\n", COSTROUTE_VERSION_STRING);
    return 0;
  }
  const std::string_view name = argv[1];
  for (const Command& command : kCommands) {
    if (command.name != name) continue;
    costroute::cli::Args args(argv + 2, argv + argc);
    for (const std::string& arg : args) {
      if (arg == "--help" || arg == "-h") {
        std::fputs(kUsage, stdout);
        return 0;
      }
    }
    const absl::Status status = command.run(args);
    std::cout.flush();
    if (status.ok()) return 0;
    std::fprintf(stderr, "costroute %s: %s\n", argv[1],
                 std::string(status.message()).c_str());
    return 1;
  }
  std::fprintf(stderr, "costroute: unknown command \"%s\"\n\n%s", argv[1], kUsage);
  return 2;
}
