#include "signalling/binary_string.h"

namespace p2p {

bool binary_from_utf8(std::string_view utf8, std::string* out) {
  out->clear();
  out->reserve(utf8.size());
  for (size_t i = 0; i < utf8.size(); ++i) {
    auto byte = static_cast<unsigned char>(utf8[i]);
    if (byte < 0x80) {
      out->push_back(static_cast<char>(byte));
      continue;
    }
    // Only the two-byte forms C2 80..C3 BF encode U+0080..U+00FF.
    if ((byte != 0xC2 && byte != 0xC3) || i + 1 >= utf8.size()) return false;
    auto next = static_cast<unsigned char>(utf8[i + 1]);
    if ((next & 0xC0) != 0x80) return false;
    out->push_back(static_cast<char>(((byte & 0x1F) << 6) | (next & 0x3F)));
    ++i;
  }
  return true;
}

std::string binary_to_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char ch : bytes) {
    auto byte = static_cast<unsigned char>(ch);
    if (byte < 0x80) {
      out.push_back(ch);
    } else {
      out.push_back(static_cast<char>(0xC0 | (byte >> 6)));
      out.push_back(static_cast<char>(0x80 | (byte & 0x3F)));
    }
  }
  return out;
}

}  // namespace p2p
