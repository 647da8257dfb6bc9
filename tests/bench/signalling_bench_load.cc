// Load generator for tests/bench/signalling_bench.mjs in C++ (libwebsockets client on a
// libev loop), so the generator is not what limits the measurement. Same workload as the
// Node generator: SWARMS x PEERS WebTorrent peers, each in a closed loop announcing with
// OFFERS offers and answering every offer it receives; prints one JSON line of results.
//
//   signalling_bench_load HOST PORT PATH SECONDS WORKER_ID
// Built by signalling_bench.sh with g++ (not Bazel: tests/bench has no BUILD of its own).
#include <ev.h>
#include <libwebsockets.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "signalling/binary_string.h"
#include "signalling/json_scan.h"

namespace {

constexpr int kSwarms = 10;
constexpr int kPeersPerSwarm = 10;
constexpr int kOffers = 5;
constexpr int kAnswerWaitMs = 1000;
constexpr size_t kLatencySamples = 20000;

double now_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string id20(const std::string& text) {
  std::string out = text.substr(0, 20);
  out.resize(20, '.');
  return out;
}

struct peer {
  lws* wsi = nullptr;
  std::string info_hash;
  std::string peer_id;
  std::deque<std::string> outbox;  // each with LWS_PRE headroom
  int pending = 0;
  int round = 0;
  double deadline = 0;
  bool connected = false;
};

struct run_state {
  std::vector<peer> peers;
  int connected = 0;
  bool measuring = false;
  bool running = true;
  bool done = false;
  double start = 0;
  double measure_start = 0;
  double seconds = 0;
  long long received = 0;
  long long received_total = 0;
  long long announces = 0;
  std::vector<double> latencies;
  long long seen = 0;
  std::mt19937_64 rng{7};
};

run_state g_run;

void sample(double ms) {
  if (!g_run.measuring) return;
  ++g_run.seen;
  if (g_run.latencies.size() < kLatencySamples) {
    g_run.latencies.push_back(ms);
  } else {
    auto slot = static_cast<size_t>(g_run.rng() % static_cast<uint64_t>(g_run.seen));
    if (slot < kLatencySamples) g_run.latencies[slot] = ms;
  }
}

void send_text(peer& p, const std::string& json) {
  std::string frame(LWS_PRE, '\0');
  frame += json;
  p.outbox.push_back(std::move(frame));
  lws_callback_on_writable(p.wsi);
}

std::string js(const std::string& bytes) {
  std::string out;
  p2p::json_append_string(&out, p2p::binary_to_utf8(bytes));
  return out;
}

void announce(peer& p) {
  if (!g_run.running) return;
  p.pending = 0;
  p.deadline = now_ms() + kAnswerWaitMs;
  char stamp[32];
  std::snprintf(stamp, sizeof(stamp), "\"%.3f\"", now_ms());
  std::string json = "{\"action\":\"announce\",\"info_hash\":" + js(p.info_hash) +
                     ",\"peer_id\":" + js(p.peer_id) + ",\"numwant\":" +
                     std::to_string(kOffers) + ",\"uploaded\":0,\"downloaded\":0,\"left\":1" +
                     (p.round == 0 ? ",\"event\":\"started\"" : "") + ",\"offers\":[";
  for (int i = 0; i < kOffers; ++i) {
    if (i > 0) json += ',';
    json += "{\"offer_id\":" + js(id20("o" + std::to_string(p.round) + "-" + std::to_string(i))) +
            ",\"offer\":{\"type\":\"offer\",\"sdp\":" + stamp + "}}";
  }
  json += "]}";
  ++p.round;
  if (g_run.measuring) ++g_run.announces;
  send_text(p, json);
}

double stamp_of(const p2p::json_value_text* body) {
  if (body == nullptr || body->kind != p2p::json_kind::object) return -1;
  p2p::json_object_text object;
  if (!object.parse(body->raw)) return -1;
  const p2p::json_value_text* sdp = object.get("sdp");
  std::string text;
  if (sdp == nullptr || !p2p::json_string_value(sdp->raw, &text)) return -1;
  return std::atof(text.c_str());
}

void on_message(peer& p, std::string_view text) {
  ++g_run.received_total;
  if (g_run.measuring) ++g_run.received;
  p2p::json_object_text m;
  if (!m.parse(text)) return;
  if (const p2p::json_value_text* offer = m.get("offer")) {
    double t = stamp_of(offer);
    if (t >= 0) sample(now_ms() - t);
    const p2p::json_value_text* from = m.get("peer_id");
    const p2p::json_value_text* offer_id = m.get("offer_id");
    if (from == nullptr || offer_id == nullptr) return;
    char stamp[32];
    std::snprintf(stamp, sizeof(stamp), "\"%.3f\"", now_ms());
    send_text(p, "{\"action\":\"announce\",\"info_hash\":" + js(p.info_hash) +
                     ",\"peer_id\":" + js(p.peer_id) + ",\"to_peer_id\":" +
                     std::string(from->raw) + ",\"offer_id\":" + std::string(offer_id->raw) +
                     ",\"answer\":{\"type\":\"answer\",\"sdp\":" + stamp + "}}");
  } else if (const p2p::json_value_text* answer = m.get("answer")) {
    double t = stamp_of(answer);
    if (t >= 0) sample(now_ms() - t);
    if (--p.pending == 0) announce(p);
  } else if (m.get("interval") != nullptr) {
    long long complete = 0;
    long long incomplete = 0;
    if (const auto* v = m.get("complete")) p2p::json_number_to_count(v->raw, &complete);
    if (const auto* v = m.get("incomplete")) p2p::json_number_to_count(v->raw, &incomplete);
    long long expected = std::min<long long>(complete + incomplete - 1, kOffers);
    p.pending += static_cast<int>(expected);
    if (p.pending <= 0) announce(p);
  }
}

int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
  auto* p = static_cast<peer*>(user);
  switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      p->connected = true;
      ++g_run.connected;
      break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
      // Messages here are small; lws delivers each in one piece.
      if (lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi)) {
        on_message(*p, std::string_view(static_cast<const char*>(in), len));
      }
      break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
      while (!p->outbox.empty()) {
        std::string& frame = p->outbox.front();
        size_t length = frame.size() - LWS_PRE;
        auto* data = reinterpret_cast<unsigned char*>(frame.data()) + LWS_PRE;
        if (lws_write(wsi, data, length, LWS_WRITE_TEXT) < static_cast<int>(length)) return -1;
        p->outbox.pop_front();
        if (lws_send_pipe_choked(wsi)) break;
      }
      if (!p->outbox.empty()) lws_callback_on_writable(wsi);
      break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
      std::fprintf(stderr, "connection error: %s\n", in ? static_cast<const char*>(in) : "");
      std::exit(1);
    case LWS_CALLBACK_CLIENT_CLOSED:
      if (g_run.running) {
        std::fprintf(stderr, "server closed a connection\n");
        std::exit(1);
      }
      break;
    default:
      break;
  }
  return 0;
}

