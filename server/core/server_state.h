/* server_state.h: slowlog, MONITOR, INFO sections, the one server struct
 * and what the core calls upward (server_procs). Ownership: the server
 * struct owns the databases, the client list and the listeners; modules
 * keep their private state in file-static structs. */
#ifndef REDOUBT_CORE_SERVER_STATE_H
#define REDOUBT_CORE_SERVER_STATE_H

#include "server/core/command.h"

/* ------------------------------------------------------------------ */
/* Slowlog, monitor, INFO                                               */
/* ------------------------------------------------------------------ */
void slowlog_init(void);
void slowlog_push_entry_if_needed(client *c, robj **argv, int argc,
                                  long long duration);
void replication_feed_monitors(client *c, list *monitors, int dictid,
                               robj **argv, int argc);
sds gen_redis_info_string(dict *section_dict, int all_sections, int everything);
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
/* Configuration-owned values live in the server struct.                */
/* ------------------------------------------------------------------ */
typedef struct client_buffer_limit {
  unsigned long long hard_limit_bytes;
  unsigned long long soft_limit_bytes;
  time_t soft_limit_seconds;
} client_buffer_limit;
extern const client_buffer_limit
    client_buffer_limits_defaults[CLIENT_TYPE_OBUF_COUNT];

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
  long long stat_sync_full;        /* full resyncs served */
  long long stat_sync_partial_ok;  /* +CONTINUE served */
  long long stat_sync_partial_err; /* PSYNC with an ID/offset refused */
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
  int maxidletime; /* seconds, 0 = never */
  int tcpkeepalive;
  int active_expire_enabled;
  int active_expire_effort;
  int lazyfree_lazy_eviction, lazyfree_lazy_expire, lazyfree_lazy_server_del,
      lazyfree_lazy_user_del, lazyfree_lazy_user_flush;
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
  char *requirepass;  /* kept in sync with the default user (ACL issue) */
  char *acl_filename; /* aclfile ("" = none), acl.c */
  unsigned long acllog_max_len; /* acllog-max-len */
  int acl_pubsub_default;       /* 1 = allchannels for new users */
  int notify_keyspace_events;
  int latency_tracking_enabled;
  size_t tracking_table_max_keys; /* tracking-table-max-keys (tracking.c) */
  char *dir_dummy; /* dir is applied with chdir(); CONFIG GET reads getcwd */
  int io_threads_num;
  /* Encodings thresholds (data-types issue reads them) */
  size_t hash_max_listpack_entries, hash_max_listpack_value;
  size_t set_max_intset_entries, set_max_listpack_entries,
      set_max_listpack_value;
  size_t zset_max_listpack_entries, zset_max_listpack_value;
  int list_max_listpack_size, list_compress_depth;
  size_t hll_sparse_max_bytes;       /* hll-sparse-max-bytes (hyperloglog.c) */
  size_t stream_node_max_bytes;      /* stream-node-max-bytes */
  long long stream_node_max_entries; /* stream-node-max-entries */
  /* Persistence (server/persist) */
  char *rdb_filename;
  int rdb_compression;            /* rdbcompression */
  int rdb_checksum;               /* rdbchecksum */
  int stop_writes_on_bgsave_err;  /* stop-writes-on-bgsave-error */
  int rdb_save_incremental_fsync; /* rdb-save-incremental-fsync */
  long long rdb_key_save_delay;   /* rdb-key-save-delay, microseconds */
  int shutdown_on_sigterm, shutdown_on_sigint; /* SHUTDOWN_* flags */
  char *aof_dirname;                           /* appenddirname */
  int aof_fsync;                               /* appendfsync: AOF_FSYNC_* */
  int aof_use_rdb_preamble;                    /* aof-use-rdb-preamble */
  int aof_load_truncated;                      /* aof-load-truncated */
  int aof_timestamp_enabled;                   /* aof-timestamp-enabled */
  int aof_rewrite_incremental_fsync; /* aof-rewrite-incremental-fsync */
  int aof_disable_auto_gc;           /* aof-disable-auto-gc */
  int aof_no_fsync_on_rewrite;       /* no-appendfsync-on-rewrite */
  int aof_rewrite_perc;              /* auto-aof-rewrite-percentage */
  off_t aof_rewrite_min_size;        /* auto-aof-rewrite-min-size */
  /* Replication, master side (server/repl) */
  int repl_diskless_sync; /* repl-diskless-sync */
  int repl_diskless_load; /* repl-diskless-load (REPL_DISKLESS_LOAD_*) */
