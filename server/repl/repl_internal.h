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
