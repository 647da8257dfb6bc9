// Unsigned decimal text without locale or allocation, shared by the writers that build
// output piece by piece (the hints filter's manifest output, the signalling daemon's
// frames).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace p2p {

// Room for any uint64_t in decimal.
struct decimal_digits {
  char text[20];
  size_t size = 0;
  std::string_view view() const { return {text, size}; }
};

inline decimal_digits format_decimal(uint64_t value) {
  char reversed[20];
  size_t n = 0;
  do {
    reversed[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  decimal_digits out;
  while (n > 0) out.text[out.size++] = reversed[--n];
  return out;
}

}  // namespace p2p
