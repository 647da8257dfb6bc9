// webrtc_transport (p2p::peer_transport over WebRTC data channels): two transports in
// one process on 127.0.0.1, signalling relayed through an in-test mailbox.
#include "client/webrtc/webrtc_transport.h"

#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "third_party/cmocka.hpp"

using p2p::peer_connection;
using p2p::peer_connection_callbacks;
using p2p::peer_connection_state;
using p2p::webrtc::webrtc_transport;
using p2p::webrtc::webrtc_transport_config;

namespace {

struct mailbox : p2p::signalling_sink {
  std::string from;
  std::vector<std::tuple<std::string, std::string, std::string>>* out = nullptr;
  bool drop = false;
  void send_signal(const std::string& to, const std::string& payload) override {
    if (!drop) out->emplace_back(from, to, payload);
  }
};

struct endpoint {
  mailbox sink;
  std::unique_ptr<webrtc_transport> transport;
  std::vector<std::shared_ptr<peer_connection>> incoming;
};

struct network {
  std::vector<std::tuple<std::string, std::string, std::string>> messages;
  std::map<std::string, endpoint> endpoints;

  endpoint& add(const std::string& id, unsigned timeout_ms = 15000) {
    endpoint& e = endpoints[id];
    e.sink.from = id;
    e.sink.out = &messages;
    webrtc_transport_config config;
    config.local_addresses = {"127.0.0.1"};
    config.connect_timeout_ms = timeout_ms;
    e.transport = std::make_unique<webrtc_transport>(e.sink, config);
    endpoint* self = &e;
    e.transport->set_incoming_handler([self](std::shared_ptr<peer_connection> connection) {
      self->incoming.push_back(connection);
    });
    return e;
  }

  // Runs every transport and relays signalling until `done` or `timeout_ms`.
  bool run_until(const std::function<bool()>& done, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      for (auto& entry : endpoints) entry.second.transport->process(2);
      std::vector<std::tuple<std::string, std::string, std::string>> batch;
      batch.swap(messages);
      for (auto& [from, to, payload] : batch) {
        auto it = endpoints.find(to);
        if (it != endpoints.end()) it->second.transport->on_signal(from, payload);
      }
      if (done()) return true;
    }
    return false;
  }
};

struct recorder {
  std::vector<peer_connection_state> states;
  std::vector<std::vector<uint8_t>> messages;
  int low = 0;
  peer_connection_callbacks callbacks() {
    peer_connection_callbacks c;
    c.on_state = [this](peer_connection_state s) { states.push_back(s); };
    c.on_message = [this](const uint8_t* data, size_t size) {
      messages.emplace_back(data, data + size);
    };
    c.on_buffered_amount_low = [this] { ++low; };
    return c;
  }
};

}  // namespace

static void connects_and_exchanges_messages(void**) {
  network net;
  net.add("alice");
  endpoint& bob = net.add("bob");
  recorder a, b;
  auto outgoing = net.endpoints["alice"].transport->connect("bob", a.callbacks());
  assert_int_equal(static_cast<int>(outgoing->state()),
                   static_cast<int>(peer_connection_state::connecting));
  assert_false(outgoing->send(reinterpret_cast<const uint8_t*>("x"), 1));  // not open yet
  assert_true(net.run_until([&] { return !bob.incoming.empty(); }, 10000));
  bob.incoming[0]->set_callbacks(b.callbacks());
  assert_string_equal(bob.incoming[0]->remote_peer_id().c_str(), "alice");
  assert_true(net.run_until(
      [&] {
        return outgoing->state() == peer_connection_state::open &&
               bob.incoming[0]->state() == peer_connection_state::open;
      },
      15000));
  assert_true(outgoing->max_message_size() >= 16384);

  std::vector<uint8_t> big(outgoing->max_message_size());
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7);
  assert_true(outgoing->send(big.data(), big.size()));
  std::vector<uint8_t> too_big(outgoing->max_message_size() + 1);
  assert_false(outgoing->send(too_big.data(), too_big.size()));
  assert_false(outgoing->send(big.data(), 0));
  for (int i = 0; i < 100; ++i) {
    std::string text = "hello " + std::to_string(i);
    assert_true(bob.incoming[0]->send(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  }
  outgoing->set_buffered_amount_low_threshold(0);
  assert_true(
      net.run_until([&] { return b.messages.size() == 1 && a.messages.size() == 100; }, 10000));
  assert_true(b.messages[0] == big);
  for (int i = 0; i < 100; ++i) {
    std::string text = "hello " + std::to_string(i);
    assert_true(std::string(a.messages[i].begin(), a.messages[i].end()) == text);
  }
  assert_true(net.run_until([&] { return a.low > 0; }, 5000));
  assert_int_equal(outgoing->buffered_amount(), 0);

  outgoing->close();
  assert_int_equal(static_cast<int>(outgoing->state()),
                   static_cast<int>(peer_connection_state::closed));
  assert_true(net.run_until(
      [&] { return bob.incoming[0]->state() == peer_connection_state::closed; }, 10000));
  assert_int_equal(static_cast<int>(b.states.back()),
                   static_cast<int>(peer_connection_state::closed));
  outgoing->close();  // safe more than once
}

static void glare_gives_two_connections(void**) {
  network net;
  endpoint& alice = net.add("alice");
  endpoint& bob = net.add("bob");
  recorder a, b;
  auto from_alice = alice.transport->connect("bob", a.callbacks());
  auto from_bob = bob.transport->connect("alice", b.callbacks());
  assert_true(net.run_until(
      [&] {
        return alice.incoming.size() == 1 && bob.incoming.size() == 1 &&
               from_alice->state() == peer_connection_state::open &&
               from_bob->state() == peer_connection_state::open &&
               alice.incoming[0]->state() == peer_connection_state::open &&
               bob.incoming[0]->state() == peer_connection_state::open;
      },
      20000));
  from_bob->close();
  assert_true(net.run_until(
      [&] { return alice.incoming[0]->state() == peer_connection_state::closed; }, 10000));
  assert_true(from_alice->state() == peer_connection_state::open);
}

static void unanswered_offer_fails_after_timeout(void**) {
  network net;
  endpoint& alice = net.add("alice", 1500);
  recorder a;
  alice.sink.drop = true;  // nothing reaches anyone
  auto outgoing = alice.transport->connect("nobody", a.callbacks());
  assert_true(
      net.run_until([&] { return outgoing->state() == peer_connection_state::failed; }, 8000));
  assert_int_equal(a.states.size(), 1);
}

static void ignores_malformed_signals(void**) {
  network net;
  endpoint& alice = net.add("alice");
  for (const char* payload :
       {"", "not json", "[]", "{\"type\":\"offer\"}", "{\"type\":\"offer\",\"session\":\"s\"}",
        "{\"type\":\"offer\",\"session\":\"s\",\"sdp\":\"v=0\"}",
        "{\"type\":\"answer\",\"session\":\"unknown\",\"sdp\":\"v=0\"}",
        "{\"type\":\"candidate\",\"session\":\"unknown\",\"candidate\":\"candidate:x\"}"})
    alice.transport->on_signal("bob", payload);
  alice.transport->process(0);
  assert_int_equal(alice.incoming.size(), 0);
}

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(connects_and_exchanges_messages),
      cmocka_unit_test(glare_gives_two_connections),
      cmocka_unit_test(unanswered_offer_fails_after_timeout),
      cmocka_unit_test(ignores_malformed_signals),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
