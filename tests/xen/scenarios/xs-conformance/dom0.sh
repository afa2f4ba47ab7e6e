#!/bin/sh
# xs-conformance, dom0 part: once the guest has run its probe, run the probe
# as dom0 (over xenstored's socket) and compare its output with
# tests/xen/expected/xs-conformance-dom0.txt.  The probe watches
# @introduceDomain/@releaseDomain while a second, paused domain is created
# and destroyed (scratch.cfg).
. /xbtest/lib.sh
. ./compare.sh
if ! command -v xs_conformance > /dev/null; then
    xb_fail probe-present "xs_conformance was not carried into dom0 (--bin path/to/xs_conformance)"
    exit 1
fi
if ! xb_wait xsconf-guest-done 1 "${XB_PART_TIMEOUT:-300}"; then
    xb_fail guest-probe-done "the guest's probe did not finish"
fi
xs_conformance --role dom0 --guest-domid "$XB_DOMID" \
    --domain-cmd "xl create -p $PWD/scratch.cfg > /tmp/scratch.log 2>&1 && xl destroy scratch >> /tmp/scratch.log 2>&1" \
    > /tmp/xsc-dom0.txt 2> /tmp/xsc-dom0.err
rc=$?
while IFS= read -r l; do xb_log "scratch domain: $l"; done < /tmp/scratch.log
compare_probe_output dom0 $rc /tmp/xsc-dom0.txt /tmp/xsc-dom0.err
