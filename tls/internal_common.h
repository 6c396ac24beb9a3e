/* internal_common.h: declarations shared by main's TLS code and the
 * handshaker (tls/handshaker.c): the split-handshake shim, the tls_settings
 * a generation is built from, the policy functions both sides build their
 * contexts with, and the session-ticket keys. Private to //tls (and the
 * white-box tests); it includes no server/ header, so //tls:handshaker
 * links nothing from //server. BoringSSL types are fine here. */
#ifndef REDOUBT_TLS_INTERNAL_COMMON_H
#define REDOUBT_TLS_INTERNAL_COMMON_H

#include <openssl/bytestring.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox/ipc.h"
#include "tls/options.h"

/* ---- split_shim.cc: extern "C" over BoringSSL's C++ split API -------- */

void tls_shim_set_handoff_mode(SSL_CTX *ctx, int on);
/* tls_shim_serialize_handoff writes the handoff of |ssl| into |out|. It
 * refuses (returns 0) unless |ssl| just stopped with SSL_ERROR_HANDOFF. */
int tls_shim_serialize_handoff(SSL *ssl, CBB *out);
int tls_shim_apply_handoff(SSL *ssl, const uint8_t *data, size_t len);
/* tls_shim_serialize_handback refuses (returns 0) unless |ssl| is still in
 * its handshake and stopped with SSL_ERROR_HANDBACK: BoringSSL crashes when
 * called in any other state. */
int tls_shim_serialize_handback(SSL *ssl, CBB *out);
int tls_shim_apply_handback(SSL *ssl, const uint8_t *data, size_t len);

/* ---- policy.c: configuration words shared by main and handshakers ---- */

/* A self-contained copy of the tls-* settings one generation uses. */
typedef struct tls_settings {
  char *cert_file, *key_file, *key_file_pass, *ca_cert_file, *ca_cert_dir,
      *dh_params_file, *protocols, *ciphers, *ciphersuites, *sandbox_user;
  /* the client side (tls-replication): NULL falls back to cert/key */
  char *client_cert_file, *client_key_file, *client_key_file_pass;
  int auth_clients; /* TLS_CLIENT_AUTH_* */
  int prefer_server_ciphers, session_caching, seccomp;
  int session_cache_size, session_cache_timeout;
} tls_settings;

/* The TLS 1.3 suites BoringSSL always enables (it offers no way to change
 * them). */
#define TLS_BORINGSSL_CIPHERSUITES \
  "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
/* The largest ClientHello a handshaker accepts (with or without mTLS; a
 * plain BoringSSL server would stop at 16 KB without client auth). The
 * handback carries it in its transcript, so it must fit IPC_MAX_HANDBACK. */
#define TLS_MAX_CLIENT_HELLO (48 * 1024)
/* Ticket-key rotation bounds (seconds). */
#define TLS_TICKET_ROTATION_MIN 60
#define TLS_TICKET_ROTATION_MAX 86400

/* tls_settings_from_options fills |out| (owned by the caller: free with
 * tls_settings_free) with copies of |options| and the sandbox settings. */
void tls_settings_from_options(tls_settings *out, const tls_options *options,
                               const char *sandbox_user, int seccomp);
void tls_settings_from_ipc(tls_settings *out, const ipc_config *config);
void tls_settings_to_ipc(const tls_settings *settings, ipc_config *out);
/* tls_settings_free wipes the passphrase and frees every string. */
void tls_settings_free(tls_settings *settings);
/* tls_settings_equal: 1 if two settings would build identical contexts,
 * 0 otherwise. */
int tls_settings_equal(const tls_settings *a, const tls_settings *b);

/* tls_parse_protocols turns "TLSv1.2 TLSv1.3" into a version range.
 * Returns 1, or 0 with a message in |err|. */
int tls_parse_protocols(const char *protocols, uint16_t *out_min,
                        uint16_t *out_max, char *err, size_t err_len);
/* tls_check_ciphersuites accepts a tls-ciphersuites value only if BoringSSL
 * would honour it exactly. Returns 1 or 0 with |err|. */
int tls_check_ciphersuites(const char *suites, char *err, size_t err_len);
/* tls_apply_cipher_policy sets protocols, TLS 1.2 ciphers (RSA key exchange
 * removed; |removed|, if not NULL, receives the names removed, colon
 * separated) and the signature algorithms (no SHA-1) on |ctx|. Returns 1 or
 * 0 with |err|. */
int tls_apply_cipher_policy(SSL_CTX *ctx, const tls_settings *settings,
                            char *removed, size_t removed_len, char *err,
                            size_t err_len);
/* tls_apply_session_policy configures session tickets (shared keys through
 * ticket_keys.c), session ID context, timeouts and cache mode on |ctx|.
 * Main's and handshakers' contexts must get identical calls. */
int tls_apply_session_policy(SSL_CTX *ctx, const tls_settings *settings);
/* tls_verify_mode returns the SSL_VERIFY_* flags for tls-auth-clients. */
int tls_verify_mode(int auth_clients);
/* tls_load_verify_locations loads CA file/dir into |ctx|. Returns 1 or 0
 * with |err|. */
int tls_load_verify_locations(SSL_CTX *ctx, const tls_settings *settings,
                              char *err, size_t err_len);
