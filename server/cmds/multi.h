/* multi.h: transactions (MULTI/EXEC/WATCH) beyond the server.h contract. */
#ifndef REDOUBT_MULTI_H
#define REDOUBT_MULTI_H

#include "server/core/server.h"

/* multi_queue_if_needed queues c's command and replies +QUEUED when c is
 * inside MULTI and the command is not one that runs immediately; returns 1
 * if the command was queued (or rejected as such), else 0. */
int multi_queue_if_needed(client *c);
/* multi_discard_and_unwatch leaves MULTI and UNWATCHes (RESET). */
void multi_discard_and_unwatch(client *c);

#endif
