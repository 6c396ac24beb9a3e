"""Pub/sub: (P|S)SUBSCRIBE, PUBLISH, PUBSUB introspection and keyspace
notifications, compared byte for byte with Debian's redis-server in RESP2
and RESP3, plus a redis-py listener thread."""

import shlex
import threading
import time

import pytest

# One connection: subscribed-mode rules, (un)subscribe replies, PUBSUB.
CASES = r"""
pubsub numpat
pubsub channels
pubsub numsub
pubsub numsub a b
pubsub shardchannels
pubsub shardnumsub x
pubsub help
pubsub foo
pubsub
publish
publish nobody msg
spublish nobody msg
unsubscribe
punsubscribe
sunsubscribe
unsubscribe a b
subscribe
subscribe c1 c2 c1
psubscribe p* q?
get x
set x 1
ping
ping hi
multi
publish c1 hello
publish pz hello
spublish c1 hello
pubsub numsub c1 c2 c3
pubsub numpat
pubsub channels
pubsub channels c1*
unsubscribe c1
punsubscribe q?
punsubscribe nope
ssubscribe s1 s2
sunsubscribe s1
spublish s2 smsg
pubsub shardchannels
pubsub shardnumsub s1 s2
unsubscribe
punsubscribe
sunsubscribe
get x
subscribe z
reset
get x
pubsub numsub z
"""


def _pair(server, redis_server, resp):
    ours, ref = server.raw(), redis_server.raw()
    if resp == 3:
        ours.call("HELLO", "3")
        ref.call("HELLO", "3")
    return ours, ref


def _send(conns, line):
    args = shlex.split(line)
    for c in conns:
        c.send_command(*args)


def _drain(conns):
    return [c.recv_available(0.15) for c in conns]


@pytest.mark.parametrize("resp", [2, 3])
def test_replies_match_redis(server, redis_server, resp):
    conns = _pair(server, redis_server, resp)
    failures = []
    for line in CASES.strip().splitlines():
        _send(conns, line)
        a, b = _drain(conns)
        if a != b:
            failures.append((line, a, b))
    assert not failures, "\n".join(f"{l!r}: redoubt={a!r} redis={b!r}"
                                   for l, a, b in failures)


@pytest.mark.parametrize("resp", [2, 3])
def test_messages_between_clients_match_redis(server, redis_server, resp):
    subs = _pair(server, redis_server, resp)
    pubs = _pair(server, redis_server, 2)
    failures = []
    steps = [(subs, "subscribe news"), (subs, "psubscribe n* x*"),
             (subs, "ssubscribe shard"),
             (pubs, "publish news 'hello world'"), (pubs, "publish nope x"),
             (pubs, "spublish shard sm"), (pubs, "publish other x"),
             (pubs, "pubsub numsub news shard"), (pubs, "pubsub numpat"),
             (subs, "unsubscribe news"), (pubs, "publish news again")]
    for conns, line in steps:
        _send(conns, line)
        for side in (subs, pubs):
            a, b = _drain(side)
            if a != b:
                failures.append((line, a, b))
    assert not failures, "\n".join(f"{l!r}: redoubt={a!r} redis={b!r}"
                                   for l, a, b in failures)


@pytest.mark.parametrize("resp", [2, 3])
def test_keyspace_notifications_match_redis(server, redis_server, resp):
    subs = _pair(server, redis_server, resp)
    writers = _pair(server, redis_server, 2)
    failures = []
    steps = [(writers, "config set notify-keyspace-events KEA"),
             (subs, "psubscribe __keyspace@0__:* __keyevent@0__:*"),
             (writers, "set k v"), (writers, "incr n"),
             (writers, "lpush l a b"), (writers, "expire k 100"),
             (writers, "del k n l"), (writers, "hset h f v"),
             (writers, "config set notify-keyspace-events ''"),
             (writers, "set k2 v")]
    for conns, line in steps:
        _send(conns, line)
        for side in (subs, writers):
            a, b = _drain(side)
            if a != b:
                failures.append((line, a, b))
    assert not failures, "\n".join(f"{l!r}: redoubt={a!r} redis={b!r}"
                                   for l, a, b in failures)


def test_info_and_client_list_counts(server):
    sub = server.raw()
    sub.send_command("SUBSCRIBE", "a", "b")
    sub.send_command("PSUBSCRIBE", "p*")
    sub.recv_available(0.2)
    c = server.raw()
    info = bytes(c.call("INFO", "stats")).decode()
    assert "pubsub_channels:2\r\n" in info
    assert "pubsub_patterns:1\r\n" in info
    listing = bytes(c.call("CLIENT", "LIST")).decode()
    assert " sub=2 psub=1 ssub=0 " in listing
    assert "flags=P" in listing
    sub.close()
    time.sleep(0.2)
    info = bytes(c.call("INFO", "stats")).decode()
    assert "pubsub_channels:0\r\n" in info
    assert "pubsub_patterns:0\r\n" in info


def test_redis_py_listener_thread(server):
    r = server.client(decode_responses=True)
    r.config_set("notify-keyspace-events", "KEA")
    p = r.pubsub()
    p.subscribe("chat")
    p.psubscribe("__keyspace@0__:*")
    got = []
    done = threading.Event()

    def listen():
        deadline = time.time() + 10
        while time.time() < deadline and not done.is_set():
            m = p.get_message(ignore_subscribe_messages=True, timeout=0.1)
            if m is None:
                continue
            got.append((m["type"], m["channel"], m["data"]))
            if m["type"] == "message" and m["data"] == "bye":
                done.set()

    t = threading.Thread(target=listen)
    t.start()
    time.sleep(0.2)
    assert r.publish("chat", "hi") == 1
    r.set("watched", "1")
    r.delete("watched")
    assert r.publish("chat", "bye") == 1
    t.join(15)
    p.close()
    assert ("message", "chat", "hi") in got
    assert ("pmessage", "__keyspace@0__:watched", "set") in got
    assert ("pmessage", "__keyspace@0__:watched", "del") in got
    assert got[-1] == ("message", "chat", "bye")
