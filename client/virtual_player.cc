#include "client/virtual_player.h"

#include <algorithm>
#include <cstdio>

#include "client/hls_playlist.h"

namespace p2p {

namespace {

std::string number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f", v);
  return buffer;
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
    if (!hls_is_master(response.bytes)) {
      media_url_ = config_.url;
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
      if (segments_.empty()) {
        emit_("{\"event\":\"error\",\"what\":\"media playlist\",\"status\":" +
              std::to_string(response.status) + "}");
        failed_ = true;
      }
      next_reload_ms_ = client_.clock().now_ms() + 1000;
      return;
    }
    on_media(response.bytes);
  });
}

void virtual_player::on_media(const std::string& body) {
  hls_media_playlist media;
  if (hls_parse_media(body, media_url_, manifest_limits(), &media) != manifest_status::ok) {
    if (segments_.empty()) {
      emit_("{\"event\":\"error\",\"what\":\"media playlist\"}");
      failed_ = true;
    }
    return;
  }
  live_ = media.live();
  ended_list_ = media.endlist;
  target_duration_ = media.target_duration;
  bool changed = false;
  bool first = segments_.empty();
  for (const auto& item : media.items) {
    if (item.kind == media_item_kind::init) {
      if (!has_init_) {
        init_ = item;
        has_init_ = true;
      }
      continue;
    }
    if (item.kind != media_item_kind::segment) continue;  // whole segments only
    if (segments_.count(item.sequence)) continue;
    segment s;
    s.item = item;
    // Positions are kept on one timeline across reloads: continue from the last known.
    if (!first && !segments_.empty()) {
      auto last = segments_.rbegin();
      s.item.start = last->second.item.start + last->second.item.duration;
    }
    segments_[item.sequence] = s;
    changed = true;
  }
  if (first && !segments_.empty()) {
    double start = segments_.begin()->second.item.start;
    if (live_) {
      double end = segments_.rbegin()->second.item.start + segments_.rbegin()->second.item.duration;
      double offset =
          config_.live_edge_offset_s > 0 ? config_.live_edge_offset_s : 3 * target_duration_;
      start = std::max(start, end - offset);
      // Start at a segment boundary.
      for (const auto& entry : segments_) {
        if (entry.second.item.start + entry.second.item.duration > start) {
          start = entry.second.item.start;
          break;
        }
      }
    }
    position_base_ = start;
    emit_("{\"event\":\"start\",\"media\":\"" + media_url_ + "\",\"live\":" +
          (live_ ? "true" : "false") + ",\"segments\":" + std::to_string(segments_.size()) +
          ",\"start_position\":" + number(start) + "}");
  }
  if (live_ && !ended_list_) {
    hls_media_playlist reload_basis = media;
    next_reload_ms_ = client_.clock().now_ms() + hls_reload_delay_ms(reload_basis, changed);
  }
}

double virtual_player::buffered_until() const {
  double from = position_ >= 0 ? position_ : position_base_;
  double until = from;
  for (const auto& entry : segments_) {
    const segment& s = entry.second;
    double end = s.item.start + s.item.duration;
    if (end <= from) continue;
    if (!s.ready || s.item.start > until + 0.05) break;
    until = end;
  }
  return until;
}

void virtual_player::request_ahead(int64_t now) {
  if (has_init_ && !init_requested_) {
    init_requested_ = true;
    client_.fetch(init_.url, init_.range_offset, init_.range_length, 0,
                  [this](fetch_response response) {
                    if (response.status == 200 || response.status == 206) init_ready_ = true;
                  });
  }
  double from = position_ >= 0 ? position_ : position_base_;
  for (auto& entry : segments_) {
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
                  std::max<int64_t>(0, deadline), [this, sequence](fetch_response response) {
                    auto it = segments_.find(sequence);
                    if (it == segments_.end()) return;
                    if (response.status == 200 || response.status == 206) {
                      it->second.ready = true;
                      it->second.from_peers = response.from_peers;
                    } else {
                      it->second.requested = false;  // asked again next step
                    }
                  });
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
  if (failed_) return false;
  if (done_) return false;
  int64_t now = client_.clock().now_ms();
  if (live_ && !ended_list_ && !media_loading_ && next_reload_ms_ != 0 && now >= next_reload_ms_) {
    next_reload_ms_ = 0;
    load_media(media_url_);
  }
  if (segments_.empty()) return true;
  bool init_ok = !has_init_ || init_ready_;
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
    if (!stalled_) {
      double advanced = static_cast<double>(now - playing_since_ms_) / 1000.0;
      double target = position_base_ + advanced;
      if (target >= until &&
          !(ended_list_ && until >= segments_.rbegin()->second.item.start +
                                        segments_.rbegin()->second.item.duration - 1e-6)) {
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
    double end = segments_.rbegin()->second.item.start + segments_.rbegin()->second.item.duration;
    bool vod_over = (ended_list_ || !live_) && position_ >= end - 1e-3;
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
