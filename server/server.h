/* server.h: the shared core of the Redoubt server: objects, databases,
 * clients, commands, the reply API and the one server struct.
 *
 * Ownership: the server struct (server.c) owns the databases, the client
 * list and the listeners. Modules keep their private state in file-static
 * structs and expose functions declared in their own header or below.
 *
 * Reference semantics: Redis 7.0. Reply and error texts must match it byte
 * for byte. */
#ifndef REDOUBT_SERVER_H
#define REDOUBT_SERVER_H

#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "ae.h"
#include "conn.h"
#include "dict.h"
#include "list.h"
#include "sds.h"
#include "util.h"
#include "tls/options.h"

struct client; /* defined below; used by prototypes before it */

#define REDOUBT_VERSION "7.0.15"  /* the Redis version we are compatible with */
#define REDOUBT_OWN_VERSION "0.1.0"

/* ------------------------------------------------------------------ */
/* Limits and defaults                                                  */
/* ------------------------------------------------------------------ */
#define CONFIG_DEFAULT_HZ 10
#define CONFIG_MAX_HZ 500
#define CONFIG_DEFAULT_SERVER_PORT 6379
#define CONFIG_DEFAULT_TCP_BACKLOG 511
#define CONFIG_DEFAULT_MAX_CLIENTS 10000
#define CONFIG_DEFAULT_DBNUM 16
#define CONFIG_BINDADDR_MAX 16
#define CONFIG_MIN_RESERVED_FDS 32
#define CONFIG_RUN_ID_SIZE 40

#define PROTO_IOBUF_LEN (1024 * 16)      /* read size per read() call */
#define PROTO_REPLY_CHUNK_BYTES (16 * 1024)
#define PROTO_INLINE_MAX_SIZE (1024 * 64) /* max inline request line */
#define PROTO_MBULK_BIG_ARG (1024 * 32)
#define PROTO_MAX_MULTIBULK_LEN (1024 * 1024) /* max argc per request */
#define PROTO_DEFAULT_MAX_BULK_LEN (512LL * 1024 * 1024)
#define PROTO_DEFAULT_QUERYBUF_LIMIT (1024LL * 1024 * 1024)
#define PROTO_REPLY_MIN_BYTES (1024)
#define NET_MAX_WRITES_PER_EVENT (1024 * 64)
#define MAX_ACCEPTS_PER_CALL 1000 /* per-wakeup accept budget */
#define MAX_KEYS_BUFFER 256

/* Log levels */
#define LL_DEBUG 0
#define LL_VERBOSE 1
#define LL_NOTICE 2
#define LL_WARNING 3
#define LL_RAW (1 << 10)
#define LOG_MAX_LEN 1024

/* ------------------------------------------------------------------ */
/* Objects                                                              */
/* ------------------------------------------------------------------ */
#define OBJ_STRING 0
#define OBJ_LIST 1
#define OBJ_SET 2
#define OBJ_ZSET 3
#define OBJ_HASH 4

/* Encodings, numbered as Redis does (OBJECT ENCODING prints the names). */
#define OBJ_ENCODING_RAW 0
#define OBJ_ENCODING_INT 1
#define OBJ_ENCODING_HT 2
#define OBJ_ENCODING_INTSET 6
#define OBJ_ENCODING_SKIPLIST 7
#define OBJ_ENCODING_EMBSTR 8
#define OBJ_ENCODING_QUICKLIST 9
#define OBJ_ENCODING_LISTPACK 11

#define LRU_BITS 24
#define LRU_CLOCK_MAX ((1 << LRU_BITS) - 1)
#define LRU_CLOCK_RESOLUTION 1000 /* ms */
#define OBJ_SHARED_REFCOUNT INT_MAX
#define OBJ_SHARED_INTEGERS 10000
#define OBJ_ENCODING_EMBSTR_SIZE_LIMIT 44

typedef struct robj {
  unsigned type : 4;
  unsigned encoding : 4;
  unsigned lru : LRU_BITS; /* LRU clock, or LFU data (16 bit time, 8 bit
                              counter) */
  int refcount;
  void *ptr; /* sds for RAW/EMBSTR strings, (long) value for INT */
} robj;

robj *create_object(int type, void *ptr);
robj *create_string_object(const char *ptr, size_t len); /* embstr or raw */
robj *create_raw_string_object(const char *ptr, size_t len);
robj *create_embedded_string_object(const char *ptr, size_t len);
robj *create_string_object_from_long_long(long long value); /* shared ints */
robj *create_string_object_from_long_long_for_value(long long value);
robj *create_string_object_from_long_double(long double value, int humanfriendly);
robj *dup_string_object(const robj *o);
robj *try_object_encoding(robj *o); /* may return another object */
robj *get_decoded_object(robj *o);  /* refcount+1, raw/embstr form */
void incr_ref_count(robj *o);
void decr_ref_count(robj *o);
void decr_ref_count_void(void *o);
robj *make_object_shared(robj *o);
size_t string_object_len(robj *o);
int compare_string_objects(robj *a, robj *b);
int equal_string_objects(robj *a, robj *b);
/* get_*_from_object_or_reply reply "-ERR value is not an integer or out of
 * range" (or |msg|) and return -1 (C_ERR) on failure, 0 on success. */
