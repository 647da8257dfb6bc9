#include "module/access/access_token.h"

#include <arpa/inet.h>

#include <cstring>
#include <vector>

#include "common/base64url.h"
#include "common/hmac_sha256.h"
#include "module/access/keyed_hmac.h"

namespace p2p {
namespace {

constexpr std::string_view kTokenVersion = "t1";
constexpr std::string_view kCredentialVersion = "c1";
constexpr size_t kMaxKeyIdLength = 32;
constexpr size_t kMaxSessionIdLength = 64;
constexpr size_t kMaxScopeLength = 1024;
constexpr size_t kMaxContentLength = 256;
constexpr size_t kMaxBindingLength = 64;
constexpr size_t kSignatureLength = 43;  // base64url of 32 bytes, no padding

bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

bool id_valid(std::string_view id, size_t max) {
  if (id.empty() || id.size() > max) return false;
  for (char c : id)
    if (!id_char(c)) return false;
  return true;
}

// Decimal Unix seconds: no sign, no leading zero, at most 12 digits (year ~33658).
bool parse_seconds(std::string_view text, int64_t* out) {
  if (text.empty() || text.size() > 12) return false;
  if (text.size() > 1 && text[0] == '0') return false;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

bool seconds_valid(int64_t v) { return v > 0 && v < 1000000000000LL; }

// One address as 16 bytes; IPv4 (and IPv4-mapped IPv6) as ::ffff:a.b.c.d, so both
// spellings of a viewer's IPv4 address compare equal. `bits` is the usable length.
struct parsed_address {
  uint8_t bytes[16];
  int bits;
};

bool parse_address(std::string_view text, parsed_address* out) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof(buf)) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  in_addr v4;
  if (inet_pton(AF_INET, buf, &v4) == 1) {
    std::memcpy(out->bytes, kMapped, 12);
    std::memcpy(out->bytes + 12, &v4, 4);
    out->bits = 32;
    return true;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, buf, &v6) == 1) {
    std::memcpy(out->bytes, &v6, 16);
    out->bits = std::memcmp(out->bytes, kMapped, 12) == 0 ? 32 : 128;
    return true;
  }
  return false;
}

// Binding "<address>[/<prefix>]" as an address plus the number of leading bits to compare
// (counted within the 16-byte form).
bool parse_binding(std::string_view binding, parsed_address* addr, int* compare_bits) {
  if (binding.size() > kMaxBindingLength) return false;
  size_t slash = binding.find('/');
  if (!parse_address(binding.substr(0, slash), addr)) return false;
  int prefix = addr->bits;
  if (slash != std::string_view::npos) {
    std::string_view digits = binding.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0'))
      return false;
    prefix = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return false;
      prefix = prefix * 10 + (c - '0');
    }
    if (prefix > addr->bits) return false;
  }
  *compare_bits = 128 - addr->bits + prefix;
  return true;
}

