#!/bin/bash
# tap_lossy.sh BUILD_DIR [MEGABYTES] [RUNS] — over a TAP with finack's
# fault wrapper dropping 2 % of frames each way: a kernel client sends to
# finack-tcp --recv, then finack-tcp --send sends to a kernel receiver; in
# the same run, the reference: the kernel sending to itself over a veth
# pair with 2 % dropped on ingress of both ends (nftables netdev, numgen
# random). Prints each run's seconds, the medians and their ratios.
# FA_BENCH_OPTS replaces finack-tcp's buffer options.
# Needs root; everything happens inside
# namespaces this script creates and removes.
. "$(dirname "$0")/../tests/kernel/lib.sh"
build=$1
mb=${2:-20}
runs=${3:-3}
bytes=$((mb * 1000000))
ksock="$build/bench/ksock"
fa_setup "$build/programs/finack-host"
FA_BENCH_TCP="$build/programs/finack-tcp"
secs() { awk '{ for (i = 1; i < NF; i++) if ($i == "in") printf "%.2f\n", $(i+1) }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# The kernel autotunes its socket buffers (tcp_rmem/tcp_wmem up to 6 MB
# and 4 MB); finack does not: it gets fixed buffers of that order.
opts=${FA_BENCH_OPTS:---rcvbuf 4194304 --sndbuf 4194304}
rx_times=()
for r in $(seq "$runs"); do
    fa_start "$(dirname "$FA_BENCH_TCP")/finack-tcp" --listen 5001 --recv --no-hash \
        --fault drop=2% --seed "$r" --seconds 300 $opts
    rx_times+=("$(fa_ns "$ksock" send "$FA_FINACK_IP" 5001 "$bytes" | secs)")
    fa_wait_host 60
done
tx_times=()
for r in $(seq "$runs"); do
    fa_ns "$ksock" recv "$FA_KERNEL_IP" $((5100 + r)) > "$FA_TMP/krecv.out" &
    kpid=$!
    for _ in $(seq 100); do grep -q listening "$FA_TMP/krecv.out" && break; sleep 0.05; done
    fa_start "$(dirname "$FA_BENCH_TCP")/finack-tcp" --connect "$FA_KERNEL_IP:$((5100 + r))" \
        --send "$bytes" --no-hash --fault drop=2% --seed "$r" --seconds 300 $opts
    wait "$kpid"
    fa_wait_host 60
    tx_times+=("$(secs < "$FA_TMP/krecv.out")")
done

# One frame per segment, as on the TAP: without it, 64 KB TSO/GRO
# bundles cross the veth and a 2 % drop hits far fewer segments.
fa_veth_pair segments
ns_a=$FA_VETH_A; ns_b=$FA_VETH_B
for pair in "$ns_a veth0" "$ns_b veth1"; do
    set -- $pair
    ip netns exec "$1" nft -f - <<NFT
table netdev loss {
    chain in { type filter hook ingress device $2 priority 0; numgen random mod 100 < 2 drop; }
}
NFT
done
k_times=()
for r in $(seq "$runs"); do
    ip netns exec "$ns_b" "$ksock" recv 198.19.0.2 $((5003 + r)) > "$FA_TMP/veth.out" &
    vpid=$!
    for _ in $(seq 100); do grep -q listening "$FA_TMP/veth.out" && break; sleep 0.05; done
    ip netns exec "$ns_a" "$ksock" send 198.19.0.2 $((5003 + r)) "$bytes" >/dev/null
    wait "$vpid"
    k_times+=("$(secs < "$FA_TMP/veth.out")")
done

rx_med=$(printf '%s\n' "${rx_times[@]}" | median)
tx_med=$(printf '%s\n' "${tx_times[@]}" | median)
k_med=$(printf '%s\n' "${k_times[@]}" | median)
echo
echo "$mb MB, 2 % of frames dropped each way, $runs runs; finack options: $opts"
echo "  kernel -> finack over TAP (fault wrapper): ${rx_times[*]} s; median $rx_med s"
echo "  finack -> kernel over TAP (fault wrapper): ${tx_times[*]} s; median $tx_med s"
echo "  kernel -> kernel over veth (nftables):     ${k_times[*]} s; median $k_med s"
awk -v a="$rx_med" -v b="$tx_med" -v k="$k_med" 'BEGIN {
    printf "  ratio finack receiving / kernel: %.2f\n", a / k
    printf "  ratio finack sending / kernel:   %.2f\n", b / k }'
