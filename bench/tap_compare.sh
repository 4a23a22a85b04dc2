#!/bin/bash
# tap_compare.sh BUILD_DIR [MEGABYTES] [SECONDS] [ROUNDS] — the issue-12
# table in one sitting: over the same TAP with the kernel as the peer
# (the program on CPU 1, the kernel's side on CPU 0, MTU 1500), bulk both
# ways, 64-byte ping-pong and connection cycles (connect, 64 bytes each
# way, close; one at a time, and 64 at once) for
#   - nowork: a TCP that does no work per segment (bench/nowork.c; its
#     ping-pong is a UDP reflector, its cycles `nowork echo`), and
#     nowork_busy, its cycles spinning instead of sleeping,
#   - lwIP from Debian's liblwip-dev through our driver (bench/lwip_tap.c),
#     and its echo busy polling as finack's does (ping-pong and cycles),
#   - finack: as it comes (the TAP's offloads, io_uring), with offloads
#     by read/write, with neither, and busy polling (offloads; busy
#     polling takes read/write by default) (finack-tcp for bulk,
#     finack-echo for the rest),
# and the kernel talking to itself over a veth pair. Medians of ROUNDS
# (default 3) with the spread; ratios to nowork and to the kernel.
# Cycles one at a time measure a cycle's latency: on this machine four
# wake-ups of sleeping processes make most of it, the same for every
# stack — and a server that sleeps sooner (less work) makes the client
# pay for waking it: the no-work TCP is the slowest here when it sleeps.
# 64 at once keep the program's CPU busy and measure what a cycle costs
# it — most of that is the kernel's own TCP, which takes each
# frame we write on our CPU (a TAP's write runs the kernel's receive).
# FA_WHOS="nowork lwip ..." runs some rows only. Needs root; everything
# happens inside namespaces this script creates.
. "$(dirname "$0")/../tests/kernel/lib.sh"
build=$1
mb=${2:-1000}
secs=${3:-5}
rounds=${4:-3}
bytes=$((mb * 1000000))
ksock="$build/bench/ksock"
fa_setup "$build/programs/finack-host"
# Connection cycles leave the kernel's client tens of thousands of
# TIME-WAITs (it closes first), for 60 s: lwIP sends no timestamps, so
# they cannot be reused, and the next run would starve for ports. In our
# namespaces only, the kernel keeps 2048 of them; its ephemeral ports stay
# above the ports the runs listen on.
ns_sysctls() {
    ip netns exec "$1" sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.tcp_max_tw_buckets=2048 \
        net.ipv4.ip_local_port_range="10000 65535"
}
ns_sysctls "$FA_NS"
gbit() { awk '{ for (i = 1; i <= NF; i++) if ($i == "Gbit/s") print $(i-1) }'; }
med_us() { awk '{ for (i = 1; i <= NF; i++) if ($i == "median") print $(i+1) }'; }
rate() { awk '{ for (i = 1; i <= NF; i++) if ($i == "per" && $(i+1) == "s;") print $(i-1) }'; }
# Every run of the kernel's side is bounded: a receiver that died (a
# no-work TCP that lost its stream, 3 December) left ksock sending for
# ever.
K() { ip netns exec "$FA_NS" timeout 300 taskset -c 0 "$ksock" "$@"; }

# Starts a program on the TAP (pinned to CPU 1) and waits for "up on".
up() {
    ip netns exec "$FA_NS" taskset -c 1 "$@" > "$FA_TMP/prog.out" 2>&1 &
    FA_HOST_PID=$!
    FA_PIDS="$FA_PIDS $FA_HOST_PID"
    for _ in $(seq 200); do grep -q "up on" "$FA_TMP/prog.out" && return; sleep 0.05; done
    echo "did not come up: $*" >&2
}
stop() { kill "$FA_HOST_PID" 2>/dev/null; wait "$FA_HOST_PID" 2>/dev/null; }
# A fresh port for every run, nothing left from the last one (kept in a
# file: the runs are in subshells).
echo 6000 > "$FA_TMP/port"
port() { PORT=$(( $(cat "$FA_TMP/port") + 1 )); echo "$PORT" > "$FA_TMP/port"; }
krecv() { # port: the kernel receives; prints its Gbit/s when done
    K recv "$FA_KERNEL_IP" "$1" > "$FA_TMP/krecv.out" &
    KPID=$!
    FA_PIDS="$FA_PIDS $KPID"
    for _ in $(seq 100); do grep -q listening "$FA_TMP/krecv.out" && break; sleep 0.05; done
}
# Waits for the kernel's receiver (not in a $(...): it is this shell's
# child) and sets OUT to its Gbit/s.
kdone() { wait "$KPID"; OUT=$(gbit < "$FA_TMP/krecv.out"); }

