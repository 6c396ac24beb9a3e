/* sandbox.h: confining a handshaker process after it has loaded its files.
 *
 * sandbox_enter, in this order: CRYPTO_pre_sandbox_init(), tzset(), one
 * RAND_bytes warm-up, close every fd except |keep_fd| and stderr, when root
 * chroot to an empty directory, empty the capability bounding and ambient
 * sets and drop to |user|, setrlimit (NOFILE 0, NPROC 0, FSIZE 0 with
 * SIGXFSZ ignored, CORE 0, AS 256 MB except in sanitizer builds),
 * PR_SET_DUMPABLE 0, PR_SET_NO_NEW_PRIVS 1, then (if |seccomp|) the
 * handshaker's seccomp policy (seccomp_policy.h), in which |keep_fd| is
 * the only socket recvmsg/sendmsg may use. Returns 1, or 0 with a reason in
 * |err|. */
#ifndef REDOUBT_SANDBOX_H
#define REDOUBT_SANDBOX_H

#include <stddef.h>

int sandbox_enter(int keep_fd, const char *user, int seccomp, char *err,
                  size_t err_len);

/* sandbox_policy_describe writes the allowlist, one "syscall: reason" per
 * line (for --check-config and INFO). */
size_t sandbox_policy_describe(char *buf, size_t len);

/* sandbox_run_test_syscall performs the named forbidden call ("openat",
 * "socket", "execve", "ptrace"): compiled only with -DREDOUBT_TEST_HOOKS.
 * Returns 0 if the name is unknown. */
int sandbox_run_test_syscall(const char *name);

#endif
