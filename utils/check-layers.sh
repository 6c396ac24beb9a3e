#!/usr/bin/env bash
# utils/check-layers.sh: enforce the layer order of utils/layers.txt (issue 12).
#
#   utils/check-layers.sh               all checks; prints the package graph; exit 1 on a violation
#   utils/check-layers.sh --dot         the same checks, but the graph is printed as Graphviz
#                                       (pipe to `dot -Tsvg`); messages go to stderr
#   utils/check-layers.sh --no-objects  skip the .d check (for a tree that is not built yet)
#
# Checks, in order (the rules themselves are explained at the top of utils/layers.txt):
#   1. every Bazel package under the top folders used in layers.txt (server/, tls/, sandbox/)
#      is listed there, and every listed package exists;
#   2. every dependency edge between two listed packages points down (same rank: only if
#      `allow`ed; upward: only if listed as `debt`, and every `debt` line still matches an edge);
#   3. each `forbid FROM => TO` rule: no target of FROM reaches a target of TO;
#   4. no object compiled from a server/ package included an OpenSSL/BoringSSL header: grep of
#      Bazel's .d files (bazel-out/<config>/bin/server/**/_objs/<target>/*.d, every config). Run
#      it after a build; if no server/ .d file exists the check fails (nothing was checked);
#   4b. every quoted #include between listed packages points down the ranks (sources, so an
#      upward include is caught even by an unsandboxed build that would compile it);
#   5. an informational compile probe: can a server/ source reach <openssl/ssl.h> with the
#      include path a server/ library gets when it depends on nothing that carries OpenSSL?
#
# Bazel invocations: one `bazel query` for the graph, one per `forbid` rule, one `bazel info`.
# They are cheap while the Bazel server runs. Run from anywhere inside the repository.
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
cd "$ROOT"
LAYERS_FILE="utils/layers.txt"
BAZEL="${BAZEL:-bazel}"

want_dot=0 want_objects=1
while (($#)); do
  case "$1" in
    --dot) want_dot=1 ;;
    --no-objects) want_objects=0 ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "check-layers: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# With --dot, stdout carries only the Graphviz text; everything else goes to stderr.
if ((want_dot)); then exec 3>&1 1>&2; else exec 3>&1; fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "$*"; failures=$((failures + 1)); }

# bazel_q <output file> <bazel args...>: run bazel quietly; on error show its stderr and stop.
bazel_q() {
  local out="$1"
  shift
  if ! "$BAZEL" "$@" >"$out" 2>"$TMP/bazel.err"; then
    echo "check-layers: '$BAZEL $*' failed:" >&2
    cat "$TMP/bazel.err" >&2
    exit 1
  fi
}

