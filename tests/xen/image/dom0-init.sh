#!/bin/sh
# /init of the lab's dom0 (PV dom0 on Xen 4.17 inside QEMU): starts the real C
# xenstored, xenconsoled, creates the guest, then runs every scenario listed
# in /xbtest/scenarios.list in order.  For each scenario it tells the guest to
# start (xenstore node data/xbtest/start-<scenario>), runs the dom0 part and
# waits for the guest part to report done-<scenario>.  The guest's console is
# relayed onto ours with a "[domU] " prefix.  Ends with "XBTEST-END ok" and
# powers the machine off.
/bin/busybox --install -s /bin
export PATH=/opt/xenballoon/bin:/bin:/sbin:/usr/bin:/usr/sbin:/usr/lib/xen-4.17/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mkdir -p /run/xen /run/xenstored /var/lib/xen /var/log/xen/console /var/lock /tmp

XB_ROLE=dom0
export XB_ROLE
. /xbtest/lib.sh
[ -f /xbtest/settings ] && . /xbtest/settings

finish() {
    xb_log "XBTEST-END $*"
    sync
    poweroff -f
    sleep 30
}

xb_log "init start ($(uname -r))"
for m in xen-privcmd xen-evtchn xen-gntdev xen-gntalloc xenfs; do
    insmod /lib/modules/$m.ko || xb_log "insmod $m failed"
done
mount -t xenfs xenfs /proc/xen || xb_log "mount xenfs failed"
xb_log "capabilities: $(cat /proc/xen/capabilities 2>&1); /dev/xen: $(ls /dev/xen | tr '\n' ' ')"

xenstored --pid-file /run/xenstored.pid || finish "xenstored failed rc=$?"
i=0; while [ ! -S /run/xenstored/socket ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
xen-init-dom0 || xb_log "xen-init-dom0 rc=$?"
xenconsoled --pid-file=/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console ||
    xb_log "xenconsoled rc=$?"
xb_log "DOM0-READY (xenstored pid $(cat /run/xenstored.pid))"
xl info 2>&1 | grep -E '^(xen_version|total_memory|free_memory|nr_cpus|xen_caps)' | sed 's/^/[xl info] /'

# create_guest: xl create, then the guest's identity for the scenarios
create_guest() {
    t0=$(xb_now)
    xl create /etc/xen/guest.cfg 2>&1 | sed 's/^/[xl create] /'
    DOMID=$(xl domid guest 2>/dev/null)
    [ -n "$DOMID" ] || finish "xl create failed"
    xb_log "DOMU-CREATED domid=$DOMID (xl create took $(awk "BEGIN{print $(xb_now)-$t0}") s)"
    XB_DOMID=$DOMID
    XB_GUEST_HOME=/local/domain/$DOMID
    XB_SYNC=$XB_GUEST_HOME/data/xbtest
    export XB_DOMID XB_GUEST_HOME XB_SYNC DOMID
}
create_guest

# relay the guest's console (logged by xenconsoled) onto ours; note when the
# guest said it is done so that nothing is cut off at power-off.  awk, not a
# `while read` loop: busybox's read takes a byte per system call, which under
# TCG costs dom0 a noticeable share of its CPU for every line the guest prints.
(
    tail -n +1 -F /var/log/xen/console/guest-guest.log 2>/dev/null |
        awk '{ print "[domU] " $0; fflush() } /GUEST-DONE/ { system("touch /run/guest-done-relayed") }'
) &

# A guest that never comes up gets one fresh boot (under software emulation a PVH guest kernel
# sometimes triple-faults early); the retry is logged and counted in the summary.
if ! xb_wait guest-up 1 "${XB_BOOT_TIMEOUT:-120}"; then
    echo "[dom0 $(xb_now)] RETRY lab.guest-up the guest did not come up within ${XB_BOOT_TIMEOUT:-120} s: one fresh boot"
    xl list
    xl destroy guest 2>&1 | sed 's/^/[xl destroy] /'
    create_guest
fi
if xb_wait guest-up 1 "${XB_BOOT_TIMEOUT:-120}"; then
    xb_log "DOMU-READY after $(awk "BEGIN{print $(xb_now)-$t0}") s since xl create"
else
    echo "[dom0 $(xb_now)] FAIL lab.guest-up the guest did not come up within ${XB_BOOT_TIMEOUT:-120} s"
    xl list
    sleep 2
    finish "guest-not-up"
fi

for S in $(cat /xbtest/scenarios.list); do
    xb_signal "start-$S"
    if [ -f "/xbtest/scenarios/$S/dom0.sh" ]; then
        xb_run_part "$S" dom0
    fi
    if xb_wait "done-$S" "" "${XB_PART_TIMEOUT:-300}"; then
        xb_log "guest finished $S (rc=$(xb_get "done-$S"))"
    else
        echo "[dom0 $(xb_now)] FAIL $S/guest no done-$S from the guest within ${XB_PART_TIMEOUT:-300} s"
    fi
done

xb_signal all-done
i=0; while [ ! -e /run/guest-done-relayed ] && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
sleep 1
xl list 2>&1 | sed 's/^/[xl list] /'
finish ok
