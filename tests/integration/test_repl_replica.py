"""Replication, replica side: Debian's redis-server 7.0.15 as the MASTER and Redoubt as a replica
(`--replicaof 127.0.0.1 <port>` or REPLICAOF), compared where it matters with a Redis replica of
the same master set up the same way.

  full sync + stream   the mixed dataset (persist_util filler) arrives by RDB, then writes of
                       every type (TTLs, MULTI/EXEC, SPOP with a count, served blocking pops,
                       SELECT, FLUSHDB, SWAPDB...) arrive by the stream: equal datasets once
                       Redoubt's slave_repl_offset is the master's master_repl_offset, equal
                       DEBUG DIGEST
  partial resync       after CLIENT KILL TYPE replica on the master (and CLIENT KILL TYPE master
                       on Redoubt) with writes meanwhile: +CONTINUE, no second RDB; the backlog
                       is applied in the db the stream had selected before the drop
  read-only            -READONLY exactly as a Redis replica; replica-read-only no allows writes
  stale data           replica-serve-stale-data no with the master down: -MASTERDOWN exactly as
                       a Redis replica; the link comes back when the master does
  silent master        a master that accepts the connection but never answers: the replica keeps
                       answering its clients meanwhile
  expiry               the replica waits for the master's DEL; with the master stopped (SIGSTOP)
                       expired keys read as missing but are still counted, as on Redis
  REPLICAOF NO ONE     promotion keeps the data and allows writes; re-attaching full-syncs
  masterauth           requirepass / ACL user on the master; a wrong password keeps the link
                       down and the log says why
  INFO / ROLE          field names and ROLE shape as a Redis replica's
  chain                Redis master -> Redoubt -> Redis sub-replica

The suite runs once, in plain mode: what it checks does not depend on how the link is carried.
The link over TLS (tls-replication, with a Redis and a Redoubt master, partial and full resyncs,
key custody, certificate reload) is test_repl_tls.py's. The helpers keep a TLS-mode path (the
Redis master gets a plain `--port` next to its TLS port) for running this file by hand in TLS
mode.

Like the other replication suites this one passes with REDOUBT_SERVER=/usr/bin/redis-server
(which checks the tests themselves).
"""

from __future__ import annotations

import re
import signal
import socket
import time

import pytest

import harness
import persist_util as pu
import test_repl_master as trm
from harness import RespError

pytestmark = pytest.mark.plain_only(
    "the link's transport does not matter here; over TLS: test_repl_tls.py. Run once (plain)")

SYNC_TIMEOUT_S = 30.0
MASTER_ARGS = ["--repl-diskless-sync-delay", "0", "--enable-debug-command", "yes"]
READONLY_ERR = b"-READONLY You can't write against a read only replica.\r\n"
MASTERDOWN_ERR = (b"-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set "
                  b"to 'no'.\r\n")
PSYNC_OK = "Successful partial resynchronization"
FULL_RESYNC = "Full resync from master"
PSYNC_ACCEPTED_RE = re.compile(r"Partial resynchronization request from \S+ accepted\. "
                               r"Sending (\d+) bytes of backlog")


# ---------------------------------------------------------------------------- helpers

def start_master(redis_server_factory, *extra: str):
    """A Redis 7.0 master. `master.repl_port` is the port replicas connect to: a plain TCP port
    in both modes (in TLS mode an extra --port next to the TLS one)."""
    args = list(MASTER_ARGS)
    plain = None
    if harness.test_mode() == "tls":
        plain = harness.free_port()
        args += ["--port", str(plain)]
    master = redis_server_factory(args + list(extra), mode=harness.test_mode())
    master.repl_port = plain if plain else master.port
    return master


def replica_args(master, *extra: str) -> list[str]:
    return ["--replicaof", master.host, str(master.repl_port),
            "--enable-debug-command", "yes", *extra]


def start_redoubt_replica(server_factory, master, *extra: str, wait: bool = True):
    rep = server_factory(replica_args(master, *extra))
    if wait:
        trm.wait_link_up(rep, master)
    return rep


def start_redis_replica(redis_server_factory, master, *extra: str, wait: bool = True):
    rep = redis_server_factory(replica_args(master, *extra), mode=harness.test_mode())
    if wait:
        trm.wait_link_up(rep, master)
    return rep


repl_info = trm.repl_info
Caller = trm.Caller


def call(srv, *args):
    with srv.raw() as c:
        return c.call(*args)


def call_raw(srv, *args) -> bytes:
    with srv.raw() as c:
        c.send_command(*args)
        return c.recv_reply_raw()


def dbs_holding(srv, key: str) -> list[int]:
    with srv.raw() as c:
        out = []
        for db in range(pu.NUM_DBS):
            c.call("SELECT", db)
            if c.call("EXISTS", key) == 1:
                out.append(db)
        return out


def digest(srv) -> bytes:
    d = call(srv, "DEBUG", "DIGEST")
    assert isinstance(d, bytes) and len(d) == 40, f"{srv.name}: DEBUG DIGEST -> {d!r}"
    return d


def assert_same_as_master(master, replica, context: str = "") -> dict:
    ours = pu.dump_dataset(master)
    theirs = pu.dump_dataset(replica)
    pu.assert_same_dataset(theirs, ours, f"{replica.name} (replica)", "redis master",
                           context=context)
    return ours


def wait_link_down(replica, timeout: float = 10.0) -> dict:
    last: dict = {}

    def down():
        nonlocal last
        last = repl_info(replica)
        return last.get("master_link_status") == "down"
    try:
        pu.wait_until(down, timeout, 0.05, what=f"{replica.name}: master_link_status:down")
    except AssertionError as e:
        raise AssertionError(f"{e}; INFO replication {last}\n{replica.log_tail()}") from None
    return last


