/* t_list.c: the list commands with Redis 7.0 semantics, replies and error
 * texts, including the blocking pops (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP)
 * built on blocked.h.
 *
 * A list value is always a quicklist (OBJ_ENCODING_QUICKLIST), as in Redis
 * 7.0. An empty list never stays in the keyspace: the command that empties
 * it deletes the key ("del" event). */
#include <strings.h>

#include "server/types/t_list.h"

#include "server/base/zmalloc.h"
#include "server/ds/listpack.h"
#include "server/ds/quicklist.h"
#include "server/types/blocked.h"
#include "server/types/t_types_common.h"

/* Largest element a list accepts: it must fit, with a full node's other
 * entries (64 KB at most), in one listpack (LP_MAX_TOTAL_BYTES). */
#define LIST_MAX_ITEM_SIZE (LP_MAX_TOTAL_BYTES - ((size_t)1 << 20))

/* ------------------------------------------------------------------ */
/* Type helpers and hooks                                               */
/* ------------------------------------------------------------------ */
robj *list_type_create(void) {
  quicklist *ql = quicklist_create(server.list_max_listpack_size);
  robj *o = create_object(OBJ_LIST, ql);
  o->encoding = OBJ_ENCODING_QUICKLIST;
  return o;
}

static void free_list_object(robj *o) { quicklist_release(o->ptr); }

static robj *list_type_dup(robj *o) {
  robj *copy = create_object(OBJ_LIST, quicklist_dup(o->ptr));
  copy->encoding = OBJ_ENCODING_QUICKLIST;
  return copy;
}

static size_t list_compute_size(robj *o, size_t samples) {
  (void)samples; /* walking the nodes is cheap: no sampling needed */
  return sizeof(*o) + quicklist_bytes(o->ptr);
}

unsigned long list_type_length(const robj *list) {
  return ((const quicklist *)list->ptr)->count;
}

/* list_object_bytes yields the bytes of a string object (any encoding). */
static const char *list_object_bytes(robj *o, char *buf, size_t bufsize,
                                     size_t *out_len) {
  if (sds_encoded_object(o)) {
    *out_len = sds_len(o->ptr);
    return o->ptr;
  }
  *out_len = (size_t)ll2string(buf, bufsize, (long)o->ptr);
  return buf;
}

void list_type_push(robj *list, robj *value, int where) {
  char buf[32];
  size_t len;
  const char *s = list_object_bytes(value, buf, sizeof(buf), &len);
  quicklist_push(list->ptr, s, len, where);
}

/* list_pop removes and returns the head or tail element as a new string
 * object, or NULL when the list is empty. */
static robj *list_pop(robj *list, int where) {
  char *s = NULL;
  size_t len = 0;
  long long ll = 0;
  if (!quicklist_pop(list->ptr, where, &s, &len, &ll)) {
    return NULL;
  }
  if (s != NULL) {
    return create_object(OBJ_STRING, s);
  }
  return create_string_object_from_long_long(ll);
}

static void list_reply_entry(client *c, const quicklist_entry *e) {
  if (e->sval) {
    add_reply_bulk_cbuffer(c, e->sval, e->slen);
  } else {
    add_reply_bulk_long_long(c, e->lval);
  }
}

static int list_entry_equals_object(const quicklist_entry *e, robj *o) {
  char buf[32];
  size_t len;
  const char *s = list_object_bytes(o, buf, sizeof(buf), &len);
  return quicklist_entry_equals(e, s, len);
}

/* list_check_item_sizes replies an error if an argument from |first| on is
 * too large for a list element. */
static int list_check_item_sizes(client *c, int first) {
  for (int j = first; j < c->argc; j++) {
    if (sds_encoded_object(c->argv[j]) &&
        sds_len(c->argv[j]->ptr) > LIST_MAX_ITEM_SIZE) {
      add_reply_error(c, "Element too large");
      return 0;
    }
  }
  return 1;
}

/* list_get_position_or_reply parses LEFT / RIGHT. */
static int list_get_position_or_reply(client *c, robj *arg, int *where) {
  if (strcasecmp(arg->ptr, "left") == 0) {
    *where = LIST_HEAD;
  } else if (strcasecmp(arg->ptr, "right") == 0) {
    *where = LIST_TAIL;
  } else {
    add_reply_error_object(c, shared.syntaxerr);
    return C_ERR;
  }
  return C_OK;
}

/* list_reply_range replies elements start..end (Redis index rules); with
 * reverse, from end down to start. */
