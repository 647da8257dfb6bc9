#include "signalling/signalling_config.h"

#include <cstdio>
#include <string>
#include <vector>

#include "third_party/cmocka.hpp"

namespace {

void file_then_flags(void**) {
  const char path[] = "signalling_config_test.conf";
  FILE* file = std::fopen(path, "w");
  assert_non_null(file);
  std::fputs(
      "# comment line\n"
      "listen 127.0.0.2\n"
      "port 9000   # trailing comment\n"
      "ticket_secret from-file\n"
      "webtorrent_origin_allow https://a.example *.b.example\n"
      "max_memory_mb 64\n"
      "trust_forwarded_for on\n"
      "write_coalesce_us 500\n",
      file);
  std::fclose(file);
  p2p::daemon_config config;
  std::string error;
  std::vector<std::string> args = {"--port", "9001", "--config", path, "--messages-per-second",
                                   "7"};
  assert_true(p2p::config_load(args, &config, &error));
  assert_string_equal(config.listen.c_str(), "127.0.0.2");
  assert_int_equal(config.port, 9001);  // the flag wins over the file
  assert_string_equal(config.settings.ticket_secret.c_str(), "from-file");
  assert_int_equal(config.settings.origin_allow.size(), 2);
  assert_int_equal(config.settings.limits.max_memory_bytes, 64u << 20);
  assert_true(config.settings.limits.messages_per_second == 7.0);
  assert_true(config.trust_forwarded_for);
  assert_int_equal(config.write_coalesce_us, 500);
  std::remove(path);
}

void errors_name_the_line(void**) {
  p2p::daemon_config config;
  std::string error;
  assert_false(p2p::config_parse_text(&config, "port 80\nbogus 1\n", &error));
  assert_string_equal(error.c_str(), "line 2: unknown setting 'bogus'");
  assert_false(p2p::config_parse_text(&config, "port 70000\n", &error));
  assert_false(p2p::config_parse_text(&config, "idle_timeout 0\n", &error));
  assert_false(p2p::config_parse_text(&config, "trust_forwarded_for maybe\n", &error));
  assert_false(p2p::config_parse_text(&config, "write_coalesce_us 100001\n", &error));
  assert_false(p2p::config_parse_text(&config, "write_coalesce_us -1\n", &error));
  assert_true(p2p::config_parse_text(&config, "write_coalesce_us 0\n", &error));
  assert_int_equal(config.write_coalesce_us, 0);
}

void secret_required(void**) {
  p2p::daemon_config config;
  std::string error;
  assert_false(p2p::config_load({"--port", "9000"}, &config, &error));
  assert_false(p2p::config_load({"--ticket-secret-file", "/nonexistent/secret"}, &config, &error));
  assert_false(p2p::config_load({"--port"}, &config, &error));
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(file_then_flags),
      cmocka_unit_test(errors_name_the_line),
      cmocka_unit_test(secret_required),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
