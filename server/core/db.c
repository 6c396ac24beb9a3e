/* db.c: the keyspace: lookups with lazy expiry, add/overwrite/delete,
 * flushing, and active expiry.
 *
 * Each database has two dicts: dict (sds key -> robj value, owns the key)
 * and expires (the same sds key -> unix ms in v.s64, owns nothing). A key
 * is therefore always removed from expires before dict frees it. */
#include <errno.h>
#include <limits.h>

#include "server/base/zmalloc.h"
#include "server/core/latency.h"
#include "server/core/lazyfree.h"
#include "server/core/server.h"

/* ------------------------------------------------------------------ */
/* Lookup                                                               */
/* ------------------------------------------------------------------ */

/* db_key_is_expired: reads cached_mstime (refreshed per command and per
 * cron tick) so every key a command touches sees the same "now" and the
 * check costs no syscall. While loading, nothing expires. */
static int db_key_is_expired(redis_db *db, robj *key) {
  if (server.loading) {
    return 0;
  }
  long long when = get_expire(db, key);
  if (when < 0) {
    return 0;
  }
  return cached_mstime > when;
}

int expire_if_needed(redis_db *db, robj *key) {
  if (!db_key_is_expired(db, key)) {
    return 0;
  }
  /* A replica never deletes by itself: it waits for the master's DEL. Its
   * master's commands see the key; other clients see it gone (Redis). */
  if (server.replica_mode) {
    client *cur = server.current_client;
    if (cur && (cur->flags & CLIENT_MASTER)) {
      return 0;
    }
    return 1;
  }
  /* While clients are paused the dataset must not change (failover
   * relies on it): report the key as expired but keep it. */
  if (check_clients_pause_timeout()) {
    return 1;
  }
  delete_expired_key_and_propagate(db, key);
  return 1;
}

static inline void db_touch_value(robj *val, int flags) {
  if (flags & LOOKUP_NOTOUCH) {
    return;
  }
  if (server.maxmemory_policy & MAXMEMORY_FLAG_LFU) {
    update_lfu(val);
  } else {
    val->lru = server.lruclock;
  }
}

static robj *db_lookup_key(redis_db *db, robj *key, int flags) {
  dict_entry *de = dict_find(db->dict, key->ptr);
  robj *val = NULL;
  if (de != NULL) {
    val = dict_get_val(de);
    /* Most databases have few volatile keys; skip the second lookup when
     * there are none. */
    if (dict_size(db->expires) != 0) {
      /* LOOKUP_NOEXPIRE: report an expired key as missing but leave the
       * deletion to a later access or the active cycle. */
      int expired = (flags & LOOKUP_NOEXPIRE) ? db_key_is_expired(db, key)
                                              : expire_if_needed(db, key);
      if (expired) {
        val = NULL;
      }
    }
  }
  if (val != NULL) {
    db_touch_value(val, flags);
    if (!(flags & (LOOKUP_NOSTATS | LOOKUP_WRITE))) {
      server.stat_keyspace_hits++;
    }
  } else {
    if (!(flags & (LOOKUP_NONOTIFY | LOOKUP_WRITE)) &&
        (server.notify_keyspace_events & NOTIFY_KEY_MISS)) {
      notify_keyspace_event(NOTIFY_KEY_MISS, "keymiss", key, db->id);
    }
    if (!(flags & (LOOKUP_NOSTATS | LOOKUP_WRITE))) {
      server.stat_keyspace_misses++;
    }
  }
  return val;
}

robj *lookup_key_read_with_flags(redis_db *db, robj *key, int flags) {
  return db_lookup_key(db, key, flags & ~LOOKUP_WRITE);
}

robj *lookup_key_read(redis_db *db, robj *key) {
  return db_lookup_key(db, key, LOOKUP_NONE);
}

robj *lookup_key_write_with_flags(redis_db *db, robj *key, int flags) {
  return db_lookup_key(db, key, flags | LOOKUP_WRITE);
}

robj *lookup_key_write(redis_db *db, robj *key) {
  return db_lookup_key(db, key, LOOKUP_WRITE);
}

robj *lookup_key_read_or_reply(client *c, robj *key, robj *reply) {
  robj *o = lookup_key_read(c->db, key);
  if (o == NULL) {
    add_reply(c, reply);
  }
  return o;
}

robj *lookup_key_write_or_reply(client *c, robj *key, robj *reply) {
  robj *o = lookup_key_write(c->db, key);
  if (o == NULL) {
    add_reply(c, reply);
  }
  return o;
}

