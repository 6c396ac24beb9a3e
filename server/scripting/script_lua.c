/* script_lua.c: the Lua engine both EVAL and functions run on: the sandbox
 * (which libraries exist, read-only globals), the redis table
 * (redis.call/pcall and the helpers), math.random as Redis's, the error
 * handler and running one script.
 *
 * Read-only tables. Redis 7.0 patches its Lua so that a table can be made
 * read-only; Debian's Lua 5.1 has no such flag, so each protected table is
 * replaced by an empty proxy whose metatable reads through to it and raises
 * "Attempt to modify a readonly table" on writes. The builtins that bypass
 * metatables (rawset, rawget, next, pairs, ipairs, setmetatable,
 * getmetatable, table.insert/remove/sort/setn) are replaced by versions that
 * see through the proxies and refuse to write to them, so scripts observe
 * what Redis's read-only tables show. The real tables are reachable only
 * from the registry. */
#include <lauxlib.h>
#include <lualib.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "server/acl/acl.h"
#include "server/base/sha1.h"
#include "server/base/zmalloc.h"
#include "server/scripting/internal.h"
#include "server/scripting/lualibs.h"

#define REG_READONLY "__redoubt_readonly__" /* read-only table -> true */
#define REG_REAL "__redoubt_real__"         /* proxy -> the table behind it */
#define REG_PROXY "__redoubt_proxy__"       /* table -> its proxy */
#define REG_GLOBALS "__redoubt_globals__"   /* the real globals table */
#define REG_NEXT "__redoubt_next__"         /* our next(), pairs returns it */
#define READONLY_ERR "Attempt to modify a readonly table"
#define LUA_HOOK_COUNT 100000 /* instructions between two busy checks */
#define LUA_GC_CYCLE_PERIOD 50

/* ------------------------------------------------------------------ */
/* Registry helpers                                                     */
/* ------------------------------------------------------------------ */
/* The run each Lua state is executing, kept in C rather than in the
 * registry: redis.call asks for it on every call. Only one script runs at
 * a time; a few slots cover every state that can hold one (EVAL's, the
 * functions', a library being loaded). */
#define RUN_SLOTS 4
static struct {
  lua_State *L;
  script_run *run;
} runs[RUN_SLOTS];

static script_run *run_of(lua_State *L) {
  for (int j = 0; j < RUN_SLOTS; j++) {
    if (runs[j].L == L) {
      return runs[j].run;
    }
  }
  return NULL;
}

static void set_run(lua_State *L, script_run *run) {
  int free_slot = -1;
  for (int j = 0; j < RUN_SLOTS; j++) {
    if (runs[j].L == L) {
      runs[j].run = run;
      if (run == NULL) {
        runs[j].L = NULL;
      }
      return;
    }
    if (runs[j].L == NULL && free_slot == -1) {
      free_slot = j;
    }
  }
  if (run == NULL) {
    return;
  }
  server_assert(free_slot != -1);
  runs[free_slot].L = L;
  runs[free_slot].run = run;
}

/* abs_index: |idx| made independent of later pushes (pseudo-indices such
 * as LUA_GLOBALSINDEX stay as they are). */
static int abs_index(lua_State *L, int idx) {
  return (idx > 0 || idx <= LUA_REGISTRYINDEX) ? idx : lua_gettop(L) + idx + 1;
}

/* reg_lookup pushes registry[map][value at idx] (nil when absent). */
static void reg_lookup(lua_State *L, const char *map, int idx) {
  idx = abs_index(L, idx);
  lua_getfield(L, LUA_REGISTRYINDEX, map);
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    lua_pushnil(L);
    return;
  }
  lua_pushvalue(L, idx);
  lua_rawget(L, -2);
  lua_remove(L, -2);
}

