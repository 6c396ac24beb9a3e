"""Issue 17 item 6, the smaller findings of the security audit, each checked as a user sees it.

  - Secrets in SLOWLOG, MONITOR and the ACL LOG: ACL SETUSER, AUTH, HELLO ... AUTH and CONFIG SET
    of a sensitive directive show "(redacted)" exactly where Redis 7.0 does (SLOWLOG GET and the
    MONITOR feed compared byte for byte with Debian's redis-server, timestamps and ports masked),
    and a command after a redacted one inside EXEC is logged as itself.
  - Protected mode follows the default user's nopass flag (not requirepass), and "local" means
    127.0.0.1, ::1 or a Unix socket, as Redis's islocalClient: a client connecting from
    127.0.0.2 is not local (Linux routes all of 127.0.0.0/8 over lo, so the tests use it as the
    "remote" peer).
  - enable-debug-command / enable-protected-configs local: a fresh local client may use DEBUG or
    set a protected config as its first command; the peer address is read at accept, so it is
    still known after the peer has reset the connection.
  - TLS 1.2 defaults without SHA-1: no CBC-SHA1 suite unless tls-ciphers names one, and neither
    the CertificateRequest nor our own signatures use rsa_pkcs1_sha1 / ecdsa_sha1.
  - The release binary is stripped; its symbols are in server.debug beside it.

Run: REDOUBT_TEST_MODE=plain /usr/bin/python3 -m pytest -q tests/integration/test_hardening_small.py
(the TLS tests run with REDOUBT_TEST_MODE=tls; the binary checks run in both modes).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import socket
import ssl
import struct
import subprocess
import time
import zlib
from pathlib import Path

import pytest

import harness

HOST = harness.HOST
# A peer Redis does not count as local (islocalClient compares with "127.0.0.1" and "::1").
NON_LOCAL_SOURCE = "127.0.0.2"

plain_only = pytest.mark.plain_only("transport-independent; runs once to keep ./runtest short")
tls_only = pytest.mark.tls_only("checks the TLS policy of a TLS listener")


class SourceClient(harness.RawClient):
    """A RawClient over plain TCP whose socket is bound to |source| before connecting."""

    def __init__(self, port: int, source: str, timeout: float = harness.CLIENT_TIMEOUT_S):
        self.sock = socket.create_connection((HOST, port), timeout=timeout,
                                             source_address=(source, 0))
        self.buf = b""
        self.last_attributes = []


def first_reply(srv, source: str, *command) -> bytes:
    """The exact bytes of the reply to |command| sent as the first command of a new connection
    from |source|."""
    c = SourceClient(srv.port, source)
    try:
        c.send_command(*command)
        return c.recv_reply_raw()
    finally:
        c.close()


# ---------------------------------------------------------------------------------------------
# (a) Redaction in SLOWLOG, MONITOR and the ACL LOG
# ---------------------------------------------------------------------------------------------
HASHED_SECRET = "hash-pass-2"
SECRETS = ["alice-pass-1", HASHED_SECRET, hashlib.sha256(HASHED_SECRET.encode()).hexdigest(),
           "alice-pass-3", "bad-pass-4", "bob-pass-5", "wrong-pass-7", "only-pass-8",
           "wrong-pass-9", "master-pass-10", "master-user-11", "req-pass-12", "dave-pass-13",
           "eve-pass-14", "eve-secret-15", "hello-pass-16"]

REDACTION_FLOW = [
    ["ACL", "SETUSER", "alice", "on", ">alice-pass-1", "<alice-pass-1",
     "#" + hashlib.sha256(HASHED_SECRET.encode()).hexdigest(), "~*", "&*", "+@all"],
    ["ACL", "SETUSER", "alice", ">alice-pass-3"],
    ["ACL", "SETUSER", "bad user", ">bad-pass-4"],          # refused: a space in the name
    ["ACL", "SETUSER", "bob", ">bob-pass-5", "+nosuchcommand"],  # refused: a bad rule
    ["AUTH", "alice", "alice-pass-3"],
    ["AUTH", "alice", "wrong-pass-7"],
    ["AUTH", "only-pass-8"],        # the default user has no password: refused, still redacted
    ["HELLO", "2", "AUTH", "alice", "alice-pass-3", "SETNAME", "worker"],
    ["HELLO", "2", "AUTH", "alice", "wrong-pass-9"],
    ["CONFIG", "SET", "masterauth", "master-pass-10", "masteruser", "master-user-11"],
    ["CONFIG", "SET", "masterauth", "", "maxmemory-policy", "noeviction"],
    ["CONFIG", "SET", "requirepass", "req-pass-12"],
    ["CONFIG", "SET", "requirepass", ""],
    # Inside EXEC: the SET after the AUTH must be logged as SET (it was logged as the AUTH).
    ["MULTI"],
    ["AUTH", "alice", "alice-pass-3"],
    ["SET", "k", "v"],
    ["ACL", "SETUSER", "dave", ">dave-pass-13"],
    ["GET", "k"],
    ["EXEC"],
    ["SET", "k2", "v2"],
    # A user who may not run ACL SETUSER: a "command" entry in the ACL LOG.
    ["ACL", "SETUSER", "eve", "on", ">eve-pass-14", "~*", "+@all", "-acl|setuser"],
    ["AUTH", "eve", "eve-pass-14"],
    ["ACL", "SETUSER", "mallory", "on", ">eve-secret-15"],
    ["HELLO", "2", "AUTH", "nosuchuser", "hello-pass-16"],
    ["AUTH", "alice", "alice-pass-3"],
    ["ECHO", "end-of-flow"],
]

MONITOR_LINE = re.compile(rb"^\+\d+\.\d{6} \[(\d+) 127\.0\.0\.1:\d+\] ", re.M)


def run_redaction_flow(srv):
    """Runs REDACTION_FLOW with SLOWLOG on everything and a MONITOR attached; returns
    (slowlog entries with their volatile fields masked, the raw SLOWLOG reply, the masked
    MONITOR feed, the ACL LOG as (entries, raw reply))."""
    with srv.raw() as mon, srv.raw() as c:
        assert c.call("CLIENT", "SETNAME", "worker") == b"OK"
        assert c.call("CONFIG", "SET", "slowlog-log-slower-than", "0") == b"OK"
        assert c.call("SLOWLOG", "RESET") == b"OK"
        assert c.call("ACL", "LOG", "RESET") == b"OK"
        assert mon.call("MONITOR") == b"OK"
        for args in REDACTION_FLOW:
            c.send_command(*args)
            c.recv_reply_raw()
        feed = b""
        deadline = time.monotonic() + 5
        while b'"end-of-flow"' not in feed and time.monotonic() < deadline:
            feed += mon.recv_available(0.1)
        assert b'"end-of-flow"' in feed, feed[-400:]
        c.send_command("SLOWLOG", "GET", "-1")
        slowlog_raw = c.recv_reply_raw()
        c.send_command("ACL", "LOG")
        acllog_raw = c.recv_reply_raw()
        assert c.call("CONFIG", "SET", "slowlog-log-slower-than", "10000") == b"OK"
    entries, _ = harness.parse_reply(slowlog_raw)
    ids = [e[0] for e in entries]
    assert ids == list(range(ids[0], ids[0] - len(ids), -1)), ids  # newest first, consecutive
    masked = [(e[3], re.sub(rb":\d+$", b":PORT", e[4]), e[5]) for e in entries]
    feed = MONITOR_LINE.sub(rb"+TIME [\1 127.0.0.1:PORT] ", feed)
    acllog, _ = harness.parse_reply(acllog_raw)
    acl_entries = []
    for e in acllog:
        fields = dict(zip(e[0::2], e[1::2])) if isinstance(e, list) else e
        info = dict(kv.split(b"=", 1) for kv in fields[b"client-info"].split(b" "))
        acl_entries.append((fields[b"count"], fields[b"reason"], fields[b"context"],
                            fields[b"object"], fields[b"username"], info[b"cmd"],
                            info[b"user"]))
    return masked, slowlog_raw, feed, (acl_entries, acllog_raw)


@plain_only
def test_secrets_redacted_like_redis(server, redis_server):
    ours = run_redaction_flow(server)
    ref = run_redaction_flow(redis_server)
    ours_slowlog, ours_slowlog_raw, ours_feed, (ours_acl, ours_acl_raw) = ours
    ref_slowlog, _, ref_feed, (ref_acl, _) = ref
    # What a user sees: no secret anywhere.
    for secret in SECRETS:
        for name, blob in (("SLOWLOG", ours_slowlog_raw), ("MONITOR", ours_feed),
                           ("ACL LOG", ours_acl_raw)):
            assert secret.encode() not in blob, f"{secret} visible in {name}"
    setuser = [args for args, _, _ in ours_slowlog if args[:2] == [b"ACL", b"SETUSER"]]
    assert setuser and all(a == b"(redacted)" for args in setuser for a in args[2:]), setuser
    # The command after a redacted AUTH inside EXEC is itself.
    assert [b"SET", b"k", b"v"] in [args for args, _, _ in ours_slowlog]
    assert b'"SET" "k" "v"' in ours_feed
    # And exactly what Redis 7.0 shows.
    assert ours_slowlog == ref_slowlog
    assert ours_feed == ref_feed
    assert ours_acl == ref_acl


# ---------------------------------------------------------------------------------------------
# (b) Protected mode follows the default user's nopass flag
# ---------------------------------------------------------------------------------------------
def protected_mode_flow(srv):
    """Replies to PING from a new non-local and a new local connection as the default user's
    password changes; the connection from 127.0.0.2 is refused while the default user has
    nopass, whatever requirepass says."""
    out = []

    def probe(label):
        for source in (NON_LOCAL_SOURCE, HOST):
            out.append((label, source, first_reply(srv, source, "PING")))

    probe("requirepass set")
    with srv.raw() as admin:
        assert admin.call("AUTH", "foo") == b"OK"
        assert admin.call("ACL", "SETUSER", "default", "nopass") == b"OK"
        assert admin.call("CONFIG", "GET", "requirepass") == [b"requirepass", b"foo"]
        probe("ACL SETUSER default nopass, requirepass still set")
        assert admin.call("ACL", "SETUSER", "default", "resetpass", ">bar") == b"OK"
        probe("ACL SETUSER default >bar")
        assert admin.call("CONFIG", "SET", "requirepass", "") == b"OK"
        probe("CONFIG SET requirepass ''")
        stats = admin.call("INFO", "stats").decode()
        out.append(re.search(r"rejected_connections:\d+", stats).group(0))
    return out


@plain_only
def test_protected_mode_follows_default_user_nopass(server_factory, redis_server_factory):
    args = ["--protected-mode", "yes", "--requirepass", "foo"]
    ours = protected_mode_flow(server_factory(args))
    ref = protected_mode_flow(redis_server_factory(args))
    denied = [(label, source) for label, source, reply in ours[:-1]
              if reply.startswith(b"-DENIED Redis is running in protected mode")]
    assert denied == [("ACL SETUSER default nopass, requirepass still set", NON_LOCAL_SOURCE),
                      ("CONFIG SET requirepass ''", NON_LOCAL_SOURCE)], ours
    assert ours == ref


# ---------------------------------------------------------------------------------------------
# (c) "local" for enable-debug-command / enable-protected-configs, peer address at accept
# ---------------------------------------------------------------------------------------------
def local_settings_flow(srv):
    out = []
    for source in (HOST, NON_LOCAL_SOURCE):
        # Each the first command of a fresh connection.
        out.append(first_reply(srv, source, "DEBUG", "SLEEP", "0"))
        out.append(first_reply(srv, source, "CONFIG", "SET", "dir", str(srv.dir)))
    return out


@plain_only
def test_local_settings_allow_a_fresh_local_client(server_factory, redis_server_factory):
    args = ["--enable-debug-command", "local", "--enable-protected-configs", "local",
            "--protected-mode", "no"]
    ours = local_settings_flow(server_factory(args))
    ref = local_settings_flow(redis_server_factory(args))
    assert ours[:2] == [b"+OK\r\n", b"+OK\r\n"], ours
    assert ours[2].startswith(b"-ERR DEBUG command not allowed."), ours
    assert ours == ref


@plain_only
def test_peer_address_survives_a_connection_reset(server_factory):
    """The address is read at accept: a command that ends after its peer reset the connection
    is still logged with the peer's address (getpeername fails by then)."""
    srv = server_factory(["--enable-debug-command", "yes", "--slowlog-log-slower-than", "0"])
    c = SourceClient(srv.port, HOST)
    assert c.call("CLIENT", "SETNAME", "resetter") == b"OK"
    peer = "%s:%d" % c.sock.getsockname()
    c.send_command("DEBUG", "SLEEP", "0.5")
    time.sleep(0.15)  # the server is sleeping in the command
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()  # RST
    with srv.raw() as admin:
        entries = admin.call("SLOWLOG", "GET", "-1")
    sleeps = [e for e in entries if e[3] == [b"DEBUG", b"SLEEP", b"0.5"]]
    assert len(sleeps) == 1, entries
    assert sleeps[0][4] == peer.encode() and sleeps[0][5] == b"resetter", sleeps[0]


