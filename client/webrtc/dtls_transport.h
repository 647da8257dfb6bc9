// DTLS 1.2 over a datagram transport (ICE), with OpenSSL: a self-signed P-256
// certificate per peer connection, the peer's certificate checked against the SHA-256
// fingerprint from its SDP, handshake retransmissions driven by loop timers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "client/webrtc/datagram_transport.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct bio_st BIO;
typedef struct bio_method_st BIO_METHOD;
typedef struct x509_st X509;
typedef struct evp_pkey_st EVP_PKEY;

namespace p2p {
namespace webrtc {

class event_loop;

class dtls_certificate {
 public:
  // A fresh ECDSA P-256 key and self-signed certificate (nullptr on failure).
  static std::shared_ptr<dtls_certificate> generate();
  ~dtls_certificate();
  dtls_certificate(const dtls_certificate&) = delete;
  dtls_certificate& operator=(const dtls_certificate&) = delete;

  // "AB:CD:..." upper-case hex of the SHA-256 of the DER certificate, as SDP writes it.
  const std::string& fingerprint() const { return fingerprint_; }
  X509* certificate() const { return certificate_; }
  EVP_PKEY* key() const { return key_; }

  static std::string fingerprint_of(X509* certificate);

 private:
  dtls_certificate() = default;
  X509* certificate_ = nullptr;
  EVP_PKEY* key_ = nullptr;
  std::string fingerprint_;
};

class dtls_transport : public datagram_transport {
 public:
  // Largest DTLS record we emit (handshake fragments); fits a 1280-byte IPv6 path.
  static constexpr size_t kMtu = 1200;

  // `lower` must outlive this object. `is_client` is the DTLS role from a=setup.
  dtls_transport(event_loop& loop, datagram_transport& lower,
                 std::shared_ptr<dtls_certificate> certificate, bool is_client,
                 const std::string& remote_fingerprint);
  ~dtls_transport() override;
  dtls_transport(const dtls_transport&) = delete;
  dtls_transport& operator=(const dtls_transport&) = delete;

  bool is_client() const { return is_client_; }
  // Starts the handshake; call once the lower transport is connected. Records that
  // arrive earlier (the client can be faster) are processed as they come.
  void start();
  // Sends one DTLS application data record.
  bool send(const uint8_t* data, size_t size) override;
  // Sends close_notify and closes.
  void close();

  // Error text of the last failure (empty if none).
  const std::string& error() const { return error_; }

 private:
  static int verify_callback(int preverify_ok, void* store_context);
  static int bio_write(BIO* bio, const char* data, int size);
  static long bio_ctrl(BIO* bio, int command, long number, void* pointer);

  void on_lower_receive(const uint8_t* data, size_t size);
  void on_lower_state(transport_state state);
  void continue_handshake();
  void read_application_data();
  void arm_retransmission_timer();
  void fail(const std::string& reason);

  event_loop& loop_;
  datagram_transport& lower_;
  std::shared_ptr<dtls_certificate> certificate_;
  bool is_client_;
  std::string remote_fingerprint_;
  bool started_ = false;
  bool fingerprint_ok_ = false;
  SSL_CTX* context_ = nullptr;
  SSL* ssl_ = nullptr;
  BIO* incoming_ = nullptr;
  BIO_METHOD* outgoing_method_ = nullptr;
  unsigned retransmission_timer_ = 0;
  unsigned handshake_deadline_timer_ = 0;
  std::string error_;
};

}  // namespace webrtc
}  // namespace p2p
