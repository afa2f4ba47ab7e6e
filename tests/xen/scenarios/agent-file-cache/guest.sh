#!/bin/sh
# agent-file-cache, guest part: xenballoond with its shipped settings (pressure-v2) on a guest
# with a page cache. dom0 attaches a 256 MiB disk (xvda); the workload reads a hot set of 48 MiB
# from it every 2 s, and halfway a read-once stream of 160 MiB at 8 MiB a second passes by. The
# agent gives back memory, keeps the hot set cached (it is Active(file), in the goal) and lets
# the stream go; never an OOM kill, never outside [floor, memory/target]. samples.log has
# Active/Inactive(file), the refault counters and PSI once a second (the calibration trace).
. /xbtest/lib.sh
. /xbtest/agent-lib.sh
FLOOR=172032
lo_up
insmod /lib/modules/xen-blkfront.ko || xb_log "insmod xen-blkfront failed"
xb_signal fc-guest-ready 1
xb_wait fc-disk 1 120 || { xb_fail disk "dom0 never attached the disk"; exit 1; }
wait_until 30 test -b /dev/xvda
size=$(blockdev --getsize64 /dev/xvda 2>&1)
xb_check disk-seen "/dev/xvda: $size bytes" test "$size" = 268435456
# Held open for the whole run: the kernel drops a block device's page cache at its last close,
# which would end every dd's cache with the dd.
exec 3< /dev/xvda
T0=$(xenstore-read memory/target)
OOM0=$(vmstat oom_kill)
hot() { dd if=/dev/xvda of=/dev/null bs=1M count=48 2>/dev/null; }
stream() {  # 160 MiB from 64 MiB on, 8 MiB a second
    _o=64
    while [ $_o -lt 224 ]; do
        dd if=/dev/xvda of=/dev/null bs=1M skip=$_o count=8 2>/dev/null
        _o=$((_o + 8)); sleep 1
    done
}
write_config /tmp/fc.yaml "policy: pressure-v2"
phase idle
start_sampler
start_agent /tmp/fc.yaml
t_start=$(xb_now)
sleep 20
phase hot
hot; hot
( i=0; while [ $i -lt 40 ]; do hot; sleep 2; i=$((i + 1)); done ) &
HPID=$!
sleep 20
phase stream
stream
phase hot-after
wait "$HPID"
phase after
sleep 10
stop_agent; rc=$ARC
stop_sampler
xb_check sigterm-exit "xenballoond exit $rc" [ "$rc" = 0 ]
oom=$(vmstat oom_kill)
xb_check no-oom-kill "oom_kill $OOM0 -> $oom" test "$oom" = "$OOM0"
# figures over the run: the target's range, the most Active(file), refaults and activations
# during the stream and after it, the stall, the memory given back
check_target_range $FLOOR "$T0"
set -- $(awk '!/^#/ {
        if ($2 == "hot" || $2 == "stream" || $2 == "hot-after") { if ($14 > af) af = $14 }
        if ($2 == "stream" && r0 == "") { r0 = $16; a0 = $17 }
        if ($2 == "stream" || $2 == "hot-after") { r1 = $16; a1 = $17 } }
    END { print af + 0, r1 - r0, a1 - a0 }' "$SAMPLES")
xb_log "over the run: target_kb min $TMIN max $TMAX; Active(file) up to $1 kB; during and after the stream: $2 refaults, $3 activations"
xb_check page-cache-seen "Active(file) up to $1 kB (the 48 MiB hot set is 49152 kB)" test "$1" -ge 40000
xb_check gave-back "target_kb min $TMIN below memory/target $T0 by at least 16 MiB" test "$TMIN" -le $((T0 - 16384))
# The stream's reclaim stalls with no refault and no swap traffic: that alone backs off no more
# (a back-off adds growth_headroom_mib, 128 MiB). The target may follow the goal (Committed_AS,
# Active(file): a MiB or two), and it may grow once the real LRU lets the stream push hot pages
# out and they refault (seen in one run of three: 38 pages), but not before such a refault or
# any swap traffic.
set -- $(awk '!/^#/ && ($2 == "stream" || $2 == "hot-after") {
        quiet = $8 + $9 + $16 + $17
        if (t0 == "") { t0 = $3; q0 = quiet }
        if (grown == "" && $3 > t0 + 16384) { grown = $3; rose = quiet - q0 } }
    END { print t0 + 0, grown + 0, rose + 0 }' "$SAMPLES")
xb_check stream-no-growth "target_kb at the stream's start $1; first grown past it by 16 MiB: ${2:-0} (0: never), after $3 refaults, activations and pages swapped" \
    test "$2" = 0 -o "$3" -gt 0
set -- $(stall_and_given_back "$T0" idle hot stream hot-after after)
xb_log "pressure-v2 (shipped settings) with a page cache: PSI some stall $1 s over $4 s; memory given back below memory/target: mean $2 MiB ($3 %)"
exec 3<&-
xb_signal fc-done 1
agent_report
exit 0
