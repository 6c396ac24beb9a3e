"""Client certificates are verified outside main, and a resumed identity must be one main bound
(issue 17 items 1 and 4).

What is proved here:
  - A TLS 1.2 client that sends a 99 KB partial Certificate message no longer makes main hold
    ~100 KB per connection: main reads a peer's chain as opaque bytes and stops at 16 KB
    (TLS_MAX_PEER_CERT_LIST). Main's RSS grows no more with such a flood than with as many
    connections that stop before their Certificate (the same two phases on the old code: ~100 KB
    more per connection). A real chain over 16 KB is refused, in TLS 1.2 and 1.3.
  - Chain verification runs in a separate verifier process (argv --redoubt-tls-verifier, comm
    redoubt-verify), sandboxed, without the private key: stopped, it holds up exactly the
    handshakes that present a certificate; killed, it is replaced.
  - The verifier's verdicts are Redis's: for each client certificate (good RSA and ECDSA, none,
    self-signed, expired, another CA's, a server-only certificate) Redoubt serves or refuses
    exactly as Debian's redis-server does, under tls-auth-clients yes and optional, TLS 1.2 and
    1.3. A tls-ca-cert-dir (hash-named files) works although the sandbox forbids opening files.
  - A ClientHello may come in at most 8 records (TLS_MAX_HANDSHAKE_RECORDS, was 128): 8 work, 9
    close the connection.
  - A resumed session shows the identity verified in its full handshake (TLS 1.2 and 1.3).
  - Test-hook builds only (skipped with a reason otherwise): a handshaker that forges the client
    identity of a session it resumes (another certificate, or main's binding removed) gets that
    connection refused; the forged subject never reaches CLIENT LIST.
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import struct
import subprocess
import time
from pathlib import Path
from typing import Optional

import pytest

import harness

pytestmark = pytest.mark.tls_only("starts its own TLS servers")

TLS = harness.TLS_DIR
OPENSSL = "/usr/bin/openssl"
VERIFIER_ARG = b"--redoubt-tls-verifier"
VERIFIER_COMM = "redoubt-verify"
# What main may hold at most for one peer's chain (tls/internal.h TLS_MAX_PEER_CERT_LIST).
PEER_CERT_CAP = 16 * 1024


@pytest.fixture(scope="module", autouse=True)
def _certs():
    needed = ["ca.crt", "server.crt", "server-ec.crt", "server-ec.key", "client.crt",
              "client-ec.crt", "expired-client.crt", "other-client.crt", "selfsigned.crt"]
    if not all((TLS / n).exists() for n in needed):
        subprocess.run([str(harness.REPO_ROOT / "utils" / "gen-test-certs.sh"), str(TLS)],
                       check=True, timeout=120)


@pytest.fixture
def hooks_factory(request, tmp_path_factory):
    """Like server_factory, with the -DREDOUBT_TEST_HOOKS binary."""
    path = os.environ.get("REDOUBT_SERVER_TESTHOOKS", "")
    if not path or not Path(path).exists():
        pytest.skip("REDOUBT_SERVER_TESTHOOKS not set: build with `bazel build --config=testhooks "
                    "//server` (./runtest does) to run the forged-identity tests")
    import conftest
    f = conftest._Factory(request, tmp_path_factory, Path(path), "tls", "hooks")
    yield f
    f.teardown()


def start(factory, *args, auth: str = "yes"):
    # ECDSA server key: the flood tests make hundreds of handshakes.
    return factory(["--tls-auth-clients", auth, "--tls-cert-file", str(TLS / "server-ec.crt"),
                    "--tls-key-file", str(TLS / "server-ec.key"), *args], mode="tls")


# ---------------------------------------------------------------------------- /proc helpers

def children(pid: int, arg: bytes) -> list[int]:
    """Live children of pid whose argv[1] is arg."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[1]) == pid and fields[0] != "Z" and len(argv) > 1 and argv[1] == arg:
            out.append(int(entry))
    return out


def proc_status(pid: int) -> dict[str, str]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        out[k] = v.strip()
    return out


