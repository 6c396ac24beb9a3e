/* notify.c: keyspace event flags (notify-keyspace-events) and the
 * keyspace hooks (keyspace_register_hooks) that blocking commands, WATCH and
 * pub/sub register: the keyspace calls them without naming those modules.
 * With no publish hook registered, notifications are not even built. */
#include "server/core/server.h"
#include "server/core/tracking.h"

/* The registered keyspace hook sets (keyspace_register_hooks). */
static struct {
  const keyspace_hooks *sets[KEYSPACE_MAX_HOOKS];
  int count;
  int ready_hooks;   /* sets with key_ready */
  int publish_hooks; /* sets with publish */
} keyspace;

void keyspace_register_hooks(const keyspace_hooks *hooks) {
  for (int i = 0; i < keyspace.count; i++) {
    if (keyspace.sets[i] == hooks) {
      return;
    }
  }
  server_assert(keyspace.count < KEYSPACE_MAX_HOOKS);
  keyspace.sets[keyspace.count++] = hooks;
  keyspace.ready_hooks += hooks->key_ready != NULL;
  keyspace.publish_hooks += hooks->publish != NULL;
}

int keyspace_has_ready_hooks(void) { return keyspace.ready_hooks > 0; }

void keyspace_signal_key_ready(redis_db *db, robj *key, int type) {
  for (int i = 0; i < keyspace.count; i++) {
    if (keyspace.sets[i]->key_ready != NULL) {
      keyspace.sets[i]->key_ready(db, key, type);
    }
  }
}

void keyspace_signal_db_replaced(redis_db *emptied, redis_db *replaced_with) {
  for (int i = 0; i < keyspace.count; i++) {
    if (keyspace.sets[i]->db_replaced != NULL) {
      keyspace.sets[i]->db_replaced(emptied, replaced_with);
    }
  }
}

static void keyspace_publish(robj *channel, robj *message) {
  for (int i = 0; i < keyspace.count; i++) {
    if (keyspace.sets[i]->publish != NULL) {
      keyspace.sets[i]->publish(channel, message, 0);
    }
  }
}

int keyspace_events_string_to_flags(const char *classes) {
  int flags = 0;
  for (const char *p = classes; *p != '\0'; p++) {
    switch (*p) {
      case 'A':
        flags |= NOTIFY_ALL;
        break;
      case 'g':
        flags |= NOTIFY_GENERIC;
        break;
      case '$':
        flags |= NOTIFY_STRING;
        break;
      case 'l':
        flags |= NOTIFY_LIST;
        break;
      case 's':
        flags |= NOTIFY_SET;
        break;
      case 'h':
        flags |= NOTIFY_HASH;
        break;
      case 'z':
        flags |= NOTIFY_ZSET;
        break;
      case 'x':
        flags |= NOTIFY_EXPIRED;
        break;
      case 'e':
        flags |= NOTIFY_EVICTED;
        break;
      case 'K':
        flags |= NOTIFY_KEYSPACE;
        break;
      case 'E':
        flags |= NOTIFY_KEYEVENT;
        break;
      case 't':
        flags |= NOTIFY_STREAM;
        break;
      case 'm':
        flags |= NOTIFY_KEY_MISS;
        break;
      case 'd':
        flags |= NOTIFY_MODULE;
        break;
      case 'n':
        flags |= NOTIFY_NEW;
        break;
      default:
        return -1;
    }
  }
  return flags;
}

