#include "client/webrtc/ice_transport.h"

#include <agent.h>
#include <sys/socket.h>

#include <cstring>

#include "client/webrtc/event_loop.h"

namespace p2p {
namespace webrtc {

namespace {

constexpr unsigned kComponent = 1;
constexpr size_t kMaxEarlyDatagrams = 16;
constexpr int kSocketBufferBytes = 4 * 1024 * 1024;

void set_property_if_present(GObject* object, const char* name, gboolean value) {
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(object), name))
    g_object_set(object, name, value, NULL);
}

}  // namespace

const char* transport_state_name(transport_state state) {
  switch (state) {
    case transport_state::idle:
      return "idle";
    case transport_state::connecting:
      return "connecting";
    case transport_state::connected:
      return "connected";
    case transport_state::failed:
      return "failed";
    case transport_state::closed:
      return "closed";
  }
  return "unknown";
}

ice_transport::ice_transport(event_loop& loop, const ice_config& config, bool controlling)
    : loop_(loop) {
  // Regular nomination: RFC 8445 deprecates the aggressive mode libnice defaults to.
  agent_ = nice_agent_new_full(loop_.context(), NICE_COMPATIBILITY_RFC5245,
                               static_cast<NiceAgentOption>(NICE_AGENT_OPTION_ICE_TRICKLE |
                                                            NICE_AGENT_OPTION_CONSENT_FRESHNESS |
                                                            NICE_AGENT_OPTION_REGULAR_NOMINATION));
  GObject* object = G_OBJECT(agent_);
  g_object_set(object, "controlling-mode", controlling ? TRUE : FALSE, "ice-tcp", FALSE, "ice-udp",
               TRUE, NULL);
  // Consent freshness (RFC 7675) also keeps NAT bindings alive; keepalive-conncheck makes
  // libnice send real binding requests, which browsers answer.
  set_property_if_present(object, "keepalive-conncheck", TRUE);
  set_property_if_present(object, "upnp", FALSE);
  // RFC 8445: RTO at least 500 ms, pacing Ta around 50 ms (libnice waits longer by default).
  g_object_set(object, "stun-initial-timeout", 500u, "stun-max-retransmissions", 3u,
               "stun-pacing-timer", 25u, NULL);
  if (!config.stun_server_ip.empty()) {
    g_object_set(object, "stun-server", config.stun_server_ip.c_str(), "stun-server-port",
                 static_cast<guint>(config.stun_server_port), NULL);
  }
  for (const std::string& ip : config.local_addresses) {
    NiceAddress address;
    nice_address_init(&address);
    if (nice_address_set_from_string(&address, ip.c_str()))
      nice_agent_add_local_address(agent_, &address);
  }
  stream_id_ = nice_agent_add_stream(agent_, 1);
  gchar* ufrag = nullptr;
  gchar* password = nullptr;
  if (nice_agent_get_local_credentials(agent_, stream_id_, &ufrag, &password)) {
    local_ufrag_ = ufrag;
    local_password_ = password;
  }
  g_free(ufrag);
  g_free(password);
  g_signal_connect(object, "new-candidate-full", G_CALLBACK(on_new_candidate), this);
  g_signal_connect(object, "candidate-gathering-done", G_CALLBACK(on_gathering_done), this);
  g_signal_connect(object, "component-state-changed", G_CALLBACK(on_component_state), this);
  nice_agent_attach_recv(agent_, stream_id_, kComponent, loop_.context(),
                         reinterpret_cast<NiceAgentRecvFunc>(on_receive), this);
}

ice_transport::~ice_transport() {
  nice_agent_attach_recv(agent_, stream_id_, kComponent, loop_.context(), nullptr, nullptr);
  g_signal_handlers_disconnect_by_data(agent_, this);
  nice_agent_remove_stream(agent_, stream_id_);
  g_object_unref(agent_);
}

bool ice_transport::gather() {
  change_state(transport_state::connecting);
  if (!nice_agent_gather_candidates(agent_, stream_id_)) {
    change_state(transport_state::failed);
    return false;
  }
  return true;
}

bool ice_transport::set_remote_credentials(const std::string& ufrag, const std::string& password) {
  return nice_agent_set_remote_credentials(agent_, stream_id_, ufrag.c_str(), password.c_str());
}

