#include "tracker/swarm_snapshots.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "third_party/cmocka.hpp"
#include "tracker/registry_testing.h"

namespace {

using p2p::announce_refs;
using p2p::network_type;
using p2p::peer_announcement;
using p2p::peer_summary;
using p2p::registry_status;
using p2p::swarm_registry;
using p2p::swarm_snapshots;

using p2p::testing::block;

// As p2p::testing::peer, with a Wi-Fi default and 1 Mbit/s upload.
peer_announcement peer(const std::string& id, const std::string& swarm, uint8_t last_octet = 1,
                       uint32_t kbps = 1000, network_type net = network_type::wifi) {
  return p2p::testing::peer(id, swarm, last_octet, kbps, net);
}

swarm_registry make(block& b, uint32_t cap, int64_t ttl) {
  swarm_registry r;
  bool reused = true;
  assert_true(r.attach(b.data, b.size, 42, &reused));
  r.set_limits({cap, ttl, 10});
  return r;
}

announce_refs announce(swarm_registry& r, const peer_announcement& a, int64_t now) {
  announce_refs at;
  registry_status st = r.announce(a, now, nullptr, &at);
  assert_true(st == registry_status::ok || st == registry_status::added ||
              st == registry_status::moved);
  return at;
}

using member_list = std::vector<std::tuple<uint32_t, uint32_t, std::string>>;

// The live, non-cellular members of a fresh walk as (ref, upload, id), sorted by ref.
member_list walk(const swarm_registry& r, const announce_refs& at, int64_t now) {
  std::vector<peer_summary> all(r.swarm_size(at));
  all.resize(r.swarm_summaries(at, now, all.data(), all.size()));
  member_list out;
  for (const peer_summary& s : all)
    if (s.network != network_type::cellular)
      out.emplace_back(s.ref, s.upload_kbps, std::string(r.id_at(s.ref)));
  std::sort(out.begin(), out.end());
  return out;
}

member_list sorted(const p2p::swarm_copy& copy) {
  member_list out;
  for (size_t i = 0; i < copy.members.size(); ++i)
    out.emplace_back(copy.members[i].ref, copy.members[i].upload_kbps, std::string(copy.id(i)));
  std::sort(out.begin(), out.end());
  return out;
}

void version_moves_on_changes_only(void**) {
  block b(1 << 20);
  swarm_registry r = make(b, 100, 90);
  announce(r, peer("a", "s"), 1000);
  announce_refs at = announce(r, peer("b", "s"), 1000);
  uint64_t v = r.swarm_version(at);
  at = announce(r, peer("a", "s"), 1001);  // plain refresh
  assert_true(r.swarm_version(at) == v);
  at = announce(r, peer("a", "s", 1, 2000), 1002);  // upload changed
  assert_true(r.swarm_version(at) != v);
  v = r.swarm_version(at);
  at = announce(r, peer("a", "s", 7, 2000), 1003);  // address changed
  assert_true(r.swarm_version(at) != v);
  v = r.swarm_version(at);
  at = announce(r, peer("c", "s"), 1003);  // joined
  assert_true(r.swarm_version(at) != v);
  v = r.swarm_version(at);
  assert_true(r.remove("c"));  // left
  at = announce(r, peer("a", "s", 7, 2000), 1004);
  assert_true(r.swarm_version(at) != v);
  v = r.swarm_version(at);
  announce(r, peer("b", "t"), 1004);  // moved away
  at = announce(r, peer("a", "s", 7, 2000), 1004);
  assert_true(r.swarm_version(at) != v);
}

void copy_reused_until_something_changes(void**) {
  block b(1 << 20);
  swarm_registry r = make(b, 100, 90);
  swarm_snapshots snapshots;
  for (int i = 0; i < 10; ++i)
    announce(r, peer("p" + std::to_string(i), "s", static_cast<uint8_t>(i), 100 * i), 1000);
  announce(r, peer("cell", "s", 50, 5000, network_type::cellular), 1000);
  announce_refs at = announce(r, peer("p0", "s"), 1001);
  assert_int_equal(snapshots.members(r, at, 1001).members.size(), 10);  // cellular left out
  assert_int_equal(snapshots.taken(), 1);
  at = announce(r, peer("p3", "s", 3, 300), 1002);
  assert_true(sorted(snapshots.members(r, at, 1002)) == walk(r, at, 1002));
  assert_int_equal(snapshots.reused(), 1);
  at = announce(r, peer("p10", "s", 10, 10), 1003);  // a new member: copied again
  assert_int_equal(snapshots.members(r, at, 1003).members.size(), 11);
  assert_int_equal(snapshots.taken(), 2);
  // Nobody but p0 announces again: by 1094 the others (last seen 1000..1003) expire,
  // and the copy must not offer them although the version did not move.
  at = announce(r, peer("p0", "s"), 1094);
  member_list live = walk(r, at, 1094);
  assert_true(sorted(snapshots.members(r, at, 1094)) == live);
  assert_int_equal(live.size(), 1);
  // An expired peer not yet dropped comes back with the same fields: offered again.
  at = announce(r, peer("p5", "s", 5, 500), 1095);
  assert_true(sorted(snapshots.members(r, at, 1095)) == walk(r, at, 1095));
  assert_int_equal(snapshots.members(r, at, 1095).members.size(), 2);
}

void copy_follows_the_callers_ttl(void**) {
  // Two locations may share a zone with different ttls: a copy taken under one is
  // not reused under the other.
  block b(1 << 20);
  swarm_registry r = make(b, 100, 900);
  swarm_snapshots snapshots;
  announce(r, peer("old", "s"), 1000);
  announce_refs at = announce(r, peer("new", "s"), 1200);
  assert_int_equal(snapshots.members(r, at, 1200).members.size(), 2);
  r.set_limits({100, 90, 10});
  assert_int_equal(snapshots.members(r, at, 1200).members.size(), 1);
  r.set_limits({100, 900, 10});
  assert_int_equal(snapshots.members(r, at, 1200).members.size(), 2);
}

void bounded_memory(void**) {
  block b(1 << 20);
  swarm_registry r = make(b, 100, 90);
  swarm_snapshots snapshots(25);
  for (int s = 0; s < 5; ++s)
    for (int i = 0; i < 10; ++i)
      announce(r, peer("p" + std::to_string(s) + "-" + std::to_string(i), "s" + std::to_string(s)),
               1000);
  for (int round = 0; round < 3; ++round)
    for (int s = 0; s < 5; ++s) {
      announce_refs at =
          announce(r, peer("p" + std::to_string(s) + "-0", "s" + std::to_string(s)), 1001 + round);
      assert_true(sorted(snapshots.members(r, at, 1001 + round)) == walk(r, at, 1001 + round));
    }
  assert_true(snapshots.held() <= 25);
}

// Random joins, leaves, moves, field changes and expiry: the copy always equals a walk.
void random_operations_match_a_walk(void**) {
  block b(swarm_registry::min_block_size() * 8);
  swarm_registry r = make(b, 12, 40);
  swarm_snapshots snapshots(64);
  std::mt19937 rng(99);
  int64_t now = 1000;
  for (int step = 0; step < 30000; ++step) {
    now += rng() % 2;
    const int n = static_cast<int>(rng() % 60);
    const std::string id = "p" + std::to_string(n);
    // Mostly the peer's own swarm, address and network; now and then another swarm
    // (an ABR switch) or another capacity.
    const std::string swarm = "s" + std::to_string(rng() % 10 == 0 ? rng() % 6 : n % 6);
    const int op = static_cast<int>(rng() % 20);
    if (op < 17) {
      network_type net = n % 5 == 0 ? network_type::cellular : network_type::wifi;
      announce_refs at;
      registry_status st = r.announce(
          peer(id, swarm, static_cast<uint8_t>(n % 3), rng() % 20 == 0 ? 2000 : 1000, net), now,
          nullptr, &at);
      if (st != registry_status::full && st != registry_status::invalid)
        assert_true(sorted(snapshots.members(r, at, now)) == walk(r, at, now));
    } else if (op < 19) {
      r.remove(id);
    } else {
      r.expire(now, 5);
    }
  }
  print_message("copies reused %llu times, taken %llu times\n",
                static_cast<unsigned long long>(snapshots.reused()),
                static_cast<unsigned long long>(snapshots.taken()));
  assert_true(snapshots.reused() > 1000);
  assert_true(snapshots.taken() > 1000);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(version_moves_on_changes_only),
      cmocka_unit_test(copy_reused_until_something_changes),
      cmocka_unit_test(copy_follows_the_callers_ttl),
      cmocka_unit_test(bounded_memory),
      cmocka_unit_test(random_operations_match_a_walk),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
