// The bounded in-memory store of verified segments: what the player is served from and
// the only thing this peer ever uploads. Nothing is written to disk. Entries are evicted
// behind the playhead and, when full, oldest position first.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "client/wire_protocol.h"

namespace p2p {

// True when SHA-256(bytes) is `expected`.
bool integrity_matches(const content_hash& expected, std::string_view bytes);

class segment_store {
 public:
  explicit segment_store(size_t capacity_bytes) : capacity_(capacity_bytes) {}

  // Stores verified bytes at a playback position (seconds). False when the item alone
  // is larger than the capacity. Evicts older entries to make room.
  bool put(const content_hash& hash, double position, std::string bytes);
  // nullptr when absent; the pointer is valid until the next put/evict.
  const std::string* get(const content_hash& hash) const;
  bool contains(const content_hash& hash) const { return entries_.count(hash) != 0; }
  // Drops entries more than `keep_behind` seconds behind `playhead`.
  void evict_behind(double playhead, double keep_behind);
  std::vector<content_hash> hashes() const;
  size_t bytes() const { return bytes_; }
  size_t capacity() const { return capacity_; }
  size_t size() const { return entries_.size(); }

  // Told of every addition (true) and removal (false), to announce have/lost to peers.
  void set_listener(std::function<void(const content_hash&, bool added)> listener) {
    listener_ = std::move(listener);
  }

 private:
  void erase(std::map<content_hash, std::pair<double, std::string>>::iterator it);

  size_t capacity_;
  size_t bytes_ = 0;
  std::map<content_hash, std::pair<double, std::string>> entries_;
  std::function<void(const content_hash&, bool)> listener_;
};

}  // namespace p2p
