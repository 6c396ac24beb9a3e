"""Generic keyspace commands (DEL ... SWAPDB, OBJECT), expiry and eviction.

Most checks send the same commands to Redoubt and to Debian's redis-server
7.0 and require byte-identical replies. Replies whose order depends on the
hash seed (KEYS, SCAN, RANDOMKEY) are compared as sorted element lists.
"""

import itertools
import random
import time

import pytest

# Commands sent in order to both servers; replies must match byte for byte.
# "~" marks a reply compared order-insensitively, "!" one not compared
# (time-dependent).
CASES = r"""
flushall
set a 1
set b hello
set c 12345678901234567890
set d "a much longer string that certainly exceeds forty four bytes in length"
object encoding a
object encoding b
object encoding c
object encoding d
object encoding nokey
object refcount a
object refcount b
object freq a
object idletime nokey
object foo
object encoding
object encoding a b
type a
type nokey
exists a b nokey a
del a nokey
del a
unlink b
dbsize
expire c 100
ttl c
!pttl c
!expiretime c
persist c
persist c
ttl c
ttl nokey
pttl nokey
expiretime nokey
pexpire c 100000 NX
pexpire c 100000 NX
expire c 50 XX GT
expire c 1000 GT
expire c 10 LT
expire c 10 NX XX
expire c 10 GT LT
expire c 10 BOO
expire c abc
expire c 9999999999999999
pexpire c 9223372036854775807
expireat c 9223372036854775807
pexpireat c 1
exists c
set e 1
expire nokey 10
expire e -1
exists e
set e 1
expireat e 100 XX
persist e
expireat e 4102444800
expiretime e
pexpiretime e
set big v
pexpireat big 9223372036854775807
expiretime big
pexpiretime big
pexpireat big 9223372036854775300
expiretime big
del big
set k v
rename k k2
rename k k2
rename k2 k2
renamenx k2 k2
set k3 v3
renamenx k2 k3
rename k2 k3
get k3
set x 1
move x 1
move x 1
move x 0
move x 99
move x -1
move x abc
select 1
get x
move x 0
select 0
select 16
select -1
select abc
set y hello
copy y y
copy y y2
copy y y2
copy y y2 replace
copy y y2 db 1
copy y y2 db 1 replace
copy y y2 db 99
copy y y2 db abc
copy y y2 foo
copy y y2 db
copy nokey y3
touch y y2 nokey
swapdb 0 1
swapdb 0 99
swapdb 0 x
swapdb x 0
get y2
swapdb 0 1
swapdb 1 1
~keys *
~keys y*
~keys [xy]
keys nomatch*
scan abc
scan " 1"
scan 1.5
scan 0 count 0
scan 0 count -1
scan 0 count abc
scan 0 match
scan 0 foo bar
~scan 0 type string count 1000
~scan 0 type list count 1000
~scan 0 match y* count 1000
~scan 0 count 9223372036854775807
flushdb foo
flushdb async x
flushdb async
flushdb sync
dbsize
randomkey
keys *
scan 0
flushall async
flushall sync
flushall
del
expire
object
"""


def _sorted_elements(reply):
    """A SCAN/KEYS reply with its array elements sorted (hash order)."""
    if isinstance(reply, list) and len(reply) == 2 and isinstance(reply[1], list):
        return [reply[0], sorted(reply[1])]
    if isinstance(reply, list):
        return sorted(reply)
    return reply


def _split(line):
    import shlex
    return shlex.split(line)


@pytest.mark.parametrize("resp", [2, 3])
def test_replies_match_redis(server, redis_server, resp):
    ours, ref = server.raw(), redis_server.raw()
    if resp == 3:
        ours.call("HELLO", "3")
        ref.call("HELLO", "3")
    failures = []
    for line in CASES.strip().splitlines():
        mode = line[0] if line[0] in "~!" else ""
        args = _split(line[len(mode):])
        if mode == "~":
            a, b = ours.call(*args), ref.call(*args)
            if _sorted_elements(a) != _sorted_elements(b):
                failures.append((line, a, b))
            continue
        ours.send_command(*args)
        ref.send_command(*args)
        a, b = ours.recv_reply_raw(), ref.recv_reply_raw()
        if mode != "!" and a != b:
            failures.append((line, a, b))
    assert not failures, "\n".join(f"{l!r}: redoubt={a!r} redis={b!r}"
                                   for l, a, b in failures)


def test_object_freq_and_idletime_follow_policy(server, redis_server):
    for srv in (server, redis_server):
        c = srv.raw()
        c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
        c.call("SET", "f", "7")
        assert c.call("OBJECT", "FREQ", "f") >= 0
        err = c.call("OBJECT", "IDLETIME", "f")
        assert b"An LFU maxmemory policy is selected" in bytes(err.message)
        c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
        c.call("CONFIG", "SET", "maxmemory", "100mb")
        c.call("SET", "n", "5")
        # With an LRU policy and a limit, integers are not shared.
        assert c.call("OBJECT", "REFCOUNT", "n") == 1
        c.call("CONFIG", "SET", "maxmemory", "0")
        c.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
        c.call("SET", "n", "5")
        assert c.call("OBJECT", "REFCOUNT", "n") == 2147483647


