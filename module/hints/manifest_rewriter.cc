#include "module/hints/manifest_rewriter.h"

#include <algorithm>
#include <new>

#include "common/base64url.h"
#include "common/decimal.h"
#include "module/hints/manifest_output.h"

namespace p2p {
namespace hints {
namespace manifest_detail {

void output_sink::put_hex(const sha256_digest& digest) {
  static const char kHex[] = "0123456789abcdef";
  if (buffer_ != nullptr) {
    char* out = buffer_ + size_;
    for (uint8_t byte : digest) {
      *out++ = kHex[byte >> 4];
      *out++ = kHex[byte & 0x0f];
    }
  }
  size_ += 2 * digest.size();
}

void output_sink::put_decimal(uint64_t value) { put(format_decimal(value).view()); }

void put_percent_encoded(output_sink& out, std::string_view value, value_context context) {
  static const char kHex[] = "0123456789ABCDEF";
  for (char c : value) {
    unsigned char byte = static_cast<unsigned char>(c);
    bool encode = byte < 0x20 || byte == 0x7f || c == '%' || c == '"';
    if (context == value_context::dash) {
      encode = encode || c == ';' || c == '=' || c == '&' || c == '<' || c == '>' || c == '\'';
    }
    if (encode) {
      out.put('%');
      out.put(kHex[byte >> 4]);
      out.put(kHex[byte & 0x0f]);
    } else {
      out.put(c);
    }
  }
}

namespace {

struct session_key {
  const char* name;
  const std::string session_hints::*value;
};

// README.md order; "swarm" is the HLS master's swarm base id.
const session_key kSessionKeys[] = {
    {"content-id", &session_hints::content_id},   {"customer-id", &session_hints::customer_id},
    {"swarm", &session_hints::swarm_base_id},     {"distributor", &session_hints::distributor_url},
    {"tracker", &session_hints::tracker_url},     {"signalling", &session_hints::signalling_url},
    {"analytics", &session_hints::analytics_url}, {"credential", &session_hints::credential},
};

void write_hls_session_lines(const insertion& at, const session_hints& hints, output_sink& out) {
  for (const session_key& key : kSessionKeys) {
    const std::string& value = hints.*key.value;
    if (value.empty()) continue;
    if (at.eol_before) out.put(at.eol);
    out.put("#EXT-X-SESSION-DATA:DATA-ID=\"org.p2p.");
    out.put(key.name);
    out.put("\",VALUE=\"");
    put_percent_encoded(out, value, value_context::hls);
    out.put('"');
    if (!at.eol_before) out.put(at.eol);
  }
}

// "<" plus the enclosing DASH element's prefix, so our element is in the DASH namespace.
void put_element_start(output_sink& out, std::string_view prefix) {
  out.put('<');
  if (prefix.empty()) return;
  out.put(prefix);
  out.put(':');
}

void write_dash_session_property(const insertion& at, const session_hints& hints,
                                 output_sink& out) {
  put_element_start(out, at.prefix);
  out.put("SupplementalProperty schemeIdUri=\"urn:p2p:session:2026\" value=\"");
  bool first = true;
  for (const session_key& key : kSessionKeys) {
    const std::string& value = hints.*key.value;
    if (value.empty() || std::string_view(key.name) == "swarm") continue;
    if (!first) out.put(';');
    first = false;
    out.put(key.name);
    out.put('=');
    put_percent_encoded(out, value, value_context::dash);
  }
  out.put("\"/>");
}

void write_dash_swarm_property(const insertion& at, const representation_hints& rep,
                               output_sink& out) {
  put_element_start(out, at.prefix);
  out.put("SupplementalProperty schemeIdUri=\"urn:p2p:swarm:2026\" value=\"");
  put_percent_encoded(out, rep.swarm_id, value_context::dash);
  out.put("\"/>");
}

bool has_any_digest(const rewrite_plan& plan, size_t first, size_t end) {
  for (size_t i = first; i < end; ++i) {
    if (plan.digests[i]) return true;
  }
  return false;
}

void write_dash_hashes(const rewrite_plan& plan, size_t first, size_t end, output_sink& out,
                       size_t& hashes_written) {
  if (!has_any_digest(plan, first, end)) return;
  out.put("<p2p:SegmentHashes xmlns:p2p=\"urn:p2p:2026\">");
  for (size_t i = first; i < end; ++i) {
    if (!plan.digests[i]) continue;
    const media_item& item = plan.items[i];
    out.put("<p2p:H");
    if (item.kind == media_item_kind::init) out.put(" init=\"1\"");
    if (item.number) {
      out.put(" n=\"");
      out.put_decimal(*item.number);
      out.put('"');
    }
    if (item.time) {
      out.put(" t=\"");
      out.put_decimal(*item.time);
      out.put('"');
    }
    if (item.list_position) {
      out.put(" i=\"");
      out.put_decimal(*item.list_position);
      out.put('"');
    }
    out.put(" sha256=\"");
    out.put_hex(*plan.digests[i]);
    out.put("\"/>");
    ++hashes_written;
  }
  out.put("</p2p:SegmentHashes>");
}

}  // namespace

void write_output(std::string_view original, const rewrite_plan& plan, const session_hints& hints,
                  output_sink& out, size_t& hashes_written) {
  size_t cursor = 0;
  hashes_written = 0;
  for (const insertion& at : plan.insertions) {
    out.put(original.substr(cursor, at.at - cursor));
    cursor = at.at + at.drop;
    switch (at.kind) {
      case insertion_kind::hls_session_lines:
        write_hls_session_lines(at, hints, out);
        break;
      case insertion_kind::hls_swarm_line:
        if (plan.hls_swarm_id.empty()) break;
        if (at.eol_before) out.put(at.eol);
        out.put("#EXT-P2P-SWARM:");
        put_percent_encoded(out, plan.hls_swarm_id, value_context::hls);
        if (!at.eol_before) out.put(at.eol);
        break;
      case insertion_kind::hls_hash_line:
        if (!plan.digests[at.item]) break;
        out.put("#EXT-P2P-SHA256:");
        out.put_hex(*plan.digests[at.item]);
        out.put(at.eol);
        ++hashes_written;
        break;
      case insertion_kind::dash_session_property:
        write_dash_session_property(at, hints, out);
        break;
      case insertion_kind::dash_swarm_property:
        if (!plan.representations[at.representation].swarm_id.empty()) {
          write_dash_swarm_property(at, plan.representations[at.representation], out);
        }
        break;
      case insertion_kind::dash_hashes:
        write_dash_hashes(plan, at.item, at.item_end, out, hashes_written);
        break;
      case insertion_kind::dash_close_self_closing_rep: {
        out.put('>');
        const representation_hints& rep = plan.representations[at.representation];
        if (!rep.swarm_id.empty()) write_dash_swarm_property(at, rep, out);
        write_dash_hashes(plan, rep.first_item, rep.end_item, out, hashes_written);
        out.put("</");
        out.put(at.qname);
        out.put('>');
        break;
      }
    }
  }
  out.put(original.substr(cursor));
}

}  // namespace manifest_detail

using namespace manifest_detail;

const char* rewrite_status_name(rewrite_status status) {
  switch (status) {
    case rewrite_status::ok:
      return "ok";
    case rewrite_status::malformed:
      return "malformed";
    case rewrite_status::too_large:
      return "too large";
    case rewrite_status::unsupported:
      return "unsupported";
    case rewrite_status::already_hinted:
      return "already hinted";
  }
  return "unknown";
}

const char* manifest_kind_name(manifest_kind kind) {
  switch (kind) {
    case manifest_kind::hls_master:
      return "HLS master playlist";
    case manifest_kind::hls_media:
      return "HLS media playlist";
    case manifest_kind::dash_mpd:
      return "DASH MPD";
    case manifest_kind::unknown:
      break;
  }
  return "unknown";
}

namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// True for a line that starts with `tag` followed by ':' or the end of the line.
bool line_has_tag(std::string_view line, std::string_view tag) {
  return starts_with(line, tag) && (line.size() == tag.size() || line[tag.size()] == ':' ||
                                    line[tag.size()] == '\r' || line[tag.size()] == ',');
}

manifest_kind detect_hls_kind(std::string_view bytes) {
  static const std::string_view kMasterTags[] = {"#EXT-X-STREAM-INF", "#EXT-X-I-FRAME-STREAM-INF",
                                                 "#EXT-X-MEDIA", "#EXT-X-SESSION-DATA",
                                                 "#EXT-X-SESSION-KEY"};
  static const std::string_view kMediaTags[] = {"#EXTINF",
                                                "#EXT-X-TARGETDURATION",
                                                "#EXT-X-MEDIA-SEQUENCE",
                                                "#EXT-X-ENDLIST",
                                                "#EXT-X-PART",
                                                "#EXT-X-PLAYLIST-TYPE",
                                                "#EXT-X-MAP",
                                                "#EXT-X-BYTERANGE",
                                                "#EXT-X-SKIP",
                                                "#EXT-X-PART-INF",
                                                "#EXT-X-DISCONTINUITY-SEQUENCE"};
  bool master = false;
  bool media = false;
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t end = bytes.find('\n', pos);
    if (end == std::string_view::npos) end = bytes.size();
    std::string_view line = bytes.substr(pos, end - pos);
    pos = end + 1;
    if (!starts_with(line, "#EXT")) continue;
    for (std::string_view tag : kMasterTags) master = master || line_has_tag(line, tag);
    for (std::string_view tag : kMediaTags) media = media || line_has_tag(line, tag);
  }
  if (master == media) return manifest_kind::unknown;
  return master ? manifest_kind::hls_master : manifest_kind::hls_media;
}

// The root element's local name is MPD (after the XML declaration, comments, PIs).
bool looks_like_mpd(std::string_view bytes) {
  size_t pos = 0;
  for (int guard = 0; guard < 1000; ++guard) {
    while (pos < bytes.size() && is_space(bytes[pos])) ++pos;
    if (pos >= bytes.size() || bytes[pos] != '<') return false;
    std::string_view rest = bytes.substr(pos);
    if (starts_with(rest, "<?")) {
      size_t end = bytes.find("?>", pos);
      if (end == std::string_view::npos) return false;
      pos = end + 2;
    } else if (starts_with(rest, "<!--")) {
      size_t end = bytes.find("-->", pos + 4);
      if (end == std::string_view::npos) return false;
      pos = end + 3;
    } else {
      size_t name_end = pos + 1;
      while (name_end < bytes.size() && !is_space(bytes[name_end]) && bytes[name_end] != '>' &&
             bytes[name_end] != '/') {
        ++name_end;
      }
      std::string_view name = bytes.substr(pos + 1, name_end - pos - 1);
      size_t colon = name.rfind(':');
      if (colon != std::string_view::npos) name.remove_prefix(colon + 1);
      return name == "MPD";
    }
  }
  return false;
}

}  // namespace

