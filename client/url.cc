#include "client/url.h"

#include <cctype>
#include <vector>

#include "common/hex.h"

namespace p2p {

namespace {

struct reference_parts {
  std::string scheme, authority, path, query, fragment;
  bool has_scheme = false, has_authority = false, has_query = false, has_fragment = false;
};

reference_parts parse_reference(const std::string& s) {
  reference_parts r;
  size_t pos = 0;
  size_t colon = s.find(':');
  size_t first_delim = s.find_first_of("/?#");
  if (colon != std::string::npos && colon > 0 &&
      (first_delim == std::string::npos || colon < first_delim) &&
      std::isalpha(static_cast<unsigned char>(s[0]))) {
    bool valid = true;
    for (size_t i = 0; i < colon; ++i) {
      char c = s[i];
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
        valid = false;
      }
    }
    if (valid) {
      r.has_scheme = true;
      r.scheme = s.substr(0, colon);
      pos = colon + 1;
    }
  }
  if (s.compare(pos, 2, "//") == 0) {
    r.has_authority = true;
    size_t end = s.find_first_of("/?#", pos + 2);
    if (end == std::string::npos) end = s.size();
    r.authority = s.substr(pos + 2, end - pos - 2);
    pos = end;
  }
  size_t end = s.find_first_of("?#", pos);
  if (end == std::string::npos) end = s.size();
  r.path = s.substr(pos, end - pos);
  pos = end;
  if (pos < s.size() && s[pos] == '?') {
    r.has_query = true;
    end = s.find('#', pos);
    if (end == std::string::npos) end = s.size();
    r.query = s.substr(pos + 1, end - pos - 1);
    pos = end;
  }
  if (pos < s.size() && s[pos] == '#') {
    r.has_fragment = true;
    r.fragment = s.substr(pos + 1);
  }
  return r;
}

std::string remove_dot_segments(const std::string& path) {
  std::vector<std::string> out;
  bool absolute = !path.empty() && path[0] == '/';
  size_t i = absolute ? 1 : 0;
  bool trailing_slash = false;
  while (i <= path.size()) {
    size_t end = path.find('/', i);
    if (end == std::string::npos) end = path.size();
    std::string segment = path.substr(i, end - i);
    bool last = end == path.size();
    if (segment == ".") {
      trailing_slash = last;
    } else if (segment == "..") {
      if (!out.empty()) out.pop_back();
      trailing_slash = last;
    } else {
      out.push_back(segment);
      trailing_slash = false;
    }
    i = end + 1;
  }
  std::string result = absolute ? "/" : "";
  for (size_t k = 0; k < out.size(); ++k) {
    if (k) result += '/';
    result += out[k];
  }
  if (trailing_slash && (result.empty() || result.back() != '/')) result += '/';
  return result;
}

std::string merge(const reference_parts& base, const std::string& path) {
  if (base.has_authority && base.path.empty()) return "/" + path;
  size_t slash = base.path.rfind('/');
  if (slash == std::string::npos) return path;
  return base.path.substr(0, slash + 1) + path;
}

std::string compose(const reference_parts& r) {
  std::string out;
  if (r.has_scheme) out += r.scheme + ":";
  if (r.has_authority) out += "//" + r.authority;
  out += r.path;
  if (r.has_query) out += "?" + r.query;
  if (r.has_fragment) out += "#" + r.fragment;
  return out;
}

}  // namespace

std::string url_resolve(const std::string& base_url, const std::string& reference) {
  reference_parts base = parse_reference(base_url);
  reference_parts ref = parse_reference(reference);
  reference_parts t;
  if (ref.has_scheme) {
    t = ref;
    t.path = remove_dot_segments(ref.path);
  } else {
    t.has_scheme = base.has_scheme;
    t.scheme = base.scheme;
    if (ref.has_authority) {
      t.has_authority = true;
      t.authority = ref.authority;
      t.path = remove_dot_segments(ref.path);
      t.has_query = ref.has_query;
      t.query = ref.query;
    } else {
      t.has_authority = base.has_authority;
      t.authority = base.authority;
      if (ref.path.empty()) {
        t.path = base.path;
        t.has_query = ref.has_query ? true : base.has_query;
        t.query = ref.has_query ? ref.query : base.query;
      } else {
        t.path = ref.path[0] == '/' ? remove_dot_segments(ref.path)
                                    : remove_dot_segments(merge(base, ref.path));
        t.has_query = ref.has_query;
        t.query = ref.query;
      }
    }
  }
  t.has_fragment = ref.has_fragment;
  t.fragment = ref.fragment;
  return compose(t);
}

std::string percent_decode(const std::string& value) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '%' && i + 2 < value.size() && hex_digit_value(value[i + 1]) >= 0 &&
        hex_digit_value(value[i + 2]) >= 0) {
      out.push_back(
          static_cast<char>(hex_digit_value(value[i + 1]) * 16 + hex_digit_value(value[i + 2])));
      i += 2;
    } else {
      out.push_back(value[i]);
    }
  }
  return out;
}

bool url_split(const std::string& url, url_parts* out) {
  reference_parts r = parse_reference(url);
  if (!r.has_scheme || !r.has_authority || r.authority.empty()) return false;
  *out = url_parts();
  out->scheme = r.scheme;
  for (auto& c : out->scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  out->authority = r.authority;
  std::string hostport = r.authority;
  size_t at = hostport.rfind('@');
  if (at != std::string::npos) hostport = hostport.substr(at + 1);
  size_t colon = hostport.rfind(':');
  size_t bracket = hostport.rfind(']');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    std::string port = hostport.substr(colon + 1);
    hostport = hostport.substr(0, colon);
    int value = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || value > 65535) return false;
      value = value * 10 + (c - '0');
    }
    if (value > 65535) return false;
    out->port = value;
  }
  out->host = hostport;
  out->path = r.path.empty() ? "/" : r.path;
  out->has_query = r.has_query;
  out->query = r.query;
  return true;
}

}  // namespace p2p
