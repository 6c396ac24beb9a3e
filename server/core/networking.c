/* networking.c: client lifecycle, the read path (query buffer -> resp.c ->
 * process_command), the write path (static buffer + reply blocks, written
 * before sleeping, writev for several blocks), accept handlers, idle
 * timeouts, output-buffer limits, CLIENT PAUSE, MONITOR and the CLIENT LIST
 * line. The Reply API lives in reply.c.
 *
 * Reference: Redis 7.0 networking.c semantics (texts, limits, order of
 * checks). */
#include "server/core/networking.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "server/base/zmalloc.h"
#include "server/core/tracking.h"
#include "server/proto/resp.h"

/* Redis's CLIENTS_CRON_MIN_ITERATIONS: clients checked per cron call at
 * least, whatever hz says. */
#define CLIENTS_CRON_MIN_ITERATIONS 5
/* PROTO_DUMP_LEN bounds the query buffer sample in protocol error logs. */
#define PROTO_DUMP_LEN 128
/* Peak reset interval of the reply buffer (rbp=), as Redis. */
#define REPLY_BUFFER_PEAK_RESET_MS 5000
/* Iterations of process_events_while_blocked. */
#define EVENTS_WHILE_BLOCKED_ITERATIONS 4
/* Query buffer resizing (Redis 7.0): only buffers wasting more than this
 * are touched; above the threshold they are trimmed towards the peak. */
#define QUERYBUF_IDLE_SHRINK_BYTES (4 * 1024)
#define QUERYBUF_RESIZE_THRESHOLD (32 * 1024)
/* Query buffer cap for clients that have not authenticated yet. */
#define UNAUTH_MAX_QUERYBUF_LEN (1024 * 1024)

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif
#define NET_IOV_MAX (IOV_MAX < 1024 ? IOV_MAX : 1024)

static struct {
  const client_module_hooks *hooks[NETWORKING_MAX_HOOKS];
  int hook_count;
  list *postponed; /* clients whose command waits for CLIENT PAUSE to end */
  client *master_waiting; /* the master, held while a script is busy */
} net;

static void read_query_from_client(connection *conn);
static void send_reply_to_client(connection *conn);

/* ------------------------------------------------------------------ */
/* Hooks and the id index                                               */
/* ------------------------------------------------------------------ */
/* The access-control layer's operations (client_set_auth_ops). */
static const client_auth_ops *auth_ops;

void client_set_auth_ops(const client_auth_ops *ops) { auth_ops = ops; }

static const client_auth_ops *client_auth_ops_or_panic(void) {
  if (auth_ops == NULL) {
    /* Fail closed: no client exists without access control. */
    server_panic("no access-control module registered (client_set_auth_ops)");
  }
  return auth_ops;
}

int client_auth_required(client *c) {
  return client_auth_ops_or_panic()->auth_required(c);
}

const char *client_user_name(client *c) {
  return client_auth_ops_or_panic()->user_name(c);
}

void client_register_hooks(const client_module_hooks *hooks) {
  if (net.hook_count < NETWORKING_MAX_HOOKS) {
    net.hooks[net.hook_count++] = hooks;
  }
}

int networking_hook_count(void) { return net.hook_count; }

const client_module_hooks *networking_hook(int i) { return net.hooks[i]; }

static dict_type client_index_dict_type = {
    dict_pointer_hash, NULL, NULL, dict_pointer_compare, NULL, NULL, NULL};

static void networking_ensure_lists(void) {
  if (server.clients == NULL) {
    server.clients = list_create();
  }
  if (server.clients_to_close == NULL) {
    server.clients_to_close = list_create();
  }
  if (server.clients_pending_write == NULL) {
    server.clients_pending_write = list_create();
  }
  if (server.monitors == NULL) {
    server.monitors = list_create();
  }
  if (server.clients_index == NULL) {
    server.clients_index = dict_create(&client_index_dict_type);
  }
  if (net.postponed == NULL) {
    net.postponed = list_create();
  }
}

client *lookup_client_by_id(uint64_t id) {
  if (server.clients_index == NULL) {
    return NULL;
  }
  return dict_fetch_value(server.clients_index, (void *)(uintptr_t)id);
}

/* ------------------------------------------------------------------ */
/* Socket options                                                       */
/* ------------------------------------------------------------------ */
static void net_enable_nodelay(int fd) {
  int yes = 1;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
}

/* net_keepalive mirrors Redis's anetKeepAlive: probes after |interval|
 * seconds, then every interval/3, dropped after 3 failures. */
static void net_keepalive(int fd, int interval) {
  int val = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &val, sizeof(val)) == -1) {
    return;
  }
  val = interval;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &val, sizeof(val));
  val = interval / 3;
  if (val == 0) {
    val = 1;
  }
  (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &val, sizeof(val));
  val = 3;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &val, sizeof(val));
}

static int net_is_tcp_socket(int fd) {
  struct sockaddr_storage sa;
  socklen_t len = sizeof(sa);
  if (getsockname(fd, (struct sockaddr *)&sa, &len) == -1) {
    return 0;
  }
  return sa.ss_family == AF_INET || sa.ss_family == AF_INET6;
}

/* ------------------------------------------------------------------ */
/* Client lifecycle                                                     */
/* ------------------------------------------------------------------ */
void reply_block_free(void *block) { zfree(block); }

static long long net_now_ms(void) {
  return cached_mstime ? cached_mstime : mstime();
}

client *create_client(connection *conn) {
  networking_ensure_lists();
  client *c = zcalloc(sizeof(client));
  if (conn != NULL) {
    if (net_is_tcp_socket(conn->fd)) {
      net_enable_nodelay(conn->fd);
      if (server.tcpkeepalive > 0) {
        net_keepalive(conn->fd, server.tcpkeepalive);
      }
    }
    conn_set_private_data(conn, c);
    if (conn_set_read_handler(conn, read_query_from_client) == -1) {
      conn_set_private_data(conn, NULL);
      zfree(c);
      return NULL;
    }
  }
  c->buf = zmalloc(PROTO_REPLY_CHUNK_BYTES);
  c->buf_usable_size = PROTO_REPLY_CHUNK_BYTES;
  c->buf_peak = c->buf_usable_size;
  c->buf_peak_last_reset_time = net_now_ms();
  if (server.next_client_id == 0) {
    server.next_client_id = 1;
  }
  c->id = server.next_client_id++;
  c->resp = 2;
  c->conn = conn;
  c->db = server.db != NULL ? &server.db[0] : NULL;
  c->querybuf = sds_empty();
  c->bulklen = -1;
  c->reply = list_create();
  list_set_free_method(c->reply, reply_block_free);
  c->ctime = (time_t)(net_now_ms() / 1000);
  c->last_interaction = net_now_ms();
  /* Every client starts as the default user, authenticated when that user
   * needs no password (Redis 7.0): the access-control layer decides. */
  client_auth_ops_or_panic()->init_client(c);
  c->slot = -1;
  c->watched_keys = list_create();
  c->pending_write_node = zmalloc(sizeof(list_node));
  c->pending_write_node->value = c;
  c->pending_write_node->prev = c->pending_write_node->next = NULL;
  if (conn != NULL) {
    list_add_node_tail(server.clients, c);
    c->client_list_node = list_last(server.clients);
    dict_add(server.clients_index, (void *)(uintptr_t)c->id, c);
  }
  return c;
}

