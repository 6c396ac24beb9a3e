/* server.c: the server's one owner of global state: start-up, listeners,
 * command dispatch (process_command / call), the cron and shutdown. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <execinfo.h>
#include <unistd.h>

#include "acl.h"
#include "config.h"
#include "multi.h"
#include "pubsub.h"
#include "tls/tls.h"

struct redis_server server;
struct shared_objects shared;
long long cached_mstime;
time_t cached_unixtime;

/* ------------------------------------------------------------------ */
/* Time                                                                 */
/* ------------------------------------------------------------------ */
void update_cached_time(void) {
  cached_mstime = mstime();
  cached_unixtime = (time_t)(cached_mstime / 1000);
}

/* ------------------------------------------------------------------ */
/* Shared objects                                                       */
/* ------------------------------------------------------------------ */
static robj *make_shared_string(const char *s) {
  return make_object_shared(create_string_object(s, strlen(s)));
}

static robj *make_shared_sds(sds s) {
  robj *o = make_object_shared(create_object(OBJ_STRING, s));
  return o;
}

static void create_shared_objects(void) {
  shared.crlf = make_shared_string("\r\n");
  shared.ok = make_shared_string("+OK\r\n");
  shared.emptybulk = make_shared_string("$0\r\n\r\n");
  shared.czero = make_shared_string(":0\r\n");
  shared.cone = make_shared_string(":1\r\n");
  shared.emptyarray = make_shared_string("*0\r\n");
  shared.pong = make_shared_string("+PONG\r\n");
  shared.queued = make_shared_string("+QUEUED\r\n");
  shared.emptyscan = make_shared_string("*2\r\n$1\r\n0\r\n*0\r\n");
  shared.space = make_shared_string(" ");
  shared.plus = make_shared_string("+");
  shared.wrongtypeerr = make_shared_string(
      "-WRONGTYPE Operation against a key holding the wrong kind of "
      "value\r\n");
  shared.err = make_shared_string("-ERR\r\n");
  shared.nokeyerr = make_shared_string("-ERR no such key\r\n");
  shared.syntaxerr = make_shared_string("-ERR syntax error\r\n");
  shared.sameobjecterr = make_shared_string(
      "-ERR source and destination objects are the same\r\n");
  shared.outofrangeerr = make_shared_string("-ERR index out of range\r\n");
  shared.noscripterr = make_shared_string(
      "-NOSCRIPT No matching script. Please use EVAL.\r\n");
  shared.loadingerr = make_shared_string(
      "-LOADING Redis is loading the dataset in memory\r\n");
  shared.slowevalerr = make_shared_string(
      "-BUSY Redis is busy running a script. You can only call SCRIPT KILL "
      "or SHUTDOWN NOSAVE.\r\n");
  shared.slowscripterr = make_shared_string(
      "-BUSY Redis is busy running a script. You can only call FUNCTION "
      "KILL or SHUTDOWN NOSAVE.\r\n");
  shared.masterdownerr = make_shared_string(
      "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is "
      "set to 'no'.\r\n");
  shared.bgsaveerr = make_shared_string(
      "-MISCONF Redis is configured to save RDB snapshots, but it's "
      "currently unable to persist to disk. Commands that may modify the "
      "data set are disabled, because this instance is configured to report "
      "errors during writes if RDB snapshotting fails "
      "(stop-writes-on-bgsave-error option). Please check the Redis logs for "
      "details about the RDB error.\r\n");
  shared.roslaveerr = make_shared_string(
      "-READONLY You can't write against a read only replica.\r\n");
  shared.noautherr =
      make_shared_string("-NOAUTH Authentication required.\r\n");
  shared.oomerr = make_shared_string(
      "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
  shared.execaborterr = make_shared_string(
      "-EXECABORT Transaction discarded because of previous errors.\r\n");
  shared.noreplicaserr =
      make_shared_string("-NOREPLICAS Not enough good replicas to write.\r\n");
  shared.busykeyerr =
      make_shared_string("-BUSYKEY Target key name already exists.\r\n");

  /* RESP2 and RESP3 nulls: index by c->resp. */
  shared.null[0] = NULL;
  shared.null[1] = NULL;
  shared.null[2] = make_shared_string("$-1\r\n");
  shared.null[3] = make_shared_string("_\r\n");
  shared.nullarray[0] = NULL;
  shared.nullarray[1] = NULL;
  shared.nullarray[2] = make_shared_string("*-1\r\n");
  shared.nullarray[3] = make_shared_string("_\r\n");
  shared.emptymap[0] = NULL;
  shared.emptymap[1] = NULL;
  shared.emptymap[2] = make_shared_string("*0\r\n");
  shared.emptymap[3] = make_shared_string("%0\r\n");
  shared.emptyset[0] = NULL;
  shared.emptyset[1] = NULL;
  shared.emptyset[2] = make_shared_string("*0\r\n");
  shared.emptyset[3] = make_shared_string("~0\r\n");

  for (int j = 0; j < 10; j++) {
    char dictid_str[64];
    int dictid_len = ll2string(dictid_str, sizeof(dictid_str), j);
    shared.select[j] = make_shared_sds(sds_cat_printf(
        sds_empty(), "*2\r\n$6\r\nSELECT\r\n$%d\r\n%s\r\n", dictid_len,
        dictid_str));
  }
  shared.messagebulk = make_shared_string("$7\r\nmessage\r\n");
  shared.pmessagebulk = make_shared_string("$8\r\npmessage\r\n");
  shared.subscribebulk = make_shared_string("$9\r\nsubscribe\r\n");
  shared.unsubscribebulk = make_shared_string("$11\r\nunsubscribe\r\n");
  shared.psubscribebulk = make_shared_string("$10\r\npsubscribe\r\n");
  shared.punsubscribebulk = make_shared_string("$12\r\npunsubscribe\r\n");
  shared.ssubscribebulk = make_shared_string("$10\r\nssubscribe\r\n");
  shared.sunsubscribebulk = make_shared_string("$12\r\nsunsubscribe\r\n");
  shared.smessagebulk = make_shared_string("$8\r\nsmessage\r\n");

  shared.del = make_shared_string("DEL");
  shared.unlink = make_shared_string("UNLINK");
  shared.rpop = make_shared_string("RPOP");
  shared.lpop = make_shared_string("LPOP");
  shared.lpush = make_shared_string("LPUSH");
  shared.rpush = make_shared_string("RPUSH");
  shared.rpoplpush = make_shared_string("RPOPLPUSH");
  shared.lmove = make_shared_string("LMOVE");
  shared.blmove = make_shared_string("BLMOVE");
  shared.zpopmin = make_shared_string("ZPOPMIN");
  shared.zpopmax = make_shared_string("ZPOPMAX");
  shared.multi = make_shared_string("MULTI");
  shared.exec = make_shared_string("EXEC");
  shared.hset = make_shared_string("HSET");
  shared.srem = make_shared_string("SREM");
  shared.persist = make_shared_string("PERSIST");
  shared.set = make_shared_string("SET");
  shared.pexpireat = make_shared_string("PEXPIREAT");
  shared.pexpire = make_shared_string("PEXPIRE");
  shared.pxat = make_shared_string("PXAT");
  shared.keepttl = make_shared_string("KEEPTTL");
  shared.absttl = make_shared_string("ABSTTL");
  shared.left = make_shared_string("left");
  shared.right = make_shared_string("right");
  shared.ping = make_shared_string("ping");
  shared.time = make_shared_string("TIME");
  shared.load = make_shared_string("LOAD");
  shared.default_username = make_shared_string("default");
  shared.redacted = make_shared_string("(redacted)");

  for (long long j = 0; j < OBJ_SHARED_INTEGERS; j++) {
    robj *o = create_object(OBJ_STRING, (void *)(long)j);
    o->encoding = OBJ_ENCODING_INT;
    shared.integers[j] = make_object_shared(o);
  }
  for (int j = 0; j < 32; j++) {
    shared.mbulkhdr[j] =
        make_shared_sds(sds_cat_printf(sds_empty(), "*%d\r\n", j));
    shared.bulkhdr[j] =
        make_shared_sds(sds_cat_printf(sds_empty(), "$%d\r\n", j));
    shared.maphdr[j] =
        make_shared_sds(sds_cat_printf(sds_empty(), "%%%d\r\n", j));
    shared.sethdr[j] =
        make_shared_sds(sds_cat_printf(sds_empty(), "~%d\r\n", j));
  }
  shared.minstring = sds_new("minstring");
  shared.maxstring = sds_new("maxstring");
}

/* ------------------------------------------------------------------ */
/* Keyspace dict types                                                  */
/* ------------------------------------------------------------------ */
static dict_type db_dict_type = {
    dict_sds_hash, NULL, NULL, dict_sds_key_compare, dict_sds_destructor,
    dict_object_destructor, dict_expand_allowed_by_maxmemory};

/* expires shares the sds key with the main dict: no destructors. */
static dict_type db_expires_dict_type = {
    dict_sds_hash, NULL, NULL, dict_sds_key_compare, NULL, NULL,
    dict_expand_allowed_by_maxmemory};

/* Keys -> lists of clients (blocking, watch): keys are robj. */
static uint64_t dict_obj_hash(const void *key) {
  const robj *o = key;
  return dict_gen_hash_function(o->ptr, sds_len((sds)o->ptr));
}
static int dict_obj_key_compare(const void *a, const void *b) {
  const robj *o1 = a, *o2 = b;
  return dict_sds_key_compare(o1->ptr, o2->ptr);
}
static void dict_list_destructor(void *val) { list_release((list *)val); }
static dict_type keylist_dict_type = {
    dict_obj_hash,        NULL,
    NULL,                 dict_obj_key_compare,
    decr_ref_count_void,  dict_list_destructor,
    NULL};
static dict_type objectkey_dict_type = {dict_obj_hash,
                                        NULL,
                                        NULL,
                                        dict_obj_key_compare,
                                        decr_ref_count_void,
                                        NULL,
                                        NULL};

/* Command table: sds names, case insensitive. */
static dict_type command_table_dict_type = {
    dict_sds_case_hash, NULL, NULL, dict_sds_key_case_compare,
    dict_sds_destructor, NULL, NULL};

/* errorstats: sds error code -> counter (stored in v.u64). */
static dict_type errors_dict_type = {
    dict_sds_hash, NULL, NULL, dict_sds_key_compare, dict_sds_destructor,
    NULL, NULL};

/* ------------------------------------------------------------------ */
/* Listeners                                                            */
/* ------------------------------------------------------------------ */
static int anet_set_nonblock(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags == -1) {
    return -1;
  }
  return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* listen_on_address binds one address ("*" for any IPv4, "::*" for any
 * IPv6). Returns the fd or -1 with errno set. */
static int listen_on_address(const char *addr, int port, int backlog) {
  int is_v6 = strchr(addr, ':') != NULL;
  int family = is_v6 ? AF_INET6 : AF_INET;
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd == -1) {
    return -1;
  }
  int yes = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  struct sockaddr_storage ss;
  socklen_t sslen;
  memset(&ss, 0, sizeof(ss));
  if (is_v6) {
    struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&ss;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &yes, sizeof(yes));
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons((uint16_t)port);
    if (strcmp(addr, "::*") == 0) {
      sa->sin6_addr = in6addr_any;
    } else if (inet_pton(AF_INET6, addr, &sa->sin6_addr) != 1) {
      close(fd);
      errno = EINVAL;
      return -1;
    }
    sslen = sizeof(*sa);
  } else {
    struct sockaddr_in *sa = (struct sockaddr_in *)&ss;
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (strcmp(addr, "*") == 0 || strcmp(addr, "0.0.0.0") == 0) {
      sa->sin_addr.s_addr = htonl(INADDR_ANY);
    } else if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1) {
      close(fd);
      errno = EINVAL;
      return -1;
    }
    sslen = sizeof(*sa);
  }
  if (bind(fd, (struct sockaddr *)&ss, sslen) == -1 ||
      listen(fd, backlog) == -1 || anet_set_nonblock(fd) == -1) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

