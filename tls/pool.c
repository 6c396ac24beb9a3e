/* pool.c: the handshaker processes as main sees them: generations, which
 * handshaker serves which connection, and the IPC conversation.
 *
 * The process mechanics (fork+exec of /proc/self/exe with one end of a
 * SOCK_SEQPACKET socketpair on fd 3, reaping, death causes, respawn
 * backoff) are sandbox/spawn.c's. Main sends CONFIG and the
 * ticket keys, the handshaker answers READY or CONFIG_FAIL, then serves
 * RECORD requests.
 *
 * Every answer is untrusted input: it must parse, its conn_id must be one
 * this handshaker was given and that waits for an answer. Anything else is
 * a protocol violation and the handshaker is killed. One exception is
 * counted exactly: a handshaker answers every RECORD and SIGN once, in
 * order, so when main drops a connection whose request is outstanding
 * (ABORT crosses the answer) it owes one late answer for it; late answers
 * beyond what it owes are violations (they would otherwise keep a hung
 * handshaker looking alive). A dead handshaker
 * fails only its own in-flight handshakes; it is respawned with exponential
 * backoff (sandbox_backoff: 100 ms doubling to 2 s).
 *
 * Scheduling: handshakers run at a lower priority than main (nice raised by
 * tls-handshaker-nice, set by main on the child's pid right after the spawn,
 * so before the child loads anything or installs its seccomp filter, and
 * re-applied from cron after CONFIG SET). An RSA signature is ~1 ms of CPU;
 * at equal priority a storm of new connections makes main wait for a CPU
 * behind the signatures and established clients see it in their p99. With
 * a higher nice the kernel prefers main when both want a CPU (at 5 the
 * weight ratio is ~3:1, at 10 ~9:1), and the handshakers still use every
 * idle cycle. Nice only orders processes within one scheduling group
 * (autogroup or cgroup), which is where main and its handshakers are.
 *
 * Generations: a CONFIG SET of tls-* settings starts a new generation of
 * handshakers; only when they are READY do new connections use them, and
 * the old ones are closed once their in-flight handshakes are done.
 *
 * Verifiers: a generation with a CA (tls-ca-cert-file/-dir) also runs one
 * verifier, the same program started in verify-only role (no key, no
 * ticket keys, never a ClientHello). Peer certificate chains go there
 * (VERIFY, tls/peer.c), never to a handshaker; verifiers take no RECORD or
 * SIGN and are not counted as handshakers. */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/spawn.h"
#include "tls/internal.h"

#define TLS_POOL_MAX_HANDSHAKERS 256
#define TLS_POOL_MAX_QUEUED 4096       /* datagrams waiting per handshaker */
#define TLS_POOL_ANSWERS_PER_WAKEUP 64 /* budget per readable event */
#define TLS_POOL_CONN_BUCKETS 4096     /* id hash (power of two) */
#define TLS_START_TIMEOUT_MS 10000     /* STARTING -> READY */
/* A handshaker answers each record within milliseconds (one signature at
 * most); one that has left a request unanswered this long, and answered
 * nothing else meanwhile, is stuck and is replaced, failing only its own
 * in-flight handshakes. "Nothing else" matters: a busy handshaker at a low
 * priority (tls-handshaker-nice) on saturated CPUs can have a queue of
 * hundreds of requests whose oldest waits seconds, while it answers every
 * few milliseconds; killing it would fail the whole queue. */
#define TLS_ANSWER_TIMEOUT_MS 5000
#define TLS_EXIT_GRACE_MS 5000 /* retired: exit before SIGKILL */
#define TLS_SOCKET_BUFFER (1024 * 1024)

_Static_assert(
    TLS_HANDSHAKER_FD == SANDBOX_CHILD_FD,
    "the handshaker finds its IPC socket where sandbox_spawn put it");

typedef enum {
  HANDSHAKER_STARTING = 0,
  HANDSHAKER_READY,
  HANDSHAKER_RETIRING, /* old generation: finishes its handshakes */
  HANDSHAKER_EXITING,  /* socket closed, waiting to reap */
  HANDSHAKER_DEAD      /* reaped or gone; slot freed in cron */
} handshaker_state;

typedef struct queued_msg {
  struct queued_msg *next;
  size_t len;
  uint8_t data[];
} queued_msg;

struct tls_handshaker {
  sandbox_child child; /* process and IPC socket (sandbox/spawn.h) */
  int verifier;        /* verify-only role (VERIFY), not a handshaker */
  handshaker_state state;
  tls_generation *gen;
  int assigned; /* conns this handshaker tracks */
  int broken;   /* a send failed: kill in cron if EOF never comes */
  long long started_ms, state_ms;
  queued_msg *queue_head, *queue_tail;
  size_t queued;
  int nice_applied;         /* tls-handshaker-nice last set on it (-1: none) */
  long long last_answer_ms; /* last well-formed answer (progress) */
  /* requests main cancelled (ABORT) before their answer came: each may
   * still be answered once */
  long long late_answers_owed;
};

tls_stats tls_stat;

static struct {
  ae_loop *loop;
  tls_handshaker *all[TLS_POOL_MAX_HANDSHAKERS];
  tls_generation *current;
  tls_conn *buckets[TLS_POOL_CONN_BUCKETS];
  uint64_t next_gen_id;
  sandbox_backoff respawn;
  int nice_warned; /* setpriority refused once: logged */
  uint8_t buf[IPC_MAX_MESSAGE + 1];
} pool;

static long long pool_now_ms(void) {
  return (long long)(ae_monotonic_us() / 1000);
}

/* ---- generations ------------------------------------------------------ */

