// p2p-proxy ORIGIN_MANIFEST_URL --listen 127.0.0.1:PORT
//
// Serves the origin's manifests and segments to any player on 127.0.0.1, fetching
// segments from peers when the manifest carries hints and from the origin otherwise,
// and prints a progress line of its statistics on stderr.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "client/client.h"
#include "client/local_proxy.h"
#include "client/url.h"
#include "client/webrtc/webrtc_transport.h"

namespace {

volatile std::sig_atomic_t stop_requested = 0;

void on_signal(int) { stop_requested = 1; }

int usage() {
  std::fprintf(stderr,
               "usage: p2p-proxy ORIGIN_MANIFEST_URL --listen 127.0.0.1:PORT [--no-p2p]\n"
               "                 [--cellular] [--upload-kbps N] [--quiet]\n"
               "                 [--stun HOST:PORT] [--ice-address ADDR]\n"
               "  PORT 0 picks a free port; the player URL is printed on stdout.\n");
  return 2;
}

std::string megabytes(uint64_t bytes) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buffer;
}

}  // namespace

int main(int argc, char** argv) {
  std::string manifest_url, listen = "127.0.0.1:0";
  bool p2p_enabled = true, cellular = false, quiet = false;
  double upload_kbps = 32000;
  p2p::webrtc::webrtc_transport_config webrtc_config;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--listen" && i + 1 < argc) {
      listen = argv[++i];
    } else if (arg == "--no-p2p") {
      p2p_enabled = false;
    } else if (arg == "--cellular") {
      cellular = true;
    } else if (arg == "--quiet") {
      quiet = true;
    } else if (arg == "--stun" && i + 1 < argc) {
      webrtc_config.stun_servers.push_back(argv[++i]);
    } else if (arg == "--ice-address" && i + 1 < argc) {
      webrtc_config.local_addresses.push_back(argv[++i]);
    } else if (arg == "--upload-kbps" && i + 1 < argc) {
      upload_kbps = std::atof(argv[++i]);
    } else if (!arg.empty() && arg[0] != '-' && manifest_url.empty()) {
      manifest_url = arg;
    } else {
      return usage();
    }
  }
  p2p::url_parts origin;
  if (manifest_url.empty() || !p2p::url_split(manifest_url, &origin)) return usage();
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return usage();

  p2p::client_config config;
  config.p2p_enabled = p2p_enabled;
  config.uploads_enabled = !cellular;
  config.upload_bytes_per_second = upload_kbps * 1000 / 8;
  config.transport_factory = [webrtc_config](p2p::signalling_sink& sink) {
    return std::unique_ptr<p2p::peer_transport>(
        new p2p::webrtc::webrtc_transport(sink, webrtc_config));
  };
  if (!quiet)
    config.log = [](const std::string& line) { std::fprintf(stderr, "\n%s\n", line.c_str()); };
  p2p::client player_client(config);

  p2p::local_proxy_config proxy_config;
  proxy_config.listen_host = listen.substr(0, colon);
  proxy_config.listen_port = std::atoi(listen.c_str() + colon + 1);
  proxy_config.origin = origin.scheme + "://" + origin.authority;
  p2p::local_proxy proxy(player_client, proxy_config);
  if (!proxy.start()) {
    std::fprintf(stderr, "p2p-proxy: cannot listen on %s: %s\n", listen.c_str(),
                 std::strerror(errno));
    return 1;
  }
  std::string path = origin.path + (origin.has_query ? "?" + origin.query : "");
  std::printf("http://%s:%d%s\n", proxy_config.listen_host.c_str(), proxy.port(), path.c_str());
  std::fflush(stdout);

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  int64_t next_progress = 0;
  while (!stop_requested) {
    proxy.process(2);
    player_client.process(2);
    proxy.process(0);
    int64_t now = player_client.clock().now_ms();
    if (!quiet && now >= next_progress) {
      next_progress = now + 1000;
      p2p::client_stats s = player_client.stats();
      double total = static_cast<double>(s.bytes_http + s.bytes_p2p);
      std::fprintf(stderr,
                   "\rhttp %s  p2p %s (%.0f%%)  up %s  peers %u  integrity failures %llu  "
                   "requests %llu  session %s   ",
                   megabytes(s.bytes_http).c_str(), megabytes(s.bytes_p2p).c_str(),
                   total > 0 ? 100.0 * static_cast<double>(s.bytes_p2p) / total : 0.0,
                   megabytes(s.bytes_uploaded).c_str(), s.peers_connected,
                   static_cast<unsigned long long>(s.integrity_failures),
                   static_cast<unsigned long long>(proxy.requests_served()),
                   s.session_state.c_str());
    }
  }
  if (!quiet) std::fprintf(stderr, "\n");
  return 0;
}