void free_client_original_argv(client *c) {
  if (c->original_argv == NULL) {
    return;
  }
  for (int j = 0; j < c->original_argc; j++) {
    decr_ref_count(c->original_argv[j]);
  }
  zfree(c->original_argv);
  c->original_argv = NULL;
  c->original_argc = 0;
}

void free_client_argv(client *c) {
  for (int j = 0; j < c->argc; j++) {
    decr_ref_count(c->argv[j]);
  }
  c->argc = 0;
  c->cmd = NULL;
  c->argv_len_sum = 0;
  /* The argv array is kept for the next command (one malloc less per
   * command); it is resized when a request needs more slots. */
}

void reset_client(client *c) {
  tracking_client_reset(c); /* reads c->cmd: before it goes */
  free_client_argv(c);
  free_client_original_argv(c);
  c->reqtype = 0;
  c->multibulklen = 0;
  c->bulklen = -1;
  /* CLIENT REPLY SKIP: skip the reply of the command after SKIP. */
  if (c->flags & CLIENT_REPLY_SKIP) {
    c->flags &= ~CLIENT_REPLY_SKIP;
  }
  if (c->flags & CLIENT_REPLY_SKIP_NEXT) {
    c->flags |= CLIENT_REPLY_SKIP;
    c->flags &= ~CLIENT_REPLY_SKIP_NEXT;
  }
  c->flags &= ~CLIENT_ASKING;
  c->duration = 0;
}

static void remove_from_postponed(client *c) {
  if (!(c->flags & CLIENT_PENDING_COMMAND) || net.postponed == NULL) {
    return;
  }
  list_node *ln = list_search_key(net.postponed, c);
  if (ln != NULL) {
    list_del_node(net.postponed, ln);
  }
  c->flags &= ~CLIENT_PENDING_COMMAND;
}

void unlink_client(client *c) {
  if (server.current_client == c) {
    server.current_client = NULL;
  }
  if (c->conn != NULL) {
    if (c->client_list_node != NULL) {
      dict_delete(server.clients_index, (void *)(uintptr_t)c->id);
      list_del_node(server.clients, c->client_list_node);
      c->client_list_node = NULL;
    }
    conn_set_private_data(c->conn, NULL);
    conn_close(c->conn);
    c->conn = NULL;
  }
  if (c->flags & CLIENT_PENDING_WRITE) {
    list_unlink_node(server.clients_pending_write, c->pending_write_node);
    c->flags &= ~CLIENT_PENDING_WRITE;
  }
  remove_from_postponed(c);
}

void free_client(client *c) {
  if (c->flags & CLIENT_PROTECTED) {
    free_client_async(c);
    return;
  }
  if (net.master_waiting == c) {
    net.master_waiting = NULL;
  }
  if (c->flags & CLIENT_CLOSE_ASAP) {
    list_node *ln = list_search_key(server.clients_to_close, c);
    if (ln != NULL) {
      list_del_node(server.clients_to_close, ln);
    }
    c->flags &= ~CLIENT_CLOSE_ASAP;
  }
  if (client_type(c) == CLIENT_TYPE_SLAVE && !(c->flags & CLIENT_MONITOR)) {
    server_log(LL_WARNING, "Connection with replica %s lost.",
               client_peer_id(c));
  }
  /* Other modules drop their references first (blocked keys, watched
   * keys, channels), while the client is still whole. */
  for (int i = 0; i < net.hook_count; i++) {
    if (net.hooks[i]->on_free != NULL) {
      net.hooks[i]->on_free(c);
    }
  }
  tracking_client_freed(c);
  sds_free(c->querybuf);
  c->querybuf = NULL;
  if (c->pubsub_channels) {
    dict_release(c->pubsub_channels);
  }
  if (c->pubsub_patterns) {
    dict_release(c->pubsub_patterns);
  }
  if (c->pubsub_shard_channels) {
    dict_release(c->pubsub_shard_channels);
  }
  if (c->watched_keys) {
    list_release(c->watched_keys);
  }
  list_release(c->reply);
  c->reply = NULL;
  zfree(c->buf);
  c->buf = NULL;
  free_client_argv(c);
  free_client_original_argv(c);
  zfree(c->argv);
  c->argv = NULL;
  unlink_client(c);
  if (c->flags & CLIENT_MONITOR) {
    list_node *ln = list_search_key(server.monitors, c);
    if (ln != NULL) {
      list_del_node(server.monitors, ln);
    }
  }
  if (c->name) {
    decr_ref_count(c->name);
  }
  sds_free(c->peerid);
  sds_free(c->sockname);
  zfree(c->pending_write_node);
  zfree(c);
}

void free_client_async(client *c) {
  if ((c->flags & CLIENT_CLOSE_ASAP) || (c->flags & CLIENT_SCRIPT)) {
    return;
  }
  networking_ensure_lists();
  c->flags |= CLIENT_CLOSE_ASAP;
  list_add_node_tail(server.clients_to_close, c);
}

void free_clients_in_async_free_queue(void) {
  if (server.clients_to_close == NULL) {
    return;
  }
  /* Budget: the clients queued now; protected ones stay queued. */
  unsigned long budget = list_length(server.clients_to_close);
  list_iter li;
  list_node *ln;
  list_rewind(server.clients_to_close, &li);
  while (budget-- > 0 && (ln = list_next(&li)) != NULL) {
    client *c = list_node_value(ln);
    if (c->flags & CLIENT_PROTECTED) {
      continue;
    }
    c->flags &= ~CLIENT_CLOSE_ASAP;
    list_del_node(server.clients_to_close, ln);
    free_client(c);
  }
}

int client_type(client *c) {
  if (c->flags & CLIENT_MASTER) {
    return CLIENT_TYPE_MASTER;
  }
  /* MONITOR clients are replicas in Redis's accounting too. */
  if ((c->flags & CLIENT_SLAVE) && !(c->flags & CLIENT_MONITOR)) {
    return CLIENT_TYPE_SLAVE;
  }
  if (c->flags & CLIENT_PUBSUB) {
    return CLIENT_TYPE_PUBSUB;
  }
  return CLIENT_TYPE_NORMAL;
}

