#include "client/scheduler.h"

#include <memory>
#include <string>
#include <vector>

#include "client/tests/fake_sources.h"
#include "third_party/cmocka.hpp"

namespace {

using namespace p2p;
using p2p_test::fake_http;
using p2p_test::fake_peer;
using p2p_test::fake_swarm;
using p2p_test::hash_bytes;

std::string make_bytes(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed * 7) & 0xff);
  return s;
}

struct vod_fixture {
  manual_clock clock;
  fake_http http{clock};
  fake_swarm swarm{clock};
  segment_store store{64 * 1024 * 1024};
  std::vector<media_item> items;
  std::vector<std::string> bodies;

  explicit vod_fixture(int count, size_t size = 200000) {
    for (int i = 0; i < count; ++i) {
      media_item item;
      item.url = "http://o/s" + std::to_string(i) + ".ts";
      item.sequence = i;
      item.start = 2.0 * i;
      item.duration = 2.0;
      bodies.push_back(make_bytes(size, i));
      item.has_hash = true;
      item.hash = hash_bytes(bodies.back());
      http.files[item.url] = bodies.back();
      items.push_back(item);
    }
  }
  void give_all(fake_peer* peer) {
    for (size_t i = 0; i < items.size(); ++i) peer->has[items[i].hash] = bodies[i];
  }
};

struct outcome {
  bool done = false;
  delivery d;
  int64_t at_ms = 0;
};

// Steps the simulation in 10 ms ticks up to `duration_ms`.
void run(manual_clock& clock, fake_http& http, fake_swarm* swarm, scheduler& s,
         int64_t duration_ms) {
  for (int64_t t = 0; t < duration_ms; t += 10) {
    clock.advance(10);
    http.pump();
    if (swarm) swarm->pump();
    s.tick();
  }
}

std::vector<outcome> want_all(vod_fixture& f, scheduler& s, int64_t first_deadline_ms,
                              int64_t spacing_ms) {
  std::vector<outcome> results(f.items.size());
  for (size_t i = 0; i < f.items.size(); ++i) {
    outcome* o = &results[i];
    const manual_clock* clock = &f.clock;
    s.want(f.items[i], f.clock.now_ms() + first_deadline_ms + spacing_ms * static_cast<int64_t>(i),
           [o, clock](delivery d) {
             o->done = true;
             o->d = std::move(d);
             o->at_ms = clock->now_ms();
           });
  }
  return results;
}

void peers_deliver_and_hashes_checked(void**) {
  vod_fixture f(10);
  f.give_all(&f.swarm.peers["p1"]);
  f.give_all(&f.swarm.peers["p2"]);
  scheduler_config config;
  config.random_seed = 1;
  scheduler s(f.clock, f.http, &f.swarm, f.store, config);
  int64_t start = f.clock.now_ms();
  auto results = want_all(f, s, 8000, 2000);
  run(f.clock, f.http, &f.swarm, s, 40000);
  for (size_t i = 0; i < results.size(); ++i) {
    assert_true(results[i].done);
    assert_true(results[i].d.ok);
    assert_true(results[i].d.bytes == f.bodies[i]);
    assert_true(results[i].at_ms <= start + 8000 + 2000 * static_cast<int64_t>(i));
  }
  assert_int_equal(s.stats().late_deliveries, 0);
  assert_int_equal(s.stats().bytes_http, 0);
  assert_int_equal(s.stats().bytes_p2p, 10 * 200000);
  assert_int_equal(f.store.size(), 10);
}

