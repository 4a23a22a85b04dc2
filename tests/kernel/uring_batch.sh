#!/bin/bash
# Kernel test (issue 12): what one wait of the TAP's io_uring device
# brings in (tests/kernel/uring_batch.c). The kernel sends a burst of 12
# datagrams to a static neighbour on the TAP; after one wait — the ring's
# own, poll(2) of the TAP as with another descriptor watched, or a look
# without sleeping as busy polling does — every one of them must be
# there, in order; a look that finds nothing must not wait in the kernel
# (one did, 13 us a look: the loop with another descriptor watched ran
# at half the speed of read/write one connection at a time). A chain
# whose reads ran one per system call passed frames one a turn (the
# review of the first design); this would have failed it. A frame sent
# back must reach the kernel (the TAP's receive counter). Skipped
# without io_uring (Linux < 6.1, a build without liburing).
. "$(dirname "$0")/lib.sh"
fa_setup "$1"
prog=$2
burst=12
fa_ns ip neigh replace 198.18.0.2 lladdr 02:00:00:00:00:02 dev fa0 nud permanent
rx() { ip -n "$FA_NS" -s link show fa0 | awk '/RX:/ { getline; print $2 }'; }
for how in wait poll look; do
    rx0=$(rx)
    coproc UB { ip netns exec "$FA_NS" "$prog" fa0 "$burst" "$how"; }
    FA_PIDS="$FA_PIDS $UB_PID"
    read -r -t 10 first <&"${UB[0]}" || fa_fail "$how: the program did not start"
    [ "$first" = ready ] || { [ "${first%%:*}" = SKIP ] && fa_skip "${first#SKIP: }"; fa_fail "$how: $first"; }
    for i in $(seq 0 $((burst - 1))); do
        fa_ns bash -c "echo -n n=$i > /dev/udp/198.18.0.2/9"
    done
    echo go >&"${UB[1]}"
    read -r -t 10 res <&"${UB[0]}" || res="no answer"
    wait "$UB_PID" || true
    echo "$how: $res"
    case $res in ok*) ;; *) fa_fail "$how: $res" ;; esac
    [ "$(rx)" -gt "$rx0" ] || fa_fail "$how: the frame sent did not reach the kernel"
done
