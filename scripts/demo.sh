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

# Prometheus serves the console pages (graphs without Grafana, docs/dashboards.md): where they
# will be, on the port the arguments choose.
port=9090 prometheus=yes
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --prometheus-port) port=${args[i + 1]:-$port} ;;
    --prometheus-port=*) port=${args[i]#*=} ;;
    --no-prometheus) prometheus=no ;;
  esac
done
consoles="http://127.0.0.1:$port/consoles"
[[ $prometheus == no ]] || cat <<BANNER
Console pages (once Prometheus is up):
  fleet         $consoles/xenballoon-fleet.html
  guest         $consoles/xenballoon-guest.html?domain=web
  dashboards    $consoles/dashboard-fleet.html   dashboard-guest.html?domain=web   dashboard-dom0.html
  all           $consoles/index.html

BANNER
# Alertmanager routes with the example configuration of config/alertmanager/ (web UI only).
exec build/tools/sim/xenballoon-sim run --prometheus-bin scripts/demo-prometheus.sh \
  --alertmanager-bin scripts/demo-alertmanager.sh "$@"
