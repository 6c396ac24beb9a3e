/* cmds.h: the commands package (server/cmds): keyspace, server, client,
 * transaction, pub/sub and DEBUG commands. The public interface for the
 * layers above: command tables and registration functions. */
#ifndef REDOUBT_CMDS_CMDS_H
#define REDOUBT_CMDS_CMDS_H

#include "server/core/server.h"

/* Command tables, each terminated by {0}. */
extern redis_command keyspace_commands[]; /* db_cmds.c */
extern redis_command server_commands[]; /* server_cmds.c: PING ECHO INFO ... */
extern redis_command client_commands[]; /* client_cmds.c: CLIENT HELLO AUTH
                                             SELECT QUIT RESET MONITOR */
extern redis_command multi_commands[];  /* multi.c */
extern redis_command pubsub_commands[]; /* pubsub.c */
extern redis_command debug_commands[];  /* debug.c: DEBUG */
extern redis_command sort_commands[];   /* sort.c: SORT SORT_RO */

/* debug_set_extension: a module above (persistence) handles more DEBUG
 * subcommands (RELOAD, DIGEST, DIGEST-VALUE): |proc| returns 1 if it
 * replied, 0 if the subcommand is not its own. */
typedef int debug_extension_proc(client *c);
void debug_set_extension(debug_extension_proc *proc);

/* multi_register registers WATCH's keyspace hooks. */
void multi_register(void);
/* pubsub_register registers the keyspace-notification publisher. */
void pubsub_register(void);

#endif
