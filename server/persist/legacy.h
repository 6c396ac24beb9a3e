/* legacy.h: validating readers of the value encodings Redis 2.x-6.x wrote
 * into RDB files and DUMP payloads and that Redoubt does not keep in memory:
 * the ziplist (RDB types LIST_ZIPLIST, ZSET_ZIPLIST, HASH_ZIPLIST and the
 * nodes of LIST_QUICKLIST) and the zipmap (HASH_ZIPMAP). The RDB loader walks
 * them once and converts the elements into today's encodings.
 *
 * Both readers take untrusted bytes: they read nothing outside [blob, blob +
 * len), allocate nothing, do not recurse, and make no assumption about the
 * host's byte order. The blob needs no alignment. */
#ifndef REDOUBT_PERSIST_LEGACY_H
#define REDOUBT_PERSIST_LEGACY_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Returned by ziplist_foreach and zipmap_foreach. */
#define LEGACY_INVALID (-1L) /* the blob is malformed; fn was never called */
#define LEGACY_STOPPED (-2L) /* fn returned non-zero */

/* legacy_entry_fn receives one element: a string (s != NULL, slen bytes,
 * ival 0; s points into the blob and lives as long as it) or an integer
 * (s == NULL, slen 0, ival). It returns 0 to go on, non-zero to stop. */
typedef int legacy_entry_fn(void *pd, const unsigned char *s, size_t slen,
                            long long ival);

/* ziplist_foreach validates the whole ziplist of len bytes and only then
 * calls fn(pd, ...) for each element in order (fn may be NULL: validate
 * only). Valid means what Redis 7.0 accepts: zlbytes == len, zltail is the
 * offset of the last entry (<= len - 1 if there is none), every entry's
 * prevlen equals the size of the entry before it (0 for the first), every
 * encoding is known and every length lies inside the blob, the count in the
 * header matches unless it is 65535, and the end byte 0xFF sits exactly at
 * len - 1. Integer entries (8, 16, 24, 32, 64 bit and the 4-bit immediates
 * 0..12) come back as ival.
 *
 * Returns the number of elements (>= 0), LEGACY_INVALID (-1) if the blob is
 * invalid, or LEGACY_STOPPED (-2) if fn stopped the walk. */
long ziplist_foreach(const unsigned char *zl, size_t len, legacy_entry_fn *fn,
                     void *pd);

/* zipmap_foreach does the same for a zipmap: each pair is passed as two
 * consecutive calls, field then value, both strings. Valid means what Redis
 * 7.0 accepts (at least one pair; the count byte equals the number of pairs
 * unless it is 254; the end byte 0xFF sits exactly at len - 1; the free bytes
 * after each value lie inside the blob), except that a one-byte value length
 * of 255, which Redis never writes, is rejected.
 *
 * Returns the number of elements (2 per pair), LEGACY_INVALID (-1) or
 * LEGACY_STOPPED (-2). */
long zipmap_foreach(const unsigned char *zm, size_t len, legacy_entry_fn *fn,
                    void *pd);

#ifdef __cplusplus
}
#endif

#endif
