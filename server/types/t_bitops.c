/* t_bitops.c: the bitmap commands (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP,
 * BITFIELD, BITFIELD_RO) with Redis 7.0 semantics, replies and error texts.
 *
 * A bitmap is a plain string value (t_string.c): bit 0 is the most
 * significant bit of the first byte. Reads accept every string encoding (an
 * integer-encoded value is read through its decimal form); writes first make
 * the value a private raw string (db_unshare_string_value) and grow it with
 * zero bytes as far as the highest bit written.
 *
 * Offsets are bounded by proto-max-bulk-len as in Redis (not for the master
 * link, which is trusted) and, always, by the largest string an sds can hold
 * (4 GiB - 1 bytes). */
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "server/base/util.h"
#include "server/base/zmalloc.h"
#include "server/core/server.h"
#include "server/types/types.h"

static const char bit_offset_error[] =
    "bit offset is not an integer or out of range";
static const char bit_value_error[] = "bit is not an integer or out of range";
static const char bitfield_type_error[] =
    "Invalid bitfield type. Use something like i16 u8. Note that u64 is not "
    "supported but i64 is.";

/* ------------------------------------------------------------------ */
/* Low-level bit helpers                                                */
/* ------------------------------------------------------------------ */

static inline uint64_t bit_load_word(const unsigned char *p) {
  uint64_t w;
  memcpy(&w, p, sizeof(w));
  return w;
}

