#!/usr/bin/env bash
# bench/compare.sh: redis-benchmark against Redoubt and Debian's redis-server,
# side by side on loopback in the same run; prints requests/s and the ratio
# Redoubt / Redis for each test.
#
#   bench/compare.sh [--tls] [--requests N] [--clients C] [--tests set,get]
#                    [--pipelines "1 16"] [--handshakes] [--workers N] [--types]
#
# --tls runs both servers with TLS only (same certificates, mutual TLS) and
# the benchmark with --tls. --handshakes also measures new TLS connections
# per second (redis-benchmark without keep-alive, -k 0) for the ECDSA P-256
# and RSA-2048 server certificates. --workers N starts Redoubt with N handshaker processes
# (tls-handshake-workers; Redis has no equivalent). --types measures the data-type commands
# too: LPUSH LPOP SADD HSET ZADD LRANGE_100 (redis-benchmark's own tests).
set -euo pipefail
cd "$(dirname "$0")/.."

tls=0
requests=200000
clients=50
tests="set,get"
pipelines="1 16"
handshakes=0
workers=1
while [ $# -gt 0 ]; do
  case "$1" in
    --tls) tls=1 ;;
    --requests) requests="$2"; shift ;;
    --clients) clients="$2"; shift ;;
    --tests) tests="$2"; shift ;;
    --pipelines) pipelines="$2"; shift ;;
    --handshakes) handshakes=1 ;;
    --workers) workers="$2"; shift ;;
    --types) tests="set,get,lpush,lpop,sadd,hset,zadd,lrange_100" ;;
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
  pids+=($!)
  for _ in $(seq 100); do
    if cli "$port" ping 2>/dev/null | grep -q PONG; then return 0; fi
    sleep 0.1
  done
  echo "$name did not start; log:" >&2; cat "$work/$name.log" >&2; exit 1
}

tls_flags() { [ $tls = 1 ] && echo "--tls --cert $certs/client.crt --key $certs/client.key --cacert $certs/ca.crt" || true; }
cli() { local port=$1; shift; redis-cli -h 127.0.0.1 -p "$port" $(tls_flags) "$@"; }

# bench PORT PIPELINE TEST -> requests per second
bench() {
  redis-benchmark -h 127.0.0.1 -p "$1" $(tls_flags) -c "$clients" -n "$requests" -P "$2" -t "$3" -q 2>/dev/null |
    tr '\r' '\n' | awk -F': ' '/requests per second/ {split($2,a," "); v=a[1]} END {print v+0}'
}

rport=$(free_port); start redis /usr/bin/redis-server "$rport" server
oport=$(free_port); start redoubt "$server_bin" "$oport" server

mode=plain; [ $tls = 1 ] && mode=tls
echo "# bench/compare.sh mode=$mode clients=$clients requests=$requests handshake-workers=$workers ($(date -u +%F))"
printf '%-10s %-4s %14s %14s %8s\n' test P "redis rps" "redoubt rps" ratio
for p in $pipelines; do
  for t in ${tests//,/ }; do
    # Alternate order so neither server always runs first.
    r=$(bench "$rport" "$p" "$t"); o=$(bench "$oport" "$p" "$t")
    o2=$(bench "$oport" "$p" "$t"); r2=$(bench "$rport" "$p" "$t")
    r=$(awk -v a="$r" -v b="$r2" 'BEGIN{print (a+b)/2}')
    o=$(awk -v a="$o" -v b="$o2" 'BEGIN{print (a+b)/2}')
    ratio=$(awk -v a="$o" -v b="$r" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "n/a"}')
    printf '%-10s %-4s %14.0f %14.0f %8s\n' "$t" "$p" "$r" "$o" "$ratio"
  done
done

if [ $tls = 1 ] && [ $handshakes = 1 ]; then
  # TLS 1.3 is every modern client's default (redis-benchmark's too); TLS 1.2 is measured by
  # restricting both servers with tls-protocols. The client waits for nothing but the PING
  # reply, so a server that holds its TLS 1.3 session tickets back until its first reply stalls
  # each connection behind the client's Nagle and the server's delayed ACK (~40 ms).
  hs_clients=${HS_CLIENTS:-8}
  echo "# new TLS connections per second (redis-benchmark -k 0 -t ping -c $hs_clients)"
  printf '%-10s %-8s %14s %14s %8s\n' cert proto "redis conn/s" "redoubt conn/s" ratio
  for proto in TLSv1.3 TLSv1.2; do
    for cert in server-ec server; do
      rp=$(free_port); start "redis-$cert-$proto" /usr/bin/redis-server "$rp" "$cert" --tls-protocols "$proto"
      op=$(free_port); start "redoubt-$cert-$proto" "$server_bin" "$op" "$cert" --tls-protocols "$proto"
      n=${HS_REQUESTS:-3000}
      hs() { redis-benchmark -h 127.0.0.1 -p "$1" $(tls_flags) -c "$hs_clients" -n $n -k 0 -t ping -q 2>/dev/null |
        tr '\r' '\n' | awk -F': ' '/PING_INLINE/ {split($2,a," "); v=a[1]} END {print v+0}'; }
      r=$(hs "$rp"); o=$(hs "$op")
      ratio=$(awk -v a="$o" -v b="$r" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "n/a"}')
      printf '%-10s %-8s %14.0f %14.0f %8s\n' "$cert" "$proto" "$r" "$o" "$ratio"
    done
  done
fi
