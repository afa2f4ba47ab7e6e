#!/bin/sh
# agent-file-cache, dom0 part: gives the guest a disk, so that it has a page cache to reclaim: a
# 256 MiB sparse file on tmpfs (its holes read as zeros and take no memory) behind a loop device
# and xen-blkback, attached read-only as xvda with `xl block-attach` and block-phy as its hotplug
# script (target= last: it takes the rest of the disk spec); detached when the guest is done.
. /xbtest/lib.sh
for m in loop xen-blkback; do insmod /lib/modules/$m.ko || xb_log "insmod $m failed"; done
mkdir -p /disk && mount -t tmpfs -o size=300m tmpfs /disk
truncate -s 256M /disk/guest.img
i=0; while [ ! -b /dev/loop0 ] && [ $i -lt 20 ]; do sleep 0.2; i=$((i + 1)); done
losetup /dev/loop0 /disk/guest.img || xb_log "losetup rc=$?"
if ! xb_wait fc-guest-ready 1 120; then
    xb_fail guest-ready "the guest never loaded xen-blkfront"
    exit 1
fi
xl block-attach guest "format=raw,vdev=xvda,access=ro,script=/xbtest/scenarios/agent-file-cache/block-phy,target=/dev/loop0" 2>&1 |
    sed 's/^/[xl block-attach] /'
BE=/local/domain/0/backend/vbd/$DOMID/51712
i=0; while [ "$(xenstore-read $BE/state 2>/dev/null)" != 4 ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
st=$(xenstore-read $BE/state 2>&1)
xb_check disk-connected "backend $BE state=$st physical-device=$(xenstore-read $BE/physical-device 2>&1) hotplug-status=$(xenstore-read $BE/hotplug-status 2>&1)" test "$st" = 4
xb_signal fc-disk 1
# Detached again once the guest is done with it, so that the later scenarios (save and restore)
# see the guest as it booted.
if xb_wait fc-done 1 400; then
    xl block-detach guest xvda 2>&1 | sed 's/^/[xl block-detach] /'
    i=0; while xenstore-read $BE/state > /dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
    xb_check disk-detached "backend $BE gone: $(xenstore-read $BE/state 2>&1 | head -c 80)" \
        sh -c "! xenstore-read $BE/state > /dev/null 2>&1"
else
    xb_fail disk-detached "the guest never said it was done with the disk"
fi
losetup -d /dev/loop0 2>/dev/null
umount /disk 2>/dev/null
exit 0
