/* peer.c: the peer's certificate as main sees it: opaque bytes, verified
 * by a verifier process, and an identity main trusts only when it can
 * prove where it came from (issue 17 items 1 and 4).
 *
 * No X.509 in main. Main's contexts (incoming: tls_peer_ctx_new; outgoing:
 * client.c) use TLS_with_buffers_method, so the peer's Certificate message
 * becomes a list of CRYPTO_BUFFERs and no X509 object is ever built; the
 * chain is capped at TLS_MAX_PEER_CERT_LIST. The custom verify callback
 * answers ssl_verify_retry the first time: the handshake stops with
 * SSL_ERROR_WANT_CERTIFICATE_VERIFY, main's loop sends the DER chain to a
 * verifier (IPC VERIFY; tls/verifier.c parses and verifies it in the
 * sandbox), and when the verdict comes back the handshake is resumed and
 * the callback answers ok or invalid (with the alert X.509 would have
 * caused). The verdict carries the identity main shows (subject,
 * subjectAltNames); main computes the fingerprints itself (SHA-256 over
 * bytes is not parsing).
 *
 * Who may vouch. A verifier is a separate process that holds no key and
 * never parses a ClientHello, so a handshaker compromised through its
 * ClientHello parser cannot vouch for a certificate. Main accepts a peer
 * identity from exactly two sources:
 *   - a verifier's verdict on the chain main's own SSL read from the peer
 *     in this connection (the callback ran, the chain is the one sent);
 *   - a resumed session whose binding checks: when main seals a ticket
 *     (tls_ticket_aead_method's seal hook, below) for a connection with a
 *     vouched identity, it writes into the session's [16] field
 *     "RDI1" | authenticated_at | SHA-256(chain) | subject | MAC, the MAC an
 *     HMAC-SHA256 under a key only main has, over the session's secret, its
 *     session ID context and the rest. A handshaker decrypts tickets (it
 *     holds the ticket keys) but cannot make a MAC: a session it forges or
 *     alters (another chain, another subject, no binding) is refused after
 *     the handback, before anything is read from the client.
 * Any other certificate in a handed-back session (a handback that claims
 * the client's flight was already read, a session without a valid binding)
 * is refused, as is a session older than tls-session-cache-timeout by
 * main's own clock.
 *
 * What remains (documented in README): a compromised handshaker can replay
 * a session whose ticket a client presented to it, with its binding, for
 * the rest of that session's lifetime; it sees the session's secret in the
 * ticket it decrypts. Only main decrypting tickets itself would close that,
 * which would put ClientHello parsing back in main.
 *
 * Threads: the callback, the seal hook and tls_peer_on_handback run on the
 * completion thread (finisher.c) for a connection it owns, or on the loop;
 * the binding key has its own mutex. */
#include <openssl/bytestring.h>
#include <openssl/digest.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/mem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tls/internal.h"

#define PEER_BINDING_MAGIC "RDI1"
#define PEER_BINDING_MAGIC_LEN 4
#define PEER_BINDING_KEY_LEN 32
#define PEER_BINDING_MAC_LEN 32
/* Seconds a binding's time may lie ahead of main's clock (a wall-clock
 * step) or exceed the session timeout. */
#define PEER_BINDING_CLOCK_SLACK 60
#define PEER_BINDING_CONTEXT "redoubt resumed identity v1"

static struct {
  pthread_mutex_t lock;
  uint8_t key[PEER_BINDING_KEY_LEN];
  int have_key;
} binding = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* ---- helpers ---------------------------------------------------------- */

static tls_peer_identity *peer_identity(tls_conn *conn) {
  if (conn->identity == NULL) {
    conn->identity = calloc(1, sizeof(*conn->identity));
  }
  return conn->identity;
}

void tls_peer_release(tls_conn *conn) {
  if (conn->identity != NULL) {
    OPENSSL_cleanse(conn->identity, sizeof(*conn->identity));
    free(conn->identity);
    conn->identity = NULL;
  }
}

