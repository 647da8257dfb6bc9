#include "signalling/signalling_core.h"

#include <jansson.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "signalling/binary_string.h"
#include "third_party/cmocka.hpp"
#include "tracker/ticket.h"

namespace {

constexpr int64_t kNowMs = 1700000000000;
constexpr int64_t kExpiry = 1700003600;
const char kSecret[] = "test-secret";

struct recording_sink : p2p::connection_sink {
  std::map<p2p::connection_id, p2p::close_code> closes;
  int writes = 0;
  std::vector<p2p::connection_id> pings;
  std::vector<p2p::connection_id> filling;
  void wants_write(p2p::connection_id) override { ++writes; }
  void queue_filling(p2p::connection_id id) override { filling.push_back(id); }
  void wants_ping(p2p::connection_id id) override { pings.push_back(id); }
  void wants_close(p2p::connection_id id, p2p::close_code code) override { closes[id] = code; }
};

p2p::signalling_settings test_settings() {
  p2p::signalling_settings s;
  s.ticket_secret = kSecret;
  return s;
}

std::string ticket(const char* peer, const char* swarm, int64_t expiry = kExpiry) {
  return p2p::ticket_sign(kSecret, {peer, swarm, expiry});
}

// Drains a connection's queue, returning its frames.
std::vector<std::string> take(p2p::signalling_core& core, p2p::connection_id id) {
  std::vector<std::string> frames;
  std::string_view frame;
  while (core.next_frame(id, &frame)) {
    frames.emplace_back(frame);
    core.pop_frame(id);
  }
  return frames;
}

// Value of a string field of a JSON frame ("" if absent or not a string).
std::string field(const std::string& frame, const char* key) {
  json_error_t error;
  json_t* value = json_loads(frame.c_str(), JSON_ALLOW_NUL, &error);
  assert_non_null(value);
  json_t* member = json_object_get(value, key);
  std::string out;
  if (json_is_string(member)) out.assign(json_string_value(member), json_string_length(member));
  if (json_is_integer(member)) out = std::to_string(json_integer_value(member));
  json_decref(value);
  return out;
}

bool has_field(const std::string& frame, const char* key) {
  json_error_t error;
  json_t* value = json_loads(frame.c_str(), JSON_ALLOW_NUL, &error);
  assert_non_null(value);
  bool present = json_object_get(value, key) != nullptr;
  json_decref(value);
  return present;
}

void send(p2p::signalling_core& core, p2p::connection_id id, const std::string& text,
          int64_t now_ms = kNowMs) {
  core.on_fragment(id, text, false, true, now_ms);
}

// Two native peers A (1) and B (2) in swarm S, welcomes consumed.
void open_pair(p2p::signalling_core& core) {
  core.open_native(1, "10.0.0.1", ticket("A", "S"), kNowMs);
  core.open_native(2, "10.0.0.2", ticket("B", "S"), kNowMs);
  assert_int_equal(take(core, 1).size(), 1);
  assert_int_equal(take(core, 2).size(), 1);
}

void native_welcome_and_relay(void**) {
  recording_sink sink;
  p2p::signalling_core core(test_settings(), &sink, 1);
  core.open_native(1, "10.0.0.1", ticket("A", "S"), kNowMs);
  auto welcome = take(core, 1);
  assert_int_equal(welcome.size(), 1);
  assert_string_equal(field(welcome[0], "type").c_str(), "welcome");
  assert_string_equal(field(welcome[0], "peer_id").c_str(), "A");
  assert_string_equal(field(welcome[0], "swarm_id").c_str(), "S");
  core.open_native(2, "10.0.0.2", ticket("B", "S"), kNowMs);
  take(core, 2);

  send(core, 1, R"({"type":"offer","to":"B","sdp":"v=0 offer","session":"s1"})");
  auto at_b = take(core, 2);
  assert_int_equal(at_b.size(), 1);
  assert_string_equal(field(at_b[0], "type").c_str(), "offer");
  assert_string_equal(field(at_b[0], "from").c_str(), "A");
  assert_string_equal(field(at_b[0], "sdp").c_str(), "v=0 offer");
  assert_string_equal(field(at_b[0], "session").c_str(), "s1");
  assert_false(has_field(at_b[0], "to"));

  send(core, 2, R"({"type":"answer","to":"A","sdp":"v=0 answer"})");
  send(
      core, 2,
      R"({"type":"candidate","to":"A","candidate":"candidate:1 1 udp 1 127.0.0.1 5000 typ host","sdp_mid":"0","sdp_mline_index":0})");
  send(core, 2, R"({"type":"bye","to":"A","reason":"done"})");
  auto at_a = take(core, 1);
  assert_int_equal(at_a.size(), 3);
  assert_string_equal(field(at_a[0], "type").c_str(), "answer");
  assert_string_equal(field(at_a[1], "type").c_str(), "candidate");
  assert_string_equal(field(at_a[1], "sdp_mline_index").c_str(), "0");
  assert_string_equal(field(at_a[2], "type").c_str(), "bye");
  assert_string_equal(field(at_a[2], "from").c_str(), "B");

  send(core, 1, R"({"type":"ping","id":7})");
  auto pong = take(core, 1);
  assert_int_equal(pong.size(), 1);
  assert_string_equal(field(pong[0], "type").c_str(), "pong");
  assert_string_equal(field(pong[0], "id").c_str(), "7");
  assert_true(sink.closes.empty());
  assert_non_null(strstr(core.metrics_text().c_str(),
                         "signalling_messages_relayed_total{protocol=\"native\"} 4"));
}

void ticket_admission(void**) {
  recording_sink sink;
  p2p::signalling_core core(test_settings(), &sink, 1);
  std::string good = ticket("A", "S");
  std::string forged = p2p::ticket_sign("other-secret", {"A", "S", kExpiry});
  std::string expired = ticket("A", "S", kNowMs / 1000 - 3600);
  core.open_native(1, "10.0.0.1", forged, kNowMs);
  core.open_native(2, "10.0.0.1", expired, kNowMs);
  core.open_native(3, "10.0.0.1", "v1.A.S", kNowMs);
  core.open_native(4, "10.0.0.1", "", kNowMs);
  core.open_native(5, "10.0.0.1", good, kNowMs);
  const char* expected[] = {"ticket_bad_signature", "ticket_expired", "ticket_malformed",
                            "ticket_missing"};
  for (p2p::connection_id id = 1; id <= 4; ++id) {
    auto frames = take(core, id);
    assert_int_equal(frames.size(), 1);
    assert_string_equal(field(frames[0], "code").c_str(), expected[id - 1]);
    assert_int_equal(static_cast<int>(sink.closes.at(id)),
                     static_cast<int>(p2p::close_code::ticket_refused));
  }
  assert_int_equal(sink.closes.count(5), 0);
  // A refused connection relays nothing and cannot be reached.
  send(core, 1, R"({"type":"offer","to":"A","sdp":"x"})");
  assert_int_equal(take(core, 5).size(), 1);  // only its welcome
}

void other_swarm_unreachable(void**) {
  recording_sink sink;
  p2p::signalling_core core(test_settings(), &sink, 1);
  core.open_native(1, "10.0.0.1", ticket("A", "S1"), kNowMs);
  core.open_native(2, "10.0.0.2", ticket("B", "S2"), kNowMs);
  take(core, 1);
  take(core, 2);
  send(core, 1, R"({"type":"offer","to":"B","sdp":"x"})");
  auto at_a = take(core, 1);
  assert_int_equal(at_a.size(), 1);
  assert_string_equal(field(at_a[0], "code").c_str(), "unknown_peer");
  assert_string_equal(field(at_a[0], "to").c_str(), "B");
  assert_int_equal(take(core, 2).size(), 0);
}

void cannot_send_as_another(void**) {
  recording_sink sink;
  p2p::signalling_core core(test_settings(), &sink, 1);
  open_pair(core);
  core.open_native(3, "10.0.0.3", ticket("C", "S"), kNowMs);
  take(core, 3);
  // A claims to be B when talking to C: refused, C receives nothing.
  send(core, 1, R"({"type":"offer","to":"C","from":"B","sdp":"x"})");
  auto at_a = take(core, 1);
  assert_int_equal(at_a.size(), 1);
  assert_string_equal(field(at_a[0], "code").c_str(), "forbidden_field");
  assert_int_equal(take(core, 3).size(), 0);
  // Without the field, C sees the ticket's identity, never a claimed one.
  send(core, 1, R"({"type":"offer","to":"C","sdp":"x"})");
  auto at_c = take(core, 3);
  assert_int_equal(at_c.size(), 1);
  assert_string_equal(field(at_c[0], "from").c_str(), "A");
  assert_true(sink.closes.empty());
}

void malformed_messages_answered(void**) {
  recording_sink sink;
  p2p::signalling_core core(test_settings(), &sink, 1);
  open_pair(core);
  const std::pair<const char*, const char*> cases[] = {
      {"not json", "bad_json"},
      {"[1,2]", "bad_json"},
      {R"({"type":"offer","to":"B","sdp":"x","sdp":"y"})", "bad_json"},
      {R"({"to":"B"})", "bad_message"},
      {R"({"type":"teleport","to":"B"})", "bad_message"},
      {R"({"type":"offer","to":"B"})", "bad_message"},
      {R"({"type":"offer","to":"B","sdp":1})", "bad_message"},
      {R"({"type":"offer","to":"B","sdp":"x","extra":1})", "bad_message"},
      {R"({"type":"offer","to":"B/../C","sdp":"x"})", "bad_message"},
      {R"({"type":"candidate","to":"B","candidate":"c","sdp_mline_index":-1})", "bad_message"},
      {R"({"type":"offer","to":"A","sdp":"x"})", "self_target"},
      {R"({"type":"offer","to":"Z","sdp":"x"})", "unknown_peer"},
  };
  for (const auto& [text, code] : cases) {
    send(core, 1, text);
    auto frames = take(core, 1);
    assert_int_equal(frames.size(), 1);
    assert_string_equal(field(frames[0], "code").c_str(), code);
  }
  assert_int_equal(take(core, 2).size(), 0);
  assert_true(sink.closes.empty());
}

void reconnect_replaces(void**) {
  recording_sink sink;
  p2p::signalling_core core(test_settings(), &sink, 1);
  open_pair(core);
  core.open_native(3, "10.0.0.1", ticket("A", "S"), kNowMs);
  assert_int_equal(take(core, 3).size(), 1);
  auto old = take(core, 1);
  assert_int_equal(old.size(), 1);
  assert_string_equal(field(old[0], "code").c_str(), "replaced");
  assert_int_equal(static_cast<int>(sink.closes.at(1)),
                   static_cast<int>(p2p::close_code::replaced));
  send(core, 2, R"({"type":"answer","to":"A","sdp":"x"})");
  assert_int_equal(take(core, 3).size(), 1);
  assert_int_equal(take(core, 1).size(), 0);
  // The old socket closing later must not unregister the new one.
  core.on_closed(1);
  send(core, 2, R"({"type":"answer","to":"A","sdp":"y"})");
  assert_int_equal(take(core, 3).size(), 1);
}

void departed_peer_unknown(void**) {
  recording_sink sink;
  p2p::signalling_core core(test_settings(), &sink, 1);
  open_pair(core);
  core.on_closed(2);
  send(core, 1, R"({"type":"bye","to":"B"})");
  auto frames = take(core, 1);
  assert_int_equal(frames.size(), 1);
  assert_string_equal(field(frames[0], "code").c_str(), "unknown_peer");
}

void oversized_and_binary_refused(void**) {
  recording_sink sink;
  p2p::signalling_settings settings = test_settings();
  settings.limits.max_message_bytes = 100;
  p2p::signalling_core core(settings, &sink, 1);
  open_pair(core);
  core.open_native(3, "10.0.0.3", ticket("C", "S"), kNowMs);
  take(core, 3);
  // Fragments add up past the limit.
  std::string half(60, ' ');
  core.on_fragment(1, half, false, false, kNowMs);
  core.on_fragment(1, half, false, true, kNowMs);
  assert_int_equal(static_cast<int>(sink.closes.at(1)),
                   static_cast<int>(p2p::close_code::message_too_big));
  assert_string_equal(field(take(core, 1).back(), "code").c_str(), "message_too_large");
  core.on_fragment(2, "\x01\x02", true, true, kNowMs);
  assert_int_equal(static_cast<int>(sink.closes.at(2)),
                   static_cast<int>(p2p::close_code::unsupported_data));
  // A fragmented message under the limit is reassembled.
  core.open_native(4, "10.0.0.4", ticket("D", "S"), kNowMs);
  take(core, 4);
  core.on_fragment(3, R"({"type":"offer",)", false, false, kNowMs);
  core.on_fragment(3, R"("to":"D","sdp":"x"})", false, true, kNowMs);
  auto at_d = take(core, 4);
  assert_int_equal(at_d.size(), 1);
  assert_string_equal(field(at_d[0], "from").c_str(), "C");
  assert_int_equal(sink.closes.count(3), 0);
}

void rate_limit_hits_only_the_violator(void**) {
  recording_sink sink;
  p2p::signalling_settings settings = test_settings();
  settings.limits.messages_per_second = 10;
  settings.limits.message_burst = 5;
  p2p::signalling_core core(settings, &sink, 1);
  open_pair(core);
  for (int i = 0; i < 5; ++i) send(core, 1, R"({"type":"ping"})");
  assert_int_equal(sink.closes.count(1), 0);
  send(core, 1, R"({"type":"ping"})");
  assert_int_equal(static_cast<int>(sink.closes.at(1)),
                   static_cast<int>(p2p::close_code::policy_violation));
  assert_string_equal(field(take(core, 1).back(), "code").c_str(), "rate_limited");
  // B sending at the allowed rate (one message per 100 ms) is never cut.
  for (int i = 0; i < 50; ++i) send(core, 2, R"({"type":"ping"})", kNowMs + i * 100);
  assert_int_equal(sink.closes.count(2), 0);
  assert_int_equal(take(core, 2).size(), 50);
}

void connection_and_swarm_limits(void**) {
  recording_sink sink;
  p2p::signalling_settings settings = test_settings();
  settings.limits.max_connections_per_ip = 2;
  settings.limits.max_peers_per_swarm = 2;
  p2p::signalling_core core(settings, &sink, 1);
  core.open_native(1, "10.0.0.1", ticket("A", "S"), kNowMs);
  core.open_native(2, "10.0.0.1", ticket("B", "S"), kNowMs);
  core.open_native(3, "10.0.0.1", ticket("C", "T"), kNowMs);
  assert_string_equal(field(take(core, 3).back(), "code").c_str(), "too_many_connections");
  core.open_native(4, "10.0.0.2", ticket("D", "S"), kNowMs);
  assert_string_equal(field(take(core, 4).back(), "code").c_str(), "swarm_full");
  assert_int_equal(sink.closes.count(1) + sink.closes.count(2), 0);
  // Once a socket is gone its address may connect again.
  core.on_closed(3);
  core.on_closed(2);
  core.open_native(5, "10.0.0.1", ticket("E", "S"), kNowMs);
  assert_string_equal(field(take(core, 5).back(), "type").c_str(), "welcome");
}

void slow_reader_dropped(void**) {
  recording_sink sink;
  p2p::signalling_settings settings = test_settings();
  settings.limits.max_queue_messages = 4;
  settings.limits.messages_per_second = 1000;
  settings.limits.message_burst = 1000;
  p2p::signalling_core core(settings, &sink, 1);
  open_pair(core);
  for (int i = 0; i < 2; ++i) send(core, 1, R"({"type":"offer","to":"B","sdp":"x"})");
  assert_true(sink.filling.empty());
  // Past half of max_queue_messages: a sink that holds writes back is told to write now.
  send(core, 1, R"({"type":"offer","to":"B","sdp":"x"})");
  assert_int_equal(sink.filling.size(), 1);
  assert_int_equal(sink.filling[0], 2);
  send(core, 1, R"({"type":"offer","to":"B","sdp":"x"})");
  assert_int_equal(sink.closes.count(2), 0);
  send(core, 1, R"({"type":"offer","to":"B","sdp":"x"})");
  assert_int_equal(static_cast<int>(sink.closes.at(2)),
                   static_cast<int>(p2p::close_code::policy_violation));
  // B's queue was replaced by its final error frame; A is told B is unreachable.
  auto at_b = take(core, 2);
  assert_int_equal(at_b.size(), 1);
  assert_string_equal(field(at_b[0], "code").c_str(), "slow_reader");
  auto at_a = take(core, 1);
  assert_string_equal(field(at_a.back(), "code").c_str(), "unknown_peer");
  assert_int_equal(sink.closes.count(1), 0);
}

void memory_limit_refuses(void**) {
  recording_sink sink;
  p2p::signalling_settings settings = test_settings();
  settings.limits.max_memory_bytes = 3 * p2p::kConnectionMemoryEstimate + 100;
  p2p::signalling_core core(settings, &sink, 1);
  open_pair(core);
  core.open_native(3, "10.0.0.3", ticket("C", "S"), kNowMs);
  take(core, 3);
  std::string big = R"({"type":"offer","to":"B","sdp":")" + std::string(200, 'x') + "\"}";
  send(core, 1, big);
  assert_string_equal(field(take(core, 1).back(), "code").c_str(), "server_busy");
  core.open_native(4, "10.0.0.4", ticket("D", "S"), kNowMs);
  assert_string_equal(field(take(core, 4).back(), "code").c_str(), "server_busy");
  assert_int_equal(sink.closes.count(1), 0);
}

