"""The scripting engine seen from outside, where one client and one reply are not enough
(the byte-for-byte script corpus against Redis is test_scripting.py):

  busy scripts       past busy-reply-threshold other clients get Redis's -BUSY texts (EVAL names
                     SCRIPT KILL, FCALL names FUNCTION KILL), SCRIPT KILL / FUNCTION KILL stop the
                     script (also one that catches errors with pcall in an endless loop), a script
                     that wrote is UNKILLABLE, SHUTDOWN without NOSAVE is refused, SHUTDOWN NOSAVE
                     stops the server without saving, the client running the script may vanish
  effects            what scripts write reaches a Redis replica and the AOF as the commands they
                     ran (several wrapped in MULTI/EXEC, never EVAL itself), redis.set_repl sends
                     them to one side only; FUNCTION LOAD is propagated as is
  libraries on disk  they survive a restart through the RDB and an AOF rewrite, a Redis-written
                     RDB with functions loads (and Redis loads ours), FUNCTION DUMP payloads cross
                     both ways, a replica's full sync replaces its libraries with its master's
"""

from __future__ import annotations

import time

import pytest

import harness
import persist_util as pu
from harness import RespError

LOOP = "local i = 0 while true do i = i + 1 end"
BUSY_EVAL = (b"BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
             b"SHUTDOWN NOSAVE.")
BUSY_FUNCTION = (b"BUSY Redis is busy running a script. You can only call FUNCTION KILL or "
                 b"SHUTDOWN NOSAVE.")
LIB = b"#!lua name=enginelib\n" \
      b"redis.register_function('spin', function() while true do end end)\n" \
      b"redis.register_function{function_name='put', callback=function(keys, args) " \
      b"redis.call('set', keys[1], args[1]) redis.call('incr', keys[2]) return 'ok' end}\n" \
      b"redis.register_function{function_name='get', flags={'no-writes'}, " \
      b"callback=function(keys) return redis.call('get', keys[1]) end}\n"


# ---------------------------------------------------------------------------- helpers

def wait_busy(c, expected: bytes, timeout: float = 10.0) -> None:
    """Waits until `c` gets -BUSY for PING (the script passed the threshold)."""
    def busy():
        r = c.call("PING")
        if r == b"PONG":
            return False
        assert isinstance(r, RespError) and r.message == expected, r
        return True
    pu.wait_until(busy, timeout, 0.02, what="the script to be busy")


def start_busy(srv, *command):
    """A client running `command` (a script that does not return by itself), a second client
    that has seen -BUSY; busy-reply-threshold is 50 ms."""
    admin = srv.raw()
    assert admin.call("CONFIG", "SET", "busy-reply-threshold", "50") == b"OK"
    runner = srv.raw()
    runner.send_command(*command)
    return runner, admin


def aof_text(srv) -> bytes:
    files = sorted((srv.dir / "appendonlydir").glob("*.incr.aof"))
    return b"".join(f.read_bytes() for f in files)


def libraries(c) -> list:
    """FUNCTION LIST WITHCODE with libraries and functions in name order (both are listed in
    hash order, which changes with the process's hash seed)."""
    out = []
    for lib in c.call("FUNCTION", "LIST", "WITHCODE"):
        d = dict(zip(lib[0::2], lib[1::2]))
        d[b"functions"] = sorted((repr(f) for f in d[b"functions"]))
        out.append(sorted(d.items()))
    return sorted(out)


def resp(*args) -> bytes:
    return harness.encode_command(*args)


def replica_args(master, *extra: str) -> list[str]:
    args = ["--replicaof", master.host, str(master.port)]
    if master.tls:
        f = harness.tls_files()
        args += ["--tls-replication", "yes",
                 "--tls-client-cert-file", str(f["client_cert"]),
                 "--tls-client-key-file", str(f["client_key"])]
    return args + list(extra)


