#!/usr/bin/env bash
# The deployment loop end to end on local-cpu:2 (docs/deploy.md):
#   profile -> schedule --profile (split) -> partition -> run
# per model: outputs vs the whole model, measured vs predicted latency, roofline error before and
# after calibration, measured vs predicted two-device speed-up. Prints a Markdown table.
#
#   bench/deploy_loop.sh [BUILD_DIR] [MODEL...]      (env: RUNS, WARMUP, SPLIT_TIME, OUT, PIN=0 for --no-pin,
#                                                     RT=1: profile and run under `chrt -f 1`, see below,
#                                                     TABLE_ONLY=1 OUT=DIR: the table of an earlier run)
# RT=1 gives the measuring threads real-time priority (root, or CAP_SYS_NICE): on a machine shared
# with other jobs their threads then wait for no one, which is what an idle machine would give.
# The threads block in futexes when they have nothing to do, so the rest of the machine keeps
# the cores meanwhile; the kernel's RT throttling (95%) bounds it anyway.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
shift || true
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(resnet18 googlenet inception_v3 squeezenet1_0 transformer_encoder6)
diviml=$build/diviml
runs=${RUNS:-20}
warmup=${WARMUP:-3}
split_time=${SPLIT_TIME:-20}
out=${OUT:-$(mktemp -d /tmp/diviml-deploy-XXXXXX)}
pin=()
[ "${PIN:-1}" = 1 ] || pin=(--no-pin)
prio=()
if [ "${RT:-0}" = 1 ]; then
  chrt -f 1 true 2>/dev/null || { echo "RT=1: chrt -f 1 is not permitted here" >&2; exit 2; }
  prio=(chrt -f 1)
fi
mkdir -p "$out"
echo "work dir: $out; runs $runs, warm-up $warmup; machine: $(nproc) cores, $(uptime | sed 's/.*load/load/')${prio[*]:+; under ${prio[*]}}" >&2

# One model through the loop; a failing step ends that model's row, not the table.
loop_model() {
  local m=$1 model=$here/tests/data/$1.onnx w=$out/$1
  mkdir -p "$w"
  ${prio[@]+"${prio[@]}"} "$diviml" profile "$model" --device cpu0=cpu:1 --device cpu1=cpu:1 --random-weights 1 --runs "$runs" --warmup "$warmup" ${pin[@]+"${pin[@]}"} \
    -o "$w/profile.csv" --calibrate "$w/calibrated.json" --work-dir "$w/profile" > "$w/profile.txt" 2> "$w/profile.err" || { echo "profile|$w/profile.err"; return 1; }
  # Profiled op costs on the calibrated platform (its links are the measured hand-over + cut costs).
  "$diviml" schedule "$model" --platform "$w/calibrated.json" --profile "$w/profile.csv" --method split --time-limit "$split_time" \
    -q -o "$w/schedule.json" > "$w/schedule.txt" 2>&1 || { echo "schedule|$w/schedule.txt"; return 1; }
  "$diviml" schedule "$model" --platform "$w/calibrated.json" --profile "$w/profile.csv" --method device:cpu0 -q \
    --bound-milp-time 0 -o "$w/one_device.json" > /dev/null 2>&1 || { echo "schedule device:cpu0|/dev/null"; return 1; }
  "$diviml" schedule "$model" --platform local-cpu:2 --method split --time-limit "$split_time" -q \
    -o "$w/roofline_schedule.json" > /dev/null 2>&1 || { echo "schedule (roofline)|/dev/null"; return 1; }
  "$diviml" partition "$model" --schedule "$w/schedule.json" -o "$w/plan" > "$w/partition.txt" 2>&1 || { echo "partition|$w/partition.txt"; return 1; }
  ${prio[@]+"${prio[@]}"} "$diviml" run "$w/plan" --random-weights 1 --runs "$runs" --warmup "$warmup" ${pin[@]+"${pin[@]}"} --json \
    > "$w/run.json" 2> "$w/run.err"
  echo $? > "$w/run.rc"
}

rows=()
for m in "${models[@]}"; do
  w=$out/$m
  echo "== $m" >&2
  if [ "${TABLE_ONLY:-0}" != 1 ]; then
    if ! failed=$(loop_model "$m"); then
      rows+=("| $m | ${failed%%|*} failed: $(tail -n 1 "${failed#*|}" | cut -c1-200) |")
      continue
    fi
  fi
  [ -f "$w/run.json" ] || { rows+=("| $m | not run |"); continue; }
  rc=$(cat "$w/run.rc" 2>/dev/null || echo 0)
  rows+=("$(/usr/bin/python3 - "$w" "$m" "$rc" <<'EOF'
import json, re, sys
w, m, rc = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = json.load(open(f"{w}/run.json"))
s = json.load(open(f"{w}/schedule.json"))
one = json.load(open(f"{w}/one_device.json"))
roof = json.load(open(f"{w}/roofline_schedule.json"))
prof = open(f"{w}/profile.txt").read()
def err(which):
    v = re.findall(rf"{which}\s*:.* all (\d+)%/(\d+)%", prof)
    return "/".join(f"{a}%/{b}%" for a, b in v[:1]) or "-"
pred, meas = s["makespan_s"], r["measured_latency_s"]
seg = len(r["segments"])
pred_su = one["makespan_s"] / pred
meas_su = r["whole_model_latency_s"] / meas
ms = lambda x: f"{1e3 * x:.2f}"
print(f"| {m} | {seg} | {'yes' if r['outputs_match'] and rc == 0 else 'NO'} ({r['max_rel_diff']:.1e}) | {ms(pred)} | {ms(meas)} "
      f"[{ms(r['measured_latency_spread_s']['p10'])}..{ms(r['measured_latency_spread_s']['p90'])}] | {100 * (meas / pred - 1):+.1f}% | "
      f"{ms(roof['makespan_s'])} | {err('before')} | {err('after ')} | {ms(one['makespan_s'])} | {ms(r['whole_model_latency_s'])} | "
      f"{pred_su:.2f}x | {meas_su:.2f}x | {' '.join(f'{x:.1f}' for x in r['load_average'])} |")
EOF
)")
done
echo
echo "| model | segments | outputs match (max rel diff) | predicted ms (profiled) | measured ms median [p10..p90] | measured vs predicted | roofline-predicted ms | roofline op error median/p90 before | after calibration | predicted 1-device ms | measured 1-device ms | predicted speed-up | measured speed-up | load avg (1/5/15 min) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
