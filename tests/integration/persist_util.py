"""Helpers for the RDB persistence tests (test_persist_rdb.py) and the fixture generator
(tests/fixtures/rdb/make_redis70_rdb.py).

  mixed_dataset_commands() / fill_mixed_dataset(srv)   every type and encoding Redis 7.0 has
                           (streams: test_streams_persist.py; no modules), keys in all 16 dbs
  dump_dataset(srv)        {db: {key: Entry(type, value, expire_at_ms)}} read through RESP only
  dump_encodings(srv)      {db: {key: OBJECT ENCODING}}
  compare_dumps(a, b)      list of readable differences ([] when equal); assert_same_dataset raises
  start_on_file(...)       start a server (Redoubt or redis-server) on a given dir + dbfilename
  start_expecting_exit()   start a server that must refuse to start; returns (exit status, log)
  check_rdb_command()      `server --check-rdb` (or Debian's redis-check-rdb in self-test runs)
  crc64 / make_dump_payload / split_dump_payload   DUMP payload framing

Values are compared as Python structures: string -> bytes, list -> list[bytes],
set -> sorted list[bytes], zset -> list[(member, float score)] in ZRANGE order,
hash -> dict[bytes, bytes]. Expiry is PEXPIRETIME (absolute unix ms, None when persistent).
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Iterable, NamedTuple, Optional

import harness
from harness import RespError

NUM_DBS = 16
REPO_ROOT = harness.REPO_ROOT
FIXTURE_DIR = REPO_ROOT / "tests" / "fixtures" / "rdb"
ALL_TYPES_RDB = FIXTURE_DIR / "redis-7.0-all-types.rdb"
LEGACY_V9_RDB = FIXTURE_DIR / "legacy-v9.rdb"
LEGACY_V9_JSON = FIXTURE_DIR / "legacy-v9.json"
REDIS_CHECK_RDB = "/usr/bin/redis-check-rdb"

# A value written once by the filler and stored verbatim in an RDB (17 bytes: under LZF's
# 20-byte threshold, so the file holds the plain bytes). Tests find it in a file and flip one of
# its bytes: the file structure stays valid and only the checksum (or nothing, with
# rdbchecksum no) can tell.
FLIP_TARGET_KEY = b"str:flip-target"
FLIP_TARGET_VALUE = b"flipme-0123456789"

# Far-future absolute expiry times (unix ms; 2100-01-01T00:00:00Z = 4102444800000): stable
# across runs, so a fixture made today still has them.
FAR_FUTURE_MS = 4102444800000


# ---------------------------------------------------------------------------- dataset filler

def _letters(rng: random.Random, n: int) -> bytes:
    return bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
                 for _ in range(n))


def mixed_dataset_commands(seed: int = 7000) -> list[tuple[int, tuple]]:
    """(db, command) pairs creating the mixed dataset. Deterministic for a seed."""
    rng = random.Random(seed)
    out: list[tuple[int, tuple]] = []

    def c(*args: Any, db: int = 0) -> None:
        out.append((db, args))

    # ---- strings: int encodings (8/16/32-bit RDB int encodings, 64-bit as text), embstr, raw,
    # LZF-compressible, binary, empty; a binary key name.
    for name, value in [(b"str:int:small", b"7"), (b"str:int:8bit", b"-100"),
                        (b"str:int:16bit", b"30000"), (b"str:int:32bit", b"2000000000"),
                        (b"str:int:64bit", b"9223372036854775807"),
                        (b"str:int:min", b"-9223372036854775808"),
                        (b"str:int:toobig", b"12345678901234567890"),
                        (b"str:int:leading-zero", b"007"), (b"str:int:neg-zero", b"-0"),
                        (b"str:float", b"3.14159"),
                        (b"str:embstr", b"hello world"),
                        (b"str:raw", _letters(rng, 60)),
                        (b"str:raw-long", _letters(rng, 3000)),
                        (b"str:lzf", b"compressible-" * 100),
                        (b"str:lzf-22", b"a" * 22),
                        (b"str:binary", bytes(range(256)) + b"\x00\xff" * 4),
                        (b"str:random-bytes", bytes(rng.getrandbits(8) for _ in range(300))),
                        (b"str:empty", b""),
                        (b"bin\x00key\xff\r\n name", b"value of a binary key name"),
                        (b"", b"value of the empty key name"),
                        (FLIP_TARGET_KEY, FLIP_TARGET_VALUE)]:
        c(b"SET", name, value)

    # ---- lists: one small (one listpack node), one large (many 8 KB nodes), large elements,
    # integers of every listpack width.
    c(b"RPUSH", b"list:small", b"a", b"b", b"c", b"", b"\x00\xff", b"1", b"-2", b"127", b"-128",
      b"32767", b"8388607", b"2147483647", b"5000000000", b"9223372036854775807",
      b"-9223372036854775808", b"12345678901234567890", b"007")
    big = [b"item-%05d-" % i + _letters(rng, 20) for i in range(3000)]
    for i in range(0, len(big), 500):
        c(b"RPUSH", b"list:large", *big[i:i + 500])
    c(b"RPUSH", b"list:big-elements", *[_letters(rng, 5000) for _ in range(6)])
    c(b"LPUSH", b"list:one", b"only")

    # ---- sets: intset 16/32/64-bit, intset promoted to hashtable (> 512 entries), small
    # string sets, mixed int/string, > 128 members, a long member.
    c(b"SADD", b"set:int16", b"1", b"2", b"3", b"-5", b"32767", b"-32768")
    c(b"SADD", b"set:int32", b"1", b"70000", b"-70000", b"2147483647", b"-2147483648")
    c(b"SADD", b"set:int64", b"0", b"5000000000", b"-9223372036854775808",
      b"9223372036854775807")
    c(b"SADD", b"set:int-large", *[str(i * 7 - 1000).encode() for i in range(600)])
    c(b"SADD", b"set:small-str", b"a", b"b", b"c", b"", b"\x00\xff")
    c(b"SADD", b"set:mixed", b"1", b"a", b"2", b"-3", b"b")
    c(b"SADD", b"set:large-str", *[b"member-%04d" % i for i in range(200)])
    c(b"SADD", b"set:long-member", b"short", b"L" * 100)

    # ---- sorted sets: listpack and skiplist; scores inf, -inf, negative, fractional, large.
    c(b"ZADD", b"zset:small", b"0", b"zero", b"1.5", b"one-and-a-half", b"-2.25", b"negative",
      b"inf", b"pinf", b"-inf", b"ninf", b"1e15", b"big", b"9007199254740993", b"huge",
      b"0.1", b"tenth", b"3", b"three", b"1e300", b"vbig", b"-1e-300", b"tiny",
      b"12345678901234567", b"large-int", b"-42", b"\x00\xff")
    c(b"ZADD", b"zset:same-score", b"1", b"d", b"1", b"b", b"1", b"a", b"1", b"c", b"1", b"")
    args: list[bytes] = []
    for i in range(200):
        args += [repr(rng.uniform(-1000, 1000)).encode(), b"zmember-%04d" % i]
    c(b"ZADD", b"zset:large", *args)
    c(b"ZADD", b"zset:long-member", b"1", b"M" * 100, b"2", b"short", b"inf", b"top")

    # ---- hashes: listpack and hashtable (> 512 fields, a long value).
    c(b"HSET", b"hash:small", b"f1", b"v1", b"num", b"123", b"neg", b"-5",
      b"big", b"9223372036854775807", b"empty", b"", b"bin\x00", b"\x00\xff", b"", b"empty-field")
    fields: list[bytes] = []
    for i in range(600):
        fields += [b"field-%04d" % i, b"value-%d-" % i + _letters(rng, 8)]
    c(b"HSET", b"hash:large", *fields)
    c(b"HSET", b"hash:long-value", b"f", b"V" * 100, b"g", b"1")

    # ---- TTLs: millisecond precision, far in the future, on every type.
    for i, (kind, key) in enumerate([(b"SET", b"ttl:str"), (b"RPUSH", b"ttl:list"),
                                     (b"SADD", b"ttl:set"), (b"SADD", b"ttl:intset"),
                                     (b"ZADD", b"ttl:zset"), (b"HSET", b"ttl:hash")]):
        if kind == b"SET":
            c(b"SET", key, b"expiring string")
        elif kind == b"RPUSH":
            c(b"RPUSH", key, b"x", b"y")
        elif key == b"ttl:intset":
            c(b"SADD", key, b"1", b"2", b"3")
        elif kind == b"SADD":
            c(b"SADD", key, b"x", b"y")
        elif kind == b"ZADD":
            c(b"ZADD", key, b"1", b"x", b"2.5", b"y")
        else:
            c(b"HSET", key, b"f", b"v")
        c(b"PEXPIREAT", key, str(FAR_FUTURE_MS + 123 + i * 111).encode())
    c(b"SET", b"ttl:seconds", b"v")
    c(b"EXPIREAT", b"ttl:seconds", str(FAR_FUTURE_MS // 1000 + 3600).encode())
    c(b"SET", b"ttl:year-3000", b"v")
    c(b"PEXPIREAT", b"ttl:year-3000", b"32503680000999")

    # ---- every database: one or two keys each, a TTL in some.
    for db in range(1, NUM_DBS):
        c(b"SET", b"db%d:str" % db, b"value-in-db-%d" % db, db=db)
        c(b"SET", b"same-name", b"same name, db %d" % db, db=db)
        if db % 2:
            c(b"RPUSH", b"db%d:list" % db, b"a", b"b", b"%d" % db, db=db)
        if db % 3 == 0:
            c(b"HSET", b"db%d:hash" % db, b"f", b"v", db=db)
            c(b"PEXPIREAT", b"db%d:hash" % db, str(FAR_FUTURE_MS + db).encode(), db=db)
    return out


def fill_mixed_dataset(srv: harness.ServerProcess, seed: int = 7000) -> int:
    """Creates the mixed dataset on a (Redoubt or Redis) server; returns the number of keys.
    Every reply is checked: a refused command fails the caller loudly."""
    cmds = mixed_dataset_commands(seed)
    by_db: dict[int, list[tuple]] = {}
    for db, args in cmds:
        by_db.setdefault(db, []).append(args)
    with srv.raw() as c:
        for db, lst in sorted(by_db.items()):
            c.send_command(b"SELECT", str(db).encode())
            for args in lst:
                c.send_command(*args)
            replies = [c.recv_reply() for _ in range(len(lst) + 1)]
            for args, reply in zip([(b"SELECT",)] + lst, replies):
                if isinstance(reply, RespError) or reply == 0 and args[0] in (b"PEXPIREAT",
                                                                              b"EXPIREAT"):
                    raise AssertionError(f"{srv.name}: filler command {args[0]!r} "
                                         f"{args[1:2]!r} failed: {reply!r}")
        c.call(b"SELECT", b"0")
    keys = set()
    for db, args in cmds:
        if args[0] not in (b"PEXPIREAT", b"EXPIREAT"):
            keys.add((db, args[1]))
    return len(keys)


def populate_strings(srv: harness.ServerProcess, n: int, prefix: bytes = b"key:",
                     value_size: int = 10, db: int = 0, batch: int = 5000) -> None:
    """n plain string keys, pipelined in batches (works without DEBUG POPULATE)."""
    with srv.raw(timeout=60) as c:
        c.call(b"SELECT", str(db).encode())
        pad = b"v" * max(0, value_size - 8)
        for start in range(0, n, batch):
            stop = min(n, start + batch)
            for i in range(start, stop):
                c.send_command(b"SET", prefix + b"%d" % i, pad + b"%08d" % i)
            for _ in range(start, stop):
                r = c.recv_reply()
                if r != b"OK":
                    raise AssertionError(f"{srv.name}: SET failed during populate: {r!r}")


# ---------------------------------------------------------------------------- dataset dump

class Entry(NamedTuple):
    type: str
    value: Any
    expire_at_ms: Optional[int]


def _pipeline(c: harness.RawClient, commands: list[tuple]) -> list:
    out = []
    for i in range(0, len(commands), 1000):
        chunk = commands[i:i + 1000]
        for args in chunk:
            c.send_command(*args)
        out.extend(c.recv_reply() for _ in chunk)
    return out


def _value_command(kind: str, key: bytes) -> tuple:
    return {"string": (b"GET", key), "list": (b"LRANGE", key, b"0", b"-1"),
            "set": (b"SMEMBERS", key), "zset": (b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"),
            "hash": (b"HGETALL", key)}.get(kind, (b"TYPE", key))


def _convert(kind: str, reply: Any) -> Any:
    if isinstance(reply, RespError):
        return reply
    if kind == "set":
        return sorted(reply)
    if kind == "zset":
        return [(reply[i], float(reply[i + 1])) for i in range(0, len(reply), 2)]
    if kind == "hash":
        return {reply[i]: reply[i + 1] for i in range(0, len(reply), 2)}
    return reply


def dump_dataset(srv: harness.ServerProcess, dbs: Iterable[int] = range(NUM_DBS)
                 ) -> dict[int, dict[bytes, Entry]]:
    """The whole dataset, read with KEYS/TYPE/GET/LRANGE/SMEMBERS/ZRANGE/HGETALL/PEXPIRETIME."""
    out: dict[int, dict[bytes, Entry]] = {}
    with srv.raw(timeout=60) as c:
        for db in dbs:
            r = c.call(b"SELECT", str(db).encode())
            if r != b"OK":
                raise AssertionError(f"{srv.name}: SELECT {db}: {r!r}")
            keys = c.call(b"KEYS", b"*")
            if isinstance(keys, RespError):
                raise AssertionError(f"{srv.name}: KEYS * in db {db}: {keys!r}")
            types = _pipeline(c, [(b"TYPE", k) for k in keys])
            types = [t.decode() if isinstance(t, bytes) else repr(t) for t in types]
            values = _pipeline(c, [_value_command(t, k) for t, k in zip(types, keys)])
            expires = _pipeline(c, [(b"PEXPIRETIME", k) for k in keys])
            db_out = {}
            for k, t, v, e in zip(keys, types, values, expires):
                if t == "none":  # expired between KEYS and TYPE
                    continue
                db_out[k] = Entry(t, _convert(t, v), e if isinstance(e, int) and e >= 0 else None)
            out[db] = db_out
        c.call(b"SELECT", b"0")
    return out


def dump_encodings(srv: harness.ServerProcess, dbs: Iterable[int] = range(NUM_DBS)
                   ) -> dict[int, dict[bytes, bytes]]:
    out: dict[int, dict[bytes, bytes]] = {}
    with srv.raw(timeout=60) as c:
        for db in dbs:
            c.call(b"SELECT", str(db).encode())
            keys = c.call(b"KEYS", b"*")
            encs = _pipeline(c, [(b"OBJECT", b"ENCODING", k) for k in keys])
            out[db] = dict(zip(keys, encs))
        c.call(b"SELECT", b"0")
    return out


def dbsizes(srv: harness.ServerProcess) -> dict[int, int]:
    with srv.raw() as c:
        out = {}
        for db in range(NUM_DBS):
            c.call(b"SELECT", str(db).encode())
            out[db] = c.call(b"DBSIZE")
        c.call(b"SELECT", b"0")
        return out


def _short(v: Any, limit: int = 160) -> str:
    text = repr(v)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def _value_diff(a: Any, b: Any) -> str:
    """A hint where two values differ (first differing index / missing members)."""
    if isinstance(a, dict) and isinstance(b, dict):
        only_a = [k for k in a if k not in b][:5]
        only_b = [k for k in b if k not in a][:5]
        changed = [k for k in a if k in b and a[k] != b[k]][:5]
        return (f"fields only in first {_short(only_a)}, only in second {_short(only_b)}, "
                f"different {[(k, a[k], b[k]) for k in changed]!r:.300}")
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return (f"len {len(a)} vs {len(b)}, first difference at [{i}]: "
                        f"{x!r:.100} vs {y!r:.100}")
        return f"len {len(a)} vs {len(b)}"
    return f"{_short(a)} vs {_short(b)}"


def compare_dumps(a: dict, b: dict, name_a: str = "redoubt", name_b: str = "redis",
                  ttl_tolerance_ms: int = 2000) -> list[str]:
    problems: list[str] = []
    for db in sorted(set(a) | set(b)):
        da, dbb = a.get(db, {}), b.get(db, {})
        for k in sorted(set(da) - set(dbb)):
            problems.append(f"db{db} {k!r}: only in {name_a} "
                            f"({da[k].type} {_short(da[k].value, 80)})")
        for k in sorted(set(dbb) - set(da)):
            problems.append(f"db{db} {k!r}: only in {name_b} "
                            f"({dbb[k].type} {_short(dbb[k].value, 80)})")
        for k in sorted(set(da) & set(dbb)):
            ea, eb = da[k], dbb[k]
            if ea.type != eb.type:
                problems.append(f"db{db} {k!r}: type {name_a}={ea.type} {name_b}={eb.type}")
                continue
            if ea.value != eb.value:
                problems.append(f"db{db} {k!r} ({ea.type}): value differs: "
                                f"{_value_diff(ea.value, eb.value)}")
            if (ea.expire_at_ms is None) != (eb.expire_at_ms is None):
                problems.append(f"db{db} {k!r}: expiry {name_a}={ea.expire_at_ms} "
                                f"{name_b}={eb.expire_at_ms}")
            elif ea.expire_at_ms is not None and \
                    abs(ea.expire_at_ms - eb.expire_at_ms) > ttl_tolerance_ms:
                problems.append(f"db{db} {k!r}: expiry {name_a}={ea.expire_at_ms} "
                                f"{name_b}={eb.expire_at_ms} "
                                f"(more than {ttl_tolerance_ms} ms apart)")
    return problems


def assert_same_dataset(a: dict, b: dict, name_a: str = "redoubt", name_b: str = "redis",
                        ttl_tolerance_ms: int = 2000, context: str = "") -> None:
    problems = compare_dumps(a, b, name_a, name_b, ttl_tolerance_ms)
    if problems:
        total_a = sum(len(v) for v in a.values())
        total_b = sum(len(v) for v in b.values())
        head = (f"{context}: " if context else "") + \
            f"datasets differ ({name_a}: {total_a} keys, {name_b}: {total_b} keys), " \
            f"{len(problems)} difference(s):"
        shown = problems[:60]
        if len(problems) > 60:
            shown.append(f"... and {len(problems) - 60} more")
        raise AssertionError("\n".join([head] + shown))


def key_count(dump: dict) -> int:
    return sum(len(v) for v in dump.values())


# ---------------------------------------------------------------------------- servers

def copy_rdb(src: Path, dest_dir: Path, name: Optional[str] = None) -> Path:
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / (name or src.name)
    shutil.copyfile(src, dest)
    return dest


def file_args(dir_: Path, dbfilename: str, *extra: str) -> list[str]:
    return ["--dir", str(dir_), "--dbfilename", dbfilename, *extra]


def start_on_file(factory: Callable, dir_: Path, dbfilename: str, *extra: str, **kw):
    """factory is the conftest server_factory or redis_server_factory."""
    return factory(file_args(dir_, dbfilename, *extra), **kw)


def start_pair_on_file(server_factory: Callable, redis_server_factory: Callable, rdb: Path,
                       tmp_path: Path, *extra: str):
    """A Redoubt and a Redis server each loading its own copy of `rdb`."""
    ours_dir, ref_dir = tmp_path / "redoubt-data", tmp_path / "redis-data"
    copy_rdb(rdb, ours_dir)
    copy_rdb(rdb, ref_dir)
    ours = start_on_file(server_factory, ours_dir, rdb.name, *extra)
    ref = start_on_file(redis_server_factory, ref_dir, rdb.name, *extra)
    return ours, ref


def start_expecting_exit(binary: Path, workdir: Path, args: list[str], name: str,
                         mode: Optional[str] = None, timeout: float = 20.0
                         ) -> tuple[Optional[int], str]:
    """Start a server that should refuse to start. Returns (exit status, log text); the status
    is None when it started (it is stopped again)."""
    srv = harness.ServerProcess(binary, workdir, args=args, mode=mode, name=name,
                                start_timeout=timeout)
    try:
        srv.port = harness.free_port()
        srv._spawn()
        try:
            srv._wait_ready()
        except harness.ServerCrashed:
            return srv.returncode, srv.log_text()
        srv.stop()
        return None, srv.log_text()
    finally:
        if srv.is_running():
            srv.kill()


def check_rdb_command(path: Path) -> list[str]:
    """`<server binary> --check-rdb FILE`. When the suite is pointed at Debian's redis-server
    (REDOUBT_SERVER=/usr/bin/redis-server, to check the tests themselves) that binary has no
    --check-rdb flag: redis-check-rdb is the same program there."""
    binary = harness.server_binary()
    if binary.name == "redis-server":
        return [REDIS_CHECK_RDB, str(path)]
    return [str(binary), "--check-rdb", str(path)]


def run_check_rdb(cmd: list[str], timeout: float = 60.0) -> tuple[int, str]:
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, timeout=timeout)
    return r.returncode, r.stdout.decode("utf-8", "replace")


def is_redis_under_test() -> bool:
    """True when REDOUBT_SERVER points at Debian's redis-server (self-test of this suite)."""
    return harness.server_binary().name == "redis-server"


