"""Proves the harness itself works: RESP parsing, every client kind, logs, crash detection inputs,
and a byte-exact comparison against Debian's redis-server."""

import os

import pytest

import harness
from harness import RespError, SimpleString, parse_reply


def test_resp_parser_handles_resp2_and_resp3():
    wire = (b"*7\r\n+OK\r\n-ERR bad\r\n:42\r\n$3\r\nfoo\r\n$-1\r\n*2\r\n_\r\n#t\r\n"
            b"%1\r\n+k\r\n,1.5\r\n")
    value, end = parse_reply(wire)
    assert end == len(wire)
    assert value == [b"OK", RespError(b"ERR bad"), 42, b"foo", None, [None, True], {b"k": 1.5}]
    assert isinstance(value[0], SimpleString)
    assert isinstance(value[1], RespError) and value[1].code == b"ERR"
    # An incomplete reply is not an error: the client waits for more bytes.
    with pytest.raises(harness._NeedMore):
        parse_reply(b"$5\r\nab")


def test_server_answers_every_client_kind(server):
    assert server.pid and server.pid > 0
    os.kill(server.pid, 0)  # alive
    assert server.client().ping() is True

    out, rc = server.cli("ping")
    assert (out, rc) == ("PONG\n", 0)

    with server.raw() as r:
        assert r.call("SET", "harness:k", "v") == b"OK"
        assert r.call("GET", "harness:k") == b"v"
        r.send(b"PING\r\n")  # inline command
        reply = r.recv_reply()
        assert reply == b"PONG" and isinstance(reply, SimpleString)

    assert server.client().get(b"harness:k") == b"v"
    assert server.log_path.parent == server.dir
    assert server.log_text() != ""


def test_unknown_command_error_matches_redis_byte_for_byte(server, redis_server):
    request = b"*2\r\n$9\r\nNOSUCHCMD\r\n$3\r\narg\r\n"
    replies = []
    for srv in (server, redis_server):
        with srv.raw() as r:
            r.send(request)
            replies.append(r.recv_reply_raw())
    assert replies[0] == replies[1]
    assert replies[1] == b"-ERR unknown command 'NOSUCHCMD', with args beginning with: 'arg' \r\n"
