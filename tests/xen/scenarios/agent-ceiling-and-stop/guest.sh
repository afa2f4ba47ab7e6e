#!/bin/sh
# agent-ceiling-and-stop, guest part: with a workload whose goal
# (Committed_AS + 128 MiB reserve + overhead) is above dom0's memory/target,
# the agent's target stays at memory/target; after dom0's `xl mem-set 400m`
# it grows above the old target; a second instance refuses to start; SIGTERM
# sets target_kb back to memory/target.  dom0 resets 256m at the end.
. /xbtest/lib.sh
. /xbtest/agent-lib.sh
lo_up
T0=$(xenstore-read memory/target)
OOM0=$(vmstat oom_kill)
write_config /tmp/cs.yaml "policy: pressure" "selfballoon: true" "interval_seconds: 1" \
    "publish_interval_seconds: 1" "uphysteresis: 1" "downhysteresis: 2" "on_exit: dom0-target" \
    "pressure.reserve_mib: 128" "pressure.burst_window_seconds: 5" "pressure.shrink_cooldown_seconds: 5" \
    "pressure.growth_headroom_mib: 32"
phase start
start_sampler
start_agent /tmp/cs.yaml
sleep 3
phase workload
t_w=$(xb_now)
xb-memhog 100 10 1000 300 "$HOG_STATE" > /tmp/hog.log 2>&1 &
HPID=$!
at100() { read -r h _ 2>/dev/null < "$HOG_STATE"; [ "${h:-0}" = 100 ]; }
wait_until 60 at100
at_ceiling() { [ "$(tkb)" = "$T0" ]; }
wait_until 20 at_ceiling
sleep 5
xb_log "workload at 100 MiB: target_kb=$(tkb) current_kb=$(ckb) MemTotal=$(meminfo MemTotal) Committed_AS=$(meminfo Committed_AS) published target-kb=$(xenstore-read data/xenballoon/target-kb)"
ca=$(meminfo Committed_AS); mt=$(meminfo MemTotal); c=$(ckb)
goal=$((ca + 131072 + c - mt))
mx=$(awk '!/^#/ && $2 == "workload" { if ($3 > m) m = $3 } END { print m + 0 }' "$SAMPLES")
xb_check capped-at-target "goal Committed_AS $ca + reserve 131072 + overhead $((c - mt)) = $goal kB > memory/target $T0; target_kb now $(tkb), max during the workload $mx" \
    test "$goal" -gt "$T0" -a "$(tkb)" = "$T0" -a "$mx" -le "$T0"

# dom0 raises memory/target to 400m
phase raised
xb_signal cs-raise 1
raised() { [ "$(xenstore-read memory/target)" = 409600 ]; }
wait_until 60 raised
t_r=$(xb_now)
above() { [ "$(tkb)" -gt "$T0" ] && [ "$(ckb)" -gt $((T0 + 1024)) ]; }
if wait_until 30 above; then
    sleep 3
    xb_check grows-above-old-target "memory/target 409600: target_kb=$(tkb) current_kb=$(ckb) MemTotal=$(meminfo MemTotal) Committed_AS=$(meminfo Committed_AS) after $(awk "BEGIN{print $(xb_now)-$t_r}") s" \
        test "$(tkb)" -le 409600
else
    xb_fail grows-above-old-target "target_kb=$(tkb) current_kb=$(ckb) memory/target=$(xenstore-read memory/target)"
fi

# a second instance
xenballoond --config /tmp/cs.yaml --pidfile /tmp/xenballoond.pid \
    --web.listen-address 127.0.0.1:9752 > /tmp/second.log 2>&1
src=$?
msg=$(tr '\n' ' ' < /tmp/second.log)
xb_check second-instance-refused "rc=$src: $msg" test "$src" = 1 -a -n "$(grep "already running: PID $APID" /tmp/second.log)"
xb_check agent-still-running "pid $APID" kill -0 "$APID"

# the workload ends; then SIGTERM
kill "$HPID"; wait "$HPID"
phase released
below() { [ "$(tkb)" -lt 300000 ]; }
wait_until 30 below
xb_log "released: target_kb=$(tkb) current_kb=$(ckb) Committed_AS=$(meminfo Committed_AS)"
before=$(tkb)
phase stop
stop_agent; rc=$ARC
after=$(tkb)
xb_check sigterm-restores "exit $rc; target_kb $before -> $after, memory/target $(xenstore-read memory/target)" \
    test "$rc" = 0 -a "$after" = "$(xenstore-read memory/target)"
sleep 2
stop_sampler
oom=$(vmstat oom_kill)
xb_check no-oom-kill "oom_kill $OOM0 -> $oom" test "$oom" = "$OOM0"
xb_signal cs-reset 1
back() { [ "$(xenstore-read memory/target)" = "$T0" ] && [ "$(tkb)" = "$T0" ]; }
wait_until 60 back
xb_log "reset: memory/target=$(xenstore-read memory/target) target_kb=$(tkb) current_kb=$(ckb)"
agent_report
exit 0
