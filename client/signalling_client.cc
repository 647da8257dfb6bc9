#include "client/signalling_client.h"

#include <jansson.h>
#include <libwebsockets.h>

#include <cstring>

#include "client/url.h"

namespace p2p {

namespace {

// Largest frame accepted from the daemon (its max_message_bytes is 16 KiB).
constexpr size_t kMaxIncoming = 64 * 1024;
constexpr size_t kMaxQueued = 256;

int protocol_callback(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                      size_t len) {
  (void)user;
  auto* self = static_cast<signalling_client*>(lws_get_opaque_user_data(wsi));
  if (!self) return 0;
  return self->on_event(wsi, static_cast<int>(reason), in, len);
}

const struct lws_protocols kProtocols[] = {
    {"p2p-signal", protocol_callback, 0, kMaxIncoming, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

}  // namespace

signalling_client::signalling_client(callbacks cb) : cb_(std::move(cb)) {}

signalling_client::~signalling_client() {
  cb_ = callbacks();
  if (wsi_) lws_set_opaque_user_data(wsi_, nullptr);
  if (context_) lws_context_destroy(context_);
}

bool signalling_client::connect(const std::string& url) {
  url_parts parts;
  if (!url_split(url, &parts)) return false;
  bool tls = parts.scheme == "wss" || parts.scheme == "https";
  if (!tls && parts.scheme != "ws" && parts.scheme != "http") return false;
  lws_set_log_level(LLL_ERR, nullptr);
  struct lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = kProtocols;
  info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  context_ = lws_create_context(&info);
  if (!context_) return false;
  host_ = parts.host;
  path_ = parts.path + (parts.has_query ? "?" + parts.query : "");
  struct lws_client_connect_info ci;
  std::memset(&ci, 0, sizeof ci);
  ci.context = context_;
  ci.address = host_.c_str();
  ci.port = parts.port ? parts.port : (tls ? 443 : 80);
  ci.path = path_.c_str();
  ci.host = host_.c_str();
  ci.origin = host_.c_str();
  ci.ssl_connection = tls ? LCCSCF_USE_SSL : 0;
  ci.protocol = nullptr;
  ci.local_protocol_name = kProtocols[0].name;
  ci.opaque_user_data = this;
  ci.pwsi = &wsi_;
  if (!lws_client_connect_via_info(&ci)) {
    wsi_ = nullptr;
    return false;
  }
  return true;
}

int signalling_client::on_event(struct lws* wsi, int reason, void* in, size_t len) {
  switch (static_cast<enum lws_callback_reasons>(reason)) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
      if (header_name_.empty()) return 0;
      auto** p = static_cast<unsigned char**>(in);
      unsigned char* end = *p + len;
      if (lws_add_http_header_by_name(wsi,
                                      reinterpret_cast<const unsigned char*>(header_name_.c_str()),
                                      reinterpret_cast<const unsigned char*>(header_value_.data()),
                                      static_cast<int>(header_value_.size()), p, end)) {
        return -1;
      }
      return 0;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      established_ = true;
      if (!outgoing_.empty()) lws_callback_on_writable(wsi);
      return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE: {
      if (incoming_.size() + len > kMaxIncoming) return -1;
      incoming_.append(static_cast<const char*>(in), len);
      if (!lws_is_final_fragment(wsi)) return 0;
      std::string text;
      text.swap(incoming_);
      json_error_t error;
      json_t* root = json_loadb(text.data(), text.size(), 0, &error);
      if (!root || !json_is_object(root)) {
        if (root) json_decref(root);
        return 0;
      }
      const char* type = json_string_value(json_object_get(root, "type"));
      std::string t = type ? type : "";
      if (t == "welcome") {
        welcomed_ = true;
        const char* peer = json_string_value(json_object_get(root, "peer_id"));
        if (cb_.on_welcome) cb_.on_welcome(peer ? peer : "");
      } else if (t == "offer" || t == "answer" || t == "candidate" || t == "bye") {
        const char* from = json_string_value(json_object_get(root, "from"));
        if (from && cb_.on_message) {
          std::string sender = from;
          json_object_del(root, "from");
          char* payload = json_dumps(root, JSON_COMPACT);
          if (payload) {
            cb_.on_message(sender, payload);
            free(payload);
          }
        }
      }
      json_decref(root);
      return 0;
    }
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
      if (outgoing_.empty()) return 0;
      std::string& front = outgoing_.front();
      std::string buffer(LWS_PRE, '\0');
      buffer += front;
      int written = lws_write(wsi, reinterpret_cast<unsigned char*>(&buffer[LWS_PRE]), front.size(),
                              LWS_WRITE_TEXT);
      if (written < static_cast<int>(front.size())) return -1;
      outgoing_.pop_front();
      if (!outgoing_.empty()) lws_callback_on_writable(wsi);
      return 0;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY: {
      wsi_ = nullptr;
      established_ = false;
      welcomed_ = false;
      if (!closed_reported_) {
        closed_reported_ = true;
        std::string why = reason == LWS_CALLBACK_CLIENT_CONNECTION_ERROR && in
                              ? std::string(static_cast<const char*>(in),
                                            strnlen(static_cast<const char*>(in), len ? len : 200))
                              : "closed";
        if (cb_.on_closed) cb_.on_closed(why);
      }
      return 0;
    }
    default:
      return 0;
  }
}

bool signalling_client::send_text(const std::string& text) {
  if (!wsi_ || !established_ || outgoing_.size() >= kMaxQueued) return false;
  outgoing_.push_back(text);
  lws_callback_on_writable(wsi_);
  return true;
}

bool signalling_client::send_to(const std::string& to, const std::string& payload) {
  json_error_t error;
  json_t* root = json_loadb(payload.data(), payload.size(), 0, &error);
  if (!root || !json_is_object(root)) {
    if (root) json_decref(root);
    return false;
  }
  json_object_set_new(root, "to", json_string(to.c_str()));
  json_object_del(root, "from");
  char* text = json_dumps(root, JSON_COMPACT);
  json_decref(root);
  if (!text) return false;
  bool ok = send_text(text);
  free(text);
  return ok;
}

void signalling_client::process() {
  // A negative timeout makes lws poll without waiting.
  if (context_) lws_service(context_, -1);
}

void signalling_client::close() {
  if (wsi_) {
    lws_set_opaque_user_data(wsi_, nullptr);
    wsi_ = nullptr;
  }
  if (context_) {
    lws_context_destroy(context_);
    context_ = nullptr;
  }
  established_ = false;
  welcomed_ = false;
}

}  // namespace p2p
