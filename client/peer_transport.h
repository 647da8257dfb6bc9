// The message transport between two peers, as the client library sees it.
//
// The client library (wire protocol, scheduler) is written against this interface only.
// Implementations: client/webrtc/ (WebRTC data channels, the real one) and
// client/loopback_transport.h (in memory, for tests and simulations).
//
// Model: one reliable, ordered, message-oriented channel per remote peer, like one
// WebRTC data channel (ordered, reliable, binary). Messages keep their boundaries.
//
// Threading: single-threaded. Every method of every object here, and every callback,
// runs on the thread that calls peer_transport::process(). An implementation that uses
// threads inside (libnice's GLib loop, usrsctp) queues its events and dispatches them
// from process(). Callbacks may call back into the transport (send, close, connect),
// but a callback must not destroy the peer_transport itself.
//
// Signalling: the transport never talks to the signalling server directly. It hands
// opaque payloads (UTF-8 JSON objects: SDP offer/answer, ICE candidates) addressed to a
// remote peer id to a signalling_sink; the session relays them over its one WebSocket and
// gives payloads arriving from remote peers back through peer_transport::on_signal().
// A payload is one message of the native signalling protocol (signalling/README.md) as a
// JSON object text WITHOUT `to`/`from`: {"type":"offer"|"answer","sdp":...,"session":...},
// {"type":"candidate","candidate":...,"sdp_mid":...,"sdp_mline_index":...,"session":...}
// or {"type":"bye",...}. The session adds `to` when sending and removes `from` on receipt,
// so only fields that protocol allows may appear (it refuses unknown fields); `session`
// (<= 64 chars) tells negotiations with the same peer apart.
// An implementation takes its signalling_sink (and its configuration: ICE servers,
// max message size) in its constructor.
//
// Glare: two peers may connect() to each other at the same moment. A transport must
// keep both connections apart (its payloads carry whatever tells them apart, e.g. a
// connection id chosen by the offerer); the library then closes the one it does not
// need. The library never opens two outgoing connections to the same remote peer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace p2p {

enum class peer_connection_state {
  connecting,  // signalling / ICE / DTLS / SCTP in progress
  open,        // messages can be sent
  closed,      // closed by either side; final
  failed,      // could not connect or broke; final
};

const char* peer_connection_state_name(peer_connection_state state);

// Where a transport sends signalling payloads for a remote peer.
class signalling_sink {
 public:
  virtual ~signalling_sink() = default;
  // `payload` is a JSON object text that the remote peer's transport understands;
  // the session relays it unchanged to `remote_peer_id`.
  virtual void send_signal(const std::string& remote_peer_id, const std::string& payload) = 0;
};

struct peer_connection_callbacks {
  // State changes, in order connecting -> open -> closed|failed (or connecting -> failed).
  std::function<void(peer_connection_state)> on_state;
  // One whole binary message; `data` is valid only during the call.
  std::function<void(const uint8_t* data, size_t size)> on_message;
  // buffered_amount() fell to or below the threshold set with
  // set_buffered_amount_low_threshold() (like RTCDataChannel's bufferedamountlow).
  std::function<void()> on_buffered_amount_low;
};

class peer_connection {
 public:
  virtual ~peer_connection() = default;

  virtual const std::string& remote_peer_id() const = 0;
  virtual peer_connection_state state() const = 0;

  // Replaces the callbacks; may be called at any time, including from a callback.
  virtual void set_callbacks(peer_connection_callbacks callbacks) = 0;

  // Largest message send() accepts, in bytes (for WebRTC: the smaller of the local and
  // remote a=max-message-size). Valid once open; at least 16384 when open.
  virtual size_t max_message_size() const = 0;

  // Queues one binary message. Returns false (and sends nothing) if the connection is not
  // open, the message is empty or larger than max_message_size(). Backpressure is the
  // caller's business: watch buffered_amount(); an implementation may also refuse
  // (return false) when its own queue is far beyond any sane size.
  virtual bool send(const uint8_t* data, size_t size) = 0;

  // Bytes queued by send() and not yet handed to the network.
  virtual size_t buffered_amount() const = 0;
  virtual void set_buffered_amount_low_threshold(size_t bytes) = 0;

  // Closes the channel; on_state(closed) follows (possibly from within this call).
  // Safe to call more than once and in any state.
  virtual void close() = 0;
};

class peer_transport {
 public:
  virtual ~peer_transport() = default;

  // Starts a connection to `remote_peer_id` (this side offers). The returned object
  // starts in `connecting`; failures are reported through on_state(failed).
  virtual std::shared_ptr<peer_connection> connect(const std::string& remote_peer_id,
                                                   peer_connection_callbacks callbacks) = 0;

  // A connection a remote peer started towards us was created (its first offer arrived
  // through on_signal). The handler sets callbacks on it; without a handler, incoming
  // connections are refused.
  using incoming_handler = std::function<void(std::shared_ptr<peer_connection>)>;
  virtual void set_incoming_handler(incoming_handler handler) = 0;

  // A signalling payload from `remote_peer_id` arrived over the session's WebSocket.
  // Unknown or malformed payloads are ignored (they come from the network).
  virtual void on_signal(const std::string& remote_peer_id, const std::string& payload) = 0;

  // Runs pending network work and dispatches callbacks; waits at most `timeout_ms`
  // (0: do not wait). The owner calls it often (every few milliseconds).
  virtual void process(int timeout_ms) = 0;
};

}  // namespace p2p