/* peer_chain_sha256: SHA-256 over each certificate as u32 length | DER. */
static int peer_chain_sha256(const STACK_OF(CRYPTO_BUFFER) * certs,
                             uint8_t out[SHA256_DIGEST_LENGTH]) {
  SHA256_CTX sha;
  size_t n = certs != NULL ? sk_CRYPTO_BUFFER_num(certs) : 0;
  SHA256_Init(&sha);
  for (size_t i = 0; i < n; i++) {
    const CRYPTO_BUFFER *cert = sk_CRYPTO_BUFFER_value(certs, i);
    size_t len = CRYPTO_BUFFER_len(cert);
    uint8_t prefix[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16),
                         (uint8_t)(len >> 8), (uint8_t)len};
    SHA256_Update(&sha, prefix, sizeof(prefix));
    SHA256_Update(&sha, CRYPTO_BUFFER_data(cert), len);
  }
  SHA256_Final(out, &sha);
  return n > 0;
}

static void peer_hex(const uint8_t *data, size_t len, char *out,
                     size_t out_len) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  for (size_t i = 0; i < len && o + 2 < out_len; i++) {
    out[o++] = hex[data[i] >> 4];
    out[o++] = hex[data[i] & 15];
  }
  out[o] = '\0';
}

static int peer_text_ok(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (p[i] < 0x20 || p[i] == 0x7f) {
      return 0;
    }
  }
  return 1;
}

/* ---- the binding key -------------------------------------------------- */

static int peer_seal_hook(SSL *ssl, const uint8_t *in, size_t in_len, CBB *out);

int tls_peer_start(void) {
  pthread_mutex_lock(&binding.lock);
  int ok = binding.have_key || RAND_bytes(binding.key, sizeof(binding.key));
  binding.have_key = ok;
  pthread_mutex_unlock(&binding.lock);
  /* Installed once, before the completion thread that seals exists. */
  tls_ticket_set_seal_hook(peer_seal_hook);
  return ok;
}

void tls_peer_rotate_binding_key(void) {
  pthread_mutex_lock(&binding.lock);
  binding.have_key = RAND_bytes(binding.key, sizeof(binding.key));
  pthread_mutex_unlock(&binding.lock);
}

void tls_peer_stop(void) {
  pthread_mutex_lock(&binding.lock);
  OPENSSL_cleanse(binding.key, sizeof(binding.key));
  binding.have_key = 0;
  pthread_mutex_unlock(&binding.lock);
}

/* peer_binding_mac computes the MAC of a binding |body| for the session
 * with |secret| and |sid_ctx|. Returns 1, or 0 without a key. */
static int peer_binding_mac(const uint8_t *secret, size_t secret_len,
                            const uint8_t *sid_ctx, size_t sid_ctx_len,
                            const uint8_t *body, size_t body_len,
                            uint8_t out[PEER_BINDING_MAC_LEN]) {
  uint8_t lens[4] = {(uint8_t)(secret_len >> 8), (uint8_t)secret_len,
                     (uint8_t)(sid_ctx_len >> 8), (uint8_t)sid_ctx_len};
  unsigned out_len = 0;
  int ok = 0;
  HMAC_CTX hmac;
  HMAC_CTX_init(&hmac);
  pthread_mutex_lock(&binding.lock);
  if (binding.have_key) {
    ok = HMAC_Init_ex(&hmac, binding.key, sizeof(binding.key), EVP_sha256(),
                      NULL) &&
         HMAC_Update(&hmac, (const uint8_t *)PEER_BINDING_CONTEXT,
                     sizeof(PEER_BINDING_CONTEXT)) &&
         HMAC_Update(&hmac, lens, sizeof(lens)) &&
         HMAC_Update(&hmac, secret, secret_len) &&
         HMAC_Update(&hmac, sid_ctx, sid_ctx_len) &&
         HMAC_Update(&hmac, body, body_len) &&
         HMAC_Final(&hmac, out, &out_len) && out_len == PEER_BINDING_MAC_LEN;
  }
  pthread_mutex_unlock(&binding.lock);
  HMAC_CTX_cleanup(&hmac);
  return ok;
}

/* ---- the binding's format --------------------------------------------- */

int tls_peer_binding_body(CBB *out, int64_t authenticated_at,
                          const uint8_t chain_sha256[SHA256_DIGEST_LENGTH],
                          const char *subject) {
  size_t subject_len = strlen(subject);
  CBB text;
  return subject_len <= IPC_MAX_REASON &&
         peer_text_ok((const uint8_t *)subject, subject_len) &&
         CBB_add_bytes(out, (const uint8_t *)PEER_BINDING_MAGIC,
                       PEER_BINDING_MAGIC_LEN) &&
         CBB_add_u64(out, (uint64_t)authenticated_at) &&
         CBB_add_bytes(out, chain_sha256, SHA256_DIGEST_LENGTH) &&
         CBB_add_u16_length_prefixed(out, &text) &&
         CBB_add_bytes(&text, (const uint8_t *)subject, subject_len) &&
         CBB_flush(out);
}

