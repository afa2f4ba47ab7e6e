#!/bin/bash
# Fill the package cache of the real-Xen lab and print its directory.
#
#   tests/xen/fetch-packages.sh [--refetch]
#
# Downloads the Debian 12 Xen 4.17 hypervisor, its tools, a kernel and
# busybox-static as plain .deb files (`apt-get download`), unpacks them with
# `dpkg -x` (nothing is installed, no maintainer script runs) and keeps only
# what the images need.  The cache lives in
#   ${XENBALLOON_XEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xenballoon-xen-lab}/<recipe>/
# and a complete one is reused as it is, without touching the network.
# Concurrent runs are serialised with flock(1) on <cache>/.lock.
#
# Environment:
#   XENBALLOON_XEN_CACHE    cache directory (see above)
#   XENBALLOON_XEN_KVER     kernel ABI, e.g. 6.1.0-56-amd64 (default: the one
#                           behind linux-image-amd64, looked up on first fetch)
#   XENBALLOON_XEN_REFETCH  non-empty: download again even if cached
#
# Only the last line of stdout is the cache directory; everything else goes to
# stderr.  Exit status 2 means the packages could not be had.
set -euo pipefail

RECIPE=xen-4.17-r2  # bump when the package list or the cache layout changes
CACHE_TOP=${XENBALLOON_XEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xenballoon-xen-lab}
CACHE=$CACHE_TOP/$RECIPE
[ "${1:-}" = --refetch ] && XENBALLOON_XEN_REFETCH=1

die() {
    {
        echo
        echo "************************************************************"
        echo "xen-lab: ERROR: $*"
        echo "xen-lab: the real-Xen scenarios can NOT run (nothing was tested)"
        echo "************************************************************"
    } >&2
    exit 2
}
say() { echo "xen-lab: $*" >&2; }

is_complete() { [ -s "$CACHE/READY" ] && [ -s "$CACHE/xen.elf" ] && [ -s "$CACHE/guest-vmlinux" ]; }

mkdir -p "$CACHE_TOP" || die "cannot create the cache directory $CACHE_TOP"
if is_complete && [ -z "${XENBALLOON_XEN_REFETCH:-}" ]; then
    echo "$CACHE"
    exit 0
fi

exec 9>"$CACHE_TOP/.lock"
say "waiting for the cache lock $CACHE_TOP/.lock"
flock 9
if is_complete && [ -z "${XENBALLOON_XEN_REFETCH:-}" ]; then
    echo "$CACHE"  # filled by another run while we waited
    exit 0
fi

for t in apt-get apt-cache dpkg zcat xz flock; do
    command -v "$t" >/dev/null || die "'$t' is missing (a Debian 12 host is needed)"
done

# apt-get download needs the package lists
if [[ $(apt-cache policy xen-utils-4.17 2>/dev/null || true) != *"Candidate: 4"* ]]; then
    say "apt-get update (package lists do not know xen-utils-4.17)"
    apt-get update >&2 || die "apt-get update failed"
fi
KVER=${XENBALLOON_XEN_KVER:-$(apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/.*Depends: linux-image-\(.*\)$/\1/p' | sed -n 1p)}
[ -n "$KVER" ] || die "cannot tell which kernel linux-image-amd64 stands for (apt-cache depends)"

PKGS="xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common xenstore-utils
      libxencall1 libxenevtchn1 libxenforeignmemory1 libxengnttab1 libxenmisc4.17
      libxenstore4 libxentoollog1 libyajl2 libxenhypfs1 libxendevicemodel1
      libxentoolcore1 linux-image-$KVER busybox-static"

NEW=$(mktemp -d "$CACHE_TOP/.new.XXXXXX")
trap 'rm -rf "$NEW"' EXIT
say "downloading into $NEW (kernel $KVER)"
mkdir -p "$NEW/debs" "$NEW/unpacked"
# let apt's unprivileged download user write there (no "unsandboxed" warning)
chmod 0755 "$NEW" && chmod 0777 "$NEW/debs"
# shellcheck disable=SC2086
(cd "$NEW/debs" && apt-get download $PKGS >&2) || die "apt-get download failed for: $(echo $PKGS)"
for d in "$NEW"/debs/*.deb; do
    dpkg -x "$d" "$NEW/unpacked" || die "dpkg -x $d failed"
done
U=$NEW/unpacked
C=$NEW/cache
mkdir -p "$C/modules" "$C/root"

# Xen: QEMU's multiboot loader wants the plain ELF32 image, not the .gz
zcat "$U/boot/xen-4.17-amd64.gz" > "$C/xen.elf" || die "no Xen hypervisor image in the package"
cp "$U/boot/vmlinuz-$KVER" "$C/vmlinuz"
# The guest kernel: the bzImage's xz payload as a plain ELF vmlinux, which
# saves `xl create` ~4 s of decompression under TCG (Debian 12 kernels are
# CONFIG_KERNEL_XZ).  xz stops at the end of the stream; tail then dies of
# SIGPIPE, which is fine.
off=$(LC_ALL=C grep -m1 -obUaP '\xfd7zXZ\x00' "$C/vmlinuz" | cut -d: -f1 | sed -n 1p)
[ -n "$off" ] || die "no xz stream in vmlinuz-$KVER"
{ tail -c +$((off + 1)) "$C/vmlinuz" || true; } | xz -dc --single-stream > "$C/guest-vmlinux"
[ "$(head -c 4 "$C/guest-vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || die "the guest kernel is not ELF"

MD=$U/lib/modules/$KVER/kernel/drivers/xen
for m in xen-privcmd.ko xen-evtchn.ko xen-gntdev.ko xen-gntalloc.ko xenfs/xenfs.ko; do
    cp "$MD/$m" "$C/modules/" || die "kernel module $m missing"
done
# a disk for the guest (the file-cache scenario): a loop device behind xen-blkback in dom0,
# xen-blkfront in the guest
BD=$U/lib/modules/$KVER/kernel/drivers/block
for m in loop.ko xen-blkback/xen-blkback.ko xen-blkfront.ko; do
    cp "$BD/$m" "$C/modules/" || die "kernel module $m missing"
done
# userland: keep the binaries and libraries only (the kernel's modules,
# docs, man pages and the rest are dropped)
(cd "$U" && tar -cf - bin/busybox usr/bin/xenstore usr/lib/xen-4.17/bin usr/lib/x86_64-linux-gnu \
    usr/lib/xen-4.17/lib 2>/dev/null || true) | (cd "$C/root" && tar -xf -)
for f in bin/busybox usr/bin/xenstore usr/lib/xen-4.17/bin/xl usr/lib/xen-4.17/bin/xenstored; do
    [ -x "$C/root/$f" ] || die "$f missing from the unpacked packages"
done
echo "$KVER" > "$C/KVER"
(cd "$NEW/debs" && ls ./*.deb | sed 's|^\./||') > "$C/PACKAGES"
date -u +%Y-%m-%dT%H:%M:%SZ > "$C/READY"

rm -rf "$CACHE.old"
[ -e "$CACHE" ] && mv "$CACHE" "$CACHE.old"
mv "$C" "$CACHE"
rm -rf "$CACHE.old"
say "cache ready: $CACHE ($(du -sh "$CACHE" | cut -f1))"
echo "$CACHE"
