#!/bin/sh
# /init of the lab's PV guest: announces itself in xenstore, then runs the
# guest part of every scenario in /xbtest/scenarios.list when dom0 says so
# (data/xbtest/start-<scenario>) and answers done-<scenario>=<rc>.  Its
# console (hvc0) is logged by dom0's xenconsoled and relayed to the host.
/bin/busybox --install -s /bin
export PATH=/opt/xenballoon/bin:/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /run
mkdir -p /tmp

XB_ROLE=guest
XB_SYNC=data/xbtest
export XB_ROLE XB_SYNC
. /xbtest/lib.sh
[ -f /xbtest/settings ] && . /xbtest/settings

XB_DOMID=$(xenstore-read domid)
XB_GUEST_HOME=/local/domain/$XB_DOMID
export XB_DOMID XB_GUEST_HOME
xb_log "booted: $(uname -r), domid $XB_DOMID, MemTotal $(awk '/^MemTotal:/{print $2}' /proc/meminfo) kB"
xb_signal guest-up

for S in $(cat /xbtest/scenarios.list); do
    if ! xb_wait "start-$S" 1 "${XB_PART_TIMEOUT:-300}"; then
        echo "[guest $(xb_now)] FAIL $S/guest dom0 never said start-$S"
        break
    fi
    rc=0
    if [ -f "/xbtest/scenarios/$S/guest.sh" ]; then
        xb_run_part "$S" guest
        rc=$?
    fi
    xb_signal "done-$S" "$rc"
done

xb_wait all-done 1 60
xb_log "GUEST-DONE"
sleep 1
poweroff -f
