// ICE over libnice: one stream, one component (rtcp-mux style, as data channels use).
// Host candidates (optionally only from configured local addresses), server-reflexive
// ones from a STUN server, trickle in both directions, RFC 7675 consent freshness.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "client/webrtc/datagram_transport.h"

typedef struct _NiceAgent NiceAgent;

namespace p2p {
namespace webrtc {

class event_loop;

struct ice_config {
  // Numeric IP addresses; empty: every interface libnice finds (loopback excluded).
  std::vector<std::string> local_addresses;
  // Numeric address of a STUN server (empty: none) and its port.
  std::string stun_server_ip;
  uint16_t stun_server_port = 3478;
};

class ice_transport : public datagram_transport {
 public:
  // `candidate` is an SDP candidate attribute value without "a=" ("candidate:..."),
  // empty once gathering is done.
  using candidate_handler = std::function<void(const std::string& candidate)>;

  ice_transport(event_loop& loop, const ice_config& config, bool controlling);
  ~ice_transport() override;
  ice_transport(const ice_transport&) = delete;
  ice_transport& operator=(const ice_transport&) = delete;

  const std::string& local_ufrag() const { return local_ufrag_; }
  const std::string& local_password() const { return local_password_; }

  void set_candidate_handler(candidate_handler handler) { on_candidate_ = std::move(handler); }
  // Starts gathering local candidates (reported through the candidate handler).
  bool gather();
  bool set_remote_credentials(const std::string& ufrag, const std::string& password);
  // Accepts "candidate:..." or "a=candidate:..."; ignores (returns false) TCP, mDNS and
  // unparsable candidates. An empty string means the remote end of candidates.
  bool add_remote_candidate(const std::string& candidate);

  bool send(const uint8_t* data, size_t size) override;

  // Selected pair as "local -> remote" (empty before connected), for logs and tests.
  std::string selected_pair() const;

 private:
  static void on_new_candidate(NiceAgent* agent, void* candidate, void* self);
  static void on_gathering_done(NiceAgent* agent, unsigned stream_id, void* self);
  static void on_component_state(NiceAgent* agent, unsigned stream_id, unsigned component_id,
                                 unsigned state, void* self);
  static void on_receive(NiceAgent* agent, unsigned stream_id, unsigned component_id, unsigned size,
                         char* data, void* self);

  void flush_early_datagrams();
  void enlarge_socket_buffers();

  event_loop& loop_;
  NiceAgent* agent_ = nullptr;
  unsigned stream_id_ = 0;
  std::string local_ufrag_;
  std::string local_password_;
  candidate_handler on_candidate_;
  std::vector<std::vector<uint8_t>> early_datagrams_;
};

}  // namespace webrtc
}  // namespace p2p
