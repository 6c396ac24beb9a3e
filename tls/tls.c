/* tls.c: the TLS module's public entry points (tls.h): start-up, reload,
 * cron, INFO, shutdown, validation and --check-config. */
#include "tls/tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/sandbox.h"
#include "sandbox/spawner_client.h"
#include "tls/internal.h"

#define TLS_START_WAIT_MS 10000 /* boot / reload: handshakers to READY */

static struct {
  int started;
  long long next_rotation_ms;
  tls_host host; /* copied by tls_start / tls_check_config */
  int have_host;
  int log_quiet; /* tls_check_config: the report carries the outcome */
} tls_state;

static long long tls_now_ms(void) {
  return (long long)(ae_monotonic_us() / 1000);
}

void tls_appendf(char *buf, size_t len, size_t *used, const char *fmt, ...) {
  va_list ap;
  if (*used >= len) {
    return;
  }
  va_start(ap, fmt);
  int n = vsnprintf(buf + *used, len - *used, fmt, ap);
  va_end(ap);
  if (n > 0) {
    *used = *used + (size_t)n < len ? *used + (size_t)n : len - 1;
  }
}

/* ---- the host's services ---------------------------------------------- */

static void tls_install_host(const tls_host *host) {
  if (host != NULL) {
    tls_state.host = *host;
    tls_state.have_host = 1;
  }
}

void tls_log(int level, const char *fmt, ...) {
  char message[1024];
  va_list ap;
  if (tls_state.log_quiet) {
    return;
  }
  va_start(ap, fmt);
  vsnprintf(message, sizeof(message), fmt, ap);
  va_end(ap);
  if (tls_state.have_host && tls_state.host.log != NULL) {
    tls_state.host.log(level, message);
  } else if (level >= TLS_LOG_NOTICE) {
    fprintf(stderr, "%s\n", message);
  }
}

void tls_security_log(const char *event, const char *fmt, ...) {
  char details[1024];
  va_list ap;
  if (tls_state.log_quiet) {
    return;
  }
  va_start(ap, fmt);
  vsnprintf(details, sizeof(details), fmt, ap);
  va_end(ap);
  if (tls_state.have_host && tls_state.host.security_log != NULL) {
    tls_state.host.security_log(event, details);
  } else {
    tls_log(TLS_LOG_NOTICE, "security event=%s %s", event, details);
  }
}

void tls_security_log_peer(const char *event, const char *source,
                           const char *cause, const char *fmt, ...) {
  char details[1024];
  va_list ap;
  if (tls_state.log_quiet) {
    return;
  }
  va_start(ap, fmt);
  vsnprintf(details, sizeof(details), fmt, ap);
  va_end(ap);
  if (tls_state.have_host && tls_state.host.security_log_peer != NULL) {
    tls_state.host.security_log_peer(event, source, cause, details);
  } else {
    tls_security_log(event, "%s", details);
  }
}

void tls_host_accept_starved(int err) {
  if (tls_state.have_host && tls_state.host.accept_starved != NULL) {
    tls_state.host.accept_starved(err);
  }
}

void tls_read_tunables(tls_tunables *out) {
  memset(out, 0, sizeof(*out));
  out->handshake_workers = 1;
  out->sandbox_seccomp = 1;
  if (tls_state.have_host && tls_state.host.read_tunables != NULL) {
    tls_state.host.read_tunables(out);
  }
}

const char *tls_host_executable(void) {
  return tls_state.have_host && tls_state.host.executable != NULL
             ? tls_state.host.executable
             : "redoubt-server";
}

void tls_host_accepted(connection *conn, const char *ip) {
  if (tls_state.have_host && tls_state.host.accepted != NULL) {
    tls_state.host.accepted(conn, ip);
  } else {
    conn_close(conn); /* nobody to serve it */
  }
}

/* tls_settings_for builds the settings of a generation from |options| and
 * the host's sandbox tunables (|out| owned by the caller). */
