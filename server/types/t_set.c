/* t_set.c: the set type and its commands (SADD ... SSCAN), Redis 7.0
 * semantics and reply texts. Encodings: see t_set.h. */
#include "server/types/t_set.h"

#include <strings.h>

#include "server/base/zmalloc.h"
#include "server/core/scan_common.h"
#include "server/ds/intset.h"
#include "server/types/t_types_common.h"

/* SPOP with count: when fewer than count/5 members would remain, build the
 * remainder as a new set instead of popping one by one (as Redis does). */
#define SPOP_MOVE_STRATEGY_MUL 5
/* SRANDMEMBER with count: above size/3, copy and remove instead of picking. */
#define SRANDMEMBER_SUB_STRATEGY_MUL 3

dict_type set_dict_type = {
    dict_sds_hash,       NULL, NULL, dict_sds_key_compare,
    dict_sds_destructor, NULL, NULL};

/* ------------------------------------------------------------------ */
/* Type API                                                             */
/* ------------------------------------------------------------------ */

static int set_parse_int(const char *s, size_t len, long long *v) {
  return len > 0 && len < LONG_STR_SIZE && string2ll(s, len, v);
}

static robj *set_create_intset_object(void) {
  robj *o = create_object(OBJ_SET, intset_new());
  o->encoding = OBJ_ENCODING_INTSET;
  return o;
}

static robj *set_create_ht_object(void) {
  robj *o = create_object(OBJ_SET, dict_create(&set_dict_type));
  o->encoding = OBJ_ENCODING_HT;
  return o;
}

robj *set_type_create(const char *value, size_t len) {
  long long v;
  if (set_parse_int(value, len, &v)) {
    return set_create_intset_object();
  }
  return set_create_ht_object();
}

unsigned long set_type_size(const robj *o) {
  if (o->encoding == OBJ_ENCODING_INTSET) {
    return intset_len(o->ptr);
  }
  return dict_size((const dict *)o->ptr);
}

void set_type_convert_to_ht(robj *o) {
  if (o->encoding != OBJ_ENCODING_INTSET) {
    return;
  }
  intset *is = o->ptr;
  dict *d = dict_create(&set_dict_type);
  dict_expand(d, intset_len(is));
  int64_t v;
  char buf[LONG_STR_SIZE];
  for (uint32_t i = 0; intset_get(is, i, &v); i++) {
    int len = ll2string(buf, sizeof(buf), v);
    dict_add(d, sds_new_len(buf, (size_t)len), NULL);
  }
  intset_free(is);
  o->ptr = d;
  o->encoding = OBJ_ENCODING_HT;
}

int set_type_add(robj *o, const char *value, size_t len) {
  long long v;
  if (o->encoding == OBJ_ENCODING_INTSET) {
    if (set_parse_int(value, len, &v)) {
      uint8_t added = 0;
      o->ptr = intset_add(o->ptr, v, &added);
      /* INTSET_MAX_LENGTH caps a huge set-max-intset-entries. */
      if (added && (intset_len(o->ptr) > server.set_max_intset_entries ||
                    intset_len(o->ptr) >= INTSET_MAX_LENGTH)) {
        set_type_convert_to_ht(o);
      }
      return added;
    }
    set_type_convert_to_ht(o);
  }
  sds member = sds_new_len(value, len);
  if (dict_add(o->ptr, member, NULL) != DICT_OK) {
    sds_free(member);
    return 0;
  }
  return 1;
}

/* Shrink a sparse table like Redis's htNeedsResize (fill < 10%). */
static void set_maybe_shrink(dict *d) {
  unsigned long slots = dict_slots(d);
  if (dict_size(d) > 0 && slots > 4 && dict_size(d) * 100 / slots < 10) {
    dict_resize(d);
  }
}

int set_type_remove(robj *o, const char *value, size_t len) {
  long long v;
  if (o->encoding == OBJ_ENCODING_INTSET) {
    if (!set_parse_int(value, len, &v)) {
      return 0;
    }
    int removed = 0;
    o->ptr = intset_remove(o->ptr, v, &removed);
    return removed;
  }
  sds member = sds_new_len(value, len);
  int removed = dict_delete(o->ptr, member) == DICT_OK;
  sds_free(member);
  if (removed) {
    set_maybe_shrink(o->ptr);
  }
  return removed;
}

int set_type_is_member(robj *o, const char *value, size_t len) {
  long long v;
  if (o->encoding == OBJ_ENCODING_INTSET) {
    return set_parse_int(value, len, &v) && intset_find(o->ptr, v);
  }
  sds member = sds_new_len(value, len);
  int found = dict_find(o->ptr, member) != NULL;
  sds_free(member);
  return found;
}

