"""ACL against Redoubt, compared byte for byte with Debian's redis-server 7.0.

Users, rules (SETUSER/GETUSER/LIST/DELUSER/DRYRUN), AUTH / HELLO AUTH,
NOPERM replies, ACL LOG, EXEC re-checks, requirepass <-> default user and
the aclfile (LOAD/SAVE/startup errors). Fixtures come from conftest.py
(`server`, `redis_server`, factories), so plain and TLS modes both run.

Known difference, not compared: when a description needs two or more
single-command rules ("+get +set"), Redis prints them in its command-table
hash order (random per process), Redoubt in its own; such cases compare as
sets of words; descriptions built from several categories may be worded
differently (same permissions, checked with DRYRUN).
"""

import re
import subprocess

import pytest

import harness


def raw_seq(srv, *commands, resp3=False):
    """Runs commands on one raw connection; returns each reply's bytes."""
    with srv.raw() as c:
        if resp3:
            c.call("HELLO", "3")
        out = []
        for cmd in commands:
            c.send_command(*cmd)
            out.append(c.recv_reply_raw())
        return out


def both_seq(server, redis_server, *commands, resp3=False):
    return (raw_seq(server, *commands, resp3=resp3),
            raw_seq(redis_server, *commands, resp3=resp3))


def strip_volatile(blob):
    """ACL LOG: age-seconds and client-info differ by nature."""
    blob = re.sub(rb"(age-seconds\r\n)[^\r]*\r\n(\$?[^\r]*\r\n)?",
                  rb"\1AGE\r\n", blob)
    blob = re.sub(rb"id=\d+ addr=[^\r]*", b"CLIENT", blob)
    return re.sub(rb"\$\d+\r\nCLIENT", b"CLIENT", blob)


# --------------------------------------------------------------------------
# Basic subcommands
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ("ACL", "WHOAMI"),
        ("ACL", "HELP"),
        ("ACL", "HELP", "x"),
        ("ACL", "USERS"),
        ("ACL", "LIST"),
        ("ACL", "GETUSER", "default"),
        ("ACL", "GETUSER", "nosuch"),
        ("ACL", "CAT"),
        ("ACL", "CAT", "nosuch"),
        ("ACL", "GENPASS", "0"),
        ("ACL", "GENPASS", "5000"),
        ("ACL", "GENPASS", "abc"),
        ("ACL", "NOSUCHSUB"),
        ("ACL", "WHOAMI", "extra"),
        ("ACL", "DELUSER", "default"),
        ("ACL", "DELUSER", "nosuch"),
        ("ACL", "SETUSER", "a b"),
        ("ACL", "SAVE"),
        ("ACL", "LOAD"),
        ("ACL", "LOG", "abc"),
        ("ACL", "LOG", "1", "2"),
        ("ACL", "LOG", "-1"),
        ("ACL", "LOG", "RESET"),
        ("ACL", "DRYRUN", "nosuch", "get", "a"),
        ("ACL", "DRYRUN", "default", "nosuchcmd"),
        ("ACL", "DRYRUN", "default", "get"),
        ("ACL", "DRYRUN", "default", "get", "a"),
    ],
)
def test_acl_replies_match(server, redis_server, args):
    ours, theirs = both_seq(server, redis_server, args)
    assert ours == theirs


@pytest.mark.parametrize("resp3", [False, True])
def test_default_user_getuser_resp(server, redis_server, resp3):
    ours, theirs = both_seq(server, redis_server,
                            ("ACL", "GETUSER", "default"), resp3=resp3)
    assert ours == theirs


def test_acl_cat_members_subset(server, redis_server):
    """Every command we list in a category is listed by Redis too (we do
    not implement every Redis command, so the lists are not equal)."""
    for cat in ("string", "keyspace", "connection", "fast"):
        ours = server.client().execute_command("ACL", "CAT", cat)
        theirs = redis_server.client().execute_command("ACL", "CAT", cat)
        assert set(ours) <= set(theirs), cat


@pytest.mark.parametrize("bits,length", [(None, 64), ("1", 1), ("5", 2),
                                         ("128", 32), ("4096", 1024)])
def test_acl_genpass_shape(server, bits, length):
    cli = server.client()
    args = ["ACL", "GENPASS"] + ([bits] if bits else [])
    reply = cli.execute_command(*args)
    if isinstance(reply, bytes):
        reply = reply.decode()
    assert re.fullmatch("[0-9a-f]{%d}" % length, reply)


