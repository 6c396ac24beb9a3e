/* rdb_load.c: reading Redis's RDB format, versions 1 to 10 (see rdb.h):
 * the length and string encodings, every value type and encoding (the
 * legacy ones converted), whole files with their opcodes, aux fields and
 * CRC64 trailer. Everything read is validated before it is used. */
#include "server/persist/rdb.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/base/crc64.h"
#include "server/base/lzf.h"
#include "server/base/zmalloc.h"
#include "server/ds/intset.h"
#include "server/ds/listpack.h"
#include "server/ds/quicklist.h"
#include "server/ds/zskiplist.h"
#include "server/persist/legacy.h"
#include "server/persist/rdb_internal.h"
#include "server/types/t_hash.h"
#include "server/types/t_list.h"
#include "server/types/t_set.h"
#include "server/types/t_zset.h"

static const char *read_failure(const rio *r) {
  return r->err_no ? strerror(r->err_no) : "unexpected end of file";
}

/* ------------------------------------------------------------------ */
/* Low-level reading                                                    */
/* ------------------------------------------------------------------ */
typedef rdb_loader loader; /* rdb_internal.h */

static void load_fail(loader *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void load_fail(loader *l, const char *fmt, ...) {
  if (l->err == NULL || l->err_len == 0 || l->err[0] != '\0') {
    return;
  }
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  snprintf(l->err, l->err_len, "%s at offset %zu", msg, rio_tell(l->r));
}

static int load_bytes(loader *l, void *p, size_t n) {
  if (!rio_read(l->r, p, n)) {
    load_fail(l, "%s", read_failure(l->r));
    return 0;
  }
  return 1;
}

static int load_byte(loader *l, int *out) {
  unsigned char b;
  if (!load_bytes(l, &b, 1)) {
    return 0;
  }
  *out = b;
  return 1;
}

/* load_len reads a length, or (is_encoded) a special string encoding. */
static int load_len_enc(loader *l, uint64_t *len, int *is_encoded) {
  unsigned char buf[8];
  if (is_encoded) {
    *is_encoded = 0;
  }
  if (!load_bytes(l, buf, 1)) {
    return 0;
  }
  int kind = (buf[0] & 0xC0) >> 6;
  if (kind == RDB_ENCVAL) {
    if (!is_encoded) {
      load_fail(l, "unexpected string encoding where a length was expected");
      return 0;
    }
    *is_encoded = 1;
    *len = buf[0] & 0x3F;
    return 1;
  }
  if (kind == RDB_6BITLEN) {
    *len = buf[0] & 0x3F;
    return 1;
  }
  if (kind == RDB_14BITLEN) {
    unsigned char b1;
    if (!load_bytes(l, &b1, 1)) {
      return 0;
    }
    *len = ((uint64_t)(buf[0] & 0x3F) << 8) | b1;
    return 1;
  }
  int n;
  if (buf[0] == RDB_32BITLEN) {
    n = 4;
  } else if (buf[0] == RDB_64BITLEN) {
    n = 8;
  } else {
    load_fail(l, "unknown length encoding %d", buf[0]);
    return 0;
  }
  if (!load_bytes(l, buf, (size_t)n)) {
    return 0;
  }
  uint64_t v = 0;
  for (int i = 0; i < n; i++) {
    v = (v << 8) | buf[i];
  }
  *len = v;
  return 1;
}

static int load_len(loader *l, uint64_t *len) {
  return load_len_enc(l, len, NULL);
}

/* A declared size must fit in what is left of the input (buffers and
 * regular files know their size): no allocation for lies. */
static int check_declared(loader *l, uint64_t n, const char *what) {
  size_t left = rio_remaining(l->r);
  if (left != SIZE_MAX && n > left) {
    load_fail(l, "%s of %llu bytes is longer than the rest of the input (%zu)",
              what, (unsigned long long)n, left);
    return 0;
  }
  if (n > (uint64_t)server.proto_max_bulk_len * 8 && n > ((uint64_t)1 << 32)) {
    load_fail(l, "%s of %llu bytes is too long", what, (unsigned long long)n);
    return 0;
  }
  return 1;
}

/* can_presize: 1 if a dict may be pre-sized for |count| more members.
 * The count is read from the input before any member, so a lie (found by
 * fuzzing: a 5-byte RESTORE payload declaring 2^31 hash fields made
 * dict_expand calloc 32 GB) must not allocate: every member takes at least
 * one byte, so the count must fit in what is left of the input. Streams of
 * unknown size (pipes) pre-size at most 2^20; the dict grows past that as
 * members arrive. */
static int can_presize(loader *l, uint64_t count) {
  size_t left = rio_remaining(l->r);
  if (left == SIZE_MAX) {
    return count <= ((uint64_t)1 << 20);
  }
  return count <= left && count < ((uint64_t)1 << 32);
}

/* load_string reads any string encoding into a new sds. */
static sds load_string_body(loader *l, uint64_t len, int encoded);

static sds load_string(loader *l) {
  uint64_t len;
  int encoded;
  if (!load_len_enc(l, &len, &encoded)) {
    return NULL;
  }
  return load_string_body(l, len, encoded);
}

/* load_string_object: a string value, read straight into an embedded
 * string when it is short (one allocation, no copy), as Redis loads. */
static robj *load_string_object(loader *l) {
  uint64_t len;
  int encoded;
  if (!load_len_enc(l, &len, &encoded)) {
    return NULL;
  }
  if (!encoded && len <= OBJ_ENCODING_EMBSTR_SIZE_LIMIT) {
    robj *o = create_embedded_string_object(NULL, (size_t)len);
    if (len && !load_bytes(l, o->ptr, (size_t)len)) {
      decr_ref_count(o);
      return NULL;
    }
    return try_object_encoding(o);
  }
  sds s = load_string_body(l, len, encoded);
  if (s == NULL) {
    return NULL;
  }
  return try_object_encoding(create_object(OBJ_STRING, s));
}

/* load_string_body reads the string whose length (or special encoding)
 * load_len_enc just read. */
static sds load_string_body(loader *l, uint64_t len, int encoded) {
  if (encoded) {
    unsigned char b[4];
    switch (len) {
      case RDB_ENC_INT8:
      case RDB_ENC_INT16:
      case RDB_ENC_INT32: {
        size_t n = len == RDB_ENC_INT8 ? 1 : len == RDB_ENC_INT16 ? 2 : 4;
        if (!load_bytes(l, b, n)) {
          return NULL;
        }
        long long v;
        if (n == 1) {
          v = (signed char)b[0];
        } else if (n == 2) {
          v = (int16_t)(b[0] | (b[1] << 8));
        } else {
          v = (int32_t)((uint32_t)b[0] | ((uint32_t)b[1] << 8) |
                        ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24));
        }
        char buf[32];
        int sl = ll2string(buf, sizeof(buf), v);
        return sds_new_len(buf, (size_t)sl);
      }
      case RDB_ENC_LZF: {
        uint64_t clen, ulen;
        if (!load_len(l, &clen) || !load_len(l, &ulen)) {
          return NULL;
        }
        if (!check_declared(l, clen, "compressed string")) {
          return NULL;
        }
        if (ulen == 0 || clen == 0 || ulen / LZF_MAX_RATIO > clen ||
            ulen > ((uint64_t)1 << 40)) {
          load_fail(l, "invalid LZF lengths (compressed %llu, plain %llu)",
                    (unsigned long long)clen, (unsigned long long)ulen);
          return NULL;
        }
        unsigned char *c = zmalloc(clen);
        if (!load_bytes(l, c, clen)) {
          zfree(c);
          return NULL;
        }
        sds s = sds_new_len_uninit(ulen);
        size_t got = lzf_decompress_buf(c, clen, s, ulen);
        zfree(c);
        if (got != ulen) {
          sds_free(s);
          load_fail(l, "invalid LZF compressed string");
          return NULL;
        }
        return s;
      }
      default:
        load_fail(l, "unknown string encoding %llu", (unsigned long long)len);
        return NULL;
    }
  }
  if (!check_declared(l, len, "string")) {
    return NULL;
  }
  sds s = sds_new_len_uninit(len);
  if (len && !load_bytes(l, s, len)) {
    sds_free(s);
    return NULL;
  }
  return s;
}

