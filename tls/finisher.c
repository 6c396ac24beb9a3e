/* finisher.c: the thread of main that completes handshakes after handback.
 *
 * After DONE, main's SSL (no key) still has to read the client's second
 * flight: with mutual TLS the Certificate message (kept as opaque DER
 * buffers, at most TLS_MAX_PEER_CERT_LIST; the chain is verified by a
 * verifier process, see below and tls/peer.c), the CertificateVerify
 * signature (checked here with the leaf's public key: an ECDSA P-256 verify
 * alone costs ~0.15 ms), the Finished, then writing the session tickets. With writing the server's flight and applying the
 * handback, that was about three quarters of main's per-handshake work
 * during a storm of 200 new connections/s, run on the event loop between
 * established clients' requests (issue 4: storm isolation). This thread does
 * it instead: at DONE main hands over the connection (whose fd it no longer
 * watches) with the handshaker's last bytes and the handback; the thread
 * writes the bytes, applies the handback to a new SSL on main's context and
 * drives SSL_do_handshake with its own epoll until the handshake completes,
 * fails or reaches its deadline, and hands the connection back
 * through an eventfd that main's loop watches in its second pass. Main then
 * applies the client-certificate policy, logs and counts, exactly as if it
 * had completed the handshake itself.
 *
 * A client certificate interrupts this: the verify callback pauses the
 * handshake (SSL_ERROR_WANT_CERTIFICATE_VERIFY) and the thread hands the
 * connection back with fin_need_verify set; main sends the chain to a
 * verifier (the thread never touches the pool) and, with the verdict,
 * submits the connection again with what is left of its deadline.
 *
 * Ownership: while a connection is here (conn->finishing), only this thread
 * touches conn->ssl, flight, handback, its fd and the fin_* fields; main
 * touches none of them and skips the connection in its timeout sweep. The
 * queues are guarded by one mutex. The thread never logs and never calls into
 * the server; it runs at the handshakers' priority (tls-handshaker-nice), below
 * main's.
 *
 * If the thread cannot start, handshakes complete on main's loop as before
 * (logged once). */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "tls/internal.h"

#define FIN_MAX_EVENTS 64

static struct {
  int running;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t started;
  pid_t tid;                /* the thread's id, for setpriority */
  int epfd;                 /* the thread's: wake_fd + connections */
  int wake_fd;              /* main -> thread: inbox not empty, or stop */
  int done_fd;              /* thread -> main: outbox not empty */
  int stop;                 /* guarded by lock */
  tls_conn *inbox, *outbox; /* guarded by lock (LIFO; order is irrelevant) */
  tls_conn *work;           /* the thread's own list */
  int nice_applied;
  int nice_warned;
  ae_loop *loop;
} fin = {.lock = PTHREAD_MUTEX_INITIALIZER,
         .started = PTHREAD_COND_INITIALIZER,
         .epfd = -1,
         .wake_fd = -1,
         .done_fd = -1,
         .nice_applied = -1};

static void fin_signal(int fd) {
  uint64_t one = 1;
  ssize_t n;
  do {
    n = write(fd, &one, sizeof(one));
  } while (n < 0 && errno == EINTR);
  /* EAGAIN: the counter is already non-zero, the reader will wake. */
}

static void fin_drain(int fd) {
  uint64_t count;
  ssize_t n;
  do {
    n = read(fd, &count, sizeof(count));
  } while (n < 0 && errno == EINTR);
}

/* ---- the thread ------------------------------------------------------- */

static void fin_unwatch(tls_conn *conn) {
  if (conn->fin_events != 0) {
    epoll_ctl(fin.epfd, EPOLL_CTL_DEL, conn->c.fd, NULL);
    conn->fin_events = 0;
  }
}

static int fin_watch(tls_conn *conn, uint32_t events) {
  struct epoll_event ev = {.events = events | EPOLLONESHOT, .data.ptr = conn};
  int op = conn->fin_events != 0 ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(fin.epfd, op, conn->c.fd, &ev) != 0) {
    return 0;
  }
  conn->fin_events = (int)events;
  return 1;
}

static void fin_work_remove(tls_conn *conn) {
  for (tls_conn **p = &fin.work; *p != NULL; p = &(*p)->fin_next) {
    if (*p == conn) {
      *p = conn->fin_next;
      break;
    }
  }
  conn->fin_next = NULL;
}

/* fin_hand_back returns |conn| to main with its result filled in. */
static void fin_hand_back(tls_conn *conn) {
  fin_unwatch(conn);
  fin_work_remove(conn);
  pthread_mutex_lock(&fin.lock);
  conn->fin_next = fin.outbox;
  fin.outbox = conn;
  pthread_mutex_unlock(&fin.lock);
  fin_signal(fin.done_fd);
}

