/* seccomp_policy.c: the handshaker's system-call allowlist.
 *
 * After sandbox_enter the handshaker only reads requests from its IPC socket,
 * runs BoringSSL on memory BIOs and writes answers back (tls/handshaker.c).
 * The list below was measured (research/split-handshake/seccomp_notes.txt:
 * strace -f over ~4,000 handshakes, then confirmed under KILL_PROCESS) and
 * re-checked by tests/unit/sandbox_test.cc, which runs full TLS 1.2 and 1.3
 * handshakes (RSA and ECDSA, client certificates, resumption) inside the
 * filter. Everything not listed kills the whole process with SIGSYS; main
 * sees the death, fails that handshaker's in-flight handshakes and respawns.
 *
 * Layout, as in OpenSSH's sandbox-seccomp-filter.c:
 *   1. architecture check: only x86_64 system calls; any other ABI (i386 via
 *      int 0x80, x32) kills the process;
 *   2. the allowlist table, one reason per rule, some with argument limits;
 *   3. default: SCMP_ACT_KILL_PROCESS. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "sandbox/internal.h"
#include "sandbox/sandbox.h"

typedef enum {
  RULE_ALLOW,         /* any arguments */
  RULE_ALLOW_STDERR,  /* only when argument 0 (the fd) is 2 */
  RULE_ALLOW_NO_EXEC, /* only when argument 2 (prot) lacks PROT_EXEC */
} sandbox_rule_kind;

typedef struct sandbox_rule {
  const char *name; /* resolved with libseccomp for the native arch */
  sandbox_rule_kind kind;
  const char *reason;
} sandbox_rule;

/* The allowlist. Keep it short; every line must say why. */
static const sandbox_rule sandbox_rules[] = {
    /* IPC with main: one datagram per message on the SOCK_SEQPACKET pair. */
    {"recvmsg", RULE_ALLOW, "read requests (records) from main"},
    {"sendmsg", RULE_ALLOW, "send answers (flights, handback) to main"},
    /* Memory. */
    {"brk", RULE_ALLOW, "malloc growth of the main arena"},
    {"mmap", RULE_ALLOW_NO_EXEC,
     "malloc of large blocks; never executable memory"},
    {"munmap", RULE_ALLOW, "free of large blocks"},
    {"mremap", RULE_ALLOW, "realloc of large blocks (cannot add PROT_EXEC)"},
    {"mprotect", RULE_ALLOW_NO_EXEC,
     "malloc arena set-up/guard pages; never to executable"},
    {"madvise", RULE_ALLOW, "malloc trimming (MADV_DONTNEED)"},
    /* Randomness and time. */
    {"getrandom", RULE_ALLOW, "BoringSSL DRBG reseed every 4096 RAND calls"},
    {"clock_gettime", RULE_ALLOW,
     "ticket/session ages (normally vDSO; allowed if the clocksource "
     "forces a real syscall)"},
    {"gettimeofday", RULE_ALLOW, "as clock_gettime (BoringSSL current time)"},
    {"time", RULE_ALLOW, "as clock_gettime (time(NULL))"},
    /* Threads/once-init and signals. */
    {"futex", RULE_ALLOW, "CRYPTO_once/pthread_once wake-ups on first use"},
    {"rt_sigreturn", RULE_ALLOW, "return from a signal handler"},
    /* Logging and exit. */
    {"write", RULE_ALLOW_STDERR, "log lines to stderr (fd 2) only"},
    {"exit_group", RULE_ALLOW, "exit when main closes the socket"},
    {"exit", RULE_ALLOW, "thread exit (glibc may use it on the exit path)"},
};

#define SANDBOX_RULE_COUNT (sizeof(sandbox_rules) / sizeof(sandbox_rules[0]))

