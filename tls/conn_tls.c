/* conn_tls.c: the TLS connection type.
 *
 * Handshake (DESIGN.md "Process model"): main reads the client's bytes one
 * whole TLS record at a time (5-byte header checked, body bounded, never
 * reading past the record so nothing is left behind in a buffer), sends
 * each record to a handshaker and waits for its answer; it writes the
 * answer's bytes to the client; at DONE it applies the handback to an SSL
 * on its own context (no key) and completes the handshake on the socket,
 * where the client's certificate chain, read as opaque bytes, is checked by
 * a verifier process (tls/peer.c). Only then does the connection become a
 * client (the host's accepted callback, tls_host).
 *
 * After the handshake: non-blocking SSL_read/SSL_write with WANT_WRITE
 * during a read and WANT_READ during a write turned into the right event,
 * decrypted bytes left inside BoringSSL processed through the pending hook,
 * the error queue cleared before every operation, close_notify on close.
 *
 * Lifetime: handlers run holding a reference; conn_close during a handler
 * only marks the connection, which is freed when the handler returns. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls/internal.h"
#include "tls/tls.h"

/* New TLS connections accepted per wakeup of the listener. Each costs main
 * an accept, socket options and an epoll registration (~10-20 us); a burst
 * of 1,000 would stall established clients for milliseconds. The listener
 * is level-triggered, so the rest is accepted on the next loop iteration,
 * after the other ready events (issue 4: storm isolation). */
#define TLS_MAX_ACCEPTS_PER_CALL 32
#define TLS_MAX_WRITEV_BYTES (64 * 1024)
#define TLS_RECORD_HEADER 5
#define TLS_DEFAULT_HANDSHAKE_TIMEOUT_MS 10000
#define TLS_DEFAULT_MAX_IN_FLIGHT 1000
/* Handshakes admitted beyond maxclients (see tls_accept): fewer than the 32
 * descriptors start-up reserves above maxclients. */
#define TLS_OVER_BUDGET_HANDSHAKES 16
#define TLS_DEFAULT_CLIENT_HELLO_TIMEOUT_MS 5000

/* Pre-authentication limits (issue 17 item 2). An incoming handshake holds
 * a file descriptor and a slot of tls-max-handshakes-in-flight before the
 * peer has proved anything, so:
 *  - handshakes in flight are counted per source address (IPv4 address, or
 *    IPv6 /64: one host owns a whole /64) and tls-max-handshakes-per-ip
 *    caps each: a connection over it evicts that address's handshake that
 *    has waited longest for its ClientHello (a client behind the same NAT
 *    as an attacker still gets in), or is closed at accept if none waits;
 *  - the time a handshake waits for its client's ClientHello bytes is
 *    capped by tls-client-hello-timeout, well below tls-handshake-timeout
 *    (time spent waiting for a handshaker is not the client's and does not
 *    count);
 *  - when the table is full (tls-max-handshakes-in-flight, or maxclients
 *    counting connected clients and handshakes together: each holds a file
 *    descriptor), the handshake that has waited longest for its ClientHello
 *    is evicted to admit the newcomer; handshakes that have sent a whole
 *    record and are waiting on a handshaker are never evicted. */
#define TLS_SOURCE_BUCKETS 1024 /* per-address counts (power of two) */
#define TLS_SOURCE_KEY_LEN 9    /* family byte + IPv4 address or IPv6 /64 */

typedef struct tls_source tls_source;
struct tls_source {
  tls_source *next;
  uint8_t key[TLS_SOURCE_KEY_LEN];
  int count; /* incoming handshakes in flight from this source */
  /* those waiting for ClientHello bytes, longest first */
  tls_conn *idle_head, *idle_tail;
};

typedef struct tls_connection_extra {
  char ip[INET6_ADDRSTRLEN];
  char cert_subject[IPC_MAX_REASON + 1];
  /* pre-authentication accounting (incoming connections only) */
  int incoming;       /* counted in tc.incoming until the handshake ends */
  tls_source *source; /* the per-address count this handshake holds */
  int hello_done;     /* the handshaker answered the ClientHello */
  int waiting_hello;  /* in the idle list: main waits for the client */
  long long wait_since_ms, waited_ms;
  tls_conn *idle_prev, *idle_next;         /* all sources */
  tls_conn *src_idle_prev, *src_idle_next; /* its source's */
} tls_connection_extra;

static struct {
  uint64_t next_id;
  tls_conn *inflight_head;
  int inflight_count;
  tls_conn *pending_head, *pending_tail;
  unsigned pending_round;
  /* incoming handshakes waiting for ClientHello bytes, longest first */
  tls_conn *idle_head, *idle_tail;
  tls_source *sources[TLS_SOURCE_BUCKETS];
  uint64_t source_seed;
  int incoming; /* incoming handshakes in flight */
  long long refused_per_ip, evicted, client_hello_timeouts;
  uint8_t writev_buf[TLS_MAX_WRITEV_BYTES];
} tc = {.next_id = 1};

/* Per-conn extras live beside the conn (one allocation). */
typedef struct tls_conn_alloc {
  tls_conn conn;
  tls_connection_extra extra;
  unsigned pending_round;
} tls_conn_alloc;

static tls_connection_extra *conn_extra(tls_conn *conn) {
  return &((tls_conn_alloc *)conn)->extra;
}

static const conn_type conn_type_tls;
static void tls_event(ae_loop *loop, int fd, void *data, int mask);
static void tls_really_close(tls_conn *conn);
static void tls_handshake_read_record(tls_conn *conn);
static void tls_handshake_flush(tls_conn *conn);

uint64_t tls_next_conn_id_peek(void) { return tc.next_id; }

/* ---- references ------------------------------------------------------- */

static void tls_enter(tls_conn *conn) { conn->refs++; }

/* tls_leave drops a reference. Returns 0 if |conn| was freed. */
static int tls_leave(tls_conn *conn) {
  conn->refs--;
  if (conn->refs == 0 && conn->close_pending) {
    tls_really_close(conn);
    return 0;
  }
  return 1;
}

static int tls_call(tls_conn *conn, conn_handler handler) {
  if (handler == NULL) {
    return !conn->close_pending;
  }
  tls_enter(conn);
  handler(&conn->c);
  return tls_leave(conn) && !conn->close_pending;
}

/* ---- lists ------------------------------------------------------------ */

static void inflight_add(tls_conn *conn) {
  conn->inflight_prev = NULL;
  conn->inflight_next = tc.inflight_head;
  if (tc.inflight_head) {
    tc.inflight_head->inflight_prev = conn;
  }
  tc.inflight_head = conn;
  tc.inflight_count++;
}

static void inflight_remove(tls_conn *conn) {
  if (conn->inflight_prev) {
    conn->inflight_prev->inflight_next = conn->inflight_next;
  } else if (tc.inflight_head == conn) {
    tc.inflight_head = conn->inflight_next;
  } else {
    return; /* not in the list */
  }
  if (conn->inflight_next) {
    conn->inflight_next->inflight_prev = conn->inflight_prev;
  }
  conn->inflight_prev = conn->inflight_next = NULL;
  tc.inflight_count--;
}