void idle_connections_closed(void**) {
  recording_sink sink;
  p2p::signalling_settings settings = test_settings();
  settings.idle_timeout_seconds = 10;
  settings.ping_interval_seconds = 4;
  p2p::signalling_core core(settings, &sink, 1);
  open_pair(core);
  core.tick(kNowMs + 3000);
  assert_int_equal(sink.pings.size(), 0);
  core.tick(kNowMs + 4000);
  assert_int_equal(sink.pings.size(), 2);  // both silent for ping_interval
  core.tick(kNowMs + 5000);
  assert_int_equal(sink.pings.size(), 2);  // not again before another interval
  core.on_activity(2, kNowMs + 8000);      // B answered (a pong)
  core.tick(kNowMs + 11000);
  assert_int_equal(static_cast<int>(sink.closes.at(1)), static_cast<int>(p2p::close_code::normal));
  assert_string_equal(field(take(core, 1).back(), "code").c_str(), "idle_timeout");
  assert_int_equal(sink.closes.count(2), 0);
}

void drain_closes_everyone(void**) {
  recording_sink sink;
  p2p::signalling_core core(test_settings(), &sink, 1);
  open_pair(core);
  core.drain();
  assert_int_equal(sink.closes.size(), 2);
  assert_string_equal(field(take(core, 1).back(), "code").c_str(), "shutting_down");
  core.open_native(3, "10.0.0.3", ticket("C", "S"), kNowMs);
  assert_string_equal(field(take(core, 3).back(), "code").c_str(), "shutting_down");
}

