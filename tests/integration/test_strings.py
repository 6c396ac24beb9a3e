"""String commands, SLOWLOG and DEBUG against Redoubt.

The core of this file is a table of raw commands sent, in order, to Redoubt
and to Debian's redis-server (7.0): every reply must be byte-identical.
Replies are read with a small RESP reader that returns the exact bytes of
one reply, so a difference in an error text, a float's formatting or a
RESP3 type shows up as a failing case with both byte strings printed.

Fixtures (tests/integration/conftest.py): `server` (Redoubt) and
`redis_server` (reference redis-server); both offer .client() returning a
redis-py client. The raw connection is built from that client's connection
parameters, so plain and TLS modes both work.
"""

import random
import re
import time
import uuid

import pytest

from compare import RawConnection, compare_command_group, missing_commands, parse_resp, run_group


# ---------------------------------------------------------------------------
# The comparison table
# ---------------------------------------------------------------------------
# Each group is a list of commands run in order on one connection. Key names
# are prefixed per run (see run_group) so groups never share keys; no reply
# of a string command contains a key name, so the prefix cannot cause a
# difference. "@" at the start of an argument marks it as a key.
LONG_44 = "x" * 44
LONG_45 = "x" * 45
BIN = "a\x00b\r\nc\xff"

GROUPS = {
    "get_set_basic": [
        ["SET", "@k", "v"],
        ["GET", "@k"],
        ["GET", "@missing"],
        ["SET", "@k", ""],
        ["GET", "@k"],
        ["SET", "@k", "v2", "XX"],
        ["GET", "@k"],
        ["SET", "@new", "v", "XX"],
        ["GET", "@new"],
        ["SET", "@k", "v3", "NX"],
        ["SET", "@k2", "v", "NX"],
        ["SET", "@k2", "v", "nx"],
        ["SET", "@k3", "v", "nx", "nx"],
        ["SET", "@k3", "v", "xx", "xx"],
        ["SET"],
        ["SET", "@k"],
        ["GET"],
        ["GET", "@a", "@b"],
        ["SET", "@k", "v", "FOO"],
        ["SET", "@k", "v", "NX", "XX"],
        ["SET", "@k", "v", "XX", "NX"],
        ["SET", "@k", "v", "EX"],
        ["SET", "@k", "v", "PX"],
        ["SET", "@k", "v", "EX", "10", "PX", "100"],
        ["SET", "@k", "v", "PX", "100", "EX", "10"],
        ["SET", "@k", "v", "EXAT", "10", "PXAT", "100"],
        ["SET", "@k", "v", "EX", "0"],
        ["SET", "@k", "v", "EX", "-1"],
        ["SET", "@k", "v", "EX", "abc"],
        ["SET", "@k", "v", "EX", "10.5"],
        ["SET", "@k", "v", "PX", "0"],
        ["SET", "@k", "v", "PX", "-100"],
        ["SET", "@k", "v", "EXAT", "0"],
        ["SET", "@k", "v", "PXAT", "-5"],
        ["SET", "@k", "v", "EX", "9223372036854775807"],
        ["SET", "@k", "v", "EX", "9223372036854775"],
        ["SET", "@k", "v", "PX", "9223372036854775807"],
        ["SET", "@k", "v", "EX", "9223372036854775808"],
        ["SET", "@k", "v", "EX", " 10"],
        ["SET", "@k", "v", "KEEPTTL", "EX", "10"],
        ["SET", "@k", "v", "EX", "10", "KEEPTTL"],
        ["SET", "@k", "v", "PERSIST"],
        ["SET", "@k", "v", "EX", "100", "EX", "200"],
        ["TTL", "@k"],
        ["SET", "@k", "v", "keepttl", "keepttl"],
        ["TTL", "@k"],
        ["SET", "@k", "v"],
        ["TTL", "@k"],
        ["SET", "@k", "v", "PX", "100000"],
        ["TTL", "@k"],
        ["SET", "@k", "v", "EXAT", "4102444800"],
        ["SET", "@k", "v", "PXAT", "4102444800000"],
        ["SET", "@past", "v", "EXAT", "1"],
        ["GET", "@past"],
        ["SET", "@past", "v", "PXAT", "1"],
        ["GET", "@past"],
        ["SET", "@k", BIN],
        ["GET", "@k"],
        ["STRLEN", "@k"],
        ["SET", "@big", "y" * 1000],
        ["GET", "@big"],
    ],
    "set_get_option": [
        ["SET", "@k", "v1"],
        ["SET", "@k", "v2", "GET"],
        ["GET", "@k"],
        ["SET", "@k", "v3", "NX", "GET"],
        ["GET", "@k"],
        ["SET", "@n", "v", "NX", "GET"],
        ["GET", "@n"],
        ["SET", "@m", "v", "XX", "GET"],
        ["GET", "@m"],
        ["SET", "@k", "v4", "XX", "GET", "EX", "100"],
        ["TTL", "@k"],
        ["SET", "@k", "v5", "GET", "KEEPTTL"],
        ["TTL", "@k"],
        ["SET", "@k", "v6", "get", "get"],
    ],
    "setnx_setex_psetex": [
        ["SETNX", "@k", "v"],
        ["SETNX", "@k", "w"],
        ["GET", "@k"],
        ["SETNX", "@k"],
        ["SETNX", "@k", "v", "x"],
        ["SETEX", "@e", "100", "v"],
        ["TTL", "@e"],
        ["GET", "@e"],
        ["SETEX", "@e", "0", "v"],
        ["SETEX", "@e", "-10", "v"],
        ["SETEX", "@e", "abc", "v"],
        ["SETEX", "@e", "10"],
        ["SETEX", "@e", "9223372036854775807", "v"],
        ["PSETEX", "@p", "100000", "v"],
        ["TTL", "@p"],
        ["PSETEX", "@p", "0", "v"],
        ["PSETEX", "@p", "1.5", "v"],
        ["PSETEX", "@p", "9223372036854775807", "v"],
        ["PSETEX", "@p"],
    ],
    "getset_getdel": [
        ["GETSET", "@k", "v"],
        ["GETSET", "@k", "v2"],
        ["GET", "@k"],
        ["SET", "@t", "v", "EX", "100"],
        ["GETSET", "@t", "w"],
        ["TTL", "@t"],
        ["GETSET", "@k"],
        ["GETDEL", "@k"],
        ["GETDEL", "@k"],
        ["EXISTS", "@k"],
        ["GETDEL"],
        ["GETDEL", "@a", "@b"],
    ],
    "getex": [
        ["SET", "@k", "v"],
        ["GETEX", "@k"],
        ["GETEX", "@k", "EX", "100"],
        ["TTL", "@k"],
        ["GETEX", "@k", "PERSIST"],
        ["TTL", "@k"],
        ["GETEX", "@k", "PX", "50000"],
        ["TTL", "@k"],
        ["GETEX", "@k", "EXAT", "4102444800"],
        ["GETEX", "@k", "PXAT", "4102444800000"],
        ["GETEX", "@k", "persist", "persist"],
        ["TTL", "@k"],
        ["GETEX", "@missing"],
        ["GETEX", "@missing", "EX", "-1"],
        ["GETEX", "@missing", "FOO"],
        ["GETEX", "@k", "EX", "-1"],
        ["GETEX", "@k", "EX", "0"],
        ["GETEX", "@k", "EX", "abc"],
        ["GETEX", "@k", "PX", "9223372036854775807"],
        ["GETEX", "@k", "PERSIST", "EX", "10"],
        ["GETEX", "@k", "EX", "10", "PERSIST"],
        ["GETEX", "@k", "KEEPTTL"],
        ["GETEX", "@k", "NX"],
        ["GETEX", "@k", "XX"],
        ["GETEX", "@k", "GET"],
        ["GETEX", "@k", "EX"],
        ["GETEX", "@k", "EX", "10", "PX", "10"],
        ["GETEX", "@k", "EXAT", "1"],
        ["GET", "@k"],
        ["SET", "@k", "v"],
        ["GETEX", "@k", "PXAT", "1"],
        ["EXISTS", "@k"],
        ["GETEX"],
    ],
    "mget_mset": [
        ["MSET", "@a", "1", "@b", "2", "@c", "3"],
        ["MGET", "@a", "@b", "@c", "@d"],
        ["MGET", "@nothing"],
        ["MSET", "@a"],
        ["MSET", "@a", "1", "@b"],
        ["MSET", "@a", "10", "@a", "20"],
        ["GET", "@a"],
        ["MSETNX", "@x", "1", "@y", "2"],
        ["MSETNX", "@x", "1", "@z", "3"],
        ["GET", "@z"],
        ["MSETNX", "@q", "1", "@q", "2"],
        ["GET", "@q"],
        ["MSETNX", "@a"],
        ["MSETNX", "@a", "1", "@b"],
        ["MGET"],
    ],
    "append_strlen": [
        ["APPEND", "@k", "hello"],
        ["APPEND", "@k", " world"],
        ["GET", "@k"],
        ["STRLEN", "@k"],
        ["STRLEN", "@missing"],
        ["SET", "@n", "123"],
        ["APPEND", "@n", "456"],
        ["GET", "@n"],
        ["STRLEN", "@n"],
        ["SET", "@i", "-12345"],
        ["STRLEN", "@i"],
        ["APPEND", "@k", ""],
        ["APPEND", "@e", ""],
        ["GET", "@e"],
        ["APPEND", "@k", BIN],
        ["GET", "@k"],
        ["SET", "@t", "a", "EX", "100"],
        ["APPEND", "@t", "b"],
        ["TTL", "@t"],
        ["APPEND"],
        ["APPEND", "@k"],
        ["STRLEN"],
    ],
    "incr_decr": [
        ["INCR", "@c"],
        ["INCR", "@c"],
        ["DECR", "@c"],
        ["INCRBY", "@c", "10"],
        ["DECRBY", "@c", "5"],
        ["INCRBY", "@c", "-6"],
        ["INCRBY", "@c", "abc"],
        ["INCRBY", "@c", "1.5"],
        ["INCRBY", "@c", ""],
        ["INCRBY", "@c", "9223372036854775808"],
        ["DECRBY", "@c", "-9223372036854775808"],
        ["SET", "@c", "9223372036854775807"],
        ["INCR", "@c"],
        ["INCRBY", "@c", "0"],
        ["SET", "@c", "-9223372036854775808"],
        ["DECR", "@c"],
        ["DECRBY", "@c", "1"],
        ["INCRBY", "@c", "-1"],
        ["DECRBY", "@c", "-9223372036854775807"],
        ["SET", "@s", "abc"],
        ["INCR", "@s"],
        ["SET", "@s", " 1"],
        ["INCR", "@s"],
        ["SET", "@s", "01"],
        ["INCR", "@s"],
        ["SET", "@s", "+1"],
        ["INCR", "@s"],
        ["SET", "@s", "1.0"],
        ["INCR", "@s"],
        ["SET", "@s", ""],
        ["INCR", "@s"],
        ["SET", "@s", "12345678901234567890"],
        ["INCR", "@s"],
        ["SET", "@s", "-0"],
        ["INCR", "@s"],
        ["SET", "@z", "9999"],
        ["INCR", "@z"],
        ["INCR", "@z"],
        ["DECR", "@z"],
        ["DECR", "@z"],
        ["SET", "@t", "5", "EX", "100"],
        ["INCR", "@t"],
        ["TTL", "@t"],
        ["INCR"],
        ["INCR", "@a", "@b"],
        ["INCRBY", "@c"],
        ["DECRBY", "@c", "1", "2"],
    ],
    "incrbyfloat": [
        ["INCRBYFLOAT", "@f", "10.5"],
        ["INCRBYFLOAT", "@f", "0.1"],
        ["INCRBYFLOAT", "@f", "-10.6"],
        ["INCRBYFLOAT", "@f", "5.0e3"],
        ["INCRBYFLOAT", "@f", "1e-5"],
        ["GET", "@f"],
        ["INCRBYFLOAT", "@f", "abc"],
        ["INCRBYFLOAT", "@f", ""],
        ["INCRBYFLOAT", "@f", " 1"],
        ["INCRBYFLOAT", "@f", "1 "],
        ["INCRBYFLOAT", "@f", "inf"],
        ["INCRBYFLOAT", "@f", "-inf"],
        ["INCRBYFLOAT", "@f", "nan"],
        ["INCRBYFLOAT", "@g", "1.23456789012345678"],
        ["INCRBYFLOAT", "@g2", "-0"],
        ["INCRBYFLOAT", "@g3", "3.0000000000000001"],
        ["INCRBYFLOAT", "@g4", "1e17"],
        ["INCRBYFLOAT", "@g5", "0.0000001"],
        ["INCRBYFLOAT", "@g6", "-1.5"],
        ["INCRBYFLOAT", "@g7", "123456789.123456789"],
        ["INCRBYFLOAT", "@g8", "0x10"],
        ["SET", "@i", "3"],
        ["INCRBYFLOAT", "@i", "1.5"],
        ["SET", "@i", "3.0"],
        ["INCRBYFLOAT", "@i", "1"],
        ["SET", "@i", "1.5e2"],
        ["INCRBYFLOAT", "@i", "0"],
        ["SET", "@s", "abc"],
        ["INCRBYFLOAT", "@s", "1"],
        ["SET", "@s", ""],
        ["INCRBYFLOAT", "@s", "1"],
        ["SET", "@t", "1", "EX", "100"],
        ["INCRBYFLOAT", "@t", "1.25"],
        ["TTL", "@t"],
        ["INCR", "@t"],
        ["INCRBYFLOAT"],
        ["INCRBYFLOAT", "@f"],
    ],
    "getrange_substr": [
        ["SET", "@s", "Hello World"],
        ["GETRANGE", "@s", "0", "4"],
        ["GETRANGE", "@s", "-5", "-1"],
        ["GETRANGE", "@s", "6", "100"],
        ["GETRANGE", "@s", "5", "3"],
        ["GETRANGE", "@s", "-1", "-5"],
        ["GETRANGE", "@s", "-100", "-90"],
        ["GETRANGE", "@s", "0", "-100"],
        ["GETRANGE", "@s", "0", "-1"],
        ["GETRANGE", "@s", "100", "200"],
        ["GETRANGE", "@s", "0", "9223372036854775807"],
        ["GETRANGE", "@s", "-9223372036854775808", "-1"],
        ["GETRANGE", "@s", "-9223372036854775808", "9223372036854775807"],
        ["GETRANGE", "@missing", "0", "10"],
        ["GETRANGE", "@s", "a", "1"],
        ["GETRANGE", "@s", "0", "b"],
        ["SET", "@n", "12345"],
        ["GETRANGE", "@n", "1", "3"],
        ["GETRANGE", "@n", "-2", "-1"],
        ["SET", "@e", ""],
        ["GETRANGE", "@e", "0", "-1"],
        ["SUBSTR", "@s", "0", "4"],
        ["SUBSTR", "@s", "-3", "-1"],
        ["SUBSTR", "@s", "0"],
        ["GETRANGE", "@s", "0"],
        ["GETRANGE", "@s", "0", "1", "2"],
    ],
    "setrange": [
        ["SET", "@s", "Hello World"],
        ["SETRANGE", "@s", "6", "Redis"],
        ["GET", "@s"],
        ["SETRANGE", "@s", "20", "x"],
        ["GET", "@s"],
        ["SETRANGE", "@new", "5", "abc"],
        ["GET", "@new"],
        ["SETRANGE", "@empty", "0", ""],
        ["EXISTS", "@empty"],
        ["SETRANGE", "@empty", "10", ""],
        ["SETRANGE", "@s", "0", ""],
        ["SETRANGE", "@s", "-1", "x"],
        ["SETRANGE", "@s", "abc", "x"],
        ["SETRANGE", "@s", "1.5", "x"],
        ["SETRANGE", "@s", "536870912", "x"],
        ["SETRANGE", "@s", "536870911", "xy"],
        ["SETRANGE", "@s", "536870911", ""],
        ["SETRANGE", "@s", "9223372036854775807", "x"],
        ["SETRANGE", "@s", "9223372036854775808", "x"],
        ["SETRANGE", "@missing", "536870912", ""],
        ["SETRANGE", "@missing", "536870912", "x"],
        ["SET", "@n", "12345"],
        ["SETRANGE", "@n", "0", "9"],
        ["GET", "@n"],
        ["INCR", "@n"],
        ["SET", "@t", "abc", "EX", "100"],
        ["SETRANGE", "@t", "1", "X"],
        ["TTL", "@t"],
        ["GET", "@t"],
        ["SETRANGE", "@s", "0"],
        ["SETRANGE"],
    ],
    "lcs": [
        ["MSET", "@key1", "ohmytext", "@key2", "mynewtext"],
        ["LCS", "@key1", "@key2"],
        ["LCS", "@key1", "@key2", "LEN"],
        ["LCS", "@key1", "@key2", "IDX"],
        ["LCS", "@key1", "@key2", "IDX", "MINMATCHLEN", "4"],
        ["LCS", "@key1", "@key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"],
        ["LCS", "@key1", "@key2", "IDX", "WITHMATCHLEN"],
        ["LCS", "@key1", "@key2", "WITHMATCHLEN"],
        ["LCS", "@key1", "@key2", "LEN", "WITHMATCHLEN"],
        ["LCS", "@key1", "@key2", "len", "idx"],
        ["LCS", "@key1", "@key2", "FOO"],
        ["LCS", "@key1", "@key2", "MINMATCHLEN"],
        ["LCS", "@key1", "@key2", "MINMATCHLEN", "abc"],
        ["LCS", "@key1", "@key2", "MINMATCHLEN", "-5", "IDX"],
        ["LCS", "@key1", "@missing"],
        ["LCS", "@missing1", "@missing2", "LEN"],
        ["LCS", "@missing1", "@missing2", "IDX"],
        ["LCS", "@key1"],
        ["MSET", "@n1", "12345", "@n2", "2345"],
        ["LCS", "@n1", "@n2", "IDX", "WITHMATCHLEN"],
        ["MSET", "@a", "ABCBDAB", "@b", "BDCABA"],
        ["LCS", "@a", "@b"],
        ["LCS", "@a", "@b", "IDX", "WITHMATCHLEN"],
        ["LCS", "@b", "@a", "IDX"],
        ["MSET", "@x", "aaaaaaaaaa", "@y", "aaaaa"],
        ["LCS", "@x", "@y", "IDX", "WITHMATCHLEN"],
        ["MSET", "@x", "abcdefghij", "@y", "xyz"],
        ["LCS", "@x", "@y"],
        ["LCS", "@x", "@y", "IDX"],
    ],
    "encodings": [
        ["SET", "@e1", "12345"],
        ["OBJECT", "ENCODING", "@e1"],
        ["SET", "@e2", "hello"],
        ["OBJECT", "ENCODING", "@e2"],
        ["SET", "@e3", LONG_45],
        ["OBJECT", "ENCODING", "@e3"],
        ["SET", "@e4", LONG_44],
        ["OBJECT", "ENCODING", "@e4"],
        ["SET", "@e5", "-1"],
        ["OBJECT", "ENCODING", "@e5"],
        ["SET", "@e6", "0123"],
        ["OBJECT", "ENCODING", "@e6"],
        ["SET", "@e7", "12345678901234567890"],
        ["OBJECT", "ENCODING", "@e7"],
        ["SET", "@e8", "9223372036854775807"],
        ["OBJECT", "ENCODING", "@e8"],
        ["APPEND", "@e2", "x"],
        ["OBJECT", "ENCODING", "@e2"],
        ["INCR", "@cnt"],
        ["OBJECT", "ENCODING", "@cnt"],
        ["INCRBY", "@cnt", "100000"],
        ["OBJECT", "ENCODING", "@cnt"],
        ["INCRBYFLOAT", "@fl", "1.5"],
        ["OBJECT", "ENCODING", "@fl"],
        ["SETRANGE", "@sr", "0", "abc"],
        ["OBJECT", "ENCODING", "@sr"],
        ["MSET", "@m1", "42", "@m2", "forty-two"],
        ["OBJECT", "ENCODING", "@m1"],
        ["OBJECT", "ENCODING", "@m2"],
        ["SETEX", "@se", "100", "7"],
        ["OBJECT", "ENCODING", "@se"],
        ["GETSET", "@gs", "8"],
        ["OBJECT", "ENCODING", "@gs"],
        ["APPEND", "@ap", "77"],
        ["OBJECT", "ENCODING", "@ap"],
    ],
    # Every command against a key of another type. Needs RPUSH (the list
    # type): skipped, with a reason, while Redoubt lacks it.
    "wrongtype": [
        ["RPUSH", "@list", "a"],
        ["GET", "@list"],
        ["SET", "@list", "v", "GET"],
        ["SET", "@list", "v", "GET", "EX", "0"],
        ["SET", "@list", "v", "GET", "FOO"],
        ["SET", "@list", "v", "NX"],
        ["SETNX", "@list", "v"],
        ["GETSET", "@list", "v"],
        ["GETDEL", "@list"],
        ["GETEX", "@list"],
        ["GETEX", "@list", "EX", "10"],
        ["GETEX", "@list", "EX", "-1"],
        ["GETEX", "@list", "FOO"],
        ["MGET", "@list", "@nothing", "@list"],
        ["STRLEN", "@list"],
        ["APPEND", "@list", "x"],
        ["INCR", "@list"],
        ["DECR", "@list"],
        ["INCRBY", "@list", "5"],
        ["INCRBY", "@list", "abc"],
        ["DECRBY", "@list", "1"],
        ["INCRBYFLOAT", "@list", "1"],
        ["INCRBYFLOAT", "@list", "abc"],
        ["GETRANGE", "@list", "0", "1"],
        ["GETRANGE", "@list", "x", "1"],
        ["SUBSTR", "@list", "0", "1"],
        ["SETRANGE", "@list", "0", "x"],
        ["SETRANGE", "@list", "-1", "x"],
        ["SETRANGE", "@list", "0", ""],
        ["SET", "@s1", "abc"],
        ["LCS", "@s1", "@list"],
        ["LCS", "@list", "@s1", "FOO"],
        ["LCS", "@list", "@missing", "LEN"],
        ["MSETNX", "@list", "v", "@other", "w"],
        ["GET", "@other"],
        ["TYPE", "@list"],
        ["SET", "@list", "now-a-string"],
        ["GET", "@list"],
        ["TYPE", "@list"],
    ],
    # proto-max-bulk-len lowered to its minimum (1mb): the size checks of
    # SETRANGE, APPEND and LCS's transient table.
    "bulk_limit": [
        ["CONFIG", "SET", "proto-max-bulk-len", "1048576"],
        ["SETRANGE", "@k", "1048575", "x"],
        ["STRLEN", "@k"],
        ["SETRANGE", "@k", "1048576", "x"],
        ["SETRANGE", "@k", "1048575", "yz"],
        ["SETRANGE", "@k", "1048575", "y"],
        ["SETRANGE", "@k", "0", ""],
        ["APPEND", "@k", "y"],
        ["APPEND", "@k", ""],
        ["GETRANGE", "@k", "-3", "-1"],
        ["SETRANGE", "@new", "1048576", "x"],
        ["SETRANGE", "@new", "1048576", ""],
        ["EXISTS", "@new"],
        ["SET", "@a", "a" * 600],
        ["SET", "@b", "b" * 600],
        ["LCS", "@a", "@b", "LEN"],
        ["APPEND", "@a", "a" * 1400],
        ["APPEND", "@b", "b" * 1400],
        ["LCS", "@a", "@b", "LEN"],
        ["LCS", "@a", "@b", "IDX"],
    ],
    "slowlog_errors": [
        ["SLOWLOG", "HELP"],
        ["SLOWLOG", "help"],
        ["SLOWLOG", "GET", "-2"],
        ["SLOWLOG", "GET", "abc"],
        ["SLOWLOG", "GET", "1", "2"],
        ["SLOWLOG", "FOO"],
        ["SLOWLOG"],
        ["SLOWLOG", "LEN", "x"],
        ["SLOWLOG", "RESET", "x"],
        ["SLOWLOG", "HELP", "x"],
    ],
}

