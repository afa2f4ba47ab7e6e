#!/usr/bin/env bash
# The main job. Runs the simulated Xen host (xenballoon-sim) with its default scenario: guests
# with real xenballoond agents, the real xenballoon-exporter, Prometheus and Alertmanager, until
# Ctrl-C or --duration. Extra arguments go to `xenballoon-sim run` (docs/demo.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh demo
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# The simulator and what it runs (xenstored-lite, xenballoond, xenballoon-exporter), and the
# monitor it points to; the tests are not needed for the demo.
cmake --build build -j "$(nproc)" --target xenballoon-sim xenballoon-monitor
exec build/tools/sim/xenballoon-sim run "$@"
