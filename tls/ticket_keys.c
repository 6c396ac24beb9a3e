/* ticket_keys.c: session-ticket keys. Main generates and rotates them and
 * sends them to every handshaker (IPC_REQ_TICKET_KEYS); both sides seal
 * and open tickets with tls_ticket_aead_method below (the older key
 * callback is kept for tests and tools). Tickets are issued by main
 * after handback (TLS 1.2 NewSessionTicket, TLS 1.3 post-handshake tickets)
 * and decrypted by the handshaker on resumption, so the two key sets must
 * be identical: with separate keys every handshake is silently a full one.
 *
 * Key layout (IPC_TICKET_KEY_LEN = 48): name[16] | HMAC-SHA256 key[16] |
 * AES-128-CBC key[16]. keys[0] encrypts; every key decrypts; a ticket under
 * an older key is renewed.
 *
 * Main's handshake-completion thread (finisher.c) issues tickets while the
 * event loop may rotate the keys, so one mutex guards them (uncontended in
 * a handshaker: no system call). */
#include <errno.h>
#include <openssl/aead.h>
#include <openssl/cipher.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/mem.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "tls/internal_common.h"

#define TLS_TICKET_NAME_LEN 16
#define TLS_TICKET_HMAC_OFFSET 16
#define TLS_TICKET_AES_OFFSET 32
#define TLS_TICKET_SECRET_LEN 16

static struct {
  uint8_t keys[IPC_MAX_TICKET_KEYS][IPC_TICKET_KEY_LEN];
  size_t count;
} tls_tickets;
static pthread_mutex_t tls_tickets_lock = PTHREAD_MUTEX_INITIALIZER;

static void tls_ticket_keys_wipe_locked(void) {
  OPENSSL_cleanse(tls_tickets.keys, sizeof(tls_tickets.keys));
  tls_tickets.count = 0;
}

void tls_ticket_keys_set(const uint8_t keys[][IPC_TICKET_KEY_LEN],
                         size_t count) {
  if (count > IPC_MAX_TICKET_KEYS) {
    count = IPC_MAX_TICKET_KEYS;
  }
  pthread_mutex_lock(&tls_tickets_lock);
  tls_ticket_keys_wipe_locked();
  for (size_t i = 0; i < count; i++) {
    memcpy(tls_tickets.keys[i], keys[i], IPC_TICKET_KEY_LEN);
  }
  tls_tickets.count = count;
  pthread_mutex_unlock(&tls_tickets_lock);
}

size_t tls_ticket_keys_get(
    uint8_t keys[IPC_MAX_TICKET_KEYS][IPC_TICKET_KEY_LEN]) {
  pthread_mutex_lock(&tls_tickets_lock);
  memcpy(keys, tls_tickets.keys, sizeof(tls_tickets.keys));
  size_t count = tls_tickets.count;
  pthread_mutex_unlock(&tls_tickets_lock);
  return count;
}

void tls_ticket_keys_wipe(void) {
  pthread_mutex_lock(&tls_tickets_lock);
  tls_ticket_keys_wipe_locked();
  pthread_mutex_unlock(&tls_tickets_lock);
}

static int tls_fill_random(uint8_t *buf, size_t len) {
  size_t got = 0;
  int attempts = 0;
  while (got < len) {
    ssize_t n = getrandom(buf + got, len - got, 0);
    if (n < 0) {
      if (errno == EINTR && ++attempts < 100) {
        continue;
      }
      return 0;
    }
    got += (size_t)n;
  }
  return 1;
}

int tls_ticket_keys_rotate(int drop_old) {
  uint8_t fresh[IPC_TICKET_KEY_LEN];
  if (!tls_fill_random(fresh, sizeof(fresh))) {
    return 0;
  }
  pthread_mutex_lock(&tls_tickets_lock);
  if (drop_old || tls_tickets.count == 0) {
    tls_ticket_keys_wipe_locked();
  } else {
    /* Shift: keep the newest previous key for decryption only. */
    for (size_t i = IPC_MAX_TICKET_KEYS - 1; i > 0; i--) {
      memcpy(tls_tickets.keys[i], tls_tickets.keys[i - 1], IPC_TICKET_KEY_LEN);
    }
    if (tls_tickets.count < IPC_MAX_TICKET_KEYS) {
      tls_tickets.count++;
    }
  }
  memcpy(tls_tickets.keys[0], fresh, IPC_TICKET_KEY_LEN);
  if (tls_tickets.count == 0) {
    tls_tickets.count = 1;
  }
  pthread_mutex_unlock(&tls_tickets_lock);
  OPENSSL_cleanse(fresh, sizeof(fresh));
  return 1;
}

