#!/usr/bin/env bash
# bench/persist.sh: persistence timings of Redoubt and Debian's redis-server side by side, in the
# same run, loopback only, plain TCP; prints each figure and the ratio Redoubt / Redis.
#
#   bench/persist.sh [--keys N] [--small] [--runs R] [--seed S]
#
# Both servers get their own temp dir, `--save ''`, a free 127.0.0.1 port, and the SAME data set:
# N keys (default 1,000,000; --small: 100,000) generated deterministically from --seed as RESP and
# loaded with `redis-cli --pipe`:
#   60% strings: a third integers (small and 64-bit), a third 5-20 bytes, a third ~100-byte
#       JSON-like values; one in ten of them with an absolute expiry (PXAT, year 2100, so the
#       same on both and part of DEBUG DIGEST)
#   10% lists, 10% hashes, 10% sets (half intsets), 8% sorted sets (half integral scores):
#       3-30 elements each (listpack / intset encodings)
#    2% large collections of the five kinds (list, hash, set, intset, sorted set): one in 20 of
#       them 2,000-4,000 elements (hashtable hashes and sets), the others 130-300 (quicklists of
#       several nodes, skiplist sorted sets, big listpack hashes and intsets: the built-in
#       hash-max-listpack-entries and set-max-intset-entries are 512). All of them at a few
#       thousand elements would put ~95% of the data (60M elements at N=1M) in them and make
#       this a large-collection benchmark.
# Then, for each server (R runs each, alternating which server goes first, median reported):
#   BGSAVE   wall time from the command to INFO persistence showing rdb_bgsave_in_progress:0 with
#            rdb_saves incremented and rdb_last_bgsave_status:ok (both servers notice the child's
#            end in their cron, so up to 1/hz late), and rdb_last_bgsave_time_sec; the RDB's size
#   SAVE     wall time of the synchronous command
#   load     SHUTDOWN NOSAVE, restart on the same dir: from the exec to PONG (not -LOADING; the
#            poller is running before the exec)
#            with DBSIZE = N; and "DB loaded from disk: X seconds" from the server's log
#   cross    each server started on a copy of the OTHER's RDB: DBSIZE = N, and where the loading
#            server implements DEBUG DIGEST, the digest equal to its own digest of the original
#            data (so each digest is only compared with the same implementation's)
#   AOF      redis-benchmark -t set (-P 1 and -P 16) on fresh servers with appendonly no (the
#            baseline), then --appendonly yes --appendfsync everysec (-n 200000), then always
#            (-n 20000). A server's AOF rows say n/a unless INFO shows aof_enabled:1, its log
#            does not call appendonly "accepted but not implemented", and an .aof file with data
#            exists after the benchmark.
# Exit status: non-zero only on a setup failure (a server that does not start, data that does
# not load or differs in DBSIZE) or a cross-load FAIL.
set -euo pipefail
cd "$(dirname "$0")/.."

keys=1000000
runs=3
seed=7
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) keys="$2"; shift ;;
    --small) keys=100000 ;;
    --runs) runs="$2"; shift ;;
    --seed) seed="$2"; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

PY=/usr/bin/python3
server_bin=${REDOUBT_SERVER:-bazel-bin/server/server}
[ -x "$server_bin" ] || { echo "build first: bazel build //server" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "needs Debian's redis-server" >&2; exit 1; }
command -v redis-benchmark >/dev/null || { echo "needs redis-benchmark" >&2; exit 1; }
$PY -c 'import redis' 2>/dev/null || { echo "needs redis-py for $PY" >&2; exit 1; }