tls_generation *tls_pool_create_generation(tls_settings *settings, char *err,
                                           size_t err_len) {
  tls_generation *gen = calloc(1, sizeof(*gen));
  if (gen == NULL) {
    snprintf(err, err_len, "out of memory");
    tls_settings_free(settings);
    return NULL;
  }
  gen->settings = *settings;
  memset(settings, 0, sizeof(*settings));
  gen->id = ++pool.next_gen_id;
  gen->refs = 1;
  /* Main's post-handback context: no certificate, no key, no CA, no X509
   * (tls/peer.c). The client's second flight completes here; its chain is
   * verified by a verifier. It issues session tickets with the shared
   * keys. */
  SSL_CTX *ctx = tls_peer_ctx_new(&gen->settings, err, err_len);
  if (ctx == NULL) {
    tls_settings_free(&gen->settings);
    free(gen);
    return NULL;
  }
  gen->main_ctx = ctx;
  return gen;
}

void tls_generation_release(tls_generation *gen) {
  if (gen == NULL || --gen->refs > 0) {
    return;
  }
  SSL_CTX_free(gen->main_ctx);
  tls_client_ctx_free(gen);
  tls_settings_free(&gen->settings);
  free(gen);
}

tls_generation *tls_pool_current_generation(void) { return pool.current; }

/* ---- conn id hash ----------------------------------------------------- */

static tls_conn **pool_bucket(uint64_t id) {
  return &pool.buckets[id & (TLS_POOL_CONN_BUCKETS - 1)];
}

static tls_conn *pool_lookup(uint64_t id) {
  for (tls_conn *c = *pool_bucket(id); c != NULL; c = c->hash_next) {
    if (c->id == id) {
      return c;
    }
  }
  return NULL;
}

static void pool_hash_remove(tls_conn *conn) {
  tls_conn **link = pool_bucket(conn->id);
  while (*link != NULL) {
    if (*link == conn) {
      *link = conn->hash_next;
      conn->hash_next = NULL;
      return;
    }
    link = &(*link)->hash_next;
  }
}

/* ---- sending ---------------------------------------------------------- */

static void pool_writable(ae_loop *loop, int fd, void *data, int mask);

