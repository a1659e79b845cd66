// Any bytes are a query: scoring must return a probability and never crash.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "costroute/model.h"

namespace {

const costroute::Model& model() {
  static const costroute::Model m = [] {
    auto v = costroute::Vectorizer::create({}, {"ab", "ab cd", "\u00e9t\u00e9", "\u03c3\u03b1\u03c2", "cd"},
                                           {1.0, 2.0, 3.0, 1.5, 1.25});
    auto model = costroute::Model::create(*std::move(v), {1.0, -2.0, 0.5, 0.25, -1.0}, 0.1);
    return *std::move(model);
  }();
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view query(reinterpret_cast<const char*>(data), size);
  const double p = model().p_small_ok(query);
  if (!(p >= 0.0 && p <= 1.0)) std::abort();
  costroute::TokenBuffer tokens;
  costroute::tokenize(query, true, tokens);
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].size() < 2) std::abort();
  }
  return 0;
}
