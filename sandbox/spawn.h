/* spawn.h: starting, supervising and reaping a sandboxed child process (the
 * handshaker), seen from its parent. What the child runs and says is the
 * caller's business (tls/pool.c); this file knows processes, one IPC socket,
 * wait statuses, death causes and respawn backoff.
 *
 * A child is a fresh image of the running binary: posix_spawn (fork+exec)
 * of /proc/self/exe, so it never carries the parent's address space (the
 * dataset) and always has the same build as the parent (handoff/handback
 * formats are not stable across builds). It gets one end of a
 * SOCK_SEQPACKET socketpair on SANDBOX_CHILD_FD, stdin and stdout as the
 * parent has them, stderr connected to the log relay below (when open), no
 * other fd, an empty environment (sandbox_child_environment), default
 * signal dispositions and an empty signal mask. Privilege drop and seccomp
 * happen in the child itself after it has loaded its files (sandbox_enter,
 * sandbox.h).
 *
 * Privilege separation: when main dropped root after starting the
 * privileged spawner (spawner_client.h), every call here that starts,
 * signals, reaps or renices a handshaker goes through the spawner instead:
 * the handshaker is the spawner's child and holds key material main may
 * not see. The functions behave the same for the caller.
 *
 * Not thread-safe: call from one thread (main's event loop). */
#ifndef REDOUBT_SANDBOX_SPAWN_H
#define REDOUBT_SANDBOX_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

/* The child's end of the IPC socketpair is always this fd. */
#define SANDBOX_CHILD_FD 3

/* sandbox_child: one child process. Owned by the caller (embed it). */
typedef struct sandbox_child {
  pid_t pid;       /* > 0 until reaped, then 0 */
  int fd;          /* parent's end of the socketpair (non-blocking,
                    * close-on-exec); the caller closes it and sets -1 */
  int status;      /* wait status, valid when |have_status| */
  int have_status; /* 1 once reaped with a status */
  int via_spawner; /* started by the privileged spawner: signals, reaping
                    * and nice go through it */
} sandbox_child;

/* sandbox_spawn starts a child as described above, with argv
 * {argv0, mode_arg, "3", NULL} and SO_SNDBUF |socket_buffer| on both ends
 * of the socketpair. Returns 1 with *out_child filled, or 0 with nothing
 * left open and a reason in |err|. */
int sandbox_spawn(const char *argv0, const char *mode_arg, int socket_buffer,
                  sandbox_child *out_child, char *err, size_t err_len);

/* sandbox_set_nice sets |child|'s nice value (setpriority, or through the
 * spawner). Returns 0, or -1 with errno. */
int sandbox_set_nice(const sandbox_child *child, int value);

/* sandbox_child_environment returns the environment children start with:
 * empty in a release build; sanitizer builds pass the *SAN_OPTIONS
 * variables and test builds (-DREDOUBT_TEST_HOOKS) REDOUBT_SECCOMP_AUDIT
 * through, when set. Static, NULL-terminated; built on first use. */
char **sandbox_child_environment(void);

/* sandbox_reap collects |child| after its socket reached EOF: with |force|
 * it sends SIGKILL first; it waits at most ~50 ms, then kills and waits.
 * Writes what happened ("killed by signal 31 (SIGSYS: ...)", "exited with
 * status 1", ...) into |out_description|. |child->pid| is 0 afterwards. */
void sandbox_reap(sandbox_child *child, int force, char *out_description,
                  size_t description_len);

/* sandbox_try_reap collects |child| if it has exited, without blocking.
 * Returns 1 if it is gone (pid 0), 0 if it still runs. */
int sandbox_try_reap(sandbox_child *child);

/* sandbox_kill sends SIGKILL (nothing if already reaped). */
void sandbox_kill(sandbox_child *child);

/* sandbox_kill_and_reap kills |child| and waits for it (shutdown: a
 * stopped child must not hang it). */
void sandbox_kill_and_reap(sandbox_child *child);

/* sandbox_describe_status writes a wait status as text into |out|. */
void sandbox_describe_status(int status, char *out, size_t len);

/* sandbox_signal_name returns "SYS" for SIGSYS etc. ("?" if unknown). */
const char *sandbox_signal_name(int sig);

/* ---- the log relay: children's stderr ------------------------------------

 * A child's stderr is one end of a SOCK_SEQPACKET socketpair whose other end
 * main reads: each write(2) of a child is one datagram, i.e. one log line
 * (the handshaker writes whole lines). So a child never writes to a file
 * (its RLIMIT_FSIZE is 0) and its lines still reach the server log, through
 * main's logger, where they are length-capped, made printable and
 * rate-limited: a compromised child can neither forge a line of main's nor
 * fill the disk. The children's end is non-blocking: when main is behind,
 * lines are dropped, never the child stalled. */