static void pending_add(tls_conn *conn) {
  if (conn->in_pending_list) {
    return;
  }
  conn->in_pending_list = 1;
  ((tls_conn_alloc *)conn)->pending_round = tc.pending_round;
  conn->pending_next = NULL;
  conn->pending_prev = tc.pending_tail;
  if (tc.pending_tail) {
    tc.pending_tail->pending_next = conn;
  } else {
    tc.pending_head = conn;
  }
  tc.pending_tail = conn;
}

static void pending_remove(tls_conn *conn) {
  if (!conn->in_pending_list) {
    return;
  }
  if (conn->pending_prev) {
    conn->pending_prev->pending_next = conn->pending_next;
  } else {
    tc.pending_head = conn->pending_next;
  }
  if (conn->pending_next) {
    conn->pending_next->pending_prev = conn->pending_prev;
  } else {
    tc.pending_tail = conn->pending_prev;
  }
  conn->pending_prev = conn->pending_next = NULL;
  conn->in_pending_list = 0;
}

static long long tls_now_ms(void) {
  return (long long)(ae_monotonic_us() / 1000);
}

/* ---- pre-authentication accounting ------------------------------------ */

/* tls_source_key: the per-address key of |sa| (an IPv6 peer by its /64). */
static void tls_source_key(const struct sockaddr_storage *sa,
                           uint8_t key[TLS_SOURCE_KEY_LEN]) {
  memset(key, 0, TLS_SOURCE_KEY_LEN);
  key[0] = (uint8_t)sa->ss_family;
  if (sa->ss_family == AF_INET) {
    memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
  } else if (sa->ss_family == AF_INET6) {
    memcpy(key + 1, &((const struct sockaddr_in6 *)sa)->sin6_addr, 8);
  }
}

/* tls_source_bucket: FNV-1a with a secret seed. Chains are bounded by the
 * handshakes in flight whatever the peer addresses are; the seed keeps a
 * peer from choosing addresses that share one. */
static tls_source **tls_source_bucket(const uint8_t key[TLS_SOURCE_KEY_LEN]) {
  if (tc.source_seed == 0) {
    RAND_bytes((uint8_t *)&tc.source_seed, sizeof(tc.source_seed));
    tc.source_seed |= 1;
  }
  uint64_t h = 0xcbf29ce484222325ULL ^ tc.source_seed;
  for (int i = 0; i < TLS_SOURCE_KEY_LEN; i++) {
    h = (h ^ key[i]) * 0x100000001b3ULL;
  }
  h ^= h >> 32;
  return &tc.sources[h & (TLS_SOURCE_BUCKETS - 1)];
}

static tls_source *tls_source_find(const uint8_t key[TLS_SOURCE_KEY_LEN]) {
  for (tls_source *src = *tls_source_bucket(key); src != NULL;
       src = src->next) {
    if (memcmp(src->key, key, TLS_SOURCE_KEY_LEN) == 0) {
      return src;
    }
  }
  return NULL;
}

/* tls_source_acquire counts one more handshake for |key|. NULL when out of
 * memory (the handshake is then simply not counted). */
static tls_source *tls_source_acquire(const uint8_t key[TLS_SOURCE_KEY_LEN]) {
  tls_source *src = tls_source_find(key);
  if (src == NULL) {
    src = calloc(1, sizeof(*src));
    if (src == NULL) {
      return NULL;
    }
    memcpy(src->key, key, TLS_SOURCE_KEY_LEN);
    tls_source **bucket = tls_source_bucket(key);
    src->next = *bucket;
    *bucket = src;
  }
  src->count++;
  return src;
}

static void tls_source_release(tls_conn *conn) {
  tls_source *src = conn_extra(conn)->source;
  if (src == NULL) {
    return;
  }
  conn_extra(conn)->source = NULL;
  if (--src->count > 0) {
    return;
  }
  for (tls_source **link = tls_source_bucket(src->key); *link != NULL;
       link = &(*link)->next) {
    if (*link == src) {
      *link = src->next;
      break;
    }
  }
  free(src);
}

/* tls_hello_wait_begin: main now waits for the client's ClientHello bytes
 * (accepted, or asked for the next record of a ClientHello). */
static void tls_hello_wait_begin(tls_conn *conn) {
  tls_connection_extra *x = conn_extra(conn);
  if (!x->incoming || x->hello_done || x->waiting_hello) {
    return;
  }
  x->waiting_hello = 1;
  x->wait_since_ms = tls_now_ms();
  x->idle_next = NULL;
  x->idle_prev = tc.idle_tail;
  if (tc.idle_tail != NULL) {
    conn_extra(tc.idle_tail)->idle_next = conn;
  } else {
    tc.idle_head = conn;
  }
  tc.idle_tail = conn;
  tls_source *src = x->source;
  if (src != NULL) {
    x->src_idle_next = NULL;
    x->src_idle_prev = src->idle_tail;
    if (src->idle_tail != NULL) {
      conn_extra(src->idle_tail)->src_idle_next = conn;
    } else {
      src->idle_head = conn;
    }
    src->idle_tail = conn;
  }
}

/* tls_hello_wait_end: a whole record came (or the handshake ends). */
static void tls_hello_wait_end(tls_conn *conn) {
  tls_connection_extra *x = conn_extra(conn);
  if (!x->waiting_hello) {
    return;
  }
  x->waiting_hello = 0;
  x->waited_ms += tls_now_ms() - x->wait_since_ms;
  if (x->idle_prev != NULL) {
    conn_extra(x->idle_prev)->idle_next = x->idle_next;
  } else {
    tc.idle_head = x->idle_next;
  }
  if (x->idle_next != NULL) {
    conn_extra(x->idle_next)->idle_prev = x->idle_prev;
  } else {
    tc.idle_tail = x->idle_prev;
  }
  x->idle_prev = x->idle_next = NULL;
  tls_source *src = x->source;
  if (src != NULL) {
    if (x->src_idle_prev != NULL) {
      conn_extra(x->src_idle_prev)->src_idle_next = x->src_idle_next;
    } else {
      src->idle_head = x->src_idle_next;
    }
    if (x->src_idle_next != NULL) {
      conn_extra(x->src_idle_next)->src_idle_prev = x->src_idle_prev;
    } else {
      src->idle_tail = x->src_idle_prev;
    }
    x->src_idle_prev = x->src_idle_next = NULL;
  }
}

void tls_conn_for_each_inflight(void (*fn)(tls_conn *conn, void *arg),
                                void *arg) {
  tls_conn *conn = tc.inflight_head;
  while (conn != NULL) {
    tls_conn *next = conn->inflight_next;
    /* |fn| may close |conn| (deferred while referenced), never |next|. */
    tls_enter(conn);
    fn(conn, arg);
    next = conn->inflight_next ? conn->inflight_next : next;
    tls_conn *current = conn;
    conn = next;
    tls_leave(current);
  }
}

