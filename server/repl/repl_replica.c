/* repl_replica.c: replication, replica side, over TCP: `replicaof` (config
 * and REPLICAOF / SLAVEOF), the handshake (PING, AUTH with masterauth /
 * masteruser, REPLCONF listening-port and capa eof psync2, PSYNC), a full
 * sync (the RDB, $EOF:-framed or sized, written to a temporary file,
 * then the dataset replaced by it) or a partial one (+CONTINUE), then the
 * master's command stream applied by a master client, REPLCONF ACK every
 * second, read-only and stale-data rules, REPLICAOF NO ONE. Protocol facts
 * follow Redis 7.0's replication.c; the code is ours.
 *
 * With tls-replication the link is a TLS connection (tls_client_connect):
 * main runs the client handshake, a sandboxed handshaker makes the one
 * signature with the client key. Every read and write of the link goes
 * through the connection vtable, TCP or TLS alike.
 *
 * repl-diskless-load on-empty-db / swapdb: the RDB is parsed straight from
 * the link (blocking reads bounded by repl-timeout, clients answered
 * -LOADING meanwhile); swapdb keeps the old dataset aside and puts it back
 * if the transfer fails. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/base/zmalloc.h"
#include "server/config/config.h"
#include "server/core/networking.h"
#include "server/persist/aof.h"
#include "server/persist/persist.h"
#include "server/persist/rdb.h"
#include "server/repl/repl.h"
#include "server/repl/repl_internal.h"
#include "tls/tls.h"

#define RDB_EOF_MARK_SIZE 40
#define HANDSHAKE_TIMEOUT_MS 5000

#define LINK_NONE 0       /* not a replica */
#define LINK_CONNECT 1    /* must connect */
#define LINK_CONNECTING 2 /* non-blocking connect in progress */
#define LINK_TRANSFER 3   /* receiving the RDB */
#define LINK_CONNECTED 4  /* the master client applies the stream */
#define LINK_HANDSHAKE 5  /* PING ... PSYNC */

static struct {
  char *host;
  int port;
  int state;
  int fd;           /* while the TCP connect is in progress */
  connection *conn; /* the link, once connected (TCP or TLS) */
  time_t last_io;
  time_t connect_start;
  /* transfer */
  int tmp_fd;
  char tmpfile[96];
  int usemark;
  char eofmark[RDB_EOF_MARK_SIZE];
  char lastbytes[RDB_EOF_MARK_SIZE];
  long long size; /* $<len> transfers */
  long long read;
  int header_done;
  int loading_from_link; /* diskless load in progress: cron keeps off */
  sds header;
  char master_replid[CONFIG_RUN_ID_SIZE + 1];
  long long master_offset; /* offset of the stream at the RDB */
  /* the link */
  client *master;
  sds proxy;                /* master bytes read, not yet relayed */
  long long proxied_offset; /* master offset relayed so far */
  long long master_base;    /* master offset when the client was created */
  unsigned long long master_bytes_base;
  /* a cached history for PSYNC after a drop */
  int have_cache;
  char cache_replid[CONFIG_RUN_ID_SIZE + 1];
  long long cache_offset;
  int cache_db;           /* the db the master's stream had selected */
  time_t link_down_since; /* for INFO */
} rr = {.fd = -1, .tmp_fd = -1};

/* ------------------------------------------------------------------ */
/* Offsets                                                              */
/* ------------------------------------------------------------------ */
/* The master offset applied so far: bytes read on the link minus what
 * still waits in the query buffer (Redis's reploff). */
static long long master_processed_offset(void) {
  client *c = rr.master;
  if (c == NULL) {
    return rr.cache_offset;
  }
  long long unprocessed =
      c->querybuf ? (long long)(sds_len(c->querybuf) - c->qb_pos) : 0;
  return rr.master_base +
         (long long)(c->net_input_bytes - rr.master_bytes_base) - unprocessed;
}

long long repl_replica_offset(void) { return master_processed_offset(); }

int repl_replica_stream_db(void) {
  return rr.master && rr.master->db ? rr.master->db->id : rr.cache_db;
}

/* Every byte read from the master (networking's read hook). */
static void master_read(client *c, const char *buf, size_t len) {
  if (c == rr.master) {
    rr.proxy = sds_cat_len(rr.proxy ? rr.proxy : sds_empty(), buf, len);
  }
}

void repl_replica_proxy_flush(void) {
  if (rr.master == NULL || rr.proxy == NULL) {
    return;
  }
  long long applied = master_processed_offset();
  long long n = applied - rr.proxied_offset;
  if (n <= 0) {
    return;
  }
  if ((size_t)n > sds_len(rr.proxy)) {
    n = (long long)sds_len(rr.proxy); /* cannot happen: bytes come first */
  }
  repl_master_feed_raw(rr.proxy, (size_t)n);
  sds_range(rr.proxy, (ssize_t)n, -1);
  rr.proxied_offset += n;
}

void repl_replica_send_ack(void) {
  if (rr.master == NULL || rr.master->conn == NULL) {
    return;
  }
  char off[32];
  int n = ll2string(off, sizeof(off), master_processed_offset());
  char buf[96];
  int len =
      snprintf(buf, sizeof(buf),
               "*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$%d\r\n%s\r\n", n, off);
  ssize_t w = conn_write(rr.master->conn, buf, (size_t)len);
  (void)w; /* a full socket skips this ACK; the next one comes in 1 s */
}

