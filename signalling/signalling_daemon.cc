// p2p-signalling: the libwebsockets glue around signalling_core. One protocol callback
// (after lws' minimal-ws-server-ring): per-session struct; the core's bounded
// per-connection queues are written once per loop pass, after its events (flush_dirty),
// and on LWS_CALLBACK_SERVER_WRITEABLE when the socket was full or a ping goes first.
#include <ev.h>
#include <libwebsockets.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <unordered_map>
#include <vector>

#include "signalling/signalling_config.h"
#include "signalling/signalling_core.h"

namespace {

constexpr char kNativePath[] = "/v1/signal";
constexpr char kMetricsPath[] = "/metrics";
// Small receive buffer: an idle connection costs little; long messages arrive in
// pieces the core reassembles up to max_message_bytes.
constexpr size_t kRxBufferSize = 1024;
constexpr size_t kTxPacketSize = size_t{64} * 1024;
// Queued frames are framed here and sent together, up to this many bytes per write:
// one send(2) instead of one per frame (loopback TCP costs per call).
constexpr size_t kBatchBytes = size_t{64} * 1024;
// Seconds a closing connection gets to take its last frame before it is dropped.
constexpr int kCloseFlushSeconds = 3;
// A loop pass that received at least this many frames counts as busy: its output is held
// for write_coalesce_us (see hold_writes). Quieter passes write at once.
constexpr uint64_t kBusyPassFrames = 16;

std::atomic<bool> g_terminate{false};
std::atomic<bool> g_reload{false};

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The time libev took when this loop pass woke up: a clock read per received frame showed
// in profiles, and a message's time within one pass does not matter to the core.
struct ev_loop* g_loop = nullptr;
uint64_t g_frames_received = 0;  // frames handed to the core, for the busy-pass test
uint64_t g_write_holds = 0;      // busy passes whose writes were held (a metric)
int64_t pass_now_ms() {
  return g_loop != nullptr ? static_cast<int64_t>(ev_now(g_loop) * 1000) : now_ms();
}

struct session {
  p2p::connection_id id;
  std::string* http_body;  // /metrics response waiting for HTTP_WRITEABLE
  bool close_sent;
  bool ping_due;
  bool flush_due;  // listed in lws_transport::dirty
};

class lws_transport : public p2p::connection_sink {
 public:
  // Not a WRITEABLE request: the connection is listed and written directly once the
  // current loop iteration has handled all its events (flush_dirty). A POLLOUT round trip
  // per frame cost an epoll_ctl, an epoll wakeup and a callback; the socket is almost
  // always writable, and when it is not lws keeps the rest and asks for POLLOUT itself.
  void wants_write(p2p::connection_id id) override {
    auto it = sockets.find(id);
    if (it == sockets.end()) return;
    auto* pss = static_cast<session*>(lws_wsi_user(it->second));
    if (pss->flush_due) return;
    pss->flush_due = true;
    dirty.push_back(id);
  }
  void wants_ping(p2p::connection_id id) override {
    auto it = sockets.find(id);
    if (it == sockets.end()) return;
    static_cast<session*>(lws_wsi_user(it->second))->ping_due = true;
    lws_callback_on_writable(it->second);
  }
  void queue_filling(p2p::connection_id) override { write_now = true; }
  void wants_close(p2p::connection_id id, p2p::close_code code) override {
    closing[id] = code;
    auto it = sockets.find(id);
    if (it == sockets.end()) return;
    lws_set_timeout(it->second, PENDING_TIMEOUT_USER_OK, kCloseFlushSeconds);
    lws_callback_on_writable(it->second);
  }

