// libFuzzer target for the hints filter's segment path resolution: whatever a
// manifest names, the result is empty or a clean absolute path inside the root.
// Input: manifest path, a NUL byte, item URI.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "module/hasher/segment_path.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nul = in.find('\0');
  std::string_view manifest = nul == std::string_view::npos ? "/live/index.m3u8" : in.substr(0, nul);
  std::string_view uri = nul == std::string_view::npos ? in : in.substr(nul + 1);
  std::string out = p2p::resolve_segment_path(manifest, uri);
  if (out.empty()) return 0;
  if (out[0] != '/' || out.back() == '/' || out.find('\0') != std::string::npos ||
      out.find("//") != std::string::npos || out.find("/./") != std::string::npos ||
      out.find("/../") != std::string::npos ||
      (out.size() >= 3 && out.compare(out.size() - 3, 3, "/..") == 0) ||
      (out.size() >= 2 && out.compare(out.size() - 2, 2, "/.") == 0))
    abort();
  return 0;
}
