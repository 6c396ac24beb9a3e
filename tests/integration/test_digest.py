"""DEBUG DIGEST and DEBUG DIGEST-VALUE against Debian's redis-server 7.0.

Both servers get the same dataset (every type in its small and its large
encoding, several dbs, keys with a TTL set by PEXPIREAT to one absolute
time) and must print the same hex: the dataset digest, and the digest of
every key. An empty server prints forty zeros, a missing key too; changing
one element, a TTL or a key's db changes the digest on both sides alike.

Fixtures (conftest.py): `server` (Redoubt) and `redis_server` (reference),
both started with DEBUG enabled.
"""

import time

import pytest

pytestmark = [
    pytest.mark.plain_only(
        "DEBUG DIGEST does not depend on how clients connect: run once (plain)"),
    pytest.mark.server_args("--enable-debug-command", "yes"),
    pytest.mark.redis_server_args("--enable-debug-command", "yes"),
]

ZEROS = b"0" * 40


def call(c, *args):
    reply = c.call(*args)
    assert not isinstance(reply, Exception), (args, reply)
    return reply


def digest(c):
    return bytes(call(c, "DEBUG", "DIGEST"))


def digest_values(c, *keys):
    return [bytes(v) for v in call(c, "DEBUG", "DIGEST-VALUE", *keys)]


def fill(c, expire_at_ms):
    """The dataset, written the same way to either server through |c|.
    Returns {db: [key, ...]} and {(db, key): expected OBJECT ENCODING}."""
    keys = {}
    encodings = {}

    def run(db, key, encoding, *cmds):
        for cmd in cmds:
            call(c, *cmd)
        keys.setdefault(db, []).append(key)
        if encoding:
            encodings[(db, key)] = encoding

    call(c, "SELECT", "0")
    run(0, "s:embstr", "embstr", ["SET", "s:embstr", "hello"])
    run(0, "s:int", "int", ["SET", "s:int", "12345"])
    run(0, "s:negint", "int", ["SET", "s:negint", "-77"])
    run(0, "s:bigint", "int", ["SET", "s:bigint", "9223372036854775807"])
    run(0, "s:raw", "raw", ["SET", "s:raw", "r" * 100])
    run(0, "s:binary", None, ["SET", "s:binary", bytes(range(256))])
    run(0, "s:empty", None, ["SET", "s:empty", ""])
    run(0, "s:float", "embstr", ["SET", "s:float", "3.14"])

    run(0, "l:small", "quicklist",
        ["RPUSH", "l:small", "a", "1", "-2", "bb", "", "1000000000000", "x" * 70])
    run(0, "l:large", "quicklist",
        ["RPUSH", "l:large", *[f"item-{i}" if i % 3 else str(i) for i in range(3000)]],
        ["LPUSH", "l:large", "v" * 9000])

    run(0, "set:int", "intset", ["SADD", "set:int", "1", "-5", "300", "70000", "-9000000000"])
    run(0, "set:ht", "hashtable", ["SADD", "set:ht", "a", "b", "12", "c" * 80, ""])
    run(0, "set:bigint", "hashtable", ["SADD", "set:bigint", *[str(i * 7) for i in range(600)]])

    run(0, "z:lp", "listpack",
        ["ZADD", "z:lp", "1", "one", "2.5", "two", "-3", "neg", "0.1", "tenth",
         "1e300", "huge", "-inf", "ninf", "+inf", "pinf", "0", "zero", "-0", "mzero",
         "7", "12", "1.5e-7", "tiny", "123456789012345", "bigscore"])
    run(0, "z:skiplist", "skiplist",
        ["ZADD", "z:skiplist",
         *[x for i in range(300) for x in (f"{i / 7:.10f}", f"m{i}")]],
        ["ZADD", "z:skiplist", "-0", "mzero", "0.1", "tenth", "inf", "top", "42", "77"])
    run(0, "z:longmember", "skiplist", ["ZADD", "z:longmember", "1.25", "e" * 100, "2", "b"])

    run(0, "h:lp", "listpack", ["HSET", "h:lp", "f1", "v1", "f2", "22", "33", "", "", "empty"])
    run(0, "h:ht", "hashtable",
        ["HSET", "h:ht", *[x for i in range(700) for x in (f"field{i}", f"value{i * 3}")]])
    run(0, "h:longval", "hashtable", ["HSET", "h:longval", "f", "w" * 100, "n", "5"])

    for key in ("s:embstr", "l:small", "set:ht", "z:lp", "h:ht"):
        assert call(c, "PEXPIREAT", key, str(expire_at_ms)) == 1

    call(c, "SELECT", "3")
    run(3, "s:embstr", "embstr", ["SET", "s:embstr", "hello"])
    run(3, "only3", "listpack", ["HSET", "only3", "a", "1"])
    assert call(c, "PEXPIREAT", "only3", str(expire_at_ms)) == 1

    call(c, "SELECT", "9")
    run(9, "z", "listpack", ["ZADD", "z", "1", "a", "2", "b"])
    run(9, "l", "quicklist", ["RPUSH", "l", "3", "2", "1"])
    call(c, "SELECT", "0")
    return keys, encodings


