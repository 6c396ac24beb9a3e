#!/usr/bin/env bash
# bench/memory.sh: memory used by the same data in Redoubt and in Debian's redis-server, side by
# side in the same run, loopback only, plain TCP.
#
#   bench/memory.sh [--scale N] [--sets "strings hashes ..."]
#
# For each data set a fresh pair of servers is started (same flags, no persistence), the data is
# loaded into both with `redis-cli --pipe`, and the script prints, per server, the growth of the
# process's resident memory (VmRSS from /proc, the number an operator sees) and of INFO's
# used_memory (each allocator's own count: Redis uses jemalloc, Redoubt glibc malloc), and the
# ratio Redoubt / Redis of each. Data sets (--scale multiplies the key counts, default 1):
#   strings       200,000 keys "key:N" -> 16-byte values (SET)
#   ints          200,000 keys -> integer values (SET key 12345: shared/encoded integers)
#   hashes        20,000 hashes of 10 fields (listpack)
#   small-zsets   20,000 sorted sets of 10 members, half with non-integral scores (listpack)
#   big-zsets     40 sorted sets of 5,000 members (skiplist)
#   intsets       20,000 sets of 10 integers (intset)
#   lists         20,000 lists of 10 elements (quicklist/listpack)
#   expires       200,000 string keys with a TTL (the expires dict)
#   streams       2 streams of 200,000 entries of 2 fields (XADD *: listpack nodes in a tree) and
#                 1,000 streams of 20 entries with a consumer group and 10 pending entries each
set -euo pipefail
cd "$(dirname "$0")/.."

scale=1
sets="strings ints hashes small-zsets big-zsets intsets lists expires streams"
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) scale="$2"; shift ;;
    --sets) sets="$2"; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

PY=/usr/bin/python3
server_bin=${REDOUBT_SERVER:-bazel-bin/server/server}
[ -x "$server_bin" ] || { echo "build first: bazel build //server" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "needs Debian's redis-server" >&2; exit 1; }

work=$(mktemp -d /tmp/memory.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start NAME BIN PORT: sets $started to the pid once the server answers PING.
started=""
start() {
  local name=$1 bin=$2 port=$3
  "$bin" --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
    --logfile "$work/$name.log" >/dev/null 2>&1 &
  started=$!
  pids+=("$started")
  for _ in $(seq 100); do
    if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
      return 0
    fi
    sleep 0.1
  done
  echo "$name did not start; log:" >&2
  cat "$work/$name.log" >&2
  exit 1
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
used_memory() {
  redis-cli -h 127.0.0.1 -p "$1" info memory | tr -d '\r' | awk -F: '$1 == "used_memory" {print $2}'
}

# gen SET SCALE: the data set as RESP commands on stdout.
gen() {
  $PY - "$1" "$2" <<'PY'
import sys
name, scale = sys.argv[1], int(sys.argv[2])
out = sys.stdout.buffer
def cmd(*args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    out.write(b"".join(parts))
if name == "strings":
    for i in range(200000 * scale):
        cmd("SET", "key:%d" % i, "v%015d" % i)
elif name == "ints":
    for i in range(200000 * scale):
        cmd("SET", "key:%d" % i, str(i * 7 + 100000))
elif name == "hashes":
    for i in range(20000 * scale):
        args = ["HSET", "h:%d" % i]
        for f in range(10):
            args += ["field%d" % f, "value-%d-%d" % (i, f)]
        cmd(*args)
elif name == "small-zsets":
    for i in range(20000 * scale):
        args = ["ZADD", "z:%d" % i]
        for m in range(10):
            args += [str(m * 1.5) if i % 2 else str(m), "member:%d" % m]
        cmd(*args)
elif name == "big-zsets":
    for i in range(40 * scale):
        for chunk in range(0, 5000, 500):
            args = ["ZADD", "bz:%d" % i]
            for m in range(chunk, chunk + 500):
                args += [str(m * 0.25), "member:%d" % m]
            cmd(*args)
elif name == "intsets":
    for i in range(20000 * scale):
        cmd("SADD", "s:%d" % i, *[str(i + m * 1000) for m in range(10)])
elif name == "lists":
    for i in range(20000 * scale):
        cmd("RPUSH", "l:%d" % i, *["element-%d" % m for m in range(10)])
elif name == "expires":
    for i in range(200000 * scale):
        cmd("SET", "key:%d" % i, "v%015d" % i, "EX", "100000")
elif name == "streams":
    for s in range(2):
        for i in range(200000 * scale):
            cmd("XADD", "stream:%d" % s, "*", "sensor", "s-%d" % (i % 100), "value", str(i))
    for s in range(1000 * scale):
        key = "small:%d" % s
        for i in range(20):
            cmd("XADD", key, "%d-1" % (i + 1), "field", "value-%d" % i)
        cmd("XGROUP", "CREATE", key, "g", "0")
        cmd("XREADGROUP", "GROUP", "g", "c1", "COUNT", "10", "STREAMS", key, ">")
else:
    sys.exit("unknown data set " + name)
PY
}

echo "# bench/memory.sh scale=$scale ($(date -u '+%F %H:%M UTC')); growth after loading, KiB"
printf '%-12s %10s %10s %6s   %12s %12s %6s\n' "data set" "redis RSS" "redoubt" ratio \
  "redis used" "redoubt used" ratio
for set in $sets; do
  gen "$set" "$scale" > "$work/$set.resp"
  rport=$(free_port); start redis /usr/bin/redis-server "$rport"; rpid=$started
  oport=$(free_port); start redoubt "$server_bin" "$oport"; opid=$started
  r0=$(rss_kb "$rpid"); o0=$(rss_kb "$opid")
  ru0=$(used_memory "$rport"); ou0=$(used_memory "$oport")
  for port in "$rport" "$oport"; do
    if ! redis-cli -h 127.0.0.1 -p "$port" --pipe < "$work/$set.resp" > "$work/pipe.out" 2>&1 ||
       ! grep -q "errors: 0," "$work/pipe.out"; then
      echo "loading $set into port $port failed:" >&2
      cat "$work/pipe.out" >&2
      exit 1
    fi
  done
  rk=$(redis-cli -h 127.0.0.1 -p "$rport" dbsize); ok=$(redis-cli -h 127.0.0.1 -p "$oport" dbsize)
  if [ "$rk" != "$ok" ]; then
    echo "$set: key counts differ: redis $rk, redoubt $ok" >&2
    exit 1
  fi
  r1=$(rss_kb "$rpid"); o1=$(rss_kb "$opid")
  ru1=$(used_memory "$rport"); ou1=$(used_memory "$oport")
  awk -v s="$set" -v r=$((r1 - r0)) -v o=$((o1 - o0)) -v ru=$(((ru1 - ru0) / 1024)) \
      -v ou=$(((ou1 - ou0) / 1024)) 'BEGIN {
    printf "%-12s %10d %10d %6.2f   %12d %12d %6.2f\n", s, r, o, (r > 0 ? o / r : 0), ru, ou,
      (ru > 0 ? ou / ru : 0) }'
  kill "$rpid" "$opid"
  wait "$rpid" "$opid" 2>/dev/null || true
  pids=()
  rm -f "$work/$set.resp"
done
