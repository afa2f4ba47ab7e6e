#!/bin/bash
# shellcheck disable=SC2015 # "a && ok || fail": ok never fails
# Static checks of the packages built by build-packages.sh and of their sources:
#   tests/packaging/lint.sh SOURCE_DIR BUILD_DIR WORK_DIR
# Every check runs; the exit status is 1 when one failed.
set -uo pipefail
src=$1 build=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# The systemd units: exposure at or below the threshold (0 best, 10 worst).
# systemd-analyze counts in tenths: 25 is the 2.5 it prints
declare -A threshold=([xenballoond]=24 [xenballoon-exporter]=22 [xenballoon-balancer]=22)
for unit in xenballoond xenballoon-exporter xenballoon-balancer; do
    out=$(systemd-analyze security --offline=yes --threshold="${threshold[$unit]}" \
        "$src/config/$unit.service" 2>&1)
    rc=$?
    score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out")
    if [ $rc -eq 0 ] && [ -n "$score" ]; then
        ok "$unit.service: exposure $score (threshold ${threshold[$unit]} tenths)"
    else
        echo "$out" | grep -v '^  ✓' | tail -40
        fail "$unit.service: exposure ${score:-?} above ${threshold[$unit]} (or no score)"
    fi
done

# Man pages: one per program, groff without a warning, a NAME section lexgrog can parse.
for page in xenballoond.8 xenballoon-exporter.1 xenballoon-monitor.1 xenballoon-balancer.8 \
    xenballoon-sim.1 xenstored-lite.8; do
    file=$build/packaging/man/$page.gz
    if [ ! -s "$file" ]; then
        fail "man page $page.gz missing (help2man?)"
        continue
    fi
    warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$file" 2>&1 >/dev/null)
    [ -z "$warnings" ] && ok "man --warnings $page" || fail "man --warnings $page: $warnings"
    whatis=$(lexgrog "$file" 2>&1) && ok "lexgrog $page: ${whatis#*: }" || fail "lexgrog $page: $whatis"
done

# The init script: POSIX sh.
sh -n "$src/packaging/init.d/xenballoond" && ok "sh -n init.d/xenballoond" ||
    fail "sh -n init.d/xenballoond"
if command -v shellcheck >/dev/null; then
    for script in "$src/packaging/init.d/xenballoond" "$build"/packaging/deb/*/* "$src"/tests/packaging/*.sh; do
        case $script in */conffiles) continue ;; esac
        out=$(shellcheck -x "$script" 2>&1) && ok "shellcheck ${script#"$build"/}" ||
            fail "shellcheck $script: $out"
    done
fi

# lintian: no error, no warning but the justified ones (lintian-overrides.txt says why).
debs=("$work"/current/*.deb)
suppress=$(grep -v '^#' "$here/lintian-justified.txt" | awk 'NF { print $1 }' | paste -sd, -)
out=$(lintian --fail-on error,warning --display-level '>=warning' --suppress-tags "$suppress" "${debs[@]}" 2>&1)
rc=$?
[ -n "$out" ] && echo "$out"
[ $rc -eq 0 ] && ok "lintian ${debs[*]##*/}" || fail "lintian (above)"

# rpmlint: no error; warnings only those rpmlint-justified.toml filters (and says why).
rpms=("$work"/current/*.rpm)
out=$(rpmlint -c "$here/rpmlint-justified.toml" "${rpms[@]}" 2>&1)
rc=$?
echo "$out" | grep -E ': (E|W): ' || true
summary=$(tail -1 <<<"$out")
echo "rpmlint: $summary"
if [ $rc -eq 0 ] && grep -q ' 0 errors, 0 warnings' <<<"$summary"; then
    ok "rpmlint ${rpms[*]##*/}"
else
    fail "rpmlint: $summary"
fi

