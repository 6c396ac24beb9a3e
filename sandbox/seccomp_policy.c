/* seccomp_policy.c: the system-call allowlists of the handshaker and of the
 * privileged spawner (seccomp_policy.h).
 *
 * Layout, as in OpenSSH's sandbox-seccomp-filter.c:
 *   1. architecture check: only x86_64 system calls; any other ABI (i386 via
 *      int 0x80, x32) kills the process;
 *   2. the rule table, one reason per rule: allowed, allowed with argument
 *      limits, or refused with an errno (the caller copes with the error);
 *   3. default: SCMP_ACT_KILL_PROCESS.
 *
 * How the handshaker's list was proven (issue 17 item 6). A test build
 * (--config=testhooks) started with REDOUBT_SECCOMP_AUDIT=1 installs the
 * audit variant: every call the policy would refuse is allowed and logged
 * (SECCOMP_RET_LOG, an audit record type=1326 in the kernel log).
 * utils/seccomp-audit.sh runs the TLS integration suites (test_tls,
 * test_tls_reload, test_repl_tls, test_privsep, test_sandbox_attacks) and
 * bench/storm.sh that way and lists every logged call: none. strace over the
 * same workloads shows which listed calls are used: recvmsg, sendmsg,
 * write, getrandom, madvise, mmap, futex and exit_group. Calls that no test
 * reached stay only where a rare path needs them, and say which:
 *   - munmap: jemalloc maps a larger region and trims it when an extent
 *     needs more alignment than the kernel gave (pages_map), e.g. when its
 *     metadata grows under many handshakes in flight;
 *   - clock_gettime, gettimeofday, time: served by the vDSO here (a TSC
 *     clocksource), they become real system calls on a host whose
 *     clocksource the vDSO cannot read (Xen PV, some Hyper-V set-ups, or
 *     vdso=0); without them every handshake would die there.
 *   - brk: jemalloc falls back to sbrk when mmap fails (RLIMIT_AS reached,
 *     or a fragmented address space). Killing would turn an allocation
 *     failure into a crash, and refusing it with an errno is worse: glibc's
 *     brk wrapper takes any return value for the new break, so sbrk would
 *     "succeed" with unmapped memory (seen in sandbox_test). Allowed, the
 *     kernel caps it by RLIMIT_AS and the heap is never executable.
 * Dropped after the audit: mremap and mprotect (jemalloc never calls them;
 * glibc malloc, which did, is not the release allocator), rt_sigreturn (the
 * handshaker installs no signal handler) and exit (single-threaded: glibc
 * leaves with exit_group).
 *
 * The spawner's list (spawner.c) covers the spawner's own loop and, because
 * a filter survives fork and exec, a handshaker's start-up until it loads
 * its own filter: the dynamic loader, reading its certificates, and
 * sandbox_enter (chroot, uid drop, rlimits). What it leaves out is what a
 * compromised spawner would want: opening files for writing, creating,
 * renaming or removing anything but the handshaker's empty chroot
 * directory, network sockets, ptrace and process_vm_*, mount, namespaces,
 * bpf, keyrings, modules, io_uring. Measured with strace -f over the same
 * workloads (the spawner's loop and every handshaker from exec to its own
 * filter), proven with the audit variant. */
#include "sandbox/seccomp_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "sandbox/internal.h"

typedef enum {
  RULE_ALLOW,                /* any arguments */
  RULE_ALLOW_IPC_FD,         /* argument 0 (the fd) is the IPC socket */
  RULE_ALLOW_STDERR,         /* argument 0 (the fd) is 2 */
  RULE_ALLOW_NO_EXEC,        /* argument 2 (prot) lacks PROT_EXEC */
  RULE_ALLOW_ADVICE,         /* madvise: argument 2 is MADV_DONTNEED or _FREE */
  RULE_ALLOW_FUTEX_WAKE,     /* futex: argument 1 is FUTEX_WAKE_PRIVATE */
  RULE_ALLOW_READ_ONLY,      /* openat: argument 2 (flags) opens for reading and
                         * creates nothing */
  RULE_ALLOW_READ_ONLY_OPEN, /* open: the same on argument 1 */
  RULE_ALLOW_UNIX,           /* socket, socketpair: argument 0 is AF_UNIX */
  RULE_ERRNO_EACCES,         /* refused with EACCES */
  RULE_ERRNO_EACCES_CREATE   /* open with O_CREAT (argument 1): EACCES */
} sandbox_rule_kind;

