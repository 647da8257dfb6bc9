// swarm-peer: one viewer of a live HLS stream for the swarm demo and test. A virtual
// player plays the stream in real time through the client library (p2p::client) with the
// WebRTC transport on loopback, and prints what happened as lines on stdout:
//
//   stats {"t_ms":..,"http":..,"p2p":..,"up":..,"peers":..,"stalls":..,"stall_ms":..,
//          "startup_ms":..,"segments":..,"player_bad":..,"integrity":..,"corrupted":..,
//          "session":"..."}
//   segment <sequence> <sha256 hex of the bytes the player got> <peer|http> <size>
//
//   swarm-peer MANIFEST_URL [--duration S] [--no-p2p] [--malicious] [--live-sync N]
//              [--stats-ms N] [--verbose]
//
// The virtual player behaves like hls.js with its defaults for live: it starts
// `--live-sync` (3) target durations from the end of the playlist, reloads the playlist
// every half target duration, asks for every listed segment after the playhead as soon
// as it is listed (deadline: the moment the playhead reaches it), plays once the first
// segment is in, and stalls whenever the playhead reaches a segment it does not have.
// It checks every segment it receives against the origin's hash; a mismatch counts as
// `player_bad` (corrupted bytes reaching the player, the thing that must never happen).
#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "client/client.h"
#include "client/url.h"
#include "client/webrtc/webrtc_transport.h"
#include "client/wire_protocol.h"
#include "common/hmac_sha256.h"
#include "tests/swarm/corrupting_transport.h"

namespace {

volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) { stop_requested = 1; }

struct options {
  std::string manifest_url;
  double duration_s = 60;
  bool p2p = true;
  bool malicious = false;
  int live_sync = 3;
  int64_t stats_ms = 1000;
  bool verbose = false;
};

int usage() {
  std::fprintf(stderr,
               "usage: swarm-peer MANIFEST_URL [--duration S] [--no-p2p] [--malicious]\n"
               "                  [--live-sync N] [--stats-ms N] [--verbose]\n");
  return 2;
}

struct listed_segment {
  std::string url;
  double duration = 0;
  bool has_hash = false;
  p2p::content_hash hash{};
  double start = 0;
};

// The live virtual player: a playhead over media sequence numbers.
class virtual_player {
 public:
  virtual_player(p2p::client& client, const options& opts)
      : client_(client), opts_(opts), started_at_(client.clock().now_ms()) {}

  void tick() {
    int64_t now = client_.clock().now_ms();
    if (now >= next_reload_ms_ && !reload_running_) reload(now);
    request_listed(now);
    advance(now);
  }

  int64_t startup_ms() const { return startup_ms_; }
  uint64_t segments_played() const { return segments_played_; }
  uint64_t player_bad() const { return player_bad_; }
  uint64_t stalls() const { return stalls_; }
  int64_t stall_ms() const {
    return stall_ms_ + (stalled_since_ >= 0 ? client_.clock().now_ms() - stalled_since_ : 0);
  }

 private:
  // The master playlist carries the session hints; the player then plays its first
  // variant (one rendition in this stream).
  void open_master(const std::string& body) {
    size_t tag = body.find("#EXT-X-STREAM-INF");
    size_t pos = tag == std::string::npos ? std::string::npos : body.find('\n', tag);
    while (pos != std::string::npos && pos + 1 < body.size()) {
      size_t end = body.find('\n', pos + 1);
      std::string line = body.substr(pos + 1, end == std::string::npos ? end : end - pos - 1);
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (!line.empty() && line[0] != '#') {
        media_url_ = p2p::url_resolve(opts_.manifest_url, line);
        return;
      }
      pos = end;
    }
  }

