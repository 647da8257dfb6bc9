#include "tracker/tracker_api.h"

#include <jansson.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "third_party/cmocka.hpp"
#include "tracker/ticket.h"

namespace {

using p2p::api_response;

constexpr int64_t kNow = 1700000000;

struct counting_lock : p2p::block_lock {
  int depth = 0;
  int taken = 0;
  void lock() override {
    assert_int_equal(depth, 0);
    ++depth;
    ++taken;
  }
  void unlock() override { --depth; }
};

struct fixture {
  fixture() : data(static_cast<char*>(std::aligned_alloc(8, kSize))) {
    bool reused;
    assert_true(registry.attach(data, kSize, 5, &reused));
    registry.set_limits({100, 90, 30});
    settings.secret = "test-secret";
    settings.ticket_lifetime = 600;
  }
  ~fixture() { std::free(data); }

  api_response call(const char* action, const std::string& body, const char* ip = "10.0.0.1",
                    int64_t now = kNow) {
    p2p::requester_facts facts;
    uint8_t v4[4];
    assert_int_equal(sscanf(ip, "%hhu.%hhu.%hhu.%hhu", &v4[0], &v4[1], &v4[2], &v4[3]), 4);
    facts.address = p2p::peer_address::from_v4(v4);
    facts.asn = 64500;
    facts.country[0] = 'D';
    facts.country[1] = 'E';
    api_response r =
        p2p::tracker_handle(action, body, facts, registry, lock, settings, now, workspace);
    assert_int_equal(lock.depth, 0);
    return r;
  }

