"""Redis 7.0 functions (FUNCTION LOAD/LIST/DELETE/FLUSH/DUMP/RESTORE/STATS/KILL, FCALL, FCALL_RO)
compared byte for byte with Debian's redis-server 7.0.15.

Same engine as test_scripting.py (one Redoubt and one Redis per module, a fresh connection and
FLUSHALL + SCRIPT FLUSH + FUNCTION FLUSH before every case). Two things are not byte-compared:
  - FUNCTION LIST with several libraries or several functions in one library: Redis keeps them in
    dicts with a per-process random hash seed, so their order differs between two Redis processes;
    those replies are compared after sorting libraries and functions by name (canon_list);
  - FUNCTION DUMP of several libraries (same dict order); RESTORE is checked through FUNCTION LIST.
RESTORE cases use payloads produced by Redis (pair.cache), so Redoubt must read Redis's format;
test_restore_cross_server also restores each server's DUMP into the other.

Validate against Redis alone:
  REDOUBT_TEST_MODE=plain REDOUBT_SERVER=/usr/bin/redis-server \
      /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_scripting_functions.py
"""

from __future__ import annotations

from typing import Any

import pytest

import harness
from test_scripting import Canon, cases, make_pair_fixture, run_case

pytestmark = pytest.mark.plain_only("byte-for-byte comparison with Redis; the transport does not matter")

pair = make_pair_fixture("functions")


def LIB(name: str, *body: str) -> str:
    return f"#!lua name={name}\n" + "\n".join(body)


def REG(fname: str, body: str = "return 1", flags: str = "") -> str:
    if flags:
        return (f"redis.register_function{{function_name='{fname}', callback=function(keys, args) {body} end, "
                f"flags={{{flags}}}}}")
    return f"redis.register_function('{fname}', function(keys, args) {body} end)"


def LOAD(name: str, *body: str, replace: bool = False) -> list:
    return ["FUNCTION", "LOAD", *(["REPLACE"] if replace else []), LIB(name, *body)]


def FC(fname: str, *rest: Any) -> list:
    return ["FCALL", fname, *[str(x) for x in rest]] if rest else ["FCALL", fname, "0"]


def FCRO(fname: str, *rest: Any) -> list:
    return ["FCALL_RO", fname, *[str(x) for x in rest]] if rest else ["FCALL_RO", fname, "0"]


def _kv(x: Any) -> dict:
    return x if isinstance(x, dict) else dict(zip(x[::2], x[1::2]))


def _tag(v: Any) -> Any:
    """Values with their RESP type kept (a status flag and a bulk flag are different)."""
    if isinstance(v, harness.SimpleString):
        return ("+", bytes(v))
    if isinstance(v, dict):
        return ("map", [(_tag(k), _tag(x)) for k, x in v.items()])
    if isinstance(v, list):
        return ("array", [_tag(x) for x in v])
    return v


def canon_list(v: Any) -> Any:
    """FUNCTION LIST with libraries sorted by name and each library's functions sorted by name."""
    libs = []
    for lib in v:
        d = _kv(lib)
        out = []
        for k, x in d.items():
            if k == b"functions":
                x = sorted(([(fk, _tag(fv)) for fk, fv in _kv(f).items()] for f in x),
                           key=lambda f: dict(f)[b"name"])
            out.append((k, _tag(x)))
        libs.append((type(lib).__name__, out))
    return sorted(libs, key=lambda lib: dict(lib[1])[b"library_name"])


def LIST(*args: str) -> Canon:
    return Canon(["FUNCTION", "LIST", *args], canon_list, "libraries and functions sorted by name")


# ---------------------------------------------------------------------------- payloads from Redis
PAYLOAD_LIBS = {
    "a": [LOAD("liba", REG("fa", "return 'a'"))],
    "a2": [LOAD("liba", REG("fa2", "return 'a2'"))],
    "b": [LOAD("libb", REG("fb", "return 'b'", "'no-writes'"))],
    "ab": [LOAD("liba", REG("fa", "return 'a'")), LOAD("libb", REG("fb", "return 'b'", "'no-writes'"))],
    "clash": [LOAD("libz", REG("fa", "return 'z'"))],
}


