// spawn_test.cc: the sandboxed-child mechanics of sandbox/spawn.h.
//
// sandbox_spawn starts /proc/self/exe, i.e. this test binary again: a
// constructor below recognises the child's argv before gtest runs and plays
// the child (echo on the IPC socket, report which fds and environment it
// got, exit with a known status; hang until killed; write log lines; ask
// the spawner for keys), or the privileged spawner itself. Also: reaping
// reports the exit status or the signal, the death accounting lets the
// caller's verdict win over the wait status, the respawn backoff doubles to
// its maximum and resets after a stable life, the log relay cuts, cleans and
// rate-limits lines, and the spawner starts, signals, reaps and renices only
// its own children and serves keys only from a start-up key directory.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <string>

#include <sys/resource.h>
#include <sys/stat.h>

#include <vector>

extern "C" {
#include "sandbox/spawn.h"
#include "sandbox/spawner.h"
#include "sandbox/spawner_client.h"
#include "sandbox/spawner_proto.h"
}

extern char **environ;

namespace {
// ForeignEnvironment counts environment entries other than those
// sandbox_child_environment passes through (sanitizer options, the
// seccomp audit switch): a child must have none.
int ForeignEnvironment() {
  static const char *const passed[] = {
      "ASAN_OPTIONS=", "UBSAN_OPTIONS=", "LSAN_OPTIONS=", "TSAN_OPTIONS=",
      "REDOUBT_SECCOMP_AUDIT="};
  int foreign = 0;
  for (char **e = environ; *e != nullptr; e++) {
    bool ok = false;
    for (const char *p : passed) {
      ok |= strncmp(*e, p, strlen(p)) == 0;
    }
    foreign += !ok;
  }
  return foreign;
}
}  // namespace

