/* client.c: outgoing TLS connections (tls-replication: a replica connects
 * to its master over TLS).
 *
 * The client key stays in the sandbox. Main runs the client handshake on
 * its own SSL, built on a context that holds only the public certificate
 * chain (tls-client-cert-file, else tls-cert-file, as Redis falls back) and
 * the CA (tls-ca-cert-file/-dir) to verify the server with. The one private
 * key operation of a client handshake, the CertificateVerify signature, goes
 * through an asynchronous SSL_PRIVATE_KEY_METHOD: |sign| sends a SIGN
 * request to a handshaker of the connection's generation (which loaded the
 * key itself) and returns ssl_private_key_retry; SSL_do_handshake then
 * reports SSL_ERROR_WANT_PRIVATE_KEY_OPERATION and main watches nothing on
 * the socket until the SIGNED answer arrives; |complete| hands the
 * signature to BoringSSL. A handback is not possible here: BoringSSL's
 * handoff/handback API serves only the server side.
 *
 * What main parses: no X.509. The context is built on
 * TLS_with_buffers_method: the server's chain stays opaque DER buffers
 * (at most TLS_MAX_PEER_CERT_LIST) that a verifier process checks
 * (tls/peer.c, IPC VERIFY with purpose "server"), as for incoming clients;
 * main only takes the leaf's public key (BoringSSL's bounds-checked CBS
 * walk to the SubjectPublicKeyInfo) to check the server's signature. Our
 * own certificate chain is read from PEM as DER, unparsed.
 *
 * A handshaker signs whatever main asks for with the client key: a
 * compromised main can obtain signatures (an oracle) but never the key. */
#include <openssl/bytestring.h>
#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/pem.h>
#include <openssl/pool.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/internal.h"
#include "tls/tls.h"

static char client_last_error[IPC_MAX_REASON + 64];

const char *tls_client_last_error(void) { return client_last_error; }

static tls_conn *client_of(const SSL *ssl) {
  return (tls_conn *)SSL_get_app_data(ssl);
}

static void client_wipe_signature(tls_conn *conn) {
  if (conn->signature != NULL) {
    OPENSSL_cleanse(conn->signature, conn->signature_len);
    free(conn->signature);
    conn->signature = NULL;
    conn->signature_len = 0;
  }
}

/* ---- the private key method ----------------------------------------- */

static enum ssl_private_key_result_t client_sign(
    SSL *ssl, uint8_t *out, size_t *out_len, size_t max_out, uint16_t sigalg,
    const uint8_t *in, size_t in_len) {
  (void)out;
  (void)out_len;
  (void)max_out;
  tls_conn *conn = client_of(ssl);
  if (conn == NULL || conn->sign_state == TLS_SIGN_PENDING) {
    return ssl_private_key_failure;
  }
  client_wipe_signature(conn);
  if (!tls_pool_submit_sign(conn, sigalg, in, in_len)) {
    snprintf(client_last_error, sizeof(client_last_error),
             "no TLS handshaker could sign for the client certificate");
    return ssl_private_key_failure;
  }
  conn->sign_state = TLS_SIGN_PENDING;
  return ssl_private_key_retry;
}

static enum ssl_private_key_result_t client_decrypt(SSL *ssl, uint8_t *out,
                                                    size_t *out_len,
                                                    size_t max_out,
                                                    const uint8_t *in,
                                                    size_t in_len) {
  /* Only a server decrypts (RSA key exchange, which is disabled anyway). */
  (void)ssl;
  (void)out;
  (void)out_len;
  (void)max_out;
  (void)in;
  (void)in_len;
  return ssl_private_key_failure;
}

static enum ssl_private_key_result_t client_complete(SSL *ssl, uint8_t *out,
                                                     size_t *out_len,
                                                     size_t max_out) {
  tls_conn *conn = client_of(ssl);
  if (conn == NULL) {
    return ssl_private_key_failure;
  }
  switch (conn->sign_state) {
    case TLS_SIGN_PENDING:
      return ssl_private_key_retry;
    case TLS_SIGN_READY:
      if (conn->signature_len > max_out) {
        break;
      }
      memcpy(out, conn->signature, conn->signature_len);
      *out_len = conn->signature_len;
      client_wipe_signature(conn);
      conn->sign_state = TLS_SIGN_NONE;
      return ssl_private_key_success;
    default:
      break;
  }
  client_wipe_signature(conn);
  conn->sign_state = TLS_SIGN_NONE;
  return ssl_private_key_failure;
}