#define REPL_DISKLESS_LOAD_DISABLED 0
#define REPL_DISKLESS_LOAD_WHEN_DB_EMPTY 1
#define REPL_DISKLESS_LOAD_SWAPDB 2
  int repl_diskless_sync_delay; /* repl-diskless-sync-delay, seconds */
  int repl_timeout;             /* repl-timeout, seconds */
  int repl_ping_replica_period; /* repl-ping-replica-period, seconds */
  long long repl_backlog_size;  /* repl-backlog-size */
  time_t repl_backlog_ttl;      /* repl-backlog-ttl, seconds; 0: never freed */
  long long master_repl_offset; /* the stream's offset (server/repl keeps it) */
  /* Replication, replica side */
  int replica_mode; /* 1 while replicaof a master (server/repl) */
  char *masterauth, *masteruser;
  int repl_slave_ro;                     /* replica-read-only */
  int repl_serve_stale_data;             /* replica-serve-stale-data */
  int repl_link_up;                      /* the link with the master is up */
  int repl_min_slaves_to_write;          /* min-replicas-to-write */
  int repl_min_slaves_max_lag;           /* min-replicas-max-lag, seconds */
  int rdb_del_sync_files;                /* rdb-del-sync-files */
  int shutdown_timeout;                  /* shutdown-timeout, seconds */
  char *slave_announce_ip;               /* replica-announce-ip */
  int slave_announce_port;               /* replica-announce-port */
  int slave_priority;                    /* replica-priority */
  volatile sig_atomic_t shutdown_signal; /* SIGTERM/SIGINT received */
  int appendonly;
  char *appendfilename;
  long long dirty;
  time_t lastsave;
  /* TLS */
  int tls_replication;
  int tls_cluster;
  int tls_handshake_workers;
  int tls_handshake_timeout; /* ms */
  int tls_max_handshakes_in_flight;
  int tls_max_handshakes_per_ip; /* per source address (0: no limit) */
  int tls_client_hello_timeout;  /* ms */
  int tls_handshaker_nice;       /* added to main's nice for handshakers */
  int sandbox_seccomp;
  char *sandbox_user;
  char *server_user; /* server-user: main drops to it when started as root */
  /* Memory accounting */
  size_t initial_memory_usage;
  int loading;
  /* Scripting (server/scripting) */
  long long busy_reply_threshold; /* busy-reply-threshold (lua-time-limit) */
  /* script_busy: SCRIPT_BUSY_EVAL or SCRIPT_BUSY_FUNCTION while a script runs
   * past busy-reply-threshold: other clients get -BUSY, except for the
   * commands flagged CMD_ALLOW_BUSY (SCRIPT KILL, SHUTDOWN NOSAVE...). */
  int script_busy;
};
#define SCRIPT_BUSY_NONE 0
#define SCRIPT_BUSY_EVAL 1     /* EVAL/EVALSHA: -BUSY names SCRIPT KILL */
#define SCRIPT_BUSY_FUNCTION 2 /* FCALL: -BUSY names FUNCTION KILL */

extern struct redis_server server;

/* server_state.c */
void update_cached_time(void);
extern long long cached_mstime; /* server.mstime: refreshed per command */
extern time_t cached_unixtime;
/* create_shared_objects fills |shared| (start-up, after the config). */
void create_shared_objects(void);
/* multi_flag_transaction marks a client inside MULTI so that EXEC aborts
 * (a command of the transaction was rejected). */
void multi_flag_transaction(client *c);

/* ------------------------------------------------------------------ */
/* Propagation: the write commands, in the order they took effect, to    */
/* the AOF (and replicas when they land).                               */
/* ------------------------------------------------------------------ */
/* A target receives each command (argv as executed, after the command's
 * own rewrites such as EXPIRE -> PEXPIREAT) with the db it ran in. */
typedef void (*propagate_target_proc)(int dbid, robj **argv, int argc);
/* Target kinds: the AOF and the replicas (a script's redis.set_repl sends
 * its commands to one kind only). */
#define PROPAGATE_NONE 0
#define PROPAGATE_AOF 1
#define PROPAGATE_REPL 2
#define PROPAGATE_ALL (PROPAGATE_AOF | PROPAGATE_REPL)
/* propagate_add_target registers a target of |kind| (PROPAGATE_AOF or
 * PROPAGATE_REPL; at most 4 targets). */
