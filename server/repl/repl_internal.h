/* repl_internal.h: what the master side (repl_master.c) and the replica
 * side (repl_replica.c) share inside the package. */
#ifndef REDOUBT_REPL_INTERNAL_H
#define REDOUBT_REPL_INTERNAL_H

#include "server/core/server.h"

/* The master side's replication ID and offset follow the master this
 * server replicates (after a full sync), or get a new ID (REPLICAOF NO
 * ONE). */
void repl_master_set_id(const char *replid, long long offset);
void repl_master_new_id(void);
/* repl_master_feed_raw: bytes of the master's stream, relayed verbatim to
 * this replica's own replicas and backlog (offsets stay the master's). */
void repl_master_feed_raw(const char *p, size_t len);
/* repl_master_shift_id: REPLICAOF NO ONE: the old ID becomes the second
 * one, valid up to the current offset (PSYNC2), and a new ID starts. */
void repl_master_shift_id(void);
/* repl_master_adopt_id: as shift, to the given new ID (a master's +CONTINUE
 * with a new ID). repl_master_id: the current ID. */
void repl_master_adopt_id(const char *replid);
const char *repl_master_id(void);
/* repl_replica_proxy_flush relays the master bytes applied so far. */
void repl_replica_proxy_flush(void);
/* repl_replica_stream_db: the db the master's stream has selected. */
int repl_replica_stream_db(void);
/* repl_master_drop_replicas disconnects this server's own replicas (it
 * starts following another history). */
void repl_master_drop_replicas(void);
/* replica_view: one of this server's replicas as ROLE shows it. */
typedef struct replica_view {
  char ip[64];          /* the announced ip-address, else the peer's */
  int port;             /* its listening-port */
  long long ack_offset; /* the last REPLCONF ACK */
  int online;           /* receives the stream (INFO state=online) */
} replica_view;
/* repl_master_replica_view fills |out| with the |i|-th replica (from 0,
 * INFO's order); 0 when there are not that many. */
int repl_master_replica_view(int i, replica_view *out);

/* FAILOVER (repl_failover.c) */
/* repl_failover_command: FAILOVER [TO host port [FORCE]] [ABORT]
 * [TIMEOUT ms] (repl_commands[]). */
void repl_failover_command(client *c);
/* repl_failover_cron: timeouts, and the hand-over once the target caught
 * up or the failover's outcome is known. Called first thing in repl_cron. */
void repl_failover_cron(void);
/* repl_failover_state_name: INFO's master_failover_state (no-failover,
 * waiting-for-sync, failover-in-progress). */
const char *repl_failover_state_name(void);
/* repl_failover_active: a failover is under way (this master refuses
 * SYNC and PSYNC from replicas meanwhile). */
int repl_failover_active(void);
/* repl_failover_holds_pings: the master sends no PING to its replicas
 * (a failover with a TIMEOUT waits with writes paused, as Redis). */
int repl_failover_holds_pings(void);
/* repl_failover_take_over: PSYNC <replid> <offset> FAILOVER from this
 * replica's master: C_OK once this server was promoted (the PSYNC then
 * continues as any other); C_ERR with the error replied otherwise. */
int repl_failover_take_over(client *c);
/* repl_failover_psync_begin: called by the handshake before it sends
 * PSYNC (|continuing|: it asks to continue a history). 1: add FAILOVER;
 * 0: a plain PSYNC; -1: the failover was aborted and this server is a
 * master again (the link is gone, send nothing). */
int repl_failover_psync_begin(int continuing);
/* repl_failover_psync_outcome: the target answered the PSYNC (|accepted|:
 * +CONTINUE or +FULLRESYNC). Returns 1 when the failover was aborted (this
 * server is a master again and the link is gone), else 0. */
int repl_failover_psync_outcome(int accepted);
/* repl_failover_write_error: the PSYNC FAILOVER could not be written. */
void repl_failover_write_error(void);

/* Replica side */
/* repl_replica_save_info: the master's history as this replica knows it
 * (for the RDB aux fields); 0 when it has none. */
int repl_replica_save_info(char *replid, long long *offset, int *db);
/* repl_replica_set_cache: a history from the RDB at start-up: the first
 * PSYNC asks to continue it. */
void repl_replica_set_cache(const char *replid, long long offset, int db);
void repl_replica_init(void);
void repl_replica_cron(void);
/* repl_replica_getack: REPLCONF GETACK from the master: ACK now. */
void repl_replica_send_ack(void);
/* repl_replica_offset: the master offset applied so far. */
long long repl_replica_offset(void);
sds repl_replica_info(sds info);
/* repl_replica_role: ROLE's reply on a replica. */
void repl_replica_role(client *c);
/* repl_replica_failover_role: FAILOVER's role changes. With a host: this
 * master becomes a replica of host:port and asks to continue its own
 * history (PSYNC <its replid> <its offset + 1>). NULL: a replica becomes
 * a master as REPLICAOF NO ONE makes it (the promoted target; a failover
 * aborted after the hand-over). */
void repl_replica_failover_role(const char *host, int port);

#endif
