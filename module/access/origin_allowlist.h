// Domain restriction: does the page that embeds the player (its Origin, else its
// Referer) belong to an allowed host? nginx-free, so unit tests cover the parsing.
#pragma once

#include <string_view>

namespace p2p {

// Patterns: "example.com" (that host only), "*.example.com" (any subdomain, not the
// apex), ".example.com" (the apex and any subdomain). Hosts compare case-insensitively;
// ports are ignored.
bool domain_pattern_valid(std::string_view pattern);
bool domain_pattern_matches(std::string_view pattern, std::string_view host);

// The host of an Origin ("https://a.example.com:8443") or Referer
// ("https://a.example.com/page?x") value; "" when the value has no usable host
// (no scheme, "null", userinfo tricks, bad characters).
std::string_view host_of_url(std::string_view url);

}  // namespace p2p
