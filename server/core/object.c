/* object.c: reference-counted values (robj): creation, encodings, number
 * conversions with Redis's error texts, LRU/LFU bookkeeping.
 *
 * String encodings: INT keeps a long in ptr; EMBSTR puts robj, sds header
 * and bytes in one allocation (strings up to 44 bytes, as Redis); RAW points
 * at a separate sds. Integers 0..9999 are shared objects unless an LRU/LFU
 * maxmemory policy needs a per-key access clock. */
#include <math.h>

#include "server/base/zmalloc.h"
#include "server/core/server.h"

#define MAXMEMORY_FLAG_NO_SHARED_INTEGERS \
  (MAXMEMORY_FLAG_LRU | MAXMEMORY_FLAG_LFU)
#define LFU_INIT_VAL 5

/* ------------------------------------------------------------------ */
/* LRU / LFU clocks                                                     */
/* ------------------------------------------------------------------ */

unsigned int lru_clock(void) {
  return (unsigned int)((mstime() / LRU_CLOCK_RESOLUTION) & LRU_CLOCK_MAX);
}

/* object_lru_now returns the clock cron refreshes (server.lruclock); a
 * syscall per object creation would cost throughput for nothing, since the
 * resolution is one second and cron runs at least once per second. */
static inline unsigned int object_lru_now(void) {
  if (server.hz > 0 && 1000 / server.hz <= LRU_CLOCK_RESOLUTION &&
      server.lruclock != 0) {
    return server.lruclock;
  }
  return lru_clock();
}

static inline unsigned long lfu_time_in_minutes(void) {
  time_t now = cached_unixtime ? cached_unixtime : time(NULL);
  return ((unsigned long)now / 60) & 65535;
}

/* lfu_time_elapsed returns minutes since |ldt|, handling the 16-bit wrap. */
static unsigned long lfu_time_elapsed(unsigned long ldt) {
  unsigned long now = lfu_time_in_minutes();
  if (now >= ldt) {
    return now - ldt;
  }
  return 65535 - ldt + now;
}

static uint64_t object_rng_state = 0x2545F4914F6CDD1DULL;

static double object_random_unit(void) {
  uint64_t x = object_rng_state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  object_rng_state = x;
  return (double)(x >> 11) / (double)(1ULL << 53);
}

/* lfu_log_incr increments the 8-bit counter with probability falling as
 * it grows (logarithmic counter, lfu-log-factor). */
static uint8_t lfu_log_incr(uint8_t counter) {
  if (counter == 255) {
    return 255;
  }
  double r = object_random_unit();
  double baseval = (double)counter - LFU_INIT_VAL;
  if (baseval < 0) {
    baseval = 0;
  }
  double p = 1.0 / (baseval * server.lfu_log_factor + 1);
  if (r < p) {
    counter++;
  }
  return counter;
}

unsigned long lfu_decr_and_return(robj *o) {
  unsigned long ldt = o->lru >> 8;
  unsigned long counter = o->lru & 255;
  unsigned long num_periods =
      server.lfu_decay_time
          ? lfu_time_elapsed(ldt) / (unsigned long)server.lfu_decay_time
          : 0;
  if (num_periods) {
    counter = (num_periods > counter) ? 0 : counter - num_periods;
  }
  return counter;
}

int object_set_lru_or_lfu(robj *o, long long lfu_freq, long long lru_idle_s) {
  if (server.maxmemory_policy & MAXMEMORY_FLAG_LFU) {
    if (lfu_freq >= 0) {
      o->lru = (unsigned)((lfu_time_in_minutes() << 8) |
                          (unsigned)(lfu_freq > 255 ? 255 : lfu_freq));
      return 1;
    }
  } else if (lru_idle_s >= 0) {
    unsigned long long ticks =
        (unsigned long long)lru_idle_s * 1000 / LRU_CLOCK_RESOLUTION;
    unsigned long long clock = lru_clock();
    if (ticks >= clock) {
      clock += LRU_CLOCK_MAX;
      if (ticks > clock) {
        ticks = clock;
      }
    }
    o->lru = (unsigned)((clock - ticks) & LRU_CLOCK_MAX);
    return 1;
  }
  return 0;
}