manifest_kind detect_manifest_kind(std::string_view bytes, std::string_view content_type,
                                   std::string_view uri) noexcept {
  // The body decides: content types and extensions are often wrong on origins
  // (text/plain playlists, .php endpoints), and a wrong guess would corrupt a manifest.
  (void)content_type;
  (void)uri;
  try {
    if (starts_with(bytes, "\xEF\xBB\xBF")) bytes.remove_prefix(3);
    if (starts_with(bytes, "#EXTM3U")) return detect_hls_kind(bytes);
    size_t pos = 0;
    while (pos < bytes.size() && is_space(bytes[pos])) ++pos;
    if (pos < bytes.size() && bytes[pos] == '<' && looks_like_mpd(bytes)) {
      return manifest_kind::dash_mpd;
    }
  } catch (...) {
  }
  return manifest_kind::unknown;
}

namespace {

parse_outcome parse_any(std::string_view bytes, manifest_kind kind, const manifest_options& options,
                        bool with_insertions, rewrite_plan& plan) {
  if (bytes.size() > options.max_manifest_bytes) {
    return {rewrite_status::too_large, "manifest larger than the configured cap"};
  }
  switch (kind) {
    case manifest_kind::hls_master:
    case manifest_kind::hls_media:
      return parse_hls(bytes, kind, options, with_insertions, plan);
    case manifest_kind::dash_mpd:
      return parse_dash(bytes, options, with_insertions, plan);
    case manifest_kind::unknown:
      break;
  }
  return {rewrite_status::unsupported, "not an HLS playlist or DASH MPD"};
}

}  // namespace

