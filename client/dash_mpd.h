// DASH MPD parser: expands SegmentTemplate ($Number$, $Time$, SegmentTimeline),
// SegmentList and SegmentBase initialization into media items with absolute URLs
// (BaseURL resolved MPD -> Period -> AdaptationSet -> Representation), and reads our
// hints (module/hints/README.md).
#pragma once

#include <string>
#include <vector>

#include "client/manifest.h"

namespace p2p {

struct dash_representation {
  std::string id;
  int64_t bandwidth = 0;
  std::string mime_type;
  std::string codecs;
  int64_t width = 0;
  int64_t height = 0;
  std::string swarm_id;           // urn:p2p:swarm:2026
  std::vector<media_item> items;  // init (if any) first, then segments in order
};

struct dash_adaptation_set {
  std::string content_type;  // contentType or the mimeType's type
  std::vector<dash_representation> representations;
};

struct dash_period {
  std::string id;
  double start = 0;     // seconds
  double duration = 0;  // seconds, 0 when unknown
  std::vector<dash_adaptation_set> adaptation_sets;
};

struct dash_mpd {
  bool dynamic = false;
  double media_presentation_duration = 0;
  double minimum_update_period = 0;
  double time_shift_buffer_depth = 0;
  int64_t availability_start_ms = 0;  // Unix ms, dynamic MPDs
  session_hints hints;
  std::vector<dash_period> periods;
};

struct dash_options {
  // Wall clock for dynamic MPDs; 0: list no segments of dynamic SegmentTemplates
  // without a timeline.
  int64_t now_unix_ms = 0;
};

manifest_status dash_parse(const std::string& text, const std::string& mpd_url,
                           const manifest_limits& limits, const dash_options& options,
                           dash_mpd* out);

// ISO 8601 duration (PnDTnHnMnS) in seconds; years and months are refused.
bool dash_parse_duration(const std::string& text, double* seconds);
// xs:dateTime in UTC ("2026-01-02T03:04:05Z", fractional seconds, "+00:00") to Unix ms.
bool dash_parse_datetime(const std::string& text, int64_t* unix_ms);

}  // namespace p2p
