/* lua_bit.c: the `bit` library Redis 7.0 gives scripts, with the behaviour of
 * Lua BitOp 1.0.2 on Lua 5.1 (doubles): tobit, tohex, bnot, band, bor, bxor,
 * lshift, rshift, arshift, rol, ror, bswap.
 *
 * Every argument is reduced to a 32-bit value the way BitOp does it: the
 * number is rounded to the nearest integer (ties to even) and taken modulo
 * 2^32; results come back as signed 32-bit numbers (bit.tobit(2^31) is
 * -2147483648). A non-number argument is an error only when it does not
 * convert to a number ("0x10" and "12" are accepted, as in BitOp on 5.1).
 * bit.tohex(x, n) prints the low |n| nibbles (at most 8), upper case when n is
 * negative; n = -2^31 behaves as -(2^31 - 1), as Redis has it since the fix
 * for CVE-2024-31449. */
#include "server/scripting/lualibs.h"

#include <stdint.h>
#include <string.h>

#include <lauxlib.h>

/* 2^52 + 2^51: adding it to a double of magnitude below 2^51 leaves the
 * number's integer part, rounded to nearest even, in the low mantissa bits.
 * Larger magnitudes give what BitOp gives for them (it uses the same sum). */
#define BIT_NORMALIZE_BIAS 6755399441055744.0

/* bit_arg: argument `index` as BitOp's 32-bit value; raises "number
 * expected" when it is neither a number nor a numeric string. */
static uint32_t bit_arg(lua_State *L, int index) {
  double biased = (double)lua_tonumber(L, index) + BIT_NORMALIZE_BIAS;
  uint64_t representation;
  memcpy(&representation, &biased, sizeof(representation));
  uint32_t value = (uint32_t)representation;
  /* lua_tonumber gives 0 for a non-number, so only a 0 needs the check. */
  if (value == 0 && !lua_isnumber(L, index)) {
    luaL_typerror(L, index, "number");
  }
  return value;
}

/* bit_push: pushes `value` read as a signed 32-bit integer; returns 1. */
static int bit_push(lua_State *L, uint32_t value) {
  int32_t as_signed =
      value > INT32_MAX ? -(int32_t)(UINT32_MAX - value) - 1 : (int32_t)value;
  lua_pushnumber(L, (lua_Number)as_signed);
  return 1;
}

static int bit_tobit(lua_State *L) { return bit_push(L, bit_arg(L, 1)); }

static int bit_bnot(lua_State *L) { return bit_push(L, ~bit_arg(L, 1)); }

/* The variadic operations read their arguments from the last one down to the
 * first, as BitOp does (it decides which bad argument is reported). */
static int bit_band(lua_State *L) {
  uint32_t value = bit_arg(L, 1);
  for (int i = lua_gettop(L); i > 1; i--) {
    value &= bit_arg(L, i);
  }
  return bit_push(L, value);
}

static int bit_bor(lua_State *L) {
  uint32_t value = bit_arg(L, 1);
  for (int i = lua_gettop(L); i > 1; i--) {
    value |= bit_arg(L, i);
  }
  return bit_push(L, value);
}

static int bit_bxor(lua_State *L) {
  uint32_t value = bit_arg(L, 1);
  for (int i = lua_gettop(L); i > 1; i--) {
    value ^= bit_arg(L, i);
  }
  return bit_push(L, value);
}

/* The shift count is the second argument's low 5 bits. */
static unsigned bit_count(lua_State *L) { return bit_arg(L, 2) & 31; }

static int bit_lshift(lua_State *L) {
  uint32_t value = bit_arg(L, 1);
  return bit_push(L, value << bit_count(L));
}

static int bit_rshift(lua_State *L) {
  uint32_t value = bit_arg(L, 1);
  return bit_push(L, value >> bit_count(L));
}

static int bit_arshift(lua_State *L) {
  uint32_t value = bit_arg(L, 1);
  unsigned count = bit_count(L);
  uint32_t shifted = value >> count;
  if ((value & 0x80000000u) && count > 0) {
    shifted |= ~(UINT32_MAX >> count); /* copies of the sign bit */
  }
  return bit_push(L, shifted);
}

static uint32_t bit_rotate_left(uint32_t value, unsigned count) {
  return count == 0 ? value : (value << count) | (value >> (32 - count));
}

static int bit_rol(lua_State *L) {
  uint32_t value = bit_arg(L, 1);
  return bit_push(L, bit_rotate_left(value, bit_count(L)));
}

static int bit_ror(lua_State *L) {
  uint32_t value = bit_arg(L, 1);
  return bit_push(L, bit_rotate_left(value, (32 - bit_count(L)) & 31));
}

static int bit_bswap(lua_State *L) {
  uint32_t value = bit_arg(L, 1);
  return bit_push(L, (value >> 24) | ((value >> 8) & 0xff00u) |
                         ((value & 0xff00u) << 8) | (value << 24));
}

static int bit_tohex(lua_State *L) {
  uint32_t value = bit_arg(L, 1);
  int64_t digits = 8;
  if (!lua_isnone(L, 2)) {
    uint32_t raw = bit_arg(L, 2);
    digits = raw > INT32_MAX ? (int64_t)raw - 4294967296LL : (int64_t)raw;
  }
  const char *alphabet = "0123456789abcdef";
  if (digits < 0) {
    /* -2^31 counts as -(2^31 - 1): both mean 8 upper-case digits. */
    digits = -digits;
    alphabet = "0123456789ABCDEF";
  }
  if (digits > 8) {
    digits = 8;
  }
  char text[8];
  for (int64_t i = digits - 1; i >= 0; i--) {
    text[i] = alphabet[value & 15];
    value >>= 4;
  }
  lua_pushlstring(L, text, (size_t)digits);
  return 1;
}

static const luaL_Reg bit_functions[] = {
    {"tobit", bit_tobit},   {"bnot", bit_bnot},       {"band", bit_band},
    {"bor", bit_bor},       {"bxor", bit_bxor},       {"lshift", bit_lshift},
    {"rshift", bit_rshift}, {"arshift", bit_arshift}, {"rol", bit_rol},
    {"ror", bit_ror},       {"bswap", bit_bswap},     {"tohex", bit_tohex},
    {NULL, NULL},
};

/* luaopen_bit: creates the global table `bit` (also package.loaded.bit, as
 * luaL_register does) and leaves it on the stack; returns 1. */
int luaopen_bit(lua_State *L) {
  luaL_register(L, "bit", bit_functions);
  return 1;
}
