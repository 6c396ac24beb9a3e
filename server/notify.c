/* notify.c: keyspace event flags (notify-keyspace-events) and the
 * modification hooks that WATCH and pub/sub plug into.
 *
 * Publishing goes through pubsub_publish_message(), which arrives with the
 * pub/sub module; until it is linked in, events are computed and dropped. */
#include "server.h"

#pragma weak pubsub_publish_message
#pragma weak touch_watched_key
#pragma weak touch_all_watched_keys_in_db

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
  if (!(flags & type) || pubsub_publish_message == NULL) {
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
    pubsub_publish_message(chanobj, eventobj, 0);
    decr_ref_count(chanobj);
  }
  if (flags & NOTIFY_KEYEVENT) {
    sds chan = sds_new_len("__keyevent@", 11);
    chan = sds_cat_len(chan, dbbuf, (size_t)dblen);
    chan = sds_cat_len(chan, "__:", 3);
    chan = sds_cat(chan, event);
    robj *chanobj = create_object(OBJ_STRING, chan);
    pubsub_publish_message(chanobj, key, 0);
    decr_ref_count(chanobj);
  }
  decr_ref_count(eventobj);
}

/* signal_modified_key runs after every keyspace change: WATCH marks the
 * watching transactions dirty here (and client-side caching would
 * invalidate here). */
void signal_modified_key(client *c, redis_db *db, robj *key) {
  (void)c;
  if (touch_watched_key != NULL) {
    touch_watched_key(db, key);
  }
}

/* signal_flushed_db runs before FLUSHDB/FLUSHALL empty |dbid| (-1: all):
 * WATCH marks transactions watching existing keys of those dbs dirty. */
void signal_flushed_db(int dbid, int async) {
  (void)async;
  if (touch_all_watched_keys_in_db == NULL) {
    return;
  }
  int start = dbid == -1 ? 0 : dbid;
  int end = dbid == -1 ? server.dbnum - 1 : dbid;
  for (int j = start; j <= end; j++) {
    touch_all_watched_keys_in_db(&server.db[j], NULL);
  }
}
