/* t_hash.c: the hash type and its commands (HSET ... HSCAN), Redis 7.0
 * semantics and reply texts. Encodings: see t_hash.h. */
#include "server/types/t_hash.h"

#include <math.h>
#include <strings.h>

#include "server/base/zmalloc.h"
#include "server/core/scan_common.h"
#include "server/ds/listpack.h"
#include "server/types/t_types_common.h"

/* HRANDFIELD with a positive count: above this share of the hash it is
 * cheaper to copy the hash and remove random entries (as Redis does). */
#define HRANDFIELD_SUB_STRATEGY_MUL 3
/* Random picks per reply chunk for negative counts on listpacks. */
#define HRANDFIELD_RANDOM_SAMPLE_LIMIT 1000

dict_type hash_dict_type = {
    dict_sds_hash,       NULL, NULL, dict_sds_key_compare, dict_sds_destructor,
    dict_sds_destructor, NULL};

/* ------------------------------------------------------------------ */
/* Type API                                                             */
/* ------------------------------------------------------------------ */

robj *hash_create_object(void) {
  robj *o = create_object(OBJ_HASH, lp_new(0));
  o->encoding = OBJ_ENCODING_LISTPACK;
  return o;
}

unsigned long hash_type_length(const robj *o) {
  if (o->encoding == OBJ_ENCODING_LISTPACK) {
    return lp_length(o->ptr) / 2;
  }
  return dict_size((const dict *)o->ptr);
}

void hash_type_convert_to_ht(robj *o) {
  if (o->encoding != OBJ_ENCODING_LISTPACK) {
    return;
  }
  unsigned char *lp = o->ptr;
  dict *d = dict_create(&hash_dict_type);
  dict_expand(d, lp_length(lp) / 2);
  unsigned char fbuf[LP_INTBUF_SIZE], vbuf[LP_INTBUF_SIZE];
  for (unsigned char *p = lp_first(lp); p != NULL;) {
    uint32_t flen, vlen;
    unsigned char *f = lp_get_string(p, &flen, fbuf);
    unsigned char *vp = lp_next(lp, p);
    server_assert(vp != NULL);
    unsigned char *v = lp_get_string(vp, &vlen, vbuf);
    sds field = sds_new_len(f, flen);
    sds value = sds_new_len(v, vlen);
    if (dict_add(d, field, value) != DICT_OK) {
      server_panic("listpack hash with a duplicate field");
    }
    p = lp_next(lp, vp);
  }
  lp_free(lp);
  o->ptr = d;
  o->encoding = OBJ_ENCODING_HT;
}

/* Convert before adding strings that Redis would not keep in a listpack. */
static void hash_try_conversion_for_lengths(robj *o, size_t a, size_t b) {
  if (o->encoding == OBJ_ENCODING_LISTPACK &&
      (a > server.hash_max_listpack_value ||
       b > server.hash_max_listpack_value ||
       !lp_safe_to_add(o->ptr, a + b + 32))) {
    hash_type_convert_to_ht(o);
  }
}

/* hash_try_conversion_argv: the HSET family checks every argument before
 * touching the hash, like Redis's hashTypeTryConversion. */
static void hash_try_conversion_argv(robj *o, robj **argv, int start, int end) {
  if (o->encoding != OBJ_ENCODING_LISTPACK) {
    return;
  }
  size_t sum = 0;
  for (int i = start; i <= end; i++) {
    if (!sds_encoded_object(argv[i])) {
      continue;
    }
    size_t len = sds_len(argv[i]->ptr);
    if (len > server.hash_max_listpack_value) {
      hash_type_convert_to_ht(o);
      return;
    }
    sum += len;
  }
  if (!lp_safe_to_add(o->ptr, sum)) {
    hash_type_convert_to_ht(o);
  }
}

/* Find the value entry of field in a listpack hash, or NULL. */
static unsigned char *hash_listpack_find_value(unsigned char *lp,
                                               const char *field,
                                               size_t field_len) {
  unsigned char *p = lp_first(lp);
  if (p == NULL) {
    return NULL;
  }
  p = lp_find(lp, p, (const unsigned char *)field, (uint32_t)field_len, 1);
  if (p == NULL) {
    return NULL;
  }
  return lp_next(lp, p);
}

