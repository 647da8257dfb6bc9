// The tracker's JSON endpoints `init`, `peers` and `track` (contract in README.md):
// parsing and validation, the registry operation under the caller's lock, ranking
// and the response body. nginx-free: the glue hands in the body, the requester's
// address/ASN/country and a lock over the shared registry block, and sends back
// status, body and Retry-After.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tracker/block_lock.h"
#include "tracker/json_limits.h"
#include "tracker/json_request.h"
#include "tracker/peer_ranking.h"
#include "tracker/swarm_registry.h"
#include "tracker/swarm_snapshots.h"

namespace p2p {

constexpr int kTrackerProtocolVersion = 1;
constexpr uint32_t kMaxNumwant = 200;
constexpr uint32_t kMaxUploadKbps = 10000000;

// Stable 64-bit hash of a customer id (FNV-1a), the key of per-customer rules.
uint64_t customer_hash(std::string_view customer);

struct tracker_settings {
  std::string secret;  // HMAC key for tickets, shared with signalling
  int64_t ticket_lifetime = 3600;
  int64_t ticket_skew = 30;
  int64_t announce_interval = 30;
  uint32_t default_numwant = 20;
  uint32_t max_numwant = 50;
  json_caps caps;
  std::unordered_map<uint64_t, exclusion_rules> exclusions;  // by customer_hash()
};

// What nginx knows about the requester; never taken from the body.
struct requester_facts {
  peer_address address;
  uint32_t asn = 0;
  char country[2] = {0, 0};
};

struct init_request {
  std::string swarm;
  std::string customer;
  int64_t protocol = kTrackerProtocolVersion;
  network_type network = network_type::unknown;
  uint32_t upload_kbps = 0;
};

struct peers_request {
  std::string ticket;
  std::string peer_id;   // empty: not given
  std::string swarm;     // empty: not given
  std::string customer;  // empty: not given
  uint32_t numwant = 0;
  bool has_numwant = false;
  bool has_network = false;
  network_type network = network_type::unknown;
  bool has_upload = false;
  uint32_t upload_kbps = 0;
};

struct track_request {
  std::string ticket;
  std::string swarm;
  std::string peer_id;  // empty: not given
};

// Parsers: shape and value checks only (no ticket verification). Return false and
// fill `*error` on refusal.
bool parse_init_request(std::string_view body, const json_caps& caps, init_request* out,
                        api_error* error);
bool parse_peers_request(std::string_view body, const json_caps& caps, peers_request* out,
                         api_error* error);
bool parse_track_request(std::string_view body, const json_caps& caps, track_request* out,
                         api_error* error);

// What one process (or thread) keeps between tracker calls: its copies of unchanged
// swarms (swarm_snapshots.h), the ticket signer for the secret, and scratch buffers.
// One per registry block and thread; nginx keeps one per worker and zone.
class tracker_workspace {
 public:
  // `max_snapshot_members` bounds the swarm copies (summaries held in all).
  explicit tracker_workspace(size_t max_snapshot_members = size_t{1} << 20);
  ~tracker_workspace();
  tracker_workspace(const tracker_workspace&) = delete;
  tracker_workspace& operator=(const tracker_workspace&) = delete;

  const swarm_snapshots& snapshots() const;

  struct state;  // tracker_api.cc
  state& internal() { return *state_; }

 private:
  std::unique_ptr<state> state_;
};

// Runs one action ("init", "peers" or "track"). `now` is Unix seconds. The lock is
// held around registry access and the ranking that reads it, not while parsing,
// signing or formatting. With a `workspace` (the caller's, for this registry block)
// `peers` reuses its copy of an unchanged swarm instead of walking it; without one a
// per-thread workspace serves and every swarm is walked.
api_response tracker_handle(std::string_view action, std::string_view body,
                            const requester_facts& facts, swarm_registry& registry,
                            block_lock& lock, const tracker_settings& settings, int64_t now,
                            tracker_workspace* workspace = nullptr);

// GET <location>/stats: the registry's counters and memory figures as JSON.
// `zone_bytes` is the whole shared zone (block plus allocator overhead).
api_response tracker_stats(const swarm_registry& registry, block_lock& lock, size_t zone_bytes);

}  // namespace p2p
