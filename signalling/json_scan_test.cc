#include "signalling/json_scan.h"

#include <string>

#include "third_party/cmocka.hpp"

namespace {

void valid_objects(void**) {
  p2p::json_object_text o;
  assert_true(
      o.parse(R"( {"a":1,"b":"x\u00e9\n","c":{"d":[1,-2.5e+3,true,false,null,{}]},"e":[]} )"));
  assert_int_equal(o.size(), 4);
  assert_true(o.get("a")->kind == p2p::json_kind::number);
  assert_true(o.get("c")->raw == R"({"d":[1,-2.5e+3,true,false,null,{}]})");
  std::string value;
  assert_true(p2p::json_string_value(o.get("b")->raw, &value));
  assert_true(value == "x\xC3\xA9\n");
  assert_int_equal(p2p::json_array_elements(R"([1, "two" ,{"3":3}])").size(), 3);
  assert_true(o.parse("{}"));
  assert_true(o.parse(R"({"k\u0000":"\ud83d\ude00"})"));
  assert_true(p2p::json_string_value(o.get(std::string("k\0", 2))->raw, &value));
  assert_true(value == "\xF0\x9F\x98\x80");
}

// Pieces of a parsed document read again: strings end at the first unescaped quote.
void validated_pieces(void**) {
  p2p::json_object_text o;
  const std::string text =
      R"({"list":[{"a":"x\"y\\","b":"\\\"","c":["]",{"d":"}"}]},"q\"","",[]],"z":1})";
  assert_true(o.parse(text));
  auto elements = p2p::json_array_elements(o.get("list")->raw);
  assert_int_equal(elements.size(), 4);
  assert_true(elements[1].raw == R"("q\"")");
  assert_true(elements[2].raw == R"("")");
  p2p::json_object_text inner;
  assert_true(inner.parse_validated(elements[0].raw));
  assert_int_equal(inner.size(), 3);
  assert_true(inner.get("a")->raw == R"("x\"y\\")");
  assert_true(inner.get("b")->raw == R"("\\\"")");
  assert_true(inner.get("c")->raw == R"(["]",{"d":"}"}])");
  assert_null(inner.get("d"));
}

void invalid_texts(void**) {
  const char* bad[] = {
      "",
      "[]",
      "{",
      "{\"a\"}",
      "{\"a\":}",
      "{\"a\":1,}",
      "{a:1}",
      "{\"a\":01}",
      "{\"a\":1.}",
      "{\"a\":-}",
      "{\"a\":tru}",
      "{\"a\":1} x",
      "{\"a\":\"\x01\"}",
      "{\"a\":\"\\x\"}",
      "{\"a\":\"\\ud800\"}",
      "{\"a\":\"\\udc00\"}",
      "{\"a\":\"\xC0\xAF\"}",
      "{\"a\":\"\xED\xA0\x80\"}",
      "{\"a\":\"\xF5\x80\x80\x80\"}",
      "{\"a\":1,\"a\":2}",
      "{\"a\":[1 2]}",
      "{\"a\":\"unterminated}",
  };
  p2p::json_object_text o;
  for (const char* text : bad) {
    if (o.parse(text)) fail_msg("accepted: %s", text);
  }
  std::string deep = "{\"a\":";
  for (int i = 0; i < 40; ++i) deep += "[";
  for (int i = 0; i < 40; ++i) deep += "]";
  deep += "}";
  assert_false(o.parse(deep, 32));
  assert_true(o.parse(deep, 64));
}

// Every byte class at every offset of a string (the scan takes eight bytes at a time): the
// first stop found must be the real one, whatever follows it.
void stops_at_every_offset(void**) {
  struct probe {
    std::string bytes;  // placed inside the string at the offset
    bool valid;
    std::string value;  // decoded bytes (when valid)
  };
  const probe probes[] = {
      {"\x01", false, ""},    {"\x1f", false, ""},
      {"\\n", true, "\n"},    {"\\\"", true, "\""},
      {"\x7f", true, "\x7f"}, {" ", true, " "},
      {"\x80", false, ""},    {"\xC3\xA9", true, "\xC3\xA9"},
      {"\xFF", false, ""},    {"\\u0041", true, "A"},
      {"\x1f\"", false, ""},  {"\"", true, ""},
  };
  p2p::json_object_text o;
  for (const probe& p : probes) {
    for (size_t offset = 0; offset < 24; ++offset) {
      for (size_t after = 0; after < 10; ++after) {
        std::string before(offset, 'a');
        std::string tail(after, 'z');
        // A probe that is itself the closing quote ends the string early: what follows
        // the string is then `tail` and a stray quote, which must be refused.
        std::string text = "{\"k" + before + "\":\"" + before + p.bytes + tail + "\"}";
        bool ends_early = p.bytes == "\"";
        bool want = p.valid && !ends_early;
        if (o.parse(text) != want)
          fail_msg("offset %zu after %zu probe %zu", offset, after, &p - probes);
        if (!want) continue;
        assert_true(o.key(0) == "k" + before);
        std::string value;
        assert_true(p2p::json_string_value(o.value(0).raw, &value));
        assert_true(value == before + p.value + tail);
      }
    }
  }
  // Keys written with escapes are decoded; the same key spelled two ways is a repeat.
  assert_true(o.parse(R"({"a\u0062":1,"c":2,"\u0064":3})"));
  assert_true(o.key(0) == "ab");
  assert_true(o.key(2) == "d");
  assert_non_null(o.get("ab"));
  assert_non_null(o.get("d"));
  assert_null(o.get("a\\u0062"));
  assert_false(o.parse(R"({"ab":1,"a\u0062":2})"));
}

void writing_and_numbers(void**) {
  std::string out;
  p2p::json_append_string(&out, std::string("a\"\\\x01\xC3\xA9", 6));
  assert_string_equal(out.c_str(), "\"a\\\"\\\\\\u0001\xC3\xA9\"");
  assert_true(p2p::json_number_is_zero("0"));
  assert_true(p2p::json_number_is_zero("-0.000e7"));
  assert_false(p2p::json_number_is_zero("0.001"));
  long long n = 0;
  assert_true(p2p::json_number_to_count("42", &n));
  assert_int_equal(n, 42);
  assert_false(p2p::json_number_to_count("-1", &n));
  assert_false(p2p::json_number_to_count("1e3", &n));
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(valid_objects),       cmocka_unit_test(validated_pieces),
      cmocka_unit_test(invalid_texts),       cmocka_unit_test(stops_at_every_offset),
      cmocka_unit_test(writing_and_numbers),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
