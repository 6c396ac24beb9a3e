/* lazyfree.h: freeing big values and emptied databases in a background
 * thread (Redis 7.0's lazyfree.c and its BIO_LAZY_FREE thread).
 *
 * UNLINK, FLUSHALL/FLUSHDB ASYNC and the lazyfree-lazy-* settings route
 * their frees through here (db.c). A value goes to the thread when freeing
 * it costs more than LAZYFREE_THRESHOLD allocations (lazyfree_free_effort)
 * and nothing else holds it; an emptied database always does. INFO shows
 * lazyfree_pending_objects (queued, not yet freed) and lazyfreed_objects
 * (freed by the thread since start or CONFIG RESETSTAT).
 *
 * Threading: only the main thread calls these functions. The thread frees
 * what it is handed and nothing else; used_memory is an atomic counter
 * (zmalloc.c), so it comes down as the thread works. */
#ifndef REDOUBT_CORE_LAZYFREE_H
#define REDOUBT_CORE_LAZYFREE_H

#include <stddef.h>

#include "server/core/object.h"
#include "server/ds/dict.h"

/* Redis's LAZYFREE_THRESHOLD: a value whose free effort is at most this is
 * freed at once (the hand-over would cost more than it saves). */
#define LAZYFREE_THRESHOLD 64

/* lazyfree_free_effort estimates how many allocations freeing |o| releases,
 * as Redis: a list's quicklist nodes, a hash table's or skiplist's
 * elements, a stream's radix tree nodes plus its groups' PELs; 1 for a
 * string or a compact (listpack, intset) encoding. */
size_t lazyfree_free_effort(robj *o);

/* lazyfree_release_value drops the reference to |o| a database held (the
 * caller already unlinked it): in the background thread when its effort
 * is above LAZYFREE_THRESHOLD and that reference is the only one, at once
 * otherwise. */
void lazyfree_release_value(robj *o);

/* lazyfree_release_keyspace frees a database's key dict and expires dict
 * (swapped out of the database by the caller) in the background thread,
 * counting dict_size(|keys|) pending objects. The thread gets them once
 * the command running now has returned, so that values its arguments
 * still reference (SET in the same MULTI, a script) are released by the
 * main thread first. Without an event loop they are freed at once. */
void lazyfree_release_keyspace(dict *keys, dict *expires);

/* lazyfree_pending_objects: objects handed over and not yet freed. */
size_t lazyfree_pending_objects(void);
/* lazyfree_freed_objects: objects the thread freed since start or the
 * last lazyfree_reset_stats (CONFIG RESETSTAT). */
size_t lazyfree_freed_objects(void);
void lazyfree_reset_stats(void);

#endif