static const SSL_PRIVATE_KEY_METHOD client_key_method = {
    .sign = client_sign,
    .decrypt = client_decrypt,
    .complete = client_complete,
};

/* ---- the client context ---------------------------------------------- */

void tls_client_ctx_free(tls_generation *gen) {
  SSL_CTX_free(gen->client_ctx);
  gen->client_ctx = NULL;
}

/* client_load_chain reads the PEM certificates of |path| as DER buffers
 * (no X509 object), leaf first, into |out| (at most |max|). Returns the
 * count, 0 if there is none or on error. */
static size_t client_load_chain(const char *path, CRYPTO_BUFFER **out,
                                size_t max) {
  BIO *bio = BIO_new_file(path, "r");
  size_t count = 0;
  if (bio == NULL) {
    return 0;
  }
  for (;;) {
    char *name = NULL, *header = NULL;
    uint8_t *data = NULL;
    long len = 0;
    if (!PEM_read_bio(bio, &name, &header, &data, &len)) {
      break;
    }
    int wanted = strcmp(name, "CERTIFICATE") == 0 ||
                 strcmp(name, "X509 CERTIFICATE") == 0 ||
                 strcmp(name, "TRUSTED CERTIFICATE") == 0;
    CBS der, cert;
    CBS_init(&der, data, (size_t)len);
    /* A TRUSTED CERTIFICATE is the certificate followed by trust data. */
    if (wanted && count < max &&
        CBS_get_asn1_element(&der, &cert, CBS_ASN1_SEQUENCE) &&
        (CBS_len(&der) == 0 || strcmp(name, "TRUSTED CERTIFICATE") == 0)) {
      out[count] = CRYPTO_BUFFER_new_from_CBS(&cert, NULL);
      if (out[count] != NULL) {
        count++;
      }
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
  }
  ERR_clear_error();
  BIO_free(bio);
  return count;
}

/* client_ctx returns |gen|'s client context, built at first use. NULL with
 * |err|. */
static SSL_CTX *client_ctx(tls_generation *gen, char *err, size_t err_len) {
  if (gen->client_ctx != NULL) {
    return gen->client_ctx;
  }
  const tls_settings *s = &gen->settings;
  char why[256];
  SSL_CTX *ctx = SSL_CTX_new(TLS_with_buffers_method());
  if (ctx == NULL) {
    snprintf(err, err_len, "SSL_CTX_new failed");
    return NULL;
  }
  if (!tls_apply_cipher_policy(ctx, s, NULL, 0, err, err_len)) {
    SSL_CTX_free(ctx);
    return NULL;
  }
  /* The public half only: the chain file holds no key (and if it did,
   * nothing here reads one). */
  const char *chain = s->client_cert_file ? s->client_cert_file : s->cert_file;
  if (chain != NULL) {
    CRYPTO_BUFFER *certs[IPC_MAX_CHAIN_CERTS];
    size_t count = client_load_chain(chain, certs, IPC_MAX_CHAIN_CERTS);
    int ok = count > 0 && SSL_CTX_set_chain_and_key(ctx, certs, count, NULL,
                                                    &client_key_method);
    for (size_t i = 0; i < count; i++) {
      CRYPTO_BUFFER_free(certs[i]);
    }
    if (!ok) {
      tls_collect_errors(why, sizeof(why));
      tls_format(err, err_len, "Failed to load client certificate: %.120s: %s",
                 chain, why[0] ? why : "no certificate");
      SSL_CTX_free(ctx);
      return NULL;
    }
  }
  /* The server's chain goes to a verifier (the CA is the verifiers'). */
  tls_peer_client_verify(ctx);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_mode(
      ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  gen->client_ctx = ctx;
  return ctx;
}

/* ---- the handshake --------------------------------------------------- */

void tls_client_step(tls_conn *conn) {
  ERR_clear_error();
  int ret = SSL_do_handshake(conn->ssl);
  if (ret == 1) {
    tls_conn_handshake_done(conn);
    return;
  }
  int code = SSL_get_error(conn->ssl, ret);
  switch (code) {
    case SSL_ERROR_WANT_READ:
      tls_conn_watch(conn, 1, 0);
      return;
    case SSL_ERROR_WANT_WRITE:
      tls_conn_watch(conn, 0, 1);
      return;
    case SSL_ERROR_WANT_PRIVATE_KEY_OPERATION:
      /* A handshaker signs; its answer resumes the handshake. */
      tls_conn_watch(conn, 0, 0);
      return;
    case SSL_ERROR_WANT_CERTIFICATE_VERIFY:
      /* A verifier checks the server's chain; its verdict resumes it. */
      tls_conn_watch(conn, 0, 0);
      tls_peer_request_verify(conn);
      return;
    default:
      break;
  }
  char errors[IPC_MAX_REASON];
  long verify = tls_peer_verify_result(conn);
  tls_collect_errors(errors, sizeof(errors));
  if (client_last_error[0] == '\0' || code != SSL_ERROR_SSL) {
    snprintf(
        client_last_error, sizeof(client_last_error), "%s%s%s",
        errors[0] ? errors : tls_ssl_error_name(code),
        verify != X509_V_OK && verify != X509_V_ERR_INVALID_CALL ? ": " : "",
        verify != X509_V_OK && verify != X509_V_ERR_INVALID_CALL
            ? X509_verify_cert_error_string(verify)
            : "");
  }
  tls_conn_handshake_failed(conn, code, verify, errors);
}

void tls_client_on_answer(tls_conn *conn, const ipc_message *answer) {
  if (conn->close_pending) {
    return;
  }
  if (answer->type == IPC_ANS_SIGNED && conn->sign_state == TLS_SIGN_PENDING) {
    conn->signature = malloc(answer->data_len);
    if (conn->signature != NULL) {
      memcpy(conn->signature, answer->data, answer->data_len);
      conn->signature_len = answer->data_len;
      conn->sign_state = TLS_SIGN_READY;
    } else {
      conn->sign_state = TLS_SIGN_FAILED;
    }
  } else {
    snprintf(
        client_last_error, sizeof(client_last_error), "handshaker: %s",
        answer->type == IPC_ANS_FAIL ? answer->reason : "unexpected answer");
    conn->sign_state = TLS_SIGN_FAILED;
  }
  tls_client_step(conn);
}

connection *tls_client_connect(ae_loop *loop, int fd, const char *peer,
                               conn_handler done, char *err, size_t err_len) {
  client_last_error[0] = '\0';
  tls_generation *gen = tls_pool_current_generation();
  if (gen == NULL) {
    snprintf(err, err_len,
             "TLS is not configured (tls-cert-file, tls-key-file and "
             "tls-ca-cert-file are needed for tls-replication)");
    return NULL;
  }
  SSL_CTX *ctx = client_ctx(gen, err, err_len);
  if (ctx == NULL) {
    return NULL;
  }
  tls_conn *conn = tls_conn_new(loop, fd, "", peer, TLS_HANDSHAKE_CLIENT);
  if (conn == NULL) {
    snprintf(err, err_len, "out of memory");
    return NULL;
  }
  conn->is_client = 1;
  conn->gen = gen;
  gen->refs++;
  conn->accept_handler = done;
  ERR_clear_error();
  conn->ssl = SSL_new(ctx);
  if (conn->ssl == NULL || !SSL_set_fd(conn->ssl, fd)) {
    tls_collect_errors(err, err_len);
    conn->c.fd = -1; /* the caller keeps the fd */
    conn->accept_handler = NULL;
    conn_close(&conn->c);
    return NULL;
  }
  SSL_set_app_data(conn->ssl, conn);
  SSL_set_connect_state(conn->ssl);
  /* The handshake starts when the loop finds the socket writable (|done|
   * is never called before this returns). */
  tls_conn_watch(conn, 0, 1);
  return &conn->c;
}
