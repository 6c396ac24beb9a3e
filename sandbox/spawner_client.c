/* spawner_client.c: the spawner seen from main (start-up and synchronous
 * requests) and from a handshaker (the key request); see spawner_client.h.
 *
 * Main's side is strict in the same way pool.c is with handshakers: every
 * answer must parse and be the kind the request expects; a malformed,
 * unexpected or late answer, a timeout or EOF ends the conversation for
 * good (a late answer could otherwise be taken for the next request's). */
#include "sandbox/spawner_client.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/spawn.h"
#include "sandbox/spawner_proto.h"

/* Answer timeouts. Spawning is posix_spawn plus a datagram; a forced reap
 * waits up to ~50 ms for the child; start-up includes the spawner's own
 * exec and filter. */
#define SPAWNER_START_TIMEOUT_MS 10000
#define SPAWNER_SPAWN_TIMEOUT_MS 5000
#define SPAWNER_REAP_TIMEOUT_MS 2000
#define SPAWNER_REQUEST_TIMEOUT_MS 1000
/* Kernel buffers of the control socket: INIT and KEYS-sized datagrams. */
#define SPAWNER_SOCKET_BUFFER (4 * SPAWNER_MAX_MESSAGE)

static struct {
  int fd;     /* control socket; -1 before start or once given up */
  pid_t pid;  /* the spawner (main's child) */
  int active; /* started once */
  const char *const *child_args; /* sandbox_spawner_allow_children */
  char last_error[SPAWNER_MAX_REASON + 1];
  uint8_t buf[SPAWNER_MAX_MESSAGE + 1];
} client = {-1, 0, 0, NULL, "", {0}};

void sandbox_spawner_allow_children(const char *const *args) {
  client.child_args = args;
}

static long long client_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sandbox_spawner_active(void) { return client.active; }

pid_t sandbox_spawner_pid(void) { return client.pid; }

int sandbox_spawner_alive(void) { return client.fd >= 0; }

/* client_give_up closes the control socket for good; the spawner sees EOF,
 * kills its handshakers and exits. */
static void client_give_up(const char *why) {
  snprintf(client.last_error, sizeof(client.last_error), "%s", why);
  if (client.fd >= 0) {
    close(client.fd);
    client.fd = -1;
  }
  if (client.pid > 0 && waitpid(client.pid, NULL, WNOHANG) == client.pid) {
    client.pid = 0;
  }
}

/* client_request sends |req| and waits up to |timeout_ms| for one answer
 * of type |want| (or ERROR). *out_fd (if given) receives the descriptor
 * SPAWNED carries. Returns 1 with |answer|, 0 with |err|. */
static int client_request(const spawner_message *req, uint8_t want,
                          int timeout_ms, spawner_message *answer, int *out_fd,
                          char *err, size_t err_len) {
  if (out_fd != NULL) {
    *out_fd = -1;
  }
  if (client.fd < 0) {
    snprintf(err, err_len, "the privileged spawner is gone (%s)",
             client.last_error[0] ? client.last_error : "not started");
    return 0;
  }
  size_t n = spawner_build(client.buf, sizeof(client.buf), req);
  if (n == 0) {
    snprintf(err, err_len, "spawner request does not fit");
    return 0;
  }
  ssize_t sent;
  do {
    sent = send(client.fd, client.buf, n, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  explicit_bzero(client.buf, n);
  if (sent != (ssize_t)n) {
    snprintf(err, err_len, "the privileged spawner is gone (send: %s)",
             sent < 0 ? strerror(errno) : "short");
    client_give_up(err);
    return 0;
  }
  long long deadline = client_now_ms() + timeout_ms;
  for (;;) {
    long long left = deadline - client_now_ms();
    struct pollfd pfd = {client.fd, POLLIN, 0};
    int r = left > 0 ? poll(&pfd, 1, (int)left) : 0;
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r <= 0) {
      snprintf(err, err_len, "the privileged spawner did not answer in time");
      client_give_up(err);
      return 0;
    }
    break;
  }
  union {
    struct cmsghdr align;
    char bytes[CMSG_SPACE(sizeof(int))];
  } control;
  struct iovec iov = {.iov_base = client.buf, .iov_len = sizeof(client.buf)};
  struct msghdr mh;
  memset(&mh, 0, sizeof(mh));
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control.bytes;
  mh.msg_controllen = sizeof(control.bytes);
  ssize_t got;
  do {
    got = recvmsg(client.fd, &mh, MSG_CMSG_CLOEXEC);
  } while (got < 0 && errno == EINTR);
  int fd = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL;
       c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
        c->cmsg_len == CMSG_LEN(sizeof(int)) && fd < 0) {
      memcpy(&fd, CMSG_DATA(c), sizeof(int));
    }
  }
  int ok = got > 0 && !(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) &&
           spawner_parse_main_answer(client.buf, (size_t)got, answer) &&
           (answer->type == want || answer->type == SPAWNER_ANS_ERROR) &&
           ((fd >= 0) == (answer->type == SPAWNER_ANS_SPAWNED));
  if (!ok) {
    if (fd >= 0) {
      close(fd);
    }
    snprintf(err, err_len, "%s",
             got == 0  ? "the privileged spawner exited"
             : got < 0 ? "the privileged spawner is gone (recv failed)"
                       : "the privileged spawner sent a malformed answer");
    client_give_up(err);
    return 0;
  }
  if (answer->type == SPAWNER_ANS_ERROR) {
    snprintf(err, err_len, "spawner: %s", answer->reason);
    return 0;
  }
  if (answer->pid != 0 && req->pid != 0 && answer->pid != req->pid) {
    snprintf(err, err_len, "the privileged spawner answered for another pid");
    client_give_up(err);
    return 0;
  }
  if (out_fd != NULL) {
    *out_fd = fd;
  }
  return 1;
}

