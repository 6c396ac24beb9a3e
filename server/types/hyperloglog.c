/* hyperloglog.c: HyperLogLog cardinality estimation (PFADD, PFCOUNT,
 * PFMERGE, PFDEBUG, PFSELFTEST) in Redis 7.0's exact string format, so a
 * value written by Redis reads back here and the other way round, and the
 * same inputs give the same PFCOUNT.
 *
 * An HLL is a string value:
 *
 *   +------+---+-----+----------+----------------------------+
 *   | HYLL | E | N/U | card (8) | registers (dense or sparse) |
 *   +------+---+-----+----------+----------------------------+
 *
 * "HYLL" magic, E the encoding (0 dense, 1 sparse), three unused bytes
 * (kept as they are), the last computed cardinality little endian (its top
 * bit set: stale), then 16384 registers of 6 bits:
 *
 * - dense: 12288 bytes, register i at bit 6*i counted from the least
 *   significant bit of each byte upward;
 * - sparse: run-length opcodes. ZERO 00xxxxxx (1..64 zero registers), XZERO
 *   01xxxxxx yyyyyyyy (1..16384 zero registers, 14-bit length - 1), VAL
 *   1vvvvvxx (1..4 registers of value 1..32). A sparse value is promoted to
 *   dense when a register needs more than 32 or the value would grow past
 *   hll-sparse-max-bytes.
 *
 * Elements are hashed with MurmurHash64A (seed 0xadc83b19): the low 14 bits
 * pick the register, the run of zeros above them (plus one) is its
 * candidate value. The estimate is Ertl's improved raw estimator
 * ("New cardinality estimation algorithms for HyperLogLog sketches",
 * arXiv:1702.01284) computed with the same floating point operations in the
 * same order as Redis 7.0, so the rounded result is identical.
 *
 * Values come from users (SET, RESTORE, a replica's master), so every read
 * of the sparse form is bounded by the string: a byte read past its end
 * reads as 0, which is what Redis reads there (the sds terminator), and
 * register counts are kept in 64 bits so that no value, however long, can
 * wrap them. Corrupted values give -INVALIDOBJ where Redis detects them. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/base/util.h"
#include "server/base/zmalloc.h"
#include "server/core/server.h"
#include "server/types/types.h"

#define HLL_P 14                       /* register index bits */
#define HLL_Q (64 - HLL_P)             /* bits for the zero run */
#define HLL_REGISTERS (1 << HLL_P)     /* 16384 */
#define HLL_P_MASK (HLL_REGISTERS - 1) /* register index mask */
#define HLL_BITS 6
#define HLL_REGISTER_MAX ((1 << HLL_BITS) - 1)
#define HLL_HDR_SIZE 16
#define HLL_DENSE_SIZE (HLL_HDR_SIZE + ((HLL_REGISTERS * HLL_BITS + 7) / 8))
#define HLL_DENSE 0
#define HLL_SPARSE 1
#define HLL_MAX_ENCODING 1
#define HLL_ALPHA_INF 0.721347520444481703680 /* 0.5 / ln(2) */
#define HLL_HASH_SEED 0xadc83b19ULL

/* Header fields (byte offsets). */
#define HLL_OFF_ENCODING 4
#define HLL_OFF_CARD 8

/* Sparse opcodes. */
#define HLL_SPARSE_XZERO_BIT 0x40
#define HLL_SPARSE_VAL_BIT 0x80
#define HLL_SPARSE_VAL_MAX_VALUE 32
#define HLL_SPARSE_VAL_MAX_LEN 4
#define HLL_SPARSE_ZERO_MAX_LEN 64
#define HLL_SPARSE_XZERO_MAX_LEN 16384

static const char hll_invalid_error[] =
    "-INVALIDOBJ Corrupted HLL object detected";
static const char hll_wrongtype_error[] =
    "-WRONGTYPE Key is not a valid HyperLogLog string value.";

/* ------------------------------------------------------------------ */
/* Header                                                               */
/* ------------------------------------------------------------------ */

static inline uint8_t hll_encoding(const uint8_t *hll) {
  return hll[HLL_OFF_ENCODING];
}

static inline void hll_invalidate_cache(uint8_t *hll) {
  hll[HLL_OFF_CARD + 7] |= 0x80;
}

static inline int hll_cache_is_valid(const uint8_t *hll) {
  return (hll[HLL_OFF_CARD + 7] & 0x80) == 0;
}

static uint64_t hll_cached_card(const uint8_t *hll) {
  uint64_t card = 0;
  for (int i = 7; i >= 0; i--) {
    card = (card << 8) | hll[HLL_OFF_CARD + i];
  }
  return card;
}

static void hll_set_cached_card(uint8_t *hll, uint64_t card) {
  for (int i = 0; i < 8; i++) {
    hll[HLL_OFF_CARD + i] = (uint8_t)(card >> (8 * i));
  }
}

/* ------------------------------------------------------------------ */
/* Hashing                                                              */
/* ------------------------------------------------------------------ */

