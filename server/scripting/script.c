/* script.c: one run of a script, whatever the engine (EVAL or a function):
 * whether it may start, the checks on each command it runs (Redis 7.0's
 * script.c rules and error texts), the busy state once it runs past
 * busy-reply-threshold, and SCRIPT KILL / FUNCTION KILL. */
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "server/acl/acl.h"
#include "server/persist/persist.h"
#include "server/scripting/internal.h"

const scripting_host *script_host;

const script_flag_name script_flag_names[] = {
    {SCRIPT_FLAG_NO_WRITES, "no-writes"},
    {SCRIPT_FLAG_ALLOW_OOM, "allow-oom"},
    {SCRIPT_FLAG_ALLOW_STALE, "allow-stale"},
    {SCRIPT_FLAG_NO_CLUSTER, "no-cluster"},
    {SCRIPT_FLAG_ALLOW_CROSS_SLOT, "allow-cross-slot-keys"},
    {0, NULL}};

static script_run *current;
static sds error_buffer; /* script_errorf's message */
static int pre_command_oom_state;

long long script_monotonic_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

const char *script_errorf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sds msg = sds_cat_vprintf(sds_empty(), fmt, ap);
  va_end(ap);
  sds_free(error_buffer);
  error_buffer = msg;
  return error_buffer;
}

void scripting_set_oom_state(int out_of_memory) {
  pre_command_oom_state = out_of_memory;
}

script_run *script_running(void) { return current; }

int script_must_obey(client *c) {
  /* The master's stream and the AOF being loaded (a fake client). */
  return (c->flags & CLIENT_MASTER) || c->conn == NULL;
}

static int running_stale(void) {
  return server.replica_mode && !server.repl_link_up &&
         !server.repl_serve_stale_data;
}

static int enough_good_replicas(void) {
  return script_host == NULL || script_host->enough_good_replicas == NULL ||
         script_host->enough_good_replicas();
}

uint64_t script_flags_to_cmd_flags(uint64_t cmd_flags, uint64_t script_flags) {
  /* Declared flags replace the command's write, deny-oom and stale flags. */
  cmd_flags &= ~(CMD_STALE | CMD_DENYOOM | CMD_WRITE);
  if (!(script_flags & (SCRIPT_FLAG_ALLOW_OOM | SCRIPT_FLAG_NO_WRITES))) {
    cmd_flags |= CMD_DENYOOM;
  }
  if (!(script_flags & SCRIPT_FLAG_NO_WRITES)) {
    cmd_flags |= CMD_WRITE;
  }
  if (script_flags & SCRIPT_FLAG_ALLOW_STALE) {
    cmd_flags |= CMD_STALE;
  }
  cmd_flags &= ~CMD_MAY_REPLICATE;
  return cmd_flags;
}

/* ------------------------------------------------------------------ */
/* Starting and ending a run                                            */
/* ------------------------------------------------------------------ */
/* misconf_reply: Redis's -MISCONF for scripts that may write. */
static void misconf_reply(client *caller, robj *deny) {
  if (deny == shared.bgsaveerr) {
    add_reply_error(caller,
                    "-MISCONF Redis is configured to save RDB snapshots, but "
                    "it's currently unable to persist to disk. Writable "
                    "scripts are blocked. Use 'no-writes' flag for read only "
                    "scripts.");
    return;
  }
  /* "-MISCONF Errors writing to the AOF file: <why>" */
  const char *text = deny->ptr;
  const char *why = strstr(text, "file: ");
  sds reason = why ? sds_new(why + 6) : sds_new("unknown error");
  reason = sds_trim(reason, "\r\n");
  add_reply_error_format(
      caller,
      "-MISCONF Redis is configured to persist data to AOF, but it's "
      "currently unable to persist to disk. Writable scripts are blocked. "
      "Use 'no-writes' flag for read only scripts. AOF error: %s",
      reason);
  sds_free(reason);
}

