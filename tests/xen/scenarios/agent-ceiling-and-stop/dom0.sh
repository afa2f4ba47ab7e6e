#!/bin/sh
# agent-ceiling-and-stop, dom0 part: `xl mem-set guest 400m` when the guest
# asks (cs-raise), back to 256m at the end (cs-reset).
. /xbtest/lib.sh
X=$XB_GUEST_HOME/data/xenballoon
if xb_wait cs-raise 1 200; then
    xb_log "before: published target-kb=$(xenstore-read $X/target-kb) current-kb=$(xenstore-read $X/current-kb); xl list: $(xl list guest | awk 'NR==2{print $3}') MiB"
    xl mem-set guest 400m
    xb_check mem-set-400m "memory/target=$(xenstore-read $XB_GUEST_HOME/memory/target)" test "$(xenstore-read $XB_GUEST_HOME/memory/target)" = 409600
else
    xb_fail cs-raise "the guest never asked"
fi
xb_wait cs-reset 1 200 || xb_fail cs-reset "the guest never finished"
xb_log "after SIGTERM: xl list: $(xl list guest | awk 'NR==2{print $3}') MiB"
xl mem-set guest 256m
exit 0
