// Any bytes as a JSONL file: records or one located error, never a crash.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "costroute/io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  char path[] = "/tmp/costroute_fuzz_jsonl_XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return 0;
  if (write(fd, data, size) != static_cast<ssize_t>(size)) std::abort();
  close(fd);
  auto in = costroute::JsonlReader::open(path);
  if (!in.ok()) std::abort();
  while (true) {
    auto more = in->next();
    if (!more.ok()) {
      if (more.status().message().find(path) != 0) std::abort();
      break;
    }
    if (!*more) break;
    (void)in->string_field("query");
    (void)in->json_field("id");
    (void)in->label_field("label");
    (void)in->category_field("meta.subset");
    (void)in->number_map_field("quality");
  }
  std::remove(path);
  return 0;
}