int script_run_prepare(script_run *run, client *engine_client, client *caller,
                       const char *funcname, uint64_t script_flags, int ro) {
  server_assert(current == NULL);
  int obey = script_must_obey(caller);
  if (!(script_flags & SCRIPT_FLAG_EVAL_COMPAT_MODE)) {
    /* no-cluster: Redoubt has no cluster mode, so it never refuses. */
    if (running_stale() && !(script_flags & SCRIPT_FLAG_ALLOW_STALE)) {
      add_reply_error(caller,
                      "-MASTERDOWN Link with MASTER is down, "
                      "replica-serve-stale-data is set to 'no' and "
                      "'allow-stale' flag is not set on the script.");
      return C_ERR;
    }
    if (!(script_flags & SCRIPT_FLAG_NO_WRITES)) {
      if (server.replica_mode && server.repl_slave_ro && !obey) {
        add_reply_error(caller,
                        "-READONLY Can not run script with write flag on "
                        "readonly replica");
        return C_ERR;
      }
      robj *deny = persist_deny_write_error();
      if (deny != NULL && !obey) {
        misconf_reply(caller, deny);
        return C_ERR;
      }
      if (ro) {
        add_reply_error(caller,
                        "Can not execute a script with write flag using *_ro "
                        "command.");
        return C_ERR;
      }
      if (!server.replica_mode && !enough_good_replicas()) {
        add_reply_error_object(caller, shared.noreplicaserr);
        return C_ERR;
      }
    }
    if (pre_command_oom_state && server.maxmemory &&
        !(script_flags & (SCRIPT_FLAG_ALLOW_OOM | SCRIPT_FLAG_NO_WRITES))) {
      add_reply_error(caller,
                      "-OOM allow-oom flag is not set on the script, can not "
                      "run it when used memory > 'maxmemory'");
      return C_ERR;
    }
  } else if (running_stale()) {
    add_reply_error_object(caller, shared.masterdownerr);
    return C_ERR;
  }

  memset(run, 0, sizeof(*run));
  run->c = engine_client;
  run->caller = caller;
  run->funcname = funcname;
  run->repl_flags = PROPAGATE_ALL;
  select_db(engine_client, caller->db->id);
  engine_client->resp = 2; /* scripts start in RESP2 (redis.setresp) */
  if (caller->flags & CLIENT_MULTI) {
    engine_client->flags |= CLIENT_MULTI;
  }
  run->start_us = script_monotonic_us();
  if (ro || (!(script_flags & SCRIPT_FLAG_EVAL_COMPAT_MODE) &&
             (script_flags & SCRIPT_FLAG_NO_WRITES))) {
    run->flags |= RUN_READ_ONLY;
  }
  if (!(script_flags & SCRIPT_FLAG_EVAL_COMPAT_MODE) &&
      (script_flags & SCRIPT_FLAG_ALLOW_OOM)) {
    run->flags |= RUN_ALLOW_OOM;
  }
  current = run;
  return C_OK;
}

void script_run_reset(script_run *run) {
  server_assert(current == run);
  run->c->flags &= ~CLIENT_MULTI;
  if (run->flags & RUN_TIMEDOUT) {
    run->flags &= ~RUN_TIMEDOUT;
    server.script_busy = SCRIPT_BUSY_NONE;
    unprotect_client(run->caller);
  }
  current = NULL;
}

/* ------------------------------------------------------------------ */
/* Busy scripts                                                         */
/* ------------------------------------------------------------------ */
int script_interrupt(script_run *run) {
  if (run->flags & RUN_TIMEDOUT) {
    process_events_while_blocked();
    return (run->flags & RUN_KILLED) != 0;
  }
  long long elapsed = (script_monotonic_us() - run->start_us) / 1000;
  if (elapsed < server.busy_reply_threshold) {
    return 0;
  }
  int eval = (run->flags & RUN_EVAL_MODE) != 0;
  server_log(LL_WARNING,
             "Slow script detected: still in execution after %lld "
             "milliseconds. You can try killing the script using the %s "
             "command. Script name is: %s.",
             elapsed, eval ? "SCRIPT KILL" : "FUNCTION KILL", run->funcname);
  run->flags |= RUN_TIMEDOUT;
  server.script_busy = eval ? SCRIPT_BUSY_EVAL : SCRIPT_BUSY_FUNCTION;
  /* The caller is neither read nor freed while events are processed. */
  protect_client(run->caller);
  process_events_while_blocked();
  return (run->flags & RUN_KILLED) != 0;
}

void script_kill(client *c, int is_eval) {
  if (current == NULL) {
    add_reply_error(c, "-NOTBUSY No scripts in execution right now.");
    return;
  }
  if (script_must_obey(current->caller)) {
    add_reply_error(c,
                    "-UNKILLABLE The busy script was sent by a master "
                    "instance in the context of replication and cannot be "
                    "killed.");
    return;
  }
  if (current->flags & RUN_WRITE_DIRTY) {
    add_reply_error(c,
                    "-UNKILLABLE Sorry the script already executed write "
                    "commands against the dataset. You can either wait the "
                    "script termination or kill the server in a hard way "
                    "using the SHUTDOWN NOSAVE command.");
    return;
  }
  int running_eval = (current->flags & RUN_EVAL_MODE) != 0;
  if (is_eval && !running_eval) {
    add_reply_error_object(c, shared.slowscripterr);
    return;
  }
  if (!is_eval && running_eval) {
    add_reply_error_object(c, shared.slowevalerr);
    return;
  }
  current->flags |= RUN_KILLED;
  add_reply(c, shared.ok);
}

