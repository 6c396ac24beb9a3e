/* client_cmds.h: the connection commands (CLIENT, HELLO, AUTH, ...). */
#ifndef REDOUBT_CLIENT_CMDS_H
#define REDOUBT_CLIENT_CMDS_H

#include "server/core/server.h"

#endif
