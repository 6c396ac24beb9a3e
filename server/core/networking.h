/* networking.h: networking module APIs beyond the server.h contract.
 *
 * server.h declares the client lifecycle and the Reply API; this header adds
 * what other modules need to plug their per-client state into the client
 * lifecycle (transactions, pub/sub, blocking, ACL) without networking.c
 * knowing their types. */
#ifndef REDOUBT_NETWORKING_H
#define REDOUBT_NETWORKING_H

#include "server/core/server.h"

/* Hooks a module registers once at start-up. Any member may be NULL. */
typedef struct client_module_hooks {
  /* on_free releases the module's state of |c| (UNWATCH, unsubscribe,
   * unblock, leave MULTI). Called from free_client before the client's
   * buffers are released, while c->conn may already be NULL. */
  void (*on_free)(client *c);
  /* multi_count returns the queued command count (CLIENT LIST multi=),
   * only called for clients with CLIENT_MULTI. */
  int (*multi_count)(client *c);
  /* multi_mem returns the bytes queued in MULTI (multi-mem=). */
  size_t (*multi_mem)(client *c);
  /* user_name returns the ACL user name shown as user= (default
   * "default"). */
  const char *(*user_name)(client *c);
} client_module_hooks;

/* client_auth_ops: the access-control layer (server/acl) tells the core how
 * a new client starts and whether it must still authenticate (the network
 * layer applies the unauthenticated limits before any command runs).
 * Registered once at start-up; using them before that panics (fail closed:
 * no client without access control). */
typedef struct client_auth_ops {
  /* init_client sets c->user and c->authenticated for a new client. */
  void (*init_client)(client *c);
  /* auth_required: 1 while c must still authenticate. */
  int (*auth_required)(client *c);
  /* user_name: the user shown by CLIENT LIST (user=). */
  const char *(*user_name)(client *c);
  /* default_user_nopass: 1 when the default user has the nopass flag
   * (protected mode then serves only local clients, as Redis 7.0). */
  int (*default_user_nopass)(void);
} client_auth_ops;
void client_set_auth_ops(const client_auth_ops *ops);
int client_auth_required(client *c);
const char *client_user_name(client *c);

/* client_set_master_read_hook: |fn| sees every byte read from the master
 * link (CLIENT_MASTER), as read: a replica relays its master's stream
 * verbatim to its own replicas (server/repl). */
void client_set_master_read_hook(void (*fn)(client *c, const char *buf,
                                            size_t len));

/* client_register_hooks adds a hook set (kept by pointer; at most
 * NETWORKING_MAX_HOOKS sets). */
#define NETWORKING_MAX_HOOKS 8
void client_register_hooks(const client_module_hooks *hooks);

/* lookup_client_by_id returns the connected client with |id| or NULL. */
client *lookup_client_by_id(uint64_t id);

/* client_peer_id / client_sockname return the cached "ip:port" strings
 * (owned by the client). */
const char *client_peer_id(client *c);
const char *client_sockname(client *c);

/* client_is_local is Redis 7.0's islocalClient: 1 for a Unix socket or a
 * peer whose address is exactly 127.0.0.1 or ::1 (not the rest of
 * 127.0.0.0/8). Protected mode, enable-debug-command local and
 * enable-protected-configs local use it. */
int client_is_local(client *c);

/* client_total_memory_usage is CLIENT LIST tot-mem. */
size_t client_total_memory_usage(client *c, size_t *out_obuf_mem);

/* process_postponed_clients runs the commands that were postponed by CLIENT
 * PAUSE once the pause is over. handle_clients_with_pending_writes calls
 * it; others may too (cheap when nothing is postponed). */
void process_postponed_clients(void);

/* ---- internal to networking.c / reply.c ---- */

/* prepare_client_to_write returns C_OK if replies may be queued for c (and
 * puts c in the pending-write queue), C_ERR if output must be dropped
 * (fake client, CLIENT REPLY OFF, master, closing). */
int prepare_client_to_write(client *c);
/* reply_block_free is the free method of c->reply. */
void reply_block_free(void *block);
/* networking_hook_count / networking_hook iterate the registered hooks. */
int networking_hook_count(void);
const client_module_hooks *networking_hook(int i);
/* set_protocol_error logs (verbose) and marks c CLOSE_AFTER_REPLY; the
 * caller has already replied the error. */
void set_protocol_error(client *c, const char *errstr);

#endif
