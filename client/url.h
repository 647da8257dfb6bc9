// URL resolution (RFC 3986 section 5.2) for manifest references and hint endpoints.
#pragma once

#include <string>

namespace p2p {

// Resolves `reference` against the absolute URL `base`. A reference that is already
// absolute (has a scheme) is returned with dot segments removed.
std::string url_resolve(const std::string& base, const std::string& reference);

// Percent-decodes once (%XX, either hex case); a malformed escape is kept literally.
std::string percent_decode(const std::string& value);

struct url_parts {
  std::string scheme;     // "http"
  std::string authority;  // "host:port"
  std::string host;
  int port = 0;       // 0 when not given
  std::string path;   // "/a/b" (never empty for http URLs)
  std::string query;  // without '?', empty when none
  bool has_query = false;
};

// Splits an absolute URL; false when it has no scheme or authority.
bool url_split(const std::string& url, url_parts* out);

}  // namespace p2p
