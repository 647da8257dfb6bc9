// A peer_transport decorator for the swarm test's malicious peer: every segment data
// frame it uploads has its payload altered (one byte flipped per chunk), everything else
// (hello, have, request, absent) passes unchanged, so the peer looks like a good seeder
// until somebody checks the bytes against the origin's hash.
#pragma once

#include <memory>
#include <string>

#include "client/peer_transport.h"

namespace p2p {
namespace swarm {

class corrupting_transport : public peer_transport {
 public:
  explicit corrupting_transport(std::unique_ptr<peer_transport> inner);

  std::shared_ptr<peer_connection> connect(const std::string& remote_peer_id,
                                           peer_connection_callbacks callbacks) override;
  void set_incoming_handler(incoming_handler handler) override;
  void on_signal(const std::string& remote_peer_id, const std::string& payload) override;
  void process(int timeout_ms) override;

  uint64_t corrupted_frames() const { return *corrupted_frames_; }

 private:
  std::unique_ptr<peer_transport> inner_;
  std::shared_ptr<uint64_t> corrupted_frames_;
};

}  // namespace swarm
}  // namespace p2p
