/* zskiplist.c: skiplist with spans (see zskiplist.h) and the zset pair
 * (dict + skiplist) that sorted sets are made of. */
#include "server/ds/zskiplist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "server/base/zmalloc.h"

/* A private xorshift generator: level choice needs no crypto strength, and
 * keeping it local leaves random() sequences of other modules alone. */
static uint64_t zsl_rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t zsl_random32(void) {
  uint64_t x = zsl_rng_state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  zsl_rng_state = x;
  return (uint32_t)(x >> 32);
}

static int zsl_random_level(void) {
  const uint32_t threshold = (uint32_t)(ZSKIPLIST_P * 4294967295.0);
  int level = 1;
  while (zsl_random32() < threshold && level < ZSKIPLIST_MAXLEVEL) {
    level++;
  }
  return level;
}

static zskiplist_node *zsl_create_node(int level, double score, sds ele) {
  zskiplist_node *zn =
      zmalloc(sizeof(*zn) + (size_t)level * sizeof(struct zskiplist_level));
  zn->score = score;
  zn->ele = ele;
  zn->backward = NULL;
  for (int i = 0; i < level; i++) {
    zn->level[i].forward = NULL;
    zn->level[i].span = 0;
  }
  return zn;
}

zskiplist *zsl_create(void) {
  zskiplist *zsl = zmalloc(sizeof(*zsl));
  zsl->level = 1;
  zsl->length = 0;
  zsl->header = zsl_create_node(ZSKIPLIST_MAXLEVEL, 0, NULL);
  zsl->tail = NULL;
  return zsl;
}

void zsl_free_node(zskiplist_node *node) {
  sds_free(node->ele);
  zfree(node);
}

void zsl_free(zskiplist *zsl) {
  zskiplist_node *node = zsl->header->level[0].forward;
  zfree(zsl->header);
  while (node) {
    zskiplist_node *next = node->level[0].forward;
    zsl_free_node(node);
    node = next;
  }
  zfree(zsl);
}

/* Ordering of (score, member): score first, member bytes on ties. */
static int zsl_node_before(const zskiplist_node *n, double score, sds ele) {
  return n->score < score || (n->score == score && sds_cmp(n->ele, ele) < 0);
}

zskiplist_node *zsl_insert(zskiplist *zsl, double score, sds ele) {
  zskiplist_node *update[ZSKIPLIST_MAXLEVEL];
  unsigned long rank[ZSKIPLIST_MAXLEVEL];
  zskiplist_node *x = zsl->header;
  for (int i = zsl->level - 1; i >= 0; i--) {
    rank[i] = i == zsl->level - 1 ? 0 : rank[i + 1];
    while (x->level[i].forward &&
           zsl_node_before(x->level[i].forward, score, ele)) {
      rank[i] += x->level[i].span;
      x = x->level[i].forward;
    }
    update[i] = x;
  }
  int level = zsl_random_level();
  if (level > zsl->level) {
    for (int i = zsl->level; i < level; i++) {
      rank[i] = 0;
      update[i] = zsl->header;
      update[i]->level[i].span = zsl->length;
    }
    zsl->level = level;
  }
  x = zsl_create_node(level, score, ele);
  for (int i = 0; i < level; i++) {
    x->level[i].forward = update[i]->level[i].forward;
    update[i]->level[i].forward = x;
    x->level[i].span = update[i]->level[i].span - (rank[0] - rank[i]);
    update[i]->level[i].span = (rank[0] - rank[i]) + 1;
  }
  for (int i = level; i < zsl->level; i++) {
    update[i]->level[i].span++;
  }
  x->backward = (update[0] == zsl->header) ? NULL : update[0];
  if (x->level[0].forward) {
    x->level[0].forward->backward = x;
  } else {
    zsl->tail = x;
  }
  zsl->length++;
  return x;
}

static void zsl_delete_node(zskiplist *zsl, zskiplist_node *x,
                            zskiplist_node **update) {
  for (int i = 0; i < zsl->level; i++) {
    if (update[i]->level[i].forward == x) {
      update[i]->level[i].span += x->level[i].span - 1;
      update[i]->level[i].forward = x->level[i].forward;
    } else {
      update[i]->level[i].span -= 1;
    }
  }
  if (x->level[0].forward) {
    x->level[0].forward->backward = x->backward;
  } else {
    zsl->tail = x->backward;
  }
  while (zsl->level > 1 && zsl->header->level[zsl->level - 1].forward == NULL) {
    zsl->level--;
  }
  zsl->length--;
}