# --------------------------------------------------------------------------
# SETUSER / GETUSER / LIST
# --------------------------------------------------------------------------
SETUSER_CASES = [
    ["on", ">abc", "~foo*", "%R~bar", "&ch", "+get", "+config|get",
     "-@dangerous"],
    [],
    ["+@all", "-@all", "+set", "allkeys", "allchannels", "resetkeys",
     "nopass"],
    ["+@all", "-config", "+config", "-config|get", "+get", "-get",
     "+@string", "-@string"],
    ["+@all", "-@hash"],
    ["+@all", "-@write", "+set"],
    ["allcommands", "nocommands", "+@pubsub"],
    ["+get|x"],
    ["+select|0"],
    [">p1", ">p2", ">p1"],
    [">p1", ">p2", "<p1"],
    [">p1", "nopass"],
    [">p1", "resetpass"],
    ["#" + "a" * 64, "!" + "a" * 64],
    ["~a", "allkeys"],
    ["&a", "allchannels"],
    ["%RW~x", "%W~y", "%R~y", "~z", "~z"],
    ["on", "off", "on", "skip-sanitize-payload"],
    ["sanitize-payload"],
    ["reset"],
    ["on", ">x", "~*", "&*", "+@all", "reset"],
    ["+@all", "-config|get"],
    ["-@all", "+config"],
    ["+acl|whoami"],
    ["+@all", "-acl"],
    ["+@all", "resetchannels", "&news.*"],
]


@pytest.mark.parametrize("rules", SETUSER_CASES,
                         ids=[" ".join(r) or "empty" for r in SETUSER_CASES])
@pytest.mark.parametrize("resp3", [False, True])
def test_setuser_getuser_list(server, redis_server, rules, resp3):
    cmds = [("ACL", "SETUSER", "u1", *rules), ("ACL", "GETUSER", "u1"),
            ("ACL", "LIST"), ("ACL", "USERS")]
    ours, theirs = both_seq(server, redis_server, *cmds, resp3=resp3)
    assert ours == theirs


def test_setuser_incremental_and_description_sets(server, redis_server):
    """Several single-command rules: same words (Redis's order is its hash
    order), same permissions."""
    rules = ["on", "nopass", "~*", "+get", "+set", "+hget", "-@all", "+incr",
             "+ping", "+client|id"]
    for srv in (server, redis_server):
        srv.client().execute_command("ACL", "SETUSER", "m", *rules)
    ours = server.client().execute_command("ACL", "GETUSER", "m")
    theirs = redis_server.client().execute_command("ACL", "GETUSER", "m")
    assert set(ours[5].split()) == set(theirs[5].split())
    for args in (("incr", "a"), ("get", "a"), ("client", "id"),
                 ("client", "list"), ("ping",)):
        o = server.client().execute_command("ACL", "DRYRUN", "m", *args)
        t = redis_server.client().execute_command("ACL", "DRYRUN", "m", *args)
        assert o == t, args


SEMANTIC_CASES = [["+@read", "-@hash"], ["+@read", "-@string"],
                  ["+@write", "-@list"], ["+@all", "-@dangerous"],
                  ["+@fast", "-@write", "+del"]]
PROBES = [("get", "a"), ("hget", "h", "f"), ("set", "a", "b"),
          ("lpush", "l", "x"), ("lrange", "l", "0", "1"), ("del", "a"),
          ("flushall",), ("config", "get", "x"), ("sadd", "s", "m"),
          ("zscore", "z", "m"), ("ping",), ("incr", "a"), ("keys", "*"),
          ("object", "encoding", "a"), ("client", "id")]


@pytest.mark.parametrize("rules", SEMANTIC_CASES,
                         ids=[" ".join(r) for r in SEMANTIC_CASES])