int tls_peer_parse_binding(const uint8_t *blob, size_t len,
                           tls_peer_binding *out) {
  CBS cbs, magic, digest, subject, mac;
  uint64_t at = 0;
  memset(out, 0, sizeof(*out));
  CBS_init(&cbs, blob, len);
  if (len == 0 || !CBS_get_bytes(&cbs, &magic, PEER_BINDING_MAGIC_LEN) ||
      memcmp(CBS_data(&magic), PEER_BINDING_MAGIC, PEER_BINDING_MAGIC_LEN) !=
          0 ||
      !CBS_get_u64(&cbs, &at) ||
      !CBS_get_bytes(&cbs, &digest, SHA256_DIGEST_LENGTH) ||
      !CBS_get_u16_length_prefixed(&cbs, &subject) ||
      CBS_len(&subject) > IPC_MAX_REASON ||
      !peer_text_ok(CBS_data(&subject), CBS_len(&subject)) ||
      !CBS_get_bytes(&cbs, &mac, PEER_BINDING_MAC_LEN) || CBS_len(&cbs) != 0) {
    return 0;
  }
  out->authenticated_at = (int64_t)at;
  memcpy(out->chain_sha256, CBS_data(&digest), SHA256_DIGEST_LENGTH);
  memcpy(out->subject, CBS_data(&subject), CBS_len(&subject));
  out->subject[CBS_len(&subject)] = '\0';
  memcpy(out->mac, CBS_data(&mac), PEER_BINDING_MAC_LEN);
  out->body_len = len - PEER_BINDING_MAC_LEN;
  return 1;
}

/* ---- sealing: bind the identity into the ticket ----------------------- */

/* peer_seal_hook (tls_ticket_seal_hook_fn): the session main seals for a
 * connection with a vouched identity gets the binding; any other session
 * is sealed as it is (and, if it holds a certificate, will not resume). */
static int peer_seal_hook(SSL *ssl, const uint8_t *in, size_t in_len,
                          CBB *out) {
  tls_conn *conn = SSL_get_app_data(ssl);
  const tls_peer_identity *id = conn != NULL ? conn->identity : NULL;
  if (id == NULL || id->state != TLS_VERIFY_ACCEPTED) {
    return CBB_add_bytes(out, in, in_len);
  }
  SSL_SESSION *session =
      SSL_SESSION_from_bytes(in, in_len, SSL_get_SSL_CTX(ssl));
  uint8_t secret[SSL_MAX_MASTER_KEY_LENGTH];
  uint8_t digest[SHA256_DIGEST_LENGTH];
  uint8_t mac[PEER_BINDING_MAC_LEN];
  size_t secret_len = 0;
  unsigned sid_ctx_len = 0;
  const uint8_t *sid_ctx = NULL;
  int bound = 0;
  CBB body;
  CBB_zero(&body);
  if (session != NULL &&
      peer_chain_sha256(SSL_SESSION_get0_peer_certificates(session), digest) &&
      CRYPTO_memcmp(digest, id->chain_sha256, sizeof(digest)) == 0) {
    secret_len = SSL_SESSION_get_master_key(session, secret, sizeof(secret));
    sid_ctx = SSL_SESSION_get0_id_context(session, &sid_ctx_len);
    bound = secret_len > 0 && CBB_init(&body, 128 + strlen(id->subject)) &&
            tls_peer_binding_body(&body, id->authenticated_at, digest,
                                  id->subject) &&
            peer_binding_mac(secret, secret_len, sid_ctx, sid_ctx_len,
                             CBB_data(&body), CBB_len(&body), mac) &&
            CBB_add_bytes(&body, mac, sizeof(mac)) && CBB_flush(&body) &&
            CBB_len(&body) + 16 <= TLS_TICKET_SEAL_HOOK_MAX;
  }
  int ok =
      bound ? tls_session_der_set_field(in, in_len, TLS_SESSION_BINDING_FIELD,
                                        CBB_data(&body), CBB_len(&body), out)
            : CBB_add_bytes(out, in, in_len);
  CBB_cleanup(&body);
  OPENSSL_cleanse(secret, sizeof(secret));
  SSL_SESSION_free(session);
  ERR_clear_error();
  return ok;
}

