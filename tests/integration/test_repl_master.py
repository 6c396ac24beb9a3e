"""Replication, master side: Debian's redis-server 7.0.15 as a replica of Redoubt
(`--replicaof 127.0.0.1 <port>`; in TLS mode `--tls-replication yes` with tests/tls/client.crt
against Redoubt's TLS port).

  full sync          the mixed dataset (every type, TTLs, all 16 dbs) arrives by a diskless RDB
  command stream     writes of every kind after the sync (TTLs, MULTI/EXEC, SPOP with a count,
                     INCRBYFLOAT, served blocking pops, SELECT, FLUSHDB, keys expiring on the
                     master) leave the replica with the master's dataset
  partial resync     after CLIENT KILL TYPE replica (on Redoubt) and CLIENT KILL TYPE master (on
                     the replica) the replica continues from the backlog (+CONTINUE), no new RDB
  flow control       a ~60 MB dataset of incompressible values to a replica that stops reading
                     for seconds: the transfer pauses with the master's output buffer for it far
                     below a 16 MB replica output-buffer limit, then completes (DBSIZE, DEBUG
                     DIGEST equal)
  slaveN state       during a diskless transfer INFO shows the states Redis's master shows
                     (wait_bgsave, then online), compared with a Redis master
  INFO / ROLE        the replication section and ROLE have the shapes Redis's master gives with
                     a Redis replica set up the same way
  two replicas       one synced early, one joining while writes go on: both equal the master

Redoubt runs with repl-diskless-sync-delay 0 (Redis's default 5 s would only slow the tests)
except where the delay is the point. Helpers for datasets come from persist_util.py. Like the
persistence suites this one passes against Redis itself (REDOUBT_SERVER=/usr/bin/redis-server),
which checks the tests.
"""

from __future__ import annotations

import os
import re
import threading
import time

import harness
import persist_util as pu
from harness import RespError

MASTER_ARGS = ["--repl-diskless-sync-delay", "0", "--enable-debug-command", "yes"]
SYNC_TIMEOUT_S = 30.0


# ---------------------------------------------------------------------------- helpers

def replica_args(master, *extra: str) -> list[str]:
    """redis-server arguments making it a replica of `master` (TLS when the master is)."""
    args = ["--replicaof", master.host, str(master.port), "--enable-debug-command", "yes"]
    if master.tls:
        f = harness.tls_files()
        # The harness gives the replica server.crt for its own TLS port; that certificate is for
        # servers only, so the outgoing link to the master presents the client certificate.
        args += ["--tls-replication", "yes",
                 "--tls-client-cert-file", str(f["client_cert"]),
                 "--tls-client-key-file", str(f["client_key"])]
    return args + list(extra)


def start_replica(redis_server_factory, master, *extra: str):
    return redis_server_factory(replica_args(master, *extra), mode=master.mode)


def repl_info(srv) -> dict[str, str]:
    return pu.info(srv, "replication")


def logs(*servers) -> str:
    return "\n".join(s.log_tail(25) for s in servers)


def wait_link_up(replica, master, timeout: float = SYNC_TIMEOUT_S) -> dict[str, str]:
    last: dict[str, str] = {}

    def up():
        nonlocal last
        last = repl_info(replica)
        return last.get("master_link_status") == "up" and last.get("master_sync_in_progress") == "0"
    try:
        pu.wait_until(up, timeout, 0.1, what=f"{replica.name}: master_link_status:up")
    except AssertionError as e:
        raise AssertionError(f"{e}; replica INFO replication: {last}\n{logs(master, replica)}") \
            from None
    return last


def wait_in_sync(master, replicas, timeout: float = SYNC_TIMEOUT_S) -> int:
    """Waits until every replica processed the whole stream (slave_repl_offset == Redoubt's
    master_repl_offset, link up). Returns that offset."""
    state: dict = {}

    def synced():
        mo = int(repl_info(master)["master_repl_offset"])
        state["master"] = mo
        ok = True
        for r in replicas:
            ri = repl_info(r)
            state[r.name] = (ri.get("master_link_status"), ri.get("slave_repl_offset"))
            if ri.get("master_link_status") != "up" or int(ri.get("slave_repl_offset", -1)) != mo:
                ok = False
        return ok
    try:
        pu.wait_until(synced, timeout, 0.05, what="replicas to reach master_repl_offset")
    except AssertionError as e:
        raise AssertionError(f"{e}; last offsets: {state}\n{logs(master, *replicas)}") from None
    return state["master"]