typedef struct sandbox_rule {
  const char *name; /* resolved with libseccomp for the native arch */
  sandbox_rule_kind kind;
  const char *reason;
} sandbox_rule;

/* ---- the handshaker --------------------------------------------------- */

/* After sandbox_enter the handshaker only reads requests from its IPC
 * socket, runs BoringSSL on memory BIOs and writes answers back
 * (tls/handshaker.c). Keep it short; every line must say why. */
static const sandbox_rule handshaker_rules[] = {
    {"recvmsg", RULE_ALLOW_IPC_FD, "read requests (records) from main"},
    {"sendmsg", RULE_ALLOW_IPC_FD, "send answers (flights, handback) to main"},
    {"write", RULE_ALLOW_STDERR,
     "log lines to stderr, a socket to main's log relay"},
    {"mmap", RULE_ALLOW_NO_EXEC,
     "jemalloc extents as memory grows; never executable memory"},
    {"munmap", RULE_ALLOW,
     "jemalloc trims an over-sized mapping to its alignment (rare)"},
    {"madvise", RULE_ALLOW_ADVICE, "jemalloc returns freed pages"},
    {"brk", RULE_ALLOW,
     "jemalloc's sbrk fallback when mmap fails (rare; RLIMIT_AS caps it)"},
    {"getrandom", RULE_ALLOW, "BoringSSL DRBG reseeds"},
    {"futex", RULE_ALLOW_FUTEX_WAKE,
     "end of a pthread_once: BoringSSL sets up a curve or method on first "
     "use"},
    {"clock_gettime", RULE_ALLOW,
     "session and ticket ages, certificate times: the vDSO's fallback on a "
     "clocksource it cannot read"},
    {"gettimeofday", RULE_ALLOW, "as clock_gettime (BoringSSL current time)"},
    {"time", RULE_ALLOW, "as clock_gettime (time(NULL))"},
    {"exit_group", RULE_ALLOW, "exit when main closes the socket"},
};

/* ---- the spawner -------------------------------------------------------- */

/* The spawner's loop (spawner.c) and a handshaker's start-up up to its own
 * filter. Grouped by who needs them. */
