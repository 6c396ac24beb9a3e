/* internal.h: declarations shared by the files of main's TLS code in tls/
 * (pool, connection type, completion thread, entry points). Private to
 * //tls (and the white-box tests): never included by server/ or sandbox/.
 * BoringSSL types are fine here. */
#ifndef REDOUBT_TLS_INTERNAL_H
#define REDOUBT_TLS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sandbox/ipc.h"
#include "server/event/ae.h"
#include "server/event/conn.h"
#include "tls/handshaker.h"
#include "tls/internal_common.h"
#include "tls/tls.h"

/* ---- tls.c: the host's services, for every file of main's TLS code --- */

/* tls_log formats a message and passes it to the host's log callback (the
 * host filters by level; tls_check_config silences it). */
void tls_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* tls_security_log records a security event through the host. */
void tls_security_log(const char *event, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* tls_security_log_peer records a security event caused by the peer at
 * |source| (address, no port) for |cause|: the host counts repeats. */
void tls_security_log_peer(const char *event, const char *source,
                           const char *cause, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* tls_host_accept_starved tells the host that accept failed with |err|
 * (EMFILE/ENFILE): it pauses its listeners (tls_host.accept_starved). */
void tls_host_accept_starved(int err);
/* tls_read_tunables fills |out| from the host (defaults before tls_start). */
void tls_read_tunables(tls_tunables *out);
/* tls_host_executable is the host's executable path (argv[0] of
 * handshakers). */
const char *tls_host_executable(void);
/* tls_appendf appends printf output to |buf| (capacity |len|, |*used|
 * bytes already written), keeping it NUL-terminated; output that does not
 * fit is cut. */
void tls_appendf(char *buf, size_t len, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* tls_host_accepted hands a connection that passed its handshake and the
 * client-certificate policy to the host (tls_host.accepted). */
void tls_host_accepted(connection *conn, const char *ip);

/* ---- pool.c: the handshaker processes, seen from main --------------- */

typedef struct tls_generation tls_generation;
typedef struct tls_handshaker tls_handshaker;
typedef struct tls_conn tls_conn;

/* A generation: one configuration, its handshakers and main's own
 * post-handback context. Reference counted by handshakers and in-flight
 * connections. */
struct tls_generation {
  uint64_t id;
  tls_settings settings;
  SSL_CTX *main_ctx; /* no key: CA + verify mode + ticket keys */
  /* outgoing connections (client.c, built at first use): the client
   * certificate (public part only), the CA, SSL_VERIFY_PEER; signatures
   * through SSL_PRIVATE_KEY_METHOD to a handshaker */
  SSL_CTX *client_ctx;
  int refs;
  int active; /* 1 while new connections may use it */
  /* Certificate summary from the first READY. */
  char cert_subject[IPC_MAX_REASON + 1];
  char cert_issuer[IPC_MAX_REASON + 1];
  int64_t cert_not_after;
  int have_cert_info;
  char config_fail[IPC_MAX_REASON + 1]; /* first CONFIG_FAIL reason */
};

/* Counters for INFO. */
typedef struct tls_stats {
  long long handshakes_completed;
  long long handshakes_failed;
  long long handshakes_resumed;
  long long handshaker_restarts;
  long long handshaker_deaths;
  long long handshakes_timed_out;
  long long handshakes_refused_busy;
} tls_stats;
extern tls_stats tls_stat;

/* tls_flush_held sends the records BoringSSL holds back until the next
 * SSL_write: TLS 1.3 NewSessionTicket messages after the handshake (on full
 * handshakes and resumptions alike) and the KeyUpdate answering a peer's
 * request. Without it a client whose first command waits for the ACK of its
 * Finished (Nagle) stalls for the peer's delayed-ACK time (~40 ms), and the
 * tickets arrive only with the first reply. A zero-length SSL_write flushes
 * (ssl.h, SSL_key_update). Returns 1 when nothing is left, 0 when the socket
 * is full (retry when writable), -1 on an error (the next read or write
 * reports it). Safe from the completion thread for a connection it owns.
 * After a 0 the same zero-length write must be completed (retried until it
 * returns 1) before any other SSL_write: BoringSSL would hand its result
 * (0 bytes) to the next write instead (conn_tls.c tls_conn_write). */
int tls_flush_held(SSL *ssl);

void tls_generation_release(tls_generation *gen);
tls_generation *tls_pool_current_generation(void);

/* tls_pool_create_generation makes a generation for |settings| (taken over)
 * with its main context. Returns NULL with |err|. */
tls_generation *tls_pool_create_generation(tls_settings *settings, char *err,
                                           size_t err_len);
/* tls_pool_start_generation spawns |count| handshakers for |gen| and waits
 * (at most |timeout_ms|, running no other events) until each answered
 * READY or CONFIG_FAIL. Returns the number READY. */
int tls_pool_start_generation(tls_generation *gen, int count,
                              long long timeout_ms);
/* tls_pool_activate makes |gen| the generation new connections use and
 * retires the previous one. */
void tls_pool_activate(tls_generation *gen);
/* tls_pool_discard_generation kills |gen|'s handshakers (failed reload). */
void tls_pool_discard_generation(tls_generation *gen);
void tls_pool_init(ae_loop *loop);
void tls_pool_cron(void);
void tls_pool_shutdown(void);
int tls_pool_alive_count(void);
int tls_pool_wanted_count(void);
/* tls_pool_broadcast_ticket_keys sends the current keys to every live
 * handshaker. */
void tls_pool_broadcast_ticket_keys(void);

/* tls_pool_submit assigns |conn| to a handshaker if needed and sends its
 * buffered record. Returns 1 if sent (or queued until a handshaker is
 * ready), 0 if the connection must fail. */
int tls_pool_submit(tls_conn *conn);
/* tls_pool_forget detaches |conn| from its handshaker (sending ABORT if an
 * answer is outstanding). */
void tls_pool_forget(tls_conn *conn);

/* ---- conn_tls.c: the TLS connection type ---------------------------- */

/* A handshake's progress as main sees it. */
typedef enum {
  /* reading the next record from the client */
  TLS_HANDSHAKE_READ_RECORD = 0,
  /* record buffered, no handshaker ready yet */
  TLS_HANDSHAKE_WAIT_HANDSHAKER,
  /* one request outstanding at a handshaker */
  TLS_HANDSHAKE_WAIT_ANSWER,
  /* writing the handshaker's flight, then read a record */
  TLS_HANDSHAKE_FLUSH_THEN_READ,
  /* writing the handshaker's flight, then continue in main */
  TLS_HANDSHAKE_FLUSH_THEN_FINISH,
  /* main's SSL completes the handshake (on the completion thread if
   * |finishing|) */
  TLS_HANDSHAKE_FINISH,
  /* handshake done: record processing in main */
  TLS_HANDSHAKE_CONNECTED,
  /* an outgoing connection (client.c): main's SSL runs the client
   * handshake; signatures with the client key come from a handshaker */
  TLS_HANDSHAKE_CLIENT
} tls_handshake_state;

/* Bounds on what one handshake may send before the handback, i.e. before
 * the handshaker has the whole ClientHello (and, after a HelloRetryRequest,
 * the second one). Each record is one IPC round trip. A ClientHello is at
 * most TLS_MAX_CLIENT_HELLO (48 KB): three full records; after a
 * HelloRetryRequest a client sends a ChangeCipherSpec record and a second
 * ClientHello, so a legitimate client needs at most 3 + 1 + 3 = 7 records
 * (browsers, OpenSSL, BoringSSL and Go send each ClientHello in one record
 * unless it exceeds 16 KB). 8 leaves one spare; a peer that dribbles its
 * ClientHello one byte per record is cut off after 8 round trips instead
 * of 128. */
#define TLS_MAX_RECORD_BODY (16384 + 2048)
#define TLS_MAX_HANDSHAKE_RECORDS 8
#define TLS_MAX_HANDSHAKE_BYTES (192 * 1024)
#define TLS_RECORD_HEADER_LEN 5

/* tls_record_header_check (record.c) checks one record header of a
 * handshake in progress: |records_so_far| / |bytes_so_far| were already
 * forwarded. Returns NULL and the body length in |*out_body|, or the
 * reason to close the connection. */
const char *tls_record_header_check(const uint8_t header[TLS_RECORD_HEADER_LEN],
                                    int records_so_far, size_t bytes_so_far,
                                    size_t *out_body);

struct tls_conn {
  connection c; /* first: the server only sees a connection* */
  uint64_t id;  /* never reused: a late answer for a dropped id is ignored */
  tls_handshake_state handshake_state;
  tls_generation *gen;         /* referenced while handshaking */
  tls_handshaker *handshaker;  /* assigned handshaker, or NULL */
  int awaiting;                /* a request is outstanding at |handshaker| */
  long long awaiting_since_ms; /* when that request was sent */
  /* the record being read / forwarded (handshake only) */
  uint8_t *rec;
  size_t rec_got, rec_need;
  int records_forwarded;
  size_t bytes_forwarded;
  /* the handshaker's flight (bytes still to be written to the client) */
  uint8_t *flight;
  size_t flight_len, flight_off;
  uint8_t *handback; /* DONE, kept until |flight| is flushed */
  size_t handback_len;
  int resumed;
  long long started_ms;
  SSL *ssl; /* main's SSL after handback */
  conn_handler accept_handler;
  int read_wants_write, write_wants_read;
  /* held-back post-handshake records (tickets, KeyUpdate) wait for the
   * socket to become writable (tls_flush_held) */
  int flush_wants_write;
  int refs, close_pending, in_pending_list;
  char peer[64];
  /* links: in-flight list (conn_tls.c), id hash and per-handshaker
   * bookkeeping (pool.c), pending-data list (conn_tls.c) */
  tls_conn *inflight_prev, *inflight_next;
  tls_conn *hash_next;
  tls_conn *pending_prev, *pending_next;
  /* finisher.c: while |finishing|, the completion thread owns |ssl|, the
   * fd and the fin_* fields; main touches none of them. */
  int finishing;
  long long fin_deadline_us; /* ae_monotonic_us() deadline */
  int fin_ret, fin_code, fin_timed_out, fin_events;
  int fin_final, fin_quiet; /* fin_errors is the final reason */
  long fin_verify;
  int fin_need_verify; /* stopped at the peer's chain: VERIFY it */
  char fin_errors[IPC_MAX_REASON];
  tls_conn *fin_next;
  /* client.c: an outgoing connection and its one signature in flight */
  /* peer.c: the peer's identity as main knows it (NULL until the peer
   * sent a certificate or resumed a session with one) */
  struct tls_peer_identity *identity;
  int is_client;
  int sign_state; /* TLS_SIGN_* */
  uint8_t *signature;
  size_t signature_len;
};

#define TLS_SIGN_NONE 0
#define TLS_SIGN_PENDING 1
#define TLS_SIGN_READY 2
#define TLS_SIGN_FAILED 3

/* ---- peer.c: the peer's certificate, verified outside main ------------

 * Main's contexts are built on TLS_with_buffers_method: the peer's
 * certificates stay opaque CRYPTO_BUFFERs and main creates no X509 object.
 * The custom verify callback pauses the handshake (ssl_verify_retry); main
 * sends the DER chain to a verifier process (IPC VERIFY) and resumes the
 * handshake with its verdict. Main trusts a peer identity only if a
 * verifier vouched for this connection's chain, or if it comes from a
 * resumed session whose binding (a MAC under a key only main holds, put
 * into every ticket main seals) matches. */

/* The largest certificate chain main reads from a peer (max_cert_list).
 * BoringSSL's default is 100 KB, which a peer can make main hold per
 * connection with a partial Certificate message; real client chains are
 * 1-8 KB (a leaf and one or two intermediates). BoringSSL never lowers a
 * handshake message's limit below 16 KB, so this is also the floor. */
#define TLS_MAX_PEER_CERT_LIST (16 * 1024)

#define TLS_VERIFY_NONE 0     /* the callback has not run */
#define TLS_VERIFY_WANTED 1   /* paused: main must send VERIFY */
#define TLS_VERIFY_PENDING 2  /* VERIFY sent, waiting for VERIFIED */
#define TLS_VERIFY_ACCEPTED 3 /* a verifier vouched for the chain */
#define TLS_VERIFY_REFUSED 4  /* a verifier refused it (or none could) */

typedef struct tls_peer_identity {
  int state;                /* TLS_VERIFY_* */
  int resumed;              /* vouched for by a resumed session's binding */
  uint32_t verify_error;    /* X509_V_* of a refusal */
  int64_t authenticated_at; /* unix time the chain was verified */
  uint8_t chain_sha256[32]; /* of the chain vouched for */
  uint8_t leaf_sha256[32];  /* the leaf's fingerprint */
  char subject[IPC_MAX_REASON + 1]; /* RFC 2253, spaces escaped */
  char sans[IPC_MAX_REASON + 1];
  char reason[IPC_MAX_REASON + 1];
} tls_peer_identity;

/* tls_peer_ctx_new builds main's context for incoming connections of a
 * generation with |settings|: no certificate, no key, no CA; buffers
 * method; custom verify; TLS_MAX_PEER_CERT_LIST; tickets sealed with the
 * identity binding. NULL with |err|. */
SSL_CTX *tls_peer_ctx_new(const tls_settings *settings, char *err,
                          size_t err_len);
/* tls_peer_client_verify installs the custom verify callback on an
 * outgoing connection's context (client.c). */
void tls_peer_client_verify(SSL_CTX *ctx);
/* tls_peer_start generates the identity-binding key and installs the
 * ticket seal hook that writes the binding (main, once, before the
 * completion thread starts). Returns 1 or 0. */
int tls_peer_start(void);
/* tls_peer_rotate_binding_key replaces the key (tls-auth-clients or the CA
 * changed: sessions bound before no longer resume). */
void tls_peer_rotate_binding_key(void);
void tls_peer_stop(void);
/* tls_peer_on_handback (after SSL_apply_handback, on the thread that owns
 * |conn|): links |conn| to its SSL and, for a resumed session that carries
 * a certificate, checks main's binding. Returns 1, or 0 with |err| (a
 * resumed identity main never bound: refuse the connection). */
int tls_peer_on_handback(tls_conn *conn, char *err, size_t err_len);
/* tls_peer_request_verify (main's loop): the handshake stopped at the
 * peer's chain (SSL_ERROR_WANT_CERTIFICATE_VERIFY); sends it to a verifier.
 * Returns 1, or 0 if none could take it (the verdict is then a refusal and
 * the caller resumes the handshake, which fails). */
int tls_peer_request_verify(tls_conn *conn);
/* tls_peer_on_answer: a verifier's VERIFIED or FAIL for |conn|; records
 * the verdict and resumes the handshake. */
void tls_peer_on_answer(tls_conn *conn, const ipc_message *answer);
/* The two halves of a verification without the IPC (tls_peer_request_verify
 * and tls_peer_on_answer use them; so do the unit tests):
 * tls_peer_begin_verify fills |certs|/|lens|/|count| with the chain main's
 * SSL read (pointers into it) and marks the identity pending; returns 0 if
 * the chain is refused outright (none, or too long).
 * tls_peer_record_verdict records a VERIFIED (or FAIL) |answer|. */
int tls_peer_begin_verify(tls_conn *conn,
                          const uint8_t *certs[IPC_MAX_CHAIN_CERTS],
                          size_t lens[IPC_MAX_CHAIN_CERTS], size_t *count);
void tls_peer_record_verdict(tls_conn *conn, const ipc_message *answer);
/* tls_peer_verify_result: the X509_V_* code that explains a failed
 * handshake of |conn| (the verifier's, else X509_V_OK). */
long tls_peer_verify_result(const tls_conn *conn);
/* tls_peer_check applies the certificate policy when the handshake is
 * complete: for an incoming connection tls-auth-clients, for an outgoing one
 * a verified server. Copies the vouched subject to |subject|. Returns 1, or
 * 0 with |err|. */
int tls_peer_check(tls_conn *conn, char *subject, size_t subject_len, char *err,
                   size_t err_len);
/* A resumed session's binding (what main wrote into the session's
 * TLS_SESSION_BINDING_FIELD when it sealed the ticket):
 *   "RDI1" | u64 authenticated_at | SHA-256(chain) [32] |
 *   u16-length subject (text, <= IPC_MAX_REASON) | HMAC-SHA256 [32]
 * the MAC over the secret and session ID context of the session and the
 * bytes before it. */
typedef struct tls_peer_binding {
  int64_t authenticated_at;
  uint8_t chain_sha256[32];
  char subject[IPC_MAX_REASON + 1];
  uint8_t mac[32];
  size_t body_len; /* bytes the MAC covers (all but the MAC) */
} tls_peer_binding;
/* tls_peer_parse_binding parses |len| bytes from a handed-back session (a
 * handshaker's bytes). Returns 1, or 0 if they are not exactly one binding. */
int tls_peer_parse_binding(const uint8_t *blob, size_t len,
                           tls_peer_binding *out);
/* tls_peer_binding_body writes a binding without its MAC. Returns 1 or 0
 * (a subject over IPC_MAX_REASON or with control bytes). */
int tls_peer_binding_body(CBB *out, int64_t authenticated_at,
                          const uint8_t chain_sha256[32], const char *subject);

/* tls_peer_release frees |conn|'s identity. */
void tls_peer_release(tls_conn *conn);

/* tls_pool_submit_verify sends |conn|'s chain to a verifier of its
 * generation (or of the current one). Returns 1 if sent, 0 if none could
 * take it. */
int tls_pool_submit_verify(tls_conn *conn, uint8_t purpose,
                           const uint8_t *const *certs, const size_t *lens,
                           size_t count);
/* tls_conn_resume_finish continues an incoming handshake after a verdict:
 * on the completion thread if it runs, else on the loop. */
void tls_conn_resume_finish(tls_conn *conn);

/* tls_write_pending writes buf[*off, len) to non-blocking |fd|, advancing
 * *off. Returns 1 when all is written, 0 when the socket is full, -1 on
 * error (errno; 0 for a zero-length write). */
int tls_write_pending(int fd, const uint8_t *buf, size_t len, size_t *off);
/* tls_conn_apply_handback gives |conn| main's SSL (no key) holding the
 * session in conn->handback (then wiped and freed) on the connection's fd.
 * Returns 1, or 0 with the reason in |why|. */
int tls_conn_apply_handback(tls_conn *conn, char *err, size_t err_len);
/* tls_handshake_nice_value: main's nice plus tls-handshaker-nice, capped at
 * 19 (handshakers and the completion thread). */
int tls_handshake_nice_value(void);

/* tls_conn_on_finished (main's loop): the completion thread handed |conn|
 * back with its result in the fin_* fields. */
void tls_conn_on_finished(tls_conn *conn);

/* ---- finisher.c: the thread that completes handshakes after handback -- */

/* tls_finisher_start starts the thread. Returns 1, or 0 (logged): then
 * handshakes complete on main's loop. */
int tls_finisher_start(ae_loop *loop);
/* tls_finisher_stop stops and joins it (at shutdown). */
void tls_finisher_stop(void);
int tls_finisher_running(void);
/* tls_finisher_submit hands over |conn| at DONE: |flight| (the handshaker's
 * last bytes) and |handback| are set, |ssl| is NULL and main no longer
 * watches its fd. The thread writes |flight|, applies the handback, drives
 * the handshake until it completes, fails or |deadline_us| passes, then
 * main gets it back in tls_conn_on_finished. Returns 0 (nothing done) if
 * the thread is not running. */
int tls_finisher_submit(tls_conn *conn, long long deadline_us);
/* tls_finisher_apply_nice gives the thread main's nice plus
 * tls-handshaker-nice (after start and after CONFIG SET). */
void tls_finisher_apply_nice(void);

/* tls_conn_new makes a connection on |fd| (which it then owns) in the
 * in-flight list, its handshake started at |state|; |peer| is "ip:port".
 * NULL when out of memory (fd untouched). */
tls_conn *tls_conn_new(ae_loop *loop, int fd, const char *ip, const char *peer,
                       tls_handshake_state state);
/* tls_conn_watch: the events a handshake in progress waits for. */
void tls_conn_watch(tls_conn *conn, int want_read, int want_write);
/* tls_conn_handshake_done: main's SSL completed the handshake (the peer is
 * checked, then the connection is handed over). */
void tls_conn_handshake_done(tls_conn *conn);
/* tls_conn_handshake_failed: main's SSL failed the handshake with |code|
 * (SSL_get_error), |verify| and BoringSSL's |errors|. */
void tls_conn_handshake_failed(tls_conn *conn, int code, long verify,
                               const char *errors);
/* tls_conn_fail: ends a handshake with |reason|. */
void tls_conn_fail(tls_conn *conn, const char *reason);

/* ---- client.c: outgoing connections (tls-replication) ---------------- */

/* tls_client_step drives an outgoing handshake (readable, writable or a
 * signature arrived). */
void tls_client_step(tls_conn *conn);
/* tls_client_on_signed: a handshaker's SIGNED or FAIL for |conn|. */
void tls_client_on_answer(tls_conn *conn, const ipc_message *answer);
/* tls_client_ctx_free: a generation's client context (pool.c). */
void tls_client_ctx_free(tls_generation *gen);

/* tls_pool_submit_sign asks a handshaker of |conn|'s generation to sign.
 * Returns 1 if sent, 0 if none could take it. */
int tls_pool_submit_sign(tls_conn *conn, uint16_t sigalg, const uint8_t *in,
                         size_t len);

/* Answers routed from the pool; |answer| has been checked to belong to
 * |conn| and to match its outstanding request. */
void tls_conn_on_answer(tls_conn *conn, const ipc_message *answer);
/* tls_conn_on_handshaker_lost fails a handshake whose handshaker died. */
void tls_conn_on_handshaker_lost(tls_conn *conn, const char *why);
/* tls_conn_on_handshaker_ready: a waiting conn may now be submitted. */
void tls_conn_retry_waiting(void);
/* tls_conn_for_each_inflight calls |fn| on every handshaking conn (|fn|
 * may fail the conn). */
void tls_conn_for_each_inflight(void (*fn)(tls_conn *conn, void *arg),
                                void *arg);
void tls_conn_check_timeouts(long long now_ms);
int tls_conn_handshakes_in_flight(void);
/* tls_conn_append_info appends the pre-authentication INFO tls fields
 * (refusals per address, evictions, ClientHello timeouts). */
void tls_conn_append_info(char *buf, size_t len, size_t *used);
void tls_conn_init(void);
/* tls_next_conn_id_peek: ids below it were handed out (stale answers). */
uint64_t tls_next_conn_id_peek(void);

#endif
