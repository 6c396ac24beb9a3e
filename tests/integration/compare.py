"""Shared helpers for tests that compare Redoubt's replies with redis-server's
byte for byte.

RawConnection is built from a redis-py client's connection parameters (so
plain and TLS modes both work) and returns each reply as its exact bytes;
parse_resp turns such bytes into Python values for shape checks.
"""

import socket
import ssl

# Bound on one reply's size so a broken server cannot make a test hang on
# an endless read.
MAX_REPLY_BYTES = 64 * 1024 * 1024
SOCKET_TIMEOUT_SECONDS = 10


class RawConnection:
    """A socket speaking RESP that returns each reply as its exact bytes.

    `encoding` is how str arguments become bytes: test_strings sends UTF-8,
    test_zsets sends latin-1 (one byte per code point), and the tables were
    written for those encodings.
    """

    def __init__(self, client, encoding="utf-8"):
        self.encoding = encoding
        kwargs = client.connection_pool.connection_kwargs
        host = kwargs.get("host", "127.0.0.1")
        port = kwargs.get("port", 6379)
        sock = socket.create_connection((host, port), SOCKET_TIMEOUT_SECONDS)
        sock.settimeout(SOCKET_TIMEOUT_SECONDS)
        if kwargs.get("ssl_certfile") or kwargs.get("ssl_ca_certs") or \
                "ssl_cert_reqs" in kwargs:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            if kwargs.get("ssl_ca_certs"):
                ctx.load_verify_locations(kwargs["ssl_ca_certs"])
            if kwargs.get("ssl_certfile"):
                ctx.load_cert_chain(kwargs["ssl_certfile"],
                                    kwargs.get("ssl_keyfile"))
            sock = ctx.wrap_socket(sock)
        self.sock = sock
        self.buf = b""
        password = kwargs.get("password")
        if password:
            self.command("AUTH", password)

    def close(self):
        self.sock.close()

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed by server")
        self.buf += data
        if len(self.buf) > MAX_REPLY_BYTES:
            raise ValueError("reply too large")

    def _read_line(self, pos):
        while True:
            idx = self.buf.find(b"\r\n", pos)
            if idx >= 0:
                return idx + 2
            self._fill()

    def _read_reply_end(self, pos):
        """Returns the offset right after the reply that starts at pos."""
        while len(self.buf) <= pos:
            self._fill()
        kind = self.buf[pos:pos + 1]
        end = self._read_line(pos)
        header = self.buf[pos + 1:end - 2]
        if kind in (b"+", b"-", b":", b",", b"#", b"_", b"("):
            return end
        if kind in (b"$", b"=", b"!"):
            n = int(header)
            if n < 0:
                return end
            while len(self.buf) < end + n + 2:
                self._fill()
            return end + n + 2
        if kind in (b"*", b"~", b">", b"%", b"|"):
            n = int(header)
            if n < 0:
                return end
            if kind in (b"%", b"|"):
                n *= 2
            for _ in range(n):
                end = self._read_reply_end(end)
            if kind == b"|":  # an attribute precedes the real reply
                end = self._read_reply_end(end)
            return end
        raise ValueError("bad RESP type byte %r in %r" % (kind, self.buf[pos:pos + 40]))

    def read_reply(self):
        """Returns the exact bytes of the next reply (or push message)."""
        end = self._read_reply_end(0)
        reply, self.buf = self.buf[:end], self.buf[end:]
        return reply

    def send(self, *args):
        """Sends one command without reading its reply."""
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, str):
                a = a.encode(self.encoding)
            elif isinstance(a, (int, float)):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))

    def command(self, *args):
        """Sends one command and returns its reply's exact bytes."""
        self.send(*args)
        return self.read_reply()


def parse_resp(data):
    """Parses raw RESP bytes into Python values (for shape checks)."""
    def parse(pos):
        kind = data[pos:pos + 1]
        end = data.index(b"\r\n", pos)
        header = data[pos + 1:end]
        pos = end + 2
        if kind == b"+":
            return header.decode(), pos
        if kind == b"-":
            return ("error", header.decode()), pos
        if kind == b":":
            return int(header), pos
        if kind == b"_":
            return None, pos
        if kind == b",":
            return float(header), pos
        if kind == b"#":
            return header == b"t", pos
        if kind in (b"$", b"=", b"!"):
            n = int(header)
            if n < 0:
                return None, pos
            return data[pos:pos + n], pos + n + 2
        if kind in (b"*", b"~", b">", b"%"):
            n = int(header)
            if n < 0:
                return None, pos
            if kind == b"%":
                n *= 2
            items = []
            for _ in range(n):
                item, pos = parse(pos)
                items.append(item)
            return items, pos
        raise ValueError("unsupported type %r" % kind)
    value, _ = parse(0)
    return value


# ---------------------------------------------------------------------------
# Replaying command groups on Redoubt and Redis
# ---------------------------------------------------------------------------
def missing_commands(conn, names):
    """The names among `names` that the server behind `conn` does not know."""
    missing = []
    for name in names:
        if parse_resp(conn.command("COMMAND", "INFO", name)) == [None]:
            missing.append(name)
    return missing


def run_group(conn, commands, prefix):
    """Sends each command ("@x" arguments become prefix + "x") and returns the raw replies."""
    replies = []
    for cmd in commands:
        args = [prefix + a[1:] if a.startswith("@") else a for a in cmd]
        replies.append(conn.command(*args))
    return replies


def compare_command_group(server, redis_server, commands, requires, tag, resp3=False,
                          connect=None):
    """Replays `commands` on Redoubt and on Redis (fresh keys under a unique prefix) and fails
    with every reply that differs byte for byte. Skips when Redoubt lacks a command in
    `requires`. `connect(client)` opens the raw connection (default: RawConnection)."""
    import uuid

    import pytest

    connect = connect or RawConnection
    ours = connect(server.client())
    theirs = connect(redis_server.client())
    try:
        if resp3:
            ours.command("HELLO", "3")  # server identity differs: not compared
            theirs.command("HELLO", "3")
        missing = missing_commands(ours, requires)
        if missing:
            pytest.skip("Redoubt lacks %s (another module)" % ", ".join(missing))
        prefix = "%s:%s:" % (tag, uuid.uuid4().hex[:8])
        got = run_group(ours, commands, prefix)
        want = run_group(theirs, commands, prefix)
    finally:
        ours.close()
        theirs.close()
    mismatches = []
    for cmd, g, w in zip(commands, got, want):
        if g != w:
            mismatches.append("%r\n    redoubt: %r\n    redis:   %r" % (cmd, g, w))
    assert not mismatches, "%d/%d replies differ from Redis:\n%s" % (
        len(mismatches), len(commands), "\n".join(mismatches))