static const sandbox_rule spawner_rules[] = {
    /* The spawner's loop. */
    {"poll", RULE_ALLOW, "wait for main and for key requests"},
    {"recvmsg", RULE_ALLOW, "requests from main and from new handshakers"},
    {"sendmsg", RULE_ALLOW, "answers; SCM_RIGHTS of a new IPC socket"},
    {"sendto", RULE_ALLOW, "a new handshaker's key request (send)"},
    {"socketpair", RULE_ALLOW_UNIX, "a new handshaker's IPC and key sockets"},
    {"setsockopt", RULE_ALLOW, "SO_SNDBUF of a new IPC socket"},
    {"clone3", RULE_ALLOW, "posix_spawn (CLONE_VM | CLONE_VFORK)"},
    {"clone", RULE_ALLOW, "posix_spawn where clone3 is missing (< 5.3)"},
    {"execve", RULE_ALLOW, "posix_spawn of /proc/self/exe (a handshaker)"},
    {"wait4", RULE_ALLOW, "reap a handshaker"},
    {"kill", RULE_ALLOW, "SIGKILL a handshaker main gave up on"},
    {"setpriority", RULE_ALLOW, "tls-handshaker-nice on a handshaker"},
    {"clock_nanosleep", RULE_ALLOW, "reap: wait ~50 ms for a dying child"},
    {"restart_syscall", RULE_ALLOW, "a wait interrupted by a stop"},
    {"rt_sigprocmask", RULE_ALLOW, "posix_spawn's signal mask"},
    {"rt_sigaction", RULE_ALLOW, "posix_spawn's signal defaults; SIGPIPE"},
    {"dup2", RULE_ALLOW, "posix_spawn's file actions"},
    {"close_range", RULE_ALLOW, "posix_spawn's closefrom; sandbox_enter"},
    {"exit_group", RULE_ALLOW, "exit"},
    /* Files, for reading only: key files; a starting handshaker's
     * libraries, certificates, /etc/passwd, /etc/localtime. */
    {"openat", RULE_ALLOW_READ_ONLY, "read-only, creates nothing"},
    {"open", RULE_ALLOW_READ_ONLY_OPEN,
     "read-only; jemalloc opens /proc/sys/vm/overcommit_memory with it"},
    {"read", RULE_ALLOW, "files above"},
    {"pread64", RULE_ALLOW, "the dynamic loader"},
    {"lseek", RULE_ALLOW, "stdio (BoringSSL reads PEM through FILE)"},
    {"newfstatat", RULE_ALLOW, "fstat and stat (a key is a regular file)"},
    {"readlink", RULE_ALLOW, "realpath of a key directory; jemalloc"},
    {"access", RULE_ALLOW, "the dynamic loader (/etc/ld.so.preload)"},
    {"getdents64", RULE_ALLOW,
     "sandbox_enter's fd scan where close_range is missing (< 5.9)"},
    {"fcntl", RULE_ALLOW, "descriptor flags"},
    {"close", RULE_ALLOW, "everything above"},
    {"write", RULE_ALLOW, "log lines to stderr (the log relay)"},
    /* Memory and process start-up (spawner and a starting handshaker). */
    {"brk", RULE_ALLOW, "malloc"},
    {"mmap", RULE_ALLOW, "malloc; the dynamic loader maps code"},
    {"mprotect", RULE_ALLOW, "the dynamic loader (RELRO, code)"},
    {"munmap", RULE_ALLOW, "malloc; the dynamic loader"},
    {"madvise", RULE_ALLOW, "malloc"},
    {"arch_prctl", RULE_ALLOW, "thread pointer at exec"},
    {"set_tid_address", RULE_ALLOW, "libc start-up"},
    {"set_robust_list", RULE_ALLOW, "libc start-up"},
    {"rseq", RULE_ALLOW, "libc start-up"},
    {"prlimit64", RULE_ALLOW, "libc start-up; sandbox_enter's rlimits"},
    {"sched_getaffinity", RULE_ALLOW, "jemalloc counts CPUs"},
    {"getrandom", RULE_ALLOW, "libc, jemalloc and BoringSSL seeding"},
    {"futex", RULE_ALLOW, "pthread_once in libc and BoringSSL"},
    {"getpid", RULE_ALLOW, "log lines"},
    {"geteuid", RULE_ALLOW, "sandbox_enter: running as root?"},
    /* A handshaker entering its sandbox (sandbox.c). */
    {"prctl", RULE_ALLOW, "bounding set, dumpable, no_new_privs, name"},
    {"seccomp", RULE_ALLOW, "the handshaker's own, stricter filter"},
    {"mkdir", RULE_ALLOW, "the handshaker's empty chroot directory"},
    {"rmdir", RULE_ALLOW, "unlink that directory before entering it"},
    {"chdir", RULE_ALLOW, "enter it"},
    {"chroot", RULE_ALLOW, "make it the root"},
    {"setgroups", RULE_ALLOW, "drop to sandbox-user"},
    {"setresgid", RULE_ALLOW, "drop to sandbox-user"},
    {"setresuid", RULE_ALLOW, "drop to sandbox-user"},
    {"setuid", RULE_ALLOW, "the drop-is-permanent check (must fail)"},
    /* What a running handshaker's own filter allows (both filters apply). */
    {"clock_gettime", RULE_ALLOW, "as in the handshaker's list"},
    {"gettimeofday", RULE_ALLOW, "as in the handshaker's list"},
    {"time", RULE_ALLOW, "as in the handshaker's list"},
    /* getpwnam asks nscd first: refused, so it reads /etc/passwd. */
    {"socket", RULE_ERRNO_EACCES, "nscd lookups fall back to /etc/passwd"},
    {"connect", RULE_ERRNO_EACCES, "as socket"},
};