static void list_reply_range(client *c, robj *o, long start, long end,
                             int reverse) {
  long llen = (long)list_type_length(o);
  if (start < 0) {
    start = llen + start;
  }
  if (end < 0) {
    end = llen + end;
  }
  if (start < 0) {
    start = 0;
  }
  if (start > end || start >= llen) {
    add_reply(c, shared.emptyarray);
    return;
  }
  if (end >= llen) {
    end = llen - 1;
  }
  long rangelen = end - start + 1;
  add_reply_array_len(c, rangelen);
  quicklist_iter it;
  quicklist_entry e;
  quicklist_iter_init_at_index(
      &it, o->ptr, reverse ? QUICKLIST_ITER_BACKWARD : QUICKLIST_ITER_FORWARD,
      reverse ? end : start);
  while (rangelen-- > 0 && quicklist_next(&it, &e)) {
    list_reply_entry(c, &e);
  }
}

/* list_elements_removed: events, deletion of an emptied key, WATCH, dirty
 * after |count| elements were popped from |where|. */
static void list_elements_removed(client *c, redis_db *db, robj *key, int where,
                                  robj *o, long count, int *deleted) {
  notify_keyspace_event(NOTIFY_LIST, where == LIST_HEAD ? "lpop" : "rpop", key,
                        db->id);
  if (list_type_length(o) == 0) {
    if (deleted) {
      *deleted = 1;
    }
    db_delete(db, key);
    notify_keyspace_event(NOTIFY_GENERIC, "del", key, db->id);
  } else if (deleted) {
    *deleted = 0;
  }
  signal_modified_key(c, db, key);
  server.dirty += count;
}

/* list_pop_range_reply_with_key: [key, [elements]] for LMPOP/BLMPOP. */
static void list_pop_range_reply_with_key(client *c, redis_db *db, robj *o,
                                          robj *key, int where, long count) {
  long llen = (long)list_type_length(o);
  long rangelen = count > llen ? llen : count;
  long rangestart = where == LIST_HEAD ? 0 : -rangelen;
  long rangeend = where == LIST_HEAD ? rangelen - 1 : -1;
  add_reply_array_len(c, 2);
  add_reply_bulk(c, key);
  list_reply_range(c, o, rangestart, rangeend, where == LIST_TAIL);
  quicklist_del_range(o->ptr, rangestart, (unsigned long)rangelen);
  list_elements_removed(c, db, key, where, o, rangelen, NULL);
}

/* ------------------------------------------------------------------ */
/* Push                                                                 */
/* ------------------------------------------------------------------ */
static void list_push_generic(client *c, int where, int xx) {
  if (!list_check_item_sizes(c, 2)) {
    return;
  }
  robj *o = lookup_key_write(c->db, c->argv[1]);
  if (check_type(c, o, OBJ_LIST)) {
    return;
  }
  if (o == NULL) {
    if (xx) {
      add_reply(c, shared.czero);
      return;
    }
    o = list_type_create();
    db_add(c->db, c->argv[1], o);
  }
  for (int j = 2; j < c->argc; j++) {
    list_type_push(o, c->argv[j], where);
    server.dirty++;
  }
  add_reply_long_long(c, (long long)list_type_length(o));
  signal_modified_key(c, c->db, c->argv[1]);
  notify_keyspace_event(NOTIFY_LIST, where == LIST_HEAD ? "lpush" : "rpush",
                        c->argv[1], c->db->id);
}

static void list_lpush_command(client *c) {
  list_push_generic(c, LIST_HEAD, 0);
}
static void list_rpush_command(client *c) {
  list_push_generic(c, LIST_TAIL, 0);
}
static void list_lpushx_command(client *c) {
  list_push_generic(c, LIST_HEAD, 1);
}
static void list_rpushx_command(client *c) {
  list_push_generic(c, LIST_TAIL, 1);
}

static void list_linsert_command(client *c) {
  int after;
  if (!list_check_item_sizes(c, 4)) {
    return;
  }
  if (strcasecmp(c->argv[2]->ptr, "after") == 0) {
    after = 1;
  } else if (strcasecmp(c->argv[2]->ptr, "before") == 0) {
    after = 0;
  } else {
    add_reply_error_object(c, shared.syntaxerr);
    return;
  }
  robj *o = lookup_key_write_or_reply(c, c->argv[1], shared.czero);
  if (o == NULL || check_type(c, o, OBJ_LIST)) {
    return;
  }
  quicklist_iter it;
  quicklist_entry e;
  int inserted = 0;
  quicklist_iter_init(&it, o->ptr, QUICKLIST_ITER_FORWARD);
  while (quicklist_next(&it, &e)) {
    if (list_entry_equals_object(&e, c->argv[3])) {
      char buf[32];
      size_t len;
      const char *s = list_object_bytes(c->argv[4], buf, sizeof(buf), &len);
      if (after) {
        quicklist_insert_after(o->ptr, &e, s, len);
      } else {
        quicklist_insert_before(o->ptr, &e, s, len);
      }
      inserted = 1;
      break;
    }
  }
  if (!inserted) {
    add_reply_long_long(c, -1);
    return;
  }
  signal_modified_key(c, c->db, c->argv[1]);
  notify_keyspace_event(NOTIFY_LIST, "linsert", c->argv[1], c->db->id);
  server.dirty++;
  add_reply_long_long(c, (long long)list_type_length(o));
}

