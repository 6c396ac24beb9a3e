// Unit tests of the Lua libraries Redis 7.0 gives scripts, as Redoubt writes
// them (server/scripting/lua_cjson.c, lua_bit.c, lua_cmsgpack.c,
// lua_struct.c), on Debian's Lua 5.1.
//
// RedisCorpus replays every case of lualibs_test_redis_cases.h (recorded from
// redis-server 7.0.15 by gen_lualibs_redis_cases.py) and compares the answers
// byte for byte. The other tests say, one behaviour at a time, what a script
// sees, and cover what the corpus cannot reach through EVAL (userdata, __gc
// finalizers that call the libraries back, module registration).
#include <gtest/gtest.h>

#include <string>
#include <utility>

extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "server/scripting/lualibs.h"
}

#include "tests/unit/scripting/lualibs_test_redis_cases.h"

namespace {

// A Lua state with the standard libraries and the four, loaded the way
// Redis's luaLoadLibraries does (each luaopen_* called with its name).
class Lua {
 public:
  Lua() : L_(luaL_newstate()) {
    luaL_openlibs(L_);
    Load("cjson", luaopen_cjson);
    Load("struct", luaopen_struct);
    Load("cmsgpack", luaopen_cmsgpack);
    Load("bit", luaopen_bit);
  }
  ~Lua() { lua_close(L_); }
  Lua(const Lua &) = delete;
  Lua &operator=(const Lua &) = delete;

  lua_State *state() { return L_; }

  // Runs `script` as the chunk "@user_script" (the name Redis gives EVAL
  // bodies); returns {true, its first result as a string} or {false, the
  // error message}.
  std::pair<bool, std::string> Run(const std::string &script) {
    if (luaL_loadbuffer(L_, script.data(), script.size(), "@user_script") !=
            0 ||
        lua_pcall(L_, 0, 1, 0) != 0) {
      const char *message = lua_tostring(L_, -1);
      std::string error = message != nullptr ? message : "<non-string error>";
      lua_settop(L_, 0);
      return {false, error};
    }
    size_t len = 0;
    const char *s = lua_tolstring(L_, -1, &len);
    std::string out = s != nullptr
                          ? std::string(s, len)
                          : std::string("<") + luaL_typename(L_, -1) + ">";
    lua_settop(L_, 0);
    return {true, out};
  }

  // The value of `expression` (a string or something tostring()-able).
  std::string Eval(const std::string &expression) {
    auto result = Run("return tostring(" + expression + ")");
    EXPECT_TRUE(result.first) << expression << ": " << result.second;
    return result.second;
  }

  // The message of the error `statement` raises ("" when it does not).
  std::string Error(const std::string &statement) {
    auto result = Run(statement);
    EXPECT_FALSE(result.first) << statement << " did not fail";
    return result.first ? "" : result.second;
  }

 private:
  void Load(const char *name, lua_CFunction open) {
    lua_pushcfunction(L_, open);
    lua_pushstring(L_, name);
    lua_call(L_, 1, 0);
  }

  lua_State *L_;
};

// Error messages carry the chunk and line of the call, as in Redis.
std::string At1(const std::string &message) {
  return "user_script:1: " + message;
}

TEST(RedisCorpus, EveryCaseAnswersAsRedis) {
  size_t count = sizeof(kLualibsRedisCases) / sizeof(kLualibsRedisCases[0]);
  ASSERT_GT(count, 900u);
  size_t differing = 0;
  for (size_t i = 0; i < count; i++) {
    const lualibs_redis_case &c = kLualibsRedisCases[i];
    Lua lua;
    auto result =
        lua.Run(std::string(kLualibsPrelude) + c.body + kLualibsClose);
    ASSERT_TRUE(result.first) << "case " << i << " (" << c.body
                              << ") broke the harness: " << result.second;
    if (result.second != c.redis_answer) {
      differing++;
      ADD_FAILURE() << "case " << i << ": " << c.body
                    << "\n  redis: " << c.redis_answer
                    << "\n  ours:  " << result.second;
    }
  }
  EXPECT_EQ(differing, 0u) << "of " << count << " cases";
}

TEST(Registration, EachLibraryIsAGlobalTable) {
  Lua lua;
  for (const char *name : {"cjson", "bit", "cmsgpack", "struct"}) {
    EXPECT_EQ(lua.Eval("type(" + std::string(name) + ")"), "table") << name;
  }
  // luaL_register (bit, struct) also fills package.loaded; cjson and
  // cmsgpack set only the global, as in Redis.
  EXPECT_EQ(lua.Eval("package.loaded.bit == bit"), "true");
  EXPECT_EQ(lua.Eval("package.loaded.struct == struct"), "true");
  EXPECT_EQ(lua.Eval("package.loaded.cjson"), "nil");
  EXPECT_EQ(lua.Eval("package.loaded.cmsgpack"), "nil");
}

TEST(Registration, OpenLeavesTheTableAndReturnsOne) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  for (lua_CFunction open :
       {luaopen_cjson, luaopen_bit, luaopen_cmsgpack, luaopen_struct}) {
    int top = lua_gettop(L);
    EXPECT_EQ(open(L), 1);
    EXPECT_EQ(lua_gettop(L), top + 1);
    EXPECT_EQ(lua_type(L, -1), LUA_TTABLE);
    lua_settop(L, top);
  }
  lua_close(L);
}