void propagate_add_target(propagate_target_proc proc, int kind);
/* also_propagate queues a command (references are taken). call() queues
 * every command that changed the dataset; code that writes outside a
 * command (expiry, serving a blocked client) queues its equivalent. The
 * queue is handed to the targets when the outermost call ends, wrapped in
 * MULTI/EXEC when it holds more than one command, as Redis 7.0 does;
 * outside any call it is handed over at once. Nothing is queued while
 * server.loading is set. */
void also_propagate(int dbid, robj **argv, int argc);
/* also_propagate_to: also_propagate to the targets of |kinds| only
 * (PROPAGATE_* bits). The MULTI/EXEC around a queue goes to every target. */
void also_propagate_to(int dbid, robj **argv, int argc, int kinds);
/* propagate_pending_commands hands the queue over now. */
void propagate_pending_commands(void);

/* server_procs: what the core calls upward. The server (server/server.c,
 * above every module) registers them once at start-up; calling one that was
 * never registered panics. */
typedef struct server_procs {
  /* process_command checks and runs c's parsed command (lookup, arity,
   * authentication, ACL, OOM, MULTI queueing, then call). */
  int (*process_command)(client *c);
  /* prepare_for_shutdown: SHUTDOWN and SIGTERM; C_OK when the process may
   * exit. */
  int (*prepare_for_shutdown)(int flags);
  /* info_persistence appends INFO's persistence fields. */
  sds (*info_persistence)(sds info);
  /* info_replication appends INFO's replication fields. */
  sds (*info_replication)(sds info);
  /* info_scripting_memory appends INFO memory's Lua and functions fields
   * (used_memory_lua ... used_memory_scripts_human). */
  sds (*info_scripting_memory)(sds info);
} server_procs;
void server_set_procs(const server_procs *procs);
int prepare_for_shutdown(int flags);
sds info_persistence_fields(sds info);
sds info_replication_fields(sds info);
sds info_scripting_memory_fields(sds info);
#define SHUTDOWN_NOFLAGS 0
#define SHUTDOWN_SAVE 1
#define SHUTDOWN_NOSAVE 2
#define SHUTDOWN_NOW 4
#define SHUTDOWN_FORCE 8
/* Listeners (listeners.c): one path for start-up and CONFIG SET bind, port
 * and tls-port. */
#define LISTENER_TCP 0 /* port: server.ipfd */
#define LISTENER_TLS 1 /* tls-port: server.tlsfd, accepted in the 2nd pass */
#define LISTENER_KINDS 2
/* listener_set_accept_handler: who accepts on |kind| (networking's
 * accept_tcp_handler, tls's tls_accept_handler); the server registers both
 * at start-up. */
void listener_set_accept_handler(int kind, ae_file_proc *proc);
/* listener_open binds |port| (0: none) on server.bindaddr for |kind| and
 * watches the sockets (TLS ones in the loop's second pass), replacing the
 * kind's current sockets only on success. C_OK, or C_ERR (logged) with the
 * current sockets untouched. */
int listener_open(int kind, int port);
void close_listening_sockets(int unlink_unix_socket);
/* File descriptors (listeners.c). Every connection holds one, and
 * maxclients is the budget: connected clients and connections accepted but
 * not yet clients (TLS handshakes in flight, counted by the registered
 * preauth ops) together. adjust_open_files_limit raises RLIMIT_NOFILE to
 * maxclients + CONFIG_MIN_RESERVED_FDS at start-up, or lowers maxclients
 * to what the limit allows (Redis's adjustOpenFilesLimit and its log
 * lines); exits if not even the reserve fits. */
void adjust_open_files_limit(void);
/* listener_set_preauth_ops: how many connections are held before they
 * become clients, and how to close the one that has made no progress for
 * the longest (NULL members: none). */
void listener_set_preauth_ops(int (*count)(void), int (*evict_idle)(void));
/* listener_admit: may a new connection become a client when |clients| are
 * connected? Counts the held connections too, and evicts an idle one if
 * that makes room. 1: yes; 0: the caller refuses it (maxclients). */
int listener_admit(unsigned long clients);
/* listener_accept_starved: accept(2) failed with |err| (EMFILE/ENFILE):
 * every listener is unwatched for LISTENER_STARVED_PAUSE_MS, then watched
 * again, instead of being woken at once for the same pending connection;
 * logged once when it starts, then at most once per
 * LISTENER_STARVED_LOG_MS while it lasts, and when it ends. */
void listener_accept_starved(int err);
long long get_instantaneous_metric(long long *samples);

/* Misc */
void bytes_to_human(char *s, size_t size, unsigned long long n);

#endif
