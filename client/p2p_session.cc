#include "client/p2p_session.h"

#include <jansson.h>

#include <algorithm>

#include "client/clock.h"
#include "client/dash_mpd.h"
#include "client/hls_playlist.h"
#include "client/peer_swarm.h"
#include "client/signalling_client.h"
#include "client/url.h"
#include "module/access/access_token.h"

namespace p2p {

namespace {

constexpr int64_t kFirstBackoffMs = 2000;
constexpr int64_t kMaxBackoffMs = 120000;
// After a failed credential renewal, or one that brought nothing usable.
constexpr int64_t kCredentialRetryMs = 10000;

std::string url_encode(const std::string& value) {
  static const char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 15]);
    }
  }
  return out;
}

// The JSON object in `body`, or nullptr (caller owns the reference).
json_t* parse_object(const std::string& body) {
  json_error_t error;
  json_t* root = json_loadb(body.data(), body.size(), 0, &error);
  if (root && !json_is_object(root)) {
    json_decref(root);
    return nullptr;
  }
  return root;
}

std::string string_member(json_t* object, const char* name) {
  const char* value = json_string_value(json_object_get(object, name));
  return value ? value : "";
}

int64_t integer_member(json_t* object, const char* name, int64_t fallback) {
  json_t* value = json_object_get(object, name);
  return json_is_integer(value) ? static_cast<int64_t>(json_integer_value(value)) : fallback;
}

std::string dump(json_t* object) {
  char* text = json_dumps(object, JSON_COMPACT);
  std::string out = text ? text : "{}";
  free(text);
  json_decref(object);
  return out;
}

std::string join(const std::string& base, const char* action) {
  if (!base.empty() && base.back() == '/') return base + action;
  return base + "/" + action;
}

}  // namespace

p2p_session::p2p_session(const client_config& config, curl_http_client& http,
                         const clock_source& clock, segment_store& store, scheduler& sched)
    : config_(config),
      http_(http),
      clock_(clock),
      store_(store),
      scheduler_(sched),
      rng_(std::random_device{}()) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  for (int i = 0; i < 16; ++i) session_key_.push_back(alphabet[rng_() % 62]);
}

p2p_session::~p2p_session() {
  scheduler_.set_peer_source(nullptr);
  swarm_.reset();
  transport_.reset();
  signalling_.reset();
}

void p2p_session::log(const std::string& line) const {
  if (config_.log) config_.log("session: " + line);
}

std::string p2p_session::state_name() const {
  switch (state_) {
    case state::idle:
      return "idle";
    case state::distributor:
      return "distributor";
    case state::init:
      return "init";
    case state::running:
      return signalling_ && signalling_->connected() ? "running" : "running-no-signalling";
    case state::http_only:
      return "http_only";
    case state::disabled:
      return "disabled";
  }
  return "unknown";
}

uint64_t p2p_session::bytes_uploaded() const {
  return uploaded_before_ + (swarm_ ? swarm_->stats().bytes_uploaded : 0);
}

size_t p2p_session::peers_connected() const { return swarm_ ? swarm_->connected_peers() : 0; }

uint64_t p2p_session::protocol_errors() const {
  return protocol_errors_before_ + (swarm_ ? swarm_->stats().protocol_errors : 0);
}

void p2p_session::on_hints(const session_hints& hints, const std::string& manifest_url) {
  if (have_hints_) {
    // A manifest fetched again (a live MPD, our own refresh): only the credential may
    // move; the rest of the session stays as it started.
    if (!hints.credential.empty() && hints.credential != hints_.credential)
      set_credential(hints.credential);
    return;
  }
  hints_ = hints;
  have_hints_ = true;
  manifest_url_ = manifest_url;
  if (!hints_.credential.empty()) set_credential(hints_.credential);
  // The master's swarm is only the base id: the session starts in the swarm of the
  // rendition actually played (on_swarm), so that its ticket admits it to the signalling
  // of the peers watching the same bytes.
  if (state_ == state::idle) start();
}

