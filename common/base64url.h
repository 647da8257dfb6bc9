// Base64url (RFC 4648 section 5) without padding: the encoding of every token,
// ticket and credential in this project, so they travel in URLs and headers as is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace p2p {

std::string base64url_encode(const uint8_t* data, size_t len);
std::string base64url_encode(std::string_view bytes);

// Strict: refuses padding, characters outside the alphabet, a length of 1 mod 4
// and non-zero trailing bits, so every value has exactly one encoding.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace p2p
