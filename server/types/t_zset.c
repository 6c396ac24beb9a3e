/* t_zset.c: sorted-set commands on a single key (ZADD ... ZSCAN) and the
 * command table. The multi-key set algebra lives in
 * t_zset_ops.c, the blocking pops in t_zset_block.c, ZSCAN in t_zset_scan.c
 * and the listpack form and object hooks in t_zset_lp.c.
 *
 * Replies, error texts and keyspace events follow Redis 7.0. */
#include "server/types/t_zset.h"

#include <math.h>

#include "server/base/zmalloc.h"
#include "server/core/scan_common.h"
#include "server/ds/listpack.h"

/* ------------------------------------------------------------------ */
/* Objects and hooks                                                    */
/* ------------------------------------------------------------------ */
unsigned long zset_length(robj *o) {
  if (zset_is_compact(o)) {
    return lp_length(o->ptr) / 2;
  }
  return zset_ptr(o)->zsl->length;
}

void zset_prepare_add(robj *o, size_t ele_len) {
  if (o->encoding == OBJ_ENCODING_LISTPACK &&
      (zset_length(o) + 1 > server.zset_max_listpack_entries ||
       ele_len > server.zset_max_listpack_value)) {
    o->encoding = OBJ_ENCODING_SKIPLIST;
  }
}

/* Redis stores an integral listpack score as an integer entry, so a -0
 * score reads back as 0 in that encoding only. */
double zset_stored_score(const robj *o, double score) {
  if (o->encoding == OBJ_ENCODING_LISTPACK && score == 0) {
    return 0.0;
  }
  return score;
}

/* ------------------------------------------------------------------ */
/* Range parsing                                                        */
/* ------------------------------------------------------------------ */
static int zset_parse_score_item(robj *o, double *value, int *ex) {
  if (o->encoding == OBJ_ENCODING_INT) {
    *value = (double)(long)o->ptr;
    *ex = 0;
    return C_OK;
  }
  const char *s = o->ptr;
  char *eptr;
  *ex = 0;
  if (s[0] == '(') {
    *ex = 1;
    s++;
  }
  *value = strtod(s, &eptr);
  if (eptr[0] != '\0' || isnan(*value)) {
    return C_ERR;
  }
  return C_OK;
}

int zset_parse_range(robj *min, robj *max, zrangespec *spec) {
  if (zset_parse_score_item(min, &spec->min, &spec->minex) != C_OK ||
      zset_parse_score_item(max, &spec->max, &spec->maxex) != C_OK) {
    return C_ERR;
  }
  return C_OK;
}

static int zset_parse_lex_item(robj *o, sds *dest, int *kind, int *ex) {
  if (!sds_encoded_object(o)) {
    return C_ERR; /* integers never start with a range character */
  }
  const char *s = o->ptr;
  size_t len = sds_len(o->ptr);
  *dest = NULL;
  *kind = ZLEX_VALUE;
  switch (s[0]) {
    case '+':
      if (len != 1) {
        return C_ERR;
      }
      *ex = 1;
      *kind = ZLEX_PLUS_INF;
      return C_OK;
    case '-':
      if (len != 1) {
        return C_ERR;
      }
      *ex = 1;
      *kind = ZLEX_MINUS_INF;
      return C_OK;
    case '(':
      *ex = 1;
      *dest = sds_new_len(s + 1, len - 1);
      return C_OK;
    case '[':
      *ex = 0;
      *dest = sds_new_len(s + 1, len - 1);
      return C_OK;
    default:
      return C_ERR;
  }
}

int zset_parse_lex_range(robj *min, robj *max, zlexrangespec *spec) {
  spec->min = spec->max = NULL;
  if (zset_parse_lex_item(min, &spec->min, &spec->minkind, &spec->minex) !=
          C_OK ||
      zset_parse_lex_item(max, &spec->max, &spec->maxkind, &spec->maxex) !=
          C_OK) {
    zfree_lex_range(spec);
    return C_ERR;
  }
  return C_OK;
}

/* ------------------------------------------------------------------ */
/* ZADD / ZINCRBY                                                       */
/* ------------------------------------------------------------------ */
#define ZADD_IN_INCR (1 << 0)
#define ZADD_IN_NX (1 << 1)
#define ZADD_IN_XX (1 << 2)
#define ZADD_IN_GT (1 << 3)
#define ZADD_IN_LT (1 << 4)
#define ZADD_OUT_NOP (1 << 0)
#define ZADD_OUT_NAN (1 << 1)
#define ZADD_OUT_ADDED (1 << 2)
#define ZADD_OUT_UPDATED (1 << 3)

/* zadd_existing decides what ZADD's flags do to a member already present
 * with score cur: 1 = give it *score (the increment applied for INCR; may
 * equal cur), 0 = leave it (*out_flags has NOP, or NAN for an INCR that
 * would make it NaN). */
static int zadd_existing(double cur, double *score, int in_flags,
                         int *out_flags) {
  if (in_flags & ZADD_IN_NX) {
    *out_flags |= ZADD_OUT_NOP;
    return 0;
  }
  if (in_flags & ZADD_IN_INCR) {
    *score += cur;
    if (isnan(*score)) {
      *out_flags |= ZADD_OUT_NAN;
      return 0;
    }
  }
  if (((in_flags & ZADD_IN_LT) && *score >= cur) ||
      ((in_flags & ZADD_IN_GT) && *score <= cur)) {
    *out_flags |= ZADD_OUT_NOP;
    return 0;
  }
  return 1;
}

/* zset_add_compact is zset_add on a compact object: the member is updated
 * or inserted in the listpack itself. Returns -1 (nothing done) when the
 * insertion needs the skiplist encoding: zset_add then converts. */
static int zset_add_compact(robj *o, double score, sds ele, int in_flags,
                            int *out_flags, double *newscore) {
  size_t len = sds_len(ele);
  double cur;
  unsigned char *ep = zset_lp_find(o->ptr, ele, len, &cur);
  if (ep != NULL) {
    if (!zadd_existing(cur, &score, in_flags, out_flags)) {
      return !(*out_flags & ZADD_OUT_NAN);
    }
    *newscore = score;
    if (score != cur) {
      o->ptr = zset_lp_insert(zset_lp_delete(o->ptr, ep), ele, len, score);
      *out_flags |= ZADD_OUT_UPDATED;
    }
    return 1;
  }
  if (in_flags & ZADD_IN_XX) {
    *out_flags |= ZADD_OUT_NOP;
    return 1;
  }
  if (lp_length(o->ptr) / 2 + 1 > server.zset_max_listpack_entries ||
      len > server.zset_max_listpack_value) {
    return -1;
  }
  o->ptr = zset_lp_insert(o->ptr, ele, len, score);
  *newscore = score;
  *out_flags |= ZADD_OUT_ADDED;
  return 1;
}

/* zset_add applies one (score, member) with the ZADD flags. Returns 0 when
 * the result would be NaN (nothing changed), 1 otherwise. */
