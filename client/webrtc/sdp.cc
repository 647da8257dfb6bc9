#include "client/webrtc/sdp.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <sstream>

namespace p2p {
namespace webrtc {

namespace {

bool starts_with(const std::string& text, const char* prefix) {
  return text.compare(0, std::char_traits<char>::length(prefix), prefix) == 0;
}

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool parse_number(const std::string& text, unsigned long max, unsigned long* value) {
  if (text.empty() || text.size() > 20) return false;
  for (char c : text)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  unsigned long long parsed = std::strtoull(text.c_str(), nullptr, 10);
  if (parsed > max) return false;
  *value = static_cast<unsigned long>(parsed);
  return true;
}

}  // namespace

std::string write_sdp(const session_description& d, uint64_t session_id) {
  std::ostringstream out;
  out << "v=0\r\n"
      << "o=- " << session_id << " 2 IN IP4 127.0.0.1\r\n"
      << "s=-\r\n"
      << "t=0 0\r\n"
      << "a=group:BUNDLE " << d.mid << "\r\n"
      << "a=msid-semantic:WMS *\r\n"
      << "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
      << "c=IN IP4 0.0.0.0\r\n"
      << "a=mid:" << d.mid << "\r\n"
      << "a=ice-ufrag:" << d.ice_ufrag << "\r\n"
      << "a=ice-pwd:" << d.ice_password << "\r\n"
      << "a=ice-options:trickle\r\n"
      << "a=fingerprint:sha-256 " << d.fingerprint << "\r\n"
      << "a=setup:" << d.setup << "\r\n"
      << "a=sctp-port:" << d.sctp_port << "\r\n";
  if (d.max_message_size) out << "a=max-message-size:" << d.max_message_size << "\r\n";
  for (const std::string& candidate : d.candidates) out << "a=" << candidate << "\r\n";
  if (d.end_of_candidates) out << "a=end-of-candidates\r\n";
  return out.str();
}

bool parse_sdp(const std::string& text, session_description* d, std::string* error) {
  *d = session_description();
  d->mid.clear();
  std::istringstream in(text);
  std::string line;
  // Session-level values apply to the media section unless it sets its own.
  session_description session;
  session.mid.clear();
  enum { in_session, in_application, in_other } section = in_session;
  bool found_application = false;
  bool application_done = false;
  bool legacy_sctpmap = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (starts_with(line, "m=")) {
      if (section == in_application) application_done = true;
      section = in_other;
      if (!found_application && starts_with(line, "m=application ")) {
        std::istringstream fields(line.substr(2));
        std::string media, port, protocol, format;
        fields >> media >> port >> protocol >> format;
        if (protocol == "UDP/DTLS/SCTP" || protocol == "TCP/DTLS/SCTP") {
          if (format == "webrtc-datachannel") section = in_application;
        } else if (protocol == "DTLS/SCTP") {
          section = in_application;
          legacy_sctpmap = true;
        }
        if (section == in_application) found_application = true;
      }
      continue;
    }
    if (!starts_with(line, "a=") || section == in_other || application_done) continue;
    session_description& target = section == in_session ? session : *d;
    std::string attribute = line.substr(2);
    std::string name = attribute.substr(0, attribute.find(':'));
    std::string value =
        attribute.find(':') == std::string::npos ? "" : attribute.substr(attribute.find(':') + 1);
    unsigned long number = 0;
    if (name == "ice-ufrag") {
      target.ice_ufrag = value;
    } else if (name == "ice-pwd") {
      target.ice_password = value;
    } else if (name == "fingerprint") {
      std::string algorithm = lower(value.substr(0, value.find(' ')));
      if (algorithm == "sha-256" && value.find(' ') != std::string::npos)
        target.fingerprint = upper(value.substr(value.find(' ') + 1));
    } else if (name == "setup") {
      target.setup = value;
    } else if (name == "mid") {
      target.mid = value;
    } else if (name == "sctp-port") {
      if (parse_number(value, 65535, &number)) target.sctp_port = static_cast<uint16_t>(number);
    } else if (name == "sctpmap" && legacy_sctpmap) {
      if (parse_number(value.substr(0, value.find(' ')), 65535, &number))
        target.sctp_port = static_cast<uint16_t>(number);
    } else if (name == "max-message-size") {
      if (parse_number(value, ~0ul, &number)) target.max_message_size = number;
    } else if (name == "candidate") {
      target.candidates.push_back(attribute);
    } else if (name == "end-of-candidates") {
      target.end_of_candidates = true;
    }
  }
  if (!found_application) {
    *error = "no m=application webrtc-datachannel section";
    return false;
  }
  if (d->ice_ufrag.empty()) d->ice_ufrag = session.ice_ufrag;
  if (d->ice_password.empty()) d->ice_password = session.ice_password;
  if (d->fingerprint.empty()) d->fingerprint = session.fingerprint;
  if (d->setup.empty()) d->setup = session.setup;
  if (d->mid.empty()) d->mid = "0";
  if (d->ice_ufrag.empty() || d->ice_password.empty()) {
    *error = "missing ICE credentials";
    return false;
  }
  if (d->fingerprint.empty()) {
    *error = "missing sha-256 fingerprint";
    return false;
  }
  if (d->setup.empty()) d->setup = "actpass";
  return true;
}

}  // namespace webrtc
}  // namespace p2p
