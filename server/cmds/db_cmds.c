/* db_cmds.c: the generic keyspace commands (DEL ... SWAPDB) and their
 * table. Semantics and reply texts follow Redis 7.0. */
#include <ctype.h>
#include <errno.h>
#include <strings.h>

#include "server/base/zmalloc.h"
#include "server/core/scan_common.h"
#include "server/core/server.h"

/* ------------------------------------------------------------------ */
/* DEL UNLINK EXISTS TYPE TOUCH                                         */
/* ------------------------------------------------------------------ */

static void del_generic_command(client *c, int lazy) {
  long long numdel = 0;
  for (int j = 1; j < c->argc; j++) {
    expire_if_needed(c->db, c->argv[j]);
    int deleted = lazy ? db_async_delete(c->db, c->argv[j])
                       : db_sync_delete(c->db, c->argv[j]);
    if (deleted) {
      signal_modified_key(c, c->db, c->argv[j]);
      notify_keyspace_event(NOTIFY_GENERIC, "del", c->argv[j], c->db->id);
      server.dirty++;
      numdel++;
    }
  }
  add_reply_long_long(c, numdel);
}

static void del_command(client *c) {
  del_generic_command(c, server.lazyfree_lazy_user_del);
}

static void unlink_command(client *c) { del_generic_command(c, 1); }

static void exists_command(client *c) {
  long long count = 0;
  for (int j = 1; j < c->argc; j++) {
    if (lookup_key_read_with_flags(c->db, c->argv[j], LOOKUP_NOTOUCH)) {
      count++;
    }
  }
  add_reply_long_long(c, count);
}

static void type_command(client *c) {
  robj *o = lookup_key_read_with_flags(c->db, c->argv[1], LOOKUP_NOTOUCH);
  add_reply_status(c, type_name(o));
}

static void touch_command(client *c) {
  long long touched = 0;
  for (int j = 1; j < c->argc; j++) {
    if (lookup_key_read(c->db, c->argv[j]) != NULL) {
      touched++;
    }
  }
  add_reply_long_long(c, touched);
}

/* ------------------------------------------------------------------ */
/* EXPIRE family, TTL family, PERSIST                                   */
/* ------------------------------------------------------------------ */

#define EXPIRE_NX (1 << 0)
#define EXPIRE_XX (1 << 1)
#define EXPIRE_GT (1 << 2)
#define EXPIRE_LT (1 << 3)

#define UNIT_SECONDS 0
#define UNIT_MILLISECONDS 1

static int parse_expire_flags_or_reply(client *c, int *flags) {
  int nx = 0, xx = 0, gt = 0, lt = 0;
  for (int j = 3; j < c->argc; j++) {
    const char *opt = c->argv[j]->ptr;
    if (!strcasecmp(opt, "nx")) {
      *flags |= EXPIRE_NX;
      nx = 1;
    } else if (!strcasecmp(opt, "xx")) {
      *flags |= EXPIRE_XX;
      xx = 1;
    } else if (!strcasecmp(opt, "gt")) {
      *flags |= EXPIRE_GT;
      gt = 1;
    } else if (!strcasecmp(opt, "lt")) {
      *flags |= EXPIRE_LT;
      lt = 1;
    } else {
      add_reply_error_format(c, "Unsupported option %s", opt);
      return C_ERR;
    }
  }
  if ((nx && xx) || (nx && gt) || (nx && lt)) {
    add_reply_error(
        c, "NX and XX, GT or LT options at the same time are not compatible");
    return C_ERR;
  }
  if (gt && lt) {
    add_reply_error(c, "GT and LT options at the same time are not compatible");
    return C_ERR;
  }
  return C_OK;
}

/* expire_generic_command: |basetime| is added to the argument (0 for the
 * *AT forms), |unit| says whether the argument is in seconds. */
