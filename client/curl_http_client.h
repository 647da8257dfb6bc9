// HTTP over libcurl's multi interface, non-blocking, driven from the owner's loop:
// connections are reused (keep-alive), HTTP/2 is negotiated over TLS where the server
// offers it and streams are multiplexed. Bodies are capped; callbacks run from
// process(), never from start().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "client/sources.h"

namespace p2p {

struct http_request {
  std::string method = "GET";  // GET, HEAD or POST
  std::string url;
  int64_t range_offset = -1;         // -1: no Range header
  int64_t range_length = -1;         // -1 with an offset: to the end
  std::string body;                  // POST
  std::string content_type;          // POST
  std::vector<std::string> headers;  // extra "Name: value" lines
  int64_t timeout_ms = 20000;
  size_t max_body_bytes = 64 * 1024 * 1024;
};

struct http_response {
  bool ok = false;  // transfer completed and status 2xx
  int status = 0;   // 0: no HTTP answer (network error, timeout, body too large)
  std::string body;
  std::string content_type;
  std::string error;  // curl's reason when status is 0
};

class curl_http_client : public http_source {
 public:
  curl_http_client();
  ~curl_http_client() override;
  curl_http_client(const curl_http_client&) = delete;
  curl_http_client& operator=(const curl_http_client&) = delete;

  uint64_t start(const http_request& request, std::function<void(http_response)> done);
  // Waits at most timeout_ms for network activity, then completes what finished.
  void process(int timeout_ms);
  size_t running() const { return transfers_.size(); }

  // http_source
  uint64_t fetch(const std::string& url, int64_t range_offset, int64_t range_length,
                 std::function<void(http_fetch_result)> done) override;
  void cancel(uint64_t id) override;

 private:
  struct transfer;
  static size_t write_body(char* data, size_t size, size_t count, void* user);
  void* multi_;  // CURLM*
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<transfer>> transfers_;
};

}  // namespace p2p
