#!/bin/bash
# Kernel test: the kernel resolves finack's MAC by ARP and 1000 pings at
# 2 ms intervals all come back; the pcap of the run opens in tshark with
# no malformed packets and holds every request and reply.
. "$(dirname "$0")/lib.sh"
fa_setup "$1"
fa_start_host --pcap "$FA_TMP/ping.pcap"

out=$(fa_ns ping -c 1000 -i 0.002 -W 2 -q "$FA_FINACK_IP") || true
echo "$out" | tail -2
echo "$out" | grep -q '1000 packets transmitted, 1000 received' || fa_fail "lost pings: $out"

mac=$(fa_ns ip neigh show "$FA_FINACK_IP" dev fa0 | awk '{print $3}')
grep -q "mac $mac" "$FA_TMP/host.out" || fa_fail "kernel's neighbour entry '$mac' is not finack's MAC"

fa_stop_host
cat "$FA_TMP/host.out"
[ "$(fa_counter ICMP_ECHO_IN)" = 1000 ] || fa_fail "finack answered $(fa_counter ICMP_ECHO_IN) echoes"
[ "$(fa_counter ARP_REQUESTS_IN)" -ge 1 ] || fa_fail "finack answered no ARP request"

if command -v tshark >/dev/null; then
    bad=$(tshark -r "$FA_TMP/ping.pcap" -Y '_ws.malformed || _ws.expert.severity >= error' 2>/dev/null | wc -l)
    requests=$(tshark -r "$FA_TMP/ping.pcap" -Y 'icmp.type == 8' 2>/dev/null | wc -l)
    replies=$(tshark -r "$FA_TMP/ping.pcap" -Y 'icmp.type == 0 && ip.src == 198.18.0.2' 2>/dev/null | wc -l)
    arp=$(tshark -r "$FA_TMP/ping.pcap" -Y 'arp.opcode == 2 && arp.src.proto_ipv4 == 198.18.0.2' 2>/dev/null | wc -l)
    echo "pcap: $requests requests, $replies replies, $arp ARP replies from finack, $bad malformed/error"
    [ "$bad" = 0 ] || fa_fail "tshark found $bad malformed packets"
    [ "$requests" = 1000 ] && [ "$replies" = 1000 ] || fa_fail "pcap holds $requests requests, $replies replies"
    [ "$arp" -ge 1 ] || fa_fail "pcap holds no ARP reply from finack"
else
    fa_fail "tshark is not installed (scripts/deps.sh installs it)"
fi
echo "PASS"
