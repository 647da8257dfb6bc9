#include "client/manifest.h"

namespace p2p {

bool session_hints_set(session_hints* hints, const std::string& key, const std::string& value) {
  if (key == "content-id") {
    hints->content_id = value;
  } else if (key == "customer-id") {
    hints->customer_id = value;
  } else if (key == "swarm") {
    hints->swarm = value;
  } else if (key == "distributor") {
    hints->distributor = value;
  } else if (key == "tracker") {
    hints->tracker = value;
  } else if (key == "signalling") {
    hints->signalling = value;
  } else if (key == "analytics") {
    hints->analytics = value;
  } else if (key == "credential") {
    hints->credential = value;
  } else {
    return false;
  }
  return true;
}

std::string media_item_key(const media_item& item) {
  if (item.range_offset < 0) return item.url;
  return item.url + "#" + std::to_string(item.range_offset) + "+" +
         std::to_string(item.range_length);
}

const char* manifest_status_name(manifest_status status) {
  switch (status) {
    case manifest_status::ok:
      return "ok";
    case manifest_status::malformed:
      return "malformed";
    case manifest_status::too_large:
      return "too_large";
    case manifest_status::unsupported:
      return "unsupported";
  }
  return "unknown";
}

}  // namespace p2p