# Groups replayed after HELLO 3: nulls, maps and doubles change shape.
RESP3_GROUPS = ["get_set_basic", "set_get_option", "getex", "mget_mset",
                "lcs", "incrbyfloat", "wrongtype"]

# Commands of other modules a group needs; the group is skipped (with the
# reason shown) while Redoubt does not have them.
GROUP_REQUIRES = {"wrongtype": ["rpush"]}


def compare_group(server, redis_server, name, resp3=False):
    compare_command_group(server, redis_server, GROUPS[name], GROUP_REQUIRES.get(name, []),
                          "str:%s" % name, resp3)


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_strings_match_redis(server, redis_server, group):
    compare_group(server, redis_server, group)


@pytest.mark.parametrize("group", RESP3_GROUPS)
def test_strings_match_redis_resp3(server, redis_server, group):
    compare_group(server, redis_server, group, resp3=True)


# ---------------------------------------------------------------------------
# Randomised differential run: seeded, so a failure is reproducible
# ---------------------------------------------------------------------------
RANDOM_COMMANDS_PER_SEED = 1000


def random_value(rng):
    kind = rng.randrange(8)
    if kind == 0:
        return str(rng.randrange(-20000, 20000))
    if kind == 1:
        return str(rng.choice([0, 9999, 10000, -1, 2 ** 63 - 1, -2 ** 63, 2 ** 31]))
    if kind == 2:
        return "%.*f" % (rng.randrange(0, 6), rng.uniform(-1000, 1000))
    if kind == 3:
        return rng.choice(["", " ", "1e3", "0x1f", "-0", "+5", "007", "1.", ".5", "inf", "abc"])
    if kind == 4:
        return "".join(rng.choice("abcxyz") for _ in range(rng.randrange(0, 60)))
    if kind == 5:
        return "".join(chr(rng.randrange(0, 256)) for _ in range(rng.randrange(0, 8)))
    return rng.choice(["hello", "world", "ohmytext", "mynewtext"])


