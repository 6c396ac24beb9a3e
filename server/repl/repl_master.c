/* repl_master.c: replication, master side (see repl.h). Protocol facts
 * (PSYNC replies, REPLCONF options, the $EOF: framing, backlog offsets,
 * INFO fields) follow Redis 7.0's replication.c; the code is ours. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/base/zmalloc.h"
#include "server/config/config.h"
#include "server/core/networking.h"
#include "server/persist/persist.h"
#include "server/persist/rdb.h"
#include "server/persist/rio.h"
#include "server/repl/repl.h"
#include "server/repl/repl_internal.h"
#include "server/types/blocked.h"

#define RDB_EOF_MARK_SIZE 40
#define REPL_PIPE_CHUNK (64 * 1024)
/* An RDB transfer pauses while a replica has more than this much output
 * pending, and resumes below a quarter of it: the RDB never piles up in
 * a replica's output buffer. */
#define REPL_TRANSFER_HIGH_WATER (4 * 1024 * 1024)

#define REPLICA_WAIT_BGSAVE_START 1 /* waits for a transfer to start */
#define REPLICA_WAIT_BGSAVE_END 2   /* receives the RDB */
#define REPLICA_ONLINE 3            /* receives the command stream */
/* The RDB went out; the stream waits for the replica's first REPLCONF ACK
 * (sent once it loaded the RDB): a diskless replica reads past the EOF
 * mark otherwise, as Redis 7.0 knows (repl_start_cmd_stream_on_ack). */
#define REPLICA_WAIT_FIRST_ACK 4

typedef struct replica {
  client *c;
  int state;
  int listening_port;
  char announced_ip[64];
  int capa_eof, capa_psync2;
  int old_sync; /* SYNC (pre-PSYNC): no +FULLRESYNC line */
  long long ack_offset;
  time_t ack_time;
  time_t wait_since;
  sds pending; /* the stream written while the RDB goes out */
  int in_transfer;
} replica;

static int getack_pending; /* WAIT: send REPLCONF GETACK * before sleeping */
static void waiters_check(void);

static struct {
  char replid[CONFIG_RUN_ID_SIZE + 1];
  char replid2[CONFIG_RUN_ID_SIZE + 1]; /* the previous history (PSYNC2) */
  long long second_offset;              /* replid2 is valid up to it, -1 */
  long long offset;                     /* master_repl_offset */
  /* The backlog: a ring of the last repl-backlog-size bytes. */
  char *backlog;
  size_t backlog_size, backlog_idx, histlen;
  int seldb; /* db of the last SELECT in the stream, -1: none yet */
  list *replicas;
  time_t last_ping;
  /* The transfer in progress */
  int pipe_fd; /* read end, -1 */
  int paused;
  int pipe_eof;
  int child_done, child_ok;
  char eofmark[RDB_EOF_MARK_SIZE + 1];
  /* Disk-based transfer (repl-diskless-sync no, or a replica without
   * capa eof): the child saves dbfilename, then it is sent "$<len>"
   * framed from this fd, pumped before sleeping. */
  int disk_mode;
  int disk_fd;
} rs = {.seldb = -1,
        .pipe_fd = -1,
        .disk_fd = -1,
        .second_offset = -1,
        .replid2 = "0000000000000000000000000000000000000000"};

/* ------------------------------------------------------------------ */
/* Backlog                                                              */
/* ------------------------------------------------------------------ */
static void backlog_create(void) {
  rs.backlog_size = server.repl_backlog_size > 0
                        ? (size_t)server.repl_backlog_size
                        : 1024 * 1024;
  rs.backlog = zmalloc(rs.backlog_size);
  rs.backlog_idx = 0;
  rs.histlen = 0;
}

/* When the repl-backlog-ttl clock started: the last cron run that saw a
 * replica attached, this server a replica, or no backlog (0: not yet). */
static time_t backlog_idle_since;

/* backlog_free: repl-backlog-ttl ran out with no replica attached. As
 * Redis, a new replication ID and none kept as the second: without a
 * backlog the offset stops following the writes, so no replica may
 * continue either history (it gets a full resync). */
static void backlog_free(void) {
  zfree(rs.backlog);
  rs.backlog = NULL;
  rs.backlog_size = 0;
  rs.backlog_idx = 0;
  rs.histlen = 0;
  repl_master_new_id();
  memset(rs.replid2, '0', CONFIG_RUN_ID_SIZE);
  rs.replid2[CONFIG_RUN_ID_SIZE] = '\0';
  rs.second_offset = -1;
}

/* backlog_ttl_cron frees the backlog of a master that has had no replica
 * for more than repl-backlog-ttl seconds (0: never). A replica keeps its
 * backlog whatever the TTL: it may be promoted and its siblings then
 * continue from it. */
static void backlog_ttl_cron(time_t now) {
  if (rs.backlog == NULL || server.replica_mode ||
      (rs.replicas != NULL && list_length(rs.replicas) > 0) ||
      backlog_idle_since == 0) {
    backlog_idle_since = now;
    return;
  }
  if (server.repl_backlog_ttl == 0 ||
      now - backlog_idle_since <= server.repl_backlog_ttl) {
    return;
  }
  backlog_free();
  server_log(LL_NOTICE,
             "Replication backlog freed after %d seconds without connected "
             "replicas.",
             (int)server.repl_backlog_ttl);
}

static void backlog_append(const char *p, size_t len) {
  rs.offset += (long long)len;
  server.master_repl_offset = rs.offset;
  if (rs.backlog == NULL) {
    return;
  }
  while (len > 0) {
    size_t room = rs.backlog_size - rs.backlog_idx;
    size_t n = len < room ? len : room;
    memcpy(rs.backlog + rs.backlog_idx, p, n);
    rs.backlog_idx = (rs.backlog_idx + n) % rs.backlog_size;
    p += n;
    len -= n;
    rs.histlen += n;
  }
  if (rs.histlen > rs.backlog_size) {
    rs.histlen = rs.backlog_size;
  }
}

