/* ticket_keys.c: session-ticket keys. Main generates and rotates them and
 * sends them to every handshaker (IPC_REQ_TICKET_KEYS); both sides encrypt
 * and decrypt tickets with the callback below. Tickets are issued by main
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
#include <openssl/cipher.h>
#include <openssl/hmac.h>
#include <openssl/mem.h>
#include <openssl/rand.h>
#include <pthread.h>
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
