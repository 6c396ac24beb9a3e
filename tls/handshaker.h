/* handshaker.h: entry point of a handshaker process (tls/handshaker.c, the
 * code that runs inside the sandbox). The server's main() dispatches here
 * before anything else runs; the process then needs nothing from server/.
 * Target //tls:handshaker; its dependencies contain no //server label
 * (utils/check-layers.sh checks it). */
#ifndef REDOUBT_TLS_HANDSHAKER_H
#define REDOUBT_TLS_HANDSHAKER_H

/* argv marker of a handshaker process: <exe> TLS_HANDSHAKER_ARG <fd>. */
#define TLS_HANDSHAKER_ARG "--redoubt-tls-handshaker"
/* argv marker of a verifier: the same program in verify-only role (no
 * private key, no ticket keys, never a ClientHello; it answers VERIFY with
 * the verdict on a peer's certificate chain). */
#define TLS_VERIFIER_ARG "--redoubt-tls-verifier"
/* The IPC socket is always dup2'ed to this fd in the handshaker. */
#define TLS_HANDSHAKER_FD 3

/* tls_is_handshaker_invocation returns 1 if argv asks for handshaker (or
 * verifier) mode
 * (main() must then call tls_handshaker_main and exit with its result,
 * before doing anything else), 0 otherwise. */
int tls_is_handshaker_invocation(int argc, char **argv);
/* tls_handshaker_main runs a handshaker until main closes the IPC socket.
 * Returns the process exit status. */
int tls_handshaker_main(int argc, char **argv);

#endif
