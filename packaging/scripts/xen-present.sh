# xen_present ROLE: true when this system runs on Xen in that role, detected as Xen's own tools
# do. guest: a Xen domain (/proc/xen, or "xen" in /sys/hypervisor/type); dom0: the control domain
# ("control_d" in /proc/xen/capabilities).
xen_present() {
    if [ ! -d /proc/xen ] && ! grep -qs '^xen' /sys/hypervisor/type; then
        return 1
    fi
    case "$1" in
        dom0) grep -qs control_d /proc/xen/capabilities ;;
        *) ! grep -qs control_d /proc/xen/capabilities ;;
    esac
}
