/* policy.c: the TLS policy built from tls-* settings. Main (post-handback
 * context, validation, --check-config) and the handshakers (handoff and
 * handshake contexts) build from the same functions, so the two sides can
 * never disagree on verify mode, session ID context or ticket keys: a
 * mismatch there fails silently (mTLS accepting anyone, resumption off). */
#include <openssl/digest.h>
#include <openssl/err.h>
#include <openssl/nid.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tls/internal_common.h"

_Static_assert(TLS_CLIENT_AUTH_NO == 0 && TLS_CLIENT_AUTH_YES == 1 &&
                   TLS_CLIENT_AUTH_OPTIONAL == IPC_MAX_AUTH_CLIENTS,
               "tls-auth-clients values travel unchanged in IPC CONFIG");

/* Longest cipher string we build ("<user list>:!kRSA"). */
#define TLS_MAX_CIPHER_STRING (IPC_MAX_CONFIG_STRING + 16)
/* Words in tls-protocols / names in tls-ciphersuites we look at. */
#define TLS_MAX_POLICY_WORDS 16

static char *tls_strdup_or_null(const char *s) {
  if (s == NULL || s[0] == '\0') {
    return NULL;
  }
  char *copy = strdup(s);
  if (copy == NULL) {
    abort();
  }
  return copy;
}

void tls_settings_from_options(tls_settings *out, const tls_options *opts,
                               const char *sandbox_user, int seccomp) {
  memset(out, 0, sizeof(*out));
  out->cert_file = tls_strdup_or_null(opts->cert_file);
  out->key_file = tls_strdup_or_null(opts->key_file);
  out->key_file_pass = tls_strdup_or_null(opts->key_file_pass);
  out->ca_cert_file = tls_strdup_or_null(opts->ca_cert_file);
  out->ca_cert_dir = tls_strdup_or_null(opts->ca_cert_dir);
  out->dh_params_file = tls_strdup_or_null(opts->dh_params_file);
  out->protocols = tls_strdup_or_null(opts->protocols);
  out->ciphers = tls_strdup_or_null(opts->ciphers);
  out->ciphersuites = tls_strdup_or_null(opts->ciphersuites);
  out->sandbox_user = tls_strdup_or_null(sandbox_user);
  out->client_cert_file = tls_strdup_or_null(opts->client_cert_file);
  out->client_key_file = tls_strdup_or_null(opts->client_key_file);
  out->client_key_file_pass = tls_strdup_or_null(opts->client_key_file_pass);
  out->auth_clients = opts->auth_clients;
  out->prefer_server_ciphers = opts->prefer_server_ciphers;
  out->session_caching = opts->session_caching;
  out->seccomp = seccomp;
  out->session_cache_size = opts->session_cache_size;
  out->session_cache_timeout = opts->session_cache_timeout;
}

void tls_settings_from_ipc(tls_settings *out, const ipc_config *config) {
  memset(out, 0, sizeof(*out));
  out->cert_file = tls_strdup_or_null(config->cert_file);
  out->key_file = tls_strdup_or_null(config->key_file);
  out->key_file_pass = tls_strdup_or_null(config->key_file_pass);
  out->ca_cert_file = tls_strdup_or_null(config->ca_cert_file);
  out->ca_cert_dir = tls_strdup_or_null(config->ca_cert_dir);
  out->dh_params_file = tls_strdup_or_null(config->dh_params_file);
  out->protocols = tls_strdup_or_null(config->protocols);
  out->ciphers = tls_strdup_or_null(config->ciphers);
  out->ciphersuites = tls_strdup_or_null(config->ciphersuites);
  out->sandbox_user = tls_strdup_or_null(config->sandbox_user);
  out->client_cert_file = tls_strdup_or_null(config->client_cert_file);
  out->client_key_file = tls_strdup_or_null(config->client_key_file);
  out->client_key_file_pass = tls_strdup_or_null(config->client_key_file_pass);
  out->auth_clients = config->auth_clients;
  out->prefer_server_ciphers = config->prefer_server_ciphers;
  out->session_caching = config->session_caching;
  out->seccomp = config->seccomp;
  out->session_cache_size = (int)config->session_cache_size;
  out->session_cache_timeout = (int)config->session_cache_timeout;
}

