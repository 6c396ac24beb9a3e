"""Keyspace notifications and WATCH invalidation of every write command, compared with Debian's
redis-server 7.0 case by case (issue 16 item 10).

Each case is (setup, command): after the setup, one client per key the case names WATCHes
that key, another client (psubscribed to __key*@*__:* with notify-keyspace-events KEAnm) records
the notifications, and a third runs the command. The test compares, between the two servers:
  - the command's reply, byte for byte;
  - the exact sequence of notifications it caused (channel and payload, in order);
  - for each key, whether the client WATCHing it had its MULTI/EXEC aborted (a nil reply);
  - what the command added to INFO's rdb_changes_since_last_save (the dirty count that decides
    propagation), keyspace_hits and keyspace_misses.

Most cases are no-ops (SET NX on an existing key, SADD of a member already there, EXPIRE of a
missing key, ...): Redis signals nothing for them, and neither may Redoubt. Some look like
no-ops but do signal in Redis (HSET of the same value, INCRBY 0, SETBIT of the same bit,
LTRIM that keeps everything): they are here too, so the table pins both directions. A few
cases that change something are kept as controls.

Keys are written "@name" and get a per-case prefix. The notifications of the setup are
discarded: a marker write in db 15 ends each capture. In a setup, ["SLEEP"] lets PX 1 keys
expire (active expiry is off: DEBUG SET-ACTIVE-EXPIRE 0); a command ["SLEEP", ms] runs nothing
and lets time pass after the WATCH.

Run against REDOUBT_SERVER=/usr/bin/redis-server as well: the table then validates itself.
"""

import time
import uuid

import pytest

from compare import RawConnection, parse_resp

pytestmark = [
    pytest.mark.plain_only("transport-independent; runs once to keep ./runtest short"),
    pytest.mark.server_args("--enable-debug-command", "yes"),
    pytest.mark.redis_server_args("--enable-debug-command", "yes"),
]

MARKER_DB = 15
# KEA plus "n" (new keys) and "m" (key misses, which read lookups of write commands send).
NOTIFY_FLAGS = "KEAnm"

# ---------------------------------------------------------------------------
# The table: family -> [(setup commands, command under test)]
# ---------------------------------------------------------------------------
STRINGS = [
    ([["SET", "@k", "v"]], ["SET", "@k", "w", "NX"]),
    ([], ["SET", "@k", "w", "XX"]),
    ([["SET", "@k", "v"]], ["SET", "@k", "v"]),  # same value: signals
    ([["SET", "@k", "v"]], ["SET", "@k", "w", "NX", "GET"]),
    ([], ["SET", "@k", "w", "XX", "GET"]),
    ([["SET", "@k", "v"]], ["SETNX", "@k", "w"]),
    ([["SET", "@k", "v"]], ["MSETNX", "@k2", "a", "@k", "b"]),
    ([["SET", "@k", "v"]], ["SETRANGE", "@k", "0", ""]),
    ([["SET", "@k", "v"]], ["SETRANGE", "@k", "10", ""]),
    ([], ["SETRANGE", "@k", "5", ""]),
    ([["SET", "@k", "v"]], ["SETRANGE", "@k", "0", "v"]),  # same bytes: signals
    ([["SET", "@k", "v"]], ["APPEND", "@k", ""]),
    ([], ["APPEND", "@k", ""]),
    ([["SET", "@k", "5"]], ["INCRBY", "@k", "0"]),
    ([["SET", "@k", "5"]], ["DECRBY", "@k", "0"]),
    ([["SET", "@k", "5"]], ["INCRBYFLOAT", "@k", "0"]),
    ([["SET", "@k", "x"]], ["INCR", "@k"]),  # error
    ([], ["GETDEL", "@k"]),
    ([["SET", "@k", "v"]], ["GETDEL", "@k"]),
    ([], ["GETEX", "@k", "EX", "100"]),
    ([["SET", "@k", "v"]], ["GETEX", "@k"]),
    ([["SET", "@k", "v"]], ["GETEX", "@k", "PERSIST"]),
    ([["SET", "@k", "v", "EX", "100"]], ["GETEX", "@k", "PERSIST"]),
    ([["SET", "@k", "v"]], ["GETEX", "@k", "EX", "100"]),
    ([["SET", "@k", "v"]], ["GETSET", "@k", "v"]),
    ([["SET", "@k", "v"]], ["LCS", "@k", "@k2"]),
    ([["SET", "@k", "v"]], ["SET", "@k", "v", "KEEPTTL"]),
    ([["SET", "@k", "v"]], ["SETEX", "@k", "100", "v"]),
    ([["SET", "@k", "v"]], ["SET", "@k", "v", "PXAT", "1"]),
    ([["SET", "@k", "v"]], ["SET", "@k", "v", "EX", "0"]),  # error
    ([["SET", "@k", "v"]], ["MSET", "@k", "v", "@k2", "w"]),
    ([["RPUSH", "@k", "a"]], ["SET", "@k", "w", "GET"]),  # WRONGTYPE
    ([["RPUSH", "@k", "a"]], ["SETRANGE", "@k", "0", ""]),
    ([["RPUSH", "@k", "a"]], ["APPEND", "@k", "x"]),
    ([], ["DECR", "@k"]),
    ([["SET", "@k", "9223372036854775807"]], ["INCR", "@k"]),  # overflow error
    ([["SET", "@k", "v"]], ["GET", "@k"]),
    ([], ["GET", "@k"]),
    ([], ["MGET", "@k", "@k2"]),
    ([["SET", "@k", "v"]], ["STRLEN", "@k"]),
    ([["SET", "@k", "v"]], ["PSETEX", "@k", "100000", "v"]),
]