// The settings and buffers live in userdata upvalues, which Lua 5.1's debug
// library cannot touch: a script cannot free or swap them.
TEST(Registration, StateInUpvaluesIsOutOfScriptsReach) {
  Lua lua;
  EXPECT_EQ(lua.Eval("select('#', debug.getupvalue(cjson.encode, 1))"), "0");
  EXPECT_EQ(lua.Eval("select('#', debug.getupvalue(cmsgpack.pack, 1))"), "0");
  EXPECT_EQ(lua.Eval("select('#', debug.setupvalue(cjson.encode, 1, 1))"), "0");
  EXPECT_EQ(lua.Eval("cjson.encode({1})"), "[1]");
}

TEST(Cjson, EncodesScalarsArraysAndObjects) {
  Lua lua;
  EXPECT_EQ(lua.Eval("cjson.encode({1, 'a', true, cjson.null, 0.5})"),
            "[1,\"a\",true,null,0.5]");
  EXPECT_EQ(lua.Eval("cjson.encode({a = {b = {}}})"), "{\"a\":{\"b\":{}}}");
  EXPECT_EQ(lua.Eval("cjson.encode(1/3)"), "0.33333333333333");
  EXPECT_EQ(lua.Eval("cjson.encode('\\1/\\\"\\127')"),
            "\"\\u0001\\/\\\"\\u007f\"");
  EXPECT_EQ(lua.Eval("cjson.encode({[1] = 1, [3] = 3})"), "[1,null,3]");
  EXPECT_EQ(lua.Eval("cjson.encode({[2^31] = 1, [3] = 2})"), "[null,null,2]");
}

TEST(Cjson, RefusesWhatJsonCannotSay) {
  Lua lua;
  EXPECT_EQ(lua.Error("cjson.encode(math.huge)"),
            At1("Cannot serialise number: must not be NaN or Inf"));
  EXPECT_EQ(lua.Error("cjson.encode({[1] = 1, [100] = 1})"),
            At1("Cannot serialise table: excessively sparse array"));
  EXPECT_EQ(lua.Error("cjson.encode(newproxy())"),
            At1("Cannot serialise userdata: type not supported"));
  EXPECT_EQ(lua.Error("cjson.encode({io.stdout})"),
            At1("Cannot serialise userdata: type not supported"));
  EXPECT_EQ(lua.Error("local t = {} t[1] = t cjson.encode(t)"),
            At1("Cannot serialise, excessive nesting (1001)"));
  EXPECT_EQ(lua.Error("cjson.encode({[true] = 1})"),
            At1("Cannot serialise boolean: table key must be a number or "
                "string"));
}

TEST(Cjson, EncodesANonNullLightUserdataAsAnError) {
  Lua lua;
  lua_State *L = lua.state();
  lua_getglobal(L, "cjson");
  lua_getfield(L, -1, "encode");
  static int marker;
  lua_pushlightuserdata(L, &marker);
  ASSERT_NE(lua_pcall(L, 1, 1, 0), 0);
  EXPECT_STREQ(lua_tostring(L, -1),
               "Cannot serialise userdata: type not supported");
  lua_settop(L, 0);
}