def random_command(rng):
    k = lambda: "@k%d" % rng.randrange(6)  # noqa: E731
    v = lambda: random_value(rng)  # noqa: E731
    idx = lambda: str(rng.randrange(-70, 70))  # noqa: E731
    choice = rng.randrange(22)
    if choice == 0:
        opts = rng.sample(["NX", "XX", "GET", "KEEPTTL", "EX", "PX", "PERSIST"],
                          rng.randrange(0, 3))
        args = ["SET", k(), v()]
        for o in opts:
            args.append(o)
            if o in ("EX", "PX"):
                args.append(rng.choice(["100000", "0", "-1", "x"]))
        return args
    if choice == 1:
        return ["GET", k()]
    if choice == 2:
        return ["APPEND", k(), v()]
    if choice == 3:
        return ["STRLEN", k()]
    if choice == 4:
        return ["INCR", k()]
    if choice == 5:
        return ["DECR", k()]
    if choice == 6:
        return ["INCRBY", k(), v()]
    if choice == 7:
        return ["DECRBY", k(), v()]
    if choice == 8:
        return ["INCRBYFLOAT", k(), v()]
    if choice == 9:
        return ["GETRANGE", k(), idx(), idx()]
    if choice == 10:
        return ["SETRANGE", k(), str(rng.randrange(-2, 70)), v()]
    if choice == 11:
        return ["GETSET", k(), v()]
    if choice == 12:
        return ["GETDEL", k()]
    if choice == 13:
        return ["MSET"] + [x for _ in range(rng.randrange(1, 4)) for x in (k(), v())]
    if choice == 14:
        return ["MSETNX"] + [x for _ in range(rng.randrange(1, 4)) for x in (k(), v())]
    if choice == 15:
        return ["MGET"] + [k() for _ in range(rng.randrange(1, 5))]
    if choice == 16:
        return ["SETNX", k(), v()]
    if choice == 17:
        return ["LCS", k(), k()] + rng.choice([[], ["LEN"], ["IDX"], ["IDX", "WITHMATCHLEN"],
                                               ["IDX", "MINMATCHLEN", "2"]])
    if choice == 18:
        return ["GETEX", k()] + rng.choice([[], ["PERSIST"], ["EX", "100000"], ["PX", "0"]])
    if choice == 19:
        return ["SUBSTR", k(), idx(), idx()]
    if choice == 20:
        return ["OBJECT", "ENCODING", k()]
    return ["SETEX", k(), rng.choice(["100000", "0", "-5"]), v()]


