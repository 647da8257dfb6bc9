// Two of our peer connections in one process, on 127.0.0.1: ICE + DTLS + SCTP + DCEP
// end to end, 1 MiB and 1,000 small messages each way checked byte for byte, flow
// control, close propagation, a wrong fingerprint refused.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/webrtc/peer_connection.h"
#include "third_party/cmocka.hpp"

using namespace p2p::webrtc;

namespace {

std::mutex g_mutex;
std::condition_variable g_changed;

bool wait_until(const std::function<bool()>& done, int timeout_ms) {
  std::unique_lock<std::mutex> lock(g_mutex);
  return g_changed.wait_for(lock, std::chrono::milliseconds(timeout_ms), done);
}

peer_configuration loopback_configuration() {
  peer_configuration configuration;
  configuration.local_addresses = {"127.0.0.1"};
  configuration.connect_timeout_ms = 15000;
  return configuration;
}

struct side {
  std::shared_ptr<peer_connection> connection;
  std::shared_ptr<data_channel> channel;
  peer_state state = peer_state::created;
  bool open = false;
  bool closed = false;
  std::vector<uint8_t> bulk;
  std::vector<std::string> texts;
  size_t empty_messages = 0;

  // close() returns once the loop thread is done with this connection's callbacks, which
  // write into this struct.
  ~side() {
    if (connection) connection->close();
  }
};

// Wires both sides' signalling directly (candidates trickle across as they come).
void connect_pair(side& offerer, side& answerer, const std::string& tamper_fingerprint = "",
                  size_t offerer_max_message_size = 0) {
  peer_configuration offerer_configuration = loopback_configuration();
  if (offerer_max_message_size) offerer_configuration.max_message_size = offerer_max_message_size;
  offerer.connection = peer_connection::create(offerer_configuration);
  answerer.connection = peer_connection::create(loopback_configuration());
  assert_non_null(offerer.connection.get());
  assert_non_null(answerer.connection.get());
  std::weak_ptr<peer_connection> to_answerer = answerer.connection;
  std::weak_ptr<peer_connection> to_offerer = offerer.connection;
  offerer.connection->on_local_candidate([to_answerer](const std::string& candidate) {
    if (auto peer = to_answerer.lock()) peer->add_remote_candidate(candidate);
  });
  answerer.connection->on_local_candidate([to_offerer](const std::string& candidate) {
    if (auto peer = to_offerer.lock()) peer->add_remote_candidate(candidate);
  });
  for (side* s : {&offerer, &answerer}) {
    s->connection->on_state([s](peer_state state) {
      std::lock_guard<std::mutex> lock(g_mutex);
      s->state = state;
      g_changed.notify_all();
    });
  }
  auto watch = [](side* s, const std::shared_ptr<data_channel>& channel) {
    channel->on_open([s] {
      std::lock_guard<std::mutex> lock(g_mutex);
      s->open = true;
      g_changed.notify_all();
    });
    channel->on_closed([s] {
      std::lock_guard<std::mutex> lock(g_mutex);
      s->closed = true;
      g_changed.notify_all();
    });
    channel->on_message([s](const uint8_t* data, size_t size, bool text) {
      std::lock_guard<std::mutex> lock(g_mutex);
      if (size == 0)
        ++s->empty_messages;
      else if (text)
        s->texts.emplace_back(reinterpret_cast<const char*>(data), size);
      else
        s->bulk.insert(s->bulk.end(), data, data + size);
      g_changed.notify_all();
    });
  };
  answerer.connection->on_data_channel([&answerer, watch](std::shared_ptr<data_channel> channel) {
    watch(&answerer, channel);
    std::lock_guard<std::mutex> lock(g_mutex);
    answerer.channel = channel;
    answerer.open = true;
    g_changed.notify_all();
  });
  offerer.channel = offerer.connection->create_data_channel("test");
  watch(&offerer, offerer.channel);
  std::string offer = offerer.connection->create_offer();
  std::string error;
  std::string answer = answerer.connection->create_answer(offer, &error);
  assert_false(answer.empty());
  if (!tamper_fingerprint.empty()) {
    size_t at = answer.find("a=fingerprint:sha-256 ") + 22;
    answer.replace(at, 2, tamper_fingerprint);
  }
  assert_true(offerer.connection->set_remote_answer(answer, &error));
}

std::vector<uint8_t> pattern(size_t size, uint32_t seed) {
  std::vector<uint8_t> data(size);
  uint32_t x = seed;
  for (size_t i = 0; i < size; ++i) {
    x = x * 1664525u + 1013904223u;
    data[i] = static_cast<uint8_t>(x >> 24);
  }
  return data;
}

// Sends 1 MiB in max-message-size chunks, then 1,000 small text messages.
void send_load(side& s, uint32_t seed) {
  std::vector<uint8_t> bulk = pattern(1 << 20, seed);
  size_t chunk = s.channel->max_message_size();
  assert_true(chunk >= 16384);
  for (size_t offset = 0; offset < bulk.size(); offset += chunk) {
    size_t size = std::min(chunk, bulk.size() - offset);
    assert_true(s.channel->send(bulk.data() + offset, size));
  }
  for (int i = 0; i < 1000; ++i) {
    std::string text = "message " + std::to_string(i) + " from " + std::to_string(seed);
    assert_true(s.channel->send_text(text));
  }
  assert_true(s.channel->send(nullptr, 0));
}

void check_load(const side& s, uint32_t seed) {
  std::vector<uint8_t> expected = pattern(1 << 20, seed);
  assert_int_equal(s.bulk.size(), expected.size());
  assert_memory_equal(s.bulk.data(), expected.data(), expected.size());
  assert_int_equal(s.texts.size(), 1000);
  for (int i = 0; i < 1000; ++i) {
    std::string text = "message " + std::to_string(i) + " from " + std::to_string(seed);
    assert_string_equal(s.texts[i].c_str(), text.c_str());
  }
  assert_int_equal(s.empty_messages, 1);
}

}  // namespace