def wait_verifier(srv, other_than: int = 0, timeout: float = 10.0) -> int:
    """The pid of srv's sandboxed verifier (a new one if other_than is given)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in children(srv.pid, VERIFIER_ARG):
            try:
                if pid != other_than and proc_status(pid).get("Seccomp") == "2":
                    return pid
            except OSError:
                pass
        time.sleep(0.05)
    raise AssertionError(f"no sandboxed verifier within {timeout}s\n{srv.log_tail()}")


def rss_kb(pid: int) -> int:
    return int(proc_status(pid)["VmRSS"].split()[0])


def sanitized(pid: int) -> bool:
    return "libasan" in Path(f"/proc/{pid}/maps").read_text()


# ---------------------------------------------------------------------------- clients

def tls_context(cert: Optional[str] = "client", version: Optional[ssl.TLSVersion] = None,
                chain: Optional[Path] = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=str(TLS / "ca.crt"))
    ctx.check_hostname = False
    if cert is not None:
        ctx.load_cert_chain(certfile=str(chain or TLS / f"{cert}.crt"),
                            keyfile=str(TLS / f"{cert}.key"))
    if version is not None:
        ctx.minimum_version = version
        ctx.maximum_version = version
    return ctx


def tls_ping(srv, cert: Optional[str] = "client", version: Optional[ssl.TLSVersion] = None,
             chain: Optional[Path] = None, timeout: float = 10.0) -> tuple[bool, str]:
    """Handshake and PING; (True, "") on +PONG. A refused TLS 1.3 certificate shows only at the
    first read, so anything short of +PONG is a refusal."""
    ctx = tls_context(cert, version, chain)
    try:
        with socket.create_connection((srv.host, srv.port), timeout=timeout) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(b"PING\r\n")
                data = b""
                while not data.endswith(b"\r\n"):
                    chunk = s.recv(1024)
                    if not chunk:
                        return False, f"EOF after {data!r}"
                    data += chunk
                return data == b"+PONG\r\n", repr(data)
    except (ssl.SSLError, OSError) as e:
        return False, f"{type(e).__name__}: {e}"


def s_client(srv, *args: str, payload: bytes = b"PING\r\nQUIT\r\n") -> str:
    argv = [OPENSSL, "s_client", "-connect", f"{srv.host}:{srv.port}", "-servername", "localhost",
            "-CAfile", str(TLS / "ca.crt"), "-ign_eof", "-cert", str(TLS / "client.crt"),
            "-key", str(TLS / "client.key")]
    r = subprocess.run(argv + list(args), input=payload, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=20)
    return r.stdout.decode("utf-8", "replace")


def closed_by_server(s: socket.socket, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            if not s.recv(65536):
                return True
        except socket.timeout:
            return False
        except OSError:
            return True
    return False


def tls12_up_to_client_certificate(srv) -> socket.socket:
    """A TLS 1.2 connection whose ClientHello went out and whose server flight (up to
    ServerHelloDone, with a CertificateRequest) has been read: the server waits for the client's
    Certificate, which main's SSL reads."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    sock = socket.create_connection((srv.host, srv.port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    sock.sendall(out.read())
    while True:
        data = sock.recv(65536)
        assert data, "server closed before its flight"
        inc.write(data)
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        if out.pending:  # the client's own second flight: the server's is complete
            out.read()   # (dropped: the test writes its own)
            return sock


def partial_certificate(claimed: int, sent: int) -> bytes:
    """TLS 1.2 records carrying the first `sent` bytes of a Certificate message that claims
    `claimed` bytes: what a client sends to make the server hold a buffer."""
    body = struct.pack(">I", claimed)[1:] + b"\x30" * (claimed - 3)
    msg = b"\x0b" + struct.pack(">I", claimed)[1:] + body
    msg = msg[:sent]
    out = b""
    for i in range(0, len(msg), 16384):
        chunk = msg[i:i + 16384]
        out += b"\x16\x03\x03" + struct.pack(">H", len(chunk)) + chunk
    return out