/* Iteration over either encoding; elements come out as bytes. */
typedef struct set_iter {
  robj *o;
  uint32_t pos;
  dict_iterator di;
  char buf[LONG_STR_SIZE];
} set_iter;

static void set_iter_init(set_iter *it, robj *o) {
  it->o = o;
  it->pos = 0;
  if (o->encoding == OBJ_ENCODING_HT) {
    dict_init_iterator(&it->di, o->ptr);
  }
}

static int set_iter_next(set_iter *it, const char **ele, size_t *len) {
  if (it->o->encoding == OBJ_ENCODING_INTSET) {
    int64_t v;
    if (!intset_get(it->o->ptr, it->pos, &v)) {
      return 0;
    }
    it->pos++;
    *len = (size_t)ll2string(it->buf, sizeof(it->buf), v);
    *ele = it->buf;
    return 1;
  }
  dict_entry *de = dict_next(&it->di);
  if (de == NULL) {
    return 0;
  }
  sds s = dict_get_key(de);
  *ele = s;
  *len = sds_len(s);
  return 1;
}

static void set_iter_done(set_iter *it) {
  if (it->o->encoding == OBJ_ENCODING_HT) {
    dict_reset_iterator(&it->di);
  }
}

unsigned long set_type_foreach(robj *o, set_member_fn *fn, void *privdata) {
  set_iter it;
  const char *ele;
  size_t len;
  unsigned long n = 0;
  set_iter_init(&it, o);
  while (set_iter_next(&it, &ele, &len)) {
    fn(privdata, ele, len);
    n++;
  }
  set_iter_done(&it);
  return n;
}

/* A random member: intsets print into buf. */
static void set_random_member(robj *o, char buf[LONG_STR_SIZE],
                              const char **ele, size_t *len) {
  if (o->encoding == OBJ_ENCODING_INTSET) {
    int64_t v = intset_random(o->ptr);
    *len = (size_t)ll2string(buf, LONG_STR_SIZE, v);
    *ele = buf;
    return;
  }
  dict_entry *de = dict_get_fair_random_key(o->ptr);
  sds s = dict_get_key(de);
  *ele = s;
  *len = sds_len(s);
}

/* ------------------------------------------------------------------ */
/* object_type_ops (core/db.h)                                            */
/* ------------------------------------------------------------------ */

static void free_set_object(robj *o) {
  if (o->encoding == OBJ_ENCODING_INTSET) {
    intset_free(o->ptr);
  } else {
    dict_release(o->ptr);
  }
}

static robj *set_type_dup(robj *o) {
  if (o->encoding == OBJ_ENCODING_INTSET) {
    robj *copy = create_object(OBJ_SET, intset_dup(o->ptr));
    copy->encoding = OBJ_ENCODING_INTSET;
    return copy;
  }
  robj *copy = set_create_ht_object();
  dict_expand(copy->ptr, set_type_size(o));
  set_iter it;
  const char *ele;
  size_t len;
  set_iter_init(&it, o);
  while (set_iter_next(&it, &ele, &len)) {
    dict_add(copy->ptr, sds_new_len(ele, len), NULL);
  }
  set_iter_done(&it);
  return copy;
}

static size_t set_compute_size(robj *o, size_t samples) {
  size_t size = sizeof(*o);
  if (o->encoding == OBJ_ENCODING_INTSET) {
    return size + zmalloc_size(o->ptr);
  }
  dict *d = o->ptr;
  size += sizeof(dict) + dict_slots(d) * sizeof(dict_entry *);
  size_t n = dict_size(d);
  if (n == 0) {
    return size;
  }
  dict_iterator di;
  dict_init_iterator(&di, d);
  dict_entry *de;
  size_t measured = 0, bytes = 0;
  while ((de = dict_next(&di)) != NULL &&
         (samples == 0 || measured < samples)) {
    bytes += sizeof(dict_entry) + sds_alloc_size(dict_get_key(de));
    measured++;
  }
  dict_reset_iterator(&di);
  return size + (measured ? bytes / measured * n : 0);
}

/* ------------------------------------------------------------------ */
/* Single-key commands                                                  */
/* ------------------------------------------------------------------ */

/* Member arguments arrive as sds strings off the wire. */
#define ARG_PTR(o) ((const char *)(o)->ptr)
#define ARG_LEN(o) sds_len((o)->ptr)