int get_long_long_from_object(robj *o, long long *target);
int get_long_long_from_object_or_reply(struct client *c, robj *o,
                                       long long *target, const char *msg);
int get_long_from_object_or_reply(struct client *c, robj *o, long *target,
                                  const char *msg);
int get_range_long_from_object_or_reply(struct client *c, robj *o, long min,
                                        long max, long *target,
                                        const char *msg);
int get_positive_long_from_object_or_reply(struct client *c, robj *o,
                                           long *target, const char *msg);
int get_int_from_object_or_reply(struct client *c, robj *o, int *target,
                                 const char *msg);
int get_double_from_object(const robj *o, double *target);
int get_double_from_object_or_reply(struct client *c, robj *o, double *target,
                                    const char *msg);
int get_long_double_from_object(robj *o, long double *target);
int get_long_double_from_object_or_reply(struct client *c, robj *o,
                                         long double *target, const char *msg);
const char *str_encoding(int encoding);
const char *type_name(robj *o); /* "string", "list", ... as TYPE replies */
int check_type(struct client *c, robj *o, int type); /* 1 + WRONGTYPE reply */
size_t object_compute_size(robj *o, size_t samples); /* approx bytes */
/* Free-method used by the keyspace dict for values. */
void dict_object_destructor(void *val);

#define sds_encoded_object(objptr)                    \
  ((objptr)->encoding == OBJ_ENCODING_RAW ||          \
   (objptr)->encoding == OBJ_ENCODING_EMBSTR)

/* LRU/LFU */
unsigned int lru_clock(void);
unsigned long long estimate_object_idle_time(robj *o); /* ms */
void update_lfu(robj *o);
unsigned long lfu_decr_and_return(robj *o);

