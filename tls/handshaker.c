/* handshaker.c: the handshaker process (this binary started as
 * "<exe> --redoubt-tls-handshaker 3" by pool.c).
 *
 * It reads its configuration from main, loads certificate, private key, CA
 * and DH params itself, builds two contexts, confines itself with
 * sandbox_enter and then serves requests forever:
 *
 *   RECORD{id, bytes}  feed one TLS record to conn |id|'s SSL on memory
 *                      BIOs: first a handoff-mode SSL until the ClientHello
 *                      is complete (SSL_ERROR_HANDOFF), then a second SSL
 *                      holding the key (SSL_apply_handoff) until
 *                      SSL_ERROR_HANDBACK. Answers NEED_INPUT / DONE / FAIL.
 *   ABORT{id}          main dropped the connection: forget it.
 *   TICKET_KEYS        replace the session-ticket keys.
 *
 * It never touches a network socket. Only recvmsg/sendmsg on the IPC fd and
 * write(2) to stderr are used after sandboxing (the seccomp policy lives in
 * sandbox/). Any malformed request from main ends the process: main then
 * respawns it. */
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/bytestring.h>
#include <openssl/crypto.h>
#include <openssl/dh.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/ipc.h"
#include "sandbox/sandbox.h"
#include "tls/handshaker.h"
#include "tls/internal_common.h"

/* Connections one handshaker tracks at once; main's in-flight cap is the
 * real limit, this one protects the handshaker from a confused main. */
#define HANDSHAKER_MAX_CONNS 4096
/* Initial CBB capacities (they grow). */
#define HANDSHAKER_HANDOFF_CAP 512
#define HANDSHAKER_HANDBACK_CAP 2048

typedef enum { HS_PHASE_HANDOFF = 0, HS_PHASE_HANDSHAKE } hs_phase;

typedef struct hs_conn {
  uint64_t id;
  hs_phase phase;
  SSL *ssl;
  BIO *rbio, *wbio; /* owned by |ssl| */
} hs_conn;

static struct {
  int fd;
  SSL_CTX *handoff_ctx;   /* no key: parses the ClientHello */
  SSL_CTX *handshake_ctx; /* certificate + key */
  hs_conn *conns;         /* dense array, swap-removed */
  size_t conn_count;
  uint8_t in[IPC_MAX_MESSAGE + 1];
  uint8_t out[IPC_MAX_MESSAGE];
  pid_t pid; /* cached: getpid is not in the seccomp allowlist */
#ifdef REDOUBT_TEST_HOOKS
  int misbehave_done; /* test: follow the next NEED_INPUT with a DONE */
  int misbehave_silent; /* test: never answer the next record (a hang) */
#endif
} hs;

/* Logging: plain write(2) to stderr (stdio could need more syscalls than
 * the sandbox allows). */
