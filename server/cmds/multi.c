/* multi.c: MULTI / EXEC / DISCARD / WATCH / UNWATCH with Redis 7.0
 * semantics. process_command queues commands through
 * multi_queue_if_needed; writes invalidate watchers through the
 * keyspace hooks this module registers (multi_register: key_modified,
 * db_replaced), which db.c and notify.c call. */
#include "server/cmds/multi.h"

#include "server/acl/acl.h"
#include "server/base/zmalloc.h"
#include "server/core/networking.h"

/* Bounds the queue so a client cannot grow it without limit (Redis has
 * none, but client-query-buffer memory would bound it there). */
#define MULTI_MAX_QUEUED 1000000

typedef struct multi_cmd {
  robj **argv;
  int argc;
  redis_command *cmd;
} multi_cmd;

struct multi_state {
  multi_cmd *commands;
  int count;
  int alloc;
  size_t argv_bytes;
};

/* One WATCHed key of a client: the db and a reference to the key. The
 * same struct sits in the client's list and in db->watched_keys' list for
 * the key. |expired|: the key existed but had logically expired when WATCH
 * ran (Redis 7.0): its later deletion is then no change for this client. */
typedef struct watched_key {
  robj *key;
  redis_db *db;
  client *c;
  int expired;
} watched_key;

static void multi_on_free(client *c);
static int multi_count_hook(client *c);
static size_t multi_mem_hook(client *c);
static const client_module_hooks multi_hooks = {
    .on_free = multi_on_free,
    .multi_count = multi_count_hook,
    .multi_mem = multi_mem_hook,
};
static int multi_initialized;

static void multi_init(void) {
  if (!multi_initialized) {
    multi_initialized = 1;
    client_register_hooks(&multi_hooks);
  }
}

static int multi_count_hook(client *c) {
  return c->mstate ? c->mstate->count : 0;
}

static size_t multi_mem_hook(client *c) {
  if (c->mstate == NULL) {
    return 0;
  }
  return c->mstate->argv_bytes + sizeof(multi_cmd) * (size_t)c->mstate->alloc;
}

static void free_multi_state(client *c) {
  multi_state *ms = c->mstate;
  if (ms == NULL) {
    return;
  }
  for (int i = 0; i < ms->count; i++) {
    for (int j = 0; j < ms->commands[i].argc; j++) {
      decr_ref_count(ms->commands[i].argv[j]);
    }
    zfree(ms->commands[i].argv);
  }
  zfree(ms->commands);
  zfree(ms);
  c->mstate = NULL;
}

/* ------------------------------------------------------------------ */
/* WATCH                                                                */
/* ------------------------------------------------------------------ */
static robj *key_copy(robj *key) {
  if (sds_encoded_object(key)) {
    return create_string_object(key->ptr, sds_len(key->ptr));
  }
  return get_decoded_object(key);
}

/* key_is_expired: |key| is in |db| but logically expired (Redis's
 * keyIsExpired); nothing is deleted. */
static int key_is_expired(redis_db *db, robj *key) {
  return dict_find(db->dict, key->ptr) != NULL &&
         lookup_key_read_with_flags(db, key,
                                    LOOKUP_NOTOUCH | LOOKUP_NONOTIFY |
                                        LOOKUP_NOSTATS | LOOKUP_NOEXPIRE) ==
             NULL;
}

static void watch_key(client *c, robj *key) {
  if (c->watched_keys == NULL) {
    c->watched_keys = list_create();
  }
  list_iter li;
  list_node *ln;
  list_rewind(c->watched_keys, &li);
  while ((ln = list_next(&li)) != NULL) {
    watched_key *wk = list_node_value(ln);
    if (wk->db == c->db && equal_string_objects(wk->key, key)) {
      return; /* already watched */
    }
  }
  robj *k = key_copy(key);
  list *clients = dict_fetch_value(c->db->watched_keys, k);
  if (clients == NULL) {
    clients = list_create();
    incr_ref_count(k);
    dict_add(c->db->watched_keys, k, clients);
  }
  watched_key *wk = zmalloc(sizeof(*wk));
  wk->key = k;
  wk->db = c->db;
  wk->c = c;
  wk->expired = key_is_expired(c->db, k);
  list_add_node_tail(clients, wk);
  list_add_node_tail(c->watched_keys, wk);
}

