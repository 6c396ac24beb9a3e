#!/usr/bin/env bash
# utils/check-format.sh: every tracked C/C++ file is formatted as .clang-format says.
#
#   utils/check-format.sh          check (clang-format-14 --dry-run --Werror); lists the files
#                                  that would change; exit 1 if any would
#   utils/check-format.sh --fix    reformat those files in place (review with `git diff`)
#   utils/check-format.sh FILE...  check (or --fix) only the named files
#
# Scope: `git ls-files` *.c *.h *.cc under server/ tls/ sandbox/ tests/ bench/. A file whose
# first three lines say GENERATED (server/core/command_meta_data.c, written by
# utils/gen_command_meta.py) is skipped: fix its generator instead. Tracked files missing
# from the work tree (a move in progress) are skipped too.
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
cd "$ROOT"
CLANG_FORMAT="${CLANG_FORMAT:-clang-format-14}"   # pinned: another version formats differently

fix=0
files=()
while (($#)); do
  case "$1" in
    --fix) fix=1 ;;
    -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) echo "check-format: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) files+=("$1") ;;
  esac
  shift
done

# clang-format-14 comes from Debian's clang-format-14 package.
if ! command -v "$CLANG_FORMAT" >/dev/null; then
  if ((EUID == 0)) && command -v apt-get >/dev/null; then
    echo "check-format: installing clang-format-14 (apt-get)" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-format-14 >&2
  else
    echo "check-format: $CLANG_FORMAT not found; as root run: apt-get install -y clang-format-14" >&2
    exit 2
  fi
fi
[[ -f .clang-format ]] || { echo "check-format: no .clang-format at $ROOT" >&2; exit 2; }

if ((${#files[@]} == 0)); then
  while IFS= read -r -d '' f; do
    files+=("$f")
  done < <(git ls-files -z -- \
    'server/*.c' 'server/*.h' 'server/*.cc' 'tls/*.c' 'tls/*.h' 'tls/*.cc' \
    'sandbox/*.c' 'sandbox/*.h' 'sandbox/*.cc' 'tests/*.c' 'tests/*.h' 'tests/*.cc' \
    'bench/*.c' 'bench/*.h' 'bench/*.cc')
fi
checked=()
skipped=0
for f in "${files[@]}"; do
  [[ -f "$f" ]] || continue
  if head -n 3 "$f" | grep -q 'GENERATED'; then
    skipped=$((skipped + 1))
    continue
  fi
  checked+=("$f")
done
((${#checked[@]})) || { echo "check-format: no file to check" >&2; exit 2; }

# One dry run over all files: each violation is reported as "FILE:LINE:COL: error: ...".
# clang-format exits non-zero on a violation; that is the normal "found some" case here.
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
# Any other failure (a bad .clang-format, an unreadable file) is an error of the check itself.
rc=0
"$CLANG_FORMAT" --style=file --dry-run --Werror "${checked[@]}" 2>"$report" || rc=$?
if ((rc != 0)) && ! grep -q 'clang-format-violations' "$report"; then
  echo "check-format: $CLANG_FORMAT failed (exit $rc):" >&2
  cat "$report" >&2
  exit 2
fi
# Offending files with their number of violations, most first.
mapfile -t bad < <(grep -o '^[^:]*:[0-9]*:[0-9]*: error: code should be clang-formatted' "$report" |
  cut -d: -f1 | sort | uniq -c | sort -rn | awk '{print $2 " (" $1 " places)"}')

if ((${#bad[@]} == 0)); then
  echo "format: ${#checked[@]} files formatted as .clang-format says ($skipped generated skipped)"
  exit 0
fi
if ((fix)); then
  names=()
  for entry in "${bad[@]}"; do names+=("${entry%% (*}"); done
  # clang-format is not always idempotent in one pass (a re-wrapped line can move an
  # alignment); a second pass settles it. Then check again.
  "$CLANG_FORMAT" --style=file -i "${names[@]}"
  "$CLANG_FORMAT" --style=file -i "${names[@]}"
  echo "format: reformatted ${#names[@]} files; review with git diff"
  "$CLANG_FORMAT" --style=file --dry-run --Werror "${names[@]}" 2>/dev/null || {
    echo "format: some files still differ after two passes; run --fix again" >&2
    exit 1
  }
  exit 0
fi
printf '  %s\n' "${bad[@]}"
echo "format: ${#bad[@]} of ${#checked[@]} files would change; run utils/check-format.sh --fix"
exit 1
