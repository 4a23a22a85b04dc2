#!/bin/bash
# Kernel test: finack-httpd against curl and a Python HTTP client.
#  1. curl downloads a 200 MB file (FA_HTTP_MB) intact (SHA-256).
#  2. HTTP/1.1 itself: two requests on one keep-alive connection, two
#     pipelined in one write, HEAD, 404, 405 with Allow, a path escaping
#     the root refused with 400, HTTP/1.0 answered and closed.
#  3. 50 curl processes download a 4 MB file at once; all intact.
#  4. SIGTERM: finack-httpd exits 0.
#  5. Again with the fault wrapper dropping 2 % of frames each way: the
#     200 MB download is intact.
. "$(dirname "$0")/lib.sh"
fa_setup "$1"
MB=${FA_HTTP_MB:-200}
www=$FA_TMP/www
mkdir -p "$www/sub"
echo '<h1>finack</h1>' > "$www/index.html"
echo 'in a directory' > "$www/sub/index.html"
head -c $((MB << 20)) /dev/urandom > "$www/big.bin"
head -c $((4 << 20)) /dev/urandom > "$www/mid.bin"
big_sha=$(sha256sum < "$www/big.bin" | cut -d' ' -f1)
mid_sha=$(sha256sum < "$www/mid.bin" | cut -d' ' -f1)
URL=http://$FA_FINACK_IP

download() { # path: prints "CODE BYTES SHA256 SECONDS"
    local sha
    sha=$(fa_ns curl -sS --max-time 240 -w '%{stderr}%{http_code} %{size_download} %{time_total}\n' \
        "$URL/$1" 2> "$FA_TMP/curl.err" | sha256sum | cut -d' ' -f1)
    read -r code bytes secs < <(tail -n 1 "$FA_TMP/curl.err")
    echo "$code $bytes $sha $secs"
}

fa_start "$(fa_prog finack-httpd)" --root "$www" --seconds 280
read -r code bytes sha secs <<< "$(download big.bin)"
echo "clean: $MB MB in $secs s, status $code"
[ "$code $bytes $sha" = "200 $((MB << 20)) $big_sha" ] || fa_fail "download: $code $bytes $sha"

res=$(fa_py "
import socket
def conn():
    return socket.create_connection(('$FA_FINACK_IP', 80), timeout=5)
def read_response(s, buf):
    while b'\r\n\r\n' not in buf:
        x = s.recv(65536)
        if not x: return None, buf
        buf += x
    head, _, rest = buf.partition(b'\r\n\r\n')
    lines = head.decode().split('\r\n')
    h = {k.lower(): v for k, v in (l.split(': ', 1) for l in lines[1:])}
    n = 0 if lines[0].startswith('HTTP/1.1 200') and 'HEAD' in mode else int(h['content-length'])
    while len(rest) < n:
        rest += s.recv(65536)
    return (lines[0], h, rest[:n]), rest[n:]
mode = ''
s = conn(); buf = b''
s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
r1, buf = read_response(s, buf)
s.sendall(b'GET /sub/ HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n')
r2, buf = read_response(s, buf)
r3, buf = read_response(s, buf)
print('keepalive', r1[0], r1[2] == b'<h1>finack</h1>\n', r1[1]['content-type'])
print('pipelined', r2[0], r2[2] == b'in a directory\n', r3[0])
mode = 'HEAD'
s.sendall(b'HEAD /mid.bin HTTP/1.1\r\nHost: x\r\n\r\n')
r4, buf = read_response(s, buf)
print('head', r4[0], r4[1]['content-length'])
mode = ''
s.sendall(b'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc')
r5, buf = read_response(s, buf)
print('post', r5[0], r5[1].get('allow'))
s.sendall(b'GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n')
r6, buf = read_response(s, buf)
print('escape', r6[0], r6[1]['connection'], s.recv(10) == b'')
s = conn(); buf = b''
s.sendall(b'GET /index.html HTTP/1.0\r\n\r\n')
r7, buf = read_response(s, buf)
print('http10', r7[0], r7[1]['connection'], s.recv(10) == b'')
")
echo "$res"
want="keepalive HTTP/1.1 200 OK True text/html; charset=utf-8
pipelined HTTP/1.1 200 OK True HTTP/1.1 404 Not Found
head HTTP/1.1 200 OK 4194304
post HTTP/1.1 405 Method Not Allowed GET, HEAD
escape HTTP/1.1 400 Bad Request close True
http10 HTTP/1.1 200 OK close True"
[ "$res" = "$want" ] || fa_fail "HTTP checks differ from: $want"

pids=""
for i in $(seq 50); do
    fa_ns curl -sS --max-time 120 -o "$FA_TMP/par$i" "$URL/mid.bin" &
    pids="$pids $!"
done
failed=0
for p in $pids; do wait "$p" || failed=$((failed + 1)); done
good=0
for i in $(seq 50); do
    [ "$(sha256sum < "$FA_TMP/par$i" | cut -d' ' -f1)" = "$mid_sha" ] && good=$((good + 1))
    rm -f "$FA_TMP/par$i"
done
echo "parallel: $good of 50 intact, $failed curl failures"
[ "$good" = 50 ] && [ "$failed" = 0 ] || fa_fail "parallel downloads"
fa_stop_host
fa_expect '^finack-httpd: [0-9]+ requests'

fa_start "$(fa_prog finack-httpd)" --root "$www" --seconds 280 --fault drop=2% --seed 7
read -r code bytes sha secs <<< "$(download big.bin)"
echo "2% drop: $MB MB in $secs s, status $code"
fa_stop_host
grep '^faults:' "$FA_TMP/host.out"
grep -E 'TCP_RETRANSMITS|TCP_LOSS_PROBES' "$FA_TMP/host.out" || true
[ "$code $bytes $sha" = "200 $((MB << 20)) $big_sha" ] || fa_fail "download under loss: $code $bytes $sha"
echo PASS