/* ------------------------------------------------------------------ */
/* redis.call: one command of a script                                  */
/* ------------------------------------------------------------------ */
static const char *acl_error_message(int rc) {
  switch (rc) {
    case ACL_DENIED_CMD:
      return "can't run this command or subcommand";
    case ACL_DENIED_KEY:
      return "can't access at least one of the keys mentioned in the "
             "command arguments";
    case ACL_DENIED_CHANNEL:
      return "can't publish to the channel mentioned in the command";
    default:
      return "lacking the permissions for the command";
  }
}

static int verify_write_allowed(script_run *run, const char **err) {
  uint64_t flags = run->c->cmd->flags;
  /* Scripts count may-replicate commands as writes (PUBLISH...). */
  if ((run->flags & RUN_READ_ONLY) &&
      (flags & (CMD_WRITE | CMD_MAY_REPLICATE))) {
    *err = "Write commands are not allowed from read-only scripts.";
    return C_ERR;
  }
  if (!(flags & CMD_WRITE) || (run->flags & RUN_WRITE_DIRTY)) {
    /* Once the script wrote, it cannot be stopped half way. */
    return C_OK;
  }
  if (server.replica_mode && server.repl_slave_ro &&
      !script_must_obey(run->caller)) {
    *err = shared.roslaveerr->ptr;
    return C_ERR;
  }
  robj *deny = persist_deny_write_error();
  if (deny != NULL) {
    *err = deny->ptr;
    return C_ERR;
  }
  if (!server.replica_mode && !enough_good_replicas()) {
    *err = shared.noreplicaserr->ptr;
    return C_ERR;
  }
  return C_OK;
}

static int verify_oom(script_run *run, const char **err) {
  if (run->flags & RUN_ALLOW_OOM) {
    return C_OK;
  }
  if (server.maxmemory && !script_must_obey(run->caller) &&
      !(run->flags & RUN_WRITE_DIRTY) && pre_command_oom_state &&
      (run->c->cmd->flags & CMD_DENYOOM)) {
    *err = shared.oomerr->ptr;
    return C_ERR;
  }
  return C_OK;
}

void script_call(script_run *run, const char **err) {
  client *c = run->c;
  c->user = run->caller->user;
  redis_command *cmd = lookup_command(c->argv, c->argc);
  c->cmd = c->lastcmd = c->realcmd = cmd;
  if (cmd == NULL) {
    *err = "Unknown Redis command called from script";
  } else if ((cmd->arity > 0 && cmd->arity != c->argc) ||
             c->argc < -cmd->arity) {
    *err = "Wrong number of args calling Redis command from script";
  } else if (cmd->flags & CMD_NOSCRIPT) {
    *err = "This Redis command is not allowed from script";
  } else if (running_stale() && !(cmd->flags & CMD_STALE)) {
    *err = "Can not execute the command on a stale replica";
  } else {
    acl_user *u = c->user ? c->user : acl_default_user();
    int errpos = 0;
    int rc = (u == NULL || u->all_perms)
                 ? ACL_OK
                 : acl_check_command(u, cmd, c->argv, c->argc, &errpos);
    if (rc != ACL_OK) {
      acl_log_add(c, rc, ACL_LOG_CTX_LUA, errpos, NULL, NULL);
      *err = script_errorf("The user executing the script %s",
                           acl_error_message(rc));
    } else if (verify_write_allowed(run, err) == C_OK &&
               verify_oom(run, err) == C_OK) {
      if (cmd->flags & CMD_WRITE) {
        run->flags |= RUN_WRITE_DIRTY;
      }
      int flags = CMD_CALL_SLOWLOG | CMD_CALL_STATS;
      if (!(run->repl_flags & PROPAGATE_AOF)) {
        flags |= CMD_CALL_NO_PROPAGATE_AOF;
      }
      if (!(run->repl_flags & PROPAGATE_REPL)) {
        flags |= CMD_CALL_NO_PROPAGATE_REPL;
      }
      call(c, flags);
      server_assert((c->flags & CLIENT_BLOCKED) == 0);
      return;
    }
  }
  /* Refused: counted as an error reply and a rejected call. */
  after_error_reply(c, *err, strlen(*err));
  call_error_attributed();
  if (cmd != NULL) {
    cmd->rejected_calls++;
  }
}
