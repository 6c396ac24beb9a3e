/* spawner_client.h: the privileged spawner as main and a handshaker see it
 * (the spawner process itself is spawner.h).
 *
 * Privilege separation (server-user, README "Privilege separation"): when
 * the server starts as root it starts the spawner, a fresh image of this
 * binary that stays root, then drops to an unprivileged user. Afterwards
 * main can neither open the TLS private keys (root-only files) nor learn
 * their passphrases: the spawner reads the keys and starts every
 * handshaker, and a new handshaker asks the spawner, not main, for its key
 * (sandbox_keys_fetch) before it sandboxes itself. Code execution in main
 * gains nothing that reads a key.
 *
 * The protocol (spawner_proto.h) is tiny and strict: main may ask to spawn
 * a handshaker, to signal, reap or renice one of the spawner's own
 * children, nothing else; a handshaker may ask once for the keys, by the
 * paths main configured it with, and gets them only from a directory that
 * held a key file at start-up. Every request is synchronous, bounded by a
 * timeout; a spawner that fails to answer is given up for good (its
 * handshakers die with it: they have PR_SET_PDEATHSIG).
 *
 * Main side: call from one thread (the event loop), like spawn.h. */
#ifndef REDOUBT_SANDBOX_SPAWNER_CLIENT_H
#define REDOUBT_SANDBOX_SPAWNER_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* argv[1] of the spawner process: <exe> SANDBOX_SPAWNER_ARG 3. */
#define SANDBOX_SPAWNER_ARG "--redoubt-spawner"
/* In the spawner: the control socket to main. */
#define SANDBOX_SPAWNER_FD 3
/* In a handshaker started by the spawner: the socket it asks for its keys
 * on (closed once answered; absent in a handshaker main started). */
#define SANDBOX_KEYS_FD 4

/* ---- main ------------------------------------------------------------ */

/* sandbox_spawner_allow_children names the argv[1] of every kind of child
 * the spawner may start (a NULL-terminated list of at most
 * SPAWNER_MAX_CHILD_KINDS; the strings must stay valid): main() calls it
 * with the handshaker's markers before the server starts. A spawner never
 * starts the binary with any other argv. */
void sandbox_spawner_allow_children(const char *const *args);

/* What the spawner is started with; main is still root and trusted. */
typedef struct sandbox_spawner_config {
  const char *argv0;        /* argv[0] of the spawner and its children */
  const char *sandbox_user; /* sandbox-user (for the log) */
  /* tls-key-file and tls-client-key-file at start-up (NULL or ""): the
   * directories they are in are the only ones keys are read from later. */
  const char *key_file, *client_key_file;
  /* The passphrases (NULL or ""): they live in the spawner from now on. */
  const char *key_file_pass, *client_key_file_pass;
  int seccomp; /* sandbox-seccomp: confine the spawner too */
} sandbox_spawner_config;

/* sandbox_spawner_start starts the spawner (its stderr is the log relay
 * when open, spawn.h) and waits until it is confined and ready (at most
 * 10 s). From then on spawn.h uses it. Returns 1, or 0 with |err| (nothing
 * left running). */
int sandbox_spawner_start(const sandbox_spawner_config *config, char *err,
                          size_t err_len);

/* sandbox_spawner_active returns 1 once the spawner runs (even if it has
 * died since: spawning then fails), else 0. */
int sandbox_spawner_active(void);

/* sandbox_spawner_pid returns the spawner's pid, or 0. */
pid_t sandbox_spawner_pid(void);

/* sandbox_spawner_alive returns 1 while requests can be made. */
int sandbox_spawner_alive(void);

/* Requests (spawn.c). Each returns 1, or 0 with |err|. */
int sandbox_spawner_spawn(const char *mode_arg, int socket_buffer,
                          pid_t *out_pid, int *out_fd, char *err,
                          size_t err_len);
int sandbox_spawner_kill(pid_t pid, char *err, size_t err_len);
/* |how| is SPAWNER_REAP_*; *out_state SPAWNER_STATE_*. */
int sandbox_spawner_reap(pid_t pid, int how, int *out_state,
                         int *out_wait_status, char *err, size_t err_len);
int sandbox_spawner_set_nice(pid_t pid, int value, char *err, size_t err_len);

/* ---- handshaker ---------------------------------------------------- */

/* The keys a handshaker got from the spawner. Owns its bytes; free with
 * sandbox_keys_free (which wipes them). */
typedef struct sandbox_keys {
  const uint8_t *key; /* PEM, tls-key-file */
  size_t key_len;
  const uint8_t *client_key; /* PEM, tls-client-key-file; len 0 if unset */
  size_t client_key_len;
  const char *key_file_pass;        /* "" when none */
  const char *client_key_file_pass; /* "" when none */
  void *storage;                    /* internal */
  size_t storage_len;
} sandbox_keys;

/* sandbox_keys_fetch asks the spawner that started this process for the
 * keys of |key_file| and |client_key_file| (NULL: none), as main configured
 * them, and closes SANDBOX_KEYS_FD. Returns 1 with |out| filled, 0 with
 * |err| (the spawner refused or failed), or -1 when this process was not
 * started by a spawner (load the files directly). */
int sandbox_keys_fetch(const char *key_file, const char *client_key_file,
                       sandbox_keys *out, char *err, size_t err_len);
void sandbox_keys_free(sandbox_keys *keys);

#endif
