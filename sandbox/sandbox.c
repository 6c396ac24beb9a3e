/* sandbox.c: confining a handshaker after it has loaded its files.
 *
 * sandbox_enter runs the steps of sandbox.h in order. Each step assumes the
 * previous ones: the user is looked up while /etc is still reachable; fds are
 * closed before the filter (close is not in the allowlist) and before the
 * rlimits (a tiny RLIMIT_NOFILE would not close anything by itself); the
 * capability bounding set is emptied while we still hold CAP_SETPCAP, i.e.
 * before the uid drop; the filter comes last because every earlier step
 * needs system calls it forbids.
 *
 * The chroot directory (when running as root): a fresh mkdtemp directory
 * under /tmp that is removed *while it is our working directory*, before we
 * chroot into it. The kernel keeps the unlinked directory alive as our root;
 * it is empty, nothing can be created in it (it has no name and no link
 * count), nobody else can reach it, and nothing is left behind when the
 * handshaker exits. No fixed directory has to be created or kept empty by
 * the operator. If /tmp is not writable, /var/empty is used when it is a
 * root-owned directory nobody else can write.
 *
 * Root inside a user namespace (containers, Bazel's test sandbox) may be
 * unable to switch to |user| (the uid is not mapped, or setgroups is
 * denied). There root holds no capability over the host, so the drop is
 * best effort: a warning goes to stderr and the other steps still apply. In
 * the initial user namespace a failed drop is fatal.
 *
 * Not root: there is no capability to give up, and the bounding set cannot
 * be emptied without CAP_SETPCAP; PR_SET_NO_NEW_PRIVS (and the filter's ban
 * on execve) means no capability can be gained either. */
#include "sandbox/sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/internal.h"
#include "sandbox/seccomp_policy.h"

/* The account handshakers run as when main is root and none is configured. */
#define SANDBOX_DEFAULT_USER "nobody"
/* RLIMIT_NOFILE after sandboxing: 0, so no new fd can be created at all,
 * not even at a free low number (a descriptor passed with SCM_RIGHTS is
 * then dropped by the kernel). Existing fds stay usable. */
#define SANDBOX_NOFILE_LIMIT 0
/* chroot target when /tmp is not writable. */
#define SANDBOX_FALLBACK_EMPTY_DIR "/var/empty"
/* Bound on entries read from /proc/self/fd when close_range is missing. */
#define SANDBOX_MAX_FD_SCAN 65536
/* RLIMIT_AS of a handshaker. Measured by utils/seccomp-audit.sh (VmPeak of
 * every handshaker during the TLS suites, the sandbox attacks with their
 * floods of half-open handshakes, and bench/storm.sh): at most 21.6 MB; the
 * binary's own mappings are most of it. The worst legitimate case adds
 * every in-flight handshake of the server (tls-max-handshakes-in-flight,
 * default 1000) on one handshaker, each an SSL (~30 KB) with a 48 KB
 * ClientHello: ~80 MB. 256 MB covers that three times over, while a
 * runaway allocation fails early. Sanitizer builds reserve terabytes of
 * shadow memory and get no limit. */
#define SANDBOX_ADDRESS_SPACE_LIMIT ((rlim_t)256 << 20)

static int sandbox_fail(char *err, size_t err_len, const char *what,
                        int saved_errno) {
  if (err != NULL && err_len > 0) {
    if (saved_errno != 0) {
      snprintf(err, err_len, "%s: %s", what, strerror(saved_errno));
    } else {
      snprintf(err, err_len, "%s", what);
    }
  }
  return 0;
}

/* ---- closing file descriptors ------------------------------------------ */

static int sandbox_close_range(unsigned int first, unsigned int last) {
  if (first > last) {
    return 0;
  }
  return (int)syscall(SYS_close_range, first, last, 0);
}

/* sandbox_close_fds_by_scan is the fallback for kernels without
 * close_range (< 5.9): walk /proc/self/fd, collect, then close. */
