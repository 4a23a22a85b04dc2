#!/bin/bash
# tap_cycle_cost.sh BUILD_DIR [SECONDS] [ROUNDS] [AT_ONCE] — where a
# connection cycle's time goes over a TAP (connect, 64 bytes each way,
# close; the kernel's client `ksock crr` on CPU 0 runs AT_ONCE cycles at
# once, default 64), for lwIP (bench/lwip_tap.c) and finack-echo by
# read/write with the TAP's offloads (finack_on) and without
# (finack_off), and with offloads by io_uring (finack_uring, the
# default), also with a second descriptor watched (finack_uring_fd:
# --stat, so the loop sleeps in poll(2) and looks at the ring without
# sleeping) and busy polling on the ring (finack_uring_busy). The server
# runs on CPU 1; for each run it
# prints the rate, the server's user and system CPU per cycle (from
# /proc/PID/stat), how busy each CPU was, the frames it wrote and read
# per cycle (the TAP's counters) and, with FA_SYSCALLS=1, its system calls
# per cycle (perf's raw_syscalls:sys_enter count for its PID). perf
# attached to the server changes what it measures: its CPU seldom halts,
# so wake-ups are quicker (one cycle at a time goes from about 9,000 to
# 15,000 a second here) and each system call costs more; count them in a
# run of their own.
# A TAP's write runs the kernel's receive of that frame on the writer's
# CPU, so most of the "system" time is the kernel's own TCP, the same for
# any stack that sends the same frames. Needs root; everything happens
# inside a namespace this script creates and removes.
. "$(dirname "$0")/../tests/kernel/lib.sh"
build=$1
secs=${2:-5}
rounds=${3:-3}
par=${4:-64}
ksock="$build/bench/ksock"
fa_setup "$build/programs/finack-host"
# The client closes first and keeps TIME-WAIT: let it reuse ports (lwIP
# sends no timestamps, so a few only; see tap_compare.sh).
fa_ns sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.tcp_max_tw_buckets=2048 \
    net.ipv4.ip_local_port_range="10000 65535"
have_perf=0
[ "${FA_SYSCALLS:-0}" = 1 ] && command -v perf >/dev/null && perf stat -e raw_syscalls:sys_enter -- true >/dev/null 2>&1 && have_perf=1

up() { # starts the server on CPU 1 and waits for "up on"; sets P
    ip netns exec "$FA_NS" taskset -c 1 "$@" > "$FA_TMP/prog.out" 2>&1 & # (exec: $! is it)
    P=$!
    FA_PIDS="$FA_PIDS $P"
    for _ in $(seq 200); do grep -q "up on" "$FA_TMP/prog.out" && return; sleep 0.05; done
    echo "did not come up: $*" >&2
}
down() { kill "$P" 2>/dev/null; wait "$P" 2>/dev/null || true; }
ticks() { awk '{ print $14, $15 }' "/proc/$P/stat"; }        # user, system
cpus() { awk '/^cpu[01] / { printf "%d %d ", $2+$3+$4+$7+$8, $5+$6 }' /proc/stat; }
frames() { ip -n "$FA_NS" -s link show fa0 | awk '/RX:/ { getline; rx = $2 } /TX:/ { getline; tx = $2 }
    END { print rx, tx }'; }

measure() { # name: one run of ksock crr against the server started as P
    local t0 c0 f0 t1 c1 f1 out sc="-"
    t0=$(ticks); c0=$(cpus); f0=$(frames)
    if [ $have_perf = 1 ]; then
        perf stat -x, -e raw_syscalls:sys_enter -p "$P" -o "$FA_TMP/perf.out" -- sleep "$secs" &
        local sp=$!
    fi
    out=$(fa_ns taskset -c 0 "$ksock" crr "$FA_FINACK_IP" 7 "$secs" "$par")
    if [ $have_perf = 1 ]; then
        wait "$sp" || true
        sc=$(awk -F, '/raw_syscalls/ { print $1 }' "$FA_TMP/perf.out")
    fi
    t1=$(ticks); c1=$(cpus); f1=$(frames)
    local rate; rate=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "per" && $(i+1) == "s;") print $(i-1) }' <<< "$out")
    local hz; hz=$(getconf CLK_TCK)
    set -- $t0 $t1 $c0 $c1 $f0 $f1
    awk -v r="$rate" -v s="$secs" -v hz="$hz" -v sc="$sc" \
        -v u=$(( $3 - $1 )) -v y=$(( $4 - $2 )) \
        -v b0=$(( $9 - $5 )) -v i0=$(( ${10} - $6 )) -v b1=$(( ${11} - $7 )) -v i1=$(( ${12} - $8 )) \
        -v fw=$(( ${15} - ${13} )) -v fr=$(( ${16} - ${14} )) -v name="$name" 'BEGIN {
        c = r * s; if (c == 0) { print name ": no cycles"; exit }
        printf "%-11s %7.0f cycles/s  server us/cycle: user %5.2f sys %5.2f  busy: cpu0 %3.0f%% cpu1 %3.0f%%  frames/cycle: wrote %.2f read %.2f",
            name, r, u * 1e6 / hz / c, y * 1e6 / hz / c, 100 * b0 / (b0 + i0), 100 * b1 / (b1 + i1), fw / c, fr / c
        # perf counts over its own SECONDS, the client over its own: close
        if (sc != "-" && sc != "") printf "  syscalls/cycle %.2f", sc / c
        printf "\n" }'
}

echo "connection cycles over a TAP, $par at once, $secs s a run, $rounds rounds (server on CPU 1)"
for _ in $(seq "$rounds"); do
    name=lwip; up "$build/bench/lwip_tap" echo fa0 "$FA_FINACK_IP" 7 600; measure; down
    for o in on off uring uring_fd uring_busy; do
        name=finack_$o
        case $o in
        on | off) io="--offload $o --io rw" ;;
        uring) io="--offload on --io uring" ;;
        uring_fd) io="--offload on --io uring --stat $FA_TMP/stat.sock" ;;
        uring_busy) io="--offload on --io uring --busy-poll 50" ;;
        esac
        up "$(fa_prog finack-echo)" --tap fa0 --addr "$FA_FINACK_IP/24" --no-udp --quiet \
            --seconds 600 $io
        measure; down
    done
done