void tls_settings_to_ipc(const tls_settings *settings, ipc_config *out) {
  memset(out, 0, sizeof(*out));
  out->cert_file = settings->cert_file;
  out->key_file = settings->key_file;
  out->key_file_pass = settings->key_file_pass;
  out->ca_cert_file = settings->ca_cert_file;
  out->ca_cert_dir = settings->ca_cert_dir;
  out->dh_params_file = settings->dh_params_file;
  out->protocols = settings->protocols;
  out->ciphers = settings->ciphers;
  out->ciphersuites = settings->ciphersuites;
  out->sandbox_user = settings->sandbox_user;
  out->client_cert_file = settings->client_cert_file;
  out->client_key_file = settings->client_key_file;
  out->client_key_file_pass = settings->client_key_file_pass;
  out->auth_clients = (uint8_t)settings->auth_clients;
  out->prefer_server_ciphers = (uint8_t)(settings->prefer_server_ciphers != 0);
  out->session_caching = (uint8_t)(settings->session_caching != 0);
  out->seccomp = (uint8_t)(settings->seccomp != 0);
  out->session_cache_size = settings->session_cache_size > 0
                                ? (uint32_t)settings->session_cache_size
                                : 0;
  out->session_cache_timeout = settings->session_cache_timeout > 0
                                   ? (uint32_t)settings->session_cache_timeout
                                   : 0;
}

void tls_settings_free(tls_settings *settings) {
  if (settings->key_file_pass != NULL) {
    OPENSSL_cleanse(settings->key_file_pass, strlen(settings->key_file_pass));
  }
  if (settings->client_key_file_pass != NULL) {
    OPENSSL_cleanse(settings->client_key_file_pass,
                    strlen(settings->client_key_file_pass));
  }
  char **fields[] = {&settings->cert_file,           &settings->key_file,
                     &settings->key_file_pass,       &settings->ca_cert_file,
                     &settings->ca_cert_dir,         &settings->dh_params_file,
                     &settings->protocols,           &settings->ciphers,
                     &settings->ciphersuites,        &settings->sandbox_user,
                     &settings->client_cert_file,    &settings->client_key_file,
                     &settings->client_key_file_pass};
  for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
    free(*fields[i]);
    *fields[i] = NULL;
  }
}

static int tls_str_equal(const char *a, const char *b) {
  if (a == NULL || b == NULL) {
    return a == b;
  }
  return strcmp(a, b) == 0;
}

int tls_settings_equal(const tls_settings *a, const tls_settings *b) {
  return tls_str_equal(a->cert_file, b->cert_file) &&
         tls_str_equal(a->key_file, b->key_file) &&
         tls_str_equal(a->key_file_pass, b->key_file_pass) &&
         tls_str_equal(a->ca_cert_file, b->ca_cert_file) &&
         tls_str_equal(a->ca_cert_dir, b->ca_cert_dir) &&
         tls_str_equal(a->dh_params_file, b->dh_params_file) &&
         tls_str_equal(a->protocols, b->protocols) &&
         tls_str_equal(a->ciphers, b->ciphers) &&
         tls_str_equal(a->ciphersuites, b->ciphersuites) &&
         tls_str_equal(a->sandbox_user, b->sandbox_user) &&
         tls_str_equal(a->client_cert_file, b->client_cert_file) &&
         tls_str_equal(a->client_key_file, b->client_key_file) &&
         tls_str_equal(a->client_key_file_pass, b->client_key_file_pass) &&
         a->auth_clients == b->auth_clients &&
         a->prefer_server_ciphers == b->prefer_server_ciphers &&
         a->session_caching == b->session_caching && a->seccomp == b->seccomp &&
         a->session_cache_size == b->session_cache_size &&
         a->session_cache_timeout == b->session_cache_timeout;
}