sds keyspace_events_flags_to_string(int flags) {
  sds res = sds_empty();
  if ((flags & NOTIFY_ALL) == NOTIFY_ALL) {
    res = sds_cat_len(res, "A", 1);
  } else {
    if (flags & NOTIFY_GENERIC) {
      res = sds_cat_len(res, "g", 1);
    }
    if (flags & NOTIFY_STRING) {
      res = sds_cat_len(res, "$", 1);
    }
    if (flags & NOTIFY_LIST) {
      res = sds_cat_len(res, "l", 1);
    }
    if (flags & NOTIFY_SET) {
      res = sds_cat_len(res, "s", 1);
    }
    if (flags & NOTIFY_HASH) {
      res = sds_cat_len(res, "h", 1);
    }
    if (flags & NOTIFY_ZSET) {
      res = sds_cat_len(res, "z", 1);
    }
    if (flags & NOTIFY_EXPIRED) {
      res = sds_cat_len(res, "x", 1);
    }
    if (flags & NOTIFY_EVICTED) {
      res = sds_cat_len(res, "e", 1);
    }
    if (flags & NOTIFY_STREAM) {
      res = sds_cat_len(res, "t", 1);
    }
    if (flags & NOTIFY_MODULE) {
      res = sds_cat_len(res, "d", 1);
    }
    if (flags & NOTIFY_NEW) {
      res = sds_cat_len(res, "n", 1);
    }
  }
  if (flags & NOTIFY_KEYSPACE) {
    res = sds_cat_len(res, "K", 1);
  }
  if (flags & NOTIFY_KEYEVENT) {
    res = sds_cat_len(res, "E", 1);
  }
  if (flags & NOTIFY_KEY_MISS) {
    res = sds_cat_len(res, "m", 1);
  }
  return res;
}

/* notify_keyspace_event publishes "__keyspace@<db>__:<key>" -> event and
 * "__keyevent@<db>__:<event>" -> key when the class of |type| and K/E are
 * enabled. */
void notify_keyspace_event(int type, const char *event, robj *key, int dbid) {
  int flags = server.notify_keyspace_events;
  if (!(flags & type) || keyspace.publish_hooks == 0) {
    return;
  }
  char dbbuf[LONG_STR_SIZE];
  int dblen = ll2string(dbbuf, sizeof(dbbuf), dbid);
  robj *eventobj = create_string_object(event, strlen(event));
  if (flags & NOTIFY_KEYSPACE) {
    sds chan = sds_new_len("__keyspace@", 11);
    chan = sds_cat_len(chan, dbbuf, (size_t)dblen);
    chan = sds_cat_len(chan, "__:", 3);
    robj *keystr = get_decoded_object(key);
    chan = sds_cat_sds(chan, keystr->ptr);
    decr_ref_count(keystr);
    robj *chanobj = create_object(OBJ_STRING, chan);
    keyspace_publish(chanobj, eventobj);
    decr_ref_count(chanobj);
  }
  if (flags & NOTIFY_KEYEVENT) {
    sds chan = sds_new_len("__keyevent@", 11);
    chan = sds_cat_len(chan, dbbuf, (size_t)dblen);
    chan = sds_cat_len(chan, "__:", 3);
    chan = sds_cat(chan, event);
    robj *chanobj = create_object(OBJ_STRING, chan);
    keyspace_publish(chanobj, key);
    decr_ref_count(chanobj);
  }
  decr_ref_count(eventobj);
}

/* signal_modified_key runs after every keyspace change: WATCH marks the
 * watching transactions dirty here, and client-side caching invalidates
 * the key for the clients that may cache it. */
void signal_modified_key(client *c, redis_db *db, robj *key) {
  for (int i = 0; i < keyspace.count; i++) {
    if (keyspace.sets[i]->key_modified != NULL) {
      keyspace.sets[i]->key_modified(db, key);
    }
  }
  tracking_invalidate_key(c, key, 1);
}

/* signal_flushed_db runs before FLUSHDB/FLUSHALL empty |dbid| (-1: all):
 * WATCH marks transactions watching existing keys of those dbs dirty;
 * every tracking client gets a null invalidation (the tracking table is
 * not per database). */
void signal_flushed_db(int dbid, int async) {
  int start = dbid == -1 ? 0 : dbid;
  int end = dbid == -1 ? server.dbnum - 1 : dbid;
  for (int j = start; j <= end; j++) {
    keyspace_signal_db_replaced(&server.db[j], NULL);
  }
  tracking_invalidate_keys_on_flush(async);
}