int listen_to_port(int port, int *fds, int *count) {
  static char *default_bind[] = {"*", "-::*"};
  char **addrs = server.bindaddr_count ? server.bindaddr : default_bind;
  int naddr = server.bindaddr_count ? server.bindaddr_count : 2;
  *count = 0;
  if (port == 0) {
    return C_OK;
  }
  for (int j = 0; j < naddr; j++) {
    const char *addr = addrs[j];
    /* A leading '-' marks an optional address (Redis semantics). */
    int optional = addr[0] == '-';
    if (optional) {
      addr++;
    }
    int fd = listen_on_address(addr, port, server.tcp_backlog);
    if (fd == -1) {
      int err = errno;
      if (optional || err == EAFNOSUPPORT || err == EPROTONOSUPPORT ||
          err == EADDRNOTAVAIL) {
        if (!optional) {
          server_log(LL_WARNING, "Could not create server TCP listening "
                                 "socket %s:%d: %s",
                     addr, port, strerror(err));
          goto fail;
        }
        continue;
      }
      server_log(LL_WARNING,
                 "Warning: Could not create server TCP listening socket "
                 "%s:%d: %s",
                 addr, port, strerror(err));
      goto fail;
    }
    fds[(*count)++] = fd;
  }
  return C_OK;
fail:
  for (int j = 0; j < *count; j++) {
    close(fds[j]);
  }
  *count = 0;
  return C_ERR;
}

