// The signalling daemon's protocol logic, free of libwebsockets so unit tests drive it
// directly: admission by ticket, the native relay between peers of one swarm, the
// WebTorrent tracker (announce/offer fan-out, answer relay, scrape, expiry), every limit
// and the counters. The transport glue feeds it frames and drains per-connection
// outgoing queues; the core tells the glue when a queue has data and when to close.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "signalling/json_scan.h"

namespace p2p {

using connection_id = uint64_t;

// A WebTorrent info_hash or peer_id: exactly 20 raw bytes, held inline (no allocation).
struct wt_id {
  std::array<char, 20> bytes{};
  std::string_view view() const { return {bytes.data(), bytes.size()}; }
  bool operator==(const wt_id& other) const {
    return std::memcmp(bytes.data(), other.bytes.data(), bytes.size()) == 0;
  }
  bool operator!=(const wt_id& other) const { return !(*this == other); }
};

// Keyed hash for the swarm and peer tables: ids come from clients, so the key is a
// per-process random secret, keeping anyone from choosing ids that share a bucket.
struct wt_id_hash {
  uint64_t key[4] = {};
  size_t operator()(const wt_id& id) const;
};

// WebSocket close codes the daemon uses (RFC 6455 section 7.4 plus two private ones).
enum class close_code : uint16_t {
  normal = 1000,
  going_away = 1001,
  unsupported_data = 1003,
  policy_violation = 1008,
  message_too_big = 1009,
  ticket_refused = 4001,
  replaced = 4002,
};

// Why a message or a connection was refused; each has a counter and a wire code.
enum class reject_reason {
  bad_json,
  bad_message,
  forbidden_field,
  unknown_peer,
  self_target,
  server_busy,
  ticket_missing,
  ticket_malformed,
  ticket_bad_signature,
  ticket_expired,
  replaced,
  message_too_large,
  binary_not_allowed,
  rate_limited,
  too_many_connections,
  swarm_full,
  slow_reader,
  idle_timeout,
  shutting_down,
  not_found,
  origin_not_allowed,
  peer_id_in_use,
  invalid_request,  // WebTorrent request refused with a bittorrent-tracker reason
  count,
};

const char* reject_reason_code(reject_reason reason);

struct signalling_limits {
  size_t max_message_bytes = 16 * 1024;  // one message, all fragments together
  double messages_per_second = 50;       // sustained, per connection
  double message_burst = 100;            // token bucket depth
  size_t max_connections_per_ip = 64;
  size_t max_connections = 200000;
  size_t max_peers_per_swarm = 5000;        // native and WebTorrent, each
  size_t max_queue_bytes = 256 * 1024;      // outgoing, per connection
  size_t max_queue_messages = 512;          // outgoing, per connection
  size_t max_memory_bytes = 1024ull << 20;  // queues + per-connection estimate
  size_t max_scrape_hashes = 64;
  size_t max_offers = 50;  // bittorrent-tracker's MAX_ANNOUNCE_PEERS
};

struct signalling_settings {
  std::string ticket_secret;
  int64_t ticket_skew_seconds = 30;
  int ping_interval_seconds = 30;
  int idle_timeout_seconds = 75;
  int webtorrent_interval_seconds = 120;
  std::vector<std::string> origin_allow;  // empty: every origin not denied
  std::vector<std::string> origin_deny;
  bool require_origin = false;
  signalling_limits limits;
};

// What the core asks of the transport.
class connection_sink {
 public:
  virtual ~connection_sink() = default;
  // The connection's outgoing queue went from empty to non-empty.
  virtual void wants_write(connection_id id) = 0;
  // Flush what is queued (best effort), then close with `code`.
  virtual void wants_close(connection_id id, close_code code) = 0;
  // The connection has been silent for ping_interval: send a WebSocket ping.
  virtual void wants_ping(connection_id id) = 0;
  // The connection's queue passed half of max_queue_messages or max_queue_bytes: a sink
  // that holds writes back (write coalescing) should write now, before the limit turns
  // the connection into a slow reader.
  virtual void queue_filling(connection_id /*id*/) {}
};

// Rough cost of one connection beyond its queued bytes, for the memory limit.
inline constexpr size_t kConnectionMemoryEstimate = 2048;

class signalling_core {
 public:
  signalling_core(signalling_settings settings, connection_sink* sink, uint64_t seed);
  signalling_core(const signalling_core&) = delete;
  signalling_core& operator=(const signalling_core&) = delete;

  // SIGHUP: new secret, limits, origins and timeouts apply to what comes next.
  void reconfigure(signalling_settings settings);
  const signalling_settings& settings() const { return settings_; }

  // A WebSocket was established. `now_ms` is Unix time in milliseconds everywhere.
  void open_native(connection_id id, std::string_view ip, std::string_view ticket, int64_t now_ms);
  void open_webtorrent(connection_id id, std::string_view ip, std::string_view origin,
                       int64_t now_ms);
  void open_unknown_path(connection_id id, std::string_view ip, int64_t now_ms);

  // One received fragment of a text or binary message.
  void on_fragment(connection_id id, std::string_view data, bool binary, bool final_fragment,
                   int64_t now_ms);
  // Any sign of life that is not a message (a pong).
  void on_activity(connection_id id, int64_t now_ms);
  // The socket is gone; forget everything about it.
  void on_closed(connection_id id);

  // Periodic: pings for silent connections, closes idle ones, drops WebTorrent peers that
  // stopped announcing.
  void tick(int64_t now_ms);
  // SIGTERM: close every connection with `shutting_down`; refuse new ones.
  void drain();
  bool draining() const { return draining_; }

