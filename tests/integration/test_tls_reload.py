"""Certificate reload with CONFIG SET under a running client load: no established connection is
dropped, no new connection fails, and bad material is refused with the old one still serving."""

import threading
import time

import pytest

import harness

pytestmark = pytest.mark.tls_only("reloads TLS material")


def info_tls(server):
    """INFO tls as raw field:value strings (redis-py would parse "CN=x,O=y" into a dict)."""
    with server.raw() as r:
        text = r.call("INFO", "tls").decode()
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def _load(server, stop, errors, counts):
    """New TLS connections (each a full handshake) and requests, until stopped."""
    i = 0
    while not stop.is_set():
        try:
            with server.raw(timeout=10) as r:
                key = f"reload:{i}"
                assert r.call("SET", key, "v") == b"OK"
                assert r.call("GET", key) == b"v"
            counts["new"] += 1
        except Exception as e:  # noqa: BLE001 - every failure is a test failure
            errors.append(f"new connection {i}: {e!r}")
        i += 1


def _established(client, stop, errors, counts):
    i = 0
    while not stop.is_set():
        try:
            assert client.call("INCR", "reload:counter") == i + 1
            counts["established"] += 1
        except Exception as e:  # noqa: BLE001
            errors.append(f"established request {i}: {e!r}")
            return
        i += 1


def test_reload_under_load_drops_nothing(server):
    files = harness.tls_files()
    tls_dir = files["ca"].parent
    established = server.raw(timeout=10)
    assert established.call("PING") == b"PONG"
    stop = threading.Event()
    errors: list = []
    counts = {"new": 0, "established": 0}
    threads = [threading.Thread(target=_load, args=(server, stop, errors, counts)) for _ in range(3)]
    threads.append(threading.Thread(target=_established, args=(established, stop, errors, counts)))
    for t in threads:
        t.start()
    admin = server.client()
    try:
        for n in range(6):
            name = "server-ec" if n % 2 == 0 else "server"
            assert admin.config_set("tls-cert-file", str(tls_dir / f"{name}.crt"),
                                    "tls-key-file", str(tls_dir / f"{name}.key")) is True
            time.sleep(0.4)
        # Re-setting the same path reloads too.
        assert admin.config_set("tls-cert-file", str(tls_dir / "server.crt")) is True
        time.sleep(0.4)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert errors == []
    assert counts["new"] > 20 and counts["established"] > 100
    info = info_tls(server)
    assert int(info["tls_handshakers_alive"]) >= 1
    assert info["tls_cert_subject"].startswith("CN=localhost")
    assert int(info["tls_handshakes_completed"]) >= counts["new"]


def test_bad_key_is_refused_and_old_material_keeps_serving(server):
    files = harness.tls_files()
    tls_dir = files["ca"].parent
    admin = server.client(decode_responses=True)
    before = info_tls(server)["tls_cert_subject"]
    # A key that does not match the certificate.
    with pytest.raises(Exception) as exc:
        admin.config_set("tls-cert-file", str(tls_dir / "server.crt"),
                         "tls-key-file", str(tls_dir / "server-ec.key"))
    assert "CONFIG SET failed" in str(exc.value)
    # The rejected pair is rolled back: the running configuration still names the old key.
    assert admin.config_get("tls-key-file")["tls-key-file"] == str(files["server_key"])
    # New connections still complete their handshake with the old material.
    for _ in range(5):
        with server.raw() as r:
            assert r.call("PING") == b"PONG"
    assert info_tls(server)["tls_cert_subject"] == before


def _served_cert(server) -> bytes:
    """The DER certificate a new TLS connection to |server| is served."""
    import socket
    ctx = harness.client_ssl_context()
    with socket.create_connection((server.host, server.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            return s.getpeercert(binary_form=True)


def test_rotation_in_place_reloads_with_unchanged_paths(server_factory, tmp_path):
    """The usual rotation: overwrite the certificate and key files, then CONFIG SET the same
    paths. The new certificate must be served (Redis reloads tls-* files even when the value is
    unchanged); a broken overwrite is refused and the old material keeps serving."""
    import shutil
    tls_dir = harness.tls_files()["ca"].parent
    cert, key = tmp_path / "rotating.crt", tmp_path / "rotating.key"
    shutil.copy(tls_dir / "server.crt", cert)
    shutil.copy(tls_dir / "server.key", key)
    srv = server_factory(["--tls-cert-file", str(cert), "--tls-key-file", str(key),
                          "--tls-auth-clients", "yes"], mode="tls")
    admin = srv.client(decode_responses=True)
    first = _served_cert(srv)
    assert first == ssl_der(tls_dir / "server.crt")
    # Rotate: same paths, new content (the ECDSA certificate of the same CA).
    shutil.copy(tls_dir / "server-ec.crt", cert)
    shutil.copy(tls_dir / "server-ec.key", key)
    assert admin.config_set("tls-cert-file", str(cert), "tls-key-file", str(key))
    assert _served_cert(srv) == ssl_der(tls_dir / "server-ec.crt")
    assert srv.wait_for_log("reloaded", timeout=5), srv.log_tail()
    # A single tls-* directive set to its own value reloads too.
    shutil.copy(tls_dir / "server.crt", cert)
    shutil.copy(tls_dir / "server.key", key)
    assert admin.config_set("tls-key-file", str(key))
    assert _served_cert(srv) == ssl_der(tls_dir / "server.crt")
    # A broken overwrite: refused with the reason, the old material keeps serving.
    cert.write_text("not a certificate\n")
    with pytest.raises(Exception) as exc:
        admin.config_set("tls-cert-file", str(cert))
    assert "CONFIG SET failed" in str(exc.value)
    assert _served_cert(srv) == ssl_der(tls_dir / "server.crt")


def ssl_der(path) -> bytes:
    import ssl
    return ssl.PEM_cert_to_DER_cert(path.read_text())
