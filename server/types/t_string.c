/* t_string.c: the string commands (GET, SET and friends, counters, ranges,
 * LCS) with Redis 7.0 semantics, replies and error texts.
 *
 * Reference counting follows the keyspace API in server/core/db.h: set_key() takes
 * its own reference to the value (the caller keeps and releases its own);
 * the argv objects belong to the client.
 *
 * GET and SET are the benchmark path: each does exactly one keyspace lookup
 * (two for SET ... GET, as Redis) and no allocation beyond the value. */
#include <math.h>
#include <strings.h>

#include "server/base/zmalloc.h"
#include "server/core/server.h"

/* Flags of the extended SET / GETEX argument parser (Redis's OBJ_*). */
#define STRING_SET_NO_FLAGS 0
#define STRING_SET_NX (1 << 0)
#define STRING_SET_XX (1 << 1)
#define STRING_EX (1 << 2)
#define STRING_PX (1 << 3)
#define STRING_KEEPTTL (1 << 4)
#define STRING_SET_GET (1 << 5)
#define STRING_EXAT (1 << 6)
#define STRING_PXAT (1 << 7)
#define STRING_PERSIST (1 << 8)

#define STRING_UNIT_SECONDS 0
#define STRING_UNIT_MILLISECONDS 1

#define STRING_COMMAND_SET 0
#define STRING_COMMAND_GET 1

/* LCS keeps a (len(a)+1) x (len(b)+1) table of uint32: strings longer than
 * this cannot be indexed by it. */
#define LCS_MAX_STRING_LEN (UINT32_MAX - 1)

static const char string_too_long_error[] =
    "string exceeds maximum allowed size (proto-max-bulk-len)";

/* string_check_length: 1 if a string of size + append bytes is allowed
 * (proto-max-bulk-len, and what an sds can hold), else replies and returns
 * 0. The master link is trusted, as in Redis. */
static int string_check_length(client *c, long long size, long long append) {
  if (c->flags & CLIENT_MASTER) {
    return 1;
  }
  /* Unsigned addition: overflow is detected below instead of being UB. */
  long long total = (long long)((uint64_t)size + (uint64_t)append);
  if (total > server.proto_max_bulk_len || total < size || total < append ||
      (unsigned long long)total > SDS_MAX_LEN) {
    add_reply_error(c, string_too_long_error);
    return 0;
  }
  return 1;
}

/* option_is: case-insensitive comparison of an argument with a keyword. */
static inline int option_is(const char *opt, const char *keyword) {
  return strcasecmp(opt, keyword) == 0;
}

/* string_parse_extended_args parses the options of SET (from argv[3]) or
 * GETEX (from argv[2]) with exactly Redis's acceptance rules: conflicting
 * options and options of the other command are syntax errors, a repeated
 * option is accepted. Returns C_OK or replies and returns C_ERR. */
static int string_parse_extended_args(client *c, int *flags, int *unit,
                                      robj **expire, int command_type) {
  int j = command_type == STRING_COMMAND_GET ? 2 : 3;
  for (; j < c->argc; j++) {
    const char *opt = c->argv[j]->ptr;
    robj *next = (j == c->argc - 1) ? NULL : c->argv[j + 1];
    int f = *flags;
    int is_set = command_type == STRING_COMMAND_SET;

    if (is_set && option_is(opt, "nx") && !(f & STRING_SET_XX)) {
      *flags |= STRING_SET_NX;
    } else if (is_set && option_is(opt, "xx") && !(f & STRING_SET_NX)) {
      *flags |= STRING_SET_XX;
    } else if (is_set && option_is(opt, "get")) {
      *flags |= STRING_SET_GET;
    } else if (is_set && option_is(opt, "keepttl") &&
               !(f & (STRING_PERSIST | STRING_EX | STRING_EXAT | STRING_PX |
                      STRING_PXAT))) {
      *flags |= STRING_KEEPTTL;
    } else if (!is_set && option_is(opt, "persist") &&
               !(f & (STRING_EX | STRING_EXAT | STRING_PX | STRING_PXAT |
                      STRING_KEEPTTL))) {
      *flags |= STRING_PERSIST;
    } else if (option_is(opt, "ex") && next &&
               !(f & (STRING_KEEPTTL | STRING_PERSIST | STRING_EXAT |
                      STRING_PX | STRING_PXAT))) {
      *flags |= STRING_EX;
      *expire = next;
      j++;
    } else if (option_is(opt, "px") && next &&
               !(f & (STRING_KEEPTTL | STRING_PERSIST | STRING_EX |
                      STRING_EXAT | STRING_PXAT))) {
      *flags |= STRING_PX;
      *unit = STRING_UNIT_MILLISECONDS;
      *expire = next;
      j++;
    } else if (option_is(opt, "exat") && next &&
               !(f & (STRING_KEEPTTL | STRING_PERSIST | STRING_EX | STRING_PX |
                      STRING_PXAT))) {
      *flags |= STRING_EXAT;
      *expire = next;
      j++;
    } else if (option_is(opt, "pxat") && next &&
               !(f & (STRING_KEEPTTL | STRING_PERSIST | STRING_EX |
                      STRING_EXAT | STRING_PX))) {
      *flags |= STRING_PXAT;
      *unit = STRING_UNIT_MILLISECONDS;
      *expire = next;
      j++;
    } else {
      add_reply_error_object(c, shared.syntaxerr);
      return C_ERR;
    }
  }
  return C_OK;
}