  std::unordered_map<p2p::connection_id, lws*> sockets;
  std::unordered_map<p2p::connection_id, p2p::close_code> closing;
  std::vector<p2p::connection_id> dirty;  // queues that gained frames this iteration
  bool write_now = false;                 // a queue passed half its limit this pass: do not hold it
};

struct daemon_state {
  p2p::daemon_config config;
  std::vector<std::string> args;
  lws_transport transport;
  p2p::signalling_core* core = nullptr;
  p2p::connection_id next_id = 1;
  std::string write_batch;  // reused by every write
  lws_sorted_usec_list_t tick_timer;
  lws_context* context = nullptr;
};

daemon_state* g_state = nullptr;

std::string header(lws* wsi, lws_token_indexes token) {
  int length = lws_hdr_total_length(wsi, token);
  if (length <= 0 || length > 4096) return {};
  std::string value(static_cast<size_t>(length) + 1, '\0');
  if (lws_hdr_copy(wsi, value.data(), length + 1, token) < 0) return {};
  value.resize(static_cast<size_t>(length));
  return value;
}

bool loopback(const std::string& ip) {
  return ip.compare(0, 4, "127.") == 0 || ip == "::1" || ip.compare(0, 11, "::ffff:127.") == 0;
}

std::string client_ip(lws* wsi) {
  char buffer[64] = {};
  std::string ip = lws_get_peer_simple(wsi, buffer, sizeof(buffer)) ? buffer : "unknown";
  if (g_state->config.trust_forwarded_for && loopback(ip)) {
    // The proxy appends the address it saw last: that hop is the one we trust.
    std::string forwarded = header(wsi, WSI_TOKEN_X_FORWARDED_FOR);
    size_t comma = forwarded.rfind(',');
    std::string last = comma == std::string::npos ? forwarded : forwarded.substr(comma + 1);
    size_t start = last.find_first_not_of(' ');
    if (start != std::string::npos) ip = last.substr(start);
  }
  return ip;
}

void on_established(lws* wsi, session* pss) {
  daemon_state& s = *g_state;
  pss->id = s.next_id++;
  s.transport.sockets[pss->id] = wsi;
  std::string path = header(wsi, WSI_TOKEN_GET_URI);
  size_t query = path.find('?');
  if (query != std::string::npos) path.resize(query);
  std::string ip = client_ip(wsi);
  int64_t now = now_ms();
  if (path == kNativePath) {
    char buffer[1024];
    const char* ticket = lws_get_urlarg_by_name(wsi, "ticket=", buffer, sizeof(buffer));
    s.core->open_native(pss->id, ip, ticket != nullptr ? ticket : "", now);
  } else if (path == "/" || path == "/announce") {
    s.core->open_webtorrent(pss->id, ip, header(wsi, WSI_TOKEN_ORIGIN), now);
  } else {
    s.core->open_unknown_path(pss->id, ip, now);
  }
}

// A close that loses nothing: the peer's last frames (the error that says why) must not be
// wiped by a TCP reset, which Linux (and nginx in front) sends when a socket is closed with
// unread input (a flooding peer always has some). So: send the close frame ourselves and
// keep reading and discarding until the peer's close frame ends it, or the flush timeout.
int send_close(lws* wsi, session* pss, p2p::close_code code) {
  if (pss->close_sent) return 0;
  if (lws_partial_buffered(wsi)) {
    lws_callback_on_writable(wsi);
    return 0;
  }
  auto value = static_cast<unsigned>(code);
  const unsigned char frame[4] = {0x88, 0x02, static_cast<unsigned char>(value >> 8),
                                  static_cast<unsigned char>(value & 0xff)};
  int fd = static_cast<int>(lws_get_socket_fd(wsi));
  if (fd < 0 || send(fd, frame, sizeof(frame), MSG_NOSIGNAL) != sizeof(frame)) return -1;
  pss->close_sent = true;
  lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, kCloseFlushSeconds);
  return 0;
}

// RFC 6455 server frame: FIN + text opcode, unmasked, 7/16/64-bit length, then the text.
void append_ws_frame(std::string_view text, void* context) {
  std::string& batch = *static_cast<std::string*>(context);
  size_t length = text.size();
  batch.push_back(static_cast<char>(0x81));
  if (length < 126) {
    batch.push_back(static_cast<char>(length));
  } else if (length < 65536) {
    batch.push_back(static_cast<char>(126));
    batch.push_back(static_cast<char>(length >> 8));
    batch.push_back(static_cast<char>(length & 0xff));
  } else {
    batch.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      batch.push_back(static_cast<char>((static_cast<uint64_t>(length) >> shift) & 0xff));
    }
  }
  batch.append(text);
}

