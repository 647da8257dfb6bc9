#include "client/segment_store.h"

#include <string>
#include <vector>

#include "client/tests/fake_sources.h"
#include "third_party/cmocka.hpp"

namespace {

using namespace p2p;

void bounded_and_evicted_behind_playhead(void**) {
  segment_store store(1000);
  std::vector<std::pair<content_hash, bool>> events;
  store.set_listener([&](const content_hash& h, bool added) { events.emplace_back(h, added); });
  std::vector<content_hash> hashes;
  for (int i = 0; i < 4; ++i) {
    std::string bytes(300, static_cast<char>('a' + i));
    hashes.push_back(p2p_test::hash_bytes(bytes));
    assert_true(store.put(hashes.back(), 2.0 * i, bytes));
  }
  // 4 x 300 > 1000: the oldest position went first.
  assert_int_equal(store.size(), 3);
  assert_false(store.contains(hashes[0]));
  assert_true(store.contains(hashes[3]));
  assert_true(store.bytes() <= store.capacity());
  assert_false(events[3].second);
  assert_true(events[3].first == hashes[0]);
  assert_false(store.put(hashes[0], 0, std::string(1001, 'x')));
  store.evict_behind(6.0, 1.0);  // keeps positions >= 5
  assert_int_equal(store.size(), 1);
  assert_true(store.contains(hashes[3]));
  assert_true(integrity_matches(hashes[3], std::string(300, 'd')));
  assert_false(integrity_matches(hashes[3], std::string(300, 'e')));
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {cmocka_unit_test(bounded_and_evicted_behind_playhead)};
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