int tls_conn_handshakes_in_flight(void) { return tc.inflight_count; }

/* ---- events ----------------------------------------------------------- */

static void tls_set_events(tls_conn *conn, int want_read, int want_write) {
  if (conn->c.fd < 0 || conn->close_pending) {
    return;
  }
  int have = ae_get_file_events(conn->c.loop, conn->c.fd);
  if (want_read && !(have & AE_READABLE)) {
    ae_add_file_event(conn->c.loop, conn->c.fd, AE_READABLE, tls_event, conn);
  } else if (!want_read && (have & AE_READABLE)) {
    ae_delete_file_event(conn->c.loop, conn->c.fd, AE_READABLE);
  }
  if (want_write && !(have & AE_WRITABLE)) {
    ae_add_file_event(conn->c.loop, conn->c.fd, AE_WRITABLE, tls_event, conn);
  } else if (!want_write && (have & AE_WRITABLE)) {
    ae_delete_file_event(conn->c.loop, conn->c.fd, AE_WRITABLE);
  }
  /* A handshake in progress waits for the loop's second pass, behind the
   * established clients (storm isolation). */
  ae_set_deferred(conn->c.loop, conn->c.fd,
                  conn->handshake_state != TLS_HANDSHAKE_CONNECTED);
}

/* tls_update_events (connected): watch what the handlers and the SSL
 * layer need. */
static void tls_update_events(tls_conn *conn) {
  if (conn->handshake_state != TLS_HANDSHAKE_CONNECTED) {
    return;
  }
  tls_set_events(conn, conn->c.read_handler != NULL || conn->write_wants_read,
                 conn->c.write_handler != NULL || conn->read_wants_write ||
                     conn->flush_wants_write);
}