/* Longest line kept; longer datagrams are cut (and marked). */
#define SANDBOX_LOG_MAX_LINE 1024
/* Rate limit: a burst of this many lines, refilled at this rate. */
#define SANDBOX_LOG_BURST 200
#define SANDBOX_LOG_LINES_PER_SECOND 50
/* Datagrams read per sandbox_log_relay_drain call (the wakeup budget). */
#define SANDBOX_LOG_DRAIN_BUDGET 64

/* sandbox_log_relay_open creates the relay (once; later calls return 1).
 * Returns 1, or 0 with |err|. */
int sandbox_log_relay_open(char *err, size_t err_len);
/* sandbox_log_relay_fd: main's (reading) end, non-blocking, to watch for
 * readability; -1 when not open. */
int sandbox_log_relay_fd(void);
/* sandbox_log_relay_child_fd: the children's (writing) end; -1 when not
 * open. */
int sandbox_log_relay_child_fd(void);

/* sandbox_log_sink receives one line: printable ASCII only (others become
 * '?'), no newline, at most SANDBOX_LOG_MAX_LINE bytes plus a marker. */
typedef void sandbox_log_sink(const char *line, void *arg);
/* sandbox_log_relay_drain reads up to SANDBOX_LOG_DRAIN_BUDGET lines and
 * passes those the rate limit admits to |sink|; once per second at most it
 * also reports how many were dropped ("N handshaker log lines dropped
 * (rate limit)"). |now_ms| is a monotonic clock. Returns the number of
 * datagrams read. */
int sandbox_log_relay_drain(sandbox_log_sink *sink, void *arg,
                            long long now_ms);

/* ---- why children died (INFO sandbox) --------------------------------- */

/* The caller's verdict wins over the wait status (which is then just the
 * caller's own SIGKILL). */
typedef enum {
  SANDBOX_DEATH_BY_STATUS = 0,      /* signal or exit, from the wait status */
  SANDBOX_DEATH_PROTOCOL_VIOLATION, /* the caller killed it: bad message */
  SANDBOX_DEATH_TIMEOUT             /* the caller killed it: no answer */
} sandbox_death_verdict;

#define SANDBOX_MAX_DEATH_REASON 320

typedef struct sandbox_death_stats {
  long long by_signal[65]; /* index: signal number */
  long long exits, protocol_violations, timeouts;
  char last_reason[SANDBOX_MAX_DEATH_REASON]; /* no CR, LF, '=' or ',' */
  long long last_time;                        /* unix time */
} sandbox_death_stats;

/* sandbox_death_record counts one death of |child| (already reaped) in
 * |stats| and keeps "<what>: <status>" as the last reason. */
void sandbox_death_record(sandbox_death_stats *stats,
                          const sandbox_child *child,
                          sandbox_death_verdict verdict, const char *what,
                          const char *status);

/* ---- respawn backoff ---------------------------------------------------- */

#define SANDBOX_RESPAWN_MIN_MS 100
#define SANDBOX_RESPAWN_MAX_MS 2000
/* A child that lived this long before dying resets the backoff. */
#define SANDBOX_STABLE_LIFETIME_MS 5000

/* sandbox_backoff: when the next respawn may happen (monotonic ms). */
typedef struct sandbox_backoff {
  long long delay_ms;
  long long next_ms;
} sandbox_backoff;

/* sandbox_backoff_reset: respawn at once, then start at the minimum. */
void sandbox_backoff_reset(sandbox_backoff *backoff);
/* sandbox_backoff_after_death schedules the respawn of a child that lived
 * |lived_ms|: the minimum delay after a stable life, else double the last
 * (at most SANDBOX_RESPAWN_MAX_MS). */
void sandbox_backoff_after_death(sandbox_backoff *backoff, long long lived_ms,
                                 long long now_ms);
/* sandbox_backoff_after_attempt schedules the next attempt after a respawn
 * at |now_ms| (doubling the delay if it failed). */
void sandbox_backoff_after_attempt(sandbox_backoff *backoff, int failed,
                                   long long now_ms);
/* sandbox_backoff_due returns 1 if a respawn may happen at |now_ms|. */
int sandbox_backoff_due(const sandbox_backoff *backoff, long long now_ms);

#endif