static int tls_ticket_key_callback_locked(uint8_t *key_name, uint8_t *iv,
                                          EVP_CIPHER_CTX *cipher_ctx,
                                          HMAC_CTX *hmac_ctx, int encrypt) {
  const uint8_t *key = NULL;
  int result = 1;
  if (encrypt) {
    if (tls_tickets.count == 0) {
      return -1;
    }
    key = tls_tickets.keys[0];
    memcpy(key_name, key, TLS_TICKET_NAME_LEN);
    if (!RAND_bytes(iv, EVP_CIPHER_iv_length(EVP_aes_128_cbc()))) {
      return -1;
    }
    if (!EVP_EncryptInit_ex(cipher_ctx, EVP_aes_128_cbc(), NULL,
                            key + TLS_TICKET_AES_OFFSET, iv) ||
        !HMAC_Init_ex(hmac_ctx, key + TLS_TICKET_HMAC_OFFSET,
                      TLS_TICKET_SECRET_LEN, EVP_sha256(), NULL)) {
      return -1;
    }
    return 1;
  }
  for (size_t i = 0; i < tls_tickets.count; i++) {
    if (CRYPTO_memcmp(key_name, tls_tickets.keys[i], TLS_TICKET_NAME_LEN) ==
        0) {
      key = tls_tickets.keys[i];
      result = i == 0 ? 1 : 2; /* 2: renew under the current key */
      break;
    }
  }
  if (key == NULL) {
    return 0; /* unknown key: full handshake */
  }
  if (!EVP_DecryptInit_ex(cipher_ctx, EVP_aes_128_cbc(), NULL,
                          key + TLS_TICKET_AES_OFFSET, iv) ||
      !HMAC_Init_ex(hmac_ctx, key + TLS_TICKET_HMAC_OFFSET,
                    TLS_TICKET_SECRET_LEN, EVP_sha256(), NULL)) {
    return -1;
  }
  return result;
}

int tls_ticket_key_callback(SSL *ssl, uint8_t *key_name, uint8_t *iv,
                            EVP_CIPHER_CTX *cipher_ctx, HMAC_CTX *hmac_ctx,
                            int encrypt) {
  (void)ssl;
  pthread_mutex_lock(&tls_tickets_lock);
  int result = tls_ticket_key_callback_locked(key_name, iv, cipher_ctx,
                                              hmac_ctx, encrypt);
  pthread_mutex_unlock(&tls_tickets_lock);
  return result;
}

/* ---- tickets as an AEAD (SSL_TICKET_AEAD_METHOD) ----------------------
 *
 * ticket = key name (16) | nonce (12) | AES-256-GCM(session) | tag (16),
 * the key name as associated data. The AEAD key is bytes 16..48 of a
 * ticket key (the halves the key callback uses for HMAC and AES). */

#define TLS_TICKET_NONCE_LEN 12
#define TLS_TICKET_TAG_LEN 16
#define TLS_TICKET_AEAD_KEY_OFFSET 16
#define TLS_TICKET_AEAD_KEY_LEN 32
#define TLS_TICKET_OVERHEAD \
  (TLS_TICKET_NAME_LEN + TLS_TICKET_NONCE_LEN + TLS_TICKET_TAG_LEN)

static tls_ticket_seal_hook_fn tls_ticket_seal_hook;
#ifdef REDOUBT_TEST_HOOKS
static tls_ticket_open_hook_fn tls_ticket_open_hook;
void tls_ticket_set_open_hook(tls_ticket_open_hook_fn hook) {
  tls_ticket_open_hook = hook;
}
#endif

void tls_ticket_set_seal_hook(tls_ticket_seal_hook_fn hook) {
  tls_ticket_seal_hook = hook;
}

static size_t tls_ticket_max_overhead(SSL *ssl) {
  (void)ssl;
  return TLS_TICKET_OVERHEAD + TLS_TICKET_SEAL_HOOK_MAX;
}