work=$(mktemp -d /tmp/persist.XXXXXX)
declare -A PID=()
cleanup() {
  local p
  for p in "${PID[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PID[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A private copy: a concurrent `bazel build` may replace bazel-bin's file between restarts.
cp "$server_bin" "$work/redoubt-server"
declare -A BIN=([redis]=/usr/bin/redis-server [redoubt]="$work/redoubt-server")

# Every distinct command line, in first-use order, printed at the end.
declare -A seen_cmd=()
cmds=()
note_cmd() { if [ -z "${seen_cmd[$1]+x}" ]; then seen_cmd[$1]=1; cmds+=("$1"); fi; }

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cat > "$work/helper.py" <<'PY'
import os, random, sys, time
import redis
from redis.exceptions import BusyLoadingError, ConnectionError, ResponseError

def conn(port):
    return redis.Redis(host="127.0.0.1", port=int(port), socket_timeout=None)

def gen(n, seed, path):
    """The data set: n keys as RESP commands, deterministic in (n, seed)."""
    n = int(n)
    rng = random.Random(int(seed))
    alpha = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
    words = ["".join(rng.choice(alpha) for _ in range(rng.randint(5, 20))) for _ in range(4096)]
    names = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]
    def long_value(i):  # ~100 bytes, JSON-like: partly compressible, as real values are
        v = '{"id":%d,"user":"%s","email":"%s@example.com","tags":["%s","%s"],"n":%d}' % (
            i, rng.choice(names), rng.choice(words), rng.choice(words), rng.choice(words),
            rng.randint(0, 10**9))
        while len(v) < 100:
            v = v[:-1] + ',"%s":%d}' % (rng.choice(words), rng.randint(0, 999))
        return v
    def small_int():
        return str(rng.randint(0, 9999)) if rng.random() < 0.5 else str(rng.randint(-2**62, 2**62))
    def member(i, j):  # a short collection element: a word or an integer
        return words[(i * 31 + j * 7) % 4096] + ":" + str(j) if j % 3 else str(i * 1000 + j)
    out = open(path, "w", encoding="ascii", newline="")
    buf = []
    def cmd(args):
        buf.append("*%d\r\n" % len(args))
        buf.extend("$%d\r\n%s\r\n" % (len(a), a) for a in args)
        if len(buf) > 200000:
            out.write("".join(buf)); buf.clear()
    def chunked(head, elems, per):  # one command per `per` elements (per = args per element)
        step = 500 * per
        for k in range(0, len(elems), step):
            cmd(head + elems[k:k + step])
    elements = 0
    for i in range(n):
        b = i % 100
        if b < 60:
            kind = rng.random()
            if kind < 1 / 3:
                v = small_int()
            elif kind < 2 / 3:
                v = rng.choice(words)
            else:
                v = long_value(i)
            if rng.random() < 0.1:
                cmd(["SET", "str:%d" % i, v, "PXAT", str(4102444800000 + i)])
            else:
                cmd(["SET", "str:%d" % i, v])
            continue
        if b < 98:
            size = rng.randint(3, 30)
            if b < 70:
                cmd(["RPUSH", "list:%d" % i] + [member(i, j) for j in range(size)])
            elif b < 80:
                args = ["HSET", "hash:%d" % i]
                for j in range(size):
                    args += ["f%d" % j, member(i, j) if j % 2 else small_int()]
                cmd(args)
            elif b < 90:
                if i % 2:
                    cmd(["SADD", "iset:%d" % i] + [str(i * 37 + j * 1009) for j in range(size)])
                else:
                    cmd(["SADD", "set:%d" % i] + [member(i, j) for j in range(size)])
            else:
                args = ["ZADD", "zset:%d" % i]
                for j in range(size):
                    args += [str(j * 10) if i % 2 else "%.4f" % (rng.random() * 1000), member(i, j)]
                cmd(args)
            elements += size
            continue
        j = (i // 100) * 2 + (b - 98)  # the j-th large collection
        size = rng.randint(2000, 4000) if j % 20 == 0 else rng.randint(130, 300)
        elements += size
        t = j % 5
        if t == 0:
            chunked(["RPUSH", "blist:%d" % i],
                    [words[(i + e) % 4096] + "-element-%d" % e for e in range(size)], 1)
        elif t == 1:
            elems = []
            for e in range(size):
                elems += ["field:%d" % e, words[(i * 3 + e) % 4096]]
            chunked(["HSET", "bhash:%d" % i], elems, 2)
        elif t == 2:
            chunked(["SADD", "bset:%d" % i], ["member:%d:%d" % (i, e) for e in range(size)], 1)
        elif t == 3:
            chunked(["SADD", "biset:%d" % i], [str(i * 10007 + e * 3) for e in range(size)], 1)
        else:
            elems = []
            for e in range(size):
                elems += ["%.3f" % (e * 0.5 + rng.random()), "m:%d" % e]
            chunked(["ZADD", "bzset:%d" % i], elems, 2)
    out.write("".join(buf))
    out.close()
    print(elements)

def info(r, section="persistence"):
    return r.info(section)

def bgsave(port):
    """BGSAVE; poll INFO persistence until it ended. Prints: wall_s last_bgsave_time_sec status."""
    r = conn(port)
    saves0 = info(r)["rdb_saves"]
    t0 = time.perf_counter()
    r.bgsave()
    while True:
        i = info(r)
        if i["rdb_bgsave_in_progress"] == 0 and i["rdb_saves"] > saves0:
            break
        if i["rdb_bgsave_in_progress"] == 0 and i["rdb_last_bgsave_status"] != "ok":
            break
        time.sleep(0.005)
    wall = time.perf_counter() - t0
    print("%.4f %s %s" % (wall, i["rdb_last_bgsave_time_sec"], i["rdb_last_bgsave_status"]))

def save(port):
    r = conn(port)
    t0 = time.perf_counter()
    try:
        r.save()
        ok = "ok"
    except ResponseError as e:
        ok = "err"
        print(e, file=sys.stderr)
    print("%.4f %s" % (time.perf_counter() - t0, ok))

def alive(pid):
    try:
        with open("/proc/%s/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False

def ready(port, go, timeout):
    """Started before the server, so that its own start-up is not measured: creates go.armed, then
    waits for the file go ("T0 PID": the epoch time taken just before the exec, the server's pid)
    and polls until PING answers PONG (not -LOADING). Prints: seconds-since-T0 dbsize. Fails if
    the server exits first."""
    r = redis.Redis(host="127.0.0.1", port=int(port), socket_connect_timeout=1, socket_timeout=30)
    open(go + ".armed", "w").close()
    waited = time.time()
    while not os.path.exists(go):
        if time.time() - waited > 60:
            sys.exit("no server started")
        time.sleep(0.0005)
    with open(go) as f:
        t0, pid = f.read().split()
    t0 = float(t0)
    while True:
        try:
            if r.ping():
                t = time.time() - t0
                print("%.4f %d" % (t, r.dbsize()))
                return
        except (BusyLoadingError, ConnectionError, ResponseError):
            pass
        if time.time() - t0 > float(timeout):
            sys.exit("port %s not ready after %s s" % (port, timeout))
        if not alive(pid):
            sys.exit("server on port %s exited" % port)
        time.sleep(0.002)

def digest(port):
    try:
        d = conn(port).execute_command("DEBUG", "DIGEST")
        print(d.decode() if isinstance(d, bytes) else d)
    except ResponseError:
        print("n/a")

def field(port, section, name):
    print(info(conn(port), section).get(name, ""))

globals()[sys.argv[1]](*sys.argv[2:])
PY
helper() { $PY "$work/helper.py" "$@"; }

# start NAME DIR PORT TAG [extra args]: launches, does not wait. NAME is redis or redoubt, with an
# optional -suffix for a second instance (PID[NAME]). Sets T0 to the epoch time just before the
# exec; the log is DIR/TAG.log.
start() {
  local name=$1 dir=$2 port=$3 tag=$4 bin=${BIN[${1%%-*}]}; shift 4
  local args=(--port "$port" --bind 127.0.0.1 --save "" --dir "$dir" --dbfilename dump.rdb
              --logfile "$dir/$tag.log" --enable-debug-command yes)
  if [ $# = 0 ]; then args+=(--appendonly no); else args+=("$@"); fi
  note_cmd "$(printf '%q ' "$bin" "${args[@]}")"
  T0=$EPOCHREALTIME
  "$bin" "${args[@]}" >/dev/null 2>&1 &
  PID[$name]=$!
}
# launch NAME DIR PORT TAG TIMEOUT [extra args]: start, and wait until it answers PING (not
# -LOADING). Sets READY to "seconds-from-exec-to-PONG dbsize"; returns non-zero if the server
# exits or times out first. The poller is armed (python and redis-py loaded) before the exec.
launch() {
  local name=$1 timeout=$5 rc=0
  rm -f "$work/go" "$work/go.armed"
  helper ready "$3" "$work/go" "$timeout" > "$work/ready.out" &
  PID[poller]=$!
  while [ ! -e "$work/go.armed" ] && kill -0 "${PID[poller]}" 2>/dev/null; do sleep 0.01; done
  start "$1" "$2" "$3" "$4" "${@:6}"
  echo "$T0 ${PID[$name]}" > "$work/go.tmp"; mv "$work/go.tmp" "$work/go"
  wait "${PID[poller]}" || rc=$?
  unset "PID[poller]"
  READY=$(cat "$work/ready.out")
  return $rc
}
# launch_or_die: launch, or print the server's log and exit.
launch_or_die() {
  launch "$@" && return 0
  echo "$1 did not start; log:" >&2; cat "$2/$4.log" >&2; exit 1
}
stop() { # stop NAME PORT
  local pid=${PID[$1]:-}
  [ -n "$pid" ] || return 0
  redis-cli -h 127.0.0.1 -p "$2" shutdown nosave >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "PID[$1]"
}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "n/a")}'; }
ratio() { awk -v o="$2" -v r="$1" 'BEGIN { if (r+0 > 0 && o != "n/a" && r != "n/a") printf "%.2f", o/r; else print "n/a" }'; }
row() { # label redis redoubt [ratio]
  printf '%-38s %14s %14s %7s\n' "$1" "$2" "$3" "${4-$(ratio "$2" "$3")}"
}
loaded_secs() { grep -o 'DB loaded from disk: [0-9.]* seconds' "$1" 2>/dev/null | tail -1 | awk '{print $5}' || true; }
filesize() { stat -c %s "$1" 2>/dev/null || echo n/a; }

mkdir -p "$work/redis" "$work/redoubt"
declare -A PORT=([redis]=$(free_port) [redoubt]=$(free_port))

# 1. Data set.
gen_t0=$EPOCHREALTIME
elements=$(helper gen "$keys" "$seed" "$work/data.resp")
gen_s=$(awk -v a="$gen_t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}')
note_cmd "$PY helper.py gen $keys $seed data.resp   # the data set as RESP (script's embedded python)"
declare -A PIPE_S DBSIZE DIGEST
for s in redis redoubt; do
  launch_or_die $s "$work/$s" "${PORT[$s]}" start 30
  t=$EPOCHREALTIME
  note_cmd "redis-cli -h 127.0.0.1 -p PORT --pipe < data.resp"
  if ! redis-cli -h 127.0.0.1 -p "${PORT[$s]}" --pipe < "$work/data.resp" > "$work/pipe.out" 2>&1 ||
     ! grep -q "errors: 0," "$work/pipe.out"; then
    echo "loading the data set into $s failed:" >&2; cat "$work/pipe.out" >&2; exit 1
  fi
  PIPE_S[$s]=$(awk -v a="$t" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.2f", b - a}')
  DBSIZE[$s]=$(redis-cli -h 127.0.0.1 -p "${PORT[$s]}" dbsize)
  DIGEST[$s]=$(helper digest "${PORT[$s]}")
done
if [ "${DBSIZE[redis]}" != "$keys" ] || [ "${DBSIZE[redoubt]}" != "$keys" ]; then
  echo "DBSIZE after loading: redis ${DBSIZE[redis]}, redoubt ${DBSIZE[redoubt]}, expected $keys" >&2
  exit 1
fi

echo "# bench/persist.sh keys=$keys runs=$runs seed=$seed ($(date -u '+%F %H:%M UTC'))"
echo "# cores: $(nproc) ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM; $(redis-server --version | cut -d' ' -f1-3); $("${BIN[redoubt]}" --version 2>&1 | head -1)"
echo "# data set: $keys keys, $elements collection elements, $(filesize "$work/data.resp") bytes of RESP (generated in ${gen_s} s)"
echo "# ratio: Redoubt / Redis (times and sizes: lower is better; rates: higher is better)"
printf '%-38s %14s %14s %7s\n' metric redis redoubt ratio
row "DBSIZE" "${DBSIZE[redis]}" "${DBSIZE[redoubt]}"
row "redis-cli --pipe load (s)" "${PIPE_S[redis]}" "${PIPE_S[redoubt]}"
row "used_memory (MiB)" \
  "$(helper field "${PORT[redis]}" memory used_memory | awk '{printf "%.1f", $1/1048576}')" \
  "$(helper field "${PORT[redoubt]}" memory used_memory | awk '{printf "%.1f", $1/1048576}')"

# order RUN -> the two servers, alternating which goes first
order() { if [ $(($1 % 2)) = 1 ]; then echo redis redoubt; else echo redoubt redis; fi; }

# 2. BGSAVE.
declare -A BG_WALL BG_SEC BG_STATUS SV_WALL SV_STATUS LD_WALL LD_LOG
for run in $(seq "$runs"); do
  for s in $(order "$run"); do
    read -r w sec st < <(helper bgsave "${PORT[$s]}")
    BG_WALL[$s]+="$w "; BG_SEC[$s]+="$sec "
    [ "$st" = ok ] || BG_STATUS[$s]=err
  done
done
note_cmd "BGSAVE, then INFO persistence every 5 ms until rdb_bgsave_in_progress:0 and rdb_saves+1 (redis-py)"
for s in redis redoubt; do
  if [ "${BG_STATUS[$s]:-ok}" = ok ]; then
    BG_WALL[$s]=$(echo "${BG_WALL[$s]}" | median); BG_SEC[$s]=$(echo "${BG_SEC[$s]}" | median)
  else
    BG_WALL[$s]=err; BG_SEC[$s]=err
  fi
done
row "BGSAVE wall (s, median)" "${BG_WALL[redis]}" "${BG_WALL[redoubt]}"
row "BGSAVE rdb_last_bgsave_time_sec" "${BG_SEC[redis]}" "${BG_SEC[redoubt]}" -  # whole seconds
row "RDB size after BGSAVE (bytes)" "$(filesize "$work/redis/dump.rdb")" "$(filesize "$work/redoubt/dump.rdb")"

# 3. SAVE.
for run in $(seq "$runs"); do
  for s in $(order "$run"); do
    read -r w st < <(helper save "${PORT[$s]}")
    SV_WALL[$s]+="$w "
    [ "$st" = ok ] || SV_STATUS[$s]=err
  done
done
note_cmd "SAVE (redis-py, wall time of the reply)"
for s in redis redoubt; do
  if [ "${SV_STATUS[$s]:-ok}" = ok ]; then SV_WALL[$s]=$(echo "${SV_WALL[$s]}" | median); else SV_WALL[$s]=err; fi
done
row "SAVE wall (s, median)" "${SV_WALL[redis]}" "${SV_WALL[redoubt]}"
row "RDB size after SAVE (bytes)" "$(filesize "$work/redis/dump.rdb")" "$(filesize "$work/redoubt/dump.rdb")"

# 4. Load at start-up.
load_fail=0
for run in $(seq "$runs"); do
  for s in $(order "$run"); do
    stop $s "${PORT[$s]}"
    launch_or_die $s "$work/$s" "${PORT[$s]}" "load$run" 900
    read -r secs n <<<"$READY"
    if [ "$n" != "$keys" ]; then
      echo "# $s loaded its own RDB with DBSIZE $n, expected $keys" >&2; load_fail=1
    fi
    LD_WALL[$s]+="$secs "
    LD_LOG[$s]+="$(loaded_secs "$work/$s/load$run.log") "
  done
done
note_cmd "SHUTDOWN NOSAVE; start on the same dir; PING every 2 ms until PONG, then DBSIZE (redis-py)"
for s in redis redoubt; do
  LD_WALL[$s]=$(echo "${LD_WALL[$s]}" | median); LD_LOG[$s]=$(echo "${LD_LOG[$s]}" | median)
done
row "load: start to PONG (s, median)" "${LD_WALL[redis]}" "${LD_WALL[redoubt]}"
row "load: 'DB loaded from disk' (s, med)" "${LD_LOG[redis]}" "${LD_LOG[redoubt]}"

# 5. Cross-load: each server on the other's file.
cross_fail=0
other() { if [ "$1" = redis ]; then echo redoubt; else echo redis; fi; }
for s in redis redoubt; do
  o=$(other $s)
  mkdir -p "$work/x-$s"
  cp "$work/$o/dump.rdb" "$work/x-$s/dump.rdb"
  port=$(free_port)
  result=FAIL
  if launch $s-x "$work/x-$s" "$port" cross 900; then
    read -r _ n <<<"$READY"
    d=$(helper digest "$port")
    if [ "$n" != "$keys" ]; then
      result="FAIL (DBSIZE $n)"
    elif [ "$d" = n/a ] || [ "${DIGEST[$s]}" = n/a ]; then
      result="OK (DBSIZE; no DEBUG DIGEST)"
    elif [ "$d" = "${DIGEST[$s]}" ]; then
      result="OK (DBSIZE, digest)"
    else
      result="FAIL (digest $d != ${DIGEST[$s]})"
    fi
  else
    result="FAIL (did not start: $(grep -v '^\s*$' "$work/x-$s/cross.log" | tail -1 |
      sed 's/^[0-9]*:[A-Z] [^#*]*[#*] //' | cut -c1-100))"
  fi
  stop $s-x "$port"
  case "$result" in FAIL*) cross_fail=1 ;; esac
  printf '%-38s %s\n' "cross-load: $s loads $o's RDB" "$result"
