#!/bin/sh
# agent-save-restore, dom0 part: `xl save` the selfballooning guest into
# dom0's tmpfs and `xl restore` it.  The restored guest has a new domid; the
# lab's dom0 /init keeps waiting on the old home, so this part relays the
# guest's done-<scenario> (and, when this is the last scenario, all-done)
# between the old and the new home.  Run it last.
. /xbtest/lib.sh
OLD=$XB_GUEST_HOME
# after the restore the guest's home (and the lab's rendezvous nodes) move to
# a new domid: only the last scenario of a run can survive that
if [ "$(tail -n 1 /xbtest/scenarios.list)" != "$XB_SCENARIO" ]; then
    xb_log "skipped: $XB_SCENARIO must be the last scenario of the run"
    exit 0
fi
# Earlier scenarios leave memory/target where they set it (agent-ceiling-and-stop: 400 MiB);
# start from the guest.cfg value, as a freshly created guest would.
xl mem-set guest 256m
if ! xb_wait sr-ready 1 200; then xb_fail sr-ready "the guest agent never got ready"; exit 1; fi
xb_log "before save: xl list: $(xl list guest | awk 'NR==2{print "id=" $2 " mem=" $3}'); memory/target=$(xenstore-read $OLD/memory/target); heartbeat=$(xenstore-read $OLD/data/xenballoon/heartbeat); dom0 MemFree $(awk '/^MemFree/{print $2}' /proc/meminfo) kB; /run: $(df -k /run | awk 'NR==2{print $4 " KiB free"}')"
t0=$(xb_now)
xl save guest /run/guest.save > /tmp/xl-save.log 2>&1; src=$?
t1=$(xb_now)
while IFS= read -r l; do xb_log "xl save: $l"; done < /tmp/xl-save.log
xb_check xl-save "rc=$src in $(awk "BEGIN{print $t1-$t0}") s, image $(du -k /run/guest.save 2>/dev/null | cut -f1) KiB" test "$src" = 0
if [ "$src" != 0 ]; then
    xb_signal sr-failed 1
    xl list > /tmp/xl-list.log 2>&1; xl dmesg 2>&1 | tail -n 20 >> /tmp/xl-list.log
    while IFS= read -r l; do xb_log "after failed save: $l"; done < /tmp/xl-list.log
    exit 1
fi
xl restore /run/guest.save > /tmp/xl-restore.log 2>&1; rrc=$?
t2=$(xb_now)
while IFS= read -r l; do xb_log "xl restore: $l"; done < /tmp/xl-restore.log
NEW_ID=$(xl domid guest 2>/dev/null)
xb_check xl-restore "rc=$rrc in $(awk "BEGIN{print $t2-$t1}") s, new domid ${NEW_ID:-none} (was $XB_DOMID)" test "$rrc" = 0 -a -n "$NEW_ID"
rm -f /run/guest.save
[ -n "$NEW_ID" ] || exit 1
NEW=/local/domain/$NEW_ID
xenstore-write $NEW/data/xbtest/sr-restored 1
i=0; while [ -z "$(xenstore-read $NEW/data/xenballoon/heartbeat 2>/dev/null)" ] && [ $i -lt 120 ]; do sleep 0.5; i=$((i + 1)); done
h1=$(xenstore-read $NEW/data/xenballoon/heartbeat 2>/dev/null)
sleep 5
h2=$(xenstore-read $NEW/data/xenballoon/heartbeat 2>/dev/null)
xb_check published-after-restore "new home: heartbeat ${h1:-absent} -> ${h2:-absent}, mode=$(xenstore-read $NEW/data/xenballoon/mode 2>&1), target-kb=$(xenstore-read $NEW/data/xenballoon/target-kb 2>&1)" test -n "$h2" -a "$h2" != "$h1"
# the whole layout must be there again in the new home, not only the keys
# whose value changed since the save (pressure is absent without PSI)
missing=
for k in layout agent heartbeat mode policy target-kb floor-kb current-kb meminfo vmstat uptime; do
    xenstore-read $NEW/data/xenballoon/$k > /dev/null 2>&1 || missing="$missing $k"
done
xb_check republished-after-restore "data/xenballoon/ in the new home: $(xenstore-list $NEW/data/xenballoon 2>&1 | tr '\n' ' ')${missing:+; missing:$missing}" test -z "$missing"
# relay the guest's done-<scenario> to the old home, where dom0's /init waits
i=0; while ! d=$(xenstore-read $NEW/data/xbtest/done-$XB_SCENARIO 2>/dev/null) && [ $i -lt 800 ]; do sleep 0.25; i=$((i + 1)); done
xb_log "guest done in the new home: ${d:-never}; xl list: $(xl list guest | awk 'NR==2{print "id=" $2 " mem=" $3}')"
xenstore-write $OLD/data/xbtest/done-$XB_SCENARIO "${d:-1}"
last=$(tail -n 1 /xbtest/scenarios.list)
[ "$last" = "$XB_SCENARIO" ] && xenstore-write $NEW/data/xbtest/all-done 1
exit 0