static int sandbox_close_fds_by_scan(int keep_fd) {
  DIR *dir = opendir("/proc/self/fd");
  if (dir == NULL) {
    return -1;
  }
  int dir_fd = dirfd(dir);
  int fds[256];
  size_t count = 0;
  int more = 1;
  /* Collect in batches: closing while reading the directory is unsafe. */
  while (more) {
    count = 0;
    more = 0;
    rewinddir(dir);
    struct dirent *entry;
    size_t budget = SANDBOX_MAX_FD_SCAN;
    while ((entry = readdir(dir)) != NULL && budget-- > 0) {
      char *end;
      long fd = strtol(entry->d_name, &end, 10);
      if (*end != '\0' || end == entry->d_name || fd < 0 || fd == keep_fd ||
          fd == STDERR_FILENO || fd == dir_fd) {
        continue;
      }
      if (count == sizeof(fds) / sizeof(fds[0])) {
        more = 1;
        break;
      }
      fds[count++] = (int)fd;
    }
    for (size_t i = 0; i < count; i++) {
      close(fds[i]);
    }
    if (count == 0) {
      more = 0;
    }
  }
  closedir(dir);
  return 0;
}

/* sandbox_close_fds closes every descriptor except keep_fd and stderr. */
static int sandbox_close_fds(int keep_fd) {
  unsigned int keep[2] = {STDERR_FILENO, STDERR_FILENO};
  if (keep_fd >= 0) {
    keep[0] = keep_fd < STDERR_FILENO ? (unsigned int)keep_fd : STDERR_FILENO;
    keep[1] = keep_fd < STDERR_FILENO ? STDERR_FILENO : (unsigned int)keep_fd;
  }
  /* Ranges between and around the (sorted) kept descriptors. */
  int rc = 0;
  if (keep[0] > 0) {
    rc |= sandbox_close_range(0, keep[0] - 1);
  }
  if (keep[1] > keep[0] + 1) {
    rc |= sandbox_close_range(keep[0] + 1, keep[1] - 1);
  }
  rc |= sandbox_close_range(keep[1] + 1, ~0u);
  if (rc != 0 && errno == ENOSYS) {
    return sandbox_close_fds_by_scan(keep_fd);
  }
  return rc == 0 ? 0 : -1;
}

/* ---- chroot and privilege drop ------------------------------------- */

/* sandbox_chroot_empty chroots into an empty, already unlinked directory
 * (see the file comment). */
static int sandbox_chroot_empty(char *err, size_t err_len) {
  char dir[] = "/tmp/redoubt-empty-XXXXXX";
  if (mkdtemp(dir) == NULL) {
    int e = errno;
    /* Read-only /tmp (some containers): fall back to the conventional
     * empty directory if it is root's and nobody else may write to it. */
    struct stat st;
    if (stat(SANDBOX_FALLBACK_EMPTY_DIR, &st) == 0 && S_ISDIR(st.st_mode) &&
        st.st_uid == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0 &&
        chdir(SANDBOX_FALLBACK_EMPTY_DIR) == 0 && chroot(".") == 0 &&
        chdir("/") == 0) {
      return 1;
    }
    return sandbox_fail(err, err_len, "mkdtemp for chroot", e);
  }
  if (chdir(dir) != 0) {
    int e = errno;
    rmdir(dir);
    return sandbox_fail(err, err_len, "chdir to chroot dir", e);
  }
  if (rmdir(dir) != 0) {
    return sandbox_fail(err, err_len, "rmdir chroot dir", errno);
  }
  if (chroot(".") != 0) {
    return sandbox_fail(err, err_len, "chroot", errno);
  }
  if (chdir("/") != 0) {
    return sandbox_fail(err, err_len, "chdir / after chroot", errno);
  }
  return 1;
}

/* sandbox_in_initial_user_namespace returns 1 when uid 0 here is the
 * host's root: /proc/self/uid_map is the identity map of all uids. */
static int sandbox_in_initial_user_namespace(void) {
  FILE *fp = fopen("/proc/self/uid_map", "re");
  if (fp == NULL) {
    return 1; /* no user namespaces: assume the real thing */
  }
  unsigned long inside = 1, outside = 1, count = 0;
  int fields = fscanf(fp, "%lu %lu %lu", &inside, &outside, &count);
  int more = fgetc(fp);
  while (more == ' ' || more == '\n') {
    more = fgetc(fp);
  }
  fclose(fp);
  return fields == 3 && inside == 0 && outside == 0 && count == 4294967295ul &&
         more == EOF;
}

