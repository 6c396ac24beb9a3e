/* listpack.c: compact string/integer sequences (see listpack.h for the
 * layout). Written from the published Redis listpack format description so
 * that RDB payloads stay byte-compatible. */
#include "server/ds/listpack.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "server/base/log.h"
#include "server/base/util.h"
#include "server/base/zmalloc.h"

#define LP_COUNT_UNKNOWN 65535

/* Encoding bytes (first byte of an entry). */
#define LP_ENC_7BIT_UINT_MASK 0x80 /* 0xxxxxxx */
#define LP_ENC_6BIT_STR 0x80       /* 10xxxxxx */
#define LP_ENC_13BIT_INT 0xC0      /* 110xxxxx yyyyyyyy */
#define LP_ENC_12BIT_STR 0xE0      /* 1110xxxx yyyyyyyy */
#define LP_ENC_32BIT_STR 0xF0
#define LP_ENC_16BIT_INT 0xF1
#define LP_ENC_24BIT_INT 0xF2
#define LP_ENC_32BIT_INT 0xF3
#define LP_ENC_64BIT_INT 0xF4

/* ---- header helpers ---------------------------------------------------- */

static uint32_t lp_get_total_bytes(const unsigned char *lp) {
  return (uint32_t)lp[0] | ((uint32_t)lp[1] << 8) | ((uint32_t)lp[2] << 16) |
         ((uint32_t)lp[3] << 24);
}

static void lp_set_total_bytes(unsigned char *lp, uint32_t v) {
  lp[0] = v & 0xff;
  lp[1] = (v >> 8) & 0xff;
  lp[2] = (v >> 16) & 0xff;
  lp[3] = (v >> 24) & 0xff;
}

static uint32_t lp_get_count(const unsigned char *lp) {
  return (uint32_t)lp[4] | ((uint32_t)lp[5] << 8);
}

static void lp_set_count(unsigned char *lp, uint32_t v) {
  lp[4] = v & 0xff;
  lp[5] = (v >> 8) & 0xff;
}

/* Adjust the count by delta, keeping "unknown" sticky until lp_length
 * recounts. */
static void lp_adjust_count(unsigned char *lp, int delta) {
  uint32_t count = lp_get_count(lp);
  if (count == LP_COUNT_UNKNOWN) {
    return;
  }
  long next = (long)count + delta;
  if (next < 0) {
    next = 0;
  }
  if (next >= LP_COUNT_UNKNOWN) {
    next = LP_COUNT_UNKNOWN;
  }
  lp_set_count(lp, (uint32_t)next);
}

/* ---- entry size helpers ------------------------------------------------ */

/* Bytes used to store a backlen of value l. */
static size_t lp_backlen_size(uint64_t l) {
  if (l <= 127) {
    return 1;
  } else if (l < 16383) {
    return 2;
  } else if (l < 2097151) {
    return 3;
  } else if (l < 268435455) {
    return 4;
  }
  return 5;
}

/* Write backlen l at buf, most significant 7-bit group first. Readers go
 * right to left: the rightmost byte holds the low 7 bits, and every byte
 * but the leftmost has the high bit set ("more bytes to the left").
 * Returns bytes written. */
static size_t lp_encode_backlen(unsigned char *buf, uint64_t l) {
  size_t n = lp_backlen_size(l);
  for (size_t i = 0; i < n; i++) {
    unsigned char b = (unsigned char)((l >> (7 * i)) & 127);
    if (i + 1 < n) {
      b |= 128;
    }
    buf[n - 1 - i] = b;
  }
  return n;
}

/* Decode a backlen whose last byte is at p (reading leftwards). Returns
 * the value; *nbytes gets the number of bytes used. Limited to 5 bytes. */
static uint64_t lp_decode_backlen(const unsigned char *p, size_t *nbytes) {
  uint64_t val = 0;
  unsigned shift = 0;
  size_t n = 0;
  for (;;) {
    val |= (uint64_t)(p[0] & 127) << shift;
    n++;
    if (!(p[0] & 128) || n == 5) {
      break;
    }
    shift += 7;
    p--;
  }
  *nbytes = n;
  return val;
}