static int zset_add(robj *o, double score, sds ele, int in_flags,
                    int *out_flags, double *newscore) {
  *out_flags = 0;
  if (isnan(score)) {
    *out_flags = ZADD_OUT_NAN;
    return 0;
  }
  if (zset_is_compact(o)) {
    int rc = zset_add_compact(o, score, ele, in_flags, out_flags, newscore);
    if (rc >= 0) {
      return rc;
    }
  }
  zset *zs = zset_ptr(o);
  zskiplist_node *node = zset_find(zs, ele);
  if (node != NULL) {
    double cur = node->score;
    if (!zadd_existing(cur, &score, in_flags, out_flags)) {
      return !(*out_flags & ZADD_OUT_NAN);
    }
    *newscore = score;
    if (score != cur) {
      zset_set_score(zs, node, zset_stored_score(o, score));
      *out_flags |= ZADD_OUT_UPDATED;
    }
    return 1;
  }
  if (in_flags & ZADD_IN_XX) {
    *out_flags |= ZADD_OUT_NOP;
    return 1;
  }
  zset_prepare_add(o, sds_len(ele));
  zset_insert_new(zs, zset_stored_score(o, score), ele, sds_len(ele));
  *newscore = score;
  *out_flags |= ZADD_OUT_ADDED;
  return 1;
}

static void zadd_generic_command(client *c, int flags) {
  robj *key = c->argv[1];
  int scoreidx = 2;
  while (scoreidx < c->argc) {
    const char *opt = c->argv[scoreidx]->ptr;
    if (!sds_encoded_object(c->argv[scoreidx])) {
      break;
    } else if (!strcasecmp(opt, "nx")) {
      flags |= ZADD_IN_NX;
    } else if (!strcasecmp(opt, "xx")) {
      flags |= ZADD_IN_XX;
    } else if (!strcasecmp(opt, "ch")) {
      flags |= (1 << 8); /* CH: reply counts changed, not only added */
    } else if (!strcasecmp(opt, "incr")) {
      flags |= ZADD_IN_INCR;
    } else if (!strcasecmp(opt, "gt")) {
      flags |= ZADD_IN_GT;
    } else if (!strcasecmp(opt, "lt")) {
      flags |= ZADD_IN_LT;
    } else {
      break;
    }
    scoreidx++;
  }
  int incr = (flags & ZADD_IN_INCR) != 0;
  int nx = (flags & ZADD_IN_NX) != 0, xx = (flags & ZADD_IN_XX) != 0;
  int gt = (flags & ZADD_IN_GT) != 0, lt = (flags & ZADD_IN_LT) != 0;
  int ch = (flags & (1 << 8)) != 0;

  long elements = c->argc - scoreidx;
  if (elements % 2 || elements == 0) {
    add_reply_error_object(c, shared.syntaxerr);
    return;
  }
  elements /= 2;
  if (nx && xx) {
    add_reply_error(c, "XX and NX options at the same time are not compatible");
    return;
  }
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    add_reply_error(
        c, "GT, LT, and/or NX options at the same time are not compatible");
    return;
  }
  if (incr && elements > 1) {
    add_reply_error(c, "INCR option supports a single increment-element pair");
    return;
  }
  double *scores = zmalloc(sizeof(double) * (size_t)elements);
  for (long j = 0; j < elements; j++) {
    if (get_double_from_object_or_reply(c, c->argv[scoreidx + j * 2],
                                        &scores[j], NULL) != C_OK) {
      zfree(scores);
      return;
    }
  }

  long added = 0, updated = 0, processed = 0;
  double score = 0;
  robj *zobj = lookup_key_write(c->db, key);
  if (check_type(c, zobj, OBJ_ZSET)) {
    goto cleanup;
  }
  if (zobj == NULL) {
    if (xx) {
      goto reply_to_client;
    }
    zobj = zset_create_compact_object();
    db_add(c->db, key, zobj);
  }
  for (long j = 0; j < elements; j++) {
    double newscore = 0;
    int retflags = 0;
    robj *eleobj = get_decoded_object(c->argv[scoreidx + 1 + j * 2]);
    int ok =
        zset_add(zobj, scores[j], eleobj->ptr, flags, &retflags, &newscore);
    decr_ref_count(eleobj);
    if (!ok) {
      add_reply_error(c, "resulting score is not a number (NaN)");
      goto cleanup;
    }
    if (retflags & ZADD_OUT_ADDED) {
      added++;
    }
    if (retflags & ZADD_OUT_UPDATED) {
      updated++;
    }
    if (!(retflags & ZADD_OUT_NOP)) {
      processed++;
    }
    score = newscore;
  }
  server.dirty += added + updated;

reply_to_client:
  if (incr) {
    if (processed) {
      add_reply_double(c, score);
    } else {
      add_reply_null(c);
    }
  } else {
    add_reply_long_long(c, ch ? added + updated : added);
  }

cleanup:
  zfree(scores);
  if (added || updated) {
    signal_modified_key(c, c->db, key);
    notify_keyspace_event(NOTIFY_ZSET, incr ? "zincr" : "zadd", key, c->db->id);
  }
}

void zadd_command(client *c) { zadd_generic_command(c, 0); }

static void zincrby_command(client *c) {
  zadd_generic_command(c, ZADD_IN_INCR);
}

/* ------------------------------------------------------------------ */
/* ZREM, ZREMRANGEBY*                                                   */
/* ------------------------------------------------------------------ */
static void zrem_command(client *c) {
  robj *key = c->argv[1];
  robj *zobj = lookup_key_write_or_reply(c, key, shared.czero);
  if (zobj == NULL || check_type(c, zobj, OBJ_ZSET)) {
    return;
  }
  long deleted = 0;
  int keyremoved = 0;
  for (int j = 2; j < c->argc; j++) {
    robj *ele = get_decoded_object(c->argv[j]);
    if (zset_is_compact(zobj)) { /* in place, like ZADD */
      unsigned char *ep =
          zset_lp_find(zobj->ptr, ele->ptr, sds_len(ele->ptr), NULL);
      if (ep != NULL) {
        zobj->ptr = zset_lp_delete(zobj->ptr, ep);
        deleted++;
      }
    } else {
      deleted += zset_remove(zset_ptr(zobj), ele->ptr);
    }
    decr_ref_count(ele);
    if (zset_length(zobj) == 0) {
      db_delete(c->db, key);
      keyremoved = 1;
      break;
    }
  }
  if (deleted) {
    notify_keyspace_event(NOTIFY_ZSET, "zrem", key, c->db->id);
    if (keyremoved) {
      notify_keyspace_event(NOTIFY_GENERIC, "del", key, c->db->id);
    }
    signal_modified_key(c, c->db, key);
    server.dirty += deleted;
  }
  add_reply_long_long(c, deleted);
}

#define ZRANGE_RANK 0
#define ZRANGE_SCORE 1
#define ZRANGE_LEX 2

/* zset_lp_count_run: how many members from |ep| on are inside the far
 * bound of |score| or |lex| (the other NULL). */
static unsigned long zset_lp_count_run(unsigned char *lp, unsigned char *ep,
                                       const zrangespec *score,
                                       const zlexrangespec *lex) {
  unsigned long n = 0;
  for (; ep != NULL && zset_lp_inside(lp, ep, score, lex, 0);
       ep = zset_lp_step(lp, ep, 0)) {
    n++;
  }
  return n;
}