bool prefix_bits_equal(const uint8_t* a, const uint8_t* b, int bits) {
  int full = bits / 8;
  if (std::memcmp(a, b, size_t(full)) != 0) return false;
  int rest = bits % 8;
  if (rest == 0) return true;
  uint8_t mask = uint8_t(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

// Glob within one path segment: '*' matches any run of characters. Greedy with one
// backtrack point, so the cost stays O(pattern x text) on hostile input.
bool segment_matches(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == sep) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

bool scope_char_valid(unsigned char c) { return c >= 0x20 && c != 0x7f; }

// Claim lines must appear in the documented order, each at most once; required ones
// must be present; nothing else is allowed, so every claim set has one encoding.
struct claim_slot {
  std::string_view name;
  std::string_view value;
  bool required;
  bool present;
};

bool split_claims(std::string_view text, claim_slot* slots, size_t slot_count) {
  if (text.size() > kMaxAccessTokenLength) return false;
  size_t next = 0;
  for (std::string_view line : split(text, '\n')) {
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return false;
    std::string_view name = line.substr(0, eq);
    while (next < slot_count && slots[next].name != name) {
      if (slots[next].required) return false;
      ++next;
    }
    if (next == slot_count) return false;
    slots[next].value = line.substr(eq + 1);
    slots[next].present = true;
    ++next;
  }
  for (size_t i = 0; i < slot_count; ++i)
    if (slots[i].required && !slots[i].present) return false;
  return true;
}

bool token_claims_valid(const access_token_claims& c) {
  return seconds_valid(c.expires) && (c.not_before == 0 || seconds_valid(c.not_before)) &&
         scope_valid(c.scope) && (c.client_ip.empty() || ip_binding_valid(c.client_ip)) &&
         (c.session_id.empty() || session_id_valid(c.session_id));
}

bool credential_claims_valid(const session_credential_claims& c) {
  return seconds_valid(c.expires) && content_id_valid(c.content) &&
         (c.session_id.empty() || session_id_valid(c.session_id));
}

sha256_digest mac_of(const hmac_key& key, std::string_view message) {
  return key.precomputed ? key.precomputed->compute(message) : hmac_sha256(key.secret, message);
}

std::string sign(std::string_view version, const hmac_key& key, std::string_view claim_text) {
  std::string out(version);
  out += '.';
  out += key.id;
  out += '.';
  out += base64url_encode(claim_text);
  auto mac = mac_of(key, out);
  out += '.';
  out += base64url_encode(mac.data(), mac.size());
  return out;
}

// Shape, key and signature: what tokens and credentials share. On ok, `claim_text`
// holds the decoded payload.
// The parts of "<version>.<key_id>.<payload>.<signature>", payload and signature
// decoded; malformed unless every part has its shape.
struct signed_parts {
  std::string_view key_id;
  std::string_view signed_text;  // everything before the last '.'
  std::string payload;
  std::string signature;
};

bool split_signed(std::string_view version, std::string_view text, signed_parts* out) {
  if (text.size() > kMaxAccessTokenLength) return false;
  size_t first = text.find('.');
  if (first == std::string_view::npos || text.substr(0, first) != version) return false;
  size_t second = text.find('.', first + 1);
  if (second == std::string_view::npos) return false;
  size_t third = text.find('.', second + 1);
  if (third == std::string_view::npos || text.find('.', third + 1) != std::string_view::npos)
    return false;
  std::string_view key_id = text.substr(first + 1, second - first - 1);
  std::string_view payload = text.substr(second + 1, third - second - 1);
  std::string_view signature = text.substr(third + 1);
  if (!key_id_valid(key_id) || payload.empty() || signature.size() != kSignatureLength)
    return false;
  auto decoded_signature = base64url_decode(signature);
  auto decoded_payload = base64url_decode(payload);
  if (!decoded_signature || decoded_signature->size() != 32 || !decoded_payload) return false;
  out->key_id = key_id;
  out->signed_text = text.substr(0, third);
  out->payload = std::move(*decoded_payload);
  out->signature = std::move(*decoded_signature);
  return true;
}

access_verdict check_signed(std::string_view version, std::string_view text,
                            const hmac_key_ring& keys, std::string* claim_text) {
  signed_parts parts;
  if (!split_signed(version, text, &parts)) return access_verdict::malformed;
  const hmac_key* key = keys.find(parts.key_id);
  if (!key) return access_verdict::unknown_key;
  auto mac = mac_of(*key, parts.signed_text);
  if (!constant_time_equal(parts.signature,
                           std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size())))
    return access_verdict::bad_signature;
  *claim_text = std::move(parts.payload);
  return access_verdict::ok;
}

}  // namespace

const hmac_key* hmac_key_ring::find(std::string_view id) const {
  for (size_t i = 0; i < count; ++i)
    if (keys[i].id == id) return &keys[i];
  return nullptr;
}

const char* access_verdict_reason(access_verdict verdict) {
  switch (verdict) {
    case access_verdict::ok:
      return "ok";
    case access_verdict::malformed:
      return "malformed";
    case access_verdict::unknown_key:
      return "unknown key id";
    case access_verdict::bad_signature:
      return "bad signature";
    case access_verdict::expired:
      return "expired";
    case access_verdict::not_yet_valid:
      return "not yet valid";
    case access_verdict::wrong_scope:
      return "wrong scope";
    case access_verdict::ip_mismatch:
      return "ip mismatch";
  }
  return "unknown";
}

