"""The append-only file against Redis 7.0's behaviour: restarts with appendonly yes keep every
type (TTLs as absolute times, MULTI/EXEC, SPOP with a count, served blocking pops,
INCRBYFLOAT, all dbs); the multi-part appendonlydir loads in redis-server 7.0 and Redis's loads
here (with and without the RDB preamble); an old single appendonly.aof is moved into the
directory; kill -9 loses nothing acknowledged (appendfsync always), at most ~2 s (everysec),
and nothing during a BGREWRITEAOF; torn tails load with aof-load-truncated and are refused
without it; a corrupted middle is refused with file and offset; `server --check-aof [--fix]`;
BGREWRITEAOF (started / scheduled behind a BGSAVE, manifest, history deleted, INFO); CONFIG SET
appendonly yes|no at runtime; automatic rewrites; the AOF wins over dump.rdb at start-up; INFO
persistence aof_* fields; a full disk (-MISCONF, recovery); the same command script leaves the
same dataset after a restart as in Redis.

Where Redis's exact behaviour matters the test runs Debian's redis-server 7.0.15 through the
same steps and compares. Like test_persist_rdb.py the suite is meant to pass against Redis too
(REDOUBT_SERVER=/usr/bin/redis-server; `--check-aof` is then Debian's redis-check-aof), except
where noted (Redoubt's logs name the offset of a corrupted command, Redis's do not).

Helpers come from persist_util.py (dataset filler/dump/compare, INFO, start_expecting_exit)
and test_persist_rdb.py (raw_reply, call, tmpfs mount).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest

import harness
import persist_util as pu
from harness import RespError
from test_persist_rdb import _mount_tmpfs, _umount, call, raw_reply

pytestmark = pytest.mark.plain_only(
    "the AOF does not depend on how clients connect: run once (plain); the TLS suite covers replication over TLS")

AOF_DIR = "appendonlydir"
AOF_ON = ["--appendonly", "yes"]
REDIS_CHECK_AOF = "/usr/bin/redis-check-aof"
REWRITE_STARTED = b"+Background append only file rewriting started\r\n"
REWRITE_SCHEDULED = b"+Background append only file rewriting scheduled\r\n"


# ---------------------------------------------------------------------------- helpers

def aof_dir(srv_or_dir) -> Path:
    base = srv_or_dir if isinstance(srv_or_dir, Path) else srv_or_dir.dir
    return base / AOF_DIR


def manifest_file(d: Path, appendfilename: str = "appendonly.aof") -> Path:
    return d / f"{appendfilename}.manifest"


def read_manifest(d: Path, appendfilename: str = "appendonly.aof") -> list[tuple[str, int, str]]:
    """[(file, seq, type)] from appendonlydir/appendonly.aof.manifest, in file order."""
    out = []
    for line in manifest_file(d, appendfilename).read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split()
        kv = dict(zip(parts[0::2], parts[1::2]))
        out.append((kv["file"], int(kv["seq"]), kv["type"]))
    return out


def last_incr(d: Path) -> Path:
    incrs = [name for name, _, kind in read_manifest(d) if kind == "i"]
    assert incrs, f"no incr file in the manifest: {read_manifest(d)}"
    return d / incrs[-1]


def file_sizes(d: Path) -> dict[str, int]:
    return {name: (d / name).stat().st_size for name in sorted(os.listdir(d))}


def wait_rewrite_done(srv, at_least: int, timeout: float = 30.0) -> dict:
    """Waits until aof_rewrites >= at_least and no rewrite runs or is scheduled."""
    last: dict = {}

    def done():
        nonlocal last
        last = pu.info(srv)
        return (int(last["aof_rewrites"]) >= at_least and last["aof_rewrite_in_progress"] == "0"
                and last["aof_rewrite_scheduled"] == "0")
    try:
        pu.wait_until(done, timeout, what=f"{srv.name}: AOF rewrite #{at_least} to finish")
    except AssertionError as e:
        raise AssertionError(f"{e}; last INFO persistence: {last}\n{srv.log_tail()}") from None
    return last


def kill9(srv) -> None:
    """kill -9 of the server and its children (the whole process group). The kill is ours: the
    harness must not count it as a crash, so the process handle is dropped."""
    os.killpg(srv.pid, signal.SIGKILL)
    srv.proc.wait(timeout=10)
    time.sleep(0.2)  # let the kernel tear down a fork child in the group
    srv.proc = None
    srv._close_log()


def log_of_last_start(srv) -> str:
    text = srv.log_text()
    at = text.rfind("---- harness: starting")
    return text[at:] if at >= 0 else text


def check_aof_command(path: Path, fix: bool = False) -> list[str]:
    """`server --check-aof [--fix] PATH` (Debian's redis-check-aof when the suite checks itself
    against redis-server)."""
    flags = ["--fix"] if fix else []
    if pu.is_redis_under_test():
        return [REDIS_CHECK_AOF, *flags, str(path)]
    return [str(harness.server_binary()), "--check-aof", *flags, str(path)]


def run_tool(cmd: list[str], timeout: float = 60.0) -> tuple[int, str]:
    # redis-check-aof --fix asks "Continue? [y/N]" on stdin even when it is not a terminal.
    r = subprocess.run(cmd, input=b"y\n", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout)
    return r.returncode, r.stdout.decode("utf-8", "replace")


def resp(*args) -> bytes:
    return harness.encode_command(*args)


def blocked_clients(srv) -> int:
    return int(pu.info(srv, "clients")["blocked_clients"])


def served_blocking(srv, block_cmd: tuple, feed_cmd: tuple) -> tuple:
    """Client A sends a blocking command, client B (once A is blocked) the command that serves
    it. Returns (A's reply, B's reply)."""
    with srv.raw() as a, srv.raw() as b:
        before = blocked_clients(srv)
        a.send_command(*block_cmd)
        pu.wait_until(lambda: blocked_clients(srv) > before, 5,
                      what=f"{srv.name}: {block_cmd[0]!r} to block")
        fed = b.call(*feed_cmd)
        return a.recv_reply(), fed


# ---------------------------------------------------------------------------- the command script

FAR_S = str(pu.FAR_FUTURE_MS // 1000 + 77).encode()

# (label, command, random?): replies of random commands are not compared across servers and
# keys named rand:* are compared by size only.
SCRIPT = [
    ("set", (b"SET", b"s:plain", b"v"), False),
    ("set ex", (b"SET", b"s:ex", b"v", b"EX", b"1000"), False),
    ("set px", (b"SET", b"s:px", b"v", b"PX", b"1000000"), False),
    ("setex", (b"SETEX", b"s:setex", b"1000", b"v"), False),
    ("psetex", (b"PSETEX", b"s:psetex", b"1000000", b"v"), False),
    ("set for expire", (b"SET", b"s:expire", b"v"), False),
    ("expire", (b"EXPIRE", b"s:expire", b"1000"), False),
    ("rpush for pexpire", (b"RPUSH", b"l:pexpire", b"a", b"b"), False),
    ("pexpire", (b"PEXPIRE", b"l:pexpire", b"1000000"), False),
    ("hset for expireat", (b"HSET", b"h:expireat", b"f", b"v"), False),
    ("expireat", (b"EXPIREAT", b"h:expireat", FAR_S), False),
    ("set for getex", (b"SET", b"s:getex", b"v"), False),
    ("getex", (b"GETEX", b"s:getex", b"EX", b"1000"), False),
    ("set keepttl 1", (b"SET", b"s:keepttl", b"v1", b"EX", b"1000"), False),
    ("set keepttl 2", (b"SET", b"s:keepttl", b"v2", b"KEEPTTL"), False),
    ("set for persist", (b"SET", b"s:persist", b"v", b"EX", b"1000"), False),
    ("persist", (b"PERSIST", b"s:persist"), False),
    ("expire nx", (b"EXPIRE", b"s:plain", b"2000", b"NX"), False),
    ("expire gt", (b"EXPIRE", b"s:plain", b"3000", b"GT"), False),
    ("expireat in the past deletes", (b"SET", b"s:gone", b"v"), False),
    ("pexpireat past", (b"PEXPIREAT", b"s:gone", b"1000"), False),
    ("incr", (b"INCR", b"n:ctr"), False),
    ("incrby", (b"INCRBY", b"n:ctr", b"41"), False),
    ("decr", (b"DECR", b"n:ctr"), False),
    ("incrbyfloat 1", (b"INCRBYFLOAT", b"n:float", b"0.1"), False),
    ("incrbyfloat 2", (b"INCRBYFLOAT", b"n:float", b"0.2"), False),
    ("incrbyfloat 3", (b"INCRBYFLOAT", b"n:float", b"1e-7"), False),
    ("incrbyfloat with ttl", (b"SET", b"n:float-ttl", b"1.5", b"EX", b"1000"), False),
    ("incrbyfloat keeps ttl", (b"INCRBYFLOAT", b"n:float-ttl", b"2.25"), False),
    ("hincrbyfloat", (b"HINCRBYFLOAT", b"h:float", b"f", b"1.1"), False),
    ("hincrbyfloat 2", (b"HINCRBYFLOAT", b"h:float", b"f", b"2.2"), False),
    ("append", (b"APPEND", b"s:append", b"abc"), False),
    ("setrange", (b"SETRANGE", b"s:append", b"10", b"xyz"), False),
    ("multi", (b"MULTI",), False),
    ("tx set", (b"SET", b"tx:a", b"1"), False),
    ("tx incr", (b"INCR", b"tx:a"), False),
    ("tx rpush", (b"RPUSH", b"tx:list", b"a", b"b", b"c"), False),
    ("tx expire", (b"EXPIRE", b"tx:list", b"1000"), False),
    ("tx lpop", (b"LPOP", b"tx:list"), False),
    ("exec", (b"EXEC",), False),
    ("sadd for spop", (b"SADD", b"rand:set", *[b"%d" % i for i in range(40)]), False),
    ("spop count", (b"SPOP", b"rand:set", b"7"), True),
    ("spop one", (b"SPOP", b"rand:set"), True),
    ("sadd strings", (b"SADD", b"rand:set-str", *[b"m%d" % i for i in range(20)]), False),
    ("spop count strings", (b"SPOP", b"rand:set-str", b"5"), True),
    ("sadd spop all", (b"SADD", b"set:spop-all", b"a", b"b", b"c"), False),
    ("spop all", (b"SPOP", b"set:spop-all", b"10"), True),
    ("exists spop all", (b"EXISTS", b"set:spop-all"), False),
    ("smove", (b"SMOVE", b"tx:missing", b"x", b"y"), False),
    ("rpush", (b"RPUSH", b"l:main", b"a", b"b", b"c", b"d", b"e"), False),
    ("lpop count", (b"LPOP", b"l:main", b"2"), False),
    ("rpoplpush", (b"RPOPLPUSH", b"l:main", b"l:other"), False),
    ("lmove", (b"LMOVE", b"l:main", b"l:other", b"LEFT", b"LEFT"), False),
    ("lset", (b"LSET", b"l:other", b"0", b"first"), False),
    ("zadd", (b"ZADD", b"z:main", b"1", b"a", b"2", b"b", b"3", b"c", b"4.5", b"d"), False),
    ("zincrby", (b"ZINCRBY", b"z:main", b"2.5", b"a"), False),
    ("zpopmin", (b"ZPOPMIN", b"z:main"), False),
    ("zpopmax count", (b"ZPOPMAX", b"z:main", b"2"), False),
    ("hset", (b"HSET", b"h:main", b"a", b"1", b"b", b"2", b"c", b"3"), False),
    ("hdel", (b"HDEL", b"h:main", b"b"), False),
    ("hincrby", (b"HINCRBY", b"h:main", b"a", b"10"), False),
    ("getdel", (b"GETDEL", b"s:append"), False),
    ("rename", (b"RENAME", b"h:main", b"h:renamed"), False),
    ("copy to db 9", (b"COPY", b"z:main", b"z:copied", b"DB", b"9"), False),
    ("move to db 5", (b"MOVE", b"n:ctr", b"5"), False),
    ("select 3", (b"SELECT", b"3"), False),
    ("set db3", (b"SET", b"db3:k", b"v3", b"PX", b"1000000"), False),
    ("rpush db3", (b"RPUSH", b"db3:l", b"x"), False),
    ("select 7", (b"SELECT", b"7"), False),
    ("set db7", (b"SET", b"db7:k", b"flushed"), False),
    ("flushdb db7", (b"FLUSHDB",), False),
    ("set db7 again", (b"SET", b"db7:k2", b"kept"), False),
    ("swapdb", (b"SWAPDB", b"7", b"8"), False),
    ("select 0", (b"SELECT", b"0"), False),
    ("unlink", (b"UNLINK", b"s:psetex"), False),
    ("lmpop", (b"LMPOP", b"2", b"l:none", b"l:other", b"RIGHT", b"COUNT", b"1"), False),
    ("zadd for zmpop", (b"ZADD", b"z:mpop", b"1", b"a", b"2", b"b", b"3", b"c"), False),
    ("zmpop", (b"ZMPOP", b"1", b"z:mpop", b"MAX", b"COUNT", b"2"), False),
    ("zrangestore", (b"ZRANGESTORE", b"z:stored", b"z:main", b"0", b"-1"), False),
    ("sinterstore", (b"SINTERSTORE", b"rand:inter", b"rand:set", b"rand:set"), False),
    ("sunionstore", (b"SUNIONSTORE", b"set:union", b"set:spop-all", b"tx:missing"), False),
    ("msetnx", (b"MSETNX", b"ms:a", b"1", b"ms:b", b"2"), False),
    ("linsert", (b"LINSERT", b"l:other", b"BEFORE", b"first", b"zeroth"), False),
    ("ltrim", (b"LTRIM", b"l:other", b"0", b"1"), False),
    ("set get", (b"SET", b"s:plain", b"v2", b"GET"), False),
    ("getex persist", (b"GETEX", b"s:keepttl", b"PERSIST"), False),
    ("rename keeps ttl", (b"RENAME", b"s:ex", b"s:ex-renamed"), False),
    ("short ttl", (b"SET", b"s:short-ttl", b"v", b"PX", b"30"), False),
]


EXTRA_LABELS = ["blpop", "blmove", "bzpopmin", "brpop", "blmpop", "restore", "get short-ttl",
                "exists b:gone"]


def run_script(srv) -> list:
    """Runs SCRIPT on one connection, then the blocking pops (each served by another client's
    push), waits for the short TTL to pass and lets the server notice it (so the expiry is
    propagated). Returns the replies in order."""
    out = []
    with srv.raw() as c:
        for _label, args, _random in SCRIPT:
            out.append(c.call(*args))
    out.append(served_blocking(srv, (b"BLPOP", b"b:list", b"b:none", b"10"),
                               (b"RPUSH", b"b:list", b"x", b"y", b"z")))
    out.append(served_blocking(srv, (b"BLMOVE", b"b:src", b"b:dst", b"LEFT", b"RIGHT", b"10"),
                               (b"RPUSH", b"b:src", b"1", b"2")))
    out.append(served_blocking(srv, (b"BZPOPMIN", b"b:z", b"10"),
                               (b"ZADD", b"b:z", b"5", b"five", b"1", b"one")))
    out.append(served_blocking(srv, (b"BRPOP", b"b:gone", b"10"),
                               (b"RPUSH", b"b:gone", b"only")))  # the list is deleted again
    out.append(served_blocking(srv, (b"BLMPOP", b"10", b"1", b"b:mpop", b"LEFT", b"COUNT", b"2"),
                               (b"RPUSH", b"b:mpop", b"p", b"q", b"r")))
    with srv.raw() as c:  # RESTORE with a relative TTL: the AOF must hold an absolute one
        payload = c.call(b"DUMP", b"z:main")
        out.append(c.call(b"RESTORE", b"z:restored", b"1000000", payload))
    time.sleep(0.1)
    with srv.raw() as c:
        out.append(c.call(b"GET", b"s:short-ttl"))  # expired: deleted (and propagated) now
        out.append(c.call(b"EXISTS", b"b:gone"))
    return out


def script_errors(replies: list) -> list[str]:
    labels = [label for label, _, _ in SCRIPT] + EXTRA_LABELS
    return [f"{label}: {r!r}" for label, r in zip(labels, replies) if isinstance(r, RespError)]


def comparable_replies(replies: list) -> list:
    randomness = [rnd for _, _, rnd in SCRIPT] + [False] * (len(replies) - len(SCRIPT))
    return [None if rnd else r for r, rnd in zip(replies, randomness)]


def without_randomness(dump: dict) -> dict:
    """rand:* keys (SPOP results) differ between servers: keep their type, size and expiry."""
    out = {}
    for db, keys in dump.items():
        out[db] = {k: (pu.Entry(e.type, len(e.value), e.expire_at_ms) if k.startswith(b"rand:")
                       else e) for k, e in keys.items()}
    return out


# ---------------------------------------------------------------------------- 1. restart

def test_restart_keeps_every_type_with_appendonly(server_factory):
    """appendonly yes, the mixed dataset (every type and encoding, all 16 dbs) plus the command
    script (EXPIRE/SETEX/GETEX/... TTLs, MULTI/EXEC, SPOP with a count, blocking pops served by
    another client, INCRBYFLOAT, COPY/MOVE/FLUSHDB across dbs); after SIGTERM and a restart 1 s
    later the dataset is identical, expiry times to the millisecond (a relative EXPIRE replayed
    at load would move them by the downtime)."""
    srv = server_factory(AOF_ON)
    pu.fill_mixed_dataset(srv)
    replies = run_script(srv)
    assert not script_errors(replies), script_errors(replies)
    before = pu.dump_dataset(srv)
    assert before[0][b"s:expire"].expire_at_ms is not None
    assert b"s:short-ttl" not in before[0] and b"set:spop-all" not in before[0]
    assert len(before[0][b"rand:set"].value) == 40 - 8
    time.sleep(1.0)
    srv.restart()
    after = pu.dump_dataset(srv)
    pu.assert_same_dataset(after, before, "after restart", "before", ttl_tolerance_ms=0,
                           context="appendonly yes, SIGTERM + restart")
    ttl = call(srv, b"TTL", b"s:expire")
    assert 990 <= ttl <= 1000, f"TTL of an EXPIRE 1000 key after the restart: {ttl}"


def _precedence_sequence(factory, tmp_path: Path, name: str) -> dict:
    out: dict = {}
    d = tmp_path / f"{name}-both"
    d.mkdir()
    srv = factory(["--dir", str(d)] + AOF_ON)
    assert call(srv, b"SET", b"only-in-aof", b"1") == b"OK"
    srv.stop()
    pu.copy_rdb(pu.ALL_TYPES_RDB, d, "dump.rdb")
    srv.start(keep_port=True)
    out["aof on, both files"] = (pu.dbsizes(srv), call(srv, b"GET", b"only-in-aof"))
    srv.stop()
    srv.extra_args = ["--dir", str(d)]
    srv.start(keep_port=True)
    out["aof off, both files"] = (pu.dbsizes(srv), call(srv, b"GET", b"only-in-aof"))
    srv.stop()
    d2 = tmp_path / f"{name}-rdb-only"
    pu.copy_rdb(pu.ALL_TYPES_RDB, d2, "dump.rdb")
    srv2 = factory(["--dir", str(d2)] + AOF_ON)
    out["aof on, only dump.rdb"] = pu.dbsizes(srv2)
    out["aof on, only dump.rdb: files"] = pu.list_dir(aof_dir(d2))
    srv2.stop()
    return out


def test_aof_takes_precedence_over_rdb_at_startup_like_redis(server_factory,
                                                             redis_server_factory, tmp_path):
    """With appendonly yes the AOF is the dataset even when a dump.rdb with other keys sits in
    dir; with appendonly no the same dir loads the dump.rdb; a dir holding only a dump.rdb
    started with appendonly yes does what redis-server 7.0 does. Compared with redis-server."""
    ref = _precedence_sequence(redis_server_factory, tmp_path, "redis")
    ours = _precedence_sequence(server_factory, tmp_path, "redoubt")
    assert ref["aof on, both files"][1] == b"1" and sum(ref["aof on, both files"][0].values()) == 1
    assert ref["aof off, both files"][1] is None, ref
    assert ours == ref


def _aof_info_sequence(srv) -> dict:
    fields = ("aof_enabled", "aof_rewrite_in_progress", "aof_rewrite_scheduled",
              "aof_last_rewrite_time_sec", "aof_current_rewrite_time_sec",
              "aof_last_bgrewrite_status", "aof_rewrites", "aof_rewrites_consecutive_failures",
              "aof_last_write_status", "aof_pending_rewrite", "aof_buffer_length",
              "aof_delayed_fsync")
    out: dict = {}
    inf = pu.info(srv)
    out["names"] = sorted(k for k in inf if k.startswith("aof_"))
    out["values"] = {k: inf.get(k) for k in fields}
    base0, cur0 = int(inf["aof_base_size"]), int(inf["aof_current_size"])
    with srv.raw() as c:
        for i in range(20):
            assert c.call(b"SET", b"k%d" % i, b"v" * i) == b"OK"
        assert c.call(b"GET", b"k1") == b"v"
    inf = pu.info(srv)
    incr = aof_dir(srv) / [n for n, _, k in read_manifest(aof_dir(srv)) if k == "i"][-1]
    out["current size grows by the incr file"] = \
        int(inf["aof_current_size"]) - cur0 == incr.stat().st_size
    out["base size"] = int(inf["aof_base_size"]) == base0
    assert call(srv, b"CONFIG", b"SET", b"appendonly", b"no") == b"OK"
    inf = pu.info(srv)
    out["names when off"] = sorted(k for k in inf if k.startswith("aof_"))
    out["enabled when off"] = inf["aof_enabled"]
    return out


def test_info_persistence_aof_fields_like_redis(server_factory, redis_server_factory):
    """INFO persistence has Redis 7.0's aof_* fields (and drops the size fields when the AOF is
    off), with the same values on a fresh server; aof_current_size grows by exactly what the
    incr file grows."""
    ref = _aof_info_sequence(redis_server_factory(AOF_ON))
    ours = _aof_info_sequence(server_factory(AOF_ON))
    assert ref["current size grows by the incr file"], ref
    assert ours == ref


# ---------------------------------------------------------------------------- 2. interop

def _write_rewrite_write(srv) -> dict:
    """Mixed dataset, BGREWRITEAOF (base), then the script (incr file); stops the server with
    SIGTERM. Returns the dataset as it was before the stop."""
    pu.fill_mixed_dataset(srv)
    r0 = int(pu.info(srv)["aof_rewrites"])
    assert raw_reply(srv, b"BGREWRITEAOF") == REWRITE_STARTED
    wait_rewrite_done(srv, r0 + 1)
    replies = run_script(srv)
    assert not script_errors(replies), f"{srv.name}: {script_errors(replies)}"
    dump = pu.dump_dataset(srv)
    assert srv.stop() == 0, srv.log_tail()
    return dump


@pytest.mark.parametrize("preamble", ["yes", "no"], ids=["rdb-preamble", "no-preamble"])
@pytest.mark.parametrize("direction", ["redoubt-to-redis", "redis-to-redoubt"])
def test_appendonlydir_interop_with_redis(server_factory, redis_server_factory, tmp_path,
                                          direction, preamble):
    """Redoubt's appendonlydir (base from a BGREWRITEAOF + incr file of commands), copied to a
    new dir, passes redis-check-aof and loads in redis-server 7.0 as the same dataset; Redis's
    (same steps) loads in Redoubt as the same dataset. With aof-use-rdb-preamble yes (base
    .rdb) and no (base .aof, commands)."""
    args = AOF_ON + ["--aof-use-rdb-preamble", preamble]
    suffix = ".base.rdb" if preamble == "yes" else ".base.aof"
    if direction == "redoubt-to-redis":
        writer_factory, loader_factory = server_factory, redis_server_factory
    else:
        writer_factory, loader_factory = redis_server_factory, server_factory
    writer = writer_factory(args)
    written = _write_rewrite_write(writer)
    manifest = read_manifest(aof_dir(writer))
    bases = [name for name, _, kind in manifest if kind == "b"]
    assert len(bases) == 1 and bases[0].endswith(suffix), \
        f"{direction}: aof-use-rdb-preamble {preamble}, manifest {manifest}"
    rc, out = run_tool([REDIS_CHECK_AOF, str(manifest_file(aof_dir(writer)))])
    assert rc == 0, f"{direction}, aof-use-rdb-preamble {preamble}: redis-check-aof " \
                    f"rejects {writer.name}'s appendonlydir:\n{out}"
    dest = tmp_path / f"{writer.name}-copy"
    shutil.copytree(aof_dir(writer), aof_dir(dest))
    loader = loader_factory(["--dir", str(dest)] + args)
    pu.assert_same_dataset(pu.dump_dataset(loader), written, f"{loader.name} (loaded)",
                           f"{writer.name} (written)", ttl_tolerance_ms=0,
                           context=f"{direction}, aof-use-rdb-preamble {preamble}")


# ---------------------------------------------------------------------------- 3. old-style file

def _old_style_aof(kind: str) -> bytes:
    cmds = [resp(b"SELECT", b"0"), resp(b"SET", b"old:str", b"hello"),
            resp(b"PEXPIREAT", b"old:str", str(pu.FAR_FUTURE_MS + 1).encode()),
            resp(b"RPUSH", b"old:list", b"a", b"b", b"c"),
            resp(b"SADD", b"old:set", b"1", b"2", b"x"),
            resp(b"ZADD", b"old:zset", b"1.5", b"m", b"-2", b"n"),
            resp(b"HSET", b"old:hash", b"f", b"v"),
            resp(b"MULTI"), resp(b"INCR", b"old:ctr"), resp(b"INCR", b"old:ctr"), resp(b"EXEC"),
            resp(b"SELECT", b"4"), resp(b"SET", b"old:db4", b"four"),
            resp(b"DEL", b"old:nothing")]
    body = b"".join(cmds)
    if kind == "rdb-preamble":
        return pu.ALL_TYPES_RDB.read_bytes() + body
    return body


@pytest.mark.parametrize("kind,fname,dname", [
    ("resp", "appendonly.aof", AOF_DIR),
    ("rdb-preamble", "appendonly.aof", AOF_DIR),
    ("resp", "custom.aof", "custom-dir"),
], ids=["resp", "rdb-preamble", "custom-names"])
def test_old_single_file_aof_is_upgraded_into_the_directory(server_factory,
                                                            redis_server_factory, tmp_path,
                                                            kind, fname, dname):
    """dir/appendonly.aof written the pre-7.0 way (commands, or an RDB preamble followed by
    commands; or under a custom appendfilename with a custom appenddirname): started with
    appendonly yes, Redoubt loads it, moves it into the AOF directory and names it in the
    manifest as the base, like redis-server 7.0 on the same file (same dataset, same manifest,
    same files); the upgraded layout survives a restart."""
    content = _old_style_aof(kind)
    results = {}
    for name, factory in (("redis", redis_server_factory), ("redoubt", server_factory)):
        d = tmp_path / f"{name}-data"
        d.mkdir()
        (d / fname).write_bytes(content)
        srv = factory(["--dir", str(d), "--appendfilename", fname, "--appenddirname", dname]
                      + AOF_ON)
        ad = d / dname
        results[name] = {
            "dump": pu.dump_dataset(srv),
            "old file left": (d / fname).exists(),
            "manifest": read_manifest(ad, fname),
            "files": pu.list_dir(ad),
            "moved intact": (ad / fname).exists() and (ad / fname).read_bytes() == content,
        }
        results[name]["srv"] = srv
    ours, ref = results["redoubt"], results["redis"]
    assert ref["manifest"][0] == (fname, 1, "b"), ref["manifest"]
    assert ours["dump"][0][b"old:ctr"].value == b"2"
    assert ours["dump"][4][b"old:db4"].value == b"four"
    pu.assert_same_dataset(ours["dump"], ref["dump"], context=f"old-style AOF ({kind})",
                           ttl_tolerance_ms=0)
    for field in ("old file left", "manifest", "files", "moved intact"):
        assert ours[field] == ref[field], f"{field}: redoubt={ours[field]} redis={ref[field]}"
    srv = ours["srv"]
    assert call(srv, b"SET", b"after:upgrade", b"1") == b"OK"
    before = pu.dump_dataset(srv)
    srv.restart()
    pu.assert_same_dataset(pu.dump_dataset(srv), before, "after restart", "before",
                           ttl_tolerance_ms=0, context="upgraded layout, restart")


# ---------------------------------------------------------------------------- 4. crashes

class CounterWriter(threading.Thread):
    """INCRs a counter in a loop, one at a time; records (time, acknowledged value)."""

    def __init__(self, srv, key: bytes = b"counter"):
        super().__init__(daemon=True)
        self.srv, self.key = srv, key
        self.acks: list[tuple[float, int]] = []
        self.sent = 0
        self.error = None
        self.stop_flag = False

    def run(self):
        try:
            c = self.srv.raw(timeout=5)
            while not self.stop_flag:
                c.send_command(b"INCR", self.key)
                self.sent += 1
                r = c.recv_reply()
                if not isinstance(r, int):
                    self.error = r
                    return
                self.acks.append((time.monotonic(), r))
        except (OSError, ConnectionError, ssl.SSLError, ValueError):
            pass  # the server was killed


@pytest.mark.parametrize("fsync", ["always", "everysec"])
def test_kill_9_keeps_acknowledged_writes(server_factory, fsync):
    """A client INCRs a counter for ~2 s, the server is killed with SIGKILL mid-stream and
    restarted: with appendfsync always the counter is at least the last acknowledged value
    (and at most the number sent); with everysec at least the value acknowledged 2 s before
    the kill."""
    srv = server_factory(AOF_ON + ["--appendfsync", fsync])
    w = CounterWriter(srv)
    w.start()
    time.sleep(2.2)
    t_kill = time.monotonic()
    kill9(srv)
    w.join(10)
    assert not w.is_alive() and w.error is None, w.error
    assert len(w.acks) > 100, f"only {len(w.acks)} INCRs acknowledged in 2 s"
    last_acked = w.acks[-1][1]
    srv.start(keep_port=True)
    value = int(call(srv, b"GET", b"counter") or 0)
    print(f"appendfsync {fsync}: {len(w.acks)} acknowledged, last {last_acked}, "
          f"after restart {value} (lost {last_acked - value})")
    assert value <= w.sent, f"counter {value} > INCRs sent {w.sent}"
    if fsync == "always":
        assert value >= last_acked, \
            f"appendfsync always: lost acknowledged writes ({value} < {last_acked})"
    else:
        early = [v for t, v in w.acks if t <= t_kill - 2.0]
        bound = early[-1] if early else 0
        assert value >= bound, \
            f"appendfsync everysec: lost more than 2 s ({value} < {bound}, last {last_acked})"
    # The restarted server goes on appending.
    assert call(srv, b"INCR", b"counter") == value + 1


def test_kill_9_during_bgrewriteaof_loses_nothing(server_factory):
    """kill -9 (server and rewrite child) while a BGREWRITEAOF is slowed with
    rdb-key-save-delay, with writes acknowledged during the rewrite: the restart loads every
    acknowledged key from the manifest's files, the leftover temp file is not taken for the AOF,
    and a later BGREWRITEAOF works."""
    srv = server_factory(AOF_ON)
    pu.populate_strings(srv, 8000, prefix=b"base:")
    assert call(srv, b"CONFIG", b"SET", b"rdb-key-save-delay", b"300") == b"OK"  # >= 2.4 s
    before_files = pu.list_dir(aof_dir(srv))
    assert raw_reply(srv, b"BGREWRITEAOF") == REWRITE_STARTED
    with srv.raw() as c:
        for i in range(300):
            assert c.call(b"SET", b"during:%d" % i, b"v%d" % i) == b"OK"
        assert c.call(b"HSET", b"during:hash", b"f", b"v") == 1
    inf = pu.info(srv)
    assert inf["aof_rewrite_in_progress"] == "1", "the rewrite ended before the kill: " \
                                                  "make it slower"
    expected = pu.dump_dataset(srv)
    kill9(srv)
    files = pu.list_dir(aof_dir(srv))
    named = {name for name, _, _ in read_manifest(aof_dir(srv))}
    leftovers = [f for f in files if f not in named and not f.endswith(".manifest")]
    print(f"before the rewrite: {before_files}; after the kill: {files}")
    srv.start(keep_port=True)
    pu.assert_same_dataset(pu.dump_dataset(srv), expected, "after kill -9 + restart",
                           "acknowledged", ttl_tolerance_ms=0,
                           context="kill -9 during BGREWRITEAOF")
    assert call(srv, b"DBSIZE") == 8000 + 301
    r0 = int(pu.info(srv)["aof_rewrites"])
    assert raw_reply(srv, b"BGREWRITEAOF") == REWRITE_STARTED
    inf = wait_rewrite_done(srv, r0 + 1)
    assert inf["aof_last_bgrewrite_status"] == "ok"
    for f in leftovers:
        assert f not in {n for n, _, _ in read_manifest(aof_dir(srv))}
    srv.restart()
    assert call(srv, b"DBSIZE") == 8000 + 301


# ---------------------------------------------------------------------------- 5. damaged files

def _aof_with_data(server_factory) -> tuple:
    """A stopped server whose AOF holds a few keys; returns (server, dataset)."""
    srv = server_factory(AOF_ON)
    with srv.raw() as c:
        assert c.call(b"SET", b"k1", b"v1") == b"OK"
        assert c.call(b"RPUSH", b"l", b"a", b"b") == 2
        assert c.call(b"SELECT", b"2") == b"OK"
        assert c.call(b"HSET", b"h", b"f", b"v") == 1
    dump = pu.dump_dataset(srv)
    assert srv.stop() == 0
    return srv, dump


def _expect_refusal(srv, tmp_path: Path, name: str, *extra: str) -> tuple[int, str]:
    args = ["--dir", str(srv.dir)] + AOF_ON + list(extra)
    rc, log = pu.start_expecting_exit(harness.server_binary(), tmp_path / name, args, name)
    assert rc is not None, f"{name}: the server started:\n{log[-3000:]}"
    assert rc > 0, f"{name}: exit status {rc} (a signal is a crash, not a refusal)\n{log[-3000:]}"
    return rc, log


TORN = {
    "partial-command": resp(b"SET", b"torn", b"never-complete")[:-7],
    # A transaction whose EXEC never made it: the whole block is dropped, as in Redis.
    "open-multi": resp(b"MULTI") + resp(b"SET", b"torn", b"1") + resp(b"INCR", b"k1"),
}


@pytest.mark.parametrize("torn", list(TORN))
def test_torn_tail_loads_with_warning_or_is_refused(server_factory, redis_server_factory,
                                                    tmp_path, torn):
    """A partial command (or a MULTI block without its EXEC) at the end of the last incr file:
    with aof-load-truncated no the server refuses to start (as redis-server), naming the file;
    `--check-aof MANIFEST` says it is not valid (exit 1, as redis-check-aof) and
    `--check-aof --fix` truncates it, after which it is valid (for redis-check-aof too); by
    default the server starts, logs the short read and "loaded anyway", has every complete
    command's data, truncates the file, and keeps appending."""
    srv, dump = _aof_with_data(server_factory)
    incr = last_incr(aof_dir(srv))
    size = incr.stat().st_size
    with open(incr, "ab") as f:
        f.write(TORN[torn])

    # aof-load-truncated no: refused, as Redis on a copy.
    ref_dir = tmp_path / "redis-copy"
    shutil.copytree(aof_dir(srv), aof_dir(ref_dir))
    rc_ref, log_ref = pu.start_expecting_exit(
        Path(harness.DEBIAN_REDIS_SERVER), tmp_path / "redis",
        ["--dir", str(ref_dir)] + AOF_ON + ["--aof-load-truncated", "no"], "redis", mode="plain")
    assert rc_ref is not None and rc_ref > 0, f"reference redis-server: {rc_ref}\n{log_ref}"
    _, log = _expect_refusal(srv, tmp_path, "truncated-no", "--aof-load-truncated", "no")
    assert incr.name in log, f"the log does not name {incr.name}:\n{log[-3000:]}"
    assert incr.stat().st_size == size + len(TORN[torn]), "a refused start modified the file"

    # --check-aof on a copy: not valid; --fix truncates; then valid. Redis's tool agrees.
    chk = tmp_path / "check-copy"
    shutil.copytree(aof_dir(srv), chk)
    rc, out = run_tool(check_aof_command(manifest_file(chk)))
    assert rc == 1, f"--check-aof on a torn AOF: exit {rc}\n{out}"
    assert re.search(r"not valid|truncated|unexpected end", out, re.I), out
    assert run_tool([REDIS_CHECK_AOF, str(manifest_file(chk))])[0] == 1
    rc, out = run_tool(check_aof_command(manifest_file(chk), fix=True))
    assert rc == 0, f"--check-aof --fix on a torn tail: exit {rc}\n{out}"
    assert (chk / incr.name).stat().st_size == size, out
    rc, out = run_tool(check_aof_command(manifest_file(chk)))
    assert rc == 0 and re.search(r"\bvalid\b", out) and "not valid" not in out, out
    rc_ref, out_ref = run_tool([REDIS_CHECK_AOF, str(manifest_file(chk))])
    assert rc_ref == 0, f"redis-check-aof on the fixed copy:\n{out_ref}"

    # Default (aof-load-truncated yes): loads anyway.
    srv.start(keep_port=True)
    log = log_of_last_start(srv)
    assert re.search(r"short read", log, re.I) and re.search(r"loaded anyway", log, re.I), log
    pu.assert_same_dataset(pu.dump_dataset(srv), dump, "loaded", "written",
                           context="torn tail, aof-load-truncated yes")
    assert call(srv, b"EXISTS", b"torn") == 0
    assert incr.stat().st_size == size, "the torn command was not truncated away"
    assert call(srv, b"SET", b"after", b"torn") == b"OK"
    srv.restart()
    assert call(srv, b"GET", b"after") == b"torn"
    assert "short read" not in log_of_last_start(srv)


