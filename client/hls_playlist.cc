#include "client/hls_playlist.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <vector>

#include "client/url.h"
#include "common/hls_variable.h"

namespace p2p {

namespace {

bool parse_int(const std::string& s, int64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

bool parse_decimal(const std::string& s, double* out) {
  if (s.empty() || s.size() > 32) return false;
  bool dot = false;
  for (char c : s) {
    if (c == '.') {
      if (dot) return false;
      dot = true;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  if (s[0] == '.') return false;
  double v = std::strtod(s.c_str(), nullptr);
  if (!std::isfinite(v) || v > 1e9) return false;
  *out = v;
  return true;
}

// "length[@offset]"; a missing offset continues after the previous range of the same
// resource (RFC 8216 4.3.2.2).
bool parse_byterange(const std::string& s, const std::string& url,
                     const std::map<std::string, int64_t>& range_ends, int64_t* offset,
                     int64_t* length) {
  size_t at = s.find('@');
  if (!parse_int(s.substr(0, at), length)) return false;
  if (at != std::string::npos) return parse_int(s.substr(at + 1), offset);
  auto it = range_ends.find(url);
  if (it == range_ends.end()) return false;
  *offset = it->second;
  return true;
}

// EXT-X-DEFINE variables (RFC 8216bis 4.4.2.3), as the hints filter reads them: NAME
// and VALUE define one; QUERYPARAM takes the playlist URL's query parameter; IMPORT
// comes from the master playlist, which this parser does not see, so a URI using one
// stays as written (the hints filter lists no hash for it either).
struct hls_variables {
  std::vector<std::pair<std::string, std::string>> values;
  std::vector<std::string> unknown_values;  // imported, or a query parameter not present

  size_t size() const { return values.size() + unknown_values.size(); }

  // Replaces every "{$name}" of `in`; false on a name never defined (a malformed
  // playlist).
  bool substitute(const std::string& in, std::string* out) const {
    out->clear();
    size_t pos = 0;
    for (;;) {
      size_t open = in.find("{$", pos);
      if (open == std::string::npos) break;
      size_t close = in.find('}', open + 2);
      if (close == std::string::npos) break;
      std::string name = in.substr(open + 2, close - open - 2);
      out->append(in, pos, open - pos);
      if (!hls_variable_name(name)) {  // not a reference: "{$" stays literal text
        out->append("{$");
        pos = open + 2;
        continue;
      }
      pos = close + 1;
      if (const std::string* value = find(name)) {
        out->append(*value);
      } else if (std::find(unknown_values.begin(), unknown_values.end(), name) !=
                 unknown_values.end()) {
        out->append(in, open, close + 1 - open);
      } else {
        return false;
      }
    }
    out->append(in, pos, std::string::npos);
    return true;
  }

 private:
  const std::string* find(const std::string& name) const {
    for (const auto& [key, value] : values)
      if (key == name) return &value;
    return nullptr;
  }
};

// The value of query parameter `name` in `url`, percent-decoded; false if absent.
bool query_parameter(const std::string& url, const std::string& name, std::string* out) {
  size_t q = url.find('?');
  if (q == std::string::npos) return false;
  std::string query = url.substr(q + 1, url.find('#', q) - q - 1);
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    std::string pair = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    size_t eq = pair.find('=');
    if (percent_decode(pair.substr(0, eq)) == name) {
      *out = eq == std::string::npos ? "" : percent_decode(pair.substr(eq + 1));
      return true;
    }
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return false;
}

struct line_reader {
  const std::string& text;
  size_t pos = 0;
  bool next(std::string* line) {
    if (pos >= text.size()) return false;
    size_t end = text.find('\n', pos);
    const bool terminated = end != std::string::npos;
    if (!terminated) end = text.size();
    *line = text.substr(pos, end - pos);
    // Lines end in LF or CRLF (RFC 8216 4.1); a CR at the very end, without its LF, is
    // part of the last line, as the hints filter reads it.
    if (terminated && !line->empty() && line->back() == '\r') line->pop_back();
    pos = end + 1;
    return true;
  }
};

bool starts_with(const std::string& s, const char* prefix) {
  return s.compare(0, std::char_traits<char>::length(prefix), prefix) == 0;
}

std::string after(const std::string& s, const char* prefix) {
  return s.substr(std::char_traits<char>::length(prefix));
}

std::string attribute(const std::vector<std::pair<std::string, std::string>>& attributes,
                      const char* name) {
  for (const auto& a : attributes) {
    if (a.first == name) return a.second;
  }
  return "";
}

bool has_attribute(const std::vector<std::pair<std::string, std::string>>& attributes,
                   const char* name) {
  for (const auto& a : attributes) {
    if (a.first == name) return true;
  }
  return false;
}

// The common checks: size limits, no NUL bytes, #EXTM3U first (after an optional BOM).
manifest_status check_text(const std::string& text, const manifest_limits& limits, size_t* start) {
  if (text.size() > limits.max_bytes) return manifest_status::too_large;
  if (text.find('\0') != std::string::npos) return manifest_status::malformed;
  *start = starts_with(text, "\xEF\xBB\xBF") ? 3 : 0;
  if (text.compare(*start, 7, "#EXTM3U") != 0) return manifest_status::malformed;
  char after_tag = text.size() > *start + 7 ? text[*start + 7] : '\n';
  if (after_tag != '\n' && after_tag != '\r') return manifest_status::malformed;
  return manifest_status::ok;
}

}  // namespace

bool hls_parse_attributes(const std::string& text,
                          std::vector<std::pair<std::string, std::string>>* out) {
  out->clear();
  size_t i = 0;
  while (i < text.size()) {
    size_t eq = text.find('=', i);
    if (eq == std::string::npos || eq == i) return false;
    std::string name = text.substr(i, eq - i);
    for (char c : name) {
      if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) return false;
    }
    i = eq + 1;
    std::string value;
    if (i < text.size() && text[i] == '"') {
      size_t close = text.find('"', i + 1);
      if (close == std::string::npos) return false;
      value = text.substr(i + 1, close - i - 1);
      i = close + 1;
    } else {
      size_t comma = text.find(',', i);
      if (comma == std::string::npos) comma = text.size();
      value = text.substr(i, comma - i);
      if (value.empty()) return false;
      i = comma;
    }
    out->emplace_back(std::move(name), std::move(value));
    if (i < text.size()) {
      if (text[i] != ',') return false;
      ++i;
      if (i == text.size()) return false;
    }
  }
  return true;
}

bool hls_is_master(const std::string& text) {
  return text.find("#EXT-X-STREAM-INF") != std::string::npos;
}

manifest_status hls_parse_master(const std::string& text, const std::string& base_url,
                                 const manifest_limits& limits, hls_master_playlist* out) {
  *out = hls_master_playlist();
  size_t start = 0;
  manifest_status status = check_text(text, limits, &start);
  if (status != manifest_status::ok) return status;
  line_reader reader{text, start};
  std::string line;
  std::vector<std::pair<std::string, std::string>> attributes;
  bool pending_variant = false;
  hls_variant variant;
  reader.next(&line);
  while (reader.next(&line)) {
    if (line.size() > limits.max_line_bytes) return manifest_status::too_large;
    if (out->variants.size() + out->renditions.size() > limits.max_items) {
      return manifest_status::too_large;
    }
    if (line.empty()) continue;
    if (starts_with(line, "#EXT-X-STREAM-INF:")) {
      if (!hls_parse_attributes(after(line, "#EXT-X-STREAM-INF:"), &attributes)) {
        return manifest_status::malformed;
      }
      variant = hls_variant();
      if (!parse_int(attribute(attributes, "BANDWIDTH"), &variant.bandwidth)) {
        return manifest_status::malformed;
      }
      variant.resolution = attribute(attributes, "RESOLUTION");
      variant.codecs = attribute(attributes, "CODECS");
      variant.audio_group = attribute(attributes, "AUDIO");
      pending_variant = true;
    } else if (starts_with(line, "#EXT-X-MEDIA:")) {
      if (!hls_parse_attributes(after(line, "#EXT-X-MEDIA:"), &attributes)) {
        return manifest_status::malformed;
      }
      if (has_attribute(attributes, "URI")) {
        hls_rendition rendition;
        rendition.type = attribute(attributes, "TYPE");
        rendition.group_id = attribute(attributes, "GROUP-ID");
        rendition.name = attribute(attributes, "NAME");
        rendition.url = url_resolve(base_url, attribute(attributes, "URI"));
        out->renditions.push_back(std::move(rendition));
      }
    } else if (starts_with(line, "#EXT-X-SESSION-DATA:")) {
      if (!hls_parse_attributes(after(line, "#EXT-X-SESSION-DATA:"), &attributes)) {
        return manifest_status::malformed;
      }
      std::string id = attribute(attributes, "DATA-ID");
      if (starts_with(id, "org.p2p.") && has_attribute(attributes, "VALUE")) {
        std::string value = percent_decode(attribute(attributes, "VALUE"));
        std::string key = after(id, "org.p2p.");
        bool is_url =
            key == "distributor" || key == "tracker" || key == "signalling" || key == "analytics";
        session_hints_set(&out->hints, key, is_url ? url_resolve(base_url, value) : value);
      }
    } else if (line[0] == '#') {
      continue;
    } else if (pending_variant) {
      variant.url = url_resolve(base_url, line);
      out->variants.push_back(variant);
      pending_variant = false;
    }
  }
  if (out->variants.empty()) return manifest_status::malformed;
  return manifest_status::ok;
}

manifest_status hls_parse_media(const std::string& text, const std::string& base_url,
                                const manifest_limits& limits, hls_media_playlist* out) {
  *out = hls_media_playlist();
  size_t start = 0;
  manifest_status status = check_text(text, limits, &start);
  if (status != manifest_status::ok) return status;
  line_reader reader{text, start};
  std::string line;
  std::vector<std::pair<std::string, std::string>> attributes;
  std::map<std::string, int64_t> range_ends;
  bool have_target = false;
  bool pending_hash = false;
  content_hash hash{};
  bool in_segment = false;  // saw EXTINF, waiting for the URI line
  double segment_duration = 0;
  bool has_range = false;
  int64_t range_offset = -1, range_length = -1;
  bool discontinuity = false;
  int64_t sequence = 0;
  double clock = 0;
  bool sequence_fixed = false;
  hls_variables variables;
  std::string uri;  // a URI after variable substitution
  reader.next(&line);

  auto take_hash = [&](media_item* item) {
    if (pending_hash) {
      item->has_hash = true;
      item->hash = hash;
      pending_hash = false;
    }
  };
  auto add_item = [&](media_item item) -> bool {
    if (out->items.size() >= limits.max_items) return false;
    out->items.push_back(std::move(item));
    return true;
  };

  while (reader.next(&line)) {
    if (line.size() > limits.max_line_bytes) return manifest_status::too_large;
    if (line.empty()) continue;
    if (line[0] == '#') {
      if (starts_with(line, "#EXT-X-TARGETDURATION:")) {
        int64_t v = 0;
        if (!parse_int(after(line, "#EXT-X-TARGETDURATION:"), &v)) {
          return manifest_status::malformed;
        }
        out->target_duration = static_cast<double>(v);
        have_target = true;
      } else if (starts_with(line, "#EXT-X-MEDIA-SEQUENCE:")) {
        if (sequence_fixed || !out->items.empty() ||
            !parse_int(after(line, "#EXT-X-MEDIA-SEQUENCE:"), &out->media_sequence)) {
          return manifest_status::malformed;
        }
        sequence = out->media_sequence;
        sequence_fixed = true;
      } else if (starts_with(line, "#EXT-X-PART-INF:")) {
        if (!hls_parse_attributes(after(line, "#EXT-X-PART-INF:"), &attributes) ||
            !parse_decimal(attribute(attributes, "PART-TARGET"), &out->part_target)) {
          return manifest_status::malformed;
        }
      } else if (starts_with(line, "#EXT-X-DEFINE:")) {
        if (!hls_parse_attributes(after(line, "#EXT-X-DEFINE:"), &attributes))
          return manifest_status::malformed;
        if (variables.size() >= 1000) return manifest_status::too_large;
        if (has_attribute(attributes, "NAME") && has_attribute(attributes, "VALUE")) {
          variables.values.emplace_back(attribute(attributes, "NAME"),
                                        attribute(attributes, "VALUE"));
        } else if (has_attribute(attributes, "QUERYPARAM")) {
          std::string name = attribute(attributes, "QUERYPARAM");
          std::string value;
          if (query_parameter(base_url, name, &value))
            variables.values.emplace_back(name, value);
          else
            variables.unknown_values.push_back(name);
        } else if (has_attribute(attributes, "IMPORT")) {
          variables.unknown_values.push_back(attribute(attributes, "IMPORT"));
        } else {
          return manifest_status::malformed;
        }
      } else if (starts_with(line, "#EXT-X-PLAYLIST-TYPE:")) {
        out->playlist_type = after(line, "#EXT-X-PLAYLIST-TYPE:");
      } else if (line == "#EXT-X-ENDLIST") {
        out->endlist = true;
      } else if (line == "#EXT-X-DISCONTINUITY") {
        discontinuity = true;
      } else if (starts_with(line, "#EXT-P2P-SWARM:")) {
        out->swarm_id = after(line, "#EXT-P2P-SWARM:");
        if (out->swarm_id.size() > wire_max_swarm_id) out->swarm_id.clear();
      } else if (starts_with(line, "#EXT-P2P-SHA256:")) {
        // A malformed hash only means this item is HTTP-only, not that the playlist
        // is unplayable.
        pending_hash = content_hash_from_hex(after(line, "#EXT-P2P-SHA256:"), &hash);
      } else if (starts_with(line, "#EXTINF:")) {
        std::string value = after(line, "#EXTINF:");
        size_t comma = value.find(',');
        if (!parse_decimal(value.substr(0, comma), &segment_duration)) {
          return manifest_status::malformed;
        }
        in_segment = true;
      } else if (starts_with(line, "#EXT-X-BYTERANGE:")) {
        has_range = true;
        std::string spec = after(line, "#EXT-X-BYTERANGE:");
        size_t at = spec.find('@');
        if (!parse_int(spec.substr(0, at), &range_length)) return manifest_status::malformed;
        range_offset = -1;
        if (at != std::string::npos && !parse_int(spec.substr(at + 1), &range_offset)) {
          return manifest_status::malformed;
        }
      } else if (starts_with(line, "#EXT-X-MAP:")) {
        if (!hls_parse_attributes(after(line, "#EXT-X-MAP:"), &attributes) ||
            !has_attribute(attributes, "URI")) {
          return manifest_status::malformed;
        }
        if (!variables.substitute(attribute(attributes, "URI"), &uri))
          return manifest_status::malformed;
        media_item item;
        item.kind = media_item_kind::init;
        item.url = url_resolve(base_url, uri);
        item.sequence = sequence;
        item.start = clock;
        if (has_attribute(attributes, "BYTERANGE")) {
          // EXT-X-MAP byte ranges always carry their offset (RFC 8216 4.3.2.5), but be
          // lenient like players: a missing one means 0.
          std::string spec;
          if (!variables.substitute(attribute(attributes, "BYTERANGE"), &spec))
            return manifest_status::malformed;
          size_t at = spec.find('@');
          if (!parse_int(spec.substr(0, at), &item.range_length)) {
            return manifest_status::malformed;
          }
          item.range_offset = 0;
          if (at != std::string::npos && !parse_int(spec.substr(at + 1), &item.range_offset)) {
            return manifest_status::malformed;
          }
        }
        take_hash(&item);
        if (!add_item(std::move(item))) return manifest_status::too_large;
      } else if (starts_with(line, "#EXT-X-PART:")) {
        if (!hls_parse_attributes(after(line, "#EXT-X-PART:"), &attributes) ||
            !has_attribute(attributes, "URI")) {
          return manifest_status::malformed;
        }
        if (!variables.substitute(attribute(attributes, "URI"), &uri))
          return manifest_status::malformed;
        media_item item;
        item.kind = media_item_kind::part;
        item.url = url_resolve(base_url, uri);
        item.sequence = sequence;
        item.start = clock;
        if (!parse_decimal(attribute(attributes, "DURATION"), &item.duration)) {
          return manifest_status::malformed;
        }
        if (has_attribute(attributes, "BYTERANGE")) {
          std::string spec;
          if (!variables.substitute(attribute(attributes, "BYTERANGE"), &spec) ||
              !parse_byterange(spec, item.url, range_ends, &item.range_offset,
                               &item.range_length)) {
            return manifest_status::malformed;
          }
          range_ends[item.url] = item.range_offset + item.range_length;
        }
        take_hash(&item);
        if (!add_item(std::move(item))) return manifest_status::too_large;
      }
      continue;
    }
    // A URI line: a segment when an EXTINF preceded it.
    if (!in_segment) return manifest_status::malformed;
    if (!variables.substitute(line, &uri)) return manifest_status::malformed;
    media_item item;
    item.kind = media_item_kind::segment;
    item.url = url_resolve(base_url, uri);
    item.duration = segment_duration;
    item.start = clock;
    item.sequence = sequence;
    item.discontinuity = discontinuity;
    if (has_range) {
      item.range_length = range_length;
      item.range_offset = range_offset;
      if (range_offset < 0) {
        auto it = range_ends.find(item.url);
        if (it == range_ends.end()) return manifest_status::malformed;
        item.range_offset = it->second;
      }
      range_ends[item.url] = item.range_offset + item.range_length;
    }
    take_hash(&item);
    if (!add_item(std::move(item))) return manifest_status::too_large;
    clock += segment_duration;
    ++sequence;
    in_segment = false;
    has_range = false;
    discontinuity = false;
    pending_hash = false;
  }
  if (!have_target) return manifest_status::malformed;
  out->total_duration = clock;
  return manifest_status::ok;
}

int64_t hls_reload_delay_ms(const hls_media_playlist& playlist, bool changed) {
  double unit = playlist.part_target > 0 ? playlist.part_target : playlist.target_duration;
  if (unit <= 0) unit = 1;
  if (!changed) unit /= 2;
  int64_t ms = static_cast<int64_t>(unit * 1000);
  return ms < 100 ? 100 : ms;
}

}  // namespace p2p
