// HLS (RFC 8216 + LL-HLS) master and media playlist parser, reading our hints.
// EXT-X-KEY is left to the player: key URIs are never items, keys never go over P2P.
#pragma once

#include <string>
#include <vector>

#include "client/manifest.h"

namespace p2p {

struct hls_variant {
  std::string url;  // absolute
  int64_t bandwidth = 0;
  std::string resolution;
  std::string codecs;
  std::string audio_group;
};

struct hls_rendition {  // EXT-X-MEDIA with a URI
  std::string type;
  std::string group_id;
  std::string name;
  std::string url;
};

struct hls_master_playlist {
  std::vector<hls_variant> variants;
  std::vector<hls_rendition> renditions;
  session_hints hints;
};

struct hls_media_playlist {
  double target_duration = 0;
  double part_target = 0;  // LL-HLS PART-TARGET, 0 when none
  int64_t media_sequence = 0;
  bool endlist = false;
  std::string playlist_type;  // "VOD", "EVENT" or ""
  std::string swarm_id;       // #EXT-P2P-SWARM
  std::vector<media_item> items;
  double total_duration = 0;
  bool live() const { return !endlist && playlist_type != "VOD"; }
};

// True when the text starts like an HLS playlist and is a master (has EXT-X-STREAM-INF).
bool hls_is_master(const std::string& text);

manifest_status hls_parse_master(const std::string& text, const std::string& base_url,
                                 const manifest_limits& limits, hls_master_playlist* out);
manifest_status hls_parse_media(const std::string& text, const std::string& base_url,
                                const manifest_limits& limits, hls_media_playlist* out);

// When a player reloads a live playlist (RFC 8216 6.3.4): after a change, one target
// duration (LL-HLS: one part target); when it did not change, half of that.
int64_t hls_reload_delay_ms(const hls_media_playlist& playlist, bool changed);

// Attribute lists (RFC 8216 4.2): NAME=VALUE pairs, quoted strings kept without quotes.
// False on a malformed list.
bool hls_parse_attributes(const std::string& text,
                          std::vector<std::pair<std::string, std::string>>* out);

}  // namespace p2p
