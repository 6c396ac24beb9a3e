#!/usr/bin/env bash
# bench/storm.sh: handshake-storm isolation (issue 4), Redoubt vs Debian's redis-server, side by
# side in the same run, loopback only.
#
#   bench/storm.sh [--clients 50] [--rate 200] [--duration 10] [--interval-ms "0 5"] [--runs N]
#                  [--workers N] [--handshaker-nice N] [--storm-nice N] [--storm-cert NAME]
#                  [--servers "redoubt redis"] [--storm-nodelay 0|1]
#
# For each server (TLS only, mutual TLS, RSA-2048 certificate tests/tls/server.crt, same certs for
# both): 50 established TLS clients run SET/GET; phase "idle" measures them alone for --duration
# seconds, phase "storm" measures them while --rate new TLS connections per second (full
# handshakes, no tickets, one PING each) arrive. --interval-ms "N ..." lists the client pacings
# to measure: 0 is a closed loop (each client sends its next request as soon as the reply is in:
# as many requests as round trips allow, ~50-60k/s here, which keeps both cores busy); N > 0 paces
# each client to one request every N ms (5: 10,000 requests/s). Default "0 5": both. --runs N
# repeats everything N times, alternating which server goes first. --workers N is Redoubt's tls-handshake-workers, --handshaker-nice N its
# tls-handshaker-nice (default: the server's default). --storm-nice N lowers the priority of the
# load generator's storm process (default 0; see README). --storm-cert NAME: the storm's client
# certificate tests/tls/NAME.crt (default client-ec, ECDSA P-256: a client-side RSA-2048 signature
# per connection would cost the generator ~1 ms of CPU each on the 2 cores it shares with the
# servers, while a real storm signs on other machines; "client" selects RSA-2048). The established
# clients always use tests/tls/client.crt; the server certificate is always RSA-2048.
# --storm-nodelay 0 makes the storm's connections keep Nagle's algorithm, as redis-benchmark's do
# (default 1: TCP_NODELAY); with 0 a server that holds its TLS 1.3 tickets shows ~40 ms connects.
# Load generator: bench/storm_load.cc (bazel build //bench:storm_load): one epoll thread for the
# established clients, a separate process for the storm, latency histograms, CPU use of the
# generator and of each server (main process and its children: Redoubt's handshakers) from /proc.
# Prints one JSON line per phase, then a Markdown table to paste into the README.
set -euo pipefail
cd "$(dirname "$0")/.."

clients=50
rate=200
duration=10
workers=""
intervals="0 5"
runs=1
hs_nice=""
storm_nice=0
storm_cert=client-ec
storm_nodelay=1
servers="redoubt redis"
while [ $# -gt 0 ]; do
  case "$1" in
    --clients) clients="$2"; shift ;;
    --rate) rate="$2"; shift ;;
    --duration) duration="$2"; shift ;;
    --workers) workers="$2"; shift ;;
    --interval-ms) intervals="$2"; shift ;;
    --runs) runs="$2"; shift ;;
    --handshaker-nice) hs_nice="$2"; shift ;;
    --storm-nice) storm_nice="$2"; shift ;;
    --storm-cert) storm_cert="$2"; shift ;;
    --storm-nodelay) storm_nodelay="$2"; shift ;;
    --servers) servers="$2"; shift ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

PY=/usr/bin/python3
server_bin=${REDOUBT_SERVER:-bazel-bin/server/server}
load_bin=${STORM_LOAD:-bazel-bin/bench/storm_load}
[ -x "$server_bin" ] || { echo "build first: bazel build //server" >&2; exit 1; }
[ -x "$load_bin" ] || { echo "build first: bazel build //bench:storm_load" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "needs Debian's redis-server" >&2; exit 1; }
certs="$(pwd)/tests/tls"
[ -f "$certs/ca.crt" ] || utils/gen-test-certs.sh "$certs" >/dev/null

work=$(mktemp -d /tmp/storm.XXXXXX)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

tls_args=(--port 0 --bind 127.0.0.1 --save '' --appendonly no
  --tls-cert-file "$certs/server.crt" --tls-key-file "$certs/server.key"
  --tls-ca-cert-file "$certs/ca.crt" --tls-auth-clients yes)

wait_ping() { # port
  for _ in $(seq 1 100); do
    if redis-cli -p "$1" --tls --cert "$certs/client.crt" --key "$certs/client.key" \
      --cacert "$certs/ca.crt" PING 2>/dev/null | grep -q PONG; then
      return 0
    fi
    sleep 0.1
  done
  echo "server on port $1 did not start" >&2
  return 1
}