/* hll_murmurhash64a: MurmurHash2, 64-bit version, reading the input as
 * little-endian words (Redis's endian-neutral variant). Redis passes the
 * length as an int; every length below 2 GiB mixes in the same. */
static uint64_t hll_murmurhash64a(const void *key, size_t len, uint64_t seed) {
  const uint64_t m = 0xc6a4a7935bd1e995ULL;
  const int r = 47;
  uint64_t h = seed ^ ((uint64_t)len * m);
  const uint8_t *data = key;
  const uint8_t *end = data + (len - (len & 7));
  for (; data != end; data += 8) {
    uint64_t k;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&k, data, sizeof(k));
#else
    k = 0;
    for (int i = 7; i >= 0; i--) {
      k = (k << 8) | data[i];
    }
#endif
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
  }
  switch (len & 7) {
    case 7:
      h ^= (uint64_t)data[6] << 48;
      /* fall through */
    case 6:
      h ^= (uint64_t)data[5] << 40;
      /* fall through */
    case 5:
      h ^= (uint64_t)data[4] << 32;
      /* fall through */
    case 4:
      h ^= (uint64_t)data[3] << 24;
      /* fall through */
    case 3:
      h ^= (uint64_t)data[2] << 16;
      /* fall through */
    case 2:
      h ^= (uint64_t)data[1] << 8;
      /* fall through */
    case 1:
      h ^= (uint64_t)data[0];
      h *= m;
      break;
    default:
      break;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

/* hll_pattern_len returns the register an element falls in (*out_index)
 * and the length of the 00..1 pattern of its hash (1..Q+1). */
static uint8_t hll_pattern_len(const unsigned char *ele, size_t len,
                               long *out_index) {
  uint64_t hash = hll_murmurhash64a(ele, len, HLL_HASH_SEED);
  *out_index = (long)(hash & HLL_P_MASK);
  hash >>= HLL_P;
  hash |= (uint64_t)1 << HLL_Q; /* the run ends by Q+1 at the latest */
  return (uint8_t)(__builtin_ctzll(hash) + 1);
}

/* ------------------------------------------------------------------ */
/* Dense representation                                                 */
/* ------------------------------------------------------------------ */

static inline uint8_t hll_dense_get(const uint8_t *registers, long index) {
  unsigned long byte = (unsigned long)index * HLL_BITS / 8;
  unsigned long fb = (unsigned long)index * HLL_BITS & 7;
  unsigned long b0 = registers[byte];
  /* The second byte only matters when the register straddles two. */
  unsigned long b1 = fb > 8 - HLL_BITS ? registers[byte + 1] : 0;
  return (uint8_t)(((b0 >> fb) | (b1 << (8 - fb))) & HLL_REGISTER_MAX);
}

static inline void hll_dense_put(uint8_t *registers, long index,
                                 uint8_t value) {
  unsigned long byte = (unsigned long)index * HLL_BITS / 8;
  unsigned long fb = (unsigned long)index * HLL_BITS & 7;
  unsigned long v = value;
  registers[byte] &= (uint8_t) ~(HLL_REGISTER_MAX << fb);
  registers[byte] |= (uint8_t)(v << fb);
  if (fb > 8 - HLL_BITS) {
    unsigned long fb8 = 8 - fb;
    registers[byte + 1] &= (uint8_t) ~(HLL_REGISTER_MAX >> fb8);
    registers[byte + 1] |= (uint8_t)(v >> fb8);
  }
}

/* hll_dense_set raises register |index| to |count|; 1 if it changed. */
static int hll_dense_set(uint8_t *registers, long index, uint8_t count) {
  if (count > hll_dense_get(registers, index)) {
    hll_dense_put(registers, index, count);
    return 1;
  }
  return 0;
}

static int hll_dense_add(uint8_t *registers, const unsigned char *ele,
                         size_t len) {
  long index;
  uint8_t count = hll_pattern_len(ele, len, &index);
  return hll_dense_set(registers, index, count);
}

/* hll_dense_histogram counts the registers of each value, 16 registers
 * (12 bytes) at a time. */
static void hll_dense_histogram(const uint8_t *r, int64_t *histogram) {
  for (int j = 0; j < HLL_REGISTERS / 16; j++, r += 12) {
    histogram[r[0] & 63]++;
    histogram[(r[0] >> 6 | r[1] << 2) & 63]++;
    histogram[(r[1] >> 4 | r[2] << 4) & 63]++;
    histogram[(r[2] >> 2) & 63]++;
    histogram[r[3] & 63]++;
    histogram[(r[3] >> 6 | r[4] << 2) & 63]++;
    histogram[(r[4] >> 4 | r[5] << 4) & 63]++;
    histogram[(r[5] >> 2) & 63]++;
    histogram[r[6] & 63]++;
    histogram[(r[6] >> 6 | r[7] << 2) & 63]++;
    histogram[(r[7] >> 4 | r[8] << 4) & 63]++;
    histogram[(r[8] >> 2) & 63]++;
    histogram[r[9] & 63]++;
    histogram[(r[9] >> 6 | r[10] << 2) & 63]++;
    histogram[(r[10] >> 4 | r[11] << 4) & 63]++;
    histogram[(r[11] >> 2) & 63]++;
  }
}

/* ------------------------------------------------------------------ */
/* Sparse representation                                                */
/* ------------------------------------------------------------------ */

static inline int hll_op_is_zero(uint8_t op) { return (op & 0xc0) == 0; }
static inline int hll_op_is_xzero(uint8_t op) {
  return (op & 0xc0) == HLL_SPARSE_XZERO_BIT;
}
static inline int hll_op_is_val(uint8_t op) {
  return (op & HLL_SPARSE_VAL_BIT) != 0;
}
static inline long hll_zero_len(uint8_t op) { return (op & 0x3f) + 1; }
static inline long hll_val_value(uint8_t op) { return ((op >> 2) & 0x1f) + 1; }
static inline long hll_val_len(uint8_t op) { return (op & 0x3) + 1; }

/* hll_xzero_len: the run of the XZERO opcode at p; its second byte, when
 * the opcode is cut by the end of the string, reads as 0. */
static inline long hll_xzero_len(const uint8_t *p, const uint8_t *end) {
  uint8_t low = p + 1 < end ? p[1] : 0;
  return (((long)(p[0] & 0x3f) << 8) | low) + 1;
}

static inline uint8_t hll_val_op(long value, long len) {
  return (uint8_t)((((value - 1) << 2) | (len - 1)) | HLL_SPARSE_VAL_BIT);
}

static inline uint8_t *hll_put_zero_run(uint8_t *n, long len) {
  if (len > HLL_SPARSE_ZERO_MAX_LEN) {
    n[0] = (uint8_t)(((len - 1) >> 8) | HLL_SPARSE_XZERO_BIT);
    n[1] = (uint8_t)((len - 1) & 0xff);
    return n + 2;
  }
  n[0] = (uint8_t)(len - 1);
  return n + 1;
}

/* hll_sparse_walk calls |fn| for each VAL run (first register, length,
 * value) and returns 1 when the opcodes cover exactly HLL_REGISTERS
 * registers, 0 when they cover fewer or an opcode reaches past the last
 * register (the walk stops there, as Debian's Redis 7.0.15 does with the
 * fix for CVE-2025-32023). */
typedef void hll_run_fn(void *ctx, long first, long len, long value);
static int hll_sparse_walk(const uint8_t *p, const uint8_t *end, hll_run_fn *fn,
                           void *ctx) {
  long idx = 0;
  while (p < end) {
    long len;
    if (hll_op_is_zero(*p)) {
      len = hll_zero_len(*p);
    } else if (hll_op_is_xzero(*p)) {
      len = hll_xzero_len(p, end);
    } else {
      len = hll_val_len(*p);
    }
    if (idx + len > HLL_REGISTERS) {
      return 0;
    }
    if (hll_op_is_val(*p)) {
      fn(ctx, idx, len, hll_val_value(*p));
    }
    idx += len;
    p += hll_op_is_xzero(*p) ? 2 : 1;
  }
  return idx == HLL_REGISTERS;
}

static void hll_run_to_dense(void *ctx, long first, long len, long value) {
  for (long i = first; i < first + len; i++) {
    hll_dense_put(ctx, i, (uint8_t)value);
  }
}

static void hll_run_to_max(void *ctx, long first, long len, long value) {
  uint8_t *max = ctx;
  for (long i = first; i < first + len; i++) {
    if (value > max[i]) {
      max[i] = (uint8_t)value;
    }
  }
}

/* hll_sparse_to_dense converts the (validated) HLL in o to dense in place.
 * A dense one is left as is. Returns C_OK, or C_ERR (o unchanged) when the
 * sparse form is corrupted (hll_sparse_walk). */
static int hll_sparse_to_dense(robj *o) {
  sds sparse = o->ptr;
  if (hll_encoding((uint8_t *)sparse) == HLL_DENSE) {
    return C_OK;
  }
  sds dense = sds_new_len(NULL, HLL_DENSE_SIZE);
  /* The header comes along: magic, unused bytes and cached cardinality. */
  memcpy(dense, sparse, HLL_HDR_SIZE);
  dense[HLL_OFF_ENCODING] = HLL_DENSE;
  const uint8_t *p = (const uint8_t *)sparse + HLL_HDR_SIZE;
  const uint8_t *end = (const uint8_t *)sparse + sds_len(sparse);
  if (!hll_sparse_walk(p, end, hll_run_to_dense,
                       (uint8_t *)dense + HLL_HDR_SIZE)) {
    sds_free(dense);
    return C_ERR;
  }
  sds_free(o->ptr);
  o->ptr = dense;
  return C_OK;
}

/* hll_sparse_set raises register |index| of the sparse HLL in o to
 * |count|, splitting and re-merging opcodes in place, or promoting o to
 * dense (count > 32, or the value would pass hll-sparse-max-bytes).
 * Returns 1 if a register changed, 0 if not, -1 on a corrupted value.
 * Redis's algorithm step by step, so the bytes produced are Redis's. */
static int hll_sparse_set(robj *o, long index, uint8_t count) {
  if (count > HLL_SPARSE_VAL_MAX_VALUE) {
    goto promote;
  }
  /* Splitting an opcode adds at most 3 bytes (XZERO -> XZERO VAL XZERO):
   * make room first so the pointers below stay valid. */
  o->ptr = sds_make_room_for(o->ptr, 3);

  /* Step 1: find the opcode covering |index|. */
  uint8_t *sparse = (uint8_t *)o->ptr + HLL_HDR_SIZE;
  uint8_t *end = (uint8_t *)o->ptr + sds_len(o->ptr);
  uint8_t *p = sparse, *prev = NULL, *next;
  long first = 0, span = 0;
  while (p < end) {
    long oplen = 1;
    if (hll_op_is_zero(*p)) {
      span = hll_zero_len(*p);
    } else if (hll_op_is_val(*p)) {
      span = hll_val_len(*p);
    } else {
      span = hll_xzero_len(p, end);
      oplen = 2;
    }
    if (index <= first + span - 1) {
      break;
    }
    prev = p;
    p += oplen;
    first += span;
  }
  if (span == 0 || p >= end) {
    return -1;
  }
  next = hll_op_is_xzero(*p) ? p + 2 : p + 1;
  if (next >= end) {
    next = NULL;
  }
  int is_zero = 0, is_xzero = 0, is_val = 0;
  long runlen;
  if (hll_op_is_zero(*p)) {
    is_zero = 1;
    runlen = hll_zero_len(*p);
  } else if (hll_op_is_xzero(*p)) {
    is_xzero = 1;
    runlen = hll_xzero_len(p, end);
  } else {
    is_val = 1;
    runlen = hll_val_len(*p);
  }

  /* Step 2: the simple cases in place. */
  if (is_val) {
    if (hll_val_value(*p) >= count) {
      return 0;
    }
    if (runlen == 1) {
      *p = hll_val_op(count, 1);
      goto updated;
    }
  }
  if (is_zero && runlen == 1) {
    *p = hll_val_op(count, 1);
    goto updated;
  }

  /* Otherwise split the opcode into up to three. */
  uint8_t seq[5], *n = seq;
  long last = first + span - 1;
  if (is_zero || is_xzero) {
    if (index != first) {
      n = hll_put_zero_run(n, index - first);
    }
    *n++ = hll_val_op(count, 1);
    if (index != last) {
      n = hll_put_zero_run(n, last - index);
    }
  } else {
    long value = hll_val_value(*p);
    if (index != first) {
      *n++ = hll_val_op(value, index - first);
    }
    *n++ = hll_val_op(count, 1);
    if (index != last) {
      *n++ = hll_val_op(value, last - index);
    }
  }

  /* Step 3: put the new sequence in place of the old opcode. */
  long seqlen = n - seq;
  long oldlen = is_xzero ? 2 : 1;
  long deltalen = seqlen - oldlen;
  if (deltalen > 0 &&
      sds_len(o->ptr) + (size_t)deltalen > server.hll_sparse_max_bytes) {
    goto promote;
  }
  if (deltalen && next) {
    memmove(next + deltalen, next, (size_t)(end - next));
  }
  sds_incr_len(o->ptr, deltalen);
  memcpy(p, seq, (size_t)seqlen);
  end += deltalen;
  /* An XZERO cut by the end of a corrupted value may have had the new
   * bytes written over the terminator: put it back. */
  ((char *)o->ptr)[sds_len(o->ptr)] = '\0';

updated:
  /* Step 4: merge adjacent VAL opcodes of one value (up to 5 opcodes from
   * the one before the change). */
  p = prev ? prev : sparse;
  for (int scan = 5; p < end && scan-- > 0;) {
    if (hll_op_is_xzero(*p)) {
      p += 2;
      continue;
    }
    if (hll_op_is_zero(*p)) {
      p++;
      continue;
    }
    if (p + 1 < end && hll_op_is_val(p[1]) &&
        hll_val_value(p[0]) == hll_val_value(p[1])) {
      long len = hll_val_len(p[0]) + hll_val_len(p[1]);
      if (len <= HLL_SPARSE_VAL_MAX_LEN) {
        p[1] = hll_val_op(hll_val_value(p[1]), len);
        memmove(p, p + 1, (size_t)(end - p));
        sds_incr_len(o->ptr, -1);
        end--;
        continue; /* try to merge the result with its right neighbour */
      }
    }
    p++;
  }
  hll_invalidate_cache(o->ptr);
  return 1;

promote:
  if (hll_sparse_to_dense(o) != C_OK) {
    return -1;
  }
  /* The register needed raising in the sparse form, so it does in the
   * dense one: the change propagates and replicas promote too. */
  return hll_dense_set((uint8_t *)o->ptr + HLL_HDR_SIZE, index, count);
}

static int hll_sparse_add(robj *o, const unsigned char *ele, size_t len) {
  long index;
  uint8_t count = hll_pattern_len(ele, len, &index);
  return hll_sparse_set(o, index, count);
}

/* hll_sparse_histogram: *invalid is set when the opcodes are corrupted
 * (hll_sparse_walk's rule; the histogram is then meaningless). */
static void hll_run_to_histogram(void *ctx, long first, long len, long value) {
  (void)first;
  ((int64_t *)ctx)[value] += len;
}

static void hll_sparse_histogram(const uint8_t *p, const uint8_t *end,
                                 int *invalid, int64_t *histogram) {
  int ok = hll_sparse_walk(p, end, hll_run_to_histogram, histogram);
  /* Registers not covered by a VAL run are zero. */
  int64_t nonzero = 0;
  for (int j = 1; j < 64; j++) {
    nonzero += histogram[j];
  }
  histogram[0] = HLL_REGISTERS - nonzero;
  if (!ok && invalid) {
    *invalid = 1;
  }
}

/* ------------------------------------------------------------------ */
/* Estimation                                                           */
/* ------------------------------------------------------------------ */

/* hll_sigma and hll_tau: Ertl's helper series, as Redis computes them. */
static double hll_sigma(double x) {
  if (x == 1.) {
    return INFINITY;
  }
  double z_prev, y = 1, z = x;
  do {
    x *= x;
    z_prev = z;
    z += x * y;
    y += y;
  } while (z_prev != z);
  return z;
}

static double hll_tau(double x) {
  if (x == 0. || x == 1.) {
    return 0.;
  }
  double z_prev, y = 1.0, z = 1 - x;
  do {
    x = sqrt(x);
    z_prev = z;
    y *= 0.5;
    z -= pow(1 - x, 2) * y;
  } while (z_prev != z);
  return z / 3;
}

/* hll_estimate turns a register histogram into the cardinality. */
static uint64_t hll_estimate(const int64_t *histogram) {
  double m = HLL_REGISTERS;
  double z = m * hll_tau((m - (double)histogram[HLL_Q + 1]) / m);
  for (int j = HLL_Q; j >= 1; --j) {
    z += (double)histogram[j];
    z *= 0.5;
  }
  z += m * hll_sigma((double)histogram[0] / m);
  return (uint64_t)llroundl(HLL_ALPHA_INF * m * m / z);
}

/* hll_count estimates the HLL string |hll| (|len| bytes, validated by
 * hll_is_valid_or_reply). *invalid is set for a corrupted sparse form. */
static uint64_t hll_count(const uint8_t *hll, size_t len, int *invalid) {
  int64_t histogram[64] = {0};
  if (hll_encoding(hll) == HLL_DENSE) {
    hll_dense_histogram(hll + HLL_HDR_SIZE, histogram);
  } else {
    hll_sparse_histogram(hll + HLL_HDR_SIZE, hll + len, invalid, histogram);
  }
  return hll_estimate(histogram);
}

/* hll_count_raw estimates HLL_REGISTERS one-byte registers. */
static uint64_t hll_count_raw(const uint8_t *registers) {
  int64_t histogram[64] = {0};
  for (int j = 0; j < HLL_REGISTERS; j++) {
    histogram[registers[j] & 63]++;
  }
  return hll_estimate(histogram);
}

/* hll_add adds an element; 1 if a register changed, 0 if not, -1 on a
 * corrupted value. */
static int hll_add(robj *o, const unsigned char *ele, size_t len) {
  uint8_t *hll = o->ptr;
  switch (hll_encoding(hll)) {
    case HLL_DENSE:
      return hll_dense_add(hll + HLL_HDR_SIZE, ele, len);
    case HLL_SPARSE:
      return hll_sparse_add(o, ele, len);
    default:
      return -1;
  }
}

/* hll_merge raises max[i] to each register of the (validated) HLL in o.
 * C_ERR for a corrupted sparse form. */
static int hll_merge(uint8_t *max, robj *o) {
  const uint8_t *hll = o->ptr;
  if (hll_encoding(hll) == HLL_DENSE) {
    const uint8_t *registers = hll + HLL_HDR_SIZE;
    for (long i = 0; i < HLL_REGISTERS; i++) {
      uint8_t value = hll_dense_get(registers, i);
      if (value > max[i]) {
        max[i] = value;
      }
    }
    return C_OK;
  }
  const uint8_t *end = hll + sds_len(o->ptr);
  return hll_sparse_walk(hll + HLL_HDR_SIZE, end, hll_run_to_max, max) ? C_OK
                                                                       : C_ERR;
}

/* ------------------------------------------------------------------ */
/* Objects                                                              */
/* ------------------------------------------------------------------ */

/* hll_create_object: an empty HLL, sparse (one XZERO of 16384), cached
 * cardinality 0. */
static robj *hll_create_object(void) {
  size_t len = HLL_HDR_SIZE + 2;
  sds s = sds_new_len(NULL, len);
  memcpy(s, "HYLL", 4);
  s[HLL_OFF_ENCODING] = HLL_SPARSE;
  hll_put_zero_run((uint8_t *)s + HLL_HDR_SIZE, HLL_SPARSE_XZERO_MAX_LEN);
  return create_object(OBJ_STRING, s);
}

/* hll_is_valid_or_reply: C_OK if o is a string holding an HLL header of a
 * known encoding (dense: of the exact size); else replies WRONGTYPE (with
 * Redis's texts) and returns C_ERR. */
static int hll_is_valid_or_reply(client *c, robj *o) {
  if (check_type(c, o, OBJ_STRING)) {
    return C_ERR;
  }
  if (!sds_encoded_object(o) || sds_len(o->ptr) < HLL_HDR_SIZE) {
    goto invalid;
  }
  const uint8_t *hll = o->ptr;
  if (memcmp(hll, "HYLL", 4) != 0 || hll_encoding(hll) > HLL_MAX_ENCODING ||
      (hll_encoding(hll) == HLL_DENSE && sds_len(o->ptr) != HLL_DENSE_SIZE)) {
    goto invalid;
  }
  return C_OK;
invalid:
  add_reply_error(c, hll_wrongtype_error);
  return C_ERR;
}

/* hll_arg_bytes: an element's bytes (an argument is an sds string; an
 * integer-encoded one is written into |buf|). */
static const unsigned char *hll_arg_bytes(robj *o, char *buf, size_t *out_len) {
  if (sds_encoded_object(o)) {
    *out_len = sds_len(o->ptr);
    return o->ptr;
  }
  *out_len = (size_t)ll2string(buf, LONG_STR_SIZE, (long)o->ptr);
  return (const unsigned char *)buf;
}

/* ------------------------------------------------------------------ */
/* Commands                                                             */
/* ------------------------------------------------------------------ */

/* PFADD key [element ...]: 1 if the key was created or a register
 * changed. */
static void hll_pfadd_command(client *c) {
  robj *o = lookup_key_write(c->db, c->argv[1]);
  long long updated = 0;
  if (o == NULL) {
    o = hll_create_object();
    db_add(c->db, c->argv[1], o);
    updated++;
  } else {
    if (hll_is_valid_or_reply(c, o) != C_OK) {
      return;
    }
    o = db_unshare_string_value(c->db, c->argv[1], o);
  }
  for (int j = 2; j < c->argc; j++) {
    char buf[LONG_STR_SIZE];
    size_t len;
    const unsigned char *ele = hll_arg_bytes(c->argv[j], buf, &len);
    int result = hll_add(o, ele, len);
    if (result == 1) {
      updated++;
    } else if (result == -1) {
      add_reply_error(c, hll_invalid_error);
      return;
    }
  }
  if (updated) {
    signal_modified_key(c, c->db, c->argv[1]);
    notify_keyspace_event(NOTIFY_STRING, "pfadd", c->argv[1], c->db->id);
    server.dirty += updated;
    hll_invalidate_cache(o->ptr);
  }
  add_reply(c, updated ? shared.cone : shared.czero);
}

/* PFCOUNT key [key ...]: one key answers from (and refreshes) the cached
 * cardinality; several keys estimate their union. */
static void hll_pfcount_command(client *c) {
  if (c->argc > 2) {
    uint8_t *max = zcalloc(HLL_REGISTERS);
    for (int j = 1; j < c->argc; j++) {
      robj *o = lookup_key_read(c->db, c->argv[j]);
      if (o == NULL) {
        continue; /* a missing key is an empty HLL */
      }
      if (hll_is_valid_or_reply(c, o) != C_OK) {
        zfree(max);
        return;
      }
      if (hll_merge(max, o) != C_OK) {
        add_reply_error(c, hll_invalid_error);
        zfree(max);
        return;
      }
    }
    add_reply_long_long(c, (long long)hll_count_raw(max));
    zfree(max);
    return;
  }

  robj *o = lookup_key_read(c->db, c->argv[1]);
  if (o == NULL) {
    add_reply(c, shared.czero);
    return;
  }
  if (hll_is_valid_or_reply(c, o) != C_OK) {
    return;
  }
  o = db_unshare_string_value(c->db, c->argv[1], o);
  uint8_t *hll = o->ptr;
  uint64_t card;
  if (hll_cache_is_valid(hll)) {
    card = hll_cached_card(hll);
  } else {
    int invalid = 0;
    card = hll_count(hll, sds_len(o->ptr), &invalid);
    if (invalid) {
      add_reply_error(c, hll_invalid_error);
      return;
    }
    hll_set_cached_card(hll, card);
    /* The value changed (its cache): WATCHers and replicas are told, as
     * Redis does, although PFCOUNT is a read command. */
    signal_modified_key(c, c->db, c->argv[1]);
    server.dirty++;
  }
  add_reply_long_long(c, (long long)card);
}

/* PFMERGE destkey [sourcekey ...]: destkey (itself a source) becomes the
 * union; dense when any source is. */
static void hll_pfmerge_command(client *c) {
  uint8_t *max = zcalloc(HLL_REGISTERS);
  int use_dense = 0;
  for (int j = 1; j < c->argc; j++) {
    robj *o = lookup_key_read(c->db, c->argv[j]);
    if (o == NULL) {
      continue;
    }
    if (hll_is_valid_or_reply(c, o) != C_OK) {
      zfree(max);
      return;
    }
    if (hll_encoding(o->ptr) == HLL_DENSE) {
      use_dense = 1;
    }
    if (hll_merge(max, o) != C_OK) {
      add_reply_error(c, hll_invalid_error);
      zfree(max);
      return;
    }
  }

  robj *o = lookup_key_write(c->db, c->argv[1]);
  if (o == NULL) {
    o = hll_create_object();
    db_add(c->db, c->argv[1], o);
  } else {
    /* Checked as a source above. */
    o = db_unshare_string_value(c->db, c->argv[1], o);
  }
  if (use_dense && hll_sparse_to_dense(o) != C_OK) {
    add_reply_error(c, hll_invalid_error);
    zfree(max);
    return;
  }
  for (long j = 0; j < HLL_REGISTERS; j++) {
    if (max[j] == 0) {
      continue;
    }
    uint8_t *hll = o->ptr;
    if (hll_encoding(hll) == HLL_DENSE) {
      hll_dense_set(hll + HLL_HDR_SIZE, j, max[j]);
    } else {
      hll_sparse_set(o, j, max[j]);
    }
  }
  zfree(max);
  hll_invalidate_cache(o->ptr);
  signal_modified_key(c, c->db, c->argv[1]);
  /* A merge is a mass add: Redis names the event "pfadd". */
  notify_keyspace_event(NOTIFY_STRING, "pfadd", c->argv[1], c->db->id);
  server.dirty++;
  add_reply(c, shared.ok);
}

/* PFSELFTEST: checks the dense register access and the estimator's error
 * on up to 10 million elements, sparse and dense side by side. */
#define HLL_TEST_CYCLES 1000
static void hll_pfselftest_command(client *c) {
  sds bitcounters = sds_new_len(NULL, HLL_DENSE_SIZE);
  uint8_t *registers = (uint8_t *)bitcounters + HLL_HDR_SIZE;
  uint8_t *bytecounters = zmalloc(HLL_REGISTERS);
  robj *o = NULL;

  /* Test 1: registers keep their values and leave their neighbours be. */
  for (int j = 0; j < HLL_TEST_CYCLES; j++) {
    for (long i = 0; i < HLL_REGISTERS; i++) {
      uint8_t r = (uint8_t)(rand() & HLL_REGISTER_MAX);
      bytecounters[i] = r;
      hll_dense_put(registers, i, r);
    }
    for (long i = 0; i < HLL_REGISTERS; i++) {
      uint8_t value = hll_dense_get(registers, i);
      if (value != bytecounters[i]) {
        add_reply_error_format(c,
                               "TESTFAILED Register %ld should be %d but is %d",
                               i, (int)bytecounters[i], (int)value);
        goto cleanup;
      }
    }
  }

  /* Test 2: the estimate stays within a few standard errors, and dense and
   * sparse agree. */
  memset(registers, 0, HLL_DENSE_SIZE - HLL_HDR_SIZE);
  memcpy(bitcounters, "HYLL", 4);
  bitcounters[HLL_OFF_ENCODING] = HLL_DENSE;
  o = hll_create_object();
  double relerr = 1.04 / sqrt(HLL_REGISTERS);
  int64_t checkpoint = 1;
  uint64_t seed = (uint64_t)rand() | (uint64_t)rand() << 32;
  for (int64_t j = 1; j <= 10000000; j++) {
    uint64_t ele = (uint64_t)j ^ seed;
    unsigned char bytes[sizeof(ele)];
    memcpy(bytes, &ele, sizeof(ele));
    hll_dense_add(registers, bytes, sizeof(bytes));
    hll_add(o, bytes, sizeof(bytes));
    if (j != checkpoint) {
      continue;
    }
    if (j < (int64_t)(server.hll_sparse_max_bytes / 2) &&
        hll_encoding(o->ptr) != HLL_SPARSE) {
      add_reply_error(c, "TESTFAILED sparse encoding not used");
      goto cleanup;
    }
    uint64_t dense_count =
        hll_count((uint8_t *)bitcounters, HLL_DENSE_SIZE, NULL);
    if (dense_count != hll_count(o->ptr, sds_len(o->ptr), NULL)) {
      add_reply_error(c, "TESTFAILED dense/sparse disagree");
      goto cleanup;
    }
    int64_t abserr = checkpoint - (int64_t)dense_count;
    uint64_t maxerr = (uint64_t)ceil(relerr * 6 * (double)checkpoint);
    /* A collision at 10 elements is statistically likely now and then. */
    if (j == 10) {
      maxerr = 1;
    }
    if (abserr < 0) {
      abserr = -abserr;
    }
    if (abserr > (int64_t)maxerr) {
      add_reply_error_format(
          c, "TESTFAILED Too big error. card:%llu abserr:%llu",
          (unsigned long long)checkpoint, (unsigned long long)abserr);
      goto cleanup;
    }
    checkpoint *= 10;
  }
  add_reply(c, shared.ok);

cleanup:
  sds_free(bitcounters);
  zfree(bytecounters);
  if (o) {
    decr_ref_count(o);
  }
}

/* hll_debug_decode: PFDEBUG DECODE's text for a sparse HLL. */
static sds hll_debug_decode(const uint8_t *p, const uint8_t *end) {
  sds decoded = sds_empty();
  while (p < end) {
    if (hll_op_is_zero(*p)) {
      decoded = sds_cat_printf(decoded, "z:%ld ", hll_zero_len(*p));
      p++;
    } else if (hll_op_is_xzero(*p)) {
      decoded = sds_cat_printf(decoded, "Z:%ld ", hll_xzero_len(p, end));
      p += 2;
    } else {
      decoded = sds_cat_printf(decoded, "v:%ld,%ld ", hll_val_value(*p),
                               hll_val_len(*p));
      p++;
    }
  }
  return sds_trim(decoded, " ");
}

/* PFDEBUG GETREG|DECODE|ENCODING|TODENSE key */
static void hll_pfdebug_command(client *c) {
  const char *cmd = c->argv[1]->ptr;
  robj *o = lookup_key_write(c->db, c->argv[2]);
  if (o == NULL) {
    add_reply_error(c, "The specified key does not exist");
    return;
  }
  if (hll_is_valid_or_reply(c, o) != C_OK) {
    return;
  }
  o = db_unshare_string_value(c->db, c->argv[2], o);

  if (!strcasecmp(cmd, "getreg")) {
    if (hll_encoding(o->ptr) == HLL_SPARSE) {
      if (hll_sparse_to_dense(o) != C_OK) {
        add_reply_error(c, hll_invalid_error);
        return;
      }
      server.dirty++; /* the encoding changed: propagate */
    }
    const uint8_t *registers = (const uint8_t *)o->ptr + HLL_HDR_SIZE;
    add_reply_array_len(c, HLL_REGISTERS);
    for (long j = 0; j < HLL_REGISTERS; j++) {
      add_reply_long_long(c, hll_dense_get(registers, j));
    }
  } else if (!strcasecmp(cmd, "decode")) {
    const uint8_t *hll = o->ptr;
    if (hll_encoding(hll) != HLL_SPARSE) {
      add_reply_error(c, "HLL encoding is not sparse");
      return;
    }
    add_reply_bulk_sds(
        c, hll_debug_decode(hll + HLL_HDR_SIZE, hll + sds_len(o->ptr)));
  } else if (!strcasecmp(cmd, "encoding")) {
    add_reply_status(c, hll_encoding(o->ptr) == HLL_DENSE ? "dense" : "sparse");
  } else if (!strcasecmp(cmd, "todense")) {
    int converted = 0;
    if (hll_encoding(o->ptr) == HLL_SPARSE) {
      if (hll_sparse_to_dense(o) != C_OK) {
        add_reply_error(c, hll_invalid_error);
        return;
      }
      converted = 1;
      server.dirty++;
    }
    add_reply(c, converted ? shared.cone : shared.czero);
  } else {
    add_reply_error_format(c, "Unknown PFDEBUG subcommand '%s'", cmd);
  }
}

/* ------------------------------------------------------------------ */
/* Command table                                                        */
/* ------------------------------------------------------------------ */

/* As COMMAND INFO of Redis 7.0 prints them (@slow follows from the absence
 * of @fast, @admin and @dangerous from CMD_ADMIN). */
#define HLL_CMD(name_, summary_, proc_, arity_, flags_, acl_, first_, last_, \
                step_)                                                       \
  {                                                                          \
    .declared_name = name_, .summary = summary_, .since = "2.8.9",           \
    .group = "hyperloglog", .proc = proc_, .arity = arity_, .flags = flags_, \
    .acl_categories = ACL_CATEGORY_HYPERLOGLOG | (acl_), .firstkey = first_, \
    .lastkey = last_, .keystep = step_                                       \
  }