/* Size of encoding+data for the entry at p (no bounds checks: trusted). */
static uint64_t lp_entry_encoded_size(const unsigned char *p) {
  unsigned char b = p[0];
  if ((b & LP_ENC_7BIT_UINT_MASK) == 0) {
    return 1;
  }
  if ((b & 0xC0) == LP_ENC_6BIT_STR) {
    return 1 + (uint64_t)(b & 0x3F);
  }
  if ((b & 0xE0) == LP_ENC_13BIT_INT) {
    return 2;
  }
  if ((b & 0xF0) == LP_ENC_12BIT_STR) {
    return 2 + (((uint64_t)(b & 0x0F) << 8) | p[1]);
  }
  switch (b) {
    case LP_ENC_16BIT_INT:
      return 3;
    case LP_ENC_24BIT_INT:
      return 4;
    case LP_ENC_32BIT_INT:
      return 5;
    case LP_ENC_64BIT_INT:
      return 9;
    case LP_ENC_32BIT_STR:
      return 5 + ((uint64_t)p[1] | ((uint64_t)p[2] << 8) |
                  ((uint64_t)p[3] << 16) | ((uint64_t)p[4] << 24));
    default:
      return 1; /* EOF */
  }
}

static size_t lp_entry_total_size(const unsigned char *p) {
  uint64_t l = lp_entry_encoded_size(p);
  return (size_t)(l + lp_backlen_size(l));
}

/* ---- encoding of new entries ------------------------------------------ */

/* An entry to write: a header of up to 9 bytes and optional string data. */
typedef struct lp_new_entry {
  unsigned char hdr[9];
  size_t hdr_len;
  const unsigned char *data;
  size_t data_len;
} lp_new_entry;

static void lp_encode_integer(lp_new_entry *e, long long v) {
  e->data = NULL;
  e->data_len = 0;
  if (v >= 0 && v <= 127) {
    e->hdr[0] = (unsigned char)v;
    e->hdr_len = 1;
  } else if (v >= -4096 && v <= 4095) {
    uint64_t uv = v < 0 ? (uint64_t)((1 << 13) + v) : (uint64_t)v;
    e->hdr[0] = (unsigned char)((uv >> 8) | LP_ENC_13BIT_INT);
    e->hdr[1] = (unsigned char)(uv & 0xff);
    e->hdr_len = 2;
  } else {
    int bytes;
    unsigned char enc;
    if (v >= -32768 && v <= 32767) {
      bytes = 2;
      enc = LP_ENC_16BIT_INT;
    } else if (v >= -8388608 && v <= 8388607) {
      bytes = 3;
      enc = LP_ENC_24BIT_INT;
    } else if (v >= -2147483648LL && v <= 2147483647LL) {
      bytes = 4;
      enc = LP_ENC_32BIT_INT;
    } else {
      bytes = 8;
      enc = LP_ENC_64BIT_INT;
    }
    /* Two's complement in |bytes| bytes, little endian. */
    uint64_t uv = (uint64_t)v;
    e->hdr[0] = enc;
    for (int i = 0; i < bytes; i++) {
      e->hdr[1 + i] = (unsigned char)((uv >> (8 * i)) & 0xff);
    }
    e->hdr_len = 1 + (size_t)bytes;
  }
}

static void lp_encode_string(lp_new_entry *e, const unsigned char *s,
                             uint32_t len) {
  long long v;
  if (len > 0 && len < 21 && string2ll((const char *)s, len, &v)) {
    lp_encode_integer(e, v);
    return;
  }
  e->data = s;
  e->data_len = len;
  if (len < 64) {
    e->hdr[0] = (unsigned char)(LP_ENC_6BIT_STR | len);
    e->hdr_len = 1;
  } else if (len < 4096) {
    e->hdr[0] = (unsigned char)(LP_ENC_12BIT_STR | (len >> 8));
    e->hdr[1] = (unsigned char)(len & 0xff);
    e->hdr_len = 2;
  } else {
    e->hdr[0] = LP_ENC_32BIT_STR;
    e->hdr[1] = (unsigned char)(len & 0xff);
    e->hdr[2] = (unsigned char)((len >> 8) & 0xff);
    e->hdr[3] = (unsigned char)((len >> 16) & 0xff);
    e->hdr[4] = (unsigned char)((len >> 24) & 0xff);
    e->hdr_len = 5;
  }
}

