/* memory_cmds.h: the server's memory accounting as MEMORY STATS, MEMORY
 * DOCTOR and INFO memory report it (memory_cmds.c).
 *
 * memory_overhead_new() takes one consistent sample: zmalloc's count, the
 * process RSS and jemalloc's statistics are read together (Redis samples
 * them in cron every 100 ms; here they are read when asked, so INFO and
 * MEMORY STATS are never stale), then split into overhead (start-up memory,
 * client buffers, keyspace hash tables, script caches) and dataset. */
#ifndef REDOUBT_CMDS_MEMORY_CMDS_H
#define REDOUBT_CMDS_MEMORY_CMDS_H

#include <stddef.h>
#include <sys/types.h>

#include "server/core/server.h"

/* memory_db_overhead: the hash tables of one database that has keys. */
typedef struct memory_db_overhead {
  int dbid;
  size_t overhead_ht_main;    /* keyspace entries, buckets, value headers */
  size_t overhead_ht_expires; /* the TTL table's entries and buckets */
  size_t overhead_ht_slot_to_keys; /* cluster mode only: always 0 here */
} memory_db_overhead;

/* memory_overhead: one sample, field for field Redis's redisMemOverhead
 * (the ratios are floats there too, which shows in MEMORY STATS's
 * %.17g doubles). */
typedef struct memory_overhead {
  size_t peak_allocated;    /* used_memory_peak */
  size_t total_allocated;   /* used_memory (zmalloc's count) */
  size_t startup_allocated; /* used_memory at the end of start-up */
  size_t process_rss;       /* used_memory_rss */
  /* jemalloc's stats.allocated / active / resident; under glibc malloc
   * allocated = active = used_memory and resident = RSS. */
  size_t allocator_allocated, allocator_active, allocator_resident;
  int allocator_has_stats; /* 1 when the three above come from jemalloc */
  size_t repl_backlog;
  size_t clients_slaves; /* replicas' buffers and structures */
  size_t clients_normal; /* every other client's (CLIENT LIST tot-mem) */
  size_t cluster_links;
  size_t aof_buffer;
  size_t lua_caches;       /* EVAL scripts cache (used_memory_scripts_eval) */
  size_t functions_caches; /* used_memory_functions */
  size_t cached_scripts;   /* number_of_cached_scripts (MEMORY DOCTOR) */
  size_t overhead_total;
  size_t dataset;
  size_t total_keys;
  size_t bytes_per_key;
  float dataset_perc;
  float peak_perc;
  float total_frag; /* RSS / used_memory: mem_fragmentation_ratio */
  ssize_t total_frag_bytes;
  float allocator_frag; /* active / allocated */
  ssize_t allocator_frag_bytes;
  float allocator_rss; /* resident / active */
  ssize_t allocator_rss_bytes;
  float rss_extra; /* RSS / resident */
  ssize_t rss_extra_bytes;
  size_t num_dbs;
  memory_db_overhead *db; /* num_dbs entries, databases with keys only */
} memory_overhead;

/* memory_overhead_new samples the server's memory now. Never NULL; free
 * with memory_overhead_free. Updates server.stat_peak_memory first. */
memory_overhead *memory_overhead_new(void);
/* memory_overhead_free: NULL is a no-op. */
void memory_overhead_free(memory_overhead *mh);

#endif