static void reg_store(lua_State *L, const char *map, int key_idx, int val_idx) {
  key_idx = abs_index(L, key_idx);
  val_idx = abs_index(L, val_idx);
  lua_getfield(L, LUA_REGISTRYINDEX, map);
  lua_pushvalue(L, key_idx);
  lua_pushvalue(L, val_idx);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

/* ------------------------------------------------------------------ */
/* Errors                                                               */
/* ------------------------------------------------------------------ */
void script_lua_push_error(lua_State *L, sds err) {
  sds code, msg;
  /* "-CODE message" keeps its code; a plain message gets ERR. */
  if (err[0] == '-') {
    char *space = strchr(err, ' ');
    if (space == NULL) {
      msg = sds_new(err + 1);
      code = sds_new("ERR");
    } else {
      msg = sds_new(space + 1);
      code = sds_new_len(err + 1, (size_t)(space - err - 1));
    }
    sds_free(err);
  } else {
    msg = err;
    code = sds_new("ERR");
  }
  msg = sds_trim(msg, "\r\n");
  code = sds_cat_len(code, " ", 1);
  code = sds_cat_sds(code, msg);
  lua_newtable(L);
  lua_pushstring(L, "err");
  lua_pushlstring(L, code, sds_len(code));
  lua_settable(L, -3);
  sds_free(msg);
  sds_free(code);
}

static void push_error_cstr(lua_State *L, const char *err) {
  script_lua_push_error(L, sds_new(err));
}

int script_lua_error_info(lua_State *L, sds *out_msg, sds *out_source,
                          sds *out_line) {
  *out_msg = *out_source = *out_line = NULL;
  int ignore_stats = 0;
  if (lua_type(L, -1) == LUA_TSTRING) {
    *out_msg = sds_cat_printf(sds_empty(), "ERR %s", lua_tostring(L, -1));
    return 0;
  }
  if (!lua_istable(L, -1)) {
    *out_msg = sds_new("ERR (error object is not a string)");
    return 0;
  }
  lua_getfield(L, -1, "err");
  if (lua_isstring(L, -1)) {
    *out_msg = sds_new(lua_tostring(L, -1));
  }
  lua_pop(L, 1);
  lua_getfield(L, -1, "source");
  if (lua_isstring(L, -1)) {
    *out_source = sds_new(lua_tostring(L, -1));
  }
  lua_pop(L, 1);
  lua_getfield(L, -1, "line");
  if (lua_isstring(L, -1)) {
    *out_line = sds_new(lua_tostring(L, -1));
  }
  lua_pop(L, 1);
  lua_getfield(L, -1, "ignore_error_stats_update");
  if (lua_isboolean(L, -1)) {
    ignore_stats = lua_toboolean(L, -1);
  }
  lua_pop(L, 1);
  if (*out_msg == NULL) {
    /* error({}): Redis 7.0.15 crashes on it; we reply a generic error. */
    *out_msg = sds_new("ERR (error object is a table without an err field)");
  }
  return ignore_stats;
}

/* ------------------------------------------------------------------ */
/* Read-only tables                                                     */
/* ------------------------------------------------------------------ */
static int is_readonly(lua_State *L, int idx) {
  if (lua_type(L, idx) != LUA_TTABLE) {
    return 0;
  }
  reg_lookup(L, REG_READONLY, idx);
  int ro = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return ro;
}

/* push_real pushes the table behind the proxy at |idx|, or the value. */
static void push_real(lua_State *L, int idx) {
  idx = abs_index(L, idx);
  if (lua_type(L, idx) == LUA_TTABLE) {
    reg_lookup(L, REG_REAL, idx);
    if (!lua_isnil(L, -1)) {
      return;
    }
    lua_pop(L, 1);
  }
  lua_pushvalue(L, idx);
}

/* A write through a read-only table's metamethod: the error carries the
 * script's position, as Redis's VM error does. */
static int readonly_newindex(lua_State *L) {
  return luaL_error(L, READONLY_ERR);
}

/* A write by a builtin (rawset, setmetatable...): no position, as Redis's
 * error raised inside a C function. */
static int readonly_error(lua_State *L) {
  lua_pushstring(L, READONLY_ERR);
  return lua_error(L);
}

/* protect_top replaces the table on the top of the stack with its read-only
 * proxy, protecting the tables it holds (and its metatable) first. */
static void protect_top(lua_State *L) {
  int t = lua_gettop(L);
  if (is_readonly(L, t)) {
    return;
  }
  reg_lookup(L, REG_PROXY, t);
  if (!lua_isnil(L, -1)) {
    lua_replace(L, t);
    return;
  }
  lua_pop(L, 1);
  lua_checkstack(L, 8);
  lua_newtable(L); /* the proxy, at t + 1 */
  int p = t + 1;
  reg_store(L, REG_PROXY, t, p);
  reg_store(L, REG_REAL, p, t);
  lua_pushboolean(L, 1);
  reg_store(L, REG_READONLY, p, -1);
  lua_pop(L, 1);
  lua_newtable(L);
  lua_pushvalue(L, t);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, readonly_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_setmetatable(L, p);
  /* The values: tables become their proxies (changing an existing field
   * during lua_next is allowed). */
  lua_pushnil(L);
  while (lua_next(L, t)) {
    if (lua_istable(L, -1)) {
      protect_top(L);
      lua_pushvalue(L, -2); /* key */
      lua_insert(L, -2);    /* key, key, proxy */
      lua_rawset(L, t);     /* key */
    } else {
      lua_pop(L, 1);
    }
  }
  if (lua_getmetatable(L, t)) {
    protect_top(L);
    lua_pop(L, 1);
  }
  lua_replace(L, t); /* the proxy takes the table's slot */
}

void script_lua_protect_top(lua_State *L) { protect_top(L); }

/* The metatable whose __index reports a nonexistent global. */
static int nonexistent_global(lua_State *L) {
  if (lua_gettop(L) != 2) {
    return luaL_error(L, "Wrong number of arguments to luaProtectedTableError");
  }
  if (!lua_isstring(L, -1) && !lua_isnumber(L, -1)) {
    return luaL_error(
        L,
        "Second argument to luaProtectedTableError must be a string or "
        "number");
  }
  return luaL_error(
      L, "Script attempted to access nonexistent global variable '%s'",
      lua_tostring(L, -1));
}

void script_lua_set_error_meta(lua_State *L) {
  lua_newtable(L);
  lua_pushcfunction(L, nonexistent_global);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
}

void script_lua_new_globals_proxy(lua_State *L, int index_idx) {
  index_idx = abs_index(L, index_idx);
  lua_newtable(L);
  lua_newtable(L);
  lua_pushvalue(L, index_idx);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, readonly_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_setmetatable(L, -2);
  lua_pushboolean(L, 1);
  reg_store(L, REG_READONLY, -2, -1);
  lua_pop(L, 1);
}

void script_lua_set_proxy_index(lua_State *L, int proxy_idx, int index_idx) {
  proxy_idx = abs_index(L, proxy_idx);
  index_idx = abs_index(L, index_idx);
  if (!lua_getmetatable(L, proxy_idx)) {
    return;
  }
  lua_pushvalue(L, index_idx);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

/* ---- the builtins that bypass metatables ---- */
static int sb_next(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  push_real(L, 1);
  lua_replace(L, 1);
  if (lua_next(L, 1)) {
    return 2;
  }
  lua_pushnil(L);
  return 1;
}

static int sb_pairs(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, LUA_REGISTRYINDEX, REG_NEXT);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

static int sb_ipairs_aux(lua_State *L) {
  int i = luaL_checkint(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  i++;
  lua_pushinteger(L, i);
  lua_rawgeti(L, 1, i);
  return lua_isnil(L, -1) ? 0 : 2;
}

static int sb_ipairs(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_pushcfunction(L, sb_ipairs_aux);
  push_real(L, 1);
  lua_pushinteger(L, 0);
  return 3;
}

static int sb_rawget(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  lua_settop(L, 2);
  push_real(L, 1);
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  return 1;
}

static int sb_rawset(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  luaL_checkany(L, 3);
  if (is_readonly(L, 1)) {
    return readonly_error(L);
  }
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 1;
}

static int sb_setmetatable(lua_State *L) {
  int t = lua_type(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_argcheck(L, t == LUA_TNIL || t == LUA_TTABLE, 2,
                "nil or table expected");
  if (is_readonly(L, 1)) {
    return readonly_error(L);
  }
  if (luaL_getmetafield(L, 1, "__metatable")) {
    return luaL_error(L, "cannot change a protected metatable");
  }
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
}

static int sb_getmetatable(lua_State *L) {
  luaL_checkany(L, 1);
  int obj = 1;
  if (lua_type(L, 1) == LUA_TTABLE && is_readonly(L, 1)) {
    reg_lookup(L, REG_REAL, 1);
    if (lua_isnil(L, -1)) {
      lua_pushnil(L); /* an opaque read-only table: nothing to show */
      return 1;
    }
    obj = lua_gettop(L);
  }
  if (!lua_getmetatable(L, obj)) {
    lua_pushnil(L);
    return 1;
  }
  if (luaL_getmetafield(L, obj, "__metatable")) {
    return 1;
  }
  /* A protected metatable is shown as its proxy. */
  reg_lookup(L, REG_PROXY, -1);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
  }
  return 1;
}

/* table.insert, table.remove and table.sort write with rawset: refused on
 * proxies. The original runs as an upvalue; the argument checks it would
 * fail are made here first, so their messages name the function and the
 * script line as the original's do. */
static int sb_table_writer(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  const char *which = lua_tostring(L, lua_upvalueindex(2));
  if (which[0] == 'i') { /* insert */
    int n = lua_gettop(L);
    if (n == 3) {
      luaL_checkint(L, 2);
    } else if (n != 2) {
      return luaL_error(L, "wrong number of arguments to " LUA_QL("insert"));
    }
  } else if (which[0] == 'r') { /* remove */
    luaL_optint(L, 2, 0);
  } else if (!lua_isnoneornil(L, 2)) { /* sort */
    luaL_checktype(L, 2, LUA_TFUNCTION);
  }
  if (is_readonly(L, 1)) {
    return readonly_error(L);
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

/* ---- loading: text only ---- */
typedef struct load_source {
  const char *buf;
  size_t len;
  int space_sent; /* bytecode: a space first, so the text parser sees it */
} load_source;

static const char *load_reader(lua_State *L, void *ud, size_t *size) {
  (void)L;
  load_source *s = ud;
  if (!s->space_sent) {
    s->space_sent = 1;
    *size = 1;
    return " ";
  }
  if (s->len == 0) {
    return NULL;
  }
  *size = s->len;
  s->len = 0;
  return s->buf;
}

int script_lua_load(lua_State *L, const char *buf, size_t len,
                    const char *name) {
  /* Lua 5.1 loads precompiled chunks (starting with ESC), which can break
   * out of any sandbox; Redis's Lua refuses them. A leading space makes the
   * parser read the chunk as text and fail on the ESC as Redis's does. */
  load_source s = {buf, len, !(len > 0 && buf[0] == LUA_SIGNATURE[0])};
  return lua_load(L, load_reader, &s, name);
}

static int sb_loadstring(lua_State *L) {
  size_t l;
  const char *s = luaL_checklstring(L, 1, &l);
  const char *chunkname = luaL_optstring(L, 2, s);
  if (script_lua_load(L, s, l, chunkname) == 0) {
    return 1;
  }
  lua_pushnil(L);
  lua_insert(L, -2);
  return 2;
}

/* load(reader [, chunkname]): the pieces are read first (a failing reader
 * gives nil and its message, as lua_load reports it), then compiled as
 * text. */
static int sb_load(lua_State *L) {
  const char *cname = luaL_optstring(L, 2, "=(load)");
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 2);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (;;) {
    lua_pushvalue(L, 1);
    if (lua_pcall(L, 0, 1, 0) != 0) {
      lua_pushnil(L);
      lua_insert(L, -2);
      return 2;
    }
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      break;
    }
    if (!lua_isstring(L, -1)) {
      lua_pushnil(L);
      luaL_where(L, 1);
      lua_pushliteral(L, "reader function must return a string");
      lua_concat(L, 2);
      return 2;
    }
    size_t n;
    lua_tolstring(L, -1, &n);
    if (n == 0) {
      lua_pop(L, 1);
      break;
    }
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  size_t len;
  const char *code = lua_tolstring(L, -1, &len);
  if (script_lua_load(L, code, len, cname) == 0) {
    return 1;
  }
  lua_pushnil(L);
  lua_insert(L, -2);
  return 2;
}

/* ------------------------------------------------------------------ */
/* math.random: Redis's rand48, the same sequence everywhere            */
/* ------------------------------------------------------------------ */
#define RAND48_MAX INT32_MAX
static uint32_t rand48_x[3] = {0x330E, 0xABCD, 0x1234};
static const uint32_t rand48_a[3] = {0xE66D, 0xDEEC, 0x5};
#define RAND48_C 0xB
#define LOW16(x) ((unsigned)(x)&0xFFFF)
#define HIGH16(x) LOW16((x) >> 16)

static void rand48_next(void) {
  uint32_t p[2], q[2], r[2], carry0, carry1;
  int32_t l;
  l = (int32_t)((long)rand48_a[0] * (long)rand48_x[0]);
  p[0] = LOW16(l);
  p[1] = HIGH16(l);
  carry0 = (int32_t)p[0] + (long)RAND48_C > 0xFFFF;
  p[0] = LOW16(p[0] + RAND48_C);
  carry1 = (int32_t)p[1] + (long)carry0 > 0xFFFF;
  p[1] = LOW16(p[1] + carry0);
  l = (int32_t)((long)rand48_a[0] * (long)rand48_x[1]);
  q[0] = LOW16(l);
  q[1] = HIGH16(l);
  carry0 = (int32_t)p[1] + (long)q[0] > 0xFFFF;
  p[1] = LOW16(p[1] + q[0]);
  l = (int32_t)((long)rand48_a[1] * (long)rand48_x[0]);
  r[0] = LOW16(l);
  r[1] = HIGH16(l);
  rand48_x[2] = LOW16(carry0 + carry1 + ((int32_t)p[1] + (long)r[0] > 0xFFFF) +
                      q[1] + r[1] + rand48_a[0] * rand48_x[2] +
                      rand48_a[1] * rand48_x[1] + rand48_a[2] * rand48_x[0]);
  rand48_x[1] = LOW16(p[1] + r[0]);
  rand48_x[0] = LOW16(p[0]);
}

static int32_t redis_lrand48(void) {
  rand48_next();
  return (int32_t)(((uint32_t)rand48_x[2] << 15) + (rand48_x[1] >> 1));
}

static void redis_srand48(int32_t seed) {
  rand48_x[0] = 0x330E;
  rand48_x[1] = LOW16(seed);
  rand48_x[2] = HIGH16(seed);
}

static int redis_math_random(lua_State *L) {
  if (run_of(L) == NULL) {
    return luaL_error(
        L, "math.random can only be called inside a script invocation");
  }
  lua_Number r =
      (lua_Number)(redis_lrand48() % RAND48_MAX) / (lua_Number)RAND48_MAX;
  switch (lua_gettop(L)) {
    case 0:
      lua_pushnumber(L, r);
      break;
    case 1: {
      int u = luaL_checkint(L, 1);
      luaL_argcheck(L, 1 <= u, 1, "interval is empty");
      lua_pushnumber(L, floor(r * u) + 1);
      break;
    }
    case 2: {
      int l = luaL_checkint(L, 1);
      int u = luaL_checkint(L, 2);
      luaL_argcheck(L, l <= u, 2, "interval is empty");
      lua_pushnumber(L, floor(r * (u - l + 1)) + l);
      break;
    }
    default:
      return luaL_error(L, "wrong number of arguments");
  }
  return 1;
}

static int redis_math_randomseed(lua_State *L) {
  if (run_of(L) == NULL) {
    return luaL_error(
        L, "math.randomseed can only be called inside a script invocation");
  }
  redis_srand48(luaL_checkint(L, 1));
  return 0;
}

/* ------------------------------------------------------------------ */
/* redis.call and redis.pcall                                           */
/* ------------------------------------------------------------------ */
/* args_to_argv fills c's argv from the Lua arguments (numbers printed with
 * %.17g, as Redis does), popping them. 1, or 0 with an error pushed. */
static int args_to_argv(lua_State *L, client *c) {
  int argc = lua_gettop(L);
  if (argc == 0) {
    push_error_cstr(L,
                    "Please specify at least one argument for this redis lib "
                    "call");
    return 0;
  }
  if (c->argv_len < argc) {
    c->argv = zrealloc(c->argv, sizeof(robj *) * (size_t)argc);
    c->argv_len = argc;
  }
  int j;
  for (j = 0; j < argc; j++) {
    const char *s;
    size_t len;
    char dbuf[64];
    if (lua_type(L, j + 1) == LUA_TNUMBER) {
      int n =
          snprintf(dbuf, sizeof(dbuf), "%.17g", (double)lua_tonumber(L, j + 1));
      s = dbuf;
      len = (size_t)n;
    } else {
      s = lua_tolstring(L, j + 1, &len);
      if (s == NULL) {
        break;
      }
    }
    c->argv[j] = create_string_object(s, len);
  }
  lua_pop(L, argc);
  if (j != argc) {
    for (int k = 0; k < j; k++) {
      decr_ref_count(c->argv[k]);
    }
    push_error_cstr(L,
                    "Lua redis lib command arguments must be strings or "
                    "integers");
    return 0;
  }
  c->argc = argc;
  return 1;
}

/* take_reply: the fake client's whole reply; *out_owned when it is a new
 * sds. The client's buffers are emptied. */
static const char *take_reply(client *c, size_t *out_len, sds *out_owned) {
  *out_owned = NULL;
  if (list_length(c->reply) == 0) {
    *out_len = c->bufpos;
    c->bufpos = 0;
    return c->buf;
  }
  sds reply = sds_new_len(c->buf, c->bufpos);
  c->bufpos = 0;
  list_node *ln;
  while ((ln = list_first(c->reply)) != NULL) {
    client_reply_block *b = list_node_value(ln);
    if (b != NULL) {
      reply = sds_cat_len(reply, b->buf, b->used);
    }
    list_del_node(c->reply, ln);
  }
  c->reply_bytes = 0;
  *out_owned = reply;
  *out_len = sds_len(reply);
  return reply;
}

static int in_redis_call;

static int redis_generic_command(lua_State *L, int raise_error) {
  script_run *run = run_of(L);
  if (run == NULL) {
    push_error_cstr(
        L, "redis.call/pcall can only be called inside a script invocation");
    return lua_error(L);
  }
  if (in_redis_call) {
    /* Reached again through a Lua hook: refused, as Redis does. */
    const char *w =
        "luaRedisGenericCommand() recursive call detected. Are you doing "
        "funny stuff with Lua debug hooks?";
    server_log(LL_WARNING, "%s", w);
    push_error_cstr(L, w);
    return 1;
  }
  client *c = run->c;
  if (!args_to_argv(L, c)) {
    return raise_error ? lua_error(L) : 1;
  }
  in_redis_call = 1;
  const char *err = NULL;
  script_call(run, &err);
  if (err != NULL) {
    script_lua_push_error(L, sds_new(err));
    /* Already counted when the command was refused. */
    lua_pushstring(L, "ignore_error_stats_update");
    lua_pushboolean(L, 1);
    lua_settable(L, -3);
    /* A refusal may have left partial output: drop it. */
    sds owned;
    size_t len;
    take_reply(c, &len, &owned);
    sds_free(owned);
  } else {
    size_t len;
    sds owned;
    const char *reply = take_reply(c, &len, &owned);
    if (raise_error && (len == 0 || reply[0] != '-')) {
      raise_error = 0;
    }
    if (!script_resp_to_lua(L, reply, len, NULL)) {
      push_error_cstr(L, "Unsupported reply from the command");
      raise_error = 1;
    }
    sds_free(owned);
  }
  /* The command may have replaced argv: free what the client holds. */
  reset_client(c);
  c->user = NULL;
  in_redis_call = 0;
  if (raise_error) {
    return lua_error(L);
  }
  return 1;
}

static int redis_call(lua_State *L) { return redis_generic_command(L, 1); }
static int redis_pcall(lua_State *L) { return redis_generic_command(L, 0); }

/* pcall: Lua's, but an error object that is a table with an err field
 * gives that string (Redis 7.0 keeps scripts written for older versions,
 * where errors were strings, working). */
static int sb_pcall(lua_State *L) {
  int argc = lua_gettop(L);
  if (argc == 0) {
    /* Redis calls its placeholder: what pcall() returns there. */
    lua_pushboolean(L, 0);
    lua_pushliteral(L, "attempt to call a boolean value");
    return 2;
  }
  lua_pushboolean(L, 1);
  lua_insert(L, 1);
  if (lua_pcall(L, argc - 1, LUA_MULTRET, 0)) {
    lua_remove(L, 1);
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "err");
      if (lua_isstring(L, -1)) {
        lua_replace(L, -2);
      } else {
        lua_pop(L, 1);
      }
    }
    lua_pushboolean(L, 0);
    lua_insert(L, 1);
  }
  return lua_gettop(L);
}

/* ------------------------------------------------------------------ */
/* The other redis.* functions                                          */
/* ------------------------------------------------------------------ */
void script_sha1hex(char out[41], const char *s, size_t len) {
  sha1_hex(s, len, out);
}

static int redis_sha1hex(lua_State *L) {
  if (lua_gettop(L) != 1) {
    push_error_cstr(L, "wrong number of arguments");
    return lua_error(L);
  }
  size_t len;
  const char *s = lua_tolstring(L, 1, &len);
  char digest[41];
  script_sha1hex(digest, s ? s : "", s ? len : 0);
  lua_pushstring(L, digest);
  return 1;
}

static int redis_error_reply(lua_State *L) {
  if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
    push_error_cstr(L, "wrong number or type of arguments");
    return 1;
  }
  const char *err = lua_tostring(L, -1);
  sds buf =
      err[0] != '-' ? sds_cat_printf(sds_empty(), "-%s", err) : sds_new(err);
  script_lua_push_error(L, buf);
  return 1;
}

static int redis_status_reply(lua_State *L) {
  if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
    push_error_cstr(L, "wrong number or type of arguments");
    return 1;
  }
  lua_newtable(L);
  lua_pushstring(L, "ok");
  lua_pushvalue(L, -3);
  lua_settable(L, -3);
  return 1;
}