/* ---- public: lifecycle -------------------------------------------------- */

unsigned char *lp_new(size_t capacity) {
  size_t size = capacity > LP_HDR_SIZE + 1 ? capacity : LP_HDR_SIZE + 1;
  unsigned char *lp = zmalloc(size);
  lp_set_total_bytes(lp, LP_HDR_SIZE + 1);
  lp_set_count(lp, 0);
  lp[LP_HDR_SIZE] = LP_EOF;
  return lp;
}

void lp_free(unsigned char *lp) { zfree(lp); }

unsigned char *lp_dup(unsigned char *lp) {
  size_t n = lp_bytes(lp);
  unsigned char *copy = zmalloc(n);
  memcpy(copy, lp, n);
  return copy;
}

unsigned char *lp_shrink_to_fit(unsigned char *lp) {
  size_t n = lp_bytes(lp);
  if (n < zmalloc_size(lp)) {
    return zrealloc(lp, n);
  }
  return lp;
}

size_t lp_bytes(unsigned char *lp) { return lp_get_total_bytes(lp); }

unsigned long lp_length(unsigned char *lp) {
  uint32_t count = lp_get_count(lp);
  if (count != LP_COUNT_UNKNOWN) {
    return count;
  }
  unsigned long n = 0;
  for (unsigned char *p = lp_first(lp); p != NULL; p = lp_next(lp, p)) {
    n++;
  }
  if (n < LP_COUNT_UNKNOWN) {
    lp_set_count(lp, (uint32_t)n);
  }
  return n;
}

int lp_safe_to_add(unsigned char *lp, size_t add) {
  size_t len = lp ? lp_bytes(lp) : 0;
  return len + add <= LP_MAX_TOTAL_BYTES;
}

/* ---- public: iteration -------------------------------------------------- */

unsigned char *lp_first(unsigned char *lp) {
  unsigned char *p = lp + LP_HDR_SIZE;
  return p[0] == LP_EOF ? NULL : p;
}

unsigned char *lp_next(unsigned char *lp, unsigned char *p) {
  (void)lp;
  p += lp_entry_total_size(p);
  return p[0] == LP_EOF ? NULL : p;
}

/* Position of the entry before q (q may be the EOF byte). */
static unsigned char *lp_prev_raw(unsigned char *lp, unsigned char *q) {
  if (q == lp + LP_HDR_SIZE) {
    return NULL;
  }
  size_t nbytes;
  uint64_t l = lp_decode_backlen(q - 1, &nbytes);
  return q - nbytes - l;
}

unsigned char *lp_prev(unsigned char *lp, unsigned char *p) {
  return lp_prev_raw(lp, p);
}

unsigned char *lp_last(unsigned char *lp) {
  return lp_prev_raw(lp, lp + lp_bytes(lp) - 1);
}

unsigned char *lp_seek(unsigned char *lp, long index) {
  unsigned long len = lp_length(lp);
  if (index < 0) {
    index += (long)len;
  }
  if (index < 0 || (unsigned long)index >= len) {
    return NULL;
  }
  unsigned char *p;
  if ((unsigned long)index < len / 2) {
    p = lp_first(lp);
    while (index-- > 0) {
      p = lp_next(lp, p);
    }
  } else {
    long back = (long)len - 1 - index;
    p = lp_last(lp);
    while (back-- > 0) {
      p = lp_prev(lp, p);
    }
  }
  return p;
}

/* ---- public: reading ---------------------------------------------------- */

