"""Streams: blocking reads and a consumer-group workload, against Debian's redis-server 7.0.

  blocking   XREAD / XREADGROUP BLOCK served by XADD (MULTI/EXEC included), $, timeouts, NOACK,
             -NOGROUP after XGROUP DESTROY, -UNBLOCKED after DEL / SET / FLUSHALL / SWAPDB (XREAD
             keeps waiting), CLIENT UNBLOCK TIMEOUT|ERROR, RESP2 and RESP3: the replies of one
             scripted run are compared with Redis's
  workload   two producers, three consumers blocked in XREADGROUP (served in blocking order),
             XACK, a consumer dying with entries pending and another taking them over with
             XAUTOCLAIM, in a fixed interleaving: the same replies and the same final state
             (XINFO STREAM FULL with the clocks masked) as Redis; and free-running threads where
             every entry is delivered exactly once
"""

from __future__ import annotations

import re
import threading
import time

import pytest

from compare import RawConnection, parse_resp
from test_streams import mask_times, need_streams

# ---------------------------------------------------------------------------
# Blocking
# ---------------------------------------------------------------------------
def blocked_clients(conn) -> int:
    info = parse_resp(conn.command("INFO", "clients")).decode()
    return int(re.search(r"blocked_clients:(\d+)", info).group(1))


