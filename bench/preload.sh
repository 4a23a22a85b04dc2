#!/bin/bash
# preload.sh BUILD_DIR [ROUNDS] — what finack-run costs. In one sitting,
# finack's side on CPU 1 and the kernel's on CPU 0, medians of ROUNDS
# (default 3) with the spread:
#  1. the same workload on finack in-process (finack-tcp, the library's
#     own API) and as a plain socket program (ksock) under finack-run on
#     finackd: 64-byte ping-pong round trip, bulk kernel -> program and
#     program -> kernel (default 64 KiB socket buffers on both);
#  2. nginx + wrk and redis-server + redis-benchmark on finackd against
#     the same programs on the kernel over a veth pair (offloads off, so
#     a frame is a segment as on the TAP).
# Prints figures and ratios; never fails on timing. Needs root; all of it
# happens in namespaces this script makes and removes.
. "$(dirname "$0")/../tests/kernel/lib.sh"
build=$1
rounds=${2:-3}
mb=${FA_BENCH_MB:-500}
pings=${FA_BENCH_PINGS:-20000}
fa_setup "$build/programs/finack-host"
ksock=$build/bench/ksock
CTL=$FA_TMP/finackd.sock
RUN="$build/programs/finack-run --control $CTL"
K=$FA_KERNEL_IP
F=$FA_FINACK_IP
pk="taskset -c 0"
pf="taskset -c 1"

field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($(i+1) == k) print $i }'; }
# "median (min..max)" of the numbers on stdin.
summary() { sort -g | awk '{ a[NR] = $1 } END { printf "%s (%s..%s)", a[int((NR + 1) / 2)], a[1], a[NR] }'; }
med() { awk '{ print $1 }' <<< "$1"; }
ratio() { awk -v a="$(med "$1")" -v b="$(med "$2")" 'BEGIN { printf "%.2f", a / b }'; }
# Waits for "listening" in file $1 (5 s at most).
wait_listening() {
    for _ in $(seq 100); do grep -q listening "$1" 2>/dev/null && return 0; sleep 0.05; done
    fa_fail "no listener: $(cat "$1")"
}
# A finack-run program in the background, pinned with finackd; PID in BG.
# (ip netns exec, taskset and finack-run exec it: BG is the program's PID)
fin_bg() { ip netns exec "$FA_NS" $pf $RUN "$@" > "$FA_TMP/bg.out" 2>&1 & BG=$!; FA_PIDS="$FA_PIDS $BG"; }

in_rtt=; in_rx=; in_tx=; pl_rtt=; pl_rx=; pl_tx=
for r in $(seq "$rounds"); do
    # ---- in-process: finack-tcp ----
    fa_start_tcp --listen 5001 --upper --nodelay --seconds 120
    taskset -pc 1 "$FA_HOST_PID" >/dev/null
    in_rtt="$in_rtt $(fa_ns $pk "$ksock" ping "$F" 5001 "$pings" | field us | head -1)"
    fa_wait_host 30
    fa_start_tcp --listen 5002 --recv --no-hash --seconds 120
    taskset -pc 1 "$FA_HOST_PID" >/dev/null
    in_rx="$in_rx $(fa_ns $pk "$ksock" send "$F" 5002 $((mb * 1000000)) | field Gbit/s)"
    fa_wait_host 60
    fa_ns $pk "$ksock" recv "$K" 5003 > "$FA_TMP/krecv.out" & krecv=$!; FA_PIDS="$FA_PIDS $krecv"
    wait_listening "$FA_TMP/krecv.out"
    fa_start_tcp --connect "$K:5003" --send $((mb * 1000000)) --no-hash --seconds 120
    taskset -pc 1 "$FA_HOST_PID" >/dev/null
    fa_wait_host 120; wait "$krecv"
    in_tx="$in_tx $(field Gbit/s < "$FA_TMP/krecv.out")"

    # ---- the same through finack-run ----
    fa_start "$build/programs/finackd" --control "$CTL" --exit-wait 5
    taskset -pc 1 "$FA_HOST_PID" >/dev/null
    fin_bg "$ksock" echo 0.0.0.0 5001; wait_listening "$FA_TMP/bg.out"
    pl_rtt="$pl_rtt $(fa_ns $pk "$ksock" ping "$F" 5001 "$pings" | field us | head -1)"
    wait "$BG"
    fin_bg "$ksock" recv 0.0.0.0 5002; wait_listening "$FA_TMP/bg.out"
    pl_rx="$pl_rx $(fa_ns $pk "$ksock" send "$F" 5002 $((mb * 1000000)) | field Gbit/s)"
    wait "$BG"
    fa_ns $pk "$ksock" recv "$K" 5003 > "$FA_TMP/krecv.out" & krecv=$!; FA_PIDS="$FA_PIDS $krecv"
    wait_listening "$FA_TMP/krecv.out"
    fa_ns $pf $RUN "$ksock" send "$K" 5003 $((mb * 1000000)) > /dev/null
    wait "$krecv"
    pl_tx="$pl_tx $(field Gbit/s < "$FA_TMP/krecv.out")"
    # finackd stays up for the applications below after the last round
    [ "$r" = "$rounds" ] || fa_stop_host