static void expire_generic_command(client *c, long long basetime, int unit) {
  robj *key = c->argv[1];
  long long when;
  int flag = 0;

  if (parse_expire_flags_or_reply(c, &flag) != C_OK) {
    return;
  }
  if (get_long_long_from_object_or_reply(c, c->argv[2], &when, NULL) != C_OK) {
    return;
  }
  /* Negative values are allowed, overflow is not. */
  if (unit == UNIT_SECONDS) {
    if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) {
      add_reply_error_expire_time(c);
      return;
    }
    when *= 1000;
  }
  if (when > LLONG_MAX - basetime) {
    add_reply_error_expire_time(c);
    return;
  }
  when += basetime;

  if (lookup_key_write(c->db, key) == NULL) {
    add_reply(c, shared.czero);
    return;
  }
  if (flag) {
    long long current = get_expire(c->db, key);
    if ((flag & EXPIRE_NX) && current != -1) {
      add_reply(c, shared.czero);
      return;
    }
    if ((flag & EXPIRE_XX) && current == -1) {
      add_reply(c, shared.czero);
      return;
    }
    /* No TTL counts as infinite: GT never passes, LT always does. */
    if ((flag & EXPIRE_GT) && (when <= current || current == -1)) {
      add_reply(c, shared.czero);
      return;
    }
    if ((flag & EXPIRE_LT) && current != -1 && when >= current) {
      add_reply(c, shared.czero);
      return;
    }
  }
  if (check_already_expired(when)) {
    int deleted = server.lazyfree_lazy_expire ? db_async_delete(c->db, key)
                                              : db_sync_delete(c->db, key);
    server_assert(deleted);
    server.dirty++;
    /* Propagated as the deletion it was (Redis 7.0). */
    rewrite_client_command_vector(
        c, 2, server.lazyfree_lazy_expire ? shared.unlink : shared.del, key);
    signal_modified_key(c, c->db, key);
    notify_keyspace_event(NOTIFY_GENERIC, "del", key, c->db->id);
    add_reply(c, shared.cone);
    return;
  }
  set_expire(c, c->db, key, when);
  add_reply(c, shared.cone);
  /* Propagated as PEXPIREAT with the absolute time, so that replaying the
   * AOF later gives the same deadline (Redis 7.0). */
  if (strcasecmp(c->argv[0]->ptr, "pexpireat") != 0) {
    rewrite_client_command_argument(c, 0, shared.pexpireat);
  }
  if (basetime != 0 || unit == UNIT_SECONDS) {
    robj *when_obj = create_string_object_from_long_long(when);
    rewrite_client_command_argument(c, 2, when_obj);
    decr_ref_count(when_obj);
  }
  signal_modified_key(c, c->db, key);
  notify_keyspace_event(NOTIFY_GENERIC, "expire", key, c->db->id);
  server.dirty++;
}

static void expire_command(client *c) {
  expire_generic_command(c, cached_mstime, UNIT_SECONDS);
}

static void expireat_command(client *c) {
  expire_generic_command(c, 0, UNIT_SECONDS);
}

static void pexpire_command(client *c) {
  expire_generic_command(c, cached_mstime, UNIT_MILLISECONDS);
}

static void pexpireat_command(client *c) {
  expire_generic_command(c, 0, UNIT_MILLISECONDS);
}

static void ttl_generic_command(client *c, int output_ms, int output_abs) {
  long long ttl = -1;
  if (lookup_key_read_with_flags(c->db, c->argv[1], LOOKUP_NOTOUCH) == NULL) {
    add_reply_long_long(c, -2);
    return;
  }
  long long expire = get_expire(c->db, c->argv[1]);
  if (expire != -1) {
    ttl = output_abs ? expire : expire - cached_mstime;
    if (ttl < 0) {
      ttl = 0;
    }
  }
  if (ttl == -1) {
    add_reply_long_long(c, -1);
  } else {
    /* ttl >= 0 here: round in unsigned arithmetic so a TTL near LLONG_MAX
     * does not overflow (Redis prints the exactly rounded value). */
    add_reply_long_long(
        c,
        output_ms ? ttl : (long long)(((unsigned long long)ttl + 500) / 1000));
  }
}

static void ttl_command(client *c) { ttl_generic_command(c, 0, 0); }
static void pttl_command(client *c) { ttl_generic_command(c, 1, 0); }
static void expiretime_command(client *c) { ttl_generic_command(c, 0, 1); }
static void pexpiretime_command(client *c) { ttl_generic_command(c, 1, 1); }

