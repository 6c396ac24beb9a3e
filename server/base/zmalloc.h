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

#endif
