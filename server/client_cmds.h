/* client_cmds.h: hooks the connection commands offer to other modules. */
#ifndef REDOUBT_CLIENT_CMDS_H
#define REDOUBT_CLIENT_CMDS_H

#include "server.h"

/* client_unblock_proc unblocks |target| (which has CLIENT_BLOCKED): with
 * |with_error| it replies "-UNBLOCKED client unblocked via CLIENT UNBLOCK",
 * otherwise the command's timeout reply. Returns 1 if it was unblocked, 0
 * if this kind of blocking cannot be interrupted. */
typedef int (*client_unblock_proc)(client *target, int with_error);

/* client_register_unblock_handler: the blocking module registers how
 * CLIENT UNBLOCK interrupts a blocked client. Until then CLIENT UNBLOCK
 * answers 0 (no client can be blocked). */
void client_register_unblock_handler(client_unblock_proc proc);

#endif
