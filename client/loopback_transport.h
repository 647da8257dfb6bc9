// An in-memory peer_transport for tests and simulations: every transport created by
// one loopback_network can connect to every other by peer id, no sockets involved.
// Messages are delivered in order when the receiving side calls process(); a per-call
// byte budget simulates a slow link, so backpressure (buffered_amount) can be tested.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "client/peer_transport.h"

namespace p2p {

class loopback_transport;

class loopback_network {
 public:
  // The returned transport stays registered until destroyed.
  std::unique_ptr<loopback_transport> create(const std::string& peer_id);

  // Bytes one process() call of a receiving transport delivers per connection
  // (0: unlimited). Simulates link throughput per process() tick.
  void set_bytes_per_process(size_t bytes) { bytes_per_process_ = bytes; }
  size_t bytes_per_process() const { return bytes_per_process_; }

  void set_max_message_size(size_t bytes) { max_message_size_ = bytes; }
  size_t max_message_size() const { return max_message_size_; }

  // Connections to `peer_id` fail from now on (it is unreachable).
  void set_unreachable(const std::string& peer_id, bool unreachable);

 private:
  friend class loopback_transport;
  std::map<std::string, loopback_transport*> transports_;
  std::map<std::string, bool> unreachable_;
  size_t bytes_per_process_ = 0;
  size_t max_message_size_ = 256 * 1024;
};

class loopback_connection;

class loopback_transport : public peer_transport {
 public:
  ~loopback_transport() override;

  const std::string& peer_id() const { return peer_id_; }

  std::shared_ptr<peer_connection> connect(const std::string& remote_peer_id,
                                           peer_connection_callbacks callbacks) override;
  void set_incoming_handler(incoming_handler handler) override;
  void on_signal(const std::string& remote_peer_id, const std::string& payload) override;
  void process(int timeout_ms) override;

  // Number of connections not yet closed or failed.
  size_t open_connection_count() const;

 private:
  friend class loopback_network;
  friend class loopback_connection;
  loopback_transport(loopback_network* network, std::string peer_id);

  loopback_network* network_;
  std::string peer_id_;
  incoming_handler incoming_;
  std::vector<std::shared_ptr<loopback_connection>> connections_;
  std::vector<std::shared_ptr<loopback_connection>> pending_incoming_;
};

}  // namespace p2p
