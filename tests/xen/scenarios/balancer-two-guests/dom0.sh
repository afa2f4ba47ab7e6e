#!/bin/sh
# balancer-two-guests, dom0 part: a second small PV guest ("idle", from the lab's guest.cfg, with
# idle-init.sh as its /init) beside the lab guest (the busy one), both memory=256 maxmem=512 and
# selfballooning, and xenballoon-balancer with --target-setter libxl. The host is sized for the
# balancer (host.dom0_mib: everything but the two guests and the free memory; host.reserve_mib:
# the free memory but 16 MiB) so that the busy guest can grow only into what the guests give
# back. Checks: the balancer raises the busy guest past its initial 256 MiB through libxl (xl
# list Mem past 256, so max_pages grew) while the idle one is below 256; xl list agrees with
# memory/target; then a stuck guest: the idle one, pinned, is raised to 320 MiB, stops its agent
# and keeps its balloon there (idle-init.sh), is unpinned, and the balancer's lower target is
# not followed: after stuck_after_seconds /metrics shows state="stuck" for it.
. /xbtest/lib.sh
G=$XB_GUEST_HOME
rd() { xenstore-read "$1" 2>/dev/null; }
mem_of() { xl list "$1" 2>/dev/null | awk 'NR==2{print $3}'; }
# one xl list for both guests: sets GM and IM (MiB)
mems() { set -- $(xl list 2> /dev/null | awk '$1 == "guest" {g = $3} $1 == "idle" {i = $3} END {print g + 0, i + 0}'); GM=$1 IM=$2; }
info() { xl info 2>/dev/null | awk -v k="$1" '$1 == k {print $3}'; }
# iwait NAME [TIMEOUT_S]: the idle guest's data/xbtest/NAME exists
iwait() {
    _i=0; while [ $_i -lt $((${2:-60} * 5)) ]; do
        rd "$IH/data/xbtest/$1" > /dev/null && return 0; sleep 0.2; _i=$((_i + 1))
    done; return 1
}
isignal() { xenstore-write "$IH/data/xbtest/$1" "${2:-1}"; }
scrape() { wget -q -O /tmp/bal.metrics http://127.0.0.1:9752/metrics 2> /dev/null; }
state_of() { # domain name -> its state with value 1 in the last scrape
    grep '^xenballoon_balancer_guest_state{' /tmp/bal.metrics 2> /dev/null |
        grep "domain=\"$1\"" | awk '$NF == 1' | sed 's/.*state="\([a-z_]*\)".*/\1/' | head -n 1
}
ifconfig lo 127.0.0.1 up 2> /dev/null || ip link set lo up

# the lab guest at its initial 256 MiB (earlier scenarios moved it)
xl mem-set guest 256m
CFG=/tmp/idle.cfg
sed -e 's/^name .*/name    = "idle"/' \
    -e "s|rdinit=/init|rdinit=/xbtest/scenarios/$XB_SCENARIO/idle-init.sh|" /etc/xen/guest.cfg > $CFG
xb_log "idle.cfg: $(grep -E '^(type|memory|maxmem|extra)' $CFG | tr -s ' ' | tr '\n' ' ')"
xb_log "before: free_memory $(info free_memory) MiB of $(info total_memory)"
t0=$(xb_now)
xl create $CFG 2>&1 | sed 's/^/[xl create idle] /'
ID=$(xl domid idle 2> /dev/null)
[ -n "$ID" ] || { xb_fail create-idle "xl create $CFG failed"; exit 1; }
IH=/local/domain/$ID
tail -n +1 -F /var/log/xen/console/guest-idle.log 2> /dev/null | awk '{ print "[idle] " $0; fflush() }' &
RELAY=$!
if ! iwait idle-up 120; then
    xb_fail idle-up "the idle guest (domid $ID) did not come up within 120 s"
    xl destroy idle; kill $RELAY; pkill -f 'guest-idle.log' 2> /dev/null; exit 1
fi
xb_log "idle guest up (domid $ID) after $(awk "BEGIN{print $(xb_now)-$t0}") s"

# size the host for the balancer: the two guests may hold what they hold now + 16 MiB
TOTAL=$(info total_memory) FREE=$(info free_memory)
mems
G0=$((GM + IM))
D0=$((TOTAL - FREE - G0)) R=$((FREE - 16))
xb_log "host: total $TOTAL MiB, free $FREE, guests $G0 (guest $GM, idle $IM) -> dom0_mib $D0, reserve_mib $R"
config() { # [pinned rule for idle]
    cat << EOC
interval_seconds: 2
stuck_after_seconds: 6
retry_after_seconds: 300
host:
  reserve_mib: $R
  dom0_mib: $D0
policy:
  guest_reserve_mib: 128
  max_step_fraction: 0.25
defaults:
  min_mib: 128
web:
  listen_address: "127.0.0.1:9752"
pidfile: ""
EOC
    if [ -n "${1:-}" ]; then printf 'guests:\n  - match: idle\n    pinned: true\n'; fi
}
config > /tmp/bal.yaml
xenballoon-balancer -c /tmp/bal.yaml --target-setter libxl > /tmp/balancer.log 2>&1 &
BPID=$!
i=0; while ! scrape && [ $i -lt 40 ]; do sleep 0.25; i=$((i + 1)); done
xb_check libxl-setter "$(grep -m1 'setting targets' /tmp/balancer.log | cut -c1-160)" \
    grep -q 'setting targets through libxl' /tmp/balancer.log
xb_signal bt-go 1
isignal go 1

# 1. the workload in the lab guest: the balancer must take from the idle one to grow it
xb_signal bt-work 1
xb_wait bt-held 1 90 || xb_log "the workload never reached its size"
# the busy guest's peak while the workload is held
peak_t=0 peak_m=0 idle_t= idle_m=
i=0; while [ $i -lt 3 ]; do
    t=$(rd $G/memory/target); mems
    if [ "$GM" -gt "$peak_m" ]; then
        peak_t=$t peak_m=$GM idle_t=$(rd $IH/memory/target) idle_m=$IM
    fi
    sleep 1; i=$((i + 1))
done
grows=$(grep -cE "guest guest \(domid [0-9]+\): target [0-9]+ -> [0-9]+ KiB \(grow" /tmp/balancer.log)
xb_check busy-grew-through-libxl "guest: memory/target $peak_t KiB, xl list $peak_m MiB (initial 256); idle: memory/target $idle_t KiB, xl list $idle_m MiB; $grows grow lines in the balancer log" \
    test "$peak_t" -gt 262144 -a "$peak_m" -gt 257 -a "$idle_t" -lt 262144 -a "$idle_m" -lt 256 -a "$grows" -gt 0
# xl against memory/target: libxl's own record of the target (xl list -l: target_memkb) is
# memory/target, and xl list shows nobody above it (+ the 1 MiB of max_pages; a selfballooning
# guest may hold less)
lt() { xl list -l "$1" 2> /dev/null | sed -n 's/.*"target_memkb": *\([0-9]*\).*/\1/p' | head -n 1; }
# agrees NAME HOME: sets T (memory/target) and L (libxl's target) from reads with no step of the
# balancer between them (memory/target the same before and after xl list -l; 4 tries)
agrees() {
    _n=0; while [ $_n -lt 4 ]; do
        _t1=$(rd $2/memory/target); L=$(lt $1); T=$(rd $2/memory/target)
        [ "$_t1" = "$T" ] && return 0
        _n=$((_n + 1))
    done
}
# a guest whose target the balancer just lowered holds more until its balloon follows (seconds
# under TCG): wait up to 20 s for both to be at or below their targets
t_follow=$(xb_now) i=0
while :; do
    agrees guest $G; t=$T lg=$L
    agrees idle $IH; it=$T li=$L
    mems; m=$GM im=$IM
    [ "$m" -le $((t / 1024 + 1)) ] && [ "$im" -le $((it / 1024 + 1)) ] && break
    [ $i -ge 40 ] && break
    sleep 0.5; i=$((i + 1))
done
xb_log "both at or below their targets after $(awk "BEGIN{print $(xb_now)-$t_follow}") s"
xb_check xl-list-agrees "guest: memory/target $t KiB, xl target_memkb $lg, xl list $m MiB; idle: memory/target $it KiB, xl target_memkb $li, xl list $im MiB" \
    test "$lg" = "$t" -a "$li" = "$it" -a "$m" -le $((t / 1024 + 1)) -a "$im" -le $((it / 1024 + 1))
scrape
xb_log "balancer: $(grep -E '^xenballoon_balancer_(host_(total|free)_bytes|available_bytes|unmet_bytes|target_write_errors_total) ' /tmp/bal.metrics | tr '\n' ' ')"
xb_wait bt-hog-done 1 60 || xb_log "no bt-hog-done from the guest"

# 2. a stuck guest: the idle one, pinned, raised to 320 MiB and holding it with its agent stopped
config pinned > /tmp/bal.yaml
kill -HUP $BPID
i=0; while [ "$(scrape && state_of idle)" != pinned ] && [ $i -lt 20 ]; do sleep 0.5; i=$((i + 1)); done
xb_log "idle state $(state_of idle) after the reload"
xenstore-write $IH/memory/selfballoon 0
xl mem-set idle 320m
i=0; while [ "$(rd $IH/data/xenballoon/current-kb)" -lt 325632 ] && [ $i -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
xb_log "idle at memory/target $(rd $IH/memory/target), published current-kb $(rd $IH/data/xenballoon/current-kb), xl list $(mem_of idle) MiB"
isignal hold 1
iwait held 20 || xb_log "the idle guest did not say held"
config > /tmp/bal.yaml
kill -HUP $BPID
t_unpin=$(xb_now)
st= i=0
while [ $i -lt 60 ]; do
    scrape && st=$(state_of idle)
    [ "$st" = stuck ] && break
    sleep 0.5; i=$((i + 1))
done
xb_check stuck-detected "idle: state=$st $(awk "BEGIN{print $(xb_now)-$t_unpin}") s after unpinning (stuck_after_seconds 6); memory/target $(rd $IH/memory/target) KiB, published current-kb $(rd $IH/data/xenballoon/current-kb), xl list $(mem_of idle) MiB" \
    test "$st" = stuck
# (logged, not checked: each new memory/target lets the kernel's balloon watch take some pages
# before the guest's loop resets target_kb, and Xen's max_pages keeps it from getting them back)
xb_log "idle holds: xl list $(mem_of idle) MiB, memory/target $(($(rd $IH/memory/target) / 1024)) MiB"
grep 'domain="idle"' /tmp/bal.metrics | grep -E 'guest_state|target_bytes' | while IFS= read -r l; do xb_log "metrics: $l"; done

# cleanup: the idle guest lets go and goes; the balancer stops; the lab guest back at 256 MiB
isignal release 1
iwait idle-done 30 || xb_log "the idle guest did not say idle-done"
kill -TERM $BPID; wait $BPID; brc=$?
xb_check balancer-exit "xenballoon-balancer exit $brc after SIGTERM" test "$brc" = 0
grep -iE 'warning|error' /tmp/balancer.log | head -n 15 | while IFS= read -r l; do xb_log "balancer: $l"; done
xb_log "balancer log: $(wc -l < /tmp/balancer.log) lines, $(grep -c ' -> ' /tmp/balancer.log) target changes"
xb_artifact balancer-two-guests-balancer.log /tmp/balancer.log
xb_artifact balancer-two-guests-balancer.metrics /tmp/bal.metrics
xl destroy idle
sleep 0.5
kill $RELAY 2> /dev/null
pkill -f 'tail -n +1 -F /var/log/xen/console/guest-idle.log' 2> /dev/null || true
xl mem-set guest 256m
xb_signal bt-stop 1
exit 0
