#include "tracker/swarm_registry.h"

#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "third_party/cmocka.hpp"
#include "tracker/registry_testing.h"

namespace {

using p2p::peer_announcement;
using p2p::peer_view;
using p2p::registry_status;
using p2p::swarm_registry;

using p2p::testing::block;
using p2p::testing::peer;

swarm_registry make(block& b, uint32_t cap, int64_t ttl, int64_t min_evict_age) {
  swarm_registry r;
  bool reused = true;
  assert_true(r.attach(b.data, b.size, 42, &reused));
  assert_false(reused);
  r.set_limits({cap, ttl, min_evict_age});
  return r;
}

void bytes_per_peer_within_goal(void**) {
  block b(4 << 20);
  swarm_registry r = make(b, 1000, 90, 30);
  print_message("bytes per peer: %.1f, capacity %u peers\n", r.bytes_per_peer(),
                r.counters().peer_capacity);
  assert_true(r.bytes_per_peer() <= 256.0);
  assert_true(r.counters().peer_capacity >= (4u << 20) / 256);
}

void announce_find_and_order(void**) {
  block b(64 << 10);
  swarm_registry r = make(b, 100, 90, 30);
  assert_int_equal(r.announce(peer("a", "s1"), 100, nullptr), registry_status::added);
  assert_int_equal(r.announce(peer("b", "s1"), 101, nullptr), registry_status::added);
  assert_int_equal(r.announce(peer("c", "s2"), 102, nullptr), registry_status::added);
  assert_int_equal(r.announce(peer("a", "s1"), 103, nullptr), registry_status::ok);
  peer_view v[8];
  assert_int_equal(r.swarm_peers("s1", 103, v, 8), 2);
  assert_string_equal(v[0].peer_id, "a");  // re-announced: freshest
  assert_string_equal(v[1].peer_id, "b");
  char swarm[64];
  size_t len = 0;
  assert_true(r.find("c", v, swarm, &len));
  assert_int_equal(len, 2);
  assert_memory_equal(swarm, "s2", 2);
  assert_true(v[0].address.is_v4());
  assert_int_equal(r.counters().peer_count, 3);
  assert_int_equal(r.counters().swarm_count, 2);
  assert_false(r.find("zz", v));
}

void invalid_ids_refused(void**) {
  block b(64 << 10);
  swarm_registry r = make(b, 100, 90, 30);
  assert_int_equal(r.announce(peer("bad id", "s"), 1, nullptr), registry_status::invalid);
  assert_int_equal(r.announce(peer("a", ""), 1, nullptr), registry_status::invalid);
  assert_int_equal(r.announce(peer(std::string(65, 'x'), "s"), 1, nullptr),
                   registry_status::invalid);
  assert_int_equal(r.announce(peer("a", std::string(65, 's')), 1, nullptr),
                   registry_status::invalid);
  assert_int_equal(r.counters().peer_count, 0);
}

void peers_expire(void**) {
  block b(64 << 10);
  swarm_registry r = make(b, 100, 60, 30);
  r.announce(peer("old", "s"), 1000, nullptr);
  r.announce(peer("new", "s"), 1030, nullptr);
  peer_view v[4];
  assert_int_equal(r.swarm_peers("s", 1059, v, 4), 2);
  // At 1060 "old" is 60 s silent: not offered, then dropped by expire().
  assert_int_equal(r.swarm_peers("s", 1060, v, 4), 1);
  assert_string_equal(v[0].peer_id, "new");
  assert_int_equal(r.expire(1060, 100), 1);
  assert_false(r.find("old", nullptr));
  assert_true(r.find("new", nullptr));
  assert_int_equal(r.expire(1090, 100), 1);
  assert_int_equal(r.counters().peer_count, 0);
  assert_int_equal(r.counters().swarm_count, 0);  // empty swarm freed
  assert_int_equal(r.counters().expired, 2);
}

void swarm_cap_evicts_stalest_or_refuses(void**) {
  block b(64 << 10);
  swarm_registry r = make(b, 3, 90, 30);
  r.announce(peer("p1", "s"), 100, nullptr);
  r.announce(peer("p2", "s"), 110, nullptr);
  r.announce(peer("p3", "s"), 120, nullptr);
  int64_t retry = 0;
  // p1 is 20 s old, protected for 30 s: refused, retry in 10 s.
  assert_int_equal(r.announce(peer("p4", "s"), 120, &retry), registry_status::full);
  assert_int_equal(retry, 10);
  assert_int_equal(r.counters().refused, 1);
  // 30 s later p1 may go.
  assert_int_equal(r.announce(peer("p4", "s"), 130, nullptr), registry_status::added);
  assert_false(r.find("p1", nullptr));
  assert_int_equal(r.swarm_size("s"), 3);
  assert_int_equal(r.counters().evicted, 1);
  // Another swarm is not affected by this one's cap.
  assert_int_equal(r.announce(peer("q1", "t"), 130, nullptr), registry_status::added);
}

void full_block_evicts_oldest_or_refuses(void**) {
  block b(swarm_registry::min_block_size());
  swarm_registry r = make(b, 1000, 90, 30);
  uint32_t cap = r.counters().peer_capacity;
  for (uint32_t i = 0; i < cap; ++i)
    assert_int_equal(
        r.announce(peer("p" + std::to_string(i), "s" + std::to_string(i % 3)), 100 + i, nullptr),
        registry_status::added);
  int64_t retry = 0;
  assert_int_equal(r.announce(peer("late", "s0"), 110, &retry), registry_status::full);
  assert_int_equal(retry, 20);  // p0 (seen at 100) becomes evictable at 130
  assert_int_equal(r.announce(peer("late", "s0"), 130, nullptr), registry_status::added);
  assert_false(r.find("p0", nullptr));
  assert_true(r.find("p1", nullptr));
  // Expired peers are reclaimed first, in bulk.
  assert_int_equal(r.announce(peer("later", "s9"), 100 + cap + 90, nullptr),
                   registry_status::added);
  assert_true(r.counters().expired > 0);
}

void attach_reuses_block_after_reload(void**) {
  block b(64 << 10);
  {
    swarm_registry r = make(b, 100, 90, 30);
    r.announce(peer("a", "s"), 100, nullptr);
    r.announce(peer("b", "s"), 100, nullptr);
  }
  swarm_registry again;
  bool reused = false;
  assert_true(again.attach(b.data, b.size, 7, &reused));
  assert_true(reused);
  again.set_limits({100, 90, 30});
  peer_view v[4];
  assert_int_equal(again.swarm_peers("s", 101, v, 4), 2);
  assert_int_equal(again.announce(peer("c", "s"), 102, nullptr), registry_status::added);

  // Another process binds without formatting; garbage is not taken for a registry.
  swarm_registry bound;
  assert_true(bound.open(b.data, b.size));
  assert_int_equal(bound.counters().peer_count, 3);
  assert_false(bound.open(b.data, b.size - 8));

  // A different size is a different zone: formatted afresh.
  swarm_registry other;
  assert_true(other.attach(b.data, b.size - 8, 7, &reused));
  assert_false(reused);
  assert_int_equal(other.counters().peer_count, 0);
  block garbage(64 << 10);
  assert_false(bound.open(garbage.data, garbage.size));
  // Too small or misaligned blocks are refused.
  assert_false(other.attach(b.data, 100, 7, &reused));
  assert_false(other.attach(b.data + 1, b.size - 8, 7, &reused));
}

void moving_swarms(void**) {
  block b(64 << 10);
  swarm_registry r = make(b, 100, 90, 30);
  r.announce(peer("a", "low"), 100, nullptr);
  r.announce(peer("b", "low"), 100, nullptr);
  assert_int_equal(r.announce(peer("a", "high"), 101, nullptr), registry_status::moved);
  assert_int_equal(r.swarm_size("low"), 1);
  assert_int_equal(r.swarm_size("high"), 1);
  assert_int_equal(r.announce(peer("b", "high"), 102, nullptr), registry_status::moved);
  assert_int_equal(r.swarm_size("low"), 0);
  assert_int_equal(r.counters().swarm_count, 1);
}

void moving_into_a_full_table_reuses_own_swarm(void**) {
  block b(swarm_registry::min_block_size());
  swarm_registry r = make(b, 1000, 90, 30);
  uint32_t swarms = r.counters().swarm_capacity;
  for (uint32_t i = 0; i < swarms; ++i)
    r.announce(peer("p" + std::to_string(i), "s" + std::to_string(i)), 100, nullptr);
  assert_int_equal(r.counters().swarm_count, swarms);
  int64_t retry = 0;
  // A new peer in a new swarm: no swarm slot and no one evictable.
  assert_int_equal(r.announce(peer("new", "fresh"), 100, &retry), registry_status::full);
  // A peer alone in its swarm can move: its old swarm record is reused.
  assert_int_equal(r.announce(peer("p0", "fresh"), 101, nullptr), registry_status::moved);
  assert_int_equal(r.swarm_size("fresh"), 1);
  assert_int_equal(r.swarm_size("s0"), 0);
}

// Random operations against a simple model: links and counts must stay consistent.
void random_operations_match_model(void**) {
  block b(swarm_registry::min_block_size() * 4);
  swarm_registry r = make(b, 8, 50, 10);
  std::mt19937 rng(1234);
  std::map<std::string, std::pair<std::string, int64_t>> model;  // id -> swarm, seen
  int64_t now = 1000;
  for (int step = 0; step < 20000; ++step) {
    now += rng() % 3;
    std::string id = "p" + std::to_string(rng() % 120);
    std::string swarm = "s" + std::to_string(rng() % 12);
    int op = rng() % 10;
    if (op < 7) {
      registry_status st = r.announce(peer(id, swarm), now, nullptr);
      if (st != registry_status::full) model[id] = {swarm, now};
    } else if (op < 9) {
      r.remove(id);
      model.erase(id);
    } else {
      r.expire(now, 10);
    }
    // Drop from the model what the registry may legitimately have evicted/expired.
    for (auto it = model.begin(); it != model.end();) {
      it = r.find(it->first, nullptr) ? std::next(it) : model.erase(it);
    }
    assert_int_equal(r.counters().peer_count, model.size());
  }
  // Every swarm list agrees with the model.
  peer_view v[64];
  for (int s = 0; s < 12; ++s) {
    std::string swarm = "s" + std::to_string(s);
    size_t expected = 0;
    for (auto& [id, entry] : model) expected += entry.first == swarm;
    assert_int_equal(r.swarm_size(swarm), expected);
    assert_true(expected <= 8);
    assert_true(r.swarm_peers(swarm, now, v, 64) <= expected);
  }
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bytes_per_peer_within_goal),
      cmocka_unit_test(announce_find_and_order),
      cmocka_unit_test(invalid_ids_refused),
      cmocka_unit_test(peers_expire),
      cmocka_unit_test(swarm_cap_evicts_stalest_or_refuses),
      cmocka_unit_test(full_block_evicts_oldest_or_refuses),
      cmocka_unit_test(attach_reuses_block_after_reload),
      cmocka_unit_test(moving_swarms),
      cmocka_unit_test(moving_into_a_full_table_reuses_own_swarm),
      cmocka_unit_test(random_operations_match_model),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