/* ---- after the handback: a resumed identity --------------------------- */

int tls_peer_on_handback(tls_conn *conn, char *err, size_t err_len) {
  SSL_set_app_data(conn->ssl, conn);
  if (!SSL_session_reused(conn->ssl)) {
    return 1; /* a full handshake: main reads and verifies the chain */
  }
  SSL_SESSION *session = SSL_get_session(conn->ssl);
  const STACK_OF(CRYPTO_BUFFER) *certs =
      session != NULL ? SSL_SESSION_get0_peer_certificates(session) : NULL;
  if (certs == NULL || sk_CRYPTO_BUFFER_num(certs) == 0) {
    return 1; /* no identity claimed */
  }
  const uint8_t *blob = NULL;
  size_t blob_len = 0;
  SSL_SESSION_get0_ocsp_response(session, &blob, &blob_len);
  tls_peer_binding binding;
  if (!tls_peer_parse_binding(blob, blob_len, &binding)) {
    snprintf(err, err_len,
             "resumed session claims a client certificate main never bound "
             "(forged by a handshaker?)");
    return 0;
  }
  uint8_t secret[SSL_MAX_MASTER_KEY_LENGTH];
  uint8_t expected[PEER_BINDING_MAC_LEN], actual[SHA256_DIGEST_LENGTH];
  unsigned sid_ctx_len = 0;
  const uint8_t *sid_ctx = SSL_SESSION_get0_id_context(session, &sid_ctx_len);
  size_t secret_len =
      SSL_SESSION_get_master_key(session, secret, sizeof(secret));
  int mac_ok = secret_len > 0 &&
               peer_binding_mac(secret, secret_len, sid_ctx, sid_ctx_len, blob,
                                binding.body_len, expected) &&
               CRYPTO_memcmp(expected, binding.mac, sizeof(expected)) == 0;
  OPENSSL_cleanse(secret, sizeof(secret));
  peer_chain_sha256(certs, actual);
  if (!mac_ok ||
      CRYPTO_memcmp(actual, binding.chain_sha256, sizeof(actual)) != 0) {
    snprintf(err, err_len,
             "resumed session's client identity does not match main's "
             "binding (forged by a handshaker?)");
    return 0;
  }
  long long timeout =
      conn->gen != NULL && conn->gen->settings.session_cache_timeout > 0
          ? conn->gen->settings.session_cache_timeout
          : 300;
  long long now = (long long)time(NULL);
  long long at = (long long)binding.authenticated_at;
  if (at > now + PEER_BINDING_CLOCK_SLACK ||
      now - at > timeout + PEER_BINDING_CLOCK_SLACK) {
    snprintf(err, err_len,
             "resumed session's client identity is older than "
             "tls-session-cache-timeout");
    return 0;
  }
  tls_peer_identity *id = peer_identity(conn);
  if (id == NULL) {
    snprintf(err, err_len, "out of memory");
    return 0;
  }
  id->state = TLS_VERIFY_ACCEPTED;
  id->resumed = 1;
  id->authenticated_at = (int64_t)at;
  memcpy(id->chain_sha256, actual, sizeof(actual));
  const CRYPTO_BUFFER *leaf = sk_CRYPTO_BUFFER_value(certs, 0);
  SHA256(CRYPTO_BUFFER_data(leaf), CRYPTO_BUFFER_len(leaf), id->leaf_sha256);
  memcpy(id->subject, binding.subject, sizeof(id->subject));
  return 1;
}

/* ---- the verify callback ---------------------------------------------- */

static enum ssl_verify_result_t peer_verify_callback(SSL *ssl,
                                                     uint8_t *out_alert) {
  tls_conn *conn = SSL_get_app_data(ssl);
  tls_peer_identity *id = conn != NULL ? peer_identity(conn) : NULL;
  if (id == NULL) {
    *out_alert = SSL_AD_INTERNAL_ERROR;
    return ssl_verify_invalid;
  }
  switch (id->state) {
    case TLS_VERIFY_NONE:
      id->state = TLS_VERIFY_WANTED;
      return ssl_verify_retry;
    case TLS_VERIFY_WANTED:
    case TLS_VERIFY_PENDING:
      return ssl_verify_retry;
    case TLS_VERIFY_ACCEPTED: {
      /* The verdict is for the chain main sent: the same one, still. */
      uint8_t digest[SHA256_DIGEST_LENGTH];
      if (!id->resumed &&
          peer_chain_sha256(SSL_get0_peer_certificates(ssl), digest) &&
          CRYPTO_memcmp(digest, id->chain_sha256, sizeof(digest)) == 0) {
        return ssl_verify_ok;
      }
      id->state = TLS_VERIFY_REFUSED;
      id->verify_error = X509_V_ERR_UNSPECIFIED;
      *out_alert = SSL_AD_INTERNAL_ERROR;
      return ssl_verify_invalid;
    }
    default:
      *out_alert = (uint8_t)SSL_alert_from_verify_result(id->verify_error);
      return ssl_verify_invalid;
  }
}

