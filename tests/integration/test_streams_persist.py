"""Streams in files and across replication, against Debian's redis-server 7.0:

  RDB               written by Redis and loaded by Redoubt, and the other way (equal XINFO STREAM
                    FULL, timestamps included; DUMP bytes with rdbcompression no; DEBUG DIGEST),
                    DEBUG RELOAD, redis-check-rdb on Redoubt's file
  DUMP / RESTORE    both ways; a Redis 5/6 (RDB_TYPE_STREAM_LISTPACKS, 15) payload
  corrupt payloads  refused with an error (Redoubt checks more than Redis 7.0 does: a lying
                    length or last ID), single-byte mutations never crash
  AOF               the command stream (XADD's chosen IDs, ~ trims as their effect, XREADGROUP
                    as XCLAIM, NOACK as XGROUP SETID) and a rewrite without RDB preamble
  replication       a Redis replica of a Redoubt master: full sync and the command stream

The suite runs against Redis itself too (REDOUBT_SERVER=/usr/bin/redis-server); the checks Redis
does not make are skipped then.
"""

from __future__ import annotations

import random
import time

import pytest

import harness
import persist_util as pu
from compare import RawConnection, parse_resp
from test_streams import BIN, mask_times, need_streams
from test_streams_blocking import wait_blocked

pytestmark = pytest.mark.plain_only(
    "files and replication do not depend on how clients connect: run once (plain)")

DEBUG_ARGS = ["--enable-debug-command", "yes"]