/* zset_count_in: ZCOUNT (|score|) and ZLEXCOUNT (|lex|), the other NULL. */
static unsigned long zset_count_in(robj *zobj, const zrangespec *score,
                                   const zlexrangespec *lex) {
  if (zset_is_compact(zobj)) {
    unsigned char *lp = zobj->ptr;
    return zset_lp_count_run(lp, zset_lp_edge(lp, score, lex, 0), score, lex);
  }
  zskiplist *zsl = zset_ptr(zobj)->zsl;
  zskiplist_node *first =
      score ? zsl_first_in_range(zsl, score) : zsl_first_in_lex_range(zsl, lex);
  if (first == NULL) {
    return 0;
  }
  unsigned long rank = zsl_get_rank(zsl, first->score, first->ele);
  unsigned long count = zsl->length - (rank - 1);
  zskiplist_node *last =
      score ? zsl_last_in_range(zsl, score) : zsl_last_in_lex_range(zsl, lex);
  if (last != NULL) {
    rank = zsl_get_rank(zsl, last->score, last->ele);
    count -= zsl->length - rank;
  }
  return count;
}

/* zset_remove_range_compact removes a run of members (ranks start..end,
 * already clamped, or a score or lex range) from a compact set's listpack
 * in place, the way Redis deletes from a listpack; returns how many. */
static unsigned long zset_remove_range_compact(robj *zobj, int rangetype,
                                               long start, long end,
                                               const zrangespec *range,
                                               const zlexrangespec *lexrange) {
  unsigned char *lp = zobj->ptr, *ep;
  unsigned long n = 0;
  if (rangetype == ZRANGE_RANK) {
    ep = lp_seek(lp, 2 * start);
    n = (unsigned long)(end - start + 1);
  } else {
    const zrangespec *score = rangetype == ZRANGE_SCORE ? range : NULL;
    ep = zset_lp_edge(lp, score, lexrange, 0);
    n = zset_lp_count_run(lp, ep, score, lexrange);
  }
  if (ep == NULL) {
    return 0;
  }
  zobj->ptr = lp_delete_range_with_entry(lp, &ep, 2 * n);
  return n;
}

static void zremrange_generic_command(client *c, int rangetype) {
  static const char *events[] = {"zremrangebyrank", "zremrangebyscore",
                                 "zremrangebylex"};
  robj *key = c->argv[1];
  zrangespec range;
  zlexrangespec lexrange = {0};
  long start = 0, end = 0;
  if (rangetype == ZRANGE_RANK) {
    if (get_long_from_object_or_reply(c, c->argv[2], &start, NULL) != C_OK ||
        get_long_from_object_or_reply(c, c->argv[3], &end, NULL) != C_OK) {
      return;
    }
  } else if (rangetype == ZRANGE_SCORE) {
    if (zset_parse_range(c->argv[2], c->argv[3], &range) != C_OK) {
      add_reply_error(c, "min or max is not a float");
      return;
    }
  } else {
    if (zset_parse_lex_range(c->argv[2], c->argv[3], &lexrange) != C_OK) {
      add_reply_error(c, "min or max not valid string range item");
      return;
    }
  }
  robj *zobj = lookup_key_write_or_reply(c, key, shared.czero);
  if (zobj == NULL || check_type(c, zobj, OBJ_ZSET)) {
    goto cleanup;
  }
  unsigned long deleted = 0;
  if (rangetype == ZRANGE_RANK) {
    long llen = (long)zset_length(zobj);
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
      add_reply(c, shared.czero);
      goto cleanup;
    }
    if (end >= llen) {
      end = llen - 1;
    }
  }
  if (zset_is_compact(zobj)) {
    deleted = zset_remove_range_compact(zobj, rangetype, start, end, &range,
                                        &lexrange);
  } else {
    zset *zs = zset_ptr(zobj);
    if (rangetype == ZRANGE_RANK) {
      deleted = zsl_delete_range_by_rank(zs->zsl, (unsigned long)start + 1,
                                         (unsigned long)end + 1, zs->dict);
    } else if (rangetype == ZRANGE_SCORE) {
      deleted = zsl_delete_range_by_score(zs->zsl, &range, zs->dict);
    } else {
      deleted = zsl_delete_range_by_lex(zs->zsl, &lexrange, zs->dict);
    }
  }
  int keyremoved = 0;
  if (zset_length(zobj) == 0) {
    db_delete(c->db, key);
    keyremoved = 1;
  }
  if (deleted) {
    signal_modified_key(c, c->db, key);
    notify_keyspace_event(NOTIFY_ZSET, events[rangetype], key, c->db->id);
    if (keyremoved) {
      notify_keyspace_event(NOTIFY_GENERIC, "del", key, c->db->id);
    }
  }
  server.dirty += (long long)deleted;
  add_reply_long_long(c, (long long)deleted);
cleanup:
  zfree_lex_range(&lexrange);
}

static void zremrangebyrank_command(client *c) {
  zremrange_generic_command(c, ZRANGE_RANK);
}
static void zremrangebyscore_command(client *c) {
  zremrange_generic_command(c, ZRANGE_SCORE);
}
static void zremrangebylex_command(client *c) {
  zremrange_generic_command(c, ZRANGE_LEX);
}

/* ------------------------------------------------------------------ */
/* ZCARD ZSCORE ZMSCORE ZRANK ZCOUNT ZLEXCOUNT                          */
/* ------------------------------------------------------------------ */
static void zcard_command(client *c) {
  robj *zobj = lookup_key_read_or_reply(c, c->argv[1], shared.czero);
  if (zobj == NULL || check_type(c, zobj, OBJ_ZSET)) {
    return;
  }
  add_reply_long_long(c, (long long)zset_length(zobj));
}

/* zset_member_score sets *score and returns 1 if |member| is in the set. A
 * compact set is searched in place, as Redis does, instead of being opened
 * (a dict and a skiplist built and written back for one lookup). */
static int zset_member_score(robj *zobj, robj *member, double *score) {
  robj *ele = get_decoded_object(member);
  int found;
  if (zset_is_compact(zobj)) {
    found = zset_lp_find(zobj->ptr, ele->ptr, sds_len(ele->ptr), score) != NULL;
  } else {
    zskiplist_node *node = zset_find(zset_ptr(zobj), ele->ptr);
    found = node != NULL;
    if (found) {
      *score = node->score;
    }
  }
  decr_ref_count(ele);
  return found;
}

static void zscore_command(client *c) {
  robj *zobj = lookup_key_read_or_reply(c, c->argv[1], shared.null[c->resp]);
  if (zobj == NULL || check_type(c, zobj, OBJ_ZSET)) {
    return;
  }
  double score;
  if (zset_member_score(zobj, c->argv[2], &score)) {
    add_reply_double(c, score);
  } else {
    add_reply_null(c);
  }
}

static void zmscore_command(client *c) {
  robj *zobj = lookup_key_read(c->db, c->argv[1]);
  if (check_type(c, zobj, OBJ_ZSET)) {
    return;
  }
  add_reply_array_len(c, c->argc - 2);
  for (int j = 2; j < c->argc; j++) {
    double score;
    if (zobj != NULL && zset_member_score(zobj, c->argv[j], &score)) {
      add_reply_double(c, score);
    } else {
      add_reply_null(c);
    }
  }
}

