/* C API of the peer-assisted delivery client library.
 *
 * One p2p_client per playback session. Everything runs on the thread that calls
 * p2p_client_process(): call all functions from that thread; callbacks run from inside
 * p2p_client_process(). Strings are UTF-8, copied by the library when it needs them.
 *
 * Minimal use:
 *   p2p_client_config config;
 *   p2p_client_config_init(&config);
 *   p2p_client* c = p2p_client_create(&config);
 *   p2p_client_fetch(c, "https://origin/movie/master.m3u8", -1, -1, 0, on_done, user);
 *   while (playing) p2p_client_process(c, 10);
 *   p2p_client_destroy(c);
 * Fetch the manifests through the client too: that is how it learns segment hashes and
 * the peer hints. Without hints (or when anything P2P fails) it is plain HTTP.
 */
#ifndef P2P_CLIENT_H
#define P2P_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define P2P_CLIENT_NOEXCEPT noexcept
extern "C" {
#else
#define P2P_CLIENT_NOEXCEPT
#endif

typedef struct p2p_client p2p_client;

typedef struct p2p_client_config {
  const char* library_version;      /* reported to the distributor; default "1.0.0" */
  int p2p_enabled;                  /* 0: HTTP only */
  int uploads_enabled;              /* 0 on cellular / metered networks */
  uint64_t upload_bytes_per_second; /* upload cap; 0: no cap */
  uint64_t store_bytes;             /* in-memory segment store size */
  int prefetch_items;               /* items asked from peers ahead of the player */
  /* Called with one line per notable event (session steps, failures); may be NULL. */
  void (*log)(void* user, const char* line);
  void* log_user;
} p2p_client_config;

typedef struct p2p_client_stats {
  uint64_t bytes_http;
  uint64_t bytes_p2p;
  uint64_t bytes_uploaded;
  uint32_t peers_connected;
  uint64_t integrity_failures; /* peer data that did not match the origin's SHA-256 */
  uint64_t protocol_errors;    /* malformed peer messages */
  uint64_t stalls;             /* as reported with p2p_client_report_stall */
  uint64_t stall_ms;
  uint64_t late_deliveries; /* items delivered after their deadline */
} p2p_client_stats;

/* status: HTTP status (200/206 on success), 0 on a network error. `data` is valid only
 * during the call. from_peers: 1 when the bytes came from peers (verified). */
typedef void (*p2p_fetch_callback)(void* user, int status, const uint8_t* data, size_t size,
                                   int from_peers);

/* Fills `config` with defaults (P2P on, uploads on, 4 MB/s cap, 128 MiB store). */
void p2p_client_config_init(p2p_client_config* config) P2P_CLIENT_NOEXCEPT;

/* NULL on failure (bad config, out of memory). */
p2p_client* p2p_client_create(const p2p_client_config* config) P2P_CLIENT_NOEXCEPT;
void p2p_client_destroy(p2p_client* client) P2P_CLIENT_NOEXCEPT;

/* Fetches a URL (manifest, segment, key...). range_offset < 0: whole resource;
 * range_length < 0 with an offset: to the end. deadline_ms: how soon the player needs
 * it (0: now). Returns a request id (never 0), or 0 on bad arguments. The callback runs
 * exactly once unless the request is cancelled. */
uint64_t p2p_client_fetch(p2p_client* client, const char* url, int64_t range_offset,
                          int64_t range_length, int64_t deadline_ms, p2p_fetch_callback callback,
                          void* user) P2P_CLIENT_NOEXCEPT;
void p2p_client_cancel(p2p_client* client, uint64_t request_id) P2P_CLIENT_NOEXCEPT;

/* Runs network work and callbacks, waiting at most timeout_ms. */
void p2p_client_process(p2p_client* client, int timeout_ms) P2P_CLIENT_NOEXCEPT;

/* Playback position (seconds on the playlist's timeline), for the store's eviction. */
void p2p_client_set_playhead(p2p_client* client, double seconds) P2P_CLIENT_NOEXCEPT;
void p2p_client_set_uploads_enabled(p2p_client* client, int enabled) P2P_CLIENT_NOEXCEPT;
void p2p_client_report_stall(p2p_client* client, int64_t duration_ms) P2P_CLIENT_NOEXCEPT;
void p2p_client_report_startup(p2p_client* client, int64_t startup_ms) P2P_CLIENT_NOEXCEPT;

void p2p_client_get_stats(const p2p_client* client, p2p_client_stats* out) P2P_CLIENT_NOEXCEPT;
/* Session state name ("idle", "running", "http_only", ...); valid until the next call
 * into the library. */
const char* p2p_client_session_state(p2p_client* client) P2P_CLIENT_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif /* P2P_CLIENT_H */
