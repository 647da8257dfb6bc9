#include "client/virtual_player.h"

#include <algorithm>
#include <cstdio>

#include "client/clock.h"
#include "client/dash_mpd.h"
#include "client/hls_playlist.h"

namespace p2p {

namespace {

std::string number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f", v);
  return buffer;
}

bool is_mpd(const std::string& url, const std::string& body) {
  return body.find("<MPD") != std::string::npos || url.find(".mpd") != std::string::npos;
}

}  // namespace

virtual_player::virtual_player(client& c, virtual_player_config config,
                               std::function<void(const std::string&)> emit)
    : client_(c), config_(std::move(config)), emit_(std::move(emit)) {
  started_ms_ = client_.clock().now_ms();
  load_manifest();
}

void virtual_player::load_manifest() {
  client_.fetch(config_.url, -1, -1, 0, [this](fetch_response response) {
    if (response.status != 200) {
      emit_("{\"event\":\"error\",\"what\":\"manifest\",\"status\":" +
            std::to_string(response.status) + "}");
      failed_ = true;
      return;
    }
    media_url_ = config_.url;
    if (is_mpd(config_.url, response.bytes) && !hls_is_master(response.bytes)) {
      dash_ = true;
      on_mpd(response.bytes);
      return;
    }
    if (!hls_is_master(response.bytes)) {
      on_media(response.bytes);
      return;
    }
    hls_master_playlist master;
    if (hls_parse_master(response.bytes, config_.url, manifest_limits(), &master) !=
        manifest_status::ok) {
      emit_("{\"event\":\"error\",\"what\":\"master playlist\"}");
      failed_ = true;
      return;
    }
    std::sort(master.variants.begin(), master.variants.end(),
              [](const hls_variant& a, const hls_variant& b) { return a.bandwidth < b.bandwidth; });
    size_t index =
        std::min(master.variants.size() - 1, static_cast<size_t>(std::max(0, config_.variant)));
    load_media(master.variants[index].url);
  });
}

void virtual_player::load_media(const std::string& url) {
  media_url_ = url;
  media_loading_ = true;
  client_.fetch(url, -1, -1, 0, [this](fetch_response response) {
    media_loading_ = false;
    if (response.status != 200) {
      if (tracks_.empty()) {
        emit_("{\"event\":\"error\",\"what\":\"media playlist\",\"status\":" +
              std::to_string(response.status) + "}");
        failed_ = true;
      }
      next_reload_ms_ = client_.clock().now_ms() + 1000;
      return;
    }
    if (dash_) {
      on_mpd(response.bytes);
    } else {
      on_media(response.bytes);
    }
  });
}

void virtual_player::add_items(track& t, const std::vector<media_item>& items,
                               bool continue_timeline) {
  for (const auto& item : items) {
    if (item.kind == media_item_kind::init) {
      if (!t.has_init) {
        t.init = item;
        t.has_init = true;
      }
      continue;
    }
    if (item.kind != media_item_kind::segment) continue;  // whole segments only
    if (t.segments.count(item.sequence)) continue;
    segment s;
    s.item = item;
    // HLS positions are relative to each reload's window: keep one timeline by
    // continuing from the last known segment.
    if (continue_timeline && !t.segments.empty()) {
      auto last = t.segments.rbegin();
      s.item.start = last->second.item.start + last->second.item.duration;
    }
    t.segments[item.sequence] = s;
  }
}

void virtual_player::on_media(const std::string& body) {
  hls_media_playlist media;
  if (hls_parse_media(body, media_url_, manifest_limits(), &media) != manifest_status::ok) {
    if (tracks_.empty()) {
      emit_("{\"event\":\"error\",\"what\":\"media playlist\"}");
      failed_ = true;
    }
    return;
  }
  live_ = media.live();
  ended_list_ = media.endlist;
  target_duration_ = media.target_duration;
  if (tracks_.empty()) tracks_.emplace_back();
  size_t before = tracks_[0].segments.size();
  add_items(tracks_[0], media.items, before > 0);
  bool changed = tracks_[0].segments.size() != before;
  choose_start();
  if (live_ && !ended_list_) {
    next_reload_ms_ = client_.clock().now_ms() + hls_reload_delay_ms(media, changed);
  }
}

