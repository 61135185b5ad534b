#!/bin/sh
# Persistence proof, run inside a lab host (its network and mount namespace):
#   rebuild.sh networkd|netplan|ifcfg "TABLE ..." "DEVICE ..." PROBE_ADDRESS
# 1. flush the runtime state the role made (rules that look up the tables, the tables, the addresses of the
#    secondary devices, their links, their rp_filter) and the 100.64.0.0/10 rule, and show that PROBE_ADDRESS no
#    longer works;
# 2. rebuild it from the written files only: the real systemd-networkd (networkd; netplan after `netplan
#    generate`) run for a few seconds in this namespace, or the ifcfg files replayed the way network-scripts'
#    ifup/ifup-routes read them (ifcfg); the sysctl file applied as systemd-sysctl does.
set -eu
mode=$1 tables=$2 devices=$3 probe=$4

for table in ${tables}; do
    while ip rule del lookup "${table}" 2>/dev/null; do :; done
    ip route flush table "${table}"
done
while ip rule del to 100.64.0.0/10 lookup main priority 999 2>/dev/null; do :; done
for device in ${devices}; do
    ip addr flush dev "${device}"
    ip link set dev "${device}" down
    sysctl -q -w "net.ipv4.conf.${device}.rp_filter=1"
done
if ping -n -q -c 1 -W 1 -I "${probe}" 198.51.100.1 >/dev/null 2>&1; then
    echo "rebuild: ${probe} still reaches the internet after the flush; the test would prove nothing" >&2
    exit 1
fi
echo "flushed: ${probe} is unreachable"

run_networkd() {
    mkdir -p /run/systemd/netif
    chown systemd-network: /run/systemd/netif 2>/dev/null || true
    # A read-only /sys tells networkd not to wait for udev (test-infra.md §4); this /sys is the host's own.
    mount -o remount,ro /sys
    SYSTEMD_LOG_TARGET=console timeout 4 /lib/systemd/systemd-networkd >networkd.log 2>&1 || true
    mount -o remount,rw /sys
    if grep -E ', ignoring|Failed to parse' networkd.log; then
        echo "rebuild: systemd-networkd rejected part of the configuration" >&2
        exit 1
    fi
    grep -E 'Configuring with' networkd.log || true
}

case "${mode}" in
networkd)
    run_networkd
    ;;
netplan)
    netplan generate
    # netplan 0.106 matches `macaddress` as PermanentMACAddress=. A veth has no permanent MAC (ECS virtio
    # NICs do, and it equals the MAC), so the lab matches the current MAC instead; nothing else is changed.
    sed -i 's/^PermanentMACAddress=/MACAddress=/' /run/systemd/network/*.network
    # Only the role's output is rebuilt. The primary NIC's file comes from the seeded cloud-init config and its
    # address was set by hand when the lab was built; networkd 252 fails reconfiguring such an address with
    # "Numerical result out of range" on this kernel, which a real boot (no address yet) never meets.
    for generated in /run/systemd/network/*; do
        case "${generated}" in
        *alicloud-eni*) ;;
        *) rm -f "${generated}" ;;
        esac
    done
    ls /run/systemd/network
    run_networkd
    ;;
ifcfg)
    for device in ${devices}; do
        conf=/etc/sysconfig/network-scripts/ifcfg-${device}
        ip link set dev "${device}" up
        index=0
        while grep -q "^IPADDR${index}=" "${conf}"; do
            address=$(sed -n "s/^IPADDR${index}=//p" "${conf}")
            prefix=$(sed -n "s/^PREFIX${index}=//p" "${conf}")
            ip addr add "${address}/${prefix}" dev "${device}"
            index=$((index + 1))
        done
        # ifup-routes: every line that is not blank or a comment is an `ip route add` / `ip rule add` argument list.
        grep -Ev '^[[:space:]]*(#.*)?$' "/etc/sysconfig/network-scripts/route-${device}" | while read -r line; do
            # shellcheck disable=SC2086
            ip route add ${line}
        done
        grep -Ev '^[[:space:]]*(#.*)?$' "/etc/sysconfig/network-scripts/rule-${device}" | while read -r line; do
            # shellcheck disable=SC2086
            ip rule add ${line}
        done
    done
    ;;
*)
    echo "rebuild: unknown mode ${mode}" >&2
    exit 2
    ;;
esac
# What systemd-sysctl does at boot (and udev for each new interface).
sysctl -q -p /etc/sysctl.d/90-alicloud-eni.conf
echo "rebuilt from files:"
ip -4 rule show
for table in ${tables}; do ip -4 route show table "${table}"; done