  static constexpr size_t kSize = 256 << 10;
  char* data;
  p2p::swarm_registry registry;
  p2p::tracker_settings settings;
  counting_lock lock;
  p2p::tracker_workspace* workspace = nullptr;  // none: every peers call walks its swarm
};

struct parsed {
  explicit parsed(const std::string& body) : root(json_loads(body.c_str(), 0, nullptr)) {
    assert_non_null(root);
  }
  ~parsed() { json_decref(root); }
  std::string str(const char* key) const {
    json_t* v = json_object_get(root, key);
    assert_true(json_is_string(v));
    return json_string_value(v);
  }
  std::string error_code() const {
    return json_string_value(json_object_get(json_object_get(root, "error"), "code"));
  }
  json_t* root;
};

std::string init_body(const char* swarm, const char* network = "wifi") {
  return std::string("{\"swarm\":\"") + swarm + "\",\"customer\":\"c1\",\"network\":\"" + network +
         "\",\"upload_kbps\":4000}";
}

void expect_error(const api_response& r, int status, const char* code) {
  if (r.http_status != status) print_message("body: %s\n", r.body.c_str());
  assert_int_equal(r.http_status, status);
  assert_string_equal(parsed(r.body).error_code().c_str(), code);
  assert_false(r.log_reason.empty());
}

void init_issues_peer_id_and_ticket(void**) {
  fixture f;
  api_response r = f.call("init", init_body("movie-720p"));
  assert_int_equal(r.http_status, 200);
  parsed p(r.body);
  std::string id = p.str("peer_id");
  assert_int_equal(id.size(), 22);
  assert_true(p2p::ticket_id_valid(id));
  p2p::ticket_claims claims;
  assert_int_equal(p2p::ticket_verify("test-secret", p.str("ticket"), kNow, 0, &claims),
                   p2p::ticket_status::ok);
  assert_string_equal(claims.peer_id.c_str(), id.c_str());
  assert_string_equal(claims.swarm_id.c_str(), "movie-720p");
  assert_int_equal(claims.expiry, kNow + 600);
  assert_int_equal(json_integer_value(json_object_get(p.root, "protocol")), 1);
  assert_int_equal(json_integer_value(json_object_get(p.root, "peer_ttl")), 90);
  assert_true(f.registry.find(id, nullptr));
  // Two inits, two different ids.
  assert_string_not_equal(
      parsed(f.call("init", init_body("movie-720p")).body).str("peer_id").c_str(), id.c_str());
}

void peers_ranked_without_cellular(void**) {
  fixture f;
  std::string me = parsed(f.call("init", init_body("s"), "10.0.0.1").body).str("ticket");
  std::string near = parsed(f.call("init", init_body("s"), "10.0.0.77").body).str("peer_id");
  f.call("init", init_body("s", "cellular"), "10.0.0.78");
  std::string far = parsed(f.call("init", init_body("s"), "172.16.0.1").body).str("peer_id");
  api_response r = f.call("peers", "{\"ticket\":\"" + me + "\",\"numwant\":10}");
  assert_int_equal(r.http_status, 200);
  parsed p(r.body);
  json_t* peers = json_object_get(p.root, "peers");
  assert_int_equal(json_array_size(peers), 2);
  json_t* first = json_array_get(peers, 0);
  assert_string_equal(json_string_value(json_object_get(first, "peer_id")), near.c_str());
  assert_string_equal(json_string_value(json_object_get(first, "match")), "subnet");
  json_t* second = json_array_get(peers, 1);
  assert_string_equal(json_string_value(json_object_get(second, "peer_id")), far.c_str());
  assert_string_equal(json_string_value(json_object_get(second, "match")), "asn");
  assert_null(json_object_get(p.root, "ticket"));  // fresh ticket: not renewed
  // numwant caps.
  r = f.call("peers", "{\"ticket\":\"" + me + "\",\"numwant\":1}");
  parsed capped(r.body);
  assert_int_equal(json_array_size(json_object_get(capped.root, "peers")), 1);
}

void peers_renews_old_ticket_and_reregisters(void**) {
  fixture f;
  parsed init(f.call("init", init_body("s")).body);
  std::string ticket = init.str("ticket");
  std::string id = init.str("peer_id");
  // Silent for 100 s (> ttl 90): expired from the registry, ticket still valid.
  f.registry.expire(kNow + 100, 100);
  assert_false(f.registry.find(id, nullptr));
  api_response r = f.call("peers", "{\"ticket\":\"" + ticket + "\"}", "10.0.0.1", kNow + 400);
  assert_int_equal(r.http_status, 200);
  assert_true(f.registry.find(id, nullptr));
  parsed p(r.body);
  p2p::ticket_claims claims;
  assert_int_equal(p2p::ticket_verify("test-secret", p.str("ticket"), kNow + 400, 0, &claims),
                   p2p::ticket_status::ok);
  assert_int_equal(claims.expiry, kNow + 1000);
}

void track_moves_and_reissues_ticket(void**) {
  fixture f;
  parsed init(f.call("init", init_body("movie-480p")).body);
  std::string id = init.str("peer_id");
  api_response r =
      f.call("track", "{\"ticket\":\"" + init.str("ticket") + "\",\"swarm\":\"movie-1080p\"}");
  assert_int_equal(r.http_status, 200);
  parsed p(r.body);
  assert_string_equal(p.str("swarm").c_str(), "movie-1080p");
  p2p::ticket_claims claims;
  assert_int_equal(p2p::ticket_verify("test-secret", p.str("ticket"), kNow, 0, &claims),
                   p2p::ticket_status::ok);
  assert_string_equal(claims.peer_id.c_str(), id.c_str());
  assert_string_equal(claims.swarm_id.c_str(), "movie-1080p");
  assert_int_equal(f.registry.swarm_size("movie-480p"), 0);
  assert_int_equal(f.registry.swarm_size("movie-1080p"), 1);
  // The new ticket lists the new swarm's peers; a peer in the old swarm sees nobody.
  std::string other = parsed(f.call("init", init_body("movie-1080p")).body).str("ticket");
  r = f.call("peers", "{\"ticket\":\"" + other + "\"}");
  parsed listed(r.body);
  json_t* peers = json_object_get(listed.root, "peers");
  assert_int_equal(json_array_size(peers), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(peers, 0), "peer_id")),
                      id.c_str());
  // The network type survives the move.
  p2p::peer_view v;
  assert_true(f.registry.find(id, &v));
  assert_int_equal(v.network, p2p::network_type::wifi);
  assert_int_equal(v.upload_kbps, 4000);
}