void virtual_player::on_mpd(const std::string& body) {
  dash_mpd mpd;
  dash_options options;
  options.now_unix_ms = unix_now_ms();
  if (dash_parse(body, media_url_, manifest_limits(), options, &mpd) != manifest_status::ok ||
      mpd.periods.empty()) {
    if (tracks_.empty()) {
      emit_("{\"event\":\"error\",\"what\":\"mpd\"}");
      failed_ = true;
    }
    return;
  }
  live_ = mpd.dynamic;
  ended_list_ = !mpd.dynamic;
  // One Representation per AdaptationSet of the first Period: the `variant`-th by
  // bandwidth for video, the lowest for the others.
  const dash_period& period = mpd.periods.front();
  for (size_t a = 0; a < period.adaptation_sets.size(); ++a) {
    const dash_adaptation_set& set = period.adaptation_sets[a];
    if (set.representations.empty()) continue;
    std::vector<const dash_representation*> reps;
    for (const auto& r : set.representations) reps.push_back(&r);
    std::sort(reps.begin(), reps.end(),
              [](const dash_representation* x, const dash_representation* y) {
                return x->bandwidth < y->bandwidth;
              });
    size_t index =
        set.content_type == "video"
            ? std::min(reps.size() - 1, static_cast<size_t>(std::max(0, config_.variant)))
            : 0;
    std::string key = std::to_string(a);
    auto it =
        std::find_if(tracks_.begin(), tracks_.end(), [&](const track& t) { return t.key == key; });
    if (it == tracks_.end()) {
      tracks_.emplace_back();
      tracks_.back().key = key;
      it = tracks_.end() - 1;
    }
    add_items(*it, reps[index]->items, false);
    for (const auto& item : reps[index]->items) {
      if (item.duration > target_duration_) target_duration_ = item.duration;
    }
  }
  choose_start();
  if (live_) {
    double period_s = mpd.minimum_update_period > 0 ? mpd.minimum_update_period : 2.0;
    next_reload_ms_ = client_.clock().now_ms() + static_cast<int64_t>(period_s * 1000);
  }
}

void virtual_player::choose_start() {
  if (start_chosen_ || tracks_.empty()) return;
  for (const auto& t : tracks_) {
    if (t.segments.empty()) return;
  }
  start_chosen_ = true;
  double start = 0, end = 1e18;
  for (const auto& t : tracks_) {
    start = std::max(start, t.segments.begin()->second.item.start);
    const segment& last = t.segments.rbegin()->second;
    end = std::min(end, last.item.start + last.item.duration);
  }
  if (live_) {
    double offset =
        config_.live_edge_offset_s > 0 ? config_.live_edge_offset_s : 3 * target_duration_;
    start = std::max(start, end - offset);
    // Start at a segment boundary of the first track.
    for (const auto& entry : tracks_[0].segments) {
      if (entry.second.item.start + entry.second.item.duration > start) {
        start = entry.second.item.start;
        break;
      }
    }
  }
  position_base_ = start;
  size_t count = 0;
  for (const auto& t : tracks_) count += t.segments.size();
  emit_("{\"event\":\"start\",\"media\":\"" + media_url_ + "\",\"live\":" +
        (live_ ? "true" : "false") + ",\"tracks\":" + std::to_string(tracks_.size()) +
        ",\"segments\":" + std::to_string(count) + ",\"start_position\":" + number(start) + "}");
}

double virtual_player::buffered_until() const {
  double from = position_ >= 0 ? position_ : position_base_;
  double result = 1e18;
  for (const auto& t : tracks_) {
    double until = from;
    for (const auto& entry : t.segments) {
      const segment& s = entry.second;
      double end = s.item.start + s.item.duration;
      if (end <= from) continue;
      if (!s.ready || s.item.start > until + 0.05) break;
      until = end;
    }
    result = std::min(result, until);
  }
  return tracks_.empty() ? from : result;
}

double virtual_player::end_of_listed() const {
  double end = 1e18;
  for (const auto& t : tracks_) {
    if (t.segments.empty()) return 0;
    const segment& last = t.segments.rbegin()->second;
    end = std::min(end, last.item.start + last.item.duration);
  }
  return tracks_.empty() ? 0 : end;
}