def wait_synced(master, replica, timeout: float = 30.0) -> None:
    def synced():
        ri = pu.info(replica, "replication")
        mo = pu.info(master, "replication")["master_repl_offset"]
        return ri.get("master_link_status") == "up" and ri.get("slave_repl_offset") == mo
    pu.wait_until(synced, timeout, 0.05, what=f"{replica.name} in sync")


# ---------------------------------------------------------------------------- busy scripts

def test_busy_eval_gives_busy_and_script_kill_stops_it(server):
    runner, admin = start_busy(server, "EVAL", LOOP, "0")
    wait_busy(admin, BUSY_EVAL)
    # Refused while busy: reads, writes, FUNCTION KILL (an EVAL runs), FUNCTION STATS.
    for cmd in (("GET", "k"), ("SET", "k", "v"), ("FUNCTION", "KILL"), ("FUNCTION", "STATS")):
        r = admin.call(*cmd)
        assert isinstance(r, RespError) and r.message == BUSY_EVAL, (cmd, r)
    # MULTI is allowed (a pipelined transaction is not half refused), its commands are not.
    assert admin.call("MULTI") == b"OK"
    assert admin.call("DISCARD") == b"OK"
    assert admin.call("SCRIPT", "KILL") == b"OK"
    r = runner.recv_reply()
    assert isinstance(r, RespError)
    assert r.message.startswith(b"ERR Script killed by user with SCRIPT KILL... script: ")
    assert r.message.endswith(b", on @user_script:1.")
    assert admin.call("PING") == b"PONG"
    assert runner.call("PING") == b"PONG"
    assert admin.call("SCRIPT", "KILL") == RespError(b"NOTBUSY No scripts in execution right now.")
    assert "Slow script detected" in server.log_text()


def test_script_that_catches_errors_forever_is_still_killed(server):
    # Each kill error is caught by pcall and the loop goes on: the hook fires on every line
    # after SCRIPT KILL, so the error is raised again until the script ends.
    runner, admin = start_busy(
        server, "EVAL", "while true do pcall(function() while true do end end) end", "0")
    wait_busy(admin, BUSY_EVAL)
    assert admin.call("SCRIPT", "KILL") == b"OK"
    r = runner.recv_reply()
    assert isinstance(r, RespError) and b"Script killed by user" in r.message
    assert admin.call("PING") == b"PONG"


def test_busy_function_gives_busy_and_function_kill_stops_it(server):
    admin = server.raw()
    assert admin.call("FUNCTION", "LOAD", LIB) == b"enginelib"
    runner, admin = start_busy(server, "FCALL", "spin", "0")
    wait_busy(admin, BUSY_FUNCTION)
    # SCRIPT KILL cannot stop a function (Redis's reply), FUNCTION STATS shows it.
    assert admin.call("SCRIPT", "KILL") == RespError(BUSY_FUNCTION)
    stats = admin.call("FUNCTION", "STATS")
    running = dict(zip(stats[1][0::2], stats[1][1::2]))
    assert running[b"name"] == b"spin"
    assert running[b"command"] == [b"FCALL", b"spin", b"0"]
    assert int(running[b"duration_ms"]) >= 50
    assert stats[2] == b"engines"
    assert admin.call("FUNCTION", "KILL") == b"OK"
    r = runner.recv_reply()
    assert isinstance(r, RespError)
    assert r.message.startswith(b"ERR Script killed by user with SCRIPT KILL... script: spin, "
                                b"on @user_function:2.")
    assert admin.call("FCALL", "put", "2", "a", "n", "v") == b"ok"
    assert admin.call("FCALL_RO", "get", "1", "a") == b"v"


def test_script_that_wrote_is_unkillable_and_shutdown_nosave_ends_it(server):
    runner, admin = start_busy(server, "EVAL", "redis.call('set', 'written', '1') " + LOOP, "0")
    wait_busy(admin, BUSY_EVAL)
    r = admin.call("SCRIPT", "KILL")
    assert isinstance(r, RespError) and r.message.startswith(b"UNKILLABLE Sorry the script "
                                                             b"already executed write commands")
    assert admin.call("SHUTDOWN") == RespError(BUSY_EVAL)
    assert admin.call("SHUTDOWN", "SAVE") == RespError(BUSY_EVAL)
    admin.send_command("SHUTDOWN", "NOSAVE")
    pu.wait_until(lambda: not server.is_running(), 10.0, what="the server to exit")
    assert server.proc.returncode == 0
    assert not (server.dir / "dump.rdb").exists()