static void set_sadd_command(client *c) {
  robj *o = lookup_key_write(c->db, c->argv[1]);
  if (check_type(c, o, OBJ_SET)) {
    return;
  }
  if (o == NULL) {
    o = set_type_create(ARG_PTR(c->argv[2]), ARG_LEN(c->argv[2]));
    db_add(c->db, c->argv[1], o);
  }
  long added = 0;
  for (int j = 2; j < c->argc; j++) {
    added += set_type_add(o, ARG_PTR(c->argv[j]), ARG_LEN(c->argv[j]));
  }
  if (added) {
    signal_modified_key(c, c->db, c->argv[1]);
    notify_keyspace_event(NOTIFY_SET, "sadd", c->argv[1], c->db->id);
  }
  server.dirty += added;
  add_reply_long_long(c, added);
}

static void set_srem_command(client *c) {
  robj *o = lookup_key_write_or_reply(c, c->argv[1], shared.czero);
  if (o == NULL || check_type(c, o, OBJ_SET)) {
    return;
  }
  type_remove_members(c, o, 2, set_type_remove, set_type_size, NOTIFY_SET,
                      "srem");
}

static void set_smove_command(client *c) {
  robj *src = lookup_key_write(c->db, c->argv[1]);
  robj *dst = lookup_key_write(c->db, c->argv[2]);
  robj *ele = c->argv[3];
  if (src == NULL) {
    add_reply(c, shared.czero);
    return;
  }
  if (check_type(c, src, OBJ_SET) || check_type(c, dst, OBJ_SET)) {
    return;
  }
  if (src == dst) {
    add_reply(c, set_type_is_member(src, ARG_PTR(ele), ARG_LEN(ele))
                     ? shared.cone
                     : shared.czero);
    return;
  }
  if (!set_type_remove(src, ARG_PTR(ele), ARG_LEN(ele))) {
    add_reply(c, shared.czero);
    return;
  }
  notify_keyspace_event(NOTIFY_SET, "srem", c->argv[1], c->db->id);
  if (set_type_size(src) == 0) {
    db_delete(c->db, c->argv[1]);
    notify_keyspace_event(NOTIFY_GENERIC, "del", c->argv[1], c->db->id);
  }
  if (dst == NULL) {
    dst = set_type_create(ARG_PTR(ele), ARG_LEN(ele));
    db_add(c->db, c->argv[2], dst);
  }
  signal_modified_key(c, c->db, c->argv[1]);
  server.dirty++;
  /* dst changed only if ele was not there yet: otherwise WATCH on dst
   * holds and no "sadd" is sent (Redis). */
  if (set_type_add(dst, ARG_PTR(ele), ARG_LEN(ele))) {
    server.dirty++;
    signal_modified_key(c, c->db, c->argv[2]);
    notify_keyspace_event(NOTIFY_SET, "sadd", c->argv[2], c->db->id);
  }
  add_reply(c, shared.cone);
}

static void set_sismember_command(client *c) {
  robj *o = lookup_key_read_or_reply(c, c->argv[1], shared.czero);
  if (o == NULL || check_type(c, o, OBJ_SET)) {
    return;
  }
  add_reply(c, set_type_is_member(o, ARG_PTR(c->argv[2]), ARG_LEN(c->argv[2]))
                   ? shared.cone
                   : shared.czero);
}

static void set_smismember_command(client *c) {
  /* A missing key answers 0 for every member. */
  robj *o = lookup_key_read(c->db, c->argv[1]);
  if (check_type(c, o, OBJ_SET)) {
    return;
  }
  add_reply_array_len(c, c->argc - 2);
  for (int j = 2; j < c->argc; j++) {
    int member = o != NULL && set_type_is_member(o, ARG_PTR(c->argv[j]),
                                                 ARG_LEN(c->argv[j]));
    add_reply(c, member ? shared.cone : shared.czero);
  }
}

static void set_scard_command(client *c) {
  robj *o = lookup_key_read_or_reply(c, c->argv[1], shared.czero);
  if (o == NULL || check_type(c, o, OBJ_SET)) {
    return;
  }
  add_reply_long_long(c, (long long)set_type_size(o));
}

/* Reply every member of o (after its length was sent). */
static void set_reply_members(client *c, robj *o) {
  set_iter it;
  const char *ele;
  size_t len;
  set_iter_init(&it, o);
  while (set_iter_next(&it, &ele, &len)) {
    add_reply_bulk_cbuffer(c, ele, len);
  }
  set_iter_done(&it);
}

/* SPOP with a count is random: it is propagated as the SREMs of what it
 * popped, 1024 members per command, as Redis 7.0 does. */
#define SPOP_PROPAGATE_BATCH 1024
typedef struct srem_batch {
  client *c;
  robj *argv[2 + SPOP_PROPAGATE_BATCH];
  int argc;
} srem_batch;

static void srem_batch_flush(srem_batch *b) {
  if (b->argc > 2) {
    also_propagate(b->c->db->id, b->argv, b->argc);
  }
  for (int j = 2; j < b->argc; j++) {
    decr_ref_count(b->argv[j]);
  }
  b->argc = 0;
}