  void reload(int64_t now) {
    reload_running_ = true;
    if (media_url_.empty()) {
      client_.fetch(opts_.manifest_url, -1, -1, 0, [this](p2p::fetch_response response) {
        reload_running_ = false;
        if (response.status == 200 &&
            response.bytes.find("#EXT-X-STREAM-INF") != std::string::npos) {
          open_master(response.bytes);
        } else if (response.status == 200) {
          media_url_ = opts_.manifest_url;  // a media playlist given directly: no session hints
        }
        if (media_url_.empty()) next_reload_ms_ = client_.clock().now_ms() + 500;
      });
      return;
    }
    client_.fetch(media_url_, -1, -1, 0, [this](p2p::fetch_response response) {
      reload_running_ = false;
      int64_t at = client_.clock().now_ms();
      const p2p::known_playlist* playlist = client_.playlist(media_url_);
      if (response.status != 200 || !playlist) {
        next_reload_ms_ = at + 500;
        return;
      }
      double target = playlist->target_duration > 0 ? playlist->target_duration : 2;
      next_reload_ms_ = at + static_cast<int64_t>(target * 500);
      target_duration_ = target;
      for (const auto& item : playlist->items) {
        if (item.kind != p2p::media_item_kind::segment) continue;
        listed_segment& s = listed_[item.sequence];
        s.url = item.url;
        s.duration = item.duration;
        s.has_hash = item.has_hash;
        s.hash = item.hash;
        s.start = item.start;
      }
      // Forget what slid out of the window long ago.
      while (!listed_.empty() && listed_.begin()->first < playhead_seq_ - 20) {
        listed_.erase(listed_.begin());
      }
      if (playhead_seq_ < 0 && !listed_.empty()) {
        int64_t last = listed_.rbegin()->first;
        playhead_seq_ = std::max(listed_.begin()->first, last - opts_.live_sync + 1);
        next_request_seq_ = playhead_seq_;
      }
    });
    (void)now;
  }

  // Milliseconds until the playhead reaches the start of `seq`.
  int64_t due_in_ms(int64_t seq) const {
    double ahead = -playhead_offset_s_;
    for (int64_t s = playhead_seq_; s < seq; ++s) {
      auto it = listed_.find(s);
      ahead += it != listed_.end() ? it->second.duration : target_duration_;
    }
    return std::max<int64_t>(0, static_cast<int64_t>(ahead * 1000));
  }

  void request_listed(int64_t now) {
    (void)now;
    if (playhead_seq_ < 0) return;
    for (auto it = listed_.lower_bound(next_request_seq_); it != listed_.end(); ++it) {
      int64_t seq = it->first;
      int64_t deadline = due_in_ms(seq);
      requested_[seq] = true;
      next_request_seq_ = seq + 1;
      client_.fetch(it->second.url, -1, -1, deadline,
                    [this, seq](p2p::fetch_response response) { on_segment(seq, response); });
    }
  }

  void on_segment(int64_t seq, const p2p::fetch_response& response) {
    auto it = listed_.find(seq);
    if (response.status != 200 || it == listed_.end()) {
      // Ask again on the next tick (bounded: a few retries per segment).
      if (it != listed_.end() && ++retries_[seq] <= 3) {
        client_.fetch(it->second.url, -1, -1, due_in_ms(seq),
                      [this, seq](p2p::fetch_response again) { on_segment(seq, again); });
      }
      return;
    }
    p2p::sha256_digest digest = p2p::sha256(response.bytes);
    if (it->second.has_hash && !std::equal(digest.begin(), digest.end(), it->second.hash.begin())) {
      player_bad_++;
    }
    std::printf("segment %lld %s %s %zu\n", static_cast<long long>(seq),
                p2p::to_hex(digest).c_str(), response.from_peers ? "peer" : "http",
                response.bytes.size());
    have_[seq] = true;
  }

  void advance(int64_t now) {
    if (last_tick_ms_ < 0) last_tick_ms_ = now;
    int64_t elapsed = now - last_tick_ms_;
    last_tick_ms_ = now;
    if (playhead_seq_ < 0) return;
    if (!playing_) {
      if (!have_.count(playhead_seq_)) return;
      playing_ = true;
      startup_ms_ = now - started_at_;
      client_.report_startup(startup_ms_);
      return;
    }
    double dt = static_cast<double>(elapsed) / 1000;
    while (true) {
      if (!have_.count(playhead_seq_)) {
        if (stalled_since_ < 0) stalled_since_ = now;
        break;
      }
      if (stalled_since_ >= 0) {
        int64_t stall = now - stalled_since_;
        stalls_++;
        stall_ms_ += stall;
        client_.report_stall(stall);
        stalled_since_ = -1;
        if (opts_.verbose) std::fprintf(stderr, "stall %lld ms\n", static_cast<long long>(stall));
        dt = 0;
      }
      auto it = listed_.find(playhead_seq_);
      double duration = it != listed_.end() ? it->second.duration : target_duration_;
      if (it != listed_.end()) client_.set_playhead(it->second.start + playhead_offset_s_);
      double left = duration - playhead_offset_s_;
      if (dt < left) {
        playhead_offset_s_ += dt;
        break;
      }
      dt -= left;
      playhead_offset_s_ = 0;
      have_.erase(playhead_seq_);
      requested_.erase(playhead_seq_);
      retries_.erase(playhead_seq_);
      playhead_seq_++;
      segments_played_++;
    }
  }

