#include "tracker/tracker_api.h"

#include <openssl/rand.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "common/base64url.h"
#include "tracker/peers_request_parser.h"
#include "tracker/ticket.h"
#include "tracker/ticket_signer.h"

namespace p2p {
namespace {

// Expired peers dropped on every registry call, so a zone nobody fills up still
// sheds silent peers without a timer; bounded so one request stays cheap.
constexpr size_t kExpirePerRequest = 8;

// Longest `peers[]` entry with its comma: 143 bytes with a 64-character id.
constexpr size_t kPeerEntryMax = kRegistryPeerIdMax + 96;

bool read_network(json_t* root, bool* present, network_type* out, api_error* error) {
  json_t* v = json_object_get(root, "network");
  *present = v != nullptr;
  if (!v) return true;
  if (!json_is_string(v) ||
      !network_type_parse(std::string_view(json_string_value(v), json_string_length(v)), out)) {
    *error = bad_request("network: must be \"wifi\", \"cellular\", \"ethernet\" or \"unknown\"");
    return false;
  }
  return true;
}

bool read_ticket(json_t* root, std::string* out, api_error* error) {
  // Longer than any ticket the tracker signs; ticket_verify refuses the rest.
  return read_string(root, "ticket", true, 512, out, error);
}

std::string new_peer_id() {
  uint8_t bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return "";
  return base64url_encode(bytes, sizeof bytes);
}

}  // namespace

struct tracker_workspace::state {
  explicit state(size_t max_snapshot_members) : snapshots(max_snapshot_members) {}
  swarm_snapshots snapshots;
  std::string secret;
  std::unique_ptr<ticket_signer> signer;
  std::vector<ranked_summary> winners;
  ranking_scratch ranking;
};

tracker_workspace::tracker_workspace(size_t max_snapshot_members)
    : state_(std::make_unique<state>(max_snapshot_members)) {}
tracker_workspace::~tracker_workspace() = default;
const swarm_snapshots& tracker_workspace::snapshots() const { return state_->snapshots; }

namespace {

using workspace_state = tracker_workspace::state;

// The signer for the settings' secret: building one costs two digest set-ups, using
// it two short digests.
const ticket_signer& signer_for(const tracker_settings& settings, workspace_state& ws) {
  if (!ws.signer || ws.secret != settings.secret) {
    ws.signer = std::make_unique<ticket_signer>(settings.secret);
    ws.secret = settings.secret;
  }
  return *ws.signer;
}

bool verify(const tracker_settings& settings, workspace_state& ws, const std::string& ticket,
            int64_t now, ticket_claims* claims, api_error* error) {
  switch (signer_for(settings, ws).verify(ticket, now, settings.ticket_skew, claims)) {
    case ticket_status::ok:
      return true;
    case ticket_status::expired:
      *error = {401, "ticket_expired", "ticket expired; call init again"};
      return false;
    case ticket_status::malformed:
      *error = {401, "bad_ticket", "ticket malformed"};
      return false;
    case ticket_status::bad_signature:
      *error = {401, "bad_ticket", "ticket not signed by this tracker"};
      return false;
  }
  *error = {401, "bad_ticket", "ticket refused"};
  return false;
}

peer_announcement announcement_from(const requester_facts& facts) {
  peer_announcement a;
  a.address = facts.address;
  a.asn = facts.asn;
  a.country[0] = facts.country[0];
  a.country[1] = facts.country[1];
  return a;
}

// Unchecked copy into a buffer the caller sized for the longest entry.
char* put(char* at, std::string_view text) {
  std::memcpy(at, text.data(), text.size());
  return at + text.size();
}

void append_integer(std::string* body, int64_t value) {
  char digits[24];
  char* end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  body->append(digits, static_cast<size_t>(end - digits));
}

api_response full_response(int64_t retry_after) {
  return error_response({503, "full", "tracker is full of live peers; retry later"}, retry_after);
}

api_response invalid_for_registry() {
  return error_response(bad_request("peer or swarm id too long for this tracker"));
}

void append_ticket(std::string* body, const std::string& ticket, int64_t expiry) {
  *body += "\"ticket\":\"";
  *body += ticket;  // only [A-Za-z0-9_.-]
  *body += "\",\"ticket_expires\":";
  *body += std::to_string(expiry);
}

api_response handle_init(std::string_view body, const requester_facts& facts,
                         swarm_registry& registry, block_lock& lock,
                         const tracker_settings& settings, int64_t now, workspace_state& ws) {
  init_request req;
  api_error error;
  if (!parse_init_request(body, settings.caps, &req, &error)) return error_response(error);
  std::string peer_id = new_peer_id();
  if (peer_id.empty()) return full_response(1);  // no randomness: a transient condition

  peer_announcement a = announcement_from(facts);
  a.peer_id = peer_id;
  a.swarm_id = req.swarm;
  a.network = req.network;
  a.upload_kbps = req.upload_kbps;
  a.customer_hash = customer_hash(req.customer);
  int64_t retry_after = 0;
  registry_status status;
  {
    block_lock_scope held(lock);
    registry.expire(now, kExpirePerRequest);
    status = registry.announce(a, now, &retry_after);
  }
  if (status == registry_status::full) return full_response(retry_after);
  if (status == registry_status::invalid) return invalid_for_registry();

  int64_t expiry = now + settings.ticket_lifetime;
  std::string ticket = signer_for(settings, ws).sign({peer_id, req.swarm, expiry});
  int protocol = req.protocol < kTrackerProtocolVersion ? static_cast<int>(req.protocol)
                                                        : kTrackerProtocolVersion;
  api_response r;
  r.body = "{\"peer_id\":\"" + peer_id + "\",\"protocol\":" + std::to_string(protocol) + ",";
  append_ticket(&r.body, ticket, expiry);
  r.body += ",\"announce_interval\":" + std::to_string(settings.announce_interval) +
            ",\"peer_ttl\":" + std::to_string(registry.limits().peer_ttl) + "}";
  return r;
}

api_response handle_peers(std::string_view body, const requester_facts& facts,
                          swarm_registry& registry, block_lock& lock,
                          const tracker_settings& settings, int64_t now, workspace_state& ws) {
  peers_request req;
  api_error error;
  if (!parse_peers_request_fast(body, settings.caps, &req)) {
    req = peers_request{};
    if (!parse_peers_request(body, settings.caps, &req, &error)) return error_response(error);
  }
  ticket_claims claims;
  if (!verify(settings, ws, req.ticket, now, &claims, &error)) return error_response(error);
  if (!req.peer_id.empty() && req.peer_id != claims.peer_id)
    return error_response({403, "peer_mismatch", "peer_id differs from the ticket's peer"});
  if (!req.swarm.empty() && req.swarm != claims.swarm_id)
    return error_response({403, "swarm_mismatch", "swarm differs from the ticket's swarm"});

  uint32_t numwant = req.has_numwant ? req.numwant : settings.default_numwant;
  if (numwant > settings.max_numwant) numwant = settings.max_numwant;

  // Under the lock: expiry, the announce and the swarm's members (the workspace's copy
  // when it still holds, else a walk that refreshes it). Ranking and formatting read
  // only the workspace's copy, after the lock is released.
  int64_t retry_after = 0;
  registry_status status;
  announce_refs at;
  const swarm_copy* swarm = nullptr;
  {
    block_lock_scope held(lock);
    registry.expire(now, kExpirePerRequest);
    peer_announcement a = announcement_from(facts);
    a.peer_id = claims.peer_id;
    a.swarm_id = claims.swarm_id;
    a.network = req.network;
    a.keep_network = !req.has_network;
    a.upload_kbps = req.upload_kbps;
    a.keep_upload = !req.has_upload;
    a.customer_hash = req.customer.empty() ? 0 : customer_hash(req.customer);
    a.keep_customer = true;
    status = registry.announce(a, now, &retry_after, &at);
    if (status != registry_status::full && status != registry_status::invalid)
      swarm = &ws.snapshots.members(registry, at, now);
  }
  if (status == registry_status::full) return full_response(retry_after);
  if (status == registry_status::invalid) return invalid_for_registry();

  peer_summary self;
  self.address = facts.address;
  self.asn = facts.asn;
  self.country[0] = facts.country[0];
  self.country[1] = facts.country[1];
  static const exclusion_rules kNoRules;
  auto rules = settings.exclusions.find(at.customer_hash);
  // Seeded per requester and announce period: stable between retries, different
  // across requesters so equally good peers share the load.
  uint64_t seed = customer_hash(claims.peer_id) ^
                  static_cast<uint64_t>(
                      now / (settings.announce_interval > 0 ? settings.announce_interval : 1));
  std::vector<ranked_summary>& winners = ws.winners;
  rank_summaries(self, swarm->members.data(), swarm->members.size(), at.peer,
                 rules == settings.exclusions.end() ? kNoRules : rules->second, numwant, seed,
                 &ws.ranking, &winners);

  // One reservation for the whole answer; each peer is formatted on the stack and
  // appended once.
  api_response r;
  r.body.reserve(64 + claims.swarm_id.size() + winners.size() * kPeerEntryMax + 200);
  r.body += "{\"swarm\":\"";
  r.body += claims.swarm_id;
  r.body += "\",\"interval\":";
  append_integer(&r.body, settings.announce_interval);
  r.body += ",\"peers\":[";
  for (size_t i = 0; i < winners.size(); ++i) {
    const peer_summary& p = *winners[i].peer;
    const std::string_view id =
        swarm->id(static_cast<size_t>(winners[i].peer - swarm->members.data()));
    char entry[kPeerEntryMax];
    char* at = entry;
    if (i) *at++ = ',';
    at = put(at, "{\"peer_id\":\"");
    at = put(at, id);
    at = put(at, "\",\"network\":\"");
    at = put(at, network_type_name(p.network));
    at = put(at, "\",\"upload_kbps\":");
    at = std::to_chars(at, entry + sizeof entry, p.upload_kbps).ptr;
    at = put(at, ",\"match\":\"");
    at = put(at, match_tier_name(winners[i].tier));
    at = put(at, "\"}");
    r.body.append(entry, static_cast<size_t>(at - entry));
  }
  r.body += ']';
  if (claims.expiry - now < settings.ticket_lifetime / 2) {
    int64_t expiry = now + settings.ticket_lifetime;
    std::string ticket = signer_for(settings, ws).sign({claims.peer_id, claims.swarm_id, expiry});
    r.body += ',';
    append_ticket(&r.body, ticket, expiry);
  }
  r.body += '}';
  return r;
}

api_response handle_track(std::string_view body, const requester_facts& facts,
                          swarm_registry& registry, block_lock& lock,
                          const tracker_settings& settings, int64_t now, workspace_state& ws) {
  track_request req;
  api_error error;
  if (!parse_track_request(body, settings.caps, &req, &error)) return error_response(error);
  ticket_claims claims;
  if (!verify(settings, ws, req.ticket, now, &claims, &error)) return error_response(error);
  if (!req.peer_id.empty() && req.peer_id != claims.peer_id)
    return error_response({403, "peer_mismatch", "peer_id differs from the ticket's peer"});

  int64_t retry_after = 0;
  registry_status status;
  {
    block_lock_scope held(lock);
    registry.expire(now, kExpirePerRequest);
    peer_announcement a = announcement_from(facts);
    a.peer_id = claims.peer_id;
    a.swarm_id = req.swarm;
    a.keep_network = a.keep_upload = a.keep_customer = true;  // a new record gets defaults
    status = registry.announce(a, now, &retry_after);
  }
  if (status == registry_status::full) return full_response(retry_after);
  if (status == registry_status::invalid) return invalid_for_registry();

  int64_t expiry = now + settings.ticket_lifetime;
  std::string ticket = signer_for(settings, ws).sign({claims.peer_id, req.swarm, expiry});
  api_response r;
  r.body = "{\"peer_id\":\"" + claims.peer_id + "\",\"swarm\":\"" + req.swarm + "\",";
  append_ticket(&r.body, ticket, expiry);
  r.body += ",\"interval\":" + std::to_string(settings.announce_interval) + "}";
  return r;
}

}  // namespace

uint64_t customer_hash(std::string_view customer) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : customer) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