int hash_type_set(robj *o, const char *field, size_t field_len,
                  const char *value, size_t value_len) {
  hash_try_conversion_for_lengths(o, field_len, value_len);
  if (o->encoding == OBJ_ENCODING_LISTPACK) {
    unsigned char *lp = o->ptr;
    unsigned char *vp = hash_listpack_find_value(lp, field, field_len);
    if (vp != NULL) {
      o->ptr = lp_replace(lp, &vp, (const unsigned char *)value,
                          (uint32_t)value_len);
      return 1;
    }
    lp = lp_append(lp, (const unsigned char *)field, (uint32_t)field_len);
    lp = lp_append(lp, (const unsigned char *)value, (uint32_t)value_len);
    o->ptr = lp;
    if (hash_type_length(o) > server.hash_max_listpack_entries) {
      hash_type_convert_to_ht(o);
    }
    return 0;
  }
  dict *d = o->ptr;
  sds key = sds_new_len(field, field_len);
  dict_entry *existing = NULL;
  dict_entry *de = dict_add_raw(d, key, &existing);
  if (de == NULL) {
    sds_free(key);
    sds_free(dict_get_val(existing));
    dict_set_val(d, existing, sds_new_len(value, value_len));
    return 1;
  }
  dict_set_val(d, de, sds_new_len(value, value_len));
  return 0;
}

int hash_type_delete(robj *o, const char *field, size_t field_len) {
  if (o->encoding == OBJ_ENCODING_LISTPACK) {
    unsigned char *lp = o->ptr;
    unsigned char *p = lp_first(lp);
    if (p == NULL) {
      return 0;
    }
    p = lp_find(lp, p, (const unsigned char *)field, (uint32_t)field_len, 1);
    if (p == NULL) {
      return 0;
    }
    o->ptr = lp_delete_range_with_entry(lp, &p, 2);
    return 1;
  }
  sds key = sds_new_len(field, field_len);
  int deleted = dict_delete(o->ptr, key) == DICT_OK;
  sds_free(key);
  if (deleted && dict_size((dict *)o->ptr) > 0) {
    /* Shrink sparse tables like Redis's htNeedsResize (fill < 10%). */
    dict *d = o->ptr;
    unsigned long slots = dict_slots(d);
    if (slots > 4 && dict_size(d) * 100 / slots < 10) {
      dict_resize(d);
    }
  }
  return deleted;
}

int hash_type_get(robj *o, const char *field, size_t field_len,
                  const char **value, size_t *value_len,
                  unsigned char ibuf[LP_INTBUF_SIZE]) {
  if (o->encoding == OBJ_ENCODING_LISTPACK) {
    unsigned char *vp = hash_listpack_find_value(o->ptr, field, field_len);
    if (vp == NULL) {
      return 0;
    }
    uint32_t len;
    *value = (const char *)lp_get_string(vp, &len, ibuf);
    *value_len = len;
    return 1;
  }
  sds key = sds_new_len(field, field_len);
  dict_entry *de = dict_find(o->ptr, key);
  sds_free(key);
  if (de == NULL) {
    return 0;
  }
  sds v = dict_get_val(de);
  *value = v;
  *value_len = sds_len(v);
  return 1;
}

void hash_type_foreach(robj *o, hash_foreach_fn *fn, void *privdata) {
  if (o->encoding == OBJ_ENCODING_LISTPACK) {
    unsigned char *lp = o->ptr;
    unsigned char fbuf[LP_INTBUF_SIZE], vbuf[LP_INTBUF_SIZE];
    for (unsigned char *p = lp_first(lp); p != NULL;) {
      uint32_t flen, vlen;
      unsigned char *f = lp_get_string(p, &flen, fbuf);
      unsigned char *vp = lp_next(lp, p);
      unsigned char *v = lp_get_string(vp, &vlen, vbuf);
      if (!fn(privdata, (const char *)f, flen, (const char *)v, vlen)) {
        return;
      }
      p = lp_next(lp, vp);
    }
    return;
  }
  dict_iterator di;
  dict_init_iterator(&di, o->ptr);
  dict_entry *de;
  while ((de = dict_next(&di)) != NULL) {
    sds f = dict_get_key(de), v = dict_get_val(de);
    if (!fn(privdata, f, sds_len(f), v, sds_len(v))) {
      break;
    }
  }
  dict_reset_iterator(&di);
}

/* ------------------------------------------------------------------ */
/* object_type_ops (core/db.h)                                            */
/* ------------------------------------------------------------------ */

static void free_hash_object(robj *o) {
  if (o->encoding == OBJ_ENCODING_LISTPACK) {
    lp_free(o->ptr);
  } else {
    dict_release(o->ptr);
  }
}