static void exchanges_data_both_ways(void**) {
  side offerer, answerer;
  connect_pair(offerer, answerer);
  assert_true(wait_until([&] { return offerer.open && answerer.open; }, 15000));
  assert_int_equal(static_cast<int>(offerer.state), static_cast<int>(peer_state::connected));
  // The answerer is the DTLS client: even ids are its own, the offerer's channel odd.
  assert_int_equal(offerer.channel->stream_id() % 2, 1);
  assert_int_equal(answerer.channel->stream_id(), offerer.channel->stream_id());
  assert_true(offerer.connection->selected_pair().find("127.0.0.1") == 0);
  // Larger than what the peer accepts: refused, nothing sent.
  std::vector<uint8_t> too_big(offerer.channel->max_message_size() + 1);
  assert_false(offerer.channel->send(too_big.data(), too_big.size()));

  send_load(offerer, 1);
  send_load(answerer, 2);
  assert_true(wait_until(
      [&] {
        return offerer.texts.size() == 1000 && answerer.texts.size() == 1000 &&
               offerer.empty_messages == 1 && answerer.empty_messages == 1;
      },
      20000));
  check_load(answerer, 1);
  check_load(offerer, 2);

  // Channels opened by the answerer get even ids (it is the DTLS client).
  auto second = answerer.connection->create_data_channel("second");
  assert_true(wait_until([&] { return second->is_open(); }, 5000));
  assert_int_equal(second->stream_id() % 2, 0);

  offerer.channel->close();
  assert_true(wait_until([&] { return offerer.closed && answerer.closed; }, 5000));
  assert_true(second->is_open());  // other channels are unaffected
  offerer.connection->close();
  // The state change comes first, then the channels close.
  assert_true(
      wait_until([&] { return answerer.state == peer_state::closed && !second->is_open(); }, 5000));
}

