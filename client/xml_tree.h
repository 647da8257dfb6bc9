// A small, strict XML reader for MPDs: elements, attributes, text, comments, CDATA,
// processing instructions, the five predefined entities and character references,
// namespaces resolved to URIs. No DOCTYPE (so no entity expansion attacks), bounded
// depth, attribute count and element count.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace p2p {

struct xml_element {
  std::string name;  // local name, prefix removed
  std::string namespace_uri;
  std::vector<std::pair<std::string, std::string>> attributes;  // qualified names, decoded
  std::vector<std::unique_ptr<xml_element>> children;
  std::string text;  // concatenated character data directly inside this element

  // Value of the attribute with this (unprefixed) name, or nullptr.
  const std::string* attribute(const char* attribute_name) const;
  std::string attribute_or(const char* attribute_name, const std::string& fallback) const;
  // First child with this local name, or nullptr.
  const xml_element* child(const char* child_name) const;
};

enum class xml_status { ok, malformed, too_large, unsupported };

struct xml_limits {
  size_t max_depth = 64;
  size_t max_attributes = 128;
  size_t max_elements = 500000;
};

xml_status xml_parse(const std::string& text, const xml_limits& limits,
                     std::unique_ptr<xml_element>* root);

}  // namespace p2p
