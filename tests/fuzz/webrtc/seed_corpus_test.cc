// Runs the SDP fuzz target over its seed corpus (and a few mutations of each seed) under
// the normal build, so the round-trip property is checked on every `bazel test`.
#include <dirent.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "third_party/cmocka.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static void runs_seed_corpus(void**) {
  const char* directory = "tests/fuzz/webrtc/sdp_corpus";
  DIR* dir = opendir(directory);
  assert_non_null(dir);
  int seeds = 0;
  while (struct dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream file(std::string(directory) + "/" + entry->d_name, std::ios::binary);
    std::stringstream content;
    content << file.rdbuf();
    std::string seed = content.str();
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(seed.data()), seed.size());
    // Truncations and single-byte changes at every position.
    for (size_t i = 0; i < seed.size(); ++i) {
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(seed.data()), i);
      std::string changed = seed;
      changed[i] = static_cast<char>(changed[i] ^ 0x20);
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(changed.data()), changed.size());
    }
    ++seeds;
  }
  closedir(dir);
  assert_true(seeds >= 2);
}

int main() {
  const struct CMUnitTest tests[] = {cmocka_unit_test(runs_seed_corpus)};
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
