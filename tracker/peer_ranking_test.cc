#include "tracker/peer_ranking.h"

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "third_party/cmocka.hpp"

namespace {

using p2p::match_tier;
using p2p::network_type;
using p2p::peer_view;

peer_view v4(const char* id, uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint32_t asn,
             const char* country, network_type net = network_type::wifi, uint32_t kbps = 1000) {
  peer_view p;
  p.peer_id_len = static_cast<uint8_t>(std::strlen(id));
  std::memcpy(p.peer_id, id, p.peer_id_len);
  uint8_t ip[4] = {a, b, c, d};
  p.address = p2p::peer_address::from_v4(ip);
  p.asn = asn;
  p.country[0] = country[0];
  p.country[1] = country[1];
  p.network = net;
  p.upload_kbps = kbps;
  return p;
}

std::vector<std::string> ids(const std::vector<p2p::ranked_peer>& ranked) {
  std::vector<std::string> out;
  for (auto& r : ranked) out.emplace_back(r.peer->id());
  return out;
}

const peer_view kMe = v4("me", 192, 0, 2, 10, 64500, "DE");

void tiers_in_order(void**) {
  std::vector<peer_view> c = {
      v4("other", 8, 8, 8, 8, 15169, "US"),
      v4("country", 81, 1, 1, 1, 3320, "DE"),
      v4("asn", 198, 51, 100, 7, 64500, "DE"),
      v4("subnet", 192, 0, 2, 99, 64501, "FR"),
  };
  auto r = p2p::rank_peers(kMe, c.data(), c.size(), {}, 10, 1);
  assert_int_equal(r.size(), 4);
  std::vector<std::string> want = {"subnet", "asn", "country", "other"};
  assert_true(ids(r) == want);
  assert_int_equal(r[0].tier, match_tier::subnet);
  assert_int_equal(r[1].tier, match_tier::asn);
  assert_int_equal(r[2].tier, match_tier::country);
  assert_int_equal(r[3].tier, match_tier::other);
}

void ipv6_slash48(void**) {
  uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0xff};
  uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0x00, 0x01, 9};
  uint8_t c[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2};
  peer_view me, same, far;
  me.address = p2p::peer_address::from_v6(a);
  same.address = p2p::peer_address::from_v6(b);
  far.address = p2p::peer_address::from_v6(c);
  assert_int_equal(p2p::classify_match(me, same), match_tier::subnet);
  assert_int_equal(p2p::classify_match(me, far), match_tier::other);
  // An IPv4 peer never shares a prefix with an IPv6 one.
  assert_int_equal(p2p::classify_match(me, kMe), match_tier::other);
}

void capacity_weighs_within_tier_only(void**) {
  std::vector<peer_view> c = {
      v4("slow-subnet", 192, 0, 2, 1, 0, "\0\0", network_type::wifi, 500),
      v4("fast-other", 9, 9, 9, 9, 0, "\0\0", network_type::ethernet, 100000),
      v4("fast-subnet", 192, 0, 2, 2, 0, "\0\0", network_type::ethernet, 50000),
  };
  auto r = p2p::rank_peers(kMe, c.data(), c.size(), {}, 10, 7);
  std::vector<std::string> want = {"fast-subnet", "slow-subnet", "fast-other"};
  assert_true(ids(r) == want);
}

void cellular_and_self_never_offered(void**) {
  std::vector<peer_view> c = {
      v4("cell", 192, 0, 2, 3, 64500, "DE", network_type::cellular, 90000),
      v4("me", 192, 0, 2, 10, 64500, "DE"),
      v4("wired", 8, 8, 8, 8, 1, "US", network_type::ethernet),
  };
  auto r = p2p::rank_peers(kMe, c.data(), c.size(), {}, 10, 1);
  std::vector<std::string> want = {"wired"};
  assert_true(ids(r) == want);
}

void exclusion_rules_apply(void**) {
  std::vector<peer_view> c = {
      v4("ru", 5, 5, 5, 5, 1, "RU"),
      v4("as666", 6, 6, 6, 6, 666, "DE"),
      v4("fr", 7, 7, 7, 7, 2, "FR"),
      v4("de", 8, 8, 8, 8, 3, "DE"),
  };
  p2p::exclusion_rules rules;
  rules.excluded_countries.push_back(p2p::country_code("RU"));
  rules.excluded_asns.push_back(666);
  auto r = p2p::rank_peers(kMe, c.data(), c.size(), rules, 10, 1);
  std::vector<std::string> want = {"de", "fr"};
  assert_true(ids(r) == want);
  rules.same_country_only = true;
  r = p2p::rank_peers(kMe, c.data(), c.size(), rules, 10, 1);
  want = {"de"};
  assert_true(ids(r) == want);
}

