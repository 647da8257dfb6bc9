#include "client/scheduler.h"

#include <algorithm>

namespace p2p {

namespace {
// Time after a peer fetch starts before its rate is trusted for a projection.
constexpr int64_t kRateWarmupMs = 400;
constexpr double kSmoothing = 0.3;
}  // namespace

scheduler::scheduler(const clock_source& clock, http_source& http, peer_source* peers,
                     segment_store& store, scheduler_config config)
    : clock_(clock),
      http_(http),
      peers_(peers),
      store_(store),
      config_(config),
      rng_(config.random_seed ? config.random_seed : std::random_device{}()) {}

scheduler::~scheduler() { drop_all(); }

uint64_t scheduler::want(const media_item& item, int64_t deadline_ms,
                         std::function<void(delivery)> done) {
  uint64_t id = next_id_++;
  want_entry w;
  w.id = id;
  w.item = item;
  w.deadline_ms = deadline_ms;
  w.done = std::move(done);
  wants_.emplace(id, std::move(w));
  return id;
}

void scheduler::drop(uint64_t want_id) {
  auto it = wants_.find(want_id);
  if (it == wants_.end()) return;
  if (it->second.st == state::http) http_.cancel(it->second.fetch_id);
  if (it->second.st == state::peer && peers_) peers_->cancel(it->second.fetch_id);
  wants_.erase(it);
}

void scheduler::drop_all() {
  std::vector<uint64_t> ids;
  for (const auto& w : wants_) ids.push_back(w.first);
  for (uint64_t id : ids) drop(id);
}

void scheduler::expedite(uint64_t want_id, int64_t deadline_ms) {
  auto it = wants_.find(want_id);
  if (it != wants_.end() && deadline_ms < it->second.deadline_ms) {
    it->second.deadline_ms = deadline_ms;
  }
}

void scheduler::set_peer_source(peer_source* peers) {
  if (peers_ && peers != peers_) {
    for (auto& entry : wants_) {
      if (entry.second.st == state::peer) {
        peers_->cancel(entry.second.fetch_id);
        entry.second.st = state::waiting;
      }
    }
  }
  peers_ = peers;
}

int64_t scheduler::expected_size(const want_entry& w) const {
  if (w.item.range_length > 0) return w.item.range_length;
  return average_item_bytes_;
}

int64_t scheduler::safety_window_ms(int64_t expected_bytes) const {
  if (http_bytes_per_ms_ <= 0) return config_.http_safety_window_ms;
  double estimate = http_latency_ms_ + static_cast<double>(expected_bytes) / http_bytes_per_ms_;
  // Twice the estimate covers a throughput dip while the fetch runs.
  return std::max<int64_t>(config_.http_safety_window_ms, static_cast<int64_t>(2 * estimate));
}

int scheduler::running(state s, bool non_urgent_only) const {
  int n = 0;
  for (const auto& w : wants_) {
    if (w.second.st == s && (!non_urgent_only || !w.second.urgent_http)) ++n;
  }
  return n;
}

void scheduler::start_http(want_entry& w, bool urgent) {
  w.st = state::http;
  w.urgent_http = urgent;
  w.http_attempts++;
  stats_.http_fetches++;
  uint64_t want_id = w.id;
  int64_t started = clock_.now_ms();
  w.fetch_id = http_.fetch(w.item.url, w.item.range_offset, w.item.range_length,
                           [this, want_id, started](http_fetch_result result) {
                             on_http(want_id, started, std::move(result));
                           });
}

void scheduler::start_peer(want_entry& w, const std::string& peer) {
  w.st = state::peer;
  w.peer = peer;
  w.started_ms = clock_.now_ms();
  w.last_progress_ms = w.started_ms;
  w.last_received = 0;
  w.tried_peers.push_back(peer);
  stats_.p2p_fetches++;
  uint64_t want_id = w.id;
  w.fetch_id = peers_->fetch(
      peer, w.item.hash,
      [this, want_id](peer_fetch_status s, std::string b) { on_peer(want_id, s, std::move(b)); });
}

void scheduler::finish(uint64_t want_id, delivery d) {
  auto it = wants_.find(want_id);
  if (it == wants_.end()) return;
  std::function<void(delivery)> done = std::move(it->second.done);
  if (d.ok && clock_.now_ms() > it->second.deadline_ms) stats_.late_deliveries++;
  wants_.erase(it);
  if (done) done(std::move(d));
}

void scheduler::on_http(uint64_t want_id, int64_t started_ms, http_fetch_result result) {
  auto it = wants_.find(want_id);
  if (it == wants_.end()) return;
  want_entry& w = it->second;
  int64_t now = clock_.now_ms();
  if (result.ok) {
    double elapsed = static_cast<double>(std::max<int64_t>(1, now - started_ms));
    double rate = static_cast<double>(result.bytes.size()) / elapsed;
    http_bytes_per_ms_ =
        http_bytes_per_ms_ <= 0 ? rate : (1 - kSmoothing) * http_bytes_per_ms_ + kSmoothing * rate;
    // Latency is hard to separate from transfer time here; count a small share.
    http_latency_ms_ = (1 - kSmoothing) * http_latency_ms_ + kSmoothing * (elapsed * 0.1);
    average_item_bytes_ =
        average_item_bytes_ == 0
            ? static_cast<int64_t>(result.bytes.size())
            : (average_item_bytes_ * 7 + static_cast<int64_t>(result.bytes.size())) / 8;
    stats_.bytes_http += result.bytes.size();
    // Only bytes matching the origin's hash are re-shared; the player gets the origin's
    // bytes either way (a stale hint must not break playback).
    if (w.item.has_hash && integrity_matches(w.item.hash, result.bytes)) {
      store_.put(w.item.hash, w.item.start, result.bytes);
    }
    delivery d;
    d.ok = true;
    d.http_status = result.status;
    d.bytes = std::move(result.bytes);
    d.source = delivery_source::http;
    finish(want_id, std::move(d));
    return;
  }
  bool client_error = result.status >= 400 && result.status < 500;
  if (w.http_attempts <= config_.http_retries && !client_error) {
    w.st = state::waiting;
    w.retry_at_ms = now + config_.http_retry_delay_ms * w.http_attempts;
    return;
  }
  delivery d;
  d.ok = false;
  d.http_status = result.status;
  finish(want_id, std::move(d));
}

void scheduler::on_peer(uint64_t want_id, peer_fetch_status status, std::string bytes) {
  auto it = wants_.find(want_id);
  if (it == wants_.end()) return;
  want_entry& w = it->second;
  w.st = state::waiting;
  if (status != peer_fetch_status::ok) {
    stats_.p2p_absent++;
    return;
  }
  if (!integrity_matches(w.item.hash, bytes)) {
    // Never delivered, never stored: drop the peer and take the origin's bytes.
    stats_.integrity_failures++;
    std::string liar = w.peer;
    start_http(w, true);
    // Nothing else from that peer is trusted either.
    for (auto& other : wants_) {
      if (other.second.st == state::peer && other.second.peer == liar) {
        peers_->cancel(other.second.fetch_id);
        start_http(other.second, true);
      }
    }
    peers_->blacklist(liar);
    return;
  }
  stats_.bytes_p2p += bytes.size();
  store_.put(w.item.hash, w.item.start, bytes);
  delivery d;
  d.ok = true;
  d.http_status = 200;
  d.bytes = std::move(bytes);
  d.source = delivery_source::peer;
  finish(want_id, std::move(d));
}

void scheduler::tick() {
  int64_t now = clock_.now_ms();
  std::vector<std::pair<int64_t, uint64_t>> order;
  order.reserve(wants_.size());
  for (const auto& w : wants_) order.emplace_back(w.second.deadline_ms, w.first);
  std::sort(order.begin(), order.end());
  for (const auto& entry : order) {
    auto it = wants_.find(entry.second);
    if (it == wants_.end()) continue;  // finished by a callback during this tick
    want_entry& w = it->second;
    if (w.item.has_hash && w.st == state::waiting) {
      if (const std::string* cached = store_.get(w.item.hash)) {
        delivery d;
        d.ok = true;
        d.http_status = 200;
        d.bytes = *cached;
        d.source = delivery_source::store;
        finish(w.id, std::move(d));
        continue;
      }
    }
    int64_t time_left = w.deadline_ms - now;
    int64_t window = safety_window_ms(expected_size(w));
    if (w.st == state::http) continue;
    if (w.st == state::peer) {
      size_t received = peers_ ? peers_->received(w.fetch_id) : 0;
      if (received > w.last_received) {
        w.last_received = received;
        w.last_progress_ms = now;
      }
      bool too_late = time_left <= window;
      bool stalled = now - w.last_progress_ms > config_.p2p_stall_ms;
      bool too_slow = false;
      int64_t expected = static_cast<int64_t>(peers_->total_size(w.fetch_id));
      if (expected == 0) expected = expected_size(w);
      if (!too_late && !stalled && expected > 0 && now - w.started_ms >= kRateWarmupMs) {
        double rate = static_cast<double>(received) / static_cast<double>(now - w.started_ms);
        double remaining = static_cast<double>(std::max<int64_t>(0, expected - received));
        too_slow = rate <= 0 || now + remaining / rate > w.deadline_ms - window;
      }
      if (too_late || stalled || too_slow) {
        peers_->cancel(w.fetch_id);
        stats_.p2p_cancelled_slow++;
        start_http(w, true);
      }
      continue;
    }
    if (w.retry_at_ms > now) continue;
    if (time_left <= window || w.http_attempts > 0) {
      start_http(w, true);
      continue;
    }
    bool peer_capable = w.item.has_hash && peers_ != nullptr;
    if (!peer_capable || peers_->connected_peers() == 0) {
      if (running(state::http, true) < config_.max_http_prefetch) start_http(w, false);
      continue;
    }
    if (time_left > config_.p2p_lookahead_ms) continue;
    if (running(state::peer, false) >= config_.max_p2p_fetches) continue;
    std::vector<std::string> candidates;
    for (const auto& peer : peers_->peers_with(w.item.hash)) {
      if (std::find(w.tried_peers.begin(), w.tried_peers.end(), peer) == w.tried_peers.end()) {
        candidates.push_back(peer);
      }
    }
    if (!candidates.empty()) {
      start_peer(w, candidates[rng_() % candidates.size()]);
      continue;
    }
    // Nobody has it yet: pull it over HTTP at a random moment of the time left before
    // the safety window, so that across the swarm one peer usually pulls first and the
    // others get it from that peer once it announces.
    if (w.pull_at_ms == 0) {
      int64_t spread =
          std::min<int64_t>(config_.random_pull_spread_max_ms, (time_left - window) * 7 / 10);
      std::uniform_int_distribution<int64_t> delay(0, std::max<int64_t>(0, spread));
      w.pull_at_ms = now + delay(rng_);
    }
    if (now >= w.pull_at_ms && running(state::http, true) < config_.max_http_prefetch) {
      stats_.random_pulls++;
      start_http(w, false);
    }
  }
}

}  // namespace p2p