static int sandbox_drop_privileges(uid_t uid, gid_t gid, char *err,
                                   size_t err_len) {
  if (setgroups(1, &gid) != 0) {
    return sandbox_fail(err, err_len, "setgroups", errno);
  }
  if (setresgid(gid, gid, gid) != 0) {
    return sandbox_fail(err, err_len, "setresgid", errno);
  }
  if (setresuid(uid, uid, uid) != 0) {
    return sandbox_fail(err, err_len, "setresuid", errno);
  }
  /* Prove the drop is permanent (the OpenSSH permanently_set_uid check). */
  if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
    return sandbox_fail(err, err_len, "could regain root after setresuid", 0);
  }
  return 1;
}

/* ---- capabilities -------------------------------------------------------- */

/* sandbox_clear_bounding_set empties the capability bounding set and the
 * ambient set: no later exec could ever grant a capability. Needs
 * CAP_SETPCAP (root); returns 1, or 0 with errno (EPERM when not root). */
static int sandbox_clear_bounding_set(void) {
  /* Ambient capabilities (Linux 4.3+): EINVAL on older kernels. */
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 &&
      errno != EINVAL) {
    return 0;
  }
  for (unsigned long cap = 0; cap <= 63; cap++) {
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) {
      break; /* EINVAL: past the kernel's last capability */
    }
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      return 0;
    }
  }
  return 1;
}

/* ---- rlimits ------------------------------------------------------------ */

static int sandbox_set_limit(int resource, rlim_t value) {
  struct rlimit rl = {value, value};
  return setrlimit(resource, &rl);
}

static int sandbox_set_limits(char *err, size_t err_len) {
  if (sandbox_set_limit(RLIMIT_NOFILE, SANDBOX_NOFILE_LIMIT) != 0) {
    return sandbox_fail(err, err_len, "setrlimit NOFILE", errno);
  }
  /* NPROC 0: no fork even if a bug reached it (not enforced for root, which
   * is why root handshakers also drop to |user|). */
  if (sandbox_set_limit(RLIMIT_NPROC, 0) != 0) {
    return sandbox_fail(err, err_len, "setrlimit NPROC", errno);
  }
  /* FSIZE 0: no file can grow, not even stderr: a handshaker's stderr is a
   * socket to main's log relay (spawn.h). Were it a file after all (a
   * handshaker started by hand), a log line must not kill the process:
   * SIGXFSZ is ignored, so the write fails with EFBIG instead. */
  signal(SIGXFSZ, SIG_IGN);
  if (sandbox_set_limit(RLIMIT_FSIZE, 0) != 0) {
    return sandbox_fail(err, err_len, "setrlimit FSIZE", errno);
  }
#ifndef SANDBOX_SANITIZER_BUILD
  /* AS: a bug that allocates without bound fails its allocation early. */
  if (sandbox_set_limit(RLIMIT_AS, SANDBOX_ADDRESS_SPACE_LIMIT) != 0) {
    return sandbox_fail(err, err_len, "setrlimit AS", errno);
  }
#endif
  /* CORE 0: a crashing handshaker must not write its key to a core file. */
  if (sandbox_set_limit(RLIMIT_CORE, 0) != 0) {
    return sandbox_fail(err, err_len, "setrlimit CORE", errno);
  }
  return 1;
}

/* ---- entry point
 * ------------------------------------------------------------- */