static int hash_dup_pair(void *privdata, const char *f, size_t flen,
                         const char *v, size_t vlen) {
  dict *d = privdata;
  dict_add(d, sds_new_len(f, flen), sds_new_len(v, vlen));
  return 1;
}

static robj *hash_type_dup(robj *o) {
  if (o->encoding == OBJ_ENCODING_LISTPACK) {
    robj *copy = create_object(OBJ_HASH, lp_dup(o->ptr));
    copy->encoding = OBJ_ENCODING_LISTPACK;
    return copy;
  }
  dict *d = dict_create(&hash_dict_type);
  dict_expand(d, dict_size((dict *)o->ptr));
  hash_type_foreach(o, hash_dup_pair, d);
  robj *copy = create_object(OBJ_HASH, d);
  copy->encoding = OBJ_ENCODING_HT;
  return copy;
}

static size_t hash_compute_size(robj *o, size_t samples) {
  size_t size = sizeof(*o);
  if (o->encoding == OBJ_ENCODING_LISTPACK) {
    return size + zmalloc_size(o->ptr);
  }
  dict *d = o->ptr;
  size += sizeof(dict) + dict_slots(d) * sizeof(dict_entry *);
  size_t n = dict_size(d);
  if (n == 0) {
    return size;
  }
  dict_iterator di;
  dict_init_iterator(&di, d);
  dict_entry *de;
  size_t measured = 0, bytes = 0;
  while ((de = dict_next(&di)) != NULL &&
         (samples == 0 || measured < samples)) {
    bytes += sizeof(dict_entry) + sds_alloc_size(dict_get_key(de)) +
             sds_alloc_size(dict_get_val(de));
    measured++;
  }
  dict_reset_iterator(&di);
  return size + (measured ? bytes / measured * n : 0);
}

/* ------------------------------------------------------------------ */
/* Commands                                                             */
/* ------------------------------------------------------------------ */

static robj *hash_lookup_write_or_create(client *c, robj *key) {
  robj *o = lookup_key_write(c->db, key);
  if (check_type(c, o, OBJ_HASH)) {
    return NULL;
  }
  if (o == NULL) {
    o = hash_create_object();
    db_add(c->db, key, o); /* db_add owns our reference */
  }
  return o;
}

/* Field and value arguments arrive as sds strings off the wire. */
#define ARG_PTR(o) ((const char *)(o)->ptr)
#define ARG_LEN(o) sds_len((o)->ptr)

static void hash_add_reply_value(client *c, robj *o, robj *field) {
  const char *v;
  size_t vlen;
  unsigned char ibuf[LP_INTBUF_SIZE];
  if (o == NULL ||
      !hash_type_get(o, ARG_PTR(field), ARG_LEN(field), &v, &vlen, ibuf)) {
    add_reply_null(c);
    return;
  }
  add_reply_bulk_cbuffer(c, v, vlen);
}

static void hash_hset_command(client *c) {
  if ((c->argc % 2) == 1) {
    add_reply_error_arity(c);
    return;
  }
  robj *o = hash_lookup_write_or_create(c, c->argv[1]);
  if (o == NULL) {
    return;
  }
  hash_try_conversion_argv(o, c->argv, 2, c->argc - 1);
  long created = 0;
  for (int i = 2; i < c->argc; i += 2) {
    created += !hash_type_set(o, ARG_PTR(c->argv[i]), ARG_LEN(c->argv[i]),
                              ARG_PTR(c->argv[i + 1]), ARG_LEN(c->argv[i + 1]));
  }
  /* HMSET (deprecated) replies +OK, HSET the number of new fields. */
  if (strcasecmp(c->cmd->declared_name, "hmset") != 0) {
    add_reply_long_long(c, created);
  } else {
    add_reply(c, shared.ok);
  }
  signal_modified_key(c, c->db, c->argv[1]);
  notify_keyspace_event(NOTIFY_HASH, "hset", c->argv[1], c->db->id);
  server.dirty += (c->argc - 2) / 2;
}

