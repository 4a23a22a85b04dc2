#!/bin/bash
# tap_bulk.sh BUILD_DIR [MEGABYTES] — bulk TCP throughput over a TAP
# device with the Linux kernel as peer, both directions, 1500-byte MTU,
# finack pinned to CPU 1 and the kernel's side (ksock) to CPU 0; and, in
# the same run, the kernel talking to itself over a veth pair between two
# namespaces, as the reference. Prints Gbit/s and the ratios. Needs root;
# everything happens inside namespaces this script creates and removes.
. "$(dirname "$0")/../tests/kernel/lib.sh"
build=$1
mb=${2:-1000}
bytes=$((mb * 1000000))
buf=${FA_BENCH_BUF:-4194304}   # socket buffers on finack's side
ksock="$build/bench/ksock"
fa_setup "$build/programs/finack-host"
pin_fa="taskset -c 1"
pin_k="taskset -c 0"
gbit() { awk '{ for (i = 1; i <= NF; i++) if ($i == "Gbit/s") print $(i-1) }'; }

# finack receives: kernel ksock sends.
fa_start "$(dirname "$FINACK_HOST")/finack-tcp" --listen 5001 --recv --no-hash --rcvbuf "$buf" --seconds 120
# (finack-tcp was started unpinned by fa_start; pin it now)
taskset -pc 1 "$FA_HOST_PID" >/dev/null
fa_in=$(fa_ns $pin_k "$ksock" send "$FA_FINACK_IP" 5001 "$bytes" | gbit)
fa_wait_host 60

# finack sends: kernel ksock receives.
fa_ns $pin_k "$ksock" recv "$FA_KERNEL_IP" 5002 > "$FA_TMP/krecv.out" &
FA_PIDS="$FA_PIDS $!"; krecv=$!
for _ in $(seq 100); do grep -q listening "$FA_TMP/krecv.out" && break; sleep 0.05; done
fa_start "$(dirname "$FINACK_HOST")/finack-tcp" --connect "$FA_KERNEL_IP:5002" --send "$bytes" --no-hash --sndbuf "$buf" --seconds 120
taskset -pc 1 "$FA_HOST_PID" >/dev/null
fa_wait_host 120
wait "$krecv"
fa_out=$(gbit < "$FA_TMP/krecv.out")

# Reference: kernel to kernel over veth, two namespaces of our own.
fa_veth_pair
ns_a=$FA_VETH_A; ns_b=$FA_VETH_B
ip netns exec "$ns_b" taskset -c 1 "$ksock" recv 198.19.0.2 5003 > "$FA_TMP/veth.out" &
vpid=$!
for _ in $(seq 100); do grep -q listening "$FA_TMP/veth.out" && break; sleep 0.05; done
ip netns exec "$ns_a" taskset -c 0 "$ksock" send 198.19.0.2 5003 "$bytes" >/dev/null
wait "$vpid"
veth=$(gbit < "$FA_TMP/veth.out")

echo
echo "bulk TCP, $mb MB, MTU 1500, finack on CPU 1, kernel side on CPU 0"
printf "  %-34s %8s Gbit/s\n" "kernel -> finack over TAP" "$fa_in" \
       "finack -> kernel over TAP" "$fa_out" "kernel -> kernel over veth (ref.)" "$veth"
awk -v a="$fa_in" -v b="$fa_out" -v v="$veth" 'BEGIN {
    printf "  ratios to veth: receive %.2f, send %.2f\n", a / v, b / v }'
