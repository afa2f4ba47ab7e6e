#!/bin/bash
# Prints the path of a cached tarball of a minimal Debian 12 root that can boot systemd, with the
# given extra packages installed (the packages' run-time dependencies, so that installing the
# .deb needs no download on later runs). Makes it with debootstrap on first use.
#
#   tests/packaging/debian-root.sh [PACKAGE...]
#
# The cache is ${XENBALLOON_PACKAGING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xenballoon-packaging}/;
# one tarball per package list (its hash in the name), reused as it is. The mirror is the one this
# machine's apt uses (/etc/apt/sources.list or sources.list.d). Concurrent runs are serialised with
# flock(1). Only the last line of stdout is the tarball; exit status 2: it could not be made.
set -euo pipefail

RECIPE=bookworm-r2  # bump when the base package list or the layout changes
BASE=(systemd systemd-sysv)
CACHE=${XENBALLOON_PACKAGING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xenballoon-packaging}

die() { echo "debian-root: ERROR: $*" >&2; exit 2; }
say() { echo "debian-root: $*" >&2; }

mapfile -t include < <(printf '%s\n' "${BASE[@]}" "$@" | sort -u)
key=$(printf '%s\n' "$RECIPE" "${include[@]}" | sha256sum | cut -c1-12)
tarball=$CACHE/debian-root-$RECIPE-$key.tar
mkdir -p "$CACHE" || die "cannot create the cache directory $CACHE"
if [ -s "$tarball" ]; then
    echo "$tarball"
    exit 0
fi
exec 9>"$CACHE/.lock"
flock 9
if [ -s "$tarball" ]; then echo "$tarball"; exit 0; fi
command -v debootstrap >/dev/null || die "debootstrap is missing (scripts/install-deps.sh test)"
[ "$(id -u)" -eq 0 ] || die "debootstrap needs root"

# The first Debian mirror of the machine's apt sources that serves bookworm itself.
mirror=$(
    {
        if [ -e /etc/apt/sources.list ]; then
            awk '$1 == "deb" && $3 == "bookworm" { print $2 }' /etc/apt/sources.list
        fi
        for f in /etc/apt/sources.list.d/*.sources; do
            [ -e "$f" ] || continue
            awk 'BEGIN { RS = ""; FS = "\n" }
                 {
                   uris = ""; suites = ""
                   for (i = 1; i <= NF; i++) {
                     if ($i ~ /^URIs:/) uris = substr($i, 6)
                     if ($i ~ /^Suites:/) suites = " " substr($i, 8) " "
                   }
                   if (suites ~ / bookworm /) { split(uris, u, " "); print u[1] }
                 }' "$f"
        done
        for f in /etc/apt/sources.list.d/*.list; do
            [ -e "$f" ] || continue
            awk '$1 == "deb" && $3 == "bookworm" { print $2 }' "$f"
        done
    } | sed -n 1p || true)
[ -n "$mirror" ] || die "no bookworm mirror in /etc/apt/sources.list or sources.list.d"

new=$(mktemp -d "$CACHE/.new.XXXXXX")
trap 'rm -rf "$new"' EXIT
say "debootstrap bookworm from $mirror (minbase + ${include[*]})"
incl=$(IFS=,; echo "${include[*]}")
debootstrap --variant=minbase --include="$incl" bookworm "$new/root" "$mirror" >"$new/log" 2>&1 ||
    { tail -20 "$new/log" >&2; die "debootstrap failed (log above)"; }
# apt's lists, for `apt-get -f install` of a dependency the cache does not have yet
rm -rf "$new/root/var/cache/apt/archives/"*.deb
tar -C "$new/root" -cf "$new/root.tar" . || die "cannot write the tarball"
mv "$new/root.tar" "$tarball"
# older recipes and package lists
find "$CACHE" -maxdepth 1 -name 'debian-root-*.tar' ! -name "${tarball##*/}" -delete
say "cached $tarball"
echo "$tarball"