static void srem_batch_add(srem_batch *b, const char *ele, size_t len) {
  if (b->argc == 0) {
    b->argv[0] = shared.srem;
    b->argv[1] = b->c->argv[1];
    b->argc = 2;
  }
  b->argv[b->argc++] = create_string_object(ele, len);
  if (b->argc == 2 + SPOP_PROPAGATE_BATCH) {
    srem_batch_flush(b);
  }
}

static void srem_batch_add_member(void *privdata, const char *ele, size_t len) {
  srem_batch_add(privdata, ele, len);
}

static void set_spop_with_count(client *c) {
  long l;
  if (get_positive_long_from_object_or_reply(
          c, c->argv[2], &l, "value is out of range, must be positive") !=
      C_OK) {
    return;
  }
  unsigned long count = (unsigned long)l;
  robj *o = lookup_key_write_or_reply(c, c->argv[1], shared.emptyset[c->resp]);
  if (o == NULL || check_type(c, o, OBJ_SET)) {
    return;
  }
  if (count == 0) {
    add_reply(c, shared.emptyset[c->resp]);
    return;
  }
  unsigned long size = set_type_size(o);
  notify_keyspace_event(NOTIFY_SET, "spop", c->argv[1], c->db->id);

  /* Case 1: everything goes. */
  if (count >= size) {
    /* Redis answers this case with SUNION's code, whose read lookup
     * counts a keyspace hit: INFO keyspace_hits agrees. */
    (void)lookup_key_read(c->db, c->argv[1]);
    add_reply_set_len(c, (long)size);
    set_reply_members(c, o);
    db_delete(c->db, c->argv[1]);
    notify_keyspace_event(NOTIFY_GENERIC, "del", c->argv[1], c->db->id);
    signal_modified_key(c, c->db, c->argv[1]);
    server.dirty++;
    robj *key = c->argv[1];
    incr_ref_count(key);
    rewrite_client_command_vector(
        c, 2, server.lazyfree_lazy_server_del ? shared.unlink : shared.del,
        key);
    decr_ref_count(key);
    return;
  }
  srem_batch *batch = zmalloc(sizeof(*batch));
  batch->c = c;
  batch->argc = 0;

  add_reply_set_len(c, (long)count);
  unsigned long remaining = size - count;
  char buf[LONG_STR_SIZE];
  const char *ele;
  size_t len;
  if (remaining * SPOP_MOVE_STRATEGY_MUL > count) {
    /* Case 2: pop count random members one by one. */
    for (unsigned long i = 0; i < count; i++) {
      set_random_member(o, buf, &ele, &len);
      add_reply_bulk_cbuffer(c, ele, len);
      srem_batch_add(batch, ele, len);
      /* ele may point into the dict entry: copy before removing. */
      sds copy = sds_new_len(ele, len);
      set_type_remove(o, copy, sds_len(copy));
      sds_free(copy);
    }
  } else {
    /* Case 3: move the few survivors to a new set, reply the rest. */
    robj *keep = set_create_intset_object();
    for (unsigned long i = 0; i < remaining; i++) {
      set_random_member(o, buf, &ele, &len);
      sds copy = sds_new_len(ele, len);
      set_type_add(keep, copy, sds_len(copy));
      set_type_remove(o, copy, sds_len(copy));
      sds_free(copy);
    }
    set_reply_members(c, o);
    set_type_foreach(o, srem_batch_add_member, batch);
    /* Keep the encoding rules: a survivor set from an HT set stays HT. */
    if (o->encoding == OBJ_ENCODING_HT) {
      set_type_convert_to_ht(keep);
    }
    db_overwrite(c->db, c->argv[1], keep);
  }
  srem_batch_flush(batch);
  zfree(batch);
  c->flags |= CLIENT_PREVENT_AOF_PROP; /* the SREMs stand for it */
  signal_modified_key(c, c->db, c->argv[1]);
  server.dirty += count;
}

static void set_spop_command(client *c) {
  if (c->argc == 3) {
    set_spop_with_count(c);
    return;
  }
  if (c->argc > 3) {
    add_reply_error_object(c, shared.syntaxerr);
    return;
  }
  robj *o = lookup_key_write_or_reply(c, c->argv[1], shared.null[c->resp]);
  if (o == NULL || check_type(c, o, OBJ_SET)) {
    return;
  }
  char buf[LONG_STR_SIZE];
  const char *ele;
  size_t len;
  set_random_member(o, buf, &ele, &len);
  robj *member = create_string_object(ele, len);
  set_type_remove(o, member->ptr, sds_len(member->ptr));
  notify_keyspace_event(NOTIFY_SET, "spop", c->argv[1], c->db->id);
  /* Propagate as SREM so replicas remove the same member. */
  robj *key = c->argv[1];
  incr_ref_count(key);
  rewrite_client_command_vector(c, 3, shared.srem, key, member);
  decr_ref_count(key);
  add_reply_bulk(c, member);
  decr_ref_count(member);
  if (set_type_size(o) == 0) {
    db_delete(c->db, c->argv[1]);
    notify_keyspace_event(NOTIFY_GENERIC, "del", c->argv[1], c->db->id);
  }
  signal_modified_key(c, c->db, c->argv[1]);
  server.dirty++;
}