// Frames the connection's queue into one batch and writes it (lws keeps what the socket
// does not take and asks for POLLOUT itself). -1: the connection is to be closed.
int write_queued(lws* wsi, session* pss) {
  daemon_state& s = *g_state;
  std::string& batch = s.write_batch;
  batch.assign(LWS_PRE, '\0');
  // Headers take up to 10 bytes a frame: leave room for them under kBatchBytes.
  bool more = s.core->drain_frames(pss->id, kBatchBytes - kBatchBytes / 8, append_ws_frame, &batch);
  size_t total = batch.size() - LWS_PRE;
  if (total > 0) {
    auto* data = reinterpret_cast<unsigned char*>(batch.data()) + LWS_PRE;
    // Raw: the bytes are already WebSocket frames; lws keeps what the socket did not take.
    if (lws_write(wsi, data, total, LWS_WRITE_RAW) < static_cast<int>(total)) return -1;
  }
  if (more) {
    lws_callback_on_writable(wsi);
    return 0;
  }
  auto closing = s.transport.closing.find(pss->id);
  if (closing != s.transport.closing.end()) return send_close(wsi, pss, closing->second);
  return 0;
}

int on_writeable(lws* wsi, session* pss) {
  if (pss->close_sent) return 0;
  if (pss->ping_due) {
    pss->ping_due = false;
    // lws 4.1 drops empty pongs before the callback: give the ping a payload to echo.
    unsigned char ping[LWS_PRE + 1];
    ping[LWS_PRE] = 'p';
    if (lws_write(wsi, ping + LWS_PRE, 1, LWS_WRITE_PING) < 1) return -1;
    if (lws_send_pipe_choked(wsi)) {
      lws_callback_on_writable(wsi);
      return 0;
    }
  }
  return write_queued(wsi, pss);
}

// After each loop iteration: write every connection whose queue gained frames, in one
// send each. A connection with bytes still buffered in lws, or a ping to send first,
// waits for its WRITEABLE callback instead (frames must not overtake either).
void flush_dirty() {
  daemon_state& s = *g_state;
  std::vector<p2p::connection_id>& dirty = s.transport.dirty;
  for (size_t i = 0; i < dirty.size(); ++i) {  // writing may close and list more
    auto it = s.transport.sockets.find(dirty[i]);
    if (it == s.transport.sockets.end()) continue;
    lws* wsi = it->second;
    auto* pss = static_cast<session*>(lws_wsi_user(wsi));
    pss->flush_due = false;
    if (pss->close_sent) continue;
    if (pss->ping_due || lws_partial_buffered(wsi)) {
      lws_callback_on_writable(wsi);
      continue;
    }
    if (write_queued(wsi, pss) < 0) {
      // As a WRITEABLE callback returning -1 would: lws closes it on its next service.
      lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
  }
  dirty.clear();
}

int serve_http(lws* wsi, session* pss, const char* uri) {
  unsigned char buffer[LWS_PRE + 512];
  unsigned char* start = buffer + LWS_PRE;
  unsigned char* p = start;
  unsigned char* end = buffer + sizeof(buffer) - 1;
  if (std::strcmp(uri, kMetricsPath) != 0) {
    lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, nullptr);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
  }
  delete pss->http_body;  // a pipelined request before the last body went out
  pss->http_body = new std::string(g_state->core->metrics_text());
  *pss->http_body +=
      "# HELP signalling_write_holds_total Busy loop passes whose writes were held to be "
      "coalesced (write_coalesce_us).\n# TYPE signalling_write_holds_total counter\n"
      "signalling_write_holds_total " +
      std::to_string(g_write_holds) + "\n";
  if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, "text/plain; version=0.0.4",
                                  pss->http_body->size(), &p, end) ||
      lws_finalize_write_http_header(wsi, start, &p, end)) {
    return 1;
  }
  lws_callback_on_writable(wsi);
  return 0;
}

