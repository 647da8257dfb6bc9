#include "client/wire_protocol.h"

#include <cstring>
#include <random>
#include <string>

#include "third_party/cmocka.hpp"

namespace {

using namespace p2p;

wire_error parse(const std::string& s, wire_frame* f) {
  return wire_parse(reinterpret_cast<const uint8_t*>(s.data()), s.size(), f);
}

content_hash hash_of(uint8_t seed) {
  content_hash h;
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint8_t>(seed + i);
  return h;
}

void round_trips(void**) {
  wire_frame f;
  assert_int_equal(parse(wire_hello(wire_flag_uploads, "swarm-1_A"), &f), wire_error::ok);
  assert_true(f.type == wire_type::hello);
  assert_int_equal(f.flags, wire_flag_uploads);
  assert_string_equal(f.swarm_id.c_str(), "swarm-1_A");

  assert_int_equal(parse(wire_have(wire_type::have, {hash_of(1), hash_of(2)}), &f), wire_error::ok);
  assert_true(f.type == wire_type::have);
  assert_int_equal(f.hashes.size(), 2);
  assert_true(f.hashes[1] == hash_of(2));
  assert_int_equal(parse(wire_have(wire_type::lost, {hash_of(3)}), &f), wire_error::ok);
  assert_true(f.type == wire_type::lost);

  assert_int_equal(parse(wire_request(0xdeadbeef, hash_of(9)), &f), wire_error::ok);
  assert_true(f.type == wire_type::request);
  assert_int_equal(f.request_id, 0xdeadbeef);
  assert_true(f.hashes[0] == hash_of(9));

  const uint8_t bytes[] = {1, 2, 3};
  std::string data_frame = wire_data(7, 10, 4, bytes, 3);
  assert_int_equal(parse(data_frame, &f), wire_error::ok);
  assert_int_equal(f.request_id, 7);
  assert_int_equal(f.total_size, 10);
  assert_int_equal(f.offset, 4);
  assert_int_equal(f.payload_size, 3);
  assert_memory_equal(f.payload, bytes, 3);

  assert_int_equal(parse(wire_cancel(5), &f), wire_error::ok);
  assert_true(f.type == wire_type::cancel);
  assert_int_equal(parse(wire_absent(6), &f), wire_error::ok);
  assert_true(f.type == wire_type::absent);
  assert_int_equal(f.request_id, 6);
}

void hostile_frames_rejected(void**) {
  wire_frame f;
  assert_int_equal(parse("", &f), wire_error::too_short);
  assert_int_equal(parse(std::string(1, '\1'), &f), wire_error::too_short);
  std::string bad_version = wire_cancel(1);
  bad_version[0] = 2;
  assert_int_equal(parse(bad_version, &f), wire_error::bad_version);
  std::string unknown = wire_cancel(1);
  unknown[1] = 99;
  assert_int_equal(parse(unknown, &f), wire_error::bad_type);
  unknown[1] = 0;
  assert_int_equal(parse(unknown, &f), wire_error::bad_type);
  // Truncated and overlong fixed-size frames.
  std::string req = wire_request(1, hash_of(0));
  assert_int_not_equal(parse(req.substr(0, req.size() - 1), &f), wire_error::ok);
  assert_int_not_equal(parse(req + "x", &f), wire_error::ok);
  assert_int_not_equal(parse(wire_cancel(1) + "x", &f), wire_error::ok);
  // Hello: bad characters, empty, length mismatch, too long.
  assert_int_equal(parse(wire_hello(0, "a b"), &f), wire_error::bad_value);
  assert_int_equal(parse(wire_hello(0, ""), &f), wire_error::bad_value);
  assert_int_equal(parse(wire_hello(0, std::string(65, 'a')), &f), wire_error::bad_value);
  std::string hello = wire_hello(0, "abc");
  assert_int_equal(parse(hello.substr(0, hello.size() - 1), &f), wire_error::bad_length);
  // Have: zero count, count beyond limit, count not matching the body.
  std::string have = wire_have(wire_type::have, {hash_of(1)});
  std::string zero = have;
  zero[2] = 0;
  zero[3] = 0;
  assert_int_equal(parse(zero, &f), wire_error::bad_value);
  std::string huge = have;
  huge[2] = static_cast<char>(0xff);
  huge[3] = static_cast<char>(0xff);
  assert_int_equal(parse(huge, &f), wire_error::bad_value);
  std::string two = have;
  two[3] = 2;
  assert_int_equal(parse(two, &f), wire_error::bad_length);
  // Data: beyond total, oversized chunk, zero total, empty chunk, absurd total.
  const uint8_t b[4] = {0};
  assert_int_equal(parse(wire_data(1, 5, 3, b, 4), &f), wire_error::bad_value);
  std::string big(wire_max_chunk + 1, 'x');
  assert_int_equal(parse(wire_data(1, wire_max_item_size, 0,
                                   reinterpret_cast<const uint8_t*>(big.data()), big.size()),
                         &f),
                   wire_error::bad_length);
  assert_int_equal(parse(wire_data(1, 0, 0, b, 0), &f), wire_error::bad_value);
  assert_int_equal(parse(wire_data(1, 10, 0, b, 0), &f), wire_error::bad_length);
  assert_int_equal(parse(wire_data(1, wire_max_item_size + 1, 0, b, 4), &f), wire_error::bad_value);
  assert_int_equal(parse(wire_data(1, 0xffffffffu, 0xfffffffeu, b, 4), &f), wire_error::bad_value);
}

void assembler_enforces_order(void**) {
  const uint8_t bytes[6] = {1, 2, 3, 4, 5, 6};
  wire_frame a, b, c;
  std::string fa = wire_data(1, 6, 0, bytes, 3);
  std::string fb = wire_data(1, 6, 3, bytes + 3, 3);
  assert_int_equal(parse(fa, &a), wire_error::ok);
  assert_int_equal(parse(fb, &b), wire_error::ok);
  chunk_assembler ok;
  assert_true(ok.add(a));
  assert_false(ok.complete());
  assert_true(ok.add(b));
  assert_true(ok.complete());
  assert_memory_equal(ok.take().data(), bytes, 6);

  chunk_assembler out_of_order;
  assert_false(out_of_order.add(b));
  chunk_assembler replay;
  assert_true(replay.add(a));
  assert_false(replay.add(a));
  std::string fc = wire_data(1, 7, 3, bytes + 3, 3);
  assert_int_equal(parse(fc, &c), wire_error::ok);
  chunk_assembler size_change;
  assert_true(size_change.add(a));
  assert_false(size_change.add(c));
  chunk_assembler limited(5);
  assert_false(limited.add(a));
}

void hex_hashes(void**) {
  content_hash h;
  std::string hex(64, 'a');
  assert_true(content_hash_from_hex(hex, &h));
  assert_int_equal(h[0], 0xaa);
  assert_string_equal(content_hash_hex(h).c_str(), hex.c_str());
  assert_false(content_hash_from_hex(std::string(63, 'a'), &h));
  assert_false(content_hash_from_hex(std::string(63, 'a') + "g", &h));
}

void random_bytes_never_crash(void**) {
  std::mt19937 rng(1234);
  wire_frame f;
  for (int i = 0; i < 20000; ++i) {
    size_t n = rng() % 80;
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    if (n > 0 && rng() % 2) s[0] = 1;
    if (n > 1 && rng() % 2) s[1] = static_cast<char>(1 + rng() % 7);
    wire_parse(reinterpret_cast<const uint8_t*>(s.data()), s.size(), &f);
  }
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(round_trips),
      cmocka_unit_test(hostile_frames_rejected),
      cmocka_unit_test(assembler_enforces_order),
      cmocka_unit_test(hex_hashes),
      cmocka_unit_test(random_bytes_never_crash),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
