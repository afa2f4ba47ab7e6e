#!/usr/bin/env bash
# The soak benchmark (docs/soak.md; a benchmark, never part of ctest): builds an optimised tree and
# runs xenballoon-soak under `nice -n 10`, which keeps each daemon busy for minutes while sampling
# its RSS, open descriptors and CPU time and counting failed scrapes and errors. Prints a table per
# run and writes the samples to <build dir>/soak/samples-<UTC time>.csv. Exits non-zero when a run
# is not flat or counted a failure.
#
# Usage: scripts/soak.sh [--minutes M] [--together] [--build-dir DIR] [exporter|agent|balancer]...
#   --minutes M      length of each run (default 10; the first minute is a warm-up)
#   --together       run the soaks at the same time instead of one after another
#   --build-dir DIR  the tree to build and run from (default build-soak; configured Release)
# The number of build jobs is $JOBS (default: every core).
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=10
build=build-soak
args=()
while (($#)); do
  case "$1" in
    --minutes) minutes="${2:?--minutes needs a value}"; shift 2 ;;
    --minutes=*) minutes="${1#*=}"; shift ;;
    --build-dir) build="${2:?--build-dir needs a value}"; shift 2 ;;
    --build-dir=*) build="${1#*=}"; shift ;;
    --together) args+=(--together); shift ;;
    exporter|agent|balancer) args+=("$1"); shift ;;
    -h|--help) sed -n '2,13s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "soak.sh: unknown argument \"$1\" (see --help)" >&2; exit 2 ;;
  esac
done

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
fi
cmake --build "$build" -j "${JOBS:-$(nproc)}" --target xenballoon-soak

mkdir -p "$build/soak"
csv="$build/soak/samples-$(date -u +%Y%m%dT%H%M%SZ).csv"
echo "soak: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), samples in $csv"
nice -n 10 "$build/bench/soak/xenballoon-soak" --minutes "$minutes" --csv "$csv" "${args[@]}"