/* client_absolute copies |path| into |out| as an absolute path (relative
 * paths are relative to our working directory, which the spawner shares at
 * start). NULL or "" gives "". */
static int client_absolute(const char *path, char *out, size_t out_len) {
  out[0] = '\0';
  if (path == NULL || path[0] == '\0') {
    return 1;
  }
  if (path[0] == '/') {
    return (size_t)snprintf(out, out_len, "%s", path) < out_len;
  }
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof(cwd)) == NULL) {
    return 0;
  }
  return (size_t)snprintf(out, out_len, "%s/%s", cwd, path) < out_len;
}

int sandbox_spawner_start(const sandbox_spawner_config *config, char *err,
                          size_t err_len) {
  static spawner_message init; /* large; holds passphrases: wiped below */
  spawner_message answer;
  if (client.active) {
    snprintf(err, err_len, "the spawner was already started");
    return 0;
  }
  spawner_message_init(&init, SPAWNER_REQ_INIT);
  size_t kinds = 0;
  while (client.child_args != NULL && client.child_args[kinds] != NULL) {
    if (kinds == SPAWNER_MAX_CHILD_KINDS ||
        (size_t)snprintf(init.child_arg[kinds], sizeof(init.child_arg[0]), "%s",
                         client.child_args[kinds]) >=
            sizeof(init.child_arg[0])) {
      snprintf(err, err_len, "too many or too long child kinds");
      return 0;
    }
    kinds++;
  }
  if (kinds == 0) {
    snprintf(err, err_len, "no child kind allowed for the spawner");
    return 0;
  }
  if ((size_t)snprintf(init.argv0, sizeof(init.argv0), "%s", config->argv0) >=
          sizeof(init.argv0) ||
      (size_t)snprintf(init.sandbox_user, sizeof(init.sandbox_user), "%s",
                       config->sandbox_user ? config->sandbox_user : "") >=
          sizeof(init.sandbox_user) ||
      !client_absolute(config->key_file, init.key_file,
                       sizeof(init.key_file)) ||
      !client_absolute(config->client_key_file, init.client_key_file,
                       sizeof(init.client_key_file)) ||
      (size_t)snprintf(init.key_file_pass, sizeof(init.key_file_pass), "%s",
                       config->key_file_pass ? config->key_file_pass : "") >=
          sizeof(init.key_file_pass) ||
      (size_t)snprintf(
          init.client_key_file_pass, sizeof(init.client_key_file_pass), "%s",
          config->client_key_file_pass ? config->client_key_file_pass : "") >=
          sizeof(init.client_key_file_pass)) {
    spawner_message_wipe(&init);
    snprintf(err, err_len, "spawner configuration too long");
    return 0;
  }
  init.seccomp = config->seccomp ? 1 : 0;

  int sv[2] = {-1, -1};
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    spawner_message_wipe(&init);
    snprintf(err, err_len, "socketpair: %s", strerror(errno));
    return 0;
  }
  int size = SPAWNER_SOCKET_BUFFER;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  if (sv[1] <= SANDBOX_SPAWNER_FD) {
    /* dup2 onto the same number would not clear CLOEXEC, and fds 0-2 are
     * taken. */
    int moved = fcntl(sv[1], F_DUPFD_CLOEXEC, SANDBOX_SPAWNER_FD + 1);
    close(sv[1]);
    sv[1] = moved;
  }
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  sigset_t none, all;
  posix_spawn_file_actions_init(&actions);
  if (sandbox_log_relay_child_fd() >= 0) {
    posix_spawn_file_actions_adddup2(&actions, sandbox_log_relay_child_fd(),
                                     STDERR_FILENO);
  }
  posix_spawn_file_actions_adddup2(&actions, sv[1], SANDBOX_SPAWNER_FD);
  posix_spawn_file_actions_addclosefrom_np(&actions, SANDBOX_SPAWNER_FD + 1);
  posix_spawnattr_init(&attr);
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  char fd_text[16];
  snprintf(fd_text, sizeof(fd_text), "%d", SANDBOX_SPAWNER_FD);
  char *argv[] = {(char *)config->argv0, (char *)SANDBOX_SPAWNER_ARG, fd_text,
                  NULL};
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
    spawner_message_wipe(&init);
    snprintf(err, err_len, "posix_spawn of the spawner: %s", strerror(rc));
    return 0;
  }
  client.fd = sv[0];
  client.pid = pid;
  client.last_error[0] = '\0';
  int ok = client_request(&init, SPAWNER_ANS_READY, SPAWNER_START_TIMEOUT_MS,
                          &answer, NULL, err, err_len);
  spawner_message_wipe(&init);
  if (!ok) {
    client_give_up(err);
    if (client.pid > 0) {
      kill(client.pid, SIGKILL);
      waitpid(client.pid, NULL, 0);
      client.pid = 0;
    }
    return 0;
  }
  client.active = 1;
  return 1;
}

