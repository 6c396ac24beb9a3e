/* lua_cjson.c: the `cjson` library Redis 7.0 gives scripts, with the
 * behaviour of Lua CJSON 2.1.0 as Redis embeds it (same output bytes, same
 * error texts, same option functions):
 *
 *   cjson.encode(v)   cjson.decode(s)   cjson.null (lightuserdata NULL)
 *   cjson.new()       a fresh module table with its own settings
 *   cjson.encode_sparse_array([convert[, ratio[, safe]]])  false, 2, 10
 *   cjson.encode_max_depth([n]) 1000   cjson.decode_max_depth([n]) 1000
 *   cjson.encode_number_precision([n]) 14 (1..14: printf "%.<n>g")
 *   cjson.encode_keep_buffer([bool]) true
 *   cjson.encode_invalid_numbers([bool|"null"]) false
 *   cjson.decode_invalid_numbers([bool]) true
 *
 * Each option function takes its new value(s) (nil keeps the current one)
 * and returns the current value(s).
 *
 * Encoding: a table is an array when every key is an integer >= 1 and it is
 * not "excessively sparse" (largest key > ratio * key count and > safe; then
 * an error, or an object when `convert` is on); holes are null. Other tables
 * are objects; number keys are printed as numbers in quotes. Strings escape
 * ", \, /, control characters and DEL; other bytes pass untouched. NaN and
 * inf are an error by default ("on": nan, inf, -inf; "null": null).
 *
 * Decoding: any JSON value at the top; numbers go through strtod, so with
 * decode_invalid_numbers on (the default) hex, inf, nan and a leading + are
 * read too. A NUL byte ends the input (text after it is ignored), except as
 * one of the first two bytes ("does not support UTF-16 or UTF-32"). null
 * decodes to cjson.null.
 *
 * Where Redis's build relies on a C conversion the standard leaves undefined
 * (a table key beyond INT_MAX taken as the array length), this file
 * reproduces what that build does on x86-64: see json_array_length.
 * Numbers are printed and read with the C locale (the server never changes
 * LC_NUMERIC). */
#include "server/scripting/lualibs.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>

#define JSON_NAME "cjson"
#define JSON_VERSION "2.1.0"

/* A kept encode buffer larger than this is freed, not kept. */
#define JSON_CACHE_MAX (1024 * 1024)

typedef enum {
  JSON_OBJ_BEGIN,
  JSON_OBJ_END,
  JSON_ARR_BEGIN,
  JSON_ARR_END,
  JSON_STRING,
  JSON_NUMBER,
  JSON_BOOLEAN,
  JSON_NULL,
  JSON_COLON,
  JSON_COMMA,
  JSON_END,
  JSON_WHITESPACE,
  JSON_ERROR,
  JSON_UNKNOWN,
} json_token_kind;

/* The names errors print for a token that is not what was expected. */
static const char *const json_token_names[] = {
    "T_OBJ_BEGIN", "T_OBJ_END",    "T_ARR_BEGIN", "T_ARR_END", "T_STRING",
    "T_NUMBER",    "T_BOOLEAN",    "T_NULL",      "T_COLON",   "T_COMMA",
    "T_END",       "T_WHITESPACE", "T_ERROR",     "T_UNKNOWN",
};

/* json_error: raises a Lua error with luaL_error's text (the caller's
 * position, then the message; Lua's formats, not printf's). It never returns,
 * like luaL_error, but says so, so the compiler knows a released buffer is not
 * used afterwards. */
