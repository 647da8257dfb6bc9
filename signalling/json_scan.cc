#include "signalling/json_scan.h"

#include <cstdint>
#include <cstring>

#include "common/hex.h"

namespace p2p {

namespace {

bool read_hex4(std::string_view text, size_t at, uint32_t* out) {
  if (at + 4 > text.size()) return false;
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) {
    int digit = hex_digit_value(text[at + i]);
    if (digit < 0) return false;
    value = (value << 4) | static_cast<uint32_t>(digit);
  }
  *out = value;
  return true;
}

void append_utf8(std::string* out, uint32_t code_point) {
  if (code_point < 0x80) {
    out->push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

// Length of the valid UTF-8 sequence starting at text[at] (a non-ASCII lead byte), or 0.
size_t utf8_sequence(std::string_view text, size_t at) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(at);
  size_t length;
  uint32_t minimum;
  uint32_t value;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    minimum = 0x80;
    value = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    minimum = 0x800;
    value = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    minimum = 0x10000;
    value = lead & 0x07;
  } else {
    return 0;
  }
  if (at + length > text.size()) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xC0) != 0x80) return 0;
    value = (value << 6) | (byte(at + i) & 0x3F);
  }
  if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 0;
  return length;
}

// Bytes that end a plain run inside a string literal: controls, '"', '\\' and every
// non-ASCII byte (validated as UTF-8 one sequence at a time).
struct string_stops {
  bool stop[256];
  constexpr string_stops() : stop() {
    for (int c = 0; c < 256; ++c) stop[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
  }
};
constexpr string_stops kStringStops;

// The first byte at or after `at` that ends a plain run (see string_stops), or `size`.
// Eight bytes per step: a byte is flagged when it is below 0x20, a quote or a backslash
// (the subtraction sets its top bit) or is non-ASCII (its own top bit). A borrow can flag
// bytes after a real stop, never before one, so the lowest flagged byte is the first stop.
size_t plain_run_end(const char* data, size_t at, size_t size) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  while (size - at >= 8) {
    uint64_t x;
    std::memcpy(&x, data + at, sizeof(x));
    uint64_t quote = x ^ (kOnes * '"');
    uint64_t backslash = x ^ (kOnes * '\\');
    uint64_t stops = (((x - kOnes * 0x20) & ~x) | ((quote - kOnes) & ~quote) |
                      ((backslash - kOnes) & ~backslash) | x) &
                     kHigh;
    if (stops != 0) return at + (static_cast<size_t>(__builtin_ctzll(stops)) >> 3);
    at += 8;
  }
#endif
  while (at < size && !kStringStops.stop[static_cast<unsigned char>(data[at])]) ++at;
  return at;
}

class scanner {
 public:
  // `validated`: the text is known to be valid JSON (a piece of an already parsed
  // document), so string values are skipped to their closing quote without checking them.
  scanner(std::string_view text, int max_depth, bool validated = false)
      : text_(text), max_depth_(max_depth), validated_(validated) {}

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool at_end() const { return pos_ == text_.size(); }
  bool peek(char ch) const { return pos_ < text_.size() && text_[pos_] == ch; }
  void advance() { ++pos_; }
  size_t position() const { return pos_; }
  std::string_view slice(size_t from) const { return text_.substr(from, pos_ - from); }

  // A string literal; `decoded` (if not null) receives its UTF-8 value, `plain` (if not
  // null) whether it was written without escapes or non-ASCII bytes.
  bool string(std::string* decoded, bool* plain = nullptr) {
    if (!peek('"')) return false;
    // Most strings (keys, ids, actions) are plain ASCII up to their closing quote.
    size_t run = plain_run_end(text_.data(), pos_ + 1, text_.size());
    if (run < text_.size() && text_[run] == '"') {
      if (decoded != nullptr) decoded->append(text_.data() + pos_ + 1, run - pos_ - 1);
      if (plain != nullptr) *plain = true;
      pos_ = run + 1;
      return true;
    }
    if (plain != nullptr) *plain = false;
    return string_with_escapes(decoded);
  }

