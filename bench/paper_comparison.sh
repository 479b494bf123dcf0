#!/usr/bin/env bash
# Reproduces the paper's latency comparison (issue 5, docs/split.md): on paper-node, for the fused
# real models and RandWire WS/ER/BA networks (32 nodes x 3 stages, several seeds), the latency of
# the fastest single device, HEFT, CPOP, PEFT, anneal, the full MILP, split and the exact series
# DP (series-dp: the proven optimum where every module is proven), with solve times, the lower
# bound and the gap. Not a test: writes one JSON per instance and method and prints a
# summary table (bench/paper_summary.py, which can also merge result folders from other runs).
#
#   bench/paper_comparison.sh [DIVIML_BINARY] [OUT_DIR]
#   env: PLATFORM (paper-node), MILP_LIMIT (600), SPLIT_LIMIT (60), ANNEAL_LIMIT (60),
#        SERIES_LIMIT (120), THREADS (1),
#        SEEDS ("1 2 3"), MODELS (the seven fused models), RANDWIRE ("ws er ba"; "" for none),
#        METHODS (fastest-device,heft,cpop,peft,anneal,split,milp,series-dp,bound; any subset),
#        REPORTED_BOUND (1; 0 passes --no-bound to every compare except series-dp's, whose
#        bound is the series DP itself: saves recomputing it in each process),
#        BOUND_MILP (seconds of per-module MILP bounds in `diviml bound`, 60),
#        JOBS (instances run at the same time, 1: use it only with as many idle cores as
#        JOBS x THREADS, or the times are not comparable)
#   e.g. MILP_LIMIT=60 SEEDS=1 bench/paper_comparison.sh build/diviml results/
# The full MILP's progress (incumbent every 2 s) goes to OUT/LABEL.milp.log: the summary reads the
# time at which the MILP first matched split's latency from it.
set -euo pipefail
BIN=${1:-build/diviml}
OUT=${2:-bench-results}
export PLATFORM=${PLATFORM:-paper-node}
export MILP_LIMIT=${MILP_LIMIT:-600}
export SPLIT_LIMIT=${SPLIT_LIMIT:-60}
export ANNEAL_LIMIT=${ANNEAL_LIMIT:-60}
export SERIES_LIMIT=${SERIES_LIMIT:-120}
export REPORTED_BOUND=${REPORTED_BOUND:-1}
export THREADS=${THREADS:-1}
export BOUND_MILP=${BOUND_MILP:-60}
SEEDS=${SEEDS:-"1 2 3"}
MODELS=${MODELS:-"resnet50 googlenet inception_v3 mobilenet_v2 squeezenet1_0 transformer_encoder6 gpt2_small"}
RANDWIRE=${RANDWIRE-"ws er ba"}  # RANDWIRE="" runs none
export METHODS=${METHODS:-"fastest-device,heft,cpop,peft,anneal,split,milp,series-dp,bound"}
JOBS=${JOBS:-1}
DATA=$(cd "$(dirname "$0")/../tests/data" && pwd)
mkdir -p "$OUT"
export BIN OUT

run_one() {  # label graph-file
  local label=$1 graph=$2
  echo "== $label" >&2
  local has=",$METHODS,"
  local nb=()
  [[ $REPORTED_BOUND == 0 ]] && nb=(--no-bound)
  local lists=""
  for m in fastest-device heft cpop peft; do
    [[ $has == *",$m,"* ]] && lists+="${lists:+,}$m"
  done
  if [[ -n $lists ]]; then
    "$BIN" compare "$graph" --platform "$PLATFORM" --methods "$lists" --threads "$THREADS" --quiet "${nb[@]}" \
      --json "$OUT/$label.baselines.json" > "$OUT/$label.baselines.txt"
  fi
  # anneal, split and milp get their own limits: run separately so --time-limit applies to each.
  if [[ $has == *",anneal,"* ]]; then
    "$BIN" compare "$graph" --platform "$PLATFORM" --methods anneal --time-limit "$ANNEAL_LIMIT" \
      --threads "$THREADS" --quiet "${nb[@]}" --json "$OUT/$label.anneal.json" > "$OUT/$label.anneal.txt"
  fi
  if [[ $has == *",split,"* ]]; then
    "$BIN" compare "$graph" --platform "$PLATFORM" --methods split --time-limit "$SPLIT_LIMIT" \
      --threads "$THREADS" --quiet "${nb[@]}" --json "$OUT/$label.split.json" > "$OUT/$label.split.txt"
  fi
  if [[ $has == *",milp,"* ]]; then
    "$BIN" compare "$graph" --platform "$PLATFORM" --methods milp --time-limit "$MILP_LIMIT" \
      --threads "$THREADS" "${nb[@]}" --json "$OUT/$label.milp.json" > "$OUT/$label.milp.txt" 2> "$OUT/$label.milp.log"
  fi
  if [[ $has == *",series-dp,"* ]]; then
    /usr/bin/time -f "%e %U %S" -o "$OUT/$label.series-dp.time" \
      "$BIN" compare "$graph" --platform "$PLATFORM" --methods series-dp --time-limit "$SERIES_LIMIT" \
      --threads "$THREADS" --quiet --json "$OUT/$label.series-dp.json" > "$OUT/$label.series-dp.txt"
  fi
  if [[ $has == *",bound,"* ]]; then
    "$BIN" bound "$graph" --platform "$PLATFORM" --milp-time "$BOUND_MILP" --json > "$OUT/$label.bound.json"
  fi
}
export -f run_one

jobs_list=()
for m in $MODELS; do
  jobs_list+=("$m $DATA/$m.onnx")
done
for kind in $RANDWIRE; do
  for s in $SEEDS; do
    g="$OUT/randwire_${kind}_s$s.json"
    "$BIN" generate randwire --graph "$kind" --nodes 32 --stages 3 --seed "$s" -o "$g" > /dev/null
    jobs_list+=("randwire_${kind}_s$s $g")
  done
done
printf '%s\n' "${jobs_list[@]}" | xargs -P "$JOBS" -L 1 bash -c 'run_one "$0" "$1"'

python3 "$(dirname "$0")/paper_summary.py" "$OUT"