/* tls_ticket_seal_with encrypts |plain| under |key| into |out|. */
static int tls_ticket_seal_with(const uint8_t key[IPC_TICKET_KEY_LEN],
                                uint8_t *out, size_t *out_len,
                                size_t max_out_len, const uint8_t *plain,
                                size_t plain_len) {
  if (plain_len > max_out_len ||
      max_out_len - plain_len < TLS_TICKET_OVERHEAD) {
    return 0;
  }
  EVP_AEAD_CTX ctx;
  if (!EVP_AEAD_CTX_init(&ctx, EVP_aead_aes_256_gcm(),
                         key + TLS_TICKET_AEAD_KEY_OFFSET,
                         TLS_TICKET_AEAD_KEY_LEN, TLS_TICKET_TAG_LEN, NULL)) {
    return 0;
  }
  uint8_t *nonce = out + TLS_TICKET_NAME_LEN;
  size_t sealed = 0;
  memcpy(out, key, TLS_TICKET_NAME_LEN);
  int ok =
      RAND_bytes(nonce, TLS_TICKET_NONCE_LEN) &&
      EVP_AEAD_CTX_seal(
          &ctx, nonce + TLS_TICKET_NONCE_LEN, &sealed,
          max_out_len - TLS_TICKET_NAME_LEN - TLS_TICKET_NONCE_LEN, nonce,
          TLS_TICKET_NONCE_LEN, plain, plain_len, key, TLS_TICKET_NAME_LEN);
  EVP_AEAD_CTX_cleanup(&ctx);
  if (ok) {
    *out_len = TLS_TICKET_NAME_LEN + TLS_TICKET_NONCE_LEN + sealed;
  }
  return ok;
}

static int tls_ticket_seal(SSL *ssl, uint8_t *out, size_t *out_len,
                           size_t max_out_len, const uint8_t *in,
                           size_t in_len) {
  uint8_t key[IPC_TICKET_KEY_LEN];
  pthread_mutex_lock(&tls_tickets_lock);
  size_t count = tls_tickets.count;
  if (count > 0) {
    memcpy(key, tls_tickets.keys[0], sizeof(key));
  }
  pthread_mutex_unlock(&tls_tickets_lock);
  if (count == 0) {
    return 0;
  }
  /* The plaintext goes through a copy: |in| may be |out|, and a seal hook
   * may rewrite it. The copy holds the session's secret: wiped. */
  CBB plain;
  int ok = CBB_init(&plain, in_len + TLS_TICKET_SEAL_HOOK_MAX);
  if (ok) {
    ok = tls_ticket_seal_hook != NULL
             ? tls_ticket_seal_hook(ssl, in, in_len, &plain)
             : CBB_add_bytes(&plain, in, in_len);
    ok = ok && CBB_flush(&plain) &&
         CBB_len(&plain) <= in_len + TLS_TICKET_SEAL_HOOK_MAX &&
         tls_ticket_seal_with(key, out, out_len, max_out_len, CBB_data(&plain),
                              CBB_len(&plain));
    OPENSSL_cleanse((uint8_t *)CBB_data(&plain), CBB_len(&plain));
    CBB_cleanup(&plain);
  }
  OPENSSL_cleanse(key, sizeof(key));
  return ok;
}

