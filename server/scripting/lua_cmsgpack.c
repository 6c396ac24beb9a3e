/* lua_cmsgpack.c: the `cmsgpack` library Redis 7.0 gives scripts, with the
 * behaviour of lua-cmsgpack 0.4.0 as Redis embeds it on Lua 5.1.
 *
 *   cmsgpack.pack(v1, v2, ...)        the MessagePack encodings, concatenated
 *   cmsgpack.unpack(s)                every value in s
 *   cmsgpack.unpack_one(s[, offset])  next offset (-1 at the end), one value
 *   cmsgpack.unpack_limit(s, limit[, offset])  same, at most `limit` values
 *
 * Encoding. A number that is an integer in [-2^63, 2^63) takes the smallest
 * of positive/negative fixint, uint8..uint64 (non-negative), int8..int64
 * (negative); any other number is a float 32 when converting it to float and
 * back gives it exactly (so +-inf), else a float 64 (so NaN). Strings are
 * fixstr, str 8, str 16 or str 32 (never bin). A table whose keys are exactly
 * 1..n is an array (an empty table is an empty array), any other a map, both
 * in their smallest header. Tables nested 16 deep, and nil, functions,
 * userdata and threads, encode as nil.
 *
 * Decoding accepts what the encoder writes plus nil/bool, int/uint of every
 * width (uint 64 above 2^63 - 1 reads as negative, as in the library), and
 * fixmap/map 16/map 32 and fixarray/array 16/array 32. Other type bytes (bin,
 * ext, 0xc1) are "Bad data format in input."; a value cut short is "Missing
 * bytes in input.". A map key that is nil or NaN fails as lua_settable
 * fails.
 *
 * Every Lua stack check is the library's, made at the same depth, so the same
 * input gives the same "stack overflow (...)" error at the same point. */
#include "server/scripting/lualibs.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#define MP_NAME "cmsgpack"
#define MP_VERSION "lua-cmsgpack 0.4.0"
#define MP_COPYRIGHT "Copyright (C) 2012, Salvatore Sanfilippo"
#define MP_DESCRIPTION "MessagePack C implementation for Lua"

/* Tables nested deeper than this encode as nil (cyclic tables terminate). */
#define MP_MAX_NESTING 16

/* A buffer released with more room than this is freed, not kept. */
#define MP_CACHE_MAX (64 * 1024)

/* mp_error: raises a Lua error with luaL_error's text (the caller's position,
 * then the message; Lua's formats, not printf's). It never returns, like
 * luaL_error, but says so, so the compiler knows a released buffer is not used
 * afterwards. */
__attribute__((noreturn)) static void mp_error(lua_State *L, const char *fmt,
                                               ...) {
  va_list args;
  va_start(args, fmt);
  luaL_where(L, 1);
  lua_pushvfstring(L, fmt, args);
  va_end(args);
  lua_concat(L, 2);
  lua_error(L);
  abort(); /* not reached: lua_error does not return */
}

/* ---------------------------------------------------------------------------
 * Output buffers. pack encodes one argument at a time into a buffer, then
 * pushes it as a string; pushing can run a __gc finalizer (which may call
 * pack again) or fail, so each call owns its buffer and every buffer is
 * linked in the module's `in_flight` list until its call is done: a buffer
 * abandoned by an error raised inside Lua is freed when the state closes, not
 * lost. One released buffer is kept for the next call. */

typedef struct mp_buffer {
  unsigned char *data;
  size_t len;
  size_t cap;
  struct mp_buffer *prev;
  struct mp_buffer *next;
} mp_buffer;

/* Marks an mp_module: pack's upvalue is checked before use. */
#define MP_MODULE_MAGIC 0x6d737067u

typedef struct mp_module {
  uint32_t magic;
  mp_buffer *in_flight;
  mp_buffer *cache;
  int closed; /* collected: finalizers running at lua_close may still call */
} mp_module;

