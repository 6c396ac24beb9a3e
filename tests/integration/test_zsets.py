"""Sorted-set commands against Redoubt, compared byte for byte with Debian's
redis-server (7.0) in RESP2 and RESP3.

The core is a table of command groups; each group runs, in order, on one
connection to each server and every reply must be identical. Key names are
prefixed per run ("@k" -> "<prefix>k"), the same prefix on both servers, so
replies that contain key names (ZMPOP, BZPOPMIN) compare too. Commands with
random results (ZRANDMEMBER) and hashtable-order scans are checked for
shape and content instead.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_zsets.py
(REDOUBT_TEST_MODE=tls for TLS; the reference server is always plain.)
"""

import random
import time
import uuid

import pytest

from compare import compare_command_group, missing_commands, parse_resp
from compare import RawConnection as _SharedRawConnection


def RawConnection(client):
    """This table was written for latin-1 arguments (one byte per code point)."""
    return _SharedRawConnection(client, encoding="latin-1")


# ---------------------------------------------------------------------------
# The comparison table ("@" marks a key name)
# ---------------------------------------------------------------------------
BIN = "a\x00b\r\nc\xff"
LONG_64 = "m" * 64
LONG_65 = "m" * 65

GROUPS = {
    "zadd_basic": [
        ["ZADD", "@z", "1", "a"],
        ["ZADD", "@z", "2", "b", "3", "c"],
        ["ZADD", "@z", "1", "a"],
        ["ZADD", "@z", "10", "a"],
        ["ZRANGE", "@z", "0", "-1", "WITHSCORES"],
        ["ZADD", "@z", "CH", "11", "a", "2", "b", "4", "d"],
        ["ZADD", "@z", "NX", "100", "a", "5", "e"],
        ["ZADD", "@z", "XX", "100", "a", "5", "f"],
        ["ZADD", "@z", "XX", "CH", "101", "a", "5", "f"],
        ["ZADD", "@z", "GT", "CH", "50", "a", "200", "b"],
        ["ZADD", "@z", "LT", "CH", "50", "a", "300", "c"],
        ["ZADD", "@z", "GT", "XX", "CH", "1000", "a"],
        ["ZRANGE", "@z", "0", "-1", "WITHSCORES"],
        ["ZADD", "@z", "INCR", "5", "a"],
        ["ZADD", "@z", "INCR", "NX", "5", "a"],
        ["ZADD", "@z", "INCR", "XX", "5", "nosuch"],
        ["ZADD", "@z", "INCR", "GT", "-5", "a"],
        ["ZADD", "@z", "INCR", "LT", "-5", "a"],
        ["ZADD", "@z", "INCR", "1", "a", "2", "b"],
        ["ZADD", "@z", "NX", "XX", "1", "a"],
        ["ZADD", "@z", "GT", "LT", "1", "a"],
        ["ZADD", "@z", "GT", "NX", "1", "a"],
        ["ZADD", "@z", "LT", "NX", "1", "a"],
        ["ZADD", "@z", "1"],
        ["ZADD", "@z", "1", "a", "2"],
        ["ZADD", "@z", "CH"],
        ["ZADD", "@z", "x", "a"],
        ["ZADD", "@z", "nan", "a"],
        ["ZADD", "@z", "1", "a", "bad", "b"],
        ["ZADD", "@z"],
        ["ZADD", "@z", "1e400", "big"],
        ["ZADD", "@z", "inf", "i", "-inf", "ni", "+inf", "pi"],
        ["ZADD", "@z", "INCR", "-inf", "i"],
        ["ZADD", "@z", "0x10", "hex"],
        ["ZADD", "@z", " 1", "sp"],
        ["ZADD", "@z", "1.5", "f1", "0.1", "f2", "-0", "nz", "1e-320", "tiny"],
        ["ZRANGE", "@z", "0", "-1", "WITHSCORES"],
        ["ZADD", "@new", "XX", "1", "a"],
        ["EXISTS", "@new"],
        ["ZADD", "@new", "XX", "INCR", "1", "a"],
        ["ZCARD", "@z"],
        ["ZADD", "@b", "1", BIN, "2", ""],
        ["ZRANGE", "@b", "0", "-1", "WITHSCORES"],
        ["ZSCORE", "@b", BIN],
        ["ZSCORE", "@b", ""],
    ],
    "zincrby": [
        ["ZINCRBY", "@z", "1", "a"],
        ["ZINCRBY", "@z", "2.5", "a"],
        ["ZINCRBY", "@z", "-10", "a"],
        ["ZINCRBY", "@z", "x", "a"],
        ["ZINCRBY", "@z", "nan", "a"],
        ["ZINCRBY", "@z", "inf", "a"],
        ["ZINCRBY", "@z", "-inf", "a"],
        ["ZINCRBY", "@z", "1"],
        ["ZINCRBY", "@z", "nx", "a"],
        ["ZINCRBY", "@z", "0.1", "b"],
        ["ZINCRBY", "@z", "0.2", "b"],
        ["ZSCORE", "@z", "b"],
        ["ZINCRBY", "@z", "1e308", "c"],
        ["ZINCRBY", "@z", "1e308", "c"],
        ["ZRANGE", "@z", "0", "-1", "WITHSCORES"],
    ],
    "zrem_card_score": [
        ["ZADD", "@z", "1", "a", "2", "b", "3", "c", "4", "d"],
        ["ZCARD", "@z"],
        ["ZCARD", "@nosuch"],
        ["ZSCORE", "@z", "a"],
        ["ZSCORE", "@z", "x"],
        ["ZSCORE", "@nosuch", "x"],
        ["ZMSCORE", "@z", "a", "x", "c"],
        ["ZMSCORE", "@nosuch", "a", "b"],
        ["ZMSCORE", "@z"],
        ["ZREM", "@z", "a", "x"],
        ["ZREM", "@z", "x"],
        ["ZREM", "@nosuch", "x"],
        ["ZREM", "@z"],
        ["ZREM", "@z", "b", "c", "d", "e"],
        ["EXISTS", "@z"],
        ["ZCARD"],
        ["ZSCORE", "@z"],
    ],
    "zrank": [
        ["ZADD", "@z", "1", "a", "2", "b", "3", "c", "3", "d", "0", "e"],
        ["ZRANK", "@z", "a"],
        ["ZRANK", "@z", "e"],
        ["ZRANK", "@z", "d"],
        ["ZREVRANK", "@z", "d"],
        ["ZREVRANK", "@z", "e"],
        ["ZRANK", "@z", "nosuch"],
        ["ZREVRANK", "@z", "nosuch"],
        ["ZRANK", "@nosuch", "a"],
        ["ZRANK", "@z", "a", "withscore"],
        ["ZRANK", "@z"],
    ],
    "zcount_lexcount": [
        ["ZADD", "@z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"],
        ["ZCOUNT", "@z", "-inf", "+inf"],
        ["ZCOUNT", "@z", "2", "4"],
        ["ZCOUNT", "@z", "(2", "4"],
        ["ZCOUNT", "@z", "(2", "(4"],
        ["ZCOUNT", "@z", "4", "2"],
        ["ZCOUNT", "@z", "(3", "(3"],
        ["ZCOUNT", "@z", "3", "3"],
        ["ZCOUNT", "@z", "x", "3"],
        ["ZCOUNT", "@z", "1", "(x"],
        ["ZCOUNT", "@z", "[1", "3"],
        ["ZCOUNT", "@z", "", ""],
        ["ZCOUNT", "@z", "nan", "1"],
        ["ZCOUNT", "@z", "(inf", "inf"],
        ["ZCOUNT", "@nosuch", "1", "2"],
        ["ZCOUNT", "@nosuch", "x", "2"],
        ["ZCOUNT", "@z", "1"],
        ["DEL", "@z"],
        ["ZADD", "@z", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e"],
        ["ZLEXCOUNT", "@z", "-", "+"],
        ["ZLEXCOUNT", "@z", "[b", "[d"],
        ["ZLEXCOUNT", "@z", "(b", "[d"],
        ["ZLEXCOUNT", "@z", "(b", "(d"],
        ["ZLEXCOUNT", "@z", "[d", "[b"],
        ["ZLEXCOUNT", "@z", "+", "-"],
        ["ZLEXCOUNT", "@z", "-", "-"],
        ["ZLEXCOUNT", "@z", "+", "+"],
        ["ZLEXCOUNT", "@z", "[a", "+"],
        ["ZLEXCOUNT", "@z", "(e", "+"],
        ["ZLEXCOUNT", "@z", "a", "+"],
        ["ZLEXCOUNT", "@z", "[a", "+x"],
        ["ZLEXCOUNT", "@z", "", "+"],
        ["ZLEXCOUNT", "@z", "[", "+"],
        ["ZLEXCOUNT", "@z", "(", "(a"],
        ["ZLEXCOUNT", "@nosuch", "-", "+"],
        ["ZLEXCOUNT", "@nosuch", "x", "+"],
    ],
    "zrange_rank": [
        ["ZADD", "@z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"],
        ["ZRANGE", "@z", "0", "-1"],
        ["ZRANGE", "@z", "0", "-1", "WITHSCORES"],
        ["ZRANGE", "@z", "1", "3", "withscores"],
        ["ZRANGE", "@z", "-2", "-1"],
        ["ZRANGE", "@z", "-100", "100"],
        ["ZRANGE", "@z", "3", "1"],
        ["ZRANGE", "@z", "5", "10"],
        ["ZRANGE", "@z", "0", "-1", "REV"],
        ["ZRANGE", "@z", "0", "1", "REV", "WITHSCORES"],
        ["ZRANGE", "@z", "0", "-1", "LIMIT", "0", "1"],
        ["ZRANGE", "@z", "0", "-1", "REV", "REV"],
        ["ZRANGE", "@z", "x", "1"],
        ["ZRANGE", "@z", "0", "1", "FOO"],
        ["ZRANGE", "@z", "0", "1", "LIMIT", "0"],
        ["ZRANGE", "@nosuch", "0", "-1"],
        ["ZRANGE", "@nosuch", "0", "-1", "WITHSCORES"],
        ["ZRANGE", "@z", "0"],
        ["ZREVRANGE", "@z", "0", "-1"],
        ["ZREVRANGE", "@z", "0", "2", "WITHSCORES"],
        ["ZREVRANGE", "@z", "0", "2", "REV"],
        ["ZREVRANGE", "@z", "0", "2", "BYSCORE"],
        ["ZREVRANGE", "@z", "-1", "-1"],
        ["ZREVRANGE", "@nosuch", "0", "-1"],
    ],
    "zrange_score": [
        ["ZADD", "@z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
         "-inf", "ninf", "inf", "pinf"],
        ["ZRANGE", "@z", "-inf", "+inf", "BYSCORE"],
        ["ZRANGE", "@z", "2", "4", "BYSCORE", "WITHSCORES"],
        ["ZRANGE", "@z", "(2", "(4", "BYSCORE"],
        ["ZRANGE", "@z", "4", "2", "BYSCORE", "REV"],
        ["ZRANGE", "@z", "(4", "2", "BYSCORE", "REV", "WITHSCORES"],
        ["ZRANGE", "@z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "2"],
        ["ZRANGE", "@z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "-1"],
        ["ZRANGE", "@z", "-inf", "+inf", "BYSCORE", "LIMIT", "-1", "2"],
        ["ZRANGE", "@z", "-inf", "+inf", "BYSCORE", "LIMIT", "100", "2"],
        ["ZRANGE", "@z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "0"],
        ["ZRANGE", "@z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "2", "3"],
        ["ZRANGE", "@z", "x", "1", "BYSCORE"],
        ["ZRANGE", "@z", "1", "2", "BYSCORE", "BYLEX"],
        ["ZRANGEBYSCORE", "@z", "-inf", "+inf"],
        ["ZRANGEBYSCORE", "@z", "-inf", "+inf", "WITHSCORES"],
        ["ZRANGEBYSCORE", "@z", "1", "3", "LIMIT", "0", "2", "WITHSCORES"],
        ["ZRANGEBYSCORE", "@z", "1", "3", "REV"],
        ["ZRANGEBYSCORE", "@z", "1", "3", "LIMIT", "x", "2"],
        ["ZRANGEBYSCORE", "@z", "1", "3", "LIMIT", "0"],
        ["ZRANGEBYSCORE", "@z", "3", "1"],
        ["ZRANGEBYSCORE", "@z", "(1", "(1"],
        ["ZRANGEBYSCORE", "@z", "1.5", "3.5"],
        ["ZRANGEBYSCORE", "@z", "1", "x"],
        ["ZRANGEBYSCORE", "@nosuch", "1", "x"],
        ["ZRANGEBYSCORE", "@nosuch", "1", "2"],
        ["ZREVRANGEBYSCORE", "@z", "+inf", "-inf"],
        ["ZREVRANGEBYSCORE", "@z", "3", "1", "WITHSCORES"],
        ["ZREVRANGEBYSCORE", "@z", "(3", "(1"],
        ["ZREVRANGEBYSCORE", "@z", "1", "3"],
        ["ZREVRANGEBYSCORE", "@z", "+inf", "-inf", "LIMIT", "1", "2"],
        ["ZREVRANGEBYSCORE", "@z", "x", "1"],
    ],
    "zrange_lex": [
        ["ZADD", "@z", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e",
         "0", "aa", "0", ""],
        ["ZRANGE", "@z", "-", "+", "BYLEX"],
        ["ZRANGE", "@z", "[b", "(d", "BYLEX"],
        ["ZRANGE", "@z", "(d", "[b", "BYLEX", "REV"],
        ["ZRANGE", "@z", "+", "-", "BYLEX", "REV", "LIMIT", "1", "3"],
        ["ZRANGE", "@z", "-", "+", "BYLEX", "WITHSCORES"],
        ["ZRANGE", "@z", "-", "+", "BYLEX", "LIMIT", "2", "2"],
        ["ZRANGE", "@z", "a", "+", "BYLEX"],
        ["ZRANGEBYLEX", "@z", "-", "+"],
        ["ZRANGEBYLEX", "@z", "[a", "[b"],
        ["ZRANGEBYLEX", "@z", "(a", "[b"],
        ["ZRANGEBYLEX", "@z", "[", "[a"],
        ["ZRANGEBYLEX", "@z", "(", "[a"],
        ["ZRANGEBYLEX", "@z", "-", "+", "LIMIT", "0", "3"],
        ["ZRANGEBYLEX", "@z", "-", "+", "WITHSCORES"],
        ["ZRANGEBYLEX", "@z", "+", "-"],
        ["ZRANGEBYLEX", "@z", "x", "+"],
        ["ZRANGEBYLEX", "@z", "-", "++"],
        ["ZRANGEBYLEX", "@nosuch", "-", "+"],
        ["ZRANGEBYLEX", "@nosuch", "x", "+"],
        ["ZREVRANGEBYLEX", "@z", "+", "-"],
        ["ZREVRANGEBYLEX", "@z", "[d", "(a"],
        ["ZREVRANGEBYLEX", "@z", "-", "+"],
        ["ZREVRANGEBYLEX", "@z", "+", "-", "LIMIT", "1", "2"],
        ["ZREVRANGEBYLEX", "@z", "+", "x"],
    ],
    "zrangestore": [
        ["ZADD", "@src", "1", "a", "2", "b", "3", "c", "4", "d"],
        ["ZRANGESTORE", "@dst", "@src", "0", "-1"],
        ["ZRANGE", "@dst", "0", "-1", "WITHSCORES"],
        ["ZRANGESTORE", "@dst", "@src", "1", "2", "REV"],
        ["ZRANGE", "@dst", "0", "-1", "WITHSCORES"],
        ["ZRANGESTORE", "@dst", "@src", "(1", "3", "BYSCORE"],
        ["ZRANGE", "@dst", "0", "-1", "WITHSCORES"],
        ["ZRANGESTORE", "@dst", "@src", "[b", "+", "BYLEX", "LIMIT", "0", "1"],
        ["ZRANGE", "@dst", "0", "-1", "WITHSCORES"],
        ["ZRANGESTORE", "@dst", "@src", "0", "-1", "WITHSCORES"],
        ["ZRANGESTORE", "@dst", "@src", "5", "10"],
        ["EXISTS", "@dst"],
        ["ZRANGESTORE", "@dst", "@nosuch", "0", "-1"],
        ["SET", "@str", "x"],
        ["ZRANGESTORE", "@dst", "@str", "0", "-1"],
        ["ZRANGESTORE", "@str", "@src", "0", "-1"],
        ["TYPE", "@str"],
        ["OBJECT", "ENCODING", "@str"],
        ["ZRANGESTORE", "@dst", "@src", "0"],
        ["ZRANGESTORE", "@dst", "@src", "x", "1"],
    ],
    "zremrange": [
        ["ZADD", "@z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"],
        ["ZREMRANGEBYRANK", "@z", "0", "0"],
        ["ZREMRANGEBYRANK", "@z", "-1", "-1"],
        ["ZREMRANGEBYRANK", "@z", "5", "10"],
        ["ZREMRANGEBYRANK", "@z", "2", "1"],
        ["ZREMRANGEBYRANK", "@z", "x", "1"],
        ["ZRANGE", "@z", "0", "-1"],
        ["ZREMRANGEBYSCORE", "@z", "(2", "3"],
        ["ZREMRANGEBYSCORE", "@z", "x", "3"],
        ["ZREMRANGEBYSCORE", "@z", "10", "30"],
        ["ZRANGE", "@z", "0", "-1"],
        ["ZADD", "@z", "0", "x", "0", "y", "0", "z"],
        ["ZREMRANGEBYLEX", "@z", "[x", "(z"],
        ["ZREMRANGEBYLEX", "@z", "x", "(z"],
        ["ZRANGE", "@z", "0", "-1", "WITHSCORES"],
        ["ZREMRANGEBYRANK", "@z", "0", "-1"],
        ["EXISTS", "@z"],
        ["ZREMRANGEBYRANK", "@nosuch", "0", "-1"],
        ["ZREMRANGEBYSCORE", "@nosuch", "-inf", "+inf"],
        ["ZREMRANGEBYLEX", "@nosuch", "-", "+"],
        ["ZREMRANGEBYLEX", "@nosuch", "x", "+"],
        ["ZADD", "@z", "1", "a"],
        ["ZREMRANGEBYSCORE", "@z", "-inf", "+inf"],
        ["EXISTS", "@z"],
        ["ZREMRANGEBYRANK", "@z", "0"],
    ],
    "zpop": [
        ["ZADD", "@z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"],
        ["ZPOPMIN", "@z"],
        ["ZPOPMAX", "@z"],
        ["ZPOPMIN", "@z", "2"],
        ["ZPOPMAX", "@z", "0"],
        ["ZPOPMAX", "@z", "-1"],
        ["ZPOPMAX", "@z", "x"],
        ["ZPOPMAX", "@z", "1", "2"],
        ["ZPOPMAX", "@z", "10"],
        ["EXISTS", "@z"],
        ["ZPOPMIN", "@nosuch"],
        ["ZPOPMIN", "@nosuch", "3"],
        ["ZPOPMIN", "@nosuch", "0"],
        ["ZADD", "@z", "1", "a"],
        ["ZPOPMIN", "@z", "1"],
        ["ZPOPMIN"],
    ],
    "zmpop": [
        ["ZADD", "@z1", "1", "a", "2", "b", "3", "c"],
        ["ZADD", "@z2", "10", "x", "20", "y"],
        ["ZMPOP", "2", "@nosuch", "@z1", "MIN"],
        ["ZMPOP", "2", "@nosuch", "@z1", "MAX", "COUNT", "10"],
        ["ZMPOP", "2", "@z1", "@z2", "min", "count", "1"],
        ["ZMPOP", "1", "@nosuch", "MIN"],
        ["ZMPOP", "0", "@z2", "MIN"],
        ["ZMPOP", "-1", "@z2", "MIN"],
        ["ZMPOP", "x", "@z2", "MIN"],
        ["ZMPOP", "3", "@z2", "MIN"],
        ["ZMPOP", "1", "@z2", "MIDDLE"],
        ["ZMPOP", "1", "@z2", "MIN", "COUNT", "0"],
        ["ZMPOP", "1", "@z2", "MIN", "COUNT", "-1"],
        ["ZMPOP", "1", "@z2", "MIN", "COUNT"],
        ["ZMPOP", "1", "@z2", "MIN", "COUNT", "1", "COUNT", "1"],
        ["ZMPOP", "1", "@z2", "MIN", "FOO"],
        ["ZMPOP", "1", "@z2", "MAX"],
        ["ZMPOP", "1", "@z2", "MAX"],
        ["EXISTS", "@z2"],
        ["SET", "@s", "x"],
        ["ZMPOP", "2", "@s", "@z1", "MIN"],
        ["ZMPOP", "2", "@nosuch", "@s", "MIN"],
        ["ZMPOP", "1"],
    ],
    "zsetops": [
        ["ZADD", "@a", "1", "x", "2", "y", "3", "z"],
        ["ZADD", "@b", "10", "y", "20", "z", "30", "w"],
        ["ZADD", "@c", "5", "z"],
        ["ZUNION", "2", "@a", "@b"],
        ["ZUNION", "2", "@a", "@b", "WITHSCORES"],
        ["ZUNION", "2", "@a", "@b", "WEIGHTS", "2", "0.5", "WITHSCORES"],
        ["ZUNION", "2", "@a", "@b", "AGGREGATE", "MIN", "WITHSCORES"],
        ["ZUNION", "2", "@a", "@b", "AGGREGATE", "max", "WITHSCORES"],
        ["ZUNION", "2", "@a", "@b", "AGGREGATE", "avg"],
        ["ZUNION", "2", "@a", "@b", "WEIGHTS", "1"],
        ["ZUNION", "2", "@a", "@b", "WEIGHTS", "1", "x"],
        ["ZUNION", "3", "@a", "@b", "@nosuch", "WITHSCORES"],
        ["ZUNION", "0", "@a"],
        ["ZUNION", "-1", "@a"],
        ["ZUNION", "x", "@a"],
        ["ZUNION", "3", "@a", "@b"],
        ["ZUNION", "1", "@a", "FOO"],
        ["ZINTER", "2", "@a", "@b", "WITHSCORES"],
        ["ZINTER", "3", "@a", "@b", "@c", "WITHSCORES"],
        ["ZINTER", "2", "@a", "@nosuch"],
        ["ZINTER", "2", "@a", "@a", "WITHSCORES"],
        ["ZINTER", "2", "@a", "@b", "WEIGHTS", "2", "3", "AGGREGATE", "MAX",
         "WITHSCORES"],
        ["ZDIFF", "2", "@a", "@b"],
        ["ZDIFF", "2", "@a", "@b", "WITHSCORES"],
        ["ZDIFF", "2", "@b", "@a", "WITHSCORES"],
        ["ZDIFF", "1", "@a", "WITHSCORES"],
        ["ZDIFF", "2", "@a", "@a"],
        ["ZDIFF", "2", "@a", "@b", "WEIGHTS", "1", "2"],
        ["ZDIFF", "2", "@a", "@b", "AGGREGATE", "SUM"],
        ["ZDIFF", "2", "@nosuch", "@b"],
        ["ZINTERCARD", "2", "@a", "@b"],
        ["ZINTERCARD", "2", "@a", "@b", "LIMIT", "1"],
        ["ZINTERCARD", "2", "@a", "@b", "LIMIT", "0"],
        ["ZINTERCARD", "2", "@a", "@b", "LIMIT", "-1"],
        ["ZINTERCARD", "2", "@a", "@b", "WITHSCORES"],
        ["ZINTERCARD", "0", "@a"],
        ["ZINTERCARD", "3", "@a", "@b"],
        ["ZUNIONSTORE", "@d", "2", "@a", "@b"],
        ["ZRANGE", "@d", "0", "-1", "WITHSCORES"],
        ["ZUNIONSTORE", "@d", "2", "@a", "@b", "WITHSCORES"],
        ["ZINTERSTORE", "@d", "2", "@a", "@b", "AGGREGATE", "MIN"],
        ["ZRANGE", "@d", "0", "-1", "WITHSCORES"],
        ["ZDIFFSTORE", "@d", "2", "@a", "@b"],
        ["ZRANGE", "@d", "0", "-1", "WITHSCORES"],
        ["ZINTERSTORE", "@d", "2", "@a", "@nosuch"],
        ["EXISTS", "@d"],
        ["ZUNIONSTORE", "@d", "0", "@a"],
        ["ZUNIONSTORE", "@d", "1"],
        ["SET", "@s", "x"],
        ["ZUNION", "2", "@a", "@s"],
        ["ZUNIONSTORE", "@s", "1", "@a"],
        ["TYPE", "@s"],
        ["ZADD", "@inf", "inf", "x", "-inf", "y"],
        ["ZUNION", "2", "@inf", "@inf", "WEIGHTS", "1", "-1", "WITHSCORES"],
        ["ZUNION", "1", "@inf", "WEIGHTS", "0", "WITHSCORES"],
        ["ZINTER", "2", "@inf", "@a", "WITHSCORES"],
    ],
    # The same lookups on a listpack set (searched in place) and a skiplist one: integer-like
    # members, equal scores ordered by member, float and infinite scores.
    "lookups_both_encodings": [
        ["ZADD", "@l", "3", "10", "3", "-3", "-1.5", "1.5", "0", "abc", "3", "ab", "1e300", "big", "-inf", "low", "2.5", "7"],
        ["ZADD", "@k"] + [x for i in range(200) for x in (str(i), "m%d" % i)],
        ["ZADD", "@k", "3", "10", "3", "-3", "-1.5", "1.5", "0", "abc", "3", "ab", "1e300", "big", "-inf", "low", "2.5", "7"],
        ["OBJECT", "ENCODING", "@l"],
        ["OBJECT", "ENCODING", "@k"],
    ] + [[cmd, key, m] for key in ("@l", "@k")
         for m in ("10", "-3", "1.5", "abc", "ab", "big", "low", "7", "m5", "nosuch", "")
         for cmd in ("ZSCORE", "ZRANK", "ZREVRANK")] + [
        ["ZMSCORE", "@l", "10", "nosuch", "low", "big"],
        ["ZMSCORE", "@k", "10", "nosuch", "low", "big", "m199"],
    ] + [cmd for key in ("@l", "@k") for cmd in (
        ["ZRANGE", key, "0", "-1", "WITHSCORES"],
        ["ZRANGE", key, "-3", "-1", "REV", "WITHSCORES"],
        ["ZRANGE", key, "2", "4"],
        ["ZRANGE", key, "5", "2"],
        ["ZRANGE", key, "100", "200"],
        ["ZREVRANGE", key, "0", "2", "WITHSCORES"],
        ["ZRANGEBYSCORE", key, "1", "3", "WITHSCORES"],
        ["ZRANGEBYSCORE", key, "(0", "3", "WITHSCORES", "LIMIT", "1", "2"],
        ["ZRANGEBYSCORE", key, "-inf", "+inf", "LIMIT", "2", "-1"],
        ["ZRANGEBYSCORE", key, "3", "3"],
        ["ZRANGEBYSCORE", key, "(3", "3"],
        ["ZRANGEBYSCORE", key, "5", "1"],
        ["ZRANGEBYSCORE", key, "-inf", "-inf", "WITHSCORES"],
        ["ZRANGEBYSCORE", key, "1e299", "+inf", "WITHSCORES"],
        ["ZREVRANGEBYSCORE", key, "3", "(0", "WITHSCORES"],
        ["ZREVRANGEBYSCORE", key, "+inf", "-inf", "LIMIT", "1", "3"],
        ["ZREVRANGEBYSCORE", key, "(3", "-inf"],
        ["ZRANGE", key, "(1", "3", "BYSCORE", "REV"],
        ["ZRANGE", key, "3", "(1", "BYSCORE", "REV", "LIMIT", "0", "2", "WITHSCORES"],
        ["ZRANGEBYSCORE", key, "0", "10", "LIMIT", "-1", "5"],
        ["ZCOUNT", key, "-inf", "+inf"],
        ["ZCOUNT", key, "3", "3"],
        ["ZCOUNT", key, "(3", "3"],
        ["ZCOUNT", key, "(0", "(3"],
        ["ZCOUNT", key, "5", "1"],
        ["ZRANGESTORE", "@dst", key, "1", "3", "BYSCORE", "LIMIT", "1", "10"],
        ["ZRANGE", "@dst", "0", "-1", "WITHSCORES"],
        ["ZRANGESTORE", "@dst", key, "0", "-1"],
        ["ZCARD", "@dst"],
        ["ZRANGESTORE", "@dst", key, "10", "5", "BYSCORE"],
        ["EXISTS", "@dst"],
    )] + [
        ["ZREM", "@l", "10", "nosuch", "ab", "10"],
        ["ZRANGE", "@l", "0", "-1", "WITHSCORES"],
        ["ZREM", "@k", "10", "nosuch", "m7", "10"],
        ["ZCARD", "@k"],
        ["ZREM", "@l", "low", "1.5", "abc", "7", "-3", "big"],
        ["EXISTS", "@l"],
        ["ZREM", "@l", "x"],
    ],
    # Lex ranges, removals and pops read or change a small set's listpack in
    # place and a big one's skiplist: both must answer as Redis does.
    "lex_pop_remove_both_encodings": [
        ["ZADD", "@l", "0", "a", "0", "b", "0", "c", "0", "aa", "0", "", "0", "1",
         "0", "10", "0", "2", "0", "-5", "0", "b\xff"],
        ["ZADD", "@k"] + [x for i in range(200) for x in ("0", "n%03d" % i)],
        ["ZADD", "@k", "0", "a", "0", "b", "0", "c", "0", "aa", "0", "", "0", "1",
         "0", "10", "0", "2", "0", "-5", "0", "b\xff"],
        ["ZADD", "@m", "1", "d", "2", "a", "3", "c", "4", "b", "5", "e"],
        ["OBJECT", "ENCODING", "@l"],
        ["OBJECT", "ENCODING", "@k"],
    ] + [cmd for key in ("@l", "@k") for cmd in (
        ["ZRANGEBYLEX", key, "-", "(a"],
        ["ZRANGEBYLEX", key, "[1", "[2"],
        ["ZRANGEBYLEX", key, "(1", "(2"],
        ["ZRANGEBYLEX", key, "[a", "[b\xff"],
        ["ZRANGEBYLEX", key, "[b", "+", "LIMIT", "1", "2"],
        ["ZRANGEBYLEX", key, "-", "+", "LIMIT", "3", "-1"],
        ["ZRANGEBYLEX", key, "[c", "[a"],
        ["ZRANGEBYLEX", key, "[a", "(a"],
        ["ZRANGEBYLEX", key, "[zz", "+"],
        ["ZRANGEBYLEX", key, "-", "[", "WITHSCORES"],
        ["ZREVRANGEBYLEX", key, "[c", "[a", "WITHSCORES"],
        ["ZREVRANGEBYLEX", key, "(b", "-", "LIMIT", "0", "3"],
        ["ZREVRANGEBYLEX", key, "+", "(n1", "LIMIT", "2", "2"],
        ["ZRANGE", key, "[b", "-", "BYLEX", "REV", "LIMIT", "0", "4"],
        ["ZLEXCOUNT", key, "-", "+"],
        ["ZLEXCOUNT", key, "[1", "(a"],
        ["ZLEXCOUNT", key, "(aa", "[b"],
        ["ZLEXCOUNT", key, "[b", "[a"],
        ["ZRANGESTORE", "@dst", key, "[a", "[c", "BYLEX"],
        ["ZRANGE", "@dst", "0", "-1", "WITHSCORES"],
    )] + [
        ["ZRANGEBYLEX", "@m", "[a", "[c"],
        ["ZRANGEBYLEX", "@m", "-", "[c"],
        ["ZREVRANGEBYLEX", "@m", "[d", "[b"],
        ["ZLEXCOUNT", "@m", "[b", "[d"],
    ] + [cmd for key in ("@l", "@k") for cmd in (
        ["ZREMRANGEBYLEX", key, "[1", "(2"],
        ["ZREMRANGEBYLEX", key, "[zz", "+"],
        ["ZREMRANGEBYRANK", key, "-3", "-2"],
        ["ZREMRANGEBYRANK", key, "0", "0"],
        ["ZREMRANGEBYSCORE", key, "(0", "+inf"],
        ["ZADD", key, "1.5", "x", "2", "y", "-1", "z", "inf", "w"],
        ["ZREMRANGEBYSCORE", key, "(1", "(2"],
        ["ZPOPMIN", key],
        ["ZPOPMAX", key, "2"],
        ["ZMPOP", "1", key, "MIN", "COUNT", "2"],
        ["ZRANGE", key, "0", "9", "WITHSCORES"],
        ["ZCARD", key],
        ["ZSCAN", "@l", "0"],
        ["ZREMRANGEBYLEX", key, "-", "+"],
        ["ZCARD", key],
        ["EXISTS", key],
    )] + [
        ["ZADD", "@s", "1.5", "7", "2", "-8", "3e10", "a", "-inf", "b", "0.1", "12345678901234567890"],
        ["ZSCAN", "@s", "0"],
        ["ZPOPMAX", "@s", "100"],
        ["EXISTS", "@s"],
    ],
    "zsetops_with_sets": [
        ["SADD", "@s", "x", "y", "q"],
        ["SADD", "@i", "1", "2", "3"],
        ["ZADD", "@a", "1", "x", "2", "y", "3", "1"],
        ["ZUNION", "2", "@a", "@s", "WITHSCORES"],
        ["ZINTER", "2", "@a", "@s", "WITHSCORES"],
        ["ZINTER", "2", "@a", "@i", "WEIGHTS", "1", "5", "WITHSCORES"],
        ["ZDIFF", "2", "@a", "@s", "WITHSCORES"],
        ["ZDIFF", "1", "@s", "WITHSCORES"],
        ["ZUNIONSTORE", "@d", "2", "@s", "@i"],
        ["ZRANGE", "@d", "0", "-1", "WITHSCORES"],
        ["ZINTERCARD", "2", "@a", "@s"],
        ["SADD", "@h"] + ["h%d" % i for i in range(200)] + ["x"],
        ["OBJECT", "ENCODING", "@h"],
        ["ZINTER", "2", "@a", "@h", "WITHSCORES"],
        ["ZINTERCARD", "2", "@h", "@a"],
        ["ZUNIONSTORE", "@d2", "3", "@a", "@h", "@s", "WEIGHTS", "1", "2", "3"],
        ["ZCARD", "@d2"],
        ["ZRANGE", "@d2", "0", "5", "WITHSCORES"],
        ["ZDIFF", "2", "@h", "@a"],
    ],
    "wrongtype": [
        ["SET", "@s", "x"],
        ["ZADD", "@s", "1", "a"],
        ["ZINCRBY", "@s", "1", "a"],
        ["ZREM", "@s", "a"],
        ["ZCARD", "@s"],
        ["ZSCORE", "@s", "a"],
        ["ZMSCORE", "@s", "a"],
        ["ZRANK", "@s", "a"],
        ["ZREVRANK", "@s", "a"],
        ["ZCOUNT", "@s", "0", "1"],
        ["ZLEXCOUNT", "@s", "-", "+"],
        ["ZRANGE", "@s", "0", "1"],
        ["ZRANGEBYSCORE", "@s", "0", "1"],
        ["ZRANGEBYLEX", "@s", "-", "+"],
        ["ZREVRANGE", "@s", "0", "1"],
        ["ZREMRANGEBYRANK", "@s", "0", "1"],
        ["ZREMRANGEBYSCORE", "@s", "0", "1"],
        ["ZREMRANGEBYLEX", "@s", "-", "+"],
        ["ZPOPMIN", "@s"],
        ["ZPOPMAX", "@s", "2"],
        ["ZRANDMEMBER", "@s"],
        ["ZRANDMEMBER", "@s", "2"],
        ["ZSCAN", "@s", "0"],
        ["ZADD", "@s", "x", "a"],
        ["ZCOUNT", "@s", "x", "1"],
    ],
    "encoding": [
        ["CONFIG", "SET", "zset-max-listpack-entries", "4"],
        ["CONFIG", "SET", "zset-max-listpack-value", "64"],
        ["ZADD", "@z", "1", "a", "2", "b", "3", "c", "4", "d"],
        ["OBJECT", "ENCODING", "@z"],
        ["ZADD", "@z", "5", "e"],
        ["OBJECT", "ENCODING", "@z"],
        ["ZREM", "@z", "a", "b", "c"],
        ["OBJECT", "ENCODING", "@z"],
        ["ZADD", "@v", "1", LONG_64],
        ["OBJECT", "ENCODING", "@v"],
        ["ZADD", "@v", "1", LONG_65],
        ["OBJECT", "ENCODING", "@v"],
        ["ZADD", "@w", "1", LONG_65],
        ["OBJECT", "ENCODING", "@w"],
        ["ZADD", "@big", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"],
        ["OBJECT", "ENCODING", "@big"],
        ["ZRANGESTORE", "@rs", "@big", "0", "2"],
        ["OBJECT", "ENCODING", "@rs"],
        ["ZRANGESTORE", "@rs", "@big", "0", "-1"],
        ["OBJECT", "ENCODING", "@rs"],
        ["ZUNIONSTORE", "@us", "1", "@big"],
        ["OBJECT", "ENCODING", "@us"],
        ["ZINTERSTORE", "@us", "2", "@big", "@z"],
        ["OBJECT", "ENCODING", "@us"],
        ["ZUNIONSTORE", "@us", "1", "@w"],
        ["OBJECT", "ENCODING", "@us"],
        ["ZADD", "@m", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"],
        ["OBJECT", "ENCODING", "@m"],
        ["ZADD", "@lv", "1", LONG_65, "2", "a"],
        ["OBJECT", "ENCODING", "@lv"],
        ["ZINCRBY", "@inc", "1", "a"],
        ["ZINCRBY", "@inc", "1", LONG_65],
        ["OBJECT", "ENCODING", "@inc"],
        ["ZRANGESTORE", "@rs2", "@big", "0", "3"],
        ["OBJECT", "ENCODING", "@rs2"],
        ["ZUNIONSTORE", "@us3", "2", "@big", "@z"],
        ["OBJECT", "ENCODING", "@us3"],
        ["ZADD", "@nz", "1", "a", "2", "b", "3", "c", "-0", "d"],
        ["ZSCORE", "@nz", "d"],
        ["ZADD", "@nz", "-0", "e"],
        ["ZSCORE", "@nz", "e"],
        ["ZRANGE", "@nz", "0", "-1", "WITHSCORES"],
        ["COPY", "@big", "@bigcopy"],
        ["OBJECT", "ENCODING", "@bigcopy"],
        ["ZRANGE", "@bigcopy", "0", "-1", "WITHSCORES"],
        ["COPY", "@rs2", "@rs2copy"],
        ["OBJECT", "ENCODING", "@rs2copy"],
        ["ZRANGE", "@rs2copy", "0", "-1", "WITHSCORES"],
        ["ZADD", "@ints", "4611686018427387904", "a", "4611686018427387905", "b",
         "-4611686018427387904", "c", "0.5", "e"],
        ["ZSCAN", "@ints", "0"],
        ["ZRANGE", "@ints", "0", "-1", "WITHSCORES"],
        ["CONFIG", "SET", "zset-max-listpack-entries", "0"],
        ["ZADD", "@zero", "1", "a"],
        ["OBJECT", "ENCODING", "@zero"],
        ["ZUNIONSTORE", "@us2", "1", "@zero"],
        ["OBJECT", "ENCODING", "@us2"],
        ["CONFIG", "SET", "zset-max-listpack-entries", "128"],
        ["CONFIG", "SET", "zset-max-listpack-value", "64"],
    ],
    "zscan_small": [
        ["ZADD", "@z", "1", "a", "2.5", "b", "0.1", "c", "-inf", "d",
         "1e20", "e", "1e-5", "f"],
        ["ZSCAN", "@z", "0"],
        ["ZSCAN", "@z", "0", "MATCH", "a*"],
        ["ZSCAN", "@z", "0", "COUNT", "1"],
        ["ZSCAN", "@z", "0", "COUNT", "0"],
        ["ZSCAN", "@z", "0", "COUNT", "x"],
        ["ZSCAN", "@z", "0", "FOO"],
        ["ZSCAN", "@z", "0", "MATCH"],
        ["ZSCAN", "@z", "0", "TYPE", "zset"],
        ["ZSCAN", "@z", "x"],
        ["ZSCAN", "@z", "-1"],
        ["ZSCAN", "@nosuch", "0"],
        ["ZSCAN", "@nosuch", "x"],
    ],
    "zrandmember_deterministic": [
        ["ZADD", "@z", "1", "a", "2", "b", "3", "c"],
        ["ZRANDMEMBER", "@z", "0"],
        ["ZRANDMEMBER", "@z", "3"],
        ["ZRANDMEMBER", "@z", "10", "WITHSCORES"],
        ["ZRANDMEMBER", "@z", "5", "withscores"],
        ["ZRANDMEMBER", "@z", "x"],
        ["ZRANDMEMBER", "@z", "1", "FOO"],
        ["ZRANDMEMBER", "@z", "1", "WITHSCORES", "x"],
        ["ZRANDMEMBER", "@z", "-9223372036854775808"],
        ["ZRANDMEMBER", "@z", "-9223372036854775807", "WITHSCORES"],
        ["ZRANDMEMBER", "@z", "9223372036854775807", "WITHSCORES"],
        ["ZRANDMEMBER", "@nosuch"],
        ["ZRANDMEMBER", "@nosuch", "5"],
        ["ZRANDMEMBER", "@nosuch", "-5", "WITHSCORES"],
        ["ZADD", "@one", "7", "only"],
        ["ZRANDMEMBER", "@one"],
        ["ZRANDMEMBER", "@one", "-3"],
        ["ZRANDMEMBER", "@one", "-2", "WITHSCORES"],
        ["ZRANDMEMBER", "@one", "1", "WITHSCORES"],
    ],
    "scores_format": [
        ["ZADD", "@z", "3.14159265358979", "pi", "1e100", "g", "-1e-100", "t",
         "123456789012345678", "l", "0.30000000000000004", "f",
         "17", "i", "-0.0", "n", "2.5e-5", "e"],
        ["ZRANGE", "@z", "0", "-1", "WITHSCORES"],
        ["ZSCORE", "@z", "pi"],
        ["ZSCORE", "@z", "l"],
        ["ZMSCORE", "@z", "g", "t", "n"],
        ["ZINCRBY", "@z", "0.1", "f"],
        ["ZSCAN", "@z", "0"],
        ["ZPOPMAX", "@z"],
        ["ZPOPMIN", "@z", "2"],
    ],
    "arity": [
        ["ZADD", "@z"],
        ["ZINCRBY", "@z", "1"],
        ["ZREM", "@z"],
        ["ZCARD"],
        ["ZCOUNT", "@z", "1"],
        ["ZLEXCOUNT", "@z", "-"],
        ["ZSCORE", "@z"],
        ["ZMSCORE", "@z"],
        ["ZRANK", "@z"],
        ["ZREVRANK", "@z", "a", "b"],
        ["ZRANGE", "@z", "0"],
        ["ZRANGESTORE", "@d", "@z", "0"],
        ["ZREVRANGE", "@z", "0"],
        ["ZRANGEBYSCORE", "@z", "0"],
        ["ZREVRANGEBYSCORE", "@z", "0"],
        ["ZRANGEBYLEX", "@z", "-"],
        ["ZREVRANGEBYLEX", "@z", "-"],
        ["ZREMRANGEBYRANK", "@z", "0"],
        ["ZREMRANGEBYSCORE", "@z", "0"],
        ["ZREMRANGEBYLEX", "@z", "-"],
        ["ZPOPMIN"],
        ["ZPOPMAX"],
        ["ZMPOP", "1", "@z"],
        ["ZRANDMEMBER"],
        ["ZUNION", "1"],
        ["ZINTER", "1"],
        ["ZDIFF", "1"],
        ["ZUNIONSTORE", "@d", "1"],
        ["ZINTERSTORE", "@d", "1"],
        ["ZDIFFSTORE", "@d", "1"],
        ["ZINTERCARD", "1"],
        ["ZSCAN", "@z"],
        ["BZPOPMIN", "@z"],
        ["BZPOPMAX", "@z"],
        ["BZMPOP", "0", "1", "@z"],
    ],
    "blocking_nonblocking_paths": [
        ["ZADD", "@z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
         "6", "f", "7", "g"],
        ["BZPOPMIN", "@nosuch", "@z", "0"],
        ["BZPOPMAX", "@z", "0"],
        ["BZPOPMIN", "@z", "x"],
        ["BZPOPMIN", "@z", "-1"],
        ["BZMPOP", "0", "1", "@z", "MIN"],
        ["BZMPOP", "0", "2", "@nosuch", "@z", "MAX", "COUNT", "5"],
        ["BZMPOP", "0", "0", "@z", "MIN"],
        ["BZMPOP", "x", "1", "@z", "MIN"],
        ["BZMPOP", "0", "1", "@z", "FOO"],
        ["SET", "@s", "x"],
        ["BZPOPMIN", "@s", "0"],
        ["BZMPOP", "0", "1", "@s", "MIN"],
        ["BZPOPMIN", "@z", "0.5", "extra"],
    ],
    "blocking_in_multi": [
        ["MULTI"],
        ["BZPOPMIN", "@nosuch", "0"],
        ["BZMPOP", "0", "1", "@nosuch", "MIN"],
        ["ZADD", "@z", "1", "a"],
        ["BZPOPMAX", "@z", "0"],
        ["EXEC"],
    ],
}

# Groups that need commands of other modules: skipped while those are
# missing from Redoubt.
GROUP_REQUIRES = {
    "zsetops_with_sets": ["sadd"],
    "blocking_nonblocking_paths": ["bzpopmin"],
    "blocking_in_multi": ["bzpopmin", "multi"],
    "arity": ["bzpopmin"],
}


def compare_group(server, redis_server, name, resp3=False):
    compare_command_group(server, redis_server, GROUPS[name], GROUP_REQUIRES.get(name, []),
                          "zs:%s" % name, resp3, connect=RawConnection)


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_zsets_match_redis_resp2(server, redis_server, group):
    compare_group(server, redis_server, group)


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_zsets_match_redis_resp3(server, redis_server, group):
    compare_group(server, redis_server, group, resp3=True)


def test_case_table_size():
    assert sum(len(v) for v in GROUPS.values()) >= 150


# ---------------------------------------------------------------------------
# Randomised differential run (seeded): many operations on few keys, both
# encodings (small thresholds), replies compared byte for byte.
# ---------------------------------------------------------------------------
RANDOM_COMMANDS_PER_SEED = 600


def random_score(rng):
    r = rng.random()
    if r < 0.05:
        return rng.choice(["inf", "-inf", "+inf"])
    if r < 0.5:
        return str(rng.randint(-20, 20))
    if r < 0.7:
        return "(" + str(rng.randint(-20, 20))
    return repr(round(rng.uniform(-20, 20), rng.randint(0, 4)))


def random_member(rng):
    return rng.choice("abcdefghij") * rng.randint(1, 3)


def random_lex(rng):
    r = rng.random()
    if r < 0.1:
        return "-"
    if r < 0.2:
        return "+"
    return rng.choice("[(") + random_member(rng)


def random_lex_command(rng, k):
    """Lex commands on a key whose members all score 0 (with mixed scores
    Redis's skiplist answers depend on its random node levels)."""
    name = rng.choice(["zadd", "zadd", "zrem", "zrangebylex", "zlexcount",
                       "zremrangebylex", "zrange", "zpop"])
    if name == "zadd":
        args = ["ZADD", k] + [o for o in ["NX", "XX", "CH"] if rng.random() < 0.1]
        for _ in range(rng.randint(1, 5)):
            args += ["0", random_member(rng)]
        return args
    if name == "zrem":
        return ["ZREM", k, random_member(rng), random_member(rng)]
    if name == "zrangebylex":
        args = [rng.choice(["ZRANGEBYLEX", "ZREVRANGEBYLEX"]), k,
                random_lex(rng), random_lex(rng)]
        if rng.random() < 0.4:
            args += ["LIMIT", str(rng.randint(0, 4)), str(rng.randint(-1, 4))]
        return args
    if name == "zlexcount":
        return ["ZLEXCOUNT", k, random_lex(rng), random_lex(rng)]
    if name == "zremrangebylex":
        return ["ZREMRANGEBYLEX", k, random_lex(rng), random_lex(rng)]
    if name == "zrange":
        return ["ZRANGE", k, "0", "-1", "WITHSCORES"]
    return [rng.choice(["ZPOPMIN", "ZPOPMAX"]), k]


def random_command(rng, keys, lexkey):
    if rng.random() < 0.25:
        return random_lex_command(rng, lexkey)
    k = rng.choice(keys)
    name = rng.choice(["zadd", "zadd", "zadd", "zincrby", "zrem", "zrange",
                       "zrangebyscore", "zcount",
                       "zrank", "zrevrank", "zscore", "zremrange", "zpop",
                       "zstore", "zcard", "zmscore", "zrevrange"])
    if name == "zadd":
        opts = [o for o in ["NX", "XX", "GT", "LT", "CH", "INCR"]
                if rng.random() < 0.12]
        pairs = []
        for _ in range(1 if "INCR" in opts else rng.randint(1, 5)):
            pairs += [random_score(rng).lstrip("("), random_member(rng)]
        return ["ZADD", k] + opts + pairs
    if name == "zincrby":
        return ["ZINCRBY", k, random_score(rng).lstrip("("), random_member(rng)]
    if name == "zrem":
        return ["ZREM", k] + [random_member(rng) for _ in range(rng.randint(1, 3))]
    if name == "zrange":
        args = ["ZRANGE", k, str(rng.randint(-8, 8)), str(rng.randint(-8, 8))]
        if rng.random() < 0.3:
            args.append("REV")
        if rng.random() < 0.5:
            args.append("WITHSCORES")
        return args
    if name == "zrevrange":
        return ["ZREVRANGE", k, str(rng.randint(-8, 8)), str(rng.randint(-8, 8)),
                "WITHSCORES"]
    if name == "zrangebyscore":
        args = [rng.choice(["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]), k,
                random_score(rng), random_score(rng)]
        if rng.random() < 0.5:
            args.append("WITHSCORES")
        if rng.random() < 0.4:
            args += ["LIMIT", str(rng.randint(-1, 4)), str(rng.randint(-1, 4))]
        return args
    if name == "zcount":
        return ["ZCOUNT", k, random_score(rng), random_score(rng)]
    if name in ("zrank", "zrevrank", "zscore"):
        return [name.upper(), k, random_member(rng)]
    if name == "zmscore":
        return ["ZMSCORE", k, random_member(rng), random_member(rng)]
    if name == "zremrange":
        kind = rng.choice(["RANK", "SCORE"])
        if kind == "RANK":
            return ["ZREMRANGEBYRANK", k, str(rng.randint(-5, 5)),
                    str(rng.randint(-5, 5))]
        if kind == "SCORE":
            return ["ZREMRANGEBYSCORE", k, random_score(rng), random_score(rng)]
    if name == "zpop":
        args = [rng.choice(["ZPOPMIN", "ZPOPMAX"]), k]
        if rng.random() < 0.5:
            args.append(str(rng.randint(0, 3)))
        return args
    if name == "zstore":
        op = rng.choice(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"])
        srcs = rng.sample(keys, 2)
        args = [op, rng.choice(keys), "2"] + srcs
        if op != "ZDIFFSTORE" and rng.random() < 0.5:
            args += ["WEIGHTS", str(rng.randint(-2, 3)), "1.5"]
        if op != "ZDIFFSTORE" and rng.random() < 0.5:
            args += ["AGGREGATE", rng.choice(["SUM", "MIN", "MAX"])]
        return args
    return ["ZCARD", k]


@pytest.mark.parametrize("seed", list(range(1, 7)))
def test_random_zset_commands_match_redis(server, redis_server, seed):
    rng = random.Random(seed)
    prefix = "zr:%d:%s:" % (seed, uuid.uuid4().hex[:8])
    keys = [prefix + "k%d" % i for i in range(3)]
    lexkey = prefix + "lex"
    ours = RawConnection(server.client())
    theirs = RawConnection(redis_server.client())
    try:
        for conn in (ours, theirs):
            conn.command("CONFIG", "SET", "zset-max-listpack-entries", "6")
            if seed % 2 == 0:
                conn.command("HELLO", "3")
        for _ in range(RANDOM_COMMANDS_PER_SEED):
            cmd = random_command(rng, keys, lexkey)
            g, w = ours.command(*cmd), theirs.command(*cmd)
            assert g == w, "%r\n redoubt: %r\n redis:   %r" % (cmd, g, w)
            if rng.random() < 0.1:
                k = rng.choice(keys + [lexkey])
                g = ours.command("OBJECT", "ENCODING", k)
                w = theirs.command("OBJECT", "ENCODING", k)
                assert g == w, "encoding of %s: %r vs %r" % (k, g, w)
    finally:
        for conn in (ours, theirs):
            conn.command("CONFIG", "SET", "zset-max-listpack-entries", "128")
        ours.close()
        theirs.close()


# ---------------------------------------------------------------------------
# Random and hashtable-order results: shape and content checks
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("size,encoding", [(20, b"listpack"), (200, b"skiplist")])
def test_zrandmember_shapes(server, size, encoding):
    """Random picks come from the set, with their own scores, in the asked
    shapes; integer-like members and non-integral scores on both encodings."""
    conn = RawConnection(server.client())
    key = "rz:%d" % size
    try:
        members = {}
        for i in range(size):
            member = b"%d" % (i * 7) if i % 3 == 0 else b"m%d" % i
            members[member] = i + 0.5 if i % 2 else float(i)
        args = []
        for m, s in members.items():
            args += [repr(s), m.decode()]
        conn.command("ZADD", key, *args)
        assert parse_resp(conn.command("OBJECT", "ENCODING", key)) == encoding
        assert parse_resp(conn.command("ZRANDMEMBER", key)) in members
        picked = parse_resp(conn.command("ZRANDMEMBER", key, "5"))
        assert len(picked) == 5 and len(set(picked)) == 5
        assert set(picked) <= set(members)
        picked = parse_resp(conn.command("ZRANDMEMBER", key, "-50"))
        assert len(picked) == 50 and set(picked) <= set(members)
        flat = parse_resp(conn.command("ZRANDMEMBER", key, "7", "WITHSCORES"))
        assert len(flat) == 14 and len(set(flat[0::2])) == 7
        for m, s in zip(flat[0::2], flat[1::2]):
            assert members[m] == float(s)
        # Every member turns up: a picker stuck on a few would fail this
        # (missing one of 200 in 20,000 picks: ~4e-42).
        seen = set(parse_resp(conn.command("ZRANDMEMBER", key, str(-100 * size))))
        assert seen == set(members)
        seen = set()
        for _ in range(60):
            seen |= set(parse_resp(conn.command("ZRANDMEMBER", key, str(size // 2))))
        assert seen == set(members)
        seen = {parse_resp(conn.command("ZRANDMEMBER", key)) for _ in range(40 * size)}
        assert seen == set(members)
        conn.command("HELLO", "3")
        pairs = parse_resp(conn.command("ZRANDMEMBER", key, "-30", "WITHSCORES"))
        assert len(pairs) == 30
        for m, s in pairs:
            assert members[m] == s
        pairs = parse_resp(conn.command("ZRANDMEMBER", key, str(size - 1), "WITHSCORES"))
        assert len({m for m, _ in pairs}) == size - 1
        for m, s in pairs:
            assert members[m] == s
    finally:
        conn.command("DEL", key)
        conn.close()


def test_zscan_hashtable_visits_all(server):
    conn = RawConnection(server.client())
    try:
        args = []
        for i in range(1000):
            args += [str(i), "e%d" % i]
        conn.command("ZADD", "big", *args)
        assert parse_resp(conn.command("OBJECT", "ENCODING", "big")) == b"skiplist"
        seen = {}
        cursor = b"0"
        for _ in range(10000):
            cursor, items = parse_resp(conn.command("ZSCAN", "big", cursor,
                                                    "COUNT", "37"))
            for m, s in zip(items[0::2], items[1::2]):
                seen[m] = float(s)
            if cursor == b"0":
                break
        assert len(seen) == 1000
        assert all(seen[b"e%d" % i] == i for i in range(1000))
        cursor, items = parse_resp(conn.command("ZSCAN", "big", "0", "MATCH",
                                                "e99*", "COUNT", "5000"))
        assert sorted(items[0::2]) == sorted([b"e99"] + [b"e99%d" % i for i in range(10)])
    finally:
        conn.close()


def test_large_zset_ranks_match_redis(server, redis_server):
    """A few thousand members: skiplist ranks and ranges against Redis."""
    rng = random.Random(7)
    ours = RawConnection(server.client())
    theirs = RawConnection(redis_server.client())
    try:
        args = []
        for i in range(3000):
            args += [str(rng.randint(0, 500)), "m%d" % i]
        cmds = [["ZADD", "L"] + args]
        for _ in range(200):
            m = "m%d" % rng.randint(0, 3100)
            a, b = rng.randint(-3000, 3000), rng.randint(-3000, 3000)
            cmds += [["ZRANK", "L", m], ["ZREVRANK", "L", m],
                     ["ZRANGE", "L", str(a), str(a + 3), "WITHSCORES"],
                     ["ZCOUNT", "L", str(a % 500), "(" + str(b % 500)],
                     ["ZRANGEBYSCORE", "L", str(a % 500), "+inf", "LIMIT", "5", "3"]]
        cmds += [["ZREMRANGEBYRANK", "L", "100", "200"],
                 ["ZREMRANGEBYSCORE", "L", "100", "(150"],
                 ["ZCARD", "L"], ["ZRANGE", "L", "0", "-1", "WITHSCORES"]]
        for cmd in cmds:
            g, w = ours.command(*cmd), theirs.command(*cmd)
            assert g == w, cmd[:6]
    finally:
        ours.close()
        theirs.close()


# ---------------------------------------------------------------------------
# Keyspace events
# ---------------------------------------------------------------------------
NOTIFY_SEQUENCE = [
    ["ZADD", "@z", "1", "a", "2", "b", "3", "c", "4", "d"],
    ["ZADD", "@z", "1", "a"],
    ["ZINCRBY", "@z", "1", "a"],
    ["ZREM", "@z", "a"],
    ["ZREMRANGEBYRANK", "@z", "0", "0"],
    ["ZREMRANGEBYSCORE", "@z", "3", "3"],
    ["ZADD", "@z", "0", "x", "0", "y"],
    ["ZREMRANGEBYLEX", "@z", "[x", "[x"],
    ["ZPOPMIN", "@z"],
    ["ZADD", "@z", "5", "q"],
    ["ZPOPMAX", "@z", "5"],
    ["ZADD", "@a", "1", "a"],
    ["ZUNIONSTORE", "@u", "1", "@a"],
    ["ZINTERSTORE", "@u", "1", "@a"],
    ["ZDIFFSTORE", "@u", "1", "@a"],
    ["ZRANGESTORE", "@r", "@a", "0", "-1"],
    ["ZRANGESTORE", "@r", "@a", "5", "6"],
    ["ZMPOP", "1", "@a", "MIN"],
    ["ZUNIONSTORE", "@u", "1", "@nosuch"],
]


def collect_events(srv, prefix):
    cfg = RawConnection(srv.client())
    sub = RawConnection(srv.client())
    try:
        cfg.command("CONFIG", "SET", "notify-keyspace-events", "KEA")
        sub.command("PSUBSCRIBE", "__key*__:%s*" % prefix)
        for cmd in NOTIFY_SEQUENCE:
            cfg.command(*[prefix + a[1:] if a.startswith("@") else a for a in cmd])
        cfg.command("PUBLISH", "__keyspace@0__:%sEND" % prefix, "end")
        events = []
        while True:
            msg = parse_resp(sub.read_reply())
            events.append((msg[2], msg[3]))
            if msg[3] == b"end":
                break
        return events
    finally:
        cfg.command("CONFIG", "SET", "notify-keyspace-events", "")
        cfg.close()
        sub.close()


def test_keyspace_events_match_redis(server, redis_server):
    conn = RawConnection(server.client())
    try:
        if missing_commands(conn, ["psubscribe", "publish"]):
            pytest.skip("Redoubt lacks pub/sub (another module)")
    finally:
        conn.close()
    prefix = "zev:%s:" % uuid.uuid4().hex[:8]
    assert collect_events(server, prefix) == collect_events(redis_server, prefix)


# ---------------------------------------------------------------------------
# Blocking pops
# ---------------------------------------------------------------------------
def need_blocking(conn):
    if missing_commands(conn, ["bzpopmin"]):
        pytest.skip("BZPOPMIN not available")


def test_bzpopmin_wakes_on_zadd(server, redis_server):
    for srv in (server, redis_server):
        waiter = RawConnection(srv.client())
        writer = RawConnection(srv.client())
        try:
            if srv is server:
                need_blocking(waiter)
            waiter.send("BZPOPMIN", "bz1", "bz2", "5")
            time.sleep(0.2)
            assert writer.command("ZADD", "bz2", "3", "x", "1", "y") == b":2\r\n"
            got = waiter.read_reply()
            assert got == b"*3\r\n$3\r\nbz2\r\n$1\r\ny\r\n$1\r\n1\r\n"
            assert writer.command("ZRANGE", "bz2", "0", "-1") == b"*1\r\n$1\r\nx\r\n"
            writer.command("DEL", "bz2")
        finally:
            waiter.close()
            writer.close()


def test_bzmpop_resp3_and_timeout(server, redis_server):
    results = []
    for srv in (server, redis_server):
        waiter = RawConnection(srv.client())
        writer = RawConnection(srv.client())
        try:
            if srv is server:
                need_blocking(waiter)
            waiter.command("HELLO", "3")
            start = time.time()
            timed_out = waiter.command("BZMPOP", "0.2", "1", "bzm", "MAX")
            assert time.time() - start >= 0.15
            waiter.send("BZMPOP", "5", "2", "bzm0", "bzm", "MAX", "COUNT", "2")
            time.sleep(0.2)
            writer.command("ZADD", "bzm", "1", "a", "2", "b", "3", "c")
            served = waiter.read_reply()
            timed2 = waiter.command("BZPOPMAX", "bzm0", "0.1")
            results.append((timed_out, served, timed2))
            writer.command("DEL", "bzm")
        finally:
            waiter.close()
            writer.close()
    assert results[0] == results[1]


def test_bzpopmax_ignores_wrong_type_until_zset(server):
    waiter = RawConnection(server.client())
    writer = RawConnection(server.client())
    try:
        need_blocking(waiter)
        waiter.send("BZPOPMAX", "bzw", "5")
        time.sleep(0.2)
        writer.command("ZADD", "bzw", "1", "a")
        assert parse_resp(waiter.read_reply()) == [b"bzw", b"a", b"1"]
        assert writer.command("EXISTS", "bzw") == b":0\r\n"
    finally:
        waiter.close()
        writer.close()


# ---------------------------------------------------------------------------
# COMMAND INFO of the commands this module owns
# ---------------------------------------------------------------------------
OWNED_COMMANDS = ["zadd", "zincrby", "zrem", "zcard", "zcount", "zlexcount",
                  "zscore", "zmscore", "zrank", "zrevrank", "zrange",
                  "zrangestore", "zrevrange", "zrangebyscore",
                  "zrevrangebyscore", "zrangebylex", "zrevrangebylex",
                  "zremrangebyrank", "zremrangebyscore", "zremrangebylex",
                  "zpopmin", "zpopmax", "zmpop", "zrandmember", "zunion",
                  "zinter", "zdiff", "zunionstore", "zinterstore",
                  "zdiffstore", "zintercard", "zscan", "bzpopmin",
                  "bzpopmax", "bzmpop"]


def command_info_head(srv, name):
    conn = RawConnection(srv.client())
    try:
        info = parse_resp(conn.command("COMMAND", "INFO", name))[0]
    finally:
        conn.close()
    if info is None:
        return None
    return [info[0], info[1], sorted(info[2]), info[3], info[4], info[5],
            sorted(info[6])]


@pytest.mark.parametrize("name", OWNED_COMMANDS)
def test_command_info_matches_redis(server, redis_server, name):
    ours = command_info_head(server, name)
    if ours is None and name.startswith("bz"):
        pytest.skip("blocking commands not available")
    assert ours == command_info_head(redis_server, name)


@pytest.mark.parametrize("name", OWNED_COMMANDS)
def test_command_getkeys_matches_redis(server, redis_server, name):
    samples = {
        "zunion": ["2", "a", "b", "WITHSCORES"],
        "zinter": ["1", "a"],
        "zdiff": ["2", "a", "b"],
        "zintercard": ["2", "a", "b", "LIMIT", "1"],
        "zunionstore": ["d", "2", "a", "b"],
        "zinterstore": ["d", "1", "a"],
        "zdiffstore": ["d", "2", "a", "b"],
        "zmpop": ["2", "a", "b", "MIN"],
        "bzmpop": ["0", "2", "a", "b", "MIN"],
        "zrangestore": ["d", "s", "0", "1"],
    }
    if name not in samples:
        pytest.skip("fixed key positions are covered by COMMAND INFO")
    conn = RawConnection(server.client())
    ref = RawConnection(redis_server.client())
    try:
        if parse_resp(conn.command("COMMAND", "INFO", name)) == [None]:
            pytest.skip("not available")
        args = ["COMMAND", "GETKEYS", name] + samples[name]
        assert conn.command(*args) == ref.command(*args)
    finally:
        conn.close()
        ref.close()


@pytest.mark.parametrize("name", OWNED_COMMANDS)
def test_command_info_and_docs_bytes_match_redis(server, redis_server, name):
    """Whole COMMAND INFO / COMMAND DOCS entries: key specs, tips, history."""
    for sub in ("INFO", "DOCS"):
        conn = RawConnection(server.client())
        ref = RawConnection(redis_server.client())
        try:
            assert conn.command("COMMAND", sub, name) == \
                ref.command("COMMAND", sub, name), sub
        finally:
            conn.close()
            ref.close()
