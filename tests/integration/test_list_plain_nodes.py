"""Plain quicklist nodes (Redis 7.0): a list element of at least the packed threshold (1 GB by
default, set by DEBUG QUICKLIST-PACKED-THRESHOLD) lives in a PLAIN node of its own instead of a
listpack, and RDB files and DUMP payloads say so (RDB_TYPE_LIST_QUICKLIST_2: container 1 = PLAIN,
2 = PACKED).

Compared with Debian's redis-server 7.0.15, both started with enable-debug-command and
`rdbcompression no` (the two servers' LZF encoders pick different, equally valid, back-references;
uncompressed, a DUMP payload shows the node layout byte for byte):
  - Redis's tests/unit/type/list.tcl "plain" tests and more (LPUSH/RPUSH, LPOP/RPOP with
    counts, LINDEX, LINSERT, LSET between plain and packed, LREM both ways, LPOS, LRANGE,
    LTRIM, LMOVE/RPOPLPUSH/LMPOP, SORT, DEBUG DIGEST-VALUE, DUMP), replayed on both servers
    in RESP2 and RESP3: every reply identical;
  - a seeded random walk of list commands with elements around a low threshold: same replies,
    same digests;
  - RDB both ways: a file Redis wrote with plain nodes loads in Redoubt with the same node
    layout (DEBUG QUICKLIST, DUMP) and values, survives DEBUG RELOAD, and the file Redoubt
    then writes loads in Redis with the same layout; DUMP/RESTORE both ways.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_list_plain_nodes.py
"""

import random
import re
import shutil

import pytest

import persist_util as pu
from compare import compare_command_group

pytestmark = pytest.mark.plain_only("transport-independent; runs once to keep ./runtest short")

ARGS = ("--enable-debug-command", "yes", "--rdbcompression", "no")
server_args = pytest.mark.server_args(*ARGS)
redis_args = pytest.mark.redis_server_args(*ARGS)


def rep(ch, n):
    return ch * n


def threshold(size):
    return ["DEBUG", "QUICKLIST-PACKED-THRESHOLD", size]


