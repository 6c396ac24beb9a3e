/* persist_internal.h: what persist.c (RDB, the fork child) and aof.c share
 * inside the package. */
#ifndef REDOUBT_PERSIST_INTERNAL_H
#define REDOUBT_PERSIST_INTERNAL_H

#include <sys/types.h>

#include "server/core/server.h"
#include "server/persist/rio.h"

/* One fork child at a time, as Redis: a BGSAVE or an AOF rewrite. */
#define CHILD_NONE 0
#define CHILD_RDB 1
#define CHILD_AOF 2
#define CHILD_REPL 3 /* an RDB for replicas (server/repl) */

/* child_fn runs in the child (every inherited fd but stdio closed) and
 * returns C_OK or C_ERR, the child's exit status. */
typedef int persist_child_fn(void *arg);
/* persist_fork_child starts a child of |type|. Returns its pid, or -1
 * (logged) when fork fails or a child already runs. */
pid_t persist_fork_child(int type, persist_child_fn *fn, void *arg);
int persist_child_type(void);
pid_t persist_child_pid(void);
/* persist_child_pid_last: the pid of the child reaped last. */
pid_t persist_child_pid_last(void);
/* persist_kill_child kills a running child (SIGUSR1), waits for it and
 * forgets it without calling its done handler. */
void persist_kill_child(void);

/* aof.c */
#define AOF_OFF 0
#define AOF_ON 1
#define AOF_WAIT_REWRITE 2
/* aof_state: AOF_OFF / AOF_ON / AOF_WAIT_REWRITE. */
int aof_state(void);
/* aof_init: appendonly from the config decides the start state. */
void aof_init(void);
/* aof_load_at_startup loads the AOF (manifest, base, incr files; an old
 * single appendonly.aof is upgraded) and opens it for appending. C_ERR
 * (logged) when it cannot be loaded: the server must not start. */
int aof_load_at_startup(void);
/* aof_rewrite_done: the rewrite child exited with |status|; |cow| bytes
 * were copied on write. */
void aof_rewrite_done(int status, size_t cow);
/* aof_cron: scheduled or automatic rewrites, fsync every second. */
void aof_cron(void);
/* aof_prepare_for_shutdown: write and fsync what is pending. */
void aof_prepare_for_shutdown(void);
/* aof_start_rewrite: BGREWRITEAOF. C_OK when the child started. */
int aof_start_rewrite(void);
/* aof_write_error: the error of the last failed write, or NULL. */
const char *aof_write_error(void);
sds aof_info(sds info);
/* aof_rewrite_scheduled: set when BGREWRITEAOF waits for a BGSAVE. */
void aof_schedule_rewrite(void);
int aof_rewrite_is_scheduled(void);

/* persist_cat_bulk appends |o| as a RESP bulk string (aof.c). */
sds persist_cat_bulk(sds buf, robj *o);
/* aof_rewrite_rio writes the dataset as commands: SELECT, one command per
 * key (split every AOF_REWRITE_ITEMS_PER_CMD items), PEXPIREAT
 * (aof_rewrite.c). Returns 1, or 0 on a write error. */
int aof_rewrite_rio(rio *r);

#endif
