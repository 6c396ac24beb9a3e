/* spawn.c: starting, reaping and accounting for sandboxed children, and
 * the log relay of their stderr (see spawn.h). */
#include "sandbox/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/internal.h"
#include "sandbox/spawner_client.h"
#include "sandbox/spawner_proto.h"

/* How long sandbox_reap waits for a child whose socket reached EOF (it is
 * exiting) before it kills it: 50 polls of 1 ms. */
#define SANDBOX_REAP_POLLS 50

/* ---- environment ------------------------------------------------------ */

/* Sanitizer builds: the runtime's options (a handshaker without
 * detect_leaks=0 would run LeakSanitizer at exit, inside its filter). */
static const char *const sandbox_env_passed[] = {
#ifdef SANDBOX_SANITIZER_BUILD
    "ASAN_OPTIONS",
    "UBSAN_OPTIONS",
    "LSAN_OPTIONS",
    "TSAN_OPTIONS",
#endif
#ifdef REDOUBT_TEST_HOOKS
    "REDOUBT_SECCOMP_AUDIT",
#endif
    NULL};

char **sandbox_child_environment(void) {
  static char *env[sizeof(sandbox_env_passed) / sizeof(sandbox_env_passed[0])];
  static char
      storage[sizeof(sandbox_env_passed) / sizeof(sandbox_env_passed[0])][512];
  static int built;
  if (!built) {
    size_t n = 0;
    for (size_t i = 0; sandbox_env_passed[i] != NULL; i++) {
      const char *value = getenv(sandbox_env_passed[i]);
      if (value != NULL &&
          (size_t)snprintf(storage[n], sizeof(storage[n]), "%s=%s",
                           sandbox_env_passed[i], value) < sizeof(storage[n])) {
        env[n] = storage[n];
        n++;
      }
    }
    env[n] = NULL;
    built = 1;
  }
  return env;
}

/* ---- the log relay ---------------------------------------------------- */

/* Kernel buffer of the children's end: ~100 lines of a busy second. */
#define SANDBOX_LOG_SOCKET_BUFFER (64 * 1024)

static struct {
  int read_fd, child_fd; /* -1 when closed */
  int open;
  double tokens;
  long long refill_ms; /* last refill */
  long long dropped;   /* since the last report */
  long long last_report_ms;
} relay = {-1, -1, 0, 0, 0, 0, 0};

int sandbox_log_relay_open(char *err, size_t err_len) {
  int sv[2];
  if (relay.open) {
    return 1;
  }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    snprintf(err, err_len, "log relay socketpair: %s", strerror(errno));
    return 0;
  }
  int size = SANDBOX_LOG_SOCKET_BUFFER;
  setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  /* Main never writes on its end, children never read on theirs. */
  shutdown(sv[0], SHUT_WR);
  shutdown(sv[1], SHUT_RD);
  fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
  fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK);
  relay.read_fd = sv[0];
  relay.child_fd = sv[1];
  relay.tokens = SANDBOX_LOG_BURST;
  relay.open = 1;
  return 1;
}

int sandbox_log_relay_fd(void) { return relay.read_fd; }

int sandbox_log_relay_child_fd(void) { return relay.child_fd; }

/* sandbox_log_clean makes |line| (|len| bytes) one printable line: no
 * trailing newline, control and non-ASCII bytes as '?'. */
static void sandbox_log_clean(char *line, size_t len) {
  while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
    len--;
  }
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)line[i];
    if (c < 0x20 || c > 0x7e) {
      line[i] = '?';
    }
  }
  line[len] = '\0';
}

