// Runs the fuzz targets' invariants under Bazel over the seed corpus and a bounded set
// of deterministic mutations of it (truncations, byte flips, duplications).
#include "module/hints/manifest_invariants.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "third_party/cmocka.hpp"

namespace {

std::string read_seed(const std::string& name) {
  std::ifstream file("module/hints/testdata/" + name, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  if (content.str().empty()) fail_msg("missing seed %s", name.c_str());
  return content.str();
}

std::vector<std::string> mutations(const std::string& seed) {
  std::vector<std::string> out = {seed};
  uint32_t state = 12345;
  auto next = [&state] {
    state = state * 1103515245u + 12345u;
    return state >> 8;
  };
  for (size_t cut = 0; cut < seed.size(); cut += 7) out.push_back(seed.substr(0, cut));
  static const char kBytes[] = {'\0', '\n', '\r', '<', '>', '"', '\'', '/',
                                '$',  '&',  '#',  ':', '-', '9', 'x'};
  for (int i = 0; i < 400; ++i) {
    std::string copy = seed;
    for (int k = 0; k < 3; ++k) {
      copy[next() % copy.size()] = kBytes[next() % sizeof(kBytes)];
    }
    out.push_back(copy);
    std::string dup = seed;
    size_t from = next() % seed.size();
    size_t len = next() % 64;
    dup.insert(next() % seed.size(), seed.substr(from, len));
    out.push_back(dup);
  }
  return out;
}

void check_all(const std::vector<std::string>& seeds, std::string (*check)(std::string_view)) {
  for (const std::string& name : seeds) {
    for (const std::string& input : mutations(read_seed(name))) {
      std::string problem = check(input);
      if (!problem.empty()) fail_msg("%s: %s", name.c_str(), problem.c_str());
    }
  }
}

void hls_invariants_hold(void**) {
  check_all({"ll_hls.m3u8", "master.m3u8", "byterange_crlf.m3u8"}, p2p::check_hls_invariants);
}

void dash_invariants_hold(void**) {
  check_all({"segment_list.mpd", "template_number.mpd", "timeline_namespaced.mpd", "dynamic.mpd"},
            p2p::check_dash_invariants);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(hls_invariants_hold),
      cmocka_unit_test(dash_invariants_hold),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
