# Helpers for the init scripts and scenario parts inside the lab's dom0 and
# guest.  Sourced as /xbtest/lib.sh; needs XB_ROLE (dom0|guest) and, for the
# sync helpers, XB_SYNC (the xenstore directory both sides use to talk).
#
# Result lines, read by run-scenarios.sh on the host:
#   [<role> <uptime>] PASS <scenario>.<check> [details]
#   [<role> <uptime>] FAIL <scenario>.<check> [details]
# A part (dom0.sh / guest.sh) fails when it exits non-zero or when any of its
# checks printed FAIL; the runner then prints "FAIL <scenario>/<part>".

XB_FAILS=${XB_FAILS:-/run/xbtest-fails}

# (builtins only where it is cheap: every fork costs under TCG)
xb_now() { read -r _up _ < /proc/uptime; echo "$_up"; }
xb_log() { read -r _up _ < /proc/uptime; echo "[$XB_ROLE $_up] $*"; }
xb_pass() {
    _n=$1; shift
    read -r _up _ < /proc/uptime
    echo "[$XB_ROLE $_up] PASS ${XB_SCENARIO:-lab}.$_n${*:+ $*}"
}
xb_fail() {
    _n=$1; shift
    read -r _up _ < /proc/uptime
    echo "[$XB_ROLE $_up] FAIL ${XB_SCENARIO:-lab}.$_n${*:+ $*}"
    echo "$_n" >> "$XB_FAILS"
}
# xb_check NAME DETAILS CMD...: PASS when CMD succeeds
xb_check() {
    _n=$1 _d=$2; shift 2
    if "$@"; then xb_pass "$_n" "$_d"; else xb_fail "$_n" "$_d (rc=$?)"; fi
}

# Rendezvous through xenstore (both sides can read and write the guest's
# data/xbtest directory).
xb_signal() { xenstore-write "$XB_SYNC/$1" "${2:-1}"; }
xb_get() { xenstore-read "$XB_SYNC/$1" 2>/dev/null; }
# xb_wait NAME [VALUE] [TIMEOUT_S]: wait until NAME exists (and equals VALUE)
xb_wait() {
    _i=0 _lim=$(( ${3:-120} * 5 ))
    while [ $_i -lt $_lim ]; do
        _v=$(xenstore-read "$XB_SYNC/$1" 2>/dev/null) && { [ -z "${2:-}" ] || [ "$_v" = "$2" ]; } && return 0
        sleep 0.2; _i=$((_i + 1))
    done
    return 1
}

# xb_artifact NAME FILE: ship FILE to the host, where run-scenarios.sh writes
# it to <log-dir>/artifacts/NAME
xb_artifact() {
    echo "@@ART-BEGIN $1"
    # one sed, not a read loop: busybox's read takes a byte per system call, slow under TCG
    sed "s|^|@@ART $1 |" "$2"
    echo "@@ART-END $1 $(wc -l < "$2")"
}

# xb_run_part SCENARIO PART: run /xbtest/scenarios/SCENARIO/PART.sh and print
# the part's PASS/FAIL line; returns its rc
xb_run_part() {
    _s=$1 _p=$2
    rm -f "$XB_FAILS"
    xb_log "---- $_s/$_p start"
    (cd "/xbtest/scenarios/$_s" && XB_SCENARIO=$_s XB_PART=$_p \
        timeout "${XB_PART_TIMEOUT:-300}" sh "./$_p.sh")
    _rc=$?
    _nf=0; [ -s "$XB_FAILS" ] && _nf=$(wc -l < "$XB_FAILS")
    read -r _up _ < /proc/uptime
    if [ $_rc = 0 ] && [ "$_nf" = 0 ]; then
        echo "[$XB_ROLE $_up] PASS $_s/$_p"
    else
        [ $_rc = 143 ] && _rc="$_rc (timeout after ${XB_PART_TIMEOUT:-300} s)"
        echo "[$XB_ROLE $_up] FAIL $_s/$_p rc=$_rc failed-checks=$_nf"
        [ "$_rc" = 0 ] && _rc=1
    fi
    return "${_rc%% *}"
}
