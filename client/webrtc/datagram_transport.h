// The small interface each lower layer offers the one above it (ICE to DTLS, DTLS to
// SCTP): send a datagram, get datagrams and state changes through callbacks.
// Loop thread only (event_loop.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace p2p {
namespace webrtc {

enum class transport_state { idle, connecting, connected, failed, closed };

const char* transport_state_name(transport_state state);

class datagram_transport {
 public:
  using receive_handler = std::function<void(const uint8_t* data, size_t size)>;
  using state_handler = std::function<void(transport_state)>;

  virtual ~datagram_transport() = default;

  // Best effort, like UDP: false when the datagram was dropped.
  virtual bool send(const uint8_t* data, size_t size) = 0;
  transport_state state() const { return state_; }

  // Datagrams that arrived while no handler was set (a few, see deliver()) are handed
  // to the new handler at once.
  void set_receive_handler(receive_handler handler) {
    on_receive_ = std::move(handler);
    if (!on_receive_ || undelivered_.empty()) return;
    std::vector<std::vector<uint8_t>> pending;
    pending.swap(undelivered_);
    for (const auto& datagram : pending)
      if (on_receive_) on_receive_(datagram.data(), datagram.size());
  }
  void set_state_handler(state_handler handler) { on_state_ = std::move(handler); }

 protected:
  // Without a handler the first few datagrams are kept: a peer's first DTLS flight can
  // arrive before our layer above exists (its ICE is up before its answer reached us
  // through signalling), and dropping it costs a 1 s DTLS retransmission.
  void deliver(const uint8_t* data, size_t size) {
    if (on_receive_)
      on_receive_(data, size);
    else if (undelivered_.size() < kMaxUndelivered)
      undelivered_.emplace_back(data, data + size);
  }
  // Final states (failed, closed) are sticky.
  void change_state(transport_state state) {
    if (state_ == state || state_ == transport_state::failed || state_ == transport_state::closed)
      return;
    state_ = state;
    if (on_state_) on_state_(state);
  }

 private:
  static constexpr size_t kMaxUndelivered = 16;
  transport_state state_ = transport_state::idle;
  receive_handler on_receive_;
  state_handler on_state_;
  std::vector<std::vector<uint8_t>> undelivered_;
};

}  // namespace webrtc
}  // namespace p2p
