#include "module/hasher/segment_path.h"

#include "third_party/cmocka.hpp"

namespace {

std::string resolve(const char* manifest, const char* uri) {
  return p2p::resolve_segment_path(manifest, uri);
}

void relative_and_absolute(void**) {
  assert_string_equal(resolve("/live/a/index.m3u8", "seg1.ts").c_str(), "/live/a/seg1.ts");
  assert_string_equal(resolve("/live/a/index.m3u8", "sub/seg1.ts?v=1#x").c_str(),
                      "/live/a/sub/seg1.ts");
  assert_string_equal(resolve("/live/a/index.m3u8", "/other/seg.ts").c_str(), "/other/seg.ts");
  assert_string_equal(resolve("/live/a/index.m3u8", "../b/seg.ts").c_str(), "/live/b/seg.ts");
  assert_string_equal(resolve("/live/a/index.m3u8", "./x//y/./seg.ts").c_str(),
                      "/live/a/x/y/seg.ts");
  assert_string_equal(resolve("/index.m3u8", "a:b/seg.ts").c_str(), "");  // scheme "a"
  assert_string_equal(resolve("/index.m3u8", "./a:b.ts").c_str(), "/a:b.ts");
}

void percent_decoding(void**) {
  assert_string_equal(resolve("/v/i.m3u8", "seg%201.ts").c_str(), "/v/seg 1.ts");
  assert_string_equal(resolve("/v/i.m3u8", "%2e%2e/x.ts").c_str(), "/x.ts");
  assert_string_equal(resolve("/v/i.m3u8", "%2E%2E/%2e%2e/x.ts").c_str(), "");
  assert_string_equal(resolve("/v/i.m3u8", "a%00.ts").c_str(), "");
  assert_string_equal(resolve("/v/i.m3u8", "a%0.ts").c_str(), "");
  assert_string_equal(resolve("/v/i.m3u8", "a%zz.ts").c_str(), "");
  assert_string_equal(resolve("/v/i.m3u8", "a%").c_str(), "");
  assert_string_equal(p2p::resolve_segment_path("/v/i.m3u8", std::string("a\0b.ts", 6)).c_str(),
                      "");
}

void never_leaves_the_root(void**) {
  assert_string_equal(resolve("/live/index.m3u8", "../../etc/passwd").c_str(), "");
  assert_string_equal(resolve("/index.m3u8", "/../x.ts").c_str(), "");
  assert_string_equal(resolve("/index.m3u8", "..").c_str(), "");
  assert_string_equal(resolve("/a/index.m3u8", "..%2f..%2fetc/passwd").c_str(), "");
}

void foreign_or_empty(void**) {
  assert_string_equal(resolve("/i.m3u8", "https://cdn.example/seg.ts").c_str(), "");
  assert_string_equal(resolve("/i.m3u8", "//cdn.example/seg.ts").c_str(), "");
  assert_string_equal(resolve("/i.m3u8", "data:video/mp2t;base64,AAAA").c_str(), "");
  assert_string_equal(resolve("/i.m3u8", "").c_str(), "");
  assert_string_equal(resolve("/i.m3u8", "?only=query").c_str(), "");
  assert_string_equal(resolve("/i.m3u8", "/").c_str(), "");
  assert_string_equal(resolve("", "seg.ts").c_str(), "/seg.ts");
}

}  // namespace

int main() {
  const CMUnitTest tests[] = {
      cmocka_unit_test(relative_and_absolute),
      cmocka_unit_test(percent_decoding),
      cmocka_unit_test(never_leaves_the_root),
      cmocka_unit_test(foreign_or_empty),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