KEYS = [
    ([], ["DEL", "@k"]),
    ([], ["UNLINK", "@k", "@k2"]),
    ([["SET", "@k", "v"]], ["DEL", "@k", "@k2"]),
    ([], ["EXPIRE", "@k", "100"]),
    ([], ["PEXPIRE", "@k", "100000"]),
    ([], ["EXPIREAT", "@k", "4102444800"]),
    ([], ["PEXPIREAT", "@k", "4102444800000"]),
    ([["SET", "@k", "v", "EX", "100"]], ["EXPIRE", "@k", "200", "NX"]),
    ([["SET", "@k", "v"]], ["EXPIRE", "@k", "200", "XX"]),
    ([["SET", "@k", "v", "EX", "100"]], ["EXPIRE", "@k", "50", "GT"]),
    ([["SET", "@k", "v", "EX", "100"]], ["EXPIRE", "@k", "500", "LT"]),
    ([["SET", "@k", "v"]], ["EXPIRE", "@k", "100", "GT"]),
    ([["SET", "@k", "v", "EX", "100"]], ["EXPIRE", "@k", "100"]),  # same TTL: signals
    ([["SET", "@k", "v"]], ["EXPIRE", "@k", "-1"]),  # deletes
    ([["SET", "@k", "v"]], ["PEXPIREAT", "@k", "1"]),  # in the past: deletes
    ([], ["EXPIRE", "@k", "-1"]),
    ([["SET", "@k", "v"]], ["PERSIST", "@k"]),
    ([], ["PERSIST", "@k"]),
    ([["SET", "@k", "v", "EX", "100"]], ["PERSIST", "@k"]),
    ([["SET", "@k", "v"]], ["RENAME", "@k", "@k"]),
    ([["SET", "@k", "v", "EX", "100"]], ["RENAME", "@k", "@k"]),
    ([["SET", "@k", "v"]], ["RENAMENX", "@k", "@k"]),
    ([["SET", "@k", "v"], ["SET", "@k2", "w"]], ["RENAMENX", "@k", "@k2"]),
    ([], ["RENAME", "@k", "@k2"]),
    ([["SET", "@k", "v"], ["SET", "@k2", "w"]], ["RENAME", "@k", "@k2"]),
    ([["SET", "@k", "v"], ["SET", "@k2", "w"]], ["COPY", "@k", "@k2"]),
    ([["SET", "@k", "v"], ["SET", "@k2", "w"]], ["COPY", "@k", "@k2", "REPLACE"]),
    ([["SET", "@k", "v"]], ["COPY", "@k", "@k"]),
    ([], ["COPY", "@k", "@k2"]),
    ([["SET", "@k", "v"], ["SELECT", "1"], ["SET", "@k", "w"], ["SELECT", "0"]],
     ["MOVE", "@k", "1"]),
    ([], ["MOVE", "@k", "1"]),
    ([["SET", "@k", "v"]], ["MOVE", "@k", "0"]),
    ([["SET", "@k", "v"]], ["TOUCH", "@k", "@k2"]),
    ([["RPUSH", "@k", "3", "1", "2"], ["SET", "@k2", "v"]], ["SORT", "@k", "STORE", "@k2"]),
    ([["SET", "@k2", "v"]], ["SORT", "@k", "STORE", "@k2"]),  # empty result: deletes @k2
    ([], ["SORT", "@k", "STORE", "@k2"]),
    ([["SET", "@k", "v"]], ["SWAPDB", "0", "0"]),
    ([["SET", "@k", "v"]], ["FLUSHDB"]),
    ([["SELECT", "1"], ["SET", "@k", "v"], ["SELECT", "0"]], ["FLUSHDB"]),
    ([["SELECT", "1"], ["SET", "@k", "v"], ["SELECT", "0"]], ["SWAPDB", "0", "1"]),
    ([["SELECT", "2"], ["SET", "@k", "v"], ["SELECT", "0"]], ["SWAPDB", "1", "3"]),
    ([["SET", "@k", "v"]], ["DEL", "@k", "@k"]),
    ([["SET", "@k", "v"]], ["EXPIRE", "@k", "9223372036854775807"]),  # error
    ([["SET", "@k", "v"]], ["EXPIRE", "@k", "100", "NX", "XX"]),  # error
    ([["SET", "@k", "v", "EX", "100"], ["SET", "@k2", "w", "EX", "200"]],
     ["RENAME", "@k", "@k2"]),
    ([["SET", "@k", "v"]], ["EXISTS", "@k", "@k2"]),
    ([["SET", "@k", "v"]], ["TYPE", "@k2"]),
    ([["SET", "@k", "v"]], ["RESTORE", "@k", "0", "junk"]),  # BUSYKEY
    ([["SET", "@k", "v"]], ["SORT", "@k", "STORE", "@k2"]),  # error
    ([["RPUSH", "@k", "1"], ["RPUSH", "@k2", "1"]], ["SORT", "@k", "STORE", "@k2"]),
    ([["SET", "@k", "v"]], ["COPY", "@k", "@k", "DB", "1"]),
    ([["SET", "@k", "v"], ["SELECT", "1"], ["SET", "@k", "w"], ["SELECT", "0"]],
     ["COPY", "@k", "@k", "DB", "1"]),
    ([], ["FLUSHALL"]),
    ([["SET", "@k", "v"]], ["FLUSHALL", "ASYNC"]),
    ([["SET", "@k", "v"]], ["SCAN", "0", "COUNT", "10"]),
    ([["SET", "@k", "v"]], ["OBJECT", "ENCODING", "@k"]),
]

