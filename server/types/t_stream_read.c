/* t_stream_read.c: replying with stream ranges (XRANGE, XREAD, consumer
 * group deliveries that create pending entries), XREAD / XREADGROUP and
 * their blocking form on the blocking framework (blocked.h), and the hook
 * that wakes XREADGROUP clients whose stream went away. */
#include <string.h>
#include <strings.h>

#include "server/base/zmalloc.h"
#include "server/types/blocked.h"
#include "server/types/t_stream.h"

/* Without COUNT a blocked XREAD is served at most this many entries. */
#define XREAD_BLOCKED_DEFAULT_COUNT 1000
#define STREAMID_STATIC_VECTOR_LEN 8

/* ------------------------------------------------------------------ */
/* Replies with ranges                                                  */
/* ------------------------------------------------------------------ */

/* reply_from_consumer_pel: XREADGROUP with an ID other than ">": the
 * consumer's own pending entries from start on (a deleted entry shows as
 * its ID with a null). Each delivery counts. */
static size_t reply_from_consumer_pel(client *c, stream *s, stream_id *start,
                                      stream_id *end, size_t count,
                                      stream_consumer *consumer) {
  size_t len = 0;
  void *len_ptr = add_reply_deferred_len(c);
  idtree_iter it;
  int ok = idtree_seek(&it, consumer->pel, IDTREE_GE, *start);
  while (ok && (!count || len < count)) {
    stream_id id = idtree_iter_key(&it);
    if (end != NULL && stream_id_cmp(&id, end) > 0) {
      break;
    }
    stream_nack *nack = *idtree_iter_value(&it);
    if (stream_reply_with_range(c, s, &id, &id, 1, 0, NULL, NULL,
                                STREAM_RWR_RAWENTRIES, NULL) == 0) {
      add_reply_array_len(c, 2);
      add_reply_stream_id(c, &id);
      add_reply_null_array(c);
    } else {
      nack->delivery_time = mstime();
      nack->delivery_count++;
    }
    len++;
    ok = idtree_iter_next(&it);
  }
  set_deferred_array_len(c, len_ptr, (long)len);
  return len;
}

/* deliver_to_consumer records entry id as delivered to consumer in the
 * group's PEL (taking it over if another consumer had it). */
static stream_nack *deliver_to_consumer(stream_cg *group,
                                        stream_consumer *consumer,
                                        const stream_id *id) {
  stream_nack *nack = stream_create_nack(consumer);
  if (idtree_insert(group->pel, *id, nack)) {
    if (!idtree_insert(consumer->pel, *id, nack)) {
      server_panic("NACK half-created. Should not be possible.");
    }
    return nack;
  }
  zfree(nack);
  nack = *idtree_find(group->pel, *id);
  idtree_remove(nack->consumer->pel, *id, NULL);
  nack->consumer = consumer;
  nack->delivery_time = mstime();
  nack->delivery_count = 1;
  idtree_insert(consumer->pel, *id, nack);
  return nack;
}

size_t stream_reply_with_range(client *c, stream *s, stream_id *start,
                               stream_id *end, size_t count, int rev,
                               stream_cg *group, stream_consumer *consumer,
                               int flags, stream_prop_info *spi) {
  if (group != NULL && (flags & STREAM_RWR_HISTORY)) {
    return reply_from_consumer_pel(c, s, start, end, count, consumer);
  }
  void *len_ptr = NULL;
  size_t len = 0;
  int propagate_last_id = 0;
  int noack = flags & STREAM_RWR_NOACK;
  if (!(flags & STREAM_RWR_RAWENTRIES)) {
    len_ptr = add_reply_deferred_len(c);
  }
  stream_iter si;
  stream_id id;
  int64_t numfields;
  stream_iter_start(&si, s, start, end, rev);
  while (stream_iter_get_id(&si, &id, &numfields)) {
    if (group != NULL && stream_id_cmp(&id, &group->last_id) > 0) {
      if (group->entries_read != SCG_INVALID_ENTRIES_READ &&
          !stream_range_has_tombstones(s, &id, NULL)) {
        group->entries_read = stream_ms_diff(group->entries_read, -1);
      } else if (s->entries_added) {
        group->entries_read =
            stream_estimate_distance_from_first_ever_entry(s, &id);
      }
      group->last_id = id;
      if (noack) {
        propagate_last_id = 1;
      }
    }
    add_reply_array_len(c, 2);
    add_reply_stream_id(c, &id);
    add_reply_array_len(c, (long)(numfields * 2));
    while (numfields--) {
      unsigned char *field, *value;
      int64_t field_len, value_len;
      stream_iter_get_field(&si, &field, &value, &field_len, &value_len);
      add_reply_bulk_cbuffer(c, field, (size_t)field_len);
      add_reply_bulk_cbuffer(c, value, (size_t)value_len);
    }
    if (group != NULL && !noack) {
      stream_nack *nack = deliver_to_consumer(group, consumer, &id);
      if (spi != NULL) {
        robj *idarg = stream_id_to_object(&id);
        stream_propagate_xclaim(c, spi->keyname, group, spi->groupname, idarg,
                                nack);
        decr_ref_count(idarg);
      }
    }
    len++;
    if (count && count == len) {
      break;
    }
  }
  if (spi != NULL && propagate_last_id) {
    stream_propagate_group_id(c, spi->keyname, group, spi->groupname);
  }
  stream_iter_stop(&si);
  if (len_ptr != NULL) {
    set_deferred_array_len(c, len_ptr, (long)len);
  }
  return len;
}