def assert_replica_has_master_dataset(master, replica, context: str = "") -> dict:
    ours = pu.dump_dataset(master)
    theirs = pu.dump_dataset(replica)
    pu.assert_same_dataset(ours, theirs, "redoubt master", f"{replica.name} (replica)",
                           context=context)
    return ours


def dbsize(srv, db: int = 0) -> int:
    with srv.raw() as c:
        c.call("SELECT", db)
        return c.call("DBSIZE")


def slave_entries(info: dict[str, str]) -> dict[str, dict[str, str]]:
    """{"slave0": {"ip": .., "port": .., "state": .., "offset": .., "lag": ..}, ...}"""
    out = {}
    for k, v in info.items():
        if re.fullmatch(r"slave\d+", k):
            out[k] = dict(kv.split("=", 1) for kv in v.split(","))
    return out


class Caller:
    """A raw client on a server whose every reply must not be an error."""

    def __init__(self, srv):
        self.srv = srv
        self.c = srv.raw(timeout=30)

    def __call__(self, *args):
        r = self.c.call(*args)
        assert not isinstance(r, RespError), f"{self.srv.name}: {args!r} -> {r!r}"
        return r

    def pipeline(self, commands) -> list:
        for args in commands:
            self.c.send_command(*args)
        out = [self.c.recv_reply() for _ in commands]
        bad = [(a, r) for a, r in zip(commands, out) if isinstance(r, RespError)]
        assert not bad, f"{self.srv.name}: errors in a pipeline: {bad[:5]!r}"
        return out

    def close(self):
        self.c.close()


# ---------------------------------------------------------------------------- 1. full sync

def test_full_sync_of_mixed_dataset_to_redis_replica(server_factory, redis_server_factory):
    master = server_factory(MASTER_ARGS)
    nkeys = pu.fill_mixed_dataset(master)

    replica = start_replica(redis_server_factory, master)
    info = wait_link_up(replica, master)
    master_replid = repl_info(master)["master_replid"]

    ours = assert_replica_has_master_dataset(master, replica, "right after the full sync")
    assert pu.key_count(ours) == nkeys
    assert info["master_replid"] == master_replid, info
    text = replica.log_text()
    assert f"Full resync from master: {master_replid}:" in text, replica.log_tail()
    assert "MASTER <-> REPLICA sync: Finished with success" in text, replica.log_tail()


# ---------------------------------------------------------------------------- 2. the stream

def served_blocking(master, db: int, block_cmd: tuple, feed_cmd: tuple) -> tuple:
    """Client A blocks with block_cmd in db, client B serves it with feed_cmd."""
    with master.raw() as a, master.raw() as b:
        before = int(pu.info(master, "clients")["blocked_clients"])
        a.call("SELECT", db)
        b.call("SELECT", db)
        a.send_command(*block_cmd)
        pu.wait_until(lambda: int(pu.info(master, "clients")["blocked_clients"]) > before, 5,
                      what=f"{block_cmd[0]} to block")
        fed = b.call(*feed_cmd)
        return a.recv_reply(), fed


