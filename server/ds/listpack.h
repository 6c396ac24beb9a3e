/* listpack.h: a compact sequence of string / integer entries in one
 * allocation, byte-compatible with the Redis 7.0 listpack format (so that
 * RDB can store it as is).
 *
 * Layout: <total-bytes u32 LE> <count u16 LE, 65535 = unknown> <entry>...
 * <0xFF>. Each entry is <encoding+data> <backlen>, where backlen is the size
 * of <encoding+data> written as 1..5 bytes readable right-to-left, so the
 * list can be walked in both directions.
 *
 * Entries are strings or 64-bit integers. Strings that are the canonical
 * text of an integer ("12", not "012" or "+1") are stored as integers, as
 * Redis does; readers get the same bytes back either way via lp_get_string.
 *
 * Conventions:
 *   - A listpack is an `unsigned char *` returned by lp_new(). Every
 *     function that changes it returns the (possibly moved) new pointer;
 *     the old one is invalid afterwards.
 *   - Entry positions are `unsigned char *p` pointers into the listpack. They
 *     are invalidated by any modification, except where a function returns
 *     an updated position through an out parameter.
 *   - Memory is zmalloc'd (counts toward maxmemory).
 *   - Total size is bounded by LP_MAX_TOTAL_BYTES; callers convert to a
 *     real structure well before (hash-max-listpack-* etc.). Functions
 *     abort (server_assert) rather than overflow it: check lp_safe_to_add().
 */
#ifndef REDOUBT_LISTPACK_H
#define REDOUBT_LISTPACK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LP_HDR_SIZE 6
#define LP_EOF 0xFF
/* The u32 header caps the total size; Redis refuses to grow past 1 GB. */
#define LP_MAX_TOTAL_BYTES ((size_t)1 << 30)
/* Largest string one entry may hold (32-bit length field). */
#define LP_MAX_STRING_LEN ((size_t)UINT32_MAX)
/* Buffer large enough for any integer entry printed as text. */
#define LP_INTBUF_SIZE 21

/* where for lp_insert_* */
#define LP_BEFORE 0
#define LP_AFTER 1
#define LP_REPLACE 2

/* lp_new returns an empty listpack (capacity is a hint, may be 0). */
unsigned char *lp_new(size_t capacity);
/* lp_free frees lp; NULL is a no-op. */
void lp_free(unsigned char *lp);
/* lp_dup returns a copy. */
unsigned char *lp_dup(unsigned char *lp);
/* lp_shrink_to_fit releases unused capacity. */
unsigned char *lp_shrink_to_fit(unsigned char *lp);

/* lp_bytes returns the total size in bytes (header + entries + EOF). */
size_t lp_bytes(unsigned char *lp);
/* lp_length returns the number of entries (O(1) below 65535 entries). */
unsigned long lp_length(unsigned char *lp);

/* Iteration: each returns NULL past the end / before the start. */
unsigned char *lp_first(unsigned char *lp);
unsigned char *lp_last(unsigned char *lp);
unsigned char *lp_next(unsigned char *lp, unsigned char *p);
unsigned char *lp_prev(unsigned char *lp, unsigned char *p);
/* lp_seek returns the entry at index (negative: from the tail, -1 = last),
 * or NULL when out of range. */
unsigned char *lp_seek(unsigned char *lp, long index);

/* lp_get_value decodes the entry at p. For a string entry it returns a
 * pointer to its bytes (inside lp) and sets *slen; for an integer entry it
 * returns NULL and sets *ival. */
unsigned char *lp_get_value(unsigned char *p, uint32_t *slen, long long *ival);
/* lp_get_string always yields bytes: for an integer entry they are printed
 * into buf (LP_INTBUF_SIZE bytes) and buf is returned. */
unsigned char *lp_get_string(unsigned char *p, uint32_t *slen,
                             unsigned char buf[LP_INTBUF_SIZE]);