void deadline_met_by_http_when_peers_stall(void**) {
  vod_fixture f(20);
  f.give_all(&f.swarm.peers["staller"]);
  f.swarm.peers["staller"].stall = true;
  f.give_all(&f.swarm.peers["crawler"]);
  f.swarm.peers["crawler"].bytes_per_ms = 15;  // 200 KB would take ~13 s
  scheduler_config config;
  config.random_seed = 2;
  scheduler s(f.clock, f.http, &f.swarm, f.store, config);
  int64_t start = f.clock.now_ms();
  auto results = want_all(f, s, 4000, 2000);
  run(f.clock, f.http, &f.swarm, s, 60000);
  for (size_t i = 0; i < results.size(); ++i) {
    assert_true(results[i].done);
    assert_true(results[i].d.ok);
    assert_true(results[i].d.bytes == f.bodies[i]);
    assert_true(results[i].at_ms <= start + 4000 + 2000 * static_cast<int64_t>(i));
  }
  assert_int_equal(s.stats().late_deliveries, 0);
  assert_true(s.stats().p2p_cancelled_slow > 0);
  assert_int_equal(f.swarm.running(), 0);
}

void slow_peer_cancelled_in_time(void**) {
  vod_fixture f(1, 1000000);
  f.give_all(&f.swarm.peers["slow"]);
  f.swarm.peers["slow"].bytes_per_ms = 50;  // 1 MB in 20 s; the deadline is in 15 s
  scheduler_config config;
  config.random_seed = 3;
  scheduler s(f.clock, f.http, &f.swarm, f.store, config);
  int64_t start = f.clock.now_ms();
  auto results = want_all(f, s, 15000, 0);
  int64_t cancelled_at = 0;
  for (int64_t t = 0; t < 20000 && !results[0].done; t += 10) {
    f.clock.advance(10);
    f.http.pump();
    f.swarm.pump();
    s.tick();
    if (cancelled_at == 0 && !f.swarm.cancelled.empty()) cancelled_at = f.clock.now_ms();
  }
  assert_true(results[0].done);
  assert_true(results[0].d.ok);
  assert_true(results[0].d.source == delivery_source::http);
  assert_int_equal(f.swarm.fetched_from.size(), 1);
  // Cancelled as soon as its rate was known (well before the safety window), and the
  // HTTP fallback (1 s for 1 MB here) finished before the deadline.
  assert_true(cancelled_at > 0);
  assert_true(cancelled_at <= start + 1000);
  assert_true(results[0].at_ms <= start + 15000);
  assert_int_equal(s.stats().p2p_cancelled_slow, 1);
}

void corrupted_data_never_delivered(void**) {
  vod_fixture f(6);
  f.give_all(&f.swarm.peers["liar"]);
  f.swarm.peers["liar"].corrupt = true;
  scheduler_config config;
  config.random_seed = 4;
  scheduler s(f.clock, f.http, &f.swarm, f.store, config);
  auto results = want_all(f, s, 8000, 2000);
  run(f.clock, f.http, &f.swarm, s, 30000);
  for (size_t i = 0; i < results.size(); ++i) {
    assert_true(results[i].done);
    assert_true(results[i].d.bytes == f.bodies[i]);
    assert_true(results[i].d.source == delivery_source::http);
  }
  assert_int_equal(s.stats().integrity_failures, 1);
  assert_true(f.swarm.blacklisted.count("liar") == 1);
  // The in-flight requests to it were cancelled, and it was never asked again.
  assert_int_equal(f.swarm.fetched_from.size(), config.max_p2p_fetches);
  assert_int_equal(f.swarm.cancelled.size(), config.max_p2p_fetches - 1);
  assert_int_equal(s.stats().bytes_p2p, 0);
  assert_int_equal(s.stats().late_deliveries, 0);
  // Only verified bytes are kept for re-sharing.
  for (size_t i = 0; i < f.items.size(); ++i) {
    const std::string* stored = f.store.get(f.items[i].hash);
    assert_non_null(stored);
    assert_true(*stored == f.bodies[i]);
  }
}

