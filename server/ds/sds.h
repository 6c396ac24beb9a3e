/* sds.h: binary-safe dynamic strings. An sds is a char* to NUL-terminated
 * bytes preceded by a hidden header holding length and allocation; it can be
 * passed to any function taking a C string, and sds_len() is O(1).
 * Functions that may reallocate return the new pointer: always use it. */
#ifndef REDOUBT_SDS_H
#define REDOUBT_SDS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef char *sds;

/* Header kept right before the bytes, in one of two layouts chosen by the
 * capacity, as Redis does (it has more): 3 bytes while length and capacity
 * fit in a byte, else 9. The byte right before the string names the layout;
 * small strings (keys, short values) then cost no more than in Redis. */
struct __attribute__((packed)) sds_hdr8 {
  uint8_t len;
  uint8_t alloc; /* excluding header and NUL */
  uint8_t type;
  char buf[];
};
struct __attribute__((packed)) sds_hdr32 {
  uint32_t len;
  uint32_t alloc; /* excluding header and NUL */
  uint8_t type;
  char buf[];
};
#define SDS_TYPE_8 0
#define SDS_TYPE_32 1
#define SDS_HDR8(s) ((struct sds_hdr8 *)((s) - sizeof(struct sds_hdr8)))
#define SDS_HDR32(s) ((struct sds_hdr32 *)((s) - sizeof(struct sds_hdr32)))
/* SDS_MAX_LEN is the largest string an sds holds (4 GiB - 1). */
#define SDS_MAX_LEN 0xffffffffu

static inline int sds_type(const sds s) { return (unsigned char)s[-1]; }
static inline size_t sds_hdr_size(int type) {
  return type == SDS_TYPE_8 ? sizeof(struct sds_hdr8)
                            : sizeof(struct sds_hdr32);
}
static inline size_t sds_len(const sds s) {
  return sds_type(s) == SDS_TYPE_8 ? SDS_HDR8(s)->len : SDS_HDR32(s)->len;
}
static inline size_t sds_alloc(const sds s) {
  return sds_type(s) == SDS_TYPE_8 ? SDS_HDR8(s)->alloc : SDS_HDR32(s)->alloc;
}
static inline size_t sds_avail(const sds s) {
  return sds_alloc(s) - sds_len(s);
}
/* sds_set_len: len must not exceed sds_alloc(s). */
static inline void sds_set_len(sds s, size_t len) {
  if (sds_type(s) == SDS_TYPE_8) {
    SDS_HDR8(s)->len = (uint8_t)len;
  } else {
    SDS_HDR32(s)->len = (uint32_t)len;
  }
}

/* Embedding an sds in a larger allocation (robj EMBSTR strings): it takes
 * sds_embedded_size(len) bytes at mem (len < 256); sds_embed writes it
 * (init may be NULL: zeroed) and returns the sds. Never freed by itself. */
static inline size_t sds_embedded_size(size_t len) {
  return sizeof(struct sds_hdr8) + len + 1;
}
sds sds_embed(void *mem, const void *init, size_t len);

sds sds_new_len(const void *init, size_t len); /* init may be NULL: zeroed */
sds sds_new(const char *s);
/* sds_new_len_uninit: |len| bytes the caller fills at once (a read, a
 * decompression): not zeroed first. */
sds sds_new_len_uninit(size_t len);
sds sds_empty(void);
sds sds_dup(const sds s);
void sds_free(sds s); /* NULL is a no-op */
/* sds_alloc_size returns the bytes used including header (for INFO). */
size_t sds_alloc_size(const sds s);

sds sds_make_room_for(sds s, size_t addlen); /* greedy growth */
sds sds_make_room_for_exact(sds s, size_t addlen);
/* sds_incr_len adjusts the length after writing into the free space (or
 * shrinks it with a negative incr) and sets the NUL terminator. */
void sds_incr_len(sds s, ssize_t incr);
sds sds_remove_free_space(sds s);
sds sds_grow_zero(sds s, size_t len); /* extend to len with zero bytes */

sds sds_cat_len(sds s, const void *t, size_t len);
sds sds_cat(sds s, const char *t);
sds sds_cat_sds(sds s, const sds t);
sds sds_cat_printf(sds s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
sds sds_cat_vprintf(sds s, const char *fmt, va_list ap);
/* sds_cat_repr appends a quoted, escaped form ("a\x00b\n") as Redis prints
 * it in MONITOR and CLIENT LIST. */
sds sds_cat_repr(sds s, const char *p, size_t len);
sds sds_cpy_len(sds s, const char *t, size_t len);
sds sds_cpy(sds s, const char *t);
sds sds_from_longlong(long long value);

/* sds_range keeps bytes start..end inclusive (negative counts from the end),
 * in place. */
void sds_range(sds s, ssize_t start, ssize_t end);
void sds_clear(sds s); /* length 0, keeps allocation */
sds sds_trim(sds s, const char *cset);
int sds_cmp(const sds a, const sds b); /* memcmp order, shorter first */
void sds_to_lower(sds s);
void sds_to_upper(sds s);

/* sds_split_args splits a line into arguments the way redis.conf and
 * redis-cli do: spaces separate, "double quotes" with \n \r \t \b \a \\ \"
 * and \xHH escapes, 'single quotes' with \' only. A closing quote must be
 * followed by a space or the end. Returns NULL on unbalanced quotes.
 * *argc receives the count; free with sds_free_split. (util_split_args
 * does the splitting.) */
sds *sds_split_args(const char *line, int *argc);
void sds_free_split(sds *tokens, int count);
/* sds_split_len splits on a separator string. */
sds *sds_split_len(const char *s, ssize_t len, const char *sep, int seplen,
                   int *count);
sds sds_join(char **argv, int argc, const char *sep);

#endif
