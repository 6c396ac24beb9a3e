"""FAILOVER (server/repl/repl_failover.c): Redis 7.0's coordinated master/replica swap, checked
against Debian's redis-server 7.0.15 set up the same way.

  swap               a master with one replica, a client writing (INCR + SET) without pause:
                     FAILOVER (TO the replica, or to any replica) returns OK, the roles swap (ROLE
                     and INFO replication on both), every acknowledged write is on the new
                     master (the writer's count, DEBUG DIGEST equal once the old master caught
                     up), the old master continued by a partial resync (sync_partial_ok +1,
                     sync_full +0 on the new master), master_failover_state is no-failover again
                     and the new master's writes reach the old one. Both directions with Redis:
                     Redoubt -> Redoubt, Redoubt master -> Redis replica, Redis master ->
                     Redoubt replica
  errors             every argument error and state error gives Redis's reply byte for byte
                     (on a master without replicas, with one, on the replica, PSYNC FAILOVER to
                     a master or with another replid)
  timeout / abort    with the replica SIGSTOPped: waiting-for-sync, writes held, FAILOVER again
                     refused; TIMEOUT without FORCE aborts when it runs out (Redis's log line)
                     and the held write completes; FAILOVER ABORT does the same at once
  force              TO + TIMEOUT + FORCE with the target SIGSTOPped: failover-in-progress once
                     the timeout ran out (the master is already its replica), and the swap
                     completes when the target runs again
  rejected PSYNC     a fake target (a socket acting as the replica) answers the
                     PSYNC <replid> <offset+1> FAILOVER with an error: the failover is aborted
                     (Redis's log line) and the server is a master again, writes accepted

The replication links are plain TCP (see test_repl_replica.py): run once, plain.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time

import pytest

import harness
import persist_util as pu
import test_repl_master as trm
import test_repl_replica as trr
from harness import RespError

pytestmark = pytest.mark.plain_only(
    "the replica link to a new master is plain TCP for now: run once (plain)")

ARGS = ["--repl-diskless-sync-delay", "0", "--enable-debug-command", "yes"]
OK = b"+OK\r\n"
repl_info = trm.repl_info
call = trr.call
call_raw = trr.call_raw
digest = trr.digest


# ---------------------------------------------------------------------------- helpers

def start_pair(master_factory, replica_factory):
    master = master_factory(ARGS)
    replica = replica_factory(ARGS + ["--replicaof", master.host, str(master.port)])
    trm.wait_link_up(replica, master)
    return master, replica


@contextlib.contextmanager
def stopped(srv):
    srv.proc.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        if srv.proc.poll() is None:
            srv.proc.send_signal(signal.SIGCONT)


def failover_state(srv) -> str:
    return repl_info(srv)["master_failover_state"]


def wait_swapped(old, new, timeout: float = 15.0) -> None:
    """new is a master and old its replica with the link up and no failover left."""
    last = {}

    def swapped():
        ni, oi = repl_info(new), repl_info(old)
        last.update(new=ni, old=oi)
        return (ni["role"] == "master" and oi["role"] == "slave"
                and oi.get("master_port") == str(new.port)
                and oi.get("master_link_status") == "up"
                and ni["master_failover_state"] == oi["master_failover_state"] == "no-failover")
    try:
        pu.wait_until(swapped, timeout, 0.05, what="the roles to swap")
    except AssertionError as e:
        raise AssertionError(f"{e}: {last}\n{trm.logs(old, new)}") from None


class Writer(threading.Thread):
    """INCR ctr + SET k:<n> <n> until the first error (-READONLY once the server is a replica).
    `acked` counts the INCRs answered with a number, `acked_set` is the last n whose SET got OK;
    `error` is the reply that stopped it."""

    def __init__(self, srv):
        super().__init__(daemon=True)
        self.c = srv.raw(timeout=30)
        self.acked = int(self.c.call("GET", "ctr") or 0)
        self.acked_set = self.acked
        self.error = None
        self.first = self.acked
        self.started = threading.Event()

    def run(self):
        try:
            while True:
                r = self.c.call("INCR", "ctr")
                if isinstance(r, RespError):
                    self.error = r
                    return
                assert r == self.acked + 1, r
                self.acked = r
                r = self.c.call("SET", f"k:{r}", r)
                if isinstance(r, RespError):
                    self.error = r
                    return
                self.acked_set = self.acked
                if self.acked >= self.first + 200:
                    self.started.set()
        finally:
            self.started.set()
            self.c.close()


def check_swap(old, new, failover_args) -> None:
    """FAILOVER on `old` (a master) while a client writes; `new` (its replica) takes over."""
    old_id = repl_info(old)["master_replid"]
    before = pu.info(new, "stats")
    w = Writer(old)
    w.start()
    assert w.started.wait(10) and w.error is None, w.error
    assert call_raw(old, "FAILOVER", *failover_args) == OK
    wait_swapped(old, new)
    w.join(15)
    assert not w.is_alive(), "the writer is still blocked after the swap"
    assert isinstance(w.error, RespError) and w.error.code == b"READONLY", w.error
    # Every acknowledged write is on the new master; nothing else was written.
    assert int(call(new, "GET", "ctr")) == w.acked
    n = w.acked_set
    assert n >= w.first + 200 and call(new, "GET", f"k:{n}") == str(n).encode()
    assert call(new, "EXISTS", f"k:{n + 1}") == 0
    trm.wait_in_sync(new, [old])
    assert digest(old) == digest(new)
    # The old master continued from its own history: a partial resync, no RDB.
    st = pu.info(new, "stats")
    assert [int(st[k]) - int(before[k]) for k in ("sync_full", "sync_partial_ok")] == [0, 1], \
        (st, trm.logs(old, new))
    ni, oi = repl_info(new), repl_info(old)
    assert ni["master_replid2"] == old_id, ni
    assert oi["master_replid"] == ni["master_replid"], (oi, ni)
    assert ni["connected_slaves"] == "1", ni
    role = call(new, "ROLE")
    assert role[0] == b"master" and [int(r[1]) for r in role[2]] == [old.port], role
    role = call(old, "ROLE")
    assert role[:4] == [b"slave", old.host.encode(), new.port, b"connected"], role
    # The new master's writes reach the old one.
    assert call_raw(new, "SET", "after", "swap") == OK
    trm.wait_in_sync(new, [old])
    assert call(old, "GET", "after") == b"swap"
    assert call(old, "SET", "x", "1").code == b"READONLY"


# ---------------------------------------------------------------------------- swaps

def test_failover_redoubt_to_redoubt(server_factory):
    master, replica = start_pair(server_factory, server_factory)
    check_swap(master, replica, ["TO", replica.host, str(replica.port)])
    assert master.wait_for_log(f"FAILOVER requested to {replica.host}:{replica.port}.")
    assert master.wait_for_log(f"Failover target {replica.host}:{replica.port} is synced, "
                               f"failing over.")
    assert replica.wait_for_log("Failover request received for replid")
    assert replica.wait_for_log("MASTER MODE enabled (failover request from '")
    # And back again, to any replica this time.
    check_swap(replica, master, [])
    assert replica.wait_for_log("FAILOVER requested to any replica.")


def test_failover_redoubt_master_to_redis_replica(server_factory, redis_server_factory):
    master, replica = start_pair(server_factory, redis_server_factory)
    check_swap(master, replica, ["TO", replica.host, str(replica.port), "TIMEOUT", "10000"])


def test_failover_redis_master_to_redoubt_replica(server_factory, redis_server_factory):
    master, replica = start_pair(redis_server_factory, server_factory)
    check_swap(master, replica, [])


# ---------------------------------------------------------------------------- errors

def transcript(srv, commands) -> list[bytes]:
    with srv.raw() as c:
        out = []
        for args in commands:
            c.send_command(*args)
            out.append(c.recv_reply_raw())
        return out


NO_REPLICA_CASES = [
    ("FAILOVER", "ABORT"),
    ("FAILOVER",),
    ("FAILOVER", "TIMEOUT", "-1"),
    ("FAILOVER", "TIMEOUT", "0"),
    ("FAILOVER", "TIMEOUT", "abc"),
    ("FAILOVER", "TIMEOUT"),
    ("FAILOVER", "TIMEOUT", "10", "TIMEOUT", "10"),
    ("FAILOVER", "TO", "127.0.0.1"),
    ("FAILOVER", "TO", "127.0.0.1", "port"),
    ("FAILOVER", "FORCE", "FORCE"),
    ("FAILOVER", "ABORT", "TIMEOUT", "10"),
    ("FAILOVER", "NOSUCH"),
    ("FAILOVER", "FORCE"),
]


def error_transcript(factory, other_port: int) -> tuple[list[bytes], list[bytes], list[bytes]]:
    master = factory(ARGS)
    alone = transcript(master, NO_REPLICA_CASES + [
        ("PSYNC", "0" * 40, "1", "FAILOVER")])
    replica = factory(ARGS + ["--replicaof", master.host, str(master.port)])
    trm.wait_link_up(replica, master)
    with_replica = transcript(master, [
        ("FAILOVER", "FORCE"),
        ("FAILOVER", "TO", replica.host, str(replica.port), "FORCE"),
        ("FAILOVER", "TIMEOUT", "100", "FORCE"),
        ("FAILOVER", "TO", replica.host, str(other_port)),
        ("FAILOVER", "TO", "10.1.2.3", str(replica.port)),
    ])
    on_replica = transcript(replica, [
        ("FAILOVER",),
        ("FAILOVER", "TIMEOUT", "-5"),
        ("FAILOVER", "ABORT"),
        ("PSYNC", "0" * 40, "1", "FAILOVER"),
    ])
    assert repl_info(replica)["role"] == "slave"
    return alone, with_replica, on_replica


def test_failover_errors_like_redis(server_factory, redis_server_factory):
    other = harness.free_port()
    ours = error_transcript(server_factory, other)
    ref = error_transcript(redis_server_factory, other)
    assert ours == ref
    assert ref[0][0] == b"-ERR No failover in progress.\r\n"  # a sanity check of the cases


# ---------------------------------------------------------------------------- timeout / abort

def held_write_then_abort(factory) -> dict:
    """A master with a SIGSTOPped replica that misses a write: FAILOVER TIMEOUT runs out, then
    FAILOVER + FAILOVER ABORT. Returns what a user sees."""
    master, replica = start_pair(factory, factory)
    seen = {}
    with stopped(replica), master.raw() as admin, master.raw() as writer:
        assert admin.call("SET", "missed", "1") == b"OK"
        t = time.monotonic()
        seen["start"] = [call_raw(master, "FAILOVER", "TIMEOUT", "700")]
        seen["state"] = failover_state(master)
        writer.send_command("SET", "held", "1")
        seen["held"] = writer.recv_available(0.3)  # paused: nothing yet
        seen["again"] = call_raw(master, "FAILOVER")
        pu.wait_until(lambda: failover_state(master) == "no-failover", 5, 0.02,
                      what="the failover to time out")
        seen["timeout_ok"] = 0.6 < time.monotonic() - t < 3.0
        writer.settimeout(5)
        seen["released"] = writer.recv_reply_raw()
        seen["role"] = repl_info(master)["role"]
        seen["abort_log"] = master.wait_for_log(
            "FAILOVER to any replica aborted: Replica never caught up before timeout")
        # Without a timeout it waits until FAILOVER ABORT.
        seen["start"].append(call_raw(master, "FAILOVER", "TO", replica.host,
                                      str(replica.port)))
        time.sleep(0.3)
        seen["state2"] = failover_state(master)
        seen["replicaof"] = call_raw(master, "REPLICAOF", "NO", "ONE")
        writer.send_command("SET", "held", "2")
        seen["held2"] = writer.recv_available(0.2)
        seen["abort"] = call_raw(master, "FAILOVER", "ABORT")
        seen["released2"] = writer.recv_reply_raw()
        seen["state3"] = failover_state(master)
        seen["abort_log2"] = master.wait_for_log(
            f"FAILOVER to {replica.host}:{replica.port} aborted: Failover manually aborted")
        seen["abort_again"] = call_raw(master, "FAILOVER", "ABORT")
    trm.wait_in_sync(master, [replica])
    seen["replica_has"] = call(replica, "GET", "held")
    return seen


def test_failover_timeout_and_abort_like_redis(server_factory, redis_server_factory):
    ours = held_write_then_abort(server_factory)
    ref = held_write_then_abort(redis_server_factory)
    assert ours == ref
    assert ours["state"] == "waiting-for-sync" and ours["held"] == b"" and ours["timeout_ok"]
    assert ours["released"] == OK and ours["abort_log"] and ours["replica_has"] == b"2"
    assert ours["replicaof"] == b"-ERR REPLICAOF not allowed while failing over.\r\n"


# ---------------------------------------------------------------------------- force

def test_failover_force_to_a_stopped_replica(server_factory):
    master, replica = start_pair(server_factory, server_factory)
    with stopped(replica):
        assert call_raw(master, "SET", "lost?", "1") == OK
        assert call_raw(master, "FAILOVER", "TO", replica.host, str(replica.port),
                        "TIMEOUT", "300", "FORCE") == OK
        pu.wait_until(lambda: failover_state(master) == "failover-in-progress", 5, 0.02,
                      what="failover-in-progress")
        assert repl_info(master)["role"] == "slave"
        assert master.wait_for_log(f"FAILOVER to {replica.host}:{replica.port} time out "
                                   f"exceeded, failing over.")
    wait_swapped(master, replica)
    trm.wait_in_sync(replica, [master])
    assert digest(master) == digest(replica)


# ---------------------------------------------------------------------------- rejected PSYNC

def read_line(s: socket.socket) -> bytes:
    out = b""
    while not out.endswith(b"\r\n"):
        ch = s.recv(1)
        if not ch:
            raise ConnectionError(f"closed after {out!r}")
        out += ch
    return out[:-2]


def read_command(s: socket.socket) -> list[bytes]:
    n = int(read_line(s)[1:])
    args = []
    for _ in range(n):
        size = int(read_line(s)[1:])
        data = b""
        while len(data) < size + 2:
            data += s.recv(size + 2 - len(data))
        args.append(data[:-2])
    return args


def send_cmd(s: socket.socket, *args) -> None:
    s.sendall(harness.encode_command(*args))


class FakeTarget(threading.Thread):
    """Listens where the replica says it does; answers the handshake and refuses PSYNC."""

    def __init__(self):
        super().__init__(daemon=True)
        self.lsock = socket.create_server(("127.0.0.1", 0))
        self.port = self.lsock.getsockname()[1]
        self.psyncs: list[list[bytes]] = []

    def run(self):
        self.lsock.settimeout(20)
        try:
            while True:
                conn, _ = self.lsock.accept()
                with conn:
                    conn.settimeout(5)
                    try:
                        while True:
                            cmd = read_command(conn)
                            if cmd[0].upper() == b"PSYNC":
                                self.psyncs.append(cmd)
                                conn.sendall(b"-ERR no failover here\r\n")
                            elif cmd[0].upper() == b"PING":
                                conn.sendall(b"+PONG\r\n")
                            else:
                                conn.sendall(b"+OK\r\n")
                    except (ConnectionError, OSError, ValueError):
                        pass
        except OSError:
            pass


def test_failover_target_rejecting_psync_aborts(server_factory):
    # No PING from the master after the first: the fake replica acks once.
    master = server_factory(ARGS + ["--repl-ping-replica-period", "60"])
    assert call_raw(master, "SET", "a", "1") == OK
    target = FakeTarget()
    target.start()
    rep = socket.create_connection((master.host, master.port), timeout=10)
    try:
        send_cmd(rep, "REPLCONF", "listening-port", target.port)
        assert read_line(rep) == b"+OK"
        send_cmd(rep, "REPLCONF", "capa", "eof", "capa", "psync2")
        assert read_line(rep) == b"+OK"
        send_cmd(rep, "PSYNC", "?", "-1")
        line = read_line(rep)
        while not line:
            line = read_line(rep)
        _, replid, offset = line.split()
        header = read_line(rep)
        while not header:
            header = read_line(rep)
        assert header.startswith(b"$EOF:"), header
        mark, data = header[5:], b""
        while not data.endswith(mark):
            data += rep.recv(65536)
        send_cmd(rep, "REPLCONF", "ACK", int(offset))
        pu.wait_until(lambda: trm.slave_entries(repl_info(master))["slave0"]["state"] == "online",
                      5, 0.02, what="the fake replica online")
        time.sleep(0.3)  # the first PING went out
        mo = int(repl_info(master)["master_repl_offset"])
        send_cmd(rep, "REPLCONF", "ACK", mo)
        assert call_raw(master, "FAILOVER", "TO", "127.0.0.1", str(target.port)) == OK
        assert master.wait_for_log(f"FAILOVER to 127.0.0.1:{target.port} aborted: Failover "
                                   f"target rejected psync request", 10), master.log_tail()
        assert target.psyncs[0] == [b"PSYNC", replid, str(mo + 1).encode(), b"FAILOVER"]
        pu.wait_until(lambda: failover_state(master) == "no-failover", 5, 0.02,
                      what="no-failover")
        info = repl_info(master)
        assert info["role"] == "master" and info["master_replid2"] == replid.decode(), info
        assert call_raw(master, "SET", "b", "2") == OK
    finally:
        rep.close()
        target.lsock.close()