namespace {

constexpr char kEchoMode[] = "--spawn-test-echo";
constexpr char kHangMode[] = "--spawn-test-hang";
constexpr char kLogMode[] = "--spawn-test-log";
constexpr char kKeysMode[] = "--spawn-test-keys";

// kLogMode: lines written to stderr in three bursts of 100 (after three
// special lines), each burst once the parent said "more" on the IPC socket
// (the relay's kernel buffer need not hold them all at once), then exit 0.
void PlayLogChild() {
  std::string longline(3000, 'x');
  const char *lines[] = {"plain line\n", "bell\a and \x1b[31mescape\n"};
  for (const char *l : lines) {
    ssize_t ignored = write(2, l, strlen(l));
    (void)ignored;
  }
  ssize_t ignored = write(2, longline.data(), longline.size());
  (void)ignored;
  for (int burst = 0; burst < 3; burst++) {
    char go[8];
    if (burst > 0 && recv(SANDBOX_CHILD_FD, go, sizeof(go), 0) <= 0) {
      _exit(3);
    }
    for (int i = 0; i < 100; i++) {
      std::string l = "flood " + std::to_string(burst * 100 + i) + "\n";
      ignored = write(2, l.data(), l.size());
    }
    ignored = send(SANDBOX_CHILD_FD, "done", 4, 0);
  }
  _exit(0);
}

// kKeysMode: reads "<key path>\n<client key path>" on the IPC socket, asks
// the spawner, answers "ok <key> <pass> <client key> <client pass> <env>"
// or "err <reason>".
void PlayKeysChild() {
  char buf[8192];
  ssize_t n = recv(SANDBOX_CHILD_FD, buf, sizeof(buf) - 1, 0);
  if (n <= 0) _exit(3);
  buf[n] = '\0';
  char *nl = strchr(buf, '\n');
  const char *client = nullptr;
  if (nl != nullptr) {
    *nl = '\0';
    client = nl[1] ? nl + 1 : nullptr;
  }
  sandbox_keys keys;
  char err[512] = "";
  int r = sandbox_keys_fetch(buf, client, &keys, err, sizeof(err));
  int env = ForeignEnvironment();
  std::string reply;
  if (r == 1) {
    reply =
        "ok " +
        std::string(reinterpret_cast<const char *>(keys.key), keys.key_len) +
        " " + keys.key_file_pass + " " +
        std::string(reinterpret_cast<const char *>(keys.client_key),
                    keys.client_key_len) +
        " " + keys.client_key_file_pass + " " + std::to_string(env);
    sandbox_keys_free(&keys);
  } else {
    reply = (r == 0 ? "err " : "none ") + std::string(err);
  }
  send(SANDBOX_CHILD_FD, reply.data(), reply.size(), 0);
  _exit(0);
}

// The child side, run before main() when argv says so (glibc passes
// argc/argv to ELF constructors).
__attribute__((constructor)) void SpawnTestChild(int argc, char **argv,
                                                 char **) {
  if (argc != 3 || std::string(argv[2]) != "3") {
    return;
  }
  if (sandbox_is_spawner_invocation(argc, argv)) {
    _exit(sandbox_spawner_main(argc, argv));
  }
  if (std::string(argv[1]) == kLogMode) {
    PlayLogChild();
  }
  if (std::string(argv[1]) == kKeysMode) {
    PlayKeysChild();
  }
  if (std::string(argv[1]) == kHangMode) {
    for (;;) {
      pause();
    }
  }
  if (std::string(argv[1]) != kEchoMode) {
    return;
  }
  char buf[256];
  ssize_t n = recv(SANDBOX_CHILD_FD, buf, sizeof(buf), 0);
  // Report the argv[0] we got and whether any fd above 3 is open.
  int extra_fds = 0;
  for (int fd = SANDBOX_CHILD_FD + 1; fd < 256; fd++) {
    extra_fds += fcntl(fd, F_GETFD) != -1;
  }
  int env = ForeignEnvironment();
  std::string reply = std::string(n > 0 ? buf : "", n > 0 ? n : 0) + " " +
                      argv[0] + " " + std::to_string(extra_fds) +
                      (env == 0 ? "" : " env=" + std::to_string(env));
  send(SANDBOX_CHILD_FD, reply.data(), reply.size(), 0);
  _exit(7);
}

TEST(SpawnTest, ChildGetsTheSocketOnFd3AndNothingElse) {
  sandbox_child child;
  char err[256] = "";
  int stray = open("/dev/null", O_RDONLY);  // not close-on-exec
  ASSERT_GE(stray, 0);
  ASSERT_EQ(1, sandbox_spawn("spawn-test", kEchoMode, 65536, &child, err,
                             sizeof(err)))
      << err;
  close(stray);
  EXPECT_GT(child.pid, 0);
  EXPECT_TRUE(fcntl(child.fd, F_GETFL) & O_NONBLOCK);
  ASSERT_EQ(4, send(child.fd, "ping", 4, 0));
  char buf[256];
  pollfd pfd = {child.fd, POLLIN, 0};
  ASSERT_EQ(1, poll(&pfd, 1, 10000));
  ssize_t n = recv(child.fd, buf, sizeof(buf), 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ("ping spawn-test 0", std::string(buf, n));
  close(child.fd);
  char why[128];
  sandbox_reap(&child, 0, why, sizeof(why));
  EXPECT_STREQ("exited with status 7", why);
  EXPECT_EQ(0, child.pid);
  EXPECT_TRUE(child.have_status);
  EXPECT_TRUE(WIFEXITED(child.status));
}

TEST(SpawnTest, ForcedReapReportsTheSignal) {
  sandbox_child child;
  char err[256] = "";
  ASSERT_EQ(1,
            sandbox_spawn("spawn-test", kHangMode, 0, &child, err, sizeof(err)))
      << err;
  EXPECT_EQ(0, sandbox_try_reap(&child));  // still running
  char why[128];
  sandbox_reap(&child, 1, why, sizeof(why));
  EXPECT_STREQ("killed by signal 9 (SIGKILL)", why);
  close(child.fd);
  EXPECT_EQ(1, sandbox_try_reap(&child));  // nothing left to reap
}

TEST(SpawnTest, DescribeStatusNamesSigsys) {
  char why[160];
  sandbox_describe_status(SIGSYS, why, sizeof(why));  // WTERMSIG == SIGSYS
  EXPECT_STREQ(
      "killed by signal 31 (SIGSYS: the sandbox stopped a forbidden system "
      "call)",
      why);
}

TEST(SpawnTest, DeathRecordLetsTheVerdictWin) {
  sandbox_death_stats stats;
  memset(&stats, 0, sizeof(stats));
  sandbox_child killed = {0, -1, SIGKILL, 1, 0};
  sandbox_death_record(&stats, &killed, SANDBOX_DEATH_PROTOCOL_VIOLATION,
                       "sent a malformed message (protocol violation)",
                       "killed by signal 9 (SIGKILL)");
  sandbox_death_record(&stats, &killed, SANDBOX_DEATH_TIMEOUT,
                       "did not answer a request in time", "x");
  sandbox_child sigsys = {0, -1, SIGSYS, 1, 0};
  sandbox_death_record(&stats, &sigsys, SANDBOX_DEATH_BY_STATUS, "exited",
                       "a=b,c\nd");
  sandbox_child exited = {0, -1, 1 << 8, 1, 0};
  sandbox_death_record(&stats, &exited, SANDBOX_DEATH_BY_STATUS, "exited",
                       "exited with status 1");
  EXPECT_EQ(1, stats.protocol_violations);
  EXPECT_EQ(1, stats.timeouts);
  EXPECT_EQ(1, stats.by_signal[SIGSYS]);
  EXPECT_EQ(0, stats.by_signal[SIGKILL]);
  EXPECT_EQ(1, stats.exits);
  EXPECT_STREQ("exited: exited with status 1", stats.last_reason);
  sandbox_death_record(&stats, &sigsys, SANDBOX_DEATH_BY_STATUS, "exited",
                       "a=b,c\nd");
  EXPECT_STREQ("exited: a b c d", stats.last_reason);  // INFO-safe
}

TEST(SpawnTest, BackoffDoublesToTheMaximumAndResetsAfterAStableLife) {
  sandbox_backoff b;
  sandbox_backoff_reset(&b);
  EXPECT_TRUE(sandbox_backoff_due(&b, 0));
  long long now = 1000;
  long long expected = SANDBOX_RESPAWN_MIN_MS;
  for (int i = 0; i < 8; i++) {
    sandbox_backoff_after_death(&b, 10, now);
    expected = expected * 2 > SANDBOX_RESPAWN_MAX_MS ? SANDBOX_RESPAWN_MAX_MS
                                                     : expected * 2;
    EXPECT_EQ(expected, b.delay_ms);
    EXPECT_FALSE(sandbox_backoff_due(&b, now + expected - 1));
    EXPECT_TRUE(sandbox_backoff_due(&b, now + expected));
  }
  EXPECT_EQ(SANDBOX_RESPAWN_MAX_MS, b.delay_ms);
  sandbox_backoff_after_death(&b, SANDBOX_STABLE_LIFETIME_MS, now);
  EXPECT_EQ(SANDBOX_RESPAWN_MIN_MS, b.delay_ms);
  sandbox_backoff_after_attempt(&b, 1, now);
  EXPECT_EQ(2 * SANDBOX_RESPAWN_MIN_MS, b.delay_ms);
  sandbox_backoff_after_attempt(&b, 0, now);
  EXPECT_EQ(2 * SANDBOX_RESPAWN_MIN_MS, b.delay_ms);
  EXPECT_EQ(now + 2 * SANDBOX_RESPAWN_MIN_MS, b.next_ms);
}

// ---- the log relay ------------------------------------------------------

std::vector<std::string> *g_lines;
void CollectLine(const char *line, void *) { g_lines->push_back(line); }

// A child's stderr is the relay: lines arrive one per write, cut at
// SANDBOX_LOG_MAX_LINE, made printable, and a flood is rate-limited with a
// count of what was dropped.
TEST(SpawnTest, LogRelayCutsCleansAndRateLimits) {
  char err[256] = "";
  ASSERT_EQ(1, sandbox_log_relay_open(err, sizeof(err))) << err;
  ASSERT_GE(sandbox_log_relay_fd(), 0);
  sandbox_child child;
  ASSERT_EQ(1,
            sandbox_spawn("spawn-test", kLogMode, 0, &child, err, sizeof(err)))
      << err;
  std::vector<std::string> lines;
  g_lines = &lines;
  long long now = 1000000;  // no refill during the bursts
  int read_total = 0;
  for (int burst = 0; burst < 3; burst++) {
    if (burst > 0) {
      ASSERT_EQ(4, send(child.fd, "more", 4, 0));
    }
    pollfd pfd = {child.fd, POLLIN, 0};
    ASSERT_EQ(1, poll(&pfd, 1, 10000));
    char done[8];
    ASSERT_EQ(4, recv(child.fd, done, sizeof(done), 0));
    int r;
    while ((r = sandbox_log_relay_drain(CollectLine, nullptr, now)) > 0) {
      EXPECT_LE(r, SANDBOX_LOG_DRAIN_BUDGET);
      read_total += r;
    }
  }
  char why[128];
  sandbox_reap(&child, 0, why, sizeof(why));
  close(child.fd);
  EXPECT_STREQ("exited with status 0", why);
  EXPECT_EQ(303, read_total);
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ("plain line", lines[0]);
  EXPECT_EQ("bell? and ?[31mescape", lines[1]);
  EXPECT_EQ(std::string(SANDBOX_LOG_MAX_LINE, 'x') + " [cut]", lines[2]);
  EXPECT_EQ("flood 0", lines[3]);
  // The burst is SANDBOX_LOG_BURST lines; the rest is counted, reported at
  // most once a second.
  size_t admitted = 0;
  long long dropped = 0;
  for (const std::string &l : lines) {
    long long n = 0;
    if (sscanf(l.c_str(), "%lld handshaker log lines dropped", &n) == 1) {
      dropped += n;
    } else {
      admitted++;
    }
  }
  EXPECT_EQ(static_cast<size_t>(SANDBOX_LOG_BURST), admitted);
  size_t reports = lines.size() - admitted;
  EXPECT_EQ(1u, reports);
  // A second later the rest of the count comes out, and tokens are back.
  sandbox_log_relay_drain(CollectLine, nullptr, now + 1000);
  ASSERT_EQ(reports + 1, lines.size() - admitted);
  sscanf(lines.back().c_str(), "%lld", &dropped);
  long long first = 0;
  for (const std::string &l : lines) {
    if (sscanf(l.c_str(), "%lld handshaker log lines dropped", &first) == 1)
      break;
  }
  EXPECT_EQ(303 - SANDBOX_LOG_BURST, first + dropped);
  g_lines = nullptr;
}

// ---- the privileged spawner ----------------------------------------------

// RunInChild forks, runs |body| in the child and returns its exit status
// (the spawner client is process-wide state: each scenario gets a fresh
// process).
int RunInChild(const std::function<int()> &body) {
  fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    _exit(body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

std::string Ask(int fd, const std::string &request) {
  if (send(fd, request.data(), request.size(), 0) !=
      static_cast<ssize_t>(request.size())) {
    return "send failed";
  }
  pollfd pfd = {fd, POLLIN, 0};
  if (poll(&pfd, 1, 10000) != 1) return "no answer";
  char buf[8192];
  ssize_t n = recv(fd, buf, sizeof(buf), 0);
  return n > 0 ? std::string(buf, n) : "eof";
}

struct SpawnerFixture {
  std::string dir, other;
  SpawnerFixture() {
    char tmpl[] = "/tmp/redoubt-spawner-test-XXXXXX";
    dir = mkdtemp(tmpl);
    other = dir + "/other";
    mkdir(other.c_str(), 0700);
    mkdir((dir + "/keys").c_str(), 0700);
    Write(dir + "/keys/server.key", "SERVERKEY");
    Write(dir + "/keys/client.key", "CLIENTKEY");
    Write(other + "/server.key", "OTHERKEY");
    mkfifo((dir + "/keys/fifo.key").c_str(), 0600);
    symlink((other + "/server.key").c_str(), (dir + "/keys/link.key").c_str());
  }
  ~SpawnerFixture() {
    std::string cmd = "rm -rf '" + dir + "'";
    int ignored = system(cmd.c_str());
    (void)ignored;
  }
  static void Write(const std::string &path, const std::string &text) {
    FILE *f = fopen(path.c_str(), "w");
    fputs(text.c_str(), f);
    fclose(f);
  }
};

const char *const kChildKinds[] = {kEchoMode, kKeysMode, nullptr};

int StartSpawner(const SpawnerFixture &fx, char *err, size_t err_len) {
  sandbox_spawner_allow_children(kChildKinds);
  std::string key = fx.dir + "/keys/server.key";
  sandbox_spawner_config config = {};
  config.argv0 = "spawn-test";
  config.key_file = key.c_str();
  config.key_file_pass = "secret pass";
  config.client_key_file_pass = "";
  config.seccomp = 0;  // the filter is tested on the real server
  return sandbox_spawner_start(&config, err, err_len);
}

// Children are the spawner's: spawned, signalled, reaped and reniced
// through it, with the same results as spawn.h gives for main's own.
TEST(SpawnerTest, StartsSignalsReapsAndRenicesItsChildren) {
  SpawnerFixture fx;
  int code = RunInChild([&] {
    char err[512] = "";
    if (!StartSpawner(fx, err, sizeof(err))) return 10;
    if (!sandbox_spawner_active() || sandbox_spawner_pid() <= 0) return 11;
    sandbox_child child;
    if (!sandbox_spawn("spawn-test", kEchoMode, 65536, &child, err,
                       sizeof(err)) ||
        !child.via_spawner || child.pid <= 0) {
      return 12;
    }
    if (!(fcntl(child.fd, F_GETFL) & O_NONBLOCK)) return 13;
    // fd 4 is the child's key socket; its environment is empty.
    if (Ask(child.fd, "ping") != "ping spawn-test 1") return 14;
    if (sandbox_set_nice(&child, 11) != 0) return 15;
    if (getpriority(PRIO_PROCESS, (id_t)child.pid) != 11) return 16;
    close(child.fd);
    char why[256];
    sandbox_reap(&child, 0, why, sizeof(why));
    if (std::string(why) != "exited with status 7" || child.pid != 0) return 17;
    // A hanging child: try_reap says running, a forced reap kills it.
    if (!sandbox_spawn("spawn-test", kEchoMode, 0, &child, err, sizeof(err))) {
      return 18;
    }
    if (sandbox_try_reap(&child) != 0) return 19;
    sandbox_kill(&child);
    sandbox_reap(&child, 0, why, sizeof(why));
    if (std::string(why) != "killed by signal 9 (SIGKILL)") return 20;
    close(child.fd);
    // Only its own children: not main, not a stranger.
    if (sandbox_spawner_kill(getpid(), err, sizeof(err))) return 21;
    if (std::string(err).find("not a handshaker") == std::string::npos)
      return 22;
    if (sandbox_spawner_set_nice(1, 19, err, sizeof(err))) return 23;
    // Only the kinds of child it was told at start.
    if (sandbox_spawn("spawn-test", kHangMode, 0, &child, err, sizeof(err)))
      return 24;
    return 0;
  });
  EXPECT_EQ(0, code);
}

// A child asks for its keys by path: served from the start-up key
// directory only, with the passphrase main no longer has.
TEST(SpawnerTest, ServesKeysFromTheStartUpKeyDirectoryOnly) {
  SpawnerFixture fx;
  int code = RunInChild([&] {
    char err[512] = "";
    if (!StartSpawner(fx, err, sizeof(err))) return 10;
    struct Case {
      std::string request, want_prefix;
    } cases[] = {
        {fx.dir + "/keys/server.key", "ok SERVERKEY secret pass   0"},
        {fx.dir + "/keys/server.key\n" + fx.dir + "/keys/client.key",
         "ok SERVERKEY secret pass CLIENTKEY  0"},
        // certbot's live/ directory: a symlink in the key directory
        {fx.dir + "/keys/link.key", "ok OTHERKEY"},
        {fx.other + "/server.key", "err key file"},
        {fx.dir + "/keys/../other/server.key", "err key file"},
        {fx.dir + "/keys/server.key\n" + fx.other + "/server.key",
         "err key file"},
        {fx.dir + "/keys/fifo.key", "err"},
        {fx.dir + "/keys/missing.key", "err"},
        {fx.dir + "/keys/..", "err"},
    };
    int i = 0;
    for (const Case &c : cases) {
      sandbox_child child;
      if (!sandbox_spawn("spawn-test", kKeysMode, 0, &child, err,
                         sizeof(err))) {
        return 11;
      }
      std::string got = Ask(child.fd, c.request);
      if (got.compare(0, c.want_prefix.size(), c.want_prefix) != 0) {
        fprintf(stderr, "case %d: %s -> %s\n", i, c.request.c_str(),
                got.c_str());
        return 20 + i;
      }
      close(child.fd);
      char why[256];
      sandbox_reap(&child, 0, why, sizeof(why));
      i++;
    }
    return 0;
  });
  EXPECT_EQ(0, code);
}

// Without a spawner a child is told so (and loads its files itself).
TEST(SpawnerTest, ChildOfMainHasNoKeySocket) {
  sandbox_child child;
  char err[256] = "";
  ASSERT_EQ(1,
            sandbox_spawn("spawn-test", kKeysMode, 0, &child, err, sizeof(err)))
      << err;
  EXPECT_EQ("none ", Ask(child.fd, "/etc/passwd"));
  close(child.fd);
  char why[128];
  sandbox_reap(&child, 0, why, sizeof(why));
}

}  // namespace