def test_category_rules_same_permissions(server, redis_server, rules):
    """Descriptions built from several categories may be worded
    differently (Redis 7.0.15's choice of categories is not reproduced);
    the permissions must be the same, and our description must round-trip."""
    for srv in (server, redis_server):
        srv.client().execute_command("ACL", "SETUSER", "s", "on", "nopass",
                                     "~*", *rules)
    for args in PROBES:
        o = server.client().execute_command("ACL", "DRYRUN", "s", *args)
        t = redis_server.client().execute_command("ACL", "DRYRUN", "s",
                                                  *args)
        assert o == t, args
    o = server.client().execute_command("ACL", "GETUSER", "s")[5].split()
    t = redis_server.client().execute_command("ACL", "GETUSER", "s")[5]
    assert o[0] == t.split()[0]
    cli = server.client()
    desc = cli.execute_command("ACL", "GETUSER", "s")[5].decode()
    cli.execute_command("ACL", "SETUSER", "s2", "on", *desc.split())
    assert cli.execute_command("ACL", "GETUSER", "s2")[5].decode() == desc


SETUSER_ERRORS = ["x", "+nosuch", "+@nosuch", "-nosuch", "+config|nosuch",
                  "+config|", "%X~a", "%~a", "#abc", "!abc", "<nopeword",
                  "+select|0|1", "+config|get|x", "~a b", "&a b", "%Q~a",
                  "", "-@nosuch"]


@pytest.mark.parametrize("rule", SETUSER_ERRORS)
def test_setuser_errors(server, redis_server, rule):
    cmds = [("ACL", "SETUSER", "e", "on", ">keep"),
            ("ACL", "SETUSER", "e", "+get", rule),
            ("ACL", "LIST")]
    ours, theirs = both_seq(server, redis_server, *cmds)
    assert ours == theirs


def test_setuser_after_allkeys_errors(server, redis_server):
    cmds = [("ACL", "SETUSER", "e", "allkeys", "~a"),
            ("ACL", "SETUSER", "e", "allchannels", "&a"),
            ("ACL", "GETUSER", "e")]
    ours, theirs = both_seq(server, redis_server, *cmds)
    assert ours == theirs


def test_deluser(server, redis_server):
    cmds = [("ACL", "SETUSER", "a"), ("ACL", "SETUSER", "b"),
            ("ACL", "DELUSER", "a", "b", "c"), ("ACL", "USERS"),
            ("ACL", "DELUSER", "x", "default")]
    ours, theirs = both_seq(server, redis_server, *cmds)
    assert ours == theirs


# --------------------------------------------------------------------------
# DRYRUN, NOPERM, ACL LOG
# --------------------------------------------------------------------------
T_RULES = ("on", ">pw", "~k*", "%R~r*", "%W~w*", "&c*", "+get", "+set",
           "+config|get", "+publish", "+subscribe", "+psubscribe", "+multi",
           "+exec", "+copy", "+mget", "+acl|whoami")

DRYRUNS = [("get", "k1"), ("get", "x"), ("set", "r1", "v"), ("get", "r1"),
           ("set", "w1", "v"), ("get", "w1"), ("config", "get", "maxmemory"),
           ("config", "set", "a", "b"), ("del", "k"), ("publish", "cx", "m"),
           ("publish", "d", "m"), ("subscribe", "cx", "d"),
           ("psubscribe", "c*"), ("psubscribe", "cx"), ("mget", "k1", "z"),
           ("copy", "r1", "w1"), ("copy", "w1", "r1"), ("acl", "whoami"),
           ("acl", "list"), ("auth", "x"), ("get", "a", "b")]


@pytest.mark.parametrize("args", DRYRUNS, ids=[" ".join(a) for a in DRYRUNS])
def test_dryrun(server, redis_server, args):
    cmds = [("ACL", "SETUSER", "t", *T_RULES),
            ("ACL", "DRYRUN", "t", *args)]
    ours, theirs = both_seq(server, redis_server, *cmds)
    assert ours == theirs


def test_noperm_and_log(server, redis_server):
    cmds = [("ACL", "SETUSER", "t", *T_RULES), ("ACL", "LOG", "RESET"),
            ("AUTH", "t", "pw"), ("ACL", "WHOAMI"),
            ("GET", "x"), ("GET", "k1"), ("SET", "r1", "v"),
            ("CONFIG", "SET", "a", "b"), ("CONFIG", "GET", "maxmemory"),
            ("PUBLISH", "d", "m"), ("PUBLISH", "cx", "m"), ("DEL", "k"),
            ("GET", "x"), ("AUTH", "t", "wrong"), ("AUTH", "nouser", "x"),
            ("auth", "nouser", "x"), ("AUTH", "default", "x")]
    ours, theirs = both_seq(server, redis_server, *cmds)
    assert ours == theirs
    log = ("ACL", "LOG")
    for count in ("100", "2", "0"):
        o = raw_seq(server, ("AUTH", "default", "x"), ("ACL", "LOG", count))
        t = raw_seq(redis_server, ("AUTH", "default", "x"),
                    ("ACL", "LOG", count))
        assert strip_volatile(o[1]) == strip_volatile(t[1]), count
    o = raw_seq(server, log, resp3=True)
    t = raw_seq(redis_server, log, resp3=True)
    assert strip_volatile(o[0]) == strip_volatile(t[0])


