/* tracking.c: client-side caching (tracking.h). Reference: Redis 7.0.15
 * tracking.c for the semantics, the message shapes and the error texts.
 *
 * Data structures:
 *   - tracking.table: sds key -> intset of the ids of the clients that may
 *     cache it. An intset keeps small ids in 2 or 4 bytes each.
 *   - tracking.prefixes: the BCAST prefixes in byte order (Redis keeps them
 *     in a radix tree and walks all of them for every modified key, as we
 *     do): each has its clients and the keys modified under it since the
 *     last broadcast, with the id of the client that last modified each
 *     (NOLOOP leaves out a client's own changes).
 *   - c->tracking_prefixes: a client's prefixes, sorted (CLIENT TRACKINGINFO
 *     lists them in that order, the overlap check walks them in it).
 * Where Redis's radix trees fix an order that a client can see (keys in
 * a BCAST message, the order in which several clients' invalidations reach
 * the client they all redirect to), the same order is produced here.
 *
 * Every allocation is released: the tables when emptied, a client's state
 * by tracking_disable (free_client, RESET, CLIENT TRACKING OFF). */
#include "server/core/tracking.h"

#include "server/base/zmalloc.h"
#include "server/core/networking.h"
#include "server/ds/intset.h"

/* The Pub/Sub channel that RESP2 redirect clients get invalidations on. */
#define TRACKING_CHANNEL "__redis__:invalidate"
/* Keys forgotten per run of tracking_limit_used_slots, times the number of
 * runs in a row that ended over the limit (Redis's effort). */
#define TRACKING_LIMIT_EFFORT_STEP 100
/* Ids sorted on the stack when a key has at most this many clients. */
#define TRACKING_STACK_IDS 16

/* A client's BCAST prefixes, sorted by bytes, no duplicates. */
struct tracking_prefix_set {
  size_t count, cap;
  sds *items;
};

/* One BCAST prefix. */
typedef struct bcast_prefix {
  sds prefix;
  dict *keys;    /* sds key -> v.u64: id of the client that last changed it */
  dict *clients; /* client* -> NULL */
} bcast_prefix;

/* An invalidation held back until its client's reply is out. */
typedef struct pending_invalidation {
  uint64_t client_id;
  robj *key; /* NULL: a flush (null invalidation) */
} pending_invalidation;

static struct {
  dict *table; /* NULL until a client first enables tracking */
  unsigned long long total_items;
  bcast_prefix **prefixes; /* sorted by prefix bytes */
  size_t prefix_count, prefix_cap;
  pending_invalidation *pending;
  size_t pending_count, pending_cap;
  unsigned long clients;          /* clients with CLIENT_TRACKING */
  unsigned int limit_rounds_over; /* Redis's timeout_counter */
} tracking;

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */
static void intset_destructor(void *p) { intset_free(p); }

static dict_type tracking_table_type = {
    dict_sds_hash,     NULL, NULL, dict_sds_key_compare, dict_sds_destructor,
    intset_destructor, NULL};
static dict_type bcast_keys_type = {
    dict_sds_hash,       NULL, NULL, dict_sds_key_compare,
    dict_sds_destructor, NULL, NULL};
static dict_type bcast_clients_type = {
    dict_pointer_hash, NULL, NULL, dict_pointer_compare, NULL, NULL, NULL};

/* key_text: the bytes of a string object; INT-encoded ones are printed
 * into |buf| (LONG_STR_SIZE bytes). */
static const char *key_text(robj *o, char *buf, size_t *out_len) {
  if (sds_encoded_object(o)) {
    *out_len = sds_len(o->ptr);
    return o->ptr;
  }
  *out_len = (size_t)ll2string(buf, LONG_STR_SIZE, (long)o->ptr);
  return buf;
}

/* key_sds: an sds for dict lookups: the object's own, or a new one
 * (*out_owned set) that the caller frees. */
static sds key_sds(robj *o, int *out_owned) {
  if (sds_encoded_object(o)) {
    *out_owned = 0;
    return o->ptr;
  }
  char buf[LONG_STR_SIZE];
  size_t len;
  const char *p = key_text(o, buf, &len);
  *out_owned = 1;
  return sds_new_len(p, len);
}

