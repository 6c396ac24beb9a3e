"""Fork safety of the persistence child (DESIGN.md, issue 13 item 7), in plain and TLS mode: the
BGSAVE child closes every descriptor it inherited but stdio, so it holds no listener, client socket
or (TLS mode) handshaker IPC socket while it saves."""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import persist_util as pu
from harness import RespError

DEBUG_ARGS = ["--enable-debug-command", "yes"]


def _fd_links(pid: int) -> list[str]:
    """Targets of a process's descriptors; ones closed while listing are skipped."""
    links = []
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return links
    for fd in fds:
        try:
            links.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            pass
    return links


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def test_bgsave_child_holds_no_socket_and_no_listener(server_factory):
    """Fork safety (DESIGN.md): the BGSAVE child closes every descriptor it inherited but stdio
    (listeners, client sockets, handshaker IPC sockets in TLS mode): while it saves, none of its
    descriptors is a socket, and the save still completes."""
    srv = server_factory(DEBUG_ARGS)
    with srv.raw(timeout=60) as c:
        r = c.call(b"DEBUG", b"POPULATE", b"3000", b"key", b"10")
    if isinstance(r, RespError):
        pu.populate_strings(srv, 3000, value_size=10)
    own_sockets = [l for l in _fd_links(srv.pid) if l.startswith("socket:")]
    assert own_sockets, "the server itself should hold sockets (listeners, clients)"
    with srv.raw() as c:
        assert c.call(b"CONFIG", b"SET", b"rdb-key-save-delay", b"1000") == b"OK"
        assert c.call(b"BGSAVE") == b"Background saving started"
        child = None
        deadline = time.time() + 5
        while child is None and time.time() < deadline:
            kids = _children(srv.pid)
            # Handshakers are exec'd children too: the save child is the one with an
            # open temp-<pid>.rdb.
            for k in kids:
                links = _fd_links(k)
                if any(re.search(r"temp-\d+\.rdb$", l) for l in links):
                    child, child_links = k, links
            time.sleep(0.02)
        assert child is not None, "no BGSAVE child with a temp-<pid>.rdb open was found"
        sockets = [l for l in child_links if l.startswith("socket:")]
        assert sockets == [], f"the save child holds sockets: {child_links}"
        assert c.call(b"CONFIG", b"SET", b"rdb-key-save-delay", b"0") == b"OK"
    inf = pu.wait_bgsave_done(srv)
    assert inf["rdb_last_bgsave_status"] == "ok"