void items_without_hash_never_from_peers(void**) {
  vod_fixture f(4);
  f.give_all(&f.swarm.peers["p"]);
  for (auto& item : f.items) item.has_hash = false;
  scheduler_config config;
  config.random_seed = 5;
  scheduler s(f.clock, f.http, &f.swarm, f.store, config);
  auto results = want_all(f, s, 8000, 2000);
  run(f.clock, f.http, &f.swarm, s, 20000);
  for (auto& r : results) assert_true(r.done && r.d.ok);
  assert_int_equal(f.swarm.fetched_from.size(), 0);
  assert_int_equal(f.store.size(), 0);
}

void http_errors_retried_then_reported(void**) {
  vod_fixture f(1);
  scheduler_config config;
  config.random_seed = 6;
  config.http_retries = 2;
  scheduler s(f.clock, f.http, nullptr, f.store, config);
  f.http.fail_next = 1;
  auto results = want_all(f, s, 0, 0);
  run(f.clock, f.http, nullptr, s, 3000);
  assert_true(results[0].done && results[0].d.ok);
  assert_int_equal(f.http.count(f.items[0].url), 2);
  media_item missing = f.items[0];
  missing.url = "http://o/missing.ts";
  missing.has_hash = false;
  outcome o;
  s.want(missing, f.clock.now_ms(), [&o](delivery d) {
    o.done = true;
    o.d = std::move(d);
  });
  run(f.clock, f.http, nullptr, s, 3000);
  assert_true(o.done);
  assert_false(o.d.ok);
  assert_int_equal(o.d.http_status, 404);
  assert_int_equal(f.http.count(missing.url), 1);  // a 4xx is not retried
}

// A live swarm: every client is a peer_source view of the others' stores.
struct mesh_client;
struct mesh {
  std::vector<std::unique_ptr<mesh_client>> clients;
};

class mesh_view : public peer_source {
 public:
  mesh_view(const manual_clock& clock, mesh& m, size_t self)
      : clock_(clock), mesh_(m), self_(self) {}
  std::vector<std::string> peers_with(const content_hash& hash) const override;
  size_t connected_peers() const override { return mesh_.clients.size() - 1; }
  uint64_t fetch(const std::string& peer_id, const content_hash& hash,
                 std::function<void(peer_fetch_status, std::string)> done) override;
  size_t received(uint64_t id) const override {
    auto it = running_.find(id);
    if (it == running_.end()) return 0;
    double elapsed = static_cast<double>(clock_.now_ms() - it->second.started_ms);
    return std::min(it->second.bytes.size(), static_cast<size_t>(elapsed * 2000));
  }
  size_t total_size(uint64_t id) const override {
    auto it = running_.find(id);
    return it == running_.end() ? 0 : it->second.bytes.size();
  }
  void cancel(uint64_t id) override { running_.erase(id); }
  void blacklist(const std::string&) override {}
  void pump() {
    std::vector<uint64_t> ids;
    for (auto& r : running_) ids.push_back(r.first);
    for (uint64_t id : ids) {
      auto it = running_.find(id);
      if (it == running_.end() || received(id) < it->second.bytes.size() ||
          clock_.now_ms() - it->second.started_ms < 30) {
        continue;
      }
      auto node = running_.extract(id);
      peer_fetch_status status =
          node.mapped().bytes.empty() ? peer_fetch_status::absent : peer_fetch_status::ok;
      node.mapped().done(status, std::move(node.mapped().bytes));
    }
  }

 private:
  struct request {
    std::string bytes;
    int64_t started_ms;
    std::function<void(peer_fetch_status, std::string)> done;
  };
  const manual_clock& clock_;
  mesh& mesh_;
  size_t self_;
  uint64_t next_ = 1;
  std::map<uint64_t, request> running_;
};

struct mesh_client {
  segment_store store{64 * 1024 * 1024};
  std::unique_ptr<mesh_view> view;
  std::unique_ptr<scheduler> sched;
  std::vector<outcome> results;
};

