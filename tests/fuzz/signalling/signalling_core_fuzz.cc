// Fuzz target: arbitrary sequences of connection events and frames into signalling_core,
// and arbitrary text into the JSON reader. Properties: no crash, no leak under ASan, and
// once every connection is closed the core holds no connection and no queued byte.
//
// Input: records of [op][connection][length hi][length lo][payload...].
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "signalling/json_scan.h"
#include "signalling/signalling_core.h"
#include "tracker/ticket.h"

namespace {

constexpr int64_t kStartMs = 1700000000000;
constexpr p2p::connection_id kConnections = 6;

struct null_sink : p2p::connection_sink {
  void wants_write(p2p::connection_id) override {}
  void wants_close(p2p::connection_id, p2p::close_code) override {}
  void wants_ping(p2p::connection_id) override {}
};

void exercise_json(std::string_view text) {
  p2p::json_object_text object;
  if (!object.parse(text)) return;
  std::string decoded;
  for (size_t i = 0; i < object.size(); ++i) {
    const p2p::json_value_text& value = object.value(i);
    if (value.kind == p2p::json_kind::string && !p2p::json_string_value(value.raw, &decoded)) {
      // A string the reader accepted must decode.
      std::abort();
    }
    if (value.kind == p2p::json_kind::array) p2p::json_array_elements(value.raw);
    if (value.kind == p2p::json_kind::object) {
      p2p::json_object_text inner;
      inner.parse(value.raw);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  null_sink sink;
  p2p::signalling_settings settings;
  settings.ticket_secret = "fuzz-secret";
  settings.limits.max_message_bytes = 4096;
  settings.limits.max_queue_messages = 8;
  settings.limits.max_queue_bytes = 4096;
  settings.limits.max_peers_per_swarm = 4;
  settings.limits.max_connections_per_ip = 5;
  settings.limits.message_burst = 20;
  settings.webtorrent_interval_seconds = 2;
  settings.idle_timeout_seconds = 5;
  p2p::signalling_core core(settings, &sink, 42);
  bool open[kConnections] = {};
  int64_t now = kStartMs;

  size_t pos = 0;
  while (pos + 4 <= size) {
    uint8_t op = data[pos] % 8;
    p2p::connection_id id = data[pos + 1] % kConnections;
    size_t length = (size_t{data[pos + 2]} << 8) | data[pos + 3];
    pos += 4;
    if (length > size - pos) length = size - pos;
    std::string_view payload(reinterpret_cast<const char*>(data + pos), length);
    pos += length;
    exercise_json(payload);
    switch (op) {
      case 0: {  // native connection: a valid ticket unless the payload is one
        if (open[id]) break;
        std::string ticket =
            payload.empty() ? p2p::ticket_sign(settings.ticket_secret, {"p" + std::to_string(id),
                                                                        "s", kStartMs / 1000 + 60})
                            : std::string(payload);
        core.open_native(id, id % 2 ? "10.0.0.1" : "10.0.0.2", ticket, now);
        open[id] = true;
        break;
      }
      case 1:
        if (open[id]) break;
        core.open_webtorrent(id, "10.0.0.3", payload, now);
        open[id] = true;
        break;
      case 2:
      case 3:
      case 4:
        if (open[id]) core.on_fragment(id, payload, op == 4, op != 3, now);
        break;
      case 5:
        if (open[id]) core.on_closed(id);
        open[id] = false;
        break;
      case 6:
        now += payload.empty() ? 1000 : int64_t{static_cast<uint8_t>(payload[0])} * 100;
        core.tick(now);
        break;
      case 7:
        for (std::string_view frame; core.next_frame(id, &frame);) core.pop_frame(id);
        break;
    }
  }
  core.metrics_text();
  for (p2p::connection_id id = 0; id < kConnections; ++id) {
    if (open[id]) core.on_closed(id);
  }
  if (core.connection_count() != 0 || core.queued_bytes() != 0) std::abort();
  return 0;
}
