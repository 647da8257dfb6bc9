#include "client/webrtc/sctp_transport.h"

#include <arpa/inet.h>
#include <usrsctp.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>

#include "client/webrtc/event_loop.h"

namespace p2p {
namespace webrtc {

namespace {

// usrsctp's clock advances only when we call usrsctp_handle_timers.
constexpr unsigned kTimerTickMs = 10;
constexpr size_t kCommonHeaderBytes = 12;
// After the last transport is gone, how long usrsctp_finish is retried (it refuses while
// associations are still being torn down) before we give up and keep it initialised.
constexpr unsigned kFinishRetryMs = 5000;
constexpr int kBufferSize = 1024 * 1024;
// A blocked stream reset (one may be outstanding at a time) is retried this often.
constexpr unsigned kResetRetryMs = 20;

// Process-wide usrsctp state. Touched only on the loop thread (event_loop::shared()).
class sctp_runtime {
 public:
  static sctp_runtime& instance() {
    static sctp_runtime* runtime = new sctp_runtime();
    return *runtime;
  }

  uintptr_t acquire(event_loop& loop, sctp_transport* transport) {
    if (!initialized_) {
      usrsctp_init_nothreads(0, &sctp_runtime::packet_out, nullptr);
      // RFC 8831 recommends ECN off; browsers run with it off.
      usrsctp_sysctl_set_sctp_ecn_enable(0);
      // DTLS already guarantees integrity: with "offload" usrsctp neither checks the
      // CRC32c of incoming packets nor computes it for outgoing ones; packet_out()
      // fills it in, since the peer's SCTP still checks it.
      usrsctp_enable_crc32c_offload();
      // Give up quickly on a dead peer (defaults are minutes).
      usrsctp_sysctl_set_sctp_init_rtx_max_default(5);
      usrsctp_sysctl_set_sctp_path_rtx_max_default(5);
      usrsctp_sysctl_set_sctp_assoc_rtx_max_default(5);
      usrsctp_sysctl_set_sctp_rto_min_default(200);
      usrsctp_sysctl_set_sctp_rto_initial_default(1000);
      usrsctp_sysctl_set_sctp_rto_max_default(10000);
      usrsctp_sysctl_set_sctp_init_rto_max_default(10000);
      usrsctp_sysctl_set_sctp_delayed_sack_time_default(20);
      usrsctp_sysctl_set_sctp_heartbeat_interval_default(10000);
      // Room for a full send buffer of small messages (default is 512 chunks).
      usrsctp_sysctl_set_sctp_max_chunks_on_queue(10 * 1024);
      // RFC 6928 initial window of 10 packets, bursts bounded to the same (0: unbounded).
      usrsctp_sysctl_set_sctp_initial_cwnd(10);
      usrsctp_sysctl_set_sctp_max_burst_default(10);
      // Plain RFC 4960 congestion control.
      usrsctp_sysctl_set_sctp_default_cc_module(SCTP_CC_RFC2581);
      initialized_ = true;
    }
    // A timer on a loop that has since been destroyed died with it.
    if (timer_ && loop_serial_ != loop.serial()) timer_ = 0;
    if (!timer_) {
      loop_serial_ = loop.serial();
      last_tick_ = std::chrono::steady_clock::now();
      timer_ = loop.add_timer(kTimerTickMs, [this] { return tick(); });
    }
    finishing_ms_ = 0;
    uintptr_t id = next_id_++;
    transports_[id] = transport;
    usrsctp_register_address(reinterpret_cast<void*>(id));
    return id;
  }

  void release(uintptr_t id) {
    usrsctp_deregister_address(reinterpret_cast<void*>(id));
    transports_.erase(id);
  }

  sctp_transport* find(uintptr_t id) {
    auto it = transports_.find(id);
    return it == transports_.end() ? nullptr : it->second;
  }

 private:
  static int packet_out(void* address, void* buffer, size_t length, uint8_t, uint8_t) {
    if (length >= kCommonHeaderBytes) {
      // The checksum field (bytes 8..11) is zero while the CRC is computed over the packet.
      auto* bytes = static_cast<uint8_t*>(buffer);
      uint32_t zero = 0;
      std::memcpy(bytes + 8, &zero, sizeof zero);
      uint32_t checksum = usrsctp_crc32c(buffer, length);
      std::memcpy(bytes + 8, &checksum, sizeof checksum);
    }
    sctp_transport* transport = instance().find(reinterpret_cast<uintptr_t>(address));
    if (transport) transport->on_packet_out(buffer, length);
    return 0;
  }