/* Sanitizer builds (--config=asan) only: the ASan/UBSan runtime itself makes
 * calls the handshaker never does (stack bookkeeping, error reports). Never
 * compiled into a release binary; the release policy is the table above. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || \
    __has_feature(undefined_behavior_sanitizer)
#define SANDBOX_SANITIZER_BUILD 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define SANDBOX_SANITIZER_BUILD 1
#endif

#ifdef SANDBOX_SANITIZER_BUILD
static const sandbox_rule sandbox_sanitizer_rules[] = {
    {"sigaltstack", RULE_ALLOW, "ASan runtime: alternate signal stack checks"},
};
#define SANDBOX_SANITIZER_RULE_COUNT \
  (sizeof(sandbox_sanitizer_rules) / sizeof(sandbox_sanitizer_rules[0]))
#endif

static const char *sandbox_rule_limit(sandbox_rule_kind kind) {
  switch (kind) {
    case RULE_ALLOW_STDERR:
      return " [fd == 2]";
    case RULE_ALLOW_NO_EXEC:
      return " [prot without PROT_EXEC]";
    default:
      return "";
  }
}

size_t sandbox_policy_describe(char *buf, size_t len) {
  size_t used = 0;
  int n = snprintf(buf, len,
                   "arch: x86_64 only (other ABIs: kill process)\n"
                   "default: kill process (SIGSYS)\n");
  if (n < 0) {
    return 0;
  }
  used = (size_t)n;
  for (size_t i = 0; i < SANDBOX_RULE_COUNT; i++) {
    const sandbox_rule *r = &sandbox_rules[i];
    n = snprintf(used < len ? buf + used : NULL, used < len ? len - used : 0,
                 "%s%s: %s\n", r->name, sandbox_rule_limit(r->kind), r->reason);
    if (n < 0) {
      return 0;
    }
    used += (size_t)n;
  }
  /* Like snprintf: the return value is the length wanted; the text is
   * truncated (but NUL-terminated) when it does not fit. */
  return used;
}

#if defined(__x86_64__)
static int sandbox_rule_add(scmp_filter_ctx ctx, const sandbox_rule *r,
                            char *err, size_t err_len) {
  int nr = seccomp_syscall_resolve_name(r->name);
  int rc;
  if (nr == __NR_SCMP_ERROR) {
    snprintf(err, err_len, "seccomp: unknown syscall %s", r->name);
    return 0;
  }
  switch (r->kind) {
    case RULE_ALLOW_STDERR: {
      /* arg0 (fd) == 2. Spelled out: libseccomp's SCMP_A0() macro leaves
       * fields implicit, which clang's -Wmissing-field-initializers rejects. */
      struct scmp_arg_cmp fd_is_stderr = {
          .arg = 0, .op = SCMP_CMP_EQ, .datum_a = 2, .datum_b = 0};
      rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &fd_is_stderr);
      break;
    }
    case RULE_ALLOW_NO_EXEC: {
      /* (arg2 & PROT_EXEC) == 0 */
      struct scmp_arg_cmp prot_no_exec = {.arg = 2,
                                          .op = SCMP_CMP_MASKED_EQ,
                                          .datum_a = PROT_EXEC,
                                          .datum_b = 0};
      rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &prot_no_exec);
      break;
    }
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

int sandbox_seccomp_install(char *err, size_t err_len) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  int rc;
  if (ctx == NULL) {
    snprintf(err, err_len, "seccomp_init failed");
    return 0;
  }
  /* The native arch (x86_64) is the only one in the filter; a system call
   * from another ABI takes the bad-arch action. libseccomp also rejects x32
   * numbers (bit 30 set) under x86_64 with the same action. */
  rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (rc < 0) {
    snprintf(err, err_len, "seccomp: bad-arch action: %s", strerror(-rc));
    seccomp_release(ctx);
    return 0;
  }
  for (size_t i = 0; i < SANDBOX_RULE_COUNT; i++) {
    if (!sandbox_rule_add(ctx, &sandbox_rules[i], err, err_len)) {
      seccomp_release(ctx);
      return 0;
    }
  }
#ifdef SANDBOX_SANITIZER_BUILD
  for (size_t i = 0; i < SANDBOX_SANITIZER_RULE_COUNT; i++) {
    if (!sandbox_rule_add(ctx, &sandbox_sanitizer_rules[i], err, err_len)) {
      seccomp_release(ctx);
      return 0;
    }
  }
#endif
  rc = seccomp_load(ctx);
  seccomp_release(ctx);
  if (rc < 0) {
    snprintf(err, err_len, "seccomp_load: %s", strerror(-rc));
    return 0;
  }
  return 1;
}
#else
int sandbox_seccomp_install(char *err, size_t err_len) {
  /* The table names x86_64 system calls and was measured there only. */
  snprintf(err, err_len, "seccomp policy is written for x86_64 only");
  return 0;
}
#endif
