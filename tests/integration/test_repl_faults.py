"""Replication under faults (issue 14): Redoubt masters and replicas, next to Debian's redis-server
7.0.15 in the same scenario where Redis's behaviour is the expectation. Every scenario ends with
the replica's dataset and DEBUG DIGEST equal to the master's.

  master stopped       the master SIGSTOPped past the replica's repl-timeout (2 s): the replica
                       logs "MASTER timeout", reconnects once the master is SIGCONTed and
                       continues with a partial resync (the master's sync_partial_ok goes up, no
                       second RDB); a Redoubt replica of a Redoubt master and of a Redis master
  behind the backlog   repl-backlog-size 16kb; the replica's link is cut (CLIENT KILL TYPE replica,
                       or the replica SIGSTOPped until the master drops it after repl-timeout) and
                       more than the backlog is written meanwhile: a full resync (sync_full and
                       sync_partial_err go up)
  master restart       SHUTDOWN SAVE and a restart: the RDB carries the replication ID and offset,
                       the restarted master takes a new ID, keeps the old one as master_replid2 and
                       lets the replica continue (+CONTINUE), as Redis 7.0 does. Then kill -9 with
                       an RDB older than what the replica got, and writes before the replica comes
                       back: the replica holds writes the master lost, so it must not continue
                       (full resync, as Redis). Then kill -9 with appendonly yes: no replication
                       ID from an AOF, a full resync. Same scenario run with redis-server as the
                       master
  transfer cut         a standalone replica with its own data is made a replica of a master whose
                       RDB goes out slowly (rdb-key-save-delay); the transfer is cut in the middle
                       (CLIENT KILL TYPE replica, diskless and disk-based; the master's fork child
                       killed; the master killed -9 and restarted from its RDB): a Redoubt and a
                       Redis replica side by side keep their old dataset until a retry completes
                       (never an empty or partial one), as Redis with repl-diskless-load disabled;
                       and with repl-diskless-load swapdb; a disk-based retry does not wait
                       repl-diskless-sync-delay (Redis's 5 s)
  backlog TTL          repl-backlog-ttl 1: a master left without replicas frees its backlog after
                       the TTL (Redis's log line; INFO repl_backlog_active:0, histlen 0, a new
                       replication ID, no second ID, the offset stops), a replica never frees its
                       own, 0 never frees; the replica that comes back needs a full resync; a
                       promoted replica frees its backlog a TTL after the promotion

Plain mode only (how clients connect does not matter here). Like the other replication suites
this one passes with REDOUBT_SERVER=/usr/bin/redis-server, which checks the tests themselves.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time

import pytest

import persist_util as pu
import test_persist_aof as tpa
import test_repl_extras as trx
import test_repl_master as trm
import test_repl_replica as trr
from harness import RespError

pytestmark = pytest.mark.plain_only(
    "faults of the replication link do not depend on how clients connect: run once (plain)")

PSYNC_OK = trr.PSYNC_OK                      # "Successful partial resynchronization"
FULL_RESYNC = trr.FULL_RESYNC                # "Full resync from master"
MASTER_TIMEOUT = "MASTER timeout: no data nor PING received"
REPLICA_TIMEDOUT = "Disconnecting timedout replica"
BACKLOG_FREED = "Replication backlog freed after 1 seconds without connected replicas."
TRANSFER_STARTED = "Starting BGSAVE for SYNC with target"
RECEIVING = "MASTER <-> REPLICA sync: receiving"
NO_REPLID = "0" * 40

call = trr.call
repl_info = trm.repl_info
info_stats = trx.info_stats      # (sync_full, sync_partial_ok, sync_partial_err)
stopped = trx.stopped
Caller = trm.Caller


# ---------------------------------------------------------------------------- helpers

def start_master(kind: str, server_factory, redis_server_factory, *extra: str):
    """A Redoubt or a Redis master (repl-diskless-sync-delay 0, DEBUG on); `master.repl_port` is
    where replicas connect."""
    if kind == "redoubt":
        return trx.start_redoubt_master(server_factory, *extra)
    return trr.start_master(redis_server_factory, *extra)


def write_batch(master, tag: str, n: int = 200, size: int = 100) -> None:
    """n writes across a few dbs and types (the stream selects dbs as it goes)."""
    val = "x" * size
    cmds = [("SELECT", "2"), ("SET", f"{tag}:db2", val), ("SELECT", "0")]
    cmds += [("SET", f"{tag}:{i}", f"{val}{i}") for i in range(n)]
    cmds += [("RPUSH", f"{tag}:list", "a", "b", "c"), ("INCR", f"{tag}:ctr"),
             ("SADD", f"{tag}:set", *[str(i) for i in range(20)]), ("SPOP", f"{tag}:set", "3"),
             ("HSET", f"{tag}:hash", "f", val), ("EXPIRE", f"{tag}:ctr", "1000")]
    Caller(master).pipeline(cmds)


def small_dataset(master) -> None:
    c = Caller(master)
    c.pipeline([("SELECT", "3"), ("SET", "base:db3", "v"), ("SELECT", "0")] +
               [("SET", f"base:{i}", f"value {i}") for i in range(300)] +
               [("ZADD", "base:z", "1", "a", "2", "b"), ("HSET", "base:h", "f", "v"),
                ("RPUSH", "base:l", *[str(i) for i in range(50)]),
                ("SET", "base:ttl", "v", "EX", "1000")])
    c.close()


def assert_equal_datasets(master, replica, context: str) -> None:
    """Waits for the replica to have the master's whole stream, then: same dataset, same DEBUG
    DIGEST."""
    trm.wait_in_sync(master, [replica])
    trr.assert_same_as_master(master, replica, context)
    assert trr.digest(replica) == trr.digest(master), f"{context}: DEBUG DIGEST differs"


def log_count(srv, text: str) -> int:
    return srv.log_text().count(text)


def wait_log_count(srv, text: str, n: int, timeout: float, *others) -> None:
    try:
        pu.wait_until(lambda: log_count(srv, text) >= n, timeout, 0.05,
                      what=f"{srv.name}: {n} x {text!r} in its log")
    except AssertionError as e:
        raise AssertionError(f"{e}\n{trm.logs(srv, *others)}") from None


def fork_children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (the server's fork children)."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(name))
    return out


# ---------------------------------------------------------------------------- a. master stopped

@pytest.mark.parametrize("master_kind", ["redoubt", "redis"])
def test_master_stopped_past_repl_timeout_partial_resync(master_kind, server_factory,
                                                         redis_server_factory):
    # The master PINGs every second so that a 2 s repl-timeout on the replica only fires while
    # the master is stopped.
    master = start_master(master_kind, server_factory, redis_server_factory,
                          "--repl-ping-replica-period", "1")
    small_dataset(master)
    replica = trr.start_redoubt_replica(server_factory, master, "--repl-timeout", "2")
    trm.wait_in_sync(master, [replica])
    write_batch(master, "before")
    trm.wait_in_sync(master, [replica])
    assert info_stats(master) == (1, 0, 0)

    with stopped(master):
        wait_log_count(replica, MASTER_TIMEOUT, 1, 8, master)
        # The replica still answers its clients, with the data it has.
        assert call(replica, "GET", "before:7") == b"x" * 100 + b"7"
    # Writes right after the master resumes: the replica gets them from the backlog (or the
    # stream, if it is already back).
    write_batch(master, "after")
    wait_log_count(replica, PSYNC_OK, 1, 15, master)
    assert_equal_datasets(master, replica, "after the master's stop")
    full, ok, err = info_stats(master)
    assert (full, err) == (1, 0) and ok >= 1, \
        f"{master.name}: (sync_full, sync_partial_ok, sync_partial_err) = {(full, ok, err)}: " \
        f"the replica should have continued with +CONTINUE\n{trm.logs(master, replica)}"
    assert log_count(replica, FULL_RESYNC) == 1, trm.logs(master, replica)


# ---------------------------------------------------------------------------- b. behind the backlog

@pytest.mark.parametrize("master_kind,cut", [("redoubt", "client-kill"),
                                             ("redoubt", "repl-timeout"),
                                             ("redis", "client-kill")])
def test_replica_behind_the_backlog_full_resync(master_kind, cut, server_factory,
                                                redis_server_factory):
    master = start_master(master_kind, server_factory, redis_server_factory,
                          "--repl-backlog-size", "16kb", "--repl-timeout", "2",
                          "--repl-ping-replica-period", "1")
    small_dataset(master)
    replica = trr.start_redoubt_replica(server_factory, master)
    offset = trm.wait_in_sync(master, [replica])
    assert info_stats(master) == (1, 0, 0)

    with stopped(replica):
        if cut == "client-kill":
            assert call(master, "CLIENT", "KILL", "TYPE", "replica") == 1
        else:
            # The stopped replica sends no REPLCONF ACK: the master drops it after 2 s.
            wait_log_count(master, REPLICA_TIMEDOUT, 1, 8, replica)
        # Far more than the 16kb backlog, written while the replica is away.
        write_batch(master, "away", n=600, size=200)
        first = int(repl_info(master)["repl_backlog_first_byte_offset"])
        assert first > offset + 1, (first, offset)
    wait_log_count(replica, FULL_RESYNC, 2, 15, master)
    assert_equal_datasets(master, replica, f"after the link cut ({cut}) and the full resync")
    assert info_stats(master) == (2, 0, 1), trm.logs(master, replica)
    assert log_count(replica, PSYNC_OK) == 0, trm.logs(master, replica)


# ---------------------------------------------------------------------------- c. master restart

@pytest.mark.parametrize("master_kind", ["redoubt", "redis"])
def test_master_restart_like_redis(master_kind, server_factory, redis_server_factory):
    master = start_master(master_kind, server_factory, redis_server_factory)
    small_dataset(master)
    replica = trr.start_redoubt_replica(server_factory, master)
    write_batch(master, "first")
    trm.wait_in_sync(master, [replica])
    before = repl_info(master)
    old_id, old_offset = before["master_replid"], int(before["master_repl_offset"])

    # 1. SHUTDOWN SAVE: the RDB carries ID and offset. Redis 7.0 restarts with a new ID, the old
    # one as master_replid2 valid up to the saved offset + 1: the replica continues.
    trx.shutdown_timed(master, "SAVE")
    master.start(keep_port=True)
    info = repl_info(master)
    assert info["master_replid"] != old_id and info["master_replid2"] == old_id, info
    # (SHUTDOWN's REPLCONF GETACK to the replica is the last thing in the saved stream.)
    saved = int(info["master_repl_offset"])
    assert old_offset <= saved <= old_offset + 100, (info, old_offset)
    assert int(info["second_repl_offset"]) == saved + 1, info
    assert info["repl_backlog_active"] == "1", info
    wait_log_count(replica, PSYNC_OK, 1, 15, master)
    write_batch(master, "second")
    assert_equal_datasets(master, replica, "after SHUTDOWN SAVE and a restart")
    assert info_stats(master) == (0, 1, 0), trm.logs(master, replica)
    assert repl_info(replica)["master_replid"] == repl_info(master)["master_replid"]
    assert log_count(replica, FULL_RESYNC) == 1, trm.logs(master, replica)

    # 2. kill -9 with an RDB older than what the replica has: the writes after the BGSAVE are
    # lost on the master but not on the replica. The replica comes back only once the restarted
    # master's offset is past its own: an offset that exists, in a history that forked.
    assert call(master, "BGSAVE") == b"Background saving started"
    pu.wait_bgsave_done(master)
    write_batch(master, "lost")
    trm.wait_in_sync(master, [replica])
    assert call(replica, "EXISTS", "lost:0") == 1
    with stopped(replica):
        tpa.kill9(master)
        master.start(keep_port=True)
        assert call(master, "EXISTS", "lost:0") == 0
        write_batch(master, "after-crash", n=400)
    wait_log_count(replica, FULL_RESYNC, 2, 15, master)
    assert_equal_datasets(master, replica, "after kill -9 and a restart from an older RDB")
    assert call(replica, "EXISTS", "lost:0") == 0
    assert info_stats(master) == (1, 0, 1), trm.logs(master, replica)

    # 3. kill -9 with appendonly yes: the AOF carries no replication ID (Redis 7.0 takes none from
    # it), so the restarted master cannot let the replica continue: a full resync.
    assert call(master, "CONFIG", "SET", "appendonly", "yes") == b"OK"
    tpa.wait_rewrite_done(master, 1)
    write_batch(master, "aof")
    trm.wait_in_sync(master, [replica])
    tpa.kill9(master)
    master.extra_args = master.extra_args + ["--appendonly", "yes"]
    master.start(keep_port=True)
    wait_log_count(replica, FULL_RESYNC, 3, 15, master)
    assert_equal_datasets(master, replica, "after kill -9 and a restart from the AOF")
    assert call(replica, "EXISTS", "aof:0") == 1
    assert info_stats(master) == (1, 0, 1), trm.logs(master, replica)


# ---------------------------------------------------------------------------- d. transfer cut

OLD_KEYS = 50
CUT_KEYS = 1000          # diskless: 1 KB values, a 1 MB RDB ...
CUT_KEY_DELAY_US = 1000  # ... that takes about 1 s to go out
DISK_VALUE = 12 * 1024   # disk-based: a 12 MB RDB, more than the kernel's socket buffers and
                         # the master's output buffer for a replica that stopped reading hold


class Sampler(threading.Thread):
    """Polls a replica's DBSIZE and old:marker (both in one MULTI/EXEC, so that a sample never
    straddles the replica's switch to a new dataset) every 20 ms: (monotonic time when answered,
    dbsize, marker), or (time, None, None) while it answers -LOADING."""

    def __init__(self, srv):
        super().__init__(daemon=True)
        self.srv = srv
        self.samples: list = []
        self.stop = threading.Event()
        self.error: str | None = None

    def run(self):
        try:
            with self.srv.raw(timeout=30) as c:
                while not self.stop.is_set():
                    for args in (("MULTI",), ("DBSIZE",), ("EXISTS", "old:marker"), ("EXEC",)):
                        c.send_command(*args)
                    replies = [c.recv_reply() for _ in range(4)]
                    t = time.monotonic()
                    if isinstance(replies[-1], list) and not any(
                            isinstance(x, RespError) for x in replies[-1]):
                        self.samples.append((t, *replies[-1]))
                    else:
                        self.samples.append((t, None, None))
                    time.sleep(0.02)
        except Exception as e:  # reported by the test
            self.error = repr(e)


def standalone_with_old_data(factory, diskless_load: str, **kw):
    srv = factory(["--enable-debug-command", "yes", "--repl-diskless-load", diskless_load], **kw)
    Caller(srv).pipeline([("SET", f"old:{i}", "old") for i in range(OLD_KEYS - 1)] +
                         [("SET", "old:marker", "1")])
    return srv


def summarize(sampler: Sampler, t_cut: float, final_n: int) -> dict:
    """What a replica showed its clients: its old dataset before and after the cut, anything
    else before the master's."""
    old = (OLD_KEYS, 1)
    seen = [(t, (n, m)) for t, n, m in sampler.samples if n is not None]
    final_at = next((t for t, s in seen if s == (final_n, 0)), None)
    return {
        "old before the cut": any(s == old for t, s in seen if t < t_cut),
        "old after the cut": any(s == old for t, s in seen if t > t_cut),
        "reached the master's dataset": final_at is not None,
        "other states": sorted({s for t, s in seen if s not in (old, (final_n, 0))}),
        "old after the master's dataset": final_at is not None and
        any(s == old for t, s in seen if t > final_at),
    }


