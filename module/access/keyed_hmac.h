// HMAC-SHA256 with the key schedule done once: the inner and outer pad blocks are
// hashed when the key is loaded, so each message costs two short SHA-256 runs. OpenSSL
// 3's one-shot HMAC() fetches its algorithms and rehashes the pads on every call,
// about ten times slower for a token-sized message (tests/bench/access_bench.sh).
// Same output as p2p::hmac_sha256 (common/hmac_sha256.h).
#pragma once

#include <string_view>

#include "common/hmac_sha256.h"

struct evp_md_ctx_st;
struct evp_md_st;

namespace p2p {

class keyed_hmac_sha256 {
 public:
  // Throws std::bad_alloc or std::runtime_error when OpenSSL cannot set it up.
  explicit keyed_hmac_sha256(std::string_view secret);
  ~keyed_hmac_sha256();
  keyed_hmac_sha256(const keyed_hmac_sha256&) = delete;
  keyed_hmac_sha256& operator=(const keyed_hmac_sha256&) = delete;

  // Safe to call from several threads at once (the precomputed states are only read).
  sha256_digest compute(std::string_view message) const;

 private:
  void release() noexcept;

  evp_md_st* digest_ = nullptr;
  evp_md_ctx_st* inner_ = nullptr;
  evp_md_ctx_st* outer_ = nullptr;
};

}  // namespace p2p
