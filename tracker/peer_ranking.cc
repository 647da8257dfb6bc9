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

// A candidate's rank group: tier in the top two bits, then the capacity class
// inverted, so a smaller group ranks first. kExcluded is for candidates never offered.
constexpr uint32_t kGroups = ranking_scratch::kGroups;
constexpr uint32_t kExcluded = kGroups;

uint32_t group_of(match_tier tier, uint32_t kbps) {
  return (static_cast<uint32_t>(tier) << 6) | static_cast<uint32_t>(63 - capacity_class(kbps));
}

bool excluded_by(const exclusion_rules& rules, const peer_summary& c, const char country[2]) {
  if (!rules.excluded_asns.empty() &&
      std::find(rules.excluded_asns.begin(), rules.excluded_asns.end(), c.asn) !=
          rules.excluded_asns.end())
    return true;
  if (country_known(c.country) && !rules.excluded_countries.empty() &&
      std::find(rules.excluded_countries.begin(), rules.excluded_countries.end(),
                country_code(c.country)) != rules.excluded_countries.end())
    return true;
  return rules.same_country_only &&
         (!country_known(c.country) || c.country[0] != country[0] || c.country[1] != country[1]);
}

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

void rank_summaries(const peer_summary& requester, const peer_summary* candidates, size_t count,
                    uint32_t skip_ref, const exclusion_rules& rules, size_t numwant, uint64_t seed,
                    ranking_scratch* scratch, std::vector<ranked_summary>* out) {
  out->clear();
  if (count == 0 || numwant == 0) return;
  ranking_scratch& s = *scratch;
  s.group.resize(count);
  s.slot.resize(std::min(numwant, count) + 1);
  std::memset(s.size, 0, sizeof s.size);
  // Occupied groups, one word per tier (bit = inverted capacity class), in registers.
  uint64_t occupied[4] = {0, 0, 0, 0};
  uint64_t tier0 = 0, tier1 = 0, tier2 = 0, tier3 = 0;
  const requester_matcher matcher(requester.address, requester.asn, requester.country);
  const bool has_rules =
      !rules.excluded_asns.empty() || !rules.excluded_countries.empty() || rules.same_country_only;

  // Pass 1: every candidate's group, and the size of each group.
  for (size_t i = 0; i < count; ++i) {
    const peer_summary& c = candidates[i];
    uint32_t g = group_of(matcher.classify(c.address, c.asn, c.country), c.upload_kbps);
    if (c.network == network_type::cellular || c.ref == skip_ref ||
        (has_rules && excluded_by(rules, c, requester.country)))
      g = kExcluded;
    s.group[i] = static_cast<uint16_t>(g);
    ++s.size[g];
    const uint64_t bit = uint64_t{1} << (g % 64);
    const uint32_t tier = g / 64;  // 4 for excluded: no word
    tier0 |= tier == 0 ? bit : 0;
    tier1 |= tier == 1 ? bit : 0;
    tier2 |= tier == 2 ? bit : 0;
    tier3 |= tier == 3 ? bit : 0;
  }
  occupied[0] = tier0;
  occupied[1] = tier1;
  occupied[2] = tier2;
  occupied[3] = tier3;

  // The best groups fill the answer in order; the group where it fills up gives only
  // part of its members. Each group's order is rotated by a seeded amount, so every
  // member of a group is equally likely at every place over many requesters.
  const uint32_t spare = static_cast<uint32_t>(s.slot.size() - 1);
  uint32_t filled = 0;
  uint64_t rotation = mix(seed);
  for (uint32_t word = 0; word < kGroups / 64; ++word) {
    for (uint64_t bits = occupied[word]; bits != 0; bits &= bits - 1) {
      uint32_t g = word * 64 + static_cast<uint32_t>(__builtin_ctzll(bits));
      uint32_t room = static_cast<uint32_t>(numwant) - std::min<uint32_t>(filled, numwant);
      s.take[g] = std::min(s.size[g], room);
      s.first[g] = filled;
      s.seen[g] = 0;
      s.shift[g] = static_cast<uint32_t>(rotation % s.size[g]);
      rotation = mix(rotation + g);
      filled += s.take[g];
    }
  }
  s.size[kExcluded] = 1;  // keeps the arithmetic below defined; nothing is taken
  s.take[kExcluded] = s.seen[kExcluded] = s.shift[kExcluded] = s.first[kExcluded] = 0;

  // Pass 2, without data-dependent branches: the candidate's place in its group's
  // rotated order decides whether it wins and where it goes; losers write the spare slot.
  for (size_t i = 0; i < count; ++i) {
    const uint32_t g = s.group[i];
    const uint32_t place_unrotated = s.seen[g]++;
    uint32_t place = place_unrotated + s.size[g] - s.shift[g];
    place = place >= s.size[g] ? place - s.size[g] : place;
    const bool wins = place < s.take[g];
    s.slot[wins ? s.first[g] + place : spare] = static_cast<uint32_t>(i);
  }
  out->reserve(filled);
  for (uint32_t k = 0; k < filled; ++k) {
    const uint32_t i = s.slot[k];
    out->push_back({&candidates[i], static_cast<match_tier>(s.group[i] >> 6)});
  }
}

std::vector<ranked_peer> rank_peers(const peer_view& requester, const peer_view* candidates,
                                    size_t count, const exclusion_rules& rules, size_t numwant,
                                    uint64_t seed) {
  auto summarise = [](const peer_view& v, uint32_t ref) {
    peer_summary s;
    s.ref = ref;
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
  std::vector<ranked_summary> ranked;
  ranking_scratch scratch;
  rank_summaries(summarise(requester, kNoSkip), summaries.data(), summaries.size(), kNoSkip, rules,
                 numwant, seed, &scratch, &ranked);
  std::vector<ranked_peer> out;
  out.reserve(ranked.size());
  for (const ranked_summary& r : ranked) out.push_back({&candidates[r.peer->ref], r.tier});
  return out;
}

}  // namespace p2p
