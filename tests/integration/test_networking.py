"""Networking layer: request parsing, protocol errors, reply buffers, limits.

Protocol-level cases are sent as raw bytes to Redoubt and to Debian's
redis-server 7.0 and must produce identical bytes (including whether the
connection is closed). Limits (maxclients, output and query buffer limits,
idle timeout) are checked for the user-visible effect and the log line.
"""

import re
import socket
import time

import pytest

# Each case: raw bytes sent in one write. The reply bytes and whether the
# server closed the connection must match redis-server exactly.
PROTOCOL_CASES = [
    b"*99999999999\r\n",
    b"*abc\r\n",
    b"*\r\n",
    b"*-5\r\nPING\r\n",
    b"*0\r\nPING\r\n",
    b"*1\r\nx3\r\nabc\r\n",
    b"*1\r\n$abc\r\n",
    b"*1\r\n$-1\r\n",
    b"*1\r\n$536870913\r\n",
    b"*1\r\n$4\r\nPINGxx",
    b"*1\r\n$4\r\nPING\r\n",
    b'PING "a\r\n',
    b"ECHO 'a\r\n",
    b'ECHO "a"b\r\n',
    b'ECHO "\\x41\\n"\r\n',
    b"\r\n\r\nPING\r\n",
    b"PING\n",
    b"   \r\nPING\r\n",
    b"*1\r\n$+4\r\nPING\r\n",
    b"*+1\r\n$4\r\nPING\r\n",
    b"*01\r\n$04\r\nPING\r\n",
    b"*1 \r\n$4\r\nPING\r\n",
    b"*1\n$4\r\nPING\r\n",
    b"*1\r$4\r\nPING\r\n",
    b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
    b'ECHO ""\r\n',
    b"*1\r\n*1\r\n",
    b"*1\r\n\r\n",
    b"*3\r\n$4\r\nECHO\r\n$1\r\na\r\n:5\r\n",
    b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n*x\r\n",
    b"*1\r\n$" + b"1" * 70000,
    b"PING\x00\r\n",
]


def exchange(srv, data, wait=0.3):
    """Send data, return (bytes received, closed?)."""
    c = srv.raw()
    try:
        c.send(data)
        time.sleep(wait)
        got = c.recv_available(0.3)
        closed = c.is_closed(0.3)
        return got + c.buf, closed
    finally:
        c.close()


@pytest.mark.plain_only("compares with the plain reference redis-server")
@pytest.mark.parametrize("data", PROTOCOL_CASES, ids=lambda d: repr(d[:24]))
def test_protocol_bytes_match_redis(server, redis_server, data):
    ours = exchange(server, data)
    theirs = exchange(redis_server, data)
    assert ours == theirs


def test_protocol_error_closes_after_reply(server):
    c = server.raw()
    c.send(b"*1\r\n$4\r\nPING\r\n*x\r\n")
    assert c.recv_reply_raw() == b"+PONG\r\n"
    assert c.recv_reply_raw() == b"-ERR Protocol error: invalid multibulk length\r\n"
    assert c.is_closed()


def test_too_big_inline_request(server):
    c = server.raw()
    try:
        c.send(b"x" * (70 * 1024))
    except OSError:
        pass
    assert c.recv_reply_raw() == b"-ERR Protocol error: too big inline request\r\n"


def test_byte_by_byte_pipeline(server):
    c = server.raw()
    payload = b""
    for i in range(30):
        payload += b"*3\r\n$3\r\nSET\r\n$2\r\nk%d\r\n$1\r\n%d\r\n" % (i % 10, i % 10)
    payload += b"GET k7\r\n"
    for i in range(len(payload)):
        c.send(payload[i:i + 1])
    for _ in range(30):
        assert c.recv_reply_raw() == b"+OK\r\n"
    assert c.recv_reply_raw() == b"$1\r\n7\r\n"


def test_big_values_round_trip(server):
    r = server.client()
    for n in (0, 1, 16383, 16384, 16385, 32767, 32768, 100000, 1 << 20, 5 * (1 << 20) + 3):
        v = bytes((i * 7) % 256 for i in range(n))
        assert r.set(b"big%d" % n, v)
        assert r.get(b"big%d" % n) == v
    # Many large replies in one pipeline: reply blocks and writev.
    p = r.pipeline(transaction=False)
    for _ in range(20):
        p.get(b"big%d" % (1 << 20))
    assert all(len(x) == 1 << 20 for x in p.execute())


def test_large_pipeline(server):
    r = server.client()
    p = r.pipeline(transaction=False)
    for i in range(20000):
        p.set(b"p%d" % i, i)
    for i in range(20000):
        p.get(b"p%d" % i)
    res = p.execute()
    assert res[20000:] == [str(i).encode() for i in range(20000)]


def test_unknown_command_counts_error(server):
    c = server.raw()
    reply = c.call("NOSUCHCMD", "a")
    assert repr(reply).find("unknown command") >= 0