done
stop redis "${PORT[redis]}"; stop redoubt "${PORT[redoubt]}"
rm -f "$work/data.resp"

# 6. AOF: SET throughput with no AOF, appendfsync everysec, appendfsync always.
# bench PORT N P -> requests per second
bench() {
  note_cmd "redis-benchmark -h 127.0.0.1 -p PORT -t set -n $2 -c 50 -P $3 -q"
  redis-benchmark -h 127.0.0.1 -p "$1" -t set -n "$2" -c 50 -P "$3" -q 2>/dev/null |
    tr '\r' '\n' | awk -F': ' '/requests per second/ {split($2,a," "); v=a[1]} END {print v+0}'
}
declare -A AOF_OK
for mode in no everysec always; do
  n=200000; [ $mode = always ] && n=20000
  for s in redis redoubt; do
    dir="$work/aof-$mode-$s"; mkdir -p "$dir"
    PORT[$s]=$(free_port)
    if [ $mode = no ]; then
      launch_or_die $s "$dir" "${PORT[$s]}" aof 30
    else
      launch_or_die $s "$dir" "${PORT[$s]}" aof 30 --appendonly yes --appendfsync $mode
    fi
    AOF_OK[$s]=1
    if [ $mode != no ]; then
      if [ "$(helper field "${PORT[$s]}" persistence aof_enabled)" != 1 ] ||
         grep -q 'appendonly is accepted but not implemented' "$dir/aof.log"; then
        AOF_OK[$s]=0
      fi
    fi
  done
  for p in 1 16; do
    declare -A RPS=([redis]=0 [redoubt]=0)
    # r, o, o, r: neither server always runs first; the mean of two runs.
    for s in redis redoubt redoubt redis; do
      if [ "${AOF_OK[$s]}" = 1 ]; then RPS[$s]+=" $(bench "${PORT[$s]}" "$n" "$p")"; fi
    done
    for s in redis redoubt; do
      if [ "${AOF_OK[$s]}" = 1 ]; then
        RPS[$s]=$(echo "${RPS[$s]}" | awk '{printf "%.0f", ($2 + $3) / 2}')
      else
        RPS[$s]=n/a
      fi
    done
    # An AOF that never reached the disk does not count.
    if [ $mode != no ]; then
      for s in redis redoubt; do
        if [ "${AOF_OK[$s]}" = 1 ] &&
           [ -z "$(find "$work/aof-$mode-$s" -name '*.aof' -size +0 2>/dev/null | head -1)" ]; then
          RPS[$s]="n/a"; AOF_OK[$s]=0
        fi
      done
    fi
    label="SET rps appendonly=no"; [ $mode != no ] && label="SET rps appendfsync=$mode"
    row "$label -n $n P$p" "${RPS[redis]}" "${RPS[redoubt]}"
  done
  for s in redis redoubt; do
    if [ $mode != no ] && [ "${AOF_OK[$s]}" = 0 ]; then
      reason="aof_enabled:$(helper field "${PORT[$s]}" persistence aof_enabled)"
      grep -q 'appendonly is accepted but not implemented' "$work/aof-$mode-$s/aof.log" &&
        reason+=", log: appendonly accepted but not implemented"
      [ -z "$(find "$work/aof-$mode-$s" -name '*.aof' -size +0 2>/dev/null | head -1)" ] &&
        reason+=", no .aof file written"
      echo "#   $s appendfsync=$mode n/a: $reason"
    fi
    stop $s "${PORT[$s]}"
  done
done

echo "# commands used (PORT: a free loopback port; dirs under $work, removed on exit;"
echo "#   $work/redoubt-server is a copy of $server_bin)"
for c in "${cmds[@]}"; do echo "  $c"; done

if [ $cross_fail = 1 ]; then exit 1; fi
if [ $load_fail = 1 ]; then exit 1; fi
exit 0