static void zrank_generic_command(client *c, int reverse) {
  robj *zobj = lookup_key_read_or_reply(c, c->argv[1], shared.null[c->resp]);
  if (zobj == NULL || check_type(c, zobj, OBJ_ZSET)) {
    return;
  }
  unsigned long length = zset_length(zobj);
  long rank = -1; /* 0-based, ascending */
  robj *ele = get_decoded_object(c->argv[2]);
  if (zset_is_compact(zobj)) {
    rank = zset_lp_rank(zobj->ptr, ele->ptr, sds_len(ele->ptr));
  } else {
    zset *zs = zset_ptr(zobj);
    zskiplist_node *node = zset_find(zs, ele->ptr);
    if (node != NULL) {
      rank = (long)zsl_get_rank(zs->zsl, node->score, node->ele) - 1;
    }
  }
  decr_ref_count(ele);
  if (rank < 0) {
    add_reply_null(c);
  } else {
    add_reply_long_long(c, reverse ? (long long)length - 1 - rank : rank);
  }
}

static void zrank_command(client *c) { zrank_generic_command(c, 0); }
static void zrevrank_command(client *c) { zrank_generic_command(c, 1); }

static void zcount_command(client *c) {
  zrangespec range;
  if (zset_parse_range(c->argv[2], c->argv[3], &range) != C_OK) {
    add_reply_error(c, "min or max is not a float");
    return;
  }
  robj *zobj = lookup_key_read_or_reply(c, c->argv[1], shared.czero);
  if (zobj == NULL || check_type(c, zobj, OBJ_ZSET)) {
    return;
  }
  add_reply_long_long(c, (long long)zset_count_in(zobj, &range, NULL));
}

static void zlexcount_command(client *c) {
  zlexrangespec range;
  if (zset_parse_lex_range(c->argv[2], c->argv[3], &range) != C_OK) {
    add_reply_error(c, "min or max not valid string range item");
    return;
  }
  robj *zobj = lookup_key_read_or_reply(c, c->argv[1], shared.czero);
  if (zobj == NULL || check_type(c, zobj, OBJ_ZSET)) {
    zfree_lex_range(&range);
    return;
  }
  unsigned long count = zset_count_in(zobj, NULL, &range);
  zfree_lex_range(&range);
  add_reply_long_long(c, (long long)count);
}

/* zsl_node_inside: |n| is within the far bound of a score range |score|
 * or a lex range |lex| (the other NULL): its max, or its min if
 * |reverse|. zset_lp_inside (t_zset_lp.c) is the same for a listpack. */
static int zsl_node_inside(const zskiplist_node *n, const zrangespec *score,
                           const zlexrangespec *lex, int reverse) {
  if (score) {
    return reverse ? zsl_value_gte_min(n->score, score)
                   : zsl_value_lte_max(n->score, score);
  }
  return reverse ? zsl_lex_value_gte_min(n->ele, lex)
                 : zsl_lex_value_lte_max(n->ele, lex);
}

/* ------------------------------------------------------------------ */
/* ZRANGE family                                                        */
/* ------------------------------------------------------------------ */
/* Where a range result goes: the client (with RESP2/RESP3 shapes) or a
 * destination key (ZRANGESTORE). */
typedef struct zrange_out {
  client *c;
  int store;
  robj *dstkey, *dstobj;
  size_t maxelelen;
  int withscores;
  int nested; /* RESP3 WITHSCORES: [member, score] pairs */
  void *deferred;
} zrange_out;

static void zrange_out_begin(zrange_out *h, long length) {
  if (h->store) {
    h->dstobj = zset_create_object();
    return;
  }
  h->deferred = NULL;
  if (length > 0) {
    add_reply_array_len(
        h->c, (h->withscores && h->c->resp == 2) ? length * 2 : length);
  } else {
    h->deferred = add_reply_deferred_len(h->c);
  }
}

static void zrange_out_emit_buf(zrange_out *h, const char *ele, size_t len,
                                double score) {
  if (h->store) {
    zset_prepare_add(h->dstobj, len);
    zset_insert_new(zset_ptr(h->dstobj), zset_stored_score(h->dstobj, score),
                    ele, len);
    return;
  }
  if (h->nested) {
    add_reply_array_len(h->c, 2);
  }
  add_reply_bulk_cbuffer(h->c, ele, len);
  if (h->withscores) {
    add_reply_double(h->c, score);
  }
}

static void zrange_out_emit(zrange_out *h, sds ele, double score) {
  zrange_out_emit_buf(h, ele, sds_len(ele), score);
}

/* zrange_out_emit_lp emits the member at |ep| of a compact set's listpack
 * and the score after it. */
static void zrange_out_emit_lp(zrange_out *h, unsigned char *lp,
                               unsigned char *ep) {
  uint32_t len;
  unsigned char buf[LP_INTBUF_SIZE];
  unsigned char *ele = lp_get_string(ep, &len, buf);
  zrange_out_emit_buf(h, (const char *)ele, len,
                      zset_lp_score(lp_next(lp, ep)));
}

static void zrange_out_finalize(zrange_out *h, long count) {
  client *c = h->c;
  if (!h->store) {
    if (h->deferred) {
      set_deferred_array_len(
          c, h->deferred, (h->withscores && c->resp == 2) ? count * 2 : count);
    }
    return;
  }
  if (count) {
    set_key(c, c->db, h->dstkey, h->dstobj, 0);
    add_reply_long_long(c, count);
    notify_keyspace_event(NOTIFY_ZSET, "zrangestore", h->dstkey, c->db->id);
    server.dirty++;
  } else {
    add_reply(c, shared.czero);
    if (db_delete(c->db, h->dstkey)) {
      signal_modified_key(c, c->db, h->dstkey);
      notify_keyspace_event(NOTIFY_GENERIC, "del", h->dstkey, c->db->id);
      server.dirty++;
    }
  }
  decr_ref_count(h->dstobj);
  h->dstobj = NULL;
}

static void zrange_by_rank(zrange_out *h, robj *zobj, long start, long end,
                           int reverse) {
  long llen = (long)zset_length(zobj);
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
    zrange_out_begin(h, 0);
    zrange_out_finalize(h, 0);
    return;
  }
  if (end >= llen) {
    end = llen - 1;
  }
  long rangelen = end - start + 1;
  zrange_out_begin(h, rangelen);
  if (zset_is_compact(zobj)) { /* walk the listpack, as Redis does */
    unsigned char *lp = zobj->ptr;
    unsigned char *ep = lp_seek(lp, 2 * (reverse ? llen - 1 - start : start));
    for (long i = 0; i < rangelen && ep != NULL; i++) {
      zrange_out_emit_lp(h, lp, ep);
      ep = zset_lp_step(lp, ep, reverse);
    }
    zrange_out_finalize(h, rangelen);
    return;
  }
  zset *zs = zset_ptr(zobj);
  zskiplist_node *ln =
      zsl_get_element_by_rank(zs->zsl, reverse ? (unsigned long)(llen - start)
                                               : (unsigned long)(start + 1));
  for (long i = 0; i < rangelen && ln != NULL; i++) {
    zrange_out_emit(h, ln->ele, ln->score);
    ln = reverse ? ln->backward : ln->level[0].forward;
  }
  zrange_out_finalize(h, rangelen);
}