static long long lp_sign_extend(uint64_t uv, int bits) {
  if (bits == 64) {
    return (long long)uv;
  }
  uint64_t sign = (uint64_t)1 << (bits - 1);
  if (uv & sign) {
    return (long long)uv - (long long)((uint64_t)1 << bits);
  }
  return (long long)uv;
}

static uint64_t lp_read_le(const unsigned char *p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++) {
    v |= (uint64_t)p[i] << (8 * i);
  }
  return v;
}

unsigned char *lp_get_value(unsigned char *p, uint32_t *slen, long long *ival) {
  unsigned char b = p[0];
  if ((b & LP_ENC_7BIT_UINT_MASK) == 0) {
    *ival = b;
    return NULL;
  }
  if ((b & 0xC0) == LP_ENC_6BIT_STR) {
    *slen = b & 0x3F;
    return p + 1;
  }
  if ((b & 0xE0) == LP_ENC_13BIT_INT) {
    uint64_t uv = ((uint64_t)(b & 0x1F) << 8) | p[1];
    *ival = lp_sign_extend(uv, 13);
    return NULL;
  }
  if ((b & 0xF0) == LP_ENC_12BIT_STR) {
    *slen = ((uint32_t)(b & 0x0F) << 8) | p[1];
    return p + 2;
  }
  switch (b) {
    case LP_ENC_16BIT_INT:
      *ival = lp_sign_extend(lp_read_le(p + 1, 2), 16);
      return NULL;
    case LP_ENC_24BIT_INT:
      *ival = lp_sign_extend(lp_read_le(p + 1, 3), 24);
      return NULL;
    case LP_ENC_32BIT_INT:
      *ival = lp_sign_extend(lp_read_le(p + 1, 4), 32);
      return NULL;
    case LP_ENC_64BIT_INT:
      *ival = lp_sign_extend(lp_read_le(p + 1, 8), 64);
      return NULL;
    case LP_ENC_32BIT_STR:
      *slen = (uint32_t)lp_read_le(p + 1, 4);
      return p + 5;
    default:
      server_panic("listpack: bad entry encoding 0x%02x", b);
      return NULL;
  }
}

unsigned char *lp_get_string(unsigned char *p, uint32_t *slen,
                             unsigned char buf[LP_INTBUF_SIZE]) {
  long long v;
  unsigned char *s = lp_get_value(p, slen, &v);
  if (s != NULL) {
    return s;
  }
  *slen = (uint32_t)ll2string((char *)buf, LP_INTBUF_SIZE, v);
  return buf;
}

int lp_get_integer(unsigned char *p, long long *ival) {
  uint32_t slen;
  long long v;
  unsigned char *s = lp_get_value(p, &slen, &v);
  if (s == NULL) {
    *ival = v;
    return 1;
  }
  return string2ll((const char *)s, slen, ival);
}

int lp_compare(unsigned char *p, const unsigned char *s, uint32_t slen) {
  uint32_t elen;
  long long v;
  unsigned char *e = lp_get_value(p, &elen, &v);
  if (e != NULL) {
    return elen == slen && (slen == 0 || memcmp(e, s, slen) == 0);
  }
  long long sv;
  if (slen == 0 || slen >= 21 || !string2ll((const char *)s, slen, &sv)) {
    return 0;
  }
  return sv == v;
}

unsigned char *lp_find(unsigned char *lp, unsigned char *p,
                       const unsigned char *s, uint32_t slen,
                       unsigned int skip) {
  /* Parse s once: an integer entry can only equal a canonical integer. */
  long long sv = 0;
  int s_is_int = slen > 0 && slen < 21 && string2ll((const char *)s, slen, &sv);
  unsigned int skipcnt = 0;
  while (p != NULL) {
    if (skipcnt == 0) {
      uint32_t elen;
      long long v;
      unsigned char *e = lp_get_value(p, &elen, &v);
      if (e != NULL) {
        if (elen == slen && (slen == 0 || memcmp(e, s, slen) == 0)) {
          return p;
        }
      } else if (s_is_int && v == sv) {
        return p;
      }
      skipcnt = skip;
    } else {
      skipcnt--;
    }
    p = lp_next(lp, p);
  }
  return NULL;
}