static void unregister_and_close(int *fds, int *count) {
  for (int j = 0; j < *count; j++) {
    ae_delete_file_event(server.el, fds[j], AE_READABLE);
    close(fds[j]);
  }
  *count = 0;
}

/* open_listeners is the one way listeners come up (start-up, CONFIG SET
 * port / tls-port / bind): bind |port| on server.bindaddr and watch each
 * socket with |accept_handler|. TLS listeners are dispatched in the loop's
 * second pass (ae_set_deferred): the replies to established clients ready
 * in the same wakeup go out before new handshakes start. */
int open_listeners(int port, int *fds, int *count,
                   ae_file_proc *accept_handler) {
  if (listen_to_port(port, fds, count) != C_OK) {
    return C_ERR;
  }
  for (int j = 0; j < *count; j++) {
    if (ae_add_file_event(server.el, fds[j], AE_READABLE, accept_handler,
                          NULL) == -1) {
      unregister_and_close(fds, count);
      return C_ERR;
    }
    ae_set_deferred(server.el, fds[j], accept_handler == tls_accept_handler);
  }
  return C_OK;
}

int change_listen_port(int port, int *fds, int *count,
                       ae_file_proc *accept_handler) {
  int newfds[CONFIG_BINDADDR_MAX * 2];
  int newcount = 0;
  if (open_listeners(port, newfds, &newcount, accept_handler) != C_OK) {
    return C_ERR;
  }
  unregister_and_close(fds, count);
  memcpy(fds, newfds, sizeof(int) * (size_t)newcount);
  *count = newcount;
  return C_OK;
}

