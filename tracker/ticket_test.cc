#include "tracker/ticket.h"

#include "third_party/cmocka.hpp"

namespace {

const p2p::ticket_claims kClaims{"peerA1", "swarm_X-9", 1700000000};

void signed_ticket_verifies(void**) {
  std::string t = p2p::ticket_sign("secret", kClaims);
  p2p::ticket_claims out;
  assert_int_equal(p2p::ticket_verify("secret", t, 1699999999, 0, &out), p2p::ticket_status::ok);
  assert_string_equal(out.peer_id.c_str(), "peerA1");
  assert_string_equal(out.swarm_id.c_str(), "swarm_X-9");
  assert_int_equal(out.expiry, 1700000000);
}

// Shared vector: signalling/ and client/ tests check the same string.
void known_vector(void**) {
  assert_string_equal(p2p::ticket_sign("secret", kClaims).c_str(),
                      "v1.peerA1.swarm_X-9.1700000000.gGY1Q3IUR5Ayl73BBPHcqI0xu-QwL8EZmDZGytxd2Vg");
}

void expiry_and_skew(void**) {
  std::string t = p2p::ticket_sign("secret", kClaims);
  assert_int_equal(p2p::ticket_verify("secret", t, 1700000001, 0, nullptr),
                   p2p::ticket_status::expired);
  assert_int_equal(p2p::ticket_verify("secret", t, 1700000030, 30, nullptr),
                   p2p::ticket_status::ok);
}

void forgeries_refused(void**) {
  std::string t = p2p::ticket_sign("secret", kClaims);
  assert_int_equal(p2p::ticket_verify("other", t, 0, 0, nullptr),
                   p2p::ticket_status::bad_signature);
  std::string swapped = t;
  swapped.replace(3, 6, "peerB1");  // same length, other peer
  assert_int_equal(p2p::ticket_verify("secret", swapped, 0, 0, nullptr),
                   p2p::ticket_status::bad_signature);
  std::string later = p2p::ticket_sign("secret", {"peerA1", "swarm_X-9", 1800000000});
  std::string spliced = later.substr(0, later.rfind('.')) + t.substr(t.rfind('.'));
  assert_int_equal(p2p::ticket_verify("secret", spliced, 0, 0, nullptr),
                   p2p::ticket_status::bad_signature);
}

void malformed_refused(void**) {
  const char* bad[] = {"",
                       "v1",
                       "v1....",
                       "v2.peerA1.swarm.1.AAAA",
                       "v1.peer A.swarm.1.AAAA",
                       "v1.peer.swarm.01.AAAA",
                       "v1.peer.swarm.-1.AAAA",
                       "v1.peer.swarm.1.AAAA",
                       "v1.peer.swarm.1.AAAA.extra",
                       "v1.peer.swarm.9999999999999.AAAA"};
  for (const char* b : bad)
    assert_int_equal(p2p::ticket_verify("secret", b, 0, 0, nullptr), p2p::ticket_status::malformed);
  assert_int_equal(p2p::ticket_verify("secret", std::string(1000, 'a'), 0, 0, nullptr),
                   p2p::ticket_status::malformed);
  assert_true(p2p::ticket_sign("secret", {"has.dot", "s", 1}).empty());
  assert_true(p2p::ticket_sign("secret", {std::string(65, 'a'), "s", 1}).empty());
}

}  // namespace

int main() {
  const CMUnitTest tests[] = {
      cmocka_unit_test(signed_ticket_verifies), cmocka_unit_test(known_vector),
      cmocka_unit_test(expiry_and_skew),        cmocka_unit_test(forgeries_refused),
      cmocka_unit_test(malformed_refused),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
