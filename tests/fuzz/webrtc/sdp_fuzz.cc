// libFuzzer target for the data-channel SDP parser (client/webrtc/sdp.h): remote SDP
// arrives from the network through signalling. Besides not crashing, whatever parses
// must survive a write/parse round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "client/webrtc/sdp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  p2p::webrtc::session_description parsed;
  std::string error;
  if (!p2p::webrtc::parse_sdp(text, &parsed, &error)) return 0;
  // Values with line breaks or spaces cannot round-trip through SDP lines; the parser
  // only ever yields what was on one line, so they do not occur.
  std::string written = p2p::webrtc::write_sdp(parsed, 1);
  p2p::webrtc::session_description again;
  if (!p2p::webrtc::parse_sdp(written, &again, &error)) abort();
  if (again.ice_ufrag != parsed.ice_ufrag || again.ice_password != parsed.ice_password ||
      again.fingerprint != parsed.fingerprint || again.setup != parsed.setup ||
      again.sctp_port != parsed.sctp_port || again.max_message_size != parsed.max_message_size ||
      again.candidates != parsed.candidates)
    abort();
  return 0;
}
