#include "client/client.h"

#include "client/dash_mpd.h"
#include "client/hls_playlist.h"
#include "client/p2p_session.h"

namespace p2p {

namespace {

bool looks_like_hls(const std::string& url, const std::string& content_type,
                    const std::string& body) {
  return body.compare(0, 7, "#EXTM3U") == 0 || body.compare(0, 10, "\xEF\xBB\xBF#EXTM3U") == 0 ||
         content_type.find("mpegurl") != std::string::npos ||
         url.find(".m3u8") != std::string::npos;
}

bool looks_like_mpd(const std::string& url, const std::string& content_type,
                    const std::string& body) {
  return content_type.find("dash+xml") != std::string::npos ||
         url.find(".mpd") != std::string::npos ||
         (body.find("<MPD") != std::string::npos && body.size() < 16 * 1024 * 1024);
}

std::string key_for(const std::string& url, int64_t offset, int64_t length) {
  media_item probe;
  probe.url = url;
  probe.range_offset = offset;
  probe.range_length = length;
  return media_item_key(probe);
}

}  // namespace

client::client(client_config config)
    : config_(std::move(config)),
      store_(config_.store_bytes),
      scheduler_(clock_, http_, nullptr, store_, config_.scheduler) {
  if (config_.p2p_enabled) {
    session_ = std::make_unique<p2p_session>(config_, http_, clock_, store_, scheduler_);
  }
}

client::~client() {
  scheduler_.drop_all();
  session_.reset();
}

void client::log(const std::string& line) const {
  if (config_.log) config_.log(line);
}

uint64_t client::fetch(const std::string& url, int64_t range_offset, int64_t range_length,
                       int64_t deadline_ms, std::function<void(fetch_response)> done) {
  uint64_t id = next_id_++;
  std::string key = key_for(url, range_offset, range_length);
  auto listed = items_.find(key);
  if (listed != items_.end()) {
    const known_playlist& playlist = playlists_.at(listed->second.playlist_url);
    const media_item& item = playlist.items.at(listed->second.index);
    int64_t deadline_at = clock_.now_ms() + deadline_ms;
    waiter_keys_[id] = key;
    auto flight = in_flight_.find(key);
    if (flight == in_flight_.end()) {
      in_flight_[key].waiters.push_back({id, std::move(done)});
      want_item(key, item, deadline_at);
    } else {
      flight->second.waiters.push_back({id, std::move(done)});
      scheduler_.expedite(flight->second.want_id, deadline_at);
    }
    prefetch_after(listed->second, deadline_at);
    return id;
  }
  // Not a listed item: a manifest, a key, anything else goes straight to HTTP.
  http_request request;
  request.url = url;
  request.range_offset = range_offset;
  request.range_length = range_length;
  plain_http_[id] =
      http_.start(request, [this, id, url, done = std::move(done)](http_response response) {
        plain_http_.erase(id);
        bytes_http_plain_ += response.body.size();
        if (response.ok) on_manifest(url, response.body, response.content_type);
        fetch_response out;
        out.status = response.status;
        out.bytes = std::move(response.body);
        out.content_type = std::move(response.content_type);
        done(std::move(out));
      });
  return id;
}

void client::want_item(const std::string& key, const media_item& item, int64_t deadline_at_ms) {
  in_flight_[key].want_id = scheduler_.want(item, deadline_at_ms, [this, key](delivery d) {
    auto flight = in_flight_.find(key);
    if (flight == in_flight_.end()) return;
    std::vector<waiter> waiters = std::move(flight->second.waiters);
    in_flight_.erase(flight);
    for (auto& w : waiters) {
      waiter_keys_.erase(w.id);
      fetch_response out;
      out.status = d.ok ? (d.http_status ? d.http_status : 200) : d.http_status;
      out.bytes = d.bytes;
      out.from_peers = d.source == delivery_source::peer;
      if (w.done) w.done(std::move(out));
    }
  });
}

void client::prefetch_after(const item_ref& ref, int64_t base_deadline_at_ms) {
  if (!session_ || scheduler_.peer_source_connected() == 0) return;
  const known_playlist& playlist = playlists_.at(ref.playlist_url);
  const media_item& current = playlist.items.at(ref.index);
  int wanted = 0;
  for (size_t i = ref.index + 1; i < playlist.items.size() && wanted < config_.prefetch_items;
       ++i) {
    const media_item& next = playlist.items[i];
    if (!next.has_hash || next.kind == media_item_kind::init) continue;
    ++wanted;
    std::string key = media_item_key(next);
    if (in_flight_.count(key) || store_.contains(next.hash)) continue;
    int64_t offset_ms = static_cast<int64_t>((next.start - current.start) * 1000);
    want_item(key, next, base_deadline_at_ms + std::max<int64_t>(0, offset_ms));
  }
}

void client::cancel(uint64_t id) {
  auto plain = plain_http_.find(id);
  if (plain != plain_http_.end()) {
    http_.cancel(plain->second);
    plain_http_.erase(plain);
    return;
  }
  auto key = waiter_keys_.find(id);
  if (key == waiter_keys_.end()) return;
  auto flight = in_flight_.find(key->second);
  waiter_keys_.erase(key);
  if (flight == in_flight_.end()) return;
  auto& waiters = flight->second.waiters;
  for (auto it = waiters.begin(); it != waiters.end(); ++it) {
    if (it->id == id) {
      waiters.erase(it);
      break;
    }
  }
  // A cancelled item stays wanted as a prefetch: the bytes are still worth sharing.
}

void client::on_manifest(const std::string& url, const std::string& body,
                         const std::string& content_type) {
  manifest_limits limits;
  if (looks_like_hls(url, content_type, body)) {
    if (hls_is_master(body)) {
      hls_master_playlist master;
      if (hls_parse_master(body, url, limits, &master) != manifest_status::ok) {
        log("master playlist not understood, HTTP only: " + url);
        return;
      }
      if (session_ && master.hints.any()) session_->on_hints(master.hints, url);
      return;
    }
    hls_media_playlist media;
    manifest_status status = hls_parse_media(body, url, limits, &media);
    if (status != manifest_status::ok) {
      log(std::string("media playlist ") + manifest_status_name(status) + ", HTTP only: " + url);
      return;
    }
    known_playlist playlist;
    playlist.url = url;
    playlist.live = media.live();
    playlist.target_duration = media.target_duration;
    playlist.swarm_id = media.swarm_id;
    playlist.items = std::move(media.items);
    if (session_ && !playlist.swarm_id.empty()) session_->on_swarm(playlist.swarm_id);
    register_playlist(std::move(playlist));
    return;
  }
  if (looks_like_mpd(url, content_type, body)) {
    dash_mpd mpd;
    dash_options options;
    options.now_unix_ms = unix_now_ms();
    manifest_status status = dash_parse(body, url, limits, options, &mpd);
    if (status != manifest_status::ok) {
      log(std::string("MPD ") + manifest_status_name(status) + ", HTTP only: " + url);
      return;
    }
    if (session_ && mpd.hints.any()) session_->on_hints(mpd.hints, url);
    bool swarm_chosen = false;
    for (auto& period : mpd.periods) {
      for (auto& set : period.adaptation_sets) {
        for (auto& rep : set.representations) {
          known_playlist playlist;
          playlist.url = url + "#" + period.id + "/" + rep.id;
          playlist.live = mpd.dynamic;
          playlist.swarm_id = rep.swarm_id;
          playlist.items = std::move(rep.items);
          // The player's first video pick is unknown here; the first swarm listed is
          // joined until a segment request says otherwise.
          if (session_ && !swarm_chosen && !playlist.swarm_id.empty()) {
            session_->on_swarm(playlist.swarm_id);
            swarm_chosen = true;
          }
          register_playlist(std::move(playlist));
        }
      }
    }
  }
}

void client::register_playlist(known_playlist playlist) {
  std::string url = playlist.url;
  auto old = playlists_.find(url);
  if (old != playlists_.end()) {
    for (const auto& item : old->second.items) {
      auto it = items_.find(media_item_key(item));
      if (it != items_.end() && it->second.playlist_url == url) items_.erase(it);
    }
  }
  for (size_t i = 0; i < playlist.items.size(); ++i) {
    items_[media_item_key(playlist.items[i])] = item_ref{url, i};
  }
  playlists_[url] = std::move(playlist);
}

const known_playlist* client::playlist(const std::string& url) const {
  auto it = playlists_.find(url);
  return it == playlists_.end() ? nullptr : &it->second;
}

void client::set_playhead(double seconds) {
  store_.evict_behind(seconds, config_.keep_behind_seconds);
}

void client::report_stall(int64_t duration_ms) {
  stalls_++;
  stall_ms_ += static_cast<uint64_t>(std::max<int64_t>(0, duration_ms));
  if (session_) session_->on_stall(duration_ms);
}

void client::report_startup(int64_t startup_ms) {
  startup_ms_ = startup_ms;
  if (session_) session_->on_startup(startup_ms);
}

void client::set_uploads_enabled(bool enabled) {
  config_.uploads_enabled = enabled;
  if (session_) session_->set_uploads_enabled(enabled);
}

void client::process(int timeout_ms) {
  http_.process(timeout_ms);
  if (session_) session_->process();
  scheduler_.tick();
}

client_stats client::stats() const {
  client_stats s;
  const scheduler_stats& sched = scheduler_.stats();
  s.bytes_http = sched.bytes_http + bytes_http_plain_;
  s.bytes_p2p = sched.bytes_p2p;
  s.integrity_failures = sched.integrity_failures;
  s.late_deliveries = sched.late_deliveries;
  s.stalls = stalls_;
  s.stall_ms = stall_ms_;
  if (session_) {
    s.bytes_uploaded = session_->bytes_uploaded();
    s.peers_connected = static_cast<uint32_t>(session_->peers_connected());
    s.protocol_errors = session_->protocol_errors();
    s.session_state = session_->state_name();
  } else {
    s.session_state = "disabled";
  }
  return s;
}

}  // namespace p2p
