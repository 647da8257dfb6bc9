#include "client/webrtc/webrtc_transport.h"

#include <jansson.h>
#include <openssl/rand.h>

#include <chrono>

#include "client/webrtc/peer_connection.h"

namespace p2p {
namespace webrtc {

namespace {

// The library needs at least this much per message (peer_transport.h).
constexpr size_t kMinMessageSize = 16384;

std::string random_session() {
  unsigned char bytes[12];
  RAND_bytes(bytes, sizeof bytes);
  static const char kHex[] = "0123456789abcdef";
  std::string text;
  for (unsigned char byte : bytes) {
    text += kHex[byte >> 4];
    text += kHex[byte & 15];
  }
  return text;
}

std::string to_json(json_t* object) {
  char* text = json_dumps(object, JSON_COMPACT);
  std::string result = text ? text : "";
  free(text);
  json_decref(object);
  return result;
}

std::string string_field(json_t* object, const char* name) {
  const char* value = json_string_value(json_object_get(object, name));
  return value ? value : "";
}

}  // namespace

// One connection: lives on the process() thread; the WebRTC objects it owns report on
// the loop thread, and every such report is re-posted to the transport's queue.
class webrtc_connection : public p2p::peer_connection,
                          public std::enable_shared_from_this<webrtc_connection> {
 public:
  webrtc_connection(webrtc_transport& transport, std::string remote_peer_id, std::string session,
                    bool offerer)
      : transport_(transport),
        alive_(transport.alive_),
        remote_peer_id_(std::move(remote_peer_id)),
        session_(std::move(session)),
        offerer_(offerer) {}

  ~webrtc_connection() override {
    if (*alive_) transport_.forget({remote_peer_id_, session_}, this);
    if (channel_) {
      channel_->on_open(nullptr);
      channel_->on_closed(nullptr);
      channel_->on_message(nullptr);
      channel_->on_buffered_amount_low(nullptr);
    }
    // Destroying the WebRTC connection aborts the association; say bye so the peer
    // does not wait for its timeout when it is still negotiating.
    if (*alive_ && state_ == peer_connection_state::connecting) send_bye("closed");
  }

  // Starts the WebRTC side; false when no certificate could be made.
  bool start(const webrtc_transport_config& config) {
    peer_configuration configuration;
    configuration.stun_servers = config.stun_servers;
    configuration.local_addresses = config.local_addresses;
    configuration.max_message_size = config.max_message_size;
    configuration.connect_timeout_ms = config.connect_timeout_ms;
    connection_ = webrtc::peer_connection::create(configuration);
    if (!connection_) return false;
    // Runs `task` on the process() thread if this connection still exists then.
    auto later = make_later();
    connection_->on_local_description([later](const std::string& sdp) {
      later([sdp](webrtc_connection& self) { self.send_description(sdp); });
    });
    connection_->on_local_candidate([later](const std::string& candidate) {
      if (candidate.empty()) return;  // end of candidates is not relayed (README.md)
      later([candidate](webrtc_connection& self) { self.send_candidate(candidate); });
    });
    connection_->on_state([later](peer_state state) {
      later([state](webrtc_connection& self) { self.on_webrtc_state(state); });
    });
    connection_->on_data_channel([later](std::shared_ptr<data_channel> channel) {
      later([channel](webrtc_connection& self) {
        if (!self.channel_) self.attach(channel);
        self.on_channel_open();
      });
    });
    if (offerer_) {
      attach(connection_->create_data_channel("p2p"));
      connection_->create_offer();
    }
    return true;
  }

  bool answer(const std::string& offer) {
    std::string error;
    return !connection_->create_answer(offer, &error).empty();
  }

  void on_answer(const std::string& sdp) {
    if (!offerer_ || !connection_->set_remote_answer(sdp)) fail();
  }

  void on_candidate(const std::string& candidate) { connection_->add_remote_candidate(candidate); }

  void on_bye() { finish(peer_connection_state::closed); }

  const std::string& remote_peer_id() const override { return remote_peer_id_; }
  peer_connection_state state() const override { return state_; }
  void set_callbacks(peer_connection_callbacks callbacks) override {
    callbacks_ = std::move(callbacks);
  }
  size_t max_message_size() const override {
    return channel_ ? channel_->max_message_size() : kMinMessageSize;
  }

  bool send(const uint8_t* data, size_t size) override {
    if (state_ != peer_connection_state::open || size == 0 || size > max_message_size())
      return false;
    return channel_->send(data, size);
  }

  size_t buffered_amount() const override { return channel_ ? channel_->buffered_amount() : 0; }

  void set_buffered_amount_low_threshold(size_t bytes) override {
    threshold_ = bytes;
    if (channel_) channel_->set_buffered_amount_low_threshold(bytes);
  }

  void close() override {
    if (state_ == peer_connection_state::closed || state_ == peer_connection_state::failed) return;
    if (state_ == peer_connection_state::connecting) send_bye("closed");
    if (channel_) channel_->close();
    if (connection_) connection_->close();
    finish(peer_connection_state::closed);
  }

 private:
  std::function<void(std::function<void(webrtc_connection&)>)> make_later() {
    std::weak_ptr<webrtc_connection> weak = shared_from_this();
    std::shared_ptr<webrtc_transport::task_queue> queue = transport_.queue_;
    return [weak, queue](std::function<void(webrtc_connection&)> task) {
      queue->post([weak, task] {
        if (auto self = weak.lock()) task(*self);
      });
    };
  }

  void attach(std::shared_ptr<data_channel> channel) {
    channel_ = std::move(channel);
    channel_->set_buffered_amount_low_threshold(threshold_);
    auto later = make_later();
    channel_->on_open([later] { later([](webrtc_connection& self) { self.on_channel_open(); }); });
    channel_->on_closed([later] {
      later([](webrtc_connection& self) {
        self.finish(self.state_ == peer_connection_state::connecting
                        ? peer_connection_state::failed
                        : peer_connection_state::closed);
      });
    });
    channel_->on_message([later](const uint8_t* data, size_t size, bool) {
      auto message = std::make_shared<std::vector<uint8_t>>(data, data + size);
      later([message](webrtc_connection& self) { self.deliver(*message); });
    });
    channel_->on_buffered_amount_low([later] {
      later([](webrtc_connection& self) {
        if (self.state_ == peer_connection_state::open && self.callbacks_.on_buffered_amount_low)
          self.callbacks_.on_buffered_amount_low();
      });
    });
  }

  void on_channel_open() {
    if (state_ != peer_connection_state::connecting) return;
    state_ = peer_connection_state::open;
    if (callbacks_.on_state) callbacks_.on_state(state_);
  }

  void on_webrtc_state(peer_state state) {
    if (state == peer_state::failed)
      finish(state_ == peer_connection_state::open ? peer_connection_state::closed
                                                   : peer_connection_state::failed);
    else if (state == peer_state::closed)
      finish(peer_connection_state::closed);
  }

  void deliver(const std::vector<uint8_t>& message) {
    if (state_ == peer_connection_state::open && callbacks_.on_message)
      callbacks_.on_message(message.data(), message.size());
  }

  void fail() {
    if (connection_) connection_->close();
    finish(peer_connection_state::failed);
  }

  void finish(peer_connection_state final_state) {
    if (state_ == peer_connection_state::closed || state_ == peer_connection_state::failed) return;
    state_ = final_state;
    if (callbacks_.on_state) callbacks_.on_state(state_);
  }

  void send_description(const std::string& sdp) {
    json_t* message = json_object();
    json_object_set_new(message, "type", json_string(offerer_ ? "offer" : "answer"));
    json_object_set_new(message, "sdp", json_string(sdp.c_str()));
    json_object_set_new(message, "session", json_string(session_.c_str()));
    transport_.send_signal(remote_peer_id_, to_json(message));
  }

  void send_candidate(const std::string& candidate) {
    if (state_ != peer_connection_state::connecting) return;
    json_t* message = json_object();
    json_object_set_new(message, "type", json_string("candidate"));
    json_object_set_new(message, "candidate", json_string(candidate.c_str()));
    json_object_set_new(message, "sdp_mid", json_string("0"));
    json_object_set_new(message, "sdp_mline_index", json_integer(0));
    json_object_set_new(message, "session", json_string(session_.c_str()));
    transport_.send_signal(remote_peer_id_, to_json(message));
  }

  void send_bye(const char* reason) {
    json_t* message = json_object();
    json_object_set_new(message, "type", json_string("bye"));
    json_object_set_new(message, "reason", json_string(reason));
    json_object_set_new(message, "session", json_string(session_.c_str()));
    transport_.send_signal(remote_peer_id_, to_json(message));
  }

  webrtc_transport& transport_;
  std::shared_ptr<bool> alive_;
  const std::string remote_peer_id_;
  const std::string session_;
  const bool offerer_;
  peer_connection_state state_ = peer_connection_state::connecting;
  peer_connection_callbacks callbacks_;
  size_t threshold_ = 0;
  std::shared_ptr<webrtc::peer_connection> connection_;
  std::shared_ptr<data_channel> channel_;
};

webrtc_transport::webrtc_transport(signalling_sink& sink, webrtc_transport_config config)
    : sink_(sink),
      config_(std::move(config)),
      alive_(std::make_shared<bool>(true)),
      queue_(std::make_shared<task_queue>()) {
  if (config_.max_message_size < kMinMessageSize) config_.max_message_size = kMinMessageSize;
}

webrtc_transport::~webrtc_transport() {
  *alive_ = false;
  std::deque<std::function<void()>> tasks;
  std::lock_guard<std::mutex> lock(queue_->mutex);
  tasks.swap(queue_->tasks);
}

std::shared_ptr<p2p::peer_connection> webrtc_transport::connect(
    const std::string& remote_peer_id, peer_connection_callbacks callbacks) {
  std::string session = random_session();
  auto connection = std::make_shared<webrtc_connection>(*this, remote_peer_id, session, true);
  connection->set_callbacks(std::move(callbacks));
  connections_[{remote_peer_id, session}] = connection;
  if (!connection->start(config_)) {
    std::weak_ptr<webrtc_connection> weak = connection;
    queue_->post([weak] {
      if (auto self = weak.lock()) self->close();
    });
  }
  return connection;
}

void webrtc_transport::set_incoming_handler(incoming_handler handler) {
  incoming_handler_ = std::move(handler);
}

void webrtc_transport::on_signal(const std::string& remote_peer_id, const std::string& payload) {
  json_error_t error;
  json_t* message = json_loads(payload.c_str(), 0, &error);
  if (!message || !json_is_object(message)) {
    json_decref(message);
    return;
  }
  std::string type = string_field(message, "type");
  std::string session = string_field(message, "session");
  std::string sdp = string_field(message, "sdp");
  std::string candidate = string_field(message, "candidate");
  json_decref(message);
  if (session.empty() || session.size() > 64) return;
  key connection_key{remote_peer_id, session};
  auto it = connections_.find(connection_key);
  std::shared_ptr<webrtc_connection> connection =
      it == connections_.end() ? nullptr : it->second.lock();

  if (type == "offer") {
    if (connection || sdp.empty() || !incoming_handler_) return;
    auto incoming = std::make_shared<webrtc_connection>(*this, remote_peer_id, session, false);
    connections_[connection_key] = incoming;
    if (!incoming->start(config_) || !incoming->answer(sdp)) {
      connections_.erase(connection_key);
      return;
    }
    incoming_handler_(incoming);
  } else if (!connection) {
    return;
  } else if (type == "answer") {
    connection->on_answer(sdp);
  } else if (type == "candidate") {
    if (!candidate.empty()) connection->on_candidate(candidate);
  } else if (type == "bye") {
    connection->on_bye();
  }
}

void webrtc_transport::process(int timeout_ms) {
  std::deque<std::function<void()>> tasks;
  {
    std::unique_lock<std::mutex> lock(queue_->mutex);
    if (queue_->tasks.empty() && timeout_ms > 0)
      queue_->changed.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                               [this] { return !queue_->tasks.empty(); });
    tasks.swap(queue_->tasks);
  }
  for (auto& task : tasks) task();
}

void webrtc_transport::task_queue::post(std::function<void()> task) {
  std::lock_guard<std::mutex> lock(mutex);
  tasks.push_back(std::move(task));
  changed.notify_one();
}

void webrtc_transport::send_signal(const std::string& remote_peer_id, const std::string& payload) {
  sink_.send_signal(remote_peer_id, payload);
}

void webrtc_transport::forget(const key& connection_key, const webrtc_connection* connection) {
  auto it = connections_.find(connection_key);
  if (it == connections_.end()) return;
  auto current = it->second.lock();
  if (!current || current.get() == connection) connections_.erase(it);
}

}  // namespace webrtc
}  // namespace p2p
