#include "client/loopback_transport.h"

#include <string>
#include <vector>

#include "third_party/cmocka.hpp"

namespace {

using p2p::peer_connection_state;

void messages_flow_both_ways(void**) {
  p2p::loopback_network network;
  auto a = network.create("a");
  auto b = network.create("b");
  std::shared_ptr<p2p::peer_connection> b_side;
  std::vector<std::string> at_b;
  std::vector<std::string> at_a;
  b->set_incoming_handler([&](std::shared_ptr<p2p::peer_connection> c) {
    b_side = c;
    p2p::peer_connection_callbacks cb;
    cb.on_message = [&](const uint8_t* d, size_t n) {
      at_b.emplace_back(reinterpret_cast<const char*>(d), n);
    };
    c->set_callbacks(cb);
  });
  std::vector<peer_connection_state> states;
  p2p::peer_connection_callbacks cb;
  cb.on_state = [&](peer_connection_state s) { states.push_back(s); };
  cb.on_message = [&](const uint8_t* d, size_t n) {
    at_a.emplace_back(reinterpret_cast<const char*>(d), n);
  };
  auto conn = a->connect("b", cb);
  a->process(0);
  b->process(0);
  assert_int_equal(states.size(), 1);
  assert_true(states[0] == peer_connection_state::open);
  assert_non_null(b_side.get());
  assert_true(conn->send(reinterpret_cast<const uint8_t*>("hello"), 5));
  assert_int_equal(conn->buffered_amount(), 5);
  b->process(0);
  assert_int_equal(at_b.size(), 1);
  assert_string_equal(at_b[0].c_str(), "hello");
  assert_int_equal(conn->buffered_amount(), 0);
  assert_true(b_side->send(reinterpret_cast<const uint8_t*>("x"), 1));
  a->process(0);
  assert_int_equal(at_a.size(), 1);
  conn->close();
  a->process(0);
  b->process(0);
  assert_true(states.back() == peer_connection_state::closed);
  assert_true(b_side->state() == peer_connection_state::closed);
  assert_false(conn->send(reinterpret_cast<const uint8_t*>("x"), 1));
}

void unreachable_peer_fails(void**) {
  p2p::loopback_network network;
  auto a = network.create("a");
  std::vector<peer_connection_state> states;
  p2p::peer_connection_callbacks cb;
  cb.on_state = [&](peer_connection_state s) { states.push_back(s); };
  a->connect("nobody", cb);
  a->process(0);
  assert_int_equal(states.size(), 1);
  assert_true(states[0] == peer_connection_state::failed);
}

void budget_limits_delivery_and_low_fires(void**) {
  p2p::loopback_network network;
  network.set_bytes_per_process(10);
  network.set_max_message_size(100);
  auto a = network.create("a");
  auto b = network.create("b");
  int got = 0;
  b->set_incoming_handler([&](std::shared_ptr<p2p::peer_connection> c) {
    p2p::peer_connection_callbacks cb;
    cb.on_message = [&](const uint8_t*, size_t) { ++got; };
    c->set_callbacks(cb);
  });
  int low = 0;
  p2p::peer_connection_callbacks cb;
  cb.on_buffered_amount_low = [&] { ++low; };
  auto conn = a->connect("b", cb);
  a->process(0);
  b->process(0);
  uint8_t big[101] = {0};
  assert_false(conn->send(big, 101));
  for (int i = 0; i < 4; ++i) assert_true(conn->send(big, 10));
  b->process(0);
  assert_int_equal(got, 1);
  assert_int_equal(conn->buffered_amount(), 30);
  for (int i = 0; i < 5; ++i) b->process(0);
  assert_int_equal(got, 4);
  a->process(0);
  assert_int_equal(low, 1);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(messages_flow_both_ways),
      cmocka_unit_test(unreachable_peer_fails),
      cmocka_unit_test(budget_limits_delivery_and_low_fires),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
