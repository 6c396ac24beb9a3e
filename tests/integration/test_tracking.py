"""Client-side caching (CLIENT TRACKING) against Redoubt, compared byte for byte with Debian's
redis-server (7.0.15).

Each scenario is a script of commands on several connections to one server (a tracking
client, the client it redirects to, a writer): it runs once on Redoubt and once on Redis,
and the two transcripts (every reply and every push, in the order each connection received
them) must be identical. Client ids differ between the servers; the replies that carry one
(CLIENT GETREDIR, TRACKINGINFO, tracking-redir-broken) have it replaced by its connection's
name first. Nothing sleeps to wait for a message: a push is read as the next reply of its
connection, and "nothing arrived" is a PING whose reply comes first.

Covered: default mode (RESP3 pushes, RESP2 REDIRECT to a __redis__:invalidate subscriber or a
RESP3 client), which keys each write command of every family invalidates, BCAST with prefixes (keys sorted, one message per prefix), OPTIN/OPTOUT with
CLIENT CACHING, NOLOOP, flushes (null invalidation), expired and evicted keys, a redirect
client that went away (tracking-redir-broken), invalidations held until after the reply of
the command (or transaction, or unblocked BLMOVE) that caused them, scripts (the declared
keys of a script that reads), CLIENT REPLY OFF, tracking-table-max-keys, every error text,
CLIENT TRACKINGINFO / GETREDIR, CLIENT LIST flags and redir=, the INFO counters, COMMAND
INFO/DOCS of the subcommands, and the redis-py client's tracking helpers.

Deliberate difference, asserted on Redoubt alone: Redis 7.0 (and 7.4) answers
CLIENT TRACKING ON BCAST PREFIX a PREFIX b PREFIX bc with the overlap error AND +OK (two replies
to one command, tracking enabled) when the overlap is not at the first prefix; Redoubt sends
the error only.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_tracking.py
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any, Optional

import pytest

import harness

PLAIN_ONLY = pytest.mark.plain_only("transport-independent; runs once to keep ./runtest short")
READ_TIMEOUT_S = 10.0


# ---------------------------------------------------------------------------- the server pair
class Pair:
    """Redoubt and Redis, started once for the module (plain TCP)."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.ours = self._start(harness.server_binary(), "ours")
        self.theirs = self._start(Path(harness.DEBIAN_REDIS_SERVER), "redis")

    def _start(self, binary: Path, name: str) -> harness.ServerProcess:
        srv = harness.ServerProcess(binary, self.tmp.mktemp(f"tracking-{name}"), mode="plain",
                                    name=name, args=["--enable-debug-command", "yes"])
        try:
            srv.start()
        except (harness.ServerCrashed, FileNotFoundError) as e:
            pytest.fail(f"{name} did not start: {e}", pytrace=False)
        return srv

    def reset(self) -> None:
        """Every other connection killed, data flushed, tracking settings back to defaults."""
        for srv in (self.ours, self.theirs):
            with srv.raw(timeout=READ_TIMEOUT_S) as c:
                for args in (["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"],
                             ["CLIENT", "KILL", "TYPE", "pubsub", "SKIPME", "yes"],
                             ["CONFIG", "SET", "tracking-table-max-keys", "1000000"],
                             ["CONFIG", "SET", "maxmemory", "0"],
                             ["CONFIG", "SET", "maxmemory-policy", "noeviction"],
                             ["DEBUG", "SET-ACTIVE-EXPIRE", "1"],
                             ["FLUSHALL"], ["SCRIPT", "FLUSH"], ["FUNCTION", "FLUSH"]):
                    reply = c.call(*args)
                    assert not isinstance(reply, harness.RespError), (srv.name, args, reply)

    def close(self) -> list[str]:
        problems = []
        for srv in (self.ours, self.theirs):
            srv.stop()
            reason = srv.crash_reason()
            if reason:
                problems.append(f"{srv.name} {reason}\n{srv.log_tail()}")
        return problems


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    if not Path(harness.DEBIAN_REDIS_SERVER).exists():
        pytest.skip("Debian redis-server not installed (apt-get install redis-server)")
    p = Pair(tmp_path_factory)
    yield p
    problems = p.close()
    if problems:
        pytest.fail("server crash detected:\n" + "\n".join(problems), pytrace=False)


# ---------------------------------------------------------------------------- transcripts
class Session:
    """The connections of one scenario on one server, and what they received."""

    def __init__(self, srv: harness.ServerProcess):
        self.srv = srv
        self.log: list[tuple[str, Any, bytes]] = []
        self.ids: dict[int, str] = {}
        self.conns: list[Conn] = []

    def conn(self, name: str, resp: int = 2) -> "Conn":
        c = Conn(self, name, self.srv.raw(timeout=READ_TIMEOUT_S))
        c.id = c.raw.call("CLIENT", "ID")
        self.ids[c.id] = name
        if resp == 3:
            c.raw.call("HELLO", "3")
        self.conns.append(c)
        return c

    def normalize(self, reply: bytes) -> bytes:
        for cid, name in self.ids.items():
            reply = reply.replace(b":%d\r\n" % cid, b":<%s>\r\n" % name.encode())
        return reply

    def close(self) -> None:
        for c in self.conns:
            c.raw.close()


class Conn:
    def __init__(self, session: Session, name: str, raw: harness.RawClient):
        self.session = session
        self.name = name
        self.raw = raw
        self.id = 0

    def _log(self, what: Any, reply: bytes, ids: bool) -> bytes:
        if ids:
            reply = self.session.normalize(reply)
        self.session.log.append((self.name, what, reply))
        return reply

    def cmd(self, *args: Any, ids: bool = False) -> bytes:
        """Sends a command and logs its reply (or the push that arrives before it)."""
        self.raw.send_command(*args)
        return self._log(list(args), self.raw.recv_reply_raw(), ids)

    def send(self, *args: Any) -> None:
        """Sends a command whose reply comes later (read())."""
        self.raw.send_command(*args)

    def read(self, ids: bool = False) -> bytes:
        """Logs the next reply or push of this connection."""
        return self._log("read", self.raw.recv_reply_raw(), ids)

    def quiet(self) -> bytes:
        """PING: its reply is logged first only if nothing else was waiting."""
        return self.cmd("PING")