/* ------------------------------------------------------------------ */
/* Add / overwrite / delete                                             */
/* ------------------------------------------------------------------ */

/* db_add stores the caller's reference to |val| (the refcount is not
 * incremented, as in Redis's dbAdd); the key is copied. */
void db_add(redis_db *db, robj *key, robj *val) {
  sds copy = sds_dup(key->ptr);
  dict_entry *de = dict_add_raw(db->dict, copy, NULL);
  server_assert(de != NULL);
  dict_set_val(db->dict, de, val);
  if (val->type == OBJ_LIST || val->type == OBJ_ZSET ||
      val->type == OBJ_STREAM) {
    keyspace_signal_key_ready(db, key, val->type);
  }
  if (server.notify_keyspace_events & NOTIFY_NEW) {
    notify_keyspace_event(NOTIFY_NEW, "new", key, db->id);
  }
}

int db_add_rdb_load(redis_db *db, sds key, robj *val) {
  dict_entry *de = dict_add_raw(db->dict, key, NULL);
  if (de == NULL) {
    return 0;
  }
  dict_set_val(db->dict, de, val);
  return 1;
}

/* db_overwrite replaces the value, keeping the caller's reference to |val|
 * (no increment) and releasing the old value. The TTL is untouched. */
void db_overwrite(redis_db *db, robj *key, robj *val) {
  dict_entry *de = dict_find(db->dict, key->ptr);
  server_assert(de != NULL);
  robj *old = dict_get_val(de);
  if (server.maxmemory_policy & MAXMEMORY_FLAG_LFU) {
    /* The key keeps its access frequency across SET. */
    val->lru = old->lru;
  }
  if (old->type == OBJ_STREAM) {
    /* XREADGROUP clients blocked on the old stream are unblocked. */
    keyspace_signal_key_ready(db, key, OBJ_STREAM);
  }
  dict_set_val(db->dict, de, val);
  /* An overwrite is an unlink and an add: lazyfree-lazy-server-del frees
   * the old value as a server-side delete would (Redis). */
  if (server.lazyfree_lazy_server_del) {
    lazyfree_release_value(old);
  } else {
    decr_ref_count(old);
  }
}

void set_key(client *c, redis_db *db, robj *key, robj *val, int flags) {
  int keyfound;
  if (flags & SETKEY_ALREADY_EXIST) {
    keyfound = 1;
  } else if (flags & SETKEY_DOESNT_EXIST) {
    keyfound = 0;
  } else {
    keyfound = lookup_key_write(db, key) != NULL;
  }
  if (!keyfound) {
    db_add(db, key, val);
  } else {
    db_overwrite(db, key, val);
  }
  incr_ref_count(val);
  if (!(flags & SETKEY_KEEPTTL)) {
    remove_expire(db, key);
  }
  if (!(flags & SETKEY_NO_SIGNAL)) {
    signal_modified_key(c, db, key);
  }
}

int db_exists(redis_db *db, robj *key) {
  return dict_find(db->dict, key->ptr) != NULL;
}

/* db_generic_delete: with |async| a big value is freed by the lazy-free
 * thread (lazyfree.h), otherwise here. */
static int db_generic_delete(redis_db *db, robj *key, int async) {
  dict_entry *de = dict_unlink(db->dict, key->ptr);
  if (de == NULL) {
    return 0;
  }
  /* The expires entry borrows the key's sds: drop it first. */
  if (dict_size(db->expires) > 0) {
    dict_delete(db->expires, key->ptr);
  }
  if (((robj *)dict_get_val(de))->type == OBJ_STREAM) {
    /* XREADGROUP clients blocked on it are unblocked. */
    keyspace_signal_key_ready(db, key, OBJ_STREAM);
  }
  if (async) {
    lazyfree_release_value(dict_get_val(de));
    dict_set_val(db->dict, de, NULL);
  }
  dict_free_unlinked_entry(db->dict, de);
  return 1;
}

int db_sync_delete(redis_db *db, robj *key) {
  return db_generic_delete(db, key, 0);
}

int db_async_delete(redis_db *db, robj *key) {
  return db_generic_delete(db, key, 1);
}

int db_delete(redis_db *db, robj *key) {
  return db_generic_delete(db, key, server.lazyfree_lazy_server_del);
}

