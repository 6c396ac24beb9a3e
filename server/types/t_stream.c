/* t_stream.c: XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XSETID, the
 * stream type's registration and the stream command table (see
 * t_stream.h for the encoding and the other files). */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "server/base/zmalloc.h"
#include "server/core/lazyfree.h"
#include "server/types/t_stream.h"
#include "server/types/types.h"

#define STREAMID_STATIC_VECTOR_LEN 8

/* ------------------------------------------------------------------ */
/* XADD / XTRIM arguments                                               */
/* ------------------------------------------------------------------ */
typedef struct add_trim_args {
  stream_id id;    /* XADD: the ID given */
  int id_given;    /* XADD: not "*" */
  int seq_given;   /* XADD: not "<ms>-*" */
  int no_mkstream; /* XADD NOMKSTREAM */
  stream_trim_args trim;
  int trim_arg_idx; /* where the MAXLEN / MINID value is (rewritten) */
} add_trim_args;

/* parse_add_trim_args parses XADD's (xadd) or XTRIM's options. Returns
 * the position of XADD's ID, or -1 after replying an error. */
static int parse_add_trim_args(client *c, add_trim_args *args, int xadd) {
  memset(args, 0, sizeof(*args));
  int i = 2;
  int limit_given = 0;
  for (; i < c->argc; i++) {
    int moreargs = (c->argc - 1) - i;
    const char *opt = c->argv[i]->ptr;
    if (xadd && opt[0] == '*' && opt[1] == '\0') {
      break;
    } else if ((!strcasecmp(opt, "maxlen") || !strcasecmp(opt, "minid")) &&
               moreargs) {
      int maxlen = !strcasecmp(opt, "maxlen");
      if (args->trim.strategy != TRIM_STRATEGY_NONE) {
        add_reply_error(c,
                        "syntax error, MAXLEN and MINID options at the same "
                        "time are not compatible");
        return -1;
      }
      args->trim.approx = 0;
      const char *next = c->argv[i + 1]->ptr;
      if (moreargs >= 2 && next[0] == '~' && next[1] == '\0') {
        args->trim.approx = 1;
        i++;
      } else if (moreargs >= 2 && next[0] == '=' && next[1] == '\0') {
        i++;
      }
      if (maxlen) {
        if (get_long_long_from_object_or_reply(
                c, c->argv[i + 1], &args->trim.maxlen, NULL) != C_OK) {
          return -1;
        }
        if (args->trim.maxlen < 0) {
          add_reply_error(c, "The MAXLEN argument must be >= 0.");
          return -1;
        }
      } else if (stream_parse_id(c, c->argv[i + 1], &args->trim.minid, 0, 1,
                                 NULL) != C_OK) {
        return -1;
      }
      i++;
      args->trim.strategy = maxlen ? TRIM_STRATEGY_MAXLEN : TRIM_STRATEGY_MINID;
      args->trim_arg_idx = i;
    } else if (!strcasecmp(opt, "limit") && moreargs) {
      if (get_long_long_from_object_or_reply(c, c->argv[i + 1],
                                             &args->trim.limit, NULL) != C_OK) {
        return -1;
      }
      if (args->trim.limit < 0) {
        add_reply_error(c, "The LIMIT argument must be >= 0.");
        return -1;
      }
      limit_given = 1;
      i++;
    } else if (xadd && !strcasecmp(opt, "nomkstream")) {
      args->no_mkstream = 1;
    } else if (xadd) {
      /* The ID, or a syntax error. */
      if (stream_parse_id(c, c->argv[i], &args->id, 0, 1, &args->seq_given) !=
          C_OK) {
        return -1;
      }
      args->id_given = 1;
      break;
    } else {
      add_reply_error_object(c, shared.syntaxerr);
      return -1;
    }
  }
  if (args->trim.limit && args->trim.strategy == TRIM_STRATEGY_NONE) {
    add_reply_error(c,
                    "syntax error, LIMIT cannot be used without specifying a "
                    "trimming strategy");
    return -1;
  }
  if (!xadd && args->trim.strategy == TRIM_STRATEGY_NONE) {
    add_reply_error(c,
                    "syntax error, XTRIM must be called with a trimming "
                    "strategy");
    return -1;
  }
  if (stream_must_obey(c)) {
    /* The master / the AOF already turned "~" into the exact effect. */
    args->trim.limit = 0;
  } else if (limit_given) {
    if (!args->trim.approx) {
      add_reply_error(c,
                      "syntax error, LIMIT cannot be used without the special "
                      "~ option");
      return -1;
    }
  } else if (args->trim.approx) {
    /* At most 100 nodes of work by default, whatever the config says. */
    args->trim.limit = 100 * server.stream_node_max_entries;
    if (args->trim.limit <= 0) {
      args->trim.limit = 10000;
    }
    if (args->trim.limit > 1000000) {
      args->trim.limit = 1000000;
    }
  } else {
    args->trim.limit = 0;
  }
  return i;
}