int zsl_delete(zskiplist *zsl, double score, sds ele, zskiplist_node **node) {
  zskiplist_node *update[ZSKIPLIST_MAXLEVEL];
  zskiplist_node *x = zsl->header;
  for (int i = zsl->level - 1; i >= 0; i--) {
    while (x->level[i].forward &&
           zsl_node_before(x->level[i].forward, score, ele)) {
      x = x->level[i].forward;
    }
    update[i] = x;
  }
  x = x->level[0].forward;
  if (x && score == x->score && sds_cmp(x->ele, ele) == 0) {
    zsl_delete_node(zsl, x, update);
    if (node == NULL) {
      zsl_free_node(x);
    } else {
      *node = x;
    }
    return 1;
  }
  return 0;
}

zskiplist_node *zsl_update_score(zskiplist *zsl, double curscore, sds ele,
                                 double newscore) {
  zskiplist_node *update[ZSKIPLIST_MAXLEVEL];
  zskiplist_node *x = zsl->header;
  for (int i = zsl->level - 1; i >= 0; i--) {
    while (x->level[i].forward &&
           zsl_node_before(x->level[i].forward, curscore, ele)) {
      x = x->level[i].forward;
    }
    update[i] = x;
  }
  x = x->level[0].forward;
  if (x == NULL || x->score != curscore || sds_cmp(x->ele, ele) != 0) {
    return NULL;
  }
  /* Still in order with the new score: update in place. */
  if ((x->backward == NULL || x->backward->score < newscore) &&
      (x->level[0].forward == NULL || x->level[0].forward->score > newscore)) {
    x->score = newscore;
    return x;
  }
  zsl_delete_node(zsl, x, update);
  zskiplist_node *newnode = zsl_insert(zsl, newscore, x->ele);
  x->ele = NULL;
  zfree(x);
  return newnode;
}

unsigned long zsl_get_rank(zskiplist *zsl, double score, sds ele) {
  unsigned long rank = 0;
  zskiplist_node *x = zsl->header;
  for (int i = zsl->level - 1; i >= 0; i--) {
    while (x->level[i].forward &&
           (x->level[i].forward->score < score ||
            (x->level[i].forward->score == score &&
             sds_cmp(x->level[i].forward->ele, ele) <= 0))) {
      rank += x->level[i].span;
      x = x->level[i].forward;
    }
    if (x->ele && x->score == score && sds_cmp(x->ele, ele) == 0) {
      return rank;
    }
  }
  return 0;
}

zskiplist_node *zsl_get_element_by_rank(zskiplist *zsl, unsigned long rank) {
  unsigned long traversed = 0;
  zskiplist_node *x = zsl->header;
  for (int i = zsl->level - 1; i >= 0; i--) {
    while (x->level[i].forward && traversed + x->level[i].span <= rank) {
      traversed += x->level[i].span;
      x = x->level[i].forward;
    }
    if (traversed == rank) {
      return x == zsl->header ? NULL : x;
    }
  }
  return NULL;
}

/* ------------------------------------------------------------------ */
/* Score ranges                                                         */
/* ------------------------------------------------------------------ */
int zsl_value_gte_min(double value, const zrangespec *spec) {
  return spec->minex ? (value > spec->min) : (value >= spec->min);
}

int zsl_value_lte_max(double value, const zrangespec *spec) {
  return spec->maxex ? (value < spec->max) : (value <= spec->max);
}

int zsl_range_is_empty(const zrangespec *range) {
  return range->min > range->max ||
         (range->min == range->max && (range->minex || range->maxex));
}

int zsl_is_in_range(zskiplist *zsl, const zrangespec *range) {
  if (zsl_range_is_empty(range)) {
    return 0;
  }
  zskiplist_node *x = zsl->tail;
  if (x == NULL || !zsl_value_gte_min(x->score, range)) {
    return 0;
  }
  x = zsl->header->level[0].forward;
  if (x == NULL || !zsl_value_lte_max(x->score, range)) {
    return 0;
  }
  return 1;
}

zskiplist_node *zsl_first_in_range(zskiplist *zsl, const zrangespec *range) {
  if (!zsl_is_in_range(zsl, range)) {
    return NULL;
  }
  zskiplist_node *x = zsl->header;
  for (int i = zsl->level - 1; i >= 0; i--) {
    while (x->level[i].forward &&
           !zsl_value_gte_min(x->level[i].forward->score, range)) {
      x = x->level[i].forward;
    }
  }
  x = x->level[0].forward;
  if (x == NULL || !zsl_value_lte_max(x->score, range)) {
    return NULL;
  }
  return x;
}