int tls_flush_held(SSL *ssl) {
  static const uint8_t nothing[1];
  ERR_clear_error();
  int ret = SSL_write(ssl, nothing, 0);
  if (ret >= 0) {
    return 1;
  }
  int code = SSL_get_error(ssl, ret);
  ERR_clear_error();
  return code == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

/* tls_flush_held_records (connected): flush, or watch for writability. */
static void tls_flush_held_records(tls_conn *conn) {
  conn->flush_wants_write = tls_flush_held(conn->ssl) == 0;
}

static long long tls_handshake_limit_ms(void) {
  tls_tunables tun;
  tls_read_tunables(&tun);
  return tun.handshake_timeout_ms > 0 ? tun.handshake_timeout_ms
                                      : TLS_DEFAULT_HANDSHAKE_TIMEOUT_MS;
}

/* tls_client_hello_limit_ms: tls-client-hello-timeout, never beyond the
 * whole handshake's limit. */
static long long tls_client_hello_limit_ms(void) {
  tls_tunables tun;
  tls_read_tunables(&tun);
  long long limit = tun.client_hello_timeout_ms > 0
                        ? tun.client_hello_timeout_ms
                        : TLS_DEFAULT_CLIENT_HELLO_TIMEOUT_MS;
  long long whole = tls_handshake_limit_ms();
  return limit < whole ? limit : whole;
}

/* ---- handshake failure and success ----------------------------------- */

static void tls_release_handshake(tls_conn *conn) {
  tls_pool_forget(conn);
  inflight_remove(conn);
  tls_hello_wait_end(conn);
  tls_source_release(conn);
  if (conn_extra(conn)->incoming) {
    conn_extra(conn)->incoming = 0;
    tc.incoming--;
  }
  free(conn->rec);
  conn->rec = NULL;
  free(conn->flight);
  conn->flight = NULL;
  if (conn->handback) {
    OPENSSL_cleanse(conn->handback, conn->handback_len);
    free(conn->handback);
    conn->handback = NULL;
  }
  tls_peer_release(conn);
  tls_generation_release(conn->gen);
  conn->gen = NULL;
}

/* tls_handshake_fail ends a handshake: log, count, close (or report to an
 * accept handler the server already installed). */
static void tls_handshake_fail(tls_conn *conn, const char *reason, int quiet) {
  if (conn->close_pending || conn->handshake_state == TLS_HANDSHAKE_CONNECTED) {
    return;
  }
  tls_stat.handshakes_failed++;
  if (quiet) {
    /* The peer went away or sent nothing: not worth a notice line each. */
    tls_log(TLS_LOG_VERBOSE, "TLS handshake failed: peer=%s reason=%s",
            conn->peer, reason);
  } else {
    /* Counted per source and reason by the host: a flood of half-open
     * sockets writes a line and a summary, not one line each. */
    tls_security_log_peer("tls_handshake_failed", conn_extra(conn)->ip, reason,
                          "peer=%s reason=\"%s\"", conn->peer, reason);
  }
  tls_release_handshake(conn);
  conn->c.state = CONN_STATE_ERROR;
  conn->handshake_state = TLS_HANDSHAKE_CONNECTED; /* no handshake work left */
  if (conn->accept_handler) {
    conn_handler handler = conn->accept_handler;
    conn->accept_handler = NULL;
    tls_call(conn, handler);
    return;
  }
  conn_close(&conn->c);
}

/* tls_check_peer re-checks the certificate policy after the handshake: a
 * configuration slip, or a handshaker vouching for an identity, must
 * refuse, never accept silently (tls/peer.c). */
static int tls_check_peer(tls_conn *conn, char *err, size_t err_len) {
  return tls_peer_check(conn, conn_extra(conn)->cert_subject,
                        sizeof(conn_extra(conn)->cert_subject), err, err_len);
}

static void tls_handshake_complete(tls_conn *conn) {
  char why[IPC_MAX_REASON];
  if (!tls_check_peer(conn, why, sizeof(why))) {
    tls_security_log_peer(
        conn->is_client ? "tls_server_refused" : "tls_client_refused",
        conn_extra(conn)->ip, why, "peer=%s reason=\"%s\"", conn->peer, why);
    tls_handshake_fail(conn, why, 0);
    return;
  }
  tls_stat.handshakes_completed++;
  if (conn->resumed || SSL_session_reused(conn->ssl)) {
    tls_stat.handshakes_resumed++;
  }
  tls_release_handshake(conn);
  conn->handshake_state = TLS_HANDSHAKE_CONNECTED;
  tls_set_events(conn, 0, 0);
  /* TLS 1.3 tickets now, not with the first reply (see tls_flush_held);
   * the completion thread has usually sent them already. */
  tls_flush_held_records(conn);
  if (conn->accept_handler) {
    conn_handler handler = conn->accept_handler;
    conn->accept_handler = NULL;
    conn->c.state = CONN_STATE_CONNECTED;
    if (!tls_call(conn, handler)) {
      return;
    }
  } else {
    /* Only an authenticated peer becomes a client. The host's accepted
     * callback (the server's accept_common_handler) wants
     * CONN_STATE_ACCEPTING and calls conn_accept, which (handshake done)
     * marks the connection CONNECTED and runs the handler. */
    tls_enter(conn);
    tls_host_accepted(&conn->c, conn_extra(conn)->ip);
    if (!tls_leave(conn)) {
      return;
    }
  }
  if (!conn->close_pending) {
    tls_update_events(conn);
    if (SSL_pending(conn->ssl) > 0) {
      pending_add(conn);
    }
  }
}

/* tls_handshake_ssl_failed ends a handshake main's SSL refused: |code| from
 * SSL_get_error, |verify| the verify result, |errors| BoringSSL's queue. */
static void tls_handshake_ssl_failed(tls_conn *conn, int code, long verify,
                                     const char *errors) {
  char why[IPC_MAX_REASON + 64];
  if (verify == X509_V_ERR_INVALID_CALL) {
    verify = X509_V_OK; /* no chain was verified (e.g. no certificate) */
  }
  if (code == SSL_ERROR_SYSCALL && errors[0] == '\0') {
    snprintf(why, sizeof(why), "connection closed by peer during handshake");
  } else {
    snprintf(why, sizeof(why), "%s%s%s",
             errors[0] ? errors : tls_ssl_error_name(code),
             verify != X509_V_OK ? ": " : "",
             verify != X509_V_OK ? X509_verify_cert_error_string(verify) : "");
  }
  if (verify != X509_V_OK || strstr(why, "CERTIFICATE") != NULL) {
    tls_security_log_peer(
        conn->is_client ? "tls_server_refused" : "tls_client_refused",
        conn_extra(conn)->ip, why, "peer=%s reason=\"%s\"", conn->peer, why);
  }
  tls_handshake_fail(conn, why, code == SSL_ERROR_SYSCALL && errors[0] == '\0');
}

/* tls_handshake_continue drives main's SSL after handback on the event loop
 * (when the completion thread is not running). */
static void tls_handshake_continue(tls_conn *conn) {
  ERR_clear_error();
  int ret = SSL_do_handshake(conn->ssl);
  if (ret == 1) {
    tls_handshake_complete(conn);
    return;
  }
  int code = SSL_get_error(conn->ssl, ret);
  if (code == SSL_ERROR_WANT_READ) {
    tls_set_events(conn, 1, 0);
    return;
  }
  if (code == SSL_ERROR_WANT_WRITE) {
    tls_set_events(conn, 0, 1);
    return;
  }
  if (code == SSL_ERROR_WANT_CERTIFICATE_VERIFY) {
    tls_set_events(conn, 0, 0); /* a verifier's verdict resumes it */
    tls_peer_request_verify(conn);
    return;
  }
  char errors[IPC_MAX_REASON];
  long verify = tls_peer_verify_result(conn);
  tls_collect_errors(errors, sizeof(errors));
  tls_handshake_ssl_failed(conn, code, verify, errors);
}

void tls_conn_resume_finish(tls_conn *conn) {
  tls_enter(conn);
  if (!conn->close_pending && conn->handshake_state == TLS_HANDSHAKE_FINISH &&
      !conn->finishing) {
    if (tls_finisher_running()) {
      tls_finisher_submit(
          conn, (conn->started_ms + tls_handshake_limit_ms()) * 1000LL);
    } else {
      tls_handshake_continue(conn);
    }
  }
  tls_leave(conn);
}

void tls_conn_on_finished(tls_conn *conn) {
  tls_enter(conn);
  if (conn->close_pending) {
    tls_leave(conn);
    return;
  }
  if (conn->fin_timed_out) {
    tls_stat.handshakes_timed_out++;
    tls_handshake_fail(conn, "handshake timed out", 0);
  } else if (conn->fin_final) {
    tls_handshake_fail(conn, conn->fin_errors, conn->fin_quiet);
  } else if (conn->fin_need_verify) {
    tls_peer_request_verify(conn); /* the verdict resubmits it */
  } else if (conn->fin_ret == 1) {
    tls_handshake_complete(conn);
  } else {
    tls_handshake_ssl_failed(conn, conn->fin_code, conn->fin_verify,
                             conn->fin_errors);
  }
  tls_leave(conn);
}

int tls_conn_apply_handback(tls_conn *conn, char *err, size_t err_len) {
  ERR_clear_error();
  conn->ssl = SSL_new(conn->gen->main_ctx);
  int ok =
      conn->ssl != NULL &&
      tls_shim_apply_handback(conn->ssl, conn->handback, conn->handback_len) &&
      SSL_set_fd(conn->ssl, conn->c.fd);
  OPENSSL_cleanse(conn->handback, conn->handback_len);
  free(conn->handback);
  conn->handback = NULL;
  if (!ok) {
    char errors[IPC_MAX_REASON - 32];
    tls_collect_errors(errors, sizeof(errors));
    snprintf(err, err_len, "SSL_apply_handback failed: %s", errors);
    return 0;
  }
  /* A resumed session's client identity must carry main's binding. */
  return tls_peer_on_handback(conn, err, err_len);
}

void tls_conn_watch(tls_conn *conn, int want_read, int want_write) {
  tls_set_events(conn, want_read, want_write);
}

void tls_conn_handshake_done(tls_conn *conn) { tls_handshake_complete(conn); }

void tls_conn_handshake_failed(tls_conn *conn, int code, long verify,
                               const char *errors) {
  tls_handshake_ssl_failed(conn, code, verify, errors);
}

void tls_conn_fail(tls_conn *conn, const char *reason) {
  tls_handshake_fail(conn, reason, 0);
}

static void tls_handshake_start_finish(tls_conn *conn) {
  conn->handshake_state = TLS_HANDSHAKE_FINISH;
  char why[IPC_MAX_REASON];
  if (!tls_conn_apply_handback(conn, why, sizeof(why))) {
    tls_handshake_fail(conn, why, 0);
    return;
  }
  tls_handshake_continue(conn);
}

/* ---- handshake I/O ---------------------------------------------------- */

int tls_write_pending(int fd, const uint8_t *buf, size_t len, size_t *off) {
  while (*off < len) {
    ssize_t n = write(fd, buf + *off, len - *off);
    if (n > 0) {
      *off += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return 0;
    }
    if (n == 0) {
      errno = 0;
    }
    return -1;
  }
  return 1;
}

static void tls_handshake_flush(tls_conn *conn) {
  int r = tls_write_pending(conn->c.fd, conn->flight, conn->flight_len,
                            &conn->flight_off);
  if (r == 0) {
    tls_set_events(conn, 0, 1);
    return;
  }
  if (r < 0) {
    char why[96];
    snprintf(why, sizeof(why), "write to client failed: %s",
             errno ? strerror(errno) : "short write");
    tls_handshake_fail(conn, why, 1);
    return;
  }
  free(conn->flight);
  conn->flight = NULL;
  conn->flight_len = conn->flight_off = 0;
  if (conn->handshake_state == TLS_HANDSHAKE_FLUSH_THEN_READ) {
    conn->handshake_state = TLS_HANDSHAKE_READ_RECORD;
    conn->rec_got = 0;
    conn->rec_need = TLS_RECORD_HEADER;
    tls_hello_wait_begin(conn); /* the next record of a ClientHello */
    tls_set_events(conn, 1, 0);
    tls_handshake_read_record(conn);
  } else if (conn->handshake_state == TLS_HANDSHAKE_FLUSH_THEN_FINISH) {
    tls_set_events(conn, 0, 0);
    tls_handshake_start_finish(conn);
  }
}

static void tls_handshake_submit(tls_conn *conn) {
  conn->records_forwarded++;
  conn->bytes_forwarded += conn->rec_got;
  int r = tls_pool_submit(conn);
  if (r == 1) {
    conn->handshake_state = TLS_HANDSHAKE_WAIT_ANSWER;
  } else if (r == 2) {
    conn->handshake_state = TLS_HANDSHAKE_WAIT_HANDSHAKER;
  } else {
    tls_handshake_fail(conn, "no handshaker could take the record", 0);
  }
}

static void tls_handshake_read_record(tls_conn *conn) {
  char why[128];
  for (;;) {
    if (conn->rec_got == conn->rec_need) {
      break;
    }
    ssize_t n = read(conn->c.fd, conn->rec + conn->rec_got,
                     conn->rec_need - conn->rec_got);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return; /* AE_READABLE stays registered */
    }
    if (n <= 0) {
      snprintf(why, sizeof(why), "%s",
               n == 0 ? "connection closed by peer during handshake"
                      : strerror(errno));
      tls_handshake_fail(conn, why, 1);
      return;
    }
    conn->rec_got += (size_t)n;
    if (conn->rec_got == TLS_RECORD_HEADER &&
        conn->rec_need == TLS_RECORD_HEADER) {
      size_t body = 0;
      const char *bad = tls_record_header_check(
          conn->rec, conn->records_forwarded, conn->bytes_forwarded, &body);
      if (bad != NULL) {
        tls_handshake_fail(conn, bad, 0);
        return;
      }
      conn->rec_need = TLS_RECORD_HEADER + body;
    }
  }
  /* One whole record: stop reading until the handshaker answers (that wait
   * is not the client's: it stops the ClientHello clock). */
  tls_hello_wait_end(conn);
  tls_set_events(conn, 0, 0);
  tls_handshake_submit(conn);
}

