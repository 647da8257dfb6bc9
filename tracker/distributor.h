// The distributor's answer: for (customer, content, library version, session) the
// configuration a client needs, and whether it may use P2P at all. Any failure here
// means "HTTP only" for the client, so the answer is cheap and never an error on a
// well-formed query. Contract in README.md ("Distributor").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tracker/json_request.h"

namespace p2p {

struct semver {
  uint32_t major = 0;
  uint32_t minor = 0;
  uint32_t patch = 0;
  std::string prerelease;  // empty for a release
};

// MAJOR.MINOR.PATCH[-prerelease][+build], numbers without leading zeros (semver 2.0).
bool semver_parse(std::string_view text, semver* out);
// <0, 0, >0 per semver 2.0 precedence (build metadata ignored).
int semver_compare(const semver& a, const semver& b);

struct distributor_tuning {
  uint32_t announce_interval = 30;
  uint32_t usage_interval = 10;
  uint32_t stats_interval = 120;
  uint32_t control_interval = 600;
  uint32_t max_peers = 20;
  uint32_t max_upload_peers = 8;
  uint32_t http_deadline_ms = 2000;
  uint32_t prefetch_segments = 3;
};

// Everything a customer can have its own value for.
struct distributor_policy {
  bool p2p_enabled = true;
  uint32_t rollout_basis_points = 10000;  // share of sessions with P2P, 1/100 of a percent
  semver min_version;                     // older libraries get P2P off
  std::string tracker_url;
  std::string signalling_url;
  std::string analytics_url;
  std::vector<std::string> stun_servers;
  distributor_tuning tuning;
  uint32_t ttl = 300;  // seconds the client may cache the answer
};

// Sets one policy value from configuration text, e.g. ("rollout", "12.5%"),
// ("p2p", "off"), ("min_version", "1.4.0"), ("stun", "stun:host:3478"),
// ("max_peers", "30"). Keys and forms are listed in README.md. Returns false with
// `*error` set on an unknown key or a bad value (the glue reports it at nginx -t).
bool distributor_policy_set(distributor_policy* policy, std::string_view key,
                            std::string_view value, std::string* error);

struct distributor_settings {
  bool kill_switch = false;  // P2P off for everyone, whatever the policies say
  distributor_policy defaults;
  std::unordered_map<std::string, distributor_policy> customers;  // complete policies
};

struct distributor_query {
  std::string customer;
  std::string content;
  std::string version;
  std::string session;  // may be empty
};

// Parses a query string (without '?'): percent-decoding, ids checked, duplicates and
// missing required args refused.
bool parse_distributor_query(std::string_view args, distributor_query* out, api_error* error);

// 0..9999, stable for (customer, content, session): a viewer does not flip.
uint32_t rollout_bucket(std::string_view customer, std::string_view content,
                        std::string_view session);

struct distributor_decision {
  bool p2p = false;
  const char* reason = "";
  const distributor_policy* policy = nullptr;
};

distributor_decision distributor_decide(const distributor_settings& settings,
                                        const distributor_query& query);

// Parses the query and answers (200 with the configuration, or 400).
api_response distributor_handle(const distributor_settings& settings, std::string_view args);

}  // namespace p2p
