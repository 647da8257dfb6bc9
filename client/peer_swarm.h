// The peers of one session over a peer_transport, speaking the wire protocol: who has
// what (have/lost), fetching items from them (request -> data chunks | absent, cancel),
// and serving our verified segment_store to them under an upload rate cap. A
// cellular/metered client uploads nothing (hello says so and every request is absent).
// A malformed frame closes that peer only.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "client/clock.h"
#include "client/peer_transport.h"
#include "client/segment_store.h"
#include "client/sources.h"
#include "client/wire_protocol.h"

namespace p2p {

struct peer_swarm_config {
  std::string local_peer_id;  // decides which side's connection survives glare
  bool uploads_enabled = true;
  double upload_bytes_per_second = 4e6;  // 0: no cap
  size_t max_peers = 30;
  // Do not queue more than this on a connection: the rest waits for bufferedamountlow.
  size_t send_high_watermark = 1024 * 1024;
  size_t max_announced_per_peer = 8192;
  size_t max_uploads_per_peer = 32;
};

struct peer_swarm_stats {
  uint64_t bytes_uploaded = 0;
  uint64_t bytes_downloaded = 0;
  uint64_t protocol_errors = 0;
  uint64_t requests_served = 0;
  uint64_t requests_refused = 0;
};

class peer_swarm : public peer_source {
 public:
  peer_swarm(peer_transport& transport, segment_store& store, const clock_source& clock,
             peer_swarm_config config, std::string swarm_id);
  ~peer_swarm() override;

  // Opens a connection to a peer the tracker listed (ignored when already connected,
  // blacklisted, ourselves, or at max_peers).
  void connect(const std::string& peer_id);
  // ABR switch: tell every peer which swarm we now watch.
  void set_swarm(const std::string& swarm_id);
  void set_uploads_enabled(bool enabled);
  // Sends upload chunks within the rate cap and reaps closed peers; call every loop turn
  // (after peer_transport::process()).
  void process();

  std::vector<std::string> connected_peer_ids() const;
  // The swarm id a connected peer said it watches ("" when unknown).
  std::string peer_swarm_id(const std::string& peer_id) const;
  const peer_swarm_stats& stats() const { return stats_; }

  // peer_source
  std::vector<std::string> peers_with(const content_hash& hash) const override;
  size_t connected_peers() const override;
  uint64_t fetch(const std::string& peer_id, const content_hash& hash,
                 std::function<void(peer_fetch_status, std::string)> done) override;
  size_t received(uint64_t id) const override;
  size_t total_size(uint64_t id) const override;
  void cancel(uint64_t id) override;
  void blacklist(const std::string& peer_id) override;

 private:
  struct upload_job {
    uint32_t request_id;
    content_hash hash;
    uint32_t offset = 0;
  };
  struct peer_state {
    std::string id;
    std::shared_ptr<peer_connection> connection;
    bool open = false;
    bool hello = false;
    bool remote_uploads = false;
    bool dead = false;
    std::string remote_swarm;
    std::set<content_hash> announced;
    std::map<uint32_t, uint64_t> requests;  // our request id -> fetch id
    std::set<uint32_t> cancelled;           // our cancelled request ids (data may still come)
    std::deque<upload_job> uploads;
  };
  struct fetch_state {
    std::string peer;
    uint32_t request_id = 0;
    content_hash hash{};
    chunk_assembler assembler;
    std::function<void(peer_fetch_status, std::string)> done;
  };

  void attach(const std::shared_ptr<peer_connection>& connection, bool outgoing);
  peer_connection_callbacks callbacks_for(const std::string& peer_id,
                                          const std::shared_ptr<peer_connection>& connection);
  void on_open(peer_state& peer);
  void on_message(peer_state& peer, const uint8_t* data, size_t size);
  void kill(peer_state& peer, bool protocol_error);
  void complete(uint64_t fetch_id, peer_fetch_status status, std::string bytes);
  void send(peer_state& peer, const std::string& frame);
  void broadcast(const std::string& frame);
  void on_store_change(const content_hash& hash, bool added);
  peer_state* find(const std::string& peer_id);
  const peer_state* find(const std::string& peer_id) const;

  peer_transport& transport_;
  segment_store& store_;
  const clock_source& clock_;
  peer_swarm_config config_;
  std::string swarm_id_;
  std::map<std::string, std::unique_ptr<peer_state>> peers_;
  std::set<std::string> blacklist_;
  std::map<uint64_t, fetch_state> fetches_;
  std::vector<std::pair<uint64_t, peer_fetch_status>> deferred_;
  uint64_t next_fetch_id_ = 1;
  uint32_t next_request_id_ = 1;
  double upload_tokens_ = 0;
  int64_t last_refill_ms_ = 0;
  size_t upload_cursor_ = 0;
  peer_swarm_stats stats_;
};

}  // namespace p2p