/* ------------------------------------------------------------------ */
/* Link lifecycle                                                       */
/* ------------------------------------------------------------------ */
static void transfer_abort(void) {
  if (rr.tmp_fd != -1) {
    close(rr.tmp_fd);
    rr.tmp_fd = -1;
    unlink(rr.tmpfile);
  }
  if (rr.header) {
    sds_free(rr.header);
    rr.header = NULL;
  }
}

static void link_close_fd(void) {
  if (rr.fd != -1) {
    ae_delete_file_event(server.el, rr.fd, AE_READABLE | AE_WRITABLE);
    close(rr.fd);
    rr.fd = -1;
  }
  if (rr.conn != NULL) {
    conn_close(rr.conn);
    rr.conn = NULL;
  }
}

/* Back to LINK_CONNECT (cron retries), keeping the data. */
static void link_reset(const char *why) {
  if (why) {
    server_log(LL_WARNING, "MASTER <-> REPLICA link: %s", why);
  }
  transfer_abort();
  link_close_fd();
  if (rr.master) {
    client *m = rr.master;
    repl_replica_proxy_flush();
    rr.cache_offset = master_processed_offset();
    rr.cache_db = m->db ? m->db->id : 0;
    rr.have_cache = 1;
    rr.link_down_since = time(NULL);
    rr.master = NULL;
    free_client_async(m);
  }
  if (server.repl_link_up || rr.link_down_since == 0) {
    rr.link_down_since = time(NULL);
  }
  server.repl_link_up = 0;
  rr.state = rr.host ? LINK_CONNECT : LINK_NONE;
}

static void master_client_freed(client *c) {
  if (c == rr.master) {
    repl_replica_proxy_flush(); /* what was applied still goes on */
    if (rr.proxy) {
      sds_free(rr.proxy);
      rr.proxy = NULL;
    }
    rr.cache_offset = master_processed_offset();
    rr.cache_db = c->db ? c->db->id : 0;
    rr.have_cache = 1;
    rr.link_down_since = time(NULL);
    rr.master = NULL;
    server.repl_link_up = 0;
    if (rr.host) {
      server_log(LL_NOTICE, "Connection with master lost.");
      rr.state = LINK_CONNECT;
    }
  }
}

static const client_module_hooks replica_client_hooks = {
    .on_free = master_client_freed};

/* ------------------------------------------------------------------ */
/* Parsing the master's replies                                         */
/* ------------------------------------------------------------------ */
static int is_replid(const char *s, size_t n) {
  if (n != CONFIG_RUN_ID_SIZE) {
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
          (ch >= 'A' && ch <= 'F'))) {
      return 0;
    }
  }
  return 1;
}

int repl_parse_psync_reply(const char *line, char *replid, long long *offset) {
  replid[0] = '\0';
  *offset = -1;
  if (!strncmp(line, "+CONTINUE", 9) && (line[9] == '\0' || line[9] == ' ')) {
    const char *id = line + 9;
    while (*id == ' ') {
      id++;
    }
    if (is_replid(id, strlen(id))) {
      memcpy(replid, id, CONFIG_RUN_ID_SIZE);
      replid[CONFIG_RUN_ID_SIZE] = '\0';
    }
    return REPL_PSYNC_CONTINUE;
  }
  if (strncmp(line, "+FULLRESYNC ", 12) != 0) {
    return REPL_PSYNC_ERROR;
  }
  const char *id = line + 12;
  const char *sp = strchr(id, ' ');
  if (sp == NULL || !is_replid(id, (size_t)(sp - id)) ||
      !string2ll(sp + 1, strlen(sp + 1), offset) || *offset < 0) {
    *offset = -1;
    return REPL_PSYNC_ERROR;
  }
  memcpy(replid, id, CONFIG_RUN_ID_SIZE);
  replid[CONFIG_RUN_ID_SIZE] = '\0';
  return REPL_PSYNC_FULL;
}

void repl_track_eof_mark(char *last, const char *buf, size_t n) {
  if (n >= RDB_EOF_MARK_SIZE) {
    memcpy(last, buf + n - RDB_EOF_MARK_SIZE, RDB_EOF_MARK_SIZE);
  } else {
    memmove(last, last + n, RDB_EOF_MARK_SIZE - n);
    memcpy(last + RDB_EOF_MARK_SIZE - n, buf, n);
  }
}