@pytest.mark.parametrize("seed", list(range(1, 9)))
def test_random_string_commands_match_redis(server, redis_server, seed):
    rng = random.Random(seed)
    commands = [random_command(rng) for _ in range(RANDOM_COMMANDS_PER_SEED)]
    ours = RawConnection(server.client())
    theirs = RawConnection(redis_server.client())
    prefix = "rnd:%d:%s:" % (seed, uuid.uuid4().hex[:8])
    try:
        got = run_group(ours, commands, prefix)
        want = run_group(theirs, commands, prefix)
    finally:
        ours.close()
        theirs.close()
    for i, (cmd, g, w) in enumerate(zip(commands, got, want)):
        assert g == w, "seed %d command #%d %r:\n redoubt: %r\n redis:   %r" % (
            seed, i, cmd, g, w)


def test_case_table_size():
    total = sum(len(v) for v in GROUPS.values())
    total += sum(len(GROUPS[g]) for g in RESP3_GROUPS)
    assert total >= 150


# ---------------------------------------------------------------------------
# COMMAND INFO of the commands this module owns
# ---------------------------------------------------------------------------
OWNED_COMMANDS = ["get", "set", "mget", "mset", "msetnx", "setnx", "setex",
                  "psetex", "getset", "getdel", "getex", "append", "strlen",
                  "incr", "decr", "incrby", "decrby", "incrbyfloat",
                  "getrange", "setrange", "substr", "lcs", "slowlog",
                  "debug"]


