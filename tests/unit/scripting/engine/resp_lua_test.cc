// Unit tests of the conversions between Redis replies and Lua values that
// scripts see (server/scripting/resp_lua.c): what redis.call returns for
// each RESP2/RESP3 reply type, what a script's return value is replied as,
// and that malformed replies are refused without touching the Lua stack.
// The expected values follow Redis 7.0.15's script_lua.c (and what
// redis-server 7.0.15 replies to the same scripts).
#include <gtest/gtest.h>

#include <string>

extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "server/acl/acl.h"
#include "server/core/server.h"
#include "server/scripting/scripting.h"
}

namespace {

uint64_t ErrorHash(const void *key) { return dict_sds_hash(key); }

// The core's globals a reply needs: shared objects, the error counters
// (errorstats), a client the access-control layer initialized.
void InitCoreOnce() {
  static bool done = false;
  if (done) {
    return;
  }
  done = true;
  create_shared_objects();
  static dict_type errors_type = {
      ErrorHash,           nullptr, nullptr, dict_sds_key_compare,
      dict_sds_destructor, nullptr, nullptr};
  server.errors = dict_create(&errors_type);
  acl_register();
}

class RespLua : public ::testing::Test {
 protected:
  void SetUp() override {
    InitCoreOnce();
    L_ = luaL_newstate();
    luaL_openlibs(L_);
    c_ = create_client(nullptr);
    c_->flags |= CLIENT_SCRIPT;  // replies stay in its buffer
  }
  void TearDown() override {
    free_client(c_);
    lua_close(L_);
  }

  // Converts |reply| and leaves the value in the global "v".
  bool Parse(const std::string &reply, size_t *used = nullptr) {
    size_t n = 0;
    int top = lua_gettop(L_);
    if (!script_resp_to_lua(L_, reply.data(), reply.size(), &n)) {
      EXPECT_EQ(lua_gettop(L_), top) << "a refusal pushed something";
      return false;
    }
    EXPECT_EQ(lua_gettop(L_), top + 1);
    lua_setglobal(L_, "v");
    if (used != nullptr) {
      *used = n;
    }
    return true;
  }

  // Evaluates |expr| (with the converted value as v) as a string.
  std::string Eval(const std::string &expr) {
    std::string code = "return tostring(" + expr + ")";
    if (luaL_dostring(L_, code.c_str()) != 0) {
      std::string err = lua_tostring(L_, -1);
      lua_pop(L_, 1);
      return "error: " + err;
    }
    std::string out = lua_tostring(L_, -1);
    lua_pop(L_, 1);
    return out;
  }

  // Replies the value of the Lua expression |expr| as a script's return
  // value; |caller_resp| is the client's protocol, |script_resp| the
  // script's redis.setresp.
  std::string Reply(const std::string &expr, int caller_resp = 2,
                    int script_resp = 2) {
    std::string code = "return " + expr;
    if (luaL_loadstring(L_, code.c_str()) != 0 || lua_pcall(L_, 0, 1, 0)) {
      std::string err = lua_tostring(L_, -1);
      lua_pop(L_, 1);
      return "lua error: " + err;
    }
    c_->resp = caller_resp;
    int top = lua_gettop(L_);
    script_lua_to_resp(c_, L_, script_resp);
    EXPECT_EQ(lua_gettop(L_), top - 1) << "the value must be consumed";
    std::string out(c_->buf, c_->bufpos);
    c_->bufpos = 0;
    list_node *ln;
    while ((ln = list_first(c_->reply)) != nullptr) {
      auto *b = static_cast<client_reply_block *>(list_node_value(ln));
      if (b != nullptr) {
        out.append(b->buf, b->used);
      }
      list_del_node(c_->reply, ln);
    }
    c_->reply_bytes = 0;
    return out;
  }

