// A strict JSON reader for the relay hot path. It validates a whole message (RFC 8259:
// UTF-8, escapes, numbers, nesting depth) without building a tree, and gives the exact
// text of each top-level member's value, so values the daemon relays (SDP offers and
// answers) are copied byte for byte instead of being parsed and serialised again.
// jansson's tree was most of the daemon's CPU per relayed message.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace p2p {

enum class json_kind { string, number, object, array, true_value, false_value, null_value };

struct json_value_text {
  json_kind kind;
  std::string_view raw;  // exact text of the value, quotes included for strings
};

// The top-level members of one JSON object.
class json_object_text {
 public:
  // False if `text` is not exactly one valid JSON object (whitespace around allowed), if it
  // nests deeper than `max_depth`, or if a top-level key repeats.
  bool parse(std::string_view text, int max_depth = 32);
  // The same for text already validated as part of a parsed document (a value from
  // json_value_text or json_array_elements): only the structure is read again.
  bool parse_validated(std::string_view text);

  const json_value_text* get(std::string_view key) const;
  size_t size() const { return members_.size(); }
  // The i-th key (decoded) and value, in document order. Views into the parsed text (or
  // into this object, for keys written with escapes): valid until the next parse.
  std::string_view key(size_t i) const { return members_[i].key; }
  const json_value_text& value(size_t i) const { return members_[i].value; }

 private:
  bool parse_text(std::string_view text, int max_depth, bool validated);

  static constexpr size_t kNotEscaped = ~size_t{0};
  struct member {
    std::string_view key;
    size_t escaped_at;  // where the decoded key is in escaped_keys_, or kNotEscaped
    json_value_text value;
  };
  std::vector<member> members_;
  std::string escaped_keys_;
};

// Decodes a validated string value (`raw` with its quotes) to UTF-8; false if `raw` is not
// a string or holds an escaped lone surrogate.
bool json_string_value(std::string_view raw, std::string* out);

// The elements of a validated array value (`raw` with its brackets).
std::vector<json_value_text> json_array_elements(std::string_view raw);
// The same into `out` (cleared first), so a caller can reuse its capacity.
void json_array_elements(std::string_view raw, std::vector<json_value_text>* out);

// Appends `utf8` as a JSON string literal (quotes, escapes for `"`, `\` and controls).
void json_append_string(std::string* out, std::string_view utf8);

// A number value that equals zero ("0", "-0", "0.0", "0e5"...).
bool json_number_is_zero(std::string_view raw);

// A number value that is a non-negative integer fitting `long long`; false otherwise.
bool json_number_to_count(std::string_view raw, long long* out);

}  // namespace p2p