__attribute__((noreturn)) static void json_error(lua_State *L, const char *fmt,
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
 * Buffers. Encoding fills a buffer that becomes the result string, decoding
 * needs one for strings with escapes. Pushing a string can run a __gc
 * finalizer (which may use cjson again) or raise an error, so each call owns
 * its buffer, and every buffer is linked in its module's `in_flight` list
 * while in use: one abandoned by an error raised inside Lua is freed with the
 * module (when the state closes), not lost. The errors this file raises
 * release the buffer first. With encode_keep_buffer on, one released buffer
 * is kept for the next call. */

typedef struct json_buffer {
  char *data;
  size_t len;
  size_t cap;
  struct json_buffer *prev;
  struct json_buffer *next;
} json_buffer;

/* Marks a json_config: a function's upvalue is checked before use. */
#define JSON_CONFIG_MAGIC 0x636a736fu

typedef struct json_config {
  uint32_t magic;
  int encode_sparse_convert;
  int encode_sparse_ratio;
  int encode_sparse_safe;
  int encode_max_depth;
  int encode_invalid_numbers; /* 0 off, 1 on, 2 "null" */
  int encode_number_precision;
  int encode_keep_buffer;
  int decode_invalid_numbers;
  int decode_max_depth;
  json_buffer *in_flight;
  json_buffer *cache;
  int closed; /* collected: finalizers running at lua_close may still call */
} json_config;

static void json_buffer_free(json_buffer *buf) {
  if (buf != NULL) {
    free(buf->data);
    free(buf);
  }
}

/* json_buffer_acquire: a buffer with room for `reserve` bytes, owned by the
 * caller until json_buffer_release. */
static json_buffer *json_buffer_acquire(lua_State *L, json_config *cfg,
                                        size_t reserve) {
  json_buffer *buf = cfg->cache;
  cfg->cache = NULL;
  if (buf == NULL) {
    buf = calloc(1, sizeof(*buf));
    if (buf == NULL) {
      json_error(L, "not enough memory");
    }
  }
  if (buf->cap < reserve) {
    char *data = realloc(buf->data, reserve);
    if (data == NULL) {
      json_buffer_free(buf);
      json_error(L, "not enough memory");
    }
    buf->data = data;
    buf->cap = reserve;
  }
  buf->len = 0;
  buf->prev = NULL;
  buf->next = cfg->in_flight;
  if (cfg->in_flight != NULL) {
    cfg->in_flight->prev = buf;
  }
  cfg->in_flight = buf;
  return buf;
}

static void json_buffer_release(json_config *cfg, json_buffer *buf, int keep) {
  if (buf == NULL) {
    return;
  }
  if (buf->prev != NULL) {
    buf->prev->next = buf->next;
  } else {
    cfg->in_flight = buf->next;
  }
  if (buf->next != NULL) {
    buf->next->prev = buf->prev;
  }
  buf->prev = buf->next = NULL;
  if (keep && !cfg->closed && cfg->cache == NULL &&
      buf->cap <= JSON_CACHE_MAX) {
    cfg->cache = buf;
  } else {
    json_buffer_free(buf);
  }
}

/* ---------------------------------------------------------------------------
 * Configuration. */

static json_config *json_get_config(lua_State *L) {
  int index = lua_upvalueindex(1);
  json_config *cfg = lua_touserdata(L, index);
  if (cfg == NULL || lua_type(L, index) != LUA_TUSERDATA ||
      lua_objlen(L, index) != sizeof(*cfg) || cfg->magic != JSON_CONFIG_MAGIC) {
    json_error(L, "BUG: Unable to fetch CJSON configuration");
  }
  return cfg;
}

/* json_options_begin: refuses more than `count` arguments and pads with nil
 * up to `count`, so each option can be tested for nil. */
static json_config *json_options_begin(lua_State *L, int count) {
  luaL_argcheck(L, lua_gettop(L) <= count, count + 1,
                "found too many arguments");
  while (lua_gettop(L) < count) {
    lua_pushnil(L);
  }
  return json_get_config(L);
}

/* json_integer_option: sets *setting from argument `index` unless nil, then
 * pushes the current value. The library reports a range error against
 * argument 1 whatever the index, and takes the integer modulo 2^32. */
static void json_integer_option(lua_State *L, int index, int *setting, int min,
                                int max) {
  if (!lua_isnil(L, index)) {
    uint32_t low = (uint32_t)(uint64_t)luaL_checkinteger(L, index);
    int value = low > INT32_MAX ? -(int)(UINT32_MAX - low) - 1 : (int)low;
    char message[64];
    snprintf(message, sizeof(message), "expected integer between %d and %d",
             min, max);
    luaL_argcheck(L, min <= value && value <= max, 1, message);
    *setting = value;
  }
  lua_pushinteger(L, *setting);
}

/* json_enum_option: sets *setting from argument `index` unless nil: a
 * boolean is 0 or 1, a string one of `names` (default "off", "on"). Pushes
 * the current value: a boolean for 0 and 1, else its name. */
static void json_enum_option(lua_State *L, int index, int *setting,
                             const char *const *names) {
  static const char *const on_off[] = {"off", "on", NULL};
  if (names == NULL) {
    names = on_off;
  }
  if (!lua_isnil(L, index)) {
    if (lua_isboolean(L, index)) {
      *setting = lua_toboolean(L, index);
    } else {
      *setting = luaL_checkoption(L, index, NULL, names);
    }
  }
  if (*setting == 0 || *setting == 1) {
    lua_pushboolean(L, *setting);
  } else {
    lua_pushstring(L, names[*setting]);
  }
}

static int json_cfg_encode_sparse_array(lua_State *L) {
  json_config *cfg = json_options_begin(L, 3);
  json_enum_option(L, 1, &cfg->encode_sparse_convert, NULL);
  json_integer_option(L, 2, &cfg->encode_sparse_ratio, 0, INT_MAX);
  json_integer_option(L, 3, &cfg->encode_sparse_safe, 0, INT_MAX);
  return 3;
}

static int json_cfg_encode_max_depth(lua_State *L) {
  json_config *cfg = json_options_begin(L, 1);
  json_integer_option(L, 1, &cfg->encode_max_depth, 1, INT_MAX);
  return 1;
}

static int json_cfg_decode_max_depth(lua_State *L) {
  json_config *cfg = json_options_begin(L, 1);
  json_integer_option(L, 1, &cfg->decode_max_depth, 1, INT_MAX);
  return 1;
}

static int json_cfg_encode_number_precision(lua_State *L) {
  json_config *cfg = json_options_begin(L, 1);
  json_integer_option(L, 1, &cfg->encode_number_precision, 1, 14);
  return 1;
}

static int json_cfg_encode_keep_buffer(lua_State *L) {
  json_config *cfg = json_options_begin(L, 1);
  json_enum_option(L, 1, &cfg->encode_keep_buffer, NULL);
  if (!cfg->encode_keep_buffer) {
    json_buffer_free(cfg->cache);
    cfg->cache = NULL;
  }
  return 1;
}

static int json_cfg_encode_invalid_numbers(lua_State *L) {
  static const char *const names[] = {"off", "on", "null", NULL};
  json_config *cfg = json_options_begin(L, 1);
  json_enum_option(L, 1, &cfg->encode_invalid_numbers, names);
  return 1;
}

static int json_cfg_decode_invalid_numbers(lua_State *L) {
  json_config *cfg = json_options_begin(L, 1);
  json_enum_option(L, 1, &cfg->decode_invalid_numbers, NULL);
  return 1;
}

/* ---------------------------------------------------------------------------
 * Encoding. */

typedef struct json_encoder {
  lua_State *L;
  json_config *cfg;
  json_buffer *buf;
} json_encoder;

/* json_encode_fail: releases the buffer and raises the library's message. */
__attribute__((noreturn)) static void json_encode_fail(json_encoder *enc,
                                                       int index,
                                                       const char *reason) {
  lua_State *L = enc->L;
  const char *type = lua_typename(L, lua_type(L, index));
  json_buffer_release(enc->cfg, enc->buf, enc->cfg->encode_keep_buffer);
  enc->buf = NULL;
  json_error(L, "Cannot serialise %s: %s", type, reason);
}

/* json_reserve: makes room for `len` more bytes; returns where they go. */
static char *json_reserve(json_encoder *enc, size_t len) {
  json_buffer *buf = enc->buf;
  if (buf->cap - buf->len < len) {
    if (len > SIZE_MAX / 4 - buf->len) {
      json_buffer_release(enc->cfg, buf, 0);
      enc->buf = NULL;
      json_error(enc->L, "not enough memory");
    }
    size_t cap = buf->cap < 64 ? 64 : buf->cap;
    while (cap - buf->len < len) {
      cap *= 2;
    }
    char *data = realloc(buf->data, cap);
    if (data == NULL) {
      json_buffer_release(enc->cfg, buf, 0);
      enc->buf = NULL;
      json_error(enc->L, "not enough memory");
    }
    buf->data = data;
    buf->cap = cap;
  }
  return buf->data + buf->len;
}

static void json_append(json_encoder *enc, const char *bytes, size_t len) {
  memcpy(json_reserve(enc, len), bytes, len);
  enc->buf->len += len;
}

static void json_append_char(json_encoder *enc, char c) {
  json_append(enc, &c, 1);
}

static void json_append_string(json_encoder *enc, int index) {
  static const char hex[] = "0123456789abcdef";
  size_t len;
  const unsigned char *s =
      (const unsigned char *)lua_tolstring(enc->L, index, &len);
  if (len > (SIZE_MAX - 2) / 6) {
    json_buffer_release(enc->cfg, enc->buf, 0);
    enc->buf = NULL;
    json_error(enc->L, "not enough memory");
  }
  /* Worst case: every byte a \u00XX escape. */
  char *out = json_reserve(enc, len * 6 + 2);
  char *start = out;
  *out++ = '"';
  for (size_t i = 0; i < len; i++) {
    unsigned char c = s[i];
    const char *short_escape = NULL;
    switch (c) {
      case '"':
        short_escape = "\\\"";
        break;
      case '\\':
        short_escape = "\\\\";
        break;
      case '/':
        short_escape = "\\/";
        break;
      case '\b':
        short_escape = "\\b";
        break;
      case '\t':
        short_escape = "\\t";
        break;
      case '\n':
        short_escape = "\\n";
        break;
      case '\f':
        short_escape = "\\f";
        break;
      case '\r':
        short_escape = "\\r";
        break;
      default:
        break;
    }
    if (short_escape != NULL) {
      *out++ = short_escape[0];
      *out++ = short_escape[1];
    } else if (c < 0x20 || c == 0x7f) {
      memcpy(out, "\\u00", 4);
      out[4] = hex[c >> 4];
      out[5] = hex[c & 15];
      out += 6;
    } else {
      *out++ = (char)c;
    }
  }
  *out++ = '"';
  enc->buf->len += (size_t)(out - start);
}

static void json_append_number(json_encoder *enc, int index) {
  double num = (double)lua_tonumber(enc->L, index);
  int invalid = isinf(num) || isnan(num);
  switch (enc->cfg->encode_invalid_numbers) {
    case 0:
      if (invalid) {
        json_encode_fail(enc, index, "must not be NaN or Inf");
      }
      break;
    case 1:
      /* printf may say "-nan": the library always writes "nan". */
      if (isnan(num)) {
        json_append(enc, "nan", 3);
        return;
      }
      break;
    default:
      if (invalid) {
        json_append(enc, "null", 4);
        return;
      }
      break;
  }
  char text[32];
  int len = snprintf(text, sizeof(text), "%.*g",
                     enc->cfg->encode_number_precision, num);
  json_append(enc, text, (size_t)len);
}

/* json_to_int_as_built: what Redis's build gets from (int)k: x86-64's
 * conversion gives INT_MIN for anything out of range. */
static int json_to_int_as_built(double k) {
  if (k > -2147483649.0 && k < 2147483648.0) {
    return (int)k;
  }
  return INT_MIN;
}

/* json_array_length: for the table on top, -1 when it must be an object,
 * else the largest key (0 or less also means an object). Only keys that
 * exceed the largest so far update it, converted as the library's build
 * converts them (a key beyond INT_MAX gives INT_MIN, so later keys replace
 * it): {[2^31] = 1, [3] = 2} is [null,null,2] when 2^31 is visited first,
 * as in Redis. Raises "excessively sparse array" unless convert is on. */
static int json_array_length(json_encoder *enc) {
  lua_State *L = enc->L;
  json_config *cfg = enc->cfg;
  int max = 0;
  int items = 0;
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    if (lua_type(L, -2) == LUA_TNUMBER) {
      double k = (double)lua_tonumber(L, -2);
      if (k != 0 && floor(k) == k && k >= 1) {
        if (k > max) {
          max = json_to_int_as_built(k);
        }
        items++;
        lua_pop(L, 1);
        continue;
      }
    }
    lua_pop(L, 2);
    return -1;
  }
  /* items * ratio in the library's int arithmetic (wrapping). */
  uint32_t product = (uint32_t)items * (uint32_t)cfg->encode_sparse_ratio;
  int limit =
      product > INT32_MAX ? -(int)(UINT32_MAX - product) - 1 : (int)product;
  if (cfg->encode_sparse_ratio > 0 && max > limit &&
      max > cfg->encode_sparse_safe) {
    if (!cfg->encode_sparse_convert) {
      json_encode_fail(enc, -1, "excessively sparse array");
    }
    return -1;
  }
  return max;
}