# ============================================================================ item 1: no X.509 in main

def _rss_growth(srv, flood: bool, connections: int) -> tuple[int, int]:
    """Main's RSS growth (KB) with `connections` connections parked at the client's Certificate,
    each sending a 98 KB partial one if flood. Returns (growth, closed by server)."""
    before = rss_kb(srv.pid)
    socks = [tls12_up_to_client_certificate(srv) for _ in range(connections)]
    if flood:
        payload = partial_certificate(99 * 1024, 98 * 1024)
        for s in socks:
            s.sendall(payload)
    time.sleep(1.0)  # main's completion thread reads what was sent
    growth = rss_kb(srv.pid) - before
    closed = sum(closed_by_server(s, 0.05) for s in socks)
    for s in socks:
        s.close()
    return growth, closed


def test_partial_certificate_flood_does_not_grow_main(server_factory, monkeypatch):
    """The audit's finding: 99 KB partial Certificates pinned ~106 KB each in main (104 KB more
    per connection than without the flood, measured with the code before). Now main refuses a
    Certificate message over 16 KB as soon as its header says so (~7 KB)."""
    # ASan parks freed memory in a quarantine, which RSS would count as held: off here.
    monkeypatch.setenv("ASAN_OPTIONS", os.environ.get("ASAN_OPTIONS", "") +
                       ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0")
    args = ("--tls-handshake-timeout", "30000")
    quiet = start(server_factory, *args)
    flooded = start(server_factory, *args)
    # Under ASan a freed buffer goes back to the freeing thread's cache (the completion thread
    # reads, the loop frees) and shadow memory comes on top: measured ~29 KB there, ~7 KB in a
    # release build, against ~104 KB / ~115 KB when main holds the partial message.
    asan = sanitized(flooded.pid)
    connections, limit = (40, 64) if asan else (100, 24)
    idle_growth, idle_closed = _rss_growth(quiet, False, connections)
    flood_growth, flood_closed = _rss_growth(flooded, True, connections)
    per_conn = (flood_growth - idle_growth) / connections
    assert per_conn < limit, (
        f"main grew {flood_growth} KB with the flood, {idle_growth} KB without: "
        f"{per_conn:.0f} KB more per connection")
    assert idle_closed == 0, quiet.log_tail()
    assert flood_closed == connections, (flood_closed, flooded.log_tail())
    assert flooded.wait_for_log("EXCESSIVE_MESSAGE_SIZE", timeout=5), flooded.log_tail()
    # Nothing else suffered.
    assert tls_ping(flooded)[0]


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3],
                         ids=["tls12", "tls13"])
def test_certificate_chain_over_the_cap_is_refused(server_factory, tmp_path, version):
    """A real chain: the client certificate then copies of the CA. Up to 16 KB (and 10
    certificates) it is verified as usual; over 16 KB main refuses it unread (Redis on OpenSSL
    reads up to 100 KB: a documented difference)."""
    srv = start(server_factory)
    ca = (TLS / "ca.crt").read_text()
    ca_der_len = len(ssl.PEM_cert_to_DER_cert(ca))
    client = (TLS / "client.crt").read_text()
    small, big = tmp_path / "small.crt", tmp_path / "big.crt"
    small.write_text(client + ca * 2)
    copies = PEER_CERT_CAP // ca_der_len + 2
    big.write_text(client + ca * copies)
    ok, why = tls_ping(srv, version=version, chain=small)
    assert ok, why
    ok, why = tls_ping(srv, version=version, chain=big)
    assert not ok, f"a {copies + 1}-certificate chain of over 16 KB was accepted"
    assert srv.wait_for_log("EXCESSIVE_MESSAGE_SIZE", timeout=5), srv.log_tail()
    assert tls_ping(srv, version=version)[0]


