// WebTorrent's "binary strings": 20-byte ids carried as JSON strings whose characters
// are U+0000..U+00FF, one character per byte (JavaScript's latin1 "binary" encoding).
// On the wire they are UTF-8, so byte 0xE9 arrives as the two bytes C3 A9.
#pragma once

#include <string>
#include <string_view>

namespace p2p {

// UTF-8 text to raw bytes; false if it is not valid UTF-8 or has a character above U+00FF.
bool binary_from_utf8(std::string_view utf8, std::string* out);

// Raw bytes to the UTF-8 text of the same characters.
std::string binary_to_utf8(std::string_view bytes);

}  // namespace p2p
