#include "client/local_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "client/url.h"

namespace p2p {

struct local_proxy::connection {
  int fd = -1;
  uint64_t serial = 0;
  std::string in;
  std::string out;
  size_t out_pos = 0;
  bool busy = false;  // a request is being answered
  bool close_after = false;
  uint64_t fetch_id = 0;
};

namespace {

uint64_t next_serial = 1;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 206:
      return "Partial Content";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 416:
      return "Range Not Satisfiable";
    case 431:
      return "Request Header Fields Too Large";
    case 502:
      return "Bad Gateway";
    default:
      return "Status";
  }
}

std::string guess_content_type(const std::string& path) {
  std::string p = path.substr(0, path.find('?'));
  auto ends = [&](const char* suffix) {
    size_t n = std::strlen(suffix);
    return p.size() >= n && p.compare(p.size() - n, n, suffix) == 0;
  };
  if (ends(".m3u8")) return "application/vnd.apple.mpegurl";
  if (ends(".mpd")) return "application/dash+xml";
  if (ends(".ts")) return "video/mp2t";
  if (ends(".m4s") || ends(".mp4") || ends(".m4v")) return "video/mp4";
  if (ends(".m4a") || ends(".aac")) return "audio/mp4";
  if (ends(".vtt")) return "text/vtt";
  return "application/octet-stream";
}

// "bytes=a-b" or "bytes=a-"; false for anything else (multiple ranges, suffix ranges).
bool parse_range(const std::string& value, int64_t* offset, int64_t* length) {
  std::string v = value;
  if (v.compare(0, 6, "bytes=") != 0) return false;
  v = v.substr(6);
  size_t dash = v.find('-');
  if (dash == std::string::npos || dash == 0 || v.find(',') != std::string::npos) return false;
  int64_t first = 0, last = -1;
  for (size_t i = 0; i < dash; ++i) {
    if (v[i] < '0' || v[i] > '9' || first > (int64_t{1} << 50)) return false;
    first = first * 10 + (v[i] - '0');
  }
  if (dash + 1 < v.size()) {
    last = 0;
    for (size_t i = dash + 1; i < v.size(); ++i) {
      if (v[i] < '0' || v[i] > '9' || last > (int64_t{1} << 50)) return false;
      last = last * 10 + (v[i] - '0');
    }
    if (last < first) return false;
  }
  *offset = first;
  *length = last < 0 ? -1 : last - first + 1;
  return true;
}

}  // namespace

local_proxy::local_proxy(client& c, local_proxy_config config)
    : client_(c), config_(std::move(config)) {
  while (!config_.origin.empty() && config_.origin.back() == '/') config_.origin.pop_back();
}

local_proxy::~local_proxy() {
  for (auto& entry : connections_) {
    if (entry.second->busy) client_.cancel(entry.second->fetch_id);
    ::close(entry.first);
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

bool local_proxy::start() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return false;
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(config_.listen_port));
  if (inet_pton(AF_INET, config_.listen_host.c_str(), &address.sin_addr) != 1) {
    errno = EINVAL;
    return false;
  }
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(listen_fd_, 64) != 0) {
    return false;
  }
  socklen_t length = sizeof address;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  return true;
}

std::string local_proxy::origin_url_for(const std::string& path_and_query) const {
  if (path_and_query.compare(0, 6, "/_abs/") == 0) {
    std::string rest = path_and_query.substr(6);
    size_t slash = rest.find('/');
    if (slash == std::string::npos) return "";
    std::string scheme = rest.substr(0, slash);
    if (scheme != "http" && scheme != "https") return "";
    return scheme + "://" + rest.substr(slash + 1);
  }
  return config_.origin + path_and_query;
}

std::string local_proxy::proxy_path_for(const std::string& absolute_url) const {
  if (absolute_url.compare(0, config_.origin.size() + 1, config_.origin + "/") == 0) {
    return absolute_url.substr(config_.origin.size());
  }
  url_parts parts;
  if (!url_split(absolute_url, &parts)) return absolute_url;
  std::string rest = absolute_url.substr(absolute_url.find("//") + 2);
  return "/_abs/" + parts.scheme + "/" + rest;
}

