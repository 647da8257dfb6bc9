// libFuzzer target: any bytes as a DASH MPD through the manifest rewriter (XML
// tokenizer, MPD model, segment expansion); aborts when a property of
// module/hints/README.md breaks.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "module/hints/manifest_invariants.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string problem =
      p2p::check_dash_invariants(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!problem.empty()) {
    std::fprintf(stderr, "dash invariant broken: %s\n", problem.c_str());
    std::abort();
  }
  return 0;
}
