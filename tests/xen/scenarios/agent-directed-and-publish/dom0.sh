#!/bin/sh
# agent-directed-and-publish, dom0 part: `xl mem-set` 192m and 300m, each
# followed by the agent (data/xenballoon/target-kb) within a few seconds; the
# published values against what the guest sees; the exporter and the monitor
# (when carried) list the guest; then memory/selfballoon=1 makes the agent
# selfballoon (mode=selfballoon, target-kb falls); finally back to 256m.
. /xbtest/lib.sh
D=$XB_GUEST_HOME
X=$D/data/xenballoon
rd() { xenstore-read "$1" 2>/dev/null; }
# published MemTotal, from the meminfo value ("MemTotal 204924\n...")
# (xenstore-read prints the newlines as \n)
pub_memtotal() {
    rd $X/meminfo | awk '{ n = split($0, l, /\\n/)
        for (i = 1; i <= n; i++) { split(l[i], f, " "); if (f[1] == "MemTotal") { print f[2]; exit } } }'
}
if ! xb_wait dp-agent-up 1 120; then xb_fail agent-up "the guest never started the agent"; exit 1; fi
# until the agent's first publication
i=0; while [ -z "$(rd $X/heartbeat)" ] && [ $i -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
xb_log "published: layout=$(rd $X/layout) agent='$(rd $X/agent)' mode=$(rd $X/mode) policy=$(rd $X/policy) target-kb=$(rd $X/target-kb) floor-kb=$(rd $X/floor-kb) current-kb=$(rd $X/current-kb) heartbeat=$(rd $X/heartbeat)"
step=1
for mb in 192 300; do
    want=$((mb * 1024))
    t0=$(xb_now)
    xl mem-set guest ${mb}m
    i=0; while [ "$(rd $X/target-kb)" != "$want" ] && [ $i -lt 60 ]; do sleep 0.25; i=$((i + 1)); done
    dt=$(awk "BEGIN{print $(xb_now)-$t0}")
    got=$(rd $X/target-kb)
    xb_check follow-${mb}m "memory/target=$(rd $D/memory/target), published target-kb=$got after $dt s" test "$got" = "$want"
    xb_signal dp-req $step
    if ! xb_wait dp-rep-$step "" 120; then xb_fail report-$step "no report from the guest"; step=$((step + 1)); continue; fi
    set -- $(xb_get dp-rep-$step)
    mode=$(rd $X/mode) ptk=$(rd $X/target-kb) pck=$(rd $X/current-kb) pmt=$(pub_memtotal)
    xb_check published-${mb}m "guest target_kb=$1 current_kb=$2 MemTotal=$3; published mode=$mode target-kb=$ptk current-kb=$pck MemTotal=$pmt; xl list: $(xl list guest | awk 'NR==2{print $3}') MiB" \
        test "$mode" = directed -a "$ptk" = "$1" -a "$pck" = "$2" -a "$pmt" = "$3" -a "$1" = "$want"
    step=$((step + 1))
done
MT=$(pub_memtotal)

# the exporter and the monitor, when carried
if command -v xenballoon-exporter > /dev/null; then
    ifconfig lo 127.0.0.1 up 2>/dev/null || ip link set lo up
    xenballoon-exporter --web.listen-address 127.0.0.1:9751 --log.level info > /tmp/exporter.log 2>&1 &
    EPID=$!
    # scrape until the guest shows up (the exporter fills its cache from
    # watches), at most 30 tries a second apart
    ok=no line= i=0
    while [ $i -lt 30 ]; do
        sleep 1; i=$((i + 1))
        wget -q -O /tmp/exporter.metrics http://127.0.0.1:9751/metrics 2> /tmp/wget.err || continue
        ok=yes
        line=$(grep '^xenballoon_memory_mem_total_bytes{' /tmp/exporter.metrics | grep 'domain="guest"' | head -n 1)
        [ -n "$line" ] && break
    done
    xb_log "exporter: $i scrapes; $(grep -E '^xenballoon_exporter_(guests|guests_with_agent|xenstore_connected) ' /tmp/exporter.metrics 2>/dev/null | tr '\n' ' ')"
    v=$(echo "$line" | awk '{printf "%.0f", $NF}')
    xb_check exporter-mem-total "scrape=$ok: ${line:-no xenballoon_memory_mem_total_bytes for domain=\"guest\"} (want MemTotal $MT x 1024 = $((MT * 1024)))" \
        test -n "$v" -a "$v" = "$((MT * 1024))"
    xb_log "exporter: $(grep -c '^xenballoon_' /tmp/exporter.metrics 2>/dev/null) xenballoon_ series, $(grep -c 'domain="guest"' /tmp/exporter.metrics 2>/dev/null) for the guest"
    if command -v xenballoon-monitor > /dev/null; then
        xenballoon-monitor --once > /tmp/monitor.txt 2>&1; mrc=$?
        while IFS= read -r l; do xb_log "monitor: $l"; done < /tmp/monitor.txt
        xb_check monitor-lists-guest "xenballoon-monitor --once rc=$mrc" grep -qw guest /tmp/monitor.txt
    fi
    kill $EPID 2>/dev/null; wait $EPID 2>/dev/null
    grep -iE 'warning|error' /tmp/exporter.log | head -n 10 | while IFS= read -r l; do xb_log "exporter: $l"; done
    xb_artifact agent-directed-and-publish-exporter.log /tmp/exporter.log
    [ -s /tmp/exporter.metrics ] && xb_artifact agent-directed-and-publish-exporter.metrics /tmp/exporter.metrics
else
    xb_log "xenballoon-exporter not carried: exporter/monitor checks skipped"
fi

# dom0 switches the agent to selfballooning
t0=$(xb_now)
xenstore-write $D/memory/selfballoon 1
i=0; while [ "$(rd $X/mode)" != selfballoon ] && [ $i -lt 60 ]; do sleep 0.25; i=$((i + 1)); done
xb_check override-mode "memory/selfballoon=1: published mode=$(rd $X/mode) after $(awk "BEGIN{print $(xb_now)-$t0}") s" test "$(rd $X/mode)" = selfballoon
i=0; while [ "$(rd $X/target-kb)" -ge 262144 ] && [ $i -lt 120 ]; do sleep 0.5; i=$((i + 1)); done
sleep 5
tk=$(rd $X/target-kb)
xb_check override-shrinks "target-kb 307200 -> $tk (floor-kb $(rd $X/floor-kb), current-kb $(rd $X/current-kb)) $(awk "BEGIN{print $(xb_now)-$t0}") s after memory/selfballoon=1" test "$tk" -lt 262144
xb_signal dp-req 3
xb_wait dp-rep-3 "" 60 && xb_log "guest during selfballooning: $(xb_get dp-rep-3)"
# back to directed (override removed) and to 256m
xenstore-rm $D/memory/selfballoon
xl mem-set guest 256m
i=0; while [ "$(rd $X/target-kb)" != 262144 ] && [ $i -lt 60 ]; do sleep 0.25; i=$((i + 1)); done
xb_check override-removed "memory/selfballoon removed, xl mem-set 256m: mode=$(rd $X/mode) target-kb=$(rd $X/target-kb)" test "$(rd $X/mode)" = directed -a "$(rd $X/target-kb)" = 262144
xb_signal dp-done 1
xb_signal dp-req 4
exit 0