def test_corrupted_middle_is_refused_with_file_and_offset(server_factory, tmp_path):
    """Garbage followed by a valid command in the last incr file is not a torn tail: the
    server refuses to start even with aof-load-truncated yes (as redis-server), and the log
    names the file and the offset where the garbage starts; `--check-aof MANIFEST` exits 1 and
    says the AOF is not valid; `--check-aof --fix` does not turn it into a valid one by dropping
    the valid command after the garbage without saying so."""
    srv, _ = _aof_with_data(server_factory)
    incr = last_incr(aof_dir(srv))
    size = incr.stat().st_size
    with open(incr, "ab") as f:
        f.write(b"this is not RESP\r\n" + resp(b"SET", b"after-garbage", b"v"))
    corrupt = incr.read_bytes()
    ref_dir = tmp_path / "redis-copy"
    shutil.copytree(aof_dir(srv), aof_dir(ref_dir))
    rc_ref, log_ref = pu.start_expecting_exit(Path(harness.DEBIAN_REDIS_SERVER),
                                              tmp_path / "redis", ["--dir", str(ref_dir)] + AOF_ON,
                                              "redis", mode="plain")
    assert rc_ref is not None and rc_ref > 0, f"reference redis-server: {rc_ref}\n{log_ref}"

    _, log = _expect_refusal(srv, tmp_path, "corrupt-middle")
    assert incr.name in log, f"the log does not name {incr.name}:\n{log[-3000:]}"
    if not pu.is_redis_under_test():  # Redis's message has no offset
        assert re.search(rf"offset\D{{0,3}}{size}\b", log, re.I), \
            f"the log does not give the offset {size} of the garbage:\n{log[-3000:]}"
    assert incr.read_bytes() == corrupt, "a refused start modified the file"

    rc, out = run_tool(check_aof_command(manifest_file(aof_dir(srv))))
    assert rc == 1, f"--check-aof on a corrupted AOF: exit {rc}\n{out}"
    assert "not valid" in out or "format" in out.lower(), out
    assert incr.name in out, out
    assert run_tool([REDIS_CHECK_AOF, str(manifest_file(ref_dir / AOF_DIR))])[0] == 1
    fix_dir = tmp_path / "fix-copy"
    shutil.copytree(aof_dir(srv), fix_dir)
    rc, out = run_tool(check_aof_command(manifest_file(fix_dir), fix=True))
    if rc == 0:  # fixed by truncation: then it must be at the garbage, and said
        assert (fix_dir / incr.name).stat().st_size == size, out
    else:
        assert (fix_dir / incr.name).read_bytes() == corrupt, f"--fix failed but changed the " \
                                                              f"file:\n{out}"


