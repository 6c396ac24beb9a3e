/* server.c: the server's one owner of global state: start-up, listeners,
 * command dispatch (process_command / call), the cron and shutdown. */
#include "server/core/server.h"
#include "server/app.h"

#include <arpa/inet.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <locale.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "server/acl/acl.h"
#include "server/cmds/multi.h"
#include "server/cmds/pubsub.h"
#include "server/config/config.h"
#include "server/persist/aof.h"
#include "server/persist/persist.h"
#include "server/privsep.h"
#include "server/repl/repl.h"
#include "server/scripting/scripting.h"
#include "server/types/blocked.h"
#include "tls/tls.h"

/* ------------------------------------------------------------------ */
/* Keyspace dict types                                                  */
/* ------------------------------------------------------------------ */
static dict_type db_dict_type = {dict_sds_hash,
                                 NULL,
                                 NULL,
                                 dict_sds_key_compare,
                                 dict_sds_destructor,
                                 dict_object_destructor,
                                 dict_expand_allowed_by_maxmemory};

/* expires shares the sds key with the main dict: no destructors. */
static dict_type db_expires_dict_type = {dict_sds_hash,
                                         NULL,
                                         NULL,
                                         dict_sds_key_compare,
                                         NULL,
                                         NULL,
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
    dict_obj_hash,        NULL, NULL, dict_obj_key_compare, decr_ref_count_void,
    dict_list_destructor, NULL};
static dict_type objectkey_dict_type = {
    dict_obj_hash,       NULL, NULL, dict_obj_key_compare,
    decr_ref_count_void, NULL, NULL};

/* Command table: sds names, case insensitive. */
static dict_type command_table_dict_type = {
    dict_sds_case_hash,  NULL, NULL, dict_sds_key_case_compare,
    dict_sds_destructor, NULL, NULL};

/* errorstats: sds error code -> counter (stored in v.u64). */
static dict_type errors_dict_type = {
    dict_sds_hash,       NULL, NULL, dict_sds_key_compare,
    dict_sds_destructor, NULL, NULL};

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
  sds err =
      sds_cat_printf(sds_empty(), "unknown subcommand '%.128s'. Try %s HELP.",
                     (char *)c->argv[1]->ptr, cmd);
  sds_free(cmd);
  reject_command_sds(c, err);
}

/* reject_command: counts the rejection and replies the error. */
static void reject_command(client *c, robj *reply) {
  if (c->cmd) {
    c->cmd->rejected_calls++;
  }
  multi_flag_transaction(c);
  add_reply_error_object(c, reply);
}