static void mp_buffer_free(mp_buffer *buf) {
  if (buf != NULL) {
    free(buf->data);
    free(buf);
  }
}

static mp_buffer *mp_buffer_acquire(lua_State *L, mp_module *module) {
  mp_buffer *buf = module->cache;
  module->cache = NULL;
  if (buf == NULL) {
    buf = calloc(1, sizeof(*buf));
    if (buf == NULL) {
      mp_error(L, "not enough memory");
    }
  }
  buf->len = 0;
  buf->prev = NULL;
  buf->next = module->in_flight;
  if (module->in_flight != NULL) {
    module->in_flight->prev = buf;
  }
  module->in_flight = buf;
  return buf;
}

static void mp_buffer_release(mp_module *module, mp_buffer *buf) {
  if (buf->prev != NULL) {
    buf->prev->next = buf->next;
  } else {
    module->in_flight = buf->next;
  }
  if (buf->next != NULL) {
    buf->next->prev = buf->prev;
  }
  buf->prev = buf->next = NULL;
  if (!module->closed && module->cache == NULL && buf->cap <= MP_CACHE_MAX) {
    module->cache = buf;
  } else {
    mp_buffer_free(buf);
  }
}

/* The encoder's state: the module (to release the buffer before raising an
 * error) and the buffer being filled. */
typedef struct mp_encoder {
  lua_State *L;
  mp_module *module;
  mp_buffer *buf;
} mp_encoder;

/* mp_encoder_fail: releases the buffer and raises `message`: the errors the
 * encoder itself raises never leave a buffer behind. */
__attribute__((noreturn)) static void mp_encoder_fail(mp_encoder *enc,
                                                      const char *message,
                                                      const char *detail) {
  mp_buffer_release(enc->module, enc->buf);
  enc->buf = NULL;
  mp_error(enc->L, message, detail);
}

static void mp_check_stack(mp_encoder *enc, int space, const char *where) {
  if (!lua_checkstack(enc->L, space)) {
    mp_encoder_fail(enc, "stack overflow (%s)", where);
  }
}

static void mp_append(mp_encoder *enc, const unsigned char *bytes, size_t len) {
  mp_buffer *buf = enc->buf;
  if (buf->cap - buf->len < len) {
    if (len > SIZE_MAX / 2 - buf->len) {
      mp_encoder_fail(enc, "%s", "not enough memory");
    }
    size_t cap = (buf->len + len) * 2;
    unsigned char *data = realloc(buf->data, cap);
    if (data == NULL) {
      mp_encoder_fail(enc, "%s", "not enough memory");
    }
    buf->data = data;
    buf->cap = cap;
  }
  memcpy(buf->data + buf->len, bytes, len);
  buf->len += len;
}

/* ---------------------------------------------------------------------------
 * Encoding. */

/* mp_put_be: writes the low `n` bytes of `value` big-endian at out. */
static void mp_put_be(unsigned char *out, uint64_t value, int n) {
  for (int i = n - 1; i >= 0; i--) {
    out[i] = (unsigned char)(value & 0xff);
    value >>= 8;
  }
}

/* mp_put_header: a type byte followed by a big-endian length of `n` bytes
 * (0 for fix formats, whose type byte holds the length). */
static void mp_put_header(mp_encoder *enc, unsigned char type, uint64_t value,
                          int n) {
  unsigned char out[9];
  out[0] = type;
  mp_put_be(out + 1, value, n);
  mp_append(enc, out, (size_t)n + 1);
}

static void mp_encode_string(mp_encoder *enc) {
  size_t len;
  const char *s = lua_tolstring(enc->L, -1, &len);
  if (len < 32) {
    mp_put_header(enc, (unsigned char)(0xa0 | len), 0, 0);
  } else if (len <= 0xff) {
    mp_put_header(enc, 0xd9, len, 1);
  } else if (len <= 0xffff) {
    mp_put_header(enc, 0xda, len, 2);
  } else {
    mp_put_header(enc, 0xdb, len & 0xffffffffu, 4);
  }
  mp_append(enc, (const unsigned char *)s, len);
}

