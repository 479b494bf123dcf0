#!/usr/bin/env bash
# Series DP (docs/split.md section 4a): per model and platform, the latency `series-dp` reaches,
# its status (optimal = proven), wall and CPU seconds, and for comparison the closed-form bound
# (`bound --cheap`) and the best baseline. Not a test: on a shared machine quote CPU seconds
# (user+sys) beside wall seconds.
#   bench/series_dp_bench.sh [DIVIML_BINARY]
#   env: PLATFORMS ("paper-node modern-node"), MODELS (the seven fused models), LIMIT (120)
set -euo pipefail
BIN=${1:-build/diviml}
PLATFORMS=${PLATFORMS:-"paper-node modern-node"}
MODELS=${MODELS:-"googlenet inception_v3 resnet50 mobilenet_v2 squeezenet1_0 transformer_encoder6 gpt2_small"}
LIMIT=${LIMIT:-120}
DATA=$(cd "$(dirname "$0")/../tests/data" && pwd)
printf "%-22s %-12s %-10s %12s %12s %12s %9s %9s\n" model platform status latency_us bound_us cheap_lb_us wall_s cpu_s
for p in $PLATFORMS; do
  for m in $MODELS; do
    out=$( { /usr/bin/time -f "TIME %e %U %S" "$BIN" schedule "$DATA/$m.onnx" --platform "$p" --method series-dp \
             --time-limit "$LIMIT" --no-bound --out /tmp/series_dp_$$.json > /dev/null; } 2>&1 | grep '^TIME' || true)
    read -r _ wall user sys <<< "$out"
    status=$(python3 -c "import json;d=json.load(open('/tmp/series_dp_$$.json'));print(d['status'])")
    lat=$(python3 -c "import json;d=json.load(open('/tmp/series_dp_$$.json'));print('%.2f'%(d['makespan_s']*1e6))")
    lb=$(python3 -c "import json;d=json.load(open('/tmp/series_dp_$$.json'));print('%.2f'%(d['lower_bound_s']*1e6))")
    cheap=$("$BIN" bound "$DATA/$m.onnx" --platform "$p" --cheap --json | python3 -c "import json,sys;print('%.2f'%(json.load(sys.stdin)['lower_bound_s']*1e6))")
    cpu=$(python3 -c "print('%.2f'%($user+$sys))")
    printf "%-22s %-12s %-10s %12s %12s %12s %9s %9s\n" "$m" "$p" "$status" "$lat" "$lb" "$cheap" "$wall" "$cpu"
  done
done
rm -f /tmp/series_dp_$$.json
