/* client.h: the client struct and its lifecycle (networking.c,
 * client_info.c). */
#ifndef REDOUBT_CORE_CLIENT_H
#define REDOUBT_CORE_CLIENT_H

#include "server/core/db.h"

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
/* Client-side caching (tracking.c), Redis's bits */
#define CLIENT_TRACKING_BROKEN_REDIR (1ULL << 32) /* redirect client gone */
#define CLIENT_TRACKING_BCAST (1ULL << 33)
#define CLIENT_TRACKING_OPTIN (1ULL << 34)
#define CLIENT_TRACKING_OPTOUT (1ULL << 35)
#define CLIENT_TRACKING_CACHING (1ULL << 36) /* CLIENT CACHING given */
#define CLIENT_TRACKING_NOLOOP (1ULL << 37)
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
  size_t qb_pos; /* bytes of querybuf already consumed */
  size_t querybuf_peak;
  int argc;
  robj **argv;
  int argv_len;        /* allocated slots in argv */
  size_t argv_len_sum; /* sum of argument lengths (memory accounting) */
  int original_argc;   /* before a command rewrites its argv */
  robj **original_argv;
  struct redis_command *cmd, *lastcmd, *realcmd;
  struct user *user;
  int reqtype;
  int multibulklen; /* arguments left to read */
  long bulklen;     /* length of the bulk being read, -1 if none */
  /* Output: first the static buffer, then a list of blocks. */
  list *reply;                    /* client_reply_block* */
  unsigned long long reply_bytes; /* bytes in the reply list */
  size_t sentlen; /* bytes of the current buffer/block already sent */
  size_t bufpos;
  size_t buf_usable_size;
  char *buf;
  time_t ctime;               /* creation, seconds */
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
  size_t buf_peak;        /* CLIENT LIST rbp: peak bufpos, reset every 5 s */
  long long buf_peak_last_reset_time; /* ms */
  void *repl;     /* replica state while c is a replica (server/repl) */
  long long woff; /* replication offset after c's last write (WAIT) */
  /* Client-side caching (tracking.c): the REDIRECT client id (0: none)
   * and the BCAST prefixes (NULL: none). */
  uint64_t tracking_redirect;
  struct tracking_prefix_set *tracking_prefixes;
} client;

/* Client lifecycle (networking.c) */
client *create_client(connection *conn); /* conn may be NULL (fake) */
void free_client(client *c);
void free_client_async(client *c);
void free_clients_in_async_free_queue(void);
void reset_client(client *c); /* prepare for the next command */
void free_client_argv(client *c);
/* free_client_original_argv drops the argv kept for SLOWLOG and MONITOR
 * (redacted or rewritten arguments); call() does it after each command. */
void free_client_original_argv(client *c);
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
/* rewrite_client_command_argument replaces argument |i| with |val| (a
 * reference is taken), or appends it when i == c->argc. */
void rewrite_client_command_argument(client *c, int i, robj *val);
void replace_client_command_vector(client *c, int argc, robj **argv);
/* redact_client_command_argument shows argument |index| of the current
 * command as "(redacted)" in SLOWLOG and MONITOR (which read
 * original_argv); the command itself still sees the real value. */
void redact_client_command_argument(client *c, int index);
void pause_clients(long long end_ms, int write_only);
void unpause_clients(void);
int are_clients_paused(void);
int check_clients_pause_timeout(void);
void process_events_while_blocked(void);
/* protect_client: while |c| runs a long command that processes events (a
 * busy script), it is neither read from nor written to, and freeing it is
 * deferred; unprotect_client undoes it and schedules its pending replies. */
void protect_client(client *c);
void unprotect_client(client *c);

#endif
