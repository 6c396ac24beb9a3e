/* privsep.c: privilege separation of the server process and the log relay
 * of its sandboxed children (see privsep.h).
 *
 * What holds once main has dropped to server-user (and is tested in
 * tests/integration/test_privsep.py): main's uid is server-user's, it holds
 * no capability and can gain none (empty bounding set, no_new_privs), it
 * cannot open the TLS key files (root-only) and never had the passphrases
 * in memory after start-up (the spawner holds them; CONFIG GET shows
 * "(redacted)"). Handshakers are started by the spawner, get their keys
 * from it and sandbox themselves as before; certificate reload and the
 * replication client key work through it. What does not hold: main keeps
 * what it loaded as root (the configuration, the listening sockets), and
 * whatever server-user may read, main may read too; files main writes later
 * (RDB, AOF, CONFIG REWRITE, the log) must be writable by server-user. */
#include "server/privsep.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "sandbox/spawn.h"
#include "sandbox/spawner_client.h"
#include "server/base/log.h"
#include "server/config/config.h"
#include "server/core/server.h"

static struct {
  int planned; /* privsep_start decided to drop */
  int active;  /* privsep_drop did */
  uid_t uid;
  gid_t gid;
  char user[256];
} privsep;

int privsep_active(void) { return privsep.active; }

/* ---- the log relay ---------------------------------------------------- */

static void privsep_log_line(const char *line, void *arg) {
  (void)arg;
  /* A fixed prefix: a child cannot make its line look like main's. */
  server_log(LL_NOTICE, "child: %s", line);
}

static void privsep_relay_readable(ae_loop *loop, int fd, void *data,
                                   int mask) {
  (void)loop;
  (void)fd;
  (void)data;
  (void)mask;
  sandbox_log_relay_drain(privsep_log_line, NULL,
                          (long long)(ae_monotonic_us() / 1000));
}

/* ---- start ------------------------------------------------------------ */

/* privsep_clear_bounding_set empties this thread's capability bounding set
 * (before the handshake-completion thread exists, which inherits it) and
 * sets no_new_privs: nothing main or its forks exec can gain a capability.
 * The effective set is untouched: binding ports and the uid drop still
 * work. */
static int privsep_clear_bounding_set(char *err, size_t err_len) {
  for (unsigned long cap = 0; cap <= 63; cap++) {
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) {
      break;
    }
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      snprintf(err, err_len, "PR_CAPBSET_DROP: %s", strerror(errno));
      return 0;
    }
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    snprintf(err, err_len, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
    return 0;
  }
  return 1;
}

int privsep_start(ae_loop *loop, char *err, size_t err_len) {
  if (!sandbox_log_relay_open(err, err_len)) {
    return 0;
  }
  if (ae_add_file_event(loop, sandbox_log_relay_fd(), AE_READABLE,
                        privsep_relay_readable, NULL) != 0) {
    snprintf(err, err_len, "cannot watch the log relay");
    return 0;
  }
  const char *name = server.server_user;
  if (geteuid() != 0 || name == NULL || name[0] == '\0') {
    return 1; /* nothing changes */
  }
  errno = 0;
  struct passwd *pw = getpwnam(name);
  if (pw == NULL) {
    if (strcmp(name, PRIVSEP_DEFAULT_USER) == 0) {
      server_log(LL_WARNING,
                 "WARNING: running as root and the server-user account '%s' "
                 "does not exist: main keeps root, so a bug in command "
                 "processing could read the TLS private keys. Create the "
                 "account or set server-user (README, \"Privilege "
                 "separation\").",
                 name);
      return 1;
    }
    snprintf(err, err_len, "server-user '%.64s' not found%s%s", name,
             errno ? ": " : "", errno ? strerror(errno) : "");
    return 0;
  }
  if (pw->pw_uid == 0) {
    snprintf(err, err_len, "server-user '%.64s' is root", name);
    return 0;
  }
  privsep.uid = pw->pw_uid;
  privsep.gid = pw->pw_gid;
  snprintf(privsep.user, sizeof(privsep.user), "%s", name);

  sandbox_spawner_config config = {
      .argv0 = server.executable,
      .sandbox_user = server.sandbox_user,
      .key_file = server_tls_options.key_file,
      .client_key_file = server_tls_options.client_key_file,
      .key_file_pass = server_tls_options.key_file_pass,
      .client_key_file_pass = server_tls_options.client_key_file_pass,
      .seccomp = server.sandbox_seccomp,
  };
  char why[512];
  if (!sandbox_spawner_start(&config, why, sizeof(why))) {
    snprintf(err, err_len, "cannot start the privileged spawner: %s", why);
    return 0;
  }
  /* From here on main holds no passphrase. */
  config_hand_over_key_passes();
  if (!privsep_clear_bounding_set(err, err_len)) {
    return 0;
  }
  privsep.planned = 1;
  server_log(LL_NOTICE,
             "Privilege separation: the spawner (pid %d) holds the TLS keys' "
             "passphrases and starts the handshakers",
             (int)sandbox_spawner_pid());
  return 1;
}

/* ---- drop ------------------------------------------------------------- */

/* privsep_own_logfile makes the log file (created if missing) server-user's:
 * the logger reopens it by name for every line. */
static void privsep_own_logfile(void) {
  const char *path = server_log_settings.file;
  if (path == NULL || path[0] == '\0') {
    return; /* stdout: an open descriptor, nothing to do */
  }
  int fd =
      open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0 || fchown(fd, privsep.uid, privsep.gid) != 0) {
    server_log(LL_WARNING, "Privilege separation: cannot give %s to %s: %s",
               path, privsep.user, strerror(errno));
  }
  if (fd >= 0) {
    close(fd);
  }
}

int privsep_drop(char *err, size_t err_len) {
  if (!privsep.planned) {
    return 1;
  }
  privsep_own_logfile();
  if (initgroups(privsep.user, privsep.gid) != 0) {
    snprintf(err, err_len, "initgroups: %s", strerror(errno));
    return 0;
  }
  if (setresgid(privsep.gid, privsep.gid, privsep.gid) != 0) {
    snprintf(err, err_len, "setresgid: %s", strerror(errno));
    return 0;
  }
  if (setresuid(privsep.uid, privsep.uid, privsep.uid) != 0) {
    snprintf(err, err_len, "setresuid: %s", strerror(errno));
    return 0;
  }
  /* Prove the drop is permanent (OpenSSH's permanently_set_uid check). */
  uid_t r, e, s;
  if (setuid(0) == 0 || seteuid(0) == 0 || getresuid(&r, &e, &s) != 0 ||
      r != privsep.uid || e != privsep.uid || s != privsep.uid) {
    snprintf(err, err_len, "could regain root after setresuid");
    return 0;
  }
  privsep.active = 1;
  server_log(LL_NOTICE,
             "Privilege separation: main now runs as %s (uid %d, gid %d)",
             privsep.user, (int)privsep.uid, (int)privsep.gid);
  if (access(".", W_OK) != 0) {
    server_log(LL_WARNING,
               "WARNING: the working directory (dir) is not writable by %s: "
               "RDB and AOF files cannot be written there",
               privsep.user);
  }
  return 1;
}
