/* server.h: the whole core layer's interface in one include, for the
 * modules above it (acl, types, cmds, config, the server). Each part has its
 * own header, each including the one before:
 *
 *   defs.h -> object.h -> db.h -> client.h -> reply.h -> command.h ->
 *   server_state.h
 *
 * Code that needs only part of the core includes that part. */
#ifndef REDOUBT_SERVER_H
#define REDOUBT_SERVER_H

#include "server/core/server_state.h"

#endif