  bool tick() {
    auto now = std::chrono::steady_clock::now();
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_tick_).count();
    if (elapsed > 0) {
      last_tick_ += std::chrono::milliseconds(elapsed);
      usrsctp_handle_timers(static_cast<uint32_t>(elapsed));
    }
    if (!transports_.empty()) return true;
    finishing_ms_ += kTimerTickMs;
    if (usrsctp_finish() == 0) {
      initialized_ = false;
      timer_ = 0;
      return false;
    }
    if (finishing_ms_ >= kFinishRetryMs) {
      timer_ = 0;
      return false;
    }
    return true;
  }

  bool initialized_ = false;
  uint64_t loop_serial_ = 0;
  unsigned timer_ = 0;
  unsigned finishing_ms_ = 0;
  std::chrono::steady_clock::time_point last_tick_;
  uintptr_t next_id_ = 1;
  std::map<uintptr_t, sctp_transport*> transports_;
};

void socket_upcall(struct socket*, void* arg, int) {
  sctp_transport* transport = sctp_runtime::instance().find(reinterpret_cast<uintptr_t>(arg));
  if (transport) transport->on_socket_event();
}

template <typename T>
bool set_option(struct socket* socket, int level, int name, const T& value) {
  return usrsctp_setsockopt(socket, level, name, &value, sizeof value) == 0;
}

}  // namespace

sctp_transport::sctp_transport(event_loop& loop, datagram_transport& lower, uint16_t local_port,
                               uint16_t remote_port, callbacks callbacks)
    : loop_(loop),
      lower_(lower),
      local_port_(local_port),
      remote_port_(remote_port),
      callbacks_(std::move(callbacks)) {
  id_ = sctp_runtime::instance().acquire(loop_, this);
  lower_.set_receive_handler([this](const uint8_t* data, size_t size) {
    usrsctp_conninput(reinterpret_cast<void*>(id_), data, size, 0);
  });
  lower_.set_state_handler([this](transport_state state) { on_lower_state(state); });
  if (lower_.state() == transport_state::connected) connect();
}

sctp_transport::~sctp_transport() {
  lower_.set_receive_handler(nullptr);
  lower_.set_state_handler(nullptr);
  loop_.cancel_timer(retry_timer_);
  if (socket_) {
    usrsctp_set_upcall(socket_, nullptr, nullptr);
    // SO_LINGER {1, 0}: closing aborts the association at once (the peer sees ABORT).
    usrsctp_close(socket_);
  }
  sctp_runtime::instance().release(id_);
}

void sctp_transport::change_state(transport_state state) {
  if (state_ == state || state_ == transport_state::failed || state_ == transport_state::closed)
    return;
  state_ = state;
  if (callbacks_.on_state) callbacks_.on_state(state);
}

void sctp_transport::on_lower_state(transport_state state) {
  if (state == transport_state::connected)
    connect();
  else if (state == transport_state::failed)
    change_state(transport_state::failed);
  else if (state == transport_state::closed)
    change_state(transport_state::closed);
}

void sctp_transport::configure_socket() {
  usrsctp_set_non_blocking(socket_, 1);
  usrsctp_set_upcall(socket_, socket_upcall, reinterpret_cast<void*>(id_));
  struct linger linger_option = {1, 0};
  set_option(socket_, SOL_SOCKET, SO_LINGER, linger_option);
  set_option(socket_, SOL_SOCKET, SO_RCVBUF, kBufferSize);
  set_option(socket_, SOL_SOCKET, SO_SNDBUF, kBufferSize);
  struct sctp_assoc_value reset = {};
  reset.assoc_id = SCTP_ALL_ASSOC;
  reset.assoc_value = SCTP_ENABLE_RESET_STREAM_REQ;
  set_option(socket_, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, reset);
  set_option(socket_, IPPROTO_SCTP, SCTP_RECVRCVINFO, 1);
  set_option(socket_, IPPROTO_SCTP, SCTP_NODELAY, 1);
  // No interleaving of partially delivered messages (RFC 6458 8.1.20): one message is
  // reassembled at a time, which read_messages() relies on.
  set_option(socket_, IPPROTO_SCTP, SCTP_FRAGMENT_INTERLEAVE, 0);
  for (uint16_t type : {SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT, SCTP_SENDER_DRY_EVENT}) {
    struct sctp_event event = {};
    event.se_assoc_id = SCTP_ALL_ASSOC;
    event.se_on = 1;
    event.se_type = type;
    set_option(socket_, IPPROTO_SCTP, SCTP_EVENT, event);
  }
  struct sctp_initmsg init = {};
  init.sinit_num_ostreams = kMaxStreams;
  init.sinit_max_instreams = kMaxStreams;
  set_option(socket_, IPPROTO_SCTP, SCTP_INITMSG, init);
  // Path MTU discovery cannot work under DTLS; use a size every path carries.
  struct sctp_paddrparams path = {};
  path.spp_flags = SPP_PMTUD_DISABLE;
  path.spp_pathmtu = kPathMtu;
  set_option(socket_, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, path);
}

void sctp_transport::connect() {
  if (socket_ || state_ != transport_state::idle) return;
  change_state(transport_state::connecting);
  socket_ = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, nullptr, nullptr, 0, nullptr);
  if (!socket_) {
    change_state(transport_state::failed);
    return;
  }
  configure_socket();
  struct sockaddr_conn local = {};
  local.sconn_family = AF_CONN;
  local.sconn_port = htons(local_port_);
  local.sconn_addr = reinterpret_cast<void*>(id_);
  if (usrsctp_bind(socket_, reinterpret_cast<struct sockaddr*>(&local), sizeof local) != 0) {
    change_state(transport_state::failed);
    return;
  }
  struct sockaddr_conn remote = local;
  remote.sconn_port = htons(remote_port_);
  if (usrsctp_connect(socket_, reinterpret_cast<struct sockaddr*>(&remote), sizeof remote) != 0 &&
      errno != EINPROGRESS) {
    change_state(transport_state::failed);
  }
}

