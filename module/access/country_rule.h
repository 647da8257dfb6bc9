// Geo restriction: an allow or deny list of ISO 3166-1 alpha-2 codes applied to the
// value of any nginx variable (geoip2, geo, map). nginx-free.
#pragma once

#include <cstddef>
#include <string_view>

namespace p2p {

enum class country_list_kind { allow, deny };

// Exactly two ASCII letters.
bool country_code_valid(std::string_view code);

// `codes` holds `count` valid codes (any case). A value that is not a valid code
// (empty, "-", "--", "??", a name) is unknown and gets `allow_unknown`.
bool country_allowed(country_list_kind kind, const std::string_view* codes, size_t count,
                     std::string_view value, bool allow_unknown);

}  // namespace p2p