// WebTorrent: binary ids with bytes above 0x7F and a NUL, as JSON text.
std::string wt_id(char fill, char last) {
  std::string id(19, fill);
  id.push_back(last);
  return id;
}

std::string json_binary(const std::string& bytes) {
  json_t* value =
      json_stringn(p2p::binary_to_utf8(bytes).data(), p2p::binary_to_utf8(bytes).size());
  char* text = json_dumps(value, JSON_ENCODE_ANY);
  std::string out(text);
  free(text);
  json_decref(value);
  return out;
}

std::string announce(const std::string& hash, const std::string& peer, int offers,
                     const char* extra = "") {
  std::string text = R"({"action":"announce","info_hash":)" + json_binary(hash) + R"(,"peer_id":)" +
                     json_binary(peer) + R"(,"numwant":)" + std::to_string(offers) + extra +
                     R"(,"offers":[)";
  for (int i = 0; i < offers; ++i) {
    if (i > 0) text += ",";
    text += R"({"offer_id":"o)" + std::to_string(i) + R"(","offer":{"type":"offer","sdp":"s"}})";
  }
  return text + "]}";
}

std::string binary_field(const std::string& frame, const char* key) {
  std::string bytes;
  assert_true(p2p::binary_from_utf8(field(frame, key), &bytes));
  return bytes;
}