bool sctp_transport::send(uint16_t stream, uint32_t ppid, const uint8_t* data, size_t size,
                          bool unordered) {
  return send(stream, ppid, std::vector<uint8_t>(data, data + size), unordered);
}

bool sctp_transport::send(uint16_t stream, uint32_t ppid, std::vector<uint8_t> data,
                          bool unordered) {
  if (state_ == transport_state::failed || state_ == transport_state::closed) return false;
  queued_bytes_ += data.size();
  queue_.push_back(outgoing{stream, ppid, unordered, false, std::move(data)});
  flush();
  return true;
}

void sctp_transport::reset_stream(uint16_t stream) {
  if (state_ == transport_state::failed || state_ == transport_state::closed) return;
  queue_.push_back(outgoing{stream, 0, false, true, {}});
  flush();
}

void sctp_transport::flush() {
  if (state_ != transport_state::connected) return;
  while (!queue_.empty()) {
    outgoing& message = queue_.front();
    if (message.reset) {
      size_t length = sizeof(struct sctp_reset_streams) + sizeof(uint16_t);
      std::vector<uint8_t> buffer(length);
      auto* request = reinterpret_cast<struct sctp_reset_streams*>(buffer.data());
      request->srs_assoc_id = SCTP_ALL_ASSOC;
      request->srs_flags = SCTP_STREAM_RESET_OUTGOING;
      request->srs_number_streams = 1;
      request->srs_stream_list[0] = message.stream;
      if (usrsctp_setsockopt(socket_, IPPROTO_SCTP, SCTP_RESET_STREAMS, buffer.data(),
                             static_cast<socklen_t>(length)) != 0 &&
          (errno == EAGAIN || errno == EBUSY || errno == EALREADY || errno == EINPROGRESS)) {
        // Another reset is outstanding: retry shortly, keeping the order.
        if (!retry_timer_) {
          retry_timer_ = loop_.add_timer(kResetRetryMs, [this] {
            retry_timer_ = 0;
            flush();
            return false;
          });
        }
        return;
      }
      queue_.pop_front();
      continue;
    }
    struct sctp_sendv_spa info = {};
    info.sendv_flags = SCTP_SEND_SNDINFO_VALID;
    info.sendv_sndinfo.snd_sid = message.stream;
    info.sendv_sndinfo.snd_ppid = htonl(message.ppid);
    info.sendv_sndinfo.snd_flags = SCTP_EOR | (message.unordered ? SCTP_UNORDERED : 0);
    ssize_t sent = usrsctp_sendv(socket_, message.data.data(), message.data.size(), nullptr, 0,
                                 &info, sizeof info, SCTP_SENDV_SPA, 0);
    if (sent < 0 && (errno == EWOULDBLOCK || errno == EAGAIN)) return;  // wait for space
    // Any other error (e.g. the stream is being reset) drops this message only.
    uint16_t stream = message.stream;
    uint32_t ppid = message.ppid;
    size_t size = message.data.size();
    queued_bytes_ -= size;
    queue_.pop_front();
    if (callbacks_.on_sent) callbacks_.on_sent(stream, ppid, size);
    if (state_ != transport_state::connected) return;
  }
}