def command_info_head(srv, name):
    """name, arity, flags, first, last, step, ACL categories (sorted)."""
    conn = RawConnection(srv.client())
    try:
        info = parse_resp(conn.command("COMMAND", "INFO", name))[0]
    finally:
        conn.close()
    assert info is not None, name
    return [info[0], info[1], sorted(info[2]), info[3], info[4], info[5],
            sorted(info[6])]


@pytest.mark.parametrize("name", OWNED_COMMANDS)
def test_command_info_matches_redis(server, redis_server, name):
    assert command_info_head(server, name) == command_info_head(redis_server, name)


def command_info_raw(srv, name):
    conn = RawConnection(srv.client())
    try:
        return conn.command("COMMAND", "INFO", name)
    finally:
        conn.close()


@pytest.mark.parametrize("name", OWNED_COMMANDS)
def test_command_info_bytes_match_redis(server, redis_server, name):
    """The whole entry, key specs, tips and subcommands included (the
    subcommand order of a container follows the server's dict, so compare
    containers as parsed and sorted)."""
    ours, theirs = command_info_raw(server, name), command_info_raw(redis_server, name)
    if name == "slowlog":
        a, b = parse_resp(ours)[0], parse_resp(theirs)[0]
        a[9] = sorted(a[9]); b[9] = sorted(b[9])
        assert a == b
    else:
        assert ours == theirs