LISTS = [
    ([], ["LPUSHX", "@k", "a"]),
    ([], ["RPUSHX", "@k", "a", "b"]),
    ([["RPUSH", "@k", "a", "b"]], ["LREM", "@k", "0", "zz"]),
    ([], ["LREM", "@k", "0", "a"]),
    ([["RPUSH", "@k", "a", "b"]], ["LTRIM", "@k", "0", "-1"]),  # keeps everything
    ([["RPUSH", "@k", "a", "b"]], ["LTRIM", "@k", "0", "100"]),
    ([["RPUSH", "@k", "a", "b"]], ["LTRIM", "@k", "5", "10"]),  # empties: deletes
    ([], ["LTRIM", "@k", "0", "1"]),
    ([["RPUSH", "@k", "a", "b"]], ["LSET", "@k", "0", "a"]),  # same value: signals
    ([["RPUSH", "@k", "a", "b"]], ["LINSERT", "@k", "BEFORE", "zz", "x"]),
    ([], ["LINSERT", "@k", "BEFORE", "a", "x"]),
    ([], ["LMOVE", "@k", "@k2", "LEFT", "RIGHT"]),
    ([["RPUSH", "@k", "a"]], ["LMOVE", "@k", "@k", "LEFT", "RIGHT"]),
    ([["RPUSH", "@k", "a", "b"]], ["LMOVE", "@k", "@k", "LEFT", "LEFT"]),
    ([["SET", "@k2", "v"], ["RPUSH", "@k", "a"]], ["LMOVE", "@k", "@k2", "LEFT", "RIGHT"]),
    ([], ["RPOPLPUSH", "@k", "@k2"]),
    ([], ["LPOP", "@k"]),
    ([["RPUSH", "@k", "a"]], ["LPOP", "@k", "0"]),
    ([["RPUSH", "@k", "a"]], ["RPOP", "@k", "5"]),
    ([], ["LMPOP", "2", "@k", "@k2", "LEFT"]),
    ([["RPUSH", "@k2", "a", "b"]], ["LMPOP", "2", "@k", "@k2", "RIGHT", "COUNT", "5"]),
    ([["RPUSH", "@k", "a"]], ["BLPOP", "@k", "0"]),
    ([["RPUSH", "@k", "a", "b"]], ["BLMOVE", "@k", "@k2", "RIGHT", "LEFT", "0"]),
    ([["RPUSH", "@k", "a", "b", "a"]], ["LREM", "@k", "1", "a"]),
    ([["RPUSH", "@k", "a"]], ["LREM", "@k", "0", "a"]),  # empties: deletes
    ([["RPUSH", "@k", "a", "b"]], ["LINSERT", "@k", "AFTER", "a", "x"]),
    ([["RPUSH", "@k", "a"]], ["RPOPLPUSH", "@k", "@k"]),
    ([["RPUSH", "@k", "a"], ["SET", "@k2", "v"]], ["RPOPLPUSH", "@k", "@k2"]),
    ([["RPUSH", "@k", "a"]], ["LSET", "@k", "5", "x"]),  # error
    ([], ["LSET", "@k", "0", "x"]),
    ([["SET", "@k", "v"]], ["LPUSH", "@k", "a"]),
    ([["RPUSH", "@k", "a"]], ["LPUSHX", "@k", "b"]),
    ([["RPUSH", "@k", "a", "b"]], ["BLMPOP", "0", "1", "@k", "LEFT", "COUNT", "1"]),
    ([["RPUSH", "@k", "a"]], ["BRPOPLPUSH", "@k", "@k2", "0"]),
    ([["RPUSH", "@k", "a", "b", "c"]], ["LTRIM", "@k", "1", "-1"]),
    ([["RPUSH", "@k", "a"]], ["LRANGE", "@k", "0", "-1"]),
    ([], ["LLEN", "@k"]),
    ([["RPUSH", "@k", "a"]], ["LPOS", "@k", "a"]),
]

SETS = [
    ([["SADD", "@k", "a"]], ["SADD", "@k", "a"]),
    ([["SADD", "@k", "a"]], ["SADD", "@k", "a", "b"]),
    ([["SADD", "@k", "a"]], ["SREM", "@k", "b"]),
    ([], ["SREM", "@k", "b"]),
    ([["SADD", "@k", "a", "b"]], ["SREM", "@k", "a", "b"]),  # empties: deletes
    ([["SADD", "@k", "a"], ["SADD", "@k2", "a"]], ["SMOVE", "@k", "@k2", "a"]),
    ([["SADD", "@k", "a", "b"], ["SADD", "@k2", "a"]], ["SMOVE", "@k", "@k2", "a"]),
    ([["SADD", "@k", "a"], ["SADD", "@k2", "b"]], ["SMOVE", "@k", "@k2", "zz"]),
    ([["SADD", "@k", "a"]], ["SMOVE", "@k", "@k", "a"]),
    ([["SADD", "@k", "a"]], ["SMOVE", "@k", "@k2", "a"]),
    ([], ["SMOVE", "@k", "@k2", "a"]),
    ([["SADD", "@k", "a"], ["SET", "@k2", "v"]], ["SMOVE", "@k", "@k2", "a"]),
    ([], ["SPOP", "@k"]),
    ([["SADD", "@k", "a"]], ["SPOP", "@k", "0"]),
    ([["SADD", "@k", "a"]], ["SPOP", "@k", "5"]),
    ([["SADD", "@k", "a"], ["SET", "@k2", "v"]], ["SINTERSTORE", "@k2", "@k", "@k3"]),
    ([["SADD", "@k", "a"]], ["SINTERSTORE", "@k2", "@k", "@k3"]),
    ([["SADD", "@k", "a"], ["SADD", "@k2", "a"]], ["SUNIONSTORE", "@k2", "@k"]),
    ([["SADD", "@k", "a"], ["SADD", "@k2", "a"]], ["SDIFFSTORE", "@k2", "@k", "@k"]),
    ([], ["SDIFFSTORE", "@k2", "@k"]),
    ([["SADD", "@k", "a"]], ["SRANDMEMBER", "@k", "-3"]),
    ([["SET", "@k", "v"]], ["SADD", "@k", "a"]),
    ([["SADD", "@k", "a"], ["SADD", "@k2", "b"]], ["SMOVE", "@k", "@k2", "a"]),
    ([["SADD", "@k", "a"]], ["SMISMEMBER", "@k", "a", "b"]),
    ([["SADD", "@k", "a"]], ["SINTERCARD", "2", "@k", "@k2"]),
    ([["SADD", "@k", "a"]], ["SUNION", "@k", "@k2"]),
    ([["SADD", "@k", "a"]], ["SDIFF", "@k", "@k2"]),
    ([["SADD", "@k", "a"], ["SADD", "@k2", "a"]], ["SINTERSTORE", "@k3", "@k", "@k2"]),
    ([["SADD", "@k", "a"]], ["SUNIONSTORE", "@k", "@k"]),
    ([], ["SUNIONSTORE", "@k2", "@k"]),
    ([["SADD", "@k", "a"]], ["SPOP", "@k"]),
    ([["SADD", "@k", "1"]], ["SISMEMBER", "@k", "2"]),
    ([["SADD", "@k", "1", "2"]], ["SADD", "@k", "x"]),  # intset -> hashtable
]