static void mp_encode_integer(mp_encoder *enc, int64_t n) {
  if (n >= 0) {
    if (n <= 127) {
      mp_put_header(enc, (unsigned char)n, 0, 0);
    } else if (n <= 0xff) {
      mp_put_header(enc, 0xcc, (uint64_t)n, 1);
    } else if (n <= 0xffff) {
      mp_put_header(enc, 0xcd, (uint64_t)n, 2);
    } else if (n <= 0xffffffffLL) {
      mp_put_header(enc, 0xce, (uint64_t)n, 4);
    } else {
      mp_put_header(enc, 0xcf, (uint64_t)n, 8);
    }
  } else if (n >= -32) {
    mp_put_header(enc, (unsigned char)(0x100 + n), 0, 0);
  } else if (n >= -128) {
    mp_put_header(enc, 0xd0, (uint64_t)n, 1);
  } else if (n >= -32768) {
    mp_put_header(enc, 0xd1, (uint64_t)n, 2);
  } else if (n >= -2147483648LL) {
    mp_put_header(enc, 0xd2, (uint64_t)n, 4);
  } else {
    mp_put_header(enc, 0xd3, (uint64_t)n, 8);
  }
}

static void mp_encode_number(mp_encoder *enc) {
  double n = (double)lua_tonumber(enc->L, -1);
  if (n >= -9223372036854775808.0 && n < 9223372036854775808.0 &&
      floor(n) == n) {
    mp_encode_integer(enc, (int64_t)n);
    return;
  }
  unsigned char out[9];
  /* A float 32 when it holds the value exactly (beyond float range the
   * conversion gives +-inf, which differs unless the value is infinite). */
  float f = (float)n;
  if ((double)f == n) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof(bits));
    out[0] = 0xca;
    mp_put_be(out + 1, bits, 4);
    mp_append(enc, out, 5);
  } else {
    uint64_t bits;
    memcpy(&bits, &n, sizeof(bits));
    out[0] = 0xcb;
    mp_put_be(out + 1, bits, 8);
    mp_append(enc, out, 9);
  }
}

static void mp_encode_value(mp_encoder *enc, int level);

/* mp_table_is_array: whether the table on top has exactly the keys 1..n
 * (each a positive integer up to INT_MAX), n >= 0. */
static int mp_table_is_array(mp_encoder *enc) {
  lua_State *L = enc->L;
  int top = lua_gettop(L);
  int count = 0;
  int max = 0;
  mp_check_stack(enc, 2, "in function table_is_an_array");
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pop(L, 1);
    double n;
    if (lua_type(L, -1) != LUA_TNUMBER ||
        (n = (double)lua_tonumber(L, -1)) <= 0 || n > INT_MAX ||
        floor(n) != n) {
      lua_settop(L, top);
      return 0;
    }
    if (n > max) {
      max = (int)n;
    }
    count++;
  }
  lua_settop(L, top);
  return max == count;
}

static void mp_encode_table(mp_encoder *enc, int level) {
  lua_State *L = enc->L;
  if (mp_table_is_array(enc)) {
    size_t len = lua_objlen(L, -1);
    if (len <= 15) {
      mp_put_header(enc, (unsigned char)(0x90 | len), 0, 0);
    } else if (len <= 0xffff) {
      mp_put_header(enc, 0xdc, len, 2);
    } else {
      mp_put_header(enc, 0xdd, len & 0xffffffffu, 4);
    }
    mp_check_stack(enc, 1, "in function mp_encode_lua_table_as_array");
    for (size_t i = 1; i <= len; i++) {
      lua_pushnumber(L, (lua_Number)i);
      lua_gettable(L, -2);
      mp_encode_value(enc, level + 1);
    }
    return;
  }
  size_t pairs = 0;
  mp_check_stack(enc, 3, "in function mp_encode_lua_table_as_map");
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pop(L, 1);
    pairs++;
  }
  if (pairs <= 15) {
    mp_put_header(enc, (unsigned char)(0x80 | pairs), 0, 0);
  } else if (pairs <= 0xffff) {
    mp_put_header(enc, 0xde, pairs, 2);
  } else {
    mp_put_header(enc, 0xdf, pairs & 0xffffffffu, 4);
  }
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pushvalue(L, -2);
    mp_encode_value(enc, level + 1); /* the key's copy */
    mp_encode_value(enc, level + 1); /* the value */
  }
}