def stream_dataset_commands():
    """Streams of every shape: many nodes, tombstones, an emptied stream with groups,
    consumers with and without pending entries, NOACK groups, binary names, other dbs."""
    cmds = [["CONFIG", "SET", "stream-node-max-entries", "10"]]
    for i in range(1, 250):
        cmds.append(["XADD", "ps:big", "%d-%d" % (1000 + i // 3, i % 3), "f%d" % (i % 3),
                     "v" * (i % 17), "n", str(i)])
    cmds += [["XDEL", "ps:big"] + ["%d-%d" % (1000 + i // 3, i % 3) for i in range(5, 120, 7)]]
    cmds += [["XGROUP", "CREATE", "ps:big", "g1", "0"],
             ["XGROUP", "CREATE", "ps:big", "g2", "1010-0", "ENTRIESREAD", "30"],
             ["XGROUP", "CREATE", "ps:big", BIN, "$"],
             ["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "40", "STREAMS", "ps:big", ">"],
             ["XREADGROUP", "GROUP", "g1", "bob", "COUNT", "25", "STREAMS", "ps:big", ">"],
             ["XREADGROUP", "GROUP", "g2", "carol", "NOACK", "COUNT", "5", "STREAMS", "ps:big",
              ">"],
             ["XGROUP", "CREATECONSUMER", "ps:big", "g1", "idle-one"],
             ["XACK", "ps:big", "g1", "1001-0", "1002-1"],
             ["XCLAIM", "ps:big", "g1", "bob", "0", "1003-0", "RETRYCOUNT", "9", "JUSTID"],
             ["XADD", "ps:empty", "1-1", "a", "b"],
             ["XDEL", "ps:empty", "1-1"],
             ["XGROUP", "CREATE", "ps:empty", "g", "$"],
             ["XGROUP", "CREATE", "ps:mk", "g", "$", "MKSTREAM"],
             ["XADD", "ps:same", "5-5", "a", "1", "b", "2"],
             ["XADD", "ps:same", "6-5", "a", "3", "b", "4"],
             ["XADD", "ps:same", "7-5", "b", "3", "a", "4"],
             ["XSETID", "ps:same", "100-0", "ENTRIESADDED", "40", "MAXDELETEDID", "50-0"],
             ["SELECT", "3"],
             ["XADD", "ps:db3", "1-1", "k", "v"],
             ["PEXPIREAT", "ps:db3", str(pu.FAR_FUTURE_MS)],
             ["SELECT", "0"],
             ["CONFIG", "SET", "stream-node-max-entries", "100"]]
    return cmds


def fill_streams(srv):
    with srv.raw() as c:
        for cmd in stream_dataset_commands():
            r = c.call(*cmd)
            assert not isinstance(r, harness.RespError), (cmd, r)


STREAM_KEYS = [(0, "ps:big"), (0, "ps:empty"), (0, "ps:mk"), (0, "ps:same"), (3, "ps:db3")]


def stream_state(srv, exact=True):
    """Everything observable about the streams (exact: timestamps included)."""
    out = {}
    conn = RawConnection(srv.client())
    try:
        conn.command("CONFIG", "SET", "rdbcompression", "no")
        for db, key in STREAM_KEYS:
            conn.command("SELECT", str(db))
            full = parse_resp(conn.command("XINFO", "STREAM", key, "FULL", "COUNT", "0"))
            out[(db, key)] = {
                "full": full if exact else mask_times(full),
                "groups": parse_resp(conn.command("XINFO", "GROUPS", key)),
                "digest": conn.command("DEBUG", "DIGEST-VALUE", key),
                "ttl": conn.command("PEXPIRETIME", key),
                "type": conn.command("OBJECT", "ENCODING", key),
            }
            if exact:
                out[(db, key)]["dump"] = conn.command("DUMP", key)
        conn.command("SELECT", "0")
        out["digest"] = conn.command("DEBUG", "DIGEST")
        return out
    finally:
        conn.close()


def test_redis_rdb_with_streams_loads_in_redoubt(server_factory, redis_server_factory,
                                                tmp_path):
    ref = redis_server_factory(DEBUG_ARGS)
    fill_streams(ref)
    want = stream_state(ref)
    with ref.raw() as c:
        assert c.call("SAVE") == b"OK"
    src = ref.dir / "dump.rdb"
    d = tmp_path / "load"
    d.mkdir()
    (d / "redis.rdb").write_bytes(src.read_bytes())
    ours = server_factory(DEBUG_ARGS + ["--dir", str(d), "--dbfilename", "redis.rdb"])
    assert stream_state(ours) == want
    # DEBUG RELOAD keeps everything, timestamps included.
    with ours.raw() as c:
        assert c.call("DEBUG", "RELOAD") == b"OK"
    assert stream_state(ours) == want


def test_redoubt_rdb_with_streams_loads_in_redis(server_factory, redis_server_factory,
                                                tmp_path):
    ours = server_factory(DEBUG_ARGS)
    fill_streams(ours)
    want = stream_state(ours)
    with ours.raw() as c:
        assert c.call("SAVE") == b"OK"
    d = tmp_path / "load"
    d.mkdir()
    (d / "redoubt.rdb").write_bytes((ours.dir / "dump.rdb").read_bytes())
    rc, out = pu.run_check_rdb([pu.REDIS_CHECK_RDB, str(d / "redoubt.rdb")])
    assert rc == 0, out
    ref = redis_server_factory(DEBUG_ARGS + ["--dir", str(d), "--dbfilename", "redoubt.rdb"])
    assert stream_state(ref) == want
    with ref.raw() as c:
        assert c.call("DEBUG", "RELOAD") == b"OK"
    assert stream_state(ref) == want


def test_dump_restore_both_ways(server, redis_server):
    conn = RawConnection(server.client())
    need_streams(conn)
    conn.close()
    fill_streams(server)
    fill_streams(redis_server)
    for src, dst in ((server, redis_server), (redis_server, server)):
        a, b = RawConnection(src.client()), RawConnection(dst.client())
        try:
            for _, key in STREAM_KEYS[:4]:
                payload = parse_resp(a.command("DUMP", key))
                assert b.command("RESTORE", key + ":copy", "0", payload) == b"+OK\r\n"
                for cmd in (["XINFO", "STREAM", "%s", "FULL", "COUNT", "0"],
                            ["DEBUG", "DIGEST-VALUE", "%s"]):
                    want = a.command(*[x.replace("%s", key) for x in cmd])
                    got = b.command(*[x.replace("%s", key + ":copy") for x in cmd])
                    assert got == want, (key, cmd)
                # RESTORE of a stream over an existing key needs REPLACE, as for any type.
                assert b.command("RESTORE", key + ":copy", "0", payload).startswith(b"-BUSYKEY")
        finally:
            a.close()
            b.close()


def old_format_payload(redis_payload: bytes) -> bytes:
    """A type-15 (Redis 5/6) payload made from a type-19 one without groups: the first ID,
    maximal deleted ID and entries-added fields dropped. Works on payloads from
    stream_without_groups() (all lengths there fit in one byte)."""
    body, _, _ = pu.split_dump_payload(redis_payload)
    assert body[0] == 19
    # Fields after the nodes: length, last ms, last seq, first ms, first seq, max-del ms,
    # max-del seq, entries added, groups count (one byte each here).
    tail = body[-9:]
    new_body = bytes([15]) + body[1:-9] + tail[:3] + tail[8:]
    return pu.make_dump_payload(new_body, 10)


def test_restore_of_redis6_stream_encoding(server, redis_server):
    """RESTORE of an RDB_TYPE_STREAM_LISTPACKS (15) value gives Redis 7.0's reading of it
    (entries-added from the length, first ID from the entries)."""
    conn = RawConnection(server.client())
    need_streams(conn)
    conn.close()
    results = []
    for srv in (server, redis_server):
        c = RawConnection(srv.client())
        try:
            for i in range(1, 6):
                c.command("XADD", "old", "%d-1" % i, "f", str(i))
            c.command("XDEL", "old", "1-1")
            payload = old_format_payload(parse_resp(c.command("DUMP", "old")))
            results.append((c.command("RESTORE", "old2", "0", payload),
                            c.command("XINFO", "STREAM", "old2", "FULL"),
                            c.command("XGROUP", "CREATE", "old2", "g", "0"),
                            c.command("XINFO", "GROUPS", "old2")))
        finally:
            c.close()
    assert results[0] == results[1]
    assert results[0][0] == b"+OK\r\n"


CORRUPT_CASES = [
    # (description, function of the good body -> bad body)
    ("truncated", lambda b: b[:-3]),
    ("node key of 15 bytes", lambda b: b[:2] + bytes([15]) + b[3:18] + b[19:]),
    ("listpack header size", lambda b: b[:20] + bytes([b[20] ^ 0x40]) + b[21:]),
    ("length too large", lambda b: b[:-9] + bytes([b[-9] + 1]) + b[-8:]),
    ("last ID below the entries", lambda b: b[:-8] + bytes([0]) + b[-7:]),
]


# Checks Redis 7.0 does not make (a lying length or last ID loads there): Redoubt refuses the
# payload rather than keep a stream whose counters contradict its entries.
REDOUBT_ONLY_CHECKS = {"length too large", "last ID below the entries"}


@pytest.mark.parametrize("case", range(len(CORRUPT_CASES)))
def test_corrupt_stream_payloads_are_refused(server, case):
    c = RawConnection(server.client())
    try:
        need_streams(c)
        for i in range(1, 6):
            c.command("XADD", "good", "%d-1" % i, "f", str(i))
        body, _, _ = pu.split_dump_payload(parse_resp(c.command("DUMP", "good")))
        desc, mutate = CORRUPT_CASES[case]
        if pu.is_redis_under_test() and desc in REDOUBT_ONLY_CHECKS:
            pytest.skip("Redis does not check %s (it trusts the payload)" % desc)
        bad = pu.make_dump_payload(mutate(body), 10)
        reply = c.command("RESTORE", "bad", "0", bad)
        assert reply.startswith(b"-"), (desc, reply)
        assert c.command("EXISTS", "bad") == b":0\r\n"
        assert c.command("PING") == b"+PONG\r\n"
    finally:
        c.close()


def test_corrupt_listpack_bytes_never_crash(server):
    """Every single-byte change of a stream payload with groups is refused or loads a stream
    that then answers every stream command (the server never crashes)."""
    if pu.is_redis_under_test():
        pytest.skip("Redis 7.0 trusts DUMP payloads (sanitize-dump-payload no) and crashes")
    c = RawConnection(server.client())
    try:
        need_streams(c)
        c.command("CONFIG", "SET", "stream-node-max-entries", "3")
        for i in range(1, 8):
            c.command("XADD", "g", "%d-1" % i, "f", str(i), "x" * (i % 3), "y")
        c.command("XDEL", "g", "3-1")
        c.command("XGROUP", "CREATE", "g", "grp", "0")
        c.command("XREADGROUP", "GROUP", "grp", "alice", "COUNT", "3", "STREAMS", "g", ">")
        body, _, _ = pu.split_dump_payload(parse_resp(c.command("DUMP", "g")))
        rng = random.Random(5)
        positions = list(range(1, len(body)))
        for pos in positions:
            for delta in (1, rng.randint(2, 255)):
                bad = bytearray(body)
                bad[pos] = (bad[pos] + delta) % 256
                reply = c.command("RESTORE", "b", "0", pu.make_dump_payload(bytes(bad), 10),
                                  "REPLACE")
                if reply == b"+OK\r\n":
                    for cmd in (["XRANGE", "b", "-", "+"], ["XREVRANGE", "b", "+", "-"],
                                ["XINFO", "STREAM", "b", "FULL"], ["XLEN", "b"],
                                ["XPENDING", "b", "grp", "-", "+", "10"],
                                ["XADD", "b", "*", "f", "v"], ["XTRIM", "b", "MAXLEN", "2"],
                                ["XAUTOCLAIM", "b", "grp", "z", "0", "0"],
                                ["XREADGROUP", "GROUP", "grp", "q", "STREAMS", "b", ">"]):
                        c.command(*cmd)
                    if not pu.is_redis_under_test():  # Redis trusts the length
                        assert c.command("XLEN", "b") == b":%d\r\n" % len(
                            parse_resp(c.command("XRANGE", "b", "-", "+")))
                    c.command("DEL", "b")
        assert c.command("PING") == b"+PONG\r\n"
    finally:
        c.close()


def without_node_layout(state):
    """The AOF replays commands under the running config: node boundaries (radix-tree-keys,
    -nodes) may differ from the original's, nothing else may."""
    for key, v in state.items():
        if isinstance(v, dict):
            v["full"][3] = v["full"][5] = None
    return state


def test_aof_replay_and_rewrite_keep_streams(server_factory):
    """With appendonly yes the command stream (XADD's chosen IDs, ~ trims as their effect,
    XREADGROUP as XCLAIM, NOACK as XGROUP SETID) rebuilds the streams on restart; a rewrite
    without RDB preamble (XADD/XSETID/XGROUP/XCLAIM commands) too."""
    srv = server_factory(DEBUG_ARGS + ["--appendonly", "yes", "--aof-use-rdb-preamble", "no",
                                       "--appendfsync", "always"])
    fill_streams(srv)
    with srv.raw() as c:
        c.call("XADD", "ps:auto", "*", "f", "v")
        c.call("XADD", "ps:auto", "MAXLEN", "~", "0", "*", "f", "v")
        c.call("XGROUP", "CREATE", "ps:auto", "g", "0")
        c.call("XREADGROUP", "GROUP", "g", "c", "NOACK", "STREAMS", "ps:auto", ">")
        c.call("XAUTOCLAIM", "ps:big", "g1", "zed", "0", "0", "COUNT", "3")
    before = without_node_layout(stream_state(srv, exact=False))
    with srv.raw() as c:
        auto = c.call("XINFO", "STREAM", "ps:auto")
    srv.stop()
    srv.start(keep_port=True)
    assert without_node_layout(stream_state(srv, exact=False)) == before
    with srv.raw() as c:
        assert c.call("XINFO", "STREAM", "ps:auto") == auto
        assert c.call("BGREWRITEAOF") == b"Background append only file rewriting started"
    pu.wait_until(lambda: pu.info(srv, "persistence").get("aof_rewrite_in_progress") == "0" and
                  pu.info(srv, "persistence").get("aof_rewrite_scheduled") == "0",
                  30, 0.1, what="AOF rewrite")
    time.sleep(0.3)
    srv.stop()
    srv.start(keep_port=True)
    assert without_node_layout(stream_state(srv, exact=False)) == before


# ---------------------------------------------------------------------------
# Replication: a Redis replica of a Redoubt master
# ---------------------------------------------------------------------------
def mask_read_counters(value):
    if isinstance(value, list):
        out = [mask_read_counters(v) for v in value]
        for i in range(len(value) - 1):
            if value[i] in (b"entries-read", b"lag"):
                out[i + 1] = "C"
        return out
    return value


def test_redis_replica_of_redoubt_master_receives_streams(server_factory, redis_server_factory):
    import test_repl_master as trm
    master = server_factory(trm.MASTER_ARGS)
    fill_streams(master)
    replica = trm.start_replica(redis_server_factory, master)
    trm.wait_link_up(replica, master)
    trm.wait_in_sync(master, [replica])
    assert stream_state(replica, exact=False) == stream_state(master, exact=False)

    # Nodes are cut by each server's own config: give the replica the master's.
    with replica.raw() as c:
        assert c.call("CONFIG", "SET", "stream-node-max-entries", "2") == b"OK"
    waiter = RawConnection(master.client())
    admin = RawConnection(master.client())
    try:
        cmds = [
            ["XADD", "rs", "*", "f", "1"],
            ["XADD", "rs", "*", "f", "2"],
            ["CONFIG", "SET", "stream-node-max-entries", "2"],
        ] + [["XADD", "rs", "MAXLEN", "~", "3", "*", "n", str(i)] for i in range(12)] + [
            ["XTRIM", "rs", "MINID", "~", "0"],
            ["XGROUP", "CREATE", "rs", "g", "0"],
            ["XGROUP", "CREATE", "rs", "h", "0"],
            ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "rs", ">"],
            ["XREADGROUP", "GROUP", "h", "bob", "NOACK", "COUNT", "2", "STREAMS", "rs", ">"],
            ["XGROUP", "CREATECONSUMER", "rs", "g", "carol"],
            ["XCLAIM", "rs", "g", "carol", "0", "0-1", "FORCE"],
            ["XAUTOCLAIM", "rs", "g", "dave", "0", "0", "COUNT", "1"],
            ["XSETID", "rs", "99999999999999-0"],
            ["XGROUP", "SETID", "rs", "h", "$", "ENTRIESREAD", "3"],
            ["XGROUP", "DELCONSUMER", "rs", "g", "carol"],
            ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "rs", ">"],
        ]
        for cmd in cmds:
            r = admin.command(*cmd)
            assert not r.startswith(b"-"), (cmd, r)
        ids = parse_resp(admin.command("XRANGE", "rs", "-", "+"))
        if ids:
            admin.command("XDEL", "rs", ids[0][0])
        # A blocked XREADGROUP served by an XADD propagates as XCLAIM.
        waiter.send("XREADGROUP", "GROUP", "g", "erin", "BLOCK", "5000", "STREAMS", "rs", ">")
        wait_blocked(admin, 1)
        admin.command("XADD", "rs", "*", "late", "1")
        waiter.read_reply()
        admin.command("XGROUP", "SETID", "rs", "h", "$")
        waiter.send("XREADGROUP", "GROUP", "h", "frank", "NOACK", "BLOCK", "5000", "STREAMS",
                    "rs", ">")
        wait_blocked(admin, 1)
        admin.command("XADD", "rs", "*", "late", "2")
        waiter.read_reply()
        admin.command("XGROUP", "DESTROY", "rs", "h")
    finally:
        waiter.close()
        admin.close()
    trm.wait_in_sync(master, [replica])
    m = RawConnection(master.client())
    r = RawConnection(replica.client())
    try:
        for cmd in (["XINFO", "STREAM", "rs"], ["XRANGE", "rs", "-", "+"],
                    ["XPENDING", "rs", "g"], ["DEBUG", "DIGEST"]):
            assert m.command(*cmd) == r.command(*cmd), cmd
        # The group read counters (entries-read, lag) do not travel with XCLAIM: a Redis
        # replica of a Redis master differs there too. Everything else must be equal.
        full_m = mask_read_counters(mask_times(parse_resp(
            m.command("XINFO", "STREAM", "rs", "FULL"))))
        full_r = mask_read_counters(mask_times(parse_resp(
            r.command("XINFO", "STREAM", "rs", "FULL"))))
        assert full_m == full_r
        # Delivery times and counts travel in XCLAIM's TIME and RETRYCOUNT.
        pm = parse_resp(m.command("XINFO", "STREAM", "rs", "FULL"))[-1]
        pr = parse_resp(r.command("XINFO", "STREAM", "rs", "FULL"))[-1]
        assert pm[0][11] == pr[0][11]  # the group PEL with delivery times
    finally:
        m.close()
        r.close()
