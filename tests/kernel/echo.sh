#!/bin/bash
# Kernel test: finack-echo, the uppercase echo server written on the run
# loop's callbacks. Eight kernel TCP clients at once each send 2 MB and
# half-close; each gets its bytes back in upper case (SHA-256 compared),
# then end of stream. A kernel UDP client gets its datagrams back upper-
# cased; a connected UDP socket aimed at a closed port gets ECONNREFUSED.
# Last, with a kernel client connected and idle, SIGTERM makes finack
# close the connection properly: the client reads end of stream (a FIN,
# not a reset) and finack exits 0.
. "$(dirname "$0")/lib.sh"
fa_setup "$1"
fa_start "$(fa_prog finack-echo)" --port 7 --seconds 60
res=$(fa_py "
import errno, hashlib, socket, threading
def client(i, out):
    s = socket.create_connection(('$FA_FINACK_IP', 7), timeout=10)
    data = bytes((97 + (j * 7 + i) % 26) if j % 61 else 10 for j in range(2 << 20))
    want = hashlib.sha256(data.upper()).hexdigest()
    got = hashlib.sha256(); n = 0
    def reader():
        nonlocal n
        while True:
            x = s.recv(65536)
            if not x: break
            got.update(x); n += len(x)
    t = threading.Thread(target=reader); t.start()
    s.sendall(data); s.shutdown(socket.SHUT_WR); t.join(); s.close()
    out[i] = n == len(data) and got.hexdigest() == want
out = {}
ts = [threading.Thread(target=client, args=(i, out)) for i in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
print('tcp', sum(out.values()))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(2)
ok = 0
for msg in [b'hello, udp', b'x' * 1400, b'']:
    u.sendto(msg, ('$FA_FINACK_IP', 7))
    d, a = u.recvfrom(2048)
    ok += d == msg.upper() and a == ('$FA_FINACK_IP', 7)
print('udp', ok)
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.settimeout(2)
c.connect(('$FA_FINACK_IP', 9)); c.send(b'anyone?')
try:
    c.recv(100); print('closed-port answered')
except OSError as e:
    print('closed-port', errno.errorcode.get(e.errno, e))
")
echo "$res"
grep -q '^tcp 8$' <<< "$res" || fa_fail "TCP echo: $res"
grep -q '^udp 3$' <<< "$res" || fa_fail "UDP echo: $res"
grep -q '^closed-port ECONNREFUSED$' <<< "$res" || fa_fail "closed port: $res"
[ "$(grep -c '^close .*end of stream' "$FA_TMP/host.out")" = 8 ] || fa_fail "8 closes"

# SIGTERM with a connection open: the kernel client must see a FIN.
fa_py "
import socket, time, os, signal, sys
s = socket.create_connection(('$FA_FINACK_IP', 7), timeout=5)
s.sendall(b'still here'); assert s.recv(100) == b'STILL HERE'
os.kill($FA_HOST_PID, signal.SIGTERM)
try:
    x = s.recv(100)
    print('after-term', 'eof' if x == b'' else repr(x))
except OSError as e:
    print('after-term', e)
" > "$FA_TMP/term.out"
cat "$FA_TMP/term.out"
fa_wait_host 5
grep -q '^after-term eof$' "$FA_TMP/term.out" || fa_fail "SIGTERM: $(cat "$FA_TMP/term.out")"
[ "$FA_HOST_STATUS" = 0 ] || fa_fail "finack-echo exit status $FA_HOST_STATUS"
fa_expect 'stopped; 1 connection was closed at exit'
echo PASS
