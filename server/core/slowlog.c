/* slowlog.c: the slow log (commands that ran longer than
 * slowlog-log-slower-than microseconds) and the SLOWLOG command.
 *
 * Entries are kept newest first in server.slowlog, at most
 * server.slowlog_max_len of them. An entry copies its arguments (never
 * shares them with the keyspace) and trims them as Redis does, so that a
 * huge MSET cannot turn the slow log into a second copy of the dataset. */
#include <strings.h>

#include "server/base/zmalloc.h"
#include "server/core/server.h"

/* At most this many arguments are kept; the last kept slot then says how
 * many were dropped. */
#define SLOWLOG_ENTRY_MAX_ARGC 32
/* Longer arguments are cut to this many bytes plus a note. */
#define SLOWLOG_ENTRY_MAX_STRING 128
/* Room for "ip:port" or a unix socket path when the client has no cached
 * peer id. */
#define SLOWLOG_PEERID_MAX 256

static void slowlog_free_entry(void *ptr) {
  slowlog_entry *se = ptr;
  for (int j = 0; j < se->argc; j++) {
    decr_ref_count(se->argv[j]);
  }
  zfree(se->argv);
  sds_free(se->peerid);
  sds_free(se->cname);
  zfree(se);
}

void slowlog_init(void) {
  server.slowlog = list_create();
  server.slowlog_entry_id = 0;
  list_set_free_method(server.slowlog, slowlog_free_entry);
}

/* slowlog_copy_argument returns an object the entry owns for argv[j]. */
static robj *slowlog_copy_argument(robj *arg) {
  if (arg->type == OBJ_STRING && sds_encoded_object(arg) &&
      sds_len(arg->ptr) > SLOWLOG_ENTRY_MAX_STRING) {
    sds s = sds_new_len(arg->ptr, SLOWLOG_ENTRY_MAX_STRING);
    s = sds_cat_printf(
        s, "... (%lu more bytes)",
        (unsigned long)(sds_len(arg->ptr) - SLOWLOG_ENTRY_MAX_STRING));
    return create_object(OBJ_STRING, s);
  }
  if (arg->refcount == OBJ_SHARED_REFCOUNT) {
    return arg; /* shared objects are never freed */
  }
  /* A copy: argv objects may end up stored in the keyspace, and sharing
   * them with the log would tie the two lifetimes together. */
  return dup_string_object(arg);
}

static sds slowlog_client_peer_id(client *c) {
  if (c->peerid != NULL) {
    return sds_new(c->peerid);
  }
  char buf[SLOWLOG_PEERID_MAX];
  if (c->conn != NULL && conn_format_peer(c->conn, buf, sizeof(buf)) >= 0) {
    buf[sizeof(buf) - 1] = '\0';
    return sds_new(buf);
  }
  return sds_empty();
}

static slowlog_entry *slowlog_create_entry(client *c, robj **argv, int argc,
                                           long long duration) {
  slowlog_entry *se = zmalloc(sizeof(*se));
  int slargc = argc > SLOWLOG_ENTRY_MAX_ARGC ? SLOWLOG_ENTRY_MAX_ARGC : argc;
  se->argc = slargc;
  se->argv = zmalloc(sizeof(robj *) * (size_t)(slargc > 0 ? slargc : 1));
  for (int j = 0; j < slargc; j++) {
    if (slargc != argc && j == slargc - 1) {
      se->argv[j] = create_object(
          OBJ_STRING, sds_cat_printf(sds_empty(), "... (%d more arguments)",
                                     argc - slargc + 1));
    } else {
      se->argv[j] = slowlog_copy_argument(argv[j]);
    }
  }
  se->time = time(NULL);
  se->duration = duration;
  se->id = server.slowlog_entry_id++;
  se->peerid = slowlog_client_peer_id(c);
  se->cname = c->name ? sds_new(c->name->ptr) : sds_empty();
  return se;
}

void slowlog_push_entry_if_needed(client *c, robj **argv, int argc,
                                  long long duration) {
  if (server.slowlog == NULL || server.slowlog_log_slower_than < 0) {
    return; /* disabled */
  }
  if (duration >= server.slowlog_log_slower_than) {
    list_add_node_head(server.slowlog,
                       slowlog_create_entry(c, argv, argc, duration));
  }
  while (list_length(server.slowlog) > server.slowlog_max_len) {
    list_del_node(server.slowlog, list_last(server.slowlog));
  }
}