void p2p_session::on_swarm(const std::string& swarm_id) {
  if (swarm_id.empty() || swarm_id == swarm_id_) return;
  swarm_id_ = swarm_id;
  if (swarm_) swarm_->set_swarm(swarm_id_);
  if (state_ == state::running) {
    track_pending_ = true;
  } else if (state_ == state::idle && have_hints_) {
    start();
  }
}

void p2p_session::on_stall(int64_t ms) {
  stalls_++;
  stall_ms_ += static_cast<uint64_t>(std::max<int64_t>(0, ms));
}

void p2p_session::on_startup(int64_t ms) { startup_ms_ = ms; }

void p2p_session::set_uploads_enabled(bool enabled) {
  if (swarm_) swarm_->set_uploads_enabled(enabled);
}

void p2p_session::start() {
  if (!have_hints_ || swarm_id_.empty()) return;
  if (hints_.customer_id.empty() || (hints_.tracker.empty() && hints_.distributor.empty())) {
    state_ = state::disabled;
    log("hints lack customer or tracker: HTTP only");
    return;
  }
  tracker_url_ = hints_.tracker;
  signalling_url_ = hints_.signalling;
  analytics_url_ = hints_.analytics;
  if (!hints_.distributor.empty()) {
    request_distributor();
  } else {
    request_init();
  }
}

void p2p_session::fail(const std::string& why) {
  request_running_ = false;
  failures_++;
  int64_t backoff = std::min(kMaxBackoffMs, kFirstBackoffMs << std::min(failures_ - 1, 10));
  backoff += static_cast<int64_t>(rng_() % static_cast<uint32_t>(backoff / 2 + 1));
  retry_at_ms_ = clock_.now_ms() + backoff;
  state_ = state::http_only;
  log(why + "; HTTP only, retry in " + std::to_string(backoff) + " ms");
  // Connected peers keep serving and being served; new ones come after the retry.
}

void p2p_session::set_credential(const std::string& credential) {
  hints_.credential = credential;
  if (signalling_) signalling_->set_header("X-P2P-Credential", credential);
  session_credential_claims claims;
  const int64_t now_s = unix_now_ms() / 1000;
  if (!read_session_credential_claims(credential, &claims) || claims.expires <= now_s) {
    // Unreadable or already expired: the endpoints will say; try the manifest in a while.
    credential_refresh_ms_ = clock_.now_ms() + kCredentialRetryMs;
    return;
  }
  // Renew when a quarter of what is left remains (at least 10 s, at most 2 min before).
  const int64_t left_ms = (claims.expires - now_s) * 1000;
  const int64_t margin_ms = std::clamp<int64_t>(left_ms / 4, 10000, 120000);
  credential_refresh_ms_ = clock_.now_ms() + std::max<int64_t>(left_ms - margin_ms, 1000);
}

void p2p_session::refresh_credential() {
  if (manifest_url_.empty()) return;
  credential_refreshing_ = true;
  http_request request;
  request.url = manifest_url_;
  request.timeout_ms = 5000;
  request.max_body_bytes = 4 * 1024 * 1024;
  http_.start(request, [this](http_response response) {
    credential_refreshing_ = false;
    credential_refresh_ms_ = clock_.now_ms() + kCredentialRetryMs;  // unless renewed below
    if (!response.ok) {
      log("manifest for a new credential answered " + std::to_string(response.status));
      return;
    }
    session_hints fresh;
    manifest_limits limits;
    if (hls_is_master(response.body)) {
      hls_master_playlist master;
      if (hls_parse_master(response.body, manifest_url_, limits, &master) == manifest_status::ok)
        fresh = master.hints;
    } else {
      dash_mpd mpd;
      dash_options options;
      options.now_unix_ms = unix_now_ms();
      if (dash_parse(response.body, manifest_url_, limits, options, &mpd) == manifest_status::ok)
        fresh = mpd.hints;
    }
    if (fresh.credential.empty()) {
      log("manifest fetched again carries no credential");
      return;
    }
    set_credential(fresh.credential);
    log("session credential renewed");
  });
}

