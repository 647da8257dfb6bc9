#include "module/memo/rewrite_memo.h"

namespace p2p {

rewrite_memo::rewrite_memo(size_t max_entries, size_t max_bytes)
    : max_entries_(max_entries), max_bytes_(max_bytes) {}

std::shared_ptr<const std::string> rewrite_memo::find(const std::string& key, std::string_view body,
                                                      int64_t now_ms) {
  auto it = map_.find(key);
  if (it == map_.end()) return nullptr;
  if (it->second->expires_ms <= now_ms || it->second->body != body) {
    erase(it->second);
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->output;
}

void rewrite_memo::store(const std::string& key, std::string_view body,
                         std::shared_ptr<const std::string> output, int64_t expires_ms) {
  if (!output) return;
  size_t size = key.size() * 2 + body.size() + output->size();
  if (max_entries_ == 0 || size > max_bytes_) return;
  auto old = map_.find(key);
  if (old != map_.end()) erase(old->second);
  while (!lru_.empty() && (map_.size() >= max_entries_ || bytes_ + size > max_bytes_))
    erase(std::prev(lru_.end()));
  lru_.push_front(entry{key, std::string(body), std::move(output), expires_ms});
  map_.emplace(key, lru_.begin());
  bytes_ += size;
}

void rewrite_memo::erase(std::list<entry>::iterator it) {
  bytes_ -= it->key.size() * 2 + it->body.size() + it->output->size();
  map_.erase(it->key);
  lru_.erase(it);
}

}  // namespace p2p
