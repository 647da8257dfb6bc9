#include "tracker/swarm_snapshots.h"

#include <algorithm>

namespace p2p {

void swarm_snapshots::take(const swarm_registry& registry, const announce_refs& at, int64_t now,
                           entry* e) {
  ++taken_;
  std::vector<peer_summary>& members = e->copy.members;
  const size_t size = registry.swarm_size(at);
  members.resize(size);
  members.resize(registry.swarm_summaries(at, now, members.data(), size, &e->live_until));
  // Cellular peers are never offered as sources: ranking need not see them.
  members.erase(
      std::remove_if(members.begin(), members.end(),
                     [](const peer_summary& m) { return m.network == network_type::cellular; }),
      members.end());
  e->copy.ids.clear();
  e->copy.id_ends.clear();
  for (const peer_summary& m : members) {
    e->copy.ids += registry.id_at(m.ref);
    e->copy.id_ends.push_back(static_cast<uint32_t>(e->copy.ids.size()));
  }
  e->version = registry.swarm_version(at);
  e->peer_ttl = registry.limits().peer_ttl;
}

const swarm_copy& swarm_snapshots::members(const swarm_registry& registry, const announce_refs& at,
                                           int64_t now) {
  if (max_members_ == 0) {
    take(registry, at, now, &scratch_);
    return scratch_.copy;
  }
  if (registry.block() != registry_block_) {
    // Another block (a test's second registry): nothing copied from the old one holds.
    entries_.clear();
    held_ = 0;
    registry_block_ = registry.block();
  }
  auto it = entries_.find(at.swarm);
  if (it != entries_.end() && it->second.version == registry.swarm_version(at) &&
      now < it->second.live_until && it->second.peer_ttl == registry.limits().peer_ttl) {
    ++reused_;
    return it->second.copy;
  }
  const size_t before = it == entries_.end() ? 0 : it->second.copy.members.size();
  if (held_ - before + registry.swarm_size(at) > max_members_) {
    // Over the bound: start afresh rather than track which copies are cold.
    entries_.clear();
    held_ = 0;
    it = entries_.end();
  } else {
    held_ -= before;
  }
  entry& e = it == entries_.end() ? entries_[at.swarm] : it->second;
  take(registry, at, now, &e);
  held_ += e.copy.members.size();
  return e.copy;
}

}  // namespace p2p