media_list_result list_media_items(std::string_view bytes, manifest_kind kind,
                                   const manifest_options& options) noexcept {
  media_list_result result;
  try {
    rewrite_plan plan;
    parse_outcome outcome = parse_any(bytes, kind, options, false, plan);
    result.status = outcome.status;
    result.reason = std::move(outcome.reason);
    if (result.status == rewrite_status::ok || result.status == rewrite_status::already_hinted) {
      result.items = std::move(plan.items);
    }
  } catch (const std::bad_alloc&) {
    result = media_list_result{};
    result.status = rewrite_status::too_large;
    result.reason = "out of memory";
  } catch (...) {
    result = media_list_result{};
    result.status = rewrite_status::malformed;
    result.reason = "internal error";
  }
  return result;
}

const std::vector<media_item>& prepared_manifest::items() const {
  static const std::vector<media_item> kNone;
  return plan ? plan->items : kNone;
}

prepared_manifest prepare_manifest(std::string_view bytes, manifest_kind kind,
                                   const manifest_options& options) noexcept {
  prepared_manifest prepared;
  prepared.kind = kind;
  try {
    auto plan = std::make_shared<rewrite_plan>();
    parse_outcome outcome = parse_any(bytes, kind, options, true, *plan);
    prepared.status = outcome.status;
    prepared.reason = std::move(outcome.reason);
    if (prepared.status == rewrite_status::ok ||
        prepared.status == rewrite_status::already_hinted) {
      prepared.plan = std::move(plan);
    }
  } catch (const std::bad_alloc&) {
    prepared.plan.reset();
    prepared.status = rewrite_status::too_large;
    prepared.reason = "out of memory";
  } catch (...) {
    prepared.plan.reset();
    prepared.status = rewrite_status::malformed;
    prepared.reason = "internal error";
  }
  return prepared;
}