static int pool_try_send(tls_handshaker *h, const uint8_t *buf, size_t len) {
  for (int attempt = 0; attempt < 100; attempt++) {
    ssize_t n = send(h->child.fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n == (ssize_t)len) {
      return 1;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 &&
        (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      return 0;
    }
    return -1;
  }
  return -1;
}

/* pool_send sends one datagram or queues it. Returns 1, or 0 if the
 * handshaker is unusable (the caller fails its own conn; the handshaker is
 * cleaned up by its EOF or by cron). */
static int pool_send(tls_handshaker *h, const uint8_t *buf, size_t len) {
  if (h->child.fd < 0 || h->broken || h->state >= HANDSHAKER_EXITING) {
    return 0;
  }
  if (h->queue_head == NULL) {
    int r = pool_try_send(h, buf, len);
    if (r == 1) {
      return 1;
    }
    if (r < 0) {
      h->broken = 1;
      return 0;
    }
  }
  if (h->queued >= TLS_POOL_MAX_QUEUED) {
    h->broken = 1;
    return 0;
  }
  queued_msg *m = malloc(sizeof(*m) + len);
  if (m == NULL) {
    return 0;
  }
  m->next = NULL;
  m->len = len;
  memcpy(m->data, buf, len);
  if (h->queue_tail) {
    h->queue_tail->next = m;
  } else {
    h->queue_head = m;
  }
  h->queue_tail = m;
  h->queued++;
  ae_add_file_event(pool.loop, h->child.fd, AE_WRITABLE, pool_writable, h);
  return 1;
}

static void pool_free_queue(tls_handshaker *h) {
  while (h->queue_head) {
    queued_msg *m = h->queue_head;
    h->queue_head = m->next;
    OPENSSL_cleanse(m->data, m->len);
    free(m);
  }
  h->queue_tail = NULL;
  h->queued = 0;
}

static void pool_writable(ae_loop *loop, int fd, void *data, int mask) {
  (void)loop;
  (void)mask;
  tls_handshaker *h = data;
  while (h->queue_head) {
    queued_msg *m = h->queue_head;
    int r = pool_try_send(h, m->data, m->len);
    if (r == 0) {
      return;
    }
    if (r < 0) {
      h->broken = 1;
      pool_free_queue(h);
      break;
    }
    h->queue_head = m->next;
    if (h->queue_head == NULL) {
      h->queue_tail = NULL;
    }
    h->queued--;
    OPENSSL_cleanse(m->data, m->len);
    free(m);
  }
  ae_delete_file_event(pool.loop, fd, AE_WRITABLE);
}

static int pool_send_ticket_keys(tls_handshaker *h) {
  uint8_t keys[IPC_MAX_TICKET_KEYS][IPC_TICKET_KEY_LEN];
  uint8_t msg[16 + sizeof(keys)];
  size_t count = tls_ticket_keys_get(keys);
  size_t n = ipc_build_ticket_keys(
      msg, sizeof(msg), (const uint8_t(*)[IPC_TICKET_KEY_LEN])keys, count);
  int ok = n > 0 && pool_send(h, msg, n);
  OPENSSL_cleanse(keys, sizeof(keys));
  OPENSSL_cleanse(msg, sizeof(msg));
  return ok;
}

void tls_pool_broadcast_ticket_keys(void) {
  for (int i = 0; i < TLS_POOL_MAX_HANDSHAKERS; i++) {
    tls_handshaker *h = pool.all[i];
    if (h != NULL && !h->verifier && h->state <= HANDSHAKER_RETIRING) {
      pool_send_ticket_keys(h);
    }
  }
}

/* ---- lifecycle -------------------------------------------------------- */

static void pool_readable(ae_loop *loop, int fd, void *data, int mask);

static void pool_close_fd(tls_handshaker *h) {
  if (h->child.fd >= 0) {
    ae_delete_file_event(pool.loop, h->child.fd, AE_READABLE | AE_WRITABLE);
    close(h->child.fd);
    h->child.fd = -1;
  }
  pool_free_queue(h);
}

typedef struct lost_arg {
  tls_handshaker *h;
  const char *why;
  int failed;
} lost_arg;

static void pool_fail_one(tls_conn *conn, void *arg) {
  lost_arg *lost = arg;
  if (conn->handshaker == lost->h) {
    lost->failed++;
    tls_conn_on_handshaker_lost(conn, lost->why);
  }
}

/* ---- sandbox accounting (INFO sandbox) ------------------------------- */

/* Why handshakers died (INFO sandbox). */
static sandbox_death_stats sandbox_stat;

/* pool_verdict classifies a death by what main saw: its own verdict (a
 * protocol violation, a timeout) wins over the wait status. */
static sandbox_death_verdict pool_verdict(const char *what) {
  if (strstr(what, "protocol violation") != NULL ||
      strstr(what, "stopped accepting") != NULL) {
    return SANDBOX_DEATH_PROTOCOL_VIOLATION;
  }
  if (strstr(what, "in time") != NULL) {
    return SANDBOX_DEATH_TIMEOUT;
  }
  return SANDBOX_DEATH_BY_STATUS;
}

/* pool_kill ends |h| (after a death, violation or start failure): fails its
 * in-flight handshakes only, logs why, and schedules a respawn. */
static void pool_kill(tls_handshaker *h, const char *what, int force) {
  char status[160];
  char why[320];
  handshaker_state was = h->state;
  if (h->state >= HANDSHAKER_EXITING && h->child.fd < 0) {
    return;
  }
  pid_t pid = h->child.pid;
  pool_close_fd(h);
  sandbox_reap(&h->child, force, status, sizeof(status));
  h->state = HANDSHAKER_DEAD;
  sandbox_death_record(&sandbox_stat, &h->child, pool_verdict(what), what,
                       status);
  snprintf(why, sizeof(why), "handshaker died: %s", status);
  lost_arg lost = {h, why, 0};
  tls_conn_for_each_inflight(pool_fail_one, &lost);
  tls_stat.handshaker_deaths++;
  tls_log(TLS_LOG_WARNING,
          "TLS handshaker pid %d (generation %llu) %s: %s; %d in-flight "
          "handshake(s) failed",
          (int)pid, (unsigned long long)h->gen->id, what, status, lost.failed);
  tls_security_log("sandbox_death",
                   "pid=%d generation=%llu cause=\"%s\" "
                   "status=\"%s\" inflight_failed=%d",
                   (int)pid, (unsigned long long)h->gen->id, what, status,
                   lost.failed);
  if (was == HANDSHAKER_STARTING || was == HANDSHAKER_READY) {
    long long now = pool_now_ms();
    sandbox_backoff_after_death(&pool.respawn, now - h->started_ms, now);
  }
}

static void pool_retire_if_idle(tls_handshaker *h) {
  if (h->state == HANDSHAKER_RETIRING && h->assigned == 0) {
    /* Closing the socket makes it exit; reaped from cron. */
    pool_close_fd(h);
    h->state = HANDSHAKER_EXITING;
    h->state_ms = pool_now_ms();
  }
}

static int pool_free_slot(void) {
  for (int i = 0; i < TLS_POOL_MAX_HANDSHAKERS; i++) {
    if (pool.all[i] == NULL) {
      return i;
    }
  }
  return -1;
}

/* pool_apply_nice gives |h| main's own nice value plus tls-handshaker-nice
 * (capped at 19). Lowering it again after CONFIG SET needs CAP_SYS_NICE;
 * without it the handshaker keeps its value until it is respawned. */
int tls_handshake_nice_value(void) {
  errno = 0;
  int base = getpriority(PRIO_PROCESS, 0);
  if (base == -1 && errno != 0) {
    base = 0;
  }
  tls_tunables tun;
  tls_read_tunables(&tun);
  int value = base + tun.handshaker_nice;
  return value > 19 ? 19 : value;
}

static void pool_apply_nice(tls_handshaker *h) {
  tls_tunables tun;
  tls_read_tunables(&tun);
  int wanted = tun.handshaker_nice;
  if (h->child.pid <= 0 || h->nice_applied == wanted) {
    return;
  }
  int value = tls_handshake_nice_value();
  if (sandbox_set_nice(&h->child, value) != 0 && /* via the spawner */
      errno != ESRCH) {
    if (!pool.nice_warned) {
      pool.nice_warned = 1;
      tls_log(TLS_LOG_WARNING,
              "TLS: cannot set handshaker pid %d to nice %d: %s "
              "(tls-handshaker-nice)",
              (int)h->child.pid, value, strerror(errno));
    }
  }
  /* Recorded even on failure: retrying every cron tick would not help. */
  h->nice_applied = wanted;
}

/* pool_spawn starts one handshaker (or, with |verifier|, a verifier) for
 * |gen| and sends its configuration. Returns it, or NULL (logged). */
static tls_handshaker *pool_spawn(tls_generation *gen, int verifier) {
  char err[256];
  sandbox_child child;
  int slot = pool_free_slot();
  if (slot < 0) {
    tls_log(TLS_LOG_WARNING, "TLS: too many handshaker processes");
    return NULL;
  }
  if (!sandbox_spawn(tls_host_executable(),
                     verifier ? TLS_VERIFIER_ARG : TLS_HANDSHAKER_ARG,
                     TLS_SOCKET_BUFFER, &child, err, sizeof(err))) {
    tls_log(TLS_LOG_WARNING, "TLS: cannot start a handshaker: %s", err);
    return NULL;
  }
  tls_handshaker *h = calloc(1, sizeof(*h));
  if (h == NULL) {
    close(child.fd);
    sandbox_kill_and_reap(&child);
    return NULL;
  }
  h->child = child;
  h->verifier = verifier;
  h->nice_applied = -1;
  pool_apply_nice(h);
  h->gen = gen;
  gen->refs++;
  h->state = HANDSHAKER_STARTING;
  h->started_ms = h->state_ms = pool_now_ms();
  pool.all[slot] = h;
  if (ae_add_file_event(pool.loop, h->child.fd, AE_READABLE, pool_readable,
                        h) != 0) {
    pool_kill(h, "could not be watched", 1);
    return NULL;
  }
  /* Answers are handshake work: second dispatch pass (ae_set_deferred). */
  ae_set_deferred(pool.loop, h->child.fd, 1);
  ipc_config config;
  tls_settings_to_ipc(&gen->settings, &config);
  size_t n = ipc_build_config(pool.buf, sizeof(pool.buf), &config);
  int sent = n > 0 && pool_send(h, pool.buf, n);
  OPENSSL_cleanse(pool.buf, n); /* held the key passphrase */
  /* A verifier never gets the ticket keys. */
  if (!sent || (!verifier && !pool_send_ticket_keys(h))) {
    pool_kill(h, n == 0 ? "configuration too large" : "could not be configured",
              1);
    return NULL;
  }
  tls_log(TLS_LOG_NOTICE, "TLS %s started, pid %d (generation %llu)",
          verifier ? "certificate verifier" : "handshaker", (int)h->child.pid,
          (unsigned long long)gen->id);
  return h;
}

/* ---- answers ---------------------------------------------------------- */

static void pool_detach(tls_conn *conn) {
  tls_handshaker *h = conn->handshaker;
  if (h == NULL) {
    return;
  }
  pool_hash_remove(conn);
  conn->handshaker = NULL;
  conn->awaiting = 0;
  h->assigned--;
  pool_retire_if_idle(h);
}

/* pool_dispatch handles one answer. Returns 0 after a protocol violation
 * (|h| killed). */
static int pool_dispatch(tls_handshaker *h, const ipc_message *msg) {
  switch (msg->type) {
    case IPC_ANS_READY:
      if (h->state != HANDSHAKER_STARTING) {
        pool_kill(h, "sent READY twice (protocol violation)", 1);
        return 0;
      }
      h->state = HANDSHAKER_READY;
      h->state_ms = pool_now_ms();
      if (h->verifier) {
        return 1; /* no certificate of its own; no record waits for it */
      }
      snprintf(h->gen->cert_subject, sizeof(h->gen->cert_subject), "%s",
               msg->cert_subject);
      snprintf(h->gen->cert_issuer, sizeof(h->gen->cert_issuer), "%s",
               msg->cert_issuer);
      h->gen->cert_not_after = msg->cert_not_after;
      h->gen->have_cert_info = 1;
      if (h->gen != pool.current && pool.current != NULL && !h->gen->active) {
        return 1; /* a reload still waiting for its whole generation */
      }
      tls_conn_retry_waiting();
      return 1;
    case IPC_ANS_CONFIG_FAIL:
      if (h->state != HANDSHAKER_STARTING) {
        pool_kill(h, "sent CONFIG_FAIL after READY (protocol violation)", 1);
        return 0;
      }
      snprintf(h->gen->config_fail, sizeof(h->gen->config_fail), "%s",
               msg->reason);
      {
        char what[IPC_MAX_REASON + 64];
        snprintf(what, sizeof(what), "refused its configuration (%s)",
                 msg->reason);
        pool_kill(h, what, 0);
      }
      return 0;
    default:
      break;
  }
  /* Per-connection answers. */
  tls_conn *conn = pool_lookup(msg->conn_id);
  if (conn == NULL) {
    int issued = msg->conn_id != 0 && msg->conn_id < tls_next_conn_id_peek();
    if (issued && h->late_answers_owed > 0) {
      /* The answer to a request main cancelled: expected, ignored. */
      h->late_answers_owed--;
      return 1;
    }
    pool_kill(h,
              issued ? "answered a connection it does not own "
                       "(protocol violation)"
                     : "answered an unknown connection (protocol violation)",
              1);
    return 0;
  }
  if (conn->handshaker != h || !conn->awaiting ||
      h->state == HANDSHAKER_STARTING) {
    pool_kill(h, "answered out of turn (protocol violation)", 1);
    return 0;
  }
  conn->awaiting = 0;
  /* The answer must be of the kind asked: VERIFIED only from a verifier
   * for a VERIFY, SIGNED for a SIGN, the handshake answers for a RECORD
   * (FAIL for any). */
  int verifying =
      conn->identity != NULL && conn->identity->state == TLS_VERIFY_PENDING;
  if (verifying != h->verifier ||
      (msg->type == IPC_ANS_VERIFIED) != verifying ||
      ((msg->type == IPC_ANS_SIGNED) !=
           (conn->sign_state == TLS_SIGN_PENDING) &&
       msg->type != IPC_ANS_FAIL)) {
    pool_kill(h, "answered with the wrong kind (protocol violation)", 1);
    return 0;
  }
  if (msg->type == IPC_ANS_DONE || msg->type == IPC_ANS_FAIL ||
      msg->type == IPC_ANS_SIGNED || msg->type == IPC_ANS_VERIFIED) {
    /* The handshaker forgot it: no ABORT needed any more. */
    pool_detach(conn);
  }
  if (verifying) {
    tls_peer_on_answer(conn, msg);
  } else if (conn->is_client) {
    tls_client_on_answer(conn, msg);
  } else {
    tls_conn_on_answer(conn, msg);
  }
  return 1;
}

static void pool_readable(ae_loop *loop, int fd, void *data, int mask) {
  (void)loop;
  (void)mask;
  tls_handshaker *h = data;
  for (int i = 0; i < TLS_POOL_ANSWERS_PER_WAKEUP; i++) {
    struct iovec iov = {.iov_base = pool.buf, .iov_len = sizeof(pool.buf)};
    struct msghdr mh;
    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return;
    }
    if (n < 0 && (errno == EINTR || errno == ECONNRESET)) {
      /* ECONNRESET: the handshaker exited with requests unread (e.g. the
       * ticket keys after a CONFIG_FAIL). The error is reported once,
       * before the datagrams it sent: keep reading them. */
      continue;
    }
    if (n == 0 || n < 0) {
      pool_kill(
          h,
          h->state == HANDSHAKER_STARTING ? "exited during start-up" : "exited",
          0);
      return;
    }
    ipc_message msg;
    if ((mh.msg_flags & MSG_TRUNC) || n > IPC_MAX_MESSAGE ||
        !ipc_parse_answer(pool.buf, (size_t)n, &msg)) {
      pool_kill(h, "sent a malformed message (protocol violation)", 1);
      return;
    }
    h->last_answer_ms = pool_now_ms();
    int ok = pool_dispatch(h, &msg);
    /* DONE carries traffic secrets. */
    if (msg.type == IPC_ANS_DONE) {
      OPENSSL_cleanse(pool.buf, (size_t)n);
    }
    ipc_message_cleanup(&msg);
    if (!ok || h->child.fd < 0) {
      return;
    }
  }
}

