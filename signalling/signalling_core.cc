#include "signalling/signalling_core.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "common/decimal.h"
#include "signalling/binary_string.h"
#include "signalling/json_scan.h"
#include "tracker/ticket.h"

namespace p2p {

using std::string_view_literals::operator""sv;

namespace {

struct reason_text {
  const char* code;     // native error code, metrics label
  const char* message;  // native error message and WebTorrent failure reason
};

const reason_text kReasons[] = {
    {"bad_json", "message is not a JSON object"},
    {"bad_message", "message is not valid"},
    {"forbidden_field", "the sender is the ticket's peer; 'from' is not allowed"},
    {"unknown_peer", "target peer is not connected in this swarm"},
    {"self_target", "target is the sender"},
    {"server_busy", "server busy"},
    {"ticket_missing", "ticket missing"},
    {"ticket_malformed", "ticket malformed"},
    {"ticket_bad_signature", "ticket signature invalid"},
    {"ticket_expired", "ticket expired"},
    {"replaced", "the same peer connected again"},
    {"message_too_large", "message too large"},
    {"binary_not_allowed", "binary frames not supported"},
    {"rate_limited", "rate limited"},
    {"too_many_connections", "too many connections"},
    {"swarm_full", "swarm full"},
    {"slow_reader", "outgoing queue full: the connection does not read"},
    {"idle_timeout", "idle timeout"},
    {"shutting_down", "server shutting down"},
    {"not_found", "no such endpoint"},
    {"origin_not_allowed", "origin not allowed"},
    {"peer_id_in_use", "peer_id in use"},
    {"invalid_request", "invalid request"},
};
static_assert(sizeof(kReasons) / sizeof(kReasons[0]) == static_cast<size_t>(reject_reason::count),
              "one text per reject reason");

const reason_text& text_of(reject_reason reason) { return kReasons[static_cast<size_t>(reason)]; }

bool origin_matches(std::string_view origin, std::string_view pattern) {
  if (pattern.size() > 2 && pattern.substr(0, 2) == "*.") {
    // "*.example.com" matches "https://a.example.com" (any scheme, any depth).
    std::string_view host = origin;
    size_t scheme = host.find("://");
    if (scheme != std::string_view::npos) host.remove_prefix(scheme + 3);
    size_t port = host.find(':');
    if (port != std::string_view::npos) host = host.substr(0, port);
    std::string_view suffix = pattern.substr(1);  // ".example.com"
    return host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix;
  }
  return origin == pattern;
}

constexpr size_t kMaxSessionChars = 64;
constexpr size_t kMaxReasonChars = 256;
// Frame buffer recycling: at most this many spare buffers, holding at most this many
// bytes together (beyond that a queued frame's buffer is freed).
constexpr size_t kMaxSpareFrames = 1024;
constexpr size_t kMaxSpareBytes = size_t{1} << 20;
// Room a fresh frame buffer starts with: most frames fit without growing.
constexpr size_t kFrameReserve = 512;
// An emptied outbox keeps its buffer up to this size (a larger one, after a burst, is
// freed at once); tick() frees every empty one once a second.
constexpr size_t kOutboxKeepBytes = 2048;
constexpr size_t kFrameHeaderBytes = 4;

}  // namespace

const char* reject_reason_code(reject_reason reason) { return text_of(reason).code; }

size_t wt_id_hash::operator()(const wt_id& id) const {
  uint64_t a;
  uint64_t b;
  uint32_t c;
  std::memcpy(&a, id.bytes.data(), sizeof(a));
  std::memcpy(&b, id.bytes.data() + 8, sizeof(b));
  std::memcpy(&c, id.bytes.data() + 16, sizeof(c));
  // Folded 64x64->128 multiplies of key-whitened words (as in wyhash).
  auto fold = [](uint64_t x, uint64_t y) {
    unsigned __int128 product = static_cast<unsigned __int128>(x) * y;
    return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
  };
  return static_cast<size_t>(fold(a ^ key[0], b ^ key[1]) ^ fold(c ^ key[2], key[3]));
}

signalling_core::signalling_core(signalling_settings settings, connection_sink* sink, uint64_t seed)
    : settings_(std::move(settings)), sink_(sink), rng_(seed) {
  std::mt19937_64 keys(seed ^ 0x9e3779b97f4a7c15ull);
  for (uint64_t& k : wt_hash_.key) k = keys();
  wt_hash_.key[3] |= uint64_t{1} << 63;  // never zero: it multiplies the last word
  wt_swarms_ = decltype(wt_swarms_)(16, wt_hash_);
}

signalling_core::wt_swarm signalling_core::new_wt_swarm() const {
  wt_swarm swarm;
  swarm.index = decltype(swarm.index)(8, wt_hash_);
  return swarm;
}

void signalling_core::reconfigure(signalling_settings settings) { settings_ = std::move(settings); }

signalling_core::connection* signalling_core::find(connection_id id) {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : &it->second;
}

const signalling_core::connection* signalling_core::find(connection_id id) const {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : &it->second;
}

bool signalling_core::over_memory(size_t extra) const {
  return queued_bytes_ + extra + connections_.size() * kConnectionMemoryEstimate >
         settings_.limits.max_memory_bytes;
}

signalling_core::connection& signalling_core::admit(connection_id id, std::string_view ip,
                                                    connection_kind kind, int64_t now_ms) {
  connection& c = connections_[id];
  c.kind = kind;
  c.ip = std::string(ip);
  c.tokens = settings_.limits.message_burst;
  c.refill_ms = now_ms;
  c.last_activity_ms = now_ms;
  ++connections_per_ip_[c.ip];
  ++connections_total_[static_cast<size_t>(kind)];
  return c;
}

bool signalling_core::admission_limits_ok(connection_id id, connection& c) {
  if (draining_) {
    refuse(id, c, reject_reason::shutting_down, close_code::going_away);
    return false;
  }
  if (connections_.size() > settings_.limits.max_connections || over_memory()) {
    refuse(id, c, reject_reason::server_busy, close_code::policy_violation);
    return false;
  }
  if (connections_per_ip_[c.ip] > settings_.limits.max_connections_per_ip) {
    refuse(id, c, reject_reason::too_many_connections, close_code::policy_violation);
    return false;
  }
  return true;
}

void signalling_core::open_native(connection_id id, std::string_view ip, std::string_view ticket,
                                  int64_t now_ms) {
  connection& c = admit(id, ip, connection_kind::native, now_ms);
  if (!admission_limits_ok(id, c)) return;
  ticket_claims claims;
  if (ticket.empty()) {
    refuse(id, c, reject_reason::ticket_missing, close_code::ticket_refused);
    return;
  }
  switch (ticket_verify(settings_.ticket_secret, ticket, now_ms / 1000,
                        settings_.ticket_skew_seconds, &claims)) {
    case ticket_status::ok:
      break;
    case ticket_status::malformed:
      refuse(id, c, reject_reason::ticket_malformed, close_code::ticket_refused);
      return;
    case ticket_status::bad_signature:
      refuse(id, c, reject_reason::ticket_bad_signature, close_code::ticket_refused);
      return;
    case ticket_status::expired:
      refuse(id, c, reject_reason::ticket_expired, close_code::ticket_refused);
      return;
  }
  auto& swarm = native_swarms_[claims.swarm_id];
  auto existing = swarm.find(claims.peer_id);
  if (existing != swarm.end()) {
    connection* old = find(existing->second);
    if (old != nullptr)
      refuse(existing->second, *old, reject_reason::replaced, close_code::replaced);
  } else if (swarm.size() >= settings_.limits.max_peers_per_swarm) {
    if (swarm.empty()) native_swarms_.erase(claims.swarm_id);
    refuse(id, c, reject_reason::swarm_full, close_code::policy_violation);
    return;
  }
  // `refuse` above may have erased an emptied swarm: look it up again.
  native_swarms_[claims.swarm_id][claims.peer_id] = id;
  ++native_peer_count_;
  c.peer_id = std::move(claims.peer_id);
  c.swarm_id = std::move(claims.swarm_id);

  std::string welcome;
  welcome += "{\"type\":\"welcome\",\"peer_id\":\"" + c.peer_id + "\",\"swarm_id\":\"" +
             c.swarm_id + "\",\"expiry\":" + std::to_string(claims.expiry) +
             ",\"ping_interval\":" + std::to_string(settings_.ping_interval_seconds) +
             ",\"idle_timeout\":" + std::to_string(settings_.idle_timeout_seconds) +
             ",\"max_message_bytes\":" + std::to_string(settings_.limits.max_message_bytes) + '}';
  enqueue(id, c, std::move(welcome));
}

void signalling_core::open_webtorrent(connection_id id, std::string_view ip,
                                      std::string_view origin, int64_t now_ms) {
  connection& c = admit(id, ip, connection_kind::webtorrent, now_ms);
  if (!admission_limits_ok(id, c)) return;
  if (!origin_allowed(origin)) {
    refuse(id, c, reject_reason::origin_not_allowed, close_code::policy_violation);
  }
}

void signalling_core::open_unknown_path(connection_id id, std::string_view ip, int64_t now_ms) {
  connection& c = admit(id, ip, connection_kind::refused, now_ms);
  refuse(id, c, reject_reason::not_found, close_code::policy_violation);
}

bool signalling_core::origin_allowed(std::string_view origin) const {
  if (origin.empty()) return !settings_.require_origin;
  for (const auto& pattern : settings_.origin_deny) {
    if (origin_matches(origin, pattern)) return false;
  }
  if (settings_.origin_allow.empty()) return true;
  for (const auto& pattern : settings_.origin_allow) {
    if (origin_matches(origin, pattern)) return true;
  }
  return false;
}

std::string signalling_core::new_frame() {
  std::string frame;
  if (!spare_buffers_.empty()) {
    frame = std::move(spare_buffers_.back());
    spare_buffers_.pop_back();
    spare_bytes_ -= frame.capacity();
  } else {
    frame.reserve(kFrameReserve);
  }
  frame.clear();
  return frame;
}

void signalling_core::recycle(std::string frame) {
  if (spare_buffers_.size() < kMaxSpareFrames &&
      spare_bytes_ + frame.capacity() <= kMaxSpareBytes) {
    spare_bytes_ += frame.capacity();
    spare_buffers_.push_back(std::move(frame));
  }
}

void signalling_core::push_frame(connection& c, std::string_view text) {
  auto length = static_cast<uint32_t>(text.size());  // max_message_bytes is below 2^24
  char header[kFrameHeaderBytes];
  std::memcpy(header, &length, sizeof(header));
  c.outbox.append(header, sizeof(header));
  c.outbox.append(text);
  ++c.outbox_frames;
  c.outbox_bytes += text.size();
  queued_bytes_ += text.size();
}

std::string_view signalling_core::front_frame(const connection& c) const {
  uint32_t length;
  std::memcpy(&length, c.outbox.data() + c.outbox_start, sizeof(length));
  return std::string_view(c.outbox).substr(c.outbox_start + kFrameHeaderBytes, length);
}

void signalling_core::pop_front_frame(connection& c) {
  size_t length = front_frame(c).size();
  c.outbox_start += kFrameHeaderBytes + length;
  --c.outbox_frames;
  c.outbox_bytes -= length;
  queued_bytes_ -= length;
  if (c.outbox_frames == 0) clear_outbox(c);
}

void signalling_core::clear_outbox(connection& c) {
  queued_bytes_ -= c.outbox_bytes;
  c.outbox_bytes = 0;
  c.outbox_frames = 0;
  c.outbox_start = 0;
  if (c.outbox.capacity() > kOutboxKeepBytes) {
    std::string().swap(c.outbox);
  } else {
    c.outbox.clear();
  }
}

bool signalling_core::enqueue(connection_id id, connection& c, std::string frame) {
  if (c.closing) {
    recycle(std::move(frame));
    return false;
  }
  if (c.outbox_frames + 1 > settings_.limits.max_queue_messages ||
      c.outbox_bytes + frame.size() > settings_.limits.max_queue_bytes) {
    recycle(std::move(frame));
    clear_outbox(c);
    refuse(id, c, reject_reason::slow_reader, close_code::policy_violation);
    return false;
  }
  bool was_empty = c.outbox_frames == 0;
  push_frame(c, frame);
  recycle(std::move(frame));
  if (was_empty) sink_->wants_write(id);
  if (c.outbox_frames * 2 > settings_.limits.max_queue_messages ||
      c.outbox_bytes * 2 > settings_.limits.max_queue_bytes) {
    sink_->queue_filling(id);
  }
  return true;
}

void signalling_core::refuse(connection_id id, connection& c, reject_reason reason,
                             close_code code) {
  if (c.closing) return;
  count_reject(reason);
  leave_routing(id, c);
  const reason_text& text = text_of(reason);
  std::string bytes;
  if (c.kind == connection_kind::webtorrent) {
    bytes += "{\"failure reason\":"sv;
    json_append_string(&bytes, text.message);
  } else {
    bytes += "{\"type\":\"error\",\"code\":\""sv;
    bytes += text.code;
    bytes += "\",\"message\":"sv;
    json_append_string(&bytes, text.message);
  }
  bytes += '}';
  bool was_empty = c.outbox_frames == 0;
  push_frame(c, bytes);
  c.closing = true;
  c.partial.clear();
  c.partial.shrink_to_fit();
  if (was_empty) sink_->wants_write(id);
  sink_->wants_close(id, code);
}

void signalling_core::leave_routing(connection_id id, connection& c) {
  if (!c.swarm_id.empty()) {
    auto swarm = native_swarms_.find(c.swarm_id);
    if (swarm != native_swarms_.end()) {
      auto peer = swarm->second.find(c.peer_id);
      if (peer != swarm->second.end() && peer->second == id) {
        swarm->second.erase(peer);
        --native_peer_count_;
      }
      if (swarm->second.empty()) native_swarms_.erase(swarm);
    }
    c.swarm_id.clear();
  }
  std::vector<wt_membership> memberships;
  memberships.swap(c.memberships);
  for (const auto& m : memberships) {
    auto swarm = wt_swarms_.find(m.info_hash);
    if (swarm == wt_swarms_.end()) continue;
    auto peer = swarm->second.index.find(m.peer_id);
    if (peer != swarm->second.index.end() && swarm->second.peers[peer->second].owner == id) {
      wt_remove_peer(m.info_hash, m.peer_id);
    }
  }
}

void signalling_core::wt_remove_peer(const wt_id& info_hash, const wt_id& peer_id) {
  auto swarm_it = wt_swarms_.find(info_hash);
  if (swarm_it == wt_swarms_.end()) return;
  wt_swarm& swarm = swarm_it->second;
  auto it = swarm.index.find(peer_id);
  if (it == swarm.index.end()) return;
  size_t position = it->second;
  if (swarm.peers[position].complete) {
    --swarm.complete;
  } else {
    --swarm.incomplete;
  }
  swarm.index.erase(it);
  if (position + 1 != swarm.peers.size()) {
    swarm.peers[position] = std::move(swarm.peers.back());
    swarm.index[swarm.peers[position].peer_id] = position;
  }
  swarm.peers.pop_back();
  --wt_peer_count_;
  if (swarm.peers.empty()) wt_swarms_.erase(swarm_it);
}

void signalling_core::on_fragment(connection_id id, std::string_view data, bool binary,
                                  bool final_fragment, int64_t now_ms) {
  connection* c = find(id);
  if (c == nullptr || c->closing) return;
  c->last_activity_ms = now_ms;
  if (binary || (c->partial_binary && !c->partial.empty())) {
    refuse(id, *c, reject_reason::binary_not_allowed, close_code::unsupported_data);
    return;
  }
  if (c->partial.size() + data.size() > settings_.limits.max_message_bytes) {
    refuse(id, *c, reject_reason::message_too_large, close_code::message_too_big);
    return;
  }
  if (!final_fragment) {
    c->partial.append(data);
    return;
  }
  // Rate accounting per whole message, token bucket refilled by elapsed time.
  const signalling_limits& limits = settings_.limits;
  double elapsed = static_cast<double>(std::max<int64_t>(0, now_ms - c->refill_ms)) / 1000.0;
  c->tokens = std::min(limits.message_burst, c->tokens + elapsed * limits.messages_per_second);
  c->refill_ms = now_ms;
  if (c->tokens < 1.0) {
    refuse(id, *c, reject_reason::rate_limited, close_code::policy_violation);
    return;
  }
  c->tokens -= 1.0;
  if (c->partial.empty()) {
    handle_message(id, *c, data, now_ms);
    return;
  }
  std::string whole = std::move(c->partial);
  c->partial = std::string();
  whole.append(data);
  handle_message(id, *c, whole, now_ms);
}

void signalling_core::on_activity(connection_id id, int64_t now_ms) {
  if (connection* c = find(id)) c->last_activity_ms = now_ms;
}

void signalling_core::handle_message(connection_id id, connection& c, std::string_view text,
                                     int64_t now_ms) {
  switch (c.kind) {
    case connection_kind::native:
      ++messages_received_[0];
      handle_native(id, c, text);
      break;
    case connection_kind::webtorrent:
      ++messages_received_[1];
      handle_webtorrent(id, c, text, now_ms);
      break;
    case connection_kind::refused:
      break;
  }
}

void signalling_core::native_error(connection_id id, connection& c, reject_reason reason,
                                   const char* message, std::string_view to) {
  count_reject(reason);
  std::string frame;
  frame += "{\"type\":\"error\",\"code\":\""sv;
  frame += text_of(reason).code;
  frame += "\",\"message\":"sv;
  json_append_string(&frame, message != nullptr ? message : text_of(reason).message);
  if (!to.empty()) {
    frame += ",\"to\":"sv;
    json_append_string(&frame, to);
  }
  frame += '}';
  enqueue(id, c, std::move(frame));
}

void signalling_core::handle_native(connection_id id, connection& c, std::string_view text) {
  json_object_text message;
  if (!message.parse(text)) {
    native_error(id, c, reject_reason::bad_json, nullptr, {});
    return;
  }
  const json_value_text* type = message.get("type");
  std::string kind;
  if (type == nullptr || type->kind != json_kind::string) {
    native_error(id, c, reject_reason::bad_message, "'type' must be a string", {});
    return;
  }
  json_string_value(type->raw, &kind);
  if (message.get("from") != nullptr) {
    native_error(id, c, reject_reason::forbidden_field, nullptr, {});
    return;
  }
  std::string scratch;
  auto short_string = [&](const json_value_text& value, size_t max_bytes) {
    return value.kind == json_kind::string && json_string_value(value.raw, &scratch) &&
           scratch.size() <= max_bytes;
  };
  if (kind == "ping"sv) {
    const json_value_text* ping_id = message.get("id");
    long long ignored;
    if (message.size() > (ping_id != nullptr ? 2u : 1u) ||
        (ping_id != nullptr &&
         !(ping_id->kind == json_kind::number && json_number_to_count(ping_id->raw, &ignored)) &&
         !short_string(*ping_id, kMaxSessionChars))) {
      native_error(id, c, reject_reason::bad_message, "ping takes only 'id'", {});
      return;
    }
    std::string frame;
    frame += "{\"type\":\"pong\""sv;
    if (ping_id != nullptr) {
      frame += ",\"id\":"sv;
      frame += ping_id->raw;
    }
    frame += '}';
    enqueue(id, c, std::move(frame));
    return;
  }
  const bool sdp_message = kind == "offer"sv || kind == "answer"sv;
  const bool candidate = kind == "candidate"sv;
  const bool bye = kind == "bye"sv;
  if (!sdp_message && !candidate && !bye) {
    native_error(id, c, reject_reason::bad_message, "unknown 'type'", {});
    return;
  }
  const json_value_text* to = message.get("to");
  std::string target;
  if (to == nullptr || to->kind != json_kind::string || !json_string_value(to->raw, &target) ||
      !ticket_id_valid(target)) {
    native_error(id, c, reject_reason::bad_message, "'to' must be a peer id", {});
    return;
  }
  // Every field is checked: nothing unvalidated is relayed.
  for (size_t i = 0; i < message.size(); ++i) {
    std::string_view field = message.key(i);
    const json_value_text& value = message.value(i);
    bool ok;
    long long number = 0;
    if (field == "type"sv || field == "to"sv) {
      ok = true;
    } else if (field == "session"sv) {
      ok = short_string(value, kMaxSessionChars);
    } else if (field == "sdp"sv) {
      ok = sdp_message && value.kind == json_kind::string;
    } else if (field == "candidate"sv) {
      ok = candidate && value.kind == json_kind::string;
    } else if (field == "sdp_mid"sv) {
      ok = candidate && short_string(value, kMaxSessionChars);
    } else if (field == "sdp_mline_index"sv) {
      ok = candidate && value.kind == json_kind::number &&
           json_number_to_count(value.raw, &number) && number <= 65535;
    } else if (field == "reason"sv) {
      ok = bye && short_string(value, kMaxReasonChars);
    } else {
      ok = false;
    }
    if (!ok) {
      std::string why = "field '" + std::string(field) + "' not allowed or ill-typed";
      native_error(id, c, reject_reason::bad_message, why.c_str(), target);
      return;
    }
  }
  if ((sdp_message && message.get("sdp") == nullptr) ||
      (candidate && message.get("candidate") == nullptr)) {
    native_error(id, c, reject_reason::bad_message, "required field missing", target);
    return;
  }
  if (target == c.peer_id) {
    native_error(id, c, reject_reason::self_target, nullptr, target);
    return;
  }
  auto swarm = native_swarms_.find(c.swarm_id);
  connection* peer = nullptr;
  connection_id peer_id = 0;
  if (swarm != native_swarms_.end()) {
    auto it = swarm->second.find(target);
    if (it != swarm->second.end()) {
      peer_id = it->second;
      peer = find(peer_id);
    }
  }
  if (peer == nullptr || peer->closing) {
    native_error(id, c, reject_reason::unknown_peer, nullptr, target);
    return;
  }
  if (over_memory(text.size())) {
    native_error(id, c, reject_reason::server_busy, nullptr, target);
    return;
  }
  // type, then the sender from the ticket, then the validated fields verbatim.
  std::string frame = new_frame();
  frame.reserve(text.size() + 80);
  frame += "{\"type\":"sv;
  frame += type->raw;
  frame += ",\"from\":"sv;
  json_append_string(&frame, c.peer_id);
  for (size_t i = 0; i < message.size(); ++i) {
    std::string_view field = message.key(i);
    if (field == "type"sv || field == "to"sv) continue;
    frame += ',';
    json_append_string(&frame, field);
    frame += ':';
    frame += message.value(i).raw;
  }
  frame += '}';
  if (!enqueue(peer_id, *peer, std::move(frame))) {
    native_error(id, c, reject_reason::unknown_peer, nullptr, target);
    return;
  }
  ++messages_relayed_[0];
}

void signalling_core::wt_failure(connection_id id, connection& c, const std::string& reason,
                                 const wt_id* info_hash, reject_reason counted_as) {
  count_reject(counted_as);
  std::string frame;
  frame += info_hash != nullptr ? "{\"action\":\"announce\",\"failure reason\":"
                                : "{\"failure reason\":";
  json_append_string(&frame, reason);
  if (info_hash != nullptr) {
    frame += ",\"info_hash\":"sv;
    json_append_string(&frame, binary_to_utf8(info_hash->view()));
  }
  frame += '}';
  enqueue(id, c, std::move(frame));
}

namespace {

// The JSON text of a binary id, given the literal it came in (validated by
// binary_id_member): the literal itself when it has no escapes, since re-encoding its bytes
// would give the same text; otherwise the canonical form.
void append_binary_literal(std::string* out, std::string_view raw, const wt_id& id) {
  if (raw.find('\\') == std::string_view::npos) {
    out->append(raw);
  } else {
    json_append_string(out, binary_to_utf8(id.view()));
  }
}

// A WebTorrent binary id member: a JSON string of exactly 20 characters U+0000..U+00FF.
// `utf8` is scratch.
bool binary_id_member(const json_value_text* value, wt_id* out, std::string* utf8,
                      std::string* bytes) {
  if (value == nullptr || value->kind != json_kind::string) return false;
  std::string_view raw = value->raw;
  // The common case, 20 printable ASCII characters: the bytes are the text.
  if (raw.size() == 22) {
    bool plain = true;
    for (size_t i = 1; i < 21; ++i) {
      auto byte = static_cast<unsigned char>(raw[i]);
      if (byte < 0x20 || byte == '\\' || byte >= 0x80) {
        plain = false;
        break;
      }
    }
    if (plain) {
      std::memcpy(out->bytes.data(), raw.data() + 1, out->bytes.size());
      return true;
    }
  }
  if (!json_string_value(raw, utf8) || !binary_from_utf8(*utf8, bytes) ||
      bytes->size() != out->bytes.size()) {
    return false;
  }
  std::memcpy(out->bytes.data(), bytes->data(), out->bytes.size());
  return true;
}

bool binary_id_member(const json_value_text* value, wt_id* out) {
  std::string utf8;
  std::string bytes;
  return binary_id_member(value, out, &utf8, &bytes);
}

void append_binary(std::string* out, const wt_id& id) {
  json_append_string(out, binary_to_utf8(id.view()));
}

void append_decimal(std::string* out, uint64_t value) { out->append(format_decimal(value).view()); }

// JavaScript truthiness, as bittorrent-tracker tests `params.answer`.
bool truthy(const json_value_text* value) {
  if (value == nullptr) return false;
  switch (value->kind) {
    case json_kind::null_value:
    case json_kind::false_value:
      return false;
    case json_kind::string:
      return value->raw != "\"\"";
    case json_kind::number:
      return !json_number_is_zero(value->raw);
    default:
      return true;
  }
}

}  // namespace

void signalling_core::handle_webtorrent(connection_id id, connection& c, std::string_view text,
                                        int64_t now_ms) {
  wt_scratch& scratch = wt_scratch_;
  json_object_text& message = scratch.message;
  if (!message.parse(text)) {
    wt_failure(id, c, "invalid JSON", nullptr);
    return;
  }
  const json_value_text* action = message.get("action");
  std::string action_name;
  if (action != nullptr && action->kind == json_kind::string) {
    json_string_value(action->raw, &action_name);
  }
  const int interval = settings_.webtorrent_interval_seconds;

  if (action_name == "scrape"sv) {
    ++wt_scrapes_;
    const json_value_text* hashes = message.get("info_hash");
    std::vector<wt_id> wanted;
    wt_id hash;
    if (hashes != nullptr && hashes->kind == json_kind::string) {
      if (!binary_id_member(hashes, &hash)) return wt_failure(id, c, "invalid info_hash", nullptr);
      wanted.push_back(hash);
    } else if (hashes != nullptr && hashes->kind == json_kind::array) {
      for (const auto& item : json_array_elements(hashes->raw)) {
        if (!binary_id_member(&item, &hash)) return wt_failure(id, c, "invalid info_hash", nullptr);
        if (wanted.size() < settings_.limits.max_scrape_hashes) wanted.push_back(hash);
      }
    } else {
      for (const auto& swarm : wt_swarms_) {
        if (wanted.size() >= settings_.limits.max_scrape_hashes) break;
        wanted.push_back(swarm.first);
      }
    }
    std::string frame;
    frame += "{\"action\":\"scrape\",\"files\":{"sv;
    bool first = true;
    std::vector<wt_id> listed;
    for (const auto& wanted_hash : wanted) {
      // A hash asked twice is one key, as in a JavaScript object.
      if (std::find(listed.begin(), listed.end(), wanted_hash) != listed.end()) continue;
      listed.push_back(wanted_hash);
      auto swarm = wt_swarms_.find(wanted_hash);
      uint64_t complete = swarm == wt_swarms_.end() ? 0 : swarm->second.complete;
      uint64_t incomplete = swarm == wt_swarms_.end() ? 0 : swarm->second.incomplete;
      uint64_t downloaded =
          swarm == wt_swarms_.end() ? 0 : std::max(swarm->second.downloaded, complete);
      if (!first) frame += ',';
      first = false;
      append_binary(&frame, wanted_hash);
      frame += ":{\"complete\":" + std::to_string(complete) +
               ",\"incomplete\":" + std::to_string(incomplete) +
               ",\"downloaded\":" + std::to_string(downloaded) + '}';
    }
    frame += "},\"flags\":{\"min_request_interval\":" + std::to_string(interval * 5) + "}}";
    enqueue(id, c, std::move(frame));
    return;
  }
  if (action_name != "announce"sv) {
    std::string what =
        action != nullptr && action->kind == json_kind::string ? action_name : "undefined";
    wt_failure(id, c, "invalid action in WS request: " + what, nullptr);
    return;
  }

  ++wt_announces_;
  wt_id& info_hash = scratch.info_hash;
  wt_id& peer_id = scratch.peer_id;
  wt_id& to_peer_id = scratch.to_peer_id;
  const json_value_text* info_hash_value = message.get("info_hash");
  const json_value_text* peer_id_value = message.get("peer_id");
  if (!binary_id_member(info_hash_value, &info_hash, &scratch.utf8, &scratch.bytes)) {
    return wt_failure(id, c, "invalid info_hash", nullptr);
  }
  if (!binary_id_member(peer_id_value, &peer_id, &scratch.utf8, &scratch.bytes)) {
    return wt_failure(id, c, "invalid peer_id", nullptr);
  }
  const json_value_text* answer = message.get("answer");
  const bool has_answer = truthy(answer);
  if (has_answer &&
      !binary_id_member(message.get("to_peer_id"), &to_peer_id, &scratch.utf8, &scratch.bytes)) {
    return wt_failure(id, c, "invalid `to_peer_id` (required with `answer`)", nullptr);
  }
  const json_value_text* left = message.get("left");
  const bool seeder =
      left != nullptr && ((left->kind == json_kind::number && json_number_is_zero(left->raw)) ||
                          (left->kind == json_kind::string && left->raw == "\"0\""));
  const json_value_text* event_value = message.get("event");
  std::string event;
  if (event_value != nullptr && event_value->kind == json_kind::string) {
    json_string_value(event_value->raw, &event);
  }
  if (event.empty() || event == "empty"sv) event = "update";
  if (event != "started"sv && event != "stopped"sv && event != "completed"sv &&
      event != "update"sv && event != "paused"sv) {
    return wt_failure(id, c, "invalid event", &info_hash);
  }

  auto swarm_it = wt_swarms_.find(info_hash);
  if (swarm_it != wt_swarms_.end()) {
    auto existing = swarm_it->second.index.find(peer_id);
    if (existing != swarm_it->second.index.end()) {
      connection_id owner = swarm_it->second.peers[existing->second].owner;
      if (owner != id) {
        connection* other = find(owner);
        if (other != nullptr && !other->closing) {
          return wt_failure(id, c, "peer_id in use", &info_hash, reject_reason::peer_id_in_use);
        }
        // A dead owner's entry: this connection takes it over.
        wt_remove_peer(info_hash, peer_id);
        swarm_it = wt_swarms_.find(info_hash);
      }
    }
  }

  if (event == "stopped"sv) {
    if (swarm_it != wt_swarms_.end() && swarm_it->second.index.count(peer_id) != 0) {
      wt_remove_peer(info_hash, peer_id);
      auto& list = c.memberships;
      list.erase(std::remove_if(list.begin(), list.end(),
                                [&](const wt_membership& m) {
                                  return m.info_hash == info_hash && m.peer_id == peer_id;
                                }),
                 list.end());
      swarm_it = wt_swarms_.find(info_hash);
    }
  } else {
    if (swarm_it == wt_swarms_.end())
      swarm_it = wt_swarms_.emplace(info_hash, new_wt_swarm()).first;
    wt_swarm& swarm = swarm_it->second;
    auto existing = swarm.index.find(peer_id);
    if (existing == swarm.index.end()) {
      if (swarm.peers.size() >= settings_.limits.max_peers_per_swarm) {
        if (swarm.peers.empty()) wt_swarms_.erase(swarm_it);
        refuse(id, c, reject_reason::swarm_full, close_code::policy_violation);
        return;
      }
      swarm.index.emplace(peer_id, swarm.peers.size());
      swarm.peers.push_back(wt_peer{peer_id, id, seeder, now_ms});
      if (seeder) {
        ++swarm.complete;
      } else {
        ++swarm.incomplete;
      }
      if (event == "completed"sv) ++swarm.downloaded;
      ++wt_peer_count_;
      c.memberships.push_back(wt_membership{info_hash, peer_id});
    } else {
      wt_peer& peer = swarm.peers[existing->second];
      peer.last_announce_ms = now_ms;
      if (!peer.complete && (seeder || event == "completed"sv)) {
        peer.complete = true;
        ++swarm.complete;
        --swarm.incomplete;
        if (event == "completed"sv) ++swarm.downloaded;
      }
    }
  }

  // The two ids as JSON text, shared by every frame below.
  std::string& peer_id_json = scratch.peer_id_json;
  peer_id_json.clear();
  append_binary_literal(&peer_id_json, peer_id_value->raw, peer_id);
  std::string& info_hash_json = scratch.info_hash_json;
  info_hash_json.clear();
  append_binary_literal(&info_hash_json, info_hash_value->raw, info_hash);

  if (!has_answer) {
    uint64_t complete = swarm_it == wt_swarms_.end() ? 0 : swarm_it->second.complete;
    uint64_t incomplete = swarm_it == wt_swarms_.end() ? 0 : swarm_it->second.incomplete;
    std::string frame = new_frame();
    frame += "{\"complete\":"sv;
    append_decimal(&frame, complete);
    frame += ",\"incomplete\":"sv;
    append_decimal(&frame, incomplete);
    frame += ",\"action\":\"announce\",\"info_hash\":"sv;
    frame += info_hash_json;
    frame += ",\"interval\":"sv;
    append_decimal(&frame, static_cast<uint64_t>(interval));
    frame += '}';
    if (!enqueue(id, c, std::move(frame))) return;
  }

  const json_value_text* offers = message.get("offers");
  if (offers != nullptr && offers->kind == json_kind::array && swarm_it != wt_swarms_.end()) {
    std::vector<json_value_text>& offer_list = scratch.offers;
    json_array_elements(offers->raw, &offer_list);
    size_t numwant = std::min(offer_list.size(), settings_.limits.max_offers);
    const json_value_text* numwant_value = message.get("numwant");
    long long asked = 0;
    if (numwant_value != nullptr && numwant_value->kind == json_kind::number &&
        json_number_to_count(numwant_value->raw, &asked)) {
      numwant = std::min(numwant, static_cast<size_t>(asked));
    }
    // Copy the targets first: enqueue may close a slow reader and reshape the swarm.
    std::vector<connection_id>& targets = scratch.targets;
    targets.clear();
    const auto& peers = swarm_it->second.peers;
    if (numwant > 0 && !peers.empty()) {
      size_t start = std::uniform_int_distribution<size_t>(0, peers.size() - 1)(rng_);
      for (size_t n = 0; n < peers.size() && targets.size() < numwant; ++n) {
        const wt_peer& peer = peers[(start + n) % peers.size()];
        if (peer.peer_id == peer_id) continue;
        targets.push_back(peer.owner);
      }
    }
    json_object_text& offer = scratch.offer;
    for (size_t i = 0; i < targets.size(); ++i) {
      connection* target = find(targets[i]);
      if (target == nullptr || target->closing || offer_list[i].kind != json_kind::object ||
          !offer.parse_validated(offer_list[i].raw)) {
        continue;
      }
      if (over_memory(text.size())) {
        count_reject(reject_reason::server_busy);
        break;
      }
      std::string frame = new_frame();
      frame.reserve(offer_list[i].raw.size() + 128);
      frame += "{\"action\":\"announce\""sv;
      if (const json_value_text* body = offer.get("offer")) {
        frame += ",\"offer\":"sv;
        frame += body->raw;
      }
      if (const json_value_text* offer_id = offer.get("offer_id")) {
        frame += ",\"offer_id\":"sv;
        frame += offer_id->raw;
      }
      frame += ",\"peer_id\":"sv;
      frame += peer_id_json;
      frame += ",\"info_hash\":"sv;
      frame += info_hash_json;
      frame += '}';
      if (enqueue(targets[i], *target, std::move(frame))) ++messages_relayed_[1];
    }
  }

  // Closing a slow reader above may have emptied and erased the swarm.
  swarm_it = wt_swarms_.find(info_hash);
  if (has_answer && swarm_it != wt_swarms_.end()) {
    auto to = swarm_it->second.index.find(to_peer_id);
    if (to == swarm_it->second.index.end()) return;  // bittorrent-tracker ignores it too
    connection_id target_id = swarm_it->second.peers[to->second].owner;
    connection* target = find(target_id);
    if (target == nullptr || target->closing) return;
    std::string frame = new_frame();
    frame.reserve(text.size() + 128);
    frame += "{\"action\":\"announce\",\"answer\":"sv;
    frame += answer->raw;
    if (const json_value_text* offer_id = message.get("offer_id")) {
      frame += ",\"offer_id\":"sv;
      frame += offer_id->raw;
    }
    frame += ",\"peer_id\":"sv;
    frame += peer_id_json;
    frame += ",\"info_hash\":"sv;
    frame += info_hash_json;
    frame += '}';
    if (enqueue(target_id, *target, std::move(frame))) ++messages_relayed_[1];
  }
}

void signalling_core::on_closed(connection_id id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  connection& c = it->second;
  leave_routing(id, c);
  clear_outbox(c);
  auto ip = connections_per_ip_.find(c.ip);
  if (ip != connections_per_ip_.end() && --ip->second == 0) connections_per_ip_.erase(ip);
  connections_.erase(it);
}

void signalling_core::tick(int64_t now_ms) {
  const int64_t idle_ms = int64_t{settings_.idle_timeout_seconds} * 1000;
  const int64_t ping_ms = int64_t{settings_.ping_interval_seconds} * 1000;
  std::vector<connection_id> idle;
  for (auto& [id, c] : connections_) {
    if (c.closing) continue;
    // An empty outbox gives its buffer back once a second: a busy connection allocates
    // again at that rate, an idle one keeps nothing from its last burst.
    if (c.outbox_frames == 0 && c.outbox.capacity() > std::string().capacity()) {
      std::string().swap(c.outbox);
    }
    if (now_ms - c.last_activity_ms > idle_ms) {
      idle.push_back(id);
    } else if (now_ms - std::max(c.last_activity_ms, c.last_ping_ms) >= ping_ms) {
      c.last_ping_ms = now_ms;
      sink_->wants_ping(id);
    }
  }
  for (connection_id id : idle) {
    refuse(id, connections_[id], reject_reason::idle_timeout, close_code::normal);
  }

  const int64_t expiry_ms = int64_t{settings_.webtorrent_interval_seconds} * 2000;
  std::vector<std::pair<wt_id, wt_peer>> expired;
  for (const auto& [hash, swarm] : wt_swarms_) {
    for (const auto& peer : swarm.peers) {
      if (now_ms - peer.last_announce_ms > expiry_ms) expired.emplace_back(hash, peer);
    }
  }
  for (const auto& entry : expired) {
    const wt_id& hash = entry.first;
    const wt_peer& peer = entry.second;
    wt_remove_peer(hash, peer.peer_id);
    ++wt_peers_expired_;
    if (connection* owner = find(peer.owner)) {
      auto& list = owner->memberships;
      list.erase(std::remove_if(list.begin(), list.end(),
                                [&](const wt_membership& m) {
                                  return m.info_hash == hash && m.peer_id == peer.peer_id;
                                }),
                 list.end());
    }
  }
}

void signalling_core::drain() {
  draining_ = true;
  std::vector<connection_id> open;
  for (const auto& [id, c] : connections_) {
    if (!c.closing) open.push_back(id);
  }
  for (connection_id id : open) {
    refuse(id, connections_[id], reject_reason::shutting_down, close_code::going_away);
  }
}

bool signalling_core::next_frame(connection_id id, std::string_view* frame) const {
  const connection* c = find(id);
  if (c == nullptr || c->outbox_frames == 0) return false;
  *frame = front_frame(*c);
  return true;
}

void signalling_core::pop_frame(connection_id id) {
  connection* c = find(id);
  if (c != nullptr && c->outbox_frames > 0) pop_front_frame(*c);
}

bool signalling_core::drain_frames(connection_id id, size_t max_bytes, frame_writer write,
                                   void* context) {
  connection* c = find(id);
  if (c == nullptr) return false;
  size_t handed = 0;
  while (c->outbox_frames > 0) {
    std::string_view frame = front_frame(*c);
    if (handed > 0 && handed + frame.size() > max_bytes) return true;
    write(frame, context);
    handed += frame.size();
    pop_front_frame(*c);
  }
  return false;
}

std::string signalling_core::metrics_text() const {
  size_t open[3] = {};
  for (const auto& entry : connections_) ++open[static_cast<size_t>(entry.second.kind)];
  std::string out;
  auto line = [&out](const std::string& text) {
    out += text;
    out += '\n';
  };
  auto num = [](uint64_t value) { return std::to_string(value); };
  line("# HELP signalling_connections Open WebSocket connections.");
  line("# TYPE signalling_connections gauge");
  line("signalling_connections{protocol=\"native\"} " + num(open[0]));
  line("signalling_connections{protocol=\"webtorrent\"} " + num(open[1]));
  line("signalling_connections{protocol=\"refused\"} " + num(open[2]));
  line("# HELP signalling_connections_total WebSocket connections accepted since start.");
  line("# TYPE signalling_connections_total counter");
  line("signalling_connections_total{protocol=\"native\"} " + num(connections_total_[0]));
  line("signalling_connections_total{protocol=\"webtorrent\"} " + num(connections_total_[1]));
  line("signalling_connections_total{protocol=\"refused\"} " + num(connections_total_[2]));
  line("# HELP signalling_swarms Swarms with at least one peer.");
  line("# TYPE signalling_swarms gauge");
  line("signalling_swarms{protocol=\"native\"} " + num(native_swarms_.size()));
  line("signalling_swarms{protocol=\"webtorrent\"} " + num(wt_swarms_.size()));
  line("# HELP signalling_peers Peers registered in swarms.");
  line("# TYPE signalling_peers gauge");
  line("signalling_peers{protocol=\"native\"} " + num(native_peer_count_));
  line("signalling_peers{protocol=\"webtorrent\"} " + num(wt_peer_count_));
  line("# HELP signalling_messages_received_total Complete messages received.");
  line("# TYPE signalling_messages_received_total counter");
  line("signalling_messages_received_total{protocol=\"native\"} " + num(messages_received_[0]));
  line("signalling_messages_received_total{protocol=\"webtorrent\"} " + num(messages_received_[1]));
  line("# HELP signalling_messages_relayed_total Messages relayed to another peer.");
  line("# TYPE signalling_messages_relayed_total counter");
  line("signalling_messages_relayed_total{protocol=\"native\"} " + num(messages_relayed_[0]));
  line("signalling_messages_relayed_total{protocol=\"webtorrent\"} " + num(messages_relayed_[1]));
  line("# HELP signalling_webtorrent_requests_total WebTorrent requests by action.");
  line("# TYPE signalling_webtorrent_requests_total counter");
  line("signalling_webtorrent_requests_total{action=\"announce\"} " + num(wt_announces_));
  line("signalling_webtorrent_requests_total{action=\"scrape\"} " + num(wt_scrapes_));
  line("# HELP signalling_webtorrent_peers_expired_total Peers dropped for not announcing.");
  line("# TYPE signalling_webtorrent_peers_expired_total counter");
  line("signalling_webtorrent_peers_expired_total " + num(wt_peers_expired_));
  line("# HELP signalling_queued_bytes Bytes waiting in outgoing queues.");
  line("# TYPE signalling_queued_bytes gauge");
  line("signalling_queued_bytes " + num(queued_bytes_));
  line("# HELP signalling_rejects_total Refused messages and connections by reason.");
  line("# TYPE signalling_rejects_total counter");
  for (size_t i = 0; i < static_cast<size_t>(reject_reason::count); ++i) {
    line(std::string("signalling_rejects_total{reason=\"") + kReasons[i].code + "\"} " +
         num(rejects_[i]));
  }
  return out;
}

}  // namespace p2p