/* ------------------------------------------------------------------ */
/* Read                                                                 */
/* ------------------------------------------------------------------ */
static void list_llen_command(client *c) {
  robj *o = lookup_key_read_or_reply(c, c->argv[1], shared.czero);
  if (o == NULL || check_type(c, o, OBJ_LIST)) {
    return;
  }
  add_reply_long_long(c, (long long)list_type_length(o));
}

static void list_lindex_command(client *c) {
  robj *o = lookup_key_read_or_reply(c, c->argv[1], shared.null[c->resp]);
  if (o == NULL || check_type(c, o, OBJ_LIST)) {
    return;
  }
  long index;
  if (get_long_from_object_or_reply(c, c->argv[2], &index, NULL) != C_OK) {
    return;
  }
  quicklist_entry e;
  if (quicklist_index(o->ptr, index, &e)) {
    list_reply_entry(c, &e);
  } else {
    add_reply_null(c);
  }
}

static void list_lrange_command(client *c) {
  long start, end;
  if (get_long_from_object_or_reply(c, c->argv[2], &start, NULL) != C_OK ||
      get_long_from_object_or_reply(c, c->argv[3], &end, NULL) != C_OK) {
    return;
  }
  robj *o = lookup_key_read_or_reply(c, c->argv[1], shared.emptyarray);
  if (o == NULL || check_type(c, o, OBJ_LIST)) {
    return;
  }
  list_reply_range(c, o, start, end, 0);
}

static void list_lpos_command(client *c) {
  long rank = 1, count = -1, maxlen = 0;
  for (int j = 3; j < c->argc; j++) {
    const char *opt = c->argv[j]->ptr;
    int moreargs = (c->argc - 1) - j;
    if (strcasecmp(opt, "RANK") == 0 && moreargs) {
      j++;
      if (get_long_from_object_or_reply(c, c->argv[j], &rank, NULL) != C_OK) {
        return;
      }
      if (rank == 0) {
        add_reply_error(c,
                        "RANK can't be zero: use 1 to start from the first "
                        "match, 2 from the second ... or use negative to "
                        "start from the end of the list");
        return;
      }
    } else if (strcasecmp(opt, "COUNT") == 0 && moreargs) {
      j++;
      if (get_positive_long_from_object_or_reply(
              c, c->argv[j], &count, "COUNT can't be negative") != C_OK) {
        return;
      }
    } else if (strcasecmp(opt, "MAXLEN") == 0 && moreargs) {
      j++;
      if (get_positive_long_from_object_or_reply(
              c, c->argv[j], &maxlen, "MAXLEN can't be negative") != C_OK) {
        return;
      }
    } else {
      add_reply_error_object(c, shared.syntaxerr);
      return;
    }
  }
  /* A negative rank searches from the tail. Redis negates with wrap-around
   * (LONG_MIN stays negative and then matches the first hit): the same. */
  int backward = rank < 0;
  if (backward) {
    rank = (long)(0UL - (unsigned long)rank);
  }
  robj *o = lookup_key_read(c->db, c->argv[1]);
  if (o == NULL) {
    add_reply(c, count != -1 ? shared.emptyarray : shared.null[c->resp]);
    return;
  }
  if (check_type(c, o, OBJ_LIST)) {
    return;
  }
  void *lenptr = count != -1 ? add_reply_deferred_len(c) : NULL;
  quicklist_iter it;
  quicklist_entry e;
  quicklist_iter_init(
      &it, o->ptr, backward ? QUICKLIST_ITER_BACKWARD : QUICKLIST_ITER_FORWARD);
  long llen = (long)list_type_length(o);
  long index = 0, matches = 0, matchindex = -1, arraylen = 0;
  while (quicklist_next(&it, &e) && (maxlen == 0 || index < maxlen)) {
    if (list_entry_equals_object(&e, c->argv[2])) {
      matches++;
      matchindex = backward ? llen - index - 1 : index;
      if (matches >= rank) {
        if (lenptr) {
          arraylen++;
          add_reply_long_long(c, matchindex);
          long served =
              (long)((unsigned long)matches - (unsigned long)rank + 1UL);
          if (count && served >= count) {
            break;
          }
        } else {
          break;
        }
      }
    }
    index++;
    matchindex = -1;
  }
  if (lenptr) {
    set_deferred_array_len(c, lenptr, arraylen);
  } else if (matchindex != -1) {
    add_reply_long_long(c, matchindex);
  } else {
    add_reply(c, shared.null[c->resp]);
  }
}

