// tls_test.cc: the TLS module's pieces that need no processes: policy
// parsing, the split-handshake shim (state checks that replace BoringSSL's
// crash), ticket keys, and a whole split handshake in one process
// (client <-> handoff SSL -> handshake SSL -> main SSL after handback) with
// the client's chain verified by the verifier's code, main's context keeping
// it opaque, and resumed identities bound by main; the verifier's chain
// checks; tickets and the session field that carries the binding.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

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

// ---- a whole split handshake in one process ------------------------------
//
// client <-> handoff SSL -> handshake SSL (key) -> main's SSL after the
// handback, built exactly as main builds it (tls_peer_ctx_new: buffers
// method, custom verify, no CA). When main's SSL stops at the client's chain
// the test plays the verifier: tls_verify_chain in this process (the same
// code a verifier runs), its verdict through the real IPC codec
// (ipc_build_verified / ipc_parse_answer) into tls_peer_record_verdict.

SSL_SESSION *g_client_session;

int capture_session(SSL *, SSL_SESSION *session) {
  if (g_client_session != nullptr) SSL_SESSION_free(g_client_session);
  g_client_session = session;
  return 1;  // keeps the reference
}

struct SplitResult {
  bool completed = false;  // main's SSL finished the handshake
  bool resumed = false;
  bool handback_ok = true;  // tls_peer_on_handback accepted
  bool policy_ok = false;   // tls_peer_check accepted
  bool verifier_ran = false;
  bool main_made_x509 = false;  // SSL_get_peer_certificate != NULL
  std::string subject;
  std::string why;
};

struct SplitServer {
  tls_settings s;
  std::string ca;
  SSL_CTX *handoff_ctx = nullptr, *hs_ctx = nullptr, *main_ctx = nullptr;
  X509_STORE *store = nullptr;
  tls_generation *gen = nullptr;

  explicit SplitServer(int auth) {
    memset(&s, 0, sizeof(s));
    s.auth_clients = auth;
    ca = path("ca.crt");
    s.ca_cert_file = const_cast<char *>(ca.c_str());
    s.session_caching = 1;
    s.session_cache_timeout = 300;
    char err[512];
    tls_ticket_keys_rotate(1);
    EXPECT_TRUE(tls_peer_start());
    handoff_ctx = SSL_CTX_new(TLS_method());
    EXPECT_TRUE(tls_apply_session_policy(handoff_ctx, &s));
    tls_shim_set_handoff_mode(handoff_ctx, 1);
    hs_ctx = SSL_CTX_new(TLS_method());
    EXPECT_TRUE(
        tls_apply_cipher_policy(hs_ctx, &s, nullptr, 0, err, sizeof(err)));
    EXPECT_TRUE(tls_apply_session_policy(hs_ctx, &s));
    EXPECT_TRUE(
        SSL_CTX_use_certificate_chain_file(hs_ctx, path("server.crt").c_str()));
    EXPECT_TRUE(SSL_CTX_use_PrivateKey_file(hs_ctx, path("server.key").c_str(),
                                            SSL_FILETYPE_PEM));
    SSL_CTX_set_verify(hs_ctx, tls_verify_mode(auth), nullptr);
    main_ctx = tls_peer_ctx_new(&s, err, sizeof(err));
    EXPECT_NE(main_ctx, nullptr) << err;
    store = tls_verifier_store_new(&s, err, sizeof(err));
    EXPECT_NE(store, nullptr) << err;
    gen = static_cast<tls_generation *>(calloc(1, sizeof(tls_generation)));
    gen->settings = s;  // borrowed strings: never freed through |gen|
  }
  ~SplitServer() {
    SSL_CTX_free(handoff_ctx);
    SSL_CTX_free(hs_ctx);
    SSL_CTX_free(main_ctx);
    X509_STORE_free(store);
    free(gen);
    tls_ticket_keys_wipe();
    if (g_client_session != nullptr) SSL_SESSION_free(g_client_session);
    g_client_session = nullptr;
  }