# who: prints "in out rtt cps pcps" (— where it does not apply).
# Bulk both ways for a program with nowork's command line (recv TAP ADDR
# PORT; send TAP ADDR PEER PORT N): sets IN and OUT.
bulk_of() {
    port; up "$1" recv fa0 "$FA_FINACK_IP" $PORT
    IN=$(K send "$FA_FINACK_IP" $PORT "$bytes" | gbit); wait "$FA_HOST_PID"
    port; krecv $PORT; up "$1" send fa0 "$FA_FINACK_IP" "$FA_KERNEL_IP" $PORT "$bytes"
    wait "$FA_HOST_PID"; kdone
}
run_nowork() {
    bulk_of "$build/bench/nowork"
    up "$build/bench/nowork" udpecho fa0 "$FA_FINACK_IP" 7 60
    local rtt; rtt=$(K uping "$FA_FINACK_IP" 7 20000 | med_us); stop
    up "$build/bench/nowork" echo fa0 "$FA_FINACK_IP" 7 60
    local cps; cps=$(K crr "$FA_FINACK_IP" 7 "$secs" | rate)
    local pcps; pcps=$(K crr "$FA_FINACK_IP" 7 "$secs" 64 | rate); stop
    echo "${IN:--} ${OUT:--} ${rtt:--} ${cps:--} ${pcps:--}"
}
run_nowork_busy() {
    up "$build/bench/nowork" echo fa0 "$FA_FINACK_IP" 7 60 1000000
    local cps; cps=$(K crr "$FA_FINACK_IP" 7 "$secs" | rate)
    local pcps; pcps=$(K crr "$FA_FINACK_IP" 7 "$secs" 64 | rate); stop
    echo "- - - ${cps:--} ${pcps:--}"
}
run_lwip() {
    bulk_of "$build/bench/lwip_tap"
    up "$build/bench/lwip_tap" echo fa0 "$FA_FINACK_IP" 7 60
    local rtt; rtt=$(K ping "$FA_FINACK_IP" 7 20000 | med_us)
    local cps; cps=$(K crr "$FA_FINACK_IP" 7 "$secs" | rate)
    local pcps; pcps=$(K crr "$FA_FINACK_IP" 7 "$secs" 64 | rate); stop
    echo "${IN:--} ${OUT:--} ${rtt:--} ${cps:--} ${pcps:--}"
}
run_lwip_busy() {
    up "$build/bench/lwip_tap" echo fa0 "$FA_FINACK_IP" 7 60 1000000
    local rtt; rtt=$(K ping "$FA_FINACK_IP" 7 20000 | med_us)
    local cps; cps=$(K crr "$FA_FINACK_IP" 7 "$secs" | rate)
    local pcps; pcps=$(K crr "$FA_FINACK_IP" 7 "$secs" 64 | rate); stop
    echo "- - ${rtt:--} ${cps:--} ${pcps:--}"
}
run_finack() { # extra options for every program
    port; up "$(fa_prog finack-tcp)" --tap fa0 --addr "$FA_FINACK_IP/24" --listen $PORT --recv \
        --no-hash --rcvbuf 4194304 --seconds 120 "$@"
    local in; in=$(K send "$FA_FINACK_IP" $PORT "$bytes" | gbit); wait "$FA_HOST_PID"
    port; krecv $PORT
    up "$(fa_prog finack-tcp)" --tap fa0 --addr "$FA_FINACK_IP/24" --connect "$FA_KERNEL_IP:$PORT" \
        --send "$bytes" --no-hash --sndbuf 4194304 --seconds 120 "$@"
    wait "$FA_HOST_PID"; kdone; local out=$OUT
    up "$(fa_prog finack-echo)" --tap fa0 --addr "$FA_FINACK_IP/24" --no-udp --quiet \
        --seconds 600 "$@"
    local rtt; rtt=$(K ping "$FA_FINACK_IP" 7 20000 | med_us)
    local cps; cps=$(K crr "$FA_FINACK_IP" 7 "$secs" | rate)
    local pcps; pcps=$(K crr "$FA_FINACK_IP" 7 "$secs" 64 | rate); stop
    echo "${in:--} ${out:--} ${rtt:--} ${cps:--} ${pcps:--}"
}
fa_veth_pair
ns_sysctls "$FA_VETH_A"
ns_sysctls "$FA_VETH_B"
VA() { ip netns exec "$FA_VETH_A" taskset -c 0 "$ksock" "$@"; }
run_veth() {
    port
    ip netns exec "$FA_VETH_B" taskset -c 1 "$ksock" recv 198.19.0.2 $PORT > "$FA_TMP/v.out" &
    local v=$!
    for _ in $(seq 100); do grep -q listening "$FA_TMP/v.out" && break; sleep 0.05; done
    VA send 198.19.0.2 $PORT "$bytes" >/dev/null; wait "$v"
    local bulk; bulk=$(gbit < "$FA_TMP/v.out")
    port
    ip netns exec "$FA_VETH_B" taskset -c 1 "$ksock" echod 198.19.0.2 $PORT > "$FA_TMP/e.out" &
    local e=$!
    FA_PIDS="$FA_PIDS $e"
    for _ in $(seq 100); do grep -q listening "$FA_TMP/e.out" && break; sleep 0.05; done
    local rtt; rtt=$(VA ping 198.19.0.2 $PORT 20000 | med_us)
    local cps; cps=$(VA crr 198.19.0.2 $PORT "$secs" | rate)
    kill "$e"; wait "$e" 2>/dev/null
    echo "$bulk - $rtt $cps -" # (ksock echod serves one connection at a time)
}