/* The offset of the backlog's first byte (Redis numbers bytes from 1). */
static long long backlog_first_offset(void) {
  return rs.offset - (long long)rs.histlen + 1;
}

/* Sends the backlog from |from| (the replica's next wanted byte). */
static void backlog_send_from(client *c, long long from) {
  size_t skip = (size_t)(from - backlog_first_offset());
  size_t len = rs.histlen - skip;
  size_t start =
      (rs.backlog_idx + rs.backlog_size - rs.histlen + skip) % rs.backlog_size;
  while (len > 0) {
    size_t n = rs.backlog_size - start;
    if (n > len) {
      n = len;
    }
    add_reply_proto(c, rs.backlog + start, n);
    start = (start + n) % rs.backlog_size;
    len -= n;
  }
}

/* ------------------------------------------------------------------ */
/* Replicas                                                             */
/* ------------------------------------------------------------------ */
static replica *replica_of(client *c) {
  if (c->repl == NULL) {
    replica *r = zcalloc(sizeof(*r));
    r->c = c;
    c->repl = r;
  }
  return c->repl;
}

static void replica_free(client *c) {
  replica *r = c->repl;
  if (r == NULL) {
    return;
  }
  if (rs.replicas) {
    list_node *ln = list_search_key(rs.replicas, r);
    if (ln) {
      list_del_node(rs.replicas, ln);
    }
  }
  if (r->pending) {
    sds_free(r->pending);
  }
  zfree(r);
  c->repl = NULL;
}

static const client_module_hooks repl_client_hooks = {.on_free = replica_free};

/* The peer's address without its port ("ip:port", "[v6]:port"). */
static const char *client_peer_ip(client *c) {
  static char ip[64];
  const char *id = client_peer_id(c);
  const char *colon = strrchr(id, ':');
  size_t n = colon ? (size_t)(colon - id) : strlen(id);
  if (n >= 2 && id[0] == '[' && id[n - 1] == ']') {
    id++;
    n -= 2;
  }
  snprintf(ip, sizeof(ip), "%.*s", (int)n, id);
  return ip;
}

static size_t client_pending_output(client *c) {
  return c->bufpos + (size_t)c->reply_bytes;
}

/* ------------------------------------------------------------------ */
/* The stream                                                           */
/* ------------------------------------------------------------------ */
static void feed_replicas(const char *p, size_t len) {
  backlog_append(p, len);
  if (rs.replicas == NULL) {
    return;
  }
  list_iter li;
  list_node *ln;
  list_rewind(rs.replicas, &li);
  while ((ln = list_next(&li)) != NULL) {
    replica *r = list_node_value(ln);
    if (r->state == REPLICA_ONLINE) {
      add_reply_proto(r->c, p, len);
    } else if (r->state == REPLICA_WAIT_BGSAVE_END ||
               r->state == REPLICA_WAIT_FIRST_ACK) {
      r->pending = sds_cat_len(r->pending, p, len);
    }
  }
}

/* The propagation target: the command as the AOF gets it. */
static void repl_feed(int dbid, robj **argv, int argc) {
  if (server.replica_mode) {
    return; /* a replica relays its master's bytes instead */
  }
  if (rs.backlog == NULL &&
      (rs.replicas == NULL || list_length(rs.replicas) == 0)) {
    return;
  }
  /* One buffer for every command, kept while small: propagation is on the
   * path of every write. */
  static sds buf;
  if (buf == NULL) {
    buf = sds_empty();
  }
  sds_clear(buf);
  if (dbid >= 0 && dbid != rs.seldb) {
    char num[24];
    int n = ll2string(num, sizeof(num), dbid);
    char len[8];
    int l = ll2string(len, sizeof(len), n);
    buf = sds_cat_len(buf, "*2\r\n$6\r\nSELECT\r\n$", 17);
    buf = sds_cat_len(buf, len, (size_t)l);
    buf = sds_cat_len(buf, "\r\n", 2);
    buf = sds_cat_len(buf, num, (size_t)n);
    buf = sds_cat_len(buf, "\r\n", 2);
    rs.seldb = dbid;
  }
  buf = persist_cat_command(buf, argv, argc);
  feed_replicas(buf, sds_len(buf));
  if (sds_alloc(buf) > 64 * 1024) {
    sds_free(buf);
    buf = NULL;
  }
}

/* ------------------------------------------------------------------ */
/* Full resync: an RDB through a pipe from the fork child               */
/* ------------------------------------------------------------------ */
typedef struct transfer_job {
  int fd;
  rdb_save_info rsi;
} transfer_job;

static transfer_job job;

static int transfer_child(void *arg) {
  transfer_job *j = arg;
  rio r;
  rio_init_file_writer(&r, j->fd, 0);
  int ok = rdb_save_rio_info(&r, RDBFLAGS_NONE, &j->rsi);
  rio_release(&r);
  close(j->fd);
  if (!ok) {
    server_log(LL_WARNING, "Diskless RDB transfer to replicas failed");
  }
  return ok ? C_OK : C_ERR;
}