zskiplist_node *zsl_last_in_range(zskiplist *zsl, const zrangespec *range) {
  if (!zsl_is_in_range(zsl, range)) {
    return NULL;
  }
  zskiplist_node *x = zsl->header;
  for (int i = zsl->level - 1; i >= 0; i--) {
    while (x->level[i].forward &&
           zsl_value_lte_max(x->level[i].forward->score, range)) {
      x = x->level[i].forward;
    }
  }
  if (x == zsl->header || !zsl_value_gte_min(x->score, range)) {
    return NULL;
  }
  return x;
}

/* ------------------------------------------------------------------ */
/* Lex ranges                                                           */
/* ------------------------------------------------------------------ */
/* Compare a member (len bytes at s) with a bound of the given kind, as
 * sds_cmp orders strings: bytes first, then length. */
static int zsl_lex_cmp(const char *s, size_t len, sds bound, int kind) {
  if (kind == ZLEX_MINUS_INF) {
    return 1;
  }
  if (kind == ZLEX_PLUS_INF) {
    return -1;
  }
  size_t blen = sds_len(bound);
  int cmp = memcmp(s, bound, len < blen ? len : blen);
  if (cmp != 0) {
    return cmp;
  }
  return (len > blen) - (len < blen);
}

int zsl_lex_buf_gte_min(const char *s, size_t len, const zlexrangespec *spec) {
  int cmp = zsl_lex_cmp(s, len, spec->min, spec->minkind);
  return spec->minex ? cmp > 0 : cmp >= 0;
}

int zsl_lex_buf_lte_max(const char *s, size_t len, const zlexrangespec *spec) {
  int cmp = zsl_lex_cmp(s, len, spec->max, spec->maxkind);
  return spec->maxex ? cmp < 0 : cmp <= 0;
}

int zsl_lex_value_gte_min(sds value, const zlexrangespec *spec) {
  return zsl_lex_buf_gte_min(value, sds_len(value), spec);
}

int zsl_lex_value_lte_max(sds value, const zlexrangespec *spec) {
  return zsl_lex_buf_lte_max(value, sds_len(value), spec);
}

/* Compare two bounds: equal kinds of infinity compare equal. */
static int zsl_lex_bound_cmp(const zlexrangespec *r) {
  if (r->minkind != ZLEX_VALUE || r->maxkind != ZLEX_VALUE) {
    int a = r->minkind == ZLEX_VALUE ? 0 : r->minkind;
    int b = r->maxkind == ZLEX_VALUE ? 0 : r->maxkind;
    return (a > b) - (a < b);
  }
  return sds_cmp(r->min, r->max);
}

int zsl_lex_range_is_empty(const zlexrangespec *range) {
  int cmp = zsl_lex_bound_cmp(range);
  return cmp > 0 || (cmp == 0 && (range->minex || range->maxex));
}

int zsl_is_in_lex_range(zskiplist *zsl, const zlexrangespec *range) {
  if (zsl_lex_range_is_empty(range)) {
    return 0;
  }
  zskiplist_node *x = zsl->tail;
  if (x == NULL || !zsl_lex_value_gte_min(x->ele, range)) {
    return 0;
  }
  x = zsl->header->level[0].forward;
  if (x == NULL || !zsl_lex_value_lte_max(x->ele, range)) {
    return 0;
  }
  return 1;
}

zskiplist_node *zsl_first_in_lex_range(zskiplist *zsl,
                                       const zlexrangespec *range) {
  if (!zsl_is_in_lex_range(zsl, range)) {
    return NULL;
  }
  zskiplist_node *x = zsl->header;
  for (int i = zsl->level - 1; i >= 0; i--) {
    while (x->level[i].forward &&
           !zsl_lex_value_gte_min(x->level[i].forward->ele, range)) {
      x = x->level[i].forward;
    }
  }
  x = x->level[0].forward;
  if (x == NULL || !zsl_lex_value_lte_max(x->ele, range)) {
    return NULL;
  }
  return x;
}

zskiplist_node *zsl_last_in_lex_range(zskiplist *zsl,
                                      const zlexrangespec *range) {
  if (!zsl_is_in_lex_range(zsl, range)) {
    return NULL;
  }
  zskiplist_node *x = zsl->header;
  for (int i = zsl->level - 1; i >= 0; i--) {
    while (x->level[i].forward &&
           zsl_lex_value_lte_max(x->level[i].forward->ele, range)) {
      x = x->level[i].forward;
    }
  }
  if (x == zsl->header || !zsl_lex_value_gte_min(x->ele, range)) {
    return NULL;
  }
  return x;
}

void zfree_lex_range(zlexrangespec *spec) {
  if (spec->min) {
    sds_free(spec->min);
    spec->min = NULL;
  }
  if (spec->max) {
    sds_free(spec->max);
    spec->max = NULL;
  }
}