static int load_binary_double(loader *l, double *d) {
  unsigned char b[8];
  if (!load_bytes(l, b, 8)) {
    return 0;
  }
  uint64_t bits = 0;
  for (int i = 7; i >= 0; i--) {
    bits = (bits << 8) | b[i];
  }
  memcpy(d, &bits, sizeof(*d));
  return 1;
}

/* The old ASCII double: a length byte (253 nan, 254 +inf, 255 -inf). */
static int load_ascii_double(loader *l, double *d) {
  int n;
  if (!load_byte(l, &n)) {
    return 0;
  }
  if (n == 253) {
    *d = NAN;
    return 1;
  }
  if (n == 254) {
    *d = INFINITY;
    return 1;
  }
  if (n == 255) {
    *d = -INFINITY;
    return 1;
  }
  char buf[256];
  if (!load_bytes(l, buf, (size_t)n)) {
    return 0;
  }
  buf[n] = '\0';
  char *end;
  errno = 0;
  *d = strtod(buf, &end);
  if (n == 0 || *end != '\0' || errno == ERANGE) {
    /* Redis uses sscanf %lg: over/underflow still parses to inf or 0. */
    if (n == 0 || *end != '\0') {
      load_fail(l, "invalid double value");
      return 0;
    }
  }
  return 1;
}

static int load_le(loader *l, int bytes, uint64_t *out) {
  unsigned char b[8];
  if (!load_bytes(l, b, (size_t)bytes)) {
    return 0;
  }
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; i--) {
    v = (v << 8) | b[i];
  }
  *out = v;
  return 1;
}

/* ------------------------------------------------------------------ */
/* Reading values                                                       */
/* ------------------------------------------------------------------ */
int rdb_is_object_type(int t) {
  return (t >= RDB_TYPE_STRING && t <= RDB_TYPE_ZSET_2) ||
         (t >= RDB_TYPE_HASH_ZIPMAP && t <= RDB_TYPE_STREAM_LISTPACKS_2) ||
         t == RDB_TYPE_STREAM_LISTPACKS_3;
}

/* Converters from legacy element callbacks into our types. */
typedef struct convert_ctx {
  robj *o;
  int failed;
  int have_field; /* pairs: a field is pending */
  sds field;
  size_t maxelelen;
  dict *seen; /* duplicate detection for zsets built from pairs */
  zset *zs;
} convert_ctx;

static sds entry_to_sds(const unsigned char *s, size_t slen, long long ival) {
  if (s) {
    return sds_new_len(s, slen);
  }
  char buf[32];
  int n = ll2string(buf, sizeof(buf), ival);
  return sds_new_len(buf, (size_t)n);
}

static int list_push_entry(void *pd, const unsigned char *s, size_t slen,
                           long long ival) {
  convert_ctx *ctx = pd;
  sds e = entry_to_sds(s, slen, ival);
  quicklist_push(ctx->o->ptr, e, sds_len(e), QUICKLIST_TAIL);
  sds_free(e);
  return 0;
}

static int hash_pair_entry(void *pd, const unsigned char *s, size_t slen,
                           long long ival) {
  convert_ctx *ctx = pd;
  sds e = entry_to_sds(s, slen, ival);
  if (!ctx->have_field) {
    ctx->field = e;
    ctx->have_field = 1;
    return 0;
  }
  ctx->have_field = 0;
  int added =
      !hash_type_set(ctx->o, ctx->field, sds_len(ctx->field), e, sds_len(e));
  sds_free(ctx->field);
  ctx->field = NULL;
  sds_free(e);
  if (!added) {
    ctx->failed = 1;
    return 1;
  }
  return 0;
}