static void tls_settings_for(tls_settings *out, const tls_options *options) {
  tls_tunables tun;
  tls_read_tunables(&tun);
  tls_settings_from_options(out, options, tun.sandbox_user,
                            tun.sandbox_seccomp);
}

/* tls_check_readable checks a path main may look at without opening it
 * (the key file is never opened by main). */
static int tls_check_readable(const char *what, const char *path, int dir,
                              char *err, size_t err_len) {
  struct stat st;
  if (path == NULL) {
    return 1;
  }
  if (stat(path, &st) != 0) {
    snprintf(err, err_len, "%s '%.200s': %s", what, path, strerror(errno));
    return 0;
  }
  if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
    snprintf(err, err_len, "%s '%.200s' is not a %s", what, path,
             dir ? "directory" : "regular file");
    return 0;
  }
  if (access(path, dir ? (R_OK | X_OK) : R_OK) != 0) {
    snprintf(err, err_len, "%s '%.200s': %s", what, path, strerror(errno));
    return 0;
  }
  return 1;
}

static int tls_validate_settings(const tls_settings *s, int need_cert,
                                 char *err, size_t err_len) {
  if (need_cert && (s->cert_file == NULL || s->key_file == NULL)) {
    snprintf(err, err_len,
             "tls-cert-file and tls-key-file must be set when tls-port is "
             "enabled");
    return 0;
  }
  if (!tls_check_readable("tls-cert-file", s->cert_file, 0, err, err_len) ||
      /* Privilege separation: main cannot even stat the key; the spawner
       * reads it and a failure comes back as the handshaker's CONFIG_FAIL. */
      (!sandbox_spawner_active() &&
       !tls_check_readable("tls-key-file", s->key_file, 0, err, err_len)) ||
      !tls_check_readable("tls-ca-cert-file", s->ca_cert_file, 0, err,
                          err_len) ||
      !tls_check_readable("tls-ca-cert-dir", s->ca_cert_dir, 1, err, err_len) ||
      !tls_check_readable("tls-dh-params-file", s->dh_params_file, 0, err,
                          err_len)) {
    return 0;
  }
  if (s->auth_clients != TLS_CLIENT_AUTH_NO && s->ca_cert_file == NULL &&
      s->ca_cert_dir == NULL) {
    snprintf(err, err_len,
             "Either tls-ca-cert-file or tls-ca-cert-dir must be specified "
             "when tls-auth-clients is yes or optional");
    return 0;
  }
  SSL_CTX *ctx = SSL_CTX_new(TLS_with_buffers_method());
  if (ctx == NULL) {
    snprintf(err, err_len, "SSL_CTX_new failed");
    return 0;
  }
  int ok = tls_apply_cipher_policy(ctx, s, NULL, 0, err, err_len);
  SSL_CTX_free(ctx);
  return ok;
}

int tls_validate_options(const tls_options *options, int need_cert, char *err,
                         size_t err_len) {
  tls_settings s;
  tls_settings_for(&s, options);
  int ok = tls_validate_settings(&s, need_cert, err, err_len);
  tls_settings_free(&s);
  return ok;
}

/* tls_rotation_interval_ms: ticket keys rotate every tls-session-cache-timeout
 * seconds (|session_cache_timeout|), clamped. */
static long long tls_rotation_interval_ms(int session_cache_timeout) {
  long long secs = session_cache_timeout > 0 ? session_cache_timeout : 300;
  if (secs < TLS_TICKET_ROTATION_MIN) {
    secs = TLS_TICKET_ROTATION_MIN;
  }
  if (secs > TLS_TICKET_ROTATION_MAX) {
    secs = TLS_TICKET_ROTATION_MAX;
  }
  return secs * 1000;
}

/* tls_bring_up builds a generation from the current settings and starts
 * its handshakers. Returns it (READY, not yet active) or NULL with |err|. */