static void tls_handshake_event(tls_conn *conn, int mask) {
  switch (conn->handshake_state) {
    case TLS_HANDSHAKE_READ_RECORD:
      if (mask & AE_READABLE) {
        tls_handshake_read_record(conn);
      }
      break;
    case TLS_HANDSHAKE_FLUSH_THEN_READ:
    case TLS_HANDSHAKE_FLUSH_THEN_FINISH:
      if (mask & AE_WRITABLE) {
        tls_handshake_flush(conn);
      }
      break;
    case TLS_HANDSHAKE_FINISH:
      if (!conn->finishing) { /* else the completion thread has it */
        tls_handshake_continue(conn);
      }
      break;
    case TLS_HANDSHAKE_CLIENT:
      tls_client_step(conn);
      break;
    default:
      /* Waiting for a handshaker: nothing is watched. */
      tls_set_events(conn, 0, 0);
      break;
  }
}

static uint8_t *tls_copy(const uint8_t *data, size_t len) {
  uint8_t *copy = malloc(len > 0 ? len : 1);
  if (copy != NULL && len > 0) {
    memcpy(copy, data, len);
  }
  return copy;
}

void tls_conn_on_answer(tls_conn *conn, const ipc_message *answer) {
  tls_enter(conn);
  if (conn->close_pending) {
    tls_leave(conn);
    return;
  }
  switch (answer->type) {
    case IPC_ANS_NEED_INPUT:
      /* Bytes for the client mean the ClientHello was complete (a server
       * says nothing before it has one); an empty flight asks for more of
       * it. */
      if (answer->data_len > 0) {
        conn_extra(conn)->hello_done = 1;
      }
      conn->flight = tls_copy(answer->data, answer->data_len);
      conn->flight_len = answer->data_len;
      conn->flight_off = 0;
      conn->handshake_state = TLS_HANDSHAKE_FLUSH_THEN_READ;
      if (conn->flight == NULL) {
        tls_handshake_fail(conn, "out of memory", 0);
      } else {
        tls_handshake_flush(conn);
      }
      break;
    case IPC_ANS_DONE:
      conn_extra(conn)->hello_done = 1;
      conn->flight = tls_copy(answer->data, answer->data_len);
      conn->flight_len = answer->data_len;
      conn->flight_off = 0;
      conn->handback = tls_copy(answer->handback, answer->handback_len);
      conn->handback_len = answer->handback_len;
      conn->resumed = answer->resumed;
      if (conn->flight == NULL || conn->handback == NULL) {
        tls_handshake_fail(conn, "out of memory", 0);
      } else if (tls_finisher_running()) {
        /* The completion thread writes the bytes and finishes, with what
         * is left of the handshake timeout; main stops watching the fd. */
        tls_set_events(conn, 0, 0);
        conn->handshake_state = TLS_HANDSHAKE_FINISH;
        tls_finisher_submit(
            conn, (conn->started_ms + tls_handshake_limit_ms()) * 1000LL);
      } else {
        conn->handshake_state = TLS_HANDSHAKE_FLUSH_THEN_FINISH;
        tls_handshake_flush(conn);
      }
      break;
    case IPC_ANS_FAIL: {
      /* Best effort: the alert tells the client why. */
      if (answer->data_len > 0) {
        ssize_t ignored = write(conn->c.fd, answer->data, answer->data_len);
        (void)ignored;
      }
      char why[IPC_MAX_REASON + 32];
      snprintf(why, sizeof(why), "handshaker: %s", answer->reason);
      tls_handshake_fail(conn, why, 0);
      break;
    }
    default:
      tls_handshake_fail(conn, "unexpected answer", 0);
      break;
  }
  tls_leave(conn);
}

void tls_conn_on_handshaker_lost(tls_conn *conn, const char *why) {
  tls_enter(conn);
  tls_handshake_fail(conn, why, 0);
  tls_leave(conn);
}

void tls_conn_retry_waiting(void) {
  tls_conn *conn = tc.inflight_head;
  while (conn != NULL) {
    tls_conn *next = conn->inflight_next;
    if (conn->handshake_state == TLS_HANDSHAKE_WAIT_HANDSHAKER &&
        !conn->close_pending) {
      tls_enter(conn);
      int r = tls_pool_submit(conn);
      if (r == 1) {
        conn->handshake_state = TLS_HANDSHAKE_WAIT_ANSWER;
      } else if (r == 0) {
        tls_handshake_fail(conn, "no handshaker could take the record", 0);
      }
      next = conn->inflight_next ? conn->inflight_next : next;
      tls_conn *current = conn;
      conn = next;
      tls_leave(current);
      if (r == 2) {
        return; /* none ready: the rest waits too */
      }
      continue;
    }
    conn = next;
  }
}

