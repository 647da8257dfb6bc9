// What the client needs from a manifest, whatever its format: the items a player
// fetches (init segments, segments, LL-HLS parts), each with its byte range and, when
// the origin published one, its SHA-256. Only items with a hash may come from peers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/wire_protocol.h"

namespace p2p {

// The hints the origin puts in manifests (module/hints/README.md); values decoded.
struct session_hints {
  std::string content_id;
  std::string customer_id;
  std::string swarm;  // base swarm id (HLS master)
  std::string distributor;
  std::string tracker;
  std::string signalling;
  std::string analytics;
  std::string credential;
  bool any() const {
    return !content_id.empty() || !customer_id.empty() || !swarm.empty() || !distributor.empty() ||
           !tracker.empty() || !signalling.empty() || !analytics.empty() || !credential.empty();
  }
};

// Stores `value` under `key` if it is one of ours; false for unknown keys.
bool session_hints_set(session_hints* hints, const std::string& key, const std::string& value);

enum class media_item_kind { init, segment, part };

struct media_item {
  media_item_kind kind = media_item_kind::segment;
  std::string url;            // absolute
  int64_t range_offset = -1;  // -1: whole resource
  int64_t range_length = -1;
  double duration = 0;   // seconds (0 for init)
  double start = 0;      // seconds from the start of the listed window
  int64_t sequence = 0;  // HLS media sequence / DASH $Number$ or index
  bool discontinuity = false;
  bool has_hash = false;
  content_hash hash{};
};

// Human-readable key of an item's bytes: url plus range.
std::string media_item_key(const media_item& item);

enum class manifest_status { ok, malformed, too_large, unsupported };
const char* manifest_status_name(manifest_status status);

struct manifest_limits {
  size_t max_bytes = 16 * 1024 * 1024;
  size_t max_line_bytes = 64 * 1024;
  size_t max_items = 200000;
  size_t max_xml_depth = 64;
  size_t max_xml_attributes = 128;
};

}  // namespace p2p