static void unwatch_all_keys(client *c) {
  if (c->watched_keys == NULL) {
    return;
  }
  list_node *ln;
  /* Each pass removes one node: the length bounds the loop. */
  while ((ln = list_first(c->watched_keys)) != NULL) {
    watched_key *wk = list_node_value(ln);
    list *clients = dict_fetch_value(wk->db->watched_keys, wk->key);
    if (clients) {
      list_node *cn = list_search_key(clients, wk);
      if (cn) {
        list_del_node(clients, cn);
      }
      if (list_length(clients) == 0) {
        dict_delete(wk->db->watched_keys, wk->key);
      }
    }
    decr_ref_count(wk->key);
    zfree(wk);
    list_del_node(c->watched_keys, ln);
  }
}

/* Flags every client watching |key| in |db| as dirty. */
static void touch_watched_key(redis_db *db, robj *key) {
  if (db == NULL || db->watched_keys == NULL ||
      dict_size(db->watched_keys) == 0) {
    return;
  }
  robj *k = key_copy(key);
  list *clients = dict_fetch_value(db->watched_keys, k);
  decr_ref_count(k);
  if (clients == NULL) {
    return;
  }
  list_iter li;
  list_node *ln;
  list_rewind(clients, &li);
  while ((ln = list_next(&li)) != NULL) {
    watched_key *wk = list_node_value(ln);
    if (wk->expired) {
      /* Expired already at WATCH: its deletion changes nothing for this
       * client (and a deleted key is no longer "expired"). Redis stops
       * at such an entry while the key still exists; it is skipped. */
      if (dict_find(db->dict, key->ptr) == NULL) {
        wk->expired = 0;
      }
      continue;
    }
    wk->c->flags |= CLIENT_DIRTY_CAS;
  }
}

/* FLUSHDB/FLUSHALL (replaced_with NULL) and SWAPDB: a watched key that
 * exists in the emptied db, or will exist after the swap, is touched. */
static void touch_all_watched_keys_in_db(redis_db *emptied,
                                         redis_db *replaced_with) {
  if (emptied == NULL || emptied->watched_keys == NULL ||
      dict_size(emptied->watched_keys) == 0) {
    return;
  }
  dict_iterator *it = dict_get_iterator(emptied->watched_keys);
  dict_entry *de;
  while ((de = dict_next(it)) != NULL) {
    robj *key = dict_get_key(de);
    int exists_in_emptied = dict_find(emptied->dict, key->ptr) != NULL;
    int exists_in_new =
        replaced_with && dict_find(replaced_with->dict, key->ptr) != NULL;
    if (!exists_in_emptied && !exists_in_new) {
      continue;
    }
    list_iter li;
    list_node *ln;
    list_rewind((list *)dict_get_val(de), &li);
    while ((ln = list_next(&li)) != NULL) {
      watched_key *wk = list_node_value(ln);
      /* Redis 7.0's rules for keys that had expired at WATCH time. */
      if (wk->expired) {
        if (!exists_in_new) {
          wk->expired = 0; /* expired, now deleted: no logical change */
          continue;
        }
        if (key_is_expired(replaced_with, key)) {
          continue; /* expired, and replaced by an expired key */
        }
      } else if (!exists_in_emptied && key_is_expired(replaced_with, key)) {
        wk->expired = 1; /* a missing key replaced by an expired one */
        continue;
      }
      wk->c->flags |= CLIENT_DIRTY_CAS;
    }
  }
  dict_release_iterator(it);
}

/* A watched key that expired since WATCH counts as modified (Redis 7.0
 * isWatchedKeyExpired at EXEC time); one already expired at WATCH time
 * does not. Nothing is deleted here. */
