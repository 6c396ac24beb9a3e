/* lua_struct.c: the `struct` library Redis 7.0 gives scripts, with the
 * behaviour of Roberto Ierusalimschy's struct library 0.2 as Redis embeds it:
 * struct.pack(fmt, ...), struct.unpack(fmt, data[, pos]), struct.size(fmt).
 *
 * The format language, one option per character:
 *
 *   >  <     big / little endian for what follows (default: native, little)
 *   ![n]     maximum alignment n (a power of 2; no n: 8); default 1
 *   x        one padding byte
 *   b B      signed / unsigned char        h H   short (2)
 *   l L      long (8)                      T     size_t (8)
 *   i[n] I[n] signed / unsigned integer of n bytes (default 4, at most 32)
 *   c[n]     n chars (default 1); packing, c0 is the whole string;
 *            unpacking, c0 takes its length from the previous number read
 *   s        zero-terminated string        f d   float, double
 *   ' '      ignored
 *
 * An element is aligned to min(its size, maximum alignment) bytes from the
 * start of the data (chars and strings are not aligned). unpack returns the
 * values then the position after the last byte read.
 *
 * Out-of-range numbers pack as Redis's x86-64 build packs them (its C casts
 * are undefined there): see struct_to_uint64. Integers wider than 8 bytes
 * carry only 64 bits; their sign extension uses the shift count Redis's
 * build ends up with (size * 8 - 1, modulo 64). */
#include "server/scripting/lualibs.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>

/* The largest integer size an i/I option may name. */
#define STRUCT_MAX_INT_SIZE 32

enum { STRUCT_BIG = 0, STRUCT_LITTLE = 1 };

/* What a double needs after a char: the default for a bare "!". */
struct struct_double_after_char {
  char c;
  double d;
};
#define STRUCT_DOUBLE_PADDING offsetof(struct struct_double_after_char, d)
#define STRUCT_MAX_ALIGN                                             \
  ((int)(STRUCT_DOUBLE_PADDING > sizeof(int) ? STRUCT_DOUBLE_PADDING \
                                             : sizeof(int)))

typedef struct struct_header {
  int endian;
  int align;
} struct_header;

static int struct_native_endian(void) {
  const uint16_t probe = 1;
  unsigned char first;
  memcpy(&first, &probe, 1);
  return first == 1 ? STRUCT_LITTLE : STRUCT_BIG;
}

static void struct_header_init(struct_header *h) {
  h->endian = struct_native_endian();
  h->align = 1;
}

/* The character tests of the C locale, which is what Redis runs under. */
static int struct_is_digit(int c) { return c >= '0' && c <= '9'; }
static int struct_is_lower(int c) { return c >= 'a' && c <= 'z'; }
static int struct_is_alnum(int c) {
  return struct_is_digit(c) || struct_is_lower(c) || (c >= 'A' && c <= 'Z');
}

/* struct_to_int64 / struct_to_uint64: the value x86-64's conversion
 * instructions give, which is what Redis's casts compile to: truncation
 * toward zero, and INT64_MIN for NaN or anything out of range. A double of
 * 2^63 or more goes to uint64 by subtracting 2^63 and flipping the top bit, so
 * 2^64 and above (and +inf) give 0. */
static int64_t struct_to_int64(double n) {
  if (n >= -9223372036854775808.0 && n < 9223372036854775808.0) {
    return (int64_t)n;
  }
  return INT64_MIN;
}

static uint64_t struct_to_uint64(double n) {
  if (n >= 9223372036854775808.0) {
    return (uint64_t)struct_to_int64(n - 9223372036854775808.0) ^
           0x8000000000000000ull;
  }
  return (uint64_t)struct_to_int64(n);
}

/* struct_read_count: the decimal number at *fmt (advancing past it), or
 * `fallback` when there is none; raises "integral size overflow" past
 * INT_MAX. */
static int struct_read_count(lua_State *L, const char **fmt, int fallback) {
  if (!struct_is_digit(**fmt)) {
    return fallback;
  }
  int count = 0;
  while (struct_is_digit(**fmt)) {
    int digit = **fmt - '0';
    if (count > (INT_MAX - digit) / 10) {
      luaL_error(L, "integral size overflow");
    }
    count = count * 10 + digit;
    (*fmt)++;
  }
  return count;
}

/* struct_option_size: the size of option `opt` (reading its count from
 * *fmt); 0 for options that take no room of their own (s, <, >, !, ' ') and
 * for unknown ones. */
static size_t struct_option_size(lua_State *L, int opt, const char **fmt) {
  switch (opt) {
    case 'b':
    case 'B':
      return sizeof(char);
    case 'h':
    case 'H':
      return sizeof(short);
    case 'l':
    case 'L':
      return sizeof(long);
    case 'T':
      return sizeof(size_t);
    case 'f':
      return sizeof(float);
    case 'd':
      return sizeof(double);
    case 'x':
      return 1;
    case 'c':
      return (size_t)struct_read_count(L, fmt, 1);
    case 'i':
    case 'I': {
      int size = struct_read_count(L, fmt, (int)sizeof(int));
      if (size > STRUCT_MAX_INT_SIZE) {
        luaL_error(L, "integral size %d is larger than limit of %d", size,
                   STRUCT_MAX_INT_SIZE);
      }
      return (size_t)size;
    }
    default:
      return 0;
  }
}

