#!/bin/bash
# Run the real-Xen scenarios: Xen 4.17 + a PV dom0 (real C xenstored, xl) +
# one PV guest, booted under QEMU/TCG from Debian 12 packages.
#
#   tests/xen/run-scenarios.sh [options] [SCENARIO...]
#
# SCENARIO names are directories of tests/xen/scenarios (default: all, in
# sorted order).  Options:
#   --log-dir DIR       where serial.log, qemu.log, summary.txt and artifacts/
#                       go (default ${TMPDIR:-/tmp}/xenballoon-xen-logs/<date>-<pid>)
#   --bin PATH          a host binary carried into dom0 AND the guest, as
#                       /opt/xenballoon/bin/<name> (in PATH there) with the
#                       shared libraries it needs; PATH may be a directory:
#                       every executable file in it (repeatable)
#   --dom0-bin PATH     the same, dom0 only       (repeatable)
#   --guest-bin PATH    the same, guest only      (repeatable)
#   --dom0-overlay DIR, --guest-overlay DIR   copied over the image's root
#   --timeout S         hard limit for QEMU (default 540)
#   --part-timeout S    limit for one scenario part inside the VM (default 240)
#   --accept            copy the artifacts a scenario declares as `expected`
#                       over tests/xen/expected/ (refresh the expectations)
#   --keep              keep the temporary directory with the images
#   --list              list the scenarios and exit
# Environment:
#   XENBALLOON_XEN_CACHE       package cache (default
#                              ${XDG_CACHE_HOME:-$HOME/.cache}/xenballoon-xen-lab)
#   XENBALLOON_XEN_BINS, XENBALLOON_XEN_DOM0_BINS, XENBALLOON_XEN_GUEST_BINS
#                              whitespace-separated paths, as --bin etc.
#   XENBALLOON_XEN_LOG_DIR, XENBALLOON_XEN_TIMEOUT, XENBALLOON_XEN_PART_TIMEOUT
#   XENBALLOON_XEN_GUEST_TYPE  pv (default) or pvh (then also
#                              XENBALLOON_XEN_CPU=qemu64,+svm,+npt)
#   XENBALLOON_XEN_CPU, XENBALLOON_XEN_XEN_ARGS, XENBALLOON_XEN_DOM0_ARGS
#                              see boot-qemu.sh
#
# A guest that does not come up within the boot timeout gets one fresh boot
# (xl destroy, xl create), logged as a RETRY line and counted in the summary.
#
# Exit status: 0 when every expected part (<scenario>/dom0, <scenario>/guest)
# printed PASS and no line printed FAIL; 1 when a scenario failed or the run
# timed out; 2 when the lab could not run at all (no QEMU, no packages, a
# needed binary not given): never a silent pass.
set -uo pipefail
# (the body is one function: bash reads it whole before running it, so that
# editing this file during a run cannot break the run)
main() {
HERE=$(cd "$(dirname "$0")" && pwd)
SCEN_DIR=$HERE/scenarios

die() {
    {
        echo
        echo "************************************************************"
        echo "run-scenarios: ERROR: $*"
        echo "run-scenarios: the real-Xen scenarios did NOT run"
        echo "************************************************************"
    } >&2
    exit 2
}
say() { echo "run-scenarios: $*"; }
usage() { sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; }

LOG_DIR=${XENBALLOON_XEN_LOG_DIR:-}
TIMEOUT=${XENBALLOON_XEN_TIMEOUT:-540}
PART_TIMEOUT=${XENBALLOON_XEN_PART_TIMEOUT:-240}
BOTH_BINS=${XENBALLOON_XEN_BINS:-}
DOM0_BINS=${XENBALLOON_XEN_DOM0_BINS:-}
GUEST_BINS=${XENBALLOON_XEN_GUEST_BINS:-}
DOM0_OVERLAY='' GUEST_OVERLAY='' ACCEPT='' KEEP='' LIST=''
SCENARIOS=
while [ $# -gt 0 ]; do
    case $1 in
        --log-dir) LOG_DIR=${2:?--log-dir needs a value}; shift ;;
        --bin) BOTH_BINS="$BOTH_BINS ${2:?--bin needs a value}"; shift ;;
        --dom0-bin) DOM0_BINS="$DOM0_BINS ${2:?--dom0-bin needs a value}"; shift ;;
        --guest-bin) GUEST_BINS="$GUEST_BINS ${2:?--guest-bin needs a value}"; shift ;;
        --dom0-overlay) DOM0_OVERLAY=${2:?}; shift ;;
        --guest-overlay) GUEST_OVERLAY=${2:?}; shift ;;
        --timeout) TIMEOUT=${2:?}; shift ;;
        --part-timeout) PART_TIMEOUT=${2:?}; shift ;;
        --accept) ACCEPT=1 ;;
        --keep) KEEP=1 ;;
        --list) LIST=1 ;;
        -h | --help) usage; exit 0 ;;
        -*) echo "run-scenarios: unknown option $1" >&2; usage >&2; exit 2 ;;
        *) SCENARIOS="$SCENARIOS $1" ;;
    esac
    shift
