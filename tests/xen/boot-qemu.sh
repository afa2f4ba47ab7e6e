#!/bin/bash
# Boot Xen 4.17 + the PV dom0 (which starts the guest and runs the scenarios)
# under qemu-system-x86_64 with TCG, and record the serial console.
#
#   boot-qemu.sh CACHE_DIR WORKDIR LOGDIR [TIMEOUT_S]
#
# WORKDIR holds dom0.cpio.gz (build-images.sh).  The serial console goes to
# LOGDIR/serial.log, each line prefixed with the seconds since QEMU started;
# QEMU's own messages go to LOGDIR/qemu.log.  dom0 powers the machine off
# after printing XBTEST-END; QEMU is killed (by PID) if it still runs 15 s
# later, and in any case after TIMEOUT_S (default 540).  The exit status is
# QEMU's (124 = timeout).
#
# Environment: XENBALLOON_XEN_CPU (default qemu64; qemu64,+svm,+npt for PVH
# guests), XENBALLOON_XEN_XEN_ARGS / XENBALLOON_XEN_DOM0_ARGS (extra
# command-line words for Xen / the dom0 kernel).
set -uo pipefail
main() { # (one function: read whole before it runs, safe against edits)
CACHE=${1:?usage: boot-qemu.sh CACHE_DIR WORKDIR LOGDIR [TIMEOUT_S]}
WORK=${2:?}
LOGDIR=${3:?}
TMO=${4:-540}
LOG=$LOGDIR/serial.log
QLOG=$LOGDIR/qemu.log
mkdir -p "$LOGDIR"

XEN_ARGS="console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M dom0_max_vcpus=2 loglvl=all guest_loglvl=all ${XENBALLOON_XEN_XEN_ARGS:-}"
DOM0_ARGS="console=hvc0 earlyprintk=xen rdinit=/init loglevel=4 ${XENBALLOON_XEN_DOM0_ARGS:-}"

FIFO=$WORK/serial.fifo
rm -f "$FIFO"
mkfifo "$FIFO"
START=$EPOCHREALTIME
(
    # timestamp every serial line (seconds since QEMU started)
    while IFS= read -r line; do
        cs=$(((${EPOCHREALTIME/./} - ${START/./}) / 10000))
        printf '%4d.%02d %s\n' $((cs / 100)) $((cs % 100)) "${line//$'\r'/}"
    done < "$FIFO"
) > "$LOG" &
RPID=$!
# -kill-after: should QEMU ignore SIGTERM, SIGKILL follows
timeout --kill-after=10 "$TMO" qemu-system-x86_64 \
    -accel tcg,thread=multi -cpu "${XENBALLOON_XEN_CPU:-qemu64}" -machine pc -smp 2 -m 2048 \
    -display none -serial stdio -monitor none -no-reboot -net none \
    -kernel "$CACHE/xen.elf" -append "$XEN_ARGS" \
    -initrd "$CACHE/vmlinuz $DOM0_ARGS,$WORK/dom0.cpio.gz" \
    < /dev/null > "$FIFO" 2> "$QLOG" &
QPID=$!
trap 'kill "$QPID" 2>/dev/null; wait "$QPID" 2>/dev/null; kill "$RPID" 2>/dev/null; rm -f "$FIFO"; exit 130' INT TERM
echo "boot-qemu: qemu (timeout wrapper) pid $QPID, serial log $LOG" >&2

endseen=
while kill -0 "$QPID" 2> /dev/null; do
    if [ -z "$endseen" ] && grep -q XBTEST-END "$LOG"; then endseen=$SECONDS; fi
    if [ -n "$endseen" ] && [ $((SECONDS - endseen)) -ge 15 ]; then
        echo "boot-qemu: no power-off 15 s after XBTEST-END, stopping QEMU" >> "$QLOG"
        kill "$QPID"
    fi
    sleep 0.5
done
wait "$QPID"
QRC=$?
[ $QRC = 124 ] && echo "boot-qemu: TIMEOUT: QEMU still ran after $TMO s and was killed" >> "$QLOG"
wait "$RPID" 2> /dev/null
rm -f "$FIFO"
echo "boot-qemu: qemu rc=$QRC, wall $(((${EPOCHREALTIME/./} - ${START/./}) / 1000000)) s" >> "$QLOG"
exit $QRC
}
main "$@"
