/* t_zset_ops.c: ZUNION ZINTER ZDIFF, their STORE forms and ZINTERCARD,
 * plus the movable-key procs of the multi-key sorted-set commands.
 *
 * Inputs may be sorted sets or plain sets (members score 1). A set input
 * is copied into a temporary zset first, so its encodings need no separate
 * lookup paths. A small (listpack) sorted set is walked in place, and
 * copied only when other members are looked up in it (INTER, DIFF). */
#include <math.h>

#include "server/base/zmalloc.h"
#include "server/ds/intset.h"
#include "server/ds/listpack.h"
#include "server/types/t_zset.h"

#define SET_OP_UNION 0
#define SET_OP_INTER 1
#define SET_OP_DIFF 2

#define AGGR_SUM 0
#define AGGR_MIN 1
#define AGGR_MAX 2

typedef struct zsetop_src {
  robj *subject;     /* NULL when the key is missing */
  zset *zs;          /* the zset, or a temporary copy (of a set, or of a
                      * small sorted set that other members are looked up in) */
  unsigned char *lp; /* else a small sorted set's listpack, walked in place */
  int owned;         /* zs is a temporary copy */
  double weight;
} zsetop_src;

/* A walk over one source's members in order, from its listpack or its
 * skiplist. */
typedef struct zsetop_iter {
  const zsetop_src *src;
  unsigned char *ep;
  zskiplist_node *node;
} zsetop_iter;

static void zsetop_iter_init(zsetop_iter *it, const zsetop_src *s) {
  it->src = s;
  it->ep = s->lp ? lp_first(s->lp) : NULL;
  it->node = s->zs ? s->zs->zsl->header->level[0].forward : NULL;
}

/* zsetop_next yields the next member and its score (0 at the end). *ele
 * is the skiplist's own sds (*owned = 0) or a new one made from the
 * listpack (*owned = 1: the caller frees it or hands it to
 * zsetop_insert). */
static int zsetop_next(zsetop_iter *it, sds *ele, double *score, int *owned) {
  if (it->src->lp) {
    if (it->ep == NULL) {
      return 0;
    }
    uint32_t len;
    unsigned char buf[LP_INTBUF_SIZE];
    unsigned char *s = lp_get_string(it->ep, &len, buf);
    *ele = sds_new_len(s, len);
    *owned = 1;
    *score = zset_lp_score(lp_next(it->src->lp, it->ep));
    it->ep = zset_lp_step(it->src->lp, it->ep, 0);
    return 1;
  }
  if (it->node == NULL) {
    return 0;
  }
  *ele = it->node->ele;
  *owned = 0;
  *score = it->node->score;
  it->node = it->node->level[0].forward;
  return 1;
}

/* zsetop_insert adds an absent member to dst, taking *ele when *owned. */
static void zsetop_insert(zset *dst, double score, sds ele, int *owned,
                          size_t *maxelelen) {
  if (*owned) {
    zset_insert_owned(dst, score, ele);
    *owned = 0;
  } else {
    zset_insert_new(dst, score, ele, sds_len(ele));
  }
  if (sds_len(ele) > *maxelelen) {
    *maxelelen = sds_len(ele);
  }
}

static void zsetop_add_member(zset *zs, const char *s, size_t len) {
  zset_insert_new(zs, 1.0, s, len);
}

/* Copy a set object's members into a new zset with score 1. */
static zset *zsetop_from_set(robj *o) {
  zset *zs = zset_new();
  if (o->encoding == OBJ_ENCODING_INTSET) {
    const intset *is = o->ptr;
    uint32_t n = intset_len(is);
    for (uint32_t i = 0; i < n; i++) {
      int64_t v;
      char buf[LONG_STR_SIZE];
      intset_get(is, i, &v);
      int len = ll2string(buf, sizeof(buf), v);
      zsetop_add_member(zs, buf, (size_t)len);
    }
  } else if (o->encoding == OBJ_ENCODING_LISTPACK) {
    unsigned char *lp = o->ptr;
    for (unsigned char *p = lp_first(lp); p != NULL; p = lp_next(lp, p)) {
      uint32_t len;
      unsigned char buf[LP_INTBUF_SIZE];
      unsigned char *s = lp_get_string(p, &len, buf);
      zsetop_add_member(zs, (const char *)s, len);
    }
  } else if (o->encoding == OBJ_ENCODING_HT) {
    dict_iterator di;
    dict_init_iterator(&di, o->ptr);
    dict_entry *de;
    while ((de = dict_next(&di)) != NULL) {
      sds ele = dict_get_key(de);
      zsetop_add_member(zs, ele, sds_len(ele));
    }
    dict_reset_iterator(&di);
  }
  return zs;
}