/* mp_encode_value: appends the value on top of the stack and pops it. */
static void mp_encode_value(mp_encoder *enc, int level) {
  lua_State *L = enc->L;
  int type = lua_type(L, -1);
  if (type == LUA_TTABLE && level == MP_MAX_NESTING) {
    type = LUA_TNIL;
  }
  switch (type) {
    case LUA_TSTRING:
      mp_encode_string(enc);
      break;
    case LUA_TBOOLEAN:
      mp_put_header(enc, lua_toboolean(L, -1) ? 0xc3 : 0xc2, 0, 0);
      break;
    case LUA_TNUMBER:
      mp_encode_number(enc);
      break;
    case LUA_TTABLE:
      mp_encode_table(enc, level);
      break;
    default:
      mp_put_header(enc, 0xc0, 0, 0);
      break;
  }
  lua_pop(L, 1);
}

static mp_module *mp_get_module(lua_State *L) {
  int index = lua_upvalueindex(1);
  mp_module *module = lua_touserdata(L, index);
  if (module == NULL || lua_type(L, index) != LUA_TUSERDATA ||
      lua_objlen(L, index) != sizeof(*module) ||
      module->magic != MP_MODULE_MAGIC) {
    mp_error(L, "BUG: Unable to fetch cmsgpack state");
  }
  return module;
}

static int mp_pack(lua_State *L) {
  int nargs = lua_gettop(L);
  if (nargs == 0) {
    return luaL_argerror(L, 0, "MessagePack pack needs input.");
  }
  if (!lua_checkstack(L, nargs)) {
    return luaL_argerror(L, 0, "Too many arguments for MessagePack pack.");
  }
  mp_encoder enc;
  enc.L = L;
  enc.module = mp_get_module(L);
  enc.buf = mp_buffer_acquire(L, enc.module);
  for (int i = 1; i <= nargs; i++) {
    mp_check_stack(&enc, 1, "in function mp_check");
    lua_pushvalue(L, i);
    mp_encode_value(&enc, 0);
    lua_pushlstring(L, (const char *)enc.buf->data, enc.buf->len);
    enc.buf->len = 0;
  }
  mp_buffer_release(enc.module, enc.buf);
  lua_concat(L, nargs);
  return 1;
}

/* ---------------------------------------------------------------------------
 * Decoding. */

typedef enum {
  MP_OK = 0,
  MP_ERR_EOF,    /* "Missing bytes in input." */
  MP_ERR_FORMAT, /* "Bad data format in input." */
} mp_decode_status;

typedef struct mp_cursor {
  const unsigned char *p;
  size_t left;
  mp_decode_status err;
} mp_cursor;

/* mp_have: whether `n` bytes are left; sets MP_ERR_EOF when not. */
static int mp_have(mp_cursor *c, size_t n) {
  if (c->left < n) {
    c->err = MP_ERR_EOF;
    return 0;
  }
  return 1;
}

static void mp_skip(mp_cursor *c, size_t n) {
  c->p += n;
  c->left -= n;
}

static uint64_t mp_get_be(const unsigned char *p, int n) {
  uint64_t value = 0;
  for (int i = 0; i < n; i++) {
    value = (value << 8) | p[i];
  }
  return value;
}

