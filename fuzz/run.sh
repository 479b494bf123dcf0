#!/usr/bin/env bash
# Runs every libFuzzer harness of build-fuzz/ for SECONDS each (`make fuzz FUZZ_SECONDS=...`),
# niced, seeded from the seed corpus; a crash or a sanitizer report stops that harness and leaves
# the input in build-fuzz/artifacts/<harness>/ (turn it into a regression input under
# fuzz/regressions/<harness>/). Hangs: libFuzzer's -timeout is 10 s because a niced sanitizer
# build on a shared machine runs 10-50x slower than release; every timeout artifact is then
# re-timed with the release replay driver (build/fuzz/fuzz_replay_<harness>, when built), and
# one over 1 s there is a hang. Prints executions and coverage per harness.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build-fuzz}"
seconds="${2:-60}"
shift 2 || true
harnesses=("$@")
[ ${#harnesses[@]} -eq 0 ] && harnesses=(onnx graph_json platform_json stg profile_csv schedule_json)
declare -A seeds=(
  [onnx]="$root/tests/data/opsets/transformer23.onnx $root/tests/data/opsets/ops21.onnx $root/tests/data/opsets/functions18.onnx $root/tests/data/resnet18.onnx $root/tests/data/squeezenet1_0.onnx $root/tests/data/opsets/vgg16.opset21.onnx"
  [graph_json]="$root/fuzz/corpus/graph_json/*"
  [platform_json]="$root/platforms/*.json"
  [stg]="$root/fuzz/corpus/stg/*"
  [profile_csv]="$root/fuzz/corpus/profile_csv/*"
  [schedule_json]="$root/fuzz/corpus/schedule_json/*")
status=0
for h in "${harnesses[@]}"; do
  corpus="$build/corpus/$h"
  artifacts="$build/artifacts/$h"
  mkdir -p "$corpus" "$artifacts"
  for f in ${seeds[$h]}; do [ -f "$f" ] && cp -n "$f" "$corpus/" 2>/dev/null; done
  for f in "$root"/fuzz/regressions/"$h"/*; do [ -f "$f" ] && cp -n "$f" "$corpus/"; done
  log="$build/fuzz_$h.log"
  start=$SECONDS
  nice -n 19 "$build/fuzz/fuzz_$h" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2560 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  echo "fuzz_$h: exit $rc, ${execs:-?} executions in $((SECONDS - start)) s (budget ${seconds} s), coverage ${cov:-?} edges, ${ft:-?} features, corpus $(ls "$corpus" | wc -l) inputs, artifacts $(ls "$artifacts" | wc -l)"
  [ $rc -ne 0 ] && status=1
  replay="$root/build/fuzz/fuzz_replay_$h"
  for t in "$artifacts"/timeout-*; do
    [ -f "$t" ] && [ -x "$replay" ] && echo "  release re-time of $(basename "$t"): $("$replay" "$t")"
  done
done
exit $status
