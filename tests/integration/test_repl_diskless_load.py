"""repl-diskless-load: a Redoubt replica parses the master's RDB straight from the link instead of
a temporary file, as Redis 7.0 does.

  on-empty-db   used when the replica holds no key ("to parser" in the log), not otherwise ("to
                disk"); the dataset arrives whole (DEBUG DIGEST equal), then the stream
  swapdb        with a Redis and a Redoubt master, diskless (EOF-marked) and disk-based (sized)
                transfers; a transfer cut in the middle (the master killed) leaves the replica
                with the dataset it had, as a Redis replica with swapdb does; with on-empty-db a
                cut transfer leaves it empty, as Redis's

Plain mode only: the transport of the link is covered by test_repl_tls.py.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

import persist_util as pu
import test_repl_master as trm

pytestmark = pytest.mark.plain_only("the link's transport does not matter here: run once (plain)")

MASTER_ARGS = ["--repl-diskless-sync-delay", "0", "--enable-debug-command", "yes"]


def digest(srv) -> bytes:
    with srv.raw() as c:
        return c.call("DEBUG", "DIGEST")


def replica_of(factory, master, load: str, *extra: str):
    return factory(["--replicaof", master.host, str(master.port), "--repl-diskless-load", load,
                    "--enable-debug-command", "yes", *extra], mode="plain")


def in_sync(master, rep):
    trm.wait_link_up(rep, master)
    trm.wait_in_sync(master, [rep])
    assert digest(rep) == digest(master), trm.logs(master, rep)


def stream_some(master):
    with master.raw() as c:
        for i in range(50):
            c.call("RPUSH", "stream:list", i)
            c.call("HSET", "stream:h", f"f{i}", i)
        c.call("INCRBY", "stream:n", 7)


@pytest.mark.parametrize("kind", ["redis", "redoubt"])
@pytest.mark.parametrize("diskless_sync", ["yes", "no"])
def test_swapdb_load_from_the_link(server_factory, redis_server_factory, kind, diskless_sync):
    factory = redis_server_factory if kind == "redis" else server_factory
    master = factory(MASTER_ARGS + ["--repl-diskless-sync", diskless_sync], mode="plain")
    pu.fill_mixed_dataset(master)
    rep = replica_of(server_factory, master, "swapdb")
    in_sync(master, rep)
    log = rep.log_text()
    assert "to parser" in log and "Swapping active DB with loaded DB" in log, rep.log_tail()
    assert "temp-" not in " ".join(p.name for p in rep.dir.iterdir())
    stream_some(master)
    trm.wait_in_sync(master, [rep])
    assert digest(rep) == digest(master)


def test_on_empty_db_only_when_empty(server_factory, redis_server_factory):
    master = redis_server_factory(MASTER_ARGS + ["--repl-diskless-sync", "yes"], mode="plain")
    pu.fill_mixed_dataset(master)
    rep = replica_of(server_factory, master, "on-empty-db")
    in_sync(master, rep)
    assert "receiving streamed RDB from master with EOF to parser" in rep.log_text()
    # Holding data, the next full sync goes through the disk.
    with rep.raw() as c:
        assert c.call("REPLICAOF", "NO", "ONE") == b"OK"
        c.call("SET", "own", "x")
        assert c.call("REPLICAOF", master.host, str(master.port)) == b"OK"
    rep.wait_for_log("receiving streamed RDB from master with EOF to disk", timeout=20)
    in_sync(master, rep)


def slow_master(redis_server_factory):
    """A Redis master whose RDB takes seconds to produce (rdb-key-save-delay, in microseconds per
    key), so a transfer can be cut in the middle."""
    master = redis_server_factory(MASTER_ARGS + ["--repl-diskless-sync", "yes",
                                                 "--rdb-key-save-delay", "2000"], mode="plain")
    with master.raw() as c:
        assert c.call("FUNCTION", "LOAD", MASTER_LIB) == b"masterlib"
    pu.populate_strings(master, 3000)
    return master


MASTER_LIB = "#!lua name=masterlib\nredis.register_function('mf', function() return 1 end)"
OWN_LIB = ("#!lua name=ownlib\nredis.register_function{function_name='of', "
           "callback=function() return 2 end, flags={'no-writes'}}")


def library_names(srv) -> list:
    with srv.raw() as c:
        return sorted(lib[1] for lib in c.call("FUNCTION", "LIST"))


def cut_transfer(master, rep) -> None:
    with rep.raw() as c:
        assert c.call("REPLICAOF", master.host, str(master.port)) == b"OK"
    assert rep.wait_for_log("to parser", timeout=20), rep.log_tail()
    time.sleep(1.0)
    # kill -9 of the master and its fork child; the kill is ours, not a crash (see kill9 in
    # test_persist_aof.py)
    os.killpg(master.pid, signal.SIGKILL)
    master.proc.wait(timeout=10)
    master.proc = None
    master._close_log()


def own_dataset(srv) -> None:
    with srv.raw() as c:
        for i in range(100):
            c.call("SET", f"own:{i}", i)
        c.call("LPUSH", "own:list", "a", "b")
        assert c.call("FUNCTION", "LOAD", OWN_LIB) == b"ownlib"


@pytest.mark.parametrize("kind", ["redis", "redoubt"])
def test_swapdb_keeps_the_old_dataset_when_the_transfer_is_cut(server_factory,
                                                               redis_server_factory, kind):
    """The same scenario on a Redis replica and on Redoubt: both keep what they had, the function
    libraries too (the master's library came first in its RDB, so it was loaded when the
    transfer was cut)."""
    master = slow_master(redis_server_factory)
    factory = redis_server_factory if kind == "redis" else server_factory
    rep = factory(["--repl-diskless-load", "swapdb", "--enable-debug-command", "yes"],
                  mode="plain")
    own_dataset(rep)
    before = digest(rep)
    cut_transfer(master, rep)
    assert rep.wait_for_log("Discarding temporary DB", timeout=30), rep.log_tail()
    with rep.raw() as c:
        assert c.call("DBSIZE") == 101
        assert c.call("FCALL_RO", "of", "0") == 2
    assert digest(rep) == before
    assert library_names(rep) == [b"ownlib"]
    rep.check_not_crashed()


@pytest.mark.parametrize("kind", ["redis", "redoubt"])
def test_on_empty_db_cut_transfer_leaves_it_empty(server_factory, redis_server_factory, kind):
    master = slow_master(redis_server_factory)
    factory = redis_server_factory if kind == "redis" else server_factory
    rep = factory(["--repl-diskless-load", "on-empty-db", "--enable-debug-command", "yes"],
                  mode="plain")
    cut_transfer(master, rep)
    assert rep.wait_for_log("Failed trying to load the MASTER synchronization DB from socket",
                            timeout=30), rep.log_tail()
    with rep.raw() as c:
        assert c.call("DBSIZE") == 0
    assert library_names(rep) == []
    rep.check_not_crashed()