static int redis_set_repl(lua_State *L) {
  script_run *run = run_of(L);
  if (run == NULL) {
    push_error_cstr(
        L, "redis.set_repl can only be called inside a script invocation");
    return lua_error(L);
  }
  if (lua_gettop(L) != 1) {
    push_error_cstr(L, "redis.set_repl() requires two arguments.");
    return lua_error(L);
  }
  int flags = (int)lua_tonumber(L, -1);
  if ((flags & ~PROPAGATE_ALL) != 0) {
    push_error_cstr(L,
                    "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, "
                    "REPL_ALL or REPL_NONE.");
    return lua_error(L);
  }
  run->repl_flags = flags;
  return 0;
}

static int redis_acl_check_cmd(lua_State *L) {
  script_run *run = run_of(L);
  if (run == NULL) {
    push_error_cstr(
        L, "redis.acl_check_cmd can only be called inside a script invocation");
    return lua_error(L);
  }
  /* The arguments go through a scratch client's argv (freed below). */
  client tmp;
  memset(&tmp, 0, sizeof(tmp));
  if (!args_to_argv(L, &tmp)) {
    zfree(tmp.argv);
    return lua_error(L);
  }
  int raise = 0;
  redis_command *cmd = lookup_command(tmp.argv, tmp.argc);
  if (cmd == NULL) {
    push_error_cstr(L, "Invalid command passed to redis.acl_check_cmd()");
    raise = 1;
  } else {
    acl_user *u = run->caller->user ? run->caller->user : acl_default_user();
    int errpos = 0;
    int ok = u == NULL ||
             acl_check_command(u, cmd, tmp.argv, tmp.argc, &errpos) == ACL_OK;
    lua_pushboolean(L, ok);
  }
  for (int j = 0; j < tmp.argc; j++) {
    decr_ref_count(tmp.argv[j]);
  }
  zfree(tmp.argv);
  return raise ? lua_error(L) : 1;
}