/* ---- public ----------------------------------------------------------- */

void tls_pool_init(ae_loop *loop) {
  pool.loop = loop;
  sandbox_backoff_reset(&pool.respawn);
}

/* pool_count_role: |gen|'s handshakers (|verifiers|: its verifiers) that
 * are READY (or starting, with |include_starting|). */
static int pool_count_role(tls_generation *gen, int include_starting,
                           int verifiers) {
  int count = 0;
  for (int i = 0; i < TLS_POOL_MAX_HANDSHAKERS; i++) {
    tls_handshaker *h = pool.all[i];
    if (h != NULL && h->gen == gen && h->verifier == verifiers &&
        (h->state == HANDSHAKER_READY ||
         (include_starting && h->state == HANDSHAKER_STARTING))) {
      count++;
    }
  }
  return count;
}

static int pool_count(tls_generation *gen, int include_starting) {
  return pool_count_role(gen, include_starting, 0);
}

/* pool_wants_verifier: |gen| verifies peer chains (it has a CA). */
static int pool_wants_verifier(const tls_generation *gen) {
  return gen->settings.ca_cert_file != NULL ||
         gen->settings.ca_cert_dir != NULL;
}

int tls_pool_alive_count(void) {
  int count = 0;
  for (int i = 0; i < TLS_POOL_MAX_HANDSHAKERS; i++) {
    if (pool.all[i] != NULL && !pool.all[i]->verifier &&
        pool.all[i]->state <= HANDSHAKER_RETIRING &&
        pool.all[i]->state != HANDSHAKER_STARTING) {
      count++;
    }
  }
  return count;
}

