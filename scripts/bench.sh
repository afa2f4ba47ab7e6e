#!/usr/bin/env bash
# Builds an optimised tree (build-bench/) and runs every benchmark, printing their tables.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j "$(nproc)"
for bench in build-bench/bench/*_bench; do
  echo "== $(basename "$bench") =="
  "$bench"
  echo
done
