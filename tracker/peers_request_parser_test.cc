#include "tracker/peers_request_parser.h"

#include <string>

#include "third_party/cmocka.hpp"
#include "tracker/tracker_api.h"

namespace {

const char kTicket[] = "v1.Zq3x0b9cR4mN1pQwErTy2A.movie1-720p.1700003600.sig";

void assert_same(const p2p::peers_request& a, const p2p::peers_request& b) {
  assert_true(a.ticket == b.ticket);
  assert_true(a.peer_id == b.peer_id);
  assert_true(a.swarm == b.swarm);
  assert_true(a.customer == b.customer);
  assert_int_equal(a.has_numwant, b.has_numwant);
  assert_int_equal(a.numwant, b.numwant);
  assert_int_equal(a.has_network, b.has_network);
  assert_int_equal(static_cast<int>(a.network), static_cast<int>(b.network));
  assert_int_equal(a.has_upload, b.has_upload);
  assert_int_equal(a.upload_kbps, b.upload_kbps);
}

// The fast parser takes `body` and agrees with the jansson path on every value.
void expect_fast(const std::string& body, const p2p::json_caps& caps = {}) {
  p2p::peers_request fast, slow;
  p2p::api_error error;
  if (!p2p::parse_peers_request_fast(body, caps, &fast))
    fail_msg("fast path refused: %s", body.c_str());
  assert_true(p2p::parse_peers_request(body, caps, &slow, &error));
  assert_same(fast, slow);
}

// The fast parser leaves `body` to jansson (whatever jansson then decides).
void expect_fallback(const std::string& body, const p2p::json_caps& caps = {}) {
  p2p::peers_request fast;
  if (p2p::parse_peers_request_fast(body, caps, &fast))
    fail_msg("fast path took: %s", body.c_str());
}

std::string with_ticket(const std::string& rest) {
  return std::string("{\"ticket\":\"") + kTicket + "\"" + rest + "}";
}

void usual_bodies_take_the_fast_path(void**) {
  expect_fast(with_ticket(",\"numwant\":20"));
  expect_fast(with_ticket(""));
  expect_fast(with_ticket(",\"numwant\":0"));
  expect_fast(with_ticket(",\"numwant\":200,\"upload_kbps\":10000000"));
  expect_fast(
      with_ticket(",\"peer_id\":\"Zq3x0b9cR4mN1pQwErTy2A\",\"swarm\":\"movie1-720p\","
                  "\"customer\":\"c_1\",\"network\":\"cellular\",\"upload_kbps\":0"));
  expect_fast(" \t\r\n{ \"numwant\" : 5 ,\n\"ticket\"\t:\"" + std::string(kTicket) + "\" } \n");
  // Unknown members of every accepted kind are ignored, as by the jansson path.
  expect_fast(
      with_ticket(",\"x\":\"y\",\"n\":123456789012345678,\"t\":true,\"f\":false,\"z\":null,"
                  "\"\":\"\""));
  expect_fast("{\"ticket\":\"\"}");  // the ticket check refuses it later, on both paths
  expect_fast("{\"ticket\":\"" + std::string(512, 'a') + "\"}");
}

void unusual_or_invalid_bodies_fall_back(void**) {
  const char* const kBodies[] = {
      "",
      "[]",
      "\"ticket\"",
      "{}",
      "{\"numwant\":20}",
      "{\"ticket\":1}",
      "{\"ticket\":null}",
      "{\"tick\\u0065t\":\"a\"}",
      "{\"ticket\":\"a\\/b\"}",
      "{\"ticket\":\"a\",\"ticket\":\"b\"}",
      "{\"ticket\":\"a\",\"x\":1,\"x\":2}",
      "{\"ticket\":\"caf\xc3\xa9\"}",
      "{\"ticket\":\"bad\xff\"}",
      "{\"ticket\":\"tab\there\"}",
      "{\"ticket\":\"a\",\"numwant\":1.0}",
      "{\"ticket\":\"a\",\"numwant\":1e1}",
      "{\"ticket\":\"a\",\"numwant\":-1}",
      "{\"ticket\":\"a\",\"numwant\":-0}",
      "{\"ticket\":\"a\",\"numwant\":01}",
      "{\"ticket\":\"a\",\"numwant\":201}",
      "{\"ticket\":\"a\",\"numwant\":\"20\"}",
      "{\"ticket\":\"a\",\"x\":1234567890123456789}",
      "{\"ticket\":\"a\",\"upload_kbps\":10000001}",
      "{\"ticket\":\"a\",\"peer_id\":\"\"}",
      "{\"ticket\":\"a\",\"peer_id\":\"has space\"}",
      "{\"ticket\":\"a\",\"swarm\":\"a.b\"}",
      "{\"ticket\":\"a\",\"customer\":7}",
      "{\"ticket\":\"a\",\"network\":\"wlan\"}",
      "{\"ticket\":\"a\",\"x\":{}}",
      "{\"ticket\":\"a\",\"x\":[1]}",
      "{\"ticket\":\"a\",\"x\":truex}",
      "{\"ticket\":\"a\",\"x\":tru}",
      "{\"ticket\":\"a\",}",
      "{\"ticket\":\"a\" \"numwant\":1}",
      "{\"ticket\":\"a\"",
      "{\"ticket\":\"a",
      "{\"ticket\":\"a\"}x",
      "{\"ticket\":\"a\"}{}",
      "\xef\xbb\xbf{\"ticket\":\"a\"}",
  };
  for (const char* body : kBodies) expect_fallback(body);
  expect_fallback(std::string("{\"ticket\":\"a\0b\"}", 16));
  expect_fallback(std::string("{\"ticket\":\"a\"}\0", 15));
  expect_fallback("{\"ticket\":\"" + std::string(513, 'a') + "\"}");
  expect_fallback("{\"ticket\":\"a\",\"x\":\"" + std::string(800, 'a') + "\"}" +
                  std::string(4096, ' '));  // over the byte cap: 413 from the jansson path
}

void caps_are_the_jansson_paths(void**) {
  std::string members;
  for (int i = 0; i < 31; ++i) members += ",\"m" + std::to_string(i) + "\":" + std::to_string(i);
  expect_fast(with_ticket(members));  // 32 members: the cap
  expect_fallback(with_ticket(members + ",\"m31\":1"));
  p2p::json_caps small;
  small.max_bytes = 64;
  expect_fast("{\"ticket\":\"" + std::string(51, 'a') + "\"}", small);  // 64 bytes
  expect_fallback("{\"ticket\":\"" + std::string(52, 'a') + "\"}", small);
  p2p::json_caps few;
  few.max_members = 2;
  expect_fast(with_ticket(",\"numwant\":3"), few);
  expect_fallback(with_ticket(",\"numwant\":3,\"x\":1"), few);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(usual_bodies_take_the_fast_path),
      cmocka_unit_test(unusual_or_invalid_bodies_fall_back),
      cmocka_unit_test(caps_are_the_jansson_paths),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