int tls_pool_wanted_count(void) {
  tls_tunables tun;
  tls_read_tunables(&tun);
  int n = tun.handshake_workers;
  if (n < 1) {
    n = 1;
  }
  if (n > TLS_POOL_MAX_HANDSHAKERS / 4) {
    n = TLS_POOL_MAX_HANDSHAKERS / 4;
  }
  return n;
}

int tls_pool_start_generation(tls_generation *gen, int count,
                              long long timeout_ms) {
  for (int i = 0; i < count; i++) {
    pool_spawn(gen, 0);
  }
  if (pool_wants_verifier(gen)) {
    pool_spawn(gen, 1);
  }
  long long deadline = pool_now_ms() + timeout_ms;
  for (;;) {
    struct pollfd fds[TLS_POOL_MAX_HANDSHAKERS];
    tls_handshaker *who[TLS_POOL_MAX_HANDSHAKERS];
    int nfds = 0;
    for (int i = 0; i < TLS_POOL_MAX_HANDSHAKERS; i++) {
      tls_handshaker *h = pool.all[i];
      if (h != NULL && h->gen == gen && h->state == HANDSHAKER_STARTING &&
          h->child.fd >= 0) {
        fds[nfds].fd = h->child.fd;
        fds[nfds].events = POLLIN;
        fds[nfds].revents = 0;
        who[nfds++] = h;
      }
    }
    if (nfds == 0) {
      break;
    }
    long long left = deadline - pool_now_ms();
    if (left <= 0) {
      for (int i = 0; i < nfds; i++) {
        pool_kill(who[i], "did not become ready in time", 1);
      }
      break;
    }
    int r = poll(fds, (nfds_t)nfds, (int)left);
    if (r < 0 && errno != EINTR) {
      break;
    }
    for (int i = 0; i < nfds && r > 0; i++) {
      if (fds[i].revents != 0) {
        pool_readable(pool.loop, who[i]->child.fd, who[i], AE_READABLE);
      }
    }
  }
  if (pool_wants_verifier(gen) && pool_count_role(gen, 0, 1) == 0) {
    /* Without its verifier a generation could not check any certificate:
     * it does not start. */
    if (gen->config_fail[0] == '\0') {
      snprintf(gen->config_fail, sizeof(gen->config_fail),
               "the certificate verifier process did not start (see the "
               "log)");
    }
    return 0;
  }
  return pool_count(gen, 0);
}