/* mp_as_int64: the two's complement reading of 64 bits. */
static int64_t mp_as_int64(uint64_t value) {
  if (value > (uint64_t)INT64_MAX) {
    return -(int64_t)(UINT64_MAX - value) - 1;
  }
  return (int64_t)value;
}

static void mp_decode_value(lua_State *L, mp_cursor *c);

static void mp_decode_array(lua_State *L, mp_cursor *c, size_t len) {
  lua_newtable(L);
  luaL_checkstack(L, 1, "in function mp_decode_to_lua_array");
  for (size_t index = 1; index <= len; index++) {
    lua_pushnumber(L, (lua_Number)index);
    mp_decode_value(L, c);
    if (c->err != MP_OK) {
      return;
    }
    lua_settable(L, -3);
  }
}

static void mp_decode_map(lua_State *L, mp_cursor *c, size_t len) {
  lua_newtable(L);
  for (size_t i = 0; i < len; i++) {
    mp_decode_value(L, c); /* key */
    if (c->err != MP_OK) {
      return;
    }
    mp_decode_value(L, c); /* value */
    if (c->err != MP_OK) {
      return;
    }
    lua_settable(L, -3);
  }
}

/* mp_decode_string: pushes the `len` bytes after a `header`-byte header. */
static void mp_decode_string(lua_State *L, mp_cursor *c, size_t header,
                             size_t len) {
  if (len > SIZE_MAX - header || !mp_have(c, header + len)) {
    c->err = MP_ERR_EOF;
    return;
  }
  lua_pushlstring(L, (const char *)c->p + header, len);
  mp_skip(c, header + len);
}

/* mp_decode_sized: the big-endian length of `n` bytes after the type byte,
 * consumed with it; 0 with MP_ERR_EOF set when the input ends first. */
static size_t mp_decode_length(mp_cursor *c, int n) {
  if (!mp_have(c, 1 + (size_t)n)) {
    return 0;
  }
  size_t len = (size_t)mp_get_be(c->p + 1, n);
  mp_skip(c, 1 + (size_t)n);
  return len;
}

/* mp_decode_value: pushes the value at the cursor and advances past it; on
 * error sets c->err (what it pushed before stays on the stack). */
