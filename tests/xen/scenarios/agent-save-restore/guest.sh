#!/bin/sh
# agent-save-restore, guest part: a selfballooning xenballoond across
# `xl save` + `xl restore` (the 2008 daemon's open bug).  The restored guest
# has a new domid and a new, empty home in xenstore: data/xbtest is gone, so
# both sides use nodes written after the restore (dom0 writes sr-restored in
# the new home).  After the restore: the agent still runs, its heartbeat
# advances, and it still grows the guest for a workload and shrinks it after.
. /xbtest/lib.sh
. /xbtest/agent-lib.sh
FLOOR=172032
# after the restore the guest's home (and the lab's rendezvous nodes) move to
# a new domid: only the last scenario of a run can survive that
if [ "$(tail -n 1 /xbtest/scenarios.list)" != "$XB_SCENARIO" ]; then
    xb_log "skipped: $XB_SCENARIO must be the last scenario of the run"
    exit 0
fi
lo_up
write_config /tmp/sr.yaml "policy: pressure" "selfballoon: true" "interval_seconds: 1" \
    "publish_interval_seconds: 1" "uphysteresis: 1" "downhysteresis: 2" "on_exit: dom0-target" \
    "pressure.reserve_mib: 64" "pressure.burst_window_seconds: 5" "pressure.shrink_cooldown_seconds: 5"
phase start
start_sampler
start_agent /tmp/sr.yaml
at_floor() { [ "$(tkb)" -le $FLOOR ] && [ "$(ckb)" -le $((FLOOR + 1024)) ]; }
wait_until 60 at_floor
xb_log "before save: domid $(xenstore-read domid) target_kb=$(tkb) current_kb=$(ckb) heartbeat=$(xenstore-read data/xenballoon/heartbeat)"
ps > /tmp/ps.log 2>&1
while IFS= read -r l; do xb_log "before save, ps: $l"; done < /tmp/ps.log
phase saving
xb_signal sr-ready 1
restored() { [ "$(xenstore-read data/xbtest/sr-restored 2>/dev/null)" = 1 ]; }
# dom0 writes sr-failed in the old home when `xl save` failed: say what the kernel saw
restored_or_failed() { restored || [ "$(xb_get sr-failed)" = 1 ]; }
if ! wait_until 400 restored_or_failed || ! restored; then
    dmesg 2>&1 | tail -n 60 > /tmp/dmesg.log; ps >> /tmp/dmesg.log 2>&1
    while IFS= read -r l; do xb_log "after failed save: $l"; done < /tmp/dmesg.log
    xb_fail restored "no sr-restored in $(xenstore-read domid 2>&1)'s home"
    stop_agent; stop_sampler; agent_report; exit 1
fi
phase restored
xb_log "after restore: domid $(xenstore-read domid) target_kb=$(tkb) current_kb=$(ckb) static-max=$(xenstore-read memory/static-max) memory/target=$(xenstore-read memory/target)"
xb_check agent-alive "pid $APID" kill -0 "$APID"
h1=$(xenstore-read data/xenballoon/heartbeat 2>/dev/null)
sleep 4
h2=$(xenstore-read data/xenballoon/heartbeat 2>/dev/null)
xb_check heartbeat-advances "data/xenballoon/heartbeat ${h1:-absent} -> ${h2:-absent} in the new home" test -n "$h2" -a "$h2" != "$h1"
xb_log "published after restore: mode=$(xenstore-read data/xenballoon/mode 2>&1) target-kb=$(xenstore-read data/xenballoon/target-kb 2>&1) floor-kb=$(xenstore-read data/xenballoon/floor-kb 2>&1)"
phase grow
xb-memhog 120 8 1000 4 "$HOG_STATE" > /tmp/hog.log 2>&1 &
HPID=$!
grown() { [ "$(tkb)" -ge $((FLOOR + 65536)) ]; }
if wait_until 60 grown; then
    xb_pass grows-after-restore "target_kb=$(tkb) current_kb=$(ckb) Committed_AS=$(meminfo Committed_AS)"
else
    xb_fail grows-after-restore "target_kb=$(tkb) current_kb=$(ckb) Committed_AS=$(meminfo Committed_AS)"
fi
wait "$HPID"
phase shrink
if wait_until 60 at_floor; then
    xb_pass shrinks-after-restore "target_kb=$(tkb) current_kb=$(ckb)"
else
    xb_fail shrinks-after-restore "target_kb=$(tkb) current_kb=$(ckb)"
fi
phase stop
stop_agent; rc=$ARC
stop_sampler
xb_check sigterm-exit "exit $rc, target_kb=$(tkb) memory/target=$(xenstore-read memory/target)" [ "$rc" = 0 ]
agent_report
exit 0