# ---------------------------------------------------------------------------
# Command groups ("@" marks a key). Each starts by setting the threshold and ends by restoring
# the default; DUMP shows the node layout (containers and listpacks) byte for byte.
# ---------------------------------------------------------------------------
A500, B500, C500, D500 = rep("a", 500), rep("b", 500), rep("c", 500), rep("d", 500)
GROUPS = {
    # list.tcl: "plain node check compression" (LINSERT next to plain nodes, LPOP)
    "linsert-lpop": [threshold("1b")] + [["LPUSH", "@l", v] for v in (A500, B500, C500, D500)] + [
        ["LINSERT", "@l", "AFTER", D500, rep("e", 500)],
        ["LINSERT", "@l", "AFTER", D500, rep("f", 500)],
        ["LINSERT", "@l", "BEFORE", D500, rep("g", 500)],
        ["DUMP", "@l"],
        ["LRANGE", "@l", "0", "-1"],
    ] + [["LPOP", "@l"]] * 8 + [["EXISTS", "@l"], threshold("0")],
    # list.tcl: "plain node check compression with ltrim" / "using lset"
    "ltrim-lset": [threshold("1b"),
                   ["LPUSH", "@l", A500],
                   ["LINSERT", "@l", "AFTER", A500, B500],
                   ["RPUSH", "@l", C500],
                   ["LINDEX", "@l", "1"],
                   ["LTRIM", "@l", "1", "-1"],
                   ["LLEN", "@l"],
                   ["LPUSH", "@m", A500],
                   ["LSET", "@m", "0", B500],
                   ["LINDEX", "@m", "0"],
                   ["LPUSH", "@m", C500],
                   ["LSET", "@m", "0", D500],
                   ["LRANGE", "@m", "0", "-1"],
                   ["DUMP", "@l"], ["DUMP", "@m"],
                   threshold("0")],
    # list.tcl: "Test LPUSH and LPOP on plain nodes", LINDEX/LINSERT, LTRIM, LREM, LPOS
    "push-pop-insert": [threshold("1b"),
                        ["LPUSH", "@l", "9"], ["LPUSH", "@l", "xxxxxxxxxx"],
                        ["LPUSH", "@l", "xxxxxxxxxx"], ["LLEN", "@l"], ["DUMP", "@l"],
                        ["RPOP", "@l"], ["RPOP", "@l"], ["LLEN", "@l"], ["LPOP", "@l"],
                        ["LPUSH", "@k", "xxxxxxxxxxx"], ["LPUSH", "@k", "9"],
                        ["LPUSH", "@k", "xxxxxxxxxxx"],
                        ["LINSERT", "@k", "BEFORE", "9", "8"], ["LINDEX", "@k", "1"],
                        ["LINSERT", "@k", "BEFORE", "9", "7"],
                        ["LINSERT", "@k", "BEFORE", "9", "xxxxxxxxxxx"],
                        ["LINDEX", "@k", "3"], ["LRANGE", "@k", "0", "-1"], ["DUMP", "@k"],
                        ["LPUSH", "@t", "9"], ["LPUSH", "@t", "xxxxxxxxxxx"], ["LPUSH", "@t", "9"],
                        ["LTRIM", "@t", "1", "-1"], ["LLEN", "@t"], ["DUMP", "@t"],
                        ["LPUSH", "@r", "one"], ["LPUSH", "@r", "xxxxxxxxxxx"],
                        ["LPUSH", "@r", "9"], ["LREM", "@r", "-2", "one"], ["LLEN", "@r"],
                        ["RPUSH", "@p", "aa"], ["RPUSH", "@p", "bb"], ["RPUSH", "@p", "cc"],
                        ["LSET", "@p", "0", "xxxxxxxxxxx"], ["LPOS", "@p", "xxxxxxxxxxx"],
                        ["DUMP", "@p"],
                        threshold("0")],
    # list.tcl: "Test LMOVE on plain nodes"
    "lmove": [threshold("1b"),
              ["RPUSH", "@s", "aa"], ["RPUSH", "@s", "bb"], ["LSET", "@s", "0", "xxxxxxxxxxx"],
              ["RPUSH", "@s", "cc"], ["RPUSH", "@s", "dd"],
              ["LMOVE", "@s", "@d", "RIGHT", "LEFT"], ["LMOVE", "@s", "@d", "LEFT", "RIGHT"],
              ["LLEN", "@d"], ["LLEN", "@s"], ["DUMP", "@s"], ["DUMP", "@d"],
              ["LPOP", "@s"], ["LPOP", "@s"], ["LPOP", "@d"], ["LPOP", "@d"],
              threshold("0")],
    # list.tcl: "Test LSET with packed / plain combinations", "... split in the middle",
    # "... packed consist only one item", "Crash due to delete entry from a compress quicklist
    # node", "Crash due to split quicklist node wrongly"
    "lset-combinations": [threshold("5b"),
                          ["RPUSH", "@l", "aa"], ["RPUSH", "@l", "bb"],
                          ["LSET", "@l", "0", rep("d", 50001)], ["DUMP", "@l"],
                          ["LPOP", "@l"],
                          ["RPUSH", "@l", rep("f", 50001)],
                          ["LSET", "@l", "0", rep("e", 50001)], ["LPOP", "@l"],
                          ["RPUSH", "@l", rep("m", 50001)],
                          ["LSET", "@l", "0", "bb"], ["DUMP", "@l"], ["LPOP", "@l"],
                          ["RPUSH", "@l", "bb"], ["LSET", "@l", "0", "cc"], ["LPOP", "@l"],
                          ["LRANGE", "@l", "0", "-1"],
                          ["RPUSH", "@s", "aa", "bb", "cc", "dd", "ee"],
                          ["LSET", "@s", "2", rep("e", 10)], ["DUMP", "@s"],
                          ["LPOP", "@s"], ["LPOP", "@s"], ["LPOP", "@s"], ["LPOP", "@s"],
                          ["LPOP", "@s"],
                          threshold("100b"),
                          ["RPUSH", "@c", rep("x", 100)], ["RPUSH", "@c", rep("x", 32)],
                          ["RPUSH", "@c", rep("x", 32)], ["LSET", "@c", "-1", rep("x", 100)],
                          ["LRANGE", "@c", "0", "-1"], ["DUMP", "@c"],
                          threshold("10b"),
                          ["LPUSH", "@w", "aa"], ["LPUSH", "@w", "bb"],
                          ["LSET", "@w", "-2", rep("x", 10)], ["RPOP", "@w"],
                          ["LRANGE", "@w", "0", "-1"], ["DUMP", "@w"],
                          threshold("0")],
    "lset-one-item-nodes": [["CONFIG", "SET", "list-max-listpack-size", "1"], threshold("1b"),
                            ["RPUSH", "@l", "aa"], ["RPUSH", "@l", "bb"],
                            ["LSET", "@l", "0", rep("d", 50001)], ["LPOP", "@l"],
                            ["RPUSH", "@l", rep("f", 50001)],
                            ["LSET", "@l", "0", rep("e", 50001)], ["LPOP", "@l"],
                            ["RPUSH", "@l", rep("m", 50001)],
                            ["LSET", "@l", "0", "bb"], ["DUMP", "@l"], ["LPOP", "@l"],
                            ["RPUSH", "@l", "bb"], ["LSET", "@l", "0", "cc"], ["LPOP", "@l"],
                            ["RPUSH", "@n", "a", "b", "c", "d"],
                            ["LINSERT", "@n", "AFTER", "b", "bigger"],
                            ["LINSERT", "@n", "BEFORE", "a", "bigger"],
                            ["DUMP", "@n"], ["LRANGE", "@n", "0", "-1"],
                            ["CONFIG", "SET", "list-max-listpack-size", "-2"], threshold("0")],
    # The rest of the list commands over a mixed list (threshold 8 bytes).
    "mixed-commands": [threshold("8b"),
                       ["RPUSH", "@l", "a", "12345678", "b", "1234567", "c", "longer-than-8",
                        "d", "e", "longer-than-8", "f", "-123456789", "g"],
                       ["DUMP", "@l"], ["OBJECT", "ENCODING", "@l"],
                       ["LRANGE", "@l", "0", "-1"], ["LRANGE", "@l", "2", "5"],
                       ["LRANGE", "@l", "-4", "-2"],
                       ["LINDEX", "@l", "1"], ["LINDEX", "@l", "-3"], ["LINDEX", "@l", "99"],
                       ["LPOS", "@l", "longer-than-8"],
                       ["LPOS", "@l", "longer-than-8", "RANK", "-1"],
                       ["LPOS", "@l", "longer-than-8", "COUNT", "0"],
                       ["LPOS", "@l", "longer-than-8", "COUNT", "0", "MAXLEN", "5"],
                       ["LPOS", "@l", "12345678"], ["LPOS", "@l", "-123456789"],
                       ["DEBUG", "DIGEST-VALUE", "@l"],
                       ["SORT", "@l", "ALPHA"], ["SORT", "@l", "ALPHA", "LIMIT", "2", "3", "DESC"],
                       ["LINSERT", "@l", "BEFORE", "longer-than-8", "inserted-long-one"],
                       ["LINSERT", "@l", "AFTER", "c", "x"],
                       ["LSET", "@l", "1", "also-a-long-one"], ["LSET", "@l", "2", "short"],
                       ["LSET", "@l", "-1", "long-at-the-tail"],
                       ["DUMP", "@l"],
                       ["LREM", "@l", "1", "longer-than-8"], ["LREM", "@l", "-1", "short"],
                       ["LREM", "@l", "0", "also-a-long-one"],
                       ["LRANGE", "@l", "0", "-1"], ["DUMP", "@l"],
                       ["LPOP", "@l", "2"], ["RPOP", "@l", "2"],
                       ["RPOPLPUSH", "@l", "@m"], ["LMOVE", "@l", "@m", "LEFT", "LEFT"],
                       ["LMPOP", "2", "@x", "@l", "RIGHT", "COUNT", "2"],
                       ["BLMPOP", "0.01", "1", "@m", "LEFT", "COUNT", "5"],
                       ["LTRIM", "@l", "1", "-2"], ["LRANGE", "@l", "0", "-1"],
                       ["DEBUG", "DIGEST-VALUE", "@l", "@m"], ["DUMP", "@l"],
                       ["RPUSH", "@big", rep("z", 3000), rep("y", 7), rep("x", 9000)],
                       ["DUMP", "@big"], ["LRANGE", "@big", "1", "1"],
                       threshold("0"),
                       # Default threshold: what is plain stays plain, new ones are packed.
                       ["RPUSH", "@l", "now-packed-long-value"], ["DUMP", "@l"],
                       ["LSET", "@big", "0", "back-to-packed"], ["DUMP", "@big"]],
    # DEBUG QUICKLIST-PACKED-THRESHOLD argument checks.
    "threshold-arguments": [threshold("0"), threshold("1"), threshold("1k"), threshold("1kb"),
                            threshold("4gb"), threshold("4095mb"), threshold("4096mb"),
                            threshold("4294967295"), threshold("-1"), threshold("abc"),
                            threshold(""), threshold("1.5k"), threshold("99999999999999999999"),
                            ["DEBUG", "QUICKLIST-PACKED-THRESHOLD"],
                            ["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1", "2"],
                            threshold("0")],
}