void close_listening_sockets(int unlink_unix_socket) {
  (void)unlink_unix_socket;
  unregister_and_close(server.ipfd, &server.ipfd_count);
  unregister_and_close(server.tlsfd, &server.tlsfd_count);
}

/* ------------------------------------------------------------------ */
/* Command dispatch                                                     */
/* ------------------------------------------------------------------ */
/* reject_command_format replies an error whose text is sanitised the way
 * Redis does: newlines in user-supplied text become spaces. */
static void reject_command_sds(client *c, sds s) {
  for (size_t j = 0; j < sds_len(s); j++) {
    if (s[j] == '\r' || s[j] == '\n') {
      s[j] = ' ';
    }
  }
  multi_flag_transaction(c); /* EXEC must then abort */
  add_reply_error_sds(c, s);
}

void reply_to_command_not_found(client *c) {
  sds args = sds_empty();
  for (int i = 1; i < c->argc && sds_len(args) < 128; i++) {
    args = sds_cat_printf(args, "'%.*s' ", 128 - (int)sds_len(args),
                          (char *)c->argv[i]->ptr);
  }
  sds err = sds_cat_printf(
      sds_empty(), "unknown command '%.128s', with args beginning with: %s",
      (char *)c->argv[0]->ptr, args);
  sds_free(args);
  reject_command_sds(c, err);
}

static void reply_unknown_subcommand(client *c) {
  sds cmd = sds_new((char *)c->argv[0]->ptr);
  sds_to_upper(cmd);
  sds err = sds_cat_printf(sds_empty(),
                           "unknown subcommand '%.128s'. Try %s HELP.",
                           (char *)c->argv[1]->ptr, cmd);
  sds_free(cmd);
  reject_command_sds(c, err);
}

void call(client *c, int flags) {
  redis_command *real_cmd = c->cmd;
  long long prev_err_count = server.stat_total_error_replies;
  long long dirty = server.dirty;
  uint64_t client_old_flags = c->flags;

  server.in_nested_call++;
  c->flags |= CLIENT_EXECUTING_COMMAND;
  client *prev_executing = server.executing_client;
  server.executing_client = c;
  /* One clock read gives both the cached "now" the command sees (expiry)
   * and the start of its duration, as Redis does. */
  long long start = ustime();
  if (server.in_nested_call == 1) {
    cached_mstime = start / 1000;
    cached_unixtime = (time_t)(cached_mstime / 1000);
  }
  c->cmd->proc(c);
  long long duration = ustime() - start;
  if (duration < 0) {
    duration = 0;
  }
  server.executing_client = prev_executing;
  if (!(client_old_flags & CLIENT_EXECUTING_COMMAND)) {
    c->flags &= ~CLIENT_EXECUTING_COMMAND;
  }
  server.in_nested_call--;
  (void)dirty;

  if (server.stat_total_error_replies > prev_err_count) {
    real_cmd->failed_calls++;
  }
  if ((flags & CMD_CALL_SLOWLOG) && !(c->cmd->flags & CMD_SKIP_SLOWLOG) &&
      !(c->flags & CLIENT_BLOCKED)) {
    robj **argv = c->original_argv ? c->original_argv : c->argv;
    int argc = c->original_argv ? c->original_argc : c->argc;
    slowlog_push_entry_if_needed(c, argv, argc, duration);
  }
  if (flags & CMD_CALL_STATS) {
    real_cmd->microseconds += duration;
    real_cmd->calls++;
  }
  /* MONITOR sees the command after it ran, with the argv as logged
   * (AUTH/HELLO passwords redacted in original_argv), like Redis; admin
   * commands are too dangerous to show. */
  if ((flags & CMD_CALL_STATS) && server.monitors &&
      list_length(server.monitors) &&
      !(c->cmd->flags & (CMD_SKIP_MONITOR | CMD_ADMIN))) {
    robj **argv = c->original_argv ? c->original_argv : c->argv;
    int argc = c->original_argv ? c->original_argc : c->argc;
    replication_feed_monitors(c, server.monitors, c->db->id, argv, argc);
  }
  c->lastcmd = real_cmd;
  server.stat_numcommands++;
  c->commands_processed++;
}

