# lib.sh — sourced by every kernel test. It makes one private network
# namespace (unique name) holding a TAP device "fa0": the kernel's side
# of it is 198.18.0.1/24, finack's is 198.18.0.2 (RFC 2544 benchmark
# range). Nothing is routed out of the namespace. Everything is removed
# on exit, failure or signal, and only processes this test started are
# stopped, by PID.
#
#   . lib.sh; fa_setup "$1"          # $1: path of finack-host
#   fa_start_host --pcap "$FA_TMP/x.pcap"
#   fa_ns ping -c 3 198.18.0.2
#   fa_stop_host; grep ... "$FA_TMP/host.out"
set -eu

FA_KERNEL_IP=198.18.0.1
FA_FINACK_IP=198.18.0.2
FA_NS=""
FA_TMP=""
FA_PIDS=""
FA_VETH_NS=""

fa_skip() { echo "SKIP: $*"; exit 77; }
fa_fail() { echo "FAIL: $*"; [ -n "$FA_TMP" ] && [ -f "$FA_TMP/host.out" ] && sed 's/^/  host| /' "$FA_TMP/host.out"; exit 1; }

fa_cleanup() {
    status=$?
    for pid in $FA_PIDS; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in $FA_PIDS; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    [ -n "$FA_NS" ] && ip netns del "$FA_NS" 2>/dev/null || true
    for ns in $FA_VETH_NS; do ip netns del "$ns" 2>/dev/null || true; done
    [ -n "$FA_TMP" ] && [ -z "${FA_KEEP:-}" ] && rm -rf "$FA_TMP"
    exit $status
}

fa_setup() {
    FINACK_HOST=$1
    [ "$(id -u)" = 0 ] || fa_skip "needs root (network namespaces)"
    [ -c /dev/net/tun ] || fa_skip "no /dev/net/tun"
    command -v ip >/dev/null || fa_skip "no iproute2"
    FA_NS="fa-$(basename "$0" .sh)-$$-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
    FA_TMP=$(mktemp -d /tmp/finack-test.XXXXXX)
    trap fa_cleanup EXIT
    trap 'exit 130' INT TERM HUP
    ip netns add "$FA_NS"
    ip -n "$FA_NS" link set lo up
    ip -n "$FA_NS" tuntap add dev fa0 mode tap
    # Keep the kernel quiet on the TAP: no IPv6 router/MLD chatter.
    ip netns exec "$FA_NS" sysctl -qw net.ipv6.conf.fa0.disable_ipv6=1
    ip -n "$FA_NS" addr add "$FA_KERNEL_IP/24" dev fa0
    ip -n "$FA_NS" link set fa0 up
}

# The kernel talking to itself, for references: two more namespaces of
# this test's own, FA_VETH_A (198.19.0.1 on veth0) and FA_VETH_B
# (198.19.0.2 on veth1), joined by a veth pair; removed with the rest.
# With $1 = segments, offloads are off, so a frame is a segment as on the
# TAP.
fa_veth_pair() {
    FA_VETH_A="fa-veth-a-$$-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
    FA_VETH_B="fa-veth-b-${FA_VETH_A#fa-veth-a-}"
    FA_VETH_NS="$FA_VETH_NS $FA_VETH_A $FA_VETH_B"
    ip netns add "$FA_VETH_A"; ip netns add "$FA_VETH_B"
    ip -n "$FA_VETH_A" link add veth0 type veth peer name veth1 netns "$FA_VETH_B"
    local x
    for x in "$FA_VETH_A veth0 198.19.0.1" "$FA_VETH_B veth1 198.19.0.2"; do
        set -- $x "${1:-}"
        ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1"
        ip -n "$1" addr add "$3/24" dev "$2"; ip -n "$1" link set "$2" up
        [ "$4" = segments ] && ip netns exec "$1" ethtool -K "$2" tso off gso off gro off >/dev/null
    done
    return 0
}

# Runs a command inside the namespace.
fa_ns() { ip netns exec "$FA_NS" "$@"; }

# Starts a finack program (finack-host, finack-tcp) on fa0 as 198.18.0.2
# with extra options, output to $FA_TMP/host.out; returns once it says it
# is up (at most 5 s). Its PID is FA_HOST_PID.
fa_start() {
    prog=$1; shift
    ip netns exec "$FA_NS" "$prog" --tap fa0 --addr "$FA_FINACK_IP/24" "$@" \
        > "$FA_TMP/host.out" 2>&1 &
    FA_HOST_PID=$!
    FA_PIDS="$FA_PIDS $FA_HOST_PID"
    for _ in $(seq 100); do
        grep -q ': up on' "$FA_TMP/host.out" 2>/dev/null && return 0
        # (It may have said so and ended between the two looks: a connect
        # refused at once. Look again before calling it a failure.)
        kill -0 "$FA_HOST_PID" 2>/dev/null || grep -q ': up on' "$FA_TMP/host.out" 2>/dev/null ||
            fa_fail "$(basename "$prog") exited at start"
        sleep 0.05
    done
    fa_fail "$(basename "$prog") did not come up in 5 s"
}
fa_start_host() { fa_start "$FINACK_HOST" "$@"; }
# The other programs live beside finack-host.
fa_prog() { echo "$(dirname "$FINACK_HOST")/$1"; }
fa_start_tcp() { fa_start "$(fa_prog finack-tcp)" "$@"; }