static void transfer_finish(void) {
  list_iter li;
  list_node *ln;
  list_rewind(rs.replicas, &li);
  while ((ln = list_next(&li)) != NULL) {
    replica *r = list_node_value(ln);
    if (!r->in_transfer) {
      continue;
    }
    r->in_transfer = 0;
    if (!rs.child_ok) {
      server_log(LL_WARNING,
                 "Full sync to replica %s failed: "
                 "closing the link",
                 client_peer_id(r->c));
      free_client_async(r->c);
      continue;
    }
    if (rs.disk_mode) {
      if (server.rdb_del_sync_files && config_save_params_count() == 0 &&
          !server.appendonly) {
        server_log(LL_NOTICE,
                   "Removing the RDB file used to feed replicas in "
                   "a persistence-less instance");
        unlink(server.rdb_filename);
      }
      /* A sized transfer: the stream can follow at once (Redis). */
      if (r->pending && sds_len(r->pending)) {
        add_reply_proto(r->c, r->pending, sds_len(r->pending));
      }
      sds_free(r->pending);
      r->pending = NULL;
      r->state = REPLICA_ONLINE;
      r->ack_time = time(NULL);
      server_log(LL_NOTICE, "Synchronization with replica %s succeeded",
                 client_peer_id(r->c));
      continue;
    }
    add_reply_proto(r->c, rs.eofmark, RDB_EOF_MARK_SIZE);
    r->state = REPLICA_WAIT_FIRST_ACK;
    r->ack_time = time(NULL);
    server_log(LL_NOTICE,
               "Streamed RDB transfer with replica %s succeeded "
               "(socket). Waiting for REPLCONF ACK from replica "
               "to enable streaming",
               client_peer_id(r->c));
  }
  rs.child_done = 0;
  rs.pipe_eof = 0;
}

static void pipe_read_handler(ae_loop *loop, int fd, void *data, int mask);

static void pipe_close(void) {
  if (rs.pipe_fd != -1) {
    ae_delete_file_event(server.el, rs.pipe_fd, AE_READABLE);
    close(rs.pipe_fd);
    rs.pipe_fd = -1;
  }
  rs.paused = 0;
}

static void transfer_child_done(int ok) {
  rs.child_done = 1;
  rs.child_ok = ok;
  if (rs.disk_mode) {
    rs.disk_fd = ok ? open(server.rdb_filename, O_RDONLY | O_CLOEXEC) : -1;
    struct stat st;
    if (rs.disk_fd == -1 || fstat(rs.disk_fd, &st) == -1) {
      rs.child_ok = 0;
      if (rs.disk_fd != -1) {
        close(rs.disk_fd);
        rs.disk_fd = -1;
      }
      rs.child_done = 0;
      transfer_finish();
      return;
    }
    char line[48];
    int len = snprintf(line, sizeof(line), "$%lld\r\n", (long long)st.st_size);
    list_iter li;
    list_node *ln;
    list_rewind(rs.replicas, &li);
    while ((ln = list_next(&li)) != NULL) {
      replica *r = list_node_value(ln);
      if (r->in_transfer) {
        add_reply_proto(r->c, line, (size_t)len);
      }
    }
    server_log(LL_NOTICE, "Background RDB transfer started (disk, %lld bytes)",
               (long long)st.st_size);
    return; /* repl_before_sleep pumps the file */
  }
  if (rs.pipe_eof || !ok) {
    pipe_close();
    transfer_finish();
  }
}

static int transfer_targets_backlogged(void) {
  list_iter li;
  list_node *ln;
  list_rewind(rs.replicas, &li);
  while ((ln = list_next(&li)) != NULL) {
    replica *r = list_node_value(ln);
    if (r->in_transfer &&
        client_pending_output(r->c) > REPL_TRANSFER_HIGH_WATER) {
      return 1;
    }
  }
  return 0;
}

static void pipe_read_handler(ae_loop *loop, int fd, void *data, int mask) {
  (void)loop;
  (void)data;
  (void)mask;
  char buf[REPL_PIPE_CHUNK];
  ssize_t n = read(fd, buf, sizeof(buf));
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
    return;
  }
  if (n <= 0) {
    rs.pipe_eof = 1;
    pipe_close();
    if (rs.child_done) {
      transfer_finish();
    } else {
      /* The child wrote the whole RDB and is exiting: its status decides
       * the end mark now, not at the next cron run (transfer_child_done
       * finishes the transfer). */
      persist_reap_child_now(20000);
    }
    return;
  }
  list_iter li;
  list_node *ln;
  list_rewind(rs.replicas, &li);
  while ((ln = list_next(&li)) != NULL) {
    replica *r = list_node_value(ln);
    if (r->in_transfer) {
      add_reply_proto(r->c, buf, (size_t)n);
    }
  }
  if (transfer_targets_backlogged()) {
    ae_delete_file_event(server.el, rs.pipe_fd, AE_READABLE);
    rs.paused = 1;
  }
}

void repl_before_sleep(void) {
  repl_replica_proxy_flush();
  if (getack_pending) {
    /* WAIT: ask every replica where it is (part of the stream, as Redis). */
    getack_pending = 0;
    robj *argv[3] = {create_string_object("REPLCONF", 8),
                     create_string_object("GETACK", 6),
                     create_string_object("*", 1)};
    sds buf = persist_cat_command(sds_empty(), argv, 3);
    for (int j = 0; j < 3; j++) {
      decr_ref_count(argv[j]);
    }
    feed_replicas(buf, sds_len(buf));
    sds_free(buf);
  }
  if (rs.disk_fd != -1 && !transfer_targets_backlogged()) {
    char buf[REPL_PIPE_CHUNK];
    ssize_t n = read(rs.disk_fd, buf, sizeof(buf));
    if (n > 0) {
      list_iter li;
      list_node *ln;
      list_rewind(rs.replicas, &li);
      while ((ln = list_next(&li)) != NULL) {
        replica *r = list_node_value(ln);
        if (r->in_transfer) {
          add_reply_proto(r->c, buf, (size_t)n);
        }
      }
      ae_set_dont_wait(server.el, 1); /* more to pump */
    } else {
      close(rs.disk_fd);
      rs.disk_fd = -1;
      rs.child_ok = n == 0 && rs.child_ok;
      rs.child_done = 0;
      transfer_finish();
    }
  }
  if (rs.pipe_fd == -1 || !rs.paused) {
    return;
  }
  list_iter li;
  list_node *ln;
  list_rewind(rs.replicas, &li);
  while ((ln = list_next(&li)) != NULL) {
    replica *r = list_node_value(ln);
    if (r->in_transfer &&
        client_pending_output(r->c) > REPL_TRANSFER_HIGH_WATER / 4) {
      return;
    }
  }
  rs.paused = 0;
  ae_add_file_event(server.el, rs.pipe_fd, AE_READABLE, pipe_read_handler,
                    NULL);
}

