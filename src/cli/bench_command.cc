// costroute bench: scoring speed on the user's own queries, in process.
//
// p50_ns / p99_ns time one query at a time (each call between two clock
// reads, so they include one clock read, reported as timer_overhead_ns);
// batch_qps scores the whole set back to back on one thread.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

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
  COSTROUTE_ASSIGN_OR_RETURN(Flags flags,
                             Flags::parse(args, {"model", "data", "min-seconds"}, {}));
  COSTROUTE_ASSIGN_OR_RETURN(std::string model_path, flags.required("model"));
  COSTROUTE_ASSIGN_OR_RETURN(std::string data_path, flags.required("data"));
  COSTROUTE_ASSIGN_OR_RETURN(double min_seconds, flags.number("min-seconds", 2.0));
  if (min_seconds <= 0.0) return absl::InvalidArgumentError("--min-seconds: expected > 0");
  COSTROUTE_ASSIGN_OR_RETURN(Model model, load_model(model_path));
  COSTROUTE_ASSIGN_OR_RETURN(JsonlReader in, JsonlReader::open(data_path));
  std::vector<std::string> queries;
  while (true) {
    COSTROUTE_ASSIGN_OR_RETURN(bool more, in.next());
    if (!more) break;
    COSTROUTE_ASSIGN_OR_RETURN(std::string_view query, in.string_field("query"));
    queries.emplace_back(query);
  }
  if (queries.empty()) return absl::InvalidArgumentError(data_path + ": no records");

  TextScratch scratch;
  double sink = 0.0;  // keeps the scores alive
  for (const std::string& q : queries) sink += model.p_small_ok(q, scratch);

  // Latency, one query at a time.
  const double half_ns = min_seconds * 0.5e9;
  std::vector<double> samples;
  samples.reserve(std::min<size_t>(4'000'000, queries.size() * 64));
  const Clock::time_point latency_start = Clock::now();
  do {
    for (const std::string& q : queries) {
      const Clock::time_point t0 = Clock::now();
      sink += model.p_small_ok(q, scratch);
      const Clock::time_point t1 = Clock::now();
      samples.push_back(elapsed_ns(t0, t1));
    }
  } while (elapsed_ns(latency_start, Clock::now()) < half_ns &&
           samples.size() + queries.size() <= samples.capacity());
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

  // Throughput, whole passes back to back.
  size_t scored = 0;
  const Clock::time_point batch_start = Clock::now();
  double batch_ns = 0.0;
  do {
    for (const std::string& q : queries) sink += model.p_small_ok(q, scratch);
    scored += queries.size();
    batch_ns = elapsed_ns(batch_start, Clock::now());
  } while (batch_ns < half_ns);

  std::vector<size_t> lengths;
  for (const std::string& q : queries) lengths.push_back(q.size());
  std::nth_element(lengths.begin(), lengths.begin() + lengths.size() / 2, lengths.end());
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);

  internal::JsonWriter w;
  w.begin_object()
      .key("n_queries").value(queries.size())
      .key("median_query_bytes").value(lengths[lengths.size() / 2])
      .key("features").value(model.vectorizer().num_features())
      .key("p50_ns").value(percentile(samples, 0.50))
      .key("p99_ns").value(percentile(samples, 0.99))
      .key("mean_ns").value(mean)
      .key("latency_samples").value(samples.size())
      .key("timer_overhead_ns").value(percentile(overhead, 0.5))
      .key("batch_qps").value(static_cast<double>(scored) / (batch_ns * 1e-9))
      .key("model_bytes").value(model.memory_bytes())
      .key("peak_rss_bytes").value(static_cast<int64_t>(usage.ru_maxrss) * 1024)
      .key("checksum").value(sink)
      .end_object();
  std::printf("%s\n", w.str().c_str());
  return absl::OkStatus();
}

}  // namespace costroute::cli