void webtorrent_fan_out_and_answer(void**) {
  recording_sink sink;
  p2p::signalling_core core(test_settings(), &sink, 7);
  const std::string hash = wt_id('\xAA', '\0');
  for (p2p::connection_id id = 1; id <= 5; ++id) {
    core.open_webtorrent(id, "10.0.0.1", "", kNowMs);
    send(core, id, announce(hash, wt_id(static_cast<char>('a' + id), '\xFF'), 0));
    auto reply = take(core, id);
    assert_int_equal(reply.size(), 1);
    assert_string_equal(field(reply[0], "action").c_str(), "announce");
    assert_string_equal(field(reply[0], "interval").c_str(), "120");
    assert_string_equal(field(reply[0], "incomplete").c_str(), std::to_string(id).c_str());
    assert_true(binary_field(reply[0], "info_hash") == hash);
  }
  // Peer 1 offers to 3 of the 4 others.
  const std::string peer1 = wt_id('b', '\xFF');
  send(core, 1, announce(hash, peer1, 3));
  assert_int_equal(take(core, 1).size(), 1);
  int offered = 0;
  p2p::connection_id receiver = 0;
  std::string offer_frame;
  for (p2p::connection_id id = 2; id <= 5; ++id) {
    auto frames = take(core, id);
    if (frames.empty()) continue;
    assert_int_equal(frames.size(), 1);
    ++offered;
    receiver = id;
    offer_frame = frames[0];
    assert_true(binary_field(frames[0], "peer_id") == peer1);
    assert_true(has_field(frames[0], "offer"));
  }
  assert_int_equal(offered, 3);
  // The receiver answers; only peer 1 gets it, with the receiver's peer id.
  std::string receiver_peer = wt_id(static_cast<char>('a' + receiver), '\xFF');
  std::string answer = R"({"action":"announce","info_hash":)" + json_binary(hash) +
                       R"(,"peer_id":)" + json_binary(receiver_peer) + R"(,"to_peer_id":)" +
                       json_binary(peer1) + R"(,"offer_id":")" + field(offer_frame, "offer_id") +
                       R"(","answer":{"type":"answer","sdp":"a"}})";
  send(core, receiver, answer);
  assert_int_equal(take(core, receiver).size(), 0);  // no reply to an answer
  auto at_1 = take(core, 1);
  assert_int_equal(at_1.size(), 1);
  assert_true(has_field(at_1[0], "answer"));
  assert_true(binary_field(at_1[0], "peer_id") == receiver_peer);
  assert_string_equal(field(at_1[0], "offer_id").c_str(), field(offer_frame, "offer_id").c_str());
}