def test_check_aof_on_good_files(server_factory, tmp_path):
    """`--check-aof` accepts what the server wrote: the manifest (RDB base + incr), a single
    incr file, and an old-style file; a missing file is an error, not a crash."""
    srv = server_factory(AOF_ON)
    pu.fill_mixed_dataset(srv)
    assert srv.stop() == 0
    d = aof_dir(srv)
    for path in (manifest_file(d), last_incr(d)):
        rc, out = run_tool(check_aof_command(path))
        assert rc == 0 and "not valid" not in out, f"{path.name}: exit {rc}\n{out}"
    old = tmp_path / "appendonly.aof"
    old.write_bytes(_old_style_aof("rdb-preamble"))
    rc, out = run_tool(check_aof_command(old))
    assert rc == 0, out
    rc, out = run_tool(check_aof_command(tmp_path / "no-such.manifest"))
    assert rc > 0, f"missing file: exit {rc}\n{out}"


# ---------------------------------------------------------------------------- 6. rewrites

def _rewrite_sequence(srv) -> dict:
    out: dict = {}
    pu.populate_strings(srv, 300)
    with srv.raw() as c:
        assert c.call(b"RPUSH", b"list", *[b"%d" % i for i in range(100)]) == 100
        assert c.call(b"SET", b"ttl", b"v", b"EX", b"1000") == b"OK"
        assert c.call(b"HSET", b"hash", b"f", b"v", b"g", b"w") == 2
        assert c.call(b"PEXPIRE", b"hash", b"5000000") == 1
        assert c.call(b"SELECT", b"3") == b"OK"
        assert c.call(b"ZADD", b"zset", b"1", b"a", b"2.5", b"b") == 2
    d = aof_dir(srv)
    out["manifest before"] = read_manifest(d)
    inf = pu.info(srv)
    r0 = int(inf["aof_rewrites"])
    out["reply"] = raw_reply(srv, b"BGREWRITEAOF")
    inf = wait_rewrite_done(srv, r0 + 1)
    out["rewrites"] = int(inf["aof_rewrites"]) - r0
    out["status"] = inf["aof_last_bgrewrite_status"]
    out["manifest after"] = read_manifest(d)
    expected = sorted([name for name, _, _ in out["manifest after"]] + [manifest_file(d).name])
    # History files are deleted (Redis does it in a background thread: poll).
    try:
        pu.wait_until(lambda: pu.list_dir(d) == expected, 5)
    except AssertionError:
        pass
    out["files"] = pu.list_dir(d)
    with srv.raw() as c:
        assert c.call(b"SET", b"after-rewrite", b"1") == b"OK"
        assert c.call(b"LPOP", b"list") == b"0"
    before = pu.dump_dataset(srv)
    try:
        srv.restart()
    except harness.ServerCrashed as e:
        out["restart"] = [f"the restart after BGREWRITEAOF failed: {e}"]
        return out
    out["restart"] = pu.compare_dumps(pu.dump_dataset(srv), before, "after restart", "before",
                                      ttl_tolerance_ms=0)
    return out


