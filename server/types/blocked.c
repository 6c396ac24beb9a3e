/* blocked.c: clients blocked on keys (see blocked.h).
 *
 * Data:
 *   - db->blocking_keys: key -> list of clients blocked on it, in arrival
 *     order (first come, first served).
 *   - each blocked client's bstate: the keys it waits on (key -> its node in
 *     the db list, so leaving is O(1) per key), its deadline, and the serve
 *     callback of the command that blocked it.
 *   - a ready list of (db, key) filled by signal_key_as_ready() and drained
 *     by handle_clients_blocked_on_keys() after each command; db->ready_keys
 *     keeps a key from being queued twice.
 *   - a min-heap of deadlines driven by one ae timer. Entries name the
 *     client by id and block generation, so an entry of a client that was
 *     served or freed meanwhile is simply skipped (lazy deletion; the heap
 *     is compacted when stale entries dominate).
 *   - unblocked clients wait in a list for a 0 ms timer that runs the
 *     commands they pipelined while blocked. */
#include <math.h>

#include "server/base/zmalloc.h"
#include "server/core/networking.h"
#include "server/types/blocked.h"

/* Longest single wait of the deadline timer (ms); a later deadline just
 * re-arms it. Keeps huge timeouts away from the timer's arithmetic. */
#define BLOCKING_MAX_TIMER_DELAY_MS (3600LL * 1000)

/* Compact the deadline heap when this many entries are stale and they
 * outnumber the live ones. */
#define BLOCKING_HEAP_COMPACT_MIN 1024

typedef struct blocking_state {
  redis_db *db;        /* where the keys are */
  dict *keys;          /* robj key -> list_node* in db->blocking_keys */
  long long deadline;  /* unix ms, 0 = none */
  uint64_t generation; /* identifies this blocking in the heap */
  int key_type;
  block_serve_proc serve;
  block_gone_proc gone; /* or NULL */
  void *privdata;
  block_free_proc free_privdata;
  block_timeout_proc on_timeout; /* block_for_event, else NULL */
  list_node *unblocked_node;     /* in blocking.unblocked, or NULL */
} blocking_state;

typedef struct ready_key {
  redis_db *db;
  robj *key;
} ready_key;

typedef struct deadline_entry {
  long long when;
  uint64_t client_id;
  uint64_t generation;
} deadline_entry;

static struct {
  int initialized;
  list *ready;               /* ready_key*, in signal order */
  list *unblocked;           /* client* to reprocess */
  long long reprocess_timer; /* -1 when not armed */
  deadline_entry *heap;
  size_t heap_len, heap_cap;
  size_t heap_stale;
  long long deadline_timer; /* -1 when not armed */
  long long deadline_timer_when;
  unsigned long blocked_count;
  unsigned long with_deadline_count; /* blocked with a deadline */
  uint64_t next_generation;
} blocking;

static uint64_t blocking_key_hash(const void *key) {
  const robj *o = key;
  return dict_gen_hash_function(o->ptr, sds_len((sds)o->ptr));
}

static int blocking_key_compare(const void *a, const void *b) {
  const robj *o1 = a, *o2 = b;
  return dict_sds_key_compare(o1->ptr, o2->ptr);
}

/* Per-client key set: robj keys (own reference), list_node* values. */
static dict_type client_keys_dict_type = {
    blocking_key_hash,   NULL, NULL, blocking_key_compare,
    decr_ref_count_void, NULL, NULL};

static void blocking_on_free(client *c);

static const client_module_hooks blocking_hooks = {
    .on_free = blocking_on_free,
    .multi_count = NULL,
    .multi_mem = NULL,
    .user_name = NULL,
};

/* blocking_init registers the hooks the first time they can matter: no
 * client can be blocked before the first block_for_keys. */
static void blocking_init(void) {
  if (blocking.initialized) {
    return;
  }
  blocking.initialized = 1;
  blocking.ready = list_create();
  blocking.unblocked = list_create();
  blocking.reprocess_timer = -1;
  blocking.deadline_timer = -1;
  blocking.next_generation = 1;
  client_register_hooks(&blocking_hooks);
}

/* blocking_key_copy returns a new string object with key's bytes: the
 * structures here outlive the command's argv. */
static robj *blocking_key_copy(robj *key) {
  if (sds_encoded_object(key)) {
    return create_string_object(key->ptr, sds_len(key->ptr));
  }
  robj *dec = get_decoded_object(key);
  robj *copy = create_string_object(dec->ptr, sds_len(dec->ptr));
  decr_ref_count(dec);
  return copy;
}

