#!/bin/bash
# Kernel test (L1, L10): finack connects to a kernel server, sends 1 MB
# and closes first (FIN-WAIT-1, FIN-WAIT-2). The kernel is seen in
# CLOSE-WAIT; with finack paused (SIGSTOP, our own process) the kernel's
# FIN goes unanswered and it is seen in LAST-ACK; resumed, finack ACKs it
# and ends in TIME-WAIT. The kernel received exactly what finack sent.
. "$(dirname "$0")/lib.sh"
fa_setup "$1"
fa_kernel_server 9000 "$(fa_py_recv_hash eof)
sys.stdin.readline()
c.close()
print('closed', flush=True)
sys.stdin.readline()" ctl
fa_start_tcp --connect "$FA_KERNEL_IP:9000" --send 1000000 --then shutdown --recv --trace --seconds 30
fa_kernel_wait '^eof'
fa_ss state close-wait | grep -q "$FA_KERNEL_IP:9000" || fa_fail "kernel not in CLOSE-WAIT"
echo "kernel: CLOSE-WAIT seen"
kill -STOP "$FA_HOST_PID"
echo close >&3
seen=
for _ in $(seq 100); do
    fa_ss state last-ack | grep -q "$FA_KERNEL_IP:9000" && { seen=1; break; }
    sleep 0.02
done
kill -CONT "$FA_HOST_PID"
[ -n "$seen" ] || fa_fail "kernel never seen in LAST-ACK"
echo "kernel: LAST-ACK seen"
fa_wait_host 10
echo done >&3
cat "$FA_TMP/kernel.out" "$FA_TMP/host.out"
[ "$FA_HOST_STATUS" = 0 ] || fa_fail "finack-tcp exit status $FA_HOST_STATUS"
states=$(awk '$1 == "state" { printf "%s ", $3 }' "$FA_TMP/host.out")
[ "$states" = "SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT " ] || fa_fail "states: $states"
sent=$(awk '$1 == "sent" { print $2, $4 }' "$FA_TMP/host.out")
got=$(awk '$1 == "eof" { print $2, $3 }' "$FA_TMP/kernel.out")
[ "$sent" = "$got" ] && [ "${sent%% *}" = 1000000 ] || fa_fail "sent '$sent', kernel got '$got'"
echo PASS