void p2p_session::credential_refused(int status) {
  // 401/403 from an endpoint behind p2p_session_require: renew before the retry.
  if ((status == 401 || status == 403) && !hints_.credential.empty() && !credential_refreshing_)
    credential_refresh_ms_ = clock_.now_ms();
}

void p2p_session::post_json(const std::string& url, const std::string& body,
                            std::function<void(http_response)> done) {
  http_request request;
  request.method = "POST";
  request.url = url;
  request.body = body;
  request.content_type = "application/json";
  request.timeout_ms = 5000;
  request.max_body_bytes = 64 * 1024;
  if (!hints_.credential.empty()) {
    request.headers.push_back("X-P2P-Credential: " + hints_.credential);
  }
  http_.start(request, std::move(done));
}

void p2p_session::request_distributor() {
  state_ = state::distributor;
  request_running_ = true;
  http_request request;
  request.url =
      hints_.distributor + (hints_.distributor.find('?') == std::string::npos ? "?" : "&") +
      "customer=" + url_encode(hints_.customer_id) +
      "&content=" + url_encode(hints_.content_id.empty() ? swarm_id_ : hints_.content_id) +
      "&version=" + url_encode(config_.library_version) + "&session=" + session_key_;
  request.timeout_ms = 5000;
  request.max_body_bytes = 64 * 1024;
  if (!hints_.credential.empty()) {
    request.headers.push_back("X-P2P-Credential: " + hints_.credential);
  }
  http_.start(request, [this](http_response response) {
    request_running_ = false;
    if (!response.ok) {
      credential_refused(response.status);
      return fail("distributor answered " + std::to_string(response.status));
    }
    json_t* root = parse_object(response.body);
    if (!root) return fail("distributor answer is not JSON");
    bool enabled = json_is_true(json_object_get(root, "p2p"));
    std::string reason = string_member(root, "reason");
    int64_t ttl = integer_member(root, "ttl", 300);
    if (!enabled) {
      json_decref(root);
      state_ = state::http_only;
      retry_at_ms_ = clock_.now_ms() + std::clamp<int64_t>(ttl, 30, 3600) * 1000;
      log("distributor says p2p off (" + reason + ")");
      return;
    }
    auto url_or = [&](const char* name, const std::string& fallback) {
      std::string value = string_member(root, name);
      return value.empty() ? fallback : url_resolve(hints_.distributor, value);
    };
    tracker_url_ = url_or("tracker_url", tracker_url_);
    signalling_url_ = url_or("signalling_url", signalling_url_);
    analytics_url_ = url_or("analytics_url", analytics_url_);
    if (json_t* tuning = json_object_get(root, "tuning")) {
      tuning_.announce_interval_ms =
          std::clamp<int64_t>(integer_member(tuning, "announce_interval", 30), 5, 600) * 1000;
      tuning_.usage_interval_ms =
          std::clamp<int64_t>(integer_member(tuning, "usage_interval", 10), 2, 600) * 1000;
      tuning_.stats_interval_ms =
          std::clamp<int64_t>(integer_member(tuning, "stats_interval", 120), 10, 3600) * 1000;
      tuning_.control_interval_ms =
          std::clamp<int64_t>(integer_member(tuning, "control_interval", 600), 10, 86400) * 1000;
      int64_t deadline = integer_member(tuning, "http_deadline_ms", 0);
      if (deadline > 0) scheduler_.set_safety_window_ms(std::clamp<int64_t>(deadline, 500, 30000));
      tuning_.max_peers =
          static_cast<size_t>(std::clamp<int64_t>(integer_member(tuning, "max_peers", 20), 0, 100));
    }
    json_decref(root);
    if (tracker_url_.empty()) return fail("no tracker URL");
    request_init();
  });
}

