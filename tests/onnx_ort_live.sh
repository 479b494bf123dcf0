#!/usr/bin/env bash
# ctest onnx_ort_live: runs ONNX Runtime 1.30 (runtime/node_modules/onnxruntime-node) now on the
# opset fixtures whose weights stay small, records every node output's shape, and checks that
# diviml infers the same (OnnxOpsets.ShapesMatchOnnxRuntime on this run's shapes).
# Usage: tests/onnx_ort_live.sh DIVIML_TESTS_BINARY
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tests_bin="$1"
command -v node >/dev/null || { echo "onnx_ort_live: node (Node.js >= 18) is needed" >&2; exit 1; }
[ -d "$root/runtime/node_modules/onnxruntime-node" ] || { echo "onnx_ort_live: run scripts/install-deps.sh (onnxruntime-node)" >&2; exit 1; }
/usr/bin/python3 -c "import onnx, numpy" || { echo "onnx_ort_live: python3-onnx and python3-numpy are needed" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fixtures=(transformer23 ops21 functions18 squeezenet1_0.opset18 squeezenet1_0.opset21 resnet18.opset21
  mobilenet_v2.opset18 transformer_encoder6.opset21)
echo "{" > "$tmp/shapes.json"
first=1
for f in "${fixtures[@]}"; do
  src="$root/tests/data/opsets/$f.onnx"
  /usr/bin/python3 "$root/scripts/make_onnx_fixtures.py" prepare "$src" "$tmp/model.onnx" > "$tmp/inputs.json"
  shapes="$(node "$root/tests/onnx_ort_shapes.js" "$tmp/model.onnx" "$tmp/inputs.json")"
  [ $first -eq 1 ] || echo "," >> "$tmp/shapes.json"
  first=0
  printf '"%s.onnx": %s\n' "$f" "$shapes" >> "$tmp/shapes.json"
  echo "onnx_ort_live: ONNX Runtime ran $f"
done
echo "}" >> "$tmp/shapes.json"
DIVIML_ORT_SHAPES="$tmp/shapes.json" "$tests_bin" --gtest_filter='OnnxOpsets.ShapesMatchOnnxRuntime'
