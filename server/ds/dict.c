/* dict.c: chained hash tables with incremental rehashing (see dict.h).
 *
 * Two tables exist while rehashing; every lookup or insert moves one
 * bucket from table 0 to table 1 (unless a safe iterator or a scan pauses
 * rehashing), and dict_rehash_milliseconds() lets cron move more. New keys
 * go to table 1 while rehashing so table 0 only shrinks. */
#include "server/ds/dict.h"

#include <assert.h>
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "server/base/util.h"
#include "server/base/zmalloc.h"
#include "server/ds/sds.h"

#define DICT_HT_INITIAL_EXP 2 /* 4 buckets */
/* Even with resizing disabled (a fork child shares pages), grow when the
 * load factor passes this ratio: chains would get too long otherwise. */
#define DICT_FORCE_RESIZE_RATIO 5
/* dict_rehash visits at most n*10 empty buckets per call (time bound). */
#define DICT_REHASH_EMPTY_VISITS_FACTOR 10
/* Largest exponent a table may have (2^62 buckets: unreachable). */
#define DICT_MAX_EXP (sizeof(long) * CHAR_BIT - 2)

#define DICTHT_SIZE(exp) ((exp) == 0 ? 0UL : (1UL << (exp)))
#define DICTHT_MASK(exp) ((exp) == 0 ? 0UL : (1UL << (exp)) - 1)

static int dict_can_resize = 1;

/* ------------------------------------------------------------------ */
/* Hashing: SipHash-1-2 keyed with a per-process random seed.           */
/* ------------------------------------------------------------------ */

static uint8_t dict_hash_seed[16];
static int dict_hash_seeded = 0;

/* A small xorshift generator for sampling; its quality matters only for
 * eviction and RANDOMKEY fairness, not for security. */
static uint64_t dict_rng_state = 0x9E3779B97F4A7C15ULL;

static inline unsigned long dict_random_ulong(void) {
  uint64_t x = dict_rng_state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  dict_rng_state = x;
  return (unsigned long)(x * 0x2545F4914F6CDD1DULL);
}

void dict_set_hash_function_seed(const uint8_t seed[16]) {
  memcpy(dict_hash_seed, seed, sizeof(dict_hash_seed));
  dict_hash_seeded = 1;
  uint64_t s;
  memcpy(&s, seed, sizeof(s));
  dict_rng_state ^= s;
  if (dict_rng_state == 0) {
    dict_rng_state = 0x9E3779B97F4A7C15ULL;
  }
}

/* dict_ensure_seeded gives a random seed to programs (unit tests, tools)
 * that create a dict without seeding first. The server seeds at startup,
 * before any dict exists; the seed must not change once dicts hold keys. */
static void dict_ensure_seeded(void) {
  if (!dict_hash_seeded) {
    uint8_t seed[16];
    get_random_bytes(seed, sizeof(seed));
    dict_set_hash_function_seed(seed);
  }
}

#define SIP_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIP_ROUND(v0, v1, v2, v3) \
  do {                            \
    v0 += v1;                     \
    v1 = SIP_ROTL(v1, 13);        \
    v1 ^= v0;                     \
    v0 = SIP_ROTL(v0, 32);        \
    v2 += v3;                     \
    v3 = SIP_ROTL(v3, 16);        \
    v3 ^= v2;                     \
    v0 += v3;                     \
    v3 = SIP_ROTL(v3, 21);        \
    v3 ^= v0;                     \
    v2 += v1;                     \
    v1 = SIP_ROTL(v1, 17);        \
    v1 ^= v2;                     \
    v2 = SIP_ROTL(v2, 32);        \
  } while (0)

static inline uint64_t sip_load_le64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

static inline uint64_t sip_lower8(uint64_t w) {
  /* ASCII lower-casing of 8 packed bytes: add 0x20 where 'A'..'Z'. */
  uint64_t out = 0;
  for (int i = 0; i < 8; i++) {
    uint8_t b = (uint8_t)(w >> (i * 8));
    out |= (uint64_t)(uint8_t)tolower(b) << (i * 8);
  }
  return out;
}

/* siphash12 computes SipHash with 1 compression and 2 finalization rounds
 * (Redis's choice: fast, still keyed against flooding). */