static tls_generation *tls_bring_up(const tls_options *options, char *err,
                                    size_t err_len) {
  tls_settings settings;
  tls_settings_for(&settings, options);
  if (!tls_validate_settings(&settings, 1, err, err_len)) {
    tls_settings_free(&settings);
    return NULL;
  }
  tls_generation *gen = tls_pool_create_generation(&settings, err, err_len);
  if (gen == NULL) {
    return NULL;
  }
  int ready = tls_pool_start_generation(gen, tls_pool_wanted_count(),
                                        TLS_START_WAIT_MS);
  if (gen->config_fail[0] != '\0' || ready == 0) {
    snprintf(err, err_len, "%s",
             gen->config_fail[0]
                 ? gen->config_fail
                 : "no TLS handshaker process could start (see the log)");
    tls_pool_discard_generation(gen);
    tls_generation_release(gen);
    return NULL;
  }
  return gen;
}

static void tls_log_generation(const tls_generation *gen, const char *what) {
  long long left = gen->cert_not_after - (long long)time(NULL);
  tls_log(
      TLS_LOG_NOTICE,
      "TLS %s: %d handshaker(s), certificate subject=\"%s\" "
      "issuer=\"%s\" expires in %lld s, client auth %s",
      what, tls_pool_wanted_count(), gen->cert_subject, gen->cert_issuer, left,
      gen->settings.auth_clients == TLS_CLIENT_AUTH_NO         ? "off"
      : gen->settings.auth_clients == TLS_CLIENT_AUTH_OPTIONAL ? "optional"
                                                               : "required");
  if (left < 0) {
    tls_log(TLS_LOG_WARNING, "TLS certificate has EXPIRED");
  }
}

int tls_start(ae_loop *loop, const tls_options *options, const tls_host *host,
              char *err, size_t err_len) {
  if (tls_state.started) {
    return 1;
  }
  tls_install_host(host);
  tls_pool_init(loop);
  tls_conn_init();
  /* The identity-binding key exists before the completion thread that
   * seals tickets with it. */
  if (!tls_peer_start()) {
    snprintf(err, err_len, "cannot generate the identity-binding key");
    return 0;
  }
  tls_finisher_start(loop);
  if (!tls_ticket_keys_rotate(1)) {
    snprintf(err, err_len, "cannot generate session ticket keys (getrandom)");
    return 0;
  }
  tls_generation *gen = tls_bring_up(options, err, err_len);
  if (gen == NULL) {
    return 0;
  }
  tls_state.next_rotation_ms =
      tls_now_ms() +
      tls_rotation_interval_ms(gen->settings.session_cache_timeout);
  {
    char removed[1024];
    char ignored[TLS_ERR_LEN];
    SSL_CTX *probe = SSL_CTX_new(TLS_with_buffers_method());
    if (probe &&
        tls_apply_cipher_policy(probe, &gen->settings, removed, sizeof(removed),
                                ignored, sizeof(ignored)) &&
        removed[0] && gen->settings.ciphers) {
      tls_log(TLS_LOG_WARNING,
              "tls-ciphers: RSA key exchange suites removed (no forward "
              "secrecy): %s",
              removed);
    }
    SSL_CTX_free(probe);
  }
  tls_pool_activate(gen);
  tls_generation_release(gen);
  tls_state.started = 1;
  tls_log_generation(gen, "ready");
  return 1;
}

