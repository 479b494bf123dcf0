#!/usr/bin/env bash
# Batch splitting benchmark (issue 15, docs/batch.md): on paper-node, the latency of one request
# of B samples with the batch split into micro-batches (`schedule --batch B --micro-batches
# auto`), against the whole batch on the fastest device, with the bound over every split, the
# chosen sizes and devices, and the solve time. Then a sweep over B with the quick heft search:
# the smallest batch from which splitting beats batch-1 model parallelism (the best latency
# method on one sample). Not a test.
#
#   bench/batch_split.sh [DIVIML_BINARY] [OUT_DIR]
#   env: METHOD (anneal), LIMIT (seconds per instance, 20), PLATFORM (paper-node),
#        SWEEP ("1 2 3 4 6 8 12 16 32"; empty: skip), SWEEP_METHOD (heft), B1_METHOD (anneal)
#   The graphs are the paper comparison's (bench/paper_comparison.sh): RandWire WS/ER/BA with
#   32 nodes x 3 stages, seed 1, and the fused real models.
set -euo pipefail
BIN=${1:-build/diviml}
OUT=${2:-bench-results/batch}
METHOD=${METHOD:-anneal}
LIMIT=${LIMIT:-20}
PLATFORM=${PLATFORM:-paper-node}
SWEEP=${SWEEP-"1 2 3 4 6 8 12 16 32"}
SWEEP_METHOD=${SWEEP_METHOD:-heft}
B1_METHOD=${B1_METHOD:-anneal}
DATA=$(cd "$(dirname "$0")/../tests/data" && pwd)
mkdir -p "$OUT"

instances=()
for kind in ws er ba; do
  g="$OUT/randwire_${kind}_s1.json"
  "$BIN" generate randwire --graph "$kind" --nodes 32 --stages 3 --seed 1 -o "$g" > /dev/null
  instances+=("randwire_$kind $g 32")
done
for m in googlenet inception_v3 resnet50; do instances+=("$m $DATA/$m.onnx 32"); done
instances+=("transformer_encoder6 $DATA/transformer_encoder6.onnx 16")

: > "$OUT/labels"
for inst in "${instances[@]}"; do
  read -r label graph batch <<< "$inst"
  echo "$label" >> "$OUT/labels"
  echo "== $label batch $batch ($METHOD, ${LIMIT}s)" >&2
  /usr/bin/time -f "%e" -o "$OUT/$label.time" "$BIN" schedule "$graph" --platform "$PLATFORM" --batch "$batch" \
    --micro-batches auto --method "$METHOD" --time-limit "$LIMIT" --bound-milp-time 2 --quiet \
    -o "$OUT/$label.json" > "$OUT/$label.txt"
  if [[ -n $SWEEP ]]; then
    "$BIN" schedule "$graph" --platform "$PLATFORM" --method "$B1_METHOD" --time-limit "$LIMIT" --quiet \
      -o "$OUT/$label.b1.json" > /dev/null
    for b in $SWEEP; do
      "$BIN" schedule "$graph" --platform "$PLATFORM" --batch "$b" --micro-batches auto --method "$SWEEP_METHOD" \
        --bound-milp-time 0 --quiet -o "$OUT/$label.sweep$b.json" > /dev/null
    done
  fi
done

python3 - "$OUT" "$SWEEP" <<'PY'
import json, os, sys
out, sweep = sys.argv[1], sys.argv[2].split()
labels = open(os.path.join(out, "labels")).read().split()
load = lambda name: json.load(open(os.path.join(out, name)))
print("| model | batch | latency | fastest device | speedup | bound (as speedup) | gap | micro-batches: size (devices) | method | solve s |")
print("|---|---|---|---|---|---|---|---|---|---|")
for label in labels:
    j = load(label + ".json")
    b = j["batch"]
    devs = {}
    for o in j["ops"]:
        devs.setdefault(o["micro_batch"], set()).add(o["device"])
    parts = ", ".join(f"{s} ({'+'.join(sorted(devs[i]))})" for i, s in enumerate(b["micro_batch_sizes"]))
    secs = open(os.path.join(out, label + ".time")).read().split()[-1]
    fast = b["fastest_device_s"]
    print(f"| {label} | {b['batch']} | {j['makespan_s']*1e3:.3f} ms | {fast*1e3:.3f} ms | {b['speedup_over_fastest_device']:.2f}x "
          f"| {j['lower_bound_s']*1e3:.3f} ms ({fast/j['lower_bound_s']:.2f}x) | {100*j['gap']:.1f}% | {parts} | {j['method']} | {secs} |")
if sweep:
    print()
    print("| model | batch 1, model parallelism (speedup) | split speedup at B = " + ", ".join(sweep) + " | splitting wins from B = |")
    print("|---|---|---|---|")
    for label in labels:
        b1 = load(label + ".b1.json")
        sw = [load(f"{label}.sweep{s}.json") for s in sweep]
        fast1 = sw[0]["batch"]["fastest_device_s"] if sweep[0] == "1" else float("nan")
        s1 = fast1 / b1["makespan_s"]
        sp = [j["batch"]["speedup_over_fastest_device"] for j in sw]
        wins = next((s for s, x in zip(sweep, sp) if x > s1 * (1 + 1e-9)), "-")
        print(f"| {label} | {b1['makespan_s']*1e3:.3f} ms ({s1:.2f}x) | " + ", ".join(f"{x:.2f}x" for x in sp) + f" | {wins} |")
PY
