/* spawner.c: the privileged spawner process (spawner_client.h explains its
 * role; the protocol is spawner_proto.h).
 *
 * Start-up, in order:
 *   1. die with main (PR_SET_PDEATHSIG), not dumpable, named
 *      "redoubt-spawner";
 *   2. read INIT from main (main is still root and trusted: INIT is only
 *      accepted as the first message);
 *   3. open the directories of the start-up key files (O_PATH): later key
 *      requests are served from these directories only, through these
 *      descriptors;
 *   4. keep only the capabilities spawning needs (below) in the effective,
 *      permitted and bounding sets: a handshaker, exec'd as root, gets no
 *      more than these either;
 *   5. PR_SET_NO_NEW_PRIVS and the spawner's seccomp policy
 *      (seccomp_policy.c), which its handshakers inherit until they load
 *      their own;
 *   6. READY, then serve until main closes the socket: then every
 *      handshaker is killed and reaped, and the spawner exits.
 *
 * Requests are checked for meaning, not just syntax (OpenSSH's monitor):
 * a pid must be a live child of this spawner, a nice value is clamped to
 * [the spawner's own nice, 19], a handshaker may ask for keys once, a key
 * path must be a regular file of at most SPAWNER_MAX_KEY_FILE bytes in one
 * of the start-up key directories (its name may be a symlink: certbot's
 * live/ directory is made of them; keep key directories writable by root
 * only). Anything malformed from main ends the spawner (main is then
 * compromised or broken); a malformed key request fails that handshaker
 * only. */
#include "sandbox/spawner.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/seccomp_policy.h"
#include "sandbox/spawn.h"
#include "sandbox/spawner_client.h"
#include "sandbox/spawner_proto.h"

/* Handshakers alive at once (main's pool has at most 256). */
#define SPAWNER_MAX_CHILDREN 512
/* tls-key-file and tls-client-key-file. */
#define SPAWNER_MAX_KEY_DIRS 2
/* REAP_WAIT: polls of 1 ms before SIGKILL (as sandbox_reap). */
#define SPAWNER_REAP_POLLS 50
/* Messages handled per poll wakeup and per descriptor. */
#define SPAWNER_MESSAGES_PER_WAKEUP 16

/* The capabilities the spawner keeps (step 4), and why:
 *   DAC_OVERRIDE, DAC_READ_SEARCH  read root-only key files, and a
 *                                  handshaker its certificates;
 *   KILL, SYS_NICE                 signal and renice handshakers that have
 *                                  become sandbox-user;
 *   SETUID, SETGID                 a handshaker drops to sandbox-user;
 *   SETPCAP                        a handshaker empties its bounding set;
 *   SYS_CHROOT                     a handshaker's empty root. */
static const int spawner_kept_caps[] = {
    CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_KILL,    CAP_SYS_NICE,
    CAP_SETUID,       CAP_SETGID,          CAP_SETPCAP, CAP_SYS_CHROOT};

typedef struct spawner_child {
  pid_t pid;  /* 0: free slot */
  int key_fd; /* our end of its key socket; -1 once answered */
} spawner_child;

static struct {
  int fd; /* control socket to main */
  char argv0[SPAWNER_MAX_PATH + 1];
  char child_arg[SPAWNER_MAX_CHILD_KINDS][SPAWNER_MAX_ARG + 1];
  char key_file_pass[SPAWNER_MAX_PASS + 1];
  char client_key_file_pass[SPAWNER_MAX_PASS + 1];
  char cwd[PATH_MAX];
  int key_dir_fd[SPAWNER_MAX_KEY_DIRS];
  char key_dir[SPAWNER_MAX_KEY_DIRS][PATH_MAX]; /* realpath */
  int key_dirs;
  int nice_floor;
  spawner_child children[SPAWNER_MAX_CHILDREN];
  uint8_t buf[SPAWNER_MAX_MESSAGE + 1];
  uint8_t key[SPAWNER_MAX_KEY_FILE], client_key[SPAWNER_MAX_KEY_FILE];
  spawner_message msg, answer;
} sp;

