#!/usr/bin/env bash
# pipeline-dp timing (issue 13): inception_v3 at op granularity on six identical accelerators
# plus a CPU (bench/six_accelerators.json). Usage: bench/pipeline_dp_bench.sh [BUILD_DIR] [RUNS]
set -euo pipefail
build=${1:-build}
runs=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
model=$here/../tests/data/inception_v3.onnx
for i in $(seq "$runs"); do
  "$build/diviml" schedule "$model" --granularity op --platform "$here/six_accelerators.json" \
    --objective throughput --method pipeline-dp --time-limit 60 | head -1
done