void tls_pool_activate(tls_generation *gen) {
  tls_generation *old = pool.current;
  gen->active = 1;
  pool.current = gen;
  gen->refs++;
  if (old != NULL && old != gen) {
    old->active = 0;
    for (int i = 0; i < TLS_POOL_MAX_HANDSHAKERS; i++) {
      tls_handshaker *h = pool.all[i];
      if (h != NULL && h->gen == old && h->state <= HANDSHAKER_READY) {
        h->state = HANDSHAKER_RETIRING;
        h->state_ms = pool_now_ms();
        pool_retire_if_idle(h);
      }
    }
    tls_generation_release(old);
  }
  sandbox_backoff_reset(&pool.respawn);
  tls_conn_retry_waiting();
}

void tls_pool_discard_generation(tls_generation *gen) {
  for (int i = 0; i < TLS_POOL_MAX_HANDSHAKERS; i++) {
    tls_handshaker *h = pool.all[i];
    if (h != NULL && h->gen == gen && h->state < HANDSHAKER_EXITING) {
      pool_close_fd(h);
      h->state = HANDSHAKER_EXITING;
      h->state_ms = pool_now_ms();
    }
  }
}

/* pool_pick returns the least-loaded READY handshaker of the current
 * generation. */
static tls_handshaker *pool_pick(void) {
  tls_handshaker *best = NULL;
  for (int i = 0; i < TLS_POOL_MAX_HANDSHAKERS; i++) {
    tls_handshaker *h = pool.all[i];
    if (h != NULL && !h->verifier && h->gen == pool.current &&
        h->state == HANDSHAKER_READY && !h->broken &&
        (best == NULL || h->assigned < best->assigned)) {
      best = h;
    }
  }
  return best;
}

int tls_pool_submit(tls_conn *conn) {
  if (conn->handshaker == NULL) {
    tls_handshaker *h = pool_pick();
    if (h == NULL) {
      return 2; /* wait for a handshaker to become ready */
    }
    conn->handshaker = h;
    h->assigned++;
    if (conn->gen == NULL) {
      conn->gen = h->gen;
      h->gen->refs++;
    }
    tls_conn **bucket = pool_bucket(conn->id);
    conn->hash_next = *bucket;
    *bucket = conn;
  }
  size_t n = ipc_build_record(pool.buf, sizeof(pool.buf), conn->id, conn->rec,
                              conn->rec_got);
  if (n == 0 || !pool_send(conn->handshaker, pool.buf, n)) {
    return 0;
  }
  conn->awaiting = 1;
  conn->awaiting_since_ms = pool_now_ms();
  return 1;
}

/* pool_pick_for returns the least-loaded live handshaker of |gen| (its key
 * goes with the certificate |gen|'s client context presents), or with
 * |verifier| its least-loaded live verifier. */
static tls_handshaker *pool_pick_for(tls_generation *gen, int verifier) {
  tls_handshaker *best = NULL;
  for (int i = 0; i < TLS_POOL_MAX_HANDSHAKERS; i++) {
    tls_handshaker *h = pool.all[i];
    if (h != NULL && h->gen == gen && h->verifier == verifier &&
        (h->state == HANDSHAKER_READY || h->state == HANDSHAKER_RETIRING) &&
        !h->broken && (best == NULL || h->assigned < best->assigned)) {
      best = h;
    }
  }
  return best;
}

int tls_pool_submit_sign(tls_conn *conn, uint16_t sigalg, const uint8_t *in,
                         size_t len) {
  if (conn->handshaker == NULL) {
    tls_handshaker *h = pool_pick_for(conn->gen, 0);
    if (h == NULL) {
      return 0;
    }
    conn->handshaker = h;
    h->assigned++;
    tls_conn **bucket = pool_bucket(conn->id);
    conn->hash_next = *bucket;
    *bucket = conn;
  }
  size_t n =
      ipc_build_sign(pool.buf, sizeof(pool.buf), conn->id, sigalg, in, len);
  if (n == 0 || !pool_send(conn->handshaker, pool.buf, n)) {
    return 0;
  }
  conn->awaiting = 1;
  conn->awaiting_since_ms = pool_now_ms();
  return 1;
}

int tls_pool_submit_verify(tls_conn *conn, uint8_t purpose,
                           const uint8_t *const *certs, const size_t *lens,
                           size_t count) {
  if (conn->handshaker != NULL) {
    return 0; /* a connection has one request outstanding at a time */
  }
  /* The connection's own generation's verifier (its CA), else the current
   * one's: a reload may have retired the first meanwhile. */
  tls_handshaker *h = conn->gen != NULL ? pool_pick_for(conn->gen, 1) : NULL;
  if (h == NULL && pool.current != NULL) {
    h = pool_pick_for(pool.current, 1);
  }
  if (h == NULL) {
    return 0;
  }
  size_t n = ipc_build_verify(pool.buf, sizeof(pool.buf), conn->id, purpose,
                              certs, lens, count);
  if (n == 0) {
    return 0;
  }
  conn->handshaker = h;
  h->assigned++;
  tls_conn **bucket = pool_bucket(conn->id);
  conn->hash_next = *bucket;
  *bucket = conn;
  if (!pool_send(h, pool.buf, n)) {
    pool_detach(conn);
    return 0;
  }
  conn->awaiting = 1;
  conn->awaiting_since_ms = pool_now_ms();
  return 1;
}