  SSL_CTX *Client(uint16_t version, const char *cert) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    SSL_CTX_set_min_proto_version(ctx, version);
    SSL_CTX_set_max_proto_version(ctx, version);
    SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_session_cache_mode(
        ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_sess_set_new_cb(ctx, capture_session);
    if (cert != nullptr) {
      std::string c = std::string(cert) + ".crt",
                  k = std::string(cert) + ".key";
      EXPECT_TRUE(
          SSL_CTX_use_certificate_chain_file(ctx, path(c.c_str()).c_str()));
      EXPECT_TRUE(SSL_CTX_use_PrivateKey_file(ctx, path(k.c_str()).c_str(),
                                              SSL_FILETYPE_PEM));
    }
    return ctx;
  }

  // Run(client_ctx, resume) performs one connection.
  SplitResult Run(SSL_CTX *client_ctx, SSL_SESSION *resume) {
    SplitResult res;
    SSL *client = SSL_new(client_ctx);
    Pipe cp;
    attach(client, &cp);
    SSL_set_connect_state(client);
    SSL_set_tlsext_host_name(client, "localhost");
    if (resume != nullptr) SSL_set_session(client, resume);
    // 1. the handoff SSL reads the ClientHello.
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
    // 2. the handshake SSL (holds the key) until HANDBACK.
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
    tls_conn *conn = static_cast<tls_conn *>(calloc(1, sizeof(tls_conn)));
    conn->gen = gen;
    SSL *m = SSL_new(main_ctx);
    conn->ssl = m;
    EXPECT_TRUE(tls_shim_apply_handback(m, CBB_data(&cbb), CBB_len(&cbb)));
    CBB_cleanup(&cbb);
    char why[IPC_MAX_REASON] = "";
    res.handback_ok = tls_peer_on_handback(conn, why, sizeof(why));
    res.why = why;
    Pipe mp;
    attach(m, &mp);
    for (int i = 0; i < 20 && res.handback_ok && !res.completed; i++) {
      SSL_do_handshake(client);
      move(cp.wbio, mp.rbio);
      r = SSL_do_handshake(m);
      move(mp.wbio, cp.rbio);
      int code = r == 1 ? SSL_ERROR_NONE : SSL_get_error(m, r);
      if (r == 1) {
        res.completed = true;
      } else if (code == SSL_ERROR_WANT_CERTIFICATE_VERIFY) {
        // The verifier's part, through the real codec.
        const uint8_t *certs[IPC_MAX_CHAIN_CERTS];
        size_t lens[IPC_MAX_CHAIN_CERTS], count = 0;
        res.verifier_ran = true;
        if (tls_peer_begin_verify(conn, certs, lens, &count)) {
          tls_verify_outcome out;
          tls_verify_chain(store, IPC_VERIFY_PURPOSE_CLIENT, certs, lens, count,
                           &out);
          std::vector<uint8_t> buf(IPC_MAX_MESSAGE);
          size_t n =
              ipc_build_verified(buf.data(), buf.size(), 1, out.accepted,
                                 out.error, out.reason, out.subject, out.sans);
          ipc_message msg;
          EXPECT_TRUE(ipc_parse_answer(buf.data(), n, &msg));
          tls_peer_record_verdict(conn, &msg);
          ipc_message_cleanup(&msg);
        }
      } else if (code != SSL_ERROR_WANT_READ) {
        char errors[IPC_MAX_REASON];
        tls_collect_errors(errors, sizeof(errors));
        res.why = errors;
        break;
      }
    }
    if (res.completed) {
      res.resumed = SSL_session_reused(m);
      X509 *x509 = SSL_get_peer_certificate(m);
      res.main_made_x509 = x509 != nullptr;
      X509_free(x509);
      char subject[IPC_MAX_REASON + 1] = "";
      res.policy_ok =
          tls_peer_check(conn, subject, sizeof(subject), why, sizeof(why));
      res.subject = subject;
      if (!res.policy_ok) res.why = why;
      // Tickets (TLS 1.3 after the handshake) to the client; data flows.
      EXPECT_EQ(tls_flush_held(m), 1);
      move(mp.wbio, cp.rbio);
      EXPECT_EQ(SSL_write(client, "PING", 4), 4);
      move(cp.wbio, mp.rbio);
      char buf[8];
      EXPECT_EQ(SSL_read(m, buf, sizeof(buf)), 4);
      EXPECT_EQ(SSL_write(m, "PONG", 4), 4);
      move(mp.wbio, cp.rbio);
      EXPECT_EQ(SSL_read(client, buf, sizeof(buf)), 4);
    }
    ERR_clear_error();
    tls_peer_release(conn);
    free(conn);
    SSL_free(m);
    SSL_free(client);
    return res;
  }
};

