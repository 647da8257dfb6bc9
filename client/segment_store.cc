#include "client/segment_store.h"

#include "common/hmac_sha256.h"

namespace p2p {

bool integrity_matches(const content_hash& expected, std::string_view bytes) {
  sha256_digest actual = sha256(bytes);
  return std::equal(actual.begin(), actual.end(), expected.begin());
}

bool segment_store::put(const content_hash& hash, double position, std::string bytes) {
  if (bytes.size() > capacity_) return false;
  auto existing = entries_.find(hash);
  if (existing != entries_.end()) return true;
  while (bytes_ + bytes.size() > capacity_ && !entries_.empty()) {
    auto oldest = entries_.begin();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->second.first < oldest->second.first) oldest = it;
    }
    erase(oldest);
  }
  bytes_ += bytes.size();
  entries_.emplace(hash, std::make_pair(position, std::move(bytes)));
  if (listener_) listener_(hash, true);
  return true;
}

const std::string* segment_store::get(const content_hash& hash) const {
  auto it = entries_.find(hash);
  return it == entries_.end() ? nullptr : &it->second.second;
}

void segment_store::evict_behind(double playhead, double keep_behind) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto next = std::next(it);
    if (it->second.first < playhead - keep_behind) erase(it);
    it = next;
  }
}

std::vector<content_hash> segment_store::hashes() const {
  std::vector<content_hash> out;
  out.reserve(entries_.size());
  for (const auto& e : entries_) out.push_back(e.first);
  return out;
}

void segment_store::erase(std::map<content_hash, std::pair<double, std::string>>::iterator it) {
  content_hash hash = it->first;
  bytes_ -= it->second.second.size();
  entries_.erase(it);
  if (listener_) listener_(hash, false);
}

}  // namespace p2p