done

# ---- applications: finackd against the kernel over veth ----
www=$FA_TMP/www
mkdir -p "$www"
head -c 4096 /dev/urandom > "$www/4k.bin"
nginx_conf() { # listen address -> config file
    cat > "$FA_TMP/nginx-$1.conf" <<CONF
daemon off; master_process on; worker_processes 1; user root;
pid $FA_TMP/nginx-$1.pid; error_log $FA_TMP/nginx-$1.err;
events { worker_connections 512; }
http { access_log off; sendfile on; tcp_nodelay on; keepalive_timeout 60;
       client_body_temp_path $FA_TMP/ngx_body_$1;
       server { listen $1:8080; root $www; } }
CONF
    echo "$FA_TMP/nginx-$1.conf"
}
fa_veth_pair segments
ka() { ip netns exec "$FA_VETH_A" "$@"; }
wrk_rps() { awk '/^Requests\/sec/ { print $2 }'; }
redis_rps() { tr '\r' '\n' | awk -v t="$1:" '$1 == t && /requests per second/ { print $2; exit }'; }
port_up() { # ns-runner address port
    for _ in $(seq 100); do $1 bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null && return 0; sleep 0.05; done
    fa_fail "nothing on $2:$3"
}
fn_wrk=; k_wrk=; fn_set=; k_set=; fn_get=; k_get=
fin_bg nginx -c "$(nginx_conf "$F")" -e "$FA_TMP/nginx-f.err"; fn_nginx=$BG
ip netns exec "$FA_VETH_B" $pf nginx -c "$(nginx_conf 198.19.0.2)" -e "$FA_TMP/nginx-k.err" & k_nginx=$!; FA_PIDS="$FA_PIDS $k_nginx"
fin_bg redis-server --port 6379 --bind "$F" --save '' --appendonly no --protected-mode no; fn_redis=$BG
ip netns exec "$FA_VETH_B" $pf redis-server --port 6379 --bind 198.19.0.2 --save '' --appendonly no --protected-mode no \
    > /dev/null & k_redis=$!; FA_PIDS="$FA_PIDS $k_redis"
port_up fa_ns "$F" 8080; port_up ka 198.19.0.2 8080; port_up fa_ns "$F" 6379; port_up ka 198.19.0.2 6379
for r in $(seq "$rounds"); do
    fn_wrk="$fn_wrk $(fa_ns $pk wrk -t1 -c32 -d5s "http://$F:8080/4k.bin" | wrk_rps)"
    k_wrk="$k_wrk $(ka $pk wrk -t1 -c32 -d5s "http://198.19.0.2:8080/4k.bin" | wrk_rps)"
    out=$(fa_ns $pk redis-benchmark -h "$F" -q -n 100000 -c 20 -t set,get 2>&1)
    fn_set="$fn_set $(redis_rps SET <<< "$out")"; fn_get="$fn_get $(redis_rps GET <<< "$out")"
    out=$(ka $pk redis-benchmark -h 198.19.0.2 -q -n 100000 -c 20 -t set,get 2>&1)
    k_set="$k_set $(redis_rps SET <<< "$out")"; k_get="$k_get $(redis_rps GET <<< "$out")"
done
for p in $fn_nginx $k_nginx $fn_redis $k_redis; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done

s() { tr ' ' '\n' <<< "$1" | grep . | summary; }
echo "finack-run against finack in-process, $rounds rounds, median (min..max):"
printf "  %-30s %-28s %-28s %s\n" "" "in-process" "finack-run" "ratio (aim)"
a=$(s "$in_rtt"); b=$(s "$pl_rtt")
printf "  %-30s %-28s %-28s %s\n" "64 B ping-pong RTT, us" "$a" "$b" "$(ratio "$b" "$a") x (<= 1.25)"
a=$(s "$in_rx"); b=$(s "$pl_rx")
printf "  %-30s %-28s %-28s %s\n" "bulk kernel -> program, Gbit/s" "$a" "$b" "$(ratio "$b" "$a") x (>= 0.8)"
a=$(s "$in_tx"); b=$(s "$pl_tx")
printf "  %-30s %-28s %-28s %s\n" "bulk program -> kernel, Gbit/s" "$a" "$b" "$(ratio "$b" "$a") x (>= 0.8)"
echo "applications on finackd against the kernel over veth, requests/s:"
printf "  %-30s %-28s %-28s %s\n" "" "kernel (veth)" "finack-run" "ratio"
for x in "nginx + wrk (4 KiB, 32 conns)|$k_wrk|$fn_wrk" "redis SET (20 clients)|$k_set|$fn_set" \
         "redis GET (20 clients)|$k_get|$fn_get"; do
    IFS='|' read -r name kv fv <<< "$x"
    a=$(s "$kv"); b=$(s "$fv")
    printf "  %-30s %-28s %-28s %s\n" "$name" "$a" "$b" "$(ratio "$b" "$a") x"
done
