"""Fixtures for the integration suite (run with /usr/bin/python3 -m pytest tests/integration).

  server                 a started Redoubt server (args from @pytest.mark.server_args(...))
  server_factory(...)    start more: server_factory("--maxmemory", "1mb"), server_factory({"appendonly": "yes"}),
                         server_factory(args, mode="plain", conf="maxclients 10\\n")
  redis_server           Debian's /usr/bin/redis-server, plain mode, same interface (byte-exact comparisons)
  redis_server_factory   start more of those

Every server gets a fresh temp dir (`server.dir`), a free 127.0.0.1 port, its log in the temp dir
(`server.log_text()`, `server.log_path`) and is stopped with SIGTERM at teardown; a test whose server
died by a signal, printed a sanitizer report or ignored SIGTERM fails at teardown.

Mode: REDOUBT_TEST_MODE=plain|tls. Markers: @pytest.mark.plain_only / @pytest.mark.tls_only skip
the test in the other mode (with the reason shown).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "server_args(*args): extra arguments for the `server` fixture")
    config.addinivalue_line("markers", "redis_server_args(*args): extra arguments for `redis_server`")
    config.addinivalue_line("markers", "plain_only(reason): run only in plain mode")
    config.addinivalue_line("markers", "tls_only(reason): run only in TLS mode")


def pytest_report_header(config):
    return (f"redoubt: mode={harness.test_mode()} server={harness.server_binary()}")


def pytest_collection_modifyitems(config, items):
    mode = harness.test_mode()
    for item in items:
        m = item.get_closest_marker("plain_only")
        if m and mode != "plain":
            reason = m.args[0] if m.args else "plain TCP only"
            item.add_marker(pytest.mark.skip(reason=f"plain mode only: {reason}"))
        m = item.get_closest_marker("tls_only")
        if m and mode != "tls":
            reason = m.args[0] if m.args else "TLS only"
            item.add_marker(pytest.mark.skip(reason=f"TLS mode only: {reason}"))


class _Factory:
    def __init__(self, request, tmp_path_factory, binary, default_mode, prefix):
        self.request = request
        self.tmp_path_factory = tmp_path_factory
        self.binary = binary
        self.default_mode = default_mode
        self.prefix = prefix
        self.started: list[harness.ServerProcess] = []

    def __call__(self, *args, mode=None, conf=None, name=None):
        if len(args) == 1 and isinstance(args[0], (dict, list, tuple, str)) and not (
                isinstance(args[0], str) and args[0].startswith("--") and " " not in args[0]):
            args = args[0]
        idx = len(self.started)
        workdir = self.tmp_path_factory.mktemp(f"{self.prefix}{idx}")
        srv = harness.ServerProcess(self.binary, workdir, args=args,
                                    mode=mode or self.default_mode, conf=conf,
                                    name=name or f"{self.prefix}{idx}")
        self.started.append(srv)
        try:
            srv.start()
        except harness.ServerCrashed as e:
            pytest.fail(str(e), pytrace=False)
        except FileNotFoundError as e:
            pytest.fail(str(e), pytrace=False)
        return srv

    def teardown(self):
        problems = []
        for srv in self.started:
            srv.stop()
            reason = srv.crash_reason()
            if reason:
                problems.append(f"{srv.name} (pid {srv.pid}) {reason}\n{srv.log_tail()}")
        if problems:
            pytest.fail("server crash detected:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def server_factory(request, tmp_path_factory):
    f = _Factory(request, tmp_path_factory, harness.server_binary(), harness.test_mode(), "redoubt")
    yield f
    f.teardown()


@pytest.fixture
def server(server_factory, request):
    m = request.node.get_closest_marker("server_args")
    return server_factory(list(m.args) if m else [])


@pytest.fixture
def redis_server_factory(request, tmp_path_factory):
    if not Path(harness.DEBIAN_REDIS_SERVER).exists():
        pytest.skip("Debian redis-server not installed (apt-get install redis-server)")
    f = _Factory(request, tmp_path_factory, Path(harness.DEBIAN_REDIS_SERVER), "plain", "redis")
    yield f
    f.teardown()


@pytest.fixture
def redis_server(redis_server_factory, request):
    m = request.node.get_closest_marker("redis_server_args")
    return redis_server_factory(list(m.args) if m else [])
