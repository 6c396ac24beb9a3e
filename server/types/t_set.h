/* t_set.h: the set type's internal API for other modules (RDB, COPY,
 * ZUNIONSTORE with set inputs). A set is OBJ_ENCODING_INTSET while every
 * member is an integer and there are at most set-max-intset-entries of
 * them, else OBJ_ENCODING_HT (a dict of sds member -> NULL), one way, as
 * in Redis 7.0 (which has no listpack sets). */
#ifndef REDOUBT_T_SET_H
#define REDOUBT_T_SET_H

#include "server/core/server.h"

/* set_type_create returns an empty set suited to hold |value| first
 * (intset if it is an integer). */
robj *set_type_create(const char *value, size_t len);
/* set_type_add returns 1 if added, 0 if already a member. */
int set_type_add(robj *o, const char *value, size_t len);
/* set_type_remove returns 1 if removed. */
int set_type_remove(robj *o, const char *value, size_t len);
int set_type_is_member(robj *o, const char *value, size_t len);
unsigned long set_type_size(const robj *o);
/* set_type_convert_to_ht converts an intset set (no-op for HT). */
void set_type_convert_to_ht(robj *o);

/* set_type_foreach calls fn for each member (bytes valid during the call);
 * returns the number of members. Same signature as zset_set_member_fn. */
typedef void set_member_fn(void *privdata, const char *ele, size_t len);
unsigned long set_type_foreach(robj *o, set_member_fn *fn, void *privdata);

/* The dict type of HT-encoded sets (sds -> NULL). */
extern dict_type set_dict_type;

#endif