/* string_expire_ms_or_reply converts an EX/PX/EXAT/PXAT argument into an
 * absolute unix time in milliseconds. Relative forms are added to the
 * current time. Errors are Redis's: not an integer, or "invalid expire time"
 * for non-positive values and overflow. */
static int string_expire_ms_or_reply(client *c, robj *expire, int flags,
                                     int unit, long long *out_ms) {
  long long ms;
  if (get_long_long_from_object_or_reply(c, expire, &ms, NULL) != C_OK) {
    return C_ERR;
  }
  if (ms <= 0 || (unit == STRING_UNIT_SECONDS && ms > LLONG_MAX / 1000)) {
    add_reply_error_expire_time(c);
    return C_ERR;
  }
  if (unit == STRING_UNIT_SECONDS) {
    ms *= 1000;
  }
  if (flags & (STRING_PX | STRING_EX)) {
    long long now = mstime();
    if (ms > LLONG_MAX - now) {
      add_reply_error_expire_time(c);
      return C_ERR;
    }
    ms += now;
  }
  *out_ms = ms;
  return C_OK;
}

/* string_get_generic replies with the string at argv[1] (or null). Returns
 * C_ERR only when the key holds another type (WRONGTYPE was sent). */
static int string_get_generic(client *c) {
  robj *o = lookup_key_read_or_reply(c, c->argv[1], shared.null[c->resp]);
  if (o == NULL) {
    return C_OK;
  }
  if (check_type(c, o, OBJ_STRING)) {
    return C_ERR;
  }
  add_reply_bulk(c, o);
  return C_OK;
}

/* string_set_generic implements SET, SETNX, SETEX and PSETEX. ok_reply and
 * abort_reply default to +OK and null. */
static void string_set_generic(client *c, int flags, robj *key, robj *val,
                               robj *expire, int unit, robj *ok_reply,
                               robj *abort_reply) {
  long long when_ms = 0;
  if (expire &&
      string_expire_ms_or_reply(c, expire, flags, unit, &when_ms) != C_OK) {
    return;
  }
  if ((flags & STRING_SET_GET) && string_get_generic(c) == C_ERR) {
    return;
  }

  int found = lookup_key_write(c->db, key) != NULL;
  if (((flags & STRING_SET_NX) && found) ||
      ((flags & STRING_SET_XX) && !found)) {
    if (!(flags & STRING_SET_GET)) {
      add_reply(c, abort_reply ? abort_reply : shared.null[c->resp]);
    }
    return;
  }

  int setkey_flags = (flags & STRING_KEEPTTL) ? SETKEY_KEEPTTL : 0;
  setkey_flags |= found ? SETKEY_ALREADY_EXIST : SETKEY_DOESNT_EXIST;
  set_key(c, c->db, key, val, setkey_flags);
  server.dirty++;
  notify_keyspace_event(NOTIFY_STRING, "set", key, c->db->id);

  if (expire) {
    set_expire(c, c->db, key, when_ms);
    notify_keyspace_event(NOTIFY_GENERIC, "expire", key, c->db->id);
  }
  if (!(flags & STRING_SET_GET)) {
    add_reply(c, ok_reply ? ok_reply : shared.ok);
  }
  if (expire) {
    /* Propagate an absolute time so replicas and the AOF agree. Done last:
     * key and val may be released by the rewrite once the new argv holds
     * its own references. */
    robj *when_obj = create_string_object_from_long_long(when_ms);
    rewrite_client_command_vector(c, 5, shared.set, key, val, shared.pxat,
                                  when_obj);
    decr_ref_count(when_obj);
  }
}

/* SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL] */
static void string_set_command(client *c) {
  robj *expire = NULL;
  int unit = STRING_UNIT_SECONDS;
  int flags = STRING_SET_NO_FLAGS;
  if (c->argc > 3 && string_parse_extended_args(c, &flags, &unit, &expire,
                                                STRING_COMMAND_SET) != C_OK) {
    return;
  }
  c->argv[2] = try_object_encoding(c->argv[2]);
  string_set_generic(c, flags, c->argv[1], c->argv[2], expire, unit, NULL,
                     NULL);
}

static void string_setnx_command(client *c) {
  c->argv[2] = try_object_encoding(c->argv[2]);
  string_set_generic(c, STRING_SET_NX, c->argv[1], c->argv[2], NULL, 0,
                     shared.cone, shared.czero);
}

static void string_setex_command(client *c) {
  c->argv[3] = try_object_encoding(c->argv[3]);
  string_set_generic(c, STRING_EX, c->argv[1], c->argv[3], c->argv[2],
                     STRING_UNIT_SECONDS, NULL, NULL);
}

static void string_psetex_command(client *c) {
  c->argv[3] = try_object_encoding(c->argv[3]);
  string_set_generic(c, STRING_PX, c->argv[1], c->argv[3], c->argv[2],
                     STRING_UNIT_MILLISECONDS, NULL, NULL);
}

static void string_get_command(client *c) { string_get_generic(c); }

/* GETEX key [EX s|PX ms|EXAT ts|PXAT ms-ts|PERSIST] */
static void string_getex_command(client *c) {
  robj *expire = NULL;
  int unit = STRING_UNIT_SECONDS;
  int flags = STRING_SET_NO_FLAGS;
  if (string_parse_extended_args(c, &flags, &unit, &expire,
                                 STRING_COMMAND_GET) != C_OK) {
    return;
  }
  robj *o = lookup_key_read_or_reply(c, c->argv[1], shared.null[c->resp]);
  if (o == NULL) {
    return;
  }
  if (check_type(c, o, OBJ_STRING)) {
    return;
  }
  long long when_ms = 0;
  if (expire &&
      string_expire_ms_or_reply(c, expire, flags, unit, &when_ms) != C_OK) {
    return;
  }
  /* Reply before the value can be deleted below. */
  add_reply_bulk(c, o);

  if ((flags & (STRING_PXAT | STRING_EXAT)) && check_already_expired(when_ms)) {
    int lazy = server.lazyfree_lazy_expire;
    int deleted = lazy ? db_async_delete(c->db, c->argv[1])
                       : db_sync_delete(c->db, c->argv[1]);
    server_assert(deleted);
    robj *key = c->argv[1];
    incr_ref_count(key);
    rewrite_client_command_vector(c, 2, lazy ? shared.unlink : shared.del, key);
    signal_modified_key(c, c->db, key);
    notify_keyspace_event(NOTIFY_GENERIC, "del", key, c->db->id);
    server.dirty++;
    decr_ref_count(key);
  } else if (expire) {
    set_expire(c, c->db, c->argv[1], when_ms);
    robj *key = c->argv[1];
    incr_ref_count(key);
    robj *when_obj = create_string_object_from_long_long(when_ms);
    rewrite_client_command_vector(c, 3, shared.pexpireat, key, when_obj);
    decr_ref_count(when_obj);
    signal_modified_key(c, c->db, key);
    notify_keyspace_event(NOTIFY_GENERIC, "expire", key, c->db->id);
    server.dirty++;
    decr_ref_count(key);
  } else if (flags & STRING_PERSIST) {
    if (remove_expire(c->db, c->argv[1])) {
      robj *key = c->argv[1];
      incr_ref_count(key);
      signal_modified_key(c, c->db, key);
      rewrite_client_command_vector(c, 2, shared.persist, key);
      notify_keyspace_event(NOTIFY_GENERIC, "persist", key, c->db->id);
      server.dirty++;
      decr_ref_count(key);
    }
  }
}

static void string_getdel_command(client *c) {
  if (string_get_generic(c) == C_ERR) {
    return;
  }
  int lazy = server.lazyfree_lazy_user_del;
  int deleted = lazy ? db_async_delete(c->db, c->argv[1])
                     : db_sync_delete(c->db, c->argv[1]);
  if (deleted) {
    robj *key = c->argv[1];
    incr_ref_count(key);
    rewrite_client_command_vector(c, 2, lazy ? shared.unlink : shared.del, key);
    signal_modified_key(c, c->db, key);
    notify_keyspace_event(NOTIFY_GENERIC, "del", key, c->db->id);
    server.dirty++;
    decr_ref_count(key);
  }
}