void numwant_caps(void**) {
  std::vector<peer_view> c;
  for (int i = 0; i < 50; ++i)
    c.push_back(v4(("p" + std::to_string(i)).c_str(), 9, 9, 9, i, 0, "\0\0"));
  assert_int_equal(p2p::rank_peers(kMe, c.data(), c.size(), {}, 7, 1).size(), 7);
  assert_int_equal(p2p::rank_peers(kMe, c.data(), c.size(), {}, 0, 1).size(), 0);
  assert_int_equal(p2p::rank_peers(kMe, c.data(), c.size(), {}, 500, 1).size(), 50);
}

void seed_is_deterministic_and_spreads_load(void**) {
  std::vector<peer_view> c;
  for (int i = 0; i < 20; ++i)
    c.push_back(v4(("p" + std::to_string(i)).c_str(), 9, 9, 9, i, 0, "\0\0"));
  auto a = ids(p2p::rank_peers(kMe, c.data(), c.size(), {}, 5, 99));
  auto b = ids(p2p::rank_peers(kMe, c.data(), c.size(), {}, 5, 99));
  assert_true(a == b);
  // Over many seeds every equally good peer is first sometimes.
  std::map<std::string, int> firsts;
  for (uint64_t seed = 0; seed < 2000; ++seed)
    ++firsts[p2p::rank_peers(kMe, c.data(), c.size(), {}, 1, seed)[0].peer->id().data()];
  assert_int_equal(firsts.size(), 20);
  for (auto& [id, n] : firsts) assert_true(n > 40 && n < 200);  // ~100 each
}

void partial_group_is_a_fair_sample(void**) {
  // Two fast peers always win; the other three places go to slow ones, each about
  // equally often, and a slow peer never ranks above a fast one.
  std::vector<peer_view> c;
  for (int i = 0; i < 12; ++i)
    c.push_back(
        v4(("slow" + std::to_string(i)).c_str(), 9, 9, 9, i, 0, "\0\0", network_type::wifi, 1000));
  c.insert(c.begin() + 4, v4("fast-a", 9, 9, 8, 1, 0, "\0\0", network_type::ethernet, 90000));
  c.insert(c.begin() + 9, v4("fast-b", 9, 9, 8, 2, 0, "\0\0", network_type::ethernet, 90000));
  std::map<std::string, int> chosen;
  std::map<std::string, int> first;
  for (uint64_t seed = 0; seed < 3000; ++seed) {
    auto r = ids(p2p::rank_peers(kMe, c.data(), c.size(), {}, 5, seed));
    assert_int_equal(r.size(), 5);
    assert_true((r[0] == "fast-a" && r[1] == "fast-b") || (r[0] == "fast-b" && r[1] == "fast-a"));
    ++first[r[0]];
    for (size_t k = 2; k < r.size(); ++k) {
      assert_true(r[k].rfind("slow", 0) == 0);
      ++chosen[r[k]];
    }
  }
  assert_int_equal(chosen.size(), 12);
  for (auto& [id, n] : chosen) assert_true(n > 550 && n < 950);  // 3000 * 3 / 12 = 750
  assert_true(first["fast-a"] > 1200 && first["fast-b"] > 1200);
}

void excluded_and_cellular_only(void**) {
  std::vector<peer_view> c = {
      v4("cell", 9, 9, 9, 1, 0, "\0\0", network_type::cellular),
      v4("ru", 5, 5, 5, 5, 1, "RU"),
  };
  p2p::exclusion_rules rules;
  rules.excluded_countries.push_back(p2p::country_code("RU"));
  assert_int_equal(p2p::rank_peers(kMe, c.data(), c.size(), rules, 10, 3).size(), 0);
  assert_int_equal(p2p::rank_peers(kMe, c.data(), 0, rules, 10, 3).size(), 0);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(tiers_in_order),
      cmocka_unit_test(ipv6_slash48),
      cmocka_unit_test(capacity_weighs_within_tier_only),
      cmocka_unit_test(cellular_and_self_never_offered),
      cmocka_unit_test(exclusion_rules_apply),
      cmocka_unit_test(numwant_caps),
      cmocka_unit_test(seed_is_deterministic_and_spreads_load),
      cmocka_unit_test(partial_group_is_a_fair_sample),
      cmocka_unit_test(excluded_and_cellular_only),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