static void json_append_value(json_encoder *enc, int depth);

static void json_append_array(json_encoder *enc, int depth, int len) {
  json_append_char(enc, '[');
  for (int i = 1; i <= len; i++) {
    if (i > 1) {
      json_append_char(enc, ',');
    }
    lua_rawgeti(enc->L, -1, i);
    json_append_value(enc, depth);
    lua_pop(enc->L, 1);
  }
  json_append_char(enc, ']');
}

static void json_append_object(json_encoder *enc, int depth) {
  lua_State *L = enc->L;
  json_append_char(enc, '{');
  int first = 1;
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    if (!first) {
      json_append_char(enc, ',');
    }
    first = 0;
    int key_type = lua_type(L, -2);
    if (key_type == LUA_TNUMBER) {
      json_append_char(enc, '"');
      json_append_number(enc, -2);
      json_append(enc, "\":", 2);
    } else if (key_type == LUA_TSTRING) {
      json_append_string(enc, -2);
      json_append_char(enc, ':');
    } else {
      json_encode_fail(enc, -2, "table key must be a number or string");
    }
    json_append_value(enc, depth);
    lua_pop(L, 1);
  }
  json_append_char(enc, '}');
}

/* json_append_value: appends the value on top of the stack (left there). */
static void json_append_value(json_encoder *enc, int depth) {
  lua_State *L = enc->L;
  switch (lua_type(L, -1)) {
    case LUA_TSTRING:
      json_append_string(enc, -1);
      return;
    case LUA_TNUMBER:
      json_append_number(enc, -1);
      return;
    case LUA_TBOOLEAN:
      if (lua_toboolean(L, -1)) {
        json_append(enc, "true", 4);
      } else {
        json_append(enc, "false", 5);
      }
      return;
    case LUA_TTABLE: {
      depth++;
      /* Room to walk the table (key, value) and to build an error. */
      if (depth > enc->cfg->encode_max_depth || !lua_checkstack(L, 3)) {
        json_buffer_release(enc->cfg, enc->buf, enc->cfg->encode_keep_buffer);
        enc->buf = NULL;
        json_error(L, "Cannot serialise, excessive nesting (%d)", depth);
      }
      int len = json_array_length(enc);
      if (len > 0) {
        json_append_array(enc, depth, len);
      } else {
        json_append_object(enc, depth);
      }
      return;
    }
    case LUA_TNIL:
      json_append(enc, "null", 4);
      return;
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, -1) == NULL) {
        json_append(enc, "null", 4);
        return;
      }
      break;
    default:
      break;
  }
  json_encode_fail(enc, -1, "type not supported");
}

