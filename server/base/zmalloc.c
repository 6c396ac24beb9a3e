/* zmalloc.c: counting allocation wrappers (see zmalloc.h). */
#include "server/base/zmalloc.h"

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A signed counter: a block allocated with malloc() and released with
 * zfree() would otherwise wrap it around. Relaxed atomics because the
 * count is a statistic, and I/O threads may allocate too. */
static long long zmalloc_used_bytes = 0;

static inline void zmalloc_count_add(size_t n) {
  __atomic_add_fetch(&zmalloc_used_bytes, (long long)n, __ATOMIC_RELAXED);
}

static inline void zmalloc_count_sub(size_t n) {
  __atomic_sub_fetch(&zmalloc_used_bytes, (long long)n, __ATOMIC_RELAXED);
}

static void zmalloc_oom(size_t size) {
  fprintf(stderr, "zmalloc: Out of memory trying to allocate %zu bytes\n",
          size);
  fflush(stderr);
  abort();
}

void *ztrymalloc(size_t size) {
  void *p = malloc(size ? size : 1);
  if (p != NULL) {
    zmalloc_count_add(malloc_usable_size(p));
  }
  return p;
}

void *zmalloc(size_t size) {
  void *p = ztrymalloc(size);
  if (p == NULL) {
    zmalloc_oom(size);
  }
  return p;
}

void *zcalloc(size_t size) {
  void *p = calloc(1, size ? size : 1);
  if (p == NULL) {
    zmalloc_oom(size);
  }
  zmalloc_count_add(malloc_usable_size(p));
  return p;
}

void *ztryrealloc(void *ptr, size_t size) {
  if (ptr == NULL) {
    return ztrymalloc(size);
  }
  if (size == 0) {
    zfree(ptr);
    return NULL;
  }
  size_t old = malloc_usable_size(ptr);
  void *p = realloc(ptr, size);
  if (p == NULL) {
    return NULL;
  }
  zmalloc_count_sub(old);
  zmalloc_count_add(malloc_usable_size(p));
  return p;
}

void *zrealloc(void *ptr, size_t size) {
  if (ptr != NULL && size == 0) {
    zfree(ptr);
    return NULL;
  }
  void *p = ztryrealloc(ptr, size);
  if (p == NULL) {
    zmalloc_oom(size);
  }
  return p;
}

void zfree(void *ptr) {
  if (ptr == NULL) {
    return;
  }
  zmalloc_count_sub(malloc_usable_size(ptr));
  free(ptr);
}

char *zstrdup(const char *s) {
  size_t l = strlen(s) + 1;
  char *p = zmalloc(l);
  memcpy(p, s, l);
  return p;
}

size_t zmalloc_size(void *ptr) { return malloc_usable_size(ptr); }

size_t zmalloc_used_memory(void) {
  long long n = __atomic_load_n(&zmalloc_used_bytes, __ATOMIC_RELAXED);
  return n > 0 ? (size_t)n : 0;
}

size_t zmalloc_get_rss(void) {
  FILE *fp = fopen("/proc/self/statm", "r");
  if (fp == NULL) {
    return 0;
  }
  unsigned long size_pages = 0, rss_pages = 0;
  int ok = fscanf(fp, "%lu %lu", &size_pages, &rss_pages) == 2;
  fclose(fp);
  if (!ok) {
    return 0;
  }
  return (size_t)rss_pages * (size_t)sysconf(_SC_PAGESIZE);
}

/* ------------------------------------------------------------------ */
/* jemalloc statistics                                                  */
/* ------------------------------------------------------------------ */

/* Weak: NULL unless jemalloc (linked by the release build, or preloaded)
 * exports them. Debian's libjemalloc.so.2 exports them unprefixed. */
extern int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp,
                   size_t newlen) __attribute__((weak));
extern void malloc_stats_print(void (*write_cb)(void *, const char *),
                               void *opaque, const char *opts)
    __attribute__((weak));

/* MALLCTL_ARENAS_ALL from jemalloc.h: "arena.<this>.purge" purges every
 * arena. */
#define ZMALLOC_JEMALLOC_ARENAS_ALL 4096

const char *zmalloc_allocator_name(void) {
  static char name[64];
  if (name[0] != '\0') {
    return name;
  }
  const char *version = NULL;
  size_t len = sizeof(version);
  if (mallctl != NULL && mallctl("version", &version, &len, NULL, 0) == 0 &&
      version != NULL) {
    /* "5.3.0-0-g54eaed1d8b56..." as Redis prints it: "jemalloc-5.3.0". */
    snprintf(name, sizeof(name), "jemalloc-%.*s", (int)strcspn(version, "-"),
             version);
  } else {
    snprintf(name, sizeof(name), "libc");
  }
  return name;
}

int zmalloc_get_allocator_info(size_t *out_allocated, size_t *out_active,
                               size_t *out_resident) {
  *out_allocated = *out_active = *out_resident = 0;
  if (mallctl == NULL) {
    return 0;
  }
  /* jemalloc caches its statistics; writing "epoch" refreshes them. */
  uint64_t epoch = 1;
  size_t len = sizeof(epoch);
  if (mallctl("epoch", &epoch, &len, &epoch, len) != 0) {
    return 0;
  }
  size_t allocated = 0, active = 0, resident = 0;
  len = sizeof(size_t);
  if (mallctl("stats.allocated", &allocated, &len, NULL, 0) != 0) {
    return 0;
  }
  len = sizeof(size_t);
  if (mallctl("stats.active", &active, &len, NULL, 0) != 0) {
    return 0;
  }
  len = sizeof(size_t);
  if (mallctl("stats.resident", &resident, &len, NULL, 0) != 0) {
    return 0;
  }
  *out_allocated = allocated;
  *out_active = active;
  *out_resident = resident;
  return 1;
}

int zmalloc_purge(void) {
  if (mallctl == NULL) {
    return 0;
  }
  char name[32];
  snprintf(name, sizeof(name), "arena.%d.purge", ZMALLOC_JEMALLOC_ARENAS_ALL);
  return mallctl(name, NULL, NULL, NULL, 0) == 0 ? 0 : -1;
}

int zmalloc_stats_print(void (*write_cb)(void *opaque, const char *text),
                        void *opaque) {
  if (malloc_stats_print == NULL || mallctl == NULL) {
    return 0;
  }
  malloc_stats_print(write_cb, opaque, NULL);
  return 1;
}