static void hash_hsetnx_command(client *c) {
  robj *o = hash_lookup_write_or_create(c, c->argv[1]);
  if (o == NULL) {
    return;
  }
  const char *v;
  size_t vlen;
  unsigned char ibuf[LP_INTBUF_SIZE];
  if (hash_type_get(o, ARG_PTR(c->argv[2]), ARG_LEN(c->argv[2]), &v, &vlen,
                    ibuf)) {
    add_reply(c, shared.czero);
    return;
  }
  hash_try_conversion_argv(o, c->argv, 2, 3);
  hash_type_set(o, ARG_PTR(c->argv[2]), ARG_LEN(c->argv[2]),
                ARG_PTR(c->argv[3]), ARG_LEN(c->argv[3]));
  add_reply(c, shared.cone);
  signal_modified_key(c, c->db, c->argv[1]);
  notify_keyspace_event(NOTIFY_HASH, "hset", c->argv[1], c->db->id);
  server.dirty++;
}

static void hash_hget_command(client *c) {
  robj *o = lookup_key_read_or_reply(c, c->argv[1], shared.null[c->resp]);
  if (o == NULL || check_type(c, o, OBJ_HASH)) {
    return;
  }
  hash_add_reply_value(c, o, c->argv[2]);
}

static void hash_hmget_command(client *c) {
  /* A missing key replies a null per field, so no _or_reply lookup. */
  robj *o = lookup_key_read(c->db, c->argv[1]);
  if (check_type(c, o, OBJ_HASH)) {
    return;
  }
  add_reply_array_len(c, c->argc - 2);
  for (int i = 2; i < c->argc; i++) {
    hash_add_reply_value(c, o, c->argv[i]);
  }
}

static void hash_hdel_command(client *c) {
  robj *o = lookup_key_write_or_reply(c, c->argv[1], shared.czero);
  if (o == NULL || check_type(c, o, OBJ_HASH)) {
    return;
  }
  type_remove_members(c, o, 2, hash_type_delete, hash_type_length, NOTIFY_HASH,
                      "hdel");
}

static void hash_hlen_command(client *c) {
  robj *o = lookup_key_read_or_reply(c, c->argv[1], shared.czero);
  if (o == NULL || check_type(c, o, OBJ_HASH)) {
    return;
  }
  add_reply_long_long(c, (long long)hash_type_length(o));
}

static void hash_hstrlen_command(client *c) {
  robj *o = lookup_key_read_or_reply(c, c->argv[1], shared.czero);
  if (o == NULL || check_type(c, o, OBJ_HASH)) {
    return;
  }
  const char *v;
  size_t vlen = 0;
  unsigned char ibuf[LP_INTBUF_SIZE];
  if (!hash_type_get(o, ARG_PTR(c->argv[2]), ARG_LEN(c->argv[2]), &v, &vlen,
                     ibuf)) {
    vlen = 0;
  }
  add_reply_long_long(c, (long long)vlen);
}

static void hash_hexists_command(client *c) {
  robj *o = lookup_key_read_or_reply(c, c->argv[1], shared.czero);
  if (o == NULL || check_type(c, o, OBJ_HASH)) {
    return;
  }
  const char *v;
  size_t vlen;
  unsigned char ibuf[LP_INTBUF_SIZE];
  int found = hash_type_get(o, ARG_PTR(c->argv[2]), ARG_LEN(c->argv[2]), &v,
                            &vlen, ibuf);
  add_reply(c, found ? shared.cone : shared.czero);
}

#define HASH_WANT_FIELDS 1
#define HASH_WANT_VALUES 2

typedef struct hash_reply_state {
  client *c;
  int flags;
} hash_reply_state;

static int hash_reply_pair(void *privdata, const char *f, size_t flen,
                           const char *v, size_t vlen) {
  hash_reply_state *st = privdata;
  if (st->flags & HASH_WANT_FIELDS) {
    add_reply_bulk_cbuffer(st->c, f, flen);
  }
  if (st->flags & HASH_WANT_VALUES) {
    add_reply_bulk_cbuffer(st->c, v, vlen);
  }
  return 1;
}

static void hash_getall_generic(client *c, int flags) {
  robj *empty = (flags == (HASH_WANT_FIELDS | HASH_WANT_VALUES))
                    ? shared.emptymap[c->resp]
                    : shared.emptyarray;
  robj *o = lookup_key_read_or_reply(c, c->argv[1], empty);
  if (o == NULL || check_type(c, o, OBJ_HASH)) {
    return;
  }
  long length = (long)hash_type_length(o);
  if (flags == (HASH_WANT_FIELDS | HASH_WANT_VALUES)) {
    add_reply_map_len(c, length);
  } else {
    add_reply_array_len(c, length);
  }
  hash_reply_state st = {c, flags};
  hash_type_foreach(o, hash_reply_pair, &st);
}

static void hash_hkeys_command(client *c) {
  hash_getall_generic(c, HASH_WANT_FIELDS);
}

