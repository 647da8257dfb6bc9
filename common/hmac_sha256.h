// HMAC-SHA256 and SHA-256 through OpenSSL, plus a constant-time comparison.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace p2p {

using sha256_digest = std::array<uint8_t, 32>;

sha256_digest hmac_sha256(std::string_view key, std::string_view message);
sha256_digest sha256(std::string_view bytes);
std::string to_hex(const uint8_t* data, size_t len);
std::string to_hex(const sha256_digest& digest);

// Compares without an early exit, so timing says nothing about where a forged
// signature first differs.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace p2p
