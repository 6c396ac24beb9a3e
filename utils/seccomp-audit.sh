#!/usr/bin/env bash
# utils/seccomp-audit.sh: prove the seccomp allowlists (sandbox/seccomp_policy.c) against the
# TLS test suites and the handshake-storm bench (issue 17 item 6).
#
#   utils/seccomp-audit.sh [--quick] [--no-storm]
#
# A test build (--config=testhooks) started with REDOUBT_SECCOMP_AUDIT=1 installs the audit
# variant of both policies (the handshaker's and the privileged spawner's): a call the policy
# would refuse is allowed and logged by the kernel (SECCOMP_RET_LOG, an audit record type=1326
# in the kernel log) instead of killing the process. This script runs, that way,
#   - tests/integration/test_tls.py, test_tls_reload.py, test_repl_tls.py, test_privsep.py and
#     test_sandbox_attacks.py (minus the tests that make forbidden calls on purpose: in audit
#     mode those calls succeed, which those tests report as a failure, and their calls are
#     logged: they are left out), in TLS and plain mode as each test asks;
#   - bench/storm.sh (Redoubt only, 10 s of 200 new handshakes/s; skipped by --no-storm),
# samples VmPeak of every handshaker meanwhile (RLIMIT_AS is set from it, sandbox/sandbox.c),
# and lists every logged call by process (redoubt-hs, redoubt-verify, redoubt-spawner). "none"
# is the expected result. Needs root (the kernel log, test_privsep) and a kernel that logs
# SECCOMP_RET_LOG (/proc/sys/kernel/seccomp/actions_logged lists "log"). The kernel
# rate-limits these records (printk_ratelimit: 10 per 5 s); a line "callbacks suppressed" is
# reported, and a non-empty result is then a lower bound.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0 storm=1
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --no-storm) storm=0 ;;
    -h | --help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "seccomp-audit: needs root" >&2; exit 2; }
grep -qw log /proc/sys/kernel/seccomp/actions_logged ||
  { echo "seccomp-audit: the kernel does not log SECCOMP_RET_LOG" >&2; exit 2; }

bazel build --config=testhooks //server //bench:storm_load >/dev/null 2>&1 ||
  bazel build --config=testhooks //server //bench:storm_load
out="$(bazel info --config=testhooks bazel-bin 2>/dev/null)"
work="$(mktemp -d /tmp/seccomp-audit-XXXXXX)"
trap 'kill "$sampler" 2>/dev/null || true; rm -rf "$work"' EXIT
cp -f "$out/server/server" "$work/server"
cp -f "$out/bench/storm_load" "$work/storm_load"

# VmPeak of every handshaker (and verifier), sampled every 100 ms.
(
  set +e
  while true; do
    for dir in /proc/[0-9]*; do
      name="$(cat "$dir/comm" 2>/dev/null)"
      case "$name" in redoubt-hs | redoubt-verify)
        # ours only (other servers may run on this machine)
        [ "$(readlink "$dir/exe" 2>/dev/null)" = "$work/server" ] &&
          awk '/^VmPeak:/ {print $2}' "$dir/status" 2>/dev/null ;;
      esac
    done >>"$work/vmpeak"
    sleep 0.1
  done
) 2>/dev/null &
sampler=$!

marker="seccomp-audit-$$-$(date +%s)"
echo "$marker" >/dev/kmsg
export REDOUBT_SECCOMP_AUDIT=1 REDOUBT_SERVER="$work/server" REDOUBT_SERVER_TESTHOOKS="$work/server"
deselect="not forbidden_syscall"
suites=(tests/integration/test_tls.py tests/integration/test_tls_reload.py
        tests/integration/test_repl_tls.py tests/integration/test_sandbox_attacks.py)
((quick)) && suites=(tests/integration/test_tls.py)
status=0
REDOUBT_TEST_MODE=tls /usr/bin/python3 -m pytest -q -p no:cacheprovider -k "$deselect" \
  "${suites[@]}" | tail -3 || status=1
((quick)) || REDOUBT_TEST_MODE=plain /usr/bin/python3 -m pytest -q -p no:cacheprovider \
  tests/integration/test_privsep.py | tail -3 || status=1
if ((storm)); then
  if STORM_LOAD="$work/storm_load" bench/storm.sh --servers redoubt --duration 10 \
    --rate 200 --interval-ms 5 >"$work/storm.txt" 2>&1; then
    echo "storm: $(grep -c '"phase"' "$work/storm.txt") phases measured"
  else
    status=1
    tail -5 "$work/storm.txt"
  fi
fi
# Control: a call outside the policy must show up (else an empty result proves nothing).
port=$((20000 + RANDOM % 20000))
"$work/server" --port "$port" --bind 127.0.0.1 --save "" --dir "$work" \
  --tls-port $((port + 1)) --tls-cert-file "$PWD/tests/tls/server.crt" \
  --tls-key-file "$PWD/tests/tls/server.key" --tls-ca-cert-file "$PWD/tests/tls/ca.crt" \
  --enable-debug-command yes >"$work/control.log" 2>&1 &
control=$!
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$port" debug tls-handshaker-syscall ptrace >/dev/null
sleep 0.5
kill "$control"
wait "$control" || true
kill "$sampler" 2>/dev/null || true

echo "== calls outside the policies (audit records since the marker)"
dmesg | awk -v m="$marker" 'found; index($0, m) {found = 1}' >"$work/kmsg"
grep -o 'callbacks suppressed' "$work/kmsg" | sort | uniq -c || true
grep 'type=1326' "$work/kmsg" | grep 'code=0x7ffc0000' | grep -F "exe=\"$work/server\"" |
  sed -E 's/.*comm="([^"]+)".*syscall=([0-9]+).*/\1 \2/' | sort | uniq -c >"$work/calls" || true
# The control's ptrace (101) is expected; anything else is a finding.
if grep -q ' 101$' "$work/calls"; then
  echo "  (control: the handshaker's ptrace was logged, as it must be)"
  sed -i '/ 101$/d' "$work/calls"
else
  echo "  CONTROL FAILED: the deliberate ptrace was not logged: the audit sees nothing"
  status=1
fi
if [ -s "$work/calls" ]; then
  while read -r count comm nr; do
    name="$(awk -v nr="$nr" '$1 == "#define" && $3 == nr {sub("__NR_", "", $2); print $2}' \
      /usr/include/x86_64-linux-gnu/asm/unistd_64.h)"
    echo "  $comm: ${name:-syscall $nr} ($count records)"
  done <"$work/calls"
  status=1
else
  echo "  none"
fi
echo "== handshaker VmPeak (kB): max $(sort -n "$work/vmpeak" | tail -1), " \
  "median $(sort -n "$work/vmpeak" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')," \
  "samples $(wc -l <"$work/vmpeak")"
exit "$status"
