#include "client/peer_swarm.h"

#include <algorithm>

namespace p2p {

namespace {
// Upload bursts up to this many bytes beyond the steady rate.
constexpr double kUploadBurstBytes = 256 * 1024;
// Remembered cancelled request ids per peer (data already in flight may follow).
constexpr size_t kMaxRememberedCancels = 256;
}  // namespace

peer_swarm::peer_swarm(peer_transport& transport, segment_store& store, const clock_source& clock,
                       peer_swarm_config config, std::string swarm_id)
    : transport_(transport),
      store_(store),
      clock_(clock),
      config_(std::move(config)),
      swarm_id_(std::move(swarm_id)) {
  last_refill_ms_ = clock_.now_ms();
  upload_tokens_ = kUploadBurstBytes;
  transport_.set_incoming_handler(
      [this](std::shared_ptr<peer_connection> connection) { attach(connection, false); });
  store_.set_listener(
      [this](const content_hash& hash, bool added) { on_store_change(hash, added); });
}

peer_swarm::~peer_swarm() {
  store_.set_listener(nullptr);
  transport_.set_incoming_handler(nullptr);
  for (auto& entry : peers_) {
    entry.second->connection->set_callbacks(peer_connection_callbacks());
    entry.second->connection->close();
  }
}

peer_swarm::peer_state* peer_swarm::find(const std::string& peer_id) {
  auto it = peers_.find(peer_id);
  return it == peers_.end() || it->second->dead ? nullptr : it->second.get();
}

const peer_swarm::peer_state* peer_swarm::find(const std::string& peer_id) const {
  auto it = peers_.find(peer_id);
  return it == peers_.end() || it->second->dead ? nullptr : it->second.get();
}

void peer_swarm::connect(const std::string& peer_id) {
  if (peer_id.empty() || peer_id == config_.local_peer_id || blacklist_.count(peer_id) ||
      peers_.count(peer_id) || peers_.size() >= config_.max_peers) {
    return;
  }
  auto state = std::make_unique<peer_state>();
  state->id = peer_id;
  peer_state* raw = state.get();
  peers_[peer_id] = std::move(state);
  raw->connection = transport_.connect(peer_id, peer_connection_callbacks());
  raw->connection->set_callbacks(callbacks_for(peer_id, raw->connection));
  if (raw->connection->state() == peer_connection_state::open) on_open(*raw);
}

void peer_swarm::attach(const std::shared_ptr<peer_connection>& connection, bool) {
  const std::string& peer_id = connection->remote_peer_id();
  if (blacklist_.count(peer_id) || peer_id == config_.local_peer_id) {
    connection->close();
    return;
  }
  auto it = peers_.find(peer_id);
  if (it != peers_.end() && !it->second->dead) {
    // Glare: both sides connected at once. The connection offered by the smaller peer id
    // survives on both sides, so they agree without talking.
    bool keep_ours = config_.local_peer_id < peer_id;
    if (keep_ours) {
      connection->close();
      return;
    }
    it->second->connection->set_callbacks(peer_connection_callbacks());
    it->second->connection->close();
    kill(*it->second, false);
    peers_.erase(it);
  } else if (it != peers_.end()) {
    peers_.erase(it);
  }
  if (peers_.size() >= config_.max_peers) {
    connection->close();
    return;
  }
  auto state = std::make_unique<peer_state>();
  state->id = peer_id;
  state->connection = connection;
  peer_state* raw = state.get();
  peers_[peer_id] = std::move(state);
  connection->set_callbacks(callbacks_for(peer_id, connection));
  if (connection->state() == peer_connection_state::open) on_open(*raw);
}

peer_connection_callbacks peer_swarm::callbacks_for(
    const std::string& peer_id, const std::shared_ptr<peer_connection>& connection) {
  peer_connection* identity = connection.get();
  peer_connection_callbacks callbacks;
  callbacks.on_state = [this, peer_id, identity](peer_connection_state state) {
    peer_state* peer = find(peer_id);
    if (!peer || peer->connection.get() != identity) return;
    if (state == peer_connection_state::open) {
      on_open(*peer);
    } else if (state == peer_connection_state::closed || state == peer_connection_state::failed) {
      kill(*peer, false);
    }
  };
  callbacks.on_message = [this, peer_id, identity](const uint8_t* data, size_t size) {
    peer_state* peer = find(peer_id);
    if (!peer || peer->connection.get() != identity) return;
    on_message(*peer, data, size);
  };
  return callbacks;
}

void peer_swarm::send(peer_state& peer, const std::string& frame) {
  if (!peer.open || peer.dead) return;
  if (!peer.connection->send(reinterpret_cast<const uint8_t*>(frame.data()), frame.size())) {
    kill(peer, false);
  }
}

void peer_swarm::broadcast(const std::string& frame) {
  for (auto& entry : peers_) {
    if (entry.second->open && !entry.second->dead) send(*entry.second, frame);
  }
}

void peer_swarm::on_open(peer_state& peer) {
  if (peer.open) return;
  peer.open = true;
  send(peer, wire_hello(config_.uploads_enabled ? wire_flag_uploads : 0, swarm_id_));
  if (!config_.uploads_enabled) return;
  std::vector<content_hash> all = store_.hashes();
  for (size_t i = 0; i < all.size(); i += wire_max_hashes_per_frame) {
    size_t end = std::min(all.size(), i + wire_max_hashes_per_frame);
    send(peer, wire_have(wire_type::have,
                         std::vector<content_hash>(all.begin() + static_cast<long>(i),
                                                   all.begin() + static_cast<long>(end))));
  }
}

void peer_swarm::on_store_change(const content_hash& hash, bool added) {
  if (!config_.uploads_enabled && added) return;
  broadcast(wire_have(added ? wire_type::have : wire_type::lost, {hash}));
}

void peer_swarm::set_swarm(const std::string& swarm_id) {
  swarm_id_ = swarm_id;
  broadcast(wire_hello(config_.uploads_enabled ? wire_flag_uploads : 0, swarm_id_));
}

void peer_swarm::set_uploads_enabled(bool enabled) {
  if (enabled == config_.uploads_enabled) return;
  config_.uploads_enabled = enabled;
  if (!enabled) {
    for (auto& entry : peers_) {
      for (const auto& job : entry.second->uploads)
        send(*entry.second, wire_absent(job.request_id));
      entry.second->uploads.clear();
    }
    // Peers drop what we announced when we say we no longer upload.
  }
  broadcast(wire_hello(enabled ? wire_flag_uploads : 0, swarm_id_));
  if (enabled) {
    for (auto& entry : peers_) {
      if (!entry.second->open || entry.second->dead) continue;
      std::vector<content_hash> all = store_.hashes();
      for (size_t i = 0; i < all.size(); i += wire_max_hashes_per_frame) {
        size_t end = std::min(all.size(), i + wire_max_hashes_per_frame);
        send(*entry.second, wire_have(wire_type::have, std::vector<content_hash>(
                                                           all.begin() + static_cast<long>(i),
                                                           all.begin() + static_cast<long>(end))));
      }
    }
  }
}

void peer_swarm::on_message(peer_state& peer, const uint8_t* data, size_t size) {
  wire_frame frame;
  if (wire_parse(data, size, &frame) != wire_error::ok) {
    kill(peer, true);
    return;
  }
  switch (frame.type) {
    case wire_type::hello:
      peer.hello = true;
      peer.remote_uploads = (frame.flags & wire_flag_uploads) != 0;
      peer.remote_swarm = frame.swarm_id;
      if (!peer.remote_uploads) peer.announced.clear();
      return;
    case wire_type::have:
      for (const auto& hash : frame.hashes) {
        if (peer.announced.size() >= config_.max_announced_per_peer) break;
        peer.announced.insert(hash);
      }
      return;
    case wire_type::lost:
      for (const auto& hash : frame.hashes) peer.announced.erase(hash);
      return;
    case wire_type::request: {
      if (!config_.uploads_enabled || !store_.contains(frame.hashes[0]) ||
          peer.uploads.size() >= config_.max_uploads_per_peer) {
        stats_.requests_refused++;
        send(peer, wire_absent(frame.request_id));
        return;
      }
      for (const auto& job : peer.uploads) {
        if (job.request_id == frame.request_id) {
          kill(peer, true);  // a request id still in use: broken or hostile peer
          return;
        }
      }
      stats_.requests_served++;
      peer.uploads.push_back({frame.request_id, frame.hashes[0], 0});
      return;
    }
    case wire_type::cancel:
      peer.uploads.erase(
          std::remove_if(peer.uploads.begin(), peer.uploads.end(),
                         [&](const upload_job& job) { return job.request_id == frame.request_id; }),
          peer.uploads.end());
      return;
    case wire_type::absent:
    case wire_type::data: {
      auto request = peer.requests.find(frame.request_id);
      if (request == peer.requests.end()) {
        if (peer.cancelled.count(frame.request_id)) return;  // in flight when we cancelled
        kill(peer, true);
        return;
      }
      uint64_t fetch_id = request->second;
      if (frame.type == wire_type::absent) {
        peer.requests.erase(request);
        complete(fetch_id, peer_fetch_status::absent, std::string());
        return;
      }
      fetch_state& fetch = fetches_.at(fetch_id);
      if (!fetch.assembler.add(frame)) {
        kill(peer, true);
        return;
      }
      stats_.bytes_downloaded += frame.payload_size;
      if (fetch.assembler.complete()) {
        peer.requests.erase(request);
        complete(fetch_id, peer_fetch_status::ok, fetch.assembler.take());
      }
      return;
    }
  }
}

void peer_swarm::complete(uint64_t fetch_id, peer_fetch_status status, std::string bytes) {
  auto it = fetches_.find(fetch_id);
  if (it == fetches_.end()) return;
  auto done = std::move(it->second.done);
  fetches_.erase(it);
  if (done) done(status, std::move(bytes));
}

void peer_swarm::kill(peer_state& peer, bool protocol_error) {
  if (peer.dead) return;
  if (protocol_error) stats_.protocol_errors++;
  peer.dead = true;
  peer.open = false;
  for (const auto& request : peer.requests) {
    deferred_.emplace_back(request.second, peer_fetch_status::failed);
  }
  peer.requests.clear();
  peer.uploads.clear();
  peer.connection->close();
}

std::vector<std::string> peer_swarm::peers_with(const content_hash& hash) const {
  std::vector<std::string> out;
  for (const auto& entry : peers_) {
    const peer_state& p = *entry.second;
    if (p.open && !p.dead && p.hello && p.remote_uploads && p.announced.count(hash)) {
      out.push_back(p.id);
    }
  }
  return out;
}

size_t peer_swarm::connected_peers() const {
  size_t n = 0;
  for (const auto& entry : peers_) {
    if (entry.second->open && !entry.second->dead && entry.second->hello) ++n;
  }
  return n;
}

std::vector<std::string> peer_swarm::connected_peer_ids() const {
  std::vector<std::string> out;
  for (const auto& entry : peers_) {
    if (entry.second->open && !entry.second->dead) out.push_back(entry.first);
  }
  return out;
}

std::string peer_swarm::peer_swarm_id(const std::string& peer_id) const {
  const peer_state* peer = find(peer_id);
  return peer ? peer->remote_swarm : std::string();
}

uint64_t peer_swarm::fetch(const std::string& peer_id, const content_hash& hash,
                           std::function<void(peer_fetch_status, std::string)> done) {
  uint64_t id = next_fetch_id_++;
  fetch_state fetch;
  fetch.peer = peer_id;
  fetch.hash = hash;
  fetch.done = std::move(done);
  peer_state* peer = find(peer_id);
  if (!peer || !peer->open) {
    fetches_.emplace(id, std::move(fetch));
    deferred_.emplace_back(id, peer_fetch_status::failed);
    return id;
  }
  uint32_t request_id = next_request_id_++;
  fetch.request_id = request_id;
  fetches_.emplace(id, std::move(fetch));
  peer->requests[request_id] = id;
  send(*peer, wire_request(request_id, hash));
  return id;
}

size_t peer_swarm::received(uint64_t id) const {
  auto it = fetches_.find(id);
  return it == fetches_.end() ? 0 : it->second.assembler.received();
}

size_t peer_swarm::total_size(uint64_t id) const {
  auto it = fetches_.find(id);
  return it == fetches_.end() ? 0 : it->second.assembler.total();
}

void peer_swarm::cancel(uint64_t id) {
  auto it = fetches_.find(id);
  if (it == fetches_.end()) return;
  peer_state* peer = find(it->second.peer);
  if (peer && peer->requests.erase(it->second.request_id)) {
    if (peer->cancelled.size() >= kMaxRememberedCancels)
      peer->cancelled.erase(peer->cancelled.begin());
    peer->cancelled.insert(it->second.request_id);
    send(*peer, wire_cancel(it->second.request_id));
  }
  fetches_.erase(it);
}

void peer_swarm::blacklist(const std::string& peer_id) {
  blacklist_.insert(peer_id);
  if (peer_state* peer = find(peer_id)) kill(*peer, false);
}

void peer_swarm::process() {
  std::vector<std::pair<uint64_t, peer_fetch_status>> deferred;
  deferred.swap(deferred_);
  for (const auto& d : deferred) complete(d.first, d.second, std::string());

  int64_t now = clock_.now_ms();
  if (config_.upload_bytes_per_second > 0) {
    upload_tokens_ =
        std::min(kUploadBurstBytes,
                 upload_tokens_ + config_.upload_bytes_per_second *
                                      static_cast<double>(now - last_refill_ms_) / 1000.0);
  }
  last_refill_ms_ = now;
  bool capped = config_.upload_bytes_per_second > 0;
  // Round-robin one chunk per peer at a time, so one greedy peer cannot starve others.
  std::vector<peer_state*> uploaders;
  for (auto& entry : peers_) {
    if (!entry.second->dead && entry.second->open && !entry.second->uploads.empty()) {
      uploaders.push_back(entry.second.get());
    }
  }
  bool progress = true;
  while (progress && !uploaders.empty() && (!capped || upload_tokens_ > 0) &&
         config_.uploads_enabled) {
    progress = false;
    for (size_t k = 0; k < uploaders.size(); ++k) {
      peer_state& peer = *uploaders[(upload_cursor_ + k) % uploaders.size()];
      if (peer.dead || peer.uploads.empty()) continue;
      if (peer.connection->buffered_amount() >= config_.send_high_watermark) continue;
      if (capped && upload_tokens_ <= 0) break;
      upload_job& job = peer.uploads.front();
      const std::string* bytes = store_.get(job.hash);
      if (!bytes) {
        // Evicted since the request: a started transfer cannot finish, tell the peer.
        send(peer, wire_absent(job.request_id));
        peer.uploads.pop_front();
        progress = true;
        continue;
      }
      size_t max_message = peer.connection->max_message_size();
      size_t chunk =
          std::min(wire_max_chunk,
                   max_message > wire_data_header ? max_message - wire_data_header : size_t{0});
      chunk = std::min(chunk, bytes->size() - job.offset);
      if (chunk == 0) {
        kill(peer, false);
        continue;
      }
      send(peer, wire_data(job.request_id, static_cast<uint32_t>(bytes->size()), job.offset,
                           reinterpret_cast<const uint8_t*>(bytes->data()) + job.offset, chunk));
      stats_.bytes_uploaded += chunk;
      if (capped) upload_tokens_ -= static_cast<double>(chunk);
      job.offset += static_cast<uint32_t>(chunk);
      if (job.offset >= bytes->size()) peer.uploads.pop_front();
      progress = true;
    }
    ++upload_cursor_;
  }

  for (auto it = peers_.begin(); it != peers_.end();) {
    if (it->second->dead) {
      it->second->connection->set_callbacks(peer_connection_callbacks());
      it = peers_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace p2p
