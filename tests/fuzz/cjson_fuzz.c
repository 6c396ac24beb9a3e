/* cjson_fuzz.c: libFuzzer target for cjson's decoder
 * (server/scripting/lua_cjson.c), which parses whatever text a script hands
 * it (JSON from clients, stored values).
 *
 * The whole input is decoded in a fresh Lua state twice: by cjson with its
 * defaults (hex, inf, nan accepted; 1000 levels), and by a cjson.new()
 * instance with decode_invalid_numbers off and 16 levels. A Lua error is an
 * answer, not a finding: every call runs under pcall. When the default decode
 * succeeds and its value encodes, the target checks that the JSON it encodes
 * to decodes again and encodes to the same length (only object key order may
 * differ). A broken property raises "oracle: ..." and aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "server/scripting/lualibs.h"

/* Larger inputs only slow the fuzzer down. */
#define CJSON_FUZZ_MAX_INPUT (64 * 1024)

static const char kOracle[] =
    "local s = ...\n"
    "local strict = cjson.new()\n"
    "strict.decode_invalid_numbers(false)\n"
    "strict.decode_max_depth(16)\n"
    "pcall(strict.decode, s)\n"
    "local ok, value = pcall(cjson.decode, s)\n"
    "if not ok then return end\n"
    "local ok1, json = pcall(cjson.encode, value)\n"
    "if not ok1 then return end\n"
    "local ok2, back = pcall(cjson.decode, json)\n"
    "if not ok2 then error('oracle: ' .. json .. ' does not decode: ' .. "
    "back) end\n"
    "local ok3, again = pcall(cjson.encode, back)\n"
    "if not ok3 then error('oracle: decoded ' .. json .. ' does not "
    "encode: ' .. again) end\n"
    "if #again ~= #json then error('oracle: ' .. json .. ' re-encodes as ' "
    ".. again) end\n";

static void cjson_fuzz_open(lua_State *L, const char *name,
                            lua_CFunction open) {
  lua_pushcfunction(L, open);
  lua_pushstring(L, name);
  lua_call(L, 1, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > CJSON_FUZZ_MAX_INPUT) {
    return 0;
  }
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    abort();
  }
  cjson_fuzz_open(L, "", luaopen_base);
  cjson_fuzz_open(L, "cjson", luaopen_cjson);
  if (luaL_loadbuffer(L, kOracle, sizeof(kOracle) - 1, "=oracle") != 0) {
    fprintf(stderr, "cjson_fuzz: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, 0, 0) != 0) {
    fprintf(stderr, "cjson_fuzz: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_close(L);
  return 0;
}