/* ------------------------------------------------------------------ */
/* Deadline heap                                                        */
/* ------------------------------------------------------------------ */
static void heap_swap(size_t a, size_t b) {
  deadline_entry t = blocking.heap[a];
  blocking.heap[a] = blocking.heap[b];
  blocking.heap[b] = t;
}

static void heap_sift_up(size_t i) {
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (blocking.heap[parent].when <= blocking.heap[i].when) {
      break;
    }
    heap_swap(parent, i);
    i = parent;
  }
}

static void heap_sift_down(size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < blocking.heap_len &&
        blocking.heap[l].when < blocking.heap[m].when) {
      m = l;
    }
    if (r < blocking.heap_len &&
        blocking.heap[r].when < blocking.heap[m].when) {
      m = r;
    }
    if (m == i) {
      return;
    }
    heap_swap(i, m);
    i = m;
  }
}

static void heap_push(deadline_entry e) {
  if (blocking.heap_len == blocking.heap_cap) {
    size_t cap = blocking.heap_cap ? blocking.heap_cap * 2 : 64;
    blocking.heap = zrealloc(blocking.heap, cap * sizeof(deadline_entry));
    blocking.heap_cap = cap;
  }
  blocking.heap[blocking.heap_len++] = e;
  heap_sift_up(blocking.heap_len - 1);
}

static deadline_entry heap_pop(void) {
  deadline_entry top = blocking.heap[0];
  blocking.heap[0] = blocking.heap[--blocking.heap_len];
  if (blocking.heap_len > 0) {
    heap_sift_down(0);
  }
  return top;
}

/* deadline_entry_client returns the client an entry still applies to, or
 * NULL if it was served, freed or blocked again since. */
static client *deadline_entry_client(const deadline_entry *e) {
  client *c = lookup_client_by_id(e->client_id);
  if (c == NULL || !(c->flags & CLIENT_BLOCKED) || c->bstate == NULL) {
    return NULL;
  }
  blocking_state *bs = c->bstate;
  return bs->generation == e->generation ? c : NULL;
}

static void heap_compact(void) {
  size_t kept = 0;
  for (size_t i = 0; i < blocking.heap_len; i++) {
    if (deadline_entry_client(&blocking.heap[i]) != NULL) {
      blocking.heap[kept++] = blocking.heap[i];
    }
  }
  blocking.heap_len = kept;
  blocking.heap_stale = 0;
  for (size_t i = kept / 2 + 1; i-- > 0;) {
    heap_sift_down(i);
  }
}

static long long deadline_timer_proc(ae_loop *loop, long long id, void *data) {
  (void)loop;
  (void)id;
  (void)data;
  long long now = mstime();
  /* Budget: the entries present now. */
  size_t budget = blocking.heap_len;
  while (blocking.heap_len > 0 && budget-- > 0 &&
         blocking.heap[0].when <= now) {
    deadline_entry e = heap_pop();
    client *c = deadline_entry_client(&e);
    if (c == NULL) {
      if (blocking.heap_stale > 0) {
        blocking.heap_stale--;
      }
      continue;
    }
    unblock_client_with_timeout_reply(c);
    /* That unblock counted its entry as stale, but it is gone already. */
    if (blocking.heap_stale > 0) {
      blocking.heap_stale--;
    }
  }
  if (blocking.heap_len == 0) {
    blocking.deadline_timer = -1;
    return AE_NOMORE;
  }
  long long delay = blocking.heap[0].when - mstime();
  if (delay < 1) {
    delay = 1;
  } else if (delay > BLOCKING_MAX_TIMER_DELAY_MS) {
    delay = BLOCKING_MAX_TIMER_DELAY_MS;
  }
  blocking.deadline_timer_when = mstime() + delay;
  return delay;
}

static void deadline_add(client *c, blocking_state *bs) {
  deadline_entry e = {bs->deadline, c->id, bs->generation};
  heap_push(e);
  if (blocking.deadline_timer != -1 &&
      blocking.deadline_timer_when <= bs->deadline) {
    return;
  }
  if (blocking.deadline_timer != -1) {
    ae_delete_timer(server.el, blocking.deadline_timer);
  }
  long long delay = bs->deadline - mstime();
  if (delay < 0) {
    delay = 0;
  } else if (delay > BLOCKING_MAX_TIMER_DELAY_MS) {
    delay = BLOCKING_MAX_TIMER_DELAY_MS;
  }
  blocking.deadline_timer =
      ae_create_timer(server.el, delay, deadline_timer_proc, NULL);
  blocking.deadline_timer_when = mstime() + delay;
}