static int redis_log(lua_State *L) {
  int argc = lua_gettop(L);
  if (argc < 2) {
    push_error_cstr(L, "redis.log() requires two arguments or more.");
    return lua_error(L);
  }
  if (!lua_isnumber(L, -argc)) {
    push_error_cstr(L, "First argument must be a number (log level).");
    return lua_error(L);
  }
  int level = (int)lua_tonumber(L, -argc);
  if (level < LL_DEBUG || level > LL_WARNING) {
    push_error_cstr(L, "Invalid debug level.");
    return lua_error(L);
  }
  if (level < server_log_settings.verbosity) {
    return 0;
  }
  sds log = sds_empty();
  for (int j = 1; j < argc; j++) {
    size_t len;
    const char *s = lua_tolstring(L, (-argc) + j, &len);
    if (s) {
      if (j != 1) {
        log = sds_cat_len(log, " ", 1);
      }
      log = sds_cat_len(log, s, len);
    }
  }
  server_log_raw(level, log);
  sds_free(log);
  return 0;
}

static int redis_setresp(lua_State *L) {
  script_run *run = run_of(L);
  if (run == NULL) {
    push_error_cstr(
        L, "redis.setresp can only be called inside a script invocation");
    return lua_error(L);
  }
  if (lua_gettop(L) != 1) {
    push_error_cstr(L, "redis.setresp() requires one argument.");
    return lua_error(L);
  }
  int resp = (int)lua_tonumber(L, -1);
  if (resp != 2 && resp != 3) {
    push_error_cstr(L, "RESP version must be 2 or 3.");
    return lua_error(L);
  }
  run->c->resp = resp;
  return 0;
}