static void set_srandmember_with_count(client *c) {
  long l;
  if (get_range_long_from_object_or_reply(c, c->argv[2], -LONG_MAX, LONG_MAX,
                                          &l, NULL) != C_OK) {
    return;
  }
  robj *o = lookup_key_read_or_reply(c, c->argv[1], shared.emptyarray);
  if (o == NULL || check_type(c, o, OBJ_SET)) {
    return;
  }
  if (l == 0) {
    add_reply(c, shared.emptyarray);
    return;
  }
  char buf[LONG_STR_SIZE];
  const char *ele;
  size_t len;
  /* Case 1: negative count: repetitions allowed. */
  if (l < 0) {
    unsigned long count = (unsigned long)(-l);
    add_reply_array_len(c, (long)count);
    while (count--) {
      set_random_member(o, buf, &ele, &len);
      add_reply_bulk_cbuffer(c, ele, len);
      /* A huge count ends when the output buffer limit closes the client
       * rather than looping for ever (as Redis does). */
      if (c->flags & CLIENT_CLOSE_ASAP) {
        break;
      }
    }
    return;
  }
  unsigned long count = (unsigned long)l;
  unsigned long size = set_type_size(o);
  /* Case 2: the whole set. */
  if (count >= size) {
    add_reply_array_len(c, (long)size);
    set_reply_members(c, o);
    return;
  }
  add_reply_array_len(c, (long)count);
  if (o->encoding == OBJ_ENCODING_INTSET) {
    /* Selection sampling over the sorted array: uniform and one pass. */
    unsigned long picked = 0, left = size;
    int64_t v;
    for (uint32_t i = 0; picked < count && intset_get(o->ptr, i, &v); i++) {
      if ((unsigned long)random() % left < count - picked) {
        add_reply_bulk_long_long(c, v);
        picked++;
      }
      left--;
    }
    return;
  }
  /* Case 3 / 4 on a hashtable: a temporary dict borrowing the members. */
  static dict_type pick_type = {dict_sds_hash, NULL, NULL, dict_sds_key_compare,
                                NULL,          NULL, NULL};
  dict *src = o->ptr;
  dict *picked = dict_create(&pick_type);
  dict_expand(picked, count);
  if (count * SRANDMEMBER_SUB_STRATEGY_MUL > size) {
    dict_iterator di;
    dict_init_iterator(&di, src);
    dict_entry *de;
    while ((de = dict_next(&di)) != NULL) {
      dict_add(picked, dict_get_key(de), NULL);
    }
    dict_reset_iterator(&di);
    while (dict_size(picked) > count) {
      dict_entry *victim = dict_get_fair_random_key(picked);
      dict_delete(picked, dict_get_key(victim));
    }
  } else {
    while (dict_size(picked) < count) {
      dict_entry *de = dict_get_fair_random_key(src);
      dict_add(picked, dict_get_key(de), NULL);
    }
  }
  dict_iterator di;
  dict_init_iterator(&di, picked);
  dict_entry *de;
  while ((de = dict_next(&di)) != NULL) {
    sds s = dict_get_key(de);
    add_reply_bulk_cbuffer(c, s, sds_len(s));
  }
  dict_reset_iterator(&di);
  dict_release(picked);
}

static void set_srandmember_command(client *c) {
  if (c->argc == 3) {
    set_srandmember_with_count(c);
    return;
  }
  if (c->argc > 3) {
    add_reply_error_object(c, shared.syntaxerr);
    return;
  }
  robj *o = lookup_key_read_or_reply(c, c->argv[1], shared.null[c->resp]);
  if (o == NULL || check_type(c, o, OBJ_SET)) {
    return;
  }
  char buf[LONG_STR_SIZE];
  const char *ele;
  size_t len;
  set_random_member(o, buf, &ele, &len);
  add_reply_bulk_cbuffer(c, ele, len);
}

/* ------------------------------------------------------------------ */
/* Multi-key commands                                                   */
/* ------------------------------------------------------------------ */

