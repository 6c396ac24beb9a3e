/* function_lua.c: the Lua engine of functions, as Redis 7.0's
 * function_lua.c: one state for every library; a library's code runs once
 * at FUNCTION LOAD, where its globals hold only redis.register_function,
 * redis.log and the version fields, and registers callbacks (kept in the
 * registry) that FCALL runs later with the full API. */
#include <lauxlib.h>
#include <string.h>

#include "server/base/zmalloc.h"
#include "server/scripting/internal.h"

#define REG_LOAD_CTX "__LIBRARY_CTX__"
#define REG_LIBRARY_API "__LIBRARY_API__"
#define REG_GLOBALS_API "__GLOBALS_API__"
#define REG_ERROR_HANDLER "__ERROR_HANDLER__"
#define LOAD_HOOK_COUNT 100000

typedef struct load_ctx {
  function_lib *lib;
  long long start_us;
  long long timeout_ms; /* 0: none */
} load_ctx;

static load_ctx *load_ctx_of(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, REG_LOAD_CTX);
  load_ctx *ctx = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return ctx;
}

static void push_error_cstr(lua_State *L, const char *msg) {
  script_lua_push_error(L, sds_new(msg));
}

/* FUNCTION LOAD must be quick: a library still running after 500 ms is
 * stopped (not while loading from disk or from a master). */
static void load_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  load_ctx *ctx = load_ctx_of(L);
  if (ctx == NULL || ctx->timeout_ms <= 0) {
    return;
  }
  long long elapsed = (script_monotonic_us() - ctx->start_us) / 1000;
  if (elapsed > ctx->timeout_ms) {
    lua_sethook(L, load_hook, LUA_MASKLINE, 0);
    push_error_cstr(L, "FUNCTION LOAD timeout");
    lua_error(L);
  }
}

/* ------------------------------------------------------------------ */
/* redis.register_function                                              */
/* ------------------------------------------------------------------ */
typedef struct register_args {
  sds name, desc;
  int ref; /* LUA_NOREF until the callback is read */
  uint64_t flags;
} register_args;

static void register_args_free(lua_State *L, register_args *a) {
  sds_free(a->name);
  sds_free(a->desc);
  if (a->ref != LUA_NOREF) {
    luaL_unref(L, LUA_REGISTRYINDEX, a->ref);
  }
  a->name = a->desc = NULL;
  a->ref = LUA_NOREF;
}

static sds string_sds(lua_State *L, int idx) {
  if (!lua_isstring(L, idx)) {
    return NULL;
  }
  size_t len;
  const char *s = lua_tolstring(L, idx, &len);
  return sds_new_len(s, len);
}

/* read_flags: the flags table on the top of the stack. */
static int read_flags(lua_State *L, uint64_t *out) {
  uint64_t flags = 0;
  for (int j = 1;; j++) {
    lua_pushnumber(L, j);
    lua_gettable(L, -2);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      break;
    }
    if (!lua_isstring(L, -1)) {
      lua_pop(L, 1);
      return C_ERR;
    }
    const char *name = lua_tostring(L, -1);
    const script_flag_name *f;
    for (f = script_flag_names; f->name; f++) {
      if (!strcasecmp(f->name, name)) {
        break;
      }
    }
    lua_pop(L, 1);
    if (f->name == NULL) {
      return C_ERR;
    }
    flags |= f->flag;
  }
  *out = flags;
  return C_OK;
}

static int read_named_args(lua_State *L, register_args *a) {
  const char *err = NULL;
  if (!lua_istable(L, 1)) {
    err =
        "calling redis.register_function with a single argument is only "
        "applicable to Lua table (representing named arguments).";
    goto error;
  }
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    if (!lua_isstring(L, -2)) {
      err =
          "named argument key given to redis.register_function is not a "
          "string";
      goto error;
    }
    /* A copy: lua_tostring on the key itself would confuse lua_next. */
    lua_pushvalue(L, -2);
    const char *key = lua_tostring(L, -1);
    int is_name = !strcasecmp(key, "function_name");
    int is_desc = !strcasecmp(key, "description");
    int is_callback = !strcasecmp(key, "callback");
    int is_flags = !strcasecmp(key, "flags");
    lua_pop(L, 1);
    if (is_name) {
      sds_free(a->name);
      if ((a->name = string_sds(L, -1)) == NULL) {
        err =
            "function_name argument given to redis.register_function must "
            "be a string";
        goto error;
      }
    } else if (is_desc) {
      sds_free(a->desc);
      if ((a->desc = string_sds(L, -1)) == NULL) {
        err =
            "description argument given to redis.register_function must be "
            "a string";
        goto error;
      }
    } else if (is_callback) {
      if (!lua_isfunction(L, -1)) {
        err =
            "callback argument given to redis.register_function must be a "
            "function";
        goto error;
      }
      if (a->ref != LUA_NOREF) {
        luaL_unref(L, LUA_REGISTRYINDEX, a->ref);
      }
      a->ref = luaL_ref(L, LUA_REGISTRYINDEX); /* pops the value */
      continue;
    } else if (is_flags) {
      if (!lua_istable(L, -1)) {
        err =
            "flags argument to redis.register_function must be a table "
            "representing function flags";
        goto error;
      }
      if (read_flags(L, &a->flags) != C_OK) {
        err = "unknown flag given";
        goto error;
      }
    } else {
      err = "unknown argument given to redis.register_function";
      goto error;
    }
    lua_pop(L, 1);
  }
  if (a->name == NULL) {
    err = "redis.register_function must get a function name argument";
    goto error;
  }
  if (a->ref == LUA_NOREF) {
    err = "redis.register_function must get a callback argument";
    goto error;
  }
  return C_OK;