void tls_peer_client_verify(SSL_CTX *ctx) {
  SSL_CTX_set_custom_verify(ctx, SSL_VERIFY_PEER, peer_verify_callback);
  SSL_CTX_set_max_cert_list(ctx, TLS_MAX_PEER_CERT_LIST);
}

SSL_CTX *tls_peer_ctx_new(const tls_settings *settings, char *err,
                          size_t err_len) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_with_buffers_method());
  if (ctx == NULL) {
    snprintf(err, err_len, "SSL_CTX_new failed");
    return NULL;
  }
  if (!tls_apply_cipher_policy(ctx, settings, NULL, 0, err, err_len) ||
      !tls_apply_session_policy(ctx, settings)) {
    SSL_CTX_free(ctx);
    return NULL;
  }
  /* The handshaker sends the CertificateRequest; main reads the answer:
   * both need the verify mode. The CA is the verifiers' alone. */
  SSL_CTX_set_custom_verify(ctx, tls_verify_mode(settings->auth_clients),
                            peer_verify_callback);
  SSL_CTX_set_max_cert_list(ctx, TLS_MAX_PEER_CERT_LIST);
  SSL_CTX_set_mode(
      ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return ctx;
}

/* ---- the verifier's round trip (main's loop) -------------------------- */

/* peer_refuse records a refusal that no verifier made. */
static void peer_refuse(tls_peer_identity *id, uint32_t error,
                        const char *why) {
  id->state = TLS_VERIFY_REFUSED;
  id->verify_error = error;
  snprintf(id->reason, sizeof(id->reason), "%s", why);
}

/* peer_resume continues |conn|'s handshake after a verdict. */
static void peer_resume(tls_conn *conn) {
  if (conn->is_client) {
    tls_client_step(conn);
  } else {
    tls_conn_resume_finish(conn);
  }
}

int tls_peer_begin_verify(tls_conn *conn,
                          const uint8_t *certs[IPC_MAX_CHAIN_CERTS],
                          size_t lens[IPC_MAX_CHAIN_CERTS], size_t *count) {
  tls_peer_identity *id = peer_identity(conn);
  const STACK_OF(CRYPTO_BUFFER) *chain =
      conn->ssl != NULL ? SSL_get0_peer_certificates(conn->ssl) : NULL;
  size_t n = chain != NULL ? sk_CRYPTO_BUFFER_num(chain) : 0;
  *count = 0;
  if (id == NULL) {
    return 0;
  }
  if (id->state != TLS_VERIFY_WANTED) {
    peer_refuse(id, X509_V_ERR_UNSPECIFIED, "verification out of order");
    return 0;
  }
  if (n == 0 || n > IPC_MAX_CHAIN_CERTS) {
    peer_refuse(
        id, n == 0 ? X509_V_ERR_UNSPECIFIED : X509_V_ERR_CERT_CHAIN_TOO_LONG,
        n == 0 ? "no certificate" : "certificate chain too long");
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    const CRYPTO_BUFFER *cert = sk_CRYPTO_BUFFER_value(chain, i);
    certs[i] = CRYPTO_BUFFER_data(cert);
    lens[i] = CRYPTO_BUFFER_len(cert);
  }
  peer_chain_sha256(chain, id->chain_sha256);
  SHA256(certs[0], lens[0], id->leaf_sha256);
  id->state = TLS_VERIFY_PENDING;
  *count = n;
  return 1;
}