/* The debugger is not implemented: outside a debugging session Redis's
 * redis.breakpoint returns false and redis.debug does nothing. */
static int redis_breakpoint(lua_State *L) {
  lua_pushboolean(L, 0);
  return 1;
}

static int redis_debug(lua_State *L) {
  (void)L;
  return 0;
}

static int redis_replicate_commands(lua_State *L) {
  lua_pushboolean(L, 1);
  return 1;
}

static void set_number(lua_State *L, const char *name, lua_Number n) {
  lua_pushnumber(L, n);
  lua_setfield(L, -2, name);
}

static void set_function(lua_State *L, const char *name, lua_CFunction f) {
  lua_pushcfunction(L, f);
  lua_setfield(L, -2, name);
}

void script_lua_register_log_and_version(lua_State *L) {
  set_function(L, "log", redis_log);
  set_number(L, "LOG_DEBUG", LL_DEBUG);
  set_number(L, "LOG_VERBOSE", LL_VERBOSE);
  set_number(L, "LOG_NOTICE", LL_NOTICE);
  set_number(L, "LOG_WARNING", LL_WARNING);
  /* REDIS_VERSION_NUM: 0x00MMmmpp. */
  int major = 0, minor = 0, patch = 0;
  sscanf(REDOUBT_VERSION, "%d.%d.%d", &major, &minor, &patch);
  set_number(L, "REDIS_VERSION_NUM", (major << 16) | (minor << 8) | patch);
  lua_pushstring(L, REDOUBT_VERSION);
  lua_setfield(L, -2, "REDIS_VERSION");
}