done

# ---- scenarios and what they need ----
[ -n "$SCENARIOS" ] || SCENARIOS=$(cd "$SCEN_DIR" && ls -d -- */ 2> /dev/null | tr -d /)
SCENARIOS=$(echo $SCENARIOS)  # one line, single blanks
[ -n "$SCENARIOS" ] || die "no scenarios in $SCEN_DIR"
EXPECTED_PARTS=
for s in $SCENARIOS; do
    [[ $s =~ ^[A-Za-z0-9_-]+$ ]] || die "scenario name '$s': use letters, digits, - and _ only"
    [ -d "$SCEN_DIR/$s" ] || die "no scenario '$s' in $SCEN_DIR"
    [ -f "$SCEN_DIR/$s/dom0.sh" ] && EXPECTED_PARTS="$EXPECTED_PARTS $s/dom0"
    [ -f "$SCEN_DIR/$s/guest.sh" ] && EXPECTED_PARTS="$EXPECTED_PARTS $s/guest"
    [ -f "$SCEN_DIR/$s/dom0.sh" ] || [ -f "$SCEN_DIR/$s/guest.sh" ] ||
        die "scenario '$s' has neither dom0.sh nor guest.sh"
done
conf_lines() { # $1 scenario, $2 keyword: the rest of each matching line
    [ -f "$SCEN_DIR/$1/scenario.conf" ] || return 0
    sed -n "s/^$2[[:space:]]\{1,\}//p" "$SCEN_DIR/$1/scenario.conf"
}
if [ -n "$LIST" ]; then
    for s in $(cd "$SCEN_DIR" && ls -d -- */ | tr -d /); do
        parts=$(for p in dom0 guest; do [ -f "$SCEN_DIR/$s/$p.sh" ] && printf '%s ' "$p"; done)
        printf '%-20s parts: %-12s needs: %s\n' "$s" "$parts" "$(conf_lines "$s" needs | tr '\n' ' ')"
    done
    exit 0
fi

