#!/usr/bin/env bash
# Quick quality check of split (formerly the DIVIML_SPLIT_BENCH test driver): split vs the best
# baseline and the certified bound on RandWire WS/ER/BA (seed 1) and, optionally, real models.
#   bench/split_bench.sh [DIVIML_BINARY]   env: LIMIT (30), PLATFORM (paper-node), MODELS ("")
set -euo pipefail
BIN=${1:-build/diviml}
LIMIT=${LIMIT:-30}
PLATFORM=${PLATFORM:-paper-node}
DATA=$(cd "$(dirname "$0")/../tests/data" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
graphs=()
for kind in ws er ba; do
  "$BIN" generate randwire --graph "$kind" --seed 1 -o "$TMP/randwire_$kind.json" > /dev/null
  graphs+=("$TMP/randwire_$kind.json")
done
for m in ${MODELS:-}; do graphs+=("$DATA/$m.onnx"); done
for g in "${graphs[@]}"; do
  "$BIN" compare "$g" --platform "$PLATFORM" --methods heft,peft,split --time-limit "$LIMIT" --quiet
done
