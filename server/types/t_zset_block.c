/* t_zset_block.c: BZPOPMIN, BZPOPMAX and BZMPOP on the blocking framework
 * (blocked.h). A request that finds a non-empty sorted set is answered
 * like ZPOPMIN/ZMPOP; otherwise the client waits for one of the keys to
 * hold a sorted set, then is answered with the same reply shape. */
#include "server/base/zmalloc.h"
#include "server/types/blocked.h"
#include "server/types/t_zset.h"

typedef struct zset_block_request {
  int where;
  long count;           /* -1: BZPOPMIN/BZPOPMAX single pop */
  int use_nested_array; /* BZMPOP */
} zset_block_request;

/* ZPOPMIN/ZPOPMAX key [count]: what a blocking pop (and ZMPOP) propagates,
 * with the count of members the pop of |o| will take, as Redis 7.0. */
void zset_propagate_pop(client *c, redis_db *db, robj *key, robj *o, int where,
                        long count) {
  if (count != -1) {
    long len = (long)zset_length(o);
    count = count > len ? len : count;
  }
  blocking_propagate_pop(
      c, db, where == ZSET_MIN ? shared.zpopmin : shared.zpopmax, key, count);
}

static int zset_block_serve(client *c, redis_db *db, robj *key, robj *o,
                            void *privdata) {
  zset_block_request *req = privdata;
  zset_propagate_pop(c, db, key, o, req->where, req->count);
  zset_generic_pop(c, &key, 1, req->where, 1, req->count, req->use_nested_array,
                   0, NULL);
  zset_compact_opened();
  return 1;
}

static void zset_block_free(void *privdata) { zfree(privdata); }

/* Serve now from the first non-empty sorted set, or block. */
static void zset_blocking_pop(client *c, robj **keys, int numkeys, int where,
                              long long deadline, long count,
                              int use_nested_array) {
  for (int j = 0; j < numkeys; j++) {
    robj *o = lookup_key_write(c->db, keys[j]);
    if (o == NULL) {
      continue;
    }
    if (check_type(c, o, OBJ_ZSET)) {
      return;
    }
    if (zset_length(o) == 0) {
      continue;
    }
    zset_propagate_pop(c, c->db, keys[j], o, where, count);
    zset_generic_pop(c, &keys[j], 1, where, 1, count, use_nested_array, 0,
                     NULL);
    return;
  }
  if (blocking_is_denied(c)) {
    add_reply_null_array(c);
    return;
  }
  zset_block_request *req = zmalloc(sizeof(*req));
  req->where = where;
  req->count = count;
  req->use_nested_array = use_nested_array;
  block_for_keys(c, keys, numkeys, deadline, OBJ_ZSET, zset_block_serve, req,
                 zset_block_free);
}

static void bzpop_min_max_command(client *c, int where) {
  long long deadline;
  if (blocking_get_timeout_or_reply(c, c->argv[c->argc - 1], &deadline) !=
      C_OK) {
    return;
  }
  zset_blocking_pop(c, &c->argv[1], c->argc - 2, where, deadline, -1, 0);
}

void bzpopmin_command(client *c) { bzpop_min_max_command(c, ZSET_MIN); }
void bzpopmax_command(client *c) { bzpop_min_max_command(c, ZSET_MAX); }

void bzmpop_command(client *c) {
  long numkeys, count;
  int where;
  long long deadline;
  if (zset_parse_mpop_args(c, 2, &numkeys, &where, &count) != C_OK) {
    return;
  }
  if (blocking_get_timeout_or_reply(c, c->argv[1], &deadline) != C_OK) {
    return;
  }
  zset_blocking_pop(c, c->argv + 3, (int)numkeys, where, deadline, count, 1);
}

/* BZMPOP timeout numkeys key...: keys follow argv[2]. */
int bzmpop_get_keys(struct redis_command *cmd, robj **argv, int argc,
                    get_keys_result *result) {
  (void)cmd;
  long long num = 0;
  if (argc < 3 || get_long_long_from_object(argv[2], &num) != C_OK || num < 1 ||
      num > argc - 3) {
    result->numkeys = 0;
    return 0;
  }
  key_reference *keys = get_keys_prepare_result(result, (int)num);
  for (int i = 0; i < (int)num; i++) {
    keys[i].pos = 3 + i;
    keys[i].flags = 0;
  }
  result->numkeys = (int)num;
  return (int)num;
}
