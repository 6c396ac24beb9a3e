/* verifier.c: certificate-chain verification for a verifier process (a
 * handshaker started in verify-only role, tls/handshaker.c), so that main
 * never parses X.509 (issue 17 item 1).
 *
 * Main's SSL reads the peer's Certificate message as opaque DER buffers
 * (TLS_with_buffers_method), sends them here in a VERIFY request, and gets
 * back a verdict and the identity it shows (subject, subjectAltNames) as
 * text. Everything X.509 happens here: DER parsing, chain building against
 * the CA, validity dates, key usage and extended key usage (the purpose),
 * exactly as BoringSSL's own ssl_crypto_x509_session_verify_cert_chain
 * does for a server (purpose "ssl_client") or a client ("ssl_server").
 *
 * Trust store: the CA file, and every hash-named certificate file of the CA
 * directory, loaded before the sandbox closes the file system. A lazy
 * directory lookup (what SSL_CTX_load_verify_locations installs) would open
 * files during verification, which the seccomp policy kills. */
#include <dirent.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "tls/internal_common.h"

/* Files a CA directory may contribute (Debian's /etc/ssl/certs has ~300
 * hash links). */
#define TLS_VERIFIER_MAX_DIR_FILES 10000

/* verifier_is_hash_name: "<8 hex digits>.<decimal>", the names c_rehash
 * (openssl rehash) gives certificates. */
static int verifier_is_hash_name(const char *name) {
  size_t i = 0;
  for (; i < 8; i++) {
    char ch = name[i];
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
      return 0;
    }
  }
  if (name[i++] != '.' || name[i] == '\0') {
    return 0;
  }
  for (; name[i] != '\0'; i++) {
    if (name[i] < '0' || name[i] > '9') {
      return 0;
    }
  }
  return 1;
}

/* verifier_load_dir adds every certificate of the hash-named files in
 * |dir| to |store|. Unreadable or malformed files are skipped, as the
 * lookup OpenSSL would otherwise do skips them. */
static int verifier_load_dir(X509_STORE *store, const char *dir, char *err,
                             size_t err_len) {
  DIR *d = opendir(dir);
  if (d == NULL) {
    tls_format(err, err_len, "Failed to open tls-ca-cert-dir %.200s", dir);
    return 0;
  }
  X509_LOOKUP *lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
  if (lookup == NULL) {
    closedir(d);
    tls_format(err, err_len, "cannot build the CA store");
    return 0;
  }
  struct dirent *entry;
  int files = 0;
  while ((entry = readdir(d)) != NULL && files < TLS_VERIFIER_MAX_DIR_FILES) {
    char path[IPC_MAX_PATH + 64];
    if (!verifier_is_hash_name(entry->d_name)) {
      continue;
    }
    int n = snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
    if (n < 0 || (size_t)n >= sizeof(path)) {
      continue;
    }
    files++;
    if (!X509_LOOKUP_load_file(lookup, path, X509_FILETYPE_PEM)) {
      ERR_clear_error();
    }
  }
  closedir(d);
  return 1;
}

X509_STORE *tls_verifier_store_new(const tls_settings *s, char *err,
                                   size_t err_len) {
  X509_STORE *store = X509_STORE_new();
  if (store == NULL) {
    tls_format(err, err_len, "cannot build the CA store");
    return NULL;
  }
  if (s->ca_cert_file != NULL &&
      !X509_STORE_load_locations(store, s->ca_cert_file, NULL)) {
    char why[256];
    tls_collect_errors(why, sizeof(why));
    tls_format(err, err_len,
               "Failed to configure CA certificate(s) file/directory: %s", why);
    X509_STORE_free(store);
    return NULL;
  }
  if (s->ca_cert_dir != NULL &&
      !verifier_load_dir(store, s->ca_cert_dir, err, err_len)) {
    X509_STORE_free(store);
    return NULL;
  }
  ERR_clear_error();
  return store;
}

/* verifier_append_text appends |len| bytes of |data| to |out| (capacity
 * |cap|, |*used| written), control bytes, non-ASCII bytes and ',' escaped
 * as \XX; stops before the end rather than cut an escape. */
static void verifier_append_text(char *out, size_t cap, size_t *used,
                                 const char *prefix, const uint8_t *data,
                                 size_t len) {
  size_t need = strlen(prefix);
  if (*used + need + 1 >= cap) {
    return;
  }
  memcpy(out + *used, prefix, need);
  *used += need;
  for (size_t i = 0; i < len && *used + 4 < cap; i++) {
    uint8_t ch = data[i];
    if (ch < 0x20 || ch >= 0x7f || ch == ',' || ch == '\\') {
      *used += (size_t)snprintf(out + *used, cap - *used, "\\%02X", ch);
    } else {
      out[(*used)++] = (char)ch;
    }
  }
  out[*used] = '\0';
}

/* verifier_sans writes the leaf's DNS, IP, email and URI subjectAltNames
 * as "DNS:a,IP:127.0.0.1,...". */
