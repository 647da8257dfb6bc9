#include "client/webrtc/peer_connection.h"

#include <netdb.h>
#include <openssl/rand.h>
#include <sys/socket.h>

#include <cstring>

#include "client/webrtc/dtls_transport.h"
#include "client/webrtc/event_loop.h"
#include "client/webrtc/ice_transport.h"
#include "client/webrtc/sctp_transport.h"

namespace p2p {
namespace webrtc {

namespace {

// DCEP message types (RFC 8832).
constexpr uint8_t kDcepOpen = 0x03;
constexpr uint8_t kDcepAck = 0x02;
constexpr uint8_t kChannelReliable = 0x00;
constexpr size_t kDcepOpenHeader = 12;

// The layers, destroyed top-down: SCTP aborts its association through a still-working
// DTLS, DTLS closes before ICE goes.
struct transport_stack {
  std::unique_ptr<ice_transport> ice;
  std::unique_ptr<dtls_transport> dtls;
  std::unique_ptr<sctp_transport> sctp;

  ~transport_stack() {
    sctp.reset();             // sends ABORT through DTLS
    if (dtls) dtls->close();  // close_notify
    dtls.reset();
    ice.reset();
  }
};

// Loop thread only. The layers may be on the stack below us (we can be inside one of
// their callbacks), so they go in a later turn of the loop.
void dispose_transports(const std::shared_ptr<event_loop>& loop, std::unique_ptr<ice_transport> ice,
                        std::unique_ptr<dtls_transport> dtls,
                        std::unique_ptr<sctp_transport> sctp) {
  if (!ice && !dtls && !sctp) return;
  auto stack = std::make_shared<transport_stack>();
  stack->ice = std::move(ice);
  stack->dtls = std::move(dtls);
  stack->sctp = std::move(sctp);
  // The task holds the loop too: the layers use it while they go, and this may be the
  // last reference (the connection was dropped inside a callback).
  loop->post([stack, loop]() mutable { stack.reset(); });
}

bool resolve_stun(const std::string& server, std::string* ip, uint16_t* port) {
  std::string rest = server.compare(0, 5, "stun:") == 0 ? server.substr(5) : server;
  std::string host = rest;
  std::string port_text = "3478";
  size_t colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find(':') == colon) {
    host = rest.substr(0, colon);
    port_text = rest.substr(colon + 1);
  }
  struct addrinfo hints = {};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  struct addrinfo* result = nullptr;
  if (getaddrinfo(host.c_str(), port_text.c_str(), &hints, &result) != 0 || !result) return false;
  char text[NI_MAXHOST];
  char service[NI_MAXSERV];
  bool ok = getnameinfo(result->ai_addr, result->ai_addrlen, text, sizeof text, service,
                        sizeof service, NI_NUMERICHOST | NI_NUMERICSERV) == 0;
  freeaddrinfo(result);
  if (!ok) return false;
  *ip = text;
  *port = static_cast<uint16_t>(std::atoi(service));
  return true;
}

}  // namespace

const char* peer_state_name(peer_state state) {
  switch (state) {
    case peer_state::created:
      return "created";
    case peer_state::connecting:
      return "connecting";
    case peer_state::connected:
      return "connected";
    case peer_state::failed:
      return "failed";
    case peer_state::closed:
      return "closed";
  }
  return "unknown";
}

// ---- data_channel ----

data_channel::data_channel(std::weak_ptr<peer_connection> owner, std::shared_ptr<event_loop> loop,
                           std::string label, std::string protocol)
    : owner_(std::move(owner)),
      loop_(std::move(loop)),
      label_(std::move(label)),
      protocol_(std::move(protocol)) {}

bool data_channel::send(const uint8_t* data, size_t size) {
  return send_message(data, size, false);
}

bool data_channel::send_text(const std::string& text) {
  return send_message(reinterpret_cast<const uint8_t*>(text.data()), text.size(), true);
}

bool data_channel::send_message(const uint8_t* data, size_t size, bool text) {
  if (state_ != channel_state::open || size > max_message_size_) return false;
  std::shared_ptr<peer_connection> owner = owner_.lock();
  if (!owner) return false;
  uint32_t ppid =
      text ? (size ? kPpidString : kPpidStringEmpty) : (size ? kPpidBinary : kPpidBinaryEmpty);
  // Empty messages travel as one zero byte with the "empty" PPID (RFC 8831 6.6).
  std::vector<uint8_t> payload =
      size ? std::vector<uint8_t>(data, data + size) : std::vector<uint8_t>(1, 0);
  buffered_amount_ += size;
  uint16_t stream = static_cast<uint16_t>(stream_id_.load());
  std::weak_ptr<peer_connection> weak = owner;
  std::shared_ptr<data_channel> self = shared_from_this();
  auto shared_payload = std::make_shared<std::vector<uint8_t>>(std::move(payload));
  loop_->post([weak, self, stream, ppid, shared_payload, size] {
    std::shared_ptr<peer_connection> connection = weak.lock();
    if (connection && self->state_ == channel_state::open)
      connection->send_on_stream(stream, ppid, std::move(*shared_payload));
    else
      self->sent(size);
  });
  return true;
}

void data_channel::close() {
  std::shared_ptr<data_channel> self = shared_from_this();
  loop_->post([self] {
    std::shared_ptr<peer_connection> owner = self->owner_.lock();
    if (owner)
      owner->close_channel(self);
    else
      self->set_closed();
  });
}

void data_channel::on_open(std::function<void()> handler) {
  std::lock_guard<std::mutex> lock(handlers_mutex_);
  on_open_ = std::move(handler);
}

void data_channel::on_closed(std::function<void()> handler) {
  std::lock_guard<std::mutex> lock(handlers_mutex_);
  on_closed_ = std::move(handler);
}

void data_channel::on_message(message_handler handler) {
  std::lock_guard<std::mutex> lock(handlers_mutex_);
  on_message_ = std::move(handler);
}

void data_channel::on_buffered_amount_low(std::function<void()> handler) {
  std::lock_guard<std::mutex> lock(handlers_mutex_);
  on_buffered_amount_low_ = std::move(handler);
}

void data_channel::set_open() {
  if (state_ != channel_state::connecting) return;
  state_ = channel_state::open;
  std::function<void()> handler;
  {
    std::lock_guard<std::mutex> lock(handlers_mutex_);
    handler = on_open_;
  }
  if (handler) handler();
}

void data_channel::set_closed() {
  if (state_ == channel_state::closed) return;
  state_ = channel_state::closed;
  std::function<void()> handler;
  {
    std::lock_guard<std::mutex> lock(handlers_mutex_);
    handler = on_closed_;
  }
  if (handler) handler();
}

void data_channel::deliver(const uint8_t* data, size_t size, bool text) {
  message_handler handler;
  {
    std::lock_guard<std::mutex> lock(handlers_mutex_);
    handler = on_message_;
  }
  if (handler) handler(data, size, text);
}

void data_channel::sent(size_t size) {
  size_t before = buffered_amount_.fetch_sub(size);
  size_t after = before - size;
  size_t threshold = low_threshold_;
  if (before > threshold && after <= threshold && state_ != channel_state::closed) {
    std::function<void()> handler;
    {
      std::lock_guard<std::mutex> lock(handlers_mutex_);
      handler = on_buffered_amount_low_;
    }
    if (handler) handler();
  }
}

// ---- peer_connection ----

std::shared_ptr<peer_connection> peer_connection::create(const peer_configuration& configuration) {
  std::shared_ptr<peer_connection> connection(new peer_connection(configuration));
  if (!connection->certificate_) return nullptr;
  return connection;
}

peer_connection::peer_connection(const peer_configuration& configuration)
    : loop_(event_loop::shared()), configuration_(configuration) {
  for (const std::string& server : configuration_.stun_servers)
    if (resolve_stun(server, &stun_ip_, &stun_port_)) break;
  RAND_bytes(reinterpret_cast<unsigned char*>(&session_id_), sizeof session_id_);
  session_id_ &= 0x3fffffffffffffffull;  // SDP wants a positive 63-bit number
  loop_->run_sync([this] { certificate_ = dtls_certificate::generate(); });
}

peer_connection::~peer_connection() {
  // No user callback runs from here on: layer callbacks and posted tasks hold weak
  // references, which have expired, and no loop task can still be using this object.
  for (auto& pending : pending_channels_) pending->state_ = channel_state::closed;
  for (auto& entry : channels_) entry.second->state_ = channel_state::closed;
  std::shared_ptr<event_loop> loop = loop_;
  loop->run_sync([&] {
    loop->cancel_timer(connect_timer_);
    dispose_transports(loop, std::move(ice_), std::move(dtls_), std::move(sctp_));
  });
}

void peer_connection::on_local_candidate(std::function<void(const std::string&)> handler) {
  loop_->run_sync([&] { on_local_candidate_ = std::move(handler); });
}

void peer_connection::on_local_description(std::function<void(const std::string&)> handler) {
  loop_->run_sync([&] { on_local_description_ = std::move(handler); });
}

void peer_connection::on_state(std::function<void(peer_state)> handler) {
  loop_->run_sync([&] { on_state_ = std::move(handler); });
}

void peer_connection::on_data_channel(std::function<void(std::shared_ptr<data_channel>)> handler) {
  loop_->run_sync([&] { on_data_channel_ = std::move(handler); });
}

std::string peer_connection::create_offer() {
  std::string sdp;
  loop_->run_sync([&] {
    if (ice_ || state_ != peer_state::created) return;
    // ICE needs to exist before the answer arrives (our credentials are in the offer).
    ice_config ice;
    ice.local_addresses = configuration_.local_addresses;
    ice.stun_server_ip = stun_ip_;
    ice.stun_server_port = stun_port_;
    ice_ = std::make_unique<ice_transport>(*loop_, ice, true);
    std::weak_ptr<peer_connection> weak = weak_from_this();
    ice_->set_candidate_handler([weak](const std::string& candidate) {
      if (auto self = weak.lock())
        if (self->on_local_candidate_) self->on_local_candidate_(candidate);
    });
    session_description local;
    local.ice_ufrag = ice_->local_ufrag();
    local.ice_password = ice_->local_password();
    local.fingerprint = certificate_->fingerprint();
    local.setup = "actpass";
    local.sctp_port = configuration_.sctp_port;
    local.max_message_size = configuration_.max_message_size;
    sdp = write_sdp(local, session_id_);
    if (on_local_description_) on_local_description_(sdp);
    set_state(peer_state::connecting);
    // Gather after returning, so the offer is usually on its way before candidates.
    loop_->post([weak] {
      if (auto self = weak.lock())
        if (self->ice_) self->ice_->gather();
    });
    connect_timer_ = loop_->add_timer(configuration_.connect_timeout_ms, [weak] {
      if (auto self = weak.lock()) {
        self->connect_timer_ = 0;
        if (self->state_ == peer_state::connecting) self->fail("connection timed out");
      }
      return false;
    });
  });
  return sdp;
}

std::string peer_connection::create_answer(const std::string& offer, std::string* error) {
  std::string sdp;
  std::string reason;
  loop_->run_sync([&] {
    if (ice_ || state_ != peer_state::created) {
      reason = "offer already handled";
      return;
    }
    session_description remote;
    if (!parse_sdp(offer, &remote, &reason)) return;
    // We take the DTLS client role unless the offerer insists on it (a=setup:active).
    dtls_client_ = remote.setup != "active";
    ice_config ice;
    ice.local_addresses = configuration_.local_addresses;
    ice.stun_server_ip = stun_ip_;
    ice.stun_server_port = stun_port_;
    ice_ = std::make_unique<ice_transport>(*loop_, ice, false);
    std::weak_ptr<peer_connection> weak = weak_from_this();
    ice_->set_candidate_handler([weak](const std::string& candidate) {
      if (auto self = weak.lock())
        if (self->on_local_candidate_) self->on_local_candidate_(candidate);
    });
    session_description local;
    local.ice_ufrag = ice_->local_ufrag();
    local.ice_password = ice_->local_password();
    local.fingerprint = certificate_->fingerprint();
    local.setup = dtls_client_ ? "active" : "passive";
    local.mid = remote.mid;
    local.sctp_port = configuration_.sctp_port;
    local.max_message_size = configuration_.max_message_size;
    sdp = write_sdp(local, session_id_);
    if (on_local_description_) on_local_description_(sdp);
    set_state(peer_state::connecting);
    start_transports(false, remote);
    loop_->post([weak] {
      if (auto self = weak.lock())
        if (self->ice_) self->ice_->gather();
    });
    connect_timer_ = loop_->add_timer(configuration_.connect_timeout_ms, [weak] {
      if (auto self = weak.lock()) {
        self->connect_timer_ = 0;
        if (self->state_ == peer_state::connecting) self->fail("connection timed out");
      }
      return false;
    });
  });
  if (error) *error = reason;
  return sdp;
}

bool peer_connection::set_remote_answer(const std::string& answer, std::string* error) {
  bool ok = false;
  std::string reason;
  loop_->run_sync([&] {
    if (!ice_ || remote_known_ || state_ != peer_state::connecting) {
      reason = "no offer outstanding";
      return;
    }
    session_description remote;
    if (!parse_sdp(answer, &remote, &reason)) return;
    if (remote.setup == "active") {
      dtls_client_ = false;
    } else if (remote.setup == "passive") {
      dtls_client_ = true;
    } else {
      reason = "answer must say a=setup:active or passive";
      return;
    }
    start_transports(true, remote);
    ok = true;
  });
  if (error) *error = reason;
  return ok;
}

void peer_connection::start_transports(bool, const session_description& remote) {
  remote_known_ = true;
  remote_sctp_port_ = remote.sctp_port;
  remote_max_message_size_ =
      remote.max_message_size ? remote.max_message_size : kDefaultRemoteMaxMessageSize;
  ice_->set_remote_credentials(remote.ice_ufrag, remote.ice_password);
  dtls_ = std::make_unique<dtls_transport>(*loop_, *ice_, certificate_, dtls_client_,
                                           remote.fingerprint);
  std::weak_ptr<peer_connection> weak = weak_from_this();
  sctp_transport::callbacks callbacks;
  callbacks.on_state = [weak](transport_state state) {
    if (auto self = weak.lock()) self->on_sctp_state(static_cast<int>(state));
  };
  callbacks.on_message = [weak](uint16_t stream, uint32_t ppid, const uint8_t* data, size_t size) {
    if (auto self = weak.lock()) self->on_sctp_message(stream, ppid, data, size);
  };
  callbacks.on_stream_reset = [weak](uint16_t stream, bool incoming) {
    if (auto self = weak.lock()) self->on_stream_reset(stream, incoming);
  };
  callbacks.on_sent = [weak](uint16_t stream, uint32_t ppid, size_t size) {
    if (auto self = weak.lock()) self->on_sctp_sent(stream, ppid, size);
  };
  sctp_ = std::make_unique<sctp_transport>(*loop_, *dtls_, configuration_.sctp_port,
                                           remote.sctp_port, std::move(callbacks));
  sctp_->set_max_receive_size(configuration_.max_message_size);
  for (const std::string& candidate : remote.candidates) ice_->add_remote_candidate(candidate);
  for (const std::string& candidate : early_candidates_) ice_->add_remote_candidate(candidate);
  early_candidates_.clear();
  if (remote.end_of_candidates || early_end_of_candidates_) ice_->add_remote_candidate("");
}

void peer_connection::add_remote_candidate(const std::string& candidate) {
  loop_->post([weak = weak_from_this(), candidate] {
    auto self = weak.lock();
    if (!self || self->state_ == peer_state::closed || self->state_ == peer_state::failed) return;
    if (!self->remote_known_) {
      if (candidate.empty())
        self->early_end_of_candidates_ = true;
      else if (self->early_candidates_.size() < 256)
        self->early_candidates_.push_back(candidate);
      return;
    }
    self->ice_->add_remote_candidate(candidate);
  });
}

std::shared_ptr<data_channel> peer_connection::create_data_channel(const std::string& label,
                                                                   const std::string& protocol) {
  std::shared_ptr<data_channel> channel(new data_channel(weak_from_this(), loop_, label, protocol));
  channel->max_message_size_ =
      std::min<size_t>(configuration_.max_message_size, remote_max_message_size_);
  loop_->post([weak = weak_from_this(), channel] {
    auto self = weak.lock();
    if (!self || self->state_ == peer_state::closed || self->state_ == peer_state::failed) {
      channel->set_closed();
      return;
    }
    self->pending_channels_.push_back(channel);
    if (self->state_ == peer_state::connected) self->open_pending_channels();
  });
  return channel;
}

void peer_connection::open_pending_channels() {
  std::vector<std::shared_ptr<data_channel>> pending;
  pending.swap(pending_channels_);
  for (auto& channel : pending) {
    if (channel->state_ != channel_state::connecting) continue;
    send_open_request(channel);
  }
}

void peer_connection::send_open_request(const std::shared_ptr<data_channel>& channel) {
  // RFC 8832: the DTLS client uses even stream ids, the server odd ones.
  int stream = -1;
  for (int id = dtls_client_ ? 0 : 1; id < sctp_transport::kMaxStreams; id += 2) {
    if (!channels_.count(static_cast<uint16_t>(id))) {
      stream = id;
      break;
    }
  }
  if (stream < 0) {
    channel->set_closed();
    return;
  }
  channel->stream_id_ = stream;
  channel->max_message_size_ =
      std::min<size_t>(configuration_.max_message_size, remote_max_message_size_);
  channels_[static_cast<uint16_t>(stream)] = channel;
  const std::string& label = channel->label_;
  const std::string& protocol = channel->protocol_;
  std::vector<uint8_t> open(kDcepOpenHeader + label.size() + protocol.size());
  open[0] = kDcepOpen;
  open[1] = kChannelReliable;
  // priority (2 bytes) and reliability parameter (4 bytes) stay 0
  open[8] = static_cast<uint8_t>(label.size() >> 8);
  open[9] = static_cast<uint8_t>(label.size());
  open[10] = static_cast<uint8_t>(protocol.size() >> 8);
  open[11] = static_cast<uint8_t>(protocol.size());
  std::memcpy(open.data() + kDcepOpenHeader, label.data(), label.size());
  std::memcpy(open.data() + kDcepOpenHeader + label.size(), protocol.data(), protocol.size());
  sctp_->send(static_cast<uint16_t>(stream), kPpidControl, open.data(), open.size(), false);
}

void peer_connection::send_on_stream(uint16_t stream, uint32_t ppid, std::vector<uint8_t> data) {
  size_t size = ppid == kPpidStringEmpty || ppid == kPpidBinaryEmpty ? 0 : data.size();
  if (!sctp_ || !sctp_->send(stream, ppid, std::move(data), false)) {
    auto it = channels_.find(stream);
    if (it != channels_.end()) it->second->sent(size);
  }
}

void peer_connection::close_channel(const std::shared_ptr<data_channel>& channel) {
  if (channel->state_ == channel_state::closed || channel->state_ == channel_state::closing) return;
  int stream = channel->stream_id_;
  auto it = stream >= 0 ? channels_.find(static_cast<uint16_t>(stream)) : channels_.end();
  if (it == channels_.end() || !sctp_ || sctp_->state() != transport_state::connected) {
    if (it != channels_.end()) channels_.erase(it);
    channel->set_closed();
    return;
  }
  channel->state_ = channel_state::closing;
  sctp_->reset_stream(static_cast<uint16_t>(stream));
}

void peer_connection::on_sctp_state(int value) {
  auto state = static_cast<transport_state>(value);
  if (state == transport_state::connected) {
    loop_->cancel_timer(connect_timer_);
    connect_timer_ = 0;
    {
      std::lock_guard<std::mutex> lock(text_mutex_);
      if (ice_) selected_pair_ = ice_->selected_pair();
    }
    set_state(peer_state::connected);
    open_pending_channels();
  } else if (state == transport_state::failed) {
    fail(dtls_ && !dtls_->error().empty() ? dtls_->error() : "transport failed");
  } else if (state == transport_state::closed) {
    close_on_loop();
  }
}

void peer_connection::on_sctp_message(uint16_t stream, uint32_t ppid, const uint8_t* data,
                                      size_t size) {
  auto it = channels_.find(stream);
  if (ppid == kPpidControl) {
    if (size == 0) return;
    if (data[0] == kDcepAck) {
      if (it != channels_.end()) it->second->set_open();
      return;
    }
    if (data[0] != kDcepOpen || size < kDcepOpenHeader || it != channels_.end()) return;
    size_t label_size = (static_cast<size_t>(data[8]) << 8) | data[9];
    size_t protocol_size = (static_cast<size_t>(data[10]) << 8) | data[11];
    if (kDcepOpenHeader + label_size + protocol_size > size) return;
    std::string label(reinterpret_cast<const char*>(data) + kDcepOpenHeader, label_size);
    std::string protocol(reinterpret_cast<const char*>(data) + kDcepOpenHeader + label_size,
                         protocol_size);
    std::shared_ptr<data_channel> channel(
        new data_channel(weak_from_this(), loop_, label, protocol));
    channel->stream_id_ = stream;
    channel->max_message_size_ =
        std::min<size_t>(configuration_.max_message_size, remote_max_message_size_);
    channel->state_ = channel_state::open;
    channels_[stream] = channel;
    uint8_t ack = kDcepAck;
    sctp_->send(stream, kPpidControl, &ack, 1, false);
    if (on_data_channel_) on_data_channel_(channel);
    return;
  }
  if (it == channels_.end()) return;
  std::shared_ptr<data_channel> channel = it->second;
  // RFC 8832 6: data on a channel still waiting for its ACK means the peer opened it.
  if (channel->state_ == channel_state::connecting) channel->set_open();
  switch (ppid) {
    case kPpidString:
      channel->deliver(data, size, true);
      break;
    case kPpidBinary:
      channel->deliver(data, size, false);
      break;
    case kPpidStringEmpty:
      channel->deliver(data, 0, true);
      break;
    case kPpidBinaryEmpty:
      channel->deliver(data, 0, false);
      break;
    default:
      break;  // deprecated partial-message PPIDs are not supported
  }
}

void peer_connection::on_stream_reset(uint16_t stream, bool incoming) {
  auto it = channels_.find(stream);
  if (it == channels_.end()) return;
  std::shared_ptr<data_channel> channel = it->second;
  // The peer closed: close our direction too (RFC 8831 6.7).
  if (incoming && channel->state_ != channel_state::closing && sctp_) sctp_->reset_stream(stream);
  channels_.erase(it);
  channel->set_closed();
}

void peer_connection::on_sctp_sent(uint16_t stream, uint32_t ppid, size_t size) {
  if (ppid == kPpidControl) return;
  auto it = channels_.find(stream);
  if (it == channels_.end()) return;
  it->second->sent(ppid == kPpidStringEmpty || ppid == kPpidBinaryEmpty ? 0 : size);
}

void peer_connection::set_state(peer_state state) {
  peer_state old = state_;
  if (old == state || old == peer_state::closed || old == peer_state::failed) return;
  state_ = state;
  if (on_state_) on_state_(state);
}

void peer_connection::fail(const std::string& reason) {
  if (state_ == peer_state::closed || state_ == peer_state::failed) return;
  {
    std::lock_guard<std::mutex> lock(text_mutex_);
    error_ = reason;
  }
  // State first: channel close callbacks that follow then see why.
  set_state(peer_state::failed);
  tear_down();
}

void peer_connection::close_on_loop() {
  if (state_ == peer_state::closed || state_ == peer_state::failed) return;
  set_state(peer_state::closed);
  tear_down();
}

void peer_connection::tear_down() {
  loop_->cancel_timer(connect_timer_);
  connect_timer_ = 0;
  std::map<uint16_t, std::shared_ptr<data_channel>> channels;
  channels.swap(channels_);
  std::vector<std::shared_ptr<data_channel>> pending;
  pending.swap(pending_channels_);
  dispose_transports(loop_, std::move(ice_), std::move(dtls_), std::move(sctp_));
  for (auto& entry : channels) entry.second->set_closed();
  for (auto& channel : pending) channel->set_closed();
}

void peer_connection::close() {
  loop_->run_sync([&] { close_on_loop(); });
}

std::string peer_connection::error() const {
  std::lock_guard<std::mutex> lock(text_mutex_);
  return error_;
}

std::string peer_connection::selected_pair() const {
  std::lock_guard<std::mutex> lock(text_mutex_);
  return selected_pair_;
}

}  // namespace webrtc
}  // namespace p2p
