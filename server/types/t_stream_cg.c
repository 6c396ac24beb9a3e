/* t_stream_cg.c: consumer groups (see t_stream.h): the sorted name maps,
 * groups, consumers and their PELs, the read counters, how group changes
 * propagate (as Redis 7.0 writes them: XCLAIM, XGROUP SETID, XGROUP
 * CREATECONSUMER), and XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "server/base/zmalloc.h"
#include "server/types/t_stream.h"

/* Strings of the propagated commands (created once). */
static struct {
  robj *xclaim, *xgroup, *time, *retrycount, *force, *justid, *lastid, *setid,
      *entriesread, *createconsumer;
} sx;

static robj *shared_str(const char *s) {
  return make_object_shared(create_string_object(s, strlen(s)));
}

static void stream_shared_init(void) {
  if (sx.xclaim != NULL) {
    return;
  }
  sx.xclaim = shared_str("XCLAIM");
  sx.xgroup = shared_str("XGROUP");
  sx.time = shared_str("TIME");
  sx.retrycount = shared_str("RETRYCOUNT");
  sx.force = shared_str("FORCE");
  sx.justid = shared_str("JUSTID");
  sx.lastid = shared_str("LASTID");
  sx.setid = shared_str("SETID");
  sx.entriesread = shared_str("ENTRIESREAD");
  sx.createconsumer = shared_str("CREATECONSUMER");
}

static const stream_id id_zero = {0, 0};

/* ------------------------------------------------------------------ */
/* Name maps                                                            */
/* ------------------------------------------------------------------ */