int sandbox_log_relay_drain(sandbox_log_sink *sink, void *arg,
                            long long now_ms) {
  /* Room for the cut marker after a full line. */
  char line[SANDBOX_LOG_MAX_LINE + 32];
  int count = 0;
  if (!relay.open) {
    return 0;
  }
  /* Refill: SANDBOX_LOG_LINES_PER_SECOND, at most SANDBOX_LOG_BURST. */
  if (now_ms > relay.refill_ms) {
    relay.tokens += (double)(now_ms - relay.refill_ms) *
                    SANDBOX_LOG_LINES_PER_SECOND / 1000.0;
    if (relay.tokens > SANDBOX_LOG_BURST) {
      relay.tokens = SANDBOX_LOG_BURST;
    }
    relay.refill_ms = now_ms;
  }
  while (count < SANDBOX_LOG_DRAIN_BUDGET) {
    struct iovec iov = {.iov_base = line, .iov_len = SANDBOX_LOG_MAX_LINE};
    struct msghdr mh;
    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    ssize_t n = recvmsg(relay.read_fd, &mh, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break; /* EAGAIN; 0 cannot happen while we hold the children's end */
    }
    count++;
    if (relay.tokens < 1.0) {
      relay.dropped++;
      continue;
    }
    relay.tokens -= 1.0;
    sandbox_log_clean(line, (size_t)n);
    if (mh.msg_flags & MSG_TRUNC) {
      size_t used = strlen(line);
      snprintf(line + used, sizeof(line) - used, " [cut]");
    }
    sink(line, arg);
  }
  if (relay.dropped > 0 && now_ms - relay.last_report_ms >= 1000) {
    snprintf(line, sizeof(line),
             "%lld handshaker log lines dropped (rate limit)", relay.dropped);
    sink(line, arg);
    relay.dropped = 0;
    relay.last_report_ms = now_ms;
  }
  return count;
}

/* ---- spawning ---------------------------------------------------------- */

int sandbox_spawn(const char *argv0, const char *mode_arg, int socket_buffer,
                  sandbox_child *out_child, char *err, size_t err_len) {
  if (sandbox_spawner_active()) {
    /* Privilege separation: the spawner starts it (and holds the keys). */
    pid_t pid = 0;
    int fd = -1;
    (void)argv0; /* fixed when the spawner started */
    if (!sandbox_spawner_spawn(mode_arg, socket_buffer, &pid, &fd, err,
                               err_len)) {
      return 0;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    memset(out_child, 0, sizeof(*out_child));
    out_child->pid = pid;
    out_child->fd = fd;
    out_child->via_spawner = 1;
    return 1;
  }
  int sv[2] = {-1, -1};
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    snprintf(err, err_len, "socketpair: %s", strerror(errno));
    return 0;
  }
  if (socket_buffer > 0) {
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &socket_buffer,
               sizeof(socket_buffer));
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &socket_buffer,
               sizeof(socket_buffer));
  }
  /* dup2 onto the same number would not clear CLOEXEC. */
  if (sv[1] == SANDBOX_CHILD_FD) {
    int moved = fcntl(sv[1], F_DUPFD_CLOEXEC, SANDBOX_CHILD_FD + 1);
    close(sv[1]);
    sv[1] = moved;
  }
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  sigset_t none, all;
  posix_spawn_file_actions_init(&actions);
  if (relay.child_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, relay.child_fd, STDERR_FILENO);
  }
  posix_spawn_file_actions_adddup2(&actions, sv[1], SANDBOX_CHILD_FD);
  posix_spawn_file_actions_addclosefrom_np(&actions, SANDBOX_CHILD_FD + 1);
  posix_spawnattr_init(&attr);
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  char fd_text[16];
  snprintf(fd_text, sizeof(fd_text), "%d", SANDBOX_CHILD_FD);
  char *argv[] = {(char *)argv0, (char *)mode_arg, fd_text, NULL};
  pid_t pid = 0;
  int rc = sv[1] < 0 ? EMFILE
                     : posix_spawn(&pid, "/proc/self/exe", &actions, &attr,
                                   argv, sandbox_child_environment());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (sv[1] >= 0) {
    close(sv[1]);
  }
  if (rc != 0) {
    close(sv[0]);
    snprintf(err, err_len, "posix_spawn: %s", strerror(rc));
    return 0;
  }
  fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
  memset(out_child, 0, sizeof(*out_child));
  out_child->pid = pid;
  out_child->fd = sv[0];
  return 1;
}