const char *client_type_name(int class_) {
  switch (class_) {
    case CLIENT_TYPE_NORMAL:
      return "normal";
    case CLIENT_TYPE_SLAVE:
      return "slave";
    case CLIENT_TYPE_PUBSUB:
      return "pubsub";
    case CLIENT_TYPE_MASTER:
      return "master";
    default:
      return NULL;
  }
}

int client_type_by_name(const char *name) {
  if (!strcasecmp(name, "normal")) {
    return CLIENT_TYPE_NORMAL;
  } else if (!strcasecmp(name, "slave") || !strcasecmp(name, "replica")) {
    return CLIENT_TYPE_SLAVE;
  } else if (!strcasecmp(name, "pubsub")) {
    return CLIENT_TYPE_PUBSUB;
  } else if (!strcasecmp(name, "master")) {
    return CLIENT_TYPE_MASTER;
  }
  return -1;
}

/* ------------------------------------------------------------------ */
/* Read path                                                            */
/* ------------------------------------------------------------------ */
void set_protocol_error(client *c, const char *errstr) {
  if (server_log_settings.verbosity <= LL_VERBOSE ||
      (c->flags & CLIENT_MASTER)) {
    sds info = cat_client_info_string(sds_empty(), c);
    char buf[256];
    size_t avail = sds_len(c->querybuf) - c->qb_pos;
    const char *q = c->querybuf + c->qb_pos;
    if (avail < PROTO_DUMP_LEN) {
      snprintf(buf, sizeof(buf), "Query buffer during protocol error: '%.*s'",
               (int)avail, q);
    } else {
      snprintf(buf, sizeof(buf),
               "Query buffer during protocol error: '%.*s' (... more %zu "
               "bytes ...) '%.*s'",
               PROTO_DUMP_LEN / 2, q, avail - PROTO_DUMP_LEN,
               PROTO_DUMP_LEN / 2, q + avail - PROTO_DUMP_LEN / 2);
    }
    for (char *p = buf; *p != '\0'; p++) {
      if (!isprint((unsigned char)*p)) {
        *p = '.';
      }
    }
    server_log((c->flags & CLIENT_MASTER) ? LL_WARNING : LL_VERBOSE,
               "Protocol error (%s) from client: %s. %s", errstr, info, buf);
    sds_free(info);
  }
  c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

static void client_argv_reserve(client *c, long long count) {
  int want = count > 1024 ? 1024 : (int)count;
  if (c->argv == NULL || c->argv_len < want) {
    zfree(c->argv);
    c->argv = zmalloc(sizeof(robj *) * (size_t)want);
    c->argv_len = want;
  }
}

static void client_argv_push(client *c, robj *o, long long left) {
  if (c->argc >= c->argv_len) {
    long long grow = c->argv_len < INT_MAX / 2 ? (long long)c->argv_len * 2
                                               : (long long)INT_MAX;
    long long need = (long long)c->argc + left + 1;
    if (grow > need) {
      grow = need;
    }
    if (grow < c->argc + 1) {
      grow = c->argc + 1;
    }
    c->argv = zrealloc(c->argv, sizeof(robj *) * (size_t)grow);
    c->argv_len = (int)grow;
  }
  c->argv[c->argc++] = o;
}

/* client_must_postpone: CLIENT PAUSE holds every command (ALL) or the
 * commands that may write (WRITE); replicas are never paused. */
static int client_must_postpone(client *c) {
  if (server.client_pause_type == 0 || (c->flags & CLIENT_SLAVE) ||
      !check_clients_pause_timeout()) {
    return 0;
  }
  if (server.client_pause_type == 2) {
    return 1;
  }
  redis_command *cmd = lookup_command(c->argv, c->argc);
  return cmd != NULL && (cmd->flags & (CMD_WRITE | CMD_MAY_REPLICATE));
}

static void postpone_client(client *c) {
  redis_command *cmd = lookup_command(c->argv, c->argc);
  if (cmd != NULL) {
    c->lastcmd = cmd; /* CLIENT LIST cmd= shows the waiting command */
  }
  c->flags |= CLIENT_PENDING_COMMAND;
  list_add_node_tail(net.postponed, c);
}

/* process_command_and_reset_client runs one parsed command. Returns C_ERR
 * if the client was freed meanwhile. */
static int process_command_and_reset_client(client *c) {
  int dead = 0;
  client *old = server.current_client;
  server.current_client = c;
  /* Client-side caching, before the command as Redis: invalidations held
   * back for a client served while blocked follow that reply, and the
   * tracking table is kept under tracking-table-max-keys. */
  if (server.in_nested_call == 0) {
    tracking_handle_pending_invalidations();
  }
  tracking_limit_used_slots();
  /* process_command may free c: check current_client before touching c. */
  if (process_command(c) == C_OK && server.current_client == c &&
      !(c->flags & CLIENT_BLOCKED)) {
    reset_client(c);
  }
  if (server.current_client == NULL) {
    dead = 1;
  }
  server.current_client = old;
  return dead ? C_ERR : C_OK;
}

static void client_trim_querybuf(client *c) {
  if (c->qb_pos == 0) {
    return;
  }
  size_t len = sds_len(c->querybuf);
  size_t rest = c->qb_pos < len ? len - c->qb_pos : 0;
  if (rest > 0) {
    memmove(c->querybuf, c->querybuf + c->qb_pos, rest);
  }
  sds_set_len(c->querybuf, rest);
  c->querybuf[rest] = '\0';
  c->qb_pos = 0;
}

static void (*master_read_hook)(client *c, const char *buf, size_t len);

void client_set_master_read_hook(void (*fn)(client *c, const char *buf,
                                            size_t len)) {
  master_read_hook = fn;
}

int process_input_buffer(client *c) {
  resp_parser p;
  resp_limits lim;
  resp_out out;
  resp_parser_init(&p);
  resp_limits_default(&lim);
  lim.max_bulk_len =
      (c->flags & CLIENT_MASTER) ? -1 : server.proto_max_bulk_len;
  if (lim.max_bulk_len == 0) {
    lim.max_bulk_len = PROTO_DEFAULT_MAX_BULK_LEN;
  }
  lim.allow_inline = !(c->flags & CLIENT_MASTER);
  lim.auth_required = client_auth_required(c);
  p.reqtype = (resp_request_type)c->reqtype;
  p.multibulklen = c->multibulklen;
  p.bulklen = c->bulklen;

  for (;;) {
    if (!resp_parser_in_command(&p)) {
      /* Between commands: the same stops as Redis's processInputBuffer. */
      if (c->flags & (CLIENT_BLOCKED | CLIENT_PENDING_COMMAND |
                      CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP)) {
        break;
      }
      /* While a script is busy the master's stream waits (Redis replies
       * -BUSY to others but must not lose a replicated command). */
      if (server.script_busy && (c->flags & CLIENT_MASTER)) {
        net.master_waiting = c;
        break;
      }
      if (c->qb_pos >= sds_len(c->querybuf)) {
        break;
      }
      /* Limits that depend on AUTH are re-evaluated after every command
       * (and for a header split across reads). */
      lim.auth_required = client_auth_required(c);
    }
    resp_event ev = resp_parse(&p, c->querybuf, sds_len(c->querybuf),
                               &c->qb_pos, &lim, &out);
    if (ev == RESP_EV_NEED_MORE) {
      /* Big argument: make the query buffer hold exactly this bulk so it
       * can become the argument without a copy. */
      if (p.bulklen >= PROTO_MBULK_BIG_ARG && !(c->flags & CLIENT_MASTER) &&
          sds_len(c->querybuf) - c->qb_pos <= (size_t)p.bulklen + 2) {
        client_trim_querybuf(c);
        size_t need = (size_t)p.bulklen + 2;
        if (sds_len(c->querybuf) < need) {
          c->querybuf =
              sds_make_room_for_exact(c->querybuf, need - sds_len(c->querybuf));
        }
      }
      break;
    } else if (ev == RESP_EV_ARRAY_START) {
      client_argv_reserve(c, out.count);
      c->argc = 0;
      c->argv_len_sum = 0;
    } else if (ev == RESP_EV_ARG) {
      robj *o;
      if (out.data == c->querybuf && p.reqtype == RESP_REQ_MULTIBULK &&
          out.len >= PROTO_MBULK_BIG_ARG && !(c->flags & CLIENT_MASTER) &&
          sds_len(c->querybuf) == out.len + 2) {
        /* The buffer is exactly this argument: hand it over. */
        sds arg = c->querybuf;
        sds_incr_len(arg, -2);
        o = create_object(OBJ_STRING, arg);
        /* A big argument is likely followed by another: keep the room
         * (no zero-fill, unlike sds_new_len(NULL, n)). */
        c->querybuf = sds_make_room_for_exact(sds_empty(), out.len + 2);
        c->qb_pos = 0;
      } else {
        o = create_string_object(out.data, out.len);
      }
      c->argv_len_sum += out.len;
      client_argv_push(c, o, p.multibulklen);
    } else if (ev == RESP_EV_COMMAND_END) {
      c->reqtype = 0;
      c->multibulklen = 0;
      c->bulklen = -1;
      if (c->argc == 0) {
        reset_client(c);
        continue;
      }
      if (client_must_postpone(c)) {
        postpone_client(c);
        break;
      }
      if (process_command_and_reset_client(c) == C_ERR) {
        resp_parser_free(&p);
        return C_ERR;
      }
    } else { /* RESP_EV_ERROR */
      add_reply_error_length(c, out.error, out.error_len);
      set_protocol_error(c, out.error);
      resp_parser_reset(&p);
      break;
    }
  }
  c->reqtype = p.reqtype;
  c->multibulklen = (int)p.multibulklen;
  c->bulklen = (long)p.bulklen;
  resp_parser_free(&p);
  /* The master's link too: its offset counts the unprocessed bytes
   * (length - qb_pos), which trimming leaves as they are. */
  client_trim_querybuf(c);
  return C_OK;
}

static void read_query_from_client(connection *conn) {
  client *c = conn_get_private_data(conn);
  if (c == NULL) {
    return;
  }
  size_t readlen = PROTO_IOBUF_LEN;
  int big_arg = 0;
  if (c->reqtype == PROTO_REQ_MULTIBULK && c->multibulklen &&
      c->bulklen != -1 && c->bulklen >= PROTO_MBULK_BIG_ARG) {
    long long remaining = (long long)(c->bulklen + 2) -
                          (long long)(sds_len(c->querybuf) - c->qb_pos);
    big_arg = 1;
    if (remaining > 0) {
      readlen = (size_t)remaining;
    }
    if ((c->flags & CLIENT_MASTER) && readlen < PROTO_IOBUF_LEN) {
      readlen = PROTO_IOBUF_LEN;
    }
  }
  size_t qblen = sds_len(c->querybuf);
  if (!(c->flags & CLIENT_MASTER) &&
      (big_arg || sds_alloc(c->querybuf) < PROTO_IOBUF_LEN)) {
    c->querybuf = sds_make_room_for_exact(c->querybuf, readlen);
  } else {
    c->querybuf = sds_make_room_for(c->querybuf, readlen);
    readlen = sds_avail(c->querybuf);
  }
  server.stat_total_reads_processed++;
  ssize_t nread = conn_read(conn, c->querybuf + qblen, readlen);
  if (nread == -1) {
    if (conn->state == CONN_STATE_CONNECTED) {
      return; /* EAGAIN */
    }
    server_log(LL_VERBOSE, "Reading from client: %s",
               strerror(conn->last_errno));
    free_client_async(c);
    return;
  } else if (nread == 0) {
    if (server_log_settings.verbosity <= LL_VERBOSE) {
      sds info = cat_client_info_string(sds_empty(), c);
      server_log(LL_VERBOSE, "Client closed connection %s", info);
      sds_free(info);
    }
    free_client_async(c);
    return;
  }
  sds_incr_len(c->querybuf, nread);
  if ((c->flags & CLIENT_MASTER) && master_read_hook) {
    master_read_hook(c, c->querybuf + sds_len(c->querybuf) - nread,
                     (size_t)nread);
  }
  qblen = sds_len(c->querybuf);
  if (c->querybuf_peak < qblen) {
    c->querybuf_peak = qblen;
  }
  c->last_interaction = net_now_ms();
  c->net_input_bytes += (unsigned long long)nread;
  server.stat_net_input_bytes += nread;
  /* Commands queued by MULTI count as query buffer too; clients that have
   * not authenticated get at most 1 MB (Redis 7.0.x). */
  size_t pending_input = qblen;
  if (c->flags & CLIENT_MULTI) {
    for (int i = 0; i < networking_hook_count(); i++) {
      if (networking_hook(i)->multi_mem != NULL) {
        pending_input += networking_hook(i)->multi_mem(c);
      }
    }
  }
  if (!(c->flags & CLIENT_MASTER) &&
      ((server.client_max_querybuf_len > 0 &&
        pending_input > server.client_max_querybuf_len) ||
       (pending_input > UNAUTH_MAX_QUERYBUF_LEN && client_auth_required(c)))) {
    sds info = cat_client_info_string(sds_empty(), c);
    sds bytes = sds_cat_repr(sds_empty(), c->querybuf, qblen < 64 ? qblen : 64);
    server_log(LL_WARNING,
               "Closing client that reached max query buffer length: %s "
               "(qbuf initial bytes: %s)",
               info, bytes);
    sds_free(info);
    sds_free(bytes);
    server.stat_client_qbuf_limit_disconnections++;
    free_client_async(c);
    return;
  }
  if (process_input_buffer(c) == C_ERR) {
    return; /* freed */
  }
  /* Close-after-reply with nothing left to send (CLIENT REPLY OFF, or a
   * command that replied nothing) would otherwise linger. */
  if ((c->flags & CLIENT_CLOSE_AFTER_REPLY) && !client_has_pending_replies(c)) {
    free_client_async(c);
  }
}

/* ------------------------------------------------------------------ */
/* Write path                                                           */
/* ------------------------------------------------------------------ */
int client_has_pending_replies(client *c) {
  return c->bufpos > 0 || list_length(c->reply) > 0;
}

/* writev_to_client sends the static buffer and the reply blocks in one
 * writev. Returns C_OK, or C_ERR when nothing could be written. */
static int writev_to_client(client *c, ssize_t *nwritten) {
  struct iovec iov[NET_IOV_MAX];
  int iovcnt = 0;
  size_t iov_bytes = 0;
  if (c->bufpos > 0) {
    iov[iovcnt].iov_base = c->buf + c->sentlen;
    iov[iovcnt].iov_len = c->bufpos - c->sentlen;
    iov_bytes += iov[iovcnt++].iov_len;
  }
  size_t offset = c->bufpos > 0 ? 0 : c->sentlen;
  list_node *ln = list_first(c->reply);
  while (ln != NULL && iovcnt < NET_IOV_MAX &&
         iov_bytes < NET_MAX_WRITES_PER_EVENT) {
    list_node *next = list_next_node(ln);
    client_reply_block *o = list_node_value(ln);
    if (o == NULL || o->used == 0) {
      /* Empty block (or an unfilled deferred slot, which cannot happen
       * once a command finished): drop it. */
      if (o != NULL) {
        c->reply_bytes -= o->size;
      }
      list_del_node(c->reply, ln);
      offset = 0;
      ln = next;
      continue;
    }
    iov[iovcnt].iov_base = o->buf + offset;
    iov[iovcnt].iov_len = o->used - offset;
    iov_bytes += iov[iovcnt++].iov_len;
    offset = 0;
    ln = next;
  }
  if (iovcnt == 0) {
    *nwritten = 0;
    return C_OK;
  }
  *nwritten = conn_writev(c->conn, iov, iovcnt);
  if (*nwritten <= 0) {
    return C_ERR;
  }
  ssize_t remaining = *nwritten;
  if (c->bufpos > 0) {
    ssize_t buf_len = (ssize_t)(c->bufpos - c->sentlen);
    if (remaining >= buf_len) {
      c->bufpos = 0;
      c->sentlen = 0;
    } else {
      c->sentlen += (size_t)remaining;
    }
    remaining -= buf_len;
  }
  while (remaining > 0) {
    ln = list_first(c->reply);
    client_reply_block *o = list_node_value(ln);
    ssize_t left = (ssize_t)(o->used - c->sentlen);
    if (remaining < left) {
      c->sentlen += (size_t)remaining;
      break;
    }
    remaining -= left;
    c->reply_bytes -= o->size;
    list_del_node(c->reply, ln);
    c->sentlen = 0;
  }
  return C_OK;
}

static int write_to_client_once(client *c, ssize_t *nwritten) {
  *nwritten = 0;
  if (list_length(c->reply) > 0) {
    return writev_to_client(c, nwritten);
  }
  if (c->bufpos > 0) {
    *nwritten =
        conn_write(c->conn, c->buf + c->sentlen, c->bufpos - c->sentlen);
    if (*nwritten <= 0) {
      return C_ERR;
    }
    c->sentlen += (size_t)*nwritten;
    if (c->sentlen == c->bufpos) {
      c->bufpos = 0;
      c->sentlen = 0;
    }
  }
  return C_OK;
}

int write_to_client(client *c, int handler_installed) {
  ssize_t nwritten = 0, total = 0;
  server.stat_total_writes_processed++;
  if (c->conn == NULL) {
    return C_ERR;
  }
  /* Budget: NET_MAX_WRITES_PER_EVENT bytes per call so one fast reader
   * cannot starve the others (replicas are exempt, as in Redis). */
  while (client_has_pending_replies(c)) {
    if (write_to_client_once(c, &nwritten) == C_ERR) {
      break;
    }
    total += nwritten;
    if (total > NET_MAX_WRITES_PER_EVENT &&
        (server.maxmemory == 0 || used_memory() < server.maxmemory) &&
        !(c->flags & CLIENT_SLAVE)) {
      break;
    }
  }
  server.stat_net_output_bytes += total;
  c->net_output_bytes += (unsigned long long)total;
  if (nwritten == -1 && c->conn->state != CONN_STATE_CONNECTED) {
    server_log(LL_VERBOSE, "Error writing to client: %s",
               strerror(c->conn->last_errno));
    free_client_async(c);
    return C_ERR;
  }
  if (total > 0 && !(c->flags & CLIENT_MASTER)) {
    c->last_interaction = net_now_ms();
  }
  if (!client_has_pending_replies(c)) {
    c->sentlen = 0;
    if (handler_installed) {
      conn_set_write_handler(c->conn, NULL);
    }
    if (c->flags & CLIENT_CLOSE_AFTER_REPLY) {
      free_client_async(c);
      return C_ERR;
    }
  }
  return C_OK;
}

static void send_reply_to_client(connection *conn) {
  client *c = conn_get_private_data(conn);
  if (c != NULL) {
    (void)write_to_client(c, 1);
  }
}

int handle_clients_with_pending_writes(void) {
  process_postponed_clients();
  /* Client-side caching: what is still held back, and the BCAST
   * invalidations of this event loop round (not while a command, such as
   * a busy script, is still running). */
  if (server.in_nested_call == 0) {
    tracking_handle_pending_invalidations();
    tracking_broadcast_invalidation_messages();
  }
  /* The master's stream held while a script was busy goes on. */
  if (net.master_waiting != NULL && !server.script_busy) {
    client *m = net.master_waiting;
    net.master_waiting = NULL;
    (void)process_input_buffer(m);
  }
  if (server.clients_pending_write == NULL) {
    return 0;
  }
  int processed = (int)list_length(server.clients_pending_write);
  list_node *ln;
  while ((ln = list_first(server.clients_pending_write)) != NULL) {
    client *c = list_node_value(ln);
    c->flags &= ~CLIENT_PENDING_WRITE;
    list_unlink_node(server.clients_pending_write, ln);
    if (c->flags & (CLIENT_PROTECTED | CLIENT_CLOSE_ASAP)) {
      continue;
    }
    if (write_to_client(c, 0) == C_ERR) {
      continue;
    }
    /* Only when the socket is full do we wait for a writable event. */
    if (client_has_pending_replies(c) &&
        conn_set_write_handler(c->conn, send_reply_to_client) == -1) {
      free_client_async(c);
    }
  }
  return processed;
}

/* ------------------------------------------------------------------ */
/* Output buffer limits                                                 */
/* ------------------------------------------------------------------ */
size_t get_client_output_buffer_memory_usage(client *c) {
  size_t item = sizeof(list_node) + sizeof(client_reply_block);
  return (size_t)c->reply_bytes + item * list_length(c->reply);
}

int check_client_output_buffer_limits(client *c) {
  int soft = 0, hard = 0;
  unsigned long long used = get_client_output_buffer_memory_usage(c);
  int class_ = client_type(c);
  if (class_ == CLIENT_TYPE_MASTER) {
    class_ = CLIENT_TYPE_NORMAL;
  }
  const client_buffer_limit *lim = &server.client_obuf_limits[class_];
  if (lim->hard_limit_bytes && used >= lim->hard_limit_bytes) {
    hard = 1;
  }
  if (lim->soft_limit_bytes && used >= lim->soft_limit_bytes) {
    soft = 1;
  }
  /* The soft limit must hold continuously for soft_limit_seconds. */
  time_t now = (time_t)(net_now_ms() / 1000);
  if (soft) {
    if (c->obuf_soft_limit_reached_time == 0) {
      c->obuf_soft_limit_reached_time = now;
      soft = 0;
    } else {
      time_t elapsed = now - (time_t)c->obuf_soft_limit_reached_time;
      if (elapsed <= lim->soft_limit_seconds) {
        soft = 0;
      }
    }
  } else {
    c->obuf_soft_limit_reached_time = 0;
  }
  return soft || hard;
}

void close_client_on_output_buffer_limit_reached(client *c, int async) {
  if (c->conn == NULL) {
    return; /* fake clients are never freed here */
  }
  if ((c->reply_bytes == 0 && client_type(c) != CLIENT_TYPE_SLAVE) ||
      (c->flags & CLIENT_CLOSE_ASAP)) {
    return;
  }
  if (!check_client_output_buffer_limits(c)) {
    return;
  }
  sds info = cat_client_info_string(sds_empty(), c);
  server.stat_client_outbuf_limit_disconnections++;
  if (async) {
    free_client_async(c);
    server_log(LL_WARNING,
               "Client %s scheduled to be closed ASAP for overcoming of "
               "output buffer limits.",
               info);
  } else {
    free_client(c);
    server_log(LL_WARNING,
               "Client %s closed for overcoming of output buffer limits.",
               info);
  }
  sds_free(info);
}

/* net_conn_info: "fd=N" (Redis's connGetInfo) plus the type's fragment
 * (TLS details), for log lines. */
static void net_conn_info(connection *conn, char *buf, size_t len) {
  char extra[200];
  extra[0] = '\0';
  conn->type->get_info(conn, extra, sizeof(extra));
  snprintf(buf, len, "fd=%d%s%s", conn->fd, extra[0] ? " " : "", extra);
}

/* ------------------------------------------------------------------ */
/* Accept                                                               */
/* ------------------------------------------------------------------ */
/* net_default_user_nopass: whether the default user has the nopass flag
 * (fails closed: without the hook, protected mode applies). */
static int net_default_user_nopass(void) {
  const client_auth_ops *ops = client_auth_ops_or_panic();
  return ops->default_user_nopass == NULL || ops->default_user_nopass();
}

void client_accept_handler(connection *conn) {
  client *c = conn_get_private_data(conn);
  if (c == NULL) {
    return;
  }
  if (conn->state != CONN_STATE_CONNECTED) {
    server_log(LL_WARNING, "Error accepting a client connection: %s",
               strerror(conn->last_errno));
    free_client_async(c);
    return;
  }
  /* Protected mode, as Redis 7.0: while the default user needs no
   * password (its nopass flag, whatever requirepass says), only local
   * clients (client_is_local) are served. */
  if (server.protected_mode && net_default_user_nopass() &&
      !client_is_local(c)) {
    static const char *err =
        "-DENIED Redis is running in protected mode because protected "
        "mode is enabled and no password is set for the default user. "
        "In this mode connections are only accepted from the loopback "
        "interface. If you want to connect from external computers to "
        "Redis you may adopt one of the following solutions: "
        "1) Just disable protected mode sending the command "
        "'CONFIG SET protected-mode no' from the loopback interface "
        "by connecting to Redis from the same host the server is "
        "running, however MAKE SURE Redis is not publicly accessible "
        "from internet if you do so. Use CONFIG REWRITE to make this "
        "change permanent. "
        "2) Alternatively you can just disable the protected mode by "
        "editing the Redis configuration file, and setting the protected "
        "mode option to 'no', and then restarting the server. "
        "3) If you started the server manually just for testing, restart "
        "it with the '--protected-mode no' option. "
        "4) Setup a an authentication password for the default user. "
        "NOTE: You only need to do one of the above things in order for "
        "the server to start accepting connections from the outside.\r\n";
    if (conn_write(conn, err, strlen(err)) == -1) {
      /* best effort */
    }
    server.stat_rejected_conn++;
    free_client_async(c);
    return;
  }
  server.stat_numconnections++;
}

void accept_common_handler(connection *conn, int flags, const char *ip) {
  (void)ip;
  networking_ensure_lists();
  if (conn->state != CONN_STATE_ACCEPTING) {
    char info[256];
    net_conn_info(conn, info, sizeof(info));
    server_log(LL_VERBOSE,
               "Accepted client connection in error state: %s (conn: %s)",
               strerror(conn->last_errno), info);
    conn_close(conn);
    return;
  }
  /* Admission control before any transport negotiation. */
  /* Clients already scheduled for closing (EOF seen this wakeup) do not
   * hold a slot: a client that just disconnected must not push a new one
   * over the limit. */
  unsigned long live = list_length(server.clients);
  unsigned long closing = list_length(server.clients_to_close);
  live = live > closing ? live - closing : 0;
  /* Connections not yet clients (TLS handshakes) hold descriptors too. */
  if (!listener_admit(live)) {
    static const char *err = "-ERR max number of clients reached\r\n";
    if (conn_write(conn, err, strlen(err)) == -1) {
      /* best effort: TLS writes nothing before its handshake */
    }
    server.stat_rejected_conn++;
    conn_close(conn);
    return;
  }
  client *c = create_client(conn);
  if (c == NULL) {
    char info[256];
    net_conn_info(conn, info, sizeof(info));
    server_log(LL_WARNING,
               "Error registering fd event for the new client: %s (conn: %s)",
               strerror(errno), info);
    conn_close(conn);
    return;
  }
  c->flags |= (uint64_t)flags;
  /* The peer address is read once, now: protected mode and the "local"
   * settings decide on it, and CLIENT LIST, SLOWLOG and MONITOR still show
   * it after the peer has reset the connection (getpeername fails then). */
  (void)client_peer_id(c);
  /* accept may call client_accept_handler right away or later: nothing
   * may touch c after it. */
  if (conn_accept(conn, client_accept_handler) == -1) {
    if (conn->state == CONN_STATE_ERROR) {
      char info[256];
      net_conn_info(conn, info, sizeof(info));
      server_log(LL_WARNING,
                 "Error accepting a client connection: %s (conn: %s)",
                 strerror(conn->last_errno), info);
    }
    free_client(c);
  }
}

void accept_tcp_handler(ae_loop *el, int fd, void *privdata, int mask) {
  (void)privdata;
  (void)mask;
  int budget = MAX_ACCEPTS_PER_CALL;
  while (budget-- > 0) {
    struct sockaddr_storage sa;
    socklen_t salen = sizeof(sa);
    int cfd = accept4(fd, (struct sockaddr *)&sa, &salen,
                      SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd == -1) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EMFILE || errno == ENFILE) {
        listener_accept_starved(errno); /* pause, not a busy loop */
      } else if (errno != EWOULDBLOCK && errno != EAGAIN) {
        server_log(LL_WARNING, "Accepting client connection: accept: %s",
                   strerror(errno));
      }
      return;
    }
    char cip[64] = "?";
    int cport = 0;
    if (sa.ss_family == AF_INET) {
      struct sockaddr_in *s = (struct sockaddr_in *)&sa;
      inet_ntop(AF_INET, &s->sin_addr, cip, sizeof(cip));
      cport = ntohs(s->sin_port);
    } else if (sa.ss_family == AF_INET6) {
      struct sockaddr_in6 *s = (struct sockaddr_in6 *)&sa;
      inet_ntop(AF_INET6, &s->sin6_addr, cip, sizeof(cip));
      cport = ntohs(s->sin6_port);
    }
    if (server_log_settings.verbosity <= LL_VERBOSE) {
      server_log(LL_VERBOSE, "Accepted %s:%d", cip, cport);
    }
    connection *conn = conn_create_accepted_tcp(el, cfd);
    if (conn == NULL) {
      close(cfd);
      continue;
    }
    accept_common_handler(conn, 0, cip);
  }
}