/* fin_fail hands |conn| back with the final reason in fin_errors. */
static void fin_fail(tls_conn *conn, int quiet, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fin_fail(tls_conn *conn, int quiet, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(conn->fin_errors, sizeof(conn->fin_errors), fmt, ap);
  va_end(ap);
  conn->fin_final = 1;
  conn->fin_quiet = quiet;
  fin_hand_back(conn);
}

/* fin_flush writes the handshaker's last bytes (the server's flight) to
 * the client. Returns 1 once all are written; 0 if waiting for the socket
 * or handed back. */
static int fin_flush(tls_conn *conn) {
  int r = tls_write_pending(conn->c.fd, conn->flight, conn->flight_len,
                            &conn->flight_off);
  if (r == 0) {
    if (!fin_watch(conn, EPOLLOUT)) {
      fin_fail(conn, 0, "cannot watch the socket: %s", strerror(errno));
    }
    return 0;
  }
  if (r < 0) {
    fin_fail(conn, 1, "write to client failed: %s",
             errno ? strerror(errno) : "short write");
    return 0;
  }
  free(conn->flight);
  conn->flight = NULL;
  conn->flight_len = conn->flight_off = 0;
  return 1;
}

/* fin_apply_handback gives |conn| main's SSL (no key) with the session the
 * handshaker handed back. Returns 1, or 0 (handed back as failed). */
static int fin_apply_handback(tls_conn *conn) {
  char why[IPC_MAX_REASON];
  if (!tls_conn_apply_handback(conn, why, sizeof(why))) {
    fin_fail(conn, 0, "%s", why);
    return 0;
  }
  return 1;
}

/* fin_step runs main's SSL as far as the socket allows. */
static void fin_step(tls_conn *conn) {
  ERR_clear_error();
  int ret = SSL_do_handshake(conn->ssl);
  if (ret == 1) {
    /* Send the TLS 1.3 tickets from here, off the event loop; main flushes
     * again (a no-op unless the socket was full) when it takes the
     * connection back. */
    (void)tls_flush_held(conn->ssl);
    conn->fin_ret = 1;
    fin_hand_back(conn);
    return;
  }
  int code = SSL_get_error(conn->ssl, ret);
  if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE) {
    if (!fin_watch(conn, code == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT)) {
      fin_fail(conn, 0, "cannot watch the socket: %s", strerror(errno));
    }
    return;
  }
  if (code == SSL_ERROR_WANT_CERTIFICATE_VERIFY) {
    /* Main asks a verifier, then submits the connection again. */
    conn->fin_need_verify = 1;
    fin_hand_back(conn);
    return;
  }
  conn->fin_ret = ret;
  conn->fin_code = code;
  conn->fin_verify = tls_peer_verify_result(conn);
  tls_collect_errors(conn->fin_errors, sizeof(conn->fin_errors));
  fin_hand_back(conn);
}

/* fin_advance moves |conn| on: flush, apply the handback, handshake. */
static void fin_advance(tls_conn *conn) {
  if (conn->flight != NULL && !fin_flush(conn)) {
    return;
  }
  if (conn->ssl == NULL && !fin_apply_handback(conn)) {
    return;
  }
  fin_step(conn);
}

/* fin_expire hands back every connection past its deadline. Returns the
 * epoll timeout until the next deadline (-1: none). */
static int fin_expire(void) {
  long long now = (long long)ae_monotonic_us();
  long long next = -1;
  tls_conn *conn = fin.work;
  while (conn != NULL) {
    tls_conn *following = conn->fin_next;
    if (now >= conn->fin_deadline_us) {
      conn->fin_timed_out = 1;
      fin_hand_back(conn);
    } else if (next < 0 || conn->fin_deadline_us < next) {
      next = conn->fin_deadline_us;
    }
    conn = following;
  }
  if (next < 0) {
    return -1;
  }
  long long ms = (next - now + 999) / 1000;
  return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

static void *fin_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&fin.lock);
  fin.tid = gettid();
  pthread_setname_np(pthread_self(), "redoubt-tls-fin");
  pthread_cond_signal(&fin.started);
  pthread_mutex_unlock(&fin.lock);
  struct epoll_event events[FIN_MAX_EVENTS];
  for (;;) {
    int timeout = fin_expire();
    int n = epoll_wait(fin.epfd, events, FIN_MAX_EVENTS, timeout);
    if (n < 0 && errno != EINTR) {
      n = 0; /* cannot happen with valid fds; deadlines still run */
    }
    for (int i = 0; i < n; i++) {
      tls_conn *conn = events[i].data.ptr;
      if (conn == NULL) {
        fin_drain(fin.wake_fd);
        continue;
      }
      /* One-shot: disarmed but still registered (fin_events stays set). */
      fin_advance(conn);
    }
    pthread_mutex_lock(&fin.lock);
    int stop = fin.stop;
    tls_conn *incoming = fin.inbox;
    fin.inbox = NULL;
    pthread_mutex_unlock(&fin.lock);
    if (stop) {
      /* Leave the connections reachable (fin.work); the server exits. */
      while (incoming != NULL) {
        tls_conn *next = incoming->fin_next;
        incoming->fin_next = fin.work;
        fin.work = incoming;
        incoming = next;
      }
      return NULL;
    }
    while (incoming != NULL) {
      tls_conn *next = incoming->fin_next;
      incoming->fin_next = fin.work;
      fin.work = incoming;
      fin_advance(incoming);
      incoming = next;
    }
  }
}

