"""Replication over TLS (tls-replication): a Redoubt replica connects to its master over TLS,
verifies the master's certificate against tls-ca-cert-file and presents tls-client-cert-file (else
tls-cert-file, as Redis falls back). Main runs that client handshake; the signature with the client
key is made by a sandboxed handshaker, so the replica's main process never holds the key.

  interop       a Redoubt replica of Debian's redis-server 7.0.15 master over mutual TLS: the mixed
                dataset by RDB, a redis-benchmark write load of several types by the stream, a
                link kill (CLIENT KILL TYPE replica) then a partial resync (+CONTINUE,
                sync_partial_ok); DEBUG DIGEST equal on both sides
  Redoubt pair  a Redoubt replica of a Redoubt master over mutual TLS, disk-based and diskless
                full sync; after the backlog (16 KB) is exceeded behind a cut link, a full resync
  key custody   the client key (RSA d, p, q in both byte orders, DER, PEM) is not in the replica's
                main memory after the link is up and after a reconnect; the scanner finds it in
                a process that loaded it (and, as root, in the replica's handshaker)
  verification  a master whose certificate the replica's CA does not vouch for: the link stays
                down and the log says why; CONFIG SET tls-ca-cert-file fixes the next attempt
  reload        CONFIG SET tls-client-cert-file/key-file keeps the current link; the next
                connection presents the new certificate (the master's CLIENT LIST cert-subject)
  fallback      without tls-client-*, the replica presents tls-cert-file

The Redis replica of a Redoubt master over TLS is in test_repl_master.py (TLS mode). These tests
start their own TLS servers whatever the mode, so they run once, in the TLS pass.
"""

from __future__ import annotations

import os
import time

import pytest

import harness
import persist_util as pu
import test_repl_master as trm
import test_tls as tt

pytestmark = pytest.mark.tls_only("starts its own TLS servers: run once (TLS pass)")

TLS = harness.TLS_DIR
MASTER_ARGS = ["--repl-diskless-sync-delay", "0", "--enable-debug-command", "yes"]


def tls_replica_args(master, client: str = "client", *extra: str) -> list[str]:
    """A replica with no TLS port of its own: TLS is there only for the link to `master`."""
    args = ["--replicaof", master.host, str(master.port), "--enable-debug-command", "yes",
            "--tls-cert-file", str(TLS / "server.crt"), "--tls-key-file", str(TLS / "server.key"),
            "--tls-ca-cert-file", str(TLS / "ca.crt"), "--tls-replication", "yes"]
    if client:
        args += ["--tls-client-cert-file", str(TLS / f"{client}.crt"),
                 "--tls-client-key-file", str(TLS / f"{client}.key")]
    return args + list(extra)


def start_tls_replica(server_factory, master, client: str = "client", *extra: str,
                      wait: bool = True):
    rep = server_factory(tls_replica_args(master, client, *extra), mode="plain")
    if wait:
        trm.wait_link_up(rep, master)
    return rep


def digest(srv) -> bytes:
    with srv.raw() as c:
        d = c.call("DEBUG", "DIGEST")
    assert isinstance(d, bytes) and len(d) == 40, f"{srv.name}: DEBUG DIGEST -> {d!r}"
    return d


def stats(srv) -> dict[str, str]:
    return pu.info(srv, "stats")


def write_load(master, n: int = 2000) -> None:
    out, rc = master.benchmark(["-q", "-n", str(n), "-r", "500", "-c", "4", "-P", "8",
                                "-t", "set,incr,lpush,rpush,sadd,hset,zadd,spop,lpop"])
    assert rc == 0, out


def kill_replica_links(master) -> int:
    with master.raw() as c:
        return c.call("CLIENT", "KILL", "TYPE", "replica")