@pytest.mark.parametrize("preamble", ["yes", "no"], ids=["rdb-preamble", "no-preamble"])
def test_bgrewriteaof_replaces_base_deletes_history_like_redis(server_factory,
                                                               redis_server_factory, preamble):
    """BGREWRITEAOF replies +Background append only file rewriting started; afterwards the
    manifest names base seq 2 (.rdb, or .aof with aof-use-rdb-preamble no) and a new incr file,
    the old base and incr files are deleted, aof_rewrites went up by one,
    aof_last_bgrewrite_status:ok, and the data (keys with TTLs, several dbs, writes after the
    rewrite) survive a restart. Everything compared with redis-server doing the same."""
    args = AOF_ON + ["--aof-use-rdb-preamble", preamble]
    ref = _rewrite_sequence(redis_server_factory(args))
    ours = _rewrite_sequence(server_factory(args))
    assert ref["reply"] == REWRITE_STARTED and ref["rewrites"] == 1, ref
    assert ours["restart"] == [], "\n".join(ours["restart"])
    assert ours == ref


def _scheduled_rewrite_sequence(srv) -> list:
    out: list = []
    pu.populate_strings(srv, 400)
    r0 = int(pu.info(srv)["aof_rewrites"])
    assert call(srv, b"CONFIG", b"SET", b"rdb-key-save-delay", b"2500") == b"OK"  # ~1 s
    with srv.raw() as c:
        for args in ((b"BGSAVE",), (b"BGREWRITEAOF",), (b"BGREWRITEAOF",)):
            c.send_command(*args)
            out.append(c.recv_reply_raw())
        inf = pu.info(srv)
        out.append((inf["rdb_bgsave_in_progress"], inf["aof_rewrite_scheduled"],
                    inf["aof_rewrite_in_progress"]))
        assert c.call(b"CONFIG", b"SET", b"rdb-key-save-delay", b"0") == b"OK"
    inf = wait_rewrite_done(srv, r0 + 1)
    out.append((int(inf["aof_rewrites"]) - r0, inf["aof_last_bgrewrite_status"],
                pu.wait_bgsave_done(srv)["rdb_last_bgsave_status"]))
    # While a rewrite runs: a second one and a BGSAVE are refused.
    assert call(srv, b"CONFIG", b"SET", b"rdb-key-save-delay", b"2500") == b"OK"
    with srv.raw() as c:
        for args in ((b"BGREWRITEAOF",), (b"BGREWRITEAOF",), (b"BGSAVE",)):
            c.send_command(*args)
            out.append(c.recv_reply_raw())
        out.append(pu.info(srv)["aof_rewrite_in_progress"])
        assert c.call(b"CONFIG", b"SET", b"rdb-key-save-delay", b"0") == b"OK"
    inf = wait_rewrite_done(srv, r0 + 2)
    out.append((int(inf["aof_rewrites"]) - r0, inf["aof_last_bgrewrite_status"]))
    # Inside MULTI/EXEC: scheduled, then runs on its own.
    with srv.raw() as c:
        for args in ((b"MULTI",), (b"SET", b"in-multi", b"1"), (b"BGREWRITEAOF",), (b"EXEC",)):
            c.send_command(*args)
            out.append(c.recv_reply_raw())
    inf = wait_rewrite_done(srv, r0 + 3)
    out.append((int(inf["aof_rewrites"]) - r0, inf["aof_last_bgrewrite_status"]))
    return out