static void hs_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void hs_log(const char *fmt, ...) {
  char line[512];
  if (hs.pid == 0) {
    hs.pid = getpid(); /* before tls_handshaker_main set it */
  }
  int n = snprintf(line, sizeof(line), "%d:H * ", (int)hs.pid);
  if (n < 0) {
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
  va_end(ap);
  if (m < 0) {
    return;
  }
  size_t len = (size_t)n + (size_t)m;
  if (len > sizeof(line) - 2) {
    len = sizeof(line) - 2;
  }
  line[len++] = '\n';
  ssize_t ignored = write(2, line, len);
  (void)ignored;
}

int tls_is_handshaker_invocation(int argc, char **argv) {
  return argc >= 2 && argv[1] != NULL &&
         strcmp(argv[1], TLS_HANDSHAKER_ARG) == 0;
}

/* ---- IPC ------------------------------------------------------------ */

static int hs_send(const uint8_t *buf, size_t len) {
  struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  for (int attempt = 0; attempt < 1000; attempt++) {
    ssize_t n = sendmsg(hs.fd, &msg, MSG_NOSIGNAL);
    if (n == (ssize_t)len) {
      return 1;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    return 0;
  }
  return 0;
}

/* hs_recv returns the datagram length, 0 on EOF, -1 on error/truncation. */
static ssize_t hs_recv(void) {
  struct iovec iov = {.iov_base = hs.in, .iov_len = sizeof(hs.in)};
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  for (;;) {
    ssize_t n = recvmsg(hs.fd, &msg, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n > 0 && ((msg.msg_flags & MSG_TRUNC) || n > IPC_MAX_MESSAGE)) {
      return -1;
    }
    return n;
  }
}

static void hs_send_config_fail(const char *reason) {
  char clipped[IPC_MAX_REASON + 1];
  snprintf(clipped, sizeof(clipped), "%s", reason);
  size_t n = ipc_build_config_fail(hs.out, sizeof(hs.out), clipped);
  if (n > 0) {
    hs_send(hs.out, n);
  }
}

/* ---- contexts ------------------------------------------------------- */

static int hs_password_cb(char *buf, int size, int rwflag, void *userdata) {
  (void)rwflag;
  const char *pass = userdata;
  if (pass == NULL || size <= 0) {
    return 0;
  }
  size_t len = strlen(pass);
  if (len > (size_t)size) {
    return 0;
  }
  memcpy(buf, pass, len);
  return (int)len;
}

static int hs_load_dh_params(const char *path, char *err, size_t err_len) {
  BIO *bio = BIO_new_file(path, "r");
  if (bio == NULL) {
    ERR_clear_error();
    snprintf(err, err_len, "Failed to load DH params file: %.200s", path);
    return 0;
  }
  DH *dh = PEM_read_bio_DHparams(bio, NULL, NULL, NULL);
  BIO_free(bio);
  if (dh == NULL) {
    ERR_clear_error();
    snprintf(err, err_len, "Failed to load DH params file: %.200s", path);
    return 0;
  }
  /* BoringSSL has no finite-field DHE cipher suites: the parameters are
   * checked for validity and otherwise unused (see README). */
  DH_free(dh);
  return 1;
}

static SSL_CTX *hs_build_handoff_ctx(const tls_settings *s, char *err,
                                     size_t err_len) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  if (ctx == NULL) {
    snprintf(err, err_len, "SSL_CTX_new failed");
    return NULL;
  }
  if (!tls_apply_cipher_policy(ctx, s, NULL, 0, err, err_len) ||
      !tls_apply_session_policy(ctx, s)) {
    SSL_CTX_free(ctx);
    return NULL;
  }
  tls_shim_set_handoff_mode(ctx, 1);
  /* BoringSSL bounds a ClientHello by max_cert_list only when the verify
   * mode has SSL_VERIFY_PEER (else 16 KB). This context never verifies
   * anything (it stops at the ClientHello, and the verify mode is not part
   * of the handoff: the handshake context decides on CertificateRequest),
   * so the flag only lifts the size limit, to TLS_MAX_CLIENT_HELLO. */
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  SSL_CTX_set_max_cert_list(ctx, TLS_MAX_CLIENT_HELLO);
  return ctx;
}

static SSL_CTX *hs_build_handshake_ctx(const tls_settings *s, char *err,
                                       size_t err_len) {
  char why[256];
  if (s->cert_file == NULL || s->key_file == NULL) {
    snprintf(err, err_len,
             "tls-cert-file and tls-key-file must be set when TLS is enabled");
    return NULL;
  }
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  if (ctx == NULL) {
    snprintf(err, err_len, "SSL_CTX_new failed");
    return NULL;
  }
  if (!tls_apply_cipher_policy(ctx, s, NULL, 0, err, err_len) ||
      !tls_apply_session_policy(ctx, s)) {
    goto fail;
  }
  SSL_CTX_set_default_passwd_cb(ctx, hs_password_cb);
  SSL_CTX_set_default_passwd_cb_userdata(ctx, s->key_file_pass);
  if (SSL_CTX_use_certificate_chain_file(ctx, s->cert_file) <= 0) {
    tls_collect_errors(why, sizeof(why));
    tls_format(err, err_len, "Failed to load certificate: %.120s: %s",
               s->cert_file, why);
    goto fail;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, s->key_file, SSL_FILETYPE_PEM) <= 0) {
    tls_collect_errors(why, sizeof(why));
    tls_format(err, err_len, "Failed to load private key: %.120s: %s",
               s->key_file, why);
    goto fail;
  }
  if (!SSL_CTX_check_private_key(ctx)) {
    tls_collect_errors(why, sizeof(why));
    tls_format(err, err_len, "Private key does not match the certificate: %s",
               why);
    goto fail;
  }
  /* The passphrase is no longer needed. */
  SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
  if (!tls_load_verify_locations(ctx, s, err, err_len)) {
    goto fail;
  }
  /* The CertificateRequest comes from here: without the verify mode on
   * this context the client is never asked for a certificate. */
  SSL_CTX_set_verify(ctx, tls_verify_mode(s->auth_clients), NULL);
  /* A second ClientHello (after HelloRetryRequest) is read here. */
  SSL_CTX_set_max_cert_list(ctx, TLS_MAX_CLIENT_HELLO);
  if (s->auth_clients != TLS_CLIENT_AUTH_NO && s->ca_cert_file != NULL) {
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(s->ca_cert_file);
    if (names != NULL) {
      SSL_CTX_set_client_CA_list(ctx, names);
    }
    ERR_clear_error();
  }
  if (s->dh_params_file != NULL &&
      !hs_load_dh_params(s->dh_params_file, err, err_len)) {
    goto fail;
  }
  return ctx;
fail:
  SSL_CTX_free(ctx);
  return NULL;
}

