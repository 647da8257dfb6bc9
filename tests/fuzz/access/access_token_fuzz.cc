// libFuzzer target: hostile bytes through every parser of the access core (token and
// credential verification, the claim parsers, scope, IP, Origin/Referer and country
// matching). Aborts when a property of module/access/README.md breaks:
//  - a claim text that parses re-mints to exactly the same payload (one encoding);
//  - a token verified with the cache, or with precomputed keys, gets the same verdict;
//  - nothing a hostile token does verifies as ok.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/base64url.h"
#include "module/access/access_token.h"
#include "module/access/country_rule.h"
#include "module/access/keyed_hmac.h"
#include "module/access/origin_allowlist.h"

namespace {

const p2p::hmac_key kKeys[] = {{"k2024", "correct horse battery staple 2024"},
                               {"k2025", "tr0ub4dor&3-rotated-key-2025"}};
const p2p::hmac_key_ring kRing{kKeys, 2};

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "access property broken: %s\n", what);
  std::abort();
}

std::string payload_of(const std::string& token) {
  size_t a = token.find('.'), b = token.find('.', a + 1), c = token.find('.', b + 1);
  auto decoded = p2p::base64url_decode(std::string_view(token).substr(b + 1, c - b - 1));
  return decoded ? *decoded : std::string();
}

void claims_round_trip(std::string_view text) {
  p2p::access_token_claims claims;
  if (p2p::parse_access_token_claims(text, &claims)) {
    std::string token = p2p::mint_access_token(kKeys[0], claims);
    if (token.empty()) broken("parsed claims do not mint");
    if (payload_of(token) != text) broken("token claims have a second encoding");
    p2p::access_token_claims again;
    auto verdict = p2p::verify_access_token(token, kRing, claims.scope, "127.0.0.1", claims.expires,
                                            0, &again);
    if (verdict == p2p::access_verdict::malformed || verdict == p2p::access_verdict::bad_signature)
      broken("a minted token does not verify");
  }
  p2p::session_credential_claims credential;
  if (p2p::parse_session_credential_claims(text, &credential)) {
    std::string minted = p2p::mint_session_credential(kKeys[1], credential);
    if (minted.empty()) broken("parsed credential claims do not mint");
    if (payload_of(minted) != text) broken("credential claims have a second encoding");
    if (p2p::verify_session_credential(minted, kRing, credential.expires, 0, nullptr) !=
        p2p::access_verdict::ok)
      broken("a minted credential does not verify");
  }
}

void verify_hostile(std::string_view token, std::string_view path, std::string_view ip) {
  static p2p::verified_token_cache cache;
  auto plain = p2p::verify_access_token(token, kRing, path, ip, 1800000000, 30, nullptr);
  auto cached = p2p::verify_access_token(token, kRing, path, ip, 1800000000, 30, nullptr, &cache);
  auto again = p2p::verify_access_token(token, kRing, path, ip, 1800000000, 30, nullptr, &cache);
  if (plain != cached || plain != again) broken("the cache changed a verdict");
  static const p2p::keyed_hmac_sha256 schedule0(kKeys[0].secret), schedule1(kKeys[1].secret);
  static const p2p::hmac_key fast_keys[] = {{kKeys[0].id, kKeys[0].secret, &schedule0},
                                            {kKeys[1].id, kKeys[1].secret, &schedule1}};
  if (p2p::verify_access_token(token, {fast_keys, 2}, path, ip, 1800000000, 30, nullptr) != plain)
    broken("the precomputed key schedule changed a verdict");
  // Only the keys can sign: fuzzed bytes that verify must be a real signature, which
  // the fuzzer cannot produce except by copying a seed (those carry k2024/k2025 MACs).
  p2p::session_credential_claims verified;
  const bool good = p2p::verify_session_credential(token, kRing, 1800000000, 30, &verified) ==
                    p2p::access_verdict::ok;
  // What a client reads without the key (to schedule renewal) is what the key verifies.
  p2p::session_credential_claims read;
  const bool readable = p2p::read_session_credential_claims(token, &read);
  if (good && (!readable || read.expires != verified.expires || read.content != verified.content))
    broken("a verified credential reads differently without the key");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  // Inputs split into up to three fields at NUL bytes: subject, path/host/value, address.
  std::string_view fields[3];
  size_t n = 0, start = 0;
  for (size_t i = 0; i <= input.size() && n < 3; ++i) {
    if (i == input.size() || input[i] == '\0') {
      fields[n++] = input.substr(start, i - start);
      start = i + 1;
    }
  }
  switch (data[0] % 6) {
    case 0:
      verify_hostile(fields[0], fields[1], fields[2]);
      break;
    case 1:
      claims_round_trip(fields[0]);
      break;
    case 2:
      (void)p2p::scope_matches(fields[0], fields[1]);
      (void)p2p::scope_cookie_path(fields[0]);
      break;
    case 3:
      (void)p2p::ip_binding_matches(fields[0], fields[1]);
      break;
    case 4: {
      std::string_view host = p2p::host_of_url(fields[0]);
      if (p2p::domain_pattern_valid(fields[1])) (void)p2p::domain_pattern_matches(fields[1], host);
      break;
    }
    case 5: {
      const std::string_view codes[] = {"DE", "fr"};
      (void)p2p::country_allowed(p2p::country_list_kind::allow, codes, 2, fields[0], false);
      break;
    }
  }
  return 0;
}
