/* aof.c: the append-only file in Redis 7's multi-part layout: a directory
 * (appenddirname) holding one base file (an RDB, or commands), incremental
 * files of commands, and a manifest naming them in order. Commands come
 * from propagation (server_state.h) and are written before replies go
 * out; fsync follows appendfsync. BGREWRITEAOF forks a child that writes a
 * new base while the parent appends to a new incremental file. Facts about
 * the formats and messages come from Redis's aof.c; the code is ours. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/base/zmalloc.h"
#include "server/core/latency.h"
#include "server/ds/intset.h"
#include "server/ds/listpack.h"
#include "server/ds/quicklist.h"
#include "server/ds/zskiplist.h"
#include "server/persist/aof.h"
#include "server/persist/persist.h"
#include "server/persist/persist_internal.h"
#include "server/persist/rdb.h"
#include "server/persist/rdb_internal.h"
#include "server/types/t_hash.h"
#include "server/types/t_list.h"
#include "server/types/t_set.h"
#include "server/types/t_zset.h"

#define AOF_RETRY_REWRITE_S 5

/* ------------------------------------------------------------------ */
/* State                                                                */
/* ------------------------------------------------------------------ */
static struct {
  int state;
  int fd; /* the incremental file commands go to, -1 */
  sds buf;
  int selected_db;
  time_t last_ts; /* aof-timestamp-enabled annotations */
  aof_manifest *manifest;
  long long current_size; /* base + incremental files */
  long long base_size;    /* at the last rewrite or load */
  int write_ok;
  int write_errno;
  long long last_fsync_ms;
  int fsync_due; /* bytes written since the last fsync */
  /* rewrite */
  int rewrite_scheduled;
  time_t rewrite_start;
  long long last_rewrite_time_sec;
  int last_rewrite_ok;
  long long rewrites, consecutive_failures;
  size_t last_cow;
  time_t last_failed_rewrite;
  sds temp_incr; /* WAIT_REWRITE: commands go to a temp file meanwhile */
  /* background fsync (everysec) */
  pthread_t thread;
  int thread_started;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int fsync_fd;    /* a request, -1 for none */
  int fsync_busy;  /* the thread is in fdatasync */
  int fsync_errno; /* last background failure */
  long long delayed_fsync;
} aof = {.fd = -1,
         .selected_db = -1,
         .write_ok = 1,
         .last_rewrite_ok = 1,
         .last_rewrite_time_sec = -1,
         .fsync_fd = -1,
         .lock = PTHREAD_MUTEX_INITIALIZER,
         .cond = PTHREAD_COND_INITIALIZER};

int aof_state(void) { return aof.state; }
void aof_schedule_rewrite(void) { aof.rewrite_scheduled = 1; }
int aof_rewrite_is_scheduled(void) {
  return aof.rewrite_scheduled ||
         (aof.state == AOF_WAIT_REWRITE && persist_child_type() == CHILD_NONE &&
          time(NULL) - aof.last_failed_rewrite >= AOF_RETRY_REWRITE_S);
}

static sds aof_path(const char *name) {
  return sds_cat_printf(sds_empty(), "%s/%s", server.aof_dirname, name);
}

static sds base_name(long long seq) {
  return sds_cat_printf(sds_empty(), "%s.%lld.base.%s", server.appendfilename,
                        seq, server.aof_use_rdb_preamble ? "rdb" : "aof");
}

static sds incr_name(long long seq) {
  return sds_cat_printf(sds_empty(), "%s.%lld.incr.aof", server.appendfilename,
                        seq);
}

static long long file_size(const char *path) {
  struct stat st;
  long long latency = latency_monitor_start();
  int rc = stat(path, &st);
  latency_monitor_end("aof-fstat", latency);
  return rc == 0 ? (long long)st.st_size : 0;
}

static int fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd == -1) {
    return -1;
  }
  int rc = fsync(fd);
  close(fd);
  return rc;
}

/* Writes the manifest atomically (temp file, fsync, rename, dir fsync). */
static int manifest_persist(const aof_manifest *m) {
  sds text = aof_manifest_format(m);
  sds tmp = sds_cat_printf(sds_empty(), "%s/temp-%s.manifest",
                           server.aof_dirname, server.appendfilename);
  sds dst = sds_cat_printf(sds_empty(), "%s/%s.manifest", server.aof_dirname,
                           server.appendfilename);
  int ok = 0;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd != -1) {
    ssize_t n = write(fd, text, sds_len(text));
    ok = n == (ssize_t)sds_len(text) && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    ok = ok && rename(tmp, dst) == 0;
    ok = ok && fsync_dir(server.aof_dirname) == 0;
  }
  if (!ok) {
    server_log(LL_WARNING, "Can't persist the AOF manifest %s: %s", dst,
               strerror(errno));
    unlink(tmp);
  }
  sds_free(text);
  sds_free(tmp);
  sds_free(dst);
  return ok ? C_OK : C_ERR;
}

/* ------------------------------------------------------------------ */
/* Background fsync (appendfsync everysec)                              */
/* ------------------------------------------------------------------ */
static void *fsync_thread_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&aof.lock);
  for (;;) {
    while (aof.fsync_fd == -1) {
      pthread_cond_wait(&aof.cond, &aof.lock);
    }
    int fd = aof.fsync_fd;
    aof.fsync_fd = -1;
    aof.fsync_busy = 1;
    pthread_mutex_unlock(&aof.lock);
    int rc = fdatasync(fd);
    int e = rc == -1 ? errno : 0;
    pthread_mutex_lock(&aof.lock);
    aof.fsync_busy = 0;
    if (e && e != EBADF && e != EINVAL) {
      aof.fsync_errno = e;
    }
    pthread_cond_broadcast(&aof.cond);
  }
  return NULL;
}