@server_args
@redis_args
@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_plain_node_groups_like_redis(server, redis_server, resp3):
    """Every group of GROUPS replayed on both servers: identical replies, DUMPs included."""
    for tag, commands in GROUPS.items():
        compare_command_group(server, redis_server, commands, ["debug"], tag, resp3=resp3)


# ---------------------------------------------------------------------------
# A seeded random walk with elements around a low threshold
# ---------------------------------------------------------------------------
def random_commands(rng, key, other, steps):
    def value():
        # Around the 16-byte threshold, integers included (they stay strings in plain nodes).
        kind = rng.randrange(5)
        if kind == 0:
            return str(rng.randrange(-100000, 100000))
        if kind == 1:
            return str(rng.randrange(10**15, 10**17))
        return rep(rng.choice("abc"), rng.choice([1, 5, 15, 16, 17, 40]))

    out = [threshold("16b")]
    for _ in range(steps):
        op = rng.randrange(14)
        if op < 4:
            out.append([rng.choice(["LPUSH", "RPUSH"]), key] +
                       [value() for _ in range(rng.randrange(1, 4))])
        elif op == 4:
            out.append(["LSET", key, str(rng.randrange(-6, 6)), value()])
        elif op == 5:
            out.append(["LINSERT", key, rng.choice(["BEFORE", "AFTER"]), value(), value()])
        elif op == 6:
            out.append(["LREM", key, str(rng.randrange(-2, 3)), value()])
        elif op == 7:
            out.append([rng.choice(["LPOP", "RPOP"]), key] +
                       ([str(rng.randrange(1, 3))] if rng.random() < 0.3 else []))
        elif op == 8:
            out.append(["LTRIM", key, str(rng.randrange(-3, 2)), str(rng.randrange(-2, 40))])
        elif op == 9:
            out.append(["LMOVE", key, other, rng.choice(["LEFT", "RIGHT"]),
                        rng.choice(["LEFT", "RIGHT"])])
        elif op == 10:
            out.append(["LPOS", key, value(), "COUNT", "0"])
        elif op == 11:
            out.append(["LINDEX", key, str(rng.randrange(-8, 8))])
        elif op == 12:
            out.append(["LRANGE", key, "0", "-1"])
        else:
            out.append(["DEBUG", "DIGEST-VALUE", key, other])
    out += [["LRANGE", key, "0", "-1"], ["LRANGE", other, "0", "-1"],
            ["DEBUG", "DIGEST-VALUE", key, other], threshold("0")]
    return out