int sandbox_spawner_spawn(const char *mode_arg, int socket_buffer,
                          pid_t *out_pid, int *out_fd, char *err,
                          size_t err_len) {
  spawner_message req, answer;
  spawner_message_init(&req, SPAWNER_REQ_SPAWN);
  int kind = -1;
  for (int i = 0; client.child_args != NULL && client.child_args[i] != NULL;
       i++) {
    if (strcmp(mode_arg, client.child_args[i]) == 0) {
      kind = i;
    }
  }
  if (kind < 0) {
    snprintf(err, err_len, "the spawner does not start '%s' children",
             mode_arg);
    return 0;
  }
  req.kind = (uint8_t)kind;
  req.socket_buffer = socket_buffer < 0 ? 0
                      : socket_buffer > SPAWNER_MAX_SOCKET_BUFFER
                          ? SPAWNER_MAX_SOCKET_BUFFER
                          : (uint32_t)socket_buffer;
  if (!client_request(&req, SPAWNER_ANS_SPAWNED, SPAWNER_SPAWN_TIMEOUT_MS,
                      &answer, out_fd, err, err_len)) {
    return 0;
  }
  *out_pid = (pid_t)answer.pid;
  return 1;
}

int sandbox_spawner_kill(pid_t pid, char *err, size_t err_len) {
  spawner_message req, answer;
  spawner_message_init(&req, SPAWNER_REQ_KILL);
  req.pid = (uint32_t)pid;
  return client_request(&req, SPAWNER_ANS_OK, SPAWNER_REQUEST_TIMEOUT_MS,
                        &answer, NULL, err, err_len);
}

int sandbox_spawner_reap(pid_t pid, int how, int *out_state,
                         int *out_wait_status, char *err, size_t err_len) {
  spawner_message req, answer;
  spawner_message_init(&req, SPAWNER_REQ_REAP);
  req.pid = (uint32_t)pid;
  req.how = (uint8_t)how;
  if (!client_request(&req, SPAWNER_ANS_STATUS,
                      how == SPAWNER_REAP_TRY ? SPAWNER_REQUEST_TIMEOUT_MS
                                              : SPAWNER_REAP_TIMEOUT_MS,
                      &answer, NULL, err, err_len)) {
    return 0;
  }
  *out_state = answer.state;
  *out_wait_status = (int)answer.wait_status;
  return 1;
}

