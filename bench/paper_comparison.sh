#!/usr/bin/env bash
# Reproduces the paper's latency comparison (issue 5, docs/split.md): on paper-node, for the fused
# real models and RandWire WS/ER/BA networks (32 nodes x 3 stages, several seeds), the latency of
# the fastest single device, HEFT, CPOP, PEFT, the full MILP and split, with solve times, the
# lower bound and the gap. Not a test: writes one JSON per instance and prints a summary table.
#
#   bench/paper_comparison.sh [DIVIML_BINARY] [OUT_DIR]
#   env: PLATFORM (paper-node), MILP_LIMIT (600), SPLIT_LIMIT (60), THREADS (1), SEEDS ("1 2 3"),
#        MODELS (the seven fused models), RANDWIRE ("ws er ba"), METHODS (override the method list),
#        BOUND_MILP (seconds of per-module MILP bounds in `diviml bound`, 60)
#   e.g. MILP_LIMIT=60 SEEDS=1 bench/paper_comparison.sh build/diviml results/
set -euo pipefail
BIN=${1:-build/diviml}
OUT=${2:-bench-results}
PLATFORM=${PLATFORM:-paper-node}
MILP_LIMIT=${MILP_LIMIT:-600}
SPLIT_LIMIT=${SPLIT_LIMIT:-60}
THREADS=${THREADS:-1}
SEEDS=${SEEDS:-"1 2 3"}
BOUND_MILP=${BOUND_MILP:-60}
MODELS=${MODELS:-"resnet50 googlenet inception_v3 mobilenet_v2 squeezenet1_0 transformer_encoder6 gpt2_small"}
RANDWIRE=${RANDWIRE:-"ws er ba"}
METHODS=${METHODS:-"fastest-device,heft,cpop,peft,split,milp"}
DATA=$(cd "$(dirname "$0")/../tests/data" && pwd)
mkdir -p "$OUT"

run_one() {  # label graph-file
  local label=$1 graph=$2
  echo "== $label" >&2
  # split and milp get their own limits: run them separately so --time-limit applies to each.
  local others=${METHODS//,split/}
  others=${others//,milp/}
  "$BIN" compare "$graph" --platform "$PLATFORM" --methods "$others" --threads "$THREADS" --quiet \
    --json "$OUT/$label.baselines.json" > "$OUT/$label.baselines.txt"
  if [[ ",$METHODS," == *",split,"* ]]; then
    "$BIN" compare "$graph" --platform "$PLATFORM" --methods split --time-limit "$SPLIT_LIMIT" \
      --threads "$THREADS" --quiet --json "$OUT/$label.split.json" > "$OUT/$label.split.txt"
  fi
  if [[ ",$METHODS," == *",milp,"* ]]; then
    "$BIN" compare "$graph" --platform "$PLATFORM" --methods milp --time-limit "$MILP_LIMIT" \
      --threads "$THREADS" --quiet --json "$OUT/$label.milp.json" > "$OUT/$label.milp.txt"
  fi
  "$BIN" bound "$graph" --platform "$PLATFORM" --milp-time "$BOUND_MILP" --json > "$OUT/$label.bound.json"
}

for m in $MODELS; do
  run_one "$m" "$DATA/$m.onnx"
done
for kind in $RANDWIRE; do
  for s in $SEEDS; do
    g="$OUT/randwire_${kind}_s$s.json"
    "$BIN" generate randwire --graph "$kind" --nodes 32 --stages 3 --seed "$s" -o "$g" > /dev/null
    run_one "randwire_${kind}_s$s" "$g"
  done
done

# Summary: one line per instance and method (latency, lower bound, gap, solve time), the best
# bound from `diviml bound` and split's improvement over the best list scheduler.
python3 - "$OUT" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
labels = sorted({os.path.basename(p).split('.')[0] for p in glob.glob(os.path.join(out, '*.baselines.json'))})
print(f"{'instance':<26} {'method':<15} {'latency_s':>12} {'solve_s':>9} {'LB_s':>12} {'gap%':>7}")
for lab in labels:
    rows = []
    for part in ('baselines', 'split', 'milp'):
        p = os.path.join(out, f'{lab}.{part}.json')
        if os.path.exists(p):
            rows += json.load(open(p))['rows']
    lb = None
    bp = os.path.join(out, f'{lab}.bound.json')
    if os.path.exists(bp):
        lb = json.load(open(bp))['lower_bound_s']
    for r in rows:
        best_lb = max(lb or 0, r.get('lower_bound_s') or 0)
        gap = 100 * (r['makespan_s'] - best_lb) / best_lb if best_lb > 0 else float('nan')
        print(f"{lab:<26} {r['method']:<15} {r['makespan_s']:>12.6g} {r['solve_seconds']:>9.2f} {best_lb:>12.6g} {gap:>7.1f}")
    lists = [r['makespan_s'] for r in rows if r['method'] in ('heft', 'cpop', 'peft')]
    split = [r['makespan_s'] for r in rows if r['method'] == 'split']
    milp = [r for r in rows if r['method'] == 'milp']
    if lists and split:
        print(f"{'':<26} split vs best list scheduler: {100 * (1 - split[0] / min(lists)):+.1f}%")
    if milp and split:
        print(f"{'':<26} split vs milp: latency {100 * (split[0] / milp[0]['makespan_s'] - 1):+.2f}%, "
              f"milp status {milp[0]['status']}, speed-up "
              f"{milp[0]['solve_seconds'] / max(1e-9, [r for r in rows if r['method']=='split'][0]['solve_seconds']):.0f}x")
PY