@server_args
@redis_args
def test_random_list_walk_like_redis(server, redis_server):
    """Seeded random list commands over elements just below, at and above a 16-byte threshold:
    every reply equal, and the values (and their digests) equal at the end."""
    for seed in range(4):
        rng = random.Random(1600 + seed)
        cmds = random_commands(rng, "@l", "@o", 400)
        compare_command_group(server, redis_server, cmds, ["debug"], f"walk{seed}")


# ---------------------------------------------------------------------------
# RDB files and DUMP payloads, both ways
# ---------------------------------------------------------------------------
QL_LINE = re.compile(r"^\{(count|len|fill|compress|bookmark_count) : |^\{quicklist node\(|"
                     r"^\{container : ")
COMPRESS_FIELDS = re.compile(r", recompress: \d+, attempted_compress: \d+")


def quicklist_layout(srv, key, marker):
    """DEBUG QUICKLIST <key> (non-full): the description the server prints on its stdout (the
    test log), ended by a DEBUG LOG marker (which also flushes Redis's stdout)."""
    with srv.raw() as c:
        assert c.call("DEBUG", "QUICKLIST", key) == b"Quicklist structure printed on stdout"
        assert c.call("DEBUG", "LOG", marker) == b"OK"
    assert srv.wait_for_log(marker, timeout=5), srv.log_tail()
    lines = srv.log_text().splitlines()
    end = max(i for i, line in enumerate(lines) if marker in line)
    start = max(i for i in range(end) if lines[i].startswith("{count : "))
    # Redis's compression bookkeeping (attempted_compress) is not part of the layout.
    return [COMPRESS_FIELDS.sub("", line) for line in lines[start:end] if QL_LINE.match(line)]