redis_command hll_commands[] = {
    HLL_CMD("pfadd",
            "Adds the specified elements to the specified HyperLogLog.",
            hll_pfadd_command, -2, CMD_WRITE | CMD_DENYOOM | CMD_FAST,
            ACL_CATEGORY_WRITE | ACL_CATEGORY_FAST, 1, 1, 1),
    HLL_CMD("pfcount",
            "Return the approximated cardinality of the set(s) observed by the "
            "HyperLogLog at key(s).",
            hll_pfcount_command, -2, CMD_READONLY, ACL_CATEGORY_READ, 1, -1, 1),
    HLL_CMD("pfmerge", "Merge N different HyperLogLogs into a single one.",
            hll_pfmerge_command, -2, CMD_WRITE | CMD_DENYOOM,
            ACL_CATEGORY_WRITE, 1, -1, 1),
    HLL_CMD("pfdebug", "Internal commands for debugging HyperLogLog values",
            hll_pfdebug_command, 3, CMD_WRITE | CMD_DENYOOM | CMD_ADMIN,
            ACL_CATEGORY_WRITE, 2, 2, 1),
    HLL_CMD("pfselftest", "An internal command for testing HyperLogLog values",
            hll_pfselftest_command, 1, CMD_ADMIN, 0, 0, 0, 0),
    {0},
};