int repl_parse_bulk_header(const char *line, size_t len, char *mark,
                           long long *size) {
  if (len == 5 + RDB_EOF_MARK_SIZE && !memcmp(line, "$EOF:", 5)) {
    memcpy(mark, line + 5, RDB_EOF_MARK_SIZE);
    return 1;
  }
  if (len >= 2 && line[0] == '$' && string2ll(line + 1, len - 1, size) &&
      *size >= 0) {
    return 2;
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Handshake (short synchronous exchanges, each bounded by a timeout)   */
/* ------------------------------------------------------------------ */
static int write_all_timeout(connection *conn, const char *p, size_t len) {
  while (len > 0) {
    ssize_t n = conn_write(conn, p, len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      /* TLS may need to read to write (a key update): either will do. */
      struct pollfd pfd = {conn->fd, POLLOUT | POLLIN, 0};
      if (poll(&pfd, 1, HANDSHAKE_TIMEOUT_MS) <= 0) {
        return 0;
      }
      continue;
    }
    if (n <= 0) {
      return 0;
    }
    p += n;
    len -= (size_t)n;
  }
  return 1;
}

static int send_command(connection *conn, int argc, const char **argv) {
  sds s = sds_cat_printf(sds_empty(), "*%d\r\n", argc);
  for (int j = 0; j < argc; j++) {
    s = sds_cat_printf(s, "$%zu\r\n%s\r\n", strlen(argv[j]), argv[j]);
  }
  int ok = write_all_timeout(conn, s, sds_len(s));
  sds_free(s);
  return ok;
}

static void transfer_read_handler(connection *conn);

static void create_master_client(void) {
  connection *conn = rr.conn;
  conn_set_read_handler(conn, NULL);
  client *c = create_client(conn);
  if (c == NULL) {
    link_reset("cannot create the master client");
    return;
  }
  rr.conn = NULL; /* the client owns it now */
  c->flags |= CLIENT_MASTER;
  c->authenticated = 1;
  rr.master = c;
  rr.master_bytes_base = c->net_input_bytes;
  if (rr.proxy) {
    sds_clear(rr.proxy);
  }
  rr.proxied_offset = rr.master_base;
  rr.state = LINK_CONNECTED;
  rr.last_io = time(NULL);
  server.repl_link_up = 1;
  /* A Redis 7 master streams after the first ACK (diskless sync). */
  repl_replica_send_ack();
}

/* The handshake runs as a state machine on the link's readable events:
 * one command sent, its one-line reply read (byte by byte: nothing past
 * it is taken from the socket), the next command sent. A master that
 * never answers costs nothing but repl-timeout (cron). */
#define HS_PING 1
#define HS_AUTH 2
#define HS_PORT 3
#define HS_CAPA 4
#define HS_PSYNC 5

static int hs_state;
static char hs_line[512];
static size_t hs_len;

static int hs_send(int argc, const char **argv, int next) {
  if (!send_command(rr.conn, argc, argv)) {
    link_reset("error writing to the MASTER during the handshake");
    return 0;
  }
  hs_state = next;
  hs_len = 0;
  return 1;
}

static void hs_send_port(void) {
  char port[16];
  snprintf(port, sizeof(port), "%d",
           server.slave_announce_port ? server.slave_announce_port
           : server.port              ? server.port
                                      : server.tls_port);
  if (server.slave_announce_ip) {
    /* One command with both, as Redis 7.0 may send them. */
    const char *lp[] = {"REPLCONF", "listening-port", port, "ip-address",
                        server.slave_announce_ip};
    hs_send(5, lp, HS_PORT);
    return;
  }
  const char *lp[] = {"REPLCONF", "listening-port", port};
  hs_send(3, lp, HS_PORT);
}

static void hs_send_psync(void) {
  char off[32];
  const char *psync[] = {"PSYNC", "?", "-1", "FAILOVER"};
  if (rr.have_cache) {
    snprintf(off, sizeof(off), "%lld", rr.cache_offset + 1);
    psync[1] = rr.cache_replid;
    psync[2] = off;
    server_log(LL_NOTICE, "Trying a partial resynchronization (request %s:%s).",
               rr.cache_replid, off);
  }
  /* A master handing over (FAILOVER) asks its target to take over. */
  int failover = repl_failover_psync_begin(rr.have_cache);
  if (failover < 0) {
    return; /* the failover was aborted: a master again, no link */
  }
  if (!hs_send(failover ? 4 : 3, psync, HS_PSYNC) && failover) {
    repl_failover_write_error();
  }
}

static void hs_full_resync(const char *replid, long long offset) {
  server_log(LL_NOTICE, "Full resync from master: %s:%lld", replid, offset);
  snprintf(rr.master_replid, sizeof(rr.master_replid), "%s", replid);
  rr.master_offset = offset;
  rr.have_cache = 0;
  snprintf(rr.tmpfile, sizeof(rr.tmpfile), "temp-%d.%ld.rdb", (int)getpid(),
           (long)time(NULL));
  rr.tmp_fd = open(rr.tmpfile, O_CREAT | O_WRONLY | O_EXCL | O_CLOEXEC, 0644);
  if (rr.tmp_fd == -1) {
    server_log(LL_WARNING,
               "Opening the temp file needed for MASTER <-> "
               "REPLICA synchronization: %s",
               strerror(errno));
    link_reset(NULL);
    return;
  }
  rr.header = sds_empty();
  rr.header_done = 0;
  rr.read = 0;
  rr.size = -1;
  rr.usemark = 0;
  memset(rr.lastbytes, 0, sizeof(rr.lastbytes));
  rr.state = LINK_TRANSFER;
  rr.last_io = time(NULL);
  conn_set_read_handler(rr.conn, transfer_read_handler);
}

/* One complete reply line of the handshake. */
static void hs_reply(const char *reply) {
  switch (hs_state) {
    case HS_PING:
      if (reply[0] == '-' && strncmp(reply, "-NOAUTH", 7) != 0 &&
          strncmp(reply, "-NOPERM", 7) != 0) {
        server_log(LL_WARNING, "Error reply to PING from master: '%s'", reply);
        link_reset(NULL);
        return;
      }
      server_log(LL_NOTICE,
                 "Master replied to PING, replication can "
                 "continue...");
      if (server.masterauth) {
        const char *auth2[] = {"AUTH", server.masterauth};
        const char *auth3[] = {"AUTH",
                               server.masteruser ? server.masteruser : "",
                               server.masterauth};
        if (server.masteruser) {
          hs_send(3, auth3, HS_AUTH);
        } else {
          hs_send(2, auth2, HS_AUTH);
        }
        return;
      }
      hs_send_port();
      return;
    case HS_AUTH:
      if (reply[0] == '-') {
        server_log(LL_WARNING, "Unable to AUTH to MASTER: %s", reply);
        link_reset(NULL);
        return;
      }
      hs_send_port();
      return;
    case HS_PORT: {
      const char *capa[] = {"REPLCONF", "capa", "eof", "capa", "psync2"};
      hs_send(5, capa, HS_CAPA);
      return;
    }
    case HS_CAPA:
      hs_send_psync();
      return;
    case HS_PSYNC: {
      char replid[CONFIG_RUN_ID_SIZE + 1];
      long long offset;
      int kind = repl_parse_psync_reply(reply, replid, &offset);
      /* A FAILOVER's PSYNC: the target's answer ends it either way. */
      if (repl_failover_psync_outcome(kind != REPL_PSYNC_ERROR)) {
        if (kind == REPL_PSYNC_ERROR) {
          server_log(LL_WARNING, "Unexpected reply to PSYNC from master: %s",
                     reply);
        }
        return; /* aborted: a master again, the link is gone */
      }
      if (kind == REPL_PSYNC_CONTINUE) {
        /* This server's own history (for its replicas) is the master's:
         * the same ID and offset, or it starts again from here. */
        if (strcmp(repl_master_id(), rr.cache_replid) != 0 ||
            server.master_repl_offset != rr.cache_offset) {
          repl_master_set_id(rr.cache_replid, rr.cache_offset);
        }
        if (replid[0] && strcmp(replid, rr.cache_replid) != 0) {
          /* The master changed its ID (it was promoted): the old one
           * stays valid up to here (PSYNC2). */
          repl_master_adopt_id(replid);
          memcpy(rr.cache_replid, replid, sizeof(rr.cache_replid));
        }
        server_log(LL_NOTICE,
                   "Successful partial resynchronization with master.");
        rr.master_base = rr.cache_offset;
        create_master_client();
        /* The stream goes on in the db it had selected (Redis keeps its
         * cached master client, and so its db). */
        if (rr.master) {
          select_db(rr.master, rr.cache_db);
        }
        return;
      }
      if (kind != REPL_PSYNC_FULL) {
        server_log(LL_WARNING, "Unexpected reply to PSYNC from master: %s",
                   reply);
        link_reset(NULL);
        return;
      }
      hs_full_resync(replid, offset);
      return;
    }
    default:
      link_reset("unexpected handshake state");
  }
}

static void hs_read_handler(connection *conn) {
  for (;;) {
    char ch;
    ssize_t n = conn_read(conn, &ch, 1);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      return;
    }
    if (n <= 0) {
      link_reset("the MASTER closed the connection during the handshake");
      return;
    }
    rr.last_io = time(NULL);
    if (ch != '\n') {
      if (hs_len + 1 < sizeof(hs_line)) {
        hs_line[hs_len++] = ch;
      }
      continue;
    }
    if (hs_len > 0 && hs_line[hs_len - 1] == '\r') {
      hs_len--;
    }
    hs_line[hs_len] = '\0';
    if (hs_len == 0) {
      continue; /* a newline keepalive */
    }
    int before = hs_state;
    hs_reply(hs_line);
    /* The link moved on (a transfer, the master client, a reset): the
     * next bytes are not the handshake's. */
    if (hs_state == before || rr.state != LINK_HANDSHAKE) {
      return;
    }
  }
}

static void handshake(void) {
  rr.state = LINK_HANDSHAKE;
  rr.last_io = time(NULL);
  const char *ping[] = {"PING"};
  if (!hs_send(1, ping, HS_PING)) {
    return;
  }
  conn_set_read_handler(rr.conn, hs_read_handler);
}

/* ------------------------------------------------------------------ */
/* Receiving the RDB                                                    */
/* ------------------------------------------------------------------ */
static void transfer_done(void) {
  if (rr.usemark &&
      ftruncate(rr.tmp_fd, (off_t)(rr.read - RDB_EOF_MARK_SIZE))) {
    link_reset("cannot trim the EOF mark");
    return;
  }
  if (fsync(rr.tmp_fd) == -1) {
    link_reset("fsync of the received RDB failed");
    return;
  }
  close(rr.tmp_fd);
  rr.tmp_fd = -1;
  if (rename(rr.tmpfile, server.rdb_filename) == -1) {
    server_log(LL_WARNING, "Failed trying to rename the temp DB into %s: %s",
               server.rdb_filename, strerror(errno));
    unlink(rr.tmpfile);
    link_reset(NULL);
    return;
  }
  /* The AOF describes the dataset being replaced: stop it, and start it
   * again (a rewrite from the loaded data) afterwards, as Redis does. */
  int aof_was_on = server.appendonly;
  const char *aof_err = NULL;
  if (aof_was_on) {
    server.appendonly = 0;
    aof_apply_appendonly(&aof_err);
  }
  server_log(LL_NOTICE, "MASTER <-> REPLICA sync: Flushing old data");
  empty_data(-1, 0, NULL);
  server_log(LL_NOTICE, "MASTER <-> REPLICA sync: Loading DB in memory");
  char err[512] = "";
  server.loading = 1;
  int rc =
      rdb_load_file(server.rdb_filename, RDBFLAGS_NONE, NULL, err, sizeof(err));
  server.loading = 0;
  if (aof_was_on) {
    server.appendonly = 1;
    if (!aof_apply_appendonly(&aof_err)) {
      server_log(LL_WARNING,
                 "Failed enabling the AOF after successful master "
                 "synchronization! Trying it again in one second.");
    }
  }
  if (rc != C_OK) {
    server_log(LL_WARNING,
               "Failed trying to load the MASTER synchronization "
               "DB from disk: %s",
               err);
    empty_data(-1, 0, NULL);
    link_reset(NULL);
    return;
  }
  if (server.rdb_del_sync_files && config_save_params_count() == 0 &&
      !server.appendonly) {
    server_log(LL_NOTICE,
               "Removing the RDB file obtained from the master. "
               "This replica has persistence disabled");
    unlink(server.rdb_filename);
  }
  sds_free(rr.header);
  rr.header = NULL;
  /* This server's own replicas follow the new history. */
  repl_master_drop_replicas();
  repl_master_set_id(rr.master_replid, rr.master_offset);
  snprintf(rr.cache_replid, sizeof(rr.cache_replid), "%s", rr.master_replid);
  rr.master_base = rr.master_offset;
  server_log(LL_NOTICE, "MASTER <-> REPLICA sync: Finished with success");
  create_master_client();
}

/* ------------------------------------------------------------------ */
/* Diskless load (repl-diskless-load)                                   */
/* ------------------------------------------------------------------ */
static int use_diskless_load(void) {
  return server.repl_diskless_load == REPL_DISKLESS_LOAD_SWAPDB ||
         (server.repl_diskless_load == REPL_DISKLESS_LOAD_WHEN_DB_EMPTY &&
          db_total_server_key_count() == 0);
}

/* link_read: the loader's reads from the master, blocking up to
 * repl-timeout for each (read(2)'s convention). */
static ssize_t link_read(void *ctx, void *buf, size_t len) {
  connection *conn = ctx;
  for (;;) {
    ssize_t n = conn_read(conn, buf, len);
    if (n > 0) {
      rr.last_io = time(NULL);
      rr.read += n;
      return n;
    }
    if (n == 0) {
      return 0;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno != EAGAIN) {
      return -1;
    }
    struct pollfd pfd = {conn->fd, POLLIN, 0};
    int r = poll(&pfd, 1, server.repl_timeout * 1000);
    if (r == 0) {
      errno = ETIMEDOUT;
      return -1;
    }
    if (r < 0 && errno != EINTR) {
      return -1;
    }
  }
}

static void diskless_load(connection *conn) {
  int swap = server.repl_diskless_load == REPL_DISKLESS_LOAD_SWAPDB;
  /* No temporary file for this transfer. */
  if (rr.tmp_fd != -1) {
    close(rr.tmp_fd);
    rr.tmp_fd = -1;
    unlink(rr.tmpfile);
  }
  int aof_was_on = server.appendonly;
  const char *aof_err = NULL;
  if (aof_was_on) {
    server.appendonly = 0;
    aof_apply_appendonly(&aof_err);
  }
  const rdb_functions_ops *fops = rdb_functions();
  db_stash *stash = NULL;
  void *libraries = NULL;
  if (swap) {
    stash = db_stash_keyspaces();
    if (fops != NULL) {
      libraries = fops->stash();
    }
  } else {
    server_log(LL_NOTICE, "MASTER <-> REPLICA sync: Flushing old data");
    empty_data(-1, 0, NULL);
  }
  conn_set_read_handler(conn, NULL);
  server_log(LL_NOTICE, "MASTER <-> REPLICA sync: Loading DB in memory");
  rio r;
  rio_init_fn_reader(&r, link_read, conn,
                     rr.usemark ? SIZE_MAX : (size_t)rr.size);
  char err[512] = "";
  rr.loading_from_link = 1;
  server.loading = 1;
  rdb_set_loading_progress(process_events_while_blocked);
  int ok = rdb_load_rio(&r, RDBFLAGS_NONE, "the MASTER's stream", NULL, err,
                        sizeof(err)) == C_OK;
  rdb_set_loading_progress(NULL);
  server.loading = 0;
  rr.loading_from_link = 0;
  if (!ok) {
    server_log(LL_WARNING,
               "Failed trying to load the MASTER synchronization DB "
               "from socket: %s",
               err);
  } else if (rr.usemark) {
    char mark[RDB_EOF_MARK_SIZE];
    if (!rio_read(&r, mark, sizeof(mark)) ||
        memcmp(mark, rr.eofmark, sizeof(mark)) != 0) {
      server_log(LL_WARNING, "Replication stream EOF marker is broken");
      ok = 0;
    }
  }
  if (ok && rio_buffered(&r) > 0) {
    /* A master streams after an EOF-marked RDB only once this replica's
     * first ACK arrived: anything here is not the stream. */
    server_log(LL_WARNING,
               "Unexpected %zu bytes after the RDB from the MASTER: "
               "resynchronizing",
               rio_buffered(&r));
    ok = 0;
  }
  rio_release(&r);
  if (!ok) {
    if (swap) {
      db_stash_restore(stash);
      if (fops != NULL) {
        fops->restore(libraries);
      }
      server_log(LL_NOTICE,
                 "MASTER <-> REPLICA sync: Discarding temporary DB in "
                 "background");
    } else {
      /* Redis empties the libraries with the data here too. */
      empty_data(-1, 0, NULL);
      if (fops != NULL) {
        fops->clear();
      }
    }
    if (aof_was_on) {
      server.appendonly = 1;
      aof_apply_appendonly(&aof_err);
    }
    link_reset(NULL);
    return;
  }
  if (swap) {
    server_log(LL_NOTICE,
               "MASTER <-> REPLICA sync: Swapping active DB with loaded DB");
    db_stash_discard(stash);
    if (fops != NULL) {
      fops->discard(libraries);
    }
    server_log(LL_NOTICE,
               "MASTER <-> REPLICA sync: Discarding old DB in background");
  }
  server.dirty++;
  if (aof_was_on) {
    server.appendonly = 1;
    if (!aof_apply_appendonly(&aof_err)) {
      server_log(LL_WARNING,
                 "Failed enabling the AOF after successful master "
                 "synchronization! Trying it again in one second.");
    }
  }
  sds_free(rr.header);
  rr.header = NULL;
  repl_master_drop_replicas();
  repl_master_set_id(rr.master_replid, rr.master_offset);
  snprintf(rr.cache_replid, sizeof(rr.cache_replid), "%s", rr.master_replid);
  rr.master_base = rr.master_offset;
  server_log(LL_NOTICE, "MASTER <-> REPLICA sync: Finished with success");
  create_master_client();
}

static void transfer_read_handler(connection *conn) {
  char buf[64 * 1024];
  if (!rr.header_done) {
    /* Newlines (keepalives) then "$EOF:<mark>\r\n" or "$<len>\r\n". */
    char ch;
    ssize_t n;
    while ((n = conn_read(conn, &ch, 1)) == 1) {
      rr.last_io = time(NULL);
      if (ch != '\n') {
        rr.header = sds_cat_len(rr.header, &ch, 1);
        if (sds_len(rr.header) > 128) {
          link_reset("bad bulk header from master");
          return;
        }
        continue;
      }
      if (sds_len(rr.header) == 0) {
        continue; /* a keepalive */
      }
      if (rr.header[sds_len(rr.header) - 1] == '\r') {
        sds_range(rr.header, 0, -2);
      }
      if (rr.header[0] == '-') {
        server_log(LL_WARNING, "MASTER aborted replication with an error: %s",
                   rr.header);
        link_reset(NULL);
        return;
      }
      int hk = repl_parse_bulk_header(rr.header, sds_len(rr.header), rr.eofmark,
                                      &rr.size);
      if (hk == 1) {
        rr.usemark = 1;
      } else if (hk == 2) {
        rr.usemark = 0;
      } else {
        link_reset("bad protocol from MASTER, the first byte is not '$'");
        return;
      }
      rr.header_done = 1;
      int diskless = use_diskless_load();
      if (rr.usemark) {
        server_log(LL_NOTICE,
                   "MASTER <-> REPLICA sync: receiving streamed RDB from "
                   "master with EOF %s",
                   diskless ? "to parser" : "to disk");
      } else {
        server_log(LL_NOTICE,
                   "MASTER <-> REPLICA sync: receiving %lld bytes from "
                   "master %s",
                   rr.size, diskless ? "to parser" : "to disk");
      }
      if (diskless) {
        diskless_load(conn);
        return;
      }
      break;
    }
    if (!rr.header_done) {
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        link_reset("I/O error reading bulk count from MASTER");
      }
      return;
    }
  }
  size_t want = sizeof(buf);
  if (!rr.usemark && (long long)want > rr.size - rr.read) {
    want = (size_t)(rr.size - rr.read);
  }
  if (want > 0) {
    ssize_t n = conn_read(conn, buf, want);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      return;
    }
    if (n <= 0) {
      link_reset("I/O error trying to sync with MASTER: connection lost");
      return;
    }
    rr.last_io = time(NULL);
    if (write(rr.tmp_fd, buf, (size_t)n) != n) {
      link_reset("write error writing the DB received from the master");
      return;
    }
    rr.read += n;
    if (rr.usemark) {
      repl_track_eof_mark(rr.lastbytes, buf, (size_t)n);
    }
  }
  int done = rr.usemark
                 ? (rr.read >= RDB_EOF_MARK_SIZE &&
                    memcmp(rr.lastbytes, rr.eofmark, RDB_EOF_MARK_SIZE) == 0)
                 : rr.read == rr.size;
  if (done) {
    transfer_done();
  }
}