def attach_both(master, replicas) -> None:
    for r in replicas:
        assert call(r, "REPLICAOF", master.host, str(master.repl_port)) == b"OK"
    pu.wait_until(lambda: len(trm.slave_entries(repl_info(master))) == len(replicas), 10, 0.05,
                  what="both replicas attached to the master")


@pytest.mark.parametrize("master_kind,mode,cut,load", [
    ("redoubt", "diskless", "client-kill", "disabled"),
    ("redoubt", "disk", "client-kill", "disabled"),
    ("redoubt", "diskless", "kill-child", "disabled"),
    ("redoubt", "diskless", "kill-master", "disabled"),
    ("redis", "diskless", "client-kill", "disabled"),
    ("redoubt", "diskless", "client-kill", "swapdb"),
])
def test_transfer_cut_replicas_keep_old_data_like_redis(master_kind, mode, cut, load,
                                                        server_factory, redis_server_factory):
    """A Redoubt and a Redis replica, each with its own old dataset and the same
    repl-diskless-load, get REPLICAOF the same master; the RDB transfer to both is cut in the
    middle. Diskless: the RDB streams slowly (rdb-key-save-delay) to replicas that read it, and
    is cut about 0.3 s in. Disk-based: the replicas are SIGSTOPped so that the RDB file stalls in
    the master's buffers, and the link is cut with most of the file unsent."""
    # Disk-based, with Redis's default repl-diskless-sync-delay (5 s): it only gathers replicas
    # for a diskless transfer, a disk-based one starts at once.
    master = start_master(master_kind, server_factory, redis_server_factory,
                          *(["--repl-diskless-sync", "yes"] if mode == "diskless" else
                            ["--repl-diskless-sync", "no", "--repl-diskless-sync-delay", "5"]))
    size = 1024 if mode == "diskless" else DISK_VALUE
    c = Caller(master)
    for start in range(0, CUT_KEYS, 250):
        c.pipeline([("SET", f"big:{i:05d}", os.urandom(size))
                    for i in range(start, start + 250)])
    small_dataset(master)
    final_n = trm.dbsize(master)
    if cut == "kill-master":
        assert c("BGSAVE") == b"Background saving started"
        pu.wait_bgsave_done(master)
    ours = standalone_with_old_data(server_factory, load)
    ref = standalone_with_old_data(redis_server_factory, load, mode="plain")
    replicas = [ours, ref]
    samplers = [Sampler(r) for r in replicas]
    for s in samplers:
        s.start()

    if mode == "diskless":
        # The transfer waits until both replicas are there: one RDB stream goes to both.
        c("CONFIG", "SET", "rdb-key-save-delay", str(CUT_KEY_DELAY_US))
        c("CONFIG", "SET", "repl-diskless-sync-delay", "60")
        attach_both(master, replicas)
        c("CONFIG", "SET", "repl-diskless-sync-delay", "0")
        for r in replicas:
            wait_log_count(r, RECEIVING, 1, 10, master)
        time.sleep(0.3)  # well inside the ~1 s transfer
        pause = contextlib.nullcontext()
    else:
        # A slow BGSAVE keeps the master busy while both replicas attach: the next BGSAVE, for
        # the replicas, serves both (Redis and Redoubt alike).
        c("CONFIG", "SET", "rdb-key-save-delay", "1500")
        assert c("BGSAVE") == b"Background saving started"
        attach_both(master, replicas)
        c("CONFIG", "SET", "rdb-key-save-delay", "0")
        pause = stopped(*replicas)
    with pause:
        if mode == "disk":
            wait_log_count(master, TRANSFER_STARTED, 1, 10, *replicas)
            pu.wait_bgsave_done(master)
            time.sleep(0.5)  # the file goes out until the buffers are full
        t_cut = time.monotonic()
        if cut == "client-kill":
            assert c("CLIENT", "KILL", "TYPE", "replica") == 2
        elif cut == "kill-child":
            children = fork_children(master.pid)
            assert len(children) == 1, children
            os.kill(children[0], signal.SIGKILL)
        else:
            c.close()
            tpa.kill9(master)
            time.sleep(1.0)  # down for a while: the replicas serve their old data meanwhile
            master.start(keep_port=True)
            c = Caller(master)
        # The retry: diskless, slow enough for the replicas to be seen serving their old data
        # meanwhile; disk-based, they were stopped across the cut (their first answer after it
        # shows their data then), and the retry is timed.
        c("CONFIG", "SET", "rdb-key-save-delay",
          str(CUT_KEY_DELAY_US // 4 if mode == "diskless" else 0))

    for r in replicas:
        assert_equal_datasets(master, r, f"{r.name}: after the transfer cut ({mode}, {cut})")
    retried_in = time.monotonic() - t_cut
    if mode == "disk":
        assert retried_in < 4.5, \
            f"the replicas took {retried_in:.1f} s to sync again after the cut: a disk-based " \
            f"sync must not wait repl-diskless-sync-delay (5 s)\n{trm.logs(master, *replicas)}"
    time.sleep(0.1)
    for s in samplers:
        s.stop.set()
        s.join(5)
    summaries = {}
    for r, s in zip(replicas, samplers):
        assert s.error is None, f"{r.name}: sampling failed: {s.error}"
        summaries[r.name] = summarize(s, t_cut, final_n)
    expected = {"old before the cut": True, "old after the cut": True,
                "reached the master's dataset": True, "other states": [],
                "old after the master's dataset": False}
    assert summaries[ref.name] == expected, \
        f"the Redis replica (the reference): {summaries}\n{trm.logs(master, *replicas)}"
    assert summaries[ours.name] == expected, \
        f"replica datasets through the cut transfer (Redis's is the expectation): " \
        f"{summaries}\n{trm.logs(master, *replicas)}"
    for r in replicas:
        assert log_count(r, FULL_RESYNC) == 2, trm.logs(master, r)
    assert info_stats(master)[0] == (2 if cut == "kill-master" else 4), \
        trm.logs(master, *replicas)


# ---------------------------------------------------------------------------- e. backlog TTL

def backlog_fields(info: dict) -> dict:
    return {k: info[k] for k in ("repl_backlog_active", "repl_backlog_first_byte_offset",
                                 "repl_backlog_histlen", "master_replid2", "second_repl_offset")}


@pytest.mark.parametrize("master_kind", ["redoubt", "redis"])
def test_backlog_ttl_like_redis(master_kind, server_factory, redis_server_factory):
    master = start_master(master_kind, server_factory, redis_server_factory,
                          "--repl-backlog-ttl", "1")
    keeper = start_master(master_kind, server_factory, redis_server_factory,
                          "--repl-backlog-ttl", "0")
    assert call(master, "CONFIG", "GET", "repl-backlog-ttl") == [b"repl-backlog-ttl", b"1"]
    # The replicas have a TTL of 1 s too: a replica never frees its backlog.
    replica = trr.start_redoubt_replica(server_factory, master, "--repl-backlog-ttl", "1")
    kept = trr.start_redoubt_replica(server_factory, keeper, "--repl-backlog-ttl", "1")
    for m, r in ((master, replica), (keeper, kept)):
        write_batch(m, "first")
        trm.wait_in_sync(m, [r])
    old_id = repl_info(master)["master_replid"]

    # The replicas cannot come back (a wrong masterauth: the master has no password, so its
    # AUTH fails) but stay replicas.
    t_drop = time.monotonic()
    for r in (replica, kept):
        assert call(r, "CONFIG", "SET", "masterauth", "wrong") == b"OK"
        assert call(r, "CLIENT", "KILL", "TYPE", "master") == 1
    wait_log_count(master, BACKLOG_FREED, 1, 5, replica)
    waited = time.monotonic() - t_drop
    assert 0.9 < waited, f"freed {waited:.2f} s after the last replica left (ttl 1)"
    info = repl_info(master)
    assert info["connected_slaves"] == "0", info
    assert backlog_fields(info) == {"repl_backlog_active": "0",
                                    "repl_backlog_first_byte_offset": "0",
                                    "repl_backlog_histlen": "0", "master_replid2": NO_REPLID,
                                    "second_repl_offset": "-1"}, info
    assert info["master_replid"] != old_id, info
    # Without a backlog the offset no longer follows the writes.
    offset = info["master_repl_offset"]
    write_batch(master, "unlogged")
    assert repl_info(master)["master_repl_offset"] == offset
    # ttl 0: never freed; a replica (no replicas of its own, > 1 s) keeps its backlog.
    time.sleep(max(0.0, 2.2 - (time.monotonic() - t_drop)))
    assert repl_info(keeper)["repl_backlog_active"] == "1"
    assert log_count(keeper, "Replication backlog freed") == 0, keeper.log_tail()
    for r in (replica, kept):
        ri = repl_info(r)
        assert ri["master_link_status"] == "down" and ri["repl_backlog_active"] == "1", \
            (r.name, ri)
        assert log_count(r, "Replication backlog freed") == 0, r.log_tail()
    write_batch(keeper, "while-down")

    for r in (replica, kept):
        assert call(r, "CONFIG", "SET", "masterauth", "") == b"OK"
    # The history the replica asks to continue is gone: a full resync, and a new backlog.
    wait_log_count(replica, FULL_RESYNC, 2, 10, master)
    wait_log_count(kept, PSYNC_OK, 1, 10, keeper)
    assert_equal_datasets(master, replica, "after the backlog TTL and a full resync")
    assert_equal_datasets(keeper, kept, "after a partial resync (ttl 0)")
    assert info_stats(master) == (2, 0, 1), trm.logs(master, replica)
    assert info_stats(keeper) == (1, 1, 0), trm.logs(keeper, kept)
    assert repl_info(master)["repl_backlog_active"] == "1"

    # Promoted, a former replica counts its time without replicas from the promotion on.
    assert call(replica, "REPLICAOF", "NO", "ONE") == b"OK"
    t_promoted = time.monotonic()
    wait_log_count(replica, BACKLOG_FREED, 1, 5, master)
    waited = time.monotonic() - t_promoted
    assert 0.9 < waited, f"freed {waited:.2f} s after the promotion (ttl 1)"
    assert backlog_fields(repl_info(replica))["repl_backlog_active"] == "0"