/* rewrite_approx_trim: a "~" trim propagates as the exact "=" trim it
 * turned out to be (the length left, or the first ID left). */
static void rewrite_approx_trim(client *c, stream *s,
                                const add_trim_args *args) {
  robj *eq = create_string_object("=", 1);
  rewrite_client_command_argument(c, args->trim_arg_idx - 1, eq);
  decr_ref_count(eq);
  robj *arg;
  if (args->trim.strategy == TRIM_STRATEGY_MAXLEN) {
    arg = create_string_object_from_long_long((long long)s->length);
  } else {
    stream_id first;
    stream_get_edge_id(s, 1, 0, &first);
    arg = stream_id_to_object(&first);
  }
  rewrite_client_command_argument(c, args->trim_arg_idx, arg);
  decr_ref_count(arg);
}

/* ------------------------------------------------------------------ */
/* XADD                                                                 */
/* ------------------------------------------------------------------ */
void xadd_command(client *c) {
  add_trim_args args;
  int idpos = parse_add_trim_args(c, &args, 1);
  if (idpos < 0) {
    return;
  }
  int field_pos = idpos + 1;
  if ((c->argc - field_pos) < 2 || ((c->argc - field_pos) % 2) == 1) {
    add_reply_error_arity(c);
    return;
  }
  if (args.id_given && args.seq_given && stream_id_is_zero(&args.id)) {
    add_reply_error(c, "The ID specified in XADD must be greater than 0-0");
    return;
  }
  robj *o = lookup_key_write(c->db, c->argv[1]);
  if (check_type(c, o, OBJ_STREAM)) {
    return;
  }
  if (o == NULL) {
    if (args.no_mkstream) {
      add_reply_null(c);
      return;
    }
    o = stream_create_object();
    db_add(c->db, c->argv[1], o);
  }
  stream *s = o->ptr;
  if (s->last_id.ms == UINT64_MAX && s->last_id.seq == UINT64_MAX) {
    add_reply_error(c,
                    "The stream has exhausted the last possible ID, unable "
                    "to add more items");
    return;
  }
  stream_id id;
  if (stream_append(s, c->argv + field_pos, (c->argc - field_pos) / 2, &id,
                    args.id_given ? &args.id : NULL, args.seq_given) == C_ERR) {
    if (errno == EDOM) {
      add_reply_error(c,
                      "The ID specified in XADD is equal or smaller than the "
                      "target stream top item");
    } else {
      add_reply_error(c, "Elements are too large to be stored");
    }
    return;
  }
  add_reply_stream_id(c, &id);
  signal_modified_key(c, c->db, c->argv[1]);
  notify_keyspace_event(NOTIFY_STREAM, "xadd", c->argv[1], c->db->id);
  server.dirty++;
  if (args.trim.strategy != TRIM_STRATEGY_NONE) {
    if (stream_trim(s, &args.trim)) {
      notify_keyspace_event(NOTIFY_STREAM, "xtrim", c->argv[1], c->db->id);
    }
    if (args.trim.approx) {
      rewrite_approx_trim(c, s, &args);
    }
  }
  /* Replicas and the AOF get the ID that was chosen. */
  if (!args.id_given || !args.seq_given) {
    robj *idarg = stream_id_to_object(&id);
    rewrite_client_command_argument(c, idpos, idarg);
    decr_ref_count(idarg);
  }
  keyspace_signal_key_ready(c->db, c->argv[1], OBJ_STREAM);
}

