/* listeners.c: the TCP and TLS listening sockets (bind, port, tls-port):
 * opening, registering with the event loop and closing them, at start-up
 * and on CONFIG SET. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
