// DASH (ISO/IEC 23009-1) side of the manifest rewriter: builds the little of the MPD
// model that segment addressing needs (Period / AdaptationSet / Representation,
// BaseURL, SegmentTemplate / SegmentList / SegmentBase, SegmentTimeline) from the XML
// tokenizer's events, then expands it into media items and insertion points.
#include <algorithm>
#include <cmath>
#include <deque>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "module/hints/manifest_output.h"
#include "module/hints/xml_tokenizer.h"

namespace p2p {
namespace hints {
namespace manifest_detail {
namespace {

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r' ||
                           text.front() == '\n')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                           text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

// MPDs without any namespace declaration are common in the wild; the old upper-case
// spelling of the namespace too.
bool is_dash_namespace(std::string_view ns) {
  return ns.empty() || equals_ignore_case(ns, "urn:mpeg:dash:schema:mpd:2011");
}

constexpr std::string_view kHintNamespace = "urn:p2p:2026";

bool parse_unsigned(std::string_view text, uint64_t& value) {
  text = trim(text);
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

bool parse_signed(std::string_view text, int64_t& value) {
  text = trim(text);
  bool negative = !text.empty() && text[0] == '-';
  if (negative) text.remove_prefix(1);
  uint64_t magnitude = 0;
  if (!parse_unsigned(text, magnitude) || magnitude > static_cast<uint64_t>(INT64_MAX)) {
    return false;
  }
  value = negative ? -static_cast<int64_t>(magnitude) : static_cast<int64_t>(magnitude);
  return true;
}

// xs:duration without years and months (their length in seconds is not defined).
rewrite_status parse_duration(std::string_view text, double& seconds) {
  text = trim(text);
  if (text.empty() || text[0] != 'P') return rewrite_status::malformed;
  text.remove_prefix(1);
  seconds = 0;
  bool in_time = false;
  bool any = false;
  while (!text.empty()) {
    if (text[0] == 'T') {
      if (in_time) return rewrite_status::malformed;
      in_time = true;
      text.remove_prefix(1);
      continue;
    }
    size_t len = 0;
    while (len < text.size() && ((text[len] >= '0' && text[len] <= '9') || text[len] == '.')) ++len;
    if (len == 0 || len > 24 || len >= text.size()) return rewrite_status::malformed;
    double value = 0;
    double scale = 0;
    for (size_t i = 0; i < len; ++i) {
      if (text[i] == '.') {
        if (scale != 0) return rewrite_status::malformed;
        scale = 1;
        continue;
      }
      if (scale != 0) {
        scale /= 10;
        value += (text[i] - '0') * scale;
      } else {
        value = value * 10 + (text[i] - '0');
      }
    }
    char designator = text[len];
    text.remove_prefix(len + 1);
    any = true;
    if (!in_time && (designator == 'Y' || designator == 'M')) return rewrite_status::unsupported;
    if (!in_time && designator == 'D') {
      seconds += value * 86400;
    } else if (in_time && designator == 'H') {
      seconds += value * 3600;
    } else if (in_time && designator == 'M') {
      seconds += value * 60;
    } else if (in_time && designator == 'S') {
      seconds += value;
    } else {
      return rewrite_status::malformed;
    }
  }
  return any ? rewrite_status::ok : rewrite_status::malformed;
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// xs:dateTime "YYYY-MM-DDThh:mm:ss[.fff][Z|+hh:mm|-hh:mm]" to Unix milliseconds
// (no zone: UTC, as DASH-IF IOP requires anyway).
bool parse_date_time(std::string_view text, int64_t& unix_ms) {
  text = trim(text);
  auto digits = [&](size_t at, size_t count, int64_t& out) {
    if (at + count > text.size()) return false;
    out = 0;
    for (size_t i = at; i < at + count; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  int64_t year, month, day, hour, minute, second;
  if (!digits(0, 4, year) || text.size() < 19 || text[4] != '-' || !digits(5, 2, month) ||
      text[7] != '-' || !digits(8, 2, day) || text[10] != 'T' || !digits(11, 2, hour) ||
      text[13] != ':' || !digits(14, 2, minute) || text[16] != ':' || !digits(17, 2, second)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 || second > 60) {
    return false;
  }
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int64_t scale = 100;
    size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      millis += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return false;
  }
  int64_t offset_minutes = 0;
  if (pos < text.size()) {
    if (text[pos] == 'Z' && pos + 1 == text.size()) {
      pos += 1;
    } else if ((text[pos] == '+' || text[pos] == '-') && pos + 6 == text.size()) {
      int64_t oh, om;
      if (!digits(pos + 1, 2, oh) || text[pos + 3] != ':' || !digits(pos + 4, 2, om)) return false;
      offset_minutes = (oh * 60 + om) * (text[pos] == '-' ? -1 : 1);
    } else {
      return false;
    }
  }
  int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  unix_ms = (((days * 24 + hour) * 60 + minute - offset_minutes) * 60 + second) * 1000 + millis;
  return true;
}

bool has_scheme(std::string_view uri) {
  size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  if (uri.find_first_of("/?#") < colon) return false;
  for (size_t i = 0; i < colon; ++i) {
    char c = uri[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!(alpha || (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.')))) {
      return false;
    }
  }
  return true;
}

// RFC 3986 5.2 merge of a reference onto a base that may itself still be relative
// (the glue resolves the result against the manifest URI). Dot segments are kept.
std::string resolve_reference(std::string_view base, std::string_view ref) {
  if (base.empty() || has_scheme(ref)) return std::string(ref);
  if (ref.empty()) return std::string(base);
  if (ref[0] == '#') return std::string(base.substr(0, base.find('#'))) + std::string(ref);
  base = base.substr(0, base.find_first_of("?#"));
  if (ref[0] == '?') return std::string(base) + std::string(ref);
  // Split the base into scheme ":" / "//" authority / path (RFC 3986 section 3).
  size_t path_start = 0;
  size_t scheme_end = 0;  // just after "scheme:", 0 when the base has no scheme
  if (has_scheme(base)) {
    scheme_end = base.find(':') + 1;
    path_start = scheme_end;
  }
  const bool has_authority = base.compare(path_start, 2, "//") == 0;
  if (has_authority) {
    path_start = base.find('/', path_start + 2);
    if (path_start == std::string_view::npos) path_start = base.size();
  }
  if (starts_with(ref, "//")) return std::string(base.substr(0, scheme_end)) + std::string(ref);
  if (ref[0] == '/') return std::string(base.substr(0, path_start)) + std::string(ref);
  // Merge (5.2.3): an authority with an empty path merges to "/ref", otherwise the
  // base path up to its last '/'.
  if (has_authority && path_start == base.size()) return std::string(base) + "/" + std::string(ref);
  size_t slash = base.rfind('/');
  // A base whose last segment is "." or ".." names a directory: resolved on its own (as
  // the client resolves each BaseURL) "a/b/.." is "a/", so references go below it, not
  // beside it. The dot segment stays; the final resolution removes it.
  std::string_view last =
      base.substr(slash == std::string_view::npos || slash < path_start ? path_start : slash + 1);
  if (last == "." || last == "..") return std::string(base) + "/" + std::string(ref);
  if (slash == std::string_view::npos || slash < path_start) {
    return std::string(base.substr(0, path_start)) + std::string(ref);
  }
  return std::string(base.substr(0, slash + 1)) + std::string(ref);
}

// "first-last" (RFC 7233 byte-range-spec, both ends present).
rewrite_status parse_media_range(std::string_view text, byte_range& range) {
  text = trim(text);
  size_t dash = text.find('-');
  uint64_t first = 0, last = 0;
  if (dash == std::string_view::npos || !parse_unsigned(text.substr(0, dash), first)) {
    return rewrite_status::malformed;
  }
  if (trim(text.substr(dash + 1)).empty()) return rewrite_status::unsupported;
  if (!parse_unsigned(text.substr(dash + 1), last) || last < first || last - first == UINT64_MAX) {
    return rewrite_status::malformed;
  }
  range.offset = first;
  range.length = last - first + 1;
  return rewrite_status::ok;
}

struct url_ref {
  bool present = false;
  bool has_source = false;
  std::string source;
  bool has_range = false;
  std::string range;
};

struct segment_info {
  bool present = false;
  std::optional<std::string> media;
  std::optional<std::string> initialization;
  std::optional<uint64_t> timescale;
  std::optional<uint64_t> duration;
  std::optional<uint64_t> start_number;
  std::optional<uint64_t> end_number;
  std::optional<uint64_t> presentation_time_offset;
  url_ref init;
  int timeline = -1;
  std::vector<url_ref> urls;

  // Attributes of a lower level override those of a higher one (5.3.9.1).
  void inherit_from(const segment_info& lower) {
    if (!lower.present) return;
    present = true;
    if (lower.media) media = lower.media;
    if (lower.initialization) initialization = lower.initialization;
    if (lower.timescale) timescale = lower.timescale;
    if (lower.duration) duration = lower.duration;
    if (lower.start_number) start_number = lower.start_number;
    if (lower.end_number) end_number = lower.end_number;
    if (lower.presentation_time_offset) presentation_time_offset = lower.presentation_time_offset;
    if (lower.init.present) init = lower.init;
    if (lower.timeline >= 0) timeline = lower.timeline;
    if (!lower.urls.empty()) urls = lower.urls;
  }
};

struct level {
  bool has_base_url = false;
  std::string base_url;
  segment_info segment_template;
  segment_info segment_list;
  segment_info segment_base;
};

struct timeline_entry {
  std::optional<uint64_t> t;
  std::optional<uint64_t> n;  // S@n (5th edition): the segment number of this S
  uint64_t d = 0;
  int64_t r = 0;
};

struct representation_model;

struct adaptation_model {
  level lv;
  size_t property_at = 0;
  bool property_frozen = false;
  std::string_view prefix;
  std::vector<representation_model*> representations;
};

struct representation_model {
  level lv;
  std::string id;
  std::string bandwidth;
  size_t property_at = 0;
  bool property_frozen = false;
  std::optional<size_t> hashes_at;
  size_t end_tag_begin = 0;
  bool self_closing = false;
  size_t slash = 0;
  std::string_view qname;
  std::string_view prefix;
};

struct period_model {
  level lv;
  std::optional<double> start;
  std::optional<double> duration;
  std::vector<adaptation_model*> adaptation_sets;
};

enum class role {
  mpd,
  period,
  adaptation_set,
  representation,
  segment_template,
  segment_list,
  segment_base,
  timeline,
  s,
  segment_url,
  initialization,
  base_url,
  other
};

struct frame {
  role what = role::other;
  level* lv = nullptr;              // mpd, period, adaptation set, representation, base_url
  segment_info* segment = nullptr;  // segment_* and their children
  adaptation_model* adaptation = nullptr;
  representation_model* representation = nullptr;
  int timeline = -1;
  // Set for a property child of an AdaptationSet / Representation: its end moves the
  // parent's insertion point for our SupplementalProperty.
  size_t* extends_property_at = nullptr;
  bool collecting_text = false;
  std::string text;
};

const std::string_view kPropertyElements[] = {"FramePacking",      "AudioChannelConfiguration",
                                              "ContentProtection", "OutputProtection",
                                              "EssentialProperty", "SupplementalProperty"};
const std::string_view kSegmentAddressingElements[] = {
    "BaseURL", "SubRepresentation", "SegmentBase", "SegmentList", "SegmentTemplate"};

template <size_t N>
bool is_one_of(std::string_view name, const std::string_view (&names)[N]) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

class mpd_builder : public xml_handler {
 public:
  explicit mpd_builder(const manifest_options& options) : options_(options) {}

  parse_outcome start_element(const xml_start_tag& tag) override;
  parse_outcome end_element(const xml_end_tag& tag) override;
  parse_outcome text(std::string_view raw, bool cdata) override;

  parse_outcome build(bool with_insertions, rewrite_plan& plan);

 private:
  parse_outcome attribute_text(const xml_start_tag& tag, std::string_view name,
                               std::optional<std::string>& out);
  parse_outcome attribute_unsigned(const xml_start_tag& tag, std::string_view name,
                                   std::optional<uint64_t>& out);
  parse_outcome attribute_duration(const xml_start_tag& tag, std::string_view name,
                                   std::optional<double>& out);
  parse_outcome read_segment_info(const xml_start_tag& tag, segment_info& info);
  parse_outcome open_child(const frame& parent, const xml_start_tag& tag, bool dash, frame& f);
  parse_outcome list_representation(const period_model& period, const adaptation_model& adaptation,
                                    representation_model& rep, std::optional<double> period_start,
                                    std::optional<double> period_duration, rewrite_plan& plan);
  parse_outcome add_item(rewrite_plan& plan, media_item item);

  const manifest_options& options_;
  std::vector<frame> frames_;
  level mpd_level_;
  bool dynamic_ = false;
  std::optional<double> presentation_duration_;
  std::optional<double> time_shift_buffer_depth_;
  std::optional<int64_t> availability_start_ms_;
  std::deque<period_model> periods_;
  std::deque<adaptation_model> adaptation_sets_;
  std::deque<representation_model> representations_;
  std::vector<std::vector<timeline_entry>> timelines_;
  size_t timeline_entries_ = 0;
  std::string hinted_reason_;
};

parse_outcome mpd_builder::attribute_text(const xml_start_tag& tag, std::string_view name,
                                          std::optional<std::string>& out) {
  const std::string_view* raw = tag.attribute(name);
  if (raw == nullptr) return {};
  std::string decoded;
  if (!decode_xml_text(*raw, &decoded)) return {rewrite_status::malformed, "bad attribute value"};
  out = std::move(decoded);
  return {};
}

parse_outcome mpd_builder::attribute_unsigned(const xml_start_tag& tag, std::string_view name,
                                              std::optional<uint64_t>& out) {
  std::optional<std::string> text;
  parse_outcome outcome = attribute_text(tag, name, text);
  if (outcome.status != rewrite_status::ok || !text) return outcome;
  uint64_t value = 0;
  if (!parse_unsigned(*text, value)) {
    return {rewrite_status::malformed, "bad number in @" + std::string(name)};
  }
  out = value;
  return {};
}

parse_outcome mpd_builder::attribute_duration(const xml_start_tag& tag, std::string_view name,
                                              std::optional<double>& out) {
  std::optional<std::string> text;
  parse_outcome outcome = attribute_text(tag, name, text);
  if (outcome.status != rewrite_status::ok || !text) return outcome;
  double seconds = 0;
  rewrite_status status = parse_duration(*text, seconds);
  if (status != rewrite_status::ok) return {status, "bad duration in @" + std::string(name)};
  out = seconds;
  return {};
}

parse_outcome mpd_builder::read_segment_info(const xml_start_tag& tag, segment_info& info) {
  info.present = true;
  parse_outcome outcome;
  if ((outcome = attribute_text(tag, "media", info.media)).status != rewrite_status::ok ||
      (outcome = attribute_text(tag, "initialization", info.initialization)).status !=
          rewrite_status::ok ||
      (outcome = attribute_unsigned(tag, "timescale", info.timescale)).status !=
          rewrite_status::ok ||
      (outcome = attribute_unsigned(tag, "duration", info.duration)).status != rewrite_status::ok ||
      (outcome = attribute_unsigned(tag, "startNumber", info.start_number)).status !=
          rewrite_status::ok ||
      (outcome = attribute_unsigned(tag, "endNumber", info.end_number)).status !=
          rewrite_status::ok ||
      (outcome = attribute_unsigned(tag, "presentationTimeOffset", info.presentation_time_offset))
              .status != rewrite_status::ok) {
    return outcome;
  }
  if (info.timescale && *info.timescale == 0) return {rewrite_status::malformed, "@timescale 0"};
  return {};
}

parse_outcome mpd_builder::open_child(const frame& parent, const xml_start_tag& tag, bool dash,
                                      frame& f) {
  std::string_view local = tag.local;
  auto segment_element = [&](level& lv) -> parse_outcome {
    if (local == "SegmentTemplate") {
      f.what = role::segment_template;
      f.segment = &lv.segment_template;
    } else if (local == "SegmentList") {
      f.what = role::segment_list;
      f.segment = &lv.segment_list;
    } else {
      f.what = role::segment_base;
      f.segment = &lv.segment_base;
    }
    *f.segment = segment_info{};
    return read_segment_info(tag, *f.segment);
  };
  auto base_url_element = [&](level& lv) {
    f.what = role::base_url;
    f.lv = &lv;
    f.collecting_text = !lv.has_base_url;
  };
  bool segment_like =
      local == "SegmentTemplate" || local == "SegmentList" || local == "SegmentBase";
  if (!dash) return {};

  switch (parent.what) {
    case role::mpd:
      if (local == "Period") {
        periods_.emplace_back();
        f.what = role::period;
        f.lv = &periods_.back().lv;
        parse_outcome outcome = attribute_duration(tag, "start", periods_.back().start);
        if (outcome.status != rewrite_status::ok) return outcome;
        return attribute_duration(tag, "duration", periods_.back().duration);
      }
      if (local == "BaseURL") base_url_element(*parent.lv);
      return {};
    case role::period:
    case role::adaptation_set:
    case role::representation:
      if (local == "BaseURL") {
        base_url_element(*parent.lv);
        return {};
      }
      if (segment_like) return segment_element(*parent.lv);
      if (parent.what == role::period && local == "AdaptationSet") {
        adaptation_sets_.emplace_back();
        adaptation_model& as = adaptation_sets_.back();
        as.property_at = tag.end;
        as.prefix = tag.prefix;
        periods_.back().adaptation_sets.push_back(&as);
        f.what = role::adaptation_set;
        f.lv = &as.lv;
        f.adaptation = &as;
        return {};
      }
      if (parent.what == role::adaptation_set && local == "Representation") {
        representations_.emplace_back();
        representation_model& rep = representations_.back();
        rep.property_at = tag.end;
        rep.self_closing = tag.self_closing;
        rep.slash = tag.slash;
        rep.qname = tag.qname;
        rep.prefix = tag.prefix;
        parent.adaptation->representations.push_back(&rep);
        f.what = role::representation;
        f.lv = &rep.lv;
        f.representation = &rep;
        std::optional<std::string> id, bandwidth;
        parse_outcome outcome = attribute_text(tag, "id", id);
        if (outcome.status != rewrite_status::ok) return outcome;
        outcome = attribute_text(tag, "bandwidth", bandwidth);
        if (outcome.status != rewrite_status::ok) return outcome;
        rep.id = id.value_or("");
        rep.bandwidth = bandwidth.value_or("");
        return {};
      }
      return {};
    case role::segment_template:
    case role::segment_list:
    case role::segment_base:
      f.segment = parent.segment;
      if (local == "Initialization") {
        f.what = role::initialization;
        url_ref& init = parent.segment->init;
        init = url_ref{};
        init.present = true;
        std::optional<std::string> source, range;
        parse_outcome outcome = attribute_text(tag, "sourceURL", source);
        if (outcome.status != rewrite_status::ok) return outcome;
        outcome = attribute_text(tag, "range", range);
        if (outcome.status != rewrite_status::ok) return outcome;
        init.has_source = source.has_value();
        init.source = source.value_or("");
        init.has_range = range.has_value();
        init.range = range.value_or("");
      } else if (local == "SegmentTimeline" && parent.what != role::segment_base) {
        f.what = role::timeline;
        timelines_.emplace_back();
        f.timeline = static_cast<int>(timelines_.size() - 1);
        parent.segment->timeline = f.timeline;
      } else if (local == "SegmentURL" && parent.what == role::segment_list) {
        f.what = role::segment_url;
        if (parent.segment->urls.size() >= options_.max_items) {
          return {rewrite_status::too_large, "more SegmentURLs than the item cap"};
        }
        url_ref url;
        url.present = true;
        std::optional<std::string> media, range;
        parse_outcome outcome = attribute_text(tag, "media", media);
        if (outcome.status != rewrite_status::ok) return outcome;
        outcome = attribute_text(tag, "mediaRange", range);
        if (outcome.status != rewrite_status::ok) return outcome;
        url.has_source = media.has_value();
        url.source = media.value_or("");
        url.has_range = range.has_value();
        url.range = range.value_or("");
        parent.segment->urls.push_back(std::move(url));
      }
      return {};
    case role::timeline:
      if (local == "S") {
        f.what = role::s;
        if (++timeline_entries_ > options_.max_items) {
          return {rewrite_status::too_large, "more SegmentTimeline entries than the item cap"};
        }
        timeline_entry entry;
        std::optional<uint64_t> t, d;
        std::optional<std::string> r;
        parse_outcome outcome = attribute_unsigned(tag, "t", t);
        if (outcome.status != rewrite_status::ok) return outcome;
        outcome = attribute_unsigned(tag, "n", entry.n);
        if (outcome.status != rewrite_status::ok) return outcome;
        outcome = attribute_unsigned(tag, "d", d);
        if (outcome.status != rewrite_status::ok) return outcome;
        outcome = attribute_text(tag, "r", r);
        if (outcome.status != rewrite_status::ok) return outcome;
        if (!d || *d == 0) return {rewrite_status::malformed, "S without a positive @d"};
        entry.t = t;
        entry.d = *d;
        if (r && (!parse_signed(*r, entry.r) || entry.r < -1)) {
          return {rewrite_status::malformed, "bad S@r"};
        }
        timelines_[static_cast<size_t>(parent.timeline)].push_back(entry);
      }
      return {};
    default:
      return {};
  }
}

parse_outcome mpd_builder::start_element(const xml_start_tag& tag) {
  const bool dash = is_dash_namespace(tag.ns);
  // Already hinted upstream: keep building (so items can be compared), report at the end.
  if (tag.ns == kHintNamespace && hinted_reason_.empty()) hinted_reason_ = "p2p element present";
  if (dash && (tag.local == "SupplementalProperty" || tag.local == "EssentialProperty")) {
    const std::string_view* scheme = tag.attribute("schemeIdUri");
    if (scheme != nullptr && starts_with(*scheme, "urn:p2p:") && hinted_reason_.empty()) {
      hinted_reason_ = "p2p property present";
    }
  }
  if (frames_.empty()) {
    frame f;
    if (!dash || tag.local != "MPD") return {rewrite_status::malformed, "root element is not MPD"};
    f.what = role::mpd;
    f.lv = &mpd_level_;
    std::optional<std::string> type, start;
    parse_outcome outcome = attribute_text(tag, "type", type);
    if (outcome.status != rewrite_status::ok) return outcome;
    dynamic_ = type && trim(*type) == "dynamic";
    if ((outcome = attribute_duration(tag, "mediaPresentationDuration", presentation_duration_))
                .status != rewrite_status::ok ||
        (outcome = attribute_duration(tag, "timeShiftBufferDepth", time_shift_buffer_depth_))
                .status != rewrite_status::ok ||
        (outcome = attribute_text(tag, "availabilityStartTime", start)).status !=
            rewrite_status::ok) {
      return outcome;
    }
    if (start) {
      int64_t ms = 0;
      if (!parse_date_time(*start, ms)) {
        return {rewrite_status::malformed, "bad @availabilityStartTime"};
      }
      availability_start_ms_ = ms;
    }
    frames_.push_back(std::move(f));
    return {};
  }

  frame& parent = frames_.back();
  frame child;
  // Where our properties and the hash element may go (README.md, schema order): after
  // the leading run of property children, before the first segment addressing child.
  size_t* property_at = nullptr;
  bool* frozen = nullptr;
  if (parent.what == role::adaptation_set) {
    property_at = &parent.adaptation->property_at;
    frozen = &parent.adaptation->property_frozen;
  } else if (parent.what == role::representation) {
    representation_model& rep = *parent.representation;
    property_at = &rep.property_at;
    frozen = &rep.property_frozen;
    if (dash && !rep.hashes_at && is_one_of(tag.local, kSegmentAddressingElements)) {
      rep.hashes_at = tag.begin;
    }
  }
  if (frozen != nullptr && !*frozen) {
    if (dash && is_one_of(tag.local, kPropertyElements)) {
      child.extends_property_at = property_at;
    } else {
      *frozen = true;
    }
  }
  parse_outcome outcome = open_child(parent, tag, dash, child);
  if (outcome.status != rewrite_status::ok) return outcome;
  frames_.push_back(std::move(child));
  return {};
}

parse_outcome mpd_builder::end_element(const xml_end_tag& tag) {
  frame f = std::move(frames_.back());
  frames_.pop_back();
  if (f.extends_property_at != nullptr) *f.extends_property_at = tag.end;
  if (f.what == role::representation) f.representation->end_tag_begin = tag.begin;
  if (f.what == role::base_url && f.collecting_text) {
    f.lv->has_base_url = true;
    f.lv->base_url = std::string(trim(f.text));
  }
  return {};
}

parse_outcome mpd_builder::text(std::string_view raw, bool cdata) {
  frame& top = frames_.back();
  if (!top.collecting_text) return {};
  if (cdata) {
    top.text.append(raw);
  } else if (!decode_xml_text(raw, &top.text)) {
    return {rewrite_status::malformed, "bad entity reference in text"};
  }
  if (top.text.size() > options_.max_line_bytes) {
    return {rewrite_status::too_large, "BaseURL longer than the cap"};
  }
  return {};
}

// Expands $RepresentationID$, $Bandwidth$, $Number$, $Time$ and $$ (5.3.9.4.4).
parse_outcome expand_template(std::string_view pattern, const representation_model& rep,
                              std::optional<uint64_t> number, std::optional<uint64_t> time,
                              std::string& out) {
  out.clear();
  size_t pos = 0;
  while (pos < pattern.size()) {
    size_t dollar = pattern.find('$', pos);
    if (dollar == std::string_view::npos) {
      out.append(pattern.substr(pos));
      break;
    }
    out.append(pattern.substr(pos, dollar - pos));
    size_t close = pattern.find('$', dollar + 1);
    if (close == std::string_view::npos) {
      return {rewrite_status::malformed, "unterminated $ identifier in SegmentTemplate"};
    }
    std::string_view ident = pattern.substr(dollar + 1, close - dollar - 1);
    pos = close + 1;
    if (ident.empty()) {
      out.push_back('$');
      continue;
    }
    if (ident == "RepresentationID") {
      out.append(rep.id);
      continue;
    }
    size_t percent = ident.find('%');
    std::string_view name = ident.substr(0, percent);
    size_t width = 0;
    if (percent != std::string_view::npos) {
      std::string_view format = ident.substr(percent + 1);
      if (!format.empty() && format[0] == '0') format.remove_prefix(1);
      if (format.size() < 2 || format.back() != 'd') {
        return {rewrite_status::malformed, "bad format tag in SegmentTemplate"};
      }
      uint64_t parsed = 0;
      if (!parse_unsigned(format.substr(0, format.size() - 1), parsed) || parsed > 32) {
        return {rewrite_status::malformed, "bad format width in SegmentTemplate"};
      }
      width = parsed;
    }
    uint64_t value = 0;
    if (name == "Number" && number) {
      value = *number;
    } else if (name == "Time" && time) {
      value = *time;
    } else if (name == "Bandwidth") {
      if (!parse_unsigned(rep.bandwidth, value)) {
        return {rewrite_status::malformed, "$Bandwidth$ without a numeric @bandwidth"};
      }
    } else if (name == "SubNumber") {
      return {rewrite_status::unsupported, "$SubNumber$ in SegmentTemplate"};
    } else {
      return {rewrite_status::malformed, "unknown or misplaced SegmentTemplate identifier"};
    }
    std::string digits = std::to_string(value);
    if (digits.size() < width) out.append(width - digits.size(), '0');
    out.append(digits);
  }
  return {};
}

parse_outcome mpd_builder::add_item(rewrite_plan& plan, media_item item) {
  if (plan.items.size() >= options_.max_items) {
    return {rewrite_status::too_large, "more media items than the cap"};
  }
  // A fragment never reaches the server: the bytes are those of the URI without it.
  size_t fragment = item.uri.find('#');
  if (fragment != std::string::npos) item.uri.resize(fragment);
  item.index = plan.items.size();
  plan.items.push_back(std::move(item));
  return {};
}

parse_outcome mpd_builder::list_representation(
    const period_model& period, const adaptation_model& adaptation, representation_model& rep,
    std::optional<double> period_start, std::optional<double> period_duration, rewrite_plan& plan) {
  std::string base;
  for (const level* lv :
       std::initializer_list<const level*>{&mpd_level_, &period.lv, &adaptation.lv, &rep.lv}) {
    if (lv->has_base_url) base = resolve_reference(base, lv->base_url);
  }
  segment_info tmpl, list, single;
  for (const level* lv : std::initializer_list<const level*>{&period.lv, &adaptation.lv, &rep.lv}) {
    tmpl.inherit_from(lv->segment_template);
    list.inherit_from(lv->segment_list);
    single.inherit_from(lv->segment_base);
  }
  // Which addressing applies when an (invalid) MPD mixes them: the rules the client
  // library uses too, so a hash always lands on the item the client derives.
  const bool use_list = list.present && !list.urls.empty() && !rep.lv.segment_template.present;
  const bool use_template = !use_list && tmpl.present;
  const segment_info& info = use_list ? list : use_template ? tmpl : list.present ? list : single;

  media_item proto;
  proto.representation_id = rep.id;
  std::string expanded;

  // Initialization segment.
  std::optional<std::string> init_uri;
  std::optional<byte_range> init_range;
  if (use_template && tmpl.initialization) {
    parse_outcome outcome =
        expand_template(*tmpl.initialization, rep, std::nullopt, std::nullopt, expanded);
    if (outcome.status != rewrite_status::ok) return outcome;
    init_uri = resolve_reference(base, expanded);
  } else if (info.init.present && (info.init.has_source || !base.empty())) {
    init_uri = info.init.has_source ? resolve_reference(base, info.init.source) : base;
    if (info.init.has_range) {
      byte_range range;
      rewrite_status status = parse_media_range(info.init.range, range);
      if (status != rewrite_status::ok) return {status, "bad Initialization@range"};
      init_range = range;
    }
  }
  if (init_uri) {
    media_item item = proto;
    item.uri = std::move(*init_uri);
    item.range = init_range;
    item.kind = media_item_kind::init;
    parse_outcome outcome = add_item(plan, std::move(item));
    if (outcome.status != rewrite_status::ok) return outcome;
  }

  if (use_list) {
    for (size_t i = 0; i < list.urls.size(); ++i) {
      const url_ref& url = list.urls[i];
      media_item item = proto;
      item.uri = url.has_source ? resolve_reference(base, url.source) : base;
      if (item.uri.empty()) continue;
      if (url.has_range) {
        byte_range range;
        rewrite_status status = parse_media_range(url.range, range);
        if (status != rewrite_status::ok) return {status, "bad SegmentURL@mediaRange"};
        item.range = range;
      }
      item.list_position = i;
      parse_outcome outcome = add_item(plan, std::move(item));
      if (outcome.status != rewrite_status::ok) return outcome;
    }
    return {};
  }
  if (!use_template || !tmpl.media) return {};

  const uint64_t timescale = tmpl.timescale.value_or(1);
  const uint64_t pto = tmpl.presentation_time_offset.value_or(0);
  uint64_t number = tmpl.start_number.value_or(1);
  const size_t room = options_.max_items - std::min(options_.max_items, plan.items.size());
  auto emit = [&](uint64_t n, uint64_t t, bool with_time) -> parse_outcome {
    parse_outcome outcome = expand_template(*tmpl.media, rep, n, t, expanded);
    if (outcome.status != rewrite_status::ok) return outcome;
    media_item item = proto;
    item.uri = resolve_reference(base, expanded);
    item.number = n;
    if (with_time) item.time = t;
    return add_item(plan, std::move(item));
  };

  if (tmpl.timeline >= 0) {
    const std::vector<timeline_entry>& entries = timelines_[static_cast<size_t>(tmpl.timeline)];
    uint64_t t = 0;
    for (size_t i = 0; i < entries.size(); ++i) {
      const timeline_entry& entry = entries[i];
      if (entry.t) t = *entry.t;
      if (entry.n) number = *entry.n;
      long double count = 0;
      if (entry.r >= 0) {
        count = static_cast<long double>(entry.r) + 1;
      } else if (i + 1 < entries.size() && entries[i + 1].t) {
        long double end = static_cast<long double>(*entries[i + 1].t);
        count = end > t ? std::ceil((end - t) / entry.d) : 0;
      } else if (period_duration) {
        long double end = pto + static_cast<long double>(*period_duration) * timescale;
        count = end > t ? std::ceil((end - t) / entry.d - 1e-9L) : 0;
      } else {
        count = 1;  // r=-1 with no known end: only the S itself is certain.
      }
      if (count > static_cast<long double>(room)) {
        return {rewrite_status::too_large, "SegmentTimeline expands beyond the item cap"};
      }
      for (uint64_t k = 0; k < static_cast<uint64_t>(count); ++k) {
        parse_outcome outcome = emit(number, t, true);
        if (outcome.status != rewrite_status::ok) return outcome;
        if (number == UINT64_MAX || t > UINT64_MAX - entry.d) {
          return {rewrite_status::malformed, "SegmentTimeline overflows"};
        }
        ++number;
        t += entry.d;
      }
    }
    return {};
  }

  if (!tmpl.duration || *tmpl.duration == 0) return {};
  const long double segment_seconds = static_cast<long double>(*tmpl.duration) / timescale;
  long double first = 0;
  long double count = 0;
  if (!dynamic_) {
    if (!period_duration) return {};
    count = std::ceil(static_cast<long double>(*period_duration) / segment_seconds - 1e-9L);
  } else {
    if (options_.now_unix_ms == 0 || !availability_start_ms_ || !period_start) return {};
    long double elapsed =
        static_cast<long double>(options_.now_unix_ms - *availability_start_ms_) / 1000 -
        *period_start;
    if (elapsed <= 0) return {};
    long double available = std::floor(elapsed / segment_seconds);  // fully written segments
    if (period_duration) {
      available = std::min(available, std::ceil(*period_duration / segment_seconds - 1e-9L));
    }
    if (time_shift_buffer_depth_) {
      first = std::max<long double>(
          0, std::ceil((elapsed - *time_shift_buffer_depth_) / segment_seconds - 1));
    }
    count = available - first;
  }
  if (tmpl.end_number) {
    long double last = static_cast<long double>(*tmpl.end_number);
    count = std::min(count, last - number - first + 1);
  }
  if (count <= 0) return {};
  if (count > static_cast<long double>(room) || first > 1e18L) {
    return {rewrite_status::too_large, "SegmentTemplate expands beyond the item cap"};
  }
  uint64_t first_index = static_cast<uint64_t>(first);
  for (uint64_t k = 0; k < static_cast<uint64_t>(count); ++k) {
    uint64_t index = first_index + k;
    if (number > UINT64_MAX - index ||
        (index != 0 && *tmpl.duration > (UINT64_MAX - pto) / index)) {
      return {rewrite_status::malformed, "SegmentTemplate numbering overflows"};
    }
    parse_outcome outcome = emit(number + index, pto + index * *tmpl.duration, false);
    if (outcome.status != rewrite_status::ok) return outcome;
  }
  return {};
}

parse_outcome mpd_builder::build(bool with_insertions, rewrite_plan& plan) {
  std::optional<double> previous_end;
  for (size_t p = 0; p < periods_.size(); ++p) {
    period_model& period = periods_[p];
    std::optional<double> start = period.start;
    if (!start) start = p == 0 ? std::optional<double>(0) : previous_end;
    std::optional<double> duration = period.duration;
    if (!duration && start) {
      if (p + 1 < periods_.size() && periods_[p + 1].start) {
        duration = *periods_[p + 1].start - *start;
      } else if (p + 1 == periods_.size() && presentation_duration_) {
        duration = *presentation_duration_ - *start;
      }
    }
    if (duration && *duration < 0) return {rewrite_status::malformed, "negative Period duration"};
    previous_end = start && duration ? std::optional<double>(*start + *duration) : std::nullopt;

    for (adaptation_model* adaptation : period.adaptation_sets) {
      if (adaptation->representations.empty()) continue;
      if (with_insertions) {
        insertion at;
        at.at = adaptation->property_at;
        at.kind = insertion_kind::dash_session_property;
        at.prefix = adaptation->prefix;
        plan.insertions.push_back(at);
      }
      for (representation_model* rep : adaptation->representations) {
        representation_hints hints;
        hints.rendition_key = rep->id;
        hints.first_item = plan.items.size();
        parse_outcome outcome =
            list_representation(period, *adaptation, *rep, start, duration, plan);
        if (outcome.status != rewrite_status::ok) return outcome;
        hints.end_item = plan.items.size();
        if (!with_insertions) continue;
        plan.representations.push_back(std::move(hints));
        insertion at;
        at.representation = plan.representations.size() - 1;
        at.prefix = rep->prefix;
        at.item = plan.representations.back().first_item;
        at.item_end = plan.representations.back().end_item;
        if (rep->self_closing) {
          at.at = rep->slash;
          at.drop = 2;
          at.kind = insertion_kind::dash_close_self_closing_rep;
          at.qname = rep->qname;
          plan.insertions.push_back(at);
          continue;
        }
        at.at = rep->property_at;
        at.kind = insertion_kind::dash_swarm_property;
        plan.insertions.push_back(at);
        at.at = std::max(rep->property_at, rep->hashes_at.value_or(rep->end_tag_begin));
        at.kind = insertion_kind::dash_hashes;
        plan.insertions.push_back(at);
      }
    }
  }
  std::stable_sort(plan.insertions.begin(), plan.insertions.end(),
                   [](const insertion& a, const insertion& b) { return a.at < b.at; });
  if (!hinted_reason_.empty()) return {rewrite_status::already_hinted, hinted_reason_};
  return {};
}

}  // namespace

parse_outcome parse_dash(std::string_view bytes, const manifest_options& options,
                         bool with_insertions, rewrite_plan& plan) {
  if (bytes.find('\0') != std::string_view::npos) {
    return {rewrite_status::malformed, "NUL byte in MPD"};
  }
  mpd_builder builder(options);
  parse_outcome outcome = tokenize_xml(bytes, options, builder);
  if (outcome.status != rewrite_status::ok) return outcome;
  return builder.build(with_insertions, plan);
}

}  // namespace manifest_detail
}  // namespace hints
}  // namespace p2p
