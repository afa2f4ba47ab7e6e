#!/bin/bash
# Build the lab's two initramfs images into WORKDIR:
#   WORKDIR/domU.cpio.gz  busybox + xenstore client + guest /init + scenarios
#   WORKDIR/dom0.cpio.gz  busybox + xl, xenstored, xenconsoled, xen-init-dom0,
#                         xenstore client, the Xen kernel modules, the guest
#                         kernel and domU.cpio.gz, dom0 /init + scenarios
#
#   build-images.sh CACHE_DIR WORKDIR
#
# Normally run by run-scenarios.sh, which sets (all optional):
#   XB_SCENARIOS        scenario names, in run order (default: all, sorted)
#   XB_SCENARIO_DIR     where the scenarios live (default: ./scenarios)
#   XB_DOM0_BINS, XB_GUEST_BINS   host binaries (newline or space separated)
#                       copied to /opt/xenballoon/bin/<name> with the shared
#                       libraries ldd finds for them (debug info stripped
#                       unless XENBALLOON_XEN_KEEP_DEBUG is set)
#   XB_DOM0_OVERLAY, XB_GUEST_OVERLAY   directories copied over the image root
#   XB_GUEST_TYPE       pv (default) or pvh
#   XB_SETTINGS         shell assignments written to /xbtest/settings
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${1:?usage: build-images.sh CACHE_DIR WORKDIR}
WORK=${2:?usage: build-images.sh CACHE_DIR WORKDIR}
R=$CACHE/root
SCEN_DIR=${XB_SCENARIO_DIR:-$HERE/scenarios}
SCENARIOS=${XB_SCENARIOS:-$(cd "$SCEN_DIR" && ls -d -- */ | tr -d /)}
export LD_LIBRARY_PATH=$R/usr/lib/x86_64-linux-gnu
LIBDIR=/lib/x86_64-linux-gnu

strip_debug() { # $1 file: drop debug info (keeps the image small)
    [ -n "${XENBALLOON_XEN_KEEP_DEBUG:-}" ] && return 0
    command -v strip > /dev/null || return 0
    strip --strip-debug "$1" 2> /dev/null || true
}

copy_with_libs() { # $1 staging dir, $2 binary, $3 path inside
    local st=$1 src=$2 dst=$3 lib base
    [ -f "$src" ] || { echo "build-images: no such binary: $src" >&2; return 1; }
    install -D -m 0755 "$src" "$st$dst"
    { ldd "$src" 2> /dev/null || true; } | awk '/=> \//{print $3} /^\t\/lib64/{print $1}' |
        while read -r lib; do
            base=$(basename "$lib")
            [ -e "$st$LIBDIR/$base" ] && continue
            install -D -m 0755 "$(readlink -f "$lib")" "$st$LIBDIR/$base"
            strip_debug "$st$LIBDIR/$base"
        done
}

base_tree() { # $1 staging dir
    local st=$1 a s
    rm -rf "$st"
    mkdir -p "$st"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,etc,var/lib,var/log,root,lib64} \
        "$st/opt/xenballoon/bin" "$st/xbtest/scenarios" "$st$LIBDIR"
    ln -s ../run "$st/var/run"
    install -m 0755 "$R/bin/busybox" "$st/bin/busybox"
    # the other applet links are made at boot (/bin/busybox --install -s):
    # hundreds of ln calls here cost seconds
    ln -s busybox "$st/bin/sh"
    install -m 0755 "$(readlink -f /lib64/ld-linux-x86-64.so.2)" "$st$LIBDIR/ld-linux-x86-64.so.2"
    ln -s "$LIBDIR/ld-linux-x86-64.so.2" "$st/lib64/ld-linux-x86-64.so.2"
    copy_with_libs "$st" "$R/usr/bin/xenstore" /usr/bin/xenstore
    for a in read write ls list rm exists watch chmod control; do
        ln -sf xenstore "$st/usr/bin/xenstore-$a"
    done
    echo 'root:x:0:0:root:/root:/bin/sh' > "$st/etc/passwd"
    # the test interface: helpers, scenarios, expectations, settings
    install -m 0644 "$HERE/image/lib.sh" "$st/xbtest/lib.sh"
    install -m 0644 "$HERE/image/agent-lib.sh" "$st/xbtest/agent-lib.sh"
    printf '%s\n' $SCENARIOS > "$st/xbtest/scenarios.list"
    for s in $SCENARIOS; do cp -a "$SCEN_DIR/$s" "$st/xbtest/scenarios/$s"; done
    [ -d "$HERE/expected" ] && cp -a "$HERE/expected" "$st/xbtest/expected"
    printf '%s\n' "${XB_SETTINGS:-}" > "$st/xbtest/settings"
}

add_extras() { # $1 staging dir, $2 overlay dir, $3 binaries
    local st=$1 ov=$2 bins=$3 b
    if [ -n "$ov" ]; then cp -a "$ov"/. "$st"/; fi
    for b in $bins; do
        [ -e "$st/opt/xenballoon/bin/$(basename "$b")" ] && {
            echo "build-images: two binaries named $(basename "$b")" >&2
            return 1
        }
        copy_with_libs "$st" "$b" "/opt/xenballoon/bin/$(basename "$b")"
        strip_debug "$st/opt/xenballoon/bin/$(basename "$b")"
    done
}

mkcpio() { # $1 staging dir, $2 output
    (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -1 > "$2"
}

# ---------------- guest ----------------
G=$WORK/stage-guest
base_tree "$G"
install -m 0755 "$HERE/image/guest-init.sh" "$G/init"
mkdir -p "$G/lib/modules"
cp "$CACHE/modules/xen-blkfront.ko" "$G/lib/modules/"
add_extras "$G" "${XB_GUEST_OVERLAY:-}" "${XB_GUEST_BINS:-}"
mkcpio "$G" "$WORK/domU.cpio.gz"

# ---------------- dom0 ----------------
D=$WORK/stage-dom0
base_tree "$D"
for b in xl xenstored xenconsoled xen-init-dom0 xenconsole libxl-save-helper; do
    copy_with_libs "$D" "$R/usr/lib/xen-4.17/bin/$b" "/usr/lib/xen-4.17/bin/$b"
done
# glibc dlopen()s libgcc_s for pthread_cancel (xl aborts without it)
install -m 0644 "$(readlink -f /lib/x86_64-linux-gnu/libgcc_s.so.1)" "$D$LIBDIR/libgcc_s.so.1"
mkdir -p "$D/lib/modules" "$D/etc/xen" "$D/var/lib/xen" "$D/var/log/xen/console" "$D/guest"
cp "$CACHE"/modules/*.ko "$D/lib/modules/"
cp "$CACHE/guest-vmlinux" "$D/guest/kernel"
cp "$WORK/domU.cpio.gz" "$D/guest/domU.cpio.gz"
sed "s/^type *=.*/type    = \"${XB_GUEST_TYPE:-pv}\"/" "$HERE/image/guest.cfg" > "$D/etc/xen/guest.cfg"
echo '# defaults' > "$D/etc/xen/xl.conf"
install -m 0755 "$HERE/image/dom0-init.sh" "$D/init"
add_extras "$D" "${XB_DOM0_OVERLAY:-}" "${XB_DOM0_BINS:-}"
mkcpio "$D" "$WORK/dom0.cpio.gz"
rm -rf "$G" "$D"

echo "build-images: guest image $(du -k "$WORK/domU.cpio.gz" | cut -f1) KiB," \
    "dom0 image $(du -k "$WORK/dom0.cpio.gz" | cut -f1) KiB (includes the guest kernel and image)"
