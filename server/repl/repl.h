/* repl.h: replication, master side: replicas (Redis or Redoubt) connect
 * as clients, over TCP or TLS like any client, and sync with PSYNC: a
 * partial resync from the backlog (+CONTINUE) or a full one (+FULLRESYNC
 * and an RDB streamed diskless, "$EOF:<mark>" framed, from a fork child
 * through a pipe: the child never touches a connection, TLS or not), then
 * the command stream. REPLCONF, ROLE, INFO replication, FAILOVER
 * (repl_failover.c). */
#ifndef REDOUBT_REPL_REPL_H
#define REDOUBT_REPL_REPL_H

#include "server/core/server.h"

extern redis_command repl_commands[];
/* REPLICAOF and SLAVEOF (repl_replica.c). */
extern redis_command repl_replica_commands[];

/* Parsers of what a master sends a replica (repl_replica.c; fuzzed by
 * tests/fuzz/repl_reply_fuzz.c). */
#define REPL_PSYNC_FULL 1     /* +FULLRESYNC <replid> <offset> */
#define REPL_PSYNC_CONTINUE 2 /* +CONTINUE [<replid>] */
#define REPL_PSYNC_ERROR 3    /* anything else */
/* repl_parse_psync_reply: |replid| (41 bytes) gets the ID ("" for a
 * +CONTINUE without one), *offset the FULLRESYNC offset. */
int repl_parse_psync_reply(const char *line, char *replid, long long *offset);
/* repl_parse_bulk_header parses "$EOF:<40 bytes>" (1, mark filled) or
 * "$<len>" (2, *size set); 0 if it is neither. */
int repl_parse_bulk_header(const char *line, size_t len, char *mark,
                           long long *size);
/* repl_track_eof_mark keeps in |last| (40 bytes) the last 40 bytes of a
 * transfer read in chunks: after a chunk |buf| of |n| bytes, an $EOF:
 * transfer is complete when |last| equals its mark (and at least 40 bytes
 * came). */
void repl_track_eof_mark(char *last, const char *buf, size_t n);

/* repl_init: a replication ID, the propagation target, client hooks. */
void repl_init(void);
/* repl_cron: once per cron run (pings, timeouts, delayed transfers). */
void repl_cron(void);
/* repl_before_sleep: resumes an RDB transfer paused for flow control. */
void repl_before_sleep(void);
/* repl_enough_good_replicas: 0 when min-replicas-to-write is set and
 * fewer replicas than that acked within min-replicas-max-lag (writes are
 * then refused with -NOREPLICAS, as Redis). */
int repl_enough_good_replicas(void);
/* repl_shutdown_wait: before a shutdown (not NOW), writes are paused and
 * the replicas get up to shutdown-timeout seconds to acknowledge the whole
 * stream, as Redis 7.0 does; a lagging one is logged. */
void repl_shutdown_wait(int flags);
/* repl_info appends INFO replication's fields. */
sds repl_info(sds info);
/* repl_debug_command handles DEBUG CHANGE-REPL-ID (a new replication ID,
 * the second one cleared, as Redis); returns 0 for other subcommands (the
 * server registers it as a DEBUG extension). */
int repl_debug_command(client *c);

#endif
