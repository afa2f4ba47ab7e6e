# Helpers shared by the agent-* scenarios, installed into every image as
# /xbtest/agent-lib.sh. Sourced by guest.sh after /xbtest/lib.sh.  Builtins where possible: every
# fork is slow under TCG.
B=/sys/devices/system/xen_memory/xen_memory0
AGENT_LOG=/tmp/$XB_SCENARIO-agent.log
SAMPLES=/tmp/$XB_SCENARIO-samples.log
PHASE=/tmp/$XB_SCENARIO-phase
HOG_STATE=/tmp/$XB_SCENARIO-hog.state
echo 0 > "$HOG_STATE"; echo - > "$PHASE"

val() { read -r _x < "$1"; echo "$_x"; }
tkb() { read -r _x < $B/target_kb; echo "$_x"; }
ckb() { read -r _x < $B/info/current_kb; echo "$_x"; }
# meminfo FIELD -> value in kB
meminfo() {
    while read -r _k _v _; do [ "$_k" = "$1:" ] && { echo "$_v"; return; }; done < /proc/meminfo
}
# vmstat FIELD -> value
vmstat() {
    while read -r _k _v; do [ "$_k" = "$1" ] && { echo "$_v"; return; }; done < /proc/vmstat
    echo 0
}
phase() { echo "$1" > "$PHASE"; xb_log "phase: $1 (target_kb=$(tkb) current_kb=$(ckb) MemTotal=$(meminfo MemTotal) Committed_AS=$(meminfo Committed_AS))"; }

lo_up() { ifconfig lo 127.0.0.1 up 2>/dev/null || ip link set lo up 2>/dev/null; }

# write_config FILE key: value lines... (pressure.* as "pressure.key: value")
write_config() {
    _f=$1; shift
    : > "$_f"
    _p=
    for _l in "$@"; do
        case $_l in
            pressure.*) _p="$_p  ${_l#pressure.}
" ;;
            *) echo "$_l" >> "$_f" ;;
        esac
    done
    [ -n "$_p" ] && printf 'pressure:\n%s' "$_p" >> "$_f"
}

# start_agent CONFIG [extra args]: sets APID
start_agent() {
    _c=$1; shift
    xenballoond --config "$_c" --pidfile /tmp/xenballoond.pid \
        --web.listen-address 127.0.0.1:9750 --log.level debug "$@" >> "$AGENT_LOG" 2>&1 &
    APID=$!
    xb_log "xenballoond started, pid $APID, config $_c: $(tr '\n' ' ' < "$_c")"
}
# stop_agent: SIGTERM, wait; its exit status in ARC
stop_agent() {
    kill "$APID" 2>/dev/null
    wait "$APID"
    ARC=$?
}

# start_sampler: one line a second in $SAMPLES:
#   uptime phase target_kb current_kb MemTotal Committed_AS MemAvailable pswpin pswpout pgmajfault oom_kill hog_mib psi_some_us
#   active_file inactive_file workingset_refault_file workingset_activate_file MemFree
# (psi_some_us: PSI memory `some` total=, µs of stall since boot; 0 without PSI)
start_sampler() {
    echo "# uptime phase target_kb current_kb MemTotal Committed_AS MemAvailable pswpin pswpout pgmajfault oom_kill hog_mib psi_some_us active_file inactive_file workingset_refault_file workingset_activate_file MemFree" > "$SAMPLES"
    (
        while :; do
            read -r _up _ < /proc/uptime
            read -r _ph 2>/dev/null < "$PHASE" || _ph=-
            read -r _h _ 2>/dev/null < "$HOG_STATE" || _h=0
            _mt= _ca= _ma= _af= _if= _fr=
            while read -r _k _v _; do
                case $_k in MemTotal:) _mt=$_v ;; Committed_AS:) _ca=$_v ;; MemAvailable:) _ma=$_v ;;
                    "Active(file):") _af=$_v ;; "Inactive(file):") _if=$_v ;; MemFree:) _fr=$_v ;; esac
            done < /proc/meminfo
            _si=0 _so=0 _mf=0 _oom=0 _wr=0 _wa=0
            while read -r _k _v; do
                case $_k in pswpin) _si=$_v ;; pswpout) _so=$_v ;; pgmajfault) _mf=$_v ;; oom_kill) _oom=$_v ;;
                    workingset_refault_file) _wr=$_v ;; workingset_activate_file) _wa=$_v ;; esac
            done < /proc/vmstat
            _psi=0
            [ -r /proc/pressure/memory ] && read -r _ _ _ _ _psi _ < /proc/pressure/memory
            _psi=${_psi#total=}
            echo "$_up $_ph $(tkb) $(ckb) $_mt $_ca $_ma $_si $_so $_mf $_oom $_h ${_psi:-0} $_af $_if $_wr $_wa $_fr" >> "$SAMPLES"
            sleep 1
        done
    ) &
    SPID=$!
}
stop_sampler() { kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; }

# wait_until SECONDS CMD...: poll CMD every 0.5 s; 0 when it succeeded
wait_until() {
    _lim=$(( $1 * 2 )); shift
    _i=0
    while [ $_i -lt $_lim ]; do
        "$@" && return 0
        sleep 0.5; _i=$((_i + 1))
    done
    return 1
}

# stall_and_given_back CEILING_KB PHASE...: over the samples of those phases, prints the PSI
# `some` stall (s), the memory given back below CEILING_KB (mean MiB and % of it) and the seconds
stall_and_given_back() {
    _ceil=$1; shift
    awk -v c="$_ceil" -v ph=" $* " '!/^#/ && index(ph, " " $2 " ") {
            if (n == 0) { t0 = $1; p0 = $13 } t1 = $1; p1 = $13; n++; back += c - $4 }
        END { if (n == 0) { print "0 0 0 0"; exit }
              printf "%.3f %.1f %.1f %.0f\n", (p1 - p0) / 1e6, back / n / 1024, 100 * back / n / c, t1 - t0 }' "$SAMPLES"
}

# check_target_range FLOOR CEILING: target_kb over the samples (the phases start and stop aside)
# never below FLOOR nor above CEILING, as the check within-floor-and-ceiling; leaves the least
# and the most in TMIN and TMAX
check_target_range() {
    set -- "$1" "$2" $(awk '!/^#/ && $2 != "start" && $2 != "stop" {
            if (min == "" || $3 < min) min = $3; if ($3 > max) max = $3 }
        END { print min + 0, max + 0 }' "$SAMPLES")
    TMIN=$3 TMAX=$4
    xb_check within-floor-and-ceiling "target_kb min $TMIN >= floor $1, max $TMAX <= memory/target $2" \
        test "$TMIN" -ge "$1" -a "$TMAX" -le "$2"
}

# agent_report: the agent's warnings and errors into the serial log, its
# whole log and the samples as artifacts
agent_report() {
    grep -E '(warning|error)' "$AGENT_LOG" | head -n 20 | while IFS= read -r _l; do xb_log "agent: $_l"; done
    xb_log "agent log: $(wc -l < "$AGENT_LOG") lines; samples: $(($(wc -l < "$SAMPLES") - 1))"
    xb_artifact "$XB_SCENARIO-agent.log" "$AGENT_LOG"
    xb_artifact "$XB_SCENARIO-samples.log" "$SAMPLES"
}