TEST(Cjson, DecodesAndReportsTheFirstBadCharacter) {
  Lua lua;
  EXPECT_EQ(lua.Eval("cjson.decode('{\"a\":[1,2,{\"b\":null}]}').a[3].b == "
                     "cjson.null"),
            "true");
  EXPECT_EQ(lua.Eval("cjson.decode('\"\\\\ud83d\\\\ude00\"')"),
            "\xf0\x9f\x98\x80");
  EXPECT_EQ(lua.Error("cjson.decode('x')"),
            At1("Expected value but found invalid token at character 1"));
  EXPECT_EQ(lua.Error("cjson.decode('[1,]')"),
            At1("Expected value but found T_ARR_END at character 4"));
  EXPECT_EQ(lua.Error("cjson.decode('{\"a\" 1}')"),
            At1("Expected colon but found T_NUMBER at character 6"));
  EXPECT_EQ(lua.Error("cjson.decode('\"abc')"),
            At1("Expected value but found unexpected end of string at "
                "character 5"));
  EXPECT_EQ(lua.Error("cjson.decode('\\0[')"),
            At1("JSON parser does not support UTF-16 or UTF-32"));
  EXPECT_EQ(lua.Error("cjson.decode(string.rep('[', 1001))"),
            At1("Found too many nested data structures (1001) at character "
                "1001"));
  // A NUL ends the text: what follows is not read.
  EXPECT_EQ(lua.Eval("cjson.decode('[7]\\0garbage')[1]"), "7");
}

TEST(Cjson, OptionsReturnTheirValuesAndInstancesAreIndependent) {
  Lua lua;
  EXPECT_EQ(lua.Eval("table.concat({tostring((cjson.encode_sparse_array())), "
                     "select(2, cjson.encode_sparse_array())}, ',')"),
            "false,2,10");
  EXPECT_EQ(lua.Eval("cjson.encode_invalid_numbers('null')"), "null");
  EXPECT_EQ(lua.Eval("cjson.encode({0/0})"), "[null]");
  EXPECT_EQ(lua.Eval("cjson.encode_invalid_numbers(true)"), "true");
  EXPECT_EQ(lua.Eval("cjson.encode({math.huge, 0/0})"), "[inf,nan]");
  EXPECT_EQ(lua.Error("cjson.new().encode(math.huge)"),
            At1("Cannot serialise number: must not be NaN or Inf"));
  EXPECT_EQ(lua.Error("cjson.encode_number_precision(15)"),
            At1("bad argument #1 to 'encode_number_precision' (expected "
                "integer between 1 and 14)"));
  EXPECT_EQ(lua.Eval("cjson.encode_keep_buffer(false)"), "false");
  EXPECT_EQ(lua.Eval("cjson.encode({string.rep('x', 100000)}):len()"),
            "100004");
}

TEST(Cjson, RoundTripsEveryByte) {
  Lua lua;
  EXPECT_EQ(lua.Eval("(function() local s = '' for i = 0, 255 do "
                     "s = s .. string.char(i) end "
                     "return cjson.decode(cjson.encode({s, s})) [2] == s "
                     "end)()"),
            "true");
}

TEST(Bit, ReducesNumbersModulo2To32AsSigned) {
  Lua lua;
  EXPECT_EQ(lua.Eval("bit.tobit(2^31)"), "-2147483648");
  EXPECT_EQ(lua.Eval("bit.tobit(2^32 + 5)"), "5");
  EXPECT_EQ(lua.Eval("bit.tobit(2.5)"), "2");  // ties to even
  EXPECT_EQ(lua.Eval("bit.tobit(3.5)"), "4");
  EXPECT_EQ(lua.Eval("bit.tobit('0x10')"), "16");
  EXPECT_EQ(lua.Eval("bit.band(-1, 0xff, 0x0f)"), "15");
  EXPECT_EQ(lua.Eval("bit.bor(1, 2, 4)"), "7");
  EXPECT_EQ(lua.Eval("bit.bxor(-1, 1)"), "-2");
  EXPECT_EQ(lua.Eval("bit.bnot(0)"), "-1");
  EXPECT_EQ(lua.Eval("bit.lshift(1, 31)"), "-2147483648");
  EXPECT_EQ(lua.Eval("bit.lshift(1, 32)"), "1");  // counts are mod 32
  EXPECT_EQ(lua.Eval("bit.rshift(-1, 28)"), "15");
  EXPECT_EQ(lua.Eval("bit.arshift(-256, 4)"), "-16");
  EXPECT_EQ(lua.Eval("bit.rol(0x80000001, 1)"), "3");
  EXPECT_EQ(lua.Eval("bit.ror(3, 1)"), "-2147483647");
  EXPECT_EQ(lua.Eval("bit.bswap(0x01020304)"), "67305985");
  EXPECT_EQ(lua.Error("bit.band(1, {})"),
            At1("bad argument #2 to 'band' (number expected, got table)"));
}

