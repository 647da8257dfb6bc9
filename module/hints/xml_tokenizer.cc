#include "module/hints/xml_tokenizer.h"

#include <cstdint>

namespace p2p {
namespace hints {
namespace manifest_detail {

const std::string_view* xml_start_tag::attribute(std::string_view name) const {
  for (const xml_attribute& attr : *attributes) {
    if (attr.qname == name) return &attr.raw_value;
  }
  return nullptr;
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool is_name_start(char c) {
  unsigned char byte = static_cast<unsigned char>(c);
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' || byte >= 0x80;
}

bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

bool starts_with_at(std::string_view text, size_t pos, std::string_view prefix) {
  return text.size() - pos >= prefix.size() && text.compare(pos, prefix.size(), prefix) == 0;
}

void append_utf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Namespaces in XML 1.0: a QName is "local" or "prefix:local", both parts non-empty.
bool is_qname(std::string_view name) {
  size_t colon = name.find(':');
  if (colon == std::string_view::npos) return !name.empty();
  return colon != 0 && colon + 1 < name.size() &&
         name.find(':', colon + 1) == std::string_view::npos;
}

size_t scan_name(std::string_view bytes, size_t pos) {
  if (pos >= bytes.size() || !is_name_start(bytes[pos])) return pos;
  ++pos;
  while (pos < bytes.size() && is_name_char(bytes[pos])) ++pos;
  return pos;
}

struct namespace_binding {
  std::string_view prefix;
  std::string_view uri;
  size_t depth;
};

}  // namespace

bool decode_xml_text(std::string_view raw, std::string* out) {
  size_t pos = 0;
  while (pos < raw.size()) {
    size_t amp = raw.find('&', pos);
    if (out != nullptr)
      out->append(raw.substr(pos, amp == std::string_view::npos ? amp : amp - pos));
    if (amp == std::string_view::npos) return true;
    size_t semi = raw.find(';', amp + 1);
    if (semi == std::string_view::npos || semi - amp > 12) return false;
    std::string_view name = raw.substr(amp + 1, semi - amp - 1);
    uint32_t cp = 0;
    if (name == "lt") {
      cp = '<';
    } else if (name == "gt") {
      cp = '>';
    } else if (name == "amp") {
      cp = '&';
    } else if (name == "quot") {
      cp = '"';
    } else if (name == "apos") {
      cp = '\'';
    } else if (name.size() >= 2 && name[0] == '#') {
      bool hex = name[1] == 'x';
      std::string_view digits = name.substr(hex ? 2 : 1);
      if (digits.empty()) return false;
      for (char c : digits) {
        uint32_t digit;
        if (c >= '0' && c <= '9') {
          digit = static_cast<uint32_t>(c - '0');
        } else if (hex && c >= 'a' && c <= 'f') {
          digit = static_cast<uint32_t>(c - 'a' + 10);
        } else if (hex && c >= 'A' && c <= 'F') {
          digit = static_cast<uint32_t>(c - 'A' + 10);
        } else {
          return false;
        }
        cp = cp * (hex ? 16 : 10) + digit;
        if (cp > 0x10FFFF) return false;
      }
      if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    } else {
      return false;
    }
    if (out != nullptr) append_utf8(cp, *out);
    pos = semi + 1;
  }
  return true;
}

parse_outcome tokenize_xml(std::string_view bytes, const manifest_options& options,
                           xml_handler& handler) {
  std::vector<std::string_view> open;  // qnames of open elements
  std::vector<namespace_binding> bindings;
  std::vector<xml_attribute> attributes;
  bool root_seen = false;
  // A UTF-8 byte order mark is allowed before the XML declaration.
  size_t pos = bytes.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
  const size_t n = bytes.size();

  while (pos < n) {
    if (bytes[pos] != '<') {
      size_t text_end = bytes.find('<', pos);
      if (text_end == std::string_view::npos) text_end = n;
      std::string_view text = bytes.substr(pos, text_end - pos);
      if (open.empty()) {
        for (char c : text) {
          if (!is_space(c)) return {rewrite_status::malformed, "text outside the root element"};
        }
      } else {
        if (text.size() > options.max_line_bytes) {
          return {rewrite_status::too_large, "XML text run longer than the cap"};
        }
        if (!decode_xml_text(text, nullptr)) {
          return {rewrite_status::malformed, "bad entity reference in text"};
        }
        parse_outcome outcome = handler.text(text, false);
        if (outcome.status != rewrite_status::ok) return outcome;
      }
      pos = text_end;
      continue;
    }

    if (starts_with_at(bytes, pos, "<!--")) {
      size_t end = bytes.find("-->", pos + 4);
      if (end == std::string_view::npos) return {rewrite_status::malformed, "unterminated comment"};
      pos = end + 3;
      continue;
    }
    if (starts_with_at(bytes, pos, "<![CDATA[")) {
      if (open.empty()) return {rewrite_status::malformed, "CDATA outside the root element"};
      size_t end = bytes.find("]]>", pos + 9);
      if (end == std::string_view::npos) return {rewrite_status::malformed, "unterminated CDATA"};
      if (end - pos > options.max_line_bytes) {
        return {rewrite_status::too_large, "CDATA section longer than the cap"};
      }
      parse_outcome outcome = handler.text(bytes.substr(pos + 9, end - pos - 9), true);
      if (outcome.status != rewrite_status::ok) return outcome;
      pos = end + 3;
      continue;
    }
    if (starts_with_at(bytes, pos, "<!DOCTYPE")) {
      return {rewrite_status::unsupported, "DOCTYPE in an MPD"};
    }
    if (starts_with_at(bytes, pos, "<!"))
      return {rewrite_status::malformed, "bad markup declaration"};
    if (starts_with_at(bytes, pos, "<?")) {
      size_t end = bytes.find("?>", pos + 2);
      if (end == std::string_view::npos) {
        return {rewrite_status::malformed, "unterminated processing instruction"};
      }
      pos = end + 2;
      continue;
    }

    if (starts_with_at(bytes, pos, "</")) {
      const size_t begin = pos;
      size_t name_end = scan_name(bytes, pos + 2);
      std::string_view qname = bytes.substr(pos + 2, name_end - pos - 2);
      pos = name_end;
      while (pos < n && is_space(bytes[pos])) ++pos;
      if (qname.empty() || pos >= n || bytes[pos] != '>') {
        return {rewrite_status::malformed, "bad end tag"};
      }
      ++pos;
      if (open.empty() || open.back() != qname) {
        return {rewrite_status::malformed, "end tag does not match the open element"};
      }
      parse_outcome outcome = handler.end_element(xml_end_tag{qname, begin, pos});
      if (outcome.status != rewrite_status::ok) return outcome;
      while (!bindings.empty() && bindings.back().depth == open.size()) bindings.pop_back();
      open.pop_back();
      continue;
    }

    // Start tag.
    if (root_seen && open.empty()) return {rewrite_status::malformed, "content after the root"};
    xml_start_tag tag;
    tag.begin = pos;
    size_t name_end = scan_name(bytes, pos + 1);
    if (name_end == pos + 1) return {rewrite_status::malformed, "bad start tag"};
    tag.qname = bytes.substr(pos + 1, name_end - pos - 1);
    pos = name_end;
    attributes.clear();
    bool closed = false;
    while (!closed) {
      size_t blanks = pos;
      while (pos < n && is_space(bytes[pos])) ++pos;
      if (pos >= n) return {rewrite_status::malformed, "unterminated start tag"};
      if (bytes[pos] == '>') {
        ++pos;
        closed = true;
      } else if (bytes[pos] == '/') {
        if (pos + 1 >= n || bytes[pos + 1] != '>') return {rewrite_status::malformed, "bad '/'"};
        tag.self_closing = true;
        tag.slash = pos;
        pos += 2;
        closed = true;
      } else {
        if (pos == blanks)
          return {rewrite_status::malformed, "attribute without a blank before it"};
        size_t attr_end = scan_name(bytes, pos);
        if (attr_end == pos) return {rewrite_status::malformed, "bad attribute name"};
        xml_attribute attr;
        attr.qname = bytes.substr(pos, attr_end - pos);
        if (!is_qname(attr.qname)) return {rewrite_status::malformed, "bad attribute name"};
        pos = attr_end;
        while (pos < n && is_space(bytes[pos])) ++pos;
        if (pos >= n || bytes[pos] != '=')
          return {rewrite_status::malformed, "attribute without '='"};
        ++pos;
        while (pos < n && is_space(bytes[pos])) ++pos;
        if (pos >= n || (bytes[pos] != '"' && bytes[pos] != '\'')) {
          return {rewrite_status::malformed, "unquoted attribute value"};
        }
        size_t close = bytes.find(bytes[pos], pos + 1);
        if (close == std::string_view::npos) {
          return {rewrite_status::malformed, "unterminated attribute value"};
        }
        attr.raw_value = bytes.substr(pos + 1, close - pos - 1);
        if (attr.raw_value.find('<') != std::string_view::npos ||
            !decode_xml_text(attr.raw_value, nullptr)) {
          return {rewrite_status::malformed, "bad attribute value"};
        }
        pos = close + 1;
        if (attributes.size() >= options.max_xml_attributes) {
          return {rewrite_status::too_large, "more XML attributes than the cap"};
        }
        for (const xml_attribute& other : attributes) {
          if (other.qname == attr.qname) return {rewrite_status::malformed, "duplicate attribute"};
        }
        attributes.push_back(attr);
      }
      if (pos - tag.begin > options.max_line_bytes) {
        return {rewrite_status::too_large, "XML tag longer than the cap"};
      }
    }
    tag.end = pos;
    if (open.size() + 1 > options.max_xml_depth) {
      return {rewrite_status::too_large, "XML nesting deeper than the cap"};
    }
    open.push_back(tag.qname);
    root_seen = true;
    for (const xml_attribute& attr : attributes) {
      if (attr.qname == "xmlns") {
        bindings.push_back({"", attr.raw_value, open.size()});
      } else if (attr.qname.size() > 6 && attr.qname.compare(0, 6, "xmlns:") == 0) {
        bindings.push_back({attr.qname.substr(6), attr.raw_value, open.size()});
      }
    }
    size_t colon = tag.qname.find(':');
    tag.prefix = colon == std::string_view::npos ? std::string_view() : tag.qname.substr(0, colon);
    tag.local = colon == std::string_view::npos ? tag.qname : tag.qname.substr(colon + 1);
    if (!is_qname(tag.qname)) {
      return {rewrite_status::malformed, "bad qualified name"};
    }
    bool bound = tag.prefix.empty();
    for (size_t i = bindings.size(); i-- > 0;) {
      if (bindings[i].prefix == tag.prefix) {
        tag.ns = bindings[i].uri;
        bound = true;
        break;
      }
    }
    if (!bound) return {rewrite_status::malformed, "undeclared namespace prefix"};
    tag.attributes = &attributes;
    parse_outcome outcome = handler.start_element(tag);
    if (outcome.status != rewrite_status::ok) return outcome;
    if (tag.self_closing) {
      outcome = handler.end_element(xml_end_tag{tag.qname, tag.slash, tag.end});
      if (outcome.status != rewrite_status::ok) return outcome;
      while (!bindings.empty() && bindings.back().depth == open.size()) bindings.pop_back();
      open.pop_back();
    }
  }
  if (!open.empty()) return {rewrite_status::malformed, "unterminated element"};
  if (!root_seen) return {rewrite_status::malformed, "no root element"};
  return {};
}

}  // namespace manifest_detail
}  // namespace hints
}  // namespace p2p