int tls_reconfigure(ae_loop *loop, const tls_options *options,
                    const tls_host *host, char *err, size_t err_len) {
  if (!tls_state.started) {
    tls_tunables tun;
    tls_install_host(host);
    tls_read_tunables(&tun);
    if (tun.port == 0 && !tun.client) {
      return tls_validate_options(options, 0, err, err_len);
    }
    return tls_start(loop, options, host, err, err_len);
  }
  tls_generation *old = tls_pool_current_generation();
  int auth_before = old ? old->settings.auth_clients : -1;
  /* What a resumed identity was verified against (see below). */
  char trust_before[2 * IPC_MAX_PATH + 8] = "";
  if (old != NULL) {
    snprintf(trust_before, sizeof(trust_before), "%s|%s",
             old->settings.ca_cert_file ? old->settings.ca_cert_file : "",
             old->settings.ca_cert_dir ? old->settings.ca_cert_dir : "");
  }
  tls_generation *gen = tls_bring_up(options, err, err_len);
  if (gen == NULL) {
    tls_security_log("tls_reload_refused",
                     "reason=\"%s\" (old configuration kept)", err);
    return 0;
  }
  tls_pool_activate(gen);
  tls_generation_release(gen);
  if (auth_before != gen->settings.auth_clients) {
    /* Sessions from a laxer policy must not resume (the session ID context
     * changed too; dropping the keys makes it certain). */
    tls_ticket_keys_rotate(1);
    tls_pool_broadcast_ticket_keys();
  }
  char trust_after[sizeof(trust_before)];
  snprintf(trust_after, sizeof(trust_after), "%s|%s",
           gen->settings.ca_cert_file ? gen->settings.ca_cert_file : "",
           gen->settings.ca_cert_dir ? gen->settings.ca_cert_dir : "");
  if (auth_before != gen->settings.auth_clients ||
      strcmp(trust_before, trust_after) != 0) {
    /* A client identity verified under the old policy or CA is not bound
     * any more: handshakers refuse such sessions already (their session ID
     * context changed), and main no longer accepts one from a handshaker
     * that would not. */
    tls_peer_rotate_binding_key();
  }
  tls_state.next_rotation_ms =
      tls_now_ms() +
      tls_rotation_interval_ms(gen->settings.session_cache_timeout);
  tls_log_generation(gen, "reloaded");
  tls_security_log(
      "tls_reloaded", "subject=\"%s\" issuer=\"%s\" generation=%llu",
      gen->cert_subject, gen->cert_issuer, (unsigned long long)gen->id);
  return 1;
}

void tls_cron(void) {
  if (!tls_state.started) {
    return;
  }
  long long now = tls_now_ms();
  tls_pool_cron();
  tls_finisher_apply_nice(); /* after CONFIG SET tls-handshaker-nice */
  tls_conn_check_timeouts(now);
  if (now >= tls_state.next_rotation_ms) {
    if (tls_ticket_keys_rotate(0)) {
      tls_pool_broadcast_ticket_keys();
    } else {
      tls_log(TLS_LOG_WARNING, "TLS: session ticket key rotation failed");
    }
    tls_generation *gen = tls_pool_current_generation();
    tls_state.next_rotation_ms =
        now +
        tls_rotation_interval_ms(gen ? gen->settings.session_cache_timeout : 0);
  }
}

static const char *tls_auth_name(int auth) {
  return auth == TLS_CLIENT_AUTH_NO         ? "no"
         : auth == TLS_CLIENT_AUTH_OPTIONAL ? "optional"
                                            : "yes";
}

size_t tls_info_section(char *buf, size_t len) {
  tls_generation *gen = tls_pool_current_generation();
  tls_tunables tun;
  size_t used = 0;
  tls_read_tunables(&tun);
  if (len > 0) {
    buf[0] = '\0';
  }
  tls_appendf(buf, len, &used,
              "tls_port:%d\r\n"
              "tls_handshakers_alive:%d\r\n"
              "tls_handshakers_configured:%d\r\n"
              "tls_handshakes_completed:%lld\r\n"
              "tls_handshakes_failed:%lld\r\n"
              "tls_handshakes_resumed:%lld\r\n"
              "tls_handshakes_in_flight:%d\r\n"
              "tls_handshakes_timed_out:%lld\r\n"
              "tls_handshakes_refused_busy:%lld\r\n"
              "tls_handshaker_restarts:%lld\r\n"
              "tls_handshaker_deaths:%lld\r\n",
              tun.port, tls_pool_alive_count(), tls_pool_wanted_count(),
              tls_stat.handshakes_completed, tls_stat.handshakes_failed,
              tls_stat.handshakes_resumed, tls_conn_handshakes_in_flight(),
              tls_stat.handshakes_timed_out, tls_stat.handshakes_refused_busy,
              tls_stat.handshaker_restarts, tls_stat.handshaker_deaths);
  tls_conn_append_info(buf, len, &used);
  if (gen != NULL) {
    tls_appendf(buf, len, &used,
                "tls_auth_clients:%s\r\n"
                "tls_session_caching:%s\r\n"
                "tls_cert_subject:%s\r\n"
                "tls_cert_issuer:%s\r\n"
                "tls_cert_expires_in_seconds:%lld\r\n",
                tls_auth_name(gen->settings.auth_clients),
                gen->settings.session_caching ? "yes" : "no", gen->cert_subject,
                gen->cert_issuer,
                (long long)(gen->cert_not_after - (int64_t)time(NULL)));
  }
  return used;
}