void blocking_propagate(client *c, redis_db *db, robj **argv, int argc) {
  also_propagate(db->id, argv, argc);
  if (server.executing_client == c) {
    c->flags |= CLIENT_PREVENT_AOF_PROP; /* cleared when its call ends */
  }
}

void blocking_propagate_pop(client *c, redis_db *db, robj *cmd, robj *key,
                            long count) {
  robj *argv[3] = {cmd, key, NULL};
  if (count == -1) {
    blocking_propagate(c, db, argv, 2);
    return;
  }
  argv[2] = create_string_object_from_long_long(count);
  blocking_propagate(c, db, argv, 3);
  decr_ref_count(argv[2]);
}

/* ------------------------------------------------------------------ */
/* Reprocessing clients after unblock                                   */
/* ------------------------------------------------------------------ */
static long long reprocess_timer_proc(ae_loop *loop, long long id, void *data) {
  (void)loop;
  (void)id;
  (void)data;
  blocking.reprocess_timer = -1;
  /* Budget: the clients queued now; later ones get the next pass. */
  unsigned long budget = list_length(blocking.unblocked);
  while (budget-- > 0 && list_length(blocking.unblocked) > 0) {
    list_node *ln = list_first(blocking.unblocked);
    client *c = list_node_value(ln);
    list_del_node(blocking.unblocked, ln);
    blocking_state *bs = c->bstate;
    if (bs != NULL) {
      bs->unblocked_node = NULL;
    }
    c->flags &= ~CLIENT_UNBLOCKED;
    if (!(c->flags & CLIENT_BLOCKED) && c->querybuf != NULL &&
        sds_len(c->querybuf) > c->qb_pos) {
      client *old = server.current_client;
      (void)process_input_buffer(c); /* may free c */
      server.current_client = old;
    }
  }
  if (list_length(blocking.unblocked) > 0) {
    blocking.reprocess_timer =
        ae_create_timer(server.el, 0, reprocess_timer_proc, NULL);
  }
  return AE_NOMORE;
}

static void queue_for_reprocessing(client *c, blocking_state *bs) {
  c->flags |= CLIENT_UNBLOCKED;
  if (bs->unblocked_node == NULL) {
    list_add_node_tail(blocking.unblocked, c);
    bs->unblocked_node = list_last(blocking.unblocked);
  }
  if (blocking.reprocess_timer == -1 && server.el != NULL) {
    blocking.reprocess_timer =
        ae_create_timer(server.el, 0, reprocess_timer_proc, NULL);
  }
}

/* ------------------------------------------------------------------ */
/* Blocking and unblocking                                              */
/* ------------------------------------------------------------------ */
/* blocking_deadline_or_reply turns a relative timeout in ms into the
 * absolute deadline (0: none). */
static int blocking_deadline_or_reply(client *c, long long tval,
                                      long long *out_deadline_ms) {
  if (tval < 0) {
    add_reply_error(c, "timeout is negative");
    return C_ERR;
  }
  if (tval > 0) {
    long long now = mstime();
    /* Past the end of time: wait forever rather than overflow (Redis's
     * sum wraps to a deadline its timeout table never reaches). */
    tval = tval > LLONG_MAX - now ? LLONG_MAX : tval + now;
  }
  *out_deadline_ms = tval;
  return C_OK;
}

int blocking_get_timeout_or_reply(client *c, robj *object,
                                  long long *out_deadline_ms) {
  long double ftval;
  if (get_long_double_from_object_or_reply(
          c, object, &ftval, "timeout is not a float or out of range") !=
      C_OK) {
    return C_ERR;
  }
  /* seconds => ms, rounded up: 0.0001 is 1 ms, not 0 ("forever"). Redis
   * 7.0 converts without a range check, so a huge value (1e30, inf)
   * becomes LLONG_MIN there: "negative". */
  ftval = ceill(ftval * 1000.0L);
  long long tval;
  if (ftval >= (long double)LLONG_MAX || ftval < (long double)LLONG_MIN) {
    tval = LLONG_MIN;
  } else {
    tval = (long long)ftval;
  }
  return blocking_deadline_or_reply(c, tval, out_deadline_ms);
}

int blocking_get_timeout_ms_or_reply(client *c, robj *object,
                                     long long *out_deadline_ms) {
  long long tval;
  if (get_long_long_from_object_or_reply(
          c, object, &tval, "timeout is not an integer or out of range") !=
      C_OK) {
    return C_ERR;
  }
  return blocking_deadline_or_reply(c, tval, out_deadline_ms);
}

