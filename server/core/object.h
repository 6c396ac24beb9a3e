/* object.h: reference-counted values (robj), their encodings and number
 * conversions, LRU/LFU clocks (object.c). */
#ifndef REDOUBT_CORE_OBJECT_H
#define REDOUBT_CORE_OBJECT_H

#include "server/core/defs.h"

/* ------------------------------------------------------------------ */
/* Objects                                                              */
/* ------------------------------------------------------------------ */
#define OBJ_STRING 0
#define OBJ_LIST 1
#define OBJ_SET 2
#define OBJ_ZSET 3
#define OBJ_HASH 4
#define OBJ_STREAM 6 /* 5 is Redis's OBJ_MODULE */

/* Encodings, numbered as Redis does (OBJECT ENCODING prints the names). */
#define OBJ_ENCODING_RAW 0
#define OBJ_ENCODING_INT 1
#define OBJ_ENCODING_HT 2
#define OBJ_ENCODING_INTSET 6
#define OBJ_ENCODING_SKIPLIST 7
#define OBJ_ENCODING_EMBSTR 8
#define OBJ_ENCODING_QUICKLIST 9
#define OBJ_ENCODING_STREAM 10
#define OBJ_ENCODING_LISTPACK 11

#define LRU_BITS 24
#define LRU_CLOCK_MAX ((1 << LRU_BITS) - 1)
#define LRU_CLOCK_RESOLUTION 1000 /* ms */
#define OBJ_SHARED_REFCOUNT INT_MAX
#define OBJ_SHARED_INTEGERS 10000
#define OBJ_ENCODING_EMBSTR_SIZE_LIMIT 44

typedef struct robj {
  unsigned type : 4;
  unsigned encoding : 4;
  unsigned lru : LRU_BITS; /* LRU clock, or LFU data (16 bit time, 8 bit
                              counter) */
  int refcount;
  void *ptr; /* sds for RAW/EMBSTR strings, (long) value for INT */
} robj;

robj *create_object(int type, void *ptr);
robj *create_string_object(const char *ptr, size_t len); /* embstr or raw */
robj *create_raw_string_object(const char *ptr, size_t len);
robj *create_embedded_string_object(const char *ptr, size_t len);
robj *create_string_object_from_long_long(long long value); /* shared ints */
robj *create_string_object_from_long_long_for_value(long long value);
robj *create_string_object_from_long_double(long double value,
                                            int humanfriendly);
robj *dup_string_object(const robj *o);
robj *try_object_encoding(robj *o); /* may return another object */
robj *get_decoded_object(robj *o);  /* refcount+1, raw/embstr form */
void incr_ref_count(robj *o);
void decr_ref_count(robj *o);
void decr_ref_count_void(void *o);
robj *make_object_shared(robj *o);
size_t string_object_len(robj *o);
int compare_string_objects(robj *a, robj *b);
int equal_string_objects(robj *a, robj *b);
/* get_*_from_object_or_reply reply "-ERR value is not an integer or out of
 * range" (or |msg|) and return -1 (C_ERR) on failure, 0 on success. */
int get_long_long_from_object(robj *o, long long *target);
int get_long_long_from_object_or_reply(struct client *c, robj *o,
                                       long long *target, const char *msg);
int get_long_from_object_or_reply(struct client *c, robj *o, long *target,
                                  const char *msg);
int get_range_long_from_object_or_reply(struct client *c, robj *o, long min,
                                        long max, long *target,
                                        const char *msg);
int get_positive_long_from_object_or_reply(struct client *c, robj *o,
                                           long *target, const char *msg);
int get_int_from_object_or_reply(struct client *c, robj *o, int *target,
                                 const char *msg);
int get_double_from_object(const robj *o, double *target);
int get_double_from_object_or_reply(struct client *c, robj *o, double *target,
                                    const char *msg);
int get_long_double_from_object(robj *o, long double *target);
int get_long_double_from_object_or_reply(struct client *c, robj *o,
                                         long double *target, const char *msg);
const char *str_encoding(int encoding);
const char *type_name(robj *o); /* "string", "list", ... as TYPE replies */
int check_type(struct client *c, robj *o, int type); /* 1 + WRONGTYPE reply */
size_t object_compute_size(robj *o, size_t samples); /* approx bytes */
/* Free-method used by the keyspace dict for values. */
void dict_object_destructor(void *val);

#define sds_encoded_object(objptr)           \
  ((objptr)->encoding == OBJ_ENCODING_RAW || \
   (objptr)->encoding == OBJ_ENCODING_EMBSTR)

/* LRU/LFU */
unsigned int lru_clock(void);
unsigned long long estimate_object_idle_time(robj *o); /* ms */
void update_lfu(robj *o);
/* object_set_lru_or_lfu sets o's access data from a file or RESTORE: the
 * LFU counter |lfu_freq| (0..255) when the policy is LFU, or an idle time
 * of |lru_idle_s| seconds when it is LRU; -1 means not given. Returns 1 if
 * something was set. */
int object_set_lru_or_lfu(robj *o, long long lfu_freq, long long lru_idle_s);
unsigned long lfu_decr_and_return(robj *o);

#endif