static void flow_control_reports_buffered_amount_low(void**) {
  side offerer, answerer;
  connect_pair(offerer, answerer);
  assert_true(wait_until([&] { return offerer.open && answerer.open; }, 15000));
  bool low = false;
  offerer.channel->set_buffered_amount_low_threshold(64 * 1024);
  offerer.channel->on_buffered_amount_low([&low] {
    std::lock_guard<std::mutex> lock(g_mutex);
    low = true;
    g_changed.notify_all();
  });
  // 8 MiB at once: far more than SCTP's 1 MiB send buffer, so most of it queues here.
  std::vector<uint8_t> chunk = pattern(offerer.channel->max_message_size(), 3);
  size_t total = 0;
  for (; total < 8u << 20; total += chunk.size())
    assert_true(offerer.channel->send(chunk.data(), chunk.size()));
  assert_true(offerer.channel->buffered_amount() > 0);
  assert_true(wait_until([&] { return low && answerer.bulk.size() == total; }, 30000));
  assert_true(offerer.channel->buffered_amount() <= 64 * 1024);
  offerer.connection.reset();  // dropping the last reference closes
  assert_true(wait_until([&] { return answerer.state == peer_state::closed; }, 5000));
}

namespace {

uint32_t crc32_ieee(const uint8_t* data, size_t size) {
  uint32_t crc = 0xffffffffu;
  for (size_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// A minimal STUN server on 127.0.0.1 (binding only) that reports every client
// as 127.0.0.2 with its own port, so a server-reflexive candidate stands out from the
// host candidate. Serves until stopped or 20 s pass.
class fake_stun_server {
 public:
  fake_stun_server() {
    socket_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address = {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(socket_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    getsockname(socket_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~fake_stun_server() {
    stop_ = true;
    thread_.join();
    close(socket_);
  }
  uint16_t port() const { return port_; }
  int requests() const { return requests_; }

 private:
  void serve() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!stop_ && std::chrono::steady_clock::now() < deadline) {
      pollfd fd = {socket_, POLLIN, 0};
      if (poll(&fd, 1, 50) <= 0) continue;
      uint8_t request[1500];
      sockaddr_in from = {};
      socklen_t from_length = sizeof from;
      ssize_t size = recvfrom(socket_, request, sizeof request, 0,
                              reinterpret_cast<sockaddr*>(&from), &from_length);
      // A binding request; libnice's discovery speaks classic RFC 3489 STUN (no magic
      // cookie), so answer in kind: MAPPED-ADDRESS, or XOR-MAPPED-ADDRESS + FINGERPRINT
      // for RFC 5389 requests.
      if (size < 20 || request[0] != 0x00 || request[1] != 0x01) continue;
      bool rfc5389 =
          request[4] == 0x21 && request[5] == 0x12 && request[6] == 0xa4 && request[7] == 0x42;
      ++requests_;
      uint8_t response[20 + 12 + 8];
      std::memcpy(response, request, 20);  // cookie and transaction id
      response[0] = 0x01;
      response[1] = 0x01;  // binding success
      uint8_t* attribute = response + 20;
      attribute[0] = 0x00;
      attribute[1] = rfc5389 ? 0x20 : 0x01;  // XOR-MAPPED-ADDRESS or MAPPED-ADDRESS
      attribute[2] = 0x00;
      attribute[3] = 0x08;
      attribute[4] = 0x00;
      attribute[5] = 0x01;  // IPv4
      uint16_t port = ntohs(from.sin_port) ^ (rfc5389 ? 0x2112 : 0);
      attribute[6] = static_cast<uint8_t>(port >> 8);
      attribute[7] = static_cast<uint8_t>(port);
      uint32_t mapped = 0x7f000002u ^ (rfc5389 ? 0x2112a442u : 0);  // 127.0.0.2
      for (int i = 0; i < 4; ++i) attribute[8 + i] = static_cast<uint8_t>(mapped >> (24 - 8 * i));
      size_t length = 32;
      response[2] = 0x00;
      response[3] = 12;
      if (rfc5389) {
        response[3] = 12 + 8;  // the length covers the fingerprint
        uint8_t* fingerprint = response + 32;
        fingerprint[0] = 0x80;
        fingerprint[1] = 0x28;
        fingerprint[2] = 0x00;
        fingerprint[3] = 0x04;
        uint32_t crc = crc32_ieee(response, 32) ^ 0x5354554eu;
        for (int i = 0; i < 4; ++i) fingerprint[4 + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
        length += 8;
      }
      sendto(socket_, response, length, 0, reinterpret_cast<sockaddr*>(&from), from_length);
    }
  }

  int socket_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

}  // namespace

static void stun_server_from_configuration_adds_reflexive_candidate(void**) {
  fake_stun_server stun;
  peer_configuration configuration = loopback_configuration();
  configuration.stun_servers = {"stun:127.0.0.1:" + std::to_string(stun.port())};
  auto connection = peer_connection::create(configuration);
  std::vector<std::string> candidates;
  bool done = false;
  connection->on_local_candidate([&](const std::string& candidate) {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (candidate.empty())
      done = true;
    else
      candidates.push_back(candidate);
    g_changed.notify_all();
  });
  connection->create_offer();
  assert_true(wait_until([&] { return done; }, 10000));
  connection->close();
  bool host = false;
  bool reflexive = false;
  for (const std::string& candidate : candidates) {
    host = host || candidate.find(" 127.0.0.1 ") != std::string::npos;
    reflexive = reflexive || (candidate.find(" typ srflx") != std::string::npos &&
                              candidate.find(" 127.0.0.2 ") != std::string::npos);
  }
  assert_true(stun.requests() > 0);
  assert_true(host);
  assert_true(reflexive);
}

// The offerer advertises a=max-message-size:65536; the answerer must not send more.
static void honours_remote_max_message_size(void**) {
  side offerer, answerer;
  connect_pair(offerer, answerer, "", 65536);
  assert_true(wait_until([&] { return offerer.open && answerer.open; }, 15000));
  assert_int_equal(answerer.channel->max_message_size(), 65536);
  assert_int_equal(offerer.channel->max_message_size(), 65536);  // its own limit
  assert_int_equal(answerer.connection->remote_max_message_size(), 65536);
  assert_int_equal(offerer.connection->remote_max_message_size(), 256 * 1024);
  std::vector<uint8_t> message = pattern(65537, 9);
  assert_false(answerer.channel->send(message.data(), message.size()));
  assert_true(answerer.channel->send(message.data(), 65536));
  assert_true(wait_until([&] { return offerer.bulk.size() == 65536; }, 10000));
  assert_memory_equal(offerer.bulk.data(), message.data(), 65536);
}

// The last reference to the last connection dropped inside its own callback: the
// connection, its layers and the loop thread itself go away from the loop thread, and a
// new pair works afterwards (new loop, usrsctp still usable).
static void last_reference_dropped_inside_callback(void**) {
  bool dropped = false;
  {
    side offerer, answerer;
    connect_pair(offerer, answerer);
    assert_true(wait_until([&] { return offerer.open && answerer.open; }, 15000));
    std::shared_ptr<peer_connection> survivor = answerer.connection;
    answerer.connection.reset();
    answerer.channel.reset();
    survivor->on_state([&survivor, &dropped](peer_state state) {
      if (state != peer_state::closed) return;
      survivor.reset();  // destroys the connection on the loop thread, from its callback
      std::lock_guard<std::mutex> lock(g_mutex);
      dropped = true;
      g_changed.notify_all();
    });
    offerer.connection->close();
    offerer.connection.reset();
    offerer.channel.reset();
    // on_state comes first, then the channels close (their handlers write into `answerer`).
    assert_true(wait_until([&] { return dropped && answerer.closed; }, 10000));
  }
  side offerer, answerer;
  connect_pair(offerer, answerer);
  assert_true(wait_until([&] { return offerer.open && answerer.open; }, 15000));
  const char text[] = "after";
  assert_true(offerer.channel->send_text(text));
  assert_true(wait_until([&] { return answerer.texts.size() == 1; }, 5000));
}

static void wrong_fingerprint_fails(void**) {
  side offerer, answerer;
  connect_pair(offerer, answerer, "00");
  assert_true(wait_until([&] { return offerer.state == peer_state::failed; }, 15000));
  assert_true(offerer.connection->error().find("fingerprint") != std::string::npos ||
              offerer.connection->error().find("certificate") != std::string::npos);
  assert_false(offerer.open);
}

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(exchanges_data_both_ways),
      cmocka_unit_test(flow_control_reports_buffered_amount_low),
      cmocka_unit_test(honours_remote_max_message_size),
      cmocka_unit_test(last_reference_dropped_inside_callback),
      cmocka_unit_test(wrong_fingerprint_fails),
      cmocka_unit_test(stun_server_from_configuration_adds_reflexive_candidate),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