static void persist_command(client *c) {
  if (lookup_key_write(c->db, c->argv[1]) == NULL) {
    add_reply(c, shared.czero);
    return;
  }
  if (remove_expire(c->db, c->argv[1])) {
    signal_modified_key(c, c->db, c->argv[1]);
    notify_keyspace_event(NOTIFY_GENERIC, "persist", c->argv[1], c->db->id);
    add_reply(c, shared.cone);
    server.dirty++;
  } else {
    add_reply(c, shared.czero);
  }
}

/* ------------------------------------------------------------------ */
/* RENAME RENAMENX MOVE COPY                                            */
/* ------------------------------------------------------------------ */

static void rename_generic_command(client *c, int nx) {
  int samekey = compare_string_objects(c->argv[1], c->argv[2]) == 0;
  robj *o = lookup_key_write_or_reply(c, c->argv[1], shared.nokeyerr);
  if (o == NULL) {
    return;
  }
  if (samekey) {
    add_reply(c, nx ? shared.czero : shared.ok);
    return;
  }
  incr_ref_count(o);
  long long expire = get_expire(c->db, c->argv[1]);
  if (lookup_key_write(c->db, c->argv[2]) != NULL) {
    if (nx) {
      decr_ref_count(o);
      add_reply(c, shared.czero);
      return;
    }
    db_delete(c->db, c->argv[2]);
  }
  db_add(c->db, c->argv[2], o);
  if (expire != -1) {
    set_expire(c, c->db, c->argv[2], expire);
  }
  db_delete(c->db, c->argv[1]);
  signal_modified_key(c, c->db, c->argv[1]);
  signal_modified_key(c, c->db, c->argv[2]);
  notify_keyspace_event(NOTIFY_GENERIC, "rename_from", c->argv[1], c->db->id);
  notify_keyspace_event(NOTIFY_GENERIC, "rename_to", c->argv[2], c->db->id);
  server.dirty++;
  add_reply(c, nx ? shared.cone : shared.ok);
}

static void rename_command(client *c) { rename_generic_command(c, 0); }
static void renamenx_command(client *c) { rename_generic_command(c, 1); }

/* db_by_index_or_reply resolves a DB argument for MOVE/COPY. */
static redis_db *db_by_index_or_reply(client *c, robj *arg) {
  int dbid;
  if (get_int_from_object_or_reply(c, arg, &dbid, NULL) != C_OK) {
    return NULL;
  }
  if (dbid < 0 || dbid >= server.dbnum) {
    add_reply_error(c, "DB index is out of range");
    return NULL;
  }
  return &server.db[dbid];
}

static void move_command(client *c) {
  redis_db *src = c->db;
  redis_db *dst = db_by_index_or_reply(c, c->argv[2]);
  if (dst == NULL) {
    return;
  }
  if (src == dst) {
    add_reply_error_object(c, shared.sameobjecterr);
    return;
  }
  robj *o = lookup_key_write(src, c->argv[1]);
  if (o == NULL) {
    add_reply(c, shared.czero);
    return;
  }
  long long expire = get_expire(src, c->argv[1]);
  if (lookup_key_write(dst, c->argv[1]) != NULL) {
    add_reply(c, shared.czero);
    return;
  }
  db_add(dst, c->argv[1], o);
  if (expire != -1) {
    set_expire(c, dst, c->argv[1], expire);
  }
  incr_ref_count(o);
  db_delete(src, c->argv[1]);
  signal_modified_key(c, src, c->argv[1]);
  signal_modified_key(c, dst, c->argv[1]);
  notify_keyspace_event(NOTIFY_GENERIC, "move_from", c->argv[1], src->id);
  notify_keyspace_event(NOTIFY_GENERIC, "move_to", c->argv[1], dst->id);
  server.dirty++;
  add_reply(c, shared.cone);
}

/* copy_value duplicates a value of any type. */
static robj *copy_value(robj *o) {
  if (o->type == OBJ_STRING) {
    return dup_string_object(o);
  }
  return object_type_ops_of(o->type)->dup(o);
}

