#!/bin/bash
# tap_rate.sh BUILD_DIR [SECONDS] [ROUNDS] — round trips and connection
# rate over a TAP with the Linux kernel as the client: 64-byte ping-pong
# (ksock ping, 20000 round trips) and connection cycles (ksock crr:
# connect, 64 bytes each way, close) for SECONDS (default 5) against
# finack-echo, finack on CPU 1 and the kernel on CPU 0, offloads on and
# off, with offloads and busy polling (--busy-poll, spinning on its core
# instead of sleeping), and with offloads and io_uring (--io uring); and
# the same against the kernel's own echo server over a veth
# pair, as the reference. Each second's rate is printed, so a rate that
# falls as connections accumulate shows. Needs root; everything happens
# inside namespaces this script creates and removes.
. "$(dirname "$0")/../tests/kernel/lib.sh"
build=$1
secs=${2:-5}
rounds=${3:-3}
ksock="$build/bench/ksock"
fa_setup "$build/programs/finack-host"
# The client closes first and keeps TIME-WAIT: let it reuse ports.
fa_ns sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65535"
rate() { awk '{ for (i = 1; i <= NF; i++) if ($i == "per" && $(i+1) == "s;") print $(i-1) }'; }
med_us() { awk '{ for (i = 1; i <= NF; i++) if ($i == "median") print $(i+1) }'; }

run_finack() { # offload [busy-poll-us [io]]: prints "rtt_us crr_per_s"
    fa_start "$(fa_prog finack-echo)" --no-udp --quiet --offload "$1" --busy-poll "${2:-0}" \
        --io "${3:-rw}" --seconds 600
    taskset -pc 1 "$FA_HOST_PID" >/dev/null
    local rtt; rtt=$(fa_ns taskset -c 0 "$ksock" ping "$FA_FINACK_IP" 7 20000 | med_us)
    local out; out=$(fa_ns taskset -c 0 "$ksock" crr "$FA_FINACK_IP" 7 "$secs")
    echo "$out" >> "$FA_TMP/crr.log"
    kill "$FA_HOST_PID"; wait "$FA_HOST_PID" 2>/dev/null
    echo "$rtt $(rate <<< "$out")"
}

fa_veth_pair
for ns in "$FA_VETH_A" "$FA_VETH_B"; do
    ip netns exec "$ns" sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="1024 65535"
done
ip netns exec "$FA_VETH_B" taskset -c 1 "$ksock" echod 198.19.0.2 5007 > "$FA_TMP/echod.out" &
FA_PIDS="$FA_PIDS $!"
for _ in $(seq 100); do grep -q listening "$FA_TMP/echod.out" && break; sleep 0.05; done
run_veth() {
    local rtt; rtt=$(ip netns exec "$FA_VETH_A" taskset -c 0 "$ksock" ping 198.19.0.2 5007 20000 | med_us)
    local out; out=$(ip netns exec "$FA_VETH_A" taskset -c 0 "$ksock" crr 198.19.0.2 5007 "$secs")
    echo "$out" >> "$FA_TMP/crr.log"
    echo "$rtt $(rate <<< "$out")"
}

declare -A rtt cps
for r in $(seq "$rounds"); do
    for m in on off busy uring veth; do
        case $m in
        veth) set -- $(run_veth) ;;
        busy) set -- $(run_finack on 1000000) ;;
        uring) set -- $(run_finack on 0 uring) ;;
        *) set -- $(run_finack $m) ;;
        esac
        rtt[$m]+="$1 "; cps[$m]+="$2 "
    done
done
stats() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END {
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%8.1f  (%.1f-%.1f)", m, v[1], v[NR] }'; }
echo
echo "64-byte ping-pong and connection cycles, $rounds rounds, finack on CPU 1, kernel client on CPU 0"
printf "  %-30s %-26s %s\n" "" "RTT median us (min-max)" "cycles/s median (min-max)"
for m in on off busy uring veth; do
    name="finack-echo, offloads $m"
    [ $m = busy ] && name="finack-echo, offloads, busy poll"
    [ $m = uring ] && name="finack-echo, offloads, io_uring"
    [ $m = veth ] && name="kernel echod over veth (ref.)"
    printf "  %-30s %-26s %s\n" "$name" "$(stats <<< "${rtt[$m]}")" "$(stats <<< "${cps[$m]}")"
done
echo "each run's cycles per second, second by second:"
sed 's/^/  /' "$FA_TMP/crr.log"
