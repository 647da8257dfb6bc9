#include "tracker/analytics_store.h"

#include <jansson.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "third_party/cmocka.hpp"

namespace {

struct no_lock : p2p::block_lock {
  int held = 0;
  void lock() override { ++held; }
  void unlock() override { --held; }
};

struct fixture {
  explicit fixture(size_t size = 64 << 10)
      : size(size), data(static_cast<char*>(std::aligned_alloc(8, size))) {
    std::memset(data, 0x5a, size);
    bool reused = true;
    assert_true(store.attach(data, size, 3, &reused));
    assert_false(reused);
  }
  ~fixture() { std::free(data); }
  p2p::api_response report(const char* action, const std::string& body) {
    p2p::api_response r = p2p::analytics_handle_report(action, body, store, lock, {});
    assert_int_equal(lock.held, 0);
    return r;
  }
  size_t size;
  char* data;
  p2p::analytics_store store;
  no_lock lock;
};

void aggregates_and_efficiency(void**) {
  fixture f;
  assert_int_equal(
      f.report("usage", R"({"customer":"c1","content":"m1","http_bytes":100,"p2p_bytes":300})")
          .http_status,
      204);
  f.report(
      "usage",
      R"({"customer":"c1","content":"m1","http_bytes":100,"p2p_bytes":100,"p2p_upload_bytes":50,"peer_id":"abc"})");
  f.report("usage", R"({"customer":"c1","content":"m2","http_bytes":10,"p2p_bytes":0})");
  f.report(
      "stats",
      R"({"customer":"c1","content":"m1","rebuffer_count":2,"rebuffer_ms":800,"startup_ms":900,"peers":3})");
  f.report("stats",
           R"({"customer":"c1","content":"m1","rebuffer_count":0,"rebuffer_ms":0,"peers":4})");
  f.report("control",
           R"({"customer":"c1","content":"m1","checksum_failures":1,"protocol_errors":2})");
  p2p::analytics_snapshot s = f.store.snapshot();
  assert_int_equal(s.used, 2);
  assert_int_equal(s.rows.size(), 2);
  const p2p::analytics_row& m1 = s.rows[0];
  assert_string_equal(m1.content.c_str(), "m1");
  assert_int_equal(m1.http_bytes, 200);
  assert_int_equal(m1.p2p_bytes, 400);
  assert_int_equal(m1.p2p_upload_bytes, 50);
  assert_int_equal(m1.usage_reports, 2);
  assert_true(m1.peer_efficiency() > 0.6666 && m1.peer_efficiency() < 0.6667);
  assert_int_equal(m1.rebuffer_count, 2);
  assert_int_equal(m1.startup_reports, 1);
  assert_int_equal(m1.peers_sum, 7);
  assert_int_equal(m1.checksum_failures, 1);
  assert_int_equal(s.rows[1].peer_efficiency(), 0);

  p2p::api_response status = p2p::analytics_handle_view("status", f.store, f.lock);
  json_t* root = json_loads(status.body.c_str(), 0, nullptr);
  assert_non_null(root);
  json_t* first = json_array_get(json_object_get(root, "contents"), 0);
  assert_true(json_real_value(json_object_get(first, "peer_efficiency")) > 0.66);
  assert_true(json_number_value(json_object_get(first, "peers_avg")) == 3.5);
  assert_true(json_number_value(json_object_get(first, "startup_ms_avg")) == 900);
  json_decref(root);

  p2p::api_response metrics = p2p::analytics_handle_view("metrics", f.store, f.lock);
  assert_string_equal(metrics.content_type.c_str(), "text/plain; version=0.0.4");
  assert_non_null(
      strstr(metrics.body.c_str(), "p2p_p2p_bytes_total{customer=\"c1\",content=\"m1\"} 400\n"));
  assert_non_null(strstr(metrics.body.c_str(),
                         "p2p_peer_efficiency{customer=\"c1\",content=\"m1\"} 0.666667\n"));
  assert_non_null(strstr(metrics.body.c_str(), "# TYPE p2p_http_bytes_total counter\n"));
  assert_int_equal(p2p::analytics_handle_view("nope", f.store, f.lock).http_status, 404);
}

void invalid_reports_rejected_and_counted(void**) {
  fixture f;
  const char* bad[] = {
      R"({"customer":"c1","content":"m1","http_bytes":-1,"p2p_bytes":0})",
      R"({"customer":"c1","content":"m1","http_bytes":1.5,"p2p_bytes":0})",
      R"({"customer":"c1","content":"m1","http_bytes":"10","p2p_bytes":0})",
      R"({"customer":"c1","content":"m1","http_bytes":1000000000001,"p2p_bytes":0})",
      R"({"customer":"c1","content":"m1","http_bytes":1})",
      R"({"customer":"c 1","content":"m1","http_bytes":1,"p2p_bytes":0})",
      R"({"content":"m1","http_bytes":1,"p2p_bytes":0})",
      R"({"customer":"c1","content":"m1","http_bytes":true,"p2p_bytes":0})",
      R"({"customer":"c1","content":"m1","http_bytes":null,"p2p_bytes":0})",
      R"([1])",
      R"({"customer":"c1",)",
  };
  for (const char* body : bad) assert_int_equal(f.report("usage", body).http_status, 400);
  assert_int_equal(
      f.report(
           "stats",
           R"({"customer":"c1","content":"m1","rebuffer_count":0,"rebuffer_ms":99999999999,"peers":1})")
          .http_status,
      400);
  assert_int_equal(
      f.report(
           "stats",
           R"({"customer":"c1","content":"m1","rebuffer_count":0,"rebuffer_ms":0,"peers":10001})")
          .http_status,
      400);
  assert_int_equal(f.report("usage", std::string(5000, ' ')).http_status, 413);
  assert_int_equal(f.report("bogus", "{}").http_status, 404);
  p2p::analytics_snapshot s = f.store.snapshot();
  assert_int_equal(s.rows.size(), 0);
  assert_int_equal(s.rejected_reports, 14);
}

void full_store_uses_overflow_row(void**) {
  fixture f(p2p::analytics_store::min_block_size());
  uint32_t capacity = f.store.snapshot().capacity;
  for (uint32_t i = 0; i < capacity + 5; ++i)
    f.report("usage", "{\"customer\":\"c\",\"content\":\"m" + std::to_string(i) +
                          "\",\"http_bytes\":1,\"p2p_bytes\":1}");
  p2p::analytics_snapshot s = f.store.snapshot();
  assert_int_equal(s.used, capacity);
  assert_int_equal(s.rows.size(), capacity + 1);
  assert_string_equal(s.rows.back().content.c_str(), "_overflow");
  assert_int_equal(s.rows.back().usage_reports, 5);
  // Known rows still count normally.
  f.report("usage", R"({"customer":"c","content":"m0","http_bytes":1,"p2p_bytes":1})");
  assert_int_equal(f.store.snapshot().rows[0].usage_reports, 2);
}

void reload_keeps_counts(void**) {
  fixture f;
  f.report("usage", R"({"customer":"c","content":"m","http_bytes":5,"p2p_bytes":5})");
  p2p::analytics_store again;
  bool reused = false;
  assert_true(again.attach(f.data, f.size, 99, &reused));
  assert_true(reused);
  p2p::analytics_report r;
  r.customer = "c";
  r.content = "m";
  r.http_bytes = 1;
  again.add(r);
  p2p::analytics_snapshot s = again.snapshot();
  assert_int_equal(s.rows.size(), 1);
  assert_int_equal(s.rows[0].http_bytes, 6);
}

void counters_saturate(void**) {
  fixture f;
  p2p::analytics_report r;
  r.customer = "c";
  r.content = "m";
  r.http_bytes = UINT64_MAX / 2 + 1;
  f.store.add(r);
  f.store.add(r);
  f.store.add(r);
  assert_true(f.store.snapshot().rows[0].http_bytes == UINT64_MAX);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(aggregates_and_efficiency),
      cmocka_unit_test(invalid_reports_rejected_and_counted),
      cmocka_unit_test(full_store_uses_overflow_row),
      cmocka_unit_test(reload_keeps_counts),
      cmocka_unit_test(counters_saturate),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