def compare(pair: Pair, scenario, *args) -> tuple[Session, Session]:
    """Runs scenario(session, *args) on both servers; fails on the first difference."""
    pair.reset()
    ours, theirs = Session(pair.ours), Session(pair.theirs)
    try:
        scenario(ours, *args)
        scenario(theirs, *args)
    finally:
        ours.close()
        theirs.close()
    for i, (got, want) in enumerate(zip(ours.log, theirs.log)):
        assert got == want, (
            f"step {i} on {got[0]}: {got[1]!r}\n redoubt: {got[2]!r}\n redis:   {want[2]!r}\n"
            f"earlier steps: {[s[1] for s in ours.log[max(0, i - 4):i]]}")
    assert len(ours.log) == len(theirs.log)
    return ours, theirs


def info_field(conn_or_raw, section: str, field: str) -> str:
    raw = conn_or_raw.raw if isinstance(conn_or_raw, Conn) else conn_or_raw
    text = raw.call("INFO", section).decode()
    for line in text.split("\r\n"):
        if line.startswith(field + ":"):
            return line.split(":", 1)[1]
    raise AssertionError(f"INFO {section} has no {field}")


# ---------------------------------------------------------------------------- scenarios
def sc_default_resp3(s: Session) -> None:
    t, w = s.conn("t", resp=3), s.conn("w")
    t.cmd("CLIENT", "TRACKING", "ON")
    t.cmd("GET", "k")
    w.cmd("SET", "k", "1")
    t.read()  # >2 invalidate [k]
    w.cmd("SET", "k", "2")  # not read again since: no message
    t.quiet()
    t.cmd("MGET", "k", "k2", "k3")
    w.cmd("MSET", "k3", "1", "k", "2", "other", "x")
    t.read()
    t.read()
    t.quiet()
    # Keys of every read-only command, whatever the type, hit or miss.
    w.cmd("HSET", "h", "f", "v")
    w.cmd("RPUSH", "l", "a", "b")
    w.cmd("ZADD", "z", "1", "m")
    w.cmd("SADD", "s1", "a")
    t.cmd("HGET", "h", "f")
    t.cmd("LRANGE", "l", "0", "-1")
    t.cmd("ZSCORE", "z", "m")
    t.cmd("SINTER", "s1", "s2")
    t.cmd("EXISTS", "e1", "e2")
    t.cmd("STRLEN", "h")  # WRONGTYPE: the key is still remembered
    w.cmd("HDEL", "h", "f")
    t.read()
    w.cmd("LPOP", "l")
    t.read()
    w.cmd("ZINCRBY", "z", "1", "m")
    t.read()
    w.cmd("SADD", "s2", "b")
    t.read()
    w.cmd("MSET", "e2", "1", "e1", "1")
    t.read()
    t.read()
    w.cmd("DEL", "s1")
    t.read()
    w.cmd("EXPIRE", "k3", "100")
    t.quiet()
    # The tracking client's own write: the message follows its reply.
    t.cmd("GET", "mine")
    t.cmd("SET", "mine", "1")
    t.read()
    t.cmd("HSET", "myhash", "f", "1")
    t.cmd("HGET", "myhash", "f")
    t.cmd("HDEL", "myhash", "f")
    t.read()
    # Keys are not per database.
    t.cmd("GET", "dbkey")
    w.cmd("SELECT", "3")
    w.cmd("SET", "dbkey", "1")
    t.read()
    # Binary and number-like key names.
    t.cmd("MGET", "123", "a\x00b\r\n")
    w.cmd("MSET", "a\x00b\r\n", "1", "123", "1")
    t.read()
    t.read()
    # Active expiry: the message arrives with no command (the TTL leaves time for the GET).
    w.cmd("SET", "ttl", "1", "PX", "250")
    t.cmd("GET", "ttl")
    t.read()
    t.cmd("CLIENT", "TRACKING", "OFF")
    t.cmd("GET", "k")
    w.cmd("SET", "k", "3")
    t.quiet()


# Write commands of every family after the tracking client read every key: which keys each
# invalidates (and in which order) is the keyspace's signal_modified_key coverage.
WRITES = [
    ["SET", "s", "v"], ["APPEND", "s", "x"], ["SETRANGE", "s", "1", "y"], ["INCR", "n"],
    ["GETDEL", "s"], ["SET", "s", "v"], ["GETEX", "s", "PX", "100000"], ["GETEX", "s"],
    ["PERSIST", "s"], ["EXPIRE", "s", "100"], ["PERSIST", "s"], ["SETBIT", "b", "1", "1"],
    ["BITOP", "OR", "dst", "b", "s"], ["PFADD", "hll", "a"], ["PFADD", "hll", "a"],
    ["RENAME", "s", "s2"], ["RENAMENX", "s2", "n"], ["COPY", "n", "n2"], ["MOVE", "n2", "1"],
    ["LPUSH", "l", "a", "b", "c"], ["LMOVE", "l", "l2", "LEFT", "RIGHT"], ["LTRIM", "l", "5", "9"],
    ["SADD", "set", "a", "b"], ["SMOVE", "set", "set2", "a"], ["SINTERSTORE", "set3", "set", "set2"],
    ["ZADD", "z", "1", "a", "2", "b"], ["ZUNIONSTORE", "z2", "1", "z"], ["ZPOPMIN", "z"],
    ["HSET", "h", "f", "v"], ["HINCRBY", "h", "g", "1"], ["HDEL", "h", "nosuch"],
    ["XADD", "x", "1-1", "f", "v"], ["XTRIM", "x", "MAXLEN", "0"], ["XGROUP", "CREATE", "x", "g", "0"],
    ["SORT", "l2", "ALPHA", "STORE", "sorted"], ["GEOADD", "geo", "1", "1", "m"],
    ["EVAL", "return redis.call('set', KEYS[1], 'e')", "1", "ev"], ["DEL", "ev", "nosuch", "n"],
    ["UNLINK", "z2"], ["SWAPDB", "0", "1"], ["SWAPDB", "0", "1"], ["FLUSHDB"],
]
READ_KEYS = ["s", "s2", "n", "n2", "b", "dst", "hll", "l", "l2", "set", "set2", "set3", "z", "z2",
             "h", "x", "sorted", "geo", "ev"]


