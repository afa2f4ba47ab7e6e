#!/bin/sh
# balloon, dom0 part: once the guest has done its sysfs checks, `xl mem-set`
# it to 192m, 448m (above the boot size, below maxmem) and back to 256m; each
# time check memory/target and that the guest's driver followed.
. /xbtest/lib.sh
D=$XB_GUEST_HOME
if ! xb_wait balloon-guest-ready 1 240; then
    xb_fail guest-ready "the guest never got through its sysfs checks"
    exit 1
fi
for mb in 192 448 256; do
    want=$((mb * 1024))
    xl mem-set guest ${mb}m; rc=$?
    t=$(xenstore-read "$D/memory/target")
    if [ $rc = 0 ] && [ "$t" = "$want" ]; then
        xb_pass mem-set-${mb}m "xl mem-set rc=0, memory/target=$t"
    else
        xb_fail mem-set-${mb}m "xl mem-set rc=$rc, memory/target=$t (want $want)"
    fi
    if xb_wait balloon-seen "$want" 120; then
        xb_pass guest-followed-${mb}m "guest MemTotal $(xb_get balloon-memtotal) kB; xl list: $(xl list guest | awk 'NR==2{print "mem=" $3 " MiB"}')"
    else
        xb_fail guest-followed-${mb}m "the guest did not report memory/target=$want within 120 s"
    fi
done
exit 0