HASHES = [
    ([["HSET", "@k", "f", "v"]], ["HSET", "@k", "f", "v"]),  # same value: signals
    ([["HSET", "@k", "f", "v"]], ["HSETNX", "@k", "f", "w"]),
    ([["HSET", "@k", "f", "v"]], ["HDEL", "@k", "g"]),
    ([], ["HDEL", "@k", "g"]),
    ([["HSET", "@k", "f", "v"]], ["HDEL", "@k", "f", "g"]),  # empties: deletes
    ([["HSET", "@k", "f", "5"]], ["HINCRBY", "@k", "f", "0"]),
    ([["HSET", "@k", "f", "5"]], ["HINCRBYFLOAT", "@k", "f", "0"]),
    ([["HSET", "@k", "f", "x"]], ["HINCRBY", "@k", "f", "1"]),  # error
    ([["HSET", "@k", "f", "v"]], ["HMSET", "@k", "f", "v"]),
    ([["HSET", "@k", "f", "v"]], ["HSET", "@k", "f", "v", "g", "w"]),
    ([["HSET", "@k", "f", "v"]], ["HSETNX", "@k", "g", "w"]),
    ([], ["HSETNX", "@k", "g", "w"]),
    ([["SET", "@k", "v"]], ["HDEL", "@k", "f"]),
    ([["SET", "@k", "v"]], ["HSET", "@k", "f", "v"]),
    ([["HSET", "@k", "f", "1.5"]], ["HINCRBY", "@k", "f", "1"]),  # error
    ([["HSET", "@k", "f", "9223372036854775807"]], ["HINCRBY", "@k", "f", "1"]),
    ([], ["HINCRBY", "@k", "f", "0"]),
    ([["HSET", "@k", "f", "v"]], ["HGET", "@k", "g"]),
    ([], ["HGETALL", "@k"]),
    ([["HSET", "@k", "f", "v"]], ["HSTRLEN", "@k", "f"]),
    ([["HSET", "@k", "f", "v"]], ["HRANDFIELD", "@k", "-2"]),
]

