/* sds.c: binary-safe dynamic strings (see sds.h).
 *
 * Layout: [len][alloc][type][bytes...][NUL], len and alloc one byte each
 * while the capacity is under 256, else four (sds.h). A single 8-byte header
 * cost a size class per key: "key:123456" took 32 bytes instead of 16 under
 * jemalloc, a 16-byte EMBSTR value 64 instead of 48 under glibc. alloc
 * records the usable size the allocator actually gave us (capped by the
 * layout) so appends reuse the slack. */
#include "server/ds/sds.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/base/util.h"
#include "server/base/zmalloc.h"

/* Growth beyond this is linear (+1 MiB) rather than doubling, as in Redis. */
#define SDS_MAX_PREALLOC (1024 * 1024)

static void sds_length_overflow(void) {
  fprintf(stderr, "sds: string length exceeds SDS_MAX_LEN\n");
  abort();
}

static int sds_req_type(size_t cap) {
  return cap < 256 ? SDS_TYPE_8 : SDS_TYPE_32;
}

/* sds_set_alloc records the usable capacity, capped by the layout. */
static void sds_set_alloc(sds s, size_t usable) {
  if (sds_type(s) == SDS_TYPE_8) {
    SDS_HDR8(s)->alloc = (uint8_t)(usable > 255 ? 255 : usable);
  } else {
    SDS_HDR32(s)->alloc =
        (uint32_t)(usable > SDS_MAX_LEN ? SDS_MAX_LEN : usable);
  }
}

/* sds_alloc_raw allocates room for |cap| bytes plus header and NUL in the
 * layout |cap| calls for and records the real usable capacity; the length
 * is left for the caller. */
static sds sds_alloc_raw(size_t cap, int zero) {
  if (cap > SDS_MAX_LEN) {
    sds_length_overflow();
  }
  int type = sds_req_type(cap);
  size_t hdr = sds_hdr_size(type);
  char *mem = zero ? zcalloc(hdr + cap + 1) : zmalloc(hdr + cap + 1);
  sds s = mem + hdr;
  s[-1] = (char)type;
  sds_set_alloc(s, zmalloc_size(mem) - hdr - 1);
  return s;
}

/* sds_realloc_cap gives s room for cap >= sds_len(s) bytes, changing the
 * layout when cap calls for the other one. */
static sds sds_realloc_cap(sds s, size_t cap) {
  size_t len = sds_len(s);
  int oldtype = sds_type(s), type = sds_req_type(cap);
  size_t hdr = sds_hdr_size(type);
  char *mem;
  if (type == oldtype) {
    mem = zrealloc(s - hdr, hdr + cap + 1);
  } else {
    mem = zmalloc(hdr + cap + 1);
    memcpy(mem + hdr, s, len + 1);
    zfree(s - sds_hdr_size(oldtype));
  }
  s = mem + hdr;
  s[-1] = (char)type;
  sds_set_len(s, len);
  sds_set_alloc(s, zmalloc_size(mem) - hdr - 1);
  return s;
}

sds sds_new_len(const void *init, size_t len) {
  sds s = sds_alloc_raw(len, init == NULL);
  sds_set_len(s, len);
  if (init != NULL && len > 0) {
    memcpy(s, init, len);
  }
  s[len] = '\0';
  return s;
}

sds sds_new_len_uninit(size_t len) {
  sds s = sds_alloc_raw(len, 0);
  sds_set_len(s, len);
  s[len] = '\0';
  return s;
}

sds sds_embed(void *mem, const void *init, size_t len) {
  struct sds_hdr8 *h = mem;
  h->len = (uint8_t)len;
  h->alloc = (uint8_t)len;
  h->type = SDS_TYPE_8;
  if (init != NULL) {
    memcpy(h->buf, init, len);
  } else {
    memset(h->buf, 0, len);
  }
  h->buf[len] = '\0';
  return h->buf;
}

sds sds_new(const char *s) { return sds_new_len(s, s == NULL ? 0 : strlen(s)); }

sds sds_empty(void) { return sds_new_len("", 0); }

sds sds_dup(const sds s) { return sds_new_len(s, sds_len(s)); }

void sds_free(sds s) {
  if (s == NULL) {
    return;
  }
  zfree(s - sds_hdr_size(sds_type(s)));
}

size_t sds_alloc_size(const sds s) {
  return zmalloc_size(s - sds_hdr_size(sds_type(s)));
}