int sandbox_set_nice(const sandbox_child *child, int value) {
  char err[SPAWNER_MAX_REASON + 1];
  if (child->pid <= 0) {
    errno = ESRCH;
    return -1;
  }
  if (!child->via_spawner) {
    return setpriority(PRIO_PROCESS, (id_t)child->pid, value);
  }
  if (!sandbox_spawner_set_nice(child->pid, value, err, sizeof(err))) {
    errno = EPERM;
    return -1;
  }
  return 0;
}

const char *sandbox_signal_name(int sig) {
  const char *abbrev = sigabbrev_np(sig);
  return abbrev ? abbrev : "?";
}

void sandbox_describe_status(int status, char *out, size_t len) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    snprintf(
        out, len, "killed by signal %d (SIG%s%s)", sig,
        sandbox_signal_name(sig),
        sig == SIGSYS ? ": the sandbox stopped a forbidden system call" : "");
  } else if (WIFEXITED(status)) {
    snprintf(out, len, "exited with status %d", WEXITSTATUS(status));
  } else {
    snprintf(out, len, "stopped (status 0x%x)", status);
  }
}

/* sandbox_reap_via_spawner: sandbox_reap/try_reap for a child of the
 * spawner. Returns 1 when |child| is gone (pid 0 afterwards). */
static int sandbox_reap_via_spawner(sandbox_child *child, int how,
                                    char *out_description,
                                    size_t description_len) {
  char err[SPAWNER_MAX_REASON + 1];
  int state = SPAWNER_STATE_GONE, status = 0;
  if (!sandbox_spawner_reap(child->pid, how, &state, &status, err,
                            sizeof(err))) {
    /* The spawner is gone, and with it (PR_SET_PDEATHSIG) the child. */
    snprintf(out_description, description_len,
             "exit status unknown (spawner: %s)", err);
    child->pid = 0;
    return 1;
  }
  if (state == SPAWNER_STATE_RUNNING) {
    return 0;
  }
  if (state == SPAWNER_STATE_REAPED) {
    child->status = status;
    child->have_status = 1;
    sandbox_describe_status(status, out_description, description_len);
  } else {
    snprintf(out_description, description_len,
             "exit status unknown (reaped elsewhere)");
  }
  child->pid = 0;
  return 1;
}

void sandbox_reap(sandbox_child *child, int force, char *out_description,
                  size_t description_len) {
  int status = 0;
  snprintf(out_description, description_len, "exit status unknown");
  if (child->pid <= 0) {
    return;
  }
  if (child->via_spawner) {
    sandbox_reap_via_spawner(child,
                             force ? SPAWNER_REAP_FORCE : SPAWNER_REAP_WAIT,
                             out_description, description_len);
    return;
  }
  if (force) {
    kill(child->pid, SIGKILL);
  }
  for (int i = 0; i < SANDBOX_REAP_POLLS; i++) {
    pid_t r = waitpid(child->pid, &status, WNOHANG);
    if (r == child->pid) {
      sandbox_describe_status(status, out_description, description_len);
      child->status = status;
      child->have_status = 1;
      child->pid = 0;
      return;
    }
    if (r < 0) {
      snprintf(out_description, description_len,
               "exit status unknown (reaped elsewhere)");
      child->pid = 0;
      return;
    }
    usleep(1000);
  }
  kill(child->pid, SIGKILL);
  if (waitpid(child->pid, &status, 0) == child->pid) {
    child->status = status;
    child->have_status = 1;
    sandbox_describe_status(status, out_description, description_len);
    size_t used = strlen(out_description);
    snprintf(out_description + used, description_len - used, " after SIGKILL");
  }
  child->pid = 0;
}

