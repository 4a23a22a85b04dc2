#!/bin/bash
# demo-run.sh BUILD_DIR — the demo itself (see demo.sh), on the same
# namespace harness as the kernel tests: ARP and ping; finack-echo with
# kernel TCP and UDP clients; curl downloading from finack-httpd; the
# connection table (finack-stat) of the running server; one TCP
# connection's states from LISTEN to CLOSED; and unmodified programs on
# finackd through finack-run, the connection of a killed one closed as
# the kernel closes a dead process's.
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

echo; echo "== 2. finack-echo: the uppercase echo server, kernel clients over TCP and UDP"
fa_start "$(fa_prog finack-echo)" --port 7 --seconds 30 --pcap "$FA_TMP/echo.pcap"
fa_py "
import socket
s = socket.create_connection(('$FA_FINACK_IP', 7), timeout=5)
s.sendall(b'hello over tcp\n'); s.shutdown(socket.SHUT_WR)
reply = b''
while True:
    x = s.recv(1000)
    if not x: break
    reply += x
print('   TCP: sent', b'hello over tcp\n', 'got', reply)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(2)
u.sendto(b'hello over udp', ('$FA_FINACK_IP', 7))
print('   UDP: sent', b'hello over udp', 'got', u.recvfrom(100)[0])
"
fa_stop_host
echo "-- finack-echo's log:"
grep -E '^(echo|open|close)' "$FA_TMP/host.out" | sed 's/^/   /'
# The TCP connection drawn: ladder diagram and time-sequence graph, from
# finack's own capture (outside the temporary directory, to be opened).
mkdir -p "$1/demo"
page=$(cd "$1/demo" && pwd)/echo-ladder.html
"$(fa_prog finack-ladder)" --title "finack-echo and a kernel client (demo)" \
    -o "$page" "$FA_TMP/echo.pcap" 2>&1 | sed 's/^/   /'
echo "-- the echo connection with the kernel, drawn: $page"

echo; echo "== 3. finack-httpd: curl downloads a 100 MB file"
www=$FA_TMP/www
mkdir -p "$www"
echo '<h1>served by finack</h1>' > "$www/index.html"
head -c $((100 << 20)) /dev/urandom > "$www/file.bin"
fa_start "$(fa_prog finack-httpd)" --root "$www" --stat "$FA_TMP/stat.sock" --seconds 60
fa_ns curl -sS "http://$FA_FINACK_IP/" | sed 's/^/   curl: /'
got=$(fa_ns curl -sS -w '%{stderr}%{size_download} bytes in %{time_total} s (%{speed_download} B/s)\n' \
      "http://$FA_FINACK_IP/file.bin" 2> "$FA_TMP/curl.err" | sha256sum | cut -d' ' -f1)
echo "   curl: $(cat "$FA_TMP/curl.err")"
[ "$got" = "$(sha256sum < "$www/file.bin" | cut -d' ' -f1)" ] && echo "   SHA-256 matches the file on disk"

echo; echo "== 4. finack-stat: the server's connection table, mid-download"
# A slow reader keeps a download in flight, another client sits idle on a
# keep-alive connection: finack's table shows both, like ss -tan.
fa_py "
import socket, time
a = socket.create_connection(('$FA_FINACK_IP', 80)); a.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
a.sendall(b'GET /file.bin HTTP/1.1\r\nHost: x\r\n\r\n'); a.recv(1000)
b = socket.create_connection(('$FA_FINACK_IP', 80))
b.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n'); b.recv(1000)
time.sleep(0.5)
open('$FA_TMP/ready', 'w').close(); time.sleep(2)
" &
py=$!
FA_PIDS="$FA_PIDS $py"
for _ in $(seq 100); do [ -e "$FA_TMP/ready" ] && break; sleep 0.05; done
"$(fa_prog finack-stat)" --socket "$FA_TMP/stat.sock" | sed 's/^/   /'
wait "$py" || true
fa_stop_host

echo; echo "== 5. One connection's life: finack-tcp echoes, the kernel client closes first"
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
awk '$1 == "state" || $1 == "listener" {
    printf "   %9s  %s%s\n", $2, $3, $1 == "listener" ? "  (the listener)" : "" }' "$FA_TMP/host.out"
echo "-- the kernel's side now (ss -tan): it closed first, so it waits in TIME-WAIT"
fa_ss | sed 's/^/   /'
echo; echo "== 6. Unmodified programs: python3 -m http.server and curl on finackd (finack-run)"
fa_start "$(fa_prog finackd)" --control "$FA_TMP/finackd.sock" --stat "$FA_TMP/d.stat" --exit-wait 2
RUN="$(fa_prog finack-run) --control $FA_TMP/finackd.sock"
echo 'served by an unmodified python3, on finack' > "$FA_TMP/hello.txt"
ip netns exec "$FA_NS" $RUN python3 -m http.server --directory "$FA_TMP" 8000 > /dev/null 2>&1 &
FA_PIDS="$FA_PIDS $!"
for _ in $(seq 100); do fa_ns bash -c "exec 3<>/dev/tcp/$FA_FINACK_IP/8000" 2>/dev/null && break; sleep 0.05; done
echo "-- the kernel's curl fetches from it:"
fa_ns curl -sS "http://$FA_FINACK_IP:8000/hello.txt" | sed 's/^/   /'
echo "-- a program on finackd holds a connection to the kernel; finack-stat names it, then it is"
echo "   killed with SIGKILL and the kernel's side reads end of stream (a FIN):"
fa_py "
import socket, subprocess, time, shlex
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(('$FA_KERNEL_IP', 9000)); l.listen(1)
p = subprocess.Popen(shlex.split('$RUN') + ['python3', '-c',
    'import socket, time; s = socket.create_connection((\"$FA_KERNEL_IP\", 9000)); time.sleep(60)'])
c, _ = l.accept()
time.sleep(0.2)
st = subprocess.run(['$(fa_prog finack-stat)', '--socket', '$FA_TMP/d.stat'], capture_output=True, text=True).stdout
print('\n'.join('   ' + x for x in st.splitlines() if 'State' in x or ':9000' in x))
print('   (the program is pid %d)' % p.pid)
t0 = time.monotonic(); p.kill(); p.wait()
c.settimeout(5); x = c.recv(10)
print('   kernel read %s %.0f ms after the SIGKILL' % ('end of stream' if x == b'' else x, (time.monotonic() - t0) * 1000))
"
fa_stop_host

if command -v tshark >/dev/null; then
    echo; echo "== the first frames of part 1 as tshark decodes them"
    tshark -r "$FA_TMP/demo.pcap" 2>/dev/null | head -8
fi
echo; echo "== cleaning up namespace $FA_NS"