void update_lfu(robj *o) {
  unsigned long counter = lfu_decr_and_return(o);
  counter = lfu_log_incr((uint8_t)counter);
  o->lru = (unsigned)((lfu_time_in_minutes() << 8) | counter);
}

unsigned long long estimate_object_idle_time(robj *o) {
  unsigned long long lruclock = object_lru_now();
  if (lruclock >= o->lru) {
    return (lruclock - o->lru) * LRU_CLOCK_RESOLUTION;
  }
  return (lruclock + (LRU_CLOCK_MAX - o->lru)) * LRU_CLOCK_RESOLUTION;
}

static inline unsigned object_initial_lru(void) {
  if (server.maxmemory_policy & MAXMEMORY_FLAG_LFU) {
    return (unsigned)((lfu_time_in_minutes() << 8) | LFU_INIT_VAL);
  }
  return object_lru_now();
}

/* ------------------------------------------------------------------ */
/* Creation                                                             */
/* ------------------------------------------------------------------ */

robj *create_object(int type, void *ptr) {
  robj *o = zmalloc(sizeof(*o));
  o->type = (unsigned)type;
  o->encoding = OBJ_ENCODING_RAW;
  o->ptr = ptr;
  o->refcount = 1;
  o->lru = object_initial_lru();
  return o;
}

robj *create_raw_string_object(const char *ptr, size_t len) {
  return create_object(OBJ_STRING, sds_new_len(ptr, len));
}

robj *create_embedded_string_object(const char *ptr, size_t len) {
  robj *o = zmalloc(sizeof(robj) + sds_embedded_size(len));
  o->type = OBJ_STRING;
  o->encoding = OBJ_ENCODING_EMBSTR;
  o->ptr = sds_embed(o + 1, ptr, len);
  o->refcount = 1;
  o->lru = object_initial_lru();
  return o;
}

robj *create_string_object(const char *ptr, size_t len) {
  if (len <= OBJ_ENCODING_EMBSTR_SIZE_LIMIT) {
    return create_embedded_string_object(ptr, len);
  }
  return create_raw_string_object(ptr, len);
}

static int object_shared_integers_allowed(void) {
  return server.maxmemory == 0 ||
         !(server.maxmemory_policy & MAXMEMORY_FLAG_NO_SHARED_INTEGERS);
}

/* |valueobj|: the object will be stored as a value, so with an LRU/LFU
 * policy it needs its own access clock and cannot be shared. */
static robj *create_string_object_from_long_long_with_options(long long value,
                                                              int valueobj) {
  if (object_shared_integers_allowed()) {
    valueobj = 0;
  }
  if (value >= 0 && value < OBJ_SHARED_INTEGERS && !valueobj &&
      shared.integers[value] != NULL) {
    return shared.integers[value]; /* shared: refcount is not counted */
  }
  if (value >= LONG_MIN && value <= LONG_MAX) {
    robj *o = create_object(OBJ_STRING, NULL);
    o->encoding = OBJ_ENCODING_INT;
    o->ptr = (void *)((long)value);
    return o;
  }
  return create_object(OBJ_STRING, sds_from_longlong(value));
}

robj *create_string_object_from_long_long(long long value) {
  return create_string_object_from_long_long_with_options(value, 0);
}

robj *create_string_object_from_long_long_for_value(long long value) {
  return create_string_object_from_long_long_with_options(value, 1);
}

robj *create_string_object_from_long_double(long double value,
                                            int humanfriendly) {
  char buf[MAX_LONG_DOUBLE_CHARS];
  int len = ld2string(buf, sizeof(buf), value,
                      humanfriendly ? LD_STR_HUMAN : LD_STR_AUTO);
  return create_string_object(buf, (size_t)len);
}

robj *dup_string_object(const robj *o) {
  switch (o->encoding) {
    case OBJ_ENCODING_RAW:
      return create_raw_string_object(o->ptr, sds_len(o->ptr));
    case OBJ_ENCODING_EMBSTR:
      return create_embedded_string_object(o->ptr, sds_len(o->ptr));
    case OBJ_ENCODING_INT: {
      robj *d = create_object(OBJ_STRING, NULL);
      d->encoding = OBJ_ENCODING_INT;
      d->ptr = o->ptr;
      return d;
    }
    default:
      server_panic("Wrong encoding.");
  }
  return NULL;
}