/* ---- main's side ------------------------------------------------------ */

static void fin_done_event(ae_loop *loop, int fd, void *data, int mask) {
  (void)loop;
  (void)data;
  (void)mask;
  fin_drain(fd);
  pthread_mutex_lock(&fin.lock);
  tls_conn *done = fin.outbox;
  fin.outbox = NULL;
  pthread_mutex_unlock(&fin.lock);
  while (done != NULL) {
    tls_conn *next = done->fin_next;
    done->fin_next = NULL;
    done->finishing = 0;
    tls_conn_on_finished(done);
    done = next;
  }
}

void tls_finisher_apply_nice(void) {
  tls_tunables tun;
  tls_read_tunables(&tun);
  int wanted = tun.handshaker_nice;
  if (!fin.running || fin.nice_applied == wanted) {
    return;
  }
  int value = tls_handshake_nice_value();
  if (setpriority(PRIO_PROCESS, (id_t)fin.tid, value) != 0 &&
      !fin.nice_warned) {
    fin.nice_warned = 1;
    tls_log(TLS_LOG_WARNING,
            "TLS: cannot set the handshake-completion thread to nice %d: "
            "%s (tls-handshaker-nice)",
            value, strerror(errno));
  }
  fin.nice_applied = wanted;
}

int tls_finisher_start(ae_loop *loop) {
  if (fin.running) {
    return 1;
  }
  const char *what = NULL;
  fin.epfd = epoll_create1(EPOLL_CLOEXEC);
  fin.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  fin.done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  if (fin.epfd < 0 || fin.wake_fd < 0 || fin.done_fd < 0) {
    what = "epoll/eventfd";
  } else if (epoll_ctl(fin.epfd, EPOLL_CTL_ADD, fin.wake_fd, &ev) != 0) {
    what = "epoll_ctl";
  } else if (ae_add_file_event(loop, fin.done_fd, AE_READABLE, fin_done_event,
                               NULL) != 0) {
    what = "ae_add_file_event";
  } else if (pthread_create(&fin.thread, NULL, fin_main, NULL) != 0) {
    ae_delete_file_event(loop, fin.done_fd, AE_READABLE);
    what = "pthread_create";
  }
  if (what != NULL) {
    tls_log(TLS_LOG_WARNING,
            "TLS: cannot start the handshake-completion thread (%s: %s); "
            "handshakes complete on the event loop",
            what, strerror(errno));
    if (fin.epfd >= 0) close(fin.epfd);
    if (fin.wake_fd >= 0) close(fin.wake_fd);
    if (fin.done_fd >= 0) close(fin.done_fd);
    fin.epfd = fin.wake_fd = fin.done_fd = -1;
    return 0;
  }
  /* Completed handshakes wait for the second pass, behind established
   * clients, like every other piece of handshake work. */
  ae_set_deferred(loop, fin.done_fd, 1);
  pthread_mutex_lock(&fin.lock);
  while (fin.tid == 0) {
    pthread_cond_wait(&fin.started, &fin.lock);
  }
  pthread_mutex_unlock(&fin.lock);
  fin.loop = loop;
  fin.running = 1;
  fin.nice_applied = -1;
  tls_finisher_apply_nice();
  return 1;
}

int tls_finisher_running(void) { return fin.running; }

int tls_finisher_submit(tls_conn *conn, long long deadline_us) {
  if (!fin.running) {
    return 0;
  }
  conn->finishing = 1;
  conn->fin_deadline_us = deadline_us;
  conn->fin_ret = 0;
  conn->fin_code = 0;
  conn->fin_verify = X509_V_OK;
  conn->fin_need_verify = 0;
  conn->fin_timed_out = 0;
  conn->fin_final = 0;
  conn->fin_quiet = 0;
  conn->fin_events = 0;
  conn->fin_errors[0] = '\0';
  pthread_mutex_lock(&fin.lock);
  conn->fin_next = fin.inbox;
  fin.inbox = conn;
  pthread_mutex_unlock(&fin.lock);
  fin_signal(fin.wake_fd);
  return 1;
}

void tls_finisher_stop(void) {
  if (!fin.running) {
    return;
  }
  pthread_mutex_lock(&fin.lock);
  fin.stop = 1;
  pthread_mutex_unlock(&fin.lock);
  fin_signal(fin.wake_fd);
  pthread_join(fin.thread, NULL);
  ae_delete_file_event(fin.loop, fin.done_fd, AE_READABLE);
  fin.running = 0;
}