def test_command_stream_reaches_redis_replica(server_factory, redis_server_factory):
    master = server_factory(MASTER_ARGS)
    replica = start_replica(redis_server_factory, master)
    wait_link_up(replica, master)
    c = Caller(master)

    # TTLs of every flavour
    c("SET", "s:ex", "v", "EX", "1000")
    c("SET", "s:px", "v", "PX", "1000000")
    c("SETEX", "s:setex", "800", "v")
    c("SET", "s:expire", "v")
    c("EXPIRE", "s:expire", "500")
    c("RPUSH", "l:pexpire", "a", "b")
    c("PEXPIRE", "l:pexpire", "700000")
    c("HSET", "h:expireat", "f", "v")
    c("EXPIREAT", "h:expireat", str(pu.FAR_FUTURE_MS // 1000 + 5))
    c("SET", "s:keepttl", "v1", "EX", "900")
    c("SET", "s:keepttl", "v2", "KEEPTTL")
    c("SET", "s:persist", "v", "EX", "100")
    c("PERSIST", "s:persist")
    c("SET", "s:getex", "v")
    c("GETEX", "s:getex", "EX", "600")
    c("SET", "s:gone", "v")
    c("PEXPIREAT", "s:gone", "1000")  # in the past: deleted

    # Other writes
    c("INCR", "n:ctr")
    c("INCRBY", "n:ctr", "41")
    for inc in ("0.1", "0.2", "1e-7", "3.0e2"):
        c("INCRBYFLOAT", "n:float", inc)
    c("SET", "n:float-ttl", "1.5", "EX", "1000")
    c("INCRBYFLOAT", "n:float-ttl", "2.25")
    c("HINCRBYFLOAT", "h:float", "f", "1.1")
    c("HINCRBYFLOAT", "h:float", "f", "2.2")
    c("APPEND", "s:append", "abc")
    c("SETRANGE", "s:append", "10", "xyz")
    c("ZADD", "z", "1", "a", "2", "b")
    c("ZINCRBY", "z", "2.5", "a")
    c("RPUSH", "l:src", "1", "2", "3")
    c("LMOVE", "l:src", "l:dst", "LEFT", "RIGHT")
    c("SET", "s:renamed-from", "v")
    c("RENAME", "s:renamed-from", "s:renamed-to")
    c("SET", "s:deleted", "v")
    c("DEL", "s:deleted")

    # SPOP picks random members: the replica must get what the master removed.
    c("SADD", "rand:set", *[str(i) for i in range(40)])
    assert len(c("SPOP", "rand:set", "7")) == 7
    c("SPOP", "rand:set")
    c("SADD", "rand:strs", *[f"m{i}" for i in range(20)])
    c("SPOP", "rand:strs", "5")
    c("SADD", "rand:small", "a", "b", "c")
    assert sorted(c("SPOP", "rand:small", "10")) == [b"a", b"b", b"c"]  # the whole set

    # MULTI/EXEC, with a SELECT inside
    assert c("MULTI") == b"OK"
    for args in [("SET", "tx:a", "1"), ("INCR", "tx:a"), ("RPUSH", "tx:list", "a", "b", "c"),
                 ("EXPIRE", "tx:list", "1000"), ("LPOP", "tx:list"), ("SPOP", "tx:list-none"),
                 ("SELECT", "4"), ("SET", "tx:in-db4", "v"), ("INCRBYFLOAT", "tx:f", "1.5")]:
        assert c(*args) == b"QUEUED"
    replies = c("EXEC")
    assert isinstance(replies, list) and len(replies) == 9, replies
    c("SELECT", "0")

    # Blocking pops served by later pushes
    popped, fed = served_blocking(master, 3, ("BLPOP", "bl:list", "0"),
                                  ("RPUSH", "bl:list", "x", "y", "z"))
    assert popped == [b"bl:list", b"x"] and fed == 3, (popped, fed)
    moved, fed = served_blocking(master, 3, ("BLMOVE", "bl:src", "bl:dst", "LEFT", "RIGHT", "0"),
                                 ("LPUSH", "bl:src", "p", "q"))
    assert moved == b"q", moved
    zpopped, _ = served_blocking(master, 0, ("BZPOPMIN", "bl:z", "0"),
                                 ("ZADD", "bl:z", "1", "one", "2", "two"))
    assert zpopped == [b"bl:z", b"one", b"1"], zpopped

    # SELECT of several dbs in one connection
    c.pipeline([cmd for db in (1, 5, 9, 15, 0, 5, 1) for cmd in
                [("SELECT", db), ("SET", "multi-db:key", f"written in db {db}"),
                 ("INCR", "multi-db:ctr")]])
    c("SELECT", "0")

    # FLUSHDB: the replica held the keys first
    c("SELECT", "7")
    c.pipeline([("SET", f"f:{i}", "v") for i in range(50)])
    wait_in_sync(master, [replica])
    assert dbsize(replica, 7) == 50
    c("FLUSHDB")
    c("SET", "f:after-flush", "v")
    c("SELECT", "0")

    # Keys expiring on the master: the master's DEL removes them on the replica (a Redis replica
    # never expires keys by itself; DBSIZE counts logically expired ones).
    c("SELECT", "2")
    c("SET", "exp:lazy", "v", "PX", "300")
    c("SET", "exp:active", "v", "PX", "300")
    c("SET", "exp:keep", "v", "PX", "600000")
    c("SELECT", "0")
    wait_in_sync(master, [replica])
    assert dbsize(replica, 2) == 3
    time.sleep(0.4)
    with master.raw() as m:
        m.call("SELECT", "2")
        assert m.call("GET", "exp:lazy") is None  # expired on access
    pu.wait_until(lambda: dbsize(master, 2) == 1, 5,
                  what="the master's active expiry to delete exp:active")
    wait_in_sync(master, [replica])
    with replica.raw() as r:
        r.call("SELECT", "2")
        assert r.call("DBSIZE") == 1, \
            f"expired keys still on the replica: {r.call('KEYS', '*')!r} (KEYS hides expired)"

    # The replica's TTLs are about right
    with replica.raw() as r:
        ttl = r.call("TTL", "s:expire")
        assert 490 <= ttl <= 500, f"replica TTL of s:expire (EXPIRE 500 on the master): {ttl}"
        pttl = r.call("PTTL", "l:pexpire")
        assert 690_000 <= pttl <= 700_000, pttl
        assert r.call("TTL", "s:persist") == -1
        assert r.call("EXISTS", "s:gone") == 0
        assert 0 < r.call("TTL", "n:float-ttl") <= 1000
        assert r.call("GET", "n:float") == c("GET", "n:float")
        assert r.call("GET", "s:keepttl") == b"v2" and 890 <= r.call("TTL", "s:keepttl") <= 900

    c.close()
    wait_in_sync(master, [replica])
    dump = assert_replica_has_master_dataset(master, replica, "after the command stream")
    assert dump[3][b"bl:list"].value == [b"y", b"z"]
    assert dump[4][b"tx:in-db4"].value == b"v"
    assert list(dump[7]) == [b"f:after-flush"]
    assert b"rand:small" not in dump[0]


# ---------------------------------------------------------------------------- 3. partial resync

PSYNC_OK = "Successful partial resynchronization"
PSYNC_ACCEPTED = "Master accepted a Partial Resynchronization"


def writes_during_drop(c: Caller, tag: str) -> None:
    c.pipeline([("SET", f"{tag}:{i}", f"value {i}") for i in range(300)] +
               [("INCR", f"{tag}:ctr"), ("DEL", "str:embstr"), ("SELECT", "3"),
                ("RPUSH", f"{tag}:list", "a", "b"), ("SELECT", "0"),
                ("SADD", f"{tag}:set", *[str(i) for i in range(30)]),
                ("SPOP", f"{tag}:set", "4")])


def test_partial_resync_after_link_drop(server_factory, redis_server_factory):
    master = server_factory(MASTER_ARGS)
    pu.fill_mixed_dataset(master)
    replica = start_replica(redis_server_factory, master)
    wait_link_up(replica, master)
    wait_in_sync(master, [replica])
    c = Caller(master)

    # The replica sleeps (DEBUG SLEEP) across the drop and the writes, so it cannot reconnect
    # before they are made: they must come from the backlog.
    rounds = [("master side", master, "replica"), ("replica side", replica, "master")]
    for n, (label, killer, kind) in enumerate(rounds, start=1):
        lost_before = master.log_text().count("Connection with replica")
        with replica.raw() as sleeper, master.raw() as k:
            if killer is replica:
                # Pipelined: the replica drops its master link and sleeps at once (both replies
                # come after the sleep).
                # 2 s: the writes below must be made while it sleeps, also on a loaded machine
                # (two test workers, ASan).
                sleeper.send_command("CLIENT", "KILL", "TYPE", kind)
                sleeper.send_command("DEBUG", "SLEEP", "2")
            else:
                sleeper.send_command("DEBUG", "SLEEP", "2")
                time.sleep(0.25)  # the replica is asleep before its link drops
                k.send_command("CLIENT", "KILL", "TYPE", kind)
            pu.wait_until(lambda: master.log_text().count("Connection with replica") > lost_before,
                          5, 0.01, what=f"{label}: the master to see the link drop")
            writes_during_drop(c, f"drop{n}")
            killed = (sleeper if killer is replica else k).recv_reply()
            assert killed == 1, f"{label}: CLIENT KILL TYPE {kind} -> {killed!r}"
            assert sleeper.recv_reply() == b"OK"
        try:
            pu.wait_until(lambda: replica.log_text().count(PSYNC_OK) >= n, 15, 0.1,
                          what=f"{label}: the replica's log to say {PSYNC_OK!r}")
        except AssertionError as e:
            raise AssertionError(f"{e}\n{logs(master, replica)}") from None
        text = replica.log_text()
        assert text.count(PSYNC_ACCEPTED) >= n, replica.log_tail()
        assert text.count("Full resync from master") == 1, \
            f"{label}: the replica did a full resync again\n{logs(master, replica)}"
        wait_in_sync(master, [replica])
        assert_replica_has_master_dataset(master, replica, f"after the {label} drop")

        info = repl_info(master)
        slaves = slave_entries(info)
        assert info["connected_slaves"] == "1" and list(slaves) == ["slave0"], info
        pu.wait_until(lambda: slave_entries(repl_info(master))["slave0"]["state"] == "online", 5,
                      what="slave0 state=online on the master")
        assert slaves["slave0"]["port"] == str(replica.port), slaves
    sent = [int(x) for x in re.findall(r"Sending (\d+) bytes of backlog", master.log_text())]
    assert len(sent) == 2 and all(x > 3000 for x in sent), \
        f"expected two partial resyncs sending the writes made during the drops: {sent}\n" \
        f"{master.log_tail()}"
    c.close()


# ---------------------------------------------------------------------------- 4. big transfer

BIG_KEYS = 60_000
BIG_VALUE = 1024
OBUF_LIMIT_MB = 16
TRANSFER_STARTED = "Starting BGSAVE for SYNC with target: replicas sockets"
TRANSFER_DONE = "Streamed RDB transfer with replica"


def fill_incompressible(master, nkeys: int, size: int = BIG_VALUE) -> None:
    c = Caller(master)
    batch = 2000
    for start in range(0, nkeys, batch):
        c.pipeline([("SET", f"big:{i:06d}", os.urandom(size))
                    for i in range(start, min(nkeys, start + batch))])
    c.close()
    assert dbsize(master) == nkeys


def client_list_omem(master) -> list[int]:
    with master.raw() as c:
        text = c.call("CLIENT", "LIST", "TYPE", "replica")
    return [int(m) for m in re.findall(rb"\bomem=(\d+)", text)]


def sync_to_sleeping_replica(master, redis_server_factory, sleep_s: float) -> dict:
    """Starts a replica of `master` (which must have repl-diskless-sync-delay 2) and puts it to
    sleep (DEBUG SLEEP) while it waits for the delayed transfer, so the transfer runs into a
    replica that reads nothing. Samples the master meanwhile and waits for the sync to end.
    Returns {replica, max_omem, states (slave0 states seen, in order), started, done_in_sleep}."""
    replica = start_replica(redis_server_factory, master)
    pu.wait_until(lambda: slave_entries(repl_info(master)).get("slave0", {}).get("state")
                  == "wait_bgsave" and TRANSFER_STARTED not in master.log_text(), 10, 0.02,
                  what="the replica waiting for the delayed transfer")
    states: list = []
    max_omem = 0

    def sample():
        nonlocal max_omem
        max_omem = max([max_omem] + client_list_omem(master))
        st = slave_entries(repl_info(master)).get("slave0", {}).get("state")
        if not states or states[-1] != st:
            states.append(st)
    with replica.raw(timeout=sleep_s + 10) as r:
        r.send_command("DEBUG", "SLEEP", sleep_s)
        t_end = time.monotonic() + sleep_s - 0.5
        while time.monotonic() < t_end:
            sample()
            time.sleep(0.02)
        text = master.log_text()
        started, done_in_sleep = TRANSFER_STARTED in text, TRANSFER_DONE in text
        assert r.recv_reply() == b"OK"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        sample()
        ri = repl_info(replica)
        if ri.get("master_link_status") == "up" and ri.get("master_sync_in_progress") == "0" \
                and states[-1] == "online":
            break
        time.sleep(0.01)
    wait_link_up(replica, master)
    return {"replica": replica, "max_omem": max_omem, "states": states, "started": started,
            "done_in_sleep": done_in_sleep}


def test_big_dataset_full_sync_with_flow_control(server_factory, redis_server_factory):
    """The replica sleeps (DEBUG SLEEP) while the RDB goes out: ~60 MB of incompressible values
    do not fit in the socket buffers, so the master must pause the transfer; its output buffer
    for the replica stays bounded (a 16 MB hard replica limit would cut the link otherwise) and
    the sync completes once the replica reads again."""
    # A delay of 2 s (1 to 2 s: it is counted in whole seconds) leaves the time to put the
    # replica to sleep before the transfer starts.
    master = server_factory(["--repl-diskless-sync-delay", "2", "--enable-debug-command", "yes",
                             "--client-output-buffer-limit",
                             f"replica {OBUF_LIMIT_MB}mb {OBUF_LIMIT_MB}mb 0"])
    fill_incompressible(master, BIG_KEYS)
    res = sync_to_sleeping_replica(master, redis_server_factory, 4)
    replica = res["replica"]
    assert res["started"], f"the transfer never started during the sleep\n{master.log_tail()}"
    assert not res["done_in_sleep"], \
        f"the {BIG_KEYS * BIG_VALUE >> 20} MB transfer ended while the replica slept: " \
        f"nothing was held back?\n{master.log_tail()}"
    assert res["max_omem"] < OBUF_LIMIT_MB * 1024 * 1024 * 3 // 4, \
        f"master output buffer for the paused replica reached {res['max_omem']} bytes"

    wait_in_sync(master, [replica])
    assert "output buffer limits" not in master.log_text(), master.log_tail()
    assert replica.log_text().count("Full resync from master") == 1, replica.log_tail()
    assert dbsize(replica) == BIG_KEYS
    with master.raw() as m, replica.raw() as r:
        ours, theirs = m.call("DEBUG", "DIGEST"), r.call("DEBUG", "DIGEST")
    assert ours == theirs and ours != b"0" * 40, (ours, theirs)


def test_info_slave_state_during_diskless_sync_like_redis(server_factory, redis_server_factory):
    """INFO replication's slaveN state while a diskless RDB goes out, as Redis 7.0 shows it:
    wait_bgsave until the RDB is sent (send_bulk is a disk-based transfer's state), then online
    (Redis puts a diskless replica online as soon as the RDB is out, holding the stream until
    its first ACK)."""
    args = ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "2",
            "--enable-debug-command", "yes"]
    seen = {}
    for name, factory in (("redoubt", server_factory), ("redis", redis_server_factory)):
        master = factory(args, mode=harness.test_mode())
        fill_incompressible(master, 16_000)
        res = sync_to_sleeping_replica(master, redis_server_factory, 3.5)
        assert res["started"] and not res["done_in_sleep"], (name, res)
        seen[name] = res["states"]
    assert seen["redoubt"] == seen["redis"], \
        f"slave0 states during a diskless full sync (in order): redoubt {seen['redoubt']}, " \
        f"redis {seen['redis']}"


# ---------------------------------------------------------------------------- 5. INFO and ROLE

def value_shape(key: str, value: str):
    if re.fullmatch(r"slave\d+", key):
        return {k: value_shape(k, v) for k, v in
                (kv.split("=", 1) for kv in value.split(","))}
    if re.fullmatch(r"-?\d+", value):
        return "int"
    if re.fullmatch(r"[0-9a-f]{40}", value):
        return "hex40"
    return "text"


def info_shape(info: dict[str, str]) -> list:
    return [(k, value_shape(k, v)) for k, v in info.items()]


def role_shape(reply):
    if isinstance(reply, list):
        return [role_shape(x) for x in reply]
    return type(reply).__name__


def wait_acked(master, replica) -> dict[str, str]:
    """Waits until the master's slave0 entry is online and its offset is master_repl_offset."""
    last: dict = {}

    def acked():
        nonlocal last
        last = repl_info(master)
        s = slave_entries(last).get("slave0", {})
        return s.get("state") == "online" and s.get("offset") == last["master_repl_offset"]
    try:
        pu.wait_until(acked, 10, 0.1, what=f"{master.name}: slave0 online and acked")
    except AssertionError as e:
        raise AssertionError(f"{e}; {last}\n{logs(master, replica)}") from None
    return last


def test_info_replication_and_role_like_redis_master(server_factory, redis_server_factory):
    ours = server_factory(MASTER_ARGS)
    ref = redis_server_factory(["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"],
                               mode=ours.mode)
    # No replica yet
    lonely_ours, lonely_ref = repl_info(ours), repl_info(ref)
    assert info_shape(lonely_ours) == info_shape(lonely_ref), (lonely_ours, lonely_ref)
    for k in ("role", "connected_slaves", "master_failover_state", "master_replid2",
              "master_repl_offset", "second_repl_offset", "repl_backlog_active",
              "repl_backlog_size", "repl_backlog_first_byte_offset", "repl_backlog_histlen"):
        assert lonely_ours[k] == lonely_ref[k], (k, lonely_ours[k], lonely_ref[k])
    with ours.raw() as a, ref.raw() as b:
        assert a.call("ROLE") == b.call("ROLE") == [b"master", 0, []]

    rep_ours = start_replica(redis_server_factory, ours)
    rep_ref = start_replica(redis_server_factory, ref)
    for m, r in ((ours, rep_ours), (ref, rep_ref)):
        wait_link_up(r, m)
        with m.raw() as c:
            c.call("SET", "k", "v")
        wait_in_sync(m, [r])
    a_info, b_info = wait_acked(ours, rep_ours), wait_acked(ref, rep_ref)

    assert info_shape(a_info) == info_shape(b_info), \
        f"INFO replication shapes differ:\nredoubt {a_info}\nredis   {b_info}"
    for k in ("role", "connected_slaves", "master_failover_state", "master_replid2",
              "second_repl_offset", "repl_backlog_active", "repl_backlog_size",
              "repl_backlog_first_byte_offset"):
        assert a_info[k] == b_info[k], (k, a_info[k], b_info[k])
    for info, master, replica in ((a_info, ours, rep_ours), (b_info, ref, rep_ref)):
        s = slave_entries(info)["slave0"]
        assert list(s) == ["ip", "port", "state", "offset", "lag"], s
        assert s["ip"] == "127.0.0.1" and s["port"] == str(replica.port), (master.name, s)
        assert 0 <= int(s["lag"]) <= 2, (master.name, s)
        assert info["repl_backlog_histlen"] == info["master_repl_offset"], (master.name, info)
        assert info["master_replid"] == repl_info(replica)["master_replid"], master.name

    with ours.raw() as a, ref.raw() as b:
        role_a_raw, role_b_raw = a.call("ROLE"), b.call("ROLE")
        a.send_command("ROLE")
        raw_a = a.recv_reply_raw()
    assert role_shape(role_a_raw) == role_shape(role_b_raw), (role_a_raw, role_b_raw)
    assert role_a_raw[0] == b"master"
    assert role_a_raw[1] >= int(a_info["master_repl_offset"])
    assert role_a_raw[2][0][:2] == [b"127.0.0.1", str(rep_ours.port).encode()], role_a_raw
    assert raw_a.startswith(b"*3\r\n$6\r\nmaster\r\n:"), raw_a


# ---------------------------------------------------------------------------- 6. two replicas

def test_two_replicas_get_the_same_data(server_factory, redis_server_factory):
    master = server_factory(MASTER_ARGS)
    pu.fill_mixed_dataset(master)
    first = start_replica(redis_server_factory, master)
    wait_link_up(first, master)
    c = Caller(master)
    c.pipeline([("SET", f"before-second:{i}", i) for i in range(200)])

    # Writes go on while the second replica does its full sync.
    stop = threading.Event()
    errors: list = []
    written = [0]

    def writer():
        try:
            w = Caller(master)
            i = 0
            while not stop.is_set():
                w.pipeline([("SELECT", i % 4), ("SET", f"during:{i}", f"v{i}"),
                            ("SELECT", 0), ("INCR", "during:ctr"),
                            ("RPUSH", "during:list", i)])
                i += 1
                time.sleep(0.002)
            written[0] = i
            w.close()
        except Exception as e:  # reported by the main thread
            errors.append(e)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        second = start_replica(redis_server_factory, master)
        wait_link_up(second, master)
        time.sleep(0.3)
    finally:
        stop.set()
        t.join(10)
    assert not errors, errors
    assert written[0] > 0
    c.pipeline([("SET", f"after-second:{i}", i) for i in range(200)] +
               [("SPOP", "set:large-str", "9")])

    wait_in_sync(master, [first, second])
    info = repl_info(master)
    slaves = slave_entries(info)
    assert info["connected_slaves"] == "2", info
    assert sorted(s["port"] for s in slaves.values()) == sorted([str(first.port), str(second.port)])
    assert all(s["state"] == "online" for s in slaves.values()), slaves
    dump = assert_replica_has_master_dataset(master, first, "first replica")
    assert_replica_has_master_dataset(master, second, "second replica")
    assert dump[0][b"during:ctr"].value == str(written[0]).encode()
    c.close()