/* ------------------------------------------------------------------ */
/* Building a state                                                     */
/* ------------------------------------------------------------------ */
static void open_lib(lua_State *L, const char *name, lua_CFunction f) {
  lua_pushcfunction(L, f);
  lua_pushstring(L, name);
  lua_call(L, 1, 0);
}

static void wrap_table_writer(lua_State *L, const char *name) {
  lua_getfield(L, -1, name);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return;
  }
  lua_pushstring(L, name);
  lua_pushcclosure(L, sb_table_writer, 2);
  lua_setfield(L, -2, name);
}

/* Redis's error handler: adds where the error happened (the caller of a C
 * function that raised it) and turns a string error into {err=...}. */
static const char *err_handler_code =
    "local dbg = debug\n"
    "local error_handler = function (err)\n"
    "  local i = dbg.getinfo(2,'nSl')\n"
    "  if i and i.what == 'C' then\n"
    "    i = dbg.getinfo(3,'nSl')\n"
    "  end\n"
    "  if type(err) ~= 'table' then\n"
    "    err = {err='ERR ' .. tostring(err)}"
    "  end"
    "  if i then\n"
    "    err['source'] = i.source\n"
    "    err['line'] = i.currentline\n"
    "  end"
    "  return err\n"
    "end\n"
    "return error_handler";

