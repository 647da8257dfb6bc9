// Tickets: what the tracker's `init` hands a peer and what the signalling daemon
// checks before relaying for it. Both sides hold the same secret and share no state.
//
// Wire form (all ASCII, safe in URLs, headers and JSON):
//   v1.<peer_id>.<swarm_id>.<expiry>.<signature>
// peer_id, swarm_id: 1..64 characters of [A-Za-z0-9_-]
// expiry:            Unix seconds, decimal, no sign or leading zero
// signature:         base64url(HMAC-SHA256(secret, "v1.<peer_id>.<swarm_id>.<expiry>"))
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace p2p {

struct ticket_claims {
  std::string peer_id;
  std::string swarm_id;
  int64_t expiry = 0;
};

enum class ticket_status {
  ok,
  malformed,      // not five fields, bad characters, bad number, oversized
  bad_signature,  // well-formed but not signed with this secret
  expired,        // signature good, expiry passed (beyond the allowed skew)
};

const char* ticket_status_name(ticket_status status);

// A string is a valid peer or swarm id: 1..64 of [A-Za-z0-9_-].
bool ticket_id_valid(std::string_view id);

// Returns "" when peer_id or swarm_id is not a valid id.
std::string ticket_sign(std::string_view secret, const ticket_claims& claims);

// Checks form, then signature (constant time), then expiry with `skew_seconds`
// of tolerance. `out` is filled only on ok.
ticket_status ticket_verify(std::string_view secret, std::string_view ticket, int64_t now,
                            int64_t skew_seconds, ticket_claims* out);

}  // namespace p2p