static sds sds_grow(sds s, size_t addlen, int greedy) {
  size_t len = sds_len(s);
  if (sds_avail(s) >= addlen) {
    return s;
  }
  if (addlen > SDS_MAX_LEN - len) {
    sds_length_overflow();
  }
  size_t newlen = len + addlen;
  if (greedy) {
    if (newlen < SDS_MAX_PREALLOC) {
      newlen *= 2;
    } else {
      newlen += SDS_MAX_PREALLOC;
    }
    if (newlen > SDS_MAX_LEN) {
      newlen = SDS_MAX_LEN;
    }
  }
  return sds_realloc_cap(s, newlen);
}

sds sds_make_room_for(sds s, size_t addlen) { return sds_grow(s, addlen, 1); }

sds sds_make_room_for_exact(sds s, size_t addlen) {
  return sds_grow(s, addlen, 0);
}

void sds_incr_len(sds s, ssize_t incr) {
  size_t len = sds_len(s);
  if (incr >= 0) {
    if ((size_t)incr > sds_alloc(s) - len) {
      abort(); /* caller wrote past the reserved space */
    }
  } else if ((size_t)(-incr) > len) {
    abort();
  }
  len = (size_t)((ssize_t)len + incr);
  sds_set_len(s, len);
  s[len] = '\0';
}

sds sds_remove_free_space(sds s) {
  if (sds_alloc(s) == sds_len(s)) {
    return s;
  }
  return sds_realloc_cap(s, sds_len(s));
}

sds sds_grow_zero(sds s, size_t len) {
  size_t cur = sds_len(s);
  if (len <= cur) {
    return s;
  }
  s = sds_make_room_for(s, len - cur);
  memset(s + cur, 0, len - cur + 1);
  sds_set_len(s, len);
  return s;
}

sds sds_cat_len(sds s, const void *t, size_t len) {
  size_t cur = sds_len(s);
  s = sds_make_room_for(s, len);
  memcpy(s + cur, t, len);
  sds_set_len(s, cur + len);
  s[cur + len] = '\0';
  return s;
}

sds sds_cat(sds s, const char *t) { return sds_cat_len(s, t, strlen(t)); }

sds sds_cat_sds(sds s, const sds t) { return sds_cat_len(s, t, sds_len(t)); }

sds sds_cat_vprintf(sds s, const char *fmt, va_list ap) {
  char stackbuf[1024];
  va_list cpy;
  va_copy(cpy, ap);
  int n = vsnprintf(stackbuf, sizeof(stackbuf), fmt, cpy);
  va_end(cpy);
  if (n < 0) {
    return s;
  }
  if ((size_t)n < sizeof(stackbuf)) {
    return sds_cat_len(s, stackbuf, (size_t)n);
  }
  size_t cur = sds_len(s);
  s = sds_make_room_for(s, (size_t)n);
  va_copy(cpy, ap);
  vsnprintf(s + cur, (size_t)n + 1, fmt, cpy);
  va_end(cpy);
  sds_set_len(s, cur + (size_t)n);
  return s;
}

sds sds_cat_printf(sds s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  s = sds_cat_vprintf(s, fmt, ap);
  va_end(ap);
  return s;
}

sds sds_cat_repr(sds s, const char *p, size_t len) {
  s = sds_make_room_for(s, len + 2);
  s = sds_cat_len(s, "\"", 1);
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)p[i];
    switch (c) {
      case '\\':
      case '"':
        s = sds_cat_printf(s, "\\%c", c);
        break;
      case '\n':
        s = sds_cat_len(s, "\\n", 2);
        break;
      case '\r':
        s = sds_cat_len(s, "\\r", 2);
        break;
      case '\t':
        s = sds_cat_len(s, "\\t", 2);
        break;
      case '\a':
        s = sds_cat_len(s, "\\a", 2);
        break;
      case '\b':
        s = sds_cat_len(s, "\\b", 2);
        break;
      default:
        if (isprint(c)) {
          s = sds_cat_len(s, (const char *)&c, 1);
        } else {
          s = sds_cat_printf(s, "\\x%02x", c);
        }
        break;
    }
  }
  return sds_cat_len(s, "\"", 1);
}

sds sds_cpy_len(sds s, const char *t, size_t len) {
  if (sds_alloc(s) < len) {
    s = sds_make_room_for(s, len - sds_len(s));
  }
  memmove(s, t, len);
  s[len] = '\0';
  sds_set_len(s, len);
  return s;
}

sds sds_cpy(sds s, const char *t) { return sds_cpy_len(s, t, strlen(t)); }

