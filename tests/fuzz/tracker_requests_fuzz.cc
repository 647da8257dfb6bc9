// libFuzzer target for every JSON/query request parser of tracker/: the tracker's
// init/peers/track, the analytics reports and the distributor query. The first
// byte picks the parser, the rest is the body. Build: tests/fuzz/build_tracker_requests_fuzz.sh
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tracker/analytics_store.h"
#include "tracker/distributor.h"
#include "tracker/tracker_api.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  p2p::json_caps caps;
  p2p::api_error error;
  switch (data[0] % 7) {
    case 0: {
      p2p::init_request r;
      p2p::parse_init_request(body, caps, &r, &error);
      break;
    }
    case 1: {
      p2p::peers_request r;
      p2p::parse_peers_request(body, caps, &r, &error);
      break;
    }
    case 2: {
      p2p::track_request r;
      p2p::parse_track_request(body, caps, &r, &error);
      break;
    }
    case 3:
    case 4:
    case 5: {
      static const char* const kActions[] = {"usage", "stats", "control"};
      p2p::analytics_report r;
      p2p::parse_analytics_report(kActions[data[0] % 7 - 3], body, caps, &r, &error);
      break;
    }
    case 6: {
      static const p2p::distributor_settings settings;
      p2p::distributor_handle(settings, body);
      break;
    }
  }
  return 0;
}
