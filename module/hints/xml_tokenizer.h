// A small non-validating XML tokenizer for MPDs: enough of XML 1.0 + Namespaces to
// find elements, their attributes and the exact byte offsets where hints can be
// inserted, and strict about well-formedness so a broken document is passed through
// rather than rewritten. No DTDs (so no entity expansion), no external anything.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "module/hints/manifest_output.h"

namespace p2p {
namespace hints {
namespace manifest_detail {

struct xml_attribute {
  std::string_view qname;
  std::string_view raw_value;  // between the quotes, entities not decoded
};

struct xml_start_tag {
  std::string_view qname;
  std::string_view prefix;  // "" or "mpd" for "mpd:Representation"
  std::string_view local;
  std::string_view ns;  // resolved namespace URI (raw), "" when none is in scope
  size_t begin = 0;     // offset of '<'
  size_t end = 0;       // offset just after '>'
  bool self_closing = false;
  size_t slash = 0;  // offset of '/' in "/>" when self_closing
  const std::vector<xml_attribute>* attributes = nullptr;

  // Raw value of the unprefixed attribute `name`, or nullptr.
  const std::string_view* attribute(std::string_view name) const;
};

struct xml_end_tag {
  std::string_view qname;
  size_t begin = 0;  // offset of "</" (of '/' for a self-closing tag)
  size_t end = 0;    // offset just after '>'
};

class xml_handler {
 public:
  virtual ~xml_handler() = default;
  virtual parse_outcome start_element(const xml_start_tag& tag) = 0;
  // Also called for self-closing elements, right after start_element.
  virtual parse_outcome end_element(const xml_end_tag& tag) = 0;
  // Character data inside the root element; cdata: raw CDATA section content.
  virtual parse_outcome text(std::string_view raw, bool cdata) = 0;
};

parse_outcome tokenize_xml(std::string_view bytes, const manifest_options& options,
                           xml_handler& handler);

// Decodes the five predefined entities and character references into `out` (may be
// nullptr to validate only). False on a malformed or unknown reference.
bool decode_xml_text(std::string_view raw, std::string* out);

}  // namespace manifest_detail
}  // namespace hints
}  // namespace p2p
