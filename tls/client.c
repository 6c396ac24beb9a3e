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
 * What main parses: the server's certificate chain (verified in main with
 * X509_verify_cert, as in any TLS client). The peer is the master the
 * operator configured, not an anonymous client, but the bytes are still
 * outside bytes: docs/THREAT-MODEL.md records it.
 *
 * A handshaker signs whatever main asks for with the client key: a
 * compromised main can obtain signatures (an oracle) but never the key. */
#include <openssl/err.h>
#include <openssl/mem.h>
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

/* client_ctx returns |gen|'s client context, built at first use. NULL with
 * |err|. */
static SSL_CTX *client_ctx(tls_generation *gen, char *err, size_t err_len) {
  if (gen->client_ctx != NULL) {
    return gen->client_ctx;
  }
  const tls_settings *s = &gen->settings;
  char why[256];
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  if (ctx == NULL) {
    snprintf(err, err_len, "SSL_CTX_new failed");
    return NULL;
  }
  if (!tls_apply_cipher_policy(ctx, s, NULL, 0, err, err_len) ||
      !tls_load_verify_locations(ctx, s, err, err_len)) {
    SSL_CTX_free(ctx);
    return NULL;
  }
  /* The public half only: the chain file holds no key (and if it did,
   * nothing here reads one). */
  const char *chain = s->client_cert_file ? s->client_cert_file : s->cert_file;
  if (chain != NULL && SSL_CTX_use_certificate_chain_file(ctx, chain) <= 0) {
    tls_collect_errors(why, sizeof(why));
    tls_format(err, err_len, "Failed to load client certificate: %.120s: %s",
               chain, why);
    SSL_CTX_free(ctx);
    return NULL;
  }
  if (chain != NULL) {
    SSL_CTX_set_private_key_method(ctx, &client_key_method);
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
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
    default:
      break;
  }
  char errors[IPC_MAX_REASON];
  long verify = SSL_get_verify_result(conn->ssl);
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