static int zset_pair_entry(void *pd, const unsigned char *s, size_t slen,
                           long long ival) {
  convert_ctx *ctx = pd;
  if (!ctx->have_field) {
    ctx->field = entry_to_sds(s, slen, ival);
    ctx->have_field = 1;
    return 0;
  }
  ctx->have_field = 0;
  double score;
  if (s) {
    if (!string2d((const char *)s, slen, &score) || isnan(score)) {
      ctx->failed = 1;
      return 1;
    }
  } else {
    score = (double)ival;
  }
  sds ele = ctx->field;
  ctx->field = NULL;
  if (zset_find(ctx->zs, ele) != NULL) {
    sds_free(ele);
    ctx->failed = 1;
    return 1;
  }
  if (sds_len(ele) > ctx->maxelelen) {
    ctx->maxelelen = sds_len(ele);
  }
  zset_insert_owned(ctx->zs, score, ele);
  return 0;
}

static robj *new_skiplist_zset(zset *zs) {
  robj *o = create_object(OBJ_ZSET, zs);
  o->encoding = OBJ_ENCODING_SKIPLIST;
  return o;
}

/* Finishes a zset built in skiplist form: listpack if small, as Redis. */
/* Values read as plain elements (types 3, 5) choose the encoding by count
 * and element size; values read from a compact encoding (ziplist,
 * listpack) stay compact unless the count is over the limit, as Redis 7.0
 * loads them (|count_only|). */
static robj *finish_zset(zset *zs, size_t maxelelen, int count_only) {
  robj *o = new_skiplist_zset(zs);
  if (count_only) {
    maxelelen = 0;
  }
  if (zs->zsl->length <= server.zset_max_listpack_entries &&
      maxelelen <= server.zset_max_listpack_value) {
    zset_convert_to_listpack_if_small(o, maxelelen);
  }
  return o;
}

/* ziplist element -> listpack append (convert_ctx.lp). */
static int lp_append_entry(void *pd, const unsigned char *s, size_t slen,
                           long long ival) {
  unsigned char **lp = pd;
  if (s) {
    if (slen > UINT32_MAX) {
      return 1;
    }
    *lp = lp_append(*lp, s, (uint32_t)slen);
  } else {
    *lp = lp_append_integer(*lp, ival);
  }
  return 0;
}

/* A listpack blob read from outside: validated, owned copy returned. */
/* load_blob: a string read into a plain zmalloc'd buffer (listpacks and
 * intsets live in one), without an sds in between. */
static unsigned char *load_blob(loader *l, size_t *out_len) {
  uint64_t len;
  int encoded;
  if (!load_len_enc(l, &len, &encoded)) {
    return NULL;
  }
  if (!encoded) {
    if (!check_declared(l, len, "string")) {
      return NULL;
    }
    unsigned char *p = zmalloc(len ? len : 1);
    if (len && !load_bytes(l, p, len)) {
      zfree(p);
      return NULL;
    }
    *out_len = len;
    return p;
  }
  if (len == RDB_ENC_LZF) {
    /* Decompressed straight into the final buffer. */
    uint64_t clen, ulen;
    if (!load_len(l, &clen) || !load_len(l, &ulen)) {
      return NULL;
    }
    if (!check_declared(l, clen, "compressed string")) {
      return NULL;
    }
    if (ulen == 0 || clen == 0 || ulen / LZF_MAX_RATIO > clen ||
        ulen > ((uint64_t)1 << 40)) {
      load_fail(l, "invalid LZF lengths (compressed %llu, plain %llu)",
                (unsigned long long)clen, (unsigned long long)ulen);
      return NULL;
    }
    unsigned char *c = zmalloc(clen);
    unsigned char *p = NULL;
    if (load_bytes(l, c, clen)) {
      p = zmalloc(ulen);
      if (lzf_decompress_buf(c, clen, p, ulen) != ulen) {
        zfree(p);
        p = NULL;
        load_fail(l, "invalid LZF compressed string");
      }
    }
    zfree(c);
    *out_len = ulen;
    return p;
  }
  sds s = load_string_body(l, len, encoded); /* an integer encoding */
  if (s == NULL) {
    return NULL;
  }
  unsigned char *p = zmalloc(sds_len(s) ? sds_len(s) : 1);
  memcpy(p, s, sds_len(s));
  *out_len = sds_len(s);
  sds_free(s);
  return p;
}

static unsigned char *load_listpack(loader *l, const char *what) {
  size_t n;
  unsigned char *lp = load_blob(l, &n);
  if (lp == NULL) {
    return NULL;
  }
  if (!lp_validate(lp, n)) {
    zfree(lp);
    load_fail(l, "invalid listpack in %s", what);
    return NULL;
  }
  return lp;
}

/* Listpack hash/zset checks: even count, no duplicate fields; zsets also
 * need valid scores. Converts to the big encoding when over the limits. */
/* lp_field_at: the bytes of a listpack entry (integers rendered into buf). */
static const unsigned char *lp_field_at(unsigned char *p, uint32_t *len,
                                        unsigned char *buf) {
  return lp_get_string(p, len, buf);
}

/* A key of a pair listpack, normalised: an integer (int-encoded, or a
 * string that is a canonical integer, which is the same key) or bytes. */
typedef struct lp_key {
  const unsigned char *s;
  uint32_t len;
  long long v;
  int is_int;
} lp_key;

static int lp_key_cmp(const void *a, const void *b) {
  const lp_key *x = a, *y = b;
  if (x->is_int != y->is_int) {
    return x->is_int ? -1 : 1;
  }
  if (x->is_int) {
    return x->v < y->v ? -1 : x->v > y->v;
  }
  uint32_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->s, y->s, n);
  return c ? c : (x->len < y->len ? -1 : x->len > y->len);
}

/* lp_pairs_have_duplicate: 1 if a key (entries 0, 2, 4...) of a pair
 * listpack repeats: the keys are sorted and neighbours compared. */