def test_client_running_the_script_may_disconnect(server):
    runner, admin = start_busy(server, "EVAL", LOOP, "0")
    wait_busy(admin, BUSY_EVAL)
    runner.close()  # its connection is protected until the script ends, then freed
    time.sleep(0.2)
    assert admin.call("SCRIPT", "KILL") == b"OK"
    pu.wait_until(lambda: admin.call("PING") == b"PONG", 5.0, what="PONG")
    clients = admin.call("CLIENT", "LIST")
    assert clients.count(b"\n") == 1, clients  # only the admin client is left


def test_busy_reply_threshold_is_lua_time_limit(server):
    c = server.raw()
    assert c.call("CONFIG", "SET", "lua-time-limit", "1234") == b"OK"
    assert c.call("CONFIG", "GET", "busy-reply-threshold") == [b"busy-reply-threshold", b"1234"]
    # Below the threshold a long script is not busy: nothing else runs meanwhile.
    t0 = time.monotonic()
    assert c.call("EVAL", "local t = redis.call('time')[1] local i = 0 "
                          "while i < 3000000 do i = i + 1 end return i", "0") == 3000000
    assert time.monotonic() - t0 < 5


# ---------------------------------------------------------------------------- effects

def test_script_effects_reach_a_redis_replica(server_factory, redis_server_factory):
    master = server_factory("--repl-diskless-sync-delay", "0")
    replica = redis_server_factory(replica_args(master), mode=master.mode)
    wait_synced(master, replica)
    c = master.raw()
    assert c.call("EVAL", "redis.call('set', KEYS[1], ARGV[1]) redis.call('incr', KEYS[2]) "
                          "redis.call('expire', KEYS[1], 100) return 1",
                  "2", "k1", "n", "v1") == 1
    assert c.call("EVAL", "redis.call('rpush', 'l', 'a', 'b') redis.call('lpop', 'l')", "0") is None
    assert c.call("EVAL", "redis.set_repl(redis.REPL_AOF) redis.call('set', 'aof_only', 1)",
                  "0") is None
    assert c.call("EVAL", "redis.set_repl(redis.REPL_NONE) redis.call('set', 'nowhere', 1) "
                          "redis.set_repl(redis.REPL_ALL) redis.call('set', 'everywhere', 1)",
                  "0") is None
    assert c.call("FUNCTION", "LOAD", LIB) == b"enginelib"
    assert c.call("FCALL", "put", "2", "fk", "fn", "fv") == b"ok"
    # A script in a transaction: one MULTI/EXEC for all.
    c.send(resp("MULTI") + resp("EVAL", "redis.call('set', 'm1', 'x')", "0") +
           resp("SET", "m2", "y") + resp("EXEC"))
    assert [c.recv_reply() for _ in range(4)][-1] == [None, b"OK"]
    wait_synced(master, replica)
    r = replica.raw()
    assert r.call("GET", "k1") == b"v1"
    assert 0 < r.call("TTL", "k1") <= 100
    assert r.call("GET", "n") == b"1"
    assert r.call("LRANGE", "l", "0", "-1") == [b"b"]
    assert r.call("EXISTS", "aof_only", "nowhere") == 0
    assert r.call("GET", "everywhere") == b"1"
    assert r.call("MGET", "fk", "fn", "m1", "m2") == [b"fv", b"1", b"x", b"y"]
    # The library itself was replicated: the replica can run its read-only function.
    assert r.call("FCALL_RO", "get", "1", "fk") == b"fv"


