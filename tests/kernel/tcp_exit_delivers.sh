#!/bin/bash
# Kernel test: a program that stops with data still queued delivers it
# after close(), as the kernel does for an orphaned socket, and says so
# when it gives up (issue 9).
#  a) the kernel reads nothing for 6 s, so finack's send buffer is full
#     when finack-tcp stops (--seconds 2): every queued byte still
#     arrives once the kernel reads, then the FIN; exit status 0.
#  b) the kernel never reads: with --exit-wait 3, finack-tcp gives up,
#     says how much was left, and exits with status 4.
. "$(dirname "$0")/lib.sh"
fa_setup "$1"
echo "== a) the reader comes back after 6 s"
fa_kernel_server 9000 "time.sleep(6)
$(fa_py_recv_hash got)"
fa_start_tcp --connect "$FA_KERNEL_IP:9000" --send 50000000 --seconds 2 --exit-wait 30
fa_wait_host 40
[ "$FA_HOST_STATUS" = 0 ] || fa_fail "a) finack-tcp exited with status $FA_HOST_STATUS"
fa_kernel_wait '^got'
queued=$(awk '$1 == "stopped" { print $5, $7 }' "$FA_TMP/host.out")
got=$(awk '$1 == "got" { print $2, $3 }' "$FA_TMP/kernel.out")
echo "finack queued $queued; kernel got $got"
[ -n "$queued" ] && [ "$queued" = "$got" ] || fa_fail "a) queued bytes were lost"
[ "${got%% *}" -gt 65536 ] || fa_fail "a) too little was queued to test anything"

echo "== b) the reader never comes back"
fa_kernel_server 9001 "time.sleep(60)"
fa_start_tcp --connect "$FA_KERNEL_IP:9001" --send 50000000 --seconds 2 --exit-wait 3
fa_wait_host 20
echo "exit status $FA_HOST_STATUS"
[ "$FA_HOST_STATUS" = 4 ] || fa_fail "b) expected exit status 4, got $FA_HOST_STATUS"
fa_expect 'gave up at exit after 3\.[0-9] s: 1 connection still held [0-9]+ bytes'
echo PASS
