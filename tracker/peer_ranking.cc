#include "tracker/peer_ranking.h"

#include <algorithm>
#include <cstring>

namespace p2p {
namespace {

uint64_t mix(uint64_t x) {
  // splitmix64 finaliser: cheap and spreads every input bit over the output.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

uint64_t id_hash(const peer_view& p) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (uint8_t i = 0; i < p.peer_id_len; ++i) {
    h ^= static_cast<unsigned char>(p.peer_id[i]);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// 0 for unknown, then 1 + floor(log2(kbps)): 1 Mbit/s and 1.9 Mbit/s are one class.
int capacity_class(uint32_t kbps) {
  int c = 0;
  while (kbps) {
    ++c;
    kbps >>= 1;
  }
  return c;
}

bool country_known(const char c[2]) { return c[0] != 0 && c[1] != 0; }

struct sort_entry {
  uint64_t key;  // tier, capacity class and the seeded hash packed: smaller ranks first
  const peer_view* peer;
  match_tier tier;
};

}  // namespace

const char* match_tier_name(match_tier tier) {
  switch (tier) {
    case match_tier::subnet:
      return "subnet";
    case match_tier::asn:
      return "asn";
    case match_tier::country:
      return "country";
    case match_tier::other:
      break;
  }
  return "other";
}

match_tier classify_match(const peer_view& requester, const peer_view& candidate) {
  const bool v4 = requester.address.is_v4();
  if (v4 == candidate.address.is_v4()) {
    // /24 of an IPv4-mapped address is the first 15 bytes; /48 is the first 6.
    size_t prefix = v4 ? 15 : 6;
    if (std::memcmp(requester.address.bytes, candidate.address.bytes, prefix) == 0)
      return match_tier::subnet;
  }
  if (requester.asn != 0 && requester.asn == candidate.asn) return match_tier::asn;
  if (country_known(requester.country) && requester.country[0] == candidate.country[0] &&
      requester.country[1] == candidate.country[1])
    return match_tier::country;
  return match_tier::other;
}

std::vector<ranked_peer> rank_peers(const peer_view& requester, const peer_view* candidates,
                                    size_t count, const exclusion_rules& rules, size_t numwant,
                                    uint64_t seed) {
  std::vector<sort_entry> entries;
  entries.reserve(count);
  const std::string_view self = requester.id();
  for (size_t i = 0; i < count; ++i) {
    const peer_view& c = candidates[i];
    if (c.network == network_type::cellular) continue;
    if (c.id() == self) continue;
    if (std::find(rules.excluded_asns.begin(), rules.excluded_asns.end(), c.asn) !=
        rules.excluded_asns.end())
      continue;
    if (country_known(c.country) &&
        std::find(rules.excluded_countries.begin(), rules.excluded_countries.end(),
                  country_code(c.country)) != rules.excluded_countries.end())
      continue;
    if (rules.same_country_only &&
        (!country_known(c.country) || c.country[0] != requester.country[0] ||
         c.country[1] != requester.country[1]))
      continue;
    match_tier tier = classify_match(requester, c);
    uint64_t key = static_cast<uint64_t>(tier) << 62;
    key |= static_cast<uint64_t>(63 - capacity_class(c.upload_kbps)) << 56;
    key |= mix(seed ^ id_hash(c)) >> 8;
    entries.push_back({key, &c, tier});
  }
  size_t n = std::min(numwant, entries.size());
  auto by_key = [](const sort_entry& a, const sort_entry& b) { return a.key < b.key; };
  std::partial_sort(entries.begin(), entries.begin() + n, entries.end(), by_key);
  std::vector<ranked_peer> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back({entries[i].peer, entries[i].tier});
  return out;
}

}  // namespace p2p
