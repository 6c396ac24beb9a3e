"""What a master sends its replicas for the commands Redis 7.0 rewrites before propagating them,
compared byte for byte with Debian's redis-server 7.0.15: LMPOP and BLMPOP become LPOP/RPOP key
n, ZMPOP and BZMPOP become ZPOPMIN/ZPOPMAX key n (n: the members actually popped), BLPOP/BRPOP
become LPOP/RPOP, BZPOPMIN/MAX become ZPOPMIN/MAX, BLMOVE becomes LMOVE and BRPOPLPUSH becomes
RPOPLPUSH; both when the command is served at once and when a blocked client is served by
another client's write. (Redis's own list.tcl checks this through a replication stream.)

A raw connection sends SYNC, skips the RDB and reads the stream that follows.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

import harness

pytestmark = pytest.mark.plain_only("transport-independent; runs once to keep ./runtest short")

IMMEDIATE = [
    ("LPUSH", "mylist{t}", "a", "b", "c"),
    ("LMPOP", "1", "mylist{t}", "LEFT", "COUNT", "1"),
    ("LMPOP", "1", "mylist{t}", "RIGHT", "COUNT", "1"),
    ("LMPOP", "2", "mylist{t}", "mylist2{t}", "RIGHT", "COUNT", "10"),
    ("LMPOP", "2", "mylist{t}", "mylist2{t}", "LEFT", "COUNT", "10"),  # nothing: not sent
    ("RPUSH", "mylist2{t}", "1", "2", "3"),
    ("LMPOP", "2", "mylist{t}", "mylist2{t}", "LEFT", "COUNT", "2"),
    ("BLMPOP", "0.01", "2", "mylist{t}", "mylist2{t}", "RIGHT", "COUNT", "5"),
    ("ZADD", "z{t}", "1", "a", "2", "b", "3", "c"),
    ("ZMPOP", "1", "z{t}", "MIN", "COUNT", "1"),
    ("ZMPOP", "2", "z{t}", "z2{t}", "MAX", "COUNT", "10"),
    ("ZMPOP", "1", "z{t}", "MIN"),
    ("ZADD", "z2{t}", "1", "x"),
    ("BZMPOP", "0.01", "2", "z{t}", "z2{t}", "MIN", "COUNT", "5"),
    ("ZADD", "z{t}", "1", "a", "2", "b"),
    ("BZPOPMIN", "z{t}", "0.01"),
    ("BZPOPMAX", "z{t}", "0.01"),
    ("RPUSH", "l", "1", "2", "3", "4"),
    ("BLPOP", "l", "0.01"),
    ("BRPOP", "l", "0.01"),
    ("BLMOVE", "l", "l2", "LEFT", "RIGHT", "0.01"),
    ("BRPOPLPUSH", "l", "l2", "0.01"),
    ("LMOVE", "l2", "l", "LEFT", "LEFT"),
    ("RPOPLPUSH", "l2", "l"),
]

# (blocking command, the write that serves it)
BLOCKED = [
    (("BLMPOP", "0", "2", "bl1", "bl2", "LEFT", "COUNT", "3"), ("RPUSH", "bl2", "a", "b")),
    (("BZMPOP", "0", "1", "bz", "MAX", "COUNT", "5"), ("ZADD", "bz", "1", "m", "2", "n")),
    (("BZPOPMIN", "bz2", "0"), ("ZADD", "bz2", "1", "m")),
    (("BLPOP", "bp", "0"), ("RPUSH", "bp", "x", "y")),
    (("BRPOPLPUSH", "bs", "bd", "0"), ("RPUSH", "bs", "x")),
    (("BLMOVE", "bs2", "bd", "RIGHT", "LEFT", "0"), ("RPUSH", "bs2", "x")),
]


def read_stream_after_sync(sock: socket.socket) -> bytes:
    """Skip SYNC's preamble (newlines) and the $<len> RDB; return what is already buffered."""
    buf = b""
    while True:
        buf = buf.lstrip(b"\n")
        if b"\r\n" in buf:
            break
        buf += sock.recv(65536)
    header, _, rest = buf.partition(b"\r\n")
    assert header.startswith(b"$"), header
    n = int(header[1:])
    while len(rest) < n:
        rest += sock.recv(65536)
    return rest[n:]


def stream_of(srv, blocked: bool) -> list[bytes]:
    sock = socket.create_connection((srv.host, srv.port), timeout=10)
    sock.sendall(b"SYNC\r\n")
    rest = read_stream_after_sync(sock)
    r = srv.client()
    if not blocked:
        for cmd in IMMEDIATE:
            r.execute_command(*cmd)
    else:
        for block, serve in BLOCKED:
            waiter = srv.client()
            result = {}
            t = threading.Thread(target=lambda: result.update(r=waiter.execute_command(*block)))
            t.start()
            # The waiter is blocked once INFO counts it.
            deadline = time.monotonic() + 10
            while int(r.info("clients")["blocked_clients"]) < 1:
                assert time.monotonic() < deadline, f"{block} did not block"
                time.sleep(0.005)
            r.execute_command(*serve)
            t.join(10)
            assert "r" in result, block
    r.execute_command("SET", "end-marker", "1")
    sock.settimeout(5)
    while b"end-marker" not in rest:
        rest += sock.recv(65536)
    sock.close()
    # PINGs are sent on a timer: leave them out.
    commands, items = [], rest.split(b"\r\n")
    i = 0
    while i < len(items):
        if items[i].startswith(b"*"):
            argc = int(items[i][1:])
            args = [items[i + 2 + 2 * k] for k in range(argc)]
            i += 1 + 2 * argc
            if args[0].upper() != b"PING":
                commands.append(b" ".join(args))
        else:
            i += 1
    return commands


@pytest.mark.parametrize("blocked", [False, True], ids=["served-at-once", "served-after-block"])
def test_pops_and_moves_propagate_as_redis_rewrites_them(server, redis_server, blocked):
    ours = stream_of(server, blocked)
    theirs = stream_of(redis_server, blocked)
    assert ours == theirs
    assert any(c.startswith((b"LPOP", b"RPOP", b"ZPOPMIN", b"ZPOPMAX")) for c in theirs), theirs