// Ids are relayed in one canonical JSON form whatever escapes the sender used, and plain
// ASCII ids as they came.
void webtorrent_ids_relayed_canonical(void**) {
  recording_sink sink;
  p2p::signalling_core core(test_settings(), &sink, 7);
  const std::string hash = R"("hhhhhhhhhhhhhhhhhhhh")";
  const std::string plain = R"("pppppppppppppppppppp")";
  // 'a' x 18, '/', 0xE9: escaped three ways.
  const std::string escaped = R"("\u0061aaaaaaaaaaaaaaaaa\/\u00e9")";
  core.open_webtorrent(1, "10.0.0.1", "", kNowMs);
  core.open_webtorrent(2, "10.0.0.2", "", kNowMs);
  send(core, 1, R"({"action":"announce","info_hash":)" + hash + R"(,"peer_id":)" + plain + "}");
  auto reply = take(core, 1);
  assert_int_equal(reply.size(), 1);
  assert_true(reply[0].find(R"("info_hash":"hhhhhhhhhhhhhhhhhhhh")") != std::string::npos);
  send(core, 2,
       R"({"action":"announce","info_hash":)" + hash + R"(,"peer_id":)" + escaped +
           R"(,"numwant":1,"offers":[{"offer_id":"o","offer":{"type":"offer","sdp":"x"}}]})");
  assert_int_equal(take(core, 2).size(), 1);
  auto offer = take(core, 1);
  assert_int_equal(offer.size(), 1);
  assert_true(offer[0].find("\"peer_id\":\"aaaaaaaaaaaaaaaaaa/\xC3\xA9\"") != std::string::npos);
  send(core, 1,
       R"({"action":"announce","info_hash":)" + hash + R"(,"peer_id":)" + plain +
           R"(,"to_peer_id":)" + escaped + R"(,"offer_id":"o","answer":{"type":"answer"}})");
  auto answer = take(core, 2);
  assert_int_equal(answer.size(), 1);
  assert_string_equal(
      answer[0].c_str(),
      R"({"action":"announce","answer":{"type":"answer"},"offer_id":"o","peer_id":"pppppppppppppppppppp","info_hash":"hhhhhhhhhhhhhhhhhhhh"})");
}