/* ZRANGE BYSCORE and BYLEX: |score| or |lex|, the other NULL. The members
 * from the near edge of the range on, after |offset| of them, up to
 * |limit|, while inside the far bound. */
static void zrange_by_bound(zrange_out *h, const zrangespec *score,
                            const zlexrangespec *lex, robj *zobj, long offset,
                            long limit, int reverse) {
  /* A negative offset skips past the end in Redis: empty result. */
  if ((offset > 0 && (unsigned long)offset >= zset_length(zobj)) ||
      offset < 0) {
    zrange_out_begin(h, 0);
    zrange_out_finalize(h, 0);
    return;
  }
  zrange_out_begin(h, -1);
  long count = 0;
  if (zset_is_compact(zobj)) {
    unsigned char *lp = zobj->ptr;
    unsigned char *ep = zset_lp_edge(lp, score, lex, reverse);
    while (ep && offset--) {
      ep = zset_lp_step(lp, ep, reverse);
    }
    while (ep && limit-- && zset_lp_inside(lp, ep, score, lex, reverse)) {
      zrange_out_emit_lp(h, lp, ep);
      count++;
      ep = zset_lp_step(lp, ep, reverse);
    }
    zrange_out_finalize(h, count);
    return;
  }
  zskiplist *zsl = zset_ptr(zobj)->zsl;
  zskiplist_node *ln;
  if (score) {
    ln = reverse ? zsl_last_in_range(zsl, score)
                 : zsl_first_in_range(zsl, score);
  } else {
    ln = reverse ? zsl_last_in_lex_range(zsl, lex)
                 : zsl_first_in_lex_range(zsl, lex);
  }
  while (ln && offset--) {
    ln = reverse ? ln->backward : ln->level[0].forward;
  }
  while (ln && limit-- && zsl_node_inside(ln, score, lex, reverse)) {
    zrange_out_emit(h, ln->ele, ln->score);
    count++;
    ln = reverse ? ln->backward : ln->level[0].forward;
  }
  zrange_out_finalize(h, count);
}

#define ZRANGE_AUTO (-1)
#define ZRANGE_DIR_AUTO (-1)
#define ZRANGE_DIR_FORWARD 0
#define ZRANGE_DIR_REVERSE 1

static void zrange_generic_command(client *c, int argc_start, int store,
                                   int rangetype, int direction) {
  zrange_out h = {.c = c, .store = store};
  robj *key = c->argv[argc_start];
  int minidx = argc_start + 1, maxidx = argc_start + 2;
  long opt_start = 0, opt_end = 0, opt_offset = 0, opt_limit = -1;
  int opt_withscores = 0;
  zrangespec range;
  zlexrangespec lexrange = {0};

  for (int j = argc_start + 3; j < c->argc; j++) {
    int leftargs = c->argc - j - 1;
    const char *opt = c->argv[j]->ptr;
    if (!sds_encoded_object(c->argv[j])) {
      add_reply_error_object(c, shared.syntaxerr);
      return;
    }
    if (!store && !strcasecmp(opt, "withscores")) {
      opt_withscores = 1;
    } else if (!strcasecmp(opt, "limit") && leftargs >= 2) {
      if (get_long_from_object_or_reply(c, c->argv[j + 1], &opt_offset, NULL) !=
              C_OK ||
          get_long_from_object_or_reply(c, c->argv[j + 2], &opt_limit, NULL) !=
              C_OK) {
        return;
      }
      j += 2;
    } else if (direction == ZRANGE_DIR_AUTO && !strcasecmp(opt, "rev")) {
      direction = ZRANGE_DIR_REVERSE;
    } else if (rangetype == ZRANGE_AUTO && !strcasecmp(opt, "bylex")) {
      rangetype = ZRANGE_LEX;
    } else if (rangetype == ZRANGE_AUTO && !strcasecmp(opt, "byscore")) {
      rangetype = ZRANGE_SCORE;
    } else {
      add_reply_error_object(c, shared.syntaxerr);
      return;
    }
  }
  if (direction == ZRANGE_DIR_AUTO) {
    direction = ZRANGE_DIR_FORWARD;
  }
  if (rangetype == ZRANGE_AUTO) {
    rangetype = ZRANGE_RANK;
  }
  if (opt_limit != -1 && rangetype == ZRANGE_RANK) {
    add_reply_error(c,
                    "syntax error, LIMIT is only supported in combination "
                    "with either BYSCORE or BYLEX");
    return;
  }
  if (opt_withscores && rangetype == ZRANGE_LEX) {
    add_reply_error(c,
                    "syntax error, WITHSCORES not supported in "
                    "combination with BYLEX");
    return;
  }
  if (direction == ZRANGE_DIR_REVERSE &&
      (rangetype == ZRANGE_SCORE || rangetype == ZRANGE_LEX)) {
    int tmp = maxidx;
    maxidx = minidx;
    minidx = tmp;
  }
  if (rangetype == ZRANGE_RANK) {
    if (get_long_from_object_or_reply(c, c->argv[minidx], &opt_start, NULL) !=
            C_OK ||
        get_long_from_object_or_reply(c, c->argv[maxidx], &opt_end, NULL) !=
            C_OK) {
      return;
    }
  } else if (rangetype == ZRANGE_SCORE) {
    if (zset_parse_range(c->argv[minidx], c->argv[maxidx], &range) != C_OK) {
      add_reply_error(c, "min or max is not a float");
      return;
    }
  } else {
    if (zset_parse_lex_range(c->argv[minidx], c->argv[maxidx], &lexrange) !=
        C_OK) {
      add_reply_error(c, "min or max not valid string range item");
      return;
    }
  }
  h.withscores = opt_withscores || store;
  h.nested = !store && opt_withscores && c->resp > 2;
  if (store) {
    h.dstkey = c->argv[1];
  }

  robj *zobj = lookup_key_read(c->db, key);
  if (zobj == NULL) {
    if (store) {
      zrange_out_begin(&h, -1);
      zrange_out_finalize(&h, 0);
    } else {
      add_reply(c, shared.emptyarray);
    }
    goto cleanup;
  }
  if (check_type(c, zobj, OBJ_ZSET)) {
    goto cleanup;
  }
  int reverse = direction == ZRANGE_DIR_REVERSE;
  if (rangetype == ZRANGE_RANK) {
    zrange_by_rank(&h, zobj, opt_start, opt_end, reverse);
  } else if (rangetype == ZRANGE_SCORE) {
    zrange_by_bound(&h, &range, NULL, zobj, opt_offset, opt_limit, reverse);
  } else {
    zrange_by_bound(&h, NULL, &lexrange, zobj, opt_offset, opt_limit, reverse);
  }
cleanup:
  zfree_lex_range(&lexrange);
}