/* ------------------------------------------------------------------ */
/* Write                                                                */
/* ------------------------------------------------------------------ */
static void list_lset_command(client *c) {
  if (!list_check_item_sizes(c, 3)) {
    return;
  }
  robj *o = lookup_key_write_or_reply(c, c->argv[1], shared.nokeyerr);
  if (o == NULL || check_type(c, o, OBJ_LIST)) {
    return;
  }
  long index;
  if (get_long_from_object_or_reply(c, c->argv[2], &index, NULL) != C_OK) {
    return;
  }
  char buf[32];
  size_t len;
  const char *s = list_object_bytes(c->argv[3], buf, sizeof(buf), &len);
  if (!quicklist_replace_at_index(o->ptr, index, s, len)) {
    add_reply_error_object(c, shared.outofrangeerr);
    return;
  }
  add_reply(c, shared.ok);
  signal_modified_key(c, c->db, c->argv[1]);
  notify_keyspace_event(NOTIFY_LIST, "lset", c->argv[1], c->db->id);
  server.dirty++;
}

static void list_pop_generic(client *c, int where) {
  int hascount = c->argc == 3;
  long count = 0;
  if (c->argc > 3) {
    add_reply_error_arity(c);
    return;
  }
  if (hascount && get_positive_long_from_object_or_reply(
                      c, c->argv[2], &count,
                      "value is out of range, must be positive") != C_OK) {
    return;
  }
  robj *o = lookup_key_write_or_reply(
      c, c->argv[1],
      hascount ? shared.nullarray[c->resp] : shared.null[c->resp]);
  if (o == NULL || check_type(c, o, OBJ_LIST)) {
    return;
  }
  if (hascount && count == 0) {
    add_reply(c, shared.emptyarray);
    return;
  }
  if (!hascount) {
    robj *value = list_pop(o, where);
    server_assert(value != NULL);
    add_reply_bulk(c, value);
    decr_ref_count(value);
    list_elements_removed(c, c->db, c->argv[1], where, o, 1, NULL);
    return;
  }
  long llen = (long)list_type_length(o);
  long rangelen = count > llen ? llen : count;
  long rangestart = where == LIST_HEAD ? 0 : -rangelen;
  long rangeend = where == LIST_HEAD ? rangelen - 1 : -1;
  list_reply_range(c, o, rangestart, rangeend, where == LIST_TAIL);
  quicklist_del_range(o->ptr, rangestart, (unsigned long)rangelen);
  list_elements_removed(c, c->db, c->argv[1], where, o, rangelen, NULL);
}

static void list_lpop_command(client *c) { list_pop_generic(c, LIST_HEAD); }
static void list_rpop_command(client *c) { list_pop_generic(c, LIST_TAIL); }

static void list_ltrim_command(client *c) {
  long start, end;
  if (get_long_from_object_or_reply(c, c->argv[2], &start, NULL) != C_OK ||
      get_long_from_object_or_reply(c, c->argv[3], &end, NULL) != C_OK) {
    return;
  }
  robj *o = lookup_key_write_or_reply(c, c->argv[1], shared.ok);
  if (o == NULL || check_type(c, o, OBJ_LIST)) {
    return;
  }
  long llen = (long)list_type_length(o);
  long ltrim, rtrim;
  if (start < 0) {
    start = llen + start;
  }
  if (end < 0) {
    end = llen + end;
  }
  if (start < 0) {
    start = 0;
  }
  if (start > end || start >= llen) {
    ltrim = llen;
    rtrim = 0;
  } else {
    if (end >= llen) {
      end = llen - 1;
    }
    ltrim = start;
    rtrim = llen - end - 1;
  }
  quicklist_del_range(o->ptr, 0, (unsigned long)ltrim);
  quicklist_del_range(o->ptr, -rtrim, (unsigned long)rtrim);
  notify_keyspace_event(NOTIFY_LIST, "ltrim", c->argv[1], c->db->id);
  if (list_type_length(o) == 0) {
    db_delete(c->db, c->argv[1]);
    notify_keyspace_event(NOTIFY_GENERIC, "del", c->argv[1], c->db->id);
  }
  signal_modified_key(c, c->db, c->argv[1]);
  server.dirty += ltrim + rtrim;
  add_reply(c, shared.ok);
}