def test_log_client_info_and_age(server):
    cli = server.client()
    cli.execute_command("ACL", "LOG", "RESET")
    cli.execute_command("ACL", "SETUSER", "z", "on", "nopass", "+acl")
    raw_seq(server, ("AUTH", "z", "x"), ("GET", "a"))
    entries = cli.execute_command("ACL", "LOG")
    assert len(entries) == 1
    e = dict(zip(entries[0][::2], entries[0][1::2]))
    assert e[b"reason"] == b"command" and e[b"object"] == b"get"
    assert e[b"username"] == b"z"
    assert 0 <= float(e[b"age-seconds"]) < 5
    assert b" user=z " in e[b"client-info"]
    assert b" cmd=get " in e[b"client-info"] or b"cmd=" in e[b"client-info"]


def test_log_max_len(server):
    cli = server.client()
    cli.config_set("acllog-max-len", "3")
    cli.execute_command("ACL", "LOG", "RESET")
    for j in range(6):
        raw_seq(server, ("AUTH", "nouser%d" % j, "x"))
    assert len(cli.execute_command("ACL", "LOG")) == 3
    cli.config_set("acllog-max-len", "128")


def test_multi_noperm_and_exec_recheck(server, redis_server):
    cmds = [("ACL", "SETUSER", "t", *T_RULES), ("ACL", "LOG", "RESET"),
            ("AUTH", "t", "pw"), ("MULTI",), ("GET", "x"), ("GET", "k"),
            ("EXEC",)]
    ours, theirs = both_seq(server, redis_server, *cmds)
    assert ours == theirs
    # Rules change between queueing and EXEC.
    for srv in (server, redis_server):
        srv.client().execute_command("ACL", "SETUSER", "t2", "on", ">p",
                                     "~*", "+@all")
    results = []
    for srv in (server, redis_server):
        admin = srv.client()
        with srv.raw() as c:
            out = [c.call("AUTH", "t2", "p"), c.call("MULTI"),
                   c.call("SET", "a", "1"), c.call("GET", "a"),
                   c.call("PING")]
            admin.execute_command("ACL", "SETUSER", "t2", "-get",
                                  "resetkeys", "~a")
            admin.execute_command("ACL", "SETUSER", "t2", "-ping")
            c.send_command("EXEC")
            out.append(c.recv_reply_raw())
        log = admin.execute_command("ACL", "LOG", "1")
        results.append((out, log[0][:8]))
    assert results[0] == results[1]


def test_pubsub_channels(server, redis_server):
    cmds = [("ACL", "SETUSER", "p", "on", "nopass", "+@all", "~*",
             "resetchannels", "&news.*", "&exact"),
            ("AUTH", "p", "x"), ("PUBLISH", "news.a", "m"),
            ("PUBLISH", "other", "m"), ("SUBSCRIBE", "other"),
            ("PSUBSCRIBE", "news.*x"), ("PSUBSCRIBE", "other*"),
            ("SUBSCRIBE", "news.1", "exact")]
    ours, theirs = both_seq(server, redis_server, *cmds)
    assert ours == theirs


# --------------------------------------------------------------------------
# Authentication
# --------------------------------------------------------------------------
def test_auth_errors(server, redis_server):
    cmds = [("AUTH", "x"), ("AUTH", "a", "b", "c"),
            ("ACL", "SETUSER", "off1", "off", ">pw", "+@all"),
            ("AUTH", "off1", "pw"), ("ACL", "SETUSER", "on1", "on", ">pw",
                                     "+@all", "~*"),
            ("AUTH", "on1", "bad"), ("AUTH", "on1", "pw"), ("ACL", "WHOAMI"),
            ("HELLO", "2", "AUTH", "on1", "bad"),
            ("HELLO", "2", "AUTH", "default", "any"), ("ACL", "WHOAMI")]
    ours, theirs = both_seq(server, redis_server, *cmds)
    # HELLO's reply carries the connection id, which differs.
    hello = 9
    assert ours[:hello] == theirs[:hello]
    assert ours[hello + 1:] == theirs[hello + 1:]
    assert ours[hello].startswith(b"*14\r\n")