bool ice_transport::add_remote_candidate(const std::string& candidate) {
  if (candidate.empty()) {
    nice_agent_peer_candidate_gathering_done(agent_, stream_id_);
    return true;
  }
  std::string line = candidate.compare(0, 2, "a=") == 0 ? candidate : "a=" + candidate;
  // Browsers trickle TCP and obfuscated (mDNS ".local") candidates; libnice can use neither.
  if (line.find(" tcp ") != std::string::npos || line.find(" TCP ") != std::string::npos ||
      line.find(".local ") != std::string::npos)
    return false;
  NiceCandidate* parsed = nice_agent_parse_remote_candidate_sdp(agent_, stream_id_, line.c_str());
  if (!parsed) return false;
  GSList* list = g_slist_append(nullptr, parsed);
  int added = nice_agent_set_remote_candidates(agent_, stream_id_, kComponent, list);
  g_slist_free(list);
  nice_candidate_free(parsed);
  return added == 1;
}

bool ice_transport::send(const uint8_t* data, size_t size) {
  if (state() != transport_state::connected) {
    // The controlling side learns its pair is usable a moment after the peer (which
    // may already be the DTLS client) sends its first record; answering that record
    // must not wait for a DTLS retransmission (1 s), so hold a few datagrams.
    if (early_datagrams_.size() >= kMaxEarlyDatagrams) return false;
    early_datagrams_.emplace_back(data, data + size);
    return true;
  }
  int sent = nice_agent_send(agent_, stream_id_, kComponent, static_cast<guint>(size),
                             reinterpret_cast<const gchar*>(data));
  return sent == static_cast<int>(size);
}

void ice_transport::enlarge_socket_buffers() {
  // SCTP sends bursts (a congestion window's worth); the kernel's default UDP receive
  // buffer (about 200 KiB) drops part of a burst whenever our loop is a moment late, and
  // each drop costs SCTP a retransmission. Linux caps the value at net.core.rmem_max.
  GSocket* socket = nice_agent_get_selected_socket(agent_, stream_id_, kComponent);
  if (!socket) return;
  int fd = g_socket_get_fd(socket);
  int size = kSocketBufferBytes;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  g_object_unref(socket);
}

void ice_transport::flush_early_datagrams() {
  std::vector<std::vector<uint8_t>> datagrams;
  datagrams.swap(early_datagrams_);
  for (const auto& datagram : datagrams)
    nice_agent_send(agent_, stream_id_, kComponent, static_cast<guint>(datagram.size()),
                    reinterpret_cast<const gchar*>(datagram.data()));
}

std::string ice_transport::selected_pair() const {
  NiceCandidate* local = nullptr;
  NiceCandidate* remote = nullptr;
  if (!nice_agent_get_selected_pair(agent_, stream_id_, kComponent, &local, &remote)) return "";
  char local_ip[NICE_ADDRESS_STRING_LEN];
  char remote_ip[NICE_ADDRESS_STRING_LEN];
  nice_address_to_string(&local->addr, local_ip);
  nice_address_to_string(&remote->addr, remote_ip);
  return std::string(local_ip) + ":" + std::to_string(nice_address_get_port(&local->addr)) +
         " -> " + remote_ip + ":" + std::to_string(nice_address_get_port(&remote->addr));
}

void ice_transport::on_new_candidate(NiceAgent* agent, void* candidate, void* self) {
  auto* transport = static_cast<ice_transport*>(self);
  gchar* sdp =
      nice_agent_generate_local_candidate_sdp(agent, static_cast<NiceCandidate*>(candidate));
  if (!sdp) return;
  std::string line = sdp;
  g_free(sdp);
  if (line.compare(0, 2, "a=") == 0) line.erase(0, 2);
  if (transport->on_candidate_) transport->on_candidate_(line);
}

void ice_transport::on_gathering_done(NiceAgent*, unsigned, void* self) {
  auto* transport = static_cast<ice_transport*>(self);
  if (transport->on_candidate_) transport->on_candidate_("");
}

void ice_transport::on_component_state(NiceAgent*, unsigned, unsigned, unsigned state, void* self) {
  auto* transport = static_cast<ice_transport*>(self);
  switch (state) {
    case NICE_COMPONENT_STATE_CONNECTED:
    case NICE_COMPONENT_STATE_READY:
      if (transport->state() != transport_state::connected) {
        transport->enlarge_socket_buffers();
        transport->flush_early_datagrams();
        transport->change_state(transport_state::connected);
      }
      break;
    case NICE_COMPONENT_STATE_FAILED:
      transport->change_state(transport_state::failed);
      break;
    default:
      break;
  }
}

void ice_transport::on_receive(NiceAgent*, unsigned, unsigned, unsigned size, char* data,
                               void* self) {
  static_cast<ice_transport*>(self)->deliver(reinterpret_cast<const uint8_t*>(data), size);
}

}  // namespace webrtc
}  // namespace p2p