static void list_lrem_command(client *c) {
  long toremove;
  if (get_long_from_object_or_reply(c, c->argv[2], &toremove, NULL) != C_OK) {
    return;
  }
  robj *o = lookup_key_write_or_reply(c, c->argv[1], shared.czero);
  if (o == NULL || check_type(c, o, OBJ_LIST)) {
    return;
  }
  int backward = toremove < 0;
  unsigned long limit =
      backward ? 0UL - (unsigned long)toremove : (unsigned long)toremove;
  quicklist_iter it;
  quicklist_entry e;
  quicklist_iter_init(
      &it, o->ptr, backward ? QUICKLIST_ITER_BACKWARD : QUICKLIST_ITER_FORWARD);
  unsigned long removed = 0;
  while (quicklist_next(&it, &e)) {
    if (list_entry_equals_object(&e, c->argv[3])) {
      quicklist_iter_delete(&it, &e);
      server.dirty++;
      removed++;
      if (limit && removed == limit) {
        break;
      }
    }
  }
  if (removed) {
    notify_keyspace_event(NOTIFY_LIST, "lrem", c->argv[1], c->db->id);
  }
  if (list_type_length(o) == 0) {
    db_delete(c->db, c->argv[1]);
    notify_keyspace_event(NOTIFY_GENERIC, "del", c->argv[1], c->db->id);
  }
  if (removed) {
    signal_modified_key(c, c->db, c->argv[1]);
  }
  add_reply_long_long(c, (long long)removed);
}

/* list_move_push pushes value to dstkey (creating the list) and replies
 * it, as Redis's lmoveHandlePush. */
static void list_move_push(client *c, redis_db *db, robj *dstkey, robj *dstobj,
                           robj *value, int where) {
  if (dstobj == NULL) {
    dstobj = list_type_create();
    db_add(db, dstkey, dstobj);
  }
  signal_modified_key(c, db, dstkey);
  list_type_push(dstobj, value, where);
  notify_keyspace_event(NOTIFY_LIST, where == LIST_HEAD ? "lpush" : "rpush",
                        dstkey, db->id);
  add_reply_bulk(c, value);
}

static void list_move_generic(client *c, int wherefrom, int whereto) {
  robj *sobj = lookup_key_write_or_reply(c, c->argv[1], shared.null[c->resp]);
  if (sobj == NULL || check_type(c, sobj, OBJ_LIST)) {
    return;
  }
  robj *dobj = lookup_key_write(c->db, c->argv[2]);
  if (check_type(c, dobj, OBJ_LIST)) {
    return;
  }
  robj *touched = c->argv[1];
  incr_ref_count(touched); /* argv may be rewritten below */
  robj *value = list_pop(sobj, wherefrom);
  server_assert(value != NULL);
  list_move_push(c, c->db, c->argv[2], dobj, value, whereto);
  decr_ref_count(value);
  notify_keyspace_event(NOTIFY_LIST, wherefrom == LIST_HEAD ? "lpop" : "rpop",
                        touched, c->db->id);
  if (list_type_length(sobj) == 0) {
    db_delete(c->db, touched);
    notify_keyspace_event(NOTIFY_GENERIC, "del", touched, c->db->id);
  }
  signal_modified_key(c, c->db, touched);
  server.dirty++;
  decr_ref_count(touched);
}

static void list_lmove_command(client *c) {
  int wherefrom, whereto;
  if (list_get_position_or_reply(c, c->argv[3], &wherefrom) != C_OK ||
      list_get_position_or_reply(c, c->argv[4], &whereto) != C_OK) {
    return;
  }
  list_move_generic(c, wherefrom, whereto);
}

static void list_rpoplpush_command(client *c) {
  list_move_generic(c, LIST_TAIL, LIST_HEAD);
}

/* list_mpop_parse parses "numkeys key... LEFT|RIGHT [COUNT n]" starting at
 * argv[numkeys_idx]. Returns C_OK with the keys at argv+numkeys_idx+1. */
static int list_mpop_parse(client *c, int numkeys_idx, long *out_numkeys,
                           int *out_where, long *out_count) {
  long numkeys, count = -1;
  if (get_range_long_from_object_or_reply(
          c, c->argv[numkeys_idx], 1, LONG_MAX, &numkeys,
          "numkeys should be greater than 0") != C_OK) {
    return C_ERR;
  }
  /* numkeys is at most LONG_MAX: compare without overflowing. */
  if (numkeys >= (long)c->argc - numkeys_idx - 1) {
    add_reply_error_object(c, shared.syntaxerr);
    return C_ERR;
  }
  long where_idx = numkeys_idx + numkeys + 1;
  if (list_get_position_or_reply(c, c->argv[where_idx], out_where) != C_OK) {
    return C_ERR;
  }
  for (long j = where_idx + 1; j < c->argc; j++) {
    const char *opt = c->argv[j]->ptr;
    long moreargs = (c->argc - 1) - j;
    if (count == -1 && strcasecmp(opt, "COUNT") == 0 && moreargs) {
      j++;
      if (get_range_long_from_object_or_reply(
              c, c->argv[j], 1, LONG_MAX, &count,
              "count should be greater than 0") != C_OK) {
        return C_ERR;
      }
    } else {
      add_reply_error_object(c, shared.syntaxerr);
      return C_ERR;
    }
  }
  *out_numkeys = numkeys;
  *out_count = count == -1 ? 1 : count;
  return C_OK;
}

