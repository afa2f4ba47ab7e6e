#!/usr/bin/env bash
# The main job. Runs the simulated Xen host (xenballoon-sim) with its default scenario: guests
# with real xenballoond agents, the real xenballoon-exporter, Prometheus and Alertmanager.
# Until Ctrl-C or --duration; extra arguments go to xenballoon-sim.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh demo
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)"
if [[ -x build/tools/sim/xenballoon-sim ]]; then
  exec build/tools/sim/xenballoon-sim run "$@"
fi
# Without the simulator: the agent alone, in dry-run on this machine's own /proc.
exec build/agent/xenballoond --dry-run --pidfile "" --config /dev/null \
  --web.listen-address 127.0.0.1:9750 "$@"