const uint16_t kVersions[] = {TLS1_2_VERSION, TLS1_3_VERSION};

// What a client gets, per tls-auth-clients, from main + a verifier: the
// same outcomes as a plain BoringSSL (or Redis/OpenSSL) server.
TEST(TlsSplit, ClientChainVerifiedByVerifierNotByMain) {
  struct Case {
    int auth;
    const char *cert;
    bool served;
  } cases[] = {
      {TLS_CLIENT_AUTH_YES, "client", true},
      {TLS_CLIENT_AUTH_YES, "client-ec", true},
      {TLS_CLIENT_AUTH_YES, nullptr, false},
      {TLS_CLIENT_AUTH_YES, "other-client", false},
      {TLS_CLIENT_AUTH_YES, "expired-client", false},
      {TLS_CLIENT_AUTH_YES, "selfsigned", false},
      {TLS_CLIENT_AUTH_YES, "server", false},  // serverAuth only: purpose
      {TLS_CLIENT_AUTH_OPTIONAL, nullptr, true},
      {TLS_CLIENT_AUTH_OPTIONAL, "client", true},
      {TLS_CLIENT_AUTH_OPTIONAL, "expired-client", false},
      {TLS_CLIENT_AUTH_NO, nullptr, true},
  };
  for (uint16_t version : kVersions) {
    for (const Case &c : cases) {
      SplitServer server(c.auth);
      SSL_CTX *client = server.Client(version, c.cert);
      SplitResult r = server.Run(client, nullptr);
      SSL_CTX_free(client);
      std::string what = std::string(c.cert ? c.cert : "no certificate") +
                         " auth=" + std::to_string(c.auth) +
                         " version=" + std::to_string(version);
      EXPECT_EQ(r.completed && r.policy_ok, c.served) << what << ": " << r.why;
      EXPECT_FALSE(r.main_made_x509) << what;
      EXPECT_EQ(r.verifier_ran, c.cert != nullptr && c.auth != 0) << what;
      if (c.served && c.cert != nullptr) {
        EXPECT_NE(r.subject.find("O=RedoubtClients"), std::string::npos)
            << what << ": " << r.subject;
      }
    }
  }
}

// A resumed session's identity is main's binding, checked after the
// handback: a session it sealed resumes with the same subject; one whose
// binding main cannot verify (another key: as if a handshaker made it up)
// or that has none is refused before anything is read from the client.
TEST(TlsSplit, ResumedIdentityMustCarryMainsBinding) {
  for (uint16_t version : kVersions) {
    SplitServer server(TLS_CLIENT_AUTH_YES);
    SSL_CTX *client = server.Client(version, "client");
    SplitResult first = server.Run(client, nullptr);
    ASSERT_TRUE(first.completed && first.policy_ok) << first.why;
    ASSERT_NE(g_client_session, nullptr);
    SSL_SESSION *session =
        SSL_SESSION_up_ref(g_client_session) ? g_client_session : nullptr;
    SplitResult again = server.Run(client, session);
    EXPECT_TRUE(again.completed && again.policy_ok && again.resumed)
        << again.why;
    EXPECT_FALSE(again.verifier_ran);
    EXPECT_EQ(again.subject, first.subject);
    // The same ticket once main's key changed: its binding no longer
    // verifies.
    tls_peer_rotate_binding_key();
    SplitResult forged = server.Run(client, session);
    EXPECT_FALSE(forged.handback_ok);
    EXPECT_NE(forged.why.find("binding"), std::string::npos) << forged.why;
    SSL_SESSION_free(session);
    // A ticket sealed without a binding (tls_ticket_set_seal_hook(NULL):
    // what a handshaker's own seal produces).
    tls_ticket_set_seal_hook(nullptr);
    SplitResult unbound_first = server.Run(client, nullptr);
    ASSERT_TRUE(unbound_first.completed) << unbound_first.why;
    session = SSL_SESSION_up_ref(g_client_session) ? g_client_session : nullptr;
    ASSERT_TRUE(tls_peer_start());  // reinstalls main's seal hook
    SplitResult unbound = server.Run(client, session);
    EXPECT_FALSE(unbound.handback_ok);
    EXPECT_NE(unbound.why.find("never bound"), std::string::npos)
        << unbound.why;
    SSL_SESSION_free(session);
    SSL_CTX_free(client);
  }
}