static void fsync_in_background(int fd) {
  if (!aof.thread_started) {
    if (pthread_create(&aof.thread, NULL, fsync_thread_main, NULL) != 0) {
      fdatasync(fd);
      return;
    }
    aof.thread_started = 1;
  }
  pthread_mutex_lock(&aof.lock);
  if (aof.fsync_busy || aof.fsync_fd != -1) {
    aof.delayed_fsync++;
  }
  aof.fsync_fd = fd;
  pthread_cond_signal(&aof.cond);
  pthread_mutex_unlock(&aof.lock);
}

/* Waits until the thread holds no request (before an fd is closed). */
static void fsync_drain(void) {
  if (!aof.thread_started) {
    return;
  }
  pthread_mutex_lock(&aof.lock);
  while (aof.fsync_busy || aof.fsync_fd != -1) {
    pthread_cond_wait(&aof.cond, &aof.lock);
  }
  pthread_mutex_unlock(&aof.lock);
}

static int fsync_pending(void) {
  if (!aof.thread_started) {
    return 0;
  }
  pthread_mutex_lock(&aof.lock);
  int busy = aof.fsync_busy || aof.fsync_fd != -1;
  pthread_mutex_unlock(&aof.lock);
  return busy;
}

/* ------------------------------------------------------------------ */
/* Feeding and writing                                                  */
/* ------------------------------------------------------------------ */
/* cat_header appends "<prefix><n>\r\n" (an array or bulk header) without
 * printf: every propagated command goes through here. */
static sds cat_header(sds buf, char prefix, long long n) {
  char tmp[32];
  tmp[0] = prefix;
  int len = 1 + ll2string(tmp + 1, sizeof(tmp) - 3, n);
  tmp[len++] = '\r';
  tmp[len++] = '\n';
  return sds_cat_len(buf, tmp, (size_t)len);
}

sds persist_cat_bulk(sds buf, robj *o) {
  char tmp[32];
  const char *p;
  size_t len;
  if (sds_encoded_object(o)) {
    p = o->ptr;
    len = sds_len(o->ptr);
  } else {
    len = (size_t)ll2string(tmp, sizeof(tmp), (long)o->ptr);
    p = tmp;
  }
  buf = cat_header(buf, '$', (long long)len);
  buf = sds_cat_len(buf, p, len);
  return sds_cat_len(buf, "\r\n", 2);
}

sds persist_cat_command(sds buf, robj **argv, int argc) {
  buf = cat_header(buf, '*', argc);
  for (int j = 0; j < argc; j++) {
    buf = persist_cat_bulk(buf, argv[j]);
  }
  return buf;
}

void aof_feed(int dbid, robj **argv, int argc) {
  if (aof.state == AOF_OFF || aof.fd == -1) {
    return;
  }
  if (server.aof_timestamp_enabled) {
    time_t now = time(NULL);
    if (now != aof.last_ts) {
      aof.buf = sds_cat_printf(aof.buf, "#TS:%lld\r\n", (long long)now);
      aof.last_ts = now;
    }
  }
  if (dbid != aof.selected_db) {
    char db[24];
    int n = ll2string(db, sizeof(db), dbid);
    aof.buf =
        sds_cat_printf(aof.buf, "*2\r\n$6\r\nSELECT\r\n$%d\r\n%s\r\n", n, db);
    aof.selected_db = dbid;
  }
  aof.buf = persist_cat_command(aof.buf, argv, argc);
}

/* Writes the buffer; fsyncs per policy. Called before replies go out. */
void aof_flush(int force_fsync) {
  if (aof.fd == -1) {
    return;
  }
  if (sds_len(aof.buf) > 0) {
    size_t done = 0;
    long long write_latency = latency_monitor_start();
    while (done < sds_len(aof.buf)) {
      ssize_t n = write(aof.fd, aof.buf + done, sds_len(aof.buf) - done);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        int e = n < 0 ? errno : ENOSPC;
        if (aof.write_ok || aof.write_errno != e) {
          server_log(LL_WARNING, "Error writing to the AOF file: %s",
                     strerror(e));
        }
        aof.write_ok = 0;
        aof.write_errno = e;
        /* Keep the file whole: cut what this attempt wrote. */
        if (done > 0) {
          off_t size = lseek(aof.fd, 0, SEEK_END);
          if (size != (off_t)-1 && ftruncate(aof.fd, size - (off_t)done) == 0) {
            done = 0;
          }
        }
        if (server.aof_fsync == AOF_FSYNC_ALWAYS) {
          server_log(LL_WARNING,
                     "Can't recover from AOF write error when the AOF fsync "
                     "policy is 'always'. Exiting...");
          exit(1);
        }
        if (done > 0) {
          sds_range(aof.buf, (ssize_t)done, -1);
          aof.current_size += (long long)done;
        }
        return;
      }
      done += (size_t)n;
    }
    if (write_latency != 0) {
      latency_note_aof_write(write_latency, fsync_pending(),
                             persist_child_type() != CHILD_NONE);
    }
    aof.current_size += (long long)done;
    sds_clear(aof.buf);
    if (!aof.write_ok) {
      server_log(LL_NOTICE,
                 "AOF write error looks solved, Redoubt can write "
                 "again.");
    }
    aof.write_ok = 1;
    aof.fsync_due = 1;
  }
  if (!aof.fsync_due) {
    return;
  }
  long long now = mstime();
  if (server.aof_fsync == AOF_FSYNC_ALWAYS || force_fsync) {
    fsync_drain();
    long long fsync_latency = latency_monitor_start();
    if (fdatasync(aof.fd) == -1) {
      server_log(LL_WARNING,
                 "Can't persist AOF for fsync error when the AOF fsync policy "
                 "is 'always': %s. Exiting...",
                 strerror(errno));
      if (server.aof_fsync == AOF_FSYNC_ALWAYS) {
        exit(1);
      }
    }
    if (server.aof_fsync == AOF_FSYNC_ALWAYS) {
      latency_monitor_end("aof-fsync-always", fsync_latency);
    }
    aof.last_fsync_ms = now;
    aof.fsync_due = 0;
  } else if (server.aof_fsync == AOF_FSYNC_EVERYSEC &&
             now - aof.last_fsync_ms >= 1000) {
    fsync_in_background(aof.fd);
    aof.last_fsync_ms = now;
    aof.fsync_due = 0;
  }
}

