/* lzf.c: LZF compression (liblzf's format), written for Redoubt.
 *
 * The compressor is a greedy LZ77 over a hash table of 3-byte sequences, the
 * same scheme as liblzf, so its output is about the size liblzf (and thus
 * Redis) makes of the same data. The decompressor checks every item against
 * both buffers before touching them. */
#include "server/base/lzf.h"

#include <stdint.h>
#include <string.h>

#define LZF_MAX_LITERAL 32  /* bytes in one literal run: c + 1, c < 32 */
#define LZF_MAX_OFFSET 8192 /* distance of a back-reference: 13 bits + 1 */
#define LZF_MIN_MATCH 3     /* a 2-byte reference costs as much as literals */
#define LZF_MAX_MATCH 264   /* (7 + 255) + 2 */
#define LZF_SHORT_MATCH 7   /* len field of the control byte; 7: one more */
#define LZF_HASH_LOG_MIN 6  /* table sizes, log2: grows with the input ... */
#define LZF_HASH_LOG_MAX 16 /* ... up to liblzf's (256 KiB of positions) */

/* lzf_load24 returns the 3 bytes at |p| (which must have 4 readable bytes:
 * one 32-bit load is faster than three byte loads). */
static inline uint32_t lzf_load24(const unsigned char *p) {
  uint32_t v;
  memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap32(v);
#endif
  return v & 0xffffff;
}

/* Multiplicative hashing (Knuth): the top bits depend on all 24 input bits. */
static inline uint32_t lzf_hash(uint32_t seq, unsigned hash_log) {
  return (seq * UINT32_C(2654435761)) >> (32 - hash_log);
}

/* lzf_match_len returns how many leading bytes of |a| and |b| are equal, at
 * most |max|. Reads a[0, max) and b[0, max) only. */
static inline size_t lzf_match_len(const unsigned char *a,
                                   const unsigned char *b, size_t max) {
  size_t n = 0;
  while (n + 8 <= max) {
    uint64_t x, y;
    memcpy(&x, a + n, 8);
    memcpy(&y, b + n, 8);
    if (x != y) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
      return n + (size_t)__builtin_ctzll(x ^ y) / 8;
#else
      return n + (size_t)__builtin_clzll(x ^ y) / 8;
#endif
    }
    n += 8;
  }
  while (n < max && a[n] == b[n]) {
    n++;
  }
  return n;
}

/* lzf_put_literals writes |len| bytes at |src| as literal runs at
 * out + *op, advancing *op. Returns 1, or 0 if they do not fit in |cap|. */
static int lzf_put_literals(const unsigned char *src, size_t len,
                            unsigned char *out, size_t cap, size_t *op) {
  size_t o = *op;
  size_t runs = (len + LZF_MAX_LITERAL - 1) / LZF_MAX_LITERAL;
  if (len + runs > cap - o) {
    return 0;
  }
  while (len > 0) {
    size_t n = len < LZF_MAX_LITERAL ? len : LZF_MAX_LITERAL;
    out[o++] = (unsigned char)(n - 1);
    memcpy(out + o, src, n);
    o += n;
    src += n;
    len -= n;
  }
  *op = o;
  return 1;
}