/* name_cmp orders names as Redis's radix tree does: bytes, then length. */
static int name_cmp(const char *a, size_t alen, const char *b, size_t blen) {
  size_t n = alen < blen ? alen : blen;
  int c = n ? memcmp(a, b, n) : 0;
  if (c != 0) {
    return c;
  }
  return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

/* map_search: the index of name, or where it would go (*out_found 0). */
static size_t map_search(const stream_map *m, const char *name, size_t len,
                         int *out_found) {
  size_t lo = 0, hi = m->len;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    sds n = m->entries[mid].name;
    int c = name_cmp(n, sds_len(n), name, len);
    if (c == 0) {
      *out_found = 1;
      return mid;
    }
    if (c < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  *out_found = 0;
  return lo;
}

stream_map_entry *stream_map_find(const stream_map *m, const char *name,
                                  size_t len) {
  int found;
  size_t i = map_search(m, name, len, &found);
  return found ? &m->entries[i] : NULL;
}

int stream_map_add(stream_map *m, sds name, void *value) {
  int found;
  size_t i = map_search(m, name, sds_len(name), &found);
  if (found) {
    return 0;
  }
  if (m->len == m->cap) {
    m->cap = m->cap ? m->cap * 2 : 4;
    m->entries = zrealloc(m->entries, sizeof(stream_map_entry) * m->cap);
  }
  memmove(&m->entries[i + 1], &m->entries[i],
          sizeof(stream_map_entry) * (m->len - i));
  m->entries[i].name = name;
  m->entries[i].value = value;
  m->len++;
  return 1;
}

int stream_map_remove(stream_map *m, const char *name, size_t len) {
  int found;
  size_t i = map_search(m, name, len, &found);
  if (!found) {
    return 0;
  }
  memmove(&m->entries[i], &m->entries[i + 1],
          sizeof(stream_map_entry) * (m->len - i - 1));
  m->len--;
  return 1;
}

void stream_map_clear(stream_map *m) {
  zfree(m->entries);
  m->entries = NULL;
  m->len = m->cap = 0;
}

/* ------------------------------------------------------------------ */
/* Groups, consumers, NACKs                                             */
/* ------------------------------------------------------------------ */
stream_nack *stream_create_nack(stream_consumer *consumer) {
  stream_nack *nack = zmalloc(sizeof(*nack));
  nack->delivery_time = mstime();
  nack->delivery_count = 1;
  nack->consumer = consumer;
  return nack;
}

static void free_consumer(stream_consumer *consumer) {
  idtree_release(consumer->pel, NULL); /* the nacks belong to the group */
  sds_free(consumer->name);
  zfree(consumer);
}

void stream_free_cg(stream_cg *cg) {
  idtree_release(cg->pel, zfree);
  for (size_t i = 0; i < cg->consumers.len; i++) {
    free_consumer(cg->consumers.entries[i].value);
  }
  stream_map_clear(&cg->consumers);
  sds_free(cg->name);
  zfree(cg);
}

stream_cg *stream_create_cg(stream *s, const char *name, size_t len,
                            const stream_id *id, long long entries_read) {
  if (s->groups == NULL) {
    s->groups = zcalloc(sizeof(*s->groups));
  }
  if (stream_map_find(s->groups, name, len) != NULL) {
    return NULL;
  }
  stream_cg *cg = zcalloc(sizeof(*cg));
  cg->name = sds_new_len(name, len);
  cg->pel = idtree_create();
  cg->last_id = *id;
  cg->entries_read = entries_read;
  stream_map_add(s->groups, cg->name, cg);
  return cg;
}

stream_cg *stream_lookup_cg(stream *s, sds name) {
  if (s->groups == NULL) {
    return NULL;
  }
  stream_map_entry *e = stream_map_find(s->groups, name, sds_len(name));
  return e ? e->value : NULL;
}

stream_consumer *stream_create_consumer(stream_cg *cg, sds name, robj *key,
                                        int dbid, int flags) {
  if (cg == NULL ||
      stream_map_find(&cg->consumers, name, sds_len(name)) != NULL) {
    return NULL;
  }
  stream_consumer *consumer = zmalloc(sizeof(*consumer));
  consumer->name = sds_dup(name);
  consumer->pel = idtree_create();
  consumer->seen_time = mstime();
  stream_map_add(&cg->consumers, consumer->name, consumer);
  if (!(flags & SCC_NO_DIRTIFY)) {
    server.dirty++;
  }
  if (!(flags & SCC_NO_NOTIFY)) {
    notify_keyspace_event(NOTIFY_STREAM, "xgroup-createconsumer", key, dbid);
  }
  return consumer;
}

stream_consumer *stream_lookup_consumer(stream_cg *cg, sds name, int flags) {
  if (cg == NULL) {
    return NULL;
  }
  stream_map_entry *e = stream_map_find(&cg->consumers, name, sds_len(name));
  if (e == NULL) {
    return NULL;
  }
  stream_consumer *consumer = e->value;
  if (!(flags & SLC_NO_REFRESH)) {
    consumer->seen_time = mstime();
  }
  return consumer;
}

/* del_consumer drops a consumer and its pending entries from the group. */
static void del_consumer(stream_cg *cg, stream_consumer *consumer) {
  idtree_iter it;
  int ok = idtree_seek(&it, consumer->pel, IDTREE_FIRST, id_zero);
  while (ok) {
    void *nack = NULL;
    idtree_remove(cg->pel, idtree_iter_key(&it), &nack);
    zfree(nack);
    ok = idtree_iter_next(&it);
  }
  stream_map_remove(&cg->consumers, consumer->name, sds_len(consumer->name));
  free_consumer(consumer);
}

/* drop_nack removes a pending entry from the group and its owner. */
static void drop_nack(stream_cg *group, const stream_id *id,
                      stream_nack *nack) {
  idtree_remove(group->pel, *id, NULL);
  if (nack->consumer != NULL) {
    idtree_remove(nack->consumer->pel, *id, NULL);
  }
  zfree(nack);
}

static stream_nack *find_nack(idtree *pel, const stream_id *id) {
  void **slot = idtree_find(pel, *id);
  return slot ? *slot : NULL;
}

/* ------------------------------------------------------------------ */
/* Read counters and lag                                                */
/* ------------------------------------------------------------------ */
int stream_range_has_tombstones(stream *s, const stream_id *start,
                                const stream_id *end) {
  if (!s->length || stream_id_is_zero(&s->max_deleted_entry_id)) {
    return 0;
  }
  if (stream_id_cmp(&s->first_id, &s->max_deleted_entry_id) > 0) {
    return 0;
  }
  stream_id start_id = start ? *start : id_zero;
  stream_id end_id = end ? *end : (stream_id){UINT64_MAX, UINT64_MAX};
  return stream_id_cmp(&start_id, &s->max_deleted_entry_id) <= 0 &&
         stream_id_cmp(&s->max_deleted_entry_id, &end_id) <= 0;
}

long long stream_estimate_distance_from_first_ever_entry(stream *s,
                                                         const stream_id *id) {
  if (!s->entries_added) {
    return 0;
  }
  if (!s->length && stream_id_cmp(id, &s->last_id) < 1) {
    return (long long)s->entries_added;
  }
  int cmp_last = stream_id_cmp(id, &s->last_id);
  if (cmp_last == 0) {
    return (long long)s->entries_added;
  }
  if (cmp_last > 0) {
    return SCG_INVALID_ENTRIES_READ;
  }
  int cmp_id_first = stream_id_cmp(id, &s->first_id);
  int cmp_xdel_first = stream_id_cmp(&s->max_deleted_entry_id, &s->first_id);
  if (stream_id_is_zero(&s->max_deleted_entry_id) || cmp_xdel_first < 0) {
    if (cmp_id_first < 0) {
      return (long long)(s->entries_added - s->length);
    }
    if (cmp_id_first == 0) {
      return (long long)(s->entries_added - s->length + 1);
    }
  }
  return SCG_INVALID_ENTRIES_READ;
}

void stream_reply_with_cg_lag(client *c, stream *s, stream_cg *cg) {
  int valid = 0;
  long long lag = 0;
  if (!s->entries_added) {
    valid = 1;
  } else if (cg->entries_read != SCG_INVALID_ENTRIES_READ &&
             !stream_range_has_tombstones(s, &cg->last_id, NULL)) {
    lag = stream_ms_diff((long long)s->entries_added, cg->entries_read);
    valid = 1;
  } else {
    long long entries_read =
        stream_estimate_distance_from_first_ever_entry(s, &cg->last_id);
    if (entries_read != SCG_INVALID_ENTRIES_READ) {
      lag = stream_ms_diff((long long)s->entries_added, entries_read);
      valid = 1;
    }
  }
  if (valid) {
    add_reply_long_long(c, lag);
  } else {
    add_reply_null(c);
  }
}

/* ------------------------------------------------------------------ */
/* Propagation                                                          */
/* ------------------------------------------------------------------ */
int stream_must_obey(client *c) {
  return (c->flags & CLIENT_MASTER) || (c->conn == NULL && server.loading);
}

void stream_prevent_propagation(client *c) {
  if (server.executing_client == c) {
    c->flags |= CLIENT_PREVENT_AOF_PROP; /* cleared when its call ends */
  }
}

void stream_propagate_xclaim(client *c, robj *key, stream_cg *group,
                             robj *groupname, robj *id, stream_nack *nack) {
  stream_shared_init();
  robj *argv[14];
  argv[0] = sx.xclaim;
  argv[1] = key;
  argv[2] = groupname;
  argv[3] =
      create_string_object(nack->consumer->name, sds_len(nack->consumer->name));
  argv[4] = shared.integers[0];
  argv[5] = id;
  argv[6] = sx.time;
  argv[7] = create_string_object_from_long_long(nack->delivery_time);
  argv[8] = sx.retrycount;
  argv[9] =
      create_string_object_from_long_long((long long)nack->delivery_count);
  argv[10] = sx.force;
  argv[11] = sx.justid;
  argv[12] = sx.lastid;
  argv[13] = stream_id_to_object(&group->last_id);
  also_propagate(c->db->id, argv, 14);
  decr_ref_count(argv[3]);
  decr_ref_count(argv[7]);
  decr_ref_count(argv[9]);
  decr_ref_count(argv[13]);
}

void stream_propagate_group_id(client *c, robj *key, stream_cg *group,
                               robj *groupname) {
  stream_shared_init();
  robj *argv[7];
  argv[0] = sx.xgroup;
  argv[1] = sx.setid;
  argv[2] = key;
  argv[3] = groupname;
  argv[4] = stream_id_to_object(&group->last_id);
  argv[5] = sx.entriesread;
  argv[6] = create_string_object_from_long_long(group->entries_read);
  also_propagate(c->db->id, argv, 7);
  decr_ref_count(argv[4]);
  decr_ref_count(argv[6]);
}

void stream_propagate_consumer_creation(client *c, robj *key, robj *groupname,
                                        sds consumername) {
  stream_shared_init();
  robj *argv[5];
  argv[0] = sx.xgroup;
  argv[1] = sx.createconsumer;
  argv[2] = key;
  argv[3] = groupname;
  argv[4] = create_string_object(consumername, sds_len(consumername));
  also_propagate(c->db->id, argv, 5);
  decr_ref_count(argv[4]);
}

/* ------------------------------------------------------------------ */
/* XGROUP                                                               */
/* ------------------------------------------------------------------ */
static const char *xgroup_help[] = {
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    NULL};

/* xgroup_create: CREATE, once its key, group and arguments are checked. */
static void xgroup_create(client *c, robj *o, stream *s, sds grpname,
                          long long entries_read, int mkstream) {
  stream_id id;
  if (!strcmp(c->argv[4]->ptr, "$")) {
    id = s ? s->last_id : id_zero;
  } else if (stream_parse_id(c, c->argv[4], &id, 0, 1, NULL) != C_OK) {
    return;
  }
  if (s == NULL) {
    server_assert(mkstream);
    o = stream_create_object();
    db_add(c->db, c->argv[2], o);
    s = o->ptr;
    signal_modified_key(c, c->db, c->argv[2]);
  }
  if (stream_create_cg(s, grpname, sds_len(grpname), &id, entries_read)) {
    add_reply(c, shared.ok);
    server.dirty++;
    notify_keyspace_event(NOTIFY_STREAM, "xgroup-create", c->argv[2],
                          c->db->id);
  } else {
    add_reply_error(c, "-BUSYGROUP Consumer Group name already exists");
  }
}

void xgroup_command(client *c) {
  stream *s = NULL;
  sds grpname = NULL;
  stream_cg *cg = NULL;
  const char *opt = c->argv[1]->ptr;
  int mkstream = 0;
  long long entries_read = SCG_INVALID_ENTRIES_READ;
  robj *o = NULL;

  if (c->argc >= 4) {
    int create = !strcasecmp(opt, "CREATE");
    int setid = !strcasecmp(opt, "SETID");
    for (int i = 5; i < c->argc;) {
      if (create && !strcasecmp(c->argv[i]->ptr, "MKSTREAM")) {
        mkstream = 1;
        i++;
      } else if ((create || setid) &&
                 !strcasecmp(c->argv[i]->ptr, "ENTRIESREAD") &&
                 i + 1 < c->argc) {
        if (get_long_long_from_object_or_reply(c, c->argv[i + 1], &entries_read,
                                               NULL) != C_OK) {
          return;
        }
        if (entries_read < 0 && entries_read != SCG_INVALID_ENTRIES_READ) {
          add_reply_error(c, "value for ENTRIESREAD must be positive or -1");
          return;
        }
        i += 2;
      } else {
        add_reply_subcommand_syntax_error(c);
        return;
      }
    }
    o = lookup_key_write(c->db, c->argv[2]);
    if (o != NULL) {
      if (check_type(c, o, OBJ_STREAM)) {
        return;
      }
      s = o->ptr;
    }
    grpname = c->argv[3]->ptr;
  }

  if (c->argc >= 4 && !mkstream) {
    if (s == NULL) {
      add_reply_error(
          c,
          "The XGROUP subcommand requires the key to exist. Note that for "
          "CREATE you may want to use the MKSTREAM option to create an "
          "empty stream automatically.");
      return;
    }
    if ((cg = stream_lookup_cg(s, grpname)) == NULL &&
        (!strcasecmp(opt, "SETID") || !strcasecmp(opt, "CREATECONSUMER") ||
         !strcasecmp(opt, "DELCONSUMER"))) {
      add_reply_error_format(c,
                             "-NOGROUP No such consumer group '%s' for key "
                             "name '%s'",
                             grpname, (char *)c->argv[2]->ptr);
      return;
    }
  }

  if (c->argc == 2 && !strcasecmp(opt, "HELP")) {
    add_reply_help(c, xgroup_help);
  } else if (!strcasecmp(opt, "CREATE") && c->argc >= 5 && c->argc <= 8) {
    xgroup_create(c, o, s, grpname, entries_read, mkstream);
  } else if (!strcasecmp(opt, "SETID") && (c->argc == 5 || c->argc == 7)) {
    stream_id id;
    if (!strcmp(c->argv[4]->ptr, "$")) {
      id = s->last_id;
    } else if (stream_parse_id(c, c->argv[4], &id, 0, 0, NULL) != C_OK) {
      return;
    }
    cg->last_id = id;
    cg->entries_read = entries_read;
    add_reply(c, shared.ok);
    server.dirty++;
    notify_keyspace_event(NOTIFY_STREAM, "xgroup-setid", c->argv[2], c->db->id);
  } else if (!strcasecmp(opt, "DESTROY") && c->argc == 4) {
    if (cg != NULL) {
      stream_map_remove(s->groups, grpname, sds_len(grpname));
      stream_free_cg(cg);
      add_reply(c, shared.cone);
      server.dirty++;
      notify_keyspace_event(NOTIFY_STREAM, "xgroup-destroy", c->argv[2],
                            c->db->id);
      /* XREADGROUP clients blocked on it get -NOGROUP. */
      keyspace_signal_key_ready(c->db, c->argv[2], OBJ_STREAM);
    } else {
      add_reply(c, shared.czero);
    }
  } else if (!strcasecmp(opt, "CREATECONSUMER") && c->argc == 5) {
    stream_consumer *created = stream_create_consumer(
        cg, c->argv[4]->ptr, c->argv[2], c->db->id, SCC_DEFAULT);
    add_reply_long_long(c, created ? 1 : 0);
  } else if (!strcasecmp(opt, "DELCONSUMER") && c->argc == 5) {
    long long pending = 0;
    stream_consumer *consumer =
        stream_lookup_consumer(cg, c->argv[4]->ptr, SLC_NO_REFRESH);
    if (consumer != NULL) {
      pending = (long long)idtree_size(consumer->pel);
      del_consumer(cg, consumer);
      server.dirty++;
      notify_keyspace_event(NOTIFY_STREAM, "xgroup-delconsumer", c->argv[2],
                            c->db->id);
    }
    add_reply_long_long(c, pending);
  } else {
    add_reply_subcommand_syntax_error(c);
  }
}

/* ------------------------------------------------------------------ */
/* XACK                                                                 */
/* ------------------------------------------------------------------ */

/* parse_ids parses argv[from..argc-1] as strict IDs into a vector (ids
 * or a new allocation when more than |static_len|). C_ERR after a reply
 * (when c is not NULL); *out_stop then is the first bad index. */
#define STREAMID_STATIC_VECTOR_LEN 8

void xack_command(client *c) {
  stream_cg *group = NULL;
  robj *o = lookup_key_read(c->db, c->argv[1]);
  if (o != NULL) {
    if (check_type(c, o, OBJ_STREAM)) {
      return;
    }
    group = stream_lookup_cg(o->ptr, c->argv[2]->ptr);
  }
  if (o == NULL || group == NULL) {
    add_reply(c, shared.czero);
    return;
  }
  stream_id static_ids[STREAMID_STATIC_VECTOR_LEN];
  stream_id *ids = static_ids;
  int id_count = c->argc - 3;
  if (id_count > STREAMID_STATIC_VECTOR_LEN) {
    ids = zmalloc(sizeof(stream_id) * (size_t)id_count);
  }
  for (int j = 3; j < c->argc; j++) {
    if (stream_parse_id(c, c->argv[j], &ids[j - 3], 0, 1, NULL) != C_OK) {
      goto cleanup;
    }
  }
  long long acknowledged = 0;
  for (int j = 0; j < id_count; j++) {
    stream_nack *nack = find_nack(group->pel, &ids[j]);
    if (nack != NULL) {
      drop_nack(group, &ids[j], nack);
      acknowledged++;
      server.dirty++;
    }
  }
  add_reply_long_long(c, acknowledged);
cleanup:
  if (ids != static_ids) {
    zfree(ids);
  }
}

/* ------------------------------------------------------------------ */
/* XPENDING                                                             */
/* ------------------------------------------------------------------ */
static void xpending_summary(client *c, stream_cg *group) {
  add_reply_array_len(c, 4);
  add_reply_long_long(c, (long long)idtree_size(group->pel));
  if (idtree_size(group->pel) == 0) {
    add_reply_null(c);
    add_reply_null(c);
    add_reply_null_array(c);
    return;
  }
  idtree_iter it;
  idtree_seek(&it, group->pel, IDTREE_FIRST, id_zero);
  stream_id first = idtree_iter_key(&it);
  add_reply_stream_id(c, &first);
  idtree_seek(&it, group->pel, IDTREE_LAST, id_zero);
  stream_id last = idtree_iter_key(&it);
  add_reply_stream_id(c, &last);
  void *len_ptr = add_reply_deferred_len(c);
  long len = 0;
  for (size_t i = 0; i < group->consumers.len; i++) {
    stream_consumer *consumer = group->consumers.entries[i].value;
    if (idtree_size(consumer->pel) == 0) {
      continue;
    }
    add_reply_array_len(c, 2);
    add_reply_bulk_cbuffer(c, consumer->name, sds_len(consumer->name));
    add_reply_bulk_long_long(c, (long long)idtree_size(consumer->pel));
    len++;
  }
  set_deferred_array_len(c, len_ptr, len);
}

void xpending_command(client *c) {
  int justinfo = c->argc == 3;
  robj *key = c->argv[1];
  robj *groupname = c->argv[2];
  robj *consumername = NULL;
  stream_id startid = id_zero, endid = id_zero;
  long long count = 0, minidle = 0;
  int startex = 0, endex = 0;

  if (c->argc != 3 && (c->argc < 6 || c->argc > 9)) {
    add_reply_error_object(c, shared.syntaxerr);
    return;
  }
  if (c->argc >= 6) {
    int startidx = 3;
    if (!strcasecmp(c->argv[3]->ptr, "IDLE")) {
      if (get_long_long_from_object_or_reply(c, c->argv[4], &minidle, NULL) ==
          C_ERR) {
        return;
      }
      if (c->argc < 8) {
        add_reply_error_object(c, shared.syntaxerr);
        return;
      }
      startidx += 2;
    }
    if (get_long_long_from_object_or_reply(c, c->argv[startidx + 2], &count,
                                           NULL) == C_ERR) {
      return;
    }
    if (count < 0) {
      count = 0;
    }
    if (stream_parse_interval_id(c, c->argv[startidx], &startid, &startex, 0) !=
        C_OK) {
      return;
    }
    if (startex && stream_id_incr(&startid) != C_OK) {
      add_reply_error(c, "invalid start ID for the interval");
      return;
    }
    if (stream_parse_interval_id(c, c->argv[startidx + 1], &endid, &endex,
                                 UINT64_MAX) != C_OK) {
      return;
    }
    if (endex && stream_id_decr(&endid) != C_OK) {
      add_reply_error(c, "invalid end ID for the interval");
      return;
    }
    if (startidx + 3 < c->argc) {
      consumername = c->argv[startidx + 3];
    }
  }

  robj *o = lookup_key_read(c->db, key);
  stream_cg *group = NULL;
  if (check_type(c, o, OBJ_STREAM)) {
    return;
  }
  if (o == NULL || (group = stream_lookup_cg(o->ptr, groupname->ptr)) == NULL) {
    add_reply_error_format(c,
                           "-NOGROUP No such key '%s' or consumer group '%s'",
                           (char *)key->ptr, (char *)groupname->ptr);
    return;
  }
  if (justinfo) {
    xpending_summary(c, group);
    return;
  }
  stream_consumer *consumer = NULL;
  if (consumername != NULL) {
    consumer = stream_lookup_consumer(group, consumername->ptr, SLC_NO_REFRESH);
    if (consumer == NULL) {
      add_reply_array_len(c, 0);
      return;
    }
  }
  idtree *pel = consumer ? consumer->pel : group->pel;
  long long now = mstime();
  void *len_ptr = add_reply_deferred_len(c);
  long len = 0;
  idtree_iter it;
  int ok = idtree_seek(&it, pel, IDTREE_GE, startid);
  while (count && ok) {
    stream_id id = idtree_iter_key(&it);
    if (stream_id_cmp(&id, &endid) > 0) {
      break;
    }
    stream_nack *nack = *idtree_iter_value(&it);
    ok = idtree_iter_next(&it);
    if (minidle && stream_ms_diff(now, nack->delivery_time) < minidle) {
      continue;
    }
    len++;
    count--;
    add_reply_array_len(c, 4);
    add_reply_stream_id(c, &id);
    add_reply_bulk_cbuffer(c, nack->consumer->name,
                           sds_len(nack->consumer->name));
    long long elapsed = stream_ms_diff(now, nack->delivery_time);
    add_reply_long_long(c, elapsed < 0 ? 0 : elapsed);
    add_reply_long_long(c, (long long)nack->delivery_count);
  }
  set_deferred_array_len(c, len_ptr, len);
}

/* ------------------------------------------------------------------ */
/* XCLAIM                                                               */
/* ------------------------------------------------------------------ */

/* claim_nack gives |nack| (pending under id) to consumer. */
static void claim_nack(stream_nack *nack, stream_consumer *consumer,
                       const stream_id *id) {
  if (nack->consumer != consumer) {
    if (nack->consumer != NULL) {
      idtree_remove(nack->consumer->pel, *id, NULL);
    }
    idtree_insert(consumer->pel, *id, nack);
    nack->consumer = consumer;
  }
}

/* reply_entry emits one entry (it exists) as XRANGE does. */
static void reply_entry(client *c, stream *s, stream_id *id) {
  size_t emitted = stream_reply_with_range(c, s, id, id, 1, 0, NULL, NULL,
                                           STREAM_RWR_RAWENTRIES, NULL);
  server_assert(emitted == 1);
}

void xclaim_command(client *c) {
  stream_cg *group = NULL;
  robj *o = lookup_key_read(c->db, c->argv[1]);
  long long minidle, retrycount = -1, deliverytime = -1;
  int force = 0, justid = 0;

  if (o != NULL) {
    if (check_type(c, o, OBJ_STREAM)) {
      return;
    }
    group = stream_lookup_cg(o->ptr, c->argv[2]->ptr);
  }
  if (o == NULL || group == NULL) {
    add_reply_error_format(c,
                           "-NOGROUP No such key '%s' or consumer group '%s'",
                           (char *)c->argv[1]->ptr, (char *)c->argv[2]->ptr);
    return;
  }
  if (get_long_long_from_object_or_reply(
          c, c->argv[4], &minidle,
          "Invalid min-idle-time argument for XCLAIM") != C_OK) {
    return;
  }
  if (minidle < 0) {
    minidle = 0;
  }
  int j;
  stream_id static_ids[STREAMID_STATIC_VECTOR_LEN];
  stream_id *ids = static_ids;
  int id_count = c->argc - 5;
  if (id_count > STREAMID_STATIC_VECTOR_LEN) {
    ids = zmalloc(sizeof(stream_id) * (size_t)id_count);
  }
  for (j = 5; j < c->argc; j++) {
    if (stream_parse_id(NULL, c->argv[j], &ids[j - 5], 0, 1, NULL) != C_OK) {
      break;
    }
  }
  int last_id_arg = j - 1;
  long long now = mstime();
  stream_id last_id = id_zero;
  int propagate_last_id = 0;
  for (; j < c->argc; j++) {
    int moreargs = (c->argc - 1) - j;
    const char *opt = c->argv[j]->ptr;
    if (!strcasecmp(opt, "FORCE")) {
      force = 1;
    } else if (!strcasecmp(opt, "JUSTID")) {
      justid = 1;
    } else if (!strcasecmp(opt, "IDLE") && moreargs) {
      j++;
      if (get_long_long_from_object_or_reply(
              c, c->argv[j], &deliverytime,
              "Invalid IDLE option argument for XCLAIM") != C_OK) {
        goto cleanup;
      }
      deliverytime = stream_ms_diff(now, deliverytime);
    } else if (!strcasecmp(opt, "TIME") && moreargs) {
      j++;
      if (get_long_long_from_object_or_reply(
              c, c->argv[j], &deliverytime,
              "Invalid TIME option argument for XCLAIM") != C_OK) {
        goto cleanup;
      }
    } else if (!strcasecmp(opt, "RETRYCOUNT") && moreargs) {
      j++;
      if (get_long_long_from_object_or_reply(
              c, c->argv[j], &retrycount,
              "Invalid RETRYCOUNT option argument for XCLAIM") != C_OK) {
        goto cleanup;
      }
    } else if (!strcasecmp(opt, "LASTID") && moreargs) {
      j++;
      if (stream_parse_id(c, c->argv[j], &last_id, 0, 1, NULL) != C_OK) {
        goto cleanup;
      }
    } else {
      add_reply_error_format(c, "Unrecognized XCLAIM option '%s'", opt);
      goto cleanup;
    }
  }
  if (stream_id_cmp(&last_id, &group->last_id) > 0) {
    group->last_id = last_id;
    propagate_last_id = 1;
  }
  if (deliverytime != -1) {
    if (deliverytime < 0 || deliverytime > now) {
      deliverytime = now;
    }
  } else {
    deliverytime = now;
  }

  stream_consumer *consumer = NULL;
  void *len_ptr = add_reply_deferred_len(c);
  long len = 0;
  sds name = c->argv[3]->ptr;
  for (j = 5; j <= last_id_arg; j++) {
    stream_id id = ids[j - 5];
    stream_nack *nack = find_nack(group->pel, &id);
    if (!stream_entry_exists(o->ptr, &id)) {
      if (nack != NULL) {
        stream_propagate_xclaim(c, c->argv[1], group, c->argv[2], c->argv[j],
                                nack);
        propagate_last_id = 0;
        server.dirty++;
        drop_nack(group, &id, nack);
      }
      continue;
    }
    if (force && nack == NULL) {
      nack = stream_create_nack(NULL);
      idtree_insert(group->pel, id, nack);
    }
    if (nack == NULL) {
      continue;
    }
    if (nack->consumer && minidle &&
        stream_ms_diff(now, nack->delivery_time) < minidle) {
      continue;
    }
    if (consumer == NULL &&
        (consumer = stream_lookup_consumer(group, name, SLC_DEFAULT)) == NULL) {
      consumer = stream_create_consumer(group, name, c->argv[1], c->db->id,
                                        SCC_DEFAULT);
    }
    nack->delivery_time = deliverytime;
    if (retrycount >= 0) {
      nack->delivery_count = (uint64_t)retrycount;
    } else if (!justid) {
      nack->delivery_count++;
    }
    claim_nack(nack, consumer, &id);
    if (justid) {
      add_reply_stream_id(c, &id);
    } else {
      reply_entry(c, o->ptr, &id);
    }
    len++;
    stream_propagate_xclaim(c, c->argv[1], group, c->argv[2], c->argv[j], nack);
    propagate_last_id = 0;
    server.dirty++;
  }
  if (propagate_last_id) {
    stream_propagate_group_id(c, c->argv[1], group, c->argv[2]);
    server.dirty++;
  }
  set_deferred_array_len(c, len_ptr, len);
  stream_prevent_propagation(c);
cleanup:
  if (ids != static_ids) {
    zfree(ids);
  }
}

/* ------------------------------------------------------------------ */
/* XAUTOCLAIM                                                           */
/* ------------------------------------------------------------------ */

/* A cursor over a PEL with the radix-tree iterator's protocol: next()
 * first returns the entry seek() found. */
typedef struct pel_cursor {
  idtree_iter it;
  int pending;
} pel_cursor;

static void pel_cursor_seek(pel_cursor *pc, idtree *pel, stream_id key) {
  idtree_seek(&pc->it, pel, IDTREE_GE, key);
  pc->pending = 1;
}

static int pel_cursor_next(pel_cursor *pc) {
  if (pc->pending) {
    pc->pending = 0;
    return idtree_iter_valid(&pc->it);
  }
  return idtree_iter_next(&pc->it);
}

void xautoclaim_command(client *c) {
  stream_cg *group = NULL;
  robj *o = lookup_key_read(c->db, c->argv[1]);
  long long minidle;
  long count = 100;
  const unsigned attempts_factor = 10;
  stream_id startid;
  int startex, justid = 0;

  if (get_long_long_from_object_or_reply(
          c, c->argv[4], &minidle,
          "Invalid min-idle-time argument for XAUTOCLAIM") != C_OK) {
    return;
  }
  if (minidle < 0) {
    minidle = 0;
  }
  if (stream_parse_interval_id(c, c->argv[5], &startid, &startex, 0) != C_OK) {
    return;
  }
  if (startex && stream_id_incr(&startid) != C_OK) {
    add_reply_error(c, "invalid start ID for the interval");
    return;
  }
  for (int j = 6; j < c->argc; j++) {
    int moreargs = (c->argc - 1) - j;
    const char *opt = c->argv[j]->ptr;
    if (!strcasecmp(opt, "COUNT") && moreargs) {
      long max_count = LONG_MAX / (long)(sizeof(stream_id) > attempts_factor
                                             ? sizeof(stream_id)
                                             : attempts_factor);
      if (get_range_long_from_object_or_reply(c, c->argv[j + 1], 1, max_count,
                                              &count,
                                              "COUNT must be > 0") != C_OK) {
        return;
      }
      j++;
    } else if (!strcasecmp(opt, "JUSTID")) {
      justid = 1;
    } else {
      add_reply_error_object(c, shared.syntaxerr);
      return;
    }
  }
  if (o != NULL) {
    if (check_type(c, o, OBJ_STREAM)) {
      return;
    }
    group = stream_lookup_cg(o->ptr, c->argv[2]->ptr);
  }
  if (o == NULL || group == NULL) {
    add_reply_error_format(c,
                           "-NOGROUP No such key '%s' or consumer group '%s'",
                           (char *)c->argv[1]->ptr, (char *)c->argv[2]->ptr);
    return;
  }
  stream_id *deleted_ids = ztrymalloc(sizeof(stream_id) * (size_t)count);
  if (deleted_ids == NULL) {
    add_reply_error(c,
                    "Insufficient memory, failed allocating transient "
                    "memory, COUNT too high.");
    return;
  }

  stream_consumer *consumer = NULL;
  long long attempts = (long long)count * attempts_factor;
  add_reply_array_len(c, 3);
  void *endid_ptr = add_reply_deferred_len(c);
  void *len_ptr = add_reply_deferred_len(c);
  pel_cursor pc;
  pel_cursor_seek(&pc, group->pel, startid);
  long len = 0;
  long long now = mstime();
  sds name = c->argv[3]->ptr;
  long deleted_num = 0;
  while (attempts-- && count && pel_cursor_next(&pc)) {
    stream_nack *nack = *idtree_iter_value(&pc.it);
    stream_id id = idtree_iter_key(&pc.it);
    if (!stream_entry_exists(o->ptr, &id)) {
      robj *idstr = stream_id_to_object(&id);
      stream_propagate_xclaim(c, c->argv[1], group, c->argv[2], idstr, nack);
      decr_ref_count(idstr);
      server.dirty++;
      drop_nack(group, &id, nack);
      deleted_ids[deleted_num++] = id;
      pel_cursor_seek(&pc, group->pel, id);
      count--;
      continue;
    }
    if (minidle && stream_ms_diff(now, nack->delivery_time) < minidle) {
      continue;
    }
    if (consumer == NULL &&
        (consumer = stream_lookup_consumer(group, name, SLC_DEFAULT)) == NULL) {
      consumer = stream_create_consumer(group, name, c->argv[1], c->db->id,
                                        SCC_DEFAULT);
    }
    nack->delivery_time = now;
    if (!justid) {
      nack->delivery_count++;
    }
    claim_nack(nack, consumer, &id);
    /* claim_nack changed a consumer PEL, not the group's: the cursor
     * stays valid. */
    if (justid) {
      add_reply_stream_id(c, &id);
    } else {
      reply_entry(c, o->ptr, &id);
    }
    len++;
    count--;
    robj *idstr = stream_id_to_object(&id);
    stream_propagate_xclaim(c, c->argv[1], group, c->argv[2], idstr, nack);
    decr_ref_count(idstr);
    server.dirty++;
  }
  stream_id endid = id_zero;
  if (pel_cursor_next(&pc)) {
    endid = idtree_iter_key(&pc.it);
  }
  set_deferred_array_len(c, len_ptr, len);
  /* The cursor goes where the deferred slot was reserved. */
  char buf[STREAM_ID_STR_LEN];
  int n = stream_id_format(buf, &endid);
  set_deferred_reply_bulk(c, endid_ptr, buf, (size_t)n);
  add_reply_array_len(c, deleted_num);
  for (long i = 0; i < deleted_num; i++) {
    add_reply_stream_id(c, &deleted_ids[i]);
  }
  zfree(deleted_ids);
  stream_prevent_propagation(c);
}
