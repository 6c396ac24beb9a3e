/* pubsub.h: pub/sub module APIs beyond the server.h contract. */
#ifndef REDOUBT_PUBSUB_H
#define REDOUBT_PUBSUB_H

#include "server/core/server.h"

/* pubsub_reject_in_context replies Redis's RESP2 subscribed-mode error and
 * returns 1 when c (subscribed, RESP2) may not run c->cmd; else 0. */
int pubsub_reject_in_context(client *c);
/* pubsub_unsubscribe_all drops every subscription of c (RESET); with
 * notify set the client gets the unsubscribe replies. */
void pubsub_unsubscribe_all(client *c, int notify);
/* Counts for INFO stats. */
long pubsub_total_channels(void);
long pubsub_total_patterns(void);
long pubsub_total_shard_channels(void);

/* pubsub_publish_message delivers |message| to |channel|'s subscribers
 * (PUBLISH, SPUBLISH); returns the number of receivers. */
int pubsub_publish_message(robj *channel, robj *message, int sharded);

#endif
