/* conn.h: the connection type vtable. Plain TCP and TLS both implement it;
 * command code never knows which one it talks to.
 *
 * I/O convention (as read(2)/write(2)): conn_read/conn_write return the number
 * of bytes moved (> 0), 0 on orderly EOF (read only), or -1 with errno set;
 * errno EAGAIN means "try again when the handler fires". On any other error
 * the connection's state becomes CONN_STATE_ERROR and the caller must close
 * it with conn_close(). */
#ifndef REDOUBT_CONN_H
#define REDOUBT_CONN_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "server/event/ae.h"

typedef struct connection connection;
typedef void (*conn_handler)(connection *conn);

typedef enum {
  CONN_STATE_NONE = 0,
  CONN_STATE_ACCEPTING, /* TLS handshake in progress */
  CONN_STATE_CONNECTED,
  CONN_STATE_CLOSED,
  CONN_STATE_ERROR
} conn_state;

typedef struct conn_type {
  const char *name; /* "tcp" or "tls" */
  /* accept: finish accepting (TLS: run the handshake); |accept_handler| is
   * called exactly once when the connection is CONNECTED or failed
   * (check conn->state). Returns 0, or -1 if it failed synchronously
   * (accept_handler not called). */
  int (*accept)(connection *conn, conn_handler accept_handler);
  ssize_t (*read)(connection *conn, void *buf, size_t len);
  ssize_t (*write)(connection *conn, const void *buf, size_t len);
  ssize_t (*writev)(connection *conn, const struct iovec *iov, int iovcnt);
  /* set_*_handler: NULL removes the handler. Returns 0 or -1. */
  int (*set_read_handler)(connection *conn, conn_handler handler);
  int (*set_write_handler)(connection *conn, conn_handler handler);
  /* close: closes the fd and frees |conn| (possibly later, if work is in
   * flight: never touch conn after calling close). */
  void (*close)(connection *conn);
  /* has_pending_data: 1 if decrypted bytes wait in user space (TLS). */
  int (*has_pending_data)(connection *conn);
  /* get_info writes a CLIENT LIST fragment like "tls=TLSv1.3
   * cipher=TLS_AES_128_GCM_SHA256 cert-subject=CN=x" (empty for tcp) into
   * buf. Returns buf. */
  const char *(*get_info)(connection *conn, char *buf, size_t len);
} conn_type;

struct connection {
  const conn_type *type;
  ae_loop *loop;
  int fd;
  conn_state state;
  int last_errno;
  void *private_data; /* the client owning this connection */
  conn_handler read_handler;
  conn_handler write_handler;
};

/* Thin wrappers. */
static inline int conn_accept(connection *c, conn_handler h) {
  return c->type->accept(c, h);
}
static inline ssize_t conn_read(connection *c, void *buf, size_t len) {
  return c->type->read(c, buf, len);
}
static inline ssize_t conn_write(connection *c, const void *buf, size_t len) {
  return c->type->write(c, buf, len);
}
static inline ssize_t conn_writev(connection *c, const struct iovec *iov,
                                  int iovcnt) {
  return c->type->writev(c, iov, iovcnt);
}
static inline int conn_set_read_handler(connection *c, conn_handler h) {
  return c->type->set_read_handler(c, h);
}
static inline int conn_set_write_handler(connection *c, conn_handler h) {
  return c->type->set_write_handler(c, h);
}
/* conn_close: the caller must not use |c| afterwards. */
static inline void conn_close(connection *c) { c->type->close(c); }
static inline int conn_has_pending_data(connection *c) {
  return c->type->has_pending_data(c);
}
static inline void conn_set_private_data(connection *c, void *data) {
  c->private_data = data;
}
static inline void *conn_get_private_data(connection *c) {
  return c->private_data;
}

/* The plain TCP type (conn_tcp.c). */
extern const conn_type conn_type_tcp;
/* conn_create_accepted_tcp wraps an accepted, non-blocking fd. */
connection *conn_create_accepted_tcp(ae_loop *loop, int fd);

/* A type that keeps decrypted bytes in user space registers a hook that the
 * server calls before each sleep; it must invoke read handlers of
 * connections with pending data. Returns 1 if there is still pending data
 * (the loop then must not block). */
typedef int (*conn_pending_hook)(void);
void conn_register_pending_hook(conn_pending_hook hook);
int conn_process_pending(void);

/* Peer address as "ip:port"; IPv6 is bracketed, "[::1]:port", as Redis
 * 7.0.15 prints it in CLIENT LIST and logs (checked). Returns 0 or -1. */
int conn_format_peer(connection *c, char *buf, size_t len);
int conn_format_local(connection *c, char *buf, size_t len);

#endif