def master_client_subjects(master) -> list[str]:
    """cert-subject= of the replica connections in a Redoubt master's CLIENT LIST."""
    with master.raw() as c:
        text = c.call("CLIENT", "LIST", "TYPE", "replica").decode()
    out = []
    for line in text.splitlines():
        fields = dict(kv.split("=", 1) for kv in line.split(" ") if "=" in kv)
        out.append(fields.get("cert-subject", ""))
    return out


def wait_equal_digests(master, replica, timeout: float = trm.SYNC_TIMEOUT_S) -> bytes:
    trm.wait_in_sync(master, [replica], timeout)
    d = digest(master)
    assert digest(replica) == d, trm.logs(master, replica)
    return d


# ---------------------------------------------------------------------------- interop

def test_redoubt_replica_of_redis_master_over_mutual_tls(server_factory, redis_server_factory):
    master = redis_server_factory(MASTER_ARGS + ["--tls-auth-clients", "yes"], mode="tls")
    pu.fill_mixed_dataset(master)
    rep = start_tls_replica(server_factory, master)
    assert "TLS connection with the MASTER established" in rep.log_text()
    wait_equal_digests(master, rep)

    write_load(master)
    wait_equal_digests(master, rep)

    before = int(stats(master)["sync_partial_ok"])
    assert kill_replica_links(master) == 1
    write_load(master, 500)
    trm.wait_link_up(rep, master)
    wait_equal_digests(master, rep)
    assert int(stats(master)["sync_partial_ok"]) == before + 1, trm.logs(master, rep)
    assert "Successful partial resynchronization with master" in rep.log_text()
    assert int(stats(master)["sync_full"]) == 1


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_redoubt_pair_over_mutual_tls_full_partial_and_backlog(server_factory, diskless):
    master = server_factory(MASTER_ARGS + ["--tls-auth-clients", "yes", "--repl-diskless-sync",
                                           diskless, "--repl-backlog-size", "16kb"], mode="tls")
    pu.fill_mixed_dataset(master)
    rep = start_tls_replica(server_factory, master)
    wait_equal_digests(master, rep)
    write_load(master, 1000)
    wait_equal_digests(master, rep)
    # Behind a cut link the master writes far more than its 16 KB backlog: a full resync.
    full_before = int(stats(master)["sync_full"])
    with rep.raw() as c:
        c.call("CONFIG", "SET", "repl-timeout", "60")
    os.kill(rep.pid, 19)  # SIGSTOP: the replica cannot reconnect before the writes are done
    try:
        kill_replica_links(master)
        with master.raw() as c:
            c.send(b"".join(harness.encode_command("SET", f"big:{i}", "x" * 1000)
                            for i in range(200)))
            for _ in range(200):
                assert c.recv_reply() == b"OK"
    finally:
        os.kill(rep.pid, 18)  # SIGCONT
    trm.wait_link_up(rep, master)
    wait_equal_digests(master, rep)
    assert int(stats(master)["sync_full"]) == full_before + 1, trm.logs(master, rep)


# ---------------------------------------------------------------------------- key custody

def test_client_key_never_in_replica_main_memory(server_factory):
    key = TLS / "client.key"
    needles = tt.key_needles(key)
    secret_names = [k for k in needles if "endian" in k]
    holder = tt._key_holder(key)
    try:
        found = tt.scan_memory(holder.pid, needles)
    finally:
        holder.kill()
        holder.wait()
    assert any(k in found for k in secret_names), f"the scanner cannot see the key: {found}"

    master = server_factory(MASTER_ARGS + ["--tls-auth-clients", "yes"], mode="tls")
    pu.populate_strings(master, 200)
    rep = start_tls_replica(server_factory, master, "client")
    wait_equal_digests(master, rep)
    assert master_client_subjects(master) == ["CN%3Dclient1,O%3DRedoubtClients"]
    leaked = tt.scan_memory(rep.pid, needles)
    assert not leaked, f"client key material in the replica's main after the link: {leaked}"
    opened = harness.fd_targets(rep.pid)
    assert not [p for p in opened if p.endswith(".key")], opened

    kill_replica_links(master)
    time.sleep(0.5)
    trm.wait_link_up(rep, master)
    write_load(master, 200)
    wait_equal_digests(master, rep)
    leaked = tt.scan_memory(rep.pid, needles)
    assert not leaked, f"client key material in the replica's main after a reconnect: {leaked}"

    if os.geteuid() == 0:
        hs = tt.handshakers_of(rep)
        assert hs
        in_hs = tt.scan_memory(hs[0], needles)
        assert any(k in in_hs for k in secret_names), \
            f"client key not in the replica's handshaker {hs[0]} either: {in_hs}"


