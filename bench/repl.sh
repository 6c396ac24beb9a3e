#!/usr/bin/env bash
# bench/repl.sh: replication over TLS, Redoubt and Debian's redis-server 7.0 side by side in the
# same run, loopback only; prints each figure and a ratio where >1 means Redoubt is better.
#
#   bench/repl.sh [--quick] [--runs R] [--requests N] [--keys K]
#
# Every server is TLS only (`port 0`, a free 127.0.0.1 `tls-port`, tests/tls/server.crt, mutual
# TLS: `tls-auth-clients yes`), `save ""`, `repl-diskless-sync-delay 0`, `enable-debug-command
# yes`, its own temp dir. A replica is of the same kind as its master (Redoubt follows Redoubt,
# Redis follows Redis) and reaches the master's tls-port with `tls-replication yes` and
# tls-client-cert-file/key-file = tests/tls/client.crt/key. All clients (redis-benchmark, the
# pollers) use that client certificate too.
#
#  1. write throughput with one replica attached: a fresh master and replica per run, the link up,
#     then `redis-benchmark --tls -t set,lpush,hset,zadd -n N -r 100000 -P 16 -c 50 -q` against
#     the master (N default 300,000 per test; --quick 100,000). When it exits, the master's
#     master_repl_offset is read and the replica's INFO replication polled (every 1 ms, one
#     persistent TLS connection) until its offset reaches it: the catch-up. Reported: each test's
#     requests/s (redis-benchmark's own figure), the 4 tests together including the catch-up
#     (4N / (benchmark wall time + catch-up)), the catch-up and the replica's lag in bytes when the
#     benchmark ended; the CPU time of master and replica (user + system of every thread and child,
#     Redoubt's handshakers included, from /proc/*/schedstat, benchmark start to caught up) per
#     request; the replication stream's size; used_memory of master and replica after the run and
#     the replica's master-link query buffer (CLIENT LIST TYPE master, qbuf=). Then master and
#     replica must show the same offset, DBSIZE and DEBUG DIGEST, or the script stops with both
#     logs.
#  2. full sync of a K-key data set (default 1,000,000: DEBUG POPULATE K, "key:i" -> "value:i"):
#     each kind's master is filled once; per run a FRESH replica (empty dir, no replicaof) starts
#     and gets `REPLICAOF 127.0.0.1 <master tls-port>`; the time is from sending REPLICAOF to INFO
#     replication showing master_link_status:up and master_sync_in_progress:0 (polled every 2 ms
#     on a persistent TLS connection): TLS handshake, PSYNC, the fork child's RDB, the transfer,
#     the replica's load (both replicas load from a file: repl-diskless-load is disabled). Once
#     diskless (`repl-diskless-sync yes`), once disk-based (`repl-diskless-sync no`), switched with
#     CONFIG SET on the master and checked in its log ("Starting BGSAVE for SYNC with target:
#     replicas sockets" / "disk"). After each sync, DBSIZE = K and DEBUG DIGEST equal on master and
#     replica, or the script stops with both logs.
# --quick: one run of each, N = 100,000 (K stays 1,000,000 unless --keys says otherwise; ~1 min).
# The full run (3 runs, N = 300,000) takes ~4 min.
# Each measurement runs R times (default 3; --quick 1), alternating which server goes first, and
# the median is reported. Never both servers' work at once: runs are sequential.
#
# RESULTS ON 2 CORES ARE NOISY: the master, its replica (and, in part 1, redis-benchmark with its
# 50 TLS connections) share the 2 cores, so part 1 measures who copes best with a contended
# machine as much as raw speed. Compare ratios within one run, not numbers across runs.
#
# Binary: $REDOUBT_SERVER, else bazel-bin/server/server, copied to the temp dir first (a concurrent
# `bazel build` may replace it); a sanitizer build is refused (bazel-bin points at the last
# configuration built, e.g. ASan after ./runtest --asan).
#
# Exit status: 0 when everything synced and matched; 1 on any failure (a server that does not
# start or dies, a replica that does not sync in time, an offset, DBSIZE or digest mismatch), with
# the failing servers' log lines printed.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3
requests=300000
keys=1000000
quick=0
requests_set=0
runs_set=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --runs) runs="$2"; runs_set=1; shift ;;
    --requests) requests="$2"; requests_set=1; shift ;;
    --keys) keys="$2"; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [ $quick = 1 ]; then
  [ $runs_set = 1 ] || runs=1
  [ $requests_set = 1 ] || requests=100000
