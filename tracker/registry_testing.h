// Test helpers shared by the registry's and the swarm copies' cmocka tests.
#pragma once

#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>

#include "tracker/swarm_registry.h"

namespace p2p::testing {

// A block as a fresh shared-memory zone may hold it: aligned, full of garbage.
struct block {
  explicit block(size_t n) : size(n), data(static_cast<char*>(std::aligned_alloc(8, n))) {
    std::memset(data, 0xa5, n);
  }
  ~block() { std::free(data); }
  block(const block&) = delete;
  block& operator=(const block&) = delete;
  size_t size;
  char* data;
};

// An announcement from 10.0.0.<last_octet>; its string views stay valid for the test.
inline peer_announcement peer(const std::string& id, const std::string& swarm,
                              uint8_t last_octet = 1, uint32_t kbps = 0,
                              network_type net = network_type::unknown) {
  static std::deque<std::string> keep;
  keep.push_back(id);
  keep.push_back(swarm);
  peer_announcement a;
  a.peer_id = keep[keep.size() - 2];
  a.swarm_id = keep.back();
  uint8_t ip[4] = {10, 0, 0, last_octet};
  a.address = peer_address::from_v4(ip);
  a.upload_kbps = kbps;
  a.network = net;
  return a;
}

}  // namespace p2p::testing
