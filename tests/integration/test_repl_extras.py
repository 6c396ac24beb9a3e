"""Replication extras on Redoubt's master side (server/repl/repl_master.c), checked against Debian's
redis-server 7.0.15 set up the same way:

  WAIT                 Redoubt master + a Redis replica: WAIT 1 1000 after a write answers 1 at
                       once, WAIT 2 300 answers 1 after the timeout, WAIT 1 500 with the replica
                       SIGSTOPped answers 0 after the timeout; byte-equal to a Redis master's
                       replies. WAIT on a Redoubt replica: Redis's error text. WAIT on a
                       connection that wrote nothing counts the replicas at once (Redis waits
                       for the caller's own writes only)
  min-replicas         min-replicas-to-write 1 / min-replicas-max-lag 2: -NOREPLICAS exactly as
                       Redis with no replica, a replica stopped for longer than the lag or shut
                       down; writes go through while it is online; reads always; INFO
                       replication has Redis's fields (min_slaves_good_slaves)
  disk-based sync      repl-diskless-sync no: a Redis and a Redoubt replica get the dataset
                       ("target: disk" in the log); rdb-del-sync-files yes removes the master's
                       dbfilename after the transfer and the RDB a Redoubt replica received once
                       loaded (persistence-less instances); with no, the files stay
  INFO stats           sync_full / sync_partial_ok / sync_partial_err after a full sync, a
                       partial resync and a refused one, and CONFIG RESETSTAT: as a Redis master
  shutdown-timeout     SHUTDOWN waits for a healthy replica's ACK (it has the last write), waits
                       shutdown-timeout for a stopped one (logging it), SHUTDOWN NOW never waits
  replica restart      a Redoubt replica of a Redis master shut down with SHUTDOWN SAVE resumes
                       from its RDB with a partial resync; writes made meanwhile (in the db the
                       stream had selected) arrive

In TLS mode Redis replicas of Redoubt use TLS replication (test_repl_master.replica_args), and a
Redoubt master that has a Redoubt replica gets an extra plain --port for it (Redoubt does not
connect to a master over TLS yet; see test_repl_replica.py).
"""

from __future__ import annotations

import contextlib
import signal
import time

import pytest

import harness
import persist_util as pu
import test_repl_master as trm
import test_repl_replica as trr

pytestmark = pytest.mark.plain_only(
    "WAIT, NOREPLICAS, disk sync and shutdown waits do not depend on how clients connect: run once (plain)")

MASTER_ARGS = trm.MASTER_ARGS  # repl-diskless-sync-delay 0, DEBUG enabled
NOREPLICAS = b"-NOREPLICAS Not enough good replicas to write.\r\n"
MIN_REPLICAS = ["--min-replicas-to-write", "1", "--min-replicas-max-lag", "2"]
PSYNC_OK = trr.PSYNC_OK
FULL_RESYNC = trr.FULL_RESYNC
HISTORY_FROM_RDB = "Using the master's replication history from the RDB"
# What Redis 7.0 logs instead (REDOUBT_SERVER=/usr/bin/redis-server, a self-test of this suite).
REDIS_HISTORY_FROM_RDB = "using my own master parameters to synthesize a cached master"

call = trr.call
call_raw = trr.call_raw
repl_info = trm.repl_info


# ---------------------------------------------------------------------------- helpers

def start_redoubt_master(server_factory, *extra: str):
    """A Redoubt master. `master.repl_port` is where a Redoubt replica connects: in TLS mode an
    extra plain --port next to the TLS one (Redis replicas use the TLS port)."""
    args = list(MASTER_ARGS)
    plain = None
    if harness.test_mode() == "tls":
        plain = harness.free_port()
        args += ["--port", str(plain)]
    master = server_factory(args + list(extra))
    master.repl_port = plain if plain else master.port
    return master


@contextlib.contextmanager
def stopped(*servers):
    """SIGSTOPs the servers; SIGCONT on the way out, whatever happens."""
    done = []
    try:
        for s in servers:
            s.proc.send_signal(signal.SIGSTOP)
            done.append(s)
        yield
    finally:
        for s in done:
            if s.proc.poll() is None:
                s.proc.send_signal(signal.SIGCONT)


