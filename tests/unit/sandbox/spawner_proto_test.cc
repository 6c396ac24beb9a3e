// spawner_proto_test.cc: the privileged spawner's codec
// (sandbox/spawner_proto.h): every message round-trips; every truncation, a
// trailing byte and every other direction's parser reject it; values out of
// range are neither built nor parsed.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "sandbox/spawner_proto.h"
}

namespace {

using Bytes = std::vector<uint8_t>;
using Parser = int (*)(const uint8_t *, size_t, spawner_message *);

const Parser kParsers[] = {spawner_parse_main_request,
                           spawner_parse_key_request, spawner_parse_main_answer,
                           spawner_parse_keys_answer};

Bytes Build(const spawner_message &m) {
  static uint8_t buf[SPAWNER_MAX_MESSAGE];
  size_t n = spawner_build(buf, sizeof(buf), &m);
  return Bytes(buf, buf + n);
}

// ExpectStrict: |b| parses with |parse| only (ERROR also as a keys answer),
// and no truncation or extension of it parses.
void ExpectStrict(const Bytes &b, Parser parse) {
  static spawner_message m;
  ASSERT_FALSE(b.empty());
  ASSERT_TRUE(parse(b.data(), b.size(), &m));
  for (Parser other : kParsers) {
    bool error_both =
        b[0] == SPAWNER_ANS_ERROR && (other == spawner_parse_main_answer ||
                                      other == spawner_parse_keys_answer);
    if (other != parse && !error_both) {
      EXPECT_FALSE(other(b.data(), b.size(), &m)) << "type " << int(b[0]);
    }
  }
  for (size_t n = 0; n < b.size(); n++) {
    EXPECT_FALSE(parse(b.data(), n, &m))
        << "truncated at " << n << " of " << b.size();
  }
  Bytes extra = b;
  extra.push_back(0);
  EXPECT_FALSE(parse(extra.data(), extra.size(), &m));
}

spawner_message Init() {
  spawner_message m;
  spawner_message_init(&m, SPAWNER_REQ_INIT);
  strcpy(m.argv0, "/usr/bin/redoubt-server");
  strcpy(m.child_arg[0], "--redoubt-tls-handshaker");
  strcpy(m.child_arg[1], "--redoubt-tls-verifier");
  strcpy(m.sandbox_user, "nobody");
  strcpy(m.key_file, "/etc/redoubt/server.key");
  strcpy(m.key_file_pass, "secret");
  m.seccomp = 1;
  return m;
}

TEST(SpawnerProtoTest, EveryMessageRoundTripsAndIsStrict) {
  static spawner_message m, back;
  const uint8_t key[] = "-----BEGIN PRIVATE KEY-----";
  std::vector<std::pair<spawner_message, Parser>> cases;
  cases.push_back({Init(), spawner_parse_main_request});
  spawner_message_init(&m, SPAWNER_REQ_SPAWN);
  m.socket_buffer = 1 << 20;
  m.kind = 1;
  cases.push_back({m, spawner_parse_main_request});
  spawner_message_init(&m, SPAWNER_REQ_KILL);
  m.pid = 42;
  cases.push_back({m, spawner_parse_main_request});
  spawner_message_init(&m, SPAWNER_REQ_REAP);
  m.pid = 42;
  m.how = SPAWNER_REAP_FORCE;
  cases.push_back({m, spawner_parse_main_request});
  spawner_message_init(&m, SPAWNER_REQ_NICE);
  m.pid = 42;
  m.nice = -20;
  cases.push_back({m, spawner_parse_main_request});
  spawner_message_init(&m, SPAWNER_REQ_KEY_REQUEST);
  strcpy(m.key_file, "/k/server.key");
  strcpy(m.client_key_file, "/k/client.key");
  cases.push_back({m, spawner_parse_key_request});
  spawner_message_init(&m, SPAWNER_ANS_READY);
  cases.push_back({m, spawner_parse_main_answer});
  spawner_message_init(&m, SPAWNER_ANS_SPAWNED);
  m.pid = 7;
  cases.push_back({m, spawner_parse_main_answer});
  spawner_message_init(&m, SPAWNER_ANS_STATUS);
  m.pid = 7;
  m.state = SPAWNER_STATE_REAPED;
  m.wait_status = 9;
  cases.push_back({m, spawner_parse_main_answer});
  spawner_message_init(&m, SPAWNER_ANS_OK);
  cases.push_back({m, spawner_parse_main_answer});
  spawner_message_init(&m, SPAWNER_ANS_ERROR);
  strcpy(m.reason, "no");
  cases.push_back({m, spawner_parse_main_answer});
  spawner_message_init(&m, SPAWNER_ANS_KEYS);
  m.key = key;
  m.key_len = sizeof(key) - 1;
  strcpy(m.key_file_pass, "pw");
  cases.push_back({m, spawner_parse_keys_answer});
  for (auto &[msg, parse] : cases) {
    SCOPED_TRACE(int(msg.type));
    Bytes b = Build(msg);
    ASSERT_FALSE(b.empty());
    ExpectStrict(b, parse);
    ASSERT_TRUE(parse(b.data(), b.size(), &back));
    EXPECT_EQ(Build(back), b);
  }
}

TEST(SpawnerProtoTest, OutOfRangeValuesAreNeitherBuiltNorParsed) {
  static spawner_message m;
  // A pid of 0, a kind past the table, a nice past 19, a REAP mode, seccomp 2.
  spawner_message_init(&m, SPAWNER_REQ_KILL);
  EXPECT_TRUE(Build(m).empty());
  spawner_message_init(&m, SPAWNER_REQ_SPAWN);
  m.kind = SPAWNER_MAX_CHILD_KINDS;
  EXPECT_TRUE(Build(m).empty());
  m.kind = 0;
  m.socket_buffer = SPAWNER_MAX_SOCKET_BUFFER + 1;
  EXPECT_TRUE(Build(m).empty());
  spawner_message_init(&m, SPAWNER_REQ_NICE);
  m.pid = 1;
  m.nice = 20;
  EXPECT_TRUE(Build(m).empty());
  spawner_message_init(&m, SPAWNER_REQ_REAP);
  m.pid = 1;
  m.how = 3;
  EXPECT_TRUE(Build(m).empty());
  m = Init();
  m.seccomp = 2;
  EXPECT_TRUE(Build(m).empty());
  // A child kind is required; a key request names a key.
  m = Init();
  m.child_arg[0][0] = '\0';
  EXPECT_TRUE(Build(m).empty());
  spawner_message_init(&m, SPAWNER_REQ_KEY_REQUEST);
  EXPECT_TRUE(Build(m).empty());
  // The same bytes, hand-made, are refused by the parser.
  const Bytes bad[] = {
      {SPAWNER_REQ_KILL, 0, 0, 0, 0},
      {SPAWNER_REQ_KILL, 0x80, 0, 0, 1},                // not a pid_t
      {SPAWNER_REQ_SPAWN, 0, 0, 0, 0, 2},               // kind
      {SPAWNER_REQ_NICE, 0, 0, 0, 1, 40},               // nice 20
      {SPAWNER_REQ_REAP, 0, 0, 0, 1, 3},                // how
      {SPAWNER_ANS_STATUS, 0, 0, 0, 1, 3, 0, 0, 0, 0},  // state
      {SPAWNER_ANS_ERROR, 0, 0, 0, 0},                  // empty reason
      {SPAWNER_ANS_ERROR, 0, 0, 0, 1, 0},               // NUL in a string
      {99},
  };
  for (const Bytes &b : bad) {
    for (Parser p : kParsers) {
      EXPECT_FALSE(p(b.data(), b.size(), &m)) << int(b[0]);
    }
  }
}

TEST(SpawnerProtoTest, KeysAreBoundedAndWiped) {
  static spawner_message m;
  static uint8_t big[SPAWNER_MAX_KEY_FILE + 1];
  memset(big, 'k', sizeof(big));
  spawner_message_init(&m, SPAWNER_ANS_KEYS);
  m.key = big;
  m.key_len = SPAWNER_MAX_KEY_FILE;
  m.client_key = big;
  m.client_key_len = SPAWNER_MAX_KEY_FILE;
  memset(m.key_file_pass, 'p', SPAWNER_MAX_PASS);
  memset(m.client_key_file_pass, 'q', SPAWNER_MAX_PASS);
  Bytes b = Build(m);
  ASSERT_FALSE(b.empty());  // the largest message fits SPAWNER_MAX_MESSAGE
  m.key_len = SPAWNER_MAX_KEY_FILE + 1;
  EXPECT_TRUE(Build(m).empty());
  ASSERT_TRUE(spawner_parse_keys_answer(b.data(), b.size(), &m));
  EXPECT_EQ(SPAWNER_MAX_PASS, strlen(m.key_file_pass));
  spawner_message_wipe(&m);
  EXPECT_EQ(0u, strlen(m.key_file_pass));
  EXPECT_EQ(nullptr, m.key);
}

}  // namespace