/* reject_command: counts the rejection and replies the error. */
static void reject_command(client *c, robj *reply) {
  if (c->cmd) {
    c->cmd->rejected_calls++;
  }
  multi_flag_transaction(c);
  add_reply_error_object(c, reply);
}

int process_command(client *c) {
  /* Feed MONITOR clients before execution, as Redis does for commands that
   * are not filtered out (admin commands are hidden). */
  c->cmd = c->lastcmd = c->realcmd = lookup_command(c->argv, c->argc);
  if (!c->cmd) {
    redis_command *parent = lookup_command_by_cstring(c->argv[0]->ptr);
    if (parent && parent->subcommands_dict && c->argc >= 2) {
      reply_unknown_subcommand(c);
    } else {
      reply_to_command_not_found(c);
    }
    return C_OK;
  }
  if ((c->cmd->arity > 0 && c->cmd->arity != c->argc) ||
      (c->argc < -c->cmd->arity)) {
    c->cmd->rejected_calls++;
    multi_flag_transaction(c);
    add_reply_error_format(c, "wrong number of arguments for '%s' command",
                           c->cmd->fullname);
    return C_OK;
  }
  if (acl_auth_required(c) && !(c->cmd->flags & CMD_NO_AUTH)) {
    reject_command(c, shared.noautherr);
    return C_OK;
  }
  /* ACL after the auth check, as Redis 7.0; ~free for +@all ~* &* users. */
  if (acl_check_client_or_reply(c) != C_OK) {
    return C_OK;
  }
  if ((c->cmd->flags & CMD_PROTECTED) &&
      !config_protected_action_allowed(config_enable_debug_command(), c)) {
    c->cmd->rejected_calls++;
    add_reply_error_format(
        c,
        "%s command not allowed. If the %s option is set to \"local\", you "
        "can run it from a local connection, otherwise you need to set this "
        "option in the configuration file, and then restart the server.",
        "DEBUG", "enable-debug-command");
    return C_OK;
  }
  if (server.maxmemory && !(c->flags & CLIENT_MASTER)) {
    int out_of_memory = perform_evictions() == EVICT_FAIL;
    int reject_cmd_on_oom = (c->cmd->flags & CMD_DENYOOM) != 0;
    if (out_of_memory && reject_cmd_on_oom) {
      reject_command(c, shared.oomerr);
      return C_OK;
    }
  }
  /* RESP2 subscribed mode, then MULTI queueing (Redis 7.0 order). */
  if (pubsub_reject_in_context(c) || multi_queue_if_needed(c)) {
    return C_OK;
  }
  call(c, CMD_CALL_FULL);
  handle_clients_blocked_on_keys();
  return C_OK;
}

/* ------------------------------------------------------------------ */
/* Cron                                                                 */
/* ------------------------------------------------------------------ */
#define run_with_period(ms) \
  if ((ms) <= 1000 / server.hz || !(server.cronloops % ((ms) / (1000 / server.hz))))

long long get_instantaneous_metric(long long *samples) {
  long long sum = 0;
  for (int j = 0; j < 16; j++) {
    sum += samples[j];
  }
  return sum / 16;
}

static void track_instantaneous_metrics(void) {
  long long now = mstime();
  long long elapsed = now - server.inst_metric_last_sample_time;
  if (elapsed <= 0) {
    return;
  }
  long long ops = server.stat_numcommands - server.inst_metric_last_sample_count;
  long long in = server.stat_net_input_bytes - server.inst_net_in_last;
  long long out = server.stat_net_output_bytes - server.inst_net_out_last;
  server.inst_metric_samples[server.inst_metric_idx] = ops * 1000 / elapsed;
  server.inst_net_in_samples[server.inst_metric_idx] = in * 1000 / elapsed;
  server.inst_net_out_samples[server.inst_metric_idx] = out * 1000 / elapsed;
  server.inst_metric_idx = (server.inst_metric_idx + 1) % 16;
  server.inst_metric_last_sample_time = now;
  server.inst_metric_last_sample_count = server.stat_numcommands;
  server.inst_net_in_last = server.stat_net_input_bytes;
  server.inst_net_out_last = server.stat_net_output_bytes;
}

/* Incremental rehashing of the keyspace: 1 ms per cron call for the first
 * database that needs it, like Redis's activerehashing. */