def timed(conn: harness.RawClient, *args) -> tuple[bytes, float]:
    """(raw reply, seconds from sending to the reply) on an open connection."""
    t = time.monotonic()
    conn.send_command(*args)
    raw = conn.recv_reply_raw()
    return raw, time.monotonic() - t


def info_stats(srv) -> tuple[int, int, int]:
    st = pu.info(srv, "stats")
    return int(st["sync_full"]), int(st["sync_partial_ok"]), int(st["sync_partial_err"])


def files(srv) -> list[str]:
    """The server's dir without its log and config."""
    return [n for n in pu.list_dir(srv.dir) if not n.endswith((".log", ".conf"))]


def shutdown_timed(srv, *args, timeout: float = 15.0) -> float:
    """Sends SHUTDOWN <args> and returns the seconds until the process exited (status 0)."""
    c = srv.raw(timeout=timeout)
    t = time.monotonic()
    c.send_command("SHUTDOWN", *args)
    try:
        rc = srv.proc.wait(timeout=timeout)
    except Exception:
        raise AssertionError(f"{srv.name}: still running {timeout} s after SHUTDOWN "
                             f"{' '.join(args)}\n{srv.log_tail()}") from None
    elapsed = time.monotonic() - t
    c.close()
    assert rc == 0, f"{srv.name}: SHUTDOWN {' '.join(args)} -> exit status {rc}\n" \
                    f"{srv.log_tail()}"
    return elapsed


# ---------------------------------------------------------------------------- 1. WAIT

def wait_sequence(master, replica) -> list[tuple[bytes, float]]:
    """On one connection: a write and WAIT 1 1000, WAIT 2 300 (one replica only), then with the
    replica SIGSTOPped a write and WAIT 1 500. Returns [(raw reply, seconds)] of the WAITs."""
    out = []
    with master.raw() as c:
        assert c.call("SET", "wait:k", "1") == b"OK"
        out.append(timed(c, "WAIT", "1", "1000"))
        out.append(timed(c, "WAIT", "2", "300"))
        with stopped(replica):
            assert c.call("SET", "wait:k", "2") == b"OK"
            out.append(timed(c, "WAIT", "1", "500"))
        # Awake again: the replica catches up and WAIT counts it again.
        trm.wait_in_sync(master, [replica])
        assert c.call("SET", "wait:k", "3") == b"OK"
        out.append(timed(c, "WAIT", "1", "2000"))
    return out


def check_wait_timings(name: str, seq: list[tuple[bytes, float]]) -> None:
    (r1, t1), (r2, t2), (r3, t3), (r4, t4) = seq
    assert t1 < 0.5, f"{name}: WAIT 1 1000 after a write took {t1:.3f} s (one healthy replica)"
    assert 0.28 <= t2 < 0.9, f"{name}: WAIT 2 300 with one replica took {t2:.3f} s"
    assert 0.48 <= t3 < 1.2, f"{name}: WAIT 1 500, replica stopped, took {t3:.3f} s"
    assert t4 < 1.0, f"{name}: WAIT 1 2000 after the replica woke up took {t4:.3f} s"


def test_wait_like_redis(server_factory, redis_server_factory):
    ours = start_redoubt_master(server_factory)
    ours_rep = trm.start_replica(redis_server_factory, ours)
    ref = trr.start_master(redis_server_factory)
    ref_rep = trr.start_redis_replica(redis_server_factory, ref)
    seqs = {}
    for name, m, r in (("redoubt", ours, ours_rep), ("redis", ref, ref_rep)):
        trm.wait_link_up(r, m)
        trm.wait_acked(m, r)
        seqs[name] = wait_sequence(m, r)
    replies = {n: [raw for raw, _ in s] for n, s in seqs.items()}
    assert replies["redis"] == [b":1\r\n", b":1\r\n", b":0\r\n", b":1\r\n"], seqs  # the test
    assert replies["redoubt"] == replies["redis"], \
        f"WAIT replies (1 1000, 2 300, 1 500 replica stopped, 1 2000 awake): " \
        f"redoubt {seqs['redoubt']}, redis {seqs['redis']}\n{ours.log_tail(10)}"
    check_wait_timings("redis", seqs["redis"])
    check_wait_timings("redoubt", seqs["redoubt"])
    assert call(ours_rep, "GET", "wait:k") == b"3"

    # WAIT on a replica: Redoubt following the Redis master, next to the Redis replica.
    ours_replica = trr.start_redoubt_replica(server_factory, ref)
    trm.wait_in_sync(ref, [ours_replica, ref_rep])
    for args in (("WAIT", "1", "100"), ("WAIT", "0", "0")):
        a, b = call_raw(ours_replica, *args), call_raw(ref_rep, *args)
        assert b.startswith(b"-ERR WAIT cannot be used with replica instances."), b
        assert a == b, f"{args} on a replica: redoubt {a!r}, redis replica {b!r}"