TEST(Bit, TohexPrintsTheLowNibbles) {
  Lua lua;
  EXPECT_EQ(lua.Eval("bit.tohex(255)"), "000000ff");
  EXPECT_EQ(lua.Eval("bit.tohex(255, 2)"), "ff");
  EXPECT_EQ(lua.Eval("bit.tohex(255, -4)"), "00FF");
  EXPECT_EQ(lua.Eval("bit.tohex(-1, 12)"), "ffffffff");
  EXPECT_EQ(lua.Eval("bit.tohex(1, 0)"), "");
  // -2^31 cannot be negated: Redis (CVE-2024-31449) treats it as 8 digits.
  EXPECT_EQ(lua.Eval("bit.tohex(1, -2^31)"), "00000001");
}

TEST(Cmsgpack, PicksTheSmallestEncoding) {
  Lua lua;
  std::string str8 = "d920";
  for (int i = 0; i < 32; i++) {
    str8 += "78";
  }
  const std::pair<std::string, std::string> cases[] = {
      {"0", "00"},
      {"-32", "e0"},
      {"200", "ccc8"},
      {"-200", "d1ff38"},
      {"70000", "ce00011170"},
      {"2^40", "cf0000010000000000"},
      {"-2^40", "d3ffffff0000000000"},
      {"0.5", "ca3f000000"},
      {"0.1", "cb3fb999999999999a"},
      {"'ab'", "a26162"},
      {"string.rep('x', 32)", str8},
      {"{}", "90"},
      {"{1, 2}", "920102"},
      {"{a = true}", "81a161c3"},
      {"nil", "c0"},
  };
  for (const auto &c : cases) {
    EXPECT_EQ(lua.Eval("(cmsgpack.pack(" + c.first +
                       "):gsub('.', function(c) return "
                       "string.format('%02x', c:byte()) end))"),
              c.second)
        << c.first;
  }
}

TEST(Cmsgpack, RoundTripsAndStreams) {
  Lua lua;
  EXPECT_EQ(lua.Eval("cjson.encode({cmsgpack.unpack(cmsgpack.pack("
                     "{1, {a = 'b'}, -3.25}, 'x', 2^53))})"),
            "[[1,{\"a\":\"b\"},-3.25],\"x\",9.007199254741e+15]");
  EXPECT_EQ(lua.Eval("table.concat({cmsgpack.unpack_one(cmsgpack.pack(1, "
                     "2), 0)}, ',')"),
            "1,1");
  EXPECT_EQ(lua.Eval("table.concat({cmsgpack.unpack_limit(cmsgpack.pack(1, "
                     "2, 3), 2)}, ',')"),
            "2,1,2");
  EXPECT_EQ(lua.Error("cmsgpack.unpack('\\205\\1')"),
            At1("Missing bytes in input."));
  EXPECT_EQ(lua.Error("cmsgpack.unpack('\\193')"),
            At1("Bad data format in input."));
  EXPECT_EQ(lua.Error("cmsgpack.pack()"),
            At1("bad argument #0 to 'pack' (MessagePack pack needs "
                "input.)"));
  // Tables nested more than 16 deep become nil: cycles terminate.
  EXPECT_EQ(lua.Eval("#cmsgpack.pack((function() local t = {} t[1] = t "
                     "return t end)())"),
            "17");
}