const lws_protocols kProtocols[] = {
    {"bench", callback, 0, 4096, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

lws_sorted_usec_list_t g_timer;
lws_context* g_context = nullptr;

void on_timer(lws_sorted_usec_list_t*) {
  double now = now_ms();
  if (g_run.connected == static_cast<int>(g_run.peers.size()) && g_run.start == 0) {
    g_run.start = now;
    for (auto& p : g_run.peers) announce(p);
  }
  if (g_run.start != 0 && !g_run.measuring && g_run.measure_start == 0 &&
      now - g_run.start > 1000) {
    g_run.measuring = true;
    g_run.measure_start = now;
  }
  if (g_run.measuring && now - g_run.measure_start > g_run.seconds * 1000) {
    g_run.measuring = false;
    g_run.running = false;
    g_run.done = true;
    return;
  }
  // A lost answer must not stall a peer.
  for (auto& p : g_run.peers) {
    if (g_run.start != 0 && p.deadline != 0 && now > p.deadline) announce(p);
  }
  lws_sul_schedule(g_context, 0, &g_timer, on_timer, 10 * LWS_US_PER_MS);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s HOST PORT PATH SECONDS WORKER_ID\n", argv[0]);
    return 2;
  }
  const char* host = argv[1];
  int port = std::atoi(argv[2]);
  const char* path = argv[3];
  g_run.seconds = std::atof(argv[4]);
  std::string worker = argv[5];
  lws_set_log_level(LLL_ERR, nullptr);

  struct ev_loop* loop = ev_loop_new(EVFLAG_AUTO);
  void* foreign_loops[1] = {loop};
  lws_context_creation_info info;
  std::memset(&info, 0, sizeof(info));
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = kProtocols;
  info.options = LWS_SERVER_OPTION_LIBEV;
  info.foreign_loops = foreign_loops;
  info.fd_limit_per_thread = 4096;
  g_context = lws_create_context(&info);
  if (g_context == nullptr) return 1;

  g_run.peers.resize(kSwarms * kPeersPerSwarm);
  for (int s = 0; s < kSwarms; ++s) {
    for (int i = 0; i < kPeersPerSwarm; ++i) {
      peer& p = g_run.peers[static_cast<size_t>(s * kPeersPerSwarm + i)];
      p.info_hash = id20("w" + worker + "s" + std::to_string(s));
      p.peer_id = id20("w" + worker + "s" + std::to_string(s) + "p" + std::to_string(i));
      lws_client_connect_info connect;
      std::memset(&connect, 0, sizeof(connect));
      connect.context = g_context;
      connect.address = host;
      connect.port = port;
      connect.path = path;
      connect.host = host;
      connect.origin = host;
      connect.protocol = nullptr;
      connect.local_protocol_name = "bench";
      connect.userdata = &p;
      connect.pwsi = &p.wsi;
      if (lws_client_connect_via_info(&connect) == nullptr) return 1;
    }
  }
  std::memset(&g_timer, 0, sizeof(g_timer));
  lws_sul_schedule(g_context, 0, &g_timer, on_timer, 10 * LWS_US_PER_MS);
  double started = now_ms();
  while (!g_run.done && now_ms() - started < (g_run.seconds + 30) * 1000) ev_run(loop, EVRUN_ONCE);
  double elapsed = (now_ms() - g_run.measure_start) / 1000;
  if (g_run.measure_start == 0) return 1;
  elapsed = g_run.seconds;
  std::printf("{\"received\":%lld,\"receivedTotal\":%lld,\"announces\":%lld,\"elapsed\":%.3f,",
              g_run.received, g_run.received_total, g_run.announces, elapsed);
  std::printf("\"latencies\":[");
  for (size_t i = 0; i < g_run.latencies.size(); ++i) {
    std::printf("%s%.3f", i ? "," : "", g_run.latencies[i]);
  }
  std::printf("]}\n");
  std::fflush(stdout);
  std::_Exit(0);  // no orderly close: the servers see resets, as after a crash
}
