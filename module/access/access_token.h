// Access tokens (what a viewer presents for manifests and segments) and P2P session
// credentials (what the hints put into a manifest and the P2P endpoints demand).
// nginx-free: the module, the p2p-token tool, the signalling daemon and the client
// library all call these functions, so they agree byte for byte.
//
// Wire form (README.md, "Token format", is the normative description):
//   t1.<key_id>.<payload>.<signature>     access token
//   c1.<key_id>.<payload>.<signature>     session credential
// key_id:    1..32 of [A-Za-z0-9_-]
// payload:   base64url (no padding) of the claim lines, LF-separated "name=value"
// signature: base64url(HMAC-SHA256(secret, "<t1|c1>.<key_id>.<payload>")), 43 characters
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace p2p {

// Upper bound for a whole token or credential: fits in a cookie and a header line.
constexpr size_t kMaxAccessTokenLength = 2048;
constexpr size_t kMinSecretLength = 16;

class keyed_hmac_sha256;

struct hmac_key {
  std::string_view id;
  std::string_view secret;
  // Optional key schedule of `secret` (keyed_hmac.h), for verifiers on a hot path.
  const keyed_hmac_sha256* precomputed = nullptr;
};

// The keys a verifier accepts (several during a rotation); the first one signs.
struct hmac_key_ring {
  const hmac_key* keys = nullptr;
  size_t count = 0;

  const hmac_key* find(std::string_view id) const;
};

struct access_token_claims {
  int64_t expires = 0;     // Unix seconds
  int64_t not_before = 0;  // Unix seconds, 0 = absent
  std::string scope;       // path pattern, see scope_matches()
  std::string client_ip;   // "" or an address or "<address>/<prefix length>"
  std::string session_id;  // "" or 1..64 of [A-Za-z0-9_-]
};

struct session_credential_claims {
  int64_t expires = 0;
  std::string content;     // 1..256 printable ASCII characters (the swarm base id)
  std::string session_id;  // "" or 1..64 of [A-Za-z0-9_-]
};

// Why a token or credential was refused. Names (access_verdict_reason) go into logs.
enum class access_verdict {
  ok,
  malformed,      // wrong shape, bad base64url, bad claims, oversized
  unknown_key,    // key id not in the ring
  bad_signature,  // well-formed, not signed by the key it names
  expired,        // expiry passed beyond the allowed skew
  not_yet_valid,  // not-before still ahead beyond the allowed skew
  wrong_scope,    // path outside the token's scope
  ip_mismatch,    // client address outside the token's binding
};

const char* access_verdict_reason(access_verdict verdict);

bool key_id_valid(std::string_view id);
bool session_id_valid(std::string_view id);
bool scope_valid(std::string_view scope);
bool content_id_valid(std::string_view content);
// An address ("192.0.2.7", "2001:db8::1") or a network ("192.0.2.0/24").
bool ip_binding_valid(std::string_view binding);

// Scope patterns (always start with '/'):
//   "/vod/film/index.m3u8"  exactly that path
//   "/vod/film/*"           a final '*' matches any rest, '/' included (a prefix)
//   "/live/*/index.m3u8"    any other '*' matches within one path segment (no '/')
bool scope_matches(std::string_view scope, std::string_view path);

// `client_ip` is the text form of the peer address; IPv4-mapped IPv6 counts as IPv4.
bool ip_binding_matches(std::string_view binding, std::string_view client_ip);

// Return "" when a claim or the key is invalid (the tool reports that; nothing is signed).
std::string mint_access_token(const hmac_key& key, const access_token_claims& claims);
std::string mint_session_credential(const hmac_key& key, const session_credential_claims& claims);

// Tokens whose signature and claims were already checked against a key ring. A viewer
// sends the same token for every segment, so the HMAC runs once per token and worker,
// not once per request; expiry, scope and IP are still checked on every request.
// Direct-mapped: a slot holds the last token hashed to it, compared in full.
class verified_token_cache {
 public:
  // `ring_id` names the key ring (the nginx module passes its key array).
  const access_token_claims* find(std::string_view token, const void* ring_id) const;
  void insert(std::string_view token, const void* ring_id, const access_token_claims& claims);

 private:
  struct slot {
    std::string token;
    const void* ring_id = nullptr;
    access_token_claims claims;
  };
  static size_t index_of(std::string_view token);
  std::array<slot, 128> slots_;
};

// Checks, in order: shape and size, key id, signature (constant time), claims,
// time window with `skew_seconds` tolerance either side, scope against `path`,
// IP binding against `client_ip`. `out` is filled whenever the signature is good.
// With a `cache`, the first four steps are skipped for a token verified before.
access_verdict verify_access_token(std::string_view token, const hmac_key_ring& keys,
                                   std::string_view path, std::string_view client_ip, int64_t now,
                                   int64_t skew_seconds, access_token_claims* out,
                                   verified_token_cache* cache = nullptr);

access_verdict verify_session_credential(std::string_view credential, const hmac_key_ring& keys,
                                         int64_t now, int64_t skew_seconds,
                                         session_credential_claims* out);

// A credential's claims without checking its signature: for a client, which holds no
// key, to know when to fetch a new one. Never a reason to trust the claims.
bool read_session_credential_claims(std::string_view credential, session_credential_claims* out);

// The claim parsers on their own (decoded payload text), for the fuzz targets.
bool parse_access_token_claims(std::string_view text, access_token_claims* out);
bool parse_session_credential_claims(std::string_view text, session_credential_claims* out);

// The cookie path that covers a scope: everything up to the last '/' before any '*'.
std::string scope_cookie_path(std::string_view scope);

}  // namespace p2p
