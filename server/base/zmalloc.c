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