void forged_expired_and_foreign_tickets(void**) {
  fixture f;
  parsed a(f.call("init", init_body("s")).body);
  parsed b(f.call("init", init_body("s")).body);
  std::string ticket = a.str("ticket");
  std::string forged = ticket;
  forged[forged.size() - 2] = forged[forged.size() - 2] == 'A' ? 'B' : 'A';
  expect_error(f.call("peers", "{\"ticket\":\"" + forged + "\"}"), 401, "bad_ticket");
  expect_error(f.call("peers", "{\"ticket\":\"v1.x\"}"), 401, "bad_ticket");
  std::string other_secret = p2p::ticket_sign("other", {a.str("peer_id"), "s", kNow + 600});
  expect_error(f.call("peers", "{\"ticket\":\"" + other_secret + "\"}"), 401, "bad_ticket");
  expect_error(f.call("peers", "{\"ticket\":\"" + ticket + "\"}", "10.0.0.1", kNow + 700), 401,
               "ticket_expired");
  // A's ticket with B's id: claiming to be another peer.
  expect_error(
      f.call("peers", "{\"ticket\":\"" + ticket + "\",\"peer_id\":\"" + b.str("peer_id") + "\"}"),
      403, "peer_mismatch");
  expect_error(f.call("track", "{\"ticket\":\"" + ticket + "\",\"swarm\":\"t\",\"peer_id\":\"" +
                                   b.str("peer_id") + "\"}"),
               403, "peer_mismatch");
  expect_error(f.call("peers", "{\"ticket\":\"" + ticket + "\",\"swarm\":\"elsewhere\"}"), 403,
               "swarm_mismatch");
  expect_error(f.call("track", "{\"ticket\":\"" + forged + "\",\"swarm\":\"t\"}"), 401,
               "bad_ticket");
  // Nothing above changed the registry.
  assert_int_equal(f.registry.counters().peer_count, 2);
  assert_int_equal(f.registry.swarm_size("t"), 0);
}

void hostile_bodies(void**) {
  fixture f;
  expect_error(f.call("init", std::string(5000, ' ')), 413, "body_too_large");
  expect_error(f.call("init", std::string(2000, '[') + std::string(2000, ']')), 400, "bad_json");
  expect_error(f.call("init", "{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}"), 400, "bad_json");
  expect_error(f.call("init", "{\"swarm\":\"s\xff\",\"customer\":\"c\"}"), 400, "bad_json");
  expect_error(f.call("init", "{\"swarm\":\"s\\u0000\",\"customer\":\"c\"}"), 400, "bad_json");
  expect_error(f.call("init", "{\"swarm\":\"s\",\"swarm\":\"t\",\"customer\":\"c\"}"), 400,
               "bad_json");
  expect_error(f.call("init", "{\"swarm\":\"s\",\"customer\":\"c\"} trailing"), 400, "bad_json");
  expect_error(f.call("init", "{\"swarm\":\"s\",\"customer\":\"c\""), 400, "bad_json");
  expect_error(f.call("init", ""), 400, "bad_json");
  expect_error(f.call("init", "[1,2]"), 400, "bad_request");
  expect_error(f.call("init", "\"just a string\""), 400, "bad_request");
  expect_error(f.call("init", "{\"customer\":\"c\"}"), 400, "bad_request");
  expect_error(f.call("init", "{\"swarm\":5,\"customer\":\"c\"}"), 400, "bad_request");
  expect_error(f.call("init", "{\"swarm\":\"a b\",\"customer\":\"c\"}"), 400, "bad_request");
  expect_error(f.call("init", "{\"swarm\":\"s\",\"customer\":\"c\",\"upload_kbps\":-1}"), 400,
               "bad_request");
  expect_error(f.call("init", "{\"swarm\":\"s\",\"customer\":\"c\",\"upload_kbps\":1.5}"), 400,
               "bad_request");
  expect_error(f.call("init", "{\"swarm\":\"s\",\"customer\":\"c\",\"upload_kbps\":\"9\"}"), 400,
               "bad_request");
  expect_error(
      f.call("init", "{\"swarm\":\"s\",\"customer\":\"c\",\"upload_kbps\":99999999999999999999}"),
      400, "bad_json");
  expect_error(f.call("init", "{\"swarm\":\"s\",\"customer\":\"c\",\"network\":\"5g\"}"), 400,
               "bad_request");
  expect_error(f.call("init", "{\"swarm\":\"s\",\"customer\":\"c\",\"protocol\":0}"), 400,
               "bad_request");
  std::string many = "{";
  for (int i = 0; i < 40; ++i) many += "\"k" + std::to_string(i) + "\":1,";
  many += "\"swarm\":\"s\",\"customer\":\"c\"}";
  expect_error(f.call("init", many), 400, "bad_json");
  std::string long_array = "{\"swarm\":\"s\",\"customer\":\"c\",\"x\":[";
  for (int i = 0; i < 100; ++i) long_array += "1,";
  long_array += "1]}";
  expect_error(f.call("init", long_array), 400, "bad_json");
  expect_error(f.call("peers", "{}"), 400, "bad_request");
  expect_error(f.call("peers", "{\"ticket\":7}"), 400, "bad_request");
  expect_error(f.call("peers", "{\"ticket\":\"t\",\"numwant\":1000}"), 400, "bad_request");
  expect_error(f.call("track", "{\"ticket\":\"t\"}"), 400, "bad_request");
  expect_error(f.call("announce", "{}"), 404, "unknown_action");
  // Unknown members are ignored; strings with quotes in messages stay valid JSON.
  api_response ok = f.call("init", "{\"swarm\":\"s\",\"customer\":\"c\",\"future\":{\"x\":[1]}}");
  assert_int_equal(ok.http_status, 200);
  assert_int_equal(f.registry.counters().peer_count, 1);
}