lua_State *script_lua_new_state(int eval_flavour) {
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    server_panic("cannot create a Lua state");
  }
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, REG_READONLY);
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, REG_REAL);
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, REG_PROXY);
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  lua_setfield(L, LUA_REGISTRYINDEX, REG_GLOBALS);

  open_lib(L, "", luaopen_base);
  open_lib(L, LUA_TABLIBNAME, luaopen_table);
  open_lib(L, LUA_STRLIBNAME, luaopen_string);
  open_lib(L, LUA_MATHLIBNAME, luaopen_math);
  open_lib(L, LUA_DBLIBNAME, luaopen_debug);
  open_lib(L, "cjson", luaopen_cjson);
  open_lib(L, "struct", luaopen_struct);
  open_lib(L, "cmsgpack", luaopen_cmsgpack);
  open_lib(L, "bit", luaopen_bit);

  /* The error handler keeps debug.getinfo; then debug goes. */
  if (luaL_loadbuffer(L, err_handler_code, strlen(err_handler_code),
                      "@err_handler_def") ||
      lua_pcall(L, 0, 1, 0)) {
    server_panic("cannot compile the Lua error handler: %s",
                 lua_tostring(L, -1));
  }
  if (eval_flavour) {
    lua_setglobal(L, "__redis__err__handler");
  } else {
    lua_setfield(L, LUA_REGISTRYINDEX, "__ERROR_HANDLER__");
  }
  /* Globals Redis 7.0 (as Debian ships it) does not give scripts. */
  static const char *const removed[] = {
      "debug",   "dofile",   "loadfile", "print",   "getfenv",
      "setfenv", "newproxy", "module",   "require", NULL};
  for (int j = 0; removed[j] != NULL; j++) {
    lua_pushnil(L);
    lua_setglobal(L, removed[j]);
  }
  /* The builtins that would see through or write into read-only tables. */
  lua_pushcfunction(L, sb_next);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, REG_NEXT);
  lua_setglobal(L, "next");
  static const struct {
    const char *name;
    lua_CFunction f;
  } builtins[] = {{"pairs", sb_pairs},
                  {"ipairs", sb_ipairs},
                  {"rawget", sb_rawget},
                  {"rawset", sb_rawset},
                  {"setmetatable", sb_setmetatable},
                  {"getmetatable", sb_getmetatable},
                  {"loadstring", sb_loadstring},
                  {"load", sb_load},
                  {"pcall", sb_pcall},
                  {NULL, NULL}};
  for (int j = 0; builtins[j].name != NULL; j++) {
    lua_pushcfunction(L, builtins[j].f);
    lua_setglobal(L, builtins[j].name);
  }
  lua_getglobal(L, "table");
  wrap_table_writer(L, "insert");
  wrap_table_writer(L, "remove");
  wrap_table_writer(L, "sort");
  lua_pop(L, 1);

  /* The redis table. */
  lua_newtable(L);
  set_function(L, "call", redis_call);
  set_function(L, "pcall", redis_pcall);
  script_lua_register_log_and_version(L);
  set_function(L, "setresp", redis_setresp);
  set_function(L, "sha1hex", redis_sha1hex);
  set_function(L, "error_reply", redis_error_reply);
  set_function(L, "status_reply", redis_status_reply);
  set_function(L, "set_repl", redis_set_repl);
  set_number(L, "REPL_NONE", PROPAGATE_NONE);
  set_number(L, "REPL_AOF", PROPAGATE_AOF);
  set_number(L, "REPL_SLAVE", PROPAGATE_REPL);
  set_number(L, "REPL_REPLICA", PROPAGATE_REPL);
  set_number(L, "REPL_ALL", PROPAGATE_ALL);
  set_function(L, "acl_check_cmd", redis_acl_check_cmd);
  if (eval_flavour) {
    set_function(L, "breakpoint", redis_breakpoint);
    set_function(L, "debug", redis_debug);
    set_function(L, "replicate_commands", redis_replicate_commands);
  }
  lua_setglobal(L, "redis");

  lua_getglobal(L, "math");
  set_function(L, "random", redis_math_random);
  set_function(L, "randomseed", redis_math_randomseed);
  lua_pop(L, 1);
  return L;
}