/* ------------------------------------------------------------------ */
/* XRANGE / XREVRANGE / XLEN                                            */
/* ------------------------------------------------------------------ */
static void xrange_generic(client *c, int rev) {
  stream_id startid, endid;
  long long count = -1;
  robj *startarg = rev ? c->argv[3] : c->argv[2];
  robj *endarg = rev ? c->argv[2] : c->argv[3];
  int startex = 0, endex = 0;
  if (stream_parse_interval_id(c, startarg, &startid, &startex, 0) != C_OK) {
    return;
  }
  if (startex && stream_id_incr(&startid) != C_OK) {
    add_reply_error(c, "invalid start ID for the interval");
    return;
  }
  if (stream_parse_interval_id(c, endarg, &endid, &endex, UINT64_MAX) != C_OK) {
    return;
  }
  if (endex && stream_id_decr(&endid) != C_OK) {
    add_reply_error(c, "invalid end ID for the interval");
    return;
  }
  for (int j = 4; j < c->argc; j++) {
    int additional = c->argc - j - 1;
    if (!strcasecmp(c->argv[j]->ptr, "COUNT") && additional >= 1) {
      if (get_long_long_from_object_or_reply(c, c->argv[j + 1], &count, NULL) !=
          C_OK) {
        return;
      }
      if (count < 0) {
        count = 0;
      }
      j++;
    } else {
      add_reply_error_object(c, shared.syntaxerr);
      return;
    }
  }
  robj *o = lookup_key_read_or_reply(c, c->argv[1], shared.emptyarray);
  if (o == NULL || check_type(c, o, OBJ_STREAM)) {
    return;
  }
  if (count == 0) {
    add_reply_null_array(c);
    return;
  }
  stream_reply_with_range(c, o->ptr, &startid, &endid,
                          count == -1 ? 0 : (size_t)count, rev, NULL, NULL, 0,
                          NULL);
}

void xrange_command(client *c) { xrange_generic(c, 0); }
void xrevrange_command(client *c) { xrange_generic(c, 1); }

void xlen_command(client *c) {
  robj *o = lookup_key_read_or_reply(c, c->argv[1], shared.czero);
  if (o == NULL || check_type(c, o, OBJ_STREAM)) {
    return;
  }
  add_reply_long_long(c, (long long)((stream *)o->ptr)->length);
}

/* ------------------------------------------------------------------ */
/* XDEL / XTRIM                                                         */
/* ------------------------------------------------------------------ */
void xdel_command(client *c) {
  robj *o = lookup_key_write_or_reply(c, c->argv[1], shared.czero);
  if (o == NULL || check_type(c, o, OBJ_STREAM)) {
    return;
  }
  stream *s = o->ptr;
  stream_id static_ids[STREAMID_STATIC_VECTOR_LEN];
  stream_id *ids = static_ids;
  int id_count = c->argc - 2;
  if (id_count > STREAMID_STATIC_VECTOR_LEN) {
    ids = zmalloc(sizeof(stream_id) * (size_t)id_count);
  }
  for (int j = 2; j < c->argc; j++) {
    if (stream_parse_id(c, c->argv[j], &ids[j - 2], 0, 1, NULL) != C_OK) {
      goto cleanup;
    }
  }
  long long deleted = 0;
  int first_entry = 0;
  for (int j = 0; j < id_count; j++) {
    stream_id *id = &ids[j];
    if (stream_delete_item(s, id)) {
      if (stream_id_cmp(id, &s->first_id) == 0) {
        first_entry = 1;
      }
      if (stream_id_cmp(id, &s->max_deleted_entry_id) > 0) {
        s->max_deleted_entry_id = *id;
      }
      deleted++;
    }
  }
  if (deleted) {
    if (s->length == 0) {
      s->first_id = (stream_id){0, 0};
    } else if (first_entry) {
      stream_get_edge_id(s, 1, 1, &s->first_id);
    }
    signal_modified_key(c, c->db, c->argv[1]);
    notify_keyspace_event(NOTIFY_STREAM, "xdel", c->argv[1], c->db->id);
    server.dirty += deleted;
  }
  add_reply_long_long(c, deleted);
cleanup:
  if (ids != static_ids) {
    zfree(ids);
  }
}