static void list_propagate_pop(client *c, redis_db *db, robj *key, robj *o,
                               int where, long count);

static void list_lmpop_command(client *c) {
  long numkeys, count;
  int where;
  if (list_mpop_parse(c, 1, &numkeys, &where, &count) != C_OK) {
    return;
  }
  robj **keys = c->argv + 2;
  for (long j = 0; j < numkeys; j++) {
    robj *o = lookup_key_write(c->db, keys[j]);
    if (o == NULL) {
      continue;
    }
    if (check_type(c, o, OBJ_LIST)) {
      return;
    }
    list_propagate_pop(c, c->db, keys[j], o, where, count);
    list_pop_range_reply_with_key(c, c->db, o, keys[j], where, count);
    return;
  }
  add_reply_null_array(c);
}

/* ------------------------------------------------------------------ */
/* Blocking                                                             */
/* ------------------------------------------------------------------ */
typedef struct list_block_request {
  int wherefrom;
  int whereto;
  long count;   /* BLMPOP count, -1 for BLPOP/BRPOP/BLMOVE */
  robj *target; /* BLMOVE destination, or NULL */
} list_block_request;

static void list_block_request_free(void *privdata) {
  list_block_request *req = privdata;
  if (req->target) {
    decr_ref_count(req->target);
  }
  zfree(req);
}

/* The non-blocking equivalents a blocking list command (and LMPOP)
 * propagates: LPOP/RPOP key, or with a count (-1: none), the count of
 * elements the pop of |o| will take, as Redis 7.0. */
static void list_propagate_pop(client *c, redis_db *db, robj *key, robj *o,
                               int where, long count) {
  if (count != -1) {
    long llen = (long)list_type_length(o);
    count = count > llen ? llen : count;
  }
  blocking_propagate_pop(c, db, where == LIST_HEAD ? shared.lpop : shared.rpop,
                         key, count);
}

static void list_brpoplpush_command(client *c);

/* BLMOVE propagates as LMOVE, BRPOPLPUSH as RPOPLPUSH (Redis 7.0). */
static void list_propagate_move(client *c, redis_db *db, robj *src, robj *dst,
                                int wherefrom, int whereto) {
  if (c->cmd != NULL && c->cmd->proc == list_brpoplpush_command) {
    robj *argv[3] = {shared.rpoplpush, src, dst};
    blocking_propagate(c, db, argv, 3);
    return;
  }
  robj *argv[5] = {shared.lmove, src, dst,
                   wherefrom == LIST_HEAD ? shared.left : shared.right,
                   whereto == LIST_HEAD ? shared.left : shared.right};
  blocking_propagate(c, db, argv, 5);
}

/* list_serve_blocked serves a client blocked on a list key (block.h). */
static int list_serve_blocked(client *c, redis_db *db, robj *key, robj *o,
                              void *privdata) {
  list_block_request *req = privdata;
  if (req->target != NULL) {
    robj *dstobj = lookup_key_write(db, req->target);
    if (dstobj != NULL && dstobj->type != OBJ_LIST) {
      /* Wrong destination type: the client gets the error and is done. */
      add_reply_error_object(c, shared.wrongtypeerr);
      return 1;
    }
    robj *value = list_pop(o, req->wherefrom);
    server_assert(value != NULL);
    list_propagate_move(c, db, key, req->target, req->wherefrom, req->whereto);
    list_move_push(c, db, req->target, dstobj, value, req->whereto);
    decr_ref_count(value);
    list_elements_removed(c, db, key, req->wherefrom, o, 1, NULL);
    return 1;
  }
  if (req->count != -1) {
    list_propagate_pop(c, db, key, o, req->wherefrom, req->count);
    list_pop_range_reply_with_key(c, db, o, key, req->wherefrom, req->count);
    return 1;
  }
  list_propagate_pop(c, db, key, o, req->wherefrom, -1);
  robj *value = list_pop(o, req->wherefrom);
  server_assert(value != NULL);
  add_reply_array_len(c, 2);
  add_reply_bulk(c, key);
  add_reply_bulk(c, value);
  decr_ref_count(value);
  list_elements_removed(c, db, key, req->wherefrom, o, 1, NULL);
  return 1;
}

