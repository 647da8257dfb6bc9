// A WebRTC peer connection that carries data channels only: ICE (libnice) -> DTLS
// (OpenSSL) -> SCTP (usrsctp) -> data channels (DCEP, RFC 8832).
//
// Threading (README.md): every object of the stack lives on one event_loop thread.
// Methods here may be called from any thread; they run on (or post to) the loop thread.
// Callbacks run on the loop thread: keep them short, never block in them. Calling back
// into these objects from a callback is fine, so is dropping the last reference.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "client/webrtc/sdp.h"

namespace p2p {
namespace webrtc {

class event_loop;
class ice_transport;
class dtls_transport;
class dtls_certificate;
class sctp_transport;
class peer_connection;

struct peer_configuration {
  // "host:port" or "stun:host[:port]" (port 3478 by default); libnice uses the first
  // one that resolves.
  std::vector<std::string> stun_servers;
  // Numeric local addresses to gather host candidates from (empty: all interfaces).
  // Tests pass {"127.0.0.1"} so nothing leaves loopback.
  std::vector<std::string> local_addresses;
  // What we advertise (a=max-message-size) and accept.
  size_t max_message_size = 256 * 1024;
  uint16_t sctp_port = 5000;
  // ICE + DTLS + SCTP must be up within this, or the connection fails.
  unsigned connect_timeout_ms = 30000;
};

enum class peer_state { created, connecting, connected, failed, closed };
const char* peer_state_name(peer_state state);

enum class channel_state { connecting, open, closing, closed };

class data_channel : public std::enable_shared_from_this<data_channel> {
 public:
  using message_handler = std::function<void(const uint8_t* data, size_t size, bool is_text)>;

  const std::string& label() const { return label_; }
  // -1 until the SCTP association is up (the DTLS role decides even or odd ids).
  int stream_id() const { return stream_id_; }
  channel_state state() const { return state_; }
  bool is_open() const { return state_ == channel_state::open; }

  // Queue one message. False when the channel is not open or the message is larger than
  // max_message_size(); chunking is the caller's job.
  bool send(const uint8_t* data, size_t size);
  bool send_text(const std::string& text);
  // Smaller of our and the peer's a=max-message-size.
  size_t max_message_size() const { return max_message_size_; }
  // Bytes queued by send() and not yet handed to SCTP.
  size_t buffered_amount() const { return buffered_amount_; }
  void set_buffered_amount_low_threshold(size_t bytes) { low_threshold_ = bytes; }
  // Resets the stream (both directions close); on_closed follows.
  void close();

  void on_open(std::function<void()> handler);
  void on_closed(std::function<void()> handler);
  void on_message(message_handler handler);
  void on_buffered_amount_low(std::function<void()> handler);

 private:
  friend class peer_connection;
  data_channel(std::weak_ptr<peer_connection> owner, std::shared_ptr<event_loop> loop,
               std::string label, std::string protocol);
  bool send_message(const uint8_t* data, size_t size, bool text);
  // Loop thread only.
  void set_open();
  void set_closed();
  void deliver(const uint8_t* data, size_t size, bool text);
  void sent(size_t size);

  std::weak_ptr<peer_connection> owner_;
  std::shared_ptr<event_loop> loop_;
  const std::string label_;
  const std::string protocol_;
  std::atomic<int> stream_id_{-1};
  std::atomic<channel_state> state_{channel_state::connecting};
  std::atomic<size_t> max_message_size_{kDefaultRemoteMaxMessageSize};
  std::atomic<size_t> buffered_amount_{0};
  std::atomic<size_t> low_threshold_{0};
  std::mutex handlers_mutex_;
  std::function<void()> on_open_;
  std::function<void()> on_closed_;
  message_handler on_message_;
  std::function<void()> on_buffered_amount_low_;
};

class peer_connection : public std::enable_shared_from_this<peer_connection> {
 public:
  // nullptr if no certificate could be made.
  static std::shared_ptr<peer_connection> create(const peer_configuration& configuration);
  ~peer_connection();
  peer_connection(const peer_connection&) = delete;
  peer_connection& operator=(const peer_connection&) = delete;