static void mp_decode_value(lua_State *L, mp_cursor *c) {
  if (!mp_have(c, 1)) {
    return;
  }
  /* One more slot per value: a stream of many top-level values needs it. */
  luaL_checkstack(L, 1,
                  "too many return values at once; "
                  "use unpack_one or unpack_limit instead.");
  unsigned char type = c->p[0];
  switch (type) {
    case 0xc0:
      lua_pushnil(L);
      mp_skip(c, 1);
      return;
    case 0xc2:
    case 0xc3:
      lua_pushboolean(L, type == 0xc3);
      mp_skip(c, 1);
      return;
    case 0xcc: /* uint 8, 16, 32 */
    case 0xcd:
    case 0xce: {
      int n = 1 << (type - 0xcc);
      if (mp_have(c, 1 + (size_t)n)) {
        lua_pushinteger(L, (lua_Integer)mp_get_be(c->p + 1, n));
        mp_skip(c, 1 + (size_t)n);
      }
      return;
    }
    case 0xcf: /* uint 64: pushed as lua_Integer, so 2^63 and up wrap */
      if (mp_have(c, 9)) {
        lua_pushinteger(L, (lua_Integer)mp_as_int64(mp_get_be(c->p + 1, 8)));
        mp_skip(c, 9);
      }
      return;
    case 0xd0: /* int 8, 16, 32 */
    case 0xd1:
    case 0xd2: {
      int n = 1 << (type - 0xd0);
      if (mp_have(c, 1 + (size_t)n)) {
        uint64_t raw = mp_get_be(c->p + 1, n);
        uint64_t sign = 1ull << (n * 8 - 1);
        int64_t value = (int64_t)(raw & (sign - 1)) - (int64_t)(raw & sign);
        lua_pushinteger(L, (lua_Integer)value);
        mp_skip(c, 1 + (size_t)n);
      }
      return;
    }
    case 0xd3:
      if (mp_have(c, 9)) {
        lua_pushnumber(L, (lua_Number)mp_as_int64(mp_get_be(c->p + 1, 8)));
        mp_skip(c, 9);
      }
      return;
    case 0xca:
      if (mp_have(c, 5)) {
        uint32_t bits = (uint32_t)mp_get_be(c->p + 1, 4);
        float f;
        memcpy(&f, &bits, sizeof(f));
        lua_pushnumber(L, (lua_Number)f);
        mp_skip(c, 5);
      }
      return;
    case 0xcb:
      if (mp_have(c, 9)) {
        uint64_t bits = mp_get_be(c->p + 1, 8);
        double d;
        memcpy(&d, &bits, sizeof(d));
        lua_pushnumber(L, (lua_Number)d);
        mp_skip(c, 9);
      }
      return;
    case 0xd9: /* str 8 */
      if (mp_have(c, 2)) {
        mp_decode_string(L, c, 2, c->p[1]);
      }
      return;
    case 0xda: /* str 16 */
      if (mp_have(c, 3)) {
        mp_decode_string(L, c, 3, (size_t)mp_get_be(c->p + 1, 2));
      }
      return;
    case 0xdb: { /* str 32 */
      size_t len = mp_decode_length(c, 4);
      if (c->err == MP_OK) {
        mp_decode_string(L, c, 0, len);
      }
      return;
    }
    case 0xdc:
    case 0xdd: { /* array 16, 32 */
      size_t len = mp_decode_length(c, type == 0xdc ? 2 : 4);
      if (c->err == MP_OK) {
        mp_decode_array(L, c, len);
      }
      return;
    }
    case 0xde:
    case 0xdf: { /* map 16, 32 */
      size_t len = mp_decode_length(c, type == 0xde ? 2 : 4);
      if (c->err == MP_OK) {
        mp_decode_map(L, c, len);
      }
      return;
    }
    default:
      break;
  }
  if ((type & 0x80) == 0) { /* positive fixint */
    lua_pushinteger(L, type);
    mp_skip(c, 1);
  } else if ((type & 0xe0) == 0xe0) { /* negative fixint */
    lua_pushinteger(L, (lua_Integer)type - 256);
    mp_skip(c, 1);
  } else if ((type & 0xe0) == 0xa0) { /* fixstr */
    mp_decode_string(L, c, 1, type & 0x1f);
  } else if ((type & 0xf0) == 0x90) { /* fixarray */
    mp_skip(c, 1);
    mp_decode_array(L, c, type & 0x0f);
  } else if ((type & 0xf0) == 0x80) { /* fixmap */
    mp_skip(c, 1);
    mp_decode_map(L, c, type & 0x0f);
  } else { /* 0xc1, bin, ext */
    c->err = MP_ERR_FORMAT;
  }
}

/* mp_int_for_message: what C's (int) conversion gives on Redis's build, for
 * the numbers its messages print. */
static int mp_int_for_message(uint64_t value) {
  uint32_t low = (uint32_t)value;
  return low > INT32_MAX ? -(int)(UINT32_MAX - low) - 1 : (int)low;
}

/* mp_unpack_full: decodes from byte `offset` of argument 1, at most `limit`
 * values (limit 0 and offset 0: all of them, and no offset is returned;
 * otherwise the next offset, or -1 at the end, comes first). */
