/* sort.c: SORT and SORT_RO on lists, sets and sorted sets, with Redis
 * 7.0's options, replies, errors and side effects:
 *
 *   SORT key [BY pattern] [LIMIT offset count] [GET pattern ...]
 *            [ASC|DESC] [ALPHA] [STORE destination]
 *
 * A pattern's first '*' is replaced by the element; "pattern->field" reads
 * a hash field; "GET #" is the element itself. BY a pattern without '*'
 * (e.g. "nosort") does not sort: lists and sorted sets keep their order
 * (reversed by DESC), and a set is sorted ALPHA anyway when the result is
 * stored or the caller is a script, so replicas and the AOF get the same
 * list. BY and GET patterns read arbitrary keys, so they need a user that
 * may read every key.
 *
 * Ties follow Redis: numeric ties by the element's bytes, ALPHA by
 * strcoll() (or bytes with STORE); the sort is the C library's qsort, or,
 * for BY with a LIMIT, the partial quicksort of server/base/pqsort.h. A
 * sorted set is converted to the skiplist encoding, as Redis does. */
#include "server/cmds/cmds.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/acl/acl.h"
#include "server/base/pqsort.h"
#include "server/base/zmalloc.h"
#include "server/core/command_meta.h"
#include "server/types/t_hash.h"
#include "server/types/t_list.h"
#include "server/types/t_set.h"
#include "server/types/t_zset.h"

typedef struct sort_item {
  sds ele;
  double score; /* numeric sort key */
  sds by;       /* ALPHA with BY: the BY value, NULL when missing */
} sort_item;

/* The comparator's parameters (qsort has no context argument). */
static struct { int desc, alpha, bypattern, store; } sort_order;

static int sort_arg_is(robj *o, const char *name) {
  return sds_encoded_object(o) && !strcasecmp(o->ptr, name);
}

/* sort_bytes_cmp: memcmp order, the shorter first: Redis's binary
 * comparison of string objects. */