static enum ssl_ticket_aead_result_t tls_ticket_open(SSL *ssl, uint8_t *out,
                                                     size_t *out_len,
                                                     size_t max_out_len,
                                                     const uint8_t *in,
                                                     size_t in_len) {
  (void)ssl;
  uint8_t key[IPC_TICKET_KEY_LEN];
  int found = 0;
  if (in_len < TLS_TICKET_OVERHEAD) {
    return ssl_ticket_aead_ignore_ticket;
  }
  pthread_mutex_lock(&tls_tickets_lock);
  for (size_t i = 0; i < tls_tickets.count && !found; i++) {
    if (CRYPTO_memcmp(in, tls_tickets.keys[i], TLS_TICKET_NAME_LEN) == 0) {
      memcpy(key, tls_tickets.keys[i], sizeof(key));
      found = 1;
    }
  }
  pthread_mutex_unlock(&tls_tickets_lock);
  if (!found) {
    return ssl_ticket_aead_ignore_ticket; /* unknown key: full handshake */
  }
  /* |in| may be |out|: decrypt from a copy of the sealed part. */
  size_t sealed_len = in_len - TLS_TICKET_NAME_LEN - TLS_TICKET_NONCE_LEN;
  uint8_t *sealed = malloc(sealed_len);
  enum ssl_ticket_aead_result_t result = ssl_ticket_aead_error;
  EVP_AEAD_CTX ctx;
  if (sealed != NULL &&
      EVP_AEAD_CTX_init(&ctx, EVP_aead_aes_256_gcm(),
                        key + TLS_TICKET_AEAD_KEY_OFFSET,
                        TLS_TICKET_AEAD_KEY_LEN, TLS_TICKET_TAG_LEN, NULL)) {
    uint8_t nonce[TLS_TICKET_NONCE_LEN], name[TLS_TICKET_NAME_LEN];
    memcpy(name, in, sizeof(name));
    memcpy(nonce, in + TLS_TICKET_NAME_LEN, sizeof(nonce));
    memcpy(sealed, in + TLS_TICKET_NAME_LEN + TLS_TICKET_NONCE_LEN, sealed_len);
    result =
        EVP_AEAD_CTX_open(&ctx, out, out_len, max_out_len, nonce, sizeof(nonce),
                          sealed, sealed_len, name, sizeof(name))
            ? ssl_ticket_aead_success
            : ssl_ticket_aead_ignore_ticket;
    EVP_AEAD_CTX_cleanup(&ctx);
  }
  ERR_clear_error();
  free(sealed);
  OPENSSL_cleanse(key, sizeof(key));
#ifdef REDOUBT_TEST_HOOKS
  if (result == ssl_ticket_aead_success && tls_ticket_open_hook != NULL &&
      !tls_ticket_open_hook(out, out_len, max_out_len)) {
    result = ssl_ticket_aead_ignore_ticket;
  }
#endif
  return result;
}

const SSL_TICKET_AEAD_METHOD tls_ticket_aead_method = {
    .max_overhead = tls_ticket_max_overhead,
    .seal = tls_ticket_seal,
    .open = tls_ticket_open,
};

/* ---- the serialized session's outer fields ---------------------------- */

static int tls_session_der_put_field(CBB *seq, unsigned tag,
                                     const uint8_t *value, size_t value_len) {
  CBB field, octets;
  return CBB_add_asn1(seq, &field, tag) &&
         CBB_add_asn1(&field, &octets, CBS_ASN1_OCTETSTRING) &&
         CBB_add_bytes(&octets, value, value_len) && CBB_flush(seq);
}

int tls_session_der_set_field(const uint8_t *in, size_t in_len, unsigned field,
                              const uint8_t *value, size_t value_len,
                              CBB *out) {
  const unsigned tag = CBS_ASN1_CONSTRUCTED | CBS_ASN1_CONTEXT_SPECIFIC | field;
  CBS input, fields;
  CBB seq;
  int written = value == NULL;
  CBS_init(&input, in, in_len);
  if (!CBS_get_asn1(&input, &fields, CBS_ASN1_SEQUENCE) ||
      CBS_len(&input) != 0 || !CBB_add_asn1(out, &seq, CBS_ASN1_SEQUENCE)) {
    return 0;
  }
  while (CBS_len(&fields) > 0) {
    CBS element;
    unsigned element_tag;
    size_t header_len;
    if (!CBS_get_any_asn1_element(&fields, &element, &element_tag,
                                  &header_len)) {
      return 0;
    }
    int numbered =
        (element_tag & CBS_ASN1_CLASS_MASK) == CBS_ASN1_CONTEXT_SPECIFIC;
    if (!written && numbered &&
        (element_tag & CBS_ASN1_TAG_NUMBER_MASK) >= field) {
      if (!tls_session_der_put_field(&seq, tag, value, value_len)) {
        return 0;
      }
      written = 1;
    }
    if (element_tag == tag) {
      continue; /* the old value is replaced (or removed) */
    }
    if (!CBB_add_bytes(&seq, CBS_data(&element), CBS_len(&element))) {
      return 0;
    }
  }
  if (!written && !tls_session_der_put_field(&seq, tag, value, value_len)) {
    return 0;
  }
  return CBB_flush(out);
}