static int lp_pairs_have_duplicate(unsigned char *lp, unsigned long pairs) {
  if (pairs < 2) {
    return 0;
  }
  lp_key stack[64];
  lp_key *keys = pairs <= 64 ? stack : zmalloc(sizeof(lp_key) * (size_t)pairs);
  unsigned long n = 0;
  for (unsigned char *p = lp_first(lp); p && n < pairs;
       p = lp_next(lp, lp_next(lp, p))) {
    lp_key *k = &keys[n++];
    k->s = lp_get_value(p, &k->len, &k->v);
    k->is_int = k->s == NULL;
    if (!k->is_int && k->len > 0 && k->len <= 20 &&
        string2ll((const char *)k->s, k->len, &k->v)) {
      char buf[32];
      int bl = ll2string(buf, sizeof(buf), k->v);
      k->is_int = (uint32_t)bl == k->len && memcmp(buf, k->s, k->len) == 0;
    }
  }
  qsort(keys, n, sizeof(lp_key), lp_key_cmp);
  int dup = 0;
  for (unsigned long i = 1; i < n && !dup; i++) {
    dup = lp_key_cmp(&keys[i - 1], &keys[i]) == 0;
  }
  if (keys != stack) {
    zfree(keys);
  }
  return dup;
}

static robj *hash_from_listpack(loader *l, unsigned char *lp, int *empty) {
  unsigned long n = lp_length(lp);
  if (n == 0) {
    lp_free(lp);
    *empty = 1;
    return NULL;
  }
  if (n % 2) {
    lp_free(lp);
    load_fail(l, "hash listpack with an odd number of entries");
    return NULL;
  }
  if (lp_pairs_have_duplicate(lp, n / 2)) {
    lp_free(lp);
    load_fail(l, "duplicate hash fields detected");
    return NULL;
  }
  robj *o = create_object(OBJ_HASH, lp);
  o->encoding = OBJ_ENCODING_LISTPACK;
  if (n / 2 > server.hash_max_listpack_entries) {
    hash_type_convert_to_ht(o);
  }
  return o;
}

/* zset_listpack_is_canonical: every score parses (not NaN) and the pairs
 * are in (score, member) order, so the listpack can be kept as it is. */
static int zset_listpack_is_canonical(unsigned char *lp) {
  double prev = 0;
  const unsigned char *prev_m = NULL;
  uint32_t prev_len = 0;
  unsigned char mbuf[2][LP_INTBUF_SIZE];
  int which = 0;
  for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, lp_next(lp, p))) {
    unsigned char *sp = lp_next(lp, p);
    long long ival;
    uint32_t slen;
    unsigned char *sv = lp_get_value(sp, &slen, &ival);
    double score;
    if (sv) {
      if (!string2d((const char *)sv, slen, &score) || isnan(score)) {
        return 0;
      }
    } else {
      score = (double)ival;
    }
    uint32_t mlen;
    const unsigned char *m = lp_field_at(p, &mlen, mbuf[which]);
    if (prev_m) {
      if (score < prev) {
        return 0;
      }
      if (score == prev) {
        size_t min = prev_len < mlen ? prev_len : mlen;
        int c = memcmp(prev_m, m, min);
        if (c > 0 || (c == 0 && prev_len >= mlen)) {
          return 0;
        }
      }
    }
    prev = score;
    prev_m = m;
    prev_len = mlen;
    which ^= 1;
  }
  return 1;
}

static robj *zset_from_pairs_listpack(loader *l, unsigned char *lp,
                                      int *empty) {
  unsigned long n = lp_length(lp);
  if (n == 0) {
    lp_free(lp);
    *empty = 1;
    return NULL;
  }
  if (n % 2) {
    lp_free(lp);
    load_fail(l, "sorted set listpack with an odd number of entries");
    return NULL;
  }
  /* The common case (what Redis and Redoubt write): kept as it is. */
  if (n / 2 <= server.zset_max_listpack_entries &&
      zset_listpack_is_canonical(lp) && !lp_pairs_have_duplicate(lp, n / 2)) {
    robj *o = create_object(OBJ_ZSET, lp);
    o->encoding = OBJ_ENCODING_LISTPACK;
    return o;
  }
  /* Build the skiplist form (checks scores and duplicates), then choose
   * the encoding as Redis does. Order is kept: listpack order is score
   * order for a valid zset, and zset_insert_owned sorts anyway. */
  convert_ctx ctx = {0};
  ctx.zs = zset_new();
  unsigned char buf[LP_INTBUF_SIZE];
  for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, p)) {
    long long ival = 0;
    uint32_t slen = 0;
    unsigned char *s = lp_get_value(p, &slen, &ival);
    (void)buf;
    if (zset_pair_entry(&ctx, s, slen, ival) != 0) {
      break;
    }
  }
  lp_free(lp);
  if (ctx.failed) {
    if (ctx.field) {
      sds_free(ctx.field);
    }
    zset_release(ctx.zs);
    load_fail(l, "invalid sorted set listpack (duplicate member or bad score)");
    return NULL;
  }
  return finish_zset(ctx.zs, ctx.maxelelen, 1);
}

/* Legacy ziplist blob -> callbacks. */
static int load_ziplist_into(loader *l, legacy_entry_fn *fn, convert_ctx *ctx,
                             const char *what) {
  sds blob = load_string(l);
  if (blob == NULL) {
    return 0;
  }
  long n = ziplist_foreach((unsigned char *)blob, sds_len(blob), fn, ctx);
  sds_free(blob);
  if (ctx->field) {
    sds_free(ctx->field);
    ctx->field = NULL;
  }
  if (n == -1) {
    load_fail(l, "invalid ziplist in %s", what);
    return 0;
  }
  if (n == -2 || ctx->failed) {
    load_fail(l, "invalid %s (duplicate element or bad score)", what);
    return 0;
  }
  if (ctx->have_field) {
    load_fail(l, "%s with an odd number of entries", what);
    return 0;
  }
  return 1;
}

