/* blocked.h: the generic framework for commands that block a client on
 * keys until another client makes one of them ready (BLPOP, BLMOVE,
 * BLMPOP, BZPOPMIN, BZMPOP ...).
 *
 * How a blocking command uses it:
 *   1. Parse the timeout with blocking_get_timeout_or_reply().
 *   2. Try to serve the request right away. If no key can serve it and
 *      blocking_is_denied(c) (MULTI/EXEC, scripts, fake clients), reply the
 *      timeout reply (null array) instead of blocking.
 *   3. Otherwise call block_for_keys() with a serve callback and the
 *      request's state (privdata). The client gets CLIENT_BLOCKED and reads
 *      no more commands until it is unblocked.
 *
 * When a key is created with a list or zset value, db_add() calls
 * signal_key_as_ready() (a keyspace hook); after every command process_command()
 * calls handle_clients_blocked_on_keys() (below), which for each ready
 * key calls the serve callbacks of the clients blocked on it, first come
 * first served, while the key exists and has the type they wait for.
 *
 * A blocked client is unblocked when it is served, when its timeout
 * passes (reply: null array, RESP3 null), by CLIENT UNBLOCK (TIMEOUT: the
 * timeout reply; ERROR: "-UNBLOCKED client unblocked via CLIENT UNBLOCK"),
 * or silently when it disconnects. */
#ifndef REDOUBT_BLOCKED_H
#define REDOUBT_BLOCKED_H

#include "server/core/server.h"

/* block_serve_proc serves client c blocked on |key| of db, whose value |o|
 * exists and has the type the client waits for. It replies to c and does
 * the write (notifications, signal_modified_key, dirty). Returns 1 when c
 * was answered (the framework then unblocks it and frees privdata), 0 to
 * keep c blocked. server.current_client is c during the call. */
typedef int (*block_serve_proc)(client *c, redis_db *db, robj *key, robj *o,
                                void *privdata);
/* block_free_proc releases privdata (may be NULL). */
typedef void (*block_free_proc)(void *privdata);
/* block_gone_proc answers client c, blocked on |key| of db, when a ready
 * |key| no longer exists or holds another type than the one c waits for
 * (XREADGROUP replies -UNBLOCKED then). Returns 1 when c was answered (it
 * is then unblocked), 0 to keep it blocked. */
typedef int (*block_gone_proc)(client *c, redis_db *db, robj *key,
                               void *privdata);

/* blocking_get_timeout_or_reply parses a timeout in seconds (a float) from
 * |object| into an absolute unix time in ms in *out_deadline_ms (0 = wait
 * forever). The seconds are rounded up to whole ms, so any timeout above 0
 * (0.001, 0.0000001) is a deadline, never "forever"; "0" and a value that
 * rounds to -0 (-0.0001) wait forever, as Redis 7.0. A deadline past the
 * end of time waits forever too (Redis overflows into a deadline its timer
 * never reaches). Replies Redis's error and returns C_ERR on bad input:
 * "timeout is not a float or out of range", "timeout is negative" (also
 * for values too large to convert, as Redis 7.0). */
int blocking_get_timeout_or_reply(client *c, robj *object,
                                  long long *out_deadline_ms);
/* blocking_get_timeout_ms_or_reply: the same for a timeout in whole
 * milliseconds (XREAD/XREADGROUP BLOCK, WAIT): "timeout is not an integer
 * or out of range", "timeout is negative". */
int blocking_get_timeout_ms_or_reply(client *c, robj *object,
                                     long long *out_deadline_ms);

/* blocking_is_denied returns 1 when c must not block (it runs inside
 * MULTI/EXEC, a script, or is a fake client): the command then replies as
 * if the timeout had passed. */
int blocking_is_denied(client *c);

/* block_for_keys blocks c on keys[0..numkeys-1] (duplicates are ignored)
 * of c->db until one of them holds a value of |key_type| (OBJ_LIST,
 * OBJ_ZSET) and |serve| answers, or until deadline_ms (0 = never). Takes
 * ownership of privdata (freed with free_privdata on unblock). */
void block_for_keys(client *c, robj **keys, int numkeys, long long deadline_ms,
                    int key_type, block_serve_proc serve, void *privdata,
                    block_free_proc free_privdata);

/* blocking_set_gone_proc: after block_for_keys, makes |gone| answer c
 * when a key it waits on is signalled ready but is gone (see
 * block_gone_proc). Without one such a client keeps waiting. */
void blocking_set_gone_proc(client *c, block_gone_proc gone);

/* blocking_propagate records the non-blocking equivalent of what a
 * blocking command just did to |db| (LPOP key, LMOVE src dst LEFT RIGHT,
 * ZPOPMIN key count...) for the AOF and replicas, and keeps the blocking
 * command itself from being propagated (its timeout means nothing on
 * replay), as Redis 7.0 does. */
void blocking_propagate(client *c, redis_db *db, robj **argv, int argc);
/* blocking_propagate_pop: blocking_propagate of "<cmd> key [count]"
 * (LPOP, RPOP, ZPOPMIN, ZPOPMAX); count -1 means none. */
void blocking_propagate_pop(client *c, redis_db *db, robj *cmd, robj *key,
                            long count);

/* block_for_event blocks c on no key until its code calls
 * blocking_unblock_answered (after replying) or the deadline passes, when
 * |on_timeout| replies (WAIT). privdata is freed with free_privdata. */
typedef void (*block_timeout_proc)(client *c, void *privdata);
void block_for_event(client *c, long long deadline_ms,
                     block_timeout_proc on_timeout, void *privdata,
                     block_free_proc free_privdata);
/* blocking_unblock_answered unblocks c, which was just answered, and lets
 * it run what it pipelined meanwhile. */
void blocking_unblock_answered(client *c);

/* unblock_client_with_timeout_reply answers c as if its timeout passed
 * and unblocks it. c must be blocked. */
void unblock_client_with_timeout_reply(client *c);

/* blocked_clients_count returns the number of clients blocked on keys or
 * events (WAIT) now. INFO clients blocked_clients adds the clients held by
 * CLIENT PAUSE, as Redis 7.0 counts them too. */
unsigned long blocked_clients_count(void);
/* blocked_clients_with_timeout_count returns how many of those have a
 * deadline (INFO clients clients_in_timeout_table). */
unsigned long blocked_clients_with_timeout_count(void);

/* handle_clients_blocked_on_keys serves the clients blocked on the keys
 * signalled ready; process_command calls it after call(). */
void handle_clients_blocked_on_keys(void);

/* blocking_client_unblock unblocks |target| (which has CLIENT_BLOCKED) for
 * CLIENT UNBLOCK: with |with_error| it replies "-UNBLOCKED client unblocked
 * via CLIENT UNBLOCK", otherwise the command's timeout reply. Returns 1 if
 * it was unblocked, 0 if this kind of blocking cannot be interrupted. */
int blocking_client_unblock(client *target, int with_error);

#endif