PLAIN_KEYS = {
    # key: (threshold, elements)
    "plain:mixed": ("1kb", ["a", "b", rep("x", 1500), "c", rep("y", 3000), "d", "1",
                           rep("z", 1024), rep("w", 1023)]),
    "plain:edges": ("1kb", [rep("h", 2000), "m1", "m2", rep("t", 1100)]),
    "plain:only": ("1kb", [rep("p", 1024), rep("q", 1025), rep("r", 5000)]),
    "plain:ints": ("1b", ["12345", "-1", "9223372036854775807", "", "x"]),
    "packed:only": ("1kb", ["small", "1", rep("s", 1023)]),
}


def fill_plain_keys(srv):
    with srv.raw() as c:
        for key, (size, elements) in PLAIN_KEYS.items():
            assert c.call(*threshold(size)) == b"OK"
            for e in elements:
                c.call("RPUSH", key, e)
        assert c.call(*threshold("0")) == b"OK"


def snapshot(srv, tag):
    """{key: (LRANGE, DUMP, DEBUG QUICKLIST layout)} for every key of PLAIN_KEYS."""
    out = {}
    with srv.raw() as c:
        for key in PLAIN_KEYS:
            out[key] = (c.call("LRANGE", key, "0", "-1"), c.call("DUMP", key))
    for n, key in enumerate(PLAIN_KEYS):
        out[key] += (quicklist_layout(srv, key, f"layout-{tag}-{n}"),)
    return out


def assert_same_snapshot(got, want, context):
    for key in PLAIN_KEYS:
        g, w = got[key], want[key]
        assert g[0] == w[0], f"{context}: {key}: values differ"
        assert g[2] == w[2], f"{context}: {key}: layout\n  got  {g[2]}\n  want {w[2]}"
        assert g[1] == w[1], f"{context}: {key}: DUMP payloads differ"