/* hs_configure handles the first message. Returns 1 when READY was sent. */
static int hs_configure(size_t len) {
  ipc_message msg;
  char err[IPC_MAX_REASON + 1] = "";
  char sandbox_err[IPC_MAX_REASON + 1] = "";
  tls_settings settings;
  if (!ipc_parse_request(hs.in, len, &msg) || msg.type != IPC_REQ_CONFIG) {
    OPENSSL_cleanse(hs.in, len);
    hs_send_config_fail("first message was not a valid CONFIG");
    return 0;
  }
  tls_settings_from_ipc(&settings, &msg.config);
  if (msg.config.key_file_pass != NULL) {
    OPENSSL_cleanse((void *)msg.config.key_file_pass,
                    strlen(msg.config.key_file_pass));
  }
  ipc_message_cleanup(&msg);
  OPENSSL_cleanse(hs.in, len);

  hs.handoff_ctx = hs_build_handoff_ctx(&settings, err, sizeof(err));
  if (hs.handoff_ctx != NULL) {
    hs.handshake_ctx = hs_build_handshake_ctx(&settings, err, sizeof(err));
  }
  if (hs.handoff_ctx == NULL || hs.handshake_ctx == NULL) {
    tls_settings_free(&settings);
    hs_send_config_fail(err[0] ? err : "failed to build TLS contexts");
    return 0;
  }
  char subject[IPC_MAX_REASON + 1], issuer[IPC_MAX_REASON + 1];
  int64_t not_after = 0;
  X509 *leaf = SSL_CTX_get0_certificate(hs.handshake_ctx);
  subject[0] = issuer[0] = '\0';
  if (leaf != NULL) {
    int days = 0, secs = 0;
    tls_x509_name_text(X509_get_subject_name(leaf), subject, sizeof(subject),
                       0);
    tls_x509_name_text(X509_get_issuer_name(leaf), issuer, sizeof(issuer), 0);
    if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(leaf))) {
      not_after = (int64_t)time(NULL) + (int64_t)days * 86400 + secs;
    }
  }
  hs.conns = calloc(HANDSHAKER_MAX_CONNS, sizeof(hs_conn));
  if (hs.conns == NULL) {
    tls_settings_free(&settings);
    hs_send_config_fail("out of memory");
    return 0;
  }
  int seccomp = settings.seccomp;
  char user[IPC_MAX_PATH + 1] = "";
  if (settings.sandbox_user != NULL) {
    snprintf(user, sizeof(user), "%s", settings.sandbox_user);
  }
  tls_settings_free(&settings);
  if (!sandbox_enter(hs.fd, user[0] ? user : NULL, seccomp, sandbox_err,
                     sizeof(sandbox_err))) {
    char reason[IPC_MAX_REASON + 1];
    tls_format(reason, sizeof(reason), "sandbox: %s", sandbox_err);
    hs_send_config_fail(reason);
    return 0;
  }
  size_t n =
      ipc_build_ready(hs.out, sizeof(hs.out), subject, issuer, not_after);
  return n > 0 && hs_send(hs.out, n);
}

