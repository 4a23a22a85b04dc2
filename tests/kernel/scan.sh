#!/bin/bash
# Kernel test: nmap (Debian's) scans finack-echo on its TAP, from the
# test's namespace only, and finack answers as RFC 9293 prescribes:
#   -sS, -sT   port 7 open (SYN-ACK), port 9 closed (RST);
#   -sF -sN -sX  port 7 silent (open|filtered: a segment without SYN,
#              RST or ACK to a listener is dropped, §3.10.7.2), port 9
#              closed (RST, §3.10.7.1);
#   -sA        both unfiltered (an ACK gets an RST either way);
#   -sW        both answered by an RST with a zero window;
#   -sU        UDP 7 open (echoed), UDP 9 closed (ICMP port unreachable);
#   -O         whatever nmap guesses (printed, not asserted).
# Afterwards finack is alive, its connection table (finack-stat) holds
# nothing but the listener, and the echo still works. Nothing leaves the
# namespace: nmap's targets are finack's address on the TAP.
. "$(dirname "$0")/lib.sh"
command -v nmap >/dev/null || fa_skip "nmap is not installed (scripts/deps.sh)"
fa_setup "$1"
fa_start "$(fa_prog finack-echo)" --port 7 --seconds 300 --stat "$FA_TMP/stat.sock"

# One scan; prints "port/state" for each port (grepable output).
scan() {
    fa_ns timeout 120 nmap -n -Pn -T4 --max-retries 1 "$@" -oG - "$FA_FINACK_IP" 2>/dev/null |
        sed -n 's/.*Ports: //p' | tr ',' '\n' | sed 's/^ *//' | cut -d/ -f1,2
}

expect() { # expect SCAN_NAME "got" "want"
    [ "$2" = "$3" ] || fa_fail "$1: nmap says '$(echo $2)', want '$(echo $3)'"
    echo "ok  $1: $(echo $2)"
}

expect "-sS" "$(scan -sS -p 7,9)" "$(printf '7/open\n9/closed')"
expect "-sT" "$(scan -sT -p 7,9)" "$(printf '7/open\n9/closed')"
for s in -sF -sN -sX; do
    expect "$s" "$(scan $s -p 7,9)" "$(printf '7/open|filtered\n9/closed')"
done
expect "-sA" "$(scan -sA -p 7,9)" "$(printf '7/unfiltered\n9/unfiltered')"
expect "-sW" "$(scan -sW -p 7,9)" "$(printf '7/closed\n9/closed')"
expect "-sU" "$(scan -sU -p 7,9)" "$(printf '7/open\n9/closed')"
os=$(fa_ns timeout 120 nmap -n -Pn -O --osscan-guess -p 7,9 "$FA_FINACK_IP" 2>/dev/null |
     grep -E '^(Running|OS details|Aggressive OS guesses|No exact OS|Too many fingerprints|Device type)' |
     head -3)
echo "nmap -O: ${os:-no guess}"

kill -0 "$FA_HOST_PID" 2>/dev/null || fa_fail "finack-echo died during the scans"
# Half-open connections from -sS went when nmap's kernel reset them;
# -sT's closed properly: only the listener is left (a few seconds for
# what nmap's kernel answers late).
for _ in $(seq 50); do
    left=$("$(fa_prog finack-stat)" --socket "$FA_TMP/stat.sock" | grep -vc -E 'LISTEN|^State|^$' || true)
    [ "$left" = 0 ] && break
    sleep 0.1
done
[ "$left" = 0 ] || { "$(fa_prog finack-stat)" --socket "$FA_TMP/stat.sock"; fa_fail "$left connections left after the scans"; }
echo "ok  nothing left but the listener"
reply=$(fa_py "
import socket
s = socket.create_connection(('$FA_FINACK_IP', 7), timeout=5)
s.sendall(b'still here'); s.shutdown(socket.SHUT_WR)
print(s.recv(100).decode())
")
[ "$reply" = "STILL HERE" ] || fa_fail "the echo after the scans said '$reply'"
echo "ok  the echo still answers"
echo PASS