static int set_compare_by_size(const void *a, const void *b) {
  robj *sa = *(robj *const *)a, *sb = *(robj *const *)b;
  unsigned long la = set_type_size(sa), lb = set_type_size(sb);
  if (la != lb) {
    return la < lb ? -1 : 1;
  }
  return 0;
}

/* Store dstset at dstkey (or delete dstkey when empty) and reply the size,
 * as the *STORE commands do. Consumes the caller's reference. */
static void set_store_result(client *c, robj *dstkey, robj *dstset,
                             const char *event) {
  unsigned long size = set_type_size(dstset);
  if (size > 0) {
    set_key(c, c->db, dstkey, dstset, 0);
    add_reply_long_long(c, (long long)size);
    notify_keyspace_event(NOTIFY_SET, event, dstkey, c->db->id);
    server.dirty++;
  } else {
    add_reply(c, shared.czero);
    if (db_delete(c->db, dstkey)) {
      server.dirty++;
      signal_modified_key(c, c->db, dstkey);
      notify_keyspace_event(NOTIFY_GENERIC, "del", dstkey, c->db->id);
    }
  }
  decr_ref_count(dstset);
}

/* Look up the source sets; NULL entries for missing keys. Returns the
 * array (zfree it) or NULL after a WRONGTYPE reply. */
static robj **set_lookup_sources(client *c, robj **keys, long n,
                                 long *missing) {
  robj **sets = zmalloc(sizeof(robj *) * (size_t)n);
  *missing = 0;
  for (long j = 0; j < n; j++) {
    /* Sources are read even by the STORE forms, as Redis: keyspace hits,
     * misses and "keymiss" events count them. */
    robj *o = lookup_key_read(c->db, keys[j]);
    if (o == NULL) {
      sets[j] = NULL;
      (*missing)++;
      continue;
    }
    if (check_type(c, o, OBJ_SET)) {
      zfree(sets);
      return NULL;
    }
    sets[j] = o;
  }
  return sets;
}

/* SINTER / SMEMBERS / SINTERSTORE / SINTERCARD. limit 0 = no limit. */
static void set_inter_generic(client *c, robj **keys, long n, robj *dstkey,
                              int cardinality_only, unsigned long limit) {
  long missing;
  robj **sets = set_lookup_sources(c, keys, n, &missing);
  if (sets == NULL) {
    return;
  }
  if (missing > 0) {
    zfree(sets);
    if (dstkey != NULL) {
      if (db_delete(c->db, dstkey)) {
        signal_modified_key(c, c->db, dstkey);
        notify_keyspace_event(NOTIFY_GENERIC, "del", dstkey, c->db->id);
        server.dirty++;
      }
      add_reply(c, shared.czero);
    } else if (cardinality_only) {
      add_reply(c, shared.czero);
    } else {
      add_reply(c, shared.emptyset[c->resp]);
    }
    return;
  }
  /* Smallest first: fewer membership checks. */
  qsort(sets, (size_t)n, sizeof(robj *), set_compare_by_size);

  robj *dstset = NULL;
  void *replylen = NULL;
  unsigned long cardinality = 0;
  if (dstkey != NULL) {
    dstset = set_create_intset_object();
  } else if (!cardinality_only) {
    replylen = add_reply_deferred_len(c);
  }
  set_iter it;
  const char *ele;
  size_t len;
  set_iter_init(&it, sets[0]);
  while (set_iter_next(&it, &ele, &len)) {
    long j;
    for (j = 1; j < n; j++) {
      if (sets[j] == sets[0]) {
        continue;
      }
      if (!set_type_is_member(sets[j], ele, len)) {
        break;
      }
    }
    if (j != n) {
      continue;
    }
    if (cardinality_only) {
      cardinality++;
      if (limit && cardinality >= limit) {
        break;
      }
    } else if (dstkey == NULL) {
      add_reply_bulk_cbuffer(c, ele, len);
      cardinality++;
    } else {
      set_type_add(dstset, ele, len);
    }
  }
  set_iter_done(&it);
  zfree(sets);

  if (cardinality_only) {
    add_reply_long_long(c, (long long)cardinality);
  } else if (dstkey != NULL) {
    set_store_result(c, dstkey, dstset, "sinterstore");
  } else {
    set_deferred_set_len(c, replylen, (long)cardinality);
  }
}

static void set_sinter_command(client *c) {
  set_inter_generic(c, c->argv + 1, c->argc - 1, NULL, 0, 0);
}

static void set_sinterstore_command(client *c) {
  set_inter_generic(c, c->argv + 2, c->argc - 2, c->argv[1], 0, 0);
}

