// What every JSON endpoint shares: the error and response shapes of README.md
// ("Conventions for every endpoint") and typed readers for request members that
// turn a wrong type or range into a `bad_request` naming the member.
#pragma once

#include <jansson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "tracker/json_limits.h"

namespace p2p {

struct api_error {
  int http_status = 0;
  const char* code = "";
  std::string message;  // safe to send and to log: never contains a ticket or body bytes
};

struct api_response {
  int http_status = 200;
  std::string body;         // a JSON object (or Prometheus text), empty for 204
  int64_t retry_after = 0;  // > 0: send `Retry-After`
  std::string log_reason;   // one line for the error log, empty on success
  std::string content_type = "application/json";
  std::string cache_control = "no-store";
};

api_error bad_request(std::string message);
api_response error_response(const api_error& error, int64_t retry_after = 0);

// Parses a body under `caps` into an object, or fills `*error` (413 / 400).
json_ptr parse_request_object(std::string_view body, const json_caps& caps, api_error* error);

// Member readers: absent is fine unless `required`; present must have the right
// type and range. `*present` (where given) tells whether the member was there.
bool read_id(json_t* root, const char* name, bool required, std::string* out, api_error* error);
bool read_string(json_t* root, const char* name, bool required, size_t max_length, std::string* out,
                 api_error* error);
bool read_uint(json_t* root, const char* name, int64_t max, bool* present, int64_t* out,
               api_error* error);

}  // namespace p2p
