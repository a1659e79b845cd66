// The header-only core alone (costroute::core): no compiled costroute.
#include <costroute/model.h>

#include <cstdio>

int main() {
  auto vectorizer = costroute::Vectorizer::create({}, {"capital", "prove"}, {1.0, 1.0});
  auto model = costroute::Model::create(*std::move(vectorizer), {1.0, -1.0}, 0.0);
  std::printf("core: p=%.4f\n", model->p_small_ok("capital of France"));
  return 0;
}