void tls_format(char *buf, size_t len, const char *fmt, ...) {
  va_list ap;
  if (len == 0) {
    return;
  }
  va_start(ap, fmt);
  int n = vsnprintf(buf, len, fmt, ap);
  va_end(ap);
  if (n < 0) {
    buf[0] = '\0';
  }
}

void tls_collect_errors(char *buf, size_t len) {
  size_t used = 0;
  uint32_t code;
  if (len == 0) {
    return;
  }
  buf[0] = '\0';
  while ((code = ERR_get_error()) != 0) {
    char one[160];
    ERR_error_string_n(code, one, sizeof(one));
    int n = snprintf(buf + used, len - used, "%s%s", used ? " | " : "", one);
    if (n < 0 || (size_t)n >= len - used) {
      ERR_clear_error();
      break;
    }
    used += (size_t)n;
  }
}

const char *tls_ssl_error_name(int code) {
  switch (code) {
    case SSL_ERROR_NONE:
      return "NONE";
    case SSL_ERROR_SSL:
      return "SSL";
    case SSL_ERROR_WANT_READ:
      return "WANT_READ";
    case SSL_ERROR_WANT_WRITE:
      return "WANT_WRITE";
    case SSL_ERROR_SYSCALL:
      return "SYSCALL";
    case SSL_ERROR_ZERO_RETURN:
      return "ZERO_RETURN";
    case SSL_ERROR_HANDOFF:
      return "HANDOFF";
    case SSL_ERROR_HANDBACK:
      return "HANDBACK";
    default:
      return "OTHER";
  }
}

int tls_parse_protocols(const char *protocols, uint16_t *out_min,
                        uint16_t *out_max, char *err, size_t err_len) {
  int want12 = 0, want13 = 0, words = 0;
  if (protocols == NULL || protocols[0] == '\0') {
    *out_min = TLS1_2_VERSION;
    *out_max = TLS1_3_VERSION;
    return 1;
  }
  const char *p = protocols;
  while (*p != '\0') {
    while (*p == ' ' || *p == '\t' || *p == ',') {
      p++;
    }
    if (*p == '\0') {
      break;
    }
    const char *start = p;
    while (*p != '\0' && *p != ' ' && *p != '\t' && *p != ',') {
      p++;
    }
    size_t n = (size_t)(p - start);
    if (++words > TLS_MAX_POLICY_WORDS) {
      snprintf(err, err_len, "tls-protocols: too many words");
      return 0;
    }
    if (n == 7 && strncasecmp(start, "TLSv1.2", n) == 0) {
      want12 = 1;
    } else if (n == 7 && strncasecmp(start, "TLSv1.3", n) == 0) {
      want13 = 1;
    } else if ((n == 5 && strncasecmp(start, "TLSv1", n) == 0) ||
               (n == 7 && strncasecmp(start, "TLSv1.1", n) == 0)) {
      snprintf(err, err_len,
               "tls-protocols: %.*s is unsupported (Redoubt allows only "
               "TLSv1.2 and TLSv1.3)",
               (int)n, start);
      return 0;
    } else {
      snprintf(err, err_len,
               "tls-protocols: unknown protocol '%.*s' (use TLSv1.2 and/or "
               "TLSv1.3)",
               (int)(n > 64 ? 64 : n), start);
      return 0;
    }
  }
  if (!want12 && !want13) {
    snprintf(err, err_len, "tls-protocols: no protocol enabled");
    return 0;
  }
  *out_min = want12 ? TLS1_2_VERSION : TLS1_3_VERSION;
  *out_max = want13 ? TLS1_3_VERSION : TLS1_2_VERSION;
  return 1;
}

