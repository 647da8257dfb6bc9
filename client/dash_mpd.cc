#include "client/dash_mpd.h"

#include <cmath>
#include <cstdlib>
#include <map>

#include "client/url.h"
#include "client/xml_tree.h"

namespace p2p {

namespace {

constexpr const char* kSessionScheme = "urn:p2p:session:2026";
constexpr const char* kSwarmScheme = "urn:p2p:swarm:2026";
constexpr const char* kHashNamespace = "urn:p2p:2026";

bool parse_uint(const std::string& s, int64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

bool parse_int(const std::string& s, int64_t* out) {
  if (!s.empty() && s[0] == '-') {
    if (!parse_uint(s.substr(1), out)) return false;
    *out = -*out;
    return true;
  }
  return parse_uint(s, out);
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// "first-last" (inclusive) into offset and length.
bool parse_range(const std::string& s, int64_t* offset, int64_t* length) {
  size_t dash = s.find('-');
  if (dash == std::string::npos) return false;
  int64_t first = 0, last = 0;
  if (!parse_uint(s.substr(0, dash), &first) || !parse_uint(s.substr(dash + 1), &last) ||
      last < first) {
    return false;
  }
  *offset = first;
  *length = last - first + 1;
  return true;
}

struct template_info {
  bool present = false;
  std::string media, initialization;
  int64_t start_number = 1;
  int64_t end_number = -1;
  int64_t timescale = 1;
  int64_t duration = 0;
  int64_t presentation_time_offset = 0;
  const xml_element* timeline = nullptr;
};

struct list_info {
  bool present = false;
  int64_t timescale = 1;
  int64_t duration = 0;
  const xml_element* with_urls = nullptr;  // the lowest SegmentList that lists SegmentURLs
  const xml_element* initialization = nullptr;
};

bool merge_template(template_info* info, const xml_element* e) {
  if (!e) return true;
  info->present = true;
  if (auto v = e->attribute("media")) info->media = *v;
  if (auto v = e->attribute("initialization")) info->initialization = *v;
  if (auto v = e->attribute("startNumber")) {
    if (!parse_uint(*v, &info->start_number)) return false;
  }
  if (auto v = e->attribute("endNumber")) {
    if (!parse_uint(*v, &info->end_number)) return false;
  }
  if (auto v = e->attribute("timescale")) {
    if (!parse_uint(*v, &info->timescale) || info->timescale == 0) return false;
  }
  if (auto v = e->attribute("duration")) {
    if (!parse_uint(*v, &info->duration)) return false;
  }
  if (auto v = e->attribute("presentationTimeOffset")) {
    if (!parse_uint(*v, &info->presentation_time_offset)) return false;
  }
  if (auto t = e->child("SegmentTimeline")) info->timeline = t;
  return true;
}

bool merge_list(list_info* info, const xml_element* e) {
  if (!e) return true;
  info->present = true;
  if (auto v = e->attribute("timescale")) {
    if (!parse_uint(*v, &info->timescale) || info->timescale == 0) return false;
  }
  if (auto v = e->attribute("duration")) {
    if (!parse_uint(*v, &info->duration)) return false;
  }
  if (e->child("SegmentURL")) info->with_urls = e;
  if (auto init = e->child("Initialization")) info->initialization = init;
  return true;
}

// Substitutes $...$ identifiers (ISO/IEC 23009-1 5.3.9.4.4).
manifest_status expand_template(const std::string& pattern, const std::string& representation_id,
                                int64_t bandwidth, int64_t number, int64_t time, std::string* out) {
  out->clear();
  size_t i = 0;
  while (i < pattern.size()) {
    size_t dollar = pattern.find('$', i);
    if (dollar == std::string::npos) {
      out->append(pattern, i, std::string::npos);
      break;
    }
    out->append(pattern, i, dollar - i);
    size_t close = pattern.find('$', dollar + 1);
    if (close == std::string::npos) return manifest_status::malformed;
    std::string identifier = pattern.substr(dollar + 1, close - dollar - 1);
    i = close + 1;
    if (identifier.empty()) {
      out->push_back('$');
      continue;
    }
    if (identifier == "RepresentationID") {
      *out += representation_id;
      continue;
    }
    std::string name = identifier;
    int width = 0;
    size_t percent = identifier.find('%');
    if (percent != std::string::npos) {
      name = identifier.substr(0, percent);
      std::string format = identifier.substr(percent + 1);
      if (format.size() < 2 || format.back() != 'd' || format[0] != '0') {
        return manifest_status::malformed;
      }
      int64_t w = 0;
      if (!parse_uint(format.substr(1, format.size() - 2), &w) || w > 32) {
        return manifest_status::malformed;
      }
      width = static_cast<int>(w);
    }
    int64_t value;
    if (name == "Number") {
      value = number;
    } else if (name == "Time") {
      value = time;
    } else if (name == "Bandwidth") {
      value = bandwidth;
    } else if (name == "SubNumber") {
      return manifest_status::unsupported;
    } else {
      return manifest_status::malformed;
    }
    std::string digits = std::to_string(value);
    if (static_cast<int>(digits.size()) < width) {
      digits.insert(0, static_cast<size_t>(width) - digits.size(), '0');
    }
    *out += digits;
  }
  return manifest_status::ok;
}

std::string base_url_of(const xml_element* e, const std::string& parent) {
  if (const xml_element* b = e->child("BaseURL")) return url_resolve(parent, trim(b->text));
  return parent;
}

void read_session_hints(const xml_element* e, session_hints* hints) {
  for (const auto& c : e->children) {
    if (c->name != "SupplementalProperty" || c->attribute_or("schemeIdUri", "") != kSessionScheme) {
      continue;
    }
    std::string value = c->attribute_or("value", "");
    size_t i = 0;
    while (i <= value.size()) {
      size_t semi = value.find(';', i);
      if (semi == std::string::npos) semi = value.size();
      std::string pair = value.substr(i, semi - i);
      size_t eq = pair.find('=');
      if (eq != std::string::npos) {
        session_hints_set(hints, pair.substr(0, eq), percent_decode(pair.substr(eq + 1)));
      }
      i = semi + 1;
    }
  }
}

struct hash_table {
  bool has_init = false;
  content_hash init{};
  std::map<int64_t, std::pair<content_hash, int64_t>> by_number;  // n -> (hash, t or -1)
  std::map<int64_t, content_hash> by_time;
  std::map<int64_t, content_hash> by_index;
};

void read_hashes(const xml_element* representation, hash_table* table) {
  for (const auto& c : representation->children) {
    if (c->name != "SegmentHashes" || c->namespace_uri != kHashNamespace) continue;
    for (const auto& h : c->children) {
      if (h->name != "H" || h->namespace_uri != kHashNamespace) continue;
      content_hash hash;
      if (!content_hash_from_hex(h->attribute_or("sha256", ""), &hash)) continue;
      int64_t v = 0;
      int64_t t = -1;
      if (auto ts = h->attribute("t")) {
        if (!parse_uint(*ts, &t)) continue;
      }
      if (h->attribute_or("init", "") == "1") {
        table->has_init = true;
        table->init = hash;
      } else if (auto n = h->attribute("n")) {
        if (parse_uint(*n, &v)) table->by_number[v] = {hash, t};
      } else if (auto index = h->attribute("i")) {
        if (parse_uint(*index, &v)) table->by_index[v] = hash;
      } else if (t >= 0) {
        table->by_time[t] = hash;
      }
    }
  }
}

void apply_number_hash(const hash_table& table, int64_t number, int64_t time, media_item* item) {
  auto it = table.by_number.find(number);
  if (it != table.by_number.end()) {
    if (it->second.second >= 0 && time >= 0 && it->second.second != time) return;
    item->has_hash = true;
    item->hash = it->second.first;
    return;
  }
  auto bt = table.by_time.find(time);
  if (time >= 0 && bt != table.by_time.end()) {
    item->has_hash = true;
    item->hash = bt->second;
  }
}

struct representation_context {
  const dash_mpd* mpd;
  const dash_period* period;
  const manifest_limits* limits;
  const dash_options* options;
  std::string base_url;
};

manifest_status build_template_items(const representation_context& ctx, const template_info& info,
                                     const hash_table& hashes, dash_representation* rep) {
  std::string url;
  manifest_status status;
  if (!info.initialization.empty()) {
    status = expand_template(info.initialization, rep->id, rep->bandwidth, 0, 0, &url);
    if (status != manifest_status::ok) return status;
    media_item init;
    init.kind = media_item_kind::init;
    init.url = url_resolve(ctx.base_url, url);
    init.start = ctx.period->start;
    if (hashes.has_init) {
      init.has_hash = true;
      init.hash = hashes.init;
    }
    rep->items.push_back(std::move(init));
  }
  if (info.media.empty()) return manifest_status::ok;
  const double ts = static_cast<double>(info.timescale);
  auto add_segment = [&](int64_t number, int64_t time, int64_t duration) -> manifest_status {
    if (rep->items.size() >= ctx.limits->max_items) return manifest_status::too_large;
    std::string media_url;
    manifest_status s =
        expand_template(info.media, rep->id, rep->bandwidth, number, time, &media_url);
    if (s != manifest_status::ok) return s;
    media_item item;
    item.url = url_resolve(ctx.base_url, media_url);
    item.sequence = number;
    item.duration = static_cast<double>(duration) / ts;
    item.start = ctx.period->start + static_cast<double>(time - info.presentation_time_offset) / ts;
    apply_number_hash(hashes, number, info.timeline ? time : -1, &item);
    rep->items.push_back(std::move(item));
    return manifest_status::ok;
  };
  if (info.timeline) {
    int64_t number = info.start_number;
    int64_t time = 0;
    bool have_time = false;
    const auto& entries = info.timeline->children;
    for (size_t k = 0; k < entries.size(); ++k) {
      const xml_element* s = entries[k].get();
      if (s->name != "S") continue;
      int64_t t = 0, d = 0, r = 0;
      if (auto v = s->attribute("t")) {
        if (!parse_uint(*v, &t)) return manifest_status::malformed;
        time = t;
        have_time = true;
      } else if (!have_time) {
        time = info.presentation_time_offset;
        have_time = true;
      }
      if (!parse_uint(s->attribute_or("d", ""), &d) || d == 0) return manifest_status::malformed;
      if (auto v = s->attribute("r")) {
        if (!parse_int(*v, &r) || r < -1) return manifest_status::malformed;
      }
      if (r == -1) {
        int64_t end = -1;
        for (size_t m = k + 1; m < entries.size(); ++m) {
          if (entries[m]->name != "S") continue;
          if (auto v = entries[m]->attribute("t")) parse_uint(*v, &end);
          break;
        }
        if (end < 0 && ctx.period->duration > 0) {
          end = info.presentation_time_offset +
                static_cast<int64_t>(std::llround(ctx.period->duration * ts));
        }
        r = end > time ? (end - time + d - 1) / d - 1 : 0;
      }
      if (r > static_cast<int64_t>(ctx.limits->max_items)) return manifest_status::too_large;
      for (int64_t j = 0; j <= r; ++j) {
        if (info.end_number >= 0 && number > info.end_number) return manifest_status::ok;
        manifest_status s2 = add_segment(number, time, d);
        if (s2 != manifest_status::ok) return s2;
        ++number;
        time += d;
      }
    }
    return manifest_status::ok;
  }
  if (info.duration <= 0) return manifest_status::malformed;
  const double segment_seconds = static_cast<double>(info.duration) / ts;
  int64_t first = 0, count = 0;
  if (ctx.mpd->dynamic) {
    if (ctx.options->now_unix_ms == 0) return manifest_status::ok;
    double elapsed =
        static_cast<double>(ctx.options->now_unix_ms - ctx.mpd->availability_start_ms) / 1000.0 -
        ctx.period->start;
    if (elapsed <= 0) return manifest_status::ok;
    int64_t available = static_cast<int64_t>(std::floor(elapsed / segment_seconds));
    int64_t window =
        ctx.mpd->time_shift_buffer_depth > 0
            ? static_cast<int64_t>(std::ceil(ctx.mpd->time_shift_buffer_depth / segment_seconds))
            : available;
    first = available > window ? available - window : 0;
    count = available - first;
  } else {
    double period_duration = ctx.period->duration;
    if (period_duration <= 0) return manifest_status::malformed;
    double c = std::ceil(period_duration / segment_seconds - 1e-9);
    if (c > static_cast<double>(ctx.limits->max_items)) return manifest_status::too_large;
    count = static_cast<int64_t>(c);
  }
  if (count > static_cast<int64_t>(ctx.limits->max_items)) return manifest_status::too_large;
  for (int64_t k = first; k < first + count; ++k) {
    int64_t number = info.start_number + k;
    if (info.end_number >= 0 && number > info.end_number) break;
    manifest_status s =
        add_segment(number, info.presentation_time_offset + k * info.duration, info.duration);
    if (s != manifest_status::ok) return s;
  }
  return manifest_status::ok;
}

manifest_status build_list_items(const representation_context& ctx, const list_info& info,
                                 const hash_table& hashes, dash_representation* rep) {
  if (info.initialization) {
    media_item init;
    init.kind = media_item_kind::init;
    init.url = url_resolve(ctx.base_url, info.initialization->attribute_or("sourceURL", ""));
    init.start = ctx.period->start;
    if (auto r = info.initialization->attribute("range")) {
      if (!parse_range(*r, &init.range_offset, &init.range_length)) {
        return manifest_status::malformed;
      }
    }
    if (hashes.has_init) {
      init.has_hash = true;
      init.hash = hashes.init;
    }
    rep->items.push_back(std::move(init));
  }
  if (!info.with_urls) return manifest_status::ok;
  int64_t index = 0;
  const double ts = static_cast<double>(info.timescale);
  for (const auto& c : info.with_urls->children) {
    if (c->name != "SegmentURL") continue;
    if (rep->items.size() >= ctx.limits->max_items) return manifest_status::too_large;
    media_item item;
    item.url = url_resolve(ctx.base_url, c->attribute_or("media", ""));
    if (auto r = c->attribute("mediaRange")) {
      if (!parse_range(*r, &item.range_offset, &item.range_length)) {
        return manifest_status::malformed;
      }
    }
    item.sequence = index;
    item.duration = static_cast<double>(info.duration) / ts;
    item.start = ctx.period->start + static_cast<double>(index) * item.duration;
    auto h = hashes.by_index.find(index);
    if (h != hashes.by_index.end()) {
      item.has_hash = true;
      item.hash = h->second;
    }
    rep->items.push_back(std::move(item));
    ++index;
  }
  return manifest_status::ok;
}

std::string swarm_of(const xml_element* e) {
  for (const auto& c : e->children) {
    if (c->name == "SupplementalProperty" && c->attribute_or("schemeIdUri", "") == kSwarmScheme) {
      return c->attribute_or("value", "");
    }
  }
  return "";
}

}  // namespace

bool dash_parse_duration(const std::string& text, double* seconds) {
  if (text.size() < 3 || text.size() > 64) return false;
  size_t i = 0;
  bool negative = false;
  if (text[i] == '-') {
    negative = true;
    ++i;
  }
  if (text[i] != 'P') return false;
  ++i;
  bool in_time = false, any = false;
  double total = 0;
  while (i < text.size()) {
    if (text[i] == 'T') {
      if (in_time) return false;
      in_time = true;
      ++i;
      continue;
    }
    size_t begin = i;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
    if (i == begin || i >= text.size()) return false;
    std::string number = text.substr(begin, i - begin);
    if (number.find('.') != number.rfind('.')) return false;
    double v = std::strtod(number.c_str(), nullptr);
    char unit = text[i++];
    if (!in_time && unit == 'D') {
      total += v * 86400;
    } else if (in_time && unit == 'H') {
      total += v * 3600;
    } else if (in_time && unit == 'M') {
      total += v * 60;
    } else if (in_time && unit == 'S') {
      total += v;
    } else {
      return false;  // years, months (not a fixed length) or garbage
    }
    any = true;
  }
  if (!any || negative || !std::isfinite(total) || total > 1e10) return false;
  *seconds = total;
  return true;
}

bool dash_parse_datetime(const std::string& text, int64_t* unix_ms) {
  int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0;
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':') {
    return false;
  }
  if (!parse_uint(text.substr(0, 4), &year) || !parse_uint(text.substr(5, 2), &month) ||
      !parse_uint(text.substr(8, 2), &day) || !parse_uint(text.substr(11, 2), &hour) ||
      !parse_uint(text.substr(14, 2), &minute)) {
    return false;
  }
  size_t i = 17;
  size_t begin = i;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  std::string sec = text.substr(begin, i - begin);
  if (sec.size() < 2 || sec[0] == '.' || sec[1] == '.') return false;
  double second = std::strtod(sec.c_str(), nullptr);
  std::string zone = text.substr(i);
  if (!(zone.empty() || zone == "Z" || zone == "+00:00" || zone == "-00:00")) return false;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second >= 61) {
    return false;
  }
  // Days from civil (Howard Hinnant's algorithm).
  int64_t y = year - (month <= 2 ? 1 : 0);
  int64_t era = y / 400;
  int64_t yoe = y - era * 400;
  int64_t mp = (month + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = era * 146097 + doe - 719468;
  *unix_ms = ((days * 24 + hour) * 60 + minute) * 60000 + static_cast<int64_t>(second * 1000);
  return true;
}

manifest_status dash_parse(const std::string& text, const std::string& mpd_url,
                           const manifest_limits& limits, const dash_options& options,
                           dash_mpd* out) {
  *out = dash_mpd();
  if (text.size() > limits.max_bytes) return manifest_status::too_large;
  if (text.find('\0') != std::string::npos) return manifest_status::malformed;
  xml_limits xl;
  xl.max_depth = limits.max_xml_depth;
  xl.max_attributes = limits.max_xml_attributes;
  xl.max_elements = limits.max_items * 2 + 1000;
  std::unique_ptr<xml_element> root;
  switch (xml_parse(text, xl, &root)) {
    case xml_status::ok:
      break;
    case xml_status::malformed:
      return manifest_status::malformed;
    case xml_status::too_large:
      return manifest_status::too_large;
    case xml_status::unsupported:
      return manifest_status::unsupported;
  }
  if (root->name != "MPD") return manifest_status::malformed;
  out->dynamic = root->attribute_or("type", "static") == "dynamic";
  auto duration_attribute = [](const xml_element* e, const char* name, double* v) {
    const std::string* s = e->attribute(name);
    return !s || dash_parse_duration(*s, v);
  };
  if (!duration_attribute(root.get(), "mediaPresentationDuration",
                          &out->media_presentation_duration) ||
      !duration_attribute(root.get(), "minimumUpdatePeriod", &out->minimum_update_period) ||
      !duration_attribute(root.get(), "timeShiftBufferDepth", &out->time_shift_buffer_depth)) {
    return manifest_status::unsupported;
  }
  if (auto ast = root->attribute("availabilityStartTime")) {
    if (!dash_parse_datetime(*ast, &out->availability_start_ms)) return manifest_status::malformed;
  }
  read_session_hints(root.get(), &out->hints);
  std::string mpd_base = base_url_of(root.get(), mpd_url);

  std::vector<const xml_element*> periods;
  for (const auto& c : root->children) {
    if (c->name == "Period") periods.push_back(c.get());
  }
  double previous_end = 0;
  size_t total_items = 0;
  for (size_t p = 0; p < periods.size(); ++p) {
    const xml_element* pe = periods[p];
    dash_period period;
    period.id = pe->attribute_or("id", "");
    period.start = previous_end;
    if (!duration_attribute(pe, "start", &period.start) ||
        !duration_attribute(pe, "duration", &period.duration)) {
      return manifest_status::unsupported;
    }
    if (period.duration <= 0 && p + 1 < periods.size()) {
      double next_start = 0;
      if (auto s = periods[p + 1]->attribute("start")) {
        if (dash_parse_duration(*s, &next_start) && next_start > period.start) {
          period.duration = next_start - period.start;
        }
      }
    }
    if (period.duration <= 0 && p + 1 == periods.size() && out->media_presentation_duration > 0) {
      period.duration = out->media_presentation_duration - period.start;
    }
    previous_end = period.start + period.duration;
    read_session_hints(pe, &out->hints);
    std::string period_base = base_url_of(pe, mpd_base);
    template_info period_template;
    list_info period_list;
    if (!merge_template(&period_template, pe->child("SegmentTemplate")) ||
        !merge_list(&period_list, pe->child("SegmentList"))) {
      return manifest_status::malformed;
    }
    const xml_element* period_base_init = nullptr;
    if (auto sb = pe->child("SegmentBase")) period_base_init = sb->child("Initialization");
    for (const auto& ac : pe->children) {
      if (ac->name != "AdaptationSet") continue;
      const xml_element* ae = ac.get();
      dash_adaptation_set set;
      std::string mime = ae->attribute_or("mimeType", "");
      set.content_type = ae->attribute_or("contentType", mime.substr(0, mime.find('/')));
      read_session_hints(ae, &out->hints);
      std::string set_base = base_url_of(ae, period_base);
      template_info set_template = period_template;
      list_info set_list = period_list;
      if (!merge_template(&set_template, ae->child("SegmentTemplate")) ||
          !merge_list(&set_list, ae->child("SegmentList"))) {
        return manifest_status::malformed;
      }
      const xml_element* set_base_init = period_base_init;
      if (auto sb = ae->child("SegmentBase")) {
        if (auto init = sb->child("Initialization")) set_base_init = init;
      }
      for (const auto& rc : ae->children) {
        if (rc->name != "Representation") continue;
        const xml_element* re = rc.get();
        dash_representation rep;
        rep.id = re->attribute_or("id", "");
        parse_uint(re->attribute_or("bandwidth", "0"), &rep.bandwidth);
        parse_uint(re->attribute_or("width", "0"), &rep.width);
        parse_uint(re->attribute_or("height", "0"), &rep.height);
        rep.mime_type = re->attribute_or("mimeType", mime);
        rep.codecs = re->attribute_or("codecs", ae->attribute_or("codecs", ""));
        rep.swarm_id = swarm_of(re);
        if (set.content_type.empty()) {
          set.content_type = rep.mime_type.substr(0, rep.mime_type.find('/'));
        }
        template_info rep_template = set_template;
        list_info rep_list = set_list;
        if (!merge_template(&rep_template, re->child("SegmentTemplate")) ||
            !merge_list(&rep_list, re->child("SegmentList"))) {
          return manifest_status::malformed;
        }
        hash_table hashes;
        read_hashes(re, &hashes);
        representation_context ctx{out, &period, &limits, &options, base_url_of(re, set_base)};
        manifest_status status = manifest_status::ok;
        if (rep_list.present && !re->child("SegmentTemplate")) {
          status = build_list_items(ctx, rep_list, hashes, &rep);
        } else if (rep_template.present) {
          status = build_template_items(ctx, rep_template, hashes, &rep);
        } else {
          const xml_element* init = set_base_init;
          if (auto sb = re->child("SegmentBase")) {
            if (auto i = sb->child("Initialization")) init = i;
          }
          list_info base_only;
          base_only.initialization = init;
          status = build_list_items(ctx, base_only, hashes, &rep);
        }
        if (status != manifest_status::ok) return status;
        total_items += rep.items.size();
        if (total_items > limits.max_items) return manifest_status::too_large;
        set.representations.push_back(std::move(rep));
      }
      period.adaptation_sets.push_back(std::move(set));
    }
    out->periods.push_back(std::move(period));
  }
  if (out->periods.empty()) return manifest_status::malformed;
  return manifest_status::ok;
}

}  // namespace p2p
