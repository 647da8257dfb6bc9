#include "tracker/peers_request_parser.h"

#include <cstdint>

#include "tracker/ticket.h"

namespace p2p {
namespace {

// A member value of the accepted subset.
struct scalar {
  enum class kind { string, integer, literal } type = kind::literal;
  std::string_view text;  // the string's characters (no quotes)
  int64_t integer = 0;
};

class flat_object_reader {
 public:
  explicit flat_object_reader(std::string_view body) : p_(body.data()), end_(p_ + body.size()) {}

  void skip_space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  bool take(char c) {
    skip_space();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  bool at_end() {
    skip_space();
    return p_ == end_;
  }
  // A string of printable ASCII without escapes: exactly its bytes to jansson too.
  bool string(std::string_view* out) {
    if (!take('"')) return false;
    const char* start = p_;
    while (p_ < end_ && *p_ != '"') {
      unsigned char c = static_cast<unsigned char>(*p_);
      if (c < 0x20 || c > 0x7e || c == '\\') return false;
      ++p_;
    }
    if (p_ == end_) return false;
    *out = std::string_view(start, static_cast<size_t>(p_ - start));
    ++p_;
    return true;
  }
  bool value(scalar* out) {
    skip_space();
    if (p_ == end_) return false;
    if (*p_ == '"') {
      out->type = scalar::kind::string;
      return string(&out->text);
    }
    if (*p_ >= '0' && *p_ <= '9') {
      out->type = scalar::kind::integer;
      // "0" alone or no leading zero; 18 digits cannot overflow int64.
      const char* start = p_;
      int64_t v = 0;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
        if (p_ - start == 18) return false;
        v = v * 10 + (*p_ - '0');
        ++p_;
      }
      if (*start == '0' && p_ - start > 1) return false;
      out->integer = v;
      return delimited();
    }
    out->type = scalar::kind::literal;
    for (std::string_view word :
         {std::string_view("true"), std::string_view("false"), std::string_view("null")}) {
      if (static_cast<size_t>(end_ - p_) >= word.size() &&
          std::string_view(p_, word.size()) == word) {
        p_ += word.size();
        return delimited();
      }
    }
    return false;
  }

 private:
  // A number or literal must end where a JSON token can: "1.5", "12e3", "truex" are
  // left to jansson.
  bool delimited() {
    if (p_ == end_) return true;
    char c = *p_;
    return c == ',' || c == '}' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
  }

  const char* p_;
  const char* end_;
};

bool id_value(const scalar& v, std::string* out) {
  if (v.type != scalar::kind::string || !ticket_id_valid(v.text)) return false;
  out->assign(v.text);
  return true;
}

bool uint_value(const scalar& v, int64_t max, uint32_t* out) {
  if (v.type != scalar::kind::integer || v.integer > max) return false;
  *out = static_cast<uint32_t>(v.integer);
  return true;
}

}  // namespace

bool parse_peers_request_fast(std::string_view body, const json_caps& caps, peers_request* out) {
  if (body.size() > caps.max_bytes || caps.max_depth < 1) return false;
  flat_object_reader in(body);
  if (!in.take('{')) return false;
  *out = peers_request{};
  // Member names seen so far: jansson refuses duplicates, unknown ones included.
  constexpr size_t kMaxTracked = 64;
  std::string_view names[kMaxTracked];
  size_t count = 0;
  bool has_ticket = false;
  if (!in.take('}')) {
    do {
      std::string_view name;
      scalar v;
      if (!in.string(&name) || !in.take(':') || !in.value(&v)) return false;
      if (count == caps.max_members || count == kMaxTracked) return false;
      for (size_t i = 0; i < count; ++i)
        if (names[i] == name) return false;
      names[count++] = name;
      if (name == "ticket") {
        if (v.type != scalar::kind::string || v.text.size() > 512) return false;
        out->ticket.assign(v.text);
        has_ticket = true;
      } else if (name == "numwant") {
        if (!uint_value(v, kMaxNumwant, &out->numwant)) return false;
        out->has_numwant = true;
      } else if (name == "peer_id") {
        if (!id_value(v, &out->peer_id)) return false;
      } else if (name == "swarm") {
        if (!id_value(v, &out->swarm)) return false;
      } else if (name == "customer") {
        if (!id_value(v, &out->customer)) return false;
      } else if (name == "network") {
        if (v.type != scalar::kind::string || !network_type_parse(v.text, &out->network))
          return false;
        out->has_network = true;
      } else if (name == "upload_kbps") {
        if (!uint_value(v, kMaxUploadKbps, &out->upload_kbps)) return false;
        out->has_upload = true;
      }
    } while (in.take(','));
    if (!in.take('}')) return false;
  }
  return has_ticket && in.at_end();
}

}  // namespace p2p
