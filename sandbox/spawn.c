/* spawn.c: starting, reaping and accounting for sandboxed children (see
 * spawn.h). */
#include "sandbox/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* How long sandbox_reap waits for a child whose socket reached EOF (it is
 * exiting) before it kills it: 50 polls of 1 ms. */
#define SANDBOX_REAP_POLLS 50

int sandbox_spawn(const char *argv0, const char *mode_arg, int socket_buffer,
                  sandbox_child *out_child, char *err, size_t err_len) {
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
                                   argv, environ);
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

void sandbox_reap(sandbox_child *child, int force, char *out_description,
                  size_t description_len) {
  int status = 0;
  snprintf(out_description, description_len, "exit status unknown");
  if (child->pid <= 0) {
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
  if (child->pid > 0) {
    kill(child->pid, SIGKILL);
  }
}

void sandbox_kill_and_reap(sandbox_child *child) {
  if (child->pid > 0) {
    kill(child->pid, SIGKILL);
    waitpid(child->pid, NULL, 0);
    child->pid = 0;
  }
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