static int json_encode(lua_State *L) {
  json_config *cfg = json_get_config(L);
  luaL_argcheck(L, lua_gettop(L) == 1, 1, "expected 1 argument");
  json_encoder enc = {L, cfg, json_buffer_acquire(L, cfg, 0)};
  json_append_value(&enc, 0);
  lua_pushlstring(L, enc.buf->data, enc.buf->len);
  json_buffer_release(cfg, enc.buf, cfg->encode_keep_buffer);
  return 1;
}

/* ---------------------------------------------------------------------------
 * Decoding. */

typedef struct json_token {
  json_token_kind kind;
  size_t index; /* where the token (or the error) starts, 0-based */
  const char *string;
  size_t string_len;
  double number;
  int boolean;
} json_token;

typedef struct json_parser {
  lua_State *L;
  json_config *cfg;
  const char *data;
  const char *ptr;
  size_t data_len;
  json_buffer *tmp; /* decoded strings with escapes; NULL until needed */
  int depth;
} json_parser;

static void json_parser_release(json_parser *p) {
  json_buffer_release(p->cfg, p->tmp, p->cfg->encode_keep_buffer);
  p->tmp = NULL;
}

static json_token_kind json_classify(unsigned char c) {
  switch (c) {
    case '{':
      return JSON_OBJ_BEGIN;
    case '}':
      return JSON_OBJ_END;
    case '[':
      return JSON_ARR_BEGIN;
    case ']':
      return JSON_ARR_END;
    case ',':
      return JSON_COMMA;
    case ':':
      return JSON_COLON;
    case '\0':
      return JSON_END;
    case ' ':
    case '\t':
    case '\n':
    case '\r':
      return JSON_WHITESPACE;
    case 'f': /* false */
    case 'i': /* inf, infinity */
    case 'I':
    case 'n': /* null, nan */
    case 'N':
    case 't': /* true */
    case '"':
    case '+':
    case '-':
      return JSON_UNKNOWN;
    default:
      return c >= '0' && c <= '9' ? JSON_UNKNOWN : JSON_ERROR;
  }
}