std::string local_proxy::rewrite_playlist(const std::string& body) const {
  std::string out;
  out.reserve(body.size());
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    size_t next = end == std::string::npos ? body.size() : end + 1;
    std::string line = body.substr(pos, next - pos);
    auto is_absolute = [](const std::string& s, size_t at) {
      return s.compare(at, 7, "http://") == 0 || s.compare(at, 8, "https://") == 0;
    };
    if (!line.empty() && line[0] != '#' && is_absolute(line, 0)) {
      size_t stop = line.find_first_of("\r\n");
      std::string url = line.substr(0, stop);
      line = proxy_path_for(url) + (stop == std::string::npos ? "" : line.substr(stop));
    } else if (!line.empty() && line[0] == '#') {
      size_t at = line.find("URI=\"");
      if (at != std::string::npos && is_absolute(line, at + 5)) {
        size_t close = line.find('"', at + 5);
        if (close != std::string::npos) {
          std::string url = line.substr(at + 5, close - at - 5);
          line = line.substr(0, at + 5) + proxy_path_for(url) + line.substr(close);
        }
      }
    }
    out += line;
    pos = next;
  }
  return out;
}

void local_proxy::accept_all() {
  for (;;) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (connections_.size() >= config_.max_connections) {
      ::close(fd);
      continue;
    }
    auto c = std::make_unique<connection>();
    c->fd = fd;
    c->serial = next_serial++;
    connections_[fd] = std::move(c);
  }
}

void local_proxy::close_connection(int fd) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  if (it->second->busy) client_.cancel(it->second->fetch_id);
  ::close(fd);
  connections_.erase(it);
}

void local_proxy::on_readable(connection& c) {
  char buffer[16384];
  for (;;) {
    ssize_t n = ::recv(c.fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      c.in.append(buffer, static_cast<size_t>(n));
      if (c.in.size() > config_.max_header_bytes * 4) break;
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
      close_connection(c.fd);
      return;
    }
    break;
  }
  if (!c.busy) start_request(c);
}

