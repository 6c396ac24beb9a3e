#!/usr/bin/python3
"""bench/storm.py: load generator for bench/storm.sh (handshake-storm isolation, issue 4).

For one TLS server (host:port, mutual TLS with tests/tls certificates) it runs two phases:
  idle   N established TLS clients (keep-alive) run SET/GET in a closed loop for D seconds;
  storm  the same clients, while a separate process opens R new TLS connections per second
         (full handshake, PING, close) for D seconds.
Each established client records every request's latency; the result is one JSON line per phase:
  {"phase", "ops", "ops_per_s", "p50_ms", "p99_ms", "max_ms", "errors", "storm_rate",
   "storm_ok", "storm_failed"}.
The storm runs in its own process so that its client-side TLS work does not share the GIL with
the measuring threads.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import socket
import ssl
import threading
import time


def make_context(certs: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=os.path.join(certs, "ca.crt"))
    ctx.load_cert_chain(os.path.join(certs, "client.crt"), os.path.join(certs, "client.key"))
    ctx.check_hostname = False
    return ctx


def connect(ctx: ssl.SSLContext, host: str, port: int, timeout: float = 10.0) -> ssl.SSLSocket:
    raw = socket.create_connection((host, port), timeout=timeout)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return ctx.wrap_socket(raw, server_hostname="localhost")


def read_reply(sock: ssl.SSLSocket, buf: bytearray) -> bytes:
    """Reads one simple reply (+OK, $n bulk, $-1) from buf/sock; returns it."""
    while True:
        end = buf.find(b"\r\n")
        if end >= 0:
            head = bytes(buf[:end])
            if head[:1] == b"$" and head != b"$-1":
                need = end + 2 + int(head[1:]) + 2
                if len(buf) >= need:
                    out = bytes(buf[:need])
                    del buf[:need]
                    return out
            else:
                del buf[:end + 2]
                return head
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk


def cmd(*parts: bytes) -> bytes:
    out = b"*%d\r\n" % len(parts)
    for p in parts:
        out += b"$%d\r\n%s\r\n" % (len(p), p)
    return out


class Client(threading.Thread):
    def __init__(self, idx: int, ctx, host, port, start_evt, stop_evt, interval: float = 0.0):
        super().__init__(daemon=True)
        self.idx = idx
        self.sock = connect(ctx, host, port)
        self.start_evt, self.stop_evt = start_evt, stop_evt
        self.lat: list[float] = []
        self.errors = 0
        self.recording = False
        self.interval = interval  # 0: closed loop; else one request per interval (paced)

    def run(self):
        buf = bytearray()
        key = b"storm:%d" % self.idx
        value = b"v" * 64
        requests = [cmd(b"SET", key, value), cmd(b"GET", key)]
        self.start_evt.wait()
        i = 0
        next_t = time.perf_counter() + self.interval * (self.idx % 50) / 50.0
        while not self.stop_evt.is_set():
            if self.interval:
                next_t += self.interval
                delay = next_t - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            req = requests[i & 1]
            i += 1
            t0 = time.perf_counter()
            try:
                self.sock.sendall(req)
                read_reply(self.sock, buf)
            except (OSError, ValueError, ConnectionError):
                self.errors += 1
                return
            if self.recording:
                self.lat.append(time.perf_counter() - t0)


def storm_process(host, port, certs, rate, duration, result_q):
    """Opens `rate` new TLS connections per second for `duration` s (full handshakes)."""
    ctx = make_context(certs)
    ctx.options |= ssl.OP_NO_TICKET  # every connection is a full handshake (RSA signature)
    ok = failed = 0
    lock = threading.Lock()
    sem = threading.Semaphore(64)  # bounded concurrency of in-progress storm connections

    def one():
        nonlocal ok, failed
        try:
            s = connect(ctx, host, port, timeout=10)
            s.sendall(cmd(b"PING"))
            s.recv(64)
            s.close()
            with lock:
                ok += 1
        except (OSError, ssl.SSLError):
            with lock:
                failed += 1
        finally:
            sem.release()

    start = time.monotonic()
    n = 0
    while True:
        now = time.monotonic()
        if now - start >= duration:
            break
        due = start + n / rate
        if due > now:
            time.sleep(due - now)
        if not sem.acquire(timeout=1.0):
            continue
        threading.Thread(target=one, daemon=True).start()
        n += 1
    elapsed = time.monotonic() - start
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with lock:
            if ok + failed >= n:
                break
        time.sleep(0.05)
    result_q.put({"storm_started": n, "storm_ok": ok, "storm_failed": failed,
                  "storm_rate": round(n / elapsed, 1)})


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100.0 * len(values))) - 1))
    return values[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--certs", default="tests/tls")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--label", default="server")
    ap.add_argument("--interval-ms", type=float, default=0.0,
                    help="0: closed loop (max throughput); N: each client sends one request "
                         "every N ms (paced: the client process is not the bottleneck)")
    args = ap.parse_args()

    ctx = make_context(args.certs)
    start_evt, stop_evt = threading.Event(), threading.Event()
    clients = [Client(i, ctx, args.host, args.port, start_evt, stop_evt,
                      args.interval_ms / 1000.0)
               for i in range(args.clients)]
    for c in clients:
        c.start()
    start_evt.set()
    time.sleep(1.0)  # warm-up, not recorded

    for phase in ("idle", "storm"):
        storm = None
        q = mp.Queue()
        if phase == "storm":
            storm = mp.Process(target=storm_process,
                               args=(args.host, args.port, args.certs, args.rate, args.duration,
                                     q))
            storm.start()
            time.sleep(0.3)  # let the storm reach its rate before recording
        for c in clients:
            c.lat = []
            c.recording = True
        t0 = time.monotonic()
        time.sleep(args.duration - (0.3 if storm else 0.0))
        for c in clients:
            c.recording = False
        elapsed = time.monotonic() - t0
        lat = [x for c in clients for x in c.lat]
        out = {"label": args.label, "phase": phase, "ops": len(lat),
               "ops_per_s": round(len(lat) / elapsed, 1),
               "p50_ms": round(percentile(lat, 50) * 1000, 3),
               "p99_ms": round(percentile(lat, 99) * 1000, 3),
               "max_ms": round(max(lat) * 1000, 3) if lat else None,
               "errors": sum(c.errors for c in clients)}
        if storm is not None:
            storm.join(30)
            out.update(q.get(timeout=5) if not q.empty() else {"storm_rate": None})
        print(json.dumps(out), flush=True)
        if phase == "idle":
            time.sleep(0.5)
    stop_evt.set()
    for c in clients:
        c.join(5)


if __name__ == "__main__":
    main()
