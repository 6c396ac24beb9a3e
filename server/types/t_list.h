/* t_list.h: the list type's API for other modules (SORT STORE, RDB
 * loading, DEBUG): create a list object, push, length. A list value's ptr
 * is always a quicklist (quicklist.h) and its encoding
 * OBJ_ENCODING_QUICKLIST, as in Redis 7.0. */
#ifndef REDOUBT_T_LIST_H
#define REDOUBT_T_LIST_H

#include "server/core/server.h"
#include "server/ds/quicklist.h"

#define LIST_HEAD QUICKLIST_HEAD
#define LIST_TAIL QUICKLIST_TAIL

/* list_type_create returns an empty list object (refcount 1) with the
 * node size of list-max-listpack-size. Never store it empty in the
 * keyspace. */
robj *list_type_create(void);
/* list_type_push appends (LIST_TAIL) or prepends (LIST_HEAD) a string
 * object's bytes (any string encoding). */
void list_type_push(robj *list, robj *value, int where);
/* list_type_length returns the number of elements. */
unsigned long list_type_length(const robj *list);

#endif