robj *rdb_load_object(rio *r, int type, int *empty, char *err, size_t err_len) {
  loader lstate = {r, err, err_len};
  loader *l = &lstate;
  *empty = 0;
  switch (type) {
    case RDB_TYPE_STRING:
      return load_string_object(l);
    case RDB_TYPE_LIST: {
      uint64_t len;
      if (!load_len(l, &len)) {
        return NULL;
      }
      if (len == 0) {
        *empty = 1;
        return NULL;
      }
      robj *o = list_type_create();
      for (uint64_t i = 0; i < len; i++) {
        sds e = load_string(l);
        if (e == NULL) {
          decr_ref_count(o);
          return NULL;
        }
        quicklist_push(o->ptr, e, sds_len(e), QUICKLIST_TAIL);
        sds_free(e);
      }
      return o;
    }
    case RDB_TYPE_SET: {
      uint64_t len;
      if (!load_len(l, &len)) {
        return NULL;
      }
      if (len == 0) {
        *empty = 1;
        return NULL;
      }
      robj *o = NULL;
      for (uint64_t i = 0; i < len; i++) {
        sds e = load_string(l);
        if (e == NULL) {
          if (o) {
            decr_ref_count(o);
          }
          return NULL;
        }
        if (o == NULL) {
          o = set_type_create(e, sds_len(e));
          if (len > server.set_max_intset_entries) {
            set_type_convert_to_ht(o);
          }
          if (o->encoding == OBJ_ENCODING_HT && can_presize(l, len - 1)) {
            dict_expand(o->ptr, (unsigned long)len);
          }
        }
        int added;
        if (o->encoding == OBJ_ENCODING_HT) {
          /* The loaded sds becomes the member: no copy. */
          added = dict_add(o->ptr, e, NULL) == DICT_OK;
          if (!added) {
            sds_free(e);
          }
        } else {
          added = set_type_add(o, e, sds_len(e));
          sds_free(e);
        }
        if (!added) {
          decr_ref_count(o);
          load_fail(l, "duplicate set members detected");
          return NULL;
        }
      }
      return o;
    }
    case RDB_TYPE_ZSET:
    case RDB_TYPE_ZSET_2: {
      uint64_t len;
      if (!load_len(l, &len)) {
        return NULL;
      }
      if (len == 0) {
        *empty = 1;
        return NULL;
      }
      zset *zs = zset_new();
      size_t maxelelen = 0;
      for (uint64_t i = 0; i < len; i++) {
        sds e = load_string(l);
        double score;
        if (e == NULL) {
          zset_release(zs);
          return NULL;
        }
        int ok = type == RDB_TYPE_ZSET_2 ? load_binary_double(l, &score)
                                         : load_ascii_double(l, &score);
        if (!ok) {
          sds_free(e);
          zset_release(zs);
          return NULL;
        }
        if (isnan(score)) {
          sds_free(e);
          zset_release(zs);
          load_fail(l, "zset with NAN score detected");
          return NULL;
        }
        if (zset_find(zs, e) != NULL) {
          sds_free(e);
          zset_release(zs);
          load_fail(l, "duplicate zset fields detected");
          return NULL;
        }
        if (sds_len(e) > maxelelen) {
          maxelelen = sds_len(e);
        }
        zset_insert_owned(zs, score, e);
      }
      return finish_zset(zs, maxelelen, 0);
    }
    case RDB_TYPE_HASH: {
      uint64_t len;
      if (!load_len(l, &len)) {
        return NULL;
      }
      if (len == 0) {
        *empty = 1;
        return NULL;
      }
      robj *o = hash_create_object();
      if (len > server.hash_max_listpack_entries) {
        hash_type_convert_to_ht(o);
        if (can_presize(l, len)) {
          dict_expand(o->ptr, (unsigned long)len);
        }
      }
      for (uint64_t i = 0; i < len; i++) {
        sds f = load_string(l);
        sds v = f ? load_string(l) : NULL;
        if (v == NULL) {
          if (f) {
            sds_free(f);
          }
          decr_ref_count(o);
          return NULL;
        }
        int added;
        if (o->encoding == OBJ_ENCODING_HT) {
          /* The loaded field and value go into the table as they are. */
          added = dict_add(o->ptr, f, v) == DICT_OK;
          if (!added) {
            sds_free(f);
            sds_free(v);
          }
        } else {
          added = !hash_type_set(o, f, sds_len(f), v, sds_len(v));
          sds_free(f);
          sds_free(v);
        }
        if (!added) {
          decr_ref_count(o);
          load_fail(l, "duplicate hash fields detected");
          return NULL;
        }
      }
      return o;
    }
    case RDB_TYPE_LIST_QUICKLIST:
    case RDB_TYPE_LIST_QUICKLIST_2: {
      uint64_t nodes;
      if (!load_len(l, &nodes)) {
        return NULL;
      }
      robj *o = list_type_create();
      for (uint64_t i = 0; i < nodes; i++) {
        uint64_t container = QUICKLIST_NODE_CONTAINER_PACKED;
        if (type == RDB_TYPE_LIST_QUICKLIST_2 && !load_len(l, &container)) {
          decr_ref_count(o);
          return NULL;
        }
        if (container != QUICKLIST_NODE_CONTAINER_PACKED &&
            container != QUICKLIST_NODE_CONTAINER_PLAIN) {
          decr_ref_count(o);
          load_fail(l, "quicklist node with unknown container %llu",
                    (unsigned long long)container);
          return NULL;
        }
        if (container == QUICKLIST_NODE_CONTAINER_PLAIN) {
          /* One element, kept in a PLAIN node whatever its size (as
           * Redis); an empty one is corrupt, as in Redis. */
          sds e = load_string(l);
          if (e == NULL) {
            decr_ref_count(o);
            return NULL;
          }
          if (sds_len(e) == 0) {
            sds_free(e);
            decr_ref_count(o);
            load_fail(l, "empty plain quicklist node");
            return NULL;
          }
          quicklist_append_plain(o->ptr, e);
          continue;
        }
        if (type == RDB_TYPE_LIST_QUICKLIST) {
          convert_ctx ctx = {0};
          ctx.o = o;
          if (!load_ziplist_into(l, list_push_entry, &ctx, "list node")) {
            decr_ref_count(o);
            return NULL;
          }
          continue;
        }
        unsigned char *lp = load_listpack(l, "list node");
        if (lp == NULL) {
          decr_ref_count(o);
          return NULL;
        }
        if (lp_length(lp) == 0) {
          lp_free(lp); /* Redis skips empty nodes too */
          continue;
        }
        quicklist_append_listpack(o->ptr, lp);
      }
      if (list_type_length(o) == 0) {
        decr_ref_count(o);
        *empty = 1;
        return NULL;
      }
      return o;
    }
    case RDB_TYPE_LIST_ZIPLIST: {
      robj *o = list_type_create();
      convert_ctx ctx = {0};
      ctx.o = o;
      if (!load_ziplist_into(l, list_push_entry, &ctx, "list ziplist")) {
        decr_ref_count(o);
        return NULL;
      }
      if (list_type_length(o) == 0) {
        decr_ref_count(o);
        *empty = 1;
        return NULL;
      }
      return o;
    }
    case RDB_TYPE_HASH_ZIPMAP:
    case RDB_TYPE_HASH_ZIPLIST: {
      robj *o = hash_create_object();
      convert_ctx ctx = {0};
      ctx.o = o;
      int ok;
      if (type == RDB_TYPE_HASH_ZIPLIST) {
        decr_ref_count(o);
        sds blob = load_string(l);
        if (blob == NULL) {
          return NULL;
        }
        unsigned char *lp = lp_new(sds_len(blob));
        long n = ziplist_foreach((unsigned char *)blob, sds_len(blob),
                                 lp_append_entry, &lp);
        sds_free(blob);
        if (n < 0) {
          lp_free(lp);
          load_fail(l, "invalid ziplist in hash");
          return NULL;
        }
        return hash_from_listpack(l, lp, empty);
      } else {
        sds blob = load_string(l);
        ok = blob != NULL;
        if (ok) {
          long n = zipmap_foreach((unsigned char *)blob, sds_len(blob),
                                  hash_pair_entry, &ctx);
          sds_free(blob);
          if (ctx.field) {
            sds_free(ctx.field);
          }
          if (n < 0 || ctx.failed || ctx.have_field) {
            load_fail(l, "invalid zipmap");
            ok = 0;
          }
        }
      }
      if (!ok) {
        decr_ref_count(o);
        return NULL;
      }
      if (hash_type_length(o) == 0) {
        decr_ref_count(o);
        *empty = 1;
        return NULL;
      }
      return o;
    }
    case RDB_TYPE_SET_INTSET: {
      size_t n;
      unsigned char *blob = load_blob(l, &n);
      if (blob == NULL) {
        return NULL;
      }
      if (!intset_validate(blob, n)) {
        zfree(blob);
        load_fail(l, "invalid intset");
        return NULL;
      }
      intset *is = (intset *)blob;
      if (intset_len(is) == 0) {
        intset_free(is);
        *empty = 1;
        return NULL;
      }
      robj *o = create_object(OBJ_SET, is);
      o->encoding = OBJ_ENCODING_INTSET;
      if (intset_len(is) > server.set_max_intset_entries) {
        set_type_convert_to_ht(o);
      }
      return o;
    }
    case RDB_TYPE_ZSET_ZIPLIST: {
      convert_ctx ctx = {0};
      ctx.zs = zset_new();
      if (!load_ziplist_into(l, zset_pair_entry, &ctx, "sorted set ziplist")) {
        zset_release(ctx.zs);
        return NULL;
      }
      if (ctx.zs->zsl->length == 0) {
        zset_release(ctx.zs);
        *empty = 1;
        return NULL;
      }
      return finish_zset(ctx.zs, ctx.maxelelen, 1);
    }
    case RDB_TYPE_HASH_LISTPACK: {
      unsigned char *lp = load_listpack(l, "hash");
      return lp ? hash_from_listpack(l, lp, empty) : NULL;
    }
    case RDB_TYPE_ZSET_LISTPACK: {
      unsigned char *lp = load_listpack(l, "sorted set");
      return lp ? zset_from_pairs_listpack(l, lp, empty) : NULL;
    }
    case RDB_TYPE_STREAM_LISTPACKS:
    case RDB_TYPE_STREAM_LISTPACKS_2:
    case RDB_TYPE_STREAM_LISTPACKS_3:
      return rdb_load_stream(l, type); /* rdb_stream.c */
    case RDB_TYPE_MODULE:
    case RDB_TYPE_MODULE_2:
      load_fail(l,
                "module values (RDB type %d) cannot be loaded: Redoubt has "
                "no modules",
                type);
      return NULL;
    default:
      load_fail(l, "unknown RDB value type %d", type);
      return NULL;
  }
}

