/* legacy.c: validating readers of ziplists and zipmaps (see legacy.h).
 *
 * Ziplist layout (all header fields little-endian):
 *
 *   <u32 zlbytes> <u32 zltail> <u16 zllen> <entry> ... <entry> <0xFF>
 *   entry: <prevlen: 1 byte 0..253, or 0xFE + u32 LE> <encoding> <data>
 *
 *   encoding byte      meaning                        extra length bytes
 *   00pppppp           string, 6-bit length           0
 *   01pppppp qqqqqqqq  string, 14-bit length (BE)     1
 *   10______ x4        string, 32-bit length (BE)     4
 *   11000000           int16 LE                       (2 data bytes)
 *   11010000           int32 LE                       (4 data bytes)
 *   11100000           int64 LE                       (8 data bytes)
 *   11110000           int24 LE, signed               (3 data bytes)
 *   11111110           int8                           (1 data byte)
 *   1111xxxx           xxxx in 1..13: the integer xxxx - 1, no data
 *
 * Zipmap layout:
 *
 *   <u8 count, 254 = unknown> (<len> field <len> <u8 free> value free-bytes)*
 *   <0xFF>
 *   len: 1 byte 0..253, or 0xFE + u32 LE; a key length byte 0xFF ends it.
 *
 * Every walk below checks each length against the bytes left before the end
 * byte by subtraction, so no sum can overflow and no read leaves the blob.
 * Each foreach walks twice: once to validate (fn == NULL), once to call fn,
 * so fn never sees an element of a blob that turns out to be invalid. */
#include "server/persist/legacy.h"

#include <limits.h>
#include <stdint.h>

#define ZIPLIST_HEADER_SIZE 10
#define ZIPLIST_END 0xFF
#define ZIPLIST_BIG_PREVLEN 0xFE
#define ZIPLIST_COUNT_UNKNOWN 0xFFFF

#define ZIPMAP_BIG_LEN 0xFE
#define ZIPMAP_END 0xFF
#define ZIPMAP_COUNT_UNKNOWN 0xFE