def test_wait_without_own_writes_does_not_block_like_redis(server_factory,
                                                            redis_server_factory):
    """Redis's WAIT waits for the caller's own writes (the offset of its last propagated
    command, 0 for a connection that wrote nothing): a fresh connection's WAIT 1 500 answers
    the number of connected replicas at once even while the only replica is stopped and other
    clients' writes are unacknowledged."""
    got = {}
    ours = start_redoubt_master(server_factory)
    ref = trr.start_master(redis_server_factory)
    for name, master, rep in (
            ("redoubt", ours, trm.start_replica(redis_server_factory, ours)),
            ("redis", ref, trr.start_redis_replica(redis_server_factory, ref))):
        trm.wait_link_up(rep, master)
        trm.wait_acked(master, rep)
        with master.raw() as writer, master.raw() as other:
            assert other.call("PING") == b"PONG"
            with stopped(rep):
                assert writer.call("SET", "k", "v") == b"OK"
                got[name] = timed(other, "WAIT", "1", "500")
    assert got["redis"][0] == b":1\r\n" and got["redis"][1] < 0.3, got  # checks the test
    raw, secs = got["redoubt"]
    assert raw == b":1\r\n" and secs < 0.3, \
        f"BUG: WAIT 1 500 on a connection that wrote nothing, with the only replica stopped " \
        f"after another client's write: redoubt {raw!r} after {secs:.3f} s, redis " \
        f"{got['redis'][0]!r} after {got['redis'][1]:.3f} s (Redis waits for the caller's " \
        f"own write offset, c->woff; Redoubt waits for master_repl_offset)"


# ---------------------------------------------------------------------------- 2. min-replicas

NOREPLICAS_SCRIPTS = [
    [("SET", "k", "x")], [("INCR", "n")], [("DEL", "k")], [("SETNX", "k2", "z")],
    [("MULTI",), ("SET", "k", "y"), ("GET", "k"), ("EXEC",)],
    [("GET", "k")], [("DBSIZE",)], [("EXISTS", "k")], [("PUBLISH", "chan", "m")],
]


def transcript(srv, script) -> list[bytes]:
    out = []
    with srv.raw() as c:
        for args in script:
            c.send_command(*args)
            out.append(c.recv_reply_raw())
    return out


def writes_refused(master, context: str) -> None:
    for args in (("SET", "k", "x"), ("INCR", "n"), ("DEL", "k"), ("LPUSH", "l", "a")):
        got = call_raw(master, *args)
        assert got == NOREPLICAS, f"{context}: {args} -> {got!r}"