int write_http_body(lws* wsi, session* pss) {
  if (pss->http_body == nullptr) return 0;
  std::string body(LWS_PRE, '\0');
  body += *pss->http_body;
  delete pss->http_body;
  pss->http_body = nullptr;
  size_t length = body.size() - LWS_PRE;
  auto* data = reinterpret_cast<unsigned char*>(body.data()) + LWS_PRE;
  if (lws_write(wsi, data, length, LWS_WRITE_HTTP_FINAL) < static_cast<int>(length)) return 1;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
  auto* pss = static_cast<session*>(user);
  daemon_state& s = *g_state;
  // lws calls some reasons (CLOSED_HTTP on a dropped handshake, vhost events) with no
  // per-session storage.
  if (pss == nullptr) return 0;
  switch (reason) {
    case LWS_CALLBACK_HTTP:
      return serve_http(wsi, pss, static_cast<const char*>(in));
    case LWS_CALLBACK_HTTP_WRITEABLE:
      return write_http_body(wsi, pss);
    case LWS_CALLBACK_CLOSED_HTTP:
      delete pss->http_body;
      pss->http_body = nullptr;
      break;
    case LWS_CALLBACK_ESTABLISHED:
      on_established(wsi, pss);
      break;
    case LWS_CALLBACK_RECEIVE:
      ++g_frames_received;
      s.core->on_fragment(pss->id, std::string_view(static_cast<const char*>(in), len),
                          lws_frame_is_binary(wsi) != 0, lws_is_final_fragment(wsi) != 0,
                          pass_now_ms());
      break;
    case LWS_CALLBACK_RECEIVE_PONG:
      s.core->on_activity(pss->id, pass_now_ms());
      break;
    case LWS_CALLBACK_SERVER_WRITEABLE:
      return on_writeable(wsi, pss);
    case LWS_CALLBACK_CLOSED:
      s.core->on_closed(pss->id);
      s.transport.sockets.erase(pss->id);
      s.transport.closing.erase(pss->id);
      break;
    default:
      break;
  }
  return 0;
}

const lws_protocols kProtocols[] = {
    {"p2p-signalling", callback, sizeof(session), kRxBufferSize, 0, nullptr, kTxPacketSize},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

// Write coalescing, after interrupt moderation in network cards. After a busy pass the
// daemon sleeps for write_coalesce_us with its output held, then serves everything that
// arrived meanwhile in one pass and writes once: fewer, fuller sends (frames bound for the
// same connection leave together), fewer and fuller reads, fewer epoll wakeups. On
// loopback TCP each send(2) costs about as much as all the daemon's own work on a message,
// and the peers' replies come back batched as well. A pass that is not busy, or that left
// a queue past half its limit (queue_filling), writes at once, so latency is unchanged
// below a few thousand messages a second; under load a frame waits at most
// write_coalesce_us more. A signal ends the sleep early.
void hold_writes(struct ev_loop* loop, const daemon_state& s) {
  ++g_write_holds;
  timespec pause{0, static_cast<long>(s.config.write_coalesce_us) * 1000L};
  nanosleep(&pause, nullptr);
  ev_run(loop, EVRUN_NOWAIT);
}

void on_tick(lws_sorted_usec_list_t* timer) {
  g_state->core->tick(now_ms());
  lws_sul_schedule(g_state->context, 0, timer, on_tick, LWS_US_PER_SEC);
}

void reload() {
  p2p::daemon_config fresh;
  std::string error;
  if (!p2p::config_load(g_state->args, &fresh, &error)) {
    lwsl_err("SIGHUP: configuration kept, reload failed: %s\n", error.c_str());
    return;
  }
  if (fresh.listen != g_state->config.listen || fresh.port != g_state->config.port) {
    lwsl_warn("SIGHUP: listen/port changes need a restart; other settings applied\n");
  }
  fresh.listen = g_state->config.listen;
  fresh.port = g_state->config.port;
  g_state->core->reconfigure(fresh.settings);
  g_state->config = fresh;
  lwsl_user("SIGHUP: configuration reloaded\n");
}

extern "C" void on_signal(int signal_number) {
  if (signal_number == SIGHUP) {
    g_reload = true;
  } else {
    g_terminate = true;
  }
}

}  // namespace