def sc_every_family(s: Session) -> None:
    t, w = s.conn("t", resp=3), s.conn("w")
    t.cmd("CLIENT", "TRACKING", "ON")
    for args in WRITES:
        t.cmd("EXISTS", *READ_KEYS)
        w.cmd(*args)
        t.quiet()
        while s.log[-1][2] != b"+PONG\r\n":
            t.read()


def sc_resp2_redirect(s: Session) -> None:
    r = s.conn("r")
    r.cmd("SUBSCRIBE", "__redis__:invalidate")
    t, w = s.conn("t"), s.conn("w")
    t.cmd("CLIENT", "TRACKING", "ON", "REDIRECT", str(r.id))
    t.cmd("CLIENT", "GETREDIR", ids=True)
    t.cmd("SET", "a", "1")
    t.cmd("SET", "b", "1")
    t.cmd("GET", "a")
    t.cmd("INCR", "b")  # not read: no message
    t.cmd("INCR", "a")
    r.read()
    r.quiet()  # RESP2 subscribed PING: *2 pong ""
    # Several clients redirecting to the same one, in the order Redis sends them.
    t2 = s.conn("t2")
    t2.cmd("CLIENT", "TRACKING", "ON", "REDIRECT", str(r.id))
    t.cmd("GET", "shared")
    t2.cmd("GET", "shared")
    w.cmd("SET", "shared", "1")
    r.read()
    r.read()
    # RESP2 without a redirect: there is no way to tell it.
    n = s.conn("n")
    n.cmd("CLIENT", "TRACKING", "ON")
    n.cmd("GET", "a")
    w.cmd("SET", "a", "2")
    n.quiet()
    r.quiet()
    # Switching to RESP3 keeps the redirect; keys tracked before still reach it.
    t.cmd("GET", "p")
    t.cmd("HELLO", "3", ids=True)
    w.cmd("SET", "p", "1")
    r.read()
    t.quiet()
    # A RESP3 redirect client gets pushes, subscribed or not.
    r3 = s.conn("r3", resp=3)
    t3 = s.conn("t3")
    t3.cmd("CLIENT", "TRACKING", "ON", "REDIRECT", str(r3.id))
    t3.cmd("GET", "q")
    w.cmd("SET", "q", "1")
    r3.read()
    # A RESP2 redirect client that is not subscribed gets nothing.
    r2 = s.conn("r2")
    t3.cmd("CLIENT", "TRACKING", "ON", "REDIRECT", str(r2.id))
    t3.cmd("GET", "q")
    w.cmd("SET", "q", "2")
    r2.quiet()
    # Subscribed to any channel, it gets them on __redis__:invalidate.
    r2.cmd("SUBSCRIBE", "other")
    t3.cmd("GET", "q")
    w.cmd("SET", "q", "3")
    r2.read()
    r2.quiet()