static void set_sintercard_command(client *c) {
  long numkeys;
  long limit = 0;
  if (get_range_long_from_object_or_reply(c, c->argv[1], 1, LONG_MAX, &numkeys,
                                          "numkeys should be greater than 0") !=
      C_OK) {
    return;
  }
  if (numkeys > (c->argc - 2)) {
    add_reply_error(c, "Number of keys can't be greater than number of args");
    return;
  }
  for (int j = 2 + (int)numkeys; j < c->argc; j++) {
    const char *opt = c->argv[j]->ptr;
    int moreargs = (c->argc - 1) - j;
    if (!strcasecmp(opt, "limit") && moreargs) {
      j++;
      if (get_positive_long_from_object_or_reply(
              c, c->argv[j], &limit, "LIMIT can't be negative") != C_OK) {
        return;
      }
    } else {
      add_reply_error_object(c, shared.syntaxerr);
      return;
    }
  }
  set_inter_generic(c, c->argv + 2, numkeys, NULL, 1, (unsigned long)limit);
}

#define SET_OP_UNION 0
#define SET_OP_DIFF 1

/* SUNION / SDIFF and their STORE forms. */
static void set_union_diff_generic(client *c, robj **keys, long n, robj *dstkey,
                                   int op) {
  long missing;
  robj **sets = set_lookup_sources(c, keys, n, &missing);
  if (sets == NULL) {
    return;
  }
  robj *dstset = set_create_intset_object();
  set_iter it;
  const char *ele;
  size_t len;
  if (op == SET_OP_UNION) {
    for (long j = 0; j < n; j++) {
      if (sets[j] == NULL) {
        continue;
      }
      set_iter_init(&it, sets[j]);
      while (set_iter_next(&it, &ele, &len)) {
        set_type_add(dstset, ele, len);
      }
      set_iter_done(&it);
    }
  } else if (sets[0] != NULL) {
    set_iter_init(&it, sets[0]);
    while (set_iter_next(&it, &ele, &len)) {
      long j;
      for (j = 1; j < n; j++) {
        /* the same set again: every element is a member, and a lookup in
         * the set being iterated could take a rehash step under the
         * iterator (fingerprint assertion) */
        if (sets[j] == sets[0]) {
          break;
        }
        if (sets[j] != NULL && set_type_is_member(sets[j], ele, len)) {
          break;
        }
      }
      if (j == n) {
        set_type_add(dstset, ele, len);
      }
    }
    set_iter_done(&it);
  }
  zfree(sets);

  if (dstkey == NULL) {
    add_reply_set_len(c, (long)set_type_size(dstset));
    set_reply_members(c, dstset);
    decr_ref_count(dstset);
    return;
  }
  set_store_result(c, dstkey, dstset,
                   op == SET_OP_UNION ? "sunionstore" : "sdiffstore");
}

static void set_sunion_command(client *c) {
  set_union_diff_generic(c, c->argv + 1, c->argc - 1, NULL, SET_OP_UNION);
}

static void set_sunionstore_command(client *c) {
  set_union_diff_generic(c, c->argv + 2, c->argc - 2, c->argv[1], SET_OP_UNION);
}

static void set_sdiff_command(client *c) {
  set_union_diff_generic(c, c->argv + 1, c->argc - 1, NULL, SET_OP_DIFF);
}

static void set_sdiffstore_command(client *c) {
  set_union_diff_generic(c, c->argv + 2, c->argc - 2, c->argv[1], SET_OP_DIFF);
}

/* ---- SSCAN -------------------------------------------------------- */

static void set_scan_emit(scan_result *r, const dict_entry *de) {
  scan_result_add_sds_copy(r, dict_get_key(de));
}

static void set_sscan_command(client *c) {
  unsigned long cursor;
  if (scan_parse_cursor_or_reply(c, c->argv[2], &cursor) != C_OK) {
    return;
  }
  robj *o = lookup_key_read_or_reply(c, c->argv[1], shared.emptyscan);
  if (o == NULL || check_type(c, o, OBJ_SET)) {
    return;
  }
  scan_object_command(c, o, cursor,
                      o->encoding == OBJ_ENCODING_HT ? o->ptr : NULL,
                      set_scan_emit);
}

/* ------------------------------------------------------------------ */
/* Command table                                                        */
/* ------------------------------------------------------------------ */
#define SET_READ_FAST (ACL_CATEGORY_READ | ACL_CATEGORY_SET | ACL_CATEGORY_FAST)
#define SET_READ_SLOW (ACL_CATEGORY_READ | ACL_CATEGORY_SET | ACL_CATEGORY_SLOW)
#define SET_WRITE_FAST \
  (ACL_CATEGORY_WRITE | ACL_CATEGORY_SET | ACL_CATEGORY_FAST)
#define SET_WRITE_SLOW \
  (ACL_CATEGORY_WRITE | ACL_CATEGORY_SET | ACL_CATEGORY_SLOW)

