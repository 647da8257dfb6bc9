#include "tracker/json_request.h"

#include "tracker/ticket.h"

namespace p2p {

api_error bad_request(std::string message) { return {400, "bad_request", std::move(message)}; }

api_response error_response(const api_error& error, int64_t retry_after) {
  api_response r;
  r.http_status = error.http_status;
  r.retry_after = retry_after;
  r.body = std::string("{\"error\":{\"code\":\"") + error.code + "\",\"message\":\"" +
           json_escape(error.message) + "\"";
  if (retry_after > 0) r.body += ",\"retry_after\":" + std::to_string(retry_after);
  r.body += "}}";
  r.log_reason = std::string(error.code) + ": " + error.message;
  return r;
}

json_ptr parse_request_object(std::string_view body, const json_caps& caps, api_error* error) {
  json_refusal why;
  std::string reason;
  json_ptr root = parse_capped_json_object(body, caps, &why, &reason);
  if (root) return root;
  switch (why) {
    case json_refusal::too_large:
      *error = {413, "body_too_large", reason};
      break;
    case json_refusal::not_object:
      *error = bad_request(reason);
      break;
    case json_refusal::bad_json:
    case json_refusal::none:
      *error = {400, "bad_json", reason};
      break;
  }
  return nullptr;
}

bool read_string(json_t* root, const char* name, bool required, size_t max_length, std::string* out,
                 api_error* error) {
  json_t* v = json_object_get(root, name);
  if (!v) {
    if (required) *error = bad_request(std::string(name) + ": required");
    return !required;
  }
  if (!json_is_string(v)) {
    *error = bad_request(std::string(name) + ": must be a string");
    return false;
  }
  if (json_string_length(v) > max_length) {
    *error = bad_request(std::string(name) + ": longer than " + std::to_string(max_length));
    return false;
  }
  out->assign(json_string_value(v), json_string_length(v));
  return true;
}

bool read_id(json_t* root, const char* name, bool required, std::string* out, api_error* error) {
  std::string value;
  if (!read_string(root, name, required, 64, &value, error)) return false;
  if (!json_object_get(root, name)) return true;
  if (!ticket_id_valid(value)) {
    *error = bad_request(std::string(name) + ": must be 1..64 of [A-Za-z0-9_-]");
    return false;
  }
  *out = std::move(value);
  return true;
}

bool read_uint(json_t* root, const char* name, int64_t max, bool* present, int64_t* out,
               api_error* error) {
  json_t* v = json_object_get(root, name);
  *present = v != nullptr;
  if (!v) return true;
  if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max) {
    *error = bad_request(std::string(name) + ": must be an integer 0.." + std::to_string(max));
    return false;
  }
  *out = json_integer_value(v);
  return true;
}

}  // namespace p2p
