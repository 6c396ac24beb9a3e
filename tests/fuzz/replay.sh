#!/usr/bin/env bash
# Replay one corpus directory through a fuzz binary (replay build or libFuzzer
# build: -runs=0 makes libFuzzer run the corpus once and exit).
set -euo pipefail
bin="$1"
corpus="$2"
if [[ -d "$corpus" ]]; then
  exec "$bin" -runs=0 "$corpus"
fi
echo "replay: no corpus at $corpus (nothing to replay)"
exec "$bin" -runs=0