void webtorrent_expiry_close_and_scrape(void**) {
  recording_sink sink;
  p2p::signalling_settings settings = test_settings();
  settings.webtorrent_interval_seconds = 10;
  settings.idle_timeout_seconds = 1000;
  p2p::signalling_core core(settings, &sink, 1);
  const std::string hash = wt_id('h', 'h');
  core.open_webtorrent(1, "10.0.0.1", "", kNowMs);
  core.open_webtorrent(2, "10.0.0.2", "", kNowMs);
  core.open_webtorrent(3, "10.0.0.3", "", kNowMs);
  send(core, 1, announce(hash, wt_id('1', '1'), 0, R"(,"left":0)"));
  send(core, 2, announce(hash, wt_id('2', '2'), 0));
  send(core, 3, announce(hash, wt_id('3', '3'), 0));
  take(core, 1);
  take(core, 2);
  take(core, 3);
  std::string scrape = R"({"action":"scrape","info_hash":)" + json_binary(hash) + "}";
  send(core, 1, scrape);
  auto reply = take(core, 1);
  assert_int_equal(reply.size(), 1);
  assert_non_null(strstr(reply[0].c_str(), R"("complete":1,"incomplete":2)"));
  assert_non_null(strstr(reply[0].c_str(), R"("min_request_interval":50)"));
  // Only peer 2 announces again: after 2 x interval peers 1 and 3 are gone; closing 2's
  // socket leaves the swarm empty.
  send(core, 2, announce(hash, wt_id('2', '2'), 0), kNowMs + 15000);
  take(core, 2);
  core.tick(kNowMs + 21000);
  send(core, 2, scrape, kNowMs + 21000);
  reply = take(core, 2);
  assert_non_null(strstr(reply[0].c_str(), R"("complete":0,"incomplete":1)"));
  core.on_closed(2);
  send(core, 3, scrape, kNowMs + 21000);
  reply = take(core, 3);
  assert_non_null(strstr(reply[0].c_str(), R"("complete":0,"incomplete":0)"));
  assert_non_null(
      strstr(core.metrics_text().c_str(), "signalling_webtorrent_peers_expired_total 2"));
}

