/* listeners.c: the TCP and TLS listening sockets (bind, port, tls-port):
 * opening, registering with the event loop and closing them, at start-up
 * and on CONFIG SET; and the file-descriptor budget behind them: the
 * open-files limit at start-up, admission against maxclients counting
 * connections not yet clients, and what the listeners do when the process
 * is out of descriptors. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/core/server.h"

/* ------------------------------------------------------------------ */
/* Listeners                                                            */
/* ------------------------------------------------------------------ */
static int anet_set_nonblock(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags == -1) {
    return -1;
  }
  return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* listen_on_address binds one address ("*" for any IPv4, "::*" for any
 * IPv6). Returns the fd or -1 with errno set. */
static int listen_on_address(const char *addr, int port, int backlog) {
  int is_v6 = strchr(addr, ':') != NULL;
  int family = is_v6 ? AF_INET6 : AF_INET;
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd == -1) {
    return -1;
  }
  int yes = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  struct sockaddr_storage ss;
  socklen_t sslen;
  memset(&ss, 0, sizeof(ss));
  if (is_v6) {
    struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&ss;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &yes, sizeof(yes));
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons((uint16_t)port);
    if (strcmp(addr, "::*") == 0) {
      sa->sin6_addr = in6addr_any;
    } else if (inet_pton(AF_INET6, addr, &sa->sin6_addr) != 1) {
      close(fd);
      errno = EINVAL;
      return -1;
    }
    sslen = sizeof(*sa);
  } else {
    struct sockaddr_in *sa = (struct sockaddr_in *)&ss;
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (strcmp(addr, "*") == 0 || strcmp(addr, "0.0.0.0") == 0) {
      sa->sin_addr.s_addr = htonl(INADDR_ANY);
    } else if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1) {
      close(fd);
      errno = EINVAL;
      return -1;
    }
    sslen = sizeof(*sa);
  }
  if (bind(fd, (struct sockaddr *)&ss, sslen) == -1 ||
      listen(fd, backlog) == -1 || anet_set_nonblock(fd) == -1) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

static int listen_to_port(int port, int *fds, int *count) {
  static char *default_bind[] = {"*", "-::*"};
  char **addrs = server.bindaddr_count ? server.bindaddr : default_bind;
  int naddr = server.bindaddr_count ? server.bindaddr_count : 2;
  *count = 0;
  if (port == 0) {
    return C_OK;
  }
  for (int j = 0; j < naddr; j++) {
    const char *addr = addrs[j];
    /* A leading '-' marks an optional address (Redis semantics). */
    int optional = addr[0] == '-';
    if (optional) {
      addr++;
    }
    int fd = listen_on_address(addr, port, server.tcp_backlog);
    if (fd == -1) {
      int err = errno;
      if (optional || err == EAFNOSUPPORT || err == EPROTONOSUPPORT ||
          err == EADDRNOTAVAIL) {
        if (!optional) {
          server_log(LL_WARNING,
                     "Could not create server TCP listening "
                     "socket %s:%d: %s",
                     addr, port, strerror(err));
          goto fail;
        }
        continue;
      }
      server_log(LL_WARNING,
                 "Warning: Could not create server TCP listening socket "
                 "%s:%d: %s",
                 addr, port, strerror(err));
      goto fail;
    }
    fds[(*count)++] = fd;
  }
  return C_OK;
fail:
  for (int j = 0; j < *count; j++) {
    close(fds[j]);
  }
  *count = 0;
  return C_ERR;
}

/* The accept handler of each kind (listener_set_accept_handler). */
static ae_file_proc *accept_handlers[LISTENER_KINDS];

void listener_set_accept_handler(int kind, ae_file_proc *proc) {
  accept_handlers[kind] = proc;
}

static void listener_slots(int kind, int **out_fds, int **out_count) {
  *out_fds = kind == LISTENER_TLS ? server.tlsfd : server.ipfd;
  *out_count = kind == LISTENER_TLS ? &server.tlsfd_count : &server.ipfd_count;
}

/* register_listeners watches listening sockets. New TLS connections are
 * accepted in the loop's second pass (ae_set_deferred): the replies to
 * established clients ready in the same wakeup go out first. */
static int register_listeners(int kind, const int *fds, int count) {
  ae_file_proc *proc = accept_handlers[kind];
  if (proc == NULL) {
    server_panic("no accept handler registered for listener kind %d", kind);
  }
  for (int j = 0; j < count; j++) {
    if (ae_add_file_event(server.el, fds[j], AE_READABLE, proc, NULL) == -1) {
      return C_ERR;
    }
    ae_set_deferred(server.el, fds[j], kind == LISTENER_TLS);
  }
  return C_OK;
}

static void unregister_and_close(int *fds, int *count) {
  for (int j = 0; j < *count; j++) {
    ae_delete_file_event(server.el, fds[j], AE_READABLE);
    close(fds[j]);
  }
  *count = 0;
}

