// The session's one WebSocket to the signalling daemon (libwebsockets client), speaking
// the native protocol of signalling/README.md: JSON text frames, welcome on admission,
// relayed offer/answer/candidate/bye. Non-blocking; serviced from process().
#pragma once

#include <deque>
#include <functional>
#include <string>

struct lws;
struct lws_context;

namespace p2p {

class signalling_client {
 public:
  struct callbacks {
    std::function<void(const std::string& peer_id)> on_welcome;
    // A relayed message: sender and the message without `from` (JSON object text).
    std::function<void(const std::string& from, const std::string& payload)> on_message;
    // The connection failed or closed; `reason` for the log.
    std::function<void(const std::string& reason)> on_closed;
  };

  explicit signalling_client(callbacks cb);
  ~signalling_client();
  signalling_client(const signalling_client&) = delete;
  signalling_client& operator=(const signalling_client&) = delete;

  // An extra handshake header (e.g. the session credential for nginx in front).
  void set_header(const std::string& name, const std::string& value) {
    header_name_ = name + ":";
    header_value_ = value;
  }
  // `url`: ws:// or wss:// URL of the native endpoint including `?ticket=...`.
  bool connect(const std::string& url);
  // Sends `payload` (a JSON object text without `to`) to `to`. False if not connected or
  // the payload is not a JSON object.
  bool send_to(const std::string& to, const std::string& payload);
  bool send_text(const std::string& text);
  void process();
  bool connected() const { return welcomed_; }
  void close();

  // libwebsockets' protocol callback (public for the C callback table).
  int on_event(struct lws* wsi, int reason, void* in, size_t len);

 private:
  callbacks cb_;
  lws_context* context_ = nullptr;
  lws* wsi_ = nullptr;
  bool established_ = false;
  bool welcomed_ = false;
  bool closed_reported_ = false;
  std::string incoming_;
  std::deque<std::string> outgoing_;
  std::string host_, path_;
  std::string header_name_, header_value_;
};

}  // namespace p2p
