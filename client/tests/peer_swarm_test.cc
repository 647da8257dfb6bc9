#include "client/peer_swarm.h"

#include <memory>
#include <string>

#include "client/loopback_transport.h"
#include "client/scheduler.h"
#include "client/tests/fake_sources.h"
#include "client/wire_protocol.h"
#include "third_party/cmocka.hpp"

namespace {

using namespace p2p;

std::string make_bytes(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 31 + seed) & 0xff);
  return s;
}

struct node {
  std::unique_ptr<loopback_transport> transport;
  segment_store store{16 * 1024 * 1024};
  std::unique_ptr<peer_swarm> swarm;
  node(loopback_network& net, const manual_clock& clock, const std::string& id,
       peer_swarm_config config = peer_swarm_config()) {
    transport = net.create(id);
    config.local_peer_id = id;
    swarm = std::make_unique<peer_swarm>(*transport, store, clock, config, "swarmA");
  }
  void turn() {
    transport->process(0);
    swarm->process();
  }
};

void pump(manual_clock& clock, std::initializer_list<node*> nodes, int turns, int64_t step = 10) {
  for (int i = 0; i < turns; ++i) {
    clock.advance(step);
    for (node* n : nodes) n->turn();
  }
}

struct fetch_result {
  bool done = false;
  peer_fetch_status status = peer_fetch_status::failed;
  std::string bytes;
};

std::function<void(peer_fetch_status, std::string)> into(fetch_result* r) {
  return [r](peer_fetch_status s, std::string b) {
    r->done = true;
    r->status = s;
    r->bytes = std::move(b);
  };
}

void fetch_in_chunks_after_announce(void**) {
  manual_clock clock;
  loopback_network net;
  net.set_max_message_size(16 * 1024);
  node a(net, clock, "a");
  node b(net, clock, "b");
  std::string body = make_bytes(100000, 1);
  content_hash h = p2p_test::hash_bytes(body);
  a.store.put(h, 0, body);
  b.swarm->connect("a");
  pump(clock, {&a, &b}, 3);
  assert_int_equal(b.swarm->connected_peers(), 1);
  assert_int_equal(a.swarm->connected_peers(), 1);
  assert_int_equal(b.swarm->peers_with(h).size(), 1);
  assert_string_equal(a.swarm->peer_swarm_id("b").c_str(), "swarmA");
  fetch_result r;
  b.swarm->fetch("a", h, into(&r));
  assert_false(r.done);  // never from inside fetch()
  pump(clock, {&a, &b}, 20);
  assert_true(r.done);
  assert_true(r.status == peer_fetch_status::ok);
  assert_true(r.bytes == body);
  assert_int_equal(a.swarm->stats().bytes_uploaded, body.size());
  // A new item in a's store is announced to b; an evicted one is withdrawn.
  std::string second = make_bytes(5000, 2);
  content_hash h2 = p2p_test::hash_bytes(second);
  a.store.put(h2, 10, second);
  pump(clock, {&a, &b}, 2);
  assert_int_equal(b.swarm->peers_with(h2).size(), 1);
  a.store.evict_behind(100, 1);
  pump(clock, {&a, &b}, 2);
  assert_int_equal(b.swarm->peers_with(h2).size(), 0);
  assert_int_equal(b.swarm->peers_with(h).size(), 0);
  fetch_result absent;
  b.swarm->fetch("a", h, into(&absent));
  pump(clock, {&a, &b}, 3);
  assert_true(absent.done);
  assert_true(absent.status == peer_fetch_status::absent);
  // ABR switch: peers learn our new swarm.
  b.swarm->set_swarm("swarmB");
  pump(clock, {&a, &b}, 2);
  assert_string_equal(a.swarm->peer_swarm_id("b").c_str(), "swarmB");
}

