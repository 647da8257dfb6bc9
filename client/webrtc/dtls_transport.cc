#include "client/webrtc/dtls_transport.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/time.h>

#include <algorithm>
#include <cctype>

#include "client/webrtc/event_loop.h"

namespace p2p {
namespace webrtc {

namespace {

// The whole handshake, retransmissions included, must finish within this.
constexpr unsigned kHandshakeDeadlineMs = 30000;
// Browsers offer these (ECDSA first: our certificate is P-256); RSA for peers that use it.
constexpr const char* kCipherList =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";

std::string openssl_error(const char* what) {
  std::string text = what;
  unsigned long code = ERR_get_error();
  if (code != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    text += ": ";
    text += buffer;
  }
  ERR_clear_error();
  return text;
}

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

}  // namespace

std::shared_ptr<dtls_certificate> dtls_certificate::generate() {
  std::shared_ptr<dtls_certificate> result(new dtls_certificate());
  result->key_ = EVP_EC_gen("P-256");
  if (!result->key_) return nullptr;
  X509* certificate = X509_new();
  result->certificate_ = certificate;
  uint64_t serial = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof serial);
  X509_set_version(certificate, 2);
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(certificate), serial >> 1);
  // Backdated a day against clock skew; the peer checks the fingerprint, not the dates.
  X509_gmtime_adj(X509_getm_notBefore(certificate), -24 * 3600);
  X509_gmtime_adj(X509_getm_notAfter(certificate), 30 * 24 * 3600);
  X509_set_pubkey(certificate, result->key_);
  X509_NAME* name = X509_get_subject_name(certificate);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("p2p-webrtc"), -1, -1, 0);
  X509_set_issuer_name(certificate, name);
  if (X509_sign(certificate, result->key_, EVP_sha256()) == 0) return nullptr;
  result->fingerprint_ = fingerprint_of(certificate);
  return result;
}

dtls_certificate::~dtls_certificate() {
  X509_free(certificate_);
  EVP_PKEY_free(key_);
}

std::string dtls_certificate::fingerprint_of(X509* certificate) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (!X509_digest(certificate, EVP_sha256(), digest, &size)) return "";
  static const char kHex[] = "0123456789ABCDEF";
  std::string text;
  for (unsigned i = 0; i < size; ++i) {
    if (i) text += ':';
    text += kHex[digest[i] >> 4];
    text += kHex[digest[i] & 15];
  }
  return text;
}

dtls_transport::dtls_transport(event_loop& loop, datagram_transport& lower,
                               std::shared_ptr<dtls_certificate> certificate, bool is_client,
                               const std::string& remote_fingerprint)
    : loop_(loop),
      lower_(lower),
      certificate_(std::move(certificate)),
      is_client_(is_client),
      remote_fingerprint_(upper(remote_fingerprint)) {
  ERR_clear_error();
  context_ = SSL_CTX_new(DTLS_method());
  SSL_CTX_set_min_proto_version(context_, DTLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(context_, DTLS1_2_VERSION);
  SSL_CTX_set_cipher_list(context_, kCipherList);
  SSL_CTX_set1_groups_list(context_, "X25519:P-256:P-384");
  SSL_CTX_set_options(context_, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(context_, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_read_ahead(context_, 1);
  SSL_CTX_use_certificate(context_, certificate_->certificate());
  SSL_CTX_use_PrivateKey(context_, certificate_->key());
  // Self-signed certificates fail chain verification by design; the callback accepts
  // exactly the certificate whose fingerprint the peer's SDP announced.
  SSL_CTX_set_verify(context_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                     reinterpret_cast<SSL_verify_cb>(verify_callback));

  ssl_ = SSL_new(context_);
  SSL_set_app_data(ssl_, this);
  SSL_set_mtu(ssl_, kMtu);
  if (is_client_)
    SSL_set_connect_state(ssl_);
  else
    SSL_set_accept_state(ssl_);

  incoming_ = BIO_new(BIO_s_mem());
  // An empty incoming buffer means "retry later", not end of file.
  BIO_set_mem_eof_return(incoming_, -1);
  // The outgoing BIO hands each record flight to ICE as one datagram; a memory BIO would
  // lose the datagram boundaries.
  outgoing_method_ = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "p2p-dtls-out");
  BIO_meth_set_write(outgoing_method_, bio_write);
  BIO_meth_set_ctrl(outgoing_method_, bio_ctrl);
  BIO* outgoing = BIO_new(outgoing_method_);
  BIO_set_data(outgoing, this);
  BIO_set_init(outgoing, 1);
  SSL_set_bio(ssl_, incoming_, outgoing);

  lower_.set_receive_handler(
      [this](const uint8_t* data, size_t size) { on_lower_receive(data, size); });
  lower_.set_state_handler([this](transport_state state) { on_lower_state(state); });
}

dtls_transport::~dtls_transport() {
  lower_.set_receive_handler(nullptr);
  lower_.set_state_handler(nullptr);
  loop_.cancel_timer(retransmission_timer_);
  loop_.cancel_timer(handshake_deadline_timer_);
  SSL_free(ssl_);  // frees both BIOs
  SSL_CTX_free(context_);
  BIO_meth_free(outgoing_method_);
}

void dtls_transport::start() {
  if (started_) return;
  started_ = true;
  change_state(transport_state::connecting);
  handshake_deadline_timer_ = loop_.add_timer(kHandshakeDeadlineMs, [this] {
    handshake_deadline_timer_ = 0;
    if (state() == transport_state::connecting) fail("DTLS handshake timed out");
    return false;
  });
  if (is_client_) continue_handshake();
}

bool dtls_transport::send(const uint8_t* data, size_t size) {
  if (state() != transport_state::connected || size == 0) return false;
  ERR_clear_error();
  int written = SSL_write(ssl_, data, static_cast<int>(size));
  if (written != static_cast<int>(size)) {
    int error = SSL_get_error(ssl_, written);
    if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE)
      fail(openssl_error("SSL_write"));
    return false;
  }
  return true;
}

void dtls_transport::close() {
  if (state() == transport_state::connected) {
    ERR_clear_error();
    SSL_shutdown(ssl_);
    ERR_clear_error();
  }
  loop_.cancel_timer(retransmission_timer_);
  retransmission_timer_ = 0;
  change_state(transport_state::closed);
}

void dtls_transport::on_lower_receive(const uint8_t* data, size_t size) {
  // RFC 7983 demultiplexing: DTLS records start with a content type in 20..63.
  if (size == 0 || data[0] < 20 || data[0] > 63) return;
  if (state() == transport_state::failed || state() == transport_state::closed) return;
  BIO_write(incoming_, data, static_cast<int>(size));
  if (state() == transport_state::connected)
    read_application_data();
  else
    continue_handshake();
}

void dtls_transport::on_lower_state(transport_state state) {
  if (state == transport_state::connected) {
    start();
  } else if (state == transport_state::failed) {
    fail("ICE failed");
  } else if (state == transport_state::closed) {
    change_state(transport_state::closed);
  }
}

void dtls_transport::continue_handshake() {
  ERR_clear_error();
  int result = SSL_do_handshake(ssl_);
  if (result == 1) {
    loop_.cancel_timer(retransmission_timer_);
    retransmission_timer_ = 0;
    loop_.cancel_timer(handshake_deadline_timer_);
    handshake_deadline_timer_ = 0;
    // The verify callback ran during the handshake; a peer without a certificate or
    // with another one never gets here, but check again rather than trust that.
    X509* peer = SSL_get1_peer_certificate(ssl_);
    bool matches = peer && dtls_certificate::fingerprint_of(peer) == remote_fingerprint_;
    X509_free(peer);
    if (!matches || !fingerprint_ok_) {
      fail("peer certificate does not match the SDP fingerprint");
      return;
    }
    // The MTU only shaped handshake fragments; SSL_write must never refuse a record
    // because of it (RFC 8261 5: DTLS carries messages larger than the path MTU).
    SSL_set_mtu(ssl_, 16384);
    change_state(transport_state::connected);
    // Application data may have arrived in the same flight as the last handshake record.
    if (state() == transport_state::connected) read_application_data();
    return;
  }
  int error = SSL_get_error(ssl_, result);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
    arm_retransmission_timer();
    return;
  }
  fail(openssl_error("DTLS handshake"));
}