static void string_getset_command(client *c) {
  if (string_get_generic(c) == C_ERR) {
    return;
  }
  c->argv[2] = try_object_encoding(c->argv[2]);
  set_key(c, c->db, c->argv[1], c->argv[2], 0);
  notify_keyspace_event(NOTIFY_STRING, "set", c->argv[1], c->db->id);
  server.dirty++;
}

/* GETRANGE / SUBSTR key start end: inclusive, negative from the end. */
static void string_getrange_command(client *c) {
  long long start, end;
  if (get_long_long_from_object_or_reply(c, c->argv[2], &start, NULL) != C_OK ||
      get_long_long_from_object_or_reply(c, c->argv[3], &end, NULL) != C_OK) {
    return;
  }
  robj *o = lookup_key_read_or_reply(c, c->argv[1], shared.emptybulk);
  if (o == NULL) {
    return;
  }
  if (check_type(c, o, OBJ_STRING)) {
    return;
  }
  char llbuf[LONG_STR_SIZE];
  const char *str;
  long long len;
  if (o->encoding == OBJ_ENCODING_INT) {
    str = llbuf;
    len = ll2string(llbuf, sizeof(llbuf), (long)o->ptr);
  } else {
    str = o->ptr;
    len = (long long)sds_len(o->ptr);
  }
  if (start < 0 && end < 0 && start > end) {
    add_reply(c, shared.emptybulk);
    return;
  }
  /* len is small, so len + (negative) cannot overflow. */
  if (start < 0) {
    start = len + start;
  }
  if (end < 0) {
    end = len + end;
  }
  if (start < 0) {
    start = 0;
  }
  if (end < 0) {
    end = 0;
  }
  if (end >= len) {
    end = len - 1;
  }
  if (start > end || len == 0) {
    add_reply(c, shared.emptybulk);
  } else {
    add_reply_bulk_cbuffer(c, str + start, (size_t)(end - start + 1));
  }
}

/* SETRANGE key offset value */
static void string_setrange_command(client *c) {
  long offset;
  sds value = c->argv[3]->ptr;
  size_t value_len = sds_len(value);
  if (get_long_from_object_or_reply(c, c->argv[2], &offset, NULL) != C_OK) {
    return;
  }
  if (offset < 0) {
    add_reply_error(c, "offset is out of range");
    return;
  }
  robj *o = lookup_key_write(c->db, c->argv[1]);
  if (o == NULL) {
    if (value_len == 0) {
      add_reply(c, shared.czero);
      return;
    }
    if (!string_check_length(c, offset, (long long)value_len)) {
      return;
    }
    o = create_object(OBJ_STRING,
                      sds_new_len(NULL, (size_t)offset + value_len));
    set_key(c, c->db, c->argv[1], o, SETKEY_DOESNT_EXIST | SETKEY_NO_SIGNAL);
    decr_ref_count(o); /* the keyspace holds it now */
  } else {
    if (check_type(c, o, OBJ_STRING)) {
      return;
    }
    size_t olen = string_object_len(o);
    if (value_len == 0) {
      add_reply_long_long(c, (long long)olen);
      return;
    }
    if (!string_check_length(c, offset, (long long)value_len)) {
      return;
    }
    o = db_unshare_string_value(c->db, c->argv[1], o);
  }
  o->ptr = sds_grow_zero(o->ptr, (size_t)offset + value_len);
  memcpy((char *)o->ptr + offset, value, value_len);
  signal_modified_key(c, c->db, c->argv[1]);
  notify_keyspace_event(NOTIFY_STRING, "setrange", c->argv[1], c->db->id);
  server.dirty++;
  add_reply_long_long(c, (long long)sds_len(o->ptr));
}

static void string_mget_command(client *c) {
  add_reply_array_len(c, c->argc - 1);
  for (int j = 1; j < c->argc; j++) {
    robj *o = lookup_key_read(c->db, c->argv[j]);
    if (o == NULL || o->type != OBJ_STRING) {
      add_reply_null(c);
    } else {
      add_reply_bulk(c, o);
    }
  }
}

static void string_mset_generic(client *c, int nx) {
  if ((c->argc % 2) == 0) {
    add_reply_error_arity(c);
    return;
  }
  /* MSETNX sets nothing when any key exists. */
  if (nx) {
    for (int j = 1; j < c->argc; j += 2) {
      if (lookup_key_write(c->db, c->argv[j]) != NULL) {
        add_reply(c, shared.czero);
        return;
      }
    }
  }
  /* No SETKEY_DOESNT_EXIST even for MSETNX: a key may repeat in argv. */
  for (int j = 1; j < c->argc; j += 2) {
    c->argv[j + 1] = try_object_encoding(c->argv[j + 1]);
    set_key(c, c->db, c->argv[j], c->argv[j + 1], 0);
    notify_keyspace_event(NOTIFY_STRING, "set", c->argv[j], c->db->id);
  }
  server.dirty += (c->argc - 1) / 2;
  add_reply(c, nx ? shared.cone : shared.ok);
}

