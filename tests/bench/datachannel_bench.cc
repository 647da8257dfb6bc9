// Data channel figures for two of our peer connections in one process, on 127.0.0.1:
// open time (create_offer() to both ends open; median of --runs) and one-way
// throughput (--megabytes in --message-size messages, sender kept at most 4 MiB ahead
// with the buffered-amount-low callback). Prints one JSON object; datachannel_bench.js
// puts it next to node-datachannel's figures.
//
// Both peers share the one loop thread of the library (README.md, "Threading"), so the
// throughput figure is what one thread moving both ends achieves. CPU seconds (user +
// system, all threads) are reported too: on a shared, loaded machine MB per CPU second
// compares stacks more steadily than MB per wall-clock second.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "client/webrtc/peer_connection.h"

using namespace p2p::webrtc;
using clock_type = std::chrono::steady_clock;

namespace {

// User + system CPU seconds of this process so far (all threads).
double cpu_seconds() {
  struct rusage usage = {};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec +
         usage.ru_stime.tv_usec / 1e6;
}

std::mutex g_mutex;
std::condition_variable g_changed;

struct pair {
  std::shared_ptr<peer_connection> offerer;
  std::shared_ptr<peer_connection> answerer;
  std::shared_ptr<data_channel> sender;
  std::shared_ptr<data_channel> receiver;
  bool sender_open = false;
};

// Connects a pair; returns false on failure or after 10 s.
bool connect(pair& p) {
  peer_configuration configuration;
  configuration.local_addresses = {"127.0.0.1"};
  p.offerer = peer_connection::create(configuration);
  p.answerer = peer_connection::create(configuration);
  if (!p.offerer || !p.answerer) return false;
  std::weak_ptr<peer_connection> to_answerer = p.answerer;
  std::weak_ptr<peer_connection> to_offerer = p.offerer;
  p.offerer->on_local_candidate([to_answerer](const std::string& candidate) {
    if (auto peer = to_answerer.lock()) peer->add_remote_candidate(candidate);
  });
  p.answerer->on_local_candidate([to_offerer](const std::string& candidate) {
    if (auto peer = to_offerer.lock()) peer->add_remote_candidate(candidate);
  });
  p.answerer->on_data_channel([&p](std::shared_ptr<data_channel> channel) {
    std::lock_guard<std::mutex> lock(g_mutex);
    p.receiver = channel;
    g_changed.notify_all();
  });
  p.sender = p.offerer->create_data_channel("bench");
  p.sender->on_open([&p] {
    std::lock_guard<std::mutex> lock(g_mutex);
    p.sender_open = true;
    g_changed.notify_all();
  });
  std::string answer = p.answerer->create_answer(p.offerer->create_offer());
  if (answer.empty() || !p.offerer->set_remote_answer(answer)) return false;
  std::unique_lock<std::mutex> lock(g_mutex);
  return g_changed.wait_for(lock, std::chrono::seconds(10),
                            [&] { return p.sender_open && p.receiver; });
}

long option(int argc, char** argv, const char* name, long fallback) {
  std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0)
      return std::atol(argv[i] + prefix.size());
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = static_cast<int>(std::clamp(option(argc, argv, "runs", 10), 1L, 100L));
  size_t megabytes =
      static_cast<size_t>(std::clamp(option(argc, argv, "megabytes", 64), 1L, 1024L));
  size_t message_size =
      static_cast<size_t>(std::clamp(option(argc, argv, "message-size", 65536), 1024L, 262144L));

  std::vector<double> open_ms;
  for (int run = 0; run < runs; ++run) {
    pair p;
    auto start = clock_type::now();
    if (!connect(p)) {
      std::fprintf(stderr, "connection %d failed\n", run);
      return 1;
    }
    open_ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - start).count());
  }
  std::sort(open_ms.begin(), open_ms.end());

  pair p;
  if (!connect(p)) return 1;
  const size_t total = megabytes << 20;
  const size_t high_water = 4u << 20;
  size_t received = 0;
  p.receiver->on_message([&received](const uint8_t*, size_t size, bool) {
    std::lock_guard<std::mutex> lock(g_mutex);
    received += size;
    g_changed.notify_all();
  });
  p.sender->set_buffered_amount_low_threshold(high_water / 4);
  p.sender->on_buffered_amount_low([] {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_changed.notify_all();
  });
  std::vector<uint8_t> message(message_size, 0x5a);
  double cpu_start = cpu_seconds();
  auto start = clock_type::now();
  auto deadline = start + std::chrono::seconds(60);
  size_t sent = 0;
  bool ok = true;
  while (sent < total && ok) {
    while (sent < total && p.sender->buffered_amount() < high_water) {
      size_t size = std::min(message_size, total - sent);
      if (!p.sender->send(message.data(), size)) {
        ok = false;
        break;
      }
      sent += size;
    }
    std::unique_lock<std::mutex> lock(g_mutex);
    g_changed.wait_until(lock, deadline,
                         [&] { return p.sender->buffered_amount() < high_water / 4; });
    if (clock_type::now() >= deadline) ok = false;
  }
  {
    std::unique_lock<std::mutex> lock(g_mutex);
    ok = ok && g_changed.wait_until(lock, deadline, [&] { return received == total; });
  }
  double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  double cpu = cpu_seconds() - cpu_start;
  if (!ok) {
    std::fprintf(stderr, "throughput run failed (%zu of %zu bytes)\n", received, total);
    return 1;
  }
  std::printf(
      "{\"stack\":\"ours\",\"open_ms_median\":%.1f,\"open_ms_min\":%.1f,\"open_ms_max\":%.1f,"
      "\"runs\":%d,\"bytes\":%zu,\"message_size\":%zu,\"seconds\":%.3f,\"mb_per_s\":%.1f,\"cpu_"
      "seconds\":%.3f,"
      "\"mb_per_cpu_s\":%.1f}\n",
      open_ms[open_ms.size() / 2], open_ms.front(), open_ms.back(), runs, total, message_size,
      seconds, total / 1e6 / seconds, cpu, total / 1e6 / cpu);
  return 0;
}
