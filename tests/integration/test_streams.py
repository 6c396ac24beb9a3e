"""Streams against Redoubt, compared with Debian's redis-server 7.0 byte for byte in RESP2
and RESP3.

  tables            every command and option, error texts and edge cases, replayed on both
                    servers under one key prefix (IDs are explicit, so replies are exact)
  masked tables     replies holding clocks (XPENDING idle, XINFO CONSUMERS idle, XINFO
                    STREAM FULL times) are compared with those numbers masked
  random runs       seeded random operations on small nodes (stream-node-max-entries 1..5):
                    every reply, XINFO STREAM (radix-tree-nodes included) and DUMP (with
                    rdbcompression no) must be equal, so the listpack nodes are byte-identical
  events / WATCH    keyspace notifications and WATCH invalidation, no-op cases included

Blocking and the consumer-group workload are in test_streams_blocking.py, persistence and
replication in test_streams_persist.py.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_streams.py
(REDOUBT_SERVER=/usr/bin/redis-server runs the suite against Redis itself.)
"""

from __future__ import annotations

import random
import time
import uuid

import pytest

from compare import RawConnection, compare_command_group, missing_commands, parse_resp

MAX_ID = "18446744073709551615-18446744073709551615"
BIN = "a\x00b\r\nc\xff"

