// resp_test.cc: the request parser (server/resp.c) against Redis 7.0's
// observable behaviour: every protocol error text, partial reads, inline
// quoting, limits. The expectations were checked against redis-server
// 7.0.15 with raw sockets.
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <string>
#include <vector>

extern "C" {
#include "server/proto/resp.h"
}

namespace {

struct Outcome {
  std::vector<std::vector<std::string>> commands;  // argc 0 commands too
  std::string error;                               // "" if none
  bool operator==(const Outcome &o) const {
    return commands == o.commands && error == o.error;
  }
};

// Feeds |input| in chunks of |chunk| bytes (0 = all at once) the way the
// server does: append to a buffer, parse until NEED_MORE, drop consumed
// bytes.
Outcome Parse(const std::string &input, size_t chunk = 0,
              const resp_limits *limits = nullptr) {
  resp_limits lim;
  resp_limits_default(&lim);
  if (limits != nullptr) lim = *limits;
  resp_parser p;
  resp_parser_init(&p);
  Outcome out;
  std::string buf;
  std::vector<std::string> cur;
  size_t fed = 0;
  if (chunk == 0) chunk = input.size() ? input.size() : 1;
  while (fed < input.size() || fed == 0) {
    size_t n = std::min(chunk, input.size() - fed);
    buf.append(input, fed, n);
    fed += n;
    size_t pos = 0;
    bool stop = false;
    for (int guard = 0; guard < 10000000; guard++) {
      resp_out o;
      resp_event ev = resp_parse(&p, buf.data(), buf.size(), &pos, &lim, &o);
      if (ev == RESP_EV_NEED_MORE) break;
      if (ev == RESP_EV_ARRAY_START) {
        cur.clear();
      } else if (ev == RESP_EV_ARG) {
        cur.emplace_back(o.data, o.len);
      } else if (ev == RESP_EV_COMMAND_END) {
        out.commands.push_back(cur);
        cur.clear();
      } else {
        out.error.assign(o.error, o.error_len);
        stop = true;
        break;
      }
    }
    buf.erase(0, pos);
    if (stop || input.empty()) break;
  }
  resp_parser_free(&p);
  return out;
}

std::vector<std::string> V(std::initializer_list<const char *> l) {
  std::vector<std::string> v;
  for (const char *s : l) v.emplace_back(s);
  return v;
}

void ExpectSplitInvariant(const std::string &input) {
  Outcome whole = Parse(input);
  for (size_t chunk : {1, 2, 3, 7, 16}) {
    EXPECT_EQ(whole, Parse(input, chunk)) << "chunk " << chunk;
  }
}

TEST(Resp, MultibulkSimple) {
  Outcome o = Parse("*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\n");
  ASSERT_EQ(o.commands.size(), 1u);
  EXPECT_EQ(o.commands[0], V({"ECHO", "abc"}));
  EXPECT_EQ(o.error, "");
}

TEST(Resp, MultibulkEmptyArgAndBinary) {
  std::string in("*3\r\n$3\r\nSET\r\n$0\r\n\r\n$3\r\na\0b\r\n", 28);
  Outcome o = Parse(in);
  ASSERT_EQ(o.commands.size(), 1u);
  EXPECT_EQ(o.commands[0][1], "");
  EXPECT_EQ(o.commands[0][2], std::string("a\0b", 3));
}

TEST(Resp, PipelineByteByByte) {
  std::string in;
  for (int i = 0; i < 20; i++)
    in += "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nvv\r\n";
  in += "PING\r\n";
  Outcome o = Parse(in, 1);
  ASSERT_EQ(o.commands.size(), 21u);
  EXPECT_EQ(o.commands[20], V({"PING"}));
  ExpectSplitInvariant(in);
}

TEST(Resp, ZeroAndNegativeCountsAreEmptyCommands) {
  Outcome o = Parse("*0\r\n*-1\r\n*-5\r\nPING\r\n");
  ASSERT_EQ(o.commands.size(), 4u);
  EXPECT_TRUE(o.commands[0].empty());
  EXPECT_EQ(o.commands[3], V({"PING"}));
}

TEST(Resp, TrailingBytesOfBulkAreNotChecked) {
  // Redis skips the two bytes after a bulk without looking at them.
  Outcome o = Parse("*1\r\n$4\r\nPINGxx");
  ASSERT_EQ(o.commands.size(), 1u);
  EXPECT_EQ(o.commands[0], V({"PING"}));
}

TEST(Resp, ErrorInvalidMultibulkLength) {
  for (const char *in :
       {"*99999999999\r\n", "*abc\r\n", "*\r\n", "*+1\r\n", "*01\r\n",
        "*1 \r\n", "*1\n$4\r\nPING\r\n", "*2147483648\r\n", "*-0\r\n"}) {
    EXPECT_EQ(Parse(in).error, "Protocol error: invalid multibulk length")
        << in;
    ExpectSplitInvariant(in);
  }
  EXPECT_EQ(Parse("*2147483647\r\n").error, "");
}

TEST(Resp, ErrorExpectedDollar) {
  EXPECT_EQ(Parse("*1\r\nx3\r\nabc\r\n").error,
            "Protocol error: expected '$', got 'x'");
  EXPECT_EQ(Parse("*1\r\n*1\r\n").error,
            "Protocol error: expected '$', got '*'");
  // '\r' is shown as a space, as Redis's error formatting does.
  EXPECT_EQ(Parse("*1\r\n\r\n").error, "Protocol error: expected '$', got ' '");
  // The byte after '\r' is assumed to be '\n'.
  EXPECT_EQ(Parse("*1\r$4\r\nPING\r\n").error,
            "Protocol error: expected '$', got '4'");
  EXPECT_EQ(Parse("*3\r\n$4\r\nECHO\r\n$1\r\na\r\n:5\r\n").error,
            "Protocol error: expected '$', got ':'");
}

TEST(Resp, ErrorInvalidBulkLength) {
  for (const char *in : {"*1\r\n$abc\r\n", "*1\r\n$-1\r\n", "*1\r\n$+4\r\n",
                         "*1\r\n$4 \r\n", "*1\r\n$ 4\r\n", "*1\r\n$04\r\n",
                         "*1\r\n$536870913\r\n", "*1\r\n$\r\n"}) {
    EXPECT_EQ(Parse(in).error, "Protocol error: invalid bulk length") << in;
    ExpectSplitInvariant(in);
  }
  EXPECT_EQ(Parse("*1\r\n$536870912\r\n").error, "");
}

TEST(Resp, BulkLimitFollowsConfig) {
  resp_limits lim;
  resp_limits_default(&lim);
  lim.max_bulk_len = 10;
  EXPECT_EQ(Parse("*1\r\n$11\r\n", 0, &lim).error,
            "Protocol error: invalid bulk length");
  EXPECT_EQ(Parse("*1\r\n$10\r\n0123456789\r\n", 0, &lim).commands.size(), 1u);
  lim.max_bulk_len = -1;  // masters: no limit
  EXPECT_EQ(Parse("*1\r\n$999999999999\r\n", 0, &lim).error, "");
}

TEST(Resp, ErrorTooBigInline) {
  std::string in(70 * 1024, 'x');
  EXPECT_EQ(Parse(in).error, "Protocol error: too big inline request");
  EXPECT_EQ(Parse(in, 4096).error, "Protocol error: too big inline request");
  // Exactly at the limit is accepted, with or without '\r'.
  std::string ok = "ECHO " + std::string(64 * 1024 - 5, 'a') + "\n";
  EXPECT_EQ(Parse(ok).commands.size(), 1u);
  EXPECT_EQ(Parse(ok, 1000).commands.size(), 1u);
  std::string ok_cr = "ECHO " + std::string(64 * 1024 - 5, 'a') + "\r\n";
  EXPECT_EQ(Parse(ok_cr).error, Parse(ok_cr, 1000).error);
  // A complete line above the limit gives the same error as a split one.
  std::string big_line = std::string(64 * 1024 + 1, 'a') + "\n";
  EXPECT_EQ(Parse(big_line).error, "Protocol error: too big inline request");
  EXPECT_EQ(Parse(big_line, 1).error, "Protocol error: too big inline request");
}

TEST(Resp, ErrorTooBigCountStrings) {
  EXPECT_EQ(Parse("*" + std::string(70000, '1')).error,
            "Protocol error: too big mbulk count string");
  EXPECT_EQ(Parse("*1\r\n$" + std::string(70000, '1')).error,
            "Protocol error: too big bulk count string");
}

TEST(Resp, UnauthenticatedLimits) {
  resp_limits lim;
  resp_limits_default(&lim);
  lim.auth_required = 1;
  EXPECT_EQ(Parse("*11\r\n", 0, &lim).error,
            "Protocol error: unauthenticated multibulk length");
  EXPECT_EQ(Parse("*10\r\n", 0, &lim).error, "");
  EXPECT_EQ(Parse("*1\r\n$16385\r\n", 0, &lim).error,
            "Protocol error: unauthenticated bulk length");
  EXPECT_EQ(Parse("*1\r\n$16384\r\n", 0, &lim).error, "");
}

TEST(Resp, InlineBasics) {
  Outcome o = Parse("PING\r\nSET a b\nECHO   x  \r\n\r\n\r\n   \r\n");
  ASSERT_EQ(o.commands.size(), 6u);
  EXPECT_EQ(o.commands[0], V({"PING"}));
  EXPECT_EQ(o.commands[1], V({"SET", "a", "b"}));
  EXPECT_EQ(o.commands[2], V({"ECHO", "x"}));
  EXPECT_TRUE(o.commands[3].empty());
  ExpectSplitInvariant("PING\r\nSET a b\nECHO   x  \r\n\r\n\r\n   \r\n");
}

TEST(Resp, InlineQuoting) {
  Outcome o = Parse("ECHO \"\\x41\\n\" 'it\\'s' \"a\\\"b\" \"\" ab\"cd\"\r\n");
  ASSERT_EQ(o.commands.size(), 1u);
  EXPECT_EQ(o.commands[0], V({"ECHO", "A\n", "it's", "a\"b", "", "abcd"}));
  Outcome t = Parse("ECHO \"\\t\\r\\b\\a\\z\\\\\"\n");
  EXPECT_EQ(t.commands[0][1],
            "\t\r\b\a"
            "z\\");
  // \x with non-hex digits is an ordinary escape of 'x'.
  EXPECT_EQ(Parse("ECHO \"\\xZZ\"\n").commands[0][1], "xZZ");
}

TEST(Resp, InlineUnbalancedQuotes) {
  for (const char *in : {"PING \"a\r\n", "ECHO 'a\r\n", "ECHO \"a\"b\r\n",
                         "ECHO 'a'b\n", "ECHO \"a\\\"\n"}) {
    EXPECT_EQ(Parse(in).error, "Protocol error: unbalanced quotes in request")
        << in;
    ExpectSplitInvariant(in);
  }
}

TEST(Resp, NulHidesTheLineEnd) {
  // Redis searches the terminator with strchr(): a NUL stops the search, so
  // the request waits for more input (and errors past the inline limit).
  std::string in("PING\0\r\n", 7);
  Outcome o = Parse(in);
  EXPECT_TRUE(o.commands.empty());
  EXPECT_EQ(o.error, "");
  std::string big = in + std::string(70000, 'a');
  EXPECT_EQ(Parse(big).error, "Protocol error: too big inline request");
}

TEST(Resp, ErrorAfterValidCommands) {
  Outcome o = Parse("*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n*x\r\n");
  EXPECT_EQ(o.commands.size(), 2u);
  EXPECT_EQ(o.error, "Protocol error: invalid multibulk length");
  ExpectSplitInvariant("*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n*x\r\n");
}

TEST(Resp, PartialStatesReportNeedMore) {
  const std::string full = "*2\r\n$3\r\nGET\r\n$5\r\nhello\r\n";
  for (size_t cut = 0; cut < full.size(); cut++) {
    Outcome o = Parse(full.substr(0, cut));
    EXPECT_TRUE(o.commands.empty()) << cut;
    EXPECT_EQ(o.error, "") << cut;
  }
}

TEST(Resp, StrictIntegerParsing) {
  long long v;
  EXPECT_TRUE(resp_parse_strict_ll("0", 1, &v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(resp_parse_strict_ll("-9223372036854775808", 20, &v));
  EXPECT_EQ(v, LLONG_MIN);
  EXPECT_TRUE(resp_parse_strict_ll("9223372036854775807", 19, &v));
  EXPECT_FALSE(resp_parse_strict_ll("9223372036854775808", 19, &v));
  EXPECT_FALSE(resp_parse_strict_ll("-0", 2, &v));
  EXPECT_FALSE(resp_parse_strict_ll("", 0, &v));
  EXPECT_FALSE(resp_parse_strict_ll("-", 1, &v));
  EXPECT_FALSE(resp_parse_strict_ll("18446744073709551616", 20, &v));
}

TEST(Resp, BigArgumentIsOneRange) {
  std::string payload(100000, 'z');
  std::string in = "*2\r\n$3\r\nSET\r\n$100000\r\n" + payload + "\r\n";
  Outcome o = Parse(in, 16384);
  ASSERT_EQ(o.commands.size(), 1u);
  EXPECT_EQ(o.commands[0][1], payload);
}

}  // namespace
