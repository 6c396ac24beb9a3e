/* t_zset_rand.c: ZRANDMEMBER (registered in t_zset.c's command table).
 * A small (listpack) set is sampled in place, as Redis does; a big one
 * through its dict. Replies follow Redis 7.0. */
#include "server/base/zmalloc.h"
#include "server/ds/listpack.h"
#include "server/types/t_types_common.h"
#include "server/types/t_zset.h"

/* Negative counts on a listpack are sampled this many at a time. */
#define ZRANDMEMBER_SAMPLE_LIMIT 1000

static zskiplist_node *zset_random_node(zset *zs) {
  dict_entry *de = dict_get_fair_random_key(zs->dict);
  return dict_get_val(de);
}

static void zrand_reply_pair_header(client *c, int withscores) {
  if (withscores && c->resp > 2) {
    add_reply_array_len(c, 2);
  }
}

static void zrand_reply_refs(client *c, const lp_entry_ref *members,
                             const lp_entry_ref *scores, unsigned int n,
                             int withscores) {
  for (unsigned int i = 0; i < n; i++) {
    zrand_reply_pair_header(c, withscores);
    add_reply_lp_entry_ref(c, &members[i]);
    if (withscores) {
      add_reply_double(c, zset_lp_ref_score(&scores[i]));
    }
  }
}

static void zrand_reply_node(client *c, const zskiplist_node *n,
                             int withscores) {
  zrand_reply_pair_header(c, withscores);
  add_reply_bulk_cbuffer(c, n->ele, sds_len(n->ele));
  if (withscores) {
    add_reply_double(c, n->score);
  }
}

/* Picks with repetition: exactly count of them. A huge count is bounded by
 * the output buffer limits: stop once the client is to be closed. */
static void zrand_with_repetition(client *c, robj *zobj, unsigned long count,
                                  int withscores) {
  if (!zset_is_compact(zobj)) {
    zset *zs = zset_ptr(zobj);
    while (count-- && !(c->flags & CLIENT_CLOSE_ASAP)) {
      zrand_reply_node(c, zset_random_node(zs), withscores);
    }
    return;
  }
  unsigned int limit = count > ZRANDMEMBER_SAMPLE_LIMIT
                           ? ZRANDMEMBER_SAMPLE_LIMIT
                           : (unsigned int)count;
  lp_entry_ref *members = zmalloc(sizeof(lp_entry_ref) * limit);
  lp_entry_ref *scores = zmalloc(sizeof(lp_entry_ref) * limit);
  while (count && !(c->flags & CLIENT_CLOSE_ASAP)) {
    unsigned int n = count > limit ? limit : (unsigned int)count;
    count -= n;
    lp_random_pairs(zobj->ptr, n, members, scores);
    zrand_reply_refs(c, members, scores, n, withscores);
  }
  zfree(members);
  zfree(scores);
}

/* count distinct members, 0 < count < size. */
static void zrand_distinct(client *c, robj *zobj, unsigned long count,
                           unsigned long size, int withscores) {
  if (zset_is_compact(zobj)) { /* one pass, in listpack order */
    lp_entry_ref *members = zmalloc(sizeof(lp_entry_ref) * count);
    lp_entry_ref *scores = zmalloc(sizeof(lp_entry_ref) * count);
    unsigned int got =
        lp_random_pairs_unique(zobj->ptr, (unsigned int)count, members, scores);
    server_assert(got == count);
    zrand_reply_refs(c, members, scores, got, withscores);
    zfree(members);
    zfree(scores);
    return;
  }
  /* A partial Fisher-Yates shuffle over all nodes: O(size). */
  zset *zs = zset_ptr(zobj);
  zskiplist_node **nodes = zmalloc(sizeof(*nodes) * size);
  unsigned long i = 0;
  for (zskiplist_node *n = zs->zsl->header->level[0].forward; n && i < size;
       n = n->level[0].forward) {
    nodes[i++] = n;
  }
  for (i = 0; i < count; i++) {
    unsigned long r = i + (unsigned long)random() % (size - i);
    zskiplist_node *tmp = nodes[i];
    nodes[i] = nodes[r];
    nodes[r] = tmp;
    zrand_reply_node(c, nodes[i], withscores);
  }
  zfree(nodes);
}

static void zrandmember_with_count(client *c, long l, int withscores) {
  robj *zobj = lookup_key_read_or_reply(c, c->argv[1], shared.emptyarray);
  if (zobj == NULL || check_type(c, zobj, OBJ_ZSET)) {
    return;
  }
  unsigned long size = zset_length(zobj);
  int uniq = l >= 0;
  unsigned long count = uniq ? (unsigned long)l : (unsigned long)-l;
  if (count == 0) {
    add_reply(c, shared.emptyarray);
    return;
  }
  if (uniq && count >= size && count != 1) {
    zset_reply_all_reversed(c, zobj, withscores);
    return;
  }
  add_reply_array_len(c,
                      (long)((withscores && c->resp == 2) ? count * 2 : count));
  if (!uniq || count == 1) {
    zrand_with_repetition(c, zobj, count, withscores);
  } else {
    zrand_distinct(c, zobj, count, size, withscores);
  }
}

void zrandmember_command(client *c) {
  if (c->argc >= 3) {
    long l;
    int withscores;
    if (type_parse_rand_count_or_reply(c, "withscores", &l, &withscores) !=
        C_OK) {
      return;
    }
    zrandmember_with_count(c, l, withscores);
    return;
  }
  robj *zobj = lookup_key_read_or_reply(c, c->argv[1], shared.null[c->resp]);
  if (zobj == NULL || check_type(c, zobj, OBJ_ZSET)) {
    return;
  }
  if (zset_is_compact(zobj)) {
    lp_entry_ref m;
    lp_random_pair(zobj->ptr, zset_length(zobj), &m, NULL);
    add_reply_lp_entry_ref(c, &m);
    return;
  }
  zskiplist_node *n = zset_random_node(zset_ptr(zobj));
  add_reply_bulk_cbuffer(c, n->ele, sds_len(n->ele));
}