static void hash_hvals_command(client *c) {
  hash_getall_generic(c, HASH_WANT_VALUES);
}

static void hash_hgetall_command(client *c) {
  hash_getall_generic(c, HASH_WANT_FIELDS | HASH_WANT_VALUES);
}

static void hash_hincrby_command(client *c) {
  long long incr, value = 0;
  if (get_long_long_from_object_or_reply(c, c->argv[3], &incr, NULL) != C_OK) {
    return;
  }
  robj *o = hash_lookup_write_or_create(c, c->argv[1]);
  if (o == NULL) {
    return;
  }
  const char *v;
  size_t vlen;
  unsigned char ibuf[LP_INTBUF_SIZE];
  if (hash_type_get(o, ARG_PTR(c->argv[2]), ARG_LEN(c->argv[2]), &v, &vlen,
                    ibuf)) {
    if (!string2ll(v, vlen, &value)) {
      add_reply_error(c, "hash value is not an integer");
      return;
    }
  }
  long long oldvalue = value;
  if ((incr < 0 && oldvalue < 0 && incr < (LLONG_MIN - oldvalue)) ||
      (incr > 0 && oldvalue > 0 && incr > (LLONG_MAX - oldvalue))) {
    add_reply_error(c, "increment or decrement would overflow");
    return;
  }
  value += incr;
  char buf[LONG_STR_SIZE];
  int len = ll2string(buf, sizeof(buf), value);
  hash_try_conversion_for_lengths(o, ARG_LEN(c->argv[2]), (size_t)len);
  hash_type_set(o, ARG_PTR(c->argv[2]), ARG_LEN(c->argv[2]), buf, (size_t)len);
  add_reply_long_long(c, value);
  signal_modified_key(c, c->db, c->argv[1]);
  notify_keyspace_event(NOTIFY_HASH, "hincrby", c->argv[1], c->db->id);
  server.dirty++;
}

static void hash_hincrbyfloat_command(client *c) {
  long double incr, value = 0;
  if (get_long_double_from_object_or_reply(c, c->argv[3], &incr, NULL) !=
      C_OK) {
    return;
  }
  if (isnan(incr) || isinf(incr)) {
    add_reply_error(c, "value is NaN or Infinity");
    return;
  }
  robj *o = hash_lookup_write_or_create(c, c->argv[1]);
  if (o == NULL) {
    return;
  }
  const char *v;
  size_t vlen;
  unsigned char ibuf[LP_INTBUF_SIZE];
  if (hash_type_get(o, ARG_PTR(c->argv[2]), ARG_LEN(c->argv[2]), &v, &vlen,
                    ibuf)) {
    if (vlen == 0 || vlen >= MAX_LONG_DOUBLE_CHARS ||
        !string2ld(v, vlen, &value)) {
      add_reply_error(c, "hash value is not a float");
      return;
    }
  }
  value += incr;
  if (isnan(value) || isinf(value)) {
    add_reply_error(c, "increment would produce NaN or Infinity");
    return;
  }
  char buf[MAX_LONG_DOUBLE_CHARS];
  int len = ld2string(buf, sizeof(buf), value, LD_STR_HUMAN);
  hash_type_set(o, ARG_PTR(c->argv[2]), ARG_LEN(c->argv[2]), buf, (size_t)len);
  add_reply_bulk_cbuffer(c, buf, (size_t)len);
  signal_modified_key(c, c->db, c->argv[1]);
  notify_keyspace_event(NOTIFY_HASH, "hincrbyfloat", c->argv[1], c->db->id);
  server.dirty++;
  /* Propagate as HSET of the result so that float formatting on a
   * replica cannot diverge. */
  robj *newobj = create_raw_string_object(buf, (size_t)len);
  robj *key = c->argv[1], *field = c->argv[2];
  incr_ref_count(key);
  incr_ref_count(field);
  rewrite_client_command_vector(c, 4, shared.hset, key, field, newobj);
  decr_ref_count(key);
  decr_ref_count(field);
  decr_ref_count(newobj);
}

/* ---- HRANDFIELD --------------------------------------------------- */

/* One field (and value) of an HT hash at random, as a pair of sds. */
static void hash_random_ht_entry(dict *d, sds *field, sds *value) {
  dict_entry *de = dict_get_fair_random_key(d);
  *field = dict_get_key(de);
  *value = dict_get_val(de);
}

static void hash_reply_pair_header(client *c, int withvalues) {
  if (withvalues && c->resp > 2) {
    add_reply_array_len(c, 2);
  }
}

