// The one rule both the hints filter (module/hints) and the client library use for
// EXT-X-DEFINE variable names (RFC 8216bis 4.4.2.3): a "{$...}" whose inside is not a
// valid name is literal text, not a reference. Shared so the two sides substitute the
// same bytes (tests/fuzz/hints_contract_fuzz.cc checks it end to end).
#pragma once

#include <string_view>

namespace p2p {

inline bool hls_variable_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace p2p
