/* t_types_common.h: helpers shared by the type modules. Each type module
 * (t_hash.c, t_set.c, t_list.c, t_zset_lp.c) registers its
 * object_type_ops (server/core/db.h); their compute_size estimators measure at most
 * |samples| elements and extrapolate the rest (0 = measure everything), as
 * Redis's MEMORY USAGE SAMPLES does. */
#ifndef REDOUBT_T_TYPES_COMMON_H
#define REDOUBT_T_TYPES_COMMON_H

#include "server/core/server.h"
#include "server/ds/listpack.h"

/* type_remove_members: the body of HDEL / SREM (and alike): removes
 * argv[first..] from the container o at argv[1] with remove(), deletes the
 * key when it becomes empty (size() == 0), signals and notifies `event` of
 * class `notify_class` (plus "del" when the key went away), counts dirty,
 * and replies with the number removed. */
void type_remove_members(client *c, robj *o, int first,
                         int (*remove)(robj *o, const char *ele, size_t len),
                         unsigned long (*size)(const robj *o), int notify_class,
                         const char *event);

/* add_reply_lp_entry_ref replies a listpack entry as a bulk string (an
 * integer entry in its decimal form). */
void add_reply_lp_entry_ref(client *c, const lp_entry_ref *r);

/* type_parse_rand_count_or_reply parses the "count [opt]" of ZRANDMEMBER /
 * HRANDFIELD key count [WITHSCORES|WITHVALUES] (opt names the option):
 * count in [-LONG_MAX, LONG_MAX], within +-LONG_MAX/2 when opt is given
 * (*with_opt = 1). Replies as Redis does and returns C_ERR on bad input. */
int type_parse_rand_count_or_reply(client *c, const char *opt, long *count,
                                   int *with_opt);

#endif