void tls_pool_forget(tls_conn *conn) {
  tls_handshaker *h = conn->handshaker;
  if (h == NULL) {
    return;
  }
  if (h->state <= HANDSHAKER_RETIRING) {
    uint8_t msg[32];
    size_t n = ipc_build_abort(msg, sizeof(msg), conn->id);
    if (n > 0) {
      pool_send(h, msg, n);
    }
    if (conn->awaiting) {
      h->late_answers_owed++; /* its answer may be on the way */
    }
  }
  pool_detach(conn);
}

/* pool_kill_unresponsive replaces handshakers that left a request
 * unanswered for TLS_ANSWER_TIMEOUT_MS and answered nothing in that time (a
 * hung or spinning handshaker, not merely a busy one). */
static void pool_kill_unresponsive(long long now) {
  tls_handshaker *stuck[TLS_POOL_MAX_HANDSHAKERS];
  int nstuck = 0;
  for (int b = 0; b < TLS_POOL_CONN_BUCKETS; b++) {
    for (tls_conn *c = pool.buckets[b]; c != NULL; c = c->hash_next) {
      tls_handshaker *h = c->handshaker;
      if (!c->awaiting || h == NULL || h->state > HANDSHAKER_RETIRING ||
          now - c->awaiting_since_ms <= TLS_ANSWER_TIMEOUT_MS ||
          now - h->last_answer_ms <= TLS_ANSWER_TIMEOUT_MS) {
        continue;
      }
      int seen = 0;
      for (int k = 0; k < nstuck; k++) {
        seen |= stuck[k] == h;
      }
      if (!seen && nstuck < TLS_POOL_MAX_HANDSHAKERS) {
        stuck[nstuck++] = h;
      }
    }
  }
  for (int k = 0; k < nstuck; k++) {
    pool_kill(stuck[k], "did not answer a request in time", 1);
  }
}

void tls_pool_cron(void) {
  long long now = pool_now_ms();
  pool_kill_unresponsive(now);
  for (int i = 0; i < TLS_POOL_MAX_HANDSHAKERS; i++) {
    tls_handshaker *h = pool.all[i];
    if (h == NULL) {
      continue;
    }
    if (h->state <= HANDSHAKER_RETIRING) {
      pool_apply_nice(h); /* after CONFIG SET tls-handshaker-nice */
    }
    if (h->state == HANDSHAKER_STARTING &&
        now - h->state_ms > TLS_START_TIMEOUT_MS) {
      pool_kill(h, "did not become ready in time", 1);
    } else if (h->broken && h->state <= HANDSHAKER_RETIRING) {
      pool_kill(h, "stopped accepting requests", 1);
    } else if (h->state == HANDSHAKER_EXITING && h->child.pid > 0) {
      if (sandbox_try_reap(&h->child)) {
        h->state = HANDSHAKER_DEAD;
      } else if (now - h->state_ms > TLS_EXIT_GRACE_MS) {
        sandbox_kill(&h->child);
      }
    } else if (h->state == HANDSHAKER_EXITING) {
      h->state = HANDSHAKER_DEAD;
    }
    if (h->state == HANDSHAKER_DEAD && h->assigned == 0) {
      tls_generation_release(h->gen);
      free(h);
      pool.all[i] = NULL;
    }
  }
  /* Keep the current generation at strength (its verifier too). */
  tls_generation *gen = pool.current;
  if (gen != NULL && sandbox_backoff_due(&pool.respawn, now) &&
      pool_count(gen, 1) < tls_pool_wanted_count()) {
    tls_stat.handshaker_restarts++;
    sandbox_backoff_after_attempt(&pool.respawn, pool_spawn(gen, 0) == NULL,
                                  now);
  } else if (gen != NULL && sandbox_backoff_due(&pool.respawn, now) &&
             pool_wants_verifier(gen) && pool_count_role(gen, 1, 1) == 0) {
    tls_stat.handshaker_restarts++;
    sandbox_backoff_after_attempt(&pool.respawn, pool_spawn(gen, 1) == NULL,
                                  now);
  }
}

void tls_pool_shutdown(void) {
  for (int i = 0; i < TLS_POOL_MAX_HANDSHAKERS; i++) {
    tls_handshaker *h = pool.all[i];
    if (h == NULL) {
      continue;
    }
    pool_close_fd(h);
    /* Nothing in a handshaker is worth a graceful exit, and a stopped
     * one must not hang shutdown. */
    sandbox_kill_and_reap(&h->child);
    h->state = HANDSHAKER_DEAD;
  }
  tls_ticket_keys_wipe();
}

/* ---- INFO sandbox ------------------------------------------------------- */

