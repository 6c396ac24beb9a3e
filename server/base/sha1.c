/* sha1.c: SHA-1 as specified by FIPS 180-4 (section 6.1). */
#include "server/base/sha1.h"

#include <string.h>

static uint32_t sha1_rotl(uint32_t x, int n) {
  return (x << n) | (x >> (32 - n));
}

static void sha1_compress(uint32_t state[5], const unsigned char *p) {
  uint32_t w[80];
  for (int t = 0; t < 16; t++) {
    w[t] = ((uint32_t)p[4 * t] << 24) | ((uint32_t)p[4 * t + 1] << 16) |
           ((uint32_t)p[4 * t + 2] << 8) | (uint32_t)p[4 * t + 3];
  }
  for (int t = 16; t < 80; t++) {
    w[t] = sha1_rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
  }
  uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
  uint32_t e = state[4];
  for (int t = 0; t < 80; t++) {
    uint32_t f, k;
    if (t < 20) {
      f = (b & c) | (~b & d);
      k = 0x5a827999;
    } else if (t < 40) {
      f = b ^ c ^ d;
      k = 0x6ed9eba1;
    } else if (t < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8f1bbcdc;
    } else {
      f = b ^ c ^ d;
      k = 0xca62c1d6;
    }
    uint32_t temp = sha1_rotl(a, 5) + f + e + k + w[t];
    e = d;
    d = c;
    c = sha1_rotl(b, 30);
    b = a;
    a = temp;
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
}

void sha1_init(sha1_ctx *ctx) {
  static const uint32_t h0[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476,
                                 0xc3d2e1f0};
  memcpy(ctx->state, h0, sizeof(h0));
  ctx->total_len = 0;
  ctx->block_len = 0;
}

void sha1_update(sha1_ctx *ctx, const void *data, size_t len) {
  const unsigned char *p = data;
  ctx->total_len += len;
  while (len > 0) {
    if (ctx->block_len == 0 && len >= 64) {
      sha1_compress(ctx->state, p);
      p += 64;
      len -= 64;
      continue;
    }
    size_t take = 64 - ctx->block_len;
    if (take > len) {
      take = len;
    }
    memcpy(ctx->block + ctx->block_len, p, take);
    ctx->block_len += take;
    p += take;
    len -= take;
    if (ctx->block_len == 64) {
      sha1_compress(ctx->state, ctx->block);
      ctx->block_len = 0;
    }
  }
}

void sha1_final(sha1_ctx *ctx, unsigned char out[SHA1_DIGEST_LEN]) {
  uint64_t bits = ctx->total_len * 8;
  ctx->block[ctx->block_len++] = 0x80;
  if (ctx->block_len > 56) {
    memset(ctx->block + ctx->block_len, 0, 64 - ctx->block_len);
    sha1_compress(ctx->state, ctx->block);
    ctx->block_len = 0;
  }
  memset(ctx->block + ctx->block_len, 0, 56 - ctx->block_len);
  for (int i = 0; i < 8; i++) {
    ctx->block[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
  }
  sha1_compress(ctx->state, ctx->block);
  for (int i = 0; i < 5; i++) {
    out[4 * i] = (unsigned char)(ctx->state[i] >> 24);
    out[4 * i + 1] = (unsigned char)(ctx->state[i] >> 16);
    out[4 * i + 2] = (unsigned char)(ctx->state[i] >> 8);
    out[4 * i + 3] = (unsigned char)ctx->state[i];
  }
  memset(ctx->block, 0, sizeof(ctx->block));
}

void sha1_digest(const void *data, size_t len,
                 unsigned char out[SHA1_DIGEST_LEN]) {
  sha1_ctx ctx;
  sha1_init(&ctx);
  sha1_update(&ctx, data, len);
  sha1_final(&ctx, out);
}

void sha1_hex(const void *data, size_t len, char hex[SHA1_HEX_LEN + 1]) {
  static const char digits[] = "0123456789abcdef";
  unsigned char d[SHA1_DIGEST_LEN];
  sha1_digest(data, len, d);
  for (int i = 0; i < SHA1_DIGEST_LEN; i++) {
    hex[2 * i] = digits[d[i] >> 4];
    hex[2 * i + 1] = digits[d[i] & 0xf];
  }
  hex[SHA1_HEX_LEN] = '\0';
}