static unsigned long zsetop_card(const zsetop_src *s) {
  if (s->zs) {
    return s->zs->zsl->length;
  }
  return s->lp ? lp_length(s->lp) / 2 : 0;
}

static void zsetop_aggregate(int aggregate, double *target, double val) {
  if (aggregate == AGGR_SUM) {
    *target = *target + val;
    /* inf + -inf: Redis stores 0 rather than NaN. */
    if (isnan(*target)) {
      *target = 0.0;
    }
  } else if (aggregate == AGGR_MIN) {
    *target = val < *target ? val : *target;
  } else {
    *target = val > *target ? val : *target;
  }
}

static void zsetop_free_sources(zsetop_src *src, long setnum) {
  for (long i = 0; i < setnum; i++) {
    if (src[i].owned) {
      zset_release(src[i].zs);
    }
  }
  zfree(src);
}

static double zsetop_weighted(double score, double weight) {
  double v = score * weight;
  return isnan(v) ? 0.0 : v;
}

static void zunion_inter_diff_generic(client *c, robj *dstkey,
                                      int numkeys_index, int op,
                                      int cardinality_only) {
  long setnum;
  int aggregate = AGGR_SUM, withscores = 0;
  long limit = 0;
  if (get_long_from_object_or_reply(c, c->argv[numkeys_index], &setnum, NULL) !=
      C_OK) {
    return;
  }
  if (setnum < 1) {
    add_reply_error_format(c, "at least 1 input key is needed for '%s' command",
                           c->cmd->fullname);
    return;
  }
  if (setnum > c->argc - (numkeys_index + 1)) {
    add_reply_error_object(c, shared.syntaxerr);
    return;
  }
  zsetop_src *src = zcalloc(sizeof(*src) * (size_t)setnum);
  int j = numkeys_index + 1;
  for (long i = 0; i < setnum; i++, j++) {
    /* Sources are read even by the STORE forms, as Redis: keyspace hits,
     * misses and "keymiss" events count them. */
    robj *obj = lookup_key_read(c->db, c->argv[j]);
    src[i].weight = 1.0;
    if (obj == NULL) {
      continue;
    }
    if (obj->type != OBJ_ZSET && obj->type != OBJ_SET) {
      zsetop_free_sources(src, setnum);
      add_reply_error_object(c, shared.wrongtypeerr);
      return;
    }
    src[i].subject = obj;
  }
  int remaining = c->argc - j;
  while (remaining) {
    const char *opt = c->argv[j]->ptr;
    int is_str = sds_encoded_object(c->argv[j]);
    if (is_str && op != SET_OP_DIFF && !cardinality_only &&
        remaining >= setnum + 1 && !strcasecmp(opt, "weights")) {
      j++;
      remaining--;
      for (long i = 0; i < setnum; i++, j++, remaining--) {
        if (get_double_from_object_or_reply(c, c->argv[j], &src[i].weight,
                                            "weight value is not a float") !=
            C_OK) {
          zsetop_free_sources(src, setnum);
          return;
        }
      }
    } else if (is_str && op != SET_OP_DIFF && !cardinality_only &&
               remaining >= 2 && !strcasecmp(opt, "aggregate")) {
      j++;
      remaining--;
      const char *a = c->argv[j]->ptr;
      if (sds_encoded_object(c->argv[j]) && !strcasecmp(a, "sum")) {
        aggregate = AGGR_SUM;
      } else if (sds_encoded_object(c->argv[j]) && !strcasecmp(a, "min")) {
        aggregate = AGGR_MIN;
      } else if (sds_encoded_object(c->argv[j]) && !strcasecmp(a, "max")) {
        aggregate = AGGR_MAX;
      } else {
        zsetop_free_sources(src, setnum);
        add_reply_error_object(c, shared.syntaxerr);
        return;
      }
      j++;
      remaining--;
    } else if (is_str && remaining >= 1 && !dstkey && !cardinality_only &&
               !strcasecmp(opt, "withscores")) {
      j++;
      remaining--;
      withscores = 1;
    } else if (is_str && cardinality_only && remaining >= 2 &&
               !strcasecmp(opt, "limit")) {
      j++;
      remaining--;
      if (get_positive_long_from_object_or_reply(
              c, c->argv[j], &limit, "LIMIT can't be negative") != C_OK) {
        zsetop_free_sources(src, setnum);
        return;
      }
      j++;
      remaining--;
    } else {
      zsetop_free_sources(src, setnum);
      add_reply_error_object(c, shared.syntaxerr);
      return;
    }
  }

  /* Materialise inputs now that the arguments are valid. */
  for (long i = 0; i < setnum; i++) {
    if (src[i].subject == NULL) {
      continue;
    }
    if (src[i].subject->type == OBJ_ZSET && zset_is_compact(src[i].subject)) {
      src[i].lp = src[i].subject->ptr;
    } else if (src[i].subject->type == OBJ_ZSET) {
      src[i].zs = zset_ptr(src[i].subject);
    } else {
      src[i].zs = zsetop_from_set(src[i].subject);
      src[i].owned = 1;
    }
  }
  if (op != SET_OP_DIFF) {
    /* Smallest first (stable insertion sort: ties keep argument order). */
    for (long a = 1; a < setnum; a++) {
      zsetop_src tmp = src[a];
      long b = a - 1;
      while (b >= 0 && zsetop_card(&src[b]) > zsetop_card(&tmp)) {
        src[b + 1] = src[b];
        b--;
      }
      src[b + 1] = tmp;
    }
  }

  /* INTER and DIFF walk the first source and look its members up in the
   * others: a small sorted set looked up in is copied into zset form (a
   * copy dropped at the end costs less than opening the object and
   * writing its listpack back). UNION only walks. */
  if (op != SET_OP_UNION) {
    for (long k = 1; k < setnum; k++) {
      if (src[k].lp != NULL) {
        src[k].zs = zset_copy_compact(src[k].subject);
        src[k].lp = NULL;
        src[k].owned = 1;
      }
    }
  }

  zset *dst = zset_new();
  size_t maxelelen = 0;
  unsigned long cardinality = 0;
  zsetop_iter it;
  sds ele;
  double value;
  int owned;
  if (op == SET_OP_INTER) {
    zsetop_iter_init(&it, &src[0]);
    while (zsetop_next(&it, &ele, &value, &owned)) {
      double score = zsetop_weighted(value, src[0].weight);
      long k;
      for (k = 1; k < setnum; k++) {
        double other;
        if (src[k].subject == src[0].subject) {
          other = value;
        } else {
          zskiplist_node *n = src[k].zs ? zset_find(src[k].zs, ele) : NULL;
          if (n == NULL) {
            break;
          }
          other = n->score;
        }
        zsetop_aggregate(aggregate, &score,
                         zsetop_weighted(other, src[k].weight));
      }
      int stop = 0;
      if (k == setnum && cardinality_only) {
        cardinality++;
        stop = limit && cardinality >= (unsigned long)limit;
      } else if (k == setnum) {
        zsetop_insert(dst, score, ele, &owned, &maxelelen);
      }
      if (owned) {
        sds_free(ele);
      }
      if (stop) {
        break;
      }
    }
  } else if (op == SET_OP_UNION) {
    for (long i = 0; i < setnum; i++) {
      zsetop_iter_init(&it, &src[i]);
      while (zsetop_next(&it, &ele, &value, &owned)) {
        double score = zsetop_weighted(value, src[i].weight);
        zskiplist_node *existing = zset_find(dst, ele);
        if (existing == NULL) {
          zsetop_insert(dst, score, ele, &owned, &maxelelen);
        } else {
          double cur = existing->score;
          zsetop_aggregate(aggregate, &cur, score);
          if (cur != existing->score) {
            zset_set_score(dst, existing, cur);
          }
        }
        if (owned) {
          sds_free(ele);
        }
      }
    }
  } else {
    zsetop_iter_init(&it, &src[0]);
    while (zsetop_next(&it, &ele, &value, &owned)) {
      long k;
      for (k = 1; k < setnum; k++) {
        if (src[k].subject == src[0].subject ||
            (src[k].zs && zset_find(src[k].zs, ele))) {
          break;
        }
      }
      if (k == setnum) {
        zsetop_insert(dst, value, ele, &owned, &maxelelen);
      }
      if (owned) {
        sds_free(ele);
      }
    }
  }
  zsetop_free_sources(src, setnum);

  if (dstkey) {
    robj *dstobj = create_object(OBJ_ZSET, dst);
    dstobj->encoding = OBJ_ENCODING_SKIPLIST;
    /* read the length first: the conversion frees dst */
    unsigned long dstlen = dst->zsl->length;
    if (dstlen) {
      zset_convert_to_listpack_if_small(dstobj, maxelelen);
      set_key(c, c->db, dstkey, dstobj, 0);
      add_reply_long_long(c, (long long)dstlen);
      notify_keyspace_event(NOTIFY_ZSET,
                            op == SET_OP_UNION   ? "zunionstore"
                            : op == SET_OP_INTER ? "zinterstore"
                                                 : "zdiffstore",
                            dstkey, c->db->id);
      server.dirty++;
    } else {
      add_reply(c, shared.czero);
      if (db_delete(c->db, dstkey)) {
        signal_modified_key(c, c->db, dstkey);
        notify_keyspace_event(NOTIFY_GENERIC, "del", dstkey, c->db->id);
        server.dirty++;
      }
    }
    decr_ref_count(dstobj);
    return;
  }
  if (cardinality_only) {
    add_reply_long_long(c, (long long)cardinality);
  } else {
    long length = (long)dst->zsl->length;
    add_reply_array_len(c, (withscores && c->resp == 2) ? length * 2 : length);
    for (zskiplist_node *n = dst->zsl->header->level[0].forward; n;
         n = n->level[0].forward) {
      if (withscores && c->resp > 2) {
        add_reply_array_len(c, 2);
      }
      add_reply_bulk_cbuffer(c, n->ele, sds_len(n->ele));
      if (withscores) {
        add_reply_double(c, n->score);
      }
    }
  }
  zset_release(dst);
}

