#include "tests/swarm/corrupting_transport.h"

#include <utility>

#include "client/wire_protocol.h"

namespace p2p {
namespace swarm {
namespace {

class corrupting_connection : public peer_connection {
 public:
  corrupting_connection(std::shared_ptr<peer_connection> inner, std::shared_ptr<uint64_t> counter)
      : inner_(std::move(inner)), counter_(std::move(counter)) {}

  const std::string& remote_peer_id() const override { return inner_->remote_peer_id(); }
  peer_connection_state state() const override { return inner_->state(); }
  void set_callbacks(peer_connection_callbacks callbacks) override {
    inner_->set_callbacks(std::move(callbacks));
  }
  size_t max_message_size() const override { return inner_->max_message_size(); }
  size_t buffered_amount() const override { return inner_->buffered_amount(); }
  void set_buffered_amount_low_threshold(size_t bytes) override {
    inner_->set_buffered_amount_low_threshold(bytes);
  }
  void close() override { inner_->close(); }

  bool send(const uint8_t* data, size_t size) override {
    wire_frame frame;
    if (wire_parse(data, size, &frame) != wire_error::ok || frame.type != wire_type::data ||
        frame.payload_size == 0) {
      return inner_->send(data, size);
    }
    std::string bad(reinterpret_cast<const char*>(frame.payload), frame.payload_size);
    bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 0x5a);
    std::string message = wire_data(frame.request_id, frame.total_size, frame.offset,
                                    reinterpret_cast<const uint8_t*>(bad.data()), bad.size());
    ++*counter_;
    return inner_->send(reinterpret_cast<const uint8_t*>(message.data()), message.size());
  }

 private:
  std::shared_ptr<peer_connection> inner_;
  std::shared_ptr<uint64_t> counter_;
};

}  // namespace

corrupting_transport::corrupting_transport(std::unique_ptr<peer_transport> inner)
    : inner_(std::move(inner)), corrupted_frames_(std::make_shared<uint64_t>(0)) {}

std::shared_ptr<peer_connection> corrupting_transport::connect(
    const std::string& remote_peer_id, peer_connection_callbacks callbacks) {
  return std::make_shared<corrupting_connection>(
      inner_->connect(remote_peer_id, std::move(callbacks)), corrupted_frames_);
}

void corrupting_transport::set_incoming_handler(incoming_handler handler) {
  if (!handler) {
    inner_->set_incoming_handler(nullptr);
    return;
  }
  std::shared_ptr<uint64_t> counter = corrupted_frames_;
  inner_->set_incoming_handler(
      [handler = std::move(handler), counter](std::shared_ptr<peer_connection> connection) {
        handler(std::make_shared<corrupting_connection>(std::move(connection), counter));
      });
}

void corrupting_transport::on_signal(const std::string& remote_peer_id,
                                     const std::string& payload) {
  inner_->on_signal(remote_peer_id, payload);
}

void corrupting_transport::process(int timeout_ms) { inner_->process(timeout_ms); }

}  // namespace swarm
}  // namespace p2p