static inline uint64_t bit_popcount_word_swar(uint64_t w) {
  w = w - ((w >> 1) & 0x5555555555555555ULL);
  w = (w & 0x3333333333333333ULL) + ((w >> 2) & 0x3333333333333333ULL);
  w = (w + (w >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return (w * 0x0101010101010101ULL) >> 56;
}

static uint64_t bit_popcount_swar(const unsigned char *p, size_t n) {
  uint64_t bits = 0;
  for (; n >= 8; p += 8, n -= 8) {
    bits += bit_popcount_word_swar(bit_load_word(p));
  }
  for (; n > 0; p++, n--) {
    bits += bit_popcount_word_swar(*p);
  }
  return bits;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* The same count with the POPCNT instruction, used when the CPU has it (the
 * build targets plain x86-64, so the compiler may not emit it by itself). */
__attribute__((target("popcnt"))) static uint64_t bit_popcount_hw(
    const unsigned char *p, size_t n) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  for (; n >= 32; p += 32, n -= 32) {
    a += (uint64_t)__builtin_popcountll(bit_load_word(p));
    b += (uint64_t)__builtin_popcountll(bit_load_word(p + 8));
    c += (uint64_t)__builtin_popcountll(bit_load_word(p + 16));
    d += (uint64_t)__builtin_popcountll(bit_load_word(p + 24));
  }
  for (; n >= 8; p += 8, n -= 8) {
    a += (uint64_t)__builtin_popcountll(bit_load_word(p));
  }
  for (; n > 0; p++, n--) {
    a += (uint64_t)__builtin_popcount(*p);
  }
  return a + b + c + d;
}
#endif

/* bit_popcount returns the number of bits set in p[0..n). */
static uint64_t bit_popcount(const unsigned char *p, size_t n) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  static int has_popcnt = -1;
  if (has_popcnt < 0) {
    __builtin_cpu_init();
    has_popcnt = __builtin_cpu_supports("popcnt") ? 1 : 0;
  }
  if (has_popcnt) {
    return bit_popcount_hw(p, n);
  }
#endif
  return bit_popcount_swar(p, n);
}

/* bit_find_first returns the position of the first bit equal to |bit| in
 * p[0..n), n > 0. When there is none: -1 when looking for a 1, n * 8 when
 * looking for a 0 (the string is taken as padded with zeros on the right),
 * as Redis's redisBitpos. */
static long long bit_find_first(const unsigned char *p, size_t n, int bit) {
  const unsigned char skip = bit ? 0x00 : 0xff;
  const uint64_t skip_word = bit ? 0 : UINT64_MAX;
  size_t i = 0;
  while (i + 8 <= n && bit_load_word(p + i) == skip_word) {
    i += 8;
  }
  while (i < n && p[i] == skip) {
    i++;
  }
  if (i == n) {
    return bit ? -1 : (long long)n * 8;
  }
  for (int j = 7; j >= 0; j--) {
    if (((p[i] >> j) & 1) == bit) {
      return (long long)i * 8 + (7 - j);
    }
  }
  return -1; /* not reached: p[i] differs from skip */
}

/* ------------------------------------------------------------------ */
/* Arguments and values                                                 */
/* ------------------------------------------------------------------ */

/* bit_arg_bytes: the bytes of an argument (a client argument is an sds
 * string; an integer-encoded one is written into |buf|). */
static const char *bit_arg_bytes(robj *o, char *buf, size_t buf_len,
                                 size_t *out_len) {
  if (sds_encoded_object(o)) {
    *out_len = sds_len(o->ptr);
    return o->ptr;
  }
  *out_len = (size_t)ll2string(buf, buf_len, (long)o->ptr);
  return buf;
}

/* bit_offset_limit_applies: the master link is trusted, as in Redis. */
static int bit_offset_limit_applies(client *c) {
  return !(c->flags & CLIENT_MASTER);
}

/* bit_parse_offset_or_reply parses a bit offset. With |hash| set and
 * bits > 0, "#N" means N * bits (BITFIELD); the product wraps as Redis's
 * does on 64-bit machines. Negative offsets and offsets whose byte is at or
 * past proto-max-bulk-len are refused with Redis's text. Returns C_OK or
 * replies and returns C_ERR. */
static int bit_parse_offset_or_reply(client *c, robj *arg, int hash, int bits,
                                     uint64_t *out_offset) {
  char buf[LONG_STR_SIZE];
  size_t len;
  const char *p = bit_arg_bytes(arg, buf, sizeof(buf), &len);
  int use_hash = len > 0 && p[0] == '#' && hash && bits > 0;
  long long offset;
  if (!string2ll(p + use_hash, len - (size_t)use_hash, &offset)) {
    add_reply_error(c, bit_offset_error);
    return C_ERR;
  }
  if (use_hash) {
    offset = (long long)((uint64_t)offset * (uint64_t)bits);
  }
  if (offset < 0 || (bit_offset_limit_applies(c) &&
                     (offset >> 3) >= server.proto_max_bulk_len)) {
    add_reply_error(c, bit_offset_error);
    return C_ERR;
  }
  *out_offset = (uint64_t)offset;
  return C_OK;
}

/* bit_read_only_string returns the bytes of string |o| (NULL: no key, then
 * *out_len is 0). An integer-encoded value is written into |llbuf|
 * (LONG_STR_SIZE bytes). */
static const unsigned char *bit_read_only_string(robj *o, char *llbuf,
                                                 size_t *out_len) {
  if (o == NULL) {
    *out_len = 0;
    return NULL;
  }
  if (o->encoding == OBJ_ENCODING_INT) {
    *out_len = (size_t)ll2string(llbuf, LONG_STR_SIZE, (long)o->ptr);
    return (const unsigned char *)llbuf;
  }
  *out_len = sds_len(o->ptr);
  return (const unsigned char *)o->ptr;
}

/* bit_lookup_string_for_write returns the string at argv[1] made private
 * and raw, created or grown with zero bytes so that bit |maxbit| exists.
 * *out_grown is 1 when the key was created or its length changed. On a
 * wrong type (or a size no string can have) replies and returns NULL. */
static robj *bit_lookup_string_for_write(client *c, uint64_t maxbit,
                                         int *out_grown) {
  uint64_t byte = maxbit >> 3;
  robj *o = lookup_key_write(c->db, c->argv[1]);
  if (check_type(c, o, OBJ_STRING)) {
    return NULL;
  }
  if (byte >= SDS_MAX_LEN) {
    add_reply_error(c,
                    "string exceeds maximum allowed size (proto-max-bulk-len)");
    return NULL;
  }
  *out_grown = 0;
  if (o == NULL) {
    o = create_object(OBJ_STRING, sds_new_len(NULL, (size_t)byte + 1));
    db_add(c->db, c->argv[1], o);
    *out_grown = 1;
  } else {
    o = db_unshare_string_value(c->db, c->argv[1], o);
    size_t old_len = sds_len(o->ptr);
    o->ptr = sds_grow_zero(o->ptr, (size_t)byte + 1);
    if (old_len != sds_len(o->ptr)) {
      *out_grown = 1;
    }
  }
  return o;
}

/* ------------------------------------------------------------------ */
/* SETBIT, GETBIT                                                       */
/* ------------------------------------------------------------------ */

/* SETBIT key offset value: replies the bit's previous value. */
static void bit_setbit_command(client *c) {
  uint64_t offset;
  long on;
  if (bit_parse_offset_or_reply(c, c->argv[2], 0, 0, &offset) != C_OK) {
    return;
  }
  if (get_long_from_object_or_reply(c, c->argv[3], &on, bit_value_error) !=
      C_OK) {
    return;
  }
  if (on & ~1L) {
    add_reply_error(c, bit_value_error);
    return;
  }
  int grown;
  robj *o = bit_lookup_string_for_write(c, offset, &grown);
  if (o == NULL) {
    return;
  }
  unsigned char *p = (unsigned char *)o->ptr + (offset >> 3);
  int shift = 7 - (int)(offset & 7);
  int old = (*p >> shift) & 1;
  /* Nothing changed, nothing signalled: a new or longer string is a
   * change even when the bit written is 0. */
  if (grown || old != on) {
    *p = (unsigned char)((*p & ~(1 << shift)) | ((int)on << shift));
    signal_modified_key(c, c->db, c->argv[1]);
    notify_keyspace_event(NOTIFY_STRING, "setbit", c->argv[1], c->db->id);
    server.dirty++;
  }
  add_reply(c, old ? shared.cone : shared.czero);
}

/* GETBIT key offset */
static void bit_getbit_command(client *c) {
  uint64_t offset;
  if (bit_parse_offset_or_reply(c, c->argv[2], 0, 0, &offset) != C_OK) {
    return;
  }
  robj *o = lookup_key_read_or_reply(c, c->argv[1], shared.czero);
  if (o == NULL || check_type(c, o, OBJ_STRING)) {
    return;
  }
  char llbuf[LONG_STR_SIZE];
  size_t len;
  const unsigned char *p = bit_read_only_string(o, llbuf, &len);
  uint64_t byte = offset >> 3;
  int bit = 0;
  if (byte < len) {
    bit = (p[byte] >> (7 - (offset & 7))) & 1;
  }
  add_reply(c, bit ? shared.cone : shared.czero);
}

/* ------------------------------------------------------------------ */
/* BITCOUNT, BITPOS                                                     */
/* ------------------------------------------------------------------ */

/* bit_parse_unit_or_reply: BIT (1) or BYTE (0), else a syntax error. */
static int bit_parse_unit_or_reply(client *c, robj *arg, int *out_is_bit) {
  const char *s = arg->ptr;
  if (sds_encoded_object(arg) && !strcasecmp(s, "bit")) {
    *out_is_bit = 1;
  } else if (sds_encoded_object(arg) && !strcasecmp(s, "byte")) {
    *out_is_bit = 0;
  } else {
    add_reply_error_object(c, shared.syntaxerr);
    return C_ERR;
  }
  return C_OK;
}

/* bit_resolve_range turns start/end (negative: from the end) of a string of
 * |len| bytes, counted in bits when |is_bit|, into a byte range clamped to
 * the string, with masks of the bits of the first and last byte that lie
 * outside a bit range. start > end afterwards means an empty range. */
static void bit_resolve_range(long long *start, long long *end, long long len,
                              int is_bit, unsigned char *out_first_mask,
                              unsigned char *out_last_mask) {
  long long total = is_bit ? len << 3 : len;
  *out_first_mask = 0;
  *out_last_mask = 0;
  if (*start < 0) {
    *start = total + *start;
  }
  if (*end < 0) {
    *end = total + *end;
  }
  if (*start < 0) {
    *start = 0;
  }
  if (*end < 0) {
    *end = 0;
  }
  if (*end >= total) {
    *end = total - 1;
  }
  if (is_bit && *start <= *end) {
    *out_first_mask = (unsigned char)(~((1 << (8 - (*start & 7))) - 1) & 0xff);
    *out_last_mask = (unsigned char)((1 << (7 - (*end & 7))) - 1);
    *start >>= 3;
    *end >>= 3;
  }
}

/* BITCOUNT key [start end [BYTE|BIT]] */
static void bit_bitcount_command(client *c) {
  robj *o = lookup_key_read_or_reply(c, c->argv[1], shared.czero);
  if (o == NULL || check_type(c, o, OBJ_STRING)) {
    return;
  }
  char llbuf[LONG_STR_SIZE];
  size_t len;
  const unsigned char *p = bit_read_only_string(o, llbuf, &len);
  long long start, end;
  unsigned char first_mask = 0, last_mask = 0;
  if (c->argc == 4 || c->argc == 5) {
    if (get_long_long_from_object_or_reply(c, c->argv[2], &start, NULL) !=
            C_OK ||
        get_long_long_from_object_or_reply(c, c->argv[3], &end, NULL) != C_OK) {
      return;
    }
    /* Redis answers this before looking at the unit argument. */
    if (start < 0 && end < 0 && start > end) {
      add_reply(c, shared.czero);
      return;
    }
    int is_bit = 0;
    if (c->argc == 5 &&
        bit_parse_unit_or_reply(c, c->argv[4], &is_bit) != C_OK) {
      return;
    }
    bit_resolve_range(&start, &end, (long long)len, is_bit, &first_mask,
                      &last_mask);
  } else if (c->argc == 2) {
    start = 0;
    end = (long long)len - 1;
  } else {
    add_reply_error_object(c, shared.syntaxerr);
    return;
  }
  if (start > end) {
    add_reply(c, shared.czero);
    return;
  }
  uint64_t count = bit_popcount(p + start, (size_t)(end - start + 1));
  if (first_mask) {
    count -= bit_popcount_word_swar(p[start] & first_mask);
  }
  if (last_mask) {
    count -= bit_popcount_word_swar(p[end] & last_mask);
  }
  add_reply_long_long(c, (long long)count);
}

/* bit_find_in_masked_byte: bit_find_first over one byte whose bits in
 * |mask| are forced to the value not searched for. */
static long long bit_find_in_masked_byte(unsigned char byte, unsigned char mask,
                                         int bit) {
  unsigned char b = bit ? (unsigned char)(byte & ~mask) : (byte | mask);
  return bit_find_first(&b, 1, bit);
}

/* bit_find_in_range: the first |bit| in bytes p[start..end] with the edge
 * masks of a bit range, relative to byte |start|, with bit_find_first's
 * conventions (*out_scanned: the bytes the result is relative to, for the
 * "no 0 inside an explicit range" check). Mirrors Redis's BITPOS walk. */
static long long bit_find_in_range(const unsigned char *p, long long start,
                                   long long end, unsigned char first_mask,
                                   unsigned char last_mask, int bit,
                                   long long *out_start,
                                   long long *out_scanned) {
  long long bytes = end - start + 1;
  long long pos = -1;
  if (first_mask) {
    unsigned char mask = first_mask;
    if (last_mask && bytes == 1) {
      mask |= last_mask;
    }
    pos = bit_find_in_masked_byte(p[start], mask, bit);
    if (bytes == 1 || (pos != -1 && pos != 8)) {
      goto done;
    }
    start++;
    bytes--;
  }
  long long middle = bytes - (last_mask ? 1 : 0);
  if (middle > 0) {
    pos = bit_find_first(p + start, (size_t)middle, bit);
    if (bytes == middle || (pos != -1 && pos != middle << 3)) {
      goto done;
    }
    start += middle;
    bytes -= middle;
  }
  pos = bit_find_in_masked_byte(p[end], last_mask, bit);
done:
  *out_start = start;
  *out_scanned = bytes;
  return pos;
}

/* BITPOS key bit [start [end [BYTE|BIT]]] */
static void bit_bitpos_command(client *c) {
  long bit;
  if (get_long_from_object_or_reply(c, c->argv[2], &bit, NULL) != C_OK) {
    return;
  }
  if (bit != 0 && bit != 1) {
    add_reply_error(c, "The bit argument must be 1 or 0.");
    return;
  }
  /* A missing key is an endless run of zeros. */
  robj *o = lookup_key_read(c->db, c->argv[1]);
  if (o == NULL) {
    add_reply_long_long(c, bit ? -1 : 0);
    return;
  }
  if (check_type(c, o, OBJ_STRING)) {
    return;
  }
  char llbuf[LONG_STR_SIZE];
  size_t len;
  const unsigned char *p = bit_read_only_string(o, llbuf, &len);
  long long start, end;
  int end_given = 0;
  unsigned char first_mask = 0, last_mask = 0;
  if (c->argc >= 4 && c->argc <= 6) {
    int is_bit = 0;
    if (get_long_long_from_object_or_reply(c, c->argv[3], &start, NULL) !=
        C_OK) {
      return;
    }
    if (c->argc == 6 &&
        bit_parse_unit_or_reply(c, c->argv[5], &is_bit) != C_OK) {
      return;
    }
    if (c->argc >= 5) {
      if (get_long_long_from_object_or_reply(c, c->argv[4], &end, NULL) !=
          C_OK) {
        return;
      }
      end_given = 1;
    } else {
      end = (long long)len - 1;
    }
    bit_resolve_range(&start, &end, (long long)len, is_bit, &first_mask,
                      &last_mask);
  } else if (c->argc == 3) {
    start = 0;
    end = (long long)len - 1;
  } else {
    add_reply_error_object(c, shared.syntaxerr);
    return;
  }
  /* An empty range holds neither a 0 nor a 1. */
  if (start > end) {
    add_reply_long_long(c, -1);
    return;
  }
  long long base, scanned;
  long long pos = bit_find_in_range(p, start, end, first_mask, last_mask,
                                    (int)bit, &base, &scanned);
  /* Looking for a 0 inside an explicit range: the padding on the right is
   * not part of the range. */
  if (end_given && bit == 0 && pos == scanned << 3) {
    add_reply_long_long(c, -1);
    return;
  }
  if (pos != -1) {
    pos += base << 3;
  }
  add_reply_long_long(c, pos);
}

/* ------------------------------------------------------------------ */
/* BITOP                                                                */
/* ------------------------------------------------------------------ */

#define BITOP_AND 0
#define BITOP_OR 1
#define BITOP_XOR 2
#define BITOP_NOT 3

/* bitop_compute writes into res[0..maxlen) the operation over the sources
 * (bytes past a source's end count as zero). */
static void bitop_compute(int op, unsigned char *res, size_t maxlen,
                          size_t minlen, const unsigned char *const *src,
                          const size_t *len, size_t numkeys) {
  size_t j = 0;
  /* Whole words while every source has data. */
  for (; j + 8 <= minlen; j += 8) {
    uint64_t acc = bit_load_word(src[0] + j);
    switch (op) {
      case BITOP_AND:
        for (size_t k = 1; k < numkeys; k++) {
          acc &= bit_load_word(src[k] + j);
        }
        break;
      case BITOP_OR:
        for (size_t k = 1; k < numkeys; k++) {
          acc |= bit_load_word(src[k] + j);
        }
        break;
      case BITOP_XOR:
        for (size_t k = 1; k < numkeys; k++) {
          acc ^= bit_load_word(src[k] + j);
        }
        break;
      default:
        acc = ~acc;
        break;
    }
    memcpy(res + j, &acc, sizeof(acc));
  }
  for (; j < maxlen; j++) {
    unsigned char out = len[0] <= j ? 0 : src[0][j];
    if (op == BITOP_NOT) {
      out = (unsigned char)~out;
    }
    for (size_t k = 1; k < numkeys; k++) {
      unsigned char byte = len[k] <= j ? 0 : src[k][j];
      if (op == BITOP_AND) {
        out &= byte;
      } else if (op == BITOP_OR) {
        out |= byte;
      } else {
        out ^= byte;
      }
    }
    res[j] = out;
  }
}

/* BITOP AND|OR|XOR|NOT destkey key [key ...]: replies the length of the
 * result; an empty result deletes destkey. */
static void bit_bitop_command(client *c) {
  const char *opname = c->argv[1]->ptr;
  int op;
  if (!strcasecmp(opname, "and")) {
    op = BITOP_AND;
  } else if (!strcasecmp(opname, "or")) {
    op = BITOP_OR;
  } else if (!strcasecmp(opname, "xor")) {
    op = BITOP_XOR;
  } else if (!strcasecmp(opname, "not")) {
    op = BITOP_NOT;
  } else {
    add_reply_error_object(c, shared.syntaxerr);
    return;
  }
  if (op == BITOP_NOT && c->argc != 4) {
    add_reply_error(c, "BITOP NOT must be called with a single source key.");
    return;
  }

  size_t numkeys = (size_t)c->argc - 3;
  robj **objects = zcalloc(sizeof(robj *) * numkeys);
  const unsigned char **src = zcalloc(sizeof(unsigned char *) * numkeys);
  size_t *len = zcalloc(sizeof(size_t) * numkeys);
  size_t maxlen = 0, minlen = 0;
  int failed = 0;
  for (size_t j = 0; j < numkeys; j++) {
    robj *o = lookup_key_read(c->db, c->argv[j + 3]);
    if (o == NULL) {
      minlen = 0; /* a missing key is an empty string */
      continue;
    }
    if (check_type(c, o, OBJ_STRING)) {
      failed = 1;
      break;
    }
    objects[j] = get_decoded_object(o);
    src[j] = objects[j]->ptr;
    len[j] = sds_len(objects[j]->ptr);
    if (len[j] > maxlen) {
      maxlen = len[j];
    }
    if (j == 0 || len[j] < minlen) {
      minlen = len[j];
    }
  }

  sds res = NULL;
  if (!failed && maxlen) {
    res = sds_new_len(NULL, maxlen);
    bitop_compute(op, (unsigned char *)res, maxlen, minlen, src, len, numkeys);
  }
  for (size_t j = 0; j < numkeys; j++) {
    if (objects[j]) {
      decr_ref_count(objects[j]);
    }
  }
  zfree(objects);
  zfree(src);
  zfree(len);
  if (failed) {
    return;
  }

  robj *target = c->argv[2];
  if (res) {
    robj *o = create_object(OBJ_STRING, res);
    set_key(c, c->db, target, o, 0);
    notify_keyspace_event(NOTIFY_STRING, "set", target, c->db->id);
    decr_ref_count(o);
    server.dirty++;
  } else if (db_delete(c->db, target)) {
    signal_modified_key(c, c->db, target);
    notify_keyspace_event(NOTIFY_GENERIC, "del", target, c->db->id);
    server.dirty++;
  }
  add_reply_long_long(c, (long long)maxlen);
}

/* ------------------------------------------------------------------ */
/* BITFIELD                                                             */
/* ------------------------------------------------------------------ */

#define BITFIELD_OP_GET 0
#define BITFIELD_OP_SET 1
#define BITFIELD_OP_INCRBY 2

#define BITFIELD_OVERFLOW_WRAP 0
#define BITFIELD_OVERFLOW_SAT 1
#define BITFIELD_OVERFLOW_FAIL 2

typedef struct bitfield_op {
  uint64_t offset; /* in bits */
  int64_t value;   /* SET value or INCRBY increment */
  int opcode;      /* BITFIELD_OP_* */
  int overflow;    /* BITFIELD_OVERFLOW_* in effect for this op */
  int bits;        /* 1..64 (1..63 unsigned) */
  int is_signed;
} bitfield_op;

/* bitfield_get_unsigned reads |bits| bits at bit |offset| of p, the first
 * bit the most significant. */
static uint64_t bitfield_get_unsigned(const unsigned char *p, uint64_t offset,
                                      int bits) {
  uint64_t value = 0;
  for (int j = 0; j < bits; j++, offset++) {
    uint64_t bit = (p[offset >> 3] >> (7 - (offset & 7))) & 1;
    value = (value << 1) | bit;
  }
  return value;
}

static int64_t bitfield_get_signed(const unsigned char *p, uint64_t offset,
                                   int bits) {
  uint64_t value = bitfield_get_unsigned(p, offset, bits);
  /* Two's complement: extend the sign bit of a narrower field. */
  if (bits < 64 && (value & ((uint64_t)1 << (bits - 1)))) {
    value |= UINT64_MAX << bits;
  }
  return (int64_t)value;
}

static void bitfield_set(unsigned char *p, uint64_t offset, int bits,
                         uint64_t value) {
  for (int j = 0; j < bits; j++, offset++) {
    unsigned bit = (unsigned)((value >> (bits - 1 - j)) & 1);
    unsigned shift = 7 - (unsigned)(offset & 7);
    unsigned char *byte = &p[offset >> 3];
    *byte = (unsigned char)((*byte & ~(1u << shift)) | (bit << shift));
  }
}

/* bitfield_check_unsigned: does value + incr fit an unsigned field of
 * |bits| bits? 0 if it does, 1 on overflow, -1 on underflow; then *limit
 * receives the wrapped (WRAP) or saturated (SAT) result. Redis's
 * arithmetic exactly, computed without undefined behaviour. */
static int bitfield_check_unsigned(uint64_t value, int64_t incr, int bits,
                                   int overflow, uint64_t *limit) {
  uint64_t max = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
  int64_t maxincr = (int64_t)(max - value);
  int64_t minincr = (int64_t)(0 - value);
  int result;
  if (value > max || (incr > 0 && incr > maxincr)) {
    result = 1;
    if (overflow == BITFIELD_OVERFLOW_SAT) {
      *limit = max;
    }
  } else if (incr < 0 && incr < minincr) {
    result = -1;
    if (overflow == BITFIELD_OVERFLOW_SAT) {
      *limit = 0;
    }
  } else {
    return 0;
  }
  if (overflow == BITFIELD_OVERFLOW_WRAP) {
    uint64_t res = value + (uint64_t)incr;
    *limit = bits == 64 ? res : res & ~(UINT64_MAX << bits);
    result = 1; /* Redis reports a wrapped underflow as an overflow */
  }
  return result;
}

/* bitfield_check_signed: the same for a signed field. */
static int bitfield_check_signed(int64_t value, int64_t incr, int bits,
                                 int overflow, int64_t *limit) {
  int64_t max = bits == 64 ? INT64_MAX : ((int64_t)1 << (bits - 1)) - 1;
  int64_t min = -max - 1;
  int64_t maxincr = (int64_t)((uint64_t)max - (uint64_t)value);
  int64_t minincr = (int64_t)((uint64_t)min - (uint64_t)value);
  int result;
  if (value > max || (bits != 64 && incr > maxincr) ||
      (value >= 0 && incr > 0 && incr > maxincr)) {
    result = 1;
    if (overflow == BITFIELD_OVERFLOW_SAT) {
      *limit = max;
    }
  } else if (value < min || (bits != 64 && incr < minincr) ||
             (value < 0 && incr < 0 && incr < minincr)) {
    result = -1;
    if (overflow == BITFIELD_OVERFLOW_SAT) {
      *limit = min;
    }
  } else {
    return 0;
  }
  if (overflow == BITFIELD_OVERFLOW_WRAP) {
    uint64_t sum = (uint64_t)value + (uint64_t)incr;
    if (bits < 64) {
      uint64_t mask = UINT64_MAX << bits;
      if (sum & ((uint64_t)1 << (bits - 1))) {
        sum |= mask;
      } else {
        sum &= ~mask;
      }
    }
    *limit = (int64_t)sum;
    result = 1;
  }
  return result;
}

/* bitfield_parse_type_or_reply parses i1..i64 or u1..u63. */
static int bitfield_parse_type_or_reply(client *c, robj *arg, int *out_signed,
                                        int *out_bits) {
  char buf[LONG_STR_SIZE];
  size_t len;
  const char *p = bit_arg_bytes(arg, buf, sizeof(buf), &len);
  long long bits;
  int is_signed;
  if (len > 0 && p[0] == 'i') {
    is_signed = 1;
  } else if (len > 0 && p[0] == 'u') {
    is_signed = 0;
  } else {
    add_reply_error(c, bitfield_type_error);
    return C_ERR;
  }
  /* Redis reads the width up to the first NUL byte. */
  size_t width_len = strnlen(p + 1, len - 1);
  if (!string2ll(p + 1, width_len, &bits) || bits < 1 ||
      (is_signed && bits > 64) || (!is_signed && bits > 63)) {
    add_reply_error(c, bitfield_type_error);
    return C_ERR;
  }
  *out_signed = is_signed;
  *out_bits = (int)bits;
  return C_OK;
}

/* bitfield_parse_or_reply parses the subcommands from argv[2]. Returns the
 * array of operations (*out_count of them; NULL when there are none) with
 * *out_readonly set when every one is a GET, or replies and returns NULL
 * with *out_count = -1. */
static bitfield_op *bitfield_parse_or_reply(client *c, int *out_count,
                                            int *out_readonly,
                                            uint64_t *out_highest_write) {
  bitfield_op *ops = NULL;
  int count = 0, cap = 0;
  int overflow = BITFIELD_OVERFLOW_WRAP;
  *out_readonly = 1;
  *out_highest_write = 0;
  for (int j = 2; j < c->argc; j++) {
    int remaining = c->argc - j - 1;
    const char *sub = c->argv[j]->ptr;
    int opcode;
    if (!strcasecmp(sub, "get") && remaining >= 2) {
      opcode = BITFIELD_OP_GET;
    } else if (!strcasecmp(sub, "set") && remaining >= 3) {
      opcode = BITFIELD_OP_SET;
    } else if (!strcasecmp(sub, "incrby") && remaining >= 3) {
      opcode = BITFIELD_OP_INCRBY;
    } else if (!strcasecmp(sub, "overflow") && remaining >= 1) {
      const char *kind = c->argv[++j]->ptr;
      if (!strcasecmp(kind, "wrap")) {
        overflow = BITFIELD_OVERFLOW_WRAP;
      } else if (!strcasecmp(kind, "sat")) {
        overflow = BITFIELD_OVERFLOW_SAT;
      } else if (!strcasecmp(kind, "fail")) {
        overflow = BITFIELD_OVERFLOW_FAIL;
      } else {
        add_reply_error(c, "Invalid OVERFLOW type specified");
        goto error;
      }
      continue;
    } else {
      add_reply_error_object(c, shared.syntaxerr);
      goto error;
    }

    bitfield_op op = {0};
    op.opcode = opcode;
    op.overflow = overflow;
    if (bitfield_parse_type_or_reply(c, c->argv[j + 1], &op.is_signed,
                                     &op.bits) != C_OK ||
        bit_parse_offset_or_reply(c, c->argv[j + 2], 1, op.bits, &op.offset) !=
            C_OK) {
      goto error;
    }
    if (opcode != BITFIELD_OP_GET) {
      long long value;
      *out_readonly = 0;
      uint64_t last_bit = op.offset + (uint64_t)op.bits - 1;
      if (*out_highest_write < last_bit) {
        *out_highest_write = last_bit;
      }
      if (get_long_long_from_object_or_reply(c, c->argv[j + 3], &value, NULL) !=
          C_OK) {
        goto error;
      }
      op.value = value;
    }
    if (count == cap) {
      cap = cap ? cap * 2 : 4;
      ops = zrealloc(ops, sizeof(*ops) * (size_t)cap);
    }
    ops[count++] = op;
    j += opcode == BITFIELD_OP_GET ? 2 : 3;
  }
  *out_count = count;
  return ops;

error:
  zfree(ops);
  *out_count = -1;
  return NULL;
}

/* bitfield_run_write runs a SET or INCRBY on the (grown) string |p| and
 * replies its result; returns 1 if the value changed (or |grown|). */
static int bitfield_run_write(client *c, unsigned char *p,
                              const bitfield_op *op, int grown) {
  int failed, changed;
  if (op->is_signed) {
    int64_t old = bitfield_get_signed(p, op->offset, op->bits);
    int64_t fresh, limit = 0, reply;
    if (op->opcode == BITFIELD_OP_INCRBY) {
      int over =
          bitfield_check_signed(old, op->value, op->bits, op->overflow, &limit);
      fresh = over ? limit : (int64_t)((uint64_t)old + (uint64_t)op->value);
      reply = fresh;
      failed = over && op->overflow == BITFIELD_OVERFLOW_FAIL;
    } else {
      fresh = op->value;
      int over =
          bitfield_check_signed(fresh, 0, op->bits, op->overflow, &limit);
      if (over) {
        fresh = limit;
      }
      reply = old;
      failed = over && op->overflow == BITFIELD_OVERFLOW_FAIL;
    }
    if (failed) {
      add_reply_null(c);
      return 0;
    }
    add_reply_long_long(c, reply);
    bitfield_set(p, op->offset, op->bits, (uint64_t)fresh);
    changed = grown || old != fresh;
  } else {
    uint64_t old = bitfield_get_unsigned(p, op->offset, op->bits);
    uint64_t fresh, limit = 0, reply;
    if (op->opcode == BITFIELD_OP_INCRBY) {
      int over = bitfield_check_unsigned(old, op->value, op->bits, op->overflow,
                                         &limit);
      fresh = over ? limit : old + (uint64_t)op->value;
      reply = fresh;
      failed = over && op->overflow == BITFIELD_OVERFLOW_FAIL;
    } else {
      fresh = (uint64_t)op->value;
      int over =
          bitfield_check_unsigned(fresh, 0, op->bits, op->overflow, &limit);
      if (over) {
        fresh = limit;
      }
      reply = old;
      failed = over && op->overflow == BITFIELD_OVERFLOW_FAIL;
    }
    if (failed) {
      add_reply_null(c);
      return 0;
    }
    add_reply_long_long(c, (long long)reply);
    bitfield_set(p, op->offset, op->bits, fresh);
    changed = grown || old != fresh;
  }
  return changed;
}

/* bitfield_run_get replies the field of a GET; bytes past the string read
 * as zero. */
static void bitfield_run_get(client *c, robj *o, const bitfield_op *op) {
  char llbuf[LONG_STR_SIZE];
  size_t len;
  const unsigned char *src = bit_read_only_string(o, llbuf, &len);
  /* A 64-bit field at any bit position spans at most 9 bytes. */
  unsigned char buf[9] = {0};
  uint64_t byte = op->offset >> 3;
  for (uint64_t i = 0; i < sizeof(buf) && src && byte + i < len; i++) {
    buf[i] = src[byte + i];
  }
  uint64_t offset = op->offset - byte * 8;
  if (op->is_signed) {
    add_reply_long_long(c, bitfield_get_signed(buf, offset, op->bits));
  } else {
    add_reply_long_long(
        c, (long long)bitfield_get_unsigned(buf, offset, op->bits));
  }
}

/* BITFIELD key [GET type offset] [SET type offset value]
 *   [INCRBY type offset increment] [OVERFLOW WRAP|SAT|FAIL] ...
 * BITFIELD_RO key [GET type offset] ... (|readonly_command|). */
static void bitfield_generic(client *c, int readonly_command) {
  int count, readonly;
  uint64_t highest_write;
  bitfield_op *ops =
      bitfield_parse_or_reply(c, &count, &readonly, &highest_write);
  if (count < 0) {
    return;
  }
  robj *o;
  int grown = 0;
  if (readonly) {
    o = lookup_key_read(c->db, c->argv[1]);
    if (o != NULL && check_type(c, o, OBJ_STRING)) {
      zfree(ops);
      return;
    }
  } else {
    if (readonly_command) {
      zfree(ops);
      add_reply_error(c, "BITFIELD_RO only supports the GET subcommand");
      return;
    }
    o = bit_lookup_string_for_write(c, highest_write, &grown);
    if (o == NULL) {
      zfree(ops);
      return;
    }
  }

  add_reply_array_len(c, count);
  long long changes = 0;
  for (int j = 0; j < count; j++) {
    if (ops[j].opcode == BITFIELD_OP_GET) {
      bitfield_run_get(c, o, &ops[j]);
    } else {
      changes += bitfield_run_write(c, (unsigned char *)o->ptr, &ops[j], grown);
    }
  }
  if (changes) {
    signal_modified_key(c, c->db, c->argv[1]);
    notify_keyspace_event(NOTIFY_STRING, "setbit", c->argv[1], c->db->id);
    server.dirty += changes;
  }
  zfree(ops);
}

static void bit_bitfield_command(client *c) { bitfield_generic(c, 0); }

static void bit_bitfield_ro_command(client *c) { bitfield_generic(c, 1); }

/* ------------------------------------------------------------------ */
/* Command table                                                        */
/* ------------------------------------------------------------------ */

/* Arity, flags, ACL categories and key positions as COMMAND INFO of Redis
 * 7.0 prints them (@slow is implied by the absence of @fast). */
#define BIT_CMD(name_, summary_, since_, proc_, arity_, flags_, acl_, first_, \
                last_, step_)                                                 \
  {                                                                           \
    .declared_name = name_, .summary = summary_, .since = since_,             \
    .group = "bitmap", .proc = proc_, .arity = arity_, .flags = flags_,       \
    .acl_categories = ACL_CATEGORY_BITMAP | (acl_), .firstkey = first_,       \
    .lastkey = last_, .keystep = step_                                        \
  }

