#!/usr/bin/env bash
# The demo's Alertmanager: scripts/demo.sh hands this to xenballoon-sim as --alertmanager-bin. It
# is Debian's prometheus-alertmanager with the arguments the simulator gives it, but with the
# project's example configuration (config/alertmanager/alertmanager.yml: routes by severity,
# grouping per host and guest, inhibitions) in place of the simulator's. Its receivers lose their
# webhooks (nothing listens for them in the demo): alerts show in the web UI, routed and grouped
# as they would be, and no notification is attempted.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
example="$top/config/alertmanager/alertmanager.yml"
args=() config=""
for arg in "$@"; do
  case "$arg" in
    --config.file=*) config=${arg#*=} ;;
    *) args+=("$arg") ;;
  esac
done
[[ -n $config ]] || { echo "demo-alertmanager: no --config.file given" >&2; exit 2; }
demo="$(dirname "$config")/alertmanager-demo.yml"
{
  echo "# Written by scripts/demo-alertmanager.sh from config/alertmanager/alertmanager.yml:"
  echo "# its routes and inhibitions, its receivers without their webhooks."
  sed -n '1,/^receivers:/p' "$example"
  grep -E '^  - name: ' "$example"
} >"$demo"
binary=$(command -v prometheus-alertmanager || command -v alertmanager)
exec "$binary" "${args[@]}" --config.file="$demo"
