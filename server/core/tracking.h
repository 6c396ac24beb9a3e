/* tracking.h: client-side caching (CLIENT TRACKING), after Redis 7.0's
 * tracking.c.
 *
 * Two tables, global to the server (not per database, as in Redis):
 *   - the tracking table: key name -> ids of the clients that read it in
 *     default (non-BCAST) mode and may cache it. A modified, expired,
 *     evicted or flushed key is sent to those clients once, then forgotten;
 *   - the prefix table (BCAST mode): prefix -> its clients and the keys
 *     under it modified since the last broadcast, sent before the event loop
 *     sleeps.
 * Invalidations go to the tracking client as a RESP3 push (">2 invalidate
 * [keys]", a null for a flush), or to its REDIRECT client: as a push if that
 * one speaks RESP3, as a __redis__:invalidate Pub/Sub message if it speaks
 * RESP2 and is subscribed to something.
 *
 * Clients are referred to by id in the tracking table: a client that goes
 * away is dropped lazily, when one of its keys is next invalidated. Nothing
 * here is allocated until a client first enables tracking. */
#ifndef REDOUBT_CORE_TRACKING_H
#define REDOUBT_CORE_TRACKING_H

#include "server/core/client.h"

/* tracking_enable turns tracking on for |c| (or changes its options while
 * it is on): |options| is a mask of CLIENT_TRACKING_BCAST, _OPTIN, _OPTOUT
 * and _NOLOOP; |redirect_to| the client id invalidations go to (0: c
 * itself); |prefixes| (BCAST only, |count| of them, possibly 0 meaning the
 * empty prefix) are added to c's. The caller has validated the options
 * (tracking_check_prefixes_or_reply for the prefixes). */
void tracking_enable(client *c, uint64_t redirect_to, uint64_t options,
                     robj **prefixes, size_t count);
/* tracking_disable turns tracking off for |c|: its BCAST prefixes are
 * released; its entries in the tracking table are left to go lazily. */
void tracking_disable(client *c);
/* tracking_check_prefixes_or_reply returns 1 if no two of |prefixes|, and
 * none of them and one of c's current prefixes, overlap (one a prefix of
 * the other); otherwise replies Redis's error naming the first overlap and
 * returns 0. */
int tracking_check_prefixes_or_reply(client *c, robj **prefixes, size_t count);
/* tracking_client_prefixes returns c's BCAST prefixes in byte order
 * (*out_count of them; NULL when it has none). Valid until c's tracking
 * state next changes. */
const sds *tracking_client_prefixes(client *c, size_t *out_count);

/* tracking_command_executed: call() calls it after every command. If the
 * command was read-only and its client (for a script: the client running
 * the script, whose declared keys are then remembered) tracks keys in
 * default mode, the command's keys are remembered for it (OPTIN/OPTOUT and
 * CLIENT CACHING decide). Cheap when no client tracks. */
void tracking_command_executed(client *c);
/* tracking_client_reset: reset_client calls it before a client's next
 * command: CLIENT CACHING applies to the next command (or transaction). */
void tracking_client_reset(client *c);
/* tracking_client_freed: free_client calls it. */
void tracking_client_freed(client *c);

/* tracking_invalidate_key: |key| was modified (by |c|, NULL when not by a
 * client: expiry, eviction). Its tracking clients are told; with |bcast|
 * it is also queued for the BCAST clients of the matching prefixes. */
void tracking_invalidate_key(client *c, robj *key, int bcast);
/* tracking_invalidate_keys_on_flush: a database was flushed: every
 * tracking client gets a null invalidation, and the tracking table is
 * emptied. */
void tracking_invalidate_keys_on_flush(int async);

/* tracking_handle_pending_invalidations sends the invalidations that were
 * held back because their client was running the command that caused them
 * (they follow its reply, as in Redis). call() sends them when the
 * outermost command ends; networking before each command and before
 * sleeping. */
void tracking_handle_pending_invalidations(void);
/* tracking_broadcast_invalidation_messages sends the BCAST invalidations
 * gathered since the last call (networking, before sleeping). */
void tracking_broadcast_invalidation_messages(void);
/* tracking_limit_used_slots forgets random keys of the tracking table
 * (invalidating them) while it holds more than tracking-table-max-keys;
 * the effort grows while a run ends over the limit. Runs before each
 * client command and from a timer at server.hz while clients track. */
void tracking_limit_used_slots(void);

/* Counters (INFO): clients with tracking on, keys in the tracking table,
 * client ids across those keys, BCAST prefixes. */
unsigned long tracking_clients_count(void);
unsigned long long tracking_total_keys(void);
unsigned long long tracking_total_items(void);
unsigned long long tracking_total_prefixes(void);

#endif