/* ---- connections ---------------------------------------------------- */

static hs_conn *hs_find(uint64_t id) {
  for (size_t i = 0; i < hs.conn_count; i++) {
    if (hs.conns[i].id == id) {
      return &hs.conns[i];
    }
  }
  return NULL;
}

static void hs_forget(hs_conn *c) {
  SSL_free(c->ssl); /* frees the BIOs */
  size_t index = (size_t)(c - hs.conns);
  hs.conn_count--;
  if (index != hs.conn_count) {
    hs.conns[index] = hs.conns[hs.conn_count];
  }
  memset(&hs.conns[hs.conn_count], 0, sizeof(hs_conn));
}

/* hs_attach_bios gives |ssl| fresh memory BIOs; an empty read BIO means
 * "want more input", not EOF. */
static int hs_attach_bios(hs_conn *c) {
  BIO *rbio = BIO_new(BIO_s_mem());
  BIO *wbio = BIO_new(BIO_s_mem());
  if (rbio == NULL || wbio == NULL) {
    BIO_free(rbio);
    BIO_free(wbio);
    return 0;
  }
  BIO_set_mem_eof_return(rbio, -1);
  SSL_set_bio(c->ssl, rbio, wbio);
  c->rbio = rbio;
  c->wbio = wbio;
  return 1;
}

static void hs_pending_out(hs_conn *c, const uint8_t **data, size_t *len) {
  *data = NULL;
  *len = 0;
  if (c->wbio != NULL) {
    BIO_mem_contents(c->wbio, data, len);
  }
}

/* hs_fail answers FAIL with |reason| and whatever alert bytes the SSL
 * produced (main writes them before closing), then forgets the conn. */
static void hs_fail(hs_conn *c, const char *what) {
  char reason[IPC_MAX_REASON + 1];
  char errors[IPC_MAX_REASON];
  const uint8_t *out;
  size_t out_len;
  tls_collect_errors(errors, sizeof(errors));
  tls_format(reason, sizeof(reason), "%s%s%s", what, errors[0] ? ": " : "",
             errors);
  hs_pending_out(c, &out, &out_len);
  if (out_len > IPC_MAX_OUT) {
    out_len = 0;
  }
  size_t n =
      ipc_build_fail(hs.out, sizeof(hs.out), c->id, reason, out, out_len);
  if (n > 0) {
    hs_send(hs.out, n);
  }
  hs_forget(c);
}