const char *aof_write_error(void) {
  if (aof.state == AOF_OFF || aof.write_ok) {
    return NULL;
  }
  return strerror(aof.write_errno);
}

/* Writes a base file (RDB preamble or commands) to |path|. */
static int write_base_file(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd == -1) {
    server_log(LL_WARNING, "Opening the temp file for AOF rewrite %s: %s", path,
               strerror(errno));
    return C_ERR;
  }
  rio r;
  rio_init_file_writer(
      &r, fd, server.aof_rewrite_incremental_fsync ? 4 * 1024 * 1024 : 0);
  int ok = server.aof_use_rdb_preamble
               ? rdb_save_rio(&r, RDBFLAGS_AOF_PREAMBLE)
               : rdb_save_functions_as_commands(&r) && aof_rewrite_rio(&r);
  int e = r.err_no;
  rio_release(&r);
  if (!ok || fsync(fd) == -1) {
    server_log(LL_WARNING, "Error writing the AOF base file %s: %s", path,
               strerror(e ? e : errno));
    close(fd);
    unlink(path);
    return C_ERR;
  }
  close(fd);
  return C_OK;
}

/* ------------------------------------------------------------------ */
/* Loading                                                              */
/* ------------------------------------------------------------------ */
#define AOF_LOAD_OK 0
#define AOF_LOAD_EMPTY 1
#define AOF_LOAD_TRUNCATED 2
#define AOF_LOAD_FAILED 3

/* Reads one "\r\n"-terminated line into buf; 0 at the end of input. */
static int read_line(rio *r, char *buf, size_t cap, size_t *len) {
  size_t n = 0;
  for (;;) {
    char ch;
    if (!rio_read(r, &ch, 1)) {
      return 0;
    }
    if (ch == '\n') {
      break;
    }
    if (n + 1 >= cap) {
      return -1;
    }
    buf[n++] = ch;
  }
  if (n == 0 || buf[n - 1] != '\r') {
    return -1;
  }
  buf[--n] = '\0';
  *len = n;
  return 1;
}

typedef struct aof_reader {
  rio *r;
  const char *name;
  char *err;
  size_t err_len;
  size_t valid_up_to; /* offset after the last complete command */
  long long commands;
} aof_reader;

/* Parses one command: 1 with argv, 0 at a clean end of input, -1 on a
 * truncated command (input ended inside it), -2 on bad format. */
static int read_command(aof_reader *ar, robj ***out_argv, int *out_argc) {
  char line[128];
  size_t len;
  for (;;) {
    int rc = read_line(ar->r, line, sizeof(line), &len);
    if (rc == 0) {
      return ar->r->processed == ar->valid_up_to ? 0 : -1;
    }
    if (rc < 0) {
      return -2;
    }
    if (line[0] == '#') {
      ar->valid_up_to = rio_tell(ar->r); /* an annotation (#TS:...) */
      continue;
    }
    break;
  }
  long long argc;
  if (line[0] != '*' || !string2ll(line + 1, len - 1, &argc) || argc < 1 ||
      argc > 1024 * 1024) {
    return -2;
  }
  robj **argv = zcalloc(sizeof(robj *) * (size_t)argc);
  int rc = 1;
  for (long long j = 0; j < argc; j++) {
    long long blen;
    int lr = read_line(ar->r, line, sizeof(line), &len);
    if (lr == 0) {
      rc = -1;
      break;
    }
    if (lr < 0 || line[0] != '$' || !string2ll(line + 1, len - 1, &blen) ||
        blen < 0 || blen > server.proto_max_bulk_len) {
      rc = -2;
      break;
    }
    if ((size_t)blen > rio_remaining(ar->r)) {
      rc = -1;
      break;
    }
    sds s = sds_new_len_uninit((size_t)blen);
    char crlf[2];
    if (!rio_read(ar->r, s, (size_t)blen) || !rio_read(ar->r, crlf, 2)) {
      sds_free(s);
      rc = -1;
      break;
    }
    if (crlf[0] != '\r' || crlf[1] != '\n') {
      sds_free(s);
      rc = -2;
      break;
    }
    argv[j] = create_object(OBJ_STRING, s);
  }
  if (rc != 1) {
    for (long long j = 0; j < argc; j++) {
      if (argv[j]) {
        decr_ref_count(argv[j]);
      }
    }
    zfree(argv);
    return rc;
  }
  *out_argv = argv;
  *out_argc = (int)argc;
  return 1;
}

static void free_argv(robj **argv, int argc) {
  for (int j = 0; j < argc; j++) {
    decr_ref_count(argv[j]);
  }
  zfree(argv);
}

/* Runs one loaded command on the fake client and frees argv (on every
 * path). C_ERR on an unknown command or wrong arity (logged into
 * ar->err). */