# ---------------------------------------------------------------------------------------------
# (d) TLS 1.2 without SHA-1 by default
# ---------------------------------------------------------------------------------------------
# ECDSA, RSA-PSS and RSA PKCS#1 with SHA-256/384/512 (tls/policy.c), in this order.
EXPECTED_SIGALGS = ["0x0403", "0x0804", "0x0401", "0x0503", "0x0805", "0x0501", "0x0603",
                    "0x0806", "0x0601"]


def tls12_handshake(srv, ciphers: str):
    """Negotiated cipher of a TLS 1.2 handshake offering only |ciphers| (then PING), or the
    exception that ended it."""
    ctx = harness.client_ssl_context()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(ciphers)
    try:
        with socket.create_connection((HOST, srv.port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(b"PING\r\n")
                assert s.recv(64) == b"+PONG\r\n"
                return s.cipher()[0]
    except (ssl.SSLError, ConnectionError, OSError) as e:
        return e


def openssl_s_client(srv, *args) -> str:
    files = harness.tls_files()
    r = subprocess.run(
        ["openssl", "s_client", "-connect", f"{HOST}:{srv.port}", "-servername", "localhost",
         "-cert", str(files["client_cert"]), "-key", str(files["client_key"]),
         "-CAfile", str(files["ca"]), *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    return r.stdout.decode("utf-8", "replace")


def certificate_request_sigalgs(trace: str) -> list[str]:
    """The signature_algorithms of the CertificateRequest in `openssl s_client -trace` output."""
    start = trace.index("CertificateRequest, Length=")
    block = trace[start:]
    sig = block.index("signature_algorithms")
    algs = []
    for line in block[sig:].splitlines()[1:]:
        m = re.match(r"\s+\S+ \((0x[0-9a-f]{4})\)$", line)
        if not m:
            break
        algs.append(m.group(1))
    return algs


@tls_only
def test_tls12_cbc_sha1_suites_off_by_default_and_configurable(server):
    refused = tls12_handshake(server, "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA")
    assert isinstance(refused, Exception), f"negotiated {refused}"
    assert tls12_handshake(server, "ECDHE-RSA-AES128-GCM-SHA256") == \
        "ECDHE-RSA-AES128-GCM-SHA256"
    assert tls12_handshake(server, "ECDHE-RSA-CHACHA20-POLY1305") == \
        "ECDHE-RSA-CHACHA20-POLY1305"
    # tls-ciphers still enables them for whoever needs them (the handshakers reload).
    with server.raw() as c:
        assert c.call("CONFIG", "SET", "tls-ciphers",
                      "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256") == b"OK"
    deadline = time.monotonic() + 10
    got = None
    while time.monotonic() < deadline:
        got = tls12_handshake(server, "ECDHE-RSA-AES128-SHA")
        if got == "ECDHE-RSA-AES128-SHA":
            break
        time.sleep(0.1)
    assert got == "ECDHE-RSA-AES128-SHA"


@tls_only
@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_certificate_request_offers_no_sha1(server, version):
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    trace = openssl_s_client(server, version, "-trace")
    if "CertificateRequest" not in trace:
        pytest.skip("openssl s_client -trace not available: " + trace[:200])
    assert certificate_request_sigalgs(trace) == EXPECTED_SIGALGS
    assert "sha1" not in trace.split("CertificateRequest, Length=")[1].split("Record")[0]


@tls_only
def test_server_does_not_sign_with_sha1(server):
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    # A TLS 1.2 client that accepts only SHA-1 signatures (SECLEVEL=0 lets OpenSSL offer them).
    only_sha1 = openssl_s_client(server, "-tls1_2", "-sigalgs", "RSA+SHA1",
                                 "-cipher", "ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0")
    assert "Cipher is (NONE)" in only_sha1, only_sha1[-600:]
    usual = openssl_s_client(server, "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256")
    assert "Cipher is ECDHE-RSA-AES128-GCM-SHA256" in usual, usual[-600:]
    assert "Peer signing digest: SHA256" in usual


# ---------------------------------------------------------------------------------------------
# (e) The shipped binary is stripped; its symbols are in server.debug
# ---------------------------------------------------------------------------------------------
def elf_sections(path: Path) -> set[str]:
    out = subprocess.run(["readelf", "-S", "-W", str(path)], stdout=subprocess.PIPE,
                         check=True, timeout=30).stdout.decode()
    return set(re.findall(r"\]\s+(\.\S+)", out))


def is_sanitizer_build(path: Path) -> bool:
    data = path.read_bytes()
    return b"__asan_init" in data or b"__tsan_init" in data


def elf_section(path: Path, wanted: str) -> bytes:
    """The contents of section |wanted| of a little-endian ELF64 file (b"" if absent)."""
    data = path.read_bytes()
    assert data[:6] == b"\x7fELF\x02\x01", "not a little-endian ELF64 file"
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)

    def header(i):  # (name offset, file offset, size)
        base = shoff + i * shentsize
        name, = struct.unpack_from("<I", data, base)
        offset, size = struct.unpack_from("<QQ", data, base + 0x18)
        return name, offset, size

    _, strtab, _ = header(shstrndx)
    for i in range(shnum):
        name, offset, size = header(i)
        end = data.index(b"\0", strtab + name)
        if data[strtab + name:end].decode() == wanted:
            return data[offset:offset + size]
    return b""


def debuglink(path: Path) -> tuple[str, int]:
    """(file name, CRC32) of the binary's .gnu_debuglink section."""
    link = elf_section(path, ".gnu_debuglink")
    assert link, f"{path} has no .gnu_debuglink"
    return link.split(b"\0", 1)[0].decode(), struct.unpack("<I", link[-4:])[0]


@pytest.fixture
def shipped_binary():
    for tool in ("readelf", "file", "nm", "addr2line"):
        if shutil.which(tool) is None:
            pytest.skip(f"needs {tool} (binutils, file)")
    path = harness.server_binary().resolve()
    if not path.exists():
        pytest.skip(f"{path} not built")
    return path


def test_release_binary_is_stripped(shipped_binary):
    sections = elf_sections(shipped_binary)
    if is_sanitizer_build(shipped_binary):
        # Sanitizer reports need the line tables: those builds keep them inline.
        assert ".debug_info" in sections
        return
    described = subprocess.run(["file", "-L", str(shipped_binary)], stdout=subprocess.PIPE,
                               check=True, timeout=30).stdout.decode()
    assert ", stripped" in described, described
    assert not any(s.startswith(".debug_") for s in sections), sections
    assert ".symtab" not in sections and ".gnu_debuglink" in sections
    assert debuglink(shipped_binary)[0] == "server.debug"


def test_debug_symbols_file_matches_the_binary(shipped_binary):
    if is_sanitizer_build(shipped_binary):
        pytest.skip("sanitizer builds keep their debug information inline")
    name, crc = debuglink(shipped_binary)
    candidates = [shipped_binary.parent / name,
                  harness.REPO_ROOT / "bazel-bin" / "server" / name]
    debug = next((p for p in candidates
                  if p.exists() and zlib.crc32(p.read_bytes()) == crc), None)
    if debug is None:
        pytest.skip(f"no {name} with CRC {crc:#x} beside {shipped_binary} or in bazel-bin "
                    "(a copied binary without its symbols)")
    sections = elf_sections(debug)
    assert ".debug_info" in sections and ".debug_line" in sections and ".symtab" in sections
    # The symbols resolve a function of the shipped binary to its source line.
    nm = subprocess.run(["nm", str(debug)], stdout=subprocess.PIPE, check=True,
                        timeout=30).stdout.decode()
    addr = re.search(r"^([0-9a-f]+) T main$", nm, re.M).group(1)
    where = subprocess.run(["addr2line", "-e", str(debug), "0x" + addr],
                           stdout=subprocess.PIPE, check=True, timeout=30).stdout.decode()
    assert "server/main.c:" in where, where