expand_bins() { # paths (files or directories) -> absolute files, one a line
    local p f
    for p in "$@"; do
        if [ -d "$p" ]; then
            for f in "$p"/*; do [ -f "$f" ] && [ -x "$f" ] && readlink -f "$f"; done
        elif [ -f "$p" ]; then
            readlink -f "$p"
        else
            die "binary to carry not found: $p"
        fi
    done
}
# shellcheck disable=SC2086
DOM0_LIST=$(expand_bins $BOTH_BINS $DOM0_BINS) || exit 2
# shellcheck disable=SC2086
GUEST_LIST=$(expand_bins $BOTH_BINS $GUEST_BINS) || exit 2
for s in $SCENARIOS; do
    while read -r part name; do
        [ -n "$part" ] || continue
        case $part in dom0) list=$DOM0_LIST ;; guest) list=$GUEST_LIST ;; *) die "$s/scenario.conf: bad line 'needs $part $name'" ;; esac
        printf '%s\n' "$list" | grep -q "/$name\$" ||
            die "scenario '$s' needs '$name' in $part: pass --bin path/to/$name (or --$part-bin)"
    done < <(conf_lines "$s" needs)
done

# ---- tools ----
missing=
command -v qemu-system-x86_64 > /dev/null || missing="$missing qemu-system-x86"
command -v cpio > /dev/null || missing="$missing cpio"
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
        say "installing$missing (apt-get install --no-install-recommends)"
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing ||
            { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing; } ||
            die "could not install$missing"
    else
        die "missing$missing: install with: apt-get install --no-install-recommends$missing"
    fi
fi
command -v qemu-system-x86_64 > /dev/null || die "qemu-system-x86_64 is still missing"
for t in cpio gzip ldd mkfifo timeout; do command -v $t > /dev/null || die "'$t' is missing"; done

T_START=$SECONDS
CACHE=$("$HERE/fetch-packages.sh" | tail -n 1)
if [ -z "$CACHE" ] || [ ! -s "$CACHE/READY" ]; then
    die "the Xen/kernel packages could not be had (see above)"
fi
T_FETCHED=$SECONDS

# ---- images ----
LOG_DIR=${LOG_DIR:-${TMPDIR:-/tmp}/xenballoon-xen-logs/$(date +%Y%m%d-%H%M%S)-$$}
mkdir -p "$LOG_DIR" || die "cannot create the log dir $LOG_DIR"
LOG_DIR=$(cd "$LOG_DIR" && pwd)
# Two runs writing one log directory would read each other's results.
exec 8> "$LOG_DIR/.lock"
flock -n 8 || die "another run is using the log dir $LOG_DIR"
rm -rf "$LOG_DIR/serial.log" "$LOG_DIR/qemu.log" "$LOG_DIR/summary.txt" "$LOG_DIR/artifacts"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/xenballoon-xen.XXXXXX") || die "mktemp failed"
cleanup() { if [ -n "$KEEP" ]; then say "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM

say "scenarios: $SCENARIOS"
say "carried into dom0: $(printf '%s\n' "$DOM0_LIST" | xargs -r -n1 basename | tr '\n' ' ')"
say "carried into the guest: $(printf '%s\n' "$GUEST_LIST" | xargs -r -n1 basename | tr '\n' ' ')"
XB_SCENARIOS=$SCENARIOS XB_SCENARIO_DIR=$SCEN_DIR \
    XB_DOM0_BINS=$DOM0_LIST XB_GUEST_BINS=$GUEST_LIST \
    XB_DOM0_OVERLAY=$DOM0_OVERLAY XB_GUEST_OVERLAY=$GUEST_OVERLAY \
    XB_GUEST_TYPE=${XENBALLOON_XEN_GUEST_TYPE:-pv} \
    XB_SETTINGS="XB_PART_TIMEOUT=$PART_TIMEOUT" \
    "$HERE/build-images.sh" "$CACHE" "$WORK" || die "building the images failed"
IMG_SIZES="dom0.cpio.gz $(du -k "$WORK/dom0.cpio.gz" | cut -f1) KiB, domU.cpio.gz $(du -k "$WORK/domU.cpio.gz" | cut -f1) KiB"
T_BUILT=$SECONDS

# ---- boot ----
say "booting (TCG, timeout $TIMEOUT s); serial log: $LOG_DIR/serial.log"
"$HERE/boot-qemu.sh" "$CACHE" "$WORK" "$LOG_DIR" "$TIMEOUT"
QRC=$?
T_BOOTED=$SECONDS
if [ $QRC != 0 ] && [ $QRC != 124 ] && ! grep -q XBTEST-END "$LOG_DIR/serial.log" 2> /dev/null; then
    cat "$LOG_DIR/qemu.log" 2> /dev/null
    die "QEMU failed (rc=$QRC) before the lab ran; see $LOG_DIR/qemu.log"
fi

# ---- results ----
# strip the host timestamp and the relay prefix; keep "[role uptime] ..." lines
CLEAN=$WORK/clean.log
sed -E 's/\r//g; s/^ *[0-9]+\.[0-9]+ //; s/^\[domU\] //' "$LOG_DIR/serial.log" > "$CLEAN"
RESULTS=$(grep -E '\] (PASS|FAIL) ' "$CLEAN" | sed -E 's/^.*\] ((PASS|FAIL) .*)$/\1/')

mkdir -p "$LOG_DIR/artifacts"
awk -v dir="$LOG_DIR/artifacts" '
    { i = index($0, "@@ART "); if (!i) next
      rest = substr($0, i + 6); j = index(rest, " ")
      if (j) { name = substr(rest, 1, j - 1); line = substr(rest, j + 1) } else { name = rest; line = "" }
      if (name !~ /^[A-Za-z0-9._-]+$/) next
      print line > (dir "/" name) }' "$CLEAN"
ART_BAD=
while read -r name n; do
    got=0
    [ -f "$LOG_DIR/artifacts/$name" ] && got=$(wc -l < "$LOG_DIR/artifacts/$name")
    [ "$got" = "$n" ] || ART_BAD="$ART_BAD $name(got $got of $n lines)"
done < <(sed -n 's/.*@@ART-END \([^ ]*\) \([0-9]*\)$/\1 \2/p' "$CLEAN")

status=0
missing_parts=
for p in $EXPECTED_PARTS; do
    printf '%s\n' "$RESULTS" | grep -qx "PASS $p" || missing_parts="$missing_parts $p"
done
nfail=$(printf '%s\n' "$RESULTS" | grep -c '^FAIL ')
npass=$(printf '%s\n' "$RESULTS" | grep -c '^PASS ')
grep -q 'XBTEST-END ok' "$CLEAN" || status=1
[ -n "$missing_parts" ] && status=1
[ "$nfail" != 0 ] && status=1
[ -n "$ART_BAD" ] && status=1

{
    echo "==== real-Xen scenarios: $SCENARIOS"
    printf '%s\n' "$RESULTS"
    echo "---- markers"
    grep -E 'XBTEST-END|DOM0-READY|DOMU-CREATED|DOMU-READY|GUEST-DONE|RETRY |\(XEN\) Xen version|Kernel panic|\(XEN\) Panic' "$CLEAN" | cut -c1-200
    grep -E 'TIMEOUT|rc=|no power-off' "$LOG_DIR/qemu.log" 2> /dev/null
    [ -n "$missing_parts" ] && echo "MISSING (no PASS line):$missing_parts"
    [ -n "$ART_BAD" ] && echo "INCOMPLETE ARTIFACTS:$ART_BAD"
    echo "---- times: fetch $((T_FETCHED - T_START)) s, build $((T_BUILT - T_FETCHED)) s, boot+run $((T_BOOTED - T_BUILT)) s; images: $IMG_SIZES"
    echo "---- artifacts: $(ls "$LOG_DIR/artifacts" 2> /dev/null | tr '\n' ' ')"
    echo "---- log: $LOG_DIR/serial.log"
    nretry=$(grep -c '\] RETRY ' "$CLEAN")
    [ "$nretry" != 0 ] && echo "RETRIES: $nretry (a guest that did not come up was booted once more)"
    if [ $status = 0 ]; then
        echo "RESULT: success ($npass passed, 0 failed)"
    else
        echo "RESULT: FAILURE ($npass passed, $nfail failed${missing_parts:+, missing:$missing_parts})"
    fi
} | tee "$LOG_DIR/summary.txt"

if [ -n "$ACCEPT" ]; then
    for s in $SCENARIOS; do
        for a in $(conf_lines "$s" expected); do
            if [ -s "$LOG_DIR/artifacts/$a" ] && [[ $ART_BAD != *" $a("* ]]; then
                cp "$LOG_DIR/artifacts/$a" "$HERE/expected/$a"
                say "accepted: tests/xen/expected/$a"
            else
                say "not accepted (missing or incomplete): $a"
            fi
        done
    done
fi
exit $status
}
main "$@"