/* ---- sanitizer builds ---------------------------------------------------- */

/* Sanitizer builds (--config=asan) only: the ASan/UBSan runtime itself makes
 * calls the release binary never does (stack bookkeeping, its allocator,
 * error reports). Never compiled into a release binary. */
#ifdef SANDBOX_SANITIZER_BUILD
static const sandbox_rule handshaker_sanitizer_rules[] = {
    {"sigaltstack", RULE_ALLOW, "ASan runtime: alternate signal stack checks"},
    {"gettid", RULE_ALLOW,
     "ASan/UBSan error reports (killed by SIGSYS, a report hides the bug)"},
    {"getpid", RULE_ALLOW, "as gettid"},
    {"madvise", RULE_ALLOW,
     "ASan shadow of new mappings (MADV_NOHUGEPAGE, MADV_DONTDUMP)"},
};
static const sandbox_rule spawner_sanitizer_rules[] = {
    {"sigaltstack", RULE_ALLOW, "ASan runtime start-up"},
    {"gettid", RULE_ALLOW, "as in the handshaker's (both filters apply)"},
    {"fstat", RULE_ALLOW, "TSan's fstat interceptor (reading a key file)"},
    {"open", RULE_ERRNO_EACCES_CREATE,
     "TSan's /tmp/tsan.rodata.<pid> at start-up: refused, TSan does "
     "without"},
};
#endif

/* ---- tables ----------------------------------------------------------- */

typedef struct sandbox_policy {
  const sandbox_rule *rules;
  size_t count;
  const sandbox_rule *sanitizer_rules;
  size_t sanitizer_count;
} sandbox_policy;

#define SANDBOX_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static sandbox_policy sandbox_policy_get(sandbox_policy_id id) {
  sandbox_policy p;
  memset(&p, 0, sizeof(p));
  if (id == SANDBOX_POLICY_SPAWNER) {
    p.rules = spawner_rules;
    p.count = SANDBOX_COUNT(spawner_rules);
#ifdef SANDBOX_SANITIZER_BUILD
    p.sanitizer_rules = spawner_sanitizer_rules;
    p.sanitizer_count = SANDBOX_COUNT(spawner_sanitizer_rules);
#endif
  } else {
    p.rules = handshaker_rules;
    p.count = SANDBOX_COUNT(handshaker_rules);
#ifdef SANDBOX_SANITIZER_BUILD
    p.sanitizer_rules = handshaker_sanitizer_rules;
    p.sanitizer_count = SANDBOX_COUNT(handshaker_sanitizer_rules);
#endif
  }
  return p;
}

int sandbox_seccomp_audit_requested(void) {
#ifdef REDOUBT_TEST_HOOKS
  const char *v = getenv(SANDBOX_SECCOMP_AUDIT_ENV);
  return v != NULL && strcmp(v, "1") == 0;
#else
  return 0;
#endif
}

/* ---- description ------------------------------------------------------- */

static const char *sandbox_rule_limit(sandbox_rule_kind kind) {
  switch (kind) {
    case RULE_ALLOW_IPC_FD:
      return " [fd == IPC socket]";
    case RULE_ALLOW_STDERR:
      return " [fd == 2]";
    case RULE_ALLOW_NO_EXEC:
      return " [prot without PROT_EXEC]";
    case RULE_ALLOW_ADVICE:
      return " [MADV_DONTNEED, MADV_FREE]";
    case RULE_ALLOW_FUTEX_WAKE:
      return " [FUTEX_WAKE_PRIVATE]";
    case RULE_ALLOW_READ_ONLY:
    case RULE_ALLOW_READ_ONLY_OPEN:
      return " [read-only, no O_CREAT]";
    case RULE_ALLOW_UNIX:
      return " [AF_UNIX]";
    case RULE_ERRNO_EACCES:
      return " [refused: EACCES]";
    case RULE_ERRNO_EACCES_CREATE:
      return " [with O_CREAT: refused, EACCES]";
    default:
      return "";
  }
}