static int run_loaded_command(aof_reader *ar, client *fake, robj **argv,
                              int argc) {
  if (fake == NULL) { /* --check-aof: parse only */
    free_argv(argv, argc);
    return C_OK;
  }
  redis_command *cmd = lookup_command(argv, argc);
  if (cmd == NULL) {
    snprintf(ar->err, ar->err_len,
             "Unknown command '%.64s' reading the append only file %s",
             (char *)argv[0]->ptr, ar->name);
    /* The callers drop argv on C_ERR: free it here, or it leaks
     * (aof_file_fuzz: regress-unknown-command-leak). */
    free_argv(argv, argc);
    return C_ERR;
  }
  if ((cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity) {
    snprintf(ar->err, ar->err_len,
             "Wrong number of arguments for '%.64s' reading the append only "
             "file %s",
             (char *)argv[0]->ptr, ar->name);
    free_argv(argv, argc);
    return C_ERR;
  }
  fake->argv = argv;
  fake->argc = argc;
  fake->argv_len = argc;
  fake->cmd = fake->lastcmd = fake->realcmd = cmd;
  call(fake, CMD_CALL_NONE);
  /* The command may have replaced its argv (rewrites). */
  free_argv(fake->argv, fake->argc);
  fake->argv = NULL;
  fake->argc = 0;
  fake->argv_len = 0;
  if (fake->original_argv) {
    free_argv(fake->original_argv, fake->original_argc);
    fake->original_argv = NULL;
    fake->original_argc = 0;
  }
  return C_OK;
}

typedef struct queued {
  robj **argv;
  int argc;
} queued;

/* Loads the commands of one file from |r| (after an RDB preamble, if any).
 * A MULTI block is run only when its EXEC is read, as Redis: a file that
 * ends inside a transaction is truncated before its MULTI. */
static int load_commands(aof_reader *ar, client *fake) {
  queued *q = NULL;
  int qn = 0, qcap = 0;
  int in_multi = 0;
  size_t before_multi = 0;
  int result = AOF_LOAD_OK;
  for (;;) {
    robj **argv;
    int argc;
    int rc = read_command(ar, &argv, &argc);
    if (rc == 0) {
      break;
    }
    if (rc == -1) {
      result = AOF_LOAD_TRUNCATED;
      break;
    }
    if (rc == -2) {
      snprintf(ar->err, ar->err_len,
               "Bad file format reading the append only file %s at offset "
               "%zu: make a backup of your AOF file, then use "
               "--check-aof --fix <filename.manifest>",
               ar->name, ar->valid_up_to);
      result = AOF_LOAD_FAILED;
      break;
    }
    const char *name = argv[0]->ptr;
    if (!strcasecmp(name, "multi")) {
      if (in_multi) {
        free_argv(argv, argc);
        snprintf(ar->err, ar->err_len,
                 "Nested MULTI reading the append only file %s at offset %zu",
                 ar->name, ar->valid_up_to);
        result = AOF_LOAD_FAILED;
        break;
      }
      in_multi = 1;
      before_multi = ar->valid_up_to;
      free_argv(argv, argc);
      ar->valid_up_to = rio_tell(ar->r);
      continue;
    }
    if (in_multi && strcasecmp(name, "exec") != 0) {
      if (qn == qcap) {
        qcap = qcap ? qcap * 2 : 16;
        q = zrealloc(q, sizeof(*q) * (size_t)qcap);
      }
      q[qn].argv = argv;
      q[qn].argc = argc;
      qn++;
      ar->valid_up_to = rio_tell(ar->r);
      continue;
    }
    if (in_multi) {
      free_argv(argv, argc); /* EXEC: run the block */
      for (int i = 0; i < qn; i++) {
        if (result == AOF_LOAD_OK &&
            run_loaded_command(ar, fake, q[i].argv, q[i].argc) != C_OK) {
          result = AOF_LOAD_FAILED;
        } else if (result != AOF_LOAD_OK) {
          free_argv(q[i].argv, q[i].argc);
        }
        ar->commands++;
      }
      qn = 0;
      in_multi = 0;
      ar->valid_up_to = rio_tell(ar->r);
      if (result != AOF_LOAD_OK) {
        break;
      }
      continue;
    }
    if (run_loaded_command(ar, fake, argv, argc) != C_OK) {
      result = AOF_LOAD_FAILED;
      break;
    }
    ar->commands++;
    if (fake) {
      rdb_loading_progress_tick(rio_tell(ar->r));
    }
    ar->valid_up_to = rio_tell(ar->r);
  }
  for (int i = 0; i < qn; i++) {
    free_argv(q[i].argv, q[i].argc);
  }
  zfree(q);
  if (in_multi && result == AOF_LOAD_OK) {
    /* The file ended inside MULTI: the block never happened. */
    result = AOF_LOAD_TRUNCATED;
    ar->valid_up_to = before_multi;
  } else if (in_multi && result == AOF_LOAD_TRUNCATED) {
    ar->valid_up_to = before_multi;
  }
  return result;
}

/* read_aof_stream reads one AOF file from |fd|: an RDB preamble when it
 * starts with "REDIS" (loaded, or with a NULL |fake| client only checked),
 * then commands (run on |fake|, or only parsed). Returns an AOF_LOAD_*
 * result; *valid_up_to is the offset after the last complete command. */
static int read_aof_stream(int fd, const char *path, client *fake,
                           size_t *valid_up_to, long long *commands, char *err,
                           size_t err_len) {
  rio r;
  rio_init_file_reader(&r, fd);
  aof_reader ar = {&r, path, err, err_len, 0, 0};
  char sig[5];
  int preamble = rio_read(&r, sig, 5) && memcmp(sig, "REDIS", 5) == 0;
  lseek(fd, 0, SEEK_SET);
  rio_release(&r);
  rio_init_file_reader(&r, fd);
  int result = AOF_LOAD_OK;
  if (preamble) {
    char rerr[512];
    if (fake) {
      server_log(LL_NOTICE, "Reading RDB base file on AOF loading...");
    } else {
      printf("Start to check BASE AOF (RDB format).\n");
    }
    int flags = fake ? RDBFLAGS_AOF_PREAMBLE : RDBFLAGS_CHECK_ONLY;
    if (rdb_load_rio(&r, flags, path, NULL, rerr, sizeof(rerr)) != C_OK) {
      snprintf(err, err_len, "%s %s is not valid, AOF loading aborted: %s",
               fake ? "The RDB base file" : "The RDB preamble of", path, rerr);
      result = AOF_LOAD_FAILED;
    } else if (fake) {
      server_log(LL_NOTICE, "Reading the remaining AOF tail...");
    } else {
      printf("RDB preamble is OK, proceeding with AOF tail...\n");
    }
    rio_set_update_cksum(&r, 0);
    ar.valid_up_to = rio_tell(&r);
  }
  if (result == AOF_LOAD_OK) {
    result = load_commands(&ar, fake);
  }
  *valid_up_to = ar.valid_up_to;
  *commands += ar.commands;
  rio_release(&r);
  return result;
}

/* aof_check_file parses |path| (an RDB preamble, then commands) without
 * running anything: AOF_CHECK_OK, AOF_CHECK_TRUNCATED (the input ends
 * inside a command or transaction) or AOF_CHECK_BAD; *ok_up_to is the
 * offset after the last complete command. */
int aof_check_file(const char *path, size_t *ok_up_to, long long *commands,
                   char *err, size_t err_len) {
  *ok_up_to = 0;
  *commands = 0;
  err[0] = '\0';
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd == -1) {
    snprintf(err, err_len, "Cannot open file %s: %s", path, strerror(errno));
    return AOF_CHECK_BAD;
  }
  int saved = server.rdb_checksum;
  server.rdb_checksum = 1; /* the checker always verifies the CRC */
  int result =
      read_aof_stream(fd, path, NULL, ok_up_to, commands, err, err_len);
  server.rdb_checksum = saved;
  close(fd);
  if (result == AOF_LOAD_OK || result == AOF_LOAD_EMPTY) {
    return AOF_CHECK_OK;
  }
  if (result == AOF_LOAD_TRUNCATED) {
    if (err[0] == '\0') {
      snprintf(err, err_len, "Unexpected end of file in %s at offset %zu", path,
               *ok_up_to);
    }
    return AOF_CHECK_TRUNCATED;
  }
  return AOF_CHECK_BAD;
}