static void zrange_command(client *c) {
  zrange_generic_command(c, 1, 0, ZRANGE_AUTO, ZRANGE_DIR_AUTO);
}
static void zrangestore_command(client *c) {
  zrange_generic_command(c, 2, 1, ZRANGE_AUTO, ZRANGE_DIR_AUTO);
}
static void zrevrange_command(client *c) {
  zrange_generic_command(c, 1, 0, ZRANGE_RANK, ZRANGE_DIR_REVERSE);
}
static void zrangebyscore_command(client *c) {
  zrange_generic_command(c, 1, 0, ZRANGE_SCORE, ZRANGE_DIR_FORWARD);
}
static void zrevrangebyscore_command(client *c) {
  zrange_generic_command(c, 1, 0, ZRANGE_SCORE, ZRANGE_DIR_REVERSE);
}
static void zrangebylex_command(client *c) {
  zrange_generic_command(c, 1, 0, ZRANGE_LEX, ZRANGE_DIR_FORWARD);
}
static void zrevrangebylex_command(client *c) {
  zrange_generic_command(c, 1, 0, ZRANGE_LEX, ZRANGE_DIR_REVERSE);
}

/* ------------------------------------------------------------------ */
/* ZPOPMIN ZPOPMAX ZMPOP                                                */
/* ------------------------------------------------------------------ */
void zset_generic_pop(client *c, robj **keyv, int keyc, int where, int emitkey,
                      long count, int use_nested_array,
                      int reply_nil_when_empty, int *deleted) {
  robj *key = NULL, *zobj = NULL;
  if (deleted) {
    *deleted = 0;
  }
  for (int idx = 0; idx < keyc; idx++) {
    key = keyv[idx];
    zobj = lookup_key_write(c->db, key);
    if (zobj == NULL) {
      continue;
    }
    if (check_type(c, zobj, OBJ_ZSET)) {
      return;
    }
    break;
  }
  if (zobj == NULL) {
    if (reply_nil_when_empty) {
      add_reply_null_array(c);
    } else {
      add_reply(c, shared.emptyarray);
    }
    return;
  }
  if (count == 0) {
    add_reply(c, shared.emptyarray);
    return;
  }
  if (count == -1) {
    count = 1;
  }
  long llen = (long)zset_length(zobj);
  long rangelen = count > llen ? llen : count;
  if (!use_nested_array && !emitkey) {
    add_reply_array_len(c, rangelen * 2);
  } else if (use_nested_array && !emitkey) {
    add_reply_array_len(c, rangelen);
  } else if (!use_nested_array && emitkey) {
    add_reply_array_len(c, rangelen * 2 + 1);
    add_reply_bulk(c, key);
  } else {
    add_reply_array_len(c, 2);
    add_reply_bulk(c, key);
    add_reply_array_len(c, rangelen);
  }
  if (zset_is_compact(zobj)) { /* reply, then one listpack deletion */
    unsigned char *lp = zobj->ptr;
    unsigned char *ep = where == ZSET_MIN ? lp_first(lp) : lp_seek(lp, -2);
    for (long i = 0; i < rangelen && ep != NULL; i++) {
      if (use_nested_array) {
        add_reply_array_len(c, 2);
      }
      uint32_t len;
      unsigned char buf[LP_INTBUF_SIZE];
      unsigned char *ele = lp_get_string(ep, &len, buf);
      add_reply_bulk_cbuffer(c, ele, len);
      add_reply_double(c, zset_lp_score(lp_next(lp, ep)));
      ep = zset_lp_step(lp, ep, where == ZSET_MAX);
    }
    zobj->ptr = lp_delete_range(lp, where == ZSET_MIN ? 0 : -2 * rangelen,
                                (unsigned long)(2 * rangelen));
    server.dirty += rangelen;
  } else {
    zset *zs = zset_ptr(zobj);
    for (long i = 0; i < rangelen; i++) {
      zskiplist_node *n =
          where == ZSET_MIN ? zs->zsl->header->level[0].forward : zs->zsl->tail;
      if (use_nested_array) {
        add_reply_array_len(c, 2);
      }
      add_reply_bulk_cbuffer(c, n->ele, sds_len(n->ele));
      add_reply_double(c, n->score);
      zset_remove(zs, n->ele);
      server.dirty++;
    }
  }
  notify_keyspace_event(NOTIFY_ZSET, where == ZSET_MIN ? "zpopmin" : "zpopmax",
                        key, c->db->id);
  signal_modified_key(c, c->db, key);
  if (zset_length(zobj) == 0) {
    if (deleted) {
      *deleted = 1;
    }
    db_delete(c->db, key);
    notify_keyspace_event(NOTIFY_GENERIC, "del", key, c->db->id);
  }
}

static void zpop_min_max_command(client *c, int where) {
  if (c->argc > 3) {
    add_reply_error_object(c, shared.syntaxerr);
    return;
  }
  long count = -1;
  if (c->argc == 3 && get_positive_long_from_object_or_reply(
                          c, c->argv[2], &count, NULL) != C_OK) {
    return;
  }
  int use_nested_array = c->resp > 2 && count != -1;
  zset_generic_pop(c, &c->argv[1], 1, where, 0, count, use_nested_array, 0,
                   NULL);
}

static void zpopmin_command(client *c) { zpop_min_max_command(c, ZSET_MIN); }
static void zpopmax_command(client *c) { zpop_min_max_command(c, ZSET_MAX); }

int zset_parse_mpop_args(client *c, int numkeys_idx, long *numkeys, int *where,
                         long *count) {
  *count = -1;
  if (get_range_long_from_object_or_reply(
          c, c->argv[numkeys_idx], 1, LONG_MAX, numkeys,
          "numkeys should be greater than 0") != C_OK) {
    return C_ERR;
  }
  if (*numkeys > c->argc || numkeys_idx + *numkeys + 1 >= c->argc) {
    add_reply_error_object(c, shared.syntaxerr);
    return C_ERR;
  }
  int where_idx = numkeys_idx + (int)*numkeys + 1;
  const char *w = c->argv[where_idx]->ptr;
  if (!sds_encoded_object(c->argv[where_idx])) {
    add_reply_error_object(c, shared.syntaxerr);
    return C_ERR;
  } else if (!strcasecmp(w, "min")) {
    *where = ZSET_MIN;
  } else if (!strcasecmp(w, "max")) {
    *where = ZSET_MAX;
  } else {
    add_reply_error_object(c, shared.syntaxerr);
    return C_ERR;
  }
  for (int j = where_idx + 1; j < c->argc; j++) {
    int moreargs = c->argc - 1 - j;
    if (*count == -1 && sds_encoded_object(c->argv[j]) &&
        !strcasecmp(c->argv[j]->ptr, "count") && moreargs) {
      j++;
      if (get_range_long_from_object_or_reply(
              c, c->argv[j], 1, LONG_MAX, count,
              "count should be greater than 0") != C_OK) {
        return C_ERR;
      }
    } else {
      add_reply_error_object(c, shared.syntaxerr);
      return C_ERR;
    }
  }
  if (*count == -1) {
    *count = 1;
  }
  return C_OK;
}

static void zmpop_command(client *c) {
  long numkeys, count;
  int where;
  if (zset_parse_mpop_args(c, 1, &numkeys, &where, &count) != C_OK) {
    return;
  }
  /* Propagated as ZPOPMIN/ZPOPMAX of the key it pops from (a peek without
   * stats: the pop below looks the keys up again). */
  for (long j = 0; j < numkeys; j++) {
    robj *key = c->argv[2 + j];
    robj *o = lookup_key_read_with_flags(
        c->db, key, LOOKUP_NOTOUCH | LOOKUP_NONOTIFY | LOOKUP_NOSTATS);
    if (o == NULL) {
      continue;
    }
    if (o->type == OBJ_ZSET && zset_length(o) > 0) {
      zset_propagate_pop(c, c->db, key, o, where, count);
    }
    break;
  }
  zset_generic_pop(c, c->argv + 2, (int)numkeys, where, 1, count, 1, 1, NULL);
}