# ---------------------------------------------------------------------------
# Behaviour beyond single replies
# ---------------------------------------------------------------------------
def key(name):
    return "strbeh:%s:%s" % (name, uuid.uuid4().hex[:8])


def test_set_px_expires(server):
    r = server.client()
    k = key("px")
    assert r.set(k, "v", px=150)
    assert r.get(k) == b"v"
    time.sleep(0.3)
    assert r.get(k) is None


def test_set_exat_pxat_absolute(server):
    r = server.client()
    k = key("exat")
    future = int(time.time()) + 1000
    assert r.set(k, "v", exat=future)
    assert 990 <= r.ttl(k) <= 1000
    assert r.set(k, "v", pxat=future * 1000)
    assert 990 <= r.ttl(k) <= 1000


def test_keepttl_and_plain_set_clears_ttl(server):
    r = server.client()
    k = key("keepttl")
    r.set(k, "a", ex=100)
    r.set(k, "b", keepttl=True)
    assert r.ttl(k) == 100 or r.ttl(k) == 99
    r.set(k, "c")
    assert r.ttl(k) == -1


def test_getex_px_expires_and_persist(server):
    r = server.client()
    k = key("getex")
    r.set(k, "v")
    assert r.getex(k, px=150) == b"v"
    time.sleep(0.3)
    assert r.get(k) is None
    r.set(k, "v", ex=100)
    assert r.getex(k, persist=True) == b"v"
    assert r.ttl(k) == -1


def test_incr_large_and_shared_range(server):
    r = server.client()
    k = key("incr")
    r.set(k, 9990)
    for expect in range(9991, 10011):
        assert r.incr(k) == expect
    assert r.decrby(k, 20) == 9990
    assert r.incrby(k, 2 ** 62) == 2 ** 62 + 9990


def test_incrbyfloat_values(server):
    r = server.client()
    k = key("float")
    assert r.incrbyfloat(k, 10.5) == 10.5
    assert r.incrbyfloat(k, 0.1) == pytest.approx(10.6)
    assert r.get(k) == b"10.6"
    r.set(k, "5.0e3")
    assert r.incrbyfloat(k, 2.0e2) == 5200
    assert r.get(k) == b"5200"


def test_append_builds_large_string(server):
    r = server.client()
    k = key("append")
    chunk = "z" * 1000
    for i in range(1, 101):
        assert r.append(k, chunk) == 1000 * i
    assert r.strlen(k) == 100000
    assert r.getrange(k, 99990, -1) == b"z" * 10


def test_setrange_zero_padding(server):
    r = server.client()
    k = key("setrange")
    assert r.setrange(k, 3, "abc") == 6
    assert r.get(k) == b"\x00\x00\x00abc"


def test_mset_many_keys(server):
    r = server.client()
    base = key("mset")
    mapping = {"%s:%d" % (base, i): str(i) for i in range(500)}
    assert r.mset(mapping)
    values = r.mget(list(mapping))
    assert values == [str(i).encode() for i in range(500)]


def test_lcs_long_strings(server, redis_server):
    a = ("ACGT" * 300)[:1100]
    b = ("GATTACA" * 200)[:1200]
    results = []
    for srv in (server, redis_server):
        r = srv.client()
        k1, k2 = key("lcs1"), key("lcs2")
        r.mset({k1: a, k2: b})
        conn = RawConnection(r)
        try:
            results.append((conn.command("LCS", k1, k2),
                            conn.command("LCS", k1, k2, "IDX", "MINMATCHLEN",
                                         "3", "WITHMATCHLEN")))
        finally:
            conn.close()
    assert results[0] == results[1]