#define SET_CMD(name_, summary_, since_, proc_, arity_, flags_, acl_, first_, \
                last_, step_)                                                 \
  {                                                                           \
    .declared_name = name_, .summary = summary_, .since = since_,             \
    .group = "set", .proc = proc_, .arity = arity_, .flags = flags_,          \
    .acl_categories = acl_, .firstkey = first_, .lastkey = last_,             \
    .keystep = step_                                                          \
  }

redis_command set_commands[] = {
    SET_CMD("sadd", "Add one or more members to a set", "1.0.0",
            set_sadd_command, -3, CMD_WRITE | CMD_DENYOOM | CMD_FAST,
            SET_WRITE_FAST, 1, 1, 1),
    SET_CMD("srem", "Remove one or more members from a set", "1.0.0",
            set_srem_command, -3, CMD_WRITE | CMD_FAST, SET_WRITE_FAST, 1, 1,
            1),
    SET_CMD("scard", "Get the number of members in a set", "1.0.0",
            set_scard_command, 2, CMD_READONLY | CMD_FAST, SET_READ_FAST, 1, 1,
            1),
    SET_CMD("sismember", "Determine if a given value is a member of a set",
            "1.0.0", set_sismember_command, 3, CMD_READONLY | CMD_FAST,
            SET_READ_FAST, 1, 1, 1),
    SET_CMD("smismember",
            "Returns the membership associated with the given elements for a "
            "set",
            "6.2.0", set_smismember_command, -3, CMD_READONLY | CMD_FAST,
            SET_READ_FAST, 1, 1, 1),
    SET_CMD("smembers", "Get all the members in a set", "1.0.0",
            set_sinter_command, 2, CMD_READONLY, SET_READ_SLOW, 1, 1, 1),
    SET_CMD("srandmember", "Get one or multiple random members from a set",
            "1.0.0", set_srandmember_command, -2, CMD_READONLY, SET_READ_SLOW,
            1, 1, 1),
    SET_CMD("spop",
            "Remove and return one or multiple random members from a set",
            "1.0.0", set_spop_command, -2, CMD_WRITE | CMD_FAST, SET_WRITE_FAST,
            1, 1, 1),
    SET_CMD("smove", "Move a member from one set to another", "1.0.0",
            set_smove_command, 4, CMD_WRITE | CMD_FAST, SET_WRITE_FAST, 1, 2,
            1),
    SET_CMD("sinter", "Intersect multiple sets", "1.0.0", set_sinter_command,
            -2, CMD_READONLY, SET_READ_SLOW, 1, -1, 1),
    SET_CMD("sintercard",
            "Intersect multiple sets and return the cardinality of the result",
            "7.0.0", set_sintercard_command, -3, CMD_READONLY, SET_READ_SLOW, 0,
            0, 0),
    SET_CMD("sinterstore",
            "Intersect multiple sets and store the resulting set in a key",
            "1.0.0", set_sinterstore_command, -3, CMD_WRITE | CMD_DENYOOM,
            SET_WRITE_SLOW, 1, -1, 1),
    SET_CMD("sunion", "Add multiple sets", "1.0.0", set_sunion_command, -2,
            CMD_READONLY, SET_READ_SLOW, 1, -1, 1),
    SET_CMD("sunionstore",
            "Add multiple sets and store the resulting set in a key", "1.0.0",
            set_sunionstore_command, -3, CMD_WRITE | CMD_DENYOOM,
            SET_WRITE_SLOW, 1, -1, 1),
    SET_CMD("sdiff", "Subtract multiple sets", "1.0.0", set_sdiff_command, -2,
            CMD_READONLY, SET_READ_SLOW, 1, -1, 1),
    SET_CMD("sdiffstore",
            "Subtract multiple sets and store the resulting set in a key",
            "1.0.0", set_sdiffstore_command, -3, CMD_WRITE | CMD_DENYOOM,
            SET_WRITE_SLOW, 1, -1, 1),
    SET_CMD("sscan", "Incrementally iterate Set elements", "2.8.0",
            set_sscan_command, -3, CMD_READONLY, SET_READ_SLOW, 1, 1, 1),
    {0}};

/* A hash-table set costs one free per member, an intset one (Redis). */
static size_t set_free_effort(robj *o) {
  return o->encoding == OBJ_ENCODING_HT ? dict_size((dict *)o->ptr) : 1;
}

static const object_type_ops set_type_ops = {
    .name = "set",
    .free_value = free_set_object,
    .dup = set_type_dup,
    .compute_size = set_compute_size,
    .free_effort = set_free_effort,
};

void set_type_register(void) { object_register_type(OBJ_SET, &set_type_ops); }
