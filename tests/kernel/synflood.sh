#!/bin/bash
# Kernel test (issue 14): a SYN flood at finack-echo while a kernel client
# opens 1,000 connections, exchanges 16 bytes on each and closes it.
# hping3 (Debian's) floods, four instances paced, for at most 12 s, each
# from a random base source port counting up; an nftables rule in the
# test's namespace gives every SYN a random source address of
# 198.18.0.100-199 (hping3's own --rand-source would draw from all of
# IPv4, never allowed here: spoofed sources stay inside the test's own
# 198.18.0.0/24; a port set from nft's numgen came out 0 on every SYN
# when tried, so hping3 keeps choosing ports). Nothing answers finack's
# SYN-ACKs to them (no host has those addresses): each wants an ARP
# resolution that never comes, and the kernel client's entry must not
# be pushed out by them (arp.c's replacement order). At least 99 % of the client's connections must succeed; the
# flood must have been answered by SYN cookies; finack must hold nothing
# afterwards but its listener. Printed, not asserted: the client's median
# and p99 connect times, finack's resident memory and CPU during the flood.
. "$(dirname "$0")/lib.sh"
command -v hping3 >/dev/null || fa_skip "hping3 is not installed (scripts/deps.sh)"
fa_setup "$1"
fa_start "$(fa_prog finack-echo)" --port 7 --seconds 120 --quiet --stat "$FA_TMP/stat.sock"
pid=$FA_HOST_PID
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
rss() { awk '/VmRSS/ { print $2 }' "/proc/$pid/status"; }
cpu0=$(cpu)
rss0=$(rss)
# Random sources inside the namespace's range, set after hping3 (nft
# mends the IP and TCP checksums); the namespace goes with the test.
map=$(for i in $(seq 0 99); do printf '%d : 198.18.0.%d, ' "$i" $((100 + i)); done)
fa_ns nft -f - <<NFT || fa_fail "nftables rule for random sources not accepted"
table ip faflood {
  chain post {
    type filter hook postrouting priority 0; policy accept;
    ip saddr 198.18.0.101-198.18.0.104 tcp dport 7 tcp flags syn \
      ip saddr set numgen random mod 100 map { ${map%, } } counter
  }
}
NFT
floods=""
for src in 198.18.0.101 198.18.0.102 198.18.0.103 198.18.0.104; do
    fa_ns timeout 12 hping3 -q -S -p 7 -a "$src" -i u200 -c 50000 "$FA_FINACK_IP" \
        > "$FA_TMP/hping.$src" 2>&1 &
    floods="$floods $!"
done
FA_PIDS="$FA_PIDS $floods"
sleep 1 # the flood under way (a fixed head start; the client's own work is not timed by it)
res=$(fa_py "
import socket, time
ok = 0; times = []
deadline = time.time() + 60
for i in range(1000):
    if time.time() > deadline: break
    t0 = time.time()
    try:
        s = socket.create_connection(('$FA_FINACK_IP', 7), timeout=5)
        times.append(time.time() - t0)
        s.sendall(b'0123456789abcdef'); s.shutdown(socket.SHUT_WR)
        got = b''
        while len(got) < 16:
            x = s.recv(64)
            if not x: break
            got += x
        s.close()
        ok += got == b'0123456789ABCDEF'
    except OSError:
        pass
times.sort()
p = lambda q: times[min(len(times) - 1, int(q * len(times)))] * 1e3 if times else -1
print(ok, '%.2f' % p(0.5), '%.2f' % p(0.99))
")
rss1=$(rss)
cpu1=$(cpu)
for f in $floods; do wait "$f" 2>/dev/null || true; done
read -r ok p50 p99 <<< "$res"
echo "client: $ok of 1000 connections exchanged their 16 bytes; connect median $p50 ms, p99 $p99 ms"
echo "finack during the flood: resident $((rss0)) -> $((rss1)) kB, CPU $(( (cpu1 - cpu0) * 10 )) ms"
sent=$(cat "$FA_TMP"/hping.* | sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
rewritten=$(fa_ns nft list chain ip faflood post | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
echo "hping3: $sent SYNs sent; nftables gave $rewritten of them a random source in 198.18.0.100-199"
[ "${ok:-0}" -ge 990 ] || fa_fail "only ${ok:-0} of 1000 connections succeeded under the flood"
# What is left: the listener and at most its backlog (64) of half-open
# connections from the flood, still resending their SYN-ACKs until their
# retries run out; every client connection has closed.
for _ in $(seq 50); do
    "$(fa_prog finack-stat)" --socket "$FA_TMP/stat.sock" > "$FA_TMP/table"
    left=$(grep -vc -E 'LISTEN|SYN-RECEIVED|^State|^$' "$FA_TMP/table" || true)
    [ "$left" = 0 ] && break
    sleep 0.1
done
half=$(grep -c 'SYN-RECEIVED' "$FA_TMP/table" || true)
sources=$(grep 'SYN-RECEIVED' "$FA_TMP/table" | grep -oE '198\.18\.0\.(1[0-9][0-9])' | sort -u | wc -l)
fa_stop_host
cookies=$(fa_counter TCP_SYNCOOKIES_SENT)
echo "finack: $cookies SYN cookies sent, $(fa_counter TCP_SYNCOOKIES_OK) connections made by one;" \
     "left: $half half-open (from $sources distinct sources), $left others"
[ "$cookies" -gt 0 ] || fa_fail "the flood was not answered by SYN cookies"
# The kernel client's address was learnt from its own ARP request and
# never had to be asked for again (the flood's resolutions took turns).
[ "$(fa_counter ARP_REPLIES_IN)" = 0 ] ||
    fa_fail "finack had to resolve the client again: the flood pushed its ARP entry out"
[ "${rewritten:-0}" -gt 0 ] && [ "$sources" -gt 4 ] ||
    fa_fail "the flood's sources were not random ($rewritten rewritten, $sources distinct half-open sources)"
[ "$left" = 0 ] || fa_fail "$left connections left after the flood"
[ "$half" -le 64 ] || fa_fail "$half half-open connections held, more than the backlog"
echo PASS
