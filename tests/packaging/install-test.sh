#!/bin/bash
# shellcheck disable=SC2016 # single-quoted scripts for the shells in the root
# The install test: the .deb packages of build-packages.sh in a fresh Debian 12 root booted with
# systemd as PID 1.
#   tests/packaging/install-test.sh BUILD_DIR WORK_DIR XENSTORED_LITE
#
# The root is the cached debootstrap tarball of debian-root.sh, unpacked onto a tmpfs mounted on
# WORK_DIR/root inside a mount namespace of its own, where systemd boots under
# `unshare --mount --pid --cgroup --fork` (a cgroup of its own too). Everything the test starts
# lives in that PID namespace and ends with it; the root and its mounts live only in that mount
# namespace, so nothing is left to unmount or delete when it ends, whatever failed. The network is the machine's: the
# daemons listen on free loopback ports. There is no Xen, so the units' Xen conditions are
# reset by a drop-in, the agent and the balancer run with --dry-run (they compute and serve, never
# balloon; the balancer's host memory from a file) and the exporter and the balancer read a
# xenstored-lite started in the root.
set -euo pipefail
work=$2 xenstored_lite=$3  # $1, the build tree: for the command line's symmetry
here=$(cd "$(dirname "$0")" && pwd)
root=$work/root
step_start=$SECONDS

