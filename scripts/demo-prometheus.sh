#!/usr/bin/env bash
# The demo's Prometheus: scripts/demo.sh hands this to xenballoon-sim as --prometheus-bin. It is
# Debian's prometheus with the arguments the simulator gives it, plus the console pages of
# config/prometheus/consoles/ (the fleet, a guest, every dashboard's panels) on Debian's console
# libraries, so that the demo shows graphs without Grafana (docs/dashboards.md).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
libraries=/usr/share/doc/prometheus/examples/console_libraries
exec prometheus "$@" \
  --web.console.templates="$top/config/prometheus/consoles" \
  --web.console.libraries="$libraries"
