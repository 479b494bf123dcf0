#!/usr/bin/env bash
# Installs every Debian 12 package diviml needs to build, test and benchmark, and the npm packages of runtime/.
# A no-op when all are present; uses sudo only when not root.
set -euo pipefail
packages=(g++ cmake make pkg-config coinor-libcbc-dev libigraph-dev libonnx-dev libprotobuf-dev
  protobuf-compiler nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libgtest-dev
  libgmock-dev libbenchmark-dev glpk-utils python3-onnx python3-numpy clang-14 libclang-rt-14-dev
  python3-dev python3-pybind11 pybind11-dev python3-pytest)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# ONNX Runtime for runtime/ (diviml run / profile). --ignore-scripts: the package's install script
# would download CUDA binaries; its CPU build is inside the package. Node.js 20 comes with the machine.
runtime_dir="$(cd "$(dirname "$0")/.." && pwd)/runtime"
if [ ! -d "$runtime_dir/node_modules/onnxruntime-node" ]; then
  command -v npm >/dev/null || { echo "install-deps: npm (Node.js >= 18) is needed for runtime/" >&2; exit 1; }
  echo "install-deps: installing onnxruntime-node in runtime/"
  (cd "$runtime_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
