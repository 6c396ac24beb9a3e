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
extern redis_command memory_commands[]; /* memory_cmds.c: MEMORY */
extern redis_command lolwut_commands[]; /* lolwut.c: LOLWUT */

/* debug_add_extension: a module above handles more DEBUG subcommands
 * (persistence: RELOAD, DIGEST, DIGEST-VALUE, SET-SKIP-CHECKSUM-VALIDATION;
 * replication: CHANGE-REPL-ID): |proc| returns 1 if it replied, 0 if the
 * subcommand is not its own. At most DEBUG_MAX_EXTENSIONS. */
#define DEBUG_MAX_EXTENSIONS 4
typedef int debug_extension_proc(client *c);
void debug_add_extension(debug_extension_proc *proc);

/* MODULE (module_cmds.c): LIST and HELP as Redis with no module loaded;
 * LOAD, LOADEX and UNLOAD refused (see README). */
extern redis_command module_commands[];

/* multi_register registers WATCH's keyspace hooks. */
void multi_register(void);
/* pubsub_register registers the keyspace-notification publisher. */
void pubsub_register(void);

#endif