int listener_open(int kind, int port) {
  int newfds[CONFIG_BINDADDR_MAX * 2];
  int newcount = 0;
  if (listen_to_port(port, newfds, &newcount) != C_OK) {
    return C_ERR;
  }
  if (register_listeners(kind, newfds, newcount) != C_OK) {
    unregister_and_close(newfds, &newcount);
    return C_ERR;
  }
  int *fds, *count;
  listener_slots(kind, &fds, &count);
  unregister_and_close(fds, count);
  memcpy(fds, newfds, sizeof(int) * (size_t)newcount);
  *count = newcount;
  return C_OK;
}

void close_listening_sockets(int unlink_unix_socket) {
  (void)unlink_unix_socket;
  unregister_and_close(server.ipfd, &server.ipfd_count);
  unregister_and_close(server.tlsfd, &server.tlsfd_count);
}

/* ------------------------------------------------------------------ */
/* File descriptors                                                     */
/* ------------------------------------------------------------------ */

/* Out of descriptors, a level-triggered listener wakes the loop at once
 * again for the connection still in its backlog: a busy loop that starves
 * every client. Instead the listeners are unwatched for this long. */
#define LISTENER_STARVED_PAUSE_MS 100
/* While it lasts, one log line per this interval at most. */
#define LISTENER_STARVED_LOG_MS 10000
/* Watched again and no EMFILE/ENFILE for this long: the condition is over
 * (logged). */
#define LISTENER_STARVED_RECOVERY_MS 1000

enum { STARVED_NO = 0, STARVED_PAUSED, STARVED_WATCHING };

static struct {
  int (*preauth_count)(void);
  int (*preauth_evict_idle)(void);
  int state; /* STARVED_* */
  long long timer_id;
  long long since_ms, last_log_ms, pauses;
  /* /dev/null held open and closed around a log line written while the
   * process is out of descriptors (the log file is opened per line). */
  int reserve_fd;
} fd_budget = {.timer_id = -1, .reserve_fd = -1};

static long long fd_budget_now_ms(void) {
  return (long long)(ae_monotonic_us() / 1000);
}

void adjust_open_files_limit(void) {
  rlim_t maxfiles = (rlim_t)server.maxclients + CONFIG_MIN_RESERVED_FDS;
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == -1) {
    server_log(LL_WARNING,
               "Unable to obtain the current NOFILE limit (%s), assuming 1024 "
               "and setting the max clients configuration accordingly.",
               strerror(errno));
    server.maxclients = 1024 - CONFIG_MIN_RESERVED_FDS;
    return;
  }
  rlim_t oldlimit = limit.rlim_cur;
  if (oldlimit < maxfiles) {
    /* The highest limit up to maxfiles that the kernel grants, 16 at a time
     * as Redis does. The hard limit is raised only when it must be (and
     * can: root), never lowered, so a later CONFIG SET maxclients may
     * still use it (Redis sets both to the value found). */
    rlim_t best = maxfiles;
    int setrlimit_error = 0;
    while (best > oldlimit) {
      struct rlimit want = limit;
      want.rlim_cur = best;
      if (want.rlim_max != RLIM_INFINITY && want.rlim_max < best) {
        want.rlim_max = best;
      }
      if (setrlimit(RLIMIT_NOFILE, &want) != -1) {
        break;
      }
      setrlimit_error = errno;
      if (best < 16) {
        best = oldlimit;
        break;
      }
      best -= 16;
    }
    if (best < oldlimit) {
      best = oldlimit;
    }
    if (best < maxfiles) {
      unsigned int old_maxclients = server.maxclients;
      if (best <= CONFIG_MIN_RESERVED_FDS) {
        server_log(LL_WARNING,
                   "Your current 'ulimit -n' of %llu is not enough for the "
                   "server to start. Please increase your open file limit to "
                   "at least %llu. Exiting.",
                   (unsigned long long)oldlimit, (unsigned long long)maxfiles);
        exit(1);
      }
      server.maxclients = (unsigned int)(best - CONFIG_MIN_RESERVED_FDS);
      server_log(LL_WARNING,
                 "You requested maxclients of %d requiring at least %llu max "
                 "file descriptors.",
                 (int)old_maxclients, (unsigned long long)maxfiles);
      server_log(LL_WARNING,
                 "Server can't set maximum open files to %llu because of OS "
                 "error: %s.",
                 (unsigned long long)maxfiles, strerror(setrlimit_error));
      server_log(LL_WARNING,
                 "Current maximum open files is %llu. maxclients has been "
                 "reduced to %d to compensate for low ulimit. If you need "
                 "higher maxclients increase 'ulimit -n'.",
                 (unsigned long long)best, (int)server.maxclients);
    } else {
      server_log(LL_NOTICE,
                 "Increased maximum number of open files to %llu (it was "
                 "originally set to %llu).",
                 (unsigned long long)maxfiles, (unsigned long long)oldlimit);
    }
  }
  if (fd_budget.reserve_fd < 0) {
    fd_budget.reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
}

