/* db.h: databases and the keyspace (db.c), expiry, eviction (evict.c),
 * keyspace notifications and the registrations of the modules above it:
 * object_type_ops and keyspace_hooks (notify.c, object.c). */
#ifndef REDOUBT_CORE_DB_H
#define REDOUBT_CORE_DB_H

#include "server/core/object.h"

/* ------------------------------------------------------------------ */
/* Databases                                                            */
/* ------------------------------------------------------------------ */
typedef struct redis_db {
  dict *dict; /* sds key -> robj* */
  /* "struct dict": in C++ (unit tests) the member above hides the typedef */
  struct dict *expires; /* same sds key -> s64 unix ms */
  struct dict
      *blocking_keys; /* key -> list of blocked clients (data-types issue) */
  struct dict *ready_keys;
  struct dict *watched_keys; /* key -> list of its WATCH entries (multi.c) */
  int id;
  long long avg_ttl;
  unsigned long expires_cursor; /* active expire cycle position */
} redis_db;

/* Lookup flags */
#define LOOKUP_NONE 0
#define LOOKUP_NOTOUCH (1 << 0)  /* do not update LRU */
#define LOOKUP_NONOTIFY (1 << 1) /* no keyspace-miss notification */
#define LOOKUP_NOSTATS (1 << 2)  /* no hits/misses stats */
#define LOOKUP_WRITE (1 << 3)
#define LOOKUP_NOEXPIRE (1 << 4)

/* set_key flags */
#define SETKEY_KEEPTTL 1
#define SETKEY_NO_SIGNAL 2
#define SETKEY_ALREADY_EXIST 4
#define SETKEY_DOESNT_EXIST 8

robj *lookup_key_read(redis_db *db, robj *key);
robj *lookup_key_write(redis_db *db, robj *key);
robj *lookup_key_read_with_flags(redis_db *db, robj *key, int flags);
robj *lookup_key_write_with_flags(redis_db *db, robj *key, int flags);
/* ..._or_reply: when missing, reply |reply| and return NULL. */
robj *lookup_key_read_or_reply(struct client *c, robj *key, robj *reply);
robj *lookup_key_write_or_reply(struct client *c, robj *key, robj *reply);
/* db_add: the key must not exist; takes a reference of val. */
void db_add(redis_db *db, robj *key, robj *val);
/* db_add_rdb_load adds a loaded key without the checks and signals of
 * db_add (no client can wait on it yet): it takes ownership of |key| and
 * of the reference to |val| and returns 1, or returns 0 (owning nothing)
 * when the key exists. */
int db_add_rdb_load(redis_db *db, sds key, robj *val);
/* db_overwrite: the key must exist. */
void db_overwrite(redis_db *db, robj *key, robj *val);
/* set_key: high level set: add or overwrite, remove TTL unless
 * SETKEY_KEEPTTL, signal the key as modified (WATCH). Takes a reference. */
void set_key(struct client *c, redis_db *db, robj *key, robj *val, int flags);
int db_exists(redis_db *db, robj *key);
/* db_delete removes key (and its TTL). Returns 1 if it existed. */
int db_delete(redis_db *db, robj *key);
int db_sync_delete(redis_db *db, robj *key);
int db_async_delete(redis_db *db, robj *key);
/* db_unshare_string_value makes the string at key safe to modify in place
 * (APPEND, SETRANGE). */
robj *db_unshare_string_value(redis_db *db, robj *key, robj *o);
long long empty_data(int dbnum, int async, void(callback)(dict *));
long long db_total_server_key_count(void);
/* A dataset set aside (repl-diskless-load swapdb): db_stash_keyspaces moves
 * every db's keys and expires into a stash and leaves empty ones in place;
 * db_stash_restore puts them back (freeing what is in place), and
 * db_stash_discard frees them. WATCHers are told at both changes. */
typedef struct db_stash db_stash;
db_stash *db_stash_keyspaces(void);
void db_stash_restore(db_stash *s);
void db_stash_discard(db_stash *s);
int select_db(struct client *c, int id); /* C_OK / C_ERR */
robj *db_random_key(redis_db *db);

