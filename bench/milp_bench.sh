#!/usr/bin/env bash
# Benchmark of the exact latency MILP (issue 4, docs/milp.md): RandWire stages of 8/16/24/32
# nodes and fused resnet18 / googlenet on paper-node; model size (from export-milp), time to
# optimality or the gap at the time limit. Not a test: prints one line per instance.
#
#   bench/milp_bench.sh [DIVIML_BINARY] [TIME_LIMIT_S] [THREADS] [SEEDS]
#   e.g. bench/milp_bench.sh build/diviml 60 2 "1 2 3"
set -euo pipefail
BIN=${1:-build/diviml}
LIMIT=${2:-60}
THREADS=${3:-2}
SEEDS=${4:-1}
PLATFORM=${PLATFORM:-paper-node}
DATA=$(cd "$(dirname "$0")/../tests/data" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

run_one() {  # label graph-file
  local label=$1 graph=$2
  local t0 t1 t2 line notes
  t0=$(date +%s.%N)
  "$BIN" export-milp "$graph" --platform "$PLATFORM" -o "$WORK/m.lp" > /dev/null
  t1=$(date +%s.%N)
  line=$("$BIN" schedule "$graph" --platform "$PLATFORM" --method milp --time-limit "$LIMIT" \
           --threads "$THREADS" --quiet -o "$WORK/s.json" | head -1)
  t2=$(date +%s.%N)
  # "cbc: V variables, R constraints, N nodes; warm start ..." (Schedule::notes)
  notes=$(grep -o 'cbc: [0-9]* variables, [0-9]* constraints, [0-9]* nodes' "$WORK/s.json" || true)
  printf '%-26s build+export %6.2fs  solve %7.1fs  %s\n    %s\n' "$label" \
    "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" "$notes" "$line"
}

for n in 8 16 24 32; do
  for s in $SEEDS; do
    g="$WORK/rw$n-$s.json"
    "$BIN" generate randwire --nodes "$n" --stages 1 --seed "$s" -o "$g" > /dev/null
    run_one "randwire-ws n=$n seed=$s" "$g"
  done
done
for m in resnet18 googlenet; do
  run_one "$m (fused)" "$DATA/$m.onnx"
done