int blocking_is_denied(client *c) {
  return c->conn == NULL || (c->flags & (CLIENT_MULTI | CLIENT_SCRIPT)) ||
         server.in_nested_call > 1;
}

void block_for_keys(client *c, robj **keys, int numkeys, long long deadline_ms,
                    int key_type, block_serve_proc serve, void *privdata,
                    block_free_proc free_privdata) {
  blocking_init();
  blocking_state *bs = c->bstate;
  if (bs == NULL) {
    bs = zcalloc(sizeof(*bs));
    bs->keys = dict_create(&client_keys_dict_type);
    c->bstate = bs;
  }
  server_assert(!(c->flags & CLIENT_BLOCKED));
  bs->db = c->db;
  bs->deadline = deadline_ms;
  bs->generation = blocking.next_generation++;
  bs->key_type = key_type;
  bs->serve = serve;
  bs->gone = NULL;
  bs->privdata = privdata;
  bs->free_privdata = free_privdata;
  bs->on_timeout = NULL;
  for (int j = 0; j < numkeys; j++) {
    if (dict_find(bs->keys, keys[j]) != NULL) {
      continue; /* BLPOP a a 0 waits once on a */
    }
    robj *key = blocking_key_copy(keys[j]);
    dict_entry *de = dict_find(bs->db->blocking_keys, key);
    list *waiters;
    if (de == NULL) {
      waiters = list_create();
      incr_ref_count(key);
      dict_add(bs->db->blocking_keys, key, waiters);
    } else {
      waiters = dict_get_val(de);
    }
    list_add_node_tail(waiters, c);
    dict_add(bs->keys, key, list_last(waiters));
  }
  c->flags |= CLIENT_BLOCKED;
  blocking.blocked_count++;
  if (deadline_ms > 0) {
    blocking.with_deadline_count++;
    deadline_add(c, bs);
  }
}

/* blocking_unblock removes c from every key list and frees the request.
 * With |reprocess| the client is reset for its next command and queued to
 * run what it pipelined meanwhile. */
static void blocking_unblock(client *c, int reprocess) {
  blocking_state *bs = c->bstate;
  dict_iterator di;
  dict_entry *de;
  dict_init_iterator(&di, bs->keys);
  while ((de = dict_next(&di)) != NULL) {
    robj *key = dict_get_key(de);
    list_node *node = dict_get_val(de);
    dict_entry *kde = dict_find(bs->db->blocking_keys, key);
    if (kde == NULL) {
      continue; /* cannot happen: the list lives while c is in it */
    }
    list *waiters = dict_get_val(kde);
    list_del_node(waiters, node);
    if (list_length(waiters) == 0) {
      dict_delete(bs->db->blocking_keys, key);
    }
  }
  dict_reset_iterator(&di);
  dict_empty(bs->keys, NULL);
  if (bs->free_privdata != NULL && bs->privdata != NULL) {
    bs->free_privdata(bs->privdata);
  }
  bs->privdata = NULL;
  bs->free_privdata = NULL;
  bs->serve = NULL;
  bs->gone = NULL;
  if (bs->deadline > 0) {
    blocking.with_deadline_count--;
    blocking.heap_stale++;
    if (blocking.heap_stale >= BLOCKING_HEAP_COMPACT_MIN &&
        blocking.heap_stale * 2 > blocking.heap_len) {
      c->flags &= ~CLIENT_BLOCKED; /* so the compaction drops c's entry */
      heap_compact();
    }
  }
  c->flags &= ~CLIENT_BLOCKED;
  blocking.blocked_count--;
  if (reprocess) {
    reset_client(c);
    queue_for_reprocessing(c, bs);
  }
}

void unblock_client_with_timeout_reply(client *c) {
  blocking_state *bs = c->bstate;
  if (bs && bs->on_timeout) {
    bs->on_timeout(c, bs->privdata);
  } else {
    add_reply_null_array(c);
  }
  blocking_unblock(c, 1);
}

void block_for_event(client *c, long long deadline_ms,
                     block_timeout_proc on_timeout, void *privdata,
                     block_free_proc free_privdata) {
  block_for_keys(c, NULL, 0, deadline_ms, -1, NULL, privdata, free_privdata);
  ((blocking_state *)c->bstate)->on_timeout = on_timeout;
}

void blocking_set_gone_proc(client *c, block_gone_proc gone) {
  ((blocking_state *)c->bstate)->gone = gone;
}

void blocking_unblock_answered(client *c) {
  if (c->flags & CLIENT_BLOCKED) {
    blocking_unblock(c, 1);
  }
}

