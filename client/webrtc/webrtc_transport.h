// p2p::peer_transport (client/peer_transport.h) over WebRTC data channels: each
// p2p::peer_connection is one webrtc::peer_connection carrying one reliable ordered
// data channel. Signalling payloads are native signalling messages (signalling/
// README.md) without to/from: offer/answer {sdp, session}, candidate {candidate,
// sdp_mid, sdp_mline_index, session}, bye {reason, session}. The offerer picks `session`
// (random), so two peers connecting to each other at once (glare) get two connections.
//
// Threading: the WebRTC stack runs on its own loop thread (README.md); everything it
// reports is queued and dispatched from process(), so the library sees one thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "client/peer_transport.h"

namespace p2p {
namespace webrtc {

struct webrtc_transport_config {
  std::vector<std::string> stun_servers;     // "stun:host:port" or "host:port"
  std::vector<std::string> local_addresses;  // empty: all interfaces (tests: 127.0.0.1)
  size_t max_message_size = 256 * 1024;      // a=max-message-size we advertise
  unsigned connect_timeout_ms = 15000;
};

class webrtc_connection;

class webrtc_transport : public p2p::peer_transport {
 public:
  // `sink` must outlive the transport.
  webrtc_transport(signalling_sink& sink, webrtc_transport_config config);
  ~webrtc_transport() override;

  std::shared_ptr<p2p::peer_connection> connect(const std::string& remote_peer_id,
                                                peer_connection_callbacks callbacks) override;
  void set_incoming_handler(incoming_handler handler) override;
  void on_signal(const std::string& remote_peer_id, const std::string& payload) override;
  void process(int timeout_ms) override;

 private:
  friend class webrtc_connection;
  using key = std::pair<std::string, std::string>;  // remote peer id, session

  // Work for process(), queued from any thread; shared with the connections' callbacks
  // so a late report after the transport is gone lands nowhere harmful.
  struct task_queue {
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<std::function<void()>> tasks;
    void post(std::function<void()> task);
  };

  void send_signal(const std::string& remote_peer_id, const std::string& payload);
  void forget(const key& connection_key, const webrtc_connection* connection);

  signalling_sink& sink_;
  webrtc_transport_config config_;
  incoming_handler incoming_handler_;
  std::map<key, std::weak_ptr<webrtc_connection>> connections_;
  std::shared_ptr<bool> alive_;  // process() thread only
  std::shared_ptr<task_queue> queue_;
};

}  // namespace webrtc
}  // namespace p2p