TEST(TlsSplit, MainContextKeepsCertificatesOpaqueAndCapped) {
  SplitServer server(TLS_CLIENT_AUTH_YES);
  EXPECT_EQ(SSL_CTX_get_max_cert_list(server.main_ctx),
            size_t{TLS_MAX_PEER_CERT_LIST});
  // No CA in main: its store is empty.
  X509_STORE *store = SSL_CTX_get_cert_store(server.main_ctx);
  EXPECT_TRUE(store == nullptr ||
              sk_X509_OBJECT_num(X509_STORE_get0_objects(store)) == 0);
}

// Issue 17: could the handshaker keep the client's second flight (its
// Certificate, CertificateVerify, Finished) and hand back only after it, so
// that main parses none of it? This BoringSSL hands back before the
// client's Certificate in TLS 1.3 and in TLS 1.2 with ECDHE, and running the
// handshaker's SSL again only repeats SSL_ERROR_HANDBACK; only TLS 1.2 with
// RSA key exchange (no forward secrecy, refused by our policy) hands back
// after the client's Finished. If a BoringSSL update changes that, this test
// says so (and main could then parse less).
struct HandbackPoint {
  bool handback = false;         // the handshaker stopped at HANDBACK
  bool saw_client_cert = false;  // ... having read the client's Certificate
  size_t left_for_main = 0;      // client bytes it did not read
  bool again_handback = false;   // SSL_do_handshake again: HANDBACK again
};

HandbackPoint FindHandbackPoint(uint16_t version, const char *cipher) {
  HandbackPoint out;
  auto common = [&](SSL_CTX *ctx) {
    SSL_CTX_set_min_proto_version(ctx, version);
    SSL_CTX_set_max_proto_version(ctx, version);
    if (cipher) SSL_CTX_set_strict_cipher_list(ctx, cipher);
  };
  SSL_CTX *client_ctx = SSL_CTX_new(TLS_method());
  common(client_ctx);
  SSL_CTX_use_certificate_chain_file(client_ctx, path("client.crt").c_str());
  SSL_CTX_use_PrivateKey_file(client_ctx, path("client.key").c_str(),
                              SSL_FILETYPE_PEM);
  SSL_CTX *handoff_ctx = SSL_CTX_new(TLS_method());
  common(handoff_ctx);
  tls_shim_set_handoff_mode(handoff_ctx, 1);
  SSL_CTX *hs_ctx = SSL_CTX_new(TLS_method());
  common(hs_ctx);
  SSL_CTX_use_certificate_chain_file(hs_ctx, path("server.crt").c_str());
  SSL_CTX_use_PrivateKey_file(hs_ctx, path("server.key").c_str(),
                              SSL_FILETYPE_PEM);
  SSL_CTX_set_verify(hs_ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                     [](int, X509_STORE_CTX *) { return 1; });
  SSL *client = SSL_new(client_ctx);
  Pipe cp, hp, sp;
  attach(client, &cp);
  SSL_set_connect_state(client);
  SSL *ho = SSL_new(handoff_ctx);
  attach(ho, &hp);
  SSL_set_accept_state(ho);
  SSL_do_handshake(client);
  move(cp.wbio, hp.rbio);
  int r = SSL_do_handshake(ho);
  CBB cbb;
  CBB_init(&cbb, 512);
  SSL *hs = SSL_new(hs_ctx);
  if (SSL_get_error(ho, r) == SSL_ERROR_HANDOFF &&
      tls_shim_serialize_handoff(ho, &cbb) &&
      tls_shim_apply_handoff(hs, CBB_data(&cbb), CBB_len(&cbb))) {
    attach(hs, &sp);
    for (int i = 0; i < 10; i++) {
      r = SSL_do_handshake(hs);
      move(sp.wbio, cp.rbio);
      if (SSL_get_error(hs, r) == SSL_ERROR_HANDBACK) {
        out.handback = true;
        break;
      }
      SSL_do_handshake(client);
      move(cp.wbio, sp.rbio);
    }
    // The client sends everything it has (its whole second flight).
    SSL_do_handshake(client);
    move(cp.wbio, sp.rbio);
    out.saw_client_cert = SSL_get0_peer_certificates(hs) != nullptr;
    out.left_for_main = BIO_pending(sp.rbio);
    r = SSL_do_handshake(hs);
    out.again_handback = SSL_get_error(hs, r) == SSL_ERROR_HANDBACK;
  }
  CBB_cleanup(&cbb);
  ERR_clear_error();
  SSL_free(hs);
  SSL_free(ho);
  SSL_free(client);
  SSL_CTX_free(client_ctx);
  SSL_CTX_free(handoff_ctx);
  SSL_CTX_free(hs_ctx);
  return out;
}