def test_hello3_auth(server, redis_server):
    for srv in (server, redis_server):
        srv.client().execute_command("ACL", "SETUSER", "h", "on", ">pw",
                                     "+@all", "~*")
    ours, theirs = both_seq(server, redis_server,
                            ("HELLO", "3", "AUTH", "h", "nope"),
                            ("HELLO", "3", "AUTH", "h", "pw"),
                            ("ACL", "WHOAMI"), ("CLIENT", "SETNAME", "x"))
    assert ours[0] == theirs[0]
    assert ours[2:] == theirs[2:]
    assert ours[1].startswith(b"%7\r\n")


def test_redis_py_username_password(server):
    admin = server.client()
    admin.execute_command("ACL", "SETUSER", "app", "on", ">s3cret", "~app:*",
                          "+@all", "-@dangerous")
    app = server.client(username="app", password="s3cret")
    assert app.set("app:1", "v")
    assert app.get("app:1") == b"v"
    assert app.execute_command("ACL", "WHOAMI") == b"app"
    import redis
    with pytest.raises(redis.exceptions.NoPermissionError):
        app.set("other", "v")
    with pytest.raises(redis.exceptions.NoPermissionError):
        app.flushall()
    bad = server.client(username="app", password="wrong")
    with pytest.raises(redis.exceptions.ResponseError, match="WRONGPASS"):
        bad.ping()
    assert b"user=app" in app.execute_command("CLIENT", "INFO")


def test_requirepass_coupling(server, redis_server):
    cmds = [("CONFIG", "SET", "requirepass", "sec"), ("ACL", "LIST"),
            ("ACL", "GETUSER", "default"),
            ("CONFIG", "SET", "requirepass", ""), ("ACL", "LIST"),
            ("ACL", "SETUSER", "default", ">zz"), ("CONFIG", "GET",
                                                   "requirepass"),
            ("ACL", "LIST"), ("ACL", "SETUSER", "default", "nopass")]
    ours, theirs = both_seq(server, redis_server, *cmds)
    assert ours == theirs


def test_requirepass_noauth(server, redis_server):
    for srv in (server, redis_server):
        srv.client().config_set("requirepass", "sec")
    cmds = [("GET", "a"), ("ACL", "WHOAMI"), ("AUTH", "wrong"),
            ("AUTH", "sec"), ("ACL", "WHOAMI"), ("CONFIG", "SET",
                                                 "requirepass", "")]
    ours, theirs = both_seq(server, redis_server, *cmds)
    assert ours == theirs


def test_disabled_default_user_needs_auth(server, redis_server):
    cmds = [("ACL", "SETUSER", "adm", "on", ">a", "+@all", "~*"),
            ("ACL", "SETUSER", "default", "off")]
    for srv in (server, redis_server):
        raw_seq(srv, *cmds)
    ours, theirs = both_seq(server, redis_server, ("PING",),
                            ("AUTH", "adm", "a"),
                            ("ACL", "SETUSER", "default", "on"), ("PING",))
    assert ours == theirs


def test_deluser_disconnects_clients(server):
    admin = server.client()
    admin.execute_command("ACL", "SETUSER", "gone", "on", ">p", "+@all", "~*")
    with server.raw() as c:
        assert c.call("AUTH", "gone", "p") == b"OK"
        admin.execute_command("ACL", "DELUSER", "gone")
        assert c.is_closed()
    # A password change keeps the connection (as Redis 7.0).
    admin.execute_command("ACL", "SETUSER", "stay", "on", ">p", "+@all", "~*")
    with server.raw() as c:
        assert c.call("AUTH", "stay", "p") == b"OK"
        admin.execute_command("ACL", "SETUSER", "stay", "resetpass", ">q")
        assert c.call("PING") == b"PONG"