# ---------------------------------------------------------------------------- INFO, waiting

def info(srv: harness.ServerProcess, section: str = "persistence") -> dict[str, str]:
    with srv.raw() as c:
        text = c.call(b"INFO", section.encode())
    if isinstance(text, RespError):
        raise AssertionError(f"{srv.name}: INFO {section}: {text!r}")
    out = {}
    for line in text.decode().split("\r\n"):
        if line and not line.startswith("#") and ":" in line:
            k, _, v = line.partition(":")
            out[k] = v
    return out


def wait_until(pred: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05,
               what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def wait_bgsave_done(srv: harness.ServerProcess, timeout: float = 30.0) -> dict[str, str]:
    """Waits until no RDB child runs; returns INFO persistence."""
    last: dict[str, str] = {}

    def done():
        nonlocal last
        last = info(srv)
        return last.get("rdb_bgsave_in_progress") == "0"
    wait_until(done, timeout, what=f"{srv.name}: rdb_bgsave_in_progress:0")
    return last


def file_digest(path: Path) -> bytes:
    import hashlib
    return hashlib.sha256(path.read_bytes()).digest()


# ---------------------------------------------------------------------------- DUMP payloads

_CRC64_POLY = 0x95AC9329AC4BC9B5  # Jones polynomial, reflected (Redis's crc64.c)
_CRC64_TABLE: list[int] = []


def crc64(data: bytes, crc: int = 0) -> int:
    """Redis's CRC-64 (Jones, reflected, no final xor): crc64(b"123456789") ==
    0xe9c6d914c4b8d9ca."""
    if not _CRC64_TABLE:
        for i in range(256):
            v = i
            for _ in range(8):
                v = (v >> 1) ^ _CRC64_POLY if v & 1 else v >> 1
            _CRC64_TABLE.append(v)
    for b in data:
        crc = _CRC64_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def split_dump_payload(payload: bytes) -> tuple[bytes, int, int]:
    """(serialized value, RDB version, crc) of a DUMP payload."""
    return payload[:-10], int.from_bytes(payload[-10:-8], "little"), \
        int.from_bytes(payload[-8:], "little")


def make_dump_payload(body: bytes, rdb_version: int) -> bytes:
    """A DUMP payload with a correct checksum: body + version (2 bytes LE) + CRC-64 (8 LE)."""
    head = body + rdb_version.to_bytes(2, "little")
    return head + crc64(head).to_bytes(8, "little")


def flip_byte(data: bytes, index: int, mask: int = 0x01) -> bytes:
    return data[:index] + bytes([data[index] ^ mask]) + data[index + 1:]


def rdb_version_of(path: Path) -> int:
    head = path.read_bytes()[:9]
    if head[:5] != b"REDIS":
        raise AssertionError(f"{path}: not an RDB file (starts {head!r})")
    return int(head[5:9])


def list_dir(path: Path) -> list[str]:
    return sorted(os.listdir(path))
