// The data-channel-only SDP of WebRTC (RFC 8841, JSEP): one m=application section,
// UDP/DTLS/SCTP webrtc-datachannel. Writes what Chromium accepts and reads what
// browsers and libdatachannel produce (also the older DTLS/SCTP + a=sctpmap form).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace p2p {
namespace webrtc {

struct session_description {
  std::string ice_ufrag;
  std::string ice_password;
  std::string fingerprint;  // SHA-256, "AB:CD:..." upper case
  std::string setup;        // actpass, active or passive
  std::string mid = "0";
  uint16_t sctp_port = 5000;
  // 0: the attribute is absent (RFC 8841: the peer then accepts 64 KiB).
  size_t max_message_size = 0;
  std::vector<std::string> candidates;  // "candidate:..." values
  bool end_of_candidates = false;
};

// RFC 8841: a peer that does not say accepts at least this.
constexpr size_t kDefaultRemoteMaxMessageSize = 65536;

std::string write_sdp(const session_description& description, uint64_t session_id);
// False (with a reason) when there is no usable data channel section or a required
// attribute (ICE credentials, a SHA-256 fingerprint) is missing.
bool parse_sdp(const std::string& text, session_description* description, std::string* error);

}  // namespace webrtc
}  // namespace p2p