ZSETS = [
    ([["ZADD", "@k", "1", "a"]], ["ZADD", "@k", "XX", "1", "b"]),
    ([], ["ZADD", "@k", "XX", "1", "b"]),
    ([["ZADD", "@k", "1", "a"]], ["ZADD", "@k", "NX", "2", "a"]),
    ([["ZADD", "@k", "1", "a"]], ["ZADD", "@k", "1", "a"]),
    ([["ZADD", "@k", "1", "a"]], ["ZADD", "@k", "CH", "1", "a"]),
    ([["ZADD", "@k", "5", "a"]], ["ZADD", "@k", "GT", "1", "a"]),
    ([["ZADD", "@k", "5", "a"]], ["ZADD", "@k", "LT", "9", "a"]),
    ([["ZADD", "@k", "5", "a"]], ["ZADD", "@k", "2", "a"]),  # changes
    ([["ZADD", "@k", "1", "a"]], ["ZINCRBY", "@k", "0", "a"]),
    ([["ZADD", "@k", "1", "a"]], ["ZADD", "@k", "INCR", "0", "a"]),
    ([["ZADD", "@k", "1", "a"]], ["ZADD", "@k", "XX", "INCR", "1", "b"]),
    ([["ZADD", "@k", "1", "a"]], ["ZREM", "@k", "b"]),
    ([], ["ZREM", "@k", "b"]),
    ([["ZADD", "@k", "1", "a"]], ["ZREM", "@k", "a"]),
    ([["ZADD", "@k", "1", "a"]], ["ZREMRANGEBYSCORE", "@k", "5", "10"]),
    ([["ZADD", "@k", "1", "a"]], ["ZREMRANGEBYRANK", "@k", "5", "10"]),
    ([["ZADD", "@k", "0", "a"]], ["ZREMRANGEBYLEX", "@k", "[x", "[z"]),
    ([], ["ZREMRANGEBYSCORE", "@k", "0", "10"]),
    ([], ["ZPOPMIN", "@k"]),
    ([["ZADD", "@k", "1", "a"]], ["ZPOPMAX", "@k", "0"]),
    ([["ZADD", "@k", "1", "a"]], ["ZPOPMIN", "@k", "5"]),
    ([], ["ZMPOP", "2", "@k", "@k2", "MIN"]),
    ([["ZADD", "@k", "1", "a"]], ["BZPOPMIN", "@k", "0"]),
    ([["ZADD", "@k", "1", "a"], ["SET", "@k2", "v"]],
     ["ZRANGESTORE", "@k2", "@k", "5", "10"]),
    ([["ZADD", "@k", "1", "a"]], ["ZRANGESTORE", "@k2", "@k", "5", "10"]),
    ([["ZADD", "@k", "1", "a"], ["SET", "@k2", "v"]], ["ZINTERSTORE", "@k2", "2", "@k", "@k3"]),
    ([["ZADD", "@k", "1", "a"]], ["ZINTERSTORE", "@k2", "2", "@k", "@k3"]),
    ([["ZADD", "@k", "1", "a"], ["SET", "@k2", "v"]], ["ZDIFFSTORE", "@k2", "2", "@k", "@k"]),
    ([["ZADD", "@k", "1", "a"], ["ZADD", "@k2", "1", "a"]], ["ZUNIONSTORE", "@k2", "1", "@k"]),
    ([["ZADD", "@k", "1", "a"]], ["ZINCRBY", "@k", "1", "a"]),
    ([["ZADD", "@k", "inf", "a"]], ["ZINCRBY", "@k", "-inf", "a"]),  # NaN error
    ([["ZADD", "@k", "1", "a"]], ["ZADD", "@k", "GT", "CH", "1", "a", "2", "b"]),
    ([["ZADD", "@k", "1", "a", "2", "b"]], ["ZREMRANGEBYRANK", "@k", "0", "-1"]),
    ([["ZADD", "@k", "1", "a"]], ["ZPOPMIN", "@k"]),
    ([], ["ZDIFFSTORE", "@k2", "1", "@k"]),
    ([], ["ZUNIONSTORE", "@k2", "1", "@k"]),
    ([["ZADD", "@k", "1", "a"]], ["ZUNIONSTORE", "@k", "1", "@k"]),
    ([["ZADD", "@k", "1", "a"]], ["ZRANGESTORE", "@k", "@k", "0", "-1"]),
    ([["ZADD", "@k", "1", "a"]], ["ZRANGESTORE", "@k2", "@k", "(1", "+inf", "BYSCORE"]),
    ([["SET", "@k", "v"]], ["ZADD", "@k", "1", "a"]),
    ([["ZADD", "@k", "1", "a"]], ["ZSCORE", "@k", "b"]),
    ([["ZADD", "@k", "1", "a"]], ["ZINTER", "2", "@k", "@k2"]),
    ([["ZADD", "@k", "1", "a"]], ["ZRANGE", "@k", "0", "-1"]),
    ([], ["ZCARD", "@k"]),
    ([["ZADD", "@k", "1", "a"]], ["ZRANDMEMBER", "@k", "-2"]),
]

