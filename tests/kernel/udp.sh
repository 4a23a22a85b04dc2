#!/bin/bash
# Kernel test (L25): UDP between the kernel and finack. A kernel client
# sends datagrams to finack's upper-case echo and gets each back, whole
# and in upper case, from the port it sent to; a kernel socket connected
# to a finack port with no socket gets ICMP port unreachable, seen by the
# kernel program as ECONNREFUSED.
. "$(dirname "$0")/lib.sh"
fa_setup "$1"
fa_start_host --udp-echo 7 --seconds 20
res=$(fa_py "
import errno, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
ok = 0
for i, msg in enumerate([b'hello', b'datagrams keep their edges', b'x' * 1400, b'']):
    s.sendto(msg, ('$FA_FINACK_IP', 7))
    data, addr = s.recvfrom(2048)
    ok += data == msg.upper() and addr == ('$FA_FINACK_IP', 7)
print('echo', ok)
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.settimeout(2)
c.connect(('$FA_FINACK_IP', 9))
c.send(b'anyone?')
try:
    c.recv(100); print('closed-port answered?!')
except OSError as e:
    print('closed-port', errno.errorcode.get(e.errno, e))
")
echo "$res"
fa_stop_host
grep -q '^echo 4$' <<< "$res" || fa_fail "echo: $res"
grep -q '^closed-port ECONNREFUSED$' <<< "$res" || fa_fail "closed port: $res"
[ "$(fa_counter UDP_NO_PORT)" = 1 ] && [ "$(fa_counter ICMP_UNREACH_OUT)" = 1 ] || fa_fail "counters"
echo PASS