void cellular_peer_never_uploads(void**) {
  manual_clock clock;
  loopback_network net;
  peer_swarm_config cellular;
  cellular.uploads_enabled = false;
  node a(net, clock, "a", cellular);
  node b(net, clock, "b");
  std::string body = make_bytes(50000, 3);
  content_hash h = p2p_test::hash_bytes(body);
  a.store.put(h, 0, body);
  b.swarm->connect("a");
  pump(clock, {&a, &b}, 3);
  assert_int_equal(b.swarm->connected_peers(), 1);
  assert_int_equal(b.swarm->peers_with(h).size(), 0);
  fetch_result r;
  b.swarm->fetch("a", h, into(&r));  // asked anyway: refused
  pump(clock, {&a, &b}, 5);
  assert_true(r.done);
  assert_true(r.status == peer_fetch_status::absent);
  assert_int_equal(a.swarm->stats().bytes_uploaded, 0);
  // The cellular peer still downloads.
  std::string other = make_bytes(30000, 4);
  content_hash h2 = p2p_test::hash_bytes(other);
  b.store.put(h2, 0, other);
  pump(clock, {&a, &b}, 2);
  fetch_result down;
  a.swarm->fetch("b", h2, into(&down));
  pump(clock, {&a, &b}, 10);
  assert_true(down.status == peer_fetch_status::ok);
  assert_true(down.bytes == other);
  assert_int_equal(a.swarm->stats().bytes_uploaded, 0);
  // Switching to a metered network mid-transfer stops uploads at once.
  peer_swarm_config normal;
  node c(net, clock, "c");
  std::string big = make_bytes(3000000, 5);
  content_hash h3 = p2p_test::hash_bytes(big);
  c.store.put(h3, 0, big);
  b.swarm->connect("c");
  pump(clock, {&b, &c}, 3);
  fetch_result cut;
  b.swarm->fetch("c", h3, into(&cut));
  pump(clock, {&b, &c}, 2);
  c.swarm->set_uploads_enabled(false);
  uint64_t uploaded = c.swarm->stats().bytes_uploaded;
  pump(clock, {&b, &c}, 20);
  assert_int_equal(c.swarm->stats().bytes_uploaded, uploaded);
  assert_true(cut.done);
  assert_true(cut.status == peer_fetch_status::absent);
}

void upload_rate_capped(void**) {
  manual_clock clock;
  loopback_network net;
  peer_swarm_config capped;
  capped.upload_bytes_per_second = 100000;
  node a(net, clock, "a", capped);
  node b(net, clock, "b");
  std::string body = make_bytes(2000000, 6);
  content_hash h = p2p_test::hash_bytes(body);
  a.store.put(h, 0, body);
  b.swarm->connect("a");
  pump(clock, {&a, &b}, 2);
  fetch_result r;
  uint64_t fetch_id = b.swarm->fetch("a", h, into(&r));
  pump(clock, {&a, &b}, 200);  // 2 s
  size_t got = b.swarm->received(fetch_id);
  // 2 s at 100 kB/s plus the initial burst of 256 KiB and one chunk of slack.
  assert_true(got >= 200000);
  assert_true(got <= 200000 + 256 * 1024 + 65536 + 20000);
  assert_false(r.done);
  b.swarm->cancel(fetch_id);
  pump(clock, {&a, &b}, 5);
  uint64_t after_cancel = a.swarm->stats().bytes_uploaded;
  pump(clock, {&a, &b}, 100);
  assert_int_equal(a.swarm->stats().bytes_uploaded, after_cancel);
  assert_false(r.done);
  assert_int_equal(b.swarm->connected_peers(), 1);  // late chunks after cancel are fine
}

// A raw peer speaking bytes straight over the transport.
struct raw_peer {
  std::unique_ptr<loopback_transport> transport;
  std::shared_ptr<peer_connection> connection;
  std::vector<std::string> received;
  peer_connection_state state = peer_connection_state::connecting;
  raw_peer(loopback_network& net, const std::string& id, const std::string& target) {
    transport = net.create(id);
    peer_connection_callbacks cb;
    cb.on_state = [this](peer_connection_state s) { state = s; };
    cb.on_message = [this](const uint8_t* d, size_t n) {
      received.emplace_back(reinterpret_cast<const char*>(d), n);
    };
    connection = transport->connect(target, cb);
  }
  void send(const std::string& frame) {
    connection->send(reinterpret_cast<const uint8_t*>(frame.data()), frame.size());
  }
};

void hostile_frames_close_only_that_peer(void**) {
  manual_clock clock;
  loopback_network net;
  node a(net, clock, "a");
  node b(net, clock, "b");
  std::string body = make_bytes(20000, 7);
  content_hash h = p2p_test::hash_bytes(body);
  a.store.put(h, 0, body);
  b.swarm->connect("a");
  const std::vector<std::string> attacks = {
      std::string("\x02\x01", 2),                                        // wrong version
      std::string("\x01\x63xxxx", 6),                                    // unknown type
      wire_data(99, 10, 0, reinterpret_cast<const uint8_t*>("abc"), 3),  // data never asked
      wire_request(1, h).substr(0, 20),                                  // truncated
      std::string("\x01\x02\xff\xff", 4),  // have with an absurd count
  };
  for (size_t i = 0; i < attacks.size(); ++i) {
    raw_peer evil(net, "evil" + std::to_string(i), "a");
    for (int t = 0; t < 3; ++t) {
      evil.transport->process(0);
      a.turn();
      b.turn();
    }
    assert_true(evil.state == peer_connection_state::open);
    evil.send(attacks[i]);
    for (int t = 0; t < 3; ++t) {
      a.turn();
      evil.transport->process(0);
      b.turn();
    }
    assert_true(evil.state == peer_connection_state::closed);
    assert_int_equal(a.swarm->stats().protocol_errors, i + 1);
  }
  // The well-behaved peer is still connected and served.
  fetch_result r;
  b.swarm->fetch("a", h, into(&r));
  pump(clock, {&a, &b}, 5);
  assert_true(r.status == peer_fetch_status::ok);
  assert_true(r.bytes == body);
}

