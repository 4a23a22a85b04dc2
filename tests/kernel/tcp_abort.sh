#!/bin/bash
# Kernel tests L17, L19, L20 — the ways a connection ends in a reset:
#  L17  SO_LINGER 0: finack's close() sends RST, no FIN, no TIME-WAIT; the
#       kernel's recv() fails with ECONNRESET.
#  L19  finack closes with received data unread: RST instead of FIN; the
#       kernel sees ECONNRESET.
#  L20  the kernel has fully closed; finack keeps writing: the kernel
#       answers RST, finack's next send fails with EPIPE (no signal). And
#       when the kernel resets a connection finack is reading (SO_LINGER
#       0), finack's recv() fails with ECONNRESET.
. "$(dirname "$0")/lib.sh"
fa_setup "$1"

RECV_ALL="
c.settimeout(5)
try:
    n = 0
    while True:
        x = c.recv(65536)
        if not x: print('eof', n); break
        n += len(x)
except OSError as e: print('error', errno.errorcode[e.errno], n)
"

echo "== L17"
fa_kernel_server 9000 "$RECV_ALL"
fa_start_tcp --connect "$FA_KERNEL_IP:9000" --send 5000 --linger 0 --trace --seconds 5
fa_wait_host 5
sleep 0.2; cat "$FA_TMP/kernel.out"
grep -q '^error ECONNRESET' "$FA_TMP/kernel.out" || fa_fail "L17: kernel did not see ECONNRESET"
[ "$(fa_counter TCP_RST_OUT)" -ge 1 ] || fa_fail "L17: finack sent no RST"
grep -q TIME-WAIT "$FA_TMP/host.out" && fa_fail "L17: finack entered TIME-WAIT"

echo "== L19"
fa_start_tcp --listen 7 --no-read --hold 0.3 --seconds 5
res=$(fa_py "
import errno, socket, time
s = socket.create_connection(('$FA_FINACK_IP', 7), timeout=5)
s.sendall(b'x' * 3000)
try:
    d = s.recv(100); print('eof' if not d else 'data')
except OSError as e: print(errno.errorcode[e.errno])
")
fa_wait_host 5
[ "$res" = ECONNRESET ] || fa_fail "L19: kernel got $res"
[ "$(fa_counter TCP_RST_OUT)" -ge 1 ] || fa_fail "L19: finack sent no RST"

echo "== L20"
fa_kernel_server 9001 "c.close(); time.sleep(2)"
# --hold: the kernel's FIN first (CLOSE-WAIT), so the reset is "broken
# pipe"; data before the close would make it reset at once (ECONNRESET).
fa_start_tcp --connect "$FA_KERNEL_IP:9001" --hold 0.3 --send 20000 --chunk 100 --interval 20 --trace --seconds 8
fa_wait_host 8
cat "$FA_TMP/host.out"
fa_expect '^send_error EPIPE'
[ "$FA_HOST_STATUS" = 3 ] || fa_fail "L20: exit status $FA_HOST_STATUS"
fa_kernel_server 9002 "c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
c.sendall(b'y' * 1000); time.sleep(0.3); c.close()"
fa_start_tcp --connect "$FA_KERNEL_IP:9002" --recv --seconds 5
fa_wait_host 5
fa_expect '^error ECONNRESET'
[ "$FA_HOST_STATUS" = 3 ] || fa_fail "L20: exit status $FA_HOST_STATUS"
echo PASS
