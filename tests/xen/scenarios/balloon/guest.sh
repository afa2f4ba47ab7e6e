#!/bin/sh
# balloon, guest part: the real Xen balloon driver and its xenstore target.
# 1. sysfs present; memory/target readable; own xenstore rights
# 2. balloon down / up through sysfs target_kb (up is capped by Xen at the
#    max_pages libxl set: memory/target + 1 MiB)
# 3. dom0 drives `xl mem-set` 192m, 448m, 256m: the driver follows each
#    memory/target change; the guest reports what it saw in data/xbtest
. /xbtest/lib.sh
B=/sys/devices/system/xen_memory/xen_memory0
# (builtins only: every fork is slow under TCG)
memtotal() {
    while read -r _k _v _; do [ "$_k" = MemTotal: ] && { echo "$_v"; return; }; done < /proc/meminfo
}
val() { read -r _x < "$1"; echo "$_x"; }

# wait_mem lt|gt REF: wait up to 30 s until MemTotal is below/above REF and the
# balloon has settled (current_kb == target_kb, or stuck for 2 s); prints the
# settled MemTotal
wait_mem() {
    i=0 moved=no last='' stable=0
    while [ $i -lt 120 ]; do
        m=$(memtotal); read -r c < $B/info/current_kb; read -r t < $B/target_kb
        if [ "$1" = lt ] && [ "$m" -lt "$2" ]; then moved=yes; fi
        if [ "$1" = gt ] && [ "$m" -gt "$2" ]; then moved=yes; fi
        if [ $moved = yes ]; then
            [ "$c" = "$t" ] && break
            if [ "$c" = "$last" ]; then stable=$((stable + 1)); else stable=0; fi
            [ $stable -ge 8 ] && break
        fi
        last=$c
        sleep 0.25; i=$((i + 1))
    done
    memtotal
    [ $moved = yes ]
}

if [ -r $B/target_kb ]; then xb_pass sysfs-present "target_kb=$(val $B/target_kb)"
else xb_fail sysfs-present "no $B/target_kb"; exit 1; fi
line=
for f in target_kb target info/current_kb info/low_kb info/high_kb schedule_delay \
         max_schedule_delay retry_count max_retry_count; do
    [ -r "$B/$f" ] && read -r v < "$B/$f" && line="$line $f=$v"
done
xb_log "balloon sysfs:$line"

if T=$(xenstore-read memory/target); then
    xb_pass read-memory-target "memory/target=$T"
else
    xb_fail read-memory-target
    exit 1
fi
xb_log "memory/static-max = $(xenstore-read memory/static-max 2>&1)"
if xenstore-write memory/target 1 2>/dev/null; then xb_fail target-write-denied "guest could write memory/target"
else xb_pass target-write-denied "guest cannot write its own memory/target"; fi

M0=$(memtotal)
xb_log "MemTotal at start = $M0 kB"
# 1. down through sysfs (guest-local target, xenstore untouched)
echo $((T - 65536)) > $B/target_kb
if M1=$(wait_mem lt "$M0"); then
    xb_pass sysfs-down "target_kb=$((T - 65536)): MemTotal $M0 -> $M1 kB, current_kb=$(val $B/info/current_kb)"
else
    xb_fail sysfs-down "MemTotal stayed $M1 kB"
fi
# 2. up above the boot allocation (memory=256 < maxmem=512): Xen stops it at
#    max_pages = memory/target + 1 MiB
echo $((T + 131072)) > $B/target_kb
if M2=$(wait_mem gt "$M0"); then
    c=$(val $B/info/current_kb)
    if [ "$c" -le $((T + 1024)) ]; then
        xb_pass sysfs-up-capped "target_kb=$((T + 131072)): MemTotal $M1 -> $M2 kB, current_kb=$c (cap = memory/target + 1024 = $((T + 1024)))"
    else
        xb_fail sysfs-up-capped "current_kb=$c went past memory/target + 1 MiB = $((T + 1024))"
    fi
else
    xb_fail sysfs-up-capped "MemTotal $M1 -> $M2 kB, current_kb=$(val $B/info/current_kb)"
fi
T2=$(xenstore-read memory/target)
if [ "$T2" = "$T" ]; then
    xb_pass sysfs-leaves-xenstore "memory/target still $T2"
else
    xb_fail sysfs-leaves-xenstore "memory/target changed to $T2"
fi
echo "$T" > $B/target_kb
wait_mem lt 999999999 > /dev/null
cur=$(memtotal)
xb_log "restored target_kb=$T, MemTotal=$cur kB"

# 3. dom0 drives the balloon with xl mem-set (192m, 448m, 256m)
xenstore-watch memory/target > /tmp/balloon-watch.log 2>&1 &
WPID=$!
xb_signal balloon-guest-ready
prev=$T
for want in 196608 458752 262144; do
    i=0 new=$prev
    while [ $i -lt 600 ]; do
        new=$(xenstore-read memory/target)
        [ "$new" != "$prev" ] && break
        sleep 0.2; i=$((i + 1))
    done
    if [ "$new" = "$prev" ]; then xb_fail follow-$want "memory/target never changed from $prev"; break; fi
    before=$cur
    if [ "$new" -lt "$prev" ]; then dir=lt; else dir=gt; fi
    if cur=$(wait_mem $dir "$before"); then
        xb_pass follow-$want "memory/target $prev -> $new, target_kb=$(val $B/target_kb), current_kb=$(val $B/info/current_kb), MemTotal $before -> $cur kB"
    else
        xb_fail follow-$want "memory/target $prev -> $new but MemTotal stayed $cur kB"
    fi
    xb_signal balloon-memtotal "$cur"
    xb_signal balloon-seen "$new"
    prev=$new
done
kill $WPID 2>/dev/null
n=$(grep -c '^memory/target' /tmp/balloon-watch.log)
# the first event is the one xenstored fires when a watch is registered
if [ "$n" -ge 4 ]; then
    xb_pass watch-events "xenstore-watch memory/target saw $n events (1 initial + 3 changes)"
else
    xb_fail watch-events "xenstore-watch saw $n events: $(tr '\n' ' ' < /tmp/balloon-watch.log)"
fi
exit 0