  lua_State *L_ = nullptr;
  client *c_ = nullptr;
};

// ---- RESP2 replies --------------------------------------------------

TEST_F(RespLua, IntegerBecomesNumber) {
  ASSERT_TRUE(Parse(":-42\r\n"));
  EXPECT_EQ(Eval("type(v) .. ' ' .. v"), "number -42");
}

TEST_F(RespLua, BulkBecomesStringBinarySafe) {
  ASSERT_TRUE(Parse(std::string("$3\r\na\0b\r\n", 9)));
  EXPECT_EQ(Eval("#v"), "3");
  EXPECT_EQ(Eval("v:byte(2)"), "0");
}

TEST_F(RespLua, NullBulkAndNullArrayBecomeFalse) {
  ASSERT_TRUE(Parse("$-1\r\n"));
  EXPECT_EQ(Eval("v == false"), "true");
  ASSERT_TRUE(Parse("*-1\r\n"));
  EXPECT_EQ(Eval("v == false"), "true");
}

TEST_F(RespLua, StatusBecomesOkTable) {
  ASSERT_TRUE(Parse("+QUEUED\r\n"));
  EXPECT_EQ(Eval("v.ok"), "QUEUED");
}

TEST_F(RespLua, ErrorBecomesErrTableNotCountedTwice) {
  ASSERT_TRUE(Parse("-WRONGTYPE Operation against a key\r\n"));
  EXPECT_EQ(Eval("v.err"), "WRONGTYPE Operation against a key");
  EXPECT_EQ(Eval("v.ignore_error_stats_update"), "true");
  // An error without a space gets the ERR code, as in Redis.
  ASSERT_TRUE(Parse("-oops\r\n"));
  EXPECT_EQ(Eval("v.err"), "ERR oops");
}

TEST_F(RespLua, ArraysNest) {
  ASSERT_TRUE(Parse("*3\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n+OK\r\n"));
  EXPECT_EQ(Eval("#v"), "3");
  EXPECT_EQ(Eval("v[2][1]"), "a");
  EXPECT_EQ(Eval("v[2][2]"), "false");
  EXPECT_EQ(Eval("v[3].ok"), "OK");
}

TEST_F(RespLua, ConsumesOneReply) {
  size_t used = 0;
  ASSERT_TRUE(Parse(":1\r\n:2\r\n", &used));
  EXPECT_EQ(used, 4u);
}

// ---- RESP3 replies (redis.setresp(3)) --------------------------------

TEST_F(RespLua, MapBecomesMapField) {
  ASSERT_TRUE(Parse("%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n#t\r\n"));
  EXPECT_EQ(Eval("v.map.a"), "1");
  EXPECT_EQ(Eval("v.map.b"), "true");
}

TEST_F(RespLua, SetBecomesSetFieldOfTrues) {
  ASSERT_TRUE(Parse("~2\r\n$1\r\nx\r\n$1\r\ny\r\n"));
  EXPECT_EQ(Eval("v.set.x and v.set.y"), "true");
}

TEST_F(RespLua, NullIsNilAndBooleansAreBooleans) {
  ASSERT_TRUE(Parse("_\r\n"));
  EXPECT_EQ(Eval("v == nil"), "true");
  ASSERT_TRUE(Parse("#f\r\n"));
  EXPECT_EQ(Eval("v == false"), "true");
}

TEST_F(RespLua, DoubleBigNumberVerbatim) {
  ASSERT_TRUE(Parse(",3.25\r\n"));
  EXPECT_EQ(Eval("v.double"), "3.25");
  ASSERT_TRUE(Parse(",-inf\r\n"));
  EXPECT_EQ(Eval("v.double"), "-inf");
  ASSERT_TRUE(Parse("(12345678901234567890123\r\n"));
  EXPECT_EQ(Eval("v.big_number"), "12345678901234567890123");
  ASSERT_TRUE(Parse("=15\r\ntxt:Some string\r\n"));
  EXPECT_EQ(Eval("v.verbatim_string.format"), "txt");
  EXPECT_EQ(Eval("v.verbatim_string.string"), "Some string");
}

TEST_F(RespLua, AttributesAreSkipped) {
  ASSERT_TRUE(Parse("|1\r\n$3\r\nkey\r\n*1\r\n:9\r\n:7\r\n"));
  EXPECT_EQ(Eval("v"), "7");
}

// ---- malformed replies ------------------------------------------------

TEST_F(RespLua, MalformedRepliesAreRefused) {
  const char *bad[] = {
      "",               // nothing
      ":12",            // no CRLF
      ":1x\r\n",        // not a number
      "$5\r\nabc\r\n",  // shorter than its length
      "$3\r\nabcd\r\n",
      "$-2\r\n",
      "*2\r\n:1\r\n",     // an element missing
      "*-2\r\n",          // negative count
      "*99999999\r\n",    // more elements than bytes
      "%1\r\n:1\r\n",     // a key without its value
      "#x\r\n",           // not t/f
      "_x\r\n",           // null with a payload
      ",\r\n",            // empty double
      ",1.5abc\r\n",      // trailing garbage
      "=3\r\nabc\r\n",    // verbatim shorter than its format
      "=5\r\nabcde\r\n",  // no ':' after the format
      ">1\r\n:1\r\n",     // push: not a command reply
      "?\r\n",            // unknown type
  };
  for (const char *b : bad) {
    EXPECT_FALSE(Parse(b)) << "accepted: " << b;
  }
}

TEST_F(RespLua, DeepNestingIsRefused) {
  std::string deep;
  for (int i = 0; i < 1000; i++) {
    deep += "*1\r\n";
  }
  deep += ":1\r\n";
  EXPECT_FALSE(Parse(deep));
  std::string ok;
  for (int i = 0; i < 100; i++) {
    ok += "*1\r\n";
  }
  ok += ":1\r\n";
  EXPECT_TRUE(Parse(ok));
}

// ---- a script's return value ----------------------------------------

TEST_F(RespLua, StringsAndNumbers) {
  EXPECT_EQ(Reply("'hi'"), "$2\r\nhi\r\n");
  EXPECT_EQ(Reply("3.99"), ":3\r\n");
  EXPECT_EQ(Reply("-3.7"), ":-3\r\n");
  // Beyond long long (and NaN): LLONG_MIN, as Redis on x86-64.
  EXPECT_EQ(Reply("1e30"), ":-9223372036854775808\r\n");
  EXPECT_EQ(Reply("0/0"), ":-9223372036854775808\r\n");
}

TEST_F(RespLua, BooleansFollowTheScriptsProtocol) {
  // RESP2 scripts: true is 1, false a null (in the caller's protocol).
  EXPECT_EQ(Reply("true", 2, 2), ":1\r\n");
  EXPECT_EQ(Reply("false", 2, 2), "$-1\r\n");
  EXPECT_EQ(Reply("false", 3, 2), "_\r\n");
  // RESP3 scripts: booleans, in the caller's protocol.
  EXPECT_EQ(Reply("true", 3, 3), "#t\r\n");
  EXPECT_EQ(Reply("false", 2, 3), ":0\r\n");
}

TEST_F(RespLua, NilAndOtherTypesAreNull) {
  EXPECT_EQ(Reply("nil"), "$-1\r\n");
  EXPECT_EQ(Reply("print", 3), "_\r\n");
}

TEST_F(RespLua, ArraysStopAtTheFirstNil) {
  EXPECT_EQ(Reply("{1, 'a', {2}, nil, 4}"),
            "*3\r\n:1\r\n$1\r\na\r\n*1\r\n:2\r\n");
  EXPECT_EQ(Reply("{x = 1}"), "*0\r\n");
}

TEST_F(RespLua, ErrorAndStatusTables) {
  EXPECT_EQ(Reply("{err = 'MYERR bad thing'}"), "-MYERR bad thing\r\n");
  EXPECT_EQ(Reply("{err = 'line\\nbreak'}"), "-line break\r\n");
  EXPECT_EQ(Reply("{ok = 'fine\\r\\nnow'}"), "+fine  now\r\n");
  // err wins over ok; a non-string err is not an error.
  EXPECT_EQ(Reply("{err = 'E x', ok = 'y'}"), "-E x\r\n");
  EXPECT_EQ(Reply("{err = {}, ok = 'y'}"), "+y\r\n");
}

TEST_F(RespLua, DoublesBigNumbersVerbatim) {
  EXPECT_EQ(Reply("{double = 3.5}", 2), "$3\r\n3.5\r\n");
  EXPECT_EQ(Reply("{double = 3.5}", 3), ",3.5\r\n");
  EXPECT_EQ(Reply("{double = 1/0}", 3), ",inf\r\n");
  EXPECT_EQ(Reply("{big_number = '123'}", 2), "$3\r\n123\r\n");
  EXPECT_EQ(Reply("{big_number = '12\\n3'}", 3), "(12 3\r\n");
  EXPECT_EQ(Reply("{verbatim_string = {format = 'txt', string = 'hi'}}", 3),
            "=6\r\ntxt:hi\r\n");
  // A short format is padded with spaces.
  EXPECT_EQ(Reply("{verbatim_string = {format = 'md', string = 'hi'}}", 3),
            "=6\r\nmd :hi\r\n");
  EXPECT_EQ(Reply("{verbatim_string = {format = 'txt', string = 'hi'}}", 2),
            "$2\r\nhi\r\n");
}

TEST_F(RespLua, MapsAndSets) {
  EXPECT_EQ(Reply("{map = {a = 1}}", 3), "%1\r\n$1\r\na\r\n:1\r\n");
  EXPECT_EQ(Reply("{map = {a = 1}}", 2), "*2\r\n$1\r\na\r\n:1\r\n");
  EXPECT_EQ(Reply("{set = {a = true}}", 3), "~1\r\n$1\r\na\r\n");
  EXPECT_EQ(Reply("{set = {a = true}}", 2), "*1\r\n$1\r\na\r\n");
}

TEST_F(RespLua, SelfReferenceStopsAtTheStackLimit) {
  ASSERT_EQ(luaL_dostring(L_, "t = {} t[1] = t"), 0);
  std::string out = Reply("t");
  const std::string tail = "-ERR reached lua stack limit\r\n";
  ASSERT_GE(out.size(), tail.size());
  EXPECT_EQ(out.substr(out.size() - tail.size()), tail);
  EXPECT_EQ(out.substr(0, 8), "*1\r\n*1\r\n");
}

TEST_F(RespLua, RoundTripThroughTheParser) {
  // What a script returns parses back to the same structure.
  std::string out = Reply("{1, 'two', {ok = 'three'}, {err = 'E four'}}");
  ASSERT_TRUE(Parse(out));
  EXPECT_EQ(Eval("v[1] .. v[2] .. v[3].ok .. v[4].err"), "1twothreeE four");
}

}  // namespace