/* Starts a transfer to every replica waiting for one. */
/* start_waiting_replicas: every replica waiting for a transfer gets
 * +FULLRESYNC (and, diskless, the $EOF: header) and is now in it. Returns
 * how many. */
static int start_waiting_replicas(long long offset, int diskless) {
  int n = 0;
  list_iter li;
  list_node *ln;
  list_rewind(rs.replicas, &li);
  while ((ln = list_next(&li)) != NULL) {
    replica *r = list_node_value(ln);
    if (r->state != REPLICA_WAIT_BGSAVE_START) {
      continue;
    }
    char line[128];
    int len;
    if (!r->old_sync) {
      len = snprintf(line, sizeof(line), "+FULLRESYNC %s %lld\r\n", rs.replid,
                     offset);
      add_reply_proto(r->c, line, (size_t)len);
    }
    if (diskless) {
      len = snprintf(line, sizeof(line), "$EOF:%s\r\n", rs.eofmark);
      add_reply_proto(r->c, line, (size_t)len);
    }
    r->state = REPLICA_WAIT_BGSAVE_END;
    r->in_transfer = 1;
    r->pending = sds_empty();
    n++;
  }
  return n;
}

static int disk_child(void *arg) {
  (void)arg;
  char err[512] = "";
  if (rdb_save_file(server.rdb_filename, err, sizeof(err)) != C_OK) {
    server_log(LL_WARNING, "%s", err);
    return C_ERR;
  }
  return C_OK;
}

static int transfer_start(void) {
  if (persist_child_active() || rs.pipe_fd != -1 || rs.disk_fd != -1 ||
      rs.child_done) {
    return C_ERR;
  }
  /* Diskless when configured and every waiting replica reads $EOF:. */
  rs.disk_mode = !server.repl_diskless_sync;
  list_iter wi;
  list_node *wn;
  list_rewind(rs.replicas, &wi);
  while ((wn = list_next(&wi)) != NULL) {
    replica *r = list_node_value(wn);
    if (r->state == REPLICA_WAIT_BGSAVE_START && !r->capa_eof) {
      rs.disk_mode = 1;
    }
  }
  if (rs.disk_mode) {
    if (persist_fork_repl_child(disk_child, NULL, -1, transfer_child_done) ==
        -1) {
      return C_ERR;
    }
    rs.child_done = 0;
    rs.seldb = -1;
    int n = start_waiting_replicas(rs.offset, 0);
    server_log(LL_NOTICE,
               "Starting BGSAVE for SYNC with target: disk (%d "
               "replica%s)",
               n, n == 1 ? "" : "s");
    return C_OK;
  }
  int p[2];
  if (pipe2(p, O_CLOEXEC) == -1) {
    server_log(LL_WARNING, "Can't start a full sync: pipe: %s",
               strerror(errno));
    return C_ERR;
  }
  job.fd = p[1];
  job.rsi.repl_stream_db = server.replica_mode ? repl_replica_stream_db()
                           : rs.seldb == -1    ? 0
                                               : rs.seldb;
  job.rsi.repl_id = rs.replid;
  job.rsi.repl_offset = rs.offset;
  get_random_hex_chars(rs.eofmark, RDB_EOF_MARK_SIZE);
  rs.eofmark[RDB_EOF_MARK_SIZE] = '\0';
  if (persist_fork_repl_child(transfer_child, &job, p[1],
                              transfer_child_done) == -1) {
    close(p[0]);
    close(p[1]);
    return C_ERR;
  }
  close(p[1]);
  fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
  rs.pipe_fd = p[0];
  rs.pipe_eof = 0;
  rs.child_done = 0;
  rs.paused = 0;
  ae_add_file_event(server.el, rs.pipe_fd, AE_READABLE, pipe_read_handler,
                    NULL);
  /* After the RDB the stream starts with a SELECT, whatever db it is. */
  rs.seldb = -1;
  int n = start_waiting_replicas(job.rsi.repl_offset, 1);
  server_log(LL_NOTICE,
             "Starting BGSAVE for SYNC with target: replicas "
             "sockets (%d replica%s)",
             n, n == 1 ? "" : "s");
  return C_OK;
}

/* ------------------------------------------------------------------ */
/* Commands                                                             */
/* ------------------------------------------------------------------ */
static void replconf_command(client *c) {
  if ((c->argc % 2) == 0) {
    add_reply_error_object(c, shared.syntaxerr);
    return;
  }
  replica *r = replica_of(c);
  for (int j = 1; j < c->argc; j += 2) {
    const char *opt = c->argv[j]->ptr;
    const char *val = c->argv[j + 1]->ptr;
    if (!strcasecmp(opt, "listening-port")) {
      long port;
      if (get_long_from_object_or_reply(c, c->argv[j + 1], &port, NULL) !=
          C_OK) {
        return;
      }
      r->listening_port = (int)port;
    } else if (!strcasecmp(opt, "ip-address")) {
      snprintf(r->announced_ip, sizeof(r->announced_ip), "%s", val);
    } else if (!strcasecmp(opt, "capa")) {
      if (!strcasecmp(val, "eof")) {
        r->capa_eof = 1;
      } else if (!strcasecmp(val, "psync2")) {
        r->capa_psync2 = 1;
      }
    } else if (!strcasecmp(opt, "ack")) {
      /* REPLCONF ACK <offset> [FACK <offset>]: no reply, as Redis. */
      long long off;
      if (!(c->flags & CLIENT_SLAVE) ||
          get_long_long_from_object(c->argv[j + 1], &off) != C_OK) {
        return;
      }
      if (off > r->ack_offset) {
        r->ack_offset = off;
      }
      r->ack_time = time(NULL);
      waiters_check();
      if (r->state == REPLICA_WAIT_FIRST_ACK) {
        if (r->pending && sds_len(r->pending)) {
          add_reply_proto(c, r->pending, sds_len(r->pending));
        }
        sds_free(r->pending);
        r->pending = NULL;
        r->state = REPLICA_ONLINE;
        server_log(LL_NOTICE, "Synchronization with replica %s succeeded",
                   client_peer_id(c));
      }
      return;
    } else if (!strcasecmp(opt, "getack")) {
      if (c->flags & CLIENT_MASTER) {
        repl_replica_send_ack(); /* our master asks where we are */
        return;
      }
    } else if (!strcasecmp(opt, "rdb-only") ||
               !strcasecmp(opt, "rdb-filter-only")) {
      /* Accepted; GETACK matters only on a replica. */
    } else {
      add_reply_error_format(c, "Unrecognized REPLCONF option: %s", opt);
      return;
    }
  }
  add_reply(c, shared.ok);
}