static void verifier_sans(X509 *leaf, char *out, size_t cap) {
  size_t used = 0;
  out[0] = '\0';
  GENERAL_NAMES *names =
      X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
  if (names == NULL) {
    ERR_clear_error();
    return;
  }
  for (size_t i = 0; i < sk_GENERAL_NAME_num(names); i++) {
    const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
    const char *sep = used > 0 ? "," : "";
    char prefix[16];
    const ASN1_STRING *text = NULL;
    switch (name->type) {
      case GEN_DNS:
        snprintf(prefix, sizeof(prefix), "%sDNS:", sep);
        text = name->d.dNSName;
        break;
      case GEN_EMAIL:
        snprintf(prefix, sizeof(prefix), "%semail:", sep);
        text = name->d.rfc822Name;
        break;
      case GEN_URI:
        snprintf(prefix, sizeof(prefix), "%sURI:", sep);
        text = name->d.uniformResourceIdentifier;
        break;
      case GEN_IPADD: {
        const ASN1_OCTET_STRING *ip = name->d.iPAddress;
        char addr[64] = "";
        const uint8_t *b = ASN1_STRING_get0_data(ip);
        if (ASN1_STRING_length(ip) == 4) {
          snprintf(addr, sizeof(addr), "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
        } else if (ASN1_STRING_length(ip) == 16) {
          size_t o = 0;
          for (int k = 0; k < 16; k += 2) {
            o += (size_t)snprintf(addr + o, sizeof(addr) - o, "%s%x",
                                  k ? ":" : "", (b[k] << 8) | b[k + 1]);
          }
        } else {
          snprintf(addr, sizeof(addr), "?");
        }
        snprintf(prefix, sizeof(prefix), "%sIP:", sep);
        verifier_append_text(out, cap, &used, prefix, (const uint8_t *)addr,
                             strlen(addr));
        continue;
      }
      default:
        continue;
    }
    verifier_append_text(out, cap, &used, prefix, ASN1_STRING_get0_data(text),
                         (size_t)ASN1_STRING_length(text));
  }
  GENERAL_NAMES_free(names);
}

static void verifier_refuse(tls_verify_outcome *out, uint32_t error,
                            const char *why) {
  out->accepted = 0;
  out->error = error != 0 ? error : X509_V_ERR_UNSPECIFIED;
  tls_format(out->reason, sizeof(out->reason), "%s", why);
}

void tls_verify_chain(X509_STORE *store, int purpose,
                      const uint8_t *const *certs, const size_t *lens,
                      size_t count, tls_verify_outcome *out) {
  memset(out, 0, sizeof(*out));
  STACK_OF(X509) *chain = sk_X509_new_null();
  X509 *leaf = NULL;
  X509_STORE_CTX *ctx = NULL;
  if (chain == NULL || store == NULL) {
    verifier_refuse(out, X509_V_ERR_OUT_OF_MEM, "out of memory");
    goto done;
  }
  if (count == 0) {
    verifier_refuse(out, X509_V_ERR_UNSPECIFIED, "no certificate");
    goto done;
  }
  for (size_t i = 0; i < count; i++) {
    const uint8_t *p = certs[i];
    X509 *x =
        lens[i] <= (size_t)LONG_MAX ? d2i_X509(NULL, &p, (long)lens[i]) : NULL;
    if (x == NULL || p != certs[i] + lens[i]) {
      X509_free(x);
      verifier_refuse(out, X509_V_ERR_UNSPECIFIED,
                      "certificate does not parse as DER X.509");
      goto done;
    }
    if (i == 0) {
      leaf = x;
    } else if (!sk_X509_push(chain, x)) {
      X509_free(x);
      verifier_refuse(out, X509_V_ERR_OUT_OF_MEM, "out of memory");
      goto done;
    }
  }
  ctx = X509_STORE_CTX_new();
  if (ctx == NULL || !X509_STORE_CTX_init(ctx, store, leaf, chain) ||
      !X509_STORE_CTX_set_default(ctx, purpose == IPC_VERIFY_PURPOSE_SERVER
                                           ? "ssl_server"
                                           : "ssl_client")) {
    verifier_refuse(out, X509_V_ERR_OUT_OF_MEM, "cannot set up verification");
    goto done;
  }
  if (X509_verify_cert(ctx) != 1) {
    int error = X509_STORE_CTX_get_error(ctx);
    if (error <= 0 || error > IPC_MAX_VERIFY_ERROR) {
      error = X509_V_ERR_UNSPECIFIED;
    }
    verifier_refuse(out, (uint32_t)error, X509_verify_cert_error_string(error));
    /* The subject of a refused certificate is still useful in the log. */
  } else {
    out->accepted = 1;
    out->error = 0;
  }
  tls_x509_name_text(X509_get_subject_name(leaf), out->subject,
                     sizeof(out->subject), 1);
  verifier_sans(leaf, out->sans, sizeof(out->sans));
done:
  ERR_clear_error();
  X509_STORE_CTX_free(ctx);
  X509_free(leaf);
  sk_X509_pop_free(chain, X509_free);
}