void tls_shutdown(void) {
  if (!tls_state.started) {
    return;
  }
  tls_finisher_stop();
  tls_pool_shutdown();
  tls_peer_stop();
  tls_state.started = 0;
}

/* ---- --check-config ---------------------------------------------------- */

static void tls_json_string(FILE *out, const char *s) {
  fputc('"', out);
  for (; s != NULL && *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\') {
      fprintf(out, "\\%c", ch);
    } else if (ch < 0x20) {
      fprintf(out, "\\u%04x", ch);
    } else {
      fputc(ch, out);
    }
  }
  fputc('"', out);
}

/* tls_json_lines writes each line of |text| as one JSON string element. */
static void tls_json_lines(FILE *out, const char *text) {
  char line[IPC_MAX_REASON * 2];
  int first = 1;
  while (*text) {
    const char *end = strchr(text, '\n');
    size_t n = end ? (size_t)(end - text) : strlen(text);
    size_t copy = n < sizeof(line) - 1 ? n : sizeof(line) - 1;
    memcpy(line, text, copy);
    line[copy] = '\0';
    if (copy > 0) {
      fprintf(out, "%s", first ? "" : ",");
      tls_json_string(out, line);
      first = 0;
    }
    text += n + (end ? 1 : 0);
  }
}

#define TLS_CHECK_MAX_CHAIN 10
/* tls/ never calls SSL_CTX_set1_groups, so BoringSSL's default key-exchange
 * groups apply, in this preference order. */
#define TLS_DEFAULT_GROUPS "X25519:P-256:P-384"
#define TLS_CHECK_ALLOWLIST_LEN 4096

typedef struct tls_check_report {
  char chain[TLS_CHECK_MAX_CHAIN][3][IPC_MAX_REASON]; /* subject, issuer,
                                                          key */
  long long expires_in[TLS_CHECK_MAX_CHAIN];
  char sig_alg[TLS_CHECK_MAX_CHAIN][64];
  char not_after[TLS_CHECK_MAX_CHAIN][32]; /* UTC, ISO 8601 */
  int chain_len;
  char allowlist[TLS_CHECK_ALLOWLIST_LEN];
  char ciphers[2048];
  char removed[1024];
  char error[TLS_ERR_LEN];
  char key_status[TLS_ERR_LEN];
  int ok;
} tls_check_report;