/* The TLS 1.2 suites used when tls-ciphers is empty: forward-secret (ECDHE)
 * AEAD suites only. BoringSSL's "ALL" also offers the CBC suites with
 * HMAC-SHA1 (ECDHE-*-AES128-SHA, ...), which a tls-ciphers value may still
 * name; RSA key exchange is removed from every list in any case. */
static const char tls_default_ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

/* The signature algorithms offered and accepted for peer signatures (the
 * CertificateRequest's list, the client's CertificateVerify, a master's
 * ServerKeyExchange) and used for our own: ECDSA, RSA-PSS and RSA PKCS#1
 * with SHA-256/384/512, BoringSSL's defaults without rsa_pkcs1_sha1 and
 * ecdsa_sha1. A TLS 1.2 peer that offers only SHA-1 (or sends no
 * signature_algorithms extension, which means SHA-1) fails the handshake. */
static const uint16_t tls_signature_algorithms[] = {
    SSL_SIGN_ECDSA_SECP256R1_SHA256, SSL_SIGN_RSA_PSS_RSAE_SHA256,
    SSL_SIGN_RSA_PKCS1_SHA256,       SSL_SIGN_ECDSA_SECP384R1_SHA384,
    SSL_SIGN_RSA_PSS_RSAE_SHA384,    SSL_SIGN_RSA_PKCS1_SHA384,
    SSL_SIGN_ECDSA_SECP521R1_SHA512, SSL_SIGN_RSA_PSS_RSAE_SHA512,
    SSL_SIGN_RSA_PKCS1_SHA512,
};
#define TLS_SIGNATURE_ALGORITHM_COUNT \
  (sizeof(tls_signature_algorithms) / sizeof(tls_signature_algorithms[0]))

/* The suites BoringSSL always enables for TLS 1.3, in no particular order. */
static const char *const tls_boringssl_suites[] = {
    "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256"};
#define TLS_BORINGSSL_SUITE_COUNT 3

static int tls_check_ciphersuites_for(const char *suites, int tls13_enabled,
                                      char *err, size_t err_len);

int tls_check_ciphersuites(const char *suites, char *err, size_t err_len) {
  return tls_check_ciphersuites_for(suites, 1, err, err_len);
}

static int tls_check_ciphersuites_for(const char *suites, int tls13_enabled,
                                      char *err, size_t err_len) {
  int seen[TLS_BORINGSSL_SUITE_COUNT] = {0, 0, 0};
  int names = 0;
  if (suites == NULL || suites[0] == '\0') {
    return 1;
  }
  const char *p = suites;
  while (*p != '\0') {
    const char *start = p;
    while (*p != '\0' && *p != ':') {
      p++;
    }
    size_t n = (size_t)(p - start);
    if (*p == ':') {
      p++;
    }
    if (n == 0) {
      continue;
    }
    if (++names > TLS_MAX_POLICY_WORDS) {
      snprintf(err, err_len, "tls-ciphersuites: too many names");
      return 0;
    }
    int found = 0;
    for (int i = 0; i < TLS_BORINGSSL_SUITE_COUNT; i++) {
      if (strlen(tls_boringssl_suites[i]) == n &&
          strncmp(start, tls_boringssl_suites[i], n) == 0) {
        seen[i] = 1;
        found = 1;
      }
    }
    if (!found) {
      snprintf(err, err_len,
               "tls-ciphersuites: '%.*s' is not a TLS 1.3 suite BoringSSL "
               "supports (it supports exactly " TLS_BORINGSSL_CIPHERSUITES ")",
               (int)(n > 64 ? 64 : n), start);
      return 0;
    }
  }
  /* Naming a subset would silently leave the others enabled. */
  for (int i = 0; i < TLS_BORINGSSL_SUITE_COUNT && tls13_enabled; i++) {
    if (!seen[i]) {
      snprintf(err, err_len,
               "tls-ciphersuites: BoringSSL cannot restrict TLS 1.3 suites; "
               "%s would stay enabled. Leave tls-ciphersuites empty, list "
               "all of " TLS_BORINGSSL_CIPHERSUITES
               ", or remove TLSv1.3 from tls-protocols",
               tls_boringssl_suites[i]);
      return 0;
    }
  }
  return 1;
}

