#!/usr/bin/env bash
# Draws the model against real Xen (docs/simulation.md, "Calibration against real Xen"): the
# real-Xen lab guest's samples (tests/fixtures/calibration/real-pv-pressure-v2.txt) and the
# policy bench's trace of the same guest and workload (lab-guest.yaml), balloon target, MemTotal
# and Committed_AS over the seconds since the agent started; and the guest with a disk
# (real-pv-file-cache.txt, lab-guest-file-cache.yaml): balloon target, Active(file),
# Inactive(file) and the PSI some stall. Needs a built tree and gnuplot (gnuplot-nox).
#   scripts/plot-calibration.sh [BUILD_DIR] [OUT.png] [FILE_CACHE_OUT.png]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-docs/images/calibration-lab-guest.png}
out_fc=${3:-docs/images/calibration-lab-guest-file-cache.png}
fixtures=tests/fixtures/calibration
command -v gnuplot >/dev/null || { echo "plot-calibration: gnuplot is not installed (gnuplot-nox)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# model_columns SCENARIO OUT COLUMN...: pressure-v2's trace of SCENARIO, the second and the
# given trace columns (xenballoon/sim/trace.h, counted from 1 with scenario,policy,guest) in OUT.
model_columns() {
  local scenario=$1 out=$2; shift 2
  "$build/tools/sim/xenballoon-policy-bench" --scenario "$fixtures/$scenario" \
    --policy pressure-v2 --trace "$tmp/trace.csv" >/dev/null 2>&1
  awk -F, -v cols="$*" 'BEGIN { n = split(cols, c, " ") }
    $2 == "pressure-v2" { line = $4; for (i = 1; i <= n; i++) line = line " " $c[i]; print line }' \
    "$tmp/trace.csv" > "$out"
}
model_columns lab-guest.yaml "$tmp/model.txt" 17 5 6
gnuplot <<GP
set terminal pngcairo size 900,480 font ",10"
set output '$out'
set title 'lab guest (PV, memory/target 256 MiB), shipped pressure-v2: real Xen and the model'
set xlabel 'seconds since the agent started'
set ylabel 'MiB'
set key top right
set grid
plot '$fixtures/real-pv-pressure-v2.txt' using 1:(\$2/1024) with linespoints pt 7 ps 0.5 lc rgb '#d62728' title 'target\_kb, real', \
     '$tmp/model.txt' using 1:(\$2/1024) with lines lw 2 lc rgb '#1f77b4' title 'target, model', \
     '$fixtures/real-pv-pressure-v2.txt' using 1:(\$4/1024) with linespoints pt 6 ps 0.5 lc rgb '#ff7f0e' title 'MemTotal, real', \
     '$tmp/model.txt' using 1:(\$3/1024) with lines lc rgb '#17becf' title 'MemTotal, model', \
     '$fixtures/real-pv-pressure-v2.txt' using 1:(\$5/1024) with linespoints pt 5 ps 0.4 lc rgb '#2ca02c' title 'Committed\_AS, real', \
     '$tmp/model.txt' using 1:(\$4/1024) with lines lc rgb '#98df8a' title 'Committed\_AS, model'
GP

model_columns lab-guest-file-cache.yaml "$tmp/model-fc.txt" 17 7 8 11
gnuplot <<GP
set terminal pngcairo size 900,640 font ",10"
set output '$out_fc'
set multiplot layout 2,1 title 'lab guest with a disk: 48 MiB hot set from 21 s, a 160 MiB read-once stream from 42 s; real Xen and the model'
set lmargin 10
set grid
set key top right
set ylabel 'MiB'
plot '$fixtures/real-pv-file-cache.txt' using 1:(\$3/1024) with linespoints pt 7 ps 0.5 lc rgb '#d62728' title 'target\_kb, real', \
     '$tmp/model-fc.txt' using 1:(\$2/1024) with lines lw 2 lc rgb '#1f77b4' title 'target, model', \
     '$fixtures/real-pv-file-cache.txt' using 1:(\$6/1024) with linespoints pt 6 ps 0.5 lc rgb '#ff7f0e' title 'Active(file), real', \
     '$tmp/model-fc.txt' using 1:(\$3/1024) with lines lc rgb '#17becf' title 'Active(file), model', \
     '$fixtures/real-pv-file-cache.txt' using 1:(\$7/1024) with linespoints pt 5 ps 0.4 lc rgb '#2ca02c' title 'Inactive(file), real', \
     '$tmp/model-fc.txt' using 1:(\$4/1024) with lines lc rgb '#98df8a' title 'Inactive(file), model'
set xlabel 'seconds since the agent started'
set ylabel 'PSI some, ms'
set key top left
plot '$fixtures/real-pv-file-cache.txt' using 1:(\$11/1000) with linespoints pt 7 ps 0.5 lc rgb '#d62728' title 'stall, real', \
     '$tmp/model-fc.txt' using 1:(\$5/1000) with lines lw 2 lc rgb '#1f77b4' title 'stall, model'
unset multiplot
GP
echo "plot-calibration: wrote $out and $out_fc"
