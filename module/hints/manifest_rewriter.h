// The nginx-free core of the hints filter: recognises HLS and DASH manifests, lists
// the media items whose SHA-256 the glue must supply, and writes a rewritten copy
// carrying the peer hints. The format written is specified in module/hints/README.md;
// the client library parses exactly that.
//
// Nothing here throws: every entry point returns a status, and on any status other
// than ok the caller serves the original bytes unchanged (never a partial rewrite).
// No global state: every function is reentrant and may run on nginx thread-pool threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/hmac_sha256.h"

namespace p2p {
namespace hints {

enum class manifest_kind { unknown, hls_master, hls_media, dash_mpd };

enum class rewrite_status {
  ok,
  malformed,       // not a well-formed playlist / MPD (or breaks an RFC 8216 rule we rely on)
  too_large,       // over a cap of manifest_options (bytes, line length, items, XML depth...)
  unsupported,     // well-formed but uses something we cannot hint safely
  already_hinted,  // upstream already wrote our hints: pass it through as it is
};

const char* rewrite_status_name(rewrite_status status);
const char* manifest_kind_name(manifest_kind kind);

// Caps that bound memory and time on hostile input. The same options must be passed to
// list_media_items and rewrite_manifest for one manifest, so both see identical items.
struct manifest_options {
  size_t max_manifest_bytes = 4u << 20;
  size_t max_line_bytes = 64u << 10;  // HLS line, or one XML tag / text run
  size_t max_items = 20000;           // media items per manifest (all renditions)
  size_t max_xml_depth = 32;
  size_t max_xml_attributes = 64;  // per element
  // Wall clock for dynamic MPDs with a @duration-only SegmentTemplate (segments that are
  // available at this instant get listed). 0: unknown, such Representations list nothing.
  int64_t now_unix_ms = 0;
};

// The body decides: "#EXTM3U" with master-only tags (STREAM-INF, MEDIA, SESSION-DATA...)
// is a master playlist, with media-only tags (EXTINF, TARGETDURATION, PART...) a media
// playlist, both or neither unknown; XML whose root element's local name is MPD is
// dash_mpd. Content type and URI are not trusted (origins mislabel manifests, and a
// wrong guess would corrupt one); they are accepted so the glue can pass what it has.
manifest_kind detect_manifest_kind(std::string_view bytes, std::string_view content_type,
                                   std::string_view uri) noexcept;

enum class media_item_kind { segment, part, init };

struct byte_range {
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct media_item {
  // As written in the manifest (HLS), or template-expanded and prefixed with the
  // BaseURLs in scope (DASH). Relative URIs are resolved by the glue against the
  // manifest URI (RFC 3986 section 5, dot segments included).
  std::string uri;
  std::optional<byte_range> range;
  media_item_kind kind = media_item_kind::segment;
  size_t index = 0;  // position in the list; rewrite_manifest asks for hashes in this order

  // DASH only: the identifiers the p2p:H element carries (README.md).
  std::string representation_id;
  std::optional<uint64_t> number;         // $Number$ of a SegmentTemplate segment
  std::optional<uint64_t> time;           // S@t time when a SegmentTimeline is present
  std::optional<uint64_t> list_position;  // 0-based SegmentURL position in a SegmentList
};

struct media_list_result {
  rewrite_status status = rewrite_status::ok;
  std::string reason;  // short, for the one log line; empty when ok
  std::vector<media_item> items;
};

// HLS master: no items. HLS media: EXT-X-MAP, EXT-X-PART and segment URIs in playlist
// order (EXT-X-PRELOAD-HINT is not listed: the resource is not complete yet). DASH:
// per Period, per AdaptationSet, per Representation: init segment then media segments.
// An already hinted manifest returns already_hinted *with* its items (the glue can
// skip hashing; tests compare the items of a rewritten manifest with the original's).
media_list_result list_media_items(std::string_view bytes, manifest_kind kind,
                                   const manifest_options& options = {}) noexcept;

struct session_hints {
  std::string content_id;
  std::string customer_id;
  std::string swarm_base_id;
  std::string distributor_url;
  std::string tracker_url;
  std::string signalling_url;
  std::string analytics_url;
  std::string credential;
  // Swarm id of one rendition. rendition_key is "" for an HLS media playlist (the
  // playlist path identifies the rendition) and Representation@id for DASH. Unset or
  // returning "" means: no swarm hint for that rendition.
  std::function<std::string(std::string_view rendition_key)> rendition_swarm_id;
};

// Returns the SHA-256 of the item's bytes (its range only, when it has one), or nothing
// when the glue has no trustworthy hash (file missing, still being written, ...).
using hash_lookup = std::function<std::optional<sha256_digest>(const media_item& item)>;

struct rewrite_result {
  rewrite_status status = rewrite_status::ok;
  std::string reason;
  std::string output;  // the rewritten manifest; empty unless status is ok
  size_t hashes_written = 0;
};

// Calls hash_lookup once per item of list_media_items (same order, same fields).
rewrite_result rewrite_manifest(std::string_view bytes, manifest_kind kind,
                                const session_hints& hints, const hash_lookup& lookup,
                                const manifest_options& options = {}) noexcept;

namespace manifest_detail {
struct rewrite_plan;
}

// Parse once, use twice: the glue lists the items to hash from the prepared manifest
// and later writes the output from it, without parsing the body again (half the CPU
// of list_media_items + rewrite_manifest). `bytes` must stay alive and unchanged
// between prepare_manifest and rewrite_prepared.
struct prepared_manifest {
  rewrite_status status = rewrite_status::ok;
  std::string reason;
  manifest_kind kind = manifest_kind::unknown;
  std::shared_ptr<manifest_detail::rewrite_plan> plan;  // opaque