/* ------------------------------------------------------------------ */
/* Connecting                                                           */
/* ------------------------------------------------------------------ */
/* tls_link_ready: the TLS handshake with the master ended. */
static void tls_link_ready(connection *conn) {
  if (conn != rr.conn) {
    return;
  }
  if (conn->state != CONN_STATE_CONNECTED) {
    const char *why = tls_client_last_error();
    server_log(LL_WARNING, "TLS handshake with the MASTER failed: %s",
               why[0] ? why : "see the security log");
    link_reset(NULL);
    return;
  }
  server_log(LL_NOTICE, "TLS connection with the MASTER established.");
  handshake();
}

static void connect_handler(ae_loop *loop, int fd, void *data, int mask) {
  (void)loop;
  (void)data;
  (void)mask;
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1) {
    err = errno;
  }
  if (err) {
    server_log(LL_WARNING, "Error condition on socket for SYNC: %s",
               strerror(err));
    link_reset(NULL);
    return;
  }
  ae_delete_file_event(server.el, fd, AE_WRITABLE);
  server_log(LL_NOTICE, "Non blocking connect for SYNC fired the event.");
  rr.fd = -1; /* the connection owns it from here */
  if (!server.tls_replication) {
    rr.conn = conn_create_accepted_tcp(server.el, fd);
    if (rr.conn == NULL) {
      close(fd);
      link_reset("out of memory");
      return;
    }
    rr.conn->state = CONN_STATE_CONNECTED;
    handshake();
    return;
  }
  char peer[300], why[TLS_ERR_LEN];
  snprintf(peer, sizeof(peer), strchr(rr.host, ':') ? "[%s]:%d" : "%s:%d",
           rr.host, rr.port);
  rr.conn =
      tls_client_connect(server.el, fd, peer, tls_link_ready, why, sizeof(why));
  if (rr.conn == NULL) {
    close(fd);
    server_log(LL_WARNING, "Unable to start TLS with the MASTER: %s", why);
    link_reset(NULL);
  }
}

