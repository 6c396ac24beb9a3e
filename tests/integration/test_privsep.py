"""Privilege separation and the handshaker's process hygiene (issue 17 items 5 and 6).

Started as root with `server-user` naming an unprivileged account, main drops to it after
binding its ports; a privileged spawner (forked before the drop, seccomp-confined) keeps the TLS
key files, root-only here, and their passphrases, and starts every handshaker.

  drop            main's uid, gid and groups are server-user's; no capability, an empty
                  bounding set, no_new_privs; the spawner stays root with a reduced capability set
                  and its own filter (Seccomp: 2); handshakers are its children
  key custody     main holds no descriptor to a key file and server-user cannot open one (tried
                  as that user); no private component of the key, and not the passphrase, is in
                  main's memory, while the scanner finds both where they are (a handshaker, the
                  spawner); CONFIG GET tls-key-file-pass is "(redacted)" (Redis shows it),
                  CONFIG SET of it is refused, CONFIG REWRITE keeps its line as it was
  handshakes      TLS 1.2 and 1.3, mTLS accepted and refused, all through spawner-made handshakers
  reload          CONFIG SET tls-cert-file/tls-key-file to another pair of the key directory, and
                  in place; a key outside the start-up key directories is refused with the reason
  replication     a replica under privilege separation presents its client certificate; the
                  signature is made with a key only the spawner could read
  hygiene         every handshaker: an empty environment, CapBnd 0, RLIMIT_AS and RLIMIT_FSIZE 0;
                  its log lines (and the spawner's) reach the server log through the relay
  seccomp         the live filters of the spawner and of a handshaker (its own and the one
                  inherited from the spawner) equal `server --redoubt-seccomp-bpf` byte for byte
  defaults        server-user "" (or not root) changes nothing; the default "redoubt" only warns
                  when that account does not exist; an unknown explicit account refuses to start

These tests need root (they create the account redoubt-privsep if missing) and start their own TLS
servers whatever the mode, so they run once, in the plain pass.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import harness
import persist_util as pu
import test_repl_master as trm
import test_tls as tt
import test_tls_reload as ttr

pytestmark = pytest.mark.plain_only("starts its own TLS servers as root: run once (plain pass)")

USER = "redoubt-privsep"
TLS = harness.TLS_DIR
PASSPHRASE = b"redoubt-test-pass"  # utils/gen-test-certs.sh, server-enc.key
HANDSHAKER_ARG = b"--redoubt-tls-handshaker"
WAIT_S = 10.0


# ---------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def account() -> pwd.struct_passwd:
    if os.geteuid() != 0:
        pytest.skip("privilege separation is only active when the server starts as root")
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                        "/usr/sbin/nologin", USER], check=True, capture_output=True)
        return pwd.getpwnam(USER)


@pytest.fixture
def keydir():
    """A key directory as an operator sets it up: certificates world-readable, keys root-only."""
    d = Path(tempfile.mkdtemp(prefix="redoubt-privsep-keys-"))
    d.chmod(0o755)
    for name in ("server", "server-ec", "client"):
        shutil.copy(TLS / f"{name}.crt", d / f"{name}.crt")
        shutil.copy(TLS / f"{name}.key", d / f"{name}.key")
    shutil.copy(TLS / "ca.crt", d / "ca.crt")
    shutil.copy(TLS / "server-enc.key", d / "server-enc.key")
    for f in d.iterdir():
        f.chmod(0o600 if f.suffix == ".key" else 0o644)
    yield d
    shutil.rmtree(d, ignore_errors=True)


class PrivsepFactory:
    """Servers in a data directory owned by server-user (it writes there after the drop)."""

    def __init__(self, account, keydir, binary: Path | None = None):
        self.binary = binary or harness.server_binary()
        self.account = account
        self.keydir = keydir
        self.started: list[harness.ServerProcess] = []
        self.dirs: list[Path] = []

    def tls_args(self, cert: str = "server", key: str = "") -> list[str]:
        k = self.keydir
        return ["--tls-cert-file", str(k / f"{cert}.crt"),
                "--tls-key-file", str(k / f"{key or cert}.key"),
                "--tls-ca-cert-file", str(k / "ca.crt"), "--tls-auth-clients", "yes"]

    def __call__(self, *args: str, mode: str = "tls", conf: str | None = None,
                 user: str | None = USER, tls: bool = True, expect_start: bool = True):
        d = Path(tempfile.mkdtemp(prefix="redoubt-privsep-data-"))
        os.chown(d, self.account.pw_uid, self.account.pw_gid)
        self.dirs.append(d)
        extra = (self.tls_args() if tls else []) + list(args)
        if user is not None:
            extra += ["--server-user", user]
        srv = harness.ServerProcess(self.binary, d, args=extra, mode=mode, conf=conf,
                                    name=f"privsep{len(self.started)}")
        self.started.append(srv)
        if not expect_start:
            srv.port = harness.free_port()
            srv._spawn()
            srv.proc.wait(timeout=harness.START_TIMEOUT_S)
            return srv
        srv.start()
        return srv

    def teardown(self):
        problems = []
        for srv in self.started:
            srv.stop()
            reason = srv.crash_reason()
            if reason:
                problems.append(f"{srv.name} {reason}\n{srv.log_tail()}")
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)
        assert not problems, "\n".join(problems)


@pytest.fixture
def privsep(account, keydir):
    f = PrivsepFactory(account, keydir)
    yield f
    f.teardown()


# ---------------------------------------------------------------------------- helpers

def status(pid: int) -> dict[str, str]:
    return tt.proc_status(pid)


def children(pid: int) -> list[int]:
    return tt.children_of(pid)


def argv1(pid: int) -> bytes:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return b""
    return argv[1] if len(argv) > 1 else b""


def spawner_of(srv) -> int:
    found = [c for c in children(srv.pid) if argv1(c) == b"--redoubt-spawner"]
    assert len(found) == 1, f"spawner of {srv.pid}: {found}\n{srv.log_tail()}"
    return found[0]


def sandboxed_handshakers(parent: int, timeout: float = WAIT_S) -> list[int]:
    """Handshaker children of `parent` that have installed their own filter (NoNewPrivs and a
    Seccomp filter are set once sandbox_enter is done; under the spawner a handshaker inherits
    Seccomp 2 at birth, so its uid is the sign: it has dropped root)."""
    deadline = time.monotonic() + timeout
    while True:
        done = []
        for c in children(parent):
            if argv1(c) != HANDSHAKER_ARG:
                continue
            try:
                st = status(c)
            except OSError:
                continue
            if st.get("Uid", "0").split()[0] != "0" and st.get("Seccomp") == "2":
                done.append(c)
        if done or time.monotonic() > deadline:
            return done
        time.sleep(0.05)


def sanitizer_build(pid: int) -> bool:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return "libasan" in maps or "libtsan" in maps


def uids(st: dict[str, str]) -> set[int]:
    return {int(x) for x in st["Uid"].split()}


def ping(srv, **kw) -> tuple[bool, str]:
    return tt.tls_ping(srv, **kw)


def config_get(srv, name: str) -> str:
    with srv.raw() as c:
        reply = c.call("CONFIG", "GET", name)
    return reply[1].decode() if reply else ""


def config_set(srv, *pairs: str):
    with srv.raw() as c:
        return c.call("CONFIG", "SET", *pairs)


# ptrace(2), for PTRACE_SECCOMP_GET_FILTER (needs CAP_SYS_ADMIN: root).
_libc = ctypes.CDLL(None, use_errno=True)
_libc.ptrace.restype = ctypes.c_long
_libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
PTRACE_DETACH, PTRACE_SEIZE, PTRACE_INTERRUPT = 17, 0x4206, 0x4207
PTRACE_SECCOMP_GET_FILTER = 0x420c
WALL = 0x40000000


def live_filters(pid: int) -> list[bytes]:
    """The seccomp filters of `pid`, oldest first (the kernel's filter index 0 is the first
    installed), as the kernel holds them (sock_filter arrays)."""
    if _libc.ptrace(PTRACE_SEIZE, pid, None, None) != 0:
        raise OSError(ctypes.get_errno(), f"PTRACE_SEIZE {pid}")
    try:
        _libc.ptrace(PTRACE_INTERRUPT, pid, None, None)
        os.waitpid(pid, WALL)
        out = []
        for index in range(8):
            n = _libc.ptrace(PTRACE_SECCOMP_GET_FILTER, pid, ctypes.c_void_p(index), None)
            if n < 0:
                break
            buf = ctypes.create_string_buffer(n * 8)
            assert _libc.ptrace(PTRACE_SECCOMP_GET_FILTER, pid, ctypes.c_void_p(index),
                                buf) == n
            out.append(buf.raw)
        return out
    finally:
        _libc.ptrace(PTRACE_DETACH, pid, None, None)


def policy_bpf(which: str) -> bytes:
    r = subprocess.run([str(harness.server_binary()), "--redoubt-seccomp-bpf", which],
                       capture_output=True, check=True)
    assert len(r.stdout) % 8 == 0 and r.stdout, r.stderr
    return r.stdout


# ---------------------------------------------------------------------------- the drop

def test_main_runs_unprivileged_and_cannot_read_the_key(privsep, account):
    srv = privsep()
    st = status(srv.pid)
    assert uids(st) == {account.pw_uid}, st["Uid"]
    assert {int(x) for x in st["Gid"].split()} == {account.pw_gid}, st["Gid"]
    assert st["CapEff"] == st["CapPrm"] == "0000000000000000"
    assert st["CapBnd"] == "0000000000000000" and st["NoNewPrivs"] == "1"
    assert srv.wait_for_log(f"main now runs as {USER}", timeout=1), srv.log_tail()

    # No descriptor of main names a key file; as server-user the key cannot be opened.
    key = privsep.keydir / "server.key"
    opened = harness.fd_targets(srv.pid)
    assert not [p for p in opened if p.endswith(".key")], opened
    r = subprocess.run(["cat", str(key)], user=account.pw_uid, group=account.pw_gid,
                       extra_groups=[], capture_output=True, text=True)
    assert r.returncode != 0 and "Permission denied" in r.stderr, (r.returncode, r.stderr)

    # The spawner: root, a reduced capability set, its own filter; handshakers are its children.
    sp = spawner_of(srv)
    sst = status(sp)
    assert uids(sst) == {0} and sst["Seccomp"] == "2" and sst["NoNewPrivs"] == "1", sst
    # DAC_OVERRIDE, DAC_READ_SEARCH, KILL, SETGID, SETUID, SETPCAP, SYS_CHROOT, SYS_NICE:
    # nothing like SYS_ADMIN, SYS_PTRACE, NET_ADMIN or SYS_MODULE.
    kept = sum(1 << cap for cap in (1, 2, 5, 6, 7, 8, 18, 23))
    assert int(sst["CapBnd"], 16) == kept, sst["CapBnd"]
    assert int(sst["CapEff"], 16) == int(sst["CapPrm"], 16) == kept, sst["CapEff"]
    hs = sandboxed_handshakers(sp)
    assert hs, f"no handshaker under the spawner {sp}: {children(sp)}\n{srv.log_tail()}"
    assert not [c for c in children(srv.pid) if argv1(c) == HANDSHAKER_ARG]


def test_handshakes_and_mtls_through_spawner_made_handshakers(privsep):
    import ssl
    srv = privsep()
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ok, why = ping(srv, version=version)
        assert ok, why
    ok, why = ping(srv, cert=None)
    assert not ok, "a client without a certificate got in under tls-auth-clients yes"
    ok, why = ping(srv, cert="other-client")
    assert not ok, "a client certificate of another CA got in"
    assert ping(srv, cert="client-ec")[0]


def test_key_and_passphrase_never_in_main_memory(privsep):
    conf = f"tls-key-file-pass {PASSPHRASE.decode()}\n"
    srv = privsep("--tls-key-file", str(privsep.keydir / "server-enc.key"), conf=conf)
    assert ping(srv)[0]
    # A deliberate difference with Redis: main does not know the passphrase.
    assert config_get(srv, "tls-key-file-pass") == "(redacted)"
    reply = config_set(srv, "tls-key-file-pass", "something-else")
    assert isinstance(reply, harness.RespError) and b"held by the privileged spawner" in \
        reply.message, reply
    # Setting it to what CONFIG GET shows reloads (an in-place rotation of the key file).
    assert config_set(srv, "tls-key-file-pass", "(redacted)") == b"OK"
    assert ping(srv)[0]
    needles = tt.key_needles(TLS / "server.key")
    needles["passphrase"] = PASSPHRASE
    leaked = tt.scan_memory(srv.pid, needles)
    assert not leaked, f"key material or passphrase in main's memory: {leaked}"
    # The scanner sees them where they are: the spawner holds the passphrase, a handshaker the
    # key (test_tls proves the latter under ASan already: skipped there, it takes long).
    sp = spawner_of(srv)
    assert "passphrase" in tt.scan_memory(sp, {"passphrase": PASSPHRASE})
    hs = sandboxed_handshakers(sp)
    assert hs
    if not sanitizer_build(hs[0]):
        found = tt.scan_memory(hs[0], needles)
        assert any("endian" in k for k in found), found

    # CONFIG REWRITE leaves the passphrase line as it was in the file. (It reads the file: a
    # configuration file server-user can read gives main the passphrase, README.)
    with srv.raw() as c:
        assert c.call("CONFIG", "REWRITE") == b"OK"
    rewritten = (srv.dir / f"{srv.name}.conf").read_text()
    assert f"tls-key-file-pass {PASSPHRASE.decode()}" in rewritten, rewritten
    assert "(redacted)" not in rewritten


# ---------------------------------------------------------------------------- reload

def test_reload_goes_through_the_spawner(privsep):
    srv = privsep()
    k = privsep.keydir
    assert ttr._served_cert(srv) == ttr.ssl_der(k / "server.crt")
    assert config_set(srv, "tls-cert-file", str(k / "server-ec.crt"),
                      "tls-key-file", str(k / "server-ec.key")) == b"OK"
    assert ttr._served_cert(srv) == ttr.ssl_der(k / "server-ec.crt")
    assert srv.wait_for_log("TLS reloaded", timeout=5), srv.log_tail()
    # In place: overwrite the files (as root: they are root's), CONFIG SET the same paths.
    shutil.copy(TLS / "server.crt", k / "server-ec.crt")
    shutil.copy(TLS / "server.key", k / "server-ec.key")
    assert config_set(srv, "tls-cert-file", str(k / "server-ec.crt"),
                      "tls-key-file", str(k / "server-ec.key")) == b"OK"
    assert ttr._served_cert(srv) == ttr.ssl_der(TLS / "server.crt")
    # A key outside the start-up key directories is refused, and the old material serves on.
    reply = config_set(srv, "tls-cert-file", str(TLS / "server.crt"),
                       "tls-key-file", str(TLS / "server.key"))
    assert isinstance(reply, harness.RespError), reply
    assert b"not in the directory of a key file configured at start-up" in reply.message, reply
    assert config_get(srv, "tls-key-file") == str(k / "server-ec.key")
    assert ping(srv)[0]
    # The refusal came from the spawner, whose log line reached main's log through the relay.
    assert srv.wait_for_log(":S * refused keys to handshaker pid", timeout=5), srv.log_tail()


# ---------------------------------------------------------------------------- replication

def test_replica_client_key_comes_from_the_spawner(privsep, server_factory):
    master = server_factory(["--tls-auth-clients", "yes", "--repl-diskless-sync-delay", "0"],
                            mode="tls")
    pu.populate_strings(master, 100)
    k = privsep.keydir
    rep = privsep("--replicaof", master.host, str(master.port),
                  "--tls-cert-file", str(k / "server.crt"), "--tls-key-file", str(k / "server.key"),
                  "--tls-ca-cert-file", str(k / "ca.crt"), "--tls-replication", "yes",
                  "--tls-client-cert-file", str(k / "client.crt"),
                  "--tls-client-key-file", str(k / "client.key"), mode="plain", tls=False)
    assert status(rep.pid)["Uid"].split()[0] != "0"
    trm.wait_link_up(rep, master)
    trm.wait_in_sync(master, [rep])
    with master.raw() as c:
        text = c.call("CLIENT", "LIST", "TYPE", "replica").decode()
    assert "cert-subject=CN%3Dclient1,O%3DRedoubtClients" in text, text
    leaked = tt.scan_memory(rep.pid, tt.key_needles(TLS / "client.key"))
    assert not leaked, f"client key material in the replica's main: {leaked}"


# ---------------------------------------------------------------------------- hygiene

def test_handshakers_start_clean(privsep):
    srv = privsep()
    sp = spawner_of(srv)
    # Empty; sanitizer builds pass their runtime's options, test builds the audit switch
    # (sandbox_child_environment), and only when the server has them itself.
    passed = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS",
              "REDOUBT_SECCOMP_AUDIT"}
    for pid in sandboxed_handshakers(sp):
        env = [e for e in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") if e]
        names = {e.split(b"=", 1)[0].decode() for e in env}
        assert names <= passed & set(os.environ), (pid, env)
        st = status(pid)
        assert st["CapBnd"] == "0000000000000000" and st["CapEff"] == "0000000000000000", st
        limits = Path(f"/proc/{pid}/limits").read_text()
        rows = {line[:26].strip(): line[26:].split() for line in limits.splitlines()[1:]}
        assert rows["Max file size"][:2] == ["0", "0"], rows["Max file size"]
        # Sanitizer builds reserve terabytes of shadow memory: no limit there.
        if not sanitizer_build(pid):
            assert rows["Max address space"][0] != "unlimited", rows["Max address space"]
        assert rows["Max open files"][:2] == ["0", "0"]
        # stderr is the log relay (a socket), never a file
        assert os.readlink(f"/proc/{pid}/fd/2").startswith("socket:"), pid


def test_handshaker_log_lines_reach_the_server_log(account, keydir, tmp_path_factory):
    binary = os.environ.get("REDOUBT_SERVER_TESTHOOKS", "")
    if not binary or not Path(binary).exists():
        pytest.skip("REDOUBT_SERVER_TESTHOOKS not set (a handshaker logs only in test builds)")
    f = PrivsepFactory(account, keydir, Path(binary))
    try:
        srv = f("--enable-debug-command", "yes")
        sp = spawner_of(srv)
        hs = sandboxed_handshakers(sp)
        assert hs
        with srv.raw() as c:
            c.call("DEBUG", "TLS-HANDSHAKER-MISBEHAVE", "wrong-type")
        # The handshaker's own line, relayed and tagged by main.
        assert srv.wait_for_log(":H * test: misbehaving (wrong-type) on request", timeout=5), \
            srv.log_tail()
        line = [ln for ln in srv.log_text().splitlines() if "test: misbehaving" in ln][-1]
        assert ":M " in line and "child: " in line, line
    finally:
        f.teardown()


# ---------------------------------------------------------------------------- seccomp

def test_live_filters_equal_the_policy_byte_for_byte(privsep, server_factory):
    handshaker, spawner = policy_bpf("handshaker"), policy_bpf("spawner")
    assert handshaker != spawner
    srv = privsep()
    sp = spawner_of(srv)
    assert live_filters(sp) == [spawner]
    hs = sandboxed_handshakers(sp)
    assert hs
    # The one it inherited from the spawner, then its own.
    assert live_filters(hs[0]) == [spawner, handshaker]
    assert ping(srv)[0]  # the interruption did no harm
    # Without privilege separation a handshaker has its own filter only.
    plain = server_factory(["--tls-auth-clients", "yes", "--server-user", ""], mode="tls")
    hs = tt.handshakers_of(plain)
    deadline = time.monotonic() + WAIT_S
    while status(hs[0]).get("Seccomp") != "2" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live_filters(hs[0]) == [handshaker]


# ---------------------------------------------------------------------------- defaults

def test_empty_server_user_changes_nothing(privsep):
    srv = privsep(user="")
    st = status(srv.pid)
    assert uids(st) == {0}
    assert not [c for c in children(srv.pid) if argv1(c) == b"--redoubt-spawner"]
    assert tt.handshakers_of(srv)
    assert config_get(srv, "server-user") == ""
    assert ping(srv)[0]


def test_default_user_warns_when_missing(privsep):
    try:
        pwd.getpwnam("redoubt")
        pytest.skip("an account 'redoubt' exists here: the default would drop to it")
    except KeyError:
        pass
    srv = privsep(user=None)
    assert uids(status(srv.pid)) == {0}
    assert config_get(srv, "server-user") == "redoubt"
    assert srv.wait_for_log("server-user account 'redoubt' does not exist", timeout=1), \
        srv.log_tail()
    assert ping(srv)[0]


def test_unknown_server_user_refuses_to_start(privsep):
    srv = privsep(user="no-such-user-redoubt", expect_start=False)
    assert srv.proc.returncode == 1
    assert "server-user 'no-such-user-redoubt' not found" in srv.log_text(), srv.log_tail()
