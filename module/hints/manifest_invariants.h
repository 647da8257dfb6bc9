// Properties the hint format promises for any input, checked by the fuzz targets
// (tests/fuzz/hints_*_fuzz.cc) and by a seed-corpus unit test under Bazel.
#pragma once

#include <string>
#include <string_view>

namespace p2p {

// Both return "" when every property holds, else what broke.
std::string check_hls_invariants(std::string_view input);
std::string check_dash_invariants(std::string_view input);

}  // namespace p2p