/* ------------------------------------------------------------------ */
/* Cron: idle timeout, buffer housekeeping                              */
/* ------------------------------------------------------------------ */
static int client_cron_handle_timeout(client *c, long long now_ms) {
  time_t now = (time_t)(now_ms / 1000);
  time_t last = (time_t)(c->last_interaction / 1000);
  if (server.maxidletime && !(c->flags & CLIENT_SLAVE) &&
      !(c->flags & CLIENT_MASTER) && !(c->flags & CLIENT_BLOCKED) &&
      !(c->flags & CLIENT_PENDING_COMMAND) && !(c->flags & CLIENT_PUBSUB) &&
      (now - last > server.maxidletime)) {
    server_log(LL_VERBOSE, "Closing idle client");
    free_client(c);
    return 1;
  }
  return 0;
}

/* client_cron_resize_query_buffer: as Redis 7.0's clientsCronResizeQueryBuffer:
 * give back space idle for 2 s, or trim a buffer much larger than its
 * recent peak. */
static void client_cron_resize_query_buffer(client *c, long long now_ms) {
  size_t size = sds_alloc(c->querybuf);
  long long idle = now_ms / 1000 - c->last_interaction / 1000;
  if (c->qb_pos == 0 && sds_avail(c->querybuf) > QUERYBUF_IDLE_SHRINK_BYTES) {
    if (idle > 2) {
      c->querybuf = sds_remove_free_space(c->querybuf);
    } else if (size > QUERYBUF_RESIZE_THRESHOLD &&
               size / 2 > c->querybuf_peak) {
      size_t target = sds_len(c->querybuf);
      if (target < c->querybuf_peak) {
        target = c->querybuf_peak;
      }
      if (c->bulklen != -1 && target < (size_t)c->bulklen) {
        target = (size_t)c->bulklen;
      }
      c->querybuf = sds_remove_free_space(c->querybuf);
      if (target > sds_len(c->querybuf)) {
        c->querybuf =
            sds_make_room_for_exact(c->querybuf, target - sds_len(c->querybuf));
      }
    }
  }
  c->querybuf_peak = sds_len(c->querybuf);
  if (c->bulklen != -1 && (size_t)c->bulklen > c->querybuf_peak) {
    c->querybuf_peak = (size_t)c->bulklen;
  }
}

