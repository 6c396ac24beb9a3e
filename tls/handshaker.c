/* handshaker.c: the handshaker process (this binary started as
 * "<exe> --redoubt-tls-handshaker 3" by sandbox_spawn on pool.c's behalf).
 * It links nothing from server/ (target //tls:handshaker).
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
 *   SIGN{id, alg, in}  sign |in| with the client key (tls-client-key-file,
 *                      else tls-key-file) for main's outgoing TLS
 *                      connection |id| (tls-replication): main runs that
 *                      client handshake with only the public certificate.
 *                      Answers SIGNED or FAIL; keeps no state.
 *
 * Started as "<exe> --redoubt-tls-verifier 3" the same program is a
 * verifier instead: it loads only the CA (no certificate, no key, no ticket
 * keys), sandboxes itself the same way and serves only
 *
 *   VERIFY{id, purpose, chain}  verify a peer's DER chain (verifier.c) for
 *                      main, which reads certificates as opaque buffers
 *                      and parses no X.509. Answers VERIFIED.
 *
 * A verifier never sees a ClientHello and a handshaker never verifies: a
 * handshaker compromised through its ClientHello parser cannot vouch for a
 * client certificate (issue 17 items 1 and 4).
 *
 * It never touches a network socket. Only recvmsg/sendmsg on the IPC fd and
 * write(2) to stderr are used after sandboxing (the seccomp policy lives in
 * sandbox/). Any malformed request from main ends the process: main then
 * respawns it. */
#include "tls/handshaker.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/bytestring.h>
#include <openssl/crypto.h>
#include <openssl/dh.h>
#include <openssl/err.h>
#include <openssl/evp.h>
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
#include "sandbox/spawner_client.h"
#include "tls/internal_common.h"

/* Connections one handshaker tracks at once; main's in-flight cap is the
 * real limit, this one protects the handshaker from a confused main. */
#define HANDSHAKER_MAX_CONNS 4096
/* Initial CBB capacities (they grow). */
#define HANDSHAKER_HANDOFF_CAP 512
#define HANDSHAKER_HANDBACK_CAP 2048

typedef enum {
  HANDSHAKE_PHASE_HANDOFF = 0,
  HANDSHAKE_PHASE_HANDSHAKE
} handshaker_phase;

typedef enum {
  HANDSHAKER_ROLE_HANDSHAKE = 0,
  HANDSHAKER_ROLE_VERIFY
} handshaker_role;

typedef struct handshaker_conn {
  uint64_t id;
  handshaker_phase phase;
  SSL *ssl;
  BIO *rbio, *wbio; /* owned by |ssl| */
} handshaker_conn;

static struct {
  int fd;
  handshaker_role role;
  X509_STORE *verify_store; /* verifier: the CA */
  SSL_CTX *handoff_ctx;     /* no key: parses the ClientHello */
  SSL_CTX *handshake_ctx;   /* certificate + key */
  EVP_PKEY *client_key; /* SIGN requests: the client key (or the server's) */
  /* Privilege separation: the keys the spawner sent, while the contexts
   * are built (NULL: load the key files) */
  const sandbox_keys *spawner_keys;
  handshaker_conn *conns; /* dense array, swap-removed */
  size_t conn_count;
  uint8_t in[IPC_MAX_MESSAGE + 1];
  uint8_t out[IPC_MAX_MESSAGE];
  pid_t pid; /* cached: getpid is not in the seccomp allowlist */
#ifdef REDOUBT_TEST_HOOKS
  int misbehave_done;   /* test: follow the next NEED_INPUT with a DONE */
  int misbehave_silent; /* test: never answer the next record (a hang) */
#endif
} handshaker;

/* Logging: plain write(2) to stderr (stdio could need more syscalls than
 * the sandbox allows). */