/* ------------------------------------------------------------------ */
/* Blocking                                                             */
/* ------------------------------------------------------------------ */
typedef struct xread_wait {
  int numkeys;
  robj **keys; /* own references */
  stream_id *ids;
  long long count;
  robj *group, *consumer; /* XREADGROUP, else NULL */
  int noack;
} xread_wait;

static void xread_wait_free(void *privdata) {
  xread_wait *w = privdata;
  for (int i = 0; i < w->numkeys; i++) {
    decr_ref_count(w->keys[i]);
  }
  zfree(w->keys);
  zfree(w->ids);
  if (w->group != NULL) {
    decr_ref_count(w->group);
    decr_ref_count(w->consumer);
  }
  zfree(w);
}

/* serve_blocked_read answers a client blocked in XREAD / XREADGROUP when
 * the stream at key has something past what it waits for. */
static int serve_blocked_read(client *c, redis_db *db, robj *key, robj *o,
                              void *privdata) {
  (void)db;
  xread_wait *w = privdata;
  stream *s = o->ptr;
  stream_id *gt = NULL;
  for (int i = 0; i < w->numkeys; i++) {
    if (equal_string_objects(w->keys[i], key)) {
      gt = &w->ids[i]; /* the first occurrence, as Redis keeps it */
      break;
    }
  }
  if (gt == NULL) {
    return 0;
  }
  stream_cg *group = NULL;
  if (w->group != NULL) {
    group = stream_lookup_cg(s, w->group->ptr);
    if (group == NULL) {
      add_reply_error(c,
                      "-NOGROUP the consumer group this client was blocked "
                      "on no longer exists");
      return 1;
    }
    *gt = group->last_id;
  }
  if (stream_id_cmp(&s->last_id, gt) <= 0) {
    return 0;
  }
  stream_id start = *gt;
  stream_id_incr(&start);
  /* Queue what this delivery propagates, then hand it over as one unit
   * (wrapped in MULTI/EXEC when there are several commands), as Redis
   * does after serving a blocked client. */
  server.in_nested_call++;
  stream_consumer *consumer = NULL;
  if (group != NULL) {
    consumer = stream_lookup_consumer(group, w->consumer->ptr, SLC_DEFAULT);
    if (consumer == NULL) {
      consumer = stream_create_consumer(group, w->consumer->ptr, key, c->db->id,
                                        SCC_DEFAULT);
      if (w->noack) {
        stream_propagate_consumer_creation(c, key, w->group, consumer->name);
      }
    }
  }
  if (c->resp == 2) {
    add_reply_array_len(c, 1);
    add_reply_array_len(c, 2);
  } else {
    add_reply_map_len(c, 1);
  }
  add_reply_bulk(c, key);
  stream_prop_info spi = {key, w->group};
  stream_reply_with_range(c, s, &start, NULL, (size_t)w->count, 0, group,
                          consumer, w->noack ? STREAM_RWR_NOACK : 0, &spi);
  server.in_nested_call--;
  if (server.in_nested_call == 0) {
    propagate_pending_commands();
  }
  return 1;
}

/* readgroup_key_gone: the stream an XREADGROUP client waits on was
 * deleted or replaced by another type. */