void xtrim_command(client *c) {
  add_trim_args args;
  if (parse_add_trim_args(c, &args, 0) < 0) {
    return;
  }
  robj *o = lookup_key_write_or_reply(c, c->argv[1], shared.czero);
  if (o == NULL || check_type(c, o, OBJ_STREAM)) {
    return;
  }
  stream *s = o->ptr;
  int64_t deleted = stream_trim(s, &args.trim);
  if (deleted) {
    notify_keyspace_event(NOTIFY_STREAM, "xtrim", c->argv[1], c->db->id);
    if (args.trim.approx) {
      rewrite_approx_trim(c, s, &args);
    }
    signal_modified_key(c, c->db, c->argv[1]);
    server.dirty += deleted;
  }
  add_reply_long_long(c, deleted);
}

/* ------------------------------------------------------------------ */
/* XSETID                                                               */
/* ------------------------------------------------------------------ */
void xsetid_command(client *c) {
  stream_id id, max_xdel_id = {0, 0};
  long long entries_added = -1;
  if (stream_parse_id(c, c->argv[2], &id, 0, 1, NULL) != C_OK) {
    return;
  }
  for (int i = 3; i < c->argc; i += 2) {
    int moreargs = (c->argc - 1) - i;
    const char *opt = c->argv[i]->ptr;
    if (!strcasecmp(opt, "ENTRIESADDED") && moreargs) {
      if (get_long_long_from_object_or_reply(c, c->argv[i + 1], &entries_added,
                                             NULL) != C_OK) {
        return;
      }
      if (entries_added < 0) {
        add_reply_error(c, "entries_added must be positive");
        return;
      }
    } else if (!strcasecmp(opt, "MAXDELETEDID") && moreargs) {
      if (stream_parse_id(c, c->argv[i + 1], &max_xdel_id, 0, 1, NULL) !=
          C_OK) {
        return;
      }
      if (stream_id_cmp(&id, &max_xdel_id) < 0) {
        add_reply_error(c,
                        "The ID specified in XSETID is smaller than the "
                        "provided max_deleted_entry_id");
        return;
      }
    } else {
      add_reply_error_object(c, shared.syntaxerr);
      return;
    }
  }
  robj *o = lookup_key_write_or_reply(c, c->argv[1], shared.nokeyerr);
  if (o == NULL || check_type(c, o, OBJ_STREAM)) {
    return;
  }
  stream *s = o->ptr;
  if (s->length > 0) {
    stream_id maxid;
    stream_last_valid_id(s, &maxid);
    if (stream_id_cmp(&id, &maxid) < 0) {
      add_reply_error(c,
                      "The ID specified in XSETID is smaller than the target "
                      "stream top item");
      return;
    }
    if (entries_added != -1 && s->length > (uint64_t)entries_added) {
      add_reply_error(c,
                      "The entries_added specified in XSETID is smaller than "
                      "the target stream length");
      return;
    }
  }
  s->last_id = id;
  if (entries_added != -1) {
    s->entries_added = (uint64_t)entries_added;
  }
  if (!stream_id_is_zero(&max_xdel_id)) {
    s->max_deleted_entry_id = max_xdel_id;
  }
  add_reply(c, shared.ok);
  server.dirty++;
  notify_keyspace_event(NOTIFY_STREAM, "xsetid", c->argv[1], c->db->id);
}

/* ------------------------------------------------------------------ */
/* The type and the command table                                       */
/* ------------------------------------------------------------------ */
static void free_stream_object(robj *o) { stream_free(o->ptr); }

/* Redis's estimate: the nodes of the stream's radix tree, plus, for each
 * consumer group, one free and one per entry of the first group's PEL. */
static size_t stream_free_effort(robj *o) {
  stream *s = o->ptr;
  /* The tree has at least one node per key: past the threshold that lower
   * bound decides, without counting the tree's nodes (O(keys) the first
   * time). */
  size_t keys = idtree_size(s->index);
  size_t effort = keys > LAZYFREE_THRESHOLD && s->trie == NULL
                      ? keys
                      : (size_t)stream_index_node_count(s);
  if (s->groups != NULL && s->groups->len > 0) {
    const stream_cg *first = s->groups->entries[0].value;
    effort += s->groups->len * (1 + idtree_size(first->pel));
  }
  return effort;
}

