#include "tracker/distributor.h"

#include <cstring>

#include "common/hex.h"
#include "common/hmac_sha256.h"
#include "tracker/json_limits.h"
#include "tracker/ticket.h"

namespace p2p {
namespace {

constexpr size_t kMaxQueryLength = 1024;
constexpr size_t kMaxVersionLength = 64;

bool parse_number(std::string_view text, uint32_t max, uint32_t* out) {
  if (text.empty() || text.size() > 10 || (text.size() > 1 && text[0] == '0')) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > max) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

int compare_prerelease(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return a.empty() == b.empty() ? 0 : (a.empty() ? 1 : -1);
  while (true) {
    size_t da = a.find('.');
    size_t db = b.find('.');
    std::string_view ia = a.substr(0, da);
    std::string_view ib = b.substr(0, db);
    bool na = all_digits(ia);
    bool nb = all_digits(ib);
    int c = 0;
    if (na && nb) {
      c = ia.size() != ib.size() ? (ia.size() < ib.size() ? -1 : 1) : ia.compare(ib);
    } else if (na != nb) {
      c = na ? -1 : 1;  // numeric identifiers rank below alphanumeric ones
    } else {
      c = ia.compare(ib);
    }
    if (c != 0) return c < 0 ? -1 : 1;
    if (da == std::string_view::npos || db == std::string_view::npos) {
      if (da == db) return 0;
      return da == std::string_view::npos ? -1 : 1;  // fewer identifiers rank lower
    }
    a.remove_prefix(da + 1);
    b.remove_prefix(db + 1);
  }
}

bool prerelease_valid(std::string_view s) {
  if (s.empty()) return false;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      std::string_view id = s.substr(start, i - start);
      if (id.empty()) return false;
      if (all_digits(id) && id.size() > 1 && id[0] == '0') return false;
      start = i + 1;
      continue;
    }
    char c = s[i];
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool percent_decode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out->push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = hex_digit_value(in[i + 1]);
      int lo = hex_digit_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out->push_back(c);
    }
  }
  return true;
}

bool parse_switch(std::string_view v, bool* out) {
  if (v == "on")
    *out = true;
  else if (v == "off")
    *out = false;
  else
    return false;
  return true;
}

// "25%", "12.5%", "0.01%": basis points, at most two decimals.
bool parse_percentage(std::string_view v, uint32_t* out) {
  if (v.empty() || v.back() != '%') return false;
  v.remove_suffix(1);
  size_t dot = v.find('.');
  std::string_view whole = v.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : v.substr(dot + 1);
  if (dot != std::string_view::npos && (frac.empty() || frac.size() > 2 || !all_digits(frac)))
    return false;
  uint32_t w = 0;
  if (!parse_number(whole, 100, &w)) return false;
  uint32_t f = 0;
  for (size_t i = 0; i < 2; ++i)
    f = f * 10 + (i < frac.size() ? static_cast<uint32_t>(frac[i] - '0') : 0);
  uint32_t bp = w * 100 + f;
  if (bp > 10000) return false;
  *out = bp;
  return true;
}

bool url_acceptable(std::string_view v) {
  if (v.empty() || v.size() > 512) return false;
  for (char c : v)
    if (static_cast<unsigned char>(c) <= 0x20 || c == '"' || c == '\\' || c == 0x7f) return false;
  return true;
}

void append_string_member(std::string* out, const char* name, std::string_view value) {
  *out += '"';
  *out += name;
  *out += "\":\"";
  *out += json_escape(value);
  *out += '"';
}

void append_uint_member(std::string* out, const char* name, uint64_t value) {
  *out += '"';
  *out += name;
  *out += "\":";
  *out += std::to_string(value);
}

}  // namespace

