// SCTP over DTLS with usrsctp (AF_CONN: usrsctp hands us packets, we hand them to DTLS).
// usrsctp runs without its own threads (usrsctp_init_nothreads); its timers are driven
// from the loop thread. Both sides connect (SCTP handles the simultaneous open), as
// browsers do. Messages go through one ordered queue so a stream reset never overtakes
// data queued before it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "client/webrtc/datagram_transport.h"

struct socket;

namespace p2p {
namespace webrtc {

class event_loop;

// Payload protocol identifiers of WebRTC data channels (RFC 8831, 8832).
enum : uint32_t {
  kPpidControl = 50,
  kPpidString = 51,
  kPpidBinary = 53,
  kPpidStringEmpty = 56,
  kPpidBinaryEmpty = 57,
};

class sctp_transport {
 public:
  // SCTP packets we emit fit one DTLS record of at most dtls_transport::kMtu bytes
  // (DTLS 1.2 with AES-GCM adds 37 bytes; rounded down for other ciphers).
  static constexpr unsigned kPathMtu = 1150;
  static constexpr uint16_t kMaxStreams = 1024;

  struct callbacks {
    std::function<void(transport_state)> on_state;
    // A whole message (all its fragments joined).
    std::function<void(uint16_t stream, uint32_t ppid, const uint8_t* data, size_t size)>
        on_message;
    // `stream` was reset; `incoming` true when the peer reset its outgoing side.
    std::function<void(uint16_t stream, bool incoming)> on_stream_reset;
    // A message of `size` payload bytes was handed to usrsctp (or dropped on error).
    std::function<void(uint16_t stream, uint32_t ppid, size_t size)> on_sent;
  };

  // `lower` (DTLS) must outlive this object. Ports are the a=sctp-port values.
  sctp_transport(event_loop& loop, datagram_transport& lower, uint16_t local_port,
                 uint16_t remote_port, callbacks callbacks);
  ~sctp_transport();
  sctp_transport(const sctp_transport&) = delete;
  sctp_transport& operator=(const sctp_transport&) = delete;

  transport_state state() const { return state_; }
  // Queues a message; false if the transport is closed or failed.
  bool send(uint16_t stream, uint32_t ppid, const uint8_t* data, size_t size, bool unordered);
  bool send(uint16_t stream, uint32_t ppid, std::vector<uint8_t> data, bool unordered);
  // Resets the outgoing side of `stream` after everything queued before it.
  void reset_stream(uint16_t stream);
  // Bytes queued here and not yet accepted by usrsctp.
  size_t queued_bytes() const { return queued_bytes_; }
  // Incoming messages larger than this are discarded (the peer ignored our
  // a=max-message-size); bounds the reassembly buffer.
  void set_max_receive_size(size_t bytes) { max_receive_size_ = bytes; }

  // usrsctp entry points (sctp_transport.cc).
  void on_packet_out(const void* data, size_t size);
  void on_socket_event();

 private:
  struct outgoing {
    uint16_t stream;
    uint32_t ppid;
    bool unordered;
    bool reset;  // a stream reset, not a message
    std::vector<uint8_t> data;
  };

  void on_lower_state(transport_state state);
  void connect();
  void configure_socket();
  void read_messages();
  void flush();
  void handle_notification(const uint8_t* data, size_t size);
  void change_state(transport_state state);

  event_loop& loop_;
  datagram_transport& lower_;
  uint16_t local_port_;
  uint16_t remote_port_;
  callbacks callbacks_;
  uintptr_t id_;
  struct socket* socket_ = nullptr;
  transport_state state_ = transport_state::idle;
  bool event_posted_ = false;
  unsigned retry_timer_ = 0;
  std::deque<outgoing> queue_;
  size_t queued_bytes_ = 0;
  size_t max_receive_size_ = 256 * 1024;
  bool discarding_message_ = false;
  std::vector<uint8_t> partial_message_;
  std::vector<uint8_t> partial_notification_;
};

}  // namespace webrtc
}  // namespace p2p
