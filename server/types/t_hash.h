/* t_hash.h: the hash type's internal API for other modules (RDB, DEBUG,
 * COPY). A hash object is OBJ_ENCODING_LISTPACK (field, value, field,
 * value, ... in one listpack) until it passes hash-max-listpack-entries or
 * a field/value passes hash-max-listpack-value, then OBJ_ENCODING_HT (a
 * dict of sds field -> sds value). Conversion is one way, as in Redis. */
#ifndef REDOUBT_T_HASH_H
#define REDOUBT_T_HASH_H

#include "server/core/server.h"
#include "server/ds/listpack.h"

/* hash_create_object returns an empty listpack-encoded hash. */
robj *hash_create_object(void);
unsigned long hash_type_length(const robj *o);
/* hash_type_set sets field to value (bytes are copied). Converts the
 * encoding when needed. Returns 1 if the field existed (updated), 0 if
 * it was added. */
int hash_type_set(robj *o, const char *field, size_t field_len,
                  const char *value, size_t value_len);
/* hash_type_delete returns 1 if the field was removed. */
int hash_type_delete(robj *o, const char *field, size_t field_len);
/* hash_type_get: the value of |field| as bytes in *value / *value_len
 * (pointing into the hash, or into |ibuf| for a listpack integer; valid
 * until the hash changes). Returns 1 if found, 0 if not. */
int hash_type_get(robj *o, const char *field, size_t field_len,
                  const char **value, size_t *value_len,
                  unsigned char ibuf[LP_INTBUF_SIZE]);
/* hash_type_convert_to_ht converts a listpack hash (no-op for HT). */
void hash_type_convert_to_ht(robj *o);

/* hash_type_foreach calls fn for each field/value pair in order; fn
 * returns 0 to stop early. The bytes are valid only during the call. */
typedef int hash_foreach_fn(void *privdata, const char *field, size_t field_len,
                            const char *value, size_t value_len);
void hash_type_foreach(robj *o, hash_foreach_fn *fn, void *privdata);

/* The dict type of HT-encoded hashes (sds -> sds). */
extern dict_type hash_dict_type;

#endif
