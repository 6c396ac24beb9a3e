"""ACL against Redoubt, compared with Debian's redis-server (7.0).

Only the partial ACL module exists (WHOAMI, USERS, CAT, GENPASS, HELP); users,
rules, AUTH through ACL and NOPERM are not implemented yet, so they are not
tested here. Fixtures come from conftest.py (`server`, `redis_server`), so
plain and TLS modes both run.
"""

import re

import pytest


def both(server, redis_server, *args):
    """Runs one command on both servers; returns (ours, theirs) as
    reply-or-error-text."""
    out = []
    for srv in (server, redis_server):
        cli = srv.client()
        try:
            out.append(cli.execute_command(*args))
        except Exception as err:  # noqa: BLE001 - we compare error texts
            out.append(("error", str(err)))
    return out


@pytest.mark.parametrize(
    "args",
    [
        ("ACL", "WHOAMI"),
        ("ACL", "HELP"),
        ("ACL", "HELP", "x"),
        ("ACL", "USERS"),
        ("ACL", "CAT"),
        ("ACL", "CAT", "nosuch"),
        ("ACL", "GENPASS", "0"),
        ("ACL", "GENPASS", "5000"),
        ("ACL", "GENPASS", "abc"),
        ("ACL", "NOSUCHSUB"),
        ("ACL", "WHOAMI", "extra"),
    ],
)
def test_acl_replies_match(server, redis_server, args):
    ours, theirs = both(server, redis_server, *args)
    assert ours == theirs


def test_acl_cat_members_subset(server, redis_server):
    """Every command we list in a category is listed by Redis too (we do
    not implement every Redis command, so the lists are not equal)."""
    for cat in ("string", "keyspace", "connection", "fast"):
        ours, theirs = both(server, redis_server, "ACL", "CAT", cat)
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
