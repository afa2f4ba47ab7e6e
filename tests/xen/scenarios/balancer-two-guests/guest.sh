#!/bin/sh
# balancer-two-guests, guest part (the lab guest, the busy one): xenballoond selfballooning as in
# agent-selfballoon; when dom0 says bt-work, a workload (xb-memhog) that needs more than the
# initial 256 MiB: the balancer in dom0 must raise memory/target (and, through libxl, max_pages)
# so that the balloon can grow past 256 MiB, without an OOM kill. samples.log (an artifact) has
# the figures once a second.
. /xbtest/lib.sh
. /xbtest/agent-lib.sh
HOG_MIB=216
lo_up
OOM0=$(vmstat oom_kill)
xb_log "memory/target=$(xenstore-read memory/target) target_kb=$(tkb) current_kb=$(ckb) MemTotal=$(meminfo MemTotal) oom_kill=$OOM0"
xb_wait bt-go 1 120 || { xb_fail go "dom0 never said bt-go"; exit 1; }
write_config /tmp/bt.yaml "policy: pressure" "selfballoon: true" "interval_seconds: 1" \
    "publish_interval_seconds: 1" "minmem_mib: 0" "uphysteresis: 1" "downhysteresis: 2" \
    "on_exit: dom0-target" "pressure.reserve_mib: 64" "pressure.burst_window_seconds: 5" \
    "pressure.shrink_cooldown_seconds: 5" "pressure.growth_headroom_mib: 32"
phase idle
start_sampler
start_agent /tmp/bt.yaml
xb_wait bt-work 1 60 || xb_log "no bt-work from dom0 within 60 s: working anyway"
phase work
t_work=$(xb_now)
xb-memhog $HOG_MIB 8 1000 8 "$HOG_STATE" > /tmp/hog.log 2>&1 &
HPID=$!
maxmt=0
held() {
    _m=$(meminfo MemTotal); [ "$_m" -gt "$maxmt" ] && maxmt=$_m
    read -r _h _ 2>/dev/null < "$HOG_STATE"; [ "${_h:-0}" = $HOG_MIB ]
}
wait_until 90 held
xb_log "workload at ${HOG_MIB} MiB after $(awk "BEGIN{print $(xb_now)-$t_work}") s: target_kb=$(tkb) current_kb=$(ckb) MemTotal=$(meminfo MemTotal) Committed_AS=$(meminfo Committed_AS) memory/target=$(xenstore-read memory/target)"
xb_signal bt-held 1
sleep 4
held
xb_check grew-past-initial "MemTotal max $maxmt kB (> 262144: past the initial 256 MiB), now target_kb=$(tkb) current_kb=$(ckb) memory/target=$(xenstore-read memory/target)" \
    test "$maxmt" -gt 262144
wait "$HPID"; hrc=$?
xb_log "workload: $(tr '\n' ' ' < /tmp/hog.log | sed 's/xb-memhog: //g' | cut -c1-300)"
oom=$(vmstat oom_kill)
xb_check no-oom-kill "xb-memhog rc=$hrc, oom_kill $OOM0 -> $oom" test "$hrc" = 0 -a "$oom" = "$OOM0"
xb_signal bt-hog-done 1
phase after
xb_wait bt-stop 1 200 || xb_log "no bt-stop from dom0"
phase stop
stop_agent; rc=$ARC
stop_sampler
xb_check sigterm-exit "xenballoond exit $rc; target_kb=$(tkb) memory/target=$(xenstore-read memory/target)" [ "$rc" = 0 ]
# (the agent's whole debug log is long for the serial line: its warnings and the samples only)
grep -E '(warning|error)' "$AGENT_LOG" | head -n 20 | while IFS= read -r l; do xb_log "agent: $l"; done
xb_artifact "$XB_SCENARIO-samples.log" "$SAMPLES"
exit 0