/* client_cron_resize_output_buffer: Redis 7.0's reply buffer resizing:
 * halve towards PROTO_REPLY_MIN_BYTES when the 5 s peak used under half,
 * double up to PROTO_REPLY_CHUNK_BYTES when the peak filled it. */
static void client_cron_resize_output_buffer(client *c, long long now_ms) {
  size_t new_size = 0;
  size_t shrink_target = c->buf_usable_size / 2;
  size_t expand_target = c->buf_usable_size * 2;
  if (shrink_target >= PROTO_REPLY_MIN_BYTES && c->buf_peak < shrink_target) {
    new_size = c->buf_peak + 1 > PROTO_REPLY_MIN_BYTES ? c->buf_peak + 1
                                                       : PROTO_REPLY_MIN_BYTES;
  } else if (expand_target < PROTO_REPLY_CHUNK_BYTES * 2 &&
             c->buf_peak == c->buf_usable_size) {
    new_size = expand_target < PROTO_REPLY_CHUNK_BYTES
                   ? expand_target
                   : PROTO_REPLY_CHUNK_BYTES;
  }
  if (now_ms - c->buf_peak_last_reset_time >= REPLY_BUFFER_PEAK_RESET_MS) {
    c->buf_peak = c->bufpos;
    c->buf_peak_last_reset_time = now_ms;
  }
  /* The peak is never below bufpos, so new_size > bufpos. */
  if (new_size != 0 && new_size > c->bufpos) {
    char *nb = zmalloc(new_size);
    memcpy(nb, c->buf, c->bufpos);
    zfree(c->buf);
    c->buf = nb;
    c->buf_usable_size = new_size;
  }
}

