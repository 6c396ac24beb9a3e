/* conn_tcp.c: the plain TCP connection type and the pending-data hook
 * registry (see conn.h).
 *
 * Lifetime: a handler may close its own connection. The event handler holds
 * a reference while it calls handlers; conn_close during that time only
 * marks the connection, and the memory is released when the last handler
 * returns. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "server/event/conn.h"

typedef struct tcp_connection {
  connection base; /* first: a connection* is a tcp_connection* */
  int refs;        /* handlers running on the stack */
  int close_scheduled;
} tcp_connection;

static void conn_tcp_free_now(tcp_connection *tc) {
  connection *conn = &tc->base;
  if (conn->fd != -1) {
    if (conn->loop != NULL) {
      ae_delete_file_event(conn->loop, conn->fd, AE_READABLE | AE_WRITABLE);
    }
    close(conn->fd);
    conn->fd = -1;
  }
  free(tc);
}

static void conn_tcp_close(connection *conn) {
  tcp_connection *tc = (tcp_connection *)conn;
  /* Stop events now so nothing fires for a dying connection. */
  if (conn->fd != -1 && conn->loop != NULL) {
    ae_delete_file_event(conn->loop, conn->fd, AE_READABLE | AE_WRITABLE);
  }
  conn->read_handler = NULL;
  conn->write_handler = NULL;
  conn->state = CONN_STATE_CLOSED;
  if (tc->refs > 0) {
    tc->close_scheduled = 1;
    return;
  }
  conn_tcp_free_now(tc);
}

/* conn_tcp_call runs a handler holding a reference. Returns 0 if the
 * connection was closed (and freed) meanwhile. */
static int conn_tcp_call(tcp_connection *tc, conn_handler handler) {
  tc->refs++;
  handler(&tc->base);
  tc->refs--;
  if (tc->close_scheduled && tc->refs == 0) {
    conn_tcp_free_now(tc);
    return 0;
  }
  return !tc->close_scheduled;
}

static void conn_tcp_event_handler(ae_loop *loop, int fd, void *client_data,
                                   int mask) {
  (void)loop;
  (void)fd;
  tcp_connection *tc = client_data;
  connection *conn = &tc->base;
  /* Read first: a reply produced by this read can often be written in the
   * same wakeup by the before-sleep flush. */
  if ((mask & AE_READABLE) && conn->read_handler != NULL) {
    if (!conn_tcp_call(tc, conn->read_handler)) {
      return;
    }
  }
  if ((mask & AE_WRITABLE) && conn->write_handler != NULL) {
    (void)conn_tcp_call(tc, conn->write_handler);
  }
}

static int conn_tcp_accept(connection *conn, conn_handler accept_handler) {
  tcp_connection *tc = (tcp_connection *)conn;
  if (conn->state != CONN_STATE_ACCEPTING) {
    return -1;
  }
  conn->state = CONN_STATE_CONNECTED;
  if (accept_handler != NULL) {
    (void)conn_tcp_call(tc, accept_handler);
  }
  return 0;
}

static void conn_tcp_set_error(connection *conn, int err) {
  conn->last_errno = err;
  if (conn->state == CONN_STATE_CONNECTED) {
    conn->state = CONN_STATE_ERROR;
  }
}

static ssize_t conn_tcp_read(connection *conn, void *buf, size_t len) {
  ssize_t n = read(conn->fd, buf, len);
  if (n == 0) {
    conn->state = CONN_STATE_CLOSED;
  } else if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      errno = EAGAIN;
    } else {
      conn_tcp_set_error(conn, errno);
    }
  }
  return n;
}

static ssize_t conn_tcp_write(connection *conn, const void *buf, size_t len) {
  ssize_t n = write(conn->fd, buf, len);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      errno = EAGAIN;
    } else {
      conn_tcp_set_error(conn, errno);
    }
  }
  return n;
}

static ssize_t conn_tcp_writev(connection *conn, const struct iovec *iov,
                               int iovcnt) {
  ssize_t n = writev(conn->fd, iov, iovcnt);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      errno = EAGAIN;
    } else {
      conn_tcp_set_error(conn, errno);
    }
  }
  return n;
}

static int conn_tcp_set_read_handler(connection *conn, conn_handler handler) {
  if (handler == conn->read_handler) {
    return 0;
  }
  conn->read_handler = handler;
  if (conn->loop == NULL || conn->fd == -1) {
    return handler == NULL ? 0 : -1;
  }
  if (handler == NULL) {
    ae_delete_file_event(conn->loop, conn->fd, AE_READABLE);
    return 0;
  }
  if (ae_add_file_event(conn->loop, conn->fd, AE_READABLE,
                        conn_tcp_event_handler, conn) == -1) {
    conn->read_handler = NULL;
    return -1;
  }
  return 0;
}