size_t lzf_compress_buf(const void *in, size_t in_len, void *out,
                        size_t out_cap) {
  const unsigned char *src = in;
  unsigned char *dst = out;
  /* Positions of the last sequence seen per hash; 0 doubles as "none" (a
   * candidate is checked byte by byte anyway). */
  uint32_t table[1u << LZF_HASH_LOG_MAX];

  if (in_len == 0 || out_cap == 0 || in_len > UINT32_MAX) {
    return 0;
  }
  unsigned hash_log = LZF_HASH_LOG_MIN;
  while (hash_log < LZF_HASH_LOG_MAX && ((size_t)1 << hash_log) < in_len) {
    hash_log++;
  }
  memset(table, 0, sizeof(table[0]) << hash_log);

  size_t pos = 0;    /* next byte to encode */
  size_t anchor = 0; /* first byte not yet written (pending literals) */
  size_t op = 0;     /* bytes written to dst */
  /* Matches start only where 4 bytes are left, so that every load reads 4
   * bytes; a match may still run to the end of the input. */
  while (pos + 4 <= in_len) {
    uint32_t seq = lzf_load24(src + pos);
    uint32_t *slot = &table[lzf_hash(seq, hash_log)];
    size_t ref = *slot;
    *slot = (uint32_t)pos;
    if (ref >= pos || pos - ref > LZF_MAX_OFFSET ||
        lzf_load24(src + ref) != seq) {
      pos++;
      /* Pending literals are written as such whatever follows: give up as
       * soon as they alone overflow (incompressible data, small out_cap). */
      if (pos - anchor > out_cap - op) {
        return 0;
      }
      continue;
    }

    size_t max = in_len - pos;
    if (max > LZF_MAX_MATCH) {
      max = LZF_MAX_MATCH;
    }
    size_t len = LZF_MIN_MATCH + lzf_match_len(src + ref + LZF_MIN_MATCH,
                                               src + pos + LZF_MIN_MATCH,
                                               max - LZF_MIN_MATCH);
    if (!lzf_put_literals(src + anchor, pos - anchor, dst, out_cap, &op)) {
      return 0;
    }
    size_t off = pos - ref - 1;
    size_t code = len - 2;
    if (code < LZF_SHORT_MATCH) {
      if (out_cap - op < 2) {
        return 0;
      }
      dst[op++] = (unsigned char)((code << 5) | (off >> 8));
    } else {
      if (out_cap - op < 3) {
        return 0;
      }
      dst[op++] = (unsigned char)((LZF_SHORT_MATCH << 5) | (off >> 8));
      dst[op++] = (unsigned char)(code - LZF_SHORT_MATCH);
    }
    dst[op++] = (unsigned char)(off & 0xff);
    pos += len;
    anchor = pos;

    /* Index the last two positions of the match, as liblzf does: cheap, and
     * most of the gain of indexing all of them. */
    for (size_t p = pos - 2; p < pos && p + 4 <= in_len; p++) {
      table[lzf_hash(lzf_load24(src + p), hash_log)] = (uint32_t)p;
    }
  }
  if (!lzf_put_literals(src + anchor, in_len - anchor, dst, out_cap, &op)) {
    return 0;
  }
  return op;
}

size_t lzf_decompress_buf(const void *in, size_t in_len, void *out,
                          size_t out_cap) {
  const unsigned char *src = in;
  unsigned char *dst = out;
  size_t ip = 0;
  size_t op = 0;

  if (in_len == 0) {
    return 0;
  }
  while (ip < in_len) {
    unsigned ctrl = src[ip++];
    if (ctrl < LZF_MAX_LITERAL) {
      size_t n = (size_t)ctrl + 1;
      if (n > in_len - ip || n > out_cap - op) {
        return 0;
      }
      memcpy(dst + op, src + ip, n);
      ip += n;
      op += n;
      continue;
    }

    size_t len = ctrl >> 5;
    if (len == LZF_SHORT_MATCH) {
      if (ip >= in_len) {
        return 0;
      }
      len += src[ip++];
    }
    if (ip >= in_len) {
      return 0;
    }
    size_t off = ((size_t)(ctrl & 0x1f) << 8) + src[ip++] + 1;
    len += 2;
    if (off > op || len > out_cap - op) {
      return 0;
    }
    unsigned char *to = dst + op;
    const unsigned char *from = to - off;
    if (off >= len) {
      memcpy(to, from, len);
    } else if (off == 1) {
      memset(to, *from, len);
    } else {
      /* Overlapping: each byte may be one this copy wrote. */
      for (size_t i = 0; i < len; i++) {
        to[i] = from[i];
      }
    }
    op += len;
  }
  return op;
}