def test_min_replicas_to_write_like_redis(server_factory, redis_server_factory):
    ours = server_factory(MASTER_ARGS + MIN_REPLICAS)
    ref = redis_server_factory(MASTER_ARGS + MIN_REPLICAS, mode=ours.mode)
    # No replica at all: both refuse writes with the same bytes, serve reads.
    for script in NOREPLICAS_SCRIPTS:
        a, b = transcript(ours, script), transcript(ref, script)
        assert a == b, f"{script}, no replica: redoubt {a!r}, redis {b!r}"
    assert transcript(ref, [("SET", "k", "x")]) == [NOREPLICAS]  # checks the test

    replica = trm.start_replica(redis_server_factory, ours)
    trm.wait_link_up(replica, ours)
    trm.wait_acked(ours, replica)
    pu.wait_until(lambda: call_raw(ours, "SET", "k", "v1") == b"+OK\r\n", 5,
                  what="a write to go through with the replica online")
    assert call_raw(ours, "INCR", "n") == b":1\r\n"
    trm.wait_in_sync(ours, [replica])

    # Replica stopped: refused once its last ACK is older than min-replicas-max-lag.
    with stopped(replica):
        t0 = time.monotonic()
        refused = []

        def refused_now():
            r = call_raw(ours, "SET", "k", "v2")
            refused.append(r)
            return r == NOREPLICAS
        try:
            pu.wait_until(refused_now, 8, 0.1,
                          what="-NOREPLICAS with the only replica stopped")
        except AssertionError as e:
            raise AssertionError(f"{e}; last replies {refused[-3:]}; "
                                 f"{repl_info(ours)}\n{ours.log_tail(10)}") from None
        elapsed = time.monotonic() - t0
        assert elapsed > 0.8, \
            f"writes refused {elapsed:.2f} s after the replica stopped: its last ACK was at " \
            f"most ~1 s old, within min-replicas-max-lag 2"
        writes_refused(ours, "replica stopped")
        assert call(ours, "GET", "k") in (b"v1", b"v2")  # v2 if written before the refusal
        assert call(ours, "GET", "n") == b"1"
        assert call_raw(ours, "DBSIZE") == b":2\r\n"
    # Awake: its ACKs make it good again.
    pu.wait_until(lambda: call_raw(ours, "SET", "k", "v3") == b"+OK\r\n", 5,
                  what="writes accepted again once the replica ACKs")
    trm.wait_in_sync(ours, [replica])
    assert call(replica, "GET", "k") == b"v3"

    # Replica gone: refused at once.
    replica.stop()
    pu.wait_until(lambda: repl_info(ours)["connected_slaves"] == "0", 5,
                  what="the master to drop the replica")
    writes_refused(ours, "replica shut down")
    assert call(ours, "GET", "k") == b"v3"
    a = transcript(ours, NOREPLICAS_SCRIPTS[4])
    assert a == transcript(ref, NOREPLICAS_SCRIPTS[4]), a
    # Switching the check off lets writes through.
    assert call(ours, "CONFIG", "SET", "min-replicas-to-write", "0") == b"OK"
    assert call_raw(ours, "SET", "k", "v4") == b"+OK\r\n"


def test_info_replication_with_min_replicas_like_redis(server_factory, redis_server_factory):
    """With min-replicas-to-write and min-replicas-max-lag set, Redis's INFO replication has
    min_slaves_good_slaves (after connected_slaves)."""
    ours = server_factory(MASTER_ARGS + MIN_REPLICAS)
    ref = redis_server_factory(MASTER_ARGS + MIN_REPLICAS, mode=ours.mode)
    for m in (ours, ref):
        r = trm.start_replica(redis_server_factory, m)
        trm.wait_link_up(r, m)
        trm.wait_acked(m, r)
    a, b = repl_info(ours), repl_info(ref)
    assert b.get("min_slaves_good_slaves") == "1", b  # checks the test
    names_a = [k for k in a if not k.startswith("slave")]
    names_b = [k for k in b if not k.startswith("slave")]
    assert names_a == names_b and a.get("min_slaves_good_slaves") == "1", \
        f"BUG: INFO replication with min-replicas-to-write 1: redoubt fields {names_a}, " \
        f"redis {names_b} (min_slaves_good_slaves:{b['min_slaves_good_slaves']})"


# ---------------------------------------------------------------------------- 3. disk-based sync

DISK_TARGET = "Starting BGSAVE for SYNC with target: disk"