bool parse_init_request(std::string_view body, const json_caps& caps, init_request* out,
                        api_error* error) {
  json_ptr root = parse_request_object(body, caps, error);
  if (!root) return false;
  bool present;
  int64_t v = 0;
  if (!read_id(root.get(), "swarm", true, &out->swarm, error)) return false;
  if (!read_id(root.get(), "customer", true, &out->customer, error)) return false;
  if (!read_uint(root.get(), "protocol", 1000, &present, &v, error)) return false;
  if (present) {
    if (v < 1) {
      *error = bad_request("protocol: must be an integer 1..1000");
      return false;
    }
    out->protocol = v;
  }
  if (!read_network(root.get(), &present, &out->network, error)) return false;
  if (!read_uint(root.get(), "upload_kbps", kMaxUploadKbps, &present, &v, error)) return false;
  if (present) out->upload_kbps = static_cast<uint32_t>(v);
  return true;
}

bool parse_peers_request(std::string_view body, const json_caps& caps, peers_request* out,
                         api_error* error) {
  json_ptr root = parse_request_object(body, caps, error);
  if (!root) return false;
  int64_t v = 0;
  if (!read_ticket(root.get(), &out->ticket, error)) return false;
  if (!read_id(root.get(), "peer_id", false, &out->peer_id, error)) return false;
  if (!read_id(root.get(), "swarm", false, &out->swarm, error)) return false;
  if (!read_id(root.get(), "customer", false, &out->customer, error)) return false;
  if (!read_uint(root.get(), "numwant", kMaxNumwant, &out->has_numwant, &v, error)) return false;
  if (out->has_numwant) out->numwant = static_cast<uint32_t>(v);
  if (!read_network(root.get(), &out->has_network, &out->network, error)) return false;
  if (!read_uint(root.get(), "upload_kbps", kMaxUploadKbps, &out->has_upload, &v, error))
    return false;
  if (out->has_upload) out->upload_kbps = static_cast<uint32_t>(v);
  return true;
}