bool key_id_valid(std::string_view id) { return id_valid(id, kMaxKeyIdLength); }

bool session_id_valid(std::string_view id) { return id_valid(id, kMaxSessionIdLength); }

bool scope_valid(std::string_view scope) {
  if (scope.empty() || scope.size() > kMaxScopeLength || scope[0] != '/') return false;
  for (unsigned char c : scope)
    if (!scope_char_valid(c)) return false;
  return true;
}

bool content_id_valid(std::string_view content) {
  if (content.empty() || content.size() > kMaxContentLength) return false;
  for (unsigned char c : content)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

bool ip_binding_valid(std::string_view binding) {
  parsed_address addr;
  int bits = 0;
  return parse_binding(binding, &addr, &bits);
}

bool scope_matches(std::string_view scope, std::string_view path) {
  if (scope.empty() || path.empty()) return false;
  bool open_end = scope.back() == '*';
  size_t first_star = scope.find('*');
  if (first_star == std::string_view::npos) return scope == path;
  if (first_star == scope.size() - 1)  // the common "/content/*": a plain prefix
    return path.substr(0, first_star) == scope.substr(0, first_star);
  auto pattern_segments = split(scope, '/');
  auto path_segments = split(path, '/');
  size_t n = pattern_segments.size();
  if (open_end ? path_segments.size() < n : path_segments.size() != n) return false;
  for (size_t i = 0; i < n; ++i)
    if (!segment_matches(pattern_segments[i], path_segments[i])) return false;
  return true;
}

bool ip_binding_matches(std::string_view binding, std::string_view client_ip) {
  parsed_address bound, client;
  int bits = 0;
  if (!parse_binding(binding, &bound, &bits) || !parse_address(client_ip, &client)) return false;
  if (bound.bits != client.bits) return false;  // an IPv4 binding never matches IPv6
  return prefix_bits_equal(bound.bytes, client.bytes, bits);
}

std::string mint_access_token(const hmac_key& key, const access_token_claims& claims) {
  if (!key_id_valid(key.id) || key.secret.size() < kMinSecretLength || !token_claims_valid(claims))
    return "";
  std::string text = "exp=" + std::to_string(claims.expires);
  if (claims.not_before) text += "\nnbf=" + std::to_string(claims.not_before);
  text += "\nscope=" + claims.scope;
  if (!claims.client_ip.empty()) text += "\nip=" + claims.client_ip;
  if (!claims.session_id.empty()) text += "\nsid=" + claims.session_id;
  return sign(kTokenVersion, key, text);
}

std::string mint_session_credential(const hmac_key& key, const session_credential_claims& claims) {
  if (!key_id_valid(key.id) || key.secret.size() < kMinSecretLength ||
      !credential_claims_valid(claims))
    return "";
  std::string text = "exp=" + std::to_string(claims.expires) + "\ncontent=" + claims.content;
  if (!claims.session_id.empty()) text += "\nsid=" + claims.session_id;
  return sign(kCredentialVersion, key, text);
}

bool parse_access_token_claims(std::string_view text, access_token_claims* out) {
  claim_slot slots[] = {{"exp", {}, true, false},
                        {"nbf", {}, false, false},
                        {"scope", {}, true, false},
                        {"ip", {}, false, false},
                        {"sid", {}, false, false}};
  if (!split_claims(text, slots, 5)) return false;
  access_token_claims c;
  if (!parse_seconds(slots[0].value, &c.expires)) return false;
  if (slots[1].present && !parse_seconds(slots[1].value, &c.not_before)) return false;
  if (slots[1].present && c.not_before == 0) return false;
  c.scope = std::string(slots[2].value);
  if (slots[3].present && slots[3].value.empty()) return false;
  c.client_ip = std::string(slots[3].value);
  if (slots[4].present && slots[4].value.empty()) return false;
  c.session_id = std::string(slots[4].value);
  if (!token_claims_valid(c)) return false;
  *out = std::move(c);
  return true;
}

bool parse_session_credential_claims(std::string_view text, session_credential_claims* out) {
  claim_slot slots[] = {
      {"exp", {}, true, false}, {"content", {}, true, false}, {"sid", {}, false, false}};
  if (!split_claims(text, slots, 3)) return false;
  session_credential_claims c;
  if (!parse_seconds(slots[0].value, &c.expires)) return false;
  c.content = std::string(slots[1].value);
  if (slots[2].present && slots[2].value.empty()) return false;
  c.session_id = std::string(slots[2].value);
  if (!credential_claims_valid(c)) return false;
  *out = std::move(c);
  return true;
}

size_t verified_token_cache::index_of(std::string_view token) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : token) h = (h ^ c) * 1099511628211ULL;
  return size_t(h % std::tuple_size<decltype(slots_)>::value);
}

