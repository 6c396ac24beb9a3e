"""Transactions: MULTI EXEC DISCARD WATCH UNWATCH against Debian's redis-server.

Replies (errors, QUEUED, EXEC arrays, null on a dirty WATCH) must match Redis
7.0 byte for byte in RESP2 and RESP3; a redis-py session checks pipelines and
the WATCH retry loop.
"""

import shlex
import threading

import pytest

CASES = r"""
flushall
exec
discard
multi
multi
set a 1
incr a
lpush a x
get a
exec
exec
multi
exec
multi
set a
get a
exec
multi
nosuchcommand 1 2
exec
multi
set b 2
discard
get b
multi
watch a
discard
unwatch
watch a b
unwatch
watch
multi
blpop nolist 0
brpop nolist 1
exec
multi
ping
echo hi
del a
exec
"""


def _pair(server, redis_server, resp):
    ours, ref = server.raw(), redis_server.raw()
    if resp == 3:
        ours.call("HELLO", "3")
        ref.call("HELLO", "3")
    return ours, ref


def _run(conns, line):
    args = shlex.split(line)
    for c in conns:
        c.send_command(*args)
    return [c.recv_reply_raw() for c in conns]


@pytest.mark.parametrize("resp", [2, 3])
def test_replies_match_redis(server, redis_server, resp):
    ours, ref = _pair(server, redis_server, resp)
    failures = []
    for line in CASES.strip().splitlines():
        a, b = _run((ours, ref), line)
        if a != b:
            failures.append((line, a, b))
    assert not failures, "\n".join(f"{l!r}: redoubt={a!r} redis={b!r}"
                                   for l, a, b in failures)


# Each scenario: (watcher steps before EXEC, other-client steps). The watcher
# runs WATCH/MULTI/queued commands, the other client interferes, then EXEC.
SCENARIOS = [
    (["set k 1", "watch k", "multi", "incr k"], ["set k 5"]),
    (["set k 1", "watch k", "multi", "incr k"], ["get k"]),
    (["set k 1", "watch k", "multi", "incr k"], ["flushall"]),
    (["del k", "watch k", "multi", "incr k"], ["flushdb"]),
    (["set k 1", "watch k", "multi", "incr k"], ["select 1", "set k 1", "swapdb 0 1"]),
    (["set k 1", "watch k", "multi", "incr k"], ["del k"]),
    (["set k 1", "watch k", "unwatch", "multi", "incr k"], ["set k 9"]),
    (["del k", "watch k", "multi", "incr k"], ["del k"]),
    (["set k 1", "watch k", "multi", "incr k"], ["expire k 100"]),
    (["set k 1 px 30", "watch k", "debug sleep 0.1", "multi", "incr k"], []),
]


@pytest.mark.parametrize("resp", [2, 3])
@pytest.mark.parametrize("idx", range(len(SCENARIOS)))
def test_watch_invalidation_matches_redis(server, redis_server, resp, idx):
    mine, other = SCENARIOS[idx]
    failures = []
    watchers = _pair(server, redis_server, resp)
    others = _pair(server, redis_server, resp)
    for conns, steps in ((watchers, ["flushall"] + mine), (others, other),
                         (watchers, ["exec", "get k"])):
        for line in steps:
            a, b = _run(conns, line)
            if a != b:
                failures.append((line, a, b))
    assert not failures, "\n".join(f"{l!r}: redoubt={a!r} redis={b!r}"
                                   for l, a, b in failures)


def test_client_list_multi_and_reset(server):
    c = server.raw()
    c.call("MULTI")
    c.call("SET", "x", "1")
    c.call("GET", "x")
    listing = server.raw().call("CLIENT", "LIST")
    assert b" multi=2 " in bytes(listing)
    c.send_command("RESET")
    assert c.recv_reply_raw() == b"+RESET\r\n"
    # After RESET there is no transaction any more.
    c.send_command("EXEC")
    assert c.recv_reply_raw() == b"-ERR EXEC without MULTI\r\n"
    assert c.call("EXISTS", "x") == 0


@pytest.mark.parametrize("mode", ["SKIP", "OFF", "ON"])
def test_client_reply_refused_inside_multi(server, mode):
    # Redis 7.0 queues CLIENT REPLY; run by EXEC it leaves the EXEC array
    # short of elements (filled by later replies), a broken stream. Refused
    # like the other no-multi commands (as Valkey 9 does); the transaction
    # aborts and the connection stays in step.
    c = server.raw()
    c.send_command("MULTI")
    assert c.recv_reply_raw() == b"+OK\r\n"
    c.send_command("CLIENT", "REPLY", mode)
    assert c.recv_reply_raw() == \
        b"-ERR Command not allowed inside a transaction\r\n"
    c.send_command("EXEC")
    assert c.recv_reply_raw().startswith(b"-EXECABORT")
    c.send_command("PING")
    assert c.recv_reply_raw() == b"+PONG\r\n"


def test_redis_py_pipeline_and_watch_retry(server):
    r = server.client(decode_responses=True)
    other = server.client(decode_responses=True)
    r.set("counter", 10)
    pipe = r.pipeline(transaction=True)
    pipe.incr("counter").get("counter").lpush("l", "a", "b").lrange("l", 0, -1)
    assert pipe.execute() == [11, "11", 2, ["b", "a"]]

    attempts = 0
    with r.pipeline() as p:
        while True:
            try:
                p.watch("counter")
                value = int(p.get("counter"))
                attempts += 1
                if attempts == 1:
                    # Another client changes the watched key: EXEC must fail.
                    other.incr("counter", 100)
                p.multi()
                p.set("counter", value * 2)
                p.execute()
                break
            except Exception as exc:  # redis.WatchError
                assert type(exc).__name__ == "WatchError"
                assert attempts < 5
                continue
    assert attempts == 2
    assert r.get("counter") == str(111 * 2)

    # Non-transactional pipeline and an error inside EXEC.
    p = r.pipeline(transaction=False)
    p.set("s", "v").get("s")
    assert p.execute() == [True, "v"]
    p = r.pipeline(transaction=True)
    p.set("s", "v").lpush("s", "x").get("s")
    res = p.execute(raise_on_error=False)
    assert res[0] is True and res[2] == "v"
    assert "WRONGTYPE" in str(res[1])


def test_concurrent_watch_retry_threads(server):
    server.client().set("n", 0)
    errors = []

    def worker():
        r = server.client(decode_responses=True)
        try:
            for _ in range(20):
                with r.pipeline() as p:
                    for _attempt in range(1000):
                        try:
                            p.watch("n")
                            v = int(p.get("n"))
                            p.multi()
                            p.set("n", v + 1)
                            p.execute()
                            break
                        except Exception as exc:
                            if type(exc).__name__ != "WatchError":
                                raise
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert int(server.client().get("n")) == 60