def test_verification_runs_in_the_verifier(server_factory):
    srv = start(server_factory, auth="optional")
    pid = wait_verifier(srv)
    st = proc_status(pid)
    assert Path(f"/proc/{pid}/comm").read_text().strip() == VERIFIER_COMM
    assert st.get("Seccomp") == "2" and st.get("NoNewPrivs") == "1", st
    assert pid not in children(srv.pid, b"--redoubt-tls-handshaker")
    # The verifier never loads the key: the server key is nowhere in its memory (the scanner is
    # shown to find it in a handshaker by test_tls.py).
    import test_tls as tt
    needles = tt.key_needles(TLS / "server-ec.key")
    assert tt.scan_memory(pid, needles) == {}, "the verifier holds the private key"
    # Stopped, it holds up the handshakes that bring a certificate, and only those: main does
    # not verify a chain itself.
    os.kill(pid, signal.SIGSTOP)
    try:
        ok, why = tls_ping(srv, cert=None, timeout=5)
        assert ok, f"a client without a certificate waited for the verifier: {why}"
        ok, why = tls_ping(srv, cert="client", timeout=1.5)
        assert not ok, "a client certificate was accepted while the verifier was stopped"
    finally:
        os.kill(pid, signal.SIGCONT)
    ok, why = tls_ping(srv, cert="client")
    assert ok, why


def test_verifier_death_is_recovered(server_factory):
    srv = start(server_factory)
    r = srv.client()
    assert r.set("k", "v")
    pid = wait_verifier(srv)
    os.kill(pid, signal.SIGKILL)
    new = wait_verifier(srv, other_than=pid)
    assert new != pid
    assert srv.wait_for_log(f"TLS certificate verifier started, pid {new}", timeout=5), \
        srv.log_tail()
    deadline = time.monotonic() + 10
    ok, why = False, ""
    while time.monotonic() < deadline and not ok:
        ok, why = tls_ping(srv)
    assert ok, why
    assert r.get("k") == b"v"  # established sessions never noticed


# Outcomes per client certificate, compared with Debian's redis-server (OpenSSL verifying in the
# server process). "server": a certificate valid only for serverAuth (wrong purpose).
CASES = ["client", "client-ec", None, "selfsigned", "expired-client", "other-client", "server"]


@pytest.mark.parametrize("auth", ["yes", "optional"])
def test_client_certificate_outcomes_match_redis(server_factory, redis_server_factory, auth):
    ours = server_factory(["--tls-auth-clients", auth], mode="tls")
    theirs = redis_server_factory(["--tls-auth-clients", auth], mode="tls")
    wrong = []
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        for cert in CASES:
            a, why_a = tls_ping(ours, cert=cert, version=version)
            b, why_b = tls_ping(theirs, cert=cert, version=version)
            if a != b:
                wrong.append(f"{version.name} {cert or 'no certificate'}: redoubt "
                             f"{'served' if a else 'refused'} ({why_a}), redis "
                             f"{'served' if b else 'refused'} ({why_b})")
    assert not wrong, "\n".join(wrong)
    log = ours.log_text()
    assert "certificate has expired" in log and "unsupported certificate purpose" in log, \
        ours.log_tail()


def test_ca_cert_dir_is_read_before_the_sandbox(server_factory, tmp_path):
    """The verifier reads tls-ca-cert-dir's hash-named files before its seccomp filter: a lazy
    directory lookup would open files during verification and be killed."""
    cadir = tmp_path / "cadir"
    cadir.mkdir()
    h = subprocess.run([OPENSSL, "x509", "-hash", "-noout", "-in", str(TLS / "ca.crt")],
                       capture_output=True, text=True, check=True).stdout.strip()
    (cadir / f"{h}.0").write_bytes((TLS / "ca.crt").read_bytes())
    srv = server_factory(["--tls-auth-clients", "yes", "--tls-ca-cert-file", "",
                          "--tls-ca-cert-dir", str(cadir)], mode="tls")
    ok, why = tls_ping(srv)
    assert ok, why
    assert not tls_ping(srv, cert="other-client")[0]
    assert int(srv.client().info("sandbox")["sandbox_deaths_sigsys"]) == 0, srv.log_tail()


# ============================================================================ record cap

