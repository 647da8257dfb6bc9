// Calls the tracker core's `peers` path many times over 10,000 peers in 100 swarms,
// as tests/bench/tracker_peers_bench.sh does through nginx, without nginx: a
// repeatable workload for `valgrind --tool=callgrind` (instruction counts do not move
// with the machine's load) and perf. Built and run by tests/bench/tracker_peers_profile.sh.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tracker/tracker_api.h"

namespace {

struct no_lock : p2p::block_lock {
  void lock() override {}
  void unlock() override {}
};

std::string member(const std::string& body, const char* name) {
  std::string key = std::string("\"") + name + "\":\"";
  size_t at = body.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  return body.substr(at, body.find('"', at) - at);
}

}  // namespace

int main(int argc, char** argv) {
  const int calls = argc > 1 ? std::atoi(argv[1]) : 20000;
  // "walk": no workspace, every call walks the swarm (what a worker does for a swarm
  // that changed since its last call); default: one workspace, as an nginx worker has.
  const bool walk = argc > 2 && std::string(argv[2]) == "walk";
  p2p::tracker_workspace workspace;
  constexpr int kPeers = 10000;
  constexpr int kSwarms = 100;
  constexpr size_t kBlock = 2 << 20;
  void* block = std::aligned_alloc(64, kBlock);
  p2p::swarm_registry registry;
  bool reused;
  if (!registry.attach(block, kBlock, 7, &reused)) return 1;
  registry.set_limits({1000, 900, 30});
  p2p::tracker_settings settings;
  settings.secret = "bench-secret-0123456789abcdef";
  settings.announce_interval = 300;
  no_lock lock;
  const int64_t now = 1700000000;

  std::vector<std::string> bodies;
  bodies.reserve(kPeers);
  static const char* const kNetworks[] = {"wifi", "ethernet", "cellular", "unknown"};
  for (int i = 0; i < kPeers; ++i) {
    char body[160];
    std::snprintf(body, sizeof body,
                  "{\"swarm\":\"swarm%03d\",\"customer\":\"bench\",\"network\":\"%s\","
                  "\"upload_kbps\":%d}",
                  i % kSwarms, kNetworks[i % 4], (i * 37) % 20000);
    p2p::requester_facts facts;
    const uint8_t v4[4] = {127, 0, 0, 1};
    facts.address = p2p::peer_address::from_v4(v4);
    p2p::api_response r = p2p::tracker_handle("init", body, facts, registry, lock, settings, now);
    if (r.http_status != 200) {
      std::fprintf(stderr, "init %d: %d %s\n", i, r.http_status, r.body.c_str());
      return 1;
    }
    bodies.push_back("{\"ticket\":\"" + member(r.body, "ticket") + "\",\"numwant\":20}");
  }

  p2p::requester_facts facts;
  const uint8_t local[4] = {127, 0, 0, 1};  // every peer of the nginx bench is 127.0.0.1
  facts.address = p2p::peer_address::from_v4(local);
  size_t bytes = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) {
    p2p::api_response r = p2p::tracker_handle("peers", bodies[i % kPeers], facts, registry, lock,
                                              settings, now + 1, walk ? nullptr : &workspace);
    if (r.http_status != 200) {
      std::fprintf(stderr, "peers %d: %d %s\n", i, r.http_status, r.body.c_str());
      return 1;
    }
    bytes += r.body.size();
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (calls > 0)
    std::printf("%d peers calls, %.0f bytes per answer, %.2f us per call (wall, noisy)\n", calls,
                static_cast<double>(bytes) / calls, seconds * 1e6 / calls);
  std::free(block);
  return 0;
}