static void make_replica(client *c, replica *r) {
  c->flags |= CLIENT_SLAVE;
  if (rs.replicas == NULL) {
    rs.replicas = list_create();
  }
  list_add_node_tail(rs.replicas, r);
  r->ack_time = time(NULL);
}

static void psync_command(client *c) {
  if (c->flags & CLIENT_SLAVE) {
    return; /* a second PSYNC on a replica link is ignored, as Redis */
  }
  /* PSYNC <replid> <offset> FAILOVER: our master hands over to us (its
   * FAILOVER); promoted, we answer its PSYNC as any other. */
  if (c->argc > 3 && !strcasecmp(c->argv[3]->ptr, "failover")) {
    if (repl_failover_take_over(c) != C_OK) {
      return;
    }
    if (rs.backlog == NULL) {
      backlog_create(); /* empty, from our offset: it can continue */
    }
  }
  if (repl_failover_active()) {
    add_reply_error(c, "-NOMASTERLINK Can't SYNC while failing over");
    return;
  }
  if (c->flags & CLIENT_MULTI) {
    add_reply_error(c, "Command not allowed inside a transaction");
    return;
  }
  replica *r = replica_of(c);
  const char *replid = c->argv[1]->ptr;
  long long want;
  if (get_long_long_from_object(c->argv[2], &want) != C_OK) {
    want = -1;
  }
  /* Partial resync: our replication ID (or the previous one up to where
   * it ended, PSYNC2), and every byte from |want| on still in the
   * backlog. */
  int known = !strcasecmp(replid, rs.replid) ||
              (!strcasecmp(replid, rs.replid2) && want <= rs.second_offset);
  if (rs.backlog && known && want >= backlog_first_offset() &&
      want <= rs.offset + 1) {
    make_replica(c, r);
    char line[96];
    int len = r->capa_psync2
                  ? snprintf(line, sizeof(line), "+CONTINUE %s\r\n", rs.replid)
                  : snprintf(line, sizeof(line), "+CONTINUE\r\n");
    add_reply_proto(c, line, (size_t)len);
    backlog_send_from(c, want);
    server.stat_sync_partial_ok++;
    r->state = REPLICA_ONLINE;
    server_log(LL_NOTICE,
               "Partial resynchronization request from %s accepted. Sending "
               "%lld bytes of backlog starting from offset %lld.",
               client_peer_id(c), rs.offset + 1 - want, want);
    return;
  }
  if (strcmp(replid, "?") != 0) {
    server.stat_sync_partial_err++; /* asked to continue, could not */
  }
  server.stat_sync_full++;
  if (rs.backlog == NULL) {
    backlog_create();
  }
  make_replica(c, r);
  r->state = REPLICA_WAIT_BGSAVE_START;
  r->wait_since = time(NULL);
  server_log(LL_NOTICE,
             "Replica %s asks for synchronization; full resync "
             "requested (replid %s, offset %lld)",
             client_peer_id(c), replid, want);
  if (server.repl_diskless_sync_delay == 0) {
    transfer_start(); /* otherwise cron starts it after the delay */
  }
}

static int good_replicas(void) {
  int good = 0;
  time_t now = time(NULL);
  if (rs.replicas) {
    list_iter li;
    list_node *ln;
    list_rewind(rs.replicas, &li);
    while ((ln = list_next(&li)) != NULL) {
      replica *r = list_node_value(ln);
      good += r->state == REPLICA_ONLINE &&
              now - r->ack_time <= server.repl_min_slaves_max_lag;
    }
  }
  return good;
}

int repl_enough_good_replicas(void) {
  if (server.repl_min_slaves_to_write <= 0 ||
      server.repl_min_slaves_max_lag <= 0 || server.replica_mode) {
    return 1;
  }
  return good_replicas() >= server.repl_min_slaves_to_write;
}

/* ------------------------------------------------------------------ */
/* WAIT                                                                 */
/* ------------------------------------------------------------------ */
typedef struct waiter {
  client *c;
  long long offset; /* every replica acking this much counts */
  long numreplicas;
} waiter;

static list *waiters;

static int replicas_acked(long long offset) {
  int n = 0;
  if (rs.replicas) {
    list_iter li;
    list_node *ln;
    list_rewind(rs.replicas, &li);
    while ((ln = list_next(&li)) != NULL) {
      replica *r = list_node_value(ln);
      n += r->state == REPLICA_ONLINE && r->ack_offset >= offset;
    }
  }
  return n;
}

static void waiter_free(void *privdata) {
  waiter *w = privdata;
  if (waiters) {
    list_node *ln = list_search_key(waiters, w);
    if (ln) {
      list_del_node(waiters, ln);
    }
  }
  zfree(w);
}

static void wait_timeout_reply(client *c, void *privdata) {
  waiter *w = privdata;
  add_reply_long_long(c, replicas_acked(w->offset));
}