static void copy_command(client *c) {
  redis_db *src = c->db;
  redis_db *dst = c->db;
  int replace = 0;
  for (int j = 3; j < c->argc; j++) {
    int additional = c->argc - j - 1;
    if (!strcasecmp(c->argv[j]->ptr, "replace")) {
      replace = 1;
    } else if (!strcasecmp(c->argv[j]->ptr, "db") && additional >= 1) {
      dst = db_by_index_or_reply(c, c->argv[j + 1]);
      if (dst == NULL) {
        return;
      }
      j++;
    } else {
      add_reply_error_object(c, shared.syntaxerr);
      return;
    }
  }
  robj *key = c->argv[1];
  robj *newkey = c->argv[2];
  if (src == dst && compare_string_objects(key, newkey) == 0) {
    add_reply_error_object(c, shared.sameobjecterr);
    return;
  }
  robj *o = lookup_key_read(src, key);
  if (o == NULL) {
    add_reply(c, shared.czero);
    return;
  }
  long long expire = get_expire(src, key);
  int delete_first = 0;
  if (lookup_key_write(dst, newkey) != NULL) {
    if (!replace) {
      add_reply(c, shared.czero);
      return;
    }
    delete_first = 1;
  }
  robj *newobj = copy_value(o);
  if (newobj == NULL) {
    add_reply_error(c, "unknown type object");
    return;
  }
  if (delete_first) {
    db_delete(dst, newkey);
  }
  db_add(dst, newkey, newobj);
  if (expire != -1) {
    set_expire(c, dst, newkey, expire);
  }
  signal_modified_key(c, dst, newkey);
  notify_keyspace_event(NOTIFY_GENERIC, "copy_to", newkey, dst->id);
  server.dirty++;
  add_reply(c, shared.cone);
}

/* ------------------------------------------------------------------ */
/* KEYS SCAN RANDOMKEY DBSIZE                                           */
/* ------------------------------------------------------------------ */

/* db_init_static_key wraps an sds in a stack robj for lookups that must
 * not allocate. */
static inline void db_init_static_key(robj *o, sds key) {
  o->type = OBJ_STRING;
  o->encoding = OBJ_ENCODING_RAW;
  o->lru = 0;
  o->refcount = OBJ_SHARED_REFCOUNT;
  o->ptr = key;
}

/* db_key_is_logically_expired reports expiry without deleting: KEYS runs
 * under a dict iterator and must not modify the dict. */
static int db_key_is_logically_expired(redis_db *db, sds key) {
  if (dict_size(db->expires) == 0 || server.loading) {
    return 0;
  }
  robj keyobj;
  db_init_static_key(&keyobj, key);
  long long when = get_expire(db, &keyobj);
  return when >= 0 && cached_mstime > when;
}

static void keys_command(client *c) {
  sds pattern = c->argv[1]->ptr;
  int plen = (int)sds_len(pattern);
  int allkeys = plen == 1 && pattern[0] == '*';
  unsigned long numkeys = 0;
  void *replylen = add_reply_deferred_len(c);
  dict_iterator di;
  dict_init_safe_iterator(&di, c->db->dict);
  dict_entry *de;
  while ((de = dict_next(&di)) != NULL) {
    sds key = dict_get_key(de);
    if ((allkeys ||
         string_match_len(pattern, plen, key, (int)sds_len(key), 0)) &&
        !db_key_is_logically_expired(c->db, key)) {
      add_reply_bulk_cbuffer(c, key, sds_len(key));
      numkeys++;
    }
    if (c->flags & CLIENT_CLOSE_ASAP) {
      break;
    }
  }
  dict_reset_iterator(&di);
  set_deferred_array_len(c, replylen, (long)numkeys);
}

/* scan_emit_key collects one keyspace entry's key for SCAN. */
static void scan_emit_key(scan_result *r, const dict_entry *de) {
  scan_result_add_sds_copy(r, dict_get_key(de));
}

