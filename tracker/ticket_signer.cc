#include "tracker/ticket_signer.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <new>

#include "common/base64url.h"
#include "common/hmac_sha256.h"

namespace p2p {
namespace {

constexpr size_t kBlock = 64;  // SHA-256 block size
constexpr size_t kMaxTicketLength = 256;
constexpr size_t kSignatureChars = 43;

// base64url without padding of an HMAC-SHA256 digest, as base64url_encode writes it.
void encode_signature(const uint8_t digest[32], char out[kSignatureChars]) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t o = 0;
  for (size_t i = 0; i < 30; i += 3) {
    uint32_t v = (uint32_t{digest[i]} << 16) | (uint32_t{digest[i + 1]} << 8) | digest[i + 2];
    out[o++] = kAlphabet[(v >> 18) & 63];
    out[o++] = kAlphabet[(v >> 12) & 63];
    out[o++] = kAlphabet[(v >> 6) & 63];
    out[o++] = kAlphabet[v & 63];
  }
  uint32_t v = (uint32_t{digest[30]} << 16) | (uint32_t{digest[31]} << 8);
  out[o++] = kAlphabet[(v >> 18) & 63];
  out[o++] = kAlphabet[(v >> 12) & 63];
  out[o] = kAlphabet[(v >> 6) & 63];
}

bool parse_expiry(std::string_view text, int64_t* out) {
  if (text.empty() || text.size() > 12) return false;
  if (text.size() > 1 && text[0] == '0') return false;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

EVP_MD_CTX* keyed_state(const uint8_t* key, uint8_t pad) {
  uint8_t block[kBlock];
  for (size_t i = 0; i < kBlock; ++i) block[i] = key[i] ^ pad;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx, block, kBlock) != 1) {
    EVP_MD_CTX_free(ctx);
    throw std::bad_alloc();
  }
  OPENSSL_cleanse(block, sizeof block);
  return ctx;
}

}  // namespace

ticket_signer::ticket_signer(std::string_view secret) {
  // RFC 2104: a key longer than the block is replaced by its digest, a shorter one is
  // padded with zeros.
  uint8_t key[kBlock] = {};
  if (secret.size() > kBlock) {
    sha256_digest d = sha256(secret);
    std::memcpy(key, d.data(), d.size());
  } else {
    std::memcpy(key, secret.data(), secret.size());
  }
  inner_ = keyed_state(key, 0x36);
  try {
    outer_ = keyed_state(key, 0x5c);
  } catch (...) {
    EVP_MD_CTX_free(inner_);
    throw;
  }
  OPENSSL_cleanse(key, sizeof key);
}

ticket_signer::~ticket_signer() {
  EVP_MD_CTX_free(inner_);
  EVP_MD_CTX_free(outer_);
}

void ticket_signer::mac(std::string_view message, uint8_t out[32]) const {
  // One scratch context per thread: copying a prepared state is the cheap part.
  static thread_local struct scratch_ctx {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~scratch_ctx() { EVP_MD_CTX_free(ctx); }
  } scratch;
  if (scratch.ctx == nullptr) throw std::bad_alloc();
  uint8_t inner_digest[32];
  unsigned int len = 0;
  if (EVP_MD_CTX_copy_ex(scratch.ctx, inner_) != 1 ||
      EVP_DigestUpdate(scratch.ctx, message.data(), message.size()) != 1 ||
      EVP_DigestFinal_ex(scratch.ctx, inner_digest, &len) != 1 ||
      EVP_MD_CTX_copy_ex(scratch.ctx, outer_) != 1 ||
      EVP_DigestUpdate(scratch.ctx, inner_digest, sizeof inner_digest) != 1 ||
      EVP_DigestFinal_ex(scratch.ctx, out, &len) != 1)
    throw std::bad_alloc();
}

std::string ticket_signer::sign(const ticket_claims& claims) const {
  if (!ticket_id_valid(claims.peer_id) || !ticket_id_valid(claims.swarm_id) || claims.expiry < 0)
    return "";
  std::string body =
      "v1." + claims.peer_id + "." + claims.swarm_id + "." + std::to_string(claims.expiry);
  uint8_t digest[32];
  mac(body, digest);
  return body + "." + base64url_encode(digest, sizeof digest);
}

ticket_status ticket_signer::verify(std::string_view ticket, int64_t now, int64_t skew_seconds,
                                    ticket_claims* out) const {
  if (ticket.size() > kMaxTicketLength) return ticket_status::malformed;
  std::string_view fields[5];
  size_t n = 0;
  size_t start = 0;
  for (size_t i = 0; i <= ticket.size(); ++i) {
    if (i == ticket.size() || ticket[i] == '.') {
      if (n == 5) return ticket_status::malformed;
      fields[n++] = ticket.substr(start, i - start);
      start = i + 1;
    }
  }
  if (n != 5 || fields[0] != "v1") return ticket_status::malformed;
  int64_t expiry = 0;
  if (!ticket_id_valid(fields[1]) || !ticket_id_valid(fields[2]) ||
      !parse_expiry(fields[3], &expiry))
    return ticket_status::malformed;
  // 32 bytes are 43 base64url characters; other lengths never decode to 32 bytes.
  if (fields[4].size() != kSignatureChars) return ticket_status::malformed;
  // The signed part is the ticket up to its last '.', byte for byte.
  uint8_t digest[32];
  mac(ticket.substr(0, ticket.size() - fields[4].size() - 1), digest);
  // Compared in encoded form: the expected text is the only canonical encoding of the
  // digest, so no decode (and no allocation) on the way to `ok`. A mismatch is then
  // told apart as before: not base64url is malformed, otherwise a wrong signature.
  char expected[kSignatureChars];
  encode_signature(digest, expected);
  if (!constant_time_equal(fields[4], std::string_view(expected, kSignatureChars)))
    return base64url_decode(fields[4]) ? ticket_status::bad_signature : ticket_status::malformed;
  if (expiry + skew_seconds < now) return ticket_status::expired;
  if (out) {
    out->peer_id.assign(fields[1]);
    out->swarm_id.assign(fields[2]);
    out->expiry = expiry;
  }
  return ticket_status::ok;
}

}  // namespace p2p