static void hash_hrandfield_with_count(client *c, long l, int withvalues) {
  robj *o = lookup_key_read_or_reply(c, c->argv[1], shared.emptyarray);
  if (o == NULL || check_type(c, o, OBJ_HASH)) {
    return;
  }
  unsigned long size = hash_type_length(o);
  if (l == 0) {
    add_reply(c, shared.emptyarray);
    return;
  }
  /* Case 1: negative count: repetitions allowed, exactly -l picks. */
  if (l < 0) {
    unsigned long count = (unsigned long)(-l);
    if (withvalues && c->resp == 2) {
      add_reply_array_len(c, (long)(count * 2));
    } else {
      add_reply_array_len(c, (long)count);
    }
    if (o->encoding == OBJ_ENCODING_HT) {
      while (count--) {
        sds f, v;
        hash_random_ht_entry(o->ptr, &f, &v);
        hash_reply_pair_header(c, withvalues);
        add_reply_bulk_cbuffer(c, f, sds_len(f));
        if (withvalues) {
          add_reply_bulk_cbuffer(c, v, sds_len(v));
        }
        /* A huge count ends when the output buffer limit closes the
         * client rather than looping for ever (as Redis does). */
        if (c->flags & CLIENT_CLOSE_ASAP) {
          break;
        }
      }
      return;
    }
    unsigned int limit = count > HRANDFIELD_RANDOM_SAMPLE_LIMIT
                             ? HRANDFIELD_RANDOM_SAMPLE_LIMIT
                             : (unsigned int)count;
    lp_entry_ref *keys = zmalloc(sizeof(lp_entry_ref) * limit);
    lp_entry_ref *vals =
        withvalues ? zmalloc(sizeof(lp_entry_ref) * limit) : NULL;
    while (count && !(c->flags & CLIENT_CLOSE_ASAP)) {
      unsigned int sample = count > limit ? limit : (unsigned int)count;
      count -= sample;
      lp_random_pairs(o->ptr, sample, keys, vals);
      for (unsigned int i = 0; i < sample; i++) {
        hash_reply_pair_header(c, withvalues);
        add_reply_lp_entry_ref(c, &keys[i]);
        if (withvalues) {
          add_reply_lp_entry_ref(c, &vals[i]);
        }
      }
    }
    zfree(keys);
    zfree(vals);
    return;
  }

  unsigned long count = (unsigned long)l;
  /* Case 2: the whole hash. */
  if (count >= size) {
    if (withvalues && c->resp == 2) {
      add_reply_array_len(c, (long)(size * 2));
    } else {
      add_reply_array_len(c, (long)size);
    }
    hash_reply_state st = {
        c, HASH_WANT_FIELDS | (withvalues ? HASH_WANT_VALUES : 0)};
    if (withvalues && c->resp > 2) {
      /* RESP3 wants [field, value] pairs: walk by hand. */
      if (o->encoding == OBJ_ENCODING_LISTPACK) {
        unsigned char *lp = o->ptr;
        for (unsigned char *p = lp_first(lp); p; p = lp_next(lp, p)) {
          lp_entry_ref k, v;
          k.sval = lp_get_value(p, &k.slen, &k.lval);
          p = lp_next(lp, p);
          v.sval = lp_get_value(p, &v.slen, &v.lval);
          add_reply_array_len(c, 2);
          add_reply_lp_entry_ref(c, &k);
          add_reply_lp_entry_ref(c, &v);
        }
      } else {
        dict_iterator di;
        dict_init_iterator(&di, o->ptr);
        dict_entry *de;
        while ((de = dict_next(&di)) != NULL) {
          sds f = dict_get_key(de), v = dict_get_val(de);
          add_reply_array_len(c, 2);
          add_reply_bulk_cbuffer(c, f, sds_len(f));
          add_reply_bulk_cbuffer(c, v, sds_len(v));
        }
        dict_reset_iterator(&di);
      }
      return;
    }
    hash_type_foreach(o, hash_reply_pair, &st);
    return;
  }

  /* Case 3: listpack: a uniform distinct sample in one pass. */
  if (o->encoding == OBJ_ENCODING_LISTPACK) {
    if (withvalues && c->resp == 2) {
      add_reply_array_len(c, (long)(count * 2));
    } else {
      add_reply_array_len(c, (long)count);
    }
    lp_entry_ref *keys = zmalloc(sizeof(lp_entry_ref) * count);
    lp_entry_ref *vals = zmalloc(sizeof(lp_entry_ref) * count);
    unsigned int got =
        lp_random_pairs_unique(o->ptr, (unsigned int)count, keys, vals);
    server_assert(got == count);
    for (unsigned int i = 0; i < got; i++) {
      hash_reply_pair_header(c, withvalues);
      add_reply_lp_entry_ref(c, &keys[i]);
      if (withvalues) {
        add_reply_lp_entry_ref(c, &vals[i]);
      }
    }
    zfree(keys);
    zfree(vals);
    return;
  }

  /* Case 4: HT: collect distinct fields in a temporary dict. When the
   * count is close to the size, copy everything and remove at random;
   * otherwise add random picks until there are enough. */
  dict *d = o->ptr;
  static dict_type pick_type = {dict_sds_hash, NULL, NULL, dict_sds_key_compare,
                                NULL,          NULL, NULL};
  dict *picked = dict_create(&pick_type);
  dict_expand(picked, count);
  if (count * HRANDFIELD_SUB_STRATEGY_MUL > size) {
    dict_iterator di;
    dict_init_iterator(&di, d);
    dict_entry *de;
    while ((de = dict_next(&di)) != NULL) {
      dict_add(picked, dict_get_key(de), dict_get_val(de));
    }
    dict_reset_iterator(&di);
    while (dict_size(picked) > count) {
      dict_entry *victim = dict_get_fair_random_key(picked);
      dict_delete(picked, dict_get_key(victim));
    }
  } else {
    while (dict_size(picked) < count) {
      sds f, v;
      hash_random_ht_entry(d, &f, &v);
      dict_add(picked, f, v);
    }
  }
  if (withvalues && c->resp == 2) {
    add_reply_array_len(c, (long)(count * 2));
  } else {
    add_reply_array_len(c, (long)count);
  }
  dict_iterator di;
  dict_init_iterator(&di, picked);
  dict_entry *de;
  while ((de = dict_next(&di)) != NULL) {
    sds f = dict_get_key(de), v = dict_get_val(de);
    hash_reply_pair_header(c, withvalues);
    add_reply_bulk_cbuffer(c, f, sds_len(f));
    if (withvalues) {
      add_reply_bulk_cbuffer(c, v, sds_len(v));
    }
  }
  dict_reset_iterator(&di);
  dict_release(picked);
}