# ---------------------------------------------------------------------------
# Keyspace notifications: the same events, in the same order, as Redis
# ---------------------------------------------------------------------------
NOTIFY_SEQUENCE = [
    ["SET", "@k", "v"],
    ["SET", "@k", "v", "EX", "100"],
    ["GETEX", "@k", "PERSIST"],
    ["GETEX", "@k", "EX", "100"],
    ["GETEX", "@k", "PXAT", "1"],
    ["SET", "@n", "1"],
    ["INCR", "@n"],
    ["INCRBY", "@n", "5"],
    ["DECR", "@n"],
    ["DECRBY", "@n", "2"],
    ["INCRBYFLOAT", "@n", "1.5"],
    ["INCR", "@n"],  # an error: no event
    ["APPEND", "@a", "x"],
    ["APPEND", "@a", "y"],
    ["SETRANGE", "@r", "2", "x"],
    ["SETRANGE", "@r", "0", ""],
    ["SETRANGE", "@r", "0", "y"],
    ["MSET", "@m1", "1", "@m2", "2"],
    ["MSETNX", "@m3", "1", "@m4", "2"],
    ["MSETNX", "@m3", "1", "@m5", "2"],
    ["SETNX", "@s", "1"],
    ["SETNX", "@s", "2"],
    ["SETEX", "@e", "100", "v"],
    ["PSETEX", "@p", "100000", "v"],
    ["GETSET", "@p", "w"],
    ["GETDEL", "@p"],
    ["GETDEL", "@p"],
    ["SET", "@g", "v", "NX", "GET"],
    ["SET", "@g", "w", "XX", "GET", "KEEPTTL"],
    ["SET", "@g", "w", "NX"],
    ["GET", "@g"],
    ["MGET", "@g", "@nothing"],
    ["STRLEN", "@g"],
    ["GETRANGE", "@g", "0", "1"],
    ["LCS", "@g", "@k"],
    ["SET", "@done", "1"],
]


def collect_events(srv, prefix):
    sub = RawConnection(srv.client())
    cmd = RawConnection(srv.client())
    try:
        cmd.command("CONFIG", "SET", "notify-keyspace-events", "KEA")
        sub.command("PSUBSCRIBE", "__key*@*__:*")
        for c in NOTIFY_SEQUENCE:
            cmd.command(*[prefix + a[1:] if a.startswith("@") else a for a in c])
        events = []
        done = ("__keyspace@0__:%sdone" % prefix).encode()
        for _ in range(1000):  # bound: the sequence makes far fewer events
            msg = parse_resp(sub.read_reply())
            events.append((msg[2], msg[3]))
            if msg[2] == done:
                break
        return events
    finally:
        sub.close()
        cmd.close()


def test_keyspace_events_match_redis(server, redis_server):
    probe = RawConnection(server.client())
    try:
        missing = missing_commands(probe, ["psubscribe"])
    finally:
        probe.close()
    if missing:
        pytest.skip("Redoubt lacks PSUBSCRIBE (pub/sub module)")
    prefix = "ev:%s:" % uuid.uuid4().hex[:8]
    assert collect_events(server, prefix) == collect_events(redis_server, prefix)


# ---------------------------------------------------------------------------
# SLOWLOG
# ---------------------------------------------------------------------------
@pytest.fixture
def slow_everything(server):
    r = server.client()
    old = r.config_get("slowlog-log-slower-than")["slowlog-log-slower-than"]
    r.config_set("slowlog-log-slower-than", 0)
    r.slowlog_reset()
    yield r
    r.config_set("slowlog-log-slower-than", old)
    r.slowlog_reset()


def slowlog_get(srv, count=None):
    conn = RawConnection(srv.client())
    try:
        args = ["SLOWLOG", "GET"] + ([str(count)] if count is not None else [])
        return parse_resp(conn.command(*args))
    finally:
        conn.close()


def test_slowlog_records_and_trims(server, slow_everything):
    r = slow_everything
    k = key("slow")
    r.set(k, "v" * 200)
    r.execute_command("MGET", *["%s:%d" % (k, i) for i in range(40)])
    entries = slowlog_get(server, -1)
    # Newest first: MGET, then SET (CONFIG SET/ SLOWLOG RESET may follow).
    mget = entries[0]
    assert len(mget) == 6
    assert isinstance(mget[0], int) and isinstance(mget[1], int)
    assert abs(mget[1] - time.time()) < 60
    assert isinstance(mget[2], int) and mget[2] >= 0
    args = mget[3]
    assert len(args) == 32
    assert args[0].upper() == b"MGET"
    assert args[31] == b"... (10 more arguments)"  # 41 args, 31 kept
    assert re.match(rb"^127\.0\.0\.1:\d+$|^\[?::1\]?:\d+$", mget[4]), mget[4]
    assert mget[5] == b""
    set_entry = entries[1]
    assert set_entry[3][2] == b"v" * 128 + b"... (72 more bytes)"
    assert set_entry[0] == mget[0] - 1


SLOWLOG_SEQUENCE = [
    ["SET", "@k", "v", "EX", "100"],
    ["GETEX", "@k", "PERSIST"],
    ["GETEX", "@k", "EX", "50"],
    ["INCRBYFLOAT", "@n", "1.5"],
    ["GETSET", "@n", "2"],
    ["GETDEL", "@k"],
    ["SET", "@big", "b" * 200],
    ["MGET"] + ["@m%d" % i for i in range(40)],
    ["MSET"] + ["@m", "x" * 129] * 20,
    ["SET", "@bin", "a\x00b"],
]


def slowlog_arguments(srv, prefix):
    conn = RawConnection(srv.client())
    try:
        conn.command("CONFIG", "SET", "slowlog-log-slower-than", "0")
        conn.command("SLOWLOG", "RESET")
        for c in SLOWLOG_SEQUENCE:
            conn.command(*[prefix + a[1:] if a.startswith("@") else a for a in c])
        entries = parse_resp(conn.command("SLOWLOG", "GET", "-1"))
    finally:
        conn.close()
    return [(e[3], e[5]) for e in entries]


