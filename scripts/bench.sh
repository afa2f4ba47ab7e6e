#!/usr/bin/env bash
# Builds an optimised tree (build-bench/) and runs every benchmark, printing their tables (the
# micro-benchmarks under bench/, then the simulated dom0 policy benchmark).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh bench
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j "$(nproc)"
for bench in build-bench/bench/*_bench; do
  echo "== $(basename "$bench") =="
  "$bench"
  echo
done
# The dom0 policies on a simulated oversubscribed host (docs/balancer.md, "Benchmark"), with the
# figures of that page: build-bench/balancer-<policy>.png (seed 0).
echo "== xenballoon-balancer-bench =="
build-bench/tools/sim/xenballoon-balancer-bench --plot build-bench/balancer
# The soak (docs/soak.md, 10 minutes per daemon) only when asked: XENBALLOON_SOAK_MINUTES=10.
if [[ -n "${XENBALLOON_SOAK_MINUTES:-}" ]]; then scripts/soak.sh --build-dir build-bench --minutes "$XENBALLOON_SOAK_MINUTES"; fi