/* Loads one file of the AOF. |last|: the only file allowed to be torn. */
static int load_one_file(const char *name, int last, client *fake,
                         long long *commands, char *err, size_t err_len) {
  sds path = aof_path(name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd == -1) {
    snprintf(err, err_len, "Can't open the append-only file %s: %s", path,
             strerror(errno));
    sds_free(path);
    return AOF_LOAD_FAILED;
  }
  struct stat st;
  if (fstat(fd, &st) == 0 && st.st_size == 0) {
    close(fd);
    sds_free(path);
    return AOF_LOAD_EMPTY;
  }
  size_t valid_up_to = 0;
  int result =
      read_aof_stream(fd, path, fake, &valid_up_to, commands, err, err_len);
  close(fd);
  if (result == AOF_LOAD_TRUNCATED) {
    server_log(LL_WARNING,
               "!!! Warning: short read while loading the AOF file "
               "%s!!!",
               path);
    if (!last || !server.aof_load_truncated) {
      snprintf(err, err_len,
               "Unexpected end of file reading the append only file %s at "
               "offset %zu. You can: 1) Make a backup of your AOF file, then "
               "use --check-aof --fix <filename.manifest>. 2) Alternatively "
               "you can set the 'aof-load-truncated' configuration option to "
               "yes and restart the server.",
               path, valid_up_to);
      result = AOF_LOAD_FAILED;
    } else {
      server_log(LL_WARNING, "!!! Truncating the AOF %s at offset %zu !!!",
                 path, valid_up_to);
      if (truncate(path, (off_t)valid_up_to) == -1) {
        snprintf(err, err_len, "Error truncating the AOF file %s: %s", path,
                 strerror(errno));
        result = AOF_LOAD_FAILED;
      } else {
        server_log(LL_WARNING,
                   "AOF %s loaded anyway because aof-load-truncated is "
                   "enabled",
                   path);
        result = AOF_LOAD_OK;
      }
    }
  }
  sds_free(path);
  return result;
}

static sds manifest_path(void) {
  return sds_cat_printf(sds_empty(), "%s/%s.manifest", server.aof_dirname,
                        server.appendfilename);
}

/* Redis 7.0's upgrade of an old single-file appendonly.aof in `dir`: it
 * moves into appenddirname as the base. */
static int upgrade_old_aof(void) {
  struct stat st;
  if (stat(server.appendfilename, &st) != 0) {
    return C_OK;
  }
  server_log(LL_NOTICE,
             "Creating AOF directory %s and upgrading the old AOF "
             "file %s",
             server.aof_dirname, server.appendfilename);
  if (mkdir(server.aof_dirname, 0755) == -1 && errno != EEXIST) {
    server_log(LL_WARNING, "Can't create the AOF directory %s: %s",
               server.aof_dirname, strerror(errno));
    return C_ERR;
  }
  aof_manifest *m = aof_manifest_new();
  aof_manifest_add(m, server.appendfilename, 1, AOF_FILE_BASE);
  sds dst = aof_path(server.appendfilename);
  if (rename(server.appendfilename, dst) == -1) {
    server_log(LL_WARNING, "Error moving the old AOF file %s into %s: %s",
               server.appendfilename, dst, strerror(errno));
    sds_free(dst);
    aof_manifest_free(m);
    return C_ERR;
  }
  sds_free(dst);
  if (manifest_persist(m) != C_OK) {
    aof_manifest_free(m);
    return C_ERR;
  }
  aof_manifest_free(m);
  server_log(LL_NOTICE,
             "Successfully migrated an old-style AOF into the AOF "
             "directory");
  return C_OK;
}

static int open_incr(const char *name, int create) {
  sds path = aof_path(name);
  int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | (create ? O_CREAT : 0),
                0644);
  if (fd == -1) {
    server_log(LL_WARNING, "Can't open the append-only file %s: %s", path,
               strerror(errno));
  }
  sds_free(path);
  return fd;
}

static long long manifest_total_size(const aof_manifest *m) {
  long long total = 0;
  for (int i = 0; i < m->count; i++) {
    if (m->files[i].type != AOF_FILE_HISTORY) {
      sds p = aof_path(m->files[i].name);
      total += file_size(p);
      sds_free(p);
    }
  }
  return total;
}

static void delete_history(aof_manifest *m) {
  if (server.aof_disable_auto_gc) {
    return;
  }
  int kept = 0;
  for (int i = 0; i < m->count; i++) {
    aof_file *f = &m->files[i];
    if (f->type == AOF_FILE_HISTORY) {
      sds p = aof_path(f->name);
      server_log(LL_NOTICE, "Removing the history file %s in the background",
                 f->name);
      unlink(p);
      sds_free(p);
      sds_free(f->name);
      continue;
    }
    m->files[kept++] = *f;
  }
  if (kept != m->count) {
    m->count = kept;
    manifest_persist(m);
  }
}

