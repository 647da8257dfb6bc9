// A process's own copy of the ranking fields of the swarms it answers `peers` for.
//
// Walking a swarm in the shared zone reads one scattered cache line per member for
// every `peers` call, although between calls a swarm usually changes only in its
// members' last-seen times. The registry gives every swarm a version that moves
// whenever a member joins, leaves or changes a ranking field (not on a plain
// refresh) and tells until when none of the copied members can have expired; a copy
// is reused while both hold, and taken again otherwise. Each nginx worker keeps its
// own; the zone stays the only shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tracker/swarm_registry.h"

namespace p2p {

// One swarm as a worker copied it: ranking fields and ids of its live members.
struct swarm_copy {
  std::vector<peer_summary> members;
  std::string ids;                // the members' ids back to back
  std::vector<uint32_t> id_ends;  // where member i's id ends in `ids`

  std::string_view id(size_t i) const {
    const uint32_t begin = i ? id_ends[i - 1] : 0;
    return std::string_view(ids).substr(begin, id_ends[i] - begin);
  }
};

class swarm_snapshots {
 public:
  // Copies held at once are bounded by `max_members` members in all; past it every
  // copy is dropped and taken again as needed. 0: nothing is kept, every call walks.
  explicit swarm_snapshots(size_t max_members = size_t{1} << 20) : max_members_(max_members) {}

  // The live members of the swarm announce() put the peer in (the peer included),
  // freshest first as of the copy, without cellular ones (never offered as sources).
  // Call in the same lock hold as the announce; the copy is this object's, so it may
  // be read after the lock is released, until the next call.
  const swarm_copy& members(const swarm_registry& registry, const announce_refs& at, int64_t now);

  uint64_t reused() const { return reused_; }
  size_t held() const { return held_; }
  uint64_t taken() const { return taken_; }

 private:
  struct entry {
    uint64_t version = 0;
    int64_t live_until = 0;
    int64_t peer_ttl = 0;  // the limit it was taken under (locations may differ)
    swarm_copy copy;
  };
  void take(const swarm_registry& registry, const announce_refs& at, int64_t now, entry* e);

  const void* registry_block_ = nullptr;
  std::unordered_map<uint32_t, entry> entries_;  // by swarm index
  entry scratch_;                                // the copy when nothing is kept
  size_t held_ = 0;
  size_t max_members_;
  uint64_t reused_ = 0;
  uint64_t taken_ = 0;
};

}  // namespace p2p
