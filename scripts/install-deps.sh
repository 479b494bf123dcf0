#!/usr/bin/env bash
# Installs every Debian 12 package diviml needs to build, test and benchmark.
# A no-op when all are present; uses sudo only when not root.
set -euo pipefail
packages=(g++ cmake make pkg-config coinor-libcbc-dev libigraph-dev libonnx-dev libprotobuf-dev
  protobuf-compiler nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libgtest-dev
  libgmock-dev libbenchmark-dev glpk-utils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