def test_script_effects_in_the_aof(server_factory):
    server = server_factory("--appendonly", "yes")
    c = server.raw()
    assert c.call("EVAL", "redis.call('set', 'a', '1') redis.call('incr', 'a')", "0") is None
    assert c.call("EVAL", "return redis.call('set', 'single', '1')", "0") == b"OK"
    assert c.call("EVAL", "redis.set_repl(redis.REPL_REPLICA) redis.call('set', 'repl_only', 1)",
                  "0") is None
    assert c.call("EVAL", "redis.call('get', 'a')", "0") is None  # reads: nothing
    assert c.call("FUNCTION", "LOAD", LIB) == b"enginelib"
    assert c.call("FCALL", "put", "2", "fk", "fn", "fv") == b"ok"
    pu.wait_until(lambda: b"fv" in aof_text(server), 5.0, what="the AOF to be written")
    aof = aof_text(server)
    assert (resp("MULTI") + resp("set", "a", "1") + resp("incr", "a") + resp("EXEC")) in aof
    assert resp("set", "single", "1") in aof
    assert b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nset\r\n$6\r\nsingle" not in aof
    assert b"repl_only" not in aof
    assert b"eval" not in aof.lower()
    assert resp("FUNCTION", "LOAD", LIB) in aof
    assert (resp("MULTI") + resp("set", "fk", "fv") + resp("incr", "fn") + resp("EXEC")) in aof
    # Replaying it gives the same data and the library back.
    server.restart()
    c = server.raw()
    assert c.call("MGET", "a", "single", "repl_only", "fk", "fn") == \
        [b"2", b"1", None, b"fv", b"1"]
    assert c.call("FCALL_RO", "get", "1", "fk") == b"fv"


# ---------------------------------------------------------------------------- libraries on disk

def test_functions_survive_a_restart_through_the_rdb(server):
    c = server.raw()
    assert c.call("FUNCTION", "LOAD", LIB) == b"enginelib"
    listed = libraries(c)
    assert c.call("SAVE") == b"OK"
    server.restart()
    c = server.raw()
    assert libraries(c) == listed
    assert c.call("FCALL", "put", "2", "k", "n", "v") == b"ok"
    info = pu.info(server, "memory")
    assert info["number_of_functions"] == "3" and info["number_of_libraries"] == "1"
    # FLUSHALL empties the keyspace but keeps the libraries (Redis 7.0).
    assert c.call("FLUSHALL") == b"OK"
    assert c.call("FCALL_RO", "get", "1", "k") is None


def test_functions_survive_an_aof_rewrite_without_preamble(server_factory):
    srv = server_factory("--appendonly", "yes", "--aof-use-rdb-preamble", "no")
    c = srv.raw()
    assert c.call("FUNCTION", "LOAD", LIB) == b"enginelib"
    assert c.call("SET", "k", "v") == b"OK"
    assert c.call("BGREWRITEAOF").startswith(b"Background append only file rewriting")
    pu.wait_until(lambda: pu.info(srv)["aof_rewrite_in_progress"] == "0", 30.0,
                  what="the rewrite")
    pu.wait_until(lambda: any(b"FUNCTION" in f.read_bytes() for f in
                              (srv.dir / "appendonlydir").glob("*.base.aof")), 10.0,
                  what="the base file")
    srv.restart()
    c = srv.raw()
    assert c.call("FCALL_RO", "get", "1", "k") == b"v"