static void spawner_log(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void spawner_log(const char *fmt, ...) {
  char line[512];
  int n = snprintf(line, sizeof(line), "%d:S * ", (int)getpid());
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
  va_end(ap);
  if (n < 0 || m < 0) {
    return;
  }
  size_t len = (size_t)n + (size_t)m;
  if (len > sizeof(line) - 2) {
    len = sizeof(line) - 2;
  }
  line[len++] = '\n';
  ssize_t ignored = write(STDERR_FILENO, line, len);
  (void)ignored;
}

int sandbox_is_spawner_invocation(int argc, char **argv) {
  return argc >= 2 && argv[1] != NULL &&
         strcmp(argv[1], SANDBOX_SPAWNER_ARG) == 0;
}

/* ---- sending -------------------------------------------------------- */

/* spawner_send sends |msg| on |fd|, with |pass_fd| as SCM_RIGHTS when >= 0.
 * Returns 1 or 0. The datagram buffer is wiped (KEYS carries keys). */
static int spawner_send(int fd, const spawner_message *msg, int pass_fd) {
  size_t n = spawner_build(sp.buf, sizeof(sp.buf), msg);
  if (n == 0) {
    return 0;
  }
  struct iovec iov = {.iov_base = sp.buf, .iov_len = n};
  struct msghdr mh;
  union {
    struct cmsghdr align;
    char bytes[CMSG_SPACE(sizeof(int))];
  } control;
  memset(&mh, 0, sizeof(mh));
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  if (pass_fd >= 0) {
    memset(&control, 0, sizeof(control));
    mh.msg_control = control.bytes;
    mh.msg_controllen = sizeof(control.bytes);
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
  }
  ssize_t sent;
  do {
    sent = sendmsg(fd, &mh, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  explicit_bzero(sp.buf, n);
  return sent == (ssize_t)n;
}

static int spawner_send_error(int fd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int spawner_send_error(int fd, const char *fmt, ...) {
  spawner_message_init(&sp.answer, SPAWNER_ANS_ERROR);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(sp.answer.reason, sizeof(sp.answer.reason), fmt, ap);
  va_end(ap);
  if (sp.answer.reason[0] == '\0') {
    snprintf(sp.answer.reason, sizeof(sp.answer.reason), "error");
  }
  return spawner_send(fd, &sp.answer, -1);
}

static int spawner_send_simple(uint8_t type) {
  spawner_message_init(&sp.answer, type);
  return spawner_send(sp.fd, &sp.answer, -1);
}

/* ---- children ---------------------------------------------------------- */

static spawner_child *spawner_find(pid_t pid) {
  for (int i = 0; i < SPAWNER_MAX_CHILDREN; i++) {
    if (sp.children[i].pid == pid && pid > 0) {
      return &sp.children[i];
    }
  }
  return NULL;
}

static void spawner_forget(spawner_child *c) {
  if (c->key_fd >= 0) {
    close(c->key_fd);
  }
  c->pid = 0;
  c->key_fd = -1;
}

/* spawner_move_above returns |fd| (close-on-exec) moved to a number above
 * |floor|, so that posix_spawn's dup2 onto a fixed number always clears
 * close-on-exec. */
static int spawner_move_above(int fd, int floor) {
  if (fd > floor) {
    return fd;
  }
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, floor + 1);
  close(fd);
  return moved;
}

static void spawner_on_spawn(const spawner_message *req) {
  spawner_child *slot = NULL;
  if (sp.child_arg[req->kind][0] == '\0') {
    spawner_send_error(sp.fd, "no such kind of child");
    return;
  }
  for (int i = 0; slot == NULL && i < SPAWNER_MAX_CHILDREN; i++) {
    if (sp.children[i].pid == 0) {
      slot = &sp.children[i];
    }
  }
  if (slot == NULL) {
    spawner_send_error(sp.fd, "too many handshakers");
    return;
  }
  int ipc[2] = {-1, -1}, keys[2] = {-1, -1};
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ipc) < 0 ||
      socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, keys) < 0) {
    int e = errno;
    for (int i = 0; i < 2; i++) {
      if (ipc[i] >= 0) close(ipc[i]);
      if (keys[i] >= 0) close(keys[i]);
    }
    spawner_send_error(sp.fd, "socketpair: %s", strerror(e));
    return;
  }
  if (req->socket_buffer > 0) {
    int size = (int)req->socket_buffer;
    setsockopt(ipc[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    setsockopt(ipc[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  }
  ipc[1] = spawner_move_above(ipc[1], SANDBOX_KEYS_FD);
  keys[1] = spawner_move_above(keys[1], SANDBOX_KEYS_FD);
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  sigset_t none, all;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, ipc[1], SANDBOX_CHILD_FD);
  posix_spawn_file_actions_adddup2(&actions, keys[1], SANDBOX_KEYS_FD);
  posix_spawn_file_actions_addclosefrom_np(&actions, SANDBOX_KEYS_FD + 1);
  posix_spawnattr_init(&attr);
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  char fd_text[16];
  snprintf(fd_text, sizeof(fd_text), "%d", SANDBOX_CHILD_FD);
  char *argv[] = {sp.argv0, sp.child_arg[req->kind], fd_text, NULL};
  pid_t pid = 0;
  int rc = ipc[1] < 0 || keys[1] < 0
               ? EMFILE
               : posix_spawn(&pid, "/proc/self/exe", &actions, &attr, argv,
                             sandbox_child_environment());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (ipc[1] >= 0) close(ipc[1]);
  if (keys[1] >= 0) close(keys[1]);
  if (rc != 0) {
    close(ipc[0]);
    close(keys[0]);
    spawner_send_error(sp.fd, "posix_spawn: %s", strerror(rc));
    return;
  }
  slot->pid = pid;
  slot->key_fd = keys[0];
  spawner_message_init(&sp.answer, SPAWNER_ANS_SPAWNED);
  sp.answer.pid = (uint32_t)pid;
  int sent = spawner_send(sp.fd, &sp.answer, ipc[0]);
  close(ipc[0]);
  if (!sent) {
    /* main will not know it: it must not live */
    kill(pid, SIGKILL);
  }
}

static void spawner_on_kill(const spawner_message *req) {
  spawner_child *c = spawner_find((pid_t)req->pid);
  if (c == NULL) {
    spawner_send_error(sp.fd, "pid %u is not a handshaker of this spawner",
                       req->pid);
    return;
  }
  kill(c->pid, SIGKILL);
  spawner_send_simple(SPAWNER_ANS_OK);
}

static void spawner_on_reap(const spawner_message *req) {
  spawner_child *c = spawner_find((pid_t)req->pid);
  int status = 0;
  pid_t r = 0;
  spawner_message_init(&sp.answer, SPAWNER_ANS_STATUS);
  sp.answer.pid = req->pid;
  sp.answer.state = SPAWNER_STATE_GONE;
  if (c == NULL) {
    spawner_send(sp.fd, &sp.answer, -1);
    return;
  }
  if (req->how == SPAWNER_REAP_FORCE) {
    kill(c->pid, SIGKILL);
  }
  int polls = req->how == SPAWNER_REAP_TRY ? 1 : SPAWNER_REAP_POLLS;
  for (int i = 0; i < polls; i++) {
    r = waitpid(c->pid, &status, WNOHANG);
    if (r != 0) {
      break;
    }
    if (i + 1 < polls) {
      usleep(1000);
    }
  }
  if (r == 0 && req->how != SPAWNER_REAP_TRY) {
    kill(c->pid, SIGKILL);
    r = waitpid(c->pid, &status, 0);
  }
  if (r == 0) {
    sp.answer.state = SPAWNER_STATE_RUNNING;
  } else {
    if (r == c->pid) {
      sp.answer.state = SPAWNER_STATE_REAPED;
      sp.answer.wait_status = (uint32_t)status;
    }
    spawner_forget(c);
  }
  spawner_send(sp.fd, &sp.answer, -1);
}

static void spawner_on_nice(const spawner_message *req) {
  spawner_child *c = spawner_find((pid_t)req->pid);
  if (c == NULL) {
    spawner_send_error(sp.fd, "pid %u is not a handshaker of this spawner",
                       req->pid);
    return;
  }
  /* Never a higher priority than the server was started with. */
  int value = req->nice < sp.nice_floor ? sp.nice_floor : req->nice;
  if (setpriority(PRIO_PROCESS, (id_t)c->pid, value) != 0) {
    spawner_send_error(sp.fd, "setpriority: %s", strerror(errno));
    return;
  }
  spawner_send_simple(SPAWNER_ANS_OK);
}

/* ---- keys ------------------------------------------------------------ */

/* spawner_read_key reads |path| (as main configured it; relative to the
 * start-up directory) into |out|. Returns 1 with *out_len, or 0 with
 * |why|. */
static int spawner_read_key(const char *path, uint8_t *out, size_t cap,
                            size_t *out_len, char *why, size_t why_len) {
  char full[PATH_MAX], dir[PATH_MAX], real[PATH_MAX];
  if ((size_t)snprintf(full, sizeof(full), "%s%s%s",
                       path[0] == '/' ? "" : sp.cwd, path[0] == '/' ? "" : "/",
                       path) >= sizeof(full)) {
    snprintf(why, why_len, "key file path too long");
    return 0;
  }
  char *slash = strrchr(full, '/');
  const char *name = slash + 1;
  if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
    snprintf(why, why_len, "'%.200s' does not name a file", path);
    return 0;
  }
  size_t dir_len = slash == full ? 1 : (size_t)(slash - full);
  memcpy(dir, full, dir_len);
  dir[dir_len] = '\0';
  int index = -1;
  if (realpath(dir, real) != NULL) {
    for (int i = 0; i < sp.key_dirs; i++) {
      if (strcmp(real, sp.key_dir[i]) == 0) {
        index = i;
      }
    }
  }
  if (index < 0) {
    snprintf(why, why_len,
             "key file '%.120s' is not in the directory of a key file "
             "configured at start-up",
             path);
    return 0;
  }
  int fd = openat(sp.key_dir_fd[index], name,
                  O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    snprintf(why, why_len, "'%.200s': %s", path, strerror(errno));
    return 0;
  }
  struct stat st;
  size_t got = 0;
  int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  if (!ok) {
    snprintf(why, why_len, "'%.200s' is not a regular file", path);
  }
  while (ok) {
    ssize_t n = read(fd, out + got, cap - got);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      snprintf(why, why_len, "'%.200s': %s", path, strerror(errno));
      ok = 0;
    } else if (n == 0) {
      break;
    } else if ((got += (size_t)n) == cap) {
      uint8_t extra;
      if (read(fd, &extra, 1) != 0) {
        snprintf(why, why_len, "'%.200s' is larger than %d bytes", path,
                 SPAWNER_MAX_KEY_FILE);
        ok = 0;
      }
      break;
    }
  }
  close(fd);
  if (ok && got == 0) {
    snprintf(why, why_len, "'%.200s' is empty", path);
    ok = 0;
  }
  if (!ok) {
    explicit_bzero(out, got);
    return 0;
  }
  *out_len = got;
  return 1;
}

static void spawner_on_key_request(spawner_child *c) {
  char why[SPAWNER_MAX_REASON + 1];
  size_t key_len = 0, client_len = 0;
  struct iovec iov = {.iov_base = sp.buf, .iov_len = sizeof(sp.buf)};
  struct msghdr mh;
  memset(&mh, 0, sizeof(mh));
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  ssize_t n;
  do {
    n = recvmsg(c->key_fd, &mh, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    return;
  }
  if (n <= 0 || (mh.msg_flags & MSG_TRUNC) ||
      !spawner_parse_key_request(sp.buf, (size_t)n, &sp.msg)) {
    if (n > 0) {
      spawner_send_error(c->key_fd, "malformed key request");
    }
    close(c->key_fd);
    c->key_fd = -1;
    return;
  }
  int ok =
      spawner_read_key(sp.msg.key_file, sp.key, sizeof(sp.key), &key_len, why,
                       sizeof(why)) &&
      (sp.msg.client_key_file[0] == '\0' ||
       spawner_read_key(sp.msg.client_key_file, sp.client_key,
                        sizeof(sp.client_key), &client_len, why, sizeof(why)));
  if (ok) {
    spawner_message_init(&sp.answer, SPAWNER_ANS_KEYS);
    sp.answer.key = sp.key;
    sp.answer.key_len = key_len;
    sp.answer.client_key = client_len > 0 ? sp.client_key : NULL;
    sp.answer.client_key_len = client_len;
    memcpy(sp.answer.key_file_pass, sp.key_file_pass, sizeof(sp.key_file_pass));
    memcpy(sp.answer.client_key_file_pass, sp.client_key_file_pass,
           sizeof(sp.client_key_file_pass));
    if (!spawner_send(c->key_fd, &sp.answer, -1)) {
      spawner_log("could not send keys to handshaker pid %d", (int)c->pid);
    }
    spawner_message_wipe(&sp.answer);
  } else {
    spawner_log("refused keys to handshaker pid %d: %s", (int)c->pid, why);
    spawner_send_error(c->key_fd, "%s", why);
  }
  explicit_bzero(sp.key, key_len);
  explicit_bzero(sp.client_key, client_len);
  spawner_message_wipe(&sp.msg);
  close(c->key_fd);
  c->key_fd = -1;
}

/* ---- main's requests --------------------------------------------------- */

/* spawner_on_main handles one datagram from main. Returns 0 when the
 * spawner must exit (EOF, or a malformed or out-of-place request). */
static int spawner_on_main(void) {
  ssize_t n;
  struct iovec iov = {.iov_base = sp.buf, .iov_len = sizeof(sp.buf)};
  struct msghdr mh;
  memset(&mh, 0, sizeof(mh));
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  do {
    n = recvmsg(sp.fd, &mh, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    return 1;
  }
  if (n == 0 || n < 0) {
    return 0;
  }
  if ((mh.msg_flags & MSG_TRUNC) ||
      !spawner_parse_main_request(sp.buf, (size_t)n, &sp.msg) ||
      sp.msg.type == SPAWNER_REQ_INIT) {
    spawner_log("malformed or out-of-place request from main: exiting");
    return 0;
  }
  switch (sp.msg.type) {
    case SPAWNER_REQ_SPAWN:
      spawner_on_spawn(&sp.msg);
      break;
    case SPAWNER_REQ_KILL:
      spawner_on_kill(&sp.msg);
      break;
    case SPAWNER_REQ_REAP:
      spawner_on_reap(&sp.msg);
      break;
    case SPAWNER_REQ_NICE:
      spawner_on_nice(&sp.msg);
      break;
    default:
      return 0;
  }
  return 1;
}

/* ---- start-up ---------------------------------------------------------- */

/* spawner_add_key_dir remembers the directory of |path| (absolute, from
 * INIT) as one keys may be read from. */
static int spawner_add_key_dir(const char *path) {
  char dir[PATH_MAX];
  if (path[0] == '\0') {
    return 1;
  }
  const char *slash = strrchr(path, '/');
  if (slash == NULL) {
    return 0;
  }
  size_t len = slash == path ? 1 : (size_t)(slash - path);
  if (len >= sizeof(dir)) {
    return 0;
  }
  memcpy(dir, path, len);
  dir[len] = '\0';
  char real[PATH_MAX];
  if (realpath(dir, real) == NULL) {
    spawner_log("key directory %s: %s", dir, strerror(errno));
    return 1; /* keys from there will be refused */
  }
  for (int i = 0; i < sp.key_dirs; i++) {
    if (strcmp(sp.key_dir[i], real) == 0) {
      return 1;
    }
  }
  int fd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || sp.key_dirs >= SPAWNER_MAX_KEY_DIRS) {
    if (fd >= 0) close(fd);
    spawner_log("key directory %s: %s", real, strerror(errno));
    return 1;
  }
  sp.key_dir_fd[sp.key_dirs] = fd;
  snprintf(sp.key_dir[sp.key_dirs], sizeof(sp.key_dir[0]), "%s", real);
  sp.key_dirs++;
  return 1;
}

/* spawner_limit_capabilities keeps spawner_kept_caps only, in the bounding,
 * effective, permitted and inheritable sets (root only). */
static int spawner_limit_capabilities(char *err, size_t err_len) {
  uint64_t keep = 0;
  for (size_t i = 0; i < sizeof(spawner_kept_caps) / sizeof(int); i++) {
    keep |= 1ull << spawner_kept_caps[i];
  }
  for (int cap = 0; cap <= 63; cap++) {
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) {
      break;
    }
    if (!(keep & (1ull << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      snprintf(err, err_len, "PR_CAPBSET_DROP: %s", strerror(errno));
      return 0;
    }
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof(data));
  data[0].effective = data[0].permitted = (uint32_t)keep;
  data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
  if (syscall(SYS_capset, &header, data) != 0) {
    snprintf(err, err_len, "capset: %s", strerror(errno));
    return 0;
  }
  return 1;
}

static void spawner_shutdown(void) {
  for (int i = 0; i < SPAWNER_MAX_CHILDREN; i++) {
    if (sp.children[i].pid > 0) {
      kill(sp.children[i].pid, SIGKILL);
    }
  }
  for (int i = 0; i < SPAWNER_MAX_CHILDREN; i++) {
    if (sp.children[i].pid > 0) {
      waitpid(sp.children[i].pid, NULL, 0);
      spawner_forget(&sp.children[i]);
    }
  }
}

int sandbox_spawner_main(int argc, char **argv) {
  char err[SPAWNER_MAX_REASON + 1] = "";
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  prctl(PR_SET_NAME, "redoubt-spawner", 0, 0, 0);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  signal(SIGPIPE, SIG_IGN);
  if (argc != 3 || strcmp(argv[2], "3") != 0) {
    spawner_log("bad spawner invocation");
    return 2;
  }
  sp.fd = SANDBOX_SPAWNER_FD;
  for (int i = 0; i < SPAWNER_MAX_CHILDREN; i++) {
    sp.children[i].key_fd = -1;
  }
  /* 2. INIT */
  ssize_t n;
  do {
    n = recv(sp.fd, sp.buf, sizeof(sp.buf), MSG_TRUNC);
  } while (n < 0 && errno == EINTR);
  if (n <= 0 || (size_t)n > sizeof(sp.buf) ||
      !spawner_parse_main_request(sp.buf, (size_t)n, &sp.msg) ||
      sp.msg.type != SPAWNER_REQ_INIT) {
    explicit_bzero(sp.buf, sizeof(sp.buf));
    spawner_log("first message was not a valid INIT");
    return 2;
  }
  explicit_bzero(sp.buf, (size_t)n);
  memcpy(sp.argv0, sp.msg.argv0, sizeof(sp.argv0));
  memcpy(sp.child_arg, sp.msg.child_arg, sizeof(sp.child_arg));
  memcpy(sp.key_file_pass, sp.msg.key_file_pass, sizeof(sp.key_file_pass));
  memcpy(sp.client_key_file_pass, sp.msg.client_key_file_pass,
         sizeof(sp.client_key_file_pass));
  int seccomp = sp.msg.seccomp;
  char sandbox_user[SPAWNER_MAX_USER + 1];
  memcpy(sandbox_user, sp.msg.sandbox_user, sizeof(sandbox_user));
  /* stdin and stdout are main's (a terminal, the log file): neither the
   * spawner nor a starting handshaker has any use for them. */
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd >= 0) {
    dup2(null_fd, STDIN_FILENO);
    dup2(null_fd, STDOUT_FILENO);
    close(null_fd);
  }
  /* 3. key directories */
  if (getcwd(sp.cwd, sizeof(sp.cwd)) == NULL) {
    snprintf(sp.cwd, sizeof(sp.cwd), "/");
  }
  if (!spawner_add_key_dir(sp.msg.key_file) ||
      !spawner_add_key_dir(sp.msg.client_key_file)) {
    snprintf(err, sizeof(err), "key file paths must be absolute");
  }
  spawner_message_wipe(&sp.msg);
  errno = 0;
  sp.nice_floor = getpriority(PRIO_PROCESS, 0);
  if (sp.nice_floor == -1 && errno != 0) {
    sp.nice_floor = 0;
  }
  /* 4. capabilities, 5. filter */
  if (err[0] == '\0' && geteuid() == 0) {
    spawner_limit_capabilities(err, sizeof(err));
  }
  if (err[0] == '\0' && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    snprintf(err, sizeof(err), "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
  }
  if (err[0] == '\0' && seccomp) {
    sandbox_seccomp_install(SANDBOX_POLICY_SPAWNER, -1, err, sizeof(err));
  }
  if (err[0] != '\0') {
    spawner_send_error(sp.fd, "%s", err);
    return 1;
  }
  /* 6. serve */
  if (!spawner_send_simple(SPAWNER_ANS_READY)) {
    return 1;
  }
  spawner_log("ready: %d key director%s, handshakers drop to %s", sp.key_dirs,
              sp.key_dirs == 1 ? "y" : "ies",
              sandbox_user[0] ? sandbox_user : "nobody");
  static struct pollfd fds[1 + SPAWNER_MAX_CHILDREN];
  static spawner_child *who[1 + SPAWNER_MAX_CHILDREN];
  for (;;) {
    nfds_t count = 0;
    fds[count].fd = sp.fd;
    fds[count].events = POLLIN;
    fds[count].revents = 0;
    who[count++] = NULL;
    for (int i = 0; i < SPAWNER_MAX_CHILDREN; i++) {
      if (sp.children[i].pid > 0 && sp.children[i].key_fd >= 0) {
        fds[count].fd = sp.children[i].key_fd;
        fds[count].events = POLLIN;
        fds[count].revents = 0;
        who[count++] = &sp.children[i];
      }
    }
    int r = poll(fds, count, -1);
    if (r < 0 && errno != EINTR) {
      break;
    }
    for (nfds_t i = 1; i < count && r > 0; i++) {
      if (fds[i].revents != 0) {
        spawner_on_key_request(who[i]);
      }
    }
    if (r > 0 && fds[0].revents != 0) {
      int go_on = 1;
      for (int k = 0; k < SPAWNER_MESSAGES_PER_WAKEUP && go_on; k++) {
        go_on = spawner_on_main();
        if (go_on) {
          struct pollfd more = {sp.fd, POLLIN, 0};
          if (poll(&more, 1, 0) <= 0) {
            break;
          }
        }
      }
      if (!go_on) {
        break;
      }
    }
  }
  spawner_shutdown();
  explicit_bzero(sp.key_file_pass, sizeof(sp.key_file_pass));
  explicit_bzero(sp.client_key_file_pass, sizeof(sp.client_key_file_pass));
  return 0;
}

/* ---- --redoubt-seccomp-bpf ----------------------------------------------- */

int sandbox_is_seccomp_dump_invocation(int argc, char **argv) {
  return argc >= 2 && argv[1] != NULL &&
         strcmp(argv[1], SANDBOX_SECCOMP_DUMP_ARG) == 0;
}

int sandbox_seccomp_dump_main(int argc, char **argv) {
  char err[256] = "";
  int ok = 0;
  if (argc == 3 && strcmp(argv[2], "handshaker") == 0) {
    ok = sandbox_seccomp_export(SANDBOX_POLICY_HANDSHAKER, SANDBOX_CHILD_FD,
                                STDOUT_FILENO, err, sizeof(err));
  } else if (argc == 3 && strcmp(argv[2], "spawner") == 0) {
    ok = sandbox_seccomp_export(SANDBOX_POLICY_SPAWNER, -1, STDOUT_FILENO, err,
                                sizeof(err));
  } else {
    snprintf(err, sizeof(err), "usage: %s handshaker|spawner",
             SANDBOX_SECCOMP_DUMP_ARG);
  }
  if (!ok) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  return 0;
}