int sandbox_enter(int keep_fd, const char *user, int seccomp, char *err,
                  size_t err_len) {
  if (err != NULL && err_len > 0) {
    err[0] = '\0';
  }
  /* 1. Library state that would otherwise be set up lazily with system calls
   * the filter forbids: BoringSSL's CPU capability probe and entropy source,
   * glibc's time zone (/etc/localtime is read during X509 time checks), and
   * the DRBG's first seeding. */
  CRYPTO_pre_sandbox_init();
  tzset();
  uint8_t warm_up[32];
  if (!RAND_bytes(warm_up, sizeof(warm_up))) {
    return sandbox_fail(err, err_len, "RAND_bytes warm-up failed", 0);
  }
  OPENSSL_cleanse(warm_up, sizeof(warm_up));

  /* 2. Look the user up now: after chroot /etc/passwd is gone. */
  int is_root = (geteuid() == 0);
  int initial_userns = is_root ? sandbox_in_initial_user_namespace() : 1;
  uid_t uid = 0;
  gid_t gid = 0;
  if (is_root) {
    const char *name =
        (user != NULL && user[0] != '\0') ? user : SANDBOX_DEFAULT_USER;
    errno = 0;
    struct passwd *pw = getpwnam(name);
    if (pw == NULL) {
      char what[128];
      snprintf(what, sizeof(what), "sandbox user '%.64s' not found", name);
      return sandbox_fail(err, err_len, what, errno);
    }
    uid = pw->pw_uid;
    gid = pw->pw_gid;
    if (uid == 0) {
      return sandbox_fail(err, err_len, "sandbox user must not be root", 0);
    }
  }

  /* 3. Close every fd but the IPC socket and stderr. */
  if (sandbox_close_fds(keep_fd) != 0) {
    return sandbox_fail(err, err_len, "closing file descriptors", errno);
  }

  /* 4. When root: empty root directory, no capability bounding set, then
   * an unprivileged user. */
  if (is_root) {
    if (!sandbox_chroot_empty(err, err_len)) {
      return 0;
    }
    if (!sandbox_clear_bounding_set()) {
      return sandbox_fail(err, err_len, "emptying the capability bounding set",
                          errno);
    }
    if (!sandbox_drop_privileges(uid, gid, err, err_len)) {
      if (initial_userns) {
        return 0;
      }
      char line[512];
      int n = snprintf(line, sizeof(line),
                       "sandbox: warning: root in a user namespace, staying "
                       "uid 0 (%s)\n",
                       err != NULL ? err : "");
      if (n > 0) {
        ssize_t ignored =
            write(STDERR_FILENO, line,
                  (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
        (void)ignored;
      }
      if (err != NULL && err_len > 0) {
        err[0] = '\0';
      }
    }
  }

  /* 5. Resource limits. */
  if (!sandbox_set_limits(err, err_len)) {
    return 0;
  }

  /* 6. No ptrace/core/proc-mem access by other processes of this user, and
   * no privilege gain through exec (also required for an unprivileged
   * seccomp filter). */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return sandbox_fail(err, err_len, "PR_SET_DUMPABLE", errno);
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return sandbox_fail(err, err_len, "PR_SET_NO_NEW_PRIVS", errno);
  }

  /* 7. The system-call filter. */
  if (seccomp && !sandbox_seccomp_install(SANDBOX_POLICY_HANDSHAKER, keep_fd,
                                          err, err_len)) {
    return 0;
  }
  return 1;
}

size_t sandbox_policy_describe(char *buf, size_t len) {
  return sandbox_seccomp_describe(SANDBOX_POLICY_HANDSHAKER, buf, len);
}

/* ---- test hook ---------------------------------------------------------- */

int sandbox_run_test_syscall(const char *name) {
#ifdef REDOUBT_TEST_HOOKS
  /* Each call is forbidden by the policy: under the filter the process dies
   * by SIGSYS before the call returns. Raw syscall() so that glibc cannot
   * substitute a different call. */
  if (name == NULL) {
    return 0;
  }
  if (strcmp(name, "openat") == 0) {
    syscall(SYS_openat, AT_FDCWD, "/etc/passwd", 0);
    return 1;
  }
  if (strcmp(name, "socket") == 0) {
    syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    return 1;
  }
  if (strcmp(name, "execve") == 0) {
    char *const argv[] = {(char *)"/bin/true", NULL};
    syscall(SYS_execve, "/bin/true", argv, NULL);
    return 1;
  }
  if (strcmp(name, "ptrace") == 0) {
    syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
    return 1;
  }
  return 0;
#else
  /* Not a test build: the forbidden calls are not compiled in. */
  (void)name;
  return 0;
#endif
}
