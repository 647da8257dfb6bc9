#include "module/access/origin_allowlist.h"

namespace p2p {
namespace {

constexpr size_t kMaxHostLength = 253;

char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

bool host_valid(std::string_view host) {
  if (host.empty() || host.size() > kMaxHostLength) return false;
  if (host.front() == '.' || host.back() == '.') return false;
  if (host.find("..") != std::string_view::npos) return false;
  for (char c : host)
    if (!host_char(c)) return false;
  return true;
}

bool ends_with_label(std::string_view host, std::string_view suffix) {
  // "a.example.com" ends with the labels "example.com"; "badexample.com" does not.
  if (host.size() <= suffix.size()) return false;
  return host[host.size() - suffix.size() - 1] == '.' &&
         equal_ignoring_case(host.substr(host.size() - suffix.size()), suffix);
}

}  // namespace

bool domain_pattern_valid(std::string_view pattern) {
  if (pattern.size() > 2 && pattern.substr(0, 2) == "*.") return host_valid(pattern.substr(2));
  if (pattern.size() > 1 && pattern[0] == '.') return host_valid(pattern.substr(1));
  return host_valid(pattern);
}

bool domain_pattern_matches(std::string_view pattern, std::string_view host) {
  if (!host_valid(host)) return false;
  if (pattern.size() > 2 && pattern.substr(0, 2) == "*.")
    return ends_with_label(host, pattern.substr(2));
  if (pattern.size() > 1 && pattern[0] == '.')
    return equal_ignoring_case(host, pattern.substr(1)) || ends_with_label(host, pattern.substr(1));
  return equal_ignoring_case(host, pattern);
}

std::string_view host_of_url(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return {};
  for (size_t i = 0; i < scheme_end; ++i) {
    char c = lower(url[i]);
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
      return {};
  }
  std::string_view rest = url.substr(scheme_end + 3);
  size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  // "https://allowed.com@evil.com/" names evil.com; refuse userinfo outright.
  if (authority.find('@') != std::string_view::npos) return {};
  if (!authority.empty() && authority[0] == '[') return {};  // IPv6 literal: never allowlisted
  size_t colon = authority.find(':');
  std::string_view host = authority.substr(0, colon);
  if (colon != std::string_view::npos) {
    std::string_view port = authority.substr(colon + 1);
    if (port.size() > 5) return {};
    for (char c : port)
      if (c < '0' || c > '9') return {};
  }
  if (!host_valid(host)) return {};
  return host;
}

}  // namespace p2p
