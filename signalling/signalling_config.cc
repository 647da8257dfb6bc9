#include "signalling/signalling_config.h"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

namespace p2p {

namespace {

bool parse_unsigned(std::string_view text, uint64_t max, uint64_t* out) {
  if (text.empty() || text.size() > 19) return false;
  uint64_t value = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9') return false;
    value = value * 10 + static_cast<uint64_t>(ch - '0');
  }
  if (value > max) return false;
  *out = value;
  return true;
}

bool parse_bool(std::string_view text, bool* out) {
  if (text == "on" || text == "true" || text == "yes" || text == "1") {
    *out = true;
    return true;
  }
  if (text == "off" || text == "false" || text == "no" || text == "0") {
    *out = false;
    return true;
  }
  return false;
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::istringstream in{std::string(text)};
  std::string word;
  while (in >> word) words.push_back(word);
  return words;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                           text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  *out = buffer.str();
  return true;
}

}  // namespace

bool config_set(daemon_config* config, std::string_view key, std::string_view value,
                std::string* error) {
  signalling_settings& s = config->settings;
  signalling_limits& l = s.limits;
  uint64_t number = 0;
  auto unsigned_in = [&](uint64_t max, auto* target) {
    if (!parse_unsigned(value, max, &number)) {
      *error = std::string(key) + ": expected an integer 0.." + std::to_string(max);
      return false;
    }
    *target = static_cast<std::remove_pointer_t<decltype(target)>>(number);
    return true;
  };
  auto positive_in = [&](uint64_t max, auto* target) {
    if (!unsigned_in(max, target)) return false;
    if (number == 0) {
      *error = std::string(key) + ": must be at least 1";
      return false;
    }
    return true;
  };
  if (key == "listen") {
    config->listen = std::string(value);
    return !value.empty() || (*error = "listen: empty address", false);
  }
  if (key == "port") return positive_in(65535, &config->port);
  if (key == "ticket_secret") {
    s.ticket_secret = std::string(value);
    return true;
  }
  if (key == "ticket_secret_file") {
    config->ticket_secret_file = std::string(value);
    return true;
  }
  if (key == "ticket_skew") return unsigned_in(86400, &s.ticket_skew_seconds);
  if (key == "ping_interval") return positive_in(3600, &s.ping_interval_seconds);
  if (key == "idle_timeout") return positive_in(86400, &s.idle_timeout_seconds);
  if (key == "webtorrent_interval") return positive_in(86400, &s.webtorrent_interval_seconds);
  if (key == "webtorrent_origin_allow") {
    for (auto& word : split_words(value)) s.origin_allow.push_back(word);
    return true;
  }
  if (key == "webtorrent_origin_deny") {
    for (auto& word : split_words(value)) s.origin_deny.push_back(word);
    return true;
  }
  if (key == "webtorrent_require_origin" || key == "trust_forwarded_for") {
    bool* target = key == "trust_forwarded_for" ? &config->trust_forwarded_for : &s.require_origin;
    if (parse_bool(value, target)) return true;
    *error = std::string(key) + ": expected on or off";
    return false;
  }
  if (key == "drain_timeout") return unsigned_in(3600, &config->drain_timeout_seconds);
  if (key == "write_coalesce_us") return unsigned_in(100000, &config->write_coalesce_us);
  if (key == "max_message_bytes") return positive_in(1 << 24, &l.max_message_bytes);
  if (key == "messages_per_second") return positive_in(1000000, &l.messages_per_second);
  if (key == "message_burst") return positive_in(1000000, &l.message_burst);
  if (key == "max_connections_per_ip") return positive_in(10000000, &l.max_connections_per_ip);
  if (key == "max_connections") return positive_in(100000000, &l.max_connections);
  if (key == "max_peers_per_swarm") return positive_in(100000000, &l.max_peers_per_swarm);
  if (key == "max_queue_bytes") return positive_in(1ull << 32, &l.max_queue_bytes);
  if (key == "max_queue_messages") return positive_in(1000000, &l.max_queue_messages);
  if (key == "max_memory_mb") {
    size_t megabytes = 0;
    if (!positive_in(1 << 20, &megabytes)) return false;
    l.max_memory_bytes = megabytes << 20;
    return true;
  }
  if (key == "max_scrape_hashes") return positive_in(100000, &l.max_scrape_hashes);
  *error = "unknown setting '" + std::string(key) + "'";
  return false;
}

bool config_parse_text(daemon_config* config, std::string_view text, std::string* error) {
  size_t line_number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_number;
    size_t comment = line.find('#');
    if (comment != std::string_view::npos) line = line.substr(0, comment);
    line = trim(line);
    if (line.empty()) continue;
    size_t space = line.find_first_of(" \t");
    std::string_view key = line.substr(0, space);
    std::string_view value =
        space == std::string_view::npos ? std::string_view() : trim(line.substr(space));
    std::string why;
    if (!config_set(config, key, value, &why)) {
      *error = "line " + std::to_string(line_number) + ": " + why;
      return false;
    }
  }
  return true;
}

bool config_load(const std::vector<std::string>& args, daemon_config* config, std::string* error) {
  // The file first, so flags override it whatever their order.
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] != "--config") continue;
    std::string text;
    if (!read_file(args[i + 1], &text)) {
      *error = args[i + 1] + ": cannot read";
      return false;
    }
    if (!config_parse_text(config, text, error)) {
      *error = args[i + 1] + ": " + *error;
      return false;
    }
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0 || i + 1 >= args.size()) {
      *error = "bad argument '" + arg + "' (expected --key value)";
      return false;
    }
    std::string key = arg.substr(2);
    for (char& ch : key) {
      if (ch == '-') ch = '_';
    }
    ++i;
    if (key == "config") continue;
    if (!config_set(config, key, args[i], error)) return false;
  }
  if (!config->ticket_secret_file.empty()) {
    std::string secret;
    if (!read_file(config->ticket_secret_file, &secret)) {
      *error = config->ticket_secret_file + ": cannot read the ticket secret";
      return false;
    }
    config->settings.ticket_secret = std::string(trim(secret));
  }
  if (config->settings.ticket_secret.empty()) {
    *error = "no ticket secret (ticket_secret or ticket_secret_file)";
    return false;
  }
  return true;
}

std::string config_usage() {
  return "usage: p2p-signalling [--config FILE] [--KEY VALUE]...\n"
         "keys (also `KEY VALUE` lines in FILE): listen, port, ticket_secret, "
         "ticket_secret_file,\n  ticket_skew, ping_interval, idle_timeout, webtorrent_interval, "
         "webtorrent_origin_allow,\n  webtorrent_origin_deny, webtorrent_require_origin, "
         "trust_forwarded_for, drain_timeout,\n  write_coalesce_us, max_message_bytes, "
         "messages_per_second, message_burst,\n  max_connections_per_ip, max_connections, "
         "max_peers_per_swarm, max_queue_bytes,\n  max_queue_messages, max_memory_mb, "
         "max_scrape_hashes\n";
}

}  // namespace p2p