/* Expiry (unix ms) */
void set_expire(struct client *c, redis_db *db, robj *key, long long when);
long long get_expire(redis_db *db, robj *key); /* -1 if none */
int remove_expire(redis_db *db, robj *key);
/* expire_if_needed deletes key if it is logically expired. Returns 1 if the
 * key is expired (deleted or, on a replica, only reported). */
int expire_if_needed(redis_db *db, robj *key);
int check_already_expired(long long when);
void delete_expired_key_and_propagate(redis_db *db, robj *keyobj);
/* Active expiry: a slow cycle from cron, a fast one before sleep. Both keep
 * a time budget and never scan the whole keyspace at once. */
#define ACTIVE_EXPIRE_CYCLE_SLOW 0
#define ACTIVE_EXPIRE_CYCLE_FAST 1
void active_expire_cycle(int type);

/* Eviction */
#define MAXMEMORY_FLAG_LRU (1 << 0)
#define MAXMEMORY_FLAG_LFU (1 << 1)
#define MAXMEMORY_FLAG_ALLKEYS (1 << 2)
#define MAXMEMORY_VOLATILE_LRU ((0 << 8) | MAXMEMORY_FLAG_LRU)
#define MAXMEMORY_VOLATILE_LFU ((1 << 8) | MAXMEMORY_FLAG_LFU)
#define MAXMEMORY_VOLATILE_TTL (2 << 8)
#define MAXMEMORY_VOLATILE_RANDOM (3 << 8)
#define MAXMEMORY_ALLKEYS_LRU \
  ((4 << 8) | MAXMEMORY_FLAG_LRU | MAXMEMORY_FLAG_ALLKEYS)
#define MAXMEMORY_ALLKEYS_LFU \
  ((5 << 8) | MAXMEMORY_FLAG_LFU | MAXMEMORY_FLAG_ALLKEYS)
#define MAXMEMORY_ALLKEYS_RANDOM ((6 << 8) | MAXMEMORY_FLAG_ALLKEYS)
#define MAXMEMORY_NO_EVICTION (7 << 8)
/* perform_evictions: returns EVICT_OK when under the limit (or after
 * evicting enough), EVICT_FAIL when the limit cannot be met. */
#define EVICT_OK 0
#define EVICT_RUNNING 1
#define EVICT_FAIL 2
int perform_evictions(void);
size_t used_memory(void); /* bytes allocated (malloc_usable_size sum) */
void eviction_pool_alloc(void);
/* dict_expand_allowed_by_maxmemory: an expand_allowed callback for the
 * keyspace dict types: refuses to grow a table (while its load factor is
 * still under 1.618) when the new bucket array would pass maxmemory. */
int dict_expand_allowed_by_maxmemory(size_t more_mem, double used_ratio);

/* Keyspace events (notify-keyspace-events) */
#define NOTIFY_KEYSPACE (1 << 0)  /* K */
#define NOTIFY_KEYEVENT (1 << 1)  /* E */
#define NOTIFY_GENERIC (1 << 2)   /* g */
#define NOTIFY_STRING (1 << 3)    /* $ */
#define NOTIFY_LIST (1 << 4)      /* l */
#define NOTIFY_SET (1 << 5)       /* s */
#define NOTIFY_HASH (1 << 6)      /* h */
#define NOTIFY_ZSET (1 << 7)      /* z */
#define NOTIFY_EXPIRED (1 << 8)   /* x */
#define NOTIFY_EVICTED (1 << 9)   /* e */
#define NOTIFY_STREAM (1 << 10)   /* t */
#define NOTIFY_KEY_MISS (1 << 11) /* m */
#define NOTIFY_LOADED (1 << 12)
#define NOTIFY_MODULE (1 << 13)
#define NOTIFY_NEW (1 << 14) /* n */
#define NOTIFY_ALL                                                           \
  (NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET | NOTIFY_HASH | \
   NOTIFY_ZSET | NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM |           \
   NOTIFY_MODULE) /* A */
