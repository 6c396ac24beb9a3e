/* sha1.h: SHA-1 (FIPS 180-4), used by DEBUG DIGEST, whose output must be
 * the SHA-1 based digest Redis prints. Not for anything that needs a
 * secure hash: SHA-1 is broken for collisions. */
#ifndef REDOUBT_SHA1_H
#define REDOUBT_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_LEN 20
#define SHA1_HEX_LEN 40

typedef struct sha1_ctx {
  uint32_t state[5];
  uint64_t total_len; /* bytes hashed so far */
  unsigned char block[64];
  size_t block_len;
} sha1_ctx;

void sha1_init(sha1_ctx *ctx);
void sha1_update(sha1_ctx *ctx, const void *data, size_t len);
/* sha1_final writes the digest; the context must be initialized again
 * before it is reused. */
void sha1_final(sha1_ctx *ctx, unsigned char out[SHA1_DIGEST_LEN]);
/* One shot; hex is lowercase and NUL-terminated (41 bytes). */
void sha1_digest(const void *data, size_t len,
                 unsigned char out[SHA1_DIGEST_LEN]);
void sha1_hex(const void *data, size_t len, char hex[SHA1_HEX_LEN + 1]);

#endif
