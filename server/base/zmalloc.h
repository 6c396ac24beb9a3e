/* zmalloc.h: allocation wrappers that keep a running count of the bytes the
 * server holds, so that used_memory() (INFO, maxmemory eviction) is one
 * atomic load instead of a heap walk.
 *
 * The count is the sum of malloc_usable_size() of live blocks. The wrappers
 * add no header, so a block from malloc() may be passed to zfree() and vice
 * versa without crashing; it only skews the count. Modules that hold
 * dataset memory (types, client buffers) should use these wrappers so that
 * maxmemory sees their bytes. Allocation failure aborts with a log line, as
 * Redis does: the server cannot continue consistently without memory. */
#ifndef REDOUBT_ZMALLOC_H
#define REDOUBT_ZMALLOC_H

#include <stddef.h>

void *zmalloc(size_t size);
void *zcalloc(size_t size);
void *zrealloc(void *ptr, size_t size);
void zfree(void *ptr); /* NULL is a no-op */
char *zstrdup(const char *s);
/* ztrymalloc / ztryrealloc return NULL on failure instead of aborting. */
void *ztrymalloc(size_t size);
void *ztryrealloc(void *ptr, size_t size);
/* zmalloc_size returns the usable size of a block from these wrappers. */
size_t zmalloc_size(void *ptr);
/* zmalloc_used_memory returns the bytes currently allocated through the
 * wrappers. */
size_t zmalloc_used_memory(void);
/* zmalloc_get_rss returns the resident set size of the process in bytes
 * (from /proc/self/statm), 0 if unknown. Slow: call it from cron only. */
size_t zmalloc_get_rss(void);

/* Allocator statistics. The release server links jemalloc (server/BUILD);
 * its mallctl() and malloc_stats_print() are reached through weak symbols,
 * so sanitizer and fuzz builds on glibc malloc link too and take the
 * fallbacks described below. */

/* zmalloc_allocator_name returns "jemalloc-<x.y.z>" when jemalloc provides
 * malloc, else "libc" (INFO mem_allocator). The string is static. */
const char *zmalloc_allocator_name(void);
/* zmalloc_get_allocator_info refreshes jemalloc's statistics ("epoch") and
 * sets *out_allocated, *out_active and *out_resident to its stats.allocated,
 * stats.active and stats.resident. Returns 1 on success; 0 with all three
 * set to 0 when the allocator gives no statistics (glibc). */
int zmalloc_get_allocator_info(size_t *out_allocated, size_t *out_active,
                               size_t *out_resident);
/* zmalloc_purge returns the allocator's unused dirty pages to the system
 * (jemalloc's arena.<all>.purge). Returns 0 on success or when there is
 * nothing to ask (glibc), -1 if jemalloc refused. */
int zmalloc_purge(void);
/* zmalloc_stats_print calls |write_cb|(|opaque|, text) with jemalloc's
 * malloc_stats_print() report, in pieces. Returns 1, or 0 without calling
 * |write_cb| when the allocator has no such report (glibc). */
int zmalloc_stats_print(void (*write_cb)(void *opaque, const char *text),
                        void *opaque);

#endif