int aof_load_at_startup(void) {
  if (aof.state == AOF_OFF) {
    return C_OK;
  }
  long long start = ustime();
  char err[1024] = "";
  sds mpath = manifest_path();
  struct stat st;
  if (stat(mpath, &st) != 0 && upgrade_old_aof() != C_OK) {
    sds_free(mpath);
    return C_ERR;
  }
  aof_manifest *m = aof_manifest_load_file(mpath, err, sizeof(err));
  sds_free(mpath);
  if (m == NULL && err[0]) {
    server_log(LL_WARNING, "Fatal error loading the AOF manifest: %s", err);
    return C_ERR;
  }
  if (m == NULL) {
    m = aof_manifest_new();
  }
  long long commands = 0;
  int loaded_any = 0;
  const aof_file *base = aof_manifest_base(m);
  int incr_total = aof_manifest_incr_count(m);
  int files_to_load = (base ? 1 : 0) + incr_total;
  int idx = 0;
  client *fake = create_client(NULL);
  fake->flags |= CLIENT_PREVENT_AOF_PROP;
  int prev_loading = server.loading;
  server.loading = 1;
  int rc = C_OK;
  for (int pass = 0; pass < 2 && rc == C_OK; pass++) {
    for (int i = 0; i < m->count && rc == C_OK; i++) {
      aof_file *f = &m->files[i];
      if ((pass == 0 && f->type != AOF_FILE_BASE) ||
          (pass == 1 && f->type != AOF_FILE_INCR)) {
        continue;
      }
      idx++;
      int r = load_one_file(f->name, idx == files_to_load, fake, &commands, err,
                            sizeof(err));
      if (r == AOF_LOAD_FAILED) {
        server_log(LL_WARNING, "%s", err);
        rc = C_ERR;
      } else if (r != AOF_LOAD_EMPTY) {
        loaded_any = 1;
        server_log(LL_NOTICE, "DB loaded from %s file %s",
                   f->type == AOF_FILE_BASE ? "base" : "incr", f->name);
      }
    }
  }
  server.loading = prev_loading;
  free_client(fake);
  if (rc != C_OK) {
    aof_manifest_free(m);
    return C_ERR;
  }
  if (loaded_any) {
    server_log(LL_NOTICE,
               "DB loaded from append only file: %.3f seconds (%lld commands)",
               (double)(ustime() - start) / 1000000, commands);
  }
  /* Open for appending: a base when there is none (Redis 7.0 creates one on
   * start), the last incremental file or a new one. */
  if (mkdir(server.aof_dirname, 0755) == -1 && errno != EEXIST) {
    server_log(LL_WARNING, "Can't create the AOF directory %s: %s",
               server.aof_dirname, strerror(errno));
    aof_manifest_free(m);
    return C_ERR;
  }
  int dirty = 0;
  if (aof_manifest_base(m) == NULL && aof_manifest_incr_count(m) == 0) {
    sds name = base_name(m->base_seq + 1);
    sds path = aof_path(name);
    if (write_base_file(path) != C_OK) {
      sds_free(name);
      sds_free(path);
      aof_manifest_free(m);
      return C_ERR;
    }
    server_log(LL_NOTICE, "Creating AOF base file %s on server start", name);
    aof_manifest_add(m, name, m->base_seq + 1, AOF_FILE_BASE);
    sds_free(name);
    sds_free(path);
    dirty = 1;
  }
  const aof_file *last = aof_manifest_last_incr(m);
  if (last) {
    aof.fd = open_incr(last->name, 0);
  } else {
    sds name = incr_name(m->incr_seq + 1);
    aof.fd = open_incr(name, 1);
    if (aof.fd != -1) {
      server_log(LL_NOTICE, "Creating AOF incr file %s on server start", name);
      aof_manifest_add(m, name, m->incr_seq + 1, AOF_FILE_INCR);
      dirty = 1;
    }
    sds_free(name);
  }
  if (aof.fd == -1 || (dirty && manifest_persist(m) != C_OK)) {
    aof_manifest_free(m);
    return C_ERR;
  }
  aof.manifest = m;
  aof.current_size = aof.base_size = manifest_total_size(m);
  aof.selected_db = -1;
  return C_OK;
}

/* ------------------------------------------------------------------ */
/* Rewrites                                                             */
/* ------------------------------------------------------------------ */
static sds rewrite_temp_name(pid_t pid) {
  return sds_cat_printf(sds_empty(), "%s/temp-rewriteaof-bg-%d.aof",
                        server.aof_dirname, (int)pid);
}

static int rewrite_child_fn(void *arg) {
  (void)arg;
  sds tmp = rewrite_temp_name(getpid());
  int rc = write_base_file(tmp);
  if (rc == C_OK) {
    server_log(LL_NOTICE,
               "Successfully created the temporary AOF base file "
               "%s",
               tmp);
  }
  sds_free(tmp);
  return rc;
}

