#!/usr/bin/env bash
# bench/storm.sh: handshake-storm isolation (issue 4), Redoubt vs Debian's redis-server, side by
# side in the same run, loopback only.
#
#   bench/storm.sh [--clients 50] [--rate 200] [--duration 10] [--workers N] [--interval-ms N]
#
# --interval-ms N paces each established client to one request every N ms (default 0: closed
# loop, as fast as each client can go; the Python clients then saturate a core themselves).
# For each server (TLS only, mutual TLS, RSA-2048 certificate tests/tls/server.crt, same certs for
# both): 50 established TLS clients run SET/GET in a closed loop; phase "idle" measures them alone
# for ~10 s, phase "storm" measures them while ~200 new TLS connections per second (full
# handshakes, no tickets) arrive for ~10 s. Prints p50/p99 latency and throughput of the
# established clients per phase and each server's storm p99 / idle p99 ratio.
# Load generator: bench/storm.py (/usr/bin/python3, ssl module, threads + one storm process).
set -euo pipefail
cd "$(dirname "$0")/.."

clients=50
rate=200
duration=10
workers=""
interval=0
while [ $# -gt 0 ]; do
  case "$1" in
    --clients) clients="$2"; shift ;;
    --rate) rate="$2"; shift ;;
    --duration) duration="$2"; shift ;;
    --workers) workers="$2"; shift ;;
    --interval-ms) interval="$2"; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

PY=/usr/bin/python3
server_bin=${REDOUBT_SERVER:-bazel-bin/server/server}
[ -x "$server_bin" ] || { echo "build first: bazel build //server" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "needs Debian's redis-server" >&2; exit 1; }
certs="$(pwd)/tests/tls"
[ -f "$certs/ca.crt" ] || utils/gen-test-certs.sh "$certs" >/dev/null

work=$(mktemp -d /tmp/storm.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

tls_args=(--port 0 --bind 127.0.0.1 --save '' --appendonly no
  --tls-cert-file $certs/server.crt --tls-key-file $certs/server.key
  --tls-ca-cert-file $certs/ca.crt --tls-auth-clients yes)

wait_ping() { # port
  local i
  for i in $(seq 1 100); do
    if redis-cli -p "$1" --tls --cert $certs/client.crt --key $certs/client.key \
      --cacert $certs/ca.crt PING 2>/dev/null | grep -q PONG; then
      return 0
    fi
    sleep 0.1
  done
  echo "server on port $1 did not start" >&2
  return 1
}

run_one() { # label port
  $PY bench/storm.py --port "$2" --certs $certs --clients "$clients" --rate "$rate" \
    --duration "$duration" --interval-ms "$interval" --label "$1" | tee -a "$work/results.jsonl"
}

echo "storm: $clients established TLS clients (SET/GET), $rate new TLS connections/s (RSA-2048),"
echo "       ${duration} s per phase; client pacing ${interval} ms (0 = closed loop); $(nproc) CPU(s); loopback"

port=$(free_port)
extra=()
[ -n "$workers" ] && extra=(--tls-handshake-workers "$workers")
"$server_bin" "${tls_args[@]}" --tls-port "$port" --dir "$work" "${extra[@]}" \
  >"$work/redoubt.log" 2>&1 &
pids+=($!)
wait_ping "$port"
run_one redoubt "$port"
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true

port=$(free_port)
redis-server "${tls_args[@]}" --tls-port "$port" --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)
wait_ping "$port"
run_one redis "$port"

$PY - "$work/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print()
print(f"{'server':8} {'phase':6} {'ops/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
      f"{'errors':>6} {'storm conn/s':>12} {'ok/failed':>10}")
by = {}
for r in rows:
    by[(r["label"], r["phase"])] = r
    storm = f"{r.get('storm_rate') or '':>12}"
    okf = f"{r.get('storm_ok', '')}/{r.get('storm_failed', '')}" if r["phase"] == "storm" else ""
    print(f"{r['label']:8} {r['phase']:6} {r['ops_per_s']:>9} {r['p50_ms']:>8} {r['p99_ms']:>8} "
          f"{r['max_ms']:>8} {r['errors']:>6} {storm} {okf:>10}")
print()
for label in ("redoubt", "redis"):
    i, s = by.get((label, "idle")), by.get((label, "storm"))
    if i and s and i["p99_ms"]:
        print(f"{label}: storm p99 / idle p99 = {s['p99_ms'] / i['p99_ms']:.2f}  "
              f"(p50 storm/idle = {s['p50_ms'] / i['p50_ms']:.2f}, "
              f"throughput storm/idle = {s['ops_per_s'] / i['ops_per_s']:.2f})")
PY