// End to end: a peer that answers with wrong bytes never reaches the player, is
// blacklisted and disconnected; the item comes over HTTP.
void lying_peer_blacklisted_end_to_end(void**) {
  manual_clock clock;
  loopback_network net;
  node a(net, clock, "a");
  std::string body = make_bytes(40000, 8);
  content_hash h = p2p_test::hash_bytes(body);
  raw_peer liar(net, "liar", "a");
  for (int t = 0; t < 3; ++t) {
    liar.transport->process(0);
    a.turn();
  }
  liar.send(wire_hello(wire_flag_uploads, "swarmA"));
  liar.send(wire_have(wire_type::have, {h}));
  a.turn();
  assert_int_equal(a.swarm->peers_with(h).size(), 1);
  p2p_test::fake_http http(clock);
  media_item item;
  item.url = "http://o/x.ts";
  item.has_hash = true;
  item.hash = h;
  http.files[item.url] = body;
  scheduler_config config;
  config.random_seed = 9;
  scheduler s(clock, http, a.swarm.get(), a.store, config);
  delivery got;
  bool done = false;
  s.want(item, clock.now_ms() + 20000, [&](delivery d) {
    got = std::move(d);
    done = true;
  });
  for (int t = 0; t < 500 && !done; ++t) {
    clock.advance(10);
    s.tick();
    a.turn();
    liar.transport->process(0);
    // The liar answers every request with bytes of the right size but wrong content.
    for (const auto& message : liar.received) {
      wire_frame f;
      if (wire_parse(reinterpret_cast<const uint8_t*>(message.data()), message.size(), &f) ==
              wire_error::ok &&
          f.type == wire_type::request) {
        std::string fake = body;
        fake[100] ^= 0x55;
        liar.send(wire_data(f.request_id, static_cast<uint32_t>(fake.size()), 0,
                            reinterpret_cast<const uint8_t*>(fake.data()), fake.size()));
      }
    }
    liar.received.clear();
    http.pump();
  }
  assert_true(done);
  assert_true(got.bytes == body);
  assert_true(got.source == delivery_source::http);
  assert_int_equal(s.stats().integrity_failures, 1);
  for (int t = 0; t < 3; ++t) {
    a.turn();
    liar.transport->process(0);
  }
  assert_true(liar.state == peer_connection_state::closed);
  assert_int_equal(a.swarm->connected_peers(), 0);
  // It cannot come back.
  raw_peer again(net, "liar", "a");
  for (int t = 0; t < 3; ++t) {
    again.transport->process(0);
    a.turn();
  }
  assert_int_equal(a.swarm->connected_peers(), 0);
}

void glare_keeps_one_connection(void**) {
  manual_clock clock;
  loopback_network net;
  node a(net, clock, "a");
  node b(net, clock, "b");
  a.swarm->connect("b");
  b.swarm->connect("a");
  pump(clock, {&a, &b}, 5);
  assert_int_equal(a.swarm->connected_peers(), 1);
  assert_int_equal(b.swarm->connected_peers(), 1);
  std::string body = make_bytes(1000, 9);
  content_hash h = p2p_test::hash_bytes(body);
  b.store.put(h, 0, body);
  pump(clock, {&a, &b}, 3);
  fetch_result r;
  a.swarm->fetch("b", h, into(&r));
  pump(clock, {&a, &b}, 5);
  assert_true(r.status == peer_fetch_status::ok);
  assert_int_equal(a.transport->open_connection_count(), 1);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(fetch_in_chunks_after_announce),
      cmocka_unit_test(cellular_peer_never_uploads),
      cmocka_unit_test(upload_rate_capped),
      cmocka_unit_test(hostile_frames_close_only_that_peer),
      cmocka_unit_test(lying_peer_blacklisted_end_to_end),
      cmocka_unit_test(glare_keeps_one_connection),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