def _hello_in_records(srv, parts: int) -> bool:
    """A real TLS 1.3 ClientHello sent in `parts` records, then the handshake and a PING."""
    ctx = tls_context("client", ssl.TLSVersion.TLSv1_3)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    record = out.read()
    body = record[5:]
    step = -(-len(body) // parts)
    split = b"".join(record[:3] + struct.pack(">H", len(body[i:i + step])) + body[i:i + step]
                     for i in range(0, len(body), step))
    assert split.count(b"\x16\x03\x01") >= parts
    with socket.create_connection((srv.host, srv.port), timeout=5) as sock:
        sock.sendall(split)
        try:
            while True:
                try:
                    obj.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    if out.pending:
                        sock.sendall(out.read())
                    data = sock.recv(65536)
                    if not data:
                        return False
                    inc.write(data)
            obj.write(b"PING\r\n")
            sock.sendall(out.read())
            reply = b""
            while not reply.endswith(b"\r\n"):
                data = sock.recv(65536)
                if not data:
                    return False
                inc.write(data)
                try:
                    reply += obj.read(1024)
                except ssl.SSLWantReadError:
                    pass
            return reply == b"+PONG\r\n"
        except (ssl.SSLError, OSError):
            return False


def test_client_hello_in_at_most_eight_records(server_factory):
    srv = start(server_factory)
    assert _hello_in_records(srv, 8), srv.log_tail()
    assert not _hello_in_records(srv, 9), "a ClientHello in 9 records was accepted"
    assert srv.wait_for_log("ClientHello in too many records", timeout=5), srv.log_tail()


# ============================================================================ item 4: resumed identity

@pytest.mark.parametrize("flag", ["-tls1_2", "-tls1_3"])
def test_resumed_session_keeps_its_verified_identity(server_factory, tmp_path, flag):
    srv = start(server_factory)
    sess = tmp_path / "session.pem"
    first = s_client(srv, flag, "-sess_out", str(sess))
    assert "+PONG" in first and "New," in first, first
    again = s_client(srv, flag, "-sess_in", str(sess), payload=b"CLIENT INFO\r\nQUIT\r\n")
    assert "Reused," in again, again
    assert "cert-subject=CN%3Dclient1,O%3DRedoubtClients" in again, again


@pytest.mark.parametrize("kind", ["forge-resumed-identity", "unbind-resumed-identity"])
@pytest.mark.parametrize("flag", ["-tls1_2", "-tls1_3"])
def test_handshaker_forged_resumed_identity_is_refused(hooks_factory, tmp_path, kind, flag):
    """A handshaker decrypts tickets (it holds the ticket keys): a compromised one could hand
    main a resumed session claiming any certificate. Armed here, every handshaker rewrites the
    sessions it resumes: "client1" becomes "forged1" in the certificate (main's binding no
    longer matches), or main's binding is removed. Main must refuse both."""
    srv = start(hooks_factory, "--enable-debug-command", "yes")
    sess = tmp_path / "session.pem"
    first = s_client(srv, flag, "-sess_out", str(sess))
    assert "+PONG" in first, first
    failed = int(srv.client().info("tls")["tls_handshakes_failed"])
    pids = srv.client().execute_command("DEBUG", "TLS-HANDSHAKER-MISBEHAVE", kind)
    assert pids, "no handshaker armed"
    again = s_client(srv, flag, "-sess_in", str(sess), payload=b"CLIENT INFO\r\nQUIT\r\n")
    assert "cert-subject" not in again, again
    assert "forged1" not in again, again
    assert int(srv.client().info("tls")["tls_handshakes_failed"]) == failed + 1
    expected = "does not match main's binding" if kind.startswith("forge") else "never bound"
    assert srv.wait_for_log(expected, timeout=5), srv.log_tail()
    # The forgery refused only itself: a full handshake still gets the real identity.
    full = s_client(srv, flag, payload=b"CLIENT INFO\r\nQUIT\r\n")
    assert "cert-subject=CN%3Dclient1,O%3DRedoubtClients" in full, full