/* ------------------------------------------------------------------ */
/* Databases                                                            */
/* ------------------------------------------------------------------ */
typedef struct redis_db {
  dict *dict;    /* sds key -> robj* */
  /* "struct dict": in C++ (unit tests) the member above hides the typedef */
  struct dict *expires; /* same sds key -> s64 unix ms */
  struct dict *blocking_keys; /* key -> list of blocked clients (data-types issue) */
  struct dict *ready_keys;
  struct dict *watched_keys;  /* key -> list of clients WATCHing it */
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
#define NOTIFY_KEYSPACE (1 << 0) /* K */
#define NOTIFY_KEYEVENT (1 << 1) /* E */
#define NOTIFY_GENERIC (1 << 2)  /* g */
#define NOTIFY_STRING (1 << 3)   /* $ */
#define NOTIFY_LIST (1 << 4)     /* l */
#define NOTIFY_SET (1 << 5)      /* s */
#define NOTIFY_HASH (1 << 6)     /* h */
#define NOTIFY_ZSET (1 << 7)     /* z */
#define NOTIFY_EXPIRED (1 << 8)  /* x */
#define NOTIFY_EVICTED (1 << 9)  /* e */
#define NOTIFY_STREAM (1 << 10)  /* t */
#define NOTIFY_KEY_MISS (1 << 11) /* m */
#define NOTIFY_LOADED (1 << 12)
#define NOTIFY_MODULE (1 << 13)
#define NOTIFY_NEW (1 << 14) /* n */
#define NOTIFY_ALL                                                    \
  (NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET |        \
   NOTIFY_HASH | NOTIFY_ZSET | NOTIFY_EXPIRED | NOTIFY_EVICTED |      \
   NOTIFY_STREAM | NOTIFY_MODULE) /* A */
/* notify_keyspace_event publishes when enabled; a no-op until pub/sub
 * exists (data-types issue) except for the flags bookkeeping. */
void notify_keyspace_event(int type, const char *event, robj *key, int dbid);
int keyspace_events_string_to_flags(const char *classes); /* -1 on error */
sds keyspace_events_flags_to_string(int flags);

/* Type-module hooks (t_list.c, t_set.c, t_zset.c, t_hash.c define them).
 * object.c / db.c call them through weak references, so each may be
 * missing until its type lands: free_* when the refcount reaches 0, *_dup
 * for COPY, type_object_compute_size for non-string sizes (MEMORY USAGE,
 * OBJECT), signal_key_as_ready when db_add creates a list/zset key. */
void free_list_object(robj *o);
void free_set_object(robj *o);
void free_zset_object(robj *o);
void free_hash_object(robj *o);
robj *list_type_dup(robj *o);
robj *set_type_dup(robj *o);
robj *zset_type_dup(robj *o);
robj *hash_type_dup(robj *o);
size_t type_object_compute_size(robj *o, size_t samples);
void signal_key_as_ready(redis_db *db, robj *key, int type);
/* handle_clients_blocked_on_keys serves the clients blocked on the keys
 * signalled ready (blocked.c); process_command calls it after call(). */
void handle_clients_blocked_on_keys(void);
/* Pub/sub and WATCH define these; notify_keyspace_event, signal_modified_key
 * and signal_flushed_db call them through weak references. */
int pubsub_publish_message(robj *channel, robj *message, int sharded);
void touch_watched_key(redis_db *db, robj *key);
void touch_all_watched_keys_in_db(redis_db *emptied, redis_db *replaced_with);

/* Modification hooks: WATCH invalidation and blocked-client wakeups plug in
 * here (data-types issue). */
void signal_modified_key(struct client *c, redis_db *db, robj *key);
void signal_flushed_db(int dbid, int async);

/* ------------------------------------------------------------------ */
/* Clients                                                              */
/* ------------------------------------------------------------------ */
/* Client flags */
#define CLIENT_SLAVE (1ULL << 0)
#define CLIENT_MASTER (1ULL << 1)
#define CLIENT_MONITOR (1ULL << 2)
#define CLIENT_MULTI (1ULL << 3)
#define CLIENT_BLOCKED (1ULL << 4)
#define CLIENT_DIRTY_CAS (1ULL << 5)
#define CLIENT_CLOSE_AFTER_REPLY (1ULL << 6)
#define CLIENT_UNBLOCKED (1ULL << 7)
#define CLIENT_SCRIPT (1ULL << 8)
#define CLIENT_ASKING (1ULL << 9)
#define CLIENT_CLOSE_ASAP (1ULL << 10)
#define CLIENT_UNIX_SOCKET (1ULL << 11)
#define CLIENT_DIRTY_EXEC (1ULL << 12)
#define CLIENT_MASTER_FORCE_REPLY (1ULL << 13)
#define CLIENT_FORCE_AOF (1ULL << 14)
#define CLIENT_FORCE_REPL (1ULL << 15)
#define CLIENT_PRE_PSYNC (1ULL << 16)
#define CLIENT_READONLY (1ULL << 17)
#define CLIENT_PUBSUB (1ULL << 18)
#define CLIENT_PREVENT_AOF_PROP (1ULL << 19)
#define CLIENT_PREVENT_REPL_PROP (1ULL << 20)
#define CLIENT_PENDING_WRITE (1ULL << 21)
#define CLIENT_REPLY_OFF (1ULL << 22)
#define CLIENT_REPLY_SKIP_NEXT (1ULL << 23)
#define CLIENT_REPLY_SKIP (1ULL << 24)
#define CLIENT_LUA_DEBUG (1ULL << 25)
#define CLIENT_PROTECTED (1ULL << 28)
#define CLIENT_PENDING_COMMAND (1ULL << 30)
#define CLIENT_TRACKING (1ULL << 31)
#define CLIENT_IN_TO_TABLE (1ULL << 38)
#define CLIENT_NO_EVICT (1ULL << 43)
#define CLIENT_CLOSE_AFTER_COMMAND (1ULL << 40)
#define CLIENT_AUTHENTICATED (1ULL << 44)
#define CLIENT_EXECUTING_COMMAND (1ULL << 46)

/* Request types */
#define PROTO_REQ_INLINE 1
#define PROTO_REQ_MULTIBULK 2

/* Client classes for client-output-buffer-limit */
#define CLIENT_TYPE_NORMAL 0
#define CLIENT_TYPE_SLAVE 1
#define CLIENT_TYPE_PUBSUB 2
#define CLIENT_TYPE_MASTER 3
#define CLIENT_TYPE_COUNT 4
#define CLIENT_TYPE_OBUF_COUNT 3

typedef struct client_reply_block {
  size_t size, used;
  char buf[];
} client_reply_block;

struct redis_command;
struct user;

typedef struct multi_state multi_state; /* transactions issue */

typedef struct client {
  uint64_t id;
  uint64_t flags;
  connection *conn;
  int resp; /* 2 or 3 */
  redis_db *db;
  robj *name; /* CLIENT SETNAME */
  sds querybuf;
  size_t qb_pos;          /* bytes of querybuf already consumed */
  size_t querybuf_peak;
  int argc;
  robj **argv;
  int argv_len;            /* allocated slots in argv */
  size_t argv_len_sum;     /* sum of argument lengths (memory accounting) */
  int original_argc;       /* before a command rewrites its argv */
  robj **original_argv;
  struct redis_command *cmd, *lastcmd, *realcmd;
  struct user *user;
  int reqtype;
  int multibulklen; /* arguments left to read */
  long bulklen;     /* length of the bulk being read, -1 if none */
  /* Output: first the static buffer, then a list of blocks. */
  list *reply;            /* client_reply_block* */
  unsigned long long reply_bytes; /* bytes in the reply list */
  size_t sentlen;         /* bytes of the current buffer/block already sent */
  size_t bufpos;
  size_t buf_usable_size;
  char *buf;
  time_t ctime;              /* creation, seconds */
  long long last_interaction; /* ms, for timeout */
  long long obuf_soft_limit_reached_time;
  long duration; /* microseconds of the current blocking / command */
  int authenticated;
  int slot;
  list_node *client_list_node;   /* in server.clients */
  list_node *pending_write_node; /* in server.clients_pending_write */
  list_node *close_asap_node;
  multi_state *mstate;
  void *bstate;          /* blocking state (data-types issue) */
  dict *pubsub_channels; /* pub/sub (data-types issue) */
  dict *pubsub_patterns;
  dict *pubsub_shard_channels;
  list *watched_keys;
  sds peerid;
  sds sockname;
  char lib_name_ver[64];
  size_t last_memory_usage;
  int last_memory_type;
  uint64_t commands_processed;
  unsigned long long net_input_bytes, net_output_bytes;
  long long paused_until; /* unused when not paused */
  size_t buf_peak; /* CLIENT LIST rbp: peak bufpos, reset every 5 s */
  long long buf_peak_last_reset_time; /* ms */
} client;

/* Client lifecycle (networking.c) */
client *create_client(connection *conn); /* conn may be NULL (fake) */
void free_client(client *c);
void free_client_async(client *c);
void free_clients_in_async_free_queue(void);
void reset_client(client *c); /* prepare for the next command */
void free_client_argv(client *c);
int process_input_buffer(client *c);
int handle_clients_with_pending_writes(void);
int write_to_client(client *c, int handler_installed);
void unlink_client(client *c);
int client_has_pending_replies(client *c);
void close_timedout_clients_step(void);
int client_type(client *c);
const char *client_type_name(int class_);
int client_type_by_name(const char *name);
sds cat_client_info_string(sds s, client *c); /* one CLIENT LIST line */
sds get_all_clients_info_string(int type);
void client_accept_handler(connection *conn);
void accept_tcp_handler(ae_loop *el, int fd, void *privdata, int mask);
/* accept_common_handler wraps an accepted connection of any type
 * (TCP or TLS) into a client, enforcing maxclients. */
void accept_common_handler(connection *conn, int flags, const char *ip);
size_t get_client_output_buffer_memory_usage(client *c);
int check_client_output_buffer_limits(client *c);
void close_client_on_output_buffer_limit_reached(client *c, int async);
void rewrite_client_command_vector(client *c, int argc, ...);
void replace_client_command_vector(client *c, int argc, robj **argv);
void pause_clients(long long end_ms, int write_only);
void unpause_clients(void);
int are_clients_paused(void);
int check_clients_pause_timeout(void);
void process_events_while_blocked(void);

/* ------------------------------------------------------------------ */
/* Reply API (networking.c). All functions append to c's output; errors   */
/* get "-ERR " prepended unless the text starts with '-'.                */
/* ------------------------------------------------------------------ */
void add_reply(client *c, robj *obj);
void add_reply_sds(client *c, sds s); /* takes ownership of s */
void add_reply_proto(client *c, const char *s, size_t len);
void add_reply_bulk(client *c, robj *obj);
void add_reply_bulk_cbuffer(client *c, const void *p, size_t len);
void add_reply_bulk_sds(client *c, sds s); /* takes ownership */
void add_reply_bulk_cstring(client *c, const char *s); /* NULL => null */
void add_reply_bulk_long_long(client *c, long long ll);
void add_reply_long_long(client *c, long long ll);
void add_reply_double(client *c, double d);   /* RESP3 ',' or bulk */
void add_reply_human_long_double(client *c, long double d);
void add_reply_null(client *c);      /* $-1 / _ */
void add_reply_null_array(client *c); /* *-1 / _ */
void add_reply_bool(client *c, int b); /* :1/:0 or #t/#f */
void add_reply_array_len(client *c, long length);
void add_reply_map_len(client *c, long length);  /* *2n in RESP2 */
void add_reply_set_len(client *c, long length);  /* * in RESP2 */
void add_reply_attribute_len(client *c, long length);
void add_reply_push_len(client *c, long length); /* * in RESP2 */
void add_reply_status(client *c, const char *status); /* +status */
void add_reply_status_length(client *c, const char *s, size_t len);
void add_reply_error(client *c, const char *err);
void add_reply_error_length(client *c, const char *s, size_t len);
void add_reply_error_sds(client *c, sds err); /* takes ownership */
void add_reply_error_format(client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void add_reply_error_object(client *c, robj *err);
void add_reply_error_arity(client *c);   /* wrong number of arguments */
void add_reply_error_expire_time(client *c);
void add_reply_verbatim(client *c, const char *s, size_t len, const char *ext);
void add_reply_help(client *c, const char **help); /* NULL terminated */
void add_reply_subcommand_syntax_error(client *c);
void add_reply_big_num(client *c, const char *num, size_t len);
/* Deferred lengths: reserve a slot, fill it later. */
void *add_reply_deferred_len(client *c);
void set_deferred_array_len(client *c, void *node, long length);
void set_deferred_map_len(client *c, void *node, long length);
void set_deferred_set_len(client *c, void *node, long length);
void set_deferred_push_len(client *c, void *node, long length);
void set_deferred_attribute_len(client *c, void *node, long length);
void set_deferred_reply_status(client *c, void *node, const char *s);
/* Count of error replies (INFO errorstats / total_error_replies). */
void after_error_reply(client *c, const char *s, size_t len);

/* Shared objects (server.c creates them at startup). */
struct shared_objects {
  robj *crlf, *ok, *err, *emptybulk, *czero, *cone, *pong, *space, *queued,
      *null[4], *nullarray[4], *emptymap[4], *emptyset[4], *emptyarray,
      *wrongtypeerr, *nokeyerr, *syntaxerr, *sameobjecterr, *outofrangeerr,
      *noscripterr, *loadingerr, *slowevalerr, *slowscripterr, *bgsaveerr,
      *masterdownerr, *roslaveerr, *execaborterr, *noautherr, *noreplicaserr,
      *busykeyerr, *oomerr, *plus, *messagebulk, *pmessagebulk,
      *subscribebulk, *unsubscribebulk, *psubscribebulk, *punsubscribebulk,
      *del, *unlink, *rpop, *lpop, *lpush, *rpush, *rpoplpush, *lmove,
      *blmove, *zpopmin, *zpopmax, *emptyscan, *multi, *exec, *left, *right,
      *hset, *srem, *xgroup, *xclaim, *script, *replconf, *eval, *persist,
      *set, *pexpireat, *pexpire, *time, *pxat, *absttl, *retrycount, *force,
      *justid, *entriesread, *lastid, *ping, *setid, *keepttl, *load,
      *createconsumer, *getack, *special_asterick, *special_equals,
      *default_username, *redacted, *ssubscribebulk, *sunsubscribebulk,
      *smessagebulk, *select[10], *integers[OBJ_SHARED_INTEGERS],
      *mbulkhdr[32], /* "*<n>\r\n" */
      *bulkhdr[32],  /* "$<n>\r\n" */
      *maphdr[32],   /* "%<n>\r\n" */
      *sethdr[32];   /* "~<n>\r\n" */
  sds minstring, maxstring;
};
extern struct shared_objects shared;

/* ------------------------------------------------------------------ */
/* Commands                                                             */
/* ------------------------------------------------------------------ */
#define C_OK 0
#define C_ERR -1

/* Command flags (the names COMMAND INFO prints are in commands.c) */
#define CMD_WRITE (1ULL << 0)
#define CMD_READONLY (1ULL << 1)
#define CMD_DENYOOM (1ULL << 2)
#define CMD_MODULE (1ULL << 3)
#define CMD_ADMIN (1ULL << 4)
#define CMD_PUBSUB (1ULL << 5)
#define CMD_NOSCRIPT (1ULL << 6)
#define CMD_BLOCKING (1ULL << 8)
#define CMD_LOADING (1ULL << 9)
#define CMD_STALE (1ULL << 10)
#define CMD_SKIP_MONITOR (1ULL << 11)
#define CMD_SKIP_SLOWLOG (1ULL << 12)
#define CMD_ASKING (1ULL << 13)
#define CMD_FAST (1ULL << 14)
#define CMD_NO_AUTH (1ULL << 15)
#define CMD_MAY_REPLICATE (1ULL << 16)
#define CMD_SENTINEL (1ULL << 17)
#define CMD_ONLY_SENTINEL (1ULL << 18)
#define CMD_NO_MANDATORY_KEYS (1ULL << 19)
#define CMD_PROTECTED (1ULL << 20)
#define CMD_NO_ASYNC_LOADING (1ULL << 23)
#define CMD_NO_MULTI (1ULL << 24)
#define CMD_MOVABLE_KEYS (1ULL << 25)
#define CMD_ALLOW_BUSY (1ULL << 26)

/* ACL categories */
#define ACL_CATEGORY_KEYSPACE (1ULL << 0)
#define ACL_CATEGORY_READ (1ULL << 1)
#define ACL_CATEGORY_WRITE (1ULL << 2)
#define ACL_CATEGORY_SET (1ULL << 3)
#define ACL_CATEGORY_SORTEDSET (1ULL << 4)
#define ACL_CATEGORY_LIST (1ULL << 5)
#define ACL_CATEGORY_HASH (1ULL << 6)
#define ACL_CATEGORY_STRING (1ULL << 7)
#define ACL_CATEGORY_BITMAP (1ULL << 8)
#define ACL_CATEGORY_HYPERLOGLOG (1ULL << 9)
#define ACL_CATEGORY_GEO (1ULL << 10)
#define ACL_CATEGORY_STREAM (1ULL << 11)
#define ACL_CATEGORY_PUBSUB (1ULL << 12)
#define ACL_CATEGORY_ADMIN (1ULL << 13)
#define ACL_CATEGORY_FAST (1ULL << 14)
#define ACL_CATEGORY_SLOW (1ULL << 15)
#define ACL_CATEGORY_BLOCKING (1ULL << 16)
#define ACL_CATEGORY_DANGEROUS (1ULL << 17)
#define ACL_CATEGORY_CONNECTION (1ULL << 18)
#define ACL_CATEGORY_TRANSACTION (1ULL << 19)
#define ACL_CATEGORY_SCRIPTING (1ULL << 20)

typedef void redis_command_proc(client *c);

/* get_keys_result: positions of keys in argv (COMMAND GETKEYS, ACL). */
typedef struct key_reference {
  int pos;
  int flags;
} key_reference;
typedef struct get_keys_result {
  key_reference keysbuf[MAX_KEYS_BUFFER];
  key_reference *keys;
  int numkeys;
  int size;
} get_keys_result;
typedef int redis_get_keys_proc(struct redis_command *cmd, robj **argv,
                                int argc, get_keys_result *result);

/* One entry of a command table. Tables are arrays terminated by an entry
 * whose name is NULL; each module exports its own (see commands.c). */
typedef struct redis_command {
  /* Declared */
  const char *declared_name; /* lower case: "get", or "list" for a sub */
  const char *summary;
  const char *since;
  const char *group; /* "string", "generic", "server", "connection", ... */
  redis_command_proc *proc;
  int arity; /* -N: at least N */
  uint64_t flags;
  uint64_t acl_categories;
  /* Legacy key specification: first, last (-1 = last arg, -2 = ...), step.
   * 0,0,0 = no keys. */
  int firstkey, lastkey, keystep;
  redis_get_keys_proc *getkeys_proc; /* movable keys, or NULL */
  struct redis_command *subcommands; /* NULL-terminated array or NULL */
  /* Runtime */
  sds fullname; /* "get" or "config|get" */
  struct redis_command *parent;
  dict *subcommands_dict;
  long long microseconds, calls, rejected_calls, failed_calls;
  int id;
} redis_command;

/* Module tables (each terminated by {0}). */
extern redis_command string_commands[];   /* t_string.c */
extern redis_command zset_commands[];     /* t_zset.c */
extern redis_command hash_commands[];     /* t_hash.c */
extern redis_command set_commands[];      /* t_set.c */
extern redis_command list_commands[];     /* t_list.c */
extern redis_command pubsub_commands[];   /* pubsub.c */
extern redis_command multi_commands[];    /* multi.c */
extern redis_command acl_commands[];      /* acl.c: ACL (partial) */
extern redis_command slowlog_commands[];  /* slowlog.c: SLOWLOG */
extern redis_command debug_commands[];    /* debug.c: DEBUG */
extern redis_command keyspace_commands[]; /* db.c */
extern redis_command server_commands[];   /* server_cmds.c: ping echo info ... */
extern redis_command config_commands[];   /* config.c: CONFIG */
extern redis_command client_commands[];   /* client_cmds.c: CLIENT HELLO AUTH
                                             SELECT QUIT RESET MONITOR */

/* commands.c */
void populate_command_table(void);
redis_command *lookup_command(robj **argv, int argc); /* handles subcmds */
redis_command *lookup_command_by_cstring(const char *s);
redis_command *lookup_command_or_original(robj **argv, int argc);
int get_keys_from_command(redis_command *cmd, robj **argv, int argc,
                          get_keys_result *result);
void get_keys_free_result(get_keys_result *result);
/* get_keys_from_command_with_specs: key positions with key-spec flags
 * (KSPEC_*), as COMMAND GETKEYS and ACL use them. */
int get_keys_from_command_with_specs(redis_command *cmd, robj **argv,
                                     int argc, get_keys_result *result);
/* get_keys_prepare_result: for getkeys procs; get_keys_from_command has
 * initialised |result|. Grows it to hold |numkeys| keys, returns keys[]. */
key_reference *get_keys_prepare_result(get_keys_result *result, int numkeys);
void add_reply_command_info(client *c, redis_command *cmd);
void add_reply_command_docs(client *c, redis_command *cmd);
sds cat_command_flags(sds s, uint64_t flags);
void reset_command_table_stats(dict *commands);
int is_container_command(redis_command *cmd);

/* server.c: command dispatch */
/* call flags */
#define CMD_CALL_NONE 0
#define CMD_CALL_SLOWLOG (1 << 0)
#define CMD_CALL_STATS (1 << 1)
#define CMD_CALL_FULL (CMD_CALL_SLOWLOG | CMD_CALL_STATS)
void call(client *c, int flags);
/* process_command: checks (auth, arity, OOM, pause, MULTI queueing) then
 * call(). Returns C_OK if the client is still valid. */
int process_command(client *c);
void reply_to_command_not_found(client *c); /* "unknown command" text */

/* ------------------------------------------------------------------ */
/* Slowlog, monitor, INFO                                               */
/* ------------------------------------------------------------------ */
void slowlog_init(void);
void slowlog_push_entry_if_needed(client *c, robj **argv, int argc,
                                  long long duration);
void replication_feed_monitors(client *c, list *monitors, int dictid,
                               robj **argv, int argc);
sds gen_redis_info_string(dict *section_dict, int all_sections,
                          int everything);
/* Extra INFO sections provided by other modules (tls, sandbox): a module
 * registers a generator for a section name. |name| is matched
 * case-insensitively ("INFO tls"); INFO prints the header "# Tls" (first
 * letter upper-cased) and the proc appends only "field:value\r\n" lines.
 * Shown by INFO all/everything, by name, and by default if in_default.
 * |name| must stay valid (a literal). At most 16 sections. */
typedef sds (*info_section_proc)(sds info);
void info_register_section(const char *name, info_section_proc proc,
                           int in_default);

/* ------------------------------------------------------------------ */
/* Logging (log.c)                                                      */
/* ------------------------------------------------------------------ */
void server_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void server_log_raw(int level, const char *msg);
/* security_log: one greppable line per security event:
 *   "security event=<name> key=value ..." at notice level. */
void security_log(const char *event, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define server_assert(_e)                                              \
  ((_e) ? (void)0                                                      \
        : (server_assert_failed(#_e, __FILE__, __LINE__), abort()))
void server_assert_failed(const char *estr, const char *file, int line);
void server_panic_impl(const char *file, int line, const char *msg, ...);
#define server_panic(...) server_panic_impl(__FILE__, __LINE__, __VA_ARGS__)

/* ------------------------------------------------------------------ */
/* Configuration-owned values live in the server struct.                */
/* ------------------------------------------------------------------ */
typedef struct client_buffer_limit {
  unsigned long long hard_limit_bytes;
  unsigned long long soft_limit_bytes;
  time_t soft_limit_seconds;
} client_buffer_limit;
extern const client_buffer_limit client_buffer_limits_defaults[CLIENT_TYPE_OBUF_COUNT];

/* tls_options and TLS_CLIENT_AUTH_* live in tls/options.h (included
 * above). */

/* Slowlog entry */
typedef struct slowlog_entry {
  robj **argv;
  int argc;
  long long id;
  long long duration;
  time_t time;
  sds cname;
  sds peerid;
} slowlog_entry;

struct redis_server {
  /* General */
  pid_t pid;
  char *configfile; /* absolute path, or NULL */
  char *executable; /* absolute path of the binary (handshaker exec) */
  char **exec_argv;
  int hz;
  int config_hz;
  int dynamic_hz;
  redis_db *db;
  dict *commands;      /* name -> redis_command*, top level */
  dict *orig_commands; /* before renames */
  ae_loop *el;
  unsigned int lruclock;
  volatile sig_atomic_t shutdown_asap;
  int shutdown_flags;
  int activerehashing;
  char runid[CONFIG_RUN_ID_SIZE + 1];
  char *pidfile;
  int daemonize;
  int supervised;
  int arch_bits;
  long long cronloops;
  int in_nested_call;
  int sentinel_mode;
  /* Networking */
  int port;
  int tls_port;
  int tcp_backlog;
  char *bindaddr[CONFIG_BINDADDR_MAX];
  int bindaddr_count;
  int ipfd[CONFIG_BINDADDR_MAX * 2];
  int ipfd_count;
  int tlsfd[CONFIG_BINDADDR_MAX * 2];
  int tlsfd_count;
  char *unixsocket;
  list *clients;
  list *clients_to_close;
  list *clients_pending_write;
  list *monitors;
  client *current_client;
  client *executing_client;
  dict *clients_index; /* id -> client (rax in Redis) */
  long long clients_pause_end_time;
  int client_pause_type; /* 0 none, 1 write, 2 all */
  uint64_t next_client_id;
  int protected_mode;
  /* Stats */
  time_t stat_starttime;
  long long stat_numcommands;
  long long stat_numconnections;
  long long stat_expiredkeys;
  double stat_expired_stale_perc;
  long long stat_expired_time_cap_reached_count;
  long long stat_expire_cycle_time_used;
  long long stat_evictedkeys;
  long long stat_evictedclients;
  long long stat_total_eviction_exceeded_time;
  long long stat_keyspace_hits;
  long long stat_keyspace_misses;
  long long stat_rejected_conn;
  long long stat_net_input_bytes;
  long long stat_net_output_bytes;
  long long stat_unexpected_error_replies;
  long long stat_total_error_replies;
  long long stat_dump_payload_sanitizations;
  long long stat_io_reads_processed;
  long long stat_io_writes_processed;
  long long stat_total_reads_processed;
  long long stat_total_writes_processed;
  long long stat_client_qbuf_limit_disconnections;
  long long stat_client_outbuf_limit_disconnections;
  long long stat_peak_memory;
  long long stat_numconnections_tls;
  dict *errors; /* error prefix -> count (errorstats) */
  /* instantaneous metrics: ops/sec sampled in cron */
  long long inst_metric_last_sample_time;
  long long inst_metric_last_sample_count;
  long long inst_metric_samples[16];
  int inst_metric_idx;
  long long inst_net_in_last, inst_net_out_last;
  long long inst_net_in_samples[16], inst_net_out_samples[16];
  /* Slowlog */
  list *slowlog;
  long long slowlog_entry_id;
  long long slowlog_log_slower_than;
  unsigned long slowlog_max_len;
  /* Configuration */
  int verbosity;
  char *logfile;
  int syslog_enabled;
  int maxidletime; /* seconds, 0 = never */
  int tcpkeepalive;
  int active_expire_enabled;
  int active_expire_effort;
  int lazyfree_lazy_eviction, lazyfree_lazy_expire,
      lazyfree_lazy_server_del, lazyfree_lazy_user_del,
      lazyfree_lazy_user_flush;
  int dbnum;
  unsigned int maxclients;
  unsigned long long maxmemory;
  int maxmemory_policy;
  int maxmemory_samples;
  int maxmemory_eviction_tenacity;
  int lfu_log_factor;
  int lfu_decay_time;
  long long proto_max_bulk_len;
  unsigned long long client_max_querybuf_len;
  client_buffer_limit client_obuf_limits[CLIENT_TYPE_OBUF_COUNT];
  char *requirepass; /* kept in sync with the default user (ACL issue) */
  char *acl_filename;             /* aclfile ("" = none), acl.c */
  unsigned long acllog_max_len;   /* acllog-max-len */
  int acl_pubsub_default;         /* 1 = allchannels for new users */
  int notify_keyspace_events;
  int latency_tracking_enabled;
  char *dir_dummy; /* dir is applied with chdir(); CONFIG GET reads getcwd */
  int io_threads_num;
  /* Encodings thresholds (data-types issue reads them) */
  size_t hash_max_listpack_entries, hash_max_listpack_value;
  size_t set_max_intset_entries, set_max_listpack_entries,
      set_max_listpack_value;
  size_t zset_max_listpack_entries, zset_max_listpack_value;
  int list_max_listpack_size, list_compress_depth;
  /* Persistence (persistence issue) */
  char *rdb_filename;
  int appendonly;
  char *appendfilename;
  long long dirty;
  time_t lastsave;
  /* TLS */
  tls_options tls;
  int tls_replication;
  int tls_cluster;
  int tls_handshake_workers;
  int tls_handshake_timeout; /* ms */
  int tls_max_handshakes_in_flight;
  int tls_handshaker_nice; /* added to main's nice for handshakers */
  int sandbox_seccomp;
  char *sandbox_user;
  /* Memory accounting */
  size_t initial_memory_usage;
  int loading;
};

extern struct redis_server server;

/* server.c helpers */
void update_cached_time(void);
void server_init_for_tests(void); /* in-process server, no listeners */
extern long long cached_mstime; /* server.mstime: refreshed per command */
extern time_t cached_unixtime;
int prepare_for_shutdown(int flags);
#define SHUTDOWN_NOFLAGS 0
#define SHUTDOWN_SAVE 1
#define SHUTDOWN_NOSAVE 2
#define SHUTDOWN_NOW 4
#define SHUTDOWN_FORCE 8
int listen_to_port(int port, int *fds, int *count);
/* open_listeners: the one way listeners come up (start-up and CONFIG SET
 * port / tls-port / bind): binds |port| (0: none) on server.bindaddr,
 * watches every socket with |accept_handler| (TLS listeners in the loop's
 * second pass). Returns C_OK, or C_ERR with nothing left open. */
int open_listeners(int port, int *fds, int *count,
                   ae_file_proc *accept_handler);
void close_listening_sockets(int unlink_unix_socket);
/* change_listen_port: CONFIG SET port / tls-port */
int change_listen_port(int port, int *fds, int *count, ae_file_proc *accept_handler);
long long get_instantaneous_metric(long long *samples);
/* server_tls_host is what tls/ needs from the server (log, security log,
 * accepted connections, the tls-* tunables, the executable path); a
 * static struct, valid for the process's lifetime. */
const struct tls_host *server_tls_host(void);

/* Misc */
void bytes_to_human(char *s, size_t size, unsigned long long n);

#endif
