#!/bin/sh
# balancer-two-guests: /init of the scenario's second guest, "idle" (dom0.sh creates it from the
# lab's guest.cfg with rdinit= pointing here; same kernel and image as the lab guest). It runs
# xenballoond selfballooning and does nothing else, until dom0 says hold (data/xbtest/hold): then
# it stops its agent (SIGSTOP) and keeps the balloon driver's target_kb at what it holds, so that
# a lower target from dom0 is not followed (a stuck guest). release: the agent goes on and is
# stopped with SIGTERM. Its console is relayed by dom0.sh with an "[idle] " prefix; it prints no
# PASS/FAIL lines (dom0.sh checks what it does).
/bin/busybox --install -s /bin
export PATH=/opt/xenballoon/bin:/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /run
mkdir -p /tmp
XB_ROLE=idle XB_SYNC=data/xbtest XB_SCENARIO=balancer-two-guests
export XB_ROLE XB_SYNC XB_SCENARIO
. /xbtest/lib.sh
. /xbtest/agent-lib.sh
lo_up
xb_log "booted: domid $(xenstore-read domid), MemTotal $(meminfo MemTotal) kB, target_kb $(tkb)"
xb_signal idle-up
xb_wait go 1 120 || xb_log "dom0 never said go"
write_config /tmp/idle.yaml "policy: pressure" "selfballoon: true" "interval_seconds: 2" \
    "publish_interval_seconds: 2" "minmem_mib: 0" "uphysteresis: 1" "downhysteresis: 2" \
    "on_exit: dom0-target" "pressure.reserve_mib: 64" "pressure.burst_window_seconds: 5" \
    "pressure.shrink_cooldown_seconds: 5" "pressure.growth_headroom_mib: 32"
start_agent /tmp/idle.yaml
if xb_wait hold 1 240; then
    kill -STOP "$APID"
    H=$(ckb)
    ( while :; do echo "$H" > $B/target_kb; sleep 0.25; done ) &
    LPID=$!
    xb_log "holding: agent stopped, target_kb kept at $H (current_kb $(ckb), memory/target $(xenstore-read memory/target))"
    xb_signal held "$H"
    xb_wait release 1 120
    kill "$LPID"; wait "$LPID" 2>/dev/null
    xb_log "released: current_kb $(ckb), memory/target $(xenstore-read memory/target)"
    kill -CONT "$APID"
fi
stop_agent
grep -E '(warning|error)' "$AGENT_LOG" | head -n 10 | while IFS= read -r l; do xb_log "agent: $l"; done
xb_log "agent exit $ARC; target_kb $(tkb) current_kb $(ckb)"
xb_signal idle-done "$ARC"
sleep 600
