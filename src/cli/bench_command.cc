// costroute bench: scoring (--model) or routing (--config) speed on the
// user's own queries, in process.
//
// p50_ns / p99_ns time one query at a time (each call between two clock
// reads, so they include one clock read, reported as timer_overhead_ns);
// batch_qps runs the whole set back to back on one thread; threads_qps on
// --threads threads at once (default: one per core). With --config,
// scored_share is the share of the queries whose route() ran the
// classifier (a rule decided the others first).
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <thread>

#include "cli/commands.h"
#include "cli/flags.h"
#include "costroute/internal/status_macros.h"
#include "io/json_writer.h"

namespace costroute::cli {
namespace {

using Clock = std::chrono::steady_clock;

double elapsed_ns(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::nano>(b - a).count();
}

double percentile(std::vector<double>& sorted, double q) {
  const size_t index = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

}  // namespace

absl::Status bench_command(const Args& args) {
  COSTROUTE_ASSIGN_OR_RETURN(
      Flags flags, Flags::parse(args, {"model", "config", "data", "min-seconds", "threads"}, {}));
  COSTROUTE_ASSIGN_OR_RETURN(std::string data_path, flags.required("data"));
  COSTROUTE_ASSIGN_OR_RETURN(double min_seconds, flags.number("min-seconds", 2.0));
  if (!(min_seconds > 0.0 && min_seconds <= 3600.0)) {
    return absl::InvalidArgumentError("--min-seconds: expected a number of seconds in (0, 3600]");
  }
  COSTROUTE_ASSIGN_OR_RETURN(
      int64_t threads,
      flags.integer("threads", std::max(1u, std::thread::hardware_concurrency()), 1, 256));
  if (!flags.has("model") && !flags.has("config")) {
    return absl::InvalidArgumentError("missing --model (to time scoring) or --config (to time routing)");
  }
  std::shared_ptr<const Model> model;
  if (auto path = flags.get("model")) {
    COSTROUTE_ASSIGN_OR_RETURN(Model m, load_model(*path));
    model = std::make_shared<const Model>(std::move(m));
  }
  std::shared_ptr<const Router> router;
  if (auto path = flags.get("config")) {
    COSTROUTE_ASSIGN_OR_RETURN(router, load_router(*path, model));
  }
  COSTROUTE_ASSIGN_OR_RETURN(JsonlReader in, JsonlReader::open(data_path));
  std::vector<std::string> queries;
  while (true) {
    COSTROUTE_ASSIGN_OR_RETURN(bool more, in.next());
    if (!more) break;
    COSTROUTE_ASSIGN_OR_RETURN(std::string_view query, in.string_field("query"));
    queries.emplace_back(query);
  }
  if (queries.empty()) return absl::InvalidArgumentError(data_path + ": no records");

  // What is timed: routing with the config, else scoring with the model.
  struct Worker {
    std::shared_ptr<const Router> router;
    std::shared_ptr<const Model> model;
    RouteScratch scratch;
    double run(const std::string& q) {
      if (router) return static_cast<double>(router->route(q, {}, scratch).tier);
      return model->p_small_ok(q, scratch.text);
    }
  };
  Worker worker{router, model, {}};
  double sink = 0.0;  // keeps the results alive
  // One untimed pass, to grow the scratch. Routing scores only the requests
  // a policy asks the classifier about: the share of those, counted here,
  // is part of what the timings mean.
  size_t scored = 0;
  for (const std::string& q : queries) {
    if (router) {
      const Decision d = router->route(q, {}, worker.scratch);
      sink += static_cast<double>(d.tier);
      scored += !std::isnan(d.p_small_ok);
    } else {
      sink += worker.run(q);
    }
  }

  if (router) warn_if_model_unused("bench", model != nullptr, queries.size(), scored > 0);

  // Latency, one query at a time, for half of --min-seconds (or until
  // kMaxSamples latencies, 32 MB, are held).
  constexpr size_t kMaxSamples = 4'000'000;
  const double half_ns = min_seconds * 0.5e9;
  std::vector<double> samples;
  samples.reserve(std::min(kMaxSamples, queries.size() * 64));
  const Clock::time_point latency_start = Clock::now();
  do {
    for (const std::string& q : queries) {
      const Clock::time_point t0 = Clock::now();
      sink += worker.run(q);
      const Clock::time_point t1 = Clock::now();
      samples.push_back(elapsed_ns(t0, t1));
    }
  } while (elapsed_ns(latency_start, Clock::now()) < half_ns && samples.size() + queries.size() <= kMaxSamples);
  double mean = 0.0;
  for (double s : samples) mean += s;
  mean /= static_cast<double>(samples.size());
  std::sort(samples.begin(), samples.end());

  // The cost of one clock read, included in every sample above.
  std::vector<double> overhead(1000);
  for (double& o : overhead) {
    const Clock::time_point t0 = Clock::now();
    const Clock::time_point t1 = Clock::now();
    o = elapsed_ns(t0, t1);
  }
  std::sort(overhead.begin(), overhead.end());

  // Throughput on one thread, whole passes back to back.
  size_t batch_done = 0;
  const Clock::time_point batch_start = Clock::now();
  double batch_ns = 0.0;
  do {
    for (const std::string& q : queries) sink += worker.run(q);
    batch_done += queries.size();
    batch_ns = elapsed_ns(batch_start, Clock::now());
  } while (batch_ns < half_ns);

  std::vector<size_t> lengths;
  for (const std::string& q : queries) lengths.push_back(q.size());
  std::nth_element(lengths.begin(), lengths.begin() + lengths.size() / 2, lengths.end());
  const size_t median_bytes = lengths[lengths.size() / 2];

  // Throughput on `threads` threads at once, each with its own scratch, for
  // a quarter of --min-seconds. Each thread reads the clock after a chunk
  // of about 64 kB of queries (at least one, at most 256), so that long
  // queries do not overrun the time and short ones are not slowed by it.
  const size_t chunk = std::clamp<size_t>(65536 / (median_bytes + 1), 1, 256);
  std::atomic<size_t> done{0};
  std::vector<std::thread> pool;
  std::atomic<double> thread_sink{0.0};
  const Clock::time_point threads_start = Clock::now();
  for (int64_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      Worker mine{router, model, {}};
      size_t count = 0;
      double local = 0.0;
      const Clock::time_point begin = Clock::now();
      size_t i = static_cast<size_t>(t) * 7919 % queries.size();
      do {
        for (size_t k = 0; k < chunk; ++k, ++count) {
          local += mine.run(queries[i]);
          if (++i == queries.size()) i = 0;
        }
      } while (elapsed_ns(begin, Clock::now()) < half_ns * 0.5);
      done += count;
      thread_sink.store(thread_sink.load() + local);
    });
  }
  for (std::thread& t : pool) t.join();
  const double threads_ns = elapsed_ns(threads_start, Clock::now());

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);

  internal::JsonWriter w;
  w.begin_object()
      .key("timed").value(router ? "route" : "score")
      .key("n_queries").value(queries.size())
      .key("median_query_bytes").value(median_bytes);
  if (model || (router && router->model())) {
    w.key("features").value((model ? model.get() : router->model())->vectorizer().num_features());
  }
  w.key("p50_ns").value(percentile(samples, 0.50))
      .key("p99_ns").value(percentile(samples, 0.99))
      .key("mean_ns").value(mean)
      .key("latency_samples").value(samples.size())
      .key("timer_overhead_ns").value(percentile(overhead, 0.5))
      .key("batch_qps").value(static_cast<double>(batch_done) / (batch_ns * 1e-9))
      .key("threads").value(static_cast<int64_t>(threads))
      .key("threads_qps").value(static_cast<double>(done.load()) / (threads_ns * 1e-9));
  if (router) {
    w.key("scored_share").value(static_cast<double>(scored) / static_cast<double>(queries.size()));
  }
  if (model) w.key("model_bytes").value(model->memory_bytes());
  w.key("peak_rss_bytes").value(static_cast<int64_t>(usage.ru_maxrss) * 1024)
      .key("checksum").value(sink + thread_sink.load())
      .end_object();
  std::printf("%s\n", w.str().c_str());
  return absl::OkStatus();
}

}  // namespace costroute::cli