static void handshaker_log(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void handshaker_log(const char *fmt, ...) {
  char line[512];
  if (handshaker.pid == 0) {
    handshaker.pid = getpid(); /* before tls_handshaker_main set it */
  }
  int n = snprintf(line, sizeof(line), "%d:H * ", (int)handshaker.pid);
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
         (strcmp(argv[1], TLS_HANDSHAKER_ARG) == 0 ||
          strcmp(argv[1], TLS_VERIFIER_ARG) == 0);
}

/* ---- IPC ------------------------------------------------------------ */

static int handshaker_send(const uint8_t *buf, size_t len) {
  struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  for (int attempt = 0; attempt < 1000; attempt++) {
    ssize_t n = sendmsg(handshaker.fd, &msg, MSG_NOSIGNAL);
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

/* handshaker_recv returns the datagram length, 0 on EOF, -1 on
 * error/truncation. */
static ssize_t handshaker_recv(void) {
  struct iovec iov = {.iov_base = handshaker.in,
                      .iov_len = sizeof(handshaker.in)};
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  for (;;) {
    ssize_t n = recvmsg(handshaker.fd, &msg, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n > 0 && ((msg.msg_flags & MSG_TRUNC) || n > IPC_MAX_MESSAGE)) {
      return -1;
    }
    return n;
  }
}

static void handshaker_send_config_fail(const char *reason) {
  char clipped[IPC_MAX_REASON + 1];
  snprintf(clipped, sizeof(clipped), "%s", reason);
  size_t n =
      ipc_build_config_fail(handshaker.out, sizeof(handshaker.out), clipped);
  if (n > 0) {
    handshaker_send(handshaker.out, n);
  }
}

/* ---- contexts ------------------------------------------------------- */

static int handshaker_password_cb(char *buf, int size, int rwflag,
                                  void *userdata) {
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

static int handshaker_load_dh_params(const char *path, char *err,
                                     size_t err_len) {
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

static SSL_CTX *handshaker_build_handoff_ctx(const tls_settings *s, char *err,
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

/* handshaker_read_key parses a PEM private key: from the bytes the
 * privileged spawner sent when it started this process (main cannot read
 * the key files then: spawner_client.h), else from |path| with |pass|.
 * |client| picks tls-client-key-file's. NULL on failure (errors queued). */
static EVP_PKEY *handshaker_read_key(const char *path, const char *pass,
                                     int client) {
  const sandbox_keys *k = handshaker.spawner_keys;
  BIO *bio;
  if (k != NULL) {
    const uint8_t *pem = client ? k->client_key : k->key;
    size_t len = client ? k->client_key_len : k->key_len;
    pass = client ? k->client_key_file_pass : k->key_file_pass;
    bio = len > 0 ? BIO_new_mem_buf(pem, len) : NULL;
  } else {
    bio = BIO_new_file(path, "r");
  }
  EVP_PKEY *key = NULL;
  if (bio != NULL) {
    key = PEM_read_bio_PrivateKey(
        bio, NULL, handshaker_password_cb,
        (void *)(pass != NULL && pass[0] ? pass : NULL));
    BIO_free(bio);
  }
  return key;
}

static SSL_CTX *handshaker_build_handshake_ctx(const tls_settings *s, char *err,
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
  SSL_CTX_set_default_passwd_cb(ctx, handshaker_password_cb);
  SSL_CTX_set_default_passwd_cb_userdata(ctx, s->key_file_pass);
  if (SSL_CTX_use_certificate_chain_file(ctx, s->cert_file) <= 0) {
    tls_collect_errors(why, sizeof(why));
    tls_format(err, err_len, "Failed to load certificate: %.120s: %s",
               s->cert_file, why);
    goto fail;
  }
  EVP_PKEY *key = handshaker_read_key(s->key_file, s->key_file_pass, 0);
  if (key == NULL || !SSL_CTX_use_PrivateKey(ctx, key)) {
    EVP_PKEY_free(key);
    tls_collect_errors(why, sizeof(why));
    tls_format(err, err_len, "Failed to load private key: %.120s: %s",
               s->key_file, why);
    goto fail;
  }
  EVP_PKEY_free(key);
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
      !handshaker_load_dh_params(s->dh_params_file, err, err_len)) {
    goto fail;
  }
  return ctx;
fail:
  SSL_CTX_free(ctx);
  return NULL;
}

/* handshaker_load_client_key returns the key SIGN requests use: the one of
 * tls-client-key-file (checked against tls-client-cert-file), or, as Redis
 * falls back, the server's own key. NULL with |err|. */
static EVP_PKEY *handshaker_load_client_key(const tls_settings *s, char *err,
                                            size_t err_len) {
  char why[256];
  if (s->client_key_file == NULL) {
    EVP_PKEY *key = SSL_CTX_get0_privatekey(handshaker.handshake_ctx);
    if (key == NULL) {
      snprintf(err, err_len, "no private key for client connections");
      return NULL;
    }
    EVP_PKEY_up_ref(key);
    return key;
  }
  EVP_PKEY *key =
      handshaker_read_key(s->client_key_file, s->client_key_file_pass, 1);
  if (key == NULL) {
    tls_collect_errors(why, sizeof(why));
    tls_format(err, err_len, "Failed to load private key: %.120s: %s",
               s->client_key_file, why);
    return NULL;
  }
  if (s->client_cert_file != NULL) {
    X509 *cert = NULL;
    BIO *bio = BIO_new_file(s->client_cert_file, "r");
    if (bio != NULL) {
      cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
      BIO_free(bio);
    }
    int match = cert != NULL && X509_check_private_key(cert, key);
    X509_free(cert);
    if (!match) {
      tls_collect_errors(why, sizeof(why));
      tls_format(err, err_len,
                 "Client private key does not match the certificate %.120s: %s",
                 s->client_cert_file, why);
      EVP_PKEY_free(key);
      return NULL;
    }
  }
  return key;
}

/* handshaker_sandbox_and_ready takes |settings| (freed), enters the
 * sandbox and answers READY with the certificate summary. */
static int handshaker_sandbox_and_ready(tls_settings *settings,
                                        const char *subject, const char *issuer,
                                        int64_t not_after) {
  char sandbox_err[IPC_MAX_REASON + 1] = "";
  int seccomp = settings->seccomp;
  char user[IPC_MAX_PATH + 1] = "";
  if (settings->sandbox_user != NULL) {
    snprintf(user, sizeof(user), "%s", settings->sandbox_user);
  }
  tls_settings_free(settings);
  if (!sandbox_enter(handshaker.fd, user[0] ? user : NULL, seccomp, sandbox_err,
                     sizeof(sandbox_err))) {
    char reason[IPC_MAX_REASON + 1];
    tls_format(reason, sizeof(reason), "sandbox: %s", sandbox_err);
    handshaker_send_config_fail(reason);
    return 0;
  }
  size_t n = ipc_build_ready(handshaker.out, sizeof(handshaker.out), subject,
                             issuer, not_after);
  return n > 0 && handshaker_send(handshaker.out, n);
}

/* handshaker_configure_verifier: the verifier loads the CA only (never the
 * certificate or a key). */
static int handshaker_configure_verifier(tls_settings *settings) {
  char err[IPC_MAX_REASON + 1] = "";
  prctl(PR_SET_NAME, "redoubt-verify", 0, 0, 0);
  handshaker.verify_store = tls_verifier_store_new(settings, err, sizeof(err));
  if (handshaker.verify_store == NULL) {
    tls_settings_free(settings);
    handshaker_send_config_fail(err[0] ? err : "cannot load the CA");
    return 0;
  }
  return handshaker_sandbox_and_ready(settings, "", "", 0);
}

/* handshaker_configure handles the first message. Returns 1 when READY was
 * sent. */
static int handshaker_configure(size_t len) {
  ipc_message msg;
  char err[IPC_MAX_REASON + 1] = "";
  tls_settings settings;
  if (!ipc_parse_request(handshaker.in, len, &msg) ||
      msg.type != IPC_REQ_CONFIG) {
    OPENSSL_cleanse(handshaker.in, len);
    handshaker_send_config_fail("first message was not a valid CONFIG");
    return 0;
  }
  tls_settings_from_ipc(&settings, &msg.config);
  if (msg.config.key_file_pass != NULL) {
    OPENSSL_cleanse((void *)msg.config.key_file_pass,
                    strlen(msg.config.key_file_pass));
  }
  ipc_message_cleanup(&msg);
  OPENSSL_cleanse(handshaker.in, len);
  if (handshaker.role == HANDSHAKER_ROLE_VERIFY) {
    return handshaker_configure_verifier(&settings);
  }

  /* Privilege separation: started by the spawner, this handshaker gets its
   * keys from it, by the paths main configured (spawner_client.h). */
  sandbox_keys keys;
  int fetched =
      settings.key_file == NULL
          ? -1
          : sandbox_keys_fetch(settings.key_file, settings.client_key_file,
                               &keys, err, sizeof(err));
  if (fetched == 0) {
    char reason[IPC_MAX_REASON + 1];
    tls_format(reason, sizeof(reason), "Failed to load private key: %s", err);
    tls_settings_free(&settings);
    handshaker_send_config_fail(reason);
    return 0;
  }
  handshaker.spawner_keys = fetched == 1 ? &keys : NULL;
  handshaker.handoff_ctx =
      handshaker_build_handoff_ctx(&settings, err, sizeof(err));
  if (handshaker.handoff_ctx != NULL) {
    handshaker.handshake_ctx =
        handshaker_build_handshake_ctx(&settings, err, sizeof(err));
  }
  if (handshaker.handoff_ctx != NULL && handshaker.handshake_ctx != NULL) {
    handshaker.client_key =
        handshaker_load_client_key(&settings, err, sizeof(err));
  }
  handshaker.spawner_keys = NULL;
  if (fetched == 1) {
    sandbox_keys_free(&keys);
  }
  if (handshaker.handoff_ctx == NULL || handshaker.handshake_ctx == NULL) {
    tls_settings_free(&settings);
    handshaker_send_config_fail(err[0] ? err : "failed to build TLS contexts");
    return 0;
  }
  if (handshaker.client_key == NULL) {
    tls_settings_free(&settings);
    handshaker_send_config_fail(err[0] ? err : "cannot load the client key");
    return 0;
  }
  char subject[IPC_MAX_REASON + 1], issuer[IPC_MAX_REASON + 1];
  int64_t not_after = 0;
  X509 *leaf = SSL_CTX_get0_certificate(handshaker.handshake_ctx);
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
  handshaker.conns = calloc(HANDSHAKER_MAX_CONNS, sizeof(handshaker_conn));
  if (handshaker.conns == NULL) {
    tls_settings_free(&settings);
    handshaker_send_config_fail("out of memory");
    return 0;
  }
  return handshaker_sandbox_and_ready(&settings, subject, issuer, not_after);
}

/* ---- connections ---------------------------------------------------- */

static handshaker_conn *handshaker_find(uint64_t id) {
  for (size_t i = 0; i < handshaker.conn_count; i++) {
    if (handshaker.conns[i].id == id) {
      return &handshaker.conns[i];
    }
  }
  return NULL;
}

static void handshaker_forget(handshaker_conn *c) {
  SSL_free(c->ssl); /* frees the BIOs */
  size_t index = (size_t)(c - handshaker.conns);
  handshaker.conn_count--;
  if (index != handshaker.conn_count) {
    handshaker.conns[index] = handshaker.conns[handshaker.conn_count];
  }
  memset(&handshaker.conns[handshaker.conn_count], 0, sizeof(handshaker_conn));
}

/* handshaker_attach_bios gives |ssl| fresh memory BIOs; an empty read BIO means
 * "want more input", not EOF. */
static int handshaker_attach_bios(handshaker_conn *c) {
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

static void handshaker_pending_out(handshaker_conn *c, const uint8_t **data,
                                   size_t *len) {
  *data = NULL;
  *len = 0;
  if (c->wbio != NULL) {
    BIO_mem_contents(c->wbio, data, len);
  }
}

/* handshaker_fail answers FAIL with |reason| and whatever alert bytes the SSL
 * produced (main writes them before closing), then forgets the conn. */
static void handshaker_fail(handshaker_conn *c, const char *what) {
  char reason[IPC_MAX_REASON + 1];
  char errors[IPC_MAX_REASON];
  const uint8_t *out;
  size_t out_len;
  tls_collect_errors(errors, sizeof(errors));
  tls_format(reason, sizeof(reason), "%s%s%s", what, errors[0] ? ": " : "",
             errors);
  handshaker_pending_out(c, &out, &out_len);
  if (out_len > IPC_MAX_FLIGHT) {
    out_len = 0;
  }
  size_t n = ipc_build_fail(handshaker.out, sizeof(handshaker.out), c->id,
                            reason, out, out_len);
  if (n > 0) {
    handshaker_send(handshaker.out, n);
  }
  handshaker_forget(c);
}

static void handshaker_need_input(handshaker_conn *c) {
  const uint8_t *out;
  size_t out_len;
  handshaker_pending_out(c, &out, &out_len);
  if (out_len > IPC_MAX_FLIGHT) {
    handshaker_fail(c, "server flight too large");
    return;
  }
  size_t n = ipc_build_need_input(handshaker.out, sizeof(handshaker.out), c->id,
                                  out, out_len);
  if (n == 0) {
    handshaker_fail(c, "server flight does not fit a message");
    return;
  }
  if (!handshaker_send(handshaker.out, n)) {
    handshaker_forget(c);
    return;
  }
  BIO_reset(c->wbio);
#ifdef REDOUBT_TEST_HOOKS
  if (handshaker.misbehave_done) {
    /* Test: a handback for a connection main still reads records for. */
    static const uint8_t junk[1] = {0};
    handshaker.misbehave_done = 0;
    n = ipc_build_done(handshaker.out, sizeof(handshaker.out), c->id, NULL, 0,
                       junk, sizeof(junk), 0);
    handshaker_log(
        "test: sending DONE for conn %llu while main reads its records",
        (unsigned long long)c->id);
    if (n > 0) {
      handshaker_send(handshaker.out, n);
    }
  }
#endif
}

/* handshaker_switch_to_handshake serializes the handoff SSL and continues on a
 * fresh SSL with the key. Returns 1, or 0 after answering FAIL. */
static int handshaker_switch_to_handshake(handshaker_conn *c) {
  CBB cbb;
  uint8_t leftover[IPC_MAX_RECORD];
  size_t leftover_len = 0;
  if (!CBB_init(&cbb, HANDSHAKER_HANDOFF_CAP)) {
    handshaker_fail(c, "out of memory");
    return 0;
  }
  if (!tls_shim_serialize_handoff(c->ssl, &cbb)) {
    CBB_cleanup(&cbb);
    handshaker_fail(c, "SSL_serialize_handoff failed");
    return 0;
  }
  /* Bytes after the ClientHello (main forwards one record at a time, so
   * at most the rest of one record) belong to the next SSL. */
  size_t pending = BIO_pending(c->rbio);
  if (pending > sizeof(leftover)) {
    CBB_cleanup(&cbb);
    handshaker_fail(c, "unexpected data after ClientHello");
    return 0;
  }
  if (pending > 0) {
    int got = BIO_read(c->rbio, leftover, (int)pending);
    leftover_len = got > 0 ? (size_t)got : 0;
  }
  SSL *next = SSL_new(handshaker.handshake_ctx);
  if (next == NULL ||
      !tls_shim_apply_handoff(next, CBB_data(&cbb), CBB_len(&cbb))) {
    SSL_free(next);
    CBB_cleanup(&cbb);
    handshaker_fail(c, "SSL_apply_handoff failed");
    return 0;
  }
  CBB_cleanup(&cbb);
  SSL_free(c->ssl);
  c->ssl = next;
  c->rbio = c->wbio = NULL;
  c->phase = HANDSHAKE_PHASE_HANDSHAKE;
  if (!handshaker_attach_bios(c)) {
    handshaker_fail(c, "out of memory");
    return 0;
  }
  if (leftover_len > 0 &&
      BIO_write(c->rbio, leftover, (int)leftover_len) != (int)leftover_len) {
    handshaker_fail(c, "out of memory");
    return 0;
  }
  return 1;
}

static void handshaker_send_done(handshaker_conn *c) {
  CBB cbb;
  const uint8_t *out;
  size_t out_len;
  if (BIO_pending(c->rbio) != 0) {
    /* Main forwards a record only when asked: input left over at handback
     * would be lost, so refuse rather than corrupt the stream. */
    handshaker_fail(c, "unexpected client data at handback");
    return;
  }
  if (!CBB_init(&cbb, HANDSHAKER_HANDBACK_CAP)) {
    handshaker_fail(c, "out of memory");
    return;
  }
  if (!tls_shim_serialize_handback(c->ssl, &cbb)) {
    CBB_cleanup(&cbb);
    handshaker_fail(c, "SSL_serialize_handback failed");
    return;
  }
  handshaker_pending_out(c, &out, &out_len);
  if (out_len > IPC_MAX_FLIGHT || CBB_len(&cbb) > IPC_MAX_HANDBACK) {
    OPENSSL_cleanse((uint8_t *)CBB_data(&cbb), CBB_len(&cbb));
    CBB_cleanup(&cbb);
    handshaker_fail(c, "handshake output too large");
    return;
  }
  size_t n = ipc_build_done(handshaker.out, sizeof(handshaker.out), c->id, out,
                            out_len, CBB_data(&cbb), CBB_len(&cbb),
                            SSL_session_reused(c->ssl));
  /* The handback holds traffic secrets: wipe every copy. */
  OPENSSL_cleanse((uint8_t *)CBB_data(&cbb), CBB_len(&cbb));
  CBB_cleanup(&cbb);
  if (n == 0) {
    handshaker_fail(c, "handback does not fit a message");
    return;
  }
  handshaker_send(handshaker.out, n);
  OPENSSL_cleanse(handshaker.out, n);
  handshaker_forget(c);
}

/* handshaker_step runs |c| as far as its input allows and answers exactly
 * once. */
static void handshaker_step(handshaker_conn *c) {
  if (c->phase == HANDSHAKE_PHASE_HANDOFF) {
    ERR_clear_error();
    int ret = SSL_do_handshake(c->ssl);
    int code = SSL_get_error(c->ssl, ret);
    if (code == SSL_ERROR_WANT_READ) {
      handshaker_need_input(c);
      return;
    }
    if (code != SSL_ERROR_HANDOFF) {
      char what[64];
      snprintf(what, sizeof(what), "reading ClientHello: %s",
               tls_ssl_error_name(code));
      handshaker_fail(c, what);
      return;
    }
    if (!handshaker_switch_to_handshake(c)) {
      return;
    }
  }
  ERR_clear_error();
  int ret = SSL_do_handshake(c->ssl);
  int code = SSL_get_error(c->ssl, ret);
  if (code == SSL_ERROR_WANT_READ) {
    handshaker_need_input(c);
  } else if (code == SSL_ERROR_HANDBACK) {
    handshaker_send_done(c);
  } else if (ret == 1) {
    handshaker_fail(c, "handshake completed without handback");
  } else {
    char what[64];
    snprintf(what, sizeof(what), "handshake: %s", tls_ssl_error_name(code));
    handshaker_fail(c, what);
  }
}

static void handshaker_on_record(const ipc_message *msg) {
  handshaker_conn *c = handshaker_find(msg->conn_id);
  if (c == NULL) {
    if (handshaker.conn_count >= HANDSHAKER_MAX_CONNS) {
      size_t n = ipc_build_fail(handshaker.out, sizeof(handshaker.out),
                                msg->conn_id, "handshaker busy", NULL, 0);
      if (n > 0) {
        handshaker_send(handshaker.out, n);
      }
      return;
    }
    c = &handshaker.conns[handshaker.conn_count++];
    memset(c, 0, sizeof(*c));
    c->id = msg->conn_id;
    c->phase = HANDSHAKE_PHASE_HANDOFF;
    c->ssl = SSL_new(handshaker.handoff_ctx);
    if (c->ssl == NULL || !handshaker_attach_bios(c)) {
      handshaker_fail(c, "out of memory");
      return;
    }
    SSL_set_accept_state(c->ssl);
  }
  if (BIO_write(c->rbio, msg->data, (int)msg->data_len) != (int)msg->data_len) {
    handshaker_fail(c, "out of memory");
    return;
  }
  handshaker_step(c);
}

/* handshaker_on_sign answers a SIGN request: the signature algorithm must
 * suit the client key (BoringSSL's client only asks for one that does; a
 * mismatch is refused, not coerced). */
static void handshaker_on_sign(const ipc_message *msg) {
  uint8_t sig[IPC_MAX_SIGNATURE];
  size_t sig_len = sizeof(sig);
  const char *why = NULL;
  EVP_PKEY *key = handshaker.client_key;
  const EVP_MD *md = SSL_get_signature_algorithm_digest(msg->sigalg);
  int key_type = SSL_get_signature_algorithm_key_type(msg->sigalg);
  EVP_MD_CTX ctx;
  EVP_MD_CTX_init(&ctx);
  EVP_PKEY_CTX *pctx = NULL;
  if (key == NULL || key_type == EVP_PKEY_NONE ||
      key_type != EVP_PKEY_id(key)) {
    why = "signature algorithm does not suit the client key";
  } else if (EVP_PKEY_size(key) <= 0 ||
             (size_t)EVP_PKEY_size(key) > sizeof(sig)) {
    why = "client key too large";
  } else if (!EVP_DigestSignInit(&ctx, &pctx, md, NULL, key) ||
             (SSL_is_signature_algorithm_rsa_pss(msg->sigalg) &&
              (!EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) ||
               !EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, -1))) ||
             !EVP_DigestSign(&ctx, sig, &sig_len, msg->data, msg->data_len)) {
    why = "signing failed";
  }
  EVP_MD_CTX_cleanup(&ctx);
  size_t n;
  if (why != NULL) {
    char reason[IPC_MAX_REASON + 1];
    char errors[IPC_MAX_REASON - 64];
    tls_collect_errors(errors, sizeof(errors));
    tls_format(reason, sizeof(reason), "%s%s%s", why, errors[0] ? ": " : "",
               errors);
    n = ipc_build_fail(handshaker.out, sizeof(handshaker.out), msg->conn_id,
                       reason, NULL, 0);
  } else {
    n = ipc_build_signed(handshaker.out, sizeof(handshaker.out), msg->conn_id,
                         sig, sig_len);
  }
  if (n > 0) {
    handshaker_send(handshaker.out, n);
  }
}

/* handshaker_on_verify answers a VERIFY request (verifier role): the
 * verdict on the chain and the identity main shows, as text. */
static void handshaker_on_verify(const ipc_message *msg) {
  tls_verify_outcome outcome;
  tls_verify_chain(handshaker.verify_store, msg->purpose,
                   (const uint8_t *const *)msg->certs, msg->cert_lens,
                   msg->cert_count, &outcome);
  size_t n = ipc_build_verified(handshaker.out, sizeof(handshaker.out),
                                msg->conn_id, outcome.accepted, outcome.error,
                                outcome.reason, outcome.subject, outcome.sans);
  if (n == 0) {
    /* Cannot happen (every text is bounded and escaped): refuse rather
     * than leave main waiting. */
    n = ipc_build_verified(handshaker.out, sizeof(handshaker.out), msg->conn_id,
                           0, X509_V_ERR_UNSPECIFIED,
                           "verdict does not fit a message", "", "");
  }
  if (n > 0) {
    handshaker_send(handshaker.out, n);
  }
}

#ifdef REDOUBT_TEST_HOOKS
/* Test builds only: a handshaker that rewrites the session of every ticket
 * it opens, as a compromised one could, to assert another client identity
 * on resumption: "forge-resumed-identity" turns the client certificate's
 * "client1" into "forged1" (main's binding no longer matches the chain);
 * "unbind-resumed-identity" removes main's binding. */
static int handshaker_forge_mode; /* 1 forge, 2 unbind */

static int handshaker_forge_ticket(uint8_t *session, size_t *len,
                                   size_t max_len) {
  static const char from[] = "client1", to[] = "forged1";
  if (handshaker_forge_mode == 1) {
    for (size_t i = 0; i + sizeof(from) - 1 <= *len; i++) {
      if (memcmp(session + i, from, sizeof(from) - 1) == 0) {
        memcpy(session + i, to, sizeof(to) - 1);
      }
    }
    return 1;
  }
  CBB out;
  int ok = CBB_init(&out, *len) &&
           tls_session_der_set_field(session, *len, TLS_SESSION_BINDING_FIELD,
                                     NULL, 0, &out) &&
           CBB_len(&out) <= max_len;
  if (ok) {
    memcpy(session, CBB_data(&out), CBB_len(&out));
    *len = CBB_len(&out);
  }
  CBB_cleanup(&out);
  return ok;
}
#endif

#ifdef REDOUBT_TEST_HOOKS
/* Test builds only: main asked this handshaker to break the protocol so the
 * tests can check that main drops it. Kinds: wrong-conn-id, stale-conn-id,
 * truncated, oversized, wrong-type (sent at once), done-while-reading and
 * silent (armed). */
#define HANDSHAKER_MISBEHAVE_PREFIX "misbehave:"
static uint8_t handshaker_oversized[IPC_MAX_MESSAGE + 512];

static void handshaker_misbehave(const char *kind) {
  static const uint8_t out[4] = {1, 2, 3, 4};
  size_t n = 0;
  const uint8_t *buf = handshaker.out;
  handshaker_log("test: misbehaving (%s) on request", kind);
  if (strcmp(kind, "wrong-conn-id") == 0) {
    /* An id main never handed out. */
    n = ipc_build_need_input(handshaker.out, sizeof(handshaker.out),
                             UINT64_MAX - 7, out, sizeof(out));
  } else if (strcmp(kind, "stale-conn-id") == 0) {
    /* An id main handed out long ago (its first connection), not to us
     * now, with no request of ours cancelled: a stale answer. */
    n = ipc_build_need_input(handshaker.out, sizeof(handshaker.out), 1, out,
                             sizeof(out));
  } else if (strcmp(kind, "truncated") == 0) {
    n = ipc_build_need_input(handshaker.out, sizeof(handshaker.out),
                             UINT64_MAX - 7, out, sizeof(out));
    n = n > 3 ? n - 3 : 0;
  } else if (strcmp(kind, "oversized") == 0) {
    n = ipc_build_need_input(handshaker_oversized, sizeof(handshaker_oversized),
                             1, out, sizeof(out));
    n = sizeof(handshaker_oversized);
    buf = handshaker_oversized;
  } else if (strcmp(kind, "wrong-type") == 0) {
    /* A request type (RECORD) sent as an answer. */
    n = ipc_build_record(handshaker.out, sizeof(handshaker.out), 1,
                         handshaker_oversized, 5);
  } else if (strcmp(kind, "done-while-reading") == 0) {
    handshaker.misbehave_done = 1;
    return;
  } else if (strcmp(kind, "silent") == 0) {
    handshaker.misbehave_silent = 1;
    return;
  } else if (strcmp(kind, "forge-resumed-identity") == 0 ||
             strcmp(kind, "unbind-resumed-identity") == 0) {
    handshaker_forge_mode = kind[0] == 'f' ? 1 : 2;
    tls_ticket_set_open_hook(handshaker_forge_ticket);
    return;
  }
  if (n > 0) {
    handshaker_send(buf, n);
  }
}
#endif

int tls_handshaker_main(int argc, char **argv) {
  /* Never readable through /proc/<pid>/mem or ptrace by main's uid. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  handshaker.pid = getpid();
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  prctl(PR_SET_NAME, "redoubt-hs", 0, 0, 0);
  signal(SIGPIPE, SIG_IGN);
  if (argc != 3 || strcmp(argv[2], "3") != 0) {
    handshaker_log("bad handshaker invocation");
    return 2;
  }
  handshaker.role = strcmp(argv[1], TLS_VERIFIER_ARG) == 0
                        ? HANDSHAKER_ROLE_VERIFY
                        : HANDSHAKER_ROLE_HANDSHAKE;
  handshaker.fd = TLS_HANDSHAKER_FD;
  ssize_t len = handshaker_recv();
  if (len <= 0) {
    return len == 0 ? 0 : 2;
  }
  if (!handshaker_configure((size_t)len)) {
    return 1;
  }
  for (;;) {
    ipc_message msg;
    len = handshaker_recv();
    if (len == 0) {
      return 0; /* main closed the socket: retire */
    }
    if (len < 0 || !ipc_parse_request(handshaker.in, (size_t)len, &msg)) {
      handshaker_log("malformed request from main, exiting");
      return 2;
    }
    /* Each role serves its own requests only. */
    int verifier = handshaker.role == HANDSHAKER_ROLE_VERIFY;
    if (verifier != (msg.type == IPC_REQ_VERIFY) && msg.type != IPC_REQ_ABORT &&
        msg.type != IPC_REQ_TEST_SYSCALL) {
      handshaker_log("request type %d is not for a %s, exiting", msg.type,
                     verifier ? "verifier" : "handshaker");
      OPENSSL_cleanse(handshaker.in, (size_t)len);
      ipc_message_cleanup(&msg);
      return 2;
    }
    switch (msg.type) {
      case IPC_REQ_VERIFY:
        handshaker_on_verify(&msg);
        break;
      case IPC_REQ_RECORD:
#ifdef REDOUBT_TEST_HOOKS
        if (handshaker.misbehave_silent) {
          /* Test: behave like a hung handshaker from now on. */
          handshaker_log("test: leaving a record unanswered");
          break;
        }
#endif
        handshaker_on_record(&msg);
        break;
      case IPC_REQ_SIGN:
        handshaker_on_sign(&msg);
        break;
      case IPC_REQ_ABORT: {
        if (verifier) {
          break; /* a verifier keeps no state */
        }
        handshaker_conn *c = handshaker_find(msg.conn_id);
        if (c != NULL) {
          handshaker_forget(c);
        }
        break;
      }
      case IPC_REQ_TICKET_KEYS:
        tls_ticket_keys_set(
            (const uint8_t(*)[IPC_TICKET_KEY_LEN])msg.ticket_keys,
            msg.ticket_key_count);
        OPENSSL_cleanse(msg.ticket_keys, sizeof(msg.ticket_keys));
        OPENSSL_cleanse(handshaker.in, (size_t)len);
        break;
      case IPC_REQ_TEST_SYSCALL:
#ifdef REDOUBT_TEST_HOOKS
        if (strncmp(msg.reason, HANDSHAKER_MISBEHAVE_PREFIX,
                    strlen(HANDSHAKER_MISBEHAVE_PREFIX)) == 0) {
          handshaker_misbehave(msg.reason +
                               strlen(HANDSHAKER_MISBEHAVE_PREFIX));
          break;
        }
        handshaker_log("running forbidden syscall %s on request", msg.reason);
        sandbox_run_test_syscall(msg.reason);
        handshaker_log("forbidden syscall %s returned: not confined",
                       msg.reason);
#else
        handshaker_log("TEST_SYSCALL ignored (not a test build)");
#endif
        break;
      default:
        handshaker_log("unexpected request type %d, exiting", msg.type);
        ipc_message_cleanup(&msg);
        return 2;
    }
    ipc_message_cleanup(&msg);
  }
}