rewrite_result rewrite_prepared(prepared_manifest& prepared, std::string_view bytes,
                                const session_hints& hints, const hash_lookup& lookup) noexcept {
  rewrite_result result;
  try {
    if (prepared.status != rewrite_status::ok) {
      result.status = prepared.status;
      result.reason = prepared.reason;
      return result;
    }
    if (!prepared.plan) {
      result.status = rewrite_status::malformed;
      result.reason = "manifest not prepared";
      return result;
    }
    rewrite_plan& plan = *prepared.plan;
    plan.digests.assign(plan.items.size(), std::nullopt);
    if (lookup) {
      for (size_t i = 0; i < plan.items.size(); ++i) plan.digests[i] = lookup(plan.items[i]);
    }
    plan.hls_swarm_id.clear();
    if (prepared.kind == manifest_kind::hls_media && hints.rendition_swarm_id) {
      plan.hls_swarm_id = hints.rendition_swarm_id("");
    }
    for (representation_hints& rep : plan.representations) {
      rep.swarm_id = hints.rendition_swarm_id ? hints.rendition_swarm_id(rep.rendition_key) : "";
    }
    output_sink counter(nullptr);
    size_t hashes = 0;
    write_output(bytes, plan, hints, counter, hashes);
    result.output.resize(counter.size());
    output_sink writer(result.output.data());
    write_output(bytes, plan, hints, writer, result.hashes_written);
    if (writer.size() != counter.size()) {
      result = rewrite_result{};
      result.status = rewrite_status::malformed;
      result.reason = "internal error: output size mismatch";
    }
  } catch (const std::bad_alloc&) {
    result = rewrite_result{};
    result.status = rewrite_status::too_large;
    result.reason = "out of memory";
  } catch (...) {
    result = rewrite_result{};
    result.status = rewrite_status::malformed;
    result.reason = "internal error";
  }
  return result;
}

