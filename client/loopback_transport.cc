#include "client/loopback_transport.h"

#include <algorithm>

namespace p2p {

const char* peer_connection_state_name(peer_connection_state state) {
  switch (state) {
    case peer_connection_state::connecting:
      return "connecting";
    case peer_connection_state::open:
      return "open";
    case peer_connection_state::closed:
      return "closed";
    case peer_connection_state::failed:
      return "failed";
  }
  return "unknown";
}

class loopback_connection : public peer_connection {
 public:
  loopback_connection(loopback_transport* owner, std::string remote)
      : owner_(owner), remote_(std::move(remote)) {}

  const std::string& remote_peer_id() const override { return remote_; }
  peer_connection_state state() const override { return state_; }
  void set_callbacks(peer_connection_callbacks callbacks) override {
    callbacks_ = std::move(callbacks);
  }
  size_t max_message_size() const override {
    return owner_ ? owner_->network_->max_message_size() : 0;
  }
  bool send(const uint8_t* data, size_t size) override {
    if (state_ != peer_connection_state::open || size == 0 || size > max_message_size()) {
      return false;
    }
    outbox_.emplace_back(reinterpret_cast<const char*>(data), size);
    buffered_ += size;
    return true;
  }
  size_t buffered_amount() const override { return buffered_; }
  void set_buffered_amount_low_threshold(size_t bytes) override { low_threshold_ = bytes; }
  void close() override {
    if (state_ == peer_connection_state::closed || state_ == peer_connection_state::failed) {
      return;
    }
    finish(peer_connection_state::closed);
    if (auto other = other_.lock()) other->finish(peer_connection_state::closed);
  }

  // Marks a final state; the callback fires from the owner's process().
  void finish(peer_connection_state final_state) {
    if (state_ == peer_connection_state::closed || state_ == peer_connection_state::failed) {
      return;
    }
    state_ = final_state;
    outbox_.clear();
    buffered_ = 0;
    pending_states_.push_back(final_state);
  }

  loopback_transport* owner_;
  std::string remote_;
  std::weak_ptr<loopback_connection> other_;
  peer_connection_state state_ = peer_connection_state::connecting;
  peer_connection_callbacks callbacks_;
  std::deque<std::string> outbox_;
  size_t buffered_ = 0;
  size_t low_threshold_ = 0;
  bool low_pending_ = false;
  std::vector<peer_connection_state> pending_states_;
};

std::unique_ptr<loopback_transport> loopback_network::create(const std::string& peer_id) {
  std::unique_ptr<loopback_transport> transport(new loopback_transport(this, peer_id));
  transports_[peer_id] = transport.get();
  return transport;
}

void loopback_network::set_unreachable(const std::string& peer_id, bool unreachable) {
  unreachable_[peer_id] = unreachable;
}

loopback_transport::loopback_transport(loopback_network* network, std::string peer_id)
    : network_(network), peer_id_(std::move(peer_id)) {}

loopback_transport::~loopback_transport() {
  for (auto& connection : connections_) {
    connection->close();
    connection->owner_ = nullptr;
  }
  auto it = network_->transports_.find(peer_id_);
  if (it != network_->transports_.end() && it->second == this) network_->transports_.erase(it);
}

std::shared_ptr<peer_connection> loopback_transport::connect(const std::string& remote_peer_id,
                                                             peer_connection_callbacks callbacks) {
  auto local = std::make_shared<loopback_connection>(this, remote_peer_id);
  local->set_callbacks(std::move(callbacks));
  connections_.push_back(local);
  auto found = network_->transports_.find(remote_peer_id);
  bool unreachable = network_->unreachable_[remote_peer_id] || network_->unreachable_[peer_id_];
  if (found == network_->transports_.end() || unreachable || !found->second->incoming_ ||
      remote_peer_id == peer_id_) {
    local->pending_states_.push_back(peer_connection_state::failed);
    local->state_ = peer_connection_state::failed;
    return local;
  }
  auto remote = std::make_shared<loopback_connection>(found->second, peer_id_);
  local->other_ = remote;
  remote->other_ = local;
  // Both sides open together: the local side at its next process(), the remote side
  // once its handler has seen the incoming connection.
  local->state_ = peer_connection_state::open;
  local->pending_states_.push_back(peer_connection_state::open);
  remote->state_ = peer_connection_state::open;
  remote->pending_states_.push_back(peer_connection_state::open);
  found->second->pending_incoming_.push_back(remote);
  return local;
}

void loopback_transport::set_incoming_handler(incoming_handler handler) {
  incoming_ = std::move(handler);
}

void loopback_transport::on_signal(const std::string&, const std::string&) {}

size_t loopback_transport::open_connection_count() const {
  size_t count = 0;
  for (const auto& connection : connections_) {
    if (connection->state() == peer_connection_state::open ||
        connection->state() == peer_connection_state::connecting) {
      ++count;
    }
  }
  return count;
}

void loopback_transport::process(int) {
  std::vector<std::shared_ptr<loopback_connection>> incoming;
  incoming.swap(pending_incoming_);
  for (auto& connection : incoming) {
    connections_.push_back(connection);
    if (incoming_) {
      incoming_(connection);
    } else {
      connection->close();
    }
  }
  // Callbacks may connect or close; work on a snapshot.
  auto snapshot = connections_;
  for (auto& connection : snapshot) {
    std::vector<peer_connection_state> states;
    states.swap(connection->pending_states_);
    for (auto state : states) {
      if (connection->callbacks_.on_state) connection->callbacks_.on_state(state);
    }
    if (connection->state_ != peer_connection_state::open) continue;
    auto other = connection->other_.lock();
    if (!other) continue;
    size_t budget = network_->bytes_per_process();
    size_t delivered = 0;
    while (!other->outbox_.empty() && connection->state_ == peer_connection_state::open) {
      if (budget != 0 && delivered >= budget) break;
      std::string message = std::move(other->outbox_.front());
      other->outbox_.pop_front();
      other->buffered_ -= message.size();
      delivered += message.size();
      if (other->buffered_ <= other->low_threshold_) other->low_pending_ = true;
      if (connection->callbacks_.on_message) {
        connection->callbacks_.on_message(reinterpret_cast<const uint8_t*>(message.data()),
                                          message.size());
      }
    }
  }
  snapshot = connections_;
  for (auto& connection : snapshot) {
    if (connection->low_pending_) {
      connection->low_pending_ = false;
      if (connection->state_ == peer_connection_state::open &&
          connection->callbacks_.on_buffered_amount_low) {
        connection->callbacks_.on_buffered_amount_low();
      }
    }
  }
  connections_.erase(std::remove_if(connections_.begin(), connections_.end(),
                                    [](const std::shared_ptr<loopback_connection>& c) {
                                      return (c->state_ == peer_connection_state::closed ||
                                              c->state_ == peer_connection_state::failed) &&
                                             c->pending_states_.empty();
                                    }),
                     connections_.end());
}

}  // namespace p2p
