// Orders a swarm's peers for one requester: closest in network terms first.
//
// Tiers: same /24 (IPv4) or /48 (IPv6), then same ASN, then same country, then the
// rest. Within a tier, higher upload capacity (power-of-two classes) first. Peers of
// the same tier and class keep the order the caller lists them in (the registry's:
// freshest first), rotated by an amount drawn from the caller's seed: every equally
// good source is equally likely at every place over many requesters, so they share
// the load, and one seed over the same candidates always gives the same answer.
// Cellular peers are never offered (they download but do not upload), nor is the
// requester itself. The cost is linear in the candidates, without sorting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tracker/swarm_registry.h"

namespace p2p {

enum class match_tier : uint8_t { subnet = 0, asn = 1, country = 2, other = 3 };

const char* match_tier_name(match_tier tier);

// Per-customer rules removing candidates before ranking.
struct exclusion_rules {
  std::vector<uint32_t> excluded_asns;
  std::vector<uint16_t> excluded_countries;  // country_code("RU") etc.
  bool same_country_only = false;            // no cross-country matches
};

constexpr uint16_t country_code(const char c[2]) {
  return static_cast<uint16_t>((static_cast<uint8_t>(c[0]) << 8) | static_cast<uint8_t>(c[1]));
}

struct ranked_peer {
  const peer_view* peer;
  match_tier tier;
};

struct ranked_summary {
  const peer_summary* peer;
  match_tier tier;
};

match_tier classify_match(const peer_address& requester_address, uint32_t requester_asn,
                          const char requester_country[2], const peer_address& address,
                          uint32_t asn, const char country[2]);
match_tier classify_match(const peer_view& requester, const peer_view& candidate);

// rank_summaries' working memory: reused between calls, nothing allocated once warm.
// One per thread.
struct ranking_scratch {
  static constexpr uint32_t kGroups = 256;  // 4 tiers x 64 capacity classes
  std::vector<uint16_t> group;              // per candidate
  std::vector<uint32_t> slot;               // answer place -> candidate; one spare at the end
  uint32_t size[kGroups + 1];               // candidates per group (+1: the excluded)
  uint32_t seen[kGroups + 1];               // candidates of the group met so far
  uint32_t shift[kGroups + 1];              // rotation of the group's order
  uint32_t take[kGroups + 1];               // how many of the group win
  uint32_t first[kGroups + 1];              // answer place of the group's first winner
};

// No candidate to leave out of rank_summaries.
constexpr uint32_t kNoSkip = 0xffffffffu;

// The ranking itself, over registry summaries (the `peers` fast path). The candidate
// whose `ref` is `skip_ref` (the requester) is left out. Writes at most `numwant`
// winners, best first, into `out` (cleared first); they point into `candidates`.
void rank_summaries(const peer_summary& requester, const peer_summary* candidates, size_t count,
                    uint32_t skip_ref, const exclusion_rules& rules, size_t numwant, uint64_t seed,
                    ranking_scratch* scratch, std::vector<ranked_summary>* out);

// Ranks `candidates` (any order) for `requester` and returns at most `numwant`,
// leaving out the requester (same id). Pointers in the result point into `candidates`.
std::vector<ranked_peer> rank_peers(const peer_view& requester, const peer_view* candidates,
                                    size_t count, const exclusion_rules& rules, size_t numwant,
                                    uint64_t seed);

}  // namespace p2p
