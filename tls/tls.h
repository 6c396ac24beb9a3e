/* tls.h: what the server core sees of TLS. No BoringSSL types here: server/
 * never includes <openssl/...>.
 *
 * Process model (DESIGN.md): handshakes and every private-key operation run
 * in handshaker processes (fork+exec of this binary in handshaker mode);
 * main reads whole TLS records until the ClientHello has been consumed,
 * relays records and answers over a SOCK_SEQPACKET socketpair, applies the
 * handback and then does record processing itself. */
#ifndef REDOUBT_TLS_H
#define REDOUBT_TLS_H

#include "server/event/ae.h"
#include "server/event/conn.h"
#include "server/ds/sds.h"

struct tls_options;

/* tls_is_handshaker_invocation returns 1 if argv asks for handshaker mode
 * (main() must then call tls_handshaker_main and exit with its result,
 * before doing anything else). */
int tls_is_handshaker_invocation(int argc, char **argv);
int tls_handshaker_main(int argc, char **argv);

/* tls_validate_options checks a configuration without applying it
 * (protocol names, cipher strings, readable files). Returns 1, or 0 and an
 * allocated message in *out_err (caller frees with sds_free). */
int tls_validate_options(const struct tls_options *opts, sds *out_err);

/* tls_start starts the handshaker pool and main's own post-handback context
 * with server.tls and server.tls_handshake_workers. Called once at boot,
 * before listeners are bound and before any data is loaded. Returns 1, or 0
 * with *out_err set (the server then refuses to start). */
int tls_start(ae_loop *loop, sds *out_err);

/* tls_reconfigure applies changed tls-* settings (CONFIG SET): new
 * handshakers with the new material, old ones retired after their in-flight
 * handshakes. On failure the old configuration stays in service and
 * *out_err says why. */
int tls_reconfigure(sds *out_err);

/* tls_accept_handler is the ae file handler for a tls-port listener. */
void tls_accept_handler(ae_loop *loop, int fd, void *client_data, int mask);

/* tls_cron runs from serverCron: handshake timeouts, respawn backoff,
 * session-ticket key rotation. */
void tls_cron(void);

/* tls_info_section appends the "# TLS" INFO section. */
sds tls_info_section(sds info);

/* tls_shutdown stops handshakers (graceful shutdown). */
void tls_shutdown(void);

/* tls_check_config implements --check-config: prints the effective TLS
 * policy and returns the process exit code. */
int tls_check_config(int json);

/* tls_sandbox_info_section appends the "INFO sandbox" fields (handshakers
 * alive, deaths/restarts by cause, seccomp mode, last death reason). */
sds tls_sandbox_info_section(sds info);

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
