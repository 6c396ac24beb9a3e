/* zskiplist.h: the ordered half of a sorted set: a skiplist of (score,
 * member) ordered by score then by member bytes, with spans so rank
 * queries are O(log n). The sorted set pairs it with a dict member -> node
 * for O(1) score lookups (struct zset).
 *
 * Ownership: a node owns its member sds; the dict of a zset shares that sds
 * as key (no key destructor) and stores the node as value. */
#ifndef REDOUBT_ZSKIPLIST_H
#define REDOUBT_ZSKIPLIST_H

#include "server/ds/dict.h"
#include "server/ds/sds.h"

#define ZSKIPLIST_MAXLEVEL 32 /* enough for 2^64 elements */
#define ZSKIPLIST_P 0.25      /* level promotion probability */

typedef struct zskiplist_node {
  sds ele;
  double score;
  struct zskiplist_node *backward;
  struct zskiplist_level {
    struct zskiplist_node *forward;
    unsigned long span;
  } level[];
} zskiplist_node;

typedef struct zskiplist {
  zskiplist_node *header, *tail;
  unsigned long length;
  int level;
} zskiplist;

typedef struct zset {
  dict *dict; /* sds member -> zskiplist_node* */
  zskiplist *zsl;
} zset;

/* Score range: min/max with exclusive flags ("(1"). */
typedef struct zrangespec {
  double min, max;
  int minex, maxex;
} zrangespec;

/* Lex range bound kinds: a value, "-" (below everything) or "+" (above). */
#define ZLEX_VALUE 0
#define ZLEX_MINUS_INF (-1)
#define ZLEX_PLUS_INF 1
typedef struct zlexrangespec {
  sds min, max; /* NULL for the infinite kinds */
  int minkind, maxkind;
  int minex, maxex;
} zlexrangespec;

zskiplist *zsl_create(void);
void zsl_free(zskiplist *zsl);
/* zsl_insert takes ownership of ele; the (score, ele) pair must be new. */
zskiplist_node *zsl_insert(zskiplist *zsl, double score, sds ele);
/* zsl_delete unlinks (score, ele); returns 1 if found. If node is NULL the
 * node and its member are freed, else *node gets the unlinked node. */
int zsl_delete(zskiplist *zsl, double score, sds ele, zskiplist_node **node);
void zsl_free_node(zskiplist_node *node); /* frees the member too */
/* zsl_update_score moves (curscore, ele) to newscore; returns the node
 * holding the element afterwards (it may be a new allocation). */
zskiplist_node *zsl_update_score(zskiplist *zsl, double curscore, sds ele,
                                 double newscore);
/* 1-based rank of (score, ele), 0 if absent. */
unsigned long zsl_get_rank(zskiplist *zsl, double score, sds ele);
/* Node at 1-based rank, NULL if out of range. */
zskiplist_node *zsl_get_element_by_rank(zskiplist *zsl, unsigned long rank);

int zsl_value_gte_min(double value, const zrangespec *spec);
int zsl_value_lte_max(double value, const zrangespec *spec);
/* zsl_range_is_empty: min > max, or min == max with an exclusive end. */
int zsl_range_is_empty(const zrangespec *range);
int zsl_is_in_range(zskiplist *zsl, const zrangespec *range);
zskiplist_node *zsl_first_in_range(zskiplist *zsl, const zrangespec *range);
zskiplist_node *zsl_last_in_range(zskiplist *zsl, const zrangespec *range);

int zsl_lex_value_gte_min(sds value, const zlexrangespec *spec);
int zsl_lex_value_lte_max(sds value, const zlexrangespec *spec);
/* The same for len bytes at s (a listpack member). */
int zsl_lex_buf_gte_min(const char *s, size_t len, const zlexrangespec *spec);
int zsl_lex_buf_lte_max(const char *s, size_t len, const zlexrangespec *spec);
/* zsl_lex_range_is_empty: min > max, or min == max with an exclusive end. */
int zsl_lex_range_is_empty(const zlexrangespec *range);
int zsl_is_in_lex_range(zskiplist *zsl, const zlexrangespec *range);
zskiplist_node *zsl_first_in_lex_range(zskiplist *zsl,
                                       const zlexrangespec *range);
zskiplist_node *zsl_last_in_lex_range(zskiplist *zsl,
                                      const zlexrangespec *range);

/* Range deletions also remove the members from dict (when not NULL).
 * They return the number of elements removed. Ranks are 1-based,
 * inclusive. */
unsigned long zsl_delete_range_by_score(zskiplist *zsl, const zrangespec *range,
                                        dict *dict);
unsigned long zsl_delete_range_by_lex(zskiplist *zsl,
                                      const zlexrangespec *range, dict *dict);
unsigned long zsl_delete_range_by_rank(zskiplist *zsl, unsigned long start,
                                       unsigned long end, dict *dict);

/* zset (dict + skiplist) helpers. */
extern dict_type zset_dict_type;
zset *zset_new(void);
void zset_release(zset *zs);
/* zset_find returns the node of ele or NULL. */
zskiplist_node *zset_find(zset *zs, sds ele);
/* zset_insert_owned: the same, taking ownership of the sds ele. */
zskiplist_node *zset_insert_owned(zset *zs, double score, sds ele);
/* zset_insert_new adds a member known to be absent (copies ele). */
zskiplist_node *zset_insert_new(zset *zs, double score, const char *ele,
                                size_t len);
/* zset_set_score changes the score of an existing member. */
void zset_set_score(zset *zs, zskiplist_node *node, double newscore);
/* zset_remove deletes ele; returns 1 if it was there. */
int zset_remove(zset *zs, sds ele);

void zfree_lex_range(zlexrangespec *spec);

#endif
