// Google Benchmark: tokenizing, vectorizing and scoring real queries with the
// default model (and with a second head), and training on the parity corpus. bench/README.md records
// the results; run with --benchmark_min_time=2 on a quiet machine.
//
// Queries: every prompt of shared/data/routing (real traffic) and the
// generated parity held-out set, read once at start-up.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "costroute/costroute.h"

namespace {

std::string shared_dir() {
  const char* dir = std::getenv("COSTROUTE_SHARED_DIR");
  return dir ? dir : COSTROUTE_SHARED_DIR;
}

std::vector<std::string> read_queries(const std::vector<std::string>& files,
                                      std::vector<int>* labels = nullptr) {
  std::vector<std::string> queries;
  for (const std::string& file : files) {
    auto in = costroute::JsonlReader::open(shared_dir() + "/" + file);
    if (!in.ok()) {
      std::fprintf(stderr, "score_bench: %s\n", std::string(in.status().message()).c_str());
      std::exit(1);
    }
    while (*in->next()) {
      queries.emplace_back(*in->string_field("query"));
      if (labels) {
        const bool small = in->has_field("label_small_ok");
        labels->push_back(*in->label_field(small ? "label_small_ok" : "label"));
      }
    }
  }
  return queries;
}

const std::vector<std::string>& real_queries() {
  static const auto q = read_queries(
      {"data/routing/routellm_mmlu.jsonl", "data/routing/routellm_gsm8k.jsonl",
       "data/routing/routellm_mt_bench.jsonl", "data/routing/arena_bench_v1.jsonl"});
  return q;
}

const std::vector<std::string>& generated_queries() {
  static const auto q = read_queries({"parity/heldout_5k.jsonl"});
  return q;
}

const costroute::Model& default_model() {
  static const costroute::Model m = [] {
    auto model = costroute::load_model(COSTROUTE_SOURCE_DIR "/models/default.model.json");
    if (!model.ok()) {
      std::fprintf(stderr, "score_bench: %s\n", std::string(model.status().message()).c_str());
      std::exit(1);
    }
    return *std::move(model);
  }();
  return m;
}

void report(benchmark::State& state, const std::vector<std::string>& queries) {
  state.SetItemsProcessed(state.iterations());
  size_t bytes = 0;
  for (const auto& q : queries) bytes += q.size();
  state.counters["mean_query_bytes"] = static_cast<double>(bytes) / queries.size();
}

// One query per iteration, cycling through the set.
template <typename Work>
void each_query(benchmark::State& state, const std::vector<std::string>& queries, Work work) {
  size_t i = 0;
  for (auto _ : state) {
    work(queries[i]);
    if (++i == queries.size()) i = 0;
  }
  report(state, queries);
}

void BM_Tokenize(benchmark::State& state, const std::vector<std::string>& (*set)()) {
  costroute::TokenBuffer tokens;
  each_query(state, set(), [&](const std::string& q) {
    costroute::tokenize(q, true, tokens);
    benchmark::DoNotOptimize(tokens.size());
  });
}

void BM_Transform(benchmark::State& state, const std::vector<std::string>& (*set)()) {
  costroute::TextScratch scratch;
  const auto& vectorizer = default_model().vectorizer();
  each_query(state, set(), [&](const std::string& q) {
    benchmark::DoNotOptimize(vectorizer.transform(q, scratch).size());
  });
}

void BM_Score(benchmark::State& state, const std::vector<std::string>& (*set)()) {
  costroute::TextScratch scratch;
  const auto& model = default_model();
  each_query(state, set(), [&](const std::string& q) {
    benchmark::DoNotOptimize(model.p_small_ok(q, scratch));
  });
}

// The default model with a second head (TrainTarget::kLabelAndWin): two
// dot products over the one TF-IDF row. The head's weights here are the
// first head's negated; the time does not depend on their values.
void BM_ScoreWinHead(benchmark::State& state, const std::vector<std::string>& (*set)()) {
  static const costroute::Model model = [] {
    const costroute::Model& base = default_model();
    std::vector<double> win(base.coef());
    for (double& w : win) w = -w;
    auto m = costroute::Model::create(base.vectorizer(), base.coef(), base.intercept(), base.provenance(), {},
                                      costroute::WinHead{.weight = 0.5, .coef = std::move(win), .intercept = -1.0});
    if (!m.ok()) {
      std::fprintf(stderr, "score_bench: %s\n", std::string(m.status().message()).c_str());
      std::exit(1);
    }
    return *std::move(m);
  }();
  costroute::TextScratch scratch;
  each_query(state, set(), [&](const std::string& q) {
    benchmark::DoNotOptimize(model.p_small_ok(q, scratch));
  });
}

BENCHMARK_CAPTURE(BM_Tokenize, real, real_queries);
BENCHMARK_CAPTURE(BM_Tokenize, generated, generated_queries);
BENCHMARK_CAPTURE(BM_Transform, real, real_queries);
BENCHMARK_CAPTURE(BM_Score, real, real_queries);
BENCHMARK_CAPTURE(BM_Score, generated, generated_queries);
BENCHMARK_CAPTURE(BM_ScoreWinHead, real, real_queries);

void BM_TrainParity10k(benchmark::State& state) {
  costroute::TrainingSet data;
  data.queries = read_queries({"parity/train_10k.jsonl"}, &data.labels);
  for (auto _ : state) {
    auto result = costroute::train(data);
    benchmark::DoNotOptimize(result.ok());
  }
  state.SetItemsProcessed(state.iterations() * data.queries.size());
}
BENCHMARK(BM_TrainParity10k)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
