// Any bytes as a model file: an error or a model, never a crash.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "costroute/io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  auto model = costroute::parse_model(json, "fuzz");
  if (model.ok()) {
    const double p = model->p_small_ok("what is the capital of France");
    if (!(p >= 0.0 && p <= 1.0)) std::abort();
    auto again = costroute::parse_model(costroute::model_to_json(*model), "again");
    if (!again.ok()) std::abort();
  } else if (model.status().message().empty()) {
    std::abort();
  }
  return 0;
}
