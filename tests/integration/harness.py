"""Integration-test harness: start a real server binary and talk to it with real clients.

Used through the fixtures in conftest.py (`server`, `server_factory`, `redis_server`,
`redis_server_factory`). Mode comes from REDOUBT_TEST_MODE=plain|tls: in TLS mode the server listens
only on a TLS port with mutual TLS and every client handed out (redis-py, redis-cli,
redis-benchmark, raw socket) connects with tests/tls/client.crt.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path
from typing import Any, Iterable, Optional

REPO_ROOT = Path(__file__).resolve().parents[2]
TLS_DIR = REPO_ROOT / "tests" / "tls"
DEBIAN_REDIS_SERVER = "/usr/bin/redis-server"
REDIS_CLI = "/usr/bin/redis-cli"
REDIS_BENCHMARK = "/usr/bin/redis-benchmark"
HOST = "127.0.0.1"

START_TIMEOUT_S = 20.0  # ASan builds and the handshaker pool make start-up slower
STOP_TIMEOUT_S = 10.0
CLIENT_TIMEOUT_S = 10.0
START_ATTEMPTS = 3  # a free port can be taken between probing and binding: retry
# Test-client limits (the server under test is not trusted to send sane sizes).
RAW_MAX_BULK = 512 * 1024 * 1024
RAW_MAX_AGGREGATE = 16 * 1024 * 1024
RAW_MAX_DEPTH = 64

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "ThreadSanitizer", "MemorySanitizer")


def test_mode() -> str:
    mode = os.environ.get("REDOUBT_TEST_MODE", "plain")
    if mode not in ("plain", "tls"):
        raise RuntimeError(f"REDOUBT_TEST_MODE must be plain or tls, not {mode!r}")
    return mode


def server_binary() -> Path:
    env = os.environ.get("REDOUBT_SERVER")
    path = Path(env) if env else REPO_ROOT / "bazel-bin" / "server" / "server"
    if not path.is_absolute():
        path = REPO_ROOT / path
    return path


def tls_files() -> dict[str, Path]:
    return {
        "ca": TLS_DIR / "ca.crt",
        "server_cert": TLS_DIR / "server.crt",
        "server_key": TLS_DIR / "server.key",
        "client_cert": TLS_DIR / "client.crt",
        "client_key": TLS_DIR / "client.key",
    }


def ensure_test_certs() -> None:
    """Create tests/tls/ with utils/gen-test-certs.sh when any needed file is missing."""
    if all(p.exists() for p in tls_files().values()):
        return
    script = REPO_ROOT / "utils" / "gen-test-certs.sh"
    if not script.exists():
        raise RuntimeError("TLS mode: tests/tls certificates missing and utils/gen-test-certs.sh absent")
    subprocess.run([str(script)], cwd=REPO_ROOT, check=True, timeout=120)


def fd_targets(pid: int) -> list[str]:
    """What each open descriptor of pid points to (/proc/<pid>/fd). A descriptor closed between
    the listing and the readlink (a connection ending meanwhile) is skipped."""
    targets = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            targets.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
    return targets


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def client_ssl_context(cert: Optional[Path] = None, key: Optional[Path] = None,
                       ca: Optional[Path] = None) -> ssl.SSLContext:
    files = tls_files()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=str(ca or files["ca"]))
    ctx.load_cert_chain(certfile=str(cert or files["client_cert"]),
                        keyfile=str(key or files["client_key"]))
    ctx.check_hostname = True  # the test server cert has SAN IP:127.0.0.1 and DNS:localhost
    return ctx


def _args_list(args: Any) -> list[str]:
    """Accept a list/tuple of strings, a dict {directive: value}, a shell-like string or None."""
    if args is None:
        return []
    if isinstance(args, str):
        return shlex.split(args)
    if isinstance(args, dict):
        out: list[str] = []
        for k, v in args.items():
            out.append(k if k.startswith("--") else "--" + k)
            if isinstance(v, (list, tuple)):
                out.extend(str(x) for x in v)
            else:
                out.append(str(v))
        return out
    return [str(a) for a in args]


# ---------------------------------------------------------------------------- RESP values

class RespError(Exception):
    """An error reply (-ERR ... or RESP3 !blob error). Returned as a value, never raised by
    recv_reply(), because errors can sit inside arrays (EXEC)."""

    def __init__(self, message: bytes):
        super().__init__(message.decode("utf-8", "replace"))
        self.message = message

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RespError):
            return self.message == other.message
        if isinstance(other, (bytes, str)):
            return self.message == (other.encode() if isinstance(other, str) else other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.message)

    def __repr__(self) -> str:
        return f"RespError({self.message!r})"

    @property
    def code(self) -> bytes:
        return self.message.split(b" ", 1)[0]


class SimpleString(bytes):
    """+OK style reply; compares equal to the same bytes."""

    def __repr__(self) -> str:
        return f"SimpleString({bytes(self)!r})"


class Verbatim(bytes):
    """RESP3 =txt:... reply; bytes are the text, .format the 3-letter format."""
    format: bytes = b""


class Push(list):
    """RESP3 > push message."""


class RespSet(list):
    """RESP3 ~ set (kept as an ordered list)."""


class BigNumber(int):
    """RESP3 ( big number."""


class _NeedMore(Exception):
    pass


def parse_reply(buf: bytes, pos: int = 0, depth: int = 0, attrs: Optional[list] = None):
    """Parse one RESP2/RESP3 reply from buf[pos:]. Returns (value, new_pos); raises _NeedMore
    when the buffer holds only part of a reply and ValueError on protocol violations."""
    if depth > RAW_MAX_DEPTH:
        raise ValueError("reply nested too deeply")
    end = buf.find(b"\r\n", pos)
    if end < 0:
        raise _NeedMore()
    kind = buf[pos:pos + 1]
    line = buf[pos + 1:end]
    nxt = end + 2
    if kind == b"+":
        return SimpleString(line), nxt
    if kind == b"-":
        return RespError(line), nxt
    if kind == b":":
        return int(line), nxt
    if kind == b"_":
        return None, nxt
    if kind == b"#":
        if line not in (b"t", b"f"):
            raise ValueError(f"bad boolean {line!r}")
        return line == b"t", nxt
    if kind == b",":
        text = line.decode().lower()
        return float({"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(text, text)), nxt
    if kind == b"(":
        return BigNumber(int(line)), nxt
    if kind in (b"$", b"!", b"="):
        n = int(line)
        if n == -1 and kind == b"$":
            return None, nxt
        if n < 0 or n > RAW_MAX_BULK:
            raise ValueError(f"bad bulk length {n}")
        if len(buf) < nxt + n + 2:
            raise _NeedMore()
        data = buf[nxt:nxt + n]
        if buf[nxt + n:nxt + n + 2] != b"\r\n":
            raise ValueError("bulk not terminated by CRLF")
        if kind == b"!":
            return RespError(data), nxt + n + 2
        if kind == b"=":
            v = Verbatim(data[4:])
            v.format = data[:3]
            return v, nxt + n + 2
        return data, nxt + n + 2
    if kind in (b"*", b">", b"~", b"%", b"|"):
        n = int(line)
        if n == -1 and kind == b"*":
            return None, nxt
        if n < 0 or n > RAW_MAX_AGGREGATE:
            raise ValueError(f"bad aggregate length {n}")
        count = n * 2 if kind in (b"%", b"|") else n
        items = []
        p = nxt
        for _ in range(count):
            v, p = parse_reply(buf, p, depth + 1, attrs)
            items.append(v)
        if kind == b"|":
            if attrs is not None:
                attrs.append(_pairs_to_dict(items))
            return parse_reply(buf, p, depth + 1, attrs)
        if kind == b"%":
            return _pairs_to_dict(items), p
        if kind == b">":
            return Push(items), p
        if kind == b"~":
            return RespSet(items), p
        return items, p
    raise ValueError(f"unknown RESP type byte {kind!r} in {buf[pos:pos + 40]!r}")


def _hashable(v: Any) -> Any:
    return tuple(_hashable(x) for x in v) if isinstance(v, list) else v


def _pairs_to_dict(items: list) -> dict:
    return {_hashable(items[i]): items[i + 1] for i in range(0, len(items), 2)}


def encode_command(*args: Any) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, (int, float)):
            a = str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(parts)


class RawClient:
    """A minimal RESP client over a plain or TLS socket, for byte-exact tests."""

    def __init__(self, host: str, port: int, tls: bool, timeout: float = CLIENT_TIMEOUT_S,
                 ssl_context: Optional[ssl.SSLContext] = None):
        sock = socket.create_connection((host, port), timeout=timeout)
        if tls:
            ctx = ssl_context or client_ssl_context()
            sock = ctx.wrap_socket(sock, server_hostname="localhost")
        self.sock = sock
        self.buf = b""
        self.last_attributes: list = []

    def settimeout(self, t: Optional[float]) -> None:
        self.sock.settimeout(t)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_command(self, *args: Any) -> None:
        self.sock.sendall(encode_command(*args))

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed by server (pending {self.buf[:80]!r})")
        self.buf += chunk

    def recv_reply_raw(self) -> bytes:
        """Exact bytes of the next complete reply."""
        while True:
            try:
                attrs: list = []
                _, end = parse_reply(self.buf, 0, 0, attrs)
            except _NeedMore:
                self._fill()
                continue
            raw, self.buf = self.buf[:end], self.buf[end:]
            return raw

    def recv_reply(self) -> Any:
        """Next reply as Python values: bytes, SimpleString, int, None, list, dict, float, bool,
        RespError (returned, not raised), Push, RespSet, Verbatim, BigNumber."""
        while True:
            try:
                attrs: list = []
                value, end = parse_reply(self.buf, 0, 0, attrs)
            except _NeedMore:
                self._fill()
                continue
            self.buf = self.buf[end:]
            self.last_attributes = attrs
            return value

    def call(self, *args: Any) -> Any:
        self.send_command(*args)
        return self.recv_reply()

    def recv_available(self, wait: float = 0.2) -> bytes:
        """Whatever arrives within `wait` seconds (plus buffered bytes); b"" if nothing."""
        old = self.sock.gettimeout()
        self.sock.settimeout(wait)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.buf += chunk
        except (socket.timeout, TimeoutError, ssl.SSLWantReadError):
            pass
        finally:
            self.sock.settimeout(old)
        data, self.buf = self.buf, b""
        return data

    def is_closed(self, wait: float = 2.0) -> bool:
        """True when the server closes the connection within `wait` seconds."""
        old = self.sock.gettimeout()
        self.sock.settimeout(wait)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (socket.timeout, TimeoutError):
            return False
        except (ConnectionError, ssl.SSLError, OSError):
            return True
        finally:
            try:
                self.sock.settimeout(old)
            except OSError:
                pass

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "RawClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# ---------------------------------------------------------------------------- server process

class ServerCrashed(Exception):
    pass


class ServerProcess:
    """One server process (Redoubt or Debian redis-server) on a free loopback port."""

    def __init__(self, binary: Path, workdir: Path, args: Any = None, mode: Optional[str] = None,
                 conf: Optional[str] = None, name: str = "server",
                 start_timeout: float = START_TIMEOUT_S):
        self.binary = Path(binary)
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.mode = mode or test_mode()
        self.tls = self.mode == "tls"
        self.extra_args = _args_list(args)
        self.conf = conf
        self.name = name
        self.start_timeout = start_timeout
        self.host = HOST
        self.port = 0
        self.proc: Optional[subprocess.Popen] = None
        self.log_path = self.dir / f"{name}.log"
        self.returncode: Optional[int] = None
        self.hung = False
        self._log_fh = None
        self._clients: list = []

    # ---- lifecycle
    def command_line(self) -> list[str]:
        argv = [str(self.binary)]
        if self.conf is not None:
            conf_path = self.dir / f"{self.name}.conf"
            conf_path.write_text(self.conf)
            argv.append(str(conf_path))
        argv += ["--bind", HOST, "--dir", str(self.dir), "--save", ""]
        if self.tls:
            f = tls_files()
            argv += ["--port", "0", "--tls-port", str(self.port),
                     "--tls-cert-file", str(f["server_cert"]),
                     "--tls-key-file", str(f["server_key"]),
                     "--tls-ca-cert-file", str(f["ca"])]
        else:
            argv += ["--port", str(self.port)]
        return argv + self.extra_args

    def start(self, keep_port: bool = False) -> "ServerProcess":
        if not self.binary.exists():
            raise FileNotFoundError(f"server binary {self.binary} not found: run `bazel build //server`"
                                    " or set REDOUBT_SERVER")
        if self.tls:
            ensure_test_certs()
        last_error = ""
        for _ in range(START_ATTEMPTS):
            if not keep_port or not self.port:
                self.port = free_port()
            self._spawn()
            try:
                self._wait_ready()
                return self
            except ServerCrashed as e:
                last_error = str(e)
                in_use = "in use" in self.log_text().lower()
                if not in_use or keep_port:
                    raise
        raise ServerCrashed(last_error)

    def _spawn(self) -> None:
        self._log_fh = open(self.log_path, "ab")
        self._log_fh.write(f"---- harness: starting {shlex.join(self.command_line())}\n".encode())
        self._log_fh.flush()
        self.returncode = None
        self.proc = subprocess.Popen(self.command_line(), stdout=self._log_fh,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=self.dir, start_new_session=True)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        last = ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.returncode = self.proc.returncode
                raise ServerCrashed(f"{self.name} exited during start-up with "
                                    f"{self.describe_exit()}\n{self.log_tail()}")
            try:
                with self.raw(timeout=2.0) as c:
                    reply = c.call("PING")
                if reply == b"PONG" or (isinstance(reply, RespError) and reply.code == b"NOAUTH"):
                    return
                last = repr(reply)
            except (OSError, ConnectionError, ssl.SSLError, ValueError) as e:
                last = repr(e)
            time.sleep(0.05)
        self.kill()
        raise ServerCrashed(f"{self.name} did not answer PING within {self.start_timeout}s "
                            f"(last: {last})\n{self.log_tail()}")

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> Optional[int]:
        """SIGTERM, wait, SIGKILL if needed. Returns the exit status (negative = signal)."""
        for c in self._clients:
            try:
                c.close()
            except Exception:
                pass
        self._clients.clear()
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._append_log(f"---- harness: did not exit {timeout}s after SIGTERM; SIGKILLed\n")
                self.returncode = self.proc.returncode
                self.hung = True
                self._close_log()
                return self.returncode
        self.returncode = self.proc.returncode
        self._close_log()
        return self.returncode

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.returncode = self.proc.returncode
        self._close_log()

    def restart(self, args: Any = None) -> "ServerProcess":
        """Stop (SIGTERM) and start again with the same dir and port; `args` replaces the extra
        arguments when given. Fails if the previous process crashed."""
        self.stop()
        self.check_not_crashed()
        if args is not None:
            self.extra_args = _args_list(args)
        return self.start(keep_port=True)

    def _append_log(self, text: str) -> None:
        if self._log_fh is not None:
            self._log_fh.write(text.encode())
            self._log_fh.flush()

    def _close_log(self) -> None:
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None

    # ---- state
    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc else None

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def describe_exit(self) -> str:
        rc = self.returncode if self.returncode is not None else (self.proc.poll() if self.proc else None)
        if rc is None:
            return "still running"
        if rc < 0:
            try:
                return f"signal {signal.Signals(-rc).name}"
            except ValueError:
                return f"signal {-rc}"
        return f"exit status {rc}"

    def crash_reason(self) -> Optional[str]:
        """Why this server counts as crashed (died by a signal, a sanitizer report, hung on
        SIGTERM), or None."""
        if self.hung:
            return "did not exit after SIGTERM"
        rc = self.proc.poll() if self.proc else None
        if rc is not None and rc < 0:
            return f"died by {self.describe_exit()}"
        text = self.log_text()
        for marker in SANITIZER_MARKERS:
            if marker in text:
                return f"sanitizer report ({marker!r}) in the log"
        return None

    def check_not_crashed(self) -> None:
        reason = self.crash_reason()
        if reason:
            raise ServerCrashed(f"{self.name} {reason}\n{self.log_tail()}")

    def log_text(self) -> str:
        try:
            return self.log_path.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "---- " + str(self.log_path) + " (tail)\n" + "\n".join(self.log_text().splitlines()[-lines:])

    def wait_for_log(self, text: str, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log_text():
                return True
            time.sleep(0.05)
        return False

    # ---- clients
    def redis_kwargs(self) -> dict:
        kw: dict[str, Any] = {"host": self.host, "port": self.port,
                              "socket_timeout": CLIENT_TIMEOUT_S}
        if self.tls:
            f = tls_files()
            kw.update(ssl=True, ssl_certfile=str(f["client_cert"]), ssl_keyfile=str(f["client_key"]),
                      ssl_ca_certs=str(f["ca"]), ssl_cert_reqs="required")
        return kw

    def client(self, decode_responses: bool = False, **kwargs: Any):
        import redis  # Debian python3-redis (run tests with /usr/bin/python3)

        kw = self.redis_kwargs()
        kw.update(kwargs)
        c = redis.Redis(decode_responses=decode_responses, **kw)
        self._clients.append(c)
        return c

    def conn_flags(self) -> list[str]:
        """Connection flags for redis-cli / redis-benchmark."""
        flags = ["-h", self.host, "-p", str(self.port)]
        if self.tls:
            f = tls_files()
            flags += ["--tls", "--cert", str(f["client_cert"]), "--key", str(f["client_key"]),
                      "--cacert", str(f["ca"])]
        return flags

    def cli(self, *args: Any, input: Optional[str | bytes] = None,
            timeout: float = 60.0) -> tuple[str, int]:
        """Run redis-cli with this server's connection flags. Returns (stdout, returncode);
        stderr is appended to stdout so error messages are visible to assertions."""
        data = input.encode() if isinstance(input, str) else input
        r = subprocess.run([REDIS_CLI, *self.conn_flags(), *[str(a) for a in args]], input=data,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        out = r.stdout.decode("utf-8", "replace") + r.stderr.decode("utf-8", "replace")
        return out, r.returncode

    def benchmark(self, args: Any = None, timeout: float = 300.0) -> tuple[str, int]:
        """Run redis-benchmark with this server's connection flags; args as list or string."""
        r = subprocess.run([REDIS_BENCHMARK, *self.conn_flags(), *_args_list(args)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=timeout)
        return r.stdout.decode("utf-8", "replace"), r.returncode

    def raw(self, timeout: float = CLIENT_TIMEOUT_S, ssl_context: Optional[ssl.SSLContext] = None
            ) -> RawClient:
        c = RawClient(self.host, self.port, self.tls, timeout=timeout, ssl_context=ssl_context)
        self._clients.append(c)
        return c

    def __repr__(self) -> str:
        return f"<{self.name} {self.binary.name} {self.mode} {self.host}:{self.port} pid={self.pid}>"


def start_server(binary: Path, workdir: Path, args: Iterable[str] | dict | str | None = None,
                 mode: Optional[str] = None, conf: Optional[str] = None,
                 name: str = "server") -> ServerProcess:
    return ServerProcess(binary, workdir, args=args, mode=mode, conf=conf, name=name).start()