void webtorrent_failures(void**) {
  recording_sink sink;
  p2p::signalling_core core(test_settings(), &sink, 1);
  core.open_webtorrent(1, "10.0.0.1", "", kNowMs);
  const std::pair<std::string, const char*> cases[] = {
      {"{", "invalid JSON"},
      {R"({"action":"connect"})", "invalid action in WS request: connect"},
      {R"({"action":"announce","info_hash":"short","peer_id":"x"})", "invalid info_hash"},
      {R"({"action":"announce","info_hash":"aaaaaaaaaaaaaaaaaaaa","peer_id":"\u0100bbbbbbbbbbbbbbbbbbb"})",
       "invalid peer_id"},
      {R"({"action":"announce","info_hash":"aaaaaaaaaaaaaaaaaaaa","peer_id":"bbbbbbbbbbbbbbbbbbbb","answer":{}})",
       "invalid `to_peer_id` (required with `answer`)"},
      {R"({"action":"announce","info_hash":"aaaaaaaaaaaaaaaaaaaa","peer_id":"bbbbbbbbbbbbbbbbbbbb","event":"boom"})",
       "invalid event"},
  };
  for (const auto& [text, reason] : cases) {
    send(core, 1, text);
    auto frames = take(core, 1);
    assert_int_equal(frames.size(), 1);
    assert_string_equal(field(frames[0], "failure reason").c_str(), reason);
  }
  assert_true(sink.closes.empty());
  // Another connection cannot take over a live peer_id.
  send(core, 1, announce(wt_id('a', 'a'), wt_id('b', 'b'), 0));
  take(core, 1);
  core.open_webtorrent(2, "10.0.0.2", "", kNowMs);
  send(core, 2, announce(wt_id('a', 'a'), wt_id('b', 'b'), 0));
  assert_string_equal(field(take(core, 2).back(), "failure reason").c_str(), "peer_id in use");
}