static void link_connect(void) {
  char portstr[16];
  snprintf(portstr, sizeof(portstr), "%d", rr.port);
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(rr.host, portstr, &hints, &res) != 0 || res == NULL) {
    server_log(LL_WARNING, "Unable to resolve the master %s", rr.host);
    return;
  }
  int fd =
      socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd == -1) {
    freeaddrinfo(res);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(fd, res->ai_addr, res->ai_addrlen) == -1 &&
      errno != EINPROGRESS) {
    server_log(LL_WARNING, "Unable to connect to MASTER: %s", strerror(errno));
    close(fd);
    freeaddrinfo(res);
    return;
  }
  freeaddrinfo(res);
  rr.fd = fd;
  rr.state = LINK_CONNECTING;
  rr.connect_start = time(NULL);
  server_log(LL_NOTICE, "Connecting to MASTER %s:%d", rr.host, rr.port);
  server_log(LL_NOTICE, "MASTER <-> REPLICA sync started");
  ae_add_file_event(server.el, fd, AE_WRITABLE, connect_handler, NULL);
}

void repl_replica_cron(void) {
  time_t now = time(NULL);
  switch (rr.state) {
    case LINK_CONNECT:
      link_connect();
      break;
    case LINK_CONNECTING:
      if (now - rr.connect_start > server.repl_timeout) {
        link_reset("Timeout connecting to the MASTER...");
      }
      break;
    case LINK_HANDSHAKE:
      if (now - rr.last_io > server.repl_timeout) {
        link_reset("Timeout during the handshake with the MASTER");
      }
      break;
    case LINK_TRANSFER:
      if (rr.loading_from_link) {
        break; /* the loader's reads time out by themselves */
      }
      if (now - rr.last_io > server.repl_timeout) {
        link_reset(
            "Timeout receiving bulk data from MASTER... If the "
            "problem persists try to set the 'repl-timeout' "
            "parameter in redis.conf to a larger value.");
      }
      break;
    case LINK_CONNECTED:
      repl_replica_send_ack();
      if (rr.master && rr.master->last_interaction / 1000 > rr.last_io) {
        rr.last_io = (time_t)(rr.master->last_interaction / 1000);
      }
      if (now - rr.last_io > server.repl_timeout) {
        server_log(LL_WARNING, "MASTER timeout: no data nor PING received...");
        link_reset(NULL);
      }
      break;
    default:
      break;
  }
}