fi

PY=/usr/bin/python3
server_bin=${REDOUBT_SERVER:-bazel-bin/server/server}
[ -x "$server_bin" ] || { echo "build first: bazel build //server" >&2; exit 1; }
# bazel-bin follows the last build's configuration: after ./runtest --asan it is a sanitizer build.
if grep -q -a -m1 -e __asan_init -e __tsan_init "$server_bin"; then
  echo "$server_bin is a sanitizer build: bazel build //server (or set REDOUBT_SERVER)" >&2; exit 1
fi
command -v redis-server >/dev/null || { echo "needs Debian's redis-server" >&2; exit 1; }
command -v redis-benchmark >/dev/null || { echo "needs redis-benchmark" >&2; exit 1; }
$PY -c 'import redis' 2>/dev/null || { echo "needs redis-py for $PY" >&2; exit 1; }
certs="$(pwd)/tests/tls"
if [ ! -f "$certs/ca.crt" ] || [ ! -f "$certs/client.crt" ]; then
  utils/gen-test-certs.sh "$certs" >/dev/null
fi

work=$(mktemp -d /tmp/repl.XXXXXX)
declare -A PID=()
cleanup() {
  local p
  for p in "${PID[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PID[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A private copy: a concurrent `bazel build` may replace bazel-bin's file between starts.
cp "$server_bin" "$work/redoubt-server"
declare -A BIN=([redis]=/usr/bin/redis-server [redoubt]="$work/redoubt-server")
declare -A NAME=([redis]="Redis $(redis-server --version | grep -o 'v=[0-9.]*' | cut -c3-)"
                 [redoubt]=Redoubt)

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
progress() { echo "# $*" >&2; }

cat > "$work/helper.py" <<'PY'
import os, re, subprocess, sys, time
import redis
from redis.exceptions import BusyLoadingError, ConnectionError, ResponseError, TimeoutError

CERTS = os.environ["REPL_CERTS"]

def conn(port):
    return redis.Redis(host="127.0.0.1", port=int(port), ssl=True,
                       ssl_certfile=CERTS + "/client.crt", ssl_keyfile=CERTS + "/client.key",
                       ssl_ca_certs=CERTS + "/ca.crt", socket_connect_timeout=5,
                       socket_timeout=120)

def alive(pid):
    try:
        with open("/proc/%s/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False

def die(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)

def ready(port, pid, timeout):
    """PING until PONG (not -LOADING); fails if the process exits first."""
    r = conn(port)
    t0 = time.perf_counter()
    while True:
        try:
            if r.ping():
                return
        except (BusyLoadingError, ConnectionError, TimeoutError, ResponseError, OSError):
            pass
        if not alive(pid):
            die("the server on port %s exited" % port)
        if time.perf_counter() - t0 > float(timeout):
            die("port %s not ready after %s s" % (port, timeout))
        time.sleep(0.01)

def repl_info(r):
    """INFO replication, retried while the server is busy loading or a connection drops."""
    while True:
        try:
            return r.info("replication")
        except (BusyLoadingError, ConnectionError, TimeoutError):
            time.sleep(0.002)

def sync(rport, rpid, mport, timeout):
    """REPLICAOF 127.0.0.1 mport on the replica; prints the seconds until master_link_status:up
    and master_sync_in_progress:0."""
    r = conn(rport)
    r.ping()
    t0 = time.perf_counter()
    try:
        r.execute_command("REPLICAOF", "127.0.0.1", str(mport))
    except ResponseError as e:
        die("REPLICAOF 127.0.0.1 %s on port %s: %s" % (mport, rport, e))
    while True:
        i = repl_info(r)
        if i.get("master_link_status") == "up" and int(i.get("master_sync_in_progress", 1)) == 0:
            break
        if not alive(rpid):
            die("the replica (port %s) exited during the sync" % rport)
        if time.perf_counter() - t0 > float(timeout):
            die("replica (port %s) not in sync after %s s: %s" % (rport, timeout, {
                k: v for k, v in i.items() if k.startswith("master_")}))
        time.sleep(0.002)
    print("%.4f" % (time.perf_counter() - t0))

def offset(r):
    return int(repl_info(r)["master_repl_offset"])

def verify(mport, rport, rpid, timeout):
    """Waits until master and replica show the same master_repl_offset, then prints:
    offset dbsize_master dbsize_replica digest_master digest_replica."""
    m, r = conn(mport), conn(rport)
    t0 = time.perf_counter()
    while True:
        mo = offset(m)
        ro = offset(r)
        if ro == mo:
            break
        if not alive(rpid):
            die("the replica (port %s) exited" % rport)
        if time.perf_counter() - t0 > float(timeout):
            die("offsets differ after %s s: master %d, replica %d" % (timeout, mo, ro))
        time.sleep(0.005)
    dm = m.execute_command("DEBUG", "DIGEST")
    dr = r.execute_command("DEBUG", "DIGEST")
    dec = lambda d: d.decode() if isinstance(d, bytes) else str(d)
    print(mo, m.dbsize(), r.dbsize(), dec(dm), dec(dr))

def cpu_ns(pid):
    """CPU time (user + system, ns) of every thread of pid and of its children (Redoubt's
    handshakers), from /proc/*/task/*/schedstat, as bench/compare.sh counts it."""
    total = 0
    pids = [str(pid)]
    for task in os.listdir("/proc/%s/task" % pid):
        try:
            with open("/proc/%s/task/%s/children" % (pid, task)) as f:
                pids += f.read().split()
        except OSError:
            pass
    for p in pids:
        try:
            for task in os.listdir("/proc/%s/task" % p):
                with open("/proc/%s/task/%s/schedstat" % (p, task)) as f:
                    total += int(f.read().split()[0])
        except OSError:
            pass
    return total

def throughput(mport, mpid, rport, rpid, timeout, *bench):
    """Runs redis-benchmark (argv after the 5 fixed arguments), then polls the replica until its
    offset reaches the master's. Prints lines: 'rps TEST value', 'bench_s', 'catchup_s',
    'lag_bytes', 'stream_bytes', 'cpu_master_s', 'cpu_replica_s' (benchmark and catch-up)."""
    m, r = conn(mport), conn(rport)
    # both connections up (TLS handshakes done) before the clock starts
    off0 = offset(m); offset(r)
    c0 = (cpu_ns(mpid), cpu_ns(rpid))
    t0 = time.perf_counter()
    p = subprocess.run(list(bench), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    t1 = time.perf_counter()
    target = offset(m)
    lag = target - offset(r)
    while offset(r) < target:
        if not alive(rpid):
            die("the replica (port %s) exited during the catch-up" % rport)
        if time.perf_counter() - t1 > float(timeout):
            die("replica offset %d still behind the master's %d after %s s" % (
                offset(r), target, timeout))
        time.sleep(0.001)
    t2 = time.perf_counter()
    c1 = (cpu_ns(mpid), cpu_ns(rpid))
    out = p.stdout.decode(errors="replace")
    rps = {}
    for line in re.split(r"[\r\n]+", out):
        mt = re.match(r"^([A-Z_]+[A-Z0-9_ ()]*?): ([0-9.]+) requests per second", line.strip())
        if mt:
            rps[mt.group(1)] = mt.group(2)
    if p.returncode != 0 or not rps:
        die("redis-benchmark failed (exit %d):\n%s" % (p.returncode, out[-2000:]))
    for k, v in rps.items():
        print("rps", k.split()[0], v)
    print("bench_s %.4f" % (t1 - t0))
    print("catchup_s %.4f" % (t2 - t1))
    print("lag_bytes %d" % max(lag, 0))
    print("stream_bytes %d" % (target - off0))
    print("cpu_master_s %.4f" % ((c1[0] - c0[0]) / 1e9))
    print("cpu_replica_s %.4f" % ((c1[1] - c0[1]) / 1e9))
    print("mem_master %d" % m.info("memory")["used_memory"])
    print("mem_replica %d" % r.info("memory")["used_memory"])
    link = r.execute_command("CLIENT", "LIST", "TYPE", "master")
    link = link.decode() if isinstance(link, bytes) else str(link)
    qbuf = [kv.split("=", 1)[1] for kv in link.split() if kv.startswith("qbuf=")]
    print("link_qbuf %s" % (qbuf[0] if qbuf else "n/a"))

def populate(port, keys):
    r = conn(port)
    r.execute_command("DEBUG", "POPULATE", str(keys))
    print(r.dbsize())

def cmd(port, *args):
    d = conn(port).execute_command(*args)
    print(d.decode() if isinstance(d, bytes) else d)

globals()[sys.argv[1]](*sys.argv[2:])
PY
export REPL_CERTS=$certs
helper() { $PY "$work/helper.py" "$@"; }

# Every distinct server command line, printed at the end.
declare -A seen_cmd=()
cmds=()
note_cmd() { if [ -z "${seen_cmd[$1]+x}" ]; then seen_cmd[$1]=1; cmds+=("$1"); fi; }

# fail MESSAGE LOG...: the message, then the last lines of each log, and exit 1.
fail() {
  local msg=$1 f; shift
  echo "FAILED: $msg" >&2
  for f in "$@"; do
    [ -f "$f" ] || continue
    echo "---- last 40 lines of $f" >&2
    tail -n 40 "$f" >&2
  done
  exit 1
}

# start ID KIND DIR PORT [extra args]: a TLS-only server; waits until it answers PING. ID keys
# PID[]; the log is DIR/server.log.
start() {
  local id=$1 kind=$2 dir=$3 port=$4; shift 4
  mkdir -p "$dir"
  local args=(--port 0 --tls-port "$port" --bind 127.0.0.1
              --tls-cert-file "$certs/server.crt" --tls-key-file "$certs/server.key"
              --tls-ca-cert-file "$certs/ca.crt" --tls-auth-clients yes
              --save "" --appendonly no --dir "$dir" --logfile "$dir/server.log"
              --enable-debug-command yes --repl-diskless-sync-delay 0 "$@")
  local shown=("${args[@]}") i
  for i in "${!shown[@]}"; do
    shown[$i]=${shown[$i]//$dir/DIR}
    if [ "${shown[$i]}" = "$port" ]; then shown[$i]=PORT; fi
  done
  note_cmd "$(printf '%q ' "${BIN[$kind]}" "${shown[@]}" | sed "s|$work|\$WORK|g; s|$certs|tests/tls|g")"
  "${BIN[$kind]}" "${args[@]}" >"$dir/stdout" 2>&1 &
  PID[$id]=$!
  helper ready "$port" "${PID[$id]}" 30 || fail "$kind ($id) did not start" "$dir/server.log" "$dir/stdout"
  local line
  while read -r line; do
    [ -n "$line" ] && UNIMPL["$kind: $line"]=1
  done < <(grep -o 'directive [a-z-]* is accepted but not implemented yet' "$dir/server.log" || true)
}
declare -A UNIMPL=()
# replica_args: what makes a server a TLS replica (REPLICAOF is sent later).
replica_args=(--tls-replication yes --tls-client-cert-file "$certs/client.crt"
              --tls-client-key-file "$certs/client.key")
stop() { # stop ID: SIGTERM (graceful, nothing to save), wait
  local pid=${PID[$1]:-}
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "PID[$1]"
}
# check_alive ID DIR...: fails with the logs if the process ID has exited.
check_alive() {
  local id=$1; shift
  kill -0 "${PID[$id]}" 2>/dev/null && return 0
  local d logs=()
  for d in "$@"; do logs+=("$d/server.log" "$d/stdout"); done
  fail "$id exited" "${logs[@]}"
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "n/a")}'; }
# ratio_hi REDOUBT REDIS: Redoubt / Redis (rates); ratio_lo REDOUBT REDIS: Redis / Redoubt (times)
ratio_hi() { awk -v o="$1" -v r="$2" 'BEGIN { if (r+0 > 0) printf "%.2f", o/r; else print "n/a" }'; }
ratio_lo() { awk -v o="$1" -v r="$2" 'BEGIN { if (o+0 > 0) printf "%.2f", r/o; else print "n/a" }'; }
row() { printf '%-48s %12s %12s %7s\n' "$1" "$2" "$3" "$4"; }
# order RUN -> the two kinds, alternating which goes first
order() { if [ $(($1 % 2)) = 1 ]; then echo redoubt redis; else echo redis redoubt; fi; }

tests=(SET LPUSH HSET ZADD)
bench_cmd=(redis-benchmark -h 127.0.0.1 --tls --cert "$certs/client.crt" --key "$certs/client.key"
           --cacert "$certs/ca.crt" -t "set,lpush,hset,zadd" -n "$requests" -r 100000 -P 16 -c 50 -q)

echo "# bench/repl.sh: replication over mutual TLS, $(date -u +%F), $(nproc) cores, runs=$runs" \
  "(median), requests=$requests per test, keys=$keys"
echo "# Redoubt: $server_bin; Redis: ${NAME[redis]} (/usr/bin/redis-server)"
echo "# ratio > 1 means Redoubt is better: Redoubt/Redis for rates, Redis/Redoubt for times"
echo "# on $(nproc) cores master, replica and client share the CPUs: the figures are noisy" \
  "(load average at start: $(cut -d' ' -f1-3 /proc/loadavg))"
row metric redoubt redis ratio

# ---------------------------------------------------------------- 1. write throughput
declare -A RPS BENCH_OPS CATCHUP LAG STREAM CPU_M CPU_R MEM_M MEM_R QBUF
for run in $(seq "$runs"); do
  for s in $(order "$run"); do
    progress "throughput run $run/$runs: $s"
    md="$work/tp-$s-$run-master"; rd="$work/tp-$s-$run-replica"
    mport=$(free_port); start $s-master $s "$md" "$mport"
    rport=$(free_port); start $s-replica $s "$rd" "$rport" "${replica_args[@]}"
    mlogs=("$md/server.log" "$rd/server.log" "$md/stdout" "$rd/stdout")
    helper sync "$rport" "${PID[$s-replica]}" "$mport" 60 >/dev/null ||
      fail "$s replica did not sync with its (empty) master" "${mlogs[@]}"
    out=$(helper throughput "$mport" "${PID[$s-master]}" "$rport" "${PID[$s-replica]}" 300 \
            "${bench_cmd[@]}" -p "$mport") ||
      fail "$s: throughput run $run" "${mlogs[@]}"
    check_alive $s-master "$md"; check_alive $s-replica "$rd"
    while read -r k a b; do
      case "$k" in
        rps) RPS[$s-$a]+="$b " ;;
        bench_s) bench_s=$a ;;
        catchup_s) catchup_s=$a ;;
        lag_bytes) LAG[$s]+="$a " ;;
        stream_bytes) STREAM[$s]+="$a " ;;
        cpu_master_s) cpu_m=$a ;;
        cpu_replica_s) cpu_r=$a ;;
        mem_master) MEM_M[$s]+="$(awk -v b="$a" 'BEGIN {printf "%.1f", b / 1048576}') " ;;
        mem_replica) MEM_R[$s]+="$(awk -v b="$a" 'BEGIN {printf "%.1f", b / 1048576}') " ;;
        link_qbuf) QBUF[$s]+="$a " ;;
      esac
    done <<<"$out"
    for t in "${tests[@]}"; do
      [ -n "${RPS[$s-$t]:-}" ] || fail "$s: no $t figure from redis-benchmark: $out" "${mlogs[@]}"
    done
    BENCH_OPS[$s]+="$(awk -v n="$requests" -v b="$bench_s" -v c="$catchup_s" -v k=${#tests[@]} \
      'BEGIN {printf "%.0f", k * n / (b + c)}') "
    total=$((requests * ${#tests[@]}))
    CPU_M[$s]+="$(awk -v c="$cpu_m" -v n=$total 'BEGIN {printf "%.3f", c * 1e6 / n}') "
    CPU_R[$s]+="$(awk -v c="$cpu_r" -v n=$total 'BEGIN {printf "%.3f", c * 1e6 / n}') "
    CATCHUP[$s]+="$(awk -v c="$catchup_s" 'BEGIN {printf "%.1f", c * 1000}') "
    read -r off dm dr gm gr < <(helper verify "$mport" "$rport" "${PID[$s-replica]}" 60) ||
      fail "$s: master and replica offsets never matched after run $run" "${mlogs[@]}"
    if [ "$dm" != "$dr" ] || [ "$gm" != "$gr" ]; then
      fail "$s run $run: master and replica differ at offset $off: DBSIZE $dm vs $dr, DEBUG DIGEST $gm vs $gr" \
        "${mlogs[@]}"
    fi
    progress "  $s: benchmark ${bench_s}s, catch-up ${catchup_s}s; offset $off, DBSIZE $dm," \
      "digest $gm equal on master and replica; CPU s master $cpu_m, replica $cpu_r"
    stop $s-replica; stop $s-master
    rm -rf "$md" "$rd"
  done
done
echo "# 1. writes on a master with one TLS replica: redis-benchmark -t set,lpush,hset,zadd" \
  "-n $requests -r 100000 -P 16 -c 50 --tls (rates: higher is better)"
for t in "${tests[@]}"; do
  o=$(echo "${RPS[redoubt-$t]}" | median); r=$(echo "${RPS[redis-$t]}" | median)
  row "$t requests/s" "$o" "$r" "$(ratio_hi "$o" "$r")"
done
o=$(echo "${BENCH_OPS[redoubt]}" | median); r=$(echo "${BENCH_OPS[redis]}" | median)
row "4 tests incl. replica catch-up, requests/s" "$o" "$r" "$(ratio_hi "$o" "$r")"
o=$(echo "${CATCHUP[redoubt]}" | median); r=$(echo "${CATCHUP[redis]}" | median)
row "replica catch-up after the benchmark (ms)" "$o" "$r" "$(ratio_lo "$o" "$r")"
o=$(echo "${LAG[redoubt]}" | median); r=$(echo "${LAG[redis]}" | median)
row "replica lag when the benchmark ended (bytes)" "$o" "$r" -
o=$(echo "${CPU_M[redoubt]}" | median); r=$(echo "${CPU_M[redis]}" | median)
row "master CPU per request (us)" "$o" "$r" "$(ratio_lo "$o" "$r")"
o=$(echo "${CPU_R[redoubt]}" | median); r=$(echo "${CPU_R[redis]}" | median)
row "replica CPU per request (us)" "$o" "$r" "$(ratio_lo "$o" "$r")"
o=$(echo "${STREAM[redoubt]}" | median); r=$(echo "${STREAM[redis]}" | median)
row "replication stream (bytes)" "$o" "$r" -
o=$(echo "${MEM_M[redoubt]}" | median); r=$(echo "${MEM_M[redis]}" | median)
row "master used_memory after the run (MiB)" "$o" "$r" "$(ratio_lo "$o" "$r")"
o=$(echo "${MEM_R[redoubt]}" | median); r=$(echo "${MEM_R[redis]}" | median)
row "replica used_memory after the run (MiB)" "$o" "$r" "$(ratio_lo "$o" "$r")"
o=$(echo "${QBUF[redoubt]}" | median); r=$(echo "${QBUF[redis]}" | median)
row "replica: master link qbuf after the run (bytes)" "$o" "$r" -

# ---------------------------------------------------------------- 2. full sync
declare -A MPORT SYNC_S
for s in redoubt redis; do
  progress "full sync: filling the $s master with DEBUG POPULATE $keys"
  MPORT[$s]=$(free_port)
  start $s-master $s "$work/fs-$s-master" "${MPORT[$s]}"
  n=$(helper populate "${MPORT[$s]}" "$keys") || fail "$s: DEBUG POPULATE" "$work/fs-$s-master/server.log"
  [ "$n" = "$keys" ] || fail "$s: DBSIZE $n after DEBUG POPULATE $keys" "$work/fs-$s-master/server.log"
done
for mode in diskless disk; do
  if [ $mode = diskless ]; then flag=yes; target="replicas sockets"; else flag=no; target="disk"; fi
  for s in redoubt redis; do
    helper cmd "${MPORT[$s]}" CONFIG SET repl-diskless-sync $flag >/dev/null
  done
  for run in $(seq "$runs"); do
    for s in $(order "$run"); do
      progress "full sync $mode run $run/$runs: $s"
      md="$work/fs-$s-master"; rd="$work/fs-$s-$mode-$run-replica"
      mlog="$md/server.log"
      before=$(grep -c "Starting BGSAVE for SYNC with target: $target" "$mlog" || true)
      rport=$(free_port); start $s-replica $s "$rd" "$rport" "${replica_args[@]}"
      mlogs=("$mlog" "$rd/server.log" "$md/stdout" "$rd/stdout")
      secs=$(helper sync "$rport" "${PID[$s-replica]}" "${MPORT[$s]}" 600) ||
        fail "$s replica: $mode full sync did not complete" "${mlogs[@]}"
      check_alive $s-master "$md"
      after=$(grep -c "Starting BGSAVE for SYNC with target: $target" "$mlog" || true)
      [ "$after" -gt "$before" ] ||
        fail "$s master: no 'Starting BGSAVE for SYNC with target: $target' line for the $mode sync" \
          "${mlogs[@]}"
      read -r off dm dr gm gr < <(helper verify "${MPORT[$s]}" "$rport" "${PID[$s-replica]}" 60) ||
        fail "$s: master and replica offsets never matched after the $mode sync" "${mlogs[@]}"
      if [ "$dm" != "$keys" ] || [ "$dr" != "$keys" ] || [ "$gm" != "$gr" ]; then
        fail "$s $mode sync run $run: DBSIZE master $dm replica $dr (expected $keys), DEBUG DIGEST $gm vs $gr" \
          "${mlogs[@]}"
      fi
      progress "  $s: ${secs}s, DBSIZE $dr, digest $gr equal on master and replica"
      SYNC_S[$s-$mode]+="$secs "
      stop $s-replica
      rm -rf "$rd"
    done
  done
done
echo "# 2. full sync of $keys keys (DEBUG POPULATE) over TLS to a fresh replica: REPLICAOF ->" \
  "link up, sync done (times: lower is better)"
for mode in diskless disk; do
  o=$(echo "${SYNC_S[redoubt-$mode]}" | median); r=$(echo "${SYNC_S[redis-$mode]}" | median)
  row "full sync, $mode (s)" "$o" "$r" "$(ratio_lo "$o" "$r")"
done
stop redoubt-master; stop redis-master
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
for k in "${!UNIMPL[@]}"; do echo "# WARNING: $k"; done

echo "# servers started as (\$WORK: a temp dir removed on exit, \$WORK/redoubt-server a copy of $server_bin;"
echo "#   PORT: a free loopback port, DIR: a fresh dir under \$WORK):"
for c in "${cmds[@]}"; do echo "#   $c"; done
echo "# replicas: REPLICAOF 127.0.0.1 <master tls-port> sent by the poller (redis-py over TLS)"
echo "# benchmark: ${bench_cmd[*]} -p <master tls-port>" | sed "s|$certs|tests/tls|g"
exit 0