void tls_conn_check_timeouts(long long now_ms) {
  long long limit = tls_handshake_limit_ms();
  long long hello_limit = tls_client_hello_limit_ms();
  tls_conn *conn = tc.inflight_head;
  while (conn != NULL) {
    tls_conn *next = conn->inflight_next;
    tls_connection_extra *x = conn_extra(conn);
    int whole = now_ms - conn->started_ms > limit;
    int hello = !whole && x->waiting_hello &&
                x->waited_ms + (now_ms - x->wait_since_ms) > hello_limit;
    /* The completion thread enforces the deadline of those it holds. */
    if ((whole || hello) && !conn->close_pending && !conn->finishing) {
      tls_enter(conn);
      tls_stat.handshakes_timed_out++;
      if (hello) {
        tc.client_hello_timeouts++;
      }
      tls_handshake_fail(conn,
                         hello ? "ClientHello timed out "
                                 "(tls-client-hello-timeout)"
                               : "handshake timed out",
                         0);
      next = conn->inflight_next ? conn->inflight_next : next;
      tls_conn *current = conn;
      conn = next;
      tls_leave(current);
      continue;
    }
    conn = next;
  }
}

/* ---- accept ----------------------------------------------------------- */

int tls_preauth_count(void) { return tc.incoming; }

/* tls_evict closes |victim|, an idle handshake, to make room (failing it
 * takes it off the idle lists and releases its source count). */
static void tls_evict(tls_conn *victim, const char *reason) {
  tc.evicted++;
  tls_enter(victim);
  tls_handshake_fail(victim, reason, 0);
  tls_leave(victim);
}

int tls_preauth_evict_idle(void) {
  if (tc.idle_head == NULL) {
    return 0;
  }
  tls_evict(tc.idle_head,
            "evicted: no ClientHello while the handshake table was full");
  return 1;
}

void tls_conn_append_info(char *buf, size_t len, size_t *used) {
  tls_appendf(buf, len, used,
              "tls_handshakes_refused_per_ip:%lld\r\n"
              "tls_handshakes_evicted:%lld\r\n"
              "tls_handshakes_client_hello_timed_out:%lld\r\n",
              tc.refused_per_ip, tc.evicted, tc.client_hello_timeouts);
}

static void tls_accept_one(ae_loop *loop, int fd,
                           const struct sockaddr_storage *sa) {
  char ip[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (sa->ss_family == AF_INET) {
    const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
    inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
    port = ntohs(s->sin_port);
  } else if (sa->ss_family == AF_INET6) {
    const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
    inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
    port = ntohs(s->sin6_port);
  }
  char peer[64];
  if (sa->ss_family == AF_INET6) {
    snprintf(peer, sizeof(peer), "[%s]:%d", ip, port);
  } else {
    snprintf(peer, sizeof(peer), "%s:%d", ip, port);
  }
  tls_tunables tun;
  tls_read_tunables(&tun);
  uint8_t key[TLS_SOURCE_KEY_LEN];
  tls_source_key(sa, key);
  tls_source *src = tls_source_find(key);
  while (tun.max_handshakes_per_ip > 0 && src != NULL &&
         src->count >= tun.max_handshakes_per_ip && src->idle_head != NULL) {
    tls_evict(src->idle_head,
              "evicted: no ClientHello while its address was at "
              "tls-max-handshakes-per-ip");
    src = tls_source_find(key); /* freed with its last handshake */
  }
  if (tun.max_handshakes_per_ip > 0 && src != NULL &&
      src->count >= tun.max_handshakes_per_ip) {
    tc.refused_per_ip++;
    tls_security_log_peer("tls_handshake_refused", ip,
                          "tls-max-handshakes-per-ip reached",
                          "peer=%s reason=\"%d handshakes in flight from "
                          "this address (tls-max-handshakes-per-ip)\"",
                          peer, src->count);
    close(fd);
    return;
  }
  long long cap = tun.max_handshakes_in_flight > 0
                      ? tun.max_handshakes_in_flight
                      : TLS_DEFAULT_MAX_IN_FLIGHT;
  /* Each incoming handshake holds a descriptor: with the clients it must
   * fit maxclients (-1: no budget; 0: the clients alone fill it, and
   * evicting handshakes would not help). */
  long long room = -1;
  if (tun.max_clients > 0) {
    room = tun.max_clients > tun.clients ? tun.max_clients - tun.clients : 0;
    /* A few past the budget: those clients get Redis's "max number of
     * clients reached" once their handshake is done, as Redis answers a
     * TLS client over maxclients (they fit in the descriptors reserved
     * above maxclients). */
    room += TLS_OVER_BUDGET_HANDSHAKES;
  }
  while (room != 0 &&
         (tc.inflight_count >= cap || (room > 0 && tc.incoming >= room)) &&
         tls_preauth_evict_idle()) {
  }
  if (room == 0 || tc.inflight_count >= cap ||
      (room > 0 && tc.incoming >= room)) {
    tls_stat.handshakes_refused_busy++;
    tls_log(TLS_LOG_VERBOSE,
            "TLS: refusing %s: %d handshakes in flight, none idle (%s)", peer,
            tc.inflight_count,
            tc.inflight_count >= cap ? "tls-max-handshakes-in-flight"
                                     : "maxclients");
    close(fd);
    return;
  }
  tls_conn *conn = tls_conn_new(loop, fd, ip, peer, TLS_HANDSHAKE_READ_RECORD);
  if (conn == NULL) {
    close(fd);
    return;
  }
  conn_extra(conn)->incoming = 1;
  tc.incoming++;
  conn_extra(conn)->source = tls_source_acquire(key);
  tls_hello_wait_begin(conn);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (ae_add_file_event(loop, fd, AE_READABLE, tls_event, conn) != 0) {
    tls_log(TLS_LOG_WARNING, "TLS: cannot watch fd %d: %s", fd,
            strerror(errno));
    tls_release_handshake(conn);
    close(fd);
    free(conn);
    return;
  }
  ae_set_deferred(loop, fd, 1);
}

tls_conn *tls_conn_new(ae_loop *loop, int fd, const char *ip, const char *peer,
                       tls_handshake_state state) {
  tls_conn_alloc *alloc = calloc(1, sizeof(*alloc));
  uint8_t *rec = NULL;
  if (alloc != NULL && state == TLS_HANDSHAKE_READ_RECORD) {
    rec = malloc(TLS_RECORD_HEADER + TLS_MAX_RECORD_BODY);
    if (rec == NULL) {
      free(alloc);
      return NULL;
    }
  }
  if (alloc == NULL) {
    return NULL;
  }
  tls_conn *conn = &alloc->conn;
  conn->c.type = &conn_type_tls;
  conn->c.loop = loop;
  conn->c.fd = fd;
  conn->c.state = CONN_STATE_ACCEPTING; /* handshake in progress */
  conn->id = tc.next_id++;
  conn->rec = rec;
  conn->rec_need = TLS_RECORD_HEADER;
  conn->started_ms = tls_now_ms();
  conn->handshake_state = state;
  snprintf(alloc->extra.ip, sizeof(alloc->extra.ip), "%s", ip);
  snprintf(conn->peer, sizeof(conn->peer), "%s", peer);
  inflight_add(conn);
  return conn;
}

void tls_accept_handler(ae_loop *loop, int fd, void *client_data, int mask) {
  (void)client_data;
  (void)mask;
  for (int i = 0; i < TLS_MAX_ACCEPTS_PER_CALL; i++) {
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    int cfd =
        accept4(fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EMFILE || errno == ENFILE) {
        /* The connection stays in the backlog and the level-triggered
         * listener would wake us at once again: the host pauses its
         * listeners for a moment (and logs it, rate-limited). */
        tls_host_accept_starved(errno);
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        tls_log(TLS_LOG_WARNING, "Accepting client connection: %s",
                strerror(errno));
      }
      return;
    }
    tls_accept_one(loop, cfd, &sa);
  }
}

