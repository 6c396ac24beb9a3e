// log_test: server_log / security_log write Redis's line format, honour the
// verbosity filter and append to server_log_settings.file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <string>
#include <vector>

extern "C" {
#include "server/base/log.h"
}

namespace {
char *saved_logfile;
int saved_verbosity;
pid_t saved_pid;

void log_test_configure(char *logfile, int verbosity) {
  saved_logfile = server_log_settings.file;
  saved_verbosity = server_log_settings.verbosity;
  saved_pid = server_log_settings.main_pid;
  server_log_settings.file = logfile;
  server_log_settings.verbosity = verbosity;
  server_log_settings.main_pid = getpid();
}

void log_test_set_verbosity(int verbosity) {
  server_log_settings.verbosity = verbosity;
}

void log_test_restore() {
  server_log_settings.file = saved_logfile;
  server_log_settings.verbosity = saved_verbosity;
  server_log_settings.main_pid = saved_pid;
}
}  // namespace
#define LOG_MAX_LEN 1024

namespace {

std::vector<std::string> ReadLines(const std::string &path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/redoubt_log_testXXXXXX";
    int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    close(fd);
    path_ = tmpl;
    log_test_configure(const_cast<char *>(path_.c_str()), LL_NOTICE);
  }
  void TearDown() override {
    log_test_restore();
    unlink(path_.c_str());
  }
  std::string path_;
};

const char kPrefix[] =
    R"(^\d+:M \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}\.\d{3} )";

TEST_F(LogTest, LineFormatAndLevels) {
  server_log(LL_WARNING, "hello %d", 42);
  server_log(LL_DEBUG, "hidden debug");
  server_log(LL_VERBOSE, "hidden verbose");
  server_log(LL_NOTICE, "a notice");
  std::vector<std::string> lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(std::regex_search(
      lines[0], std::regex(std::string(kPrefix) + "# hello 42$")))
      << lines[0];
  EXPECT_TRUE(std::regex_search(
      lines[1], std::regex(std::string(kPrefix) + R"(\* a notice$)")))
      << lines[1];
  EXPECT_EQ(lines[0].substr(0, lines[0].find(':')), std::to_string(getpid()));
}

TEST_F(LogTest, VerbosityDebugShowsEverything) {
  log_test_set_verbosity(LL_DEBUG);
  server_log(LL_DEBUG, "d");
  server_log(LL_VERBOSE, "v");
  std::vector<std::string> lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(std::regex_search(lines[0],
                                std::regex(std::string(kPrefix) + R"(\. d$)")));
  EXPECT_TRUE(
      std::regex_search(lines[1], std::regex(std::string(kPrefix) + "- v$")));
}

TEST_F(LogTest, SecurityEventLine) {
  security_log("tls_handshake_failed", "peer=%s reason=%s", "127.0.0.1:5000",
               "bad_record");
  security_log("handshaker_respawn", "%s", "");
  std::vector<std::string> lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(std::regex_search(
      lines[0],
      std::regex(
          std::string(kPrefix) +
          R"(\* security event=tls_handshake_failed peer=127\.0\.0\.1:5000 reason=bad_record$)")))
      << lines[0];
  EXPECT_TRUE(std::regex_search(
      lines[1], std::regex(std::string(kPrefix) +
                           R"(\* security event=handshaker_respawn$)")))
      << lines[1];
}

TEST_F(LogTest, SecurityEventHiddenAtWarningVerbosity) {
  log_test_set_verbosity(LL_WARNING);
  security_log("x", "a=%d", 1);
  EXPECT_TRUE(ReadLines(path_).empty());
}

// A flood of one event from one source writes its first line, then one
// summary with the count; another source or cause still gets its own line.
TEST_F(LogTest, PeerEventsAreAggregated) {
  security_log_flush();
  for (int i = 0; i < 1000; i++) {
    security_log_peer("tls_handshake_failed", "10.0.0.1", "handshake timed out",
                      "peer=10.0.0.1:%d reason=\"handshake timed out\"",
                      1000 + i);
  }
  security_log_peer("tls_handshake_failed", "10.0.0.2", "handshake timed out",
                    "peer=10.0.0.2:5 reason=x");
  security_log_peer("tls_handshake_failed", "10.0.0.1", "bad \"record\"",
                    "peer=10.0.0.1:6 reason=y");
  std::vector<std::string> lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("security event=tls_handshake_failed "
                          "peer=10.0.0.1:1000 reason=\"handshake timed out\""),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[1].find("peer=10.0.0.2:5"), std::string::npos);
  EXPECT_NE(lines[2].find("peer=10.0.0.1:6"), std::string::npos);
  security_log_flush();
  lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_TRUE(std::regex_search(
      lines[3],
      std::regex(std::string(kPrefix) +
                 R"(\* security event=tls_handshake_failed source=10\.0\.0\.1 )"
                 R"(cause="handshake timed out" suppressed=999 window=10s$)")))
      << lines[3];
  // A new window: the first event is written again.
  security_log_peer("tls_handshake_failed", "10.0.0.1", "handshake timed out",
                    "again");
  EXPECT_EQ(ReadLines(path_).size(), 5u);
  security_log_flush();
  EXPECT_EQ(ReadLines(path_).size(), 5u);  // nothing repeated: no summary
}

// Many sources: the first SECURITY_LOG_MAX_SOURCES get a line each, the
// rest are counted under source=others; another event is still written.
TEST_F(LogTest, PeerEventsFromManySourcesShareOneCount) {
  security_log_flush();
  for (int i = 0; i < 5000; i++) {
    char ip[32];
    snprintf(ip, sizeof(ip), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
    security_log_peer("tls_handshake_failed", ip, "garbage", "peer=%s", ip);
  }
  security_log_peer("tls_client_refused", "10.9.9.9", "no certificate",
                    "peer=10.9.9.9:1");
  security_log_flush();
  std::vector<std::string> lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), SECURITY_LOG_MAX_SOURCES + 2u);
  EXPECT_NE(lines[SECURITY_LOG_MAX_SOURCES].find(
                "security event=tls_client_refused peer=10.9.9.9:1"),
            std::string::npos);
  EXPECT_NE(lines.back().find("source=others cause=\"garbage\" suppressed=" +
                              std::to_string(5000 - SECURITY_LOG_MAX_SOURCES)),
            std::string::npos)
      << lines.back();
}

TEST_F(LogTest, LongMessageIsTruncatedNotOverflowed) {
  std::string big(LOG_MAX_LEN * 4, 'q');
  server_log(LL_WARNING, "%s", big.c_str());
  std::vector<std::string> lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_LT(lines[0].size(), static_cast<size_t>(LOG_MAX_LEN) + 64);
}

TEST_F(LogTest, RawModeWritesVerbatim) {
  server_log_raw(LL_WARNING | LL_RAW, "raw text\n");
  std::vector<std::string> lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "raw text");
}

}  // namespace