/* struct_padding: bytes to add at offset `offset` before an element of
 * option `opt` and size `size`. Sizes that are not powers of two (i3) get the
 * library's mask arithmetic as it is. */
static size_t struct_padding(size_t offset, const struct_header *h, int opt,
                             size_t size) {
  if (size == 0 || opt == 'c') {
    return 0;
  }
  if (size > (size_t)h->align) {
    size = (size_t)h->align;
  }
  return (size - (offset & (size - 1))) & (size - 1);
}

/* struct_control: applies an option that is not a value (' ', <, >, !n);
 * raises "invalid format option" (argument 1) for anything else. */
static void struct_control(lua_State *L, int opt, const char **fmt,
                           struct_header *h) {
  switch (opt) {
    case ' ':
      return;
    case '>':
      h->endian = STRUCT_BIG;
      return;
    case '<':
      h->endian = STRUCT_LITTLE;
      return;
    case '!': {
      int align = struct_read_count(L, fmt, STRUCT_MAX_ALIGN);
      if (align <= 0 || (align & (align - 1)) != 0) {
        luaL_error(L, "alignment %d is not a power of 2", align);
      }
      h->align = align;
      return;
    }
    default:
      luaL_argerror(L, 1,
                    lua_pushfstring(L, "invalid format option '%c'", opt));
  }
}

/* struct_swap_if_needed: reverses the `size` bytes at p when `endian` is not
 * the machine's. */
