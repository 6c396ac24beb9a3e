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