void virtual_player::request_ahead(int64_t now) {
  double from = position_ >= 0 ? position_ : position_base_;
  for (size_t k = 0; k < tracks_.size(); ++k) {
    track& t = tracks_[k];
    if (t.has_init && !t.init_requested) {
      t.init_requested = true;
      client_.fetch(t.init.url, t.init.range_offset, t.init.range_length, 0,
                    [this, k](fetch_response response) {
                      if (response.status == 200 || response.status == 206) {
                        tracks_[k].init_ready = true;
                      } else {
                        tracks_[k].init_requested = false;
                      }
                    });
    }
    for (auto& entry : t.segments) {
      segment& s = entry.second;
      if (s.item.start + s.item.duration <= from) continue;
      if (s.item.start > from + config_.max_buffer_s) break;
      if (s.requested) continue;
      s.requested = true;
      // The deadline is when the playhead reaches the segment; before start-up, now.
      int64_t deadline =
          position_ < 0 || stalled_ ? 0 : static_cast<int64_t>((s.item.start - position_) * 1000);
      int64_t sequence = entry.first;
      client_.fetch(s.item.url, s.item.range_offset, s.item.range_length,
                    std::max<int64_t>(0, deadline), [this, k, sequence](fetch_response response) {
                      auto it = tracks_[k].segments.find(sequence);
                      if (it == tracks_[k].segments.end()) return;
                      if (response.status == 200 || response.status == 206) {
                        it->second.ready = true;
                        it->second.from_peers = response.from_peers;
                      } else {
                        it->second.requested = false;  // asked again next step
                      }
                    });
    }
  }
  (void)now;
}

void virtual_player::progress(int64_t now, const char* event) {
  client_stats s = client_.stats();
  double total = static_cast<double>(s.bytes_http + s.bytes_p2p);
  double position = position_ >= 0 ? position_ : position_base_;
  emit_(std::string("{\"event\":\"") + event + "\",\"t_ms\":" + std::to_string(now - started_ms_) +
        ",\"position\":" + number(position) +
        ",\"buffer\":" + number(std::max(0.0, buffered_until() - position)) +
        ",\"played\":" + number(played_s_) + ",\"startup_ms\":" + std::to_string(startup_ms_) +
        ",\"stalls\":" + std::to_string(s.stalls) + ",\"stall_ms\":" + std::to_string(s.stall_ms) +
        ",\"bytes_http\":" + std::to_string(s.bytes_http) + ",\"bytes_p2p\":" +
        std::to_string(s.bytes_p2p) + ",\"bytes_uploaded\":" + std::to_string(s.bytes_uploaded) +
        ",\"efficiency\":" + number(total > 0 ? static_cast<double>(s.bytes_p2p) / total : 0) +
        ",\"peers\":" + std::to_string(s.peers_connected) + ",\"integrity_failures\":" +
        std::to_string(s.integrity_failures) + ",\"session\":\"" + s.session_state + "\"}");
}

bool virtual_player::step() {
  if (failed_ || done_) return false;
  int64_t now = client_.clock().now_ms();
  if (live_ && !ended_list_ && !media_loading_ && next_reload_ms_ != 0 && now >= next_reload_ms_) {
    next_reload_ms_ = 0;
    load_media(media_url_);
  }
  if (!start_chosen_) return true;
  bool init_ok = true;
  for (const auto& t : tracks_) init_ok = init_ok && (!t.has_init || t.init_ready);
  if (position_ < 0) {
    request_ahead(now);
    if (init_ok && buffered_until() - position_base_ >= config_.startup_buffer_s - 1e-6) {
      position_ = position_base_;
      playing_since_ms_ = now;
      startup_ms_ = now - started_ms_;
      client_.report_startup(startup_ms_);
      progress(now, "playing");
    }
  } else {
    double until = buffered_until();
    double listed_end = end_of_listed();
    bool at_end = ended_list_ && until >= listed_end - 1e-6;
    if (!stalled_) {
      double advanced = static_cast<double>(now - playing_since_ms_) / 1000.0;
      double target = position_base_ + advanced;
      if (target >= until && !at_end) {
        played_s_ += until - position_;
        position_ = until;
        stalled_ = true;
        stall_started_ms_ = now;
        progress(now, "stall");
      } else {
        played_s_ += std::min(target, until) - position_;
        position_ = std::min(target, until);
      }
    } else if (until - position_ >=
               std::min(config_.startup_buffer_s, target_duration_ > 0 ? target_duration_ : 1.0) -
                   1e-6) {
      stalled_ = false;
      client_.report_stall(now - stall_started_ms_);
      position_base_ = position_;
      playing_since_ms_ = now;
      progress(now, "resume");
    }
    client_.set_playhead(position_);
    request_ahead(now);
    bool vod_over = (ended_list_ || !live_) && position_ >= listed_end - 1e-3;
    bool duration_over = config_.duration_s > 0 && played_s_ >= config_.duration_s;
    if (vod_over || duration_over) {
      done_ = true;
      progress(now, "end");
      return false;
    }
  }
  if (now >= next_report_ms_) {
    next_report_ms_ = now + config_.report_interval_ms;
    progress(now, "progress");
  }
  return true;
}

}  // namespace p2p
