// The C++ API of the client library: one object per playback session.
//
// A player (or the local proxy, or the virtual player) asks it for URLs: manifests,
// segments, keys. Manifests are fetched over HTTP, parsed for items and hints, and
// start the P2P session in the background (distributor -> tracker -> signalling); items
// the manifest hashes go through the hybrid scheduler (peers ahead, HTTP near the
// deadline); anything else (keys, unknown URLs) is plain HTTP. Playback never waits on
// the P2P machinery: with no session, no peers or any failure, it is HTTP as before.
//
// Single-threaded: call everything, including process(), from one thread; callbacks run
// from process().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "client/clock.h"
#include "client/curl_http_client.h"
#include "client/manifest.h"
#include "client/peer_transport.h"
#include "client/scheduler.h"
#include "client/segment_store.h"

namespace p2p {

class p2p_session;
class peer_swarm;

struct client_config {
  std::string library_version = "1.0.0";
  bool p2p_enabled = true;
  bool uploads_enabled = true;  // false on cellular / metered networks
  double upload_bytes_per_second = 4e6;
  size_t store_bytes = 128 * 1024 * 1024;
  double keep_behind_seconds = 30;
  int prefetch_items = 6;  // items after the requested one asked from peers ahead of time
  scheduler_config scheduler;
  // Builds the peer transport once the session has a signalling connection; without a
  // factory the session still runs (tracker, analytics) but no peer connects.
  std::function<std::unique_ptr<peer_transport>(signalling_sink&)> transport_factory;
  // One line per notable event (session steps, failures); nullptr: silent.
  std::function<void(const std::string&)> log;
};

struct client_stats {
  uint64_t bytes_http = 0;
  uint64_t bytes_p2p = 0;
  uint64_t bytes_uploaded = 0;
  uint32_t peers_connected = 0;
  uint64_t integrity_failures = 0;
  uint64_t protocol_errors = 0;
  uint64_t stalls = 0;
  uint64_t stall_ms = 0;
  uint64_t late_deliveries = 0;
  std::string session_state = "idle";
};

struct fetch_response {
  int status = 0;  // HTTP status; 0 on a network error
  std::string bytes;
  std::string content_type;
  bool from_peers = false;
};

// A parsed manifest the client saw (the virtual player plays from these).
struct known_playlist {
  std::string url;
  bool live = false;
  double target_duration = 0;
  std::string swarm_id;
  std::vector<media_item> items;
};

class client {
 public:
  explicit client(client_config config);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Fetches any URL; `deadline_ms` is how soon the player needs it (0: now).
  uint64_t fetch(const std::string& url, int64_t range_offset, int64_t range_length,
                 int64_t deadline_ms, std::function<void(fetch_response)> done);
  void cancel(uint64_t id);

  // Player position in seconds on the timeline of the playlist it plays (evicts the store
  // behind it).
  void set_playhead(double seconds);
  void report_stall(int64_t duration_ms);
  void report_startup(int64_t startup_ms);
  void set_uploads_enabled(bool enabled);

  // Runs network work and callbacks; waits at most timeout_ms.
  void process(int timeout_ms);

  client_stats stats() const;
  const known_playlist* playlist(const std::string& url) const;
  const clock_source& clock() const { return clock_; }

 private:
  struct waiter {
    uint64_t id;
    std::function<void(fetch_response)> done;
  };
  struct item_ref {
    std::string playlist_url;
    size_t index = 0;
  };
  struct in_flight {
    uint64_t want_id = 0;
    std::vector<waiter> waiters;
  };

  void on_manifest(const std::string& url, const std::string& body,
                   const std::string& content_type);
  void register_playlist(known_playlist playlist);
  void want_item(const std::string& key, const media_item& item, int64_t deadline_at_ms);
  void prefetch_after(const item_ref& ref, int64_t base_deadline_at_ms);
  void log(const std::string& line) const;

  client_config config_;
  steady_clock_source clock_;
  curl_http_client http_;
  segment_store store_;
  scheduler scheduler_;
  std::unique_ptr<p2p_session> session_;
  std::map<std::string, known_playlist> playlists_;
  std::map<std::string, item_ref> items_;        // media_item_key -> where it is listed
  std::map<std::string, in_flight> in_flight_;   // media_item_key -> want
  std::map<uint64_t, std::string> waiter_keys_;  // fetch id -> media_item_key
  std::map<uint64_t, uint64_t> plain_http_;      // fetch id -> http transfer id
  uint64_t next_id_ = 1;
  uint64_t bytes_http_plain_ = 0;
  uint64_t stalls_ = 0;
  uint64_t stall_ms_ = 0;
  int64_t startup_ms_ = -1;
};

}  // namespace p2p