# ---------------------------------------------------------------------------
# The comparison table ("@" marks a key name)
# ---------------------------------------------------------------------------
GROUPS = {
    "xadd_basic": [
        ["XADD", "@s", "1-1", "f", "v"],
        ["XADD", "@s", "1-2", "f", "v2"],
        ["XADD", "@s", "1-2", "f", "v"],
        ["XADD", "@s", "1-1", "f", "v"],
        ["XADD", "@s", "0-5", "f", "v"],
        ["XADD", "@s", "2", "a", "1", "b", "2"],
        ["XADD", "@s", "2-*", "a", "1", "b", "2"],
        ["XADD", "@s", "2-*", "b", "1", "a", "2"],
        ["XADD", "@s", "5-*", "x", "y"],
        ["XADD", "@s", "4-*", "x", "y"],
        ["XADD", "@s", "7-0", "", ""],
        ["XADD", "@s", "8-0", "n", "123", "m", "-5", "big", "9223372036854775807",
         "z", "007", "neg0", "-0"],
        ["XADD", "@s", "9-0", "bin", BIN],
        ["XADD", "@s", "10-0"] + ["f%d" % i for i in range(40)],
        ["XLEN", "@s"],
        ["XRANGE", "@s", "-", "+"],
        ["XREVRANGE", "@s", "+", "-"],
        ["TYPE", "@s"],
        ["OBJECT", "ENCODING", "@s"],
        ["EXISTS", "@s"],
    ],
    "xadd_ids": [
        ["XADD", "@s", "0-0", "f", "v"],
        ["EXISTS", "@s"],
        ["XADD", "@s", "0", "f", "v"],
        ["XADD", "@s", "0-*", "f", "v"],
        ["XADD", "@s", "0-*", "f", "v"],
        ["XADD", "@s", "abc", "f", "v"],
        ["XADD", "@s", "1-abc", "f", "v"],
        ["XADD", "@s", "-", "f", "v"],
        ["XADD", "@s", "+", "f", "v"],
        ["XADD", "@s", "1-", "f", "v"],
        ["XADD", "@s", "-1", "f", "v"],
        ["XADD", "@s", "1--1", "f", "v"],
        ["XADD", "@s", "1-+2", "f", "v"],
        ["XADD", "@s", "1- 3", "f", "v"],
        ["XADD", "@s", "01-4", "f", "v"],
        ["XADD", "@s", "1-*-", "f", "v"],
        ["XADD", "@s", "*-1", "f", "v"],
        ["XADD", "@s", "1" * 130, "f", "v"],
        ["XADD", "@s", "18446744073709551616-0", "f", "v"],
        ["XADD", "@s", "5-18446744073709551615", "f", "v"],
        ["XADD", "@s", "5-*", "f", "v"],
        ["XADD", "@s", "18446744073709551615-*", "f", "v"],
        ["XADD", "@s", MAX_ID, "f", "v"],
        ["XADD", "@s", "*", "f", "v"],
        ["XADD", "@s", "18446744073709551615-*", "f", "v"],
        ["XLEN", "@s"],
        ["XINFO", "STREAM", "@s"],
    ],
    "xadd_options": [
        ["XADD", "@s", "NOMKSTREAM", "1-1", "f", "v"],
        ["EXISTS", "@s"],
        ["XADD", "@s", "1-1", "f", "v"],
        ["XADD", "@s", "NOMKSTREAM", "2-1", "f", "v"],
        ["XADD", "@s", "MAXLEN", "1", "3-1", "f", "v"],
        ["XLEN", "@s"],
        ["XADD", "@s", "MAXLEN", "=", "2", "4-1", "f", "v"],
        ["XADD", "@s", "MAXLEN", "~", "1", "5-1", "f", "v"],
        ["XADD", "@s", "MAXLEN", "~", "1", "LIMIT", "10", "6-1", "f", "v"],
        ["XADD", "@s", "MINID", "5", "7-1", "f", "v"],
        ["XADD", "@s", "MINID", "=", "6-1", "8-1", "f", "v"],
        ["XADD", "@s", "MINID", "~", "100", "9-1", "f", "v"],
        ["XRANGE", "@s", "-", "+"],
        ["XADD", "@s", "MAXLEN", "-1", "10-1", "f", "v"],
        ["XADD", "@s", "MAXLEN", "abc", "10-1", "f", "v"],
        ["XADD", "@s", "MAXLEN", "1", "MINID", "1", "10-1", "f", "v"],
        ["XADD", "@s", "MINID", "1", "MAXLEN", "1", "10-1", "f", "v"],
        ["XADD", "@s", "MINID", "bad", "10-1", "f", "v"],
        ["XADD", "@s", "MINID", "-", "10-1", "f", "v"],
        ["XADD", "@s", "LIMIT", "5", "10-1", "f", "v"],
        ["XADD", "@s", "MAXLEN", "5", "LIMIT", "5", "10-1", "f", "v"],
        ["XADD", "@s", "MAXLEN", "~", "5", "LIMIT", "-1", "10-1", "f", "v"],
        ["XADD", "@s", "MAXLEN", "~", "5", "LIMIT", "x", "10-1", "f", "v"],
        ["XADD", "@s", "MAXLEN", "~", "5", "LIMIT", "0", "10-1", "f", "v"],
        ["XADD", "@s", "MAXLEN", "=", "10-1", "f", "v"],
        ["XADD", "@s", "MAXLEN", "~", "10-1", "f", "v"],
        ["XADD", "@s", "NOMKSTREAM", "MAXLEN", "2", "11-1", "f", "v"],
        ["XADD", "@s", "maxlen", "2", "nomkstream", "12-1", "f", "v"],
        ["XADD", "@new", "NOMKSTREAM", "MAXLEN", "0", "1-1", "f", "v"],
        ["XADD", "@new", "MAXLEN", "0", "1-1", "f", "v"],
        ["XLEN", "@new"],
        ["EXISTS", "@new"],
        ["XINFO", "STREAM", "@new"],
        ["XADD", "@s", "12-2", "f"],
        ["XADD", "@s", "12-2"],
        ["XADD", "@s", "MAXLEN", "2", "12-2", "f"],
        ["XADD", "@s"],
        ["XADD", "@s", "12-2", "f", "v", "g"],
        ["XADD", "@s", "BOGUS", "f", "v"],
        ["SET", "@str", "x"],
        ["XADD", "@str", "1-1", "f", "v"],
        ["XADD", "@str", "NOMKSTREAM", "1-1", "f", "v"],
        ["XLEN", "@s"],
    ],
    "xrange": [
        ["XADD", "@s", "1-1", "a", "1"],
        ["XADD", "@s", "1-2", "a", "2"],
        ["XADD", "@s", "2-0", "a", "3", "b", "x"],
        ["XADD", "@s", "3-5", "c", "4"],
        ["XADD", "@s", "4-0", "a", "5"],
        ["XRANGE", "@s", "-", "+"],
        ["XRANGE", "@s", "1", "1"],
        ["XRANGE", "@s", "1-2", "3"],
        ["XRANGE", "@s", "(1-1", "+"],
        ["XRANGE", "@s", "-", "(4-0"],
        ["XRANGE", "@s", "(1", "(4"],
        ["XRANGE", "@s", "(1-2", "(2-0"],
        ["XRANGE", "@s", "(" + MAX_ID, "+"],
        ["XRANGE", "@s", "-", "(0-0"],
        ["XRANGE", "@s", "(-", "+"],
        ["XRANGE", "@s", "-", "(+"],
        ["XRANGE", "@s", "(", "+"],
        ["XRANGE", "@s", "((1", "+"],
        ["XRANGE", "@s", "3", "2"],
        ["XRANGE", "@s", "-", "+", "COUNT", "2"],
        ["XRANGE", "@s", "-", "+", "COUNT", "0"],
        ["XRANGE", "@s", "-", "+", "COUNT", "-1"],
        ["XRANGE", "@s", "-", "+", "COUNT", "x"],
        ["XRANGE", "@s", "-", "+", "COUNT"],
        ["XRANGE", "@s", "-", "+", "COUNT", "1", "COUNT", "3"],
        ["XRANGE", "@s", "-", "+", "LIMIT", "1"],
        ["XRANGE", "@s", "x", "+"],
        ["XRANGE", "@s", "-", "y"],
        ["XREVRANGE", "@s", "+", "-"],
        ["XREVRANGE", "@s", "+", "-", "COUNT", "2"],
        ["XREVRANGE", "@s", "(4-0", "(1-1"],
        ["XREVRANGE", "@s", "3", "1"],
        ["XREVRANGE", "@s", "1", "3"],
        ["XREVRANGE", "@s", "0", "-"],
        ["XREVRANGE", "@s", "+", "-", "COUNT", "0"],
        ["XREVRANGE", "@s", "(0-0", "-"],
        ["XRANGE", "@missing", "-", "+"],
        ["XREVRANGE", "@missing", "+", "-"],
        ["XRANGE", "@missing", "x", "+"],
        ["XRANGE", "@s", "-"],
        ["SET", "@str", "x"],
        ["XRANGE", "@str", "-", "+"],
        ["XREVRANGE", "@str", "+", "-"],
        ["XLEN", "@str"],
        ["XLEN", "@missing"],
    ],
    "xdel": [
        ["XADD", "@s", "1-0", "a", "1"],
        ["XADD", "@s", "2-0", "a", "2"],
        ["XADD", "@s", "3-0", "a", "3"],
        ["XADD", "@s", "4-0", "a", "4"],
        ["XDEL", "@s", "2-0"],
        ["XDEL", "@s", "2-0"],
        ["XDEL", "@s", "9-9"],
        ["XDEL", "@s", "1-0", "3-0", "1-0"],
        ["XDEL", "@s", "4-0", "bad"],
        ["XDEL", "@s", "+"],
        ["XDEL", "@s", "4"],
        ["XRANGE", "@s", "-", "+"],
        ["XINFO", "STREAM", "@s"],
        ["XLEN", "@s"],
        ["XADD", "@s", "5-0", "a", "5"],
        ["XINFO", "STREAM", "@s"],
        ["XDEL", "@s", "5-0"],
        ["XINFO", "STREAM", "@s"],
        ["EXISTS", "@s"],
        ["XDEL", "@missing", "1-0"],
        ["XDEL", "@s"],
        ["SET", "@str", "x"],
        ["XDEL", "@str", "1-0"],
    ],
    "xtrim": [
        ["CONFIG", "SET", "stream-node-max-entries", "3"],
        ["XADD", "@s", "1-0", "a", "1"],
        ["XADD", "@s", "2-0", "a", "2"],
        ["XADD", "@s", "3-0", "a", "3"],
        ["XADD", "@s", "4-0", "a", "4"],
        ["XADD", "@s", "5-0", "a", "5"],
        ["XADD", "@s", "6-0", "a", "6"],
        ["XADD", "@s", "7-0", "a", "7"],
        ["XADD", "@s", "8-0", "a", "8"],
        ["XADD", "@s", "9-0", "a", "9"],
        ["XADD", "@s", "10-0", "a", "10"],
        ["XTRIM", "@s", "MAXLEN", "~", "8"],
        ["XTRIM", "@s", "MAXLEN", "~", "6"],
        ["XLEN", "@s"],
        ["XTRIM", "@s", "MAXLEN", "8"],
        ["XTRIM", "@s", "MAXLEN", "=", "6"],
        ["XINFO", "STREAM", "@s"],
        ["XTRIM", "@s", "MINID", "7"],
        ["XTRIM", "@s", "MINID", "~", "9"],
        ["XTRIM", "@s", "MINID", "=", "8-0"],
        ["XRANGE", "@s", "-", "+"],
        ["XTRIM", "@s", "MAXLEN", "~", "0", "LIMIT", "1"],
        ["XTRIM", "@s", "MAXLEN", "~", "0", "LIMIT", "3"],
        ["XTRIM", "@s", "MAXLEN", "~", "0", "LIMIT", "0"],
        ["XINFO", "STREAM", "@s"],
        ["XTRIM", "@s", "MAXLEN", "0"],
        ["XTRIM", "@s", "MAXLEN", "0"],
        ["EXISTS", "@s"],
        ["XINFO", "STREAM", "@s"],
        ["XTRIM", "@s"],
        ["XTRIM", "@s", "FOO"],
        ["XTRIM", "@s", "MAXLEN"],
        ["XTRIM", "@s", "MAXLEN", "-1"],
        ["XTRIM", "@s", "LIMIT", "1"],
        ["XTRIM", "@s", "MAXLEN", "1", "LIMIT", "1"],
        ["XTRIM", "@s", "MAXLEN", "1", "MINID", "1"],
        ["XTRIM", "@s", "MINID", "x"],
        ["XTRIM", "@s", "MAXLEN", "1", "extra"],
        ["XTRIM", "@s", "NOMKSTREAM", "MAXLEN", "1"],
        ["XTRIM", "@missing", "MAXLEN", "1"],
        ["XTRIM", "@missing", "MAXLEN", "x"],
        ["SET", "@str", "x"],
        ["XTRIM", "@str", "MAXLEN", "1"],
        ["CONFIG", "SET", "stream-node-max-entries", "100"],
    ],
    "xtrim_limit_default": [
        ["CONFIG", "SET", "stream-node-max-entries", "1"],
    ] + [["XADD", "@s", "%d-0" % i, "f", "v"] for i in range(1, 160)] + [
        ["XTRIM", "@s", "MAXLEN", "~", "0"],
        ["XLEN", "@s"],
        ["XTRIM", "@s", "MINID", "~", "200"],
        ["XLEN", "@s"],
        ["CONFIG", "SET", "stream-node-max-entries", "0"],
        ["XADD", "@t", "1-0", "f", "v"],
        ["XADD", "@t", "2-0", "f", "v"],
        ["XTRIM", "@t", "MAXLEN", "~", "0"],
        ["XINFO", "STREAM", "@t"],
        ["CONFIG", "SET", "stream-node-max-entries", "100"],
    ],
    "node_bytes": [
        ["CONFIG", "SET", "stream-node-max-bytes", "60"],
        ["XADD", "@s", "1-0", "field", "value"],
        ["XADD", "@s", "2-0", "field", "value"],
        ["XADD", "@s", "3-0", "field", "value" * 20],
        ["XADD", "@s", "4-0", "other", "x"],
        ["XADD", "@s", "5-0", "other", "x"],
        ["XINFO", "STREAM", "@s"],
        ["CONFIG", "SET", "stream-node-max-bytes", "0"],
        ["XADD", "@s", "6-0", "other", "x"],
        ["XINFO", "STREAM", "@s"],
        ["CONFIG", "GET", "stream-node-max-bytes"],
        ["CONFIG", "SET", "stream-node-max-bytes", "-1"],
        ["CONFIG", "SET", "stream-node-max-entries", "-1"],
        ["CONFIG", "SET", "stream-node-max-bytes", "4kb"],
        ["CONFIG", "GET", "stream-node-max-bytes"],
        ["CONFIG", "GET", "stream-node-max-entries"],
    ],
    "xsetid": [
        ["XSETID", "@missing", "1-1"],
        ["XADD", "@s", "5-0", "a", "1"],
        ["XSETID", "@s", "4-0"],
        ["XSETID", "@s", "5-0"],
        ["XSETID", "@s", "10-0"],
        ["XADD", "@s", "9-0", "a", "1"],
        ["XADD", "@s", "*-*", "a", "1"],
        ["XSETID", "@s", "20", "ENTRIESADDED", "100", "MAXDELETEDID", "15-0"],
        ["XINFO", "STREAM", "@s"],
        ["XSETID", "@s", "20", "ENTRIESADDED", "0"],
        ["XSETID", "@s", "20", "ENTRIESADDED", "-1"],
        ["XSETID", "@s", "20", "ENTRIESADDED", "x"],
        ["XSETID", "@s", "20", "MAXDELETEDID", "21-0"],
        ["XSETID", "@s", "20", "MAXDELETEDID", "x"],
        ["XSETID", "@s", "20", "MAXDELETEDID"],
        ["XSETID", "@s", "20", "FOO", "1"],
        ["XSETID", "@s", "-"],
        ["XSETID", "@s", "+"],
        ["XSETID", "@s", "bad"],
        ["XSETID", "@s"],
        ["XDEL", "@s", "5-0"],
        ["XSETID", "@s", "1-0"],
        ["XSETID", "@s", "1-0", "ENTRIESADDED", "0"],
        ["XINFO", "STREAM", "@s"],
        ["XSETID", "@s", MAX_ID],
        ["XADD", "@s", "*", "a", "1"],
        ["SET", "@str", "x"],
        ["XSETID", "@str", "1-0"],
        ["XSETID", "@missing", "1-1", "ENTRIESADDED", "x"],
    ],
    "xgroup": [
        ["XGROUP"],
        ["XGROUP", "HELP"],
        ["XGROUP", "HELP", "x"],
        ["XGROUP", "FOO"],
        ["XGROUP", "FOO", "@s", "g"],
        ["XGROUP", "CREATE", "@s"],
        ["XGROUP", "CREATE", "@s", "g", "$"],
        ["XGROUP", "CREATE", "@s", "g", "$", "MKSTREAM"],
        ["XGROUP", "CREATE", "@s", "g", "$", "MKSTREAM"],
        ["XGROUP", "CREATE", "@s", "g2", "0", "ENTRIESREAD", "5"],
        ["XGROUP", "CREATE", "@s", "g3", "0", "ENTRIESREAD", "-1"],
        ["XGROUP", "CREATE", "@s", "g4", "0", "ENTRIESREAD", "-2"],
        ["XGROUP", "CREATE", "@s", "g4", "0", "ENTRIESREAD", "x"],
        ["XGROUP", "CREATE", "@s", "g4", "0", "ENTRIESREAD"],
        ["XGROUP", "CREATE", "@s", "g4", "0", "BOGUS"],
        ["XGROUP", "CREATE", "@s", "g4", "bad"],
        ["XGROUP", "CREATE", "@s", "g4", "-"],
        ["XGROUP", "CREATE", "@s", "g4", "1"],
        ["XGROUP", "CREATE", "@s", "g5", "0", "MKSTREAM", "ENTRIESREAD", "3", "MKSTREAM"],
        ["XGROUP", "CREATE", "@s", "g6", "0", "ENTRIESREAD", "3", "MKSTREAM", "x"],
        ["XGROUP", "SETID", "@s", "g", "$", "MKSTREAM"],
        ["XINFO", "GROUPS", "@s"],
        ["XADD", "@s", "1-0", "a", "1"],
        ["XADD", "@s", "2-0", "a", "2"],
        ["XGROUP", "SETID", "@s", "g", "1-0"],
        ["XGROUP", "SETID", "@s", "g", "-"],
        ["XGROUP", "SETID", "@s", "g", "$", "ENTRIESREAD", "2"],
        ["XGROUP", "SETID", "@s", "g", "0", "ENTRIESREAD"],
        ["XGROUP", "SETID", "@s", "g", "bad"],
        ["XGROUP", "SETID", "@s", "nosuch", "0"],
        ["XGROUP", "SETID", "@missing", "g", "0"],
        ["XINFO", "GROUPS", "@s"],
        ["XGROUP", "CREATECONSUMER", "@s", "g", "alice"],
        ["XGROUP", "CREATECONSUMER", "@s", "g", "alice"],
        ["XGROUP", "CREATECONSUMER", "@s", "g", "bob"],
        ["XGROUP", "CREATECONSUMER", "@s", "nosuch", "alice"],
        ["XGROUP", "CREATECONSUMER", "@missing", "g", "alice"],
        ["XGROUP", "CREATECONSUMER", "@s", "g"],
        ["XREADGROUP", "GROUP", "g2", "bob", "STREAMS", "@s", ">"],
        ["XGROUP", "DELCONSUMER", "@s", "g2", "bob"],
        ["XGROUP", "DELCONSUMER", "@s", "g2", "bob"],
        ["XGROUP", "DELCONSUMER", "@s", "nosuch", "bob"],
        ["XPENDING", "@s", "g2"],
        ["XGROUP", "DESTROY", "@s", "g"],
        ["XGROUP", "DESTROY", "@s", "g"],
        ["XGROUP", "DESTROY", "@missing", "g"],
        ["XGROUP", "DESTROY", "@s"],
        ["XINFO", "GROUPS", "@s"],
        ["SET", "@str", "x"],
        ["XGROUP", "CREATE", "@str", "g", "0"],
        ["XGROUP", "CREATE", "@str", "g", "0", "MKSTREAM"],
        ["XGROUP", "DESTROY", "@str", "g"],
        ["xgroup", "create", "@s", "lower", "0"],
        ["XGROUP", "CREATE", "@s", "", "0"],
        ["XGROUP", "CREATE", "@s", BIN, "0"],
        ["XINFO", "GROUPS", "@s"],
    ],
    "xreadgroup": [
        ["XADD", "@s", "1-0", "a", "1"],
        ["XADD", "@s", "2-0", "a", "2"],
        ["XADD", "@s", "3-0", "a", "3"],
        ["XGROUP", "CREATE", "@s", "g", "0"],
        ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "@s", ">"],
        ["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "@s", ">"],
        ["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "@s", ">"],
        ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "@s", "0"],
        ["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "@s", "0"],
        ["XREADGROUP", "GROUP", "g", "bob", "COUNT", "1", "STREAMS", "@s", "0"],
        ["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "@s", "2-0"],
        ["XREADGROUP", "GROUP", "g", "carol", "STREAMS", "@s", "0"],
        ["XPENDING", "@s", "g"],
        ["XDEL", "@s", "2-0"],
        ["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "@s", "0"],
        ["XINFO", "GROUPS", "@s"],
        ["XADD", "@s", "4-0", "a", "4"],
        ["XREADGROUP", "GROUP", "g", "dave", "NOACK", "STREAMS", "@s", ">"],
        ["XPENDING", "@s", "g"],
        ["XINFO", "GROUPS", "@s"],
        ["XGROUP", "SETID", "@s", "g", "0"],
        ["XREADGROUP", "GROUP", "g", "erin", "COUNT", "2", "STREAMS", "@s", ">"],
        ["XPENDING", "@s", "g"],
        ["XINFO", "GROUPS", "@s"],
        ["XADD", "@t", "1-0", "b", "1"],
        ["XGROUP", "CREATE", "@t", "g", "0"],
        ["XREADGROUP", "GROUP", "g", "frank", "STREAMS", "@s", "@t", ">", ">"],
        ["XREADGROUP", "GROUP", "g", "frank", "STREAMS", "@s", "@t", "0", ">"],
        ["XREADGROUP", "GROUP", "g", "frank", "STREAMS", "@s", "@missing", ">", ">"],
        ["XREADGROUP", "GROUP", "nosuch", "frank", "STREAMS", "@s", ">"],
        ["XREADGROUP", "GROUP", "g", "frank", "STREAMS", "@s", "$"],
        ["XREADGROUP", "GROUP", "g", "frank", "STREAMS", "@s", "bad"],
        ["XREADGROUP", "GROUP", "g", "frank", "STREAMS", "@s", "-"],
        ["XREADGROUP", "GROUP", "g", "frank", "STREAMS", "@s"],
        ["XREADGROUP", "GROUP", "g", "frank", "STREAMS", "@s", "@t", ">"],
        ["XREADGROUP", "GROUP", "g", "STREAMS", "@s", ">"],
        ["XREADGROUP", "STREAMS", "@s", ">", "x", "y", "z"],
        ["XREADGROUP", "GROUP", "g", "frank", "COUNT", "x", "STREAMS", "@s", ">"],
        ["XREADGROUP", "GROUP", "g", "frank", "COUNT", "-3", "STREAMS", "@s", "0"],
        ["XREADGROUP", "GROUP", "g", "frank", "BLOCK", "-1", "STREAMS", "@s", ">"],
        ["XREADGROUP", "GROUP", "g", "frank", "BLOCK", "x", "STREAMS", "@s", ">"],
        ["XREADGROUP", "GROUP", "g", "frank", "FOO", "STREAMS", "@s", ">"],
        ["XREADGROUP", "GROUP", "g", "frank", "STREAMS", "@s", ">"],
        ["XREADGROUP", "GROUP", "g", "frank", "BLOCK", "10", "STREAMS", "@s", ">"],
        ["XREADGROUP", "GROUP", "g", "frank", "NOACK", "COUNT", "1", "BLOCK", "10", "STREAMS",
         "@s", "0"],
        ["SET", "@str", "x"],
        ["XREADGROUP", "GROUP", "g", "frank", "STREAMS", "@str", ">"],
        ["XINFO", "GROUPS", "@s"],
        ["XPENDING", "@s", "g"],
        ["XPENDING", "@t", "g"],
    ],
    "xread": [
        ["XADD", "@s", "1-0", "a", "1"],
        ["XADD", "@s", "2-0", "a", "2"],
        ["XADD", "@t", "5-0", "b", "1"],
        ["XREAD", "STREAMS", "@s", "0"],
        ["XREAD", "COUNT", "1", "STREAMS", "@s", "@t", "0", "0"],
        ["XREAD", "STREAMS", "@s", "@t", "1-0", "5"],
        ["XREAD", "STREAMS", "@s", "@t", "$", "$"],
        ["XREAD", "STREAMS", "@s", "@missing", "0", "0"],
        ["XREAD", "STREAMS", "@missing", "0"],
        ["XREAD", "STREAMS", "@missing", "$"],
        ["XREAD", "STREAMS", "@s", "+"],
        ["XREAD", "STREAMS", "@s", "-"],
        ["XREAD", "STREAMS", "@s", ">"],
        ["XREAD", "STREAMS", "@s", "bad"],
        ["XREAD", "STREAMS", "@s", "@t", "0"],
        ["XREAD", "STREAMS", "@s"],
        ["XREAD", "COUNT", "0", "STREAMS", "@s", "0"],
        ["XREAD", "COUNT", "-5", "STREAMS", "@s", "0"],
        ["XREAD", "COUNT", "x", "STREAMS", "@s", "0"],
        ["XREAD", "GROUP", "g", "c", "STREAMS", "@s", "0"],
        ["XREAD", "NOACK", "STREAMS", "@s", "0"],
        ["XREAD", "FOO", "STREAMS", "@s", "0"],
        ["XREAD", "BLOCK", "-1", "STREAMS", "@s", "0"],
        ["XREAD", "BLOCK", "1.5", "STREAMS", "@s", "0"],
        ["XREAD", "BLOCK", "10", "STREAMS", "@s", "$"],
        ["XREAD", "BLOCK", "10", "STREAMS", "@s", "0"],
        ["XREAD", "COUNT", "1", "COUNT", "2", "STREAMS", "@s", "0"],
        ["XREAD", "STREAMS", "STREAMS", "0"],
        ["XREAD", "COUNT"],
        ["XREAD", "STREAMS", "@s", "(1"],
        ["XDEL", "@s", "2-0"],
        ["XREAD", "STREAMS", "@s", "1-0"],
        ["XREAD", "STREAMS", "@s", "@s", "0", "1"],
        ["SET", "@str", "x"],
        ["XREAD", "STREAMS", "@s", "@str", "0", "0"],
    ],
    "xack_xpending": [
        ["XADD", "@s", "1-0", "a", "1"],
        ["XADD", "@s", "2-0", "a", "2"],
        ["XADD", "@s", "3-0", "a", "3"],
        ["XADD", "@s", "4-0", "a", "4"],
        ["XGROUP", "CREATE", "@s", "g", "0"],
        ["XPENDING", "@s", "g"],
        ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "@s", ">"],
        ["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "@s", ">"],
        ["XPENDING", "@s", "g"],
        ["XPENDING", "@s", "g", "-", "+", "0"],
        ["XPENDING", "@s", "g", "-", "+", "-5"],
        ["XPENDING", "@s", "g", "-", "+", "10", "nobody"],
        ["XPENDING", "@s", "g", "IDLE", "999999999", "-", "+", "10"],
        ["XPENDING", "@s", "g", "IDLE", "999999999", "-", "+", "10", "alice"],
        ["XPENDING", "@s", "g", "-"],
        ["XPENDING", "@s", "g", "-", "+"],
        ["XPENDING", "@s", "g", "IDLE", "5", "-", "+"],
        ["XPENDING", "@s", "g", "IDLE", "x", "-", "+", "10"],
        ["XPENDING", "@s", "g", "-", "+", "x"],
        ["XPENDING", "@s", "g", "x", "+", "10"],
        ["XPENDING", "@s", "g", "(" + MAX_ID, "+", "10"],
        ["XPENDING", "@s", "g", "-", "(0-0", "10"],
        ["XPENDING", "@s", "g", "IDLE", "999999999", "-", "+", "10", "alice", "extra"],
        ["XPENDING", "@s", "g", "IDLE", "1", "-", "+", "10", "alice", "extra", "x"],
        ["XPENDING", "@s", "nosuch"],
        ["XPENDING", "@missing", "g"],
        ["XPENDING", "@missing", "g", "-", "+", "10"],
        ["XPENDING", "@s"],
        ["XACK", "@s", "g", "1-0"],
        ["XACK", "@s", "g", "1-0"],
        ["XACK", "@s", "g", "2-0", "3-0", "9-9", "3-0"],
        ["XACK", "@s", "g", "4-0", "bad"],
        ["XACK", "@s", "g", "4"],
        ["XACK", "@s", "nosuch", "4-0"],
        ["XACK", "@missing", "g", "4-0"],
        ["XACK", "@s", "g"],
        ["XPENDING", "@s", "g"],
        ["XINFO", "GROUPS", "@s"],
        ["SET", "@str", "x"],
        ["XACK", "@str", "g", "1-0"],
        ["XPENDING", "@str", "g"],
    ],
    "xclaim": [
        ["XADD", "@s", "1-0", "a", "1"],
        ["XADD", "@s", "2-0", "a", "2"],
        ["XADD", "@s", "3-0", "a", "3"],
        ["XADD", "@s", "4-0", "a", "4"],
        ["XGROUP", "CREATE", "@s", "g", "0"],
        ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "@s", ">"],
        ["XCLAIM", "@s", "g", "bob", "0", "1-0"],
        ["XCLAIM", "@s", "g", "bob", "0", "2-0", "JUSTID"],
        ["XCLAIM", "@s", "g", "bob", "999999999", "3-0"],
        ["XCLAIM", "@s", "g", "bob", "-5", "3-0", "RETRYCOUNT", "7"],
        ["XCLAIM", "@s", "g", "carol", "0", "4-0", "9-9", "IDLE", "100000000",
         "RETRYCOUNT", "2", "JUSTID"],
        ["XCLAIM", "@s", "g", "carol", "0", "1-0", "TIME", "0", "JUSTID"],
        ["XCLAIM", "@s", "g", "carol", "0", "1-0", "TIME", "99999999999999", "JUSTID"],
        ["XADD", "@s", "5-0", "a", "5"],
        ["XCLAIM", "@s", "g", "dave", "0", "5-0"],
        ["XCLAIM", "@s", "g", "dave", "0", "5-0", "FORCE"],
        ["XCLAIM", "@s", "g", "dave", "0", "6-0", "FORCE"],
        ["XCLAIM", "@s", "g", "dave", "0", "4-0", "LASTID", "10-0", "JUSTID"],
        ["XINFO", "GROUPS", "@s"],
        ["XDEL", "@s", "1-0"],
        ["XCLAIM", "@s", "g", "dave", "0", "1-0"],
        ["XPENDING", "@s", "g"],
        ["XCLAIM", "@s", "g", "dave", "0", "2-0", "bad"],
        ["XCLAIM", "@s", "g", "dave", "0", "2-0", "IDLE"],
        ["XCLAIM", "@s", "g", "dave", "0", "2-0", "IDLE", "x"],
        ["XCLAIM", "@s", "g", "dave", "0", "2-0", "TIME", "x"],
        ["XCLAIM", "@s", "g", "dave", "0", "2-0", "RETRYCOUNT", "x"],
        ["XCLAIM", "@s", "g", "dave", "0", "2-0", "LASTID", "x"],
        ["XCLAIM", "@s", "g", "dave", "0", "2-0", "FORCE", "3-0"],
        ["XCLAIM", "@s", "g", "dave", "x", "2-0"],
        ["XCLAIM", "@s", "g", "dave", "0", "bad"],
        ["XCLAIM", "@s", "nosuch", "dave", "0", "2-0"],
        ["XCLAIM", "@missing", "g", "dave", "0", "2-0"],
        ["XCLAIM", "@s", "g", "dave", "0"],
        ["XGROUP", "CREATE", "@s", "h", "$"],
        ["XCLAIM", "@s", "h", "z", "0", "3-0", "LASTID", "4-0"],
        ["XINFO", "GROUPS", "@s"],
        ["SET", "@str", "x"],
        ["XCLAIM", "@str", "g", "dave", "0", "2-0"],
    ],
    "xautoclaim": [
        ["XADD", "@s", "1-0", "a", "1"],
        ["XADD", "@s", "2-0", "a", "2"],
        ["XADD", "@s", "3-0", "a", "3"],
        ["XADD", "@s", "4-0", "a", "4"],
        ["XADD", "@s", "5-0", "a", "5"],
        ["XGROUP", "CREATE", "@s", "g", "0"],
        ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "@s", ">"],
        ["XAUTOCLAIM", "@s", "g", "bob", "0", "0", "COUNT", "2"],
        ["XAUTOCLAIM", "@s", "g", "bob", "0", "3-0", "COUNT", "2", "JUSTID"],
        ["XAUTOCLAIM", "@s", "g", "bob", "0", "(3-0"],
        ["XAUTOCLAIM", "@s", "g", "bob", "999999999", "0"],
        ["XDEL", "@s", "2-0", "4-0"],
        ["XAUTOCLAIM", "@s", "g", "carol", "0", "-", "COUNT", "1"],
        ["XAUTOCLAIM", "@s", "g", "carol", "0", "-", "COUNT", "10"],
        ["XPENDING", "@s", "g"],
        ["XAUTOCLAIM", "@s", "g", "carol", "-10", "-", "JUSTID", "JUSTID"],
        ["XAUTOCLAIM", "@s", "g", "carol", "0", "+"],
        ["XAUTOCLAIM", "@s", "g", "carol", "0", "(" + MAX_ID],
        ["XAUTOCLAIM", "@s", "g", "carol", "0", "-", "COUNT", "0"],
        ["XAUTOCLAIM", "@s", "g", "carol", "0", "-", "COUNT", "-1"],
        ["XAUTOCLAIM", "@s", "g", "carol", "0", "-", "COUNT", "x"],
        ["XAUTOCLAIM", "@s", "g", "carol", "0", "-", "COUNT", "1152921504606846976"],
        ["XAUTOCLAIM", "@s", "g", "carol", "0", "-", "COUNT"],
        ["XAUTOCLAIM", "@s", "g", "carol", "0", "-", "FOO"],
        ["XAUTOCLAIM", "@s", "g", "carol", "x", "-"],
        ["XAUTOCLAIM", "@s", "g", "carol", "0", "bad"],
        ["XAUTOCLAIM", "@s", "nosuch", "carol", "0", "-"],
        ["XAUTOCLAIM", "@missing", "g", "carol", "0", "-"],
        ["XAUTOCLAIM", "@missing", "g", "carol", "0", "bad"],
        ["XAUTOCLAIM", "@s", "g", "carol", "0"],
        ["XINFO", "GROUPS", "@s"],
        ["SET", "@str", "x"],
        ["XAUTOCLAIM", "@str", "g", "carol", "0", "-"],
    ],
    "xinfo": [
        ["XINFO"],
        ["XINFO", "HELP"],
        ["XINFO", "HELP", "x"],
        ["XINFO", "FOO"],
        ["XINFO", "FOO", "@s"],
        ["XINFO", "STREAM", "@missing"],
        ["XINFO", "GROUPS", "@missing"],
        ["XINFO", "CONSUMERS", "@missing", "g"],
        ["XADD", "@s", "1-0", "a", "1"],
        ["XINFO", "STREAM", "@s"],
        ["XINFO", "STREAM", "@s", "FULL", "COUNT"],
        ["XINFO", "STREAM", "@s", "FOO"],
        ["XINFO", "STREAM", "@s", "FULL", "FOO", "1"],
        ["XINFO", "STREAM", "@s", "FULL", "COUNT", "x"],
        ["XINFO", "STREAM", "@s", "FULL", "COUNT", "1", "x"],
        ["XINFO", "STREAM", "@s", "FULL"],
        ["XINFO", "GROUPS", "@s"],
        ["XINFO", "GROUPS", "@s", "x"],
        ["XINFO", "CONSUMERS", "@s", "nosuch"],
        ["XINFO", "CONSUMERS", "@s"],
        ["XGROUP", "CREATE", "@s", "b", "0"],
        ["XGROUP", "CREATE", "@s", "a", "$"],
        ["XGROUP", "CREATE", "@s", "ab", "0"],
        ["XGROUP", "CREATE", "@s", "B", "0"],
        ["XINFO", "GROUPS", "@s"],
        ["XINFO", "CONSUMERS", "@s", "a"],
        ["XINFO", "STREAM", "@s"],
        ["XADD", "@e", "MAXLEN", "0", "1-0", "a", "1"],
        ["XINFO", "STREAM", "@e"],
        ["XINFO", "STREAM", "@e", "FULL"],
        ["XINFO", "STREAM", "@e", "FULL", "COUNT", "0"],
        ["XINFO", "STREAM", "@e", "FULL", "COUNT", "-1"],
        ["SET", "@str", "x"],
        ["XINFO", "STREAM", "@str"],
        ["XINFO", "GROUPS", "@str"],
        ["XINFO", "CONSUMERS", "@str", "g"],
    ],
    "lag": [
        ["XADD", "@s", "1-0", "a", "1"],
        ["XADD", "@s", "2-0", "a", "2"],
        ["XADD", "@s", "3-0", "a", "3"],
        ["XADD", "@s", "4-0", "a", "4"],
        ["XGROUP", "CREATE", "@s", "g", "0"],
        ["XGROUP", "CREATE", "@s", "h", "2-0"],
        ["XGROUP", "CREATE", "@s", "i", "$"],
        ["XGROUP", "CREATE", "@s", "j", "0", "ENTRIESREAD", "1"],
        ["XINFO", "GROUPS", "@s"],
        ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "@s", ">"],
        ["XREADGROUP", "GROUP", "h", "c", "COUNT", "1", "STREAMS", "@s", ">"],
        ["XINFO", "GROUPS", "@s"],
        ["XDEL", "@s", "2-0"],
        ["XINFO", "GROUPS", "@s"],
        ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "@s", ">"],
        ["XINFO", "GROUPS", "@s"],
        ["XDEL", "@s", "4-0"],
        ["XINFO", "GROUPS", "@s"],
        ["XINFO", "STREAM", "@s"],
        ["XADD", "@s", "5-0", "a", "5"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "@s", ">"],
        ["XREADGROUP", "GROUP", "h", "c", "STREAMS", "@s", ">"],
        ["XINFO", "GROUPS", "@s"],
        ["XTRIM", "@s", "MAXLEN", "0"],
        ["XINFO", "GROUPS", "@s"],
        ["XSETID", "@s", "9-0", "ENTRIESADDED", "20"],
        ["XINFO", "GROUPS", "@s"],
        ["XGROUP", "SETID", "@s", "g", "$"],
        ["XGROUP", "SETID", "@s", "h", "0", "ENTRIESREAD", "3"],
        ["XINFO", "GROUPS", "@s"],
        ["XADD", "@n", "1-0", "a", "1"],
        ["XDEL", "@n", "1-0"],
        ["XGROUP", "CREATE", "@n", "g", "0"],
        ["XINFO", "GROUPS", "@n"],
        ["XGROUP", "CREATE", "@m", "g", "$", "MKSTREAM"],
        ["XINFO", "GROUPS", "@m"],
    ],
    "generic_commands": [
        ["XADD", "@s", "1-0", "a", "1"],
        ["XADD", "@s", "2-0", "b", "2"],
        ["XGROUP", "CREATE", "@s", "g", "0"],
        ["TYPE", "@s"],
        ["OBJECT", "ENCODING", "@s"],
        ["COPY", "@s", "@c"],
        ["XRANGE", "@c", "-", "+"],
        ["XINFO", "GROUPS", "@c"],
        ["XADD", "@c", "3-0", "c", "3"],
        ["XLEN", "@s"],
        ["RENAME", "@c", "@r"],
        ["XLEN", "@r"],
        ["EXISTS", "@c", "@r"],
        ["SCAN", "0", "MATCH", "@r", "TYPE", "stream", "COUNT", "1000"],
        ["SCAN", "0", "MATCH", "@r", "TYPE", "hash", "COUNT", "1000"],
        ["EXPIRE", "@r", "100"],
        ["TTL", "@r"],
        ["PERSIST", "@r"],
        ["DEL", "@r"],
        ["UNLINK", "@s"],
        ["TYPE", "@s"],
        ["XADD", "@s", "1-0", "a", "1"],
        ["LPUSH", "@s", "x"],
        ["GET", "@s"],
        ["HSET", "@s", "a", "b"],
        ["SET", "@s", "x"],
        ["TYPE", "@s"],
    ],
    "arity": [
        ["XADD", "@s", "*"],
        ["XRANGE", "@s", "-"],
        ["XREVRANGE", "@s", "+"],
        ["XLEN"],
        ["XLEN", "@s", "x"],
        ["XDEL", "@s"],
        ["XTRIM", "@s", "MAXLEN"],
        ["XREAD", "STREAMS", "@s"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "@s"],
        ["XACK", "@s", "g"],
        ["XPENDING", "@s"],
        ["XCLAIM", "@s", "g", "c", "0"],
        ["XAUTOCLAIM", "@s", "g", "c", "0"],
        ["XSETID", "@s"],
        ["XINFO"],
        ["XINFO", "STREAM"],
        ["XINFO", "GROUPS"],
        ["XINFO", "CONSUMERS", "@s"],
        ["XINFO", "HELP", "x"],
        ["XGROUP"],
        ["XGROUP", "CREATE", "@s", "g"],
        ["XGROUP", "SETID", "@s", "g"],
        ["XGROUP", "DESTROY", "@s"],
        ["XGROUP", "DESTROY", "@s", "g", "x"],
        ["XGROUP", "CREATECONSUMER", "@s", "g"],
        ["XGROUP", "DELCONSUMER", "@s", "g", "c", "x"],
        ["XGROUP", "HELP", "x"],
    ],
    "multi": [
        ["MULTI"],
        ["XADD", "@s", "1-0", "a", "1"],
        ["XREAD", "BLOCK", "0", "STREAMS", "@s", "$"],
        ["XREAD", "BLOCK", "0", "STREAMS", "@s", "0"],
        ["XGROUP", "CREATE", "@s", "g", "$"],
        ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "@s", ">"],
        ["XADD", "@s", "2-0", "a", "2"],
        ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "@s", ">"],
        ["EXEC"],
        ["MULTI"],
        ["XADD", "@s", "1-0", "a", "1"],
        ["XLEN", "@s"],
        ["EXEC"],
        ["MULTI"],
        ["XADD", "@s"],
        ["EXEC"],
    ],
}