static void slowlog_reset(void) {
  while (list_length(server.slowlog) > 0) {
    list_del_node(server.slowlog, list_last(server.slowlog));
  }
}

static void slowlog_reply_entries(client *c, long count) {
  if (count > (long)list_length(server.slowlog)) {
    count = (long)list_length(server.slowlog);
  }
  add_reply_array_len(c, count);
  list_iter li;
  list_rewind(server.slowlog, &li);
  while (count-- > 0) {
    list_node *ln = list_next(&li);
    slowlog_entry *se = list_node_value(ln);
    add_reply_array_len(c, 6);
    add_reply_long_long(c, se->id);
    add_reply_long_long(c, (long long)se->time);
    add_reply_long_long(c, se->duration);
    add_reply_array_len(c, se->argc);
    for (int j = 0; j < se->argc; j++) {
      add_reply_bulk(c, se->argv[j]);
    }
    add_reply_bulk_cbuffer(c, se->peerid, sds_len(se->peerid));
    add_reply_bulk_cbuffer(c, se->cname, sds_len(se->cname));
  }
}

static void slowlog_command(client *c) {
  const char *sub = c->argc >= 2 ? c->argv[1]->ptr : "";
  if (c->argc == 2 && !strcasecmp(sub, "help")) {
    static const char *help[] = {
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean "
        "all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP "
        "and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        NULL};
    add_reply_help(c, help);
  } else if (c->argc == 2 && !strcasecmp(sub, "reset")) {
    slowlog_reset();
    add_reply(c, shared.ok);
  } else if (c->argc == 2 && !strcasecmp(sub, "len")) {
    add_reply_long_long(c, (long long)list_length(server.slowlog));
  } else if ((c->argc == 2 || c->argc == 3) && !strcasecmp(sub, "get")) {
    long count = 10;
    if (c->argc == 3) {
      if (get_range_long_from_object_or_reply(
              c, c->argv[2], -1, LONG_MAX, &count,
              "count should be greater than or equal to -1") != C_OK) {
        return;
      }
      if (count == -1) {
        count = (long)list_length(server.slowlog);
      }
    }
    slowlog_reply_entries(c, count);
  } else {
    add_reply_subcommand_syntax_error(c);
  }
}

#define SLOWLOG_ACL \
  (ACL_CATEGORY_ADMIN | ACL_CATEGORY_SLOW | ACL_CATEGORY_DANGEROUS)

static redis_command slowlog_subcommands[] = {
    {.declared_name = "get",
     .summary = "Get the slow log's entries",
     .since = "2.2.12",
     .group = "server",
     .proc = slowlog_command,
     .arity = -2,
     .flags = CMD_ADMIN | CMD_LOADING | CMD_STALE,
     .acl_categories = SLOWLOG_ACL},
    {.declared_name = "help",
     .summary = "Show helpful text about the different subcommands",
     .since = "6.2.0",
     .group = "server",
     .proc = slowlog_command,
     .arity = 2,
     .flags = CMD_LOADING | CMD_STALE,
     .acl_categories = ACL_CATEGORY_SLOW},
    {.declared_name = "len",
     .summary = "Get the slow log's length",
     .since = "2.2.12",
     .group = "server",
     .proc = slowlog_command,
     .arity = 2,
     .flags = CMD_ADMIN | CMD_LOADING | CMD_STALE,
     .acl_categories = SLOWLOG_ACL},
    {.declared_name = "reset",
     .summary = "Clear all entries from the slow log",
     .since = "2.2.12",
     .group = "server",
     .proc = slowlog_command,
     .arity = 2,
     .flags = CMD_ADMIN | CMD_LOADING | CMD_STALE,
     .acl_categories = SLOWLOG_ACL},
    {0},
};

redis_command slowlog_commands[] = {
    {.declared_name = "slowlog",
     .summary = "A container for slow log commands",
     .since = "2.2.12",
     .group = "server",
     /* A container: the dispatcher runs the subcommand's proc; this one
      * only answers if a caller ever reaches the container itself. */
     .proc = slowlog_command,
     .arity = -2,
     .flags = 0,
     .acl_categories = ACL_CATEGORY_SLOW,
     .subcommands = slowlog_subcommands},
    {0},
};
