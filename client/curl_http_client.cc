#include "client/curl_http_client.h"

#include <curl/curl.h>

namespace p2p {

namespace {

// curl_global_init is not thread-safe; do it once before the first multi handle.
struct curl_global {
  curl_global() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

}  // namespace

struct curl_http_client::transfer {
  uint64_t id = 0;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string body;
  std::string request_body;
  size_t max_body = 0;
  bool too_large = false;
  std::function<void(http_response)> done;
  ~transfer() {
    if (headers) curl_slist_free_all(headers);
  }
};

namespace {}  // namespace

size_t curl_http_client::write_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<transfer*>(user);
  size_t n = size * count;
  if (t->body.size() + n > t->max_body) {
    t->too_large = true;
    return 0;  // aborts the transfer
  }
  t->body.append(data, n);
  return n;
}

curl_http_client::curl_http_client() {
  static curl_global global;
  multi_ = curl_multi_init();
  curl_multi_setopt(static_cast<CURLM*>(multi_), CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  curl_multi_setopt(static_cast<CURLM*>(multi_), CURLMOPT_MAX_HOST_CONNECTIONS, 6L);
}

curl_http_client::~curl_http_client() {
  for (auto& entry : transfers_) {
    curl_multi_remove_handle(static_cast<CURLM*>(multi_), entry.second->easy);
    curl_easy_cleanup(entry.second->easy);
  }
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

uint64_t curl_http_client::start(const http_request& request,
                                 std::function<void(http_response)> done) {
  auto t = std::make_unique<transfer>();
  t->id = next_id_++;
  t->done = std::move(done);
  t->max_body = request.max_body_bytes;
  t->request_body = request.body;
  CURL* easy = curl_easy_init();
  t->easy = easy;
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout_ms));
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
  if (request.range_offset >= 0) {
    std::string range = std::to_string(request.range_offset) + "-";
    if (request.range_length > 0) {
      range += std::to_string(request.range_offset + request.range_length - 1);
    }
    curl_easy_setopt(easy, CURLOPT_RANGE, range.c_str());
  }
  if (request.method == "HEAD") {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else if (request.method == "POST") {
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, t->request_body.c_str());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(t->request_body.size()));
    if (!request.content_type.empty()) {
      t->headers = curl_slist_append(t->headers, ("Content-Type: " + request.content_type).c_str());
    }
  }
  for (const auto& header : request.headers) {
    t->headers = curl_slist_append(t->headers, header.c_str());
  }
  if (t->headers) curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t->headers);
  curl_multi_add_handle(static_cast<CURLM*>(multi_), easy);
  uint64_t id = t->id;
  transfers_[id] = std::move(t);
  return id;
}

void curl_http_client::cancel(uint64_t id) {
  auto it = transfers_.find(id);
  if (it == transfers_.end()) return;
  curl_multi_remove_handle(static_cast<CURLM*>(multi_), it->second->easy);
  curl_easy_cleanup(it->second->easy);
  transfers_.erase(it);
}

void curl_http_client::process(int timeout_ms) {
  CURLM* multi = static_cast<CURLM*>(multi_);
  int running_handles = 0;
  curl_multi_perform(multi, &running_handles);
  if (timeout_ms > 0 && !transfers_.empty()) {
    curl_multi_poll(multi, nullptr, 0, timeout_ms, nullptr);
    curl_multi_perform(multi, &running_handles);
  }
  std::vector<std::pair<std::function<void(http_response)>, http_response>> finished;
  int queued = 0;
  while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
    if (message->msg != CURLMSG_DONE) continue;
    CURL* easy = message->easy_handle;
    CURLcode result = message->data.result;
    for (auto it = transfers_.begin(); it != transfers_.end(); ++it) {
      if (it->second->easy != easy) continue;
      http_response response;
      long status = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
      char* content_type = nullptr;
      curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &content_type);
      if (content_type) response.content_type = content_type;
      if (result == CURLE_OK) {
        response.status = static_cast<int>(status);
        response.ok = status >= 200 && status < 300;
        response.body = std::move(it->second->body);
      } else {
        response.error = it->second->too_large ? "body too large" : curl_easy_strerror(result);
      }
      curl_multi_remove_handle(multi, easy);
      curl_easy_cleanup(easy);
      finished.emplace_back(std::move(it->second->done), std::move(response));
      transfers_.erase(it);
      break;
    }
  }
  // Callbacks last: they may start or cancel transfers.
  for (auto& f : finished) {
    if (f.first) f.first(std::move(f.second));
  }
}

uint64_t curl_http_client::fetch(const std::string& url, int64_t range_offset, int64_t range_length,
                                 std::function<void(http_fetch_result)> done) {
  http_request request;
  request.url = url;
  request.range_offset = range_offset;
  request.range_length = range_length;
  return start(request, [done = std::move(done), range_offset](http_response response) {
    http_fetch_result result;
    // A ranged request must come back as 206; a 200 would be the whole file.
    bool range_ok = range_offset < 0 || response.status == 206;
    result.ok = response.ok && range_ok;
    result.status = response.status;
    result.bytes = std::move(response.body);
    result.content_type = std::move(response.content_type);
    done(std::move(result));
  });
}

}  // namespace p2p