robj *make_object_shared(robj *o) {
  o->refcount = OBJ_SHARED_REFCOUNT;
  return o;
}

/* ------------------------------------------------------------------ */
/* Reference counting                                                   */
/* ------------------------------------------------------------------ */

void incr_ref_count(robj *o) {
  if (o->refcount < OBJ_SHARED_REFCOUNT) {
    o->refcount++;
  }
}

static void free_string_object(robj *o) {
  if (o->encoding == OBJ_ENCODING_RAW) {
    sds_free(o->ptr);
  }
}

/* The registered operations of the non-string types (object_type_ops). */
#define OBJECT_MAX_TYPES 8
static const object_type_ops *object_types[OBJECT_MAX_TYPES];

void object_register_type(int type, const object_type_ops *ops) {
  if (type <= OBJ_STRING || type >= OBJECT_MAX_TYPES || ops == NULL ||
      !ops->free_value || !ops->dup || !ops->compute_size) {
    server_panic("object_register_type: bad registration for type %d", type);
  }
  if (object_types[type] != NULL && object_types[type] != ops) {
    server_panic("object_register_type: type %d registered twice", type);
  }
  object_types[type] = ops;
}

const object_type_ops *object_type_ops_of(int type) {
  const object_type_ops *ops =
      type > OBJ_STRING && type < OBJECT_MAX_TYPES ? object_types[type] : NULL;
  if (ops == NULL) {
    server_panic("no operations registered for object type %d", type);
  }
  return ops;
}

int object_types_registered(void) {
  for (int t = OBJ_LIST; t <= OBJ_STREAM; t++) {
    if (t != 5 /* OBJ_MODULE */ && object_types[t] == NULL) {
      return 0;
    }
  }
  return 1;
}

static void free_typed_value(robj *o) {
  if (o->type == OBJ_STRING) {
    free_string_object(o);
  } else {
    object_type_ops_of(o->type)->free_value(o);
  }
}

void decr_ref_count(robj *o) {
  if (o->refcount == 1) {
    free_typed_value(o);
    zfree(o);
  } else {
    if (o->refcount <= 0) {
      server_panic("decr_ref_count against refcount <= 0");
    }
    if (o->refcount != OBJ_SHARED_REFCOUNT) {
      o->refcount--;
    }
  }
}

void decr_ref_count_void(void *o) { decr_ref_count(o); }

void dict_object_destructor(void *val) {
  if (val == NULL) {
    return;
  }
  decr_ref_count(val);
}

/* ------------------------------------------------------------------ */
/* Encoding                                                             */
/* ------------------------------------------------------------------ */

/* trim_string_object_if_needed drops a RAW string's slack when it is more
 * than 10% of its length (the query buffer may have over-allocated). */
static void trim_string_object_if_needed(robj *o) {
  if (o->encoding == OBJ_ENCODING_RAW &&
      sds_avail(o->ptr) > sds_len(o->ptr) / 10) {
    o->ptr = sds_remove_free_space(o->ptr);
  }
}

robj *try_object_encoding(robj *o) {
  if (o->type != OBJ_STRING || !sds_encoded_object(o)) {
    return o;
  }
  /* A shared object may be referenced from elsewhere (argv, other
   * keys): changing its encoding in place is not safe. */
  if (o->refcount > 1) {
    return o;
  }
  sds s = o->ptr;
  size_t len = sds_len(s);
  long value;
  if (len <= 20 && string2l(s, len, &value)) {
    if (object_shared_integers_allowed() && value >= 0 &&
        value < OBJ_SHARED_INTEGERS && shared.integers[value] != NULL) {
      decr_ref_count(o);
      return shared.integers[value];
    }
    if (o->encoding == OBJ_ENCODING_RAW) {
      sds_free(o->ptr);
      o->encoding = OBJ_ENCODING_INT;
      o->ptr = (void *)value;
      return o;
    }
    decr_ref_count(o);
    return create_string_object_from_long_long_for_value(value);
  }
  if (len <= OBJ_ENCODING_EMBSTR_SIZE_LIMIT) {
    if (o->encoding == OBJ_ENCODING_EMBSTR) {
      return o;
    }
    robj *emb = create_embedded_string_object(s, len);
    decr_ref_count(o);
    return emb;
  }
  trim_string_object_if_needed(o);
  return o;
}

