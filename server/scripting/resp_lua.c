/* resp_lua.c: Redis replies to Lua values (what redis.call returns) and Lua
 * values to replies (what a script returns), with Redis 7.0's rules for
 * RESP2 and RESP3.
 *
 * The reply parser validates everything it reads, although the replies it
 * is given come from the server's own commands: it is also what the fuzz
 * target feeds random bytes to. */
#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "server/scripting/internal.h"

/* Deeper replies are refused (no command nests this deep). */
#define RESP_MAX_DEPTH 128

typedef struct reply_parser {
  const char *p;
  const char *end;
} reply_parser;

/* read_line: the bytes up to the next CRLF (not included); the parser moves
 * past the CRLF. 0 if there is none. */
static int read_line(reply_parser *rp, const char **out, size_t *out_len) {
  const char *start = rp->p;
  for (const char *q = start; q + 1 < rp->end; q++) {
    if (q[0] == '\r' && q[1] == '\n') {
      *out = start;
      *out_len = (size_t)(q - start);
      rp->p = q + 2;
      return 1;
    }
  }
  return 0;
}

static int line_to_ll(const char *s, size_t len, long long *out) {
  return len > 0 && string2ll(s, len, out);
}

/* ensure_stack: room for |n| more values, as Redis's checks (it panics
 * where we fail the conversion). */
static int ensure_stack(lua_State *L, int n) {
  return L == NULL || lua_checkstack(L, n);
}

static int parse_reply(reply_parser *rp, lua_State *L, int depth);

/* parse_aggregate reads |count| elements (pairs when |pairs|) into the
 * table on the top; kind: 0 array, 1 map, 2 set. */
static int parse_aggregate(reply_parser *rp, lua_State *L, long long count,
                           int kind, int depth) {
  /* Every element takes 3 bytes at least: a count beyond that is a lie. */
  long long left = (long long)(rp->end - rp->p);
  if (count > left / 3 + 1) {
    return 0;
  }
  for (long long j = 0; j < count; j++) {
    if (kind == 0) {
      if (!ensure_stack(L, 2)) {
        return 0;
      }
      if (L) {
        lua_pushnumber(L, (lua_Number)(j + 1));
      }
      if (!parse_reply(rp, L, depth + 1)) {
        return 0;
      }
      if (L) {
        lua_settable(L, -3);
      }
    } else if (kind == 1) {
      if (!parse_reply(rp, L, depth + 1) || !parse_reply(rp, L, depth + 1)) {
        return 0;
      }
      if (L) {
        /* A nil key (RESP3 null as a map key) cannot index a table. */
        if (lua_isnil(L, -2)) {
          lua_pop(L, 2);
        } else {
          lua_settable(L, -3);
        }
      }
    } else {
      if (!parse_reply(rp, L, depth + 1)) {
        return 0;
      }
      if (L) {
        if (!ensure_stack(L, 1)) {
          return 0;
        }
        if (lua_isnil(L, -1)) {
          lua_pop(L, 1);
        } else {
          lua_pushboolean(L, 1);
          lua_settable(L, -3);
        }
      }
    }
  }
  return 1;
}

/* parse_reply reads one reply and pushes its Lua value (nothing when L is
 * NULL: an attribute being skipped). On failure what it pushed is left
 * for the caller to discard. */
