#!/usr/bin/python3
"""gen_lualibs_redis_cases.py: records what real Redis answers for a corpus of Lua snippets that
use the cjson, bit, cmsgpack and struct libraries, as lualibs_test_redis_cases.h, which
lualibs_test.cc replays against Redoubt's libraries (server/scripting/lua_*.c) byte for byte.

    tests/unit/scripting/gen_lualibs_redis_cases.py            # starts /usr/bin/redis-server
    tests/unit/scripting/gen_lualibs_redis_cases.py --port N   # uses a running Redis 7.0

Each case is a function body. The script sent to Redis (EVAL ... 0) is PRELUDE (one line),
then the body inside pcall, then a line that resets cjson's options and returns the results
serialised by `ser` (types, %.17g numbers, escaped strings, tables with sorted keys): errors
come back as `false | "user_script:3: ..."`, with the same line numbers in both places. The
test builds the same script and runs it in a fresh lua_State named "@user_script".

Add cases in the cases_* functions and rerun; the header is rewritten whole (never edit it by
hand). Needs redis-py (Debian's python3-redis).
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "lualibs_test_redis_cases.h")

# One line: errors raised in a case then say "user_script:3:" (line 2 opens the pcall).
PRELUDE = (
    "local function esc(s) return (string.gsub(string.gsub(s, '\\\\', '\\\\\\\\'), '[%c\\128-\\255]', "
    "function(c) return string.format('\\\\x%02x', string.byte(c)) end)) end "
    "local function hex(s) return (string.gsub(s, '.', function(c) "
    "return string.format('%02x', string.byte(c)) end)) end "
    "local function before(a, b) for i = 1, math.min(#a, #b) do local x, y = a:byte(i), b:byte(i) "
    "if x ~= y then return x < y end end return #a < #b end "
    "local ser ser = function(v, d) local t = type(v) "
    "if t == 'nil' or t == 'boolean' then return tostring(v) "
    "elseif t == 'number' then return string.format('%.17g', v) "
    "elseif t == 'string' then if #v > 300 then local h = 0 for i = 1, #v do "
    "h = (h * 31 + string.byte(v, i)) % 2147483647 end "
    "return 's#' .. #v .. ':' .. h .. ':\"' .. esc(v:sub(1, 24)) .. '\"...\"' .. esc(v:sub(-24)) .. '\"' end "
    "return '\"' .. esc(v) .. '\"' "
    "elseif t == 'table' then if d > 40 then return '{...}' end local ks = {} "
    "for k, x in pairs(v) do ks[#ks + 1] = ser(k, d + 1) .. '=' .. ser(x, d + 1) end "
    "table.sort(ks, before) return '{' .. table.concat(ks, ',') .. '}' "
    "elseif v == cjson.null then return 'null' else return t end end "
    "local function capture(...) return select('#', ...), {...} end "
    "local function try(f, ...) local ok, v = pcall(f, ...) return (ok and 'ok:' or 'error:') .. ser(v, 0) end "
    "local function reset() cjson.encode_sparse_array(false, 2, 10) cjson.encode_max_depth(1000) "
    "cjson.decode_max_depth(1000) cjson.encode_number_precision(14) cjson.encode_keep_buffer(true) "
    "cjson.encode_invalid_numbers(false) cjson.decode_invalid_numbers(true) end "
    "local function nest(open, close, n) return string.rep(open, n) .. string.rep(close, n) end"
)

SCRIPT_OPEN = "local n, r = capture(pcall(function()\n"
SCRIPT_CLOSE = "\nend))\nreset()\nlocal out = {} for i = 1, n do out[i] = ser(r[i], 0) end return table.concat(out, ' | ')"


def script(body):
    return PRELUDE + "\n" + SCRIPT_OPEN + body + SCRIPT_CLOSE


def lua_str(b):
    """A Lua string literal for the bytes b."""
    out = []
    for c in b:
        if 32 <= c < 127 and c not in (34, 92):
            out.append(chr(c))
        else:
            out.append("\\%03d" % c)
    return '"' + "".join(out) + '"'


CASES = []


def case(body):
    CASES.append(body)


def cases_cjson():
    # Module fields.
    case("return cjson._NAME, cjson._VERSION, type(cjson.null), cjson.null == nil")
    case("local names = {} for k in pairs(cjson) do names[#names + 1] = k end return table.concat(names, ',')")
    # Scalars.
    for v in ["nil", "true", "false", "0", "-0", "1", "-1", "0.5", "1/3", "-1/3", "0.1", "1e14",
              "1e15", "123456789012345", "12345678901234", "2^53", "2^63", "-2^63", "1e300",
              "5e-324", "1e-5", "1e-4", "123.456", "-123.456e-7", "3.14159265358979",
              "cjson.null", "''", "'abc'", "'a/b\"c\\\\d'", "'\\0\\1\\2\\31\\127\\128\\255'",
              "'\\8\\9\\10\\11\\12\\13'", "'caf\\195\\169'", "string.rep('x', 1000)"]:
        case("return cjson.encode(%s)" % v)
    case("local s = '' for i = 0, 255 do s = s .. string.char(i) end return cjson.encode(s)")
    # Arrays and objects.
    for v in ["{}", "{1,2,3}", "{1,nil,3}", "{[1]=1,[2]=2,[4]=4}", "{[1]=1,[11]=2}",
              "{[10]=1}", "{[11]=1}", "{[12]=1,[11]=1,[10]=1,[9]=1,[8]=1,[7]=1}", "{[0]=1}",
              "{[-1]=1}", "{[1.5]=1}", "{[1e10]=1}", "{[2^31]=1}", "{[2^31]=1,[3]=2}",
              "{[3]=2,[2^31]=1}", "{[2^32+1]=1,[2]=1}", "{1,2,a=3}", "{a=1}", "{a={b={c={}}}}",
              "{cjson.null, false, true}", "{['1']=1}", "{[1]='x',['2']='y'}",
              "{[-0.5]=1}", "{[1/3]=1}", "{[1e300]=1}", "{{},{{}},{{{}}}}",
              "{x={1,2,{y=cjson.null}}}", "{['a/b']='\\n'}"]:
        case("return cjson.encode(%s)" % v)
    case("local t = {} for i = 1, 20 do t[i] = i end t[25] = 1 return cjson.encode(t)")
    case("local t = {} for i = 1, 20 do t[i * 3] = i end return cjson.encode(t)")
    case("return cjson.encode({[math.huge]=1})")
    case("return cjson.encode({[-math.huge]=1})")
    case("return cjson.encode({[true]=1})")
    case("return cjson.encode({[{}]=1})")
    case("return cjson.encode(function() end)")
    case("return cjson.encode({1, function() end})")
    case("return cjson.encode(coroutine.create(function() end))")
    case("return cjson.encode({[function() end]=1})")
    case("return cjson.encode()")
    case("return cjson.encode(1, 2)")
    case("return pcall(cjson.encode)")
    # Invalid numbers.
    for mode in ["false", "true", "'null'", "'on'", "'off'", "nil"]:
        case("local m = cjson.encode_invalid_numbers(%s) return m, try(cjson.encode, {math.huge, -math.huge}), "
             "try(cjson.encode, 0/0), try(cjson.encode, -(0/0)), try(cjson.encode, {[math.huge]=1})" % mode)
    case("return cjson.encode_invalid_numbers('maybe')")
    case("return cjson.encode_invalid_numbers(1)")
    case("return cjson.encode_invalid_numbers(true, 1)")
    # Precision.
    for p in range(1, 15):
        case("return cjson.encode_number_precision(%d), cjson.encode({1/3, 123456789, 1e20, 0.5, -2.5e-8})" % p)
    for p in ["0", "15", "-1", "'x'", "'7'", "2^32 + 5", "3.9", "{}"]:
        case("return cjson.encode_number_precision(%s)" % p)
    # Depth.
    case("local t = {} t[1] = t return cjson.encode(t)")
    case("local t = {} t.a = t return cjson.encode(t)")
    case("return cjson.encode_max_depth(3), try(cjson.encode, {{{1}}}), try(cjson.encode, {{{{1}}}})")
    case("return cjson.encode_max_depth(1), try(cjson.encode, {}), try(cjson.encode, {{}}), try(cjson.encode, {a={}})")
    for v in ["0", "-1", "2^31", "'abc'", "nil"]:
        case("return cjson.encode_max_depth(%s)" % v)
    case("local t = {} local c = t for i = 1, 999 do c[1] = {} c = c[1] end return #cjson.encode(t)")
    case("local t = {} local c = t for i = 1, 1000 do c[1] = {} c = c[1] end return cjson.encode(t)")
    case("cjson.encode_max_depth(5000) local t = {} local c = t for i = 1, 4500 do c[1] = {} c = c[1] end "
         "return #cjson.encode(t)")
    case("cjson.encode_max_depth(10000) local t = {} local c = t for i = 1, 9000 do c[1] = {} c = c[1] end "
         "return cjson.encode(t)")
    case("cjson.encode_max_depth(10000) local t = {} local c = t for i = 1, 5000 do c.k = {} c = c.k end "
         "return cjson.encode(t)")
    # Sparse arrays.
    case("return cjson.encode_sparse_array()")
    case("return cjson.encode_sparse_array(true)")
    case("return cjson.encode_sparse_array(true), cjson.encode({[1]=1,[20]=2}), cjson.encode({[3]=1})")
    case("return cjson.encode_sparse_array(false, 0), cjson.encode({[1000]=1})")
    case("return cjson.encode_sparse_array(false, 1, 0), try(cjson.encode, {[2]=1}), cjson.encode({1,2})")
    case("return cjson.encode_sparse_array(false, 3, 2), try(cjson.encode, {[1]=1,[7]=1}), cjson.encode({[1]=1,[6]=1})")
    case("return cjson.encode_sparse_array('on', nil, 100), cjson.encode({[50]=1})")
    case("return cjson.encode_sparse_array('off', 2147483647, 0), cjson.encode({[5]=1,[6]=1})")
    case("return cjson.encode_sparse_array(false, 1073741824, 0), try(cjson.encode, {[5]=1,[6]=1,[7]=1})")
    for args in ["1", "'yes'", "true, -1", "true, 1, -1", "true, 1, 1, 1", "nil, 'x'", "true, 2^31"]:
        case("return cjson.encode_sparse_array(%s)" % args)
    # Keep buffer.
    for v in ["", "false", "true", "'off'", "'on'", "'yes'", "0", "true, 1"]:
        case("local r = cjson.encode_keep_buffer(%s) return r, cjson.encode({1,'two',{3}})" % v)
    case("cjson.encode_keep_buffer(false) local a = cjson.encode(string.rep('x', 5000)) "
         "cjson.encode_keep_buffer(true) return #a, cjson.encode('y')")
    # Independent instances.
    case("local c = cjson.new() c.encode_number_precision(3) return c.encode(1/3), cjson.encode(1/3), "
         "c._NAME, c._VERSION, c.null == cjson.null, c.new ~= nil")
    case("local c = cjson.new() local d = c.new() d.decode_max_depth(1) return c.decode('[[1]]')[1][1], try(d.decode, '[[1]]')")
    # Decode: scalars and numbers.
    for s in ["null", "true", "false", "0", "-0", "1.5", "-1.5e3", "1E2", "1e400", "-1e400", "1e-400",
              "0x10", "-0x10", "0X1P4", "+1", "+", "-", "--1", "inf", "-inf", "Inf", "INFINITY",
              "-Infinity", "infinit", "nan", "NaN", "-nan", "nan(123)", "01", "-01", "00", "0.",
              "1.", ".5", "-.5", "1e", "1e+", "1.5e-3", "123456789012345678901234567890",
              "0.1e1", "tru", "fals", "nul", "nulll", "truex", "x", "T", "", " ", "  1  ", "\t\n\r 1",
              "1 2", "i", "I", "n", "N", "f", "t"]:
        case("return cjson.decode(%s)" % lua_str(s.encode()))
    # Decode: strings.
    for s in [r'"abc"', r'""', r'"a\"b"', r'"\/\b\f\n\r\t\\"', r'"\u00e9"', r'"\u0041\u00DF\u6C34"',
              r'"\ud83d\ude00"', r'"\uD834\uDD1E"', r'"\ud83d"', r'"\ude00"', r'"\ud83dx"',
              r'"\ud83d\u0041"', r'"\ud83d\ud83d"', r'"\u12"', r'"\u12g4"', r'"\u"', r'"\x"',
              r'"\a"', '"abc', '"ab\\', r'"\u0000"', r'"\u007f\u0080\u07ff\u0800\uffff"',
              '"caf\xc3\xa9"', '"tab\there"', '"nl\nhere"']:
        case("return cjson.decode(%s)" % lua_str(s.encode("latin-1")))
    # Decode: structures and syntax errors.
    for s in ["[]", "{}", "[1,2,3]", "[1,]", "[,1]", "[1 2]", "[1", "[", "]", "{", "}",
              '{"a":1}', '{"a":1,}', '{"a" 1}', '{"a":}', '{1:2}', '{"a":1 "b":2}', '{"a":1,"a":2}',
              '{"a":{"b":[1,{"c":null}]}}', "[null,null]", "[1]x", "[1] ", " [1]", "[[[[]]]]",
              '{"":""}', '{"\\u0041":1}', "[true,false,null,1,\"s\",[],{}]", ":", ",", "[1:2]",
              '{"a",1}', '{"a":1]', "[1}", '{"a":1}}', "[1]]"]:
        case("return cjson.decode(%s)" % lua_str(s.encode()))
    # NUL bytes.
    for s in [b"[1]\0x", b"\0[1]", b"a\0", b"1\0", b"\0", b"[\0]", b"\"a\0b\"", b" \0", b"[1,\0 2]"]:
        case("return cjson.decode(%s)" % lua_str(s))
    # Arguments.
    case("return cjson.decode()")
    case("return cjson.decode('1', '2')")
    case("return cjson.decode(nil)")
    case("return cjson.decode({})")
    case("return cjson.decode(123)")
    case("return cjson.decode(1.5e300)")
    case("return pcall(cjson.decode, 'x')")
    # Decode invalid numbers off.
    for s in ["1", "-1", "0x10", "-0x10", "+1", "inf", "-inf", "nan", "NaN", "Infinity", "01", "-01",
              "0", "-0", "0.5", "1e5", "-", "-x", "[1,inf]", "{\"a\":nan}", "-\xc3"]:
        case("return cjson.decode_invalid_numbers(false), try(cjson.decode, %s)" % lua_str(s.encode("latin-1")))
    for v in ["", "true", "'on'", "'off'", "'x'", "1"]:
        case("return cjson.decode_invalid_numbers(%s)" % v)
    # Decode depth.
    case("return cjson.decode_max_depth(2), try(cjson.decode, '[[1]]'), try(cjson.decode, '[[[1]]]')")
    case("return cjson.decode_max_depth(1), try(cjson.decode, '{\"a\":{}}'), try(cjson.decode, '  [ [')")
    case("return #cjson.decode(nest('[', ']', 1000))")
    case("return cjson.decode(nest('[', ']', 1001))")
    case("return cjson.decode(string.rep('{\"a\":', 1001) .. '1' .. string.rep('}', 1001))")
    case("cjson.decode_max_depth(100000) return try(cjson.decode, nest('[', ']', 3998)), "
         "try(cjson.decode, nest('[', ']', 3999)), try(cjson.decode, nest('[', ']', 4000))")
    case("cjson.decode_max_depth(100000) return try(cjson.decode, string.rep('{\"a\":', 2700) .. '1' .. string.rep('}', 2700))")
    case("cjson.decode_max_depth(100000) return try(cjson.decode, string.rep('{\"a\":', 2665) .. '1' .. string.rep('}', 2665)), "
         "try(cjson.decode, string.rep('{\"a\":', 2666) .. '1' .. string.rep('}', 2666)), "
         "try(cjson.decode, string.rep('{\"a\":', 2667) .. '1' .. string.rep('}', 2667))")
    for v in ["0", "-5", "'a'"]:
        case("return cjson.decode_max_depth(%s)" % v)
    # Metatables are not consulted; keys of both kinds; keep_buffer off on error paths.
    case("return cjson.encode(setmetatable({}, {__index=function() return 1 end, __len=function() return 3 end}))")
    case("return cjson.encode(setmetatable({1,2}, {__index={5,6,7}}))")
    case("cjson.encode_keep_buffer(false) return try(cjson.encode, {1, {2, function() end}}), "
         "try(cjson.encode, {[1]=1,[50]=2}), try(cjson.encode, {0/0}), cjson.encode({'ok'})")
    case("return cjson.encode({[1]=1,[2]=2,x=3,[-1]=4,[0.5]=5})")
    case("return cjson.decode('{\"a\":[{\"b\":[{\"c\":[1,2,{\"d\":[]}]}]}],\"e\":{}}')")
    case("return cjson.decode('[\"' .. string.rep('\\\\u00e9', 100) .. '\"]')[1] == string.rep('\\195\\169', 100)")
    # Round trips.
    case("local t = {a={1,2,3},b='x\\ny',c=true,d=cjson.null,e=1.25} return cjson.decode(cjson.encode(t))")
    case("local s = '' for i = 0, 255 do s = s .. string.char(i) end return cjson.decode(cjson.encode(s)) == s")
    case("return cjson.encode(cjson.decode('{\"a\":[1,2,{\"b\":null}],\"c\":\"\\\\u00e9\"}'))")
    case("return cjson.decode(cjson.encode({[1]=1,[2]=2,[3]=3}))")
    case("return cjson.decode(string.rep(' ', 100) .. '\"' .. string.rep('a', 500) .. '\"')")
    case("return cjson.decode('\"' .. string.rep('\\\\n', 200) .. '\"')")


def cases_bit():
    values = ["0", "1", "-1", "2^31", "-2^31", "2^31-1", "2^32", "2^32+1", "-2^32", "2^52", "2^53",
              "2^53+2", "2^63", "-2^63", "1.5", "2.5", "-1.5", "-2.5", "0.5", "-0.5", "0.49999999999999994",
              "1e20", "-1e20", "math.huge", "-math.huge", "0/0", "'12'", "'0x10'", "' 7 '", "4294967295",
              "305419896", "-305419896", "2^51", "2^51+0.5", "-2^51-0.5"]
    for v in values:
        case("return bit.tobit(%s), bit.tohex(%s), bit.bnot(%s), bit.bswap(%s)" % (v, v, v, v))
    for v in ["'abc'", "nil", "{}", "true", "''"]:
        case("return bit.tobit(%s)" % v)
    case("return bit.tobit()")
    case("return bit.band()")
    case("return bit.band(1, 'x', {})")
    case("return bit.bor(1, 2, 'x')")
    case("return bit.bxor('x')")
    case("return bit.lshift(1)")
    case("return bit.tohex(1, nil)")
    case("return bit.tohex(1, 'z')")
    for n in ["0", "1", "2", "4", "7", "8", "9", "100", "-1", "-4", "-8", "-9", "-100", "-2^31", "2^31",
              "2^31-1", "-2^31+1", "2^32", "2^32-1", "1.5"]:
        case("return bit.tohex(0x12345678, %s), bit.tohex(-1, %s), bit.tohex(0, %s)" % (n, n, n))
    for f in ["band", "bor", "bxor"]:
        case("return bit.%s(0xff00ff00, 0x0ff00ff0), bit.%s(-1, 2^32 + 5, 7.5), bit.%s(1), bit.%s(1, 2, 4, 8, 16, 0x8000000000)"
             % (f, f, f, f))
    for f in ["lshift", "rshift", "arshift", "rol", "ror"]:
        for b in ["1", "-1", "0x87654321", "-0x80000000", "2^40 + 3"]:
            case("local r = {} for _, n in ipairs({0, 1, 4, 31, 32, 33, -1, -31, 2^32 + 1, 1.5}) do "
                 "r[#r + 1] = bit.%s(%s, n) end return unpack(r)" % (f, b))
    case("return bit.bswap(0x12345678), bit.bswap(-1), bit.bswap(0x80), bit.bswap(2^32 + 0x01020304)")
    case("local names = {} for k in pairs(bit) do names[#names + 1] = k end return table.concat(names, ',')")


def packed(expr):
    return "local s = cmsgpack.pack(%s) return hex(s), cmsgpack.unpack(s)" % expr


def cases_cmsgpack():
    case("return cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION")
    case("local names = {} for k in pairs(cmsgpack) do names[#names + 1] = k end return table.concat(names, ',')")
    for v in ["0", "1", "127", "128", "255", "256", "65535", "65536", "2^32-1", "2^32", "2^53", "2^62",
              "2^63", "2^64", "-1", "-32", "-33", "-128", "-129", "-32768", "-32769", "-2^31", "-2^31-1",
              "-2^53", "-2^63", "-2^63-4096", "-2^64", "-0", "0.5", "1.5", "-1.5", "0.1", "1/3", "1e300",
              "-1e300", "3.4028234663852886e38", "3.4028235677973366e38", "1e39", "1.401298464324817e-45",
              "1e-46", "math.huge", "-math.huge", "0/0", "2^63-1024", "1e20", "2^100"]:
        case(packed(v))
    for v in ["nil", "true", "false", "function() end", "coroutine.create(function() end)", "cjson.null"]:
        case(packed(v))
    for n in [0, 1, 31, 32, 255, 256, 65535, 65536]:
        case("local s = cmsgpack.pack(string.rep('a', %d)) return #s, hex(s:sub(1, 6)), cmsgpack.unpack(s) == string.rep('a', %d)" % (n, n))
    case(packed("'\\0\\255'"))
    for v in ["{}", "{1,2,3}", "{1,nil,3}", "{[1]=1,[2]=2,[4]=4}", "{[0]=1}", "{[-1]=1}", "{[1.5]=1}",
              "{a=1}", "{[2^31]=1}", "{[2^31-1]=1}", "{1,2,a=3}", "{[1]='x',[3]='y',[2]='z'}",
              "{{},{{}},{a={}}}", "{true, false}", "{[true]=1}", "{['1']=1}"]:
        case(packed(v))
    for n in [15, 16, 65535, 65536]:
        case("local t = {} for i = 1, %d do t[i] = i %% 7 end local s = cmsgpack.pack(t) "
             "local u = cmsgpack.unpack(s) return #s, hex(s:sub(1, 8)), #u, u[1], u[#u]" % n)
        case("local t = {} for i = 1, %d do t['k' .. i] = i end local s = cmsgpack.pack(t) "
             "local u = cmsgpack.unpack(s) local c = 0 for k, v in pairs(u) do c = c + 1 end "
             "return #s, hex(s:sub(1, 4)), c, u.k1" % n)
    case("local t = {a=1,b=2,c=3,d=4} return hex(cmsgpack.pack(t))")
    # Nesting.
    for depth in [15, 16, 17, 30]:
        case("local t = 1 for i = 1, %d do t = {t} end local s = cmsgpack.pack(t) return hex(s), cmsgpack.unpack(s)" % depth)
    case("local t = {} t[1] = t return hex(cmsgpack.pack(t))")
    case("local t = {} t.a = t return hex(cmsgpack.pack(t))")
    case("local t = {} t[t] = 1 return #cmsgpack.pack(t)")
    # Several values.
    case("local s = cmsgpack.pack(1, 'two', {3}, nil, true) return hex(s), cmsgpack.unpack(s)")
    case("return cmsgpack.pack()")
    case("return pcall(cmsgpack.pack)")
    case("local t = {} for i = 1, 4000 do t[i] = i end local s = cmsgpack.pack(unpack(t)) return #s, select('#', cmsgpack.unpack_limit(s, 10))")
    case("local t = {} for i = 1, 4001 do t[i] = i end return cmsgpack.pack(unpack(t))")
    case("local t = {} for i = 1, 3990 do t[i] = i end t[3990] = {{{{{{{{{{{{{{{{1}}}}}}}}}}}}}}}} return #cmsgpack.pack(unpack(t))")
    case("local t = {} for i = 1, 3999 do t[i] = {{{{{{{{{1}}}}}}}}} end return #cmsgpack.pack(unpack(t))")
    # Decoding every type byte.
    for b in [0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8,
              0x7f, 0xe0, 0xff, 0xa0, 0x90, 0x80]:
        case("return cmsgpack.unpack(%s)" % lua_str(bytes([b])))
    for raw in [b"\xcc\xff", b"\xcd\xff\xff", b"\xce\xff\xff\xff\xff", b"\xcf\xff\xff\xff\xff\xff\xff\xff\xff",
                b"\xcf\x80\x00\x00\x00\x00\x00\x00\x00", b"\xcf\x7f\xff\xff\xff\xff\xff\xff\xff",
                b"\xcf\x00\x20\x00\x00\x00\x00\x00\x01", b"\xd0\x80", b"\xd0\x7f", b"\xd1\x80\x00", b"\xd1\xff\x01",
                b"\xd2\x80\x00\x00\x00", b"\xd2\xff\xff\xff\xfe", b"\xd3\x80\x00\x00\x00\x00\x00\x00\x00",
                b"\xd3\xff\xff\xff\xff\xff\xff\xff\xff", b"\xd3\x00\x20\x00\x00\x00\x00\x00\x01",
                b"\xca\x7f\xc0\x00\x00", b"\xca\xff\x80\x00\x00", b"\xca\x00\x00\x00\x01", b"\xcb\x7f\xf8\x00\x00\x00\x00\x00\x01",
                b"\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00", b"\xd9\x03abc", b"\xda\x00\x03abc", b"\xdb\x00\x00\x00\x03abc",
                b"\xdc\x00\x02\x01\x02", b"\xdd\x00\x00\x00\x02\x01\x02", b"\xde\x00\x01\xa1a\x01",
                b"\xdf\x00\x00\x00\x01\xa1a\x01", b"\x92\x01\x92\x02\x03", b"\x82\x01\x02\x03\x04",
                b"\x81\x91\x01\x02", b"\x81\xc0\x01", b"\x81\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00\x01",
                b"\x81\x01\xc0", b"\x82\xa1a\x01\xa1a\x02", b"\x01\x02\x03", b"\x93\x01\xc0\x03"]:
        case("return cmsgpack.unpack(%s)" % lua_str(raw))
    # Truncated input: every strict prefix of each encoding.
    for raw in [b"\xcc\x01", b"\xcd\x01\x02", b"\xce\x01\x02\x03\x04", b"\xcf\x01\x02\x03\x04\x05\x06\x07\x08",
                b"\xd0\x01", b"\xd1\x01\x02", b"\xd2\x01\x02\x03\x04", b"\xd3\x01\x02\x03\x04\x05\x06\x07\x08",
                b"\xca\x01\x02\x03\x04", b"\xcb\x01\x02\x03\x04\x05\x06\x07\x08", b"\xa3abc", b"\xd9\x03abc",
                b"\xda\x00\x03abc", b"\xdb\x00\x00\x00\x03abc", b"\x92\x01\x02", b"\xdc\x00\x02\x01\x02",
                b"\xdd\x00\x00\x00\x02\x01\x02", b"\x81\x01\x02", b"\xde\x00\x01\x01\x02",
                b"\xdf\x00\x00\x00\x01\x01\x02"]:
        case("local s = %s local r = {} for i = 1, #s - 1 do local ok, e = pcall(cmsgpack.unpack, s:sub(1, i)) "
             "r[#r + 1] = tostring(ok) .. ':' .. tostring(e) end return table.concat(r, ';')" % lua_str(raw))
    case("return cmsgpack.unpack('\\221\\255\\255\\255\\255')")
    case("return cmsgpack.unpack('\\223\\255\\255\\255\\255\\1')")
    case("return cmsgpack.unpack('\\219\\255\\255\\255\\255abc')")
    case("return cmsgpack.unpack('')")
    case("return select('#', cmsgpack.unpack(''))")
    case("return cmsgpack.unpack(123)")
    case("return cmsgpack.unpack(nil)")
    case("return cmsgpack.unpack()")
    case("return cmsgpack.unpack({})")
    case("return cmsgpack.unpack('\\1\\2', 'extra')")
    # Streams, unpack_one, unpack_limit.
    case("local s = cmsgpack.pack(1, 2, 3) local r = {} local off = 0 "
         "while off >= 0 do local o, v = cmsgpack.unpack_one(s, off) r[#r + 1] = o .. '=' .. tostring(v) off = o end "
         "return table.concat(r, ',')")
    for args in ["0", "1", "2", "3", "4", "-1", "-5", "2^32 + 1", "'1'", "'x'", "1.7", "nil"]:
        case("local s = cmsgpack.pack(1, 'b', {3}) return cmsgpack.unpack_one(s, %s)" % args)
    case("return cmsgpack.unpack_one(cmsgpack.pack(1, 2))")
    case("return cmsgpack.unpack_one('')")
    case("return cmsgpack.unpack_one()")
    for args in ["0", "1", "2", "3", "10", "-1", "0, 0", "0, 1", "0, 3", "1, 3", "2, 1", "1, -1", "1, 100",
                 "2^32", "'2'", "nil", "", "'x'", "1, 'x'"]:
        case("local s = cmsgpack.pack(1, 'b', 3) return cmsgpack.unpack_limit(s%s)" % ((", " + args) if args else ""))
    # Deep and wide decoding.
    for n in [1000, 3998, 3999, 4000, 5000]:
        case("local ok, v = pcall(cmsgpack.unpack, string.rep('\\145', %d) .. '\\1') "
             "if not ok then return v end local d = 0 while type(v) == 'table' do v = v[1] d = d + 1 end return d, v" % n)
    for n in [3000, 7997, 7998, 7999, 8000]:
        case("local ok, v = pcall(cmsgpack.unpack, string.rep('\\129', %d) .. '\\1\\1') "
             "if not ok then return v end return type(v)" % n)
        case("local ok, v = pcall(cmsgpack.unpack, string.rep('\\129\\1', %d) .. '\\1') "
             "if not ok then return v end return type(v)" % n)
    for n in [7990, 7998, 7999, 8000, 9000]:
        case("local r = {pcall(cmsgpack.unpack, string.rep('\\1', %d))} return #r, r[2], r[#r]" % n)
    case("local ok, e = pcall(cmsgpack.unpack, string.rep('\\1', 9000)) return ok, e")
    case("return select('#', cmsgpack.unpack_limit(string.rep('\\1', 9000), 5))")
    # Tables past the nesting limit become nil, also as map keys (which then cannot unpack).
    case("local k = 1 for i = 1, 16 do k = {k} end local s = cmsgpack.pack({[k] = 'v'}) return hex(s), "
         "try(cmsgpack.unpack, s)")
    case("local k = 1 for i = 1, 14 do k = {k} end local s = cmsgpack.pack({[k] = 'v'}) return hex(s), "
         "try(cmsgpack.unpack, s)")
    for v in ["{1,2,3,[5]=5}", "{[1.0]=1,[2]=2}", "{[-0]=1}", "{n=0/0}", "setmetatable({}, {__index=function() return 1 end})",
              "setmetatable({1,2}, {__len=function() return 5 end})"]:
        case(packed(v))
    for args in ["1.5", "2.9, 1.9", "1, 2^53"]:
        case("return cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), %s)" % args)
    # Round trips.
    case("local t = {a={1,2,{b='c'}},d=1.5,e=-7,f=true,g='x'} local u = cmsgpack.unpack(cmsgpack.pack(t)) "
         "return u, cjson.encode(u.a)")


def cases_struct():
    case("local names = {} for k in pairs(struct) do names[#names + 1] = k end return table.concat(names, ',')")
    for fmt, args in [("b", "-1"), ("b", "200"), ("B", "-1"), ("B", "255"), ("B", "256"), ("h", "-2"), ("H", "70000"),
                      ("l", "-1"), ("L", "2^63"), ("L", "2^64"), ("L", "2^64+4096"), ("L", "math.huge"), ("L", "0/0"),
                      ("l", "-2^63"), ("l", "-2^64"), ("l", "-math.huge"), ("T", "2^40"), ("i", "-3"), ("I", "-3"),
                      ("i1", "-1"), ("i2", "258"), ("i3", "0x010203"), ("i5", "-2"), ("i7", "2^50"), ("i8", "-2^62"),
                      ("i9", "-1"), ("I9", "-1"), ("i12", "-5"), ("i16", "2^60"), ("i32", "-1"), ("I0", "5"), ("i0", "5"),
                      ("f", "1.5"), ("f", "0.1"), ("f", "1e39"), ("f", "-1e39"), ("f", "0/0"), ("d", "0.1"), ("d", "-0"),
                      ("d", "math.huge"), ("c", "'xyz'"), ("c3", "'xyz'"), ("c5", "'xyz'"), ("c0", "'xyz'"), ("c0", "''"),
                      ("s", "'ab'"), ("s", "'a\\0b'"), ("s", "''"), ("x", ""), ("xxb", "1"), (" b ", "1"),
                      ("b", "1.9"), ("b", "-1.9"), ("h", "'12'"), ("h", "'x'"), ("h", ""), ("c", "12"), ("s", "nil"),
                      ("!4 b i", "1, 2"), ("!8 b d", "1, 2"), ("! b d", "1, 2"), ("!2 b i h", "1, 2, 3"),
                      ("!4 b i3 b i", "1, 2, 3, 4"), ("!16 b d", "1, 2"), ("!1 b d", "1, 2"), ("!4 c2 i", "'ab', 1"),
                      ("!4 b s i", "1, 'abc', 2"), ("!4 b f", "1, 2"), ("!4 b x i", "1, 2"), ("!3", ""), ("!0", ""),
                      ("!2147483648", ""), ("!1073741824 b", "1"), ("z", ""), ("5", ""), ("b z", "1"),
                      ("i33", "1"), ("i99999999999", "1"), ("c99999999999", "'x'"), ("\x80", ""), ("<i>i", "1, 1"),
                      (">h<h", "1, 1"), (">f", "1.5"), ("<d", "1.5"), (">d", "-0.1"), ("<i16", "-1"), (">i16", "-1"),
                      (">I9", "2^63"), ("<!4 h d", "1, 2"), (">i", "2147483648"), (">I", "-2147483649"),
                      ("b", "2^200"), ("bbbbbbbbbbbbbbbbbbbb", ",".join(str(i) for i in range(20)))]:
        case("return hex(struct.pack(%s%s))" % (lua_str(fmt.encode("latin-1")), (", " + args) if args else ""))
    case("return struct.pack()")
    case("return struct.pack(1)")
    case("return struct.pack({})")
    case("return hex(struct.pack('b\\0b', 1, 2))")
    case("return hex(struct.pack('T', -1)), hex(struct.pack('>T', 2^53 + 2)), hex(struct.pack('<I3', 2^24 + 5))")
    case("return hex(struct.pack('<!2 i3 b i3', 1, 2, 3)), struct.size('<!2 i3 b i3'), struct.unpack('<!2 i3 b i3', struct.pack('<!2 i3 b i3', -1, 2, -3))")
    case("return struct.pack('c' .. 300, string.rep('x', 300)) == string.rep('x', 300)")
    # unpack
    for fmt, data in [("b", b"\xff"), ("B", b"\xff"), ("h", b"\xfe\xff"), ("H", b"\xfe\xff"), (">h", b"\xfe\xff"),
                      ("l", b"\xff" * 8), ("L", b"\xff" * 8), ("L", b"\x00" * 7 + b"\x80"), ("T", b"\x01" * 8),
                      ("i", b"\x01\x02\x03\x84"), ("I", b"\x01\x02\x03\x84"), ("i3", b"\x01\x02\xff"),
                      (">i3", b"\xff\x02\x01"), ("i9", b"\xff" * 9), ("I9", b"\xff" * 9), (">i9", b"\x01" + b"\xff" * 8),
                      ("<i12", b"\x00\x00\x00\x80" + b"\x00" * 8), ("<i12", b"\x00\x00\x00\x40" + b"\x00" * 8),
                      ("<I12", b"\x00\x00\x00\x80" + b"\x00" * 8), (">i12", b"\x00" * 8 + b"\x80\x00\x00\x00"),
                      ("<i16", b"\x05" + b"\x00" * 15), ("<i16", b"\xff" * 8 + b"\x00" * 8),
                      ("<i16", b"\x00" * 7 + b"\x80" + b"\x00" * 8), ("<i32", b"\xff" * 32), ("<i10", b"\x00" * 9 + b"\x01"),
                      ("i0", b""), ("I0", b"abc"), ("f", b"\x00\x00\xc0\x3f"), (">f", b"\x3f\xc0\x00\x00"),
                      ("f", b"\x00\x00\xc0\x7f"), ("d", b"\x9a\x99\x99\x99\x99\x99\xb9\x3f"),
                      (">d", b"\x3f\xb9\x99\x99\x99\x99\x99\x9a"), ("c", b"abc"), ("c2", b"abc"), ("c3", b"abc"),
                      ("c4", b"abc"), ("c0", b"abc"), ("bc0", b"\x02abc"), ("bc0", b"\x05abc"), ("bc0", b"\xffabc"),
                      ("hc0", b"\x00\x00abc"), ("fc0", b"\x00\x00\x00\x40abc"), ("fc0", b"\x00\x00\x00\xbfabc"),
                      ("fc0", b"\x00\x00\xc0\x7fabc"), ("c1c0", b"2abc"), ("c1c0", b"xabc"), ("s", b"ab\x00cd"),
                      ("ss", b"ab\x00cd\x00"), ("s", b"abc"), ("s", b"\x00"), ("x", b"a"), ("xb", b"a\x05"),
                      ("!4 b i", b"\x01\x00\x00\x00\x02\x00\x00\x00"), ("!4 b i", b"\x01\x00\x00\x00\x02\x00\x00"),
                      ("! b d", b"\x01" + b"\x00" * 7 + b"\x00" * 6 + b"\xf0\x3f"), ("!2 b h", b"\x01\x00\x02\x00"),
                      ("b z", b"\x01"), ("z", b""), ("!3", b""), ("i33", b""), ("", b"abc"), ("  ", b""),
                      ("<>", b""), ("bbb", b"\x01\x02"), ("c99999999999", b"x"), ("d", b"\x00" * 7)]:
        case("return struct.unpack(%s, %s)" % (lua_str(fmt.encode("latin-1")), lua_str(data)))
    for pos in ["1", "2", "3", "4", "5", "0", "-1", "-100", "2^40", "'2'", "'x'", "1.9", "nil"]:
        case("return struct.unpack('b', '\\1\\2\\3', %s)" % pos)
        case("return struct.unpack('', 'abc', %s)" % pos)
        case("return struct.unpack('<', 'abc', %s)" % pos)
    case("return struct.unpack('!4 i', '\\0\\0\\0\\0\\1\\0\\0\\0', 2)")
    case("return struct.unpack('!4 b i', 'x\\1\\0\\0\\0\\2\\0\\0\\0', 2)")
    case("return struct.unpack()")
    case("return struct.unpack('b')")
    case("return struct.unpack('b', {})")
    case("return struct.unpack('b', 7)")
    case("return struct.unpack(12, '\\1\\2')")
    case("return select('#', struct.unpack(string.rep('b', 7997), string.rep('\\1', 7997)))")
    case("return struct.unpack(string.rep('b', 7998), string.rep('\\1', 7998))")
    case("return struct.unpack(string.rep('x', 9000), string.rep('\\1', 9000))")
    # size
    for fmt in ["", "b", "B", "h", "H", "l", "L", "T", "i", "I", "i7", "f", "d", "x", "c", "c10", "c0", "s",
                "bhi", "!bhi", "!4 bhi", "!2 b d", "!8 b d", "! b d", "!16 b i16", "!4 b i3 b", "z", "Z9",
                "#", "\x80", "b#", "!3", "i33", "5", "<>!4", " ", "bs", "c0b", "!4 c3 i", "x!8d"]:
        case("return struct.size(%s)" % lua_str(fmt.encode("latin-1")))
    case("return struct.size()")
    case("return struct.size(5)")
    # Round trips.
    case("local fmt = '<!4 b B h H l L T i I i3 I5 f d c3 s x' "
         "local s = struct.pack(fmt, -1, 255, -300, 60000, -2^40, 2^40, 7, -7, 7, -70000, 2^33, 0.5, 0.1, 'abc', 'zero') "
         "return #s, struct.size('<!4 b B h H l L T i I i3 I5 f d c3'), struct.unpack(fmt, s)")
    case("local fmt = '>!8 b d h s i' local s = struct.pack(fmt, 1, 2.5, 3, 'str', 4) return hex(s), struct.unpack(fmt, s)")


def collect():
    cases_cjson()
    cases_bit()
    cases_cmsgpack()
    cases_struct()
    return CASES


def c_string(b):
    """A C string literal (split into 16 KiB-ish pieces for old compilers) for bytes b."""
    out = ['"']
    for c in b:
        if c == 34:
            out.append('\\"')
        elif c == 92:
            out.append("\\\\")
        elif c == 10:
            out.append('\\n"\n    "')
        elif 32 <= c < 127 and c != 63:  # '?' would risk trigraphs
            out.append(chr(c))
        else:
            out.append("\\%03o" % c)
    out.append('"')
    return "".join(out)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, help="a running Redis 7.0 (default: start redis-server)")
    parser.add_argument("--redis-server", default="/usr/bin/redis-server")
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args()

    proc = None
    port = args.port
    workdir = None
    if port is None:
        port = free_port()
        workdir = tempfile.mkdtemp(prefix="lualibs-redis-")
        proc = subprocess.Popen([args.redis_server, "--port", str(port), "--bind", "127.0.0.1",
                                 "--save", "", "--appendonly", "no", "--dir", workdir],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        r = redis.Redis(host="127.0.0.1", port=port)
        for _ in range(100):
            try:
                r.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        version = r.info("server")["redis_version"]
        if not version.startswith("7.0."):
            sys.exit("gen_lualibs_redis_cases: Redis %s answered; the cases are Redis 7.0's" % version)
        cases = collect()
        results = []
        for body in cases:
            results.append(r.eval(script(body), 0))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait()
            shutil.rmtree(workdir, ignore_errors=True)
    with open(args.out, "w") as f:
        f.write("/* lualibs_test_redis_cases.h: GENERATED by tests/unit/scripting/gen_lualibs_redis_cases.py\n")
        f.write(" * from redis-server %s (EVAL of each case). Do not edit: add cases to the\n" % version)
        f.write(" * script and rerun it. lualibs_test.cc runs kLualibsPrelude + each body in a\n")
        f.write(" * fresh lua_State and compares its answer with Redis's, byte for byte. */\n")
        f.write("#ifndef REDOUBT_TESTS_UNIT_SCRIPTING_LUALIBS_TEST_REDIS_CASES_H\n")
        f.write("#define REDOUBT_TESTS_UNIT_SCRIPTING_LUALIBS_TEST_REDIS_CASES_H\n\n")
        f.write("static const char kLualibsPrelude[] =\n    %s;\n\n" % c_string((PRELUDE + "\n" + SCRIPT_OPEN).encode()))
        f.write("static const char kLualibsClose[] =\n    %s;\n\n" % c_string(SCRIPT_CLOSE.encode()))
        f.write("struct lualibs_redis_case {\n  const char *body;\n  const char *redis_answer;\n};\n\n")
        f.write("static const struct lualibs_redis_case kLualibsRedisCases[] = {\n")
        for body, answer in zip(cases, results):
            f.write("    {%s,\n     %s},\n" % (c_string(body.encode("latin-1")), c_string(answer)))
        f.write("};\n\n#endif\n")
    print("%d cases from redis-server %s -> %s" % (len(cases), version, args.out))


if __name__ == "__main__":
    sys.exit(main())