void local_proxy::start_request(connection& c) {
  size_t end = c.in.find("\r\n\r\n");
  if (end == std::string::npos || end > config_.max_header_bytes) {
    if (c.in.size() > config_.max_header_bytes) {
      c.out =
          "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: "
          "close\r\n\r\n";
      c.close_after = true;
      c.busy = true;
    }
    return;
  }
  std::string head = c.in.substr(0, end);
  c.in.erase(0, end + 4);
  size_t line_end = head.find("\r\n");
  std::string request_line = head.substr(0, line_end);
  std::string method, target, version;
  {
    size_t a = request_line.find(' ');
    size_t b = a == std::string::npos ? a : request_line.find(' ', a + 1);
    if (a == std::string::npos || b == std::string::npos) {
      method = "";
    } else {
      method = request_line.substr(0, a);
      target = request_line.substr(a + 1, b - a - 1);
      version = request_line.substr(b + 1);
    }
  }
  std::string range_header;
  bool keep_alive = version == "HTTP/1.1";
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string::npos) e = head.size();
    std::string header = head.substr(pos, e - pos);
    size_t colon = header.find(':');
    if (colon != std::string::npos) {
      std::string name = lower(header.substr(0, colon));
      std::string value = header.substr(colon + 1);
      while (!value.empty() && (value[0] == ' ' || value[0] == '\t')) value.erase(0, 1);
      if (name == "range") range_header = value;
      if (name == "connection") {
        std::string v = lower(value);
        if (v.find("close") != std::string::npos) keep_alive = false;
        if (v.find("keep-alive") != std::string::npos) keep_alive = true;
      }
    }
    pos = e + 2;
  }
  c.busy = true;
  c.close_after = !keep_alive;
  auto reply_error = [&](int status) {
    c.out = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) +
            "\r\nContent-Length: 0\r\nConnection: " + (c.close_after ? "close" : "keep-alive") +
            "\r\n\r\n";
  };
  if (method != "GET" && method != "HEAD") {
    c.close_after = true;
    reply_error(method.empty() ? 400 : 405);
    return;
  }
  if (target.empty() || target[0] != '/') {
    reply_error(400);
    return;
  }
  std::string url = origin_url_for(target);
  if (url.empty()) {
    reply_error(404);
    return;
  }
  int64_t offset = -1, length = -1;
  if (!range_header.empty() && !parse_range(range_header, &offset, &length)) {
    offset = -1;  // unsupported range forms: answer the whole resource (RFC 9110 allows it)
    length = -1;
  }
  requests_++;
  bool head_only = method == "HEAD";
  // "bytes=N-" is answered from the whole resource; "bytes=0-" (what many players send
  // for everything) is then the listed item itself.
  int64_t fetch_offset = offset == 0 && length < 0 ? -1 : offset;
  int fd = c.fd;
  uint64_t serial = c.serial;
  c.fetch_id = client_.fetch(
      url, fetch_offset, length, 0,
      [this, fd, serial, head_only, offset, length, target](fetch_response response) {
        auto it = connections_.find(fd);
        if (it == connections_.end() || it->second->serial != serial) return;
        connection& conn = *it->second;
        int status = response.status;
        std::string headers;
        if (status < 200 || status >= 300) {
          status = status >= 400 && status < 500 ? status : 502;
          response.bytes.clear();
        } else {
          bool manifest = response.bytes.compare(0, 7, "#EXTM3U") == 0;
          if (manifest) response.bytes = rewrite_playlist(response.bytes);
          std::string type = response.content_type.empty() || response.from_peers
                                 ? guess_content_type(target)
                                 : response.content_type;
          headers += "Content-Type: " + type + "\r\n";
          if (manifest) headers += "Cache-Control: no-cache\r\n";
          if (offset >= 0) {
            status = 206;
            int64_t last = offset + static_cast<int64_t>(response.bytes.size()) - 1;
            // An open-ended range got everything to the end: the total size is known.
            std::string total = length < 0 ? std::to_string(last + 1) : "*";
            headers += "Content-Range: bytes " + std::to_string(offset) + "-" +
                       std::to_string(last) + "/" + total + "\r\n";
          } else {
            status = 200;
          }
        }
        conn.out = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n" +
                   headers + "Content-Length: " + std::to_string(response.bytes.size()) +
                   "\r\nConnection: " + (conn.close_after ? "close" : "keep-alive") + "\r\n\r\n";
        if (!head_only) conn.out += response.bytes;
        conn.out_pos = 0;
      });
}

void local_proxy::on_writable(connection& c) {
  while (c.out_pos < c.out.size()) {
    ssize_t n = ::send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_pos += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    close_connection(c.fd);
    return;
  }
  c.out.clear();
  c.out_pos = 0;
  c.busy = false;
  if (c.close_after) {
    close_connection(c.fd);
    return;
  }
  start_request(c);  // a pipelined request may already be buffered
}

void local_proxy::process(int timeout_ms) {
  std::vector<pollfd> fds;
  fds.push_back({listen_fd_, POLLIN, 0});
  for (auto& entry : connections_) {
    short events = POLLIN;
    if (!entry.second->out.empty()) events |= POLLOUT;
    fds.push_back({entry.first, events, 0});
  }
  int ready = ::poll(fds.data(), fds.size(), timeout_ms);
  if (ready > 0) {
    if (fds[0].revents & POLLIN) accept_all();
    for (size_t i = 1; i < fds.size(); ++i) {
      auto it = connections_.find(fds[i].fd);
      if (it == connections_.end()) continue;
      if (fds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
        if (!(fds[i].revents & POLLIN)) {
          close_connection(fds[i].fd);
          continue;
        }
      }
      if (fds[i].revents & POLLIN) on_readable(*it->second);
    }
  }
  // Answers completed by client callbacks are written as soon as possible.
  std::vector<int> writable;
  for (auto& entry : connections_) {
    if (!entry.second->out.empty()) writable.push_back(entry.first);
  }
  for (int fd : writable) {
    auto it = connections_.find(fd);
    if (it != connections_.end()) on_writable(*it->second);
  }
}

}  // namespace p2p