static int parse_reply(reply_parser *rp, lua_State *L, int depth) {
  if (depth > RESP_MAX_DEPTH || rp->p >= rp->end) {
    return 0;
  }
  char type = *rp->p++;
  const char *line;
  size_t len;
  if (!read_line(rp, &line, &len)) {
    return 0;
  }
  long long n;
  switch (type) {
    case '$':
    case '=': {
      if (!line_to_ll(line, len, &n)) {
        return 0;
      }
      if (n == -1 && type == '$') {
        if (!ensure_stack(L, 1)) {
          return 0;
        }
        if (L) {
          lua_pushboolean(L, 0);
        }
        return 1;
      }
      if (n < 0 || n > rp->end - rp->p || rp->end - rp->p - n < 2 ||
          rp->p[n] != '\r' || rp->p[n + 1] != '\n') {
        return 0;
      }
      const char *str = rp->p;
      rp->p += n + 2;
      if (type == '=') {
        /* "fmt:" then the string */
        if (n < 4 || str[3] != ':') {
          return 0;
        }
        if (!ensure_stack(L, 5)) {
          return 0;
        }
        if (L) {
          lua_newtable(L);
          lua_pushstring(L, "verbatim_string");
          lua_newtable(L);
          lua_pushstring(L, "string");
          lua_pushlstring(L, str + 4, (size_t)n - 4);
          lua_settable(L, -3);
          lua_pushstring(L, "format");
          lua_pushlstring(L, str, 3);
          lua_settable(L, -3);
          lua_settable(L, -3);
        }
        return 1;
      }
      if (!ensure_stack(L, 1)) {
        return 0;
      }
      if (L) {
        lua_pushlstring(L, str, (size_t)n);
      }
      return 1;
    }
    case '+':
      if (!ensure_stack(L, 3)) {
        return 0;
      }
      if (L) {
        lua_newtable(L);
        lua_pushstring(L, "ok");
        lua_pushlstring(L, line, len);
        lua_settable(L, -3);
      }
      return 1;
    case '-':
      if (!ensure_stack(L, 3)) {
        return 0;
      }
      if (L) {
        sds err = sds_cat_len(sds_new("-"), line, len);
        script_lua_push_error(L, err);
        /* The command already counted this error. */
        lua_pushstring(L, "ignore_error_stats_update");
        lua_pushboolean(L, 1);
        lua_settable(L, -3);
      }
      return 1;
    case ':':
      if (!line_to_ll(line, len, &n)) {
        return 0;
      }
      if (!ensure_stack(L, 1)) {
        return 0;
      }
      if (L) {
        lua_pushnumber(L, (lua_Number)n);
      }
      return 1;
    case '*':
    case '%':
    case '~':
    case '|': {
      if (!line_to_ll(line, len, &n)) {
        return 0;
      }
      if (n == -1 && type == '*') {
        if (!ensure_stack(L, 1)) {
          return 0;
        }
        if (L) {
          lua_pushboolean(L, 0);
        }
        return 1;
      }
      if (n < 0) {
        return 0;
      }
      if (type == '|') {
        /* Attributes are not shown to scripts: skip them, then the reply
         * they describe is the value. */
        for (long long j = 0; j < n; j++) {
          if (!parse_reply(rp, NULL, depth + 1) ||
              !parse_reply(rp, NULL, depth + 1)) {
            return 0;
          }
        }
        return parse_reply(rp, L, depth + 1);
      }
      if (!ensure_stack(L, 3)) {
        return 0;
      }
      if (type == '*') {
        if (L) {
          lua_newtable(L);
        }
        return parse_aggregate(rp, L, n, 0, depth);
      }
      if (L) {
        lua_newtable(L);
        lua_pushstring(L, type == '%' ? "map" : "set");
        lua_newtable(L);
      }
      if (!parse_aggregate(rp, L, n, type == '%' ? 1 : 2, depth)) {
        return 0;
      }
      if (L) {
        lua_settable(L, -3);
      }
      return 1;
    }
    case '_':
      if (len != 0 || !ensure_stack(L, 1)) {
        return 0;
      }
      if (L) {
        lua_pushnil(L);
      }
      return 1;
    case '#':
      if (len != 1 || (line[0] != 't' && line[0] != 'f') ||
          !ensure_stack(L, 1)) {
        return 0;
      }
      if (L) {
        lua_pushboolean(L, line[0] == 't');
      }
      return 1;
    case ',': {
      char buf[MAX_LONG_DOUBLE_CHARS + 1];
      if (len == 0 || len >= sizeof(buf) || !ensure_stack(L, 3)) {
        return 0;
      }
      memcpy(buf, line, len);
      buf[len] = '\0';
      char *eptr;
      double d = strtod(buf, &eptr);
      if (*eptr != '\0') {
        return 0;
      }
      if (L) {
        lua_newtable(L);
        lua_pushstring(L, "double");
        lua_pushnumber(L, d);
        lua_settable(L, -3);
      }
      return 1;
    }
    case '(':
      if (!ensure_stack(L, 3)) {
        return 0;
      }
      if (L) {
        lua_newtable(L);
        lua_pushstring(L, "big_number");
        lua_pushlstring(L, line, len);
        lua_settable(L, -3);
      }
      return 1;
    default:
      return 0;
  }
}

int script_resp_to_lua(lua_State *L, const char *reply, size_t len,
                       size_t *out_len) {
  reply_parser rp = {reply, reply + len};
  int top = lua_gettop(L);
  if (!parse_reply(&rp, L, 0)) {
    lua_settop(L, top);
    return 0;
  }
  if (out_len) {
    *out_len = (size_t)(rp.p - reply);
  }
  return 1;
}

/* ------------------------------------------------------------------ */
/* A script's return value to a reply                                  */
/* ------------------------------------------------------------------ */
/* Lua numbers are doubles: a double outside the range of long long gives
 * LLONG_MIN, as the x86-64 conversion Redis relies on does. */
static long long number_to_ll(lua_Number n) {
  if (isnan(n) || n >= 9223372036854775808.0 || n < -9223372036854775808.0) {
    return LLONG_MIN;
  }
  return (long long)n;
}

/* field_type pushes t[name] (raw) and returns its type; t is at -1. */
static int field_type(lua_State *L, const char *name) {
  lua_pushstring(L, name);
  lua_rawget(L, -2);
  return lua_type(L, -1);
}