void p2p_session::request_init() {
  state_ = state::init;
  request_running_ = true;
  json_t* body = json_object();
  json_object_set_new(body, "swarm", json_string(swarm_id_.c_str()));
  json_object_set_new(body, "customer", json_string(hints_.customer_id.c_str()));
  json_object_set_new(body, "protocol", json_integer(1));
  json_object_set_new(body, "network",
                      json_string(config_.uploads_enabled ? "unknown" : "cellular"));
  json_object_set_new(
      body, "upload_kbps",
      json_integer(static_cast<json_int_t>(config_.upload_bytes_per_second * 8 / 1000)));
  post_json(join(tracker_url_, "init"), dump(body), [this](http_response response) {
    request_running_ = false;
    if (!response.ok) {
      credential_refused(response.status);
      return fail("tracker init answered " + std::to_string(response.status));
    }
    json_t* root = parse_object(response.body);
    if (!root) return fail("tracker init answer is not JSON");
    peer_id_ = string_member(root, "peer_id");
    ticket_ = string_member(root, "ticket");
    tuning_.announce_interval_ms =
        std::clamp<int64_t>(integer_member(root, "announce_interval", 30), 5, 600) * 1000;
    json_decref(root);
    if (peer_id_.empty() || ticket_.empty()) return fail("tracker init without peer id or ticket");
    ticket_swarm_id_ = swarm_id_;
    failures_ = 0;
    state_ = state::running;
    log("joined swarm " + swarm_id_ + " as " + peer_id_);
    int64_t now = clock_.now_ms();
    next_peers_ms_ = now;
    next_usage_ms_ = now + tuning_.usage_interval_ms;
    next_stats_ms_ = now + tuning_.stats_interval_ms;
    next_control_ms_ = now + tuning_.control_interval_ms;
    track_pending_ = swarm_id_ != ticket_swarm_id_;
    connect_signalling();
  });
}

void p2p_session::connect_signalling() {
  signalling_.reset();
  if (signalling_url_.empty()) return;
  std::string url = signalling_url_;
  // The hint names the endpoint; the native protocol lives at /v1/signal below it unless
  // the hint already points there.
  if (url.find("/v1/signal") == std::string::npos) url = join(url, "v1/signal");
  url += (url.find('?') == std::string::npos ? "?ticket=" : "&ticket=") + ticket_;
  signalling_client::callbacks cb;
  cb.on_welcome = [this](const std::string&) {
    signalling_failures_ = 0;
    log("signalling connected");
    if (!transport_ && config_.transport_factory) {
      transport_ = config_.transport_factory(*this);
      if (transport_) {
        peer_swarm_config swarm_config;
        swarm_config.local_peer_id = peer_id_;
        swarm_config.uploads_enabled = config_.uploads_enabled;
        swarm_config.upload_bytes_per_second = config_.upload_bytes_per_second;
        swarm_config.max_peers = tuning_.max_peers;
        swarm_ = std::make_unique<peer_swarm>(*transport_, store_, clock_, swarm_config, swarm_id_);
        scheduler_.set_peer_source(swarm_.get());
      }
    }
    // A peers answer that came before this welcome found no swarm to connect into: ask
    // the tracker again now rather than at the next interval.
    next_peers_ms_ = clock_.now_ms();
  };
  cb.on_message = [this](const std::string& from, const std::string& payload) {
    if (transport_) transport_->on_signal(from, payload);
  };
  cb.on_closed = [this](const std::string& reason) {
    signalling_failures_++;
    int64_t backoff =
        std::min(kMaxBackoffMs, kFirstBackoffMs << std::min(signalling_failures_ - 1, 10));
    signalling_retry_ms_ = clock_.now_ms() + backoff;
    log("signalling lost (" + reason + "), reconnect in " + std::to_string(backoff) + " ms");
  };
  signalling_ = std::make_unique<signalling_client>(cb);
  if (!hints_.credential.empty()) signalling_->set_header("X-P2P-Credential", hints_.credential);
  signalling_retry_ms_ = 0;
  if (!signalling_->connect(url)) {
    signalling_failures_++;
    signalling_retry_ms_ = clock_.now_ms() + kFirstBackoffMs * signalling_failures_;
    log("signalling URL unusable: " + signalling_url_);
  }
}

