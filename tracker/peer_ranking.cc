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
int capacity_class(uint32_t kbps) { return kbps ? 32 - __builtin_clz(kbps) : 0; }

uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

bool country_known(const char c[2]) { return c[0] != 0 && c[1] != 0; }

// Leading bytes of a 16-byte address as two 8-byte words, masks in memory order so
// they hold on either endianness.
uint64_t leading_bytes_mask(size_t n) {
  uint64_t m = 0;
  std::memset(&m, 0xff, n);
  return m;
}

// classify_match with the requester's side worked out once per request: this runs
// for every candidate, so it is two 8-byte compares and no static-local guards.
class requester_matcher {
 public:
  requester_matcher(const peer_address& address, uint32_t asn, const char country[2])
      : first4_(leading_bytes_mask(4)),
        first6_(leading_bytes_mask(6)),
        first7_(leading_bytes_mask(7)),
        mapped_lo_(mapped_lo()),
        hi_(load64(address.bytes)),
        lo_(load64(address.bytes + 8)),
        v4_(is_v4(hi_, lo_)),
        asn_(asn),
        country_{country[0], country[1]},
        country_known_(country_known(country)) {}

  match_tier classify(const peer_address& address, uint32_t asn, const char country[2]) const {
    const uint64_t hi = load64(address.bytes);
    const uint64_t lo = load64(address.bytes + 8);
    if (v4_ == is_v4(hi, lo)) {
      // /24 of an IPv4-mapped address: the first 15 bytes; /48 of IPv6: the first 6.
      bool same = v4_ ? (hi_ == hi && ((lo_ ^ lo) & first7_) == 0) : ((hi_ ^ hi) & first6_) == 0;
      if (same) return match_tier::subnet;
    }
    if (asn_ != 0 && asn_ == asn) return match_tier::asn;
    if (country_known_ && country_[0] == country[0] && country_[1] == country[1])
      return match_tier::country;
    return match_tier::other;
  }

 private:
  static uint64_t mapped_lo() {
    static const uint8_t kMapped[8] = {0, 0, 0xff, 0xff,
                                       0, 0, 0,    0};  // bytes 8..15 of ::ffff:a.b.c.d
    return load64(kMapped);
  }
  bool is_v4(uint64_t hi, uint64_t lo) const { return hi == 0 && (lo & first4_) == mapped_lo_; }

  const uint64_t first4_, first6_, first7_, mapped_lo_;
  const uint64_t hi_, lo_;
  const bool v4_;
  const uint32_t asn_;
  const char country_[2];
  const bool country_known_;
};

// The low 56 bits of a sort key: the seeded hash that orders equals.
constexpr uint64_t kHashBits = (uint64_t{1} << 56) - 1;

struct sort_entry {
  uint64_t key;  // tier, capacity class and the seeded hash packed: smaller ranks first
  uint32_t index;
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

match_tier classify_match(const peer_address& requester_address, uint32_t requester_asn,
                          const char requester_country[2], const peer_address& address,
                          uint32_t asn, const char country[2]) {
  return requester_matcher(requester_address, requester_asn, requester_country)
      .classify(address, asn, country);
}

match_tier classify_match(const peer_view& requester, const peer_view& candidate) {
  return classify_match(requester.address, requester.asn, requester.country, candidate.address,
                        candidate.asn, candidate.country);
}

std::vector<ranked_summary> rank_summaries(const peer_summary& requester,
                                           const peer_summary* candidates, size_t count,
                                           const exclusion_rules& rules, size_t numwant,
                                           uint64_t seed) {
  static thread_local std::vector<sort_entry> entries;
  entries.clear();
  const requester_matcher matcher(requester.address, requester.asn, requester.country);
  if (entries.capacity() < std::min(numwant, count)) entries.reserve(std::min(numwant, count));
  for (size_t i = 0; i < count; ++i) {
    const peer_summary& c = candidates[i];
    if (c.network == network_type::cellular) continue;
    if (!rules.excluded_asns.empty() &&
        std::find(rules.excluded_asns.begin(), rules.excluded_asns.end(), c.asn) !=
            rules.excluded_asns.end())
      continue;
    if (country_known(c.country) && !rules.excluded_countries.empty() &&
        std::find(rules.excluded_countries.begin(), rules.excluded_countries.end(),
                  country_code(c.country)) != rules.excluded_countries.end())
      continue;
    if (rules.same_country_only &&
        (!country_known(c.country) || c.country[0] != requester.country[0] ||
         c.country[1] != requester.country[1]))
      continue;
    match_tier tier = matcher.classify(c.address, c.asn, c.country);
    uint64_t key = static_cast<uint64_t>(tier) << 62;
    key |= static_cast<uint64_t>(63 - capacity_class(c.upload_kbps)) << 56;
    // Once the list is full, a worse tier or capacity class loses whatever its hash.
    if (entries.size() == numwant && numwant > 0 && key > (entries.back().key | kHashBits))
      continue;
    key |= mix(seed ^ c.id_hash) >> 8;
    // Keep only the best `numwant`, sorted: most candidates lose to the current worst
    // with one comparison, so this beats sorting or selecting over all of them.
    sort_entry entry{key, static_cast<uint32_t>(i), tier};
    if (entries.size() < numwant)
      entries.push_back(entry);
    else if (numwant == 0 || entry.key >= entries.back().key)
      continue;
    // Shift the worse entries up one place and drop the new one into the gap.
    size_t k = entries.size() - 1;
    for (; k > 0 && entry.key < entries[k - 1].key; --k) entries[k] = entries[k - 1];
    entries[k] = entry;
  }
  size_t n = entries.size();
  std::vector<ranked_summary> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back({&candidates[entries[i].index], entries[i].tier});
  return out;
}

std::vector<ranked_peer> rank_peers(const peer_view& requester, const peer_view* candidates,
                                    size_t count, const exclusion_rules& rules, size_t numwant,
                                    uint64_t seed) {
  auto summarise = [](const peer_view& v, uint32_t ref) {
    peer_summary s;
    s.ref = ref;
    s.id_hash = static_cast<uint32_t>(id_hash(v) ^ (id_hash(v) >> 32));
    s.address = v.address;
    s.asn = v.asn;
    s.country[0] = v.country[0];
    s.country[1] = v.country[1];
    s.network = v.network;
    s.upload_kbps = v.upload_kbps;
    return s;
  };
  std::vector<peer_summary> summaries;
  summaries.reserve(count);
  const std::string_view self = requester.id();
  for (size_t i = 0; i < count; ++i)
    if (candidates[i].id() != self)
      summaries.push_back(summarise(candidates[i], static_cast<uint32_t>(i)));
  std::vector<ranked_summary> ranked = rank_summaries(summarise(requester, 0), summaries.data(),
                                                      summaries.size(), rules, numwant, seed);
  std::vector<ranked_peer> out;
  out.reserve(ranked.size());
  for (const ranked_summary& r : ranked) out.push_back({&candidates[r.peer->ref], r.tier});
  return out;
}

}  // namespace p2p