/* ---- the connection type (after handshake) --------------------------- */

static void tls_event(ae_loop *loop, int fd, void *data, int mask) {
  (void)loop;
  (void)fd;
  tls_conn *conn = data;
  tls_enter(conn);
  if (conn->handshake_state != TLS_HANDSHAKE_CONNECTED) {
    tls_handshake_event(conn, mask);
    tls_leave(conn);
    return;
  }
  if ((mask & AE_WRITABLE) && conn->flush_wants_write) {
    tls_flush_held_records(conn);
  }
  int call_read = ((mask & AE_READABLE) && conn->c.read_handler) ||
                  ((mask & AE_WRITABLE) && conn->read_wants_write);
  int call_write = ((mask & AE_WRITABLE) && conn->c.write_handler) ||
                   ((mask & AE_READABLE) && conn->write_wants_read);
  if (call_read) {
    conn->read_wants_write = 0;
    if (!tls_call(conn, conn->c.read_handler)) {
      tls_leave(conn);
      return;
    }
  }
  if (call_write) {
    conn->write_wants_read = 0;
    if (!tls_call(conn, conn->c.write_handler)) {
      tls_leave(conn);
      return;
    }
  }
  if (!conn->close_pending) {
    tls_update_events(conn);
    if (conn->ssl && SSL_pending(conn->ssl) > 0 && conn->c.read_handler) {
      pending_add(conn);
    }
  }
  tls_leave(conn);
}

static int tls_conn_accept(connection *c, conn_handler handler) {
  tls_conn *conn = (tls_conn *)c;
  if (conn->handshake_state == TLS_HANDSHAKE_CONNECTED) {
    if (c->state != CONN_STATE_ACCEPTING && c->state != CONN_STATE_CONNECTED) {
      return -1;
    }
    c->state = CONN_STATE_CONNECTED;
    tls_call(conn, handler);
    return 0;
  }
  conn->accept_handler = handler;
  return 0;
}

/* tls_usable: the handshake is complete and the connection not failed
 * (ACCEPTING is fine: the host's accepted callback may write an error
 * before it calls conn_accept). */
static int tls_usable(const tls_conn *conn) {
  return conn->ssl != NULL &&
         conn->handshake_state == TLS_HANDSHAKE_CONNECTED &&
         !conn->close_pending &&
         (conn->c.state == CONN_STATE_CONNECTED ||
          conn->c.state == CONN_STATE_ACCEPTING);
}

/* tls_io_result turns a failed SSL operation into the conn.h convention. */
static ssize_t tls_io_result(tls_conn *conn, int ret, int is_write) {
  int code = SSL_get_error(conn->ssl, ret);
  int saved = errno;
  switch (code) {
    case SSL_ERROR_WANT_READ:
      if (is_write) {
        conn->write_wants_read = 1;
        tls_update_events(conn);
      }
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_WANT_WRITE:
      if (!is_write) {
        conn->read_wants_write = 1;
        tls_update_events(conn);
      }
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_ZERO_RETURN:
      conn->c.state = CONN_STATE_CLOSED;
      if (!is_write) {
        return 0;
      }
      errno = EPIPE;
      return -1;
    case SSL_ERROR_SYSCALL:
      if (saved == 0 && ERR_peek_error() == 0) {
        /* EOF without close_notify. */
        conn->c.state = CONN_STATE_CLOSED;
        if (!is_write) {
          return 0;
        }
        saved = EPIPE;
      }
      conn->c.state = CONN_STATE_ERROR;
      conn->c.last_errno = saved ? saved : EIO;
      ERR_clear_error();
      errno = conn->c.last_errno;
      return -1;
    default: {
      char errors[IPC_MAX_REASON];
      tls_collect_errors(errors, sizeof(errors));
      tls_log(TLS_LOG_VERBOSE, "TLS error on %s: %s", conn->peer, errors);
      conn->c.state = CONN_STATE_ERROR;
      conn->c.last_errno = EIO;
      errno = EIO;
      return -1;
    }
  }
}

static ssize_t tls_conn_read(connection *c, void *buf, size_t len) {
  tls_conn *conn = (tls_conn *)c;
  if (!tls_usable(conn)) {
    errno = ENOTCONN;
    return -1;
  }
  if (len == 0) {
    return 0;
  }
  if (len > INT_MAX) {
    len = INT_MAX;
  }
  ERR_clear_error();
  errno = 0;
  int ret = SSL_read(conn->ssl, buf, (int)len);
  if (ret > 0) {
    return ret;
  }
  if (SSL_get_error(conn->ssl, ret) == SSL_ERROR_WANT_READ) {
    /* Records without application data (a KeyUpdate asking for ours) may
     * have queued an answer that would otherwise wait for our next reply.
     * (The flush changes the SSL's last-operation state: decide first.) */
    tls_flush_held_records(conn);
    if (conn->flush_wants_write) {
      tls_update_events(conn);
    }
    errno = EAGAIN;
    return -1;
  }
  return tls_io_result(conn, ret, 0);
}

static ssize_t tls_conn_write(connection *c, const void *buf, size_t len) {
  tls_conn *conn = (tls_conn *)c;
  if (!tls_usable(conn)) {
    errno = ENOTCONN;
    return -1;
  }
  if (len == 0) {
    return 0;
  }
  if (conn->flush_wants_write) {
    /* A zero-length write that flushes held records hit a full socket.
     * BoringSSL would report that write's 0 as the result of this one (a
     * closed connection to us): finish it first. */
    tls_flush_held_records(conn);
    if (conn->flush_wants_write) {
      errno = EAGAIN;
      return -1;
    }
  }
  if (len > INT_MAX) {
    len = INT_MAX;
  }
  ERR_clear_error();
  errno = 0;
  int ret = SSL_write(conn->ssl, buf, (int)len);
  if (ret > 0) {
    return ret;
  }
  return tls_io_result(conn, ret, 1);
}