/* ---- public: modification ---------------------------------------------- */

/* Core insert/replace. dst_off is where the new entry goes; replaced is the
 * byte size of the entry being replaced at dst_off (0 for an insert). */
static unsigned char *lp_write_entry(unsigned char *lp, lp_new_entry *e,
                                     size_t dst_off, size_t replaced,
                                     int count_delta, unsigned char **newp) {
  size_t old_bytes = lp_bytes(lp);
  uint64_t enc_len = e->hdr_len + e->data_len;
  size_t back_len = lp_backlen_size(enc_len);
  size_t entry_len = (size_t)enc_len + back_len;
  size_t new_bytes = old_bytes - replaced + entry_len;
  server_assert(new_bytes <= LP_MAX_TOTAL_BYTES);

  /* The string may live inside lp itself (copying one entry to another
   * position): take a private copy before realloc moves it. */
  unsigned char *tmp = NULL;
  if (e->data != NULL && e->data >= lp && e->data < lp + old_bytes) {
    tmp = zmalloc(e->data_len ? e->data_len : 1);
    memcpy(tmp, e->data, e->data_len);
    e->data = tmp;
  }

  size_t tail_off = dst_off + replaced;
  size_t tail_len = old_bytes - tail_off;
  if (new_bytes > old_bytes) {
    /* Grow only past the allocation (as Redis): a listpack created with
     * room to spare (stream nodes) fills it without a realloc each time. */
    if (new_bytes > zmalloc_size(lp)) {
      lp = zrealloc(lp, new_bytes);
    }
    memmove(lp + dst_off + entry_len, lp + tail_off, tail_len);
  } else {
    memmove(lp + dst_off + entry_len, lp + tail_off, tail_len);
    if (new_bytes < old_bytes) {
      lp = zrealloc(lp, new_bytes);
    }
  }
  unsigned char *dst = lp + dst_off;
  memcpy(dst, e->hdr, e->hdr_len);
  if (e->data_len > 0) {
    memcpy(dst + e->hdr_len, e->data, e->data_len);
  }
  lp_encode_backlen(dst + enc_len, enc_len);
  zfree(tmp);
  lp_set_total_bytes(lp, (uint32_t)new_bytes);
  lp_adjust_count(lp, count_delta);
  if (newp != NULL) {
    *newp = dst;
  }
  return lp;
}

static unsigned char *lp_insert(unsigned char *lp, lp_new_entry *e,
                                unsigned char *p, int where,
                                unsigned char **newp) {
  size_t dst_off;
  if (p == NULL) {
    dst_off = lp_bytes(lp) - 1; /* append before EOF */
    return lp_write_entry(lp, e, dst_off, 0, 1, newp);
  }
  dst_off = (size_t)(p - lp);
  if (where == LP_REPLACE) {
    return lp_write_entry(lp, e, dst_off, lp_entry_total_size(p), 0, newp);
  }
  if (where == LP_AFTER) {
    dst_off += lp_entry_total_size(p);
  }
  return lp_write_entry(lp, e, dst_off, 0, 1, newp);
}

unsigned char *lp_insert_string(unsigned char *lp, const unsigned char *s,
                                uint32_t slen, unsigned char *p, int where,
                                unsigned char **newp) {
  lp_new_entry e;
  lp_encode_string(&e, s, slen);
  return lp_insert(lp, &e, p, where, newp);
}

unsigned char *lp_insert_integer(unsigned char *lp, long long value,
                                 unsigned char *p, int where,
                                 unsigned char **newp) {
  lp_new_entry e;
  lp_encode_integer(&e, value);
  return lp_insert(lp, &e, p, where, newp);
}

unsigned char *lp_append(unsigned char *lp, const unsigned char *s,
                         uint32_t slen) {
  return lp_insert_string(lp, s, slen, NULL, LP_AFTER, NULL);
}

