#!/bin/sh
# agent-selfballoon, guest part: xenballoond (pressure policy) shrinks an idle
# guest to the floor, grows it back for a workload (xb-memhog) without an OOM
# kill and never above dom0's memory/target, and shrinks it again after the
# workload has freed its memory.  Then the agent with its shipped settings
# (pressure-v2): it gives memory back, and a workload that fits under dom0's
# target is not OOM-killed.  Each run reports its PSI stall and the memory it
# gave back.  samples.log (an artifact) has the figures once a second:
# target_kb, current_kb, MemTotal, Committed_AS, swap-in, ..., PSI some total
. /xbtest/lib.sh
. /xbtest/agent-lib.sh
FLOOR=172032   # the balloon driver's minimum for static-max 512 MiB: 168 MiB
lo_up
T0=$(xenstore-read memory/target)
SMAX=$(xenstore-read memory/static-max)
OOM0=$(vmstat oom_kill)
MA0=$(meminfo MemAvailable)
xb_log "memory/target=$T0 static-max=$SMAX target_kb=$(tkb) current_kb=$(ckb) MemTotal=$(meminfo MemTotal) Committed_AS=$(meminfo Committed_AS) oom_kill=$OOM0"
write_config /tmp/sb.yaml "policy: pressure" "selfballoon: true" "interval_seconds: 1" \
    "publish_interval_seconds: 1" "minmem_mib: 0" "uphysteresis: 1" "downhysteresis: 2" \
    "on_exit: dom0-target" "pressure.reserve_mib: 64" "pressure.burst_window_seconds: 5" \
    "pressure.shrink_cooldown_seconds: 5" "pressure.growth_headroom_mib: 32"
phase start
start_sampler
start_agent /tmp/sb.yaml
t_start=$(xb_now)

# 1. idle: down to the floor (Committed_AS + 16 MiB + overhead is below it)
phase shrink
at_floor() { [ "$(tkb)" -le $FLOOR ] && [ "$(ckb)" -le $((FLOOR + 1024)) ]; }
if wait_until 60 at_floor; then
    xb_pass shrink-to-floor "target_kb=$(tkb) current_kb=$(ckb) MemTotal=$(meminfo MemTotal) Committed_AS=$(meminfo Committed_AS) after $(awk "BEGIN{print $(xb_now)-$t_start}") s (floor $FLOOR)"
else
    xb_fail shrink-to-floor "target_kb=$(tkb) current_kb=$(ckb) after 60 s (floor $FLOOR)"
fi
pub=$(xenstore-read data/xenballoon/target-kb 2>&1); mode=$(xenstore-read data/xenballoon/mode 2>&1)
fl=$(xenstore-read data/xenballoon/floor-kb 2>&1)
xb_check published-floor "data/xenballoon: mode=$mode target-kb=$pub floor-kb=$fl" \
    test "$mode" = selfballoon -a "$fl" = $FLOOR
sleep 3

# 2. workload: 120 MiB in 8 MiB steps, one a second, held 8 s
phase grow
t_grow=$(xb_now)
xb-memhog 120 8 1000 8 "$HOG_STATE" > /tmp/hog.log 2>&1 &
HPID=$!
peak=0
grown() { t=$(tkb); [ "$t" -gt "$peak" ] && peak=$t; read -r h _ 2>/dev/null < "$HOG_STATE"; [ "${h:-0}" = 120 ]; }
wait_until 60 grown
xb_log "workload at 120 MiB: target_kb=$(tkb) current_kb=$(ckb) MemTotal=$(meminfo MemTotal) Committed_AS=$(meminfo Committed_AS) MemAvailable=$(meminfo MemAvailable)"
sleep 5
t=$(tkb)
if [ "$t" -ge $((FLOOR + 65536)) ] && [ "$(ckb)" -ge $((t - 2048)) ]; then
    xb_pass grew-for-workload "target_kb=$t current_kb=$(ckb) MemTotal=$(meminfo MemTotal) Committed_AS=$(meminfo Committed_AS) ($(awk "BEGIN{print $(xb_now)-$t_grow}") s after the workload started)"