static void databases_cron(void) {
  if (server.active_expire_enabled) {
    active_expire_cycle(ACTIVE_EXPIRE_CYCLE_SLOW);
  }
  if (server.activerehashing) {
    for (int j = 0; j < server.dbnum; j++) {
      redis_db *db = &server.db[j];
      if (dict_is_rehashing(db->dict)) {
        dict_rehash_milliseconds(db->dict, 1);
        break;
      }
      if (dict_is_rehashing(db->expires)) {
        dict_rehash_milliseconds(db->expires, 1);
        break;
      }
    }
  }
  /* Shrink tables that became sparse (below 10% fill), a few per call. */
  static int resize_db = 0;
  for (int j = 0; j < 16 && server.dbnum > 0; j++) {
    redis_db *db = &server.db[resize_db % server.dbnum];
    resize_db++;
    if (dict_slots(db->dict) > 4 &&
        dict_size(db->dict) * 100 / dict_slots(db->dict) < 10) {
      dict_resize(db->dict);
    }
    if (dict_slots(db->expires) > 4 &&
        dict_size(db->expires) * 100 / dict_slots(db->expires) < 10) {
      dict_resize(db->expires);
    }
  }
}

static long long server_cron(ae_loop *loop, long long id, void *data) {
  (void)loop;
  (void)id;
  (void)data;
  update_cached_time();
  server.lruclock = lru_clock();
  run_with_period(100) { track_instantaneous_metrics(); }
  size_t mem = used_memory();
  if ((long long)mem > server.stat_peak_memory) {
    server.stat_peak_memory = (long long)mem;
  }
  if (server.shutdown_asap) {
    if (prepare_for_shutdown(SHUTDOWN_NOFLAGS) == C_OK) {
      exit(0);
    }
    server.shutdown_asap = 0;
  }
  close_timedout_clients_step();
  check_clients_pause_timeout();
  databases_cron();
  tls_cron(); /* a no-op until TLS has been started */
  free_clients_in_async_free_queue();
  server.cronloops++;
  return 1000 / server.hz;
}

/* between_passes: the first dispatch pass served established clients;
 * send their replies before the deferred handshake work runs. */
static void between_passes(ae_loop *loop) {
  (void)loop;
  handle_clients_with_pending_writes();
}

static void before_sleep(ae_loop *loop) {
  if (conn_process_pending()) {
    ae_set_dont_wait(loop, 1);
  }
  if (server.active_expire_enabled) {
    active_expire_cycle(ACTIVE_EXPIRE_CYCLE_FAST);
  }
  handle_clients_with_pending_writes();
  free_clients_in_async_free_queue();
}

/* ------------------------------------------------------------------ */
/* Shutdown                                                             */
/* ------------------------------------------------------------------ */
static void remove_pidfile(void) {
  if (server.pidfile && server.pidfile[0]) {
    unlink(server.pidfile);
  }
}

int prepare_for_shutdown(int flags) {
  server_log(LL_WARNING, "User requested shutdown...");
  if (flags & SHUTDOWN_SAVE) {
    /* RDB persistence arrives with the persistence issue: refuse rather
     * than pretend to have saved. */
    server_log(LL_WARNING,
               "Error trying to save the DB: RDB persistence is not "
               "available in this version of Redoubt.");
    if (!(flags & SHUTDOWN_FORCE)) {
      server_log(LL_WARNING, "Errors trying to shut down the server. "
                             "Check the logs for more information.");
      return C_ERR;
    }
  }
  remove_pidfile();
  tls_shutdown(); /* a no-op if TLS never started */
  /* Flush pending replies where it can be done without blocking, then
   * close listeners. */
  close_listening_sockets(1);
  server_log(LL_WARNING, "Redoubt is now ready to exit, bye bye...");
  return C_OK;
}

static void sig_shutdown_handler(int sig) {
  (void)sig;
  /* A second signal while shutting down exits immediately. */
  if (server.shutdown_asap) {
    remove_pidfile();
    _exit(1);
  }
  server.shutdown_asap = 1;
}

/* crash_handler logs the signal and a backtrace to the log (or stderr),
 * then re-raises so the exit status still says which signal killed us. */