def test_bgrewriteaof_during_bgsave_is_scheduled_like_redis(server_factory,
                                                            redis_server_factory):
    """BGREWRITEAOF while a BGSAVE runs (slowed with rdb-key-save-delay) replies +Background
    append only file rewriting scheduled (INFO aof_rewrite_scheduled:1) and runs after the
    save; BGREWRITEAOF / BGSAVE while a rewrite runs get Redis's errors; inside MULTI/EXEC it
    is scheduled and runs after the EXEC. Compared with redis-server."""
    results = []
    for factory in (redis_server_factory, server_factory):
        srv = factory(AOF_ON)
        if isinstance(call(srv, b"CONFIG", b"SET", b"rdb-key-save-delay", b"0"), RespError):
            pytest.skip(f"{srv.name} has no rdb-key-save-delay")
        results.append(_scheduled_rewrite_sequence(srv))
    ref, ours = results
    assert ref[0] == b"+Background saving started\r\n" and ref[1] == REWRITE_SCHEDULED, ref
    assert ref[5] == REWRITE_STARTED and ref[6].startswith(b"-ERR"), ref
    assert ours == ref


def _enable_at_runtime(srv) -> dict:
    out: dict = {}
    pu.fill_mixed_dataset(srv)
    pu.populate_strings(srv, 2000, prefix=b"bulk:")
    assert call(srv, b"CONFIG", b"SET", b"rdb-key-save-delay", b"500") == b"OK"  # ~1 s
    out["enable"] = raw_reply(srv, b"CONFIG", b"SET", b"appendonly", b"yes")
    inf = pu.info(srv)
    out["rewriting"] = inf["aof_rewrite_in_progress"]
    with srv.raw() as c:  # written while the first base is made
        for i in range(100):
            assert c.call(b"SET", b"during:%d" % i, b"v") == b"OK"
        assert c.call(b"CONFIG", b"SET", b"rdb-key-save-delay", b"0") == b"OK"
    inf = wait_rewrite_done(srv, 1)
    out["enabled"] = (inf["aof_enabled"], inf["aof_last_bgrewrite_status"])
    with srv.raw() as c:
        for i in range(100):
            assert c.call(b"SET", b"after:%d" % i, b"v") == b"OK"
        assert c.call(b"EXPIRE", b"after:0", b"1000") == 1
    out["manifest"] = read_manifest(aof_dir(srv))
    out["files"] = pu.list_dir(aof_dir(srv))
    expected = pu.dump_dataset(srv)
    kill9(srv)
    srv.extra_args = srv.extra_args + AOF_ON
    srv.start(keep_port=True)
    out["restored"] = pu.compare_dumps(pu.dump_dataset(srv), expected, "after kill -9",
                                       "before", ttl_tolerance_ms=0)
    # appendonly no: nothing is written any more.
    out["disable"] = raw_reply(srv, b"CONFIG", b"SET", b"appendonly", b"no")
    sizes = file_sizes(aof_dir(srv))
    with srv.raw() as c:
        for i in range(200):
            assert c.call(b"SET", b"off:%d" % i, b"x" * 100) == b"OK"
    time.sleep(1.2)  # an everysec flush or a cron run would have written by now
    out["sizes unchanged"] = file_sizes(aof_dir(srv)) == sizes
    out["aof_enabled"] = pu.info(srv)["aof_enabled"]
    # The AOF is the dataset at start-up: what was written with appendonly no is not in it.
    srv.restart()
    out["off keys after restart"] = call(srv, b"EXISTS", b"off:0", b"off:199")
    out["dbsize"] = call(srv, b"DBSIZE")
    return out


