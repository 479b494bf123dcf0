#!/usr/bin/env bash
# Issue 16 part 2: `--method bnb` on single 32-node RandWire stages (WS, ER, BA) on paper-node:
# status, latency, certified lower bound and gap after the time limit, with wall and user seconds.
# Not a test.
#   bench/exact_randwire.sh [DIVIML_BINARY]   env: KINDS ("ws er ba"), SEEDS ("1 2 3"), LIMIT (60),
#                                              NODES (32), STAGES (1), PLATFORM (paper-node)
set -euo pipefail
BIN=${1:-build/diviml}
KINDS=${KINDS:-"ws er ba"}
SEEDS=${SEEDS:-"1 2 3"}
LIMIT=${LIMIT:-60}
NODES=${NODES:-32}
STAGES=${STAGES:-1}
PLATFORM=${PLATFORM:-paper-node}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "# $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg)"
for kind in $KINDS; do
  for s in $SEEDS; do
    g="$TMP/rw_${kind}_$s.json"
    "$BIN" generate randwire --graph "$kind" --nodes "$NODES" --stages "$STAGES" --seed "$s" -o "$g" > /dev/null
    line=$(/usr/bin/time -f "%e %U" -o "$TMP/t" "$BIN" schedule "$g" --platform "$PLATFORM" --method bnb \
      --time-limit "$LIMIT" --quiet | head -1)
    read -r wall user < "$TMP/t"
    echo "randwire_${kind}_s$s: ${line#*method bnb } | ${wall} s wall ${user} s user"
  done
done
