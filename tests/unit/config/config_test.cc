// config_test.cc: the configuration module (server/config.h).
//
// What a user sees: Redis 7.0 defaults; redis.conf parsing (quotes, units,
// aliases, include, accumulated `save` lines) and its FATAL error text with
// the file and line; the command-line option syntax; CONFIG SET validation
// texts byte for byte as Redis 7.0.15 replies them, atomic rollback; and
// CONFIG REWRITE keeping comments and unknown lines while updating values.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

extern "C" {
#include "server/config/config.h"
#include "server/core/server.h"
}

namespace {

std::string Get(const char *name) {
  sds v = config_get_value(name);
  if (v == nullptr) {
    return "<none>";
  }
  std::string s(v, sds_len(v));
  sds_free(v);
  return s;
}

// Load(text) parses a configuration text without side effects; returns ""
// on success or the full FATAL text.
std::string Load(const std::string &text, const char *source = "/x.conf",
                 int no_side_effects = 1) {
  const char *err = nullptr;
  if (config_load_string(text.data(), text.size(), source, no_side_effects,
                         &err)) {
    return "";
  }
  return err;
}

// Set(name, value) runs CONFIG SET's logic; returns "OK" or the error text.
std::string Set(const char *name, const char *value) {
  const char *err = nullptr;
  if (config_set_value(name, value, &err)) {
    return "OK";
  }
  return err;
}

std::string Fatal(const std::string &where, const std::string &line,
                  const std::string &msg) {
  return "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n" + where + "\n" +
         ">>> '" + line + "'\n" + msg + "\n";
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/config_test.XXXXXX";
    char *d = mkdtemp(tmpl);
    EXPECT_NE(d, nullptr);
    path_ = d ? d : "/tmp";
  }
  ~TempDir() {
    std::string cmd = "rm -rf '" + path_ + "'";
    (void)system(cmd.c_str());
  }
  std::string Write(const std::string &name, const std::string &content) {
    std::string p = path_ + "/" + name;
    std::ofstream(p) << content;
    return p;
  }
  std::string Read(const std::string &name) {
    std::ifstream in(path_ + "/" + name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  const std::string &path() const { return path_; }

 private:
  std::string path_;
};

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { config_init_defaults(); }
  void TearDown() override { config_init_defaults(); }
};

TEST_F(ConfigTest, DefaultsAreRedis70) {
  EXPECT_EQ(Get("port"), "6379");
  EXPECT_EQ(Get("tcp-backlog"), "511");
  EXPECT_EQ(Get("timeout"), "0");
  EXPECT_EQ(Get("tcp-keepalive"), "300");
  EXPECT_EQ(Get("databases"), "16");
  EXPECT_EQ(Get("maxclients"), "10000");
  EXPECT_EQ(Get("maxmemory"), "0");
  EXPECT_EQ(Get("maxmemory-policy"), "noeviction");
  EXPECT_EQ(Get("maxmemory-samples"), "5");
  EXPECT_EQ(Get("hz"), "10");
  EXPECT_EQ(Get("slowlog-log-slower-than"), "10000");
  EXPECT_EQ(Get("slowlog-max-len"), "128");
  EXPECT_EQ(Get("proto-max-bulk-len"), "536870912");
  EXPECT_EQ(Get("client-query-buffer-limit"), "1073741824");
  EXPECT_EQ(Get("client-output-buffer-limit"),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 "
            "8388608 60");
  EXPECT_EQ(Get("loglevel"), "notice");
  EXPECT_EQ(Get("logfile"), "");
  EXPECT_EQ(Get("pidfile"), "");
  EXPECT_EQ(Get("bind"), "* -::*");
  EXPECT_EQ(Get("protected-mode"), "yes");
  EXPECT_EQ(Get("save"), "3600 1 300 100 60 10000");
  EXPECT_EQ(Get("hash-max-listpack-entries"), "512");
  EXPECT_EQ(Get("hash-max-ziplist-value"), "64");
  EXPECT_EQ(Get("zset-max-listpack-entries"), "128");
  EXPECT_EQ(Get("list-max-listpack-size"), "-2");
  EXPECT_EQ(Get("tls-port"), "0");
  EXPECT_EQ(Get("tls-auth-clients"), "yes");
  EXPECT_EQ(Get("tls-session-cache-size"), "20480");
  EXPECT_EQ(Get("tls-session-cache-timeout"), "300");
  EXPECT_EQ(Get("tls-protocols"), "");
  EXPECT_EQ(Get("tls-handshake-workers"), "1");
  EXPECT_EQ(Get("tls-handshake-timeout"), "10000");
  EXPECT_EQ(Get("tls-max-handshakes-in-flight"), "1000");
  EXPECT_EQ(Get("tls-handshaker-nice"), "5");
  EXPECT_EQ(Get("sandbox-seccomp"), "yes");
  EXPECT_EQ(Get("sandbox-user"), "nobody");
  EXPECT_EQ(Get("set-max-listpack-entries"), "<none>");  // 7.2 only
  EXPECT_EQ(server.port, 6379);
  EXPECT_EQ(server.hz, 10);
  EXPECT_EQ(server_tls_options.auth_clients, TLS_CLIENT_AUTH_YES);
  EXPECT_EQ(server_tls_options.cert_file, nullptr);
  EXPECT_EQ(server.requirepass, nullptr);
  EXPECT_EQ(server.bindaddr_count, 2);
}

TEST_F(ConfigTest, ParsesQuotesUnitsAliasesAndComments) {
  EXPECT_EQ(Load("# comment\n\n   port 7000   \r\n"
                 "maxmemory 1gb\n"
                 "client-query-buffer-limit 2mb\n"
                 "hash-max-ziplist-entries 10\n"
                 "slave-read-only no\n"
                 "tls-cert-file \"/a b/c.crt\"\n"
                 "requirepass 'it\\'s'\n"
                 "loglevel WARNING\n"
                 "bind 127.0.0.1 ::1\n"
                 "client-output-buffer-limit pubsub 1mb 512kb 10\n"
                 "notify-keyspace-events Ex\n"
                 "list-max-ziplist-entries 5\n"),  // deprecated: ignored
            "");
  EXPECT_EQ(server.port, 7000);
  EXPECT_EQ(server.maxmemory, 1024ULL * 1024 * 1024);
  EXPECT_EQ(server.client_max_querybuf_len, 2ULL * 1024 * 1024);
  EXPECT_EQ(server.hash_max_listpack_entries, 10u);
  EXPECT_EQ(Get("replica-read-only"), "no");
  EXPECT_STREQ(server_tls_options.cert_file, "/a b/c.crt");
  EXPECT_STREQ(server.requirepass, "it's");
  EXPECT_EQ(server_log_settings.verbosity, LL_WARNING);
  EXPECT_EQ(Get("bind"), "127.0.0.1 ::1");
  EXPECT_EQ(Get("client-output-buffer-limit"),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 "
            "10");
  EXPECT_EQ(Get("notify-keyspace-events"), "xE");
}

TEST_F(ConfigTest, SaveLinesAccumulateWithinOneLoad) {
  EXPECT_EQ(Load("save 900 1\nsave 300 10\n"), "");
  EXPECT_EQ(Get("save"), "900 1 300 10");
  EXPECT_EQ(Load("save \"\"\n"), "");
  EXPECT_EQ(Get("save"), "");
  EXPECT_EQ(Load("save 60 1000\n"), "");
  EXPECT_EQ(Get("save"), "60 1000");
}

TEST_F(ConfigTest, HzIsClamped) {
  EXPECT_EQ(Load("hz 1000\n"), "");
  EXPECT_EQ(Get("hz"), "500");
  EXPECT_EQ(server.hz, 500);
  EXPECT_EQ(Load("hz 0\n"), "");
  EXPECT_EQ(Get("hz"), "1");
}

TEST_F(ConfigTest, FatalErrorsNameFileAndLine) {
  EXPECT_EQ(
      Load("port 7000\nport \"abc\"\n", "/etc/r.conf"),
      Fatal("Reading the configuration file /etc/r.conf, at line 2",
            "port \"abc\"", "argument couldn't be parsed into an integer"));
  EXPECT_EQ(Load("foo bar\n"),
            Fatal("Reading the configuration file /x.conf, at line 1",
                  "foo bar", "Bad directive or wrong number of arguments"));
  EXPECT_EQ(Load("port 1 2\n"),
            Fatal("Reading the configuration file /x.conf, at line 1",
                  "port 1 2", "wrong number of arguments"));
  EXPECT_EQ(Load("maxmemory abc\n"),
            Fatal("Reading the configuration file /x.conf, at line 1",
                  "maxmemory abc", "argument must be a memory value"));
  EXPECT_EQ(
      Load("loglevel x\n"),
      Fatal("Reading the configuration file /x.conf, at line 1", "loglevel x",
            "argument(s) must be one of the following: debug, verbose, "
            "notice, warning"));
  EXPECT_EQ(Load("appendonly maybe\n"),
            Fatal("Reading the configuration file /x.conf, at line 1",
                  "appendonly maybe", "argument must be 'yes' or 'no'"));
  EXPECT_EQ(Load("\n\nport \"abc\n"),
            Fatal("Reading the configuration file /x.conf, at line 3",
                  "port \"abc", "Unbalanced quotes in configuration line"));
  EXPECT_EQ(
      Load("databases 0\n"),
      Fatal("Reading the configuration file /x.conf, at line 1", "databases 0",
            "argument must be between 1 and 2147483647 inclusive"));
  EXPECT_EQ(Load("client-output-buffer-limit foo 1 2 3\n"),
            Fatal("Reading the configuration file /x.conf, at line 1",
                  "client-output-buffer-limit foo 1 2 3",
                  "Invalid client class specified in buffer limit "
                  "configuration."));
  EXPECT_EQ(Load("save abc\n"),
            Fatal("Reading the configuration file /x.conf, at line 1",
                  "save abc", "Invalid save parameters"));
  // Sensitive values are never echoed.
  EXPECT_EQ(Load("requirepass a b\n"),
            Fatal("Reading the configuration file /x.conf, at line 1",
                  "requirepass (redacted)", "wrong number of arguments"));
  EXPECT_EQ(Load("cluster-enabled yes\nreplicaof 127.0.0.1 6380\n"),
            "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n"
            "replicaof directive not allowed in cluster mode\n");
}

TEST_F(ConfigTest, IncludeIsRecursiveAndBounded) {
  TempDir dir;
  std::string inner = dir.Write("inner.conf", "maxmemory 2mb\nport 7100\n");
  std::string outer =
      dir.Write("outer.conf", "port 7000\ninclude " + inner + "\ntimeout 5\n");
  std::string text = "include " + outer + "\n";
  EXPECT_EQ(Load(text, "/main.conf", 0), "");
  EXPECT_EQ(server.port, 7100);
  EXPECT_EQ(server.maxmemory, 2ULL * 1024 * 1024);
  EXPECT_EQ(server.maxidletime, 5);

  // An error inside an included file names that file and its line.
  std::string bad = dir.Write("bad.conf", "# c\nhz abc\n");
  EXPECT_EQ(Load("include " + bad + "\n", "/main.conf", 0),
            Fatal("Reading the configuration file " + bad + ", at line 2",
                  "hz abc", "argument couldn't be parsed into an integer"));

  std::string loop = dir.path() + "/loop.conf";
  dir.Write("loop.conf", "include " + loop + "\n");
  std::string err = Load("include " + loop + "\n", "/main.conf", 0);
  EXPECT_NE(err.find("include nesting deeper than 16 levels"),
            std::string::npos)
      << err;

  // A pattern includes every match (sorted); no match is not an error.
  dir.Write("a.part", "timeout 11\n");
  dir.Write("b.part", "timeout 12\n");
  EXPECT_EQ(Load("include " + dir.path() + "/*.part\n", "/main.conf", 0), "");
  EXPECT_EQ(server.maxidletime, 12);
  EXPECT_EQ(Load("include " + dir.path() + "/*.none\n", "/main.conf", 0), "");

  err = Load("include /nonexistent/x.conf\n", "/main.conf", 0);
  EXPECT_NE(err.find("can't open config file '/nonexistent/x.conf'"),
            std::string::npos)
      << err;

  // The fuzz mode never reads other files.
  err = Load("include " + inner + "\n");
  EXPECT_NE(err.find("include is not allowed"), std::string::npos) << err;
}

TEST_F(ConfigTest, CommandLine) {
  const char *argv[] = {"redoubt-server",
                        "my.conf",
                        "--port",
                        "7000",
                        "--bind",
                        "127.0.0.1",
                        "::1",
                        "--save",
                        "--slowlog-log-slower-than",
                        "-1",
                        "--check-config"};
  config_startup st;
  ASSERT_EQ(config_parse_command_line(11, const_cast<char **>(argv), &st),
            CONFIG_CLI_CONTINUE);
  ASSERT_NE(st.config_file, nullptr);
  EXPECT_EQ(std::string(st.config_file).substr(0, 1), "/");
  EXPECT_NE(std::string(st.config_file).find("/my.conf"), std::string::npos);
  EXPECT_EQ(st.check_config, 1);
  EXPECT_EQ(st.config_from_stdin, 0);
  ASSERT_NE(st.options, nullptr);
  EXPECT_EQ(std::string(st.options),
            "port \"7000\" \nbind \"127.0.0.1\" \"::1\" \nsave \"\"\n"
            "slowlog-log-slower-than \"-1\" ");
  EXPECT_EQ(Load(st.options), "");
  EXPECT_EQ(server.port, 7000);
  EXPECT_EQ(Get("bind"), "127.0.0.1 ::1");
  EXPECT_EQ(Get("save"), "");
  EXPECT_EQ(server.slowlog_log_slower_than, -1);
  config_startup_free(&st);

  const char *stdin_argv[] = {"redoubt-server", "-"};
  ASSERT_EQ(config_parse_command_line(2, const_cast<char **>(stdin_argv), &st),
            CONFIG_CLI_CONTINUE);
  EXPECT_EQ(st.config_from_stdin, 1);
  EXPECT_EQ(st.config_file, nullptr);
  config_startup_free(&st);
}

TEST_F(ConfigTest, SetValidationTextsMatchRedis) {
  EXPECT_EQ(Set("maxmemory", "abc"),
            "CONFIG SET failed (possibly related to argument 'maxmemory') - "
            "argument must be a memory value");
  EXPECT_EQ(Set("foo", "bar"),
            "Unknown option or number of arguments for CONFIG SET - 'foo'");
  EXPECT_EQ(Set("databases", "3"),
            "CONFIG SET failed (possibly related to argument 'databases') - "
            "can't set immutable config");
  EXPECT_EQ(Set("timeout", "-1"),
            "CONFIG SET failed (possibly related to argument 'timeout') - "
            "argument must be between 0 and 2147483647 inclusive");
  EXPECT_EQ(Set("maxclients", "0"),
            "CONFIG SET failed (possibly related to argument 'maxclients') - "
            "argument must be between 1 and 4294967295 inclusive");
  EXPECT_EQ(Set("tls-handshaker-nice", "20"),
            "CONFIG SET failed (possibly related to argument "
            "'tls-handshaker-nice') - argument must be between 0 and 19 "
            "inclusive");
  EXPECT_EQ(Set("maxmemory-policy", "foo"),
            "CONFIG SET failed (possibly related to argument "
            "'maxmemory-policy') - argument(s) must be one of the following: "
            "volatile-lru, volatile-lfu, volatile-random, volatile-ttl, "
            "allkeys-lru, allkeys-lfu, allkeys-random, noeviction");
  EXPECT_EQ(Set("tls-auth-clients", "foo"),
            "CONFIG SET failed (possibly related to argument "
            "'tls-auth-clients') - argument(s) must be one of the following: "
            "no, yes, optional");
  EXPECT_EQ(Set("notify-keyspace-events", "Q"),
            "CONFIG SET failed (possibly related to argument "
            "'notify-keyspace-events') - Invalid event class character. Use "
            "'Ag$lshzxeKEtmdn'.");
  EXPECT_EQ(Set("client-output-buffer-limit", "normal 1 2"),
            "CONFIG SET failed (possibly related to argument "
            "'client-output-buffer-limit') - Wrong number of arguments in "
            "buffer limit configuration.");
  EXPECT_EQ(Set("slowlog-log-slower-than", "1.5"),
            "CONFIG SET failed (possibly related to argument "
            "'slowlog-log-slower-than') - argument couldn't be parsed into an "
            "integer");
  EXPECT_EQ(Set("maxmemory-clients", "200%"),
            "CONFIG SET failed (possibly related to argument "
            "'maxmemory-clients') - percentage argument must be less or equal "
            "to 100");
  EXPECT_EQ(Set("shutdown-on-sigint", "save nosave"),
            "CONFIG SET failed (possibly related to argument "
            "'shutdown-on-sigint') - shutdown options SAVE and NOSAVE can't "
            "be used simultaneously");
}

TEST_F(ConfigTest, SetStoresAndApplies) {
  EXPECT_EQ(Set("hz", "1000"), "OK");
  EXPECT_EQ(Get("hz"), "500");
  EXPECT_EQ(server.hz, 500);
  EXPECT_EQ(Set("timeout", "10"), "OK");
  EXPECT_EQ(server.maxidletime, 10);
  EXPECT_EQ(Set("loglevel", "WARNING"), "OK");
  EXPECT_EQ(Get("loglevel"), "warning");
  EXPECT_EQ(Set("save", "900 1 300 10"), "OK");
  EXPECT_EQ(Get("save"), "900 1 300 10");
  EXPECT_EQ(Set("save", ""), "OK");
  EXPECT_EQ(Get("save"), "");
  EXPECT_EQ(Set("maxmemory-clients", "10%"), "OK");
  EXPECT_EQ(Get("maxmemory-clients"), "10%");
  EXPECT_EQ(Set("shutdown-on-sigint", "now save"), "OK");
  EXPECT_EQ(Get("shutdown-on-sigint"), "save now");
  EXPECT_EQ(Set("requirepass", "secret"), "OK");
  EXPECT_STREQ(server.requirepass, "secret");
  EXPECT_EQ(Set("requirepass", ""), "OK");
  EXPECT_EQ(server.requirepass, nullptr);
  EXPECT_EQ(Set("latency-tracking-info-percentiles", "50.5 99"), "OK");
  EXPECT_EQ(Get("latency-tracking-info-percentiles"), "50.5 99");
  EXPECT_EQ(Set("notify-keyspace-events", "KEA"), "OK");
  EXPECT_EQ(Get("notify-keyspace-events"), "AKE");
}

TEST_F(ConfigTest, RewriteRoundTrip) {
  TempDir dir;
  std::string path = dir.Write("r.conf",
                               "# top comment\n"
                               "port 7000\n"
                               "save 900 1\n"
                               "save 300 10\n"
                               "maxmemory 1mb\n"
                               "# mid comment\n"
                               "slave-read-only yes\n"
                               "include /nonexistent/but/kept.conf\n"
                               "client-output-buffer-limit pubsub 32mb 8mb 60\n"
                               "loglevel notice\n");
  // The include line would fail to load; load the rest as the server would.
  EXPECT_EQ(Load("port 7000\nsave 900 1\nsave 300 10\nmaxmemory 1mb\n"
                 "slave-read-only yes\n"
                 "client-output-buffer-limit pubsub 32mb 8mb 60\n"
                 "loglevel notice\n"),
            "");
  EXPECT_EQ(Set("maxmemory", "0"), "OK");
  EXPECT_EQ(Set("timeout", "10"), "OK");
  EXPECT_EQ(Set("save", "100 1"), "OK");
  EXPECT_EQ(Set("client-output-buffer-limit", "normal 1mb 2 3"), "OK");
  EXPECT_EQ(Set("loglevel", "warning"), "OK");
  EXPECT_EQ(Set("tls-protocols", "TLSv1.3"), "OK");
  ASSERT_EQ(config_rewrite(path.c_str()), 1);

  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  EXPECT_EQ(dir.Read("r.conf"),
            "# top comment\n"
            "port 7000\n"
            "save 100 1\n"
            "\n"
            "maxmemory 0\n"
            "# mid comment\n"
            "replica-read-only yes\n"
            "include /nonexistent/but/kept.conf\n"
            "client-output-buffer-limit normal 1mb 2 3\n"
            "loglevel warning\n"
            "# Generated by CONFIG REWRITE\n"
            "tls-protocols \"TLSv1.3\"\n"
            "timeout 10\n"
            "dir \"" +
                std::string(cwd) +
                "\"\n"
                "latency-tracking-info-percentiles 50 99 99.9\n");

  // Reloading the rewritten file gives the same values.
  std::string content = dir.Read("r.conf");
  content.replace(content.find("include"), 34, "# include dropped");
  config_init_defaults();
  EXPECT_EQ(Load(content), "");
  EXPECT_EQ(Get("port"), "7000");
  EXPECT_EQ(Get("save"), "100 1");
  EXPECT_EQ(Get("maxmemory"), "0");
  EXPECT_EQ(Get("timeout"), "10");
  EXPECT_EQ(Get("loglevel"), "warning");
  EXPECT_EQ(Get("tls-protocols"), "TLSv1.3");
  EXPECT_EQ(Get("client-output-buffer-limit"),
            "normal 1048576 2 3 slave 268435456 67108864 60 pubsub 33554432 "
            "8388608 60");

  // A second rewrite with nothing changed is stable.
  ASSERT_EQ(config_rewrite(path.c_str()), 1);
  std::string again = dir.Read("r.conf");
  ASSERT_EQ(config_rewrite(path.c_str()), 1);
  EXPECT_EQ(dir.Read("r.conf"), again);
}

TEST_F(ConfigTest, UnknownConfigFileForRewriteIsCreated) {
  TempDir dir;
  std::string path = dir.path() + "/new.conf";
  EXPECT_EQ(Set("timeout", "7"), "OK");
  ASSERT_EQ(config_rewrite(path.c_str()), 1);
  EXPECT_NE(dir.Read("new.conf").find("timeout 7\n"), std::string::npos);
}

}  // namespace
