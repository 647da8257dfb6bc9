#include "tracker/json_limits.h"

namespace p2p {
namespace {

// Depth is measured on the raw bytes first: jansson recurses per level, and a body
// of 4000 '[' must not get that far.
bool depth_within(std::string_view body, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' || c == '[') {
      if (++depth > max_depth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

bool sizes_within(json_t* value, const json_caps& caps, int depth) {
  if (depth > caps.max_depth) return false;
  if (json_is_object(value)) {
    if (json_object_size(value) > caps.max_members) return false;
    const char* key;
    json_t* member;
    json_object_foreach(value, key, member) {
      if (!sizes_within(member, caps, depth + 1)) return false;
    }
  } else if (json_is_array(value)) {
    if (json_array_size(value) > caps.max_elements) return false;
    size_t i;
    json_t* element;
    json_array_foreach(value, i, element) {
      if (!sizes_within(element, caps, depth + 1)) return false;
    }
  }
  return true;
}

const char* error_code_reason(enum json_error_code code) {
  switch (code) {
    case json_error_invalid_utf8:
      return "invalid UTF-8";
    case json_error_premature_end_of_input:
      return "truncated JSON";
    case json_error_end_of_input_expected:
      return "trailing data after JSON";
    case json_error_null_character:
    case json_error_null_byte_in_key:
      return "NUL character in string";
    case json_error_duplicate_key:
      return "duplicate member";
    case json_error_numeric_overflow:
      return "number out of range";
    case json_error_stack_overflow:
      return "nesting too deep";
    default:
      return "invalid JSON";
  }
}

}  // namespace

json_ptr parse_capped_json_object(std::string_view body, const json_caps& caps, json_refusal* why,
                                  std::string* reason) {
  *why = json_refusal::none;
  if (body.size() > caps.max_bytes) {
    *why = json_refusal::too_large;
    *reason = "body larger than " + std::to_string(caps.max_bytes) + " bytes";
    return nullptr;
  }
  if (!depth_within(body, caps.max_depth)) {
    *why = json_refusal::bad_json;
    *reason = "nesting deeper than " + std::to_string(caps.max_depth);
    return nullptr;
  }
  json_error_t error;
  // jansson refuses invalid UTF-8 and \u0000 by default; duplicates on request.
  json_ptr root(
      json_loadb(body.data(), body.size(), JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &error));
  if (!root) {
    *why = json_refusal::bad_json;
    // jansson's own text quotes the offending token; only its code is logged.
    *reason = std::string(error_code_reason(json_error_code(&error))) + " at byte " +
              std::to_string(error.position);
    return nullptr;
  }
  if (!sizes_within(root.get(), caps, 1)) {
    *why = json_refusal::bad_json;
    *reason = "too many members or elements";
    return nullptr;
  }
  if (!json_is_object(root.get())) {
    *why = json_refusal::not_object;
    *reason = "top level is not an object";
    return nullptr;
  }
  return root;
}

std::string json_escape(std::string_view text) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() + 8);
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

}  // namespace p2p