whos="${FA_WHOS:-nowork nowork_busy lwip lwip_busy finack finack_rw finack_off finack_busy veth}"
declare -A col
for r in $(seq "$rounds"); do
    for w in $whos; do
        case $w in
        nowork) res=$(run_nowork) ;;
        nowork_busy) res=$(run_nowork_busy) ;;
        lwip) res=$(run_lwip) ;;
        lwip_busy) res=$(run_lwip_busy) ;;
        finack) res=$(run_finack --offload on --io uring) ;;
        finack_rw) res=$(run_finack --offload on --io rw) ;;
        finack_off) res=$(run_finack --offload off --io rw) ;;
        finack_busy) res=$(run_finack --offload on --busy-poll 1000000) ;;
        veth) res=$(run_veth) ;;
        esac
        set -- $res - - - - -
        col[$w,in]+="$1 "; col[$w,out]+="$2 "; col[$w,rtt]+="$3 "; col[$w,cps]+="$4 "
        col[$w,pcps]+="$5 "
    done
done
med() { tr ' ' '\n' | grep -v '^-\?$' | sort -g | awk '{ v[NR] = $1 } END {
    if (!NR) { print "-"; exit } print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
cell() { tr ' ' '\n' | grep -v '^-\?$' | sort -g | awk '{ v[NR] = $1 } END {
    if (!NR) { printf "-"; exit }
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.4g (%.4g-%.4g)", m, v[1], v[NR] }'; }
echo
echo "over a TAP, kernel as the peer, $rounds rounds: median (min-max); bulk $mb MB, crr $secs s"
printf "%-14s %-22s %-22s %-22s %-22s %s\n" "" "kernel->it Gbit/s" "it->kernel Gbit/s" "64B RTT us" \
    "cycles/s" "cycles/s, 64 at once"
for w in $whos; do
    printf "%-14s %-22s %-22s %-22s %-22s %s\n" "$w" "$(cell <<< "${col[$w,in]:-}")" \
        "$(cell <<< "${col[$w,out]:-}")" "$(cell <<< "${col[$w,rtt]:-}")" "$(cell <<< "${col[$w,cps]:-}")" \
        "$(cell <<< "${col[$w,pcps]:-}")"
done
nw_in=$(med <<< "${col[nowork,in]:-}"); nw_out=$(med <<< "${col[nowork,out]:-}")
nw_rtt=$(med <<< "${col[nowork,rtt]:-}"); v_in=$(med <<< "${col[veth,in]:-}")
lw_cps=$(med <<< "${col[lwip,cps]:-}")
lwb_cps=$(med <<< "${col[lwip_busy,cps]:-}")
lw_pcps=$(med <<< "${col[lwip,pcps]:-}")
lwb_pcps=$(med <<< "${col[lwip_busy,pcps]:-}")
nw_cps=$(med <<< "${col[nowork,cps]:-}"); nwb_cps=$(med <<< "${col[nowork_busy,cps]:-}")
# The cycles one at a time against the no-work TCP's, sleeping and
# spinning: the floor over this device.
for w in lwip lwip_busy finack finack_rw finack_off finack_busy; do
    [ -n "${col[$w,cps]:-}" ] || continue
    awk -v w="$w" -v d="$(med <<< "${col[$w,cps]:-}")" -v n="$nw_cps" -v nb="$nwb_cps" 'BEGIN {
        printf "%-13s cycles one at a time", w
        if (n + 0 > 0) printf " %.2f x nowork", d / n
        if (nb + 0 > 0) printf " %.2f x nowork spinning", d / nb
        printf "\n" }'
done
for w in finack finack_rw finack_off finack_busy; do
    [ -n "${col[$w,in]:-}" ] || continue # FA_WHOS may leave rows out
    # Busy polling against lwIP busy polling the same way.
    lc=$lw_cps; lp=$lw_pcps; ln=lwIP
    if [ "$w" = finack_busy ] && [ "$lwb_cps" != - ]; then
        lc=$lwb_cps; lp=$lwb_pcps; ln="lwIP busy polling"
    fi
    awk -v w="$w" -v a="$(med <<< "${col[$w,in]:-}")" -v b="$(med <<< "${col[$w,out]:-}")" \
        -v c="$(med <<< "${col[$w,rtt]:-}")" -v d="$(med <<< "${col[$w,cps]:-}")" \
        -v e="$(med <<< "${col[$w,pcps]:-}")" -v lp="$lp" \
        -v na="$nw_in" -v nb="$nw_out" -v nc="$nw_rtt" -v va="$v_in" -v lc="$lc" -v ln="$ln" 'BEGIN {
        printf "%-13s in %.2f x nowork, %.2f x veth; out %.2f x nowork, %.2f x veth; RTT %.2f x reflector; cycles %.2f x %s, 64 at once %.2f x\n",
            w, a / na, a / va, b / nb, b / va, c / nc, d / lc, ln, e / lp }'
done
