#!/bin/bash
# Kernel test, differential: the socket-call sequences of preload_diff.py
# run on the kernel's own sockets and under finack-run, against the same
# kernel peers; every line a program can observe must be the same. A
# divergence is printed side by side.
. "$(dirname "$0")/lib.sh"
fa_setup "$1"
here=$(cd "$(dirname "$0")" && pwd)
CTL=$FA_TMP/finackd.sock
chmod 755 "$FA_TMP" # a child that drops root must still reach finackd
fa_start "$(fa_prog finackd)" --control "$CTL" --exit-wait 5
K=$FA_KERNEL_IP
F=$FA_FINACK_IP
ip netns exec "$FA_NS" python3 "$here/preload_diff.py" peer "$K" > "$FA_TMP/peers.out" 2>&1 &
FA_PIDS="$FA_PIDS $!"
for _ in $(seq 100); do grep -q 'peers up' "$FA_TMP/peers.out" && break; sleep 0.05; done
grep -q 'peers up' "$FA_TMP/peers.out" || fa_fail "peers did not start: $(cat "$FA_TMP/peers.out")"
fa_ns timeout 120 python3 "$here/preload_diff.py" run "$K" "$K" > "$FA_TMP/kernel.txt" 2>&1 ||
    fa_fail "the kernel run failed: $(cat "$FA_TMP/kernel.txt")"
fa_ns timeout 120 "$(fa_prog finack-run)" --control "$CTL" python3 "$here/preload_diff.py" run "$K" "$F" \
    > "$FA_TMP/finack.txt" 2>&1 || fa_fail "the finack run failed: $(cat "$FA_TMP/finack.txt")"
cat "$FA_TMP/finack.txt"
if ! diff "$FA_TMP/kernel.txt" "$FA_TMP/finack.txt" > "$FA_TMP/diff.txt"; then
    echo "--- kernel / +++ finack-run:"
    diff -u "$FA_TMP/kernel.txt" "$FA_TMP/finack.txt" | tail -n +3
    fa_fail "finack-run differs from the kernel in $(grep -c '^<' "$FA_TMP/diff.txt") sequence(s)"
fi
[ "$(wc -l < "$FA_TMP/kernel.txt")" -ge 24 ] || fa_fail "too few sequences ran"
echo "preload_diff: $(wc -l < "$FA_TMP/kernel.txt") sequences, the same on finack-run as on the kernel"
