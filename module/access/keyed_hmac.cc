#include "module/access/keyed_hmac.h"

#include <openssl/evp.h>

#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>

namespace p2p {
namespace {

constexpr size_t kBlockSize = 64;  // SHA-256 block

struct md_ctx_deleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

keyed_hmac_sha256::keyed_hmac_sha256(std::string_view secret) {
  digest_ = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  inner_ = EVP_MD_CTX_new();
  outer_ = EVP_MD_CTX_new();
  if (!digest_ || !inner_ || !outer_) {
    release();
    throw std::bad_alloc();
  }
  uint8_t key[kBlockSize] = {};
  if (secret.size() > kBlockSize) {  // RFC 2104: longer keys are hashed first
    sha256_digest hashed = sha256(secret);
    std::memcpy(key, hashed.data(), hashed.size());
  } else {
    std::memcpy(key, secret.data(), secret.size());
  }
  uint8_t ipad[kBlockSize], opad[kBlockSize];
  for (size_t i = 0; i < kBlockSize; ++i) {
    ipad[i] = uint8_t(key[i] ^ 0x36);
    opad[i] = uint8_t(key[i] ^ 0x5c);
  }
  bool ok = EVP_DigestInit_ex(inner_, digest_, nullptr) == 1 &&
            EVP_DigestUpdate(inner_, ipad, kBlockSize) == 1 &&
            EVP_DigestInit_ex(outer_, digest_, nullptr) == 1 &&
            EVP_DigestUpdate(outer_, opad, kBlockSize) == 1;
  OPENSSL_cleanse(key, sizeof(key));
  OPENSSL_cleanse(ipad, sizeof(ipad));
  OPENSSL_cleanse(opad, sizeof(opad));
  if (!ok) {
    release();
    throw std::runtime_error("SHA-256 initialisation failed");
  }
}

keyed_hmac_sha256::~keyed_hmac_sha256() { release(); }

void keyed_hmac_sha256::release() noexcept {
  EVP_MD_CTX_free(inner_);
  EVP_MD_CTX_free(outer_);
  EVP_MD_free(digest_);
  inner_ = outer_ = nullptr;
  digest_ = nullptr;
}

sha256_digest keyed_hmac_sha256::compute(std::string_view message) const {
  sha256_digest inner_hash{}, out{};
  std::unique_ptr<EVP_MD_CTX, md_ctx_deleter> work(EVP_MD_CTX_new());
  unsigned int len = 0;
  if (!work || EVP_MD_CTX_copy_ex(work.get(), inner_) != 1 ||
      EVP_DigestUpdate(work.get(), message.data(), message.size()) != 1 ||
      EVP_DigestFinal_ex(work.get(), inner_hash.data(), &len) != 1 ||
      EVP_MD_CTX_copy_ex(work.get(), outer_) != 1 ||
      EVP_DigestUpdate(work.get(), inner_hash.data(), inner_hash.size()) != 1 ||
      EVP_DigestFinal_ex(work.get(), out.data(), &len) != 1)
    throw std::runtime_error("SHA-256 failed");
  return out;
}

}  // namespace p2p