static const object_type_ops stream_type_ops = {
    .name = "stream",
    .free_value = free_stream_object,
    .dup = stream_dup,
    .compute_size = stream_compute_size,
    .free_effort = stream_free_effort,
};

void stream_type_register(void) {
  object_register_type(OBJ_STREAM, &stream_type_ops);
  stream_blocking_register();
}

#define SREAD_FAST (ACL_CATEGORY_READ | ACL_CATEGORY_STREAM | ACL_CATEGORY_FAST)
#define SREAD_SLOW (ACL_CATEGORY_READ | ACL_CATEGORY_STREAM | ACL_CATEGORY_SLOW)
#define SWRITE_FAST \
  (ACL_CATEGORY_WRITE | ACL_CATEGORY_STREAM | ACL_CATEGORY_FAST)
#define SWRITE_SLOW \
  (ACL_CATEGORY_WRITE | ACL_CATEGORY_STREAM | ACL_CATEGORY_SLOW)

#define STREAM_CMD(name_, summary_, since_, proc_, arity_, flags_, acl_, \
                   first_)                                               \
  {                                                                      \
    .declared_name = name_, .summary = summary_, .since = since_,        \
    .group = "stream", .proc = proc_, .arity = arity_, .flags = flags_,  \
    .acl_categories = acl_, .firstkey = first_, .lastkey = first_,       \
    .keystep = first_ ? 1 : 0                                            \
  }

static redis_command xgroup_subcommands[] = {
    STREAM_CMD("create", "Create a consumer group.", "5.0.0", xgroup_command,
               -5, CMD_WRITE | CMD_DENYOOM, SWRITE_SLOW, 2),
    STREAM_CMD("setid",
               "Set a consumer group to an arbitrary last delivered ID value.",
               "5.0.0", xgroup_command, -5, CMD_WRITE, SWRITE_SLOW, 2),
    STREAM_CMD("destroy", "Destroy a consumer group.", "5.0.0", xgroup_command,
               4, CMD_WRITE, SWRITE_SLOW, 2),
    STREAM_CMD("createconsumer", "Create a consumer in a consumer group.",
               "6.2.0", xgroup_command, 5, CMD_WRITE | CMD_DENYOOM, SWRITE_SLOW,
               2),
    STREAM_CMD("delconsumer", "Delete a consumer from a consumer group.",
               "5.0.0", xgroup_command, 5, CMD_WRITE, SWRITE_SLOW, 2),
    STREAM_CMD("help", "Show helpful text about the different subcommands",
               "5.0.0", xgroup_command, 2, CMD_LOADING | CMD_STALE,
               ACL_CATEGORY_STREAM | ACL_CATEGORY_SLOW, 0),
    {0}};

static redis_command xinfo_subcommands[] = {
    STREAM_CMD("consumers", "List the consumers in a consumer group", "5.0.0",
               xinfo_command, 4, CMD_READONLY, SREAD_SLOW, 2),
    STREAM_CMD("groups", "List the consumer groups of a stream", "5.0.0",
               xinfo_command, 3, CMD_READONLY, SREAD_SLOW, 2),
    STREAM_CMD("stream", "Get information about a stream", "5.0.0",
               xinfo_command, -3, CMD_READONLY, SREAD_SLOW, 2),
    STREAM_CMD("help", "Show helpful text about the different subcommands",
               "5.0.0", xinfo_command, 2, CMD_LOADING | CMD_STALE,
               ACL_CATEGORY_STREAM | ACL_CATEGORY_SLOW, 0),
    {0}};