static void struct_swap_if_needed(unsigned char *p, size_t size, int endian) {
  if (endian == struct_native_endian() || size < 2) {
    return;
  }
  for (size_t i = 0, j = size - 1; i < j; i++, j--) {
    unsigned char t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
}

static void struct_pack_integer(lua_State *L, luaL_Buffer *b, int arg,
                                int endian, size_t size) {
  uint64_t value = struct_to_uint64((double)luaL_checknumber(L, arg));
  unsigned char bytes[STRUCT_MAX_INT_SIZE];
  for (size_t i = 0; i < size; i++) {
    bytes[endian == STRUCT_LITTLE ? i : size - 1 - i] =
        (unsigned char)(value & 0xff);
    value >>= 8;
  }
  luaL_addlstring(b, (const char *)bytes, size);
}

static int struct_pack(lua_State *L) {
  const char *fmt = luaL_checkstring(L, 1);
  struct_header h;
  struct_header_init(&h);
  int arg = 2;
  size_t total = 0;
  lua_pushnil(L); /* keeps the buffer's slots apart from the arguments */
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  while (*fmt != '\0') {
    int opt = *fmt++;
    size_t size = struct_option_size(L, opt, &fmt);
    size_t padding = struct_padding(total, &h, opt, size);
    total += padding;
    while (padding-- > 0) {
      luaL_addchar(&b, '\0');
    }
    switch (opt) {
      case 'b':
      case 'B':
      case 'h':
      case 'H':
      case 'l':
      case 'L':
      case 'T':
      case 'i':
      case 'I':
        struct_pack_integer(L, &b, arg++, h.endian, size);
        break;
      case 'x':
        luaL_addchar(&b, '\0');
        break;
      case 'f': {
        float f = (float)luaL_checknumber(L, arg++);
        unsigned char bytes[sizeof(f)];
        memcpy(bytes, &f, sizeof(f));
        struct_swap_if_needed(bytes, sizeof(f), h.endian);
        luaL_addlstring(&b, (const char *)bytes, sizeof(f));
        break;
      }
      case 'd': {
        double d = (double)luaL_checknumber(L, arg++);
        unsigned char bytes[sizeof(d)];
        memcpy(bytes, &d, sizeof(d));
        struct_swap_if_needed(bytes, sizeof(d), h.endian);
        luaL_addlstring(&b, (const char *)bytes, sizeof(d));
        break;
      }
      case 'c':
      case 's': {
        size_t len;
        const char *s = luaL_checklstring(L, arg++, &len);
        if (size == 0) {
          size = len;
        }
        /* The library names the argument after the string (arg was already
         * advanced): kept, since scripts may match the message. */
        luaL_argcheck(L, len >= size, arg, "string too short");
        luaL_addlstring(&b, s, size);
        if (opt == 's') {
          luaL_addchar(&b, '\0');
          size++;
        }
        break;
      }
      default:
        struct_control(L, opt, &fmt, &h);
    }
    total += size;
  }
  luaL_pushresult(&b);
  return 1;
}

/* struct_read_integer: the `size`-byte integer at p. Only the last 64 bits
 * accumulated survive (the most significant bytes of a wider integer are
 * shifted out). */
static lua_Number struct_read_integer(const unsigned char *p, int endian,
                                      int is_signed, size_t size) {
  uint64_t value = 0;
  for (size_t i = 0; i < size; i++) {
    value = (value << 8) | p[endian == STRUCT_BIG ? i : size - 1 - i];
  }
  if (!is_signed) {
    return (lua_Number)value;
  }
  unsigned shift = (unsigned)(size * 8 - 1) & 63;
  uint64_t sign_mask = UINT64_MAX << shift;
  if (value & sign_mask) {
    value |= sign_mask;
  }
  /* Two's complement reading of the 64 bits. */
  if (value > (uint64_t)INT64_MAX) {
    return (lua_Number)(-(int64_t)(UINT64_MAX - value) - 1);
  }
  return (lua_Number)(int64_t)value;
}

static void struct_check_room(lua_State *L, size_t pos, size_t size,
                              size_t len) {
  luaL_argcheck(L, size <= len && pos <= len - size, 2,
                "data string too short");
}

static int struct_unpack(lua_State *L) {
  const char *fmt = luaL_checkstring(L, 1);
  size_t len;
  const unsigned char *data =
      (const unsigned char *)luaL_checklstring(L, 2, &len);
  /* A negative position wraps to a huge one, as in the library: it then
   * fails "data string too short" at the first option. */
  size_t pos = (size_t)luaL_optinteger(L, 3, 1);
  luaL_argcheck(L, pos > 0, 3, "offset must be 1 or greater");
  pos--;
  int results = 0;
  struct_header h;
  struct_header_init(&h);
  while (*fmt != '\0') {
    int opt = *fmt++;
    size_t size = struct_option_size(L, opt, &fmt);
    pos += struct_padding(pos, &h, opt, size);
    struct_check_room(L, pos, size, len);
    luaL_checkstack(L, 2, "too many results");
    switch (opt) {
      case 'b':
      case 'B':
      case 'h':
      case 'H':
      case 'l':
      case 'L':
      case 'T':
      case 'i':
      case 'I':
        lua_pushnumber(L, struct_read_integer(data + pos, h.endian,
                                              struct_is_lower(opt), size));
        results++;
        break;
      case 'x':
        break;
      case 'f': {
        unsigned char bytes[sizeof(float)];
        memcpy(bytes, data + pos, sizeof(bytes));
        struct_swap_if_needed(bytes, sizeof(bytes), h.endian);
        float f;
        memcpy(&f, bytes, sizeof(f));
        lua_pushnumber(L, (lua_Number)f);
        results++;
        break;
      }
      case 'd': {
        unsigned char bytes[sizeof(double)];
        memcpy(bytes, data + pos, sizeof(bytes));
        struct_swap_if_needed(bytes, sizeof(bytes), h.endian);
        double d;
        memcpy(&d, bytes, sizeof(d));
        lua_pushnumber(L, (lua_Number)d);
        results++;
        break;
      }
      case 'c':
        if (size == 0) {
          if (results == 0 || !lua_isnumber(L, -1)) {
            luaL_error(L, "format 'c0' needs a previous size");
          }
          size = (size_t)struct_to_uint64((double)lua_tonumber(L, -1));
          lua_pop(L, 1);
          results--;
          struct_check_room(L, pos, size, len);
        }
        lua_pushlstring(L, (const char *)data + pos, size);
        results++;
        break;
      case 's': {
        const unsigned char *end = memchr(data + pos, '\0', len - pos);
        if (end == NULL) {
          luaL_error(L, "unfinished string in data");
        }
        size = (size_t)(end - (data + pos)) + 1;
        lua_pushlstring(L, (const char *)data + pos, size - 1);
        results++;
        break;
      }
      default:
        struct_control(L, opt, &fmt, &h);
    }
    pos += size;
  }
  /* The next position, 1-based; a wrapped position comes back as the
   * negative number it was given as. */
  size_t next = pos + 1;
  lua_pushinteger(L, next > (size_t)PTRDIFF_MAX
                         ? -(lua_Integer)(SIZE_MAX - next) - 1
                         : (lua_Integer)next);
  return results + 1;
}

static int struct_size(lua_State *L) {
  const char *fmt = luaL_checkstring(L, 1);
  size_t pos = 0;
  struct_header h;
  struct_header_init(&h);
  while (*fmt != '\0') {
    int opt = *fmt++;
    size_t size = struct_option_size(L, opt, &fmt);
    pos += struct_padding(pos, &h, opt, size);
    if (opt == 's') {
      luaL_argerror(L, 1, "option 's' has no fixed size");
    } else if (opt == 'c' && size == 0) {
      luaL_argerror(L, 1, "option 'c0' has no fixed size");
    }
    /* Unknown letters and digits are skipped here (pack and unpack refuse
     * them): the library's behaviour. */
    if (!struct_is_alnum(opt)) {
      struct_control(L, opt, &fmt, &h);
    }
    pos += size;
  }
  lua_pushinteger(L, (lua_Integer)pos);
  return 1;
}

static const luaL_Reg struct_functions[] = {
    {"pack", struct_pack},
    {"unpack", struct_unpack},
    {"size", struct_size},
    {NULL, NULL},
};

/* luaopen_struct: creates the global table `struct` (also
 * package.loaded.struct) and leaves it on the stack; returns 1. */
int luaopen_struct(lua_State *L) {
  luaL_register(L, "struct", struct_functions);
  return 1;
}
