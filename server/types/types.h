/* types.h: the value types' package (server/types): strings, lists, sets,
 * sorted sets, hashes, streams and blocking commands. The public interface for the
 * layers above: command tables and the registration functions that
 * server/modules.c calls. The per-type headers (t_*.h, blocked.h) are for
 * commands built on a type (e.g. SORT, persistence). Geo commands work on
 * sorted sets (t_geo.c, geohash.h). */
#ifndef REDOUBT_TYPES_TYPES_H
#define REDOUBT_TYPES_TYPES_H

#include "server/core/server.h"

/* Command tables, each terminated by {0}. */
extern redis_command string_commands[]; /* t_string.c */
extern redis_command list_commands[];   /* t_list.c */
extern redis_command set_commands[];    /* t_set.c */
extern redis_command zset_commands[];   /* t_zset.c */
extern redis_command hash_commands[];   /* t_hash.c */
extern redis_command bitops_commands[]; /* t_bitops.c: SETBIT, BITFIELD... */
extern redis_command hll_commands[];    /* hyperloglog.c: PFADD, PFCOUNT... */
extern redis_command stream_commands[]; /* t_stream.c */
extern redis_command geo_commands[];    /* t_geo.c */

/* Each registers its object_type_ops (server/core/db.h) for its OBJ_* type. */
void list_type_register(void);
void set_type_register(void);
void zset_type_register(void);
void hash_type_register(void);
/* stream_type_register also registers the hook that wakes XREADGROUP
 * clients whose stream is flushed or swapped away. */
void stream_type_register(void);
/* blocking_register registers the blocking commands' keyspace hook. */
void blocking_register(void);

#endif
