/* dict.h: chained hash table with power-of-two sizes and incremental
 * rehashing (two tables; each operation moves a bucket; a cron budget moves
 * more). Scanning uses the reverse-binary cursor so that an element present
 * for the whole scan is returned at least once, across resizes. */
#ifndef REDOUBT_DICT_H
#define REDOUBT_DICT_H

#include <stddef.h>
#include <stdint.h>

#define DICT_OK 0
#define DICT_ERR 1

typedef struct dict_entry {
  void *key;
  union {
    void *val;
    uint64_t u64;
    int64_t s64;
    double d;
  } v;
  struct dict_entry *next;
} dict_entry;

typedef struct dict_type {
  uint64_t (*hash_function)(const void *key);
  void *(*key_dup)(const void *key);                      /* may be NULL */
  void *(*val_dup)(const void *obj);                      /* may be NULL */
  int (*key_compare)(const void *key1, const void *key2); /* 1 if equal */
  void (*key_destructor)(void *key);                      /* may be NULL */
  void (*val_destructor)(void *obj);                      /* may be NULL */
  /* may be NULL: whether to allow expanding to |more_mem| bytes */
  int (*expand_allowed)(size_t more_mem, double used_ratio);
} dict_type;

typedef struct dict {
  dict_type *type;
  dict_entry **table[2];
  unsigned long size_exp[2]; /* table[i] has 1<<size_exp[i] buckets, or 0 */
  unsigned long used[2];
  long rehash_index; /* -1 when not rehashing */
  int pause_rehash;  /* >0: a safe iterator is running */
  void *metadata;    /* free for the owner */
} dict;

typedef struct dict_iterator {
  dict *d;
  long index;
  int table, safe;
  dict_entry *entry, *next_entry;
  unsigned long long fingerprint; /* unsafe iterators: misuse check */
} dict_iterator;

typedef void dict_scan_function(void *privdata, const dict_entry *de);

#define dict_size(d) ((d)->used[0] + (d)->used[1])
#define dict_slots(d)                                     \
  (((d)->size_exp[0] ? (1UL << (d)->size_exp[0]) : 0UL) + \
   ((d)->size_exp[1] ? (1UL << (d)->size_exp[1]) : 0UL))
#define dict_is_rehashing(d) ((d)->rehash_index != -1)
#define dict_get_key(de) ((de)->key)
#define dict_get_val(de) ((de)->v.val)
#define dict_get_signed_integer_val(de) ((de)->v.s64)
#define dict_get_double_val(de) ((de)->v.d)
#define dict_set_val(d, de, value) ((de)->v.val = (value))

dict *dict_create(dict_type *type);
void dict_release(dict *d);
/* dict_expand grows to hold at least |size| elements. DICT_OK/DICT_ERR. */
int dict_expand(dict *d, unsigned long size);
/* dict_add inserts key/val; DICT_ERR if the key exists. */
int dict_add(dict *d, void *key, void *val);
/* dict_add_raw inserts key with an unset value and returns the entry, or
 * returns NULL and sets *existing (if not NULL) when the key exists. */
dict_entry *dict_add_raw(dict *d, void *key, dict_entry **existing);
/* dict_add_or_find returns the new or existing entry. */
dict_entry *dict_add_or_find(dict *d, void *key);
/* dict_replace sets key to val; returns 1 if added, 0 if replaced (the old
 * value is destroyed after the new one is set). */
int dict_replace(dict *d, void *key, void *val);
/* dict_delete removes and destroys key and value. DICT_OK/DICT_ERR. */
int dict_delete(dict *d, const void *key);
/* dict_unlink removes the entry without destroying it; free it with
 * dict_free_unlinked_entry. NULL if not found. */
dict_entry *dict_unlink(dict *d, const void *key);
void dict_free_unlinked_entry(dict *d, dict_entry *he);
dict_entry *dict_find(dict *d, const void *key);
void *dict_fetch_value(dict *d, const void *key);
/* dict_resize shrinks to the smallest power of two holding the elements. */
int dict_resize(dict *d);
/* dict_empty removes everything; |callback| is called every 65536 buckets
 * (may be NULL). */
void dict_empty(dict *d, void(callback)(dict *));

dict_iterator *dict_get_iterator(dict *d);
dict_iterator *dict_get_safe_iterator(dict *d); /* allows dict_delete */
dict_entry *dict_next(dict_iterator *iter);
void dict_release_iterator(dict_iterator *iter);
void dict_init_iterator(dict_iterator *iter, dict *d);
void dict_init_safe_iterator(dict_iterator *iter, dict *d);
void dict_reset_iterator(dict_iterator *iter);

dict_entry *dict_get_random_key(dict *d);
dict_entry *dict_get_fair_random_key(dict *d);
/* dict_get_some_keys samples up to |count| entries (may repeat, may be
 * fewer); returns how many were stored in |des|. */
unsigned int dict_get_some_keys(dict *d, dict_entry **des, unsigned int count);
/* dict_scan calls fn for the entries of one bucket (both tables while
 * rehashing) and returns the next cursor (0 when done). */
unsigned long dict_scan(dict *d, unsigned long cursor, dict_scan_function *fn,
                        void *privdata);

/* dict_rehash does n bucket moves; returns 1 if more work remains. */
int dict_rehash(dict *d, int n);
/* dict_rehash_milliseconds rehashes for about ms milliseconds; returns the
 * number of buckets moved (times 100). */
int dict_rehash_milliseconds(dict *d, int ms);
/* Global switch used while a fork child exists (persistence). */
void dict_set_resize_enabled(int enable);

uint64_t dict_gen_hash_function(const void *key, size_t len); /* SipHash */
uint64_t dict_gen_case_hash_function(const unsigned char *buf, size_t len);
void dict_set_hash_function_seed(const uint8_t seed[16]);

/* Common types: sds keys (case sensitive), sds values freed. */
uint64_t dict_sds_hash(const void *key);
uint64_t dict_sds_case_hash(const void *key);
int dict_sds_key_compare(const void *a, const void *b);
int dict_sds_key_case_compare(const void *a, const void *b);
void dict_sds_destructor(void *val);

/* Keys that are pointers or integers cast to pointers (client ids, object
 * addresses): a splitmix64 finalizer spreads sequential or aligned values
 * over the table; keys are equal when the pointers are. */
uint64_t dict_pointer_hash(const void *key);
int dict_pointer_compare(const void *a, const void *b);

#endif
