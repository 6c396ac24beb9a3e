/* lua_resp_fuzz.c: libFuzzer target for the conversion of command replies
 * into Lua values (script_resp_to_lua, server/scripting/resp_lua.c: what
 * redis.call returns to a script) and of Lua values back into replies
 * (script_lua_to_resp: what a script returns).
 *
 * Input: byte 0 bit 0 picks the script's RESP version (redis.setresp 2 or
 * 3), bit 1 the caller's; the rest is one RESP2/RESP3 reply (random bytes
 * mostly, so the parser's refusals are exercised as much as its answers).
 *
 * Oracle, besides ASan/UBSan: a refused reply pushes nothing; an accepted
 * one pushes exactly one value and consumed at most the input; that value,
 * replied to a fake client as a script's return value, gives bytes the
 * parser accepts whole (one reply, nothing left over). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "server/app.h"
#include "server/core/server.h"
#include "server/scripting/scripting.h"

typedef struct fuzz_input {
  const char *reply;
  size_t len;
  int script_resp;
  client *c;
} fuzz_input;

static sds take_reply(client *c) {
  sds out = sds_new_len(c->buf, c->bufpos);
  c->bufpos = 0;
  list_node *ln;
  while ((ln = list_first(c->reply)) != NULL) {
    client_reply_block *b = list_node_value(ln);
    if (b != NULL) {
      out = sds_cat_len(out, b->buf, b->used);
    }
    list_del_node(c->reply, ln);
  }
  c->reply_bytes = 0;
  return out;
}

/* Runs under lua_cpcall: a Lua memory error unwinds to it. */
static int convert(lua_State *L) {
  fuzz_input *in = lua_touserdata(L, 1);
  lua_pop(L, 1);
  int top = lua_gettop(L);
  size_t used = 0;
  if (!script_resp_to_lua(L, in->reply, in->len, &used)) {
    if (lua_gettop(L) != top) {
      abort(); /* a refusal must leave the stack as it was */
    }
    return 0;
  }
  if (lua_gettop(L) != top + 1 || used == 0 || used > in->len) {
    abort();
  }
  script_lua_to_resp(in->c, L, in->script_resp);
  if (lua_gettop(L) != top) {
    abort(); /* the value was consumed */
  }
  sds out = take_reply(in->c);
  size_t again = 0;
  int ok = script_resp_to_lua(L, out, sds_len(out), &again);
  if (!ok || again != sds_len(out)) {
    abort(); /* what a script returns must be one well-formed reply */
  }
  lua_pop(L, 1);
  sds_free(out);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static client *c;
  static lua_State *L;
  if (c == NULL) {
    server_init_for_tests();
    c = create_client(NULL);
    c->flags |= CLIENT_SCRIPT; /* replies are kept in its buffer */
    L = luaL_newstate();
  }
  if (size < 1 || size > 64 * 1024) {
    return 0;
  }
  fuzz_input in = {(const char *)data + 1, size - 1, (data[0] & 1) ? 3 : 2, c};
  c->resp = (data[0] & 2) ? 3 : 2;
  if (lua_cpcall(L, convert, &in) != 0) {
    lua_pop(L, 1); /* out of memory: nothing to check */
  }
  sds_free(take_reply(c));
  if (lua_gettop(L) != 0) {
    abort();
  }
  lua_gc(L, LUA_GCCOLLECT, 0);
  return 0;
}