std::vector<std::string> mesh_view::peers_with(const content_hash& hash) const {
  std::vector<std::string> out;
  for (size_t i = 0; i < mesh_.clients.size(); ++i) {
    if (i != self_ && mesh_.clients[i]->store.contains(hash)) out.push_back(std::to_string(i));
  }
  return out;
}

uint64_t mesh_view::fetch(const std::string& peer_id, const content_hash& hash,
                          std::function<void(peer_fetch_status, std::string)> done) {
  uint64_t id = next_++;
  const std::string* bytes = mesh_.clients[std::stoul(peer_id)]->store.get(hash);
  running_[id] = {bytes ? *bytes : std::string(), clock_.now_ms(), std::move(done)};
  return id;
}

void live_swarm_pulls_each_segment_about_once(void**) {
  const size_t kClients = 8;
  const int kSegments = 30;
  manual_clock clock;
  fake_http http(clock);
  http.bytes_per_ms = 500;
  mesh m;
  for (size_t i = 0; i < kClients; ++i) {
    auto c = std::make_unique<mesh_client>();
    c->view = std::make_unique<mesh_view>(clock, m, i);
    scheduler_config config;
    config.random_seed = static_cast<uint32_t>(100 + i);
    c->sched = std::make_unique<scheduler>(clock, http, c->view.get(), c->store, config);
    c->results.resize(kSegments);
    m.clients.push_back(std::move(c));
  }
  std::vector<media_item> items;
  std::vector<std::string> bodies;
  int64_t start = clock.now_ms();
  // A new 2 s segment appears every 2 s; players play 10 s behind the live edge.
  for (int64_t t = 0; t < kSegments * 2000 + 15000; t += 10) {
    clock.advance(10);
    int64_t elapsed = clock.now_ms() - start;
    if (elapsed % 2000 == 0 && elapsed / 2000 <= kSegments) {
      int k = static_cast<int>(elapsed / 2000) - 1;
      media_item item;
      item.url = "http://o/live/" + std::to_string(k) + ".ts";
      item.start = 2.0 * k;
      bodies.push_back(make_bytes(150000, k));
      item.has_hash = true;
      item.hash = hash_bytes(bodies.back());
      http.files[item.url] = bodies.back();
      for (auto& c : m.clients) {
        outcome* o = &c->results[static_cast<size_t>(k)];
        manual_clock* cl = &clock;
        c->sched->want(item, clock.now_ms() + 10000, [o, cl](delivery d) {
          o->done = true;
          o->d = std::move(d);
          o->at_ms = cl->now_ms();
        });
      }
      items.push_back(item);
    }
    http.pump();
    for (auto& c : m.clients) c->view->pump();
    for (auto& c : m.clients) c->sched->tick();
  }
  uint64_t http_total = 0, late = 0;
  for (auto& c : m.clients) {
    for (int k = 0; k < kSegments; ++k) {
      assert_true(c->results[static_cast<size_t>(k)].done);
      assert_true(c->results[static_cast<size_t>(k)].d.bytes == bodies[static_cast<size_t>(k)]);
    }
    late += c->sched->stats().late_deliveries;
  }
  for (const auto& item : items) http_total += http.count(item.url);
  double per_segment = static_cast<double>(http_total) / kSegments;
  print_message("live swarm of %zu: %.2f HTTP fetches per segment\n", kClients, per_segment);
  assert_int_equal(late, 0);
  assert_true(per_segment >= 1.0);
  assert_true(per_segment <= 2.0);  // without P2P it would be 8
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(peers_deliver_and_hashes_checked),
      cmocka_unit_test(deadline_met_by_http_when_peers_stall),
      cmocka_unit_test(slow_peer_cancelled_in_time),
      cmocka_unit_test(corrupted_data_never_delivered),
      cmocka_unit_test(items_without_hash_never_from_peers),
      cmocka_unit_test(http_errors_retried_then_reported),
      cmocka_unit_test(live_swarm_pulls_each_segment_about_once),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