static uint32_t legacy_read_u32_le(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static uint32_t legacy_read_u32_be(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         (uint32_t)p[3];
}

/* legacy_read_int_le reads a little-endian two's complement integer of
 * width bytes (1..8) and sign-extends it. */
static long long legacy_read_int_le(const unsigned char *p, size_t width) {
  uint64_t u = 0;
  for (size_t i = 0; i < width; i++) {
    u |= (uint64_t)p[i] << (8 * i);
  }
  if (width < 8 && ((u >> (8 * width - 1)) & 1)) {
    u |= ~(uint64_t)0 << (8 * width);
  }
  /* Implementation-defined for values above INT64_MAX, two's complement on
   * every compiler we build with. */
  return (long long)(int64_t)u;
}

/* ---- ziplist ------------------------------------------------------------ */

typedef struct ziplist_entry {
  size_t prevlen; /* value of the prevlen field */
  size_t size;    /* bytes of the whole entry: prevlen, encoding, data */
  const unsigned char *s; /* string data, or NULL for an integer */
  size_t slen;
  long long ival;
} ziplist_entry;

/* ziplist_decode_entry decodes the entry at p, which has avail bytes before
 * the end byte (avail >= 1, p[0] != 0xFF). Returns 1, or 0 if the encoding
 * is unknown or the entry does not fit in avail bytes. */
static int ziplist_decode_entry(const unsigned char *p, size_t avail,
                                ziplist_entry *out) {
  size_t pos;
  if (p[0] < ZIPLIST_BIG_PREVLEN) {
    out->prevlen = p[0];
    pos = 1;
  } else {
    /* 0xFE; 0xFF never reaches here (it ends the walk). */
    if (avail < 5) {
      return 0;
    }
    out->prevlen = legacy_read_u32_le(p + 1);
    pos = 5;
  }
  if (avail <= pos) {
    return 0;
  }
  unsigned char enc = p[pos++];
  size_t data_len;
  out->s = NULL;
  out->slen = 0;
  out->ival = 0;
  if (enc < 0xC0) {
    /* A string; the top two bits say how its length is stored. */
    switch (enc >> 6) {
      case 0:
        data_len = enc & 0x3F;
        break;
      case 1:
        if (avail - pos < 1) {
          return 0;
        }
        data_len = (size_t)(enc & 0x3F) << 8 | p[pos];
        pos += 1;
        break;
      default:
        /* 10______: Redis ignores the low six bits, so do we. */
        if (avail - pos < 4) {
          return 0;
        }
        data_len = legacy_read_u32_be(p + pos);
        pos += 4;
        break;
    }
    if (avail - pos < data_len) {
      return 0;
    }
    out->s = p + pos;
    out->slen = data_len;
  } else {
    switch (enc) {
      case 0xC0:
        data_len = 2;
        break;
      case 0xD0:
        data_len = 4;
        break;
      case 0xE0:
        data_len = 8;
        break;
      case 0xF0:
        data_len = 3;
        break;
      case 0xFE:
        data_len = 1;
        break;
      default:
        if (enc < 0xF1 || enc > 0xFD) {
          return 0;
        }
        data_len = 0;
        break;
    }
    if (avail - pos < data_len) {
      return 0;
    }
    if (data_len == 0) {
      out->ival = (long long)(enc & 0x0F) - 1;
    } else {
      out->ival = legacy_read_int_le(p + pos, data_len);
    }
  }
  out->size = pos + data_len;
  return 1;
}

/* ziplist_walk checks the whole ziplist, calling fn (if not NULL) for each
 * element as it goes. Returns the count, LEGACY_INVALID or LEGACY_STOPPED. */
static long ziplist_walk(const unsigned char *zl, size_t len,
                         legacy_entry_fn *fn, void *pd) {
  if (len < ZIPLIST_HEADER_SIZE + 1 || len > UINT32_MAX) {
    return LEGACY_INVALID;
  }
  if (legacy_read_u32_le(zl) != len || zl[len - 1] != ZIPLIST_END) {
    return LEGACY_INVALID;
  }
  size_t end = len - 1; /* offset of the end byte */
  size_t tail = legacy_read_u32_le(zl + 4);
  if (tail > end) {
    return LEGACY_INVALID;
  }
  unsigned header_count = (unsigned)zl[8] | (unsigned)zl[9] << 8;

  size_t off = ZIPLIST_HEADER_SIZE;
  size_t prev_size = 0;
  size_t last = 0;
  /* Every entry takes at least 2 bytes and len < 2^32, so count fits. */
  unsigned long count = 0;
  while (zl[off] != ZIPLIST_END) {
    /* off < end here: zl[end] is 0xFF and off never passes end. */
    ziplist_entry e;
    if (!ziplist_decode_entry(zl + off, end - off, &e) ||
        e.prevlen != prev_size) {
      return LEGACY_INVALID;
    }
    if (fn != NULL && fn(pd, e.s, e.slen, e.ival) != 0) {
      return LEGACY_STOPPED;
    }
    last = off;
    prev_size = e.size;
    off += e.size;
    count++;
  }
  /* A 0xFF before the end is an early end byte, not an entry. */
  if (off != end) {
    return LEGACY_INVALID;
  }
  if (count > 0 && tail != last) {
    return LEGACY_INVALID;
  }
  if (header_count != ZIPLIST_COUNT_UNKNOWN && header_count != count) {
    return LEGACY_INVALID;
  }
  return (long)count;
}

long ziplist_foreach(const unsigned char *zl, size_t len, legacy_entry_fn *fn,
                     void *pd) {
  long count = ziplist_walk(zl, len, NULL, NULL);
  if (count < 0 || fn == NULL) {
    return count;
  }
  return ziplist_walk(zl, len, fn, pd);
}

/* ---- zipmap ------------------------------------------------------------- */

/* zipmap_read_len reads a length at zm[*off], which must lie before end,
 * and moves *off past it. Returns 1, or 0 if it does not fit or its first
 * byte is 0xFF (which only ends the map, in a field's place; the caller's
 * loop sees that one first). */
static int zipmap_read_len(const unsigned char *zm, size_t end, size_t *off,
                           size_t *out_len) {
  size_t p = *off;
  if (p >= end || zm[p] == ZIPMAP_END) {
    return 0;
  }
  if (zm[p] < ZIPMAP_BIG_LEN) {
    *out_len = zm[p];
    *off = p + 1;
    return 1;
  }
  if (end - p < 5) {
    return 0;
  }
  *out_len = legacy_read_u32_le(zm + p + 1);
  *off = p + 5;
  return 1;
}

/* zipmap_walk is ziplist_walk for a zipmap. */
static long zipmap_walk(const unsigned char *zm, size_t len,
                        legacy_entry_fn *fn, void *pd) {
  if (len < 2 || zm[len - 1] != ZIPMAP_END) {
    return LEGACY_INVALID;
  }
  size_t end = len - 1;
  size_t off = 1;
  /* Every pair takes at least 3 bytes, so 2 * pairs cannot wrap. */
  size_t pairs = 0;
  while (zm[off] != ZIPMAP_END) {
    size_t field_len, value_len, free_len;
    if (!zipmap_read_len(zm, end, &off, &field_len) || end - off < field_len) {
      return LEGACY_INVALID;
    }
    const unsigned char *field = zm + off;
    off += field_len;
    if (!zipmap_read_len(zm, end, &off, &value_len) || off >= end) {
      return LEGACY_INVALID;
    }
    free_len = zm[off++];
    if (end - off < value_len || end - off - value_len < free_len) {
      return LEGACY_INVALID;
    }
    const unsigned char *value = zm + off;
    off += value_len + free_len;
    pairs++;
    if (fn != NULL && (fn(pd, field, field_len, 0) != 0 ||
                       fn(pd, value, value_len, 0) != 0)) {
      return LEGACY_STOPPED;
    }
  }
  if (off != end || pairs == 0) {
    return LEGACY_INVALID;
  }
  if (zm[0] != ZIPMAP_COUNT_UNKNOWN && zm[0] != pairs) {
    return LEGACY_INVALID;
  }
  if (pairs > (size_t)LONG_MAX / 2) {
    return LEGACY_INVALID;
  }
  return (long)(pairs * 2);
}

long zipmap_foreach(const unsigned char *zm, size_t len, legacy_entry_fn *fn,
                    void *pd) {
  long count = zipmap_walk(zm, len, NULL, NULL);
  if (count < 0 || fn == NULL) {
    return count;
  }
  return zipmap_walk(zm, len, fn, pd);
}
