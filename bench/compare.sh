#!/usr/bin/env bash
# bench/compare.sh: redis-benchmark against Redoubt and Debian's redis-server,
# side by side on loopback in the same run; prints requests/s and the ratio
# Redoubt / Redis for each test.
#
#   bench/compare.sh [--tls] [--requests N] [--clients C] [--tests set,get]
#                    [--pipelines "1 16"] [--handshakes] [--workers N] [--types] [--large]
#
# Besides requests per second it prints each server's CPU time per request (user + system of
# the whole process tree, Redoubt's handshakers included, from /proc, divided by the requests
# sent): the figure that does not depend on how the benchmark client shares the machine.
# --large adds 100 KB and 1 MB values, SET and GET at P1 (MB/s and CPU ns per byte).
#
# --tls runs both servers with TLS only (same certificates, mutual TLS) and
# the benchmark with --tls. --handshakes also measures new TLS connections
# per second (redis-benchmark without keep-alive, -k 0) for the ECDSA P-256
# and RSA-2048 server certificates. --workers N starts Redoubt with N handshaker processes
# (tls-handshake-workers; Redis has no equivalent). --types measures the data-type commands
# too: LPUSH LPOP SADD HSET ZADD LRANGE_100 (redis-benchmark's own tests) and the command lines
# of custom_cmd below (GEOADD, GEOSEARCH, SETBIT, BITCOUNT, PFADD, PFCOUNT, XADD, XREADGROUP),
# whose data custom_setup loads into both servers first.
set -euo pipefail
cd "$(dirname "$0")/.."

tls=0
requests=200000
clients=50
tests="set,get"
pipelines="1 16"
handshakes=0
workers=1
large=0
while [ $# -gt 0 ]; do
  case "$1" in
    --tls) tls=1 ;;
    --requests) requests="$2"; shift ;;
    --clients) clients="$2"; shift ;;
    --tests) tests="$2"; shift ;;
    --pipelines) pipelines="$2"; shift ;;
    --handshakes) handshakes=1 ;;
    --workers) workers="$2"; shift ;;
    --types) tests="set,get,lpush,lpop,sadd,hset,zadd,lrange_100,geoadd,geosearch,setbit,bitcount,pfadd,pfcount,xadd,xreadgroup" ;;
    --large) large=1 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

server_bin=${REDOUBT_SERVER:-bazel-bin/server/server}
[ -x "$server_bin" ] || { echo "build first: bazel build //server" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "needs Debian's redis-server" >&2; exit 1; }
certs="$(pwd)/tests/tls"
if [ $tls = 1 ] && [ ! -f $certs/ca.crt ]; then
  utils/gen-test-certs.sh $certs >/dev/null
fi

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# start NAME BIN PORT [extra args]: both servers take the same flags.
start() {
  local name=$1 bin=$2 port=$3 cert=${4:-server}; shift 4 || shift $#
  local extra=("$@")
  local args=(--bind 127.0.0.1 --save "" --appendonly no --dir "$work" --logfile "$work/$name.log")
  if [ $tls = 1 ]; then
    args+=(--port 0 --tls-port "$port" --tls-cert-file "$certs/$cert.crt" --tls-key-file "$certs/$cert.key"
           --tls-ca-cert-file "$certs/ca.crt")
  else
    args+=(--port "$port")
  fi
  if [ "$bin" = "$server_bin" ] && [ $tls = 1 ]; then
    args+=(--tls-handshake-workers "$workers")
  fi
  "$bin" "${args[@]}" "${extra[@]}" &
  last_pid=$!
  pids+=($!)
  for _ in $(seq 100); do
    if cli "$port" ping 2>/dev/null | grep -q PONG; then return 0; fi
    sleep 0.1
  done
  echo "$name did not start; log:" >&2; cat "$work/$name.log" >&2; exit 1
}

tls_flags() { [ $tls = 1 ] && echo "--tls --cert $certs/client.crt --key $certs/client.key --cacert $certs/ca.crt" || true; }
cli() { local port=$1; shift; redis-cli -h 127.0.0.1 -p "$port" $(tls_flags) "$@"; }