static uint64_t siphash12(const uint8_t *in, size_t inlen, int nocase) {
  uint64_t k0 = sip_load_le64(dict_hash_seed);
  uint64_t k1 = sip_load_le64(dict_hash_seed + 8);
  uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
  uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
  uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
  uint64_t v3 = 0x7465646279746573ULL ^ k1;
  const uint8_t *end = in + inlen - (inlen % 8);
  uint64_t b = ((uint64_t)inlen) << 56;

  for (; in != end; in += 8) {
    uint64_t m = sip_load_le64(in);
    if (nocase) {
      m = sip_lower8(m);
    }
    v3 ^= m;
    SIP_ROUND(v0, v1, v2, v3);
    v0 ^= m;
  }
  uint64_t t = 0;
  switch (inlen & 7) {
    case 7:
      t |= ((uint64_t)(nocase ? tolower(in[6]) : in[6])) << 48;
      /* fall through */
    case 6:
      t |= ((uint64_t)(nocase ? tolower(in[5]) : in[5])) << 40;
      /* fall through */
    case 5:
      t |= ((uint64_t)(nocase ? tolower(in[4]) : in[4])) << 32;
      /* fall through */
    case 4:
      t |= ((uint64_t)(nocase ? tolower(in[3]) : in[3])) << 24;
      /* fall through */
    case 3:
      t |= ((uint64_t)(nocase ? tolower(in[2]) : in[2])) << 16;
      /* fall through */
    case 2:
      t |= ((uint64_t)(nocase ? tolower(in[1]) : in[1])) << 8;
      /* fall through */
    case 1:
      t |= ((uint64_t)(nocase ? tolower(in[0]) : in[0]));
      break;
    default:
      break;
  }
  b |= t;
  v3 ^= b;
  SIP_ROUND(v0, v1, v2, v3);
  v0 ^= b;
  v2 ^= 0xff;
  SIP_ROUND(v0, v1, v2, v3);
  SIP_ROUND(v0, v1, v2, v3);
  return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t dict_gen_hash_function(const void *key, size_t len) {
  return siphash12((const uint8_t *)key, len, 0);
}

uint64_t dict_gen_case_hash_function(const unsigned char *buf, size_t len) {
  return siphash12(buf, len, 1);
}

uint64_t dict_sds_hash(const void *key) {
  return siphash12((const uint8_t *)key, sds_len((sds)key), 0);
}

uint64_t dict_sds_case_hash(const void *key) {
  return siphash12((const uint8_t *)key, sds_len((sds)key), 1);
}

uint64_t dict_pointer_hash(const void *key) {
  uint64_t x = (uint64_t)(uintptr_t)key;
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

int dict_pointer_compare(const void *a, const void *b) { return a == b; }

int dict_sds_key_compare(const void *a, const void *b) {
  size_t l1 = sds_len((sds)a), l2 = sds_len((sds)b);
  return l1 == l2 && memcmp(a, b, l1) == 0;
}

int dict_sds_key_case_compare(const void *a, const void *b) {
  return strcasecmp(a, b) == 0;
}

void dict_sds_destructor(void *val) { sds_free(val); }

/* ------------------------------------------------------------------ */
/* Tables                                                               */
/* ------------------------------------------------------------------ */

static inline uint64_t dict_hash_key(dict *d, const void *key) {
  return d->type->hash_function(key);
}

static inline int dict_compare_keys(dict *d, const void *a, const void *b) {
  return a == b || d->type->key_compare(a, b);
}

static inline void dict_set_key(dict *d, dict_entry *de, void *key) {
  de->key = d->type->key_dup != NULL ? d->type->key_dup(key) : key;
}

static inline void dict_set_entry_val(dict *d, dict_entry *de, void *val) {
  de->v.val = d->type->val_dup != NULL ? d->type->val_dup(val) : val;
}

static inline void dict_free_key(dict *d, dict_entry *de) {
  if (d->type->key_destructor != NULL) {
    d->type->key_destructor(de->key);
  }
}

static inline void dict_free_val(dict *d, dict_entry *de) {
  if (d->type->val_destructor != NULL) {
    d->type->val_destructor(de->v.val);
  }
}

static void dict_reset_table(dict *d, int t) {
  d->table[t] = NULL;
  d->size_exp[t] = 0;
  d->used[t] = 0;
}

dict *dict_create(dict_type *type) {
  dict_ensure_seeded();
  dict *d = zmalloc(sizeof(*d));
  d->type = type;
  dict_reset_table(d, 0);
  dict_reset_table(d, 1);
  d->rehash_index = -1;
  d->pause_rehash = 0;
  d->metadata = NULL;
  return d;
}

static unsigned long dict_next_exp(unsigned long size) {
  unsigned long e = DICT_HT_INITIAL_EXP;
  if (size >= LONG_MAX) {
    return DICT_MAX_EXP;
  }
  while ((1UL << e) < size) {
    e++;
  }
  return e;
}

/* dict_expand_impl creates a table for |size| elements: the first table
 * directly, otherwise table 1 and starts rehashing. |try_only| reports an
 * allocation failure instead of aborting. */
static int dict_expand_impl(dict *d, unsigned long size, int try_only) {
  if (dict_is_rehashing(d) || d->used[0] > size) {
    return DICT_ERR;
  }
  unsigned long exp = dict_next_exp(size);
  if (exp == d->size_exp[0]) {
    return DICT_ERR;
  }
  size_t bytes = sizeof(dict_entry *) * DICTHT_SIZE(exp);
  dict_entry **table;
  if (try_only) {
    table = ztrymalloc(bytes);
    if (table == NULL) {
      return DICT_ERR;
    }
    memset(table, 0, bytes);
  } else {
    table = zcalloc(bytes);
  }
  if (d->table[0] == NULL) {
    d->table[0] = table;
    d->size_exp[0] = exp;
    d->used[0] = 0;
    return DICT_OK;
  }
  d->table[1] = table;
  d->size_exp[1] = exp;
  d->used[1] = 0;
  d->rehash_index = 0;
  return DICT_OK;
}

int dict_expand(dict *d, unsigned long size) {
  return dict_expand_impl(d, size, 0);
}

int dict_resize(dict *d) {
  if (!dict_can_resize || dict_is_rehashing(d)) {
    return DICT_ERR;
  }
  unsigned long minimal = d->used[0];
  if (minimal < (1UL << DICT_HT_INITIAL_EXP)) {
    minimal = 1UL << DICT_HT_INITIAL_EXP;
  }
  return dict_expand(d, minimal);
}

void dict_set_resize_enabled(int enable) { dict_can_resize = enable; }

int dict_rehash(dict *d, int n) {
  int empty_visits = n * DICT_REHASH_EMPTY_VISITS_FACTOR;
  if (!dict_is_rehashing(d)) {
    return 0;
  }
  unsigned long mask1 = DICTHT_MASK(d->size_exp[1]);
  while (n-- > 0 && d->used[0] != 0) {
    while (d->table[0][d->rehash_index] == NULL) {
      d->rehash_index++;
      if (--empty_visits == 0) {
        return 1;
      }
    }
    dict_entry *de = d->table[0][d->rehash_index];
    while (de != NULL) {
      dict_entry *next = de->next;
      unsigned long h = dict_hash_key(d, de->key) & mask1;
      de->next = d->table[1][h];
      d->table[1][h] = de;
      d->used[0]--;
      d->used[1]++;
      de = next;
    }
    d->table[0][d->rehash_index] = NULL;
    d->rehash_index++;
  }
  if (d->used[0] == 0) {
    zfree(d->table[0]);
    d->table[0] = d->table[1];
    d->size_exp[0] = d->size_exp[1];
    d->used[0] = d->used[1];
    dict_reset_table(d, 1);
    d->rehash_index = -1;
    return 0;
  }
  return 1;
}

static long long dict_time_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return ((long long)tv.tv_sec) * 1000 + tv.tv_usec / 1000;
}

int dict_rehash_milliseconds(dict *d, int ms) {
  if (d->pause_rehash > 0) {
    return 0;
  }
  long long start = dict_time_ms();
  int rehashes = 0;
  while (dict_rehash(d, 100)) {
    rehashes += 100;
    if (dict_time_ms() - start > ms) {
      break;
    }
  }
  return rehashes;
}

/* dict_rehash_step moves one bucket unless an iterator or scan pinned the
 * tables. */
static inline void dict_rehash_step(dict *d) {
  if (d->pause_rehash == 0) {
    dict_rehash(d, 1);
  }
}

static int dict_expand_if_needed(dict *d) {
  if (dict_is_rehashing(d)) {
    return DICT_OK;
  }
  if (d->size_exp[0] == 0) {
    return dict_expand(d, 1UL << DICT_HT_INITIAL_EXP);
  }
  unsigned long size = DICTHT_SIZE(d->size_exp[0]);
  if (d->used[0] >= size &&
      (dict_can_resize || d->used[0] / size > DICT_FORCE_RESIZE_RATIO)) {
    if (d->type->expand_allowed != NULL) {
      size_t more =
          sizeof(dict_entry *) * DICTHT_SIZE(dict_next_exp(d->used[0] + 1));
      if (!d->type->expand_allowed(more, (double)d->used[0] / (double)size)) {
        return DICT_OK;
      }
    }
    return dict_expand(d, d->used[0] + 1);
  }
  return DICT_OK;
}

/* dict_key_index returns the bucket where |key| should go, or -1 when it
 * already exists (*existing then points at its entry). */
static long dict_key_index(dict *d, const void *key, uint64_t hash,
                           dict_entry **existing) {
  if (existing != NULL) {
    *existing = NULL;
  }
  if (dict_expand_if_needed(d) == DICT_ERR) {
    return -1;
  }
  unsigned long idx = 0;
  for (int t = 0; t <= 1; t++) {
    idx = hash & DICTHT_MASK(d->size_exp[t]);
    dict_entry *he = d->table[t][idx];
    while (he != NULL) {
      if (dict_compare_keys(d, key, he->key)) {
        if (existing != NULL) {
          *existing = he;
        }
        return -1;
      }
      he = he->next;
    }
    if (!dict_is_rehashing(d)) {
      break;
    }
  }
  return (long)idx;
}

dict_entry *dict_add_raw(dict *d, void *key, dict_entry **existing) {
  if (dict_is_rehashing(d)) {
    dict_rehash_step(d);
  }
  long index = dict_key_index(d, key, dict_hash_key(d, key), existing);
  if (index == -1) {
    return NULL;
  }
  int t = dict_is_rehashing(d) ? 1 : 0;
  dict_entry *entry = zmalloc(sizeof(*entry));
  entry->next = d->table[t][index];
  d->table[t][index] = entry;
  d->used[t]++;
  dict_set_key(d, entry, key);
  entry->v.u64 = 0;
  return entry;
}

int dict_add(dict *d, void *key, void *val) {
  dict_entry *entry = dict_add_raw(d, key, NULL);
  if (entry == NULL) {
    return DICT_ERR;
  }
  dict_set_entry_val(d, entry, val);
  return DICT_OK;
}

dict_entry *dict_add_or_find(dict *d, void *key) {
  dict_entry *existing;
  dict_entry *entry = dict_add_raw(d, key, &existing);
  return entry != NULL ? entry : existing;
}

int dict_replace(dict *d, void *key, void *val) {
  dict_entry *existing;
  dict_entry *entry = dict_add_raw(d, key, &existing);
  if (entry != NULL) {
    dict_set_entry_val(d, entry, val);
    return 1;
  }
  /* Set the new value before freeing the old: they may be the same
   * reference-counted object. */
  dict_entry aux = *existing;
  dict_set_entry_val(d, existing, val);
  dict_free_val(d, &aux);
  return 0;
}

static dict_entry *dict_generic_delete(dict *d, const void *key, int nofree) {
  if (dict_size(d) == 0) {
    return NULL;
  }
  if (dict_is_rehashing(d)) {
    dict_rehash_step(d);
  }
  uint64_t h = dict_hash_key(d, key);
  for (int t = 0; t <= 1; t++) {
    if (d->table[t] == NULL) {
      break;
    }
    unsigned long idx = h & DICTHT_MASK(d->size_exp[t]);
    dict_entry *he = d->table[t][idx];
    dict_entry *prev = NULL;
    while (he != NULL) {
      if (dict_compare_keys(d, key, he->key)) {
        if (prev != NULL) {
          prev->next = he->next;
        } else {
          d->table[t][idx] = he->next;
        }
        if (!nofree) {
          dict_free_key(d, he);
          dict_free_val(d, he);
          zfree(he);
        }
        d->used[t]--;
        return he;
      }
      prev = he;
      he = he->next;
    }
    if (!dict_is_rehashing(d)) {
      break;
    }
  }
  return NULL;
}

int dict_delete(dict *d, const void *key) {
  return dict_generic_delete(d, key, 0) != NULL ? DICT_OK : DICT_ERR;
}

dict_entry *dict_unlink(dict *d, const void *key) {
  return dict_generic_delete(d, key, 1);
}

void dict_free_unlinked_entry(dict *d, dict_entry *he) {
  if (he == NULL) {
    return;
  }
  dict_free_key(d, he);
  dict_free_val(d, he);
  zfree(he);
}

static void dict_clear_table(dict *d, int t, void(callback)(dict *)) {
  unsigned long size = DICTHT_SIZE(d->size_exp[t]);
  for (unsigned long i = 0; i < size && d->used[t] > 0; i++) {
    if (callback != NULL && (i & 65535) == 0) {
      callback(d);
    }
    dict_entry *he = d->table[t][i];
    while (he != NULL) {
      dict_entry *next = he->next;
      dict_free_key(d, he);
      dict_free_val(d, he);
      zfree(he);
      d->used[t]--;
      he = next;
    }
  }
  zfree(d->table[t]);
  dict_reset_table(d, t);
}

void dict_release(dict *d) {
  if (d == NULL) {
    return;
  }
  dict_clear_table(d, 0, NULL);
  dict_clear_table(d, 1, NULL);
  zfree(d);
}

void dict_empty(dict *d, void(callback)(dict *)) {
  dict_clear_table(d, 0, callback);
  dict_clear_table(d, 1, callback);
  d->rehash_index = -1;
  d->pause_rehash = 0;
}

dict_entry *dict_find(dict *d, const void *key) {
  if (dict_size(d) == 0) {
    return NULL;
  }
  if (dict_is_rehashing(d)) {
    dict_rehash_step(d);
  }
  uint64_t h = dict_hash_key(d, key);
  for (int t = 0; t <= 1; t++) {
    unsigned long idx = h & DICTHT_MASK(d->size_exp[t]);
    dict_entry *he = d->table[t][idx];
    while (he != NULL) {
      if (dict_compare_keys(d, key, he->key)) {
        return he;
      }
      he = he->next;
    }
    if (!dict_is_rehashing(d)) {
      return NULL;
    }
  }
  return NULL;
}

void *dict_fetch_value(dict *d, const void *key) {
  dict_entry *he = dict_find(d, key);
  return he != NULL ? he->v.val : NULL;
}

/* ------------------------------------------------------------------ */
/* Iterators                                                            */
/* ------------------------------------------------------------------ */

/* dict_fingerprint summarises the table layout; an unsafe iterator checks
 * it on release to catch a dict modified during iteration. */
static unsigned long long dict_fingerprint(dict *d) {
  unsigned long long integers[6], hash = 0;
  integers[0] = (unsigned long long)(uintptr_t)d->table[0];
  integers[1] = d->size_exp[0];
  integers[2] = d->used[0];
  integers[3] = (unsigned long long)(uintptr_t)d->table[1];
  integers[4] = d->size_exp[1];
  integers[5] = d->used[1];
  for (int j = 0; j < 6; j++) {
    hash += integers[j];
    hash = (~hash) + (hash << 21);
    hash = hash ^ (hash >> 24);
    hash = (hash + (hash << 3)) + (hash << 8);
    hash = hash ^ (hash >> 14);
    hash = (hash + (hash << 2)) + (hash << 4);
    hash = hash ^ (hash >> 28);
    hash = hash + (hash << 31);
  }
  return hash;
}

void dict_init_iterator(dict_iterator *iter, dict *d) {
  iter->d = d;
  iter->table = 0;
  iter->index = -1;
  iter->safe = 0;
  iter->entry = NULL;
  iter->next_entry = NULL;
  iter->fingerprint = 0;
}

void dict_init_safe_iterator(dict_iterator *iter, dict *d) {
  dict_init_iterator(iter, d);
  iter->safe = 1;
}

void dict_reset_iterator(dict_iterator *iter) {
  if (!(iter->index == -1 && iter->table == 0)) {
    if (iter->safe) {
      iter->d->pause_rehash--;
    } else {
      /* An unsafe iterator saw the dict change under it: results were
       * undefined, so fail loudly rather than corrupt silently. */
      assert(iter->fingerprint == dict_fingerprint(iter->d));
    }
  }
  iter->index = -1;
  iter->table = 0;
  iter->entry = NULL;
}

dict_iterator *dict_get_iterator(dict *d) {
  dict_iterator *iter = zmalloc(sizeof(*iter));
  dict_init_iterator(iter, d);
  return iter;
}

dict_iterator *dict_get_safe_iterator(dict *d) {
  dict_iterator *iter = dict_get_iterator(d);
  iter->safe = 1;
  return iter;
}

dict_entry *dict_next(dict_iterator *iter) {
  for (;;) {
    if (iter->entry == NULL) {
      if (iter->index == -1 && iter->table == 0) {
        if (iter->safe) {
          iter->d->pause_rehash++;
        } else {
          iter->fingerprint = dict_fingerprint(iter->d);
        }
      }
      iter->index++;
      if (iter->index >= (long)DICTHT_SIZE(iter->d->size_exp[iter->table])) {
        if (dict_is_rehashing(iter->d) && iter->table == 0) {
          iter->table++;
          iter->index = 0;
        } else {
          break;
        }
      }
      iter->entry = iter->d->table[iter->table][iter->index];
    } else {
      iter->entry = iter->next_entry;
    }
    if (iter->entry != NULL) {
      /* Saved so that a safe iterator's caller may delete the entry. */
      iter->next_entry = iter->entry->next;
      return iter->entry;
    }
  }
  return NULL;
}

void dict_release_iterator(dict_iterator *iter) {
  if (iter == NULL) {
    return;
  }
  dict_reset_iterator(iter);
  zfree(iter);
}

/* ------------------------------------------------------------------ */
/* Random access                                                        */
/* ------------------------------------------------------------------ */

dict_entry *dict_get_random_key(dict *d) {
  dict_entry *he;
  unsigned long h;
  if (dict_size(d) == 0) {
    return NULL;
  }
  if (dict_is_rehashing(d)) {
    dict_rehash_step(d);
  }
  if (dict_is_rehashing(d)) {
    unsigned long s0 = DICTHT_SIZE(d->size_exp[0]);
    unsigned long span = dict_slots(d) - (unsigned long)d->rehash_index;
    do {
      /* Buckets below rehash_index in table 0 are empty. */
      h = (unsigned long)d->rehash_index + (dict_random_ulong() % span);
      he = (h >= s0) ? d->table[1][h - s0] : d->table[0][h];
    } while (he == NULL);
  } else {
    unsigned long m = DICTHT_MASK(d->size_exp[0]);
    do {
      h = dict_random_ulong() & m;
      he = d->table[0][h];
    } while (he == NULL);
  }
  /* Pick uniformly inside the chain. */
  int listlen = 0;
  dict_entry *orighe = he;
  while (he != NULL) {
    he = he->next;
    listlen++;
  }
  int listele = (int)(dict_random_ulong() % (unsigned long)listlen);
  he = orighe;
  while (listele-- > 0) {
    he = he->next;
  }
  return he;
}

unsigned int dict_get_some_keys(dict *d, dict_entry **des, unsigned int count) {
  unsigned long stored = 0;
  if (dict_size(d) < count) {
    count = (unsigned int)dict_size(d);
  }
  if (count == 0) {
    return 0;
  }
  unsigned long maxsteps = (unsigned long)count * 10;
  for (unsigned int j = 0; j < count; j++) {
    if (!dict_is_rehashing(d)) {
      break;
    }
    dict_rehash_step(d);
  }
  int tables = dict_is_rehashing(d) ? 2 : 1;
  unsigned long maxsizemask = DICTHT_MASK(d->size_exp[0]);
  if (tables > 1 && maxsizemask < DICTHT_MASK(d->size_exp[1])) {
    maxsizemask = DICTHT_MASK(d->size_exp[1]);
  }
  unsigned long i = dict_random_ulong() & maxsizemask;
  unsigned long emptylen = 0;
  while (stored < count && maxsteps-- > 0) {
    for (int j = 0; j < tables; j++) {
      if (tables == 2 && j == 0 && i < (unsigned long)d->rehash_index) {
        /* Table 0 is empty below rehash_index; if table 1 is smaller
         * (shrinking) jump ahead instead. */
        if (i >= DICTHT_SIZE(d->size_exp[1])) {
          i = (unsigned long)d->rehash_index;
        } else {
          continue;
        }
      }
      if (i >= DICTHT_SIZE(d->size_exp[j])) {
        continue;
      }
      dict_entry *he = d->table[j][i];
      if (he == NULL) {
        emptylen++;
        if (emptylen >= 5 && emptylen > count) {
          i = dict_random_ulong() & maxsizemask;
          emptylen = 0;
        }
      } else {
        emptylen = 0;
        while (he != NULL) {
          *des++ = he;
          he = he->next;
          stored++;
          if (stored == count) {
            return (unsigned int)stored;
          }
        }
      }
    }
    i = (i + 1) & maxsizemask;
  }
  return (unsigned int)stored;
}

#define DICT_GET_FAIR_RANDOM_SAMPLES 20

dict_entry *dict_get_fair_random_key(dict *d) {
  dict_entry *entries[DICT_GET_FAIR_RANDOM_SAMPLES];
  unsigned int count =
      dict_get_some_keys(d, entries, DICT_GET_FAIR_RANDOM_SAMPLES);
  if (count == 0) {
    return dict_get_random_key(d);
  }
  return entries[dict_random_ulong() % count];
}

/* ------------------------------------------------------------------ */
/* Scan                                                                 */
/* ------------------------------------------------------------------ */

static inline unsigned long dict_rev_bits(unsigned long v) {
  unsigned long s = CHAR_BIT * sizeof(v);
  unsigned long mask = ~0UL;
  while ((s >>= 1) > 0) {
    mask ^= (mask << s);
    v = ((v >> s) & mask) | ((v << s) & ~mask);
  }
  return v;
}

static inline void dict_scan_bucket(dict_entry *de, dict_scan_function *fn,
                                    void *privdata) {
  while (de != NULL) {
    dict_entry *next = de->next;
    fn(privdata, de);
    de = next;
  }
}

/* The cursor counts with its bits reversed: incrementing the high bits
 * first means a bucket's expansions (when the table grows) or its merge
 * partner (when it shrinks) come later in the order, so no element that
 * stays in the dict is missed across resizes. */
unsigned long dict_scan(dict *d, unsigned long v, dict_scan_function *fn,
                        void *privdata) {
  if (dict_size(d) == 0) {
    return 0;
  }
  /* The callback may look keys up: no bucket may move meanwhile. */
  d->pause_rehash++;
  if (!dict_is_rehashing(d)) {
    unsigned long m0 = DICTHT_MASK(d->size_exp[0]);
    dict_scan_bucket(d->table[0][v & m0], fn, privdata);
    v |= ~m0;
    v = dict_rev_bits(v);
    v++;
    v = dict_rev_bits(v);
  } else {
    int t0 = 0, t1 = 1;
    if (DICTHT_SIZE(d->size_exp[0]) > DICTHT_SIZE(d->size_exp[1])) {
      t0 = 1;
      t1 = 0;
    }
    unsigned long m0 = DICTHT_MASK(d->size_exp[t0]);
    unsigned long m1 = DICTHT_MASK(d->size_exp[t1]);
    dict_scan_bucket(d->table[t0][v & m0], fn, privdata);
    /* Then every bucket of the larger table that expands this one. */
    do {
      dict_scan_bucket(d->table[t1][v & m1], fn, privdata);
      v |= ~m1;
      v = dict_rev_bits(v);
      v++;
      v = dict_rev_bits(v);
    } while (v & (m0 ^ m1));
  }
  d->pause_rehash--;
  return v;
}