/* ------------------------------------------------------------------ */
/* REPLICAOF                                                            */
/* ------------------------------------------------------------------ */
static void become_replica_of(const char *host, int port) {
  link_reset(NULL);
  zfree(rr.host);
  rr.host = zstrdup(host);
  rr.port = port;
  rr.have_cache = 0;
  server.replica_mode = 1;
  server.repl_link_up = 0;
  repl_master_drop_replicas();
  rr.state = LINK_CONNECT;
  config_set_replicaof_state(host, port);
}

static void replicaof_command(client *c) {
  const char *host = c->argv[1]->ptr;
  if (repl_failover_active()) {
    add_reply_error(c, "REPLICAOF not allowed while failing over.");
    return;
  }
  if (!strcasecmp(host, "no") && !strcasecmp(c->argv[2]->ptr, "one")) {
    if (rr.host) {
      repl_replica_failover_role(NULL, 0);
      server_log(LL_NOTICE, "MASTER MODE enabled (user request from '%s')",
                 client_peer_id(c));
    }
    add_reply(c, shared.ok);
    return;
  }
  if (c->flags & CLIENT_SLAVE) {
    add_reply_error(c, "Command is not valid when client is a replica.");
    return;
  }
  long port;
  if (get_range_long_from_object_or_reply(c, c->argv[2], 0, 65535, &port,
                                          "Invalid master port") != C_OK) {
    return;
  }
  if (rr.host && !strcasecmp(rr.host, host) && rr.port == port) {
    add_reply_status(c, "OK Already connected to specified master");
    return;
  }
  become_replica_of(host, (int)port);
  server_log(LL_NOTICE, "REPLICAOF %s:%d enabled (user request from '%s')",
             host, (int)port, client_peer_id(c));
  add_reply(c, shared.ok);
}