static void hash_hrandfield_command(client *c) {
  if (c->argc >= 3) {
    long l;
    int withvalues;
    if (type_parse_rand_count_or_reply(c, "withvalues", &l, &withvalues) !=
        C_OK) {
      return;
    }
    hash_hrandfield_with_count(c, l, withvalues);
    return;
  }
  robj *o = lookup_key_read_or_reply(c, c->argv[1], shared.null[c->resp]);
  if (o == NULL || check_type(c, o, OBJ_HASH)) {
    return;
  }
  if (o->encoding == OBJ_ENCODING_HT) {
    sds f, v;
    hash_random_ht_entry(o->ptr, &f, &v);
    add_reply_bulk_cbuffer(c, f, sds_len(f));
    return;
  }
  lp_entry_ref k;
  lp_random_pair(o->ptr, hash_type_length(o), &k, NULL);
  add_reply_lp_entry_ref(c, &k);
}

/* ---- HSCAN -------------------------------------------------------- */

static void hash_scan_emit(scan_result *r, const dict_entry *de) {
  scan_result_add_sds_copy(r, dict_get_key(de));
  scan_result_add_sds_copy(r, dict_get_val(de));
}

static void hash_hscan_command(client *c) {
  unsigned long cursor;
  if (scan_parse_cursor_or_reply(c, c->argv[2], &cursor) != C_OK) {
    return;
  }
  robj *o = lookup_key_read_or_reply(c, c->argv[1], shared.emptyscan);
  if (o == NULL || check_type(c, o, OBJ_HASH)) {
    return;
  }
  scan_object_command(c, o, cursor,
                      o->encoding == OBJ_ENCODING_HT ? o->ptr : NULL,
                      hash_scan_emit);
}

/* ------------------------------------------------------------------ */
/* Command table                                                        */
/* ------------------------------------------------------------------ */
#define HASH_READ_FAST \
  (ACL_CATEGORY_READ | ACL_CATEGORY_HASH | ACL_CATEGORY_FAST)
#define HASH_READ_SLOW \
  (ACL_CATEGORY_READ | ACL_CATEGORY_HASH | ACL_CATEGORY_SLOW)