static int readgroup_key_gone(client *c, redis_db *db, robj *key,
                              void *privdata) {
  (void)db;
  (void)key;
  (void)privdata;
  add_reply_error(c, "-UNBLOCKED the stream key no longer exists");
  return 1;
}

/* scan_deleted_streams: before |emptied| is flushed or swapped with
 * replaced_with, wake the clients blocked on a stream there that will
 * not be a stream any more (Redis's scanDatabaseForDeletedStreams). */
static void scan_deleted_streams(redis_db *emptied, redis_db *replaced_with) {
  if (emptied->blocking_keys == NULL ||
      dict_size(emptied->blocking_keys) == 0) {
    return;
  }
  dict_iterator di;
  dict_init_safe_iterator(&di, emptied->blocking_keys);
  dict_entry *de;
  while ((de = dict_next(&di)) != NULL) {
    robj *key = dict_get_key(de);
    dict_entry *kde = dict_find(emptied->dict, key->ptr);
    int was_stream =
        kde != NULL && ((robj *)dict_get_val(kde))->type == OBJ_STREAM;
    int is_stream = 0;
    if (replaced_with != NULL) {
      kde = dict_find(replaced_with->dict, key->ptr);
      is_stream =
          kde != NULL && ((robj *)dict_get_val(kde))->type == OBJ_STREAM;
    }
    if (was_stream && !is_stream) {
      keyspace_signal_key_ready(emptied, key, OBJ_STREAM);
    }
  }
  dict_reset_iterator(&di);
}

static const keyspace_hooks stream_keyspace_hooks = {
    .db_replaced = scan_deleted_streams,
};

void stream_blocking_register(void) {
  keyspace_register_hooks(&stream_keyspace_hooks);
}

/* ------------------------------------------------------------------ */
/* XREAD / XREADGROUP                                                   */
/* ------------------------------------------------------------------ */

typedef struct xread_args {
  long long deadline; /* -1: no BLOCK */
  long long count;
  int streams_arg, streams_count;
  int noack;
  robj *groupname, *consumername;
} xread_args;

/* parse_xread_args: C_ERR after replying. */
static int parse_xread_args(client *c, int xreadgroup, xread_args *a) {
  memset(a, 0, sizeof(*a));
  a->deadline = -1;
  for (int i = 1; i < c->argc; i++) {
    int moreargs = c->argc - i - 1;
    const char *o = c->argv[i]->ptr;
    if (!strcasecmp(o, "BLOCK") && moreargs) {
      if (c->flags & CLIENT_SCRIPT) {
        add_reply_error_format(
            c, "%s command is not allowed with BLOCK option from scripts",
            (char *)c->argv[0]->ptr);
        return C_ERR;
      }
      i++;
      if (blocking_get_timeout_ms_or_reply(c, c->argv[i], &a->deadline) !=
          C_OK) {
        return C_ERR;
      }
    } else if (!strcasecmp(o, "COUNT") && moreargs) {
      i++;
      if (get_long_long_from_object_or_reply(c, c->argv[i], &a->count, NULL) !=
          C_OK) {
        return C_ERR;
      }
      if (a->count < 0) {
        a->count = 0;
      }
    } else if (!strcasecmp(o, "STREAMS") && moreargs) {
      a->streams_arg = i + 1;
      a->streams_count = c->argc - a->streams_arg;
      if (a->streams_count % 2 != 0) {
        add_reply_error(c,
                        "Unbalanced XREAD list of streams: for each stream "
                        "key an ID or '$' must be specified.");
        return C_ERR;
      }
      a->streams_count /= 2;
      break;
    } else if (!strcasecmp(o, "GROUP") && moreargs >= 2) {
      if (!xreadgroup) {
        add_reply_error(c,
                        "The GROUP option is only supported by XREADGROUP. "
                        "You called XREAD instead.");
        return C_ERR;
      }
      a->groupname = c->argv[i + 1];
      a->consumername = c->argv[i + 2];
      i += 2;
    } else if (!strcasecmp(o, "NOACK")) {
      if (!xreadgroup) {
        add_reply_error(c,
                        "The NOACK option is only supported by XREADGROUP. "
                        "You called XREAD instead.");
        return C_ERR;
      }
      a->noack = 1;
    } else {
      add_reply_error_object(c, shared.syntaxerr);
      return C_ERR;
    }
  }
  if (a->streams_arg == 0) {
    add_reply_error_object(c, shared.syntaxerr);
    return C_ERR;
  }
  if (xreadgroup && a->groupname == NULL) {
    add_reply_error(c, "Missing GROUP option for XREADGROUP");
    return C_ERR;
  }
  return C_OK;
}

