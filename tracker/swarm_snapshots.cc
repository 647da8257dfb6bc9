#include "tracker/swarm_snapshots.h"

#include <algorithm>

namespace p2p {

const std::vector<peer_summary>& swarm_snapshots::members(const swarm_registry& registry,
                                                          const announce_refs& at, int64_t now) {
  if (registry.block() != registry_block_) {
    // Another block (a test's second registry): nothing copied from the old one holds.
    copies_.clear();
    held_ = 0;
    registry_block_ = registry.block();
  }
  const uint64_t version = registry.swarm_version(at);
  copy& c = copies_[at.swarm];
  const int64_t peer_ttl = registry.limits().peer_ttl;
  if (c.version == version && now < c.live_until && c.peer_ttl == peer_ttl) {
    ++reused_;
    return c.members;
  }
  ++taken_;
  const size_t size = registry.swarm_size(at);
  if (held_ - c.members.size() + size > max_members_) {
    // Over the bound: start afresh rather than track which copies are cold.
    for (auto& [index, other] : copies_) {
      other.members.clear();
      other.members.shrink_to_fit();
      other.version = 0;
    }
    held_ = 0;
  }
  held_ -= c.members.size();
  c.members.resize(size);
  c.members.resize(registry.swarm_summaries(at, now, c.members.data(), size, &c.live_until));
  // Cellular peers are never offered as sources: ranking need not see them.
  c.members.erase(
      std::remove_if(c.members.begin(), c.members.end(),
                     [](const peer_summary& m) { return m.network == network_type::cellular; }),
      c.members.end());
  c.version = version;
  c.peer_ttl = peer_ttl;
  held_ += c.members.size();
  return c.members;
}

}  // namespace p2p