static int watched_keys_expired(client *c) {
  if (c->watched_keys == NULL) {
    return 0;
  }
  list_iter li;
  list_node *ln;
  list_rewind(c->watched_keys, &li);
  while ((ln = list_next(&li)) != NULL) {
    watched_key *wk = list_node_value(ln);
    if (!wk->expired && key_is_expired(wk->db, wk->key)) {
      return 1;
    }
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Queueing and lifecycle                                               */
/* ------------------------------------------------------------------ */
static void discard_transaction(client *c) {
  free_multi_state(c);
  c->flags &= ~(CLIENT_MULTI | CLIENT_DIRTY_CAS | CLIENT_DIRTY_EXEC);
  unwatch_all_keys(c);
}

void multi_discard_and_unwatch(client *c) { discard_transaction(c); }

static void multi_on_free(client *c) {
  free_multi_state(c);
  unwatch_all_keys(c);
}

int multi_queue_if_needed(client *c) {
  if (!(c->flags & CLIENT_MULTI) || c->cmd == NULL) {
    return 0;
  }
  const char *n = c->cmd->fullname;
  if (!strcasecmp(n, "exec") || !strcasecmp(n, "discard") ||
      !strcasecmp(n, "multi") || !strcasecmp(n, "watch") ||
      !strcasecmp(n, "quit") || !strcasecmp(n, "reset")) {
    return 0;
  }
  /* CLIENT REPLY is refused too (Redis 7.0 queues it, and EXEC then sends
   * an array whose elements never come; Valkey 9 refuses it). By name, not
   * CMD_NO_MULTI: COMMAND INFO must keep printing Redis 7.0's flags. */
  if ((c->cmd->flags & CMD_NO_MULTI) || !strcasecmp(n, "client|reply")) {
    c->cmd->rejected_calls++;
    add_reply_error(c, "Command not allowed inside a transaction");
    multi_flag_transaction(c);
    return 1;
  }
  multi_state *ms = c->mstate;
  if (ms->count >= MULTI_MAX_QUEUED) {
    add_reply_error(c, "too many commands queued in this transaction");
    multi_flag_transaction(c);
    return 1;
  }
  if (ms->count == ms->alloc) {
    int alloc = ms->alloc ? ms->alloc * 2 : 4;
    ms->commands = zrealloc(ms->commands, sizeof(multi_cmd) * (size_t)alloc);
    ms->alloc = alloc;
  }
  multi_cmd *mc = &ms->commands[ms->count++];
  mc->argc = c->argc;
  mc->cmd = c->cmd;
  mc->argv = zmalloc(sizeof(robj *) * (size_t)c->argc);
  for (int j = 0; j < c->argc; j++) {
    mc->argv[j] = c->argv[j];
    incr_ref_count(c->argv[j]);
  }
  ms->argv_bytes += c->argv_len_sum + sizeof(robj *) * (size_t)c->argc;
  add_reply(c, shared.queued);
  return 1;
}

/* ------------------------------------------------------------------ */
/* Commands                                                             */
/* ------------------------------------------------------------------ */
static void multi_command(client *c) {
  if (c->flags & CLIENT_MULTI) {
    add_reply_error(c, "MULTI calls can not be nested");
    return;
  }
  multi_init();
  c->mstate = zcalloc(sizeof(multi_state));
  c->flags |= CLIENT_MULTI;
  add_reply(c, shared.ok);
}

static void discard_command(client *c) {
  if (!(c->flags & CLIENT_MULTI)) {
    add_reply_error(c, "DISCARD without MULTI");
    return;
  }
  discard_transaction(c);
  add_reply(c, shared.ok);
}

static void exec_command(client *c) {
  if (!(c->flags & CLIENT_MULTI)) {
    add_reply_error(c, "EXEC without MULTI");
    return;
  }
  if (watched_keys_expired(c)) {
    c->flags |= CLIENT_DIRTY_CAS;
  }
  if (c->flags & CLIENT_DIRTY_EXEC) {
    add_reply_error_object(c, shared.execaborterr);
    discard_transaction(c);
    return;
  }
  if (c->flags & CLIENT_DIRTY_CAS) {
    add_reply_null_array(c);
    discard_transaction(c);
    return;
  }
  /* Unwatch first: the transaction's own writes must not matter. */
  unwatch_all_keys(c);
  robj **orig_argv = c->argv;
  int orig_argc = c->argc;
  int orig_argv_len = c->argv_len;
  redis_command *orig_cmd = c->cmd;
  multi_state *ms = c->mstate;
  add_reply_array_len(c, ms->count);
  for (int i = 0; i < ms->count; i++) {
    multi_cmd *mc = &ms->commands[i];
    c->argv = mc->argv;
    c->argc = mc->argc;
    c->argv_len = mc->argc;
    c->cmd = c->realcmd = mc->cmd;
    /* ACL rules may have changed since the command was queued. */
    if (acl_check_exec(c) == C_OK) {
      call(c, CMD_CALL_FULL);
    }
    /* The command may have rewritten its argv. */
    mc->argv = c->argv;
    mc->argc = c->argc;
  }
  c->argv = orig_argv;
  c->argc = orig_argc;
  c->argv_len = orig_argv_len;
  c->cmd = c->realcmd = orig_cmd;
  discard_transaction(c);
}

static void watch_command(client *c) {
  if (c->flags & CLIENT_MULTI) {
    add_reply_error(c, "WATCH inside MULTI is not allowed");
    return;
  }
  /* A client already dirty needs no more watching (Redis 7.0). */
  if (c->flags & CLIENT_DIRTY_CAS) {
    add_reply(c, shared.ok);
    return;
  }
  multi_init();
  for (int j = 1; j < c->argc; j++) {
    watch_key(c, c->argv[j]);
  }
  add_reply(c, shared.ok);
}

static void unwatch_command(client *c) {
  unwatch_all_keys(c);
  c->flags &= ~CLIENT_DIRTY_CAS;
  add_reply(c, shared.ok);
}

#define MULTI_FLAGS (CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)

redis_command multi_commands[] = {
    {.declared_name = "multi",
     .summary = "Mark the start of a transaction block",
     .since = "1.2.0",
     .group = "transactions",
     .proc = multi_command,
     .arity = 1,
     .flags = MULTI_FLAGS | CMD_FAST | CMD_ALLOW_BUSY,
     .acl_categories = ACL_CATEGORY_FAST | ACL_CATEGORY_TRANSACTION},
    {.declared_name = "exec",
     .summary = "Execute all commands issued after MULTI",
     .since = "1.2.0",
     .group = "transactions",
     .proc = exec_command,
     .arity = 1,
     .flags = MULTI_FLAGS | CMD_SKIP_SLOWLOG | CMD_NO_PROPAGATE,
     .acl_categories = ACL_CATEGORY_SLOW | ACL_CATEGORY_TRANSACTION},
    {.declared_name = "discard",
     .summary = "Discard all commands issued after MULTI",
     .since = "2.0.0",
     .group = "transactions",
     .proc = discard_command,
     .arity = 1,
     .flags = MULTI_FLAGS | CMD_FAST | CMD_ALLOW_BUSY,
     .acl_categories = ACL_CATEGORY_FAST | ACL_CATEGORY_TRANSACTION},
    {.declared_name = "watch",
     .summary = "Watch the given keys to determine execution of the MULTI/EXEC "
                "block",
     .since = "2.2.0",
     .group = "transactions",
     .proc = watch_command,
     .arity = -2,
     .flags = MULTI_FLAGS | CMD_FAST | CMD_ALLOW_BUSY,
     .acl_categories = ACL_CATEGORY_FAST | ACL_CATEGORY_TRANSACTION,
     .firstkey = 1,
     .lastkey = -1,
     .keystep = 1},
    {.declared_name = "unwatch",
     .summary = "Forget about all watched keys",
     .since = "2.2.0",
     .group = "transactions",
     .proc = unwatch_command,
     .arity = 1,
     .flags = MULTI_FLAGS | CMD_FAST | CMD_ALLOW_BUSY,
     .acl_categories = ACL_CATEGORY_FAST | ACL_CATEGORY_TRANSACTION},
    {0}};

static const keyspace_hooks watch_keyspace_hooks = {
    .key_modified = touch_watched_key,
    .db_replaced = touch_all_watched_keys_in_db,
};

void multi_register(void) { keyspace_register_hooks(&watch_keyspace_hooks); }
