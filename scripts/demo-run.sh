#!/bin/bash
# demo-run.sh BUILD_DIR — the demo itself (see demo.sh), on the same
# namespace harness as the kernel tests: ARP and ping, then TCP: finack's
# uppercase echo server and a plain kernel client, with the states
# finack's connection went through.
. "$(dirname "$0")/../tests/kernel/lib.sh"
fa_setup "$1/programs/finack-host"
echo "== namespace $FA_NS: the kernel is $FA_KERNEL_IP on TAP fa0, finack is $FA_FINACK_IP"

echo; echo "== 1. ARP and ICMP: the kernel pings finack"
fa_start_host --pcap "$FA_TMP/demo.pcap"
fa_ns ping -c 3 -i 0.2 "$FA_FINACK_IP"
echo "-- the kernel's neighbour table (filled by ARP):"
fa_ns ip neigh show dev fa0
echo "-- a UDP datagram to a closed finack port gets ICMP port unreachable:"
fa_py "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect(('$FA_FINACK_IP', 9))
s.send(b'anyone?'); s.settimeout(1)
try: s.recv(10)
except OSError as e: print('   kernel recv():', e.strerror)
"
fa_stop_host
echo "-- finack's counters:"
tail -n +2 "$FA_TMP/host.out"

echo; echo "== 2. TCP: finack's uppercase echo server on port 7, a kernel client"
fa_start_tcp --listen 7 --upper --trace --seconds 20
fa_py "
import socket
s = socket.create_connection(('$FA_FINACK_IP', 7), timeout=5)
line = b'hello from the linux kernel\n'
print('   kernel client sends:', line)
s.sendall(line)
s.shutdown(socket.SHUT_WR)
reply = b''
while True:
    x = s.recv(1000)
    if not x: break
    reply += x
print('   kernel client got:  ', reply)
s.close()
"
fa_wait_host 5
echo "-- the states finack's connection went through (seconds since LISTEN):"
awk '$1 == "state" || $1 == "listener" { printf "   %9s  %s\n", $2, $3 }' "$FA_TMP/host.out"
echo "-- the kernel's side now (ss -tan): it closed first, so it waits in TIME-WAIT"
fa_ss | sed 's/^/   /'
if command -v tshark >/dev/null; then
    echo; echo "== the first frames of part 1 as tshark decodes them"
    tshark -r "$FA_TMP/demo.pcap" 2>/dev/null | head -8
fi
echo; echo "== cleaning up namespace $FA_NS"
