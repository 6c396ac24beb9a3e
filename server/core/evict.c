/* evict.c: maxmemory enforcement with Redis's approximated LRU/LFU.
 *
 * Memory is what the zmalloc wrappers count (zmalloc.h): a running sum of
 * malloc_usable_size() of live blocks, so checking it before every write
 * command costs one load. Candidates come from sampling
 * (maxmemory-samples keys per database per round) into a pool of the 16
 * best keys seen so far, which persists across calls and sharpens the
 * approximation. */
#include <math.h>
#include <unistd.h>

#include "server/base/zmalloc.h"
#include "server/core/latency.h"
#include "server/core/lazyfree.h"
#include "server/core/server.h"

#define EVPOOL_SIZE 16
/* Keys up to this length are copied into a preallocated sds of the pool
 * entry instead of a fresh allocation. */
#define EVPOOL_CACHED_SDS_SIZE 255
/* Upper bound for maxmemory-samples: the sample array lives on the stack. */
#define EVICTION_MAX_SAMPLES 64

typedef struct eviction_pool_entry {
  unsigned long long idle; /* score: higher evicts first */
  sds key;                 /* NULL when the slot is empty */
  sds cached;              /* reusable buffer for short keys */
  int dbid;
} eviction_pool_entry;

static eviction_pool_entry *eviction_pool;

size_t used_memory(void) { return zmalloc_used_memory(); }

/* Above this load factor chains get long enough that growing is worth
 * going over maxmemory (Redis's HASHTABLE_MAX_LOAD_FACTOR). */
#define HASHTABLE_MAX_LOAD_FACTOR 1.618

int dict_expand_allowed_by_maxmemory(size_t more_mem, double used_ratio) {
  if (used_ratio > HASHTABLE_MAX_LOAD_FACTOR || server.maxmemory == 0) {
    return 1;
  }
  return used_memory() + more_mem <= server.maxmemory;
}

void eviction_pool_alloc(void) {
  if (eviction_pool != NULL) {
    return;
  }
  eviction_pool = zmalloc(sizeof(*eviction_pool) * EVPOOL_SIZE);
  for (int j = 0; j < EVPOOL_SIZE; j++) {
    eviction_pool[j].idle = 0;
    eviction_pool[j].key = NULL;
    eviction_pool[j].cached = sds_new_len(NULL, EVPOOL_CACHED_SDS_SIZE);
    eviction_pool[j].dbid = 0;
  }
}

/* eviction_pool_populate samples |sampledict| (the keyspace or the
 * expires dict of db |dbid|) and inserts keys that score better than the
 * pool's worst into the pool, kept sorted by ascending score. */
static void eviction_pool_populate(int dbid, dict *sampledict, dict *keydict,
                                   eviction_pool_entry *pool) {
  dict_entry *samples[EVICTION_MAX_SAMPLES];
  int nsamples = server.maxmemory_samples;
  if (nsamples < 1) {
    nsamples = 1;
  } else if (nsamples > EVICTION_MAX_SAMPLES) {
    nsamples = EVICTION_MAX_SAMPLES;
  }
  unsigned int count =
      dict_get_some_keys(sampledict, samples, (unsigned int)nsamples);
  for (unsigned int j = 0; j < count; j++) {
    dict_entry *de = samples[j];
    sds key = dict_get_key(de);
    unsigned long long idle;
    robj *o = NULL;
    if (server.maxmemory_policy != MAXMEMORY_VOLATILE_TTL) {
      if (sampledict != keydict) {
        de = dict_find(keydict, key);
        if (de == NULL) {
          continue;
        }
      }
      o = dict_get_val(de);
    }
    if (server.maxmemory_policy & MAXMEMORY_FLAG_LRU) {
      idle = estimate_object_idle_time(o);
    } else if (server.maxmemory_policy & MAXMEMORY_FLAG_LFU) {
      /* Lower frequency evicts first: invert the counter. */
      idle = 255 - lfu_decr_and_return(o);
    } else {
      /* volatile-ttl: the sooner it expires, the better the candidate. */
      idle = ULLONG_MAX - (unsigned long long)dict_get_signed_integer_val(de);
    }

    int k = 0;
    while (k < EVPOOL_SIZE && pool[k].key != NULL && pool[k].idle < idle) {
      k++;
    }
    if (k == 0 && pool[EVPOOL_SIZE - 1].key != NULL) {
      continue; /* worse than everything in a full pool */
    } else if (k < EVPOOL_SIZE && pool[k].key == NULL) {
      /* empty slot: insert directly */
    } else {
      if (pool[EVPOOL_SIZE - 1].key == NULL) {
        /* Room on the right: shift k.. right by one. */
        sds cached = pool[EVPOOL_SIZE - 1].cached;
        memmove(pool + k + 1, pool + k,
                sizeof(pool[0]) * (size_t)(EVPOOL_SIZE - k - 1));
        pool[k].cached = cached;
      } else {
        /* Full: drop the worst (leftmost) and insert at k-1. */
        k--;
        sds cached = pool[0].cached;
        if (pool[0].key != pool[0].cached) {
          sds_free(pool[0].key);
        }
        memmove(pool, pool + 1, sizeof(pool[0]) * (size_t)k);
        pool[k].cached = cached;
      }
    }
    size_t klen = sds_len(key);
    if (klen > EVPOOL_CACHED_SDS_SIZE) {
      pool[k].key = sds_dup(key);
    } else {
      memcpy(pool[k].cached, key, klen + 1);
      sds_set_len(pool[k].cached, klen);
      pool[k].key = pool[k].cached;
    }
    pool[k].idle = idle;
    pool[k].dbid = dbid;
  }
}