int aof_start_rewrite(void) {
  if (persist_child_type() != CHILD_NONE) {
    return C_ERR;
  }
  aof.rewrite_scheduled = 0;
  if (mkdir(server.aof_dirname, 0755) == -1 && errno != EEXIST) {
    server_log(LL_WARNING, "Can't create the AOF directory %s: %s",
               server.aof_dirname, strerror(errno));
    return C_ERR;
  }
  if (aof.manifest == NULL) {
    char err[512] = "";
    sds mpath = manifest_path();
    aof.manifest = aof_manifest_load_file(mpath, err, sizeof(err));
    sds_free(mpath);
    if (aof.manifest == NULL) {
      aof.manifest = aof_manifest_new();
    }
  }
  /* What comes after the fork goes to a new incremental file. */
  aof_flush(1);
  if (aof.state == AOF_ON) {
    sds name = incr_name(aof.manifest->incr_seq + 1);
    int fd = open_incr(name, 1);
    if (fd == -1) {
      sds_free(name);
      return C_ERR;
    }
    aof_manifest *m = aof_manifest_dup(aof.manifest);
    aof_manifest_add(m, name, m->incr_seq + 1, AOF_FILE_INCR);
    if (manifest_persist(m) != C_OK) {
      close(fd);
      sds p = aof_path(name);
      unlink(p);
      sds_free(p);
      sds_free(name);
      aof_manifest_free(m);
      return C_ERR;
    }
    fsync_drain();
    close(aof.fd);
    aof.fd = fd;
    aof.selected_db = -1;
    aof_manifest_free(aof.manifest);
    aof.manifest = m;
    server_log(LL_NOTICE, "Creating AOF incr file %s on background rewrite",
               name);
    sds_free(name);
  } else if (aof.state == AOF_WAIT_REWRITE && aof.fd == -1) {
    aof.temp_incr =
        sds_cat_printf(sds_empty(), "temp-%s.incr", server.appendfilename);
    aof.fd = open_incr(aof.temp_incr, 1);
    if (aof.fd == -1 || ftruncate(aof.fd, 0) == -1) {
      return C_ERR;
    }
    aof.selected_db = -1;
  }
  pid_t pid = persist_fork_child(CHILD_AOF, rewrite_child_fn, NULL);
  if (pid == -1) {
    aof.last_rewrite_ok = 0;
    aof.last_failed_rewrite = time(NULL);
    return C_ERR;
  }
  aof.rewrite_start = time(NULL);
  server_log(LL_NOTICE,
             "Background append only file rewriting started by pid "
             "%d",
             (int)pid);
  return C_OK;
}

void aof_rewrite_done(int status, size_t cow) {
  pid_t pid = persist_child_pid_last();
  sds tmp = rewrite_temp_name(pid);
  aof.last_rewrite_time_sec = (long long)(time(NULL) - aof.rewrite_start);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (WIFSIGNALED(status) && WTERMSIG(status) != SIGUSR1) {
      server_log(LL_WARNING, "Background AOF rewrite terminated by signal %d",
                 WTERMSIG(status));
    } else {
      server_log(LL_WARNING, "Background AOF rewrite terminated with error");
    }
    unlink(tmp);
    sds_free(tmp);
    aof.last_rewrite_ok = 0;
    aof.consecutive_failures++;
    aof.last_failed_rewrite = time(NULL);
    return;
  }
  aof_manifest *m = aof_manifest_dup(aof.manifest);
  long long seq = m->base_seq + 1;
  sds bname = base_name(seq);
  sds bpath = aof_path(bname);
  long long rename_latency = latency_monitor_start();
  if (rename(tmp, bpath) == -1) {
    server_log(LL_WARNING,
               "Error trying to rename the temporary AOF base file "
               "%s into %s: %s",
               tmp, bpath, strerror(errno));
    unlink(tmp);
    goto fail;
  }
  latency_monitor_end("aof-rename", rename_latency);
  server_log(LL_NOTICE,
             "Successfully renamed the temporary AOF base file %s "
             "into %s",
             tmp, bname);
  /* The old base and every incremental file but the current one become
   * history. */
  const aof_file *cur = aof.state == AOF_ON ? aof_manifest_last_incr(m) : NULL;
  long long cur_seq = cur ? cur->seq : -1;
  for (int i = 0; i < m->count; i++) {
    aof_file *f = &m->files[i];
    if (f->type == AOF_FILE_BASE ||
        (f->type == AOF_FILE_INCR && f->seq != cur_seq)) {
      f->type = AOF_FILE_HISTORY;
    }
  }
  aof_manifest_add(m, bname, seq, AOF_FILE_BASE);
  if (aof.state == AOF_WAIT_REWRITE) {
    /* The commands written meanwhile become the first incremental file. */
    aof_flush(1);
    sds iname = incr_name(m->incr_seq + 1);
    sds ipath = aof_path(iname);
    sds tpath = aof_path(aof.temp_incr);
    rename_latency = latency_monitor_start();
    if (rename(tpath, ipath) == -1) {
      server_log(LL_WARNING,
                 "Error renaming the temporary incr AOF file %s "
                 "into %s: %s",
                 tpath, ipath, strerror(errno));
      sds_free(iname);
      sds_free(ipath);
      sds_free(tpath);
      unlink(bpath);
      goto fail;
    }
    latency_monitor_end("aof-rename", rename_latency);
    aof_manifest_add(m, iname, m->incr_seq + 1, AOF_FILE_INCR);
    sds_free(iname);
    sds_free(ipath);
    sds_free(tpath);
  }
  if (manifest_persist(m) != C_OK) {
    goto fail;
  }
  if (aof.state == AOF_WAIT_REWRITE) {
    sds_free(aof.temp_incr);
    aof.temp_incr = NULL;
    aof.state = AOF_ON;
    server_log(LL_NOTICE, "Background AOF rewrite finished successfully");
  }
  aof_manifest_free(aof.manifest);
  aof.manifest = m;
  delete_history(m);
  aof.current_size = aof.base_size = manifest_total_size(m);
  aof.last_rewrite_ok = 1;
  aof.consecutive_failures = 0;
  aof.rewrites++;
  aof.last_cow = cow;
  server_log(LL_NOTICE, "Background AOF rewrite terminated with success");
  sds_free(bname);
  sds_free(bpath);
  sds_free(tmp);
  return;
fail:
  aof_manifest_free(m);
  sds_free(bname);
  sds_free(bpath);
  sds_free(tmp);
  aof.last_rewrite_ok = 0;
  aof.consecutive_failures++;
  aof.last_failed_rewrite = time(NULL);
}