static void scan_command(client *c) {
  unsigned long cursor;
  if (scan_parse_cursor_or_reply(c, c->argv[1], &cursor) != C_OK) {
    return;
  }
  long count = 10;
  sds pat = NULL;
  int patlen = 0, use_pattern = 0;
  const char *type_filter = NULL;
  for (int i = 2; i < c->argc;) {
    int j = c->argc - i;
    const char *opt = c->argv[i]->ptr;
    if (!strcasecmp(opt, "count") && j >= 2) {
      if (get_long_from_object_or_reply(c, c->argv[i + 1], &count, NULL) !=
          C_OK) {
        return;
      }
      if (count < 1) {
        add_reply_error_object(c, shared.syntaxerr);
        return;
      }
      i += 2;
    } else if (!strcasecmp(opt, "match") && j >= 2) {
      pat = c->argv[i + 1]->ptr;
      patlen = (int)sds_len(pat);
      use_pattern = !(patlen == 1 && pat[0] == '*');
      i += 2;
    } else if (!strcasecmp(opt, "type") && j >= 2) {
      type_filter = c->argv[i + 1]->ptr;
      i += 2;
    } else {
      add_reply_error_object(c, shared.syntaxerr);
      return;
    }
  }

  /* A bounded number of buckets per requested key: a sparse table returns
   * few keys rather than blocking the server. */
  scan_result sk = {NULL, 0, 0};
  cursor = scan_dict_collect(c->db->dict, cursor, count, scan_emit_key, &sk);

  size_t kept = 0;
  for (size_t k = 0; k < sk.count; k++) {
    sds key = sk.items[k];
    int filter = 0;
    if (use_pattern &&
        !string_match_len(pat, patlen, key, (int)sds_len(key), 0)) {
      filter = 1;
    }
    robj keyobj;
    db_init_static_key(&keyobj, key);
    if (!filter && type_filter != NULL) {
      robj *o = lookup_key_read_with_flags(c->db, &keyobj, LOOKUP_NOTOUCH);
      if (strcasecmp(type_filter, type_name(o)) != 0) {
        filter = 1;
      }
    }
    if (!filter && expire_if_needed(c->db, &keyobj)) {
      filter = 1;
    }
    if (filter) {
      sds_free(key);
    } else {
      sk.items[kept++] = key;
    }
  }
  add_reply_array_len(c, 2);
  add_reply_bulk_long_long(c, (long long)cursor);
  add_reply_array_len(c, (long)kept);
  for (size_t k = 0; k < kept; k++) {
    add_reply_bulk_sds(c, sk.items[k]);
  }
  zfree(sk.items);
}

static void randomkey_command(client *c) {
  robj *key = db_random_key(c->db);
  if (key == NULL) {
    add_reply_null(c);
    return;
  }
  add_reply_bulk(c, key);
  decr_ref_count(key);
}

static void dbsize_command(client *c) {
  add_reply_long_long(c, (long long)dict_size(c->db->dict));
}

/* ------------------------------------------------------------------ */
/* FLUSHDB FLUSHALL SELECT SWAPDB                                       */
/* ------------------------------------------------------------------ */

static int get_flush_async_or_reply(client *c, int *async) {
  if (c->argc == 2 && !strcasecmp(c->argv[1]->ptr, "sync")) {
    *async = 0;
  } else if (c->argc == 2 && !strcasecmp(c->argv[1]->ptr, "async")) {
    *async = 1;
  } else if (c->argc == 1) {
    *async = server.lazyfree_lazy_user_flush;
  } else {
    add_reply_error_object(c, shared.syntaxerr);
    return C_ERR;
  }
  return C_OK;
}

/* flush_generic empties |dbnum| (-1: all). The dirty count grows by the
 * keys removed only (INFO rdb_changes_since_last_save, as Redis 7.0), and
 * the command reaches the AOF and replicas even when nothing was removed
 * (Redis's forceCommandPropagation): call() propagates it otherwise. */
static void flush_generic(client *c, int dbnum) {
  int async;
  if (get_flush_async_or_reply(c, &async) != C_OK) {
    return;
  }
  long long removed = empty_data(dbnum, async, NULL);
  server.dirty += removed;
  if (removed == 0) {
    also_propagate(c->db->id, c->argv, c->argc);
  }
  add_reply(c, shared.ok);
}

static void flushdb_command(client *c) { flush_generic(c, c->db->id); }

/* Redis also rewrites the RDB here when save points are configured; that
 * belongs to the persistence module. */
static void flushall_command(client *c) { flush_generic(c, -1); }

static void select_command(client *c) {
  int id;
  if (get_int_from_object_or_reply(c, c->argv[1], &id, NULL) != C_OK) {
    return;
  }
  if (select_db(c, id) == C_ERR) {
    add_reply_error(c, "DB index is out of range");
  } else {
    add_reply(c, shared.ok);
  }
}

/* swapdb_signal_ready_keys: clients blocked on a key of |db| may be
 * servable after the swap brings a list or zset under that name. */
