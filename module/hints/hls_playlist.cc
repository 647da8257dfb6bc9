// HLS (RFC 8216 / 8216bis) side of the manifest rewriter: a line scanner that lists
// the hashable items and records where the hint lines go. Lines it does not need are
// never parsed, so they are copied exactly as they came.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "common/hls_variable.h"
#include "module/hints/manifest_output.h"

namespace p2p {
namespace hints {
namespace manifest_detail {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

// "#EXT-X-PART:..." has tag "#EXT-X-PART", not "#EXT-X-PART-INF".
bool is_tag(std::string_view line, std::string_view tag) {
  return starts_with(line, tag) && (line.size() == tag.size() || line[tag.size()] == ':');
}

std::string_view tag_value(std::string_view line, std::string_view tag) {
  return line.size() > tag.size() ? line.substr(tag.size() + 1) : std::string_view();
}

bool parse_decimal(std::string_view text, uint64_t& value) {
  if (text.empty() || text.size() > 20) return false;
  value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return false;
    value = value * 10 + digit;
  }
  return true;
}

struct attribute {
  std::string_view name;
  std::string_view value;  // without quotes
  bool quoted = false;
};

// RFC 8216 4.2 attribute list; tolerates blanks around separators, which some
// packagers write, but nothing else.
bool parse_attribute_list(std::string_view text, std::vector<attribute>& out) {
  out.clear();
  size_t pos = 0;
  auto skip_blanks = [&] {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
  };
  skip_blanks();
  while (pos < text.size()) {
    size_t name_start = pos;
    while (pos < text.size() && ((text[pos] >= 'A' && text[pos] <= 'Z') ||
                                 (text[pos] >= '0' && text[pos] <= '9') || text[pos] == '-')) {
      ++pos;
    }
    if (pos == name_start || pos >= text.size() || text[pos] != '=') return false;
    attribute attr;
    attr.name = text.substr(name_start, pos - name_start);
    ++pos;
    if (pos < text.size() && text[pos] == '"') {
      size_t close = text.find('"', pos + 1);
      if (close == std::string_view::npos) return false;
      attr.value = text.substr(pos + 1, close - pos - 1);
      attr.quoted = true;
      pos = close + 1;
    } else {
      size_t end = text.find(',', pos);
      if (end == std::string_view::npos) end = text.size();
      attr.value = text.substr(pos, end - pos);
      while (!attr.value.empty() && (attr.value.back() == ' ' || attr.value.back() == '\t')) {
        attr.value.remove_suffix(1);
      }
      pos = end;
    }
    out.push_back(attr);
    if (out.size() > 256) return false;
    skip_blanks();
    if (pos < text.size()) {
      if (text[pos] != ',') return false;
      ++pos;
      skip_blanks();
    }
  }
  return true;
}

const attribute* find_attribute(const std::vector<attribute>& attrs, std::string_view name) {
  for (const attribute& attr : attrs) {
    if (attr.name == name) return &attr;
  }
  return nullptr;
}

// "<n>[@<o>]"
bool parse_byterange(std::string_view text, uint64_t& length, std::optional<uint64_t>& offset) {
  size_t at = text.find('@');
  if (!parse_decimal(text.substr(0, at), length)) return false;
  offset.reset();
  if (at != std::string_view::npos) {
    uint64_t value = 0;
    if (!parse_decimal(text.substr(at + 1), value)) return false;
    offset = value;
  }
  return offset.value_or(0) <= UINT64_MAX - length;
}

// Where the previous range of a resource ended, for ranges without an offset.
struct range_chain {
  std::string uri;
  uint64_t end = 0;
  bool valid = false;

  bool resolve(const std::string& item_uri, uint64_t length, std::optional<uint64_t> offset,
               byte_range& range) {
    if (!offset) {
      if (!valid || uri != item_uri) return false;
      offset = end;
      if (end > UINT64_MAX - length) return false;
    }
    range.offset = *offset;
    range.length = length;
    uri = item_uri;
    end = *offset + length;
    valid = true;
    return true;
  }
  void reset() { valid = false; }
};

// EXT-X-DEFINE variables (RFC 8216bis 4.4.2.3). A QUERYPARAM or IMPORT variable gets
// its value from outside this playlist, so a URI using one cannot be listed.
struct playlist_variables {
  std::vector<std::pair<std::string, std::string>> defined;
  std::vector<std::string> external;

  const std::string* find(std::string_view name) const {
    for (const auto& [key, value] : defined) {
      if (key == name) return &value;
    }
    return nullptr;
  }
  bool is_external(std::string_view name) const {
    for (const std::string& key : external) {
      if (key == name) return true;
    }
    return false;
  }