void full_registry_is_503_with_retry_after(void**) {
  fixture f;
  f.registry.set_limits({2, 90, 30});
  f.call("init", init_body("s"));
  f.call("init", init_body("s"));
  api_response r = f.call("init", init_body("s"));
  expect_error(r, 503, "full");
  assert_int_equal(r.retry_after, 30);
  parsed p(r.body);
  assert_int_equal(
      json_integer_value(json_object_get(json_object_get(p.root, "error"), "retry_after")), 30);
}

// (peer_id, match) of every entry of a peers answer, sorted.
std::vector<std::string> answer_entries(const api_response& r) {
  assert_int_equal(r.http_status, 200);
  parsed p(r.body);
  std::vector<std::string> out;
  size_t i;
  json_t* entry;
  json_array_foreach(json_object_get(p.root, "peers"), i, entry) {
    out.push_back(std::string(json_string_value(json_object_get(entry, "peer_id"))) + "/" +
                  json_string_value(json_object_get(entry, "match")) + "/" +
                  std::to_string(json_integer_value(json_object_get(entry, "upload_kbps"))));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// With a workspace (as nginx runs it: swarm copies reused across calls, ranking after
// the lock) a peers call offers the same peers as one that walks the swarm.
void workspace_answers_like_a_walk(void**) {
  fixture f;
  f.settings.ticket_lifetime = 100000;  // no renewal to follow
  p2p::tracker_workspace workspace;
  std::mt19937 rng(7);
  static const char* const kNetworks[] = {"wifi", "cellular", "ethernet", "unknown"};
  static const char* const kIps[] = {"10.0.0.1", "10.0.0.2", "10.0.1.9", "192.0.2.4"};
  std::vector<std::pair<std::string, std::string>> peers;  // ticket, ip
  for (int i = 0; i < 40; ++i) {
    std::string swarm = "s" + std::to_string(i % 4);
    const char* ip = kIps[rng() % 4];
    api_response r = f.call("init", init_body(swarm.c_str(), kNetworks[rng() % 4]), ip, kNow);
    peers.emplace_back(parsed(r.body).str("ticket"), ip);
  }
  int64_t now = kNow;
  for (int step = 0; step < 2000; ++step) {
    now += rng() % 3;
    auto& [ticket, ip] = peers[rng() % peers.size()];
    if (rng() % 10 == 0) {  // an ABR switch
      std::string swarm = "s" + std::to_string(rng() % 4);
      api_response r = f.call(
          "track", "{\"ticket\":\"" + ticket + "\",\"swarm\":\"" + swarm + "\"}", ip.c_str(), now);
      assert_int_equal(r.http_status, 200);
      ticket = parsed(r.body).str("ticket");
      continue;
    }
    std::string body = "{\"ticket\":\"" + ticket + "\",\"numwant\":50";
    if (rng() % 8 == 0) body += ",\"upload_kbps\":" + std::to_string(rng() % 3 * 5000);
    body += "}";
    f.workspace = nullptr;
    std::vector<std::string> walked = answer_entries(f.call("peers", body, ip.c_str(), now));
    f.workspace = &workspace;
    const int taken = f.lock.taken;
    std::vector<std::string> copied = answer_entries(f.call("peers", body, ip.c_str(), now));
    assert_int_equal(f.lock.taken, taken + 1);
    assert_true(walked == copied);
  }
  assert_true(workspace.snapshots().reused() > 500);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(init_issues_peer_id_and_ticket),
      cmocka_unit_test(peers_ranked_without_cellular),
      cmocka_unit_test(peers_renews_old_ticket_and_reregisters),
      cmocka_unit_test(track_moves_and_reissues_ticket),
      cmocka_unit_test(forged_expired_and_foreign_tickets),
      cmocka_unit_test(hostile_bodies),
      cmocka_unit_test(full_registry_is_503_with_retry_after),
      cmocka_unit_test(workspace_answers_like_a_walk),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