/* For the other value readers (rdb_internal.h). */
int rdb_loader_len(rdb_loader *l, uint64_t *out_len) {
  return load_len(l, out_len);
}
int rdb_loader_bytes(rdb_loader *l, void *p, size_t n) {
  return load_bytes(l, p, n);
}
int rdb_loader_le64(rdb_loader *l, uint64_t *out_v) {
  return load_le(l, 8, out_v);
}
sds rdb_loader_string(rdb_loader *l) { return load_string(l); }
unsigned char *rdb_loader_blob(rdb_loader *l, size_t *out_len) {
  return load_blob(l, out_len);
}
void rdb_loader_fail(rdb_loader *l, const char *msg) {
  load_fail(l, "%s", msg);
}

/* ------------------------------------------------------------------ */
/* Function libraries                                                   */
/* ------------------------------------------------------------------ */
sds rdb_load_function_code(rio *r, int type, char *err, size_t err_len) {
  /* Redis's own messages (FUNCTION RESTORE replies them): no offsets. */
  loader quiet = {r, NULL, 0};
  if (type == RDB_OPCODE_FUNCTION2) {
    sds code = load_string(&quiet);
    if (code == NULL) {
      rdb_set_err(err, err_len, "Failed loading library payload");
    }
    return code;
  }
  /* Redis 7.0's release candidates: name, engine, an optional description
   * and the body, which became "#!<engine> name=<name>\n<body>". */
  sds name = NULL, engine = NULL, desc = NULL, body = NULL, code = NULL;
  uint64_t has_desc;
  if ((name = load_string(&quiet)) == NULL) {
    rdb_set_err(err, err_len, "Failed loading library name");
  } else if ((engine = load_string(&quiet)) == NULL) {
    rdb_set_err(err, err_len, "Failed loading engine name");
  } else if (!load_len(&quiet, &has_desc)) {
    rdb_set_err(err, err_len, "Failed loading library description indicator");
  } else if (has_desc && (desc = load_string(&quiet)) == NULL) {
    rdb_set_err(err, err_len, "Failed loading library description");
  } else if ((body = load_string(&quiet)) == NULL) {
    rdb_set_err(err, err_len, "Failed loading library blob");
  } else {
    code = sds_cat_printf(sds_empty(), "#!%s name=%s\n", engine, name);
    code = sds_cat_sds(code, body);
  }
  sds_free(name);
  sds_free(engine);
  sds_free(desc);
  sds_free(body);
  return code;
}

