#!/bin/bash
# Kernel as oracle (issue 9): the same raw segment scripts (oracle.py) are
# played at finack-echo over the TAP and at a Linux uppercase-echo server
# over a veth pair, and the answers compared step by step. Every
# difference must be fixed or carry a verdict in oracle_expected.txt.
# The client's own kernel is kept from answering the server's segments
# by an nftables netdev-ingress drop (packet sockets see frames first).
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
fa_setup "$1"
drop_port() { # namespace device
    ip netns exec "$1" nft -f - <<NFT
table netdev oracle {
    chain in { type filter hook ingress device $2 priority 0; tcp sport 7777 drop; }
}
NFT
}

echo "== finack"
fa_start "$(fa_prog finack-echo)" --port 7777 --no-udp
fmac=$(awk '/up on/ { for (i = 1; i < NF; i++) if ($i == "mac") print $(i+1) }' "$FA_TMP/host.out")
kmac=$(fa_ns cat /sys/class/net/fa0/address)
drop_port "$FA_NS" fa0
fa_ns ping -c 1 -W 2 "$FA_FINACK_IP" >/dev/null || fa_fail "finack does not answer ping"
fa_ns python3 "$here/oracle.py" play fa0 "$kmac" "$fmac" "$FA_KERNEL_IP" "$FA_FINACK_IP" 7777 \
    "$FA_TMP/finack.json"

echo "== linux"
fa_veth_pair segments
ns_a=$FA_VETH_A; ns_b=$FA_VETH_B
ip netns exec "$ns_b" python3 -c "
import socket, threading
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(('198.19.0.2', 7777)); l.listen(16)
print('listening', flush=True)
def serve(c):
    try:
        while True:
            d = c.recv(65536)
            if not d: break
            c.sendall(d.upper())
    except OSError:
        pass
    c.close()
while True:
    c, _ = l.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
" > "$FA_TMP/linux.out" 2>&1 &
FA_PIDS="$FA_PIDS $!"
for _ in $(seq 100); do grep -q listening "$FA_TMP/linux.out" && break; sleep 0.05; done
drop_port "$ns_a" veth0
ip netns exec "$ns_a" ping -c 1 -W 2 198.19.0.2 >/dev/null || fa_fail "veth does not work"
amac=$(ip netns exec "$ns_a" cat /sys/class/net/veth0/address)
bmac=$(ip netns exec "$ns_b" cat /sys/class/net/veth1/address)
ip netns exec "$ns_a" python3 "$here/oracle.py" play veth0 "$amac" "$bmac" 198.19.0.1 198.19.0.2 7777 \
    "$FA_TMP/linux.json"

echo "== compared"
python3 "$here/oracle.py" compare "$FA_TMP/finack.json" "$FA_TMP/linux.json" \
    "$here/oracle_expected.txt" || fa_fail "differences from the kernel without a verdict"
echo PASS