TEST(TlsSplit, HandbackComesBeforeTheClientsSecondFlight) {
  for (auto [version, cipher] :
       {std::pair<uint16_t, const char *>{TLS1_3_VERSION, nullptr},
        {TLS1_2_VERSION, "ECDHE-RSA-AES128-GCM-SHA256"}}) {
    HandbackPoint p = FindHandbackPoint(version, cipher);
    EXPECT_TRUE(p.handback) << version;
    EXPECT_FALSE(p.saw_client_cert) << version;
    EXPECT_GT(p.left_for_main, 1000u) << version;  // Certificate & co
    EXPECT_TRUE(p.again_handback) << version;
  }
  // RSA key exchange: the handshaker reads the whole second flight.
  HandbackPoint rsa = FindHandbackPoint(TLS1_2_VERSION, "AES128-GCM-SHA256");
  EXPECT_TRUE(rsa.handback);
  EXPECT_TRUE(rsa.saw_client_cert);
  EXPECT_EQ(rsa.left_for_main, 0u);
}

// ---- the verifier's side -------------------------------------------------

std::vector<uint8_t> ReadDer(const char *name) {
  std::vector<uint8_t> der;
  BIO *bio = BIO_new_file(path(name).c_str(), "r");
  X509 *x = bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (x == nullptr) return der;
  uint8_t *out = nullptr;
  int len = i2d_X509(x, &out);
  if (len > 0) der.assign(out, out + len);
  OPENSSL_free(out);
  X509_free(x);
  return der;
}

tls_verify_outcome VerifyOne(X509_STORE *store, int purpose,
                             const std::vector<uint8_t> &der) {
  const uint8_t *certs[] = {der.data()};
  size_t lens[] = {der.size()};
  tls_verify_outcome out;
  tls_verify_chain(store, purpose, certs, lens, 1, &out);
  return out;
}

TEST(TlsVerifier, VerdictsAndIdentity) {
  tls_settings s;
  memset(&s, 0, sizeof(s));
  std::string ca = path("ca.crt");
  s.ca_cert_file = const_cast<char *>(ca.c_str());
  char err[256];
  X509_STORE *store = tls_verifier_store_new(&s, err, sizeof(err));
  ASSERT_NE(store, nullptr) << err;
  tls_verify_outcome out =
      VerifyOne(store, IPC_VERIFY_PURPOSE_CLIENT, ReadDer("client.crt"));
  EXPECT_TRUE(out.accepted) << out.reason;
  EXPECT_EQ(out.error, 0u);
  EXPECT_STREQ(out.subject, "CN=client1,O=RedoubtClients");
  // The server certificate: serverAuth only, SANs DNS + two IPs.
  out = VerifyOne(store, IPC_VERIFY_PURPOSE_CLIENT, ReadDer("server.crt"));
  EXPECT_FALSE(out.accepted);
  EXPECT_EQ(out.error, uint32_t{X509_V_ERR_INVALID_PURPOSE}) << out.reason;
  out = VerifyOne(store, IPC_VERIFY_PURPOSE_SERVER, ReadDer("server.crt"));
  EXPECT_TRUE(out.accepted) << out.reason;
  EXPECT_STREQ(out.sans, "DNS:localhost,IP:127.0.0.1,IP:0:0:0:0:0:0:0:1");
  out = VerifyOne(store, IPC_VERIFY_PURPOSE_CLIENT,
                  ReadDer("expired-client.crt"));
  EXPECT_EQ(out.error, uint32_t{X509_V_ERR_CERT_HAS_EXPIRED});
  EXPECT_STREQ(out.reason, "certificate has expired");
  out =
      VerifyOne(store, IPC_VERIFY_PURPOSE_CLIENT, ReadDer("other-client.crt"));
  EXPECT_FALSE(out.accepted);
  // Not DER, trailing bytes, truncated: refused, never parsed leniently.
  std::vector<uint8_t> der = ReadDer("client.crt");
  std::vector<uint8_t> trailing = der;
  trailing.push_back(0);
  std::vector<uint8_t> truncated(der.begin(), der.end() - 1);
  std::vector<uint8_t> junk(64, 0x30);
  for (const auto *bad : {&trailing, &truncated, &junk}) {
    out = VerifyOne(store, IPC_VERIFY_PURPOSE_CLIENT, *bad);
    EXPECT_FALSE(out.accepted);
    EXPECT_NE(out.error, 0u);
  }
  // The text main receives never holds a control byte (ipc_build_verified
  // would refuse it).
  std::vector<uint8_t> buf(IPC_MAX_MESSAGE);
  out = VerifyOne(store, IPC_VERIFY_PURPOSE_SERVER, ReadDer("server.crt"));
  EXPECT_GT(ipc_build_verified(buf.data(), buf.size(), 1, out.accepted,
                               out.error, out.reason, out.subject, out.sans),
            0u);
  X509_STORE_free(store);
}

