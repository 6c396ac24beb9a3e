/* command.h: command flags, ACL categories, the command table (commands.c)
 * and running one command (call, server_state.c). */
#ifndef REDOUBT_CORE_COMMAND_H
#define REDOUBT_CORE_COMMAND_H

#include "server/core/reply.h"

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
/* Never propagated itself (EXEC: its commands are, wrapped in MULTI/EXEC). */
#define CMD_NO_PROPAGATE (1ULL << 27)

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

/* The core's own tables (each terminated by {0}); the modules declare
 * theirs in their package headers and server/modules.c lists them all. */
extern redis_command command_commands[]; /* commands.c: COMMAND */
extern redis_command slowlog_commands[]; /* slowlog.c: SLOWLOG */

/* populate_command_table adds every command of |tables| (|count| tables,
 * each terminated by {0}) to server.commands (created if NULL). */
void populate_command_table(redis_command *const *tables, size_t count);
redis_command *lookup_command(robj **argv, int argc); /* handles subcmds */
redis_command *lookup_command_by_cstring(const char *s);
redis_command *lookup_command_or_original(robj **argv, int argc);
int get_keys_from_command(redis_command *cmd, robj **argv, int argc,
                          get_keys_result *result);
void get_keys_free_result(get_keys_result *result);
/* get_keys_from_command_with_specs: key positions with key-spec flags
 * (KSPEC_*), as COMMAND GETKEYS and ACL use them. */
int get_keys_from_command_with_specs(redis_command *cmd, robj **argv, int argc,
                                     get_keys_result *result);
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
/* A script's redis.set_repl: the command's effects skip the AOF / the
 * replicas (server_state.h's PROPAGATE_* target kinds). */
#define CMD_CALL_NO_PROPAGATE_AOF (1 << 2)
#define CMD_CALL_NO_PROPAGATE_REPL (1 << 3)
void call(client *c, int flags);
/* call_error_attributed: the last error reply was already counted against
 * a command (a script's refused command, counted as rejected), so the
 * command running now (EVAL) does not fail for it. */
void call_error_attributed(void);
/* process_command: checks (auth, arity, OOM, pause, MULTI queueing) then
 * call(). Returns C_OK if the client is still valid. */
int process_command(client *c);
void reply_to_command_not_found(client *c); /* "unknown command" text */

#endif