/* eviction_time_limit_us: how long one call may evict before returning,
 * from maxmemory-eviction-tenacity (10 = 500 us, 100 = unlimited). */
static unsigned long eviction_time_limit_us(void) {
  int tenacity = server.maxmemory_eviction_tenacity;
  if (tenacity <= 10) {
    return 50UL * (unsigned long)(tenacity > 0 ? tenacity : 0);
  }
  if (tenacity < 100) {
    return (unsigned long)(500.0 * pow(1.15, tenacity - 10.0));
  }
  return ULONG_MAX;
}

/* eviction_needed reports how many bytes must go (0: under the limit). */
static size_t eviction_bytes_to_free(void) {
  if (server.maxmemory == 0) {
    return 0;
  }
  size_t used = used_memory();
  if (used <= server.maxmemory) {
    return 0;
  }
  return used - (size_t)server.maxmemory;
}

/* eviction_pick_key chooses the next key to evict according to the
 * policy. Returns the key (owned by the keyspace) and its db, or NULL. */
static sds eviction_pick_key(int *out_dbid) {
  static unsigned int next_db = 0;
  int policy = server.maxmemory_policy;
  if (policy & (MAXMEMORY_FLAG_LRU | MAXMEMORY_FLAG_LFU) ||
      policy == MAXMEMORY_VOLATILE_TTL) {
    eviction_pool_alloc();
    eviction_pool_entry *pool = eviction_pool;
    for (;;) {
      unsigned long total_keys = 0;
      for (int i = 0; i < server.dbnum; i++) {
        redis_db *db = &server.db[i];
        dict *d = (policy & MAXMEMORY_FLAG_ALLKEYS) ? db->dict : db->expires;
        unsigned long keys = dict_size(d);
        if (keys != 0) {
          eviction_pool_populate(i, d, db->dict, pool);
          total_keys += keys;
        }
      }
      if (total_keys == 0) {
        return NULL;
      }
      /* Best candidates are at the right end. A pooled key may have been
       * deleted since it was sampled (a ghost): skip it. */
      for (int k = EVPOOL_SIZE - 1; k >= 0; k--) {
        if (pool[k].key == NULL) {
          continue;
        }
        int dbid = pool[k].dbid;
        dict *d = (policy & MAXMEMORY_FLAG_ALLKEYS) ? server.db[dbid].dict
                                                    : server.db[dbid].expires;
        dict_entry *de = dbid < server.dbnum ? dict_find(d, pool[k].key) : NULL;
        if (pool[k].key != pool[k].cached) {
          sds_free(pool[k].key);
        }
        pool[k].key = NULL;
        pool[k].idle = 0;
        if (de != NULL) {
          *out_dbid = dbid;
          return dict_get_key(de);
        }
      }
    }
  }
  if (policy == MAXMEMORY_ALLKEYS_RANDOM ||
      policy == MAXMEMORY_VOLATILE_RANDOM) {
    for (int i = 0; i < server.dbnum; i++) {
      int j = (int)((++next_db) % (unsigned int)server.dbnum);
      redis_db *db = &server.db[j];
      dict *d = policy == MAXMEMORY_ALLKEYS_RANDOM ? db->dict : db->expires;
      if (dict_size(d) != 0) {
        dict_entry *de = dict_get_random_key(d);
        *out_dbid = j;
        return dict_get_key(de);
      }
    }
  }
  return NULL;
}