static void crash_handler(int sig, siginfo_t *info, void *secret) {
  (void)secret;
  char msg[160];
  int n = snprintf(msg, sizeof(msg),
                   "\n\n=== REDOUBT BUG REPORT START ===\n"
                   "Crashed by signal: %d (%s), si_code: %d, address: %p\n",
                   sig, strsignal(sig), info ? info->si_code : 0,
                   info ? info->si_addr : NULL);
  int fd = STDERR_FILENO;
  if (server.logfile && server.logfile[0]) {
    int lfd = open(server.logfile, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (lfd != -1) {
      fd = lfd;
    }
  }
  if (n > 0 && write(fd, msg, (size_t)n) < 0) {
    /* nothing more can be done */
  }
  void *frames[64];
  int count = backtrace(frames, 64);
  backtrace_symbols_fd(frames, count, fd);
  signal(sig, SIG_DFL);
  raise(sig);
}

static void setup_signal_handlers(void) {
  struct sigaction crash;
  memset(&crash, 0, sizeof(crash));
  sigemptyset(&crash.sa_mask);
  crash.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESETHAND;
  crash.sa_sigaction = crash_handler;
  sigaction(SIGSEGV, &crash, NULL);
  sigaction(SIGBUS, &crash, NULL);
  sigaction(SIGFPE, &crash, NULL);
  sigaction(SIGILL, &crash, NULL);
  sigaction(SIGABRT, &crash, NULL);
  struct sigaction act;
  memset(&act, 0, sizeof(act));
  sigemptyset(&act.sa_mask);
  act.sa_handler = sig_shutdown_handler;
  sigaction(SIGTERM, &act, NULL);
  sigaction(SIGINT, &act, NULL);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
}

/* ------------------------------------------------------------------ */
/* Start-up                                                             */
/* ------------------------------------------------------------------ */
static void create_pidfile(void) {
  if (!server.pidfile || !server.pidfile[0]) {
    return;
  }
  FILE *fp = fopen(server.pidfile, "w");
  if (fp) {
    fprintf(fp, "%d\n", (int)getpid());
    fclose(fp);
  } else {
    server_log(LL_WARNING, "Failed to write PID file: %s", strerror(errno));
  }
}

static void daemonize(void) {
  if (fork() != 0) {
    exit(0);
  }
  setsid();
  int fd = open("/dev/null", O_RDWR, 0);
  if (fd != -1) {
    dup2(fd, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO) {
      close(fd);
    }
  }
}

static void init_server(void) {
  server.pid = getpid();
  server.clients = list_create();
  server.clients_to_close = list_create();
  server.clients_pending_write = list_create();
  server.monitors = list_create();
  server.slowlog = NULL;
  server.errors = dict_create(&errors_dict_type);
  server.el = ae_create((int)server.maxclients + CONFIG_MIN_RESERVED_FDS +
                        96);
  if (!server.el) {
    server_log(LL_WARNING, "Failed creating the event loop. Error message: "
                           "'%s'",
               strerror(errno));
    exit(1);
  }
  server.db = calloc((size_t)server.dbnum, sizeof(redis_db));
  for (int j = 0; j < server.dbnum; j++) {
    server.db[j].dict = dict_create(&db_dict_type);
    server.db[j].expires = dict_create(&db_expires_dict_type);
    server.db[j].blocking_keys = dict_create(&keylist_dict_type);
    server.db[j].ready_keys = dict_create(&objectkey_dict_type);
    server.db[j].watched_keys = dict_create(&keylist_dict_type);
    server.db[j].id = j;
    server.db[j].avg_ttl = 0;
    server.db[j].expires_cursor = 0;
  }
  eviction_pool_alloc();
  slowlog_init();
  server.stat_starttime = time(NULL);
  server.inst_metric_last_sample_time = mstime();
  server.lruclock = lru_clock();
  update_cached_time();
  ae_create_timer(server.el, 1, server_cron, NULL);
  ae_set_before_sleep(server.el, before_sleep);
  ae_set_between_passes(server.el, between_passes);
}

static void init_command_table(void) {
  server.commands = dict_create(&command_table_dict_type);
  server.orig_commands = dict_create(&command_table_dict_type);
  populate_command_table();
  acl_init();
}

static void make_run_id(void) {
  get_random_hex_chars(server.runid, CONFIG_RUN_ID_SIZE);
  server.runid[CONFIG_RUN_ID_SIZE] = '\0';
}

static char *absolute_executable_path(const char *argv0) {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n > 0) {
    buf[n] = '\0';
    return strdup(buf);
  }
  return strdup(argv0);
}

static void log_startup_banner(void) {
  server_log(LL_NOTICE, "oO0OoO0OoO0Oo Redoubt is starting oO0OoO0OoO0Oo");
  server_log(LL_NOTICE,
             "Redoubt version=%s (Redis %s compatible), bits=%d, pid=%d, "
             "just started",
             REDOUBT_OWN_VERSION, REDOUBT_VERSION, (int)(sizeof(long) * 8),
             (int)getpid());
}

/* server_init_for_tests: an in-process server without listeners, signals or
 * config file, for fuzz targets and tests (defaults, commands, shared
 * objects, dbs, event loop). Call once per process. */
void server_init_for_tests(void) {
  memset(&server, 0, sizeof(server));
  config_init_defaults();
  init_command_table();
  create_shared_objects();
  make_run_id();
  init_server();
}

/* ---- what tls/ needs from the server (tls_host) ---------------------- */

_Static_assert(TLS_LOG_DEBUG == LL_DEBUG && TLS_LOG_VERBOSE == LL_VERBOSE &&
                   TLS_LOG_NOTICE == LL_NOTICE && TLS_LOG_WARNING == LL_WARNING,
               "tls/ log levels are passed to server_log unchanged");