void repl_replica_failover_role(const char *host, int port) {
  if (host == NULL) {
    if (rr.host) {
      zfree(rr.host);
      rr.host = NULL;
      link_reset(NULL);
      rr.have_cache = 0;
      server.replica_mode = 0;
      config_set_replicaof_state(NULL, 0);
      repl_master_shift_id();
    }
    return;
  }
  become_replica_of(host, port);
  snprintf(rr.cache_replid, sizeof(rr.cache_replid), "%s", repl_master_id());
  rr.cache_offset = server.master_repl_offset;
  rr.cache_db = 0;
  rr.have_cache = 1;
}

int repl_replica_save_info(char *replid, long long *offset, int *db) {
  if (rr.master == NULL && !rr.have_cache) {
    return 0;
  }
  memcpy(replid, rr.cache_replid, CONFIG_RUN_ID_SIZE + 1);
  *offset = master_processed_offset();
  *db = rr.master && rr.master->db ? rr.master->db->id : 0;
  return replid[0] != '\0';
}

void repl_replica_set_cache(const char *replid, long long offset, int db) {
  snprintf(rr.cache_replid, sizeof(rr.cache_replid), "%s", replid);
  rr.cache_offset = offset;
  rr.cache_db = db >= 0 && db < server.dbnum ? db : 0;
  rr.have_cache = 1;
  server_log(LL_NOTICE,
             "Using the master's replication history from the "
             "RDB: %s:%lld (a partial resync will be attempted)",
             replid, offset);
}

