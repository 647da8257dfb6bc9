// The C API (include/p2p_client.h) over p2p::client. No exception crosses it.
#include <new>
#include <string>

#include "client/client.h"
#include "client/include/p2p_client.h"

struct p2p_client {
  explicit p2p_client(p2p::client_config config) : impl(std::move(config)) {}
  p2p::client impl;
  std::string state;
};

extern "C" {

void p2p_client_config_init(p2p_client_config* config) noexcept {
  if (!config) return;
  p2p::client_config defaults;
  config->library_version = nullptr;
  config->p2p_enabled = 1;
  config->uploads_enabled = 1;
  config->upload_bytes_per_second = static_cast<uint64_t>(defaults.upload_bytes_per_second);
  config->store_bytes = defaults.store_bytes;
  config->prefetch_items = defaults.prefetch_items;
  config->log = nullptr;
  config->log_user = nullptr;
}

p2p_client* p2p_client_create(const p2p_client_config* config) noexcept try {
  p2p_client_config defaults;
  p2p_client_config_init(&defaults);
  const p2p_client_config& c = config ? *config : defaults;
  if (c.store_bytes < 1024 * 1024 || c.prefetch_items < 0 || c.prefetch_items > 100) {
    return nullptr;
  }
  p2p::client_config cpp;
  if (c.library_version) cpp.library_version = c.library_version;
  cpp.p2p_enabled = c.p2p_enabled != 0;
  cpp.uploads_enabled = c.uploads_enabled != 0;
  cpp.upload_bytes_per_second = static_cast<double>(c.upload_bytes_per_second);
  cpp.store_bytes = static_cast<size_t>(c.store_bytes);
  cpp.prefetch_items = c.prefetch_items;
  if (c.log) {
    auto log = c.log;
    void* user = c.log_user;
    cpp.log = [log, user](const std::string& line) { log(user, line.c_str()); };
  }
  return new p2p_client(std::move(cpp));
} catch (...) {
  return nullptr;
}

void p2p_client_destroy(p2p_client* client) noexcept { delete client; }

uint64_t p2p_client_fetch(p2p_client* client, const char* url, int64_t range_offset,
                          int64_t range_length, int64_t deadline_ms, p2p_fetch_callback callback,
                          void* user) noexcept try {
  if (!client || !url || !callback || deadline_ms < 0) return 0;
  return client->impl.fetch(
      url, range_offset < 0 ? -1 : range_offset, range_offset < 0 ? -1 : range_length, deadline_ms,
      [callback, user](p2p::fetch_response response) {
        callback(user, response.status, reinterpret_cast<const uint8_t*>(response.bytes.data()),
                 response.bytes.size(), response.from_peers ? 1 : 0);
      });
} catch (...) {
  return 0;
}

void p2p_client_cancel(p2p_client* client, uint64_t request_id) noexcept try {
  if (client) client->impl.cancel(request_id);
} catch (...) {
}

void p2p_client_process(p2p_client* client, int timeout_ms) noexcept try {
  if (client) client->impl.process(timeout_ms < 0 ? 0 : timeout_ms);
} catch (...) {
}

void p2p_client_set_playhead(p2p_client* client, double seconds) noexcept try {
  if (client) client->impl.set_playhead(seconds);
} catch (...) {
}

void p2p_client_set_uploads_enabled(p2p_client* client, int enabled) noexcept try {
  if (client) client->impl.set_uploads_enabled(enabled != 0);
} catch (...) {
}

void p2p_client_report_stall(p2p_client* client, int64_t duration_ms) noexcept try {
  if (client) client->impl.report_stall(duration_ms);
} catch (...) {
}

void p2p_client_report_startup(p2p_client* client, int64_t startup_ms) noexcept try {
  if (client) client->impl.report_startup(startup_ms);
} catch (...) {
}

void p2p_client_get_stats(const p2p_client* client, p2p_client_stats* out) noexcept try {
  if (!client || !out) return;
  p2p::client_stats s = client->impl.stats();
  out->bytes_http = s.bytes_http;
  out->bytes_p2p = s.bytes_p2p;
  out->bytes_uploaded = s.bytes_uploaded;
  out->peers_connected = s.peers_connected;
  out->integrity_failures = s.integrity_failures;
  out->protocol_errors = s.protocol_errors;
  out->stalls = s.stalls;
  out->stall_ms = s.stall_ms;
  out->late_deliveries = s.late_deliveries;
} catch (...) {
}

const char* p2p_client_session_state(p2p_client* client) noexcept try {
  if (!client) return "";
  client->state = client->impl.stats().session_state;
  return client->state.c_str();
} catch (...) {
  return "";
}

}  // extern "C"
