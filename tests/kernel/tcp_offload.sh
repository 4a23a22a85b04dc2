#!/bin/bash
# Kernel test (issue 12): the TAP's virtio-net offloads and io_uring.
# 20 MB each way at once between finack and the kernel, SHA-256 checked
# at both ends, seven ways: by read/write, offloads off (plain frames)
# and on (TSO out, GRO in, checksums left to the kernel: the counters
# must show super-frames both ways); by io_uring (the default) with
# offloads, without, with busy polling, and with a descriptor of its own
# to watch (--stat: the loop then sleeps in poll(2), not in the ring's
# wait); and offloads with --pcap, whose capture must hold what a wire carries
# (no frame beyond 1514 bytes, every TCP checksum right, as tshark reads
# it) while the super-frames still went. After each run the TAP's offloads
# must be off again (ethtool): a TAP keeps them after its fd closes, and
# the next plain reader would get 64 KB frames it did not ask for.
. "$(dirname "$0")/lib.sh"
fa_setup "$1"
bytes=20000000
count() { awk -v n="$1" '$1 == n { print $2 }' "$FA_TMP/host.out" | tail -1; }
port=9100
for mode in "--offload off --io rw" "--offload on --io rw" "--offload on --io uring" \
            "--offload off --io uring" "--offload on --io uring --busy-poll 50" \
            "--offload on --io uring --stat $FA_TMP/stat.sock" \
            "--offload on --pcap $FA_TMP/off.pcap"; do
    port=$((port + 1))
    fa_kernel_both_ways "$port" "$bytes"
    # shellcheck disable=SC2086
    fa_start_tcp --connect "$FA_KERNEL_IP:$port" --send "$bytes" --recv --then shutdown \
        --seconds 120 $mode
    fa_wait_host 120
    [ "$FA_HOST_STATUS" = 0 ] || fa_fail "finack-tcp $mode: exit status $FA_HOST_STATUS"
    fa_check_both_ways "$bytes"
    tso=$(count TX_GSO_FRAMES); gro=$(count RX_GSO_FRAMES)
    echo "$mode: both ways intact; ${tso:-0} TSO super-frames out, ${gro:-0} GRO in"
    fa_ns ethtool -k fa0 | grep -q '^tcp-segmentation-offload: off' ||
        fa_fail "$mode: the TAP kept its offloads after finack closed it"
    case $mode in
    "--offload off"*)
        [ -z "$tso$gro" ] || fa_fail "super-frames with the offloads off" ;;
    *)
        [ "${tso:-0}" -gt 0 ] && [ "${gro:-0}" -gt 0 ] || fa_fail "$mode: no super-frames" ;;
    esac
done
# The capture: segments as on a wire, checksums completed for the record.
max=$(tshark -r "$FA_TMP/off.pcap" -T fields -e frame.len 2>/dev/null | sort -n | tail -1)
bad=$(tshark -r "$FA_TMP/off.pcap" -o tcp.check_checksum:TRUE -Y 'tcp.checksum.status == 0' \
      2>/dev/null | wc -l)
segs=$(tshark -r "$FA_TMP/off.pcap" -Y 'tcp.len > 0' 2>/dev/null | wc -l)
echo "pcap: $segs data segments, largest frame $max bytes, $bad bad TCP checksums"
[ "$max" -le 1514 ] || fa_fail "the pcap holds a $max-byte frame"
[ "$bad" = 0 ] || fa_fail "the pcap holds $bad bad checksums"
[ "$segs" -gt 20000 ] || fa_fail "the pcap holds only $segs data segments"
echo PASS
