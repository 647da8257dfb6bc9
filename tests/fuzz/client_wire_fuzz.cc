// libFuzzer target: hostile peer messages against a peer_swarm over the loopback
// transport. The input is split into messages (2-byte big-endian length prefixes); the
// swarm must never crash, and after a protocol error that peer must be closed.
// Build: tests/fuzz/build_client_fuzzers.sh
#include <cstddef>
#include <cstdint>
#include <string>

#include "client/clock.h"
#include "client/loopback_transport.h"
#include "client/peer_swarm.h"
#include "client/wire_protocol.h"
#include "common/hmac_sha256.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  p2p::manual_clock clock;
  p2p::loopback_network network;
  auto server_transport = network.create("server");
  p2p::segment_store store(1 << 20);
  std::string body(3000, 'x');
  p2p::sha256_digest digest = p2p::sha256(body);
  p2p::content_hash hash;
  std::copy(digest.begin(), digest.end(), hash.begin());
  store.put(hash, 0, body);
  p2p::peer_swarm_config config;
  config.local_peer_id = "server";
  p2p::peer_swarm swarm(*server_transport, store, clock, config, "s");
  auto attacker = network.create("attacker");
  auto connection = attacker->connect("server", {});
  for (int i = 0; i < 2; ++i) {
    attacker->process(0);
    server_transport->process(0);
    swarm.process();
  }
  size_t pos = 0;
  int messages = 0;
  while (pos + 2 <= size && messages < 64) {
    size_t length = (size_t{data[pos]} << 8) | data[pos + 1];
    pos += 2;
    if (length > size - pos) length = size - pos;
    if (length > 0) connection->send(data + pos, length);
    pos += length;
    ++messages;
    clock.advance(10);
    server_transport->process(0);
    swarm.process();
    attacker->process(0);
  }
  if (swarm.stats().protocol_errors > 0 && swarm.connected_peers() != 0) __builtin_trap();
  return 0;
}
