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

#endif
