#include "module/hasher/segment_path.h"

#include <vector>

#include "common/hex.h"

namespace p2p {

std::string resolve_segment_path(std::string_view manifest_path, std::string_view item_uri) {
  std::string_view ref = item_uri.substr(0, item_uri.find_first_of("?#"));
  if (ref.empty() || ref.find('\0') != std::string_view::npos ||
      manifest_path.find('\0') != std::string_view::npos)
    return "";
  size_t colon = ref.find(':');
  size_t slash = ref.find('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon < slash))
    return "";                              // a scheme: another origin, or data:, or worse
  if (ref.substr(0, 2) == "//") return "";  // network-path reference: another host
  std::string joined;
  if (ref[0] == '/') {
    joined = std::string(ref);
  } else {
    size_t last = manifest_path.rfind('/');
    joined = last == std::string_view::npos ? std::string("/")
                                            : std::string(manifest_path.substr(0, last + 1));
    if (joined.empty() || joined[0] != '/') joined.insert(joined.begin(), '/');
    joined += ref;
  }
  // Decode before removing dot segments, so "%2e%2e" cannot slip past the check.
  std::string decoded;
  decoded.reserve(joined.size());
  for (size_t i = 0; i < joined.size(); ++i) {
    if (joined[i] != '%') {
      decoded += joined[i];
      continue;
    }
    if (i + 2 >= joined.size()) return "";
    int hi = hex_digit_value(joined[i + 1]);
    int lo = hex_digit_value(joined[i + 2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return "";
    decoded += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  std::vector<std::string_view> parts;
  std::string_view rest(decoded);
  while (!rest.empty()) {
    size_t end = rest.find('/');
    std::string_view seg = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (seg == "..") {
      if (parts.empty()) return "";
      parts.pop_back();
    } else if (!seg.empty() && seg != ".") {
      parts.push_back(seg);
    }
  }
  if (parts.empty()) return "";
  std::string out;
  for (std::string_view p : parts) {
    out += '/';
    out += p;
  }
  return out;
}

}  // namespace p2p
