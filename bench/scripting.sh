#!/usr/bin/env bash
# bench/scripting.sh: Lua scripting throughput of Redoubt and Debian's redis-server side by side,
# same run, loopback, plain TCP; prints requests/s, the ratio Redoubt / Redis and each server's CPU
# time per request (whole process tree, from /proc, as bench/compare.sh).
#
#   bench/scripting.sh [--quick] [--requests N] [--clients C] [--pipelines "1 16"]
#
# The commands (redis-benchmark runs arbitrary commands: `redis-benchmark -n N -P 16 EVALSHA ...`):
#   get           GET of the lock key: the baseline without scripting
#   evalsha       EVALSHA of redis-py's Lock release script with a token that does not match
#                 (GET + compare in Lua, nothing deleted: the same work on every call)
#   eval          the same script sent with EVAL (body hashed and looked up on every call)
#   evalsha-del   a release-like script that owns its key: SET, GET + compare, DEL
#   fcall         FCALL of a small function (INCRBY through redis.call)
#   fcall_ro      FCALL_RO of a no-writes function (GET through redis.call)
# Each command is first run once with redis-cli on each server; a server that replies with an error
# (no scripting yet, say) gets n/a instead of a figure, since redis-benchmark counts error replies as
# answered requests. --quick: 20,000 requests, pipeline 16 only, one round (default: 200,000
# requests, pipelines 1 and 16, two rounds alternating which server goes first, averaged).
# --callgrind: instead of timing, both servers run under valgrind's callgrind and the script
# prints the user-space instructions each server executes per request (20,000 requests at
# pipeline 16, counted only while redis-benchmark runs). Instruction counts do not depend on the
# machine's load, so this is the figure to trust on a busy or shared machine (timings there swing
# by 30%); it does not see system calls or cache misses.
set -euo pipefail
cd "$(dirname "$0")/.."

requests=200000
clients=50
pipelines="1 16"
rounds=2
callgrind=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) requests=20000; pipelines="16"; rounds=1 ;;
    --callgrind) callgrind=1 ;;
    --requests) requests="$2"; shift ;;
    --clients) clients="$2"; shift ;;
    --pipelines) pipelines="$2"; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

server_bin=${REDOUBT_SERVER:-bazel-bin/server/server}
[ -x "$server_bin" ] || { echo "build first: bazel build //server" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "needs Debian's redis-server" >&2; exit 1; }
command -v redis-benchmark >/dev/null || { echo "needs redis-benchmark (redis-tools)" >&2; exit 1; }
if [ $callgrind = 1 ]; then
  command -v callgrind_control >/dev/null || { echo "--callgrind needs valgrind" >&2; exit 1; }
fi

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
cli() { local port=$1; shift; redis-cli -h 127.0.0.1 -p "$port" "$@"; }

# start NAME BIN PORT: both servers take the same flags. With --callgrind they run under
# callgrind with instrumentation off until bench_instr turns it on.
start() {
  local name=$1 bin=$2 port=$3
  mkdir -p "$work/$name"
  local wrap=()
  if [ $callgrind = 1 ]; then
    wrap=(valgrind --tool=callgrind --instr-atstart=no --log-file="$work/$name.vg.log"
      --callgrind-out-file="$work/$name.cg.%p")
  fi
  "${wrap[@]}" "$bin" --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$work/$name" \
    --logfile "$work/$name.log" &
  last_pid=$!
  pids+=($!)
  for _ in $(seq 300); do
    if cli "$port" ping 2>/dev/null | grep -q PONG; then return 0; fi
    sleep 0.1
  done
  echo "$name did not start; log:" >&2; cat "$work/$name.log" >&2; exit 1
}