void script_lua_protect_globals(lua_State *L) {
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  script_lua_set_error_meta(L);
  /* The string metatable is read-only too (Debian's Redis 7.0.15). */
  lua_pushliteral(L, "");
  if (lua_getmetatable(L, -1)) {
    protect_top(L);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  protect_top(L); /* the globals' proxy */
  lua_replace(L, LUA_GLOBALSINDEX);
}

/* ------------------------------------------------------------------ */
/* Running a script                                                     */
/* ------------------------------------------------------------------ */
/* The count hook: checks the busy threshold and SCRIPT KILL. */
static void script_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  script_run *run = run_of(L);
  if (run != NULL && script_interrupt(run)) {
    server_log(LL_WARNING, "Lua script killed by user with SCRIPT KILL.");
    /* Fire on every line from now on, so that a pcall catching the error
     * cannot keep the script alive. */
    lua_sethook(L, script_hook, LUA_MASKLINE, 0);
    push_error_cstr(L, "Script killed by user with SCRIPT KILL...");
    lua_error(L);
  }
}

static void create_array(lua_State *L, robj **elev, size_t elec) {
  lua_createtable(L, (int)elec, 0);
  for (size_t j = 0; j < elec; j++) {
    if (elev[j]->encoding == OBJ_ENCODING_INT) {
      char buf[32];
      int n = ll2string(buf, sizeof(buf), (long)elev[j]->ptr);
      lua_pushlstring(L, buf, (size_t)n);
    } else {
      sds s = elev[j]->ptr;
      lua_pushlstring(L, s, sds_len(s));
    }
    lua_rawseti(L, -2, (int)j + 1);
  }
}

void script_lua_call(script_run *run, lua_State *L, robj **keys, size_t nkeys,
                     robj **args, size_t nargs) {
  client *caller = run->caller;
  int eval_mode = (run->flags & RUN_EVAL_MODE) != 0;
  set_run(L, run);
  in_redis_call = 0; /* a Lua memory error may have skipped its reset */
  int hooked = 0;
  if (server.busy_reply_threshold > 0) {
    lua_sethook(L, script_hook, LUA_MASKCOUNT, LUA_HOOK_COUNT);
    hooked = 1;
  }
  lua_checkstack(L, 8);
  if (eval_mode) {
    /* KEYS and ARGV are globals: set in the real table. */
    lua_getfield(L, LUA_REGISTRYINDEX, REG_GLOBALS);
    create_array(L, keys, nkeys);
    lua_setfield(L, -2, "KEYS");
    create_array(L, args, nargs);
    lua_setfield(L, -2, "ARGV");
    lua_pop(L, 1);
  } else {
    create_array(L, keys, nkeys);
    create_array(L, args, nargs);
  }
  int err = eval_mode ? lua_pcall(L, 0, 1, -2) : lua_pcall(L, 2, 1, -4);

  static long gc_count = 0;
  if (++gc_count == LUA_GC_CYCLE_PERIOD) {
    lua_gc(L, LUA_GCSTEP, LUA_GC_CYCLE_PERIOD);
    gc_count = 0;
  }
  if (err) {
    if (!lua_istable(L, -1)) {
      const char *msg = "execution failure";
      if (lua_isstring(L, -1)) {
        msg = lua_tostring(L, -1);
      }
      add_reply_error_format(caller, "Error running script %s, %.100s\n",
                             run->funcname, msg);
    } else {
      sds msg, source, line;
      int ignore = script_lua_error_info(L, &msg, &source, &line);
      sds final = sds_cat_printf(sds_empty(), "-%s", msg);
      if (line && source) {
        final = sds_cat_printf(final, " script: %s, on %s:%s.", run->funcname,
                               source, line);
      }
      add_reply_error_sds_ex(caller, final,
                             ignore ? ERR_REPLY_FLAG_NO_STATS_UPDATE : 0);
      sds_free(msg);
      sds_free(source);
      sds_free(line);
    }
    lua_pop(L, 1);
  } else {
    script_lua_to_resp(caller, L, run->c->resp);
  }
  if (hooked) {
    lua_sethook(L, NULL, 0, 0);
  }
  set_run(L, NULL);
}

size_t script_lua_memory(lua_State *L) {
  return (size_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024;
}
