#!/bin/bash
# tap_cycle_trace.sh BUILD_DIR WHO [finack-echo options] — where one
# connection cycle's time goes, one cycle at a time (connect, 64 bytes each
# way, close; `ksock crr` on CPU 0, the server on CPU 1), from the kernel's
# own trace: every system call of the server and the client, and every
# time the server sleeps (ftrace: raw_syscalls, sched_switch), for 0.3 s
# in the middle of a 2 s run. WHO is lwip (bench/lwip_tap.c), nowork
# (`nowork echo`) or finack (finack-echo, with the options given, e.g.
# --io rw). bench/cycle_trace.py prints the server's calls a cycle by
# call and result, the time between them, its sleeps, and one cycle's
# timeline beside the client's. Tracing slows a cycle by about a tenth.
# It is what showed that the read/write loop polled 3.8 times a cycle
# for frames already there (see the README).
# Needs root and tracefs (mounted on /sys/kernel/tracing if it is not,
# and unmounted after); the tracing settings it changes are put back.
. "$(dirname "$0")/../tests/kernel/lib.sh"
build=$1
who=$2
shift 2
T=/sys/kernel/tracing
ksock="$build/bench/ksock"
command -v python3 >/dev/null || fa_skip "no python3"
fa_setup "$build/programs/finack-host"
mounted=0
if [ ! -e $T/trace ]; then
    mount -t tracefs nodev $T || fa_skip "no tracefs"
    mounted=1
fi
[ -w $T/set_event ] || fa_skip "cannot trace"
old_clock=$(sed 's/.*\[\(.*\)\].*/\1/' $T/trace_clock)
old_kb=$(cat $T/buffer_size_kb)
trace_off() {
    echo 0 > $T/tracing_on
    echo > $T/set_event
    echo > $T/trace
    echo "$old_clock" > $T/trace_clock
    echo "$old_kb" > $T/buffer_size_kb
    [ $mounted = 1 ] && umount $T
}
trap 'trace_off; fa_cleanup' EXIT
fa_ns sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.tcp_max_tw_buckets=2048 \
    net.ipv4.ip_local_port_range="10000 65535"

case $who in
lwip) cmd=("$build/bench/lwip_tap" echo fa0 "$FA_FINACK_IP" 7 600) ;;
nowork) cmd=("$build/bench/nowork" echo fa0 "$FA_FINACK_IP" 7 600) ;;
finack) cmd=("$(fa_prog finack-echo)" --tap fa0 --addr "$FA_FINACK_IP/24" --no-udp --quiet
             --seconds 600 "$@") ;;
*) echo "usage: tap_cycle_trace.sh BUILD_DIR lwip|nowork|finack [finack-echo options]" >&2; exit 2 ;;
esac
ip netns exec "$FA_NS" taskset -c 1 "${cmd[@]}" > "$FA_TMP/prog.out" 2>&1 &
P=$!
FA_PIDS="$FA_PIDS $P"
for _ in $(seq 200); do grep -q "up on" "$FA_TMP/prog.out" && break; sleep 0.05; done
grep -q "up on" "$FA_TMP/prog.out" || fa_fail "the server did not come up"

echo 0 > $T/tracing_on
echo > $T/trace
echo mono > $T/trace_clock
echo 60000 > $T/buffer_size_kb
echo > $T/set_event
for e in raw_syscalls:sys_enter raw_syscalls:sys_exit sched:sched_switch; do
    echo "$e" >> $T/set_event
done
fa_ns taskset -c 0 timeout 60 "$ksock" crr "$FA_FINACK_IP" 7 2 1 > "$FA_TMP/crr.out" &
C=$!
FA_PIDS="$FA_PIDS $C"
sleep 0.8
echo 1 > $T/tracing_on
sleep 0.3
echo 0 > $T/tracing_on
wait $C || fa_fail "ksock crr failed"
echo "$who $*: $(cat "$FA_TMP/crr.out")"
cat $T/trace > "$FA_TMP/trace.txt"
python3 "$(dirname "$0")/cycle_trace.py" "$FA_TMP/trace.txt" "$P"