/* resolve_ids parses each stream's ID (and finds each group). C_ERR after
 * replying. */
static int resolve_ids(client *c, const xread_args *a, int xreadgroup,
                       stream_id *ids, stream_cg **groups) {
  for (int i = a->streams_arg + a->streams_count; i < c->argc; i++) {
    int id_idx = i - a->streams_arg - a->streams_count;
    robj *key = c->argv[i - a->streams_count];
    robj *o = lookup_key_read(c->db, key);
    if (check_type(c, o, OBJ_STREAM)) {
      return C_ERR;
    }
    if (a->groupname != NULL) {
      stream_cg *group = NULL;
      if (o == NULL ||
          (group = stream_lookup_cg(o->ptr, a->groupname->ptr)) == NULL) {
        add_reply_error_format(c,
                               "-NOGROUP No such key '%s' or consumer group "
                               "'%s' in XREADGROUP with GROUP option",
                               (char *)key->ptr, (char *)a->groupname->ptr);
        return C_ERR;
      }
      groups[id_idx] = group;
    }
    const char *arg = c->argv[i]->ptr;
    if (!strcmp(arg, "$")) {
      if (xreadgroup) {
        add_reply_error(
            c,
            "The $ ID is meaningless in the context of XREADGROUP: you want "
            "to read the history of this consumer by specifying a proper "
            "ID, or use the > ID to get new messages. The $ ID would just "
            "return an empty result set.");
        return C_ERR;
      }
      ids[id_idx] = o ? ((stream *)o->ptr)->last_id : (stream_id){0, 0};
      continue;
    }
    if (!strcmp(arg, ">")) {
      if (!xreadgroup) {
        add_reply_error(c,
                        "The > ID can be specified only when calling "
                        "XREADGROUP using the GROUP <group> <consumer> "
                        "option.");
        return C_ERR;
      }
      ids[id_idx] = (stream_id){UINT64_MAX, UINT64_MAX};
      continue;
    }
    if (stream_parse_id(c, c->argv[i], &ids[id_idx], 0, 1, NULL) != C_OK) {
      return C_ERR;
    }
  }
  return C_OK;
}

/* serve_now replies for every stream that has something for the client.
 * Returns how many streams were served (0: nothing replied). */
static size_t serve_now(client *c, const xread_args *a, stream_id *ids,
                        stream_cg **groups) {
  size_t len = 0;
  void *len_ptr = NULL;
  for (int i = 0; i < a->streams_count; i++) {
    robj *key = c->argv[a->streams_arg + i];
    robj *o = lookup_key_read(c->db, key);
    if (o == NULL) {
      continue;
    }
    stream *s = o->ptr;
    stream_id *gt = &ids[i];
    int serve = 0, history = 0;
    if (groups != NULL) {
      if (gt->ms != UINT64_MAX || gt->seq != UINT64_MAX) {
        serve = 1;
        history = 1;
      } else if (s->length) {
        stream_id maxid;
        stream_last_valid_id(s, &maxid);
        if (stream_id_cmp(&maxid, &groups[i]->last_id) > 0) {
          serve = 1;
          *gt = groups[i]->last_id;
        }
      }
    } else if (s->length) {
      stream_id maxid;
      stream_last_valid_id(s, &maxid);
      serve = stream_id_cmp(&maxid, gt) > 0;
    }
    if (!serve) {
      continue;
    }
    len++;
    if (len == 1) {
      len_ptr = add_reply_deferred_len(c);
    }
    stream_id start = *gt;
    stream_id_incr(&start);
    if (c->resp == 2) {
      add_reply_array_len(c, 2);
    }
    add_reply_bulk(c, key);
    stream_consumer *consumer = NULL;
    stream_prop_info spi = {key, a->groupname};
    if (groups != NULL) {
      consumer =
          stream_lookup_consumer(groups[i], a->consumername->ptr, SLC_DEFAULT);
      if (consumer == NULL) {
        consumer = stream_create_consumer(groups[i], a->consumername->ptr, key,
                                          c->db->id, SCC_DEFAULT);
        if (a->noack) {
          stream_propagate_consumer_creation(c, key, a->groupname,
                                             consumer->name);
        }
      }
    }
    int flags =
        (a->noack ? STREAM_RWR_NOACK : 0) | (history ? STREAM_RWR_HISTORY : 0);
    stream_reply_with_range(c, s, &start, NULL, (size_t)a->count, 0,
                            groups ? groups[i] : NULL, consumer, flags, &spi);
    if (groups != NULL) {
      server.dirty++;
    }
  }
  if (len) {
    if (c->resp == 2) {
      set_deferred_array_len(c, len_ptr, (long)len);
    } else {
      set_deferred_map_len(c, len_ptr, (long)len);
    }
  }
  return len;
}

