/* seccomp_policy.h: the two system-call allowlists of sandbox/ and the
 * functions that load, export and print them (seccomp_policy.c).
 *
 *   SANDBOX_POLICY_HANDSHAKER  what a handshaker may do once it has loaded
 *                              its material (sandbox_enter's last step);
 *   SANDBOX_POLICY_SPAWNER     what the privileged spawner (spawner.h) may
 *                              do: serve main's requests, read key files,
 *                              start handshakers. A filter is inherited
 *                              across fork and exec, so this list also
 *                              covers a handshaker's start-up up to its own
 *                              (stricter) filter.
 *
 * Both default to killing the process (SIGSYS); a system call from another
 * ABI (i386, x32) kills too. Test builds (-DREDOUBT_TEST_HOOKS) have an
 * audit variant, chosen by REDOUBT_SECCOMP_AUDIT=1 in the environment of the
 * process that installs the filter: every call the policy would refuse is
 * allowed and logged by the kernel instead (SECCOMP_RET_LOG: an audit
 * record, type=1326, in the kernel log), which is how the lists were
 * proven against the test suites (utils/seccomp-audit.sh). */
#ifndef REDOUBT_SANDBOX_SECCOMP_POLICY_H
#define REDOUBT_SANDBOX_SECCOMP_POLICY_H

#include <stddef.h>

typedef enum {
  SANDBOX_POLICY_HANDSHAKER = 0,
  SANDBOX_POLICY_SPAWNER = 1
} sandbox_policy_id;

/* The environment variable of the audit variant (test builds only). */
#define SANDBOX_SECCOMP_AUDIT_ENV "REDOUBT_SECCOMP_AUDIT"

/* sandbox_seccomp_install loads policy |id| into the calling process
 * (PR_SET_NO_NEW_PRIVS must already be set). |ipc_fd| is the only fd
 * recvmsg/sendmsg may use (handshaker: its IPC socket; -1: none). Returns
 * 1, or 0 with a reason in |err|. */
int sandbox_seccomp_install(sandbox_policy_id id, int ipc_fd, char *err,
                            size_t err_len);

/* sandbox_seccomp_export writes the BPF program that
 * sandbox_seccomp_install(|id|, |ipc_fd|) would load (struct sock_filter
 * array, as the kernel returns it from PTRACE_SECCOMP_GET_FILTER) to |fd|.
 * Returns 1, or 0 with |err|. */
int sandbox_seccomp_export(sandbox_policy_id id, int ipc_fd, int fd, char *err,
                           size_t err_len);

/* sandbox_seccomp_audit_requested returns 1 in a test build whose
 * environment asks for the audit variant, else 0. */
int sandbox_seccomp_audit_requested(void);

/* sandbox_seccomp_describe writes policy |id|, one "syscall [limit]:
 * reason" per line, like snprintf (returns the length wanted). */
size_t sandbox_seccomp_describe(sandbox_policy_id id, char *buf, size_t len);

#endif
