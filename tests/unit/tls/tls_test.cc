// tls_test.cc: the TLS module's pieces that need no processes: policy
// parsing, the split-handshake shim (state checks that replace BoringSSL's
// crash), ticket keys, and a whole split handshake in one process
// (client <-> handoff SSL -> handshake SSL -> main SSL after handback) with
// mutual TLS verified by main's context.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

extern "C" {
#include "tls/internal.h"
}

namespace {

// cert_dir finds tests/tls/ (from utils/gen-test-certs.sh): the working
// directory when run by hand, else the source tree next to bazel-out.
std::string cert_dir() {
  if (access("tests/tls/ca.crt", R_OK) == 0) return "tests/tls/";
  const char *env = getenv("REDOUBT_SOURCE_DIR");
  if (env) return std::string(env) + "/tests/tls/";
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    exe[n] = 0;
    std::string p(exe);
    size_t at = p.find("/bazel-out/");
    if (at != std::string::npos) {
      std::string dir = p.substr(0, at) + "/tests/tls/";
      if (access((dir + "ca.crt").c_str(), R_OK) == 0) return dir;
    }
  }
  return "tests/tls/";
}

std::string path(const char *name) { return cert_dir() + name; }

TEST(TlsPolicy, Protocols) {
  uint16_t lo = 0, hi = 0;
  char err[256];
  ASSERT_TRUE(tls_parse_protocols(nullptr, &lo, &hi, err, sizeof(err)));
  EXPECT_EQ(lo, TLS1_2_VERSION);
  EXPECT_EQ(hi, TLS1_3_VERSION);
  ASSERT_TRUE(tls_parse_protocols("TLSv1.3", &lo, &hi, err, sizeof(err)));
  EXPECT_EQ(lo, TLS1_3_VERSION);
  EXPECT_EQ(hi, TLS1_3_VERSION);
  ASSERT_TRUE(tls_parse_protocols("TLSv1.2", &lo, &hi, err, sizeof(err)));
  EXPECT_EQ(hi, TLS1_2_VERSION);
  EXPECT_FALSE(
      tls_parse_protocols("TLSv1 TLSv1.2", &lo, &hi, err, sizeof(err)));
  EXPECT_NE(std::string(err).find("unsupported"), std::string::npos) << err;
  EXPECT_FALSE(tls_parse_protocols("TLSv1.1", &lo, &hi, err, sizeof(err)));
  EXPECT_NE(std::string(err).find("unsupported"), std::string::npos) << err;
  EXPECT_FALSE(tls_parse_protocols("SSLv3", &lo, &hi, err, sizeof(err)));
}

TEST(TlsPolicy, CipherSuitesOnlyWhatBoringSslHonours) {
  char err[512];
  EXPECT_TRUE(tls_check_ciphersuites(nullptr, err, sizeof(err)));
  EXPECT_TRUE(
      tls_check_ciphersuites(TLS_BORINGSSL_CIPHERSUITES, err, sizeof(err)));
  EXPECT_TRUE(
      tls_check_ciphersuites("TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_"
                             "SHA384:TLS_AES_128_GCM_SHA256",
                             err, sizeof(err)));
  // A subset would silently leave the others on.
  EXPECT_FALSE(
      tls_check_ciphersuites("TLS_AES_256_GCM_SHA384", err, sizeof(err)));
  EXPECT_NE(std::string(err).find("cannot restrict"), std::string::npos) << err;
  EXPECT_FALSE(
      tls_check_ciphersuites("TLS_AES_128_CCM_SHA256", err, sizeof(err)));
}

TEST(TlsPolicy, RsaKeyExchangeRemovedOrRefused) {
  tls_settings s;
  memset(&s, 0, sizeof(s));
  char err[512], removed[512];
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  s.ciphers = const_cast<char *>("AES128-SHA");
  EXPECT_FALSE(tls_apply_cipher_policy(ctx, &s, removed, sizeof(removed), err,
                                       sizeof(err)));
  s.ciphers =
      const_cast<char *>("ECDHE-RSA-AES128-GCM-SHA256:AES128-GCM-SHA256");
  ASSERT_TRUE(tls_apply_cipher_policy(ctx, &s, removed, sizeof(removed), err,
                                      sizeof(err)))
      << err;
  EXPECT_STREQ(removed, "AES128-GCM-SHA256");
  STACK_OF(SSL_CIPHER) *list = SSL_CTX_get_ciphers(ctx);
  for (size_t i = 0; i < sk_SSL_CIPHER_num(list); i++) {
    EXPECT_NE(SSL_CIPHER_get_kx_nid(sk_SSL_CIPHER_value(list, i)), NID_kx_rsa);
  }
  s.ciphers = const_cast<char *>("NOT-A-CIPHER");
  EXPECT_FALSE(tls_apply_cipher_policy(ctx, &s, nullptr, 0, err, sizeof(err)));
  SSL_CTX_free(ctx);
}

