#!/bin/bash
# Kernel test (issue 10): Linux and finack with every option of the SYN
# exchange agreed — MSS, window scale, SACK-permitted, timestamps — move
# FA_MODERN_MB (default 200) each way at once while finack's fault wrapper
# drops 2 % and reorders 5 % of the frames in both directions; both ends
# check the SHA-256 of what arrived. A second, short run (2 MB) is
# recorded: tshark must decode every option finack sent, find SACK blocks
# and timestamps in its segments, and report nothing malformed.
. "$(dirname "$0")/lib.sh"
fa_setup "$1"
command -v tshark >/dev/null || fa_skip "no tshark"
mb=${FA_MODERN_MB:-200}
bytes=$((mb * 1000000))
# run PORT BYTES [finack-tcp options]: both ways at once, hashes compared.
run() {
    port=$1; n=$2; shift 2
    fa_kernel_both_ways "$port" "$n"
    fa_start_tcp --connect "$FA_KERNEL_IP:$port" --send "$n" --recv --then shutdown \
        --rcvbuf 4194304 --sndbuf 4194304 --fault drop=2%,reorder=5% --seed 11 \
        --seconds 300 "$@"
    fa_wait_host 300
    cat "$FA_TMP/kernel.out"
    grep -E '^(sent|received|faults)|TCP_(RETRANSMITS|RECOVERIES|RTO_RECOVERIES|DSACKS_IN|UNDOS|LOSS_PROBES|PAWS)' \
        "$FA_TMP/host.out"
    [ "$FA_HOST_STATUS" = 0 ] || fa_fail "finack-tcp exit status $FA_HOST_STATUS"
    fa_check_both_ways "$n"
}
start=$(date +%s.%N)
run 9000 "$bytes"
end=$(date +%s.%N)
python3 -c "print('%d MB each way in %.1f s, 2 %% drop and 5 %% reordering' % ($mb, $end - $start))"
# A short run recorded, for the options.
run 9001 2000000 --pcap "$FA_TMP/m.pcap"

# The options, as tshark reads them.
F=$FA_FINACK_IP; K=$FA_KERNEL_IP
opts() { tshark -r "$FA_TMP/m.pcap" -Y "$1" -T fields -e tcp.options.mss_val \
             -e tcp.options.wscale.shift -e tcp.options.sack_perm -e tcp.options.timestamp.tsval \
             2>/dev/null | head -1; }
syn=$(opts "ip.src == $F && tcp.flags.syn == 1 && tcp.flags.ack == 0")
synack=$(opts "ip.src == $K && tcp.flags.syn == 1 && tcp.flags.ack == 1")
echo "finack SYN (mss, wscale, sack_perm, tsval): $syn"
echo "kernel SYN-ACK:                            $synack"
for s in "$syn" "$synack"; do
    [ "$(echo "$s" | awk -F'\t' '$1 && $2 != "" && $3 != "" && $4 { print "ok" }')" = ok ] ||
        fa_fail "a SYN lacks an option: '$s'"
done
sacks=$(tshark -r "$FA_TMP/m.pcap" -Y "ip.src == $F && tcp.options.sack_le" 2>/dev/null | wc -l)
nots=$(tshark -r "$FA_TMP/m.pcap" -Y "ip.src == $F && tcp && !tcp.flags.reset && !tcp.options.timestamp.tsval" \
       2>/dev/null | wc -l)
bad=$(tshark -r "$FA_TMP/m.pcap" -Y "ip.src == $F && (_ws.malformed || _ws.expert.message contains \"option\")" \
      2>/dev/null | wc -l)
echo "finack segments with SACK blocks: $sacks; without timestamps: $nots; option warnings: $bad"
[ "$sacks" -gt 0 ] || fa_fail "finack never sent a SACK block under loss"
[ "$nots" = 0 ] || fa_fail "finack sent segments without timestamps"
[ "$bad" = 0 ] || fa_fail "tshark finds finack's options malformed"
echo PASS
