// The local HTTP proxy any player can use: http://127.0.0.1:PORT/<path> maps to
// <origin>/<path>; manifests pass through (absolute URLs rewritten so the player keeps
// asking the proxy), segments come through the client (peers or HTTP). HTTP/1.1 with
// keep-alive, GET and HEAD, single byte ranges. Non-blocking, serviced from process().
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "client/client.h"

namespace p2p {

struct local_proxy_config {
  std::string listen_host = "127.0.0.1";
  int listen_port = 0;  // 0: any free port
  std::string origin;   // scheme://authority of the origin, e.g. http://127.0.0.1:8080
  size_t max_connections = 64;
  size_t max_header_bytes = 16 * 1024;
};

class local_proxy {
 public:
  local_proxy(client& c, local_proxy_config config);
  ~local_proxy();
  local_proxy(const local_proxy&) = delete;
  local_proxy& operator=(const local_proxy&) = delete;

  // Binds and listens; false (with errno set) on failure.
  bool start();
  int port() const { return port_; }
  // Polls the sockets for at most timeout_ms, then serves what is ready.
  void process(int timeout_ms);
  uint64_t requests_served() const { return requests_; }

  // The origin URL a proxy path stands for ("/_abs/<scheme>/<authority>/<path>" for
  // other hosts), and the reverse for rewriting manifests.
  std::string origin_url_for(const std::string& path_and_query) const;
  std::string proxy_path_for(const std::string& absolute_url) const;
  // Rewrites absolute URLs in an HLS playlist so they point back at the proxy.
  std::string rewrite_playlist(const std::string& body) const;

 private:
  struct connection;
  void accept_all();
  void on_readable(connection& c);
  void start_request(connection& c);
  void on_writable(connection& c);
  void close_connection(int fd);

  client& client_;
  local_proxy_config config_;
  int listen_fd_ = -1;
  int port_ = 0;
  uint64_t requests_ = 0;
  std::map<int, std::unique_ptr<connection>> connections_;
};

}  // namespace p2p