static void swapdb_signal_ready_keys(redis_db *db) {
  if (!keyspace_has_ready_hooks() || db->blocking_keys == NULL ||
      dict_size(db->blocking_keys) == 0) {
    return;
  }
  dict_iterator di;
  dict_init_safe_iterator(&di, db->blocking_keys);
  dict_entry *de;
  while ((de = dict_next(&di)) != NULL) {
    robj *key = dict_get_key(de);
    dict_entry *kde = dict_find(db->dict, key->ptr);
    if (kde != NULL) {
      robj *value = dict_get_val(kde);
      keyspace_signal_key_ready(db, key, value->type);
    }
  }
  dict_reset_iterator(&di);
}

static void swapdb_command(client *c) {
  int id1, id2;
  if (get_int_from_object_or_reply(c, c->argv[1], &id1,
                                   "invalid first DB index") != C_OK) {
    return;
  }
  if (get_int_from_object_or_reply(c, c->argv[2], &id2,
                                   "invalid second DB index") != C_OK) {
    return;
  }
  if (id1 < 0 || id1 >= server.dbnum || id2 < 0 || id2 >= server.dbnum) {
    add_reply_error(c, "DB index is out of range");
    return;
  }
  if (id1 != id2) {
    redis_db *db1 = &server.db[id1], *db2 = &server.db[id2];
    keyspace_signal_db_replaced(db1, db2);
    keyspace_signal_db_replaced(db2, db1);
    /* Only the data moves: blocked and watching clients stay with their
     * database number. */
    redis_db aux = *db1;
    db1->dict = db2->dict;
    db1->expires = db2->expires;
    db1->avg_ttl = db2->avg_ttl;
    db1->expires_cursor = db2->expires_cursor;
    db2->dict = aux.dict;
    db2->expires = aux.expires;
    db2->avg_ttl = aux.avg_ttl;
    db2->expires_cursor = aux.expires_cursor;
    swapdb_signal_ready_keys(db1);
    swapdb_signal_ready_keys(db2);
  }
  server.dirty++;
  add_reply(c, shared.ok);
}

/* ------------------------------------------------------------------ */
/* OBJECT                                                               */
/* ------------------------------------------------------------------ */

static robj *object_lookup_or_reply(client *c) {
  robj *o = lookup_key_read_with_flags(c->db, c->argv[2],
                                       LOOKUP_NOTOUCH | LOOKUP_NONOTIFY);
  if (o == NULL) {
    add_reply_null(c);
  }
  return o;
}

static void object_help_command(client *c) {
  static const char *help[] = {
      "ENCODING <key>",
      "    Return the kind of internal representation used in order to store "
      "the value",
      "    associated with a <key>.",
      "FREQ <key>",
      "    Return the access frequency index of the <key>. The returned "
      "integer is",
      "    proportional to the logarithm of the recent access frequency of "
      "the key.",
      "IDLETIME <key>",
      "    Return the idle time of the <key>, that is the approximated number "
      "of",
      "    seconds elapsed since the last access to the key.",
      "REFCOUNT <key>",
      "    Return the number of references of the value associated with the "
      "specified",
      "    <key>.",
      NULL};
  add_reply_help(c, help);
}

static void object_encoding_command(client *c) {
  robj *o = object_lookup_or_reply(c);
  if (o != NULL) {
    add_reply_bulk_cstring(c, str_encoding(o->encoding));
  }
}

static void object_refcount_command(client *c) {
  robj *o = object_lookup_or_reply(c);
  if (o != NULL) {
    add_reply_long_long(c, o->refcount);
  }
}

static void object_idletime_command(client *c) {
  robj *o = object_lookup_or_reply(c);
  if (o == NULL) {
    return;
  }
  if (server.maxmemory_policy & MAXMEMORY_FLAG_LFU) {
    add_reply_error(c,
                    "An LFU maxmemory policy is selected, idle time not "
                    "tracked. Please note that when switching between "
                    "policies at runtime LRU and LFU data will take some "
                    "time to adjust.");
    return;
  }
  add_reply_long_long(c, (long long)(estimate_object_idle_time(o) / 1000));
}

