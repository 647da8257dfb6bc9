#include "tracker/analytics_store.h"

#include <cstdio>
#include <cstring>

namespace p2p {
namespace {

constexpr uint64_t kMagic = 0x50325053414e4c31ULL;  // "P2PSANL1"
constexpr uint32_t kLayoutVersion = 1;
constexpr uint32_t kNil = 0xffffffffu;
constexpr std::string_view kOverflow = "_overflow";

// Caps from README.md: a report above them is a broken or hostile client.
constexpr int64_t kMaxBytes = 1000000000000;  // 10^12 per usage report
constexpr int64_t kMaxEvents = 1000000;
constexpr int64_t kMaxRebufferMs = 86400000;
constexpr int64_t kMaxStartupMs = 600000;
constexpr int64_t kMaxPeers = 10000;

size_t align8(size_t v) { return (v + 7) & ~size_t{7}; }

// Counters saturate instead of wrapping, so a flood of maximal reports cannot make
// a total small again.
void add_to(uint64_t* counter, uint64_t delta) {
  *counter = *counter > UINT64_MAX - delta ? UINT64_MAX : *counter + delta;
}

bool read_counter(json_t* root, const char* name, int64_t max, bool required, uint64_t* out,
                  bool* present, api_error* error) {
  int64_t v = 0;
  bool here = false;
  if (!read_uint(root, name, max, &here, &v, error)) return false;
  if (!here && required) {
    *error = bad_request(std::string(name) + ": required");
    return false;
  }
  if (present) *present = here;
  *out = static_cast<uint64_t>(v);
  return true;
}

void append_double(std::string* out, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  *out += buf;
}

}  // namespace

struct analytics_store::header {
  uint64_t magic;
  uint32_t layout_version;
  uint32_t header_size;
  uint64_t block_size;
  uint64_t hash_seed;
  uint32_t capacity;      // rows, including the overflow row at index 0
  uint32_t bucket_count;  // power of two
  uint32_t used;          // rows in use, overflow row excluded
  uint32_t reserved;
  uint64_t rows_offset;
  uint64_t buckets_offset;
  uint64_t rejected_reports;
};

struct analytics_store::row_record {
  uint32_t hash;
  uint32_t next;
  uint8_t customer_len;
  uint8_t content_len;
  char customer[kAnalyticsIdMax];
  char content[kAnalyticsIdMax];
  uint64_t http_bytes;
  uint64_t p2p_bytes;
  uint64_t p2p_upload_bytes;
  uint64_t usage_reports;
  uint64_t rebuffer_count;
  uint64_t rebuffer_ms;
  uint64_t startup_ms_sum;
  uint64_t startup_reports;
  uint64_t stats_reports;
  uint64_t peers_sum;
  uint64_t checksum_failures;
  uint64_t protocol_errors;
  uint64_t control_reports;
};

double analytics_row::peer_efficiency() const {
  double total = static_cast<double>(p2p_bytes) + static_cast<double>(http_bytes);
  return total > 0 ? static_cast<double>(p2p_bytes) / total : 0.0;
}

bool parse_analytics_report(std::string_view action, std::string_view body, const json_caps& caps,
                            analytics_report* out, api_error* error) {
  if (action == "usage")
    out->kind = report_kind::usage;
  else if (action == "stats")
    out->kind = report_kind::stats;
  else if (action == "control")
    out->kind = report_kind::control;
  else {
    *error = {404, "unknown_action", "action must be usage, stats or control"};
    return false;
  }
  json_ptr root = parse_request_object(body, caps, error);
  if (!root) return false;
  json_t* r = root.get();
  std::string ignored_peer;
  if (!read_id(r, "customer", true, &out->customer, error)) return false;
  if (!read_id(r, "content", true, &out->content, error)) return false;
  if (!read_id(r, "peer_id", false, &ignored_peer, error)) return false;
  switch (out->kind) {
    case report_kind::usage:
      return read_counter(r, "http_bytes", kMaxBytes, true, &out->http_bytes, nullptr, error) &&
             read_counter(r, "p2p_bytes", kMaxBytes, true, &out->p2p_bytes, nullptr, error) &&
             read_counter(r, "p2p_upload_bytes", kMaxBytes, false, &out->p2p_upload_bytes, nullptr,
                          error);
    case report_kind::stats:
      return read_counter(r, "rebuffer_count", kMaxEvents, true, &out->rebuffer_count, nullptr,
                          error) &&
             read_counter(r, "rebuffer_ms", kMaxRebufferMs, true, &out->rebuffer_ms, nullptr,
                          error) &&
             read_counter(r, "startup_ms", kMaxStartupMs, false, &out->startup_ms,
                          &out->has_startup, error) &&
             read_counter(r, "peers", kMaxPeers, true, &out->peers, nullptr, error);
    case report_kind::control:
      return read_counter(r, "checksum_failures", kMaxEvents, true, &out->checksum_failures,
                          nullptr, error) &&
             read_counter(r, "protocol_errors", kMaxEvents, true, &out->protocol_errors, nullptr,
                          error);
  }
  return false;
}

size_t analytics_store::min_block_size() {
  return align8(sizeof(header)) + 4 * sizeof(row_record) + 4 * sizeof(uint32_t) + 16;
}

bool analytics_store::open(void* block, size_t size) {
  auto* h = static_cast<header*>(block);
  if (!h || size < min_block_size() || h->magic != kMagic || h->layout_version != kLayoutVersion ||
      h->header_size != sizeof(header) || h->block_size != size)
    return false;
  hdr_ = h;
  return true;
}

analytics_store::row_record* analytics_store::rows() const {
  return reinterpret_cast<row_record*>(reinterpret_cast<char*>(hdr_) + hdr_->rows_offset);
}

uint32_t* analytics_store::buckets() const {
  return reinterpret_cast<uint32_t*>(reinterpret_cast<char*>(hdr_) + hdr_->buckets_offset);
}

bool analytics_store::attach(void* block, size_t size, uint64_t hash_seed, bool* reused) {
  if (reused) *reused = false;
  if (!block || size < min_block_size() || (reinterpret_cast<uintptr_t>(block) & 7) != 0)
    return false;
  auto* h = static_cast<header*>(block);
  if (h->magic == kMagic && h->layout_version == kLayoutVersion &&
      h->header_size == sizeof(header) && h->block_size == size) {
    hdr_ = h;
    if (reused) *reused = true;
    return true;
  }
  const size_t header_bytes = align8(sizeof(header));
  uint64_t capacity = (size - header_bytes - 16) / (sizeof(row_record) + sizeof(uint32_t));
  if (capacity > 0xfffffff) capacity = 0xfffffff;
  uint32_t bucket_count = 1;
  while (bucket_count * 2 <= capacity) bucket_count *= 2;
  std::memset(block, 0, header_bytes);
  h->layout_version = kLayoutVersion;
  h->header_size = sizeof(header);
  h->block_size = size;
  h->hash_seed = hash_seed;
  h->capacity = static_cast<uint32_t>(capacity);
  h->bucket_count = bucket_count;
  h->rows_offset = header_bytes;
  h->buckets_offset = header_bytes + align8(capacity * sizeof(row_record));
  if (h->buckets_offset + bucket_count * sizeof(uint32_t) > size) return false;
  hdr_ = h;
  std::memset(rows(), 0, capacity * sizeof(row_record));
  for (uint32_t i = 0; i < bucket_count; ++i) buckets()[i] = kNil;
  row_record& overflow = rows()[0];
  overflow.customer_len = overflow.content_len = static_cast<uint8_t>(kOverflow.size());
  std::memcpy(overflow.customer, kOverflow.data(), kOverflow.size());
  std::memcpy(overflow.content, kOverflow.data(), kOverflow.size());
  overflow.next = kNil;
  h->magic = kMagic;
  return true;
}

uint32_t analytics_store::hash_key(std::string_view customer, std::string_view content) const {
  uint64_t h = 0xcbf29ce484222325ULL ^ hdr_->hash_seed;
  for (unsigned char c : customer) h = (h ^ c) * 0x100000001b3ULL;
  h = (h ^ '\n') * 0x100000001b3ULL;
  for (unsigned char c : content) h = (h ^ c) * 0x100000001b3ULL;
  h ^= h >> 31;
  return static_cast<uint32_t>(h ^ (h >> 32));
}

void analytics_store::add(const analytics_report& r) {
  if (r.customer.size() > kAnalyticsIdMax || r.content.size() > kAnalyticsIdMax) return;
  uint32_t hash = hash_key(r.customer, r.content);
  uint32_t& bucket = buckets()[hash & (hdr_->bucket_count - 1)];
  row_record* all = rows();
  uint32_t index = kNil;
  for (uint32_t i = bucket; i != kNil; i = all[i].next) {
    if (all[i].hash == hash && all[i].customer_len == r.customer.size() &&
        all[i].content_len == r.content.size() &&
        std::memcmp(all[i].customer, r.customer.data(), r.customer.size()) == 0 &&
        std::memcmp(all[i].content, r.content.data(), r.content.size()) == 0) {
      index = i;
      break;
    }
  }
  if (index == kNil) {
    if (hdr_->used + 1 < hdr_->capacity) {
      index = ++hdr_->used;
      row_record& row = all[index];
      std::memset(&row, 0, sizeof row);
      row.hash = hash;
      row.customer_len = static_cast<uint8_t>(r.customer.size());
      row.content_len = static_cast<uint8_t>(r.content.size());
      std::memcpy(row.customer, r.customer.data(), r.customer.size());
      std::memcpy(row.content, r.content.data(), r.content.size());
      row.next = bucket;
      bucket = index;
    } else {
      index = 0;
    }
  }
  row_record& row = all[index];
  switch (r.kind) {
    case report_kind::usage:
      add_to(&row.http_bytes, r.http_bytes);
      add_to(&row.p2p_bytes, r.p2p_bytes);
      add_to(&row.p2p_upload_bytes, r.p2p_upload_bytes);
      ++row.usage_reports;
      break;
    case report_kind::stats:
      add_to(&row.rebuffer_count, r.rebuffer_count);
      add_to(&row.rebuffer_ms, r.rebuffer_ms);
      if (r.has_startup) {
        add_to(&row.startup_ms_sum, r.startup_ms);
        ++row.startup_reports;
      }
      add_to(&row.peers_sum, r.peers);
      ++row.stats_reports;
      break;
    case report_kind::control:
      add_to(&row.checksum_failures, r.checksum_failures);
      add_to(&row.protocol_errors, r.protocol_errors);
      ++row.control_reports;
      break;
  }
}

void analytics_store::count_rejected() { ++hdr_->rejected_reports; }

analytics_snapshot analytics_store::snapshot() const {
  analytics_snapshot s;
  s.rejected_reports = hdr_->rejected_reports;
  s.capacity = hdr_->capacity - 1;
  s.used = hdr_->used;
  s.rows.reserve(hdr_->used + 1);
  const row_record* all = rows();
  auto copy = [&](const row_record& r) {
    analytics_row out;
    out.customer.assign(r.customer, r.customer_len);
    out.content.assign(r.content, r.content_len);
    out.http_bytes = r.http_bytes;
    out.p2p_bytes = r.p2p_bytes;
    out.p2p_upload_bytes = r.p2p_upload_bytes;
    out.usage_reports = r.usage_reports;
    out.rebuffer_count = r.rebuffer_count;
    out.rebuffer_ms = r.rebuffer_ms;
    out.startup_ms_sum = r.startup_ms_sum;
    out.startup_reports = r.startup_reports;
    out.stats_reports = r.stats_reports;
    out.peers_sum = r.peers_sum;
    out.checksum_failures = r.checksum_failures;
    out.protocol_errors = r.protocol_errors;
    out.control_reports = r.control_reports;
    s.rows.push_back(std::move(out));
  };
  for (uint32_t i = 1; i <= hdr_->used; ++i) copy(all[i]);
  const row_record& overflow = all[0];
  if (overflow.usage_reports || overflow.stats_reports || overflow.control_reports) copy(overflow);
  return s;
}

std::string render_prometheus(const analytics_snapshot& s) {
  struct metric {
    const char* name;
    const char* type;
    const char* help;
    uint64_t analytics_row::*field;
  };
  static const metric kMetrics[] = {
      {"p2p_http_bytes_total", "counter", "Bytes clients fetched over HTTP.",
       &analytics_row::http_bytes},
      {"p2p_p2p_bytes_total", "counter", "Bytes clients received from peers.",
       &analytics_row::p2p_bytes},
      {"p2p_upload_bytes_total", "counter", "Bytes clients sent to peers.",
       &analytics_row::p2p_upload_bytes},
      {"p2p_usage_reports_total", "counter", "Usage reports received.",
       &analytics_row::usage_reports},
      {"p2p_rebuffer_events_total", "counter", "Rebuffering events reported.",
       &analytics_row::rebuffer_count},
      {"p2p_rebuffer_ms_total", "counter", "Milliseconds spent rebuffering.",
       &analytics_row::rebuffer_ms},
      {"p2p_startup_ms_sum", "counter", "Sum of reported start-up times in milliseconds.",
       &analytics_row::startup_ms_sum},
      {"p2p_startup_reports_total", "counter", "Start-up times reported.",
       &analytics_row::startup_reports},
      {"p2p_stats_reports_total", "counter", "Stats reports received.",
       &analytics_row::stats_reports},
      {"p2p_peers_sum", "counter", "Sum of connected-peer counts over stats reports.",
       &analytics_row::peers_sum},
      {"p2p_checksum_failures_total", "counter", "Peer segments whose SHA-256 did not match.",
       &analytics_row::checksum_failures},
      {"p2p_protocol_errors_total", "counter", "Malformed peer messages reported.",
       &analytics_row::protocol_errors},
  };
  std::string out;
  out.reserve(256 + s.rows.size() * 1200);
  // Ids are [A-Za-z0-9_-] only, so label values need no escaping.
  auto labels = [](const analytics_row& r) {
    return "{customer=\"" + r.customer + "\",content=\"" + r.content + "\"} ";
  };
  for (const metric& m : kMetrics) {
    out += "# HELP ";
    out += m.name;
    out += ' ';
    out += m.help;
    out += "\n# TYPE ";
    out += m.name;
    out += ' ';
    out += m.type;
    out += '\n';
    for (const analytics_row& r : s.rows) {
      out += m.name;
      out += labels(r);
      out += std::to_string(r.*(m.field));
      out += '\n';
    }
  }
  out += "# HELP p2p_peer_efficiency P2P bytes / (P2P + HTTP bytes).\n";
  out += "# TYPE p2p_peer_efficiency gauge\n";
  for (const analytics_row& r : s.rows) {
    out += "p2p_peer_efficiency";
    out += labels(r);
    append_double(&out, r.peer_efficiency());
    out += '\n';
  }
  out += "# HELP p2p_analytics_rejected_reports_total Reports refused as invalid.\n";
  out += "# TYPE p2p_analytics_rejected_reports_total counter\n";
  out += "p2p_analytics_rejected_reports_total " + std::to_string(s.rejected_reports) + "\n";
  return out;
}

std::string render_status_json(const analytics_snapshot& s) {
  std::string out;
  out.reserve(128 + s.rows.size() * 400);
  out = "{\"contents\":[";
  bool first = true;
  for (const analytics_row& r : s.rows) {
    if (!first) out += ',';
    first = false;
    out += "{\"customer\":\"" + r.customer + "\",\"content\":\"" + r.content + "\"";
    out += ",\"http_bytes\":" + std::to_string(r.http_bytes);
    out += ",\"p2p_bytes\":" + std::to_string(r.p2p_bytes);
    out += ",\"p2p_upload_bytes\":" + std::to_string(r.p2p_upload_bytes);
    out += ",\"peer_efficiency\":";
    append_double(&out, r.peer_efficiency());
    out += ",\"usage_reports\":" + std::to_string(r.usage_reports);
    out += ",\"rebuffer_count\":" + std::to_string(r.rebuffer_count);
    out += ",\"rebuffer_ms\":" + std::to_string(r.rebuffer_ms);
    out += ",\"startup_ms_avg\":";
    append_double(&out, r.startup_reports ? static_cast<double>(r.startup_ms_sum) /
                                                static_cast<double>(r.startup_reports)
                                          : 0.0);
    out += ",\"stats_reports\":" + std::to_string(r.stats_reports);
    out += ",\"peers_avg\":";
    append_double(&out, r.stats_reports ? static_cast<double>(r.peers_sum) /
                                              static_cast<double>(r.stats_reports)
                                        : 0.0);
    out += ",\"checksum_failures\":" + std::to_string(r.checksum_failures);
    out += ",\"protocol_errors\":" + std::to_string(r.protocol_errors);
    out += ",\"control_reports\":" + std::to_string(r.control_reports) + "}";
  }
  out += "],\"rejected_reports\":" + std::to_string(s.rejected_reports);
  out += ",\"capacity\":" + std::to_string(s.capacity);
  out += ",\"used\":" + std::to_string(s.used) + "}";
  return out;
}

api_response analytics_handle_report(std::string_view action, std::string_view body,
                                     analytics_store& store, block_lock& lock,
                                     const json_caps& caps) {
  analytics_report report;
  api_error error;
  if (!parse_analytics_report(action, body, caps, &report, &error)) {
    if (error.http_status != 404) {
      block_lock_scope held(lock);
      store.count_rejected();
    }
    return error_response(error);
  }
  {
    block_lock_scope held(lock);
    store.add(report);
  }
  api_response r;
  r.http_status = 204;
  return r;
}

api_response analytics_handle_view(std::string_view view, const analytics_store& store,
                                   block_lock& lock) {
  if (view != "metrics" && view != "status")
    return error_response({404, "unknown_action", "view must be metrics or status"});
  analytics_snapshot s;
  {
    block_lock_scope held(lock);
    s = store.snapshot();
  }
  api_response r;
  if (view == "metrics") {
    r.body = render_prometheus(s);
    r.content_type = "text/plain; version=0.0.4";
  } else {
    r.body = render_status_json(s);
  }
  return r;
}

}  // namespace p2p