static void client_cron_housekeeping(client *c, long long now_ms) {
  client_cron_resize_query_buffer(c, now_ms);
  client_cron_resize_output_buffer(c, now_ms);
}

void close_timedout_clients_step(void) {
  if (server.clients == NULL) {
    return;
  }
  unsigned long numclients = list_length(server.clients);
  int hz = server.hz > 0 ? server.hz : CONFIG_DEFAULT_HZ;
  unsigned long iterations = numclients / (unsigned long)hz;
  long long now = mstime();
  if (iterations < CLIENTS_CRON_MIN_ITERATIONS) {
    iterations = numclients < CLIENTS_CRON_MIN_ITERATIONS
                     ? numclients
                     : CLIENTS_CRON_MIN_ITERATIONS;
  }
  /* Rotate tail to head so each call looks at different clients. */
  while (list_length(server.clients) && iterations--) {
    list_rotate_tail_to_head(server.clients);
    client *c = list_node_value(list_first(server.clients));
    c->client_list_node = list_first(server.clients);
    if (client_cron_handle_timeout(c, now)) {
      continue;
    }
    client_cron_housekeeping(c, now);
  }
}

/* ------------------------------------------------------------------ */
/* CLIENT PAUSE                                                         */
/* ------------------------------------------------------------------ */
void pause_clients(long long end_ms, int write_only) {
  int type = write_only ? 1 : 2;
  /* A stronger or longer pause wins, as Redis: ALL over WRITE, later end
   * over earlier. */
  if (server.client_pause_type == 0 || type > server.client_pause_type) {
    server.client_pause_type = type;
  }
  if (end_ms > server.clients_pause_end_time) {
    server.clients_pause_end_time = end_ms;
  }
}

