/* persist.c: RDB persistence as the server runs it (see persist.h): SAVE,
 * BGSAVE through a fork child, save points, saving at shutdown, loading at
 * start-up, DUMP/RESTORE, DEBUG RELOAD, INFO persistence and MISCONF. */
#include "server/persist/persist.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/config/config.h"
#include "server/core/latency.h"
#include "server/persist/aof.h"
#include "server/persist/persist_internal.h"
#include "server/persist/rdb.h"

#define BGSAVE_RETRY_DELAY 5 /* seconds between failed BGSAVE attempts */

static struct {
  pid_t child_pid; /* -1: none */
  int child_type;  /* CHILD_RDB, CHILD_AOF */
  pid_t last_child_pid;
  int child_pipe; /* read end: the child's CoW size */
  time_t child_start;
  long long dirty_before_bgsave;
  int last_bgsave_ok;
  time_t last_bgsave_try;
  long long last_bgsave_time_sec;
  long long rdb_saves;
  size_t last_cow_size;
  int bgsave_scheduled;
  long long last_load_keys_loaded, last_load_keys_expired;
} ps = {.child_pid = -1,
        .child_pipe = -1,
        .last_bgsave_ok = 1,
        .last_bgsave_time_sec = -1};

void persist_init(void) {
  aof_init();
  config_set_appendonly_hook(aof_apply_appendonly);
  server.lastsave = time(NULL);
  ps.child_pid = -1;
  ps.child_pipe = -1;
  ps.last_bgsave_ok = 1;
  ps.last_bgsave_time_sec = -1;
}

int persist_has_active_child(void) { return ps.child_pid != -1; }

/* ------------------------------------------------------------------ */
/* Synchronous save                                                     */
/* ------------------------------------------------------------------ */
static int save_now(void) {
  char err[512] = "";
  if (rdb_save_file(server.rdb_filename, err, sizeof(err)) != C_OK) {
    server_log(LL_WARNING, "%s", err);
    return C_ERR;
  }
  server_log(LL_NOTICE, "DB saved on disk");
  server.dirty = 0;
  server.lastsave = time(NULL);
  ps.last_bgsave_ok = 1;
  ps.rdb_saves++;
  return C_OK;
}

/* ------------------------------------------------------------------ */
/* The fork child                                                       */
/* ------------------------------------------------------------------ */
/* The child keeps only stdio and the pipe to its parent: listeners, client
 * sockets, handshaker IPC sockets and anything else main holds are closed,
 * so nothing the child does can reach a peer or a handshaker. */
static void child_close_fds(int keep, int keep2) {
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL) {
    for (int fd = 3; fd < 65536; fd++) {
      if (fd != keep && fd != keep2) {
        close(fd);
      }
    }
    return;
  }
  int dfd = dirfd(d);
  int fds[1024];
  int n = 0;
  struct dirent *e;
  for (;;) {
    n = 0;
    rewinddir(d);
    while ((e = readdir(d)) != NULL && n < 1024) {
      int fd = atoi(e->d_name);
      if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && fd > 2 && fd != keep &&
          fd != keep2 && fd != dfd) {
        fds[n++] = fd;
      }
    }
    for (int i = 0; i < n; i++) {
      close(fds[i]);
    }
    if (n < 1024) {
      break;
    }
  }
  closedir(d);
}

/* Private_Dirty of the child: the pages copied on write since the fork
 * (Redis reads the same from /proc/self/smaps). */
static size_t child_private_dirty(void) {
  FILE *f = fopen("/proc/self/smaps_rollup", "r");
  if (f == NULL) {
    return 0;
  }
  char line[256];
  size_t total = 0;
  while (fgets(line, sizeof(line), f)) {
    unsigned long kb;
    if (sscanf(line, "Private_Dirty: %lu kB", &kb) == 1) {
      total += (size_t)kb * 1024;
    }
  }
  fclose(f);
  return total;
}

static struct {
  int type;
  persist_child_fn *fn;
  void *arg;
  int keep_fd;
  persist_repl_done_fn *repl_done;
} child_job = {.keep_fd = -1};