sds sds_from_longlong(long long value) {
  char buf[LONG_STR_SIZE];
  int len = ll2string(buf, sizeof(buf), value);
  return sds_new_len(buf, (size_t)len);
}

void sds_range(sds s, ssize_t start, ssize_t end) {
  ssize_t len = (ssize_t)sds_len(s);
  if (len == 0) {
    return;
  }
  if (start < 0) {
    start += len;
    if (start < 0) {
      start = 0;
    }
  }
  if (end < 0) {
    end += len;
    if (end < 0) {
      end = 0;
    }
  }
  ssize_t newlen = (start > end) ? 0 : (end - start) + 1;
  if (newlen != 0) {
    if (start >= len) {
      newlen = 0;
    } else if (end >= len) {
      end = len - 1;
      newlen = (end - start) + 1;
    }
  }
  if (start > 0 && newlen > 0) {
    memmove(s, s + start, (size_t)newlen);
  }
  s[newlen] = '\0';
  sds_set_len(s, (size_t)newlen);
}

void sds_clear(sds s) {
  sds_set_len(s, 0);
  s[0] = '\0';
}

sds sds_trim(sds s, const char *cset) {
  size_t len = sds_len(s);
  size_t start = 0, end = len;
  while (start < end && strchr(cset, s[start]) != NULL) {
    start++;
  }
  while (end > start && strchr(cset, s[end - 1]) != NULL) {
    end--;
  }
  size_t newlen = end - start;
  if (start > 0 && newlen > 0) {
    memmove(s, s + start, newlen);
  }
  s[newlen] = '\0';
  sds_set_len(s, newlen);
  return s;
}

int sds_cmp(const sds a, const sds b) {
  size_t l1 = sds_len(a), l2 = sds_len(b);
  size_t minlen = l1 < l2 ? l1 : l2;
  int cmp = memcmp(a, b, minlen);
  if (cmp == 0) {
    return l1 > l2 ? 1 : (l1 < l2 ? -1 : 0);
  }
  return cmp;
}

void sds_to_lower(sds s) {
  size_t len = sds_len(s);
  for (size_t j = 0; j < len; j++) {
    s[j] = (char)tolower((unsigned char)s[j]);
  }
}

void sds_to_upper(sds s) {
  size_t len = sds_len(s);
  for (size_t j = 0; j < len; j++) {
    s[j] = (char)toupper((unsigned char)s[j]);
  }
}

sds *sds_split_args(const char *line, int *argc) {
  char *data;
  size_t *offsets;
  int count;
  *argc = 0;
  if (!util_split_args(line, strlen(line), &data, &offsets, &count)) {
    return NULL;
  }
  sds *vector = zmalloc(sizeof(sds) * (size_t)(count > 0 ? count : 1));
  for (int j = 0; j < count; j++) {
    vector[j] = sds_new_len(data + offsets[j], offsets[j + 1] - offsets[j]);
  }
  /* Configuration lines carry passphrases (server/config/config_load.c). */
  explicit_bzero(data, offsets[count]);
  free(data);
  free(offsets);
  *argc = count;
  return vector;
}

void sds_free_split(sds *tokens, int count) {
  if (tokens == NULL) {
    return;
  }
  for (int j = 0; j < count; j++) {
    sds_free(tokens[j]);
  }
  zfree(tokens);
}

sds *sds_split_len(const char *s, ssize_t len, const char *sep, int seplen,
                   int *count) {
  *count = 0;
  if (seplen < 1 || len < 0) {
    return NULL;
  }
  int slots = 5, elements = 0;
  ssize_t start = 0;
  sds *tokens = zmalloc(sizeof(sds) * (size_t)slots);
  if (len == 0) {
    return tokens;
  }
  for (ssize_t j = 0; j < (len - (seplen - 1)); j++) {
    if (slots < elements + 2) {
      slots *= 2;
      tokens = zrealloc(tokens, sizeof(sds) * (size_t)slots);
    }
    if ((seplen == 1 && s[j] == sep[0]) ||
        memcmp(s + j, sep, (size_t)seplen) == 0) {
      tokens[elements++] = sds_new_len(s + start, (size_t)(j - start));
      start = j + seplen;
      j = j + seplen - 1;
    }
  }
  tokens[elements++] = sds_new_len(s + start, (size_t)(len - start));
  *count = elements;
  return tokens;
}

sds sds_join(char **argv, int argc, const char *sep) {
  sds join = sds_empty();
  for (int j = 0; j < argc; j++) {
    join = sds_cat(join, argv[j]);
    if (j != argc - 1) {
      join = sds_cat(join, sep);
    }
  }
  return join;
}