/* Answers the WAITs whose replicas caught up (after an ACK). */
static void waiters_check(void) {
  if (waiters == NULL || list_length(waiters) == 0) {
    return;
  }
  list_iter li;
  list_node *ln;
  list_rewind(waiters, &li);
  while ((ln = list_next(&li)) != NULL) {
    waiter *w = list_node_value(ln);
    int acked = replicas_acked(w->offset);
    if (acked >= w->numreplicas) {
      add_reply_long_long(w->c, acked);
      blocking_unblock_answered(w->c); /* frees w through waiter_free */
    }
  }
}

static void wait_command(client *c) {
  if (server.replica_mode) {
    add_reply_error(c,
                    "WAIT cannot be used with replica instances. Please "
                    "also note that since Redis 4.0 if a replica is "
                    "configured to be writable (which is not the "
                    "default) writes to replicas are just local and are "
                    "not propagated.");
    return;
  }
  long numreplicas;
  long long deadline; /* absolute, 0: none */
  if (get_long_from_object_or_reply(c, c->argv[1], &numreplicas, NULL) !=
          C_OK ||
      blocking_get_timeout_ms_or_reply(c, c->argv[2], &deadline) != C_OK) {
    return;
  }
  /* Only this client's own writes count, as Redis (c->woff). */
  long long offset = c->woff;
  int acked = replicas_acked(offset);
  if (acked >= numreplicas || (c->flags & CLIENT_MULTI) ||
      blocking_is_denied(c)) {
    add_reply_long_long(c, acked);
    return;
  }
  waiter *w = zmalloc(sizeof(*w));
  w->c = c;
  w->offset = offset;
  w->numreplicas = numreplicas;
  if (waiters == NULL) {
    waiters = list_create();
  }
  list_add_node_tail(waiters, w);
  block_for_event(c, deadline, wait_timeout_reply, w, waiter_free);
  getack_pending = 1;
}

static int replicas_lagging(void) {
  int lagging = 0;
  if (rs.replicas) {
    list_iter li;
    list_node *ln;
    list_rewind(rs.replicas, &li);
    while ((ln = list_next(&li)) != NULL) {
      replica *r = list_node_value(ln);
      lagging += r->state == REPLICA_ONLINE && r->ack_offset < rs.offset;
    }
  }
  return lagging;
}

void repl_shutdown_wait(int flags) {
  if ((flags & SHUTDOWN_NOW) || server.shutdown_timeout <= 0 ||
      server.replica_mode || !replicas_lagging()) {
    return;
  }
  server_log(LL_NOTICE, "Waiting for replicas before shutting down.");
  long long deadline = mstime() + (long long)server.shutdown_timeout * 1000;
  pause_clients(deadline, 1); /* no write may widen the gap meanwhile */
  getack_pending = 1;
  repl_before_sleep(); /* the GETACK goes into the stream now */
  while (replicas_lagging() && mstime() < deadline) {
    process_events_while_blocked();
    usleep(1000);
  }
  list_iter li;
  list_node *ln;
  list_rewind(rs.replicas, &li);
  while ((ln = list_next(&li)) != NULL) {
    replica *r = list_node_value(ln);
    if (r->state == REPLICA_ONLINE && r->ack_offset < rs.offset) {
      server_log(LL_WARNING,
                 "Lagging replica %s reported offset %lld behind master, "
                 "lag=%lld, state=online.",
                 client_peer_id(r->c), rs.offset - r->ack_offset,
                 (long long)(time(NULL) - r->ack_time));
    }
  }
  unpause_clients();
}

/* SYNC: the pre-2.8 full synchronization (and redis-cli --rdb): the RDB,
 * then the stream, without a +FULLRESYNC line. */
static void sync_command(client *c) {
  if (c->flags & CLIENT_SLAVE) {
    return;
  }
  if (repl_failover_active()) {
    add_reply_error(c, "-NOMASTERLINK Can't SYNC while failing over");
    return;
  }
  if (c->flags & CLIENT_MULTI) {
    add_reply_error(c, "Command not allowed inside a transaction");
    return;
  }
  replica *r = replica_of(c);
  r->old_sync = 1;
  server.stat_sync_full++;
  if (rs.backlog == NULL) {
    backlog_create();
  }
  make_replica(c, r);
  r->state = REPLICA_WAIT_BGSAVE_START;
  r->wait_since = time(NULL);
  server_log(LL_NOTICE, "Replica %s asks for synchronization (SYNC)",
             client_peer_id(c));
  if (server.repl_diskless_sync_delay == 0) {
    transfer_start();
  }
}

int repl_master_replica_view(int i, replica_view *out) {
  list_node *ln = rs.replicas ? list_index(rs.replicas, i) : NULL;
  if (ln == NULL) {
    return 0;
  }
  replica *r = list_node_value(ln);
  snprintf(out->ip, sizeof(out->ip), "%s",
           r->announced_ip[0] ? r->announced_ip : client_peer_ip(r->c));
  out->port = r->listening_port;
  out->ack_offset = r->ack_offset;
  out->online =
      r->state == REPLICA_ONLINE || r->state == REPLICA_WAIT_FIRST_ACK;
  return 1;
}

static void role_command(client *c) {
  if (server.replica_mode) {
    repl_replica_role(c);
    return;
  }
  int n = rs.replicas ? (int)list_length(rs.replicas) : 0;
  add_reply_array_len(c, 3);
  add_reply_bulk_cbuffer(c, "master", 6);
  add_reply_long_long(c, rs.offset);
  void *len = add_reply_deferred_len(c);
  int online = 0;
  list_iter li;
  list_node *ln;
  if (n) {
    list_rewind(rs.replicas, &li);
    while ((ln = list_next(&li)) != NULL) {
      replica *r = list_node_value(ln);
      if (r->state != REPLICA_ONLINE) {
        continue;
      }
      const char *ip =
          r->announced_ip[0] ? r->announced_ip : client_peer_ip(r->c);
      add_reply_array_len(c, 3);
      add_reply_bulk_cbuffer(c, ip, strlen(ip));
      add_reply_bulk_long_long(c, r->listening_port);
      add_reply_bulk_long_long(c, r->ack_offset);
      online++;
    }
  }
  set_deferred_array_len(c, len, online);
}