int blocking_client_unblock(client *target, int with_error) {
  if (target->bstate == NULL || !(target->flags & CLIENT_BLOCKED)) {
    return 0;
  }
  if (with_error) {
    add_reply_error(target, "-UNBLOCKED client unblocked via CLIENT UNBLOCK");
    blocking_unblock(target, 1);
  } else {
    unblock_client_with_timeout_reply(target);
  }
  return 1;
}

static void blocking_on_free(client *c) {
  blocking_state *bs = c->bstate;
  if (bs == NULL) {
    return;
  }
  if (c->flags & CLIENT_BLOCKED) {
    blocking_unblock(c, 0);
  }
  if (bs->unblocked_node != NULL) {
    list_del_node(blocking.unblocked, bs->unblocked_node);
    bs->unblocked_node = NULL;
  }
  dict_release(bs->keys);
  zfree(bs);
  c->bstate = NULL;
}

unsigned long blocked_clients_count(void) { return blocking.blocked_count; }

unsigned long blocked_clients_with_timeout_count(void) {
  return blocking.with_deadline_count;
}

/* ------------------------------------------------------------------ */
/* Ready keys                                                           */
/* ------------------------------------------------------------------ */
static void signal_key_as_ready(redis_db *db, robj *key, int type) {
  (void)type; /* the waiters' own type is checked when serving */
  if (db->blocking_keys == NULL || dict_size(db->blocking_keys) == 0 ||
      dict_find(db->blocking_keys, key) == NULL ||
      dict_find(db->ready_keys, key) != NULL) {
    return;
  }
  blocking_init();
  robj *copy = blocking_key_copy(key);
  ready_key *rk = zmalloc(sizeof(*rk));
  rk->db = db;
  rk->key = copy; /* this reference belongs to rk */
  incr_ref_count(copy);
  dict_add(db->ready_keys, copy, NULL); /* and this one to ready_keys */
  list_add_node_tail(blocking.ready, rk);
}

/* serve_ready_key serves the clients blocked on one key, in arrival order:
 * with the value when it has their type, through their gone callback
 * otherwise. */
static void serve_ready_key(redis_db *db, robj *key) {
  dict_entry *de = dict_find(db->blocking_keys, key);
  if (de == NULL) {
    return;
  }
  list *waiters = dict_get_val(de);
  /* Budget: the clients waiting now. Serving one removes its node (and
   * frees the list with the last one), so the next node is taken first. */
  unsigned long budget = list_length(waiters);
  list_node *ln = list_first(waiters);
  while (ln != NULL && budget-- > 0) {
    list_node *next = list_next_node(ln);
    client *receiver = list_node_value(ln);
    blocking_state *bs = receiver->bstate;
    robj *o = lookup_key_read_with_flags(
        db, key, LOOKUP_NOTOUCH | LOOKUP_NONOTIFY | LOOKUP_NOSTATS);
    int fits = o != NULL && (int)o->type == bs->key_type;
    if ((fits && bs->serve != NULL) || (!fits && bs->gone != NULL)) {
      client *old = server.current_client;
      server.current_client = receiver;
      int served = fits ? bs->serve(receiver, db, key, o, bs->privdata)
                        : bs->gone(receiver, db, key, bs->privdata);
      server.current_client = old;
      if (served) {
        blocking_unblock(receiver, 1);
      }
    }
    ln = next;
  }
}

void handle_clients_blocked_on_keys(void) {
  if (!blocking.initialized) {
    return;
  }
  /* Serving can make more keys ready (BLMOVE pushes): loop until none is
   * left. Each round unblocks at least one client or drops its keys, so it
   * ends; the bound is a guard. */
  unsigned long rounds = blocking.blocked_count + 2;
  while (list_length(blocking.ready) > 0 && rounds-- > 0) {
    list *batch = blocking.ready;
    blocking.ready = list_create();
    list_node *ln;
    while ((ln = list_first(batch)) != NULL) {
      ready_key *rk = list_node_value(ln);
      list_del_node(batch, ln);
      /* Forget it first: a write while serving may signal it again. */
      dict_delete(rk->db->ready_keys, rk->key);
      serve_ready_key(rk->db, rk->key);
      decr_ref_count(rk->key);
      zfree(rk);
    }
    list_release(batch);
  }
}

static const keyspace_hooks blocking_keyspace_hooks = {
    .key_ready = signal_key_as_ready,
};

void blocking_register(void) {
  keyspace_register_hooks(&blocking_keyspace_hooks);
}