# ------------------------------------------------------------------ 1. read utils/layers.txt
declare -A RANK=()      # package path -> rank
declare -A ALLOW=()     # "pkgA pkgB" -> 1 (same-rank edge allowed)
declare -A DEBT=()      # "//a:x //b:y" -> 0 (listed upward edge; 1 once seen)
declare -A TOP=()       # top folders of listed packages (server, tls, sandbox)
FORBID=()               # "FROM_QUERY\tTO_QUERY"
rank=0
lineno=0
while IFS= read -r line || [[ -n "$line" ]]; do
  lineno=$((lineno + 1))
  line="${line%%#*}"                                   # strip comment
  line="$(sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' <<<"$line")"
  [[ -z "$line" ]] && continue
  bad() { echo "check-layers: $LAYERS_FILE:$lineno: $*" >&2; exit 2; }
  case "$line" in
    allow\ *)
      [[ "$line" =~ ^allow[[:space:]]+([^[:space:]]+)[[:space:]]*-\>[[:space:]]*([^[:space:]]+)$ ]] ||
        bad "expected: allow PKG_A -> PKG_B"
      ALLOW["${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"]=1 ;;
    debt\ *)
      [[ "$line" =~ ^debt[[:space:]]+(//[^[:space:]]+)[[:space:]]*-\>[[:space:]]*(//[^[:space:]]+)$ ]] ||
        bad "expected: debt //a:x -> //b:y"
      DEBT["${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"]=0 ;;
    forbid\ *)
      [[ "$line" =~ ^forbid[[:space:]]+(.+[^[:space:]])[[:space:]]*=\>[[:space:]]*(.+)$ ]] ||
        bad "expected: forbid FROM_QUERY => TO_QUERY"
      FORBID+=("${BASH_REMATCH[1]}"$'\t'"${BASH_REMATCH[2]}") ;;
    *)
      for pkg in $line; do
        [[ "$pkg" =~ ^[A-Za-z0-9_][A-Za-z0-9_/.-]*$ && "$pkg" != */ ]] ||
          bad "'$pkg' is not a package path (write server/ds, not //server/ds)"
        [[ -z "${RANK[$pkg]+x}" ]] || bad "package $pkg is listed twice"
        RANK[$pkg]=$rank
        TOP[${pkg%%/*}]=1
      done
      rank=$((rank + 1)) ;;
  esac
done <"$LAYERS_FILE"
((${#RANK[@]})) || { echo "check-layers: $LAYERS_FILE lists no package" >&2; exit 2; }
for pair in "${!ALLOW[@]}"; do
  read -r a b <<<"$pair"
  [[ -n "${RANK[$a]+x}" && -n "${RANK[$b]+x}" && "${RANK[$a]}" == "${RANK[$b]}" ]] ||
    { echo "check-layers: 'allow $a -> $b': both must be listed packages of the same rank" >&2; exit 2; }
done

# pkg_of <label> <var>: sets var to the package path of a main-repository label, or to ""
# for an external one (@boringssl//:ssl). No subshell: it runs once per edge.
pkg_of() {
  local -n _pkg="$2"
  case "$1" in
    //*) _pkg="${1#//}"; _pkg="${_pkg%%:*}" ;;
    *) _pkg="" ;;
  esac
}

# ------------------------------------------------------------------ 2. the dependency graph
# One query: every rule under the top folders with its direct dependencies, as Graphviz edges.
universe=""
for top in $(printf '%s\n' "${!TOP[@]}" | sort); do
  universe+="${universe:+ + }//$top/..."
done
bazel_q "$TMP/graph" query --noshow_progress --noimplicit_deps --nograph:factored \
  --output=graph "deps(kind(rule, $universe), 1)"
# Lines look like:  "//server:core" -> "//server/base:base"   (or a lone "//x:y" node line)
sed -n 's/^ *"\([^"]*\)" -> "\([^"]*\)"$/\1 \2/p' "$TMP/graph" | sort -u >"$TMP/edges"
sed -n 's/^ *"\([^"]*\)"$/\1/p' "$TMP/graph" | sort -u >"$TMP/nodes"
[[ -s "$TMP/edges" ]] || { echo "check-layers: the query returned no edge; see $LAYERS_FILE" >&2; exit 1; }

# 1. Every package under a top folder is listed; every listed package exists.
declare -A SEEN_PKG=()
while read -r label; do
  pkg_of "$label" pkg
  [[ -n "$pkg" && -n "${TOP[${pkg%%/*}]+x}" ]] || continue
  SEEN_PKG[$pkg]=1
done < <(cat "$TMP/nodes"; cut -d' ' -f1 "$TMP/edges")
for pkg in $(printf '%s\n' "${!SEEN_PKG[@]}" | sort); do
  [[ -n "${RANK[$pkg]+x}" ]] ||
    fail "LAYER VIOLATION: package $pkg is not listed in $LAYERS_FILE (add it at its rank)"
done
for pkg in $(printf '%s\n' "${!RANK[@]}" | sort); do
  [[ -n "${SEEN_PKG[$pkg]+x}" ]] ||
    fail "LAYER VIOLATION: $LAYERS_FILE lists $pkg, but Bazel has no rule in that package"
done

# 2. Rank every edge between two listed, different packages.
declare -A PKG_EDGE=()    # "pkgA pkgB" -> "ok" | "debt" (refused but listed) | "bad" (violation)
target_edges=0
while read -r from to; do
  pkg_of "$from" pf
  pkg_of "$to" pt
  [[ -n "$pf" && -n "$pt" && "$pf" != "$pt" ]] || continue
  [[ -n "${RANK[$pf]+x}" && -n "${RANK[$pt]+x}" ]] || continue
  rf="${RANK[$pf]}" rt="${RANK[$pt]}"
  target_edges=$((target_edges + 1))
  if ((rt < rf)) || { ((rt == rf)) && [[ -n "${ALLOW["$pf $pt"]+x}" ]]; }; then
    PKG_EDGE["$pf $pt"]="${PKG_EDGE["$pf $pt"]:-ok}"
  elif [[ -n "${DEBT["$from $to"]+x}" ]]; then
    DEBT["$from $to"]=1
    [[ "${PKG_EDGE["$pf $pt"]:-}" == bad ]] || PKG_EDGE["$pf $pt"]=debt
    echo "layer debt (listed in $LAYERS_FILE): $from (rank $rf) -> $to (rank $rt)"
  elif ((rt == rf)); then
    PKG_EDGE["$pf $pt"]=bad
    fail "LAYER VIOLATION: $from (rank $rf) -> $to (rank $rt): same rank, not allowed in $LAYERS_FILE"
  else
    PKG_EDGE["$pf $pt"]=bad
    fail "LAYER VIOLATION: $from (rank $rf) -> $to (rank $rt)"
  fi
done <"$TMP/edges"
for pair in $(printf '%s\n' "${!DEBT[@]}" | tr ' ' '|' | sort); do
  [[ "${DEBT[${pair/|/ }]}" == 1 ]] ||
    fail "LAYER VIOLATION: 'debt ${pair/|/ -> }' matches no edge any more: delete the line"
done

# 3. forbid rules: FROM targets that reach TO, with one path each.
for rule in "${FORBID[@]}"; do
  from_q="${rule%%$'\t'*}" to_q="${rule#*$'\t'}"
  bazel_q "$TMP/forbid" query --noshow_progress \
    "let f = $from_q in \$f intersect rdeps(\$f, $to_q)"
  while read -r offender; do
    [[ -n "$offender" ]] || continue
    fail "LAYER VIOLATION: $offender reaches $to_q (forbid $from_q => $to_q); one path:"
    bazel_q "$TMP/path" query --noshow_progress "somepath($offender, $to_q)"
    sed 's/^/    /' "$TMP/path"
  done <"$TMP/forbid"
done

# ------------------------------------------------------------------ 4. OpenSSL headers in .d files
server_pkgs=()
for pkg in "${!RANK[@]}"; do
  [[ "$pkg" == server || "$pkg" == server/* ]] && server_pkgs+=("$pkg")
done
if ((want_objects && ${#server_pkgs[@]})); then
  bazel_q "$TMP/out" info output_path
  out_path="$(cat "$TMP/out")"
  # Each config (k8-fastbuild, k8-fastbuild-asan, ...) has its own tree; check all of them.
  find "$out_path"/*/bin/server -path '*/_objs/*' -name '*.d' -print 2>/dev/null |
    sort >"$TMP/dfiles" || true
  ndfiles="$(wc -l <"$TMP/dfiles")"
  if ((ndfiles == 0)); then
    fail "OPENSSL CHECK: no .d file under $out_path/*/bin/server: nothing was built, nothing checked (bazel build //server first)"
  else
    # Every listed server/ package with C sources must have been compiled in some config.
    for pkg in $(printf '%s\n' "${server_pkgs[@]}" | sort); do
      compgen -G "$pkg/*.c" >/dev/null || compgen -G "$pkg/*.cc" >/dev/null || continue
      grep -q "/bin/$pkg/_objs/[^/]*/[^/]*\.d$" "$TMP/dfiles" ||
        fail "OPENSSL CHECK: no .d file for package $pkg: build it first (bazel build //$pkg:all)"
    done
    offenders=0
    while read -r dfile; do
      if grep -q 'openssl/' "$dfile"; then
        fail "OPENSSL VIOLATION: ${dfile#"$out_path"/} includes $(grep -o '[^ ]*openssl/[^ ]*' "$dfile" | head -1)"
        offenders=$((offenders + 1))
      fi
    done <"$TMP/dfiles"
    ((offenders)) ||
      echo "openssl: $ndfiles .d files of server/ objects checked, no OpenSSL header included"
  fi
fi

# ------------------------------------------------------------------ 4b. includes point down too
# The Bazel graph rules the targets; this rules the sources, so that an upward #include is
# caught even where a build would not stop it (a local, unsandboxed build sees every header on
# disk). Every quoted include of a tracked C/C++ file in a listed package that names a file of
# another listed package must point down the ranks (or across an allowed same-rank pair).
rank_spec=""
for pkg in "${!RANK[@]}"; do rank_spec+="$pkg=${RANK[$pkg]} "; done
allow_spec=""
for pair in "${!ALLOW[@]}"; do allow_spec+="${pair/ />} "; done
if ! RANKS="$rank_spec" ALLOWS="$allow_spec" /usr/bin/python3 - "$LAYERS_FILE" <<'PY'
import os, re, subprocess, sys
ranks = dict(kv.split("=") for kv in os.environ["RANKS"].split())
allows = set(tuple(p.split(">")) for p in os.environ["ALLOWS"].split())
tops = {p.split("/")[0] for p in ranks}
def pkg_of(path):
    d = os.path.dirname(path)
    while d:
        if d in ranks:
            return d
        d = os.path.dirname(d)
    return None
files = subprocess.run(["git", "ls-files", *sorted(tops)], capture_output=True, text=True,
                       check=True).stdout.split()
bad = checked = 0
for f in files:
    if not re.search(r"\.(c|cc|h)$", f) or not os.path.exists(f):
        continue
    fp = pkg_of(f)
    if fp is None:
        continue
    for n, line in enumerate(open(f, errors="replace"), 1):
        m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
        if not m or not os.path.exists(m.group(1)):
            continue
        hp = pkg_of(m.group(1))
        if hp is None or hp == fp:
            continue
        checked += 1
        rf, rh = int(ranks[fp]), int(ranks[hp])
        if rh < rf or (rh == rf and (fp, hp) in allows):
            continue
        print(f"INCLUDE VIOLATION: {f}:{n} ({fp}, rank {rf}) includes {m.group(1)} "
              f"({hp}, rank {rh})")
        bad += 1
if bad:
    sys.exit(1)
print(f"includes: {checked} includes across packages checked, all point down")
PY
then
  fail "INCLUDE CHECK: an #include points up the ranks (see above)"
fi

# ------------------------------------------------------------------ 5. compile probe (informational)
# A server/ library that depends on nothing carrying OpenSSL is compiled with `-iquote .` (the
# workspace) plus the compiler's default system directories; Bazel adds -isystem paths only
# for deps that declare `includes` (as @boringssl does). So the probe is a plain compile with
# that include path. If it finds the header, the include path alone does not keep OpenSSL out
# (Debian's libssl-dev puts it in /usr/include) and the .d grep above is what enforces the rule.
if command -v "${CC:-cc}" >/dev/null; then
  printf '#include <openssl/ssl.h>\n' >"$TMP/probe.c"
  "${CC:-cc}" -M -iquote . "$TMP/probe.c" >"$TMP/probe.M" 2>/dev/null || true
  if found="$(tr ' \\' '\n\n' <"$TMP/probe.M" | grep 'openssl/ssl\.h' | head -1)" && [[ -n "$found" ]]; then
    echo "openssl probe: a server/ source would find <openssl/ssl.h> at $found (system headers); the .d grep is the guard"
  else
    echo "openssl probe: <openssl/ssl.h> is not on a server/ library's include path"
  fi
fi

# ------------------------------------------------------------------ the layer graph
if ((want_dot)); then
  {
    echo "digraph layers {"
    echo "  node [shape=box, fontname=\"monospace\"];"
    for r in $(printf '%s\n' "${RANK[@]}" | sort -nu); do
      printf '  { rank=same;'
      for pkg in $(printf '%s\n' "${!RANK[@]}" | sort); do
        [[ "${RANK[$pkg]}" == "$r" ]] && printf ' "%s";' "$pkg"
      done
      echo " }"
    done
    for pair in $(printf '%s\n' "${!PKG_EDGE[@]}" | tr ' ' '|' | sort); do
      a="${pair%|*}" b="${pair#*|}"
      if [[ "${PKG_EDGE["$a $b"]}" == debt ]]; then
        echo "  \"$a\" -> \"$b\" [color=orange, style=dashed, label=\"debt\"];"
      elif [[ "${PKG_EDGE["$a $b"]}" == bad ]]; then
        echo "  \"$a\" -> \"$b\" [color=red, penwidth=2, label=\"VIOLATION\"];"
      else
        echo "  \"$a\" -> \"$b\";"
      fi
    done
    echo "}"
  } >&3
else
  echo "layer graph (package -> package it depends on; $target_edges target edges):"
  for pair in $(printf '%s\n' "${!PKG_EDGE[@]}" | tr ' ' '|' | sort); do
    a="${pair%|*}" b="${pair#*|}"
    case "${PKG_EDGE["$a $b"]}" in
      debt) echo "  $a -> $b  (refused edge: listed debt)" ;;
      bad) echo "  $a -> $b  (LAYER VIOLATION)" ;;
      *) echo "  $a -> $b" ;;
    esac
  done
fi

# ------------------------------------------------------------------ verdict
if ((failures)); then
  echo "layers: FAILED ($failures violation(s))"
  exit 1
fi
summary="layers: ${#RANK[@]} packages, ${#PKG_EDGE[@]} edges, no upward edge"
((${#DEBT[@]})) && summary+=" outside the ${#DEBT[@]} listed debt(s)"
echo "$summary"
