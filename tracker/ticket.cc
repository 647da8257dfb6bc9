#include "tracker/ticket.h"

#include "common/base64url.h"
#include "common/hmac_sha256.h"

namespace p2p {
namespace {

constexpr size_t kMaxIdLength = 64;
constexpr size_t kMaxTicketLength = 256;
constexpr std::string_view kVersion = "v1";

bool parse_expiry(std::string_view text, int64_t* out) {
  if (text.empty() || text.size() > 12) return false;  // up to year ~33658
  if (text.size() > 1 && text[0] == '0') return false;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

std::string signed_part(const ticket_claims& c) {
  std::string s(kVersion);
  s += '.';
  s += c.peer_id;
  s += '.';
  s += c.swarm_id;
  s += '.';
  s += std::to_string(c.expiry);
  return s;
}

}  // namespace

const char* ticket_status_name(ticket_status status) {
  switch (status) {
    case ticket_status::ok:
      return "ok";
    case ticket_status::malformed:
      return "malformed";
    case ticket_status::bad_signature:
      return "bad signature";
    case ticket_status::expired:
      return "expired";
  }
  return "unknown";
}

bool ticket_id_valid(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string ticket_sign(std::string_view secret, const ticket_claims& claims) {
  if (!ticket_id_valid(claims.peer_id) || !ticket_id_valid(claims.swarm_id) || claims.expiry < 0)
    return "";
  std::string body = signed_part(claims);
  auto mac = hmac_sha256(secret, body);
  return body + "." + base64url_encode(mac.data(), mac.size());
}

ticket_status ticket_verify(std::string_view secret, std::string_view ticket, int64_t now,
                            int64_t skew_seconds, ticket_claims* out) {
  if (ticket.size() > kMaxTicketLength) return ticket_status::malformed;
  std::string_view fields[5];
  size_t n = 0;
  size_t start = 0;
  for (size_t i = 0; i <= ticket.size(); ++i) {
    if (i == ticket.size() || ticket[i] == '.') {
      if (n == 5) return ticket_status::malformed;
      fields[n++] = ticket.substr(start, i - start);
      start = i + 1;
    }
  }
  if (n != 5 || fields[0] != kVersion) return ticket_status::malformed;
  ticket_claims claims;
  claims.peer_id = std::string(fields[1]);
  claims.swarm_id = std::string(fields[2]);
  if (!ticket_id_valid(claims.peer_id) || !ticket_id_valid(claims.swarm_id) ||
      !parse_expiry(fields[3], &claims.expiry))
    return ticket_status::malformed;
  auto sig = base64url_decode(fields[4]);
  if (!sig || sig->size() != 32) return ticket_status::malformed;
  auto mac = hmac_sha256(secret, signed_part(claims));
  if (!constant_time_equal(*sig,
                           std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size())))
    return ticket_status::bad_signature;
  if (claims.expiry + skew_seconds < now) return ticket_status::expired;
  if (out) *out = std::move(claims);
  return ticket_status::ok;
}

}  // namespace p2p
