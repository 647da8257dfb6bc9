// The daemon's configuration: a small file of `key value` lines and/or the same keys as
// `--key value` flags (flags win). Parsing is lws-free so it is unit-tested.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "signalling/signalling_core.h"

namespace p2p {

struct daemon_config {
  std::string listen = "127.0.0.1";
  int port = 8090;
  std::string ticket_secret_file;  // read at start and on SIGHUP
  // Take the client address from X-Forwarded-For when the socket peer is loopback
  // (nginx on the same host); otherwise every viewer is 127.0.0.1 to the per-IP limit.
  bool trust_forwarded_for = false;
  int drain_timeout_seconds = 10;
  // After a busy loop pass, outgoing frames wait up to this long while input keeps being
  // handled, so each connection's frames leave in fewer sends. 0: write every pass.
  int write_coalesce_us = 2000;
  signalling_settings settings;
};

// Applies one `key value` setting; false with `error` set on an unknown key or bad value.
bool config_set(daemon_config* config, std::string_view key, std::string_view value,
                std::string* error);

// Applies a whole file's text; `#` starts a comment; errors name the line.
bool config_parse_text(daemon_config* config, std::string_view text, std::string* error);

// Loads `--config FILE` first, then every other `--key value` flag. Then reads the
// secret file if one is named. Fails if no secret results.
bool config_load(const std::vector<std::string>& args, daemon_config* config, std::string* error);

std::string config_usage();

}  // namespace p2p