static void server_tls_read_tunables(tls_tunables *out) {
  out->port = server.tls_port;
  out->handshake_workers = server.tls_handshake_workers;
  out->handshake_timeout_ms = server.tls_handshake_timeout;
  out->max_handshakes_in_flight = server.tls_max_handshakes_in_flight;
  out->handshaker_nice = server.tls_handshaker_nice;
  out->sandbox_seccomp = server.sandbox_seccomp;
  out->sandbox_user = server.sandbox_user;
}

static void server_tls_log(int level, const char *message) {
  server_log(level, "%s", message);
}

static void server_tls_security_log(const char *event, const char *details) {
  security_log(event, "%s", details);
}

static void server_tls_accepted(connection *conn, const char *ip) {
  server.stat_numconnections_tls++;
  accept_common_handler(conn, 0, ip);
}

/* INFO sections written by tls/ (a TLS_INFO_LEN buffer holds either). */
static sds server_tls_info(sds info) {
  char text[TLS_INFO_LEN];
  tls_info_section(text, sizeof(text));
  return sds_cat(info, text);
}

static sds server_sandbox_info(sds info) {
  char text[TLS_INFO_LEN];
  tls_sandbox_info_section(text, sizeof(text));
  return sds_cat(info, text);
}

const tls_host *server_tls_host(void) {
  static tls_host host;
  host.executable = server.executable;
  host.read_tunables = server_tls_read_tunables;
  host.log = server_tls_log;
  host.security_log = server_tls_security_log;
  host.accepted = server_tls_accepted;
  return &host;
}

int server_main(int argc, char **argv) {
  uint8_t hashseed[16];
  get_random_bytes(hashseed, sizeof(hashseed));
  dict_set_hash_function_seed(hashseed);
  srandom((unsigned int)(time(NULL) ^ getpid()));
  tzset();

  memset(&server, 0, sizeof(server));
  server.executable = absolute_executable_path(argv[0]);
  server.exec_argv = argv;
  config_init_defaults();
  init_command_table();
  create_shared_objects();

  config_startup startup;
  switch (config_parse_command_line(argc, argv, &startup)) {
    case CONFIG_CLI_EXIT_SUCCESS:
      return 0;
    case CONFIG_CLI_EXIT_FAILURE:
      return 1;
    default:
      break;
  }
  config_load_or_exit(&startup);
  acl_load_startup(); /* `user` directives, aclfile, requirepass */
  if (startup.check_config) {
    int rc = tls_check_config(&server.tls, server_tls_host(),
                              startup.check_config_json);
    config_startup_free(&startup);
    return rc;
  }
  if (server.daemonize) {
    daemonize();
  }
  setup_signal_handlers();
  make_run_id();
  log_startup_banner();
  if (!startup.config_file) {
    server_log(LL_WARNING,
               "Warning: no config file specified, using the default config. "
               "In order to specify a config file use %s "
               "/path/to/redoubt.conf",
               argv[0]);
  } else {
    server_log(LL_NOTICE, "Configuration loaded");
  }
  init_server();
  info_register_section("tls", server_tls_info, 0);
  info_register_section("sandbox", server_sandbox_info, 0);
  config_log_unimplemented();
  config_startup_free(&startup);

  /* Handshakers start before listeners are bound and before any data is
   * loaded (DESIGN.md: a respawn must never see the dataset). */
  if (server.tls_port) {
    char err[TLS_ERR_LEN] = "";
    if (!tls_start(server.el, &server.tls, server_tls_host(), err,
                   sizeof(err))) {
      server_log(LL_WARNING, "Failed to start TLS: %s",
                 err[0] ? err : "unknown error");
      return 1;
    }
  }
  if (open_listeners(server.port, server.ipfd, &server.ipfd_count,
                     accept_tcp_handler) != C_OK) {
    server_log(LL_WARNING, "Failed listening on port %u (tcp), aborting.",
               server.port);
    return 1;
  }
  if (open_listeners(server.tls_port, server.tlsfd, &server.tlsfd_count,
                     tls_accept_handler) != C_OK) {
    server_log(LL_WARNING, "Failed listening on port %u (tls), aborting.",
               server.tls_port);
    return 1;
  }
  if (server.ipfd_count == 0 && server.tlsfd_count == 0) {
    server_log(LL_WARNING, "Configured to not listen anywhere, exiting.");
    return 1;
  }
  create_pidfile();
  server.initial_memory_usage = used_memory();
  server_log(LL_NOTICE, "Server initialized");
  if (server.port) {
    server_log(LL_NOTICE, "Ready to accept connections tcp");
  }
  if (server.tls_port) {
    server_log(LL_NOTICE, "Ready to accept connections tls");
  }
  ae_main(server.el);
  return 0;
}
