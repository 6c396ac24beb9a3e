/* struct_fuzz.c: libFuzzer target for struct.unpack
 * (server/scripting/lua_struct.c): a format language and binary data, both
 * from the script.
 *
 * Input: the format, a NUL, one byte choosing the start position (bit 7
 * clear: 1; set: the low 7 bits minus 64, so 0 and negative positions occur),
 * then the data. Without a NUL the whole input is the format and the data is
 * empty. In a fresh Lua state (every call under pcall: a Lua error is an
 * answer, not a finding) the target runs struct.unpack, struct.size and, with
 * the unpacked values, struct.pack. When unpack from position 1 and size both
 * succeed, the position after the data must be size + 1 (both align the same
 * way). A broken property raises "oracle: ..." and aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "server/scripting/lualibs.h"

/* Larger inputs only slow the fuzzer down. */
#define STRUCT_FUZZ_MAX_INPUT 4096

static const char kOracle[] =
    "local fmt, data, pos = ...\n"
    "local r = {pcall(struct.unpack, fmt, data, pos)}\n"
    "local ok_size, size = pcall(struct.size, fmt)\n"
    "if not r[1] then return end\n"
    "if ok_size and pos == 1 and r[#r] ~= size + 1 then\n"
    "  error('oracle: unpack of ' .. string.format('%q', fmt) .. ' ended at "
    "' .. r[#r] .. ', size says ' .. size)\n"
    "end\n"
    "pcall(struct.pack, fmt, unpack(r, 2, #r - 1))\n";

static void struct_fuzz_open(lua_State *L, const char *name,
                             lua_CFunction open) {
  lua_pushcfunction(L, open);
  lua_pushstring(L, name);
  lua_call(L, 1, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > STRUCT_FUZZ_MAX_INPUT) {
    return 0;
  }
  const uint8_t *nul = memchr(data, 0, size);
  size_t fmt_len = nul != NULL ? (size_t)(nul - data) : size;
  const uint8_t *rest = nul != NULL ? nul + 1 : data + size;
  size_t rest_len = size - (size_t)(rest - data);
  lua_Integer pos = 1;
  if (rest_len > 0) {
    if (rest[0] & 0x80) {
      pos = (lua_Integer)(rest[0] & 0x7f) - 64;
    }
    rest++;
    rest_len--;
  }

  lua_State *L = luaL_newstate();
  if (L == NULL) {
    abort();
  }
  struct_fuzz_open(L, "", luaopen_base);
  struct_fuzz_open(L, LUA_STRLIBNAME, luaopen_string);
  struct_fuzz_open(L, "struct", luaopen_struct);
  if (luaL_loadbuffer(L, kOracle, sizeof(kOracle) - 1, "=oracle") != 0) {
    fprintf(stderr, "struct_fuzz: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_pushlstring(L, (const char *)data, fmt_len);
  lua_pushlstring(L, (const char *)rest, rest_len);
  lua_pushinteger(L, pos);
  if (lua_pcall(L, 3, 0, 0) != 0) {
    fprintf(stderr, "struct_fuzz: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_close(L);
  return 0;
}
