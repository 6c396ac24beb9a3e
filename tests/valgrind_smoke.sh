#!/usr/bin/env bash
# valgrind_smoke.sh: runs the server (plain mode) under valgrind memcheck for a
# handful of commands from every family, then SHUTDOWN NOSAVE. Fails when
# valgrind reports an error (invalid access, uninitialised use, definite
# leak) or the server does not answer / exit.
#   tests/valgrind_smoke.sh [server-binary]     (default bazel-bin/server/server)
# Needs valgrind and redis-cli. Takes ~10-30 s (valgrind is ~30x slower).
set -uo pipefail
cd "$(dirname "$0")/.."
bin="${1:-bazel-bin/server/server}"
for tool in valgrind redis-cli; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "valgrind_smoke: $tool not installed" >&2
    exit 2
  fi
done
[[ -x "$bin" ]] || { echo "valgrind_smoke: no server binary at $bin" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A free loopback port: ask the kernel for one.
port="$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
log="$work/valgrind.log"

# The release server links jemalloc: --soname-synonyms makes valgrind replace its malloc too.
valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
  --soname-synonyms=somalloc='*jemalloc*' \
  --show-leak-kinds=definite --track-origins=yes --log-file="$log" \
  "$bin" --port "$port" --bind 127.0.0.1 --save "" --dir "$work" \
  --logfile "$work/server.log" &
vg_pid=$!

cli() { redis-cli -p "$port" "$@"; }
# Startup under valgrind takes a few seconds; the budget is 60 s.
for _ in $(seq 1 120); do
  [[ "$(cli PING 2>/dev/null)" == "PONG" ]] && break
  if ! kill -0 "$vg_pid" 2>/dev/null; then
    echo "valgrind_smoke: server exited during startup" >&2
    cat "$log" "$work/server.log" >&2 2>/dev/null
    exit 1
  fi
  sleep 0.5
done
if [[ "$(cli PING 2>/dev/null)" != "PONG" ]]; then
  echo "valgrind_smoke: server did not answer PING" >&2
  kill "$vg_pid" 2>/dev/null
  exit 1
fi

fail=0
check() { # expected, command...
  local want="$1" got
  shift
  got="$(cli "$@" 2>&1)"
  if [[ "$got" != "$want" ]]; then
    echo "valgrind_smoke: '$*' -> '$got' (expected '$want')" >&2
    fail=1
  fi
}
check OK SET k v
check v GET k
check 2 APPEND n 12
check 13 INCR n
check OK MSET a 1 b 2
check 1 EXPIRE k 100
check 2 HSET h f v g 1
check 6 HINCRBY h g 5
check 3 RPUSH l a b c
check "$(printf 'a\nb\nc')" LRANGE l 0 -1
check 3 SADD s x y 1
check 1 SISMEMBER s x
check 2 ZADD z 1 a 2 b
check "$(printf 'a\n1\nb\n2')" ZRANGE z 0 -1 WITHSCORES
check 2 ZUNIONSTORE u 1 z
check 0 SDIFFSTORE d s s
cli INFO >/dev/null || fail=1
cli CLIENT LIST >/dev/null || fail=1
cli SCAN 0 >/dev/null || fail=1
check 9 DBSIZE
check OK FLUSHALL
cli SHUTDOWN NOSAVE >/dev/null 2>&1

# valgrind's own exit status: 1 on errors, else the server's.
rc=0
for _ in $(seq 1 60); do
  kill -0 "$vg_pid" 2>/dev/null || break
  sleep 0.5
done
if kill -0 "$vg_pid" 2>/dev/null; then
  echo "valgrind_smoke: server did not exit after SHUTDOWN NOSAVE" >&2
  kill "$vg_pid" 2>/dev/null
  fail=1
fi
wait "$vg_pid"
rc=$?
if ((rc != 0)); then
  echo "valgrind_smoke: valgrind/server exit status $rc" >&2
  grep -E '^==[0-9]+==' "$log" | head -80 >&2
  fail=1
fi
if ((fail)); then
  echo "valgrind_smoke: FAILED"
  exit 1
fi
echo "valgrind_smoke: ok ($(grep -E 'ERROR SUMMARY' "$log" | sed 's/^==[0-9]*== //'))"
exit 0