/* ------------------------------------------------------------------ */
/* Cron, INFO, init                                                     */
/* ------------------------------------------------------------------ */
void repl_cron(void) {
  repl_failover_cron();
  repl_replica_cron();
  time_t now = time(NULL);
  backlog_ttl_cron(now);
  if (rs.replicas == NULL || list_length(rs.replicas) == 0) {
    return;
  }
  /* Keep links alive: PING in the stream (a replica relays its master's
   * PINGs instead), a newline before a transfer. */
  if (!server.replica_mode &&
      now - rs.last_ping >= server.repl_ping_replica_period &&
      !repl_failover_holds_pings()) {
    rs.last_ping = now;
    robj *ping = shared.ping;
    sds buf = persist_cat_command(sds_empty(), &ping, 1);
    feed_replicas(buf, sds_len(buf));
    sds_free(buf);
  }
  list_iter li;
  list_node *ln;
  time_t oldest_wait = 0;
  list_rewind(rs.replicas, &li);
  while ((ln = list_next(&li)) != NULL) {
    replica *r = list_node_value(ln);
    if (r->state == REPLICA_WAIT_BGSAVE_START) {
      add_reply_proto(r->c, "\n", 1);
      if (oldest_wait == 0 || r->wait_since < oldest_wait) {
        oldest_wait = r->wait_since;
      }
    } else if ((r->state == REPLICA_ONLINE ||
                r->state == REPLICA_WAIT_FIRST_ACK) &&
               now - r->ack_time > server.repl_timeout) {
      server_log(LL_WARNING,
                 "Disconnecting timedout replica (streaming "
                 "sync): %s",
                 client_peer_id(r->c));
      free_client_async(r->c);
    }
  }
  /* The delay gathers replicas for one diskless transfer; a disk-based one
   * starts at once, as Redis. */
  if (oldest_wait && (!server.repl_diskless_sync ||
                      now - oldest_wait >= server.repl_diskless_sync_delay)) {
    transfer_start();
  }
}

sds repl_info(sds info) {
  int n = rs.replicas ? (int)list_length(rs.replicas) : 0;
  if (server.replica_mode) {
    info = repl_replica_info(info);
    info = sds_cat_printf(info, "connected_slaves:%d\r\n", n);
  } else {
    info = sds_cat_printf(info, "role:master\r\nconnected_slaves:%d\r\n", n);
  }
  if (server.repl_min_slaves_to_write > 0 &&
      server.repl_min_slaves_max_lag > 0) {
    info =
        sds_cat_printf(info, "min_slaves_good_slaves:%d\r\n", good_replicas());
  }
  if (n) {
    int i = 0;
    list_iter li;
    list_node *ln;
    list_rewind(rs.replicas, &li);
    time_t now = time(NULL);
    while ((ln = list_next(&li)) != NULL) {
      replica *r = list_node_value(ln);
      /* As Redis 7.0 shows a diskless sync: wait_bgsave until the RDB is
       * out, online from then on (the stream waits for the first ACK). */
      const char *state =
          r->state == REPLICA_ONLINE || r->state == REPLICA_WAIT_FIRST_ACK
              ? "online"
              : "wait_bgsave";
      const char *ip =
          r->announced_ip[0] ? r->announced_ip : client_peer_ip(r->c);
      info = sds_cat_printf(
          info, "slave%d:ip=%s,port=%d,state=%s,offset=%lld,lag=%lld\r\n", i++,
          ip, r->listening_port, state, r->ack_offset,
          (long long)(now - r->ack_time));
    }
  }
  return sds_cat_printf(
      info,
      "master_failover_state:%s\r\n"
      "master_replid:%s\r\n"
      "master_replid2:%s\r\n"
      "master_repl_offset:%lld\r\n"
      "second_repl_offset:%lld\r\n"
      "repl_backlog_active:%d\r\n"
      "repl_backlog_size:%lld\r\n"
      "repl_backlog_first_byte_offset:%lld\r\n"
      "repl_backlog_histlen:%zu\r\n",
      repl_failover_state_name(), rs.replid, rs.replid2,
      /* On a replica, where it is in its master's stream (what monitoring
       * compares with the master's own offset), as Redis shows it. */
      server.replica_mode ? repl_replica_offset() : rs.offset, rs.second_offset,
      rs.backlog != NULL, server.repl_backlog_size,
      rs.backlog ? backlog_first_offset() : 0LL, rs.histlen);
}

void repl_master_set_id(const char *replid, long long offset) {
  snprintf(rs.replid, sizeof(rs.replid), "%s", replid);
  rs.offset = offset;
  server.master_repl_offset = offset;
  /* The backlog restarts at this offset: older bytes belong to another
   * history. A replica has one from its first sync on, as Redis: promoted,
   * it lets the other replicas continue. */
  rs.histlen = 0;
  rs.backlog_idx = 0;
  rs.seldb = -1;
  if (rs.backlog == NULL) {
    backlog_create();
  }
}

void repl_master_feed_raw(const char *p, size_t len) { feed_replicas(p, len); }

const char *repl_master_id(void) { return rs.replid; }

int repl_debug_command(client *c) {
  if (c->argc != 2 || strcasecmp(c->argv[1]->ptr, "change-repl-id") != 0) {
    return 0;
  }
  /* As Redis: a new ID and no second one, so no replica continues either
   * history (the next sync is a full one). */
  server_log(LL_WARNING,
             "Changing replication IDs after receiving DEBUG change-repl-id");
  repl_master_new_id();
  memset(rs.replid2, '0', CONFIG_RUN_ID_SIZE);
  rs.replid2[CONFIG_RUN_ID_SIZE] = '\0';
  rs.second_offset = -1;
  add_reply(c, shared.ok);
  return 1;
}