  // The general case of string(): escapes, UTF-8 sequences, controls (refused).
  [[gnu::noinline]] bool string_with_escapes(std::string* decoded) {
    ++pos_;
    if (validated_ && decoded == nullptr) return skip_validated_string();
    while (pos_ < text_.size()) {
      // Plain ASCII runs (most of an SDP) in one step.
      size_t run = plain_run_end(text_.data(), pos_, text_.size());
      if (run > pos_) {
        if (decoded != nullptr) decoded->append(text_.substr(pos_, run - pos_));
        pos_ = run;
        if (pos_ >= text_.size()) break;
      }
      auto ch = static_cast<unsigned char>(text_[pos_]);
      if (ch == '"') {
        ++pos_;
        return true;
      }
      if (ch < 0x20) return false;
      if (ch == '\\') {
        if (pos_ + 1 >= text_.size()) return false;
        char escape = text_[pos_ + 1];
        pos_ += 2;
        char simple = 0;
        switch (escape) {
          case '"':
            simple = '"';
            break;
          case '\\':
            simple = '\\';
            break;
          case '/':
            simple = '/';
            break;
          case 'b':
            simple = '\b';
            break;
          case 'f':
            simple = '\f';
            break;
          case 'n':
            simple = '\n';
            break;
          case 'r':
            simple = '\r';
            break;
          case 't':
            simple = '\t';
            break;
          case 'u': {
            uint32_t unit;
            if (!read_hex4(text_, pos_, &unit)) return false;
            pos_ += 4;
            if (unit >= 0xDC00 && unit <= 0xDFFF) return false;  // lone low surrogate
            if (unit >= 0xD800 && unit <= 0xDBFF) {
              uint32_t low;
              if (pos_ + 6 > text_.size() || text_[pos_] != '\\' || text_[pos_ + 1] != 'u' ||
                  !read_hex4(text_, pos_ + 2, &low) || low < 0xDC00 || low > 0xDFFF) {
                return false;
              }
              pos_ += 6;
              unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
            }
            if (decoded != nullptr) append_utf8(decoded, unit);
            continue;
          }
          default:
            return false;
        }
        if (decoded != nullptr) decoded->push_back(simple);
        continue;
      }
      if (ch < 0x80) {
        if (decoded != nullptr) decoded->push_back(static_cast<char>(ch));
        ++pos_;
        continue;
      }
      size_t length = utf8_sequence(text_, pos_);
      if (length == 0) return false;
      if (decoded != nullptr) decoded->append(text_.substr(pos_, length));
      pos_ += length;
    }
    return false;
  }

  // The rest of a string known to be valid: up to the first quote not escaped.
  bool skip_validated_string() {
    const size_t start = pos_;
    const char* data = text_.data();
    while (pos_ < text_.size()) {
      const void* quote = std::memchr(data + pos_, '"', text_.size() - pos_);
      if (quote == nullptr) return false;
      size_t at = static_cast<size_t>(static_cast<const char*>(quote) - data);
      size_t backslashes = 0;
      while (at - backslashes > start && data[at - backslashes - 1] == '\\') ++backslashes;
      pos_ = at + 1;
      if (backslashes % 2 == 0) return true;
    }
    return false;
  }

  bool digits() {
    size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    return pos_ > start;
  }

  bool number() {
    if (peek('-')) ++pos_;
    if (peek('0')) {
      ++pos_;
    } else if (!digits()) {
      return false;
    }
    if (peek('.')) {
      ++pos_;
      if (!digits()) return false;
    }
    if (peek('e') || peek('E')) {
      ++pos_;
      if (peek('+') || peek('-')) ++pos_;
      if (!digits()) return false;
    }
    return true;
  }

  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  // Any value; its kind in `kind`.
  bool value(json_kind* kind, int depth) {
    if (pos_ >= text_.size()) return false;
    switch (text_[pos_]) {
      case '"':
        *kind = json_kind::string;
        return string(nullptr);
      case '{':
        *kind = json_kind::object;
        return container('{', '}', depth + 1);
      case '[':
        *kind = json_kind::array;
        return container('[', ']', depth + 1);
      case 't':
        *kind = json_kind::true_value;
        return literal("true");
      case 'f':
        *kind = json_kind::false_value;
        return literal("false");
      case 'n':
        *kind = json_kind::null_value;
        return literal("null");
      default:
        *kind = json_kind::number;
        return number();
    }
  }

  bool container(char open, char close, int depth) {
    if (depth > max_depth_ || !peek(open)) return false;
    ++pos_;
    skip_space();
    if (peek(close)) {
      ++pos_;
      return true;
    }
    for (;;) {
      if (open == '{') {
        if (!string(nullptr)) return false;
        skip_space();
        if (!peek(':')) return false;
        ++pos_;
        skip_space();
      }
      json_kind kind;
      if (!value(&kind, depth)) return false;
      skip_space();
      if (peek(close)) {
        ++pos_;
        return true;
      }
      if (!peek(',')) return false;
      ++pos_;
      skip_space();
    }
  }

 private:
  std::string_view text_;
  int max_depth_;
  bool validated_;
  size_t pos_ = 0;
};

}  // namespace

bool json_object_text::parse(std::string_view text, int max_depth) {
  return parse_text(text, max_depth, false);
}

bool json_object_text::parse_validated(std::string_view text) {
  return parse_text(text, 1 << 20, true);
}