const access_token_claims* verified_token_cache::find(std::string_view token,
                                                      const void* ring_id) const {
  const slot& s = slots_[index_of(token)];
  if (s.ring_id != ring_id || s.token != token) return nullptr;
  return &s.claims;
}

void verified_token_cache::insert(std::string_view token, const void* ring_id,
                                  const access_token_claims& claims) {
  slot& s = slots_[index_of(token)];
  s.token.assign(token.data(), token.size());
  s.ring_id = ring_id;
  s.claims = claims;
}

access_verdict verify_access_token(std::string_view token, const hmac_key_ring& keys,
                                   std::string_view path, std::string_view client_ip, int64_t now,
                                   int64_t skew_seconds, access_token_claims* out,
                                   verified_token_cache* cache) {
  const access_token_claims* cached = cache ? cache->find(token, keys.keys) : nullptr;
  access_token_claims parsed;
  if (cached == nullptr) {
    std::string text;
    access_verdict verdict = check_signed(kTokenVersion, token, keys, &text);
    if (verdict != access_verdict::ok) return verdict;
    if (!parse_access_token_claims(text, &parsed)) return access_verdict::malformed;
    if (cache) cache->insert(token, keys.keys, parsed);
    cached = &parsed;
  }
  const access_token_claims& claims = *cached;
  access_verdict verdict = access_verdict::ok;
  if (claims.expires + skew_seconds < now)
    verdict = access_verdict::expired;
  else if (claims.not_before && claims.not_before - skew_seconds > now)
    verdict = access_verdict::not_yet_valid;
  else if (!scope_matches(claims.scope, path))
    verdict = access_verdict::wrong_scope;
  else if (!claims.client_ip.empty() && !ip_binding_matches(claims.client_ip, client_ip))
    verdict = access_verdict::ip_mismatch;
  if (out) *out = claims;
  return verdict;
}

access_verdict verify_session_credential(std::string_view credential, const hmac_key_ring& keys,
                                         int64_t now, int64_t skew_seconds,
                                         session_credential_claims* out) {
  std::string text;
  access_verdict verdict = check_signed(kCredentialVersion, credential, keys, &text);
  if (verdict != access_verdict::ok) return verdict;
  session_credential_claims claims;
  if (!parse_session_credential_claims(text, &claims)) return access_verdict::malformed;
  if (claims.expires + skew_seconds < now) verdict = access_verdict::expired;
  if (out) *out = std::move(claims);
  return verdict;
}

bool read_session_credential_claims(std::string_view credential, session_credential_claims* out) {
  signed_parts parts;
  return split_signed(kCredentialVersion, credential, &parts) &&
         parse_session_credential_claims(parts.payload, out);
}

std::string scope_cookie_path(std::string_view scope) {
  size_t star = scope.find('*');
  std::string_view fixed = scope.substr(0, star);
  size_t slash = fixed.rfind('/');
  if (slash == std::string_view::npos) return "/";
  return std::string(fixed.substr(0, slash + 1));
}

}  // namespace p2p