static int sandbox_describe_rules(const sandbox_rule *rules, size_t count,
                                  char *buf, size_t len, size_t *used) {
  for (size_t i = 0; i < count; i++) {
    const sandbox_rule *r = &rules[i];
    int n = snprintf(*used < len ? buf + *used : NULL,
                     *used < len ? len - *used : 0, "%s%s: %s\n", r->name,
                     sandbox_rule_limit(r->kind), r->reason);
    if (n < 0) {
      return 0;
    }
    *used += (size_t)n;
  }
  return 1;
}

size_t sandbox_seccomp_describe(sandbox_policy_id id, char *buf, size_t len) {
  sandbox_policy p = sandbox_policy_get(id);
  size_t used = 0;
  int n = snprintf(buf, len,
                   "arch: x86_64 only (other ABIs: kill process)\n"
                   "default: kill process (SIGSYS)\n");
  if (n < 0) {
    return 0;
  }
  used = (size_t)n;
  if (!sandbox_describe_rules(p.rules, p.count, buf, len, &used) ||
      !sandbox_describe_rules(p.sanitizer_rules, p.sanitizer_count, buf, len,
                              &used)) {
    return 0;
  }
  /* Like snprintf: the return value is the length wanted; the text is
   * truncated (but NUL-terminated) when it does not fit. */
  return used;
}

/* ---- building the filter --------------------------------------------- */

#if defined(__x86_64__)
static int sandbox_rule_add(scmp_filter_ctx ctx, const sandbox_rule *r,
                            int ipc_fd, char *err, size_t err_len) {
  int nr = seccomp_syscall_resolve_name(r->name);
  int rc = 0;
  /* Conditions are spelled out: libseccomp's SCMP_A0() macros leave fields
   * implicit, which clang's -Wmissing-field-initializers rejects. */
  struct scmp_arg_cmp cmp = {
      .arg = 0, .op = SCMP_CMP_EQ, .datum_a = 0, .datum_b = 0};
  if (nr == __NR_SCMP_ERROR) {
    snprintf(err, err_len, "seccomp: unknown syscall %s", r->name);
    return 0;
  }
  switch (r->kind) {
    case RULE_ALLOW_IPC_FD:
      if (ipc_fd < 0) {
        return 1; /* no IPC socket: no rule */
      }
      cmp.datum_a = (scmp_datum_t)ipc_fd;
      rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &cmp);
      break;
    case RULE_ALLOW_STDERR:
      cmp.datum_a = 2;
      rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &cmp);
      break;
    case RULE_ALLOW_NO_EXEC:
      /* (arg2 & PROT_EXEC) == 0 */
      cmp.arg = 2;
      cmp.op = SCMP_CMP_MASKED_EQ;
      cmp.datum_a = PROT_EXEC;
      cmp.datum_b = 0;
      rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &cmp);
      break;
    case RULE_ALLOW_ADVICE: {
      static const int advice[] = {MADV_DONTNEED, MADV_FREE};
      cmp.arg = 2;
      for (size_t i = 0; i < SANDBOX_COUNT(advice) && rc == 0; i++) {
        cmp.datum_a = (scmp_datum_t)advice[i];
        rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &cmp);
      }
      break;
    }
    case RULE_ALLOW_FUTEX_WAKE:
      cmp.arg = 1;
      cmp.datum_a = FUTEX_WAKE_PRIVATE;
      rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &cmp);
      break;
    case RULE_ALLOW_READ_ONLY:
    case RULE_ALLOW_READ_ONLY_OPEN:
      /* (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)) == 0:
       * opening for reading creates, truncates and appends nothing.
       * (O_TMPFILE needs O_WRONLY or O_RDWR.) */
      cmp.arg = r->kind == RULE_ALLOW_READ_ONLY ? 2 : 1;
      cmp.op = SCMP_CMP_MASKED_EQ;
      cmp.datum_a = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND;
      cmp.datum_b = 0;
      rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &cmp);
      break;
    case RULE_ALLOW_UNIX:
      cmp.datum_a = AF_UNIX;
      rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &cmp);
      break;
    case RULE_ERRNO_EACCES:
      rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), nr, 0);
      break;
    case RULE_ERRNO_EACCES_CREATE:
      /* (flags & O_CREAT) == O_CREAT; the read-only rule covers the rest */
      cmp.arg = 1;
      cmp.op = SCMP_CMP_MASKED_EQ;
      cmp.datum_a = O_CREAT;
      cmp.datum_b = O_CREAT;
      rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EACCES), nr, 1, &cmp);
      break;
    default:
      rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
      break;
  }
  if (rc < 0) {
    snprintf(err, err_len, "seccomp: rule for %s: %s", r->name, strerror(-rc));
    return 0;
  }
  return 1;
}