/* zset_reply_all_reversed: the whole set from the highest rank down, as
 * ZRANDMEMBER replies when the count covers it (t_zset_rand.c). */
void zset_reply_all_reversed(client *c, robj *zobj, int withscores) {
  zrange_out h = {
      .c = c, .withscores = withscores, .nested = withscores && c->resp > 2};
  zrange_by_rank(&h, zobj, 0, -1, 1);
}

/* ------------------------------------------------------------------ */
/* Command table                                                        */
/* ------------------------------------------------------------------ */
#define ZREAD_FAST \
  (ACL_CATEGORY_READ | ACL_CATEGORY_SORTEDSET | ACL_CATEGORY_FAST)
#define ZREAD_SLOW \
  (ACL_CATEGORY_READ | ACL_CATEGORY_SORTEDSET | ACL_CATEGORY_SLOW)
#define ZWRITE_FAST \
  (ACL_CATEGORY_WRITE | ACL_CATEGORY_SORTEDSET | ACL_CATEGORY_FAST)
#define ZWRITE_SLOW \
  (ACL_CATEGORY_WRITE | ACL_CATEGORY_SORTEDSET | ACL_CATEGORY_SLOW)

#define ZSET_CMD(name_, summary_, since_, proc_, arity_, flags_, acl_, first_, \
                 last_, step_, getkeys_)                                       \
  {                                                                            \
    .declared_name = name_, .summary = summary_, .since = since_,              \
    .group = "sorted-set", .proc = proc_, .arity = arity_, .flags = flags_,    \
    .acl_categories = acl_, .firstkey = first_, .lastkey = last_,              \
    .keystep = step_, .getkeys_proc = getkeys_                                 \
  }

/* Every sorted-set command ends by compacting the small sets it opened
 * back into listpacks (t_zset_lp.c). */
#define ZSET_COMPACTING(fn)                \
  static void fn##_compacting(client *c) { \
    fn(c);                                 \
    zset_compact_opened();                 \
  }
ZSET_COMPACTING(zadd_command)
ZSET_COMPACTING(zincrby_command)
ZSET_COMPACTING(zrem_command)
ZSET_COMPACTING(zremrangebyscore_command)
ZSET_COMPACTING(zremrangebyrank_command)
ZSET_COMPACTING(zremrangebylex_command)
ZSET_COMPACTING(zunionstore_command)
ZSET_COMPACTING(zinterstore_command)
ZSET_COMPACTING(zdiffstore_command)
ZSET_COMPACTING(zunion_command)
ZSET_COMPACTING(zinter_command)
ZSET_COMPACTING(zintercard_command)
ZSET_COMPACTING(zdiff_command)
ZSET_COMPACTING(zrange_command)
ZSET_COMPACTING(zrangestore_command)
ZSET_COMPACTING(zrangebyscore_command)
ZSET_COMPACTING(zrevrangebyscore_command)
ZSET_COMPACTING(zrangebylex_command)
ZSET_COMPACTING(zrevrangebylex_command)
ZSET_COMPACTING(zcount_command)
ZSET_COMPACTING(zlexcount_command)
ZSET_COMPACTING(zrevrange_command)
ZSET_COMPACTING(zcard_command)
ZSET_COMPACTING(zscore_command)
ZSET_COMPACTING(zmscore_command)
ZSET_COMPACTING(zrank_command)
ZSET_COMPACTING(zrevrank_command)
ZSET_COMPACTING(zscan_command)
ZSET_COMPACTING(zpopmin_command)
ZSET_COMPACTING(zpopmax_command)
ZSET_COMPACTING(zmpop_command)
ZSET_COMPACTING(bzpopmin_command)
ZSET_COMPACTING(bzpopmax_command)
ZSET_COMPACTING(bzmpop_command)
ZSET_COMPACTING(zrandmember_command)

