/* internal.h: declarations shared between the files of sandbox/ only. */
#ifndef REDOUBT_SANDBOX_INTERNAL_H
#define REDOUBT_SANDBOX_INTERNAL_H

#include <stddef.h>

/* sandbox_seccomp_install loads the handshaker's seccomp filter
 * (seccomp_policy.c) with default action KILL_PROCESS. PR_SET_NO_NEW_PRIVS
 * must already be set. Returns 1, or 0 with a reason in |err|. */
int sandbox_seccomp_install(char *err, size_t err_len);

#endif