void aof_cron(void) {
  if (aof.state == AOF_OFF) {
    return;
  }
  /* A write that failed is retried every cron run (Redis does the same). */
  if (!aof.write_ok) {
    aof_flush(0);
  }
  /* everysec: fsync what was written in the last second even when no new
   * command comes. */
  if (aof.fd != -1 && aof.fsync_due && sds_len(aof.buf) == 0 &&
      server.aof_fsync == AOF_FSYNC_EVERYSEC &&
      mstime() - aof.last_fsync_ms >= 1000) {
    fsync_in_background(aof.fd);
    aof.last_fsync_ms = mstime();
    aof.fsync_due = 0;
  }
  pthread_mutex_lock(&aof.lock);
  int e = aof.fsync_errno;
  aof.fsync_errno = 0;
  pthread_mutex_unlock(&aof.lock);
  if (e) {
    server_log(LL_WARNING, "Error syncing the AOF file to disk (fdatasync): %s",
               strerror(e));
    aof.write_ok = 0;
    aof.write_errno = e;
    aof.fsync_due = 1;
  }
  /* Automatic rewrite (auto-aof-rewrite-percentage / -min-size). */
  if (aof.state == AOF_ON && persist_child_type() == CHILD_NONE &&
      server.aof_rewrite_perc > 0 &&
      aof.current_size > server.aof_rewrite_min_size) {
    long long base = aof.base_size ? aof.base_size : 1;
    long long growth = (aof.current_size * 100 / base) - 100;
    if (growth >= server.aof_rewrite_perc) {
      server_log(LL_NOTICE,
                 "Starting automatic rewriting of AOF on %lld%% "
                 "growth",
                 growth);
      aof_start_rewrite();
    }
  }
}

/* Kills a rewrite child and removes its temporary base file. */
static void kill_rewrite_child(void) {
  if (persist_child_type() != CHILD_AOF) {
    return;
  }
  server_log(LL_WARNING, "There is a child rewriting the AOF. Killing it!");
  pid_t pid = persist_child_pid();
  persist_kill_child();
  sds tmp = rewrite_temp_name(pid);
  unlink(tmp);
  sds_free(tmp);
}

void aof_prepare_for_shutdown(void) {
  kill_rewrite_child();
  if (aof.fd != -1) {
    server_log(LL_NOTICE, "Calling fsync() on the AOF file.");
    aof_flush(1);
  }
}

/* ------------------------------------------------------------------ */
/* Turning the AOF on and off at runtime (CONFIG SET appendonly)        */
/* ------------------------------------------------------------------ */
static void aof_stop(void) {
  aof_flush(1);
  fsync_drain();
  kill_rewrite_child();
  if (aof.fd != -1) {
    close(aof.fd);
    aof.fd = -1;
  }
  if (aof.temp_incr) {
    sds p = aof_path(aof.temp_incr);
    unlink(p);
    sds_free(p);
    sds_free(aof.temp_incr);
    aof.temp_incr = NULL;
  }
  aof.state = AOF_OFF;
  aof.rewrite_scheduled = 0;
  server_log(LL_NOTICE,
             "Background append only file rewriting stopped "
             "(appendonly no)");
}

int aof_apply_appendonly(const char **err) {
  if (server.appendonly && aof.state == AOF_OFF) {
    aof.state = AOF_WAIT_REWRITE;
    aof.last_failed_rewrite = 0;
    if (persist_child_type() != CHILD_NONE) {
      aof.rewrite_scheduled = 1;
      server_log(LL_NOTICE,
                 "AOF was enabled but there is already another "
                 "background operation. An AOF background was "
                 "scheduled to start when possible.");
      return 1;
    }
    if (aof_start_rewrite() != C_OK) {
      aof.state = AOF_OFF;
      *err = "Unable to turn on AOF. Check server logs.";
      return 0;
    }
    server_log(LL_NOTICE, "AOF enabled: rewriting the dataset as its base");
  } else if (!server.appendonly && aof.state != AOF_OFF) {
    aof_stop();
  }
  return 1;
}

void aof_init(void) {
  aof.buf = sds_empty();
  aof.state = server.appendonly ? AOF_ON : AOF_OFF;
  aof.last_fsync_ms = mstime();
  propagate_add_target(aof_feed, PROPAGATE_AOF);
}

/* ------------------------------------------------------------------ */
/* INFO                                                                 */
/* ------------------------------------------------------------------ */
sds aof_info(sds info) {
  int child = persist_child_type() == CHILD_AOF;
  info = sds_cat_printf(
      info,
      "aof_enabled:%d\r\n"
      "aof_rewrite_in_progress:%d\r\n"
      "aof_rewrite_scheduled:%d\r\n"
      "aof_last_rewrite_time_sec:%lld\r\n"
      "aof_current_rewrite_time_sec:%lld\r\n"
      "aof_last_bgrewrite_status:%s\r\n"
      "aof_rewrites:%lld\r\n"
      "aof_rewrites_consecutive_failures:%lld\r\n"
      "aof_last_write_status:%s\r\n"
      "aof_last_cow_size:%zu\r\n"
      "module_fork_in_progress:0\r\n"
      "module_fork_last_cow_size:0\r\n",
      aof.state != AOF_OFF, child, aof.rewrite_scheduled,
      aof.last_rewrite_time_sec,
      child ? (long long)(time(NULL) - aof.rewrite_start) : -1LL,
      aof.last_rewrite_ok ? "ok" : "err", aof.rewrites,
      aof.consecutive_failures, aof.write_ok ? "ok" : "err", aof.last_cow);
  if (aof.state != AOF_OFF) {
    info =
        sds_cat_printf(info,
                       "aof_current_size:%lld\r\n"
                       "aof_base_size:%lld\r\n"
                       "aof_pending_rewrite:%d\r\n"
                       "aof_buffer_length:%zu\r\n"
                       "aof_pending_bio_fsync:%d\r\n"
                       "aof_delayed_fsync:%lld\r\n",
                       aof.current_size, aof.base_size, aof.rewrite_scheduled,
                       sds_len(aof.buf), fsync_pending(), aof.delayed_fsync);
  }
  return info;
}