bool parse_track_request(std::string_view body, const json_caps& caps, track_request* out,
                         api_error* error) {
  json_ptr root = parse_request_object(body, caps, error);
  if (!root) return false;
  if (!read_ticket(root.get(), &out->ticket, error)) return false;
  if (!read_id(root.get(), "swarm", true, &out->swarm, error)) return false;
  if (!read_id(root.get(), "peer_id", false, &out->peer_id, error)) return false;
  return true;
}

api_response tracker_handle(std::string_view action, std::string_view body,
                            const requester_facts& facts, swarm_registry& registry,
                            block_lock& lock, const tracker_settings& settings, int64_t now,
                            tracker_workspace* workspace) {
  static thread_local tracker_workspace per_thread(0);
  workspace_state& ws = (workspace ? *workspace : per_thread).internal();
  if (action == "init") return handle_init(body, facts, registry, lock, settings, now, ws);
  if (action == "peers") return handle_peers(body, facts, registry, lock, settings, now, ws);
  if (action == "track") return handle_track(body, facts, registry, lock, settings, now, ws);
  return error_response({404, "unknown_action", "action must be init, peers or track"});
}

api_response tracker_stats(const swarm_registry& registry, block_lock& lock, size_t zone_bytes) {
  registry_counters c;
  double block_per_peer;
  {
    block_lock_scope held(lock);
    c = registry.counters();
    block_per_peer = registry.bytes_per_peer();
  }
  char per_peer[64];
  std::snprintf(per_peer, sizeof per_peer, "%.1f,\"block_bytes_per_peer\":%.1f",
                c.peer_capacity ? static_cast<double>(zone_bytes) / c.peer_capacity : 0.0,
                block_per_peer);
  api_response r;
  r.body =
      "{\"peers\":" + std::to_string(c.peer_count) +
      ",\"swarms\":" + std::to_string(c.swarm_count) +
      ",\"peer_capacity\":" + std::to_string(c.peer_capacity) +
      ",\"swarm_capacity\":" + std::to_string(c.swarm_capacity) +
      ",\"expired\":" + std::to_string(c.expired) + ",\"evicted\":" + std::to_string(c.evicted) +
      ",\"refused\":" + std::to_string(c.refused) +
      ",\"zone_bytes\":" + std::to_string(zone_bytes) + ",\"bytes_per_peer\":" + per_peer + "}";
  return r;
}

}  // namespace p2p