void dtls_transport::read_application_data() {
  uint8_t buffer[16384 + 64];
  for (int records = 0; records < 1024; ++records) {
    ERR_clear_error();
    int size = SSL_read(ssl_, buffer, sizeof buffer);
    if (size > 0) {
      deliver(buffer, static_cast<size_t>(size));
      if (state() != transport_state::connected) return;
      continue;
    }
    int error = SSL_get_error(ssl_, size);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return;
    if (error == SSL_ERROR_ZERO_RETURN) {
      change_state(transport_state::closed);
      return;
    }
    fail(openssl_error("SSL_read"));
    return;
  }
}

void dtls_transport::arm_retransmission_timer() {
  loop_.cancel_timer(retransmission_timer_);
  retransmission_timer_ = 0;
  struct timeval timeout = {0, 0};
  if (!DTLSv1_get_timeout(ssl_, &timeout)) return;
  unsigned ms = static_cast<unsigned>(timeout.tv_sec * 1000 + timeout.tv_usec / 1000);
  retransmission_timer_ = loop_.add_timer(std::max(ms, 1u), [this] {
    retransmission_timer_ = 0;
    if (state() != transport_state::connecting && state() != transport_state::idle) return false;
    ERR_clear_error();
    // -1: too many retransmissions without an answer (OpenSSL gives up), a hard error.
    if (DTLSv1_handle_timeout(ssl_) < 0) {
      fail(openssl_error("DTLS retransmission"));
      return false;
    }
    arm_retransmission_timer();
    return false;
  });
}

void dtls_transport::fail(const std::string& reason) {
  if (error_.empty()) error_ = reason;
  loop_.cancel_timer(retransmission_timer_);
  retransmission_timer_ = 0;
  change_state(transport_state::failed);
}

int dtls_transport::verify_callback(int, void* store_context) {
  auto* store = static_cast<X509_STORE_CTX*>(store_context);
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* self = static_cast<dtls_transport*>(SSL_get_app_data(ssl));
  // Only the leaf matters: it is the certificate the fingerprint names.
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  bool matches = leaf && dtls_certificate::fingerprint_of(leaf) == self->remote_fingerprint_;
  self->fingerprint_ok_ = matches;
  return matches ? 1 : 0;
}

int dtls_transport::bio_write(BIO* bio, const char* data, int size) {
  auto* self = static_cast<dtls_transport*>(BIO_get_data(bio));
  if (size <= 0) return size;
  // A lost datagram is a normal event for DTLS (it retransmits); report it written.
  self->lower_.send(reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(size));
  return size;
}

long dtls_transport::bio_ctrl(BIO*, int command, long, void*) {
  switch (command) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
      return static_cast<long>(kMtu);
    case BIO_CTRL_WPENDING:
    case BIO_CTRL_PENDING:
      return 0;
    default:
      return 0;
  }
}

}  // namespace webrtc
}  // namespace p2p
