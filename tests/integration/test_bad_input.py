"""Bad input from one client gets that client a clear error or a disconnect; memory stays
bounded and the server keeps serving everyone else (issue: foundation, "Bad input")."""

import os
import random
import time

import pytest


def assert_still_serving(server):
    c = server.client()
    assert c.set(b"alive", b"yes") is True
    assert c.get(b"alive") == b"yes"


def rss_bytes(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def protocol_error_then_close(server, payload):
    with server.raw() as r:
        r.send(payload)
        data = r.recv_available(wait=1.0)
        closed = r.is_closed(wait=3.0)
    return data, closed


@pytest.mark.parametrize(
    "payload,expected",
    [
        (b"*99999999999\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*1\r\n$629145600\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\n$-5\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\nfoo\r\n", b"-ERR Protocol error: expected '$', got 'f'\r\n"),
        (b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b'SET "unbalanced\r\n', b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    ],
)
def test_protocol_errors_match_redis_and_close_only_that_client(server, redis_server, payload,
                                                                expected):
    other = server.raw()
    assert other.call("PING") == b"PONG"
    data, closed = protocol_error_then_close(server, payload)
    assert data == expected
    assert closed
    # The same bytes get the same answer from Redis (plain mode reference).
    ref, ref_closed = protocol_error_then_close(redis_server, payload)
    assert ref == expected and ref_closed
    # A connection opened before the bad one is unaffected.
    assert other.call("PING") == b"PONG"
    assert_still_serving(server)


def test_never_ending_inline_line_is_cut(server):
    with server.raw() as r:
        # One byte past the 64 KB inline limit, and no newline ever.
        r.send(b"A" * (64 * 1024 + 1))
        got_error = r.recv_available(wait=1.0)
        assert got_error == b"-ERR Protocol error: too big inline request\r\n"
        assert r.is_closed(wait=3.0)
    assert_still_serving(server)


def test_random_bytes_do_not_hurt_other_clients(server):
    rng = random.Random(1234)
    keeper = server.client()
    keeper.set(b"k", b"v")
    for _ in range(30):
        blob = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 4096)))
        try:
            with server.raw(timeout=2.0) as r:
                r.send(blob)
                r.recv_available(wait=0.05)
        except OSError:
            pass
        assert keeper.get(b"k") == b"v"
    assert_still_serving(server)


def test_huge_bulk_announced_and_trickled_is_bounded_by_query_buffer_limit(server_factory):
    srv = server_factory("--client-query-buffer-limit", "1mb")
    before = rss_bytes(srv.pid)
    with srv.raw() as r:
        r.send(b"*2\r\n$3\r\nSET\r\n$500000000\r\n")
        sent = 0
        try:
            while sent < 8 * 1024 * 1024:
                r.send(b"x" * 65536)
                sent += 65536
        except OSError:
            pass
        assert r.is_closed(wait=3.0)
    assert srv.wait_for_log("query buffer", timeout=3.0)
    assert rss_bytes(srv.pid) - before < 64 * 1024 * 1024
    assert_still_serving(srv)


def test_client_that_never_reads_is_disconnected_at_output_limit(server_factory):
    srv = server_factory("--client-output-buffer-limit", "normal 1mb 0 0")
    c = srv.client()
    c.set(b"big", b"x" * 100_000)
    r = srv.raw()
    r.settimeout(5)
    # 200 GETs of 100 KB = 20 MB of replies that this client never reads.
    r.send(b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n" * 200)
    deadline = time.time() + 5
    while time.time() < deadline and not srv.wait_for_log("output buffer limits", timeout=0.2):
        pass
    assert srv.wait_for_log("output buffer limits", timeout=1.0)
    assert c.get(b"big") == b"x" * 100_000
    assert r.is_closed(wait=5.0)
    assert_still_serving(srv)


def test_maxclients_reply_text(server_factory):
    srv = server_factory("--maxclients", "3")
    held = [srv.raw() for _ in range(3)]
    for h in held:
        assert h.call("PING") == b"PONG"
    with srv.raw() as extra:
        data = extra.recv_available(wait=1.0)
        assert data == b"-ERR max number of clients reached\r\n"
    held[0].close()
    time.sleep(0.2)
    with srv.raw() as again:
        assert again.call("PING") == b"PONG"


def test_idle_timeout_closes_idle_clients(server_factory):
    srv = server_factory("--timeout", "1")
    r = srv.raw()
    assert r.call("PING") == b"PONG"
    assert r.is_closed(wait=5.0)
    assert_still_serving(srv)
