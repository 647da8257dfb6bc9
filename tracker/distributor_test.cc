#include "tracker/distributor.h"

#include <jansson.h>

#include <cstring>
#include <string>

#include "third_party/cmocka.hpp"

namespace {

using p2p::distributor_settings;

p2p::semver v(const char* text) {
  p2p::semver out;
  assert_true(p2p::semver_parse(text, &out));
  return out;
}

void semver_parsing_and_order(void**) {
  const char* ordered[] = {"0.9.9",       "1.0.0-alpha",  "1.0.0-alpha.1", "1.0.0-alpha.beta",
                           "1.0.0-beta",  "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",
                           "1.0.0",       "1.0.1",        "1.2.0",         "1.10.0",
                           "2.0.0+build5"};
  for (size_t i = 0; i + 1 < sizeof ordered / sizeof *ordered; ++i) {
    assert_true(p2p::semver_compare(v(ordered[i]), v(ordered[i + 1])) < 0);
    assert_true(p2p::semver_compare(v(ordered[i + 1]), v(ordered[i])) > 0);
    assert_int_equal(p2p::semver_compare(v(ordered[i]), v(ordered[i])), 0);
  }
  assert_int_equal(p2p::semver_compare(v("1.0.0+a"), v("1.0.0+b")), 0);
  p2p::semver out;
  for (const char* bad : {"", "1", "1.2", "1.2.x", "01.2.3", "1.2.3-", "1.2.3-01", "1.2.3+", "1..3",
                          "1.2.3.4", "-1.2.3", "1.2.3-a b", "99999999999.0.0"})
    assert_false(p2p::semver_parse(bad, &out));
}

distributor_settings base() {
  distributor_settings s;
  std::string err;
  assert_true(p2p::distributor_policy_set(&s.defaults, "tracker_url", "https://e/t", &err));
  assert_true(p2p::distributor_policy_set(&s.defaults, "stun", "stun:s1:3478", &err));
  assert_true(p2p::distributor_policy_set(&s.defaults, "stun", "stun:s2:3478", &err));
  assert_true(p2p::distributor_policy_set(&s.defaults, "min_version", "1.2.0", &err));
  return s;
}

struct answer {
  explicit answer(const p2p::api_response& r) : status(r.http_status) {
    root = json_loads(r.body.c_str(), 0, nullptr);
    assert_non_null(root);
  }
  ~answer() { json_decref(root); }
  bool p2p() const { return json_is_true(json_object_get(root, "p2p")); }
  std::string reason() const { return json_string_value(json_object_get(root, "reason")); }
  int status;
  json_t* root;
};

void answer_shape_and_gating(void**) {
  distributor_settings s = base();
  answer a(p2p::distributor_handle(s, "customer=c1&content=movie&version=1.2.0&session=v1"));
  assert_int_equal(a.status, 200);
  assert_true(a.p2p());
  assert_string_equal(a.reason().c_str(), "enabled");
  assert_string_equal(json_string_value(json_object_get(a.root, "tracker_url")), "https://e/t");
  assert_int_equal(json_array_size(json_object_get(a.root, "stun_servers")), 2);
  json_t* tuning = json_object_get(a.root, "tuning");
  assert_int_equal(json_integer_value(json_object_get(tuning, "announce_interval")), 30);
  assert_int_equal(json_integer_value(json_object_get(a.root, "ttl")), 300);

  answer old(p2p::distributor_handle(s, "customer=c1&content=movie&version=1.1.9"));
  assert_false(old.p2p());
  assert_string_equal(old.reason().c_str(), "version_too_old");
  answer pre(p2p::distributor_handle(s, "customer=c1&content=movie&version=1.2.0-rc.1"));
  assert_string_equal(pre.reason().c_str(), "version_too_old");
  answer junk(p2p::distributor_handle(s, "customer=c1&content=movie&version=latest"));
  assert_string_equal(junk.reason().c_str(), "version_unparsable");

  s.kill_switch = true;
  answer killed(p2p::distributor_handle(s, "customer=c1&content=movie&version=9.0.0"));
  assert_false(killed.p2p());
  assert_string_equal(killed.reason().c_str(), "kill_switch");
}

void per_customer_overrides(void**) {
  distributor_settings s = base();
  std::string err;
  p2p::distributor_policy off = s.defaults;
  assert_true(p2p::distributor_policy_set(&off, "p2p", "off", &err));
  s.customers["c-off"] = off;
  p2p::distributor_policy tuned = s.defaults;
  assert_true(p2p::distributor_policy_set(&tuned, "max_peers", "42", &err));
  assert_true(p2p::distributor_policy_set(&tuned, "min_version", "0.1.0", &err));
  s.customers["c-tuned"] = tuned;
  answer a(p2p::distributor_handle(s, "customer=c-off&content=x&version=3.0.0"));
  assert_string_equal(a.reason().c_str(), "disabled");
  answer b(p2p::distributor_handle(s, "customer=c-tuned&content=x&version=1.0.0"));
  assert_true(b.p2p());
  assert_int_equal(
      json_integer_value(json_object_get(json_object_get(b.root, "tuning"), "max_peers")), 42);
  answer c(p2p::distributor_handle(s, "customer=other&content=x&version=1.0.0"));
  assert_string_equal(c.reason().c_str(), "version_too_old");
}

void policy_values_checked(void**) {
  p2p::distributor_policy p;
  std::string err;
  assert_true(p2p::distributor_policy_set(&p, "rollout", "12.5%", &err));
  assert_int_equal(p.rollout_basis_points, 1250);
  assert_true(p2p::distributor_policy_set(&p, "rollout", "0.01%", &err));
  assert_int_equal(p.rollout_basis_points, 1);
  assert_true(p2p::distributor_policy_set(&p, "rollout", "100%", &err));
  assert_int_equal(p.rollout_basis_points, 10000);
  for (const char* bad : {"101%", "50", "-1%", "1.234%", "%", "1.%", "abc%"})
    assert_false(p2p::distributor_policy_set(&p, "rollout", bad, &err));
  assert_false(p2p::distributor_policy_set(&p, "p2p", "maybe", &err));
  assert_false(p2p::distributor_policy_set(&p, "tracker_url", "has space", &err));
  assert_false(p2p::distributor_policy_set(&p, "max_peers", "1000", &err));
  assert_false(p2p::distributor_policy_set(&p, "colour", "blue", &err));
  assert_non_null(strstr(err.c_str(), "colour"));
}

void rollout_holds_within_two_percent(void**) {
  for (const char* pct : {"1%", "10%", "25%", "50%", "90%"}) {
    distributor_settings s = base();
    std::string err;
    assert_true(p2p::distributor_policy_set(&s.defaults, "rollout", pct, &err));
    int on = 0;
    for (int i = 0; i < 10000; ++i) {
      p2p::distributor_query q{"cust", "movie", "2.0.0", "viewer" + std::to_string(i)};
      on += p2p::distributor_decide(s, q).p2p;
    }
    double expected = s.defaults.rollout_basis_points / 100.0;  // sessions out of 10,000
    print_message("rollout %s: %d of 10000 sessions\n", pct, on);
    assert_true(on >= (expected - 2) * 100 && on <= (expected + 2) * 100);
  }
}

void rollout_is_stable_per_viewer(void**) {
  distributor_settings s = base();
  std::string err;
  assert_true(p2p::distributor_policy_set(&s.defaults, "rollout", "50%", &err));
  for (int i = 0; i < 200; ++i) {
    p2p::distributor_query q{"cust", "movie", "2.0.0", "viewer" + std::to_string(i)};
    bool first = p2p::distributor_decide(s, q).p2p;
    for (int k = 0; k < 3; ++k) assert_int_equal(p2p::distributor_decide(s, q).p2p, first);
  }
  // Raising the percentage only adds viewers: nobody who had P2P loses it.
  distributor_settings more = s;
  assert_true(p2p::distributor_policy_set(&more.defaults, "rollout", "60%", &err));
  for (int i = 0; i < 1000; ++i) {
    p2p::distributor_query q{"cust", "movie", "2.0.0", "viewer" + std::to_string(i)};
    if (p2p::distributor_decide(s, q).p2p) assert_true(p2p::distributor_decide(more, q).p2p);
  }
}

void bad_queries_are_400(void**) {
  distributor_settings s = base();
  for (const char* q :
       {"", "content=x&version=1.0.0", "customer=c&version=1.0.0", "customer=c&content=x",
        "customer=c&customer=d&content=x&version=1.0.0", "customer=a%20b&content=x&version=1.0.0",
        "customer=c&content=x%zz&version=1.0.0", "customer=c&content=x%4&version=1.0.0",
        "customer=c&content=x&version=1.0.0&session=%22"}) {
    p2p::api_response r = p2p::distributor_handle(s, q);
    assert_int_equal(r.http_status, 400);
    assert_non_null(strstr(r.body.c_str(), "\"bad_request\""));
  }
  std::string huge = "customer=c&content=x&version=1.0.0&pad=" + std::string(2000, 'a');
  assert_int_equal(p2p::distributor_handle(s, huge).http_status, 400);
  // Percent-encoded valid ids and unknown args are fine.
  p2p::api_response ok = p2p::distributor_handle(s, "customer=%63&content=x&version=1.3.0&x=1&&");
  assert_int_equal(ok.http_status, 200);
  assert_string_equal(ok.cache_control.c_str(), "private, max-age=300");
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(semver_parsing_and_order),
      cmocka_unit_test(answer_shape_and_gating),
      cmocka_unit_test(per_customer_overrides),
      cmocka_unit_test(policy_values_checked),
      cmocka_unit_test(rollout_holds_within_two_percent),
      cmocka_unit_test(rollout_is_stable_per_viewer),
      cmocka_unit_test(bad_queries_are_400),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