/* tls_format is snprintf for messages where truncation is acceptable. */
void tls_format(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* tls_collect_errors writes BoringSSL's error queue (cleared) to |buf|. */
void tls_collect_errors(char *buf, size_t len);
/* tls_ssl_error_name names an SSL_get_error result. */
const char *tls_ssl_error_name(int code);
/* tls_x509_name_text writes |name| in RFC 2253 form into |out|, control
 * bytes (and spaces, if escape_space) escaped as \XX; "" on failure. */
void tls_x509_name_text(const X509_NAME *name, char *out, size_t len,
                        int escape_space);

/* ---- ticket_keys.c: session-ticket keys shared by main & handshakers - */

/* tls_ticket_keys_set installs |count| keys (keys[0] current, then older
 * ones still accepted for decryption). Wipes the old ones. */
void tls_ticket_keys_set(const uint8_t keys[][IPC_TICKET_KEY_LEN],
                         size_t count);
/* tls_ticket_keys_get copies the current set. Returns the count. */
size_t tls_ticket_keys_get(
    uint8_t keys[IPC_MAX_TICKET_KEYS][IPC_TICKET_KEY_LEN]);
/* tls_ticket_keys_rotate (main only) generates a new current key with
 * getrandom and keeps the previous one. |drop_old| discards every old key
 * (used when the client-authentication policy changes). Returns 1 or 0. */
int tls_ticket_keys_rotate(int drop_old);
void tls_ticket_keys_wipe(void);
/* tls_ticket_key_callback is the SSL_CTX_set_tlsext_ticket_key_cb callback
 * that uses the keys above. */
int tls_ticket_key_callback(SSL *ssl, uint8_t *key_name, uint8_t *iv,
                            EVP_CIPHER_CTX *cipher_ctx, HMAC_CTX *hmac_ctx,
                            int encrypt);

/* tls_ticket_aead_method seals and opens tickets with the keys above
 * (AES-256-GCM under key bytes 16..48, a random 12-byte nonce, the key name
 * as associated data). Main and the handshakers install it on every context
 * that issues or accepts tickets (tls_apply_session_policy's key callback
 * is then unused). Unlike the key callback it lets main rewrite the session
 * it seals (tls_ticket_set_seal_hook): main binds a resumable session's
 * client identity to a key only main holds (tls/peer.c). */
extern const SSL_TICKET_AEAD_METHOD tls_ticket_aead_method;
/* The most a seal hook may add to a session. */
#define TLS_TICKET_SEAL_HOOK_MAX 512
/* A seal hook writes the session to seal (|in|, possibly rewritten) into
 * |out|. Returns 1, or 0 to fail the ticket. */
typedef int (*tls_ticket_seal_hook_fn)(SSL *ssl, const uint8_t *in,
                                       size_t in_len, CBB *out);
/* tls_ticket_set_seal_hook installs |hook| (main only, before the
 * completion thread starts; NULL removes it). */
void tls_ticket_set_seal_hook(tls_ticket_seal_hook_fn hook);
#ifdef REDOUBT_TEST_HOOKS
/* Test builds: a hook that may rewrite a ticket's plaintext session after
 * it is opened (handshaker.c: a handshaker forging a resumed identity). */
typedef int (*tls_ticket_open_hook_fn)(uint8_t *session, size_t *len,
                                       size_t max_len);
void tls_ticket_set_open_hook(tls_ticket_open_hook_fn hook);
#endif

/* tls_session_der_set_field writes the serialized SSL_SESSION |in| to
 * |out| with its explicit context-specific field [|field|] replaced by an
 * OCTET STRING holding |value| (|value| NULL: the field removed), keeping
 * the fields in tag order. It looks only at the session's outer elements
 * (tag and length of each). Returns 1, or 0 if |in| is not one DER
 * SEQUENCE. */
int tls_session_der_set_field(const uint8_t *in, size_t in_len, unsigned field,
                              const uint8_t *value, size_t value_len, CBB *out);
/* The session field that carries main's identity binding: [16], the
 * ocspResponse a client keeps of its server (unused in a server's sessions:
 * a client's Certificate cannot carry one to a BoringSSL server). */
#define TLS_SESSION_BINDING_FIELD 16

/* ---- verifier.c: a peer's certificate chain, checked in a verifier ---- */

/* tls_verifier_store_new builds the trust store of a verifier from
 * tls-ca-cert-file and every hash-named certificate file (<hash>.<n>, as
 * OpenSSL's directory lookup reads them) in tls-ca-cert-dir, all read now:
 * the sandbox forbids opening files later. NULL with |err|. */
X509_STORE *tls_verifier_store_new(const tls_settings *settings, char *err,
                                   size_t err_len);

/* The outcome of one VERIFY: what goes back to main (IPC_ANS_VERIFIED). */
typedef struct tls_verify_outcome {
  int accepted;
  uint32_t error; /* X509_V_* (0 iff accepted) */
  char reason[IPC_MAX_REASON + 1];
  char subject[IPC_MAX_REASON + 1]; /* RFC 2253, spaces escaped */
  char sans[IPC_MAX_REASON + 1];    /* "DNS:a,IP:127.0.0.1,..." */
} tls_verify_outcome;

/* tls_verify_chain parses |count| DER certificates (leaf first) and
 * verifies the leaf against |store| for |purpose| (IPC_VERIFY_PURPOSE_*):
 * chain to a trusted CA, validity dates, key usage / extended key usage
 * for a TLS client (or server), as BoringSSL's own verification does. A
 * certificate that does not parse, or has trailing bytes, is refused. */
void tls_verify_chain(X509_STORE *store, int purpose,
                      const uint8_t *const *certs, const size_t *lens,
                      size_t count, tls_verify_outcome *out);

#endif