/* bytes_compare orders byte strings as a radix tree does: by memcmp, a
 * string before its extensions. */
static int bytes_compare(const char *a, size_t alen, const char *b,
                         size_t blen) {
  size_t min = alen < blen ? alen : blen;
  int r = min ? memcmp(a, b, min) : 0;
  if (r != 0) {
    return r;
  }
  return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

/* prefixes_overlap: one of the two is a prefix of the other. */
static int prefixes_overlap(const char *a, size_t alen, const char *b,
                            size_t blen) {
  size_t min = alen < blen ? alen : blen;
  return min == 0 || memcmp(a, b, min) == 0;
}

/* id_order: Redis keeps a key's client ids in a radix tree keyed by the
 * id's bytes in memory (little-endian), and walks it in byte order: the
 * byte-swapped id, compared as an unsigned number. */
static int id_order(const void *a, const void *b) {
  uint64_t x = __builtin_bswap64(*(const uint64_t *)a);
  uint64_t y = __builtin_bswap64(*(const uint64_t *)b);
  return x < y ? -1 : (x > y ? 1 : 0);
}

/* ------------------------------------------------------------------ */
/* Sending                                                              */
/* ------------------------------------------------------------------ */
/* Invalidations reach a client even under CLIENT REPLY OFF/SKIP (Redis's
 * CLIENT_PUSHING): the silencing flags are lifted while one is written. */
static uint64_t push_begin(client *c) {
  uint64_t saved = c->flags & (CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP);
  c->flags &= ~saved;
  return saved;
}

static void push_end(client *c, uint64_t saved) { c->flags |= saved; }

/* tracking_send sends one invalidation on behalf of tracking client |c|:
 * the key |payload| (|is_proto| 0), or ready RESP (|is_proto| 1: a BCAST
 * array of keys, or a null for a flush). */
static void tracking_send(client *c, const char *payload, size_t len,
                          int is_proto) {
  int redirected = 0;
  if (c->tracking_redirect) {
    client *redir = lookup_client_by_id(c->tracking_redirect);
    if (redir == NULL) {
      /* Tell the client its messages are lost (RESP3 only can hear it). */
      c->flags |= CLIENT_TRACKING_BROKEN_REDIR;
      if (c->resp > 2) {
        uint64_t saved = push_begin(c);
        add_reply_push_len(c, 2);
        add_reply_bulk_cbuffer(c, "tracking-redir-broken", 21);
        add_reply_long_long(c, (long long)c->tracking_redirect);
        push_end(c, saved);
      }
      return;
    }
    c = redir;
    redirected = 1;
  }
  uint64_t saved = push_begin(c);
  if (c->resp > 2) {
    add_reply_push_len(c, 2);
    add_reply_bulk_cbuffer(c, "invalidate", 10);
  } else if (redirected && (c->flags & CLIENT_PUBSUB)) {
    /* RESP2 has no push: a Pub/Sub message to a subscribed client. */
    static const char header[] =
        "*3\r\n$7\r\nmessage\r\n$20\r\n" TRACKING_CHANNEL "\r\n";
    add_reply_proto(c, header, sizeof(header) - 1);
  } else {
    /* A RESP2 client without a redirect cannot be told anything. */
    push_end(c, saved);
    return;
  }
  if (is_proto) {
    add_reply_proto(c, payload, len);
  } else {
    add_reply_array_len(c, 1);
    add_reply_bulk_cbuffer(c, payload, len);
  }
  push_end(c, saved);
}

/* tracking_send_null: the flush invalidation, a null in the protocol of
 * the tracking client (even when redirected, as Redis). */
static void tracking_send_null(client *c) {
  if (c->resp > 2) {
    tracking_send(c, "_\r\n", 3, 1);
  } else {
    tracking_send(c, "$-1\r\n", 5, 1);
  }
}

static void pending_add(client *target, robj *key) {
  if (tracking.pending_count == tracking.pending_cap) {
    tracking.pending_cap = tracking.pending_cap ? tracking.pending_cap * 2 : 8;
    tracking.pending = zrealloc(
        tracking.pending, tracking.pending_cap * sizeof(*tracking.pending));
  }
  pending_invalidation *p = &tracking.pending[tracking.pending_count++];
  p->client_id = target->id;
  p->key = key;
}

void tracking_handle_pending_invalidations(void) {
  /* Sending queues nothing new, but index so that it could. */
  for (size_t i = 0; i < tracking.pending_count; i++) {
    pending_invalidation *p = &tracking.pending[i];
    client *target = lookup_client_by_id(p->client_id);
    if (target != NULL) {
      if (p->key != NULL) {
        tracking_send(target, p->key->ptr, sds_len(p->key->ptr), 0);
      } else {
        tracking_send_null(target);
      }
    }
    if (p->key != NULL) {
      decr_ref_count(p->key);
    }
  }
  tracking.pending_count = 0;
}

/* must_hold_back: |target| runs the command (or is being served as a
 * blocked client) that caused its invalidation: it goes after the reply. */
static int must_hold_back(client *target) {
  return target == server.current_client &&
         (server.in_nested_call > 0 || (target->flags & CLIENT_BLOCKED));
}

/* ------------------------------------------------------------------ */
/* The prefix table (BCAST)                                             */
/* ------------------------------------------------------------------ */
/* prefix_table_search returns the index of |p| in the prefix table, or
 * where it would go (*out_found 0). */
static size_t prefix_table_search(const char *p, size_t len, int *out_found) {
  size_t lo = 0, hi = tracking.prefix_count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    sds q = tracking.prefixes[mid]->prefix;
    int r = bytes_compare(q, sds_len(q), p, len);
    if (r == 0) {
      *out_found = 1;
      return mid;
    }
    if (r < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  *out_found = 0;
  return lo;
}

static bcast_prefix *prefix_table_get_or_create(const char *p, size_t len) {
  int found;
  size_t at = prefix_table_search(p, len, &found);
  if (found) {
    return tracking.prefixes[at];
  }
  if (tracking.prefix_count == tracking.prefix_cap) {
    tracking.prefix_cap = tracking.prefix_cap ? tracking.prefix_cap * 2 : 4;
    tracking.prefixes = zrealloc(
        tracking.prefixes, tracking.prefix_cap * sizeof(*tracking.prefixes));
  }
  memmove(tracking.prefixes + at + 1, tracking.prefixes + at,
          (tracking.prefix_count - at) * sizeof(*tracking.prefixes));
  bcast_prefix *bp = zmalloc(sizeof(*bp));
  bp->prefix = sds_new_len(p, len);
  bp->keys = dict_create(&bcast_keys_type);
  bp->clients = dict_create(&bcast_clients_type);
  tracking.prefixes[at] = bp;
  tracking.prefix_count++;
  return bp;
}

static void prefix_table_remove_client(client *c, sds prefix) {
  int found;
  size_t at = prefix_table_search(prefix, sds_len(prefix), &found);
  server_assert(found);
  bcast_prefix *bp = tracking.prefixes[at];
  dict_delete(bp->clients, c);
  if (dict_size(bp->clients) > 0) {
    return;
  }
  /* Its last client: the prefix goes. */
  dict_release(bp->clients);
  dict_release(bp->keys);
  sds_free(bp->prefix);
  zfree(bp);
  memmove(tracking.prefixes + at, tracking.prefixes + at + 1,
          (tracking.prefix_count - at - 1) * sizeof(*tracking.prefixes));
  tracking.prefix_count--;
}

/* client_prefix_add inserts |p| in c's sorted prefixes; 0 if present. */
static int client_prefix_add(client *c, const char *p, size_t len) {
  struct tracking_prefix_set *set = c->tracking_prefixes;
  if (set == NULL) {
    set = c->tracking_prefixes = zcalloc(sizeof(*set));
  }
  size_t lo = 0, hi = set->count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int r = bytes_compare(set->items[mid], sds_len(set->items[mid]), p, len);
    if (r == 0) {
      return 0;
    }
    if (r < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (set->count == set->cap) {
    set->cap = set->cap ? set->cap * 2 : 4;
    set->items = zrealloc(set->items, set->cap * sizeof(*set->items));
  }
  memmove(set->items + lo + 1, set->items + lo,
          (set->count - lo) * sizeof(*set->items));
  set->items[lo] = sds_new_len(p, len);
  set->count++;
  return 1;
}

static void enable_bcast_prefix(client *c, const char *p, size_t len) {
  bcast_prefix *bp = prefix_table_get_or_create(p, len);
  if (dict_add(bp->clients, c, NULL) == DICT_OK) {
    client_prefix_add(c, p, len);
  }
}

const sds *tracking_client_prefixes(client *c, size_t *out_count) {
  struct tracking_prefix_set *set = c->tracking_prefixes;
  *out_count = set ? set->count : 0;
  return set ? set->items : NULL;
}

/* remember_key_to_broadcast queues |key| for the BCAST clients of every
 * prefix it starts with. */
static void remember_key_to_broadcast(client *c, const char *key, size_t len) {
  sds lookup = NULL;
  for (size_t i = 0; i < tracking.prefix_count; i++) {
    bcast_prefix *bp = tracking.prefixes[i];
    size_t plen = sds_len(bp->prefix);
    if (plen > len || (plen != 0 && memcmp(bp->prefix, key, plen) != 0)) {
      continue;
    }
    if (lookup == NULL) {
      lookup = sds_new_len(key, len);
    }
    dict_entry *de = dict_find(bp->keys, lookup);
    if (de == NULL) {
      de = dict_add_raw(bp->keys, sds_dup(lookup), NULL);
    }
    de->v.u64 = c ? c->id : 0;
  }
  sds_free(lookup);
}

/* One key of a broadcast, sorted by bytes. */
typedef struct bcast_key {
  sds key;
  uint64_t modified_by;
} bcast_key;

static int bcast_key_order(const void *a, const void *b) {
  const bcast_key *x = a, *y = b;
  return bytes_compare(x->key, sds_len(x->key), y->key, sds_len(y->key));
}

/* build_broadcast_reply: the RESP array of |keys| (sorted), leaving out
 * the ones |skip_id| modified last (NOLOOP; 0 keeps all). NULL if none is
 * left. */
static sds build_broadcast_reply(const bcast_key *keys, size_t count,
                                 uint64_t skip_id) {
  size_t n = 0;
  for (size_t i = 0; i < count; i++) {
    n += skip_id == 0 || keys[i].modified_by != skip_id;
  }
  if (n == 0) {
    return NULL;
  }
  sds proto = sds_cat_printf(sds_empty(), "*%zu\r\n", n);
  for (size_t i = 0; i < count; i++) {
    if (skip_id != 0 && keys[i].modified_by == skip_id) {
      continue;
    }
    proto = sds_cat_printf(proto, "$%zu\r\n", sds_len(keys[i].key));
    proto = sds_cat_len(proto, keys[i].key, sds_len(keys[i].key));
    proto = sds_cat_len(proto, "\r\n", 2);
  }
  return proto;
}

static void broadcast_prefix(bcast_prefix *bp) {
  size_t count = dict_size(bp->keys);
  bcast_key *keys = zmalloc(count * sizeof(*keys));
  size_t n = 0;
  dict_iterator di;
  dict_init_iterator(&di, bp->keys);
  dict_entry *de;
  while ((de = dict_next(&di)) != NULL && n < count) {
    keys[n].key = dict_get_key(de);
    keys[n].modified_by = de->v.u64;
    n++;
  }
  dict_reset_iterator(&di);
  qsort(keys, n, sizeof(*keys), bcast_key_order);
  sds proto = build_broadcast_reply(keys, n, 0);
  dict_init_iterator(&di, bp->clients);
  while ((de = dict_next(&di)) != NULL) {
    client *c = dict_get_key(de);
    if (c->flags & CLIENT_TRACKING_NOLOOP) {
      sds own = build_broadcast_reply(keys, n, c->id);
      if (own != NULL) {
        tracking_send(c, own, sds_len(own), 1);
        sds_free(own);
      }
    } else {
      tracking_send(c, proto, sds_len(proto), 1);
    }
  }
  dict_reset_iterator(&di);
  sds_free(proto);
  zfree(keys);
}

void tracking_broadcast_invalidation_messages(void) {
  if (tracking.table == NULL || tracking.clients == 0) {
    return;
  }
  for (size_t i = 0; i < tracking.prefix_count; i++) {
    bcast_prefix *bp = tracking.prefixes[i];
    if (dict_size(bp->keys) > 0) {
      broadcast_prefix(bp);
      dict_empty(bp->keys, NULL);
    }
  }
}

/* ------------------------------------------------------------------ */
/* Enabling and disabling                                               */
/* ------------------------------------------------------------------ */
static long long tracking_timer_proc(ae_loop *loop, long long id, void *data) {
  (void)loop;
  (void)id;
  (void)data;
  /* Redis's serverCron does this, so that a limit lowered by CONFIG SET
   * applies on an idle server too. */
  if (tracking.clients) {
    tracking_limit_used_slots();
  }
  return 1000 / (server.hz > 0 ? server.hz : CONFIG_DEFAULT_HZ);
}

static void tracking_init(void) {
  if (tracking.table != NULL) {
    return;
  }
  tracking.table = dict_create(&tracking_table_type);
  if (server.el != NULL) {
    ae_create_timer(server.el, 1000 / CONFIG_DEFAULT_HZ, tracking_timer_proc,
                    NULL);
  }
}

void tracking_enable(client *c, uint64_t redirect_to, uint64_t options,
                     robj **prefixes, size_t count) {
  if (!(c->flags & CLIENT_TRACKING)) {
    tracking.clients++;
  }
  c->flags |= CLIENT_TRACKING;
  c->flags &= ~(CLIENT_TRACKING_BROKEN_REDIR | CLIENT_TRACKING_BCAST |
                CLIENT_TRACKING_OPTIN | CLIENT_TRACKING_OPTOUT |
                CLIENT_TRACKING_NOLOOP);
  c->tracking_redirect = redirect_to;
  tracking_init();
  if (options & CLIENT_TRACKING_BCAST) {
    c->flags |= CLIENT_TRACKING_BCAST;
    if (count == 0) {
      enable_bcast_prefix(c, "", 0);
    }
    for (size_t j = 0; j < count; j++) {
      char buf[LONG_STR_SIZE];
      size_t len;
      const char *p = key_text(prefixes[j], buf, &len);
      enable_bcast_prefix(c, p, len);
    }
  }
  c->flags |= options & (CLIENT_TRACKING_OPTIN | CLIENT_TRACKING_OPTOUT |
                         CLIENT_TRACKING_NOLOOP);
}

void tracking_disable(client *c) {
  struct tracking_prefix_set *set = c->tracking_prefixes;
  if ((c->flags & CLIENT_TRACKING_BCAST) && set != NULL) {
    for (size_t i = 0; i < set->count; i++) {
      prefix_table_remove_client(c, set->items[i]);
      sds_free(set->items[i]);
    }
    zfree(set->items);
    zfree(set);
    c->tracking_prefixes = NULL;
  }
  if (c->flags & CLIENT_TRACKING) {
    tracking.clients--;
    c->flags &= ~(CLIENT_TRACKING | CLIENT_TRACKING_BROKEN_REDIR |
                  CLIENT_TRACKING_BCAST | CLIENT_TRACKING_OPTIN |
                  CLIENT_TRACKING_OPTOUT | CLIENT_TRACKING_CACHING |
                  CLIENT_TRACKING_NOLOOP);
  }
}

void tracking_client_freed(client *c) {
  if (c->flags & CLIENT_TRACKING) {
    tracking_disable(c);
  }
}

int tracking_check_prefixes_or_reply(client *c, robj **prefixes, size_t count) {
  struct tracking_prefix_set *set = c->tracking_prefixes;
  for (size_t i = 0; i < count; i++) {
    char buf[LONG_STR_SIZE];
    size_t len;
    const char *p = key_text(prefixes[i], buf, &len);
    for (size_t k = 0; set != NULL && k < set->count; k++) {
      if (prefixes_overlap(set->items[k], sds_len(set->items[k]), p, len)) {
        add_reply_error_format(c,
                               "Prefix '%s' overlaps with an existing prefix "
                               "'%s'. Prefixes for a single client must not "
                               "overlap.",
                               p, set->items[k]);
        return 0;
      }
    }
    for (size_t j = i + 1; j < count; j++) {
      char buf2[LONG_STR_SIZE];
      size_t len2;
      const char *q = key_text(prefixes[j], buf2, &len2);
      if (prefixes_overlap(p, len, q, len2)) {
        /* Redis 7.0 (up to 7.4 at least) goes on to enable tracking and
         * replies +OK after this error when the overlap is not at the first
         * prefix: two replies to one command. One is sent here. */
        add_reply_error_format(c,
                               "Prefix '%s' overlaps with another provided "
                               "prefix '%s'. Prefixes for a single client "
                               "must not overlap.",
                               p, q);
        return 0;
      }
    }
  }
  return 1;
}

/* ------------------------------------------------------------------ */
/* Remembering keys                                                     */
/* ------------------------------------------------------------------ */
static void remember_keys(client *c) {
  uint64_t optin = c->flags & CLIENT_TRACKING_OPTIN;
  uint64_t optout = c->flags & CLIENT_TRACKING_OPTOUT;
  uint64_t caching = c->flags & CLIENT_TRACKING_CACHING;
  if ((optin && !caching) || (optout && caching)) {
    return;
  }
  /* Key specs first, as COMMAND GETKEYS: the commands whose keys Redis finds
   * with a getkeys proc (EVAL, ZUNION, XREAD...) have key specs here. */
  get_keys_result result;
  int numkeys =
      get_keys_from_command_with_specs(c->cmd, c->argv, c->argc, &result);
  /* Shard channels are keys for cluster routing only: not cached. */
  if (numkeys > 0 && !(c->cmd->flags & CMD_PUBSUB)) {
    for (int j = 0; j < numkeys; j++) {
      int owned;
      sds key = key_sds(c->argv[result.keys[j].pos], &owned);
      dict_entry *de = dict_find(tracking.table, key);
      if (de == NULL) {
        de = dict_add_raw(tracking.table, owned ? key : sds_dup(key), NULL);
        dict_set_val(tracking.table, de, intset_new());
        owned = 0; /* the table keeps it */
      }
      uint8_t added = 0;
      intset *ids = intset_add(dict_get_val(de), (int64_t)c->id, &added);
      dict_set_val(tracking.table, de, ids);
      tracking.total_items += added;
      if (owned) {
        sds_free(key);
      }
    }
  }
  get_keys_free_result(&result);
}

/* is_read_only_script_command: EVAL_RO and friends are read-only, but the
 * keys they track are remembered by the read commands they run. */
static int is_read_only_script_command(redis_command *cmd) {
  const char *n = cmd->fullname;
  return n != NULL && (!strcmp(n, "eval_ro") || !strcmp(n, "evalsha_ro") ||
                       !strcmp(n, "fcall_ro"));
}

void tracking_command_executed(client *c) {
  if (tracking.clients == 0 || c->cmd == NULL ||
      !(c->cmd->flags & CMD_READONLY) || is_read_only_script_command(c->cmd)) {
    return;
  }
  /* A script's read remembers the keys its caller declared. */
  client *caller = c;
  if ((c->flags & CLIENT_SCRIPT) && server.current_client != NULL) {
    caller = server.current_client;
  }
  if ((caller->flags & CLIENT_TRACKING) &&
      !(caller->flags & CLIENT_TRACKING_BCAST) && caller->cmd != NULL) {
    remember_keys(caller);
  }
}

void tracking_client_reset(client *c) {
  if (!(c->flags & CLIENT_TRACKING_CACHING) || (c->flags & CLIENT_MULTI)) {
    return;
  }
  /* Any CLIENT subcommand keeps it, as Redis (all run clientCommand). */
  redis_command *cmd = c->cmd;
  if (cmd != NULL && cmd->parent != NULL) {
    cmd = cmd->parent;
  }
  if (cmd == NULL || strcasecmp(cmd->declared_name, "client") != 0) {
    c->flags &= ~CLIENT_TRACKING_CACHING;
  }
}

/* ------------------------------------------------------------------ */
/* Invalidation                                                         */
/* ------------------------------------------------------------------ */
void tracking_invalidate_key(client *c, robj *keyobj, int bcast) {
  if (tracking.table == NULL) {
    return;
  }
  char buf[LONG_STR_SIZE];
  size_t keylen;
  const char *key = key_text(keyobj, buf, &keylen);
  if (bcast && tracking.prefix_count > 0) {
    remember_key_to_broadcast(c, key, keylen);
  }
  int owned;
  sds lookup = key_sds(keyobj, &owned);
  dict_entry *de = dict_find(tracking.table, lookup);
  if (de == NULL) {
    if (owned) {
      sds_free(lookup);
    }
    return;
  }
  /* Take the ids and forget the key before anything is sent: the key is
   * tracked again only if read again. */
  intset *set = dict_get_val(de);
  uint32_t n = intset_len(set);
  uint64_t stack_ids[TRACKING_STACK_IDS];
  uint64_t *ids =
      n <= TRACKING_STACK_IDS ? stack_ids : zmalloc(sizeof(*ids) * (size_t)n);
  for (uint32_t i = 0; i < n; i++) {
    int64_t v;
    intset_get(set, i, &v);
    ids[i] = (uint64_t)v;
  }
  tracking.total_items -= n;
  dict_delete(tracking.table, lookup);
  if (owned) {
    sds_free(lookup);
  }
  if (n > 1) {
    qsort(ids, n, sizeof(*ids), id_order);
  }
  for (uint32_t i = 0; i < n; i++) {
    client *target = lookup_client_by_id(ids[i]);
    /* A client that switched to BCAST since it read the key is not told
     * about its pre-BCAST keys. */
    if (target == NULL || !(target->flags & CLIENT_TRACKING) ||
        (target->flags & CLIENT_TRACKING_BCAST)) {
      continue;
    }
    if ((target->flags & CLIENT_TRACKING_NOLOOP) &&
        target == server.current_client) {
      continue;
    }
    if (must_hold_back(target)) {
      pending_add(target, create_string_object(key, keylen));
    } else {
      tracking_send(target, key, keylen, 0);
    }
  }
  if (ids != stack_ids) {
    zfree(ids);
  }
}

void tracking_invalidate_keys_on_flush(int async) {
  (void)async; /* no lazy-free thread: the table is freed in place */
  if (tracking.clients > 0 && server.clients != NULL) {
    list_iter li;
    list_node *ln;
    list_rewind(server.clients, &li);
    while ((ln = list_next(&li)) != NULL) {
      client *c = list_node_value(ln);
      if (!(c->flags & CLIENT_TRACKING)) {
        continue;
      }
      if (c == server.current_client) {
        pending_add(c, NULL);
      } else {
        tracking_send_null(c);
      }
    }
  }
  if (tracking.table != NULL) {
    dict_empty(tracking.table, NULL);
    tracking.total_items = 0;
  }
}

void tracking_limit_used_slots(void) {
  if (tracking.table == NULL || server.tracking_table_max_keys == 0) {
    return;
  }
  size_t max_keys = server.tracking_table_max_keys;
  if (dict_size(tracking.table) <= max_keys) {
    tracking.limit_rounds_over = 0;
    return;
  }
  long effort =
      (long)TRACKING_LIMIT_EFFORT_STEP * (tracking.limit_rounds_over + 1);
  while (effort-- > 0) {
    dict_entry *de = dict_get_fair_random_key(tracking.table);
    if (de == NULL) {
      break;
    }
    sds key = dict_get_key(de);
    robj *keyobj = create_string_object(key, sds_len(key));
    tracking_invalidate_key(NULL, keyobj, 0);
    decr_ref_count(keyobj);
    if (dict_size(tracking.table) <= max_keys) {
      tracking.limit_rounds_over = 0;
      return;
    }
  }
  tracking.limit_rounds_over++;
}

/* ------------------------------------------------------------------ */
/* Counters                                                             */
/* ------------------------------------------------------------------ */
unsigned long tracking_clients_count(void) { return tracking.clients; }

unsigned long long tracking_total_keys(void) {
  return tracking.table ? dict_size(tracking.table) : 0;
}

unsigned long long tracking_total_items(void) { return tracking.total_items; }

unsigned long long tracking_total_prefixes(void) {
  return tracking.prefix_count;
}