STREAMS = [
    ([["XADD", "@k", "1-1", "f", "v"]], ["XTRIM", "@k", "MAXLEN", "100"]),
    ([["XADD", "@k", "1-1", "f", "v"]], ["XTRIM", "@k", "MINID", "0"]),
    ([["XADD", "@k", "1-1", "f", "v"], ["XADD", "@k", "2-1", "f", "v"]],
     ["XTRIM", "@k", "MAXLEN", "1"]),
    ([], ["XTRIM", "@k", "MAXLEN", "0"]),
    ([["XADD", "@k", "1-1", "f", "v"]], ["XDEL", "@k", "5-5"]),
    ([], ["XDEL", "@k", "5-5"]),
    ([["XADD", "@k", "1-1", "f", "v"]], ["XDEL", "@k", "1-1"]),
    ([], ["XADD", "@k", "NOMKSTREAM", "*", "f", "v"]),
    ([["XADD", "@k", "1-1", "f", "v"]], ["XADD", "@k", "MAXLEN", "0", "2-1", "f", "v"]),
    ([["XADD", "@k", "1-1", "f", "v"]], ["XSETID", "@k", "1-1"]),
    ([["XADD", "@k", "1-1", "f", "v"], ["XGROUP", "CREATE", "@k", "g", "0"]],
     ["XGROUP", "CREATE", "@k", "g", "0"]),
    ([["XADD", "@k", "1-1", "f", "v"], ["XGROUP", "CREATE", "@k", "g", "0"]],
     ["XGROUP", "SETID", "@k", "g", "0"]),
    ([["XADD", "@k", "1-1", "f", "v"]], ["XGROUP", "DESTROY", "@k", "nog"]),
    ([["XADD", "@k", "1-1", "f", "v"], ["XGROUP", "CREATE", "@k", "g", "0"]],
     ["XGROUP", "DESTROY", "@k", "g"]),
    ([["XADD", "@k", "1-1", "f", "v"], ["XGROUP", "CREATE", "@k", "g", "0"],
      ["XGROUP", "CREATECONSUMER", "@k", "g", "c"]],
     ["XGROUP", "CREATECONSUMER", "@k", "g", "c"]),
    ([["XADD", "@k", "1-1", "f", "v"], ["XGROUP", "CREATE", "@k", "g", "0"]],
     ["XGROUP", "CREATECONSUMER", "@k", "g", "c"]),
    ([["XADD", "@k", "1-1", "f", "v"], ["XGROUP", "CREATE", "@k", "g", "0"]],
     ["XGROUP", "DELCONSUMER", "@k", "g", "c"]),
    ([["XADD", "@k", "1-1", "f", "v"], ["XGROUP", "CREATE", "@k", "g", "0"]],
     ["XACK", "@k", "g", "1-1"]),
    ([["XADD", "@k", "1-1", "f", "v"], ["XGROUP", "CREATE", "@k", "g", "0"],
      ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "@k", ">"]],
     ["XACK", "@k", "g", "1-1"]),
    ([["XADD", "@k", "1-1", "f", "v"], ["XGROUP", "CREATE", "@k", "g", "$"]],
     ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "@k", ">"]),
    ([["XADD", "@k", "1-1", "f", "v"], ["XGROUP", "CREATE", "@k", "g", "0"],
      ["XGROUP", "CREATECONSUMER", "@k", "g", "c"]],
     ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "@k", "0"]),
    ([["XADD", "@k", "1-1", "f", "v"], ["XGROUP", "CREATE", "@k", "g", "0"]],
     ["XCLAIM", "@k", "g", "c", "0", "1-1"]),
    ([["XADD", "@k", "1-1", "f", "v"], ["XGROUP", "CREATE", "@k", "g", "0"]],
     ["XAUTOCLAIM", "@k", "g", "c", "0", "0"]),
    ([["XADD", "@k", "1-1", "f", "v"], ["XGROUP", "CREATE", "@k", "g", "0"],
      ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "@k", ">"]],
     ["XAUTOCLAIM", "@k", "g", "c2", "0", "0"]),
    ([["XADD", "@k", "1-1", "f", "v"], ["XGROUP", "CREATE", "@k", "g", "0"],
      ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "@k", ">"]],
     ["XCLAIM", "@k", "g", "c", "0", "1-1", "JUSTID"]),
    ([["XADD", "@k", "1-1", "f", "v"], ["XGROUP", "CREATE", "@k", "g", "0"],
      ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "@k", ">"]],
     ["XCLAIM", "@k", "g", "c", "3600000", "1-1"]),
    ([["XADD", "@k", "1-1", "f", "v"], ["XGROUP", "CREATE", "@k", "g", "0"],
      ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "@k", ">"], ["XDEL", "@k", "1-1"]],
     ["XAUTOCLAIM", "@k", "g", "c2", "0", "0"]),
    ([["XADD", "@k", "1-1", "f", "v"], ["XGROUP", "CREATE", "@k", "g", "0"]],
     ["XREADGROUP", "GROUP", "g", "c", "NOACK", "STREAMS", "@k", ">"]),
    ([["XADD", "@k", "1-1", "f", "v"], ["XGROUP", "CREATE", "@k", "g", "$"]],
     ["XGROUP", "SETID", "@k", "g", "$", "ENTRIESREAD", "1"]),
    ([["XADD", "@k", "1-1", "f", "v"], ["XGROUP", "CREATE", "@k", "g", "0"],
      ["XGROUP", "CREATECONSUMER", "@k", "g", "c"]],
     ["XGROUP", "DELCONSUMER", "@k", "g", "c"]),
    ([["XADD", "@k", "1-1", "f", "v"]], ["XSETID", "@k", "5-5"]),
    ([["XADD", "@k", "1-1", "f", "v"]], ["XSETID", "@k", "0-1"]),  # error
    ([["XADD", "@k", "1-1", "f", "v"]], ["XADD", "@k", "1-1", "f", "v"]),  # error
    ([["XADD", "@k", "1-1", "f", "v"]], ["XRANGE", "@k", "-", "+"]),
    ([["XADD", "@k", "1-1", "f", "v"]], ["XREAD", "STREAMS", "@k", "@k2", "0", "0"]),
    ([], ["XLEN", "@k"]),
    ([["XADD", "@k", "1-1", "f", "v"], ["XGROUP", "CREATE", "@k", "g", "0"]],
     ["XPENDING", "@k", "g"]),
]

