// Client reports (usage, stats, control) aggregated per (customer, content) in one
// fixed-size caller-provided memory block, like swarm_registry: an nginx shm zone
// shared by all workers and locked by the caller, kept across `nginx -s reload`.
// Rendered as Prometheus text and JSON. Contract in README.md ("Analytics").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tracker/block_lock.h"
#include "tracker/json_request.h"

namespace p2p {

constexpr size_t kAnalyticsIdMax = 64;

enum class report_kind { usage, stats, control };

// One validated report. Absent optional members are 0 (and `has_startup` false).
struct analytics_report {
  report_kind kind = report_kind::usage;
  std::string customer;
  std::string content;
  uint64_t http_bytes = 0;
  uint64_t p2p_bytes = 0;
  uint64_t p2p_upload_bytes = 0;
  uint64_t rebuffer_count = 0;
  uint64_t rebuffer_ms = 0;
  bool has_startup = false;
  uint64_t startup_ms = 0;
  uint64_t peers = 0;
  uint64_t checksum_failures = 0;
  uint64_t protocol_errors = 0;
};

// `action` is "usage", "stats" or "control".
bool parse_analytics_report(std::string_view action, std::string_view body, const json_caps& caps,
                            analytics_report* out, api_error* error);

struct analytics_row {
  std::string customer;
  std::string content;
  uint64_t http_bytes = 0;
  uint64_t p2p_bytes = 0;
  uint64_t p2p_upload_bytes = 0;
  uint64_t usage_reports = 0;
  uint64_t rebuffer_count = 0;
  uint64_t rebuffer_ms = 0;
  uint64_t startup_ms_sum = 0;
  uint64_t startup_reports = 0;
  uint64_t stats_reports = 0;
  uint64_t peers_sum = 0;
  uint64_t checksum_failures = 0;
  uint64_t protocol_errors = 0;
  uint64_t control_reports = 0;

  // p2p / (p2p + http), 0 when nothing was transferred.
  double peer_efficiency() const;
};

struct analytics_snapshot {
  std::vector<analytics_row> rows;  // overflow row last, only if used
  uint64_t rejected_reports = 0;
  uint32_t capacity = 0;
  uint32_t used = 0;
};

class analytics_store {
 public:
  static size_t min_block_size();

  // As swarm_registry::attach: formats unless the block already holds a store of this
  // layout and size (then `*reused`).
  bool attach(void* block, size_t size, uint64_t hash_seed, bool* reused);

  // As swarm_registry::open: binds to an attached block, never formats.
  bool open(void* block, size_t size);

  // Adds a report to its row; a new (customer, content) when the store is full goes
  // to the `_overflow` row so totals stay right.
  void add(const analytics_report& report);
  void count_rejected();
  analytics_snapshot snapshot() const;

 private:
  struct header;
  struct row_record;
  row_record* rows() const;
  uint32_t* buckets() const;
  uint32_t hash_key(std::string_view customer, std::string_view content) const;
  header* hdr_ = nullptr;
};

std::string render_prometheus(const analytics_snapshot& snapshot);
std::string render_status_json(const analytics_snapshot& snapshot);

// POST usage/stats/control: 204 on success, 4xx JSON on a bad report (counted as
// rejected). GET metrics/status: the renderings.
api_response analytics_handle_report(std::string_view action, std::string_view body,
                                     analytics_store& store, block_lock& lock,
                                     const json_caps& caps);
api_response analytics_handle_view(std::string_view view, const analytics_store& store,
                                   block_lock& lock);

}  // namespace p2p
