#!/bin/bash
# Builds the packages of a build tree with CPack: the .deb and .rpm of both components, and the
# same .deb one release up (the install test's upgrade).
#   tests/packaging/build-packages.sh BUILD_DIR WORK_DIR
# Writes WORK_DIR/current/ and WORK_DIR/next/.
set -euo pipefail
build=$1 work=$2
release=$(sed -n 's/^XENBALLOON_PACKAGE_RELEASE:STRING=//p' "$build/CMakeCache.txt")
[ -n "$release" ] || { echo "build-packages: no XENBALLOON_PACKAGE_RELEASE in $build" >&2; exit 1; }
rm -rf "$work/current" "$work/next" "$work/cpack"
mkdir -p "$work/current" "$work/next"
# CPack's staging trees under work/cpack, the packages moved out of it
cpack -G "DEB;RPM" --config "$build/CPackConfig.cmake" -B "$work/cpack" >"$work/cpack.log" 2>&1 ||
    { cat "$work/cpack.log" >&2; exit 1; }
mv "$work/cpack"/*.deb "$work/cpack"/*.rpm "$work/current/"
# The upgrade's package: the same .deb repacked one release up (a second cpack run would install
# and strip everything again for the same files).
for deb in "$work"/current/*.deb; do
    x=$work/cpack/repack
    rm -rf "$x"
    dpkg-deb -R "$deb" "$x"
    version=$(sed -n 's/^Version: //p' "$x/DEBIAN/control")
    next=${version%-*}-$((release + 1))
    sed -i "s/^Version: .*/Version: $next/" "$x/DEBIAN/control"
    dpkg-deb --root-owner-group -Zxz -b "$x" "$work/next/$(basename "${deb/_${version}_/_${next}_}")" >/dev/null
    rm -rf "$x"
done
ls -l "$work/current" "$work/next"
for deb in "$work/current"/*.deb; do
    echo "== $(basename "$deb")"
    dpkg-deb --field "$deb" Package Version Depends Recommends
done