def wait_blocked(conn, n, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if blocked_clients(conn) >= n:
            return
        time.sleep(0.01)
    raise AssertionError("clients never blocked")


def blocking_scenario(srv, resp3):
    """One run of every blocking case; returns the replies (compared across servers)."""
    out = []
    admin = RawConnection(srv.client())
    a = RawConnection(srv.client())
    b = RawConnection(srv.client())
    try:
        if resp3:
            a.command("HELLO", "3")
            b.command("HELLO", "3")
        admin.command("XADD", "bs", "1-0", "f", "v")
        # XREAD $ waits for what comes after; XREAD from an ID below the top is served now.
        a.send("XREAD", "BLOCK", "5000", "STREAMS", "bs", "nokey", "$", "$")
        wait_blocked(admin, 1)
        out.append(admin.command("XADD", "nokey", "7-0", "x", "y"))
        out.append(a.read_reply())
        out.append(a.command("XREAD", "BLOCK", "5000", "STREAMS", "bs", "0"))
        # A stream arriving under the awaited name (RENAME, COPY) serves XREAD at once.
        a.send("XREAD", "BLOCK", "5000", "STREAMS", "moved", "$")
        b.send("XREAD", "BLOCK", "5000", "STREAMS", "copied", "$")
        wait_blocked(admin, 2)
        admin.command("XADD", "src", "3-3", "m", "v")
        out.append(admin.command("COPY", "src", "copied"))
        out.append(b.read_reply())
        out.append(admin.command("RENAME", "src", "moved"))
        out.append(a.read_reply())
        # Two readers of one stream: both get the new entry.
        a.send("XREAD", "COUNT", "5", "BLOCK", "0", "STREAMS", "bs", "$")
        b.send("XREAD", "BLOCK", "0", "STREAMS", "bs", "1-0")
        wait_blocked(admin, 2)
        admin.command("MULTI")
        admin.command("XADD", "bs", "2-0", "f", "v2")
        admin.command("XADD", "bs", "3-0", "f", "v3")
        out.append(admin.command("EXEC"))
        out.append(a.read_reply())
        out.append(b.read_reply())
        # Timeout: a null reply.
        t0 = time.time()
        out.append(a.command("XREAD", "BLOCK", "150", "STREAMS", "bs", "$"))
        assert time.time() - t0 >= 0.1
        # XREADGROUP BLOCK: served in blocking order, each gets one entry.
        admin.command("XGROUP", "CREATE", "bs", "g", "$")
        a.send("XREADGROUP", "GROUP", "g", "alice", "COUNT", "10", "BLOCK", "5000", "STREAMS",
               "bs", ">")
        wait_blocked(admin, 1)
        b.send("XREADGROUP", "GROUP", "g", "bob", "BLOCK", "5000", "STREAMS", "bs", ">")
        wait_blocked(admin, 2)
        admin.command("XADD", "bs", "4-0", "f", "v4")
        out.append(a.read_reply())
        admin.command("XADD", "bs", "5-0", "f", "v5")
        out.append(b.read_reply())
        out.append(admin.command("XPENDING", "bs", "g"))
        # A NOACK reader; the consumer is created when served.
        a.send("XREADGROUP", "GROUP", "g", "carol", "NOACK", "BLOCK", "5000", "STREAMS", "bs",
               ">")
        wait_blocked(admin, 1)
        out.append(admin.command("XINFO", "GROUPS", "bs"))
        admin.command("XADD", "bs", "6-0", "f", "v6")
        out.append(a.read_reply())
        out.append(admin.command("XINFO", "GROUPS", "bs"))
        # The group goes away: -NOGROUP.
        a.send("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "5000", "STREAMS", "bs", ">")
        wait_blocked(admin, 1)
        out.append(admin.command("XGROUP", "DESTROY", "bs", "g"))
        out.append(a.read_reply())
        # The key goes away (DEL, SET over it, FLUSHALL, SWAPDB): -UNBLOCKED for XREADGROUP,
        # XREAD keeps waiting.
        for how in (["DEL", "bs"], ["SET", "bs", "x"], ["FLUSHALL"], ["SWAPDB", "0", "1"]):
            admin.command("DEL", "bs")
            admin.command("XADD", "bs", "1-0", "f", "v")
            admin.command("XGROUP", "CREATE", "bs", "g", "$")
            a.send("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "5000", "STREAMS", "bs", ">")
            b.send("XREAD", "BLOCK", "5000", "STREAMS", "bs", "$")
            wait_blocked(admin, 2)
            out.append(admin.command(*how))
            out.append(a.read_reply())
            out.append(blocked_clients(admin))
            if how[0] == "SWAPDB":
                admin.command("SELECT", "1")
                admin.command("DEL", "bs")
                admin.command("SELECT", "0")
            admin.command("DEL", "bs")
            admin.command("XADD", "bs", "9-0", "late", "1")
            out.append(b.read_reply())
            admin.command("FLUSHALL")
        # CLIENT UNBLOCK: timeout reply, or the error.
        out.append(admin.command("XADD", "bs", "1-0", "f", "v"))
        a_id = parse_resp(a.command("CLIENT", "ID"))
        for mode in (["TIMEOUT"], ["ERROR"]):
            a.send("XREAD", "BLOCK", "0", "STREAMS", "bs", "$")
            wait_blocked(admin, 1)
            out.append(admin.command("CLIENT", "UNBLOCK", str(a_id), *mode))
            out.append(a.read_reply())
        # A wrong-type key: XREAD on it fails at once.
        admin.command("SET", "str", "x")
        out.append(a.command("XREAD", "BLOCK", "10", "STREAMS", "str", "$"))
        return out
    finally:
        for c in (admin, a, b):
            c.close()


@pytest.mark.parametrize("resp3", [False, True])
def test_blocking_reads_match_redis(server, redis_server, resp3):
    conn = RawConnection(server.client())
    need_streams(conn)
    conn.close()
    ours = blocking_scenario(server, resp3)
    theirs = blocking_scenario(redis_server, resp3)
    assert len(ours) == len(theirs)
    for i, (g, w) in enumerate(zip(ours, theirs)):
        assert g == w, "step %d" % i


def test_blocked_xreadgroup_times_out_without_creating_consumer(server, redis_server):
    results = []
    for srv in (server, redis_server):
        c = RawConnection(srv.client())
        try:
            need_streams(c)
            c.command("XGROUP", "CREATE", "tq", "g", "$", "MKSTREAM")
            t0 = time.time()
            got = c.command("XREADGROUP", "GROUP", "g", "nobody", "BLOCK", "100", "STREAMS",
                            "tq", ">")
            assert time.time() - t0 >= 0.08
            results.append((got, c.command("XINFO", "GROUPS", "tq")))
        finally:
            c.close()
    assert results[0] == results[1]


# ---------------------------------------------------------------------------
# A consumer-group workload
# ---------------------------------------------------------------------------
def normalize_full(value):
    return mask_times(value)


def workload(srv, rounds=25):
    """Two producers, three consumers blocked in XREADGROUP (served in blocking order),
    acknowledgements, one consumer dying with entries pending and another taking them over
    with XAUTOCLAIM, in a fixed interleaving: the final state must be Redis's."""
    admin = RawConnection(srv.client())
    producers = [RawConnection(srv.client()) for _ in range(2)]
    consumers = {name: RawConnection(srv.client()) for name in ("c1", "c2", "c3")}
    log = []
    try:
        admin.command("CONFIG", "SET", "stream-node-max-entries", "7")
        admin.command("XGROUP", "CREATE", "jobs", "workers", "$", "MKSTREAM")
        n = 0
        for r in range(rounds):
            names = ["c1", "c2", "c3"] if r < 10 else ["c1", "c2"]  # c3 dies at round 10
            for i, name in enumerate(names):
                consumers[name].send("XREADGROUP", "GROUP", "workers", name, "COUNT", "3",
                                     "BLOCK", "10000", "STREAMS", "jobs", ">")
                wait_blocked(admin, i + 1)
            for name in names:
                p = producers[n % 2]
                n += 1
                log.append(p.command("XADD", "jobs", "%d-*" % (1000 + n // 3), "job", str(n),
                                     "by", "p%d" % (n % 2)))
                reply = parse_resp(consumers[name].read_reply())
                log.append((name, reply))
                entries = reply[0][1]
                if name != "c3" or r < 9:  # c3's last batch stays pending
                    ids = [e[0] for e in entries if (int(e[1][1]) % 5) != 0]
                    if ids:
                        log.append(consumers[name].command("XACK", "jobs", "workers", *ids))
            # A batch no one is waiting for, read later.
            if r % 4 == 0:
                n += 1
                producers[0].command("XADD", "jobs", "%d-*" % (1000 + n // 3), "job", str(n))
                log.append(consumers["c1"].command("XREADGROUP", "GROUP", "workers", "c1",
                                                   "STREAMS", "jobs", ">"))
            if r % 6 == 5:
                log.append(admin.command("XTRIM", "jobs", "MAXLEN", "~", "20"))
        # c2 takes over what c3 left (and the unacknowledged multiples of 5), then acks.
        cursor = "0-0"
        while True:
            reply = parse_resp(consumers["c2"].command("XAUTOCLAIM", "jobs", "workers", "c2",
                                                       "0", cursor, "COUNT", "4"))
            log.append(reply)
            ids = [e[0] for e in reply[1] if e is not None]
            if ids:
                log.append(consumers["c2"].command("XACK", "jobs", "workers", *ids))
            log.append(reply[2])
            cursor = reply[0].decode()
            if cursor == "0-0":
                break
        log.append(admin.command("XGROUP", "DELCONSUMER", "jobs", "workers", "c3"))
        final = normalize_full(parse_resp(admin.command("XINFO", "STREAM", "jobs", "FULL",
                                                        "COUNT", "0")))
        groups = parse_resp(admin.command("XINFO", "GROUPS", "jobs"))
        pending = parse_resp(admin.command("XPENDING", "jobs", "workers"))
        return log, final, groups, pending
    finally:
        for c in [admin] + producers + list(consumers.values()):
            c.close()


def test_consumer_group_workload_same_final_state(server, redis_server):
    conn = RawConnection(server.client())
    need_streams(conn)
    conn.close()
    ours = workload(server)
    theirs = workload(redis_server)
    # Auto IDs hold the clock's milliseconds only through "<ms>-*" with fixed ms: equal.
    assert ours[1] == theirs[1]
    assert ours[2] == theirs[2]
    assert ours[3] == theirs[3]
    assert ours[0] == theirs[0]
    assert ours[3][0] == 0  # nothing left pending


def test_concurrent_consumers_deliver_every_entry_once(server):
    """Free-running threads: 3 producers, 4 consumers in XREADGROUP BLOCK acking what they
    get; every entry is delivered exactly once and the PEL ends empty."""
    conn = RawConnection(server.client())
    need_streams(conn)
    conn.close()
    admin = server.client()
    admin.xgroup_create("cc", "g", "$", mkstream=True)
    total_per_producer = 300
    stop = threading.Event()
    seen = []
    lock = threading.Lock()
    errors = []

    def producer(p):
        c = server.client()
        for i in range(total_per_producer):
            c.xadd("cc", {"p": p, "i": i})

    def consumer(name):
        c = server.client()
        try:
            while not stop.is_set():
                got = c.xreadgroup("g", name, {"cc": ">"}, count=10, block=100)
                for _, entries in got or []:
                    ids = [e[0] for e in entries]
                    with lock:
                        seen.extend((e[1][b"p"], e[1][b"i"]) for e in entries)
                    c.xack("cc", "g", *ids)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    cons = [threading.Thread(target=consumer, args=("c%d" % i,)) for i in range(4)]
    prods = [threading.Thread(target=producer, args=(str(p),)) for p in range(3)]
    for t in cons + prods:
        t.start()
    for t in prods:
        t.join()
    deadline = time.time() + 20
    while time.time() < deadline and len(seen) < 3 * total_per_producer:
        time.sleep(0.05)
    stop.set()
    for t in cons:
        t.join()
    assert not errors, errors
    assert len(seen) == len(set(seen)) == 3 * total_per_producer
    assert admin.xpending("cc", "g")["pending"] == 0
    assert admin.xlen("cc") == 3 * total_per_producer


# The transport does not matter to what this file checks: one run, in the plain pass (keeps
# ./runtest under its 30-minute budget).
pytestmark = pytest.mark.plain_only("transport-independent: run once (plain)")
