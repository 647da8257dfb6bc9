// Simulated HTTP origin and swarm for scheduler tests: deterministic, driven by a
// manual clock. Transfers take latency + size / rate; pump() completes what is due.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "client/clock.h"
#include "client/sources.h"
#include "common/hmac_sha256.h"

namespace p2p_test {

using p2p::content_hash;

inline content_hash hash_bytes(const std::string& bytes) {
  p2p::sha256_digest d = p2p::sha256(bytes);
  content_hash h;
  std::copy(d.begin(), d.end(), h.begin());
  return h;
}

class fake_http : public p2p::http_source {
 public:
  explicit fake_http(const p2p::manual_clock& clock) : clock_(clock) {}
  std::map<std::string, std::string> files;
  int64_t latency_ms = 50;
  double bytes_per_ms = 1000;  // 1 MB/s
  int fail_next = 0;
  std::vector<std::string> requested;

  uint64_t fetch(const std::string& url, int64_t, int64_t,
                 std::function<void(p2p::http_fetch_result)> done) override {
    uint64_t id = next_++;
    requested.push_back(url);
    auto it = files.find(url);
    size_t size = it == files.end() ? 0 : it->second.size();
    running_[id] = {clock_.now_ms() + latency_ms + static_cast<int64_t>(size / bytes_per_ms), url,
                    std::move(done), fail_next > 0};
    if (fail_next > 0) --fail_next;
    return id;
  }
  void cancel(uint64_t id) override { running_.erase(id); }
  void pump() {
    std::vector<uint64_t> due;
    for (const auto& r : running_) {
      if (r.second.finish_ms <= clock_.now_ms()) due.push_back(r.first);
    }
    for (uint64_t id : due) {
      auto node = running_.extract(id);
      p2p::http_fetch_result result;
      auto it = files.find(node.mapped().url);
      if (node.mapped().fail) {
        result.status = 503;
      } else if (it == files.end()) {
        result.status = 404;
      } else {
        result.ok = true;
        result.status = 200;
        result.bytes = it->second;
      }
      node.mapped().done(std::move(result));
    }
  }
  size_t count(const std::string& url) const {
    return static_cast<size_t>(std::count(requested.begin(), requested.end(), url));
  }

 private:
  struct request {
    int64_t finish_ms;
    std::string url;
    std::function<void(p2p::http_fetch_result)> done;
    bool fail;
  };
  const p2p::manual_clock& clock_;
  uint64_t next_ = 1;
  std::map<uint64_t, request> running_;
};

struct fake_peer {
  std::map<content_hash, std::string> has;  // what it announced and will send
  double bytes_per_ms = 2000;
  int64_t latency_ms = 30;
  bool corrupt = false;  // flips a byte in everything it sends
  bool stall = false;    // sends nothing at all
};

class fake_swarm : public p2p::peer_source {
 public:
  explicit fake_swarm(const p2p::manual_clock& clock) : clock_(clock) {}
  std::map<std::string, fake_peer> peers;
  std::set<std::string> blacklisted;
  std::vector<uint64_t> cancelled;
  std::vector<std::string> fetched_from;

  std::vector<std::string> peers_with(const content_hash& hash) const override {
    std::vector<std::string> out;
    for (const auto& p : peers) {
      if (!blacklisted.count(p.first) && p.second.has.count(hash)) out.push_back(p.first);
    }
    return out;
  }
  size_t connected_peers() const override {
    size_t n = 0;
    for (const auto& p : peers) n += blacklisted.count(p.first) ? 0 : 1;
    return n;
  }
  uint64_t fetch(const std::string& peer_id, const content_hash& hash,
                 std::function<void(p2p::peer_fetch_status, std::string)> done) override {
    uint64_t id = next_++;
    fetched_from.push_back(peer_id);
    running_[id] = {peer_id, hash, clock_.now_ms(), std::move(done)};
    return id;
  }
  size_t received(uint64_t id) const override {
    auto it = running_.find(id);
    if (it == running_.end()) return 0;
    const fake_peer& p = peers.at(it->second.peer);
    if (p.stall) return 0;
    int64_t elapsed = clock_.now_ms() - it->second.started_ms - p.latency_ms;
    if (elapsed <= 0) return 0;
    auto bytes = p.has.find(it->second.hash);
    size_t size = bytes == p.has.end() ? 0 : bytes->second.size();
    return std::min(size, static_cast<size_t>(static_cast<double>(elapsed) * p.bytes_per_ms));
  }
  size_t total_size(uint64_t id) const override {
    auto it = running_.find(id);
    if (it == running_.end() || received(id) == 0) return 0;
    return peers.at(it->second.peer).has.at(it->second.hash).size();
  }
  void cancel(uint64_t id) override {
    cancelled.push_back(id);
    running_.erase(id);
  }
  void blacklist(const std::string& peer_id) override { blacklisted.insert(peer_id); }
  void pump() {
    std::vector<uint64_t> ids;
    for (const auto& r : running_) ids.push_back(r.first);
    for (uint64_t id : ids) {
      auto it = running_.find(id);
      if (it == running_.end()) continue;
      const fake_peer& p = peers.at(it->second.peer);
      auto bytes = p.has.find(it->second.hash);
      if (bytes == p.has.end()) {
        auto node = running_.extract(id);
        node.mapped().done(p2p::peer_fetch_status::absent, "");
        continue;
      }
      if (p.stall || received(id) < bytes->second.size()) continue;
      std::string data = bytes->second;
      if (p.corrupt) data[data.size() / 2] ^= 1;
      auto node = running_.extract(id);
      node.mapped().done(p2p::peer_fetch_status::ok, std::move(data));
    }
  }
  size_t running() const { return running_.size(); }

 private:
  struct request {
    std::string peer;
    content_hash hash;
    int64_t started_ms;
    std::function<void(p2p::peer_fetch_status, std::string)> done;
  };
  const p2p::manual_clock& clock_;
  uint64_t next_ = 1;
  std::map<uint64_t, request> running_;
};

}  // namespace p2p_test
