#include "client/local_proxy.h"

#include <string>

#include "client/client.h"
#include "third_party/cmocka.hpp"

namespace {

using namespace p2p;

void maps_paths_and_rewrites_playlists(void**) {
  client_config config;
  config.p2p_enabled = false;
  client c(config);
  local_proxy_config proxy_config;
  proxy_config.origin = "http://origin.example:8080/";
  local_proxy proxy(c, proxy_config);
  assert_string_equal(proxy.origin_url_for("/vod/a.m3u8?t=1").c_str(),
                      "http://origin.example:8080/vod/a.m3u8?t=1");
  assert_string_equal(proxy.origin_url_for("/_abs/https/cdn.example/x/s1.ts").c_str(),
                      "https://cdn.example/x/s1.ts");
  assert_string_equal(proxy.origin_url_for("/_abs/ftp/cdn.example/x").c_str(), "");
  assert_string_equal(proxy.origin_url_for("/_abs/http").c_str(), "");
  assert_string_equal(proxy.proxy_path_for("http://origin.example:8080/vod/s.ts").c_str(),
                      "/vod/s.ts");
  assert_string_equal(proxy.proxy_path_for("https://cdn.example/x/s.ts?a=b").c_str(),
                      "/_abs/https/cdn.example/x/s.ts?a=b");
  const std::string playlist =
      "#EXTM3U\r\n"
      "#EXT-X-MAP:URI=\"https://cdn.example/init.mp4\",BYTERANGE=\"10@0\"\r\n"
      "#EXT-X-KEY:METHOD=AES-128,URI=\"http://origin.example:8080/keys/k1\"\r\n"
      "#EXTINF:2,\r\n"
      "http://origin.example:8080/vod/s0.ts\r\n"
      "#EXTINF:2,\r\n"
      "relative/s1.ts\r\n";
  const std::string expected =
      "#EXTM3U\r\n"
      "#EXT-X-MAP:URI=\"/_abs/https/cdn.example/init.mp4\",BYTERANGE=\"10@0\"\r\n"
      "#EXT-X-KEY:METHOD=AES-128,URI=\"/keys/k1\"\r\n"
      "#EXTINF:2,\r\n"
      "/vod/s0.ts\r\n"
      "#EXTINF:2,\r\n"
      "relative/s1.ts\r\n";
  assert_string_equal(proxy.rewrite_playlist(playlist).c_str(), expected.c_str());
  // A playlist without absolute URLs is passed through byte for byte.
  const std::string plain = "#EXTM3U\n#EXTINF:2,\ns.ts\n#EXT-X-ENDLIST";
  assert_string_equal(proxy.rewrite_playlist(plain).c_str(), plain.c_str());
  assert_true(proxy.start());
  assert_true(proxy.port() > 0);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {cmocka_unit_test(maps_paths_and_rewrites_playlists)};
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