static void list_block(client *c, robj **keys, int numkeys, long long deadline,
                       int wherefrom, int whereto, long count, robj *target) {
  list_block_request *req = zmalloc(sizeof(*req));
  req->wherefrom = wherefrom;
  req->whereto = whereto;
  req->count = count;
  req->target = NULL;
  if (target != NULL) {
    req->target = create_string_object(target->ptr, sds_len(target->ptr));
  }
  block_for_keys(c, keys, numkeys, deadline, OBJ_LIST, list_serve_blocked, req,
                 list_block_request_free);
}

static void list_blocking_pop_generic(client *c, robj **keys, int numkeys,
                                      int where, int timeout_idx, long count) {
  long long deadline;
  if (blocking_get_timeout_or_reply(c, c->argv[timeout_idx], &deadline) !=
      C_OK) {
    return;
  }
  for (int j = 0; j < numkeys; j++) {
    robj *o = lookup_key_write(c->db, keys[j]);
    if (o == NULL) {
      continue;
    }
    if (check_type(c, o, OBJ_LIST)) {
      return;
    }
    list_propagate_pop(c, c->db, keys[j], o, where, count);
    if (count != -1) {
      list_pop_range_reply_with_key(c, c->db, o, keys[j], where, count);
      return;
    }
    robj *value = list_pop(o, where);
    server_assert(value != NULL);
    add_reply_array_len(c, 2);
    add_reply_bulk(c, keys[j]);
    add_reply_bulk(c, value);
    decr_ref_count(value);
    list_elements_removed(c, c->db, keys[j], where, o, 1, NULL);
    return;
  }
  if (blocking_is_denied(c)) {
    add_reply_null_array(c);
    return;
  }
  list_block(c, keys, numkeys, deadline, where, LIST_TAIL, count, NULL);
}

static void list_blpop_command(client *c) {
  list_blocking_pop_generic(c, c->argv + 1, c->argc - 2, LIST_HEAD, c->argc - 1,
                            -1);
}

static void list_brpop_command(client *c) {
  list_blocking_pop_generic(c, c->argv + 1, c->argc - 2, LIST_TAIL, c->argc - 1,
                            -1);
}

static void list_blocking_move_generic(client *c, int wherefrom, int whereto,
                                       long long deadline) {
  robj *o = lookup_key_write(c->db, c->argv[1]);
  if (check_type(c, o, OBJ_LIST)) {
    return;
  }
  if (o != NULL) {
    if (c->argc == 6) {
      /* BLMOVE served at once: LMOVE with the caller's own LEFT/RIGHT
       * arguments, as Redis rewrites it. */
      robj *argv[5] = {shared.lmove, c->argv[1], c->argv[2], c->argv[3],
                       c->argv[4]};
      blocking_propagate(c, c->db, argv, 5);
    } else {
      list_propagate_move(c, c->db, c->argv[1], c->argv[2], wherefrom, whereto);
    }
    list_move_generic(c, wherefrom, whereto);
    return;
  }
  if (blocking_is_denied(c)) {
    add_reply_null(c);
    return;
  }
  list_block(c, c->argv + 1, 1, deadline, wherefrom, whereto, -1, c->argv[2]);
}

static void list_blmove_command(client *c) {
  int wherefrom, whereto;
  long long deadline;
  if (list_get_position_or_reply(c, c->argv[3], &wherefrom) != C_OK ||
      list_get_position_or_reply(c, c->argv[4], &whereto) != C_OK ||
      blocking_get_timeout_or_reply(c, c->argv[5], &deadline) != C_OK) {
    return;
  }
  list_blocking_move_generic(c, wherefrom, whereto, deadline);
}

static void list_brpoplpush_command(client *c) {
  long long deadline;
  if (blocking_get_timeout_or_reply(c, c->argv[3], &deadline) != C_OK) {
    return;
  }
  list_blocking_move_generic(c, LIST_TAIL, LIST_HEAD, deadline);
}

static void list_blmpop_command(client *c) {
  long numkeys, count;
  int where;
  if (list_mpop_parse(c, 2, &numkeys, &where, &count) != C_OK) {
    return;
  }
  list_blocking_pop_generic(c, c->argv + 3, (int)numkeys, where, 1, count);
}

/* ------------------------------------------------------------------ */
/* Command table                                                        */
/* ------------------------------------------------------------------ */
#define LIST_ACL ACL_CATEGORY_LIST

#define LIST_CMD(name_, summary_, since_, proc_, arity_, flags_, first_, \
                 last_, step_)                                           \
  {                                                                      \
    .declared_name = name_, .summary = summary_, .since = since_,        \
    .group = "list", .proc = proc_, .arity = arity_, .flags = flags_,    \
    .acl_categories = LIST_ACL, .firstkey = first_, .lastkey = last_,    \
    .keystep = step_                                                     \
  }