void sctp_transport::on_packet_out(const void* data, size_t size) {
  lower_.send(static_cast<const uint8_t*>(data), size);
}

void sctp_transport::on_socket_event() {
  // Called from inside usrsctp (locks held): only schedule the work.
  if (event_posted_) return;
  event_posted_ = true;
  uintptr_t id = id_;
  loop_.post([id] {
    sctp_transport* transport = sctp_runtime::instance().find(id);
    if (!transport) return;
    transport->event_posted_ = false;
    transport->read_messages();
    if (sctp_runtime::instance().find(id) == transport) transport->flush();
  });
}

void sctp_transport::read_messages() {
  uint8_t buffer[65536];
  uintptr_t id = id_;
  for (int reads = 0; reads < 4096 && socket_; ++reads) {
    struct sctp_rcvinfo info = {};
    socklen_t info_length = sizeof info;
    unsigned info_type = 0;
    int flags = 0;
    socklen_t from_length = 0;
    ssize_t size = usrsctp_recvv(socket_, buffer, sizeof buffer, nullptr, &from_length, &info,
                                 &info_length, &info_type, &flags);
    // < 0: EWOULDBLOCK, or not connected yet. 0 is not the end of the association (that
    // comes as SCTP_ASSOC_CHANGE): usrsctp also returns it around stream resets.
    if (size <= 0) return;
    if (flags & MSG_NOTIFICATION) {
      partial_notification_.insert(partial_notification_.end(), buffer, buffer + size);
      if (flags & MSG_EOR) {
        std::vector<uint8_t> notification;
        notification.swap(partial_notification_);
        handle_notification(notification.data(), notification.size());
      }
    } else {
      if (partial_message_.size() + static_cast<size_t>(size) > max_receive_size_) {
        discarding_message_ = true;
        partial_message_.clear();
      }
      if (!discarding_message_)
        partial_message_.insert(partial_message_.end(), buffer, buffer + size);
      if ((flags & MSG_EOR) && discarding_message_) {
        discarding_message_ = false;
      } else if (flags & MSG_EOR) {
        std::vector<uint8_t> message;
        message.swap(partial_message_);
        if (info_type == SCTP_RECVV_RCVINFO && callbacks_.on_message)
          callbacks_.on_message(info.rcv_sid, ntohl(info.rcv_ppid), message.data(), message.size());
      }
    }
    // A callback may have destroyed us (peer connection closed from inside it).
    if (sctp_runtime::instance().find(id) != this) return;
  }
  // Still more to read: continue in a later turn of the loop so others get to run.
  on_socket_event();
}

void sctp_transport::handle_notification(const uint8_t* data, size_t size) {
  if (size < 8) return;  // type, flags, length
  const auto* notification = reinterpret_cast<const union sctp_notification*>(data);
  switch (notification->sn_header.sn_type) {
    case SCTP_ASSOC_CHANGE: {
      if (size < sizeof(struct sctp_assoc_change)) return;
      uint16_t state = notification->sn_assoc_change.sac_state;
      if (state == SCTP_COMM_UP) {
        change_state(transport_state::connected);
        flush();
      } else if (state == SCTP_COMM_LOST || state == SCTP_SHUTDOWN_COMP) {
        change_state(transport_state::closed);
      } else if (state == SCTP_CANT_STR_ASSOC) {
        change_state(transport_state::failed);
      }
      break;
    }
    case SCTP_STREAM_RESET_EVENT: {
      const struct sctp_stream_reset_event& event = notification->sn_strreset_event;
      if (size < sizeof event) return;
      if (event.strreset_flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED)) return;
      size_t count = (event.strreset_length - sizeof event) / sizeof(uint16_t);
      if (sizeof event + count * sizeof(uint16_t) > size) return;
      std::vector<uint16_t> streams(event.strreset_stream_list, event.strreset_stream_list + count);
      bool incoming = (event.strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN) != 0;
      for (uint16_t stream : streams)
        if (callbacks_.on_stream_reset) callbacks_.on_stream_reset(stream, incoming);
      break;
    }
    case SCTP_SENDER_DRY_EVENT:
      flush();
      break;
    default:
      break;
  }
}

}  // namespace webrtc
}  // namespace p2p