void p2p_session::send_signal(const std::string& remote_peer_id, const std::string& payload) {
  if (signalling_) signalling_->send_to(remote_peer_id, payload);
}

void p2p_session::request_peers() {
  request_running_ = true;
  json_t* body = json_object();
  json_object_set_new(body, "ticket", json_string(ticket_.c_str()));
  json_object_set_new(body, "numwant", json_integer(static_cast<json_int_t>(tuning_.max_peers)));
  json_object_set_new(body, "customer", json_string(hints_.customer_id.c_str()));
  post_json(join(tracker_url_, "peers"), dump(body), [this](http_response response) {
    request_running_ = false;
    if (!response.ok) {
      // 401 with a JSON error is the tracker's own (the ticket); a refusal in front of
      // it (p2p_session_require) is about the credential.
      if (response.status == 401) ticket_.clear();
      credential_refused(response.status);
      return fail("tracker peers answered " + std::to_string(response.status));
    }
    json_t* root = parse_object(response.body);
    if (!root) return fail("tracker peers answer is not JSON");
    std::string renewed = string_member(root, "ticket");
    if (!renewed.empty()) ticket_ = renewed;
    int64_t interval = std::clamp<int64_t>(integer_member(root, "interval", 30), 5, 600) * 1000;
    next_peers_ms_ = clock_.now_ms() + interval;
    json_t* peers = json_object_get(root, "peers");
    size_t index;
    json_t* peer;
    if (swarm_ && json_is_array(peers)) {
      json_array_foreach(peers, index, peer) {
        std::string id = string_member(peer, "peer_id");
        if (!id.empty()) swarm_->connect(id);
      }
    }
    json_decref(root);
  });
}

void p2p_session::request_track() {
  request_running_ = true;
  track_pending_ = false;
  std::string target = swarm_id_;
  json_t* body = json_object();
  json_object_set_new(body, "ticket", json_string(ticket_.c_str()));
  json_object_set_new(body, "swarm", json_string(target.c_str()));
  post_json(join(tracker_url_, "track"), dump(body), [this, target](http_response response) {
    request_running_ = false;
    if (!response.ok) {
      credential_refused(response.status);
      return fail("tracker track answered " + std::to_string(response.status));
    }
    json_t* root = parse_object(response.body);
    if (!root) return fail("tracker track answer is not JSON");
    std::string renewed = string_member(root, "ticket");
    json_decref(root);
    if (renewed.empty()) return fail("tracker track without ticket");
    ticket_ = renewed;
    ticket_swarm_id_ = target;
    next_peers_ms_ = clock_.now_ms();
    log("moved to swarm " + target);
    // Signalling admits a connection to the ticket's swarm only: reconnect with the new
    // ticket. Established peer connections are not affected.
    connect_signalling();
  });
}

void p2p_session::report_usage() {
  if (analytics_url_.empty()) return;
  const scheduler_stats& s = scheduler_.stats();
  uint64_t uploaded = bytes_uploaded();
  json_t* body = json_object();
  json_object_set_new(body, "customer", json_string(hints_.customer_id.c_str()));
  json_object_set_new(
      body, "content",
      json_string((hints_.content_id.empty() ? swarm_id_ : hints_.content_id).c_str()));
  if (!peer_id_.empty()) json_object_set_new(body, "peer_id", json_string(peer_id_.c_str()));
  json_object_set_new(body, "http_bytes",
                      json_integer(static_cast<json_int_t>(s.bytes_http - reported_http_)));
  json_object_set_new(body, "p2p_bytes",
                      json_integer(static_cast<json_int_t>(s.bytes_p2p - reported_p2p_)));
  json_object_set_new(body, "p2p_upload_bytes",
                      json_integer(static_cast<json_int_t>(uploaded - reported_upload_)));
  reported_http_ = s.bytes_http;
  reported_p2p_ = s.bytes_p2p;
  reported_upload_ = uploaded;
  post_json(join(analytics_url_, "usage"), dump(body), [](http_response) {});
}

