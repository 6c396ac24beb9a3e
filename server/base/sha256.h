/* sha256.h: SHA-256 (FIPS 180-4), used by ACL to store password hashes.
 * Our own implementation: server/ links no crypto library. */
#ifndef REDOUBT_SHA256_H
#define REDOUBT_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32
#define SHA256_HEX_LEN 64

typedef struct sha256_ctx {
  uint32_t state[8];
  uint64_t total_len; /* bytes hashed so far */
  unsigned char block[64];
  size_t block_len;
} sha256_ctx;

void sha256_init(sha256_ctx *ctx);
void sha256_update(sha256_ctx *ctx, const void *data, size_t len);
void sha256_final(sha256_ctx *ctx, unsigned char out[SHA256_DIGEST_LEN]);
/* One shot; hex is lowercase and NUL-terminated (65 bytes). */
void sha256_digest(const void *data, size_t len,
                   unsigned char out[SHA256_DIGEST_LEN]);
void sha256_hex(const void *data, size_t len, char hex[SHA256_HEX_LEN + 1]);

#endif