# tree_ns PID -> nanoseconds on CPU of every thread of PID and of its children.
tree_ns() {
  local pid=$1 kid
  for kid in $pid $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
    cat /proc/"$kid"/task/*/schedstat 2>/dev/null
  done | awk '{s += $1} END {printf "%.0f\n", s}'
}

# redis-py's Lock.LUA_RELEASE_SCRIPT, byte for byte (so its SHA1 is the one redis-py sends).
RELEASE='
        local token = redis.call('"'"'get'"'"', KEYS[1])
        if not token or token ~= ARGV[1] then
            return 0
        end
        redis.call('"'"'del'"'"', KEYS[1])
        return 1
    '
# A release that always finds its own token: re-creates the key first, then the redis-py logic.
OWNED="redis.call('set', KEYS[1], ARGV[1])
local token = redis.call('get', KEYS[1])
if not token or token ~= ARGV[1] then return 0 end
redis.call('del', KEYS[1])
return 1"
LIB="#!lua name=benchlib
redis.register_function('bench_incr', function(keys, args) return redis.call('incrby', keys[1], args[1]) end)
redis.register_function{function_name='bench_get', callback=function(keys) return redis.call('get', keys[1]) end,
  flags={'no-writes'}}"

setup() { # PORT -> prints "release-sha owned-sha" (empty fields when the server refuses)
  local port=$1 rs os
  cli "$port" set lock:bench token-of-someone-else >/dev/null
  rs=$(cli "$port" script load "$RELEASE" 2>&1 || true)
  os=$(cli "$port" script load "$OWNED" 2>&1 || true)
  cli "$port" function load replace "$LIB" >/dev/null 2>&1 || true
  [[ $rs =~ ^[0-9a-f]{40}$ ]] || rs=-
  [[ $os =~ ^[0-9a-f]{40}$ ]] || os=-
  echo "$rs $os"
}

# cmd_args NAME SHA_RELEASE SHA_OWNED -> the command's arguments, one per line
cmd_args() {
  case "$1" in
    get) printf '%s\n' GET lock:bench ;;
    evalsha) printf '%s\n' EVALSHA "$2" 1 lock:bench my-token ;;
    eval) printf '%s\0' EVAL "$RELEASE" 1 lock:bench my-token ;;
    evalsha-del) printf '%s\n' EVALSHA "$3" 1 lock:owned my-token ;;
    fcall) printf '%s\n' FCALL bench_incr 1 counter:bench 1 ;;
    fcall_ro) printf '%s\n' FCALL_RO bench_get 1 lock:bench ;;
  esac
}

# args_of NAME SHA SHA2 -> fills the array ARGS
args_of() {
  ARGS=()
  if [ "$1" = eval ]; then
    while IFS= read -r -d '' a; do ARGS+=("$a"); done < <(cmd_args "$@")
  else
    while IFS= read -r a; do ARGS+=("$a"); done < <(cmd_args "$@")
  fi
}

# works PORT NAME SHA SHA2 -> exit 0 when the command answers without an error
works() {
  local port=$1; shift
  args_of "$@"
  [ "${ARGS[1]:-}" != - ] || return 1
  local out
  out=$(cli "$port" "${ARGS[@]}" 2>&1) || return 1
  ! grep -qE '^(\(error\)|ERR|NOSCRIPT|NOPERM)' <<<"$out"
}

# bench PORT PID PIPELINE NAME SHA SHA2 -> "rps cpu_us_per_request"
bench() {
  local port=$1 pid=$2 p=$3; shift 3
  args_of "$@"
  local before after rps
  before=$(tree_ns "$pid")
  rps=$(redis-benchmark -h 127.0.0.1 -p "$port" -c "$clients" -n "$requests" -P "$p" -q "${ARGS[@]}" 2>/dev/null |
    tr '\r' '\n' | awk '/requests per second/ {for (i = 1; i <= NF; i++) if ($(i+1) == "requests") v = $i}
                        END {print v + 0}')
  after=$(tree_ns "$pid")
  awk -v r="$rps" -v d=$((after - before)) -v n="$requests" 'BEGIN {printf "%s %.3f\n", r, d / 1e3 / n}'
}

# bench_instr NAME PORT PID NAME SHA SHA2 -> user-space instructions per request (callgrind)
dumps=0
bench_instr() {
  local name=$1 port=$2 pid=$3; shift 3
  args_of "$@"
  local n=20000
  callgrind_control -z "$pid" >/dev/null 2>&1
  callgrind_control -i on "$pid" >/dev/null 2>&1
  redis-benchmark -h 127.0.0.1 -p "$port" -c 10 -n $n -P 16 -q "${ARGS[@]}" >/dev/null 2>&1
  callgrind_control -i off "$pid" >/dev/null 2>&1
  callgrind_control -d "$pid" >/dev/null 2>&1
  local f
  f=$(ls -t "$work/$name.cg.$pid".* | head -1)
  awk -v n=$n '/^totals:/ {printf "%.0f\n", $2 / n; exit}' "$f"
}

avg() { awk -v a="$1" -v b="$2" 'BEGIN {split(a, x, " "); split(b, y, " ");
  printf "%f %f\n", (x[1] + y[1]) / 2, (x[2] + y[2]) / 2}'; }

rport=$(free_port); start redis /usr/bin/redis-server "$rport"; rpid=$last_pid
oport=$(free_port); start redoubt "$server_bin" "$oport"; opid=$last_pid
read -r rsha rsha2 < <(setup "$rport")
read -r osha osha2 < <(setup "$oport")
if [ "$rsha" != - ] && [ "$osha" != - ] && [ "$rsha" != "$osha" ]; then
  echo "SCRIPT LOAD gave different SHA1s: redis $rsha, redoubt $osha" >&2
fi

if [ $callgrind = 1 ]; then
  echo "# bench/scripting.sh --callgrind: user-space instructions per request, 20,000 requests, P16 ($(date -u +%F))"
  printf '%-12s %14s %14s %7s\n' test redis redoubt ratio
  for t in get evalsha eval evalsha-del fcall fcall_ro; do
    if works "$rport" "$t" "$rsha" "$rsha2" && works "$oport" "$t" "$osha" "$osha2"; then
      ri=$(bench_instr redis "$rport" "$rpid" "$t" "$rsha" "$rsha2")
      oi=$(bench_instr redoubt "$oport" "$opid" "$t" "$osha" "$osha2")
      awk -v t="$t" -v r="$ri" -v o="$oi" 'BEGIN {printf "%-12s %14d %14d %7.2f\n", t, r, o, o / r}'
    else
      printf '%-12s %14s %14s %7s\n' "$t" n/a n/a n/a
    fi
  done
  echo "# ratio: Redoubt instructions / Redis's (lower is better)"
  exit 0
fi

echo "# bench/scripting.sh clients=$clients requests=$requests rounds=$rounds ($(date -u +%F))"
printf '%-12s %-3s %12s %12s %7s %11s %12s %7s\n' test P "redis rps" "redoubt rps" ratio "redis us/r" \
  "redoubt us/r" cpu
for p in $pipelines; do
  for t in get evalsha eval evalsha-del fcall fcall_ro; do
    r_ok=1; o_ok=1
    works "$rport" "$t" "$rsha" "$rsha2" || r_ok=0
    works "$oport" "$t" "$osha" "$osha2" || o_ok=0
    r="0 0"; o="0 0"
    for round in $(seq "$rounds"); do
      # Alternate which server goes first.
      if [ $((round % 2)) = 1 ]; then
        [ $r_ok = 1 ] && r1=$(bench "$rport" "$rpid" "$p" "$t" "$rsha" "$rsha2")
        [ $o_ok = 1 ] && o1=$(bench "$oport" "$opid" "$p" "$t" "$osha" "$osha2")
      else
        [ $o_ok = 1 ] && o1=$(bench "$oport" "$opid" "$p" "$t" "$osha" "$osha2")
        [ $r_ok = 1 ] && r1=$(bench "$rport" "$rpid" "$p" "$t" "$rsha" "$rsha2")
      fi
      if [ "$round" = 1 ]; then r=${r1:-0 0}; o=${o1:-0 0}; else r=$(avg "$r" "${r1:-0 0}"); o=$(avg "$o" "${o1:-0 0}"); fi
    done
    awk -v t="$t" -v p="$p" -v r="$r" -v o="$o" -v rok=$r_ok -v ook=$o_ok 'BEGIN {
      split(r, x, " "); split(o, y, " ");
      rr = rok ? sprintf("%12.0f", x[1]) : sprintf("%12s", "n/a");
      oo = ook ? sprintf("%12.0f", y[1]) : sprintf("%12s", "n/a");
      rc = rok ? sprintf("%11.2f", x[2]) : sprintf("%11s", "n/a");
      oc = ook ? sprintf("%12.2f", y[2]) : sprintf("%12s", "n/a");
      ratio = (rok && ook && x[1] > 0) ? sprintf("%.2f", y[1] / x[1]) : "n/a";
      cpu = (rok && ook && x[2] > 0) ? sprintf("%.2f", y[2] / x[2]) : "n/a";
      printf "%-12s %-3s %s %s %7s %s %s %7s\n", t, p, rr, oo, ratio, rc, oc, cpu}'
  done
done
echo "# ratio: Redoubt rps / Redis rps (higher is better); cpu: Redoubt CPU per request / Redis's (lower is better)"