# The .rpm's contents, configuration files, scripts and requirements.
check_rpm() {
    local rpm=$1
    shift
    local files config scripts requires
    files=$(rpm -qlp "$rpm" 2>/dev/null)
    config=$(rpm -qcp "$rpm" 2>/dev/null)
    scripts=$(rpm -qp --scripts "$rpm" 2>/dev/null)
    requires=$(rpm -qpR "$rpm" 2>/dev/null)
    echo "== $(basename "$rpm"): files"; echo "$files"
    echo "== configuration files"; echo "$config"
    echo "== requires"; echo "$requires"
    for want in "$@"; do
        case $want in
            config:*) grep -qx "${want#config:}" <<<"$config" || fail "$rpm: ${want#config:} is not %config" ;;
            *) grep -qx "$want" <<<"$files" || fail "$rpm: $want missing" ;;
        esac
    done
    for script in postinstall preuninstall postuninstall; do
        grep -q "^$script scriptlet" <<<"$scripts" || fail "$rpm: no $script scriptlet"
    done
    grep -q 'xen_present' <<<"$scripts" || fail "$rpm: the scripts do not detect Xen"
    grep -q '^libxenstore.so.4()(64bit)' <<<"$requires" || fail "$rpm: no automatic libxenstore requirement"
    grep -q '^libstdc++.so.6' <<<"$requires" || fail "$rpm: no automatic libstdc++ requirement"
    grep -q '^/etc/init.d' <<<"$files" && fail "$rpm: an LSB init script (RHEL-like systems run systemd)"
    # only owned paths: no system directory (they would conflict with the filesystem package)
    grep -Eqx '/(etc|usr|usr/bin|usr/sbin|usr/lib|usr/share|etc/default|etc/init.d|usr/lib/systemd/system)' \
        <<<"$files" && fail "$rpm: claims a system directory"
    while read -r binary; do
        rpm2cpio "$rpm" | (cd "$work/rpm-x" && cpio -idm --quiet ".$binary")
        file -b "$work/rpm-x$binary" | grep -q 'not stripped' && fail "$rpm: $binary not stripped"
    done < <(grep -E '^/usr/s?bin/' <<<"$files")
    echo "== scripts"; echo "$scripts"
}
rm -rf "$work/rpm-x" && mkdir -p "$work/rpm-x"
agent_rpm=$(ls "$work"/current/xenballoon-agent-*.rpm)
dom0_rpm=$(ls "$work"/current/xenballoon-dom0-*.rpm)
check_rpm "$agent_rpm" /usr/sbin/xenballoond /usr/lib/systemd/system/xenballoond.service \
    /usr/share/man/man8/xenballoond.8.gz \
    config:/etc/xenballoon/xenballoond.yaml config:/etc/default/xenballoond
check_rpm "$dom0_rpm" /usr/bin/xenballoon-exporter /usr/bin/xenballoon-monitor \
    /usr/sbin/xenballoon-balancer /usr/lib/systemd/system/xenballoon-exporter.service \
    /usr/lib/systemd/system/xenballoon-balancer.service /usr/share/xenballoon/alerts/xenballoon.rules.yml \
    /usr/share/man/man1/xenballoon-exporter.1.gz config:/etc/xenballoon/xenballoon-balancer.yaml
rm -rf "$work/rpm-x"

# The .deb: stripped binaries, the conffiles.
for deb in "${debs[@]}"; do
    x=$work/deb-x
    rm -rf "$x" && mkdir -p "$x" && dpkg-deb -x "$deb" "$x" && dpkg-deb -e "$deb" "$x/DEBIAN"
    for binary in "$x"/usr/bin/* "$x"/usr/sbin/*; do
        [ -e "$binary" ] || continue
        file -b "$binary" | grep -q 'not stripped' && fail "$(basename "$deb"): ${binary#"$x"} not stripped"
    done
    while read -r conffile; do
        [ -f "$x$conffile" ] || fail "$(basename "$deb"): conffile $conffile not in the package"
    done <"$x/DEBIAN/conffiles"
    ok "$(basename "$deb"): stripped, $(wc -l <"$x/DEBIAN/conffiles") conffiles"
    rm -rf "$x"
done

[ $failures -eq 0 ] && echo "packaging lint: all checks passed" || echo "packaging lint: $failures failed"
[ $failures -eq 0 ]