  // Replaces every "{$name}" of `text`; fails without output on an unknown name.
  rewrite_status substitute(std::string_view text, size_t max_bytes, std::string& out) const {
    out.clear();
    size_t pos = 0;
    while (pos < text.size()) {
      size_t open = text.find("{$", pos);
      if (open == std::string_view::npos) {
        out.append(text.substr(pos));
        break;
      }
      out.append(text.substr(pos, open - pos));
      size_t close = text.find('}', open + 2);
      if (close == std::string_view::npos) {
        out.append(text.substr(open));
        break;
      }
      std::string_view name = text.substr(open + 2, close - open - 2);
      if (!hls_variable_name(name)) {  // not a reference: "{$" stays literal text
        out.append("{$");
        pos = open + 2;
        continue;
      }
      const std::string* value = find(name);
      if (value == nullptr) {
        return is_external(name) ? rewrite_status::unsupported : rewrite_status::malformed;
      }
      out.append(*value);
      if (out.size() > max_bytes) return rewrite_status::too_large;
      pos = close + 1;
    }
    return rewrite_status::ok;
  }
};

std::string line_reason(const char* what, size_t line_number) {
  return std::string(what) + " at line " + std::to_string(line_number);
}

}  // namespace

parse_outcome parse_hls(std::string_view bytes, manifest_kind kind, const manifest_options& options,
                        bool with_insertions, rewrite_plan& plan) {
  if (bytes.find('\0') != std::string_view::npos) {
    return {rewrite_status::malformed, "NUL byte in playlist"};
  }
  const bool media = kind == manifest_kind::hls_media;
  if (media) {
    // A segment takes at least ~24 bytes (EXTINF line + URI line): one allocation each.
    size_t expected = std::min(options.max_items, bytes.size() / 24 + 1);
    plan.items.reserve(expected);
    if (with_insertions) plan.insertions.reserve(expected + 1);
  }
  std::vector<attribute> attrs;
  playlist_variables variables;
  std::string substituted;
  std::optional<std::pair<uint64_t, std::optional<uint64_t>>> pending_byterange;
  range_chain segment_chain;
  range_chain part_chain;
  std::string_view first_eol = "\n";
  // Already hinted upstream: keep listing (so items can be compared), report at the end.
  std::string hinted_reason;
  size_t pos = 0;
  size_t line_number = 0;

  auto add_item = [&](std::string uri, media_item_kind item_kind, std::optional<byte_range> range,
                      size_t line_start, std::string_view eol) -> bool {
    if (plan.items.size() >= options.max_items) return false;
    media_item item;
    item.uri = std::move(uri);
    item.kind = item_kind;
    item.range = range;
    item.index = plan.items.size();
    plan.items.push_back(std::move(item));
    if (with_insertions) {
      insertion at;
      at.at = line_start;
      at.kind = insertion_kind::hls_hash_line;
      at.item = plan.items.size() - 1;
      at.eol = eol.empty() ? first_eol : eol;
      plan.insertions.push_back(at);
    }
    return true;
  };

  while (pos < bytes.size()) {
    ++line_number;
    const size_t line_start = pos;
    size_t newline = bytes.find('\n', pos);
    size_t line_end = newline == std::string_view::npos ? bytes.size() : newline;
    pos = newline == std::string_view::npos ? bytes.size() : newline + 1;
    std::string_view line = bytes.substr(line_start, line_end - line_start);
    std::string_view eol;
    if (newline != std::string_view::npos) {
      bool crlf = !line.empty() && line.back() == '\r';
      if (crlf) line.remove_suffix(1);
      eol = crlf ? "\r\n" : "\n";
    }
    if (line.size() > options.max_line_bytes) {
      return {rewrite_status::too_large, line_reason("line longer than the cap", line_number)};
    }

    if (line_number == 1) {
      std::string_view first = line;
      while (!first.empty() && (first.back() == ' ' || first.back() == '\t'))
        first.remove_suffix(1);
      if (first != "#EXTM3U") return {rewrite_status::malformed, "first line is not #EXTM3U"};
      if (!eol.empty()) first_eol = eol;
      if (with_insertions) {
        insertion at;
        at.at = pos;
        at.kind = media ? insertion_kind::hls_swarm_line : insertion_kind::hls_session_lines;
        at.eol = first_eol;
        at.eol_before = eol.empty();
        plan.insertions.push_back(at);
      }
      continue;
    }

    if (starts_with(line, "#EXT-P2P-")) {
      if (hinted_reason.empty()) hinted_reason = line_reason("p2p tag present", line_number);
      continue;
    }
    if (line.empty() || line.find_first_not_of(" \t") == std::string_view::npos) continue;

    if (!media) {
      if (is_tag(line, "#EXTINF")) {
        return {rewrite_status::malformed, line_reason("EXTINF in a master playlist", line_number)};
      }
      if (is_tag(line, "#EXT-X-SESSION-DATA")) {
        if (!parse_attribute_list(tag_value(line, "#EXT-X-SESSION-DATA"), attrs)) {
          return {rewrite_status::malformed, line_reason("bad attribute list", line_number)};
        }
        const attribute* id = find_attribute(attrs, "DATA-ID");
        if (id != nullptr && starts_with(id->value, "org.p2p.") && hinted_reason.empty()) {
          hinted_reason = line_reason("org.p2p session data present", line_number);
        }
      }
      continue;
    }

    // Only URI lines and a few EXT-X- tags matter here; everything else is copied as is.
    if (line[0] == '#' && !starts_with(line, "#EXT-X-")) continue;
    if (is_tag(line, "#EXT-X-STREAM-INF") || is_tag(line, "#EXT-X-I-FRAME-STREAM-INF")) {
      return {rewrite_status::malformed,
              line_reason("master tag in a media playlist", line_number)};
    }
    if (is_tag(line, "#EXT-X-DEFINE")) {
      if (!parse_attribute_list(tag_value(line, "#EXT-X-DEFINE"), attrs)) {
        return {rewrite_status::malformed, line_reason("bad attribute list", line_number)};
      }
      if (variables.defined.size() + variables.external.size() >= 1000) {
        return {rewrite_status::too_large, line_reason("too many EXT-X-DEFINE", line_number)};
      }
      const attribute* name = find_attribute(attrs, "NAME");
      const attribute* value = find_attribute(attrs, "VALUE");
      const attribute* query = find_attribute(attrs, "QUERYPARAM");
      const attribute* import = find_attribute(attrs, "IMPORT");
      if (name != nullptr && value != nullptr && name->quoted && value->quoted) {
        variables.defined.emplace_back(name->value, value->value);
      } else if (query != nullptr && query->quoted) {
        variables.external.emplace_back(query->value);
      } else if (import != nullptr && import->quoted) {
        variables.external.emplace_back(import->value);
      } else {
        return {rewrite_status::malformed, line_reason("bad EXT-X-DEFINE", line_number)};
      }
      continue;
    }
    if (is_tag(line, "#EXT-X-BYTERANGE")) {
      uint64_t length = 0;
      std::optional<uint64_t> offset;
      if (!parse_byterange(tag_value(line, "#EXT-X-BYTERANGE"), length, offset)) {
        return {rewrite_status::malformed, line_reason("bad EXT-X-BYTERANGE", line_number)};
      }
      pending_byterange.emplace(length, offset);
      continue;
    }
    const bool map = is_tag(line, "#EXT-X-MAP");
    const bool part = is_tag(line, "#EXT-X-PART");
    if (map || part) {
      if (!parse_attribute_list(tag_value(line, map ? "#EXT-X-MAP" : "#EXT-X-PART"), attrs)) {
        return {rewrite_status::malformed, line_reason("bad attribute list", line_number)};
      }
      const attribute* uri = find_attribute(attrs, "URI");
      if (uri == nullptr || !uri->quoted || uri->value.empty()) {
        return {rewrite_status::malformed, line_reason("tag without URI", line_number)};
      }
      rewrite_status substitution =
          variables.substitute(uri->value, options.max_line_bytes, substituted);
      if (substitution != rewrite_status::ok) {
        return {substitution, line_reason("URI with an unresolvable variable", line_number)};
      }
      std::string item_uri = substituted;
      std::optional<byte_range> range;
      if (const attribute* br = find_attribute(attrs, "BYTERANGE")) {
        uint64_t length = 0;
        std::optional<uint64_t> offset;
        if (!br->quoted ||
            variables.substitute(br->value, options.max_line_bytes, substituted) !=
                rewrite_status::ok ||
            !parse_byterange(substituted, length, offset)) {
          return {rewrite_status::malformed, line_reason("bad BYTERANGE", line_number)};
        }
        byte_range resolved;
        if (map) {
          // EXT-X-MAP BYTERANGE always carries its offset; RFC 8216 4.3.2.5.
          resolved.offset = offset.value_or(0);
          resolved.length = length;
        } else if (!part_chain.resolve(item_uri, length, offset, resolved)) {
          return {rewrite_status::malformed,
                  line_reason("part BYTERANGE without offset or previous range", line_number)};
        }
        range = resolved;
      } else if (part) {
        part_chain.reset();
      }
      if (!add_item(std::move(item_uri), map ? media_item_kind::init : media_item_kind::part, range,
                    line_start, eol)) {
        return {rewrite_status::too_large, "more media items than the cap"};
      }
      continue;
    }
    if (line[0] == '#') continue;

    // A URI line: the segment the preceding tags describe.
    rewrite_status substitution = variables.substitute(line, options.max_line_bytes, substituted);
    if (substitution != rewrite_status::ok) {
      return {substitution, line_reason("URI with an unresolvable variable", line_number)};
    }
    std::string uri = substituted;
    std::optional<byte_range> range;
    if (pending_byterange) {
      byte_range resolved;
      if (!segment_chain.resolve(uri, pending_byterange->first, pending_byterange->second,
                                 resolved)) {
        return {rewrite_status::malformed,
                line_reason("EXT-X-BYTERANGE without offset or previous range", line_number)};
      }
      range = resolved;
      pending_byterange.reset();
    } else {
      segment_chain.reset();
    }
    if (!add_item(std::move(uri), media_item_kind::segment, range, line_start, eol)) {
      return {rewrite_status::too_large, "more media items than the cap"};
    }
  }
  if (line_number == 0) return {rewrite_status::malformed, "empty playlist"};
  if (pending_byterange) return {rewrite_status::malformed, "EXT-X-BYTERANGE without a segment"};
  if (!hinted_reason.empty()) return {rewrite_status::already_hinted, hinted_reason};
  return {};
}

}  // namespace manifest_detail
}  // namespace hints
}  // namespace p2p
