/* tls.h: what the server core sees of TLS. No BoringSSL types here: server/
 * never includes <openssl/...>.
 *
 * Process model (DESIGN.md): handshakes and every private-key operation run
 * in handshaker processes (fork+exec of this binary in handshaker mode, see
 * tls/handshaker.h and sandbox/spawn.h); main reads whole TLS records until
 * the ClientHello has been consumed, relays records and answers over a
 * SOCK_SEQPACKET socketpair, applies the handback and then does record
 * processing itself.
 *
 * tls/ reads no server state: everything it needs from the server comes
 * through a tls_host (callbacks and the executable path) and the
 * tls_options passed to each call. Start-up sequence:
 *
 *   tls_host host = {...};                  // filled by the server
 *   tls_start(loop, &server_options, &host, err, sizeof(err));  // first
 *   ... bind listeners, watch them with tls_accept_handler (deferred) ...
 *   tls_cron() from the server's cron; tls_reconfigure() on CONFIG SET;
 *   tls_shutdown() at exit. */
#ifndef REDOUBT_TLS_H
#define REDOUBT_TLS_H

#include <stddef.h>

#include "server/event/ae.h"
#include "server/event/conn.h"
#include "tls/options.h"

/* Levels passed to tls_host.log, in increasing importance (the same order
 * as the server's own log levels). */
#define TLS_LOG_DEBUG 0
#define TLS_LOG_VERBOSE 1
#define TLS_LOG_NOTICE 2
#define TLS_LOG_WARNING 3

/* tls_tunables: the tls-* and sandbox-* values tls/ reads again at every use,
 * so that CONFIG SET takes effect without a call into tls/. */
typedef struct tls_tunables {
  int port;                     /* tls-port (0: no TLS listener) */
  int client;                   /* tls-replication or tls-cluster: TLS runs
                                 * for outgoing connections even without a
                                 * tls-port */
  int handshake_workers;        /* tls-handshake-workers */
  int handshake_timeout_ms;     /* tls-handshake-timeout */
  int max_handshakes_in_flight; /* tls-max-handshakes-in-flight */
  int max_handshakes_per_ip;    /* tls-max-handshakes-per-ip (0: none) */
  int client_hello_timeout_ms;  /* tls-client-hello-timeout */
  /* The host's connection budget (file descriptors): incoming handshakes in
   * flight count against it with the connected clients. 0: no budget. */
  long long max_clients;    /* maxclients */
  long long clients;        /* connected clients now */
  int handshaker_nice;      /* tls-handshaker-nice */
  int sandbox_seccomp;      /* sandbox-seccomp (read at each spawn) */
  const char *sandbox_user; /* sandbox-user; borrowed, copied at each use */
} tls_tunables;

/* tls_host: what tls/ needs from the server. tls_start, tls_reconfigure
 * and tls_check_config copy the struct; the functions and |executable| must
 * stay valid until tls_shutdown. Every callback runs on the event-loop
 * thread (never on the handshake-completion thread). */
typedef struct tls_host {
  /* Path of the running binary (argv[0] of handshakers; the image itself
   * is always /proc/self/exe). NULL: "redoubt-server". */
  const char *executable;
  /* read_tunables fills |out| with the current values. NULL: defaults
   * (one worker, seccomp on, no port). */
  void (*read_tunables)(tls_tunables *out);
  /* log writes |message| (one line, no newline) at |level| (TLS_LOG_*),
   * filtered by the host's own verbosity. NULL: notices and warnings go to
   * stderr. */
  void (*log)(int level, const char *message);
  /* security_log records a security event: |event| is a name such as
   * "tls_client_refused", |details| "key=value ..." text. NULL: log. */
  void (*security_log)(const char *event, const char *details);
  /* security_log_peer records a security event a network peer caused:
   * |source| is its address (no port), |cause| a short stable reason, so
   * that the host can count repeats instead of writing each one. NULL:
   * security_log. */
  void (*security_log_peer)(const char *event, const char *source,
                            const char *cause, const char *details);
  /* accept_starved: accept(2) on a TLS listener failed with EMFILE or
   * ENFILE (|err|). The host stops watching its listeners for a moment
   * instead of being woken again at once for the same pending connection.
   * NULL: the listener stays watched. */
  void (*accept_starved)(int err);
  /* accepted takes over |conn|, whose handshake completed and whose client
   * certificate passed the tls-auth-clients policy, as a new client (what
   * the server does for an accepted TCP connection); |ip| is the peer's
   * address. The host counts TLS connections here. NULL: the connection
   * is closed. */
  void (*accepted)(connection *conn, const char *ip);
} tls_host;