TEST(TlsShim, SerializeRefusesWrongStateInsteadOfCrashing) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  SSL *ssl = SSL_new(ctx);
  CBB cbb;
  ASSERT_TRUE(CBB_init(&cbb, 64));
  EXPECT_FALSE(tls_shim_serialize_handback(ssl, &cbb));
  EXPECT_FALSE(tls_shim_serialize_handoff(ssl, &cbb));
  EXPECT_FALSE(tls_shim_serialize_handback(nullptr, &cbb));
  EXPECT_FALSE(tls_shim_apply_handback(ssl, nullptr, 0));
  static const uint8_t junk[] = {1, 2, 3, 4};
  EXPECT_FALSE(tls_shim_apply_handback(ssl, junk, sizeof(junk)));
  EXPECT_FALSE(tls_shim_apply_handoff(ssl, junk, sizeof(junk)));
  ERR_clear_error();
  CBB_cleanup(&cbb);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
}

TEST(TlsTickets, RotationKeepsOnePreviousKey) {
  uint8_t keys[IPC_MAX_TICKET_KEYS][IPC_TICKET_KEY_LEN];
  ASSERT_TRUE(tls_ticket_keys_rotate(1));
  EXPECT_EQ(tls_ticket_keys_get(keys), 1u);
  uint8_t first[IPC_TICKET_KEY_LEN];
  memcpy(first, keys[0], sizeof(first));
  ASSERT_TRUE(tls_ticket_keys_rotate(0));
  EXPECT_EQ(tls_ticket_keys_get(keys), 2u);
  EXPECT_EQ(memcmp(keys[1], first, sizeof(first)), 0);
  EXPECT_NE(memcmp(keys[0], first, sizeof(first)), 0);
  ASSERT_TRUE(tls_ticket_keys_rotate(1));
  EXPECT_EQ(tls_ticket_keys_get(keys), 1u);
  tls_ticket_keys_wipe();
}

// Moves bytes between two memory-BIO pairs.
struct Pipe {
  BIO *rbio, *wbio;
};

void attach(SSL *ssl, Pipe *p) {
  p->rbio = BIO_new(BIO_s_mem());
  p->wbio = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(p->rbio, -1);
  SSL_set_bio(ssl, p->rbio, p->wbio);
}

void move(BIO *from, BIO *to) {
  const uint8_t *data;
  size_t len;
  BIO_mem_contents(from, &data, &len);
  if (len) BIO_write(to, data, static_cast<int>(len));
  BIO_reset(from);
}