int sandbox_spawner_set_nice(pid_t pid, int value, char *err, size_t err_len) {
  spawner_message req, answer;
  spawner_message_init(&req, SPAWNER_REQ_NICE);
  req.pid = (uint32_t)pid;
  req.nice = value < SPAWNER_MIN_NICE   ? SPAWNER_MIN_NICE
             : value > SPAWNER_MAX_NICE ? SPAWNER_MAX_NICE
                                        : value;
  return client_request(&req, SPAWNER_ANS_OK, SPAWNER_REQUEST_TIMEOUT_MS,
                        &answer, NULL, err, err_len);
}

/* ---- handshaker ------------------------------------------------------- */

/* keys_storage: the parsed KEYS answer and the datagram its key bytes point
 * into. */
typedef struct keys_storage {
  spawner_message msg;
  uint8_t datagram[SPAWNER_MAX_MESSAGE + 1];
} keys_storage;

int sandbox_keys_fetch(const char *key_file, const char *client_key_file,
                       sandbox_keys *out, char *err, size_t err_len) {
  memset(out, 0, sizeof(*out));
  if (fcntl(SANDBOX_KEYS_FD, F_GETFD) < 0) {
    return -1; /* started by main: load the files */
  }
  keys_storage *st = calloc(1, sizeof(*st));
  if (st == NULL) {
    close(SANDBOX_KEYS_FD);
    snprintf(err, err_len, "out of memory");
    return 0;
  }
  int ok = 0;
  spawner_message_init(&st->msg, SPAWNER_REQ_KEY_REQUEST);
  if (key_file == NULL ||
      (size_t)snprintf(st->msg.key_file, sizeof(st->msg.key_file), "%s",
                       key_file) >= sizeof(st->msg.key_file) ||
      (size_t)snprintf(st->msg.client_key_file, sizeof(st->msg.client_key_file),
                       "%s", client_key_file ? client_key_file : "") >=
          sizeof(st->msg.client_key_file)) {
    snprintf(err, err_len, "key file path missing or too long");
    goto done;
  }
  size_t n = spawner_build(st->datagram, sizeof(st->datagram), &st->msg);
  ssize_t r;
  do {
    r = n > 0 ? send(SANDBOX_KEYS_FD, st->datagram, n, MSG_NOSIGNAL) : -1;
  } while (r < 0 && errno == EINTR);
  if (r != (ssize_t)n) {
    snprintf(err, err_len, "cannot ask the spawner for the keys");
    goto done;
  }
  struct iovec iov = {.iov_base = st->datagram,
                      .iov_len = sizeof(st->datagram)};
  struct msghdr mh;
  memset(&mh, 0, sizeof(mh));
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  do {
    r = recvmsg(SANDBOX_KEYS_FD, &mh, 0);
  } while (r < 0 && errno == EINTR);
  if (r <= 0 || (mh.msg_flags & MSG_TRUNC) ||
      !spawner_parse_keys_answer(st->datagram, (size_t)r, &st->msg)) {
    snprintf(err, err_len, "no valid answer from the spawner");
    goto done;
  }
  if (st->msg.type == SPAWNER_ANS_ERROR) {
    snprintf(err, err_len, "%s", st->msg.reason);
    goto done;
  }
  out->key = st->msg.key;
  out->key_len = st->msg.key_len;
  out->client_key = st->msg.client_key;
  out->client_key_len = st->msg.client_key_len;
  out->key_file_pass = st->msg.key_file_pass;
  out->client_key_file_pass = st->msg.client_key_file_pass;
  out->storage = st;
  out->storage_len = sizeof(*st);
  st = NULL;
  ok = 1;
done:
  close(SANDBOX_KEYS_FD);
  if (st != NULL) {
    explicit_bzero(st, sizeof(*st));
    free(st);
  }
  return ok;
}

void sandbox_keys_free(sandbox_keys *keys) {
  if (keys->storage != NULL) {
    explicit_bzero(keys->storage, keys->storage_len);
    free(keys->storage);
  }
  memset(keys, 0, sizeof(*keys));
}