void webtorrent_origins(void**) {
  recording_sink sink;
  p2p::signalling_settings settings = test_settings();
  settings.origin_allow = {"https://player.example.com", "*.example.org"};
  settings.origin_deny = {"https://bad.example.org"};
  p2p::signalling_core core(settings, &sink, 1);
  core.open_webtorrent(1, "10.0.0.1", "https://player.example.com", kNowMs);
  core.open_webtorrent(2, "10.0.0.1", "https://a.b.example.org:8443", kNowMs);
  core.open_webtorrent(3, "10.0.0.1", "https://bad.example.org", kNowMs);
  core.open_webtorrent(4, "10.0.0.1", "https://evil.com", kNowMs);
  core.open_webtorrent(5, "10.0.0.1", "https://example.org.evil.com", kNowMs);
  assert_int_equal(sink.closes.count(1) + sink.closes.count(2), 0);
  for (p2p::connection_id id = 3; id <= 5; ++id) {
    assert_int_equal(sink.closes.count(id), 1);
    assert_string_equal(field(take(core, id).back(), "failure reason").c_str(),
                        "origin not allowed");
  }
}

void binary_strings_round_trip(void**) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  std::string back;
  assert_true(p2p::binary_from_utf8(p2p::binary_to_utf8(all), &back));
  assert_true(back == all);
  assert_false(p2p::binary_from_utf8("\xC4\x80", &back));  // U+0100
  assert_false(p2p::binary_from_utf8("\xC3", &back));      // truncated
  assert_false(p2p::binary_from_utf8("\xE9", &back));      // latin1, not UTF-8
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(native_welcome_and_relay),
      cmocka_unit_test(ticket_admission),
      cmocka_unit_test(other_swarm_unreachable),
      cmocka_unit_test(cannot_send_as_another),
      cmocka_unit_test(malformed_messages_answered),
      cmocka_unit_test(reconnect_replaces),
      cmocka_unit_test(departed_peer_unknown),
      cmocka_unit_test(oversized_and_binary_refused),
      cmocka_unit_test(rate_limit_hits_only_the_violator),
      cmocka_unit_test(connection_and_swarm_limits),
      cmocka_unit_test(slow_reader_dropped),
      cmocka_unit_test(memory_limit_refuses),
      cmocka_unit_test(idle_connections_closed),
      cmocka_unit_test(drain_closes_everyone),
      cmocka_unit_test(webtorrent_fan_out_and_answer),
      cmocka_unit_test(webtorrent_ids_relayed_canonical),
      cmocka_unit_test(webtorrent_expiry_close_and_scrape),
      cmocka_unit_test(webtorrent_failures),
      cmocka_unit_test(webtorrent_origins),
      cmocka_unit_test(binary_strings_round_trip),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
