#!/bin/bash
# Kernel test (L23): the connection table of a running finack program.
# A kernel client connects to finack, sends 8 bytes and closes; finack's
# application never reads and never calls close(), so the connection
# sits in CLOSE-WAIT. finack-stat lists it — state, 8 bytes to read, the
# addresses, time in state — and flags it past the threshold (1 s here);
# the kernel, waiting for finack's FIN, is seen in FIN-WAIT-2.
. "$(dirname "$0")/lib.sh"
fa_setup "$1"
stat="$(dirname "$FINACK_HOST")/finack-stat"
fa_start_tcp --listen 7 --no-read --then none --stat "$FA_TMP/stat.sock" --seconds 30
fa_py "
import socket
s = socket.create_connection(('$FA_FINACK_IP', 7), timeout=5)
s.sendall(b'leftover')
s.shutdown(socket.SHUT_WR)
s.close()
"
sleep 1.5
fa_ns "$stat" --socket "$FA_TMP/stat.sock" --close-wait 1 > "$FA_TMP/table.txt"
cat "$FA_TMP/table.txt"
grep -Eq "^CLOSE-WAIT +8 +0 +$FA_FINACK_IP:7 +$FA_KERNEL_IP:[0-9]+ +[0-9.]+s" "$FA_TMP/table.txt" ||
    fa_fail "no CLOSE-WAIT line with 8 bytes to read"
grep -q 'has not called close()' "$FA_TMP/table.txt" || fa_fail "CLOSE-WAIT not flagged"
grep -q '^1 connection flagged' "$FA_TMP/table.txt" || fa_fail "flag count"
# Below the threshold, nothing is flagged.
fa_ns "$stat" --socket "$FA_TMP/stat.sock" --close-wait 60 | grep -q flagged &&
    fa_fail "flagged below the threshold"
fa_ss state fin-wait-2 | grep -q "$FA_FINACK_IP:7" || fa_fail "kernel not in FIN-WAIT-2"
"$stat" --socket "$FA_TMP/nonexistent.sock" 2>/dev/null && fa_fail "no error for a missing socket"
fa_stop_host
[ -e "$FA_TMP/stat.sock" ] && fa_fail "the stat socket was not removed"
echo PASS
