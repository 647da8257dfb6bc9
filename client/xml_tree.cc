#include "client/xml_tree.h"

#include <cstring>
#include <map>

namespace p2p {

const std::string* xml_element::attribute(const char* attribute_name) const {
  for (const auto& a : attributes) {
    if (a.first == attribute_name) return &a.second;
  }
  return nullptr;
}

std::string xml_element::attribute_or(const char* attribute_name,
                                      const std::string& fallback) const {
  const std::string* value = attribute(attribute_name);
  return value ? *value : fallback;
}

const xml_element* xml_element::child(const char* child_name) const {
  for (const auto& c : children) {
    if (c->name == child_name) return c.get();
  }
  return nullptr;
}

namespace {

bool name_start(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || c >= 0x80;
}

bool name_char(unsigned char c) {
  return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

void append_utf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes entities in [begin, end) into out; false on an unknown or broken one.
bool decode_text(const std::string& s, size_t begin, size_t end, std::string* out) {
  for (size_t i = begin; i < end; ++i) {
    char c = s[i];
    if (c == '<') return false;
    if (c != '&') {
      out->push_back(c);
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string::npos || semi >= end || semi - i > 12) return false;
    std::string entity = s.substr(i + 1, semi - i - 1);
    if (entity == "lt") {
      out->push_back('<');
    } else if (entity == "gt") {
      out->push_back('>');
    } else if (entity == "amp") {
      out->push_back('&');
    } else if (entity == "quot") {
      out->push_back('"');
    } else if (entity == "apos") {
      out->push_back('\'');
    } else if (entity.size() >= 2 && entity[0] == '#') {
      bool hex = entity[1] == 'x';
      size_t k = hex ? 2 : 1;
      if (k >= entity.size()) return false;
      uint32_t cp = 0;
      for (; k < entity.size(); ++k) {
        char d = entity[k];
        int v;
        if (d >= '0' && d <= '9') {
          v = d - '0';
        } else if (hex && d >= 'a' && d <= 'f') {
          v = d - 'a' + 10;
        } else if (hex && d >= 'A' && d <= 'F') {
          v = d - 'A' + 10;
        } else {
          return false;
        }
        cp = cp * (hex ? 16 : 10) + v;
        if (cp > 0x10FFFF) return false;
      }
      if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
      append_utf8(out, cp);
    } else {
      return false;
    }
    i = semi;
  }
  return true;
}

struct open_element {
  xml_element* element;
  std::string qualified_name;
  std::map<std::string, std::string> namespaces;  // prefix ("" default) -> uri, in scope
};

}  // namespace

xml_status xml_parse(const std::string& s, const xml_limits& limits,
                     std::unique_ptr<xml_element>* root) {
  root->reset();
  std::vector<open_element> stack;
  size_t elements = 0;
  size_t i = 0;
  if (s.compare(0, 3, "\xEF\xBB\xBF") == 0) i = 3;
  bool root_closed = false;
  while (i < s.size()) {
    if (s[i] != '<') {
      size_t next = s.find('<', i);
      if (next == std::string::npos) next = s.size();
      if (stack.empty()) {
        for (size_t k = i; k < next; ++k) {
          if (!is_space(s[k])) return xml_status::malformed;
        }
      } else if (!decode_text(s, i, next, &stack.back().element->text)) {
        return xml_status::malformed;
      }
      i = next;
      continue;
    }
    if (s.compare(i, 4, "<!--") == 0) {
      size_t end = s.find("-->", i + 4);
      if (end == std::string::npos) return xml_status::malformed;
      i = end + 3;
      continue;
    }
    if (s.compare(i, 9, "<![CDATA[") == 0) {
      size_t end = s.find("]]>", i + 9);
      if (end == std::string::npos || stack.empty()) return xml_status::malformed;
      stack.back().element->text.append(s, i + 9, end - i - 9);
      i = end + 3;
      continue;
    }
    if (s.compare(i, 2, "<!") == 0) return xml_status::unsupported;  // DOCTYPE and friends
    if (s.compare(i, 2, "<?") == 0) {
      size_t end = s.find("?>", i + 2);
      if (end == std::string::npos) return xml_status::malformed;
      i = end + 2;
      continue;
    }
    if (s.compare(i, 2, "</") == 0) {
      size_t end = s.find('>', i + 2);
      if (end == std::string::npos || stack.empty()) return xml_status::malformed;
      std::string name = s.substr(i + 2, end - i - 2);
      while (!name.empty() && is_space(name.back())) name.pop_back();
      if (name != stack.back().qualified_name) return xml_status::malformed;
      stack.pop_back();
      if (stack.empty()) root_closed = true;
      i = end + 1;
      continue;
    }
    // Start tag.
    if (root_closed) return xml_status::malformed;
    size_t k = i + 1;
    if (k >= s.size() || !name_start(static_cast<unsigned char>(s[k]))) {
      return xml_status::malformed;
    }
    size_t name_begin = k;
    while (k < s.size() && name_char(static_cast<unsigned char>(s[k]))) ++k;
    std::string qualified = s.substr(name_begin, k - name_begin);
    if (stack.size() >= limits.max_depth) return xml_status::too_large;
    if (++elements > limits.max_elements) return xml_status::too_large;
    auto element = std::make_unique<xml_element>();
    std::vector<std::pair<std::string, std::string>> raw_attributes;
    bool self_closing = false;
    for (;;) {
      size_t before = k;
      while (k < s.size() && is_space(s[k])) ++k;
      if (k >= s.size()) return xml_status::malformed;
      if (s[k] == '>') {
        ++k;
        break;
      }
      if (s[k] == '/') {
        if (k + 1 >= s.size() || s[k + 1] != '>') return xml_status::malformed;
        self_closing = true;
        k += 2;
        break;
      }
      if (k == before) return xml_status::malformed;  // attributes need white space
      if (!name_start(static_cast<unsigned char>(s[k]))) return xml_status::malformed;
      size_t attribute_begin = k;
      while (k < s.size() && name_char(static_cast<unsigned char>(s[k]))) ++k;
      std::string attribute_name = s.substr(attribute_begin, k - attribute_begin);
      while (k < s.size() && is_space(s[k])) ++k;
      if (k >= s.size() || s[k] != '=') return xml_status::malformed;
      ++k;
      while (k < s.size() && is_space(s[k])) ++k;
      if (k >= s.size() || (s[k] != '"' && s[k] != '\'')) return xml_status::malformed;
      char quote = s[k];
      size_t close = s.find(quote, k + 1);
      if (close == std::string::npos) return xml_status::malformed;
      std::string value;
      if (!decode_text(s, k + 1, close, &value)) return xml_status::malformed;
      for (const auto& a : raw_attributes) {
        if (a.first == attribute_name) return xml_status::malformed;
      }
      raw_attributes.emplace_back(std::move(attribute_name), std::move(value));
      if (raw_attributes.size() > limits.max_attributes) return xml_status::too_large;
      k = close + 1;
    }
    open_element entry;
    entry.element = element.get();
    entry.qualified_name = qualified;
    if (!stack.empty()) entry.namespaces = stack.back().namespaces;
    for (const auto& a : raw_attributes) {
      if (a.first == "xmlns") {
        entry.namespaces[""] = a.second;
      } else if (a.first.compare(0, 6, "xmlns:") == 0) {
        entry.namespaces[a.first.substr(6)] = a.second;
      }
    }
    size_t colon = qualified.find(':');
    std::string prefix = colon == std::string::npos ? "" : qualified.substr(0, colon);
    element->name = colon == std::string::npos ? qualified : qualified.substr(colon + 1);
    auto ns = entry.namespaces.find(prefix);
    if (ns != entry.namespaces.end()) {
      element->namespace_uri = ns->second;
    } else if (!prefix.empty()) {
      return xml_status::malformed;  // undeclared prefix
    }
    for (auto& a : raw_attributes) {
      size_t c = a.first.find(':');
      if (c != std::string::npos && a.first.compare(0, c, "xmlns") != 0 &&
          a.first.compare(0, c, "xml") != 0) {
        a.first = a.first.substr(c + 1);
      }
    }
    element->attributes = std::move(raw_attributes);
    xml_element* raw = element.get();
    if (stack.empty()) {
      if (*root) return xml_status::malformed;
      *root = std::move(element);
    } else {
      stack.back().element->children.push_back(std::move(element));
    }
    if (self_closing) {
      if (stack.empty()) root_closed = true;
    } else {
      entry.element = raw;
      stack.push_back(std::move(entry));
    }
    i = k;
  }
  if (!stack.empty() || !*root) return xml_status::malformed;
  return xml_status::ok;
}

}  // namespace p2p