void script_lua_to_resp(client *c, lua_State *L, int script_resp) {
  int t = lua_type(L, -1);
  if (!lua_checkstack(L, 4)) {
    /* A self-referencing table nests until the stack is exhausted. */
    add_reply_error(c, "reached lua stack limit");
    lua_pop(L, 1);
    return;
  }
  switch (t) {
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, -1, &len);
      add_reply_bulk_cbuffer(c, s, len);
      break;
    }
    case LUA_TBOOLEAN:
      if (script_resp == 2) {
        if (lua_toboolean(L, -1)) {
          add_reply(c, shared.cone);
        } else {
          add_reply_null(c);
        }
      } else {
        add_reply_bool(c, lua_toboolean(L, -1));
      }
      break;
    case LUA_TNUMBER:
      add_reply_long_long(c, number_to_ll(lua_tonumber(L, -1)));
      break;
    case LUA_TTABLE: {
      /* {err=...}: an error reply */
      if (field_type(L, "err") == LUA_TSTRING) {
        lua_pop(L, 1);
        sds msg, source, line;
        int ignore = script_lua_error_info(L, &msg, &source, &line);
        add_reply_error_sds_ex(c, sds_cat_printf(sds_empty(), "-%s", msg),
                               ignore ? ERR_REPLY_FLAG_NO_STATS_UPDATE : 0);
        sds_free(msg);
        sds_free(source);
        sds_free(line);
        lua_pop(L, 1);
        return;
      }
      lua_pop(L, 1);
      /* {ok=...}: a status reply, newlines made spaces */
      if (field_type(L, "ok") == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        sds ok = sds_new_len(s, len);
        for (size_t j = 0; j < len; j++) {
          if (ok[j] == '\r' || ok[j] == '\n') {
            ok[j] = ' ';
          }
        }
        /* Like Redis (sdsnew of the C string), it stops at a NUL. */
        add_reply_status_length(c, ok, strlen(ok));
        sds_free(ok);
        lua_pop(L, 2);
        return;
      }
      lua_pop(L, 1);
      if (field_type(L, "double") == LUA_TNUMBER) {
        add_reply_double(c, lua_tonumber(L, -1));
        lua_pop(L, 2);
        return;
      }
      lua_pop(L, 1);
      if (field_type(L, "big_number") == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        sds num = sds_new_len(s, len);
        for (size_t j = 0; j < len; j++) {
          if (num[j] == '\r' || num[j] == '\n') {
            num[j] = ' ';
          }
        }
        add_reply_big_num(c, num, len);
        sds_free(num);
        lua_pop(L, 2);
        return;
      }
      lua_pop(L, 1);
      if (field_type(L, "verbatim_string") == LUA_TTABLE) {
        if (field_type(L, "format") == LUA_TSTRING) {
          const char *format = lua_tostring(L, -1);
          lua_pushstring(L, "string");
          lua_rawget(L, -3);
          if (lua_type(L, -1) == LUA_TSTRING) {
            size_t len;
            const char *s = lua_tolstring(L, -1, &len);
            add_reply_verbatim(c, s, len, format);
            lua_pop(L, 4);
            return;
          }
          lua_pop(L, 1);
        }
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
      if (field_type(L, "map") == LUA_TTABLE) {
        long maplen = 0;
        void *slot = add_reply_deferred_len(c);
        lua_pushnil(L);
        while (lua_next(L, -2)) {
          lua_pushvalue(L, -2);                  /* key again */
          script_lua_to_resp(c, L, script_resp); /* the key */
          script_lua_to_resp(c, L, script_resp); /* the value */
          maplen++;
        }
        set_deferred_map_len(c, slot, maplen);
        lua_pop(L, 2);
        return;
      }
      lua_pop(L, 1);
      if (field_type(L, "set") == LUA_TTABLE) {
        long setlen = 0;
        void *slot = add_reply_deferred_len(c);
        lua_pushnil(L);
        while (lua_next(L, -2)) {
          lua_pop(L, 1);        /* the value (true) */
          lua_pushvalue(L, -1); /* key again */
          script_lua_to_resp(c, L, script_resp);
          setlen++;
        }
        set_deferred_set_len(c, slot, setlen);
        lua_pop(L, 2);
        return;
      }
      lua_pop(L, 1);
      /* An array, up to the first nil. */
      void *slot = add_reply_deferred_len(c);
      long n = 0;
      for (int j = 1;; j++) {
        lua_rawgeti(L, -1, j);
        if (lua_isnil(L, -1)) {
          lua_pop(L, 1);
          break;
        }
        script_lua_to_resp(c, L, script_resp);
        n++;
      }
      set_deferred_array_len(c, slot, n);
      break;
    }
    default:
      add_reply_null(c);
  }
  lua_pop(L, 1);
}