int main(int argc, char** argv) {
  daemon_state state;
  g_state = &state;
  for (int i = 1; i < argc; ++i) state.args.emplace_back(argv[i]);
  if (argc == 2 && (state.args[0] == "--help" || state.args[0] == "-h")) {
    std::fputs(p2p::config_usage().c_str(), stdout);
    return 0;
  }
  std::string error;
  if (!p2p::config_load(state.args, &state.config, &error)) {
    std::fprintf(stderr, "p2p-signalling: %s\n%s", error.c_str(), p2p::config_usage().c_str());
    return 2;
  }
  lws_set_log_level(LLL_ERR | LLL_WARN | LLL_USER, nullptr);
  std::random_device entropy;
  p2p::signalling_core core(state.config.settings, &state.transport,
                            (uint64_t{entropy()} << 32) | entropy());
  state.core = &core;

  lws_context_creation_info info;
  std::memset(&info, 0, sizeof(info));
  info.port = state.config.port;
  info.iface = state.config.listen.c_str();
  info.protocols = kProtocols;
  info.options =
      LWS_SERVER_OPTION_DISABLE_IPV6 * (state.config.listen.find(':') == std::string::npos);
  info.timeout_secs = 10;
  // libev (epoll) as a loop we own: poll(2) over every socket on each wakeup was most of
  // the daemon's CPU at a few hundred connections. Owning the loop lets us run one
  // iteration at a time and handle signals between iterations.
  struct ev_loop* loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
  void* foreign_loops[1] = {loop};
  if (loop != nullptr) {
    info.options |= LWS_SERVER_OPTION_LIBEV;
    info.foreign_loops = foreign_loops;
  }
  lws_context* context = lws_create_context(&info);
  if (context == nullptr && loop != nullptr) {
    lwsl_warn("libev event loop unavailable (libwebsockets-evlib-ev?), using poll\n");
    ev_loop_destroy(loop);
    loop = nullptr;
    info.options &= ~static_cast<uint64_t>(LWS_SERVER_OPTION_LIBEV);
    info.foreign_loops = nullptr;
    context = lws_create_context(&info);
  }
  if (context == nullptr) {
    std::fprintf(stderr, "p2p-signalling: cannot listen on %s:%d\n", state.config.listen.c_str(),
                 state.config.port);
    return 1;
  }
  state.context = context;
  g_loop = loop;
  std::memset(&state.tick_timer, 0, sizeof(state.tick_timer));
  lws_sul_schedule(context, 0, &state.tick_timer, on_tick, LWS_US_PER_SEC);

  struct sigaction action;
  std::memset(&action, 0, sizeof(action));
  action.sa_handler = on_signal;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGHUP, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  lwsl_user("p2p-signalling listening on %s:%d\n", state.config.listen.c_str(), state.config.port);
  int64_t drain_deadline = 0;
  while (true) {
    if (loop != nullptr) {
      uint64_t frames_before = g_frames_received;
      state.transport.write_now = false;
      ev_run(loop, EVRUN_ONCE);
      if (state.config.write_coalesce_us > 0 && !state.transport.dirty.empty() &&
          g_frames_received - frames_before >= kBusyPassFrames && !state.transport.write_now &&
          !g_terminate && !g_reload) {
        hold_writes(loop, state);
      }
    } else if (lws_service(context, 0) < 0) {
      break;
    }
    if (g_reload.exchange(false)) reload();
    if (g_terminate && !core.draining()) {
      lwsl_user("draining %zu connections\n", core.connection_count());
      core.drain();
      drain_deadline = now_ms() + int64_t{state.config.drain_timeout_seconds} * 1000;
    }
    flush_dirty();
    if (core.draining() && (core.connection_count() == 0 || now_ms() > drain_deadline)) break;
  }
  lws_sul_schedule(context, 0, &state.tick_timer, on_tick, LWS_SET_TIMER_USEC_CANCEL);
  lws_context_destroy(context);
  if (loop != nullptr) ev_loop_destroy(loop);
  lwsl_user("stopped\n");
  return 0;
}