bool semver_parse(std::string_view text, semver* out) {
  if (text.empty() || text.size() > kMaxVersionLength) return false;
  size_t plus = text.find('+');
  if (plus != std::string_view::npos) {
    std::string_view build = text.substr(plus + 1);
    if (build.empty()) return false;
    for (char c : build) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.';
      if (!ok) return false;
    }
    text = text.substr(0, plus);
  }
  size_t dash = text.find('-');
  std::string_view core = text.substr(0, dash);
  semver v;
  if (dash != std::string_view::npos) {
    std::string_view pre = text.substr(dash + 1);
    if (!prerelease_valid(pre)) return false;
    v.prerelease.assign(pre);
  }
  size_t d1 = core.find('.');
  if (d1 == std::string_view::npos) return false;
  size_t d2 = core.find('.', d1 + 1);
  if (d2 == std::string_view::npos) return false;
  if (!parse_number(core.substr(0, d1), 999999999, &v.major) ||
      !parse_number(core.substr(d1 + 1, d2 - d1 - 1), 999999999, &v.minor) ||
      !parse_number(core.substr(d2 + 1), 999999999, &v.patch))
    return false;
  *out = std::move(v);
  return true;
}

int semver_compare(const semver& a, const semver& b) {
  if (a.major != b.major) return a.major < b.major ? -1 : 1;
  if (a.minor != b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch != b.patch) return a.patch < b.patch ? -1 : 1;
  return compare_prerelease(a.prerelease, b.prerelease);
}

bool distributor_policy_set(distributor_policy* p, std::string_view key, std::string_view value,
                            std::string* error) {
  auto bad = [&](const char* form) {
    *error = "invalid value \"" + std::string(value) + "\" for \"" + std::string(key) +
             "\": expected " + form;
    return false;
  };
  auto number = [&](uint32_t* field, uint32_t max) {
    if (!parse_number(value, max, field)) return bad("an integer");
    return true;
  };
  if (key == "p2p") return parse_switch(value, &p->p2p_enabled) || bad("on or off");
  if (key == "rollout") return parse_percentage(value, &p->rollout_basis_points) || bad("0%..100%");
  if (key == "min_version") return semver_parse(value, &p->min_version) || bad("a semver");
  if (key == "tracker_url" || key == "signalling_url" || key == "analytics_url" || key == "stun") {
    if (!url_acceptable(value)) return bad("a URL without spaces or quotes");
    if (key == "tracker_url")
      p->tracker_url.assign(value);
    else if (key == "signalling_url")
      p->signalling_url.assign(value);
    else if (key == "analytics_url")
      p->analytics_url.assign(value);
    else
      p->stun_servers.emplace_back(value);
    return true;
  }
  if (key == "ttl") return number(&p->ttl, 86400);
  if (key == "announce_interval") return number(&p->tuning.announce_interval, 3600);
  if (key == "usage_interval") return number(&p->tuning.usage_interval, 3600);
  if (key == "stats_interval") return number(&p->tuning.stats_interval, 86400);
  if (key == "control_interval") return number(&p->tuning.control_interval, 86400);
  if (key == "max_peers") return number(&p->tuning.max_peers, 200);
  if (key == "max_upload_peers") return number(&p->tuning.max_upload_peers, 200);
  if (key == "http_deadline_ms") return number(&p->tuning.http_deadline_ms, 600000);
  if (key == "prefetch_segments") return number(&p->tuning.prefetch_segments, 100);
  *error = "unknown distributor setting \"" + std::string(key) + "\"";
  return false;
}

bool parse_distributor_query(std::string_view args, distributor_query* out, api_error* error) {
  if (args.size() > kMaxQueryLength) {
    *error = bad_request("query longer than " + std::to_string(kMaxQueryLength) + " bytes");
    return false;
  }
  bool seen[4] = {false, false, false, false};
  std::string* fields[4] = {&out->customer, &out->content, &out->version, &out->session};
  static const char* const kNames[4] = {"customer", "content", "version", "session"};
  size_t start = 0;
  while (start <= args.size()) {
    size_t end = args.find('&', start);
    if (end == std::string_view::npos) end = args.size();
    std::string_view pair = args.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    std::string_view raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    for (int i = 0; i < 4; ++i) {
      if (name != kNames[i]) continue;
      if (seen[i]) {
        *error = bad_request(std::string(kNames[i]) + ": given twice");
        return false;
      }
      seen[i] = true;
      if (!percent_decode(raw, fields[i])) {
        *error = bad_request(std::string(kNames[i]) + ": bad percent-encoding");
        return false;
      }
    }
  }
  for (int i = 0; i < 3; ++i) {
    if (!seen[i] || fields[i]->empty()) {
      *error = bad_request(std::string(kNames[i]) + ": required");
      return false;
    }
  }
  if (!ticket_id_valid(out->customer)) {
    *error = bad_request("customer: must be 1..64 of [A-Za-z0-9_-]");
    return false;
  }
  if (!ticket_id_valid(out->content)) {
    *error = bad_request("content: must be 1..64 of [A-Za-z0-9_-]");
    return false;
  }
  if (seen[3] && !ticket_id_valid(out->session)) {
    *error = bad_request("session: must be 1..64 of [A-Za-z0-9_-]");
    return false;
  }
  if (out->version.size() > kMaxVersionLength) {
    *error = bad_request("version: longer than 64");
    return false;
  }
  return true;
}

