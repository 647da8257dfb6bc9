#include <cstring>

#include "common/base64url.h"
#include "common/hmac_sha256.h"
#include "third_party/cmocka.hpp"

namespace {

void base64url_round_trips_every_length(void**) {
  std::string bytes;
  for (int i = 0; i < 70; ++i) {
    std::string enc = p2p::base64url_encode(bytes);
    assert_null(std::strchr(enc.c_str(), '='));
    auto dec = p2p::base64url_decode(enc);
    assert_true(dec.has_value());
    assert_true(*dec == bytes);
    bytes += char(i * 37 + 250);
  }
}

void base64url_known_vectors(void**) {
  assert_string_equal(p2p::base64url_encode(std::string("\xfb\xff", 2)).c_str(), "-_8");
  assert_string_equal(p2p::base64url_encode("foobar").c_str(), "Zm9vYmFy");
  assert_string_equal(p2p::base64url_encode("fo").c_str(), "Zm8");
}

void base64url_refuses_hostile_input(void**) {
  assert_false(p2p::base64url_decode("Zm9v=").has_value());    // padding
  assert_false(p2p::base64url_decode("Zm9+").has_value());     // standard alphabet
  assert_false(p2p::base64url_decode("Z").has_value());        // impossible length
  assert_true(p2p::base64url_decode("Zm8").has_value());
  assert_false(p2p::base64url_decode("Zm9").has_value());  // "Zm8" is the one encoding
  assert_false(p2p::base64url_decode("Zm9=").has_value());
  assert_false(p2p::base64url_decode("Zm-").has_value());      // non-zero trailing bits
  assert_false(p2p::base64url_decode(std::string("Zm\0v", 4)).has_value());
}

void hmac_matches_rfc4231_case_2(void**) {
  auto mac = p2p::hmac_sha256("Jefe", "what do ya want for nothing?");
  assert_string_equal(p2p::to_hex(mac).c_str(),
                      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

void sha256_of_abc(void**) {
  assert_string_equal(p2p::to_hex(p2p::sha256("abc")).c_str(),
                      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

void constant_time_equal_compares_length_and_bytes(void**) {
  assert_true(p2p::constant_time_equal("abc", "abc"));
  assert_false(p2p::constant_time_equal("abc", "abd"));
  assert_false(p2p::constant_time_equal("abc", "ab"));
  assert_true(p2p::constant_time_equal("", ""));
}

}  // namespace

int main() {
  const CMUnitTest tests[] = {
      cmocka_unit_test(base64url_round_trips_every_length),
      cmocka_unit_test(base64url_known_vectors),
      cmocka_unit_test(base64url_refuses_hostile_input),
      cmocka_unit_test(hmac_matches_rfc4231_case_2),
      cmocka_unit_test(sha256_of_abc),
      cmocka_unit_test(constant_time_equal_compares_length_and_bytes),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
