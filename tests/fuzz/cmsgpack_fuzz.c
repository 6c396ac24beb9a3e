/* cmsgpack_fuzz.c: libFuzzer target for cmsgpack's decoder
 * (server/scripting/lua_cmsgpack.c), which reads whatever bytes a script hands
 * it: values other scripts or clients stored.
 *
 * The whole input is a MessagePack stream, given to cmsgpack.unpack in a
 * fresh Lua state (a Lua error is an answer, not a finding: every call runs
 * under pcall). When it decodes to n values, the target checks:
 *   - unpack_one, called from offset 0 until it returns -1, takes n steps;
 *   - unpack_limit(s, 1, offset) walks the same offsets;
 *   - the values pack, and what they pack to unpacks to n values again
 *     (unless a map key was a table nested past 16 levels: it packs as nil,
 *     which no map can hold, as in Redis);
 *     after two such rounds the packed length no longer changes (the rounds
 *     normalise: tables past 16 levels become nil, arrays with nil holes
 *     become maps, doubles that fit a float shrink; only map order may still
 *     differ).
 * A broken property raises "oracle: ..." and aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "server/scripting/lualibs.h"

/* Larger inputs only slow the fuzzer down. */
#define CMSGPACK_FUZZ_MAX_INPUT (64 * 1024)

static const char kOracle[] =
    "local s = ...\n"
    "local function count(...) return select('#', ...), {...} end\n"
    "local ok, n, values = pcall(function() return count(cmsgpack.unpack(s)) "
    "end)\n"
    "if not ok then return end\n"
    "local steps, offset = 0, 0\n"
    "while offset ~= -1 and offset < #s do\n"
    "  local ok1, next1 = pcall(cmsgpack.unpack_one, s, offset)\n"
    "  if not ok1 then error('oracle: unpack_one failed at ' .. offset .. "
    "': ' .. next1) end\n"
    "  local ok2, next2 = pcall(cmsgpack.unpack_limit, s, 1, offset)\n"
    "  if not ok2 or next2 ~= next1 then error('oracle: unpack_limit "
    "differs at ' .. offset) end\n"
    "  steps, offset = steps + 1, next1\n"
    "end\n"
    "if steps ~= n then error('oracle: unpack gave ' .. n .. ' values, "
    "unpack_one ' .. steps) end\n"
    "if n == 0 or n > 3000 then return end\n"
    "local function repack(v, k)\n"
    "  local packed = cmsgpack.pack(unpack(v, 1, k))\n"
    "  local ok1, k1, v1 = pcall(function() return "
    "count(cmsgpack.unpack(packed)) end)\n"
    "  if not ok1 then\n"
    "    if k1 == 'table index is nil' then return nil end\n"
    "    error('oracle: packed values do not unpack: ' .. k1)\n"
    "  end\n"
    "  if k1 ~= k then error('oracle: ' .. k .. ' values came back as ' .. k1) "
    "end\n"
    "  return packed, v1\n"
    "end\n"
    "local first, v1 = repack(values, n)\n"
    "if not first then return end\n"
    "local second, v2 = repack(v1, n)\n"
    "local third = repack(v2, n)\n"
    "if #third ~= #second then error('oracle: repacked length ' .. #third .. "
    "' differs from ' .. #second) end\n";

static void cmsgpack_fuzz_open(lua_State *L, const char *name,
                               lua_CFunction open) {
  lua_pushcfunction(L, open);
  lua_pushstring(L, name);
  lua_call(L, 1, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > CMSGPACK_FUZZ_MAX_INPUT) {
    return 0;
  }
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    abort();
  }
  cmsgpack_fuzz_open(L, "", luaopen_base);
  cmsgpack_fuzz_open(L, LUA_TABLIBNAME, luaopen_table);
  cmsgpack_fuzz_open(L, LUA_STRLIBNAME, luaopen_string);
  cmsgpack_fuzz_open(L, "cmsgpack", luaopen_cmsgpack);
  if (luaL_loadbuffer(L, kOracle, sizeof(kOracle) - 1, "=oracle") != 0) {
    fprintf(stderr, "cmsgpack_fuzz: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, 0, 0) != 0) {
    fprintf(stderr, "cmsgpack_fuzz: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_close(L);
  return 0;
}