static void string_mset_command(client *c) { string_mset_generic(c, 0); }
static void string_msetnx_command(client *c) { string_mset_generic(c, 1); }

static void string_incr_decr_generic(client *c, long long incr) {
  robj *o = lookup_key_write(c->db, c->argv[1]);
  long long value = 0;
  if (o != NULL) {
    if (check_type(c, o, OBJ_STRING)) {
      return;
    }
    if (get_long_long_from_object_or_reply(c, o, &value, NULL) != C_OK) {
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

  /* Update in place when nobody else holds the object and the result is
   * not one of the shared integers. */
  if (o && o->refcount == 1 && o->encoding == OBJ_ENCODING_INT &&
      (value < 0 || value >= OBJ_SHARED_INTEGERS) && value >= LONG_MIN &&
      value <= LONG_MAX) {
    o->ptr = (void *)((long)value);
    signal_modified_key(c, c->db, c->argv[1]);
  } else {
    robj *fresh = create_string_object_from_long_long_for_value(value);
    set_key(c, c->db, c->argv[1], fresh,
            o ? (SETKEY_ALREADY_EXIST | SETKEY_KEEPTTL) : SETKEY_DOESNT_EXIST);
    decr_ref_count(fresh);
  }
  notify_keyspace_event(NOTIFY_STRING, "incrby", c->argv[1], c->db->id);
  server.dirty++;
  add_reply_long_long(c, value);
}

static void string_incr_command(client *c) { string_incr_decr_generic(c, 1); }
static void string_decr_command(client *c) { string_incr_decr_generic(c, -1); }

static void string_incrby_command(client *c) {
  long long incr;
  if (get_long_long_from_object_or_reply(c, c->argv[2], &incr, NULL) != C_OK) {
    return;
  }
  string_incr_decr_generic(c, incr);
}

static void string_decrby_command(client *c) {
  long long incr;
  if (get_long_long_from_object_or_reply(c, c->argv[2], &incr, NULL) != C_OK) {
    return;
  }
  /* -LLONG_MIN does not exist. */
  if (incr == LLONG_MIN) {
    add_reply_error(c, "decrement would overflow");
    return;
  }
  string_incr_decr_generic(c, -incr);
}

static void string_incrbyfloat_command(client *c) {
  long double incr, value = 0;
  robj *o = lookup_key_write(c->db, c->argv[1]);
  if (o != NULL) {
    if (check_type(c, o, OBJ_STRING)) {
      return;
    }
    if (get_long_double_from_object_or_reply(c, o, &value, NULL) != C_OK) {
      return;
    }
  }
  if (get_long_double_from_object_or_reply(c, c->argv[2], &incr, NULL) !=
      C_OK) {
    return;
  }
  value += incr;
  if (isnan(value) || isinf(value)) {
    add_reply_error(c, "increment would produce NaN or Infinity");
    return;
  }
  robj *fresh = create_string_object_from_long_double(value, 1);
  set_key(c, c->db, c->argv[1], fresh,
          (o ? (SETKEY_ALREADY_EXIST | SETKEY_KEEPTTL) : SETKEY_DOESNT_EXIST));
  notify_keyspace_event(NOTIFY_STRING, "incrbyfloat", c->argv[1], c->db->id);
  server.dirty++;
  add_reply_bulk(c, fresh);
  /* Replicate as SET with the final value so float formatting differences
   * cannot make replicas diverge. */
  robj *key = c->argv[1];
  incr_ref_count(key);
  rewrite_client_command_vector(c, 4, shared.set, key, fresh, shared.keepttl);
  decr_ref_count(key);
  decr_ref_count(fresh);
}

static void string_append_command(client *c) {
  size_t totlen;
  robj *o = lookup_key_write(c->db, c->argv[1]);
  if (o == NULL) {
    c->argv[2] = try_object_encoding(c->argv[2]);
    set_key(c, c->db, c->argv[1], c->argv[2],
            SETKEY_DOESNT_EXIST | SETKEY_NO_SIGNAL);
    totlen = string_object_len(c->argv[2]);
  } else {
    if (check_type(c, o, OBJ_STRING)) {
      return;
    }
    /* The argument is always sds encoded (never INT): it came off the
     * wire. */
    robj *append = c->argv[2];
    size_t append_len = string_object_len(append);
    if (!string_check_length(c, (long long)string_object_len(o),
                             (long long)append_len)) {
      return;
    }
    o = db_unshare_string_value(c->db, c->argv[1], o);
    if (sds_encoded_object(append)) {
      o->ptr = sds_cat_len(o->ptr, append->ptr, append_len);
    } else {
      char buf[LONG_STR_SIZE];
      int n = ll2string(buf, sizeof(buf), (long)append->ptr);
      o->ptr = sds_cat_len(o->ptr, buf, (size_t)n);
    }
    totlen = sds_len(o->ptr);
  }
  signal_modified_key(c, c->db, c->argv[1]);
  notify_keyspace_event(NOTIFY_STRING, "append", c->argv[1], c->db->id);
  server.dirty++;
  add_reply_long_long(c, (long long)totlen);
}

static void string_strlen_command(client *c) {
  robj *o = lookup_key_read_or_reply(c, c->argv[1], shared.czero);
  if (o == NULL) {
    return;
  }
  if (check_type(c, o, OBJ_STRING)) {
    return;
  }
  add_reply_long_long(c, (long long)string_object_len(o));
}

/* LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN] */
static void string_lcs_command(client *c) {
  long long minmatchlen = 0;
  int getlen = 0, getidx = 0, withmatchlen = 0;
  uint32_t *dp = NULL;
  sds result = NULL;

  robj *obja = lookup_key_read(c->db, c->argv[1]);
  robj *objb = lookup_key_read(c->db, c->argv[2]);
  if ((obja && obja->type != OBJ_STRING) ||
      (objb && objb->type != OBJ_STRING)) {
    add_reply_error(c, "The specified keys must contain string values");
    return;
  }
  obja = obja ? get_decoded_object(obja) : create_string_object("", 0);
  objb = objb ? get_decoded_object(objb) : create_string_object("", 0);
  const char *a = obja->ptr;
  const char *b = objb->ptr;

  for (int j = 3; j < c->argc; j++) {
    const char *opt = c->argv[j]->ptr;
    int moreargs = (c->argc - 1) - j;
    if (option_is(opt, "IDX")) {
      getidx = 1;
    } else if (option_is(opt, "LEN")) {
      getlen = 1;
    } else if (option_is(opt, "WITHMATCHLEN")) {
      withmatchlen = 1;
    } else if (option_is(opt, "MINMATCHLEN") && moreargs) {
      if (get_long_long_from_object_or_reply(c, c->argv[j + 1], &minmatchlen,
                                             NULL) != C_OK) {
        goto cleanup;
      }
      if (minmatchlen < 0) {
        minmatchlen = 0;
      }
      j++;
    } else {
      add_reply_error_object(c, shared.syntaxerr);
      goto cleanup;
    }
  }
  if (getidx && getlen) {
    add_reply_error(
        c, "If you want both the length and indexes, please just use IDX.");
    goto cleanup;
  }
  if (sds_len(obja->ptr) >= LCS_MAX_STRING_LEN ||
      sds_len(objb->ptr) >= LCS_MAX_STRING_LEN) {
    add_reply_error(c, "String too long for LCS");
    goto cleanup;
  }

  uint32_t alen = (uint32_t)sds_len(obja->ptr);
  uint32_t blen = (uint32_t)sds_len(objb->ptr);
#define LCS(A, B) dp[(B) + ((size_t)(A) * (blen + 1))]
  /* The table is transient but may be huge: it is bounded by
   * proto-max-bulk-len like any other string. */
  unsigned long long cells = (unsigned long long)(alen + 1) * (blen + 1);
  unsigned long long bytes = cells * sizeof(uint32_t);
  if (bytes < SIZE_MAX && bytes / cells == sizeof(uint32_t)) {
    if (bytes > (unsigned long long)server.proto_max_bulk_len) {
      add_reply_error(c,
                      "Insufficient memory, transient memory for LCS "
                      "exceeds proto-max-bulk-len");
      goto cleanup;
    }
    dp = ztrymalloc((size_t)bytes);
  }
  if (dp == NULL) {
    add_reply_error(
        c, "Insufficient memory, failed allocating transient memory for LCS");
    goto cleanup;
  }

  for (uint32_t i = 0; i <= alen; i++) {
    for (uint32_t j = 0; j <= blen; j++) {
      if (i == 0 || j == 0) {
        LCS(i, j) = 0;
      } else if (a[i - 1] == b[j - 1]) {
        LCS(i, j) = LCS(i - 1, j - 1) + 1;
      } else {
        uint32_t lcs1 = LCS(i - 1, j);
        uint32_t lcs2 = LCS(i, j - 1);
        LCS(i, j) = lcs1 > lcs2 ? lcs1 : lcs2;
      }
    }
  }

  /* Walk back from the end: rebuild the LCS string and the ranges. */
  uint32_t idx = LCS(alen, blen);
  void *arraylenptr = NULL;
  uint32_t arange_start = alen; /* alen: no range in progress */
  uint32_t arange_end = 0, brange_start = 0, brange_end = 0;
  int computelcs = getidx || !getlen;
  if (computelcs) {
    result = sds_new_len(NULL, idx);
  }
  long arraylen = 0;
  if (getidx) {
    add_reply_map_len(c, 2);
    add_reply_bulk_cstring(c, "matches");
    arraylenptr = add_reply_deferred_len(c);
  }
  uint32_t i = alen, j = blen;
  while (computelcs && i > 0 && j > 0) {
    int emit_range = 0;
    if (a[i - 1] == b[j - 1]) {
      result[idx - 1] = a[i - 1];
      if (arange_start == alen) {
        arange_start = i - 1;
        arange_end = i - 1;
        brange_start = j - 1;
        brange_end = j - 1;
      } else if (arange_start == i && brange_start == j) {
        /* Contiguous with the current range: extend it backward. */
        arange_start--;
        brange_start--;
      } else {
        emit_range = 1;
      }
      if (arange_start == 0 || brange_start == 0) {
        emit_range = 1;
      }
      idx--;
      i--;
      j--;
    } else {
      uint32_t lcs1 = LCS(i - 1, j);
      uint32_t lcs2 = LCS(i, j - 1);
      if (lcs1 > lcs2) {
        i--;
      } else {
        j--;
      }
      if (arange_start != alen) {
        emit_range = 1;
      }
    }
    uint32_t match_len = arange_end - arange_start + 1;
    if (emit_range) {
      if (minmatchlen == 0 || match_len >= minmatchlen) {
        if (arraylenptr) {
          add_reply_array_len(c, 2 + withmatchlen);
          add_reply_array_len(c, 2);
          add_reply_long_long(c, arange_start);
          add_reply_long_long(c, arange_end);
          add_reply_array_len(c, 2);
          add_reply_long_long(c, brange_start);
          add_reply_long_long(c, brange_end);
          if (withmatchlen) {
            add_reply_long_long(c, match_len);
          }
          arraylen++;
        }
      }
      arange_start = alen;
    }
  }

  if (arraylenptr) {
    add_reply_bulk_cstring(c, "len");
    add_reply_long_long(c, LCS(alen, blen));
    set_deferred_array_len(c, arraylenptr, arraylen);
  } else if (getlen) {
    add_reply_long_long(c, LCS(alen, blen));
  } else {
    add_reply_bulk_sds(c, result);
    result = NULL;
  }
#undef LCS

cleanup:
  sds_free(result);
  zfree(dp);
  decr_ref_count(obja);
  decr_ref_count(objb);
}

/* Arity, flags, ACL categories and key positions as COMMAND INFO of Redis
 * 7.0 prints them. */
#define STRING_READ_FAST \
  (ACL_CATEGORY_READ | ACL_CATEGORY_STRING | ACL_CATEGORY_FAST)
#define STRING_READ_SLOW \
  (ACL_CATEGORY_READ | ACL_CATEGORY_STRING | ACL_CATEGORY_SLOW)
#define STRING_WRITE_FAST \
  (ACL_CATEGORY_WRITE | ACL_CATEGORY_STRING | ACL_CATEGORY_FAST)
#define STRING_WRITE_SLOW \
  (ACL_CATEGORY_WRITE | ACL_CATEGORY_STRING | ACL_CATEGORY_SLOW)

#define STRING_CMD(name_, summary_, since_, proc_, arity_, flags_, acl_, \
                   first_, last_, step_)                                 \
  {                                                                      \
    .declared_name = name_, .summary = summary_, .since = since_,        \
    .group = "string", .proc = proc_, .arity = arity_, .flags = flags_,  \
    .acl_categories = acl_, .firstkey = first_, .lastkey = last_,        \
    .keystep = step_                                                     \
  }

redis_command string_commands[] = {
    STRING_CMD("get", "Get the value of a key", "1.0.0", string_get_command, 2,
               CMD_READONLY | CMD_FAST, STRING_READ_FAST, 1, 1, 1),
    STRING_CMD("set", "Set the string value of a key", "1.0.0",
               string_set_command, -3, CMD_WRITE | CMD_DENYOOM,
               STRING_WRITE_SLOW, 1, 1, 1),
    STRING_CMD("mget", "Get the values of all the given keys", "1.0.0",
               string_mget_command, -2, CMD_READONLY | CMD_FAST,
               STRING_READ_FAST, 1, -1, 1),
    STRING_CMD("mset", "Set multiple keys to multiple values", "1.0.1",
               string_mset_command, -3, CMD_WRITE | CMD_DENYOOM,
               STRING_WRITE_SLOW, 1, -1, 2),
    STRING_CMD("msetnx",
               "Set multiple keys to multiple values, only if none of the "
               "keys exist",
               "1.0.1", string_msetnx_command, -3, CMD_WRITE | CMD_DENYOOM,
               STRING_WRITE_SLOW, 1, -1, 2),
    STRING_CMD("setnx",
               "Set the value of a key, only if the key does not "
               "exist",
               "1.0.0", string_setnx_command, 3,
               CMD_WRITE | CMD_DENYOOM | CMD_FAST, STRING_WRITE_FAST, 1, 1, 1),
    STRING_CMD("setex", "Set the value and expiration of a key", "2.0.0",
               string_setex_command, 4, CMD_WRITE | CMD_DENYOOM,
               STRING_WRITE_SLOW, 1, 1, 1),
    STRING_CMD("psetex",
               "Set the value and expiration in milliseconds of a key", "2.6.0",
               string_psetex_command, 4, CMD_WRITE | CMD_DENYOOM,
               STRING_WRITE_SLOW, 1, 1, 1),
    STRING_CMD("getset",
               "Set the string value of a key and return its old "
               "value",
               "1.0.0", string_getset_command, 3,
               CMD_WRITE | CMD_DENYOOM | CMD_FAST, STRING_WRITE_FAST, 1, 1, 1),
    STRING_CMD("getdel", "Get the value of a key and delete the key", "6.2.0",
               string_getdel_command, 2, CMD_WRITE | CMD_FAST,
               STRING_WRITE_FAST, 1, 1, 1),
    STRING_CMD("getex",
               "Get the value of a key and optionally set its expiration",
               "6.2.0", string_getex_command, -2, CMD_WRITE | CMD_FAST,
               STRING_WRITE_FAST, 1, 1, 1),
    STRING_CMD("append", "Append a value to a key", "2.0.0",
               string_append_command, 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST,
               STRING_WRITE_FAST, 1, 1, 1),
    STRING_CMD("strlen", "Get the length of the value stored in a key", "2.2.0",
               string_strlen_command, 2, CMD_READONLY | CMD_FAST,
               STRING_READ_FAST, 1, 1, 1),
    STRING_CMD("incr", "Increment the integer value of a key by one", "1.0.0",
               string_incr_command, 2, CMD_WRITE | CMD_DENYOOM | CMD_FAST,
               STRING_WRITE_FAST, 1, 1, 1),
    STRING_CMD("decr", "Decrement the integer value of a key by one", "1.0.0",
               string_decr_command, 2, CMD_WRITE | CMD_DENYOOM | CMD_FAST,
               STRING_WRITE_FAST, 1, 1, 1),
    STRING_CMD("incrby",
               "Increment the integer value of a key by the given amount",
               "1.0.0", string_incrby_command, 3,
               CMD_WRITE | CMD_DENYOOM | CMD_FAST, STRING_WRITE_FAST, 1, 1, 1),
    STRING_CMD("decrby",
               "Decrement the integer value of a key by the given number",
               "1.0.0", string_decrby_command, 3,
               CMD_WRITE | CMD_DENYOOM | CMD_FAST, STRING_WRITE_FAST, 1, 1, 1),
    STRING_CMD("incrbyfloat",
               "Increment the float value of a key by the given amount",
               "2.6.0", string_incrbyfloat_command, 3,
               CMD_WRITE | CMD_DENYOOM | CMD_FAST, STRING_WRITE_FAST, 1, 1, 1),
    STRING_CMD("getrange", "Get a substring of the string stored at a key",
               "2.4.0", string_getrange_command, 4, CMD_READONLY,
               STRING_READ_SLOW, 1, 1, 1),
    STRING_CMD("setrange",
               "Overwrite part of a string at key starting at the specified "
               "offset",
               "2.2.0", string_setrange_command, 4, CMD_WRITE | CMD_DENYOOM,
               STRING_WRITE_SLOW, 1, 1, 1),
    STRING_CMD("substr", "Get a substring of the string stored at a key",
               "1.0.0", string_getrange_command, 4, CMD_READONLY,
               STRING_READ_SLOW, 1, 1, 1),
    STRING_CMD("lcs", "Find longest common substring", "7.0.0",
               string_lcs_command, -3, CMD_READONLY, STRING_READ_SLOW, 1, 2, 1),
    {0},
};