def test_glob_matches_redis(server, redis_server):
    """KEYS and SCAN MATCH agree with Redis on every key for random patterns
    over an alphabet full of glob metacharacters."""
    ours, ref = server.client(), redis_server.client()
    alphabet = "ab-]^\\[*"
    keys = {"".join(t) for n in range(4) for t in itertools.product(alphabet, repeat=n)}
    for c in (ours, ref):
        c.flushall()
        pipe = c.pipeline(transaction=False)
        for k in keys:
            pipe.set(k, 1)
        pipe.execute()
    rng = random.Random(7)
    chars = "ab*?[]^-\\"
    for _ in range(600):
        pat = "".join(rng.choice(chars) for _ in range(rng.randint(1, 7)))
        assert sorted(ours.keys(pat)) == sorted(ref.keys(pat)), pat
        got = ours.execute_command("SCAN", 0, "MATCH", pat, "COUNT", 100000)
        assert sorted(got[1]) == sorted(ref.keys(pat)), pat


def test_active_expiry_removes_untouched_keys(server):
    c = server.client()
    c.flushall()
    pipe = c.pipeline(transaction=False)
    for i in range(20000):
        pipe.set(f"volatile:{i}", "v", px=100 + i % 200)
    for i in range(1000):
        pipe.set(f"keep:{i}", "v")
    pipe.execute()
    deadline = time.time() + 10
    while c.dbsize() > 1000 and time.time() < deadline:
        time.sleep(0.1)
    assert c.dbsize() == 1000
    info = c.info("stats")
    assert info["expired_keys"] >= 20000


def test_active_expiry_survives_far_future_deadlines(server):
    # The active cycle averages the TTLs it samples; deadlines near the end
    # of the 64-bit range must not overflow that sum (UBSan aborted here).
    c = server.client()
    c.flushall()
    c.config_set("hz", "100")
    for i in range(50):
        c.set(f"far:{i}", "v")
        assert c.execute_command("PEXPIREAT", f"far:{i}",
                                 9223372036854775000 - i) == 1
    time.sleep(0.5)  # several active cycles at hz 100
    assert c.dbsize() == 50
    assert c.pttl("far:0") > 9000000000000000000
    c.config_set("hz", "10")


def test_lazy_expiry_on_access(server):
    c = server.client()
    c.config_set("hz", "1")  # keep the active cycle mostly out of the way
    c.set("k", "v", px=50)
    time.sleep(0.2)
    assert c.get("k") is None
    assert c.exists("k") == 0
    c.config_set("hz", "10")


def test_scan_returns_every_key_while_growing(server):
    c = server.client()
    c.flushall()
    base = {f"base:{i}".encode() for i in range(2000)}
    pipe = c.pipeline(transaction=False)
    for k in base:
        pipe.set(k, 1)
    pipe.execute()
    seen, cursor, extra = set(), 0, 0
    while True:
        cursor, keys = c.scan(cursor, count=50)
        seen.update(keys)
        # Grow the keyspace between calls to force rehashing.
        pipe = c.pipeline(transaction=False)
        for _ in range(100):
            pipe.set(f"extra:{extra}", 1)
            extra += 1
        pipe.execute()
        if cursor == 0:
            break
    assert base <= seen


@pytest.mark.server_args("--maxmemory", "4mb", "--maxmemory-policy", "allkeys-lru")
def test_eviction_keeps_memory_under_limit(server):
    c = server.client()
    value = "x" * 1000
    pipe = c.pipeline(transaction=False)
    for i in range(12000):  # ~12 MB of values against a 4 MB limit
        pipe.set(f"k:{i}", value)
        if i % 500 == 499:
            pipe.execute()
    pipe.execute()
    mem = c.info("memory")
    stats = c.info("stats")
    assert stats["evicted_keys"] > 0
    assert mem["used_memory"] <= 4 * 1024 * 1024 * 1.1
    assert 0 < c.dbsize() < 12000


@pytest.mark.server_args("--maxmemory", "2mb", "--maxmemory-policy", "noeviction")
def test_noeviction_rejects_writes(server):
    c = server.raw()
    value = "x" * 10000
    err = None
    for i in range(1000):
        reply = c.call("SET", f"k:{i}", value)
        if not isinstance(reply, bytes) and hasattr(reply, "message"):
            err = reply
            break
    assert err is not None
    assert bytes(err.message).startswith(b"OOM command not allowed")
    # Reads and deletes still work.
    assert c.call("GET", "k:0") == value.encode()
    assert c.call("DEL", "k:0") == 1