static void object_freq_command(client *c) {
  robj *o = object_lookup_or_reply(c);
  if (o == NULL) {
    return;
  }
  if (!(server.maxmemory_policy & MAXMEMORY_FLAG_LFU)) {
    add_reply_error(c,
                    "An LFU maxmemory policy is not selected, access "
                    "frequency not tracked. Please note that when switching "
                    "between policies at runtime LRU and LFU data will take "
                    "some time to adjust.");
    return;
  }
  add_reply_long_long(c, (long long)lfu_decr_and_return(o));
}

/* ------------------------------------------------------------------ */
/* Table                                                                */
/* ------------------------------------------------------------------ */

#define KS ACL_CATEGORY_KEYSPACE
#define RD ACL_CATEGORY_READ
#define WR ACL_CATEGORY_WRITE
#define FAST ACL_CATEGORY_FAST
#define SLOW ACL_CATEGORY_SLOW
#define DANGER ACL_CATEGORY_DANGEROUS

#define DB_CMD(name_, summary_, since_, group_, proc_, arity_, flags_, acl_, \
               first_, last_, step_)                                         \
  {                                                                          \
    .declared_name = name_, .summary = summary_, .since = since_,            \
    .group = group_, .proc = proc_, .arity = arity_, .flags = flags_,        \
    .acl_categories = acl_, .firstkey = first_, .lastkey = last_,            \
    .keystep = step_                                                         \
  }

static redis_command object_subcommands[] = {
    DB_CMD("help", "Show helpful text about the different subcommands", "6.2.0",
           "generic", object_help_command, 2, CMD_LOADING | CMD_STALE,
           KS | SLOW, 0, 0, 0),
    DB_CMD("encoding", "Inspect the internal encoding of a Redis object",
           "2.2.3", "generic", object_encoding_command, 3, CMD_READONLY,
           KS | RD | SLOW, 2, 2, 1),
    DB_CMD("freq",
           "Get the logarithmic access frequency counter of a Redis object",
           "4.0.0", "generic", object_freq_command, 3, CMD_READONLY,
           KS | RD | SLOW, 2, 2, 1),
    DB_CMD("idletime", "Get the time since a Redis object was last accessed",
           "2.2.3", "generic", object_idletime_command, 3, CMD_READONLY,
           KS | RD | SLOW, 2, 2, 1),
    DB_CMD("refcount", "Get the number of references to the value of the key",
           "2.2.3", "generic", object_refcount_command, 3, CMD_READONLY,
           KS | RD | SLOW, 2, 2, 1),
    {0}};

