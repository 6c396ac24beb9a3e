// spawn_test.cc: the sandboxed-child mechanics of sandbox/spawn.h.
//
// sandbox_spawn starts /proc/self/exe, i.e. this test binary again: a
// constructor below recognises the child's argv before gtest runs and plays
// the child (echo on the IPC socket, report which fds it got, exit with a
// known status; or hang until killed). Also: reaping reports the exit
// status or the signal, the death accounting lets the caller's verdict win
// over the wait status, and the respawn backoff doubles to its maximum and
// resets after a stable life.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

extern "C" {
#include "sandbox/spawn.h"
}

namespace {

constexpr char kEchoMode[] = "--spawn-test-echo";
constexpr char kHangMode[] = "--spawn-test-hang";

// The child side, run before main() when argv says so (glibc passes
// argc/argv to ELF constructors).
__attribute__((constructor)) void SpawnTestChild(int argc, char **argv,
                                                 char **) {
  if (argc != 3 || std::string(argv[2]) != "3") {
    return;
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
  std::string reply = std::string(n > 0 ? buf : "", n > 0 ? n : 0) + " " +
                      argv[0] + " " + std::to_string(extra_fds);
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
  sandbox_child killed = {0, -1, SIGKILL, 1};
  sandbox_death_record(&stats, &killed, SANDBOX_DEATH_PROTOCOL_VIOLATION,
                       "sent a malformed message (protocol violation)",
                       "killed by signal 9 (SIGKILL)");
  sandbox_death_record(&stats, &killed, SANDBOX_DEATH_TIMEOUT,
                       "did not answer a request in time", "x");
  sandbox_child sigsys = {0, -1, SIGSYS, 1};
  sandbox_death_record(&stats, &sigsys, SANDBOX_DEATH_BY_STATUS, "exited",
                       "a=b,c\nd");
  sandbox_child exited = {0, -1, 1 << 8, 1};
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

}  // namespace