static int sort_bytes_cmp(sds a, sds b) {
  size_t alen = sds_len(a), blen = sds_len(b);
  int cmp = memcmp(a, b, alen < blen ? alen : blen);
  if (cmp != 0) {
    return cmp;
  }
  return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static int sort_compare(const void *p1, const void *p2) {
  const sort_item *a = p1, *b = p2;
  int cmp;
  if (!sort_order.alpha) {
    if (a->score > b->score) {
      cmp = 1;
    } else if (a->score < b->score) {
      cmp = -1;
    } else {
      cmp = sort_bytes_cmp(a->ele, b->ele); /* deterministic ties */
    }
  } else if (sort_order.bypattern) {
    if (a->by == NULL || b->by == NULL) {
      cmp = a->by == b->by ? 0 : a->by == NULL ? -1 : 1;
    } else {
      cmp = sort_order.store ? sort_bytes_cmp(a->by, b->by)
                             : strcoll(a->by, b->by);
    }
  } else {
    cmp = sort_order.store ? sort_bytes_cmp(a->ele, b->ele)
                           : strcoll(a->ele, b->ele);
  }
  return sort_order.desc ? -cmp : cmp;
}

/* sort_string_value: a string object's bytes as a new sds. */
static sds sort_string_value(robj *o) {
  if (sds_encoded_object(o)) {
    return sds_new_len(o->ptr, sds_len(o->ptr));
  }
  return sds_from_longlong((long)o->ptr);
}

/* sort_lookup_pattern: the value |pattern| names for the element |subst|
 * (a new sds), or NULL when there is none: "#" is the element; otherwise
 * the first '*' (of the pattern read as a C string) becomes the element
 * and the key must hold a string, or, with "->field" after the '*', a
 * hash with that field. */
static sds sort_lookup_pattern(redis_db *db, robj *pattern, sds subst) {
  if (!sds_encoded_object(pattern)) {
    return NULL; /* an integer is neither "#" nor holds a '*' */
  }
  const char *spat = pattern->ptr;
  size_t spat_len = sds_len(pattern->ptr);
  if (spat[0] == '#' && spat[1] == '\0') {
    return sds_dup(subst);
  }
  const char *star = strchr(spat, '*');
  if (star == NULL) {
    return NULL; /* a fixed key name makes no sense */
  }
  const char *arrow = strstr(star + 1, "->");
  size_t field_len = 0;
  if (arrow != NULL && arrow[2] != '\0') {
    field_len = spat_len - (size_t)(arrow - spat) - 2;
  }
  size_t prefix_len = (size_t)(star - spat);
  size_t postfix_len =
      spat_len - (prefix_len + 1) - (field_len ? field_len + 2 : 0);
  sds name = sds_new_len(spat, prefix_len);
  name = sds_cat_len(name, subst, sds_len(subst));
  name = sds_cat_len(name, star + 1, postfix_len);
  robj *key = create_object(OBJ_STRING, name);
  robj *o = lookup_key_read(db, key);
  decr_ref_count(key);
  if (o == NULL) {
    return NULL;
  }
  if (field_len) {
    if (o->type != OBJ_HASH) {
      return NULL;
    }
    const char *v;
    size_t vlen;
    unsigned char ibuf[LP_INTBUF_SIZE];
    if (!hash_type_get(o, arrow + 2, field_len, &v, &vlen, ibuf)) {
      return NULL;
    }
    return sds_new_len(v, vlen);
  }
  return o->type == OBJ_STRING ? sort_string_value(o) : NULL;
}

/* ------------------------------------------------------------------ */
/* Loading the elements                                                 */
/* ------------------------------------------------------------------ */
typedef struct sort_vector {
  sort_item *items;
  long len, cap;
} sort_vector;

static void sort_vector_add(sort_vector *v, sds ele) {
  if (v->len == v->cap) { /* sizes are known up front; this is a guard */
    v->cap = v->cap ? v->cap * 2 : 16;
    v->items = zrealloc(v->items, sizeof(sort_item) * (size_t)v->cap);
  }
  sort_item *it = &v->items[v->len++];
  it->ele = ele;
  it->score = 0;
  it->by = NULL;
}

static void sort_add_set_member(void *privdata, const char *ele, size_t len) {
  sort_vector_add(privdata, sds_new_len(ele, len));
}

static sds sort_list_entry(const quicklist_entry *e) {
  if (e->sval != NULL) {
    return sds_new_len(e->sval, e->slen);
  }
  return sds_from_longlong(e->lval);
}

/* sort_load_list: |count| elements from index |start| (counted from the
 * tail and walking towards the head when |desc|), or all of them. */
static void sort_load_list(sort_vector *v, robj *list, long start, long count,
                           int desc) {
  quicklist *ql = list->ptr;
  quicklist_iter it;
  quicklist_entry e;
  long len = (long)ql->count;
  if (count < 0) {
    quicklist_iter_init(&it, ql, QUICKLIST_ITER_FORWARD);
    count = len;
  } else if (!quicklist_iter_init_at_index(
                 &it, ql,
                 desc ? QUICKLIST_ITER_BACKWARD : QUICKLIST_ITER_FORWARD,
                 desc ? len - start - 1 : start)) {
    return;
  }
  while (v->len < count && quicklist_next(&it, &e)) {
    sort_vector_add(v, sort_list_entry(&e));
  }
}

/* sort_load_zset_range: |count| members from rank |start| (from the top
 * when |desc|), in the set's order. */
static void sort_load_zset_range(sort_vector *v, zset *zs, long start,
                                 long count, int desc) {
  zskiplist *zsl = zs->zsl;
  zskiplist_node *ln;
  if (desc) {
    ln = zsl->tail;
    if (start > 0) {
      ln = zsl_get_element_by_rank(zsl, zsl->length - (unsigned long)start);
    }
  } else {
    ln = zsl->header->level[0].forward;
    if (start > 0) {
      ln = zsl_get_element_by_rank(zsl, (unsigned long)start + 1);
    }
  }
  for (long i = 0; i < count && ln != NULL; i++) {
    sort_vector_add(v, sds_dup(ln->ele));
    ln = desc ? ln->backward : ln->level[0].forward;
  }
}

/* sort_load_scores fills each item's sort key from BY (or the element);
 * returns 0 when a numeric key is not a double (the sort still runs, as
 * in Redis, then the command fails). */
static int sort_load_scores(redis_db *db, sort_vector *v, robj *sortby,
                            int alpha) {
  int ok = 1;
  for (long j = 0; j < v->len; j++) {
    sort_item *it = &v->items[j];
    sds byval = it->ele;
    if (sortby) {
      byval = sort_lookup_pattern(db, sortby, it->ele);
      if (byval == NULL) {
        continue; /* missing: score 0, or NULL for ALPHA */
      }
    }
    if (alpha) {
      if (sortby) {
        it->by = byval;
      }
      continue;
    }
    char *eptr;
    errno = 0;
    it->score = strtod(byval, &eptr);
    if (eptr[0] != '\0' || errno == ERANGE || isnan(it->score)) {
      ok = 0;
    }
    if (sortby) {
      sds_free(byval);
    }
  }
  return ok;
}

/* ------------------------------------------------------------------ */
/* SORT / SORT_RO                                                       */
/* ------------------------------------------------------------------ */
static void sort_reply(client *c, sort_vector *v, long start, long end,
                       robj **gets, int getop, long outputlen) {
  add_reply_array_len(c, outputlen);
  for (long j = start; j <= end; j++) {
    if (!getop) {
      add_reply_bulk_cbuffer(c, v->items[j].ele, sds_len(v->items[j].ele));
    }
    for (int g = 0; g < getop; g++) {
      sds val = sort_lookup_pattern(c->db, gets[g], v->items[j].ele);
      if (val == NULL) {
        add_reply_null(c);
      } else {
        add_reply_bulk_sds(c, val);
      }
    }
  }
}

static void sort_store(client *c, robj *storekey, sort_vector *v, long start,
                       long end, robj **gets, int getop, long outputlen) {
  robj *list = list_type_create();
  for (long j = start; j <= end; j++) {
    if (!getop) {
      robj *o = create_object(OBJ_STRING, sds_dup(v->items[j].ele));
      list_type_push(list, o, LIST_TAIL);
      decr_ref_count(o);
    }
    for (int g = 0; g < getop; g++) {
      sds val = sort_lookup_pattern(c->db, gets[g], v->items[j].ele);
      robj *o = create_object(OBJ_STRING, val ? val : sds_empty());
      list_type_push(list, o, LIST_TAIL);
      decr_ref_count(o);
    }
  }
  if (outputlen) {
    set_key(c, c->db, storekey, list, 0);
    notify_keyspace_event(NOTIFY_LIST, "sortstore", storekey, c->db->id);
    server.dirty += outputlen;
  } else if (db_delete(c->db, storekey)) {
    signal_modified_key(c, c->db, storekey);
    notify_keyspace_event(NOTIFY_GENERIC, "del", storekey, c->db->id);
    server.dirty++;
  }
  decr_ref_count(list);
  add_reply_long_long(c, outputlen);
}

/* The parsed options of one SORT. */
typedef struct sort_opts {
  int desc, alpha, dontsort;
  long limit_start, limit_count;
  robj *sortby, *storekey;
  robj **gets; /* GET patterns, getop of them */
  int getop;
} sort_opts;

/* sort_reads_all_keys: BY / GET patterns read keys the key specs cannot
 * name, so they need a user that may read every key (computed once). */
static int sort_reads_all_keys(client *c, int *cached) {
  if (*cached < 0) {
    *cached = acl_user_reads_all_keys(c->user, c->cmd, c->argv, c->argc);
  }
  return *cached;
}

/* sort_parse_options reads argv[2..]; replies and returns C_ERR on error.
 * SORT_RO (|readonly|) knows no STORE. */
static int sort_parse_options(client *c, int readonly, sort_opts *o) {
  int full_access = -1;
  for (int j = 2; j < c->argc; j++) {
    int leftargs = c->argc - j - 1;
    robj *arg = c->argv[j];
    if (sort_arg_is(arg, "asc")) {
      o->desc = 0;
    } else if (sort_arg_is(arg, "desc")) {
      o->desc = 1;
    } else if (sort_arg_is(arg, "alpha")) {
      o->alpha = 1;
    } else if (sort_arg_is(arg, "limit") && leftargs >= 2) {
      if (get_long_from_object_or_reply(c, c->argv[j + 1], &o->limit_start,
                                        NULL) != C_OK ||
          get_long_from_object_or_reply(c, c->argv[j + 2], &o->limit_count,
                                        NULL) != C_OK) {
        return C_ERR;
      }
      j += 2;
    } else if (!readonly && sort_arg_is(arg, "store") && leftargs >= 1) {
      o->storekey = c->argv[++j];
    } else if (sort_arg_is(arg, "by") && leftargs >= 1) {
      o->sortby = c->argv[++j];
      if (!sds_encoded_object(o->sortby) ||
          strchr(o->sortby->ptr, '*') == NULL) {
        o->dontsort = 1; /* a constant: nothing to sort by */
      } else if (!sort_reads_all_keys(c, &full_access)) {
        add_reply_error(c,
                        "BY option of SORT denied due to insufficient ACL "
                        "permissions.");
        return C_ERR;
      }
    } else if (sort_arg_is(arg, "get") && leftargs >= 1) {
      if (!sort_reads_all_keys(c, &full_access)) {
        add_reply_error(c,
                        "GET option of SORT denied due to insufficient ACL "
                        "permissions.");
        return C_ERR;
      }
      o->gets[o->getop++] = c->argv[++j];
    } else {
      add_reply_error_object(c, shared.syntaxerr);
      return C_ERR;
    }
  }
  return C_OK;
}

/* sort_clamp_limit turns LIMIT into the ranks start..end of |len| elements
 * (end < start: none), as Redis clamps them. */
static void sort_clamp_limit(const sort_opts *o, long len, long *out_start,
                             long *out_end) {
  long start = o->limit_start < 0 ? 0 : o->limit_start;
  if (start > len) {
    start = len;
  }
  long count = o->limit_count < -1 ? -1 : o->limit_count;
  if (count > len) {
    count = len;
  }
  long end = count < 0 ? len - 1 : start + count - 1;
  if (start >= len) {
    start = len - 1;
    end = len - 2;
  }
  if (end >= len) {
    end = len - 1;
  }
  *out_start = start;
  *out_end = end;
}

static void sort_run(client *c, sort_opts *o, robj *sortval) {
  /* An unsorted set would list its members in hash order, which a
   * replica or the AOF does not share. */
  if (o->dontsort && sortval->type == OBJ_SET &&
      (o->storekey || (c->flags & CLIENT_SCRIPT))) {
    o->dontsort = 0;
    o->alpha = 1;
    o->sortby = NULL;
  }
  zset *zs = NULL;
  if (sortval->type == OBJ_ZSET) {
    zs = zset_ptr(sortval); /* Redis converts it for good */
    sortval->encoding = OBJ_ENCODING_SKIPLIST;
  }
  long vectorlen = sortval->type == OBJ_LIST  ? (long)list_type_length(sortval)
                   : sortval->type == OBJ_SET ? (long)set_type_size(sortval)
                                              : (long)zs->zsl->length;
  long start, end;
  sort_clamp_limit(o, vectorlen, &start, &end);

  /* Lists and sorted sets that need no sorting load only the range. */
  if ((sortval->type == OBJ_ZSET || sortval->type == OBJ_LIST) && o->dontsort &&
      (start != 0 || end != vectorlen - 1)) {
    vectorlen = end - start + 1;
  }
  sort_vector v = {0};
  if (vectorlen > 0) {
    v.cap = vectorlen;
    v.items = zmalloc(sizeof(sort_item) * (size_t)vectorlen);
  }
  if (sortval->type == OBJ_LIST && o->dontsort) {
    if (end >= start) {
      sort_load_list(&v, sortval, start, vectorlen, o->desc);
      end -= start;
      start = 0;
    }
  } else if (sortval->type == OBJ_LIST) {
    sort_load_list(&v, sortval, 0, -1, 0);
  } else if (sortval->type == OBJ_SET) {
    set_type_foreach(sortval, sort_add_set_member, &v);
  } else if (o->dontsort) {
    sort_load_zset_range(&v, zs, start, vectorlen, o->desc);
    end -= start;
    start = 0;
  } else {
    sort_load_zset_range(&v, zs, 0, vectorlen, 0);
  }

  int scores_ok = 1;
  if (!o->dontsort && v.len > 0) {
    scores_ok = sort_load_scores(c->db, &v, o->sortby, o->alpha);
    sort_order.desc = o->desc;
    sort_order.alpha = o->alpha;
    sort_order.bypattern = o->sortby != NULL;
    sort_order.store = o->storekey != NULL;
    if (o->sortby && (start != 0 || end != v.len - 1)) {
      pqsort(v.items, (size_t)v.len, sizeof(sort_item), sort_compare,
             (size_t)start, (size_t)end);
    } else {
      qsort(v.items, (size_t)v.len, sizeof(sort_item), sort_compare);
    }
  }

  long outputlen = o->getop ? o->getop * (end - start + 1) : end - start + 1;
  if (!scores_ok) {
    add_reply_error(c, "One or more scores can't be converted into double");
  } else if (o->storekey == NULL) {
    sort_reply(c, &v, start, end, o->gets, o->getop, outputlen);
  } else {
    sort_store(c, o->storekey, &v, start, end, o->gets, o->getop, outputlen);
  }
  for (long j = 0; j < v.len; j++) {
    sds_free(v.items[j].ele);
    sds_free(v.items[j].by);
  }
  zfree(v.items);
}

static void sort_generic_command(client *c, int readonly) {
  sort_opts o = {.limit_count = -1};
  o.gets = zmalloc(sizeof(robj *) * (size_t)c->argc);
  if (sort_parse_options(c, readonly, &o) == C_OK) {
    robj *sortval = lookup_key_read(c->db, c->argv[1]);
    if (sortval && sortval->type != OBJ_SET && sortval->type != OBJ_LIST &&
        sortval->type != OBJ_ZSET) {
      add_reply_error_object(c, shared.wrongtypeerr);
    } else {
      /* A reference, so that nothing the lookups do can free it. */
      if (sortval) {
        incr_ref_count(sortval);
      } else {
        sortval = list_type_create();
      }
      sort_run(c, &o, sortval);
      decr_ref_count(sortval);
    }
  }
  zfree(o.gets);
}

static void sort_command(client *c) {
  sort_generic_command(c, 0);
  zset_compact_opened();
}

static void sort_ro_command(client *c) {
  sort_generic_command(c, 1);
  zset_compact_opened();
}

/* ------------------------------------------------------------------ */
/* Keys and the command table                                           */
/* ------------------------------------------------------------------ */
/* sort_get_keys: the sorted key and, with STORE, the destination (the last
 * STORE wins), scanning the options as Redis's sortGetKeys does. */
static int sort_get_keys(struct redis_command *cmd, robj **argv, int argc,
                         get_keys_result *result) {
  (void)cmd;
  static const struct {
    const char *name;
    int skip;
  } skiplist[] = {{"limit", 2}, {"get", 1}, {"by", 1}};
  key_reference *keys = get_keys_prepare_result(result, 2);
  keys[0].pos = 1;
  keys[0].flags = KSPEC_RO | KSPEC_ACCESS;
  int found_store = 0;
  for (int i = 2; i < argc; i++) {
    for (size_t j = 0; j < sizeof(skiplist) / sizeof(skiplist[0]); j++) {
      if (sort_arg_is(argv[i], skiplist[j].name)) {
        i += skiplist[j].skip;
        break;
      } else if (sort_arg_is(argv[i], "store") && i + 1 < argc) {
        found_store = 1;
        keys[1].pos = i + 1;
        keys[1].flags = KSPEC_OW | KSPEC_UPDATE;
        break;
      }
    }
  }
  result->numkeys = 1 + found_store;
  return result->numkeys;
}

static int sort_ro_get_keys(struct redis_command *cmd, robj **argv, int argc,
                            get_keys_result *result) {
  (void)cmd;
  (void)argv;
  (void)argc;
  key_reference *keys = get_keys_prepare_result(result, 1);
  keys[0].pos = 1;
  keys[0].flags = KSPEC_RO | KSPEC_ACCESS;
  result->numkeys = 1;
  return 1;
}

#define SORT_ACL                                                   \
  (ACL_CATEGORY_SET | ACL_CATEGORY_SORTEDSET | ACL_CATEGORY_LIST | \
   ACL_CATEGORY_DANGEROUS)

redis_command sort_commands[] = {
    {.declared_name = "sort",
     .summary = "Sort the elements in a list, set or sorted set",
     .since = "1.0.0",
     .group = "generic",
     .proc = sort_command,
     .arity = -2,
     .flags = CMD_WRITE | CMD_DENYOOM,
     .acl_categories = SORT_ACL,
     .firstkey = 1,
     .lastkey = 1,
     .keystep = 1,
     .getkeys_proc = sort_get_keys},
    {.declared_name = "sort_ro",
     .summary =
         "Sort the elements in a list, set or sorted set. Read-only variant "
         "of SORT.",
     .since = "7.0.0",
     .group = "generic",
     .proc = sort_ro_command,
     .arity = -2,
     .flags = CMD_READONLY,
     .acl_categories = SORT_ACL,
     .firstkey = 1,
     .lastkey = 1,
     .keystep = 1,
     .getkeys_proc = sort_ro_get_keys},
    {0}};