redis_command stream_commands[] = {
    STREAM_CMD("xadd", "Appends a new entry to a stream", "5.0.0", xadd_command,
               -5, CMD_WRITE | CMD_DENYOOM | CMD_FAST, SWRITE_FAST, 1),
    STREAM_CMD("xrange",
               "Return a range of elements in a stream, with IDs matching the "
               "specified IDs interval",
               "5.0.0", xrange_command, -4, CMD_READONLY, SREAD_SLOW, 1),
    STREAM_CMD("xrevrange",
               "Return a range of elements in a stream, with IDs matching the "
               "specified IDs interval, in reverse order (from greater to "
               "smaller IDs) compared to XRANGE",
               "5.0.0", xrevrange_command, -4, CMD_READONLY, SREAD_SLOW, 1),
    STREAM_CMD("xlen", "Return the number of entries in a stream", "5.0.0",
               xlen_command, 2, CMD_READONLY | CMD_FAST, SREAD_FAST, 1),
    STREAM_CMD("xdel",
               "Removes the specified entries from the stream. Returns the "
               "number of items actually deleted, that may be different from "
               "the number of IDs passed in case certain IDs do not exist.",
               "5.0.0", xdel_command, -3, CMD_WRITE | CMD_FAST, SWRITE_FAST, 1),
    STREAM_CMD("xtrim",
               "Trims the stream to (approximately if '~' is passed) a "
               "certain size",
               "5.0.0", xtrim_command, -4, CMD_WRITE, SWRITE_SLOW, 1),
    {.declared_name = "xread",
     .summary = "Return never seen elements in multiple streams, with IDs "
                "greater than the ones reported by the caller for each "
                "stream. Can block.",
     .since = "5.0.0",
     .group = "stream",
     .proc = xread_command,
     .arity = -4,
     .flags = CMD_READONLY | CMD_BLOCKING | CMD_MOVABLE_KEYS,
     .acl_categories = SREAD_SLOW | ACL_CATEGORY_BLOCKING,
     .getkeys_proc = xread_get_keys},
    {.declared_name = "xreadgroup",
     .summary = "Return new entries from a stream using a consumer group, or "
                "access the history of the pending entries for a given "
                "consumer. Can block.",
     .since = "5.0.0",
     .group = "stream",
     .proc = xread_command,
     .arity = -7,
     .flags = CMD_WRITE | CMD_BLOCKING | CMD_MOVABLE_KEYS,
     .acl_categories = SWRITE_SLOW | ACL_CATEGORY_BLOCKING,
     .getkeys_proc = xread_get_keys},
    {.declared_name = "xgroup",
     .summary = "A container for consumer groups commands",
     .since = "5.0.0",
     .group = "stream",
     .proc = NULL,
     .arity = -2,
     .flags = 0,
     .acl_categories = ACL_CATEGORY_SLOW,
     .subcommands = xgroup_subcommands},
    STREAM_CMD("xack",
               "Marks a pending message as correctly processed, effectively "
               "removing it from the pending entries list of the consumer "
               "group. Return value of the command is the number of messages "
               "successfully acknowledged, that is, the IDs we were actually "
               "able to resolve in the PEL.",
               "5.0.0", xack_command, -4, CMD_WRITE | CMD_FAST, SWRITE_FAST, 1),
    STREAM_CMD("xpending",
               "Return information and entries from a stream consumer group "
               "pending entries list, that are messages fetched but never "
               "acknowledged.",
               "5.0.0", xpending_command, -3, CMD_READONLY, SREAD_SLOW, 1),
    STREAM_CMD("xclaim",
               "Changes (or acquires) ownership of a message in a consumer "
               "group, as if the message was delivered to the specified "
               "consumer.",
               "5.0.0", xclaim_command, -6, CMD_WRITE | CMD_FAST, SWRITE_FAST,
               1),
    STREAM_CMD("xautoclaim",
               "Changes (or acquires) ownership of messages in a consumer "
               "group, as if the messages were delivered to the specified "
               "consumer.",
               "6.2.0", xautoclaim_command, -6, CMD_WRITE | CMD_FAST,
               SWRITE_FAST, 1),
    {.declared_name = "xinfo",
     .summary = "A container for stream introspection commands",
     .since = "5.0.0",
     .group = "stream",
     .proc = NULL,
     .arity = -2,
     .flags = 0,
     .acl_categories = ACL_CATEGORY_SLOW,
     .subcommands = xinfo_subcommands},
    STREAM_CMD("xsetid", "An internal command for replicating stream values",
               "5.0.0", xsetid_command, -3, CMD_WRITE | CMD_DENYOOM | CMD_FAST,
               SWRITE_FAST, 1),
    {0}};
