// Token maths, scope/IP/domain/country matching, and the shared vectors
// (testdata/vectors.json, written by an independent Python minter).
#include <jansson.h>

#include <cstring>
#include <string>
#include <vector>

#include "common/base64url.h"
#include "module/access/access_token.h"
#include "module/access/country_rule.h"
#include "module/access/keyed_hmac.h"
#include "module/access/origin_allowlist.h"
#include "third_party/cmocka.hpp"

namespace {

constexpr const char* kVectors = "module/access/testdata/vectors.json";

std::string str(json_t* object, const char* key) {
  const char* v = json_string_value(json_object_get(object, key));
  assert_non_null(v);
  return v;
}

int64_t num(json_t* object, const char* key) {
  return json_integer_value(json_object_get(object, key));
}

struct key_storage {
  std::vector<std::string> ids, secrets;
  std::vector<p2p::hmac_key> keys;
  explicit key_storage(json_t* array) {
    size_t i;
    json_t* k;
    json_array_foreach(array, i, k) {
      ids.push_back(str(k, "id"));
      secrets.push_back(str(k, "secret"));
    }
    for (size_t j = 0; j < ids.size(); ++j) keys.push_back({ids[j], secrets[j]});
  }
  p2p::hmac_key_ring ring() const { return {keys.data(), keys.size()}; }
};

json_t* load_vectors() {
  json_error_t error;
  json_t* root = json_load_file(kVectors, 0, &error);
  if (!root) fail_msg("cannot read %s: %s", kVectors, error.text);
  return root;
}

void vectors_mint_identically(void**) {
  json_t* root = load_vectors();
  size_t i;
  json_t* v;
  json_array_foreach(json_object_get(root, "tokens"), i, v) {
    std::string id = str(v, "key_id"), secret = str(v, "secret");
    json_t* c = json_object_get(v, "claims");
    p2p::access_token_claims claims;
    claims.expires = num(c, "exp");
    claims.not_before = num(c, "nbf");
    claims.scope = str(c, "scope");
    claims.client_ip = str(c, "ip");
    claims.session_id = str(c, "sid");
    assert_string_equal(p2p::mint_access_token({id, secret}, claims).c_str(),
                        str(v, "token").c_str());
  }
  json_array_foreach(json_object_get(root, "credentials"), i, v) {
    std::string id = str(v, "key_id"), secret = str(v, "secret");
    json_t* c = json_object_get(v, "claims");
    p2p::session_credential_claims claims;
    claims.expires = num(c, "exp");
    claims.content = str(c, "content");
    claims.session_id = str(c, "sid");
    assert_string_equal(p2p::mint_session_credential({id, secret}, claims).c_str(),
                        str(v, "credential").c_str());
  }
  json_decref(root);
}

void vectors_verify_as_documented(void**) {
  json_t* root = load_vectors();
  key_storage keys(json_object_get(root, "keys"));
  size_t i;
  json_t* v;
  json_array_foreach(json_object_get(root, "checks"), i, v) {
    auto verdict =
        p2p::verify_access_token(str(v, "token"), keys.ring(), str(v, "path"), str(v, "client_ip"),
                                 num(v, "now"), num(v, "skew"), nullptr);
    if (str(v, "verdict") != p2p::access_verdict_reason(verdict))
      fail_msg("%s: got %s", str(v, "name").c_str(), p2p::access_verdict_reason(verdict));
  }
  key_storage credential_keys(json_object_get(root, "credential_keys"));
  json_array_foreach(json_object_get(root, "credential_checks"), i, v) {
    auto verdict = p2p::verify_session_credential(str(v, "credential"), credential_keys.ring(),
                                                  num(v, "now"), num(v, "skew"), nullptr);
    if (str(v, "verdict") != p2p::access_verdict_reason(verdict))
      fail_msg("%s: got %s", str(v, "name").c_str(), p2p::access_verdict_reason(verdict));
  }
  json_decref(root);
}

const p2p::hmac_key kKey{"k1", "0123456789abcdef0123"};
const p2p::hmac_key_ring kRing{&kKey, 1};

void round_trip_keeps_claims(void**) {
  p2p::access_token_claims in;
  in.expires = 2000000000;
  in.not_before = 1999990000;
  in.scope = "/a b/\xc3\xa9/*";
  in.client_ip = "2001:db8::/48";
  in.session_id = "s_1";
  std::string token = p2p::mint_access_token(kKey, in);
  assert_false(token.empty());
  p2p::access_token_claims out;
  assert_int_equal(p2p::verify_access_token(token, kRing, "/a b/\xc3\xa9/x", "2001:db8:0:1::1",
                                            1999995000, 0, &out),
                   int(p2p::access_verdict::ok));
  assert_int_equal(out.expires, in.expires);
  assert_int_equal(out.not_before, in.not_before);
  assert_string_equal(out.scope.c_str(), in.scope.c_str());
  assert_string_equal(out.client_ip.c_str(), in.client_ip.c_str());
  assert_string_equal(out.session_id.c_str(), in.session_id.c_str());
}

void client_reads_credential_expiry(void**) {
  p2p::session_credential_claims in;
  in.expires = 2000000123;
  in.content = "live/ch1";
  in.session_id = "v42";
  std::string credential = p2p::mint_session_credential(kKey, in);
  p2p::session_credential_claims out;
  assert_true(p2p::read_session_credential_claims(credential, &out));
  assert_int_equal(out.expires, in.expires);
  assert_string_equal(out.content.c_str(), in.content.c_str());
  // Not a verification: a wrong signature of the right shape still reads.
  std::string forged = credential;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  assert_true(p2p::read_session_credential_claims(forged, &out) ||
              !p2p::base64url_decode(forged.substr(forged.rfind('.') + 1)));
  // Tokens, truncations and junk do not.
  p2p::access_token_claims token_claims;
  token_claims.expires = 2000000000;
  token_claims.scope = "/*";
  assert_false(
      p2p::read_session_credential_claims(p2p::mint_access_token(kKey, token_claims), &out));
  assert_false(
      p2p::read_session_credential_claims(credential.substr(0, credential.size() - 5), &out));
  assert_false(p2p::read_session_credential_claims("", &out));
  assert_false(p2p::read_session_credential_claims("c1.k.!!!.x", &out));
}

void mint_refuses_bad_claims(void**) {
  p2p::access_token_claims c;
  c.expires = 2000000000;
  c.scope = "relative/path";
  assert_true(p2p::mint_access_token(kKey, c).empty());
  c.scope = "/ok\nexp=1";
  assert_true(p2p::mint_access_token(kKey, c).empty());
  c.scope = "/ok";
  c.client_ip = "300.1.1.1";
  assert_true(p2p::mint_access_token(kKey, c).empty());
  c.client_ip = "10.0.0.0/33";
  assert_true(p2p::mint_access_token(kKey, c).empty());
  c.client_ip = "";
  c.session_id = "has space";
  assert_true(p2p::mint_access_token(kKey, c).empty());
  c.session_id = "";
  assert_true(p2p::mint_access_token({"k1", "short"}, c).empty());
  assert_true(p2p::mint_access_token({"bad.id", "0123456789abcdef"}, c).empty());
  assert_false(p2p::mint_access_token(kKey, c).empty());
}

void skew_applies_both_ways(void**) {
  p2p::access_token_claims c;
  c.expires = 1000;
  c.not_before = 500;
  c.scope = "/*";
  std::string t = p2p::mint_access_token(kKey, c);
  auto at = [&](int64_t now) {
    return p2p::verify_access_token(t, kRing, "/x", "127.0.0.1", now, 30, nullptr);
  };
  assert_int_equal(int(at(469)), int(p2p::access_verdict::not_yet_valid));
  assert_int_equal(int(at(470)), int(p2p::access_verdict::ok));
  assert_int_equal(int(at(1030)), int(p2p::access_verdict::ok));
  assert_int_equal(int(at(1031)), int(p2p::access_verdict::expired));
}

void every_single_byte_change_is_refused(void**) {
  p2p::access_token_claims c;
  c.expires = 2000000000;
  c.scope = "/vod/*";
  std::string t = p2p::mint_access_token(kKey, c);
  for (size_t i = 0; i < t.size(); ++i) {
    std::string bad = t;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    assert_int_not_equal(
        int(p2p::verify_access_token(bad, kRing, "/vod/a", "127.0.0.1", 1900000000, 0, nullptr)),
        int(p2p::access_verdict::ok));
  }
}

void cache_skips_only_the_signature(void**) {
  p2p::verified_token_cache cache;
  p2p::access_token_claims c;
  c.expires = 1000;
  c.scope = "/vod/*";
  c.client_ip = "10.0.0.0/8";
  std::string t = p2p::mint_access_token(kKey, c);
  auto check = [&](const p2p::hmac_key_ring& ring, std::string_view token, std::string_view path,
                   std::string_view ip, int64_t now) {
    return int(p2p::verify_access_token(token, ring, path, ip, now, 0, nullptr, &cache));
  };
  assert_int_equal(check(kRing, t, "/vod/a", "10.1.1.1", 900), int(p2p::access_verdict::ok));
  assert_non_null(cache.find(t, kRing.keys));
  // Cached, and still: expiry, scope and IP per request.
  assert_int_equal(check(kRing, t, "/vod/a", "10.1.1.1", 1001), int(p2p::access_verdict::expired));
  assert_int_equal(check(kRing, t, "/x/a", "10.1.1.1", 900), int(p2p::access_verdict::wrong_scope));
  assert_int_equal(check(kRing, t, "/vod/a", "11.1.1.1", 900),
                   int(p2p::access_verdict::ip_mismatch));
  // Another ring with the same key id but another secret must not trust the cache.
  const p2p::hmac_key other{"k1", "another secret, 16+ bytes"};
  const p2p::hmac_key_ring other_ring{&other, 1};
  assert_int_equal(check(other_ring, t, "/vod/a", "10.1.1.1", 900),
                   int(p2p::access_verdict::bad_signature));
  // A tampered token never lands in the cache.
  std::string bad = t;
  bad[bad.size() - 2] = bad[bad.size() - 2] == 'A' ? 'B' : 'A';
  assert_int_equal(check(kRing, bad, "/vod/a", "10.1.1.1", 900),
                   int(p2p::access_verdict::bad_signature));
  assert_null(cache.find(bad, kRing.keys));
  assert_int_equal(check(kRing, bad, "/vod/a", "10.1.1.1", 900),
                   int(p2p::access_verdict::bad_signature));
}

void keyed_hmac_equals_one_shot(void**) {
  for (size_t key_len : {0, 1, 16, 63, 64, 65, 200}) {
    std::string secret(key_len, 'k');
    for (size_t i = 0; i < key_len; ++i) secret[i] = char(i * 7 + 1);
    p2p::keyed_hmac_sha256 keyed(secret);
    for (size_t msg_len : {0, 1, 55, 64, 100, 2048}) {
      std::string message(msg_len, 'm');
      assert_true(keyed.compute(message) == p2p::hmac_sha256(secret, message));
    }
  }
  // RFC 4231 test case 2.
  p2p::keyed_hmac_sha256 jefe("Jefe");
  assert_string_equal(p2p::to_hex(jefe.compute("what do ya want for nothing?")).c_str(),
                      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Tokens verify the same with and without the precomputed key.
  p2p::keyed_hmac_sha256 precomputed(kKey.secret);
  const p2p::hmac_key fast{kKey.id, kKey.secret, &precomputed};
  p2p::access_token_claims c;
  c.expires = 2000000000;
  c.scope = "/*";
  assert_string_equal(p2p::mint_access_token(fast, c).c_str(),
                      p2p::mint_access_token(kKey, c).c_str());
  const p2p::hmac_key_ring fast_ring{&fast, 1};
  assert_int_equal(int(p2p::verify_access_token(p2p::mint_access_token(kKey, c), fast_ring, "/a",
                                                "127.0.0.1", 1900000000, 0, nullptr)),
                   int(p2p::access_verdict::ok));
}

void scopes(void**) {
  assert_true(p2p::scope_matches("/a/b.m3u8", "/a/b.m3u8"));
  assert_false(p2p::scope_matches("/a/b.m3u8", "/a/b.m3u8x"));
  assert_true(p2p::scope_matches("/a/*", "/a/"));
  assert_true(p2p::scope_matches("/a/*", "/a/b/c/d.ts"));
  assert_false(p2p::scope_matches("/a/*", "/a"));
  assert_false(p2p::scope_matches("/a/*", "/ab/c"));
  assert_true(p2p::scope_matches("/a*", "/ab/c"));
  assert_true(p2p::scope_matches("/*", "/anything/at/all"));
  assert_true(p2p::scope_matches("/l/*/i.m3u8", "/l/x/i.m3u8"));
  assert_false(p2p::scope_matches("/l/*/i.m3u8", "/l/x/y/i.m3u8"));
  assert_true(p2p::scope_matches("/l/*/seg-*.ts", "/l/hd/seg-12.ts"));
  assert_false(p2p::scope_matches("/l/*/seg-*.ts", "/l/hd/seg-12.mp4"));
  assert_true(p2p::scope_matches("/l/c*/*", "/l/ch1/a/b"));
  assert_false(p2p::scope_matches("/l/c*/*", "/l/x1/a/b"));
  assert_false(p2p::scope_matches("", "/"));
  std::string hostile(1000, '*');
  hostile = "/" + hostile + "x";
  assert_false(p2p::scope_matches(hostile, "/" + std::string(1000, 'a')));
  assert_string_equal(p2p::scope_cookie_path("/vod/film/*").c_str(), "/vod/film/");
  assert_string_equal(p2p::scope_cookie_path("/vod/film/index.m3u8").c_str(), "/vod/film/");
  assert_string_equal(p2p::scope_cookie_path("/live/*/index.m3u8").c_str(), "/live/");
  assert_string_equal(p2p::scope_cookie_path("/vod*").c_str(), "/");
}

void ip_bindings(void**) {
  assert_true(p2p::ip_binding_matches("10.1.2.3", "10.1.2.3"));
  assert_false(p2p::ip_binding_matches("10.1.2.3", "10.1.2.4"));
  assert_true(p2p::ip_binding_matches("10.1.2.0/24", "10.1.2.200"));
  assert_false(p2p::ip_binding_matches("10.1.2.0/24", "10.1.3.1"));
  assert_true(p2p::ip_binding_matches("10.0.0.0/8", "::ffff:10.9.9.9"));
  assert_true(p2p::ip_binding_matches("0.0.0.0/0", "8.8.8.8"));
  assert_false(p2p::ip_binding_matches("0.0.0.0/0", "2001:db8::1"));
  assert_true(p2p::ip_binding_matches("2001:db8::/33", "2001:db8:7fff::1"));
  assert_false(p2p::ip_binding_matches("2001:db8::/33", "2001:db8:8000::1"));
  assert_false(p2p::ip_binding_matches("10.0.0.0/8", "garbage"));
  assert_false(p2p::ip_binding_valid("10.0.0.0/08"));
  assert_false(p2p::ip_binding_valid("10.0.0.0/"));
  assert_false(p2p::ip_binding_valid("::1/129"));
  assert_true(p2p::ip_binding_valid("::1/128"));
}

void domains(void**) {
  assert_true(p2p::domain_pattern_valid("example.com"));
  assert_true(p2p::domain_pattern_valid("*.example.com"));
  assert_true(p2p::domain_pattern_valid(".example.com"));
  assert_false(p2p::domain_pattern_valid("*"));
  assert_false(p2p::domain_pattern_valid("exa mple.com"));
  assert_false(p2p::domain_pattern_valid("a..b"));
  assert_false(p2p::domain_pattern_valid("https://example.com"));
  assert_true(p2p::domain_pattern_matches("example.com", "EXAMPLE.com"));
  assert_false(p2p::domain_pattern_matches("example.com", "a.example.com"));
  assert_true(p2p::domain_pattern_matches("*.example.com", "a.b.example.com"));
  assert_false(p2p::domain_pattern_matches("*.example.com", "example.com"));
  assert_false(p2p::domain_pattern_matches("*.example.com", "badexample.com"));
  assert_true(p2p::domain_pattern_matches(".example.com", "example.com"));
  assert_true(p2p::domain_pattern_matches(".example.com", "x.example.com"));
  assert_true(p2p::host_of_url("https://a.example.com:8443") == "a.example.com");
  assert_true(p2p::host_of_url("https://a.example.com/p?q#f") == "a.example.com");
  assert_true(p2p::host_of_url("http://a.example.com?x") == "a.example.com");
  assert_true(p2p::host_of_url("null").empty());
  assert_true(p2p::host_of_url("example.com").empty());
  assert_true(p2p::host_of_url("https://example.com@evil.com/").empty());
  assert_true(p2p::host_of_url("https://example.com:80x/").empty());
  assert_true(p2p::host_of_url("https://").empty());
  assert_true(p2p::host_of_url("ht tp://example.com").empty());
}

void countries(void**) {
  const std::string_view codes[] = {"DE", "fr"};
  using p2p::country_list_kind;
  assert_true(p2p::country_allowed(country_list_kind::allow, codes, 2, "de", false));
  assert_true(p2p::country_allowed(country_list_kind::allow, codes, 2, "FR", false));
  assert_false(p2p::country_allowed(country_list_kind::allow, codes, 2, "US", true));
  assert_false(p2p::country_allowed(country_list_kind::deny, codes, 2, "DE", true));
  assert_true(p2p::country_allowed(country_list_kind::deny, codes, 2, "US", false));
  assert_false(p2p::country_allowed(country_list_kind::allow, codes, 2, "", false));
  assert_true(p2p::country_allowed(country_list_kind::allow, codes, 2, "-", true));
  assert_false(p2p::country_allowed(country_list_kind::deny, codes, 2, "Germany", false));
  assert_true(p2p::country_code_valid("us"));
  assert_false(p2p::country_code_valid("U1"));
  assert_false(p2p::country_code_valid("USA"));
}

}  // namespace

int main() {
  const CMUnitTest tests[] = {
      cmocka_unit_test(vectors_mint_identically),
      cmocka_unit_test(vectors_verify_as_documented),
      cmocka_unit_test(round_trip_keeps_claims),
      cmocka_unit_test(client_reads_credential_expiry),
      cmocka_unit_test(mint_refuses_bad_claims),
      cmocka_unit_test(skew_applies_both_ways),
      cmocka_unit_test(every_single_byte_change_is_refused),
      cmocka_unit_test(cache_skips_only_the_signature),
      cmocka_unit_test(keyed_hmac_equals_one_shot),
      cmocka_unit_test(scopes),
      cmocka_unit_test(ip_bindings),
      cmocka_unit_test(domains),
      cmocka_unit_test(countries),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
