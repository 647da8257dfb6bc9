// Caps applied to every JSON request body, before and after jansson parses it, so a
// hostile body costs bounded time and memory and is refused with a clear reason.
#pragma once

#include <jansson.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace p2p {

struct json_caps {
  size_t max_bytes = 4096;
  int max_depth = 4;         // nesting of objects and arrays
  size_t max_members = 32;   // per object
  size_t max_elements = 64;  // per array
};

struct json_deleter {
  void operator()(json_t* j) const { json_decref(j); }
};
using json_ptr = std::unique_ptr<json_t, json_deleter>;

enum class json_refusal { none, too_large, bad_json, not_object };

// Parses `body` into an object. On refusal returns null and sets `*why` and a short
// reason (no body content is copied into it, so it is safe to log).
json_ptr parse_capped_json_object(std::string_view body, const json_caps& caps, json_refusal* why,
                                  std::string* reason);

// Escapes a string for inclusion between JSON double quotes.
std::string json_escape(std::string_view text);

}  // namespace p2p
