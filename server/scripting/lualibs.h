/* lualibs.h: the Lua libraries Redis 7.0 gives scripts, as Lua C modules
 * (each registers its global table and returns 1): cjson (JSON encode and
 * decode, lua-cjson 2.1's behaviour as Redis embeds it), bit (Lua BitOp
 * 1.0.2), cmsgpack (MessagePack, lua-cmsgpack 0.4's behaviour) and struct
 * (Roberto Ierusalimschy's struct library 0.2, as Redis embeds it). The
 * behaviour and error texts follow those libraries; the code is ours.
 *
 * Load each one as Redis's luaLoadLib does (lua_pushcfunction, then
 * lua_pushstring with its name, lua_call(L, 1, 0)) or call it directly: it
 * sets the global (cjson, bit, cmsgpack, struct; bit and struct also in
 * package.loaded) and leaves the table on the stack. cjson keeps its settings,
 * and cmsgpack.pack its buffers, in a userdata upvalue of each function
 * (Lua 5.1's debug library cannot touch C upvalues; a function that finds a
 * foreign upvalue raises an error rather than use it). The functions may be
 * re-entered from __gc finalizers. tests/unit/scripting/lualibs_test.cc
 * compares them with redis-server 7.0.15, byte for byte. */
#ifndef REDOUBT_SCRIPTING_LUALIBS_H
#define REDOUBT_SCRIPTING_LUALIBS_H

#include <lua.h>

int luaopen_cjson(lua_State *L);
int luaopen_bit(lua_State *L);
int luaopen_cmsgpack(lua_State *L);
int luaopen_struct(lua_State *L);

#endif