robj *db_unshare_string_value(redis_db *db, robj *key, robj *o) {
  if (o->refcount != 1 || o->encoding != OBJ_ENCODING_RAW) {
    robj *decoded = get_decoded_object(o);
    o = create_raw_string_object(decoded->ptr, sds_len(decoded->ptr));
    decr_ref_count(decoded);
    db_overwrite(db, key, o);
  }
  return o;
}

/* ------------------------------------------------------------------ */
/* Whole databases                                                      */
/* ------------------------------------------------------------------ */

long long empty_data(int dbnum, int async, void(callback)(dict *)) {
  if (dbnum < -1 || dbnum >= server.dbnum) {
    errno = EINVAL;
    return -1;
  }
  /* WATCHers must see the keys vanish while they still exist. */
  signal_flushed_db(dbnum, async);
  int start = dbnum == -1 ? 0 : dbnum;
  int end = dbnum == -1 ? server.dbnum - 1 : dbnum;
  long long removed = 0;
  for (int j = start; j <= end; j++) {
    redis_db *db = &server.db[j];
    removed += (long long)dict_size(db->dict);
    if (async) {
      /* Fresh dicts now, the old ones to the lazy-free thread. */
      dict *keys = db->dict, *expires = db->expires;
      db->dict = dict_create(keys->type);
      db->expires = dict_create(expires->type);
      lazyfree_release_keyspace(keys, expires);
    } else {
      /* expires first: it borrows the keys dict frees. */
      dict_empty(db->expires, callback);
      dict_empty(db->dict, callback);
    }
    db->avg_ttl = 0;
    db->expires_cursor = 0;
  }
  return removed;
}

struct db_stash {
  int count;
  dict **dicts;
  dict **expires;
};

db_stash *db_stash_keyspaces(void) {
  /* WATCHers see every key change, whichever dataset ends up in place. */
  signal_flushed_db(-1, 0);
  db_stash *s = zmalloc(sizeof(*s));
  s->count = server.dbnum;
  s->dicts = zmalloc(sizeof(dict *) * (size_t)server.dbnum);
  s->expires = zmalloc(sizeof(dict *) * (size_t)server.dbnum);
  for (int j = 0; j < server.dbnum; j++) {
    redis_db *db = &server.db[j];
    s->dicts[j] = db->dict;
    s->expires[j] = db->expires;
    db->dict = dict_create(s->dicts[j]->type);
    db->expires = dict_create(s->expires[j]->type);
    db->avg_ttl = 0;
    db->expires_cursor = 0;
  }
  return s;
}

static void db_stash_free_dicts(dict **dicts, dict **expires, int count) {
  for (int j = 0; j < count; j++) {
    dict_release(expires[j]); /* it borrows the keys the dict frees */
    dict_release(dicts[j]);
  }
}

static void db_stash_free(db_stash *s) {
  zfree(s->dicts);
  zfree(s->expires);
  zfree(s);
}

void db_stash_restore(db_stash *s) {
  signal_flushed_db(-1, 0);
  for (int j = 0; j < s->count; j++) {
    redis_db *db = &server.db[j];
    dict *d = db->dict, *e = db->expires;
    db->dict = s->dicts[j];
    db->expires = s->expires[j];
    s->dicts[j] = d;
    s->expires[j] = e;
    db->avg_ttl = 0;
    db->expires_cursor = 0;
  }
  db_stash_free_dicts(s->dicts, s->expires, s->count);
  db_stash_free(s);
}

void db_stash_discard(db_stash *s) {
  db_stash_free_dicts(s->dicts, s->expires, s->count);
  db_stash_free(s);
}

long long db_total_server_key_count(void) {
  long long total = 0;
  for (int j = 0; j < server.dbnum; j++) {
    total += (long long)dict_size(server.db[j].dict);
  }
  return total;
}

int select_db(client *c, int id) {
  if (id < 0 || id >= server.dbnum) {
    return C_ERR;
  }
  c->db = &server.db[id];
  return C_OK;
}

/* Tries before RANDOMKEY gives up skipping expired keys it may not delete
 * (clients paused): it then returns one of them, as Redis does. */
#define DB_RANDOM_KEY_MAX_TRIES 100

robj *db_random_key(redis_db *db) {
  int maxtries = DB_RANDOM_KEY_MAX_TRIES;
  int allvolatile = dict_size(db->dict) == dict_size(db->expires);
  for (;;) {
    dict_entry *de = dict_get_fair_random_key(db->dict);
    if (de == NULL) {
      return NULL;
    }
    sds key = dict_get_key(de);
    robj *keyobj = create_string_object(key, sds_len(key));
    if (dict_size(db->expires) != 0 && dict_find(db->expires, key) != NULL) {
      if (allvolatile && check_clients_pause_timeout() && --maxtries == 0) {
        return keyobj;
      }
      if (expire_if_needed(db, keyobj)) {
        decr_ref_count(keyobj);
        continue;
      }
    }
    return keyobj;
  }
}

