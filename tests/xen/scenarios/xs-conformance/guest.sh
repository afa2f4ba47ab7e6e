#!/bin/sh
# xs-conformance, guest part: run the probe as the guest (through
# /dev/xen/xenbus, paths relative to the guest's home) and compare its output
# with tests/xen/expected/xs-conformance-guest.txt.  Runs before the dom0 part
# so that the two never touch the same nodes at the same time.
. /xbtest/lib.sh
. ./compare.sh
if ! command -v xs_conformance > /dev/null; then
    xb_fail probe-present "xs_conformance was not carried into the guest (--bin path/to/xs_conformance)"
    xb_signal xsconf-guest-done
    exit 1
fi
xs_conformance --role guest > /tmp/xsc-guest.txt 2> /tmp/xsc-guest.err
rc=$?
xb_signal xsconf-guest-done
compare_probe_output guest $rc /tmp/xsc-guest.txt /tmp/xsc-guest.err
