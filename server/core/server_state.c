/* server_state.c: the core's global state (the server struct, shared
 * objects, the cached clock), running one command (call) and the two
 * upward calls the core makes through registered procedures: running a
 * parsed command (process_command, defined by the server above the core)
 * and shutting down. */
#include <string.h>
#include <sys/time.h>

#include "server/base/zmalloc.h"
#include "server/core/latency.h"
#include "server/core/server.h"
#include "server/core/tracking.h"

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

void create_shared_objects(void) {
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
  shared.noscripterr =
      make_shared_string("-NOSCRIPT No matching script. Please use EVAL.\r\n");
  shared.loadingerr =
      make_shared_string("-LOADING Redis is loading the dataset in memory\r\n");
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
  shared.noautherr = make_shared_string("-NOAUTH Authentication required.\r\n");
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
    shared.select[j] = make_shared_sds(
        sds_cat_printf(sds_empty(), "*2\r\n$6\r\nSELECT\r\n$%d\r\n%s\r\n",
                       dictid_len, dictid_str));
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
/* Running a command                                                    */
/* ------------------------------------------------------------------ */
void multi_flag_transaction(client *c) {
  if (c->flags & CLIENT_MULTI) {
    c->flags |= CLIENT_DIRTY_EXEC;
  }
}

/* ------------------------------------------------------------------ */
/* Propagation                                                          */
/* ------------------------------------------------------------------ */
#define PROPAGATE_MAX_TARGETS 4

typedef struct pending_op {
  int dbid;
  int argc;
  int kinds; /* PROPAGATE_* */
  robj **argv;
} pending_op;

static struct {
  propagate_target_proc targets[PROPAGATE_MAX_TARGETS];
  int target_kinds[PROPAGATE_MAX_TARGETS];
  int ntargets;
  pending_op *ops;
  int count, cap;
} prop;

void propagate_add_target(propagate_target_proc proc, int kind) {
  server_assert(prop.ntargets < PROPAGATE_MAX_TARGETS);
  prop.target_kinds[prop.ntargets] = kind;
  prop.targets[prop.ntargets++] = proc;
}

void also_propagate(int dbid, robj **argv, int argc) {
  also_propagate_to(dbid, argv, argc, PROPAGATE_ALL);
}

void also_propagate_to(int dbid, robj **argv, int argc, int kinds) {
  if (prop.ntargets == 0 || server.loading || kinds == PROPAGATE_NONE) {
    return;
  }
  if (prop.count == prop.cap) {
    prop.cap = prop.cap ? prop.cap * 2 : 8;
    prop.ops = zrealloc(prop.ops, sizeof(*prop.ops) * (size_t)prop.cap);
  }
  pending_op *op = &prop.ops[prop.count++];
  op->dbid = dbid;
  op->argc = argc;
  op->kinds = kinds;
  op->argv = zmalloc(sizeof(robj *) * (size_t)argc);
  for (int j = 0; j < argc; j++) {
    op->argv[j] = argv[j];
    incr_ref_count(argv[j]);
  }
  if (server.in_nested_call == 0) {
    propagate_pending_commands();
  }
}

static void propagate_now(int dbid, robj **argv, int argc, int kinds) {
  for (int t = 0; t < prop.ntargets; t++) {
    if (prop.target_kinds[t] & kinds) {
      prop.targets[t](dbid, argv, argc);
    }
  }
}

void propagate_pending_commands(void) {
  if (prop.count == 0) {
    return;
  }
  int wrap = prop.count > 1;
  if (wrap) {
    robj *multi = shared.multi;
    propagate_now(prop.ops[0].dbid, &multi, 1, PROPAGATE_ALL);
  }
  for (int i = 0; i < prop.count; i++) {
    pending_op *op = &prop.ops[i];
    propagate_now(op->dbid, op->argv, op->argc, op->kinds);
    for (int j = 0; j < op->argc; j++) {
      decr_ref_count(op->argv[j]);
    }
    zfree(op->argv);
  }
  if (wrap) {
    robj *exec = shared.exec;
    propagate_now(prop.ops[0].dbid, &exec, 1, PROPAGATE_ALL);
  }
  prop.count = 0;
}

/* Error replies already counted as the failure of a command: a command
 * that runs others (EVAL, EXEC) fails only for errors of its own, as in
 * Redis 7.0 (incrCommandStatsOnError). */
static long long errors_attributed;

void call_error_attributed(void) { errors_attributed++; }

void call(client *c, int flags) {
  redis_command *real_cmd = c->cmd;
  long long prev_err_count = server.stat_total_error_replies;
  long long prev_attributed = errors_attributed;
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
  /* A command that propagated an equivalent itself (blocking pops) set
   * CLIENT_PREVENT_AOF_PROP for this call only. */
  int prevented = (c->flags & CLIENT_PREVENT_AOF_PROP) != 0;
  if (!(client_old_flags & CLIENT_PREVENT_AOF_PROP)) {
    c->flags &= ~CLIENT_PREVENT_AOF_PROP;
  }
  int kinds = PROPAGATE_ALL;
  if (flags & CMD_CALL_NO_PROPAGATE_AOF) {
    kinds &= ~PROPAGATE_AOF;
  }
  if (flags & CMD_CALL_NO_PROPAGATE_REPL) {
    kinds &= ~PROPAGATE_REPL;
  }
  if (server.dirty > dirty && !(c->cmd->flags & CMD_NO_PROPAGATE) &&
      !prevented) {
    also_propagate_to(c->db->id, c->argv, c->argc, kinds);
  }
  server.in_nested_call--;
  /* Client-side caching: remember the keys a read command served. */
  tracking_command_executed(c);
  if (server.in_nested_call == 0) {
    propagate_pending_commands();
    /* Invalidations held back for this client follow its reply. */
    tracking_handle_pending_invalidations();
    if (server.dirty > dirty) {
      c->woff = server.master_repl_offset; /* what WAIT waits for */
    }
  }

  long long new_errors = server.stat_total_error_replies - prev_err_count;
  if (new_errors > errors_attributed - prev_attributed) {
    real_cmd->failed_calls++;
  }
  errors_attributed = prev_attributed + new_errors;
  /* The latency the command caused the main thread (LATENCY LATEST). */
  if (flags & CMD_CALL_SLOWLOG) {
    latency_add_sample_if_needed(
        (real_cmd->flags & CMD_FAST) ? "fast-command" : "command",
        duration / 1000);
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
    /* Redis records a blocked command once it is unblocked; not yet here. */
    if (server.latency_tracking_enabled && !(c->flags & CLIENT_BLOCKED)) {
      latency_tracking_record(real_cmd, duration);
    }
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
  /* The kept argv belongs to this command only: the next command of an
   * EXEC would otherwise be logged and monitored as this one (a SET after
   * an AUTH showed as "AUTH (redacted) (redacted)"). A blocked command
   * keeps it until it is served. */
  if (!(c->flags & CLIENT_BLOCKED)) {
    free_client_original_argv(c);
  }
  c->lastcmd = real_cmd;
  server.stat_numcommands++;
  c->commands_processed++;
}

static server_procs procs;

void server_set_procs(const server_procs *p) { procs = *p; }

int process_command(client *c) {
  if (procs.process_command == NULL) {
    server_panic("no command processor registered (server_set_procs)");
  }
  return procs.process_command(c);
}

int prepare_for_shutdown(int flags) {
  if (procs.prepare_for_shutdown == NULL) {
    server_panic("no shutdown procedure registered (server_set_procs)");
  }
  return procs.prepare_for_shutdown(flags);
}

sds info_persistence_fields(sds info) {
  if (procs.info_persistence == NULL) {
    server_panic("no INFO persistence procedure registered (server_set_procs)");
  }
  return procs.info_persistence(info);
}

sds info_scripting_memory_fields(sds info) {
  if (procs.info_scripting_memory == NULL) {
    server_panic("no INFO scripting procedure registered");
  }
  return procs.info_scripting_memory(info);
}

sds info_replication_fields(sds info) {
  if (procs.info_replication == NULL) {
    server_panic("no INFO replication procedure registered");
  }
  return procs.info_replication(info);
}

/* Redis's bytesToHuman: B below 1 KiB, then K M G T P with two decimals. */
void bytes_to_human(char *s, size_t size, unsigned long long n) {
  static const char units[] = "KMGTP";
  if (n < 1024) {
    snprintf(s, size, "%lluB", n);
    return;
  }
  double d = (double)n / 1024;
  for (int j = 0; units[j]; j++) {
    if (d < 1024) {
      snprintf(s, size, "%.2f%c", d, units[j]);
      return;
    }
    d /= 1024;
  }
  snprintf(s, size, "%lluB", n);
}

long long get_instantaneous_metric(long long *samples) {
  long long sum = 0;
  for (int j = 0; j < 16; j++) {
    sum += samples[j];
  }
  return sum / 16;
}