static void hs_need_input(hs_conn *c) {
  const uint8_t *out;
  size_t out_len;
  hs_pending_out(c, &out, &out_len);
  if (out_len > IPC_MAX_OUT) {
    hs_fail(c, "server flight too large");
    return;
  }
  size_t n = ipc_build_need_input(hs.out, sizeof(hs.out), c->id, out, out_len);
  if (n == 0) {
    hs_fail(c, "server flight does not fit a message");
    return;
  }
  if (!hs_send(hs.out, n)) {
    hs_forget(c);
    return;
  }
  BIO_reset(c->wbio);
#ifdef REDOUBT_TEST_HOOKS
  if (hs.misbehave_done) {
    /* Test: a handback for a connection main still reads records for. */
    static const uint8_t junk[1] = {0};
    hs.misbehave_done = 0;
    n = ipc_build_done(hs.out, sizeof(hs.out), c->id, NULL, 0, junk,
                       sizeof(junk), 0);
    hs_log("test: sending DONE for conn %llu while main reads its records",
           (unsigned long long)c->id);
    if (n > 0) {
      hs_send(hs.out, n);
    }
  }
#endif
}

/* hs_switch_to_handshake serializes the handoff SSL and continues on a
 * fresh SSL with the key. Returns 1, or 0 after answering FAIL. */
static int hs_switch_to_handshake(hs_conn *c) {
  CBB cbb;
  uint8_t leftover[IPC_MAX_RECORD];
  size_t leftover_len = 0;
  if (!CBB_init(&cbb, HANDSHAKER_HANDOFF_CAP)) {
    hs_fail(c, "out of memory");
    return 0;
  }
  if (!tls_shim_serialize_handoff(c->ssl, &cbb)) {
    CBB_cleanup(&cbb);
    hs_fail(c, "SSL_serialize_handoff failed");
    return 0;
  }
  /* Bytes after the ClientHello (main forwards one record at a time, so
   * at most the rest of one record) belong to the next SSL. */
  size_t pending = BIO_pending(c->rbio);
  if (pending > sizeof(leftover)) {
    CBB_cleanup(&cbb);
    hs_fail(c, "unexpected data after ClientHello");
    return 0;
  }
  if (pending > 0) {
    int got = BIO_read(c->rbio, leftover, (int)pending);
    leftover_len = got > 0 ? (size_t)got : 0;
  }
  SSL *next = SSL_new(hs.handshake_ctx);
  if (next == NULL ||
      !tls_shim_apply_handoff(next, CBB_data(&cbb), CBB_len(&cbb))) {
    SSL_free(next);
    CBB_cleanup(&cbb);
    hs_fail(c, "SSL_apply_handoff failed");
    return 0;
  }
  CBB_cleanup(&cbb);
  SSL_free(c->ssl);
  c->ssl = next;
  c->rbio = c->wbio = NULL;
  c->phase = HS_PHASE_HANDSHAKE;
  if (!hs_attach_bios(c)) {
    hs_fail(c, "out of memory");
    return 0;
  }
  if (leftover_len > 0 &&
      BIO_write(c->rbio, leftover, (int)leftover_len) != (int)leftover_len) {
    hs_fail(c, "out of memory");
    return 0;
  }
  return 1;
}

static void hs_send_done(hs_conn *c) {
  CBB cbb;
  const uint8_t *out;
  size_t out_len;
  if (BIO_pending(c->rbio) != 0) {
    /* Main forwards a record only when asked: input left over at handback
     * would be lost, so refuse rather than corrupt the stream. */
    hs_fail(c, "unexpected client data at handback");
    return;
  }
  if (!CBB_init(&cbb, HANDSHAKER_HANDBACK_CAP)) {
    hs_fail(c, "out of memory");
    return;
  }
  if (!tls_shim_serialize_handback(c->ssl, &cbb)) {
    CBB_cleanup(&cbb);
    hs_fail(c, "SSL_serialize_handback failed");
    return;
  }
  hs_pending_out(c, &out, &out_len);
  if (out_len > IPC_MAX_OUT || CBB_len(&cbb) > IPC_MAX_HANDBACK) {
    OPENSSL_cleanse((uint8_t *)CBB_data(&cbb), CBB_len(&cbb));
    CBB_cleanup(&cbb);
    hs_fail(c, "handshake output too large");
    return;
  }
  size_t n =
      ipc_build_done(hs.out, sizeof(hs.out), c->id, out, out_len,
                     CBB_data(&cbb), CBB_len(&cbb), SSL_session_reused(c->ssl));
  /* The handback holds traffic secrets: wipe every copy. */
  OPENSSL_cleanse((uint8_t *)CBB_data(&cbb), CBB_len(&cbb));
  CBB_cleanup(&cbb);
  if (n == 0) {
    hs_fail(c, "handback does not fit a message");
    return;
  }
  hs_send(hs.out, n);
  OPENSSL_cleanse(hs.out, n);
  hs_forget(c);
}