// tls-ca-cert-dir is read whole before the sandbox closes the file system:
// hash-named files only, as OpenSSL's directory lookup reads them.
TEST(TlsVerifier, CaDirectoryLoadedUpFront) {
  const char *tmp = getenv("TEST_TMPDIR");
  std::string tmpl = std::string(tmp ? tmp : "/tmp") + "/cadir-XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  ASSERT_NE(mkdtemp(name.data()), nullptr);
  std::string dir = name.data();
  tls_settings s;
  memset(&s, 0, sizeof(s));
  s.ca_cert_dir = const_cast<char *>(dir.c_str());
  char err[256];
  // The CA under a name that is not a hash: ignored.
  std::string plain = dir + "/ca.pem";
  {
    std::ifstream in(path("ca.crt"), std::ios::binary);
    std::ofstream out(plain, std::ios::binary);
    out << in.rdbuf();
  }
  X509_STORE *store = tls_verifier_store_new(&s, err, sizeof(err));
  ASSERT_NE(store, nullptr) << err;
  EXPECT_FALSE(
      VerifyOne(store, IPC_VERIFY_PURPOSE_CLIENT, ReadDer("client.crt"))
          .accepted);
  X509_STORE_free(store);
  // Under its subject hash: found, and it stays found once the file is gone
  // (nothing is opened at verification time).
  BIO *bio = BIO_new_file(path("ca.crt").c_str(), "r");
  X509 *ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  char hashed[64];
  snprintf(hashed, sizeof(hashed), "/%08lx.0", X509_subject_name_hash(ca));
  X509_free(ca);
  ASSERT_EQ(rename(plain.c_str(), (dir + hashed).c_str()), 0);
  store = tls_verifier_store_new(&s, err, sizeof(err));
  ASSERT_NE(store, nullptr) << err;
  ASSERT_EQ(unlink((dir + hashed).c_str()), 0);
  ASSERT_EQ(rmdir(dir.c_str()), 0);
  EXPECT_TRUE(VerifyOne(store, IPC_VERIFY_PURPOSE_CLIENT, ReadDer("client.crt"))
                  .accepted);
  X509_STORE_free(store);
}

// ---- tickets and the session's binding field -----------------------------