/* ------------------------------------------------------------------ */
/* Range deletion                                                       */
/* ------------------------------------------------------------------ */
static void zsl_unlink_and_free(zskiplist *zsl, zskiplist_node *x,
                                zskiplist_node **update, dict *d) {
  zsl_delete_node(zsl, x, update);
  if (d) {
    dict_delete(d, x->ele);
  }
  zsl_free_node(x);
}

unsigned long zsl_delete_range_by_score(zskiplist *zsl, const zrangespec *range,
                                        dict *d) {
  zskiplist_node *update[ZSKIPLIST_MAXLEVEL];
  zskiplist_node *x = zsl->header;
  unsigned long removed = 0;
  for (int i = zsl->level - 1; i >= 0; i--) {
    while (x->level[i].forward &&
           !zsl_value_gte_min(x->level[i].forward->score, range)) {
      x = x->level[i].forward;
    }
    update[i] = x;
  }
  x = x->level[0].forward;
  while (x && zsl_value_lte_max(x->score, range)) {
    zskiplist_node *next = x->level[0].forward;
    zsl_unlink_and_free(zsl, x, update, d);
    removed++;
    x = next;
  }
  return removed;
}

unsigned long zsl_delete_range_by_lex(zskiplist *zsl,
                                      const zlexrangespec *range, dict *d) {
  zskiplist_node *update[ZSKIPLIST_MAXLEVEL];
  zskiplist_node *x = zsl->header;
  unsigned long removed = 0;
  for (int i = zsl->level - 1; i >= 0; i--) {
    while (x->level[i].forward &&
           !zsl_lex_value_gte_min(x->level[i].forward->ele, range)) {
      x = x->level[i].forward;
    }
    update[i] = x;
  }
  x = x->level[0].forward;
  while (x && zsl_lex_value_lte_max(x->ele, range)) {
    zskiplist_node *next = x->level[0].forward;
    zsl_unlink_and_free(zsl, x, update, d);
    removed++;
    x = next;
  }
  return removed;
}

unsigned long zsl_delete_range_by_rank(zskiplist *zsl, unsigned long start,
                                       unsigned long end, dict *d) {
  zskiplist_node *update[ZSKIPLIST_MAXLEVEL];
  zskiplist_node *x = zsl->header;
  unsigned long traversed = 0, removed = 0;
  for (int i = zsl->level - 1; i >= 0; i--) {
    while (x->level[i].forward && traversed + x->level[i].span < start) {
      traversed += x->level[i].span;
      x = x->level[i].forward;
    }
    update[i] = x;
  }
  traversed++;
  x = x->level[0].forward;
  while (x && traversed <= end) {
    zskiplist_node *next = x->level[0].forward;
    zsl_unlink_and_free(zsl, x, update, d);
    removed++;
    traversed++;
    x = next;
  }
  return removed;
}

/* ------------------------------------------------------------------ */
/* zset = dict + skiplist                                               */
/* ------------------------------------------------------------------ */
dict_type zset_dict_type = {
    .hash_function = dict_sds_hash,
    .key_compare = dict_sds_key_compare,
};

zset *zset_new(void) {
  zset *zs = zmalloc(sizeof(*zs));
  zs->dict = dict_create(&zset_dict_type);
  zs->zsl = zsl_create();
  return zs;
}

void zset_release(zset *zs) {
  dict_release(zs->dict); /* keys are owned by the skiplist */
  zsl_free(zs->zsl);
  zfree(zs);
}

zskiplist_node *zset_find(zset *zs, sds ele) {
  dict_entry *de = dict_find(zs->dict, ele);
  return de ? dict_get_val(de) : NULL;
}

zskiplist_node *zset_insert_owned(zset *zs, double score, sds ele) {
  zskiplist_node *node = zsl_insert(zs->zsl, score, ele);
  dict_add(zs->dict, node->ele, node);
  return node;
}

zskiplist_node *zset_insert_new(zset *zs, double score, const char *ele,
                                size_t len) {
  return zset_insert_owned(zs, score, sds_new_len(ele, len));
}

void zset_set_score(zset *zs, zskiplist_node *node, double newscore) {
  zskiplist_node *moved =
      zsl_update_score(zs->zsl, node->score, node->ele, newscore);
  if (moved != node) {
    dict_entry *de = dict_find(zs->dict, moved->ele);
    /* The dict key was the same sds, which the new node now owns. */
    de->key = moved->ele;
    dict_set_val(zs->dict, de, moved);
  }
}

int zset_remove(zset *zs, sds ele) {
  dict_entry *de = dict_unlink(zs->dict, ele);
  if (de == NULL) {
    return 0;
  }
  zskiplist_node *node = dict_get_val(de);
  dict_free_unlinked_entry(zs->dict, de);
  zsl_delete(zs->zsl, node->score, node->ele, NULL);
  return 1;
}