redis_command list_commands[] = {
    LIST_CMD("lpush", "Prepend one or multiple elements to a list", "1.0.0",
             list_lpush_command, -3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1,
             1),
    LIST_CMD("rpush", "Append one or multiple elements to a list", "1.0.0",
             list_rpush_command, -3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1,
             1),
    LIST_CMD("lpushx", "Prepend an element to a list, only if the list exists",
             "2.2.0", list_lpushx_command, -3,
             CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1),
    LIST_CMD("rpushx", "Append an element to a list, only if the list exists",
             "2.2.0", list_rpushx_command, -3,
             CMD_WRITE | CMD_DENYOOM | CMD_FAST, 1, 1, 1),
    LIST_CMD("linsert",
             "Insert an element before or after another element in a list",
             "2.2.0", list_linsert_command, 5, CMD_WRITE | CMD_DENYOOM, 1, 1,
             1),
    LIST_CMD("lpop", "Remove and get the first elements in a list", "1.0.0",
             list_lpop_command, -2, CMD_WRITE | CMD_FAST, 1, 1, 1),
    LIST_CMD("rpop", "Remove and get the last elements in a list", "1.0.0",
             list_rpop_command, -2, CMD_WRITE | CMD_FAST, 1, 1, 1),
    LIST_CMD("llen", "Get the length of a list", "1.0.0", list_llen_command, 2,
             CMD_READONLY | CMD_FAST, 1, 1, 1),
    LIST_CMD("lindex", "Get an element from a list by its index", "1.0.0",
             list_lindex_command, 3, CMD_READONLY, 1, 1, 1),
    LIST_CMD("lset", "Set the value of an element in a list by its index",
             "1.0.0", list_lset_command, 4, CMD_WRITE | CMD_DENYOOM, 1, 1, 1),
    LIST_CMD("lrange", "Get a range of elements from a list", "1.0.0",
             list_lrange_command, 4, CMD_READONLY, 1, 1, 1),
    LIST_CMD("ltrim", "Trim a list to the specified range", "1.0.0",
             list_ltrim_command, 4, CMD_WRITE, 1, 1, 1),
    LIST_CMD("lpos", "Return the index of matching elements on a list", "6.0.6",
             list_lpos_command, -3, CMD_READONLY, 1, 1, 1),
    LIST_CMD("lrem", "Remove elements from a list", "1.0.0", list_lrem_command,
             4, CMD_WRITE, 1, 1, 1),
    LIST_CMD("rpoplpush",
             "Remove the last element in a list, prepend it to another list "
             "and return it",
             "1.2.0", list_rpoplpush_command, 3, CMD_WRITE | CMD_DENYOOM, 1, 2,
             1),
    LIST_CMD("lmove",
             "Pop an element from a list, push it to another list and return "
             "it",
             "6.2.0", list_lmove_command, 5, CMD_WRITE | CMD_DENYOOM, 1, 2, 1),
    LIST_CMD("lmpop", "Pop elements from a list", "7.0.0", list_lmpop_command,
             -4, CMD_WRITE, 0, 0, 0),
    LIST_CMD("blpop",
             "Remove and get the first element in a list, or block until one "
             "is available",
             "2.0.0", list_blpop_command, -3,
             CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING, 1, -2, 1),
    LIST_CMD("brpop",
             "Remove and get the last element in a list, or block until one "
             "is available",
             "2.0.0", list_brpop_command, -3,
             CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING, 1, -2, 1),
    LIST_CMD("brpoplpush",
             "Pop an element from a list, push it to another list and return "
             "it; or block until one is available",
             "2.2.0", list_brpoplpush_command, 4,
             CMD_WRITE | CMD_DENYOOM | CMD_NOSCRIPT | CMD_BLOCKING, 1, 2, 1),
    LIST_CMD("blmove",
             "Pop an element from a list, push it to another list and return "
             "it; or block until one is available",
             "6.2.0", list_blmove_command, 6,
             CMD_WRITE | CMD_DENYOOM | CMD_NOSCRIPT | CMD_BLOCKING, 1, 2, 1),
    LIST_CMD(
        "blmpop", "Pop elements from a list, or block until one is available",
        "7.0.0", list_blmpop_command, -5, CMD_WRITE | CMD_BLOCKING, 0, 0, 0),
    {0},
};

/* A list costs one free per quicklist node (Redis). */
static size_t list_free_effort(robj *o) {
  return ((const quicklist *)o->ptr)->len;
}

static const object_type_ops list_type_ops = {
    .name = "list",
    .free_value = free_list_object,
    .dup = list_type_dup,
    .compute_size = list_compute_size,
    .free_effort = list_free_effort,
};

void list_type_register(void) {
  object_register_type(OBJ_LIST, &list_type_ops);
}