static void child_main(int pipe_w) {
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  signal(SIGUSR1, SIG_DFL);
  signal(SIGPIPE, SIG_IGN);
  child_close_fds(pipe_w, child_job.keep_fd);
  int rc = child_job.fn(child_job.arg);
  if (rc == C_OK) {
    size_t cow = child_private_dirty();
    if (cow) {
      server_log(LL_NOTICE, "Fork CoW for %s: current %zu MB, peak %zu MB",
                 child_job.type == CHILD_AOF ? "AOF rewrite" : "RDB",
                 cow / (1024 * 1024), cow / (1024 * 1024));
    }
    unsigned long long v = cow;
    ssize_t w = write(pipe_w, &v, sizeof(v));
    (void)w;
  }
  _exit(rc == C_OK ? 0 : 1);
}

pid_t persist_child_pid_last(void) { return ps.last_child_pid; }

int persist_child_type(void) {
  return ps.child_pid == -1 ? CHILD_NONE : ps.child_type;
}
pid_t persist_child_pid(void) { return ps.child_pid; }

pid_t persist_fork_child(int type, persist_child_fn *fn, void *arg) {
  if (ps.child_pid != -1) {
    return -1;
  }
  int p[2];
  if (pipe2(p, O_CLOEXEC) == -1) {
    server_log(LL_WARNING, "Can't fork: pipe: %s", strerror(errno));
    return -1;
  }
  child_job.type = type;
  child_job.fn = fn;
  child_job.arg = arg;
  if (type != CHILD_REPL) {
    child_job.keep_fd = -1;
  }
  long long fork_start = ustime();
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    child_main(p[1]);
  }
  close(p[1]);
  if (pid == -1) {
    close(p[0]);
    server_log(LL_WARNING, "Can't fork: %s", strerror(errno));
    return -1;
  }
  latency_note_fork(ustime() - fork_start);
  ps.child_pid = pid;
  ps.child_type = type;
  ps.child_pipe = p[0];
  ps.child_start = time(NULL);
  return pid;
}

static int rdb_child_fn(void *arg) {
  (void)arg;
  char err[512] = "";
  if (rdb_save_file(server.rdb_filename, err, sizeof(err)) != C_OK) {
    server_log(LL_WARNING, "%s", err);
    return C_ERR;
  }
  server_log(LL_NOTICE, "DB saved on disk");
  return C_OK;
}

static int bgsave_start(void) {
  if (ps.child_pid != -1) {
    return C_ERR;
  }
  ps.dirty_before_bgsave = server.dirty;
  ps.last_bgsave_try = time(NULL);
  pid_t pid = persist_fork_child(CHILD_RDB, rdb_child_fn, NULL);
  if (pid == -1) {
    ps.last_bgsave_ok = 0;
    return C_ERR;
  }
  server_log(LL_NOTICE, "Background saving started by pid %d", (int)pid);
  ps.bgsave_scheduled = 0;
  return C_OK;
}

static void remove_temp_file(pid_t pid) {
  char tmp[64];
  snprintf(tmp, sizeof(tmp), "temp-%d.rdb", (int)pid);
  long long latency = latency_monitor_start();
  unlink(tmp);
  latency_monitor_end("rdb-unlink-temp-file", latency);
}

static void bgsave_done(int status, size_t cow) {
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    server_log(LL_NOTICE, "Background saving terminated with success");
    server.dirty -= ps.dirty_before_bgsave;
    if (server.dirty < 0) {
      server.dirty = 0;
    }
    server.lastsave = time(NULL);
    ps.last_bgsave_ok = 1;
    ps.rdb_saves++;
    ps.last_cow_size = (size_t)cow;
  } else if (WIFEXITED(status)) {
    server_log(LL_WARNING, "Background saving error");
    ps.last_bgsave_ok = 0;
  } else {
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    server_log(LL_WARNING, "Background saving terminated by signal %d", sig);
    remove_temp_file(ps.child_pid);
    /* SIGUSR1 is how we kill a child on purpose: not an error. */
    if (sig != SIGUSR1) {
      ps.last_bgsave_ok = 0;
    }
  }
  ps.last_bgsave_time_sec = (long long)(time(NULL) - ps.child_start);
}