def test_config_set_appendonly_yes_then_no_like_redis(server_factory, redis_server_factory):
    """CONFIG SET appendonly yes on a server holding data starts a rewrite; writes made during
    it and after are in the AOF: after kill -9 and a restart with appendonly yes everything is
    there. CONFIG SET appendonly no stops writing (file sizes unchanged after more writes) and
    a restart with appendonly yes does not have those writes. Compared with redis-server."""
    ref = _enable_at_runtime(redis_server_factory())
    ours = _enable_at_runtime(server_factory())
    assert ref["enable"] == b"+OK\r\n" and ref["restored"] == [] and ref["sizes unchanged"], ref
    assert ours["restored"] == [], "\n".join(ours["restored"][:40])
    assert ours == ref


def test_auto_rewrite_on_growth(server_factory):
    """auto-aof-rewrite-min-size 64kb, percentage 100: writing well past that starts a rewrite
    by itself (aof_rewrites goes up, the base is replaced) and the data survives a restart."""
    srv = server_factory(AOF_ON + ["--auto-aof-rewrite-min-size", "65536",
                                   "--auto-aof-rewrite-percentage", "100"])
    pu.populate_strings(srv, 2000, value_size=100)
    inf = wait_rewrite_done(srv, 1, timeout=10)
    assert inf["aof_last_bgrewrite_status"] == "ok"
    bases = [(n, s) for n, s, k in read_manifest(aof_dir(srv)) if k == "b"]
    assert bases and bases[0][1] >= 2, read_manifest(aof_dir(srv))
    assert "Starting automatic rewriting of AOF" in srv.log_text() or \
        "automatic rewriting" in srv.log_text(), srv.log_tail()
    before = pu.dump_dataset(srv)
    srv.restart()
    pu.assert_same_dataset(pu.dump_dataset(srv), before, "after restart", "before",
                           ttl_tolerance_ms=0)