unsigned char *lp_append_integer(unsigned char *lp, long long value) {
  return lp_insert_integer(lp, value, NULL, LP_AFTER, NULL);
}

unsigned char *lp_prepend(unsigned char *lp, const unsigned char *s,
                          uint32_t slen) {
  unsigned char *p = lp_first(lp);
  return lp_insert_string(lp, s, slen, p, LP_BEFORE, NULL);
}

unsigned char *lp_prepend_integer(unsigned char *lp, long long value) {
  unsigned char *p = lp_first(lp);
  return lp_insert_integer(lp, value, p, LP_BEFORE, NULL);
}

unsigned char *lp_replace(unsigned char *lp, unsigned char **p,
                          const unsigned char *s, uint32_t slen) {
  return lp_insert_string(lp, s, slen, *p, LP_REPLACE, p);
}

unsigned char *lp_replace_integer(unsigned char *lp, unsigned char **p,
                                  long long value) {
  return lp_insert_integer(lp, value, *p, LP_REPLACE, p);
}

/* Remove |len| bytes at offset off holding |entries| entries. */
static unsigned char *lp_remove_bytes(unsigned char *lp, size_t off, size_t len,
                                      unsigned long entries,
                                      unsigned char **newp) {
  size_t old_bytes = lp_bytes(lp);
  memmove(lp + off, lp + off + len, old_bytes - off - len);
  size_t new_bytes = old_bytes - len;
  lp = zrealloc(lp, new_bytes);
  lp_set_total_bytes(lp, (uint32_t)new_bytes);
  uint32_t count = lp_get_count(lp);
  if (count != LP_COUNT_UNKNOWN) {
    lp_set_count(lp, count >= entries ? (uint32_t)(count - entries) : 0);
  }
  if (newp != NULL) {
    *newp = lp[off] == LP_EOF ? NULL : lp + off;
  }
  return lp;
}

unsigned char *lp_delete(unsigned char *lp, unsigned char *p,
                         unsigned char **newp) {
  return lp_remove_bytes(lp, (size_t)(p - lp), lp_entry_total_size(p), 1, newp);
}

unsigned char *lp_delete_range_with_entry(unsigned char *lp, unsigned char **p,
                                          unsigned long num) {
  if (*p == NULL || num == 0) {
    return lp;
  }
  unsigned char *start = *p;
  unsigned char *q = start;
  unsigned long deleted = 0;
  while (deleted < num && q[0] != LP_EOF) {
    q += lp_entry_total_size(q);
    deleted++;
  }
  return lp_remove_bytes(lp, (size_t)(start - lp), (size_t)(q - start), deleted,
                         p);
}

unsigned char *lp_delete_range(unsigned char *lp, long index,
                               unsigned long num) {
  unsigned char *p = lp_seek(lp, index);
  if (p == NULL) {
    return lp;
  }
  return lp_delete_range_with_entry(lp, &p, num);
}

/* ---- validation of outside bytes --------------------------------------- */

int lp_validate(const unsigned char *lp, size_t size) {
  if (size < LP_HDR_SIZE + 1 || size > LP_MAX_TOTAL_BYTES) {
    return 0;
  }
  if (lp_get_total_bytes(lp) != size || lp[size - 1] != LP_EOF) {
    return 0;
  }
  size_t off = LP_HDR_SIZE;
  unsigned long count = 0;
  /* Each entry takes at least 2 bytes, so this loop runs < size times. */
  while (off < size - 1) {
    const unsigned char *p = lp + off;
    size_t avail = size - 1 - off; /* bytes before EOF */
    unsigned char b = p[0];
    size_t need_hdr = 1;
    if ((b & 0xF0) == LP_ENC_12BIT_STR || (b & 0xE0) == LP_ENC_13BIT_INT) {
      need_hdr = 2;
    } else if (b == LP_ENC_32BIT_STR) {
      need_hdr = 5;
    }
    if (b == LP_EOF || (b > LP_ENC_64BIT_INT && b != LP_EOF)) {
      return 0;
    }
    if (avail < need_hdr) {
      return 0;
    }
    uint64_t enc_len = lp_entry_encoded_size(p);
    if (enc_len > avail) {
      return 0;
    }
    size_t back_len = lp_backlen_size(enc_len);
    if (enc_len + back_len > avail) {
      return 0;
    }
    size_t nbytes;
    uint64_t stored = lp_decode_backlen(p + enc_len + back_len - 1, &nbytes);
    if (stored != enc_len || nbytes != back_len) {
      return 0;
    }
    off += (size_t)(enc_len + back_len);
    count++;
  }
  if (off != size - 1) {
    return 0;
  }
  uint32_t hdr_count = lp_get_count(lp);
  if (hdr_count != LP_COUNT_UNKNOWN && hdr_count != count) {
    return 0;
  }
  return 1;
}

