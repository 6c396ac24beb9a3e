#!/bin/bash
# check-layers.sh: the layering rules of tls/ and sandbox/ that the build must keep
# (issue 12 item 3), checked with `bazel query`. One line per check, "PASS: ..." or
# "FAIL: ..." (./runtest counts them); exit status 1 if any check failed.
#
#  1. The handshaker's code (//tls:handshaker: the code that runs inside the sandbox)
#     depends on nothing under //server.
#  2. //sandbox/... depends on nothing under //server or //tls; //sandbox:ipc and
#     //sandbox:spawn not on BoringSSL either.
#  3. //tls/... and //sandbox/... depend on no //server target but the header-only
#     //server:core_headers (the bottom layers: ae, conn, sds; paths fixed at the
#     server/ restructuring).
#  4. Private headers (every target in //tls or //sandbox whose hdrs hold an internal*.h)
#     are visible only inside their package and to the white-box tests (//tests/unit,
#     //tests/fuzz), and no other package depends on them.
cd "$(dirname "$0")/.." || exit 2

failed=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failed=1; }
query() { bazel query --noshow_progress "$@" 2>/dev/null; }

# 1
deps=$(query 'deps(//tls:handshaker)') || { fail "bazel query deps(//tls:handshaker) failed"; deps=""; }
if [[ -n "$deps" ]]; then
  bad=$(grep '^//server' <<<"$deps" | grep -v '\.\(c\|cc\|h\)$')
  if [[ -n "$bad" ]]; then
    fail "//tls:handshaker depends on server code: $(tr '\n' ' ' <<<"$bad")"
  else
    rules=$(query 'kind(rule, deps(//tls:handshaker))' | grep '^//' | tr '\n' ' ')
    pass "//tls:handshaker depends on no //server target (workspace rules: ${rules% })"
  fi
fi

# 2
deps=$(query 'deps(//sandbox/...)') || { fail "bazel query deps(//sandbox/...) failed"; deps=""; }
bad=$(grep -E '^//(server|tls)' <<<"$deps")
if [[ -n "$bad" ]]; then
  fail "//sandbox depends on //server or //tls: $(tr '\n' ' ' <<<"$bad")"
else
  pass "//sandbox/... depends on no //server or //tls target"
fi
for t in //sandbox:ipc //sandbox:spawn; do
  bad=$(query "deps($t)" | grep -E '^(@boringssl|//server|//tls)')
  if [[ -n "$bad" ]]; then
    fail "$t depends on $(tr '\n' ' ' <<<"$bad")"
  else
    pass "$t depends on no BoringSSL, //server or //tls target"
  fi
done

# 3
bad=$(query 'kind(rule, deps(//tls/... + //sandbox/..., 1)) intersect //server/...' |
      grep -v '^//server:core_headers$')
if [[ -n "$bad" ]]; then
  fail "//tls or //sandbox depends directly on $(tr '\n' ' ' <<<"$bad") (only //server:core_headers allowed)"
else
  pass "//tls and //sandbox use only //server:core_headers from //server"
fi

# 4
private=$(query 'attr(hdrs, "internal[^/]*\.h", //tls/... + //sandbox/...)')
if [[ -z "$private" ]]; then
  fail "no private-header target found in //tls or //sandbox (query broken?)"
fi
for t in $private; do
  pkg=${t%%:*}
  vis=$(query --output=build "$t" | sed -n 's/^ *visibility = \[\(.*\)\],$/\1/p' | tr -d '" ' | tr ',' '\n')
  bad=$(grep -v -x -e "$pkg:__pkg__" -e "//tests/unit:__pkg__" -e "//tests/fuzz:__pkg__" <<<"$vis" | grep -v '^$')
  users=$(query "rdeps(//..., $t, 1) except ($pkg:* + //tests/unit:* + //tests/fuzz:*)")
  if [[ -n "$bad" ]]; then
    fail "$t (private headers) is visible to: $(tr '\n' ' ' <<<"$bad")"
  elif [[ -n "$users" ]]; then
    fail "$t (private headers) is used by: $(tr '\n' ' ' <<<"$users")"
  else
    pass "$t (private headers) is visible only inside $pkg and to //tests/unit, //tests/fuzz"
  fi
done

exit $failed