rewrite_result rewrite_manifest(std::string_view bytes, manifest_kind kind,
                                const session_hints& hints, const hash_lookup& lookup,
                                const manifest_options& options) noexcept {
  prepared_manifest prepared = prepare_manifest(bytes, kind, options);
  return rewrite_prepared(prepared, bytes, hints, lookup);
}

std::string swarm_id(std::string_view customer_id, std::string_view manifest_path,
                     std::string_view rendition_key) {
  std::string input;
  input.reserve(customer_id.size() + manifest_path.size() + rendition_key.size() + 2);
  input.append(customer_id).append(1, '\n').append(manifest_path).append(1, '\n');
  input.append(rendition_key);
  sha256_digest digest = sha256(input);
  return base64url_encode(digest.data(), 16);
}

namespace {

bool is_token_piece(std::string_view piece, const std::vector<std::string>& token_params) {
  size_t eq = piece.find('=');
  std::string_view name = piece.substr(0, eq);
  for (const std::string& token : token_params) {
    if (!token.empty() && name == token) return true;
  }
  return false;
}

}  // namespace

std::string swarm_path(std::string_view uri, const std::vector<std::string>& token_params) {
  size_t cut = uri.find_first_of("?#");
  if (cut != std::string_view::npos) uri = uri.substr(0, cut);
  std::string path;
  path.reserve(uri.size());
  size_t pos = 0;
  while (pos <= uri.size()) {
    size_t slash = uri.find('/', pos);
    size_t end = slash == std::string_view::npos ? uri.size() : slash;
    std::string_view segment = uri.substr(pos, end - pos);
    bool keep_segment =
        !(segment.find('=') != std::string_view::npos &&
          segment.find(';') == std::string_view::npos && is_token_piece(segment, token_params));
    if (keep_segment) {
      // Path parameters: "name;token=abc;x=1" keeps "name;x=1".
      size_t semi = segment.find(';');
      path.append(segment.substr(0, semi));
      while (semi != std::string_view::npos) {
        size_t next = segment.find(';', semi + 1);
        std::string_view param =
            segment.substr(semi + 1, next == std::string_view::npos ? next : next - semi - 1);
        if (!is_token_piece(param, token_params)) path.append(1, ';').append(param);
        semi = next;
      }
    }
    if (slash == std::string_view::npos) break;
    if (keep_segment) path.append(1, '/');
    pos = slash + 1;
  }
  return path;
}

std::string strip_token_params(std::string_view uri, const std::vector<std::string>& token_params) {
  size_t fragment = uri.find('#');
  std::string_view tail = fragment == std::string_view::npos ? "" : uri.substr(fragment);
  std::string_view head = uri.substr(0, fragment);
  size_t question = head.find('?');
  if (question == std::string_view::npos) return std::string(uri);
  std::string out(head.substr(0, question));
  std::string_view query = head.substr(question + 1);
  bool first = true;
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    size_t end = amp == std::string_view::npos ? query.size() : amp;
    std::string_view param = query.substr(pos, end - pos);
    if (!param.empty() && !is_token_piece(param, token_params)) {
      out.append(1, first ? '?' : '&').append(param);
      first = false;
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  out.append(tail);
  return out;
}

}  // namespace hints
}  // namespace p2p