static void tls_check_chain(const char *path, tls_check_report *r) {
  BIO *bio = path ? BIO_new_file(path, "r") : NULL;
  if (bio == NULL) {
    ERR_clear_error();
    return;
  }
  X509 *x;
  while (r->chain_len < TLS_CHECK_MAX_CHAIN &&
         (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
    int i = r->chain_len++;
    int days = 0, secs = 0;
    tls_x509_name_text(X509_get_subject_name(x), r->chain[i][0], IPC_MAX_REASON,
                       0);
    tls_x509_name_text(X509_get_issuer_name(x), r->chain[i][1], IPC_MAX_REASON,
                       0);
    EVP_PKEY *pub = X509_get_pubkey(x);
    if (pub != NULL) {
      int type = EVP_PKEY_id(pub);
      snprintf(r->chain[i][2], IPC_MAX_REASON, "%s-%d",
               type == EVP_PKEY_RSA       ? "RSA"
               : type == EVP_PKEY_EC      ? "EC"
               : type == EVP_PKEY_ED25519 ? "Ed25519"
                                          : "other",
               EVP_PKEY_bits(pub));
      EVP_PKEY_free(pub);
    }
    if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x))) {
      r->expires_in[i] = (long long)days * 86400 + secs;
    }
    int sig_nid = X509_get_signature_nid(x);
    const char *sig_name = sig_nid != NID_undef ? OBJ_nid2ln(sig_nid) : NULL;
    snprintf(r->sig_alg[i], sizeof(r->sig_alg[i]), "%s",
             sig_name ? sig_name : "unknown");
    /* This BoringSSL has no ASN1_TIME_to_posix: now + the difference. */
    struct tm tm;
    time_t t = time(NULL) + (time_t)r->expires_in[i];
    if (gmtime_r(&t, &tm) != NULL) {
      strftime(r->not_after[i], sizeof(r->not_after[i]), "%Y-%m-%dT%H:%M:%SZ",
               &tm);
    }
    X509_free(x);
  }
  ERR_clear_error();
  BIO_free(bio);
}

