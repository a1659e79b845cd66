// Embedding costroute in a service: build a router from a config, route
// from several threads, and swap in a new config while they run.
//
//   embed_in_service models/default.config.json
//
// A real service would call its model provider where this prints; the host
// makes the calls, costroute only decides.
#include <costroute/costroute.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: embed_in_service CONFIG.json\n");
    return 2;
  }
  // 1. Build a router once at start-up. Errors name the file and field.
  absl::StatusOr<std::shared_ptr<const costroute::Router>> router = costroute::load_router(argv[1]);
  if (!router.ok()) {
    std::fprintf(stderr, "%s\n", std::string(router.status().message()).c_str());
    return 1;
  }
  // 2. Publish it through a handle so that it can be replaced while serving.
  costroute::RouterHandle handle(*std::move(router));

  const std::vector<std::string> queries = {
      "What is the capital of Peru?",
      "Write a Go function that retries an HTTP request with exponential backoff",
      "Why did the 2008 financial crisis spread to Europe? Analyze and compare the causes.",
      "Translate 'see you tomorrow' into Italian",
  };

  // 3. Serving threads: one Reader each; routing takes no lock.
  std::atomic<bool> stop{false};
  std::atomic<long> routed{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 2; ++t) {
    workers.emplace_back([&, t] {
      costroute::RouterHandle::Reader reader(handle);
      for (size_t i = static_cast<size_t>(t); !stop.load(std::memory_order_relaxed); ++i) {
        const std::string& query = queries[i % queries.size()];
        const costroute::Context context{.user_id = "user-7", .user_tier = "free"};
        const costroute::Decision d = reader.route(query, context);
        // backend.complete(d.model->name, query) would go here, falling back
        // to d.fallbacks() on a timeout or rate limit.
        if (i < 4) {
          std::printf("thread %d: %-28s <- %.50s (%.*s)\n", t, d.model->name.c_str(), query.c_str(),
                      static_cast<int>(d.reason.view().size()), d.reason.view().data());
        }
        routed.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }

  // 4. A control thread swaps in a new config (here: the same file, reloaded)
  //    without stopping the workers; they pick it up on their next request.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  absl::StatusOr<std::shared_ptr<const costroute::Router>> next = costroute::load_router(argv[1]);
  if (!next.ok()) {
    std::fprintf(stderr, "reload failed, keeping the old config: %s\n",
                 std::string(next.status().message()).c_str());
  } else {
    handle.swap(*std::move(next));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop = true;
  for (std::thread& w : workers) w.join();
  std::printf("routed %ld requests on 2 threads; config version %llu\n", routed.load(),
              static_cast<unsigned long long>(handle.version()));
  return routed.load() > 0 && handle.version() == 1 ? 0 : 1;
}
