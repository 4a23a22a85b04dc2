#!/bin/bash
# Kernel test (L2, L11): finack listens and echoes in upper case; the
# kernel's client connects, sends, half-closes and reads the reply.
# finack goes LISTEN -> SYN-RECEIVED -> ESTABLISHED -> CLOSE-WAIT ->
# LAST-ACK -> CLOSED; the kernel, which closed first, is in TIME-WAIT.
. "$(dirname "$0")/lib.sh"
fa_setup "$1"
fa_start_tcp --listen 7 --upper --trace --seconds 20
reply=$(fa_py "
import socket
s = socket.create_connection(('$FA_FINACK_IP', 7), timeout=5)
s.sendall(b'hello, finack\n' * 100)
s.shutdown(socket.SHUT_WR)
d = b''
while True:
    x = s.recv(65536)
    if not x: break
    d += x
s.close()
print('ok' if d == b'HELLO, FINACK\n' * 100 else 'bad %r' % d[:40])
")
[ "$reply" = ok ] || fa_fail "kernel got: $reply"
fa_wait_host 5
cat "$FA_TMP/host.out"
[ "$FA_HOST_STATUS" = 0 ] || fa_fail "finack-tcp exit status $FA_HOST_STATUS"
states=$(awk '$1 == "state" { printf "%s ", $3 }' "$FA_TMP/host.out")
[ "$states" = "SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED " ] || fa_fail "states: $states"
fa_expect '^received 1400 sha256'
fa_ss state time-wait | grep -q "$FA_FINACK_IP:7" || fa_fail "kernel is not in TIME-WAIT"
echo PASS