def sc_bcast(s: Session) -> None:
    t, w = s.conn("t", resp=3), s.conn("w")
    t.cmd("CLIENT", "TRACKING", "ON", "BCAST")
    w.cmd("MSET", "b", "2", "a", "1", "c", "3", "a", "4")
    t.read()  # all keys, sorted, once
    t.cmd("CLIENT", "TRACKINGINFO")
    t.cmd("CLIENT", "TRACKING", "OFF")
    t.cmd("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "b:", "PREFIX", "a:")
    t.cmd("CLIENT", "TRACKINGINFO")
    w.cmd("MULTI")
    for key in ("b:2", "a:2", "a:10", "a:1", "c:1", "b:1", "a"):
        w.cmd("INCR", key)
    w.cmd("EXEC")
    t.read()  # prefix a:
    t.read()  # prefix b:
    t.quiet()
    # Reading does not matter in BCAST mode; writing does.
    t.cmd("GET", "a:1")
    t.quiet()
    # Adding a prefix; its own overlap checks.
    t.cmd("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "c:")
    w.cmd("SET", "c:1234", "x")
    t.read()
    t.cmd("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "c")
    t.cmd("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "c:x")
    t.cmd("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a:")
    t.cmd("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "d", "PREFIX", "d")
    t.cmd("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "FOOBAR", "PREFIX", "FOO")
    t.cmd("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "FOO", "PREFIX", "FOOBAR")
    # Without PREFIX, the empty prefix is added to the others (no overlap check).
    t.cmd("CLIENT", "TRACKING", "ON", "BCAST")
    t.cmd("CLIENT", "TRACKINGINFO")
    t.cmd("CLIENT", "TRACKING", "OFF")
    # BCAST clients with NOLOOP, a redirect to a RESP2 subscriber; the prefixes "" and "x"
    # both match: one message each, "" first.
    w.cmd("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    r = s.conn("r")
    r.cmd("SUBSCRIBE", "__redis__:invalidate")
    n = s.conn("n", resp=3)
    n.cmd("CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP", "PREFIX", "x")
    v = s.conn("v")
    v.cmd("CLIENT", "TRACKING", "ON", "BCAST", "REDIRECT", str(r.id), "PREFIX", "x")
    v2 = s.conn("v2")
    v2.cmd("CLIENT", "TRACKING", "ON", "BCAST", "REDIRECT", str(r.id))
    n.cmd("MSET", "x1", "1", "x2", "2")  # n's own changes: not sent to n
    n.quiet()
    r.read()  # prefix ""
    r.read()  # prefix x
    w.cmd("SET", "x2", "3")
    n.cmd("SET", "x3", "1")
    n.read()  # x2 only
    r.read()
    r.read()
    # An expired key is a modified key (lazily expired here, by a read).
    w.cmd("SET", "xexp", "1", "PX", "1")
    r.read()
    r.read()
    n.read()
    time.sleep(0.01)
    w.cmd("GET", "xexp")
    r.read()
    r.read()
    n.read()
    v.cmd("CLIENT", "TRACKINGINFO", ids=True)


def sc_optin_optout(s: Session) -> None:
    t, w = s.conn("t", resp=3), s.conn("w")
    t.cmd("CLIENT", "TRACKING", "ON", "OPTIN")
    t.cmd("GET", "k1")  # not cached: no CACHING yes
    w.cmd("SET", "k1", "1")
    t.quiet()
    t.cmd("CLIENT", "CACHING", "YES")
    t.cmd("CLIENT", "TRACKINGINFO")
    t.cmd("GET", "k1")
    w.cmd("SET", "k1", "2")
    t.read()
    t.cmd("CLIENT", "TRACKINGINFO")  # caching-yes went with the command
    t.cmd("GET", "k1")
    w.cmd("SET", "k1", "3")
    t.quiet()
    # Other CLIENT subcommands keep it (Redis: one handler for all of them).
    t.cmd("CLIENT", "CACHING", "yes")
    t.cmd("CLIENT", "ID")
    t.cmd("CLIENT", "TRACKINGINFO")
    t.cmd("GET", "k2")
    w.cmd("SET", "k2", "1")
    t.read()
    # ... and a transaction counts as one command.
    t.cmd("CLIENT", "CACHING", "yes")
    t.cmd("MULTI")
    t.cmd("GET", "k3")
    t.cmd("GET", "k4")
    t.cmd("EXEC")
    w.cmd("MSET", "k4", "1", "k3", "1")
    t.read()
    t.read()
    t.cmd("CLIENT", "CACHING", "no")
    t.cmd("CLIENT", "TRACKING", "ON", "OPTOUT")
    t.cmd("CLIENT", "TRACKING", "OFF")
    t.cmd("CLIENT", "TRACKING", "ON", "OPTOUT")
    t.cmd("CLIENT", "CACHING", "yes")
    t.cmd("GET", "k5")
    w.cmd("SET", "k5", "1")
    t.read()
    t.cmd("CLIENT", "CACHING", "NO")
    t.cmd("CLIENT", "TRACKINGINFO")
    t.cmd("GET", "k5")  # not cached this once
    t.cmd("GET", "k6")
    w.cmd("MSET", "k5", "2", "k6", "2")
    t.read()  # k6 only
    t.quiet()
    t.cmd("CLIENT", "CACHING", "maybe")
    t.cmd("CLIENT", "TRACKING", "ON", "OPTIN")
    t.cmd("CLIENT", "TRACKING", "OFF")
    t.cmd("CLIENT", "CACHING", "yes")
    t.cmd("CLIENT", "TRACKINGINFO")


def sc_noloop(s: Session) -> None:
    r = s.conn("r")
    r.cmd("SUBSCRIBE", "__redis__:invalidate")
    t, w = s.conn("t"), s.conn("w")
    t.cmd("CLIENT", "TRACKING", "ON", "REDIRECT", str(r.id), "NOLOOP")
    t.cmd("CLIENT", "TRACKINGINFO", ids=True)
    t.cmd("MGET", "other1", "loop", "other2")
    w.cmd("SET", "other1", "1")
    t.cmd("SET", "loop", "1")
    w.cmd("SET", "other2", "1")
    r.read()
    r.read()
    r.quiet()
    # The same in RESP3 without a redirect.
    u = s.conn("u", resp=3)
    u.cmd("CLIENT", "TRACKING", "ON", "NOLOOP")
    u.cmd("GET", "x")
    u.cmd("SET", "x", "1")
    u.quiet()
    u.cmd("GET", "x")
    w.cmd("SET", "x", "2")
    u.read()


def sc_flush(s: Session) -> None:
    r = s.conn("r")
    r.cmd("SUBSCRIBE", "__redis__:invalidate")
    t2, t3, w = s.conn("t2"), s.conn("t3", resp=3), s.conn("w")
    b = s.conn("b", resp=3)
    t2.cmd("CLIENT", "TRACKING", "ON", "REDIRECT", str(r.id))
    t3.cmd("CLIENT", "TRACKING", "ON")
    b.cmd("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "zz")
    t2.cmd("GET", "k")
    t3.cmd("GET", "k")
    w.cmd("FLUSHALL")
    r.read()  # a RESP2 null in a Pub/Sub message
    t3.read()  # a RESP3 null
    b.read()  # every tracking client, BCAST ones too
    w.cmd("SET", "k", "1")  # the table was emptied: nobody tracks k now
    t3.quiet()
    r.quiet()
    t3.cmd("GET", "k")
    w.cmd("SELECT", "5")
    w.cmd("FLUSHDB")
    r.read()
    t3.read()
    b.read()
    w.cmd("FLUSHALL", "ASYNC")
    r.read()
    t3.read()
    b.read()
    # The flushing client's own message follows its reply, even in a transaction.
    t3.cmd("SET", "a", "1")
    t3.cmd("GET", "a")
    t3.cmd("MULTI")
    t3.cmd("FLUSHDB")
    t3.cmd("EXEC")
    t3.read()
    r.read()
    b.read()
    # RESP2 tracking client redirecting to a RESP3 client: the null is RESP2's.
    r3 = s.conn("r3", resp=3)
    t2.cmd("CLIENT", "TRACKING", "ON", "REDIRECT", str(r3.id))
    w.cmd("FLUSHALL")
    r3.read()
    t3.read()
    b.read()


def sc_redirect_gone(s: Session) -> None:
    r, w = s.conn("r"), s.conn("w")
    t = s.conn("t", resp=3)
    t2 = s.conn("t2")
    t.cmd("CLIENT", "TRACKING", "ON", "REDIRECT", str(r.id))
    t2.cmd("CLIENT", "TRACKING", "ON", "REDIRECT", str(r.id))
    t.cmd("GET", "k")
    t2.cmd("GET", "k")
    r.cmd("QUIT")
    r.raw.is_closed()
    w.cmd("SET", "k", "1")
    t.read(ids=True)  # >2 tracking-redir-broken <id>
    t.cmd("CLIENT", "TRACKINGINFO", ids=True)
    t.cmd("CLIENT", "GETREDIR", ids=True)
    t2.quiet()  # RESP2: nothing to tell it with
    t2.cmd("CLIENT", "TRACKINGINFO", ids=True)
    # Every message that would have gone repeats it; a flush too.
    t.cmd("GET", "k")
    w.cmd("FLUSHALL")
    t.read(ids=True)
    t.cmd("CLIENT", "TRACKING", "ON")  # re-enabling clears the broken state
    t.cmd("CLIENT", "TRACKINGINFO")
    t.cmd("CLIENT", "TRACKING", "ON", "REDIRECT", "123456")
    t.cmd("CLIENT", "TRACKING", "ON", "REDIRECT", str(t2.id), "REDIRECT", str(t2.id))
    t.cmd("CLIENT", "TRACKING", "ON", "REDIRECT", str(t.id))  # itself: allowed
    t.cmd("CLIENT", "GETREDIR", ids=True)
    t.cmd("GET", "self")
    w.cmd("SET", "self", "1")
    t.read()


def sc_errors(s: Session) -> None:
    c = s.conn("c")
    for args in (
            ["CLIENT", "TRACKINGINFO"], ["CLIENT", "GETREDIR"],
            ["CLIENT", "TRACKING"], ["CLIENT", "TRACKING", "maybe"],
            ["CLIENT", "TRACKING", "on", "bogus"], ["CLIENT", "TRACKING", "on", "REDIRECT"],
            ["CLIENT", "TRACKING", "on", "PREFIX"], ["CLIENT", "TRACKING", "on", "REDIRECT", "x"],
            ["CLIENT", "TRACKING", "on", "REDIRECT", "0"],
            ["CLIENT", "TRACKING", "on", "REDIRECT", "-1"],
            ["CLIENT", "TRACKING", "maybe", "REDIRECT", "999999"],
            ["CLIENT", "TRACKING", "maybe", "bogus"],
            ["CLIENT", "TRACKING", "on", "PREFIX", "a"],
            ["CLIENT", "TRACKING", "on", "BCAST", "OPTIN"],
            ["CLIENT", "TRACKING", "on", "BCAST", "OPTOUT"],
            ["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"],
            ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "ab"],
            ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "", "PREFIX", "x"],
            ["CLIENT", "TRACKING", "off", "BCAST", "PREFIX", "a", "OPTIN", "OPTOUT"],
            ["CLIENT", "CACHING"], ["CLIENT", "CACHING", "yes"], ["CLIENT", "CACHING", "no"],
            ["CLIENT", "CACHING", "yes", "extra"], ["CLIENT", "GETREDIR", "x"],
            ["CLIENT", "TRACKINGINFO", "x"],
            ["CLIENT", "TRACKING", "On", "optin", "NOLOOP"], ["CLIENT", "TRACKINGINFO"],
            ["CLIENT", "TRACKING", "on", "BCAST"], ["CLIENT", "TRACKING", "on", "optout"],
            ["CLIENT", "TRACKING", "on", "NOLOOP", "NOLOOP"], ["CLIENT", "TRACKINGINFO"],
            ["CLIENT", "CACHING", "no"], ["CLIENT", "TRACKING", "OFF"],
            ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "x\x00y", "PREFIX", "a b"],
            ["CLIENT", "TRACKINGINFO"],
            ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "x\x00yz"],
            ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a"],
            ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "123", "PREFIX", "12"],
            ["CLIENT", "TRACKING", "OFF"], ["CLIENT", "TRACKING", "OFF"],
            ["CLIENT", "TRACKINGINFO"], ["CLIENT", "GETREDIR"],
            ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "r", "NOLOOP"], ["RESET"],
            ["CLIENT", "TRACKINGINFO"], ["CLIENT", "GETREDIR"]):
        c.cmd(*args)
    for resp in ("3", "2"):
        c.cmd("HELLO", resp, ids=True)
        c.cmd("CLIENT", "TRACKING", "on", "optin")
        c.cmd("CLIENT", "CACHING", "yes")
        c.cmd("CLIENT", "TRACKINGINFO")
        c.cmd("CLIENT", "TRACKING", "off")


def sc_held_until_reply(s: Session) -> None:
    t, w = s.conn("t", resp=3), s.conn("w")
    t.cmd("CLIENT", "TRACKING", "ON")
    # A transaction's messages follow the EXEC reply.
    t.cmd("MSET", "a", "1", "b", "2")
    t.cmd("GET", "a")
    t.cmd("MULTI")
    t.cmd("INCR", "a")
    t.cmd("GET", "b")
    t.cmd("EXEC")
    t.read()
    # A key read inside the transaction is tracked.
    w.cmd("SET", "b", "3")
    t.read()
    # A lazily expired key, found by a multi-key read: after the reply.
    w.cmd("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    t.cmd("MULTI")
    t.cmd("MSET", "x", "1", "y", "2")
    t.cmd("PEXPIRE", "y", "5")
    t.cmd("GET", "y")
    t.cmd("EXEC")
    time.sleep(0.02)
    t.cmd("MGET", "x", "y")
    t.read()
    # Messages to other clients are not held.
    o = s.conn("o", resp=3)
    o.cmd("CLIENT", "TRACKING", "ON")
    o.cmd("GET", "c")
    t.cmd("MULTI")
    t.cmd("SET", "c", "1")
    t.cmd("EXEC")
    o.read()
    # A blocked BLMOVE served by another client's push: after its reply.
    w.cmd("RPUSH", "list2", "a")
    t.cmd("LRANGE", "list2", "0", "-1")
    t.send("BLMOVE", "list1", "list2", "LEFT", "LEFT", "0")
    while info_field(w, "clients", "blocked_clients") != "1":
        time.sleep(0.005)
    w.cmd("RPUSH", "list1", "foo")
    t.read()  # foo
    t.read()  # invalidate list2
    t.quiet()


def sc_scripts(s: Session) -> None:
    t, w = s.conn("t", resp=3), s.conn("w")
    t.cmd("CLIENT", "TRACKING", "ON")
    w.cmd("MSET", "k1", "1", "k2", "1")
    # A script that reads nothing tracks nothing.
    t.cmd("EVAL", "redis.call('set', 'k3', 'bar')", "2", "k1", "k2")
    w.cmd("MSET", "k2", "2", "k1", "2")
    t.quiet()
    # A script that reads tracks its declared keys (not the key it read).
    t.cmd("EVAL", "redis.call('get', 'k3')", "2", "k1", "k2")
    w.cmd("MSET", "k2", "3", "k1", "3", "k3", "x")
    t.read()
    t.read()
    t.quiet()
    t.cmd("EVAL_RO", "redis.call('ping')", "2", "k1", "k2")
    w.cmd("MSET", "k2", "4", "k1", "4")
    t.quiet()
    t.cmd("EVAL_RO", "return redis.call('get', 'k1')", "2", "k1", "k2")
    w.cmd("MSET", "k2", "5", "k1", "5")
    t.read()
    t.read()
    body = "return redis.call('exists', KEYS[1])"
    t.cmd("SCRIPT", "LOAD", body)
    t.cmd("EVALSHA_RO", hashlib.sha1(body.encode()).hexdigest(), "1", "k1")
    # A script's own write: NOLOOP leaves out the caller's keys (the caller is the client
    # running it); without NOLOOP the message follows the script's reply.
    t.cmd("GET", "k1")
    t.cmd("EVAL", "return redis.call('set', KEYS[1], '9')", "1", "k1")
    t.read()
    t.cmd("CLIENT", "TRACKING", "ON", "NOLOOP")
    t.cmd("GET", "k1")
    t.cmd("EVAL", "return redis.call('set', KEYS[1], '10')", "1", "k1")
    t.quiet()
    # FUNCTION / FCALL_RO work the same way.
    t.cmd("CLIENT", "TRACKING", "OFF")
    t.cmd("CLIENT", "TRACKING", "ON")
    w.cmd("FUNCTION", "LOAD", "REPLACE",
          "#!lua name=trk\nredis.register_function{function_name='rd', callback="
          "function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}")
    t.cmd("FCALL_RO", "rd", "1", "f1")
    w.cmd("SET", "f1", "1")
    t.read()
    w.cmd("FUNCTION", "DELETE", "trk")


def sc_reply_off(s: Session, resp: int) -> None:
    t, w = s.conn("t", resp=resp), s.conn("w")
    t.cmd("CLIENT", "TRACKING", "ON")
    w.cmd("SET", "foo", "bar")
    t.cmd("GET", "foo")
    t.send("CLIENT", "REPLY", "OFF")
    w.cmd("SET", "foo", "bar2")
    if resp == 3:
        t.read()  # the push still arrives
    t.cmd("CLIENT", "REPLY", "ON")
    t.quiet()
    # A RESP3 redirect client with replies off, and a broken redirect.
    r = s.conn("r", resp=3)
    u = s.conn("u", resp=3)
    u.cmd("CLIENT", "TRACKING", "ON", "REDIRECT", str(r.id))
    u.cmd("GET", "k")
    r.send("CLIENT", "REPLY", "OFF")
    w.cmd("SET", "k", "1")
    r.read()
    r.cmd("CLIENT", "REPLY", "ON")
    r.quiet()
    u.cmd("GET", "k")
    r.cmd("QUIT")
    r.raw.is_closed()
    u.send("CLIENT", "REPLY", "OFF")
    w.cmd("SET", "k", "2")
    u.read(ids=True)  # tracking-redir-broken, replies off or not
    u.cmd("CLIENT", "REPLY", "ON")
    u.quiet()


# ---------------------------------------------------------------------------- tests
@PLAIN_ONLY
def test_default_mode_resp3(pair):
    """GET k, another client sets k: ">2 invalidate [k]", once; keys of every read command;
    the tracking client's own writes; TRACKING OFF."""
    compare(pair, sc_default_resp3)


@PLAIN_ONLY
def test_every_write_family_invalidates(pair):
    compare(pair, sc_every_family)


@PLAIN_ONLY
def test_resp2_redirect_to_subscriber(pair):
    """RESP2: messages on __redis__:invalidate to the REDIRECT client, RESP3 redirect clients,
    several clients redirecting to one, no message without a way to send it."""
    compare(pair, sc_resp2_redirect)


@PLAIN_ONLY
def test_bcast_prefixes(pair):
    """BCAST: one message per prefix with its keys sorted, prefix overlap errors, NOLOOP,
    the empty prefix, a redirect, expired keys."""
    compare(pair, sc_bcast)


@PLAIN_ONLY
def test_optin_optout_caching(pair):
    compare(pair, sc_optin_optout)


@PLAIN_ONLY
def test_noloop(pair):
    compare(pair, sc_noloop)


@PLAIN_ONLY
def test_flush_sends_null_invalidation(pair):
    compare(pair, sc_flush)


@PLAIN_ONLY
def test_redirect_client_gone(pair):
    compare(pair, sc_redirect_gone)


@PLAIN_ONLY
def test_error_texts_and_trackinginfo(pair):
    compare(pair, sc_errors)


@PLAIN_ONLY
def test_messages_follow_the_reply(pair):
    """MULTI/EXEC, a lazy expiry during a read, an unblocked BLMOVE: the client's own
    invalidations come after the reply of what caused them."""
    compare(pair, sc_held_until_reply)


@PLAIN_ONLY
def test_scripts(pair):
    compare(pair, sc_scripts)


@PLAIN_ONLY
@pytest.mark.parametrize("resp", [3, 2])
def test_client_reply_off(pair, resp):
    compare(pair, sc_reply_off, resp)


def sc_evicted_before_reply(s: Session) -> None:
    t, w = s.conn("t", resp=3), s.conn("w")
    t.cmd("CLIENT", "TRACKING", "ON")
    w.cmd("SET", "ev", "1", "EX", "1000")
    w.cmd("SET", "keep", "1")
    t.cmd("MGET", "ev", "keep")
    w.cmd("CONFIG", "SET", "maxmemory-policy", "noeviction")
    w.cmd("CONFIG", "SET", "maxmemory", "1")
    w.cmd("CONFIG", "SET", "maxmemory-policy", "volatile-random")
    # t's next command evicts its own tracked key first: the message comes before the reply
    # (it concerns the old value).
    t.cmd("GET", "ev")
    t.read()
    w.cmd("CONFIG", "SET", "maxmemory", "0")
    w.cmd("SET", "keep", "2")
    t.read()


def sc_table_counters(s: Session) -> None:
    r = s.conn("r")
    r.cmd("SUBSCRIBE", "__redis__:invalidate")
    t, w, b = s.conn("t"), s.conn("w"), s.conn("b")
    t.cmd("CLIENT", "TRACKING", "ON", "REDIRECT", str(r.id))
    w.cmd("MSET", "key1", "1", "key2", "2")
    t.cmd("GET", "key1")
    t.cmd("GET", "key2")
    t.cmd("MGET", "key1", "key3")
    b.cmd("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "prefix:", "PREFIX", "other:")
    w.cmd("SET", "prefix:key1", "1")
    b.cmd("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "third:")


@PLAIN_ONLY
def test_evicted_key_message_before_the_reply(pair):
    compare(pair, sc_evicted_before_reply)


@PLAIN_ONLY
def test_info_counters_and_client_list(pair):
    """tracking_clients, tracking_total_keys/items/prefixes and CLIENT LIST flags t, B, R and
    redir=, equal on both servers at each step."""
    def state(srv, names):
        with srv.raw() as c:
            fields = {}
            for section in ("clients", "stats"):
                for line in c.call("INFO", section).decode().split("\r\n"):
                    if line.startswith("tracking_"):
                        k, v = line.split(":")
                        fields[k] = v
            clients = {}
            for line in c.call("CLIENT", "LIST").decode().splitlines():
                kv = dict(f.split("=", 1) for f in line.split(" ") if "=" in f)
                name = names.get(int(kv["id"]))
                if name:
                    redir = int(kv["redir"])
                    clients[name] = (kv["flags"], names.get(redir, redir))
            return fields, clients

    results = []
    for srv in (pair.ours, pair.theirs):
        pair.reset()
        s = Session(srv)
        try:
            sc_table_counters(s)
            seen = [state(srv, s.ids)]
            t = next(c for c in s.conns if c.name == "t")
            by_name = {c.name: c for c in s.conns}
            by_name["r"].cmd("QUIT")
            by_name["r"].raw.is_closed()
            by_name["w"].cmd("SET", "key1", "9")
            seen.append(state(srv, s.ids))  # t: broken redirect (R)
            by_name["b"].raw.close()
            while info_field(t, "clients", "tracking_clients") != "1":
                time.sleep(0.005)
            seen.append(state(srv, s.ids))  # b's prefixes are gone with it
            t.cmd("CLIENT", "TRACKING", "OFF")
            seen.append(state(srv, s.ids))
            results.append(seen)
        finally:
            s.close()
    ours, theirs = results
    assert ours == theirs
    first = ours[0]
    assert first[0] == {"tracking_clients": "2", "tracking_total_keys": "3",
                        "tracking_total_items": "3", "tracking_total_prefixes": "3"}
    assert first[1]["t"] == ("t", "r") and first[1]["b"] == ("tB", 0)
    assert first[1]["w"] == ("N", -1) and first[1]["r"] == ("P", -1)
    assert ours[1][1]["t"] == ("tR", "r")
    assert ours[2][0]["tracking_total_prefixes"] == "0"


@PLAIN_ONLY
def test_tracking_table_max_keys(pair):
    """Over tracking-table-max-keys, random keys are forgotten and invalidated until the table
    fits (the effort grows: 249 of 250 keys go). Which ones is random: compared in shape."""
    for srv in (pair.ours, pair.theirs):
        pair.reset()
        with srv.raw() as r, srv.raw() as t, srv.raw() as w:
            rid = r.call("CLIENT", "ID")
            r.call("SUBSCRIBE", "__redis__:invalidate")
            assert t.call("CLIENT", "TRACKING", "ON", "REDIRECT", rid) == b"OK"
            keys = [f"key{i}" for i in range(250)]
            t.call("MGET", *keys)
            assert info_field(t, "stats", "tracking_total_keys") == "250"
            w.call("CONFIG", "SET", "tracking-table-max-keys", "1")
            t.call("PING")  # the limit applies before a command (and from the cron)
            got = []
            for _ in range(249):
                msg = r.recv_reply()
                assert msg[:2] == [b"message", b"__redis__:invalidate"], msg
                got.append(msg[2])
            assert all(len(k) == 1 for k in got) and len({k[0] for k in got}) == 249
            assert {k[0].decode() for k in got} <= set(keys)
            assert r.call("PING") == [b"pong", b""]
            assert info_field(t, "stats", "tracking_total_keys") == "1"
            assert info_field(t, "stats", "tracking_total_items") == "1"
            # 0 means no limit.
            survivor = set(keys) - {k[0].decode() for k in got}
            w.call("CONFIG", "SET", "tracking-table-max-keys", "0")
            t.call("MGET", *keys[:10])
            t.call("PING")
            assert r.call("PING") == [b"pong", b""]
            assert info_field(t, "stats", "tracking_total_keys") == str(
                len(survivor | set(keys[:10])))
            assert w.call("CONFIG", "GET", "tracking-table-max-keys") == [
                b"tracking-table-max-keys", b"0"]


@PLAIN_ONLY
def test_prefix_overlap_after_the_first_prefix(pair):
    """Redis answers the error and then +OK (tracking on) when the overlapping prefix is not the
    first one; Redoubt answers the error only and leaves tracking off."""
    pair.reset()
    with pair.ours.raw() as c:
        reply = c.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a", "PREFIX", "b",
                       "PREFIX", "bc")
        assert reply == harness.RespError(
            b"ERR Prefix 'b' overlaps with another provided prefix 'bc'. Prefixes for a single "
            b"client must not overlap.")
        assert c.call("PING") == b"PONG"
        assert c.call("CLIENT", "TRACKINGINFO") == [b"flags", [b"off"], b"redirect", -1,
                                                   b"prefixes", []]


@PLAIN_ONLY
def test_command_info_and_docs(pair):
    pair.reset()
    replies = []
    for srv in (pair.ours, pair.theirs):
        with srv.raw() as c:
            seen = []
            for sub in ("tracking", "caching", "getredir", "trackinginfo"):
                c.send_command("COMMAND", "INFO", f"client|{sub}")
                seen.append(c.recv_reply_raw())
                c.send_command("COMMAND", "DOCS", f"client|{sub}")
                seen.append(c.recv_reply_raw())
                c.send_command("COMMAND", "GETKEYS", "CLIENT", sub.upper(), "x")
                seen.append(c.recv_reply_raw())
            names = c.call("COMMAND", "LIST", "FILTERBY", "PATTERN", "client|*")
            seen.append(sorted(names))
            replies.append(seen)
    assert replies[0] == replies[1]
    assert b"client|tracking" in replies[0][-1]


def test_push_bytes(server):
    """Plain and TLS: the exact push and Pub/Sub message bytes."""
    with server.raw() as t, server.raw() as w, server.raw() as r:
        t.call("HELLO", "3")
        assert t.call("CLIENT", "TRACKING", "ON") == b"OK"
        t.call("GET", "k")
        w.call("SET", "k", "v")
        assert t.recv_reply_raw() == b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"
        rid = r.call("CLIENT", "ID")
        r.call("SUBSCRIBE", "__redis__:invalidate")
        t.call("HELLO", "2")
        assert t.call("CLIENT", "TRACKING", "ON", "REDIRECT", rid) == b"OK"
        t.call("GET", "k")
        w.call("DEL", "k")
        assert r.recv_reply_raw() == (b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n"
                                      b"*1\r\n$1\r\nk\r\n")
        w.call("FLUSHALL")
        assert r.recv_reply_raw() == (b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n"
                                      b"$-1\r\n")


def test_redis_py_tracking_helpers(server):
    """redis-py (Debian's 4.3) CLIENT TRACKING helpers with a RESP2 Pub/Sub redirect."""
    writer = server.client()
    tracker = server.client(single_connection_client=True)
    listener = server.client()
    pubsub = listener.pubsub()
    pubsub.subscribe("__redis__:invalidate")
    assert pubsub.get_message(timeout=5)["type"] == "subscribe"
    rid = next(c["id"] for c in writer.client_list() if c["cmd"] == "subscribe")
    assert tracker.client_tracking_on(clientid=int(rid)) == b"OK"
    assert tracker.client_getredir() == int(rid)
    writer.set("k", "1")
    assert tracker.get("k") == b"1"
    writer.set("k", "2")
    msg = pubsub.get_message(timeout=5)
    assert msg["type"] == "message" and msg["channel"] == b"__redis__:invalidate"
    assert msg["data"] == [b"k"]
    assert tracker.client_tracking_off() == b"OK"
    assert tracker.client_tracking_on(clientid=int(rid), bcast=True, prefix=["a:", "b:"]) == b"OK"
    info = tracker.client_trackinginfo()
    assert info == ["flags", [b"on", b"bcast"], "redirect", int(rid), "prefixes", [b"a:", b"b:"]]
    writer.mset({"b:1": "x", "a:1": "y", "c:1": "z"})
    datas = [pubsub.get_message(timeout=5)["data"] for _ in range(2)]
    assert datas == [[b"a:1"], [b"b:1"]]
    with pytest.raises(Exception, match="OPTIN and OPTOUT are not compatible with BCAST"):
        tracker.client_tracking_on(bcast=True, optin=True)
    pubsub.close()