OTHERS = [
    ([["SETBIT", "@k", "3", "1"]], ["SETBIT", "@k", "3", "1"]),
    ([["SET", "@k", "v"]], ["BITOP", "AND", "@k", "@k2"]),
    ([], ["BITOP", "AND", "@k", "@k2"]),
    ([["SETBIT", "@k", "3", "1"]], ["BITFIELD", "@k", "GET", "u8", "0"]),
    ([["SETBIT", "@k", "3", "1"]], ["BITFIELD", "@k", "SET", "u8", "0", "16"]),
    ([["PFADD", "@k", "a"]], ["PFADD", "@k", "a"]),
    ([["PFADD", "@k", "a"]], ["PFADD", "@k"]),
    ([["PFADD", "@k", "a"]], ["PFMERGE", "@k", "@k"]),
    ([["GEOADD", "@k", "10", "20", "a"]], ["GEOADD", "@k", "XX", "10", "20", "b"]),
    ([["GEOADD", "@k", "10", "20", "a"]], ["GEOADD", "@k", "NX", "11", "21", "a"]),
    ([["GEOADD", "@k", "10", "20", "a"]], ["GEOADD", "@k", "10", "20", "a"]),
    ([["GEOADD", "@k", "10", "20", "a"], ["SET", "@k2", "v"]],
     ["GEOSEARCHSTORE", "@k2", "@k", "FROMLONLAT", "-50", "-50", "BYRADIUS", "1", "km"]),
    ([["GEOADD", "@k", "10", "20", "a"]],
     ["GEOSEARCHSTORE", "@k2", "@k", "FROMLONLAT", "-50", "-50", "BYRADIUS", "1", "km"]),
    ([["GEOADD", "@k", "10", "20", "a"], ["SET", "@k2", "v"]],
     ["GEORADIUS", "@k", "-50", "-50", "1", "km", "STORE", "@k2"]),
    ([["GEOADD", "@k", "10", "20", "a"]], ["GEORADIUS", "@k", "10", "20", "1", "km",
                                           "STOREDIST", "@k2"]),
    ([["SET", "@k", "v"]], ["EVAL", "return redis.call('set', KEYS[1], 'w', 'NX')", "1", "@k"]),
    ([["SETBIT", "@k", "3", "1"]], ["SETBIT", "@k", "3", "0"]),
    ([["SETBIT", "@k", "3", "1"]], ["SETBIT", "@k", "100", "0"]),
    ([], ["SETBIT", "@k", "0", "0"]),
    ([["SETBIT", "@k", "3", "1"]], ["BITFIELD", "@k", "INCRBY", "u8", "0", "0"]),
    ([["SETBIT", "@k", "3", "1"]], ["BITFIELD", "@k", "OVERFLOW", "FAIL", "INCRBY", "u8", "0",
                                    "1000"]),
    ([], ["BITFIELD", "@k", "GET", "u8", "0"]),
    ([["SETBIT", "@k", "3", "1"]], ["BITOP", "NOT", "@k", "@k"]),
    ([["SETBIT", "@k", "3", "1"]], ["BITCOUNT", "@k2"]),
    ([["PFADD", "@k", "a"]], ["PFADD", "@k", "b"]),
    ([], ["PFADD", "@k"]),
    ([["PFADD", "@k", "a"]], ["PFCOUNT", "@k"]),
    ([["PFADD", "@k", "a"]], ["PFCOUNT", "@k", "@k2"]),
    ([["PFADD", "@k", "a"]], ["PFMERGE", "@k2", "@k"]),
    ([["GEOADD", "@k", "10", "20", "a"]], ["GEOADD", "@k", "CH", "10", "20", "a"]),
    ([["GEOADD", "@k", "10", "20", "a"]], ["GEOADD", "@k", "CH", "11", "20", "a"]),
    ([["GEOADD", "@k", "10", "20", "a"]], ["GEOPOS", "@k", "a", "b"]),
    ([["GEOADD", "@k", "10", "20", "a"]],
     ["GEOSEARCHSTORE", "@k2", "@k", "FROMMEMBER", "a", "BYRADIUS", "1", "km", "STOREDIST"]),
    ([["GEOADD", "@k", "10", "20", "a"]], ["GEOSEARCH", "@k2", "FROMLONLAT", "0", "0",
                                           "BYRADIUS", "1", "km"]),
    ([["SET", "@k", "v"]], ["EVAL", "return redis.call('del', KEYS[1], KEYS[2])", "2", "@k2",
                            "@k3"]),
    ([["SET", "@k", "v"]], ["EVAL", "return redis.call('get', KEYS[1])", "1", "@k"]),
    ([["SADD", "@k", "a"]], ["EVAL", "return redis.call('sadd', KEYS[1], 'a')", "1", "@k"]),
]

# Keys that expired before the WATCH (active expiry off): the write commands find them gone
# (an "expired" event, then whatever the command does to a missing key).
EXPIRED = [
    ([["SET", "@k", "v", "PX", "1"], ["SLEEP"]], ["SET", "@k", "w", "NX"]),
    ([["SET", "@k", "v", "PX", "1"], ["SLEEP"]], ["SET", "@k", "w", "XX"]),
    ([["SET", "@k", "v", "PX", "1"], ["SLEEP"]], ["GET", "@k"]),
    ([["SET", "@k", "v", "PX", "1"], ["SLEEP"]], ["DEL", "@k"]),
    ([["SET", "@k", "v", "PX", "1"], ["SLEEP"]], ["EXPIRE", "@k", "100"]),
    ([["SET", "@k", "v", "PX", "1"], ["SLEEP"]], ["PERSIST", "@k"]),
    ([["SET", "@k", "v", "PX", "1"], ["SLEEP"]], ["RENAME", "@k", "@k2"]),
    ([["SET", "@k", "v", "PX", "1"], ["SLEEP"]], ["EXISTS", "@k"]),
    ([["SET", "@k", "v", "PX", "1"], ["SLEEP"]], ["APPEND", "@k", ""]),
    ([["SADD", "@k", "a"], ["PEXPIRE", "@k", "1"], ["SLEEP"]], ["SADD", "@k", "a"]),
    ([["SADD", "@k", "a"], ["PEXPIRE", "@k", "1"], ["SLEEP"]], ["SREM", "@k", "a"]),
    ([["SADD", "@k", "a"], ["PEXPIRE", "@k", "1"], ["SLEEP"], ["SADD", "@k2", "a"]],
     ["SMOVE", "@k2", "@k", "a"]),
    ([["RPUSH", "@k", "a"], ["PEXPIRE", "@k", "1"], ["SLEEP"]], ["LPUSHX", "@k", "a"]),
    ([["HSET", "@k", "f", "v"], ["PEXPIRE", "@k", "1"], ["SLEEP"]], ["HDEL", "@k", "f"]),
    ([["ZADD", "@k", "1", "a"], ["PEXPIRE", "@k", "1"], ["SLEEP"]],
     ["ZADD", "@k", "XX", "2", "a"]),
    ([["SADD", "@k", "a"], ["PEXPIRE", "@k", "1"], ["SLEEP"]], ["SUNIONSTORE", "@k2", "@k"]),
    ([["SET", "@k2", "v"], ["SADD", "@k", "a"], ["PEXPIRE", "@k", "1"], ["SLEEP"]],
     ["SINTERSTORE", "@k2", "@k"]),
    ([["XADD", "@k", "1-1", "f", "v"], ["PEXPIRE", "@k", "1"], ["SLEEP"]],
     ["XTRIM", "@k", "MAXLEN", "0"]),
    ([["SET", "@k", "v", "PX", "1"], ["SLEEP"]], ["DBSIZE"]),
    ([["SET", "@k", "v", "PX", "1"], ["SLEEP"]], ["FLUSHDB"]),
    ([["SELECT", "1"], ["SET", "@k", "v", "PX", "1"], ["SELECT", "0"], ["SLEEP"]],
     ["SWAPDB", "0", "1"]),
    ([["SET", "@k", "v", "PX", "1"], ["SELECT", "1"], ["SET", "@k", "v", "PX", "1"],
      ["SELECT", "0"], ["SLEEP"]], ["SWAPDB", "0", "1"]),
    ([["SET", "@k", "v", "PX", "1"], ["SLEEP"], ["SELECT", "1"], ["SET", "@k", "w"],
      ["SELECT", "0"]], ["SWAPDB", "0", "1"]),
    ([["SET", "@k", "v", "PX", "1"], ["SLEEP"]], ["SET", "@k", "w"]),
    # expires after the WATCH: EXEC is aborted, though nothing touched the key
    ([["SET", "@k", "v", "PX", "150"]], ["SLEEP", "200"]),
]

