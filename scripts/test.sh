#!/usr/bin/env bash
# Runs every test: installs what is missing, builds a normal tree (build/, gcc) and an
# AddressSanitizer + UndefinedBehaviorSanitizer tree (build-asan/, clang, with the libFuzzer
# targets and their smoke runs: docs/fuzzing.md), and runs ctest in both.
# Run once, in the normal tree: the real-Xen scenarios (label real-xen, QEMU; last, alone), the
# dashboard checks (label dashboards: Python, npm and chromium, no C++ of ours), the alert checks
# (label alerts: promtool, amtool, and a live Prometheus + Alertmanager run whose C++ is the
# test's own) and the packaging checks (label packaging: the .deb and .rpm of the normal tree,
# installed in a debootstrap root booted with systemd).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
# Each phase says how long it took (the suite must stay well inside CI's time limit).
phase_start=$SECONDS
phase_done() {
  echo "== $1: $((SECONDS - phase_start)) s (total $SECONDS s) =="
  phase_start=$SECONDS
}

scripts/install-deps.sh test
phase_done "install-deps"

# -g1: line tables for backtraces and sanitizer reports, no variable info (about 10 % of the build).
# The micro-benchmarks build in the normal tree only (they are not tests; scripts/bench.sh runs them).
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
  >/dev/null
# The sanitizer tree is a clang tree, so that it also builds the fuzz targets (XENBALLOON_FUZZ); one
# configured with another compiler is made anew.
if [[ -f build-asan/CMakeCache.txt ]] &&
  ! grep -q '^CMAKE_CXX_COMPILER:[A-Z]*=.*clang++' build-asan/CMakeCache.txt; then
  rm -rf build-asan
fi
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DXENBALLOON_SANITIZE=ON \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DXENBALLOON_FUZZ=ON \
  -DCMAKE_C_FLAGS_DEBUG=-g1 -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DXENBALLOON_BENCHMARKS=OFF >/dev/null
cmake --build build -j "$jobs"
phase_done "build build/"

cmake --build build-asan -j "$jobs"
phase_done "build build-asan/"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Most tests wait on processes, sockets and timers rather than the CPU: three at a time on two
# cores.
ctest_jobs=$((jobs + 1))
rc=0
echo "== ctest: build/ =="
ctest --test-dir build --output-on-failure -j "$ctest_jobs" -LE real-xen || rc=1
phase_done "ctest build/"
echo "== ctest: build-asan/ (sanitizers) =="
ctest --test-dir build-asan --output-on-failure -j "$ctest_jobs" -LE 'real-xen|dashboards|alerts|packaging' || rc=1
phase_done "ctest build-asan/"

# The real-Xen scenarios last and alone: QEMU under TCG wants both cores, and beside the sanitizer
# build and tests their timing-sensitive steps (the balancer's two guests, save and restore) time
# out (tried: two of seven failed at a load of 3 to 4).
echo "== ctest: build/ real-Xen scenarios =="
ctest --test-dir build --output-on-failure -L real-xen || rc=1
phase_done "ctest build/ real-Xen scenarios"
exit $rc
