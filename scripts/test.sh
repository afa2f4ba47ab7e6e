#!/usr/bin/env bash
# Runs every test: installs what is missing, builds a normal tree (build/) and an
# AddressSanitizer + UndefinedBehaviorSanitizer tree (build-asan/), and runs ctest in both.
# Run once, in the normal tree: the real-Xen scenarios (label real-xen, QEMU), the dashboard checks
# (label dashboards: Python, npm and chromium, no C++ of ours) and the alert checks (label alerts:
# promtool, amtool, and a live Prometheus + Alertmanager run whose C++ is the test's own).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

scripts/install-deps.sh test

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DXENBALLOON_SANITIZE=ON >/dev/null
cmake --build build -j "$jobs"
cmake --build build-asan -j "$jobs"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

rc=0
echo "== ctest: build/ =="
ctest --test-dir build --output-on-failure -j "$jobs" || rc=1
echo "== ctest: build-asan/ (sanitizers) =="
ctest --test-dir build-asan --output-on-failure -j "$jobs" -LE 'real-xen|dashboards|alerts' || rc=1
exit $rc