static int server_process_command(client *c) {
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
  /* The master's link is trusted as Redis trusts it: no auth, no ACL. */
  int from_master = (c->flags & CLIENT_MASTER) != 0;
  if (!from_master && acl_auth_required(c) && !(c->cmd->flags & CMD_NO_AUTH)) {
    reject_command(c, shared.noautherr);
    return C_OK;
  }
  /* ACL after the auth check, as Redis 7.0; ~free for +@all ~* &* users. */
  if (!from_master && acl_check_client_or_reply(c) != C_OK) {
    return C_OK;
  }
  /* Protected: DEBUG, behind enable-debug-command. MODULE LOAD, LOADEX and
   * UNLOAD carry the flag too (COMMAND INFO shows Redis's), but they never
   * load anything: they reply why whatever enable-module-command says. */
  if ((c->cmd->flags & CMD_PROTECTED) &&
      !(c->cmd->parent != NULL &&
        !strcasecmp(c->cmd->parent->declared_name, "module")) &&
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
  /* A script command's flags are its script's (shebang, function flags). */
  uint64_t cmd_flags = scripting_command_flags(c);
  if (server.maxmemory && !(c->flags & CLIENT_MASTER) && !server.script_busy) {
    int out_of_memory = perform_evictions() == EVICT_FAIL;
    int reject_cmd_on_oom = (cmd_flags & CMD_DENYOOM) != 0;
    if (out_of_memory && reject_cmd_on_oom) {
      reject_command(c, shared.oomerr);
      return C_OK;
    }
    /* allow-oom scripts check it again for each command they run. */
    if (scripting_is_script_command(c->cmd)) {
      scripting_set_oom_state(out_of_memory);
    }
  }
  if ((cmd_flags & CMD_WRITE) && !from_master && !repl_enough_good_replicas()) {
    reject_command(c, shared.noreplicaserr);
    return C_OK;
  }
  /* A read-only replica refuses writes from its clients; with the link
   * down and replica-serve-stale-data no, only CMD_STALE commands run. */
  if (server.replica_mode && !from_master) {
    if (server.repl_slave_ro && (cmd_flags & CMD_WRITE)) {
      reject_command(c, shared.roslaveerr);
      return C_OK;
    }
    if (!server.repl_link_up && !server.repl_serve_stale_data &&
        !(cmd_flags & CMD_STALE)) {
      reject_command(c, shared.masterdownerr);
      return C_OK;
    }
  }
  /* While the dataset loads only commands flagged for it run (INFO,
   * CONFIG...), as Redis: the rest get -LOADING. */
  if (server.loading && !(c->cmd->flags & CMD_LOADING)) {
    reject_command(c, shared.loadingerr);
    return C_OK;
  }
  /* While a script runs past busy-reply-threshold only the commands that
   * can stop it (SCRIPT KILL, FUNCTION KILL, SHUTDOWN NOSAVE) and a few
   * harmless ones run; MULTI/EXEC commands too, so that a pipelined
   * transaction is not half refused. */
  if (server.script_busy && !(c->cmd->flags & CMD_ALLOW_BUSY)) {
    reject_command(c, server.script_busy == SCRIPT_BUSY_EVAL
                          ? shared.slowevalerr
                          : shared.slowscripterr);
    return C_OK;
  }
  /* A failed background save stops writes (stop-writes-on-bgsave-error),
   * and PING, as Redis 7.0 does, so that monitoring notices. */
  robj *deny = persist_deny_write_error();
  if (deny && !from_master &&
      ((cmd_flags & CMD_WRITE) || !strcasecmp(c->cmd->fullname, "ping"))) {
    reject_command(c, deny);
    return C_OK;
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
#define run_with_period(ms)       \
  if ((ms) <= 1000 / server.hz || \
      !(server.cronloops % ((ms) / (1000 / server.hz))))

static void track_instantaneous_metrics(void) {
  long long now = mstime();
  long long elapsed = now - server.inst_metric_last_sample_time;
  if (elapsed <= 0) {
    return;
  }
  long long ops =
      server.stat_numcommands - server.inst_metric_last_sample_count;
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
  if (server.active_expire_enabled && !server.replica_mode) {
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
  if (server.script_busy) {
    /* Called while a busy script processes events: nothing may change the
     * dataset or the clock the script sees (expiry, saves, evictions). */
    tls_cron();
    security_log_cron();
    return 1000 / server.hz;
  }
  update_cached_time();
  server.lruclock = lru_clock();
  run_with_period(100) { track_instantaneous_metrics(); }
  size_t mem = used_memory();
  if ((long long)mem > server.stat_peak_memory) {
    server.stat_peak_memory = (long long)mem;
  }
  if (server.loading) {
    /* Called from the loader between chunks: only a requested shutdown
     * (without saving a partial dataset) and TLS upkeep run. */
    if (server.shutdown_asap && prepare_for_shutdown(SHUTDOWN_NOSAVE) == C_OK) {
      exit(0);
    }
    server.shutdown_asap = 0;
    tls_cron();
    security_log_cron();
    return 1000 / server.hz;
  }
  if (server.shutdown_asap) {
    int flags = server.shutdown_signal == SIGINT ? server.shutdown_on_sigint
                                                 : server.shutdown_on_sigterm;
    if (prepare_for_shutdown(flags) == C_OK) {
      exit(0);
    }
    server.shutdown_asap = 0;
  }
  close_timedout_clients_step();
  check_clients_pause_timeout();
  databases_cron();
  persist_cron();
  repl_cron();
  tls_cron();          /* a no-op until TLS has been started */
  security_log_cron(); /* summaries of repeated security events */
  free_clients_in_async_free_queue();
  server.cronloops++;
  return 1000 / server.hz;
}

/* between_passes: the first dispatch pass served established clients;
 * send their replies before the deferred handshake work runs. */
static void between_passes(ae_loop *loop) {
  (void)loop;
  aof_flush(0); /* the AOF is written before any reply goes out */
  handle_clients_with_pending_writes();
}

static void before_sleep(ae_loop *loop) {
  if (conn_process_pending()) {
    ae_set_dont_wait(loop, 1);
  }
  if (server.script_busy) {
    /* Inside a busy script: replies and closes only. */
    handle_clients_with_pending_writes();
    free_clients_in_async_free_queue();
    return;
  }
  if (server.active_expire_enabled && !server.loading && !server.replica_mode) {
    active_expire_cycle(ACTIVE_EXPIRE_CYCLE_FAST);
  }
  aof_flush(0); /* the AOF is written before any reply goes out */
  repl_before_sleep();
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

static int server_prepare_for_shutdown(int flags) {
  server_log(LL_WARNING, "User requested shutdown...");
  repl_shutdown_wait(flags);
  if (persist_prepare_for_shutdown(flags) != C_OK) {
    server_log(LL_WARNING,
               "Errors trying to shut down the server. "
               "Check the logs for more information.");
    return C_ERR;
  }
  remove_pidfile();
  tls_shutdown(); /* a no-op if TLS never started */
  /* Flush pending replies where it can be done without blocking, then
   * close listeners. */
  close_listening_sockets(1);
  security_log_flush(); /* counts of repeated security events */
  server_log(LL_WARNING, "Redoubt is now ready to exit, bye bye...");
  return C_OK;
}

static void sig_shutdown_handler(int sig) {
  /* A second signal while shutting down exits immediately. */
  if (server.shutdown_asap) {
    remove_pidfile();
    _exit(1);
  }
  server.shutdown_signal = sig;
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
  if (server_log_settings.file && server_log_settings.file[0]) {
    int lfd = open(server_log_settings.file, O_WRONLY | O_APPEND | O_CLOEXEC);
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
  server_log_settings.main_pid = server.pid;
  server.clients = list_create();
  server.clients_to_close = list_create();
  server.clients_pending_write = list_create();
  server.monitors = list_create();
  server.slowlog = NULL;
  server.errors = dict_create(&errors_dict_type);
  server.el = ae_create((int)server.maxclients + CONFIG_MIN_RESERVED_FDS + 96);
  if (!server.el) {
    server_log(LL_WARNING,
               "Failed creating the event loop. Error message: "
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
  persist_init();
  repl_init();
  scripting_init();
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
  server_populate_command_table();
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

static const server_procs server_procs_table = {
    .process_command = server_process_command,
    .prepare_for_shutdown = server_prepare_for_shutdown,
    .info_persistence = persist_info,
    .info_replication = repl_info,
    .info_scripting_memory = scripting_info_memory,
};

/* server_init_for_tests: an in-process server without listeners, signals or
 * config file, for fuzz targets and tests (defaults, commands, shared
 * objects, dbs, event loop). Call once per process. */
void server_init_for_tests(void) {
  memset(&server, 0, sizeof(server));
  config_init_defaults();
  server_set_procs(&server_procs_table);
  server_register_modules();
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
  out->client = server.tls_replication || server.tls_cluster;
  out->handshake_workers = server.tls_handshake_workers;
  out->handshake_timeout_ms = server.tls_handshake_timeout;
  out->max_handshakes_in_flight = server.tls_max_handshakes_in_flight;
  out->max_handshakes_per_ip = server.tls_max_handshakes_per_ip;
  out->client_hello_timeout_ms = server.tls_client_hello_timeout;
  out->max_clients = server.maxclients;
  if (server.clients != NULL) {
    unsigned long live = list_length(server.clients);
    unsigned long closing = list_length(server.clients_to_close);
    out->clients = live > closing ? (long long)(live - closing) : 0;
  }
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

static void server_tls_security_log_peer(const char *event, const char *source,
                                         const char *cause,
                                         const char *details) {
  security_log_peer(event, source, cause, "%s", details);
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

static const tls_host *server_tls_host(void) {
  static tls_host host;
  host.executable = server.executable;
  host.read_tunables = server_tls_read_tunables;
  host.log = server_tls_log;
  host.security_log = server_tls_security_log;
  host.security_log_peer = server_tls_security_log_peer;
  host.accept_starved = listener_accept_starved;
  host.accepted = server_tls_accepted;
  return &host;
}

int server_main(int argc, char **argv) {
  uint8_t hashseed[16];
  get_random_bytes(hashseed, sizeof(hashseed));
  dict_set_hash_function_seed(hashseed);
  srandom((unsigned int)(time(NULL) ^ getpid()));
  tzset();
  setlocale(LC_COLLATE, ""); /* SORT ... ALPHA collates as Redis does */

  memset(&server, 0, sizeof(server));
  server.executable = absolute_executable_path(argv[0]);
  server.exec_argv = argv;
  config_init_defaults();
  server_set_procs(&server_procs_table);
  server_register_modules();
  init_command_table();
  create_shared_objects();

  /* `server --check-rdb FILE`, or the binary under a redis-check-rdb name,
   * as Redis selects its check tools by argv[0]. */
  const char *base =
      strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
  if (strstr(base, "check-rdb") != NULL) {
    return persist_check_rdb_main(argc - 1, argv + 1);
  }
  if (strstr(base, "check-aof") != NULL) {
    return persist_check_aof_main(argc - 1, argv + 1);
  }
  if (argc >= 2 && strcmp(argv[1], "--check-aof") == 0) {
    return persist_check_aof_main(argc - 2, argv + 2);
  }
  if (argc >= 2 && strcmp(argv[1], "--check-rdb") == 0) {
    return persist_check_rdb_main(argc - 2, argv + 2);
  }
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
  config_set_tls_host(server_tls_host());
  acl_load_startup(); /* `user` directives, aclfile, requirepass */
  if (startup.check_config) {
    int rc = tls_check_config(&server_tls_options, server_tls_host(),
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
  adjust_open_files_limit(); /* before the event loop is sized */
  init_server();
  info_register_section("tls", server_tls_info, 0);
  info_register_section("sandbox", server_sandbox_info, 0);
  config_log_unimplemented();
  config_startup_free(&startup);

  /* Privilege separation (privsep.h): the spawner, which handshakers need,
   * starts before them; the drop to server-user comes after the bind. */
  {
    char err[512] = "";
    if (!privsep_start(server.el, err, sizeof(err))) {
      server_log(LL_WARNING, "Privilege separation: %s", err);
      return 1;
    }
  }
  /* Handshakers start before listeners are bound and before any data is
   * loaded (DESIGN.md: a respawn must never see the dataset). */
  if (server.tls_port || server.tls_replication) {
    char err[TLS_ERR_LEN] = "";
    if (!tls_start(server.el, &server_tls_options, server_tls_host(), err,
                   sizeof(err))) {
      server_log(LL_WARNING, "Failed to start TLS: %s",
                 err[0] ? err : "unknown error");
      return 1;
    }
  }
  listener_set_accept_handler(LISTENER_TCP, accept_tcp_handler);
  listener_set_accept_handler(LISTENER_TLS, tls_accept_handler);
  listener_set_preauth_ops(tls_preauth_count, tls_preauth_evict_idle);
  if (listener_open(LISTENER_TCP, server.port) != C_OK) {
    server_log(LL_WARNING, "Failed listening on port %u (tcp), aborting.",
               server.port);
    return 1;
  }
  if (listener_open(LISTENER_TLS, server.tls_port) != C_OK) {
    server_log(LL_WARNING, "Failed listening on port %u (tls), aborting.",
               server.tls_port);
    return 1;
  }
  if (server.ipfd_count == 0 && server.tlsfd_count == 0) {
    server_log(LL_WARNING, "Configured to not listen anywhere, exiting.");
    return 1;
  }
  create_pidfile();
  {
    char err[512] = "";
    if (!privsep_drop(err, sizeof(err))) {
      server_log(LL_WARNING, "Privilege separation: %s", err);
      return 1;
    }
  }
  if (persist_load_at_startup() != C_OK) {
    return 1;
  }
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