int tls_peer_request_verify(tls_conn *conn) {
  const uint8_t *certs[IPC_MAX_CHAIN_CERTS];
  size_t lens[IPC_MAX_CHAIN_CERTS];
  size_t count = 0;
  if (!tls_peer_begin_verify(conn, certs, lens, &count)) {
    peer_resume(conn); /* refused: the handshake fails */
    return 0;
  }
  tls_peer_identity *id = conn->identity;
  if (!tls_pool_submit_verify(conn,
                              conn->is_client ? IPC_VERIFY_PURPOSE_SERVER
                                              : IPC_VERIFY_PURPOSE_CLIENT,
                              certs, lens, count)) {
    peer_refuse(id, X509_V_ERR_UNSPECIFIED,
                "no certificate verifier is running (tls-ca-cert-file or "
                "tls-ca-cert-dir must be set)");
    peer_resume(conn);
    return 0;
  }
  return 1;
}

void tls_peer_on_answer(tls_conn *conn, const ipc_message *answer) {
  if (conn->close_pending || conn->identity == NULL) {
    return;
  }
  tls_peer_record_verdict(conn, answer);
  peer_resume(conn);
}

void tls_peer_record_verdict(tls_conn *conn, const ipc_message *answer) {
  tls_peer_identity *id = conn->identity;
  if (id == NULL) {
    return;
  }
  char fingerprint[2 * SHA256_DIGEST_LENGTH + 1];
  peer_hex(id->leaf_sha256, sizeof(id->leaf_sha256), fingerprint,
           sizeof(fingerprint));
  if (id->state != TLS_VERIFY_PENDING) {
    peer_refuse(id, X509_V_ERR_UNSPECIFIED, "unexpected verdict");
  } else if (answer->type == IPC_ANS_VERIFIED && answer->verdict == 1) {
    id->state = TLS_VERIFY_ACCEPTED;
    id->authenticated_at = (int64_t)time(NULL);
    snprintf(id->subject, sizeof(id->subject), "%s", answer->cert_subject);
    snprintf(id->sans, sizeof(id->sans), "%s", answer->cert_sans);
    tls_log(TLS_LOG_VERBOSE,
            "TLS %s certificate verified: peer=%s subject=%s sans=%s "
            "sha256=%s",
            conn->is_client ? "server" : "client", conn->peer, id->subject,
            id->sans[0] ? id->sans : "-", fingerprint);
  } else if (answer->type == IPC_ANS_VERIFIED) {
    peer_refuse(id, answer->verify_error, answer->reason);
    snprintf(id->subject, sizeof(id->subject), "%s", answer->cert_subject);
    tls_log(TLS_LOG_VERBOSE,
            "TLS %s certificate refused by the verifier: peer=%s subject=%s "
            "sha256=%s reason=\"%s\"",
            conn->is_client ? "server" : "client", conn->peer,
            id->subject[0] ? id->subject : "-", fingerprint, id->reason);
  } else {
    peer_refuse(
        id, X509_V_ERR_UNSPECIFIED,
        answer->type == IPC_ANS_FAIL ? answer->reason : "unexpected answer");
  }
}

long tls_peer_verify_result(const tls_conn *conn) {
  const tls_peer_identity *id = conn->identity;
  return id != NULL && id->state == TLS_VERIFY_REFUSED ? (long)id->verify_error
                                                       : X509_V_OK;
}

int tls_peer_check(tls_conn *conn, char *subject, size_t subject_len, char *err,
                   size_t err_len) {
  int auth =
      conn->is_client ? TLS_CLIENT_AUTH_YES : conn->gen->settings.auth_clients;
  const char *who = conn->is_client ? "server" : "client";
  const STACK_OF(CRYPTO_BUFFER) *chain = SSL_get0_peer_certificates(conn->ssl);
  size_t count = chain != NULL ? sk_CRYPTO_BUFFER_num(chain) : 0;
  const tls_peer_identity *id = conn->identity;
  int vouched = id != NULL && id->state == TLS_VERIFY_ACCEPTED;
  uint8_t digest[SHA256_DIGEST_LENGTH];
  if (count > 0 && !vouched) {
    snprintf(err, err_len,
             "%s certificate in the session was not verified for this "
             "connection",
             who);
    return 0;
  }
  if (vouched &&
      (!peer_chain_sha256(chain, digest) ||
       CRYPTO_memcmp(digest, id->chain_sha256, sizeof(digest)) != 0)) {
    snprintf(err, err_len, "%s certificate changed after verification", who);
    return 0;
  }
  if (auth == TLS_CLIENT_AUTH_YES && !vouched) {
    snprintf(err, err_len, "no %s certificate", who);
    return 0;
  }
  if (subject_len > 0) {
    snprintf(subject, subject_len, "%s", vouched ? id->subject : "");
  }
  return 1;
}