def payload(name: str, corrupt: str = ""):
    """A FUNCTION DUMP payload made by Redis (computed once per module) for use as an argument."""
    def get(pair) -> bytes:
        key = ("payload", name)
        if key not in pair.cache:
            with pair.theirs.raw() as c:
                c.call("FUNCTION", "FLUSH")
                for cmd in PAYLOAD_LIBS[name]:
                    assert isinstance(c.call(*cmd), bytes), cmd
                pair.cache[key] = c.call("FUNCTION", "DUMP")
                c.call("FUNCTION", "FLUSH")
        p = pair.cache[key]
        if corrupt == "checksum":
            return p[:-1] + bytes([p[-1] ^ 0xFF])
        if corrupt == "version":
            return p[:-10] + bytes([p[-10] + 1]) + p[-9:]
        if corrupt == "truncated":
            return p[: len(p) // 2]
        return p
    return get


# ---------------------------------------------------------------------------- the corpus
LOADS = [
    ("basic", LOAD("mylib", REG("f1", "return {keys, args}")), ["FUNCTION", "LIST"], FC("f1", 2, "a", "b", "c")),
    ("returns-name", LOAD("Lib_09", REG("f_9"))), ("exists", LOAD("l", REG("f")), LOAD("l", REG("g"))),
    ("replace", LOAD("l", REG("f")), LOAD("l", REG("g", "return 2"), replace=True), FC("f"), FC("g"),
     ["FUNCTION", "LIST"]),
    ("replace-new", LOAD("l", REG("f"), replace=True)), ("replace-lower", ["FUNCTION", "LOAD", "replace", LIB("l", REG("f"))]),
    ("replace-clash-keeps-old", LOAD("l1", REG("f")), LOAD("l2", REG("g")), LOAD("l2", REG("f"), replace=True),
     FC("g"), LIST()),
    ("no-args", ["FUNCTION", "LOAD"]), ("replace-only", ["FUNCTION", "LOAD", "REPLACE"]),
    ("unknown-option", ["FUNCTION", "LOAD", "FOO", LIB("a", REG("a"))]),
    ("two-codes", ["FUNCTION", "LOAD", LIB("a", REG("a")), LIB("b", REG("b"))]),
    ("no-shebang", ["FUNCTION", "LOAD", REG("f")]), ("no-name", ["FUNCTION", "LOAD", "#!lua\n" + REG("f")]),
    ("empty-name", ["FUNCTION", "LOAD", "#!lua name=\n" + REG("f")]), ("bad-name", LOAD("bad-name", REG("f"))),
    ("long-name", LOAD("n" * 300, REG("f"))), ("unknown-engine", ["FUNCTION", "LOAD", "#!js name=x\n" + REG("f")]),
    ("unknown-meta", ["FUNCTION", "LOAD", "#!lua name=x foo=bar\n" + REG("f")]),
    ("flags-meta", ["FUNCTION", "LOAD", "#!lua name=x flags=no-writes\n" + REG("f")]),
    ("name-twice", ["FUNCTION", "LOAD", "#!lua name=x name=y\n" + REG("f")]),
    ("no-newline", ["FUNCTION", "LOAD", "#!lua name=x"]), ("no-functions", LOAD("x", "local a = 1")),
    ("empty-body", LOAD("x")), ("dup-function", LOAD("x", REG("a"), REG("a"))),
    ("function-clash", LOAD("x", REG("a")), LOAD("y", REG("a"))), ("bad-function-name", LOAD("x", REG("a-b"))),
    ("empty-function-name", LOAD("x", REG(""))), ("many-functions", LOAD("x", REG("a"), REG("b"), REG("c")),
                                                  FC("a"), FC("b"), FC("c"), LIST()),
    ("compile-error", LOAD("x", "return {")), ("runtime-error", LOAD("x", "error('at load')")),
    ("runtime-error-index", LOAD("x", "local t = nil", "t.x = 1", REG("a"))),
    ("runtime-error-table", LOAD("x", "error({err = 'TABLE at load'})")),
    ("register-no-args", LOAD("x", "redis.register_function()")),
    ("register-one-arg", LOAD("x", "redis.register_function('a')")),
    ("register-not-function", LOAD("x", "redis.register_function('a', 1)")),
    ("register-three-args", LOAD("x", "redis.register_function('a', function() end, 3)")),
    ("register-number-name", LOAD("x", "redis.register_function(5, function() return 5 end)"), FC("5")),
    ("register-table", LOAD("x", "redis.register_function{function_name='t', callback=function() return 't' end, "
                                 "description='a function', flags={'no-writes'}}"), FC("t"), ["FUNCTION", "LIST"]),
    ("register-table-no-callback", LOAD("x", "redis.register_function{function_name='a'}")),
    ("register-table-no-name", LOAD("x", "redis.register_function{callback=function() end}")),
    ("register-table-unknown-key", LOAD("x", "redis.register_function{function_name='a', callback=function() end, bogus=1}")),
    ("register-flags-string", LOAD("x", "redis.register_function{function_name='a', callback=function() end, "
                                        "flags='no-writes'}")),
    ("register-flags-number", LOAD("x", "redis.register_function{function_name='a', callback=function() end, flags={1}}")),
    ("register-flag-unknown", LOAD("x", REG("a", flags="'bad'"))),
    ("register-description-number", LOAD("x", "redis.register_function{function_name='a', callback=function() end, "
                                              "description=5}"), ["FUNCTION", "LIST"]),
    ("register-description-table", LOAD("x", "redis.register_function{function_name='a', callback=function() end, "
                                             "description={}}")),
    ("register-callback-not-function", LOAD("x", "redis.register_function{function_name='a', callback=1}")),
    ("load-redis-call", LOAD("x", "redis.call('ping')", REG("a"))), ("load-redis-pcall", LOAD("x", "redis.pcall('ping')", REG("a"))),
    ("load-setresp", LOAD("x", "redis.setresp(3)", REG("a"))), ("load-math", LOAD("x", "local r = math.random()", REG("a"))),
    ("load-pairs", LOAD("x", "for k in pairs({}) do end", REG("a"))), ("load-string-lib", LOAD("x", "local s = string.rep('a', 2)", REG("a"))),
    ("load-keys", LOAD("x", "local k = KEYS", REG("a"))), ("load-global-write", LOAD("x", "g = 1", REG("a"))),
    ("load-redis-log", LOAD("x", "redis.log(redis.LOG_NOTICE, 'loading library x')", REG("a"))),
    ("load-sha1hex", LOAD("x", "local h = redis.sha1hex('a')", REG("a"))),
    ("load-error-reply", LOAD("x", "local e = redis.error_reply('x')", REG("a"))),
    ("load-version", LOAD("x", "local v = redis.REDIS_VERSION", REG("a", "return v"))),
    ("load-globals", LOAD("x", "local t = {} for k in next, _G do end", REG("a"))),
    ("load-local-upvalue", LOAD("x", "local counter = 0", REG("a", "counter = counter + 1 return counter")),
     FC("a"), FC("a"), FC("a")),
    ("load-cjson", LOAD("x", "local j = cjson.encode({1})", REG("a", "return j"))),
    ("load-in-multi", ["MULTI"], LOAD("m", REG("mf", "return 'm'")), FC("mf"), ["FUNCTION", "LIST"], ["EXEC"]),
    ("delete-in-multi", LOAD("m", REG("mf")), ["MULTI"], ["FUNCTION", "DELETE", "m"], FC("mf"), ["EXEC"]),
]

CALLS = [
    ("keys-args", LOAD("l", REG("f", "return {keys, args, #keys, #args}")), FC("f", 2, "k1", "k2", "a1", "a2", "a3"),
     FC("f", 0, "a"), FC("f")),
    ("no-numkeys", LOAD("l", REG("f")), ["FCALL", "f"]), ("no-args", ["FCALL"]), ("bad-numkeys", LOAD("l", REG("f")), FC("f", "x")),
    ("negative-numkeys", LOAD("l", REG("f")), FC("f", -1)), ("numkeys-too-big", LOAD("l", REG("f")), FC("f", 3, "a")),
    ("numkeys-float", LOAD("l", REG("f")), FC("f", "1.0", "a")), ("unknown-function", FC("nosuch")),
    ("case-insensitive", LOAD("l", REG("MixedCase", "return 'mc'")), FC("mixedcase"), FC("MIXEDCASE")),
    ("library-name-is-not-function", LOAD("l", REG("f")), FC("l")),
    ("error", LOAD("l", REG("f", "error('boom')")), FC("f")), ("error-line", LOAD("l", "local a = 1", REG("f", "\nerror('l4')")), FC("f")),
    ("error-table", LOAD("l", REG("f", "error({err = 'CUSTOM from function'})")), FC("f")),
    ("error-reply", LOAD("l", REG("f", "return redis.error_reply('MY err')")), FC("f")),
    ("status-reply", LOAD("l", REG("f", "return redis.status_reply('FINE')")), FC("f")),
    ("call-unknown", LOAD("l", REG("f", "return redis.call('nosuch')")), FC("f")),
    ("pcall-unknown", LOAD("l", REG("f", "return redis.pcall('nosuch')")), FC("f")),
    ("call-wrongtype", ["SET", "s", "x"], LOAD("l", REG("f", "return redis.call('lpush', keys[1], 'x')")), FC("f", 1, "s")),
    ("call-arity", LOAD("l", REG("f", "return redis.call('get')")), FC("f")),
    ("global-read", LOAD("l", REG("f", "return gg")), FC("f")), ("global-write", LOAD("l", REG("f", "gg = 1")), FC("f")),
    ("register-at-runtime", LOAD("l", REG("f", "redis.register_function('z', function() end)")), FC("f")),
    ("keys-global", LOAD("l", REG("f", "return KEYS")), FC("f", 1, "k")),
    ("runtime-globals", LOAD("l", REG("f", "local t = {} for k in pairs(_G) do t[#t + 1] = k end table.sort(t) return t")), FC("f")),
    ("runtime-redis-api", LOAD("l", REG("f", "local t = {} for k in pairs(redis) do t[#t + 1] = k end table.sort(t) return t")),
     FC("f")),
    ("setresp3", LOAD("l", REG("f", "redis.setresp(3) return {redis.call('hgetall', keys[1]), true, false}")),
     ["HSET", "h", "a", "1"], FC("f", 1, "h")),
    ("conversions", LOAD("l", REG("f", "return {1, 2.7, 'x', true, false, nil, 'after'}")), FC("f")),
    ("double-map-set", LOAD("l", REG("f", "return {{double = 1.5}, {map = {k = 'v'}}, {set = {m = true}}, "
                                          "{big_number = '12345678901234567890'}}")), FC("f")),
    ("writes", LOAD("l", REG("f", "return redis.call('incr', keys[1])")), FC("f", 1, "n"), FC("f", 1, "n"), ["GET", "n"]),
    ("math-random-seeded", LOAD("l", REG("f", "math.randomseed(tonumber(args[1])) return tostring(math.random())")),
     FC("f", 0, "99")),
    ("sha1hex", LOAD("l", REG("f", "return redis.sha1hex(args[1])")), FC("f", 0, "abc")),
    ("cjson", LOAD("l", REG("f", "return cjson.encode(cjson.decode(args[1]))")), FC("f", 0, '{"a":[1,2]}')),
    ("cmsgpack", LOAD("l", REG("f", "return cmsgpack.unpack(cmsgpack.pack(args[1]))")), FC("f", 0, "packed")),
    ("two-libraries", LOAD("l1", REG("f1", "return 'one'")), LOAD("l2", REG("f2", "return 'two'")), FC("f1"), FC("f2")),
    ("fcall-in-multi", LOAD("l", REG("f", "return redis.call('incr', 'c')")), ["MULTI"], FC("f"), FC("f"), FC("nosuch"),
     ["EXEC"]),
    ("fcall-ro-in-multi", LOAD("l", REG("f", "return 1")), ["MULTI"], FCRO("f"), ["EXEC"]),
    ("eval-cannot-fcall", LOAD("l", REG("f")), ["EVAL", "return redis.pcall('fcall', 'f', 0)", "0"]),
    ("function-cannot-eval", LOAD("l", REG("f", "return redis.pcall('eval', 'return 1', 0)")), FC("f")),
    ("function-cannot-function", LOAD("l", REG("f", "return redis.pcall('function', 'list')")), FC("f")),
    ("function-cannot-client", LOAD("l", REG("f", "return redis.pcall('client', 'id')")), FC("f")),
    ("function-blmpop", LOAD("l", REG("f", "return redis.call('blmpop', 0, 1, keys[1], 'left')")), FC("f", 1, "empty")),
    ("function-blpop", LOAD("l", REG("f", "return redis.pcall('blpop', keys[1], 0)")), FC("f", 1, "empty")),
]

FLAGS = [
    ("no-writes-read", ["SET", "k", "v"], LOAD("l", REG("f", "return redis.call('get', keys[1])", "'no-writes'")),
     FC("f", 1, "k"), FCRO("f", 1, "k")),
    ("no-writes-write", LOAD("l", REG("f", "return redis.call('set', keys[1], 'v')", "'no-writes'")), FC("f", 1, "k"),
     FCRO("f", 1, "k"), ["GET", "k"]),
    ("no-writes-pcall", LOAD("l", REG("f", "return redis.pcall('set', keys[1], 'v')", "'no-writes'")), FC("f", 1, "k")),
    ("ro-refuses-write-flag", LOAD("l", REG("f", "return 1")), FCRO("f")),
    ("ro-refuses-write-function", LOAD("l", REG("f", "return redis.call('set', 'k', 'v')")), FCRO("f")),
    ("ro-no-args", ["FCALL_RO"]), ("ro-unknown", FCRO("nosuch")), ("ro-bad-numkeys", LOAD("l", REG("f", "", "'no-writes'")), FCRO("f", "x")),
    ("all-flags", LOAD("l", REG("f", "return 1", "'no-writes', 'allow-oom', 'allow-stale', 'no-cluster', "
                                               "'allow-cross-slot-keys'")), ["FUNCTION", "LIST"], FCRO("f")),
    ("flags-order", LOAD("l", REG("f", "return 1", "'allow-cross-slot-keys', 'no-cluster', 'allow-stale', "
                                                  "'allow-oom', 'no-writes'")), ["FUNCTION", "LIST"]),
    ("duplicate-flag", LOAD("l", REG("f", "return 1", "'no-writes', 'no-writes'")), ["FUNCTION", "LIST"]),
    ("empty-flags", LOAD("l", REG("f", "return 1", "'no-writes'").replace("flags={'no-writes'}", "flags={}")),
     ["FUNCTION", "LIST"]),
    ("no-cluster", LOAD("l", REG("f", "return redis.call('set', 'k', 'v')", "'no-cluster'")), FC("f")),
    ("allow-stale", LOAD("l", REG("f", "return redis.call('set', 'k', 'v')", "'allow-stale'")), FC("f")),
    ("cross-slot", LOAD("l", REG("f", "return redis.call('mset', keys[1], 'a', keys[2], 'b')", "'allow-cross-slot-keys'")),
     FC("f", 2, "a", "b")),
    ("oom", LOAD("l", REG("plain", "return redis.call('set', 'k', 'v')"),
                 REG("ro", "return redis.call('get', 'k')", "'no-writes'"),
                 REG("oomok", "return redis.call('set', 'k', 'oom-ok')", "'allow-oom'"),
                 REG("oomro", "return redis.pcall('set', 'k', 'x')", "'no-writes', 'allow-oom'"),
                 REG("reads", "return redis.call('get', 'k')")),
     ["CONFIG", "SET", "maxmemory", "1"], FC("plain"), FC("reads"), FC("ro"), FC("oomok"), FC("oomro"), FCRO("ro"),
     ["CONFIG", "SET", "maxmemory", "0"], FC("ro")),
    ("acl", LOAD("l", REG("w", "return redis.call('set', keys[1], 'v')"), REG("r", "return redis.call('get', keys[1])"),
                 REG("p", "return redis.pcall('set', keys[1], 'v')")),
     ["ACL", "SETUSER", "lim", "reset", "on", ">pw", "~allowed*", "+fcall", "+fcall_ro", "+get"], ["AUTH", "lim", "pw"],
     FC("w", 1, "allowed1"), FC("r", 1, "allowed1"), FC("r", 1, "other"), FC("p", 1, "allowed1"),
     ["FUNCTION", "LOAD", LIB("z", REG("z"))], ["FUNCTION", "LIST"]),
    ("acl-no-fcall", LOAD("l", REG("f")), ["ACL", "SETUSER", "noeval", "on", ">pw", "~*", "+get"],
     ["AUTH", "noeval", "pw"], FC("f"), FCRO("f")),
]

ADMIN = [
    ("list-empty", ["FUNCTION", "LIST"]), ("list-withcode", LOAD("mylib", REG("f1")), ["FUNCTION", "LIST", "WITHCODE"]),
    ("list-libraryname", LOAD("mylib", REG("f1")), LOAD("other", REG("f2")), ["FUNCTION", "LIST", "LIBRARYNAME", "my*"],
     ["FUNCTION", "LIST", "LIBRARYNAME", "mylib"], ["FUNCTION", "LIST", "LIBRARYNAME", "nomatch"],
     ["FUNCTION", "LIST", "libraryname", "oth?r", "withcode"], ["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "*lib"]),
    ("list-libraryname-substring", LOAD("mylib", REG("f1")), ["FUNCTION", "LIST", "LIBRARYNAME", "lib"]),
    ("list-libraryname-missing", ["FUNCTION", "LIST", "LIBRARYNAME"]), ("list-bad-arg", ["FUNCTION", "LIST", "BAD"]),
    ("list-withcode-twice", LOAD("mylib", REG("f1")), ["FUNCTION", "LIST", "WITHCODE", "WITHCODE"]),
    ("list-libraryname-twice", LOAD("mylib", REG("f1")), ["FUNCTION", "LIST", "LIBRARYNAME", "a", "LIBRARYNAME", "my*"]),
    ("list-many", LOAD("l1", REG("a"), REG("b", "return 1", "'no-writes'")), LOAD("l2", REG("c")), LOAD("l3", REG("d")),
     LIST(), LIST("WITHCODE"), LIST("LIBRARYNAME", "l[12]")),
    ("list-description", LOAD("l", "redis.register_function{function_name='f', callback=function() end, "
                                    "description='with description', flags={'no-writes', 'allow-oom'}}"),
     ["FUNCTION", "LIST"], ["FUNCTION", "LIST", "WITHCODE"]),
    ("delete", LOAD("l", REG("f")), ["FUNCTION", "DELETE", "l"], FC("f"), ["FUNCTION", "LIST"], ["FUNCTION", "DELETE", "l"]),
    ("delete-then-reload", LOAD("l", REG("f")), ["FUNCTION", "DELETE", "l"], LOAD("l", REG("f", "return 2")), FC("f")),
    ("delete-frees-name", LOAD("l1", REG("f")), ["FUNCTION", "DELETE", "l1"], LOAD("l2", REG("f", "return 'l2'")), FC("f")),
    ("delete-arity", ["FUNCTION", "DELETE"]), ("delete-two", ["FUNCTION", "DELETE", "a", "b"]),
    ("delete-case", LOAD("Lib", REG("f")), ["FUNCTION", "DELETE", "lib"]),
    ("flush", LOAD("l", REG("f")), ["FUNCTION", "FLUSH"], ["FUNCTION", "LIST"], FC("f")),
    ("flush-async", LOAD("l", REG("f")), ["FUNCTION", "FLUSH", "ASYNC"], ["FUNCTION", "LIST"]),
    ("flush-sync", LOAD("l", REG("f")), ["FUNCTION", "FLUSH", "sync"], ["FUNCTION", "STATS"]),
    ("flush-bad", ["FUNCTION", "FLUSH", "BAD"]), ("flush-two", ["FUNCTION", "FLUSH", "SYNC", "ASYNC"]),
    ("flush-keeps-scripts", ["SCRIPT", "LOAD", "return 1"], ["FUNCTION", "FLUSH"],
     ["SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"]),
    ("script-flush-keeps-functions", LOAD("l", REG("f")), ["SCRIPT", "FLUSH"], FC("f")),
    ("flushall-keeps-functions", LOAD("l", REG("f")), ["FLUSHALL"], FC("f")),
    ("stats-empty", ["FUNCTION", "STATS"]), ("stats", LOAD("l1", REG("a"), REG("b")), LOAD("l2", REG("c")), ["FUNCTION", "STATS"]),
    ("stats-extra", ["FUNCTION", "STATS", "x"]), ("kill-notbusy", ["FUNCTION", "KILL"]), ("kill-extra", ["FUNCTION", "KILL", "x"]),
    ("help", ["FUNCTION", "HELP"]), ("unknown-subcommand", ["FUNCTION", "NOPE"]), ("no-subcommand", ["FUNCTION"]),
    ("dump-empty", ["FUNCTION", "DUMP"]), ("dump-one", LOAD("liba", REG("fa", "return 'a'")), ["FUNCTION", "DUMP"]),
    ("dump-flags", LOAD("libb", REG("fb", "return 'b'", "'no-writes'")), ["FUNCTION", "DUMP"]),
    ("dump-extra", ["FUNCTION", "DUMP", "x"]),
    ("restore", ["FUNCTION", "RESTORE", payload("a")], FC("fa"), ["FUNCTION", "LIST", "WITHCODE"]),
    ("restore-append-conflict", LOAD("liba", REG("other")), ["FUNCTION", "RESTORE", payload("a")], FC("other"), FC("fa")),
    ("restore-append-function-conflict", LOAD("libz", REG("fa", "return 'z'")), ["FUNCTION", "RESTORE", payload("a"), "APPEND"],
     FC("fa")),
    ("restore-append", LOAD("libb", REG("fb")), ["FUNCTION", "RESTORE", payload("a"), "append"], FC("fa"), LIST()),
    ("restore-replace", LOAD("liba", REG("old")), ["FUNCTION", "RESTORE", payload("a"), "REPLACE"], FC("old"), FC("fa")),
    ("restore-replace-clash", LOAD("libz", REG("fa", "return 'z'")), ["FUNCTION", "RESTORE", payload("a"), "REPLACE"],
     FC("fa"), ["FUNCTION", "LIST"]),
    ("restore-flush", LOAD("libz", REG("fz")), ["FUNCTION", "RESTORE", payload("a"), "FLUSH"], FC("fz"), FC("fa"),
     ["FUNCTION", "LIST"]),
    ("restore-two-libraries", ["FUNCTION", "RESTORE", payload("ab")], FC("fa"), FCRO("fb"), LIST(), ["FUNCTION", "STATS"]),
    ("restore-two-replace-one", LOAD("liba", REG("x")), ["FUNCTION", "RESTORE", payload("ab"), "REPLACE"], FC("x"), LIST()),
    ("restore-flags-kept", ["FUNCTION", "RESTORE", payload("b")], ["FUNCTION", "LIST"], FCRO("fb")),
    ("restore-bad-policy", ["FUNCTION", "RESTORE", payload("a"), "MERGE"]),
    ("restore-bad-payload", ["FUNCTION", "RESTORE", "not a payload"]), ("restore-empty-payload", ["FUNCTION", "RESTORE", ""]),
    ("restore-bad-checksum", ["FUNCTION", "RESTORE", payload("a", "checksum")], ["FUNCTION", "LIST"]),
    ("restore-bad-version", ["FUNCTION", "RESTORE", payload("a", "version")]),
    ("restore-truncated", ["FUNCTION", "RESTORE", payload("a", "truncated")], ["FUNCTION", "LIST"]),
    ("restore-arity", ["FUNCTION", "RESTORE"]), ("restore-extra", ["FUNCTION", "RESTORE", payload("a"), "FLUSH", "x"]),
    ("restore-then-dump", ["FUNCTION", "RESTORE", payload("a")], ["FUNCTION", "DUMP"]),
    ("restore-in-multi", ["MULTI"], ["FUNCTION", "RESTORE", payload("a")], FC("fa"), ["EXEC"]),
    ("key-restore-is-not-function-restore", ["RESTORE", "k", "0", payload("a")]),
]

CASES = (cases(LOADS, "load") + cases(CALLS, "fcall", resp=(2, 3)) + cases(FLAGS, "flags")
         + cases(ADMIN, "admin") + cases([c for c in ADMIN if c[0].startswith(("list", "stats"))], "admin-resp3",
                                         resp=(3,)))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_function_matches_redis(pair, case):
    run_case(pair, case)


# ---------------------------------------------------------------------------- not byte-for-byte

def test_restore_cross_server(pair):
    """Each server's FUNCTION DUMP of three libraries restores into the other and lists the same."""
    pair.revive()
    pair.reset()
    libs = [LOAD("x1", REG("x1a"), REG("x1b", "return 2", "'no-writes'")), LOAD("x2", REG("x2a", "return 'two'")),
            LOAD("x3", "redis.register_function{function_name='x3a', callback=function() return 3 end, "
                       "description='third'}")]
    dumps, lists = {}, {}
    for label, srv in pair.servers():
        with srv.raw() as c:
            for cmd in libs:
                c.call(*cmd)
            dumps[label] = c.call("FUNCTION", "DUMP")
            lists[label] = canon_list(c.call("FUNCTION", "LIST", "WITHCODE"))
            c.call("FUNCTION", "FLUSH")
    assert isinstance(dumps["redoubt"], bytes), dumps["redoubt"]
    assert lists["redoubt"] == lists["redis"]
    for label, srv in pair.servers():
        other = "redis" if label == "redoubt" else "redoubt"
        with srv.raw() as c:
            assert c.call("FUNCTION", "RESTORE", dumps[other]) == b"OK", f"{label} restoring {other}'s DUMP"
            assert canon_list(c.call("FUNCTION", "LIST", "WITHCODE")) == lists["redis"]
            assert [c.call("FCALL", f, "0") for f in ("x1a", "x1b", "x2a", "x3a")] == [1, 2, b"two", 3]
            c.call("FUNCTION", "FLUSH")


def test_function_library_survives_script_cache_flush_and_keeps_upvalues(pair):
    """Library-level locals persist across FCALLs until the library is reloaded (same on both)."""
    pair.revive()
    pair.reset()
    got = []
    for _, srv in pair.servers():
        with srv.raw() as c:
            c.call(*LOAD("ctr", "local n = 0", REG("tick", "n = n + 1 return n")))
            seq = [c.call("FCALL", "tick", "0") for _ in range(3)]
            c.call("SCRIPT", "FLUSH")
            seq.append(c.call("FCALL", "tick", "0"))
            c.call(*LOAD("ctr", "local n = 100", REG("tick", "n = n + 1 return n"), replace=True))
            seq.append(c.call("FCALL", "tick", "0"))
            got.append(seq)
    assert got[0] == got[1] == [1, 2, 3, 4, 101]


def test_corpus_size():
    assert len(CASES) >= 150, len(CASES)
