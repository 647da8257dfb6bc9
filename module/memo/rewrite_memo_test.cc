#include "module/memo/rewrite_memo.h"
#include "third_party/cmocka.hpp"

namespace {

void hit_only_for_same_body_before_expiry(void**) {
  p2p::rewrite_memo memo(8, 1 << 20);
  memo.store("/a.m3u8|acme", "body1", "out1", 1000);
  const std::string* out = memo.find("/a.m3u8|acme", "body1", 999);
  assert_non_null(out);
  assert_string_equal(out->c_str(), "out1");
  assert_null(memo.find("/a.m3u8|acme", "body2", 999));  // playlist changed
  assert_null(memo.find("/a.m3u8|acme", "body1", 999));  // and the stale entry is gone
  memo.store("/a.m3u8|acme", "body1", "out1", 1000);
  assert_null(memo.find("/a.m3u8|acme", "body1", 1000));  // expired
  assert_null(memo.find("/a.m3u8|other", "body1", 10));
  assert_int_equal(memo.entries(), 0);
  assert_int_equal(memo.bytes(), 0);
}

void bounded_by_entries_lru_first(void**) {
  p2p::rewrite_memo memo(2, 1 << 20);
  memo.store("a", "b", "o", 100);
  memo.store("b", "b", "o", 100);
  assert_non_null(memo.find("a", "b", 1));  // a is now the most recent
  memo.store("c", "b", "o", 100);
  assert_non_null(memo.find("a", "b", 1));
  assert_null(memo.find("b", "b", 1));
  assert_non_null(memo.find("c", "b", 1));
  assert_int_equal(memo.entries(), 2);
}

void bounded_by_bytes(void**) {
  p2p::rewrite_memo memo(100, 100);
  memo.store("k1", std::string(40, 'x'), std::string(40, 'y'), 100);
  memo.store("k2", std::string(40, 'x'), std::string(40, 'y'), 100);
  assert_null(memo.find("k1", std::string(40, 'x'), 1));
  assert_non_null(memo.find("k2", std::string(40, 'x'), 1));
  assert_true(memo.bytes() <= 100);
  memo.store("big", std::string(200, 'x'), "", 100);  // larger than the memo: not kept
  assert_null(memo.find("big", std::string(200, 'x'), 1));
  assert_non_null(memo.find("k2", std::string(40, 'x'), 1));
}

void replacing_a_key_keeps_accounting(void**) {
  p2p::rewrite_memo memo(4, 1000);
  memo.store("k", "body", "out", 100);
  memo.store("k", "body2", "out2", 100);
  assert_int_equal(memo.entries(), 1);
  assert_int_equal(memo.bytes(), 2 + 5 + 4);  // key counted twice (list and map)
}

}  // namespace

int main() {
  const CMUnitTest tests[] = {
      cmocka_unit_test(hit_only_for_same_body_before_expiry),
      cmocka_unit_test(bounded_by_entries_lru_first),
      cmocka_unit_test(bounded_by_bytes),
      cmocka_unit_test(replacing_a_key_keeps_accounting),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
