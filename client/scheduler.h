// The hybrid switcher: decides per item between HTTP and peers so that playback is
// never later than with HTTP alone.
//
//  - An item needed within the HTTP safety window of its deadline goes to HTTP (a
//    running peer fetch for it is cancelled first). The window grows with the measured
//    HTTP time for items of that size, so HTTP finishes before the deadline.
//  - Items further ahead (within the P2P look-ahead) are asked from peers that
//    announced them; a peer that stalls or is too slow to finish before the window is
//    cancelled and the item goes back to waiting (another peer, or HTTP in time).
//  - Items without an origin hash never come from peers.
//  - So that the swarm pulls each new (live) segment over HTTP about once: an item no
//    peer has yet gets a random pull moment spread over the time left before its safety
//    window; the first peer to reach it pulls over HTTP and announces, the others then
//    find it at that peer. (p2p-media-loader draws a random timer and pulls with
//    probability ~ 1/(peers + 1); a per-item random delay gives the same ~1 pull per
//    swarm with no chance that nobody pulls before the window: expected pulls are about
//    1 + peers * announce_delay / spread.)
//  - Bytes from a peer are delivered only if their SHA-256 matches; otherwise they are
//    discarded, the peer is blacklisted and the item is fetched over HTTP.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "client/clock.h"
#include "client/manifest.h"
#include "client/segment_store.h"
#include "client/sources.h"

namespace p2p {

struct scheduler_config {
  int64_t http_safety_window_ms = 3000;  // minimum; grows with measured HTTP time
  int64_t p2p_lookahead_ms = 60000;
  int max_http_prefetch = 2;  // concurrent non-urgent HTTP fetches (urgent ones bypass it)
  int max_p2p_fetches = 4;
  int64_t p2p_stall_ms = 1500;  // no progress for this long: cancel the peer
  int http_retries = 3;
  int64_t http_retry_delay_ms = 500;
  int64_t random_pull_spread_max_ms = 8000;  // cap on the random HTTP pull delay
  uint32_t random_seed = 0;                  // 0: seeded from std::random_device
};

enum class delivery_source { store, http, peer };

struct delivery {
  bool ok = false;
  int http_status = 0;
  std::string bytes;
  delivery_source source = delivery_source::http;
};

struct scheduler_stats {
  uint64_t bytes_http = 0;
  uint64_t bytes_p2p = 0;
  uint64_t http_fetches = 0;
  uint64_t p2p_fetches = 0;
  uint64_t integrity_failures = 0;
  uint64_t p2p_cancelled_slow = 0;
  uint64_t p2p_absent = 0;
  uint64_t late_deliveries = 0;  // delivered after their deadline
  uint64_t random_pulls = 0;     // HTTP pulls of items no peer had
};

class scheduler {
 public:
  scheduler(const clock_source& clock, http_source& http, peer_source* peers, segment_store& store,
            scheduler_config config);
  ~scheduler();

  // Asks for an item by `deadline_ms` (clock time). `done` runs exactly once, from
  // tick() or from an HTTP/peer callback, unless the want is dropped first.
  uint64_t want(const media_item& item, int64_t deadline_ms, std::function<void(delivery)> done);
  // Forgets a want (ABR switch, seek): running fetches for it are cancelled.
  void drop(uint64_t want_id);
  void drop_all();
  // Makes decisions; call often (every 10-100 ms) and after callbacks.
  void tick();

  // The minimum HTTP safety window (the distributor's tuning may set it).
  void set_safety_window_ms(int64_t ms) { config_.http_safety_window_ms = ms; }
  // Moves a want's deadline earlier (the player now needs it sooner).
  void expedite(uint64_t want_id, int64_t deadline_ms);
  // Starts or stops using peers. Stopping cancels running peer fetches (their items go
  // back to waiting, then HTTP), so the peer source may be destroyed right after.
  void set_peer_source(peer_source* peers);
  size_t peer_source_connected() const { return peers_ ? peers_->connected_peers() : 0; }
  const scheduler_stats& stats() const { return stats_; }
  size_t pending() const { return wants_.size(); }
  int64_t safety_window_ms(int64_t expected_bytes) const;

 private:
  enum class state { waiting, http, peer };
  struct want_entry {
    uint64_t id;
    media_item item;
    int64_t deadline_ms;
    std::function<void(delivery)> done;
    state st = state::waiting;
    uint64_t fetch_id = 0;
    std::string peer;
    int64_t started_ms = 0;
    size_t last_received = 0;
    int64_t last_progress_ms = 0;
    int http_attempts = 0;
    int64_t retry_at_ms = 0;
    bool urgent_http = false;
    int64_t pull_at_ms = 0;
    std::vector<std::string> tried_peers;
  };

  void start_http(want_entry& w, bool urgent);
  void start_peer(want_entry& w, const std::string& peer);
  void on_http(uint64_t want_id, int64_t started_ms, http_fetch_result result);
  void on_peer(uint64_t want_id, peer_fetch_status status, std::string bytes);
  void finish(uint64_t want_id, delivery d);
  int running(state s, bool non_urgent_only) const;
  int64_t expected_size(const want_entry& w) const;

  const clock_source& clock_;
  http_source& http_;
  peer_source* peers_;
  segment_store& store_;
  scheduler_config config_;
  std::mt19937 rng_;
  std::map<uint64_t, want_entry> wants_;
  uint64_t next_id_ = 1;
  scheduler_stats stats_;
  // HTTP throughput estimate (bytes per ms) and latency, smoothed.
  double http_bytes_per_ms_ = 0;
  double http_latency_ms_ = 0;
  int64_t average_item_bytes_ = 0;
};

}  // namespace p2p
