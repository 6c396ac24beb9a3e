"""MODULE and the DEBUG subcommands test suites rely on, against Debian's redis-server 7.0.15.

MODULE: Redoubt never loads modules (README, "Modules"). MODULE LIST is empty and MODULE HELP,
the arity errors, INFO modules, COMMAND INFO and COMMAND DOCS are Redis's; MODULE LOAD, LOADEX
and UNLOAD are refused with the reason (whatever enable-module-command says, where Redis first
asks for that option), and a `loadmodule` directive stops the start-up naming the file and line.

DEBUG (enable-debug-command yes on both servers): LISTPACK, QUICKLIST [0|1] (their structure
printed on stdout, as Redis), QUICKLIST-PACKED-THRESHOLD, STRINGMATCH-TEST, CHANGE-REPL-ID,
SET-SKIP-CHECKSUM-VALIDATION (DUMP payloads and RDB files), DIGEST / DIGEST-VALUE, OBJECT on
lists, HELP; and OBJECT ENCODING for every type and encoding Redis 7.0 has. Replies are compared
byte for byte in RESP2 and RESP3 (`rdbcompression no` on both: DEBUG OBJECT's serializedlength
is then exact on both sides).

Run: /usr/bin/python3 -m pytest -q tests/integration/test_debug_module.py
"""

import re
import time

import pytest

import harness
import persist_util as pu
from compare import compare_command_group
from harness import RespError

ARGS = ("--enable-debug-command", "yes", "--rdbcompression", "no")
pytestmark = [
    pytest.mark.plain_only("transport-independent; runs once to keep ./runtest short"),
    pytest.mark.server_args(*ARGS),
    pytest.mark.redis_server_args(*ARGS),
]

RESP = pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
REFUSAL = ("is not supported: Redoubt does not load shared objects into the process that holds "
           "the dataset (see README)")


def call(srv, *args):
    with srv.raw() as c:
        return c.call(*args)


def raw_bytes(srv, *args):
    with srv.raw() as c:
        c.send_command(*args)
        return c.recv_reply_raw()


# ---------------------------------------------------------------------------
# MODULE
# ---------------------------------------------------------------------------
MODULE_GROUP = [
    ["MODULE", "LIST"], ["MODULE", "list"], ["MODULE", "HELP"],
    ["MODULE"], ["MODULE", "LIST", "extra"], ["MODULE", "HELP", "extra"],
    ["MODULE", "FOO"], ["MODULE", "LOAD"], ["MODULE", "LOADEX"], ["MODULE", "UNLOAD"],
    ["MODULE", "UNLOAD", "a", "b"],
    ["INFO", "modules"], ["INFO", "module_list"],
    ["EVAL", "return redis.call('module', 'list')", "0"],
    ["EVAL", "return redis.call('module', 'load', '/x.so')", "0"],
]


@RESP
def test_module_replies_like_redis(server, redis_server, resp3):
    """MODULE LIST (empty), HELP, unknown subcommands, arity errors, INFO modules and MODULE
    from a script: the same bytes as Redis with no module loaded."""
    compare_command_group(server, redis_server, MODULE_GROUP, ["module"], "module", resp3=resp3)


def test_module_load_loadex_unload_refused_with_the_reason(server, redis_server):
    """LOAD, LOADEX and UNLOAD reply why they do nothing, with the default
    enable-module-command (Redis asks for that option first); nothing gets loaded."""
    for sub, args in (("LOAD", ["/usr/lib/redis/modules/redisbloom.so"]),
                      ("LOAD", ["/tmp/x.so", "arg1", "arg2"]),
                      ("LOADEX", ["/tmp/x.so", "CONFIG", "a", "b", "ARGS", "c"]),
                      ("UNLOAD", ["bf"])):
        assert raw_bytes(server, "MODULE", sub, *args) == \
            f"-ERR MODULE {sub} {REFUSAL}\r\n".encode()
        assert raw_bytes(server, "module", sub.lower(), *args) == \
            f"-ERR MODULE {sub} {REFUSAL}\r\n".encode()
    assert call(server, "MODULE", "LIST") == []
    # Redis's own answer, for the record: the protected-command gate.
    ref = call(redis_server, "MODULE", "LOAD", "/tmp/x.so")
    assert isinstance(ref, RespError) and b"enable-module-command" in ref.message
    # Counted as failed calls of the subcommand, as errors are.
    stats = call(server, "INFO", "commandstats").decode()
    assert re.search(r"cmdstat_module\|load:calls=4,.*failed_calls=4", stats), stats