# ---------------------------------------------------------------------------- verification

def test_untrusted_master_certificate_keeps_the_link_down(server_factory):
    master = server_factory(MASTER_ARGS + ["--tls-auth-clients", "yes"], mode="tls")
    pu.populate_strings(master, 50)
    args = tls_replica_args(master)
    args[args.index("--tls-ca-cert-file") + 1] = str(TLS / "other-ca.crt")
    rep = server_factory(args, mode="plain")
    assert rep.wait_for_log("TLS handshake with the MASTER failed", timeout=10), rep.log_tail()
    assert "certificate verify failed" in rep.log_text().lower() or \
        "CERTIFICATE_VERIFY_FAILED" in rep.log_text(), rep.log_tail()
    assert trm.repl_info(rep)["master_link_status"] == "down"
    with rep.raw() as c:
        assert c.call("DBSIZE") == 0
        assert c.call("CONFIG", "SET", "tls-ca-cert-file", str(TLS / "ca.crt")) == b"OK"
    trm.wait_link_up(rep, master)
    wait_equal_digests(master, rep)


# ---------------------------------------------------------------------------- reload, fallback

def test_client_certificate_reload_applies_to_the_next_link(server_factory):
    master = server_factory(MASTER_ARGS + ["--tls-auth-clients", "yes"], mode="tls")
    pu.populate_strings(master, 100)
    rep = start_tls_replica(server_factory, master, "client")
    wait_equal_digests(master, rep)
    assert master_client_subjects(master) == ["CN%3Dclient1,O%3DRedoubtClients"]
    syncs = (stats(master)["sync_full"], stats(master)["sync_partial_ok"])
    with rep.raw() as c:
        assert c.call("CONFIG", "SET", "tls-client-cert-file", str(TLS / "client-ec.crt"),
                      "tls-client-key-file", str(TLS / "client-ec.key")) == b"OK"
    # The current link is untouched.
    write_load(master, 200)
    wait_equal_digests(master, rep)
    assert (stats(master)["sync_full"], stats(master)["sync_partial_ok"]) == syncs
    assert master_client_subjects(master) == ["CN%3Dclient1,O%3DRedoubtClients"]
    # The next one presents the new certificate (an EC key: the handshaker signs with ECDSA).
    kill_replica_links(master)
    time.sleep(0.5)
    trm.wait_link_up(rep, master)
    assert master_client_subjects(master) == ["CN%3Dclient-ec,O%3DRedoubtClients"]
    write_load(master, 200)
    wait_equal_digests(master, rep)


def test_without_client_files_the_server_certificate_is_presented(server_factory):
    master = server_factory(MASTER_ARGS + ["--tls-auth-clients", "yes"], mode="tls")
    pu.populate_strings(master, 20)
    args = tls_replica_args(master, "")
    # The replica's own certificate must be good for client authentication to be accepted:
    # use the client certificate as tls-cert-file (Redis's fallback).
    args[args.index("--tls-cert-file") + 1] = str(TLS / "client.crt")
    args[args.index("--tls-key-file") + 1] = str(TLS / "client.key")
    rep = server_factory(args, mode="plain")
    trm.wait_link_up(rep, master)
    assert master_client_subjects(master) == ["CN%3Dclient1,O%3DRedoubtClients"]
    wait_equal_digests(master, rep)