def test_maxclients(server):
    r = server.client()
    r.config_set("maxclients", 3)
    try:
        keep = [server.raw() for _ in range(2)]
        for k in keep:
            assert k.call("PING") is not None
        c = server.raw()
        data = c.recv_available(0.5)
        assert data == b"-ERR max number of clients reached\r\n"
        assert c.is_closed()
        for k in keep:
            k.close()
    finally:
        time.sleep(0.2)
        server.client().config_set("maxclients", 10000)


def test_output_buffer_limit_closes_client(server):
    r = server.client()
    r.set("big", b"x" * 100000)
    r.config_set("client-output-buffer-limit", "normal 1mb 0 0")
    try:
        c = server.raw()
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.send(b"GET big\r\n" * 200)
        assert server.wait_for_log("scheduled to be closed ASAP for overcoming of output buffer limits.")
        assert c.is_closed(5)
    finally:
        r.config_set("client-output-buffer-limit", "normal 0 0 0")


def test_query_buffer_limit_closes_client(server):
    r = server.client()
    r.config_set("client-query-buffer-limit", "1mb")
    try:
        c = server.raw()
        try:
            c.send(b"*2\r\n$3\r\nSET\r\n$3000000\r\n" + b"a" * 1100000)
        except OSError:
            pass
        assert c.is_closed(5)
        assert server.wait_for_log("Closing client that reached max query buffer length")
    finally:
        r.config_set("client-query-buffer-limit", "1gb")


def test_idle_timeout(server):
    r = server.client()
    r.config_set("timeout", 1)
    try:
        c = server.raw()
        assert c.call("PING") is not None
        start = time.time()
        assert c.is_closed(6)
        assert 0.9 <= time.time() - start <= 5
    finally:
        # r itself sat idle meanwhile and was closed: use a new connection.
        server.client().config_set("timeout", 0)


@pytest.mark.plain_only("compares with the plain reference redis-server")
def test_client_list_fields_match_redis(server, redis_server):
    def fields(srv):
        line = srv.raw().call("CLIENT", "LIST")
        line = bytes(line).decode().strip().split("\n")[-1]
        return [kv.split("=", 1)[0] for kv in line.split(" ")]

    assert fields(server) == fields(redis_server)


def test_client_list_values(server):
    r = server.client()
    r.set("k", "v")
    line = r.execute_command("CLIENT", "LIST")
    if isinstance(line, bytes):
        line = line.decode()
    d = dict(kv.split("=", 1) for kv in line.strip().split("\n")[-1].split(" "))
    assert d["laddr"].endswith(":%d" % server.port)
    assert d["flags"] == "N"
    assert d["cmd"] == "client|list"
    assert d["resp"] == "2"
    assert d["rbs"] == "16384"
    assert d["multi"] == "-1"
    assert d["events"] == "r"


def test_monitor_format(server):
    m = server.raw()
    assert m.call("MONITOR") is not None
    r = server.client()
    r.set("mk", b"v a\x01")
    line = m.recv_reply_raw()
    assert re.match(rb'^\+\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "(?:set|SET)" "mk" "v a\\x01"\r\n$', line), line


def test_client_pause_postpones_not_rejects(server):
    r = server.client()
    assert r.execute_command("CLIENT", "PAUSE", 800, "WRITE")
    start = time.time()
    assert r.get("nope") is None  # reads pass a WRITE pause
    assert time.time() - start < 0.5
    start = time.time()
    assert r.set("pk", "1")  # writes wait for the pause to end
    assert time.time() - start >= 0.6
    assert r.get("pk") == b"1"
    # ALL pauses everything; CLIENT UNPAUSE from another client is postponed
    # too (Redis 7.0), so the pause simply expires.
    assert r.execute_command("CLIENT", "PAUSE", 500, "ALL")
    start = time.time()
    assert server.client().ping()
    assert time.time() - start >= 0.4


def test_pipelined_commands_after_pause_keep_order(server):
    r = server.client()
    c = server.raw()
    assert r.execute_command("CLIENT", "PAUSE", 300, "WRITE")
    c.send(b"SET o 1\r\nINCR o\r\nGET o\r\n")
    assert c.recv_reply_raw() == b"+OK\r\n"
    assert c.recv_reply_raw() == b":2\r\n"
    assert c.recv_reply_raw() == b"$1\r\n2\r\n"


def test_unauthenticated_limits_even_when_split(server_factory):
    srv = server_factory("--requirepass", "pw")
    for chunks, err in (
        ([b"*1", b"1\r\n"], b"-ERR Protocol error: unauthenticated multibulk length\r\n"),
        ([b"*1\r\n$163", b"85\r\n"], b"-ERR Protocol error: unauthenticated bulk length\r\n"),
    ):
        c = srv.raw()
        for ch in chunks:
            c.send(ch)
            time.sleep(0.05)
        assert c.recv_reply_raw() == err
        assert c.is_closed()
    c = srv.raw()
    assert c.call("AUTH", "pw") == b"OK"
    c.send(b"*11\r\n" + b"$1\r\na\r\n" * 11)
    assert repr(c.recv_reply()).find("unknown command") >= 0