/* sandbox_policy_build returns the filter of policy |id|, not loaded. */
static scmp_filter_ctx sandbox_policy_build(sandbox_policy_id id, int ipc_fd,
                                            char *err, size_t err_len) {
  sandbox_policy p = sandbox_policy_get(id);
  int audit = sandbox_seccomp_audit_requested();
  scmp_filter_ctx ctx =
      seccomp_init(audit ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
  int rc;
  if (ctx == NULL) {
    snprintf(err, err_len, "seccomp_init failed");
    return NULL;
  }
  /* The native arch (x86_64) is the only one in the filter; a system call
   * from another ABI takes the bad-arch action. libseccomp also rejects x32
   * numbers (bit 30 set) under x86_64 with the same action. */
  rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (rc < 0) {
    snprintf(err, err_len, "seccomp: bad-arch action: %s", strerror(-rc));
    seccomp_release(ctx);
    return NULL;
  }
  for (size_t i = 0; i < p.count; i++) {
    if (!sandbox_rule_add(ctx, &p.rules[i], ipc_fd, err, err_len)) {
      seccomp_release(ctx);
      return NULL;
    }
  }
  for (size_t i = 0; i < p.sanitizer_count; i++) {
    if (!sandbox_rule_add(ctx, &p.sanitizer_rules[i], ipc_fd, err, err_len)) {
      seccomp_release(ctx);
      return NULL;
    }
  }
  return ctx;
}

int sandbox_seccomp_install(sandbox_policy_id id, int ipc_fd, char *err,
                            size_t err_len) {
  scmp_filter_ctx ctx = sandbox_policy_build(id, ipc_fd, err, err_len);
  if (ctx == NULL) {
    return 0;
  }
  int rc = seccomp_load(ctx);
  seccomp_release(ctx);
  if (rc < 0) {
    snprintf(err, err_len, "seccomp_load: %s", strerror(-rc));
    return 0;
  }
  return 1;
}

int sandbox_seccomp_export(sandbox_policy_id id, int ipc_fd, int fd, char *err,
                           size_t err_len) {
  scmp_filter_ctx ctx = sandbox_policy_build(id, ipc_fd, err, err_len);
  if (ctx == NULL) {
    return 0;
  }
  int rc = seccomp_export_bpf(ctx, fd);
  seccomp_release(ctx);
  if (rc < 0) {
    snprintf(err, err_len, "seccomp_export_bpf: %s", strerror(-rc));
    return 0;
  }
  return 1;
}
#else
int sandbox_seccomp_install(sandbox_policy_id id, int ipc_fd, char *err,
                            size_t err_len) {
  /* The tables name x86_64 system calls and were measured there only. */
  (void)id;
  (void)ipc_fd;
  snprintf(err, err_len, "seccomp policy is written for x86_64 only");
  return 0;
}

int sandbox_seccomp_export(sandbox_policy_id id, int ipc_fd, int fd, char *err,
                           size_t err_len) {
  (void)fd;
  return sandbox_seccomp_install(id, ipc_fd, err, err_len);
}
#endif