GROUP_REQUIRES = {
    "multi": ["multi"],
    "generic_commands": ["copy", "scan"],
}


def need_streams(conn):
    if missing_commands(conn, ["xadd"]):
        pytest.skip("Redoubt has no streams")


def compare_group(server, redis_server, name, resp3=False):
    compare_command_group(server, redis_server, GROUPS[name],
                          ["xadd"] + GROUP_REQUIRES.get(name, []), "xs:%s" % name, resp3)


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_streams_match_redis_resp2(server, redis_server, group):
    compare_group(server, redis_server, group)


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_streams_match_redis_resp3(server, redis_server, group):
    compare_group(server, redis_server, group, resp3=True)


def test_case_table_size():
    assert sum(len(v) for v in GROUPS.values()) >= 500


# ---------------------------------------------------------------------------
# Replies holding clocks: compared with the clock values masked
# ---------------------------------------------------------------------------
TIMESTAMP_MIN = 10 ** 12  # any unix time in ms from 2001 on


def mask_times(value, idle_positions=()):
    """Replaces unix times in ms (delivery and seen times) by "T" and, inside lists, the
    integers at idle_positions (idle times) by "I"."""
    if isinstance(value, list):
        out = [mask_times(v, idle_positions) for v in value]
        if len(value) == 4 and isinstance(value[2], int) and 2 in idle_positions:
            out[2] = "I"
        return out
    if isinstance(value, int) and value >= TIMESTAMP_MIN:
        return "T"
    return value