void unpause_clients(void) {
  server.client_pause_type = 0;
  server.clients_pause_end_time = 0;
}

int are_clients_paused(void) { return server.client_pause_type != 0; }

int check_clients_pause_timeout(void) {
  if (server.client_pause_type == 0) {
    return 0;
  }
  if (server.clients_pause_end_time < mstime()) {
    unpause_clients();
    return 0;
  }
  return 1;
}

void process_postponed_clients(void) {
  if (net.postponed == NULL || list_length(net.postponed) == 0) {
    return;
  }
  (void)check_clients_pause_timeout();
  /* Budget: the clients postponed now; each runs one command then its
   * buffered input. */
  unsigned long budget = list_length(net.postponed);
  list_node *ln = list_first(net.postponed);
  while (ln != NULL && budget-- > 0) {
    list_node *next = list_next_node(ln);
    client *c = list_node_value(ln);
    if (client_must_postpone(c)) {
      ln = next;
      continue;
    }
    list_del_node(net.postponed, ln);
    c->flags &= ~CLIENT_PENDING_COMMAND;
    if (process_command_and_reset_client(c) == C_OK) {
      (void)process_input_buffer(c);
    }
    /* The lists may have changed: restart from the head. */
    next = list_first(net.postponed);
    ln = next;
  }
}