def test_client_kill_user(server, redis_server):
    for srv in (server, redis_server):
        srv.client().execute_command("ACL", "SETUSER", "kk", "on", ">p",
                                     "+@all", "~*")
    results = []
    for srv in (server, redis_server):
        with srv.raw() as c:
            c.call("AUTH", "kk", "p")
            admin = srv.client()
            out = [admin.execute_command("CLIENT", "KILL", "USER", "nosuch")
                   if False else None]
            try:
                admin.execute_command("CLIENT", "KILL", "USER", "nosuch")
            except Exception as err:  # noqa: BLE001 - compare the text
                out.append(str(err))
            out.append(admin.execute_command("CLIENT", "KILL", "USER", "kk"))
            out.append(c.is_closed())
        results.append(out)
    assert results[0] == results[1]


# --------------------------------------------------------------------------
# aclfile
# --------------------------------------------------------------------------
GOOD_ACL = ("user alice on #ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb4"
            "10ff61f20015ad ~* +@all\n"
            "user default on nopass ~* &* +@all\n\n"
            "user bob off resetchannels &x -@all +get ~b*\n")
BAD_ACL = ("user alice on >pw ~* +@all\n\n# comment\nuser bob on +nosuch\n"
           "notuser x\nuser alice off\nuser carol on\n")


def _aclfile_servers(tmp_path, server_factory, redis_server_factory, text):
    ours_file = tmp_path / "ours.acl"
    theirs_file = tmp_path / "theirs.acl"
    ours_file.write_text(text)
    theirs_file.write_text(text)
    ours = server_factory("--aclfile", str(ours_file))
    theirs = redis_server_factory("--aclfile", str(theirs_file))
    return ours, theirs, ours_file, theirs_file


def test_aclfile_load_save(tmp_path, server_factory, redis_server_factory):
    ours, theirs, of, tf = _aclfile_servers(tmp_path, server_factory,
                                            redis_server_factory, GOOD_ACL)
    o, t = both_seq(ours, theirs, ("ACL", "LIST"), ("CONFIG", "GET",
                                                     "aclfile"))
    assert o[0] == t[0]
    # A broken file: the error names file:line, old users stay.
    of.write_text(BAD_ACL)
    tf.write_text(BAD_ACL)
    o = raw_seq(ours, ("ACL", "LOAD"), ("ACL", "LIST"))
    t = raw_seq(theirs, ("ACL", "LOAD"), ("ACL", "LIST"))
    assert o[0].replace(str(of).encode(), b"F") == \
        t[0].replace(str(tf).encode(), b"F")
    assert o[1] == t[1]
    # SAVE writes the current users; LOAD reads them back.
    o = raw_seq(ours, ("ACL", "SETUSER", "zed", "on", "~z", "+get"),
                ("ACL", "SAVE"))
    t = raw_seq(theirs, ("ACL", "SETUSER", "zed", "on", "~z", "+get"),
                ("ACL", "SAVE"))
    assert o == t
    assert of.read_text() == tf.read_text()
    o = raw_seq(ours, ("ACL", "SETUSER", "tmp"), ("ACL", "LOAD"),
                ("ACL", "LIST"))
    t = raw_seq(theirs, ("ACL", "SETUSER", "tmp"), ("ACL", "LOAD"),
                ("ACL", "LIST"))
    assert o == t


def test_aclfile_load_disconnects_users(tmp_path, server_factory):
    f = tmp_path / "x.acl"
    f.write_text("user default on nopass ~* &* +@all\n"
                 "user u on >p ~* +@all\n")
    srv = server_factory("--aclfile", str(f))
    with srv.raw() as c:
        assert c.call("AUTH", "u", "p") == b"OK"
        srv.client().execute_command("ACL", "LOAD")
        assert c.is_closed()


