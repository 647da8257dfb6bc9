// Where segment bytes come from, as the scheduler sees it: HTTP (the origin/CDN) and
// the swarm of peers. Both are asynchronous: a fetch returns an id at once and its
// callback runs later from the owner's loop (never from inside fetch()).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "client/wire_protocol.h"

namespace p2p {

struct http_fetch_result {
  bool ok = false;
  int status = 0;  // HTTP status, 0 on a network error
  std::string bytes;
  std::string content_type;
};

class http_source {
 public:
  virtual ~http_source() = default;
  // range_offset < 0: the whole resource.
  virtual uint64_t fetch(const std::string& url, int64_t range_offset, int64_t range_length,
                         std::function<void(http_fetch_result)> done) = 0;
  // The callback of a cancelled fetch never runs.
  virtual void cancel(uint64_t id) = 0;
};

enum class peer_fetch_status {
  ok,      // bytes complete (not yet verified: the scheduler checks the hash)
  absent,  // the peer does not have it or does not upload
  failed,  // connection closed or protocol error
};

class peer_source {
 public:
  virtual ~peer_source() = default;
  // Connected peers (open, not blacklisted) that announced `hash` and upload.
  virtual std::vector<std::string> peers_with(const content_hash& hash) const = 0;
  virtual size_t connected_peers() const = 0;
  virtual uint64_t fetch(const std::string& peer_id, const content_hash& hash,
                         std::function<void(peer_fetch_status, std::string)> done) = 0;
  // Bytes received so far for a running fetch, and the item size the peer announced
  // with its first chunk (0 until then); for slow-peer detection.
  virtual size_t received(uint64_t id) const = 0;
  virtual size_t total_size(uint64_t id) const = 0;
  // The callback of a cancelled fetch never runs; the peer is told to stop sending.
  virtual void cancel(uint64_t id) = 0;
  // The peer sent bytes that do not match the origin's hash: drop it and never
  // talk to it again in this session.
  virtual void blacklist(const std::string& peer_id) = 0;
};

}  // namespace p2p