uint32_t rollout_bucket(std::string_view customer, std::string_view content,
                        std::string_view session) {
  // Ids cannot contain '\n', so the joined string is unambiguous.
  std::string key;
  key.reserve(customer.size() + content.size() + session.size() + 2);
  key.append(customer).append(1, '\n').append(content).append(1, '\n').append(session);
  sha256_digest d = sha256(key);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | d[i];
  return static_cast<uint32_t>(v % 10000);
}

distributor_decision distributor_decide(const distributor_settings& settings,
                                        const distributor_query& query) {
  distributor_decision d;
  auto it = settings.customers.find(query.customer);
  d.policy = it == settings.customers.end() ? &settings.defaults : &it->second;
  if (settings.kill_switch) {
    d.reason = "kill_switch";
    return d;
  }
  if (!d.policy->p2p_enabled) {
    d.reason = "disabled";
    return d;
  }
  semver version;
  if (!semver_parse(query.version, &version)) {
    d.reason = "version_unparsable";
    return d;
  }
  if (semver_compare(version, d.policy->min_version) < 0) {
    d.reason = "version_too_old";
    return d;
  }
  if (rollout_bucket(query.customer, query.content, query.session) >=
      d.policy->rollout_basis_points) {
    d.reason = "rollout";
    return d;
  }
  d.p2p = true;
  d.reason = "enabled";
  return d;
}

api_response distributor_handle(const distributor_settings& settings, std::string_view args) {
  distributor_query query;
  api_error error;
  if (!parse_distributor_query(args, &query, &error)) return error_response(error);
  distributor_decision d = distributor_decide(settings, query);
  const distributor_policy& p = *d.policy;
  api_response r;
  std::string& b = r.body;
  b.reserve(512);
  b = "{\"p2p\":";
  b += d.p2p ? "true," : "false,";
  append_string_member(&b, "reason", d.reason);
  b += ',';
  append_string_member(&b, "tracker_url", p.tracker_url);
  b += ',';
  append_string_member(&b, "signalling_url", p.signalling_url);
  b += ',';
  append_string_member(&b, "analytics_url", p.analytics_url);
  b += ",\"stun_servers\":[";
  for (size_t i = 0; i < p.stun_servers.size(); ++i) {
    if (i) b += ',';
    b += '"' + json_escape(p.stun_servers[i]) + '"';
  }
  b += "],\"tuning\":{";
  const distributor_tuning& t = p.tuning;
  append_uint_member(&b, "announce_interval", t.announce_interval);
  b += ',';
  append_uint_member(&b, "usage_interval", t.usage_interval);
  b += ',';
  append_uint_member(&b, "stats_interval", t.stats_interval);
  b += ',';
  append_uint_member(&b, "control_interval", t.control_interval);
  b += ',';
  append_uint_member(&b, "max_peers", t.max_peers);
  b += ',';
  append_uint_member(&b, "max_upload_peers", t.max_upload_peers);
  b += ',';
  append_uint_member(&b, "http_deadline_ms", t.http_deadline_ms);
  b += ',';
  append_uint_member(&b, "prefetch_segments", t.prefetch_segments);
  b += "},";
  append_uint_member(&b, "ttl", p.ttl);
  b += '}';
  // The answer depends only on the query and the configuration: a private cache
  // (the player's) may keep it; shared caches must not mix viewers' sessions.
  r.cache_control = "private, max-age=" + std::to_string(p.ttl);
  return r;
}

}  // namespace p2p