  p2p::client& client_;
  const options& opts_;
  int64_t started_at_;
  int64_t next_reload_ms_ = 0;
  bool reload_running_ = false;
  std::string media_url_;
  double target_duration_ = 2;
  std::map<int64_t, listed_segment> listed_;
  std::map<int64_t, bool> requested_;
  std::map<int64_t, bool> have_;
  std::map<int64_t, int> retries_;
  int64_t playhead_seq_ = -1;
  double playhead_offset_s_ = 0;
  int64_t next_request_seq_ = 0;
  bool playing_ = false;
  int64_t startup_ms_ = -1;
  int64_t last_tick_ms_ = -1;
  int64_t stalled_since_ = -1;
  uint64_t stalls_ = 0;
  int64_t stall_ms_ = 0;
  uint64_t segments_played_ = 0;
  uint64_t player_bad_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  options opts;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--duration" && i + 1 < argc) {
      opts.duration_s = std::atof(argv[++i]);
    } else if (arg == "--no-p2p") {
      opts.p2p = false;
    } else if (arg == "--malicious") {
      opts.malicious = true;
    } else if (arg == "--live-sync" && i + 1 < argc) {
      opts.live_sync = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--stats-ms" && i + 1 < argc) {
      opts.stats_ms = std::max(100, std::atoi(argv[++i]));
    } else if (arg == "--verbose") {
      opts.verbose = true;
    } else if (!arg.empty() && arg[0] != '-' && opts.manifest_url.empty()) {
      opts.manifest_url = arg;
    } else {
      return usage();
    }
  }
  if (opts.manifest_url.empty() || opts.duration_s <= 0) return usage();
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);

  std::shared_ptr<p2p::swarm::corrupting_transport*> malicious_transport =
      std::make_shared<p2p::swarm::corrupting_transport*>(nullptr);
  p2p::client_config config;
  config.p2p_enabled = opts.p2p;
  if (opts.verbose) {
    config.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  }
  config.transport_factory =
      [&opts,
       malicious_transport](p2p::signalling_sink& sink) -> std::unique_ptr<p2p::peer_transport> {
    p2p::webrtc::webrtc_transport_config transport_config;
    transport_config.local_addresses = {"127.0.0.1"};
    auto transport = std::make_unique<p2p::webrtc::webrtc_transport>(sink, transport_config);
    if (!opts.malicious) return transport;
    auto corrupting = std::make_unique<p2p::swarm::corrupting_transport>(std::move(transport));
    *malicious_transport = corrupting.get();
    return corrupting;
  };

  auto print_stats = [&](p2p::client& client, virtual_player& player, int64_t t_ms) {
    p2p::client_stats s = client.stats();
    uint64_t corrupted = *malicious_transport ? (*malicious_transport)->corrupted_frames() : 0;
    std::printf(
        "stats {\"t_ms\":%lld,\"http\":%llu,\"p2p\":%llu,\"up\":%llu,\"peers\":%u,"
        "\"stalls\":%llu,\"stall_ms\":%lld,\"startup_ms\":%lld,\"segments\":%llu,"
        "\"player_bad\":%llu,\"integrity\":%llu,\"protocol_errors\":%llu,\"corrupted\":%llu,"
        "\"late\":%llu,\"session\":\"%s\"}\n",
        static_cast<long long>(t_ms), static_cast<unsigned long long>(s.bytes_http),
        static_cast<unsigned long long>(s.bytes_p2p),
        static_cast<unsigned long long>(s.bytes_uploaded), s.peers_connected,
        static_cast<unsigned long long>(player.stalls()), static_cast<long long>(player.stall_ms()),
        static_cast<long long>(player.startup_ms()),
        static_cast<unsigned long long>(player.segments_played()),
        static_cast<unsigned long long>(player.player_bad()),
        static_cast<unsigned long long>(s.integrity_failures),
        static_cast<unsigned long long>(s.protocol_errors),
        static_cast<unsigned long long>(corrupted),
        static_cast<unsigned long long>(s.late_deliveries), s.session_state.c_str());
    std::fflush(stdout);
  };

  p2p::client client(config);
  virtual_player player(client, opts);
  int64_t start = client.clock().now_ms();
  int64_t end = start + static_cast<int64_t>(opts.duration_s * 1000);
  int64_t next_stats = start + opts.stats_ms;
  while (!stop_requested) {
    int64_t now = client.clock().now_ms();
    if (now >= end) break;
    client.process(5);
    player.tick();
    if (now >= next_stats) {
      next_stats = now + opts.stats_ms;
      print_stats(client, player, now - start);
    }
  }
  print_stats(client, player, client.clock().now_ms() - start);
  // The figures are out; skip tearing down connections that the other viewers will
  // see fail anyway (and callbacks into a player already gone).
  std::fflush(stdout);
  std::_Exit(0);
}
