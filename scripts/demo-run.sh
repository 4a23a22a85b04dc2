#!/bin/bash
# demo-run.sh FINACK_HOST — the demo itself (see demo.sh), on the same
# namespace harness as the kernel tests.
. "$(dirname "$0")/../tests/kernel/lib.sh"
fa_setup "$1"
echo "== namespace $FA_NS: kernel is $FA_KERNEL_IP on TAP fa0, finack is $FA_FINACK_IP"
fa_start_host --pcap "$FA_TMP/demo.pcap"
head -1 "$FA_TMP/host.out"
echo "== the kernel pings finack (it resolves finack's MAC by ARP first)"
fa_ns ping -c 5 -i 0.2 "$FA_FINACK_IP"
echo "== the kernel's neighbour table"
fa_ns ip neigh show dev fa0
echo "== a UDP datagram to a closed finack port: finack answers ICMP port unreachable"
fa_ns bash -c "echo hello > /dev/udp/$FA_FINACK_IP/9" || true
fa_ns ping -c 1 -W 1 "$FA_FINACK_IP" >/dev/null
fa_stop_host
echo "== finack's counters"
tail -n +2 "$FA_TMP/host.out"
if command -v tshark >/dev/null; then
    echo "== the capture (tshark)"
    tshark -r "$FA_TMP/demo.pcap" 2>/dev/null | head -20
fi
echo "== cleaning up namespace $FA_NS"
