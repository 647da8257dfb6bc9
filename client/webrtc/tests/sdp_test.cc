// SDP writing and parsing for data-channel-only sessions.
#include "client/webrtc/sdp.h"

#include <string>

#include "third_party/cmocka.hpp"

using p2p::webrtc::parse_sdp;
using p2p::webrtc::session_description;
using p2p::webrtc::write_sdp;

static void round_trip(void**) {
  session_description local;
  local.ice_ufrag = "abcd";
  local.ice_password = "0123456789012345678901";
  local.fingerprint = "AA:BB:CC";
  local.setup = "actpass";
  local.max_message_size = 262144;
  local.candidates.push_back("candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host");
  std::string text = write_sdp(local, 42);
  assert_true(text.find("m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n") !=
              std::string::npos);
  assert_true(text.find("a=sctp-port:5000\r\n") != std::string::npos);
  session_description parsed;
  std::string error;
  assert_true(parse_sdp(text, &parsed, &error));
  assert_string_equal(parsed.ice_ufrag.c_str(), "abcd");
  assert_string_equal(parsed.ice_password.c_str(), "0123456789012345678901");
  assert_string_equal(parsed.fingerprint.c_str(), "AA:BB:CC");
  assert_string_equal(parsed.setup.c_str(), "actpass");
  assert_int_equal(parsed.max_message_size, 262144);
  assert_int_equal(parsed.sctp_port, 5000);
  assert_int_equal(parsed.candidates.size(), 1);
}

// What Chromium produces for createDataChannel() + createOffer().
static void parses_chromium_offer(void**) {
  const char* offer =
      "v=0\r\no=- 4567 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
      "a=extmap-allow-mixed\r\na=msid-semantic: WMS\r\n"
      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
      "a=ice-ufrag:Xy12\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\na=ice-options:trickle\r\n"
      "a=fingerprint:sha-256 "
      "1a:2B:3C:4D:5E:6F:70:81:92:A3:B4:C5:D6:E7:F8:09:1A:2B:3C:4D:5E:6F:70:81:92:A3:B4:C5:"
      "D6:E7:F8:09\r\n"
      "a=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n";
  session_description parsed;
  std::string error;
  assert_true(parse_sdp(offer, &parsed, &error));
  assert_string_equal(parsed.ice_ufrag.c_str(), "Xy12");
  assert_string_equal(parsed.fingerprint.substr(0, 5).c_str(), "1A:2B");
  assert_string_equal(parsed.mid.c_str(), "0");
  assert_int_equal(parsed.max_message_size, 262144);
}

static void session_level_attributes_and_legacy_sctpmap(void**) {
  const char* offer =
      "v=0\r\ns=-\r\na=ice-ufrag:u1\r\na=ice-pwd:p1p1p1p1p1p1p1p1p1p1p1\r\n"
      "a=fingerprint:SHA-256 AB:CD\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:audio\r\n"
      "m=application 9 DTLS/SCTP 5001\r\na=sctpmap:5001 webrtc-datachannel 1024\r\n"
      "a=mid:data\r\n";
  session_description parsed;
  std::string error;
  assert_true(parse_sdp(offer, &parsed, &error));
  assert_string_equal(parsed.ice_ufrag.c_str(), "u1");
  assert_string_equal(parsed.fingerprint.c_str(), "AB:CD");
  assert_int_equal(parsed.sctp_port, 5001);
  assert_string_equal(parsed.mid.c_str(), "data");
  assert_int_equal(parsed.max_message_size, 0);
}

static void rejects_incomplete(void**) {
  session_description parsed;
  std::string error;
  assert_false(parse_sdp("v=0\r\nm=audio 9 RTP/AVP 0\r\n", &parsed, &error));
  assert_false(
      parse_sdp("v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                "a=ice-ufrag:u\r\na=ice-pwd:p\r\n",
                &parsed, &error));
  assert_string_equal(error.c_str(), "missing sha-256 fingerprint");
  // Only SHA-256 fingerprints are accepted.
  assert_false(
      parse_sdp("v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                "a=ice-ufrag:u\r\na=ice-pwd:p\r\na=fingerprint:sha-1 AB\r\n",
                &parsed, &error));
}

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(round_trip),
      cmocka_unit_test(parses_chromium_offer),
      cmocka_unit_test(session_level_attributes_and_legacy_sctpmap),
      cmocka_unit_test(rejects_incomplete),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