  // Set handlers before create_offer()/create_answer().
  // Our offer or answer, on the loop thread and before any local candidate: signal from
  // here when candidates must not overtake the SDP (they run on another thread than the
  // caller of create_offer()).
  void on_local_description(std::function<void(const std::string& sdp)> handler);
  // Local ICE candidate ("candidate:..."), then "" when gathering is done.
  void on_local_candidate(std::function<void(const std::string& candidate)> handler);
  // When the connection ends, on_state(closed|failed) runs first, then every channel's
  // on_closed.
  void on_state(std::function<void(peer_state)> handler);
  // A channel the peer opened; it is already open when delivered.
  void on_data_channel(std::function<void(std::shared_ptr<data_channel>)> handler);

  // Offerer: returns the offer SDP (a=setup:actpass) and starts gathering.
  std::string create_offer();
  // Answerer: takes the remote offer, returns our answer ("" with `error` set if the
  // offer is unusable) and starts gathering and connecting.
  std::string create_answer(const std::string& offer, std::string* error = nullptr);
  // Offerer: takes the remote answer. False (with `error`) if it is unusable.
  bool set_remote_answer(const std::string& answer, std::string* error = nullptr);
  // Trickled remote candidate ("candidate:..." or "a=candidate:..."); "" marks the end.
  // Candidates that arrive before the remote description are kept until it comes.
  void add_remote_candidate(const std::string& candidate);

  // A channel to open as soon as the connection is up (on_open tells when).
  std::shared_ptr<data_channel> create_data_channel(const std::string& label,
                                                    const std::string& protocol = "");

  peer_state state() const { return state_; }
  // The peer's a=max-message-size (64 KiB if it gave none), once its SDP is known.
  size_t remote_max_message_size() const { return remote_max_message_size_; }
  // DTLS or ICE failure reason, once failed.
  std::string error() const;
  // "local -> remote" addresses of the selected ICE pair (empty before connected).
  std::string selected_pair() const;

  // Closes every channel and the connection; on_state(closed) and the channels'
  // on_closed run before it returns, and no callback of this connection or its channels
  // runs after it returns (so objects the callbacks use may go away then).
  void close();

 private:
  friend class data_channel;
  explicit peer_connection(const peer_configuration& configuration);

  // Loop thread only below.
  void start_transports(bool controlling, const session_description& remote);
  void on_sctp_state(int state);
  void on_sctp_message(uint16_t stream, uint32_t ppid, const uint8_t* data, size_t size);
  void on_stream_reset(uint16_t stream, bool incoming);
  void on_sctp_sent(uint16_t stream, uint32_t ppid, size_t size);
  void open_pending_channels();
  void send_open_request(const std::shared_ptr<data_channel>& channel);
  void send_on_stream(uint16_t stream, uint32_t ppid, std::vector<uint8_t> data);
  void close_channel(const std::shared_ptr<data_channel>& channel);
  void set_state(peer_state state);
  void fail(const std::string& reason);
  void close_on_loop();
  void tear_down();

  std::shared_ptr<event_loop> loop_;
  peer_configuration configuration_;
  std::string stun_ip_;
  uint16_t stun_port_ = 3478;
  std::shared_ptr<dtls_certificate> certificate_;
  uint64_t session_id_ = 0;

  std::unique_ptr<ice_transport> ice_;
  std::unique_ptr<dtls_transport> dtls_;
  std::unique_ptr<sctp_transport> sctp_;
  bool remote_known_ = false;
  bool dtls_client_ = false;
  uint16_t remote_sctp_port_ = 5000;
  std::vector<std::string> early_candidates_;
  bool early_end_of_candidates_ = false;
  unsigned connect_timer_ = 0;

  std::map<uint16_t, std::shared_ptr<data_channel>> channels_;
  std::vector<std::shared_ptr<data_channel>> pending_channels_;

  std::atomic<peer_state> state_{peer_state::created};
  std::atomic<size_t> remote_max_message_size_{kDefaultRemoteMaxMessageSize};
  mutable std::mutex text_mutex_;
  std::string error_;
  std::string selected_pair_;

  std::function<void(const std::string&)> on_local_description_;
  std::function<void(const std::string&)> on_local_candidate_;
  std::function<void(peer_state)> on_state_;
  std::function<void(std::shared_ptr<data_channel>)> on_data_channel_;
};

}  // namespace webrtc
}  // namespace p2p