else
    xb_fail grew-for-workload "target_kb=$t current_kb=$(ckb) Committed_AS=$(meminfo Committed_AS)"
fi
wait "$HPID"; hrc=$?
xb_log "workload: $(tr '\n' ' ' < /tmp/hog.log | sed 's/xb-memhog: //g' | cut -c1-300)"
oom=$(vmstat oom_kill)
xb_check no-oom-kill "xb-memhog rc=$hrc, oom_kill $OOM0 -> $oom" test "$hrc" = 0 -a "$oom" = "$OOM0"

# 3. released: down to the floor again
phase shrink-again
t_rel=$(xb_now)
if wait_until 60 at_floor; then
    xb_pass shrink-after-release "target_kb=$(tkb) current_kb=$(ckb) MemTotal=$(meminfo MemTotal) Committed_AS=$(meminfo Committed_AS) after $(awk "BEGIN{print $(xb_now)-$t_rel}") s"
else
    xb_fail shrink-after-release "target_kb=$(tkb) current_kb=$(ckb) 60 s after the release"
fi

set -- $(stall_and_given_back "$T0" shrink grow shrink-again)
xb_log "pressure: PSI some stall $1 s over $4 s; memory given back below memory/target: mean $2 MiB ($3 %)"

phase stop
stop_agent; rc=$ARC
xb_check sigterm-exit "xenballoond exit $rc; target_kb=$(tkb) (memory/target $T0)" [ "$rc" = 0 ]
back_up() { [ "$(ckb)" -ge $((T0 - 1024)) ]; }
wait_until 30 back_up

# 4. the shipped settings (pressure-v2: 1 % probes a second once its 10 s window is full, 64 MiB
#    of spike headroom): it gives memory back, and a workload that fits under dom0's target (what
#    was available at the start, less 48 MiB) is never OOM-killed, arriving at 16 MiB a second
phase d-shrink
write_config /tmp/defaults.yaml "policy: pressure-v2"
start_agent /tmp/defaults.yaml
t_d=$(xb_now)
shrunk() { [ "$(tkb)" -le $((T0 - 32768)) ]; }
if wait_until 90 shrunk; then
    xb_pass defaults-give-back "target_kb=$(tkb) current_kb=$(ckb) Committed_AS=$(meminfo Committed_AS) after $(awk "BEGIN{print $(xb_now)-$t_d}") s (memory/target $T0)"
else
    xb_fail defaults-give-back "target_kb=$(tkb) current_kb=$(ckb) 90 s after the start (memory/target $T0)"
fi
sleep 10
phase d-grow
HOG=$(( MA0 / 1024 - 48 ))
OOM1=$(vmstat oom_kill)
xb-memhog "$HOG" 16 1000 10 "$HOG_STATE" > /tmp/hog-d.log 2>&1; hrc=$?
xb_log "workload: $(tr '\n' ' ' < /tmp/hog-d.log | sed 's/xb-memhog: //g' | cut -c1-300)"
oom=$(vmstat oom_kill)
xb_check defaults-no-oom-kill "xb-memhog $HOG MiB (MemAvailable at the start ${MA0} kB) rc=$hrc, oom_kill $OOM1 -> $oom" \
    test "$hrc" = 0 -a "$oom" = "$OOM1"
phase d-after
sleep 10
set -- $(stall_and_given_back "$T0" d-shrink d-grow d-after)
xb_log "pressure-v2 (shipped settings): PSI some stall $1 s over $4 s; memory given back below memory/target: mean $2 MiB ($3 %)"
phase stop
stop_agent; rc=$ARC
stop_sampler
xb_check defaults-sigterm-exit "xenballoond exit $rc" [ "$rc" = 0 ]
wait_until 30 back_up
# the whole run against the floor and the ceiling (memory/target never changed)
check_target_range $FLOOR "$T0"
set -- $(awk '!/^#/ && $2 != "start" && $2 != "stop" { if ($6 > cmax) cmax = $6; if ($8 > si) si = $8 }
    END { print cmax + 0, si + 0 }' "$SAMPLES")
xb_log "over the run: target_kb min $TMIN max $TMAX, Committed_AS max $1 kB, pswpin $2"
agent_report
exit 0
