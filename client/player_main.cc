// p2p-player URL [options]
//
// The virtual player: plays an HLS or DASH stream in real time through the client library
// (peers over WebRTC data channels when the manifest carries hints, HTTP otherwise) and
// prints JSON lines: start, playing, stall, resume, progress (every second), end.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "client/client.h"
#include "client/virtual_player.h"
#include "client/webrtc/webrtc_transport.h"

namespace {

volatile std::sig_atomic_t stop_requested = 0;

void on_signal(int) { stop_requested = 1; }

int usage() {
  std::fprintf(stderr,
               "usage: p2p-player URL [--variant N] [--duration SECONDS] [--max-buffer SECONDS]\n"
               "                  [--startup-buffer SECONDS] [--no-p2p] [--cellular]\n"
               "                  [--upload-kbps N] [--stun HOST:PORT] [--ice-address ADDR]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  p2p::virtual_player_config player_config;
  p2p::client_config config;
  p2p::webrtc::webrtc_transport_config webrtc_config;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (arg == "--variant") {
      const char* v = value();
      if (!v) return usage();
      player_config.variant = std::atoi(v);
    } else if (arg == "--duration") {
      const char* v = value();
      if (!v) return usage();
      player_config.duration_s = std::atof(v);
    } else if (arg == "--max-buffer") {
      const char* v = value();
      if (!v) return usage();
      player_config.max_buffer_s = std::atof(v);
    } else if (arg == "--startup-buffer") {
      const char* v = value();
      if (!v) return usage();
      player_config.startup_buffer_s = std::atof(v);
    } else if (arg == "--upload-kbps") {
      const char* v = value();
      if (!v) return usage();
      config.upload_bytes_per_second = std::atof(v) * 1000 / 8;
    } else if (arg == "--stun") {
      const char* v = value();
      if (!v) return usage();
      webrtc_config.stun_servers.push_back(v);
    } else if (arg == "--ice-address") {
      const char* v = value();
      if (!v) return usage();
      webrtc_config.local_addresses.push_back(v);
    } else if (arg == "--no-p2p") {
      config.p2p_enabled = false;
    } else if (arg == "--cellular") {
      config.uploads_enabled = false;
    } else if (!arg.empty() && arg[0] != '-' && player_config.url.empty()) {
      player_config.url = arg;
    } else {
      return usage();
    }
  }
  if (player_config.url.empty()) return usage();
  config.transport_factory = [webrtc_config](p2p::signalling_sink& sink) {
    return std::unique_ptr<p2p::peer_transport>(
        new p2p::webrtc::webrtc_transport(sink, webrtc_config));
  };
  config.log = [](const std::string& line) {
    std::string escaped;
    for (char c : line) {
      if (c == '"' || c == '\\') escaped.push_back('\\');
      if (static_cast<unsigned char>(c) >= 0x20) escaped.push_back(c);
    }
    std::printf("{\"event\":\"log\",\"line\":\"%s\"}\n", escaped.c_str());
    std::fflush(stdout);
  };
  p2p::client player_client(config);
  p2p::virtual_player player(player_client, player_config, [](const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  });
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  while (!stop_requested) {
    player_client.process(10);
    if (!player.step()) break;
  }
  return player.failed() ? 1 : 0;
}