def mask_idle_maps(value):
    """XINFO CONSUMERS: the value after an "idle" key is a clock difference."""
    if isinstance(value, list):
        out = [mask_idle_maps(v) for v in value]
        for i in range(len(value) - 1):
            if value[i] == b"idle":
                out[i + 1] = "I"
        return out
    return value


MASKED_SEQUENCE = [
    (["XADD", "@s", "1-0", "a", "1"], None),
    (["XADD", "@s", "2-0", "a", "2"], None),
    (["XADD", "@s", "3-0", "a", "3", "b", "4"], None),
    (["XGROUP", "CREATE", "@s", "g", "0"], None),
    (["XGROUP", "CREATE", "@s", "h", "0"], None),
    (["XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "@s", ">"], None),
    (["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "@s", ">"], None),
    (["XREADGROUP", "GROUP", "h", "carol", "NOACK", "STREAMS", "@s", ">"], None),
    (["XGROUP", "CREATECONSUMER", "@s", "h", "dave"], None),
    (["XPENDING", "@s", "g", "-", "+", "10"], "pending"),
    (["XPENDING", "@s", "g", "-", "+", "10", "alice"], "pending"),
    (["XPENDING", "@s", "g", "(1-0", "+", "1"], "pending"),
    (["XPENDING", "@s", "g", "IDLE", "0", "-", "+", "10"], "pending"),
    (["XINFO", "CONSUMERS", "@s", "g"], "idle"),
    (["XINFO", "CONSUMERS", "@s", "h"], "idle"),
    (["XINFO", "STREAM", "@s", "FULL"], "times"),
    (["XINFO", "STREAM", "@s", "FULL", "COUNT", "1"], "times"),
    (["XINFO", "STREAM", "@s", "FULL", "COUNT", "0"], "times"),
    (["XCLAIM", "@s", "g", "bob", "0", "1-0", "IDLE", "5000", "JUSTID"], None),
    (["XPENDING", "@s", "g", "IDLE", "4000", "-", "+", "10"], "pending"),
    (["XINFO", "STREAM", "@s", "FULL"], "times"),
    (["XGROUP", "DELCONSUMER", "@s", "g", "alice"], None),
    (["XINFO", "CONSUMERS", "@s", "g"], "idle"),
    (["XINFO", "STREAM", "@s", "FULL"], "times"),
]


def run_masked(srv, prefix, resp3):
    conn = RawConnection(srv.client())
    try:
        if resp3:
            conn.command("HELLO", "3")
        out = []
        for cmd, how in MASKED_SEQUENCE:
            args = [prefix + a[1:] if a.startswith("@") else a for a in cmd]
            reply = conn.command(*args)
            if how is None:
                out.append(reply)
                continue
            value = parse_resp(reply)
            if how == "pending":
                value = mask_times(value, idle_positions=(2,))
            elif how == "idle":
                value = mask_idle_maps(value)
            else:
                value = mask_times(value)
            # The shape of the reply (RESP3 maps) must match as well.
            out.append((reply[:1], value))
        return out
    finally:
        conn.close()


@pytest.mark.parametrize("resp3", [False, True])
def test_clock_replies_match_redis_masked(server, redis_server, resp3):
    conn = RawConnection(server.client())
    need_streams(conn)
    conn.close()
    prefix = "xm:%s:" % uuid.uuid4().hex[:8]
    ours = run_masked(server, prefix, resp3)
    theirs = run_masked(redis_server, prefix, resp3)
    for (cmd, _), g, w in zip(MASKED_SEQUENCE, ours, theirs):
        assert g == w, cmd


def test_xadd_auto_ids_are_monotonic_and_propagated_shape(server):
    """XADD * gives <now ms>-<seq> IDs, strictly growing even within one millisecond."""
    c = server.client()
    need_streams(RawConnection(c))
    before = int(time.time() * 1000)
    ids = [c.xadd("auto", {"f": i}) for i in range(200)]
    after = int(time.time() * 1000)
    parsed = [tuple(int(x) for x in i.split(b"-")) for i in ids]
    assert parsed == sorted(set(parsed))
    assert before - 5 <= parsed[0][0] <= after + 5
    # "ms-*" takes the next sequence number of the same millisecond.
    assert c.xadd("auto", {"f": 1}, id="%d-*" % parsed[-1][0]) == \
        b"%d-%d" % (parsed[-1][0], parsed[-1][1] + 1)
    # Once the top ID is in the future, * keeps counting from it.
    c.xadd("future", {"f": 1}, id="99999999999999-5")
    assert c.xadd("future", {"f": 1}) == b"99999999999999-6"


# ---------------------------------------------------------------------------
# Randomised differential runs on small nodes
# ---------------------------------------------------------------------------
RANDOM_OPS_PER_SEED = 500


def random_id(rng, top):
    r = rng.random()
    if r < 0.1:
        return rng.choice(["-", "+", "0", "0-0"])
    ms = rng.randint(0, top + 3)
    if r < 0.3:
        return str(ms)
    return "%d-%d" % (ms, rng.randint(0, 3))


def random_bound(rng, top):
    b = random_id(rng, top)
    if rng.random() < 0.2 and b not in ("-", "+"):
        return "(" + b
    return b


def random_stream_command(rng, state):
    top = state["top"]
    k = rng.choice(["@s", "@s", "@s", "@t"])
    r = rng.random()
    if r < 0.30:
        state["top"] = top + rng.choice([0, 0, 1, 1, 2, 300])
        nf = rng.choice([1, 1, 2, 3])
        fields = rng.choice([["a", "1"], ["a", "x", "b", "y"], ["c", str(rng.randint(0, 99))]])
        if rng.random() < 0.3:
            fields = []
            for i in range(nf):
                fields += ["f%d" % rng.randint(0, 2), "v" * rng.randint(0, 30)]
        trim = []
        if rng.random() < 0.15:
            trim = [rng.choice(["MAXLEN", "MINID"]), rng.choice(["=", "~"])]
            trim.append(str(rng.randint(0, 40)) if trim[0] == "MAXLEN"
                        else str(rng.randint(0, state["top"])))
            if trim[1] == "~" and rng.random() < 0.5:
                trim += ["LIMIT", str(rng.randint(0, 10))]
        idarg = "%d-*" % state["top"] if rng.random() < 0.7 else \
            "%d-%d" % (state["top"], rng.randint(0, 9))
        return ["XADD", k] + trim + [idarg] + fields
    if r < 0.40:
        return ["XDEL", k] + [random_id(rng, top).lstrip("-+") or "1"
                              for _ in range(rng.randint(1, 3))]
    if r < 0.47:
        how = rng.choice(["=", "~"])
        if rng.random() < 0.5:
            cmd = ["XTRIM", k, "MAXLEN", how, str(rng.randint(0, 40))]
        else:
            cmd = ["XTRIM", k, "MINID", how, str(rng.randint(0, top + 1))]
        if how == "~" and rng.random() < 0.5:
            cmd += ["LIMIT", str(rng.randint(0, 20))]
        return cmd
    if r < 0.57:
        cmd = ["XRANGE", k, random_bound(rng, top), random_bound(rng, top)]
        if rng.random() < 0.5:
            cmd = ["XREVRANGE", k, cmd[3], cmd[2]]
        if rng.random() < 0.5:
            cmd += ["COUNT", str(rng.randint(-1, 5))]
        return cmd
    if r < 0.62:
        return ["XREAD", "COUNT", str(rng.randint(1, 5)), "STREAMS", k,
                random_id(rng, top).replace("+", "$")]
    if r < 0.67:
        return ["XGROUP", "CREATE", k, rng.choice(["g1", "g2"]),
                rng.choice(["0", "$", random_id(rng, top).replace("+", "$")]), "MKSTREAM"]
    if r < 0.69:
        return ["XGROUP", "SETID", k, rng.choice(["g1", "g2"]),
                rng.choice(["0", "$", str(rng.randint(0, top))])]
    if r < 0.78:
        return ["XREADGROUP", "GROUP", rng.choice(["g1", "g2"]),
                rng.choice(["alice", "bob", "carol"]), "COUNT", str(rng.randint(1, 4))] + \
            (["NOACK"] if rng.random() < 0.1 else []) + \
            ["STREAMS", k, rng.choice([">", ">", ">", "0"])]
    if r < 0.83:
        return ["XACK", k, rng.choice(["g1", "g2"])] + \
            ["%d-%d" % (rng.randint(0, top), rng.randint(0, 2)) for _ in range(3)]
    if r < 0.86:
        return ["XCLAIM", k, rng.choice(["g1", "g2"]), rng.choice(["alice", "dave"]), "0",
                "%d-%d" % (rng.randint(0, top), rng.randint(0, 2))] + \
            rng.choice([[], ["JUSTID"], ["FORCE", "JUSTID"], ["RETRYCOUNT", "3"]])
    if r < 0.89:
        return ["XAUTOCLAIM", k, rng.choice(["g1", "g2"]), rng.choice(["bob", "erin"]), "0",
                random_id(rng, top).replace("+", "-"), "COUNT", str(rng.randint(1, 5))] + \
            rng.choice([[], ["JUSTID"]])
    if r < 0.92:
        return ["XINFO", "STREAM", k]
    if r < 0.94:
        return ["XINFO", "GROUPS", k]
    if r < 0.96:
        return ["XPENDING", k, rng.choice(["g1", "g2"])]
    if r < 0.98:
        return ["XLEN", k]
    return ["XSETID", k, "%d-%d" % (top + rng.randint(0, 2), rng.randint(0, 3))]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_random_stream_operations_match_redis(server, redis_server, seed):
    rng = random.Random(seed)
    node_entries = [1, 2, 3, 5, 100, 2][seed - 1]
    ours = RawConnection(server.client())
    theirs = RawConnection(redis_server.client())
    try:
        need_streams(ours)
        prefix = "xr%d:%s:" % (seed, uuid.uuid4().hex[:6])
        for conn in (ours, theirs):
            conn.command("CONFIG", "SET", "stream-node-max-entries", str(node_entries))
            conn.command("CONFIG", "SET", "rdbcompression", "no")
        state = {"top": rng.randint(0, 5)}
        for i in range(RANDOM_OPS_PER_SEED):
            cmd = random_stream_command(rng, state)
            args = [prefix + a[1:] if a.startswith("@") else a for a in cmd]
            g, w = ours.command(*args), theirs.command(*args)
            assert g == w, "op %d %r" % (i, cmd)
        for key in ("s", "t"):
            k = prefix + key
            for cmd in (["XINFO", "STREAM", k], ["XINFO", "GROUPS", k], ["XLEN", k],
                        ["XRANGE", k, "-", "+"], ["XREVRANGE", k, "+", "-"],
                        ["DEBUG", "DIGEST-VALUE", k]):
                assert ours.command(*cmd) == theirs.command(*cmd), cmd
            # The nodes are byte-identical: DUMP without LZF (groups hold clocks: only
            # streams without groups compare whole).
            if parse_resp(ours.command("XINFO", "STREAM", k))[17] == 0:
                assert ours.command("DUMP", k) == theirs.command("DUMP", k)
    finally:
        ours.close()
        theirs.close()


def test_large_stream_radix_tree_shape_matches_redis(server, redis_server):
    """Thousands of nodes with IDs spread over several byte positions: XINFO STREAM
    (radix-tree-keys and -nodes) after appends, deletes that empty nodes, and trims."""
    ours = RawConnection(server.client())
    theirs = RawConnection(redis_server.client())
    try:
        need_streams(ours)
        rng = random.Random(99)
        cmds = [["CONFIG", "SET", "stream-node-max-entries", "4"]]
        ms = 1
        for i in range(6000):
            ms += rng.choice([0, 1, 7, 255, 256, 70000, 1 << 33])
            cmds.append(["XADD", "big", "%d-*" % ms, "f", str(i)])
        cmds.append(["XINFO", "STREAM", "big"])
        for conn in (ours, theirs):
            for cmd in cmds[:-1]:
                conn.send(*cmd)
            for _ in cmds[:-1]:
                conn.read_reply()
        assert ours.command("XINFO", "STREAM", "big") == theirs.command("XINFO", "STREAM", "big")
        ids = [e[0] for e in parse_resp(ours.command("XRANGE", "big", "-", "+"))]
        victims = rng.sample(ids, 3000)
        for v in victims:
            assert ours.command("XDEL", "big", v) == theirs.command("XDEL", "big", v)
        for cmd in (["XINFO", "STREAM", "big"], ["XTRIM", "big", "MAXLEN", "~", "1000"],
                    ["XINFO", "STREAM", "big"], ["XTRIM", "big", "MINID", ids[4000]],
                    ["XINFO", "STREAM", "big"], ["DEBUG", "DIGEST-VALUE", "big"]):
            assert ours.command(*cmd) == theirs.command(*cmd), cmd
    finally:
        ours.close()
        theirs.close()


# ---------------------------------------------------------------------------
# Keyspace events and WATCH
# ---------------------------------------------------------------------------
NOTIFY_SEQUENCE = [
    ["XADD", "@s", "1-0", "a", "1"],
    ["XADD", "@s", "2-0", "a", "2"],
    ["XADD", "@s", "MAXLEN", "1", "3-0", "a", "3"],
    ["XADD", "@s", "MAXLEN", "5", "4-0", "a", "4"],
    ["XADD", "@s", "NOMKSTREAM", "5-0", "a", "5"],
    ["XADD", "@none", "NOMKSTREAM", "5-0", "a", "5"],
    ["XDEL", "@s", "9-9"],
    ["XDEL", "@s", "3-0"],
    ["XTRIM", "@s", "MAXLEN", "5"],
    ["XTRIM", "@s", "MAXLEN", "1"],
    ["XSETID", "@s", "10-0"],
    ["XGROUP", "CREATE", "@s", "g", "0"],
    ["XGROUP", "CREATE", "@s", "g", "0"],
    ["XGROUP", "CREATE", "@m", "g", "0", "MKSTREAM"],
    ["XGROUP", "SETID", "@s", "g", "$"],
    ["XGROUP", "CREATECONSUMER", "@s", "g", "c"],
    ["XGROUP", "CREATECONSUMER", "@s", "g", "c"],
    ["XADD", "@s", "11-0", "a", "1"],
    ["XREADGROUP", "GROUP", "g", "d", "STREAMS", "@s", ">"],
    ["XREADGROUP", "GROUP", "g", "e", "STREAMS", "@s", ">"],
    ["XACK", "@s", "g", "11-0"],
    ["XCLAIM", "@s", "g", "f", "0", "11-0", "FORCE"],
    ["XAUTOCLAIM", "@s", "g", "h", "0", "0"],
    ["XGROUP", "DELCONSUMER", "@s", "g", "c"],
    ["XGROUP", "DELCONSUMER", "@s", "g", "nosuch"],
    ["XGROUP", "DESTROY", "@s", "g"],
    ["XGROUP", "DESTROY", "@s", "g"],
    ["DEL", "@s"],
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
    need_streams(conn)
    conn.close()
    prefix = "xev:%s:" % uuid.uuid4().hex[:8]
    ours = collect_events(server, prefix)
    assert ours == collect_events(redis_server, prefix)
    assert (("__keyspace@0__:%ss" % prefix).encode(), b"xgroup-createconsumer") in ours


# Each case: setup commands, then WATCH @s, the command from another connection, EXEC.
WATCH_CASES = [
    ["XADD", "@s", "9-0", "a", "1"],
    ["XADD", "@s", "1-0", "a", "1"],
    ["XADD", "@none", "NOMKSTREAM", "9-0", "a", "1"],
    ["XDEL", "@s", "2-0"],
    ["XDEL", "@s", "8-8"],
    ["XTRIM", "@s", "MAXLEN", "1"],
    ["XTRIM", "@s", "MAXLEN", "100"],
    ["XSETID", "@s", "50-0"],
    ["XGROUP", "CREATE", "@s", "h", "0"],
    ["XGROUP", "SETID", "@s", "g", "0"],
    ["XGROUP", "DESTROY", "@s", "g"],
    ["XGROUP", "CREATECONSUMER", "@s", "g", "x"],
    ["XGROUP", "DELCONSUMER", "@s", "g", "c"],
    ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "@s", ">"],
    ["XACK", "@s", "g", "1-0"],
    ["XCLAIM", "@s", "g", "z", "0", "1-0"],
    ["XAUTOCLAIM", "@s", "g", "z", "0", "0"],
    ["XREAD", "STREAMS", "@s", "0"],
    ["XRANGE", "@s", "-", "+"],
    ["XINFO", "STREAM", "@s"],
    ["DEL", "@s"],
]


def watch_results(srv, prefix):
    a = RawConnection(srv.client())
    b = RawConnection(srv.client())
    out = []
    try:
        for i, cmd in enumerate(WATCH_CASES):
            p = "%s%d:" % (prefix, i)
            fix = lambda args: [p + x[1:] if x.startswith("@") else x for x in args]  # noqa
            for setup in (["XADD", "@s", "1-0", "a", "1"], ["XADD", "@s", "2-0", "a", "2"],
                          ["XGROUP", "CREATE", "@s", "g", "0"],
                          ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "@s",
                           ">"]):
                b.command(*fix(setup))
            a.command("WATCH", p + "s")
            a.command("MULTI")
            a.command("PING")
            out.append(b.command(*fix(cmd)))
            out.append(a.command("EXEC"))
        return out
    finally:
        a.close()
        b.close()


def test_watch_invalidation_matches_redis(server, redis_server):
    conn = RawConnection(server.client())
    need_streams(conn)
    conn.close()
    prefix = "xw:%s:" % uuid.uuid4().hex[:6]
    ours = watch_results(server, prefix)
    theirs = watch_results(redis_server, prefix)
    for i, cmd in enumerate(WATCH_CASES):
        assert ours[2 * i:2 * i + 2] == theirs[2 * i:2 * i + 2], cmd


# ---------------------------------------------------------------------------
# COMMAND INFO / GETKEYS of the stream commands
# ---------------------------------------------------------------------------
OWNED_COMMANDS = ["xadd", "xrange", "xrevrange", "xlen", "xdel", "xtrim", "xread",
                  "xreadgroup", "xgroup", "xack", "xpending", "xclaim", "xautoclaim",
                  "xinfo", "xsetid", "xgroup|create", "xgroup|setid", "xgroup|destroy",
                  "xgroup|createconsumer", "xgroup|delconsumer", "xgroup|help",
                  "xinfo|stream", "xinfo|groups", "xinfo|consumers", "xinfo|help"]


def normalize_command_reply(sub, value):
    """Subcommands come in the order of a dict in Redis (it changes from process to process):
    sort them."""
    if sub == "INFO":
        for info in value:
            if info is not None and info[9]:
                info[9] = sorted(info[9], key=lambda x: x[0])
        return value
    # DOCS: [name, [k, v, ...]]; the "subcommands" value is [name, docs, name, docs...].
    for i in range(1, len(value), 2):
        doc = value[i]
        for j in range(0, len(doc), 2):
            if doc[j] == b"subcommands":
                pairs = doc[j + 1]
                doc[j + 1] = sorted(zip(pairs[0::2], pairs[1::2]))
    return value


@pytest.mark.parametrize("name", OWNED_COMMANDS)
def test_command_info_and_docs_match_redis(server, redis_server, name):
    for sub in ("INFO", "DOCS"):
        replies = []
        for srv in (server, redis_server):
            conn = RawConnection(srv.client())
            try:
                replies.append(normalize_command_reply(
                    sub, parse_resp(conn.command("COMMAND", sub, name))))
            finally:
                conn.close()
        assert replies[0] == replies[1], sub


GETKEYS_CASES = [
    ["XREAD", "COUNT", "2", "STREAMS", "a", "b", "0", "0"],
    ["XREAD", "BLOCK", "0", "STREAMS", "streams", "0"],
    ["XREADGROUP", "GROUP", "streams", "c", "NOACK", "STREAMS", "a", ">"],
    ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "b", ">"],
    ["XREAD", "STREAMS", "a"],
    ["XADD", "k", "*", "f", "v"],
    ["XGROUP", "CREATE", "k", "g", "$"],
    ["XINFO", "STREAM", "k"],
]


def test_command_getkeys_matches_redis(server, redis_server):
    for case in GETKEYS_CASES:
        replies = []
        for srv in (server, redis_server):
            conn = RawConnection(srv.client())
            try:
                replies.append(conn.command("COMMAND", "GETKEYS", *case))
            finally:
                conn.close()
        assert replies[0] == replies[1], case


# The transport does not matter to what this file checks: one run, in the plain pass (keeps
# ./runtest under its 30-minute budget).
pytestmark = pytest.mark.plain_only("transport-independent: run once (plain)")