void p2p_session::report_stats() {
  if (analytics_url_.empty()) return;
  json_t* body = json_object();
  json_object_set_new(body, "customer", json_string(hints_.customer_id.c_str()));
  json_object_set_new(
      body, "content",
      json_string((hints_.content_id.empty() ? swarm_id_ : hints_.content_id).c_str()));
  if (!peer_id_.empty()) json_object_set_new(body, "peer_id", json_string(peer_id_.c_str()));
  json_object_set_new(body, "rebuffer_count",
                      json_integer(static_cast<json_int_t>(std::min<uint64_t>(stalls_, 1000000))));
  json_object_set_new(
      body, "rebuffer_ms",
      json_integer(static_cast<json_int_t>(std::min<uint64_t>(stall_ms_, 86400000))));
  if (startup_ms_ >= 0 && !startup_reported_) {
    json_object_set_new(body, "startup_ms", json_integer(std::min<int64_t>(startup_ms_, 600000)));
    startup_reported_ = true;
  }
  json_object_set_new(body, "peers", json_integer(static_cast<json_int_t>(peers_connected())));
  stalls_ = 0;
  stall_ms_ = 0;
  post_json(join(analytics_url_, "stats"), dump(body), [](http_response) {});
}

void p2p_session::report_control() {
  if (analytics_url_.empty()) return;
  uint64_t integrity = scheduler_.stats().integrity_failures;
  uint64_t protocol = protocol_errors();
  json_t* body = json_object();
  json_object_set_new(body, "customer", json_string(hints_.customer_id.c_str()));
  json_object_set_new(
      body, "content",
      json_string((hints_.content_id.empty() ? swarm_id_ : hints_.content_id).c_str()));
  if (!peer_id_.empty()) json_object_set_new(body, "peer_id", json_string(peer_id_.c_str()));
  json_object_set_new(body, "checksum_failures",
                      json_integer(static_cast<json_int_t>(integrity - reported_integrity_)));
  json_object_set_new(body, "protocol_errors",
                      json_integer(static_cast<json_int_t>(protocol - reported_protocol_)));
  reported_integrity_ = integrity;
  reported_protocol_ = protocol;
  post_json(join(analytics_url_, "control"), dump(body), [](http_response) {});
}

void p2p_session::process() {
  int64_t now = clock_.now_ms();
  if (credential_refresh_ms_ != 0 && now >= credential_refresh_ms_ && !credential_refreshing_)
    refresh_credential();
  if (signalling_) signalling_->process();
  if (transport_) transport_->process(0);
  if (swarm_) swarm_->process();
  if (state_ == state::http_only && now >= retry_at_ms_ && !request_running_) {
    if (ticket_.empty() || peer_id_.empty()) {
      start();
    } else {
      state_ = state::running;  // the ticket is still good: resume announcing
      next_peers_ms_ = now;
    }
    return;
  }
  if (state_ != state::running) return;
  if (signalling_ && !signalling_->connected() && signalling_retry_ms_ != 0 &&
      now >= signalling_retry_ms_) {
    connect_signalling();
  }
  if (!request_running_) {
    if (track_pending_) {
      request_track();
    } else if (now >= next_peers_ms_) {
      request_peers();
    }
  }
  // Analytics never changes the session state: a lost report is just lost.
  if (now >= next_usage_ms_) {
    next_usage_ms_ = now + tuning_.usage_interval_ms;
    report_usage();
  }
  if (now >= next_stats_ms_) {
    next_stats_ms_ = now + tuning_.stats_interval_ms;
    report_stats();
  }
  if (now >= next_control_ms_) {
    next_control_ms_ = now + tuning_.control_interval_ms;
    report_control();
  }
}

}  // namespace p2p