#define HASH_WRITE_FAST \
  (ACL_CATEGORY_WRITE | ACL_CATEGORY_HASH | ACL_CATEGORY_FAST)

#define HASH_CMD(name_, summary_, since_, proc_, arity_, flags_, acl_) \
  {                                                                    \
    .declared_name = name_, .summary = summary_, .since = since_,      \
    .group = "hash", .proc = proc_, .arity = arity_, .flags = flags_,  \
    .acl_categories = acl_, .firstkey = 1, .lastkey = 1, .keystep = 1  \
  }

redis_command hash_commands[] = {
    HASH_CMD("hset", "Set the string value of a hash field", "2.0.0",
             hash_hset_command, -4, CMD_WRITE | CMD_DENYOOM | CMD_FAST,
             HASH_WRITE_FAST),
    HASH_CMD("hsetnx",
             "Set the value of a hash field, only if the field does not exist",
             "2.0.0", hash_hsetnx_command, 4,
             CMD_WRITE | CMD_DENYOOM | CMD_FAST, HASH_WRITE_FAST),
    HASH_CMD("hget", "Get the value of a hash field", "2.0.0",
             hash_hget_command, 3, CMD_READONLY | CMD_FAST, HASH_READ_FAST),
    HASH_CMD("hmget", "Get the values of all the given hash fields", "2.0.0",
             hash_hmget_command, -3, CMD_READONLY | CMD_FAST, HASH_READ_FAST),
    HASH_CMD("hmset", "Set multiple hash fields to multiple values", "2.0.0",
             hash_hset_command, -4, CMD_WRITE | CMD_DENYOOM | CMD_FAST,
             HASH_WRITE_FAST),
    HASH_CMD("hdel", "Delete one or more hash fields", "2.0.0",
             hash_hdel_command, -3, CMD_WRITE | CMD_FAST, HASH_WRITE_FAST),
    HASH_CMD("hlen", "Get the number of fields in a hash", "2.0.0",
             hash_hlen_command, 2, CMD_READONLY | CMD_FAST, HASH_READ_FAST),
    HASH_CMD("hstrlen", "Get the length of the value of a hash field", "3.2.0",
             hash_hstrlen_command, 3, CMD_READONLY | CMD_FAST, HASH_READ_FAST),
    HASH_CMD("hexists", "Determine if a hash field exists", "2.0.0",
             hash_hexists_command, 3, CMD_READONLY | CMD_FAST, HASH_READ_FAST),
    HASH_CMD("hkeys", "Get all the fields in a hash", "2.0.0",
             hash_hkeys_command, 2, CMD_READONLY, HASH_READ_SLOW),
    HASH_CMD("hvals", "Get all the values in a hash", "2.0.0",
             hash_hvals_command, 2, CMD_READONLY, HASH_READ_SLOW),
    HASH_CMD("hgetall", "Get all the fields and values in a hash", "2.0.0",
             hash_hgetall_command, 2, CMD_READONLY, HASH_READ_SLOW),
    HASH_CMD("hincrby",
             "Increment the integer value of a hash field by the given number",
             "2.0.0", hash_hincrby_command, 4,
             CMD_WRITE | CMD_DENYOOM | CMD_FAST, HASH_WRITE_FAST),
    HASH_CMD("hincrbyfloat",
             "Increment the float value of a hash field by the given amount",
             "2.6.0", hash_hincrbyfloat_command, 4,
             CMD_WRITE | CMD_DENYOOM | CMD_FAST, HASH_WRITE_FAST),
    HASH_CMD("hrandfield", "Get one or multiple random fields from a hash",
             "6.2.0", hash_hrandfield_command, -2, CMD_READONLY,
             HASH_READ_SLOW),
    HASH_CMD("hscan", "Incrementally iterate hash fields and associated values",
             "2.8.0", hash_hscan_command, -3, CMD_READONLY, HASH_READ_SLOW),
    {0}};

/* A hash-table hash costs one free per field, a listpack one (Redis). */
static size_t hash_free_effort(robj *o) {
  return o->encoding == OBJ_ENCODING_HT ? dict_size((dict *)o->ptr) : 1;
}

static const object_type_ops hash_type_ops = {
    .name = "hash",
    .free_value = free_hash_object,
    .dup = hash_type_dup,
    .compute_size = hash_compute_size,
    .free_effort = hash_free_effort,
};

void hash_type_register(void) {
  object_register_type(OBJ_HASH, &hash_type_ops);
}