redis_command bitops_commands[] = {
    BIT_CMD("setbit",
            "Sets or clears the bit at offset in the string value stored at "
            "key",
            "2.2.0", bit_setbit_command, 4, CMD_WRITE | CMD_DENYOOM,
            ACL_CATEGORY_WRITE, 1, 1, 1),
    BIT_CMD("getbit",
            "Returns the bit value at offset in the string value stored at "
            "key",
            "2.2.0", bit_getbit_command, 3, CMD_READONLY | CMD_FAST,
            ACL_CATEGORY_READ | ACL_CATEGORY_FAST, 1, 1, 1),
    BIT_CMD("bitcount", "Count set bits in a string", "2.6.0",
            bit_bitcount_command, -2, CMD_READONLY, ACL_CATEGORY_READ, 1, 1, 1),
    BIT_CMD("bitpos", "Find first bit set or clear in a string", "2.8.7",
            bit_bitpos_command, -3, CMD_READONLY, ACL_CATEGORY_READ, 1, 1, 1),
    BIT_CMD("bitop", "Perform bitwise operations between strings", "2.6.0",
            bit_bitop_command, -4, CMD_WRITE | CMD_DENYOOM, ACL_CATEGORY_WRITE,
            2, -1, 1),
    BIT_CMD("bitfield",
            "Perform arbitrary bitfield integer operations on strings", "3.2.0",
            bit_bitfield_command, -2, CMD_WRITE | CMD_DENYOOM,
            ACL_CATEGORY_WRITE, 1, 1, 1),
    BIT_CMD("bitfield_ro",
            "Perform arbitrary bitfield integer operations on strings. "
            "Read-only variant of BITFIELD",
            "6.0.0", bit_bitfield_ro_command, -2, CMD_READONLY | CMD_FAST,
            ACL_CATEGORY_READ | ACL_CATEGORY_FAST, 1, 1, 1),
    {0},
};
