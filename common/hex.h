// The value of one hexadecimal digit, shared by every decoder of percent-escapes, JSON
// \u escapes and hex digests in the project.
#pragma once

namespace p2p {

// 0..15, or -1 when `c` is not a hexadecimal digit (either case).
inline int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace p2p