int tls_check_config(const tls_options *options, const tls_host *host,
                     int json) {
  tls_check_report *r = calloc(1, sizeof(*r));
  tls_settings s;
  tls_tunables tun;
  if (r == NULL) {
    return 1;
  }
  tls_install_host(host);
  tls_read_tunables(&tun);
  tls_settings_for(&s, options);
  r->ok = tls_validate_settings(&s, tun.port != 0, r->error, sizeof(r->error));
  if (r->ok) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_with_buffers_method());
    if (ctx && tls_apply_cipher_policy(ctx, &s, r->removed, sizeof(r->removed),
                                       r->error, sizeof(r->error))) {
      STACK_OF(SSL_CIPHER) *list = SSL_CTX_get_ciphers(ctx);
      size_t used = 0;
      for (size_t i = 0;
           i < sk_SSL_CIPHER_num(list) && used < sizeof(r->ciphers); i++) {
        int n = snprintf(r->ciphers + used, sizeof(r->ciphers) - used, "%s%s",
                         used ? ":" : "",
                         SSL_CIPHER_get_name(sk_SSL_CIPHER_value(list, i)));
        if (n > 0) {
          used += (size_t)n;
        }
      }
    } else {
      r->ok = 0;
    }
    SSL_CTX_free(ctx);
  }
  tls_check_chain(s.cert_file, r);
  sandbox_policy_describe(r->allowlist, sizeof(r->allowlist));
  /* The key is only ever loaded by a handshaker: start one, as the server
   * would, and report what it says. */
  if (r->ok && tun.port != 0) {
    /* The report carries the outcome: keep pool log lines off stdout
     * (--check-config-json must print JSON only). */
    tls_state.log_quiet = 1;
    ae_loop *loop = ae_create(256);
    if (loop != NULL) {
      char err[TLS_ERR_LEN] = "";
      tls_settings copy;
      tls_settings_for(&copy, options);
      tls_pool_init(loop);
      tls_generation *gen = tls_pool_create_generation(&copy, err, sizeof(err));
      if (gen != NULL) {
        int ready = tls_pool_start_generation(gen, 1, TLS_START_WAIT_MS);
        if (ready > 0) {
          snprintf(r->key_status, sizeof(r->key_status),
                   "loaded by a sandboxed handshaker (seccomp %s)",
                   s.seccomp ? "on" : "off");
        } else {
          snprintf(r->key_status, sizeof(r->key_status), "FAILED: %s",
                   gen->config_fail[0] ? gen->config_fail
                                       : "handshaker did not start");
          r->ok = 0;
          if (r->error[0] == '\0') {
            /* The first reason in the report is the one to act on. */
            snprintf(r->error, sizeof(r->error), "%s", r->key_status + 8);
          }
        }
        tls_pool_discard_generation(gen);
        tls_generation_release(gen);
        tls_pool_shutdown();
      } else {
        tls_format(r->key_status, sizeof(r->key_status), "FAILED: %s", err);
        r->ok = 0;
      }
      ae_free(loop);
    }
    tls_state.log_quiet = 0;
  }
  uint16_t min_v = 0, max_v = 0;
  char perr[TLS_ERR_LEN];
  int proto_ok =
      tls_parse_protocols(s.protocols, &min_v, &max_v, perr, sizeof(perr));
  const char *protocols =
      !proto_ok        ? "invalid"
      : min_v == max_v ? (min_v == TLS1_3_VERSION ? "TLSv1.3" : "TLSv1.2")
                       : "TLSv1.2 TLSv1.3";
  if (json) {
    FILE *o = stdout;
    fprintf(o, "{\"ok\":%s,\"error\":", r->ok ? "true" : "false");
    tls_json_string(o, r->error);
    fprintf(o, ",\"tls_port\":%d,\"protocols\":", tun.port);
    tls_json_string(o, protocols);
    fprintf(o, ",\"tls12_ciphers\":");
    tls_json_string(o, r->ciphers);
    fprintf(o, ",\"tls12_ciphers_removed_rsa_kx\":");
    tls_json_string(o, r->removed);
    fprintf(o, ",\"tls13_ciphersuites\":");
    tls_json_string(o, TLS_BORINGSSL_CIPHERSUITES);
    fprintf(o, ",\"prefer_server_ciphers\":%s,\"client_auth\":",
            s.prefer_server_ciphers ? "true" : "false");
    tls_json_string(o, tls_auth_name(s.auth_clients));
    fprintf(o, ",\"ca_cert_file\":");
    tls_json_string(o, s.ca_cert_file);
    fprintf(o, ",\"ca_cert_dir\":");
    tls_json_string(o, s.ca_cert_dir);
    fprintf(o,
            ",\"session_tickets\":%s,\"session_timeout\":%d,"
            "\"ticket_key_rotation_seconds\":%lld",
            s.session_caching ? "true" : "false", s.session_cache_timeout,
            tls_rotation_interval_ms(s.session_cache_timeout) / 1000);
    fprintf(o,
            ",\"handshake_workers\":%d,\"handshake_timeout_ms\":%d,"
            "\"max_handshakes_in_flight\":%d,\"handshaker_nice\":%d,"
            "\"seccomp\":%s,\"sandbox_user\":",
            tls_pool_wanted_count(), tun.handshake_timeout_ms,
            tun.max_handshakes_in_flight, tun.handshaker_nice,
            s.seccomp ? "true" : "false");
    tls_json_string(o, s.sandbox_user);
    fprintf(o, ",\"private_key\":");
    tls_json_string(o, r->key_status);
    fprintf(o, ",\"protocol_versions\":[");
    if (proto_ok && min_v <= TLS1_2_VERSION) {
      fprintf(o, "\"TLSv1.2\"%s", max_v >= TLS1_3_VERSION ? "," : "");
    }
    if (proto_ok && max_v >= TLS1_3_VERSION) {
      fprintf(o, "\"TLSv1.3\"");
    }
    fprintf(o, "],\"groups\":");
    tls_json_string(o, TLS_DEFAULT_GROUPS);
    fprintf(o, ",\"mtls_required\":%s,\"mtls_ca\":",
            s.auth_clients == TLS_CLIENT_AUTH_YES ? "true" : "false");
    tls_json_string(o, s.ca_cert_file ? s.ca_cert_file : s.ca_cert_dir);
    fprintf(o, ",\"session_cache_size\":%d", s.session_cache_size);
    fprintf(o, ",\"seccomp_allowlist\":[");
    tls_json_lines(o, r->allowlist);
    fprintf(o, "],\"certificate_chain\":[");
    for (int i = 0; i < r->chain_len; i++) {
      fprintf(o, "%s{\"subject\":", i ? "," : "");
      tls_json_string(o, r->chain[i][0]);
      fprintf(o, ",\"issuer\":");
      tls_json_string(o, r->chain[i][1]);
      fprintf(o, ",\"key\":");
      tls_json_string(o, r->chain[i][2]);
      fprintf(o, ",\"signature_algorithm\":");
      tls_json_string(o, r->sig_alg[i]);
      fprintf(o, ",\"not_after\":");
      tls_json_string(o, r->not_after[i]);
      fprintf(o, ",\"days_left\":%lld", r->expires_in[i] / 86400);
      fprintf(o, ",\"expires_in_seconds\":%lld}", r->expires_in[i]);
    }
    fprintf(o, "],\"threat_model\":\"THREAT-MODEL.md\"}\n");
  } else {
    printf("TLS policy (%s)\n", r->ok ? "OK" : "INVALID");
    if (r->error[0]) {
      printf("  error: %s\n", r->error);
    }
    printf("  tls-port: %d\n", tun.port);
    printf("  protocols: %s\n", protocols);
    printf("  TLS 1.2 ciphers: %s\n", r->ciphers[0] ? r->ciphers : "-");
    if (r->removed[0]) {
      printf("  removed (RSA key exchange): %s\n", r->removed);
    }
    printf("  TLS 1.3 suites (fixed by BoringSSL): %s\n",
           TLS_BORINGSSL_CIPHERSUITES);
    printf("  groups (preference order): %s\n", TLS_DEFAULT_GROUPS);
    printf("  prefer server ciphers: %s\n",
           s.prefer_server_ciphers ? "yes" : "no");
    printf("  client authentication (mTLS): %s\n",
           tls_auth_name(s.auth_clients));
    printf("  mTLS required: %s\n",
           s.auth_clients == TLS_CLIENT_AUTH_YES ? "yes" : "no");
    printf("  CA file: %s, CA dir: %s\n", s.ca_cert_file ? s.ca_cert_file : "-",
           s.ca_cert_dir ? s.ca_cert_dir : "-");
    printf(
        "  resumption: %s (timeout %d s, ticket keys rotated every %lld s, "
        "shared by main and handshakers)\n",
        s.session_caching ? "session tickets" : "off", s.session_cache_timeout,
        tls_rotation_interval_ms(s.session_cache_timeout) / 1000);
    printf(
        "  handshakers: %d (timeout %d ms, max in flight %d, nice +%d), "
        "seccomp %s, user %s\n",
        tls_pool_wanted_count(), tun.handshake_timeout_ms,
        tun.max_handshakes_in_flight, tun.handshaker_nice,
        s.seccomp ? "on" : "off", s.sandbox_user ? s.sandbox_user : "-");
    printf("  private key: %s\n", r->key_status[0] ? r->key_status : "-");
    for (int i = 0; i < r->chain_len; i++) {
      printf(
          "  chain[%d]: subject=%s issuer=%s key=%s signature=%s "
          "not_after=%s days_left=%lld expires_in=%lld s\n",
          i, r->chain[i][0], r->chain[i][1], r->chain[i][2], r->sig_alg[i],
          r->not_after[i][0] ? r->not_after[i] : "?", r->expires_in[i] / 86400,
          r->expires_in[i]);
    }
    printf("  seccomp allowlist (default action: kill the process):\n");
    for (const char *line = r->allowlist; *line;) {
      const char *end = strchr(line, '\n');
      int n = end ? (int)(end - line) : (int)strlen(line);
      printf("    %.*s\n", n, line);
      line += n + (end ? 1 : 0);
    }
    printf(
        "  threat model: THREAT-MODEL.md in the source tree says what this "
        "protects against, what it does not, and the test behind each "
        "claim\n");
  }
  int rc = r->ok ? 0 : 1;
  tls_settings_free(&s);
  free(r);
  return rc;
}