static void json_token_error(json_parser *p, json_token *token,
                             const char *what) {
  token->kind = JSON_ERROR;
  token->index = (size_t)(p->ptr - p->data);
  token->string = what;
}

static int json_hex_digit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  c = (char)(c | 0x20);
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

/* json_hex4: the four hex digits at s (stops at the first non-digit, so
 * never reads past the terminating NUL), or -1. */
static int json_hex4(const char *s) {
  int value = 0;
  for (int i = 0; i < 4; i++) {
    int digit = json_hex_digit(s[i]);
    if (digit < 0) {
      return -1;
    }
    value = value << 4 | digit;
  }
  return value;
}

/* json_unicode_escape: decodes the \uXXXX (or surrogate pair) at p->ptr as
 * UTF-8 into the temporary string and advances past it; 0, or -1 when it is
 * invalid. */
static int json_unicode_escape(json_parser *p) {
  int code = json_hex4(p->ptr + 2);
  size_t escape_len = 6;
  if (code < 0) {
    return -1;
  }
  if ((code & 0xf800) == 0xd800) {
    if (code & 0x400) { /* a low surrogate first */
      return -1;
    }
    if (p->ptr[6] != '\\' || p->ptr[7] != 'u') {
      return -1;
    }
    int low = json_hex4(p->ptr + 8);
    if (low < 0 || (low & 0xfc00) != 0xdc00) {
      return -1;
    }
    code = (((code & 0x3ff) << 10) | (low & 0x3ff)) + 0x10000;
    escape_len = 12;
  }
  char *out = p->tmp->data + p->tmp->len;
  size_t n;
  if (code <= 0x7f) {
    out[0] = (char)code;
    n = 1;
  } else if (code <= 0x7ff) {
    out[0] = (char)(0xc0 | (code >> 6));
    out[1] = (char)(0x80 | (code & 0x3f));
    n = 2;
  } else if (code <= 0xffff) {
    out[0] = (char)(0xe0 | (code >> 12));
    out[1] = (char)(0x80 | ((code >> 6) & 0x3f));
    out[2] = (char)(0x80 | (code & 0x3f));
    n = 3;
  } else {
    out[0] = (char)(0xf0 | (code >> 18));
    out[1] = (char)(0x80 | ((code >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((code >> 6) & 0x3f));
    out[3] = (char)(0x80 | (code & 0x3f));
    n = 4;
  }
  p->tmp->len += n;
  p->ptr += escape_len;
  return 0;
}

static char json_unescape(char c) {
  switch (c) {
    case '"':
    case '\\':
    case '/':
      return c;
    case 'b':
      return '\b';
    case 't':
      return '\t';
    case 'n':
      return '\n';
    case 'f':
      return '\f';
    case 'r':
      return '\r';
    case 'u':
      return 'u';
    default:
      return 0;
  }
}

/* json_string_token: reads the string at p->ptr (an opening quote). A string
 * without escapes points into the input; one with escapes is decoded into
 * the parser's temporary buffer (no longer than the input, so sized once). */
static void json_string_token(json_parser *p, json_token *token) {
  p->ptr++;
  const char *start = p->ptr;
  while (*p->ptr != '"' && *p->ptr != '\\' && *p->ptr != '\0') {
    p->ptr++;
  }
  if (*p->ptr == '"') {
    token->kind = JSON_STRING;
    token->string = start;
    token->string_len = (size_t)(p->ptr - start);
    p->ptr++;
    return;
  }
  if (p->tmp == NULL) {
    p->tmp = json_buffer_acquire(p->L, p->cfg, p->data_len + 1);
  }
  json_buffer *tmp = p->tmp;
  tmp->len = (size_t)(p->ptr - start);
  memcpy(tmp->data, start, tmp->len);
  char c;
  while ((c = *p->ptr) != '"') {
    if (c == '\0') {
      json_token_error(p, token, "unexpected end of string");
      return;
    }
    if (c == '\\') {
      c = json_unescape(p->ptr[1]);
      if (c == 'u') {
        if (json_unicode_escape(p) == 0) {
          continue;
        }
        json_token_error(p, token, "invalid unicode escape code");
        return;
      }
      if (c == 0) {
        json_token_error(p, token, "invalid escape code");
        return;
      }
      p->ptr++;
    }
    tmp->data[tmp->len++] = c;
    p->ptr++;
  }
  p->ptr++;
  token->kind = JSON_STRING;
  token->string = tmp->data;
  token->string_len = tmp->len;
}

/* json_is_invalid_number: whether the text at p->ptr is a number strict
 * JSON refuses but strtod reads: a leading +, hex, leading zeros, inf, nan. */
static int json_is_invalid_number(const json_parser *p) {
  const char *s = p->ptr;
  if (*s == '+') {
    return 1;
  }
  if (*s == '-') {
    s++;
  }
  if (*s == '0') {
    char next = s[1];
    return (next | 0x20) == 'x' || (next >= '0' && next <= '9');
  }
  if ((signed char)*s <= '9') {
    return 0;
  }
  return strncasecmp(s, "inf", 3) == 0 || strncasecmp(s, "nan", 3) == 0;
}

static void json_number_token(json_parser *p, json_token *token) {
  char *end;
  token->kind = JSON_NUMBER;
  token->number = strtod(p->ptr, &end);
  if (end == p->ptr) {
    json_token_error(p, token, "invalid number");
  } else {
    p->ptr = end;
  }
}

static void json_next_token(json_parser *p, json_token *token) {
  json_token_kind kind;
  while ((kind = json_classify((unsigned char)*p->ptr)) == JSON_WHITESPACE) {
    p->ptr++;
  }
  token->kind = kind;
  token->index = (size_t)(p->ptr - p->data);
  if (kind == JSON_ERROR) {
    json_token_error(p, token, "invalid token");
    return;
  }
  if (kind == JSON_END) {
    return;
  }
  if (kind != JSON_UNKNOWN) {
    p->ptr++;
    return;
  }
  char c = *p->ptr;
  if (c == '"') {
    json_string_token(p, token);
  } else if (c == '-' || (c >= '0' && c <= '9')) {
    if (!p->cfg->decode_invalid_numbers && json_is_invalid_number(p)) {
      json_token_error(p, token, "invalid number");
    } else {
      json_number_token(p, token);
    }
  } else if (strncmp(p->ptr, "true", 4) == 0) {
    token->kind = JSON_BOOLEAN;
    token->boolean = 1;
    p->ptr += 4;
  } else if (strncmp(p->ptr, "false", 5) == 0) {
    token->kind = JSON_BOOLEAN;
    token->boolean = 0;
    p->ptr += 5;
  } else if (strncmp(p->ptr, "null", 4) == 0) {
    token->kind = JSON_NULL;
    p->ptr += 4;
  } else if (p->cfg->decode_invalid_numbers && json_is_invalid_number(p)) {
    json_number_token(p, token);
  } else {
    json_token_error(p, token, "invalid token");
  }
}

__attribute__((noreturn)) static void json_parse_fail(json_parser *p,
                                                      const char *expected,
                                                      const json_token *token) {
  const char *found =
      token->kind == JSON_ERROR ? token->string : json_token_names[token->kind];
  json_parser_release(p);
  json_error(p->L, "Expected %s but found %s at character %d", expected, found,
             (int)(unsigned)(token->index + 1));
}

/* json_descend: one level deeper, with `slots` free stack slots. */
static void json_descend(json_parser *p, int slots) {
  p->depth++;
  if (p->depth <= p->cfg->decode_max_depth && lua_checkstack(p->L, slots)) {
    return;
  }
  json_parser_release(p);
  json_error(p->L, "Found too many nested data structures (%d) at character %d",
             p->depth, (int)(unsigned)(p->ptr - p->data));
}

static void json_parse_value(json_parser *p, json_token *token);

static void json_parse_object(json_parser *p) {
  lua_State *L = p->L;
  json_token token;
  json_descend(p, 3); /* table, key, value */
  lua_newtable(L);
  json_next_token(p, &token);
  if (token.kind == JSON_OBJ_END) {
    p->depth--;
    return;
  }
  for (;;) {
    if (token.kind != JSON_STRING) {
      json_parse_fail(p, "object key string", &token);
    }
    lua_pushlstring(L, token.string, token.string_len);
    json_next_token(p, &token);
    if (token.kind != JSON_COLON) {
      json_parse_fail(p, "colon", &token);
    }
    json_next_token(p, &token);
    json_parse_value(p, &token);
    lua_rawset(L, -3);
    json_next_token(p, &token);
    if (token.kind == JSON_OBJ_END) {
      p->depth--;
      return;
    }
    if (token.kind != JSON_COMMA) {
      json_parse_fail(p, "comma or object end", &token);
    }
    json_next_token(p, &token);
  }
}

static void json_parse_array(json_parser *p) {
  lua_State *L = p->L;
  json_token token;
  json_descend(p, 2); /* table, value */
  lua_newtable(L);
  json_next_token(p, &token);
  if (token.kind == JSON_ARR_END) {
    p->depth--;
    return;
  }
  for (int i = 1;; i++) {
    json_parse_value(p, &token);
    lua_rawseti(L, -2, i);
    json_next_token(p, &token);
    if (token.kind == JSON_ARR_END) {
      p->depth--;
      return;
    }
    if (token.kind != JSON_COMMA) {
      json_parse_fail(p, "comma or array end", &token);
    }
    json_next_token(p, &token);
  }
}

static void json_parse_value(json_parser *p, json_token *token) {
  lua_State *L = p->L;
  switch (token->kind) {
    case JSON_STRING:
      lua_pushlstring(L, token->string, token->string_len);
      return;
    case JSON_NUMBER:
      lua_pushnumber(L, (lua_Number)token->number);
      return;
    case JSON_BOOLEAN:
      lua_pushboolean(L, token->boolean);
      return;
    case JSON_OBJ_BEGIN:
      json_parse_object(p);
      return;
    case JSON_ARR_BEGIN:
      json_parse_array(p);
      return;
    case JSON_NULL:
      /* A table cannot hold nil: null is the NULL lightuserdata. */
      lua_pushlightuserdata(L, NULL);
      return;
    default:
      json_parse_fail(p, "value", token);
  }
}

static int json_decode(lua_State *L) {
  luaL_argcheck(L, lua_gettop(L) == 1, 1, "expected 1 argument");
  json_parser p;
  p.L = L;
  p.cfg = json_get_config(L);
  p.data = luaL_checklstring(L, 1, &p.data_len);
  p.ptr = p.data;
  p.tmp = NULL;
  p.depth = 0;
  /* JSON text starts with an ASCII character, so a NUL among the first two
   * bytes means UTF-16 or UTF-32 (RFC 4627, section 3). */
  if (p.data_len >= 2 && (p.data[0] == '\0' || p.data[1] == '\0')) {
    json_error(L, "JSON parser does not support UTF-16 or UTF-32");
  }
  json_token token;
  json_next_token(&p, &token);
  json_parse_value(&p, &token);
  json_next_token(&p, &token);
  if (token.kind != JSON_END) {
    json_parse_fail(&p, "the end", &token);
  }
  json_parser_release(&p);
  return 1;
}

/* ---------------------------------------------------------------------------
 * The module. */

/* json_config_gc: frees the configuration's buffers. Idempotent; calls made
 * afterwards (by other finalizers at lua_close) work and keep nothing. */
static int json_config_gc(lua_State *L) {
  json_config *cfg = lua_touserdata(L, 1);
  if (cfg == NULL || cfg->magic != JSON_CONFIG_MAGIC) {
    return 0;
  }
  cfg->closed = 1;
  while (cfg->in_flight != NULL) {
    json_buffer *buf = cfg->in_flight;
    cfg->in_flight = buf->next;
    json_buffer_free(buf);
  }
  json_buffer_free(cfg->cache);
  cfg->cache = NULL;
  return 0;
}

static int json_new(lua_State *L);

static const luaL_Reg json_functions[] = {
    {"encode", json_encode},
    {"decode", json_decode},
    {"encode_sparse_array", json_cfg_encode_sparse_array},
    {"encode_max_depth", json_cfg_encode_max_depth},
    {"decode_max_depth", json_cfg_decode_max_depth},
    {"encode_number_precision", json_cfg_encode_number_precision},
    {"encode_keep_buffer", json_cfg_encode_keep_buffer},
    {"encode_invalid_numbers", json_cfg_encode_invalid_numbers},
    {"decode_invalid_numbers", json_cfg_decode_invalid_numbers},
    {"new", json_new},
    {NULL, NULL},
};

/* json_new: pushes a module table whose functions share a fresh
 * configuration (the defaults); returns 1. Also cjson.new. */
static int json_new(lua_State *L) {
  lua_newtable(L);

  json_config *cfg = lua_newuserdata(L, sizeof(*cfg));
  memset(cfg, 0, sizeof(*cfg));
  cfg->magic = JSON_CONFIG_MAGIC;
  cfg->encode_sparse_convert = 0;
  cfg->encode_sparse_ratio = 2;
  cfg->encode_sparse_safe = 10;
  cfg->encode_max_depth = 1000;
  cfg->decode_max_depth = 1000;
  cfg->encode_invalid_numbers = 0;
  cfg->decode_invalid_numbers = 1;
  cfg->encode_keep_buffer = 1;
  cfg->encode_number_precision = 14;
  lua_newtable(L);
  lua_pushcfunction(L, json_config_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);

  for (const luaL_Reg *f = json_functions; f->name != NULL; f++) {
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, f->func, 1);
    lua_setfield(L, -3, f->name);
  }
  lua_pop(L, 1);

  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "null");
  lua_pushliteral(L, JSON_NAME);
  lua_setfield(L, -2, "_NAME");
  lua_pushliteral(L, JSON_VERSION);
  lua_setfield(L, -2, "_VERSION");
  return 1;
}

/* luaopen_cjson: creates the global table `cjson` and leaves it on the
 * stack; returns 1. */
int luaopen_cjson(lua_State *L) {
  json_new(L);
  lua_pushvalue(L, -1);
  lua_setglobal(L, JSON_NAME);
  return 1;
}