redis_command keyspace_commands[] = {
    DB_CMD("del", "Delete a key", "1.0.0", "generic", del_command, -2,
           CMD_WRITE, KS | WR | SLOW, 1, -1, 1),
    DB_CMD("unlink",
           "Delete a key asynchronously in another thread. Otherwise it is "
           "just as DEL, but non blocking.",
           "4.0.0", "generic", unlink_command, -2, CMD_WRITE | CMD_FAST,
           KS | WR | FAST, 1, -1, 1),
    DB_CMD("exists", "Determine if a key exists", "1.0.0", "generic",
           exists_command, -2, CMD_READONLY | CMD_FAST, KS | RD | FAST, 1, -1,
           1),
    DB_CMD("type", "Determine the type stored at key", "1.0.0", "generic",
           type_command, 2, CMD_READONLY | CMD_FAST, KS | RD | FAST, 1, 1, 1),
    DB_CMD("expire", "Set a key's time to live in seconds", "1.0.0", "generic",
           expire_command, -3, CMD_WRITE | CMD_FAST, KS | WR | FAST, 1, 1, 1),
    DB_CMD("pexpire", "Set a key's time to live in milliseconds", "2.6.0",
           "generic", pexpire_command, -3, CMD_WRITE | CMD_FAST, KS | WR | FAST,
           1, 1, 1),
    DB_CMD("expireat", "Set the expiration for a key as a UNIX timestamp",
           "1.2.0", "generic", expireat_command, -3, CMD_WRITE | CMD_FAST,
           KS | WR | FAST, 1, 1, 1),
    DB_CMD("pexpireat",
           "Set the expiration for a key as a UNIX timestamp specified in "
           "milliseconds",
           "2.6.0", "generic", pexpireat_command, -3, CMD_WRITE | CMD_FAST,
           KS | WR | FAST, 1, 1, 1),
    DB_CMD("ttl", "Get the time to live for a key in seconds", "1.0.0",
           "generic", ttl_command, 2, CMD_READONLY | CMD_FAST, KS | RD | FAST,
           1, 1, 1),
    DB_CMD("pttl", "Get the time to live for a key in milliseconds", "2.6.0",
           "generic", pttl_command, 2, CMD_READONLY | CMD_FAST, KS | RD | FAST,
           1, 1, 1),
    DB_CMD("expiretime", "Get the expiration Unix timestamp for a key", "7.0.0",
           "generic", expiretime_command, 2, CMD_READONLY | CMD_FAST,
           KS | RD | FAST, 1, 1, 1),
    DB_CMD("pexpiretime",
           "Get the expiration Unix timestamp for a key in milliseconds",
           "7.0.0", "generic", pexpiretime_command, 2, CMD_READONLY | CMD_FAST,
           KS | RD | FAST, 1, 1, 1),
    DB_CMD("persist", "Remove the expiration from a key", "2.2.0", "generic",
           persist_command, 2, CMD_WRITE | CMD_FAST, KS | WR | FAST, 1, 1, 1),
    DB_CMD("rename", "Rename a key", "1.0.0", "generic", rename_command, 3,
           CMD_WRITE, KS | WR | SLOW, 1, 2, 1),
    DB_CMD("renamenx", "Rename a key, only if the new key does not exist",
           "1.0.0", "generic", renamenx_command, 3, CMD_WRITE | CMD_FAST,
           KS | WR | FAST, 1, 2, 1),
    DB_CMD("keys", "Find all keys matching the given pattern", "1.0.0",
           "generic", keys_command, 2, CMD_READONLY, KS | RD | SLOW | DANGER, 0,
           0, 0),
    DB_CMD("scan", "Incrementally iterate the keys space", "2.8.0", "generic",
           scan_command, -2, CMD_READONLY, KS | RD | SLOW, 0, 0, 0),
    DB_CMD("randomkey", "Return a random key from the keyspace", "1.0.0",
           "generic", randomkey_command, 1, CMD_READONLY, KS | RD | SLOW, 0, 0,
           0),
    DB_CMD("dbsize", "Return the number of keys in the selected database",
           "1.0.0", "server", dbsize_command, 1, CMD_READONLY | CMD_FAST,
           KS | RD | FAST, 0, 0, 0),
    DB_CMD("flushdb", "Remove all keys from the current database", "1.0.0",
           "server", flushdb_command, -1, CMD_WRITE, KS | WR | SLOW | DANGER, 0,
           0, 0),
    DB_CMD("flushall", "Remove all keys from all databases", "1.0.0", "server",
           flushall_command, -1, CMD_WRITE, KS | WR | SLOW | DANGER, 0, 0, 0),
    DB_CMD("move", "Move a key to another database", "1.0.0", "generic",
           move_command, 3, CMD_WRITE | CMD_FAST, KS | WR | FAST, 1, 1, 1),
    DB_CMD("copy", "Copy a key", "6.2.0", "generic", copy_command, -3,
           CMD_WRITE | CMD_DENYOOM, KS | WR | SLOW, 1, 2, 1),
    DB_CMD("touch",
           "Alters the last access time of a key(s). Returns the number of "
           "existing keys specified.",
           "3.2.1", "generic", touch_command, -2, CMD_READONLY | CMD_FAST,
           KS | RD | FAST, 1, -1, 1),
    {.declared_name = "object",
     .summary = "A container for object introspection commands",
     .since = "2.2.3",
     .group = "generic",
     .proc = NULL,
     .arity = -2,
     .flags = 0,
     .acl_categories = SLOW,
     .subcommands = object_subcommands},
    DB_CMD("select", "Change the selected database for the current connection",
           "1.0.0", "connection", select_command, 2,
           CMD_LOADING | CMD_STALE | CMD_FAST, FAST | ACL_CATEGORY_CONNECTION,
           0, 0, 0),
    DB_CMD("swapdb", "Swaps two Redis databases", "4.0.0", "server",
           swapdb_command, 3, CMD_WRITE | CMD_FAST, KS | WR | FAST | DANGER, 0,
           0, 0),
    {0}};