  // Same items as list_media_items (empty on a failure status).
  const std::vector<media_item>& items() const;
};

prepared_manifest prepare_manifest(std::string_view bytes, manifest_kind kind,
                                   const manifest_options& options = {}) noexcept;

// status ok only when prepared.status is ok; may be called again (e.g. with more
// hashes known): each call starts from the prepared state.
rewrite_result rewrite_prepared(prepared_manifest& prepared, std::string_view bytes,
                                const session_hints& hints, const hash_lookup& lookup) noexcept;

// base64url(first 16 bytes of SHA-256(customer_id "\n" manifest_path "\n" rendition_key)):
// 22 characters of [A-Za-z0-9_-].
std::string swarm_id(std::string_view customer_id, std::string_view manifest_path,
                     std::string_view rendition_key);

// The path a swarm id is derived from: the URI without fragment and query, and without
// path parameters (";name=value") or whole path segments ("name=value") whose name is
// one of token_params, so viewers with different tokens meet in one swarm.
std::string swarm_path(std::string_view uri, const std::vector<std::string>& token_params);

// The URI with the query parameters named in token_params removed (others kept in order).
std::string strip_token_params(std::string_view uri, const std::vector<std::string>& token_params);

}  // namespace hints

// The types live in p2p::hints because the client library has its own p2p::media_item
// and p2p::session_hints (client/manifest.h): distinct namespaces keep their template
// instantiations apart at link time. The short names below are for the nginx glue; a
// file that includes both this header and the client's uses p2p::hints:: explicitly
// and cannot include this block (define P2P_HINTS_NO_SHORT_NAMES).
#ifndef P2P_HINTS_NO_SHORT_NAMES
using hints::byte_range;
using hints::detect_manifest_kind;
using hints::hash_lookup;
using hints::list_media_items;
using hints::manifest_kind;
using hints::manifest_kind_name;
using hints::manifest_options;
using hints::media_item;
using hints::media_item_kind;
using hints::media_list_result;
using hints::prepare_manifest;
using hints::prepared_manifest;
using hints::rewrite_manifest;
using hints::rewrite_prepared;
using hints::rewrite_result;
using hints::rewrite_status;
using hints::rewrite_status_name;
using hints::session_hints;
using hints::strip_token_params;
using hints::swarm_id;
using hints::swarm_path;
#endif

}  // namespace p2p