// One split handshake; returns main's verify result (or -1 if the
// handshake did not complete in main).
long split_handshake(int auth, const char *client_cert, const char *client_key,
                     bool *completed) {
  tls_settings s;
  memset(&s, 0, sizeof(s));
  s.auth_clients = auth;
  std::string ca = path("ca.crt");
  s.ca_cert_file = const_cast<char *>(ca.c_str());
  s.session_caching = 1;
  s.session_cache_timeout = 300;
  char err[512];
  tls_ticket_keys_rotate(1);

  SSL_CTX *client_ctx = SSL_CTX_new(TLS_method());
  SSL_CTX_load_verify_locations(client_ctx, ca.c_str(), nullptr);
  SSL_CTX_set_verify(client_ctx, SSL_VERIFY_PEER, nullptr);
  if (client_cert) {
    EXPECT_TRUE(SSL_CTX_use_certificate_chain_file(client_ctx,
                                                   path(client_cert).c_str()));
    EXPECT_TRUE(SSL_CTX_use_PrivateKey_file(
        client_ctx, path(client_key).c_str(), SSL_FILETYPE_PEM));
  }
  SSL_CTX *handoff_ctx = SSL_CTX_new(TLS_method());
  tls_shim_set_handoff_mode(handoff_ctx, 1);
  SSL_CTX *hs_ctx = SSL_CTX_new(TLS_method());
  EXPECT_TRUE(
      tls_apply_cipher_policy(hs_ctx, &s, nullptr, 0, err, sizeof(err)));
  EXPECT_TRUE(tls_apply_session_policy(hs_ctx, &s));
  EXPECT_TRUE(
      SSL_CTX_use_certificate_chain_file(hs_ctx, path("server.crt").c_str()));
  EXPECT_TRUE(SSL_CTX_use_PrivateKey_file(hs_ctx, path("server.key").c_str(),
                                          SSL_FILETYPE_PEM));
  EXPECT_TRUE(tls_load_verify_locations(hs_ctx, &s, err, sizeof(err)));
  SSL_CTX_set_verify(hs_ctx, tls_verify_mode(auth), nullptr);
  SSL_CTX *main_ctx = SSL_CTX_new(TLS_method());
  EXPECT_TRUE(
      tls_apply_cipher_policy(main_ctx, &s, nullptr, 0, err, sizeof(err)));
  EXPECT_TRUE(tls_apply_session_policy(main_ctx, &s));
  EXPECT_TRUE(tls_load_verify_locations(main_ctx, &s, err, sizeof(err)));
  SSL_CTX_set_verify(main_ctx, tls_verify_mode(auth), nullptr);

  SSL *client = SSL_new(client_ctx);
  Pipe cp;
  attach(client, &cp);
  SSL_set_connect_state(client);
  SSL_set_tlsext_host_name(client, "localhost");

  // 1. handoff SSL reads the ClientHello.
  SSL *ho = SSL_new(handoff_ctx);
  Pipe hp;
  attach(ho, &hp);
  SSL_set_accept_state(ho);
  SSL_do_handshake(client);
  move(cp.wbio, hp.rbio);
  int r = SSL_do_handshake(ho);
  EXPECT_EQ(SSL_get_error(ho, r), SSL_ERROR_HANDOFF);
  CBB cbb;
  CBB_init(&cbb, 512);
  EXPECT_TRUE(tls_shim_serialize_handoff(ho, &cbb));
  // 2. handshake SSL (holds the key) until HANDBACK.
  SSL *hs = SSL_new(hs_ctx);
  EXPECT_TRUE(tls_shim_apply_handoff(hs, CBB_data(&cbb), CBB_len(&cbb)));
  CBB_cleanup(&cbb);
  SSL_free(ho);
  Pipe sp;
  attach(hs, &sp);
  r = SSL_do_handshake(hs);
  EXPECT_EQ(SSL_get_error(hs, r), SSL_ERROR_HANDBACK)
      << tls_ssl_error_name(SSL_get_error(hs, r));
  CBB_init(&cbb, 2048);
  EXPECT_TRUE(tls_shim_serialize_handback(hs, &cbb));
  move(sp.wbio, cp.rbio);
  SSL_free(hs);
  // 3. main applies the handback and finishes with the client.
  SSL *m = SSL_new(main_ctx);
  EXPECT_TRUE(tls_shim_apply_handback(m, CBB_data(&cbb), CBB_len(&cbb)));
  CBB_cleanup(&cbb);
  Pipe mp;
  attach(m, &mp);
  *completed = false;
  for (int i = 0; i < 20 && !*completed; i++) {
    SSL_do_handshake(client);
    move(cp.wbio, mp.rbio);
    r = SSL_do_handshake(m);
    move(mp.wbio, cp.rbio);
    if (r == 1)
      *completed = true;
    else if (SSL_get_error(m, r) != SSL_ERROR_WANT_READ)
      break;
  }
  long verify = *completed ? SSL_get_verify_result(m) : -1;
  if (*completed) {
    // The key-holding SSL is gone: data still flows.
    EXPECT_EQ(SSL_write(client, "PING", 4), 4);
    move(cp.wbio, mp.rbio);
    char buf[8];
    EXPECT_EQ(SSL_read(m, buf, sizeof(buf)), 4);
  }
  ERR_clear_error();
  SSL_free(m);
  SSL_free(client);
  SSL_CTX_free(client_ctx);
  SSL_CTX_free(handoff_ctx);
  SSL_CTX_free(hs_ctx);
  SSL_CTX_free(main_ctx);
  tls_ticket_keys_wipe();
  return verify;
}

TEST(TlsSplit, MutualTlsVerifiedInMainAfterHandback) {
  bool done = false;
  EXPECT_EQ(
      split_handshake(TLS_CLIENT_AUTH_YES, "client.crt", "client.key", &done),
      X509_V_OK);
  EXPECT_TRUE(done);
  split_handshake(TLS_CLIENT_AUTH_YES, nullptr, nullptr, &done);
  EXPECT_FALSE(done) << "no client certificate must be refused";
  split_handshake(TLS_CLIENT_AUTH_YES, "other-client.crt", "other-client.key",
                  &done);
  EXPECT_FALSE(done) << "certificate from another CA must be refused";
  split_handshake(TLS_CLIENT_AUTH_OPTIONAL, nullptr, nullptr, &done);
  EXPECT_TRUE(done);
  split_handshake(TLS_CLIENT_AUTH_OPTIONAL, "expired-client.crt",
                  "expired-client.key", &done);
  EXPECT_FALSE(done) << "optional still refuses a bad certificate";
  split_handshake(TLS_CLIENT_AUTH_NO, nullptr, nullptr, &done);
  EXPECT_TRUE(done);
}

}  // namespace