int tls_apply_cipher_policy(SSL_CTX *ctx, const tls_settings *settings,
                            char *removed, size_t removed_len, char *err,
                            size_t err_len) {
  uint16_t min_version, max_version;
  char list[TLS_MAX_CIPHER_STRING];
  if (removed != NULL && removed_len > 0) {
    removed[0] = '\0';
  }
  if (!tls_parse_protocols(settings->protocols, &min_version, &max_version, err,
                           err_len)) {
    return 0;
  }
  /* Without TLS 1.3 the suites are never used: only their names must be
   * right. */
  if (!tls_check_ciphersuites_for(settings->ciphersuites,
                                  max_version >= TLS1_3_VERSION, err,
                                  err_len)) {
    return 0;
  }
  if (!SSL_CTX_set_min_proto_version(ctx, min_version) ||
      !SSL_CTX_set_max_proto_version(ctx, max_version)) {
    snprintf(err, err_len, "cannot set the protocol range");
    return 0;
  }
  if (!SSL_CTX_set_verify_algorithm_prefs(ctx, tls_signature_algorithms,
                                          TLS_SIGNATURE_ALGORITHM_COUNT) ||
      !SSL_CTX_set_signing_algorithm_prefs(ctx, tls_signature_algorithms,
                                           TLS_SIGNATURE_ALGORITHM_COUNT)) {
    ERR_clear_error();
    snprintf(err, err_len, "cannot set the signature algorithms");
    return 0;
  }
  const char *user =
      settings->ciphers ? settings->ciphers : tls_default_ciphers;
  if (!SSL_CTX_set_strict_cipher_list(ctx, user)) {
    ERR_clear_error();
    snprintf(err, err_len, "tls-ciphers: invalid cipher list '%.200s'", user);
    return 0;
  }
  /* RSA key exchange has no forward secrecy and would move certificate
   * checks into the handshaker: removed from any list, and said so. */
  STACK_OF(SSL_CIPHER) *ciphers = SSL_CTX_get_ciphers(ctx);
  size_t used = 0;
  int rsa_kx = 0;
  for (size_t i = 0; i < sk_SSL_CIPHER_num(ciphers); i++) {
    const SSL_CIPHER *cipher = sk_SSL_CIPHER_value(ciphers, i);
    if (SSL_CIPHER_get_kx_nid(cipher) == NID_kx_rsa) {
      rsa_kx++;
      if (removed != NULL && used < removed_len) {
        int n = snprintf(removed + used, removed_len - used, "%s%s",
                         used ? ":" : "", SSL_CIPHER_get_name(cipher));
        if (n > 0) {
          used += (size_t)n;
        }
      }
    }
  }
  if (rsa_kx > 0) {
    snprintf(list, sizeof(list), "%s:!kRSA", user);
    if (!SSL_CTX_set_strict_cipher_list(ctx, list)) {
      ERR_clear_error();
      if (max_version >= TLS1_3_VERSION && min_version <= TLS1_2_VERSION) {
        snprintf(err, err_len,
                 "tls-ciphers: '%.200s' leaves no TLS 1.2 suite once RSA key "
                 "exchange is removed",
                 user);
      } else {
        snprintf(err, err_len,
                 "tls-ciphers: '%.200s' has only RSA key exchange suites, "
                 "which Redoubt does not allow",
                 user);
      }
      return 0;
    }
  }
  if (settings->prefer_server_ciphers) {
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  }
  return 1;
}

