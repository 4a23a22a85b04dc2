#!/bin/bash
# tap_bulk.sh BUILD_DIR [MEGABYTES] [ROUNDS] — bulk TCP throughput over a
# TAP device with the Linux kernel as peer, both directions, 1500-byte
# MTU, finack pinned to CPU 1 and the kernel's side (ksock) to CPU 0:
# finack with the TAP's virtio-net offloads (checksums, TSO, GRO) and
# without, and with offloads and io_uring (--io uring) instead of
# read/write, alternating, ROUNDS rounds (default 3) of each; and, in the
# same run, the kernel talking to itself over a veth pair between two
# namespaces, as the reference. Prints the median Gbit/s of each with the
# spread (min-max) and the ratios. Needs root; everything happens inside
# namespaces this script creates and removes.
. "$(dirname "$0")/../tests/kernel/lib.sh"
build=$1
mb=${2:-1000}
rounds=${3:-3}
bytes=$((mb * 1000000))
buf=${FA_BENCH_BUF:-4194304}   # socket buffers on finack's side
ksock="$build/bench/ksock"
fa_setup "$build/programs/finack-host"
pin_k="taskset -c 0"
gbit() { awk '{ for (i = 1; i <= NF; i++) if ($i == "Gbit/s") print $(i-1) }'; }
counter() { awk -v n="$1" '$1 == n { print $2 }' "$FA_TMP/host.out" | tail -1; }

# finack receives (kernel ksock sends); prints Gbit/s.
run_in() {
    fa_start "$(fa_prog finack-tcp)" --listen 5001 --recv --no-hash --rcvbuf "$buf" \
        --seconds 120 --offload "$1" --io "${2:-rw}"
    taskset -pc 1 "$FA_HOST_PID" >/dev/null
    fa_ns $pin_k "$ksock" send "$FA_FINACK_IP" 5001 "$bytes" | gbit
    fa_wait_host 60
}

# finack sends (kernel ksock receives); prints Gbit/s.
run_out() {
    fa_ns $pin_k "$ksock" recv "$FA_KERNEL_IP" 5002 > "$FA_TMP/krecv.out" &
    local krecv=$!
    FA_PIDS="$FA_PIDS $krecv"
    for _ in $(seq 100); do grep -q listening "$FA_TMP/krecv.out" && break; sleep 0.05; done
    fa_start "$(fa_prog finack-tcp)" --connect "$FA_KERNEL_IP:5002" --send "$bytes" \
        --no-hash --sndbuf "$buf" --seconds 120 --offload "$1" --io "${2:-rw}"
    taskset -pc 1 "$FA_HOST_PID" >/dev/null
    fa_wait_host 120
    wait "$krecv"
    gbit < "$FA_TMP/krecv.out"
}

# Reference: kernel to kernel over veth, two namespaces of our own.
fa_veth_pair
run_veth() {
    ip netns exec "$FA_VETH_B" taskset -c 1 "$ksock" recv 198.19.0.2 5003 > "$FA_TMP/veth.out" &
    local vpid=$!
    for _ in $(seq 100); do grep -q listening "$FA_TMP/veth.out" && break; sleep 0.05; done
    ip netns exec "$FA_VETH_A" taskset -c 0 "$ksock" send 198.19.0.2 5003 "$bytes" >/dev/null
    wait "$vpid"
    gbit < "$FA_TMP/veth.out"
}

declare -A got
for r in $(seq "$rounds"); do
    for mode in on off; do
        got[in_$mode]+="$(run_in $mode) "
        [ "$mode" = on ] && gso_in=$(counter RX_GSO_FRAMES)
        got[out_$mode]+="$(run_out $mode) "
        [ "$mode" = on ] && gso_out=$(counter TX_GSO_FRAMES)
    done
    got[in_uring]+="$(run_in on uring) "
    got[out_uring]+="$(run_out on uring) "
    got[veth]+="$(run_veth) "
done

# median and spread of a list of numbers
stats() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END {
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%6.2f  (%.2f-%.2f)", m, v[1], v[NR] }'; }
med() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END {
    print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo
echo "bulk TCP, $mb MB per run, $rounds rounds, MTU 1500, finack on CPU 1, kernel side on CPU 0"
echo "Gbit/s, median (min-max):"
printf "  %-38s %s\n" \
    "kernel -> finack, offloads on" "$(stats <<< "${got[in_on]}")" \
    "kernel -> finack, offloads off" "$(stats <<< "${got[in_off]}")" \
    "finack -> kernel, offloads on" "$(stats <<< "${got[out_on]}")" \
    "finack -> kernel, offloads off" "$(stats <<< "${got[out_off]}")" \
    "kernel -> finack, offloads, io_uring" "$(stats <<< "${got[in_uring]}")" \
    "finack -> kernel, offloads, io_uring" "$(stats <<< "${got[out_uring]}")" \
    "kernel -> kernel over veth (ref.)" "$(stats <<< "${got[veth]}")"
echo "  (last round with offloads: ${gso_in:-0} GRO super-frames in, ${gso_out:-0} TSO super-frames out)"
awk -v a="$(med <<< "${got[in_on]}")" -v b="$(med <<< "${got[out_on]}")" \
    -v c="$(med <<< "${got[in_off]}")" -v d="$(med <<< "${got[out_off]}")" \
    -v v="$(med <<< "${got[veth]}")" 'BEGIN {
    printf "  ratios to veth: receive %.2f (off %.2f), send %.2f (off %.2f)\n", a / v, c / v, b / v, d / v }'