void zunionstore_command(client *c) {
  zunion_inter_diff_generic(c, c->argv[1], 2, SET_OP_UNION, 0);
}
void zinterstore_command(client *c) {
  zunion_inter_diff_generic(c, c->argv[1], 2, SET_OP_INTER, 0);
}
void zdiffstore_command(client *c) {
  zunion_inter_diff_generic(c, c->argv[1], 2, SET_OP_DIFF, 0);
}
void zunion_command(client *c) {
  zunion_inter_diff_generic(c, NULL, 1, SET_OP_UNION, 0);
}
void zinter_command(client *c) {
  zunion_inter_diff_generic(c, NULL, 1, SET_OP_INTER, 0);
}
void zdiff_command(client *c) {
  zunion_inter_diff_generic(c, NULL, 1, SET_OP_DIFF, 0);
}
void zintercard_command(client *c) {
  zunion_inter_diff_generic(c, NULL, 1, SET_OP_INTER, 1);
}

/* ------------------------------------------------------------------ */
/* Movable keys                                                         */
/* ------------------------------------------------------------------ */
/* Keys are numkeys arguments after argv[numkeys_idx]; with_dst adds
 * argv[1] first. A bad numkeys yields no keys (the command errors). */
static int zset_numkeys_get_keys(robj **argv, int argc, int numkeys_idx,
                                 int with_dst, get_keys_result *result) {
  long long num = 0;
  if (numkeys_idx >= argc ||
      get_long_long_from_object(argv[numkeys_idx], &num) != C_OK || num < 1 ||
      num > argc - (numkeys_idx + 1)) {
    result->numkeys = 0;
    return 0;
  }
  int total = (int)num + (with_dst ? 1 : 0);
  key_reference *keys = get_keys_prepare_result(result, total);
  int n = 0;
  if (with_dst) {
    keys[n].pos = 1;
    keys[n].flags = 0;
    n++;
  }
  for (int i = 0; i < (int)num; i++) {
    keys[n].pos = numkeys_idx + 1 + i;
    keys[n].flags = 0;
    n++;
  }
  result->numkeys = n;
  return n;
}

int zunion_inter_diff_get_keys(struct redis_command *cmd, robj **argv, int argc,
                               get_keys_result *result) {
  (void)cmd;
  return zset_numkeys_get_keys(argv, argc, 1, 0, result);
}

int zunion_inter_diff_store_get_keys(struct redis_command *cmd, robj **argv,
                                     int argc, get_keys_result *result) {
  (void)cmd;
  return zset_numkeys_get_keys(argv, argc, 2, 1, result);
}

int zmpop_get_keys(struct redis_command *cmd, robj **argv, int argc,
                   get_keys_result *result) {
  (void)cmd;
  return zset_numkeys_get_keys(argv, argc, 1, 0, result);
}
