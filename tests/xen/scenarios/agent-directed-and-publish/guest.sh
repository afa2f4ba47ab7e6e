#!/bin/sh
# agent-directed-and-publish, guest part: xenballoond with selfballoon: false
# follows dom0's `xl mem-set`; for every step dom0 asks for (dp-req N) the
# guest reports what it sees itself (dp-rep-N = "target_kb current_kb
# MemTotal"), once the balloon has settled, so that dom0 can compare it with
# what the agent published in data/xenballoon/.
. /xbtest/lib.sh
. /xbtest/agent-lib.sh
lo_up
write_config /tmp/dp.yaml "policy: pressure" "selfballoon: false" "interval_seconds: 1" \
    "publish_interval_seconds: 1" "uphysteresis: 1" "downhysteresis: 2" "on_exit: dom0-target" \
    "pressure.reserve_mib: 64" "pressure.burst_window_seconds: 5" "pressure.shrink_cooldown_seconds: 5"
phase start
start_sampler
start_agent /tmp/dp.yaml
xb_signal dp-agent-up
# settled: current_kb == target_kb, or unchanged for 3 s (Xen may stop it)
settle() {
    _i=0 _last= _st=0
    while [ $_i -lt 60 ]; do
        _c=$(ckb); [ "$_c" = "$(tkb)" ] && break
        if [ "$_c" = "$_last" ]; then _st=$((_st + 1)); else _st=0; fi
        [ $_st -ge 6 ] && break
        _last=$_c; sleep 0.5; _i=$((_i + 1))
    done
}
n=1
while [ $n -le 4 ]; do
    xb_wait dp-req $n 200 || { xb_fail dp-req-$n "dom0 never asked for step $n"; break; }
    [ "$(xb_get dp-done)" = 1 ] && break
    phase "step-$n"
    settle
    sleep 2   # one publication (interval 1 s) after the balloon settled
    xb_signal dp-rep-$n "$(tkb) $(ckb) $(meminfo MemTotal)"
    xb_log "step $n: target_kb=$(tkb) current_kb=$(ckb) MemTotal=$(meminfo MemTotal) memory/target=$(xenstore-read memory/target)"
    n=$((n + 1))
done
xb_wait dp-done 1 200
phase stop
stop_agent; rc=$ARC
stop_sampler
xb_check sigterm-exit "xenballoond exit $rc; target_kb=$(tkb) memory/target=$(xenstore-read memory/target)" [ "$rc" = 0 ]
agent_report
exit 0