/* notify_keyspace_event publishes "__keyspace@<db>__:<key>" and
 * "__keyevent@<db>__:<event>" through the registered publish hook (pub/sub)
 * when the event's class is enabled in notify-keyspace-events. */
void notify_keyspace_event(int type, const char *event, robj *key, int dbid);
int keyspace_events_string_to_flags(const char *classes); /* -1 on error */
sds keyspace_events_flags_to_string(int flags);

/* object_type_ops: what the core needs from the module of a value type
 * other than strings (lists, sets, sorted sets, hashes). Each type module
 * fills one and registers it at start-up (server_register_modules in
 * modules.c, the one place that names every module); object.c and db_cmds.c
 * call through it. Every member must be set. Persistence adds rdb_save,
 * rdb_load, aof_rewrite and digest here. */
typedef struct object_type_ops {
  const char *name;            /* as TYPE replies it */
  void (*free_value)(robj *o); /* release o->ptr (any encoding) */
  robj *(*dup)(robj *o);       /* a deep copy (COPY) */
  /* compute_size estimates o's bytes from |samples| elements (0: all) for
   * MEMORY USAGE and OBJECT. */
  size_t (*compute_size)(robj *o, size_t samples);
  /* free_effort (optional; NULL: 1) estimates the allocations freeing o
   * releases, as Redis's lazyfreeGetFreeEffort (lazyfree.h). */
  size_t (*free_effort)(robj *o);
} object_type_ops;

/* object_register_type makes |ops| (kept by pointer) the operations of
 * |type| (OBJ_LIST..OBJ_HASH, OBJ_STREAM). Registering a type twice panics. */
void object_register_type(int type, const object_type_ops *ops);
/* object_type_ops_of returns the registered operations of |type|; panics
 * if none is registered (a value of that type cannot exist then). */
const object_type_ops *object_type_ops_of(int type);
/* object_types_registered returns 1 once every non-string type has its
 * operations (checked at start-up). */
int object_types_registered(void);

/* keyspace_hooks: modules above the keyspace that react to its changes
 * register one set (any member may be NULL): blocking commands (key_ready),
 * WATCH (key_modified, db_replaced), pub/sub (publish, for keyspace
 * notifications). */
typedef struct keyspace_hooks {
  /* key_ready: a list, sorted set or stream now exists under |key| (db_add,
   * SWAPDB), a stream got entries (XADD), or a stream went away:
   * clients blocked on it may be served. */
  void (*key_ready)(redis_db *db, robj *key, int type);
  /* key_modified: |key| changed (signal_modified_key). */
  void (*key_modified)(redis_db *db, robj *key);
  /* db_replaced: |emptied| is flushed (|replaced_with| NULL) or swapped
   * with |replaced_with| (SWAPDB). */
  void (*db_replaced)(redis_db *emptied, redis_db *replaced_with);
  /* publish: deliver a keyspace notification; returns receivers. */
  int (*publish)(robj *channel, robj *message, int sharded);
} keyspace_hooks;

/* keyspace_register_hooks adds a hook set (kept by pointer; at most
 * KEYSPACE_MAX_HOOKS sets; registering the same set twice is a no-op). */
#define KEYSPACE_MAX_HOOKS 8
void keyspace_register_hooks(const keyspace_hooks *hooks);
/* keyspace_signal_key_ready calls every key_ready hook. */
void keyspace_signal_key_ready(redis_db *db, robj *key, int type);
/* keyspace_has_ready_hooks: is anyone listening for key_ready? */
int keyspace_has_ready_hooks(void);
/* keyspace_signal_db_replaced calls every db_replaced hook. */
void keyspace_signal_db_replaced(redis_db *emptied, redis_db *replaced_with);

/* Modification hooks: WATCH invalidation and blocked-client wakeups plug in
 * here (data-types issue). */
void signal_modified_key(struct client *c, redis_db *db, robj *key);
void signal_flushed_db(int dbid, int async);

#endif
