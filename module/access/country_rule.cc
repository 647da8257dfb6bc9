#include "module/access/country_rule.h"

namespace p2p {
namespace {

char upper(char c) { return (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c; }

bool letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

}  // namespace

bool country_code_valid(std::string_view code) {
  return code.size() == 2 && letter(code[0]) && letter(code[1]);
}

bool country_allowed(country_list_kind kind, const std::string_view* codes, size_t count,
                     std::string_view value, bool allow_unknown) {
  if (!country_code_valid(value)) return allow_unknown;
  bool listed = false;
  for (size_t i = 0; i < count && !listed; ++i)
    listed = codes[i].size() == 2 && upper(codes[i][0]) == upper(value[0]) &&
             upper(codes[i][1]) == upper(value[1]);
  return kind == country_list_kind::allow ? listed : !listed;
}

}  // namespace p2p