# ---------------------------------------------------------------------------- 7. disk full

def _aof_full_disk_scenario(factory, mount: Path) -> dict:
    out: dict = {}
    srv = factory(["--dir", str(mount)] + AOF_ON)
    ballast = mount / "ballast"
    acked = []
    try:
        st = os.statvfs(mount)
        free = st.f_bavail * st.f_frsize
        with open(ballast, "wb") as f:
            f.write(b"\0" * max(0, free - 64 * 1024))
        value = b"x" * 8000
        with srv.raw() as c:
            for i in range(100):
                r = c.call(b"SET", b"big:%d" % i, value)
                if r != b"OK":
                    out["first error"] = r
                    break
                acked.append(i)
        out["filled"] = 0 < len(acked) < 100
        out["set"] = raw_reply(srv, b"SET", b"refused", b"1")
        out["ping"] = raw_reply(srv, b"PING")
        out["get"] = raw_reply(srv, b"GET", b"big:0") == b"$8000\r\n" + value + b"\r\n"
        out["status"] = pu.info(srv)["aof_last_write_status"]
        ballast.unlink()
        # A failed write is retried by the server's cron: writes come back by themselves.
        pu.wait_until(lambda: call(srv, b"SET", b"recovered", b"1") == b"OK", 10,
                      what=f"{srv.name}: writes accepted after freeing space")
        out["status2"] = pu.info(srv)["aof_last_write_status"]
        with srv.raw() as c:
            assert c.call(b"SET", b"after", b"1") == b"OK"
        srv.restart()
        with srv.raw() as c:
            present = [i for i in acked if c.call(b"EXISTS", b"big:%d" % i) == 1]
            out["acked survive"] = present == acked
            out["refused absent"] = c.call(b"EXISTS", b"refused") == 0
            out["later survive"] = c.call(b"EXISTS", b"recovered", b"after") == 2
    finally:
        if ballast.exists():
            ballast.unlink()
        srv.stop()
    return out


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount a small tmpfs")
def test_full_disk_misconf_then_recovers_like_redis(server_factory, redis_server_factory,
                                                    tmp_path):
    """dir on a 1 MB tmpfs with appendonly yes, a ballast file leaving 64 KB, 8 KB writes:
    once the AOF cannot be written writes (and PING, as Redis 7.0) get -MISCONF Errors writing
    to the AOF file: <strerror> (the same text as redis-server's up to the strerror), reads
    work, INFO aof_last_write_status:err; after the ballast is deleted writes are accepted
    again and every acknowledged write survives a restart. Compared with redis-server."""
    results = {}
    for name, factory in (("redis", redis_server_factory), ("redoubt", server_factory)):
        mount = tmp_path / f"disk-{name}"
        _mount_tmpfs(mount, "1m")
        try:
            results[name] = _aof_full_disk_scenario(factory, mount)
        finally:
            _umount(mount)
    ref, ours = results["redis"], results["redoubt"]
    print(f"redis: {ref}\nredoubt: {ours}")
    assert ref["filled"] and ref["set"].startswith(b"-MISCONF ") and ref["status"] == "err", ref
    prefix = ref["set"].rsplit(b": ", 1)[0] + b": "
    assert ours["set"].startswith(prefix), f"redoubt {ours['set']!r}, redis {ref['set']!r}"
    assert b"No space left on device" in ours["set"], ours["set"]
    for field in ("filled", "ping", "get", "status", "status2", "acked survive",
                  "refused absent", "later survive"):
        assert ours.get(field) == ref.get(field), \
            f"{field}: redoubt={ours.get(field)!r} redis={ref.get(field)!r}"


