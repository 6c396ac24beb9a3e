#!/usr/bin/env bash
# coverage.sh: line and function coverage that each fuzz target's corpus
# reaches in the parser file(s) it targets (clang-14 source-based coverage).
#
# Usage (from anywhere inside the repo):
#   tests/fuzz/coverage.sh [-t name[,name...]] [-o OUTDIR] [-j JOBS] [--no-build] [EXTRA...]
#
#   -t        only these targets (names with or without the _fuzz suffix);
#             default: every tests/fuzz/*_fuzz.c|.cc
#   -o        work/report directory (default /tmp/redoubt-fuzzcov); holds
#             <target>.profdata, report.txt (the table), html/<target>/ and
#             crashes.txt
#   -j        bazel --jobs (default: .bazelrc's)
#   --no-build  reuse the last --config=fuzzcov build
#   EXTRA     extra corpus roots, e.g. a long run's output. For each target,
#             EXTRA/<target>/corpus/ or else EXTRA/<target>/ is replayed when
#             it exists; with a single -t target, a flat EXTRA (files
#             directly inside) is replayed as is.
#
# How: `bazel build --config=fuzzcov` (see .bazelrc: clang-14,
# -fprofile-instr-generate -fcoverage-mapping, -O0, own output tree, no
# bazel-bin symlink) links every target with replay_main.c (not libFuzzer),
# so each corpus file runs exactly once. Raw profiles are merged with
# llvm-profdata-14 and summarised with llvm-cov-14 export, restricted to the
# files listed in target_files below. A crashing input does not stop the
# report: the target is replayed file by file, the crashing files are listed
# in crashes.txt and the coverage of the rest is still counted.
set -euo pipefail

# Replay of one target's whole corpus must finish within this (command_fuzz
# at -O0 with ~200 seeds takes a few seconds; a hang is a finding).
readonly COVERAGE_REPLAY_TIMEOUT_S=600
# One input replayed alone (the file-by-file fallback after a crash).
readonly COVERAGE_FILE_TIMEOUT_S=60

SELF=$(readlink -f "${BASH_SOURCE[0]}")
ROOT=$(cd "$(dirname "$SELF")/../.." && pwd)
cd "$ROOT"

out=/tmp/redoubt-fuzzcov
only=""
jobs_flag=()
build=1
extra=()
while (($#)); do
  case "$1" in
    -t) only="$2"; shift 2 ;;
    -o) out="$2"; shift 2 ;;
    -j) jobs_flag=(--jobs="$2"); shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^#/p}' "$SELF"; exit 0 ;;
    -*) echo "coverage: unknown option $1" >&2; exit 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done

# ------------------------------------------------------------------ tools
find_tool() {
  local name="$1"
  if command -v "$name-14" >/dev/null 2>&1; then
    command -v "$name-14"
  elif [[ -x "/usr/lib/llvm-14/bin/$name" ]]; then
    echo "/usr/lib/llvm-14/bin/$name"
  else
    echo "coverage: $name-14 not found (apt-get install clang-14 llvm-14)" >&2
    return 1
  fi
}
command -v clang-14 >/dev/null || { echo "coverage: clang-14 not installed" >&2; exit 1; }
PROFDATA=$(find_tool llvm-profdata)
LLVMCOV=$(find_tool llvm-cov)
PY=/usr/bin/python3
[[ -x "$PY" ]] || PY=python3