/* ------------------------------------------------------------------ */
/* Argument vector rewriting                                            */
/* ------------------------------------------------------------------ */
static void retain_original_command_vector(client *c) {
  if (c->original_argv != NULL) {
    return;
  }
  c->original_argc = c->argc;
  c->original_argv =
      zmalloc(sizeof(robj *) * (size_t)(c->argc > 0 ? c->argc : 1));
  for (int j = 0; j < c->argc; j++) {
    c->original_argv[j] = c->argv[j];
    incr_ref_count(c->argv[j]);
  }
}

void redact_client_command_argument(client *c, int index) {
  if (index < 0 || index >= c->argc || shared.redacted == NULL) {
    return;
  }
  retain_original_command_vector(c);
  if (index >= c->original_argc || c->original_argv[index] == shared.redacted) {
    return;
  }
  decr_ref_count(c->original_argv[index]);
  c->original_argv[index] = shared.redacted;
  incr_ref_count(shared.redacted);
}

void replace_client_command_vector(client *c, int argc, robj **argv) {
  retain_original_command_vector(c);
  free_client_argv(c);
  zfree(c->argv);
  c->argv = argv;
  c->argc = argc;
  c->argv_len = argc;
  c->argv_len_sum = 0;
  for (int j = 0; j < argc; j++) {
    if (argv[j] != NULL) {
      c->argv_len_sum += string_object_len(argv[j]);
    }
  }
  c->cmd = lookup_command_or_original(c->argv, c->argc);
}

void rewrite_client_command_vector(client *c, int argc, ...) {
  va_list ap;
  robj **argv = zmalloc(sizeof(robj *) * (size_t)(argc > 0 ? argc : 1));
  va_start(ap, argc);
  for (int j = 0; j < argc; j++) {
    argv[j] = va_arg(ap, robj *);
    incr_ref_count(argv[j]);
  }
  va_end(ap);
  replace_client_command_vector(c, argc, argv);
}

void rewrite_client_command_argument(client *c, int i, robj *val) {
  server_assert(i >= 0 && i <= c->argc);
  int argc = i == c->argc ? c->argc + 1 : c->argc;
  robj **argv = zmalloc(sizeof(robj *) * (size_t)argc);
  for (int j = 0; j < argc; j++) {
    argv[j] = j == i ? val : c->argv[j];
    incr_ref_count(argv[j]);
  }
  replace_client_command_vector(c, argc, argv);
}

/* ------------------------------------------------------------------ */
/* Blocking operations (loading, long scripts)                          */
/* ------------------------------------------------------------------ */
void protect_client(client *c) {
  c->flags |= CLIENT_PROTECTED;
  if (c->conn != NULL) {
    conn_set_read_handler(c->conn, NULL);
    conn_set_write_handler(c->conn, NULL);
  }
}

void unprotect_client(client *c) {
  if (!(c->flags & CLIENT_PROTECTED)) {
    return;
  }
  c->flags &= ~CLIENT_PROTECTED;
  if (c->conn != NULL) {
    conn_set_read_handler(c->conn, read_query_from_client);
    if (client_has_pending_replies(c) && !(c->flags & CLIENT_PENDING_WRITE)) {
      c->flags |= CLIENT_PENDING_WRITE;
      list_link_node_tail(server.clients_pending_write, c->pending_write_node);
    }
  }
}

void process_events_while_blocked(void) {
  if (server.el == NULL) {
    return;
  }
  for (int i = 0; i < EVENTS_WHILE_BLOCKED_ITERATIONS; i++) {
    ae_set_dont_wait(server.el, 1);
    int events = ae_process_events(server.el);
    events += handle_clients_with_pending_writes();
    if (events == 0) {
      break;
    }
  }
}