/* ------------------------------------------------------------------ */
/* Expire                                                               */
/* ------------------------------------------------------------------ */

void set_expire(client *c, redis_db *db, robj *key, long long when) {
  (void)c;
  dict_entry *kde = dict_find(db->dict, key->ptr);
  server_assert(kde != NULL);
  dict_entry *de = dict_add_or_find(db->expires, dict_get_key(kde));
  de->v.s64 = when;
}

long long get_expire(redis_db *db, robj *key) {
  dict_entry *de;
  if (dict_size(db->expires) == 0 ||
      (de = dict_find(db->expires, key->ptr)) == NULL) {
    return -1;
  }
  return dict_get_signed_integer_val(de);
}

int remove_expire(redis_db *db, robj *key) {
  if (dict_size(db->expires) == 0) {
    return 0;
  }
  return dict_delete(db->expires, key->ptr) == DICT_OK;
}

int check_already_expired(long long when) {
  /* A TTL in the past deletes instead of setting (except while loading,
   * where the file's keys must all be kept). */
  return when <= cached_mstime && !server.loading;
}

void delete_expired_key_and_propagate(redis_db *db, robj *keyobj) {
  long long latency = latency_monitor_start();
  db_generic_delete(db, keyobj, server.lazyfree_lazy_expire);
  latency_monitor_end("expire-del", latency);
  notify_keyspace_event(NOTIFY_EXPIRED, "expired", keyobj, db->id);
  signal_modified_key(NULL, db, keyobj);
  /* The AOF (and replicas) learn of the deletion as a DEL, or UNLINK with
   * lazyfree-lazy-expire, as Redis 7.0 propagates it. */
  robj *argv[2] = {server.lazyfree_lazy_expire ? shared.unlink : shared.del,
                   keyobj};
  also_propagate(db->id, argv, 2);
  server.stat_expiredkeys++;
}

/* Active expiry, after Redis's activeExpireCycle: each database keeps a
 * scan cursor over its expires dict; each round visits buckets until
 * ~20 keys are sampled, deletes the expired ones, and repeats while more
 * than 10% of the sample was expired, within a time budget. */
#define ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP 20
#define ACTIVE_EXPIRE_CYCLE_FAST_DURATION 1000 /* us */
#define ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC 25  /* % of one cron period */
#define ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE 10
#define ACTIVE_EXPIRE_CRON_DBS_PER_CALL 16
/* Starting size of the buffer that gathers the entries of one dict_scan
 * step (a bucket, plus its expansion while rehashing). The cursor moves by
 * whole buckets, so the buffer grows to hold a long chain. */
#define ACTIVE_EXPIRE_SCAN_BUF_INITIAL 64

typedef struct active_expire_batch {
  dict_entry **entries;
  size_t count, cap;
} active_expire_batch;

static void active_expire_collect(void *privdata, const dict_entry *de) {
  active_expire_batch *b = privdata;
  if (b->count == b->cap) {
    b->cap = b->cap ? b->cap * 2 : ACTIVE_EXPIRE_SCAN_BUF_INITIAL;
    b->entries = zrealloc(b->entries, b->cap * sizeof(*b->entries));
  }
  b->entries[b->count++] = (dict_entry *)de;
}

static int active_expire_try_expire(redis_db *db, dict_entry *de,
                                    long long now) {
  long long t = dict_get_signed_integer_val(de);
  if (now <= t) {
    return 0;
  }
  sds key = dict_get_key(de);
  /* A copy: the entry's sds is freed by the deletion, and the event and
   * WATCH hooks still need the name afterwards. */
  robj *keyobj = create_string_object(key, sds_len(key));
  delete_expired_key_and_propagate(db, keyobj);
  decr_ref_count(keyobj);
  return 1;
}