def test_disk_based_full_sync_removes_sync_files(server_factory, redis_server_factory):
    """repl-diskless-sync no, rdb-del-sync-files yes, no persistence (save "" from the harness,
    appendonly no): the master's dbfilename goes once the replicas have it, a Redoubt replica
    deletes the RDB it received once loaded."""
    master = start_redoubt_master(server_factory, "--repl-diskless-sync", "no",
                                  "--rdb-del-sync-files", "yes")
    nkeys = pu.fill_mixed_dataset(master)
    redis_rep = trm.start_replica(redis_server_factory, master)
    ours_rep = trr.start_redoubt_replica(server_factory, master, "--rdb-del-sync-files", "yes")
    trm.wait_link_up(redis_rep, master)
    trm.wait_in_sync(master, [redis_rep, ours_rep])
    text = master.log_text()
    assert DISK_TARGET in text and "target: replicas sockets" not in text, master.log_tail()
    dump = trm.assert_replica_has_master_dataset(master, redis_rep, "disk-based sync")
    trm.assert_replica_has_master_dataset(master, ours_rep, "disk-based sync")
    assert pu.key_count(dump) == nkeys
    assert "MASTER <-> REPLICA sync: Finished with success" in ours_rep.log_text()

    try:
        pu.wait_until(lambda: "dump.rdb" not in files(master), 5,
                      what="the master to remove dump.rdb after the transfer")
    except AssertionError as e:
        raise AssertionError(f"{e}: {files(master)}\n{master.log_tail(10)}") from None
    left = [n for n in files(ours_rep) if n.endswith(".rdb") or n.startswith("temp-")]
    assert not left, f"the Redoubt replica (rdb-del-sync-files yes, no persistence) kept " \
                     f"{left}\n{ours_rep.log_tail(10)}"

    # The stream follows a disk-based sync.
    trm.Caller(master).pipeline([("SET", "after:disk", "v"), ("SELECT", "3"),
                                 ("RPUSH", "after:list", "a", "b")])
    trm.wait_in_sync(master, [redis_rep, ours_rep])
    trm.assert_replica_has_master_dataset(master, redis_rep, "stream after a disk-based sync")
    trm.assert_replica_has_master_dataset(master, ours_rep, "stream after a disk-based sync")
    assert "dump.rdb" not in files(master), files(master)


def test_disk_based_full_sync_keeps_sync_files(server_factory, redis_server_factory):
    master = start_redoubt_master(server_factory, "--repl-diskless-sync", "no",
                                  "--rdb-del-sync-files", "no")
    pu.fill_mixed_dataset(master)
    ours_rep = trr.start_redoubt_replica(server_factory, master, "--rdb-del-sync-files", "no")
    trm.wait_in_sync(master, [ours_rep])
    assert DISK_TARGET in master.log_text(), master.log_tail()
    dump = trm.assert_replica_has_master_dataset(master, ours_rep, "disk-based sync")
    time.sleep(1.2)  # a cron second: nothing removes the files later either
    assert "dump.rdb" in files(master), files(master)
    assert "dump.rdb" in files(ours_rep), files(ours_rep)
    assert pu.rdb_version_of(master.dir / "dump.rdb") >= 9
    assert pu.rdb_version_of(ours_rep.dir / "dump.rdb") >= 9
    # The file the master kept holds the dataset: a Redis server loads it.
    copy_dir = master.dir.parent / (master.dir.name + "-copy")
    pu.copy_rdb(master.dir / "dump.rdb", copy_dir)
    loaded = pu.start_on_file(redis_server_factory, copy_dir, "dump.rdb", mode=master.mode)
    pu.assert_same_dataset(pu.dump_dataset(loaded), dump, "redis loading the master's file",
                           "redoubt master")


# ---------------------------------------------------------------------------- 4. INFO stats

def sync_stats_sequence(master, replica) -> list[tuple[int, int, int]]:
    out = [info_stats(master)]
    # Link dropped by the master: the replica continues (+CONTINUE).
    assert call(master, "CLIENT", "KILL", "TYPE", "replica") == 1
    pu.wait_until(lambda: PSYNC_OK in replica.log_text(), 10, 0.05,
                  what=f"{replica.name}: a partial resync after CLIENT KILL")
    trm.wait_in_sync(master, [replica])
    out.append(info_stats(master))
    # Promoted and attached again: it asks to continue a history the master does not know.
    assert call(replica, "REPLICAOF", "NO", "ONE") == b"OK"
    assert call(replica, "REPLICAOF", master.host, str(master.port)) == b"OK"
    pu.wait_until(lambda: replica.log_text().count(FULL_RESYNC) == 2, 10, 0.05,
                  what=f"{replica.name}: a second full resync")
    trm.wait_in_sync(master, [replica])
    out.append(info_stats(master))
    assert call(master, "CONFIG", "RESETSTAT") == b"OK"
    out.append(info_stats(master))
    return out