def normalize_info(entry):
    """A COMMAND INFO entry with its subcommands sorted by name (Redis lists them in its hash
    table's order)."""
    entry = list(entry)
    entry[9] = sorted((normalize_info(s) for s in entry[9]), key=lambda s: s[0])
    return entry


def normalize_docs(docs):
    d = {docs[i]: docs[i + 1] for i in range(0, len(docs), 2)}
    if b"subcommands" in d:
        subs = d[b"subcommands"]
        d[b"subcommands"] = {subs[i]: normalize_docs(subs[i + 1])
                             for i in range(0, len(subs), 2)}
    return d


def test_module_command_info_and_docs_like_redis(server, redis_server):
    """COMMAND INFO and COMMAND DOCS for MODULE and each subcommand: Redis's arity, flags
    (LOAD/LOADEX/UNLOAD admin, noscript, no_async_loading), ACL categories and documentation."""
    names = ["module", "module|help", "module|list", "module|load", "module|loadex",
             "module|unload"]
    ours = [normalize_info(e) for e in call(server, "COMMAND", "INFO", *names)]
    ref = [normalize_info(e) for e in call(redis_server, "COMMAND", "INFO", *names)]
    assert ours == ref
    assert b"no_async_loading" in ours[3][2]
    for name in names:
        ours, ref = call(server, "COMMAND", "DOCS", name), call(redis_server, "COMMAND", "DOCS",
                                                                 name)
        assert ours[0] == ref[0] == name.encode()
        assert normalize_docs(ours[1]) == normalize_docs(ref[1]), name


def start_expecting_refusal(tmp_path, name, args=(), conf=None):
    srv = harness.ServerProcess(harness.server_binary(), tmp_path / name, args=list(args),
                                conf=conf, name=name)
    try:
        srv.port = harness.free_port()
        srv._spawn()
        with pytest.raises(harness.ServerCrashed):
            srv._wait_ready()
        assert srv.returncode is not None and srv.returncode > 0, srv.log_tail()
        return srv, srv.log_text()
    finally:
        if srv.is_running():
            srv.kill()


def test_loadmodule_directive_refused_at_startup_with_file_and_line(tmp_path):
    """`loadmodule` in a config file stops the start-up like any bad line: the file name, the
    line number, the line, and why; on the command line, the same reason."""
    conf = ("# modules\n"
            "maxmemory-policy noeviction\n"
            "loadmodule /usr/lib/redis/modules/redisbloom.so ERROR_RATE 0.01\n"
            "maxclients 100\n")
    srv, log = start_expecting_refusal(tmp_path, "loadmodule", conf=conf)
    conf_path = srv.dir / "loadmodule.conf"
    assert f"Reading the configuration file {conf_path}, at line 3" in log, log
    assert ">>> 'loadmodule /usr/lib/redis/modules/redisbloom.so ERROR_RATE 0.01'" in log, log
    assert f"loadmodule {REFUSAL}" in log, log

    _, log = start_expecting_refusal(tmp_path, "loadmodule-cli",
                                     args=["--loadmodule", "/tmp/x.so"])
    assert "Reading the configuration from the command line" in log, log
    assert f"loadmodule {REFUSAL}" in log, log


def test_info_modules_and_module_fork_fields_like_redis(server, redis_server):
    """INFO modules is an empty section, and INFO persistence has Redis 7.0's
    module_fork_in_progress and module_fork_last_cow_size (both 0)."""
    assert raw_bytes(server, "INFO", "modules") == raw_bytes(redis_server, "INFO", "modules")
    for srv in (server, redis_server):
        info = pu.info(srv, "persistence")
        assert info["module_fork_in_progress"] == "0"
        assert info["module_fork_last_cow_size"] == "0"
    everything = call(server, "INFO", "everything").decode()
    assert "\r\n# Modules\r\n" in everything