say() { echo "[$((SECONDS - step_start)) s] $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }
for tool in unshare nsenter chroot dpkg-deb curl python3; do
    command -v $tool >/dev/null || die "$tool is missing"
done
[ "$(id -u)" -eq 0 ] || die "the install test needs root (debootstrap, namespaces)"

# ---- the root ------------------------------------------------------------------------------
current=("$work"/current/xenballoon-agent_*.deb "$work"/current/xenballoon-dom0_*.deb)
next=("$work"/next/xenballoon-agent_*.deb "$work"/next/xenballoon-dom0_*.deb)
for deb in "${current[@]}" "${next[@]}"; do [ -s "$deb" ] || die "no package $deb (packaging_build)"; done
# The packages' dependencies come with the cached root: installing needs no download.
mapfile -t deps < <(for deb in "${current[@]}"; do dpkg-deb --field "$deb" Depends; done |
    tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/^ *//; s/ *$//' | grep -v '^$' | sort -u)
tarball=$("$here/debian-root.sh" "${deps[@]}" | tail -1)
say "root from $tarball"

sd_pid=""
cgroup_dirs=()
cleanup() {
    local rc=$?
    if [ -n "$sd_pid" ] && kill -0 "$sd_pid" 2>/dev/null; then
        # halt; the PID namespace (everything started in it) ends with its init
        kill -s RTMIN+3 "$sd_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$sd_pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$sd_pid" 2>/dev/null || true
    fi
    if [ -n "${unshare_pid:-}" ]; then
        for _ in $(seq 50); do kill -0 "$unshare_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$unshare_pid" 2>/dev/null || true
        wait "$unshare_pid" 2>/dev/null || true
    fi
    # the cgroups systemd made, deepest first
    for dir in "${cgroup_dirs[@]}"; do
        [ -d "$dir" ] && find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    # the root was a tmpfs of the namespace, which is gone
    rmdir "$root" 2>/dev/null || true
    exit $rc
}
trap cleanup EXIT

mkdir -p "$root" "$work/packages/current" "$work/packages/next"
rm -f "$work"/packages/*/*.deb
cp "${current[@]}" "$work/packages/current/"
cp "${next[@]}" "$work/packages/next/"

# ---- boot ---------------------------------------------------------------------------------
# A cgroup of its own for the root's systemd (it sees it as the top of the hierarchy).
name=xenballoon-packaging-$$
if [ -e /sys/fs/cgroup/cgroup.procs ]; then
    cgroup_dirs=("/sys/fs/cgroup/$name")
else
    for hierarchy in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified; do
        [ -d "$hierarchy" ] && cgroup_dirs+=("$hierarchy/$name")
    done
fi
mkdir -p "${cgroup_dirs[@]}"
# In the new namespaces: the root on a tmpfs, the packages and xenstored-lite in it, the API
# file systems, then systemd.
boot() {
    mount --make-rprivate /
    mount -t tmpfs -o mode=0755,size=2g xenballoon-test-root "$root"
    tar -C "$root" -xf "$tarball"
    cp -r "$work/packages" "$root/root/packages"
    install -m 0755 "$xenstored_lite" "$root/usr/local/sbin/xenstored-lite"
    mount -t proc proc "$root/proc"
    # The kernel's settings are the machine's: read-only, as in a container (systemd-sysctl and
    # the like then leave them alone).
    mount --bind "$root/proc/sys" "$root/proc/sys"
    mount -o remount,bind,ro "$root/proc/sys"
    mount -t sysfs -o ro sysfs "$root/sys"
    mount --rbind /dev "$root/dev"
    exec chroot "$root" /usr/bin/env -i container=xenballoon-test /lib/systemd/systemd
}
export root tarball work xenstored_lite
export -f boot
bash -c 'for dir in "$@"; do echo $$ >"$dir/cgroup.procs"; done
         exec unshare --mount --pid --cgroup --fork bash -c "set -e; boot"' _ "${cgroup_dirs[@]}" \
    >"$work/boot.log" 2>&1 &
unshare_pid=$!
for _ in $(seq 100); do
    sd_pid=$(ps -o pid= --ppid "$unshare_pid" 2>/dev/null | tr -d ' ' || true)
    [ -n "$sd_pid" ] && break
    sleep 0.1
done
[ -n "$sd_pid" ] || die "systemd did not start (boot.log: $(cat "$work/boot.log"))"

# Runs a command in the booted root.
in_root() { nsenter --target "$sd_pid" --mount --pid --root --wd -- /usr/bin/env -i \
    PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
state=""
for _ in $(seq 150); do
    state=$(in_root systemctl is-system-running 2>/dev/null || true)
    case $state in running | degraded) break ;; esac
    sleep 0.2
done
case $state in
    running) say "systemd is PID 1 in the root: $state" ;;
    degraded) in_root systemctl --failed --no-pager; die "the root booted degraded" ;;
    *) die "the root did not boot (state '$state'; $(tail -5 "$work/boot.log"))" ;;
esac

# ---- checks -------------------------------------------------------------------------------
failures=0
check() {  # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failures=$((failures + 1)); fi
}
is_active() { [ "$(in_root systemctl is-active "$1" || true)" = "$2" ]; }
wait_active() {  # unit state
    for _ in $(seq 100); do is_active "$1" "$2" && return 0; sleep 0.1; done
    in_root systemctl status --no-pager "$1" || true
    return 1
}
prop() { in_root systemctl show -p "$2" --value "$1"; }
status_of() { in_root dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null || echo "not-installed"; }
journal_has() {  # unit-or-tag text: the text appears in the journal since the last mark
    for _ in $(seq 50); do
        in_root journalctl --no-pager -o cat "$1" | grep -qF "$2" && return 0
        sleep 0.1
    done
    return 1
}
free_ports() { python3 -c '
import socket
s = [socket.socket() for _ in range(4)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))'; }
read -r agent_port exporter_port balancer_port hand_port < <(free_ports)

# Install (dpkg -i, then apt-get -f install for any missing dependency).
out=$(in_root sh -c 'dpkg -i /root/packages/current/*.deb 2>&1 || apt-get -f install -y -q 2>&1')
echo "$out"
check "both packages installed" \
    test "$(status_of xenballoon-agent | cut -d' ' -f1-3)$(status_of xenballoon-dom0 | cut -d' ' -f1-3)" \
    = "install ok installedinstall ok installed"
check "postinst says the agent is not started without Xen" grep -q "xenballoon-agent: not a Xen guest" <<<"$out"
check "postinst says the dom0 services are not started without Xen" grep -q "xenballoon-dom0: not a Xen dom0" <<<"$out"
for unit in xenballoond xenballoon-exporter xenballoon-balancer; do
    check "$unit enabled" test "$(in_root systemctl is-enabled $unit || true)" = enabled
    check "$unit not started" is_active "$unit" inactive
    verify=$(in_root systemd-analyze verify --man=no /usr/lib/systemd/system/$unit.service 2>&1 || true)
    check "systemd-analyze verify $unit.service prints nothing${verify:+: $verify}" test -z "$verify"
done
check "the machine's kernel settings are left alone (systemd-sysctl skipped)" \
    test "$(prop systemd-sysctl ConditionResult)" = no
check "the init script is registered for runlevel 2" in_root sh -c "ls /etc/rc2.d/S*xenballoond >/dev/null"

# No Xen here: drop the units' Xen conditions, dry-run the agent, a xenstored-lite for the exporter.
write() { in_root sh -c 'mkdir -p "$(dirname "$1")" && cat >"$1"' _ "$1"; }
for unit in xenballoond xenballoon-exporter xenballoon-balancer; do
    printf '[Unit]\nConditionVirtualization=\nConditionPathExists=\n' |
        write /etc/systemd/system/$unit.service.d/no-xen.conf
done
write /etc/default/xenballoond <<EOF
ARGS="--dry-run --web.listen-address 127.0.0.1:$agent_port"
XENSTORED_PATH=/run/no-xenstored/socket
EOF
write /etc/default/xenballoon-exporter <<EOF
ARGS="--web.listen-address=127.0.0.1:$exporter_port"
XENSTORED_PATH=/run/xenstored-lite/socket
EOF
write /etc/default/xenballoon-balancer <<EOF
ARGS="--dry-run --host-memory-file /etc/xenballoon/host-memory --web.listen-address 127.0.0.1:$balancer_port"
XENSTORED_PATH=/run/xenstored-lite/socket
EOF
echo "8388608 4194304" | write /etc/xenballoon/host-memory
in_root systemctl daemon-reload
in_root systemd-run --quiet --unit=xenstored-lite --property=Type=notify \
    /usr/local/sbin/xenstored-lite --rundir /run/xenstored-lite
check "xenstored-lite runs in the root" wait_active xenstored-lite active

# systemd: start, reload, a second agent by hand, stop.
daemons=(xenballoond xenballoon-exporter xenballoon-balancer)
in_root systemctl start "${daemons[@]}" || true
declare -A main_pid
for unit in "${daemons[@]}"; do
    check "$unit.service active (READY=1)" wait_active "$unit" active
    main_pid[$unit]=$(prop "$unit" MainPID)
    check "$unit's watchdog is on" test "$(prop "$unit" WatchdogUSec)" = 30s
done
agent_pid=${main_pid[xenballoond]}
check "the agent serves /metrics" \
    sh -c "curl -sf http://127.0.0.1:$agent_port/metrics | grep -q '^xenballoon_memory_mem_total_bytes'"
check "the exporter is connected to xenstored-lite (/healthz)" \
    curl -sf -o /dev/null "http://127.0.0.1:$exporter_port/healthz"
check "the exporter serves /metrics" \
    sh -c "curl -sf http://127.0.0.1:$exporter_port/metrics | grep -q '^xenballoon_exporter_'"
check "the balancer serves /metrics" \
    sh -c "curl -sf http://127.0.0.1:$balancer_port/metrics | grep -q '^xenballoon_balancer_'"
in_root systemctl reload "${daemons[@]}"
check "systemctl reload: the agent re-read its configuration" \
    journal_has -uxenballoond "SIGHUP: configuration reloaded from /etc/xenballoon/xenballoond.yaml"
check "systemctl reload: the exporter took SIGHUP" \
    journal_has -uxenballoon-exporter "SIGHUP: no --web.config.file to reload"
check "systemctl reload: the balancer re-read its configuration" \
    journal_has -uxenballoon-balancer "SIGHUP: configuration reloaded from /etc/xenballoon/xenballoon-balancer.yaml"
for unit in "${daemons[@]}"; do
    check "after reload $unit is the same process" test "$(prop "$unit" MainPID)" = "${main_pid[$unit]}"
done
# /run is the booted root's own tmpfs: read it from inside
pidfile() { in_root cat /run/xenballoond.pid 2>/dev/null || true; }
check "the agent's pidfile holds its PID" test "$(pidfile)" = "$agent_pid"
set +e
hand=$(in_root timeout 10 xenballoond --config /etc/xenballoon/xenballoond.yaml --dry-run \
    --web.listen-address "127.0.0.1:$hand_port" 2>&1)
hand_rc=$?
set -e
check "a second agent by hand is refused (exit $hand_rc: $hand)" \
    test "$hand_rc" = 1 -a "$hand" = "xenballoond: already running: PID $agent_pid holds the pidfile /run/xenballoond.pid"
check "the init script sees the unit's agent" \
    test "$(in_root env SYSTEMCTL_SKIP_REDIRECT=1 /etc/init.d/xenballoond status)" = "xenballoond: running (PID $agent_pid)"
in_root systemctl stop "${daemons[@]}"
for unit in "${daemons[@]}"; do
    check "$unit stopped" is_active "$unit" inactive
    check "$unit stopped cleanly (Result=$(prop "$unit" Result), status $(prop "$unit" ExecMainStatus))" \
        test "$(prop "$unit" Result)/$(prop "$unit" ExecMainStatus)" = success/0
done
check "the agent removed its pidfile" in_root test ! -e /run/xenballoond.pid

# The LSB init script, without systemd's hand-over.
init() { in_root env SYSTEMCTL_SKIP_REDIRECT=1 XENSTORED_PATH=/run/no-xenstored/socket /etc/init.d/xenballoond "$@"; }
set +e
init status >/dev/null; rc_stopped=$?
out=$(init start); rc_start=$?
set -e
check "init script: status of a stopped agent is 3 (got $rc_stopped)" test $rc_stopped = 3
check "init script: start ($out)" test $rc_start = 0
init_pid=$(pidfile)
check "init script: status 0 with its PID" test "$(init status)" = "xenballoond: running (PID $init_pid)"
check "init script: a second start finds it running" test "$(init start)" = "xenballoond: already running (PID $init_pid)"
check "init script: the agent serves /metrics" curl -sf -o /dev/null "http://127.0.0.1:$agent_port/metrics"
check "init script: reload" init reload
check "init script: the agent re-read its configuration (syslog)" \
    journal_has -txenballoond "SIGHUP: configuration reloaded from /etc/xenballoon/xenballoond.yaml"
check "init script: force-reload" init force-reload
check "init script: the same agent after reloads" test "$(pidfile)" = "$init_pid"
check "init script: restart" init restart
restarted_pid=$(pidfile)
check "init script: a new agent after restart ($init_pid -> $restarted_pid)" \
    test -n "$restarted_pid" -a "$restarted_pid" != "$init_pid"
check "init script: stop" test "$(init stop)" = "xenballoond: stopped"
set +e
init status >/dev/null; rc_stopped=$?
set -e
check "init script: status 3 after stop (got $rc_stopped)" test $rc_stopped = 3
check "init script: the agent is gone" in_root sh -c "! kill -0 $restarted_pid 2>/dev/null"

# Upgrade over this build: a changed conffile is kept, the new version installed.
in_root sh -c 'echo "# changed by the administrator" >>/etc/xenballoon/xenballoond.yaml'
in_root cat /etc/default/xenballoond >"$work/default-before"
next_version=$(dpkg-deb --field "${next[0]}" Version)
in_root sh -c 'dpkg -i /root/packages/next/*.deb </dev/null' || true
check "upgraded to $next_version" test "$(status_of xenballoon-agent)" = "install ok installed $next_version"
check "upgraded xenballoon-dom0 too" test "$(status_of xenballoon-dom0)" = "install ok installed $next_version"
check "the changed xenballoond.yaml is kept" \
    test "$(in_root tail -1 /etc/xenballoon/xenballoond.yaml)" = "# changed by the administrator"
same_default() { in_root cat /etc/default/xenballoond | cmp -s "$work/default-before" -; }
check "the changed /etc/default/xenballoond is kept" same_default
check "no .dpkg-new or .dpkg-dist left" \
    test -z "$(in_root find /etc -name '*.dpkg-*' -print -quit)"
check "still enabled after the upgrade" test "$(in_root systemctl is-enabled xenballoond || true)" = enabled

# Remove: a running agent is stopped, the configuration stays.
in_root systemctl start xenballoond || true
check "the agent runs before remove" wait_active xenballoond active
files=$(in_root dpkg -L xenballoon-agent xenballoon-dom0)
in_root dpkg -r xenballoon-agent xenballoon-dom0 >/dev/null
check "remove: both packages leave only their configuration" \
    test "$(status_of xenballoon-agent | cut -d' ' -f1-3)" = "deinstall ok config-files"
check "remove: the agent was stopped" is_active xenballoond inactive
check "remove: the programs are gone" in_root test ! -e /usr/sbin/xenballoond -a ! -e /usr/bin/xenballoon-exporter
for conffile in /etc/xenballoon/xenballoond.yaml /etc/default/xenballoond /etc/init.d/xenballoond \
    /etc/xenballoon/xenballoon-balancer.yaml /etc/default/xenballoon-exporter; do
    check "remove: $conffile stays" in_root test -e "$conffile"
done
check "remove: the init script is masked for systemd" \
    test "$(in_root readlink /etc/systemd/system/xenballoond.service)" = /dev/null

# Purge: nothing is left.
in_root rm -rf /etc/systemd/system/xenballoond.service.d /etc/systemd/system/xenballoon-exporter.service.d \
    /etc/systemd/system/xenballoon-balancer.service.d /etc/xenballoon/host-memory
in_root dpkg -P xenballoon-agent xenballoon-dom0 >/dev/null
check "purge: the packages are unknown to dpkg" \
    test "$(status_of xenballoon-agent)$(status_of xenballoon-dom0)" = "not-installednot-installed"
left=$(while read -r path; do
    case $path in /. | /etc | /etc/default | /etc/init.d | /usr | /usr/bin | /usr/sbin | /usr/lib | \
        /usr/lib/systemd | /usr/lib/systemd/system | /usr/share | /usr/share/doc | /usr/share/man | \
        /usr/share/man/man[18]) continue ;; esac
    echo "$path"
done <<<"$files" | in_root sh -c 'while read -r path; do [ -e "$path" ] || [ -L "$path" ] && echo "$path"; done; true'

in_root find /etc /var/lib/systemd /var/lib/dpkg/info /run -name '*xenballoon*' -print)
check "purge: nothing left${left:+: $left}" test -z "$left"

say "$failures failed"
[ $failures -eq 0 ]