def test_info_stats_sync_counters_like_redis(server_factory, redis_server_factory):
    ours = server_factory(MASTER_ARGS)
    ref = redis_server_factory(MASTER_ARGS, mode=ours.mode)
    assert info_stats(ours) == info_stats(ref) == (0, 0, 0)
    seqs = {}
    for name, m in (("redoubt", ours), ("redis", ref)):
        call(m, "SET", "k", "v")
        r = trm.start_replica(redis_server_factory, m)
        trm.wait_link_up(r, m)
        trm.wait_in_sync(m, [r])
        try:
            seqs[name] = sync_stats_sequence(m, r)
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}\n{trm.logs(m, r)}") from None
    expected = [(1, 0, 0), (1, 1, 0), (2, 1, 1), (0, 0, 0)]
    assert seqs["redis"] == expected, seqs  # checks the test
    assert seqs["redoubt"] == expected, \
        f"(sync_full, sync_partial_ok, sync_partial_err) after a full sync, a partial resync, " \
        f"a refused partial resync and CONFIG RESETSTAT: redoubt {seqs['redoubt']}, " \
        f"redis {seqs['redis']}"


# ---------------------------------------------------------------------------- 5. shutdown-timeout

WAITING = "Waiting for replicas before shutting down."
LAGGING = "Lagging replica"


def master_with_replica(server_factory, redis_server_factory):
    master = server_factory(MASTER_ARGS + ["--shutdown-timeout", "2"])
    replica = trm.start_replica(redis_server_factory, master)
    trm.wait_link_up(replica, master)
    trm.wait_acked(master, replica)
    return master, replica


def test_shutdown_waits_for_replicas(server_factory, redis_server_factory):
    # 1. A healthy replica: SHUTDOWN waits for its ACK of the last write, briefly.
    master, replica = master_with_replica(server_factory, redis_server_factory)
    trm.Caller(master).pipeline([("SET", f"k:{i}", i) for i in range(100)] +
                                [("SET", "last", "written just before SHUTDOWN")])
    secs = shutdown_timed(master, "NOSAVE")
    assert secs < 1.5, f"SHUTDOWN NOSAVE with a healthy replica took {secs:.2f} s\n" \
                       f"{master.log_tail(10)}"
    assert call(replica, "GET", "last") == b"written just before SHUTDOWN", \
        f"the replica lacks the last write made before SHUTDOWN\n{trm.logs(master, replica)}"
    assert call(replica, "GET", "k:99") == b"99"
    assert LAGGING not in master.log_text(), master.log_tail()

    # 2. The replica stopped after a write: SHUTDOWN waits shutdown-timeout (2 s), logs it.
    master, replica = master_with_replica(server_factory, redis_server_factory)
    with stopped(replica):
        assert call(master, "SET", "unacked", "v") == b"OK"
        secs = shutdown_timed(master, "NOSAVE")
    text = master.log_text()
    assert 1.8 <= secs < 3.5, f"SHUTDOWN NOSAVE with a stopped replica took {secs:.2f} s " \
                              f"(shutdown-timeout 2)\n{master.log_tail(10)}"
    assert WAITING in text and LAGGING in text, master.log_tail(10)
    assert text.index(WAITING) < text.index(LAGGING), master.log_tail(10)

    # 3. SHUTDOWN NOW does not wait.
    master, replica = master_with_replica(server_factory, redis_server_factory)
    with stopped(replica):
        assert call(master, "SET", "unacked", "v") == b"OK"
        secs = shutdown_timed(master, "NOSAVE", "NOW")
    assert secs < 0.5, f"SHUTDOWN NOSAVE NOW with a stopped replica took {secs:.2f} s\n" \
                       f"{master.log_tail(10)}"
    assert WAITING not in master.log_text(), master.log_tail(10)


# ---------------------------------------------------------------------------- 6. replica restart

