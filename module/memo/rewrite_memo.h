// A per-worker memo of rewritten manifests. A live playlist is fetched by every viewer
// every few seconds but changes once per segment: the worker rewrites it once and
// answers the next requests for the same bytes (and the same hint values) from here,
// for at most `ttl` milliseconds, without touching the segment files again.
//
// Bounded in entries and bytes; least recently used entries go first. Not shared
// between workers and not kept across reloads (new workers start empty).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace p2p {

class rewrite_memo {
 public:
  rewrite_memo(size_t max_entries, size_t max_bytes);

  // The output stored for `key` if it was made from exactly `body` and has not expired.
  // Shared, so a response still being written keeps it alive after an eviction.
  std::shared_ptr<const std::string> find(const std::string& key, std::string_view body,
                                          int64_t now_ms);

  void store(const std::string& key, std::string_view body,
             std::shared_ptr<const std::string> output, int64_t expires_ms);

  size_t entries() const { return map_.size(); }
  size_t bytes() const { return bytes_; }

 private:
  struct entry {
    std::string key;
    std::string body;
    std::shared_ptr<const std::string> output;
    int64_t expires_ms;
  };
  void erase(std::list<entry>::iterator it);

  size_t max_entries_;
  size_t max_bytes_;
  size_t bytes_ = 0;
  std::list<entry> lru_;  // front: most recently used
  std::unordered_map<std::string, std::list<entry>::iterator> map_;
};

}  // namespace p2p