robj *get_decoded_object(robj *o) {
  if (sds_encoded_object(o)) {
    incr_ref_count(o);
    return o;
  }
  if (o->type == OBJ_STRING && o->encoding == OBJ_ENCODING_INT) {
    char buf[LONG_STR_SIZE];
    int len = ll2string(buf, sizeof(buf), (long)o->ptr);
    return create_string_object(buf, (size_t)len);
  }
  server_panic("Unknown encoding type");
  return NULL;
}

size_t string_object_len(robj *o) {
  if (sds_encoded_object(o)) {
    return sds_len(o->ptr);
  }
  char buf[LONG_STR_SIZE];
  return (size_t)ll2string(buf, sizeof(buf), (long)o->ptr);
}

/* object_string_view gives the bytes of a string object, formatting an INT
 * into |buf| (at least LONG_STR_SIZE bytes). */
static const char *object_string_view(const robj *o, char *buf, size_t *len) {
  if (sds_encoded_object(o)) {
    *len = sds_len(o->ptr);
    return o->ptr;
  }
  *len = (size_t)ll2string(buf, LONG_STR_SIZE, (long)o->ptr);
  return buf;
}

int compare_string_objects(robj *a, robj *b) {
  if (a == b) {
    return 0;
  }
  char bufa[LONG_STR_SIZE], bufb[LONG_STR_SIZE];
  size_t alen, blen;
  const char *astr = object_string_view(a, bufa, &alen);
  const char *bstr = object_string_view(b, bufb, &blen);
  size_t minlen = alen < blen ? alen : blen;
  int cmp = memcmp(astr, bstr, minlen);
  if (cmp == 0) {
    return alen < blen ? -1 : (alen > blen ? 1 : 0);
  }
  return cmp;
}

int equal_string_objects(robj *a, robj *b) {
  if (a->encoding == OBJ_ENCODING_INT && b->encoding == OBJ_ENCODING_INT) {
    return a->ptr == b->ptr;
  }
  return compare_string_objects(a, b) == 0;
}

const char *str_encoding(int encoding) {
  switch (encoding) {
    case OBJ_ENCODING_RAW:
      return "raw";
    case OBJ_ENCODING_INT:
      return "int";
    case OBJ_ENCODING_HT:
      return "hashtable";
    case OBJ_ENCODING_INTSET:
      return "intset";
    case OBJ_ENCODING_SKIPLIST:
      return "skiplist";
    case OBJ_ENCODING_EMBSTR:
      return "embstr";
    case OBJ_ENCODING_QUICKLIST:
      return "quicklist";
    case OBJ_ENCODING_LISTPACK:
      return "listpack";
    case OBJ_ENCODING_STREAM:
      return "stream";
    default:
      return "unknown";
  }
}

const char *type_name(robj *o) {
  if (o == NULL) {
    return "none";
  }
  switch (o->type) {
    case OBJ_STRING:
      return "string";
    case OBJ_LIST:
      return "list";
    case OBJ_SET:
      return "set";
    case OBJ_ZSET:
      return "zset";
    case OBJ_HASH:
      return "hash";
    case OBJ_STREAM:
      return "stream";
    default:
      return "unknown";
  }
}

int check_type(client *c, robj *o, int type) {
  if (o != NULL && (int)o->type != type) {
    add_reply_error_object(c, shared.wrongtypeerr);
    return 1;
  }
  return 0;
}

size_t object_compute_size(robj *o, size_t samples) {
  if (o->type == OBJ_STRING) {
    if (o->encoding == OBJ_ENCODING_INT) {
      return sizeof(*o);
    }
    if (o->encoding == OBJ_ENCODING_RAW) {
      return sds_alloc_size(o->ptr) + sizeof(*o);
    }
    return zmalloc_size(o);
  }
  return object_type_ops_of(o->type)->compute_size(o, samples);
}

/* ------------------------------------------------------------------ */
/* Numbers                                                              */
/* ------------------------------------------------------------------ */