static void block_read(client *c, const xread_args *a, stream_id *ids) {
  xread_wait *w = zmalloc(sizeof(*w));
  w->numkeys = a->streams_count;
  w->keys = zmalloc(sizeof(robj *) * (size_t)a->streams_count);
  w->ids = zmalloc(sizeof(stream_id) * (size_t)a->streams_count);
  for (int i = 0; i < a->streams_count; i++) {
    w->keys[i] = c->argv[a->streams_arg + i];
    incr_ref_count(w->keys[i]);
    w->ids[i] = ids[i];
  }
  w->count = a->count ? a->count : XREAD_BLOCKED_DEFAULT_COUNT;
  w->group = a->groupname;
  w->consumer = a->consumername;
  w->noack = a->noack;
  if (w->group != NULL) {
    incr_ref_count(w->group);
    incr_ref_count(w->consumer);
  }
  block_for_keys(c, &c->argv[a->streams_arg], a->streams_count, a->deadline,
                 OBJ_STREAM, serve_blocked_read, w, xread_wait_free);
  if (w->group != NULL) {
    blocking_set_gone_proc(c, readgroup_key_gone);
  }
}

void xread_command(client *c) {
  int xreadgroup = sds_len(c->argv[0]->ptr) == 10;
  xread_args a;
  stream_id static_ids[STREAMID_STATIC_VECTOR_LEN];
  stream_id *ids = static_ids;
  stream_cg **groups = NULL;
  if (parse_xread_args(c, xreadgroup, &a) != C_OK) {
    goto cleanup;
  }
  if (a.streams_count > STREAMID_STATIC_VECTOR_LEN) {
    ids = zmalloc(sizeof(stream_id) * (size_t)a.streams_count);
  }
  if (a.groupname != NULL) {
    groups = zmalloc(sizeof(stream_cg *) * (size_t)a.streams_count);
  }
  if (resolve_ids(c, &a, xreadgroup, ids, groups) != C_OK) {
    goto cleanup;
  }
  if (serve_now(c, &a, ids, groups)) {
    goto cleanup;
  }
  if (a.deadline != -1) {
    if (blocking_is_denied(c)) {
      add_reply_null_array(c);
    } else {
      block_read(c, &a, ids);
    }
    goto cleanup;
  }
  add_reply_null_array(c);
cleanup:
  /* XREADGROUP propagates its effects as XCLAIM / XGROUP commands. */
  stream_prevent_propagation(c);
  if (ids != static_ids) {
    zfree(ids);
  }
  zfree(groups);
}

int xread_get_keys(struct redis_command *cmd, robj **argv, int argc,
                   get_keys_result *result) {
  (void)cmd;
  int streams_pos = -1;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i]->ptr;
    if (!sds_encoded_object(argv[i])) {
      break;
    }
    if (!strcasecmp(arg, "block") || !strcasecmp(arg, "count")) {
      i++;
    } else if (!strcasecmp(arg, "group")) {
      i += 2;
    } else if (!strcasecmp(arg, "noack")) {
      continue;
    } else if (!strcasecmp(arg, "streams")) {
      streams_pos = i;
      break;
    } else {
      break;
    }
  }
  int num = streams_pos != -1 ? argc - streams_pos - 1 : 0;
  if (streams_pos == -1 || num == 0 || num % 2 != 0) {
    result->numkeys = 0;
    return 0;
  }
  num /= 2;
  key_reference *keys = get_keys_prepare_result(result, num);
  for (int i = 0; i < num; i++) {
    keys[i].pos = streams_pos + 1 + i;
    keys[i].flags = 0;
  }
  result->numkeys = num;
  return num;
}