def test_rdb_with_functions_loads_both_ways(server_factory, redis_server_factory, tmp_path):
    ref = redis_server_factory()
    rc = ref.raw()
    assert rc.call("FUNCTION", "LOAD", LIB) == b"enginelib"
    assert rc.call("SET", "k", "from-redis") == b"OK"
    assert rc.call("SAVE") == b"OK"
    assert rc.call("CONFIG", "SET", "rdbcompression", "no") == b"OK"
    ref_dump = rc.call("FUNCTION", "DUMP")
    rdb = pu.copy_rdb(ref.dir / "dump.rdb", tmp_path / "ours")
    ours = pu.start_on_file(server_factory, rdb.parent, rdb.name)
    c = ours.raw()
    assert c.call("FCALL_RO", "get", "1", "k") == b"from-redis"
    # One library: the same DUMP payload byte for byte (uncompressed: the LZF coders differ).
    assert c.call("CONFIG", "SET", "rdbcompression", "no") == b"OK"
    assert c.call("FUNCTION", "DUMP") == ref_dump
    # And Redis loads what we save.
    assert c.call("FUNCTION", "LOAD", b"#!lua name=ours\n"
                  b"redis.register_function('ours', function() return 'redoubt' end)") == b"ours"
    assert c.call("SAVE") == b"OK"
    back = pu.copy_rdb(rdb, tmp_path / "back", "dump.rdb")
    ref2 = pu.start_on_file(redis_server_factory, back.parent, back.name)
    assert ref2.raw().call("FCALL", "ours", "0") == b"redoubt"


def test_function_dump_restore_across_servers(server, redis_server):
    c, rc = server.raw(), redis_server.raw()
    assert rc.call("FUNCTION", "LOAD", LIB) == b"enginelib"
    payload = rc.call("FUNCTION", "DUMP")
    assert c.call("FUNCTION", "RESTORE", payload) == b"OK"
    assert c.call("FCALL_RO", "get", "1", "nokey") is None
    # APPEND refuses an existing library with Redis's text; REPLACE and FLUSH take it.
    assert c.call("FUNCTION", "RESTORE", payload) == \
        rc.call("FUNCTION", "RESTORE", payload) == RespError(b"ERR Library enginelib already exists")
    assert c.call("FUNCTION", "RESTORE", payload, "REPLACE") == b"OK"
    assert c.call("FUNCTION", "RESTORE", payload, "FLUSH") == b"OK"
    # A damaged payload is refused before anything changes.
    bad = payload[:-1] + bytes([payload[-1] ^ 1])
    assert c.call("FUNCTION", "RESTORE", bad) == \
        RespError(b"ERR DUMP payload version or checksum are wrong")
    # Ours goes to Redis.
    assert c.call("FUNCTION", "FLUSH") == b"OK"
    assert c.call("FUNCTION", "LOAD", b"#!lua name=x\n"
                  b"redis.register_function('xf', function() return 42 end)") == b"x"
    assert rc.call("FUNCTION", "RESTORE", c.call("FUNCTION", "DUMP")) == b"OK"
    assert rc.call("FCALL", "xf", "0") == 42


def test_full_sync_replaces_the_replicas_libraries(server_factory, redis_server_factory):
    master = redis_server_factory("--repl-diskless-sync-delay", "0")
    mc = master.raw()
    assert mc.call("FUNCTION", "LOAD", LIB) == b"enginelib"
    replica = server_factory()
    c = replica.raw()
    assert c.call("FUNCTION", "LOAD", b"#!lua name=local\n"
                  b"redis.register_function('localf', function() return 1 end)") == b"local"
    # Same name as the master's: a sync that did not start from no library would fail on it.
    assert c.call("FUNCTION", "LOAD", LIB.replace(b"'spin'", b"'spin2'")) == b"enginelib"
    assert c.call("REPLICAOF", master.host, str(master.port)) == b"OK"
    wait_synced(master, replica)
    names = sorted(lib[1] for lib in c.call("FUNCTION", "LIST"))
    assert names == [b"enginelib"]
    assert c.call("FCALL", "localf", "0") == RespError(b"ERR Function not found")
    # The master's later FUNCTION LOAD arrives too.
    assert mc.call("FUNCTION", "LOAD", b"#!lua name=later\n"
                   b"redis.register_function{function_name='laterf', flags={'no-writes'}, "
                   b"callback=function() return 'later' end}") == b"later"
    wait_synced(master, replica)
    assert c.call("FCALL_RO", "laterf", "0") == b"later"


# The transport does not matter to what this file checks: one run, in the plain pass (keeps
# ./runtest under its 30-minute budget).
pytestmark = pytest.mark.plain_only("transport-independent: run once (plain)")