run_one() { # run interval label
  local run=$1 interval=$2 label=$3 port
  port=$(free_port)
  if [ "$label" = redoubt ]; then
    local extra=()
    [ -n "$workers" ] && extra+=(--tls-handshake-workers "$workers")
    [ -n "$hs_nice" ] && extra+=(--tls-handshaker-nice "$hs_nice")
    "$server_bin" "${tls_args[@]}" --tls-port "$port" --dir "$work" "${extra[@]}" \
      >>"$work/redoubt.log" 2>&1 &
  else
    redis-server "${tls_args[@]}" --tls-port "$port" --dir "$work" >>"$work/redis.log" 2>&1 &
  fi
  server_pid=$!
  wait_ping "$port"
  # One JSON line per phase, tagged with the run number and the load average.
  "$load_bin" --port "$port" --certs "$certs" --clients "$clients" --rate "$rate" \
    --duration "$duration" --interval-ms "$interval" --storm-nice "$storm_nice" \
    --storm-cert "$storm_cert" --storm-nodelay "$storm_nodelay" \
    --label "$label" --server-pid "$server_pid" |
    sed "s/^{/{\"run\": $run, \"interval_ms\": $interval, \"loadavg\": $(cut -d' ' -f1 /proc/loadavg), /" |
    tee -a "$work/results.jsonl"
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

echo "storm: $clients established TLS clients (SET/GET), $rate new TLS connections/s (RSA-2048),"
echo "       ${duration} s per phase, $runs run(s); client pacing (ms, 0 = closed loop): $intervals;"
echo "       storm process nice $storm_nice, storm client certificate $storm_cert;" \
  "Redoubt tls-handshaker-nice ${hs_nice:-default};"
echo "       $(nproc) CPU(s), kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg);" \
  "$(date -u '+%Y-%m-%d %H:%M UTC')"

read -r -a order <<<"$servers"
for run in $(seq 1 "$runs"); do
  for interval in $intervals; do
    for label in "${order[@]}"; do
      run_one "$run" "$interval" "$label"
    done
    # Alternate which server goes first, so that a drift in background load hits both.
    if [ "${#order[@]}" -eq 2 ]; then
      order=("${order[1]}" "${order[0]}")
    fi
  done
done

$PY - "$work/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for r in rows:
    by[(r["interval_ms"], r["run"], r["label"], r["phase"])] = r

def f(x):
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"

print()
print("| run | server | idle p50 / p99 ms | storm p50 / p99 ms | storm p99 / idle p99 "
      "| ops/s idle -> storm | storm conns ok/started (rate/s) | CPU % idle -> storm: main, "
      "handshakers, generator | load avg |")
print("|---|---|---|---|---|---|---|---|---|")
ratios = {}
for (interval, run, label, phase), i in sorted(by.items()):
    if phase != "idle":
        continue
    s = by.get((interval, run, label, "storm"))
    if s is None:
        continue
    mode = "closed loop" if interval == 0 else f"paced {interval:g} ms"
    ratio = s["p99_ms"] / i["p99_ms"] if i["p99_ms"] else float("nan")
    ratios.setdefault((mode, label), []).append(ratio)
    hs = (f"{i.get('children_cpu_pct', 0):.0f} -> {s.get('children_cpu_pct', 0):.0f}"
          if label == "redoubt" else "-")
    print(f"| {run} ({mode}) | {label} | {f(i['p50_ms'])} / {f(i['p99_ms'])} "
          f"| {f(s['p50_ms'])} / {f(s['p99_ms'])} | {ratio:.2f} "
          f"| {i['ops_per_s']:.0f} -> {s['ops_per_s']:.0f} "
          f"| {s.get('storm_ok', 0)}/{s.get('storm_started', 0)} ({s.get('storm_rate', 0):.0f}) "
          f"| {i.get('server_cpu_pct', 0):.0f} -> {s.get('server_cpu_pct', 0):.0f}, {hs}, "
          f"{i['gen_cpu_pct']:.0f} -> {s['gen_cpu_pct'] + s.get('storm_cpu_pct', 0):.0f} "
          f"| {i['loadavg']:.2f} |")
errors = sum(r["errors"] for r in rows)
print()
for (mode, label), rs in ratios.items():
    print(f"{mode}, {label}: storm p99 / idle p99 median {statistics.median(rs):.2f} "
          f"(runs: {', '.join(f'{x:.2f}' for x in rs)})")
print(f"established-client errors: {errors}")
PY
