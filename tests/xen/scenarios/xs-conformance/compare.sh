# compare_probe_output ROLE RC OUT ERR: ship the probe's output to the host
# (artifact xs-conformance-ROLE.txt) and compare it with the checked-in
# expectation in /xbtest/expected/.
compare_probe_output() {
    _role=$1 _rc=$2 _out=$3 _err=$4
    while IFS= read -r l; do xb_log "probe: $l"; done < "$_err"
    xb_artifact "xs-conformance-$_role.txt" "$_out"
    if [ "$_rc" != 0 ]; then
        xb_fail probe-$_role-ran "xs_conformance exited $_rc"
        return 1
    fi
    xb_pass probe-$_role-ran "$(grep -c '^CASE ' "$_out") cases"
    exp=/xbtest/expected/xs-conformance-$_role.txt
    if [ ! -f "$exp" ]; then
        xb_fail probe-$_role-matches "no $exp (run-scenarios.sh --accept writes it)"
        return 1
    fi
    # cases the probe was told to leave out read SKIPPED: compare the rest
    _skipped=$(awk '$1 == "CASE" && $3 == "SKIPPED" {printf "%s ", $2}' "$_out")
    awk -v s=" $_skipped" '!($1 == "CASE" && index(s, " " $2 " "))' "$exp" > /tmp/xsc-$_role.exp
    awk '!($1 == "CASE" && $3 == "SKIPPED")' "$_out" > /tmp/xsc-$_role.out
    if diff -u /tmp/xsc-$_role.exp /tmp/xsc-$_role.out > /tmp/xsc-$_role.diff; then
        xb_pass probe-$_role-matches "same as expected/xs-conformance-$_role.txt${_skipped:+ (skipped: $_skipped)}"
    else
        while IFS= read -r l; do xb_log "diff: $l"; done < /tmp/xsc-$_role.diff
        xb_fail probe-$_role-matches "differs from expected/xs-conformance-$_role.txt ($(grep -c '^[-+][^-+]' /tmp/xsc-$_role.diff) lines)"
        return 1
    fi
}