# ---------------------------------------------------------------- targets
all_targets=()
for src in tests/fuzz/*_fuzz.c tests/fuzz/*_fuzz.cc; do
  [[ -e "$src" ]] || continue
  name=$(basename "$src")
  all_targets+=("${name%.*}")
done
targets=()
if [[ -n "$only" ]]; then
  IFS=, read -r -a wanted <<<"$only"
  for w in "${wanted[@]}"; do
    [[ "$w" == *_fuzz ]] || w="${w}_fuzz"
    found=0
    for t in "${all_targets[@]}"; do [[ "$t" == "$w" ]] && found=1; done
    ((found)) || { echo "coverage: no target $w (have: ${all_targets[*]})" >&2; exit 2; }
    targets+=("$w")
  done
else
  targets=("${all_targets[@]}")
fi
((${#targets[@]})) || { echo "coverage: no fuzz targets" >&2; exit 1; }

# The parser file(s) each target is there to exercise (globs, repo-relative).
target_files() {
  case "$1" in
    resp_fuzz) echo "server/resp.c" ;;
    command_fuzz)
      echo "server/t_*.c server/server.c server/commands.c server/db.c server/db_cmds.c" \
           "server/object.c server/scan_common.c server/multi.c server/pubsub.c" \
           "server/server_cmds.c server/client_cmds.c server/config_command.c" \
           "server/slowlog.c server/notify.c server/reply.c server/acl*.c"
      ;;
    config_fuzz) echo "server/config_load.c server/config_value.c server/config.c" ;;
    ipc_request_fuzz|ipc_answer_fuzz) echo "sandbox/ipc.c" ;;
    tls_record_fuzz) echo "tls/record.c" ;;
    handback_fuzz) echo "tls/split_shim.cc" ;;
    listpack_fuzz) echo "server/listpack.c server/intset.c" ;;
    util_fuzz) echo "server/util.c server/sds.c" ;;
    acl_rules_fuzz) echo "server/acl*.c" ;;
    *)
      # Unknown (new) target: the source files its header comment names
      # (none: the report lists every non-test file the corpus reached).
      local src
      src=tests/fuzz/"$1".c
      [[ -f "$src" ]] || src=tests/fuzz/"$1".cc
      { head -40 "$src" | grep -oE '\b(server|tls|sandbox)/[A-Za-z0-9_]+\.(c|cc)\b' || true; } |
        sort -u | tr '\n' ' '
      ;;
  esac
}

# The parser functions proper inside those files (file=function-glob,...),
# for targets whose files also hold code the target cannot reach by design
# (writers, file/argv handling, rewrite): a second table reports them alone.
target_focus() {
  case "$1" in
    listpack_fuzz)
      echo "server/listpack.c=lp_validate,lp_first,lp_next,lp_prev*,lp_last,lp_length,lp_get_*,lp_entry_*,lp_decode_backlen,lp_backlen_size,lp_sign_extend,lp_read_le" \
           "server/intset.c=intset_validate,intset_get,intset_find,intset_search,intset_get_at"
      ;;
    util_fuzz)
      echo "server/util.c=string_match*,string2ll,string2d,string2ld,ll2string,ull2string,d2string,ld2string" \
           "server/sds.c=sds_split_args,sds_parse_one_arg,sds_is_hex_digit,sds_hex_digit_to_int,sds_cat_repr,sds_join,sds_free_split"
      ;;
    config_fuzz)
      echo "server/config_load.c=load_text,load_directive,finish_load,set_line_error,fatal_header,config_load_string" \
           "server/config_value.c=config_lookup,set_*,enum_*,bounds_error,config_entry_set*,config_entry_get,flags_enum_render"
      ;;
    ipc_request_fuzz|ipc_answer_fuzz) echo "sandbox/ipc.c=ipc_reader_*,ipc_parse_*,ipc_conn_id_ok" ;;
    handback_fuzz) echo "tls/split_shim.cc=*tls_shim_apply_handback*" ;;
    *) echo "" ;;
  esac
}

# ------------------------------------------------------------------ build
labels=()
for t in "${targets[@]}"; do labels+=("//tests/fuzz:$t"); done
if ((build)); then
  echo "coverage: bazel build --config=fuzzcov ${jobs_flag[*]} ${labels[*]}"
  bazel build --config=fuzzcov "${jobs_flag[@]}" "${labels[@]}"
fi
bin_dir=$(bazel info --config=fuzzcov bazel-bin 2>/dev/null)
[[ -d "$bin_dir/tests/fuzz" ]] || { echo "coverage: no build under $bin_dir" >&2; exit 1; }

# ------------------------------------------------------------------- runs
# Only ever clear a directory this script made (it holds spec.txt).
if [[ -d "$out" && -n "$(ls -A "$out")" && ! -f "$out/spec.txt" ]]; then
  echo "coverage: $out exists and is not a coverage.sh output; refusing to clear it" >&2
  exit 2
fi
rm -rf "$out"
mkdir -p "$out/raw" "$out/html" "$out/json"
: >"$out/spec.txt"
# Any instrumented process started without its own LLVM_PROFILE_FILE (a
# child with a fresh environment, a manual rerun) writes here, never a
# default.profraw into the working tree.
export LLVM_PROFILE_FILE="$out/raw/stray-%p.profraw"
: >"$out/crashes.txt"

run_one_target() {
  local t="$1" bin="$bin_dir/tests/fuzz/$1"
  local dirs=()
  [[ -d "tests/fuzz/corpus/$t" ]] && dirs+=("tests/fuzz/corpus/$t")
  local e
  for e in "${extra[@]}"; do
    if [[ -d "$e/$t/corpus" ]]; then
      dirs+=("$e/$t/corpus") # the layout of ./runtest's short libFuzzer runs
    elif [[ -d "$e/$t" ]]; then
      dirs+=("$e/$t")
    elif ((${#targets[@]} == 1)) && [[ -d "$e" ]]; then
      dirs+=("$e")
    fi
  done
  local n=0 d
  for d in "${dirs[@]}"; do n=$((n + $(find "$d" -maxdepth 1 -type f ! -name '.*' | wc -l))); done
  echo "coverage: $t: $n inputs from ${dirs[*]:-(none)}"
  ((${#dirs[@]})) || return 0
  # %p: one raw file per process (the file-by-file fallback starts many).
  if LLVM_PROFILE_FILE="$out/raw/$t-%p.profraw" timeout "$COVERAGE_REPLAY_TIMEOUT_S" \
      "$bin" "${dirs[@]}" >"$out/raw/$t.log" 2>&1; then
    return 0
  fi
  echo "coverage: $t: replay failed (see $out/raw/$t.log); replaying file by file"
  rm -f "$out/raw/$t"-*.profraw
  local f
  while IFS= read -r -d '' f; do
    if ! LLVM_PROFILE_FILE="$out/raw/$t-%p.profraw" timeout "$COVERAGE_FILE_TIMEOUT_S" \
        "$bin" "$f" >"$out/raw/one.log" 2>&1; then
      echo "$t $f" | tee -a "$out/crashes.txt"
      tail -40 "$out/raw/one.log" >>"$out/crashes.txt"
    fi
  done < <(find "${dirs[@]}" -maxdepth 1 -type f ! -name '.*' -print0 | sort -z)
}

for t in "${targets[@]}"; do
  run_one_target "$t"
  shopt -s nullglob
  raws=("$out/raw/$t"-*.profraw)
  shopt -u nullglob
  if ((${#raws[@]} == 0)); then
    echo "coverage: $t: no profile written"
    continue
  fi
  "$PROFDATA" merge -sparse -o "$out/$t.profdata" "${raws[@]}"
  rm -f "${raws[@]}"
  "$LLVMCOV" export -summary-only -instr-profile="$out/$t.profdata" \
    "$bin_dir/tests/fuzz/$t" >"$out/json/$t.json"
  focus=$(target_focus "$t")
  if [[ -n "$focus" ]]; then
    # Function ranges (full export) and per-line counts of the focus files.
    "$LLVMCOV" export -skip-expansions -instr-profile="$out/$t.profdata" \
      "$bin_dir/tests/fuzz/$t" >"$out/json/$t.full.json"
    for fs in $focus; do
      f="${fs%%=*}"
      "$LLVMCOV" show -instr-profile="$out/$t.profdata" "$bin_dir/tests/fuzz/$t" \
        "/proc/self/cwd/$f" >"$out/json/$t.${f//\//_}.lines" 2>/dev/null || true
    done
  fi
  # Annotated sources of the targeted files (clang records paths as
  # /proc/self/cwd/<file>; from the repo root that is the file itself).
  files=()
  for g in $(target_files "$t"); do
    for f in $g; do [[ -f "$f" ]] && files+=("/proc/self/cwd/$f"); done
  done
  if ((${#files[@]})); then
    "$LLVMCOV" show -format=html -show-line-counts-or-regions \
      -instr-profile="$out/$t.profdata" "$bin_dir/tests/fuzz/$t" \
      -output-dir="$out/html/$t" "${files[@]}" >/dev/null 2>&1 || true
  fi
done

# ------------------------------------------------------------------ table
spec=""
for t in "${targets[@]}"; do
  globs=$(target_files "$t")
  focus=$(target_focus "$t")
  spec+="$t:${globs// /,}:${focus// /;}"$'\n'
done
printf '%s' "$spec" >"$out/spec.txt"
"$PY" - "$out" "$out/spec.txt" >"$out/report.txt" <<'PYEOF'
import fnmatch, json, os, sys

out = sys.argv[1]
rows = []
with open(sys.argv[2]) as fp:
    spec = fp.read().splitlines()
focus_specs = []
for line in spec:
    target, globs, focus = (line.split(":") + ["", ""])[:3]
    globs = [g for g in globs.split(",") if g]
    if focus:
        focus_specs.append((target, focus))
    path = os.path.join(out, "json", target + ".json")
    if not os.path.exists(path):
        rows.append((target, "(no profile)", None, None))
        continue
    with open(path) as fp:
        data = json.load(fp)
    per_file = {}
    for f in data["data"][0]["files"]:
        name = f["filename"]
        for prefix in ("/proc/self/cwd/", os.getcwd() + "/"):
            if name.startswith(prefix):
                name = name[len(prefix):]
        per_file[name] = f["summary"]
    if globs:
        chosen = sorted(n for n in per_file if any(fnmatch.fnmatch(n, g) for g in globs))
    else:  # nothing named: every non-test file the corpus reached at all
        chosen = sorted(n for n in per_file
                        if not n.startswith("tests/") and per_file[n]["lines"]["covered"] > 0)
    tot = {"lines": [0, 0], "functions": [0, 0]}
    for n in chosen:
        s = per_file[n]
        for k in tot:
            tot[k][0] += s[k]["covered"]
            tot[k][1] += s[k]["count"]
        rows.append((target, n, (s["lines"]["covered"], s["lines"]["count"]),
                     (s["functions"]["covered"], s["functions"]["count"])))
    if not chosen:
        rows.append((target, "(no targeted file linked: %s)" % " ".join(globs), None, None))
    elif len(chosen) > 1:
        rows.append((target, "TOTAL", tuple(tot["lines"]), tuple(tot["functions"])))

def focus_report(target, focus):
    """Lines/functions of the named parser functions only (see target_focus)."""
    full = os.path.join(out, "json", target + ".full.json")
    if not os.path.exists(full):
        return []
    with open(full) as fp:
        funcs = json.load(fp)["data"][0]["functions"]
    rows = []
    for item in focus.split(";"):
        fname, _, pats = item.partition("=")
        pats = [p for p in pats.split(",") if p]
        counts = {}
        lines_path = os.path.join(out, "json", "%s.%s.lines" % (target, fname.replace("/", "_")))
        if os.path.exists(lines_path):
            with open(lines_path) as fp:
                for ln in fp:
                    parts = ln.split("|", 2)
                    if len(parts) < 3 or not parts[0].strip().isdigit():
                        continue
                    c = parts[1].strip()
                    if c:
                        counts[int(parts[0])] = c != "0"
        fcov = fcnt = 0
        seen_lines = set()
        for f in funcs:
            fn = f["filenames"][0]
            if not (fn == fname or fn.endswith("/" + fname)):
                continue
            name = f["name"].split(":")[-1]
            if not any(fnmatch.fnmatch(name, p) for p in pats):
                continue
            regs = [r for r in f["regions"] if r[5] == 0]
            if not regs:
                continue
            fcnt += 1
            fcov += 1 if f["count"] > 0 else 0
            seen_lines.update(range(min(r[0] for r in regs), max(r[2] for r in regs) + 1))
        lcnt = sum(1 for n in seen_lines if n in counts)
        lcov = sum(1 for n in seen_lines if counts.get(n))
        rows.append((target, fname + " (parser functions)", (lcov, lcnt), (fcov, fcnt)))
    return rows

focus_rows = []
for target, focus in focus_specs:
    focus_rows += focus_report(target, focus)

def cell(v):
    if v is None:
        return "-"
    cov, cnt = v
    pct = 100.0 * cov / cnt if cnt else 0.0
    return "%5.1f%% (%d/%d)" % (pct, cov, cnt)

def print_table(rows):
    head = ("target", "file", "lines", "functions")
    table = [head] + [(t, f, cell(l), cell(fn)) for t, f, l, fn in rows]
    w = [max(len(r[i]) for r in table) for i in range(4)]
    print("| " + " | ".join(h.ljust(w[i]) for i, h in enumerate(head)) + " |")
    print("|" + "|".join("-" * (w[i] + 2) for i in range(4)) + "|")
    for r in table[1:]:
        print("| " + " | ".join((r[i].ljust(w[i]) if i < 2 else r[i].rjust(w[i])) for i in range(4)) + " |")

print_table(rows)
if focus_rows:
    print()
    print("Parser functions only (files above also hold code these targets cannot reach by design):")
    print()
    print_table(focus_rows)
PYEOF
echo
cat "$out/report.txt"
echo
echo "coverage: table in $out/report.txt; annotated sources in $out/html/<target>/index.html"
if [[ -s "$out/crashes.txt" ]]; then
  echo "coverage: CRASHING INPUTS (see $out/crashes.txt):"
  grep -E '^[a-z_]+_fuzz ' "$out/crashes.txt" || true
  exit 1
fi
