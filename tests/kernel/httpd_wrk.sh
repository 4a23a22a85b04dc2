#!/bin/bash
# Kernel test: wrk (Debian's package) drives finack-httpd for 10 s with
# 64 keep-alive connections on two threads. Every response must be a 200
# and no socket error may occur; finack must have answered at least as
# many requests as wrk counted. Prints wrk's requests/s.
. "$(dirname "$0")/lib.sh"
fa_setup "$1"
command -v wrk >/dev/null || fa_skip "no wrk (scripts/deps.sh installs it)"
www=$FA_TMP/www
mkdir -p "$www"
head -c 1024 /dev/urandom > "$www/1k.bin"
fa_start "$(fa_prog finack-httpd)" --root "$www" --seconds 60
fa_ns wrk -t2 -c64 -d${FA_WRK_SECONDS:-10}s --timeout 5s "http://$FA_FINACK_IP/1k.bin" \
    > "$FA_TMP/wrk.out" 2>&1 || fa_fail "wrk failed: $(cat "$FA_TMP/wrk.out")"
cat "$FA_TMP/wrk.out"
fa_stop_host
tail -n 1 "$FA_TMP/host.out"
grep -q 'Socket errors' "$FA_TMP/wrk.out" && fa_fail "socket errors"
grep -q 'Non-2xx' "$FA_TMP/wrk.out" && fa_fail "responses other than 2xx"
n=$(awk '/requests in/ { print $1 }' "$FA_TMP/wrk.out")
served=$(sed -nE 's/^finack-httpd: [0-9]+ requests: ([0-9]+) 2xx.*/\1/p' "$FA_TMP/host.out")
[ -n "$n" ] && [ "$n" -gt 0 ] && [ "$served" -ge "$n" ] || fa_fail "wrk counted $n, finack served $served"
echo "requests/s: $(awk '/Requests\/sec/ { print $2 }' "$FA_TMP/wrk.out")"
echo PASS