def test_slowlog_arguments_match_redis(server, redis_server):
    """What the log keeps of each command (original argv, trimming) is
    Redis's, for commands that rewrite their argv for propagation too."""
    prefix = "sl:%s:" % uuid.uuid4().hex[:8]
    assert slowlog_arguments(server, prefix) == slowlog_arguments(redis_server, prefix)


def test_slowlog_len_get_count_reset(server, slow_everything):
    r = slow_everything
    for i in range(12):
        r.get(key("len"))
    assert r.slowlog_len() >= 12
    assert len(slowlog_get(server, 2)) == 2
    assert len(slowlog_get(server)) == 10  # the default count
    conn = RawConnection(server.client())
    try:
        assert conn.command("SLOWLOG", "RESET") == b"+OK\r\n"
        # The RESET itself may be logged after it ran.
        assert parse_resp(conn.command("SLOWLOG", "LEN")) <= 1
    finally:
        conn.close()


def test_slowlog_client_name_and_max_len(server, slow_everything):
    r = slow_everything
    old = r.config_get("slowlog-max-len")["slowlog-max-len"]
    try:
        r.config_set("slowlog-max-len", 3)
        r.client_setname("strings-test")
        for _ in range(10):
            r.get(key("maxlen"))
        assert r.slowlog_len() <= 3
        entries = slowlog_get(server, -1)
        assert entries[0][5] == b"strings-test"
    finally:
        r.config_set("slowlog-max-len", old)


def test_slowlog_disabled_with_negative(server):
    r = server.client()
    old = r.config_get("slowlog-log-slower-than")["slowlog-log-slower-than"]
    try:
        r.config_set("slowlog-log-slower-than", -1)
        r.slowlog_reset()
        r.get(key("off"))
        assert r.slowlog_len() == 0
    finally:
        r.config_set("slowlog-log-slower-than", old)


# ---------------------------------------------------------------------------
# DEBUG (Redoubt only; protected like in Redis, so enabled explicitly)
# ---------------------------------------------------------------------------
@pytest.mark.server_args("--enable-debug-command", "yes")
def test_debug_sleep_and_active_expire(server):
    r = server.client()
    t0 = time.monotonic()
    assert r.execute_command("DEBUG", "SLEEP", "0.2")
    assert time.monotonic() - t0 >= 0.19
    assert r.execute_command("DEBUG", "SLEEP", "0")
    assert r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    assert r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


@pytest.mark.server_args("--enable-debug-command", "yes")
def test_debug_object_format(server):
    r = server.client()
    k = key("dbgobj")
    r.set(k, "hello")
    conn = RawConnection(r)
    try:
        reply = conn.command("DEBUG", "OBJECT", k)
        assert re.match(
            rb"^\+Value at:0x[0-9a-f]+ refcount:1 encoding:embstr "
            rb"serializedlength:6 lru:\d+ lru_seconds_idle:\d+\r\n$", reply), reply
        r.set(k, "12345")
        reply = conn.command("DEBUG", "OBJECT", k)
        assert b" encoding:int serializedlength:3 " in reply, reply
        assert conn.command("DEBUG", "OBJECT", key("nokey")) == b"-ERR no such key\r\n"
        assert conn.command("DEBUG", "NOSUCHSUB").startswith(
            b"-ERR unknown subcommand or wrong number of arguments for 'NOSUCHSUB'")
        help_reply = [line if isinstance(line, str) else line.decode()
                      for line in parse_resp(conn.command("DEBUG", "HELP"))]
        assert help_reply[0].startswith("DEBUG <subcommand>")
        assert "SLEEP <seconds>" in help_reply
    finally:
        conn.close()


def masked_debug_object(srv, name, setup):
    conn = RawConnection(srv.client())
    try:
        for cmd in setup:
            conn.command(*cmd)
        reply = conn.command("DEBUG", "OBJECT", name)
    finally:
        conn.close()
    reply = re.sub(rb"at:0x[0-9a-f]+", b"at:ADDR", reply)
    reply = re.sub(rb"lru:\d+", b"lru:N", reply)
    return re.sub(rb"lru_seconds_idle:\d+", b"lru_seconds_idle:N", reply)


@pytest.mark.server_args("--enable-debug-command", "yes")
@pytest.mark.redis_server_args("--enable-debug-command", "yes")
@pytest.mark.parametrize("setup", [
    [["SET", "dk", "hello"]],
    [["SET", "dk", "-123"]],
    [["SET", "dk", "123456789012"]],
    [["SET", "dk", "x" * 20]],
    [["RPUSH", "dk", "a", "b", "1"]],
    [["SADD", "dk", "1", "2", "3"]],
    [["HSET", "dk", "f", "v"]],
], ids=["embstr", "int", "bigint", "raw20", "list", "intset", "hash"])
def test_debug_object_matches_redis(server, redis_server, setup):
    for srv in (server, redis_server):
        conn = RawConnection(srv.client())
        try:
            if parse_resp(conn.command("COMMAND", "INFO", setup[0][0])) == [None]:
                pytest.skip("Redoubt lacks %s" % setup[0][0])
        finally:
            conn.close()
    assert masked_debug_object(server, "dk", setup) == masked_debug_object(
        redis_server, "dk", setup)


@pytest.mark.server_args("--enable-debug-command", "yes")
def test_debug_populate_and_protocol(server):
    r = server.client()
    prefix = key("pop")
    assert r.execute_command("DEBUG", "POPULATE", "100", prefix, "10")
    assert r.get(prefix + ":0") == b"value:0\x00\x00\x00"
    assert r.get(prefix + ":99") == b"value:99\x00\x00"
    conn = RawConnection(r)
    try:
        assert conn.command("DEBUG", "PROTOCOL", "string") == b"$11\r\nHello World\r\n"
        assert conn.command("DEBUG", "PROTOCOL", "integer") == b":12345\r\n"
        assert conn.command("DEBUG", "PROTOCOL", "map") == (
            b"*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n")
        assert conn.command("DEBUG", "ERROR", "BOOM bad\r\nthing") == (
            b"-BOOM bad  thing\r\n")
    finally:
        conn.close()