# ---------------------------------------------------------------------------- 8. equivalence

def test_same_script_same_dataset_after_restart_as_redis(server_factory, redis_server_factory):
    """The command script (mixed types, relative and absolute expiries, MULTI/EXEC, SPOP with a
    count, blocking pops served by other clients, cross-db commands) on Redis and Redoubt, both
    appendonly yes: the replies match (random ones aside), each server's dataset is unchanged by
    a restart, and after it the two datasets are equal (SPOP'd sets by size; TTLs within 2 s)."""
    dumps, replies = {}, {}
    for name, factory in (("redis", redis_server_factory), ("redoubt", server_factory)):
        srv = factory(AOF_ON)
        replies[name] = run_script(srv)
        before = pu.dump_dataset(srv)
        srv.restart()
        after = pu.dump_dataset(srv)
        pu.assert_same_dataset(after, before, f"{name} after restart", f"{name} before",
                               ttl_tolerance_ms=0, context=f"{name}: restart")
        dumps[name] = after
    assert not script_errors(replies["redis"]), script_errors(replies["redis"])
    labels = [label for label, _, _ in SCRIPT] + EXTRA_LABELS
    diffs = [f"{label}: redoubt={o!r} redis={r!r}" for label, o, r in
             zip(labels, comparable_replies(replies["redoubt"]),
                 comparable_replies(replies["redis"])) if o != r]
    assert not diffs, "replies differ:\n" + "\n".join(diffs)
    pu.assert_same_dataset(without_randomness(dumps["redoubt"]), without_randomness(dumps["redis"]),
                           context="same script, after restart")
