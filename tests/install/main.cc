// Loads a model through the installed package and scores a query.
#include <costroute/costroute.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer MODEL.json\n");
    return 2;
  }
  absl::StatusOr<costroute::Model> model = costroute::load_model(argv[1]);
  if (!model.ok()) {
    std::fprintf(stderr, "consumer: %s\n", std::string(model.status().message()).c_str());
    return 1;
  }
  const double p = model->p_small_ok("What is the capital of France?");
  std::printf("consumer: costroute %s, p_small_ok=%.4f\n", COSTROUTE_VERSION_STRING, p);
  return p >= 0.0 && p <= 1.0 ? 0 : 1;
}