/* Set while a timer continues an eviction that ran out of time. */
static int eviction_timer_running = 0;

static long long eviction_timer_proc(ae_loop *loop, long long id,
                                     void *client_data) {
  (void)loop;
  (void)id;
  (void)client_data;
  eviction_timer_running = 0;
  if (perform_evictions() == EVICT_RUNNING) {
    if (eviction_timer_running) {
      return AE_NOMORE; /* it created a successor timer */
    }
    /* It could not create one: keep this timer armed instead. */
    eviction_timer_running = 1;
    return 1;
  }
  return AE_NOMORE;
}

/* eviction_cannot_free: nothing (more) can be evicted. The lazy-free
 * thread may still be freeing earlier deletions: wait for it a little,
 * as Redis, before failing. */
static int eviction_cannot_free(void) {
  if (lazyfree_pending_objects() > 0) {
    /* (at most 50 ms: tenacity 100 means "no limit") */
    unsigned long wait_us = eviction_time_limit_us();
    usleep((useconds_t)(wait_us < 50000 ? wait_us : 50000));
    if (eviction_bytes_to_free() == 0) {
      return EVICT_OK;
    }
  }
  return EVICT_FAIL;
}

int perform_evictions(void) {
  if (server.loading || check_clients_pause_timeout()) {
    return EVICT_OK; /* the dataset must not change now */
  }
  size_t to_free = eviction_bytes_to_free();
  if (to_free == 0) {
    return EVICT_OK;
  }
  if (server.maxmemory_policy == MAXMEMORY_NO_EVICTION) {
    return eviction_cannot_free();
  }
  unsigned long time_limit = eviction_time_limit_us();
  long long start = ustime();
  long long freed = 0;
  int keys_freed = 0;
  long long cycle_latency = latency_monitor_start();
  while (freed < (long long)to_free) {
    int dbid = 0;
    sds bestkey = eviction_pick_key(&dbid);
    if (bestkey == NULL) {
      latency_monitor_end("eviction-cycle", cycle_latency);
      return eviction_cannot_free(); /* nothing left to evict */
    }
    redis_db *db = &server.db[dbid];
    robj *keyobj = create_string_object(bestkey, sds_len(bestkey));
    long long before = (long long)zmalloc_used_memory();
    long long del_latency = latency_monitor_start();
    if (server.lazyfree_lazy_eviction) {
      db_async_delete(db, keyobj);
    } else {
      db_sync_delete(db, keyobj);
    }
    latency_monitor_end("eviction-del", del_latency);
    freed += before - (long long)zmalloc_used_memory();
    server.stat_evictedkeys++;
    signal_modified_key(NULL, db, keyobj);
    notify_keyspace_event(NOTIFY_EVICTED, "evicted", keyobj, db->id);
    decr_ref_count(keyobj);
    keys_freed++;
    /* With lazyfree-lazy-eviction the thread frees while we go on and
     * |freed| sees little of it: check the real figure now and then, as
     * Redis, rather than evicting everything. */
    if (keys_freed % 16 == 0 && server.lazyfree_lazy_eviction &&
        eviction_bytes_to_free() == 0) {
      break;
    }
    if (keys_freed % 16 == 0 &&
        (unsigned long)(ustime() - start) > time_limit) {
      /* Out of time: give the event loop a turn and continue from a
       * timer, so memory comes down even if no write command arrives. */
      latency_monitor_end("eviction-cycle", cycle_latency);
      if (eviction_bytes_to_free() == 0) {
        return EVICT_OK;
      }
      if (!eviction_timer_running && server.el != NULL &&
          ae_create_timer(server.el, 0, eviction_timer_proc, NULL) != -1) {
        eviction_timer_running = 1;
      }
      return EVICT_RUNNING;
    }
  }
  latency_monitor_end("eviction-cycle", cycle_latency);
  return eviction_timer_running ? EVICT_RUNNING : EVICT_OK;
}