def _startup_output(binary, tmp_path, *args):
    port = harness.free_port()
    try:
        p = subprocess.run([str(binary), "--port", str(port), "--bind",
                            "127.0.0.1", "--save", "", "--dir", str(tmp_path),
                            *args], capture_output=True, timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail("server started although it should have refused")
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


@pytest.mark.plain_only("starts the binaries directly")
def test_broken_aclfile_refuses_start(tmp_path):
    f = tmp_path / "bad.acl"
    f.write_text(BAD_ACL)
    rc, out = _startup_output(harness.server_binary(), tmp_path,
                              "--aclfile", str(f))
    assert rc != 0
    assert "Aborting Redis startup because of ACL errors: %s:3 should start" \
        % f in out
    assert "%s:4: Error in applying operation '+nosuch'" % f in out
    rc, out2 = _startup_output("/usr/bin/redis-server", tmp_path,
                               "--aclfile", str(f))
    assert rc != 0
    assert out.split("ACL errors: ")[1].splitlines()[0] == \
        out2.split("ACL errors: ")[1].splitlines()[0]


@pytest.mark.plain_only("starts the binaries directly")
def test_config_users_and_aclfile_conflict(tmp_path):
    acl = tmp_path / "a.acl"
    acl.write_text("user default on nopass ~* &* +@all\n")
    conf = tmp_path / "r.conf"
    conf.write_text("user x on\naclfile %s\n" % acl)
    port = harness.free_port()
    for binary in (harness.server_binary(), "/usr/bin/redis-server"):
        p = subprocess.run([str(binary), str(conf), "--port", str(port),
                            "--save", "", "--dir", str(tmp_path)],
                           capture_output=True, timeout=10)
        assert p.returncode != 0
        assert "Configuring Redis with users defined in redis.conf and at " \
            "the same setting an ACL file path is invalid" in \
            (p.stdout + p.stderr).decode()


def test_config_user_directives(server_factory, redis_server_factory):
    conf = ("user cfg on >pw ~c* +get\n"
            "user default on nopass ~* &* +@all\n")
    ours = server_factory(conf=conf)
    theirs = redis_server_factory(conf=conf)
    o, t = both_seq(ours, theirs, ("ACL", "LIST"), ("AUTH", "cfg", "pw"),
                    ("GET", "cx"), ("GET", "x"))
    assert o == t


@pytest.mark.plain_only("starts the binaries directly")
def test_config_bad_user_directive(tmp_path):
    conf = tmp_path / "r.conf"
    conf.write_text("user x on +nosuch\n")
    port = harness.free_port()
    outs = []
    for binary in (harness.server_binary(), "/usr/bin/redis-server"):
        p = subprocess.run([str(binary), str(conf), "--port", str(port),
                            "--save", "", "--dir", str(tmp_path)],
                           capture_output=True, timeout=10)
        assert p.returncode != 0
        out = (p.stdout + p.stderr).decode()
        outs.append("Error loading ACL rule '+nosuch' for the user named "
                    "'x': Unknown command or category name in ACL" in out)
    assert outs == [True, True]


def test_config_rewrite_writes_users(server_factory):
    srv = server_factory(conf="port 0\n")
    cli = srv.client()
    cli.execute_command("ACL", "SETUSER", "rw", "on", ">pw", "~r*", "+get")
    assert cli.execute_command("CONFIG", "REWRITE") == b"OK"
    text = (srv.dir / ("%s.conf" % srv.name)).read_text()
    assert ("user rw on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4f"
            "ee46e26170c4 ~r* resetchannels -@all +get") in text
    assert "user default on nopass ~* &* +@all" in text
    # Rewriting again replaces the `user` lines instead of adding more.
    cli.execute_command("ACL", "DELUSER", "rw")
    assert cli.execute_command("CONFIG", "REWRITE") == b"OK"
    text = (srv.dir / ("%s.conf" % srv.name)).read_text()
    assert "user rw " not in text and text.count("user default ") == 1


def test_subscribers_disconnected_when_channels_revoked(server, redis_server):
    """SETUSER that takes away a subscribed channel disconnects that
    client; one still allowed stays (Redis 7.0)."""
    results = []
    for srv in (server, redis_server):
        admin = srv.client()
        admin.execute_command("ACL", "SETUSER", "ps", "on", ">p", "+@all",
                              "~*", "resetchannels", "&news*")
        with srv.raw() as gone, srv.raw() as stays:
            gone.call("AUTH", "ps", "p")
            gone.call("SUBSCRIBE", "news1")
            admin.execute_command("ACL", "SETUSER", "ps", "resetchannels",
                                  "&other")
            out = [gone.is_closed()]
            stays.call("AUTH", "ps", "p")
            stays.call("SUBSCRIBE", "other")
            admin.execute_command("ACL", "SETUSER", "ps", "&more")
            stays.send_command("PING")
            out.append(stays.recv_reply_raw())
        results.append(out)
    assert results[0] == results[1]
    assert results[0][0] is True


SELECTOR_CASES = [
    ["on", "nopass", "~root*", "+get", "(~a* +set)", "(%R~b* &ch +@list)"],
    ["(", "~x", ")"],
    ["(~x", "+get)"],
    ["(~x +nosuch)"],
    ["(on)"],
    ["()"],
    ["(~a"],
    ["(~a", "b"],
    ["(>pw)"],
    ["(~a +get)", "clearselectors"],
    ["(~a +get)", "reset"],
    ["(allkeys allchannels +@all)"],
    ["(~a allkeys)"],
]


@pytest.mark.parametrize("rules", SELECTOR_CASES,
                         ids=[" ".join(r) for r in SELECTOR_CASES])
@pytest.mark.parametrize("resp3", [False, True])
def test_selectors(server, redis_server, rules, resp3):
    cmds = [("ACL", "SETUSER", "sel", *rules), ("ACL", "GETUSER", "sel"),
            ("ACL", "LIST")]
    ours, theirs = both_seq(server, redis_server, *cmds, resp3=resp3)
    assert ours == theirs


SELECTOR_DRYRUNS = [("set", "a1", "v"), ("set", "b1", "v"), ("lpush", "x", "v"),
                    ("lrange", "b1", "0", "1"), ("get", "zz"),
                    ("get", "root1"), ("publish", "ch", "m"),
                    ("publish", "zz", "m"), ("rpush", "b1", "v")]


@pytest.mark.parametrize("args", SELECTOR_DRYRUNS,
                         ids=[" ".join(a) for a in SELECTOR_DRYRUNS])
def test_selector_dryrun(server, redis_server, args):
    cmds = [("ACL", "SETUSER", "sel", "on", "nopass", "~root*", "+get",
             "+publish", "(~a* +set)", "(%R~b* &ch +@list)"),
            ("ACL", "DRYRUN", "sel", *args)]
    ours, theirs = both_seq(server, redis_server, *cmds)
    assert ours == theirs


def test_selector_word_ending_in_paren_is_refused(server, tmp_path):
    # Redis 7.0.15 accepts this and its ACL LIST / ACL SAVE then show
    # "(~a) resetchannels -@all +get)", which ACL LOAD and the next start
    # refuse. Ours refuses the rule, and the user is left as it was.
    c = server.raw()
    assert bytes(c.call("ACL", "SETUSER", "p", "on", "nopass", "~k")) == b"OK"
    before = c.call("ACL", "LIST")
    reply = c.call("ACL", "SETUSER", "p", "(~a) +get)")
    assert isinstance(reply, harness.RespError)
    assert reply.message.startswith(
        b"ERR Error in ACL SETUSER modifier '(~a) +get)': Rules inside a "
        b"selector can't end with ')'")
    assert c.call("ACL", "LIST") == before
    # A ')' inside a pattern that does not end a word is still accepted.
    assert bytes(c.call("ACL", "SETUSER", "p", "(~a)b +get)")) == b"OK"
    listing = b" ".join(bytes(x) for x in c.call("ACL", "LIST"))
    assert b"(~a)b resetchannels -@all +get)" in listing


def test_selectors_in_aclfile(tmp_path, server_factory, redis_server_factory):
    text = ("user default on nopass ~* &* +@all\n"
            "user s on nopass ~r* +get (~w* +set) (%R~x* +@list)\n")
    ours, theirs, of, tf = _aclfile_servers(tmp_path, server_factory,
                                            redis_server_factory, text)
    o, t = both_seq(ours, theirs, ("ACL", "LIST"), ("AUTH", "s", "x"),
                    ("SET", "w1", "v"), ("SET", "r1", "v"), ("ACL", "SAVE"))
    assert o == t
    assert of.read_text() == tf.read_text()
    # An unmatched "(" in the file: Redis 7.0.15 crashes (SIGSEGV) on this
    # ACL LOAD, so only ours is checked: error with file:line, users kept.
    of.write_text("user s on (~w* +set\n")
    o = raw_seq(ours, ("ACL", "LOAD"), ("ACL", "LIST"))
    assert o[0] == ("-ERR %s:1: Unmatched parenthesis in selector "
                    "definition. WARNING: ACL errors detected, no change to "
                    "the previously active ACL rules was performed\r\n"
                    % of).encode()
    assert o[1] == t[0]
