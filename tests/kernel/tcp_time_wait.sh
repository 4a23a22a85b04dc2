#!/bin/bash
# Kernel test (L14): finack closes first and sits in TIME-WAIT (MSL
# 1 s here, so 2 MSL = 2 s). Its ACKs of the kernel's FIN are dropped for
# 1.5 s (nftables at the kernel's ingress, inside our namespace), so the
# kernel retransmits its FIN (~0.2, 0.6, 1.4, 3.0 s; later under load).
# Each retransmitted FIN is ACKed again and restarts the 2 MSL timer: the
# one near 3 s, past the first 2 s, still finds TIME-WAIT (an expired one
# would answer RST). The kernel ends CLOSED; finack's entry expires.
. "$(dirname "$0")/lib.sh"
fa_setup "$1"
command -v nft >/dev/null || fa_skip "no nft"
fa_kernel_server 9000 "
while c.recv(65536): pass
print('eof', flush=True)
sys.stdin.readline()
c.close()
time.sleep(4)" ctl
fa_start_tcp --connect "$FA_KERNEL_IP:9000" --send 1000 --then shutdown --recv --trace \
    --msl 1000 --stay 6 --pcap "$FA_TMP/tw.pcap" --seconds 30
fa_kernel_wait '^eof'
fa_ns nft add table netdev fa
fa_ns nft add chain netdev fa in "{ type filter hook ingress device fa0 priority 0; }"
# Bare ACKs: 40 bytes, 52 with timestamps.
fa_ns nft add rule netdev fa in ip saddr "$FA_FINACK_IP" ip length 40-60 tcp flags == ack drop
echo close >&3
sleep 1.5
fa_ns nft delete table netdev fa
fa_wait_host 20
cat "$FA_TMP/host.out"
[ "$FA_HOST_STATUS" = 0 ] || fa_fail "exit status $FA_HOST_STATUS"
states=$(awk '$1 == "state" { printf "%s ", $3 }' "$FA_TMP/host.out")
[ "$states" = "SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT " ] || fa_fail "states: $states"
grep -q '^conn ' "$FA_TMP/host.out" && fa_fail "a connection outlived TIME-WAIT"
fins=$(tshark -r "$FA_TMP/tw.pcap" -Y "ip.src == $FA_KERNEL_IP && tcp.flags.fin == 1" 2>/dev/null | wc -l)
acks=$(tshark -r "$FA_TMP/tw.pcap" -Y "ip.src == $FA_FINACK_IP && tcp.flags == 0x010 && tcp.len == 0" \
       -T fields -e frame.time_relative -e tcp.ack_raw 2>/dev/null | awk '{print $2}' | sort | uniq -c | sort -rn | head -1 | awk '{print $1}')
rsts=$(tshark -r "$FA_TMP/tw.pcap" -Y "ip.src == $FA_FINACK_IP && tcp.flags.reset == 1" 2>/dev/null | wc -l)
echo "kernel FINs: $fins; finack's ACKs of the FIN: $acks; finack's RSTs: $rsts"
[ "$fins" -ge 3 ] || fa_fail "the kernel did not retransmit its FIN twice"
[ "$acks" -ge 3 ] || fa_fail "finack did not ACK each FIN"
[ "$rsts" = 0 ] || fa_fail "finack answered with RST: TIME-WAIT was gone"
fa_ss state last-ack | grep -q . && fa_fail "kernel stuck in LAST-ACK"
echo PASS