def wait_dataset_equal(a, b, timeout: float = SYNC_TIMEOUT_S, context: str = "") -> dict:
    """Polls until b's dataset equals a's (for a chain, where offsets are not comparable)."""
    deadline = time.monotonic() + timeout
    while True:
        da, db_ = pu.dump_dataset(a), pu.dump_dataset(b)
        problems = pu.compare_dumps(db_, da, b.name, a.name)
        if not problems:
            return da
        if time.monotonic() > deadline:
            pu.assert_same_dataset(db_, da, b.name, a.name, context=context)
        time.sleep(0.2)


def keyspace_counts(srv) -> dict[str, tuple[int, int]]:
    """INFO keyspace as {"db0": (keys, expires)} (avg_ttl left out)."""
    out = {}
    for k, v in pu.info(srv, "keyspace").items():
        fields = dict(kv.split("=", 1) for kv in v.split(","))
        out[k] = (int(fields["keys"]), int(fields["expires"]))
    return out


def stream_writes(master) -> None:
    """Writes of every kind on the master, to arrive by the replication stream."""
    c = Caller(master)
    # strings and TTLs
    c("SET", "s:plain", "v")
    c("SET", "s:ex", "v", "EX", "1000")
    c("SET", "s:px", "v", "PX", "1000000")
    c("SETEX", "s:setex", "800", "v")
    c("SET", "s:expire", "v")
    c("EXPIRE", "s:expire", "500")
    c("SET", "s:expireat", "v")
    c("EXPIREAT", "s:expireat", str(pu.FAR_FUTURE_MS // 1000 + 5))
    c("SET", "s:keepttl", "v1", "EX", "900")
    c("SET", "s:keepttl", "v2", "KEEPTTL")
    c("SET", "s:persist", "v", "EX", "100")
    c("PERSIST", "s:persist")
    c("SET", "s:getex", "v")
    c("GETEX", "s:getex", "PX", "600000")
    c("SET", "s:getdel", "v")
    c("GETDEL", "s:getdel")
    c("SET", "s:gone", "v")
    c("PEXPIREAT", "s:gone", "1000")  # in the past: deleted
    c("INCR", "n:ctr")
    c("INCRBY", "n:ctr", "41")
    c("DECRBY", "n:ctr", "2")
    for inc in ("0.1", "0.2", "1e-7", "3.0e2"):
        c("INCRBYFLOAT", "n:float", inc)
    c("MSET", "m:a", "1", "m:b", "2")
    c("MSETNX", "m:c", "3", "m:d", "4")
    c("APPEND", "s:append", "abc")
    c("SETRANGE", "s:append", "10", "xyz")
    # lists
    c("RPUSH", "l:a", *[str(i) for i in range(20)])
    c("LPUSH", "l:a", "head")
    c("LPOP", "l:a", "2")
    c("RPOP", "l:a")
    c("LSET", "l:a", "3", "three")
    c("LINSERT", "l:a", "BEFORE", "three", "before-three")
    c("LREM", "l:a", "0", "5")
    c("LTRIM", "l:a", "1", "-2")
    c("LMOVE", "l:a", "l:b", "LEFT", "RIGHT")
    c("RPOPLPUSH", "l:a", "l:b")
    c("LPOP", "list:large", "10")
    # sets, SPOP with and without a count (random members: the replica gets what was removed)
    c("SADD", "rand:int", *[str(i) for i in range(40)])
    assert len(c("SPOP", "rand:int", "7")) == 7
    c("SPOP", "rand:int")
    c("SADD", "rand:str", *[f"m{i}" for i in range(20)])
    c("SPOP", "rand:str", "5")
    c("SADD", "rand:small", "a", "b", "c")
    assert sorted(c("SPOP", "rand:small", "10")) == [b"a", b"b", b"c"]
    c("SPOP", "set:large-str", "9")
    c("SREM", "set:int-large", "-1000", "-993")
    c("SMOVE", "set:small-str", "set:mixed", "a")
    c("SINTERSTORE", "st:inter", "set:mixed", "set:int16")
    c("SUNIONSTORE", "st:union", "set:mixed", "set:int16")
    # sorted sets
    c("ZADD", "z:a", "1", "a", "2", "b", "3", "c", "4", "d")
    c("ZINCRBY", "z:a", "2.5", "a")
    c("ZREM", "z:a", "b")
    c("ZPOPMIN", "z:a")
    c("ZRANGESTORE", "z:store", "zset:large", "0", "9")
    c("ZUNIONSTORE", "z:union", "2", "z:a", "zset:small", "WEIGHTS", "2", "1")
    c("ZREMRANGEBYSCORE", "zset:large", "-100", "100")
    # hashes
    c("HSET", "h:a", "f1", "v1", "f2", "v2", "n", "10")
    c("HINCRBY", "h:a", "n", "5")
    c("HINCRBYFLOAT", "h:a", "fl", "1.25")
    c("HSETNX", "h:a", "f3", "v3")
    c("HDEL", "h:a", "f1")
    c("HDEL", "hash:large", "field-0001", "field-0002")
    # keyspace
    c("SET", "k:rename-from", "v")
    c("RENAME", "k:rename-from", "k:rename-to")
    c("COPY", "h:a", "h:copy")
    c("SET", "k:moved", "v")
    c("MOVE", "k:moved", "6")
    c("DEL", "str:embstr", "str:raw")
    c("UNLINK", "list:big-elements")
    # MULTI/EXEC with a SELECT inside
    assert c("MULTI") == b"OK"
    for args in [("SET", "tx:a", "1"), ("INCR", "tx:a"), ("RPUSH", "tx:list", "a", "b", "c"),
                 ("EXPIRE", "tx:list", "1000"), ("LPOP", "tx:list"), ("SPOP", "rand:str", "2"),
                 ("SELECT", "4"), ("SET", "tx:in-db4", "v"), ("INCRBYFLOAT", "tx:f", "1.5")]:
        assert c(*args) == b"QUEUED"
    replies = c("EXEC")
    assert isinstance(replies, list) and len(replies) == 9, replies
    c("SELECT", "0")
    # blocking pops served later
    popped, fed = trm.served_blocking(master, 3, ("BLPOP", "bl:list", "0"),
                                      ("RPUSH", "bl:list", "x", "y", "z"))
    assert popped == [b"bl:list", b"x"] and fed == 3, (popped, fed)
    moved, _ = trm.served_blocking(master, 3, ("BLMOVE", "bl:src", "bl:dst", "LEFT", "RIGHT",
                                               "0"), ("LPUSH", "bl:src", "p", "q"))
    assert moved == b"q", moved
    zpopped, _ = trm.served_blocking(master, 0, ("BZPOPMIN", "bl:z", "0"),
                                     ("ZADD", "bl:z", "1", "one", "2", "two"))
    assert zpopped == [b"bl:z", b"one", b"1"], zpopped
    mpopped, _ = trm.served_blocking(master, 0, ("BLMPOP", "0", "1", "bl:m", "RIGHT", "COUNT",
                                                 "2"), ("RPUSH", "bl:m", "1", "2", "3"))
    assert mpopped == [b"bl:m", [b"3", b"2"]], mpopped
    # SELECT of several dbs in one connection
    c.pipeline([cmd for db in (1, 5, 9, 15, 0, 5, 1) for cmd in
                [("SELECT", db), ("SET", "multi-db:key", f"written in db {db}"),
                 ("INCR", "multi-db:ctr")]])
    # FLUSHDB after writes in that db; SWAPDB
    c("SELECT", "7")
    c.pipeline([("SET", f"f:{i}", "v") for i in range(50)])
    c("FLUSHDB")
    c("SET", "f:after-flush", "v")
    c("SWAPDB", "8", "9")
    c("SELECT", "0")
    c.close()


# ---------------------------------------------------------------------------- 1. full sync + stream

def test_full_sync_then_stream_from_redis_master(server_factory, redis_server_factory):
    master = start_master(redis_server_factory)
    nkeys = pu.fill_mixed_dataset(master)
    replica = start_redoubt_replica(server_factory, master)
    trm.wait_in_sync(master, [replica])
    master_replid = repl_info(master)["master_replid"]

    dump = assert_same_as_master(master, replica, "right after the full sync")
    assert pu.key_count(dump) == nkeys
    text = replica.log_text()
    assert f"{FULL_RESYNC}: {master_replid}:" in text, replica.log_tail()
    assert "MASTER <-> REPLICA sync: Finished with success" in text, replica.log_tail()
    assert digest(replica) == digest(master)
    # The RDB was received into a temp file renamed to dbfilename (dump.rdb).
    assert (replica.dir / "dump.rdb").exists(), pu.list_dir(replica.dir)
    assert not [n for n in pu.list_dir(replica.dir) if n.startswith("temp-")], \
        pu.list_dir(replica.dir)

    stream_writes(master)
    offset = trm.wait_in_sync(master, [replica])
    info = repl_info(replica)
    assert int(info["slave_repl_offset"]) == offset, info
    dump = assert_same_as_master(master, replica, "after the command stream")
    assert dump[3][b"bl:list"].value == [b"y", b"z"]
    assert dump[4][b"tx:in-db4"].value == b"v"
    assert list(dump[7]) == [b"f:after-flush"]
    assert b"multi-db:key" in dump[8] and b"db9:str" in dump[8], dump[8].keys()
    assert b"rand:small" not in dump[0]
    dm, dr = digest(master), digest(replica)
    assert dm == dr, f"DEBUG DIGEST master {dm!r} replica {dr!r}"
    # The replica's ACKs reach the master: its slave0 entry has the offset, WAIT counts it.
    trm.wait_acked(master, replica)
    assert call(master, "WAIT", "1", "5000") == 1
    with replica.raw() as r:
        assert 490 <= r.call("TTL", "s:expire") <= 500
        assert r.call("TTL", "s:persist") == -1
        assert r.call("GET", "s:keepttl") == b"v2" and 890 <= r.call("TTL", "s:keepttl") <= 900
    assert replica.log_text().count(FULL_RESYNC) == 1, replica.log_tail()


# ---------------------------------------------------------------------------- 2. partial resync

def writes_during_drop(master, tag: str) -> None:
    # First a write in db 5, which the master's stream selected before the drop: the backlog
    # holds it without a SELECT in front (the replica must still be in db 5 after +CONTINUE).
    Caller(master).pipeline(
        [("SELECT", "5"), ("SET", f"{tag}:in-db5", "v"), ("SELECT", "0")] +
        [("SET", f"{tag}:{i}", f"value {i}") for i in range(300)] +
        [("INCR", f"{tag}:ctr"), ("DEL", "str:embstr"), ("SELECT", "3"),
         ("RPUSH", f"{tag}:list", "a", "b"), ("SELECT", "0"),
         ("SADD", f"{tag}:set", *[str(i) for i in range(30)]), ("SPOP", f"{tag}:set", "4"),
         ("EXPIRE", f"{tag}:ctr", "1000")])


def test_partial_resync_after_link_drop(server_factory, redis_server_factory):
    master = start_master(redis_server_factory)
    pu.fill_mixed_dataset(master)
    replica = start_redoubt_replica(server_factory, master)
    trm.wait_in_sync(master, [replica])

    # Redoubt sleeps (DEBUG SLEEP) across the drop and the writes, so it cannot reconnect before
    # they are made: they must come from the master's backlog.
    rounds = [("CLIENT KILL TYPE replica on the master", master, "replica"),
              ("CLIENT KILL TYPE master on Redoubt", replica, "master")]
    for n, (label, killer, kind) in enumerate(rounds, start=1):
        # The master's stream has db 5 selected when the link drops.
        Caller(master).pipeline([("SELECT", "5"), ("SET", f"before-drop{n}", "v")])
        trm.wait_in_sync(master, [replica])
        lost_before = master.log_text().count("Connection with replica")
        with replica.raw() as sleeper, master.raw() as k:
            if killer is replica:
                # 2 s: the writes below must be made while it sleeps, also on a loaded machine
                # (two test workers, ASan).
                sleeper.send_command("CLIENT", "KILL", "TYPE", kind)
                sleeper.send_command("DEBUG", "SLEEP", "2")
            else:
                sleeper.send_command("DEBUG", "SLEEP", "2")
                time.sleep(0.25)
                k.send_command("CLIENT", "KILL", "TYPE", kind)
            try:
                pu.wait_until(lambda: master.log_text().count("Connection with replica")
                              > lost_before, 5, 0.01, what=f"{label}: the master to see the drop")
            except AssertionError as e:
                raise AssertionError(f"{e}\n{trm.logs(master, replica)}") from None
            writes_during_drop(master, f"drop{n}")
            killed = (sleeper if killer is replica else k).recv_reply()
            assert killed == 1, f"{label}: -> {killed!r}"
            assert sleeper.recv_reply() == b"OK"
        try:
            pu.wait_until(lambda: replica.log_text().count(PSYNC_OK) >= n, 15, 0.1,
                          what=f"{label}: Redoubt's log to say {PSYNC_OK!r}")
            # The master writes its own line about the same moment: wait for it too.
            pu.wait_until(lambda: len(PSYNC_ACCEPTED_RE.findall(master.log_text())) >= n, 5, 0.05,
                          what=f"{label}: Redis's log to accept the partial resync")
        except AssertionError as e:
            raise AssertionError(f"{e}\n{trm.logs(master, replica)}") from None
        sent = [int(x) for x in PSYNC_ACCEPTED_RE.findall(master.log_text())]
        assert len(sent) == n and sent[-1] > 3000, \
            f"{label}: Redis's log should accept a partial resync sending the writes made " \
            f"meanwhile: {sent}\n{master.log_tail()}"
        assert replica.log_text().count(FULL_RESYNC) == 1, \
            f"{label}: Redoubt did a full resync again\n{trm.logs(master, replica)}"
        trm.wait_in_sync(master, [replica])
        key = f"drop{n}:in-db5"
        where = dbs_holding(replica, key)
        assert where == dbs_holding(master, key) == [5], \
            f"{label}: {key!r} (written in db 5 while the link was down, the master's stream " \
            f"having db 5 selected since before the drop, so no SELECT precedes it in the " \
            f"backlog) is in db {where} on Redoubt, db 5 on the master: after +CONTINUE the " \
            f"stream must be applied in the db it had selected (Redis keeps its cached master " \
            f"client's db); Redoubt's new master client starts in db 0"
        assert_same_as_master(master, replica, f"after {label}")
        assert digest(replica) == digest(master)


# ---------------------------------------------------------------------------- 3. read-only

def test_read_only_replica_like_redis(server_factory, redis_server_factory):
    master = start_master(redis_server_factory)
    call(master, "SET", "k", "master value")
    call(master, "RPUSH", "l", "a", "b")
    ours = start_redoubt_replica(server_factory, master)
    ref = start_redis_replica(redis_server_factory, master)
    trm.wait_in_sync(master, [ours, ref])

    scripts = [
        [("SET", "k", "x")], [("DEL", "k")], [("LPUSH", "l", "c")], [("INCR", "n")],
        [("EXPIRE", "k", "10")], [("FLUSHALL",)], [("HSET", "h", "f", "v")],
        [("SET", "new", "x", "GET")],
        [("MULTI",), ("GET", "k"), ("SET", "k", "x"), ("EXEC",)],
        [("GET", "k")], [("LRANGE", "l", "0", "-1")], [("EXISTS", "k", "l", "nope")],
        [("PUBLISH", "chan", "msg")], [("DBSIZE",)],
    ]
    for script in scripts:
        got = {}
        for name, srv in (("redoubt", ours), ("redis", ref)):
            with srv.raw() as c:
                got[name] = []
                for args in script:
                    c.send_command(*args)
                    got[name].append(c.recv_reply_raw())
        assert got["redoubt"] == got["redis"], \
            f"{script}: redoubt {got['redoubt']!r}, redis replica {got['redis']!r}"
    assert call_raw(ours, "SET", "k", "x") == READONLY_ERR
    assert call(ours, "GET", "k") == b"master value"
    assert repl_info(ours)["slave_read_only"] == "1"

    for srv in (ours, ref):
        assert call(srv, "CONFIG", "SET", "replica-read-only", "no") == b"OK"
        assert call(srv, "SET", "local", "written on the replica") == b"OK", srv.name
        assert call(srv, "GET", "local") == b"written on the replica"
        assert call(srv, "LPUSH", "l", "z") == 3
        assert repl_info(srv)["slave_read_only"] == "0", srv.name
    # The link is still there: the master's writes keep arriving.
    call(master, "SET", "after", "v")
    trm.wait_in_sync(master, [ours, ref])
    assert call(ours, "GET", "after") == b"v"
    assert call(ours, "CONFIG", "SET", "replica-read-only", "yes") == b"OK"
    assert call_raw(ours, "SET", "k", "x") == READONLY_ERR


# ---------------------------------------------------------------------------- 4. stale data

STALE_PROBES = [("GET", "k"), ("PING",), ("DBSIZE",), ("SET", "k", "x"), ("EXISTS", "k"),
                ("MGET", "k", "x")]


def test_serve_stale_data_no_with_master_down_like_redis(server_factory, redis_server_factory):
    master = start_master(redis_server_factory)
    call(master, "SET", "k", "v")
    ours = start_redoubt_replica(server_factory, master, "--replica-serve-stale-data", "no")
    ref = start_redis_replica(redis_server_factory, master, "--replica-serve-stale-data", "no")
    trm.wait_in_sync(master, [ours, ref])
    assert call(ours, "GET", "k") == b"v"

    master.stop()
    for srv in (ours, ref):
        info = wait_link_down(srv)
        assert info["master_link_status"] == "down", info
    assert call_raw(ours, "GET", "k") == MASTERDOWN_ERR
    for args in STALE_PROBES:
        a, b = call_raw(ours, *args), call_raw(ref, *args)
        assert a == b, f"{args} with the master down: redoubt {a!r}, redis replica {b!r}"
    # Commands flagged stale still run.
    for args in [("INFO", "replication"), ("CONFIG", "GET", "replica-serve-stale-data")]:
        a, b = call(ours, *args), call(ref, *args)
        assert not isinstance(a, RespError) and not isinstance(b, RespError), (args, a, b)
    assert "role:slave" in call(ours, "INFO", "replication").decode()

    master.restart()
    trm.wait_link_up(ours, master)
    trm.wait_link_up(ref, master)
    # The master came back empty (no persistence): the full sync emptied the replicas.
    call(master, "SET", "back", "again")
    trm.wait_in_sync(master, [ours, ref])
    for args in STALE_PROBES[:3] + [("GET", "back")]:
        a, b = call_raw(ours, *args), call_raw(ref, *args)
        assert a == b, f"{args} with the link back: redoubt {a!r}, redis replica {b!r}"
    assert call(ours, "GET", "back") == b"again"
    assert call(ours, "GET", "k") is None


def ping_latencies(srv, duration: float, timeout: float = 3.0) -> list[float]:
    """Round-trip times of PINGs sent every 0.1 s for `duration` seconds; a PING unanswered
    after `timeout` seconds counts as inf and ends the series."""
    out: list[float] = []
    c = None
    try:
        end = time.monotonic() + duration
        while time.monotonic() < end:
            t = time.monotonic()
            try:
                if c is None:  # connecting (the TLS handshake) counts in the first PING
                    c = srv.raw(timeout=timeout)
                r = c.call("PING")
            except (socket.timeout, TimeoutError):
                out.append(float("inf"))
                break
            out.append(time.monotonic() - t)
            assert r == b"PONG", (srv.name, r)
            time.sleep(0.1)
    finally:
        if c is not None:
            c.close()
    return out


def test_replica_serves_clients_while_the_master_does_not_answer(server_factory,
                                                                 redis_server_factory):
    """A master that accepts the TCP connection but never answers (hung, overloaded, SIGSTOPped
    after listen): the replica keeps answering its own clients quickly while its handshake
    waits, as a Redis replica does (its handshake is event-driven, bounded by repl-timeout)."""
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        silent.bind((harness.HOST, 0))
        silent.listen(128)  # the kernel completes connections; nothing is ever read or sent
        port = silent.getsockname()[1]
        ours = server_factory(["--repl-timeout", "60"])
        ref = redis_server_factory(["--repl-timeout", "60"], mode=harness.test_mode())
        worst = {}
        for srv in (ours, ref):
            assert call(srv, "REPLICAOF", harness.HOST, str(port)) == b"OK"
            time.sleep(0.3)  # the connect (once a second from the cron) and the PING are out
            worst[srv.name] = max(ping_latencies(srv, 1.5))
        assert worst[ref.name] < 0.5, worst
        assert repl_info(ref)["master_link_status"] == "down"
        assert worst[ours.name] < 1.0, \
            f"BUG: while the master does not answer the handshake, Redoubt's replica answered " \
            f"PING after up to {worst[ours.name]:.2f} s (inf: not within 3 s; a Redis replica: " \
            f"{worst[ref.name]:.3f} s): the handshake blocks the event loop (up to 5 s per " \
            f"step, retried at once)\n{ours.log_tail(8)}"
    finally:
        silent.close()


# ---------------------------------------------------------------------------- 5. expiry

EXPIRED_PROBES = [("GET", "exp:k"), ("EXISTS", "exp:k"), ("TTL", "exp:k"), ("PTTL", "exp:k"),
                  ("TYPE", "exp:k"), ("STRLEN", "exp:k"), ("MGET", "exp:k", "keep"),
                  ("KEYS", "exp:*"), ("SCAN", "0", "MATCH", "exp:*"), ("DBSIZE",),
                  ("OBJECT", "ENCODING", "exp:k"), ("LRANGE", "exp:l", "0", "-1"),
                  ("EXISTS", "exp:l")]


def test_expiry_waits_for_the_master_like_redis(server_factory, redis_server_factory):
    master = start_master(redis_server_factory)
    ours = start_redoubt_replica(server_factory, master)
    ref = start_redis_replica(redis_server_factory, master)

    # 1. The master expires the key and propagates DEL: gone on the replica.
    call(master, "SET", "exp:early", "v")
    t0 = time.monotonic()
    assert call(master, "PEXPIRE", "exp:early", "300") == 1
    trm.wait_in_sync(master, [ours, ref])
    with ours.raw() as c:
        got, pttl = c.call("GET", "exp:early"), c.call("PTTL", "exp:early")
    if time.monotonic() - t0 < 0.25:  # not expired yet (unless the machine is very slow)
        assert got == b"v" and 0 < pttl <= 300, (got, pttl)
    time.sleep(max(0.0, 0.35 - (time.monotonic() - t0)))
    pu.wait_until(lambda: trm.dbsize(master) == 0, 5, what="the master's active expiry")
    trm.wait_in_sync(master, [ours, ref])
    assert trm.dbsize(ours) == 0 and call(ours, "EXISTS", "exp:early") == 0
    assert keyspace_counts(ours) == {}, pu.info(ours, "keyspace")

    # 2. Master stopped (SIGSTOP): the replicas hold expired keys that reads hide.
    call(master, "SET", "keep", "kept")
    call(master, "SET", "exp:k", "v", "PX", "300")
    call(master, "RPUSH", "exp:l", "a", "b")
    call(master, "PEXPIRE", "exp:l", "300")
    trm.wait_in_sync(master, [ours, ref])
    assert call(ours, "GET", "exp:k") == b"v"
    master.proc.send_signal(signal.SIGSTOP)
    try:
        time.sleep(0.9)  # expired, and several active-expiry cycles would have run
        for args in EXPIRED_PROBES:
            a, b = call_raw(ours, *args), call_raw(ref, *args)
            assert a == b, f"{args} on an expired key, master stopped: redoubt {a!r}, " \
                           f"redis replica {b!r}"
        assert call(ours, "GET", "exp:k") is None
        assert call(ours, "DBSIZE") == 3
        ks_ours, ks_ref = keyspace_counts(ours), keyspace_counts(ref)
        assert ks_ours == ks_ref == {"db0": (3, 2)}, (ks_ours, ks_ref)
        # The replica still refuses to write them itself.
        assert call_raw(ours, "DEL", "exp:k") == READONLY_ERR
    finally:
        master.proc.send_signal(signal.SIGCONT)
    # The master wakes up, expires the keys and its DELs remove them on the replicas.
    pu.wait_until(lambda: trm.dbsize(master) == 1, 5, what="the master's active expiry")
    trm.wait_in_sync(master, [ours, ref])
    assert trm.dbsize(ours) == trm.dbsize(ref) == 1
    assert keyspace_counts(ours) == {"db0": (1, 0)}
    assert_same_as_master(master, ours)


# ---------------------------------------------------------------------------- 6. REPLICAOF NO ONE

def test_replicaof_no_one_then_back_like_redis(server_factory, redis_server_factory):
    master = start_master(redis_server_factory)
    Caller(master).pipeline([("SET", f"k:{i}", f"v{i}") for i in range(100)] +
                            [("HSET", "h", "f", "v"), ("SELECT", "2"), ("SET", "db2", "x")])
    ours = start_redoubt_replica(server_factory, master)
    ref = start_redis_replica(redis_server_factory, master)
    trm.wait_in_sync(master, [ours, ref])
    old_replid = repl_info(master)["master_replid"]
    before = pu.dump_dataset(master)

    promoted = {}
    for srv in (ours, ref):
        promoted[srv.name] = call_raw(srv, "REPLICAOF", "NO", "ONE")
        info = repl_info(srv)
        assert info["role"] == "master", (srv.name, info)
        assert info["master_replid"] != old_replid, (srv.name, info)
        pu.assert_same_dataset(pu.dump_dataset(srv), before, srv.name, "master before",
                               context="kept after REPLICAOF NO ONE")
        assert call(srv, "SET", "local:new", "x") == b"OK"
        assert call(srv, "SET", "k:1", "overwritten locally") == b"OK"
        assert call(srv, "DEL", "h") == 1
        assert call_raw(srv, "REPLICAOF", "NO", "ONE") == b"+OK\r\n"  # already a master
    assert promoted[ours.name] == promoted[ref.name] == b"+OK\r\n", promoted

    call(master, "SET", "master:after", "v")
    back = {}
    for srv in (ours, ref):
        back[srv.name] = (call_raw(srv, "REPLICAOF", master.host, str(master.repl_port)),
                          call_raw(srv, "SLAVEOF", master.host, str(master.repl_port)))
    assert back[ours.name] == back[ref.name] == \
        (b"+OK\r\n", b"+OK Already connected to specified master\r\n"), back
    for srv in (ours, ref):
        trm.wait_link_up(srv, master)
    trm.wait_in_sync(master, [ours, ref])
    dump = assert_same_as_master(master, ours, "re-attached after REPLICAOF NO ONE")
    assert_same_as_master(master, ref, "Redis replica re-attached")
    assert b"local:new" not in dump[0] and dump[0][b"k:1"].value == b"v1"
    assert repl_info(ours)["role"] == "slave"
    assert call_raw(ours, "SET", "k", "x") == READONLY_ERR
    assert ours.log_text().count(FULL_RESYNC) == 2, ours.log_tail()
    assert ref.log_text().count(FULL_RESYNC) == 2, ref.log_tail()


# ---------------------------------------------------------------------------- 7. masterauth

AUTH_FAIL = "Unable to AUTH to MASTER"


def test_masterauth_and_masteruser(server_factory, redis_server_factory):
    master = start_master(redis_server_factory)
    pu.fill_mixed_dataset(master)
    Caller(master)("ACL", "SETUSER", "repl", "on", ">repl-pass", "+psync", "+replconf", "+ping")
    dump = pu.dump_dataset(master)
    # From now on every new connection to the master must authenticate.
    assert call(master, "CONFIG", "SET", "requirepass", "s3cret") == b"OK"

    with_pass = start_redoubt_replica(server_factory, master, "--masterauth", "s3cret",
                                      wait=False)
    with_user = start_redoubt_replica(server_factory, master, "--masteruser", "repl",
                                      "--masterauth", "repl-pass", wait=False)
    wrong = start_redoubt_replica(server_factory, master, "--masterauth", "wrong", wait=False)
    ref_wrong = start_redis_replica(redis_server_factory, master, "--masterauth", "wrong",
                                    wait=False)
    for rep in (with_pass, with_user):
        trm.wait_link_up(rep, master)
        pu.assert_same_dataset(pu.dump_dataset(rep), dump, rep.name, "redis master",
                               context="synced with masterauth")

    try:
        pu.wait_until(lambda: AUTH_FAIL in ref_wrong.log_text(), 10,
                      what="the Redis replica to log the AUTH failure")
        pu.wait_until(lambda: AUTH_FAIL in wrong.log_text(), 10,
                      what="Redoubt to log the AUTH failure")
    except AssertionError as e:
        raise AssertionError(f"{e}\n{trm.logs(wrong, ref_wrong)}") from None
    time.sleep(1.2)  # a retry or two
    info = repl_info(wrong)
    assert info["master_link_status"] == "down", info
    assert info["role"] == "slave" and info["master_port"] == str(master.repl_port), info
    assert trm.dbsize(wrong) == 0
    ref_line = next(ln for ln in ref_wrong.log_text().splitlines() if AUTH_FAIL in ln)
    why = ref_line[ref_line.index(AUTH_FAIL):]  # "Unable to AUTH to MASTER: -WRONGPASS ..."
    assert why in wrong.log_text(), \
        f"Redoubt's log should say {why!r} as Redis's does\n{wrong.log_tail()}"


# ---------------------------------------------------------------------------- 8. INFO and ROLE

def info_names(info: dict) -> list[str]:
    return [k for k in info if not re.fullmatch(r"slave\d+", k)]


def test_info_replication_and_role_like_redis_replica(server_factory, redis_server_factory):
    master = start_master(redis_server_factory)
    call(master, "SET", "k", "v")
    ours = start_redoubt_replica(server_factory, master)
    ref = start_redis_replica(redis_server_factory, master)
    trm.wait_in_sync(master, [ours, ref])
    time.sleep(1.1)  # master_last_io_seconds_ago etc. settle; an ACK went out
    trm.wait_in_sync(master, [ours, ref])

    a, b = repl_info(ours), repl_info(ref)
    assert info_names(a) == info_names(b), \
        f"INFO replication field names, link up:\nredoubt {list(a)}\nredis   {list(b)}"
    for k in ("role", "master_host", "master_port", "master_link_status",
              "master_sync_in_progress", "slave_read_repl_offset", "slave_repl_offset",
              "slave_priority", "slave_read_only", "replica_announced", "connected_slaves",
              "master_failover_state", "master_replid"):
        assert a[k] == b[k], f"{k}: redoubt {a[k]!r}, redis replica {b[k]!r}"
    assert int(a["master_last_io_seconds_ago"]) <= 2, a

    ra, rb = call(ours, "ROLE"), call(ref, "ROLE")
    assert trm.role_shape(ra) == trm.role_shape(rb), (ra, rb)
    assert ra[0] == b"slave", \
        f"BUG: ROLE on a replica gives {ra!r} (a Redis replica gives {rb!r})"
    assert ra[:4] == rb[:4] == [b"slave", master.host.encode(), master.repl_port, b"connected"], \
        (ra, rb)
    assert ra[4] == rb[4] == int(a["slave_repl_offset"]), (ra, rb, a)


def test_info_replication_and_role_with_link_down_like_redis_replica(server_factory,
                                                                    redis_server_factory):
    master = start_master(redis_server_factory)
    call(master, "SET", "k", "v")
    ours = start_redoubt_replica(server_factory, master)
    ref = start_redis_replica(redis_server_factory, master)
    trm.wait_in_sync(master, [ours, ref])
    master.stop()
    a, b = wait_link_down(ours), wait_link_down(ref)
    time.sleep(1.1)
    # replica-serve-stale-data yes (the default): the data is still served.
    assert call(ours, "GET", "k") == call(ref, "GET", "k") == b"v"
    ra, rb = call(ours, "ROLE"), call(ref, "ROLE")
    assert trm.role_shape(ra) == trm.role_shape(rb), (ra, rb)
    assert ra[:3] == rb[:3] and ra[4] == rb[4] == -1, (ra, rb)
    assert ra[3] in (b"connect", b"connecting") and rb[3] in (b"connect", b"connecting"), (ra, rb)
    a, b = repl_info(ours), repl_info(ref)
    for k in ("role", "master_link_status", "master_last_io_seconds_ago",
              "master_sync_in_progress"):
        assert a[k] == b[k], f"{k}: redoubt {a[k]!r}, redis replica {b[k]!r}"
    missing = [k for k in info_names(b) if k not in a]
    assert not missing, \
        f"BUG: with the link down Redoubt's INFO replication lacks {missing} (a Redis " \
        f"replica shows master_link_down_since_seconds:{b.get('master_link_down_since_seconds')})"
    assert info_names(a) == info_names(b), \
        f"INFO replication field names, link down:\nredoubt {list(a)}\nredis   {list(b)}"


# ---------------------------------------------------------------------------- 9. chain

def test_chain_redis_to_redoubt_to_redis(server_factory, redis_server_factory):
    master = start_master(redis_server_factory)
    pu.fill_mixed_dataset(master)
    middle = start_redoubt_replica(server_factory, master, "--repl-diskless-sync-delay", "0")
    trm.wait_in_sync(master, [middle])
    # The sub-replica's replicaof points at Redoubt (over TLS in TLS mode).
    sub = trm.start_replica(redis_server_factory, middle)
    trm.wait_link_up(sub, middle)
    wait_dataset_equal(master, sub, context="sub-replica after its full sync")

    stream_writes(master)
    trm.wait_in_sync(master, [middle])
    assert_same_as_master(master, middle, "middle (Redoubt) after the writes")
    wait_dataset_equal(master, sub, context="sub-replica after writes on the top master")
    dm = digest(master)
    assert digest(middle) == dm
    pu.wait_until(lambda: digest(sub) == dm, 10, what="the sub-replica's DEBUG DIGEST")
    info = repl_info(middle)
    assert info["role"] == "slave" and info["connected_slaves"] == "1", info

    # The top link drops (Redoubt resumes with +CONTINUE): the sub-replica keeps following.
    assert call(master, "CLIENT", "KILL", "TYPE", "replica") == 1
    Caller(master).pipeline([("SET", f"after-drop:{i}", i) for i in range(100)] +
                            [("DEL", "after-drop:7"), ("SPOP", "set:int-large", "3")])
    pu.wait_until(lambda: repl_info(middle)["master_link_status"] == "up" and
                  middle.log_text().count(PSYNC_OK) + middle.log_text().count(FULL_RESYNC) >= 2,
                  10, 0.1, what="Redoubt to re-attach to the top master")
    trm.wait_in_sync(master, [middle])
    wait_dataset_equal(master, sub, context="sub-replica after the top link dropped")
    assert repl_info(sub)["master_link_status"] == "up"
    sub_info = repl_info(sub)
    assert sub_info["master_link_status"] == "up" and \
        sub_info["master_port"] == str(middle.port), sub_info


def test_replica_announce_ip_port_and_priority(server_factory, redis_server_factory):
    """replica-announce-ip / replica-announce-port reach the master (its INFO and ROLE list the
    replica under them, as for a Redis replica announcing the same), replica-priority shows in
    the replica's INFO."""
    master = start_master(redis_server_factory)
    ours = start_redoubt_replica(server_factory, master, "--replica-announce-ip", "127.0.0.5",
                                 "--replica-announce-port", "7777", "--replica-priority", "42")
    ref = start_redis_replica(redis_server_factory, master, "--replica-announce-ip", "127.0.0.6",
                              "--replica-announce-port", "7778", "--replica-priority", "43")
    minfo = repl_info(master)
    slaves = [v for k, v in minfo.items() if k.startswith("slave")]
    assert any(s.startswith("ip=127.0.0.5,port=7777,") for s in slaves), minfo
    assert any(s.startswith("ip=127.0.0.6,port=7778,") for s in slaves), minfo
    assert repl_info(ours)["slave_priority"] == "42"
    assert repl_info(ref)["slave_priority"] == "43"


def test_replica_with_aof_survives_kill_9_after_full_sync(server_factory, redis_server_factory):
    """A replica with appendonly yes: the full sync replaces its dataset, so its AOF restarts
    from a rewrite of the loaded data (as Redis). kill -9 after the sync and a write, then a start
    without replicaof: the AOF gives back exactly the master's dataset."""
    import test_persist_aof as tpa
    master = start_master(redis_server_factory)
    pu.fill_mixed_dataset(master)
    rep = start_redoubt_replica(server_factory, master, "--appendonly", "yes")
    Caller(master)("SET", "after-sync", "1")
    wait_dataset_equal(master, rep, context="before the kill")
    time.sleep(1.2)  # appendfsync everysec
    expected = pu.dump_dataset(master)
    tpa.kill9(rep)
    # The master goes away so that nothing can resync the replica: what it serves after the
    # restart comes from its own AOF.
    master.stop()
    rep.start(keep_port=True)
    call(rep, "REPLICAOF", "NO", "ONE")
    got = pu.dump_dataset(rep)
    pu.assert_same_dataset(got, expected, rep.name, "redis master",
                           context="restart from the AOF after kill -9")


def test_chain_offsets_and_promotion_keep_partial_resyncs(server_factory, redis_server_factory):
    """PSYNC2 through a Redoubt replica: it relays its master's stream verbatim, so a Redis
    sub-replica's offsets equal the top master's; a dropped sub-link resumes with a partial
    resync; after REPLICAOF NO ONE on Redoubt (a promotion) the old ID becomes master_replid2 and
    the sub-replica goes on without a full resync."""
    master = start_master(redis_server_factory)
    pu.fill_mixed_dataset(master)
    middle = start_redoubt_replica(server_factory, master, "--repl-diskless-sync-delay", "0")
    sub = trm.start_replica(redis_server_factory, middle)
    trm.wait_link_up(sub, middle)
    Caller(master).pipeline([("SELECT", "3"), ("SET", "in-db3", "1"), ("SELECT", "0"),
                             ("SET", "top", "1")])
    pu.wait_until(lambda: repl_info(sub)["slave_repl_offset"] ==
                  repl_info(master)["master_repl_offset"], 10, 0.1,
                  what="the sub-replica's offset to equal the top master's")
    assert repl_info(middle)["master_repl_offset"] == repl_info(master)["master_repl_offset"]
    old_id = repl_info(master)["master_replid"]
    assert repl_info(middle)["master_replid"] == old_id

    assert call(middle, "CLIENT", "KILL", "TYPE", "replica") == 1
    Caller(master)("SET", "while-sub-down", "1")
    pu.wait_until(lambda: sub.log_text().count("Successful partial resynchronization") >= 1,
                  10, 0.1, what="the sub-replica to resume with a partial resync")

    assert call(middle, "REPLICAOF", "NO", "ONE") == b"OK"
    info = repl_info(middle)
    assert info["role"] == "master" and info["master_replid2"] == old_id, info
    assert int(info["second_repl_offset"]) > 0, info
    assert call(middle, "SET", "after-promotion", "1") == b"OK"
    pu.wait_until(lambda: call(sub, "GET", "after-promotion") == b"1", 10, 0.1,
                  what="the sub-replica to follow the promoted Redoubt")
    assert sub.log_text().count("Full resync from master") == 1, sub.log_tail()
    wait_dataset_equal(middle, sub, context="sub-replica after the promotion")