void active_expire_cycle(int type) {
  static active_expire_batch batch;     /* reused: no allocation per call */
  static unsigned int current_db = 0;   /* next database to visit */
  static int timelimit_exit = 0;        /* previous call ran out of time */
  static long long last_fast_cycle = 0; /* us */

  int effort_cfg = server.active_expire_effort;
  unsigned long effort =
      (unsigned long)((effort_cfg >= 1 && effort_cfg <= 10) ? effort_cfg - 1
                                                            : 0);
  unsigned long keys_per_loop = ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP +
                                ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP / 4 * effort;
  unsigned long fast_duration = ACTIVE_EXPIRE_CYCLE_FAST_DURATION +
                                ACTIVE_EXPIRE_CYCLE_FAST_DURATION / 4 * effort;
  unsigned long slow_time_perc =
      ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC + 2 * effort;
  unsigned long acceptable_stale =
      ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE - effort;

  long long start = ustime();
  if (server.dbnum <= 0 || check_clients_pause_timeout()) {
    return;
  }
  if (type == ACTIVE_EXPIRE_CYCLE_FAST) {
    /* Only when the last cycle was cut short or many keys are stale, and
     * never more often than every 2 fast durations. */
    if (!timelimit_exit &&
        server.stat_expired_stale_perc < (double)acceptable_stale / 100.0) {
      return;
    }
    if (start < last_fast_cycle + (long long)fast_duration * 2) {
      return;
    }
    last_fast_cycle = start;
  }

  int dbs_per_call = ACTIVE_EXPIRE_CRON_DBS_PER_CALL;
  if (dbs_per_call > server.dbnum || timelimit_exit) {
    dbs_per_call = server.dbnum;
  }
  int hz = server.hz > 0 ? server.hz : CONFIG_DEFAULT_HZ;
  long long timelimit = (long long)slow_time_perc * 1000000 / hz / 100;
  if (timelimit <= 0) {
    timelimit = 1;
  }
  if (type == ACTIVE_EXPIRE_CYCLE_FAST) {
    timelimit = (long long)fast_duration;
  }
  timelimit_exit = 0;

  long long now = cached_mstime;
  long total_sampled = 0, total_expired = 0;
  int iteration = 0;
  for (int j = 0; j < dbs_per_call && !timelimit_exit; j++) {
    redis_db *db = &server.db[current_db % (unsigned int)server.dbnum];
    current_db++;
    unsigned long expired, sampled;
    do {
      iteration++;
      unsigned long num = dict_size(db->expires);
      if (num == 0) {
        db->avg_ttl = 0;
        break;
      }
      unsigned long slots = dict_slots(db->expires);
      /* Below 1% fill, sampling costs more than the keys are worth; the
       * table will be shrunk by cron first. */
      if (slots > 4 && num * 100 / slots < 1) {
        break;
      }
      expired = 0;
      sampled = 0;
      long long ttl_sum = 0;
      int ttl_samples = 0;
      if (num > keys_per_loop) {
        num = keys_per_loop;
      }
      unsigned long max_steps = num * 20;
      unsigned long steps = 0;
      while (sampled < num && steps < max_steps) {
        batch.count = 0;
        db->expires_cursor = dict_scan(db->expires, db->expires_cursor,
                                       active_expire_collect, &batch);
        steps++;
        for (size_t k = 0; k < batch.count; k++) {
          long long ttl = dict_get_signed_integer_val(batch.entries[k]) - now;
          if (active_expire_try_expire(db, batch.entries[k], now)) {
            expired++;
          } else if (ttl > 0 && ttl <= LLONG_MAX - ttl_sum) {
            /* Keys with TTLs near LLONG_MAX would overflow the sum; they
             * say nothing useful about the average and are left out. */
            ttl_sum += ttl;
            ttl_samples++;
          }
          sampled++;
        }
        if (dict_size(db->expires) == 0) {
          break;
        }
      }
      total_expired += (long)expired;
      total_sampled += (long)sampled;
      if (ttl_samples) {
        long long avg_ttl = ttl_sum / ttl_samples;
        if (db->avg_ttl == 0) {
          db->avg_ttl = avg_ttl;
        }
        db->avg_ttl = (db->avg_ttl / 50) * 49 + (avg_ttl / 50);
      }
      if ((iteration & 0xf) == 0 && ustime() - start > timelimit) {
        timelimit_exit = 1;
        server.stat_expired_time_cap_reached_count++;
        break;
      }
    } while (sampled == 0 || expired * 100 / sampled > acceptable_stale);
  }
  long long elapsed = ustime() - start;
  server.stat_expire_cycle_time_used += elapsed;
  latency_add_sample_if_needed("expire-cycle", elapsed / 1000);
  double current_perc =
      total_sampled ? (double)total_expired / (double)total_sampled : 0;
  server.stat_expired_stale_perc =
      current_perc * 0.05 + server.stat_expired_stale_perc * 0.95;
}
