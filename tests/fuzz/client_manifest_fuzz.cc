// libFuzzer target: the client's HLS (master and media) and DASH parsers on any input.
// Build: tests/fuzz/build_client_fuzzers.sh
#include <cstddef>
#include <cstdint>
#include <string>

#include "client/dash_mpd.h"
#include "client/hls_playlist.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  p2p::manifest_limits limits;
  limits.max_items = 20000;
  p2p::hls_media_playlist media;
  if (p2p::hls_parse_media(text, "http://o/a/b.m3u8", limits, &media) == p2p::manifest_status::ok) {
    for (const auto& item : media.items) {
      if (item.range_offset < -1 || item.url.empty()) __builtin_trap();
    }
  }
  p2p::hls_master_playlist master;
  p2p::hls_parse_master(text, "http://o/a/b.m3u8", limits, &master);
  p2p::dash_mpd mpd;
  p2p::dash_options options;
  options.now_unix_ms = 1767225600000LL;
  if (p2p::dash_parse(text, "http://o/a/m.mpd", limits, options, &mpd) ==
      p2p::manifest_status::ok) {
    size_t total = 0;
    for (const auto& period : mpd.periods)
      for (const auto& set : period.adaptation_sets)
        for (const auto& rep : set.representations) total += rep.items.size();
    if (total > limits.max_items) __builtin_trap();
  }
  return 0;
}