bool json_object_text::parse_text(std::string_view text, int max_depth, bool validated) {
  members_.clear();
  escaped_keys_.clear();
  // Reused objects keep their capacity; a fresh one starts with room for a typical message.
  if (members_.capacity() < 16) members_.reserve(16);
  scanner in(text, max_depth, validated);
  in.skip_space();
  if (!in.peek('{')) return false;
  in.advance();
  in.skip_space();
  if (in.peek('}')) {
    in.advance();
  } else {
    std::string decoded;
    for (;;) {
      // A key without escapes (nearly all) is a view of the text; others are decoded once
      // into escaped_keys_ and their views made when parsing is done (it may reallocate).
      size_t key_start = in.position();
      bool plain = false;
      if (!in.string(nullptr, &plain)) return false;
      std::string_view raw_key = in.slice(key_start);
      raw_key = raw_key.substr(1, raw_key.size() - 2);
      member m{raw_key, kNotEscaped, json_value_text{}};
      if (!plain && raw_key.find('\\') != std::string_view::npos) {
        scanner again(in.slice(key_start), 1);
        decoded.clear();
        if (!again.string(&decoded)) return false;
        m.escaped_at = escaped_keys_.size();
        m.key = std::string_view(nullptr, decoded.size());  // pointed into escaped_keys_ below
        escaped_keys_ += decoded;
      }
      in.skip_space();
      if (!in.peek(':')) return false;
      in.advance();
      in.skip_space();
      size_t start = in.position();
      json_kind kind;
      if (!in.value(&kind, 1)) return false;
      m.value = json_value_text{kind, in.slice(start)};
      members_.push_back(m);
      in.skip_space();
      if (in.peek('}')) {
        in.advance();
        break;
      }
      if (!in.peek(',')) return false;
      in.advance();
      in.skip_space();
    }
  }
  in.skip_space();
  if (!in.at_end()) return false;
  for (auto& m : members_) {
    if (m.escaped_at != kNotEscaped) {
      m.key = std::string_view(escaped_keys_).substr(m.escaped_at, m.key.size());
    }
  }
  // A repeated key makes the object ambiguous (JavaScript keeps the last, others the first).
  for (size_t i = 1; i < members_.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (members_[i].key == members_[j].key) return false;
    }
  }
  return true;
}

const json_value_text* json_object_text::get(std::string_view key) const {
  for (const auto& m : members_) {
    // Lengths and first bytes first: most keys differ there, and a memcmp call adds up.
    if (m.key.size() == key.size() && (key.empty() || m.key[0] == key[0]) &&
        std::memcmp(m.key.data(), key.data(), key.size()) == 0) {
      return &m.value;
    }
  }
  return nullptr;
}

bool json_string_value(std::string_view raw, std::string* out) {
  out->clear();
  scanner in(raw, 1);
  return in.string(out) && in.at_end();
}

std::vector<json_value_text> json_array_elements(std::string_view raw) {
  std::vector<json_value_text> out;
  json_array_elements(raw, &out);
  return out;
}

void json_array_elements(std::string_view raw, std::vector<json_value_text>* out) {
  out->clear();
  scanner in(raw, 1 << 20, true);
  if (!in.peek('[')) return;
  in.advance();
  in.skip_space();
  if (in.peek(']')) return;
  for (;;) {
    size_t start = in.position();
    json_kind kind;
    if (!in.value(&kind, 0)) {
      out->clear();
      return;
    }
    out->push_back(json_value_text{kind, in.slice(start)});
    in.skip_space();
    if (!in.peek(',')) break;
    in.advance();
    in.skip_space();
  }
}

void json_append_string(std::string* out, std::string_view utf8) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char ch : utf8) {
    auto byte = static_cast<unsigned char>(ch);
    if (byte == '"' || byte == '\\') {
      out->push_back('\\');
      out->push_back(ch);
    } else if (byte < 0x20) {
      out->append("\\u00");
      out->push_back(kHex[byte >> 4]);
      out->push_back(kHex[byte & 0xF]);
    } else {
      out->push_back(ch);
    }
  }
  out->push_back('"');
}

bool json_number_is_zero(std::string_view raw) {
  size_t i = 0;
  if (i < raw.size() && raw[i] == '-') ++i;
  bool any_digit = false;
  for (; i < raw.size() && raw[i] != 'e' && raw[i] != 'E'; ++i) {
    if (raw[i] == '.') continue;
    if (raw[i] != '0') return false;
    any_digit = true;
  }
  return any_digit;
}

bool json_number_to_count(std::string_view raw, long long* out) {
  if (raw.empty() || raw.size() > 18) return false;
  long long value = 0;
  for (char ch : raw) {
    if (ch < '0' || ch > '9') return false;
    value = value * 10 + (ch - '0');
  }
  *out = value;
  return true;
}

}  // namespace p2p
