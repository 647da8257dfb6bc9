#include "tracker/ticket_signer.h"

#include <random>
#include <string>

#include "third_party/cmocka.hpp"

namespace {

const p2p::ticket_claims kClaims{"peerA1", "swarm_X-9", 1700000000};

void same_known_vector(void**) {
  p2p::ticket_signer signer("secret");
  assert_string_equal(signer.sign(kClaims).c_str(),
                      "v1.peerA1.swarm_X-9.1700000000.gGY1Q3IUR5Ayl73BBPHcqI0xu-QwL8EZmDZGytxd2Vg");
  p2p::ticket_claims out;
  assert_int_equal(signer.verify(signer.sign(kClaims), 1699999999, 0, &out),
                   p2p::ticket_status::ok);
  assert_string_equal(out.peer_id.c_str(), "peerA1");
  assert_string_equal(out.swarm_id.c_str(), "swarm_X-9");
  assert_int_equal(out.expiry, 1700000000);
}

void long_and_empty_keys_match_hmac(void**) {
  for (std::string secret :
       {std::string(), std::string(64, 'k'), std::string(65, 'k'), std::string(200, 'z')}) {
    p2p::ticket_signer signer(secret);
    assert_string_equal(signer.sign(kClaims).c_str(), p2p::ticket_sign(secret, kClaims).c_str());
  }
}

// Every mutation of a valid ticket gets the same verdict from both implementations.
// The last of a signature's 43 characters carries 4 digest bits and 2 zero bits: a
// set zero bit is not base64url (malformed), a changed digest bit a bad signature.
void signature_last_character(void**) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  p2p::ticket_signer signer("the-secret");
  const std::string base =
      p2p::ticket_sign("the-secret", {"Zq3x0b9cR4mN1pQwErTy2A", "movie-720p", 1700003600});
  const size_t last = kAlphabet.find(base.back());
  std::string padding_bit = base, digest_bit = base;
  padding_bit.back() = kAlphabet[last ^ 1];
  digest_bit.back() = kAlphabet[last ^ 4];
  for (const std::string* t : {&padding_bit, &digest_bit}) {
    p2p::ticket_claims a, b;
    assert_int_equal(signer.verify(*t, 1700000000, 0, &b),
                     p2p::ticket_verify("the-secret", *t, 1700000000, 0, &a));
  }
  assert_int_equal(signer.verify(padding_bit, 1700000000, 0, nullptr),
                   p2p::ticket_status::malformed);
  assert_int_equal(signer.verify(digest_bit, 1700000000, 0, nullptr),
                   p2p::ticket_status::bad_signature);
}

void verdicts_match_ticket_verify(void**) {
  p2p::ticket_signer signer("the-secret");
  std::mt19937 rng(7);
  const std::string alphabet = "v1.aZ9_-0x.\xff";
  std::string base =
      p2p::ticket_sign("the-secret", {"Zq3x0b9cR4mN1pQwErTy2A", "movie-720p", 1700003600});
  int statuses[4] = {0, 0, 0, 0};
  for (int i = 0; i < 20000; ++i) {
    std::string t = base;
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % (t.size() + 1);
      switch (rng() % 3) {
        case 0:
          if (pos < t.size()) t[pos] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          t.insert(pos, 1, alphabet[rng() % alphabet.size()]);
          break;
        default:
          if (pos < t.size()) t.erase(pos, 1);
      }
    }
    int64_t now = 1700003600 + static_cast<int64_t>(rng() % 3) - 1;
    p2p::ticket_claims a, b;
    p2p::ticket_status expected = p2p::ticket_verify("the-secret", t, now, 0, &a);
    p2p::ticket_status got = signer.verify(t, now, 0, &b);
    assert_int_equal(got, expected);
    ++statuses[static_cast<int>(got)];
  }
  // The unmodified ticket, around its expiry.
  assert_int_equal(signer.verify(base, 1700003600, 0, nullptr), p2p::ticket_status::ok);
  assert_int_equal(signer.verify(base, 1700003601, 0, nullptr), p2p::ticket_status::expired);
  assert_true(statuses[static_cast<int>(p2p::ticket_status::malformed)] > 0);
  assert_true(statuses[static_cast<int>(p2p::ticket_status::bad_signature)] > 0);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(same_known_vector),
      cmocka_unit_test(long_and_empty_keys_match_hmac),
      cmocka_unit_test(signature_last_character),
      cmocka_unit_test(verdicts_match_ticket_verify),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
