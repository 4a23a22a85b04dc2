#!/bin/bash
# Kernel test (L7): a reliable, ordered byte stream under loss,
# duplication and reordering. FA_BULK_MB (default 20) each way at once
# between finack and the kernel, while finack's fault wrapper drops 5 %,
# duplicates 2 % and reorders 5 % of the frames in both directions; both
# ends check the SHA-256 of what arrived against what was sent.
. "$(dirname "$0")/lib.sh"
fa_setup "$1"
mb=${FA_BULK_MB:-20}
bytes=$((mb * 1000000))
fa_kernel_both_ways 9000 "$bytes"
# Both ends retransmit after 20 ms at the least (the RTT here is ~0.1 ms);
# the kernel through a route metric inside our namespace.
fa_ns ip route change 198.18.0.0/24 dev fa0 rto_min 20ms
start=$(date +%s.%N)
fa_start_tcp --connect "$FA_KERNEL_IP:9000" --send "$bytes" --recv --then shutdown \
    --fault drop=5%,dup=2%,reorder=5% --seed 7 --rto-min 20 --seconds 300
fa_wait_host 300
end=$(date +%s.%N)
cat "$FA_TMP/kernel.out"
grep -E '^(sent|received|faults|  TCP_RETRANSMITS)' "$FA_TMP/host.out"
[ "$FA_HOST_STATUS" = 0 ] || fa_fail "finack-tcp exit status $FA_HOST_STATUS"
fa_check_both_ways "$bytes"
python3 -c "print('%d MB each way in %.1f s with faults' % ($mb, $end - $start))"
echo PASS