void repl_replica_role(client *c) {
  static const char *states[] = {"none", "connect",   "connecting",
                                 "sync", "connected", "handshake"};
  add_reply_array_len(c, 5);
  add_reply_bulk_cbuffer(c, "slave", 5);
  add_reply_bulk_cstring(c, rr.host);
  add_reply_long_long(c, rr.port);
  add_reply_bulk_cstring(c, states[rr.state]);
  add_reply_long_long(
      c, rr.state == LINK_CONNECTED ? master_processed_offset() : -1);
}

sds repl_replica_info(sds info) {
  long long off = master_processed_offset();
  char down[64] = "";
  if (!server.repl_link_up) {
    snprintf(down, sizeof(down), "master_link_down_since_seconds:%lld\r\n",
             rr.link_down_since ? (long long)(time(NULL) - rr.link_down_since)
                                : -1LL);
  }
  return sds_cat_printf(
      info,
      "role:slave\r\n"
      "master_host:%s\r\n"
      "master_port:%d\r\n"
      "master_link_status:%s\r\n"
      "master_last_io_seconds_ago:%lld\r\n"
      "master_sync_in_progress:%d\r\n"
      "slave_read_repl_offset:%lld\r\n"
      "slave_repl_offset:%lld\r\n"
      "%s"
      "slave_priority:%d\r\n"
      "slave_read_only:%d\r\n"
      "replica_announced:1\r\n",
      rr.host, rr.port, server.repl_link_up ? "up" : "down",
      server.repl_link_up ? (long long)(time(NULL) - rr.last_io) : -1LL,
      rr.state == LINK_TRANSFER, off, off, down, server.slave_priority,
      server.repl_slave_ro);
}

void repl_replica_init(void) {
  client_register_hooks(&replica_client_hooks);
  client_set_master_read_hook(master_read);
  int port;
  const char *host = config_replicaof(&port);
  if (host) {
    rr.host = zstrdup(host);
    rr.port = port;
    rr.state = LINK_CONNECT;
    server.replica_mode = 1;
  }
}

redis_command repl_replica_commands[] = {
    {.declared_name = "replicaof",
     .summary = "Make the server a replica of another instance, or promote "
                "it as master.",
     .since = "5.0.0",
     .group = "server",
     .proc = replicaof_command,
     .arity = 3,
     .flags = CMD_NO_ASYNC_LOADING | CMD_ADMIN | CMD_NOSCRIPT | CMD_STALE,
     .acl_categories =
         ACL_CATEGORY_ADMIN | ACL_CATEGORY_SLOW | ACL_CATEGORY_DANGEROUS},
    {.declared_name = "slaveof",
     .summary = "Make the server a replica of another instance, or promote "
                "it as master.",
     .since = "1.0.0",
     .group = "server",
     .proc = replicaof_command,
     .arity = 3,
     .flags = CMD_NO_ASYNC_LOADING | CMD_ADMIN | CMD_NOSCRIPT | CMD_STALE,
     .acl_categories =
         ACL_CATEGORY_ADMIN | ACL_CATEGORY_SLOW | ACL_CATEGORY_DANGEROUS},
    {0}};