  // The frame at the head of a connection's queue; false if there is none.
  bool next_frame(connection_id id, std::string_view* frame) const;
  void pop_frame(connection_id id);
  // Hands queued frames oldest first to `write`, removing each, until
  // the queue is empty or the next frame would take the bytes handed over past `max_bytes`
  // (the first one is always handed over). True if frames remain.
  using frame_writer = void (*)(std::string_view frame, void* context);
  bool drain_frames(connection_id id, size_t max_bytes, frame_writer write, void* context);

  size_t connection_count() const { return connections_.size(); }
  size_t queued_bytes() const { return queued_bytes_; }
  std::string metrics_text() const;

 private:
  enum class connection_kind { native, webtorrent, refused };

  struct wt_membership {
    wt_id info_hash;
    wt_id peer_id;
  };

  struct connection {
    connection_kind kind = connection_kind::refused;
    bool closing = false;
    std::string ip;
    // Queued frames back to back, each a 4-byte length then the text; the unsent ones
    // start at outbox_start. One buffer per connection: no node or buffer per frame.
    std::string outbox;
    size_t outbox_start = 0;
    size_t outbox_frames = 0;
    size_t outbox_bytes = 0;  // text bytes of the unsent frames (what the limits count)
    std::string partial;      // fragments of the message being received
    bool partial_binary = false;
    double tokens = 0;
    int64_t refill_ms = 0;
    int64_t last_activity_ms = 0;
    int64_t last_ping_ms = 0;
    std::string peer_id;   // native
    std::string swarm_id;  // native
    std::vector<wt_membership> memberships;
  };

  struct wt_peer {
    wt_id peer_id;
    connection_id owner = 0;
    bool complete = false;
    int64_t last_announce_ms = 0;
  };

  struct wt_swarm {
    std::vector<wt_peer> peers;                           // unordered; random start for fan-out
    std::unordered_map<wt_id, size_t, wt_id_hash> index;  // peer_id -> position in peers
    uint64_t complete = 0;
    uint64_t incomplete = 0;
    uint64_t downloaded = 0;
  };

  connection* find(connection_id id);
  const connection* find(connection_id id) const;
  connection& admit(connection_id id, std::string_view ip, connection_kind kind, int64_t now_ms);
  bool admission_limits_ok(connection_id id, connection& c);
  // Whether `extra` more bytes would pass the memory limit.
  bool over_memory(size_t extra = 0) const;

  // An empty frame, on a recycled buffer when one is spare.
  std::string new_frame();
  // Hands a built frame's buffer back for new_frame (bounded pool).
  void recycle(std::string frame);
  // Queue a frame; false (and the target is closed as a slow reader) if it does not fit.
  bool enqueue(connection_id id, connection& c, std::string frame);
  void push_frame(connection& c, std::string_view text);
  std::string_view front_frame(const connection& c) const;
  void pop_front_frame(connection& c);
  void clear_outbox(connection& c);
  void refuse(connection_id id, connection& c, reject_reason reason, close_code code);
  void leave_routing(connection_id id, connection& c);
  void count_reject(reject_reason reason) { ++rejects_[static_cast<size_t>(reason)]; }

  void handle_message(connection_id id, connection& c, std::string_view text, int64_t now_ms);
  void handle_native(connection_id id, connection& c, std::string_view text);
  void native_error(connection_id id, connection& c, reject_reason reason, const char* message,
                    std::string_view to);
  void handle_webtorrent(connection_id id, connection& c, std::string_view text, int64_t now_ms);
  void wt_failure(connection_id id, connection& c, const std::string& reason,
                  const wt_id* info_hash,
                  reject_reason counted_as = reject_reason::invalid_request);
  void wt_remove_peer(const wt_id& info_hash, const wt_id& peer_id);
  wt_swarm new_wt_swarm() const;
  bool origin_allowed(std::string_view origin) const;

  signalling_settings settings_;
  connection_sink* sink_;
  std::mt19937_64 rng_;
  bool draining_ = false;

  std::unordered_map<connection_id, connection> connections_;
  std::unordered_map<std::string, size_t> connections_per_ip_;
  // swarm_id -> (peer_id -> connection)
  std::unordered_map<std::string, std::unordered_map<std::string, connection_id>> native_swarms_;
  wt_id_hash wt_hash_;                                         // keyed at construction
  std::unordered_map<wt_id, wt_swarm, wt_id_hash> wt_swarms_;  // key: info_hash
  // Queued frames' buffers, reused by the next frames (bounded pool).
  std::vector<std::string> spare_buffers_;
  size_t spare_bytes_ = 0;  // capacity held in spare_buffers_
  // Per-message scratch for handle_webtorrent (not reentrant), reused for its capacity.
  struct wt_scratch {
    json_object_text message;
    json_object_text offer;
    std::vector<json_value_text> offers;
    std::vector<connection_id> targets;
    std::string utf8;
    std::string bytes;
    wt_id info_hash;
    wt_id peer_id;
    wt_id to_peer_id;
    std::string info_hash_json;
    std::string peer_id_json;
  } wt_scratch_;
  size_t wt_peer_count_ = 0;
  size_t native_peer_count_ = 0;
  size_t queued_bytes_ = 0;

  // Counters (monotonic).
  uint64_t connections_total_[3] = {};  // by connection_kind
  uint64_t messages_received_[2] = {};  // native, webtorrent
  uint64_t messages_relayed_[2] = {};
  uint64_t wt_announces_ = 0;
  uint64_t wt_scrapes_ = 0;
  uint64_t wt_peers_expired_ = 0;
  uint64_t rejects_[static_cast<size_t>(reject_reason::count)] = {};
};

}  // namespace p2p