void repl_master_adopt_id(const char *replid) {
  memcpy(rs.replid2, rs.replid, sizeof(rs.replid2));
  rs.second_offset = rs.offset + 1;
  snprintf(rs.replid, sizeof(rs.replid), "%s", replid);
}

void repl_master_shift_id(void) {
  memcpy(rs.replid2, rs.replid, sizeof(rs.replid2));
  rs.second_offset = rs.offset + 1;
  repl_master_new_id();
  rs.seldb = -1; /* our own stream starts with a SELECT */
  server_log(LL_NOTICE,
             "Setting secondary replication ID to %s, valid up to offset: "
             "%lld. New replication ID is %s",
             rs.replid2, rs.second_offset, rs.replid);
}

void repl_master_new_id(void) {
  get_random_hex_chars(rs.replid, CONFIG_RUN_ID_SIZE);
  rs.replid[CONFIG_RUN_ID_SIZE] = '\0';
}

void repl_master_drop_replicas(void) {
  if (rs.replicas == NULL) {
    return;
  }
  list_iter li;
  list_node *ln;
  list_rewind(rs.replicas, &li);
  while ((ln = list_next(&li)) != NULL) {
    replica *r = list_node_value(ln);
    free_client_async(r->c);
  }
}

/* The replication aux fields of RDB files this server saves. */
static int repl_save_info(rdb_save_info *rsi) {
  static char id[CONFIG_RUN_ID_SIZE + 1];
  if (server.replica_mode) {
    long long off;
    int db;
    if (!repl_replica_save_info(id, &off, &db)) {
      return 0;
    }
    rsi->repl_id = id;
    rsi->repl_offset = off;
    rsi->repl_stream_db = db;
    return 1;
  }
  if (rs.backlog == NULL) {
    return 0;
  }
  memcpy(id, rs.replid, sizeof(id));
  rsi->repl_id = id;
  rsi->repl_offset = rs.offset;
  rsi->repl_stream_db = rs.seldb == -1 ? 0 : rs.seldb;
  return 1;
}

/* The history an RDB carried at start-up: a replica resumes it with its
 * master. A master continues at that offset under a new ID, the loaded
 * one becoming the second ID, valid up to the offset (as Redis 7.0): its
 * replicas continue from an empty backlog there, but a replica further
 * along the old history (the RDB is older than what it got) holds writes
 * this master lost, and must not continue once the offset passes it. */
static void repl_loaded_history(const char *replid, long long offset, int db) {
  if (server.replica_mode) {
    repl_replica_set_cache(replid, offset, db);
    return;
  }
  repl_master_set_id(replid, offset);
  if (rs.backlog == NULL) {
    backlog_create();
  }
  memcpy(rs.replid2, rs.replid, sizeof(rs.replid2));
  rs.second_offset = offset + 1;
  repl_master_new_id();
}

void repl_init(void) {
  rdb_set_save_info_provider(repl_save_info);
  persist_set_loaded_repl_hook(repl_loaded_history);
  get_random_hex_chars(rs.replid, CONFIG_RUN_ID_SIZE);
  rs.replid[CONFIG_RUN_ID_SIZE] = '\0';
  propagate_add_target(repl_feed, PROPAGATE_REPL);
  client_register_hooks(&repl_client_hooks);
  repl_replica_init();
}

redis_command repl_commands[] = {
    {.declared_name = "replconf",
     .summary = "An internal command for configuring the replication stream",
     .since = "3.0.0",
     .group = "server",
     .proc = replconf_command,
     .arity = -1,
     .flags =
         CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_ALLOW_BUSY,
     .acl_categories =
         ACL_CATEGORY_ADMIN | ACL_CATEGORY_SLOW | ACL_CATEGORY_DANGEROUS},
    {.declared_name = "psync",
     .summary = "Internal command used for replication",
     .since = "2.8.0",
     .group = "server",
     .proc = psync_command,
     .arity = -3,
     .flags = CMD_NO_ASYNC_LOADING | CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_MULTI,
     .acl_categories =
         ACL_CATEGORY_ADMIN | ACL_CATEGORY_SLOW | ACL_CATEGORY_DANGEROUS},
    {.declared_name = "wait",
     .summary = "Wait for the synchronous replication of all the write "
                "commands sent in the context of the current connection",
     .since = "3.0.0",
     .group = "generic",
     .proc = wait_command,
     .arity = 3,
     .flags = CMD_NOSCRIPT,
     .acl_categories = ACL_CATEGORY_SLOW | ACL_CATEGORY_CONNECTION},
    {.declared_name = "sync",
     .summary = "Internal command used for replication",
     .since = "1.0.0",
     .group = "server",
     .proc = sync_command,
     .arity = 1,
     .flags = CMD_NO_ASYNC_LOADING | CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_MULTI,
     .acl_categories =
         ACL_CATEGORY_ADMIN | ACL_CATEGORY_SLOW | ACL_CATEGORY_DANGEROUS},
    {.declared_name = "failover",
     .summary = "Start a coordinated failover between this server and one "
                "of its replicas.",
     .since = "6.2.0",
     .group = "server",
     .proc = repl_failover_command,
     .arity = -1,
     .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_STALE,
     .acl_categories =
         ACL_CATEGORY_ADMIN | ACL_CATEGORY_SLOW | ACL_CATEGORY_DANGEROUS},
    {.declared_name = "role",
     .summary = "Return the role of the instance in the context of "
                "replication",
     .since = "2.8.12",
     .group = "server",
     .proc = role_command,
     .arity = 1,
     .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST,
     .acl_categories =
         ACL_CATEGORY_ADMIN | ACL_CATEGORY_FAST | ACL_CATEGORY_DANGEROUS},
    {0}};