def test_replica_restart_resumes_with_partial_resync(server_factory, redis_server_factory):
    master = trr.start_master(redis_server_factory)
    pu.fill_mixed_dataset(master)
    replica = trr.start_redoubt_replica(server_factory, master)
    # The master's stream has db 5 selected when the replica goes down.
    trm.Caller(master).pipeline([("SET", "before:db0", "v"), ("SELECT", "5"),
                                 ("SET", "before:db5", "v")])
    trm.wait_in_sync(master, [replica])

    secs = shutdown_timed(replica, "SAVE")
    assert "dump.rdb" in files(replica), files(replica)
    # Meanwhile: first a write in db 5 (no SELECT precedes it in the backlog), then others.
    trm.Caller(master).pipeline(
        [("SELECT", "5"), ("SET", "during:db5", "written while the replica was down"),
         ("SELECT", "0")] +
        [("SET", f"during:{i}", f"v{i}") for i in range(200)] +
        [("DEL", "str:embstr"), ("SPOP", "set:large-str", "5"), ("INCR", "during:ctr")])

    replica.restart()
    try:
        pu.wait_until(lambda: PSYNC_OK in replica.log_text(), 15, 0.1,
                      what=f"the restarted replica's log to say {PSYNC_OK!r}")
    except AssertionError as e:
        raise AssertionError(f"{e}\n{trm.logs(master, replica)}") from None
    text = replica.log_text()
    history = REDIS_HISTORY_FROM_RDB if pu.is_redis_under_test() else HISTORY_FROM_RDB
    assert history in text, replica.log_tail()
    assert text.count(FULL_RESYNC) == 1, \
        f"the restarted replica did a full resync\n{trm.logs(master, replica)}"
    sent = [int(x) for x in trr.PSYNC_ACCEPTED_RE.findall(master.log_text())]
    assert len(sent) == 1 and sent[0] > 3000, (sent, master.log_tail())
    trm.wait_in_sync(master, [replica])
    where = trr.dbs_holding(replica, "during:db5")
    assert where == [5], \
        f"'during:db5' (written in db 5 while the replica was down; the stream had db 5 " \
        f"selected, so no SELECT precedes it) is in db {where} on the restarted replica"
    trr.assert_same_as_master(master, replica, "after the restart and partial resync")
    assert trr.digest(replica) == trr.digest(master)
    assert secs < 2.0, f"SHUTDOWN SAVE on the replica took {secs:.2f} s\n{replica.log_tail(10)}"


def test_redis_cli_rdb_backup_via_sync(server_factory, tmp_path):
    """`redis-cli --rdb FILE` (REPLCONF rdb-only, then SYNC) takes a backup of a Redoubt server:
    the file passes Debian's redis-check-rdb and holds the dataset; SYNC counts as a full sync."""
    srv = server_factory(["--repl-diskless-sync-delay", "0"])
    pu.fill_mixed_dataset(srv)
    expected = pu.dump_dataset(srv)
    out = tmp_path / "backup.rdb"
    text, rc = srv.cli("--rdb", str(out), timeout=60)
    assert rc == 0 and "Transfer finished with success" in text, text
    rc2, report = pu.run_check_rdb([pu.REDIS_CHECK_RDB, str(out)])
    assert rc2 == 0, report
    loaded = server_factory(["--dir", str(tmp_path), "--dbfilename", "backup.rdb"])
    pu.assert_same_dataset(pu.dump_dataset(loaded), expected, loaded.name, srv.name,
                           context="restored from redis-cli --rdb")
    assert harness_info(srv)["sync_full"] == "1"


def harness_info(srv) -> dict:
    text = srv.client(decode_responses=True).info("stats")
    return {k: str(v) for k, v in text.items()}


def master_link_qbuf(replica) -> int:
    with replica.raw() as c:
        text = c.call("CLIENT", "LIST", "TYPE", "master").decode()
    fields = dict(kv.split("=", 1) for kv in text.split() if "=" in kv)
    return int(fields["qbuf"])


def test_replica_does_not_keep_the_masters_stream_in_memory(server_factory,
                                                            redis_server_factory):
    """After 4 MB of stream, the master link's query buffer holds what is not processed yet (as
    on a Redis replica, nothing once idle), not everything ever received."""
    master = start_redoubt_master(server_factory)
    for kind, factory in (("redoubt", server_factory), ("redis", redis_server_factory)):
        rep = factory(trr.replica_args(master), mode=master.mode)
        trm.wait_link_up(rep, master)
    reps = server_factory.started[1:] + redis_server_factory.started
    with master.raw() as c:
        value = "v" * 1000
        c.send(b"".join(harness.encode_command("SET", f"k{i}", value) for i in range(4000)))
        for _ in range(4000):
            assert c.recv_reply() == b"OK"
    trm.wait_in_sync(master, reps)
    for rep in reps:
        assert master_link_qbuf(rep) < 64 * 1024, f"{rep.name}: {master_link_qbuf(rep)}"