redis_command zset_commands[] = {
    ZSET_CMD("zadd",
             "Add one or more members to a sorted set, or update its "
             "score if it already exists",
             "1.2.0", zadd_command_compacting, -4,
             CMD_WRITE | CMD_DENYOOM | CMD_FAST, ZWRITE_FAST, 1, 1, 1, NULL),
    ZSET_CMD("zincrby", "Increment the score of a member in a sorted set",
             "1.2.0", zincrby_command_compacting, 4,
             CMD_WRITE | CMD_DENYOOM | CMD_FAST, ZWRITE_FAST, 1, 1, 1, NULL),
    ZSET_CMD("zrem", "Remove one or more members from a sorted set", "1.2.0",
             zrem_command_compacting, -3, CMD_WRITE | CMD_FAST, ZWRITE_FAST, 1,
             1, 1, NULL),
    ZSET_CMD("zremrangebyscore",
             "Remove all members in a sorted set within "
             "the given scores",
             "1.2.0", zremrangebyscore_command_compacting, 4, CMD_WRITE,
             ZWRITE_SLOW, 1, 1, 1, NULL),
    ZSET_CMD("zremrangebyrank",
             "Remove all members in a sorted set within "
             "the given indexes",
             "2.0.0", zremrangebyrank_command_compacting, 4, CMD_WRITE,
             ZWRITE_SLOW, 1, 1, 1, NULL),
    ZSET_CMD("zremrangebylex",
             "Remove all members in a sorted set between "
             "the given lexicographical range",
             "2.8.9", zremrangebylex_command_compacting, 4, CMD_WRITE,
             ZWRITE_SLOW, 1, 1, 1, NULL),
    ZSET_CMD("zunionstore",
             "Add multiple sorted sets and store the resulting "
             "sorted set in a new key",
             "2.0.0", zunionstore_command_compacting, -4,
             CMD_WRITE | CMD_DENYOOM | CMD_MOVABLE_KEYS, ZWRITE_SLOW, 1, 1, 1,
             zunion_inter_diff_store_get_keys),
    ZSET_CMD("zinterstore",
             "Intersect multiple sorted sets and store the "
             "resulting sorted set in a new key",
             "2.0.0", zinterstore_command_compacting, -4,
             CMD_WRITE | CMD_DENYOOM | CMD_MOVABLE_KEYS, ZWRITE_SLOW, 1, 1, 1,
             zunion_inter_diff_store_get_keys),
    ZSET_CMD("zdiffstore",
             "Subtract multiple sorted sets and store the "
             "resulting sorted set in a new key",
             "6.2.0", zdiffstore_command_compacting, -4,
             CMD_WRITE | CMD_DENYOOM | CMD_MOVABLE_KEYS, ZWRITE_SLOW, 1, 1, 1,
             zunion_inter_diff_store_get_keys),
    ZSET_CMD("zunion", "Add multiple sorted sets", "6.2.0",
             zunion_command_compacting, -3, CMD_READONLY | CMD_MOVABLE_KEYS,
             ZREAD_SLOW, 0, 0, 0, zunion_inter_diff_get_keys),
    ZSET_CMD("zinter", "Intersect multiple sorted sets", "6.2.0",
             zinter_command_compacting, -3, CMD_READONLY | CMD_MOVABLE_KEYS,
             ZREAD_SLOW, 0, 0, 0, zunion_inter_diff_get_keys),
    ZSET_CMD("zintercard",
             "Intersect multiple sorted sets and return the "
             "cardinality of the result",
             "7.0.0", zintercard_command_compacting, -3,
             CMD_READONLY | CMD_MOVABLE_KEYS, ZREAD_SLOW, 0, 0, 0,
             zunion_inter_diff_get_keys),
    ZSET_CMD("zdiff", "Subtract multiple sorted sets", "6.2.0",
             zdiff_command_compacting, -3, CMD_READONLY | CMD_MOVABLE_KEYS,
             ZREAD_SLOW, 0, 0, 0, zunion_inter_diff_get_keys),
    ZSET_CMD("zrange", "Return a range of members in a sorted set", "1.2.0",
             zrange_command_compacting, -4, CMD_READONLY, ZREAD_SLOW, 1, 1, 1,
             NULL),
    ZSET_CMD("zrangestore",
             "Store a range of members from sorted set into "
             "another key",
             "6.2.0", zrangestore_command_compacting, -5,
             CMD_WRITE | CMD_DENYOOM, ZWRITE_SLOW, 1, 2, 1, NULL),
    ZSET_CMD("zrangebyscore",
             "Return a range of members in a sorted set, by "
             "score",
             "1.0.5", zrangebyscore_command_compacting, -4, CMD_READONLY,
             ZREAD_SLOW, 1, 1, 1, NULL),
    ZSET_CMD("zrevrangebyscore",
             "Return a range of members in a sorted set, "
             "by score, with scores ordered from high to low",
             "2.2.0", zrevrangebyscore_command_compacting, -4, CMD_READONLY,
             ZREAD_SLOW, 1, 1, 1, NULL),
    ZSET_CMD("zrangebylex",
             "Return a range of members in a sorted set, by "
             "lexicographical range",
             "2.8.9", zrangebylex_command_compacting, -4, CMD_READONLY,
             ZREAD_SLOW, 1, 1, 1, NULL),
    ZSET_CMD("zrevrangebylex",
             "Return a range of members in a sorted set, by "
             "lexicographical range, ordered from higher to lower strings.",
             "2.8.9", zrevrangebylex_command_compacting, -4, CMD_READONLY,
             ZREAD_SLOW, 1, 1, 1, NULL),
    ZSET_CMD("zcount",
             "Count the members in a sorted set with scores within "
             "the given values",
             "2.0.0", zcount_command_compacting, 4, CMD_READONLY | CMD_FAST,
             ZREAD_FAST, 1, 1, 1, NULL),
    ZSET_CMD("zlexcount",
             "Count the number of members in a sorted set "
             "between a given lexicographical range",
             "2.8.9", zlexcount_command_compacting, 4, CMD_READONLY | CMD_FAST,
             ZREAD_FAST, 1, 1, 1, NULL),
    ZSET_CMD("zrevrange",
             "Return a range of members in a sorted set, by "
             "index, with scores ordered from high to low",
             "1.2.0", zrevrange_command_compacting, -4, CMD_READONLY,
             ZREAD_SLOW, 1, 1, 1, NULL),
    ZSET_CMD("zcard", "Get the number of members in a sorted set", "1.2.0",
             zcard_command_compacting, 2, CMD_READONLY | CMD_FAST, ZREAD_FAST,
             1, 1, 1, NULL),
    ZSET_CMD("zscore",
             "Get the score associated with the given member in a "
             "sorted set",
             "1.2.0", zscore_command_compacting, 3, CMD_READONLY | CMD_FAST,
             ZREAD_FAST, 1, 1, 1, NULL),
    ZSET_CMD("zmscore",
             "Get the score associated with the given members in a "
             "sorted set",
             "6.2.0", zmscore_command_compacting, -3, CMD_READONLY | CMD_FAST,
             ZREAD_FAST, 1, 1, 1, NULL),
    ZSET_CMD("zrank", "Determine the index of a member in a sorted set",
             "2.0.0", zrank_command_compacting, 3, CMD_READONLY | CMD_FAST,
             ZREAD_FAST, 1, 1, 1, NULL),
    ZSET_CMD("zrevrank",
             "Determine the index of a member in a sorted set, "
             "with scores ordered from high to low",
             "2.0.0", zrevrank_command_compacting, 3, CMD_READONLY | CMD_FAST,
             ZREAD_FAST, 1, 1, 1, NULL),
    ZSET_CMD("zscan",
             "Incrementally iterate sorted sets elements and "
             "associated scores",
             "2.8.0", zscan_command_compacting, -3, CMD_READONLY, ZREAD_SLOW, 1,
             1, 1, NULL),
    ZSET_CMD("zpopmin",
             "Remove and return members with the lowest scores in "
             "a sorted set",
             "5.0.0", zpopmin_command_compacting, -2, CMD_WRITE | CMD_FAST,
             ZWRITE_FAST, 1, 1, 1, NULL),
    ZSET_CMD("zpopmax",
             "Remove and return members with the highest scores in "
             "a sorted set",
             "5.0.0", zpopmax_command_compacting, -2, CMD_WRITE | CMD_FAST,
             ZWRITE_FAST, 1, 1, 1, NULL),
    ZSET_CMD("zmpop", "Remove and return members with scores in a sorted set",
             "7.0.0", zmpop_command_compacting, -4,
             CMD_WRITE | CMD_MOVABLE_KEYS, ZWRITE_SLOW, 0, 0, 0,
             zmpop_get_keys),
    ZSET_CMD("bzpopmin",
             "Remove and return the member with the lowest score "
             "from one or more sorted sets, or block until one is available",
             "5.0.0", bzpopmin_command_compacting, -3,
             CMD_WRITE | CMD_NOSCRIPT | CMD_FAST | CMD_BLOCKING,
             ZWRITE_FAST | ACL_CATEGORY_BLOCKING, 1, -2, 1, NULL),
    ZSET_CMD("bzpopmax",
             "Remove and return the member with the highest score "
             "from one or more sorted sets, or block until one is available",
             "5.0.0", bzpopmax_command_compacting, -3,
             CMD_WRITE | CMD_NOSCRIPT | CMD_FAST | CMD_BLOCKING,
             ZWRITE_FAST | ACL_CATEGORY_BLOCKING, 1, -2, 1, NULL),
    ZSET_CMD("bzmpop",
             "Remove and return members with scores in a sorted set "
             "or block until one is available",
             "7.0.0", bzmpop_command_compacting, -5,
             CMD_WRITE | CMD_BLOCKING | CMD_MOVABLE_KEYS,
             ZWRITE_SLOW | ACL_CATEGORY_BLOCKING, 0, 0, 0, bzmpop_get_keys),
    ZSET_CMD("zrandmember",
             "Get one or multiple random elements from a "
             "sorted set",
             "6.2.0", zrandmember_command_compacting, -2, CMD_READONLY,
             ZREAD_SLOW, 1, 1, 1, NULL),
    {0}};