/* ------------------------------------------------------------------ */
/* Reading files                                                        */
/* ------------------------------------------------------------------ */
static void (*loading_progress)(void);
static size_t loading_progress_last;

void rdb_set_loading_progress(void (*fn)(void)) {
  loading_progress = fn;
  loading_progress_last = 0;
}

void rdb_loading_progress_tick(size_t offset) {
  if (loading_progress && (offset < loading_progress_last ||
                           offset - loading_progress_last >= 2 * 1024 * 1024)) {
    loading_progress_last = offset;
    loading_progress();
  }
}

int rdb_load_rio(rio *r, int rdbflags, const char *name, rdb_load_info *info,
                 char *err, size_t err_len) {
  loader lstate = {r, err, err_len};
  loader *l = &lstate;
  rdb_load_info local;
  if (info == NULL) {
    info = &local;
  }
  memset(info, 0, sizeof(*info));
  info->ctime = -1;
  info->repl_offset = -1;
  info->repl_stream_db = -1;
  if (err && err_len) {
    err[0] = '\0';
  }
  rio_set_update_cksum(r, 1);
  r->cksum = 0;
  char magic[10];
  if (!load_bytes(l, magic, 9)) {
    goto fail;
  }
  magic[9] = '\0';
  if (memcmp(magic, "REDIS", 5) != 0) {
    load_fail(l, "wrong signature trying to load DB from file");
    goto fail;
  }
  int version = 0;
  for (int i = 5; i < 9; i++) {
    if (magic[i] < '0' || magic[i] > '9') {
      load_fail(l, "wrong signature trying to load DB from file");
      goto fail;
    }
    version = version * 10 + (magic[i] - '0');
  }
  info->version = version;
  if (version < 1 || version > RDB_VERSION) {
    load_fail(l, "can't handle RDB format version %d", version);
    goto fail;
  }
  /* A load that replaces the dataset replaces the libraries too. */
  if (!(rdbflags & (RDBFLAGS_CHECK_ONLY | RDBFLAGS_ALLOW_DUP)) &&
      rdb_functions() != NULL) {
    rdb_functions()->clear();
  }
  int dbid = 0;
  redis_db *db = server.db ? &server.db[0] : NULL;
  long long expire = -1, idle = -1;
  int freq = -1;
  long long now = mstime();
  for (;;) {
    int type;
    if (!load_byte(l, &type)) {
      goto fail;
    }
    if (type == RDB_OPCODE_EXPIRETIME) {
      uint64_t v;
      if (!load_le(l, 4, &v)) {
        goto fail;
      }
      expire = (long long)(int32_t)(uint32_t)v * 1000;
      continue;
    }
    if (type == RDB_OPCODE_EXPIRETIME_MS) {
      uint64_t v;
      if (!load_le(l, 8, &v)) {
        goto fail;
      }
      expire = (long long)v;
      continue;
    }
    if (type == RDB_OPCODE_FREQ) {
      if (!load_byte(l, &freq)) {
        goto fail;
      }
      continue;
    }
    if (type == RDB_OPCODE_IDLE) {
      uint64_t v;
      if (!load_len(l, &v)) {
        goto fail;
      }
      idle = v > LLONG_MAX / 1000 ? LLONG_MAX / 1000 : (long long)v;
      continue;
    }
    if (type == RDB_OPCODE_EOF) {
      break;
    }
    if (type == RDB_OPCODE_SELECTDB) {
      uint64_t id;
      if (!load_len(l, &id)) {
        goto fail;
      }
      if (id >= (uint64_t)server.dbnum) {
        load_fail(l,
                  "data file was created with a server configured to handle "
                  "more than %d databases (SELECTDB %llu)",
                  server.dbnum, (unsigned long long)id);
        goto fail;
      }
      dbid = (int)id;
      db = server.db ? &server.db[id] : NULL;
      continue;
    }
    if (type == RDB_OPCODE_RESIZEDB) {
      uint64_t size, esize;
      if (!load_len(l, &size) || !load_len(l, &esize)) {
        goto fail;
      }
      /* Bounded like the values' dicts (can_presize), pipes included. */
      if (!(rdbflags & RDBFLAGS_CHECK_ONLY) && can_presize(l, size)) {
        dict_expand(db->dict, (unsigned long)size);
        if (esize <= size) {
          dict_expand(db->expires, (unsigned long)esize);
        }
      }
      continue;
    }
    if (type == RDB_OPCODE_AUX) {
      sds key = load_string(l);
      sds val = key ? load_string(l) : NULL;
      if (val == NULL) {
        if (key) {
          sds_free(key);
        }
        goto fail;
      }
      if (!strcmp(key, "redis-ver")) {
        snprintf(info->redis_ver, sizeof(info->redis_ver), "%s", val);
      } else if (!strcmp(key, "ctime")) {
        string2ll(val, sds_len(val), &info->ctime);
      } else if (!strcmp(key, "repl-id")) {
        if (sds_len(val) == CONFIG_RUN_ID_SIZE) {
          memcpy(info->repl_id, val, CONFIG_RUN_ID_SIZE + 1);
        }
      } else if (!strcmp(key, "repl-offset")) {
        string2ll(val, sds_len(val), &info->repl_offset);
      } else if (!strcmp(key, "repl-stream-db")) {
        string2ll(val, sds_len(val), &info->repl_stream_db);
      } else if (!strcmp(key, "aof-base") || !strcmp(key, "aof-preamble")) {
        string2ll(val, sds_len(val), &info->aof_base);
      }
      /* Others (redis-bits, used-mem, repl-*, lua) are informative here;
       * unknown ones are ignored as Redis does. */
      sds_free(key);
      sds_free(val);
      continue;
    }
    if (type == RDB_OPCODE_MODULE_AUX) {
      load_fail(l,
                "the file holds module data (MODULE_AUX): Redoubt has no "
                "modules to load it");
      goto fail;
    }
    if (type == RDB_OPCODE_FUNCTION || type == RDB_OPCODE_FUNCTION2) {
      char ferr[256] = "";
      sds code = rdb_load_function_code(r, type, ferr, sizeof(ferr));
      if (code == NULL) {
        load_fail(l, "Failed loading library, %s", ferr);
        goto fail;
      }
      const rdb_functions_ops *fops = rdb_functions();
      int ok = 1;
      if (rdbflags & RDBFLAGS_CHECK_ONLY) {
        /* --check-rdb reads the record only. */
      } else if (fops == NULL) {
        snprintf(ferr, sizeof(ferr), "no scripting engine to load it");
        ok = 0;
      } else {
        ok = fops->load(code, sds_len(code),
                        (rdbflags & RDBFLAGS_ALLOW_DUP) != 0, ferr,
                        sizeof(ferr));
      }
      sds_free(code);
      if (!ok) {
        load_fail(l, "Failed loading library, %s", ferr);
        goto fail;
      }
      continue;
    }
    if (!rdb_is_object_type(type) &&
        !(type == RDB_TYPE_STREAM_LISTPACKS ||
          type == RDB_TYPE_STREAM_LISTPACKS_2 || type == RDB_TYPE_MODULE ||
          type == RDB_TYPE_MODULE_2)) {
      load_fail(l, "unknown RDB type or opcode %d", type);
      goto fail;
    }
    sds key = load_string(l);
    if (key == NULL) {
      goto fail;
    }
    int empty;
    char verr[256] = "";
    robj *val = rdb_load_object(r, type, &empty, verr, sizeof(verr));
    if (val == NULL) {
      if (empty) {
        server_log(LL_WARNING, "RDB %s: skipping empty key '%s'", name, key);
        info->keys_empty++;
        sds_free(key);
        expire = idle = -1;
        freq = -1;
        continue;
      }
      if (err && err_len && err[0] == '\0') {
        snprintf(err, err_len, "%s (key '%.64s'%s)", verr, key,
                 sds_len(key) > 64 ? "..." : "");
      }
      sds_free(key);
      goto fail;
    }
    info->keys_by_type[val->type]++;
    if (rdbflags & RDBFLAGS_CHECK_ONLY) {
      info->keys_loaded++;
      if (expire != -1) {
        info->keys_with_expiry++;
      }
      decr_ref_count(val);
      sds_free(key);
    } else if (expire != -1 && expire < now &&
               !(rdbflags & RDBFLAGS_AOF_PREAMBLE)) {
      /* Already expired: not loaded, as a Redis master does. */
      info->keys_expired++;
      decr_ref_count(val);
      sds_free(key);
    } else {
      object_set_lru_or_lfu(val, freq, idle);
      robj keyobj = {.type = OBJ_STRING,
                     .encoding = OBJ_ENCODING_RAW,
                     .refcount = 1,
                     .ptr = key};
      if (!db_add_rdb_load(db, key, val)) { /* takes key and val */
        if (!(rdbflags & RDBFLAGS_ALLOW_DUP)) {
          load_fail(l, "duplicated key '%.64s' in DB %d", key, dbid);
          decr_ref_count(val);
          sds_free(key);
          goto fail;
        }
        db_delete(db, &keyobj);
        server_assert(db_add_rdb_load(db, key, val));
      }
      if (expire != -1) {
        set_expire(NULL, db, &keyobj, expire);
        info->keys_with_expiry++;
      }
      info->keys_loaded++;
    }
    expire = idle = -1;
    freq = -1;
    rdb_loading_progress_tick(rio_tell(r));
  }
  /* The trailer: 8 bytes of CRC64 since version 5. */
  if (version >= 5) {
    uint64_t expected = rio_cksum(r);
    rio_set_update_cksum(r, 0);
    uint64_t stored;
    if (!load_le(l, 8, &stored)) {
      goto fail;
    }
    int check_only = (rdbflags & RDBFLAGS_CHECK_ONLY) != 0;
    int verify =
        check_only || (server.rdb_checksum && !rdb_skip_checksum_validation());
    if (verify && !check_only && stored == 0) {
      server_log(LL_WARNING,
                 "RDB file was saved with checksum disabled: no "
                 "check performed.");
    } else if (verify && stored != 0) {
      info->checksum_checked = 1;
      if (stored != expected) {
        load_fail(l, "wrong RDB checksum expected: (%016llx) got (%016llx)",
                  (unsigned long long)expected, (unsigned long long)stored);
        goto fail;
      }
    }
  }
  return C_OK;

fail:
  if (err && err_len && err[0] == '\0') {
    snprintf(err, err_len, "%s: load failed at offset %zu", name, rio_tell(r));
  }
  return C_ERR;
}

int rdb_load_file(const char *path, int rdbflags, rdb_load_info *info,
                  char *err, size_t err_len) {
  if (err && err_len) {
    err[0] = '\0';
  }
  if (info) {
    memset(info, 0, sizeof(*info));
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd == -1) {
    int saved = errno;
    if (saved != ENOENT) {
      rdb_set_err(err, err_len, "can't open %s: %s", path, strerror(saved));
    }
    errno = saved;
    return C_ERR;
  }
  rio r;
  rio_init_file_reader(&r, fd);
  int rc = rdb_load_rio(&r, rdbflags, path, info, err, err_len);
  rio_release(&r);
  close(fd);
  errno = 0;
  return rc;
}
