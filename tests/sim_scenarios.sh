#!/bin/bash
# Runs every named finack-sim scenario and checks the lines that make it
# what it is (states reached, a segment lost, an errno), that its
# invariants held (exit 0), that --json gives one valid JSON object per
# line, and that --pcap opens in tshark without malformed frames.
set -euo pipefail
sim=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect() { # scenario, regex...
    local sc=$1; shift
    "$sim" run "$sc" > "$tmp/$sc.txt" || fail "$sc exited non-zero (invariant?)"
    for re in "$@"; do
        grep -Eq -- "$re" "$tmp/$sc.txt" || { cat "$tmp/$sc.txt"; fail "$sc: no /$re/"; }
    done
    echo "ok  $sc"
}
expect open-close 'A: TIME-WAIT' 'B: LAST-ACK' 'B: CLOSED' 'invariants: all held'
expect lost-syn 'SYN .*\(LOST\)' '1000.000 ms   A ---> B  SYN' 'A: ESTABLISHED'
expect lost-synack 'SYN,ACK .*\(LOST\)' 'A: ESTABLISHED' 'B: ESTABLISHED'
expect lost-last-ack 'A: TIME-WAIT' 'ACK .*\(LOST\)' 'B: CLOSED'
expect simultaneous-open 'A: SYN-RECEIVED' 'B: SYN-RECEIVED' 'A: ESTABLISHED' 'B: ESTABLISHED'
expect simultaneous-close 'A: CLOSING' 'B: CLOSING' 'A: TIME-WAIT' 'B: TIME-WAIT'
expect half-close 'B: CLOSE-WAIT' 'B: LAST-ACK' 'A: TIME-WAIT' 'ack=3002'
expect abort 'RST' 'ECONNRESET'
expect keepalive 'ETIMEDOUT' 'A: CLOSED'
expect zero-window 'win=0' 'ack=4001'
expect old-duplicate-syn 'ack=91' 'RST +seq=91\(abs\)' 'B: ESTABLISHED'
"$sim" run open-close --json > "$tmp/j"
python3 -c "
import json, sys
rows = [json.loads(l) for l in open('$tmp/j')]
assert any(r['event'] == 'segment' and r['flags'] == 'SYN' for r in rows)
assert any(r['event'] == 'state' and r['state'] == 'TIME-WAIT' for r in rows)
print('ok  --json:', len(rows), 'objects')
"
if command -v tshark >/dev/null; then
    "$sim" run lost-last-ack --pcap "$tmp/p.pcap" > /dev/null
    n=$(tshark -r "$tmp/p.pcap" 2>/dev/null | wc -l)
    bad=$(tshark -r "$tmp/p.pcap" -Y '_ws.malformed || _ws.expert.severity >= error' 2>/dev/null | wc -l)
    [ "$n" -gt 5 ] && [ "$bad" = 0 ] || fail "pcap: $n frames, $bad malformed"
    echo "ok  --pcap: $n frames, none malformed"
fi
# A scenario file: two chosen losses, fast retransmit, a clean close.
src=$(dirname "$0")/../examples/scenarios/lossy-transfer.txt
"$sim" run "$src" > "$tmp/file.txt" || fail "scenario file exited non-zero"
[ "$(grep -c '(LOST)' "$tmp/file.txt")" = 2 ] || fail "scenario file: want 2 lost segments"
grep -q 'A: TIME-WAIT' "$tmp/file.txt" || fail "scenario file: A never reached TIME-WAIT"
grep -q 'seq=2897 ack=1' "$tmp/file.txt" || fail "scenario file: no retransmission"
echo "ok  scenario file"
printf 'listen B 80\nat 0 fly A\n' > "$tmp/bad.txt"
"$sim" run "$tmp/bad.txt" 2> "$tmp/err" && fail "a bad scenario file was accepted"
grep -q 'bad.txt:2' "$tmp/err" || fail "no line number for a bad scenario line"
# Found by fuzz_scenario: a time too large for 64-bit nanoseconds (the
# conversion was undefined behaviour; the sanitized build traps it).
printf 'run 77777777777777777777777777777777777777777777777777s\n' > "$tmp/huge.txt"
"$sim" run "$tmp/huge.txt" 2> "$tmp/err" && fail "a time past 2^63 ns was accepted"
grep -q 'huge.txt:1' "$tmp/err" || fail "no line number for a time past 2^63 ns"
"$sim" run no-such-scenario 2>/dev/null && fail "unknown scenario accepted"
echo PASS
