#!/bin/bash
# Kernel test (L6): a SYN to a port with no listener is answered with
# RST-ACK both ways: finack's connect() to a closed kernel port fails with
# ECONNREFUSED, and the kernel's connect() to a closed finack port too.
. "$(dirname "$0")/lib.sh"
fa_setup "$1"
fa_start_tcp --connect "$FA_KERNEL_IP:9" --seconds 5
fa_wait_host 5
cat "$FA_TMP/host.out"
[ "$FA_HOST_STATUS" = 3 ] || fa_fail "finack-tcp exit status $FA_HOST_STATUS, want 3"
fa_expect '^error ECONNREFUSED'
fa_start_host --seconds 10
res=$(fa_py "
import errno, socket
s = socket.socket(); s.settimeout(3)
try:
    s.connect(('$FA_FINACK_IP', 9)); print('connected?!')
except OSError as e:
    print(errno.errorcode.get(e.errno, e))
")
[ "$res" = ECONNREFUSED ] || fa_fail "kernel connect got $res"
fa_stop_host
[ "$(fa_counter TCP_NO_LISTENER)" = 1 ] && [ "$(fa_counter TCP_RST_OUT)" = 1 ] || fa_fail "counters"
echo PASS