# Waits (at most $1 seconds) for finack's program to exit by itself.
fa_wait_host() {
    for _ in $(seq $(( $1 * 20 ))); do
        kill -0 "$FA_HOST_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$FA_HOST_PID" 2>/dev/null && fa_fail "finack did not finish in $1 s"
    FA_HOST_STATUS=0
    wait "$FA_HOST_PID" || FA_HOST_STATUS=$?
}

# Asserts host.out contains a line matching the regex $1.
fa_expect() { grep -Eq "$1" "$FA_TMP/host.out" || fa_fail "expected /$1/ in finack's output"; }

# Runs Python on the kernel's side (inside the namespace).
fa_py() { ip netns exec "$FA_NS" python3 -c "$1"; }

# The kernel's TCP states (ss), inside the namespace.
fa_ss() { ip netns exec "$FA_NS" ss -tanH "$@"; }

# Starts a kernel-side TCP server (Python, in the namespace) listening on
# $FA_KERNEL_IP:$1, which accepts one connection as `c` and runs the
# Python in $2; its output goes to $FA_TMP/kernel.out. With $3 = ctl, the
# server's stdin is a pipe the test writes to on fd 3 (echo go >&3).
# Returns once it listens.
fa_kernel_server() {
    local input=/dev/null
    # The background job truncates kernel.out only once it runs: a file
    # left by the server before would answer the wait below at once.
    rm -f "$FA_TMP/kernel.out"
    if [ "${3:-}" = ctl ]; then
        input="$FA_TMP/ctl"
        mkfifo "$input"
    fi
    ip netns exec "$FA_NS" python3 -c "
import errno, hashlib, socket, struct, sys, threading, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(('$FA_KERNEL_IP', $1)); l.listen(1)
print('listening', flush=True)
c, _ = l.accept()
$2
" < "$input" > "$FA_TMP/kernel.out" 2>&1 &
    FA_PIDS="$FA_PIDS $!"
    FA_KERNEL_PID=$!
    [ "${3:-}" = ctl ] && exec 3> "$input"
    for _ in $(seq 100); do
        grep -q listening "$FA_TMP/kernel.out" 2>/dev/null && return 0
        sleep 0.05
    done
    fa_fail "kernel server did not start"
}

# A kernel server on $FA_KERNEL_IP:$1 that sends $2 bytes of a pattern and
# reads to end of stream at once; prints "kernel sent N SHA256" and
# "kernel received N SHA256" in kernel.out.
fa_kernel_both_ways() {
    fa_kernel_server "$1" "
c.settimeout(120)
def send():
    h = hashlib.sha256(); block = bytes(range(256)) * 256; left = $2
    while left:
        b = block[:min(left, len(block))]; c.sendall(b); h.update(b); left -= len(b)
    c.shutdown(socket.SHUT_WR)
    print('kernel sent', $2, h.hexdigest(), flush=True)
t = threading.Thread(target=send); t.start()
h = hashlib.sha256(); m = 0
while True:
    x = c.recv(1 << 16)
    if not x: break
    h.update(x); m += len(x)
t.join()
print('kernel received', m, h.hexdigest(), flush=True)"
}

# After fa_kernel_both_ways $1 and a finack-tcp that sent and read: each
# way, $1 bytes arrived with the SHA-256 they left with.
fa_check_both_ways() {
    sent=$(awk '$1 == "sent" { print $2, $4 }' "$FA_TMP/host.out")
    got=$(awk '$2 == "received" { print $3, $4 }' "$FA_TMP/kernel.out")
    [ "$sent" = "$got" ] && [ "${sent%% *}" = "$1" ] || fa_fail "finack sent '$sent', kernel got '$got'"
    ksent=$(awk '$2 == "sent" { print $3, $4 }' "$FA_TMP/kernel.out")
    fgot=$(awk '$1 == "received" { print $2, $4 }' "$FA_TMP/host.out")
    [ "$ksent" = "$fgot" ] || fa_fail "kernel sent '$ksent', finack got '$fgot'"
}

# Python for fa_kernel_server: read `c` to end of stream, then print
# "$1 BYTES SHA256".
fa_py_recv_hash() {
    printf '%s\n' "h = hashlib.sha256(); n = 0" "while True:" \
        "    x = c.recv(65536)" "    if not x: break" "    h.update(x); n += len(x)" \
        "print('$1', n, h.hexdigest(), flush=True)"
}

# Waits (at most 10 s) for a line matching $1 in the kernel server's output.
fa_kernel_wait() {
    for _ in $(seq 200); do grep -Eq "$1" "$FA_TMP/kernel.out" && return 0; sleep 0.05; done
    fa_fail "kernel server never printed /$1/"
}

# Stops finack-host (SIGTERM); it prints its counters to host.out.
fa_stop_host() {
    kill -TERM "$FA_HOST_PID"
    wait "$FA_HOST_PID" || fa_fail "finack-host exited with status $?"
}

# The value of one finack counter from host.out (0 if absent).
fa_counter() {
    awk -v n="$1" '$1 == n { print $2; found = 1 } END { if (!found) print 0 }' "$FA_TMP/host.out"
}