void persist_kill_child(void) {
  if (ps.child_pid == -1) {
    return;
  }
  if (ps.child_type == CHILD_RDB) {
    server_log(LL_WARNING, "There is a child saving an .rdb. Killing it!");
  }
  kill(ps.child_pid, SIGUSR1);
  int status;
  while (waitpid(ps.child_pid, &status, 0) == -1 && errno == EINTR) {
  }
  if (ps.child_type == CHILD_RDB) {
    remove_temp_file(ps.child_pid);
  }
  if (ps.child_pipe != -1) {
    close(ps.child_pipe);
    ps.child_pipe = -1;
  }
  ps.child_pid = -1;
}

/* Reaps a finished child: reads its CoW size and calls its done handler. */
static void reap_child(int status) {
  unsigned long long cow = 0;
  if (ps.child_pipe != -1) {
    if (read(ps.child_pipe, &cow, sizeof(cow)) != sizeof(cow)) {
      cow = 0;
    }
    close(ps.child_pipe);
    ps.child_pipe = -1;
  }
  int type = ps.child_type;
  pid_t pid = ps.child_pid;
  ps.last_child_pid = pid;
  ps.child_pid = -1;
  if (type == CHILD_RDB) {
    ps.child_pid = pid; /* bgsave_done removes temp-<pid>.rdb */
    bgsave_done(status, (size_t)cow);
    ps.child_pid = -1;
  } else if (type == CHILD_AOF) {
    aof_rewrite_done(status, (size_t)cow);
  } else if (child_job.repl_done) {
    child_job.repl_done(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
}

pid_t persist_fork_repl_child(persist_repl_child_fn *fn, void *arg, int keep_fd,
                              persist_repl_done_fn *done) {
  child_job.keep_fd = keep_fd;
  child_job.repl_done = done;
  return persist_fork_child(CHILD_REPL, fn, arg);
}

int persist_child_active(void) { return ps.child_pid != -1; }

int persist_reap_child_now(long long wait_us) {
  long long waited = 0;
  while (ps.child_pid != -1) {
    int status;
    pid_t pid = waitpid(ps.child_pid, &status, WNOHANG);
    if (pid == ps.child_pid) {
      reap_child(status);
      return 1;
    }
    if (pid == -1 && errno != EINTR) {
      return 0; /* persist_cron deals with it */
    }
    if (waited >= wait_us) {
      return 0;
    }
    usleep(100);
    waited += 100;
  }
  return 0;
}

void persist_cron(void) {
  if (ps.child_pid != -1) {
    int status;
    pid_t pid = waitpid(ps.child_pid, &status, WNOHANG);
    if (pid == ps.child_pid) {
      reap_child(status);
    } else if (pid == -1 && errno == ECHILD) {
      reap_child(1 << 8); /* lost: as a failed child */
    }
  }
  aof_cron();
  if (ps.child_pid != -1) {
    return;
  }
  time_t now = time(NULL);
  if (ps.bgsave_scheduled) {
    bgsave_start();
    return;
  }
  if (aof_rewrite_is_scheduled()) {
    aof_start_rewrite();
    return;
  }
  int n = config_save_params_count();
  for (int i = 0; i < n; i++) {
    long long seconds;
    int changes;
    config_save_param(i, &seconds, &changes);
    if (server.dirty >= changes && now - server.lastsave > seconds &&
        (now - ps.last_bgsave_try > BGSAVE_RETRY_DELAY || ps.last_bgsave_ok)) {
      server_log(LL_NOTICE, "%d changes in %lld seconds. Saving...", changes,
                 seconds);
      bgsave_start();
      break;
    }
  }
}

/* ------------------------------------------------------------------ */
/* Shutdown, start-up, MISCONF                                          */
/* ------------------------------------------------------------------ */
int persist_prepare_for_shutdown(int flags) {
  if (server.loading) {
    /* A partial dataset must never replace the files it comes from. */
    flags = (flags & ~SHUTDOWN_SAVE) | SHUTDOWN_NOSAVE;
  }
  aof_prepare_for_shutdown();
  persist_kill_child();
  if ((config_save_params_count() > 0 && !(flags & SHUTDOWN_NOSAVE)) ||
      (flags & SHUTDOWN_SAVE)) {
    server_log(LL_NOTICE, "Saving the final RDB snapshot before exiting.");
    if (save_now() != C_OK) {
      if (flags & SHUTDOWN_FORCE) {
        server_log(LL_WARNING, "Error trying to save the DB. Exit anyway.");
      } else {
        server_log(LL_WARNING, "Error trying to save the DB, can't exit.");
        return C_ERR;
      }
    }
  }
  return C_OK;
}

static void (*loaded_repl_hook)(const char *replid, long long offset, int db);

void persist_set_loaded_repl_hook(void (*fn)(const char *replid,
                                             long long offset, int db)) {
  loaded_repl_hook = fn;
}

int persist_load_at_startup(void) {
  if (aof_state() != AOF_OFF) {
    rdb_set_loading_progress(process_events_while_blocked);
    int rc = aof_load_at_startup(); /* the AOF, when on, is the dataset */
    rdb_set_loading_progress(NULL);
    return rc;
  }
  long long start = ustime();
  rdb_load_info info;
  char err[512];
  server.loading = 1;
  rdb_set_loading_progress(process_events_while_blocked);
  int rc = rdb_load_file(server.rdb_filename, RDBFLAGS_NONE, &info, err,
                         sizeof(err));
  rdb_set_loading_progress(NULL);
  server.loading = 0;
  if (rc != C_OK) {
    if (errno == ENOENT && err[0] == '\0') {
      return C_OK; /* no file: an empty dataset */
    }
    server_log(LL_WARNING, "Fatal error loading the DB %s: %s. Exiting.",
               server.rdb_filename, err);
    return C_ERR;
  }
  if (loaded_repl_hook && info.repl_id[0] && info.repl_offset >= 0) {
    loaded_repl_hook(info.repl_id, info.repl_offset, (int)info.repl_stream_db);
  }
  ps.last_load_keys_loaded = info.keys_loaded;
  ps.last_load_keys_expired = info.keys_expired;
  if (info.redis_ver[0]) {
    server_log(LL_NOTICE, "Loading RDB produced by version %s", info.redis_ver);
  }
  server_log(LL_NOTICE,
             "Done loading RDB, keys loaded: %lld, keys expired: "
             "%lld.",
             info.keys_loaded, info.keys_expired);
  server_log(LL_NOTICE, "DB loaded from disk: %.3f seconds",
             (double)(ustime() - start) / 1000000);
  return C_OK;
}

robj *persist_deny_write_error(void) {
  if (server.stop_writes_on_bgsave_err && config_save_params_count() > 0 &&
      !ps.last_bgsave_ok) {
    return shared.bgsaveerr;
  }
  const char *aof_err = aof_write_error();
  if (aof_err) {
    static robj *cached;
    static char cached_for[128];
    if (cached == NULL || strcmp(cached_for, aof_err) != 0) {
      if (cached) {
        decr_ref_count(cached);
      }
      snprintf(cached_for, sizeof(cached_for), "%s", aof_err);
      sds msg = sds_cat_printf(
          sds_empty(), "-MISCONF Errors writing to the AOF file: %s\r\n",
          aof_err);
      cached = create_object(OBJ_STRING, msg);
    }
    return cached;
  }
  return NULL;
}

sds persist_info(sds info) {
  time_t now = time(NULL);
  int rdb_child = ps.child_pid != -1 && ps.child_type == CHILD_RDB;
  info = sds_cat_printf(
      info,
      "loading:%d\r\n"
      "async_loading:0\r\n"
      "current_cow_peak:0\r\n"
      "current_cow_size:0\r\n"
      "current_cow_size_age:0\r\n"
      "current_fork_perc:0.00\r\n"
      "current_save_keys_processed:0\r\n"
      "current_save_keys_total:0\r\n"
      "rdb_changes_since_last_save:%lld\r\n"
      "rdb_bgsave_in_progress:%d\r\n"
      "rdb_last_save_time:%lld\r\n"
      "rdb_last_bgsave_status:%s\r\n"
      "rdb_last_bgsave_time_sec:%lld\r\n"
      "rdb_current_bgsave_time_sec:%lld\r\n"
      "rdb_saves:%lld\r\n"
      "rdb_last_cow_size:%zu\r\n"
      "rdb_last_load_keys_expired:%lld\r\n"
      "rdb_last_load_keys_loaded:%lld\r\n",
      server.loading ? 1 : 0, server.dirty, rdb_child,
      (long long)server.lastsave, ps.last_bgsave_ok ? "ok" : "err",
      ps.last_bgsave_time_sec,
      rdb_child ? (long long)(now - ps.child_start) : -1LL, ps.rdb_saves,
      ps.last_cow_size, ps.last_load_keys_expired, ps.last_load_keys_loaded);
  return aof_info(info);
}

/* ------------------------------------------------------------------ */
/* Commands                                                             */
/* ------------------------------------------------------------------ */
static void save_command(client *c) {
  if (ps.child_pid != -1 && ps.child_type == CHILD_RDB) {
    add_reply_error(c, "Background save already in progress");
    return;
  }
  if (save_now() == C_OK) {
    add_reply(c, shared.ok);
  } else {
    add_reply_error_object(c, shared.err);
  }
}

static void bgsave_command(client *c) {
  int schedule = 0;
  if (c->argc > 1) {
    if (c->argc == 2 && !strcasecmp(c->argv[1]->ptr, "schedule")) {
      schedule = 1;
    } else {
      add_reply_error_object(c, shared.syntaxerr);
      return;
    }
  }
  if (ps.child_pid != -1 && ps.child_type == CHILD_RDB) {
    add_reply_error(c, "Background save already in progress");
    return;
  }
  /* Inside EXEC the fork waits for the transaction's end, as Redis. */
  int in_exec = (c->flags & CLIENT_MULTI) || server.in_nested_call > 1;
  if (ps.child_pid != -1 || in_exec) {
    if (schedule || in_exec) {
      ps.bgsave_scheduled = 1;
      add_reply_status(c, "Background saving scheduled");
    } else {
      add_reply_error(c,
                      "Another child process is active (AOF?): can't "
                      "BGSAVE right now. Use BGSAVE SCHEDULE in order to "
                      "schedule a BGSAVE whenever possible.");
    }
    return;
  }
  if (bgsave_start() == C_OK) {
    add_reply_status(c, "Background saving started");
  } else {
    add_reply_error_object(c, shared.err);
  }
}

static void bgrewriteaof_command(client *c) {
  if (persist_child_type() == CHILD_AOF) {
    add_reply_error(c,
                    "Background append only file rewriting already in "
                    "progress");
    return;
  }
  if (persist_child_type() != CHILD_NONE || (c->flags & CLIENT_MULTI) ||
      server.in_nested_call > 1) {
    aof_schedule_rewrite();
    add_reply_status(c, "Background append only file rewriting scheduled");
    return;
  }
  if (aof_start_rewrite() == C_OK) {
    add_reply_status(c, "Background append only file rewriting started");
  } else {
    add_reply_error(c,
                    "Can't execute an AOF background rewriting. Please "
                    "check the server logs for more information.");
  }
}

static void dump_command(client *c) {
  robj *o = lookup_key_read(c->db, c->argv[1]);
  if (o == NULL) {
    add_reply_null(c);
    return;
  }
  add_reply_bulk_sds(c, create_dump_payload(o));
}

static void restore_command(client *c) {
  long long ttl, lfu_freq = -1, lru_idle = -1;
  int replace = 0, absttl = 0;
  for (int j = 4; j < c->argc; j++) {
    int additional = c->argc - j - 1;
    const char *opt = c->argv[j]->ptr;
    if (!strcasecmp(opt, "replace")) {
      replace = 1;
    } else if (!strcasecmp(opt, "absttl")) {
      absttl = 1;
    } else if (!strcasecmp(opt, "idletime") && additional >= 1 &&
               lfu_freq == -1) {
      if (get_long_long_from_object_or_reply(c, c->argv[j + 1], &lru_idle,
                                             NULL) != C_OK) {
        return;
      }
      if (lru_idle < 0) {
        add_reply_error(c, "Invalid IDLETIME value, must be >= 0");
        return;
      }
      j++;
    } else if (!strcasecmp(opt, "freq") && additional >= 1 && lru_idle == -1) {
      if (get_long_long_from_object_or_reply(c, c->argv[j + 1], &lfu_freq,
                                             NULL) != C_OK) {
        return;
      }
      if (lfu_freq < 0 || lfu_freq > 255) {
        add_reply_error(c, "Invalid FREQ value, must be >= 0 and <= 255");
        return;
      }
      j++;
    } else {
      add_reply_error_object(c, shared.syntaxerr);
      return;
    }
  }
  robj *key = c->argv[1];
  if (!replace && lookup_key_write(c->db, key) != NULL) {
    add_reply_error_object(c, shared.busykeyerr);
    return;
  }
  if (get_long_long_from_object_or_reply(c, c->argv[2], &ttl, NULL) != C_OK) {
    return;
  }
  if (ttl < 0) {
    add_reply_error(c, "Invalid TTL value, must be >= 0");
    return;
  }
  const unsigned char *p = c->argv[3]->ptr;
  size_t len = sds_len(c->argv[3]->ptr);
  if (verify_dump_payload(p, len) != C_OK) {
    add_reply_error(c, "DUMP payload version or checksum are wrong");
    return;
  }
  rio r;
  rio_init_buffer_reader(&r, p, len - 10);
  unsigned char type;
  robj *obj = NULL;
  int empty = 0;
  char err[256] = "";
  if (rio_read(&r, &type, 1) && rdb_is_object_type(type)) {
    obj = rdb_load_object(&r, type, &empty, err, sizeof(err));
  }
  rio_release(&r);
  if (obj == NULL) {
    add_reply_error(c, "Bad data format");
    return;
  }
  int deleted = replace ? db_delete(c->db, key) : 0;
  if (ttl && !absttl) {
    ttl += mstime();
  }
  if (ttl && check_already_expired(ttl)) {
    if (deleted) {
      incr_ref_count(key);
      rewrite_client_command_vector(c, 2, shared.del, key);
      decr_ref_count(key);
      key = c->argv[1];
      signal_modified_key(c, c->db, key);
      notify_keyspace_event(NOTIFY_GENERIC, "del", key, c->db->id);
      server.dirty++;
    }
    decr_ref_count(obj);
    add_reply(c, shared.ok);
    return;
  }
  object_set_lru_or_lfu(obj, lfu_freq, lru_idle);
  db_add(c->db, key, obj); /* takes our reference */
  if (ttl) {
    set_expire(c, c->db, key, ttl);
    if (!absttl) {
      /* Propagated with the absolute deadline (Redis 7.0). */
      robj *ttl_obj = create_string_object_from_long_long(ttl);
      rewrite_client_command_argument(c, 2, ttl_obj);
      decr_ref_count(ttl_obj);
      rewrite_client_command_argument(c, c->argc, shared.absttl);
      key = c->argv[1];
    }
  }
  signal_modified_key(c, c->db, key);
  notify_keyspace_event(NOTIFY_GENERIC, "restore", key, c->db->id);
  add_reply(c, shared.ok);
  server.dirty++;
}

/* ------------------------------------------------------------------ */
/* DEBUG RELOAD                                                         */
/* ------------------------------------------------------------------ */
int persist_debug_reload(char *err, size_t err_len) {
  if (rdb_save_file(server.rdb_filename, err, err_len) != C_OK) {
    return C_ERR;
  }
  empty_data(-1, 0, NULL);
  rdb_load_info info;
  if (rdb_load_file(server.rdb_filename, RDBFLAGS_NONE, &info, err, err_len) !=
      C_OK) {
    return C_ERR;
  }
  server_log(LL_NOTICE, "DB reloaded by DEBUG RELOAD");
  return C_OK;
}

int persist_debug_command(client *c) {
  const char *sub = c->argv[1]->ptr;
  if (persist_debug_digest(c)) {
    return 1;
  }
  if (c->argc == 3 && !strcasecmp(sub, "set-skip-checksum-validation")) {
    rdb_set_skip_checksum_validation(atoi(c->argv[2]->ptr));
    add_reply(c, shared.ok);
    return 1;
  }
  if (!strcasecmp(sub, "reload")) {
    int save = 1, flush = 1;
    for (int j = 2; j < c->argc; j++) {
      const char *opt = c->argv[j]->ptr;
      if (!strcasecmp(opt, "NOSAVE")) {
        save = 0;
      } else if (!strcasecmp(opt, "NOFLUSH")) {
        flush = 0;
      } else if (!strcasecmp(opt, "MERGE")) {
        flush = 0;
      } else {
        add_reply_error(c,
                        "DEBUG RELOAD only supports the MERGE, NOFLUSH and "
                        "NOSAVE options.");
        return 1;
      }
    }
    char err[512] = "";
    if (save && rdb_save_file(server.rdb_filename, err, sizeof(err)) != C_OK) {
      add_reply_error_object(c, shared.err);
      return 1;
    }
    if (flush) {
      empty_data(-1, 0, NULL);
    }
    if (rdb_load_file(server.rdb_filename, flush ? 0 : RDBFLAGS_ALLOW_DUP, NULL,
                      err, sizeof(err)) != C_OK) {
      add_reply_error_format(c, "Error trying to load the RDB dump: %s", err);
      return 1;
    }
    server_log(LL_NOTICE, "DB reloaded by DEBUG RELOAD");
    add_reply(c, shared.ok);
    return 1;
  }
  return 0;
}

redis_command persist_commands[] = {
    {.declared_name = "save",
     .summary = "Synchronously save the dataset to disk",
     .since = "1.0.0",
     .group = "server",
     .proc = save_command,
     .arity = 1,
     .flags = CMD_NO_ASYNC_LOADING | CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_MULTI,
     .acl_categories =
         ACL_CATEGORY_ADMIN | ACL_CATEGORY_SLOW | ACL_CATEGORY_DANGEROUS},
    {.declared_name = "bgsave",
     .summary = "Asynchronously save the dataset to disk",
     .since = "1.0.0",
     .group = "server",
     .proc = bgsave_command,
     .arity = -1,
     .flags = CMD_NO_ASYNC_LOADING | CMD_ADMIN | CMD_NOSCRIPT,
     .acl_categories =
         ACL_CATEGORY_ADMIN | ACL_CATEGORY_SLOW | ACL_CATEGORY_DANGEROUS},
    {.declared_name = "bgrewriteaof",
     .summary = "Asynchronously rewrite the append-only file",
     .since = "1.0.0",
     .group = "server",
     .proc = bgrewriteaof_command,
     .arity = 1,
     .flags = CMD_NO_ASYNC_LOADING | CMD_ADMIN | CMD_NOSCRIPT,
     .acl_categories =
         ACL_CATEGORY_ADMIN | ACL_CATEGORY_SLOW | ACL_CATEGORY_DANGEROUS},
    {.declared_name = "dump",
     .summary = "Return a serialized version of the value stored at the "
                "specified key.",
     .since = "2.6.0",
     .group = "generic",
     .proc = dump_command,
     .arity = 2,
     .flags = CMD_READONLY,
     .acl_categories =
         ACL_CATEGORY_KEYSPACE | ACL_CATEGORY_READ | ACL_CATEGORY_SLOW,
     .firstkey = 1,
     .lastkey = 1,
     .keystep = 1},
    {.declared_name = "restore",
     .summary = "Create a key using the provided serialized value, previously "
                "obtained using DUMP.",
     .since = "2.6.0",
     .group = "generic",
     .proc = restore_command,
     .arity = -4,
     .flags = CMD_WRITE | CMD_DENYOOM,
     .acl_categories = ACL_CATEGORY_KEYSPACE | ACL_CATEGORY_WRITE |
                       ACL_CATEGORY_SLOW | ACL_CATEGORY_DANGEROUS,
     .firstkey = 1,
     .lastkey = 1,
     .keystep = 1},
    {0}};