/* hs_step runs |c| as far as its input allows and answers exactly once. */
static void hs_step(hs_conn *c) {
  if (c->phase == HS_PHASE_HANDOFF) {
    ERR_clear_error();
    int ret = SSL_do_handshake(c->ssl);
    int code = SSL_get_error(c->ssl, ret);
    if (code == SSL_ERROR_WANT_READ) {
      hs_need_input(c);
      return;
    }
    if (code != SSL_ERROR_HANDOFF) {
      char what[64];
      snprintf(what, sizeof(what), "reading ClientHello: %s",
               tls_ssl_error_name(code));
      hs_fail(c, what);
      return;
    }
    if (!hs_switch_to_handshake(c)) {
      return;
    }
  }
  ERR_clear_error();
  int ret = SSL_do_handshake(c->ssl);
  int code = SSL_get_error(c->ssl, ret);
  if (code == SSL_ERROR_WANT_READ) {
    hs_need_input(c);
  } else if (code == SSL_ERROR_HANDBACK) {
    hs_send_done(c);
  } else if (ret == 1) {
    hs_fail(c, "handshake completed without handback");
  } else {
    char what[64];
    snprintf(what, sizeof(what), "handshake: %s", tls_ssl_error_name(code));
    hs_fail(c, what);
  }
}

static void hs_on_record(const ipc_message *msg) {
  hs_conn *c = hs_find(msg->conn_id);
  if (c == NULL) {
    if (hs.conn_count >= HANDSHAKER_MAX_CONNS) {
      size_t n = ipc_build_fail(hs.out, sizeof(hs.out), msg->conn_id,
                                "handshaker busy", NULL, 0);
      if (n > 0) {
        hs_send(hs.out, n);
      }
      return;
    }
    c = &hs.conns[hs.conn_count++];
    memset(c, 0, sizeof(*c));
    c->id = msg->conn_id;
    c->phase = HS_PHASE_HANDOFF;
    c->ssl = SSL_new(hs.handoff_ctx);
    if (c->ssl == NULL || !hs_attach_bios(c)) {
      hs_fail(c, "out of memory");
      return;
    }
    SSL_set_accept_state(c->ssl);
  }
  if (BIO_write(c->rbio, msg->data, (int)msg->data_len) != (int)msg->data_len) {
    hs_fail(c, "out of memory");
    return;
  }
  hs_step(c);
}

#ifdef REDOUBT_TEST_HOOKS
/* Test builds only: main asked this handshaker to break the protocol so the
 * tests can check that main drops it. Kinds: wrong-conn-id, truncated,
 * oversized, wrong-type (sent at once), done-while-reading and silent
 * (armed). */
#define HS_MISBEHAVE_PREFIX "misbehave:"
static uint8_t hs_oversized[IPC_MAX_MESSAGE + 512];