@pytest.fixture
def pair(server, redis_server):
    ours, ref = server.raw(timeout=30), redis_server.raw(timeout=30)
    yield ours, ref
    ours.close()
    ref.close()


def test_empty_dataset_is_zeros(pair):
    for c in pair:
        assert digest(c) == ZEROS
        assert digest_values(c, "missing", "other") == [ZEROS, ZEROS]
        assert call(c, "DEBUG", "DIGEST-VALUE") == []
        # An emptied db leaves no trace either.
        call(c, "SET", "k", "v")
        assert digest(c) != ZEROS
        call(c, "DEL", "k")
        assert digest(c) == ZEROS


def test_replies_are_byte_identical(pair):
    ours, ref = pair
    for c in pair:
        call(c, "SET", "k", "v")
    for args in (["DEBUG", "DIGEST"], ["DEBUG", "digest-value", "k", "nokey"],
                 ["DEBUG", "DIGEST-VALUE"], ["DEBUG", "DIGEST", "extra"]):
        ours.send_command(*args)
        ref.send_command(*args)
        assert ours.recv_reply_raw() == ref.recv_reply_raw(), args


def test_dataset_digest_matches_redis(pair):
    ours, ref = pair
    expire_at_ms = int(time.time() * 1000) + 3_600_000
    keys, encodings = fill(ours, expire_at_ms)
    assert fill(ref, expire_at_ms) == (keys, encodings)

    # The encodings are the ones the dataset is meant to cover, on both.
    for (db, key), encoding in encodings.items():
        for c in pair:
            call(c, "SELECT", str(db))
            assert bytes(call(c, "OBJECT", "ENCODING", key)) == encoding.encode(), (c, db, key)

    ref_digest = digest(ref)
    assert ref_digest != ZEROS
    assert digest(ours) == ref_digest

    for db, names in keys.items():
        for c in pair:
            call(c, "SELECT", str(db))
            assert sorted(call(c, "KEYS", "*")) == sorted(k.encode() for k in names)
        ref_values = digest_values(ref, *names)
        assert ZEROS not in ref_values
        assert dict(zip(names, digest_values(ours, *names))) == dict(zip(names, ref_values)), db
        # One key at a time gives the same as all at once.
        for name, value in zip(names, ref_values):
            assert digest_values(ours, name) == [value], (db, name)


@pytest.mark.parametrize("change", [
    ["LSET", "l:large", "1500", "changed"],
    ["RPUSH", "l:small", "more"],
    ["SADD", "set:int", "2"],
    ["SREM", "set:ht", "a"],
    ["ZADD", "z:lp", "2.5000001", "two"],
    ["ZADD", "z:skiplist", "5", "m3"],
    ["HSET", "h:lp", "f1", "other"],
    ["HSET", "h:ht", "field7", "x"],
    ["SETRANGE", "s:raw", "50", "Q"],
    ["INCR", "s:int"],
    ["PERSIST", "z:lp"],
    ["PEXPIREAT", "s:int", "99999999999999"],
    ["MOVE", "s:raw", "5"],
], ids=lambda a: " ".join(a[:2]))
def test_changes_change_the_digest(pair, change):
    ours, ref = pair
    expire_at_ms = int(time.time() * 1000) + 3_600_000
    fill(ours, expire_at_ms)
    fill(ref, expire_at_ms)
    before = digest(ref)
    assert digest(ours) == before
    key = change[1]
    key_before = digest_values(ref, key)
    for c in pair:
        assert not isinstance(c.call(*change), Exception)
    after = digest(ref)
    assert after != before
    assert digest(ours) == after
    assert digest_values(ours, key) == digest_values(ref, key)
    if change[0] != "MOVE":
        assert digest_values(ref, key) != key_before


def test_list_order_and_db_matter(pair):
    ours, ref = pair
    seen = []
    for setup in ([["RPUSH", "l", "a", "b"]], [["RPUSH", "l", "b", "a"]],
                  [["SELECT", "1"], ["RPUSH", "l", "a", "b"]]):
        for c in pair:
            call(c, "FLUSHALL")
            call(c, "SELECT", "0")
            for cmd in setup:
                call(c, *cmd)
        value = digest(ref)
        assert digest(ours) == value
        seen.append(value)
    assert len(set(seen)) == 3


def test_set_and_hash_order_do_not_matter(pair):
    ours, ref = pair
    seen = []
    for members in (["a", "b", "c"], ["c", "a", "b"]):
        for c in pair:
            call(c, "FLUSHALL")
            call(c, "SADD", "s", *members)
            call(c, "HSET", "h", *[x for m in members for x in (m, m.upper())])
        value = digest(ref)
        assert digest(ours) == value
        seen.append(value)
    assert seen[0] == seen[1]
