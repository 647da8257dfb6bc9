// libFuzzer target for every JSON/query request parser of tracker/: the tracker's
// init/peers/track, the analytics reports and the distributor query. The first
// byte picks the parser, the rest is the body. For `peers` it also checks that the
// fast parser (tracker/peers_request_parser.h) takes only what the jansson path accepts,
// with the same values. Build: tests/fuzz/build_tracker_requests_fuzz.sh
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tracker/analytics_store.h"
#include "tracker/distributor.h"
#include "tracker/peers_request_parser.h"
#include "tracker/tracker_api.h"

namespace {

struct no_lock : p2p::block_lock {
  void lock() override {}
  void unlock() override {}
};

// A small registry kept across inputs, so hostile bodies meet real state (full
// swarms, evictions) and the whole tracker path, not only the parsers.
p2p::swarm_registry& fuzz_registry() {
  static void* block = std::aligned_alloc(64, 64 << 10);
  static p2p::swarm_registry registry = [] {
    p2p::swarm_registry r;
    bool reused;
    r.attach(block, 64 << 10, 1, &reused);
    r.set_limits({4, 90, 30});
    return r;
  }();
  return registry;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  p2p::json_caps caps;
  p2p::api_error error;
  switch (data[0] % 10) {
    case 0: {
      p2p::init_request r;
      p2p::parse_init_request(body, caps, &r, &error);
      break;
    }
    case 1: {
      // The fast parser may only take what the jansson path accepts, with the same
      // values; everything else it must leave to jansson.
      p2p::peers_request r, fast;
      bool accepted = p2p::parse_peers_request(body, caps, &r, &error);
      if (p2p::parse_peers_request_fast(body, caps, &fast) &&
          (!accepted || fast.ticket != r.ticket || fast.peer_id != r.peer_id ||
           fast.swarm != r.swarm || fast.customer != r.customer ||
           fast.has_numwant != r.has_numwant || fast.numwant != r.numwant ||
           fast.has_network != r.has_network || fast.network != r.network ||
           fast.has_upload != r.has_upload || fast.upload_kbps != r.upload_kbps))
        std::abort();
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
      p2p::parse_analytics_report(kActions[data[0] % 10 - 3], body, caps, &r, &error);
      break;
    }
    case 6: {
      static const p2p::distributor_settings settings;
      p2p::distributor_handle(settings, body);
      break;
    }
    case 7:
    case 8:
    case 9: {
      static const char* const kActions[] = {"init", "peers", "track"};
      static p2p::tracker_settings settings = [] {
        p2p::tracker_settings s;
        s.secret = "fuzz-secret-0123456789";
        return s;
      }();
      static no_lock lock;
      static int64_t now = 1700000000;
      p2p::requester_facts facts;
      facts.address.bytes[15] = static_cast<uint8_t>(size);
      // Every other input through a kept workspace, so the swarm copies meet the same
      // hostile traffic as the walk.
      static p2p::tracker_workspace workspace(256);
      p2p::tracker_handle(kActions[data[0] % 10 - 7], body, facts, fuzz_registry(), lock, settings,
                          now++, size % 2 ? &workspace : nullptr);
      break;
    }
  }
  return 0;
}
