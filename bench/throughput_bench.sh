#!/usr/bin/env bash
# Throughput benchmark of issue 6 (not run by the tests): on paper-node, every throughput method
# (fastest single device, pure data parallelism, contiguous pipeline, HEFT as a pipeline,
# time-limited MILP, split) on the shared real models and RandWire graphs, with solve times,
# bound and gap. Writes one compare JSON per model under $OUT and prints the tables.
#
#   bench/throughput_bench.sh [BUILD_DIR] [TIME_LIMIT_S] [OUT_DIR]
#
# The ratio to report per model is `speedup` of milp/split: throughput over the fastest single
# device. docs/throughput.md explains where it comes from (data vs model parallelism).
set -euo pipefail
BUILD=${1:-build}
LIMIT=${2:-60}
OUT=${3:-bench/results/throughput}
BIN="$BUILD/diviml"
DATA="$(dirname "$0")/../tests/data"
mkdir -p "$OUT"
[ -x "$BIN" ] || { echo "no diviml binary at $BIN (build first)" >&2; exit 1; }

MODELS=(resnet18 resnet50 vgg16 googlenet inception_v3 mobilenet_v2 squeezenet1_0 transformer_encoder6 gpt2_small randwire_ws)
for m in "${MODELS[@]}"; do
  f="$DATA/$m.onnx"
  [ -f "$f" ] || continue
  echo "== $m"
  "$BIN" compare "$f" --platform paper-node --objective throughput --replicas auto \
    --time-limit "$LIMIT" -q --json "$OUT/$m.json" || echo "   ($m failed)"
done

# Generated RandWire graphs (the splitting issue's workloads), when the generator is present.
for n in 32 64; do
  g="$OUT/randwire_$n.json"
  if "$BIN" generate randwire --nodes "$n" --seed 1 -o "$g" >/dev/null 2>&1; then
    echo "== randwire_$n"
    "$BIN" compare "$g" --platform paper-node --objective throughput --replicas auto \
      --time-limit "$LIMIT" -q --json "$OUT/randwire_$n.compare.json" || echo "   (randwire_$n failed)"
  fi
done

# Op-level GPT-2 (794 ops): the scale the split method is for.
echo "== gpt2_small (op granularity)"
"$BIN" compare "$DATA/gpt2_small.onnx" --granularity op --platform paper-node --objective throughput \
  --replicas auto --methods fastest-device,data-parallel,pipeline-dp,split --time-limit "$LIMIT" -q \
  --json "$OUT/gpt2_small_op.json" || echo "   (gpt2_small op failed)"