size_t tls_sandbox_info_section(char *buf, size_t len) {
  tls_tunables tun;
  tls_read_tunables(&tun);
  tls_generation *gen = pool.current;
  long long signals = 0;
  /* At most 64 "SIGXXXXXXX=<count>," entries plus the fixed causes. */
  char by_cause[64 * 32 + 128] = "";
  size_t cause_len = 0;
  size_t used = 0;
  if (len > 0) {
    buf[0] = '\0';
  }
  /* The signals a handshaker dies of in practice are always listed, zeros
   * included, so that dashboards see a stable schema (issue 18 item 6);
   * any other signal appears once it happened. */
  static const int always[] = {SIGSYS, SIGKILL, SIGSEGV, SIGABRT, SIGBUS};
  for (int sig = 1; sig <= 64; sig++) {
    int listed = 0;
    for (size_t k = 0; k < sizeof(always) / sizeof(always[0]); k++) {
      listed |= always[k] == sig;
    }
    if (listed || sandbox_stat.by_signal[sig] > 0) {
      tls_appendf(by_cause, sizeof(by_cause), &cause_len, "SIG%s=%lld,",
                  sandbox_signal_name(sig), sandbox_stat.by_signal[sig]);
      signals += sandbox_stat.by_signal[sig];
    }
  }
  tls_appendf(by_cause, sizeof(by_cause), &cause_len,
              "exit=%lld,protocol_violation=%lld,timeout=%lld",
              sandbox_stat.exits, sandbox_stat.protocol_violations,
              sandbox_stat.timeouts);
  tls_appendf(
      buf, len, &used,
      "sandbox_handshakers_alive:%d\r\n"
      "sandbox_handshakers_configured:%d\r\n"
      "sandbox_handshaker_nice:%d\r\n"
      "sandbox_seccomp:%s\r\n"
      "sandbox_user:%s\r\n"
      "sandbox_handshaker_restarts:%lld\r\n"
      "sandbox_handshaker_deaths:%lld\r\n"
      "sandbox_deaths_by_cause:%s\r\n"
      "sandbox_deaths_sigsys:%lld\r\n"
      "sandbox_deaths_sigkill:%lld\r\n"
      "sandbox_deaths_other_signal:%lld\r\n"
      "sandbox_deaths_exit:%lld\r\n"
      "sandbox_deaths_protocol_violation:%lld\r\n"
      "sandbox_deaths_timeout:%lld\r\n"
      "sandbox_last_death_reason:%s\r\n"
      "sandbox_last_death_time:%lld\r\n",
      tls_pool_alive_count(), tls_pool_wanted_count(), tun.handshaker_nice,
      gen == NULL             ? "n/a"
      : gen->settings.seccomp ? "yes"
                              : "no",
      gen != NULL && gen->settings.sandbox_user ? gen->settings.sandbox_user
                                                : "-",
      tls_stat.handshaker_restarts, tls_stat.handshaker_deaths, by_cause,
      sandbox_stat.by_signal[SIGSYS], sandbox_stat.by_signal[SIGKILL],
      signals - sandbox_stat.by_signal[SIGSYS] -
          sandbox_stat.by_signal[SIGKILL],
      sandbox_stat.exits, sandbox_stat.protocol_violations,
      sandbox_stat.timeouts,
      sandbox_stat.last_reason[0] ? sandbox_stat.last_reason : "none",
      sandbox_stat.last_time);
  return used;
}

/* ---- test hooks (-DREDOUBT_TEST_HOOKS only) ----------------------------- */

#ifdef REDOUBT_TEST_HOOKS
static const char *const pool_test_syscalls[] = {"openat", "socket", "execve",
                                                 "ptrace"};
static const char *const pool_test_misbehaviours[] = {
    "wrong-conn-id",
    "truncated",
    "oversized",
    "wrong-type",
    "done-while-reading",
    "silent",
    "stale-conn-id",
    "forge-resumed-identity",
    "unbind-resumed-identity"};

static int pool_name_in(const char *name, const char *const *list,
                        size_t count) {
  for (size_t i = 0; i < count; i++) {
    if (strcmp(name, list[i]) == 0) {
      return 1;
    }
  }
  return 0;
}

int tls_test_hook(const char *what, const char *arg, int *pids, int max_pids,
                  char *err, size_t err_len) {
  char name[IPC_MAX_REASON + 1];
  int all = 0;
  if (strcmp(what, "syscall") == 0) {
    if (!pool_name_in(arg, pool_test_syscalls, 4)) {
      snprintf(err, err_len, "unknown syscall (openat|socket|execve|ptrace)");
      return -1;
    }
    snprintf(name, sizeof(name), "%s", arg);
  } else if (strcmp(what, "misbehave") == 0) {
    if (!pool_name_in(arg, pool_test_misbehaviours,
                      sizeof(pool_test_misbehaviours) /
                          sizeof(pool_test_misbehaviours[0]))) {
      snprintf(err, err_len,
               "unknown kind (wrong-conn-id|truncated|oversized|wrong-type|"
               "done-while-reading|silent|stale-conn-id|"
               "forge-resumed-identity|unbind-resumed-identity)");
      return -1;
    }
    /* Armed misbehaviour must meet the test's connection, wherever the
     * pool sends it. */
    all = strcmp(arg, "done-while-reading") == 0 ||
          strcmp(arg, "silent") == 0 ||
          strstr(arg, "-resumed-identity") != NULL;
    snprintf(name, sizeof(name), "misbehave:%s", arg);
  } else {
    snprintf(err, err_len, "unknown test hook");
    return -1;
  }
  size_t n = ipc_build_test_syscall(pool.buf, sizeof(pool.buf), name);
  int count = 0;
  for (int i = 0; i < TLS_POOL_MAX_HANDSHAKERS && count < max_pids; i++) {
    tls_handshaker *h = pool.all[i];
    if (h == NULL || h->verifier || h->state != HANDSHAKER_READY ||
        h->gen != pool.current || h->child.fd < 0) {
      continue;
    }
    if (n == 0 || !pool_send(h, pool.buf, n)) {
      continue;
    }
    tls_log(TLS_LOG_WARNING, "TEST: asked handshaker pid %d to %s %s",
            (int)h->child.pid, what, arg);
    pids[count++] = (int)h->child.pid;
    if (!all) {
      break;
    }
  }
  if (count == 0) {
    snprintf(err, err_len, "no ready handshaker");
    return -1;
  }
  return count;
}
#endif
