/* t_zset_lp.c: the compact (listpack) form of sorted sets and the object
 * hooks (free, dup, size).
 *
 * At rest a small sorted set (OBJ_ENCODING_LISTPACK) is a listpack of
 * member, score pairs ordered by (score, member), the scores stored as
 * Redis stores them: an integer entry when the score is integral within
 * +-LLONG_MAX/2, else its d2string text. A big one (OBJ_ENCODING_SKIPLIST)
 * is a zset (dict + skiplist).
 *
 * The command code works on the zset form only: zset_ptr() opens a
 * listpack-encoded object into a temporary zset for the running command
 * and registers it; zset_compact_opened(), called when the command ends,
 * writes every opened object that is still listpack-encoded back into a
 * listpack. Small sets (<= zset-max-listpack-entries, 128 by default) make
 * the round trip cheap, and memory at rest is the compact form. */
#include <math.h>

#include "server/base/zmalloc.h"
#include "server/ds/listpack.h"
#include "server/types/t_types_common.h"
#include "server/types/t_zset.h"

/* Objects opened by the running command; each holds one reference. */
static struct {
  robj **objs;
  size_t count, cap;
} zset_opened;

/* Redis's listpack score entry: integral within +-LLONG_MAX/2 -> integer. */
int zset_score_as_integer(double score, long long *out) {
  if (score >= -(double)(LLONG_MAX / 2) && score <= (double)(LLONG_MAX / 2)) {
    long long ll = (long long)score;
    if ((double)ll == score) {
      *out = ll;
      return 1;
    }
  }
  return 0;
}

static unsigned char *zset_to_listpack(zset *zs) {
  unsigned char *lp = lp_new(zs->zsl->length * 16);
  for (zskiplist_node *n = zs->zsl->header->level[0].forward; n;
       n = n->level[0].forward) {
    lp =
        lp_append(lp, (const unsigned char *)n->ele, (uint32_t)sds_len(n->ele));
    long long ll;
    if (zset_score_as_integer(n->score, &ll)) {
      lp = lp_append_integer(lp, ll);
    } else {
      char buf[MAX_D2STRING_CHARS];
      int len = d2string(buf, sizeof(buf), n->score);
      lp = lp_append(lp, (const unsigned char *)buf, (uint32_t)len);
    }
  }
  return lp_shrink_to_fit(lp);
}

double zset_lp_ref_score(const lp_entry_ref *r) {
  if (r->sval == NULL) {
    return (double)r->lval;
  }
  char buf[MAX_D2STRING_CHARS];
  uint32_t len = r->slen;
  if (len >= sizeof(buf)) {
    len = sizeof(buf) - 1; /* our own d2string text is always shorter */
  }
  memcpy(buf, r->sval, len);
  buf[len] = '\0';
  return strtod(buf, NULL);
}

double zset_lp_score(unsigned char *score_entry) {
  lp_entry_ref r;
  r.sval = lp_get_value(score_entry, &r.slen, &r.lval);
  return zset_lp_ref_score(&r);
}

unsigned char *zset_lp_step(unsigned char *lp, unsigned char *ep, int reverse) {
  if (reverse) {
    unsigned char *sp = lp_prev(lp, ep);
    return sp ? lp_prev(lp, sp) : NULL;
  }
  unsigned char *sp = lp_next(lp, ep);
  return sp ? lp_next(lp, sp) : NULL;
}

static int zset_lp_lex_gte_min(unsigned char *ep, const zlexrangespec *range) {
  uint32_t len;
  unsigned char buf[LP_INTBUF_SIZE];
  unsigned char *s = lp_get_string(ep, &len, buf);
  return zsl_lex_buf_gte_min((const char *)s, len, range);
}

static int zset_lp_lex_lte_max(unsigned char *ep, const zlexrangespec *range) {
  uint32_t len;
  unsigned char buf[LP_INTBUF_SIZE];
  unsigned char *s = lp_get_string(ep, &len, buf);
  return zsl_lex_buf_lte_max((const char *)s, len, range);
}