static void hs_misbehave(const char *kind) {
  static const uint8_t out[4] = {1, 2, 3, 4};
  size_t n = 0;
  const uint8_t *buf = hs.out;
  hs_log("test: misbehaving (%s) on request", kind);
  if (strcmp(kind, "wrong-conn-id") == 0) {
    /* An id main never handed out. */
    n = ipc_build_need_input(hs.out, sizeof(hs.out), UINT64_MAX - 7, out,
                             sizeof(out));
  } else if (strcmp(kind, "truncated") == 0) {
    n = ipc_build_need_input(hs.out, sizeof(hs.out), UINT64_MAX - 7, out,
                             sizeof(out));
    n = n > 3 ? n - 3 : 0;
  } else if (strcmp(kind, "oversized") == 0) {
    n = ipc_build_need_input(hs_oversized, sizeof(hs_oversized), 1, out,
                             sizeof(out));
    n = sizeof(hs_oversized);
    buf = hs_oversized;
  } else if (strcmp(kind, "wrong-type") == 0) {
    /* A request type (RECORD) sent as an answer. */
    n = ipc_build_record(hs.out, sizeof(hs.out), 1, hs_oversized, 5);
  } else if (strcmp(kind, "done-while-reading") == 0) {
    hs.misbehave_done = 1;
    return;
  } else if (strcmp(kind, "silent") == 0) {
    hs.misbehave_silent = 1;
    return;
  }
  if (n > 0) {
    hs_send(buf, n);
  }
}
#endif

int tls_handshaker_main(int argc, char **argv) {
  /* Never readable through /proc/<pid>/mem or ptrace by main's uid. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  hs.pid = getpid();
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  prctl(PR_SET_NAME, "redoubt-hs", 0, 0, 0);
  signal(SIGPIPE, SIG_IGN);
  if (argc != 3 || strcmp(argv[2], "3") != 0) {
    hs_log("bad handshaker invocation");
    return 2;
  }
  hs.fd = TLS_HANDSHAKER_FD;
  ssize_t len = hs_recv();
  if (len <= 0) {
    return len == 0 ? 0 : 2;
  }
  if (!hs_configure((size_t)len)) {
    return 1;
  }
  for (;;) {
    ipc_message msg;
    len = hs_recv();
    if (len == 0) {
      return 0; /* main closed the socket: retire */
    }
    if (len < 0 || !ipc_parse_request(hs.in, (size_t)len, &msg)) {
      hs_log("malformed request from main, exiting");
      return 2;
    }
    switch (msg.type) {
      case IPC_REQ_RECORD:
#ifdef REDOUBT_TEST_HOOKS
        if (hs.misbehave_silent) {
          /* Test: behave like a hung handshaker from now on. */
          hs_log("test: leaving a record unanswered");
          break;
        }
#endif
        hs_on_record(&msg);
        break;
      case IPC_REQ_ABORT: {
        hs_conn *c = hs_find(msg.conn_id);
        if (c != NULL) {
          hs_forget(c);
        }
        break;
      }
      case IPC_REQ_TICKET_KEYS:
        tls_ticket_keys_set(
            (const uint8_t(*)[IPC_TICKET_KEY_LEN])msg.ticket_keys,
            msg.ticket_key_count);
        OPENSSL_cleanse(msg.ticket_keys, sizeof(msg.ticket_keys));
        OPENSSL_cleanse(hs.in, (size_t)len);
        break;
      case IPC_REQ_TEST_SYSCALL:
#ifdef REDOUBT_TEST_HOOKS
        if (strncmp(msg.reason, HS_MISBEHAVE_PREFIX,
                    strlen(HS_MISBEHAVE_PREFIX)) == 0) {
          hs_misbehave(msg.reason + strlen(HS_MISBEHAVE_PREFIX));
          break;
        }
        hs_log("running forbidden syscall %s on request", msg.reason);
        sandbox_run_test_syscall(msg.reason);
        hs_log("forbidden syscall %s returned: not confined", msg.reason);
#else
        hs_log("TEST_SYSCALL ignored (not a test build)");
#endif
        break;
      default:
        hs_log("unexpected request type %d, exiting", msg.type);
        ipc_message_cleanup(&msg);
        return 2;
    }
    ipc_message_cleanup(&msg);
  }
}