static int mp_unpack_full(lua_State *L, lua_Integer limit, lua_Integer offset) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  int decode_all = limit == 0 && offset == 0;
  if (offset < 0 || limit < 0) {
    /* The library prints the input length where it says "limit". */
    return luaL_error(
        L, "Invalid request to unpack with offset of %d and limit of %d.",
        mp_int_for_message((uint64_t)offset), mp_int_for_message(len));
  }
  if ((size_t)offset > len) {
    return luaL_error(L, "Start offset %d greater than input length %d.",
                      mp_int_for_message((uint64_t)offset),
                      mp_int_for_message(len));
  }
  if (decode_all) {
    limit = INT_MAX;
  }
  mp_cursor c = {(const unsigned char *)s + offset, len - (size_t)offset,
                 MP_OK};
  int count = 0;
  for (; c.left > 0 && count < limit; count++) {
    mp_decode_value(L, &c);
    if (c.err == MP_ERR_EOF) {
      return luaL_error(L, "Missing bytes in input.");
    }
    if (c.err == MP_ERR_FORMAT) {
      return luaL_error(L, "Bad data format in input.");
    }
  }
  if (!decode_all) {
    luaL_checkstack(L, 1, "in function mp_unpack_full");
    lua_pushinteger(L, c.left == 0 ? -1 : (lua_Integer)(len - c.left));
    lua_insert(L, 2); /* the offset comes before the values */
    count++;
  }
  return count;
}

static int mp_unpack(lua_State *L) { return mp_unpack_full(L, 0, 0); }

static int mp_unpack_one(lua_State *L) {
  lua_Integer offset = luaL_optinteger(L, 2, 0);
  lua_pop(L, lua_gettop(L) - 1);
  return mp_unpack_full(L, 1, offset);
}

static int mp_unpack_limit(lua_State *L) {
  lua_Integer limit = luaL_checkinteger(L, 2);
  lua_Integer offset = luaL_optinteger(L, 3, 0);
  lua_pop(L, lua_gettop(L) - 1);
  return mp_unpack_full(L, limit, offset);
}

/* ---------------------------------------------------------------------------
 * The module. */

/* mp_module_gc: frees pack's buffers. Idempotent; calls made afterwards (by
 * other finalizers at lua_close) work and keep nothing. */
static int mp_module_gc(lua_State *L) {
  mp_module *module = lua_touserdata(L, 1);
  if (module == NULL || module->magic != MP_MODULE_MAGIC) {
    return 0;
  }
  module->closed = 1;
  while (module->in_flight != NULL) {
    mp_buffer *buf = module->in_flight;
    module->in_flight = buf->next;
    mp_buffer_free(buf);
  }
  mp_buffer_free(module->cache);
  module->cache = NULL;
  return 0;
}

/* luaopen_cmsgpack: creates the global table `cmsgpack` and leaves it on
 * the stack; returns 1. */
int luaopen_cmsgpack(lua_State *L) {
  lua_newtable(L);

  /* pack's buffers belong to a userdata that frees them when collected. */
  mp_module *module = lua_newuserdata(L, sizeof(*module));
  module->magic = MP_MODULE_MAGIC;
  module->in_flight = NULL;
  module->cache = NULL;
  module->closed = 0;
  lua_newtable(L);
  lua_pushcfunction(L, mp_module_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_pushcclosure(L, mp_pack, 1);
  lua_setfield(L, -2, "pack");

  lua_pushcfunction(L, mp_unpack);
  lua_setfield(L, -2, "unpack");
  lua_pushcfunction(L, mp_unpack_one);
  lua_setfield(L, -2, "unpack_one");
  lua_pushcfunction(L, mp_unpack_limit);
  lua_setfield(L, -2, "unpack_limit");

  lua_pushliteral(L, MP_NAME);
  lua_setfield(L, -2, "_NAME");
  lua_pushliteral(L, MP_VERSION);
  lua_setfield(L, -2, "_VERSION");
  lua_pushliteral(L, MP_COPYRIGHT);
  lua_setfield(L, -2, "_COPYRIGHT");
  lua_pushliteral(L, MP_DESCRIPTION);
  lua_setfield(L, -2, "_DESCRIPTION");

  lua_pushvalue(L, -1);
  lua_setglobal(L, MP_NAME);
  return 1;
}
