#!/bin/bash
# Kernel test (L8): flow control with tiny buffers.
#  a) finack receives with a 200-byte receive buffer while the kernel
#     writes 3 bytes at a time, 1 MB; finack first holds off reading for
#     0.5 s so the window closes and the kernel must probe it; then the
#     transfer resumes and completes intact.
#  b) finack sends 1 MB from a 1000-byte send buffer.
. "$(dirname "$0")/lib.sh"
fa_setup "$1"
echo "== a) 200-byte receive buffer, 3-byte writes"
fa_start_tcp --listen 7 --recv --rcvbuf 200 --hold 0.5 --pcap "$FA_TMP/a.pcap" --seconds 60
ksent=$(fa_py "
import hashlib, socket
s = socket.create_connection(('$FA_FINACK_IP', 7), timeout=30)
h = hashlib.sha256(); n = 0
for i in range(1000000 // 3 + 1):
    b = bytes(((i * 3 + k) * 7) & 0xff for k in range(3))[:1000000 - n]
    if not b: break
    s.sendall(b); h.update(b); n += len(b)
s.shutdown(socket.SHUT_WR)
s.recv(1)
print(n, h.hexdigest())
")
fa_wait_host 60
fgot=$(awk '$1 == "received" { print $2, $4 }' "$FA_TMP/host.out")
echo "kernel sent $ksent; finack received $fgot"
[ "$ksent" = "$fgot" ] && [ "${ksent%% *}" = 1000000 ] || fa_fail "a) mismatch"
zw=$(tshark -r "$FA_TMP/a.pcap" -Y 'ip.src == 198.18.0.2 && tcp.window_size == 0' 2>/dev/null | wc -l)
probes=$(tshark -r "$FA_TMP/a.pcap" -Y 'tcp.analysis.zero_window_probe || tcp.analysis.keep_alive || tcp.analysis.zero_window_probe_ack' 2>/dev/null | wc -l)
big=$(tshark -r "$FA_TMP/a.pcap" -Y 'ip.src == 198.18.0.1 && tcp.len > 200' 2>/dev/null | wc -l)
echo "finack advertised a zero window $zw times; $probes probe segments; $big kernel segments over 200 bytes"
[ "$zw" -ge 1 ] || fa_fail "a) the window never closed"
[ "$big" = 0 ] || fa_fail "a) the kernel sent beyond a 200-byte window"

echo "== b) 1000-byte send buffer"
fa_kernel_server 9000 "$(fa_py_recv_hash got)"
fa_start_tcp --connect "$FA_KERNEL_IP:9000" --send 1000000 --sndbuf 1000 --seconds 60
fa_wait_host 60
fa_kernel_wait '^got'
sent=$(awk '$1 == "sent" { print $2, $4 }' "$FA_TMP/host.out")
got=$(awk '$1 == "got" { print $2, $3 }' "$FA_TMP/kernel.out")
echo "finack sent $sent; kernel got $got"
[ "$sent" = "$got" ] && [ "${sent%% *}" = 1000000 ] || fa_fail "b) mismatch"
echo PASS
