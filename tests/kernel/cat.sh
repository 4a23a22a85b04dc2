#!/bin/bash
# Kernel test (issue 5): finack-cat against the kernel's socat, with a
# half-close each way.
#  1) finack-cat sends its input and half-closes; the kernel's server
#     reads to end of stream, then answers: finack-cat prints the answer.
#  2) the kernel's client sends and half-closes; finack-cat prints what
#     came, and answers after the peer's end of stream (its input arrives
#     late): the kernel client, already half-closed, still reads it.
#  3) to a closed port: exit status 3, "connection refused".
. "$(dirname "$0")/lib.sh"
fa_setup "$1"
cat_bin="$(dirname "$FINACK_HOST")/finack-cat"
command -v socat >/dev/null || fa_skip "no socat"
finack_cat() { # input file, output file, args...
    local in=$1 out=$2; shift 2
    timeout 20 ip netns exec "$FA_NS" "$cat_bin" --tap fa0 --addr "$FA_FINACK_IP/24" "$@" \
        < "$in" > "$out" 2>> "$FA_TMP/host.out"
}

echo "== 1) finack half-closes, the kernel answers after end of stream"
fa_ns socat -T 10 TCP-LISTEN:9000,bind=$FA_KERNEL_IP,reuseaddr \
    SYSTEM:"cat > $FA_TMP/got1; echo answer-from-kernel" &
FA_PIDS="$FA_PIDS $!"
for _ in $(seq 100); do fa_ss state listening | grep -q ':9000' && break; sleep 0.05; done
printf 'request-from-finack\n' > "$FA_TMP/in1"
finack_cat "$FA_TMP/in1" "$FA_TMP/out1" "$FA_KERNEL_IP" 9000 || fa_fail "finack-cat exit $?"
[ "$(cat "$FA_TMP/got1")" = request-from-finack ] || fa_fail "kernel got '$(cat "$FA_TMP/got1")'"
[ "$(cat "$FA_TMP/out1")" = answer-from-kernel ] || fa_fail "finack-cat printed '$(cat "$FA_TMP/out1")'"
echo "ok"

echo "== 2) the kernel half-closes, finack answers after end of stream"
mkfifo "$FA_TMP/in2"
( exec 3> "$FA_TMP/in2"; sleep 1; echo answer-from-finack >&3 ) &
FA_PIDS="$FA_PIDS $!"
finack_cat "$FA_TMP/in2" "$FA_TMP/out2" --listen 9001 &
catpid=$!
FA_PIDS="$FA_PIDS $catpid"
for _ in $(seq 100); do grep -q 'finack-cat: up' "$FA_TMP/host.out" && break; sleep 0.05; done
printf 'request-from-kernel\n' | fa_ns socat -t 5 - TCP:$FA_FINACK_IP:9001 > "$FA_TMP/got2"
wait "$catpid" || fa_fail "finack-cat exit $?"
[ "$(cat "$FA_TMP/out2")" = request-from-kernel ] || fa_fail "finack-cat printed '$(cat "$FA_TMP/out2")'"
[ "$(cat "$FA_TMP/got2")" = answer-from-finack ] || fa_fail "kernel got '$(cat "$FA_TMP/got2")'"
echo "ok"

echo "== 3) a closed port"
rc=0
finack_cat /dev/null "$FA_TMP/out3" "$FA_KERNEL_IP" 9 || rc=$?
[ "$rc" = 3 ] || fa_fail "exit status $rc, want 3"
grep -q 'connect: connection refused' "$FA_TMP/host.out" || fa_fail "no clear message"
echo "ok"
echo PASS