TEST(TlsTickets, AeadSealOpen) {
  ASSERT_TRUE(tls_ticket_keys_rotate(1));
  const SSL_TICKET_AEAD_METHOD *m = &tls_ticket_aead_method;
  std::vector<uint8_t> plain(300, 0x5a), ticket(300 + m->max_overhead(nullptr));
  size_t ticket_len = 0;
  ASSERT_TRUE(m->seal(nullptr, ticket.data(), &ticket_len, ticket.size(),
                      plain.data(), plain.size()));
  std::vector<uint8_t> out(ticket_len);
  size_t out_len = 0;
  EXPECT_EQ(m->open(nullptr, out.data(), &out_len, out.size(), ticket.data(),
                    ticket_len),
            ssl_ticket_aead_success);
  ASSERT_EQ(out_len, plain.size());
  EXPECT_EQ(0, memcmp(out.data(), plain.data(), plain.size()));
  // Still opens after one rotation (previous key); not after two.
  ASSERT_TRUE(tls_ticket_keys_rotate(0));
  EXPECT_EQ(m->open(nullptr, out.data(), &out_len, out.size(), ticket.data(),
                    ticket_len),
            ssl_ticket_aead_success);
  // Any flipped byte (name, nonce, ciphertext, tag) makes it ignored.
  for (size_t i = 0; i < ticket_len; i += 37) {
    std::vector<uint8_t> bad(ticket.begin(), ticket.begin() + ticket_len);
    bad[i] ^= 1;
    EXPECT_EQ(m->open(nullptr, out.data(), &out_len, out.size(), bad.data(),
                      bad.size()),
              ssl_ticket_aead_ignore_ticket)
        << i;
  }
  EXPECT_EQ(
      m->open(nullptr, out.data(), &out_len, out.size(), ticket.data(), 20),
      ssl_ticket_aead_ignore_ticket);
  ASSERT_TRUE(tls_ticket_keys_rotate(0));
  EXPECT_EQ(m->open(nullptr, out.data(), &out_len, out.size(), ticket.data(),
                    ticket_len),
            ssl_ticket_aead_ignore_ticket);
  tls_ticket_keys_wipe();
}

TEST(TlsTickets, SessionFieldSetReplacedRemoved) {
  // A real server session with a client certificate, from a handshake.
  SplitServer server(TLS_CLIENT_AUTH_YES);
  SSL_CTX *client = server.Client(TLS1_2_VERSION, "client");
  ASSERT_TRUE(server.Run(client, nullptr).completed);
  SSL_CTX_free(client);
  ASSERT_NE(g_client_session, nullptr);
  uint8_t *der = nullptr;
  size_t der_len = 0;
  ASSERT_TRUE(SSL_SESSION_to_bytes(g_client_session, &der, &der_len));
  auto with = [&](const uint8_t *in, size_t in_len, const uint8_t *value,
                  size_t value_len) {
    CBB cbb;
    CBB_init(&cbb, in_len + 64);
    EXPECT_TRUE(tls_session_der_set_field(in, in_len, TLS_SESSION_BINDING_FIELD,
                                          value, value_len, &cbb));
    std::vector<uint8_t> out(CBB_data(&cbb), CBB_data(&cbb) + CBB_len(&cbb));
    CBB_cleanup(&cbb);
    return out;
  };
  auto field = [&](const std::vector<uint8_t> &bytes) {
    SSL_SESSION *s =
        SSL_SESSION_from_bytes(bytes.data(), bytes.size(), server.main_ctx);
    EXPECT_NE(s, nullptr);
    std::string v;
    if (s != nullptr) {
      const uint8_t *p;
      size_t n;
      SSL_SESSION_get0_ocsp_response(s, &p, &n);
      v.assign(reinterpret_cast<const char *>(p), n);
      EXPECT_EQ(sk_CRYPTO_BUFFER_num(SSL_SESSION_get0_peer_certificates(s)),
                1u);
      SSL_SESSION_free(s);
    }
    return v;
  };
  const uint8_t a[] = "first", b[] = "second value";
  std::vector<uint8_t> one = with(der, der_len, a, 5);
  EXPECT_EQ(field(one), "first");
  std::vector<uint8_t> two = with(one.data(), one.size(), b, 12);
  EXPECT_EQ(field(two), "second value");
  std::vector<uint8_t> none = with(two.data(), two.size(), nullptr, 0);
  EXPECT_EQ(field(none), "");
  EXPECT_EQ(none, std::vector<uint8_t>(der, der + der_len));
  // Not a SEQUENCE, or trailing bytes: refused.
  CBB cbb;
  CBB_init(&cbb, 64);
  EXPECT_FALSE(tls_session_der_set_field(
      der, der_len - 1, TLS_SESSION_BINDING_FIELD, a, 5, &cbb));
  CBB_cleanup(&cbb);
  OPENSSL_free(der);
}

}  // namespace