int tls_verify_mode(int auth_clients) {
  switch (auth_clients) {
    case TLS_CLIENT_AUTH_NO:
      return SSL_VERIFY_NONE;
    case TLS_CLIENT_AUTH_OPTIONAL:
      return SSL_VERIFY_PEER;
    default:
      /* Anything unknown is treated as the strictest mode. */
      return SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  }
}

int tls_load_verify_locations(SSL_CTX *ctx, const tls_settings *settings,
                              char *err, size_t err_len) {
  if (settings->ca_cert_file == NULL && settings->ca_cert_dir == NULL) {
    if (settings->auth_clients != TLS_CLIENT_AUTH_NO) {
      snprintf(err, err_len,
               "Either tls-ca-cert-file or tls-ca-cert-dir must be specified "
               "when tls-auth-clients is yes or optional");
      return 0;
    }
    return 1;
  }
  if (!SSL_CTX_load_verify_locations(ctx, settings->ca_cert_file,
                                     settings->ca_cert_dir)) {
    char why[256];
    tls_collect_errors(why, sizeof(why));
    snprintf(err, err_len,
             "Failed to configure CA certificate(s) file/directory: %s", why);
    return 0;
  }
  return 1;
}

/* tls_session_id_context derives the session ID context from what decides
 * whether a resumed session is acceptable (client-authentication policy and
 * CA): a session from an older, laxer policy then never resumes. */
static void tls_session_id_context(const tls_settings *settings,
                                   uint8_t out[SHA256_DIGEST_LENGTH]) {
  char buf[3 * IPC_MAX_PATH + 64];
  int n =
      snprintf(buf, sizeof(buf), "redoubt-sid|%d|%s|%s", settings->auth_clients,
               settings->ca_cert_file ? settings->ca_cert_file : "",
               settings->ca_cert_dir ? settings->ca_cert_dir : "");
  if (n < 0) {
    n = 0;
  }
  if ((size_t)n >= sizeof(buf)) {
    n = (int)sizeof(buf) - 1;
  }
  SHA256((const uint8_t *)buf, (size_t)n, out);
}

int tls_apply_session_policy(SSL_CTX *ctx, const tls_settings *settings) {
  uint8_t sid_ctx[SHA256_DIGEST_LENGTH];
  tls_session_id_context(settings, sid_ctx);
  if (!SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx))) {
    return 0;
  }
  /* A server-side cache cannot be shared between processes: resumption
   * uses tickets only, with keys main shares with every handshaker. */
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (!settings->session_caching) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
    return 1;
  }
  uint32_t timeout = settings->session_cache_timeout > 0
                         ? (uint32_t)settings->session_cache_timeout
                         : 300;
  SSL_CTX_set_timeout(ctx, timeout);
  SSL_CTX_set_session_psk_dhe_timeout(ctx, timeout);
  /* Sealed and opened with the shared keys (ticket_keys.c); main binds a
   * resumable session's client identity when it seals (tls/peer.c). */
  SSL_CTX_set_ticket_aead_method(ctx, &tls_ticket_aead_method);
  return 1;
}

void tls_x509_name_text(const X509_NAME *name, char *out, size_t len,
                        int escape_space) {
  out[0] = '\0';
  BIO *bio = BIO_new(BIO_s_mem());
  if (bio == NULL) {
    return;
  }
  if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0) {
    const uint8_t *data;
    size_t data_len, used = 0;
    if (BIO_mem_contents(bio, &data, &data_len)) {
      /* RFC 4514 \XX for bytes that would break a log or CLIENT LIST
       * line; truncated at a whole character. */
      for (size_t i = 0; i < data_len && used + 4 < len; i++) {
        uint8_t ch = data[i];
        if (ch < ' ' || ch == 0x7f || (escape_space && ch == ' ')) {
          used += (size_t)snprintf(out + used, len - used, "\\%02X", ch);
        } else {
          out[used++] = (char)ch;
        }
      }
      out[used] = '\0';
    }
  }
  BIO_free(bio);
}