/* zset_lp_within: the member at ep against one bound of |score| or |lex|
 * (the other NULL): its max if |max|, else its min. */
static int zset_lp_within(unsigned char *lp, unsigned char *ep,
                          const zrangespec *score, const zlexrangespec *lex,
                          int max) {
  if (score) {
    double value = zset_lp_score(lp_next(lp, ep));
    return max ? zsl_value_lte_max(value, score)
               : zsl_value_gte_min(value, score);
  }
  return max ? zset_lp_lex_lte_max(ep, lex) : zset_lp_lex_gte_min(ep, lex);
}

int zset_lp_inside(unsigned char *lp, unsigned char *ep,
                   const zrangespec *score, const zlexrangespec *lex,
                   int reverse) {
  return zset_lp_within(lp, ep, score, lex, !reverse);
}

/* As Redis walks a listpack: give up at once unless the range is non-empty,
 * the last member is >= min and the first <= max; else walk from the near
 * end to the first member on the near side of the far bound. Lex ranges
 * assume equal scores (with differing ones this is Redis's walk, not a
 * search). */
unsigned char *zset_lp_edge(unsigned char *lp, const zrangespec *score,
                            const zlexrangespec *lex, int reverse) {
  unsigned char *first = lp_first(lp), *last = lp_seek(lp, -2);
  int empty = score ? zsl_range_is_empty(score) : zsl_lex_range_is_empty(lex);
  if (empty || first == NULL || last == NULL ||
      !zset_lp_within(lp, last, score, lex, 0) ||
      !zset_lp_within(lp, first, score, lex, 1)) {
    return NULL;
  }
  for (unsigned char *ep = reverse ? last : first; ep != NULL;
       ep = zset_lp_step(lp, ep, reverse)) {
    if (zset_lp_within(lp, ep, score, lex, reverse)) {
      return zset_lp_within(lp, ep, score, lex, !reverse) ? ep : NULL;
    }
  }
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Listpack-native single-member operations                            */
/* ------------------------------------------------------------------ */
/* ZADD/ZINCRBY of one member into a small set, the commonest write, work
 * on the listpack in place instead of opening it (which costs a dict, a
 * skiplist and one node per member, twice per command). */
static int zset_is_opened(const robj *o);

int zset_is_compact(const robj *o) {
  return o->encoding == OBJ_ENCODING_LISTPACK && !zset_is_opened(o);
}

unsigned char *zset_lp_find(unsigned char *lp, const char *ele, size_t len,
                            double *score) {
  unsigned char *p = lp_first(lp);
  if (p == NULL) {
    return NULL;
  }
  p = lp_find(lp, p, (const unsigned char *)ele, (uint32_t)len, 1);
  if (p != NULL && score != NULL) {
    *score = zset_lp_score(lp_next(lp, p));
  }
  return p;
}

/* zset_lp_member_cmp orders the member at p against ele as sds_cmp does:
 * bytes first, then the shorter one first. */
static int zset_lp_member_cmp(unsigned char *p, const char *ele, size_t len) {
  uint32_t plen;
  unsigned char buf[LP_INTBUF_SIZE];
  unsigned char *ps = lp_get_string(p, &plen, buf);
  size_t min = plen < len ? plen : len;
  int cmp = min ? memcmp(ps, ele, min) : 0;
  if (cmp != 0) {
    return cmp;
  }
  return plen < len ? -1 : plen > len ? 1 : 0;
}

long zset_lp_rank(unsigned char *lp, const char *ele, size_t len) {
  long rank = 0;
  for (unsigned char *p = lp_first(lp); p != NULL; rank++) {
    if (zset_lp_member_cmp(p, ele, len) == 0) {
      return rank;
    }
    p = lp_next(lp, p); /* the score */
    p = p ? lp_next(lp, p) : NULL;
  }
  return -1;
}

static unsigned char *zset_lp_insert_score(unsigned char *lp, double score,
                                           unsigned char *p, int where) {
  long long ll;
  if (zset_score_as_integer(score, &ll)) {
    return lp_insert_integer(lp, ll, p, where, NULL);
  }
  char buf[MAX_D2STRING_CHARS];
  int n = d2string(buf, sizeof(buf), score);
  return lp_insert_string(lp, (const unsigned char *)buf, (uint32_t)n, p, where,
                          NULL);
}

/* zset_lp_insert adds a member that is not present at its (score, member)
 * position. */
unsigned char *zset_lp_insert(unsigned char *lp, const char *ele, size_t len,
                              double score) {
  unsigned char *ep = lp_first(lp);
  while (ep != NULL) {
    unsigned char *sp = lp_next(lp, ep);
    double s = zset_lp_score(sp);
    if (s > score || (s == score && zset_lp_member_cmp(ep, ele, len) > 0)) {
      break;
    }
    ep = lp_next(lp, sp);
  }
  unsigned char *newp;
  if (ep == NULL) {
    lp = lp_insert_string(lp, (const unsigned char *)ele, (uint32_t)len, NULL,
                          LP_AFTER, &newp);
    return zset_lp_insert_score(lp, score, NULL, LP_AFTER);
  }
  lp = lp_insert_string(lp, (const unsigned char *)ele, (uint32_t)len, ep,
                        LP_BEFORE, &newp);
  return zset_lp_insert_score(lp, score, newp, LP_AFTER);
}

unsigned char *zset_lp_delete(unsigned char *lp, unsigned char *ep) {
  return lp_delete_range_with_entry(lp, &ep, 2);
}

static zset *zset_from_listpack(unsigned char *lp) {
  zset *zs = zset_new();
  /* Entries are already in order: insert from the back so each insertion
   * lands at the head of the skiplist. */
  for (unsigned char *sp = lp_last(lp); sp != NULL;) {
    unsigned char *ep = lp_prev(lp, sp);
    if (ep == NULL) {
      break; /* malformed (odd count): cannot happen for our own listpacks */
    }
    uint32_t len;
    unsigned char buf[LP_INTBUF_SIZE];
    unsigned char *s = lp_get_string(ep, &len, buf);
    zset_insert_new(zs, zset_lp_score(sp), (const char *)s, len);
    sp = lp_prev(lp, ep);
  }
  return zs;
}

zset *zset_copy_compact(const robj *o) { return zset_from_listpack(o->ptr); }

static int zset_is_opened(const robj *o) {
  for (size_t i = 0; i < zset_opened.count; i++) {
    if (zset_opened.objs[i] == o) {
      return 1;
    }
  }
  return 0;
}

static void zset_register_opened(robj *o) {
  if (zset_opened.count == zset_opened.cap) {
    zset_opened.cap = zset_opened.cap ? zset_opened.cap * 2 : 8;
    zset_opened.objs =
        zrealloc(zset_opened.objs, zset_opened.cap * sizeof(robj *));
  }
  incr_ref_count(o);
  zset_opened.objs[zset_opened.count++] = o;
}

zset *zset_ptr(robj *o) {
  if (o->encoding == OBJ_ENCODING_LISTPACK && !zset_is_opened(o)) {
    unsigned char *lp = o->ptr;
    o->ptr = zset_from_listpack(lp);
    lp_free(lp);
    zset_register_opened(o);
  }
  return o->ptr;
}

robj *zset_create_object(void) {
  robj *o = create_object(OBJ_ZSET, zset_new());
  o->encoding = OBJ_ENCODING_LISTPACK;
  zset_register_opened(o); /* in zset form until the command ends */
  return o;
}

robj *zset_create_compact_object(void) {
  robj *o = create_object(OBJ_ZSET, lp_new(0));
  o->encoding = OBJ_ENCODING_LISTPACK;
  return o;
}

void zset_compact_opened(void) {
  for (size_t i = 0; i < zset_opened.count; i++) {
    robj *o = zset_opened.objs[i];
    if (o->encoding == OBJ_ENCODING_LISTPACK) {
      zset *zs = o->ptr;
      o->ptr = zset_to_listpack(zs);
      zset_release(zs);
    }
    decr_ref_count(o);
  }
  zset_opened.count = 0;
  if (zset_opened.cap > 64) {
    zfree(zset_opened.objs);
    zset_opened.objs = NULL;
    zset_opened.cap = 0;
  }
}

void zset_convert_to_listpack_if_small(robj *o, size_t maxelelen) {
  zset *zs = o->ptr;
  if (zs->zsl->length <= server.zset_max_listpack_entries &&
      maxelelen <= server.zset_max_listpack_value) {
    o->encoding = OBJ_ENCODING_LISTPACK;
    if (zset_is_opened(o)) {
      return; /* compacted when the command ends */
    }
    o->ptr = zset_to_listpack(zs);
    zset_release(zs);
  } else {
    o->encoding = OBJ_ENCODING_SKIPLIST;
  }
}

/* ------------------------------------------------------------------ */
/* object_type_ops (core/db.h, t_types_common.h)                          */
/* ------------------------------------------------------------------ */
/* Outside a sorted-set command a listpack object is always in listpack
 * form: every command compacts what it opened before returning. */
static void free_zset_object(robj *o) {
  if (o->encoding == OBJ_ENCODING_LISTPACK) {
    lp_free(o->ptr);
  } else {
    zset_release(o->ptr);
  }
}

robj *zset_type_dup(robj *o) {
  if (o->encoding == OBJ_ENCODING_LISTPACK) {
    robj *copy = create_object(OBJ_ZSET, lp_dup(o->ptr));
    copy->encoding = OBJ_ENCODING_LISTPACK;
    return copy;
  }
  zset *src = o->ptr;
  zset *dst = zset_new();
  dict_expand(dst->dict, src->zsl->length);
  /* From the tail so each insertion lands at the head: O(1) each. */
  for (zskiplist_node *n = src->zsl->tail; n != NULL; n = n->backward) {
    zset_insert_new(dst, n->score, n->ele, sds_len(n->ele));
  }
  robj *copy = create_object(OBJ_ZSET, dst);
  copy->encoding = OBJ_ENCODING_SKIPLIST;
  return copy;
}

/* Approximate bytes: the listpack itself, or per node its header, levels
 * (1.33 on average), member and dict entry, sampled for big sets. */
static size_t zset_compute_size(robj *o, size_t samples) {
  if (o->encoding == OBJ_ENCODING_LISTPACK) {
    return sizeof(*o) + lp_bytes(o->ptr);
  }
  zset *zs = o->ptr;
  size_t asize = sizeof(*o) + sizeof(zset) + sizeof(zskiplist) +
                 dict_slots(zs->dict) * sizeof(dict_entry *);
  size_t elesize = 0, seen = 0;
  for (zskiplist_node *n = zs->zsl->header->level[0].forward;
       n != NULL && (samples == 0 || seen < samples); n = n->level[0].forward) {
    elesize += sizeof(zskiplist_node) + 2 * sizeof(struct zskiplist_level) +
               sds_len(n->ele) + 9 + sizeof(dict_entry);
    seen++;
  }
  if (seen) {
    asize += (size_t)((double)elesize / (double)seen * (double)zs->zsl->length);
  }
  return asize;
}

/* A skiplist costs one free per member, a listpack one (Redis). */
static size_t zset_free_effort(robj *o) {
  return o->encoding == OBJ_ENCODING_SKIPLIST
             ? ((const zset *)o->ptr)->zsl->length
             : 1;
}

static const object_type_ops zset_type_ops = {
    .name = "zset",
    .free_value = free_zset_object,
    .dup = zset_type_dup,
    .compute_size = zset_compute_size,
    .free_effort = zset_free_effort,
};

void zset_type_register(void) {
  object_register_type(OBJ_ZSET, &zset_type_ops);
}
