// The P2P side of one playback session (DESIGN.md, "one viewing session"):
//   hints -> distributor (config, may say "p2p off") -> tracker init (peer id, ticket)
//   -> one signalling WebSocket -> periodic tracker `peers` (connect to them) and
//   `track` on a rendition change -> analytics `usage` (short cycle), `stats` (~120 s),
//   `control` (~10 min).
// Any failing step puts the session in http_only with exponential backoff, then it starts
// over; the scheduler simply has no peers meanwhile. Nothing here blocks: every request
// is asynchronous and playback never waits for it.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>

#include "client/client.h"
#include "client/curl_http_client.h"
#include "client/peer_transport.h"

namespace p2p {

class peer_swarm;
class signalling_client;

struct session_tuning {
  int64_t announce_interval_ms = 30000;
  int64_t usage_interval_ms = 10000;
  int64_t stats_interval_ms = 120000;
  int64_t control_interval_ms = 600000;
  size_t max_peers = 20;
};

class p2p_session : public signalling_sink {
 public:
  p2p_session(const client_config& config, curl_http_client& http, const clock_source& clock,
              segment_store& store, scheduler& sched);
  ~p2p_session() override;

  void on_hints(const session_hints& hints, const std::string& manifest_url);
  // The rendition being watched has this swarm id (ABR switches call it again).
  void on_swarm(const std::string& swarm_id);
  void on_stall(int64_t ms);
  void on_startup(int64_t ms);
  void set_uploads_enabled(bool enabled);
  void process();

  std::string state_name() const;
  uint64_t bytes_uploaded() const;
  size_t peers_connected() const;
  uint64_t protocol_errors() const;
  const std::string& peer_id() const { return peer_id_; }

  // signalling_sink
  void send_signal(const std::string& remote_peer_id, const std::string& payload) override;

 private:
  enum class state { idle, distributor, init, running, http_only, disabled };

  void start();
  void fail(const std::string& why);
  void request_distributor();
  void request_init();
  void connect_signalling();
  void request_peers();
  void request_track();
  void report_usage();
  void report_stats();
  void report_control();
  void post_json(const std::string& url, const std::string& body,
                 std::function<void(http_response)> done);
  // The session credential from the manifest: kept fresh by fetching the manifest
  // again before it expires (and at once when an endpoint refuses it).
  void set_credential(const std::string& credential);
  void refresh_credential();
  void credential_refused(int status);
  void log(const std::string& line) const;

  const client_config& config_;
  curl_http_client& http_;
  const clock_source& clock_;
  segment_store& store_;
  scheduler& scheduler_;
  std::mt19937 rng_;

  state state_ = state::idle;
  session_hints hints_;
  bool have_hints_ = false;
  std::string tracker_url_, signalling_url_, analytics_url_;
  std::string manifest_url_;           // where the hints came from
  int64_t credential_refresh_ms_ = 0;  // 0: no credential to keep fresh
  bool credential_refreshing_ = false;
  session_tuning tuning_;
  std::string swarm_id_;         // rendition being watched
  std::string ticket_swarm_id_;  // swarm the ticket is for
  std::string peer_id_, ticket_;
  std::string session_key_;
  int failures_ = 0;
  int64_t retry_at_ms_ = 0;
  bool request_running_ = false;
  bool track_pending_ = false;
  int64_t next_peers_ms_ = 0, next_usage_ms_ = 0, next_stats_ms_ = 0, next_control_ms_ = 0;
  int64_t signalling_retry_ms_ = 0;
  int signalling_failures_ = 0;

  std::unique_ptr<signalling_client> signalling_;
  std::unique_ptr<peer_transport> transport_;
  std::unique_ptr<peer_swarm> swarm_;

  // Reported-so-far marks for analytics deltas.
  uint64_t reported_http_ = 0, reported_p2p_ = 0, reported_upload_ = 0;
  uint64_t reported_integrity_ = 0, reported_protocol_ = 0;
  uint64_t stalls_ = 0, stall_ms_ = 0;
  int64_t startup_ms_ = -1;
  bool startup_reported_ = false;
  uint64_t protocol_errors_before_ = 0;
  uint64_t uploaded_before_ = 0;
};

}  // namespace p2p
