#!/bin/bash
# Kernel test: server programs from Debian's packages, unmodified, on
# finackd through finack-run, loaded from the kernel's side.
#  1. nginx (a master and two workers: fork, epoll, accept4, sendfile)
#     serves wrk for 3 s with no errors, and curl an 8 MB file intact.
#  2. redis-server answers redis-cli and redis-benchmark (SET, GET).
#  3. iperf3: finack's server (dual-stack ::, v4-mapped) in both
#     directions and over UDP, then finack's client against the kernel's
#     server, both directions.
. "$(dirname "$0")/lib.sh"
fa_setup "$1"
for p in nginx wrk redis-server redis-benchmark redis-cli iperf3 curl; do
    command -v "$p" >/dev/null || fa_fail "$p is not installed (scripts/deps.sh installs it)"
done
CTL=$FA_TMP/finackd.sock
fa_start "$(fa_prog finackd)" --control "$CTL" --exit-wait 5
RUN="$(fa_prog finack-run) --control $CTL"
K=$FA_KERNEL_IP
F=$FA_FINACK_IP

# Starts a program under finack-run in the namespace; its PID in BG (ip
# netns exec and finack-run exec it, so that is the program's own PID —
# a shell function put in the background would be a subshell's).
fin_bg() { ip netns exec "$FA_NS" $RUN "$@" > "$FA_TMP/bg.out" 2>&1 & BG=$!; FA_PIDS="$FA_PIDS $BG"; }
# Waits (5 s at most) until F:$1 accepts connections.
wait_port() {
    for _ in $(seq 100); do
        fa_ns bash -c "exec 3<>/dev/tcp/$F/$1" 2>/dev/null && return 0
        sleep 0.05
    done
    fa_fail "nothing listens on $F:$1"
}
# Stops a program started with fin_bg (SIGTERM, then waits for it).
stop_bg() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null || true; }

# ---- 1. nginx ------------------------------------------------------------------
www=$FA_TMP/www
mkdir -p "$www"
echo '<h1>finack</h1>' > "$www/index.html"
head -c $((8 << 20)) /dev/urandom > "$www/file.bin"
sha=$(sha256sum < "$www/file.bin" | cut -d' ' -f1)
cat > "$FA_TMP/nginx.conf" <<CONF
daemon off; master_process on; worker_processes 2; user root;
pid $FA_TMP/nginx.pid; error_log $FA_TMP/nginx.err;
events { worker_connections 256; }
http {
    access_log off; sendfile on; tcp_nopush on; tcp_nodelay on; keepalive_timeout 30;
    client_body_temp_path $FA_TMP/ngx_body;
    server { listen $F:8080; root $www; }
}
CONF
fin_bg nginx -c "$FA_TMP/nginx.conf" -e "$FA_TMP/nginx.err"
NGINX=$BG
wait_port 8080
got=$(fa_ns curl -sS --max-time 30 "http://$F:8080/file.bin" | sha256sum | cut -d' ' -f1)
[ "$got" = "$sha" ] || fa_fail "nginx file: $got"
wrk=$(fa_ns wrk -t2 -c32 -d3s "http://$F:8080/index.html")
echo "$wrk"
req=$(awk '/requests in/ { print $1 }' <<< "$wrk")
[ "${req:-0}" -gt 1000 ] || fa_fail "nginx answered only ${req:-0} requests"
grep -qE 'Socket errors|Non-2xx' <<< "$wrk" && fa_fail "wrk saw errors"
stop_bg "$NGINX"
echo "nginx: $req requests in 3 s, 8 MB intact"

# ---- 2. redis -----------------------------------------------------------------
fin_bg redis-server --port 6379 --bind "$F" --save '' --appendonly no --protected-mode no
REDIS=$BG
wait_port 6379
fa_ns redis-cli -h "$F" set finack lifecycle >/dev/null
[ "$(fa_ns redis-cli -h "$F" get finack)" = lifecycle ] || fa_fail "redis GET"
bench=$(fa_ns redis-benchmark -h "$F" -q -n 20000 -c 20 -t set,get 2>&1 | tr '\r' '\n' | grep -E '^(SET|GET):.*requests per second')
echo "$bench"
[ "$(grep -c 'requests per second' <<< "$bench")" = 2 ] || fa_fail "redis-benchmark: $bench"
stop_bg "$REDIS"

# ---- 3. iperf3 -------------------------------------------------------------------
iperf_bytes() {
    python3 -c "import json,sys; j = json.load(sys.stdin)
print(j['end']['sum_received']['bytes'] if 'sum_received' in j.get('end', {}) else 'error: %s' % j.get('error'))"
}
fin_bg iperf3 -s -p 5201
IPERF=$BG
# Not wait_port: iperf3 serves one client at a time, and a probe that
# connects could leave it busy when the test's client comes.
for _ in $(seq 100); do grep -q 'Server listening' "$FA_TMP/bg.out" && break; sleep 0.05; done
for dir in "" -R "-u -b 200M"; do
    b=$(fa_ns iperf3 -c "$F" -p 5201 -t 2 $dir -J | iperf_bytes)
    [ "${b%% *}" -gt 1000000 ] 2>/dev/null ||
        fa_fail "iperf3 $dir to finack's server: $b; the server said: $(cat "$FA_TMP/bg.out")"
    echo "iperf3 finack server ${dir:-(to finack)}: $b bytes in 2 s"
done
stop_bg "$IPERF"
ip netns exec "$FA_NS" iperf3 -s -p 5202 -B "$K" > /dev/null 2>&1 &
KIPERF=$!; FA_PIDS="$FA_PIDS $KIPERF"
for _ in $(seq 100); do fa_ns ss -ltnH | grep -q ":5202" && break; sleep 0.05; done
for dir in "" -R; do
    b=$(fa_ns $RUN iperf3 -c "$K" -p 5202 -t 2 $dir -J | iperf_bytes)
    [ "${b%% *}" -gt 1000000 ] 2>/dev/null || fa_fail "iperf3 $dir client on finack: $b"
    echo "iperf3 finack client ${dir:-(from finack)}: $b bytes in 2 s"
done
echo "preload_apps: all parts passed"