/* ---- random picks ------------------------------------------------------- */

static void lp_fill_ref(unsigned char *p, lp_entry_ref *ref) {
  if (ref == NULL) {
    return;
  }
  ref->sval = lp_get_value(p, &ref->slen, &ref->lval);
}

void lp_random_pair(unsigned char *lp, unsigned long total_count,
                    lp_entry_ref *key, lp_entry_ref *val) {
  server_assert(total_count > 0);
  long r = (long)((unsigned long)random() % total_count) * 2;
  unsigned char *p = lp_seek(lp, r);
  server_assert(p != NULL);
  lp_fill_ref(p, key);
  if (val != NULL) {
    p = lp_next(lp, p);
    server_assert(p != NULL);
    lp_fill_ref(p, val);
  }
}

/* A random index and the output slot it fills. */
typedef struct lp_pick {
  unsigned long index;
  unsigned int order;
} lp_pick;

static int lp_pick_compare(const void *a, const void *b) {
  const lp_pick *pa = a, *pb = b;
  if (pa->index != pb->index) {
    return pa->index < pb->index ? -1 : 1;
  }
  return 0;
}

void lp_random_pairs(unsigned char *lp, unsigned int count, lp_entry_ref *keys,
                     lp_entry_ref *vals) {
  unsigned long total = lp_length(lp) / 2;
  if (total == 0 || count == 0) {
    return;
  }
  /* Pick indices, sort them, then fill in one pass. */
  lp_pick *picks = zmalloc(sizeof(*picks) * count);
  for (unsigned int i = 0; i < count; i++) {
    picks[i].index = (unsigned long)random() % total;
    picks[i].order = i;
  }
  qsort(picks, count, sizeof(*picks), lp_pick_compare);
  unsigned char *p = lp_first(lp);
  unsigned long pair = 0;
  for (unsigned int i = 0; i < count; i++) {
    while (pair < picks[i].index) {
      p = lp_next(lp, p);
      p = lp_next(lp, p);
      pair++;
    }
    lp_fill_ref(p, &keys[picks[i].order]);
    if (vals != NULL) {
      lp_fill_ref(lp_next(lp, p), &vals[picks[i].order]);
    }
  }
  zfree(picks);
}

unsigned int lp_random_pairs_unique(unsigned char *lp, unsigned int count,
                                    lp_entry_ref *keys, lp_entry_ref *vals) {
  unsigned long total = lp_length(lp) / 2;
  if (count > total) {
    count = (unsigned int)total;
  }
  unsigned int picked = 0;
  unsigned long remaining = total;
  unsigned char *p = lp_first(lp);
  /* Selection sampling: take each pair with probability needed/remaining,
   * which yields a uniform subset in listpack order. */
  while (picked < count && p != NULL) {
    unsigned long needed = count - picked;
    if ((unsigned long)random() % remaining < needed) {
      lp_fill_ref(p, &keys[picked]);
      if (vals != NULL) {
        lp_fill_ref(lp_next(lp, p), &vals[picked]);
      }
      picked++;
    }
    remaining--;
    p = lp_next(lp, p);
    p = lp_next(lp, p);
  }
  return picked;
}