FAMILIES = {
    "strings": STRINGS,
    "keys": KEYS,
    "lists": LISTS,
    "sets": SETS,
    "hashes": HASHES,
    "zsets": ZSETS,
    "streams": STREAMS,
    "others": OTHERS,
    "expired": EXPIRED,
}


# ---------------------------------------------------------------------------
# Running one case
# ---------------------------------------------------------------------------
def case_keys(setup, cmd):
    """The "@" arguments a case names, in order of first appearance."""
    seen = []
    for c in list(setup) + [cmd]:
        for a in c:
            if a.startswith("@") and a not in seen:
                seen.append(a)
    return seen


class Observer:
    """The connections to one server: ctl runs the commands, one watcher per key WATCHes it,
    sub records notifications, marks closes each capture with a write in MARKER_DB."""

    def __init__(self, srv):
        self.srv = srv
        self.ctl = RawConnection(srv.client())
        self.watchers = []
        self.sub = RawConnection(srv.client())
        self.marks = RawConnection(srv.client())
        self.ctl.command("CONFIG", "SET", "notify-keyspace-events", NOTIFY_FLAGS)
        self.ctl.command("DEBUG", "SET-ACTIVE-EXPIRE", "0")  # keys expire when touched
        self.marks.command("SELECT", str(MARKER_DB))
        self.sub.command("PSUBSCRIBE", "__key*@*__:*")
        self.mark_seq = 0

    def close(self):
        for c in [self.ctl, self.sub, self.marks] + self.watchers:
            c.close()

    def drain(self):
        """The notifications up to the next marker (the marker's own excluded)."""
        self.mark_seq += 1
        mark = "mark:%d" % self.mark_seq
        self.marks.command("SET", mark, "1")
        want = ("__keyevent@%d__:set" % MARKER_DB).encode()
        events = []
        for _ in range(10000):
            msg = parse_resp(self.sub.read_reply())
            channel, payload = msg[2], msg[3]
            if channel == want and payload == mark.encode():
                return events
            if b"@%d__" % MARKER_DB not in channel:
                events.append((channel.decode(), payload.decode()))
        raise AssertionError("marker never arrived")

    def counters(self):
        """(rdb_changes_since_last_save, keyspace_hits, keyspace_misses) from INFO."""
        info = parse_resp(self.marks.command("INFO")).decode()
        return tuple(int(info.split(name + ":")[1].split()[0])
                     for name in ("rdb_changes_since_last_save", "keyspace_hits",
                                  "keyspace_misses"))

    def run(self, setup, cmd, prefix):
        def k(a):
            return prefix + a[1:] if a.startswith("@") else a

        self.ctl.command("SELECT", "0")
        self.ctl.command("FLUSHALL")
        for s in setup:
            if s == ["SLEEP"]:  # long enough for a PX 1 key to be expired
                time.sleep(0.003)
                continue
            self.ctl.command(*[k(a) for a in s])
        self.ctl.command("SELECT", "0")
        self.drain()
        keys = case_keys(setup, cmd)
        while len(self.watchers) < len(keys):
            self.watchers.append(RawConnection(self.srv.client()))
        for w, key in zip(self.watchers, keys):
            w.command("WATCH", k(key))
        before = self.counters()
        if cmd[0] == "SLEEP":  # no command: let time pass after the WATCH
            time.sleep(int(cmd[1]) / 1000)
            reply = b""
        else:
            reply = self.ctl.command(*[k(a) for a in cmd])
        counters = tuple(b - a for a, b in zip(before, self.counters()))
        events = [(ch.replace(prefix, "@"), payload.replace(prefix, "@"))
                  for ch, payload in self.drain()]
        touched = []
        for w, key in zip(self.watchers, keys):
            w.command("MULTI")
            w.command("PING")
            if w.command("EXEC") == b"*-1\r\n":
                touched.append(key)
        return reply.replace(prefix.encode(), b"@"), events, touched, counters


def outcomes(srv, cases, prefix):
    obs = Observer(srv)
    try:
        return [obs.run(setup, cmd, prefix) for setup, cmd in cases]
    finally:
        obs.close()


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_notifications_and_watch_match_redis(server, redis_server, family):
    cases = FAMILIES[family]
    prefix = "nw:%s:" % uuid.uuid4().hex[:8]
    ours = outcomes(server, cases, prefix)
    theirs = outcomes(redis_server, cases, prefix)
    diffs = []
    for (setup, cmd), o, t in zip(cases, ours, theirs):
        if o != t:
            diffs.append("%r after %r\n  redoubt: reply %r events %r touched %r counters %r\n"
                         "  redis:   reply %r events %r touched %r counters %r"
                         % ((cmd, setup) + o + t))
    assert not diffs, "%d/%d cases differ from Redis:\n%s" % (len(diffs), len(cases),
                                                               "\n".join(diffs))