def test_rdb_with_plain_nodes_both_ways_with_redis(server_factory, redis_server_factory,
                                                   tmp_path):
    """Redis writes an RDB holding PLAIN nodes (at the head, the tail, the middle, one after
    another, integer-like ones, next to an empty packed element); Redoubt, started on it with
    the default threshold, holds the same values in the same nodes (DEBUG QUICKLIST) with the
    same DUMP payloads; after DEBUG RELOAD too; the file Redoubt writes loads in a fresh Redis
    with the same layout."""
    ref = redis_server_factory(list(ARGS))
    fill_plain_keys(ref)
    want = snapshot(ref, "redis")
    # The fixture is what it claims: PLAIN nodes where expected.
    assert "{container : PLAIN, encoding: RAW, size: 1500, count: 1}" in want["plain:mixed"][2]
    assert not any("PLAIN" in line for line in want["packed:only"][2])
    assert sum("PLAIN" in line for line in want["plain:ints"][2]) == 4
    with ref.raw() as c:
        assert c.call("SAVE") == b"OK"

    ours_dir = tmp_path / "ours"
    ours_dir.mkdir()
    shutil.copyfile(ref.dir / "dump.rdb", ours_dir / "redis-plain.rdb")
    ours = pu.start_on_file(server_factory, ours_dir, "redis-plain.rdb", *ARGS)
    assert_same_snapshot(snapshot(ours, "loaded"), want, "Redoubt after loading Redis's RDB")

    with ours.raw() as c:
        assert c.call("DEBUG", "RELOAD") == b"OK"
    assert_same_snapshot(snapshot(ours, "reloaded"), want, "Redoubt after DEBUG RELOAD")
    with ours.raw() as c:
        assert c.call("SAVE") == b"OK"

    back_dir = tmp_path / "back"
    back_dir.mkdir()
    shutil.copyfile(ours_dir / "redis-plain.rdb", back_dir / "redoubt-plain.rdb")
    ref2 = pu.start_on_file(redis_server_factory, back_dir, "redoubt-plain.rdb", *ARGS)
    assert_same_snapshot(snapshot(ref2, "redis-again"), want, "Redis loading Redoubt's RDB")


@server_args
@redis_args
def test_dump_restore_plain_nodes_both_ways(server, redis_server):
    """DUMP payloads with PLAIN nodes RESTORE on the other server into the same nodes: the
    payload DUMPed again is the same bytes, and the layouts agree."""
    fill_plain_keys(redis_server)
    fill_plain_keys(server)
    for src, dst, tag in ((redis_server, server, "to-redoubt"), (server, redis_server,
                                                                   "to-redis")):
        with src.raw() as s, dst.raw() as d:
            for key in PLAIN_KEYS:
                payload = s.call("DUMP", key)
                assert d.call("RESTORE", "copy:" + key, "0", payload) == b"OK"
                assert d.call("DUMP", "copy:" + key) == payload, f"{tag}: {key}"
                assert d.call("LRANGE", "copy:" + key, "0", "-1") == \
                    s.call("LRANGE", key, "0", "-1")
        for n, key in enumerate(PLAIN_KEYS):
            assert quicklist_layout(dst, "copy:" + key, f"{tag}-{n}-copy") == \
                quicklist_layout(src, key, f"{tag}-{n}-orig"), f"{tag}: {key}"


@server_args
@redis_args
def test_corrupt_plain_node_payloads_refused_like_redis(server, redis_server):
    """RESTORE of a quicklist-2 payload with an empty PLAIN node or an unknown container is
    refused by both servers, and leaves no key."""
    version = 10
    bodies = {
        # type 18, 1 node, container 1 (PLAIN), empty string
        "empty-plain": bytes([18, 1, 1, 0]),
        # container 3
        "bad-container": bytes([18, 1, 3, 1]) + b"x",
        # PLAIN then truncated
        "truncated": bytes([18, 2, 1, 1]) + b"x" + bytes([1]),
    }
    for name, body in bodies.items():
        payload = pu.make_dump_payload(body, version)
        for srv in (server, redis_server):
            with srv.raw() as c:
                reply = c.call("RESTORE", "k:" + name, "0", payload)
                assert isinstance(reply, pu.RespError), f"{name}: {reply!r}"
                assert reply.message == b"ERR Bad data format", (name, reply)
                assert c.call("EXISTS", "k:" + name) == 0
    # A well-formed one-node PLAIN payload is accepted by both, as a PLAIN node.
    payload = pu.make_dump_payload(bytes([18, 1, 1, 3]) + b"abc", version)
    for srv in (server, redis_server):
        with srv.raw() as c:
            assert c.call("RESTORE", "k:ok", "0", payload) == b"OK"
            assert c.call("LRANGE", "k:ok", "0", "-1") == [b"abc"]
            assert c.call("DUMP", "k:ok") == payload