int sandbox_try_reap(sandbox_child *child) {
  if (child->pid <= 0) {
    return 1;
  }
  if (child->via_spawner) {
    char ignored[SPAWNER_MAX_REASON + 64];
    return sandbox_reap_via_spawner(child, SPAWNER_REAP_TRY, ignored,
                                    sizeof(ignored));
  }
  int status;
  pid_t r = waitpid(child->pid, &status, WNOHANG);
  if (r == child->pid) {
    child->status = status;
    child->have_status = 1;
  }
  if (r == child->pid || r < 0) {
    child->pid = 0;
    return 1;
  }
  return 0;
}

void sandbox_kill(sandbox_child *child) {
  if (child->pid <= 0) {
    return;
  }
  if (child->via_spawner) {
    char ignored[SPAWNER_MAX_REASON + 1];
    sandbox_spawner_kill(child->pid, ignored, sizeof(ignored));
    return;
  }
  kill(child->pid, SIGKILL);
}

void sandbox_kill_and_reap(sandbox_child *child) {
  if (child->pid <= 0) {
    return;
  }
  if (child->via_spawner) {
    char ignored[SPAWNER_MAX_REASON + 64];
    sandbox_reap_via_spawner(child, SPAWNER_REAP_FORCE, ignored,
                             sizeof(ignored));
    return;
  }
  kill(child->pid, SIGKILL);
  waitpid(child->pid, NULL, 0);
  child->pid = 0;
}

/* ---- deaths ------------------------------------------------------------- */

void sandbox_death_record(sandbox_death_stats *stats,
                          const sandbox_child *child,
                          sandbox_death_verdict verdict, const char *what,
                          const char *status) {
  if (verdict == SANDBOX_DEATH_PROTOCOL_VIOLATION) {
    stats->protocol_violations++;
  } else if (verdict == SANDBOX_DEATH_TIMEOUT) {
    stats->timeouts++;
  } else if (child->have_status && WIFSIGNALED(child->status) &&
             WTERMSIG(child->status) > 0 && WTERMSIG(child->status) <= 64) {
    stats->by_signal[WTERMSIG(child->status)]++;
  } else {
    stats->exits++;
  }
  snprintf(stats->last_reason, sizeof(stats->last_reason), "%s: %s", what,
           status);
  /* INFO values: no CR/LF, and no '=' or ',' (clients split on them). */
  for (char *p = stats->last_reason; *p; p++) {
    if (*p == '\r' || *p == '\n' || *p == '=' || *p == ',') {
      *p = ' ';
    }
  }
  stats->last_time = (long long)time(NULL);
}

/* ---- backoff ------------------------------------------------------------ */

void sandbox_backoff_reset(sandbox_backoff *backoff) {
  backoff->delay_ms = SANDBOX_RESPAWN_MIN_MS;
  backoff->next_ms = 0;
}

static long long sandbox_backoff_double(long long delay_ms) {
  return delay_ms * 2 > SANDBOX_RESPAWN_MAX_MS ? SANDBOX_RESPAWN_MAX_MS
                                               : delay_ms * 2;
}

void sandbox_backoff_after_death(sandbox_backoff *backoff, long long lived_ms,
                                 long long now_ms) {
  if (lived_ms >= SANDBOX_STABLE_LIFETIME_MS || backoff->delay_ms == 0) {
    backoff->delay_ms = SANDBOX_RESPAWN_MIN_MS;
  } else {
    backoff->delay_ms = sandbox_backoff_double(backoff->delay_ms);
  }
  backoff->next_ms = now_ms + backoff->delay_ms;
}

void sandbox_backoff_after_attempt(sandbox_backoff *backoff, int failed,
                                   long long now_ms) {
  if (failed) {
    backoff->delay_ms = sandbox_backoff_double(backoff->delay_ms);
  }
  backoff->next_ms = now_ms + backoff->delay_ms;
}

int sandbox_backoff_due(const sandbox_backoff *backoff, long long now_ms) {
  return now_ms >= backoff->next_ms;
}
