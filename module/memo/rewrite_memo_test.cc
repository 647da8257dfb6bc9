#include "module/memo/rewrite_memo.h"

#include "third_party/cmocka.hpp"

namespace {

#define assert_null_p(x) assert_null((x).get())
#define assert_nonnull_p(x) assert_non_null((x).get())

std::shared_ptr<const std::string> out(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

void hit_only_for_same_body_before_expiry(void**) {
  p2p::rewrite_memo memo(8, 1 << 20);
  memo.store("/a.m3u8|acme", "body1", out("out1"), 1000);
  auto found = memo.find("/a.m3u8|acme", "body1", 999);
  assert_non_null(found.get());
  assert_string_equal(found->c_str(), "out1");
  assert_null_p(memo.find("/a.m3u8|acme", "body2", 999));  // playlist changed
  assert_null_p(memo.find("/a.m3u8|acme", "body1", 999));  // and the stale entry is gone
  memo.store("/a.m3u8|acme", "body1", out("out1"), 1000);
  assert_null_p(memo.find("/a.m3u8|acme", "body1", 1000));  // expired
  assert_null_p(memo.find("/a.m3u8|other", "body1", 10));
  assert_int_equal(memo.entries(), 0);
  assert_int_equal(memo.bytes(), 0);
}

void bounded_by_entries_lru_first(void**) {
  p2p::rewrite_memo memo(2, 1 << 20);
  memo.store("a", "b", out("o"), 100);
  memo.store("b", "b", out("o"), 100);
  assert_nonnull_p(memo.find("a", "b", 1));  // a is now the most recent
  memo.store("c", "b", out("o"), 100);
  assert_nonnull_p(memo.find("a", "b", 1));
  assert_null_p(memo.find("b", "b", 1));
  assert_nonnull_p(memo.find("c", "b", 1));
  assert_int_equal(memo.entries(), 2);
}

void output_outlives_eviction(void**) {
  p2p::rewrite_memo memo(1, 1 << 20);
  memo.store("a", "b", out("first output"), 100);
  auto held = memo.find("a", "b", 1);
  memo.store("c", "b", out("o"), 100);  // evicts "a"
  assert_null_p(memo.find("a", "b", 1));
  assert_string_equal(held->c_str(), "first output");  // still valid for its response
}

void bounded_by_bytes(void**) {
  p2p::rewrite_memo memo(100, 100);
  memo.store("k1", std::string(40, 'x'), out(std::string(40, 'y')), 100);
  memo.store("k2", std::string(40, 'x'), out(std::string(40, 'y')), 100);
  assert_null_p(memo.find("k1", std::string(40, 'x'), 1));
  assert_nonnull_p(memo.find("k2", std::string(40, 'x'), 1));
  assert_true(memo.bytes() <= 100);
  memo.store("big", std::string(200, 'x'), out(""), 100);  // larger than the memo: not kept
  assert_null_p(memo.find("big", std::string(200, 'x'), 1));
  assert_nonnull_p(memo.find("k2", std::string(40, 'x'), 1));
}

void replacing_a_key_keeps_accounting(void**) {
  p2p::rewrite_memo memo(4, 1000);
  memo.store("k", "body", out("out"), 100);
  memo.store("k", "body2", out("out2"), 100);
  assert_int_equal(memo.entries(), 1);
  assert_int_equal(memo.bytes(), 2 + 5 + 4);  // key counted twice (list and map)
}

}  // namespace

int main() {
  const CMUnitTest tests[] = {
      cmocka_unit_test(hit_only_for_same_body_before_expiry),
      cmocka_unit_test(bounded_by_entries_lru_first),
      cmocka_unit_test(output_outlives_eviction),
      cmocka_unit_test(bounded_by_bytes),
      cmocka_unit_test(replacing_a_key_keeps_accounting),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