/* BoringSSL has no writev: small vectors are gathered into one buffer so a
 * reply of many pieces becomes few records. */
static ssize_t tls_conn_writev(connection *c, const struct iovec *iov,
                               int iovcnt) {
  size_t total = 0;
  if (iovcnt <= 0) {
    return 0;
  }
  if (iovcnt == 1 || iov[0].iov_len >= TLS_MAX_WRITEV_BYTES) {
    return tls_conn_write(c, iov[0].iov_base, iov[0].iov_len);
  }
  for (int i = 0; i < iovcnt && total < TLS_MAX_WRITEV_BYTES; i++) {
    size_t n = iov[i].iov_len;
    if (n > TLS_MAX_WRITEV_BYTES - total) {
      n = TLS_MAX_WRITEV_BYTES - total;
    }
    memcpy(tc.writev_buf + total, iov[i].iov_base, n);
    total += n;
  }
  return tls_conn_write(c, tc.writev_buf, total);
}

static int tls_conn_set_read_handler(connection *c, conn_handler handler) {
  tls_conn *conn = (tls_conn *)c;
  c->read_handler = handler;
  if (handler == NULL) {
    pending_remove(conn);
  } else if (conn->ssl && conn->handshake_state == TLS_HANDSHAKE_CONNECTED &&
             SSL_pending(conn->ssl) > 0) {
    pending_add(conn);
  }
  tls_update_events(conn);
  return 0;
}

static int tls_conn_set_write_handler(connection *c, conn_handler handler) {
  c->write_handler = handler;
  tls_update_events((tls_conn *)c);
  return 0;
}

static void tls_really_close(tls_conn *conn) {
  if (conn->handshake_state != TLS_HANDSHAKE_CONNECTED || conn->gen != NULL ||
      conn->rec != NULL) {
    tls_release_handshake(conn);
  }
  pending_remove(conn);
  if (conn->c.fd >= 0) {
    ae_delete_file_event(conn->c.loop, conn->c.fd, AE_READABLE | AE_WRITABLE);
  }
  if (conn->ssl != NULL) {
    SSL_free(conn->ssl);
    conn->ssl = NULL;
  }
  if (conn->signature != NULL) {
    OPENSSL_cleanse(conn->signature, conn->signature_len);
    free(conn->signature);
  }
  if (conn->c.fd >= 0) {
    close(conn->c.fd);
    conn->c.fd = -1;
  }
  free(conn);
}

static void tls_conn_close(connection *c) {
  tls_conn *conn = (tls_conn *)c;
  if (conn->close_pending) {
    return;
  }
  if (conn->c.fd >= 0) {
    ae_delete_file_event(conn->c.loop, conn->c.fd, AE_READABLE | AE_WRITABLE);
  }
  /* close_notify, once, without waiting for the peer's. */
  if (tls_usable(conn) && SSL_is_init_finished(conn->ssl)) {
    ERR_clear_error();
    SSL_shutdown(conn->ssl);
    ERR_clear_error();
  }
  c->read_handler = NULL;
  c->write_handler = NULL;
  c->state = CONN_STATE_CLOSED;
  pending_remove(conn);
  if (conn->handshake_state != TLS_HANDSHAKE_CONNECTED) {
    /* Handshake work is cancelled now (ABORT to the handshaker). */
    tls_release_handshake(conn);
    conn->handshake_state = TLS_HANDSHAKE_CONNECTED;
  }
  conn->close_pending = 1;
  if (conn->refs > 0) {
    return;
  }
  tls_really_close(conn);
}

static int tls_conn_has_pending_data(connection *c) {
  tls_conn *conn = (tls_conn *)c;
  return conn->ssl != NULL && SSL_pending(conn->ssl) > 0;
}

static const char *tls_conn_get_info(connection *c, char *buf, size_t len) {
  tls_conn *conn = (tls_conn *)c;
  if (len == 0) {
    return buf;
  }
  buf[0] = '\0';
  if (conn->ssl == NULL) {
    return buf;
  }
  const SSL_CIPHER *cipher = SSL_get_current_cipher(conn->ssl);
  /* CLIENT LIST / CLIENT INFO / ACL LOG fields are "key=value" separated by
   * spaces, and client libraries split them on '=' (redis-py's
   * parse_client_info without a limit): the subject ("CN=client1,O=Acme
   * Ltd") is percent-encoded so that it holds neither '=' nor ' ' (issue
   * 18 item 2). */
  char subject[3 * sizeof(conn_extra(conn)->cert_subject) + 1];
  size_t o = 0;
  for (const char *p = conn_extra(conn)->cert_subject;
       *p && o + 4 < sizeof(subject); p++) {
    unsigned char ch = (unsigned char)*p;
    if (ch == '=' || ch == ' ' || ch == '%' || ch < 0x21 || ch > 0x7e) {
      static const char hex[] = "0123456789ABCDEF";
      subject[o++] = '%';
      subject[o++] = hex[ch >> 4];
      subject[o++] = hex[ch & 15];
    } else {
      subject[o++] = (char)ch;
    }
  }
  subject[o] = '\0';
  snprintf(buf, len, "tls=%s cipher=%s%s%s", SSL_get_version(conn->ssl),
           cipher ? SSL_CIPHER_get_name(cipher) : "?",
           subject[0] ? " cert-subject=" : "", subject);
  return buf;
}

static const conn_type conn_type_tls = {
    .name = "tls",
    .accept = tls_conn_accept,
    .read = tls_conn_read,
    .write = tls_conn_write,
    .writev = tls_conn_writev,
    .set_read_handler = tls_conn_set_read_handler,
    .set_write_handler = tls_conn_set_write_handler,
    .close = tls_conn_close,
    .has_pending_data = tls_conn_has_pending_data,
    .get_info = tls_conn_get_info,
};

/* tls_process_pending runs read handlers of connections whose decrypted
 * bytes wait inside BoringSSL (the socket will not signal them). Each
 * connection is served at most once per call. */
static int tls_process_pending(void) {
  tc.pending_round++;
  while (tc.pending_head != NULL &&
         ((tls_conn_alloc *)tc.pending_head)->pending_round !=
             tc.pending_round) {
    tls_conn *conn = tc.pending_head;
    pending_remove(conn);
    if (conn->close_pending || conn->ssl == NULL ||
        conn->c.read_handler == NULL) {
      continue;
    }
    tls_enter(conn);
    if (tls_call(conn, conn->c.read_handler) && conn->c.read_handler &&
        SSL_pending(conn->ssl) > 0) {
      pending_add(conn); /* marked with this round: not served again now */
    }
    if (!tls_leave(conn)) {
      continue;
    }
    if (!conn->close_pending) {
      tls_update_events(conn);
    }
  }
  return tc.pending_head != NULL;
}

void tls_conn_init(void) { conn_register_pending_hook(tls_process_pending); }