# ---------------------------------------------------------------------------
# DEBUG
# ---------------------------------------------------------------------------
DEBUG_GROUP = [
    ["RPUSH", "@list", "a", "1", "bb", "-2"],
    ["HSET", "@hash", "f", "v", "n", "12345"],
    ["ZADD", "@zset", "1.5", "m", "2", "n"],
    ["SADD", "@intset", "1", "2"],
    ["SADD", "@set", "a", "b"],
    ["SET", "@str", "value"],
    ["XADD", "@stream", "1-1", "f", "v"],
    ["DEBUG", "LISTPACK", "@missing"], ["DEBUG", "LISTPACK", "@list"],
    ["DEBUG", "LISTPACK", "@hash"], ["DEBUG", "LISTPACK", "@zset"],
    ["DEBUG", "LISTPACK", "@intset"], ["DEBUG", "LISTPACK", "@set"],
    ["DEBUG", "LISTPACK", "@str"], ["DEBUG", "LISTPACK", "@stream"],
    ["DEBUG", "LISTPACK"], ["DEBUG", "LISTPACK", "@hash", "x"],
    ["DEBUG", "QUICKLIST", "@missing"], ["DEBUG", "QUICKLIST", "@list"],
    ["DEBUG", "QUICKLIST", "@list", "1"], ["DEBUG", "QUICKLIST", "@list", "0"],
    ["DEBUG", "QUICKLIST", "@list", "x"], ["DEBUG", "QUICKLIST", "@hash"],
    ["DEBUG", "QUICKLIST", "@str", "1"], ["DEBUG", "QUICKLIST"],
    ["DEBUG", "QUICKLIST", "@list", "1", "2"],
    ["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1k"], ["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "5gb"],
    ["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0"],
    ["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1"],
    ["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0"],
    ["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION"],
    ["DEBUG", "CHANGE-REPL-ID"], ["DEBUG", "CHANGE-REPL-ID", "x"],
    ["DEBUG", "STRINGMATCH-TEST", "x"],
    ["DEBUG", "DIGEST-VALUE", "@list", "@hash", "@missing"], ["DEBUG", "DIGEST-VALUE"],
    ["DEBUG", "OBJECT", "@missing"], ["DEBUG", "NOSUCH"], ["DEBUG", "nosuch", "a", "b"],
]


@RESP
def test_debug_subcommand_replies_like_redis(server, redis_server, resp3):
    """The replies (and errors) of the DEBUG subcommands, byte for byte."""
    compare_command_group(server, redis_server, DEBUG_GROUP, ["debug"], "debug", resp3=resp3)


def test_debug_help_lists_redis_subcommands_in_redis_words(server, redis_server):
    """DEBUG HELP lists what this server has, each in Redis's words and order (LISTENERS is
    Redoubt's own), and every subcommand listed is known."""
    ours = [line.decode() for line in call(server, "DEBUG", "HELP")]
    ref = [line.decode() for line in call(redis_server, "DEBUG", "HELP")]
    assert ours[0] == ref[0]
    i = ours.index("LISTENERS")
    ours_redis = ours[1:i] + ours[i + 3:]
    pos = 0
    for line in ours_redis:
        assert line in ref[pos:], f"{line!r} not in Redis's DEBUG HELP (in this order)"
        pos = ref.index(line, pos) + 1
    for name in ("CHANGE-REPL-ID", "DIGEST", "DIGEST-VALUE <key> [<key> ...]",
                 "QUICKLIST-PACKED-THRESHOLD <size>", "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
                 "STRINGMATCH-TEST", "LISTPACK <key>", "QUICKLIST <key> [<0|1>]",
                 "RELOAD [option ...]"):
        assert name in ours, name


def test_debug_object_on_lists_like_redis(server, redis_server):
    """DEBUG OBJECT on lists of one node, many nodes and with PLAIN nodes: encoding,
    serializedlength and the ql_* fields as Redis (address and LRU aside)."""
    def fill(srv):
        with srv.raw() as c:
            c.call("RPUSH", "one", "a", "b", "1", "-1000000")
            c.call("RPUSH", "many", *[f"element-{i}" for i in range(2000)])
            c.call("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100b")
            c.call("RPUSH", "plain", "a", "x" * 100, "b", "y" * 1000, "c" * 99)
            c.call("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0")
            return [re.sub(rb"^Value at:0x[0-9a-f]+ | lru:\d+ lru_seconds_idle:\d+", b"",
                           c.call("DEBUG", "OBJECT", key))
                    for key in ("one", "many", "plain")]
    ours, ref = fill(server), fill(redis_server)
    assert ours == ref
    assert b" ql_nodes:5 " in ours[2]  # [a] [x*100] [b] [y*1000] [c*99]


REPR_LINE = re.compile(r"^\{(count|len|fill|compress|bookmark_count) : |^\{quicklist node\(|"
                       r"^\{container : |^\{ entry : |^\{ listpack:|^\{total bytes |"
                       r"^\{end\}|^\tindex: |^\toffset: |^\thdr\+entrylen\+backlen: |"
                       r"^\tbytes: |^\t\[str\]")
COMPRESS_FIELDS = re.compile(r", recompress: \d+, attempted_compress: \d+")


def printed_structure(srv, args, marker):
    """What DEBUG LISTPACK / QUICKLIST print on stdout (the test log), ended by a DEBUG LOG
    marker (which also flushes Redis's stdout): the lines both servers print, without Redis's
    hdrlen/backlen/payload split of an entry and its compression bookkeeping."""
    with srv.raw() as c:
        reply = c.call("DEBUG", *args)
        assert c.call("DEBUG", "LOG", marker) == b"OK"
    assert srv.wait_for_log(marker, timeout=5), srv.log_tail()
    lines = srv.log_text().splitlines()
    end = max(i for i, line in enumerate(lines) if marker in line)
    first = "{total bytes " if args[0] == "LISTPACK" else "{count : "
    start = max(i for i in range(end) if lines[i].startswith(first))
    return reply, [COMPRESS_FIELDS.sub("", line) for line in lines[start:end]
                   if REPR_LINE.match(line)]


def test_debug_listpack_and_quicklist_print_redis_structure(server, redis_server):
    """DEBUG LISTPACK prints a listpack as Redis's lpRepr (totals, and per entry its index,
    offset, size, bytes and value), DEBUG QUICKLIST the nodes (PLAIN or PACKED, size, count)
    and with 1 each node's listpack or element: the same lines as Redis prints."""
    def fill(srv):
        with srv.raw() as c:
            c.call("HSET", "h", "field", "value", "n", "-12345", "big", "z" * 60)
            c.call("ZADD", "z", "1.5", "m", "-3", "n")
            c.call("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "50b")
            c.call("RPUSH", "l", "a", "1", "x" * 60, "b", "y" * 50, "c" * 49)
            c.call("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0")
    fill(server)
    fill(redis_server)
    for n, args in enumerate((["LISTPACK", "h"], ["LISTPACK", "z"], ["QUICKLIST", "l"],
                              ["QUICKLIST", "l", "1"])):
        ours = printed_structure(server, args, f"mark-ours-{n}")
        ref = printed_structure(redis_server, args, f"mark-ref-{n}")
        assert ours == ref, args
    reply, lines = printed_structure(server, ["QUICKLIST", "l", "1"], "mark-again")
    assert reply == b"Quicklist structure printed on stdout"
    assert "{container : PLAIN, encoding: RAW, size: 60, count: 1}" in lines
    assert "{ entry : " + "x" * 60 + " }" in lines
    assert "\t[str]-12345" in printed_structure(server, ["LISTPACK", "h"], "mark-h")[1]


def test_debug_stringmatch_test_like_redis(server):
    """Redis's glob-matcher fuzz run (10 million random patterns and strings) completes with
    Redis's reply (src/debug.c; redis-server itself takes ~10 s over it, so it is not run
    here), and the server still answers."""
    with server.raw(timeout=120) as c:
        c.send_command("DEBUG", "STRINGMATCH-TEST")
        assert c.recv_reply_raw() == b"+Apparently Redis did not crash: test passed\r\n"
        assert c.call("PING") == b"PONG"


def test_debug_change_repl_id_like_redis(server, redis_server):
    """CHANGE-REPL-ID gives a new master_replid and clears the second one, as in Redis."""
    for srv in (server, redis_server):
        before = pu.info(srv, "replication")
        assert call(srv, "DEBUG", "CHANGE-REPL-ID") == b"OK"
        after = pu.info(srv, "replication")
        assert re.fullmatch(r"[0-9a-f]{40}", after["master_replid"])
        assert after["master_replid"] != before["master_replid"]
        assert after["master_replid2"] == "0" * 40
        assert after["second_repl_offset"] == "-1"
        assert after["master_repl_offset"] == before["master_repl_offset"]
    assert "Changing replication IDs after receiving DEBUG change-repl-id" in server.log_text()


def test_debug_set_skip_checksum_validation_like_redis(server, redis_server):
    """With SET-SKIP-CHECKSUM-VALIDATION 1, RESTORE accepts a payload whose CRC is wrong and
    DEBUG RELOAD NOSAVE loads an RDB file whose CRC is wrong; 0 checks again."""
    for srv in (server, redis_server):
        with srv.raw() as c:
            assert c.call("RPUSH", "l", "a", "b", "c") == 3
            payload = c.call("DUMP", "l")
            bad = payload[:-1] + bytes([payload[-1] ^ 0x55])
            err = c.call("RESTORE", "copy", "0", bad)
            assert err == RespError(b"ERR DUMP payload version or checksum are wrong")
            assert c.call("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1") == b"OK"
            assert c.call("RESTORE", "copy", "0", bad) == b"OK"
            assert c.call("LRANGE", "copy", "0", "-1") == [b"a", b"b", b"c"]
            assert c.call("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0") == b"OK"
            assert c.call("RESTORE", "copy2", "0", bad) == err
            assert c.call("EXISTS", "copy2") == 0
            # An RDB file with a damaged CRC trailer.
            assert c.call("SAVE") == b"OK"
        path = srv.dir / "dump.rdb"
        data = path.read_bytes()
        path.write_bytes(data[:-1] + bytes([data[-1] ^ 0x55]))
        with srv.raw() as c:
            assert c.call("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1") == b"OK"
            assert c.call("DEBUG", "RELOAD", "NOSAVE") == b"OK"
            assert c.call("LRANGE", "copy", "0", "-1") == [b"a", b"b", b"c"]
            assert c.call("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0") == b"OK"
    # Checked again (Redis would exit on this reload: only Redoubt is asked).
    reply = call(server, "DEBUG", "RELOAD", "NOSAVE")
    assert isinstance(reply, RespError), reply
    assert reply.message.startswith(b"ERR Error trying to load the RDB dump"), reply
    assert b"wrong RDB checksum" in reply.message, reply


OBJECT_ENCODING_GROUP = [
    ["SET", "@int", "12345"], ["SET", "@neg", "-9223372036854775808"],
    ["SET", "@toobig", "9223372036854775808"], ["SET", "@embstr", "hello"],
    ["SET", "@embstr44", "x" * 44], ["SET", "@raw45", "x" * 45],
    ["SET", "@appended", "a"], ["APPEND", "@appended", "b"],
    ["SET", "@float", "1.5"], ["INCRBYFLOAT", "@float", "1"],
    ["SET", "@incr", "1"], ["INCR", "@incr"],
    ["SETRANGE", "@setrange", "0", "abc"],
    ["RPUSH", "@list", "a"], ["RPUSH", "@biglist", *[str(i) for i in range(1000)]],
    ["RPUSH", "@hugeelement", "z" * 10000],
    ["SADD", "@intset", "1", "2", "3"], ["SADD", "@strset", "a", "b"],
    ["SADD", "@bigintset", *[str(i) for i in range(600)]],
    ["ZADD", "@zlp", "1", "a"], ["ZADD", "@zlong", "1", "m" * 65],
    ["ZADD", "@zbig", *[x for i in range(200) for x in (str(i), f"m{i}")]],
    ["HSET", "@hlp", "f", "v"], ["HSET", "@hlong", "f", "v" * 65],
    ["HSET", "@hbig", *[x for i in range(600) for x in (f"f{i}", "v")]],
    ["XADD", "@stream", "1-1", "f", "v"],
    ["XGROUP", "CREATE", "@emptystream", "g", "$", "MKSTREAM"],
]
OBJECT_ENCODING_KEYS = ["int", "neg", "toobig", "embstr", "embstr44", "raw45", "appended",
                        "float", "incr", "setrange", "list", "biglist", "hugeelement", "intset",
                        "strset", "bigintset", "zlp", "zlong", "zbig", "hlp", "hlong", "hbig",
                        "stream", "emptystream", "missing"]


def test_object_encoding_for_every_type_like_redis(server, redis_server):
    """OBJECT ENCODING names every type and encoding as Redis 7.0 does (int, embstr, raw,
    quicklist, intset, hashtable, listpack, skiplist, stream; nil for a missing key)."""
    group = OBJECT_ENCODING_GROUP + [["OBJECT", "ENCODING", "@" + k]
                                     for k in OBJECT_ENCODING_KEYS]
    compare_command_group(server, redis_server, group, ["object"], "enc")