void listener_set_preauth_ops(int (*count)(void), int (*evict_idle)(void)) {
  fd_budget.preauth_count = count;
  fd_budget.preauth_evict_idle = evict_idle;
}

static unsigned long listener_preauth_count(void) {
  int n = fd_budget.preauth_count != NULL ? fd_budget.preauth_count() : 0;
  return n > 0 ? (unsigned long)n : 0;
}

int listener_admit(unsigned long clients) {
  unsigned long held = listener_preauth_count();
  /* Evicting helps only if the clients alone leave room. */
  while (clients < server.maxclients && clients + held >= server.maxclients &&
         held > 0 && fd_budget.preauth_evict_idle != NULL &&
         fd_budget.preauth_evict_idle()) {
    held = listener_preauth_count();
  }
  return clients + held < server.maxclients;
}

/* listener_watch_all watches (or unwatches) every listening socket. */
static void listener_watch_all(int watch) {
  for (int kind = 0; kind < LISTENER_KINDS; kind++) {
    int *fds, *count;
    listener_slots(kind, &fds, &count);
    for (int j = 0; j < *count; j++) {
      if (!watch) {
        ae_delete_file_event(server.el, fds[j], AE_READABLE);
      } else if (accept_handlers[kind] != NULL &&
                 ae_add_file_event(server.el, fds[j], AE_READABLE,
                                   accept_handlers[kind], NULL) == 0) {
        ae_set_deferred(server.el, fds[j], kind == LISTENER_TLS);
      }
    }
  }
}

/* listener_log_starved writes a warning even when no descriptor is free for
 * the log file: the reserve descriptor is given up for the line. */
static void listener_log_starved(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void listener_log_starved(const char *fmt, ...) {
  char msg[LOG_MAX_LEN];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (fd_budget.reserve_fd >= 0) {
    close(fd_budget.reserve_fd);
  }
  server_log(LL_WARNING, "%s", msg);
  fd_budget.reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static long long listener_starved_timer(ae_loop *loop, long long id,
                                        void *data) {
  (void)loop;
  (void)id;
  (void)data;
  if (fd_budget.state == STARVED_PAUSED) {
    listener_watch_all(1);
    fd_budget.state = STARVED_WATCHING;
    return LISTENER_STARVED_RECOVERY_MS;
  }
  /* Watched for a while without running out again. */
  listener_log_starved(
      "Accepting connections again after %lld ms without a free file "
      "descriptor (%lld accept pauses of %d ms)",
      fd_budget_now_ms() - fd_budget.since_ms - LISTENER_STARVED_RECOVERY_MS,
      fd_budget.pauses, LISTENER_STARVED_PAUSE_MS);
  fd_budget.state = STARVED_NO;
  fd_budget.timer_id = -1;
  return AE_NOMORE;
}

void listener_accept_starved(int err) {
  if (fd_budget.state == STARVED_PAUSED) {
    return; /* another listener in the same wakeup */
  }
  long long now = fd_budget_now_ms();
  listener_watch_all(0);
  if (fd_budget.state == STARVED_NO) {
    struct rlimit limit;
    unsigned long long nofile = 0;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
      nofile = (unsigned long long)limit.rlim_cur;
    }
    fd_budget.since_ms = fd_budget.last_log_ms = now;
    fd_budget.pauses = 1;
    listener_log_starved(
        "Accepting client connection: accept: %s. Not accepting connections "
        "for %d ms at a time until a file descriptor is free (open files "
        "limit %llu, maxclients %u, clients %lu, connections before their "
        "TLS handshake completed %lu)",
        strerror(err), LISTENER_STARVED_PAUSE_MS, nofile, server.maxclients,
        server.clients ? list_length(server.clients) : 0UL,
        listener_preauth_count());
  } else {
    fd_budget.pauses++;
    if (now - fd_budget.last_log_ms >= LISTENER_STARVED_LOG_MS) {
      fd_budget.last_log_ms = now;
      listener_log_starved(
          "Still no free file descriptor after %lld ms (%s): %lld accept "
          "pauses of %d ms so far",
          now - fd_budget.since_ms, strerror(err), fd_budget.pauses,
          LISTENER_STARVED_PAUSE_MS);
    }
  }
  if (fd_budget.timer_id != -1) {
    ae_delete_timer(server.el, fd_budget.timer_id);
  }
  fd_budget.timer_id = ae_create_timer(server.el, LISTENER_STARVED_PAUSE_MS,
                                       listener_starved_timer, NULL);
  if (fd_budget.timer_id == -1) {
    /* No timer, no pause: keep accepting (as before). */
    listener_watch_all(1);
    fd_budget.state = STARVED_NO;
    return;
  }
  fd_budget.state = STARVED_PAUSED;
}