TEST(Struct, PacksUnpacksAndSizes) {
  Lua lua;
  EXPECT_EQ(lua.Eval("(struct.pack('>!4 b i h', 1, 2, 3):gsub('.', "
                     "function(c) return string.format('%02x', c:byte()) "
                     "end))"),
            "01000000000000020003");
  EXPECT_EQ(lua.Eval("table.concat({struct.unpack('<i2 s B c0', "
                     "'\\255\\255ab\\0\\3xyz')}, ',')"),
            "-1,ab,xyz,10");
  EXPECT_EQ(lua.Eval("struct.size('!8 b d')"), "16");
  EXPECT_EQ(lua.Error("struct.pack('i33', 1)"),
            At1("integral size 33 is larger than limit of 32"));
  EXPECT_EQ(lua.Error("struct.unpack('i', 'ab')"),
            At1("bad argument #2 to 'unpack' (data string too short)"));
  EXPECT_EQ(lua.Error("struct.size('s')"),
            At1("bad argument #1 to 'size' (option 's' has no fixed size)"));
  EXPECT_EQ(lua.Error("struct.pack('!3')"),
            At1("alignment 3 is not a power of 2"));
  EXPECT_EQ(lua.Error("struct.pack('q')"),
            At1("bad argument #1 to 'pack' (invalid format option 'q')"));
}

// Finalizers (__gc of newproxy userdata) run inside the allocations the
// libraries make, and may call the libraries again: each call must keep its
// own buffers. With the collector stepping on every allocation, every push
// runs some.
TEST(Reentrancy, FinalizersThatUseTheLibrariesDoNotDisturbACall) {
  Lua lua;
  auto result = lua.Run(R"lua(
    local seen = 0
    local function spawn()
      local p = newproxy(true)
      getmetatable(p).__gc = function()
        seen = seen + 1
        assert(cjson.encode({1, 'x\n', {a = 2}}) == '[1,"x\\n",{"a":2}]')
        assert(cjson.decode('"\\u00e9\\n"') == '\195\169\n')
        assert(cmsgpack.pack('ab', {1}) == '\162ab\145\1')
        spawn()
      end
    end
    for i = 1, 50 do spawn() end
    collectgarbage('setpause', 1)
    collectgarbage('setstepmul', 100000)
    local big = {}
    for i = 1, 100 do big[i] = {k = string.rep('v', i), n = i / 7} end
    local json = cjson.encode(big)
    local packed = cmsgpack.pack(big, big)
    for round = 1, 5 do
      assert(cjson.encode(big) == json)
      local back = cjson.decode(json)
      assert(back[100].k == string.rep('v', 100))
      assert(cmsgpack.pack(big, big) == packed)
      local a, b = cmsgpack.unpack(packed)
      assert(b[17].n == 17 / 7)
      assert(cjson.decode('["\\u0041\\n", "' .. string.rep('z', 300) .. '"]')[1] == 'A\n')
    end
    collectgarbage('setpause', 200)
    return seen > 0 and 'ok' or 'no finalizer ran'
  )lua");
  EXPECT_TRUE(result.first) << result.second;
  EXPECT_EQ(result.second, "ok");
}

// A finalizer that raises an error unwinds the call that triggered it; the
// buffer that call held is freed with the module (LeakSanitizer checks it in
// the ASan build), and the library keeps working.
TEST(Reentrancy, AnErrorFromAFinalizerLeavesNothingBehind) {
  Lua lua;
  auto result = lua.Run(R"lua(
    local armed, raised = false, 0
    local function spawn()
      local p = newproxy(true)
      getmetatable(p).__gc = function()
        if armed then
          raised = raised + 1
          error('boom')
        end
      end
    end
    local t = {}
    for i = 1, 100 do t[i] = string.rep('q', i) end
    collectgarbage('setpause', 1)
    collectgarbage('setstepmul', 100000)
    for i = 1, 100 do
      local json = '["\n' .. i .. '"]'
      for j = 1, 3 do spawn() end
      armed = true
      pcall(cjson.encode, t)
      pcall(cjson.decode, json)
      pcall(cmsgpack.pack, t, t)
      armed = false
    end
    collectgarbage('setpause', 200)
    collectgarbage()
    assert(cjson.decode(cjson.encode(t))[100] == t[100])
    assert(select(2, cmsgpack.unpack(cmsgpack.pack(1, t)))[3] == 'qqq')
    return raised > 0 and 'ok' or 'no finalizer raised'
  )lua");
  EXPECT_TRUE(result.first) << result.second;
  EXPECT_EQ(result.second, "ok");
}

}  // namespace