/* lp_get_integer returns 1 and sets *ival when the entry is an integer or a
 * string that parses as one (strictly), 0 otherwise. */
int lp_get_integer(unsigned char *p, long long *ival);

/* Insertion. s may be any bytes; canonical integers are stored compactly.
 * lp_insert_string inserts before/after p, or replaces p (LP_REPLACE). If
 * newp is not NULL it receives the position of the inserted entry. p NULL
 * with LP_BEFORE/LP_AFTER means append. */
unsigned char *lp_insert_string(unsigned char *lp, const unsigned char *s,
                                uint32_t slen, unsigned char *p, int where,
                                unsigned char **newp);
unsigned char *lp_insert_integer(unsigned char *lp, long long value,
                                 unsigned char *p, int where,
                                 unsigned char **newp);
unsigned char *lp_append(unsigned char *lp, const unsigned char *s,
                         uint32_t slen);
unsigned char *lp_append_integer(unsigned char *lp, long long value);
unsigned char *lp_prepend(unsigned char *lp, const unsigned char *s,
                          uint32_t slen);
unsigned char *lp_prepend_integer(unsigned char *lp, long long value);
/* lp_replace replaces the entry at *p; *p is updated to the new entry. */
unsigned char *lp_replace(unsigned char *lp, unsigned char **p,
                          const unsigned char *s, uint32_t slen);
unsigned char *lp_replace_integer(unsigned char *lp, unsigned char **p,
                                  long long value);

/* lp_delete removes the entry at p. If newp is not NULL it receives the
 * position of the entry that followed (NULL if p was the last). */
unsigned char *lp_delete(unsigned char *lp, unsigned char *p,
                         unsigned char **newp);
/* lp_delete_range removes num entries starting at index (negative allowed). */
unsigned char *lp_delete_range(unsigned char *lp, long index,
                               unsigned long num);
/* lp_delete_range_with_entry removes num entries starting at *p; *p then
 * points at the entry after them (or NULL). */
unsigned char *lp_delete_range_with_entry(unsigned char *lp, unsigned char **p,
                                          unsigned long num);

/* lp_compare returns 1 when the entry at p equals the bytes s. */
int lp_compare(unsigned char *p, const unsigned char *s, uint32_t slen);
/* lp_find looks for s from p onward, comparing every (skip+1)-th entry
 * (skip=1: keys of a field/value listpack). Returns the entry or NULL. */
unsigned char *lp_find(unsigned char *lp, unsigned char *p,
                       const unsigned char *s, uint32_t slen,
                       unsigned int skip);

/* lp_safe_to_add returns 1 if add more bytes keep lp under the safety
 * limit (lp may be NULL: size of a new one). */
int lp_safe_to_add(unsigned char *lp, size_t add);

/* lp_validate checks a listpack from outside (RDB, RESTORE) of size bytes:
 * header, every entry's bounds and backlen, the count, the EOF byte.
 * Returns 1 if valid. */
int lp_validate(const unsigned char *lp, size_t size);

/* lp_random_pair / lp_random_pairs pick random entries of a field/value
 * listpack (hashes, zsets). Results point into lp. */
typedef struct lp_entry_ref {
  unsigned char *sval; /* NULL for an integer entry */
  uint32_t slen;
  long long lval;
} lp_entry_ref;
/* lp_random_pair: total_count is lp_length/2; key and val may be NULL. */
void lp_random_pair(unsigned char *lp, unsigned long total_count,
                    lp_entry_ref *key, lp_entry_ref *val);
/* lp_random_pairs: count picks with repetition. vals may be NULL. */
void lp_random_pairs(unsigned char *lp, unsigned int count, lp_entry_ref *keys,
                     lp_entry_ref *vals);
/* lp_random_pairs_unique: up to count distinct pairs, returns how many. */
unsigned int lp_random_pairs_unique(unsigned char *lp, unsigned int count,
                                    lp_entry_ref *keys, lp_entry_ref *vals);

#ifdef __cplusplus
}
#endif

#endif