error:
  register_args_free(L, a);
  push_error_cstr(L, err);
  return C_ERR;
}

static int read_positional_args(lua_State *L, register_args *a) {
  if ((a->name = string_sds(L, 1)) == NULL) {
    push_error_cstr(L,
                    "first argument to redis.register_function must be a "
                    "string");
    return C_ERR;
  }
  if (!lua_isfunction(L, 2)) {
    register_args_free(L, a);
    push_error_cstr(L,
                    "second argument to redis.register_function must be a "
                    "function");
    return C_ERR;
  }
  a->ref = luaL_ref(L, LUA_REGISTRYINDEX); /* pops argument 2 */
  return C_OK;
}

static int register_function(lua_State *L) {
  load_ctx *ctx = load_ctx_of(L);
  if (ctx == NULL) {
    push_error_cstr(L,
                    "redis.register_function can only be called on "
                    "FUNCTION LOAD command");
    return lua_error(L);
  }
  register_args a = {NULL, NULL, LUA_NOREF, 0};
  int argc = lua_gettop(L);
  int ok;
  if (argc < 1 || argc > 2) {
    push_error_cstr(L, "wrong number of arguments to redis.register_function");
    ok = C_ERR;
  } else if (argc == 1) {
    ok = read_named_args(L, &a);
  } else {
    ok = read_positional_args(L, &a);
  }
  if (ok != C_OK) {
    return lua_error(L);
  }
  const char *err = NULL;
  if (functions_create_function(ctx->lib, a.name, a.desc, a.ref, a.flags,
                                &err) != C_OK) {
    register_args_free(L, &a);
    push_error_cstr(L, err);
    return lua_error(L);
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* The engine                                                           */
/* ------------------------------------------------------------------ */
lua_State *function_lua_init(void) {
  lua_State *L = script_lua_new_state(0);
  /* What a library's code sees while it loads: redis with
   * register_function, log and the version only. */
  lua_newtable(L);
  lua_newtable(L);
  lua_pushcfunction(L, register_function);
  lua_setfield(L, -2, "register_function");
  script_lua_register_log_and_version(L);
  script_lua_set_error_meta(L);
  lua_setfield(L, -2, "redis");
  script_lua_set_error_meta(L);
  script_lua_protect_top(L);
  lua_setfield(L, LUA_REGISTRYINDEX, REG_LIBRARY_API);

  script_lua_protect_globals(L);
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  lua_setfield(L, LUA_REGISTRYINDEX, REG_GLOBALS_API);
  /* The globals of every library: an empty read-only table reading from
   * the API of the moment (the load API while loading, all of it after). */
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  script_lua_new_globals_proxy(L, -1);
  lua_replace(L, LUA_GLOBALSINDEX);
  lua_pop(L, 1);
  return L;
}

static void set_globals_api(lua_State *L, const char *which) {
  lua_getfield(L, LUA_REGISTRYINDEX, which);
  script_lua_set_proxy_index(L, LUA_GLOBALSINDEX, -1);
  lua_pop(L, 1);
}

int function_lua_create(lua_State *L, function_lib *lib, const char *code,
                        size_t len, long long timeout_ms, const char **err) {
  int ret = C_ERR;
  set_globals_api(L, REG_LIBRARY_API);
  if (script_lua_load(L, code, len, "@user_function")) {
    *err = script_errorf("Error compiling function: %s", lua_tostring(L, -1));
    lua_pop(L, 1);
    goto done;
  }
  load_ctx ctx = {lib, script_monotonic_us(), timeout_ms};
  lua_pushlightuserdata(L, &ctx);
  lua_setfield(L, LUA_REGISTRYINDEX, REG_LOAD_CTX);
  lua_sethook(L, load_hook, LUA_MASKCOUNT, LOAD_HOOK_COUNT);
  if (lua_pcall(L, 0, 0, 0)) {
    sds msg, source, line;
    script_lua_error_info(L, &msg, &source, &line);
    *err = script_errorf("Error registering functions: %s", msg);
    sds_free(msg);
    sds_free(source);
    sds_free(line);
    lua_pop(L, 1);
    goto done;
  }
  ret = C_OK;
done:
  set_globals_api(L, REG_GLOBALS_API);
  lua_sethook(L, NULL, 0, 0);
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, REG_LOAD_CTX);
  return ret;
}

void function_lua_call(lua_State *L, script_run *run, function_info *fi,
                       robj **keys, size_t nkeys, robj **args, size_t nargs) {
  lua_getfield(L, LUA_REGISTRYINDEX, REG_ERROR_HANDLER);
  lua_rawgeti(L, LUA_REGISTRYINDEX, fi->lua_ref);
  server_assert(lua_isfunction(L, -1));
  script_lua_call(run, L, keys, nkeys, args, nargs);
  lua_pop(L, 1); /* the error handler */
}

void function_lua_free(lua_State *L, int lua_ref) {
  luaL_unref(L, LUA_REGISTRYINDEX, lua_ref);
}
