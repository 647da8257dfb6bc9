// A player without a screen: plays an HLS or DASH stream in real time through a p2p::client,
// consuming segments at the stream's rate, and reports start-up time, stalls and bytes
// from HTTP and peers. Used for swarm demos and measurements (p2p-player prints its
// events as JSON lines).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "client/client.h"

namespace p2p {

struct virtual_player_config {
  std::string url;                // master or media playlist
  int variant = 0;                // index in the master playlist, by ascending bandwidth
  double startup_buffer_s = 2;    // buffered seconds needed to start (and to resume)
  double max_buffer_s = 30;       // how far ahead segments are requested
  double live_edge_offset_s = 0;  // 0: three target durations behind the live edge
  double duration_s = 0;          // stop after this much playback (0: end of a VoD)
  int64_t report_interval_ms = 1000;
};

class virtual_player {
 public:
  // `emit` receives one JSON object per line (events and progress).
  virtual_player(client& c, virtual_player_config config,
                 std::function<void(const std::string&)> emit);
  // Call every loop turn after client::process(); false once playback has ended.
  bool step();
  bool failed() const { return failed_; }

 private:
  struct segment {
    media_item item;
    bool requested = false;
    bool ready = false;
    bool from_peers = false;
  };
  // One stream played in step with the others (HLS: the one media playlist; DASH: one
  // Representation per AdaptationSet).
  struct track {
    std::string key;  // DASH: AdaptationSet position; HLS: ""
    media_item init;
    bool has_init = false;
    bool init_requested = false;
    bool init_ready = false;
    std::map<int64_t, segment> segments;  // by media sequence / $Number$
  };
  void load_manifest();
  void load_media(const std::string& url);
  void on_media(const std::string& body);
  void on_mpd(const std::string& body);
  void add_items(track& t, const std::vector<media_item>& items, bool continue_timeline);
  void choose_start();
  void request_ahead(int64_t now);
  void progress(int64_t now, const char* event);
  double buffered_until() const;
  double end_of_listed() const;

  client& client_;
  virtual_player_config config_;
  std::function<void(const std::string&)> emit_;
  std::string media_url_;
  bool live_ = false;
  bool ended_list_ = false;
  double target_duration_ = 0;
  bool media_loading_ = false;
  int64_t next_reload_ms_ = 0;
  bool dash_ = false;
  std::vector<track> tracks_;
  bool start_chosen_ = false;
  int64_t started_ms_ = 0;        // player created
  int64_t playing_since_ms_ = 0;  // wall time at which position_base_ was current
  double position_ = -1;          // seconds on the playlist timeline; < 0: not started
  double position_base_ = 0;
  bool stalled_ = false;
  int64_t stall_started_ms_ = 0;
  int64_t startup_ms_ = -1;
  double played_s_ = 0;
  int64_t next_report_ms_ = 0;
  bool failed_ = false;
  bool done_ = false;
};

}  // namespace p2p