static int conn_tcp_set_write_handler(connection *conn, conn_handler handler) {
  if (handler == conn->write_handler) {
    return 0;
  }
  conn->write_handler = handler;
  if (conn->loop == NULL || conn->fd == -1) {
    return handler == NULL ? 0 : -1;
  }
  if (handler == NULL) {
    ae_delete_file_event(conn->loop, conn->fd, AE_WRITABLE);
    return 0;
  }
  if (ae_add_file_event(conn->loop, conn->fd, AE_WRITABLE,
                        conn_tcp_event_handler, conn) == -1) {
    conn->write_handler = NULL;
    return -1;
  }
  return 0;
}

static int conn_tcp_has_pending_data(connection *conn) {
  (void)conn;
  return 0;
}

static const char *conn_tcp_get_info(connection *conn, char *buf, size_t len) {
  (void)conn;
  if (len > 0) {
    buf[0] = '\0';
  }
  return buf;
}

const conn_type conn_type_tcp = {
    .name = "tcp",
    .accept = conn_tcp_accept,
    .read = conn_tcp_read,
    .write = conn_tcp_write,
    .writev = conn_tcp_writev,
    .set_read_handler = conn_tcp_set_read_handler,
    .set_write_handler = conn_tcp_set_write_handler,
    .close = conn_tcp_close,
    .has_pending_data = conn_tcp_has_pending_data,
    .get_info = conn_tcp_get_info,
};

connection *conn_create_accepted_tcp(ae_loop *loop, int fd) {
  tcp_connection *tc = calloc(1, sizeof(*tc));
  if (tc == NULL) {
    return NULL;
  }
  tc->base.type = &conn_type_tcp;
  tc->base.loop = loop;
  tc->base.fd = fd;
  tc->base.state = CONN_STATE_ACCEPTING;
  return &tc->base;
}

/* ---- pending-data hooks (TLS keeps decrypted bytes in user space) ---- */

#define CONN_MAX_PENDING_HOOKS 8

static struct {
  conn_pending_hook hooks[CONN_MAX_PENDING_HOOKS];
  int count;
} conn_pending;

void conn_register_pending_hook(conn_pending_hook hook) {
  for (int i = 0; i < conn_pending.count; i++) {
    if (conn_pending.hooks[i] == hook) {
      return;
    }
  }
  if (conn_pending.count < CONN_MAX_PENDING_HOOKS) {
    conn_pending.hooks[conn_pending.count++] = hook;
  }
}

int conn_process_pending(void) {
  int more = 0;
  for (int i = 0; i < conn_pending.count; i++) {
    if (conn_pending.hooks[i]() != 0) {
      more = 1;
    }
  }
  return more;
}

/* ---- address formatting (Redis style: "1.2.3.4:5", "[::1]:5") ---- */

static int conn_format_sockaddr(const struct sockaddr_storage *sa, char *buf,
                                size_t len) {
  char ip[INET6_ADDRSTRLEN];
  int port;
  int n;
  if (sa->ss_family == AF_INET) {
    const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
    if (inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip)) == NULL) {
      return -1;
    }
    port = ntohs(s->sin_port);
    n = snprintf(buf, len, "%s:%d", ip, port);
  } else if (sa->ss_family == AF_INET6) {
    const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
    if (inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip)) == NULL) {
      return -1;
    }
    port = ntohs(s->sin6_port);
    /* Redis 7.0 brackets IPv6 addresses in CLIENT LIST and logs. */
    n = snprintf(buf, len, "[%s]:%d", ip, port);
  } else if (sa->ss_family == AF_UNIX) {
    const struct sockaddr_un *s = (const struct sockaddr_un *)sa;
    n = snprintf(buf, len, "%s:0", s->sun_path);
  } else {
    return -1;
  }
  return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

int conn_format_peer(connection *c, char *buf, size_t len) {
  struct sockaddr_storage sa;
  socklen_t salen = sizeof(sa);
  if (c == NULL || c->fd == -1 ||
      getpeername(c->fd, (struct sockaddr *)&sa, &salen) == -1) {
    if (len > 0) {
      snprintf(buf, len, "?:0");
    }
    return -1;
  }
  return conn_format_sockaddr(&sa, buf, len);
}

int conn_format_local(connection *c, char *buf, size_t len) {
  struct sockaddr_storage sa;
  socklen_t salen = sizeof(sa);
  if (c == NULL || c->fd == -1 ||
      getsockname(c->fd, (struct sockaddr *)&sa, &salen) == -1) {
    if (len > 0) {
      snprintf(buf, len, "?:0");
    }
    return -1;
  }
  return conn_format_sockaddr(&sa, buf, len);
}
