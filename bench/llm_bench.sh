#!/usr/bin/env bash
# Benchmark of the LLM planner (issue 7, docs/llm.md): 13B- and 70B-class decoders (LLaMA-13B,
# LLaMA-2-70B presets of `diviml generate llm`) on llm-cluster-{1,2,4,8,16}: solve time,
# throughput and latency of `llm-symmetric` against the uniform layer split, the same pipeline
# family solved flat (every server solved separately, no symmetry) and, up to 12 devices, the
# general contiguous pipeline DP (`pipeline-dp`); smallest GPU memory headroom; layers per server.
# Prefill (seq 2048, batch 1) and decode (kv 2048, batch 16). Not a test: prints tables.
#
#   bench/llm_bench.sh [BUILD_DIR] [PHASES] [MODELS] [SERVERS]
#   e.g. bench/llm_bench.sh build "prefill decode" "13b 70b" "1 2 4 8 16"
#
# The figures come from the planner library through the disabled gtest LlmBench.DISABLED_Clusters
# (tests/test_llm.cpp). When the `diviml` binary knows the throughput method llm-symmetric, the
# script also times the end-to-end CLI on the 16-server 70B plan (generation + planning + the
# pipelined simulation and JSON report).
set -euo pipefail
BUILD=${1:-build}
PHASES=${2:-"prefill decode"}
MODELS=${3:-"13b 70b"}
SERVERS=${4:-"1 2 4 8 16"}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

for phase in $PHASES; do
  echo "== phase $phase =="
  LLM_BENCH_PHASE=$phase LLM_BENCH_MODELS=$MODELS LLM_BENCH_SERVERS=$SERVERS \
    "$BUILD/diviml_tests" --gtest_also_run_disabled_tests --gtest_filter='LlmBench.DISABLED_Clusters' 2>&1 |
    grep -v '^\[\|^Running main\|^Note: Google Test' || true
done

BIN="$BUILD/diviml"
if [ -x "$BIN" ] && "$BIN" schedule --help 2>/dev/null | grep -q . &&
   "$BIN" generate llm --preset 70b --seq 2048 -o "$WORK/g70.json" > /dev/null 2>&1; then
  for m in llm-symmetric uniform-layers; do
    t0=$(date +%s.%N)
    if line=$("$BIN" schedule "$WORK/g70.json" --platform llm-cluster-16 --objective throughput --method $m \
                --quiet -o "$WORK/s.json" 2>&1 | head -3); then
      t1=$(date +%s.%N)
      printf 'CLI 70b prefill, llm-cluster-16, %-15s %6.2fs end to end\n  %s\n' "$m" "$(echo "$t1 - $t0" | bc)" "$line"
    else
      echo "CLI: method $m not available yet ($line)"
    fi
  done
fi
