/* persist.h: persistence as the server sees it: the commands (SAVE,
 * BGSAVE, DUMP, RESTORE), loading at start-up, save points and the fork
 * child in cron, saving at shutdown, INFO persistence, the MISCONF rule,
 * and the --check-rdb tool. The server (server/server.c) calls these; the
 * file formats are in rdb.h. */
#ifndef REDOUBT_PERSIST_PERSIST_H
#define REDOUBT_PERSIST_PERSIST_H

#include "server/core/server.h"

extern redis_command persist_commands[];

/* persist_init: state and the server's start time as the last save. */
void persist_init(void);
/* persist_load_at_startup loads dir/dbfilename if it exists. C_OK when
 * loaded or absent; C_ERR (logged with file and offset) when the file is
 * there but cannot be loaded: the server must not start (as Redis). */
int persist_load_at_startup(void);
/* persist_cron: reaps a finished child, runs save points and a scheduled
 * BGSAVE. Called from the server's cron. */
void persist_cron(void);
/* persist_prepare_for_shutdown: kills a saving child, saves when save
 * points exist (or SHUTDOWN_SAVE) unless SHUTDOWN_NOSAVE. C_ERR if the
 * save failed and SHUTDOWN_FORCE is not given: the server keeps running. */
int persist_prepare_for_shutdown(int flags);
/* persist_deny_write_reason: the -MISCONF reply object when writes must be
 * refused (stop-writes-on-bgsave-error and the last save failed), NULL
 * otherwise. */
robj *persist_deny_write_error(void);
/* persist_info appends the INFO persistence fields. */
sds persist_info(sds info);
/* persist_debug_reload: DEBUG RELOAD (save, empty, load). C_OK, or C_ERR
 * with |err| set. */
int persist_debug_reload(char *err, size_t err_len);
/* persist_debug_command handles DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE],
 * DIGEST, DIGEST-VALUE and SET-SKIP-CHECKSUM-VALIDATION <0|1>; returns 0
 * for other subcommands (the server registers it as a DEBUG extension). */
int persist_debug_command(client *c);
/* persist_debug_digest handles DEBUG DIGEST and DEBUG DIGEST-VALUE key...
 * (digest.c); returns 0 for other subcommands. */
int persist_debug_digest(client *c);
/* persist_has_active_child: 1 while a BGSAVE child runs. */
int persist_has_active_child(void);

/* ---- for replication (server/repl) ---------------------------------- */
/* persist_fork_repl_child forks the one child (no BGSAVE or rewrite may
 * run) to run |fn|; |keep_fd| stays open in the child (the pipe an RDB
 * goes to). When it is reaped, |done| gets 1 if it exited with C_OK.
 * Returns the pid or -1. */
typedef int persist_repl_child_fn(void *arg);
typedef void persist_repl_done_fn(int ok);
pid_t persist_fork_repl_child(persist_repl_child_fn *fn, void *arg, int keep_fd,
                              persist_repl_done_fn *done);
/* persist_child_active: 1 while any fork child runs. */
int persist_child_active(void);
/* persist_set_loaded_repl_hook: after loading the RDB at start-up,
 * replication learns the history the file carries (repl-id, repl-offset,
 * repl-stream-db aux fields), to resume with a partial resync. */
void persist_set_loaded_repl_hook(void (*fn)(const char *replid,
                                             long long offset, int db));
/* persist_cat_command appends argv as a RESP array (the AOF's and the
 * replication stream's encoding). */
sds persist_cat_command(sds buf, robj **argv, int argc);

/* persist_check_rdb_main: `server --check-rdb FILE` (or the
 * redis-check-rdb name). Returns the process exit status. */
int persist_check_rdb_main(int argc, char **argv);

/* persist_reap_child_now: the child is about to exit (it closed its end of
 * the transfer pipe): reap it now, waiting up to |wait_us| microseconds,
 * instead of at the next cron run (up to 1/hz later). 1 if reaped. */
int persist_reap_child_now(long long wait_us);

#endif