/* Errors: functions that can fail return 1, or 0 with a NUL-terminated
 * reason in the caller's |err| buffer of |err_len| bytes (truncated if
 * needed; TLS_ERR_LEN is always enough). */
#define TLS_ERR_LEN 512

/* tls_validate_options checks a configuration without applying it
 * (protocol names, cipher strings, readable files; certificate and key
 * required when |need_cert|). Returns 1, or 0 with |err|. */
int tls_validate_options(const tls_options *options, int need_cert, char *err,
                         size_t err_len);

/* tls_start starts the handshaker pool and main's own post-handback context
 * with |options| (copied) and |host| (copied). Called once at boot, before
 * listeners are bound and before any data is loaded; a second call is a
 * no-op returning 1. Returns 1, or 0 with |err| (the server then refuses to
 * start). */
int tls_start(ae_loop *loop, const tls_options *options, const tls_host *host,
              char *err, size_t err_len);

/* tls_reconfigure applies changed tls-* settings (CONFIG SET): new
 * handshakers with the new material, old ones retired after their in-flight
 * handshakes. Before tls_start it only validates (tls-port 0) or starts TLS
 * (tls-port set) with |loop| and |host|. On failure the old configuration
 * stays in service and |err| says why. */
int tls_reconfigure(ae_loop *loop, const tls_options *options,
                    const tls_host *host, char *err, size_t err_len);

/* tls_accept_handler is the ae file handler for a tls-port listener. The
 * listener must be deferred (ae_set_deferred): new handshakes are second-
 * pass work. */
void tls_accept_handler(ae_loop *loop, int fd, void *client_data, int mask);

/* tls_preauth_count: incoming TLS connections whose handshake is in
 * progress (each holds a file descriptor and counts against maxclients). */
int tls_preauth_count(void);
/* tls_preauth_evict_idle closes the incoming handshake that has waited
 * longest for its client's ClientHello (one that has made no progress), to
 * make room for a new connection. Returns 1 if one was closed, 0 if every
 * handshake in flight has made progress. */
int tls_preauth_evict_idle(void);

/* tls_client_connect starts a TLS client handshake on |fd|, a connected
 * non-blocking TCP socket (tls-replication: a replica towards its master),
 * and returns the connection, which owns |fd| from then on. The server's
 * certificate is verified against tls-ca-cert-file/-dir; the client
 * presents tls-client-cert-file (else tls-cert-file), and the signature
 * with its key is made by a handshaker: main never holds the key. |done|
 * runs once, from the event loop (never before this returns), when the
 * connection is CONN_STATE_CONNECTED or failed (CONN_STATE_ERROR; the
 * reason is in tls_client_last_error); it may close the connection.
 * Returns NULL with |err| if TLS is not running or the client context
 * cannot be built (|fd| is then still the caller's). */
connection *tls_client_connect(ae_loop *loop, int fd, const char *peer,
                               conn_handler done, char *err, size_t err_len);
/* tls_client_last_error: why the last outgoing handshake failed ("" if
 * unknown). */
const char *tls_client_last_error(void);

/* tls_cron runs from the server's cron: handshake timeouts, respawn backoff,
 * session-ticket key rotation. A no-op before tls_start. */
void tls_cron(void);

/* A buffer of TLS_INFO_LEN bytes holds either INFO section in full. */
#define TLS_INFO_LEN 4096

/* tls_info_section writes the fields of the "# TLS" INFO section
 * ("name:value\r\n" lines) into |buf| (NUL-terminated, truncated to |len|)
 * and returns the length written. */
size_t tls_info_section(char *buf, size_t len);

/* tls_sandbox_info_section writes the "INFO sandbox" fields (handshakers
 * alive, deaths/restarts by cause, seccomp mode, last death reason) like
 * tls_info_section. */
size_t tls_sandbox_info_section(char *buf, size_t len);

/* tls_shutdown stops handshakers (graceful shutdown). A no-op before
 * tls_start. */
void tls_shutdown(void);

/* tls_check_config implements --check-config: prints the effective TLS
 * policy of |options| (and of |host|'s tunables) and returns the process
 * exit code. Logs nothing. */
int tls_check_config(const tls_options *options, const tls_host *host,
                     int json);

#ifdef REDOUBT_TEST_HOOKS
/* tls_test_hook (test builds only; DEBUG TLS-HANDSHAKER-*): |what| is
 * "syscall" (arg openat|socket|execve|ptrace) or "misbehave" (arg
 * wrong-conn-id|truncated|oversized|wrong-type|done-while-reading). Sends
 * the request to one ready handshaker (every one for done-while-reading),
 * fills |pids|. Returns the count, or -1 with |err|. */
int tls_test_hook(const char *what, const char *arg, int *pids, int max_pids,
                  char *err, size_t err_len);
#endif

#endif