int get_double_from_object(const robj *o, double *target) {
  double value;
  if (o == NULL) {
    value = 0;
  } else if (sds_encoded_object(o)) {
    if (!string2d(o->ptr, sds_len(o->ptr), &value)) {
      return C_ERR;
    }
  } else if (o->encoding == OBJ_ENCODING_INT) {
    value = (double)(long)o->ptr;
  } else {
    server_panic("Unknown string encoding");
    return C_ERR;
  }
  *target = value;
  return C_OK;
}

int get_double_from_object_or_reply(client *c, robj *o, double *target,
                                    const char *msg) {
  double value;
  if (get_double_from_object(o, &value) != C_OK) {
    add_reply_error(c, msg != NULL ? msg : "value is not a valid float");
    return C_ERR;
  }
  *target = value;
  return C_OK;
}

int get_long_double_from_object(robj *o, long double *target) {
  long double value;
  if (o == NULL) {
    value = 0;
  } else if (sds_encoded_object(o)) {
    if (!string2ld(o->ptr, sds_len(o->ptr), &value)) {
      return C_ERR;
    }
  } else if (o->encoding == OBJ_ENCODING_INT) {
    value = (long double)(long)o->ptr;
  } else {
    server_panic("Unknown string encoding");
    return C_ERR;
  }
  *target = value;
  return C_OK;
}

int get_long_double_from_object_or_reply(client *c, robj *o,
                                         long double *target, const char *msg) {
  long double value;
  if (get_long_double_from_object(o, &value) != C_OK) {
    add_reply_error(c, msg != NULL ? msg : "value is not a valid float");
    return C_ERR;
  }
  *target = value;
  return C_OK;
}

int get_long_long_from_object(robj *o, long long *target) {
  long long value;
  if (o == NULL) {
    value = 0;
  } else if (sds_encoded_object(o)) {
    if (!string2ll(o->ptr, sds_len(o->ptr), &value)) {
      return C_ERR;
    }
  } else if (o->encoding == OBJ_ENCODING_INT) {
    value = (long)o->ptr;
  } else {
    server_panic("Unknown string encoding");
    return C_ERR;
  }
  if (target != NULL) {
    *target = value;
  }
  return C_OK;
}

int get_long_long_from_object_or_reply(client *c, robj *o, long long *target,
                                       const char *msg) {
  long long value;
  if (get_long_long_from_object(o, &value) != C_OK) {
    add_reply_error(
        c, msg != NULL ? msg : "value is not an integer or out of range");
    return C_ERR;
  }
  *target = value;
  return C_OK;
}

int get_long_from_object_or_reply(client *c, robj *o, long *target,
                                  const char *msg) {
  long long value;
  if (get_long_long_from_object_or_reply(c, o, &value, msg) != C_OK) {
    return C_ERR;
  }
  if (value < LONG_MIN || value > LONG_MAX) {
    add_reply_error(c, msg != NULL ? msg : "value is out of range");
    return C_ERR;
  }
  *target = (long)value;
  return C_OK;
}

int get_range_long_from_object_or_reply(client *c, robj *o, long min, long max,
                                        long *target, const char *msg) {
  if (get_long_from_object_or_reply(c, o, target, msg) != C_OK) {
    return C_ERR;
  }
  if (*target < min || *target > max) {
    if (msg != NULL) {
      add_reply_error(c, msg);
    } else {
      add_reply_error_format(
          c, "value is out of range, value must between %ld and %ld", min, max);
    }
    return C_ERR;
  }
  return C_OK;
}

int get_positive_long_from_object_or_reply(client *c, robj *o, long *target,
                                           const char *msg) {
  if (msg != NULL) {
    return get_range_long_from_object_or_reply(c, o, 0, LONG_MAX, target, msg);
  }
  return get_range_long_from_object_or_reply(
      c, o, 0, LONG_MAX, target, "value is out of range, must be positive");
}

int get_int_from_object_or_reply(client *c, robj *o, int *target,
                                 const char *msg) {
  long value;
  if (get_range_long_from_object_or_reply(c, o, INT_MIN, INT_MAX, &value,
                                          msg) != C_OK) {
    return C_ERR;
  }
  *target = (int)value;
  return C_OK;
}