# tree_ns PID -> nanoseconds on CPU (user + system) of every thread of PID and of its children
# (Redoubt's handshakers), from /proc/*/task/*/schedstat (ns resolution, unlike stat's ticks).
tree_ns() {
  local pid=$1 kid
  for kid in $pid $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
    cat /proc/"$kid"/task/*/schedstat 2>/dev/null
  done | awk '{s += $1} END {printf "%.0f\n", s}'
}

# Tests that are not redis-benchmark built-ins: NAME -> the command line sent (each
# __rand_int__ is a new random number below 100000 per request).
declare -A custom_cmd=(
  [geoadd]="GEOADD bench:geo:add 13.361389 38.115556 m:__rand_int__"
  [geosearch]="GEOSEARCH bench:geo FROMLONLAT 13.4 38.1 BYRADIUS 5 km ASC COUNT 10 WITHDIST"
  # __rand_int__ is zero-padded (000000012345), which no bit offset may be: vary the key
  [setbit]="SETBIT bench:bits:__rand_int__ 1000 1"
  [bitcount]="BITCOUNT bench:bits"
  [pfadd]="PFADD bench:hll:add e:__rand_int__"
  [pfcount]="PFCOUNT bench:hll"
  [xadd]="XADD bench:stream:add * f __rand_int__"
  [xreadgroup]="XREADGROUP GROUP g c COUNT 1 STREAMS bench:stream >"
)
# custom_setup PORT TEST: the data a custom test reads, the same in both servers.
custom_setup() {
  case "$2" in
    geosearch) # 10000 points over 2 x 2 degrees around the query point: ~20 within 5 km
      awk 'BEGIN {srand(42); for (i = 0; i < 10000; i++)
        printf "GEOADD bench:geo %.6f %.6f p%d\n", 12.4 + 2 * rand(), 37.1 + 2 * rand(), i}' |
        cli "$1" >/dev/null ;;
    bitcount) # a 125 KB bitmap (one bit per user of a million), 1 bit in 8 set
      awk 'BEGIN {for (i = 0; i < 1000000; i += 8) printf "SETBIT bench:bits %d 1\n", i}' |
        cli "$1" --pipe >/dev/null ;;
    pfcount) # a dense HLL of 100000 elements (its cached cardinality answers)
      awk 'BEGIN {for (i = 0; i < 100000; i++) printf "PFADD bench:hll e%d\n", i}' |
        cli "$1" --pipe >/dev/null ;;
    xreadgroup) # an entry for each read of every run (4 runs of --requests per server)
      awk -v n=$((4 * requests + 1000)) 'BEGIN {for (i = 0; i < n; i++)
        printf "XADD bench:stream * f %d\n", i}' | cli "$1" --pipe >/dev/null
      echo "XGROUP CREATE bench:stream g 0" | cli "$1" >/dev/null ;;
  esac
}

# bench PORT PID PIPELINE TEST [DATASIZE [REQUESTS]] -> "rps cpu_us_per_request"
bench() {
  local n=${6:-$requests} before after rps
  local what=(-t "$4")
  if [ -n "${custom_cmd[$4]:-}" ]; then
    read -r -a what <<<"-r 100000 ${custom_cmd[$4]}"
  fi
  before=$(tree_ns "$2")
  rps=$(redis-benchmark -h 127.0.0.1 -p "$1" $(tls_flags) -c "$clients" -n "$n" -P "$3" \
    -d "${5:-3}" -q "${what[@]}" 2>/dev/null |
    tr '\r' '\n' | awk -F': ' '/requests per second/ {split($2,a," "); v=a[1]} END {print v+0}')
  after=$(tree_ns "$2")
  awk -v r="$rps" -v d=$((after - before)) -v n="$n" 'BEGIN {printf "%s %.3f\n", r, d / 1e3 / n}'
}

rport=$(free_port); start redis /usr/bin/redis-server "$rport" server; rpid=$last_pid
oport=$(free_port); start redoubt "$server_bin" "$oport" server; opid=$last_pid

mode=plain; [ $tls = 1 ] && mode=tls
echo "# bench/compare.sh mode=$mode clients=$clients requests=$requests handshake-workers=$workers ($(date -u +%F))"
printf '%-10s %-4s %12s %12s %7s %11s %11s %7s\n' test P "redis rps" "redoubt rps" ratio \
  "redis us/r" "redoubt us/r" "cpu"
# avg2 "rps cpu" "rps cpu" -> "rps cpu" averaged
avg2() { awk -v a="$1" -v b="$2" 'BEGIN {split(a, x, " "); split(b, y, " ");
  printf "%f %f\n", (x[1] + y[1]) / 2, (x[2] + y[2]) / 2}'; }
row() { # label P "redis rps cpu" "redoubt rps cpu" [unit]
  awk -v t="$1" -v p="$2" -v r="$3" -v o="$4" 'BEGIN {split(r, x, " "); split(o, y, " ");
    printf "%-10s %-4s %12.0f %12.0f %7s %11.2f %11.2f %7s\n", t, p, x[1], y[1],
      (x[1] > 0 ? sprintf("%.2f", y[1] / x[1]) : "n/a"), x[2], y[2],
      (x[2] > 0 ? sprintf("%.2f", y[2] / x[2]) : "n/a")}'
}
for t in ${tests//,/ }; do
  custom_setup "$rport" "$t"; custom_setup "$oport" "$t"
done
for p in $pipelines; do
  for t in ${tests//,/ }; do
    # Alternate order so neither server always runs first.
    r=$(bench "$rport" "$rpid" "$p" "$t"); o=$(bench "$oport" "$opid" "$p" "$t")
    o2=$(bench "$oport" "$opid" "$p" "$t"); r2=$(bench "$rport" "$rpid" "$p" "$t")
    row "$t" "$p" "$(avg2 "$r" "$r2")" "$(avg2 "$o" "$o2")"
  done
done
echo "# rps ratio: Redoubt / Redis (higher is better); cpu: Redoubt's CPU per request / Redis's (lower is better)"

if [ $large = 1 ]; then
  echo "# large values, P1 (MB/s of values moved; CPU ns per value byte)"
  printf '%-10s %-8s %10s %10s %7s %10s %10s %7s\n' test size "redis MB/s" "redoubt" ratio \
    "redis ns/B" "redoubt" cpu
  for size in 102400 1048576; do
    n=$(( size > 200000 ? 300 : 2000 ))
    for t in set get; do
      r=$(bench "$rport" "$rpid" 1 "$t" "$size" "$n"); o=$(bench "$oport" "$opid" 1 "$t" "$size" "$n")
      awk -v t="$t" -v s="$size" -v r="$r" -v o="$o" 'BEGIN {split(r, x, " "); split(o, y, " ");
        rm = x[1] * s / 1e6; om = y[1] * s / 1e6; rc = x[2] * 1000 / s; oc = y[2] * 1000 / s;
        printf "%-10s %-8s %10.1f %10.1f %7s %10.3f %10.3f %7s\n", t, s, rm, om,
          (rm > 0 ? sprintf("%.2f", om / rm) : "n/a"), rc, oc, (rc > 0 ? sprintf("%.2f", oc / rc) : "n/a")}'
    done
  done
fi

if [ $tls = 1 ] && [ $handshakes = 1 ]; then
  # TLS 1.3 is every modern client's default (redis-benchmark's too); TLS 1.2 is measured by
  # restricting both servers with tls-protocols. The client waits for nothing but the PING
  # reply, so a server that holds its TLS 1.3 session tickets back until its first reply stalls
  # each connection behind the client's Nagle and the server's delayed ACK (~40 ms).
  hs_clients=${HS_CLIENTS:-8}
  n=${HS_REQUESTS:-3000}
  # hs PORT -> new connections per second (one PING each)
  hs() { redis-benchmark -h 127.0.0.1 -p "$1" $(tls_flags) -c "$hs_clients" -n $n -k 0 -t ping -q 2>/dev/null |
    tr '\r' '\n' | awk -F': ' '/PING_INLINE/ {split($2,a," "); v=a[1]} END {print v+0}'; }
  echo "# new TLS connections per second (redis-benchmark -k 0 -t ping -c $hs_clients)"
  printf '%-10s %-8s %14s %14s %8s\n' cert proto "redis conn/s" "redoubt conn/s" ratio
  for proto in TLSv1.3 TLSv1.2; do
    for cert in server-ec server; do
      rp=$(free_port); start "redis-$cert-$proto" /usr/bin/redis-server "$rp" "$cert" --tls-protocols "$proto"
      op=$(free_port); start "redoubt-$cert-$proto" "$server_bin" "$op" "$cert" --tls-protocols "$proto"
      r=$(hs "$rp"); o=$(hs "$op")
      ratio=$(awk -v a="$o" -v b="$r" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "n/a"}')
      printf '%-10s %-8s %14.0f %14.0f %8s\n' "$cert" "$proto" "$r" "$o" "$ratio"
    done
  done
fi
